/* Unit tests for the CGI response head a FastCGI backend sends on STDOUT: gathering it with
 * a bound across records, and parsing Status, Location, Content-Type and the other fields. */
#include "fcgi/fcgi.h"

#include <check.h>
#include <stdlib.h>

static pt_arena_t *a;

static void setup(void) { a = pt_arena_create(4096); }
static void teardown(void) { pt_arena_destroy(a); }

static int parse(const char *head, pt_fcgi_cgi_t *out, const char **why)
{
    return pt_fcgi_head_parse(a, head, strlen(head), out, why);
}

START_TEST(head_ends_at_the_blank_line_and_the_rest_is_body)
{
    pt_fcgi_head_t h;
    pt_fcgi_head_init(&h, a, 1024);
    const char *in = "Content-Type: text/plain\r\n\r\nbody";
    size_t used = 0;
    ck_assert_int_eq(pt_fcgi_head_feed(&h, in, strlen(in), &used), 1);
    ck_assert_uint_eq(used, strlen(in) - 4);
    ck_assert_uint_eq(h.len, used);
}
END_TEST

START_TEST(head_split_across_records_inside_the_terminator_is_found)
{
    pt_fcgi_head_t h;
    pt_fcgi_head_init(&h, a, 1024);
    size_t used = 0;
    ck_assert_int_eq(pt_fcgi_head_feed(&h, "X-A: 1\r", 7, &used), 0);
    ck_assert_uint_eq(used, 7);
    ck_assert_int_eq(pt_fcgi_head_feed(&h, "\n\r", 2, &used), 0);
    ck_assert_int_eq(pt_fcgi_head_feed(&h, "\nhello", 6, &used), 1);
    ck_assert_uint_eq(used, 1);
    ck_assert_uint_eq(h.len, 10);
}
END_TEST

START_TEST(bare_newlines_end_a_head_too)
{
    pt_fcgi_head_t h;
    pt_fcgi_head_init(&h, a, 1024);
    size_t used = 0;
    ck_assert_int_eq(pt_fcgi_head_feed(&h, "Status: 404\n\nx", 14, &used), 1);
    ck_assert_uint_eq(used, 13);
}
END_TEST

START_TEST(a_head_over_the_bound_is_refused)
{
    pt_fcgi_head_t h;
    pt_fcgi_head_init(&h, a, 64);
    char line[100];
    memset(line, 'a', sizeof(line));
    memcpy(line, "X: ", 3);
    size_t used = 0;
    ck_assert_int_eq(pt_fcgi_head_feed(&h, line, 40, &used), 0);
    ck_assert_int_eq(pt_fcgi_head_feed(&h, line, 40, &used), PT_ETOOBIG);
    ck_assert_uint_le(h.len, 64);
}
END_TEST

START_TEST(status_line_sets_the_code_and_reason)
{
    pt_fcgi_cgi_t c;
    const char *why;
    ck_assert_int_eq(parse("Status: 404 Not Here\r\nContent-Type: text/html\r\n\r\n", &c, &why),
                     0);
    ck_assert_int_eq(c.status, 404);
    ck_assert_str_eq(c.reason, "Not Here");
    ck_assert_str_eq(c.content_type, "text/html");
    ck_assert_uint_eq(c.headers.n, 0);
}
END_TEST

START_TEST(no_status_means_200)
{
    pt_fcgi_cgi_t c;
    const char *why;
    ck_assert_int_eq(parse("X-Powered-By: PHP\n\n", &c, &why), 0);
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(pt_table_get(&c.headers, "X-Powered-By"), "PHP");
}
END_TEST

START_TEST(invalid_status_values_are_errors)
{
    pt_fcgi_cgi_t c;
    const char *why = NULL;
    const char *bad[] = {"Status: abc\n\n", "Status: 20\n\n", "Status: 2000\n\n",
                         "Status: 099 x\n\n", "Status: 600\n\n", "Status: 100 Continue\n\n",
                         "Status:\n\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(parse(bad[i], &c, &why) == PT_EINVAL, "accepted %s", bad[i]);
        ck_assert_str_eq(why, "invalid Status from the script");
    }
}
END_TEST

START_TEST(local_path_location_without_status_is_a_local_redirect)
{
    pt_fcgi_cgi_t c;
    const char *why;
    ck_assert_int_eq(parse("Location: /other?x=1\r\n\r\n", &c, &why), 0);
    ck_assert(c.local_redirect);
    ck_assert_str_eq(c.location, "/other?x=1");
}
END_TEST

