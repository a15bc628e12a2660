/* Unit tests for server-status (HTML and ?auto) and metrics (Prometheus text): a scoreboard
 * filled by hand, the handlers run on a request whose connection is a socketpair, and the
 * exact response read back from the other end. */
#include "conn.h"
#include "h1.h"
#include "handler.h"
#include "mpm/scoreboard.h"
#include "request.h"

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESP_CAP (256 * 1024)

typedef struct {
    int peer;
    pt_conn_t *c;
    pt_arena_t *a;
    pt_config_t cfg;
    pt_vhost_t vh;
    pt_dir_config_t dir;
    pt_request_t r;
    pt_scoreboard_t *sb;
    char *resp;       /* whole response as read by the peer */
    const char *body; /* inside resp, after the head */
} fixture_t;

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void setup_fixture(fixture_t *f, pt_method_t m, const char *args)
{
    memset(f, 0, sizeof(*f));
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    f->peer = sv[1];
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(40000)};
    inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
    f->c = pt_conn_create(sv[0], &f->cfg, (struct sockaddr *)&sin, sizeof(sin));
    f->a = pt_arena_create(0);
    f->vh.dir = &f->dir;
    f->vh.timeout_ms = 2000;
    f->vh.keepalive = true;
    f->vh.server_name = "www.example.com";
    f->cfg.main_server = &f->vh;
    f->cfg.extended_status = true;
    f->cfg.server_tokens = 3;
    pt_request_t *r = &f->r;
    r->arena = f->a;
    r->conn = f->c;
    r->cfg = &f->cfg;
    r->vhost = &f->vh;
    r->dir = &f->dir;
    r->proto_num = 1001;
    r->protocol = "HTTP/1.1";
    r->keepalive = true;
    r->method_id = m;
    r->method = m == PT_METHOD_HEAD ? "HEAD" : m == PT_METHOD_POST ? "POST" : "GET";
    r->header_only = m == PT_METHOD_HEAD;
    r->args = args;
    r->the_request = "GET /server-status HTTP/1.1";
    r->status = 200;
    pt_table_init(&r->headers_out, f->a, 4);
    pt_table_init(&r->err_headers_out, f->a, 4);
    pt_table_init(&r->env, f->a, 4);
    pt_h1_attach(r, NULL); /* answered over HTTP/1, as a served request is */
}

static void teardown_fixture(fixture_t *f)
{
    pt_scoreboard_set(NULL);
    pt_scoreboard_destroy(f->sb);
    pt_conn_destroy(f->c);
    close(f->peer);
    pt_arena_destroy(f->a);
    free(f->resp);
}

/* Runs a handler and reads what it wrote; the response is complete when it returns. */
static int run(fixture_t *f, pt_handler_fn h)
{
    int rc = h(&f->r);
    f->resp = calloc(1, RESP_CAP);
    fcntl(f->peer, F_SETFL, O_NONBLOCK);
    size_t len = 0;
    ssize_t n;
    while (len < RESP_CAP - 1 && (n = read(f->peer, f->resp + len, RESP_CAP - 1 - len)) > 0)
        len += (size_t)n;
    char *sep = strstr(f->resp, "\r\n\r\n");
    f->body = sep ? sep + 4 : "";
    return rc;
}

static bool head_has(const fixture_t *f, const char *line)
{
    size_t hl = (size_t)(f->body - f->resp);
    char *head = strndup(f->resp, hl);
    char *want = NULL;
    ck_assert_int_gt(asprintf(&want, "\r\n%s\r\n", line), 0);
    bool found = strstr(head, want) != NULL;
    free(want);
    free(head);
    return found;
}

/* Three children: 0 live, of the current generation (W _ _ R), 1 gone (its stale W slots
 * show '.'), 2 live, of the previous generation and stopping (G . . .): as in mod_status,
 * its workers count neither busy nor idle, while its letters and the process count show.
 * Counters: 8 requests, 8000 bytes (7 whole kB), 2 s in all. Up 100 s. */
