/* Slow and stalled clients: RequestReadTimeout for bodies and for heads (with MinRate and a
 * maximum), KeepAlive Off, and the lingering close that keeps a 400 from being destroyed by
 * a reset when the client keeps sending. (KeepAliveTimeout itself is in test_http1.) */
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define IO_MS 3000

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "a.txt", "A");
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

static void assert_still_serving(void)
{
    static const char req[] = "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    pth_resp_t r;
    bool closed;
    int rc = pth_raw(h, req, sizeof(req) - 1, IO_MS, &r, &closed);
    ck_assert_msg(rc == 0, "follow-up request failed: %d", rc);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "A");
    pth_resp_free(&r);
}

/* True when c has bytes to read or was closed within ms. */
static bool readable_within(pth_conn_t *c, int ms)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

START_TEST(a_stalled_body_is_cut_off_by_the_body_timeout_and_the_connection_closed)
{
    pth_config(h, "RequestReadTimeout header=5 body=1\n");
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    int64_t t0 = pth_now_ms();
    pth_conn_sendf(c, "POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n"
                      "0123456789");
    /* Whatever the status, the server must neither hang on the 90 missing bytes nor keep the
     * connection: its framing is lost. */
    bool closed = pth_conn_wait_closed(c, 3000);
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(closed, "connection still open 3 s after a body stalled with body=1");
    ck_assert_msg(took >= 800, "closed after %lld ms: the body timeout (1 s) was not waited for",
                  (long long)took);
    if (pth_conn_pending(c) > 0) {
        pth_resp_t r;
        size_t used;
        int rc = pth_parse_response(c->buf, c->len, false, true, &r, &used);
        ck_assert_msg(rc == 0, "a partial or malformed response: %.*s", (int)c->len, c->buf);
        /* Apache answers the error page it owed after draining the body; a timed-out drain
         * turns it into 408. */
        ck_assert_msg(r.status == 408, "status %d after the body timed out", r.status);
        const char *conn = pth_resp_header(&r, "Connection");
        ck_assert_msg(conn && strcasecmp(conn, "close") == 0, "Connection: %s",
                      conn ? conn : "(none)");
        pth_resp_free(&r);
    }
    pth_conn_close(c);
    assert_still_serving();
}
END_TEST

/* Sends piece every interval_ms until a response or a close arrives (or max_ms); returns
 * the ms from the first byte to that moment, or -1 when nothing happened. */
static int64_t trickle(pth_conn_t *c, const char *piece, int interval_ms, int max_ms)
{
    int64_t t0 = pth_now_ms();
    while (pth_now_ms() - t0 < max_ms) {
        if (pth_conn_send(c, piece, strlen(piece)) != 0)
            return pth_now_ms() - t0; /* the server closed while we were sending */
        if (readable_within(c, interval_ms))
            return pth_now_ms() - t0;
    }
    return -1;
}

static void assert_408_and_closed(pth_conn_t *c)
{
    pth_resp_t r;
    int rc = pth_conn_read_response(c, &r, false, 1000);
    ck_assert_msg(rc == 0, "no whole response after the head timeout (%d)", rc);
    ck_assert_int_eq(r.status, 408);
    pth_resp_free(&r);
    ck_assert_msg(pth_conn_wait_closed(c, 1000), "connection open after the 408");
}

/* header=2-MAX,MinRate=100: 2 s for a head, each 100 bytes received buying a second more, up
 * to MAX s from the first byte. */
static void start_min_rate(int max_s)
{
    pth_config(h, "RequestReadTimeout header=2-%d,MinRate=100 body=5\n", max_s);
    pth_start(h);
}

