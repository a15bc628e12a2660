/* HTTP/1.1 on the wire, over raw sockets: every malformed or smuggling-prone input gets its
 * status and a closed connection (and the server keeps serving new connections); keep-alive,
 * pipelining, HEAD, 100-continue, limits and timeouts behave as RFC 9112 and Apache. */
#include "h2_client.h"
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define IO_MS 3000

static pth_t *h;

static const char LIMITS[] =
    "LimitRequestLine 1024\n"
    "LimitRequestFields 20\n"
    "LimitRequestFieldSize 512\n"
    "LimitRequestBody 1000\n"
    "RequestReadTimeout header=1 body=5\n"
    "KeepAliveTimeout 1\n";

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "index.html", "hello index\n");
    pth_write_filef(h, "a.txt", "A");
    pth_write_filef(h, "b.txt", "BB");
    pth_write_filef(h, "c.txt", "CCC");
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

static void start(const char *extra)
{
    /* Apache logs an over-limit Content-Length at level error too (AH00129-like). */
    pth_expect_error(h, "larger than the configured limit");
    pth_config(h, "%s%s", LIMITS, extra ? extra : "");
    pth_start(h);
}

/* A normal request on a new connection is served: the server survived the bad input. */
static void assert_still_serving(void)
{
    pth_resp_t r;
    bool closed;
    static const char req[] = "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    int rc = pth_raw(h, req, sizeof(req) - 1, IO_MS, &r, &closed);
    ck_assert_msg(rc == 0, "follow-up request failed: %d", rc);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "A");
    pth_resp_free(&r);
}

/* Follows every rejected request on its connection: after a rejection the server must
 * close without reading on, so an answer to it means a request was smuggled past the check
 * (or a body the server misframed was read as one). */
static const char SMUGGLED[] = "GET /b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";

/* Sends req, then SMUGGLED, on a new connection; expects status, nothing after it, and
 * the connection closed. */
static void assert_rejected(const char *req, size_t len, int status)
{
    char *both = malloc(len + sizeof(SMUGGLED));
    ck_assert(both != NULL);
    memcpy(both, req, len);
    memcpy(both + len, SMUGGLED, sizeof(SMUGGLED));
    pth_resp_t r;
    bool closed;
    int rc = pth_raw(h, both, len + sizeof(SMUGGLED) - 1, IO_MS, &r, &closed);
    free(both);
    ck_assert_msg(rc == 0, "no response (%d) to: %.200s", rc, req);
    ck_assert_msg(r.status == status, "status %d, want %d, for: %.200s", r.status, status, req);
    pth_assert_one_response(&r, req);
    ck_assert_msg(closed, "connection left open after %d for: %.200s", status, req);
    pth_resp_free(&r);
    assert_still_serving();
}

#define REJECT(lit, status) assert_rejected((lit), sizeof(lit) - 1, (status))

