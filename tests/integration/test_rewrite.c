/* mod_rewrite through the real binary: server-context rules (redirects, HTTP to HTTPS, a
 * rewrite to a file, [PT] into an Alias, status flags), <Directory> rules with Apache's
 * per-directory semantics (prefix, RewriteBase, the internal redirect and its bound), rule
 * sets with the constructs of WordPress, Laravel, Drupal and Nextcloud in front of a real
 * php-fpm, [P] to an HTTP backend and to a WebSocket origin, and the configuration errors
 * for what portico does not do. */
#include "fcgi_backends.h"
#include "harness.h"
#include "http_backend.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "data.txt", "data\n");
    pth_write_filef(h, "sub/page.txt", "page in sub\n");
    pth_write_filef(h, "new/x.txt", "new x\n");
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

static void get_body(const char *path, int status, const char *body)
{
    pth_resp_t r = get(path, NULL, status);
    ck_assert_msg(strcmp(r.body, body) == 0, "GET %s body: %s", path, r.body);
    pth_resp_free(&r);
}

static void get_location(const char *path, int status, const char *location)
{
    pth_resp_t r = get(path, NULL, status);
    const char *loc = pth_resp_header(&r, "Location");
    ck_assert_msg(loc && strcmp(loc, location) == 0, "GET %s: Location %s, want %s", path,
                  loc ? loc : "(none)", location);
    pth_resp_free(&r);
}

static const char *url(const char *path)
{
    static char buf[1024];
    snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", h->port, path);
    return buf;
}

/* ---- Server context ------------------------------------------------------------------------ */

START_TEST(a_server_rule_redirects_with_its_code_and_keeps_the_query)
{
    pth_config(h, "RewriteEngine On\nRewriteRule ^/old/(.*)$ /new/$1 [R=301,L]\n");
    pth_start(h);
    pth_resp_t r = get("/old/x.txt?a=1", NULL, 301);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), url("/new/x.txt?a=1"));
    pth_resp_free(&r);
    get_body("/new/x.txt", 200, "new x\n");
}
END_TEST

START_TEST(http_to_https_is_the_documented_redirect)
{
    pth_config(h, "RewriteEngine On\nRewriteCond %%{HTTPS} !=on\n"
                  "RewriteRule ^/?(.*) https://%%{SERVER_NAME}/$1 [R=301,L]\n");
    pth_start(h);
    get_location("/a/b?q=1", 301, "https://127.0.0.1/a/b?q=1");
}
END_TEST

START_TEST(a_server_rule_maps_a_url_to_a_file_and_locations_still_see_the_url)
{
    pth_config(h, "RewriteEngine On\nRewriteRule ^/pretty/(\\w+)$ /sub/$1.txt\n"
                  "<Location /pretty>\n  Header always set X-Loc pretty\n</Location>\n");
    pth_start(h);
    pth_resp_t r = get("/pretty/page", NULL, 200);
    ck_assert_str_eq(r.body, "page in sub\n");
    ck_assert_str_eq(pth_resp_header(&r, "X-Loc"), "pretty");
    pth_resp_free(&r);
    r = get("/pretty/none", NULL, 404);
    pth_resp_free(&r);
}
END_TEST

START_TEST(pt_passes_the_new_url_to_alias)
{
    pth_write_dir_file(h, "aliased/f.txt", "via alias\n", 10);
    pth_config(h, "Alias /al @DIR@/aliased\n<Directory @DIR@/aliased>\n"
                  "  Require all granted\n</Directory>\n"
                  "RewriteEngine On\nRewriteRule ^/pt/(.*) /al/$1 [PT]\n"
                  "RewriteRule ^/nopt/(.*) /al/$1\n");
    pth_start(h);
    get_body("/pt/f.txt", 200, "via alias\n");
    /* Without PT the result is a file name below the DocumentRoot, as Apache. */
    pth_resp_t r = get("/nopt/f.txt", NULL, 404);
    pth_resp_free(&r);
}
END_TEST

