/* Config features as a typical Apache setup uses them, seen from the wire: Include globs,
 * Define and ${ENV}, <IfModule>, wildcard ServerAlias, IP-based over wildcard vhosts,
 * UseCanonicalName, SetEnvIf with Header env=, RequestHeader (seen through the access
 * log), AddType, ForceType, AddDefaultCharset and TypesConfig. */
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static pth_t *h;

static void setup(void)
{
    h = pth_new();
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

static pth_resp_t get(const char *path, const char *const *hdrs, int status)
{
    pth_resp_t r;
    pth_get(h, path, hdrs, &r);
    ck_assert_msg(r.status == status, "GET %s: status %d, want %d; body: %.300s", path,
                  r.status, status, r.body);
    return r;
}

/* GET path with a Host field and assert the body (which names the vhost's docroot). */
static void assert_host_body(const char *host, const char *path, const char *body)
{
    char field[256];
    snprintf(field, sizeof(field), "Host: %s", host);
    const char *hd[] = {field, NULL};
    pth_resp_t r = get(path, hd, 200);
    ck_assert_msg(strcmp(r.body, body) == 0, "Host %s %s: body \"%s\", want \"%s\"", host, path,
                  r.body, body);
    pth_resp_free(&r);
}

static void assert_content_type(const char *path, const char *want)
{
    pth_resp_t r = get(path, NULL, 200);
    const char *ct = pth_resp_header(&r, "Content-Type");
    ck_assert_msg(ct && strcmp(ct, want) == 0, "%s Content-Type: %s, want %s", path,
                  ct ? ct : "(none)", want);
    pth_resp_free(&r);
}

START_TEST(include_glob_defines_environment_and_ifmodule_build_two_vhosts)
{
    pth_write_dir_file(h, "roota/who.txt", "a", 1);
    pth_write_dir_file(h, "rootb/who.txt", "b", 1);
    pth_write_dir_file(h, "rootb/sub/home.html", "home b", 6);
    setenv("PORTICO_IT_GAPS_ROOT_A", pth_path(h, "roota"), 1);
    ck_assert_int_eq(mkdir(pth_path(h, "conf.d"), 0755), 0);
    pth_write_conf_file(h, "conf.d/10-a.conf",
                        "<VirtualHost *:@PORT@>\n    ServerName a.test\n"
                        "    DocumentRoot ${PORTICO_IT_GAPS_ROOT_A}\n</VirtualHost>\n");
    pth_write_conf_file(h, "conf.d/20-b.conf",
                        "<VirtualHost *:@PORT@>\n    ServerName b.test\n"
                        "    DocumentRoot @DIR@/${BDIR}\n</VirtualHost>\n");
    /* Not matched by the glob: read, it would be a config error. */
    pth_write_conf_file(h, "conf.d/30-off.conf.disabled", "NoSuchDirective here\n");
    pth_config(h, "Define BDIR rootb\n"
                  "<Directory @DIR@>\n    Require all granted\n</Directory>\n"
                  "<IfModule mod_dir.c>\n    DirectoryIndex home.html\n</IfModule>\n"
                  "<IfModule !mod_nosuch.c>\n    Header always set X-If-Not-Nosuch yes\n"
                  "</IfModule>\n"
                  "<IfModule mod_nosuch.c>\n    NoSuchDirective here\n</IfModule>\n"
                  "<IfModule !dir_module>\n    Header always set X-Wrong-Branch yes\n"
                  "</IfModule>\n"
                  "Include @DIR@/conf.d/*.conf\n");
    pth_start(h);
    assert_host_body("a.test", "/who.txt", "a");
    assert_host_body("b.test", "/who.txt", "b");
    assert_host_body("unknown.test", "/who.txt", "a"); /* the first vhost in glob order */
    assert_host_body("b.test", "/sub/", "home b");
    const char *hd[] = {"Host: b.test", NULL};
    pth_resp_t r = get("/who.txt", hd, 200);
    const char *yes = pth_resp_header(&r, "X-If-Not-Nosuch");
    ck_assert_msg(yes && strcmp(yes, "yes") == 0, "<IfModule !mod_nosuch.c> not applied");
    ck_assert_msg(pth_resp_header(&r, "X-Wrong-Branch") == NULL, "<IfModule !dir_module> read");
    pth_resp_free(&r);
    unsetenv("PORTICO_IT_GAPS_ROOT_A");
}
END_TEST

START_TEST(wildcard_server_alias_routes_subdomains)
{
    pth_write_dir_file(h, "def/who.txt", "default", 7);
    pth_write_dir_file(h, "star/who.txt", "star", 4);
    pth_config(h, "<Directory @DIR@>\n    Require all granted\n</Directory>\n"
                  "<VirtualHost *:@PORT@>\n    ServerName default.test\n"
                  "    DocumentRoot @DIR@/def\n</VirtualHost>\n"
                  "<VirtualHost *:@PORT@>\n    ServerName star.test\n"
                  "    ServerAlias *.example.test\n    DocumentRoot @DIR@/star\n</VirtualHost>\n");
    pth_start(h);
    assert_host_body("www.example.test", "/who.txt", "star");
    assert_host_body("A.B.Example.Test", "/who.txt", "star");
    assert_host_body("example.test", "/who.txt", "default");
    assert_host_body("www.example.test.evil", "/who.txt", "default");
    assert_host_body("star.test", "/who.txt", "star");
}
END_TEST

/* Each request of a keep-alive connection is routed by its own Host, whatever the one
 * before it named (the connection remembers the last host's server). */
START_TEST(each_request_on_a_connection_is_routed_by_its_own_host)
{
    pth_write_dir_file(h, "def/who.txt", "default", 7);
    pth_write_dir_file(h, "star/who.txt", "star", 4);
    pth_config(h, "<Directory @DIR@>\n    Require all granted\n</Directory>\n"
                  "<VirtualHost *:@PORT@>\n    ServerName default.test\n"
                  "    DocumentRoot @DIR@/def\n</VirtualHost>\n"
                  "<VirtualHost *:@PORT@>\n    ServerName star.test\n"
                  "    DocumentRoot @DIR@/star\n</VirtualHost>\n");
    pth_start(h);
    static const struct {
        const char *host; /* NULL: an HTTP/1.0 request without Host */
        const char *body;
    } seq[] = {{"star.test", "star"},  {"star.test", "star"},    {"default.test", "default"},
               {"STAR.test", "star"},  {NULL, "default"},        {"star.test", "star"},
               {"", "default"},        {"star.test.", "star"},   {"other.test", "default"}};
    pth_conn_t *c = pth_conn_open(h);
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        if (seq[i].host)
            pth_conn_sendf(c, "GET /who.txt HTTP/1.1\r\nHost: %s\r\n\r\n", seq[i].host);
        else
            pth_conn_sendf(c, "GET /who.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        pth_resp_t r;
        ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(strcmp(r.body, seq[i].body) == 0, "request %zu (Host %s): \"%s\"", i,
                      seq[i].host ? seq[i].host : "none", r.body);
        pth_resp_free(&r);
    }
    pth_conn_close(c);
}
END_TEST

START_TEST(an_ip_vhost_is_chosen_over_wildcard_ones)
{
    pth_write_dir_file(h, "any/who.txt", "any", 3);
    pth_write_dir_file(h, "ip/who.txt", "ip", 2);
    pth_config(h, "<Directory @DIR@>\n    Require all granted\n</Directory>\n"
                  "<VirtualHost *:@PORT@>\n    ServerName any.test\n"
                  "    DocumentRoot @DIR@/any\n</VirtualHost>\n"
                  "<VirtualHost 127.0.0.1:@PORT@>\n    ServerName ip.test\n"
                  "    DocumentRoot @DIR@/ip\n</VirtualHost>\n");
    pth_start(h);
    assert_host_body("ip.test", "/who.txt", "ip");
    assert_host_body("other.test", "/who.txt", "ip");
    /* As Apache: wildcard vhosts count only when no vhost names the address exactly. */
    assert_host_body("any.test", "/who.txt", "ip");
}
END_TEST

static char *slash_redirect_location(const char *host)
{
    const char *hd[] = {host, NULL};
    pth_resp_t r = get("/sub", hd, 301);
    const char *loc = pth_resp_header(&r, "Location");
    ck_assert_msg(loc != NULL, "301 without Location");
    char *copy = strdup(loc);
    pth_resp_free(&r);
    return copy;
}

START_TEST(use_canonical_name_on_puts_server_name_in_the_slash_redirect)
{
    pth_mkdir(h, "sub");
    pth_write_dir_file(h, "canon/sub/x.txt", "x", 1);
    pth_config(h, "<Directory @DIR@>\n    Require all granted\n</Directory>\n"
                  "<VirtualHost *:@PORT@>\n    ServerName canon.test\n"
                  "    UseCanonicalName On\n    DocumentRoot @DIR@/canon\n</VirtualHost>\n"
                  "<VirtualHost *:@PORT@>\n    ServerName plain.test\n"
                  "    ServerAlias alias.test\n    DocumentRoot @DOCROOT@\n</VirtualHost>\n");
    pth_start(h);
    char want[128];
    /* ServerName has no port: the default one, left out (Apache 2.4's ap_get_server_port,
     * checked on Debian's apache2), not the port the request came in on. */
    snprintf(want, sizeof(want), "http://canon.test/sub/");
    char *loc = slash_redirect_location("Host: whatever.test");
    ck_assert_msg(strcmp(loc, want) == 0, "UseCanonicalName On: Location %s, want %s", loc,
                  want);
    free(loc);
    snprintf(want, sizeof(want), "http://alias.test:%d/sub/", h->port);
    char host[64];
    snprintf(host, sizeof(host), "Host: alias.test:%d", h->port);
    loc = slash_redirect_location(host);
    ck_assert_msg(strcmp(loc, want) == 0, "UseCanonicalName Off: Location %s, want %s", loc,
                  want);
    free(loc);
}
END_TEST

START_TEST(setenvif_drives_header_env_condition)
{
    pth_write_filef(h, "a.txt", "A");
    pth_config(h, "SetEnvIf User-Agent \"^TestBot/\" BOT_NAME=robot\n"
                  "Header set X-Env \"%%{BOT_NAME}e\" env=BOT_NAME\n"
                  "Header set X-Not-Bot yes env=!BOT_NAME\n");
    pth_start(h);
    const char *bot[] = {"User-Agent: TestBot/1.0", NULL};
    pth_resp_t r = get("/a.txt", bot, 200);
    const char *v = pth_resp_header(&r, "X-Env");
    ck_assert_msg(v && strcmp(v, "robot") == 0, "X-Env: %s", v ? v : "(none)");
    ck_assert_msg(pth_resp_header(&r, "X-Not-Bot") == NULL, "env=!BOT_NAME applied to a bot");
    pth_resp_free(&r);
    const char *human[] = {"User-Agent: Mozilla/5.0 (TestBot/1.0)", NULL};
    r = get("/a.txt", human, 200);
    ck_assert_msg(pth_resp_header(&r, "X-Env") == NULL, "X-Env without the variable: %s",
                  pth_resp_header(&r, "X-Env"));
    v = pth_resp_header(&r, "X-Not-Bot");
    ck_assert_msg(v && strcmp(v, "yes") == 0, "X-Not-Bot: %s", v ? v : "(none)");
    pth_resp_free(&r);
}
END_TEST

/* mod_setenvif puts a regex's captures in the values ($0 the match, $N a group); a pattern
 * without regex metacharacters is a plain string, and its values are set as written. */
START_TEST(setenvif_values_take_the_patterns_captures)
{
    pth_write_filef(h, "shop.txt", "A");
    pth_config(h, "SetEnvIf Request_URI \"^/(\\w+)\\.txt$\" APPNAME=$1 WHOLE=$0\n"
                  "BrowserMatchNoCase \"^testbot/(\\d+)\" BOTVER=v$1\n"
                  "SetEnvIf User-Agent TestBot PLAIN=$1\n"
                  "Header set X-App \"%%{APPNAME}e|%%{WHOLE}e|%%{BOTVER}e|%%{PLAIN}e\"\n");
    pth_start(h);
    const char *ua[] = {"User-Agent: TestBot/7.1", NULL};
    pth_resp_t r = get("/shop.txt", ua, 200);
    const char *v = pth_resp_header(&r, "X-App");
    ck_assert_msg(v && strcmp(v, "shop|/shop.txt|v7|$1") == 0, "X-App: %s", v ? v : "(none)");
    pth_resp_free(&r);
}
END_TEST

/* Apache matches an absent header (or variable) as "": "^$" finds a request without it. */
START_TEST(setenvif_matches_an_absent_field_as_the_empty_string)
{
    pth_write_filef(h, "a.txt", "A");
    pth_config(h, "SetEnvIf Referer ^$ NO_REFERER\n"
                  "Header set X-No-Referer \"%%{NO_REFERER}e\" env=NO_REFERER\n");
    pth_start(h);
    pth_resp_t r = get("/a.txt", NULL, 200);
    const char *v = pth_resp_header(&r, "X-No-Referer");
    ck_assert_msg(v && strcmp(v, "1") == 0, "X-No-Referer: %s", v ? v : "(none)");
    pth_resp_free(&r);
    const char *ref[] = {"Referer: http://example.com/", NULL};
    r = get("/a.txt", ref, 200);
    ck_assert_msg(pth_resp_header(&r, "X-No-Referer") == NULL, "X-No-Referer with a Referer");
    pth_resp_free(&r);
}
END_TEST

START_TEST(request_header_edits_are_seen_by_the_access_log)
{
    pth_write_filef(h, "a.txt", "A");
    pth_config(h, "LogFormat \"%%U|%%{X-Secret}i|%%{X-Kept}i|%%{X-Added}i\" probe\n"
                  "CustomLog @DIR@/probe.log probe\n"
                  "RequestHeader unset X-Secret\n"
                  "RequestHeader set X-Added added-value\n");
    pth_start(h);
    const char *hd[] = {"X-Secret: s3cret", "X-Kept: kept-value", NULL};
    pth_resp_t r = get("/a.txt", hd, 200);
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
    char *log = pth_read_file(pth_path(h, "probe.log"), NULL);
    ck_assert_msg(log != NULL, "no probe.log");
    ck_assert_msg(strcmp(log, "/a.txt|-|kept-value|added-value\n") == 0, "probe.log: \"%s\"",
                  log);
    ck_assert_msg(strstr(log, "s3cret") == NULL, "unset header logged");
    free(log);
}
END_TEST

START_TEST(addtype_forcetype_and_add_default_charset_set_content_type)
{
    pth_write_filef(h, "f.gap", "gap");
    pth_write_filef(h, "p.html", "<p>hi</p>");
    pth_write_filef(h, "s.css", "p{}");
    pth_write_filef(h, "forced/x.html", "x");
    pth_config(h, "AddType application/x-gaps .gap\n"
                  "AddDefaultCharset utf-8\n"
                  "<Location /forced>\n    ForceType text/x-forced\n</Location>\n");
    pth_start(h);
    assert_content_type("/f.gap", "application/x-gaps");
    assert_content_type("/p.html", "text/html; charset=utf-8");
    assert_content_type("/s.css", "text/css");
    assert_content_type("/forced/x.html", "text/x-forced");
}
END_TEST

START_TEST(types_config_reads_a_custom_mime_types_file)
{
    pth_write_filef(h, "f.cst", "c");
    pth_write_filef(h, "g.cst2", "c");
    pth_write_conf_file(h, "my.types", "# custom\napplication/x-custom\tcst cst2\n"
                                       "text/x-odd-css css\n");
    pth_write_filef(h, "s.css", "p{}");
    pth_config(h, "TypesConfig @DIR@/my.types\n");
    pth_start(h);
    assert_content_type("/f.cst", "application/x-custom");
    assert_content_type("/g.cst2", "application/x-custom");
    assert_content_type("/s.css", "text/x-odd-css");
}
END_TEST

START_TEST(a_missing_types_config_falls_back_to_the_built_in_table)
{
    pth_write_filef(h, "s.css", "p{}");
    pth_write_filef(h, "i.png", "png");
    pth_config(h, "TypesConfig @DIR@/no-such.types\n");
    pth_start(h);
    assert_content_type("/s.css", "text/css");
    assert_content_type("/i.png", "image/png");
}
END_TEST

static Suite *vhosts_config_suite(void)
{
    Suite *s = suite_create("vhosts_config");
    TCase *tc = tcase_create("vhosts_config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, include_glob_defines_environment_and_ifmodule_build_two_vhosts);
    tcase_add_test(tc, wildcard_server_alias_routes_subdomains);
    tcase_add_test(tc, each_request_on_a_connection_is_routed_by_its_own_host);
    tcase_add_test(tc, an_ip_vhost_is_chosen_over_wildcard_ones);
    tcase_add_test(tc, use_canonical_name_on_puts_server_name_in_the_slash_redirect);
    tcase_add_test(tc, setenvif_drives_header_env_condition);
    tcase_add_test(tc, setenvif_values_take_the_patterns_captures);
    tcase_add_test(tc, setenvif_matches_an_absent_field_as_the_empty_string);
    tcase_add_test(tc, request_header_edits_are_seen_by_the_access_log);
    tcase_add_test(tc, addtype_forcetype_and_add_default_charset_set_content_type);
    tcase_add_test(tc, types_config_reads_a_custom_mime_types_file);
    tcase_add_test(tc, a_missing_types_config_falls_back_to_the_built_in_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vhosts_config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
