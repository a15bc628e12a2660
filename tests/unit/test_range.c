/* Unit tests for range.c: Range parsing, multipart/byteranges length, ETags, the conditional
 * request order and If-Range (the HTTP-date reader and writer: test_httpdate). */
#include "range.h"

#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static pt_arena_t *A;
static pt_range_t R[PT_RANGE_MAX];
static size_t N;

static void setup(void)
{
    A = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    N = 0;
}

static void teardown(void)
{
    pt_arena_destroy(A);
}

static pt_range_result_t parse(const char *v, int64_t size)
{
    return pt_range_parse(v, size, R, &N);
}

#define ASSERT_RANGE(i, a, b)                                                                  \
    do {                                                                                       \
        ck_assert_int_eq(R[i].first, (a));                                                     \
        ck_assert_int_eq(R[i].last, (b));                                                      \
    } while (0)

START_TEST(parses_a_single_closed_range)
{
    ck_assert_int_eq(parse("bytes=0-9", 100), PT_RANGE_OK);
    ck_assert_uint_eq(N, 1);
    ASSERT_RANGE(0, 0, 9);
    ck_assert_int_eq(parse("bytes=10-10", 100), PT_RANGE_OK);
    ASSERT_RANGE(0, 10, 10);
    ck_assert_int_eq(parse("Bytes=90-200", 100), PT_RANGE_OK);
    ASSERT_RANGE(0, 90, 99);
}
END_TEST

START_TEST(parses_open_and_suffix_ranges)
{
    ck_assert_int_eq(parse("bytes=95-", 100), PT_RANGE_OK);
    ASSERT_RANGE(0, 95, 99);
    ck_assert_int_eq(parse("bytes=-10", 100), PT_RANGE_OK);
    ASSERT_RANGE(0, 90, 99);
    ck_assert_int_eq(parse("bytes=-500", 100), PT_RANGE_OK);
    ASSERT_RANGE(0, 0, 99);
    ck_assert_int_eq(parse("bytes=0-99999999999999999999999", 100), PT_RANGE_OK);
    ASSERT_RANGE(0, 0, 99);
}
END_TEST

START_TEST(parses_several_ranges_in_ascending_order)
{
    ck_assert_int_eq(parse("bytes=50-59, 0-9 ,\t-5", 100), PT_RANGE_OK);
    ck_assert_uint_eq(N, 3);
    ASSERT_RANGE(0, 0, 9);
    ASSERT_RANGE(1, 50, 59);
    ASSERT_RANGE(2, 95, 99);
}
END_TEST

START_TEST(coalesces_overlapping_and_adjacent_ranges)
{
    ck_assert_int_eq(parse("bytes=0-9,5-19,20-29,40-49,45-", 100), PT_RANGE_OK);
    ck_assert_uint_eq(N, 2);
    ASSERT_RANGE(0, 0, 29);
    ASSERT_RANGE(1, 40, 99);
    ck_assert_int_eq(parse("bytes=0-0,0-0,0-0", 100), PT_RANGE_OK);
    ck_assert_uint_eq(N, 1);
    ASSERT_RANGE(0, 0, 0);
}
END_TEST

START_TEST(drops_unsatisfiable_ranges_among_satisfiable_ones)
{
    ck_assert_int_eq(parse("bytes=200-300,10-19,-0", 100), PT_RANGE_OK);
    ck_assert_uint_eq(N, 1);
    ASSERT_RANGE(0, 10, 19);
}
END_TEST

START_TEST(reports_unsatisfiable_ranges)
{
    ck_assert_int_eq(parse("bytes=100-", 100), PT_RANGE_UNSATISFIABLE);
    ck_assert_int_eq(parse("bytes=100-200", 100), PT_RANGE_UNSATISFIABLE);
    ck_assert_int_eq(parse("bytes=-0", 100), PT_RANGE_UNSATISFIABLE);
    ck_assert_int_eq(parse("bytes=500-600, 1000-", 100), PT_RANGE_UNSATISFIABLE);
    ck_assert_uint_eq(N, 0);
}
END_TEST

