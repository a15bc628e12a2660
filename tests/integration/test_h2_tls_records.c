/* HTTP/2 over TLS (ALPN h2) with records on the client's terms, as test_tls_records does for
 * HTTP/1: a record cut in two, its first piece held by OpenSSL (read ahead), must be
 * awaited on the socket, not read for again and again while the client pauses (a busy
 * loop). The HTTP/2 session reads on paths of its own: at its start, right after the
 * handshake (the preface cut), idle between streams (a HEADERS cut), and with a stream in
 * flight (a HEADERS cut while a slow FastCGI answer runs). */
#include "h2_client.h"
#include "harness.h"
#include "tls_client.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAUSE_MS 1000
/* As test_tls_records: a wait takes a few ms of the server's CPU over the pause; a loop
 * some 1,000, and no less than half that on a loaded machine. */
#define PAUSE_CPU_MAX_MS 250
/* A cut after the record's 5-byte header and a few bytes of its ciphertext. */
#define CUT 20
#define FRAME_MS 5000

static const char magic[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static pth_t *h;
static pth_h2_fcgi_t be;
static int tls_port;

static void setup(void)
{
    h = pth_new();
    tls_port = pth_free_port();
    ck_assert_int_eq(pth_h2_fcgi_start(&be, pth_path(h, "be.sock")), 0);
    pth_config(h,
               "KeepAliveTimeout 30\nTimeout 30\nRequestReadTimeout header=30 body=30\n"
               "Protocols h2 http/1.1\n"
               "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\"\n%s",
               pth_tls_vhost_conf(tls_port));
    pth_write_file(h, "index.html", "records", 7);
    pth_start(h);
}

static void teardown(void)
{
    pth_stop(h);
    pth_h2_fcgi_stop(&be);
    pth_free(h);
}

/* The bytes of a GET of path on stream id: one HEADERS frame (END_STREAM, END_HEADERS). */
static size_t get_bytes(pth_h2_t *c, int32_t id, const char *path, uint8_t *out, size_t cap)
{
    const char *n[] = {":method", ":scheme", ":path", ":authority"};
    const char *v[] = {"GET", "https", path, "a.test"};
    uint8_t blk[256];
    size_t k = pth_h2_block(c, blk, sizeof(blk), n, v, 4);
    pth_assert(k > 0);
    size_t len = pth_h2_frame_bytes(out, cap, NGHTTP2_HEADERS,
                                    NGHTTP2_FLAG_END_STREAM | NGHTTP2_FLAG_END_HEADERS, id, blk, k);
    pth_assert(len > 0);
    return len;
}

/* The preface and an empty SETTINGS, as one piece of application data. */
static size_t preface_bytes(uint8_t *out, size_t cap)
{
    memcpy(out, magic, 24);
    size_t k = pth_h2_frame_bytes(out + 24, cap - 24, NGHTTP2_SETTINGS, 0, 0, NULL, 0);
    pth_assert(k > 0);
    return 24 + k;
}

/* After the client's preface: the server's SETTINGS answered, and the server's ACK of ours
 * awaited, so that it has read all the client sent so far. */
static void settle(pth_h2_t *c)
{
    bool acked = false, answered = false;
    while (!acked || !answered) {
        pth_h2_frame_t f;
        ck_assert_int_eq(pth_h2_read(c, &f, FRAME_MS), 0);
        if (f.type == NGHTTP2_SETTINGS && (f.flags & NGHTTP2_FLAG_ACK))
            acked = true;
        else if (f.type == NGHTTP2_SETTINGS) {
            ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0, NULL, 0), 0);
            answered = true;
        }
        ck_assert_int_ne(f.type, NGHTTP2_GOAWAY);
        pth_h2_frame_free(&f);
    }
}

/* A stream's answer: its :status and body (DATA up to END_STREAM). */
typedef struct {
    int32_t id;
    int status;
    char body[64];
    size_t len;
    bool done;
} answer_t;

/* Reads frames until each of the n streams has ended, whatever their order. */
static void read_answers(pth_h2_t *c, answer_t *as, size_t n)
{
    for (size_t left = n; left > 0;) {
        pth_h2_frame_t f;
        ck_assert_int_eq(pth_h2_read(c, &f, FRAME_MS), 0);
        ck_assert_msg(f.type != NGHTTP2_GOAWAY && f.type != NGHTTP2_RST_STREAM,
                      "frame type %d on stream %d", f.type, f.stream);
        for (size_t i = 0; i < n; i++) {
            answer_t *a = &as[i];
            if (f.stream != a->id || a->done)
                continue;
            if (f.type == NGHTTP2_HEADERS && f.status)
                a->status = f.status;
            if (f.type == NGHTTP2_DATA) {
                ck_assert_uint_lt(a->len + f.length, sizeof(a->body));
                memcpy(a->body + a->len, f.payload, f.length);
                a->len += f.length;
            }
            if (f.flags & NGHTTP2_FLAG_END_STREAM)
                a->done = true, left--;
        }
        pth_h2_frame_free(&f);
    }
}

