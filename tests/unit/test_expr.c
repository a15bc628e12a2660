/* Unit tests for the ap_expr parser (conf/expr_parse.c) and evaluator (expr.c, expr_vars.c):
 * table-driven, from the examples of Apache's expr.html and the expressions real configs
 * use, checked against Debian's apache2 2.4 where the documentation is silent. */
#include "expr.h"
#include "dirconf_walk.h"

#include "access.h"
#include "conn.h"
#include "request.h"
#include "setenvif.h"
#include "startup.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static pt_arena_t *arena;
static pt_request_t req;
static pt_conn_t conn;
static pt_vhost_t vhost;
static pt_config_t cfg;
static char dir[64];
static char err[PT_ERRLEN];

static void setup(void)
{
    arena = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    memset(&req, 0, sizeof req);
    memset(&conn, 0, sizeof conn);
    memset(&vhost, 0, sizeof vhost);
    memset(&cfg, 0, sizeof cfg);
    strcpy(conn.peer_ip, "192.168.1.20");
    conn.peer_port = 40000;
    strcpy(conn.local_ip, "127.0.0.1");
    conn.local_port = 8080;
    vhost.server_name = "www.example.com";
    vhost.document_root = "/srv/www";
    req.arena = arena;
    pt_expr_set_lookup(&pt_expr_request_lookup); /* as pt_startup_register */
    req.conn = &conn;
    req.vhost = &vhost;
    req.cfg = &cfg;
    req.method = "GET";
    req.scheme = "http";
    req.protocol = "HTTP/1.1";
    req.proto_num = 1001;
    req.uri = "/special_path.php";
    req.args = "a=1&v=2";
    req.hostname = "example.com";
    req.the_request = "GET /special_path.php?a=1&v=2 HTTP/1.1";
    req.status = 200;
    pt_table_init(&req.headers_in, arena, 4);
    pt_table_init(&req.headers_out, arena, 4);
    pt_table_init(&req.err_headers_out, arena, 4);
    pt_table_init(&req.env, arena, 4);
    pt_table_set(&req.headers_in, "Host", "example.com");
    pt_table_set(&req.headers_in, "X-example-header", "bar");
    pt_table_set(&req.headers_in, "Accept-Encoding", "br, deflate");
    pt_table_set(&req.headers_in, "User-Agent", "curl/8.0");
    pt_table_set(&req.headers_out, "Content-Type", "text/html");
    pt_table_set(&req.env, "REDIRECT_FOO", "foobar");
    pt_table_set(&req.env, "ONLY_REQ", "r");
    strcpy(dir, "/tmp/test_expr.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char p[128];
    snprintf(p, sizeof p, "%s/file.txt", dir);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs("hello\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/empty", dir);
    fclose(fopen(p, "w"));
    char t[128];
    snprintf(p, sizeof p, "%s/link", dir);
    snprintf(t, sizeof t, "%s/file.txt", dir);
    ck_assert_int_eq(symlink(t, p), 0);
    req.filename = pt_arena_printf(arena, "%s/file.txt", dir);
    err[0] = '\0';
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    pt_arena_destroy(arena);
}

/* "@" in an expression or a config stands for the scratch directory. */
static const char *with_dir(const char *src)
{
    pt_strbuf_t b = {.a = arena};
    for (const char *p = src; *p; p++) {
        if (*p == '@')
            pt_strbuf_printf(&b, "%s", dir);
        else
            pt_strbuf_printf(&b, "%c", *p);
    }
    return b.p ? b.p : "";
}

static int eval(const char *src)
{
    pt_expr_t *e = pt_expr_parse(arena, with_dir(src), 0, err, sizeof err);
    ck_assert_msg(e != NULL, "%s: %s", src, err);
    const char *why = NULL;
    int v = pt_expr_eval(&req, e, NULL, &why);
    pt_expr_free(e);
    return v;
}

static const char *eval_str(const char *src)
{
    pt_expr_t *e = pt_expr_parse(arena, with_dir(src), PT_EXPR_STRING, err, sizeof err);
    ck_assert_msg(e != NULL, "%s: %s", src, err);
    const char *why = NULL;
    const char *s = pt_expr_eval_string(&req, e, NULL, &why);
    pt_expr_free(e);
    ck_assert_msg(s != NULL, "%s: %s", src, why);
    return s;
}

static const struct {
    const char *expr;
    int want;
} conditions[] = {
    /* expr.html, "Example expressions" */
    {"%{HTTP_HOST} == 'example.com'", 1},
    {"%{HTTP_HOST} == 'www.example.com'", 0},
    {"%{QUERY_STRING} =~ /forcetext/", 0},
    {"%{HTTP:X-example-header} in { 'foo', 'bar', 'baz' }", 1},
    {"%{HTTP:X-example-header} in { 'foo', 'baz' }", 0},
    {"! reqenv('REDIRECT_FOO') =~ /bar/", 0},
    {"! reqenv('REDIRECT_FOO') =~ /baz/", 1},
    {"-f '%{REQUEST_FILENAME}.unzipme' && ! %{HTTP:Accept-Encoding} =~ /gzip/", 0},
    {"-f '%{REQUEST_FILENAME}' && ! %{HTTP:Accept-Encoding} =~ /gzip/", 1},
    {"-R '192.168.1.0/24'", 1},
    {"-R '10.0.0.0/8'", 0},
    {"md5('foo') == 'acbd18db4cc2f85cedef654fccc4a4d8'", 1},
    {"%{REQUEST_URI} =~ m#^/special_path\\.php$#", 1},
    {"%{REQUEST_URI} =~ m#^/special_path\\.PHP$#", 0},
    {"%{REQUEST_URI} =~ m#^/special_path\\.PHP$#i", 1},
    {"%{TIME_HOUR} -ge 0 && %{TIME_HOUR} -lt 24", 1},
    /* seen in the wild (issue 11) */
    {"%{QUERY_STRING} =~ /(^|&)v=/", 1},
    {"%{QUERY_STRING} =~ /(^|&)w=/", 0},
    {"-f %{REQUEST_FILENAME}", 1},
    {"-e '@/file.txt'", 1},
    {"-e '@/missing'", 0},
    /* file tests */
    {"-d '@'", 1},
    {"-d '@/file.txt'", 0},
    {"-s '@/file.txt'", 1},
    {"-s '@/empty'", 0},
    {"-f '@/empty'", 1},
    {"-L '@/link'", 1},
    {"-h '@/file.txt'", 0},
    {"-f '@/link'", 1},
    /* string tests */
    {"-n %{QUERY_STRING}", 1},
    {"-z %{PATH_INFO}", 1},
    {"-z ''", 1},
    {"-T 'off'", 0}, {"-T 'No'", 0}, {"-T '0'", 0}, {"-T ''", 0}, {"-T 'yes'", 1},
    /* comparisons */
    {"'a' == 'a'", 1}, {"'a' = 'a'", 1}, {"'a' != 'b'", 1}, {"'a' < 'b'", 1},
    {"'b' <= 'a'", 0}, {"'b' > 'a'", 1}, {"'a' >= 'a'", 1},
    {"1 -eq 01", 1}, {"10 -gt 9", 1}, {"'10' > '9'", 0}, {"2 lt 3", 1}, {"3 -le 2", 0},
    {"4 ne 4", 0}, {"5 ge 5", 1},
    {"'10.1.2.3' -ipmatch '10.0.0.0/8'", 1}, {"'10.1.2.3' -ipmatch '10.2'", 0},
    {"'::1' -ipmatch '::1/128'", 1},
    {"'a.txt' -strmatch '*.txt'", 1}, {"'a.txt' -strmatch '*.TXT'", 0},
    {"'a.txt' -strcmatch '*.TXT'", 1},
    {"'/a/b' -fnmatch '/*'", 0}, {"'/a/b' -fnmatch '/*/*'", 1}, {"'/a/b' -strmatch '/*'", 1},
    /* logic and precedence: ! binds tighter than &&, && tighter than || */
    {"true", 1}, {"false", 0}, {"!true", 0}, {"!!true", 1},
    {"true || false && false", 1}, {"(true || false) && false", 0},
    {"!false && false", 0}, {"! (false && true)", 1},
    /* words */
    {"'a' . 'b' == 'ab'", 1}, {"%{REQUEST_METHOD} . '-' . %{HTTPS} == 'GET-off'", 1},
    {"tolower('ABC') == 'abc'", 1}, {"toupper(%{REQUEST_METHOD}) == 'GET'", 1},
    {"req('host') == 'example.com'", 1}, {"http('X-None') == ''", 1},
    {"resp('Content-Type') == 'text/html'", 1},
    {"env('ONLY_REQ') == 'r'", 1}, {"osenv('ONLY_REQ') == ''", 1},
    {"\"%{REMOTE_ADDR}:%{REMOTE_PORT}\" == '192.168.1.20:40000'", 1},
    /* back-references: the last =~ with groups */
    {"%{QUERY_STRING} =~ /v=(\\d+)/ && $1 == '2'", 1},
    {"%{QUERY_STRING} =~ /v=(\\d+)/ && '$1$0' == '2v=2'", 1},
    {"%{QUERY_STRING} =~ /(a)=1/ && %{QUERY_STRING} =~ /nomatch(x)/ || $1 == 'a'", 1},
};

START_TEST(evaluates_the_documented_conditions)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(conditions); i++)
        ck_assert_msg(eval(conditions[i].expr) == conditions[i].want, "%s: want %d",
                      conditions[i].expr, conditions[i].want);
}
END_TEST