static void fill_scoreboard(fixture_t *f)
{
    pt_scoreboard_t *sb = f->sb = pt_scoreboard_create(3, 4, "event");
    pt_scoreboard_set(sb);
    sb->restart_wall_us = wall_us() - 100 * 1000000LL;
    atomic_store(&sb->generation, 2);
    atomic_store(&sb->procs[0].pid, 1234);
    atomic_store(&sb->procs[2].pid, 99);
    atomic_store(&sb->procs[2].quiescing, true);
    sb->procs[0].generation = 2;
    sb->procs[2].generation = 1;
    const char *states[3] = {"W__R", "WWWW", "G..."};
    for (int p = 0; p < 3; p++)
        for (int t = 0; t < 4; t++)
            pt_sb_set_state(pt_sb_worker(sb, p, t), (pt_sb_state_t)states[p][t]);
    pt_sb_process_t *ps = &sb->procs[0];
    atomic_store(&ps->conns_total, 7);
    atomic_store(&ps->conns_writing, 1);
    atomic_store(&ps->conns_keepalive, 3);
    atomic_store(&ps->conns_lingering, 2);
    atomic_store(&ps->conns_reading, 1);
    atomic_store(&sb->procs[1].conns_total, 70); /* dead child: not counted */
    sb->counters[0].by_class[2] = 3;
    sb->counters[0].by_class[4] = 1;
    sb->counters[1].by_class[2] = 4;
    sb->counters[0].bytes = 3000;
    sb->counters[1].bytes = 5000;
    sb->counters[0].duration_sum_us = 1500000;
    sb->counters[1].duration_sum_us = 500000;
}

/* Replaces the value of "Key: value" with "*" so lines that carry the clock compare. */
static void mask_line(char *s, const char *key)
{
    char *p = strstr(s, key);
    ck_assert_ptr_nonnull(p);
    p += strlen(key);
    char *e = strchr(p, '\n');
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_ne(p, e);
    p[0] = '*';
    memmove(p + 1, e, strlen(e) + 1);
}

/* The scoreboard takes plain values; these read them from a request as the HTTP/1 driver
 * and the response writer do. */
static void sb_begin(pt_sb_worker_t *w, const pt_request_t *r)
{
    pt_sb_request_begin(w, r->the_request, r->conn ? pt_request_client_ip(r) : NULL,
                        r->vhost ? r->vhost->server_name : NULL, r->start_wall_us);
}

static void sb_end(pt_sb_worker_t *w, pt_sb_counters_t *c, const pt_request_t *r)
{
    int64_t dur = r->start_mono_us > 0 ? pt_mono_us() - r->start_mono_us : 0;
    pt_sb_request_end(w, c, r->sb_counted && r->sb_counters == c, r->status,
                      (int)r->method_id, r->bytes_sent, dur, 0);
}

START_TEST(auto_text_reports_apache_fields_exactly)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_GET, "auto");
    fill_scoreboard(&f);
    ck_assert_int_eq(run(&f, pt_status_handler), PT_DONE);
    ck_assert(strncmp(f.resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    ck_assert(head_has(&f, "Content-Type: text/plain; charset=ISO-8859-1"));
    char *body = strdup(f.body);
    mask_line(body, "Server Built: ");
    mask_line(body, "CurrentTime: ");
    mask_line(body, "RestartTime: ");
    ck_assert_str_eq(body, "www.example.com\n"
                           "ServerVersion: portico/" PORTICO_VERSION "\n"
                           "ServerMPM: event\n"
                           "Server Built: *\n"
                           "CurrentTime: *\n"
                           "RestartTime: *\n"
                           "ParentServerConfigGeneration: 3\n"
                           "ParentServerMPMGeneration: 2\n"
                           "ServerUptimeSeconds: 100\n"
                           "ServerUptime: 1 minute 40 seconds\n"
                           "Total Accesses: 8\n"
                           "Total kBytes: 7\n"
                           "Total Duration: 2000\n"
                           "Uptime: 100\n"
                           "ReqPerSec: .08\n"
                           "BytesPerSec: 71.68\n"
                           "BytesPerReq: 896\n"
                           "DurationPerReq: 250\n"
                           "BusyWorkers: 2\n"
                           "IdleWorkers: 2\n"
                           "Processes: 2\n"
                           "Stopping: 1\n"
                           "ConnsTotal: 7\n"
                           "ConnsAsyncWriting: 1\n"
                           "ConnsAsyncKeepAlive: 3\n"
                           "ConnsAsyncClosing: 2\n"
                           "ConnsAsyncBackend: 0\n"
                           "Scoreboard: W__R....G...\n");
    free(body);
    teardown_fixture(&f);
}
END_TEST

START_TEST(auto_text_names_times_as_apache_does)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_GET, "x=1&auto");
    fill_scoreboard(&f);
    run(&f, pt_status_handler);
    regex_t re;
    const char *pat = "\nCurrentTime: (Sun|Mon|Tues|Wednes|Thurs|Fri|Satur)day, "
                      "[0-9]{2}-[A-Z][a-z]{2}-[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [A-Z+0-9-]+\n";
    ck_assert_int_eq(regcomp(&re, pat, REG_EXTENDED), 0);
    ck_assert_int_eq(regexec(&re, f.body, 0, NULL, 0), 0);
    regfree(&re);
    teardown_fixture(&f);
}
END_TEST

