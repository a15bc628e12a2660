/* Unit tests for log.c and logformat.c: the error log line, levels, the access log format
 * language (every directive, nicknames, escaping, JSON), and the sinks (order, sharing, env=
 * conditions, dropping lines for a reader that never reads). */
#include "accesslog.h"
#include "conn.h"
#include "log.h"
#include "logformat.h"
#include "request.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static pt_arena_t *A;
static pt_config_t cfg;
static pt_vhost_t mainvh, vh;
static pt_vhost_t *vhosts[1];
static pt_conn_t conn;
static char tmpdir[64];

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* 2026-11-23 00:41:00.123456 UTC */
static int64_t fixed_wall_us(void)
{
    struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 23, .tm_hour = 0, .tm_min = 41};
    return (int64_t)timegm(&tm) * 1000000 + 123456;
}

static void setup(void)
{
    A = pt_arena_create(0);
    memset(&cfg, 0, sizeof(cfg));
    memset(&mainvh, 0, sizeof(mainvh));
    memset(&vh, 0, sizeof(vh));
    mainvh.server_name = "main.example";
    vh.server_name = "www.example.org";
    vhosts[0] = &vh;
    cfg.main_server = &mainvh;
    cfg.vhosts = vhosts;
    cfg.nvhosts = 1;
    memset(&conn, 0, sizeof(conn));
    conn.fd = -1;
    strcpy(conn.peer_ip, "192.0.2.7");
    conn.peer_port = 51234;
    strcpy(conn.local_ip, "198.51.100.1");
    conn.local_port = 8080;
    strcpy(tmpdir, "/tmp/pt_logtest.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    pt_log_close_sinks(&cfg);
    pt_arena_destroy(A);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static pt_request_t *mkreq(void)
{
    pt_request_t *r = pt_arena_calloc(A, sizeof(*r));
    r->arena = A;
    r->conn = &conn;
    r->cfg = &cfg;
    r->vhost = &vh;
    pt_table_init(&r->headers_in, A, 4);
    pt_table_init(&r->headers_out, A, 4);
    pt_table_init(&r->err_headers_out, A, 4);
    pt_table_init(&r->env, A, 4);
    r->the_request = "GET /index.html?x=1 HTTP/1.1";
    r->method = "GET";
    r->protocol = "HTTP/1.1";
    r->uri = "/index.html";
    r->args = "x=1";
    r->status = 200;
    r->bytes_sent = 1234;
    r->start_wall_us = fixed_wall_us();
    r->start_mono_us = mono_us();
    r->keepalive = true;
    r->head_sent = true;
    r->body_done = true;
    return r;
}

static char out[8192];

static const char *render(const char *fmt, const pt_request_t *r)
{
    char err[PT_ERRLEN] = "";
    pt_logformat_t *f = pt_logformat_compile(A, fmt, err, sizeof(err));
    ck_assert_msg(f != NULL, "compile %s: %s", fmt, err);
    size_t n = pt_logformat_render(f, r, out, sizeof(out));
    ck_assert_uint_lt(n, sizeof(out));
    out[n] = '\0';
    return out;
}

static char *slurp(const char *path)
{
    static char buf[1 << 20];
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ssize_t n, total = 0;
    while ((n = read(fd, buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
        total += n;
    close(fd);
    buf[total] = '\0';
    return buf;
}

/* ---- Format language ------------------------------------------------------------------ */

START_TEST(common_nickname_renders_apache_common_line)
{
    pt_request_t *r = mkreq();
    ck_assert_str_eq(render("common", r),
                     "192.0.2.7 - - [23/Nov/2026:00:41:00 +0000] "
                     "\"GET /index.html?x=1 HTTP/1.1\" 200 1234\n");
}
END_TEST

START_TEST(combined_nickname_adds_referer_and_user_agent)
{
    pt_request_t *r = mkreq();
    r->user = "alice";
    pt_table_add(&r->headers_in, "Referer", "http://a.example/");
    pt_table_add(&r->headers_in, "user-agent", "curl/8.0");
    ck_assert_str_eq(render("combined", r),
                     "192.0.2.7 - alice [23/Nov/2026:00:41:00 +0000] "
                     "\"GET /index.html?x=1 HTTP/1.1\" 200 1234 \"http://a.example/\" "
                     "\"curl/8.0\"\n");
    pt_request_t *r2 = mkreq();
    r2->bytes_sent = 0;
    ck_assert_str_eq(render("combined", r2),
                     "192.0.2.7 - - [23/Nov/2026:00:41:00 +0000] "
                     "\"GET /index.html?x=1 HTTP/1.1\" 200 - \"-\" \"-\"\n");
}
END_TEST

START_TEST(common_format_escapes_quotes_backslashes_and_control_bytes)
{
    pt_request_t *r = mkreq();
    r->the_request = "GET /a\"b\\c\x01\n\t\xff HTTP/1.1";
    ck_assert_str_eq(render("common", r),
                     "192.0.2.7 - - [23/Nov/2026:00:41:00 +0000] "
                     "\"GET /a\\\"b\\\\c\\x01\\n\\t\\xff HTTP/1.1\" 200 1234\n");
}
END_TEST

START_TEST(renders_every_request_directive)
{
    pt_request_t *r = mkreq();
    r->filename = "/srv/www/index.html";
    r->hostname = "host.example";
    r->handler = "static";
    r->user = "bob";
    pt_table_add(&r->headers_in, "X-In", "in");
    pt_table_add(&r->headers_in, "Cookie", "a=1; sid=abc; z=2");
    pt_table_add(&r->headers_out, "X-Out", "out");
    pt_table_add(&r->err_headers_out, "X-Err", "err");
    pt_table_add(&r->env, "FOO", "bar");
    ck_assert_str_eq(render("%a|%{c}a|%A|%b|%B|%f|%h|%H|%l|%m|%p|%{local}p|%{remote}p|"
                            "%{canonical}p|%q|%r|%R|%s|%>s|%<s|%u|%U|%v|%V|%X|%L", r),
                     "192.0.2.7|192.0.2.7|198.51.100.1|1234|1234|/srv/www/index.html|"
                     "192.0.2.7|HTTP/1.1|-|GET|8080|8080|51234|8080|?x=1|"
                     "GET /index.html?x=1 HTTP/1.1|static|200|200|200|bob|/index.html|"
                     "www.example.org|host.example|+|-\n");
    ck_assert_str_eq(render("%{X-In}i|%{x-out}o|%{X-Err}o|%{FOO}e|%{nope}e|%{x}n|%{sid}C|"
                            "%{none}C|%O|%I", r),
                     "in|out|err|bar|-|-|abc|-|1234|-\n");
}
END_TEST

START_TEST(renders_time_directives)
{
    pt_request_t *r = mkreq();
    int64_t w = fixed_wall_us();
    char want[256];
    snprintf(want, sizeof(want), "[23/Nov/2026:00:41:00 +0000]|%lld|%lld|%lld|123|123456|"
             "2026-11-23 00:41|Mon\n", (long long)(w / 1000000), (long long)(w / 1000),
             (long long)w);
    ck_assert_str_eq(render("%t|%{sec}t|%{msec}t|%{usec}t|%{msec_frac}t|%{usec_frac}t|"
                            "%{%Y-%m-%d %H:%M}t|%{begin:%a}t", r), want);
}
END_TEST

START_TEST(renders_durations_in_each_unit)
{
    pt_request_t *r = mkreq();
    r->start_mono_us = mono_us() - 2500000;
    long long d, us, ms, t, s;
    ck_assert_int_eq(sscanf(render("%D %{us}T %{ms}T %T %{s}T", r), "%lld %lld %lld %lld %lld",
                            &d, &us, &ms, &t, &s), 5);
    ck_assert_int_ge(d, 2500000);
    ck_assert_int_lt(d, 3500000);
    ck_assert_int_ge(us, d);
    ck_assert_int_ge(ms, 2500);
    ck_assert_int_lt(ms, 3500);
    ck_assert_int_eq(t, 2);
    ck_assert_int_eq(s, 2);
}
END_TEST

START_TEST(renders_pid_keepalive_count_and_connection_status)
{
    pt_request_t *r = mkreq();
    char want[64];
    conn.requests = 3; /* h1_conn.c counts the request before logging it */
    snprintf(want, sizeof(want), "%ld|+|2|-\n", (long)getpid());
    ck_assert_str_eq(render("%P|%X|%k|%S", r), want);
    r->keepalive = false;
    ck_assert_str_eq(render("%X", r), "-\n");
    r->body_done = false;
    ck_assert_str_eq(render("%X", r), "X\n");
    r->body_done = true;
    conn.aborted = true;
    ck_assert_str_eq(render("%X", r), "X\n");
}
END_TEST

START_TEST(absent_values_render_as_dash_and_empty_query)
{
    pt_request_t *r = mkreq();
    r->args = NULL;
    r->bytes_sent = 0;
    r->head_sent = false;
    ck_assert_str_eq(render("%q|%b|%B|%u|%f|%O|%{Referer}i", r), "|-|0|-|-|-|-\n");
}
END_TEST

START_TEST(status_conditions_select_when_a_value_is_logged)
{
    pt_request_t *r = mkreq();
    pt_table_add(&r->headers_in, "User-Agent", "ua");
    pt_table_add(&r->headers_in, "Referer", "ref");
    const char *fmt = "%400,501{User-agent}i %!200,304{Referer}i";
    ck_assert_str_eq(render(fmt, r), "- -\n");
    r->status = 501;
    ck_assert_str_eq(render(fmt, r), "ua ref\n");
    r->status = 304;
    ck_assert_str_eq(render(fmt, r), "- -\n");
    r->status = 404;
    ck_assert_str_eq(render(fmt, r), "- ref\n");
}
END_TEST

START_TEST(trailer_directives_render_request_trailers_and_need_a_name)
{
    pt_request_t *r = mkreq();
    pt_table_init(&r->trailers_in, A, 2);
    pt_table_add(&r->trailers_in, "X-Checksum", "abc");
    ck_assert_str_eq(render("%{x-checksum}^ti|%{x-other}^ti|%{x-checksum}^to|%!200{x-checksum}^ti",
                            r), "abc|-|-|-\n");
    char err[PT_ERRLEN] = "";
    ck_assert_ptr_null(pt_logformat_compile(A, "%^ti", err, sizeof(err)));
    ck_assert_str_eq(err, "LogFormat directive %^ti needs a {NAME}");
    ck_assert_ptr_null(pt_logformat_compile(A, "%{x}^tx", err, sizeof(err)));
}
END_TEST

START_TEST(literal_text_keeps_escapes_and_percent)
{
    pt_request_t *r = mkreq();
    ck_assert_str_eq(render("a\\tb\\\"c\\\\d 100%% %s\\n", r), "a\tb\"c\\d 100% 200\n\n");
}
END_TEST

START_TEST(unknown_directive_is_a_compile_error)
{
    char err[PT_ERRLEN] = "";
    ck_assert_ptr_null(pt_logformat_compile(A, "%h %Z", err, sizeof(err)));
    ck_assert_str_eq(err, "unrecognized LogFormat directive %Z");
    ck_assert_ptr_null(pt_logformat_compile(A, "%h %", err, sizeof(err)));
    ck_assert_ptr_null(pt_logformat_compile(A, "%{User-Agent i", err, sizeof(err)));
    ck_assert_ptr_null(pt_logformat_compile(A, "%{bogus}p", err, sizeof(err)));
    ck_assert_ptr_null(pt_logformat_compile(A, "%{hours}T", err, sizeof(err)));
    ck_assert_ptr_null(pt_logformat_compile(A, "%i", err, sizeof(err)));
    ck_assert_ptr_null(pt_logformat_compile(A, "%99s", err, sizeof(err)));
}
END_TEST

START_TEST(long_lines_are_truncated_and_still_end_in_newline)
{
    pt_request_t *r = mkreq();
    char err[PT_ERRLEN];
    pt_logformat_t *f = pt_logformat_compile(A, "common", err, sizeof(err));
    char small[20];
    size_t n = pt_logformat_render(f, r, small, sizeof(small));
    ck_assert_uint_eq(n, sizeof(small));
    ck_assert_int_eq(memcmp(small, "192.0.2.7 - - [23/N\n", 20), 0);
}
END_TEST

/* A small JSON checker: one object of string keys and string/number/null values. */
static const char *json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                        return NULL;
                p += 4;
            } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
        p++;
    }
    return *p == '"' ? p + 1 : NULL;
}

static bool json_object_valid(const char *p)
{
    if (*p++ != '{')
        return false;
    for (;;) {
        if (!(p = json_string(p)) || *p++ != ':')
            return false;
        if (*p == '"') {
            p = json_string(p);
        } else if (strncmp(p, "null", 4) == 0) {
            p += 4;
        } else {
            const char *s = p;
            p += *p == '-';
            while (*p >= '0' && *p <= '9')
                p++;
            if (p == s)
                return false;
        }
        if (!p)
            return false;
        if (*p == '}')
            return strcmp(p, "}\n") == 0;
        if (*p++ != ',')
            return false;
    }
}

START_TEST(json_nickname_writes_one_valid_object_per_line)
{
    pt_request_t *r = mkreq();
    r->hostname = "host.example";
    pt_table_add(&r->headers_in, "User-Agent", "q\"b\\c\x01\n\t\b\f\r\xff\xc3\xa9 \xed\xa0\x80");
    const char *line = render("json", r);
    ck_assert_msg(json_object_valid(line), "invalid JSON: %s", line);
    ck_assert_ptr_nonnull(strstr(line, "{\"time\":\"2026-11-23T00:41:00.123456+00:00\","
                                       "\"remote_addr\":\"192.0.2.7\",\"method\":\"GET\","
                                       "\"uri\":\"/index.html\",\"query\":\"x=1\","
                                       "\"protocol\":\"HTTP/1.1\",\"status\":200,"
                                       "\"bytes\":1234,\"duration_us\":"));
    ck_assert_ptr_nonnull(strstr(line, ",\"host\":\"host.example\",\"referer\":null,"
                                       "\"user_agent\":\"q\\\"b\\\\c\\u0001\\n\\t\\b\\f\\r"
                                       "\\u00ff\xc3\xa9 \\u00ed\\u00a0\\u0080\","
                                       "\"vhost\":\"www.example.org\"}\n"));
    ck_assert_uint_eq(strlen(line), strcspn(line, "\n") + 1);
}
END_TEST

/* ---- Error log ------------------------------------------------------------------------ */

static char elog_path[128];

static void open_elog(int level)
{
    char err[PT_ERRLEN];
    snprintf(elog_path, sizeof(elog_path), "%s/error.log", tmpdir);
    ck_assert_int_eq(pt_log_open_error(elog_path, level, err, sizeof(err)), 0);
}

static void restore_elog(void)
{
    char err[PT_ERRLEN];
    ck_assert_int_eq(pt_log_open_error(NULL, PT_LOG_WARN, err, sizeof(err)), 0);
}

static bool matches(const char *re, const char *s)
{
    regex_t rx;
    ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE), 0);
    bool m = regexec(&rx, s, 0, NULL, 0) == 0;
    regfree(&rx);
    return m;
}

