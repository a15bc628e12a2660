/* Unit tests for walk.c's pt_walk_stat and its memo (the stats an HTTP/2 read's streams
 * share): within a batch a name is stat'ed once, and the batch's end, another thread or a
 * request outside any batch see the file as it is now. */
#include "request.h"
#include "walk.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pt_arena_t *arena;
static char dir[64];
static char path[128];

static void put(const char *name, const char *body)
{
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s/.tmp", dir);
    FILE *f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);
    fputs(body, f);
    fclose(f);
    ck_assert_int_eq(rename(tmp, name), 0); /* a new inode under the same name */
}

static void setup(void)
{
    arena = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    snprintf(dir, sizeof(dir), "/tmp/pt-walk-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a.txt", dir);
    put(path, "one");
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
    pt_arena_destroy(arena);
}

/* The inode pt_walk_stat gives a request for name. */
static ino_t walked_ino(const char *name)
{
    pt_request_t r = {.arena = arena, .filename = name};
    ck_assert_ptr_nonnull(pt_walk_stat(&r));
    ck_assert(r.finfo_valid);
    return r.finfo.st_ino;
}

START_TEST(without_a_memo_every_request_sees_the_file_as_it_is)
{
    ino_t before = walked_ino(path);
    put(path, "two");
    ck_assert_uint_ne(walked_ino(path), before);
}
END_TEST

START_TEST(a_batch_shares_one_stat_and_its_end_looks_again)
{
    pt_walk_memo_t m;
    pt_walk_memo_begin(&m);
    ino_t first = walked_ino(path);
    put(path, "two"); /* after the batch's stat: its streams were all sent before it */
    ck_assert_uint_eq(walked_ino(path), first);
    pt_walk_memo_end();
    ck_assert_uint_ne(walked_ino(path), first);
}
END_TEST

START_TEST(a_new_batch_starts_empty)
{
    pt_walk_memo_t m;
    pt_walk_memo_begin(&m);
    ino_t first = walked_ino(path);
    pt_walk_memo_end();
    put(path, "two");
    pt_walk_memo_begin(&m);
    ck_assert_uint_ne(walked_ino(path), first);
    pt_walk_memo_end();
}
END_TEST

static void *walk_elsewhere(void *arg)
{
    *(ino_t *)arg = walked_ino(path);
    return NULL;
}

START_TEST(another_thread_does_not_use_the_batch)
{
    pt_walk_memo_t m;
    pt_walk_memo_begin(&m);
    ino_t first = walked_ino(path);
    put(path, "two");
    ino_t there = 0;
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, walk_elsewhere, &there), 0);
    pthread_join(th, NULL);
    pt_walk_memo_end();
    ck_assert_uint_ne(there, first);
}
END_TEST

START_TEST(names_past_the_memo_are_kept_in_turn)
{
    char names[PT_WALK_MEMO_FILES + 1][160];
    for (int i = 0; i <= PT_WALK_MEMO_FILES; i++) {
        snprintf(names[i], sizeof(names[i]), "%s/f%d", dir, i);
        put(names[i], "x");
    }
    pt_walk_memo_t m;
    pt_walk_memo_begin(&m);
    ino_t ino[PT_WALK_MEMO_FILES + 1];
    for (int i = 0; i <= PT_WALK_MEMO_FILES; i++)
        ino[i] = walked_ino(names[i]);
    for (int i = 0; i <= PT_WALK_MEMO_FILES; i++)
        put(names[i], "y");
    /* The first name was replaced in the memo by the last: it is looked at again. */
    ck_assert_uint_ne(walked_ino(names[0]), ino[0]);
    ck_assert_uint_eq(walked_ino(names[PT_WALK_MEMO_FILES]), ino[PT_WALK_MEMO_FILES]);
    pt_walk_memo_end();
    for (int i = 0; i <= PT_WALK_MEMO_FILES; i++)
        unlink(names[i]);
}
END_TEST

START_TEST(a_missing_file_is_not_kept)
{
    char gone[160];
    snprintf(gone, sizeof(gone), "%s/later.txt", dir);
    pt_walk_memo_t m;
    pt_walk_memo_begin(&m);
    pt_request_t r = {.arena = arena, .filename = gone};
    pt_walk_stat(&r);
    ck_assert(!r.finfo_valid);
    put(gone, "now");
    walked_ino(gone);
    pt_walk_memo_end();
    unlink(gone);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("walk");
    TCase *tc = tcase_create("memo");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, without_a_memo_every_request_sees_the_file_as_it_is);
    tcase_add_test(tc, a_batch_shares_one_stat_and_its_end_looks_again);
    tcase_add_test(tc, a_new_batch_starts_empty);
    tcase_add_test(tc, another_thread_does_not_use_the_batch);
    tcase_add_test(tc, names_past_the_memo_are_kept_in_turn);
    tcase_add_test(tc, a_missing_file_is_not_kept);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
