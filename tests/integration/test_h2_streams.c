/* What a stream leaves behind on its connection, with raw frames (tests/support/h2_client.c):
 * the connection window its unread request body held, the pool workers of streams the client
 * reset, the Host a request's rules see, and a response that waits for the client's window
 * when a graceful restart begins. */
#include "h2_client.h"
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pth_t *h;
static pth_h2_fcgi_t be;

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "a.txt", "hello h2\n");
    ck_assert_int_eq(pth_h2_fcgi_start(&be, pth_path(h, "be.sock")), 0);
}

static void teardown(void)
{
    pth_stop(h);
    pth_h2_fcgi_stop(&be);
    pth_free(h);
    h = NULL;
}

static void headers(pth_h2_t *c, int32_t id, const char *const *n, const char *const *v,
                    size_t k, bool end)
{
    uint8_t blk[512];
    size_t bl = pth_h2_block(c, blk, sizeof(blk), n, v, k);
    ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_HEADERS,
                                  NGHTTP2_FLAG_END_HEADERS | (end ? NGHTTP2_FLAG_END_STREAM : 0),
                                  id, blk, bl),
                     0);
}

static void post(pth_h2_t *c, int32_t id, const char *path, const char *len)
{
    const char *n[] = {":method", ":scheme", ":path", ":authority", "content-length"};
    const char *v[] = {"POST", "http", path, "localhost", len};
    headers(c, id, n, v, 5, false);
}

/* A connection whose client gives each stream a window of 1000 bytes, and GET path on
 * stream 1, read until those 1000 bytes came (asserted); *status (if given): the answer's. */
static pth_h2_t *get_through_a_small_window(const char *path, int *status)
{
    pth_h2_t *c = pth_h2_open(h->port, false);
    ck_assert_ptr_nonnull(c);
    static const char magic[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    ck_assert_int_eq(send(c->fd, magic, 24, MSG_NOSIGNAL), 24);
    uint8_t set[6] = {0, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0, 0, 0x03, 0xe8}; /* 1000 */
    ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_SETTINGS, 0, 0, set, 6), 0);
    ck_assert_int_eq(pth_h2_get(c, 1, path), 0);
    size_t got = 0;
    pth_h2_frame_t f;
    for (int64_t end = pth_now_ms() + 5000; got < 1000 && pth_now_ms() < end;) {
        if (pth_h2_read(c, &f, 1000) != 0)
            break;
        if (status && f.type == NGHTTP2_HEADERS && f.stream == 1)
            *status = f.status;
        if (f.type == NGHTTP2_DATA && f.stream == 1)
            got += f.length;
        pth_h2_frame_free(&f);
    }
    ck_assert_uint_eq(got, 1000);
    return c;
}

/* Body bytes of streams the client reset before their handler read them are given back to
 * the connection's window: with H2MaxSessionStreams 1 that window is 65535 bytes, and three
 * reset uploads of 16 KiB each would otherwise leave too little for a 32 KiB one (the
 * client that sends it anyway gets GOAWAY FLOW_CONTROL_ERROR). */
START_TEST(a_reset_upload_gives_its_bytes_back_to_the_connection_window)
{
    pth_config(h, "Protocols h2c http/1.1\nH2MaxSessionStreams 1\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\"\n");
    pth_start(h);
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    static uint8_t data[16384];
    memset(data, 'x', sizeof(data));
    uint8_t cancel[4] = {0, 0, 0, NGHTTP2_CANCEL};
    for (int i = 0; i < 3; i++) {
        int32_t id = 1 + 2 * i;
        pth_h2_cork(c, true);
        post(c, id, "/f/echo", "100000");
        ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_DATA, 0, id, data, sizeof(data)), 0);
        ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_RST_STREAM, 0, id, cancel, 4), 0);
        pth_h2_cork(c, false);
        pth_sleep_ms(200);
    }
    post(c, 7, "/f/echo", "32768");
    ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_DATA, 0, 7, data, sizeof(data)), 0);
    ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_DATA, NGHTTP2_FLAG_END_STREAM, 7, data,
                                  sizeof(data)),
                     0);
    uint32_t code = 0;
    int status = 0;
    int t = pth_h2_expect(c, NGHTTP2_HEADERS, 7, 5000, &code, &status);
    ck_assert_msg(t == NGHTTP2_HEADERS && status == 200, "frame type %d, code %u, status %d",
                  t, code, status);
    pth_h2_close(c);
}
END_TEST

/* Streams reset while their handler runs count against H2MaxSessionStreams until it ends:
 * a connection that opens and resets slow streams holds one pool worker here, not all
 * eight, and another client's one-second request runs at once. The refused streams get
 * REFUSED_STREAM, and a log line. */