START_TEST(rejects_content_length_with_transfer_encoding)
{
    start(NULL);
    REJECT("POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
           "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_two_different_content_lengths)
{
    start(NULL);
    REJECT("POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
           "Content-Length: 6\r\n\r\nhello!", 400);
}
END_TEST

START_TEST(rejects_a_signed_content_length)
{
    start(NULL);
    REJECT("POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: +5\r\n\r\nhello", 400);
}
END_TEST

START_TEST(rejects_transfer_encoding_not_ending_in_chunked)
{
    start(NULL);
    REJECT("POST /a.txt HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
}
END_TEST

START_TEST(answers_501_to_an_unknown_transfer_coding)
{
    start(NULL);
    REJECT("POST /a.txt HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: frobnicate, chunked"
           "\r\n\r\n0\r\n\r\n", 501);
}
END_TEST

START_TEST(rejects_obs_fold)
{
    start(NULL);
    REJECT("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Folded: one\r\n two\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_whitespace_before_the_colon)
{
    start(NULL);
    REJECT("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Test : 1\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_nul_in_a_field_value)
{
    start(NULL);
    REJECT("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Test: a\0b\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_a_bare_cr_in_a_field)
{
    start(NULL);
    REJECT("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Test: a\rb\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_a_bad_chunk_size)
{
    start(NULL);
    REJECT("POST /a.txt HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
           "zz\r\nhello\r\n0\r\n\r\n", 400);
}
END_TEST

START_TEST(closes_on_a_truncated_chunked_body)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /a.txt HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked"
                      "\r\n\r\n10\r\nonly-part");
    shutdown(c->fd, SHUT_WR);
    ck_assert_msg(pth_conn_wait_closed(c, 7000), "connection not closed after a truncated body");
    pth_conn_close(c);
    assert_still_serving();
}
END_TEST

START_TEST(answers_414_to_a_request_line_over_the_limit)
{
    start(NULL);
    char req[4096];
    char path[2000];
    memset(path, 'x', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    int n = snprintf(req, sizeof(req), "GET /%s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    assert_rejected(req, (size_t)n, 414);
}
END_TEST

START_TEST(answers_431_to_too_many_fields)
{
    start(NULL);
    char req[4096];
    int n = snprintf(req, sizeof(req), "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n");
    for (int i = 0; i < 30; i++)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "X-F%d: %d\r\n", i, i);
    n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
    assert_rejected(req, (size_t)n, 431);
}
END_TEST

START_TEST(answers_431_to_a_field_over_the_size_limit)
{
    start(NULL);
    char req[4096], val[1000];
    memset(val, 'v', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    int n = snprintf(req, sizeof(req), "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Big: %s\r\n\r\n",
                     val);
    assert_rejected(req, (size_t)n, 431);
}
END_TEST

START_TEST(answers_413_to_a_body_over_limit_request_body)
{
    start(NULL);
    char req[4096], body[2001];
    memset(body, 'b', 2000);
    body[2000] = '\0';
    int n = snprintf(req, sizeof(req), "POST /a.txt HTTP/1.1\r\nHost: localhost\r\n"
                                       "Content-Length: 2000\r\n\r\n%s", body);
    assert_rejected(req, (size_t)n, 413);
}
END_TEST

START_TEST(rejects_http11_without_host)
{
    start(NULL);
    REJECT("GET /a.txt HTTP/1.1\r\nAccept: */*\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_two_host_fields)
{
    start(NULL);
    REJECT("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nHost: example.com\r\n\r\n", 400);
}
END_TEST

START_TEST(answers_505_to_http2_in_a_request_line)
{
    start(NULL);
    REJECT("GET /a.txt HTTP/2.0\r\nHost: localhost\r\n\r\n", 505);
}
END_TEST

START_TEST(answers_408_to_an_unfinished_head_after_the_header_timeout)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    int64_t t0 = pth_now_ms();
    pth_conn_sendf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n");
    pth_resp_t r;
    int rc = pth_conn_read_response(c, &r, false, 3000);
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(rc == 0, "no response within 3 s (%d)", rc);
    ck_assert_int_eq(r.status, 408);
    ck_assert_msg(took >= 800, "408 after only %lld ms with header=1", (long long)took);
    ck_assert_msg(pth_conn_wait_closed(c, 1000), "connection open after 408");
    pth_resp_free(&r);
    pth_conn_close(c);
    assert_still_serving();
}
END_TEST

/* ---- Valid behaviour ----------------------------------------------------------------- */

static void read_ok(pth_conn_t *c, const char *body, bool head)
{
    pth_resp_t r;
    int rc = pth_conn_read_response(c, &r, head, IO_MS);
    ck_assert_msg(rc == 0, "no response: %d", rc);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, body);
    pth_resp_free(&r);
}

START_TEST(serves_two_requests_on_one_keepalive_connection)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    read_ok(c, "A", false);
    pth_conn_sendf(c, "GET /b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    read_ok(c, "BB", false);
    ck_assert(!c->eof);
    pth_conn_close(c);
}
END_TEST

START_TEST(keeps_http10_open_only_with_connection_keepalive)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, IO_MS), 0);
    ck_assert_int_eq(r.status, 200);
    const char *conn = pth_resp_header(&r, "Connection");
    ck_assert_msg(conn && strcasecmp(conn, "keep-alive") == 0, "Connection: %s", conn);
    ck_assert_ptr_nonnull(pth_resp_header(&r, "Content-Length"));
    pth_resp_free(&r);
    pth_conn_sendf(c, "GET /b.txt HTTP/1.0\r\n\r\n");
    read_ok(c, "BB", false);
    ck_assert_msg(pth_conn_wait_closed(c, IO_MS), "HTTP/1.0 without keep-alive left open");
    pth_conn_close(c);
}
END_TEST

START_TEST(answers_pipelined_requests_in_order)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
                      "GET /b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
                      "GET /c.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    read_ok(c, "A", false);
    read_ok(c, "BB", false);
    read_ok(c, "CCC", false);
    pth_conn_close(c);
}
END_TEST

START_TEST(head_sends_the_get_headers_without_a_body)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "HEAD /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, true, IO_MS), 0);
    ck_assert_int_eq(r.status, 200);
    const char *cl = pth_resp_header(&r, "Content-Length");
    ck_assert_msg(cl && strcmp(cl, "12") == 0, "Content-Length %s", cl ? cl : "(none)");
    pth_resp_free(&r);
    pth_conn_read_until(c, 1, 300);
    ck_assert_msg(pth_conn_pending(c) == 0, "HEAD sent %zu body bytes", pth_conn_pending(c));
    ck_assert_msg(!c->eof, "server closed the keep-alive connection after HEAD");
    pth_conn_sendf(c, "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n");
    read_ok(c, "hello index\n", false);
    pth_conn_close(c);
}
END_TEST

/* A static file reads no body, so the final status goes out without a 100 (RFC 9110
 * 10.1.1 allows it; Apache does the same) and the connection closes, since the client may
 * still send the body. The 100 path itself is covered by tests/unit/test_body.c. */
START_TEST(answers_a_final_status_without_100_when_no_body_is_read)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n"
                      "Expect: 100-continue\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, IO_MS), 0);
    ck_assert_msg(r.status == 405, "first response %d, want 405 without a 100", r.status);
    ck_assert_ptr_nonnull(pth_resp_header(&r, "Allow"));
    const char *conn = pth_resp_header(&r, "Connection");
    ck_assert_ptr_nonnull(conn);
    ck_assert_str_eq(conn, "close");
    pth_resp_free(&r);
    pth_conn_close(c);
}
END_TEST

START_TEST(answers_413_without_100_when_the_announced_body_is_too_big)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n"
                      "Expect: 100-continue\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, IO_MS), 0);
    ck_assert_msg(r.status == 413, "first response %d, want 413 (no 100 first)", r.status);
    pth_resp_free(&r);
    pth_conn_close(c);
}
END_TEST

START_TEST(reads_a_chunked_body_and_keeps_the_connection_usable)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /a.txt HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked"
                      "\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, IO_MS), 0);
    ck_assert_int_eq(r.status, 405);
    pth_resp_free(&r);
    pth_conn_sendf(c, "GET /b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    read_ok(c, "BB", false);
    pth_conn_close(c);
}
END_TEST

START_TEST(sends_date_and_server_headers)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, IO_MS), 0);
    const char *date = pth_resp_header(&r, "Date");
    ck_assert_msg(date && strlen(date) == 29 && strstr(date, " GMT"), "Date: %s", date);
    const char *server = pth_resp_header(&r, "Server");
    ck_assert_msg(server && strncmp(server, "portico", 7) == 0, "Server: %s", server);
    ck_assert_int_eq(r.version, 11);
    pth_resp_free(&r);
    pth_conn_close(c);
}
END_TEST

START_TEST(answers_options_star_with_200)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, IO_MS), 0);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    pth_conn_close(c);
}
END_TEST

