/* HTTP/2 over cleartext (h2c) with real clients: libcurl (prior knowledge and Upgrade),
 * nghttp and h2load; 100 concurrent streams to a slow FastCGI backend on one connection
 * finish in about one backend latency; 16 MiB intact; a request body to FastCGI intact;
 * an idle connection gets GOAWAY at KeepAliveTimeout; Protocols without h2c refuses. */
#include "h2_client.h"
#include "harness.h"
#include "http_backend.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pth_t *h;
static pth_h2_fcgi_t be;

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "a.txt", "hello h2\n");
    ck_assert_int_eq(pth_h2_fcgi_start(&be, pth_path(h, "be.sock")), 0);
    pth_config(h, "Protocols h2c http/1.1\nKeepAliveTimeout 1\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\" max=200\n");
    pth_start(h);
}

static void teardown(void)
{
    pth_stop(h);
    pth_h2_fcgi_stop(&be);
    pth_free(h);
    h = NULL;
}

typedef struct {
    char *p;
    size_t n, cap;
} sink_t;

static size_t on_data(char *p, size_t sz, size_t nm, void *u)
{
    sink_t *s = u;
    if (s->n + sz * nm + 1 > s->cap) { /* (doubling: 16 MiB in 16 KB pieces stays linear) */
        s->cap = (s->n + sz * nm + 1) * 2;
        s->p = realloc(s->p, s->cap);
    }
    memcpy(s->p + s->n, p, sz * nm);
    s->n += sz * nm;
    s->p[s->n] = '\0';
    return sz * nm;
}

static CURL *easy(const char *path, long version, sink_t *out)
{
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", h->port, path);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, version);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    return e;
}

/* One request; returns the status and the HTTP version curl used (2 or 1). */
static long fetch(const char *path, long version, sink_t *out, long *used)
{
    CURL *e = easy(path, version, out);
    ck_assert_int_eq(curl_easy_perform(e), CURLE_OK);
    long code = 0, v = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &v);
    *used = v == CURL_HTTP_VERSION_2_0 ? 2 : 1;
    curl_easy_cleanup(e);
    return code;
}

START_TEST(curl_prior_knowledge_and_upgrade_get_a_static_file)
{
    sink_t a = {0}, b = {0};
    long v = 0;
    ck_assert_int_eq(fetch("/a.txt", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &a, &v), 200);
    ck_assert_int_eq(v, 2);
    ck_assert_str_eq(a.p, "hello h2\n");
    ck_assert_int_eq(fetch("/a.txt", CURL_HTTP_VERSION_2_0, &b, &v), 200);
    ck_assert_int_eq(v, 2); /* Upgrade: h2c, 101, then stream 1 */
    ck_assert_str_eq(b.p, "hello h2\n");
    free(a.p), free(b.p);
    ck_assert(pth_file_wait_contains(h->access_log, "\"GET /a.txt HTTP/2.0\" 200 9", 3000));
}
END_TEST

/* The body of stream id (DATA frames up to END_STREAM), into out (cap, NUL-ended). */
static void read_body(pth_h2_t *c, int32_t id, char *out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        pth_h2_frame_t f;
        ck_assert_int_eq(pth_h2_read(c, &f, 5000), 0);
        bool end = f.stream == id && (f.flags & NGHTTP2_FLAG_END_STREAM);
        if (f.type == NGHTTP2_DATA && f.stream == id) {
            ck_assert_uint_lt(n + f.length, cap);
            memcpy(out + n, f.payload, f.length);
            n += f.length;
        }
        pth_h2_frame_free(&f);
        if (end)
            break;
    }
    out[n] = '\0';
}

/* Streams a read starts share one look at a file (walk.h's memo); a request sent after the
 * file changed, on the same connection, gets the new file. */