static const struct {
    const char *expr;
    const char *want;
} strings[] = {
    {"%{md5:foo}", "acbd18db4cc2f85cedef654fccc4a4d8"},
    {"%{sha1:a}", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"},
    {"%{base64:hi}", "aGk="},
    {"%{unbase64:aGk=}", "hi"},
    {"%{escape:a b/c?}", "a%20b/c%3f"},
    {"%{unescape:a%20b%2f}", "a b%2f"},
    {"%{unescape:a%00b}", ""},
    {"%{tolower:ABC}", "abc"},
    {"%{HTTP:Host}", "example.com"},
    {"a\\tb%{REQUEST_URI}\\x", "a\tb/special_path.phpx"},
    {"100% %{REQUEST_METHOD} $5", "100% GET "},
    {"%{SERVER_NAME}:%{SERVER_PORT}", "example.com:8080"},
    {"%{REQUEST_SCHEME}://%{HTTP_HOST}%{REQUEST_URI}?%{QUERY_STRING}",
     "http://example.com/special_path.php?a=1&v=2"},
    {"%{THE_REQUEST}", "GET /special_path.php?a=1&v=2 HTTP/1.1"},
    {"%{HTTP2}/%{IPV6}/%{IS_SUBREQ}", "off/off/false"},
    {"%{filesize:@/file.txt}", "6"},
    {"%{file:@/file.txt}", "hello\n"},
    {"", ""},
};

START_TEST(evaluates_string_expressions)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(strings); i++)
        ck_assert_str_eq(eval_str(strings[i].expr), strings[i].want);
}
END_TEST