START_TEST(f_g_and_r_4xx_answer_with_their_status)
{
    pth_config(h, "RewriteEngine On\nRewriteRule ^/secret - [F]\nRewriteRule ^/old - [G]\n"
                  "RewriteRule ^/hidden - [R=404,L]\n");
    pth_start(h);
    pth_resp_t r = get("/secret/x", NULL, 403);
    pth_resp_free(&r);
    r = get("/old", NULL, 410);
    pth_resp_free(&r);
    r = get("/hidden", NULL, 404);
    pth_resp_free(&r);
    get_body("/data.txt", 200, "data\n");
}
END_TEST

START_TEST(a_virtual_host_inherits_the_main_servers_rules_only_when_asked)
{
    pth_config(h, "RewriteEngine On\nRewriteRule ^/main$ /data.txt\n"
                  "<VirtualHost *:@PORT@>\n  ServerName inherit.test\n  DocumentRoot @DOCROOT@\n"
                  "  RewriteOptions Inherit\n  RewriteRule ^/own$ /sub/page.txt\n</VirtualHost>\n"
                  "<VirtualHost *:@PORT@>\n  ServerName alone.test\n  DocumentRoot @DOCROOT@\n"
                  "  RewriteRule ^/own$ /sub/page.txt\n</VirtualHost>\n");
    pth_start(h);
    const char *inherit[] = {"Host: inherit.test", NULL}, *alone[] = {"Host: alone.test", NULL};
    pth_resp_t r = get("/main", inherit, 200);
    ck_assert_str_eq(r.body, "data\n");
    pth_resp_free(&r);
    r = get("/own", inherit, 200);
    ck_assert_str_eq(r.body, "page in sub\n");
    pth_resp_free(&r);
    r = get("/main", alone, 404); /* the main server's rules stay its own */
    pth_resp_free(&r);
    r = get("/own", alone, 200);  /* RewriteEngine On is inherited, as Apache 2.4 */
    pth_resp_free(&r);
}
END_TEST

START_TEST(a_txt_map_picks_the_target)
{
    pth_write_conf_file(h, "map.txt", "# key value\nfirst /sub/page.txt\nsecond /data.txt\n");
    pth_config(h, "RewriteEngine On\nRewriteMap pages txt:@DIR@/map.txt\n"
                  "RewriteRule ^/p/(.*) ${pages:$1|/none}\n");
    pth_start(h);
    get_body("/p/first", 200, "page in sub\n");
    get_body("/p/second", 200, "data\n");
    pth_resp_t r = get("/p/third", NULL, 404);
    pth_resp_free(&r);
}
END_TEST

/* RewriteCond expr, each answer as Debian's apache2 2.4.71 gave it for the same rules: the
 * expression's last =~ gives %N; '!' negates; the header it read goes into Vary when the
 * rule applies; in a .htaccess file file() is refused (a 500 naming the file), -f is not. */
START_TEST(rewritecond_expr_answers_as_apache)
{
    pth_write_filef(h, "t12.txt", "one\n");
    pth_write_filef(h, "no.txt", "no\n");
    pth_write_filef(h, "d/x-x.txt", "xx\n");
    pth_write_filef(h, "d/.htaccess", "RewriteEngine On\n"
                    "RewriteCond expr \"%%{REQUEST_URI} =~ m#/(x)\\.txt#\"\n"
                    "RewriteRule ^x\\.txt$ %%1-%%1.txt [L]\n");
    pth_write_filef(h, "e/.htaccess", "RewriteEngine On\n"
                    "RewriteCond expr \"file('/etc/hostname') != ''\"\nRewriteRule ^ /no.txt\n");
    pth_config(h, "<Directory @DOCROOT@>\nAllowOverride All\n</Directory>\n"
                  "RewriteEngine On\n"
                  "RewriteCond expr \"%%{QUERY_STRING} =~ /(^|&)v=(\\d+)/\"\n"
                  "RewriteRule ^/q$ /t%%2.txt [L]\n"
                  "RewriteCond expr \"! %%{HTTP:X-A} -strmatch 'y*'\"\n"
                  "RewriteRule ^/n$ /no.txt [L]\n");
    pth_expect_error(h, "e/.htaccess.*cannot compile expression in htaccess context.*"
                        "file not available in restricted context");
    pth_start(h);
    get_body("/q?a=1&v=12", 200, "one\n");
    pth_resp_t r = get("/n", NULL, 200);
    ck_assert_str_eq(r.body, "no\n");
    ck_assert_str_eq(pth_resp_header(&r, "Vary"), "X-A");
    pth_resp_free(&r);
    const char *yes[] = {"X-A: yes", NULL};
    r = get("/n", yes, 404);
    ck_assert_ptr_null(pth_resp_header(&r, "Vary"));
    pth_resp_free(&r);
    get_body("/d/x.txt", 200, "xx\n");
    r = get("/e/y.txt", NULL, 500);
    pth_resp_free(&r);
}
END_TEST

