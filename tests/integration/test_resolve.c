/* Balancer members that follow the network (BalancerMember ... resolve=N, portico's own)
 * through the real binary: a DNS server of the test's own on loopback
 * (tests/support/dns_server.c, named by ProxyResolver) whose answers change during the
 * test, and members on 127.0.0.2, .3, .4 sharing one port (tests/support/hc_backend.c).
 * Members appear and disappear without a restart while requests keep succeeding. */
#include "dns_server.h"
#include "harness.h"
#include "hc_backend.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NB 3
static pth_t *h;
static pth_dns_t *dns;
static pth_hc_backend_t *be[NB]; /* 127.0.0.2, .3, .4 */
static int port;

static void setup(void)
{
    h = pth_new();
    dns = pth_dns_start();
    ck_assert_ptr_nonnull(dns);
    /* One port on every address, as the replicas of one service. */
    for (int tries = 0; tries < 20; tries++) {
        be[0] = pth_hc_backend_start("127.0.0.2", 0, "m2");
        ck_assert_ptr_nonnull(be[0]);
        port = pth_hc_backend_port(be[0]);
        be[1] = pth_hc_backend_start("127.0.0.3", port, "m3");
        be[2] = be[1] ? pth_hc_backend_start("127.0.0.4", port, "m4") : NULL;
        if (be[1] && be[2])
            return;
        for (int i = 0; i < NB; i++)
            pth_hc_backend_stop(be[i]), be[i] = NULL;
    }
    ck_abort_msg("no port free on 127.0.0.2-4");
}

static void teardown(void)
{
    pth_free(h);
    for (int i = 0; i < NB; i++)
        pth_hc_backend_stop(be[i]);
    pth_dns_stop(dns);
}

static void start(const char *keys)
{
    pth_config(h,
               "StartServers 2\n"
               "ProxyResolver 127.0.0.1:%d\n"
               "<Proxy \"balancer://dyn\">\n"
               "    BalancerMember http://app.test:%d resolve=1 %s\n"
               "</Proxy>\n"
               "ProxyPass /dyn/ balancer://dyn/\n",
               pth_dns_port(dns), port, keys ? keys : "");
    pth_start(h);
}

/* Whether the log says member 127.0.0.<last_octet> was what ("added", "removed"). */
static bool logged(const char *what, int last_octet)
{
    char needle[160];
    snprintf(needle, sizeof(needle), "balancer://dyn: member http://127.0.0.%d:%d %s",
             last_octet, port, what);
    char *log = pth_read_file(h->error_log, NULL);
    bool yes = log && strstr(log, needle);
    free(log);
    return yes;
}

#define ADDED "added"
#define REMOVED "removed"

/* One request: must be 200 from one of the members; counts[i] for 127.0.0.(i+2). */
static void one(int counts[NB])
{
    pth_resp_t r;
    pth_get(h, "/dyn/x", NULL, &r);
    pth_assert_msg(r.status == 200, "status %d", r.status);
    int i = r.body_len == 3 && r.body[0] == 'm' ? r.body[1] - '2' : -1;
    pth_assert_msg(i >= 0 && i < NB, "body '%s'", r.body);
    counts[i]++;
    pth_resp_free(&r);
}

/* Requests one after another until the log says both things (or 10 s pass): every one
 * must succeed while the members change. */
static void requests_until(const char *fmt1, int o1, const char *fmt2, int o2, int counts[NB])
{
    int64_t end = pth_now_ms() + 10000;
    int n = 0;
    while (!(logged(fmt1, o1) && (!fmt2 || logged(fmt2, o2))) && pth_now_ms() < end) {
        one(counts);
        n++;
        pth_sleep_ms(20);
    }
    ck_assert_msg(logged(fmt1, o1), "127.0.0.%d not %s", o1, fmt1);
    if (fmt2)
        ck_assert_msg(logged(fmt2, o2), "127.0.0.%d not %s", o2, fmt2);
}

static bool wait_logged(const char *fmt, int o)
{
    int64_t end = pth_now_ms() + 10000;
    while (!logged(fmt, o) && pth_now_ms() < end)
        pth_sleep_ms(50);
    return logged(fmt, o);
}

