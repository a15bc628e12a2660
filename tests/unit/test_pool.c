/* The per-child connection pool (proxy/pool.c) against a unix-socket listener of the test's
 * own: reuse, the bound and the bounded wait, a dead idle connection replaced, and the sweep
 * of idle connections, with a fake clock so that no test sleeps for a timeout. */
#include "pool.h"

#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char sock[128];
static int lfd = -1;
static pt_backend_t backend;
static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

static void setup(void)
{
    strcpy(dir, "/tmp/ptpoolXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/b.sock", dir);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    ck_assert_int_eq(listen(lfd, 256), 0);
    backend = (pt_backend_t){.url = "proxy:unix:test|fcgi://localhost", .unix_path = sock};
    fake_now = 1000000;
}

static void teardown(void)
{
    if (lfd >= 0)
        close(lfd);
    unlink(sock);
    rmdir(dir);
}

static pt_pool_t *pool(int max, bool reuse)
{
    pt_pool_opts_t o = {.max = max, .reuse = reuse, .idle_timeout_ms = 1000,
                        .now_ms = fake_clock};
    pt_pool_t *p = pt_pool_create(&backend, &o);
    ck_assert_ptr_nonnull(p);
    return p;
}

static int acquire(pt_pool_t *p, int64_t wait_ms, bool fresh, pt_upstream_conn_t *c,
                   pt_upstream_fail_t *fail, int *err)
{
    pt_upstream_fail_t f = PT_UPSTREAM_NFAILS;
    int e = 0;
    int rc = pt_pool_acquire(p, wait_ms, fresh, c, fail ? fail : &f, err ? err : &e);
    return rc;
}

/* True when the peer of an accepted connection sees it closed within ms. */
static bool peer_sees_close(int afd, int ms)
{
    struct pollfd pfd = {.fd = afd, .events = POLLIN};
    char b;
    return poll(&pfd, 1, ms) == 1 && read(afd, &b, 1) == 0;
}

START_TEST(a_reusable_connection_comes_back_to_the_next_borrower)
{
    pt_pool_t *p = pool(2, true);
    pt_upstream_conn_t c;
    ck_assert_int_eq(acquire(p, 1000, false, &c, NULL, NULL), 0);
    ck_assert(!c.reused);
    int fd = c.fd;
    pt_pool_release(p, &c, true);
    ck_assert_int_eq(c.fd, -1);
    ck_assert_int_eq(pt_pool_idle_count(p), 1);
    ck_assert_int_eq(acquire(p, 1000, false, &c, NULL, NULL), 0);
    ck_assert(c.reused);
    ck_assert_int_eq(c.fd, fd);
    ck_assert_int_eq(pt_pool_open_count(p), 1);
    pt_pool_release(p, &c, false);
    ck_assert_int_eq(pt_pool_open_count(p), 0);
    pt_pool_destroy(p);
}
END_TEST

START_TEST(without_reuse_a_released_connection_is_closed)
{
    pt_pool_t *p = pool(2, false);
    pt_upstream_conn_t c;
    ck_assert_int_eq(acquire(p, 1000, false, &c, NULL, NULL), 0);
    int afd = accept(lfd, NULL, NULL);
    pt_pool_release(p, &c, true);
    ck_assert_int_eq(pt_pool_open_count(p), 0);
    ck_assert(peer_sees_close(afd, 2000));
    close(afd);
    pt_pool_destroy(p);
}
END_TEST