START_TEST(absolute_location_without_status_is_a_302)
{
    pt_fcgi_cgi_t c;
    const char *why;
    ck_assert_int_eq(parse("Location: http://example.com/\r\n\r\n", &c, &why), 0);
    ck_assert(!c.local_redirect);
    ck_assert_int_eq(c.status, 302);
    ck_assert_str_eq(pt_table_get(&c.headers, "Location"), "http://example.com/");
}
END_TEST

START_TEST(location_with_a_status_is_a_client_redirect_with_that_status)
{
    pt_fcgi_cgi_t c;
    const char *why;
    ck_assert_int_eq(parse("Status: 301 Moved Permanently\r\nLocation: /new\r\n\r\n", &c, &why),
                     0);
    ck_assert(!c.local_redirect);
    ck_assert_int_eq(c.status, 301);
}
END_TEST

START_TEST(several_set_cookie_fields_are_kept_apart_in_order)
{
    pt_fcgi_cgi_t c;
    const char *why;
    ck_assert_int_eq(parse("Set-Cookie: a=1\r\nSet-Cookie: b=2; Path=/\r\nSet-Cookie: c=3\r\n"
                           "\r\n", &c, &why), 0);
    ck_assert_uint_eq(pt_table_count(&c.headers, "Set-Cookie"), 3);
    ck_assert_str_eq(c.headers.v[0].value, "a=1");
    ck_assert_str_eq(c.headers.v[1].value, "b=2; Path=/");
    ck_assert_str_eq(c.headers.v[2].value, "c=3");
}
END_TEST

START_TEST(framing_fields_from_the_script_are_dropped)
{
    pt_fcgi_cgi_t c;
    const char *why;
    ck_assert_int_eq(parse("Content-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close"
                           "\r\nX-Ok: 1\r\n\r\n", &c, &why), 0);
    ck_assert_uint_eq(c.headers.n, 1);
    ck_assert_str_eq(c.headers.v[0].name, "X-Ok");
}
END_TEST

START_TEST(folded_lines_are_errors_as_in_apache)
{
    pt_fcgi_cgi_t c;
    const char *why = NULL;
    ck_assert_int_eq(parse("X-Long: one\r\n two\r\n\r\n", &c, &why), PT_EINVAL);
    ck_assert_str_eq(why, "folded header line (obs-fold) from the script");
    ck_assert_int_eq(parse("X-Long: one\n\ttwo\n\n", &c, &why), PT_EINVAL);
    ck_assert_int_eq(parse(" X-First: one\n\n", &c, &why), PT_EINVAL);
}
END_TEST

START_TEST(lines_that_are_not_headers_are_errors)
{
    pt_fcgi_cgi_t c;
    const char *why = NULL;
    ck_assert_int_eq(parse("<html>oops\r\n\r\n", &c, &why), PT_EINVAL);
    ck_assert_str_eq(why, "malformed header line from the script");
    ck_assert_int_eq(parse("Bad Name: x\r\n\r\n", &c, &why), PT_EINVAL);
    ck_assert_int_eq(parse(" leading: x\r\n\r\n", &c, &why), PT_EINVAL);
}
END_TEST

START_TEST(values_are_trimmed_of_surrounding_blanks)
{
    pt_fcgi_cgi_t c;
    const char *why;
    ck_assert_int_eq(parse("Content-Type:   text/plain  \r\n\r\n", &c, &why), 0);
    ck_assert_str_eq(c.content_type, "text/plain");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fcgi_cgihead");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, head_ends_at_the_blank_line_and_the_rest_is_body);
    tcase_add_test(tc, head_split_across_records_inside_the_terminator_is_found);
    tcase_add_test(tc, bare_newlines_end_a_head_too);
    tcase_add_test(tc, a_head_over_the_bound_is_refused);
    tcase_add_test(tc, status_line_sets_the_code_and_reason);
    tcase_add_test(tc, no_status_means_200);
    tcase_add_test(tc, invalid_status_values_are_errors);
    tcase_add_test(tc, local_path_location_without_status_is_a_local_redirect);
    tcase_add_test(tc, absolute_location_without_status_is_a_302);
    tcase_add_test(tc, location_with_a_status_is_a_client_redirect_with_that_status);
    tcase_add_test(tc, several_set_cookie_fields_are_kept_apart_in_order);
    tcase_add_test(tc, framing_fields_from_the_script_are_dropped);
    tcase_add_test(tc, folded_lines_are_errors_as_in_apache);
    tcase_add_test(tc, lines_that_are_not_headers_are_errors);
    tcase_add_test(tc, values_are_trimmed_of_surrounding_blanks);
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