START_TEST(reset_streams_still_running_count_against_the_session_limit)
{
    pth_config(h, "Protocols h2c http/1.1\nH2MaxSessionStreams 1\nH2MaxWorkers 8\n"
                  "LogLevel info\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\" max=50\n");
    pth_start(h);
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    uint8_t cancel[4] = {0, 0, 0, NGHTTP2_CANCEL};
    for (int i = 0; i < 8; i++) {
        int32_t id = 1 + 2 * i;
        ck_assert_int_eq(pth_h2_get(c, id, "/f/slow"), 0);
        /* Reset once the server has taken the stream (handed it to a worker, or refused it):
         * frames are taken in order and a read's streams start before its frames are
         * answered, so that is when the PING behind it is. (After a fixed 30 ms, a server
         * slow to read took HEADERS and RST_STREAM in one read, ran no stream and refused
         * none: the log line below never came.) */
        ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_PING, 0, 0, "12345678", 8), 0);
        ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_PING, 0, 3000, NULL, NULL), NGHTTP2_PING);
        ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_RST_STREAM, 0, id, cancel, 4), 0);
    }
    pth_h2_t *d = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(d);
    int64_t t0 = pth_now_ms();
    ck_assert_int_eq(pth_h2_get(d, 1, "/f/slow"), 0);
    int status = 0;
    ck_assert_int_eq(pth_h2_expect(d, NGHTTP2_HEADERS, 1, 10000, NULL, &status),
                     NGHTTP2_HEADERS);
    ck_assert_int_eq(status, 200);
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(took < 1500, "another client's 1 s request took %lld ms", (long long)took);
    ck_assert(pth_file_wait_contains(h->error_log, "still run (H2MaxSessionStreams)", 3000));
    pth_h2_close(d);
    pth_h2_close(c);
}
END_TEST

/* :authority is the request's Host, as mod_http2 makes it: a host field naming another
 * host is replaced, so the rules of the server that answers see the host it answers for. */
START_TEST(authority_replaces_a_host_field_that_names_another_host)
{
    pth_config(h, "Protocols h2c http/1.1\nRewriteEngine on\n"
                  "RewriteCond %%{HTTP_HOST} ^evil\nRewriteRule ^ - [F]\n");
    pth_start(h);
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    const char *n[] = {":method", ":scheme", ":path", ":authority", "host"};
    const char *v[] = {"GET", "http", "/a.txt", "localhost", "evil.example"};
    headers(c, 1, n, v, 5, true);
    int status = 0;
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 1, 3000, NULL, &status),
                     NGHTTP2_HEADERS);
    ck_assert_msg(status == 200, "status %d: the rules saw host evil.example", status);
    /* Two host fields leave the server unknown: a malformed request (nghttp2's check). */
    const char *n2[] = {":method", ":scheme", ":path", "host", "host"};
    const char *v2[] = {"GET", "http", "/a.txt", "localhost", "other.example"};
    headers(c, 3, n2, v2, 5, true);
    uint32_t code = 0;
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_RST_STREAM, 3, 3000, &code, NULL),
                     NGHTTP2_RST_STREAM);
    ck_assert_int_eq(code, NGHTTP2_PROTOCOL_ERROR);
    /* One host field and no :authority: that host. */
    const char *v3[] = {"GET", "http", "/a.txt", "evil.example"};
    headers(c, 5, n2, v3, 4, true);
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 5, 3000, NULL, &status),
                     NGHTTP2_HEADERS);
    ck_assert_int_eq(status, 403);
    pth_h2_close(c);
}
END_TEST

/* A graceful restart lets a response finish whose rest waits for the client's window (as it
 * lets an HTTP/1 response tail finish), where it closed the connection as one waiting for a
 * request: the client set its window to 1000 bytes, took them, and opens it after the
 * restart began. (Event MPM: the session is parked in the listener meanwhile.) */
START_TEST(a_graceful_restart_lets_a_response_waiting_for_window_finish)
{
    static char big[30000];
    memset(big, 'b', sizeof(big));
    pth_write_file(h, "big.txt", big, sizeof(big));
    pth_config(h, "Protocols h2c http/1.1\n");
    pth_start(h);
    pth_h2_t *c = get_through_a_small_window("/big.txt", NULL);
    size_t got = 1000;
    pth_h2_frame_t f;
    pth_sleep_ms(200); /* (the session parks) */
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    pth_sleep_ms(500);
    uint8_t inc[4] = {0, 0, 0xff, 0xff};
    ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_WINDOW_UPDATE, 0, 1, inc, 4), 0);
    bool ended = false;
    for (int64_t end = pth_now_ms() + 5000; !ended && pth_now_ms() < end;) {
        if (pth_h2_read(c, &f, 1000) != 0)
            break;
        if (f.type == NGHTTP2_DATA && f.stream == 1) {
            got += f.length;
            ended = f.flags & NGHTTP2_FLAG_END_STREAM;
        }
        pth_h2_frame_free(&f);
    }
    ck_assert_msg(ended && got == sizeof(big), "%zu of %zu bytes, END_STREAM %d", got,
                  sizeof(big), ended);
    pth_h2_close(c);
}
END_TEST

/* A client that half-closes its side after its requests (the FIN on their segment) still
 * gets every answer, the one from a slow backend too; a request whose body the FIN cut short
 * is reset; then the server closes at once. */