/* An edited map is in force within about a second, with no restart (Apache rereads a txt:
 * map whose mtime changed); every child sees it (under prefork each has its own copy). */
START_TEST(an_edited_txt_map_is_in_force_without_a_restart)
{
    pth_write_conf_file(h, "map.txt", "first /sub/page.txt\n");
    pth_config(h, "RewriteEngine On\nRewriteMap pages txt:@DIR@/map.txt\n"
                  "RewriteRule ^/p/(.*) ${pages:$1|/none}\n");
    pth_start(h);
    get_body("/p/first", 200, "page in sub\n");
    pth_write_conf_file(h, "map.txt", "first /data.txt\n# first moved\n");
    int64_t end = pth_now_ms() + 5000;
    int same = 0;
    while (same < 8 && pth_now_ms() < end) {
        pth_resp_t r;
        pth_get(h, "/p/first", NULL, &r);
        same = r.status == 200 && strcmp(r.body, "data\n") == 0 ? same + 1 : 0;
        pth_resp_free(&r);
        pth_sleep_ms(50);
    }
    ck_assert_msg(same == 8, "the edited map was not in force within 5 s");
    ck_assert(pth_file_wait_contains(h->error_log, "RewriteMap pages: reread", 5000));
}
END_TEST

START_TEST(t_forces_the_type_and_e_sets_a_variable_other_rules_read)
{
    pth_write_filef(h, "feed.data", "<rss/>\n");
    pth_config(h, "RewriteEngine On\nRewriteRule \\.data$ - [T=application/rss+xml]\n"
                  "RewriteRule ^/flag - [E=SEEN:yes]\n"
                  "RewriteCond %%{ENV:SEEN} =yes\nRewriteRule ^/flag$ /data.txt\n");
    pth_start(h);
    pth_resp_t r = get("/feed.data", NULL, 200);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "application/rss+xml");
    pth_resp_free(&r);
    get_body("/flag", 200, "data\n");
}
END_TEST

/* -U runs a lookup of the URL; what the lookup answered stays its own. A lookup that met a
 * Redirect passes (its status is under 400), and its Location is not the answer's: apache2
 * 2.4.71 answers 200 with no Location here. */
START_TEST(a_url_lookup_leaves_its_redirect_off_the_answer)
{
    pth_config(h, "Redirect /moved /data.txt\nRewriteEngine On\n"
                  "RewriteCond /moved -U\nRewriteRule ^/probe$ /data.txt\n");
    pth_start(h);
    pth_resp_t r = get("/probe", NULL, 200);
    ck_assert_str_eq(r.body, "data\n");
    ck_assert_ptr_null(pth_resp_header(&r, "Location"));
    pth_resp_free(&r);
    get_location("/moved", 302, url("/data.txt"));
}
END_TEST