START_TEST(a_head_slower_than_min_rate_is_cut_off_near_the_base_timeout)
{
    /* A maximum far from the 2 s: the upper bound below tells the one from the other with
     * room for a loaded machine's latency (about 1 s was seen at load average 7-16, see the
     * next test), which a maximum of 4 s and a bound of 3 s did not leave. */
    start_min_rate(10);
    pth_conn_t *c = pth_conn_open(h);
    /* 2 bytes/s against MinRate=100: each byte buys only 10 ms beyond the 2 s. */
    int64_t took = trickle(c, "G", 500, 8000);
    ck_assert_msg(took >= 0, "no answer in 8 s to a head trickled at 2 bytes/s");
    ck_assert_msg(took >= 1500 && took <= 5000, "cut off after %lld ms, want ~2 s",
                  (long long)took);
    assert_408_and_closed(c);
    pth_conn_close(c);
    assert_still_serving();
}
END_TEST

START_TEST(a_head_at_min_rate_is_cut_off_at_the_maximum)
{
    start_min_rate(4);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n");
    /* 400 bytes/s keeps extending the deadline, but never beyond 4 s from the first byte. */
    int64_t took = trickle(c, "X-Slow-Field-Padding: abcdefghijklmnopqrstuvwxyz0123456789\r\n", 150,
                           8000);
    ck_assert_msg(took >= 0, "no answer in 8 s to an endless head (maximum 4 s)");
    /* The upper bound tells the cap from no cap (then nothing comes within 8 s); it is not
     * a latency target. Two helpers saw 5077 and 5148 ms with the machine's load average at
     * 7-16 (two cores), where it passes at ~4.1 s alone and with two busy loops beside it:
     * consistent with the listener waiting for a CPU, so the bound leaves room for that. */
    ck_assert_msg(took >= 3500 && took <= 6500, "cut off after %lld ms, want ~4 s",
                  (long long)took);
    assert_408_and_closed(c);
    pth_conn_close(c);
    assert_still_serving();
}
END_TEST

START_TEST(keepalive_off_answers_with_connection_close_and_closes)
{
    pth_config(h, "KeepAlive Off\n");
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, IO_MS), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "A");
    const char *conn = pth_resp_header(&r, "Connection");
    ck_assert_msg(conn && strcasecmp(conn, "close") == 0, "Connection: %s",
                  conn ? conn : "(none)");
    pth_resp_free(&r);
    ck_assert_msg(pth_conn_wait_closed(c, 1000), "connection open after KeepAlive Off response");
    pth_conn_close(c);
}
END_TEST

START_TEST(a_400_arrives_intact_while_the_client_keeps_sending)
{
    pth_config(h, "\n");
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /a.txt HTTP/1.1 trailing-garbage\r\nHost: localhost\r\n\r\n");
    pth_sleep_ms(100); /* the 400 is sent and the server would close right now */
    char junk[8192];
    memset(junk, 'j', sizeof(junk));
    size_t sent = 0;
    for (int i = 0; i < 13; i++) { /* ~100 KiB over ~0.3 s, arriving after the 400 */
        if (pth_conn_send(c, junk, sizeof(junk)) != 0)
            break;
        sent += sizeof(junk);
        pth_sleep_ms(20);
    }
    pth_resp_t r;
    int rc = pth_conn_read_response(c, &r, false, IO_MS);
    ck_assert_msg(rc == 0, "the 400 was lost (%d) after %zu bytes of junk", rc, sent);
    ck_assert_int_eq(r.status, 400);
    const char *cl = pth_resp_header(&r, "Content-Length");
    ck_assert_msg(cl && (size_t)atol(cl) == r.body_len, "body %zu bytes, Content-Length %s",
                  r.body_len, cl ? cl : "(none)");
    pth_resp_free(&r);
    ck_assert_msg(sent == 13 * sizeof(junk), "the server reset the connection after %zu bytes",
                  sent);
    ck_assert_msg(pth_conn_wait_closed(c, 4000), "connection open after the lingering close");
    pth_conn_close(c);
    assert_still_serving();
}
END_TEST

/* ---- Timeout ------------------------------------------------------------------------ */

#define BIG_SIZE (16u << 20) /* far more than the socket buffers hold */