#define TIME_RE "^\\[(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:" \
                "[0-9]{2}\\.[0-9]{6} [0-9]{4}\\] "

START_TEST(error_log_line_has_apache_shape)
{
    open_elog(PT_LOG_WARN);
    pt_log_error(PT_LOG_ERR, "1.2.3.4:5678", "hello %d", 42);
    pt_log_error(PT_LOG_WARN, NULL, "no client");
    restore_elog();
    const char *s = slurp(elog_path);
    ck_assert_msg(matches(TIME_RE "\\[core:error\\] \\[pid [0-9]+:tid [0-9]+\\] "
                                  "\\[client 1\\.2\\.3\\.4:5678\\] hello 42\n" TIME_RE
                                  "\\[core:warn\\] \\[pid [0-9]+:tid [0-9]+\\] no client\n$", s),
                  "got: %s", s);
}
END_TEST

START_TEST(error_log_escapes_control_characters_so_lines_cannot_be_forged)
{
    open_elog(PT_LOG_WARN);
    pt_log_error(PT_LOG_ERR, "1.2.3.4:1\n[x", "bad %s", "x\n[Mon Nov 23] [core:emerg] forged\x1b");
    restore_elog();
    const char *s = slurp(elog_path);
    ck_assert_int_eq(strchr(s, '\n') - s + 1, (long)strlen(s));
    ck_assert_ptr_nonnull(strstr(s, "[client 1.2.3.4:1\\x0a[x] bad x\\x0a[Mon Nov 23] "
                                    "[core:emerg] forged\\x1b\n"));
}
END_TEST