/* Escaping of redirects, each answer as Debian's apache2 2.4 gave it for the same rules. */
static const struct {
    const char *path, *location;
} escapes[] = {
    {"/sp/a%20b", "http://localhost/x/a%20b"},
    {"/ne/a%20b", "http://localhost/x/a b"},           /* NE: as it is */
    {"/b/a%20b%26c", "http://localhost/s?q=a+b%2526c"}, /* B, then escaped again: Apache's */
    {"/bne/a%20b%26c", "http://localhost/s?q=a+b%26c"},
    {"/qsa/x?y=1", "http://localhost/s?a=x&y=1"},
    {"/abs/p?q=1", "http://other.example/p?q=1"},       /* another server: a redirect */
    {"/cond?x=1&id=42", "http://localhost/item/42"},    /* %2 from the condition, '?' drops */
};

START_TEST(redirects_are_escaped_as_apache_escapes_them)
{
    pth_config(h, "RewriteEngine On\n"
                  "RewriteRule ^/sp/(.*)$ /x/$1 [R]\nRewriteRule ^/ne/(.*)$ /x/$1 [R,NE]\n"
                  "RewriteRule ^/b/(.*)$ /s?q=$1 [B,R]\nRewriteRule ^/bne/(.*)$ /s?q=$1 [B,R,NE]\n"
                  "RewriteRule ^/qsa/(.*)$ /s?a=$1 [QSA,R]\n"
                  "RewriteRule ^/abs/(.*)$ http://other.example/$1\n"
                  "RewriteCond %%{QUERY_STRING} (^|&)id=(\\d+)\n"
                  "RewriteRule ^/cond$ /item/%%2? [R]\n");
    pth_start(h);
    const char *host[] = {"Host: localhost", NULL};
    for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
        pth_resp_t r = get(escapes[i].path, host, 302);
        const char *loc = pth_resp_header(&r, "Location");
        ck_assert_msg(loc && strcmp(loc, escapes[i].location) == 0, "%s: Location %s, want %s",
                      escapes[i].path, loc ? loc : "(none)", escapes[i].location);
        pth_resp_free(&r);
    }
}
END_TEST

/* ---- Directory context ----------------------------------------------------------------- */

START_TEST(directory_rules_see_the_path_below_the_directory_and_redirect_inside)
{
    pth_config(h, "<Directory @DOCROOT@/sub>\n  RewriteEngine On\n"
                  "  RewriteRule ^alias\\.txt$ page.txt\n</Directory>\n");
    pth_start(h);
    get_body("/sub/alias.txt", 200, "page in sub\n");
}
END_TEST

START_TEST(rewrite_base_turns_the_result_back_into_a_url)
{
    pth_config(h, "Alias /app @DOCROOT@/sub\n<Directory @DOCROOT@/sub>\n  RewriteEngine On\n"
                  "  RewriteBase /app/\n  RewriteRule ^go$ page.txt [R]\n"
                  "  RewriteRule ^in$ page.txt\n</Directory>\n"
                  "<Directory @DOCROOT@/new>\n  RewriteEngine On\n"
                  "  RewriteRule ^go$ x.txt [R]\n</Directory>\n");
    pth_start(h);
    get_location("/app/go", 302, url("/app/page.txt"));
    get_body("/app/in", 200, "page in sub\n");
    /* Without RewriteBase the directory's file system path stays in the URL: Apache's
     * answer too (apache2 2.4), and the reason RewriteBase exists. */
    char want[512];
    snprintf(want, sizeof(want), "%s/new/x.txt", h->docroot);
    get_location("/new/go", 302, url(want));
}
END_TEST

/* RewriteBase / of the DocumentRoot: a relative redirect is the path with one slash, and a
 * local result is served (apache2 2.4.71: /data.txt, /data.txt?x=1, /sub/page.txt). */
