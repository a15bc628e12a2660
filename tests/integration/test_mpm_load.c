/* The event MPM under load: ten thousand idle keep-alive connections are parked by one
 * child's listener while 25 threads answer a fresh request at once, and a client that
 * reads nothing of a large response does not keep a worker (the tail goes to the listener).
 * Every test sets "MPM event" itself, so ctest registers the suite for event only: */
/* mpms: event */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* POLLRDHUP */
#endif
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IDLE_CONNS 10000
#define FRESH_DEADLINE_MS 1000
#define OPEN_BUDGET_MS 40000 /* opening and using all of them, so the test stays bounded */

static pth_t *h;
static const char *const status_location =
    "<Location /server-status>\nSetHandler server-status\n</Location>\n";
static pth_conn_t **conns;

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "a.txt", "A");
}

static void teardown(void)
{
    if (conns) {
        for (int i = 0; i < IDLE_CONNS; i++)
            pth_conn_close(conns[i]);
        free(conns);
        conns = NULL;
    }
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

static void get_a(pth_conn_t *c, int i)
{
    int rc = pth_conn_sendf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    pth_assert_msg(rc == 0, "send on connection %d: %d", i, rc);
    pth_resp_t r;
    rc = pth_conn_read_response(c, &r, false, PTH_IO_DEADLINE_MS);
    pth_assert_msg(rc == 0, "no response on connection %d: %d", i, rc);
    pth_assert_msg(r.status == 200 && strcmp(r.body, "A") == 0, "connection %d: %d", i, r.status);
    pth_resp_free(&r);
}

/* A fresh connection's GET /a.txt, timed. */
static int64_t timed_fresh_get(void)
{
    int64_t t0 = pth_now_ms();
    pth_conn_t *c = pth_conn_open(h);
    get_a(c, -1);
    int64_t took = pth_now_ms() - t0;
    pth_conn_close(c);
    return took;
}

/* "Key: N" from server-status?auto. */
static long status_field(const char *key)
{
    pth_resp_t r;
    pth_get(h, "/server-status?auto", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    char k[64];
    snprintf(k, sizeof(k), "\n%s: ", key);
    const char *b = strstr(r.body, k);
    ck_assert_msg(b != NULL, "no %s in: %s", key, r.body);
    long v = strtol(b + strlen(k), NULL, 10);
    pth_resp_free(&r);
    return v;
}

START_TEST(ten_thousand_idle_keepalive_connections_with_25_threads)
{
    long lim = pth_raise_nofile(20000);
    ck_assert_msg(lim >= IDLE_CONNS + 200, "RLIMIT_NOFILE only %ld", lim);
    pth_config(h, "MPM event\nStartServers 1\nServerLimit 1\nThreadsPerChild 25\n"
                  "KeepAliveTimeout 60\nMaxKeepAliveRequests 0\nAsyncRequestWorkerFactor 1000\n"
                  "LogLevel warn\n%s", status_location);
    pth_start(h);
    conns = calloc(IDLE_CONNS, sizeof(*conns));
    ck_assert(conns != NULL);
    int64_t t0 = pth_now_ms();
    for (int i = 0; i < IDLE_CONNS; i++) {
        conns[i] = pth_conn_open(h);
        get_a(conns[i], i);
        if (i % 500 == 0)
            ck_assert_msg(pth_now_ms() - t0 < OPEN_BUDGET_MS, "only %d connections in %d ms", i,
                          OPEN_BUDGET_MS);
    }
    int64_t opened = pth_now_ms() - t0;

    int64_t took = timed_fresh_get();
    ck_assert_msg(took < FRESH_DEADLINE_MS, "fresh request took %lld ms with %d idle "
                  "(opening them took %lld ms)", (long long)took, IDLE_CONNS, (long long)opened);

    /* None of the idle ones was closed: nothing readable, no hang-up on any. */
    struct pollfd *p = calloc(IDLE_CONNS, sizeof(*p));
    ck_assert(p != NULL);
    for (int i = 0; i < IDLE_CONNS; i++)
        p[i] = (struct pollfd){.fd = conns[i]->fd, .events = POLLIN | POLLRDHUP};
    int n = poll(p, IDLE_CONNS, 0);
    int first = -1;
    for (int i = 0; i < IDLE_CONNS && first < 0; i++)
        if (p[i].revents)
            first = i;
    free(p);
    ck_assert_msg(n == 0, "%d idle connections were closed or got data (first: %d)", n, first);
    /* The child publishes its connection counts on its listener's tick. */
    long parked = -1;
    for (int64_t end = pth_now_ms() + 2000; pth_now_ms() < end && parked < IDLE_CONNS;
         pth_sleep_ms(100))
        parked = status_field("ConnsAsyncKeepAlive");
    ck_assert_msg(parked >= IDLE_CONNS, "ConnsAsyncKeepAlive %ld with %d idle", parked,
                  IDLE_CONNS);
    static const int probe[] = {0, 1, IDLE_CONNS / 2, IDLE_CONNS - 1};
    for (size_t k = 0; k < sizeof(probe) / sizeof(probe[0]); k++)
        get_a(conns[probe[k]], probe[k]);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

#define BIG_SIZE (64u << 20)

/* A client with a small receive window that asks for /big.bin and reads nothing. */
static int idle_reader_open(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert(fd >= 0);
    int rcv = 16384;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s",
                  strerror(errno));
    static const char req[] = "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ck_assert(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(req) - 1));
    return fd;
}

/* Reads the whole response on fd now, fast; returns the body bytes after the head. */
static size_t drain_response(int fd)
{
    static char buf[65536];
    size_t total = 0, head = 0;
    char tail[4] = {0};
    int64_t end = pth_now_ms() + 20000;
    while (pth_now_ms() < end && (head == 0 || total - head < BIG_SIZE)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n && head == 0; i++) {
            memmove(tail, tail + 1, 3);
            tail[3] = buf[i];
            if (memcmp(tail, "\r\n\r\n", 4) == 0)
                head = total + (size_t)i + 1;
        }
        total += (size_t)n;
    }
    return head ? total - head : 0;
}

START_TEST(a_slow_reader_does_not_hold_a_worker)
{
    char *data = malloc(BIG_SIZE);
    ck_assert(data != NULL);
    memset(data, 'x', BIG_SIZE);
    pth_write_file(h, "big.bin", data, BIG_SIZE);
    free(data);
    pth_config(h, "MPM event\nStartServers 1\nServerLimit 1\nThreadsPerChild 2\n"
                  "Timeout 60\n%s", status_location);
    pth_start(h);
    /* As many readers as workers: if either held its worker, nothing else would be served. */
    int fd[2] = {idle_reader_open(), idle_reader_open()};
    /* Each worker writes until the socket is full, then parks the tail with the listener,
     * which counts it on its next wake; a worker shows busy until it has parked it. A held
     * worker stays busy for as long as its client reads nothing (Timeout 60 s), so the
     * state is waited for, not slept for: a worker slower than a second to get there (under
     * load) failed a look taken after a 1 s sleep. */
    long busy = -1, writing = -1;
    for (int64_t end = pth_now_ms() + 10000; pth_now_ms() < end; pth_sleep_ms(50)) {
        busy = status_field("BusyWorkers");
        writing = status_field("ConnsAsyncWriting");
        if (busy == 1 && writing == 2)
            break;
    }
    ck_assert_msg(busy == 1, "BusyWorkers %ld with two clients reading nothing (want 1: the "
                  "status request itself)", busy);
    ck_assert_msg(writing == 2, "ConnsAsyncWriting %ld with two clients reading nothing", writing);
    for (int i = 0; i < 5; i++) {
        int64_t took = timed_fresh_get();
        ck_assert_msg(took < FRESH_DEADLINE_MS, "request %d took %lld ms beside slow readers",
                      i, (long long)took);
    }
    /* The parked tails are whole when the readers finally read. */
    for (int i = 0; i < 2; i++) {
        size_t got = drain_response(fd[i]);
        ck_assert_msg(got == BIG_SIZE, "reader %d got %zu of %u body bytes", i, got, BIG_SIZE);
        close(fd[i]);
    }
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

static Suite *mpm_load_suite(void)
{
    Suite *s = suite_create("mpm_load");
    TCase *tc = tcase_create("event");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ten_thousand_idle_keepalive_connections_with_25_threads);
    tcase_add_test(tc, a_slow_reader_does_not_hold_a_worker);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mpm_load_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
