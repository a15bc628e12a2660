/* The differential test's comparison rules (compare.c) on answers built by hand: a rule
 * excuses the difference the README promises, and no other. */
#include "compare.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A 206 answer with the part of tree file rel from first on, as a server sends it. */
static dt_answer_t part_of(const char *rel, size_t first)
{
    static char bodies[4][512];
    static int next;
    char *b = bodies[next++ % 4];
    int n = snprintf(b, sizeof(bodies[0]), "FILE %s\n%s", rel,
                     "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij\n");
    dt_answer_t x;
    memset(&x, 0, sizeof(x));
    x.status = 206;
    snprintf(x.ctype, sizeof(x.ctype), "text/html");
    snprintf(x.crange, sizeof(x.crange), "bytes %zu-%d/%d", first, n - 1, n);
    x.body = b + first;
    x.body_len = (size_t)n - first;
    return x;
}

static dt_req_t dir_range_request(void)
{
    dt_req_t q = {.method = "GET", .target = "/sub/", .range = "bytes=50-",
                  .tags = DT_TAG_FALLBACK};
    return q;
}

/* seed 485: Apache serves a part of the fallback /index.html for /sub/, portico a part of
 * /sub/index.html (README: fallback-not-for-index). */
START_TEST(a_range_of_the_fallback_against_a_range_of_the_index_is_intentional)
{
    dt_req_t q = dir_range_request();
    dt_answer_t a = part_of("htdocs/index.html", 50), p = part_of("htdocs/sub/index.html", 50);
    dt_diff_t d[8];
    const char *rule;
    ck_assert_int_eq(dt_compare(&q, &a, &p, d, 8, &rule), 0);
    ck_assert_ptr_nonnull(rule);
    ck_assert_str_eq(rule, "fallback-not-for-index");
}
END_TEST

START_TEST(a_range_of_another_file_than_the_fallback_is_still_a_difference)
{
    dt_req_t q = dir_range_request();
    dt_answer_t a = part_of("htdocs/sub/index.html", 50), p = part_of("htdocs/index.html", 50);
    dt_diff_t d[8];
    const char *rule;
    ck_assert_int_gt(dt_compare(&q, &a, &p, d, 8, &rule), 0);
    /* Without a FallbackResource in the config, no excuse either. */
    q.tags = 0;
    a = part_of("htdocs/index.html", 50);
    p = part_of("htdocs/sub/index.html", 50);
    ck_assert_int_gt(dt_compare(&q, &a, &p, d, 8, &rule), 0);
}
END_TEST

/* An answer with status and Content-Type only (as HEAD's, or before a body is added). */
static dt_answer_t answer(int status, const char *ctype)
{
    dt_answer_t x;
    memset(&x, 0, sizeof(x));
    x.status = status;
    snprintf(x.ctype, sizeof(x.ctype), "%s", ctype);
    return x;
}

/* Apache's a against portico's p for q differ only as fallback-not-for-index says. */
static void assert_fallback_rule(const dt_req_t *q, const dt_answer_t *a, const dt_answer_t *p)
{
    dt_diff_t d[8];
    const char *rule = NULL;
    ck_assert_int_eq(dt_compare(q, a, p, d, 8, &rule), 0);
    ck_assert_ptr_nonnull(rule);
    ck_assert_str_eq(rule, "fallback-not-for-index");
}

/* seed 20449: HEAD /al/sub/ with a FallbackResource: Apache's index subrequest falls back
 * (200), portico finds no index (403); GET's bodies tell the fallback, HEAD's cannot. */
START_TEST(a_head_of_a_directory_apache_answers_with_the_fallback_is_intentional)
{
    dt_req_t q = {.method = "HEAD", .target = "/al/sub/", .tags = DT_TAG_FALLBACK};
    dt_answer_t a = answer(200, "text/html"), p = answer(403, "text/html; charset=iso-8859-1");
    assert_fallback_rule(&q, &a, &p);
    /* Seed 20028: portico's 200 is the index, of another type (its ForceType). */
    p = answer(200, "text/plain");
    assert_fallback_rule(&q, &a, &p);
    /* Without a FallbackResource, it is a difference; so is Apache's 403 against a 200. */
    dt_diff_t d[8];
    const char *rule;
    a.status = 403;
    ck_assert_int_gt(dt_compare(&q, &a, &p, d, 8, &rule), 0);
    a.status = 200;
    q.tags = 0;
    ck_assert_int_gt(dt_compare(&q, &a, &p, d, 8, &rule), 0);
}
END_TEST

/* seed 20200: GET /sub/deep/ with no index there: Apache's index subrequest falls back to
 * the <Files index.html> FallbackResource, portico lists the directory (Options Indexes). */