START_TEST(auto_text_leaves_out_rates_with_no_requests_and_no_uptime)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_GET, "auto");
    f.sb = pt_scoreboard_create(1, 2, "prefork");
    pt_scoreboard_set(f.sb);
    run(&f, pt_status_handler);
    ck_assert_ptr_nonnull(strstr(f.body, "\nServerUptime:\nTotal Accesses: 0\n"));
    ck_assert_ptr_nonnull(strstr(f.body, "\nUptime: 0\nBusyWorkers: 0\nIdleWorkers: 0\n"));
    ck_assert_ptr_null(strstr(f.body, "PerSec"));
    ck_assert_ptr_null(strstr(f.body, "PerReq"));
    ck_assert_ptr_nonnull(strstr(f.body, "\nScoreboard: ..\n"));
    teardown_fixture(&f);
}
END_TEST

START_TEST(html_page_shows_escaped_request_lines_clients_and_vhosts)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_GET, NULL);
    fill_scoreboard(&f);
    f.r.the_request = "GET /?q=<script>&x=\"1\" HTTP/1.1";
    f.vh.server_name = "a<b>.example";
    f.r.bytes_sent = 2 * 1024 * 1024;
    f.r.start_mono_us = mono_us() - 7000;
    pt_sb_worker_t *w = pt_sb_worker(f.sb, 0, 0);
    sb_begin(w, &f.r);
    sb_end(w, &f.sb->counters[0], &f.r);
    ck_assert_int_eq(run(&f, pt_status_handler), PT_DONE);
    ck_assert(head_has(&f, "Content-Type: text/html; charset=ISO-8859-1"));
    ck_assert_ptr_nonnull(strstr(f.body, "<td nowrap>GET /?q=&lt;script&gt;&amp;x=&quot;1&quot; "
                                         "HTTP/1.1</td>"));
    ck_assert_ptr_nonnull(strstr(f.body, "<td>192.0.2.7</td><td nowrap>a&lt;b&gt;.example</td>"));
    ck_assert_ptr_null(strstr(f.body, "<script>"));
    ck_assert_ptr_null(strstr(f.body, "a<b>"));
    /* Slot 0-0 of pid 1234: 1 request on this connection, 7 ms, 2 MB. */
    ck_assert_ptr_nonnull(strstr(f.body, "<tr><td><b>0-2</b></td><td>1234</td><td>1/1/1</td>"
                                         "<td><b>W</b></td><td>0</td><td>7</td><td>-</td>"
                                         "<td>-</td><td>2.00</td><td>2.00</td>"));
    ck_assert_ptr_nonnull(strstr(f.body, "<dt>Server MPM: event</dt>"));
    ck_assert_ptr_nonnull(strstr(f.body, "<dt>Server uptime:  1 minute 40 seconds</dt>"));
    ck_assert_ptr_nonnull(strstr(f.body, "<dt>Total accesses: 9 - Total Traffic: 2055 kB"));
    ck_assert_ptr_nonnull(strstr(f.body, "<dt>2 requests currently being processed, "
                                         "2 idle workers</dt>"));
    ck_assert_ptr_nonnull(strstr(f.body, "<pre>W__R....G...\n</pre>"));
    ck_assert_ptr_nonnull(strstr(f.body, "\" Open slot with no current process<br />"));
    ck_assert_ptr_nonnull(strstr(f.body, "<tr><td>2</td><td>99</td><td>yes</td><td>0</td>"
                                         "<td>no</td><td>1</td><td>0</td>"));
    ck_assert(strcmp(f.body + strlen(f.body) - 15, "</body></html>\n") == 0);
    teardown_fixture(&f);
}
END_TEST

