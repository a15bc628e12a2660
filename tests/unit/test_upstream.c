/* The upstream engine (proxy/upstream.c): the failure-class table row by row, connecting to
 * unix and TCP backends with a deadline, and the bounded-wait reads and writes. */
#include "upstream.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- The table ----------------------------------------------------------------------- */

typedef struct {
    pt_upstream_fail_t f;
    int status;
    const char *log;         /* a part of the log text */
    bool retry, mark;
} row_t;

/* What each class must mean: the statuses are today's FastCGI answers (the integration
 * suites check them end to end). */
static const row_t want[] = {
    {PT_UPSTREAM_REFUSED, 503, "AH01079: failed to make connection", true, true},
    {PT_UPSTREAM_CONNECT_TIMEOUT, 504, "AH01079: failed to make connection", true, true},
    {PT_UPSTREAM_TLS_HANDSHAKE, 502, "AH02003: SSL Proxy connect failed", false, false},
    {PT_UPSTREAM_POOL_FULL, 503, "AH01079: no free connection in the pool", true, false},
    {PT_UPSTREAM_RESET_BEFORE_SEND, 503, "cannot send the request", true, true},
    {PT_UPSTREAM_WRITE_TIMEOUT, 504, "timed out sending the request", false, false},
    {PT_UPSTREAM_RESET_BEFORE_HEAD, 502,
     "AH01075: connection closed before the end of the response", true, false},
    {PT_UPSTREAM_READ_TIMEOUT, 504, "AH01075: timed out waiting for the response", false, false},
    {PT_UPSTREAM_OVERLOADED, 503, "overloaded", true, false},
    {PT_UPSTREAM_MALFORMED, 502, "malformed response", false, false},
    {PT_UPSTREAM_RESET_AFTER_HEAD, 502,
     "AH01075: connection closed before the end of the response", true, false},
};

START_TEST(each_failure_class_has_its_status_log_retry_and_mark)
{
    ck_assert_int_eq(PT_ARRAY_LEN(want), PT_UPSTREAM_NFAILS);
    for (size_t i = 0; i < PT_ARRAY_LEN(want); i++) {
        const pt_upstream_class_t *c = pt_upstream_class(want[i].f);
        ck_assert_int_eq(c->fail, want[i].f);
        ck_assert_msg(c->status == want[i].status, "class %zu: status %d", i, c->status);
        ck_assert_msg(strstr(c->log, want[i].log), "class %zu: log '%s'", i, c->log);
        ck_assert_msg(c->retry_idempotent == want[i].retry, "class %zu: retry", i);
        ck_assert_msg(c->mark_failed == want[i].mark, "class %zu: mark", i);
    }
}
END_TEST

START_TEST(only_failures_to_reach_the_member_mark_it_failed)
{
    for (int f = 0; f < PT_UPSTREAM_NFAILS; f++) {
        bool reach = f == PT_UPSTREAM_REFUSED || f == PT_UPSTREAM_CONNECT_TIMEOUT ||
                     f == PT_UPSTREAM_RESET_BEFORE_SEND;
        ck_assert_int_eq(pt_upstream_class((pt_upstream_fail_t)f)->mark_failed, reach);
    }
}
END_TEST

START_TEST(a_failed_connect_is_refused_or_a_timeout)
{
    ck_assert_int_eq(pt_upstream_connect_fail(PT_ETIMEOUT), PT_UPSTREAM_CONNECT_TIMEOUT);
    ck_assert_int_eq(pt_upstream_connect_fail(-ECONNREFUSED), PT_UPSTREAM_REFUSED);
    ck_assert_int_eq(pt_upstream_connect_fail(-ENOENT), PT_UPSTREAM_REFUSED);
    ck_assert_int_eq(pt_upstream_connect_fail(-EHOSTUNREACH), PT_UPSTREAM_REFUSED);
}
END_TEST

START_TEST(logging_a_failure_returns_the_status_of_its_class)
{
    ck_assert_int_eq(pt_upstream_fail_log(NULL, PT_UPSTREAM_READ_TIMEOUT, "FastCGI",
                                          "proxy:fcgi://127.0.0.1:1/", NULL, false),
                     504);
    ck_assert_int_eq(pt_upstream_fail_log(NULL, PT_UPSTREAM_MALFORMED, "FastCGI",
                                          "proxy:fcgi://127.0.0.1:1/", "bad record", true),
                     502);
}
END_TEST

START_TEST(only_a_reused_connection_that_the_backend_closed_is_stale)
{
    pt_upstream_conn_t fresh = {.fd = 3, .reused = false}, kept = {.fd = 3, .reused = true};
    ck_assert(pt_upstream_stale(&kept, -EPIPE));
    ck_assert(pt_upstream_stale(&kept, -ECONNRESET));
    ck_assert(!pt_upstream_stale(&kept, PT_ETIMEOUT));
    ck_assert(!pt_upstream_stale(&fresh, -EPIPE));
}
END_TEST