START_TEST(members_appear_and_disappear_as_the_answers_change)
{
    pth_dns_set(dns, "app.test", "127.0.0.2", 1);
    start(NULL);
    ck_assert(wait_logged(ADDED, 2));
    int c[NB] = {0};
    for (int i = 0; i < 6; i++)
        one(c);
    ck_assert_int_eq(c[0], 6);
    /* A second replica: both get requests. */
    pth_dns_set(dns, "app.test", "127.0.0.2 127.0.0.3", 1);
    memset(c, 0, sizeof(c));
    requests_until(ADDED, 3, NULL, 0, c);
    memset(c, 0, sizeof(c));
    for (int i = 0; i < 10; i++)
        one(c);
    ck_assert_msg(c[0] >= 3 && c[1] >= 3, "split %d/%d", c[0], c[1]);
    /* .2 goes, .4 comes: requests keep succeeding meanwhile, then none goes to .2. */
    pth_dns_set(dns, "app.test", "127.0.0.3 127.0.0.4", 1);
    requests_until(REMOVED, 2, ADDED, 4, c);
    int before = pth_hc_backend_requests(be[0]);
    memset(c, 0, sizeof(c));
    for (int i = 0; i < 10; i++)
        one(c);
    ck_assert_int_eq(c[0], 0);
    ck_assert_int_eq(pth_hc_backend_requests(be[0]), before);
    ck_assert_msg(c[1] >= 3 && c[2] >= 3, "split %d/%d", c[1], c[2]);
    ck_assert_uint_ge(pth_dns_udp_queries(dns), 4);
    /* A resolved member is reached at its address under the name it stands for. */
    pth_resp_t r;
    pth_get(h, "/dyn/host", NULL, &r);
    char want[64];
    snprintf(want, sizeof(want), " app.test:%d\n", port);
    ck_assert_msg(r.status == 200 && strstr(r.body, want), "%d '%s'", r.status, r.body);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(a_removed_member_finishes_the_request_it_has_in_flight)
{
    pth_dns_set(dns, "app.test", "127.0.0.2", 1);
    start(NULL);
    ck_assert(wait_logged(ADDED, 2));
    pth_conn_t *slow = pth_conn_open(h);
    pth_conn_sendf(slow, "GET /dyn/slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
    int64_t end = pth_now_ms() + 2000;
    while (pth_hc_backend_requests(be[0]) == 0 && pth_now_ms() < end)
        pth_sleep_ms(10);
    ck_assert_int_eq(pth_hc_backend_requests(be[0]), 1);
    pth_dns_set(dns, "app.test", "127.0.0.3", 1);
    ck_assert(wait_logged(REMOVED, 2));
    ck_assert(logged("removed: app.test no longer has that address (1 request in flight "
                     "finish)", 2));
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(slow, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "m2\n");
    pth_resp_free(&r);
    pth_conn_close(slow);
    int c[NB] = {0};
    for (int i = 0; i < 4; i++)
        one(c);
    ck_assert_int_eq(c[1], 4);
    pth_stop(h);
}
END_TEST

START_TEST(an_empty_answer_keeps_the_members)
{
    pth_dns_set(dns, "app.test", "127.0.0.2 127.0.0.3", 1);
    start(NULL);
    ck_assert(wait_logged(ADDED, 2) && wait_logged(ADDED, 3));
    pth_dns_set(dns, "app.test", "", 1);
    ck_assert(pth_file_wait_contains(h->error_log, "app.test has no address now (empty answer): "
                                     "its members are kept", 10000));
    int c[NB] = {0};
    for (int i = 0; i < 10; i++)
        one(c);
    ck_assert_msg(c[0] >= 3 && c[1] >= 3, "split %d/%d", c[0], c[1]);
    pth_stop(h);
}
END_TEST

START_TEST(resolved_members_get_health_checks)
{
    pth_dns_set(dns, "app.test", "127.0.0.2 127.0.0.3", 1);
    start("hcmethod=GET hcuri=/health hcinterval=1");
    ck_assert(wait_logged(ADDED, 2) && wait_logged(ADDED, 3));
    pth_hc_backend_set_health(be[1], 500);
    char ejected[128];
    snprintf(ejected, sizeof(ejected), "member http://127.0.0.3:%d of balancer://dyn ejected",
             port);
    ck_assert(pth_file_wait_contains(h->error_log, ejected, 10000));
    int c[NB] = {0};
    for (int i = 0; i < 8; i++)
        one(c);
    ck_assert_int_eq(c[1], 0);
    ck_assert_int_ge(pth_hc_backend_probes(be[1]), 1);
    pth_stop(h);
}
END_TEST

/* Without resolve=, a name is resolved when the configuration is loaded (start, restart):
 * one that does not resolve then is said at load, its requests fail at once (503, another
 * member takes them) and it is not looked up again per request, nor per health check. */
START_TEST(without_resolve_a_name_that_does_not_resolve_at_load_is_said_and_skipped)
{
    pth_expect_error(h, "AH01079|AH00940|in error state");
    pth_config(h,
               "<Proxy \"balancer://fix\">\n"
               "    BalancerMember http://nosuch.invalid:%d retry=60\n"
               "    BalancerMember http://127.0.0.2:%d\n"
               "</Proxy>\n"
               "ProxyPass /fix/ balancer://fix/\nProxyPass /gone/ http://nosuch.invalid:%d/\n",
               port, port, port);
    pth_start(h);
    ck_assert(pth_file_wait_contains(h->error_log, "cannot resolve nosuch.invalid", 3000) ||
              pth_file_wait_contains(h->err_path, "cannot resolve nosuch.invalid", 3000));
    for (int i = 0; i < 4; i++) {
        pth_resp_t r;
        pth_get(h, "/fix/page", NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, "m2\n");
        pth_resp_free(&r);
    }
    pth_resp_t r;
    pth_get(h, "/gone/page", NULL, &r);
    ck_assert_int_eq(r.status, 503);
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "not resolved when the configuration was "
                                     "loaded", 3000));
    pth_stop(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("resolve");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, members_appear_and_disappear_as_the_answers_change);
    tcase_add_test(tc, a_removed_member_finishes_the_request_it_has_in_flight);
    tcase_add_test(tc, an_empty_answer_keeps_the_members);
    tcase_add_test(tc, resolved_members_get_health_checks);
    tcase_add_test(tc, without_resolve_a_name_that_does_not_resolve_at_load_is_said_and_skipped);
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