START_TEST(a_full_pool_answers_pool_full_after_the_bounded_wait)
{
    pt_pool_t *p = pool(1, true);
    pt_upstream_conn_t c, d;
    ck_assert_int_eq(acquire(p, 1000, false, &c, NULL, NULL), 0);
    pt_upstream_fail_t fail = PT_UPSTREAM_NFAILS;
    int err = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(acquire(p, 50, false, &d, &fail, &err), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    ck_assert_int_eq(fail, PT_UPSTREAM_POOL_FULL);
    ck_assert_int_eq(err, ETIMEDOUT);
    ck_assert_int_eq(d.fd, -1);
    ck_assert_int_ge(ms, 45);
    ck_assert_int_lt(ms, 5000);
    ck_assert_int_eq(pt_pool_open_count(p), 1);
    pt_pool_release(p, &c, true);
    pt_pool_destroy(p);
}
END_TEST

typedef struct {
    pt_pool_t *p;
    int rc;
    pt_upstream_conn_t c;
} waiter_t;

static void *wait_for_one(void *arg)
{
    waiter_t *w = arg;
    w->rc = acquire(w->p, 10000, false, &w->c, NULL, NULL);
    return NULL;
}

START_TEST(a_waiting_borrower_gets_the_connection_given_back)
{
    /* Whether the release comes before or after the waiter starts waiting, it must get the
     * connection: the outcome does not depend on the timing. */
    pt_pool_t *p = pool(1, true);
    waiter_t w = {.p = p};
    pt_upstream_conn_t c;
    ck_assert_int_eq(acquire(p, 1000, false, &c, NULL, NULL), 0);
    int fd = c.fd;
    pthread_t t;
    pthread_create(&t, NULL, wait_for_one, &w);
    pt_pool_release(p, &c, true);
    pthread_join(t, NULL);
    ck_assert_int_eq(w.rc, 0);
    ck_assert_int_eq(w.c.fd, fd);
    ck_assert(w.c.reused);
    pt_pool_release(p, &w.c, false);
    pt_pool_destroy(p);
}
END_TEST

START_TEST(a_refused_connect_gives_its_slot_back)
{
    close(lfd);
    lfd = -1;
    unlink(sock);
    pt_pool_t *p = pool(1, true);
    pt_upstream_conn_t c;
    pt_upstream_fail_t fail = PT_UPSTREAM_NFAILS;
    int err = 0;
    ck_assert_int_eq(acquire(p, 1000, false, &c, &fail, &err), -1);
    ck_assert_int_eq(fail, PT_UPSTREAM_REFUSED);
    ck_assert_int_eq(err, ENOENT);
    ck_assert_int_eq(pt_pool_open_count(p), 0);
    pt_pool_destroy(p);
}
END_TEST

START_TEST(an_idle_connection_the_backend_closed_is_replaced)
{
    pt_pool_t *p = pool(1, true);
    pt_upstream_conn_t c;
    ck_assert_int_eq(acquire(p, 1000, false, &c, NULL, NULL), 0);
    int afd = accept(lfd, NULL, NULL);
    int fd = c.fd;
    pt_pool_release(p, &c, true);
    close(afd);
    /* Wait until the hang-up reached our end of the idle connection. */
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
    ck_assert_int_eq(acquire(p, 1000, false, &c, NULL, NULL), 0);
    ck_assert(!c.reused);
    ck_assert_int_eq(pt_pool_open_count(p), 1);
    pt_pool_release(p, &c, false);
    pt_pool_destroy(p);
}
END_TEST

/* PT_POOL_TRUST_RECENT: a connection given back less than PT_POOL_TRUST_MS ago is handed out
 * without the check (its caller retries on a fresh one), an older one is checked. */
START_TEST(trust_recent_skips_the_check_only_for_a_recent_connection)
{
    pt_pool_t *p = pool(1, true);
    pt_upstream_conn_t c;
    pt_upstream_fail_t f;
    int e;
    ck_assert_int_eq(acquire(p, 1000, false, &c, NULL, NULL), 0);
    int afd = accept(lfd, NULL, NULL);
    int fd = c.fd;
    pt_pool_release(p, &c, true);
    close(afd);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
    fake_now += PT_POOL_TRUST_MS - 1;
    ck_assert_int_eq(pt_pool_acquire_how(p, 1000, PT_POOL_TRUST_RECENT, &c, &f, &e), 0);
    ck_assert(c.reused); /* unchecked: the closed one */
    ck_assert_int_eq(c.fd, fd);
    pt_pool_release(p, &c, true);
    fake_now += PT_POOL_TRUST_MS;
    ck_assert_int_eq(pt_pool_acquire_how(p, 1000, PT_POOL_TRUST_RECENT, &c, &f, &e), 0);
    ck_assert(!c.reused); /* checked: replaced by a new one */
    ck_assert_int_eq(pt_pool_open_count(p), 1);
    pt_pool_release(p, &c, false);
    pt_pool_destroy(p);
}
END_TEST

START_TEST(fresh_closes_an_idle_connection_to_make_room)
{
    pt_pool_t *p = pool(1, true);
    pt_upstream_conn_t c;
    ck_assert_int_eq(acquire(p, 1000, false, &c, NULL, NULL), 0);
    pt_pool_release(p, &c, true);
    ck_assert_int_eq(acquire(p, 1000, true, &c, NULL, NULL), 0);
    ck_assert(!c.reused);
    ck_assert_int_eq(pt_pool_open_count(p), 1);
    ck_assert_int_eq(pt_pool_idle_count(p), 0);
    pt_pool_release(p, &c, false);
    pt_pool_destroy(p);
}
END_TEST

START_TEST(the_tick_sweeps_connections_idle_past_the_timeout_and_no_others)
{
    pt_pool_t *p = pool(3, true);
    pt_upstream_conn_t a, b;
    ck_assert_int_eq(acquire(p, 1000, false, &a, NULL, NULL), 0);
    ck_assert_int_eq(acquire(p, 1000, false, &b, NULL, NULL), 0);
    int afd = accept(lfd, NULL, NULL);
    int bfd = accept(lfd, NULL, NULL);
    pt_pool_release(p, &a, true);    /* idle since 1000000 */
    fake_now += 600;
    pt_pool_release(p, &b, true);    /* idle since 1000600 */
    ck_assert_int_eq(pt_pool_sweep(p, fake_now + 399), 0); /* a: 999 ms, not past */
    ck_assert_int_eq(pt_pool_sweep(p, fake_now + 401), 1); /* a: 1001 ms */
    ck_assert_int_eq(pt_pool_idle_count(p), 1);
    ck_assert_int_eq(pt_pool_open_count(p), 1);
    ck_assert(peer_sees_close(afd, 2000));
    ck_assert_int_eq(pt_pool_sweep(p, fake_now + 1001), 1);
    ck_assert_int_eq(pt_pool_open_count(p), 0);
    ck_assert(peer_sees_close(bfd, 2000));
    close(afd);
    close(bfd);
    pt_pool_destroy(p);
}
END_TEST

START_TEST(an_acquire_sweeps_too)
{
    pt_pool_t *p = pool(2, true);
    pt_upstream_conn_t c;
    ck_assert_int_eq(acquire(p, 1000, false, &c, NULL, NULL), 0);
    pt_pool_release(p, &c, true);
    fake_now += 1001;
    ck_assert_int_eq(acquire(p, 1000, false, &c, NULL, NULL), 0);
    ck_assert(!c.reused); /* the idle one was too old: a new connection */
    ck_assert_int_eq(pt_pool_open_count(p), 1);
    pt_pool_release(p, &c, false);
    pt_pool_destroy(p);
}
END_TEST

START_TEST(a_sweep_of_many_idle_connections_closes_them_all)
{
    enum { N = 150 }; /* more than one batch under the lock */
    pt_pool_t *p = pool(N, true);
    static pt_upstream_conn_t c[N];
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(acquire(p, 1000, false, &c[i], NULL, NULL), 0);
    for (int i = 0; i < N; i++)
        pt_pool_release(p, &c[i], true);
    ck_assert_int_eq(pt_pool_idle_count(p), N);
    ck_assert_int_eq(pt_pool_sweep(p, fake_now + 1001), N);
    ck_assert_int_eq(pt_pool_open_count(p), 0);
    pt_pool_destroy(p);
}
END_TEST

/* Worker threads borrowing and giving back while the tick sweeps: never more than max
 * borrowed at once, and the counts add up at the end. */
enum { STRESS_MAX = 3, STRESS_THREADS = 12, STRESS_ROUNDS = 3000 };
static _Atomic int borrowed, worst, failures;
static _Atomic bool stress_done;

static void *stress_worker(void *arg)
{
    pt_pool_t *p = arg;
    for (int i = 0; i < STRESS_ROUNDS; i++) {
        pt_upstream_conn_t c;
        if (acquire(p, 5000, i % 7 == 0, &c, NULL, NULL) != 0) {
            failures++;
            continue;
        }
        int b = ++borrowed;
        for (int w = worst; b > w && !atomic_compare_exchange_weak(&worst, &w, b);)
            ;
        borrowed--;
        pt_pool_release(p, &c, i % 5 != 0);
    }
    return NULL;
}

static void *stress_ticker(void *arg)
{
    pt_pool_t *p = arg;
    while (!stress_done)
        pt_pool_sweep(p, fake_now + 5000); /* every idle one is past its timeout */
    return NULL;
}

START_TEST(many_threads_and_the_tick_keep_the_bound_and_the_counts)
{
    pt_pool_t *p = pool(STRESS_MAX, true);
    pthread_t t[STRESS_THREADS], tick;
    pthread_create(&tick, NULL, stress_ticker, p);
    for (int i = 0; i < STRESS_THREADS; i++)
        pthread_create(&t[i], NULL, stress_worker, p);
    for (int i = 0; i < STRESS_THREADS; i++)
        pthread_join(t[i], NULL);
    stress_done = true;
    pthread_join(tick, NULL);
    ck_assert_int_eq(failures, 0);
    ck_assert_int_le(worst, STRESS_MAX);
    ck_assert_int_eq(pt_pool_open_count(p), pt_pool_idle_count(p));
    ck_assert_int_le(pt_pool_open_count(p), STRESS_MAX);
    pt_pool_destroy(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, a_reusable_connection_comes_back_to_the_next_borrower);
    tcase_add_test(tc, without_reuse_a_released_connection_is_closed);
    tcase_add_test(tc, a_full_pool_answers_pool_full_after_the_bounded_wait);
    tcase_add_test(tc, a_waiting_borrower_gets_the_connection_given_back);
    tcase_add_test(tc, a_refused_connect_gives_its_slot_back);
    tcase_add_test(tc, an_idle_connection_the_backend_closed_is_replaced);
    tcase_add_test(tc, trust_recent_skips_the_check_only_for_a_recent_connection);
    tcase_add_test(tc, fresh_closes_an_idle_connection_to_make_room);
    tcase_add_test(tc, the_tick_sweeps_connections_idle_past_the_timeout_and_no_others);
    tcase_add_test(tc, an_acquire_sweeps_too);
    tcase_add_test(tc, a_sweep_of_many_idle_connections_closes_them_all);
    tcase_add_test(tc, many_threads_and_the_tick_keep_the_bound_and_the_counts);
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