START_TEST(error_log_filters_by_level)
{
    open_elog(PT_LOG_WARN);
    ck_assert_int_eq(pt_log_level(), PT_LOG_WARN);
    pt_log_error(PT_LOG_INFO, NULL, "info hidden");
    pt_log_error(PT_LOG_DEBUG, NULL, "debug hidden");
    pt_log_error(PT_LOG_WARN, NULL, "warn shown");
    pt_log_set_level(PT_LOG_TRACE1);
    pt_log_error(PT_LOG_TRACE1, NULL, "trace shown");
    pt_log_set_level(PT_LOG_CRIT);
    pt_log_error(PT_LOG_ERR, NULL, "error hidden");
    pt_log_error(PT_LOG_EMERG, NULL, "emerg shown");
    restore_elog();
    const char *s = slurp(elog_path);
    ck_assert_ptr_null(strstr(s, "hidden"));
    ck_assert_ptr_nonnull(strstr(s, "[core:warn] "));
    ck_assert_ptr_nonnull(strstr(s, "[core:trace1] "));
    ck_assert_ptr_nonnull(strstr(s, "[core:emerg] "));
}
END_TEST

START_TEST(parses_apache_level_names)
{
    const char *names[] = {"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"};
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(pt_log_level_parse(names[i]), i);
    ck_assert_int_eq(pt_log_level_parse("WARN"), PT_LOG_WARN);
    ck_assert_int_eq(pt_log_level_parse("trace1"), PT_LOG_TRACE1);
    ck_assert_int_eq(pt_log_level_parse("trace8"), PT_LOG_TRACE1);
    ck_assert_int_eq(pt_log_level_parse("trace9"), -1);
    ck_assert_int_eq(pt_log_level_parse("loud"), -1);
    ck_assert_int_eq(pt_log_level_parse(""), -1);
}
END_TEST