START_TEST(a_file_changed_between_two_requests_on_one_connection_is_served_new)
{
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    char body[64];
    ck_assert_int_eq(pth_h2_get(c, 1, "/a.txt"), 0);
    read_body(c, 1, body, sizeof(body));
    ck_assert_str_eq(body, "hello h2\n");
    pth_write_filef(h, "a.txt", "changed, longer\n");
    ck_assert_int_eq(pth_h2_get(c, 3, "/a.txt"), 0);
    read_body(c, 3, body, sizeof(body));
    ck_assert_str_eq(body, "changed, longer\n");
    pth_h2_close(c);
}
END_TEST

START_TEST(sixteen_mib_arrive_intact)
{
    size_t n = 16u << 20;
    uint8_t *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (uint8_t)(i * 7 + (i >> 13));
    pth_write_file(h, "big.bin", big, n);
    sink_t s = {0};
    long v = 0;
    ck_assert_int_eq(fetch("/big.bin", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &s, &v), 200);
    ck_assert_int_eq(v, 2);
    ck_assert_uint_eq(s.n, n);
    ck_assert(memcmp(s.p, big, n) == 0);
    free(s.p);
    free(big);
}
END_TEST

START_TEST(a_request_body_reaches_fastcgi_intact)
{
    size_t n = 3u << 20; /* many windows' worth */
    uint8_t *body = malloc(n);
    for (size_t i = 0; i < n; i++)
        body[i] = (uint8_t)(i * 13 + (i >> 11));
    sink_t s = {0};
    CURL *e = easy("/f/echo", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &s);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    ck_assert_int_eq(curl_easy_perform(e), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(e);
    ck_assert_int_eq(code, 200);
    char want[128];
    snprintf(want, sizeof(want), "len=%zu sum=%llu", n,
             (unsigned long long)pth_h2_sum(body, n));
    ck_assert_str_eq(s.p, want);
    free(s.p);
    free(body);
}
END_TEST

static void run_multi(CURLM *m, int ms)
{
    int64_t t0 = pth_now_ms();
    int running = 1;
    while (running && pth_now_ms() - t0 < ms) {
        curl_multi_perform(m, &running);
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
}

/* An HTTP/1.1 origin behind ProxyPass: a request body streams to it intact (its SHA-256
 * as the origin saw it) and a 16 MiB response streams back intact. */
START_TEST(a_proxied_origin_gets_the_body_and_streams_the_answer)
{
    pth_http_backend_t hb;
    pth_http_backend_start_must(&hb, NULL);
    pth_stop(h);
    pth_config(h, "Protocols h2c http/1.1\nProxyPass /b/ http://127.0.0.1:%d/\n", hb.port);
    pth_start(h);
    size_t n = 3u << 20;
    uint8_t *body = malloc(n);
    pth_http_pattern_fill(body, n, 0);
    char sha[65], want[128];
    pth_sha256_hex(body, n, sha);
    sink_t s = {0};
    CURL *e = easy("/b/echo", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &s);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    ck_assert_int_eq(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(e);
    snprintf(want, sizeof(want), "body-len: %zu\nbody-sha256: %s\n", n, sha);
    ck_assert_msg(s.p && strstr(s.p, want), "origin saw: %s", s.p ? s.p : "(nothing)");
    free(s.p);
    free(body);
    size_t big = 16u << 20;
    sink_t r = {0};
    long v = 0;
    char path[64];
    snprintf(path, sizeof(path), "/b/bytes?n=%zu", big);
    ck_assert_int_eq(fetch(path, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &r, &v), 200);
    ck_assert_int_eq(v, 2);
    ck_assert_uint_eq(r.n, big);
    uint8_t *exp = malloc(big);
    pth_http_pattern_fill(exp, big, 0);
    ck_assert(memcmp(r.p, exp, big) == 0);
    free(exp);
    free(r.p);
    pth_http_backend_stop(&hb);
}
END_TEST

/* 100 streams on one connection, each waiting 1 s on the backend: together, not queued.
 * libcurl's connection is made by Upgrade: h2c on a first request (curl 7.88 fails
 * requests that would reuse a prior-knowledge connection: "Error in the HTTP2 framing
 * layer" at once, before sending anything); h2load below does prior knowledge. */
START_TEST(a_hundred_slow_streams_on_one_connection_finish_together)
{
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
    sink_t first = {0};
    CURL *f = easy("/f/ok", CURL_HTTP_VERSION_2_0, &first);
    curl_multi_add_handle(m, f);
    run_multi(m, 10000);
    long v = 0;
    curl_easy_getinfo(f, CURLINFO_HTTP_VERSION, &v);
    ck_assert_int_eq(v, CURL_HTTP_VERSION_2_0);
    CURL *e[100];
    sink_t s[100] = {{0}};
    for (int i = 0; i < 100; i++) {
        e[i] = easy("/f/slow", CURL_HTTP_VERSION_2_0, &s[i]);
        curl_multi_add_handle(m, e[i]);
    }
    int64_t t0 = pth_now_ms();
    run_multi(m, 20000);
    int64_t took = pth_now_ms() - t0;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)))
        ck_assert_msg(msg->data.result == CURLE_OK, "curl: %s",
                      curl_easy_strerror(msg->data.result));
    long conns = 0;
    for (int i = 0; i < 100; i++) {
        long code = 0, c = 0;
        curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(e[i], CURLINFO_NUM_CONNECTS, &c);
        conns += c;
        ck_assert_int_eq(code, 200);
        ck_assert_str_eq(s[i].p, "slow");
        curl_multi_remove_handle(m, e[i]);
        curl_easy_cleanup(e[i]);
        free(s[i].p);
    }
    curl_multi_remove_handle(m, f);
    curl_easy_cleanup(f);
    free(first.p);
    curl_multi_cleanup(m);
    ck_assert_int_eq(conns, 0); /* all on the first request's connection */
    ck_assert_msg(took < 4000, "100 streams of 1 s took %lld ms", (long long)took);
}
END_TEST

