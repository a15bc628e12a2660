/* A balancer of FastCGI members (a php-fpm pool per member, as a <Proxy "balancer://...">
 * of unix:...|fcgi:// URLs): requests reach every member, and a member that is down is
 * skipped without an error for the client (the FastCGI handler's 503 for an unreachable
 * backend counts as a refusal). The libfcgi responder of fcgi_backends.h stands in. */
#include "fcgi_backends.h"
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static pth_t *h;
static pth_fcgi_responder_t fr[2];

static void setup(void)
{
    h = pth_new();
    for (int i = 0; i < 2; i++) {
        char msg[256];
        const char *sock = pth_path(h, i ? "b.sock" : "a.sock");
        ck_assert_msg(pth_fcgi_responder_start(&fr[i], sock, msg, sizeof(msg)) == 0, "%s", msg);
    }
}

static void teardown(void)
{
    pth_free(h);
    for (int i = 0; i < 2; i++)
        if (fr[i].pid)
            pth_fcgi_responder_stop(&fr[i]);
}

static int get(const char *path, char *body, size_t cap)
{
    pth_resp_t r;
    pth_get(h, path, NULL, &r);
    int st = r.status;
    snprintf(body, cap, "%s", r.body ? r.body : "");
    pth_resp_free(&r);
    return st;
}

START_TEST(fastcgi_members_are_balanced_and_a_dead_one_is_skipped)
{
    pth_expect_error(h, "AH01079|in error state|FastCGI");
    pth_config(h, "ProxyStatus On\n<Proxy balancer://php>\n"
                  "  BalancerMember \"unix:@DIR@/a.sock|fcgi://localhost/\"\n"
                  "  BalancerMember \"unix:@DIR@/b.sock|fcgi://localhost/\"\n"
                  "</Proxy>\nProxyPass /f/ balancer://php/\n"
                  "<Location /status>\n SetHandler server-status\n</Location>\n");
    pth_start(h);
    char body[256];
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(get("/f/echo?q=1", body, sizeof(body)), 200);
        ck_assert_msg(strstr(body, "query=q=1"), "%s", body);
    }
    pth_resp_t r;
    pth_get(h, "/status?auto", NULL, &r);
    ck_assert_msg(strstr(r.body, "Worker[0]Elected: 3\n") && strstr(r.body, "Worker[1]Elected: 3\n"),
                  "%s", r.body);
    pth_resp_free(&r);
    pth_fcgi_responder_stop(&fr[1]);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(get("/f/echo", body, sizeof(body)), 200);
    pth_get(h, "/status?auto", NULL, &r);
    ck_assert_msg(strstr(r.body, "Worker[1]Status: Init Err\n"), "%s", r.body);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("balancer_fcgi");
    TCase *tc = tcase_create("fcgi");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, fastcgi_members_are_balanced_and_a_dead_one_is_skipped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