START_TEST(ignores_invalid_range_syntax)
{
    static const char *const bad[] = {
        "bytes=",     "bytes=abc",  "bytes=5-1",  "bytes=1-2x",  "bytes=--5", "bytes 0-1",
        "items=0-1",  "bytes=0-1;", "bytes=-",    "bytes=1",     "bytes=,,",  "=0-1",
        "bytes=0-1,a", "bytes=+1-2", "bytes=1--2", "bytes=0x1-2", "",
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(bad); i++) {
        ck_assert_msg(parse(bad[i], 100) == PT_RANGE_NONE, "%s", bad[i]);
    }
    ck_assert_int_eq(pt_range_parse(NULL, 100, R, &N), PT_RANGE_NONE);
}
END_TEST

START_TEST(ignores_ranges_of_an_empty_file)
{
    ck_assert_int_eq(parse("bytes=0-1", 0), PT_RANGE_NONE);
    ck_assert_int_eq(parse("bytes=-1", 0), PT_RANGE_NONE);
}
END_TEST

START_TEST(ignores_more_than_one_hundred_ranges)
{
    char buf[2048] = "bytes=";
    for (int i = 0; i < PT_RANGE_MAX; i++) {
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%d-%d", i ? "," : "",
                 i * 2, i * 2);
    }
    ck_assert_int_eq(parse(buf, 1000), PT_RANGE_OK);
    ck_assert_uint_eq(N, PT_RANGE_MAX);
    strcat(buf, ",900-901");
    ck_assert_int_eq(parse(buf, 1000), PT_RANGE_NONE);
}
END_TEST

START_TEST(formats_multipart_parts_and_computes_exact_length)
{
    pt_range_t r[2] = {{0, 4}, {10, 19}};
    const char *h0 = pt_range_part_head(A, "B0UND", "text/plain", &r[0], 100);
    ck_assert_str_eq(h0, "\r\n--B0UND\r\nContent-Type: text/plain\r\n"
                         "Content-Range: bytes 0-4/100\r\n\r\n");
    const char *h1 = pt_range_part_head(A, "B0UND", NULL, &r[1], 100);
    ck_assert_str_eq(h1, "\r\n--B0UND\r\nContent-Range: bytes 10-19/100\r\n\r\n");
    ck_assert_str_eq(pt_range_multipart_tail(A, "B0UND"), "\r\n--B0UND--\r\n");
    int64_t want = (int64_t)(strlen(h0) + 5 + strlen(h0) - strlen("0-4") + strlen("10-19") +
                             10 + strlen("\r\n--B0UND--\r\n"));
    ck_assert_int_eq(pt_range_multipart_length(A, "B0UND", "text/plain", r, 2, 100), want);
    ck_assert_int_eq(pt_range_multipart_length(A, "B0UND", "text/plain", r, 2, 100), 168);
}
END_TEST

START_TEST(makes_etags_as_apache_does)
{
    char buf[PT_ETAG_LEN];
    const unsigned dflt = PT_FETAG_SIZE | PT_FETAG_MTIME; /* FileETag MTime Size */
    pt_etag_make_bits(buf, sizeof(buf), dflt, 77, 28, 1700000000123456LL);
    ck_assert_str_eq(buf, "\"1c-60a2418202240\"");
    pt_etag_make_bits(buf, sizeof(buf), dflt, 77, 0, 0);
    ck_assert_str_eq(buf, "\"0-0\"");
    pt_etag_make_bits(buf, sizeof(buf), dflt, 77, INT64_MAX, INT64_MAX);
    ck_assert_str_eq(buf, "\"7fffffffffffffff-7fffffffffffffff\"");
}
END_TEST

START_TEST(makes_the_weak_form_with_the_strong_one_behind_its_prefix)
{
    char buf[PT_ETAG_LEN];
    const unsigned dflt = PT_FETAG_SIZE | PT_FETAG_MTIME;
    pt_etag_make_weak_bits(buf, sizeof(buf), dflt, 77, 28, 1700000000123456LL);
    ck_assert_str_eq(buf, "W/\"1c-60a2418202240\"");
    ck_assert_str_eq(buf + 2, "\"1c-60a2418202240\"");
    pt_etag_make_weak_bits(buf, sizeof(buf), PT_FETAG_ALL, UINT64_MAX, INT64_MAX, INT64_MAX);
    ck_assert_str_eq(buf, "W/\"ffffffffffffffff-7fffffffffffffff-7fffffffffffffff\"");
    pt_etag_make_weak_bits(buf, 54, PT_FETAG_ALL, 1, 2, 3); /* too small: nothing */
    ck_assert_str_eq(buf, "");
}
END_TEST

