/* Active health checks (mod_proxy_hcheck's keys) through the real binary, against members
 * of the test's own (tests/support/hc_backend.c) whose /health answer the test flips: a
 * member that starts failing its checks gets no more requests, and gets them again once it
 * passes; hcexpr= with ProxyHCExpr; a TCP check of a member that went away; and the checks
 * run once per server, not once per child (probes counted at the member). */
#include "harness.h"
#include "hc_backend.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pth_t *h;
static pth_hc_backend_t *a, *b;

static void setup(void)
{
    h = pth_new();
    a = pth_hc_backend_start("127.0.0.1", 0, "A");
    b = pth_hc_backend_start("127.0.0.1", 0, "B");
    ck_assert(a && b);
}

static void teardown(void)
{
    pth_free(h);
    pth_hc_backend_stop(a);
    pth_hc_backend_stop(b);
}

/* A balancer of a and b, each with the keys given, then extra lines. */
static void start_balancer(const char *keys_a, const char *keys_b, const char *extra)
{
    pth_config(h,
               "StartServers 3\n%s\n"
               "<Proxy \"balancer://hc\">\n"
               "    BalancerMember http://127.0.0.1:%d %s\n"
               "    BalancerMember http://127.0.0.1:%d %s\n"
               "</Proxy>\n"
               "ProxyPass /lb/ balancer://hc/\n",
               extra ? extra : "", pth_hc_backend_port(a), keys_a, pth_hc_backend_port(b),
               keys_b);
    pth_start(h);
}

/* n requests through the balancer: each must be answered 200; returns how many A served. */
static int spread(int n)
{
    int to_a = 0;
    for (int i = 0; i < n; i++) {
        pth_resp_t r;
        pth_get(h, "/lb/page", NULL, &r);
        pth_assert_msg(r.status == 200, "request %d: status %d", i, r.status);
        pth_assert_msg(strcmp(r.body, "A\n") == 0 || strcmp(r.body, "B\n") == 0, "body '%s'",
                       r.body);
        to_a += strcmp(r.body, "A\n") == 0;
        pth_resp_free(&r);
    }
    return to_a;
}

static void wait_log(const char *needle, int ms)
{
    ck_assert_msg(pth_file_wait_contains(h->error_log, needle, ms), "no '%s' in the error log",
                  needle);
}

/* Waits for the line about member m's state change (what: "ejected", "re-admitted") and
 * checks what it says after that (the count and the reason), showing the line if not. */
static void wait_member(pth_hc_backend_t *m, int port, const char *what, const char *rest)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "member http://127.0.0.1:%d of balancer://hc %s",
             m ? pth_hc_backend_port(m) : port, what);
    wait_log(needle, 8000);
    char *log = pth_read_file(h->error_log, NULL);
    char *at = log ? strstr(log, needle) : NULL;
    ck_assert_ptr_nonnull(at);
    char *nl = strchr(at, '\n');
    if (nl)
        *nl = '\0';
    ck_assert_msg(strstr(at, rest) != NULL, "'%s' does not say '%s'", at, rest);
    /* Written by mod_proxy_hcheck's part, as Apache tags it. */
    char *bol = at;
    while (bol > log && bol[-1] != '\n')
        bol--;
    ck_assert_msg(memmem(bol, (size_t)(at - bol), "[proxy_hcheck:notice]", 21) != NULL,
                  "'%.*s' is not tagged [proxy_hcheck:notice]", (int)(at - bol), bol);
    free(log);
}

static void wait_probes(pth_hc_backend_t *m, int want, int ms)
{
    int64_t end = pth_now_ms() + ms;
    while (pth_hc_backend_probes(m) < want && pth_now_ms() < end)
        pth_sleep_ms(20);
    ck_assert_int_ge(pth_hc_backend_probes(m), want);
}

#define HC "hcmethod=GET hcuri=/health hcinterval=1"

START_TEST(a_failing_member_is_ejected_and_readmitted_when_it_recovers)
{
    start_balancer(HC " hcfails=2 hcpasses=2", HC, NULL);
    wait_probes(a, 1, 5000);
    wait_probes(b, 1, 5000);
    int to_a = spread(10);
    ck_assert_msg(to_a >= 3 && to_a <= 7, "A served %d of 10", to_a);
    pth_hc_backend_set_health(a, 503);
    wait_member(a, 0, "ejected", "after 2 failed checks (status 503)");
    int before = pth_hc_backend_requests(a);
    ck_assert_int_eq(spread(20), 0);
    ck_assert_int_eq(pth_hc_backend_requests(a), before);
    pth_hc_backend_set_health(a, 200);
    wait_member(a, 0, "re-admitted", "after 2 passed checks");
    to_a = spread(10);
    ck_assert_msg(to_a >= 3, "A served %d of 10 after re-admission", to_a);
    pth_stop(h);
}
END_TEST

