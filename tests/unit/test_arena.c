/* Unit tests for the arena allocator and header tables. */
#include "arena.h"
#include "table.h"

#include <check.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

START_TEST(allocations_are_aligned_and_distinct)
{
    pt_arena_t *a = pt_arena_create(256);
    char *p = pt_arena_alloc(a, 3);
    char *q = pt_arena_alloc(a, 5);
    ck_assert_uint_eq((uintptr_t)p % 16, 0);
    ck_assert_uint_eq((uintptr_t)q % 16, 0);
    ck_assert_ptr_ne(p, q);
    memset(p, 'a', 3);
    memset(q, 'b', 5);
    ck_assert_int_eq(p[2], 'a');
    pt_arena_destroy(a);
}
END_TEST

START_TEST(big_allocations_get_their_own_block_and_survive_reset)
{
    pt_arena_t *a = pt_arena_create(256);
    for (int round = 0; round < 3; round++) {
        char *small = pt_arena_alloc(a, 16);
        char *big = pt_arena_alloc(a, 100000);
        memset(big, 'x', 100000);
        char *small2 = pt_arena_alloc(a, 16);
        memset(small, 1, 16);
        memset(small2, 2, 16);
        ck_assert_int_eq(big[99999], 'x');
        ck_assert_uint_ge(pt_arena_used(a), 100032);
        pt_arena_reset(a);
        ck_assert_uint_eq(pt_arena_used(a), 0);
    }
    pt_arena_destroy(a);
}
END_TEST

/* A reset with nothing to do returns at once; one whose only allocation was big (its own
 * block, the first block untouched) is not such a reset. */
START_TEST(a_reset_after_only_a_big_allocation_frees_it)
{
    pt_arena_t *a = pt_arena_create(256);
    pt_arena_reset(a);
    ck_assert_uint_eq(pt_arena_used(a), 0);
    char *big = pt_arena_alloc(a, 100000);
    memset(big, 'x', 100000);
    ck_assert_uint_ge(pt_arena_used(a), 100000);
    pt_arena_reset(a);
    ck_assert_uint_eq(pt_arena_used(a), 0);
    pt_arena_destroy(a);
}
END_TEST

START_TEST(many_small_allocations_span_blocks)
{
    pt_arena_t *a = pt_arena_create(128);
    char *ptrs[1000];
    for (int i = 0; i < 1000; i++) {
        ptrs[i] = pt_arena_alloc(a, 24);
        memset(ptrs[i], i & 0xff, 24);
    }
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq((unsigned char)ptrs[i][23], i & 0xff);
    pt_arena_destroy(a);
}
END_TEST

START_TEST(printf_of_only_strings_writes_what_snprintf_writes)
{
    pt_arena_t *a = pt_arena_create(0);
    char want[256];
    const char *forms[] = {"%s%s", "", "plain", "%s", "a%%s%s%%", "[%s] %s/%s"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-security"
        snprintf(want, sizeof(want), forms[i], "/var/www", "/1k.bin", "x");
        ck_assert_str_eq(pt_arena_printf(a, forms[i], "/var/www", "/1k.bin", "x"), want);
#pragma GCC diagnostic pop
    }
    const char *volatile none = NULL; /* (glibc writes "(null)"; so does the fast path) */
    ck_assert_str_eq(pt_arena_printf(a, "%s=%s", "k", none), "k=(null)");
    ck_assert_str_eq(pt_arena_printf(a, "%s%s%s%s%s%s%s%s", "1", "2", "3", "4", "5", "6", "7",
                                     "8"),
                     "12345678");
    ck_assert_str_eq(pt_arena_printf(a, "%s%s%s%s%s%s%s%s%s", "1", "2", "3", "4", "5", "6",
                                     "7", "8", "9"),
                     "123456789");
    ck_assert_str_eq(pt_arena_printf(a, "%s:%5s|%d", "a", "b", 7), "a:    b|7");
    pt_arena_destroy(a);
}
END_TEST