/* The same with h2load by prior knowledge: one connection, 100 streams at once. */
START_TEST(h2load_runs_a_hundred_slow_streams_at_once)
{
    char url[128], *out = NULL;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/f/slow", h->port);
    char *ld[] = {"h2load", "-n", "100", "-c", "1", "-m", "100", url, NULL};
    int64_t t0 = pth_now_ms();
    ck_assert_int_eq(pth_h2_run(ld, 30000, &out), 0);
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(strstr(out, "100 succeeded, 0 failed, 0 errored"), "h2load: %s", out);
    ck_assert_msg(took < 4000, "100 streams of 1 s took %lld ms", (long long)took);
    free(out);
}
END_TEST

START_TEST(nghttp_and_h2load_are_served)
{
    char url[128], *out = NULL;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/a.txt", h->port);
    char *ng[] = {"nghttp", "-n", "-s", url, url, NULL};
    ck_assert_int_eq(pth_h2_run(ng, 20000, &out), 0);
    free(out);
    char *ld[] = {"h2load", "-n", "2000", "-c", "4", "-m", "10", url, NULL};
    ck_assert_int_eq(pth_h2_run(ld, 60000, &out), 0);
    ck_assert_msg(strstr(out, "2000 succeeded, 0 failed, 0 errored"), "h2load: %s", out);
    free(out);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/f/ok", h->port);
    char *ld2[] = {"h2load", "-n", "500", "-c", "2", "-m", "20", url, NULL};
    ck_assert_int_eq(pth_h2_run(ld2, 60000, &out), 0);
    ck_assert_msg(strstr(out, "500 succeeded, 0 failed, 0 errored"), "h2load: %s", out);
    free(out);
}
END_TEST