START_TEST(serves_an_absolute_form_target)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET http://localhost:%d/c.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
                   h->port);
    read_ok(c, "CCC", false);
    pth_conn_close(c);
}
END_TEST

START_TEST(closes_after_max_keepalive_requests)
{
    start("MaxKeepAliveRequests 2\n");
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    read_ok(c, "A", false);
    pth_conn_sendf(c, "GET /b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, IO_MS), 0);
    ck_assert_int_eq(r.status, 200);
    const char *conn = pth_resp_header(&r, "Connection");
    ck_assert_msg(conn && strcasecmp(conn, "close") == 0, "Connection: %s", conn);
    pth_resp_free(&r);
    ck_assert_msg(pth_conn_wait_closed(c, IO_MS), "open after MaxKeepAliveRequests");
    pth_conn_close(c);
}
END_TEST

/* A request and the client's FIN that come together, on a connection that waited for its
 * next request: the answer, then the close at once, not at KeepAliveTimeout (the event
 * MPM's one wakeup for both was taken by the read of the request). Corked, the FIN rides
 * on the request's segment. */
START_TEST(closes_at_once_after_a_request_that_came_with_the_clients_fin)
{
    start("KeepAliveTimeout 30\n");
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    read_ok(c, "A", false);
    pth_sleep_ms(50); /* (parked, waiting for the next request) */
    int on = 1;
    ck_assert_int_eq(setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)), 0);
    pth_conn_sendf(c, "GET /b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
    read_ok(c, "BB", false);
    int64_t t0 = pth_now_ms();
    ck_assert_msg(pth_conn_wait_closed(c, 5000), "open 5 s after the client's FIN");
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(took < 1000, "closed %lld ms after the answer", (long long)took);
    pth_conn_close(c);
}
END_TEST

/* The same when the next request and the FIN came while the connection's worker was still
 * at its last one (here, waiting 1 s for a FastCGI backend): the park after that answer
 * takes both, the read of the request ends short without meeting the FIN, and the park
 * after the second answer must still know of it. */