START_TEST(hcexpr_names_the_statuses_that_pass)
{
    start_balancer(HC " hcexpr=only204", HC " hcexpr=ok",
                   "ProxyHCExpr only204 {%{REQUEST_STATUS} in {'204'}}\n"
                   "ProxyHCExpr ok {%{REQUEST_STATUS} =~ /^[234]/}");
    wait_member(a, 0, "ejected", "after 1 failed check (status 200)");
    ck_assert_int_eq(spread(6), 0);
    pth_hc_backend_set_health(b, 404); /* still passes =~ /^[234]/ */
    pth_hc_backend_set_health(a, 204);
    wait_member(a, 0, "re-admitted", "after 1 passed check");
    ck_assert_int_ge(spread(10), 3);
    ck_assert(!pth_file_wait_contains(h->error_log, "of balancer://hc ejected after 1 failed "
                                      "check (status 404)", 10));
    pth_stop(h);
}
END_TEST

START_TEST(a_tcp_check_ejects_a_member_that_went_away)
{
    int port_a = pth_hc_backend_port(a);
    start_balancer("hcmethod=TCP hcinterval=1", "hcmethod=TCP hcinterval=1", NULL);
    pth_sleep_ms(1500);
    ck_assert_int_eq(pth_hc_backend_probes(a), 0); /* TCP: connects, sends nothing */
    pth_hc_backend_stop(a);
    a = NULL;
    wait_member(NULL, port_a, "ejected", "after 1 failed check (connect: Connection refused)");
    ck_assert_int_eq(spread(10), 0); /* every request answered, by B */
    pth_stop(h);
}
END_TEST

START_TEST(checks_run_once_per_server_not_once_per_child)
{
    start_balancer(HC, HC, NULL);
    pid_t kids[16];
    int64_t t0 = pth_now_ms();
    int n = 0;
    while ((n = pth_children(h->pid, kids, 16)) < 3 && pth_now_ms() - t0 < 5000)
        pth_sleep_ms(50);
    ck_assert_int_ge(n, 3);
    wait_probes(a, 1, 5000);
    int start = pth_hc_backend_probes(a);
    int64_t from = pth_now_ms();
    pth_sleep_ms(4000);
    int probes = pth_hc_backend_probes(a) - start;
    double secs = (double)(pth_now_ms() - from) / 1000.0;
    /* One probe a second (hcinterval=1) from the parent: about 4; once per child would be
     * 12 or more. */
    ck_assert_msg(probes >= 2 && probes <= (int)secs + 2, "%d probes in %.1f s with %d children",
                  probes, secs, n);
    pth_stop(h);
}
END_TEST

static int log_count(const char *needle)
{
    char *log = pth_read_file(h->error_log, NULL);
    int n = 0;
    for (const char *p = log; p && (p = strstr(p, needle)); p++)
        n++;
    free(log);
    return n;
}

START_TEST(a_graceful_restart_keeps_one_checker_and_carries_the_verdicts)
{
    pth_hc_backend_set_health(a, 503);
    start_balancer(HC, HC, NULL);
    wait_member(a, 0, "ejected", "(status 503)");
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    ck_assert(pth_file_wait_contains(h->error_log, "generation 1 configured", 10000));
    /* Once the new generation's checks run (a probe at B), A's verdict has been carried
     * over: it is out without being ejected again. */
    wait_probes(b, pth_hc_backend_probes(b) + 2, 5000);
    ck_assert_int_eq(spread(10), 0);
    ck_assert_int_eq(log_count("of balancer://hc ejected"), 1);
    pth_hc_backend_set_health(a, 200);
    wait_member(a, 0, "re-admitted", "after 1 passed check");
    ck_assert_int_ge(spread(10), 3);
    int start = pth_hc_backend_probes(b);
    int64_t from = pth_now_ms();
    pth_sleep_ms(3000);
    int probes = pth_hc_backend_probes(b) - start;
    double secs = (double)(pth_now_ms() - from) / 1000.0;
    ck_assert_msg(probes >= 1 && probes <= (int)secs + 2, "%d probes in %.1f s", probes, secs);
    pth_stop(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hcheck");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_failing_member_is_ejected_and_readmitted_when_it_recovers);
    tcase_add_test(tc, hcexpr_names_the_statuses_that_pass);
    tcase_add_test(tc, a_tcp_check_ejects_a_member_that_went_away);
    tcase_add_test(tc, checks_run_once_per_server_not_once_per_child);
    tcase_add_test(tc, a_graceful_restart_keeps_one_checker_and_carries_the_verdicts);
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