START_TEST(printf_and_strdup_copy_into_the_arena)
{
    pt_arena_t *a = pt_arena_create(0);
    ck_assert_str_eq(pt_arena_printf(a, "%s-%d", "x", 42), "x-42");
    ck_assert_str_eq(pt_arena_strndup(a, "abcdef", 3), "abc");
    ck_assert_ptr_null(pt_arena_strdup(a, NULL));
    int *v = pt_arena_grow(a, NULL, 0, 4 * sizeof(int));
    v[3] = 7;
    int *w = pt_arena_grow(a, v, 4 * sizeof(int), 8 * sizeof(int));
    ck_assert_int_eq(w[3], 7);
    pt_arena_destroy(a);
}
END_TEST

START_TEST(table_lookups_ignore_case_and_set_replaces_all)
{
    pt_arena_t *a = pt_arena_create(0);
    pt_table_t t;
    pt_table_init(&t, a, 1);
    pt_table_add(&t, "Set-Cookie", "a=1");
    pt_table_add(&t, "set-cookie", "b=2");
    pt_table_add(&t, "X", "1");
    ck_assert_uint_eq(pt_table_count(&t, "SET-COOKIE"), 2);
    ck_assert_str_eq(pt_table_get(&t, "set-COOKIE"), "a=1");
    pt_table_set(&t, "Set-Cookie", "c=3");
    ck_assert_uint_eq(pt_table_count(&t, "Set-Cookie"), 1);
    ck_assert_str_eq(pt_table_get(&t, "Set-Cookie"), "c=3");
    ck_assert_str_eq(t.v[0].name, "X");
    pt_table_unset(&t, "x");
    ck_assert_ptr_null(pt_table_get(&t, "X"));
    pt_arena_destroy(a);
}
END_TEST

/* Names are compared folding letters only: bytes that differ in their 0x20 bit but are not
 * letters ('@' and '`', '[' and '{') name different fields, first byte or not. */
START_TEST(table_names_fold_letters_only)
{
    pt_arena_t *a = pt_arena_create(0);
    pt_table_t t;
    pt_table_init(&t, a, 2);
    pt_table_add(&t, "@a", "1");
    pt_table_add(&t, "x[", "2");
    ck_assert_ptr_null(pt_table_get(&t, "`a"));
    ck_assert_ptr_null(pt_table_get(&t, "X{"));
    ck_assert_str_eq(pt_table_get(&t, "@A"), "1");
    ck_assert_str_eq(pt_table_get(&t, "X["), "2");
    pt_table_set(&t, "`a", "3"); /* another name: added, the first kept */
    ck_assert_uint_eq(t.n, 3);
    pt_table_set(&t, "@A", "4"); /* the same name: the old one goes, the new one last */
    ck_assert_uint_eq(t.n, 3);
    ck_assert_str_eq(pt_table_get(&t, "@a"), "4");
    ck_assert_str_eq(t.v[0].name, "x[");
    pt_arena_destroy(a);
}
END_TEST

/* pt_table_set's paths: a table without entries yet, a full one (it grows), and a name
 * whose first byte other names share before the one it replaces. */
START_TEST(table_set_adds_to_empty_and_full_tables_and_passes_lookalikes)
{
    pt_arena_t *a = pt_arena_create(0);
    pt_table_t t;
    pt_table_init(&t, a, 2);
    pt_table_set(&t, "Accept", "1");
    pt_table_set(&t, "Age", "2");
    pt_table_set(&t, "Allow", "3"); /* full: grows */
    ck_assert_uint_eq(t.n, 3);
    pt_table_set(&t, "allow", "4");
    ck_assert_uint_eq(t.n, 3);
    ck_assert_str_eq(pt_table_get(&t, "ALLOW"), "4");
    ck_assert_str_eq(pt_table_get(&t, "age"), "2");
    ck_assert_ptr_null(pt_table_get(&t, "Accept-Ranges"));
    ck_assert_ptr_null(pt_table_get(&t, "Date"));
    ck_assert_str_eq(t.v[0].name, "Accept");
    ck_assert_str_eq(t.v[2].name, "allow");
    pt_arena_destroy(a);
}
END_TEST