/* Apache's ap_make_etag: strong only when the request is more than a second after the mtime
 * (request_time - mtime > APR_USEC_PER_SEC); Debian's apache2 2.4 answers so. */
START_TEST(a_tag_is_weak_until_a_second_after_the_mtime)
{
    const int64_t m = 1700000000123456LL;
    ck_assert(pt_etag_weak(m, m));
    ck_assert(pt_etag_weak(m, m + 999999));
    ck_assert(pt_etag_weak(m, m + 1000000));
    ck_assert(!pt_etag_weak(m, m + 1000001));
    ck_assert(!pt_etag_weak(m, m + 86400000000LL));
    ck_assert(pt_etag_weak(m, m - 1)); /* dated after the request */
    ck_assert(pt_etag_weak(INT64_MAX, m));
    ck_assert(!pt_etag_weak(INT64_MIN, m));
    ck_assert(!pt_etag_weak(0, m));
}
END_TEST

START_TEST(compares_etag_lists_weakly_and_strongly)
{
    const char *e = "\"1c-5f\"";
    ck_assert(pt_etag_list_match("\"1c-5f\"", e, true));
    ck_assert(pt_etag_list_match("\"x\", W/\"1c-5f\"", e, true));
    ck_assert(!pt_etag_list_match("\"x\", W/\"1c-5f\"", e, false));
    ck_assert(pt_etag_list_match("\"a\",\"1c-5f\"", e, false));
    ck_assert(pt_etag_list_match(" * ", e, true));
    ck_assert(pt_etag_list_match("*", e, false));
    ck_assert(!pt_etag_list_match("\"1c-5F\"", e, true));
    ck_assert(!pt_etag_list_match("1c-5f", e, true));
    ck_assert(!pt_etag_list_match("\"1c-5f", e, true));
    ck_assert(!pt_etag_list_match("", e, true));
    ck_assert(!pt_etag_list_match("\"*\"", e, true));
    ck_assert(!pt_etag_list_match("\"1c-5f\"", "W/\"1c-5f\"", false));
}
END_TEST

static pt_table_t *hdrs(void)
{
    pt_table_t *t = pt_arena_alloc(A, sizeof(*t));
    pt_table_init(t, A, 8);
    return t;
}

#define MTIME ((time_t)784111777)
#define NOW ((time_t)784111777 + 3600)
#define ETAG "\"1c-5f\""

START_TEST(evaluates_if_match_first)
{
    pt_table_t *h = hdrs();
    pt_table_add(h, "If-Match", "\"other\"");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 412);
    pt_table_add(h, "If-Match", ETAG);
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 0);
    pt_table_set(h, "If-Match", "W/\"1c-5f\"");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 412);
    pt_table_set(h, "If-Match", "*");
    /* If-Match present: If-Unmodified-Since is not looked at. */
    pt_table_set(h, "If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 0);
}
END_TEST

START_TEST(evaluates_if_unmodified_since)
{
    pt_table_t *h = hdrs();
    pt_table_set(h, "If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:36 GMT");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 412);
    pt_table_set(h, "If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 0);
    pt_table_set(h, "If-Unmodified-Since", "garbage");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 0);
}
END_TEST

START_TEST(answers_304_for_a_matching_if_none_match)
{
    pt_table_t *h = hdrs();
    pt_table_set(h, "If-None-Match", "\"a\", W/\"1c-5f\"");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 304);
    ck_assert_int_eq(pt_cond_evaluate(h, false, ETAG, MTIME, NOW), 412);
    pt_table_set(h, "If-None-Match", "*");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 304);
    pt_table_set(h, "If-None-Match", "\"nope\"");
    /* If-None-Match present: If-Modified-Since is ignored even though it would match. */
    pt_table_set(h, "If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 0);
}
END_TEST

START_TEST(answers_304_when_not_modified_since)
{
    pt_table_t *h = hdrs();
    pt_table_set(h, "If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 304);
    ck_assert_int_eq(pt_cond_evaluate(h, false, ETAG, MTIME, NOW), 0);
    pt_table_set(h, "If-Modified-Since", "Sun, 06 Nov 1994 08:49:36 GMT");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 0);
    pt_table_set(h, "If-Modified-Since", "Sunday, 06-Nov-94 08:49:37 GMT");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 304);
    pt_table_set(h, "If-Modified-Since", "Sun Nov  6 08:49:37 1994");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 304);
}
END_TEST