START_TEST(rewrite_base_slash_gives_a_redirect_with_one_slash)
{
    pth_config(h, "<Directory @DOCROOT@>\n  RewriteEngine On\n  RewriteBase /\n"
                  "  RewriteRule ^a\\.html$ data.txt [R]\n"
                  "  RewriteRule ^q$ data.txt?x=1 [R=301]\n"
                  "  RewriteRule ^sub/go$ sub/page.txt [R]\n"
                  "  RewriteRule ^in$ data.txt\n</Directory>\n");
    pth_start(h);
    get_location("/a.html", 302, url("/data.txt"));
    get_location("/q", 301, url("/data.txt?x=1"));
    get_location("/sub/go", 302, url("/sub/page.txt"));
    get_body("/in", 200, "data\n");
}
END_TEST

START_TEST(a_rewrite_loop_ends_at_the_internal_redirect_bound)
{
    pth_config(h, "<Directory @DOCROOT@>\n  RewriteEngine On\n  RewriteRule ^(.*)$ /x$1\n"
                  "</Directory>\n");
    pth_start(h);
    pth_resp_t r = get("/a", NULL, 500);
    pth_resp_free(&r);
    pth_expect_error(h, "limit of 10 internal redirects");
}
END_TEST

START_TEST(a_rewrite_to_the_same_file_ends_there_instead_of_looping)
{
    pth_config(h, "<Directory @DOCROOT@/sub>\n  RewriteEngine On\n"
                  "  RewriteRule ^(.*)$ page.txt [L]\n</Directory>\n");
    pth_start(h);
    get_body("/sub/anything/else", 200, "page in sub\n");
}
END_TEST

START_TEST(end_stops_the_rewriting_after_the_internal_redirect)
{
    pth_config(h, "<Directory @DOCROOT@>\n  RewriteEngine On\n"
                  "  RewriteRule ^data\\.txt$ - [L]\n  RewriteRule ^(.*)$ /data.txt [END]\n"
                  "</Directory>\n"
                  "<Directory @DOCROOT@/sub>\n  RewriteEngine On\n"
                  "  RewriteRule ^(.*)$ /data.txt [L]\n</Directory>\n");
    pth_start(h);
    get_body("/anything", 200, "data\n");
    get_body("/sub/page.txt", 200, "data\n");
}
END_TEST

START_TEST(directory_rules_need_followsymlinks)
{
    pth_config(h, "<Directory @DOCROOT@/sub>\n  Options None\n  RewriteEngine On\n"
                  "  RewriteRule ^x$ page.txt\n</Directory>\n");
    pth_start(h);
    pth_resp_t r = get("/sub/x", NULL, 403);
    pth_resp_free(&r);
    pth_expect_error(h, "AH00670");
}
END_TEST

START_TEST(drupal_and_nextcloud_hide_internal_paths)
{
    pth_write_filef(h, ".git/config", "[core]\n");
    pth_write_filef(h, "config/config.php", "<?php $secret;\n");
    pth_write_filef(h, ".well-known/acme", "token\n");
    pth_config(h, "<Directory @DOCROOT@>\n  RewriteEngine on\n"
                  "  RewriteRule \"/\\.|^\\.(?!well-known/)\" - [F]\n"
                  "  RewriteRule ^(?:build|tests|config|lib|3rdparty|templates)(?:$|/) - "
                  "[R=404,L]\n</Directory>\n");
    pth_start(h);
    pth_resp_t r = get("/.git/config", NULL, 403);
    pth_resp_free(&r);
    r = get("/config/config.php", NULL, 404);
    pth_resp_free(&r);
    get_body("/.well-known/acme", 200, "token\n");
}
END_TEST

/* ---- Configuration errors -------------------------------------------------------------- */

