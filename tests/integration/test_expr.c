/* <If>/<ElseIf>/<Else> and the directives that take an Apache expression, with the real
 * binary and a real php-fpm: the php-fpm guard of Debian's config ("-f %{REQUEST_FILENAME}"
 * around SetHandler), the "-e" socket test, a query-string regex, Header expr=, Require
 * expr, SetEnvIfExpr and ProxyFCGISetEnvIf reaching PHP, and config errors with file:line.
 * The evaluator is compared with Debian's apache2 2.4 on one table of expressions, both
 * servers answering the same request (apache_agrees_on_the_expression_table); so are the
 * phases around it: when the environment rules run, and which section's Redirect is first. */
#include "apache.h"
#include "fcgi_backends.h"
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pth_fpm_t fpm; /* shared by the tests of the php case (unchecked fixture) */
static pth_t *h;

static void fpm_up(void)
{
    pth_fpm_start_or_exit(&fpm, 2);
}

static void fpm_down(void)
{
    pth_fpm_free(&fpm);
}

static void setup(void)
{
    h = pth_new();
}

static void teardown(void)
{
    pth_free(h);
}

static const char env_php[] =
    "<?php\nheader('Content-Type: text/plain');\n"
    "foreach (['FROM_EXPR', 'FCGI_EXPR', 'SCRIPT_NAME'] as $k)\n"
    "  echo $k, '=', getenv($k) === false ? '(unset)' : getenv($k), \"\\n\";\n";

static int get_status(const char *path, const char *const *hdrs, pth_resp_t *r)
{
    pth_get(h, path, hdrs, r);
    return r->status;
}

/* Debian's php8.2-fpm.conf, its commented variant made live: a .php name that is not a
 * file is not handed to php-fpm (which would answer "File not found." or, worse, run
 * another script through PATH_INFO), but answered by the server. */