START_TEST(a_condition_as_a_string_is_true_or_false)
{
    pt_expr_t *e = pt_expr_parse(arena, "1 -lt 2", 0, err, sizeof err);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(pt_expr_eval_string(&req, e, NULL, NULL), "true");
}
END_TEST

START_TEST(captures_come_out_for_the_caller)
{
    pt_expr_t *e = pt_expr_parse(arena, "%{HTTP_USER_AGENT} =~ m#curl/(\\d+)#", 0, err,
                                 sizeof err);
    ck_assert_ptr_nonnull(e);
    pt_expr_caps_t caps = {0};
    ck_assert_int_eq(pt_expr_eval(&req, e, &caps, NULL), 1);
    ck_assert_ptr_nonnull(caps.subject);
    ck_assert_int_eq(caps.m[1].rm_eo - caps.m[1].rm_so, 1);
    ck_assert_int_eq(caps.subject[caps.m[1].rm_so], '8');
    pt_expr_free(e);
}
END_TEST

START_TEST(captures_passed_in_are_seen_as_dollar_n)
{
    pt_expr_t *e = pt_expr_parse(arena, "$1 == 'xy'", 0, err, sizeof err);
    ck_assert_ptr_nonnull(e);
    pt_expr_caps_t caps = {.subject = "axyb"};
    for (int i = 0; i < PT_REG_MAXSUB; i++)
        caps.m[i].rm_so = caps.m[i].rm_eo = -1;
    caps.m[1].rm_so = 1;
    caps.m[1].rm_eo = 3;
    ck_assert_int_eq(pt_expr_eval(&req, e, &caps, NULL), 1);
    pt_expr_free(e);
}
END_TEST

