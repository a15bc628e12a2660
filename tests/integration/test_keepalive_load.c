/* The event MPM's promise: idle keep-alive connections are parked, not held by workers.
 * With 4 threads per child, 2,000 idle keep-alive connections must not delay a new
 * request, and the idle ones must still be usable afterwards. The config sets "MPM event"
 * itself, so ctest registers the suite for event only: */
/* mpms: event */
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDLE_CONNS 2000
#define FRESH_DEADLINE_MS 1000

static pth_t *h;
static pth_conn_t *conns[IDLE_CONNS];

static void setup(void)
{
    long lim = pth_raise_nofile(20000);
    ck_assert_msg(lim >= IDLE_CONNS + 200, "RLIMIT_NOFILE only %ld", lim);
    h = pth_new();
    pth_write_filef(h, "a.txt", "A");
    /* Parking idle connections is the event MPM's job: this suite always runs it. */
    pth_config(h, "MPM event\nStartServers 1\nServerLimit 1\nThreadsPerChild 4\nKeepAliveTimeout 60\nMaxKeepAliveRequests 0\n"
                  "LogLevel warn\n");
    pth_start(h);
}

static void teardown(void)
{
    for (int i = 0; i < IDLE_CONNS; i++) {
        pth_conn_close(conns[i]);
        conns[i] = NULL;
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

START_TEST(answers_a_fresh_request_quickly_with_2000_idle_keepalive_connections)
{
    int64_t t0 = pth_now_ms();
    for (int i = 0; i < IDLE_CONNS; i++) {
        conns[i] = pth_conn_open(h);
        get_a(conns[i], i);
    }
    int64_t opened = pth_now_ms() - t0;

    pth_conn_t *fresh = pth_conn_open(h);
    int64_t t1 = pth_now_ms();
    get_a(fresh, -1);
    int64_t took = pth_now_ms() - t1;
    pth_conn_close(fresh);
    ck_assert_msg(took < FRESH_DEADLINE_MS, "fresh request took %lld ms (opening %d took %lld)",
                  (long long)took, IDLE_CONNS, (long long)opened);

    /* The parked connections are still alive and served. */
    static const int probe[] = {0, 1, IDLE_CONNS / 2, IDLE_CONNS - 1};
    for (size_t k = 0; k < sizeof(probe) / sizeof(probe[0]); k++) {
        ck_assert_msg(!conns[probe[k]]->eof, "connection %d closed while idle", probe[k]);
        get_a(conns[probe[k]], probe[k]);
    }
}
END_TEST

static Suite *load_suite(void)
{
    Suite *s = suite_create("keepalive_load");
    TCase *tc = tcase_create("idle");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, answers_a_fresh_request_quickly_with_2000_idle_keepalive_connections);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(load_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
