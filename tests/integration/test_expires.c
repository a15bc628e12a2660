/* mod_expires with the real binary: Expires and Cache-Control max-age from ExpiresDefault and
 * ExpiresByType (exact type, then the major type's wildcard), "access" and "modification"
 * bases, nothing on errors or when a section turns it off, Header rules applied after it
 * (Apache 2.4.71 gives the same fields for this config, checked by hand). */
#include "harness.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <utime.h>

static pth_t *h;
static time_t new_css_mtime;

static void setup(void)
{
    h = pth_new();
    pth_write_file(h, "a.html", "hi\n", 3);
    pth_write_file(h, "b.png", "png", 3);
    pth_write_file(h, "old.css", "css", 3);
    pth_write_file(h, "new.css", "css", 3);
    pth_write_file(h, "off/c.html", "off", 3);
    pth_write_file(h, "hdr/d.html", "hdr", 3);
    pth_write_file(h, "x.txt", "txt", 3);
    struct utimbuf old = {.actime = 1577836800, .modtime = 1577836800}; /* 2020-01-01 */
    ck_assert_int_eq(utime(pth_path(h, "htdocs/old.css"), &old), 0);
    time_t now = time(NULL);
    new_css_mtime = now - 100;
    struct utimbuf recent = {.actime = new_css_mtime, .modtime = new_css_mtime};
    ck_assert_int_eq(utime(pth_path(h, "htdocs/new.css"), &recent), 0);
    pth_config(h, "ExpiresActive On\nExpiresDefault \"access plus 1 month\"\n"
                  "ExpiresByType image/* \"access plus 2 days 3 hours\"\n"
                  "ExpiresByType text/css \"modification plus 1 hour\"\n"
                  "ExpiresByType text/plain A60\n"
                  "<Directory @DOCROOT@/off>\nExpiresActive Off\n</Directory>\n"
                  "<Location /hdr>\nHeader append Cache-Control public\n</Location>\n");
    pth_start(h);
}

static void teardown(void)
{
    pth_free(h);
    h = NULL;
}

/* GETs path and returns max-age, checking Expires - Date against it (the two clocks are
 * read apart: a second may tick between them). -1 when the response has neither field. */
static long get_max_age(const char *path, int status)
{
    pth_resp_t r;
    pth_get(h, path, NULL, &r);
    ck_assert_msg(r.status == status, "%s: %d", path, r.status);
    const char *cc = pth_resp_header(&r, "Cache-Control");
    const char *exp = pth_resp_header(&r, "Expires");
    long age = -1;
    if (cc || exp) {
        ck_assert_msg(cc && exp, "%s: Cache-Control %s, Expires %s", path, cc, exp);
        const char *m = strstr(cc, "max-age=");
        ck_assert_msg(m != NULL, "%s: Cache-Control: %s", path, cc);
        age = atol(m + 8);
        time_t e = curl_getdate(exp, NULL), d = curl_getdate(pth_resp_header(&r, "Date"), NULL);
        ck_assert_msg(e - d >= age - 1 && e - d <= age + 1, "%s: Expires %s, Date %s, max-age %ld",
                      path, exp, pth_resp_header(&r, "Date"), age);
    }
    pth_resp_free(&r);
    return age;
}

START_TEST(expires_default_applies_to_types_without_their_own_code)
{
    ck_assert_int_eq(get_max_age("/a.html", 200), 2592000);
}
END_TEST

START_TEST(expires_by_type_takes_the_exact_type_then_the_wildcard)
{
    ck_assert_int_eq(get_max_age("/b.png", 200), 2 * 86400 + 3 * 3600);
    ck_assert_int_eq(get_max_age("/x.txt", 200), 60);
}
END_TEST

/* The wall clock as the server reads it: time() is the kernel's coarse clock, which can
 * still say second N for a few milliseconds after clock_gettime says N+1 (the test failed
 * 1 run in 12 with time() around the request). */
static time_t wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

START_TEST(modification_counts_from_the_files_mtime_and_never_expires_in_the_past)
{
    time_t before = wall_now();
    long age = get_max_age("/new.css", 200);
    time_t after = wall_now();
    /* An hour after the mtime, counted from the moment the request was served. */
    ck_assert_msg(age >= 3600 - (after - new_css_mtime) && age <= 3600 - (before - new_css_mtime),
                  "max-age %ld", age);
    ck_assert_int_eq(get_max_age("/old.css", 200), 0);
}
END_TEST

START_TEST(errors_and_sections_that_turn_it_off_get_no_expiry)
{
    ck_assert_int_eq(get_max_age("/missing.html", 404), -1);
    ck_assert_int_eq(get_max_age("/off/c.html", 200), -1);
}
END_TEST

START_TEST(a_not_modified_answer_carries_the_expiry_too)
{
    const char *hd[] = {"If-None-Match: *", NULL};
    pth_resp_t r;
    pth_get(h, "/a.html", hd, &r);
    ck_assert_int_eq(r.status, 304);
    ck_assert_str_eq(pth_resp_header(&r, "Cache-Control"), "max-age=2592000");
    pth_resp_free(&r);
}
END_TEST

START_TEST(header_rules_see_the_fields_mod_expires_set)
{
    pth_resp_t r;
    pth_get(h, "/hdr/d.html", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "Cache-Control"), "max-age=2592000, public");
    ck_assert_uint_eq(pth_resp_header_count(&r, "Expires"), 1);
    pth_resp_free(&r);
}
END_TEST

static Suite *expires_suite(void)
{
    Suite *s = suite_create("expires");
    TCase *tc = tcase_create("expires");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, expires_default_applies_to_types_without_their_own_code);
    tcase_add_test(tc, expires_by_type_takes_the_exact_type_then_the_wildcard);
    tcase_add_test(tc, modification_counts_from_the_files_mtime_and_never_expires_in_the_past);
    tcase_add_test(tc, errors_and_sections_that_turn_it_off_get_no_expiry);
    tcase_add_test(tc, a_not_modified_answer_carries_the_expiry_too);
    tcase_add_test(tc, header_rules_see_the_fields_mod_expires_set);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(expires_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
