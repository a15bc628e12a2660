/* Unit tests for the regex layer (base/regex_pcre.c): PCRE syntax as Apache has it (\d,
 * (?:), (?i), lookahead, lazy quantifiers), Apache's default options (DOTALL,
 * DOLLAR_ENDONLY), captures as offset pairs, errors with PCRE's message, and matching from
 * many threads at once. */
#include "regex_pcre.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *pattern;
    int flags;
    const char *subject;
    int want; /* 0 matched, PT_REG_NOMATCH */
} row_t;

/* The constructs issue 11 names, each with a subject that tells PCRE from POSIX ERE. */
static const row_t rows[] = {
    {"^/api/v\\d+/", 0, "/api/v12/users", 0},     /* \d is a digit, not a literal d */
    {"^/api/v\\d+/", 0, "/api/vd/users", PT_REG_NOMATCH},
    {".+\\.ph(?:ar|p|tml)$", 0, "index.phtml", 0}, /* Debian's FilesMatch */
    {".+\\.ph(?:ar|p|tml)$", 0, "index.phps", PT_REG_NOMATCH},
    {"(?i)^/ADMIN", 0, "/admin/x", 0},
    {"^/admin", PT_REG_ICASE, "/AdMiN", 0},
    {"^/admin", 0, "/AdMiN", PT_REG_NOMATCH},
    {"^/(?!static/)", 0, "/app/x", 0}, /* negative lookahead */
    {"^/(?!static/)", 0, "/static/x", PT_REG_NOMATCH},
    {"(?<=\\.php)$", 0, "/a.php", 0},  /* lookbehind */
    {"(?<=\\.php)$", 0, "/a.phps", PT_REG_NOMATCH},
    {"a.b", 0, "a\nb", 0},               /* DOTALL, Apache's RegexDefaultOptions */
    {"x$", 0, "x\n", PT_REG_NOMATCH},    /* DOLLAR_ENDONLY, the same */
    {"\\s\\w+", 0, " word", 0},
    {"[[:alpha:]]+", 0, "abc", 0},
    {"a.b", PT_REG_LITERAL, "a.b", 0},
    {"a.b", PT_REG_LITERAL, "axb", PT_REG_NOMATCH},
};

START_TEST(matches_pcre_syntax_with_apaches_default_options)
{
    const row_t *t = &rows[_i];
    char err[160];
    pt_regex_t *re = pt_regex_compile(t->pattern, t->flags, err, sizeof(err));
    ck_assert_msg(re != NULL, "%s: %s", t->pattern, err);
    ck_assert_msg(pt_regex_exec(re, t->subject, 0, NULL, 0) == t->want, "'%s' on '%s'",
                  t->pattern, t->subject);
    pt_regex_free(re);
}
END_TEST

START_TEST(captures_are_offset_pairs_and_unset_groups_are_minus_one)
{
    pt_regex_t *re = pt_regex_compile("^/(?:x|y)/(\\w+?)(-(\\d+))?(/.*)?$", 0, NULL, 0);
    ck_assert_ptr_nonnull(re);
    ck_assert_uint_eq(pt_regex_ncaptures(re), 4);
    ck_assert_str_eq(pt_regex_pattern(re), "^/(?:x|y)/(\\w+?)(-(\\d+))?(/.*)?$");
    pt_regmatch_t m[PT_REG_MAXSUB];
    const char *s = "/y/abc/rest";
    ck_assert_int_eq(pt_regex_exec(re, s, PT_REG_MAXSUB, m, 0), 0);
    ck_assert_int_eq(m[0].rm_so, 0);
    ck_assert_int_eq(m[0].rm_eo, 11);
    ck_assert_int_eq(m[1].rm_so, 3); /* lazy \w+? still takes "abc": "/" must follow */
    ck_assert_int_eq(m[1].rm_eo, 6);
    ck_assert_int_eq(m[2].rm_so, -1);
    ck_assert_int_eq(m[3].rm_eo, -1);
    ck_assert_int_eq(m[4].rm_so, 6);
    ck_assert_int_eq(m[9].rm_so, -1); /* beyond the pattern's groups */
    pt_regex_free(re);
}
END_TEST