START_TEST(html_page_without_extended_status_has_no_worker_table)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_GET, NULL);
    fill_scoreboard(&f);
    f.cfg.extended_status = false;
    f.r.the_request = "GET /secret-token HTTP/1.1";
    sb_begin(pt_sb_worker(f.sb, 0, 0), &f.r);
    run(&f, pt_status_handler);
    ck_assert_ptr_null(strstr(f.body, "secret-token"));
    ck_assert_ptr_null(strstr(f.body, "<th>Srv</th>"));
    ck_assert_ptr_nonnull(strstr(f.body, "<code>ExtendedStatus On</code>"));
    ck_assert_ptr_nonnull(strstr(f.body, "<pre>W__R....G...\n</pre>"));
    teardown_fixture(&f);
}
END_TEST

START_TEST(html_map_wraps_every_64_slots)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_GET, NULL);
    f.sb = pt_scoreboard_create(2, 50, "worker");
    pt_scoreboard_set(f.sb);
    atomic_store(&f.sb->procs[0].pid, 1);
    for (int t = 0; t < 50; t++)
        pt_sb_set_state(pt_sb_worker(f.sb, 0, t), PT_SB_READY);
    run(&f, pt_status_handler);
    char want[160];
    memset(want, 0, sizeof(want));
    strcpy(want, "<pre>");
    memset(want + 5, '_', 50);
    memset(want + 55, '.', 14);
    strcat(want, "\n....................................\n</pre>");
    ck_assert_ptr_nonnull(strstr(f.body, want));
    teardown_fixture(&f);
}
END_TEST

START_TEST(refresh_query_asks_the_browser_to_reload)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_GET, "refresh=5");
    fill_scoreboard(&f);
    run(&f, pt_status_handler);
    ck_assert(head_has(&f, "Refresh: 5"));
    teardown_fixture(&f);
}
END_TEST

START_TEST(head_gets_the_headers_without_a_body)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_HEAD, "auto");
    fill_scoreboard(&f);
    ck_assert_int_eq(run(&f, pt_status_handler), PT_DONE);
    ck_assert(strncmp(f.resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    ck_assert_str_eq(f.body, "");
    teardown_fixture(&f);
}
END_TEST

START_TEST(both_handlers_refuse_post_with_405_and_allow)
{
    pt_handler_fn hs[] = {pt_status_handler, pt_metrics_handler};
    for (size_t i = 0; i < 2; i++) {
        fixture_t f;
        setup_fixture(&f, PT_METHOD_POST, NULL);
        fill_scoreboard(&f);
        ck_assert_int_eq(run(&f, hs[i]), 405);
        ck_assert_str_eq(pt_table_get(&f.r.err_headers_out, "Allow"), "GET, HEAD");
        ck_assert_str_eq(f.resp, "");
        teardown_fixture(&f);
    }
}
END_TEST

START_TEST(both_handlers_answer_503_without_a_scoreboard)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_GET, "auto");
    ck_assert_int_eq(run(&f, pt_status_handler), 503);
    ck_assert_int_eq(pt_metrics_handler(&f.r), 503);
    teardown_fixture(&f);
}
END_TEST

/* ---- metrics ---------------------------------------------------------------------- */

#define NAME "[a-zA-Z_:][a-zA-Z0-9_:]*"
#define LABEL "[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
#define VALUE "[-+]?([0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|\\+Inf|-Inf|NaN)"
static const char sample_re[] = "^" NAME "(\\{" LABEL "(," LABEL ")*\\})? " VALUE "( -?[0-9]+)?$";
static const char help_re[] = "^# HELP " NAME " [^\n]*$";
static const char type_re[] = "^# TYPE " NAME " (counter|gauge|histogram|summary|untyped)$";