static const struct {
    const char *conf, *message;
} bad_confs[] = {
    {"RewriteEngine On\nRewriteCond %{HTTP_HOST} x\n", ":2: RewriteCond: no RewriteRule"},
    {"RewriteMap m prg:/bin/cat\n", ":1: RewriteMap: map type 'prg' is not supported"},
    {"RewriteRule ^ /x [Z]\n", ":1: RewriteRule: unknown flag 'Z'"},
    {"RewriteRule ^ /x [N]\n", ":1: RewriteRule: flag 'N' needs its bound"},
    {"RewriteCond expr \"%{NO_SUCH_VAR} == 1\"\nRewriteRule ^ /x\n",
     ":1: RewriteCond: cannot compile expression"},
    {"<Location />\n RewriteRule ^ /x\n</Location>\n", ":2: RewriteRule is supported at server"},
    {"RewriteRule ^ ${nomap:x}\n", ":1: RewriteRule: map 'nomap' is not defined"},
    {"RewriteBase /\n", ":1: RewriteBase: only valid in per-directory"},
    {"RewriteRule ^/(.*) http://%{HTTP_HOST}:81/$1 [P]\n", ":1: RewriteRule [P]: the target"},
    {"RewriteOptions AllowAnyURI\n", ":1: RewriteOptions: option 'AllowAnyURI'"},
};

START_TEST(what_portico_does_not_do_is_a_config_error_with_file_and_line)
{
    pth_write_conf_file(h, "rw.conf", "%s", bad_confs[_i].conf);
    pth_config(h, "Include @DIR@/rw.conf\n");
    pth_run_t r;
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_int_ne(r.code, 0);
    ck_assert_msg(strstr(r.err, "rw.conf") && strstr(r.err, bad_confs[_i].message),
                  "%s: got '%s'", bad_confs[_i].conf, r.err);
    pth_run_free(&r);
}
END_TEST

START_TEST(ifmodule_mod_rewrite_is_true)
{
    pth_config(h, "<IfModule mod_rewrite.c>\n  RewriteEngine On\n"
                  "  RewriteRule ^/in$ /data.txt\n</IfModule>\n");
    pth_start(h);
    get_body("/in", 200, "data\n");
}
END_TEST

Suite *rewrite_suite(void);
Suite *rewrite_suite(void)
{
    Suite *s = suite_create("rewrite");
    TCase *tc = tcase_create("static");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_server_rule_redirects_with_its_code_and_keeps_the_query);
    tcase_add_test(tc, http_to_https_is_the_documented_redirect);
    tcase_add_test(tc, a_server_rule_maps_a_url_to_a_file_and_locations_still_see_the_url);
    tcase_add_test(tc, pt_passes_the_new_url_to_alias);
    tcase_add_test(tc, f_g_and_r_4xx_answer_with_their_status);
    tcase_add_test(tc, a_virtual_host_inherits_the_main_servers_rules_only_when_asked);
    tcase_add_test(tc, a_txt_map_picks_the_target);
    tcase_add_test(tc, an_edited_txt_map_is_in_force_without_a_restart);
    tcase_add_test(tc, rewritecond_expr_answers_as_apache);
    tcase_add_test(tc, a_url_lookup_leaves_its_redirect_off_the_answer);
    tcase_add_test(tc, redirects_are_escaped_as_apache_escapes_them);
    tcase_add_test(tc, t_forces_the_type_and_e_sets_a_variable_other_rules_read);
    tcase_add_test(tc, directory_rules_see_the_path_below_the_directory_and_redirect_inside);
    tcase_add_test(tc, rewrite_base_turns_the_result_back_into_a_url);
    tcase_add_test(tc, rewrite_base_slash_gives_a_redirect_with_one_slash);
    tcase_add_test(tc, a_rewrite_loop_ends_at_the_internal_redirect_bound);
    tcase_add_test(tc, end_stops_the_rewriting_after_the_internal_redirect);
    tcase_add_test(tc, a_rewrite_to_the_same_file_ends_there_instead_of_looping);
    tcase_add_test(tc, directory_rules_need_followsymlinks);
    tcase_add_test(tc, drupal_and_nextcloud_hide_internal_paths);
    tcase_add_loop_test(tc, what_portico_does_not_do_is_a_config_error_with_file_and_line, 0,
                        (int)(sizeof(bad_confs) / sizeof(bad_confs[0])));
    tcase_add_test(tc, ifmodule_mod_rewrite_is_true);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rewrite_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