/* KeepAliveTimeout 1: an idle session is closed with GOAWAY NO_ERROR about then. */
START_TEST(an_idle_session_gets_goaway_at_keepalive_timeout)
{
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(pth_h2_get(c, 1, "/a.txt"), 0);
    int status = 0;
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 1, 3000, NULL, &status), NGHTTP2_HEADERS);
    ck_assert_int_eq(status, 200);
    int64_t t0 = pth_now_ms();
    uint32_t code = 99;
    ck_assert(pth_h2_goaway(c, 5000, &code));
    int64_t took = pth_now_ms() - t0;
    ck_assert_uint_eq(code, NGHTTP2_NO_ERROR);
    ck_assert_msg(took > 500 && took < 3000, "GOAWAY after %lld ms", (long long)took);
    pth_h2_close(c);
}
END_TEST

/* Event MPM: an idle session holds no worker. One child of 2 workers, 12 idle sessions
 * (each after a request), and a new client is still served at once. */
START_TEST(idle_sessions_hold_no_worker)
{
    pth_stop(h);
    pth_config(h, "Protocols h2c http/1.1\nKeepAliveTimeout 30\nStartServers 1\n"
                  "ServerLimit 1\nThreadLimit 2\nThreadsPerChild 2\nMinSpareThreads 1\n"
                  "MaxSpareThreads 2\nMaxRequestWorkers 2\n");
    pth_start(h);
    pth_h2_t *idle[12];
    for (int i = 0; i < 12; i++) {
        idle[i] = pth_h2_open(h->port, true);
        ck_assert_ptr_nonnull(idle[i]);
        ck_assert_int_eq(pth_h2_get(idle[i], 1, "/a.txt"), 0);
        int status = 0;
        ck_assert_int_eq(pth_h2_expect(idle[i], NGHTTP2_HEADERS, 1, 3000, NULL, &status),
                         NGHTTP2_HEADERS);
        ck_assert_int_eq(status, 200);
    }
    sink_t s = {0};
    long v = 0;
    int64_t t0 = pth_now_ms();
    ck_assert_int_eq(fetch("/a.txt", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &s, &v), 200);
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(took < 1000, "a new client waited %lld ms", (long long)took);
    free(s.p);
    for (int i = 0; i < 12; i++) /* and the idle ones are still served */
        ck_assert_int_eq(pth_h2_get(idle[i], 3, "/a.txt"), 0);
    for (int i = 0; i < 12; i++) {
        int status = 0;
        ck_assert_int_eq(pth_h2_expect(idle[i], NGHTTP2_HEADERS, 3, 3000, NULL, &status),
                         NGHTTP2_HEADERS);
        pth_h2_close(idle[i]);
    }
}
END_TEST

/* Event MPM: a session whose streams are running holds no worker either (it parks on its
 * socket and its wakeup). One child of 2 workers, 4 sessions each waiting 1 s on the
 * backend: a new client is served meanwhile, and each session gets its answer. (Before,
 * two busy sessions held both workers and the rest waited for them.) */
START_TEST(busy_sessions_hold_no_worker)
{
    pth_stop(h);
    pth_config(h, "Protocols h2c http/1.1\nKeepAliveTimeout 30\nStartServers 1\n"
                  "ServerLimit 1\nThreadLimit 2\nThreadsPerChild 2\nMinSpareThreads 1\n"
                  "MaxSpareThreads 2\nMaxRequestWorkers 2\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\" max=20\n");
    pth_start(h);
    pth_h2_t *busy[4];
    for (int i = 0; i < 4; i++) {
        busy[i] = pth_h2_open(h->port, true);
        ck_assert_ptr_nonnull(busy[i]);
        ck_assert_int_eq(pth_h2_get(busy[i], 1, "/f/slow"), 0);
    }
    sink_t s = {0};
    long v = 0;
    int64_t t0 = pth_now_ms();
    ck_assert_int_eq(fetch("/a.txt", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &s, &v), 200);
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(took < 700, "a new client waited %lld ms", (long long)took);
    free(s.p);
    for (int i = 0; i < 4; i++) {
        int status = 0;
        ck_assert_int_eq(pth_h2_expect(busy[i], NGHTTP2_HEADERS, 1, 5000, NULL, &status),
                         NGHTTP2_HEADERS);
        ck_assert_int_eq(status, 200);
        pth_h2_close(busy[i]);
    }
}
END_TEST

