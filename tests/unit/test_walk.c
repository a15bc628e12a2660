/* Unit tests for walk.c's pt_walk_stat and its memo (walk.h): a request may take a kept
 * stat only when it was sent before the stat began; a request sent later, another thread,
 * or a request outside any batch see the file as it is now. */
#include "clock.h"
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

/* A request sent just now: before any stat that begins from here on (the clock counts in
 * nanoseconds, and a kept stat must be stamped later than the request was sent). */
static int64_t sent_now(void)
{
    return pt_mono_ns() - 1;
}

/* This thread has run a batch: its stats are kept from now on. */
static void batches_run_here(void)
{
    pt_walk_memo_begin(sent_now());
    pt_walk_memo_end();
}

START_TEST(without_a_memo_every_request_sees_the_file_as_it_is)
{
    ino_t before = walked_ino(path);
    put(path, "two");
    ck_assert_uint_ne(walked_ino(path), before);
}
END_TEST

START_TEST(a_request_sent_before_a_stat_shares_it_and_the_end_looks_again)
{
    pt_walk_memo_begin(sent_now());
    ino_t first = walked_ino(path);
    put(path, "two"); /* after the stat: the request was sent before it */
    ck_assert_uint_eq(walked_ino(path), first);
    pt_walk_memo_end();
    ck_assert_uint_ne(walked_ino(path), first);
}
END_TEST

START_TEST(a_request_sent_after_a_stat_does_not_share_it)
{
    batches_run_here();
    ino_t first = walked_ino(path); /* kept, stamped before... */
    put(path, "two");
    pt_walk_memo_begin(pt_mono_ns()); /* ...a request sent after the change */
    ck_assert_uint_ne(walked_ino(path), first);
    pt_walk_memo_end();
}
END_TEST

START_TEST(a_stat_outside_a_batch_serves_a_request_sent_before_it)
{
    batches_run_here();
    int64_t sent = sent_now();
    ino_t first = walked_ino(path); /* outside a batch: a stat, kept */
    put(path, "two");
    pt_walk_memo_begin(sent);
    ck_assert_uint_eq(walked_ino(path), first);
    pt_walk_memo_end();
}
END_TEST

/* On a new thread (as the worker and prefork MPMs' are): the first inode, and what a
 * request sent before that stat but walked after a change gets. */
static void *walk_on_a_new_thread(void *arg)
{
    ino_t *got = arg;
    int64_t sent = sent_now();
    got[0] = walked_ino(path);
    put(path, "two");
    pt_walk_memo_begin(sent);
    got[1] = walked_ino(path);
    pt_walk_memo_end();
    return NULL;
}

START_TEST(a_thread_no_batch_ran_on_keeps_nothing)
{
    ino_t got[2] = {0, 0};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, walk_on_a_new_thread, got), 0);
    pthread_join(th, NULL);
    ck_assert_uint_ne(got[1], got[0]);
}
END_TEST

START_TEST(a_name_stat_again_is_kept_at_its_latest)
{
    batches_run_here();
    int64_t sent = sent_now(); /* before both stats: either could answer by its stamp */
    ino_t first = walked_ino(path);
    put(path, "two");
    ino_t second = walked_ino(path); /* outside a batch: looks, and keeps this one */
    ck_assert_uint_ne(second, first);
    put(path, "three");
    pt_walk_memo_begin(sent);
    ck_assert_uint_eq(walked_ino(path), second);
    pt_walk_memo_end();
}
END_TEST

struct elsewhere {
    int64_t sent;
    ino_t ino;
};

static void *walk_elsewhere(void *arg)
{
    struct elsewhere *e = arg;
    pt_walk_memo_begin(e->sent);
    e->ino = walked_ino(path);
    pt_walk_memo_end();
    return NULL;
}

START_TEST(another_thread_does_not_use_this_threads_stats)
{
    int64_t sent = sent_now();
    pt_walk_memo_begin(sent);
    ino_t first = walked_ino(path);
    put(path, "two");
    struct elsewhere there = {.sent = sent};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, walk_elsewhere, &there), 0);
    pthread_join(th, NULL);
    pt_walk_memo_end();
    ck_assert_uint_ne(there.ino, first);
}
END_TEST

START_TEST(names_past_the_memo_are_kept_in_turn)
{
    char names[PT_WALK_MEMO_FILES + 1][160];
    for (int i = 0; i <= PT_WALK_MEMO_FILES; i++) {
        snprintf(names[i], sizeof(names[i]), "%s/f%d", dir, i);
        put(names[i], "x");
    }
    pt_walk_memo_begin(sent_now());
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
    pt_walk_memo_begin(sent_now());
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
    tcase_add_test(tc, a_request_sent_before_a_stat_shares_it_and_the_end_looks_again);
    tcase_add_test(tc, a_request_sent_after_a_stat_does_not_share_it);
    tcase_add_test(tc, a_stat_outside_a_batch_serves_a_request_sent_before_it);
    tcase_add_test(tc, a_thread_no_batch_ran_on_keeps_nothing);
    tcase_add_test(tc, a_name_stat_again_is_kept_at_its_latest);
    tcase_add_test(tc, another_thread_does_not_use_this_threads_stats);
    tcase_add_test(tc, names_past_the_memo_are_kept_in_turn);
    tcase_add_test(tc, a_missing_file_is_not_kept);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