START_TEST(file_of_a_missing_file_is_an_error)
{
    pt_expr_t *e = pt_expr_parse(arena, "file('/nonexistent/x') == ''", 0, err, sizeof err);
    ck_assert_ptr_nonnull(e);
    const char *why = NULL;
    ck_assert_int_eq(pt_expr_eval(&req, e, NULL, &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "/nonexistent/x"));
}
END_TEST

static const struct {
    const char *expr;
    const char *msg; /* a part of the message */
} bad[] = {
    {"%{FOO} == 'x'", "Variable 'FOO' does not exist"},
    {"foo('a') == 'x'", "Function 'foo' does not exist"},
    {"%{nosuch:x} == ''", "Function 'nosuch' does not exist"},
    {"'a' == ", "expected a word"},
    {"'a' == 'b", "unterminated string"},
    {"'a'", "expected an operator"},
    {"a == 'b'", "unexpected word 'a'"},
    {"'a' =~ 'b'", "expected a regular expression"},
    {"'a' =~ /b", "unterminated regular expression"},
    {"'a' =~ /(/", "bad regular expression"},
    {"'a/b' =~ /a\\/b/", "bad regular expression 'a\\'"}, /* apache2: no escaped '/' */
    {"'a' =~ /b/x", "unknown regular expression flag"},
    {"-q 'x'", "unknown unary operator '-q'"},
    {"-F 'x'", "not supported"},
    {"'a' -foo 'b'", "unknown binary operator '-foo'"},
    {"('a' == 'a'", "expected ')'"},
    {"'a' == 'a' 'b'", "unexpected text after the expression"},
    {"'a' in { 'b' ", "expected ',' or '}'"},
    {"", "empty expression"},
    {"%{HTTP_HOST", "expected '}' or ':'"},
    {"%{md5:} == ''", "'%{md5:}' has no argument"},
};

START_TEST(refuses_bad_expressions_with_a_reason)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(bad); i++) {
        err[0] = '\0';
        ck_assert_msg(pt_expr_parse(arena, bad[i].expr, 0, err, sizeof err) == NULL,
                      "%s parsed", bad[i].expr);
        ck_assert_msg(strstr(err, bad[i].msg) != NULL, "%s: '%s' lacks '%s'", bad[i].expr,
                      err, bad[i].msg);
    }
}
END_TEST

START_TEST(bounds_the_nesting_depth)
{
    char src[1024];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        src[n++] = '(';
    strcpy(src + n, "true");
    ck_assert_ptr_null(pt_expr_parse(arena, src, 0, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "nested deeper"));
    char *many = pt_arena_alloc(arena, 3 * 200 + 8);
    strcpy(many, "!");
    for (int i = 0; i < 200; i++)
        strcat(many, "!");
    strcat(many, "true");
    ck_assert_ptr_null(pt_expr_parse(arena, many, 0, err, sizeof err));
}
END_TEST

START_TEST(a_long_string_of_many_parts_evaluates_without_deep_recursion)
{
    pt_strbuf_t b = {.a = arena};
    for (int i = 0; i < 450; i++)
        pt_strbuf_printf(&b, "x%%{REQUEST_METHOD}");
    const char *s = eval_str(b.p);
    ck_assert_uint_eq(strlen(s), 450 * 4);
    ck_assert_int_eq(strncmp(s, "xGETxGET", 8), 0);
}
END_TEST

START_TEST(names_are_case_insensitive_as_in_apache)
{
    ck_assert_int_eq(eval("%{http_host} == 'example.com'"), 1);
    ck_assert_int_eq(eval("TOLOWER('A') == 'a'"), 1);
    ck_assert_str_eq(eval_str("%{ENV:ONLY_REQ}"), "r");
}
END_TEST

START_TEST(https_and_http2_follow_the_request)
{
    req.scheme = "https";
    req.proto_num = 2000;
    strcpy(conn.peer_ip, "2001:db8::1");
    ck_assert_str_eq(eval_str("%{HTTPS} %{HTTP2} %{IPV6}"), "on on on");
    ck_assert_int_eq(eval("-R '2001:db8::/32'"), 1);
}
END_TEST


/* apache2 2.4 (checked with Require expr): the logic also spelt and, or, not. */
START_TEST(and_or_not_are_words_for_the_logic_operators)
{
    ck_assert_int_eq(eval("true and false"), 0);
    ck_assert_int_eq(eval("false or true"), 1);
    ck_assert_int_eq(eval("not false and 'x' =~ m#x#"), 1);
    ck_assert_int_eq(eval("not (true or false)"), 0);
    ck_assert_int_eq(eval("'a' == 'a' and 'b' in {'a', 'b'} or false"), 1);
}
END_TEST

