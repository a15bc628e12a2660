/* The FastCGI gateway against a libfcgi responder that misbehaves on demand: malformed
 * records, oversized heads, invalid Status, a close before or in the middle of the answer,
 * FCGI_OVERLOADED, STDERR, a local redirect, and a backend that is not there. */
#include "fcgi_backends.h"
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pth_t *h;
static pth_fcgi_responder_t resp;

static void setup(void)
{
    h = pth_new();
    char msg[512];
    if (pth_fcgi_responder_start(&resp, pth_path(h, "resp.sock"), msg, sizeof(msg)) != 0)
        ck_abort_msg("%s", msg);
    pth_config(h, "ProxyPass /f/ \"unix:@DIR@/resp.sock|fcgi://localhost/\"\n"
                  "ProxyPass /gone/ \"unix:@DIR@/nothing.sock|fcgi://localhost/\"\n");
    pth_start(h);
}

static void teardown(void)
{
    pth_fcgi_responder_stop(&resp);
    pth_free(h);
}

START_TEST(a_well_behaved_responder_answers_request_after_request)
{
    for (int i = 0; i < 3; i++) {
        pth_resp_t r;
        pth_get(h, "/f/ok", NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, "ok");
        ck_assert_str_eq(pth_resp_header(&r, "X-Responder"), "libfcgi");
        ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "text/plain");
        pth_resp_free(&r);
    }
    pth_stop(h);
}
END_TEST

START_TEST(a_request_body_reaches_the_responder_as_stdin)
{
    char body[200000];
    memset(body, 'b', sizeof(body));
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, "POST", "/f/echo?x=1", NULL, body, sizeof(body), &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "len=200000 query=x=1");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(a_record_of_another_version_is_a_502)
{
    pth_expect_error(h, "unsupported FastCGI record version");
    pth_resp_t r;
    pth_get(h, "/f/badversion", NULL, &r);
    ck_assert_int_eq(r.status, 502);
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "unsupported FastCGI record version", 3000));
    pth_stop(h);
}
END_TEST

START_TEST(an_oversized_header_block_is_a_502)
{
    pth_expect_error(h, "response header block too large");
    pth_resp_t r;
    pth_get(h, "/f/bighead", NULL, &r);
    ck_assert_int_eq(r.status, 502);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(an_invalid_status_is_a_502)
{
    pth_expect_error(h, "invalid Status from the script");
    pth_resp_t r;
    pth_get(h, "/f/badstatus", NULL, &r);
    ck_assert_int_eq(r.status, 502);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(a_close_before_the_head_is_a_502)
{
    pth_expect_error(h, "connection closed before the end of the response");
    pth_resp_t r;
    pth_get(h, "/f/earlyclose", NULL, &r);
    ck_assert_int_eq(r.status, 502);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(a_close_mid_response_cuts_the_client_connection)
{
    pth_expect_error(h, "connection closed before the end of the response");
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /f/midclose HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(pth_conn_wait_closed(c, 5000));
    char *got = strndup(c->buf ? c->buf : "", c->len);
    ck_assert_msg(strstr(got, "HTTP/1.1 200 OK") != NULL, "%s", got);
    ck_assert_msg(strstr(got, "partial body") != NULL, "%s", got);
    /* No terminating chunk: the client can tell the body is cut. */
    ck_assert_msg(strstr(got, "\r\n0\r\n\r\n") == NULL, "%s", got);
    free(got);
    pth_conn_close(c);
    pth_stop(h);
}
END_TEST

START_TEST(an_overloaded_backend_is_a_503)
{
    pth_expect_error(h, "refused the request \\(protocol status 2\\)");
    pth_resp_t r;
    pth_get(h, "/f/overloaded", NULL, &r);
    ck_assert_int_eq(r.status, 503);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(stderr_lines_go_to_the_error_log_with_the_client)
{
    pth_expect_error(h, "Got error 'responder says hello on stderr'");
    pth_resp_t r;
    pth_get(h, "/f/stderr", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok");
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "[client 127.0.0.1:", 3000));
    ck_assert(pth_file_wait_contains(h->error_log,
                                     "AH01071: Got error 'responder says hello on stderr'", 3000));
    pth_stop(h);
}
END_TEST

START_TEST(a_local_location_is_served_by_an_internal_redirect)
{
    pth_resp_t r;
    pth_get(h, "/f/redirect", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok");
    ck_assert_ptr_null(pth_resp_header(&r, "Location"));
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(a_backend_that_is_not_there_is_a_503_at_once)
{
    pth_expect_error(h, "AH01079: failed to make connection");
    int64_t t0 = pth_now_ms();
    pth_resp_t r;
    pth_get(h, "/gone/x", NULL, &r);
    ck_assert_int_eq(r.status, 503);
    ck_assert_int_lt(pth_now_ms() - t0, 1000);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(after_a_broken_backend_the_next_request_works)
{
    pth_expect_error(h, "unsupported FastCGI record version");
    pth_resp_t r;
    pth_get(h, "/f/badversion", NULL, &r);
    ck_assert_int_eq(r.status, 502);
    pth_resp_free(&r);
    pth_get(h, "/f/ok", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fcgi_backend");
    TCase *tc = tcase_create("responder");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, a_well_behaved_responder_answers_request_after_request);
    tcase_add_test(tc, a_request_body_reaches_the_responder_as_stdin);
    tcase_add_test(tc, a_record_of_another_version_is_a_502);
    tcase_add_test(tc, an_oversized_header_block_is_a_502);
    tcase_add_test(tc, an_invalid_status_is_a_502);
    tcase_add_test(tc, a_close_before_the_head_is_a_502);
    tcase_add_test(tc, a_close_mid_response_cuts_the_client_connection);
    tcase_add_test(tc, an_overloaded_backend_is_a_503);
    tcase_add_test(tc, stderr_lines_go_to_the_error_log_with_the_client);
    tcase_add_test(tc, a_local_location_is_served_by_an_internal_redirect);
    tcase_add_test(tc, a_backend_that_is_not_there_is_a_503_at_once);
    tcase_add_test(tc, after_a_broken_backend_the_next_request_works);
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