/* ---- Connect ------------------------------------------------------------------------- */

static char dir[64];
static char sock[128];

static void setup(void)
{
    strcpy(dir, "/tmp/ptupXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/b.sock", dir);
}

static void teardown(void)
{
    unlink(sock);
    rmdir(dir);
}

static int listen_unix(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    return fd;
}

START_TEST(connects_to_a_unix_socket_backend)
{
    int l = listen_unix(sock);
    pt_backend_t b = {.unix_path = sock};
    int fd = pt_upstream_connect(&b, 1000);
    ck_assert_int_ge(fd, 0);
    close(fd);
    close(l);
}
END_TEST

START_TEST(a_missing_unix_socket_fails_at_once)
{
    pt_backend_t b = {.unix_path = sock};
    int rc = pt_upstream_connect(&b, 1000);
    ck_assert_int_eq(rc, -ENOENT);
    ck_assert_int_eq(pt_upstream_connect_fail(rc), PT_UPSTREAM_REFUSED);
}
END_TEST

START_TEST(a_closed_tcp_port_is_refused)
{
    /* A port that was just free: bound, not listened on, so nothing answers there. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t len = sizeof(sin);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sin, &len), 0);
    pt_backend_t b = {.host = "127.0.0.1", .port = ntohs(sin.sin_port)};
    ck_assert_int_eq(pt_upstream_connect(&b, 1000), -ECONNREFUSED);
    close(s);
}
END_TEST

/* Without resolve=, names are resolved at load (b->addrs): a name without addresses is not
 * looked up on the worker at connect, and the reason says so; a literal needs no lookup. */
START_TEST(a_name_not_resolved_at_load_is_not_looked_up_at_connect)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t len = sizeof(sin);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(listen(s, 4), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sin, &len), 0);
    pt_backend_t b = {.host = "localhost", .port = ntohs(sin.sin_port)};
    ck_assert_int_eq(pt_upstream_connect(&b, 1000), -EHOSTUNREACH);
    ck_assert_msg(strstr(pt_upstream_connect_why(&b, EHOSTUNREACH), "not resolved when the "
                                                                  "configuration was loaded"),
                  "%s", pt_upstream_connect_why(&b, EHOSTUNREACH));
    b.resolve_s = 30; /* a member that follows the network may still look its name up */
    int fd = pt_upstream_connect(&b, 1000);
    ck_assert_int_ge(fd, 0);
    close(fd);
    pt_backend_t lit = {.host = "127.0.0.1", .port = 9};
    ck_assert_str_eq(pt_upstream_connect_why(&lit, EHOSTUNREACH), strerror(EHOSTUNREACH));
    close(s);
}
END_TEST

START_TEST(connects_to_a_tcp_backend)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t len = sizeof(sin);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(listen(s, 4), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sin, &len), 0);
    pt_backend_t b = {.host = "127.0.0.1", .port = ntohs(sin.sin_port)};
    int fd = pt_upstream_connect(&b, 1000);
    ck_assert_int_ge(fd, 0);
    close(fd);
    close(s);
}
END_TEST

START_TEST(the_connect_timeout_is_the_backends_or_the_default)
{
    pt_backend_t b = {.connect_timeout_ms = 250};
    ck_assert_int_eq(pt_upstream_connect_timeout(&b), 250);
    b.connect_timeout_ms = 0;
    ck_assert_int_eq(pt_upstream_connect_timeout(&b), PT_UPSTREAM_CONNECT_TIMEOUT_MS);
}
END_TEST

START_TEST(a_unix_path_too_long_is_refused)
{
    char longp[200];
    memset(longp, 'x', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    pt_backend_t b = {.unix_path = longp};
    ck_assert_int_eq(pt_upstream_connect(&b, 1000), -ENAMETOOLONG);
}
END_TEST

/* ---- Bounded-wait I/O ---------------------------------------------------------------- */

START_TEST(a_read_with_nothing_to_read_times_out)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    char buf[16];
    ck_assert_int_eq(pt_upstream_read(sv[0], buf, sizeof(buf), 30, false), PT_ETIMEOUT);
    ck_assert_int_eq(write(sv[1], "abc", 3), 3);
    ck_assert_int_eq(pt_upstream_read(sv[0], buf, sizeof(buf), 1000, true), 3);
    close(sv[1]);
    ck_assert_int_eq(pt_upstream_read(sv[0], buf, sizeof(buf), 1000, false), 0);
    close(sv[0]);
}
END_TEST

