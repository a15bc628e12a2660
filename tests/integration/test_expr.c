/* <If>/<ElseIf>/<Else> and the directives that take an Apache expression, with the real
 * binary and a real php-fpm: the php-fpm guard of Debian's config ("-f %{REQUEST_FILENAME}"
 * around SetHandler), the "-e" socket test, a query-string regex, Header expr=, Require
 * expr, SetEnvIfExpr and ProxyFCGISetEnvIf reaching PHP, and config errors with file:line.
 * The evaluator is compared with Debian's apache2 2.4 on one table of expressions, both
 * servers answering the same request (apache_agrees_on_the_expression_table), and so is the
 * order <If> sections merge in (test_apache_phases compares the phases around them). */
#include "apache_pair.h"
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
    dt_pair_ask(port, path, host, r);
}

static void with_both(const char *body, void (*check)(int ours, int theirs))
{
    dt_pair_run(h, "", body, check);
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
    with_both(if_order_conf, compare_order);
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