START_TEST(rerror_names_the_client_of_the_request)
{
    open_elog(PT_LOG_INFO);
    pt_log_rerror(PT_LOG_INFO, mkreq(), "denied %s", "/x");
    restore_elog();
    ck_assert_ptr_nonnull(strstr(slurp(elog_path), "] [client 192.0.2.7:51234] denied /x\n"));
}
END_TEST

START_TEST(reopening_the_error_log_moves_later_lines)
{
    open_elog(PT_LOG_WARN);
    pt_log_error(PT_LOG_ERR, NULL, "first");
    char second[160], err[PT_ERRLEN];
    snprintf(second, sizeof(second), "%s/second.log", tmpdir);
    ck_assert_int_eq(pt_log_open_error(second, PT_LOG_WARN, err, sizeof(err)), 0);
    pt_log_error(PT_LOG_ERR, NULL, "second");
    restore_elog();
    ck_assert_ptr_null(strstr(slurp(elog_path), "second"));
    ck_assert_ptr_nonnull(strstr(slurp(elog_path), "first"));
    ck_assert_ptr_nonnull(strstr(slurp(second), "second"));
    snprintf(second, sizeof(second), "%s/no/such/dir.log", tmpdir);
    ck_assert_int_eq(pt_log_open_error(second, PT_LOG_WARN, err, sizeof(err)), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "cannot open error log"));
}
END_TEST