/* The server's CPU time over the pause after a cut record's first piece went out. */
static long pause_cpu_ms(void)
{
    pth_sleep_ms(100); /* the server has read the piece */
    long before = pth_children_cpu_ms(h->pid, true);
    pth_sleep_ms(PAUSE_MS);
    return pth_children_cpu_ms(h->pid, true) - before;
}

static void assert_awaited(long spent, const char *what)
{
    ck_assert_msg(spent <= PAUSE_CPU_MAX_MS,
                  "the server took %ld ms of CPU in %d ms waiting for the rest of %s", spent,
                  PAUSE_MS, what);
    fprintf(stderr, "h2_tls_records %s: %s: %ld ms of CPU in the %d ms pause\n", pth_mpm(), what,
            spent, PAUSE_MS);
}

START_TEST(a_preface_cut_inside_its_record_is_awaited_without_a_busy_loop)
{
    pth_tls_conn_t t;
    pth_tls_conn_open_alpn(&t, tls_port, "a.test", "h2");
    pth_h2_t *c = pth_tls_conn_h2(&t);
    uint8_t pre[64];
    pth_tls_conn_send_cut(&t, pre, preface_bytes(pre, sizeof(pre)), CUT);
    long spent = pause_cpu_ms();
    pth_tls_conn_send_rest(&t);
    settle(c);
    uint8_t get[256];
    pth_tls_conn_send(&t, get, get_bytes(c, 1, "/", get, sizeof(get)));
    answer_t a = {.id = 1};
    read_answers(c, &a, 1);
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body, "records");
    pth_h2_close(c);
    pth_tls_conn_close(&t);
    assert_awaited(spent, "a preface");
}
END_TEST

START_TEST(a_headers_frame_cut_inside_its_record_is_awaited_without_a_busy_loop)
{
    pth_tls_conn_t t;
    pth_tls_conn_open_alpn(&t, tls_port, "a.test", "h2");
    pth_h2_t *c = pth_tls_conn_h2(&t);
    uint8_t buf[256];
    pth_tls_conn_send(&t, buf, preface_bytes(buf, sizeof(buf)));
    settle(c);
    pth_tls_conn_send_cut(&t, buf, get_bytes(c, 1, "/", buf, sizeof(buf)), CUT);
    long spent = pause_cpu_ms();
    pth_tls_conn_send_rest(&t);
    answer_t a = {.id = 1};
    read_answers(c, &a, 1);
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body, "records");
    pth_h2_close(c);
    pth_tls_conn_close(&t);
    assert_awaited(spent, "a HEADERS frame");
}
END_TEST

/* The session has a stream in flight (FastCGI "slow" answers after 1 s, in a process not
 * the server's), so it waits on its socket and on its streams' wakeup at once, not parked
 * as idle: so for most of the pause (the slow answer ends in it). */
START_TEST(a_headers_frame_cut_beside_a_stream_in_flight_is_awaited_without_a_busy_loop)
{
    pth_tls_conn_t t;
    pth_tls_conn_open_alpn(&t, tls_port, "a.test", "h2");
    pth_h2_t *c = pth_tls_conn_h2(&t);
    uint8_t buf[256];
    pth_tls_conn_send(&t, buf, preface_bytes(buf, sizeof(buf)));
    settle(c);
    pth_tls_conn_send(&t, buf, get_bytes(c, 1, "/f/slow", buf, sizeof(buf)));
    pth_tls_conn_send_cut(&t, buf, get_bytes(c, 3, "/", buf, sizeof(buf)), CUT);
    long spent = pause_cpu_ms();
    pth_tls_conn_send_rest(&t);
    answer_t as[2] = {{.id = 1}, {.id = 3}};
    read_answers(c, as, 2);
    ck_assert_int_eq(as[0].status, 200);
    ck_assert_str_eq(as[0].body, "slow");
    ck_assert_int_eq(as[1].status, 200);
    ck_assert_str_eq(as[1].body, "records");
    pth_h2_close(c);
    pth_tls_conn_close(&t);
    assert_awaited(spent, "a HEADERS frame beside a stream in flight");
}
END_TEST

int main(void)
{
    pth_tls_pki();
    Suite *s = suite_create("h2_tls_records");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_preface_cut_inside_its_record_is_awaited_without_a_busy_loop);
    tcase_add_test(tc, a_headers_frame_cut_inside_its_record_is_awaited_without_a_busy_loop);
    tcase_add_test(tc,
                   a_headers_frame_cut_beside_a_stream_in_flight_is_awaited_without_a_busy_loop);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