/* mod_ssl's variables: any %{SSL_...} name parses (its lookup takes them all) and is ""
 * without TLS; other unknown names stay errors. */
START_TEST(ssl_variables_parse_and_are_empty_without_tls)
{
    ck_assert_int_eq(eval("%{SSL_CLIENT_S_DN_CN} == ''"), 1);
    ck_assert_str_eq(eval_str("[%{SSL_PROTOCOL}]"), "[]");
    ck_assert_ptr_null(pt_expr_parse(arena, "%{SSLX} == ''", 0, err, sizeof err));
    ck_assert_ptr_null(pt_expr_parse(arena, "%{SSL_} == ''", 0, err, sizeof err));
}
END_TEST

/* ---- <If>, <ElseIf>, <Else> in a loaded configuration ------------------------------------ */

static pt_config_t *if_cfg;

static pt_config_t *load_conf(const char *text, bool ok)
{
    char p[128];
    snprintf(p, sizeof p, "%s/main.conf", dir);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(with_dir(text), f);
    fputs("Listen 127.0.0.1:65000\n", f); /* last: the tests' line numbers stay theirs */
    fclose(f);
    pt_parse_opts_t o = {.server_root = dir};
    pt_startup_register();
    err[0] = '\0';
    pt_config_t *c = pt_config_load(p, &o, err, sizeof err);
    ck_assert_msg((c != NULL) == ok, "%s", err);
    return c;
}

static void if_teardown(void)
{
    if (if_cfg)
        pt_config_free(if_cfg);
    if_cfg = NULL;
    teardown();
}

/* The merged "Header append X-Order v" values for the request as set up, joined by ','. */
static const char *order_for(const char *filename, const char *uri)
{
    req.vhost = if_cfg->main_server;
    req.cfg = if_cfg;
    req.filename = filename ? pt_arena_printf(arena, "%s/%s", dir, filename) : NULL;
    req.uri = uri;
    pt_walk_result_t wr = {0};
    req.dir = pt_config_dir_for_walk(arena, req.vhost, req.filename, req.filename, true,
                                     req.uri, &wr);
    req.sections = wr.sections;
    pt_expr_if_walk(&req);
    pt_strbuf_t b = {.a = arena};
    for (size_t i = 0; i < req.dir->nheaders; i++)
        pt_strbuf_printf(&b, "%s%s", i ? "," : "", req.dir->headers[i].value);
    return b.p ? b.p : "";
}

/* apache2 2.4 answers "srv, dir, files, loc, srv-if, dir-if, files-if, loc-elseif,
 * srv-if-nested" for /index.html with this configuration. */
static const char apache_order_conf[] =
    "DocumentRoot @\n"
    "<If \"true\">\n"
    "  Header append X-Order srv-if\n"
    "  <If \"true\">\n"
    "    Header append X-Order srv-if-nested\n"
    "  </If>\n"
    "</If>\n"
    "Header append X-Order srv\n"
    "<Location />\n"
    "  <If \"false\">\n"
    "    Header append X-Order loc-if\n"
    "  </If>\n"
    "  <ElseIf \"true\">\n"
    "    Header append X-Order loc-elseif\n"
    "  </ElseIf>\n"
    "  <Else>\n"
    "    Header append X-Order loc-else\n"
    "  </Else>\n"
    "  Header append X-Order loc\n"
    "</Location>\n"
    "<Directory @>\n"
    "  <If \"%{REQUEST_FILENAME} =~ /index/\">\n"
    "    Header append X-Order dir-if\n"
    "  </If>\n"
    "  <Else>\n"
    "    Header append X-Order dir-else\n"
    "  </Else>\n"
    "  Header append X-Order dir\n"
    "</Directory>\n"
    "<Files index.html>\n"
    "  <If \"true\">\n"
    "    Header append X-Order files-if\n"
    "  </If>\n"
    "  Header append X-Order files\n"
    "</Files>\n";