static void fill_via_requests(fixture_t *f)
{
    fill_scoreboard(f);
    struct {
        pt_method_t m;
        int status;
        int64_t ago_us, bytes;
    } reqs[] = {{PT_METHOD_GET, 200, 3000, 100},
                {PT_METHOD_GET, 304, 20000, 0},
                {PT_METHOD_HEAD, 200, 200, 0},
                {PT_METHOD_POST, 502, 2000000, 57}};
    pt_sb_worker_t *w = pt_sb_worker(f->sb, 2, 0);
    for (size_t i = 0; i < PT_ARRAY_LEN(reqs); i++) {
        f->r.method_id = reqs[i].m;
        f->r.status = reqs[i].status;
        f->r.bytes_sent = reqs[i].bytes;
        f->r.start_mono_us = mono_us() - reqs[i].ago_us;
        sb_end(w, &f->sb->counters[2], &f->r);
    }
    f->r.method_id = PT_METHOD_GET;
}

START_TEST(metrics_lines_all_follow_the_exposition_format)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_GET, NULL);
    fill_via_requests(&f);
    ck_assert_int_eq(run(&f, pt_metrics_handler), PT_DONE);
    ck_assert(head_has(&f, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
    regex_t rs, rh, rt;
    ck_assert_int_eq(regcomp(&rs, sample_re, REG_EXTENDED | REG_NOSUB), 0);
    ck_assert_int_eq(regcomp(&rh, help_re, REG_EXTENDED | REG_NOSUB), 0);
    ck_assert_int_eq(regcomp(&rt, type_re, REG_EXTENDED | REG_NOSUB), 0);
    char *copy = strdup(f.body), *save = NULL;
    ck_assert(copy[strlen(copy) - 1] == '\n');
    int samples = 0, types = 0;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "# HELP ", 7) == 0) {
            ck_assert_msg(regexec(&rh, l, 0, NULL, 0) == 0, "bad HELP: %s", l);
        } else if (strncmp(l, "# TYPE ", 7) == 0) {
            ck_assert_msg(regexec(&rt, l, 0, NULL, 0) == 0, "bad TYPE: %s", l);
            types++;
        } else {
            ck_assert_msg(regexec(&rs, l, 0, NULL, 0) == 0, "bad sample: %s", l);
            samples++;
        }
    }
    ck_assert_int_eq(types, 10);
    ck_assert_int_eq(samples, 16 + 1 + 15 + 2 + 6 + 4); /* see the families */
    free(copy);
    regfree(&rs);
    regfree(&rh);
    regfree(&rt);
    teardown_fixture(&f);
}
END_TEST

static uint64_t value_of(const char *body, const char *series)
{
    char *want = NULL;
    ck_assert_int_gt(asprintf(&want, "\n%s ", series), 0);
    const char *p = strstr(body, want);
    ck_assert_msg(p != NULL, "no series %s", series);
    uint64_t v = strtoull(p + strlen(want), NULL, 10);
    free(want);
    return v;
}

START_TEST(metrics_count_requests_by_class_method_and_bytes)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_GET, NULL);
    fill_via_requests(&f);
    run(&f, pt_metrics_handler);
    /* Hand-set 2xx: 7, 4xx: 1; requests: 2x 200, 304, 502. */
    ck_assert_uint_eq(value_of(f.body, "portico_requests_total{class=\"2xx\"}"), 9);
    ck_assert_uint_eq(value_of(f.body, "portico_requests_total{class=\"3xx\"}"), 1);
    ck_assert_uint_eq(value_of(f.body, "portico_requests_total{class=\"4xx\"}"), 1);
    ck_assert_uint_eq(value_of(f.body, "portico_requests_total{class=\"5xx\"}"), 1);
    ck_assert_uint_eq(value_of(f.body, "portico_requests_by_method_total{method=\"GET\"}"), 2);
    ck_assert_uint_eq(value_of(f.body, "portico_requests_by_method_total{method=\"HEAD\"}"), 1);
    ck_assert_uint_eq(value_of(f.body, "portico_requests_by_method_total{method=\"POST\"}"), 1);
    ck_assert_uint_eq(value_of(f.body, "portico_response_bytes_total"), 8000 + 157);
    ck_assert_uint_eq(value_of(f.body, "portico_workers{state=\"busy\"}"), 2);
    ck_assert_uint_eq(value_of(f.body, "portico_workers{state=\"idle\"}"), 2);
    ck_assert_uint_eq(value_of(f.body, "portico_connections{state=\"keepalive\"}"), 3);
    ck_assert_uint_eq(value_of(f.body, "portico_connections{state=\"lingering\"}"), 2);
    ck_assert_uint_eq(value_of(f.body, "portico_connections{state=\"reading\"}"), 1);
    ck_assert_uint_eq(value_of(f.body, "portico_connections{state=\"writing\"}"), 1);
    ck_assert_uint_eq(value_of(f.body, "portico_connections{state=\"handshake\"}"), 0);
    ck_assert_uint_eq(value_of(f.body, "portico_processes"), 2);
    ck_assert_uint_eq(value_of(f.body, "portico_generation"), 2);
    ck_assert_ptr_nonnull(strstr(f.body, "# TYPE portico_requests_total counter\n"));
    ck_assert_ptr_nonnull(strstr(f.body, "# TYPE portico_workers gauge\n"));
    teardown_fixture(&f);
}
END_TEST