START_TEST(a_client_that_half_closes_after_its_requests_gets_every_answer)
{
    pth_config(h, "Protocols h2c http/1.1\nKeepAliveTimeout 30\nTimeout 30\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\" max=50\n");
    pth_start(h);
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_SETTINGS, 0, 3000, NULL, NULL), NGHTTP2_SETTINGS);
    pth_sleep_ms(50); /* (the session waits for the next frames) */
    pth_h2_cork(c, true);
    ck_assert_int_eq(pth_h2_get(c, 1, "/f/slow"), 0);
    ck_assert_int_eq(pth_h2_get(c, 3, "/a.txt"), 0);
    /* A request whose body ends short at the FIN: reset, without a wait for the rest. */
    const char *n[] = {":method", ":scheme", ":path", ":authority", "content-length"};
    const char *v[] = {"POST", "http", "/f/echo", "localhost", "10"};
    uint8_t blk[256];
    size_t blen = pth_h2_block(c, blk, sizeof(blk), n, v, 5);
    ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 5, blk, blen), 0);
    ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_DATA, 0, 5, "abc", 3), 0);
    ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
    bool ended[2] = {false, false}, reset5 = false;
    int status[2] = {0, 0};
    int64_t t0 = pth_now_ms(), answered = -1;
    pth_h2_frame_t f;
    int rc;
    while ((rc = pth_h2_read(c, &f, 5000)) == 0) {
        int k = f.stream == 1 ? 0 : f.stream == 3 ? 1 : -1;
        reset5 |= f.stream == 5 && f.type == NGHTTP2_RST_STREAM;
        if (k >= 0 && f.type == NGHTTP2_HEADERS)
            status[k] = f.status;
        if (k >= 0 && (f.flags & NGHTTP2_FLAG_END_STREAM))
            ended[k] = true;
        if (ended[0] && ended[1] && answered < 0)
            answered = pth_now_ms();
        pth_h2_frame_free(&f);
    }
    ck_assert_msg(ended[0] && ended[1], "answered: /f/slow %d (%s), /a.txt %d (%s); read %d",
                  status[0], ended[0] ? "ended" : "open", status[1], ended[1] ? "ended" : "open",
                  rc);
    ck_assert_int_eq(status[0], 200);
    ck_assert_int_eq(status[1], 200);
    ck_assert_msg(reset5, "the short upload was not reset");
    ck_assert_msg(rc == -ECONNRESET, "after the answers: %d, not the close", rc);
    int64_t after = pth_now_ms() - answered;
    ck_assert_msg(after < 1000, "closed %lld ms after the last answer (%lld ms in all)",
                  (long long)after, (long long)(pth_now_ms() - t0));
    pth_h2_close(c);
}
END_TEST

/* After the client's FIN no WINDOW_UPDATE can come: a response that waits for window (its
 * worker blocked on a full stream buffer) is reset at once and the connection closed, where
 * it held its worker and the connection until Timeout. */
START_TEST(a_response_waiting_for_window_ends_at_the_clients_fin)
{
    pth_config(h, "Protocols h2c http/1.1\nKeepAliveTimeout 30\nTimeout 30\n"
                  "H2StreamMaxMemSize 16384\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\" max=50\n");
    pth_start(h);
    int status = 0;
    pth_h2_t *c = get_through_a_small_window("/f/big", &status);
    ck_assert_int_eq(status, 200);
    pth_h2_frame_t f;
    pth_sleep_ms(300); /* (the worker fills the stream's buffer and waits for room) */
    int64_t t0 = pth_now_ms();
    ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
    bool reset = false;
    int rc;
    while ((rc = pth_h2_read(c, &f, 5000)) == 0) {
        reset |= f.type == NGHTTP2_RST_STREAM && f.stream == 1;
        ck_assert_msg(f.type != NGHTTP2_DATA, "DATA past the window");
        pth_h2_frame_free(&f);
    }
    int64_t after = pth_now_ms() - t0;
    ck_assert_msg(rc == -ECONNRESET, "after the FIN: %d, not the close", rc);
    ck_assert_msg(after < 2000, "closed %lld ms after the client's FIN", (long long)after);
    ck_assert_msg(reset, "the stalled stream was not reset");
    pth_h2_close(c);
}
END_TEST

static Suite *h2_streams_suite(void)
{
    Suite *s = suite_create("h2_streams");
    TCase *tc = tcase_create("h2_streams");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_reset_upload_gives_its_bytes_back_to_the_connection_window);
    tcase_add_test(tc, reset_streams_still_running_count_against_the_session_limit);
    tcase_add_test(tc, authority_replaces_a_host_field_that_names_another_host);
    tcase_add_test(tc, a_client_that_half_closes_after_its_requests_gets_every_answer);
    tcase_add_test(tc, a_response_waiting_for_window_ends_at_the_clients_fin);
    pth_tcase_add_for(tc, "event", a_graceful_restart_lets_a_response_waiting_for_window_finish);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(h2_streams_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