START_TEST(table_append_and_merge_follow_mod_headers)
{
    pt_arena_t *a = pt_arena_create(0);
    pt_table_t t;
    pt_table_init(&t, a, 2);
    pt_table_append(&t, "Vary", "Accept");
    pt_table_append(&t, "Vary", "Cookie");
    ck_assert_str_eq(pt_table_get(&t, "Vary"), "Accept, Cookie");
    pt_table_merge(&t, "Vary", "cookie");
    ck_assert_str_eq(pt_table_get(&t, "Vary"), "Accept, Cookie");
    pt_table_merge(&t, "Vary", "Origin");
    ck_assert_str_eq(pt_table_get(&t, "Vary"), "Accept, Cookie, Origin");
    pt_table_merge(&t, "Vary", "Cook");
    ck_assert_str_eq(pt_table_get(&t, "Vary"), "Accept, Cookie, Origin, Cook");
    pt_arena_destroy(a);
}
END_TEST

START_TEST(table_add_all_appends_in_order_growing_as_needed)
{
    pt_arena_t *a = pt_arena_create(0);
    pt_table_t src, dst, empty;
    pt_table_init(&src, a, 1);
    pt_table_init(&dst, a, 2);
    pt_table_init(&empty, a, 4);
    char names[20][8];
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof(names[i]), "N%d", i);
        pt_table_add(&src, names[i], "v");
    }
    pt_table_add_all(&dst, &empty); /* nothing to add: nothing made */
    ck_assert_ptr_null(dst.v);
    pt_table_add_all(&dst, &src); /* into a table not made yet, past its capacity */
    pt_table_add(&dst, "Last", "x");
    pt_table_add_all(&dst, &src); /* into a made table, grown */
    ck_assert_uint_eq(dst.n, 41);
    for (int i = 0; i < 20; i++) {
        ck_assert_str_eq(dst.v[i].name, names[i]);
        ck_assert_str_eq(dst.v[21 + i].name, names[i]);
    }
    ck_assert_str_eq(dst.v[20].name, "Last");
    ck_assert_uint_eq(pt_table_count(&dst, "n7"), 2);
    ck_assert_uint_eq(src.n, 20);
    pt_arena_destroy(a);
}
END_TEST

static char trace[16];

static void note(void *arg)
{
    strncat(trace, arg, sizeof(trace) - strlen(trace) - 1);
}

static void note_and_register(void *arg)
{
    note("r");
    pt_arena_cleanup(arg, note, "x");
}

START_TEST(cleanups_run_newest_first_at_reset_and_at_destroy_once_each)
{
    pt_arena_t *a = pt_arena_create(64);
    trace[0] = '\0';
    pt_arena_cleanup(a, note, "a");
    pt_arena_cleanup(a, note, "b");
    pt_arena_reset(a);
    ck_assert_str_eq(trace, "ba");
    pt_arena_reset(a); /* already run: not again */
    ck_assert_str_eq(trace, "ba");
    pt_arena_cleanup(a, note_and_register, a);
    pt_arena_destroy(a);
    ck_assert_str_eq(trace, "barx");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, allocations_are_aligned_and_distinct);
    tcase_add_test(tc, big_allocations_get_their_own_block_and_survive_reset);
    tcase_add_test(tc, many_small_allocations_span_blocks);
    tcase_add_test(tc, a_reset_after_only_a_big_allocation_frees_it);
    tcase_add_test(tc, cleanups_run_newest_first_at_reset_and_at_destroy_once_each);
    tcase_add_test(tc, printf_and_strdup_copy_into_the_arena);
    tcase_add_test(tc, printf_of_only_strings_writes_what_snprintf_writes);
    tcase_add_test(tc, table_lookups_ignore_case_and_set_replaces_all);
    tcase_add_test(tc, table_set_adds_to_empty_and_full_tables_and_passes_lookalikes);
    tcase_add_test(tc, table_append_and_merge_follow_mod_headers);
    tcase_add_test(tc, table_names_fold_letters_only);
    tcase_add_test(tc, table_add_all_appends_in_order_growing_as_needed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