START_TEST(php_runs_only_for_files_that_exist_under_if_f)
{
    pth_write_filef(h, "env.php", "%s", env_php);
    pth_config(h, "<FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n"
                  "  <If \"-f %%{REQUEST_FILENAME}\">\n"
                  "    SetHandler \"proxy:unix:%s|fcgi://localhost\"\n"
                  "  </If>\n"
                  "</FilesMatch>\n",
                  fpm.sock);
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(get_status("/env.php", NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "SCRIPT_NAME=/env.php"));
    ck_assert_ptr_null(strstr(r.body, "<?php"));
    pth_resp_free(&r);
    ck_assert_int_eq(get_status("/missing.php", NULL, &r), 404);
    ck_assert_ptr_null(strstr(r.body, "File not found."));
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* "<If "-e '/run/php/php-fpm.sock'">": the handler only when the pool's socket is there;
 * else the <Else> refuses the .php files rather than serving their source. */
START_TEST(if_e_on_the_php_fpm_socket_chooses_the_handler)
{
    pth_write_filef(h, "env.php", "%s", env_php);
#define SOCKET_CONF                                                                    \
    "<FilesMatch \"\\.php$\">\n"                                                          \
    "  <If \"-e '%s'\">\n"                                                                  \
    "    SetHandler \"proxy:unix:%s|fcgi://localhost\"\n"                                    \
    "  </If>\n"                                                                              \
    "  <Else>\n"                                                                             \
    "    Require all denied\n"                                                               \
    "  </Else>\n"                                                                            \
    "</FilesMatch>\n"
    pth_config(h, SOCKET_CONF, fpm.sock, fpm.sock);
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(get_status("/env.php", NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "SCRIPT_NAME=/env.php"));
    pth_resp_free(&r);
    pth_stop(h);

    const char *gone = pth_path(h, "no-such-fpm.sock");
    pth_config(h, SOCKET_CONF, gone, gone);
    pth_expect_error(h, "AH01630: client denied by server configuration");
    pth_start(h);
    ck_assert_int_eq(get_status("/env.php", NULL, &r), 403);
    ck_assert_ptr_null(strstr(r.body, "<?php"));
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* SetEnvIfExpr and ProxyFCGISetEnvIf: the variables reach the script; reqenv() in the
 * latter reads the FastCGI parameters (SCRIPT_NAME), and its value sees the captures. */
START_TEST(setenvifexpr_and_proxy_fcgi_setenvif_reach_php)
{
    pth_write_filef(h, "env.php", "%s", env_php);
    pth_config(h, "SetEnvIfExpr \"%%{QUERY_STRING} =~ /(^|&)v=(\\w+)/\" FROM_EXPR=v-$2\n"
                  "ProxyFCGISetEnvIf \"reqenv('SCRIPT_NAME') =~ m#^/(\\w+)\\.php$#\" "
                  "FCGI_EXPR \"script-$1-%%{REQUEST_METHOD}\"\n"
                  "<FilesMatch \"\\.php$\">\n"
                  "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n"
                  "</FilesMatch>\n",
                  fpm.sock);
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(get_status("/env.php?a=1&v=abc", NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "FROM_EXPR=v-abc\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "FCGI_EXPR=script-env-GET\n"));
    pth_resp_free(&r);
    ck_assert_int_eq(get_status("/env.php?a=1", NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "FROM_EXPR=(unset)\n"));
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* Cache-busting: long-lived caching only for URLs that carry a version. */
START_TEST(a_query_string_regex_if_sets_a_header_on_static_files)
{
    pth_write_filef(h, "app.css", "body{}\n");
    pth_config(h, "<If \"%%{QUERY_STRING} =~ /(^|&)v=/\">\n"
                  "  Header set Cache-Control \"max-age=31536000, immutable\"\n"
                  "</If>\n"
                  "<Else>\n"
                  "  Header set Cache-Control no-cache\n"
                  "</Else>\n");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(get_status("/app.css?v=3", NULL, &r), 200);
    ck_assert_str_eq(pth_resp_header(&r, "Cache-Control"), "max-age=31536000, immutable");
    pth_resp_free(&r);
    ck_assert_int_eq(get_status("/app.css?x=1&v=3", NULL, &r), 200);
    ck_assert_str_eq(pth_resp_header(&r, "Cache-Control"), "max-age=31536000, immutable");
    pth_resp_free(&r);
    ck_assert_int_eq(get_status("/app.css?vv=3", NULL, &r), 200);
    ck_assert_str_eq(pth_resp_header(&r, "Cache-Control"), "no-cache");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* <If> by host with <ElseIf>/<Else>, inside a <Location>, nested: merged after the
 * <Location>'s own directives whatever their order in the file. */
START_TEST(elseif_else_and_nested_if_choose_by_host)
{
    pth_write_filef(h, "index.html", "hi\n");
    pth_config(h, "<Location />\n"
                  "  <If \"%%{HTTP_HOST} == 'a.example'\">\n"
                  "    Header set X-Site a\n"
                  "    <If \"%%{REQUEST_METHOD} == 'HEAD'\">\n"
                  "      Header set X-Head yes\n"
                  "    </If>\n"
                  "  </If>\n"
                  "  <ElseIf \"%%{HTTP_HOST} =~ /^b\\./\">\n"
                  "    Header set X-Site b\n"
                  "  </ElseIf>\n"
                  "  <Else>\n"
                  "    Header set X-Site other\n"
                  "  </Else>\n"
                  "  Header set X-Site location\n"
                  "</Location>\n");
    pth_start(h);
    const char *a[] = {"Host: a.example", NULL}, *b[] = {"Host: b.example", NULL},
               *c[] = {"Host: c.example", NULL};
    pth_resp_t r;
    ck_assert_int_eq(get_status("/index.html", a, &r), 200);
    ck_assert_str_eq(pth_resp_header(&r, "X-Site"), "a");
    ck_assert_ptr_null(pth_resp_header(&r, "X-Head"));
    pth_resp_free(&r);
    ck_assert_int_eq(pth_curl(h, "HEAD", "/index.html", a, NULL, 0, &r), 0);
    ck_assert_str_eq(pth_resp_header(&r, "X-Head"), "yes");
    pth_resp_free(&r);
    ck_assert_int_eq(get_status("/index.html", b, &r), 200);
    ck_assert_str_eq(pth_resp_header(&r, "X-Site"), "b");
    pth_resp_free(&r);
    ck_assert_int_eq(get_status("/index.html", c, &r), 200);
    ck_assert_str_eq(pth_resp_header(&r, "X-Site"), "other");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* .htaccess files take <If> too (AllowOverride): merged after the walk like the server's,
 * and a handler named inside one is resolved as any other, so that an unknown one is the
 * file's 500, never the script served as its source. */
START_TEST(htaccess_if_sections_apply_and_name_handlers_safely)
{
    pth_write_filef(h, "ht/.htaccess", "<If \"%%{QUERY_STRING} =~ /(^|&)v=/\">\n"
                                       "  Header set X-Ht versioned\n"
                                       "</If>\n"
                                       "<Else>\n"
                                       "  Header set X-Ht plain\n"
                                       "</Else>\n");
    pth_write_filef(h, "ht/a.txt", "a\n");
    pth_write_filef(h, "php/.htaccess", "<If \"-f %%{REQUEST_FILENAME}\">\n"
                                        "  SetHandler application/x-httpd-php\n"
                                        "</If>\n");
    pth_write_filef(h, "php/secret.php", "<?php echo 'password'; ?>\n");
    pth_config(h, "<Directory \"@DOCROOT@\">\n  AllowOverride All\n</Directory>\n");
    pth_expect_error(h, "no part of portico handles the handler 'application/x-httpd-php'");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(get_status("/ht/a.txt?v=2", NULL, &r), 200);
    ck_assert_str_eq(pth_resp_header(&r, "X-Ht"), "versioned");
    pth_resp_free(&r);
    ck_assert_int_eq(get_status("/ht/a.txt", NULL, &r), 200);
    ck_assert_str_eq(pth_resp_header(&r, "X-Ht"), "plain");
    pth_resp_free(&r);
    ck_assert_int_eq(get_status("/php/secret.php", NULL, &r), 500);
    ck_assert_ptr_null(strstr(r.body, "password"));
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* expr.html's Header examples, on a static file and on an error page. */
START_TEST(header_expr_conditions_and_values)
{
    pth_write_filef(h, "special_path.php", "not php here\n");
    pth_write_filef(h, "plain.txt", "plain\n");
    pth_config(h, "Header always set CustomHeader my-value "
                  "\"expr=%%{REQUEST_URI} =~ m#^/special_path\\.php$#\"\n"
                  "Header set foo-checksum \"expr=%%{md5:foo}\"\n"
                  "Header always set X-Host \"expr=%%{tolower:%%{HTTP_HOST}}\"\n");
    pth_start(h);
    const char *hdr[] = {"Host: WWW.Example.COM", NULL};
    pth_resp_t r;
    ck_assert_int_eq(get_status("/special_path.php", hdr, &r), 200);
    ck_assert_str_eq(pth_resp_header(&r, "CustomHeader"), "my-value");
    ck_assert_str_eq(pth_resp_header(&r, "foo-checksum"), "acbd18db4cc2f85cedef654fccc4a4d8");
    pth_resp_free(&r);
    ck_assert_int_eq(get_status("/plain.txt", NULL, &r), 200);
    ck_assert_ptr_null(pth_resp_header(&r, "CustomHeader"));
    pth_resp_free(&r);
    ck_assert_int_eq(get_status("/nope", NULL, &r), 404);
    ck_assert_ptr_null(pth_resp_header(&r, "foo-checksum")); /* not "always" */
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(require_expr_guards_a_location)
{
    pth_write_filef(h, "admin/index.html", "admin\n");
    pth_config(h, "<Location /admin>\n"
                  "  Require expr \"%%{HTTP:X-Token} == 'secret' && -R '127.0.0.0/8'\"\n"
                  "</Location>\n");
    pth_expect_error(h, "AH01630: client denied by server configuration");
    pth_start(h);
    const char *ok[] = {"X-Token: secret", NULL}, *bad[] = {"X-Token: guess", NULL};
    pth_resp_t r;
    ck_assert_int_eq(get_status("/admin/index.html", ok, &r), 200);
    pth_resp_free(&r);
    ck_assert_int_eq(get_status("/admin/index.html", bad, &r), 403);
    pth_resp_free(&r);
    ck_assert_int_eq(get_status("/admin/index.html", NULL, &r), 403);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* The line of the config file that holds needle (1-based), 0 when none. */
static int line_of(const char *needle)
{
    size_t len = 0;
    char *text = pth_read_file(h->conf, &len);
    ck_assert_ptr_nonnull(text);
    char *at = strstr(text, needle);
    int line = 0;
    if (at) {
        line = 1;
        for (char *p = text; p < at; p++)
            line += *p == '\n';
    }
    free(text);
    return line;
}

/* -t fails with "portico.conf:LINE: want", LINE the one holding at. */
static void expect_config_error(const char *body, const char *at, const char *want)
{
    pth_config(h, "%s", body);
    char full[512];
    snprintf(full, sizeof full, "portico.conf:%d: %s", line_of(at), want);
    pth_run_t r;
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(r.code != 0, "-t accepted: %s", body);
    ck_assert_msg(strstr(r.err, full) != NULL, "stderr '%s' lacks '%s'", r.err, full);
    pth_run_free(&r);
}

START_TEST(bad_if_sections_fail_the_config_check_with_file_and_line)
{
    expect_config_error("<Else>\n</Else>\n", "<Else>",
                        "<Else> or <ElseIf> section without previous <If> or <ElseIf> "
                        "section in same scope");
    expect_config_error("<If \"%{REQUEST_URI} =~ /(/\">\n</If>\n", "<If",
                        "<If>: cannot parse expression \"%{REQUEST_URI} =~ /(/\": bad "
                        "regular expression");
    expect_config_error("<If \"-f %{REQUEST_FILENAME}\">\n  ServerName x\n</If>\n",
                        "  ServerName", "ServerName cannot occur within <If> section");
    expect_config_error("Header set X v \"expr=%{NOPE} == 1\"\n", "Header set X",
                        "Header: Header: cannot parse expression \"%{NOPE} == 1\": Variable "
                        "'NOPE' does not exist");
}
END_TEST

/* ---- The same expressions on Debian's apache2 --------------------------------------------
 * Each condition becomes 'Header always set X-C<i> 1 "expr=COND"' and each string
 * 'Header always set X-S<i> "expr=[STRING]"'; both servers answer one request and must set
 * the same fields. Only what both servers see alike is used (no ports, paths, times). */

static const char *const same_conds[] = {
    "%{HTTP_HOST} == 'www.example.com'",
    "%{QUERY_STRING} =~ /(^|&)v=/",
    "%{QUERY_STRING} =~ /v=(\\d+)/ && $1 -eq 42",
    "%{QUERY_STRING} =~ /nomatch(x)/ || $1 == ''",
    "%{REQUEST_URI} =~ m#^/dir/#",
    "%{REQUEST_URI} =~ m#^/DIR/#i",
    "%{REQUEST_METHOD} in {'GET', 'HEAD'}",
    "%{REQUEST_METHOD} in {'POST'}",
    "-R '127.0.0.0/8'",
    "-R '10.0.0.0/8'",
    "%{REMOTE_ADDR} -ipmatch '127.0.0.1/32'",
    "'10.1.2.3' -ipmatch '10.1'",
    "'a.TXT' -strcmatch '*.txt'",
    "'a.TXT' -strmatch '*.txt'",
    "'/a/b' -fnmatch '/*'",
    "'/a/b' -strmatch '/*'",
    "req('X-Token') == 'abc' && !(http('X-None') != '')",
    "tolower(%{HTTP_USER_AGENT}) =~ m#^ua/#",
    "-n %{HTTP_COOKIE} && -z %{HTTP_REFERER}",
    "-T 'Off' || -T '' || -T 'no' || -T 'FALSE' || -T '0'",
    "-T 'yes'",
    "10 -gt 9 && '10' < '9'",
    "1 -eq 01 && 2 ne 3 && 3 le 3",
    "md5('x') == '9dd4e461268c8034f5c8564e155c67a6'",
    "%{HTTPS} == 'off' && %{IS_SUBREQ} == 'false'",
    "-d '/tmp' && -f '/etc/passwd' && !-e '/nonexistent' && -s '/etc/passwd'",
    "-f '/tmp' || -d '/etc/passwd'",
    "-L '/proc/self' && !-h '/etc/passwd'",
    "%{REQUEST_SCHEME} == 'http' && %{SERVER_PROTOCOL} == 'HTTP/1.1'",
    "%{THE_REQUEST} =~ m#^GET /dir/file\\.txt\\?#",
    "%{HTTP_ACCEPT} == 'text/x-test'",
    "!true || !!false || (false && true)",
    "true && (false || true) && !false",
    "'ab' . 'c' == 'abc' && 'x' . %{REQUEST_METHOD} == 'xGET'",
    "%{HTTP:X-Token} in {'z', %{HTTP:X-Token}}",
    "! reqenv('NOPE') =~ /./",
    "'$0' == '' && 'a$' == 'a$'",
    "'::1' -ipmatch '::/64' && '192.168.1.5' -ipmatch '192.168.1.0/255.255.255.0'",
    "%{REQUEST_URI} !~ /x/ && %{REQUEST_URI} !~ /dir/",
    "'a' -lt 'b' || 'b' -eq 'c'",
    "%{QUERY_STRING} =~ /(a)=(1)/ && '$2$1' == '1a'",
    "%{QUERY_STRING} =~ /(a)=(1)/ && %{QUERY_STRING} =~ /v/ && $1 == 'a'",
};

static const char *const same_strings[] = {
    "%{md5:foo}",
    "%{sha1:foo}",
    "%{base64:hello world}",
    "%{unbase64:aGVsbG8=}",
    "%{escape:/a b/c?d&e=f#g}",
    "%{unescape:%41%2fb%20c}",
    "%{toupper:%{HTTP_HOST}}",
    "%{REQUEST_URI}|%{QUERY_STRING}|%{REQUEST_METHOD}|%{DOCUMENT_URI}",
    "%{HTTP:X-Token}-%{req:X-None}-%{http:x-token}",
    /* Not "\\\\": apache2's config reader makes it one backslash inside quotes before the
     * expression sees it, portico's keeps both (a config-language difference). */
    "a\\tb\\x",
    "%{unescape:a%00b}|%{unescape:%zz}|%{base64:a}|%{unbase64:aGk}",
    "%{SERVER_NAME}|%{REMOTE_ADDR}|%{REMOTE_HOST}|%{IPV6}|%{HTTP2}|%{HTTPS}",
    "%{HTTP_USER_AGENT}|%{HTTP_COOKIE}|%{HTTP_REFERER}|%{HTTP_FORWARDED}",
    "%{CONTEXT_PREFIX}|%{PATH_INFO}|%{REMOTE_USER}|%{AUTH_TYPE}|%{note:x}",
    "%{THE_REQUEST}",
    "100% $1 %{reqenv:NOPE}%{osenv:NOPE_NOT_SET}",
    "%{tolower:MiXeD}%{filesize:/nonexistent}",
};

#define N_CONDS (sizeof(same_conds) / sizeof(*same_conds))
#define N_STRINGS (sizeof(same_strings) / sizeof(*same_strings))

/* The Header lines, in a malloc'd string. */
static char *expr_headers(void)
{
    size_t cap = 64 * 1024, n = 0;
    char *b = malloc(cap);
    ck_assert_ptr_nonnull(b);
    b[0] = '\0';
    for (size_t i = 0; i < N_CONDS; i++)
        n += (size_t)snprintf(b + n, cap - n, "Header always set X-C%zu 1 \"expr=%s\"\n", i,
                              same_conds[i]);
    for (size_t i = 0; i < N_STRINGS; i++)
        n += (size_t)snprintf(b + n, cap - n, "Header always set X-S%zu \"expr=[%s]\"\n", i,
                              same_strings[i]);
    ck_assert_uint_lt(n, cap);
    return b;
}

static void ask(int port, const char *path, const char *host, pth_resp_t *r)
{
    pth_conn_t *c = pth_conn_open_port(port);
    ck_assert_int_eq(pth_conn_sendf(c, "GET %s HTTP/1.1\r\n"
                                       "Host: %s\r\nUser-Agent: UA/1.0\r\n"
                                       "Accept: text/x-test\r\nX-Token: abc\r\n"
                                       "Cookie: c=1\r\nConnection: close\r\n\r\n",
                                    path, host),
                     0);
    ck_assert_int_eq(pth_conn_read_response(c, r, false, PTH_IO_DEADLINE_MS), 0);
    pth_conn_close(c);
}

/* Starts portico with body (after the harness's prelude) and apache2 with the same body,
 * after apache_only (LoadModule lines beyond the differential's set, or ""); calls check
 * with both servers' ports, stops both. */
static void with_both_and(const char *apache_only, const char *body,
                          void (*check)(int ours, int theirs))
{
    pth_config(h, "%s", body);
    pth_start(h);
    dt_apache_t ap;
    ck_assert_int_eq(dt_apache_init(&ap, h->dir), 0);
    char *ap_body = malloc(strlen(apache_only) + strlen(body) + 512);
    ck_assert_ptr_nonnull(ap_body);
    sprintf(ap_body, "%s<Directory \"%s\">\n  Require all granted\n</Directory>\n%s", apache_only,
            h->docroot, body);
    ck_assert_int_eq(dt_apache_spawn(&ap, h->docroot, ap_body), 0);
    free(ap_body);
    char msg[4096];
    int ready = dt_apache_wait_ready(&ap, msg, sizeof msg);
    ck_assert_msg(ready == 0, "%s", msg);
    check(h->port, ap.port);
    dt_apache_stop(&ap);
    pth_stop(h);
}

static void with_both(const char *body, void (*check)(int ours, int theirs))
{
    with_both_and("", body, check);
}

/* body with each @DOCROOT@ replaced by the harness's document root (malloc'd). */
static char *at_docroot(const char *body)
{
    size_t n = strlen(body) + 1, dl = strlen(h->docroot);
    for (const char *p = body; (p = strstr(p, "@DOCROOT@")); p++)
        n += dl;
    char *out = malloc(n), *o = out;
    ck_assert_ptr_nonnull(out);
    for (const char *p = body, *at; *p; p = at + strlen("@DOCROOT@")) {
        if (!(at = strstr(p, "@DOCROOT@"))) {
            strcpy(o, p);
            return out;
        }
        memcpy(o, p, (size_t)(at - p));
        o += at - p;
        memcpy(o, h->docroot, dl);
        o += dl;
    }
    *o = '\0';
    return out;
}

/* X-C<i> or X-S<i>. */
static const char *field(const pth_resp_t *r, char kind, size_t i)
{
    char name[32];
    snprintf(name, sizeof name, "X-%c%zu", kind, i);
    return pth_resp_header(r, name);
}

static void compare_table(int ours_port, int theirs_port)
{
    pth_resp_t ours, theirs;
    ask(ours_port, "/dir/file.txt?a=1&v=42", "www.example.com", &ours);
    ask(theirs_port, "/dir/file.txt?a=1&v=42", "www.example.com", &theirs);
    for (size_t i = 0; i < N_CONDS; i++)
        ck_assert_msg((field(&ours, 'C', i) != NULL) == (field(&theirs, 'C', i) != NULL),
                      "%s: portico %s, apache2 %s", same_conds[i],
                      field(&ours, 'C', i) ? "true" : "false",
                      field(&theirs, 'C', i) ? "true" : "false");
    for (size_t i = 0; i < N_STRINGS; i++) {
        const char *a = field(&ours, 'S', i), *b = field(&theirs, 'S', i);
        ck_assert_msg(a && b && strcmp(a, b) == 0, "%s: portico '%s', apache2 '%s'",
                      same_strings[i], a ? a : "(none)", b ? b : "(none)");
    }
    pth_resp_free(&ours);
    pth_resp_free(&theirs);
}

START_TEST(apache_agrees_on_the_expression_table)
{
    char *lines = expr_headers();
    pth_write_filef(h, "dir/file.txt", "x\n");
    with_both(lines, compare_table);
    free(lines);
}
END_TEST

/* The order of "How the sections are merged", chains and nesting, in every section kind. */
static const char if_order_conf[] =
    "<If \"true\">\n"
    "  Header always append X-Order srv-if\n"
    "  <If \"%{QUERY_STRING} == 'n'\">\n"
    "    Header always append X-Order srv-if-nested\n"
    "  </If>\n"
    "</If>\n"
    "Header always append X-Order srv\n"
    "<Location />\n"
    "  <If \"%{HTTP_HOST} == 'a.example'\">\n"
    "    Header always append X-Order loc-a\n"
    "  </If>\n"
    "  <ElseIf \"%{HTTP_HOST} =~ /^b/\">\n"
    "    Header always append X-Order loc-b\n"
    "  </ElseIf>\n"
    "  <Else>\n"
    "    Header always append X-Order loc-else\n"
    "  </Else>\n"
    "  Header always append X-Order loc\n"
    "</Location>\n"
    "<Directory \"@DOCROOT@/sub\">\n"
    "  <If \"-f %{REQUEST_FILENAME}\">\n"
    "    Header always append X-Order dir-file\n"
    "  </If>\n"
    "  <Else>\n"
    "    Header always append X-Order dir-nofile\n"
    "  </Else>\n"
    "  Header always append X-Order dir\n"
    "</Directory>\n"
    "<Files \"*.html\">\n"
    "  <If \"%{REQUEST_URI} =~ /index/\">\n"
    "    Header always append X-Order files-if\n"
    "  </If>\n"
    "  Header always append X-Order files\n"
    "</Files>\n";

static void compare_order(int ours_port, int theirs_port)
{
    static const struct {
        const char *path, *host;
    } asks[] = {
        {"/sub/index.html", "a.example"}, {"/sub/index.html?n", "b.example"},
        {"/sub/other.html", "c.example"}, {"/sub/missing.html", "a.example"},
        {"/top.txt?n", "b.example"},
    };
    for (size_t i = 0; i < sizeof(asks) / sizeof(*asks); i++) {
        pth_resp_t ours, theirs;
        ask(ours_port, asks[i].path, asks[i].host, &ours);
        ask(theirs_port, asks[i].path, asks[i].host, &theirs);
        const char *a = pth_resp_header(&ours, "X-Order"), *b = pth_resp_header(&theirs, "X-Order");
        ck_assert_msg(a && b && strcmp(a, b) == 0, "%s (Host %s): portico '%s', apache2 '%s'",
                      asks[i].path, asks[i].host, a ? a : "(none)", b ? b : "(none)");
        ck_assert_int_eq(ours.status, theirs.status);
        pth_resp_free(&ours);
        pth_resp_free(&theirs);
    }
}

START_TEST(apache_merges_if_sections_in_the_same_order)
{
    pth_write_filef(h, "sub/index.html", "i\n");
    pth_write_filef(h, "sub/other.html", "o\n");
    pth_write_filef(h, "top.txt", "t\n");
    char *body = at_docroot(if_order_conf);
    with_both(body, compare_order);
    free(body);
}
END_TEST

/* When each environment rule runs, as Apache: server-level SetEnvIf as the request is read
 * (post_read_request), so <If> and server-level RewriteConds see it; per-directory SetEnvIf
 * after the <If> sections merge (header_parser); per-directory RewriteRules first in the
 * fixups, then SetEnv (mod_env's fixup, after the access checks: "Require env" and
 * RewriteCond %{ENV:} do not see it, and it wins over a SetEnvIf of the same name), then
 * RequestHeader (mod_headers' fixup, last). */
static const char env_phase_conf[] =
    "SetEnvIf Request_URI ^/srv/ SRV_VAR=1\n"
    "<If \"reqenv('SRV_VAR') == '1'\">\n  Header always set X-If-Srv yes\n</If>\n"
    "<Directory \"@DOCROOT@/pd\">\n  SetEnvIf Request_URI . DIR_VAR=1\n</Directory>\n"
    "<If \"reqenv('DIR_VAR') == '1'\">\n  Header always set X-If-Dir yes\n</If>\n"
    "Header always set X-Dir-Var \"%{DIR_VAR}e\"\n"
    "RewriteEngine On\n"
    "RewriteCond %{ENV:SRV_VAR} =1\n"
    "RewriteRule ^/srv/go$ /srv/a.txt [R=302,L]\n"
    "SetEnv SE_VAR 1\n"
    "<Location /se/>\n  Require env SE_VAR\n</Location>\n"
    "SetEnv ORDER setenv\n"
    "SetEnv LIT $1\n"
    "Header always set X-Lit \"%{LIT}e\"\n"
    "SetEnvIf Request_URI ^/order ORDER=setenvif\n"
    "Header always set X-Order \"%{ORDER}e\"\n"
    "RequestHeader set X-RH injected\n"
    "Header always set X-RH-Seen yes \"expr=%{HTTP:X-RH} == 'injected'\"\n"
    "<Directory \"@DOCROOT@/rh\">\n  RewriteEngine On\n  RewriteCond %{HTTP:X-RH} =injected\n"
    "  RewriteRule ^ - [F]\n</Directory>\n"
    "<Directory \"@DOCROOT@/pse\">\n  RewriteEngine On\n  RewriteCond %{ENV:SE_VAR} =1\n"
    "  RewriteRule ^ - [F]\n</Directory>\n";

/* A Location's URL with its port left out: each server answers with its own. */
static const char *without_port(char *buf, size_t len, const char *loc)
{
    const char *host = loc ? strstr(loc, "://") : NULL;
    const char *colon = host ? strchr(host + 3, ':') : NULL;
    const char *slash = host ? strchr(host + 3, '/') : NULL;
    if (!colon || (slash && slash < colon))
        return loc;
    snprintf(buf, len, "%.*s%s", (int)(colon - loc), loc, slash ? slash : "");
    return buf;
}

/* Asks both servers each path: the statuses agree, and each field (Location without its
 * port) is absent from both or the same in both. */
static void agree_on(int ours_port, int theirs_port, const char *const *paths, size_t npaths,
                     const char *const *fields, size_t nfields)
{
    for (size_t i = 0; i < npaths; i++) {
        pth_resp_t ours, theirs;
        ask(ours_port, paths[i], "www.example.com", &ours);
        ask(theirs_port, paths[i], "www.example.com", &theirs);
        ck_assert_msg(ours.status == theirs.status, "%s: portico %d, apache2 %d", paths[i],
                      ours.status, theirs.status);
        for (size_t k = 0; k < nfields; k++) {
            char ba[512], bb[512];
            const char *a = without_port(ba, sizeof(ba), pth_resp_header(&ours, fields[k]));
            const char *b = without_port(bb, sizeof(bb), pth_resp_header(&theirs, fields[k]));
            ck_assert_msg((!a && !b) || (a && b && strcmp(a, b) == 0),
                          "%s %s: portico '%s', apache2 '%s'", paths[i], fields[k],
                          a ? a : "(none)", b ? b : "(none)");
        }
        pth_resp_free(&ours);
        pth_resp_free(&theirs);
    }
}

#define AGREE_ON(paths, fields)                                                                    \
    agree_on(ours_port, theirs_port, paths, sizeof(paths) / sizeof(*paths), fields,                \
             sizeof(fields) / sizeof(*fields))

static void compare_env_phases(int ours_port, int theirs_port)
{
    static const char *const paths[] = {"/srv/a.txt", "/srv/go",   "/pd/a.txt", "/se/a.txt",
                                        "/order.txt", "/rh/a.txt", "/pse/a.txt"};
    static const char *const fields[] = {"X-If-Srv", "X-If-Dir",  "X-Dir-Var", "X-Order",
                                         "X-Lit",    "X-RH-Seen", "Location"};
    AGREE_ON(paths, fields);
}

START_TEST(apache_runs_the_environment_rules_in_the_same_phases)
{
    static const char *const dirs[] = {"srv", "pd", "se", "rh", "pse"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
        char rel[32];
        snprintf(rel, sizeof(rel), "%s/a.txt", dirs[i]);
        pth_write_filef(h, rel, "a\n");
    }
    pth_write_filef(h, "order.txt", "o\n");
    pth_expect_error(h, "AH01630: client denied by server configuration: .*/se/a\\.txt");
    char *body = at_docroot(env_phase_conf);
    with_both_and("LoadModule setenvif_module " DT_APACHE_MODULES "/mod_setenvif.so\n"
                  "LoadModule env_module " DT_APACHE_MODULES "/mod_env.so\n"
                  "LoadModule rewrite_module " DT_APACHE_MODULES "/mod_rewrite.so\n",
                  body, compare_env_phases);
    free(body);
}
END_TEST

/* mod_alias checks the innermost section's Redirects first (its merge puts the inner
 * section's list before the outer's), and a section's one-argument Redirect is its last one
 * (differential seed 22772: a <FilesMatch>'s RedirectMatch before a <Directory>'s Redirect). */
static const char redirect_order_conf[] = "<Directory \"@DOCROOT@\">\n"
                                          "  Redirect /sub http://example.com/outer\n"
                                          "  Redirect /a.txt http://example.com/dir-a\n"
                                          "</Directory>\n"
                                          "<Directory \"@DOCROOT@/sub\">\n"
                                          "  Redirect /sub/page.html http://example.com/inner\n"
                                          "</Directory>\n"
                                          "<FilesMatch \"^(a|b)\\.\">\n"
                                          "  RedirectMatch \"\\.txt$\" http://example.com/files\n"
                                          "</FilesMatch>\n"
                                          "<Location /whole>\n"
                                          "  Redirect http://example.com/first\n"
                                          "  Redirect http://example.com/second\n"
                                          "</Location>\n"
                                          "<Location /whole/in>\n"
                                          "  Redirect http://example.com/in-first\n"
                                          "</Location>\n";

static void compare_redirects(int ours_port, int theirs_port)
{
    static const char *const paths[] = {"/sub/page.html", "/sub/other.html", "/a.txt", "/whole/x",
                                        "/whole/in/y"};
    static const char *const fields[] = {"Location"};
    AGREE_ON(paths, fields);
}

START_TEST(apache_checks_the_innermost_sections_redirects_first)
{
    pth_write_filef(h, "sub/page.html", "p\n");
    pth_write_filef(h, "sub/other.html", "o\n");
    pth_write_filef(h, "a.txt", "a\n");
    char *body = at_docroot(redirect_order_conf);
    with_both(body, compare_redirects);
    free(body);
}
END_TEST

/* mod_dir moves to a FallbackResource after a subrequest: when the subrequest's phases answer
 * (a Redirect, gone, a refusal), the request answers with that status and its own config,
 * as apache2 does (differential seed 22932: the <Directory>'s Header always on a 410). */
static const char fallback_conf[] =
    "<Directory \"@DOCROOT@\">\n"
    "  FallbackResource /fb/page.html\n"
    "  Header always set X-Orig yes\n"
    "</Directory>\n"
    "<Directory \"@DOCROOT@/gone\">\n  FallbackResource /fb/gone.html\n</Directory>\n"
    "<Directory \"@DOCROOT@/moved\">\n  FallbackResource /fb/moved.html\n</Directory>\n"
    "<Directory \"@DOCROOT@/denied\">\n  FallbackResource /fb/denied.html\n</Directory>\n"
    "<Location /fb/gone.html>\n  Redirect 410\n</Location>\n"
    "<Location /fb/moved.html>\n  Redirect http://example.com/moved\n</Location>\n"
    "<Location /fb/denied.html>\n  Require all denied\n</Location>\n"
    "<Location /fb/page.html>\n  Header always set X-Fb yes\n</Location>\n";

static void compare_fallbacks(int ours_port, int theirs_port)
{
    static const char *const paths[] = {"/nothere.txt", "/gone/x.txt", "/moved/x.txt",
                                        "/denied/x.txt"};
    static const char *const fields[] = {"X-Orig", "X-Fb", "Location"};
    AGREE_ON(paths, fields);
}

START_TEST(apache_answers_a_fallback_its_phases_refuse_with_the_requests_config)
{
    static const char *const files[] = {"fb/page.html",   "fb/gone.html", "fb/moved.html",
                                        "fb/denied.html", "gone/.keep",   "moved/.keep",
                                        "denied/.keep"};
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
        pth_write_filef(h, files[i], "f\n");
    pth_expect_error(h, "AH01630: client denied by server configuration: .*/fb/denied\\.html");
    char *body = at_docroot(fallback_conf);
    with_both(body, compare_fallbacks);
    free(body);
}
END_TEST

/* The ErrorDocument for a refused fallback is checked against the request's own sections,
 * as Apache's internal redirect compares the document's merge with the request's, not the
 * subrequest's (differential seed 25015: a 403 document denied like the fallback beside it,
 * and not like the request, was served). */
static const char fallback_errdoc_conf[] =
    "<Directory \"@DOCROOT@\">\n  Require all denied\n</Directory>\n"
    "<Directory \"@DOCROOT@/sub\">\n  Require all granted\n</Directory>\n"
    "ErrorDocument 403 /errors/403.html\n"
    "FallbackResource /index.html\n";

static void compare_fallback_errdoc(int ours_port, int theirs_port)
{
    static const char *const paths[] = {"/sub/nothere.txt", "/sub/none/s.txt", "/index.html"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
        pth_resp_t ours, theirs;
        ask(ours_port, paths[i], "www.example.com", &ours);
        ask(theirs_port, paths[i], "www.example.com", &theirs);
        bool ours_doc = ours.body && strstr(ours.body, "ERRDOC");
        bool theirs_doc = theirs.body && strstr(theirs.body, "ERRDOC");
        ck_assert_msg(ours.status == theirs.status && ours_doc == theirs_doc,
                      "%s: portico %d%s, apache2 %d%s", paths[i], ours.status,
                      ours_doc ? " (the document)" : "", theirs.status,
                      theirs_doc ? " (the document)" : "");
        pth_resp_free(&ours);
        pth_resp_free(&theirs);
    }
}

START_TEST(apache_checks_a_refused_fallbacks_errordocument_against_the_request)
{
    pth_write_filef(h, "index.html", "index\n");
    pth_write_filef(h, "errors/403.html", "ERRDOC\n");
    pth_write_filef(h, "sub/.keep", "k\n");
    pth_expect_error(h, "AH01630: client denied by server configuration: .*");
    char *body = at_docroot(fallback_errdoc_conf);
    with_both(body, compare_fallback_errdoc);
    free(body);
}
END_TEST

/* mod_headers' RequestHeader rules are a fixup: an internal redirect (an ErrorDocument, a
 * rewrite's local result) runs them again for the new URL on the same header fields (an
 * append twice), and mod_dir's move (FallbackResource, DirectoryIndex) runs those of the file
 * it moves to instead of the request's, since its fixup comes before mod_headers'. */
static const char request_header_conf[] =
    "RequestHeader append X-A v\n"
    "<Location /errors>\n  RequestHeader append X-B err\n</Location>\n"
    "<Location /a.txt>\n  RequestHeader append X-B atxt\n</Location>\n"
    "<Directory \"@DOCROOT@/rw\">\n  RewriteEngine On\n  RewriteRule ^x$ /a.txt [L]\n"
    "</Directory>\n"
    "<Directory \"@DOCROOT@/fb\">\n  FallbackResource /a.txt\n  DirectoryIndex /a.txt\n"
    "  RequestHeader append X-C fbdir\n</Directory>\n"
    "ErrorDocument 404 /errors/404.html\n"
    "Header always set X-Seen-A \"expr=%{req:X-A}\"\n"
    "Header always set X-Seen-B \"expr=%{req:X-B}\"\n"
    "Header always set X-Seen-C \"expr=%{req:X-C}\"\n";

static void compare_request_headers(int ours_port, int theirs_port)
{
    static const char *const paths[] = {"/nothere", "/rw/x", "/a.txt",
                                        "/fb/zz",   "/fb/",  "/fb/page.html"};
    static const char *const fields[] = {"X-Seen-A", "X-Seen-B", "X-Seen-C"};
    AGREE_ON(paths, fields);
}

START_TEST(apache_runs_request_header_rules_again_for_the_new_url)
{
    pth_write_filef(h, "a.txt", "a\n");
    pth_write_filef(h, "errors/404.html", "nf\n");
    pth_write_filef(h, "rw/.keep", "k\n");
    pth_write_filef(h, "fb/page.html", "p\n");
    char *body = at_docroot(request_header_conf);
    with_both_and("LoadModule rewrite_module " DT_APACHE_MODULES "/mod_rewrite.so\n", body,
                  compare_request_headers);
    free(body);
}
END_TEST

/* mod_headers' early rules run as the request is read, from the server's own config: a
 * server-level RewriteCond sees an early RequestHeader and not a late one, an answer from
 * the URL translation comes before the late rules ran, and a section's early rule never
 * runs. */
static const char early_conf[] =
    "RequestHeader set X-Early yes early\n"
    "RequestHeader set X-Late yes\n"
    "Header always set X-Saw-Early \"expr=%{HTTP:X-Early}\"\n"
    "Header always set X-Saw-Late \"expr=%{HTTP:X-Late}\"\n"
    "Header always set X-Saw-Dir \"expr=%{HTTP:X-Dir-Early}\"\n"
    "Header always set X-Set-Early yes early\n"
    "<Directory \"@DOCROOT@\">\n  RequestHeader set X-Dir-Early yes early\n</Directory>\n"
    "RewriteEngine On\n"
    "RewriteCond %{HTTP:X-Early} =yes\n"
    "RewriteRule ^/e\\.txt$ /a.txt [R=302,L]\n"
    "RewriteCond %{HTTP:X-Late} =yes\n"
    "RewriteRule ^/l\\.txt$ /a.txt [R=302,L]\n";

static void compare_early(int ours_port, int theirs_port)
{
    static const char *const paths[] = {"/a.txt", "/e.txt", "/l.txt"};
    static const char *const fields[] = {"X-Saw-Early", "X-Saw-Late", "X-Saw-Dir", "X-Set-Early",
                                         "Location"};
    AGREE_ON(paths, fields);
}

START_TEST(apache_runs_early_header_rules_as_the_request_is_read)
{
    pth_write_filef(h, "a.txt", "a\n");
    char *body = at_docroot(early_conf);
    with_both_and("LoadModule rewrite_module " DT_APACHE_MODULES "/mod_rewrite.so\n", body,
                  compare_early);
    free(body);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("expr");
    TCase *php = tcase_create("php-fpm");
    tcase_add_unchecked_fixture(php, fpm_up, fpm_down);
    tcase_add_checked_fixture(php, setup, teardown);
    tcase_set_timeout(php, 60);
    tcase_add_test(php, php_runs_only_for_files_that_exist_under_if_f);
    tcase_add_test(php, if_e_on_the_php_fpm_socket_chooses_the_handler);
    tcase_add_test(php, setenvifexpr_and_proxy_fcgi_setenvif_reach_php);
    suite_add_tcase(s, php);
    TCase *tc = tcase_create("static");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_query_string_regex_if_sets_a_header_on_static_files);
    tcase_add_test(tc, elseif_else_and_nested_if_choose_by_host);
    tcase_add_test(tc, header_expr_conditions_and_values);
    tcase_add_test(tc, require_expr_guards_a_location);
    tcase_add_test(tc, htaccess_if_sections_apply_and_name_handlers_safely);
    tcase_add_test(tc, bad_if_sections_fail_the_config_check_with_file_and_line);
    tcase_add_test(tc, apache_agrees_on_the_expression_table);
    tcase_add_test(tc, apache_merges_if_sections_in_the_same_order);
    tcase_add_test(tc, apache_runs_the_environment_rules_in_the_same_phases);
    tcase_add_test(tc, apache_checks_the_innermost_sections_redirects_first);
    tcase_add_test(tc, apache_answers_a_fallback_its_phases_refuse_with_the_requests_config);
    tcase_add_test(tc, apache_checks_a_refused_fallbacks_errordocument_against_the_request);
    tcase_add_test(tc, apache_runs_early_header_rules_as_the_request_is_read);
    tcase_add_test(tc, apache_runs_request_header_rules_again_for_the_new_url);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!pth_fpm_available()) {
        fprintf(stderr, "php-fpm8.2 is not installed (scripts/setup installs it): the "
                        "expression suite cannot run\n");
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