START_TEST(ignores_invalid_and_future_if_modified_since)
{
    pt_table_t *h = hdrs();
    pt_table_set(h, "If-Modified-Since", "not a date");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 0);
    pt_table_set(h, "If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT");
    ck_assert_int_eq(pt_cond_evaluate(h, true, ETAG, MTIME, NOW), 0);
    ck_assert_int_eq(pt_cond_evaluate(hdrs(), true, ETAG, MTIME, NOW), 0);
}
END_TEST

/* A weak tag of ours (a file modified within the second) still says "not modified" to
 * If-None-Match, the weak comparison, but never satisfies If-Match or If-Range, the strong
 * one, whichever form the client sends back (Apache answers 304, 412 and a full 200). */
START_TEST(our_weak_etag_passes_only_the_weak_comparison)
{
    const char *weak = "W/" ETAG;
    const char *sent[] = {"W/" ETAG, ETAG};
    for (int i = 0; i < 2; i++) {
        pt_table_t *h = hdrs();
        pt_table_set(h, "If-None-Match", sent[i]);
        ck_assert_int_eq(pt_cond_evaluate(h, true, weak, MTIME, NOW), 304);
        h = hdrs();
        pt_table_set(h, "If-Match", sent[i]);
        ck_assert_int_eq(pt_cond_evaluate(h, true, weak, MTIME, NOW), 412);
        ck_assert(!pt_range_if_range_ok(sent[i], weak, MTIME));
    }
}
END_TEST

START_TEST(applies_if_range_only_when_the_validator_matches)
{
    ck_assert(pt_range_if_range_ok(NULL, ETAG, MTIME));
    ck_assert(pt_range_if_range_ok(ETAG, ETAG, MTIME));
    ck_assert(!pt_range_if_range_ok("\"other\"", ETAG, MTIME));
    ck_assert(!pt_range_if_range_ok("W/\"1c-5f\"", ETAG, MTIME));
    ck_assert(!pt_range_if_range_ok("\"1c-5f\", \"x\"", ETAG, MTIME));
    ck_assert(pt_range_if_range_ok("Sun, 06 Nov 1994 08:49:37 GMT", ETAG, MTIME));
    ck_assert(!pt_range_if_range_ok("Sun, 06 Nov 1994 08:49:38 GMT", ETAG, MTIME));
    ck_assert(!pt_range_if_range_ok("Sun, 06 Nov 1994 08:49:36 GMT", ETAG, MTIME));
    ck_assert(!pt_range_if_range_ok("garbage", ETAG, MTIME));
}
END_TEST

static Suite *range_suite(void)
{
    Suite *s = suite_create("range");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, parses_a_single_closed_range);
    tcase_add_test(tc, parses_open_and_suffix_ranges);
    tcase_add_test(tc, parses_several_ranges_in_ascending_order);
    tcase_add_test(tc, coalesces_overlapping_and_adjacent_ranges);
    tcase_add_test(tc, drops_unsatisfiable_ranges_among_satisfiable_ones);
    tcase_add_test(tc, reports_unsatisfiable_ranges);
    tcase_add_test(tc, ignores_invalid_range_syntax);
    tcase_add_test(tc, ignores_ranges_of_an_empty_file);
    tcase_add_test(tc, ignores_more_than_one_hundred_ranges);
    tcase_add_test(tc, formats_multipart_parts_and_computes_exact_length);
    tcase_add_test(tc, makes_etags_as_apache_does);
    tcase_add_test(tc, makes_the_weak_form_with_the_strong_one_behind_its_prefix);
    tcase_add_test(tc, a_tag_is_weak_until_a_second_after_the_mtime);
    tcase_add_test(tc, compares_etag_lists_weakly_and_strongly);
    tcase_add_test(tc, evaluates_if_match_first);
    tcase_add_test(tc, evaluates_if_unmodified_since);
    tcase_add_test(tc, answers_304_for_a_matching_if_none_match);
    tcase_add_test(tc, answers_304_when_not_modified_since);
    tcase_add_test(tc, ignores_invalid_and_future_if_modified_since);
    tcase_add_test(tc, our_weak_etag_passes_only_the_weak_comparison);
    tcase_add_test(tc, applies_if_range_only_when_the_validator_matches);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(range_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