/* Reads until EOF or reset (true), or until ms elapse or *got reaches max (false). */
static bool read_to_close(int fd, int ms, size_t max, size_t *got)
{
    static char buf[16384];
    int64_t end = pth_now_ms() + ms;
    while (*got < max) {
        int left = (int)(end - pth_now_ms());
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0)
            continue;
        size_t want = max - *got < sizeof(buf) ? max - *got : sizeof(buf);
        ssize_t n = recv(fd, buf, want, 0);
        if (n <= 0)
            return true;
        *got += (size_t)n;
    }
    return false;
}

/* Timeout bounds a write the client does not take (Apache: the send timeout). A client
 * that reads nothing keeps the connection up to Timeout and then loses it, so reading on
 * afterwards ends before the whole file. Under the default (60 s) it would all arrive. */
START_TEST(timeout_cuts_off_a_client_that_stops_reading)
{
    char *data = calloc(1, BIG_SIZE);
    ck_assert(data != NULL);
    pth_write_file(h, "big.bin", data, BIG_SIZE);
    free(data);
    pth_config(h, "Timeout 2\n");
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    int small = 16384;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    pth_conn_sendf(c, "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
    size_t got = 0;
    ck_assert_msg(!read_to_close(c->fd, 3000, 65536, &got), "closed at once");
    ck_assert_msg(got == 65536, "only %zu bytes in 3 s", got);
    /* Well within Timeout: the connection is alive and the response goes on. */
    pth_sleep_ms(800);
    ck_assert_msg(!read_to_close(c->fd, 3000, 2 * 65536, &got),
                  "cut off 0.8 s into a 2 s Timeout");
    ck_assert_msg(got == 2 * 65536, "the response stalled at %zu bytes", got);
    /* Now past it: what the buffers held arrives, then the close. */
    pth_sleep_ms(4500);
    bool closed = read_to_close(c->fd, 5000, BIG_SIZE + 1000, &got);
    ck_assert_msg(closed, "still open (%zu bytes so far) after the client read nothing for "
                  "twice Timeout", got);
    ck_assert_msg(got < BIG_SIZE, "the whole response arrived: Timeout was not applied");
    pth_conn_close(c);
    assert_still_serving();
}
END_TEST

/* With RequestReadTimeout off, Timeout bounds the wait for a request head. */
START_TEST(timeout_bounds_a_head_when_request_read_timeout_is_off)
{
    pth_config(h, "RequestReadTimeout header=0 body=0\nTimeout 1\n");
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    int64_t t0 = pth_now_ms();
    pth_conn_sendf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n");
    bool closed = pth_conn_wait_closed(c, 4000);
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(closed, "a stalled head kept its connection 4 s with Timeout 1");
    ck_assert_msg(took >= 800, "closed after %lld ms, before Timeout", (long long)took);
    if (pth_conn_pending(c) > 0) {
        pth_resp_t r;
        size_t used;
        ck_assert_int_eq(pth_parse_response(c->buf, c->len, false, true, &r, &used), 0);
        ck_assert_int_eq(r.status, 408);
        pth_resp_free(&r);
    }
    pth_conn_close(c);
    assert_still_serving();
}
END_TEST

static Suite *timeouts_suite(void)
{
    Suite *s = suite_create("timeouts");
    TCase *tc = tcase_create("timeouts");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_stalled_body_is_cut_off_by_the_body_timeout_and_the_connection_closed);
    tcase_add_test(tc, a_head_slower_than_min_rate_is_cut_off_near_the_base_timeout);
    tcase_add_test(tc, a_head_at_min_rate_is_cut_off_at_the_maximum);
    tcase_add_test(tc, keepalive_off_answers_with_connection_close_and_closes);
    tcase_add_test(tc, a_400_arrives_intact_while_the_client_keeps_sending);
    tcase_add_test(tc, timeout_cuts_off_a_client_that_stops_reading);
    tcase_add_test(tc, timeout_bounds_a_head_when_request_read_timeout_is_off);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(timeouts_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