/* A plain borrowed connection waits in the recv itself (its SO_RCVTIMEO): the wait is still
 * bounded, a read that finds bytes returns them, the end of stream is 0, and what else is
 * done on the socket (writes, the pool's check) never blocks. */
START_TEST(a_connection_read_waits_in_the_recv_and_still_times_out)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    pt_upstream_conn_t c = {.fd = sv[0]};
    char buf[16];
    ck_assert_int_eq(pt_upstream_conn_read(&c, buf, sizeof(buf), 50, true), PT_ETIMEOUT);
    ck_assert_int_eq(c.rcvtimeo_ms, 50);
    ck_assert_int_eq(write(sv[1], "abc", 3), 3);
    ck_assert_int_eq(pt_upstream_conn_read(&c, buf, sizeof(buf), 1000, true), 3);
    ck_assert_int_eq(c.rcvtimeo_ms, 1000);
    /* nothing there and no wait_first: a timeout, not a hang or an EAGAIN */
    ck_assert_int_eq(pt_upstream_conn_read(&c, buf, sizeof(buf), 30, false), PT_ETIMEOUT);
    /* the plain fd calls keep their non-blocking meaning on it */
    ck_assert_int_eq(pt_upstream_read(c.fd, buf, sizeof(buf), 30, false), PT_ETIMEOUT);
    int small = 4096;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    static char big[1 << 20];
    struct iovec iov = {big, sizeof(big)};
    ck_assert_int_eq(pt_upstream_conn_writev(&c, &iov, 1, 30), PT_ETIMEOUT);
    shutdown(sv[1], SHUT_WR);
    ck_assert_int_eq(pt_upstream_conn_read(&c, buf, sizeof(buf), 1000, true), 0);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* A timeout that SO_RCVTIMEO cannot carry (0 would mean for ever) is a poll's, and the
 * socket stays as it was. */
START_TEST(a_connection_read_without_a_timeout_polls)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    pt_upstream_conn_t c = {.fd = sv[0]};
    char buf[16];
    ck_assert_int_eq(pt_upstream_conn_read(&c, buf, sizeof(buf), 0, true), PT_ETIMEOUT);
    ck_assert_int_eq(c.rcvtimeo_ms, 0);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(a_write_sends_every_slice_and_reports_a_closed_peer)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    char a[] = "head", b[] = "body";
    struct iovec iov[2] = {{a, 4}, {b, 4}};
    ck_assert_int_eq(pt_upstream_writev(sv[0], iov, 2, 1000), 0);
    char got[16] = "";
    ck_assert_int_eq(read(sv[1], got, sizeof(got)), 8);
    ck_assert_str_eq(got, "headbody");
    close(sv[1]);
    struct iovec again = {a, 4};
    ck_assert_int_eq(pt_upstream_writev(sv[0], &again, 1, 1000), -EPIPE);
    close(sv[0]);
}
END_TEST

START_TEST(a_write_to_a_peer_that_does_not_read_times_out)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    static char big[1 << 20];
    struct iovec iov = {big, sizeof(big)};
    ck_assert_int_eq(pt_upstream_writev(sv[0], &iov, 1, 30), PT_ETIMEOUT);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("upstream");
    TCase *tc = tcase_create("classes");
    tcase_add_test(tc, each_failure_class_has_its_status_log_retry_and_mark);
    tcase_add_test(tc, only_failures_to_reach_the_member_mark_it_failed);
    tcase_add_test(tc, a_failed_connect_is_refused_or_a_timeout);
    tcase_add_test(tc, logging_a_failure_returns_the_status_of_its_class);
    tcase_add_test(tc, only_a_reused_connection_that_the_backend_closed_is_stale);
    suite_add_tcase(s, tc);
    tc = tcase_create("connect");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, connects_to_a_unix_socket_backend);
    tcase_add_test(tc, a_missing_unix_socket_fails_at_once);
    tcase_add_test(tc, a_closed_tcp_port_is_refused);
    tcase_add_test(tc, connects_to_a_tcp_backend);
    tcase_add_test(tc, a_name_not_resolved_at_load_is_not_looked_up_at_connect);
    tcase_add_test(tc, the_connect_timeout_is_the_backends_or_the_default);
    tcase_add_test(tc, a_unix_path_too_long_is_refused);
    suite_add_tcase(s, tc);
    tc = tcase_create("io");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, a_read_with_nothing_to_read_times_out);
    tcase_add_test(tc, a_connection_read_waits_in_the_recv_and_still_times_out);
    tcase_add_test(tc, a_connection_read_without_a_timeout_polls);
    tcase_add_test(tc, a_write_sends_every_slice_and_reports_a_closed_peer);
    tcase_add_test(tc, a_write_to_a_peer_that_does_not_read_times_out);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