START_TEST(closes_at_once_after_a_request_and_fin_that_came_during_the_last_answer)
{
    pth_h2_fcgi_t be;
    ck_assert_int_eq(pth_h2_fcgi_start(&be, pth_path(h, "be.sock")), 0);
    start("KeepAliveTimeout 30\n"
          "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\"\n");
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    read_ok(c, "A", false);
    pth_sleep_ms(50); /* (parked once: its socket is armed, later parks need no call) */
    pth_conn_sendf(c, "GET /f/slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
    pth_sleep_ms(300); /* (the worker waits for the backend) */
    int on = 1;
    ck_assert_int_eq(setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)), 0);
    pth_conn_sendf(c, "GET /b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
    read_ok(c, "slow", false);
    read_ok(c, "BB", false);
    int64_t t0 = pth_now_ms();
    bool closed = pth_conn_wait_closed(c, 5000);
    int64_t took = pth_now_ms() - t0;
    pth_conn_close(c);
    pth_stop(h);
    pth_h2_fcgi_stop(&be);
    ck_assert_msg(closed, "open 5 s after the client's FIN");
    ck_assert_msg(took < 1000, "closed %lld ms after the answer", (long long)took);
}
END_TEST

START_TEST(closes_an_idle_connection_after_keepalive_timeout)
{
    start(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    read_ok(c, "A", false);
    int64_t t0 = pth_now_ms();
    ck_assert_msg(pth_conn_wait_closed(c, 2500), "idle connection open after 2.5 s");
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(took >= 700, "closed after %lld ms with KeepAliveTimeout 1", (long long)took);
    /* In order, with a FIN (as Apache's lingering close), not a reset. */
    pth_resp_t r;
    int rc = pth_conn_read_response(c, &r, false, IO_MS);
    ck_assert_msg(rc == -EPIPE, "read after the close: %d (%s), not -EPIPE (a FIN)", rc,
                  strerror(-rc));
    pth_conn_close(c);
}
END_TEST

static Suite *http1_suite(void)
{
    Suite *s = suite_create("http1");
    TCase *bad = tcase_create("bad_input");
    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_add_test(bad, rejects_content_length_with_transfer_encoding);
    tcase_add_test(bad, rejects_two_different_content_lengths);
    tcase_add_test(bad, rejects_a_signed_content_length);
    tcase_add_test(bad, rejects_transfer_encoding_not_ending_in_chunked);
    tcase_add_test(bad, answers_501_to_an_unknown_transfer_coding);
    tcase_add_test(bad, rejects_obs_fold);
    tcase_add_test(bad, rejects_whitespace_before_the_colon);
    tcase_add_test(bad, rejects_nul_in_a_field_value);
    tcase_add_test(bad, rejects_a_bare_cr_in_a_field);
    tcase_add_test(bad, rejects_a_bad_chunk_size);
    tcase_add_test(bad, closes_on_a_truncated_chunked_body);
    tcase_add_test(bad, answers_414_to_a_request_line_over_the_limit);
    tcase_add_test(bad, answers_431_to_too_many_fields);
    tcase_add_test(bad, answers_431_to_a_field_over_the_size_limit);
    tcase_add_test(bad, answers_413_to_a_body_over_limit_request_body);
    tcase_add_test(bad, rejects_http11_without_host);
    tcase_add_test(bad, rejects_two_host_fields);
    tcase_add_test(bad, answers_505_to_http2_in_a_request_line);
    tcase_add_test(bad, answers_408_to_an_unfinished_head_after_the_header_timeout);
    suite_add_tcase(s, bad);

    TCase *ok = tcase_create("valid");
    tcase_add_checked_fixture(ok, setup, teardown);
    tcase_add_test(ok, serves_two_requests_on_one_keepalive_connection);
    tcase_add_test(ok, keeps_http10_open_only_with_connection_keepalive);
    tcase_add_test(ok, answers_pipelined_requests_in_order);
    tcase_add_test(ok, head_sends_the_get_headers_without_a_body);
    tcase_add_test(ok, answers_a_final_status_without_100_when_no_body_is_read);
    tcase_add_test(ok, answers_413_without_100_when_the_announced_body_is_too_big);
    tcase_add_test(ok, reads_a_chunked_body_and_keeps_the_connection_usable);
    tcase_add_test(ok, sends_date_and_server_headers);
    tcase_add_test(ok, answers_options_star_with_200);
    tcase_add_test(ok, serves_an_absolute_form_target);
    tcase_add_test(ok, closes_after_max_keepalive_requests);
    tcase_add_test(ok, closes_an_idle_connection_after_keepalive_timeout);
    tcase_add_test(ok, closes_at_once_after_a_request_that_came_with_the_clients_fin);
    tcase_add_test(ok, closes_at_once_after_a_request_and_fin_that_came_during_the_last_answer);
    suite_add_tcase(s, ok);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(http1_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