START_TEST(if_sections_merge_after_every_other_section_in_apaches_order)
{
    if_cfg = load_conf(apache_order_conf, true);
    ck_assert_str_eq(order_for("index.html", "/index.html"),
                     "srv,dir,files,loc,srv-if,dir-if,files-if,loc-elseif,srv-if-nested");
    ck_assert_str_eq(order_for("other.html", "/other.html"),
                     "srv,dir,loc,srv-if,dir-else,loc-elseif,srv-if-nested");
}
END_TEST

static const char chain_conf[] =
    "<If \"%{HTTP_HOST} == 'a.example'\">\n"
    "  Header append X-Order a\n"
    "</If>\n"
    "<ElseIf \"%{HTTP_HOST} == 'b.example'\">\n"
    "  Header append X-Order b\n"
    "</ElseIf>\n"
    "<ElseIf \"%{HTTP_HOST} =~ /example$/\">\n"
    "  Header append X-Order other-example\n"
    "</ElseIf>\n"
    "<Else>\n"
    "  Header append X-Order else\n"
    "</Else>\n"
    "<If \"-n %{HTTP_HOST}\">\n"
    "  Header append X-Order second-chain\n"
    "</If>\n";

START_TEST(an_if_chain_merges_its_first_true_section_or_its_else)
{
    if_cfg = load_conf(chain_conf, true);
    const char *hosts[] = {"a.example", "b.example", "c.example", "nowhere"};
    const char *want[] = {"a,second-chain", "b,second-chain", "other-example,second-chain",
                          "else,second-chain"};
    for (size_t i = 0; i < PT_ARRAY_LEN(hosts); i++) {
        pt_table_set(&req.headers_in, "Host", hosts[i]);
        ck_assert_str_eq(order_for(NULL, "/"), want[i]);
    }
}
END_TEST

START_TEST(a_merged_if_section_changes_the_sections_signature)
{
    if_cfg = load_conf(chain_conf, true);
    pt_table_set(&req.headers_in, "Host", "a.example");
    order_for(NULL, "/");
    uint64_t a = req.sections;
    pt_table_set(&req.headers_in, "Host", "b.example");
    order_for(NULL, "/");
    ck_assert(a != req.sections);
}
END_TEST

static const struct {
    const char *conf;
    const char *msg;
} bad_confs[] = {
    {"<Else>\n</Else>\n",
     "main.conf:1: <Else> or <ElseIf> section without previous <If> or <ElseIf> section in "
     "same scope"},
    {"<If \"true\">\n</If>\n<Else>\n</Else>\n<Else>\n</Else>\n",
     "main.conf:5: <Else> or <ElseIf> section without previous <If>"},
    {"<If \"true\">\n</If>\n<Directory @>\n<ElseIf \"true\">\n</ElseIf>\n</Directory>\n",
     "main.conf:4: <Else> or <ElseIf> section without previous"},
    {"\n<If \"%{NOPE} == 'x'\">\n</If>\n",
     "main.conf:2: <If>: cannot parse expression \"%{NOPE} == 'x'\": Variable 'NOPE' does "
     "not exist"},
    {"<If \"true\" \"x\">\n</If>\n", "main.conf:1: Multiple <If> arguments not supported."},
    {"<If>\n</If>\n", "main.conf:1: <If> directive requires additional arguments"},
    {"<If \"true\">\n</If>\n<Else \"x\">\n</Else>\n",
     "main.conf:3: <Else> does not take an argument"},
    {"<If \"true\">\nServerName x\n</If>\n", "main.conf:2: ServerName cannot occur within <If>"},
    {"<If \"true\">\n<Directory />\n</Directory>\n</If>\n",
     "main.conf:2: <Directory cannot occur within <If>"},
    {"<If \"true\">\nAllowOverride None\n</If>\n", "main.conf:2: AllowOverride cannot occur"},
};

START_TEST(if_section_errors_name_the_file_and_line)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(bad_confs); i++) {
        ck_assert_ptr_null(load_conf(bad_confs[i].conf, false));
        ck_assert_msg(strstr(err, bad_confs[i].msg) != NULL, "got '%s', want '%s'", err,
                      bad_confs[i].msg);
    }
}
END_TEST