/* A static file is answered on the session's own thread (no hand-off to the pool), a
 * backend's answer on the pool: on one connection, the file behind a slow stream comes at
 * once, then the slow one; a file over H2StreamMaxMemSize and a Range go to the pool and
 * arrive whole. */
START_TEST(a_static_file_is_not_held_up_by_a_slow_stream_on_its_connection)
{
    pth_stop(h);
    char big[100000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    pth_write_file(h, "big.txt", big, sizeof(big));
    pth_config(h, "Protocols h2c http/1.1\nH2StreamMaxMemSize 16384\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\"\n");
    pth_start(h);
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(pth_h2_get(c, 1, "/f/slow"), 0);
    ck_assert_int_eq(pth_h2_get(c, 3, "/a.txt"), 0);
    int status = 0;
    int64_t t0 = pth_now_ms();
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, -1, 3000, NULL, &status), NGHTTP2_HEADERS);
    ck_assert_int_eq(status, 200);
    ck_assert_msg(pth_now_ms() - t0 < 700, "the file waited %lld ms",
                  (long long)(pth_now_ms() - t0));
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 1, 3000, NULL, &status), NGHTTP2_HEADERS);
    ck_assert_int_eq(status, 200);
    pth_h2_close(c);
    sink_t s = {0};
    long v = 0;
    ck_assert_int_eq(fetch("/big.txt", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &s, &v), 200);
    ck_assert_int_eq(v, 2);
    ck_assert_uint_eq(s.n, sizeof(big));
    ck_assert(memcmp(s.p, big, sizeof(big)) == 0);
    free(s.p);
}
END_TEST

/* A graceful restart (USR1): each session of the old child gets GOAWAY NO_ERROR naming
 * the last stream it started; a stream in flight finishes, then the connection closes.
 * (A prefork child, one connection at a time, says it once its streams are done.) */
START_TEST(a_graceful_restart_sends_goaway_and_lets_streams_finish)
{
    pth_h2_t *idle = pth_h2_open(h->port, true), *busy = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(idle);
    ck_assert_ptr_nonnull(busy);
    int status = 0;
    ck_assert_int_eq(pth_h2_get(idle, 1, "/a.txt"), 0);
    ck_assert_int_eq(pth_h2_expect(idle, NGHTTP2_HEADERS, 1, 3000, NULL, &status),
                     NGHTTP2_HEADERS);
    ck_assert_int_eq(pth_h2_get(busy, 1, "/a.txt"), 0);
    ck_assert_int_eq(pth_h2_expect(busy, NGHTTP2_HEADERS, 1, 3000, NULL, &status),
                     NGHTTP2_HEADERS);
    ck_assert_int_eq(pth_h2_get(busy, 3, "/f/slow"), 0);
    /* Frames are taken in order: once the PING is answered, stream 3 has started. */
    pth_h2_frame(busy, NGHTTP2_PING, 0, 0, "12345678", 8);
    ck_assert_int_eq(pth_h2_expect(busy, NGHTTP2_PING, 0, 3000, NULL, NULL), NGHTTP2_PING);
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    uint32_t code = 99;
    ck_assert(pth_h2_goaway(idle, 3000, &code));
    ck_assert_uint_eq(code, NGHTTP2_NO_ERROR);
    ck_assert_int_eq(idle->goaway_last, 1);
    bool goaway = false, answered = false;
    for (int i = 0; i < 2; i++) {
        int t = pth_h2_expect(busy, NGHTTP2_HEADERS, 3, 5000, &code, &status);
        if (t == NGHTTP2_GOAWAY) {
            goaway = true;
            ck_assert_uint_eq(code, NGHTTP2_NO_ERROR);
            ck_assert_int_eq(busy->goaway_last, 3);
        } else {
            ck_assert_int_eq(t, NGHTTP2_HEADERS);
            ck_assert_int_eq(status, 200);
            answered = true;
        }
    }
    ck_assert(goaway && answered);
    pth_h2_frame_t f;
    int rc;
    int64_t t0 = pth_now_ms();
    while ((rc = pth_h2_read(busy, &f, 3000)) == 0 && pth_now_ms() - t0 < 3000)
        pth_h2_frame_free(&f);
    ck_assert_int_eq(rc, -ECONNRESET); /* closed after its last stream */
    pth_h2_close(idle);
    pth_h2_close(busy);
}
END_TEST