START_TEST(exec_len_matches_bytes_that_are_not_nul_terminated_and_notbol_holds)
{
    pt_regex_t *re = pt_regex_compile("^ab$", 0, NULL, 0);
    ck_assert_int_eq(pt_regex_exec_len(re, "abc", 2, 0, NULL, 0), 0);
    ck_assert_int_eq(pt_regex_exec_len(re, "abc", 2, 0, NULL, PT_REG_NOTBOL), PT_REG_NOMATCH);
    pt_regex_free(re);
}
END_TEST

/* Plain-string patterns ("\.php$", "^index\.php$", ".", "^") are matched by comparing
 * bytes: the same answers and offsets as PCRE2 gives the same pattern inside a group (which
 * it must run itself), with and without NOTBOL, on subjects around each anchor. */
START_TEST(plain_string_patterns_answer_as_pcre_does)
{
    static const char *const patterns[] = {
        "\\.php$", "^index\\.php$", ".", "^", "$", "^$", "", "php", "^/wp/", "a\\$", "x\\/y",
        "^a b$", "\\.", "^\\.ht", "-$", "a]b", "\\(x\\)",
    };
    static const char *const subjects[] = {
        "", "index.php", "index.phps", "a.php", "x.php\n", ".htaccess", "/wp/a", "a$", "x/y",
        "a b", "\n", "php.php", "-", "a]b", "(x)", "xindex.php",
    };
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        char grouped[64];
        snprintf(grouped, sizeof(grouped), "(?:%s)", patterns[i]);
        pt_regex_t *fast = pt_regex_compile(patterns[i], 0, NULL, 0);
        pt_regex_t *pcre = pt_regex_compile(grouped, 0, NULL, 0);
        ck_assert_ptr_nonnull(fast);
        ck_assert_ptr_nonnull(pcre);
        for (size_t j = 0; j < sizeof(subjects) / sizeof(subjects[0]); j++) {
            for (int notbol = 0; notbol < 2; notbol++) {
                pt_regmatch_t a[3], b[3];
                const char *sj = subjects[j];
                int fl = notbol ? PT_REG_NOTBOL : 0;
                int ra = pt_regex_exec(fast, sj, 3, a, fl), rb = pt_regex_exec(pcre, sj, 3, b, fl);
                ck_assert_msg(ra == rb, "'%s' on '%s' (notbol %d): %d, pcre %d", patterns[i], sj,
                              notbol, ra, rb);
                for (int k = 0; ra == 0 && k < 3; k++)
                    ck_assert_msg(a[k].rm_so == b[k].rm_so && a[k].rm_eo == b[k].rm_eo,
                                  "'%s' on '%s': group %d at %d-%d, pcre %d-%d", patterns[i],
                                  sj, k, a[k].rm_so, a[k].rm_eo, b[k].rm_so, b[k].rm_eo);
            }
        }
        pt_regex_free(fast);
        pt_regex_free(pcre);
    }
}
END_TEST

START_TEST(a_bad_pattern_is_refused_with_pcres_message_and_offset)
{
    char err[160];
    ck_assert_ptr_null(pt_regex_compile("(unclosed", 0, err, sizeof(err)));
    ck_assert_str_eq(err, "missing closing parenthesis at offset 9");
    ck_assert_ptr_null(pt_regex_compile("[a", 0, err, sizeof(err)));
    ck_assert_str_eq(err, "missing terminating ] for character class at offset 2");
    ck_assert_ptr_null(pt_regex_compile("a{2,1}", 0, NULL, 0)); /* no err buffer: no crash */
}
END_TEST