START_TEST(if_sections_take_per_directory_directives_and_nest_in_sections)
{
    if_cfg = load_conf("<Files \"*.php\">\n"
                       "  <If \"-f %{REQUEST_FILENAME}\">\n"
                       "    SetHandler \"proxy:fcgi://127.0.0.1:9000\"\n"
                       "  </If>\n"
                       "</Files>\n"
                       "<Location /x>\n"
                       "  <If \"%{QUERY_STRING} =~ /(^|&)v=/\">\n"
                       "    Require all denied\n"
                       "  </If>\n"
                       "</Location>\n",
                       true);
    order_for("file.txt", "/file.txt");
    ck_assert_ptr_null(req.dir->handler_name);
    FILE *f = fopen(pt_arena_printf(arena, "%s/index.php", dir), "w");
    fclose(f);
    order_for("index.php", "/index.php");
    ck_assert_str_eq(req.dir->handler_name, "proxy:fcgi://127.0.0.1:9000");
    ck_assert_ptr_nonnull(req.dir->handler); /* resolved by the loader, as any SetHandler */
    order_for("missing.php", "/missing.php");
    ck_assert_ptr_null(req.dir->handler_name);
    req.args = "a=1&v=2";
    order_for(NULL, "/x");
    ck_assert_ptr_nonnull(req.dir->require);
    req.args = "a=1";
    order_for(NULL, "/x");
    ck_assert_ptr_null(req.dir->require);
}
END_TEST

START_TEST(setenvifexpr_sets_variables_with_the_expressions_captures)
{
    if_cfg = load_conf("SetEnvIfExpr \"%{QUERY_STRING} =~ /v=(\\d+)/\" XV=a$1b XW !ONLY_REQ\n"
                       "SetEnvIfExpr \"%{QUERY_STRING} =~ /nomatch/\" NO=1\n"
                       "SetEnvIfExpr \"-n %{QUERY_STRING}\" LIT=$1\n",
                       true);
    const pt_dir_config_t *d = if_cfg->main_server->dir;
    ck_assert_uint_eq(d->nenv, 3);
    req.args = "v=42";
    for (size_t i = 0; i < d->nenv; i++) {
        pt_expr_caps_t caps = {0};
        if (pt_expr_setenvif(&req, &d->env[i], &caps))
            pt_setenvif_assign(arena, &req.env, &d->env[i], caps.subject, caps.m);
    }
    ck_assert_str_eq(pt_table_get(&req.env, "XV"), "a42b");
    ck_assert_str_eq(pt_table_get(&req.env, "XW"), "1");
    ck_assert_ptr_null(pt_table_get(&req.env, "ONLY_REQ"));
    ck_assert_ptr_null(pt_table_get(&req.env, "NO"));
    /* No regex in the expression: $1 is empty, as Apache's fix for PR 70369 has it. */
    ck_assert_str_eq(pt_table_get(&req.env, "LIT"), "");
}
END_TEST

START_TEST(setenvifexpr_refuses_a_bad_expression_with_its_line)
{
    ck_assert_ptr_null(load_conf("\nSetEnvIfExpr \"%{QUERY_STRING} =~ /(/\" X\n", false));
    ck_assert_ptr_nonnull(strstr(err, "main.conf:2: SetEnvIfExpr: cannot parse expression"));
}
END_TEST

static int authz(const char *uri)
{
    order_for(NULL, uri);
    return pt_require_eval(req.dir->require, NULL, req.method, &req.env);
}