START_TEST(protocols_without_h2c_refuse_prior_knowledge_and_ignore_upgrade)
{
    pth_stop(h);
    pth_config(h, "Protocols http/1.1\n");
    pth_start(h);
    sink_t s = {0};
    long v = 0;
    ck_assert_int_eq(fetch("/a.txt", CURL_HTTP_VERSION_2_0, &s, &v), 200);
    ck_assert_int_eq(v, 1);
    free(s.p);
    CURL *e = easy("/a.txt", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &s);
    s.p = NULL, s.n = s.cap = 0;
    ck_assert_int_ne(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(e);
    free(s.p);
}
END_TEST

/* A GET for / naming host on stream id; the body of its answer (a malloc'd string). */
static char *get_site(pth_h2_t *c, int32_t id, const char *host)
{
    const char *n[] = {":method", ":scheme", ":path", ":authority"};
    const char *v[] = {"GET", "http", "/", host};
    uint8_t blk[256];
    size_t k = pth_h2_block(c, blk, sizeof(blk), n, v, 4);
    uint8_t flags = NGHTTP2_FLAG_END_STREAM | NGHTTP2_FLAG_END_HEADERS;
    ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_HEADERS, flags, id, blk, k), 0);
    char *body = calloc(1, 1);
    size_t len = 0;
    for (;;) {
        pth_h2_frame_t f;
        ck_assert_int_eq(pth_h2_read(c, &f, 5000), 0);
        bool end = f.stream == id && (f.flags & NGHTTP2_FLAG_END_STREAM);
        if (f.stream == id && f.type == NGHTTP2_DATA) {
            body = realloc(body, len + f.length + 1);
            memcpy(body + len, f.payload, f.length);
            len += f.length;
            body[len] = '\0';
        }
        ck_assert_int_ne(f.type, NGHTTP2_RST_STREAM);
        ck_assert_int_ne(f.type, NGHTTP2_GOAWAY);
        pth_h2_frame_free(&f);
        if (end)
            return body;
    }
}

START_TEST(streams_of_one_connection_reach_the_servers_their_hosts_name)
{
    /* The session keeps the server the last stream's host went to: a stream naming another
     * host on the same connection must still reach its own. */
    pth_stop(h);
    pth_write_dir_file(h, "a/index.html", "site a", 6);
    pth_write_dir_file(h, "b/index.html", "site b", 6);
    pth_config(h, "Protocols h2c http/1.1\n"
                  "<VirtualHost *:@PORT@>\nServerName a.test\nDocumentRoot @DIR@/a\n"
                  "</VirtualHost>\n"
                  "<VirtualHost *:@PORT@>\nServerName b.test\nDocumentRoot @DIR@/b\n"
                  "</VirtualHost>\n"
                  "<Directory @DIR@>\nRequire all granted\n</Directory>\n");
    pth_start(h);
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    /* (Another authority with the same host, then that authority again, then another host:
     * the session's kept host and its kept server must not answer for each other.) */
    const char *host[] = {"a.test",    "b.test",    "b.test", "A.test:80", "b.test.",
                          "a.test",    "a.test:80", "a.test:80", "b.test", "b.test:80",
                          "a.test:80", "b.test:80"};
    const char *want[] = {"site a", "site b", "site b", "site a", "site b", "site a",
                          "site a", "site a", "site b", "site b", "site a", "site b"};
    for (int i = 0; i < 12; i++) {
        char *body = get_site(c, 2 * i + 1, host[i]);
        ck_assert_msg(strcmp(body, want[i]) == 0, "%s: %s", host[i], body);
        free(body);
    }
    pth_h2_close(c);
}
END_TEST