START_TEST(metrics_histogram_is_cumulative_and_ends_with_its_count)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_GET, NULL);
    fill_via_requests(&f);
    run(&f, pt_metrics_handler);
    const char *n = "portico_request_duration_seconds";
    static const char *const les[] = {"0.001", "0.005", "0.01", "0.025", "0.05", "0.1",
                                      "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"};
    /* 0.2 ms, 3 ms, 20 ms, 2 s. */
    static const uint64_t want[] = {1, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4};
    uint64_t prev = 0;
    for (size_t i = 0; i < PT_ARRAY_LEN(les); i++) {
        char series[128];
        snprintf(series, sizeof(series), "%s_bucket{le=\"%s\"}", n, les[i]);
        uint64_t v = value_of(f.body, series);
        ck_assert_msg(v == want[i], "%s = %llu", series, (unsigned long long)v);
        ck_assert_uint_ge(v, prev);
        prev = v;
    }
    ck_assert_uint_eq(value_of(f.body, "portico_request_duration_seconds_count"), prev);
    /* 2 s set by hand plus the four requests. */
    ck_assert_ptr_nonnull(strstr(f.body, "\nportico_request_duration_seconds_sum 4.02"));
    ck_assert_ptr_nonnull(strstr(f.body, "# TYPE portico_request_duration_seconds histogram\n"));
    teardown_fixture(&f);
}
END_TEST

START_TEST(metrics_escape_label_values)
{
    fixture_t f;
    setup_fixture(&f, PT_METHOD_GET, NULL);
    f.sb = pt_scoreboard_create(1, 1, "a\"b\\c\nd");
    pt_scoreboard_set(f.sb);
    run(&f, pt_metrics_handler);
    ck_assert_ptr_nonnull(strstr(f.body, "portico_info{version=\"" PORTICO_VERSION
                                         "\",mpm=\"a\\\"b\\\\c\\nd\"} 1\n"));
    teardown_fixture(&f);
}
END_TEST

static Suite *status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("server-status");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, auto_text_reports_apache_fields_exactly);
    tcase_add_test(tc, auto_text_names_times_as_apache_does);
    tcase_add_test(tc, auto_text_leaves_out_rates_with_no_requests_and_no_uptime);
    tcase_add_test(tc, html_page_shows_escaped_request_lines_clients_and_vhosts);
    tcase_add_test(tc, html_page_without_extended_status_has_no_worker_table);
    tcase_add_test(tc, html_map_wraps_every_64_slots);
    tcase_add_test(tc, refresh_query_asks_the_browser_to_reload);
    tcase_add_test(tc, head_gets_the_headers_without_a_body);
    tcase_add_test(tc, both_handlers_refuse_post_with_405_and_allow);
    tcase_add_test(tc, both_handlers_answer_503_without_a_scoreboard);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("metrics");
    tcase_set_timeout(tm, 10);
    tcase_add_test(tm, metrics_lines_all_follow_the_exposition_format);
    tcase_add_test(tm, metrics_count_requests_by_class_method_and_bytes);
    tcase_add_test(tm, metrics_histogram_is_cumulative_and_ends_with_its_count);
    tcase_add_test(tm, metrics_escape_label_values);
    suite_add_tcase(s, tm);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(status_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