START_TEST(require_expr_grants_by_the_expression)
{
    if_cfg = load_conf("<Location /business>\n"
                       "  Require expr %{TIME_HOUR} -ge 0 && %{TIME_HOUR} -lt 24\n"
                       "</Location>\n"
                       "<Location /v>\n"
                       "  Require expr \"%{QUERY_STRING} =~ /(^|&)v=/\"\n"
                       "</Location>\n"
                       "<Location /host>\n"
                       "  Require expr %{HTTP_HOST} == 'example.com'\n"
                       "</Location>\n"
                       "<Location /not>\n"
                       "  <RequireAll>\n"
                       "    Require all granted\n"
                       "    Require not expr %{REQUEST_METHOD} in { 'PUT', 'DELETE' }\n"
                       "  </RequireAll>\n"
                       "</Location>\n",
                       true);
    ck_assert_int_eq(authz("/business"), PT_AUTHZ_GRANTED);
    req.args = "a=1&v=2";
    ck_assert_int_eq(authz("/v"), PT_AUTHZ_GRANTED);
    req.args = "a=1&w=2";
    ck_assert_int_eq(authz("/v"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(authz("/host"), PT_AUTHZ_GRANTED);
    pt_table_set(&req.headers_in, "Host", "other.example");
    ck_assert_int_eq(authz("/host"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(authz("/not"), PT_AUTHZ_GRANTED);
    req.method = "DELETE";
    ck_assert_int_eq(authz("/not"), PT_AUTHZ_DENIED);
}
END_TEST

START_TEST(require_expr_refuses_what_apache_refuses)
{
    ck_assert_ptr_null(load_conf("<Location />\nRequire expr %{NOPE} == 1\n</Location>\n", false));
    ck_assert_ptr_nonnull(strstr(err, "main.conf:2: Cannot parse expression in require line: "
                                      "Variable 'NOPE' does not exist"));
    /* Only a line that is one "..." as a whole loses its quotes. */
    ck_assert_ptr_null(load_conf("<Location />\nRequire expr \"true\" && true\n</Location>\n",
                                 false));
    ck_assert_ptr_nonnull(strstr(err, "main.conf:2: Cannot parse expression in require line"));
}
END_TEST

START_TEST(a_virtual_host_has_its_own_if_sections_after_the_main_servers)
{
    if_cfg = load_conf("<If \"true\">\n"
                       "  Header append X-Order main-if\n"
                       "</If>\n"
                       "<VirtualHost *:65000>\n"
                       "  ServerName v.example\n"
                       "  <If \"%{HTTP_HOST} == 'v.example'\">\n"
                       "    Header append X-Order vhost-if\n"
                       "  </If>\n"
                       "  <Else>\n"
                       "    Header append X-Order vhost-else\n"
                       "  </Else>\n"
                       "</VirtualHost>\n",
                       true);
    ck_assert_uint_eq(if_cfg->nvhosts, 1);
    pt_table_set(&req.headers_in, "Host", "v.example");
    ck_assert_str_eq(order_for(NULL, "/"), "main-if");
    req.vhost = if_cfg->vhosts[0];
    req.dir = req.vhost->dir;
    pt_expr_if_walk(&req);
    pt_strbuf_t b = {.a = arena};
    for (size_t i = 0; i < req.dir->nheaders; i++)
        pt_strbuf_printf(&b, "%s%s", i ? "," : "", req.dir->headers[i].value);
    ck_assert_str_eq(b.p, "main-if,vhost-if");
}
END_TEST

Suite *expr_suite(void)
{
    Suite *s = suite_create("expr");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, evaluates_the_documented_conditions);
    tcase_add_test(tc, evaluates_string_expressions);
    tcase_add_test(tc, a_condition_as_a_string_is_true_or_false);
    tcase_add_test(tc, captures_come_out_for_the_caller);
    tcase_add_test(tc, captures_passed_in_are_seen_as_dollar_n);
    tcase_add_test(tc, file_of_a_missing_file_is_an_error);
    tcase_add_test(tc, refuses_bad_expressions_with_a_reason);
    tcase_add_test(tc, bounds_the_nesting_depth);
    tcase_add_test(tc, a_long_string_of_many_parts_evaluates_without_deep_recursion);
    tcase_add_test(tc, names_are_case_insensitive_as_in_apache);
    tcase_add_test(tc, https_and_http2_follow_the_request);
    tcase_add_test(tc, and_or_not_are_words_for_the_logic_operators);
    tcase_add_test(tc, ssl_variables_parse_and_are_empty_without_tls);
    suite_add_tcase(s, tc);
    TCase *ti = tcase_create("if");
    tcase_add_checked_fixture(ti, setup, if_teardown);
    tcase_add_test(ti, if_sections_merge_after_every_other_section_in_apaches_order);
    tcase_add_test(ti, an_if_chain_merges_its_first_true_section_or_its_else);
    tcase_add_test(ti, a_merged_if_section_changes_the_sections_signature);
    tcase_add_test(ti, if_section_errors_name_the_file_and_line);
    tcase_add_test(ti, if_sections_take_per_directory_directives_and_nest_in_sections);
    tcase_add_test(ti, setenvifexpr_sets_variables_with_the_expressions_captures);
    tcase_add_test(ti, setenvifexpr_refuses_a_bad_expression_with_its_line);
    tcase_add_test(ti, require_expr_grants_by_the_expression);
    tcase_add_test(ti, require_expr_refuses_what_apache_refuses);
    tcase_add_test(ti, a_virtual_host_has_its_own_if_sections_after_the_main_servers);
    suite_add_tcase(s, ti);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(expr_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