START_TEST(a_stream_takes_its_client_address_from_a_trusted_proxy)
{
    /* mod_remoteip's step runs for a stream as for an HTTP/1 request: %a in the access log
     * and Require ip use the address the trusted proxy forwarded. */
    pth_stop(h);
    pth_config(h, "Protocols h2c http/1.1\nRemoteIPHeader X-Forwarded-For\n"
                  "RemoteIPInternalProxy 127.0.0.1\nLogFormat \"%%a %%{c}a %%s\" rip\n"
                  "CustomLog @DIR@/rip.log rip\n<Location /only>\nRequire ip 198.51.100.0/24\n"
                  "</Location>\n");
    pth_write_filef(h, "only", "allowed\n");
    pth_expect_error(h, "AH01630: client denied by server configuration");
    pth_start(h);
    sink_t s = {0};
    long v = 0;
    CURL *e = easy("/only", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &s);
    struct curl_slist *hdr = curl_slist_append(NULL, "X-Forwarded-For: 198.51.100.9");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
    ck_assert_int_eq(curl_easy_perform(e), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &v);
    ck_assert_int_eq(v, CURL_HTTP_VERSION_2_0);
    ck_assert_int_eq(code, 200);
    curl_easy_cleanup(e);
    curl_slist_free_all(hdr);
    free(s.p);
    s.p = NULL, s.n = s.cap = 0;
    ck_assert_int_eq(fetch("/only", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &s, &v), 403);
    free(s.p);
    pth_stop(h);
    size_t n;
    char *log = pth_read_file(pth_path(h, "rip.log"), &n);
    ck_assert_msg(log && strstr(log, "198.51.100.9 127.0.0.1 200\n") &&
                  strstr(log, "127.0.0.1 127.0.0.1 403\n"), "access log: %s", log ? log : "-");
    free(log);
}
END_TEST

static Suite *h2_suite(void)
{
    Suite *s = suite_create("h2");
    TCase *tc = tcase_create("h2c");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, curl_prior_knowledge_and_upgrade_get_a_static_file);
    tcase_add_test(tc, a_file_changed_between_two_requests_on_one_connection_is_served_new);
    tcase_add_test(tc, sixteen_mib_arrive_intact);
    tcase_add_test(tc, a_request_body_reaches_fastcgi_intact);
    tcase_add_test(tc, a_proxied_origin_gets_the_body_and_streams_the_answer);
    tcase_add_test(tc, a_hundred_slow_streams_on_one_connection_finish_together);
    tcase_add_test(tc, h2load_runs_a_hundred_slow_streams_at_once);
    tcase_add_test(tc, nghttp_and_h2load_are_served);
    tcase_add_test(tc, an_idle_session_gets_goaway_at_keepalive_timeout);
    tcase_add_test(tc, a_static_file_is_not_held_up_by_a_slow_stream_on_its_connection);
    tcase_add_test(tc, protocols_without_h2c_refuse_prior_knowledge_and_ignore_upgrade);
    tcase_add_test(tc, a_stream_takes_its_client_address_from_a_trusted_proxy);
    tcase_add_test(tc, streams_of_one_connection_reach_the_servers_their_hosts_name);
    pth_tcase_add_for(tc, "event", idle_sessions_hold_no_worker);
    pth_tcase_add_for(tc, "event", busy_sessions_hold_no_worker);
    tcase_add_test(tc, a_graceful_restart_sends_goaway_and_lets_streams_finish);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    SRunner *sr = srunner_create(h2_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