/* ---- Sinks ---------------------------------------------------------------------------- */

static pt_customlog_t *add_log(pt_vhost_t *v, const char *fmt, const char *path,
                               const char *cond)
{
    char err[PT_ERRLEN];
    v->logs = pt_arena_grow(A, v->logs, v->nlogs * sizeof(pt_customlog_t),
                            (v->nlogs + 1) * sizeof(pt_customlog_t));
    pt_customlog_t *cl = &v->logs[v->nlogs++];
    memset(cl, 0, sizeof(*cl));
    cl->format = pt_logformat_compile(A, fmt, err, sizeof(err));
    ck_assert_ptr_nonnull(cl->format);
    cl->path = pt_arena_printf(A, "%s/%s", tmpdir, path);
    cl->env_cond = cond;
    return cl;
}

START_TEST(sink_writes_lines_in_order_and_is_shared_by_path)
{
    char err[PT_ERRLEN];
    add_log(&mainvh, "main %U", "access.log", NULL);
    add_log(&vh, "%U", "access.log", NULL);
    ck_assert_int_eq(pt_log_open_sinks(&cfg, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(vh.logs[0].sink);
    ck_assert_ptr_eq(vh.logs[0].sink, mainvh.logs[0].sink);
    pt_request_t *r = mkreq();
    for (int i = 0; i < 3000; i++) {
        r->uri = pt_arena_printf(A, "/%d", i);
        pt_log_access(r);
    }
    pt_log_flush_all();
    char *s = slurp(vh.logs[0].path);
    char *p = s;
    for (int i = 0; i < 3000; i++) {
        char want[32];
        int n = snprintf(want, sizeof(want), "/%d\n", i);
        ck_assert_msg(strncmp(p, want, (size_t)n) == 0, "line %d: %.20s", i, p);
        p += n;
    }
    ck_assert_str_eq(p, "");
    pt_log_close_sinks(&cfg);
    ck_assert_ptr_null(vh.logs[0].sink);
}
END_TEST

START_TEST(env_conditions_choose_the_logs)
{
    char err[PT_ERRLEN];
    /* directives.c stores the condition without "env="; both spellings are accepted. */
    pt_customlog_t *only = add_log(&vh, "%U", "only.log", "ONLY");
    pt_customlog_t *skip = add_log(&vh, "%U", "noskip.log", "env=!SKIP");
    ck_assert_int_eq(pt_log_open_sinks(&cfg, err, sizeof(err)), 0);
    pt_request_t *r = mkreq();
    r->uri = "/plain";
    pt_log_access(r);
    r = mkreq();
    r->uri = "/only";
    pt_table_set(&r->env, "ONLY", "1");
    pt_log_access(r);
    r = mkreq();
    r->uri = "/skipped";
    pt_table_set(&r->env, "SKIP", "1");
    pt_log_access(r);
    pt_log_close_sinks(&cfg);
    ck_assert_str_eq(slurp(only->path), "/only\n");
    ck_assert_str_eq(slurp(skip->path), "/plain\n/only\n");
}
END_TEST

START_TEST(vhost_sharing_the_main_servers_logs_opens_them_once)
{
    char err[PT_ERRLEN];
    pt_customlog_t *cl = add_log(&mainvh, "%U", "main.log", NULL);
    vh.logs = mainvh.logs;
    vh.nlogs = mainvh.nlogs;
    ck_assert_int_eq(pt_log_open_sinks(&cfg, err, sizeof(err)), 0);
    pt_request_t *r = mkreq();
    r->uri = "/once";
    pt_log_access(r);
    pt_log_close_sinks(&cfg);
    ck_assert_ptr_null(cl->sink);
    ck_assert_str_eq(slurp(cl->path), "/once\n");
}
END_TEST

START_TEST(open_sinks_reports_unopenable_path_and_spares_stdout)
{
    char err[PT_ERRLEN] = "";
    pt_customlog_t *cl = add_log(&vh, "%U", "x.log", NULL);
    cl->path = "/dev/stdout";
    ck_assert_int_eq(pt_log_open_sinks(&cfg, err, sizeof(err)), 0);
    pt_log_close_sinks(&cfg);
    ck_assert_int_ne(fcntl(STDOUT_FILENO, F_GETFD), -1);
    vh.file = "conf/site.conf";
    vh.line = 7;
    cl->path = pt_arena_printf(A, "%s/missing/dir/x.log", tmpdir);
    ck_assert_int_eq(pt_log_open_sinks(&cfg, err, sizeof(err)), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "conf/site.conf:7: cannot open CustomLog "));
    ck_assert_ptr_null(cl->sink);
}
END_TEST

START_TEST(sink_to_a_stuck_pipe_drops_lines_instead_of_blocking)
{
    char err[PT_ERRLEN];
    open_elog(PT_LOG_WARN);
    pt_customlog_t *cl = add_log(&vh, "%U", "fifo", NULL);
    ck_assert_int_eq(mkfifo(cl->path, 0600), 0);
    int rd = open(cl->path, O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(rd, 0);
    ck_assert_int_eq(pt_log_open_sinks(&cfg, err, sizeof(err)), 0);
    pt_request_t *r = mkreq();
    char *uri = pt_arena_alloc(A, 200);
    memset(uri, 'a', 199);
    uri[199] = '\0';
    r->uri = uri;
    int64_t t0 = mono_us();
    for (int i = 0; i < 20000; i++)
        pt_log_access(r);
    pt_log_flush_all();
    pt_log_close_sinks(&cfg);
    int64_t elapsed = mono_us() - t0;
    ck_assert_msg(elapsed < 2000000, "took %lld us", (long long)elapsed);
    static char buf[1 << 20];
    ssize_t n, total = 0;
    while ((n = read(rd, buf + total, sizeof(buf) - (size_t)total)) > 0)
        total += n;
    close(rd);
    ck_assert_int_gt(total, 0);
    ck_assert_int_lt(total, 20000 * 200);
    for (ssize_t i = 0; i < total; i++)
        ck_assert_msg(buf[i] == ((i + 1) % 200 ? 'a' : '\n'), "byte %zd of %zd is %d", i,
                      total, buf[i]); /* whole lines only */
    restore_elog();
    ck_assert_ptr_nonnull(strstr(slurp(elog_path), "lines dropped"));
}
END_TEST

#define NTHREADS 4
#define NLINES 2000

static void *access_writer(void *arg)
{
    pt_request_t *r = arg;
    char uri[64];
    for (int i = 0; i < NLINES; i++) {
        snprintf(uri, sizeof(uri), "/%s/%d", r->method, i);
        r->uri = uri;
        pt_log_access(r);
    }
    return NULL;
}

START_TEST(threads_share_a_sink_without_mixing_lines)
{
    char err[PT_ERRLEN];
    pt_customlog_t *cl = add_log(&vh, "%U", "threads.log", NULL);
    ck_assert_int_eq(pt_log_open_sinks(&cfg, err, sizeof(err)), 0);
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        pt_request_t *r = mkreq();
        r->method = pt_arena_printf(A, "t%d", t);
        ck_assert_int_eq(pthread_create(&th[t], NULL, access_writer, r), 0);
    }
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    pt_log_close_sinks(&cfg);
    int next[NTHREADS] = {0};
    char *save = NULL;
    for (char *line = strtok_r(slurp(cl->path), "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        int t, i;
        ck_assert_msg(sscanf(line, "/t%d/%d", &t, &i) == 2 && t >= 0 && t < NTHREADS,
                      "bad line %s", line);
        ck_assert_int_eq(i, next[t]);
        next[t]++;
    }
    for (int t = 0; t < NTHREADS; t++)
        ck_assert_int_eq(next[t], NLINES);
}
END_TEST

static void *error_writer(void *arg)
{
    for (int i = 0; i < NLINES; i++)
        pt_log_error(PT_LOG_ERR, NULL, "thread %d line %d", *(int *)arg, i);
    return NULL;
}

/* The pattern is compiled once: 8,000 regcomp calls made this test slow enough under ASan on
 * a busy machine to pass its 10 s timeout. */
static int count_whole_lines(const char *s)
{
    regex_t rx;
    ck_assert_int_eq(regcomp(&rx,
                             TIME_RE "\\[core:error\\] \\[pid [0-9]+:tid [0-9]+\\] thread "
                                     "[0-9] line [0-9]+$",
                             REG_EXTENDED | REG_NOSUB | REG_NEWLINE),
                     0);
    int n = 0;
    for (const char *p = s; *p; p = strchr(p, '\n') + 1) {
        ck_assert_msg(regexec(&rx, p, 0, NULL, 0) == 0, "bad line: %.120s", p);
        n++;
    }
    regfree(&rx);
    return n;
}

START_TEST(error_log_reopens_while_threads_write)
{
    char err[PT_ERRLEN], other[160];
    open_elog(PT_LOG_WARN);
    snprintf(other, sizeof(other), "%s/other.log", tmpdir);
    pthread_t th[NTHREADS];
    int ids[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        ids[t] = t;
        ck_assert_int_eq(pthread_create(&th[t], NULL, error_writer, &ids[t]), 0);
    }
    for (int k = 0; k < 50; k++)
        ck_assert_int_eq(pt_log_open_error(k % 2 ? elog_path : other, PT_LOG_WARN, err,
                                           sizeof(err)), 0);
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    restore_elog();
    int n = count_whole_lines(slurp(elog_path));
    n += count_whole_lines(slurp(other));
    ck_assert_int_eq(n, NTHREADS * NLINES);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *fmt = tcase_create("format");
    tcase_add_checked_fixture(fmt, setup, teardown);
    tcase_set_timeout(fmt, 10);
    tcase_add_test(fmt, common_nickname_renders_apache_common_line);
    tcase_add_test(fmt, combined_nickname_adds_referer_and_user_agent);
    tcase_add_test(fmt, common_format_escapes_quotes_backslashes_and_control_bytes);
    tcase_add_test(fmt, renders_every_request_directive);
    tcase_add_test(fmt, renders_time_directives);
    tcase_add_test(fmt, renders_durations_in_each_unit);
    tcase_add_test(fmt, renders_pid_keepalive_count_and_connection_status);
    tcase_add_test(fmt, absent_values_render_as_dash_and_empty_query);
    tcase_add_test(fmt, status_conditions_select_when_a_value_is_logged);
    tcase_add_test(fmt, trailer_directives_render_request_trailers_and_need_a_name);
    tcase_add_test(fmt, literal_text_keeps_escapes_and_percent);
    tcase_add_test(fmt, unknown_directive_is_a_compile_error);
    tcase_add_test(fmt, long_lines_are_truncated_and_still_end_in_newline);
    tcase_add_test(fmt, json_nickname_writes_one_valid_object_per_line);
    suite_add_tcase(s, fmt);

    TCase *elog = tcase_create("error_log");
    tcase_add_checked_fixture(elog, setup, teardown);
    tcase_set_timeout(elog, 10);
    tcase_add_test(elog, error_log_line_has_apache_shape);
    tcase_add_test(elog, error_log_escapes_control_characters_so_lines_cannot_be_forged);
    tcase_add_test(elog, error_log_filters_by_level);
    tcase_add_test(elog, parses_apache_level_names);
    tcase_add_test(elog, rerror_names_the_client_of_the_request);
    tcase_add_test(elog, reopening_the_error_log_moves_later_lines);
    suite_add_tcase(s, elog);

    TCase *sink = tcase_create("sinks");
    tcase_add_checked_fixture(sink, setup, teardown);
    /* Four threads of 2,000 lines each under ASan on a machine that runs other suites: not a
     * speed test, so a bound that only catches a hang. */
    tcase_set_timeout(sink, 60);
    tcase_add_test(sink, sink_writes_lines_in_order_and_is_shared_by_path);
    tcase_add_test(sink, env_conditions_choose_the_logs);
    tcase_add_test(sink, vhost_sharing_the_main_servers_logs_opens_them_once);
    tcase_add_test(sink, open_sinks_reports_unopenable_path_and_spares_stdout);
    tcase_add_test(sink, sink_to_a_stuck_pipe_drops_lines_instead_of_blocking);
    tcase_add_test(sink, threads_share_a_sink_without_mixing_lines);
    tcase_add_test(sink, error_log_reopens_while_threads_write);
    suite_add_tcase(s, sink);
    return s;
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    SRunner *sr = srunner_create(log_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