/* Catastrophic backtracking ends at PCRE's match limit, as no match, instead of spinning. */
START_TEST(catastrophic_backtracking_ends_as_an_error_not_a_hang)
{
    pt_regex_t *re = pt_regex_compile("^(a|a)*(a|a)*(a|a)*(a|a)*b$", 0, NULL, 0);
    char s[64];
    memset(s, 'a', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    ck_assert_int_ne(pt_regex_exec(re, s, 0, NULL, 0), 0);
    pt_regex_free(re);
}
END_TEST

/* A compiled pattern is shared by every worker thread; each thread has its own match data,
 * grown to the widest pattern it matched. */
static pt_regex_t *narrow, *wide;

static void *match_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        pt_regmatch_t m[PT_REG_MAXSUB];
        if (pt_regex_exec(narrow, "/n/42", 2, m, 0) != 0 || m[1].rm_so != 3)
            return (void *)1;
        if (pt_regex_exec(wide, "abcdefgh", PT_REG_MAXSUB, m, 0) != 0 || m[8].rm_so != 7)
            return (void *)1;
    }
    return NULL;
}

START_TEST(many_threads_match_one_compiled_pattern)
{
    narrow = pt_regex_compile("^/n/(\\d+)$", 0, NULL, 0);
    wide = pt_regex_compile("(a)(b)(c)(d)(e)(f)(g)(h)", 0, NULL, 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, match_many, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        ck_assert_ptr_null(rc);
    }
    pt_regex_free(narrow);
    pt_regex_free(wide);
}
END_TEST

/* A thread's match data is freed at its end by a key's destructor (idle.h's). A destructor
 * that runs later (a key made after that one, so glibc runs it after) may still match: it gets
 * fresh match data, not the freed one (ASan: heap-use-after-free before the fix), and that is
 * freed too (LeakSanitizer). */
static pt_regex_t *late_re;
static pthread_key_t late_key;
static int late_rc = -2;
static int late_so = -1;

static void late_match(void *p)
{
    (void)p;
    pt_regmatch_t m[2];
    late_rc = pt_regex_exec(late_re, "a123", 2, m, 0);
    late_so = late_rc == 0 ? (int)m[1].rm_so : -1;
}

static void *match_then_end(void *arg)
{
    (void)arg;
    pt_regmatch_t m[2];
    if (pt_regex_exec(late_re, "a7", 2, m, 0) == 0)
        (void)pthread_setspecific(late_key, late_re);
    return NULL;
}

START_TEST(a_later_thread_end_destructor_may_still_match)
{
    late_re = pt_regex_compile("^a(\\d+)$", 0, NULL, 0);
    ck_assert_ptr_nonnull(late_re);
    pt_regmatch_t m[2];
    /* (idle.h's thread-end key is made now, before late_key) */
    ck_assert_int_eq(pt_regex_exec(late_re, "a1", 2, m, 0), 0);
    ck_assert_int_eq(pthread_key_create(&late_key, late_match), 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, match_then_end, NULL), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(late_rc, 0);
    ck_assert_int_eq(late_so, 1);
    pthread_key_delete(late_key);
    pt_regex_free(late_re);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("regex");
    TCase *tc = tcase_create("pcre");
    tcase_add_loop_test(tc, matches_pcre_syntax_with_apaches_default_options, 0,
                        (int)(sizeof(rows) / sizeof(rows[0])));
    tcase_add_test(tc, captures_are_offset_pairs_and_unset_groups_are_minus_one);
    tcase_add_test(tc, exec_len_matches_bytes_that_are_not_nul_terminated_and_notbol_holds);
    tcase_add_test(tc, plain_string_patterns_answer_as_pcre_does);
    tcase_add_test(tc, a_bad_pattern_is_refused_with_pcres_message_and_offset);
    tcase_add_test(tc, catastrophic_backtracking_ends_as_an_error_not_a_hang);
    tcase_add_test(tc, many_threads_match_one_compiled_pattern);
    tcase_add_test(tc, a_later_thread_end_destructor_may_still_match);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