START_TEST(a_listing_against_apaches_fallback_for_a_directory_is_intentional)
{
    static char page[] = "FILE htdocs/sub/page.html\n";
    dt_req_t q = {.method = "GET", .target = "/sub/deep/", .tags = DT_TAG_FALLBACK};
    dt_answer_t a = answer(200, "text/html"), p = answer(200, "text/html; charset=UTF-8");
    a.file = "htdocs/sub/page.html";
    a.body = page;
    a.body_len = strlen(page);
    p.listing = true;
    assert_fallback_rule(&q, &a, &p);
    /* Seed 21775, the converse: the fallback disabled for the candidate's name only; Apache
     * refuses the directory, portico serves the directory's fallback. */
    dt_answer_t refused = answer(403, "text/html; charset=iso-8859-1");
    assert_fallback_rule(&q, &refused, &a);
    dt_diff_t d[8];
    const char *rule;
    q.tags = 0;
    ck_assert_int_gt(dt_compare(&q, &a, &p, d, 8, &rule), 0);
    ck_assert_int_gt(dt_compare(&q, &refused, &a, d, 8, &rule), 0);
}
END_TEST

/* seed 27206: GET /nolist/ with the fallback disabled in <Files index.html>: Apache's index
 * subrequest finds nothing and lists the directory, portico serves the fallback; seed 27320:
 * the fallback Apache runs for the first candidate meets its sections' Redirect, portico
 * serves the index (README: fallback-not-for-index). */
START_TEST(a_listing_or_a_redirect_against_porticos_fallback_or_index_is_intentional)
{
    static char fb[] = "FILE htdocs/index.html\n", idx[] = "FILE htdocs/priv/index.html\n";
    dt_req_t q = {.method = "GET", .target = "/nolist/", .tags = DT_TAG_FALLBACK};
    dt_answer_t a = answer(200, "text/html;charset=ISO-8859-1"), p = answer(200, "text/html");
    a.listing = true;
    p.file = "htdocs/index.html";
    p.body = fb;
    p.body_len = strlen(fb);
    assert_fallback_rule(&q, &a, &p);
    dt_answer_t moved = answer(301, "text/html; charset=iso-8859-1");
    snprintf(moved.location, sizeof(moved.location), "http://example.com/p");
    p.file = "htdocs/priv/index.html";
    p.body = idx;
    p.body_len = strlen(idx);
    assert_fallback_rule(&q, &moved, &p);
    /* A redirect to this server (DirectorySlash's) is not excused. */
    dt_diff_t d[8];
    const char *rule;
    snprintf(moved.location, sizeof(moved.location), "http://SELF/priv/");
    ck_assert_int_gt(dt_compare(&q, &moved, &p, d, 8, &rule), 0);
}
END_TEST

/* seeds 26022 and 24544: POST /missing/a.txt with FallbackResource /index.html and <Files
 * index.html> Require method GET HEAD: Apache's GET subrequest passes and serves the fallback
 * (or meets a Redirect), portico checks the POST (README: index-checked-as-served). */
START_TEST(a_post_refused_by_the_fallbacks_rules_is_intentional)
{
    static char page[] = "FILE htdocs/index.html\n";
    dt_req_t q = {.method = "POST", .target = "/missing/a.txt", .tags = DT_TAG_FALLBACK};
    dt_answer_t a = answer(200, "text/html"), p = answer(403, "text/html; charset=iso-8859-1");
    a.file = "htdocs/index.html";
    a.body = page;
    a.body_len = strlen(page);
    dt_diff_t d[8];
    const char *rule;
    ck_assert_int_eq(dt_compare(&q, &a, &p, d, 8, &rule), 0);
    ck_assert_str_eq(rule, "index-checked-as-served");
    dt_answer_t moved = answer(301, "text/html; charset=iso-8859-1");
    ck_assert_int_eq(dt_compare(&q, &moved, &p, d, 8, &rule), 0);
    /* Without a FallbackResource, or with a GET, it is a difference. */
    q.tags = 0;
    ck_assert_int_gt(dt_compare(&q, &a, &p, d, 8, &rule), 0);
    q.tags = DT_TAG_FALLBACK;
    q.method = "GET";
    ck_assert_int_gt(dt_compare(&q, &a, &p, d, 8, &rule), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("differential compare");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, a_range_of_the_fallback_against_a_range_of_the_index_is_intentional);
    tcase_add_test(tc, a_range_of_another_file_than_the_fallback_is_still_a_difference);
    tcase_add_test(tc, a_head_of_a_directory_apache_answers_with_the_fallback_is_intentional);
    tcase_add_test(tc, a_listing_against_apaches_fallback_for_a_directory_is_intentional);
    tcase_add_test(tc, a_post_refused_by_the_fallbacks_rules_is_intentional);
    tcase_add_test(tc, a_listing_or_a_redirect_against_porticos_fallback_or_index_is_intentional);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
