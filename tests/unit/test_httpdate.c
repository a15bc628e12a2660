/* Unit tests for base/httpdate.c: the IMF-fixdate writer against the C library's
 * (gmtime_r and strftime) at every year boundary and leap day from 1000 to 9999 and on a
 * sweep between, its refusals, the calendar it stands on, and the reader's three forms. */
#include "httpdate.h"

#include "common.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_against_strftime(time_t t)
{
    struct tm tm;
    char want[64], got[64];
    ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
    strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    size_t n = pt_http_date_format(got, sizeof(got), t);
    ck_assert_msg(strcmp(got, want) == 0, "%lld: %s, want %s", (long long)t, got, want);
    ck_assert_uint_eq(n, strlen(want));
}

static time_t utc(int year, int mon, int mday, int hour, int min, int sec)
{
    struct tm tm = {.tm_year = year - 1900, .tm_mon = mon, .tm_mday = mday,
                    .tm_hour = hour, .tm_min = min, .tm_sec = sec};
    return timegm(&tm);
}

START_TEST(formats_imf_fixdate)
{
    char buf[64];
    ck_assert_uint_eq(pt_http_date_format(buf, sizeof(buf), 784111777), PT_HTTP_DATE_LEN);
    ck_assert_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    time_t t;
    ck_assert_int_eq(pt_http_date_parse(buf, &t), 0);
    ck_assert_int_eq(t, 784111777);
}
END_TEST

/* Each year's last second and first second, and the end of February (the 28th, the 29th
 * when there is one, 1 March): 1900, 2100 and 2200 have no 29th, 2000 and 2400 do. */
START_TEST(is_the_c_librarys_text_at_every_year_boundary_and_leap_day)
{
    for (int y = 1000; y <= 9999; y++) {
        check_against_strftime(utc(y, 0, 1, 0, 0, 0));
        check_against_strftime(utc(y, 11, 31, 23, 59, 59));
        check_against_strftime(utc(y, 1, 28, 12, 30, 1));
        check_against_strftime(utc(y, 1, 28, 23, 59, 59) + 1); /* 29 Feb or 1 Mar */
        check_against_strftime(utc(y, 2, 1, 0, 0, 0) - 1);
    }
    char buf[64];
    pt_http_date_format(buf, sizeof(buf), utc(2000, 1, 29, 0, 0, 0));
    ck_assert_str_eq(buf, "Tue, 29 Feb 2000 00:00:00 GMT");
    pt_http_date_format(buf, sizeof(buf), utc(2100, 1, 28, 23, 59, 59) + 1);
    ck_assert_str_eq(buf, "Mon, 01 Mar 2100 00:00:00 GMT");
}
END_TEST

/* The same text as strftime's, across the years a file's date can hold, and from 1000 to
 * 1970 (days before the epoch count down). */
START_TEST(is_the_c_librarys_text_across_the_four_digit_years)
{
    for (time_t x = 0; x < (time_t)253402300799; x += 7919 * 3607 + 13)
        check_against_strftime(x);
    for (time_t x = -1; x > utc(1000, 0, 1, 0, 0, 0); x -= 7919 * 3607 + 13)
        check_against_strftime(x);
    for (int i = 0; i < 20000; i++) /* every hour, minute and second of a day shows up */
        check_against_strftime((time_t)((unsigned long long)i * 2654435761u % 13569465600ull));
}
END_TEST

START_TEST(writes_nothing_where_the_date_does_not_fit)
{
    char buf[64];
    memset(buf, 'x', sizeof(buf));
    ck_assert_uint_eq(pt_http_date_format(buf, PT_HTTP_DATE_LEN, 0), 0);
    ck_assert_str_eq(buf, "");
    memset(buf, 'x', sizeof(buf));
    ck_assert_uint_eq(pt_http_date_format(buf, sizeof(buf), utc(9999, 11, 31, 23, 59, 59) + 1),
                      0);
    ck_assert_str_eq(buf, "");
    ck_assert_uint_eq(pt_http_date_format(buf, PT_HTTP_DATE_LEN + 1, 0), PT_HTTP_DATE_LEN);
    ck_assert_str_eq(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
}
END_TEST

START_TEST(the_calendar_holds_at_the_ends_of_time_t)
{
    pt_civil_t c = pt_civil_from_time(-1);
    ck_assert(c.year == 1969 && c.mon == 11 && c.mday == 31 && c.wday == 3);
    ck_assert(c.hour == 23 && c.min == 59 && c.sec == 59);
    c = pt_civil_from_time(INT64_MIN); /* no overflow (UBSan's build would say) */
    ck_assert(c.year < 0 && c.mon >= 0 && c.mon < 12 && c.sec >= 0 && c.sec < 60);
    c = pt_civil_from_time(INT64_MAX);
    ck_assert(c.year > 9999 && c.wday >= 0 && c.wday < 7);
}
END_TEST

START_TEST(puts_exactly_the_digits_asked_for)
{
    char buf[8] = "xxxxxxx";
    ck_assert_ptr_eq(pt_put_digits(buf, 7, 3), buf + 3);
    ck_assert_str_eq(buf, "007xxxx");
    pt_put_digits(buf, 123456, 4);
    ck_assert_str_eq(buf, "3456xxx");
}
END_TEST

START_TEST(parses_the_three_http_date_forms)
{
    time_t t;
    ck_assert_int_eq(pt_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
    ck_assert_int_eq(t, 784111777);
    ck_assert_int_eq(pt_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t), 0);
    ck_assert_int_eq(t, 784111777);
    ck_assert_int_eq(pt_http_date_parse("Sun Nov  6 08:49:37 1994", &t), 0);
    ck_assert_int_eq(t, 784111777);
    ck_assert_int_eq(pt_http_date_parse("Thu, 01 Jan 1970 00:00:00 GMT", &t), 0);
    ck_assert_int_eq(t, 0);
}
END_TEST

START_TEST(refuses_malformed_http_dates)
{
    static const char *const bad[] = {
        "", "yesterday", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMTx",
        "Sun Nov  6 08:49:37 1994 extra", "1994-11-06T08:49:37Z",
        "Sun, 06 No 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT",
    };
    time_t t;
    for (size_t i = 0; i < PT_ARRAY_LEN(bad); i++) {
        ck_assert_msg(pt_http_date_parse(bad[i], &t) != 0, "%s", bad[i]);
    }
    ck_assert_int_ne(pt_http_date_parse(NULL, &t), 0);
}
END_TEST

static Suite *httpdate_suite(void)
{
    Suite *s = suite_create("httpdate");
    TCase *tc = tcase_create("format");
    tcase_set_timeout(tc, 60); /* the sweeps: ~50,000 strftime calls, slower under ASan */
    tcase_add_test(tc, formats_imf_fixdate);
    tcase_add_test(tc, is_the_c_librarys_text_at_every_year_boundary_and_leap_day);
    tcase_add_test(tc, is_the_c_librarys_text_across_the_four_digit_years);
    tcase_add_test(tc, writes_nothing_where_the_date_does_not_fit);
    tcase_add_test(tc, the_calendar_holds_at_the_ends_of_time_t);
    tcase_add_test(tc, puts_exactly_the_digits_asked_for);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_test(tc, parses_the_three_http_date_forms);
    tcase_add_test(tc, refuses_malformed_http_dates);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(httpdate_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
