/* SetHandler health (readiness and liveness) and the drain a stop makes: 200 while serving;
 * once TERM or WINCH has begun a stop, 503 to a request that still reaches the handler, new
 * connections refused, requests in flight finished, then exit 0; TERM's drain bounded by
 * GracefulShutdownTimeout. What a Kubernetes probe and a balancer in front see. */
#include "harness.h"
#include "http_backend.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pth_t *h;
static pth_http_backend_t be;

static void setup(void)
{
    h = pth_new();
    pth_http_backend_start_must(&be, NULL);
}

static void teardown(void)
{
    pth_free(h);
    pth_http_backend_stop(&be);
}

/* /healthz is the probe; /app/ a backend; /late/ a backend that gives up after 2 s, whose
 * 504 page is /healthz: the handler then runs for a request accepted before a stop began
 * and answered after it (the only requests a stopping server still routes). */
static void start(const char *extra)
{
    pth_config(h,
               "<Location /healthz>\n  SetHandler health\n</Location>\n"
               "ProxyPass /app/ http://127.0.0.1:%d/\n"
               "ProxyPass /late/ http://127.0.0.1:%d/ timeout=2\n"
               "ErrorDocument 504 /healthz\n%s",
               be.port, be.port, extra ? extra : "");
    pth_start(h);
}

static bool connect_refused(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    pth_assert(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
    int err = errno;
    close(fd);
    return rc != 0 && err == ECONNREFUSED;
}

START_TEST(health_answers_ok_while_serving_and_only_to_get_and_head)
{
    start(NULL);
    pth_resp_t r;
    pth_get(h, "/healthz", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok\n");
    ck_assert_str_eq(pth_resp_header(&r, "Cache-Control"), "no-store");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_curl(h, "HEAD", "/healthz", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    ck_assert_int_eq(pth_curl(h, "POST", "/healthz", NULL, "x", 1, &r), 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(pth_resp_header(&r, "Allow"), "GET, HEAD");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* sig: SIGTERM (what Kubernetes sends) or SIGWINCH (graceful stop, the image's
 * STOPSIGNAL). */
static void stop_drains(int sig)
{
    start("GracefulShutdownTimeout 30\n");
    /* In flight when the stop begins: a 1.5 s answer, and a request that will time out on
     * its backend and be answered by the health handler's 504 page. */
    pth_conn_t *late = pth_conn_open(h);
    pth_conn_sendf(late, "GET /late/slow?ms=6000 HTTP/1.1\r\nHost: x\r\n\r\n");
    pth_conn_t *body = pth_conn_open(h);
    pth_conn_sendf(body, "GET /app/slow?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n");
    int64_t deadline = pth_now_ms() + 5000;
    while (atomic_load(&be.counts->requests) < 2 && pth_now_ms() < deadline)
        pth_sleep_ms(5);
    ck_assert_int_eq(atomic_load(&be.counts->requests), 2);
    pth_resp_t r;
    ck_assert_int_eq(kill(h->pid, sig), 0);
    /* The door closes at once: a probe's new connection is refused. */
    deadline = pth_now_ms() + 3000;
    while (!connect_refused(h->port) && pth_now_ms() < deadline)
        pth_sleep_ms(10);
    ck_assert_msg(connect_refused(h->port), "still accepting 3 s after the signal");
    /* A request already in the server that reaches the handler now hears "stopping". */
    ck_assert_int_eq(pth_conn_read_response(late, &r, false, 8000), 0);
    ck_assert_msg(strcmp(r.body, "stopping\n") == 0, "%d: %s", r.status, r.body);
    pth_resp_free(&r);
    /* The request in flight finishes whole. */
    ck_assert_int_eq(pth_conn_read_response(body, &r, false, 8000), 0);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    ck_assert_int_eq(pth_wait_exit(h, 10000), 0);
    pth_conn_close(late);
    pth_conn_close(body);
}

START_TEST(after_sigterm_health_is_503_new_connections_are_refused_and_requests_finish)
{
    stop_drains(SIGTERM);
}
END_TEST

START_TEST(after_sigwinch_health_is_503_new_connections_are_refused_and_requests_finish)
{
    stop_drains(SIGWINCH);
}
END_TEST

START_TEST(sigterm_cuts_off_what_is_still_running_at_graceful_shutdown_timeout)
{
    start("GracefulShutdownTimeout 1\n");
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /app/slow?ms=20000 HTTP/1.1\r\nHost: x\r\n\r\n");
    int64_t deadline = pth_now_ms() + 5000;
    while (atomic_load(&be.counts->requests) < 1 && pth_now_ms() < deadline)
        pth_sleep_ms(5);
    int64_t t0 = pth_now_ms();
    ck_assert_int_eq(kill(h->pid, SIGTERM), 0);
    int code = pth_wait_exit(h, 8000);
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(code == 0, "exit %d after %lld ms", code, (long long)took);
    /* GracefulShutdownTimeout, plus the parent's grace of 3 s at most. */
    ck_assert_msg(took >= 900 && took < 4500, "exited %lld ms after SIGTERM", (long long)took);
    /* Cut off: no answer, or the proxy's error for the backend it lost; never the 200. */
    pth_resp_t r;
    if (pth_conn_read_response(c, &r, false, 2000) == 0) {
        ck_assert_msg(r.status >= 500, "%d", r.status);
        pth_resp_free(&r);
    }
    pth_conn_close(c);
    pth_expect_error(h, "proxy");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("health");
    TCase *tc = tcase_create("health");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, health_answers_ok_while_serving_and_only_to_get_and_head);
    tcase_add_test(tc, after_sigterm_health_is_503_new_connections_are_refused_and_requests_finish);
    tcase_add_test(tc, after_sigwinch_health_is_503_new_connections_are_refused_and_requests_finish);
    tcase_add_test(tc, sigterm_cuts_off_what_is_still_running_at_graceful_shutdown_timeout);
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
