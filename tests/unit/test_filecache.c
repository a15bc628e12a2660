/* Unit tests for filecache.c: an entry is served only while it still describes the file the
 * caller has just stat'ed, so a chmod'ed or replaced file is never answered from the cache. */
#include "filecache.h"
#include "config.h"
#include "idle.h"

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char path[128];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/pt_fc_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/f.txt", dir);
}

static void teardown(void)
{
    pt_filecache_clear();
    unlink(path);
    rmdir(dir);
}

static void write_at(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Opens path through the cache with a fresh stat of it. */
static pt_fcentry_t *open_fresh(void)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    pt_fcentry_t *e = NULL;
    ck_assert_int_eq(pt_filecache_open(path, &st, &e), 0);
    return e;
}

START_TEST(reuses_an_entry_while_the_file_is_unchanged)
{
    write_at(path, "one\n");
    pt_fcentry_t *a = open_fresh();
    pt_fcentry_t *b = open_fresh();
    ck_assert_ptr_eq(a, b);
    pt_filecache_release(a);
    pt_filecache_release(b);
}
END_TEST

START_TEST(a_chmod_is_seen_at_once)
{
    write_at(path, "one\n");
    pt_fcentry_t *a = open_fresh();
    ck_assert_int_eq(chmod(path, 0), 0);
    pt_fcentry_t *b = open_fresh(); /* as root the open still succeeds: a new entry */
    ck_assert_ptr_ne(a, b);
    ck_assert_uint_eq(pt_fcentry_stat(b)->st_mode & 0777, 0);
    pt_filecache_release(a);
    pt_filecache_release(b);
}
END_TEST

START_TEST(a_replaced_file_is_reloaded_at_once)
{
    write_at(path, "one\n");
    pt_fcentry_t *a = open_fresh();
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s/new", dir);
    write_at(tmp, "two\n"); /* same size, and maybe the same mtime: the inode differs */
    ck_assert_int_eq(rename(tmp, path), 0);
    pt_fcentry_t *b = open_fresh();
    ck_assert_ptr_ne(a, b);
    ck_assert_ptr_nonnull(pt_fcentry_data(b));
    ck_assert(memcmp(pt_fcentry_data(b), "two\n", 4) == 0);
    pt_filecache_release(a);
    pt_filecache_release(b);
}
END_TEST

START_TEST(an_entry_replaced_while_held_is_readable_until_released)
{
    write_at(path, "one\n");
    pt_fcentry_t *a = open_fresh();
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s/new", dir);
    write_at(tmp, "two\n");
    ck_assert_int_eq(rename(tmp, path), 0);
    pt_fcentry_t *b = open_fresh(); /* a leaves the table; its holder still reads it */
    ck_assert_ptr_ne(a, b);
    char buf[4];
    ck_assert_int_eq(pread(pt_fcentry_fd(a), buf, 4, 0), 4);
    ck_assert(memcmp(buf, "one\n", 4) == 0);
    ck_assert(memcmp(pt_fcentry_data(a), "one\n", 4) == 0);
    pt_filecache_release(a); /* kept in this thread's slot, then let go by the next release */
    pt_fcentry_t *c = open_fresh();
    ck_assert_ptr_eq(b, c);
    pt_filecache_release(b);
    pt_filecache_release(c);
}
END_TEST

/* More files than the cache keeps pass through it while one entry is held: that entry
 * stays, and the others make way. */
START_TEST(a_held_entry_is_not_evicted)
{
    write_at(path, "held\n");
    pt_fcentry_t *a = open_fresh();
    char p[160];
    for (int i = 0; i < PT_FILECACHE_ENTRIES + 8; i++) {
        snprintf(p, sizeof(p), "%s/%d", dir, i);
        write_at(p, "x");
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        pt_fcentry_t *e = NULL;
        ck_assert_int_eq(pt_filecache_open(p, &st, &e), 0);
        pt_filecache_release(e);
        unlink(p);
    }
    pt_fcentry_t *b = open_fresh();
    ck_assert_ptr_eq(a, b);
    pt_filecache_release(a);
    pt_filecache_release(b);
}
END_TEST

/* A thread's released entry is what its next open of the unchanged file gets back; a changed
 * file is not answered from it. */
START_TEST(a_released_entry_is_taken_back_while_the_file_is_unchanged)
{
    write_at(path, "one\n");
    pt_fcentry_t *a = open_fresh();
    pt_filecache_release(a);
    pt_fcentry_t *b = open_fresh();
    ck_assert_ptr_eq(a, b);
    pt_filecache_release(b);
    ck_assert_int_eq(chmod(path, 0600), 0); /* other mode bits: not the slot's entry */
    pt_fcentry_t *m = open_fresh();
    ck_assert_ptr_ne(m, a);
    ck_assert_uint_eq(pt_fcentry_stat(m)->st_mode & 0777, 0600);
    pt_filecache_release(m);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s/new", dir);
    write_at(tmp, "two\n");
    ck_assert_int_eq(rename(tmp, path), 0);
    pt_fcentry_t *c = open_fresh();
    ck_assert_ptr_ne(c, a);
    ck_assert(memcmp(pt_fcentry_data(c), "two\n", 4) == 0);
    pt_filecache_release(c);
}
END_TEST

/* An entry keeps the file's ETag made once, and each request decides whether it is weak by
 * its own time: an entry loaded while its file was fresh gives the strong tag a second later
 * without being loaded again (nothing about the file changed), as a request that comes then
 * would get from a fresh load. The tag is for MTime Size only. */
START_TEST(a_cached_etag_is_weak_for_a_request_within_a_second_of_the_mtime)
{
    write_at(path, "one\n");
    struct timespec ts[2] = {{1700000000, 500000}, {1700000000, 500000}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
    const int64_t mtime_us = 1700000000000500LL;
    const unsigned dflt = PT_FETAG_MTIME | PT_FETAG_SIZE;
    pt_fcentry_t *e = open_fresh();
    ck_assert_str_eq(pt_fcentry_etag(e, dflt, mtime_us), "W/\"4-60a24181e41f4\"");
    ck_assert_str_eq(pt_fcentry_etag(e, dflt, mtime_us + 1000000), "W/\"4-60a24181e41f4\"");
    ck_assert_str_eq(pt_fcentry_etag(e, dflt, mtime_us + 1000001), "\"4-60a24181e41f4\"");
    ck_assert_str_eq(pt_fcentry_etag(e, dflt, mtime_us - 5000000), "W/\"4-60a24181e41f4\"");
    pt_filecache_release(e);
    pt_fcentry_t *again = open_fresh();
    ck_assert_ptr_eq(again, e); /* the same entry: no reload made it strong */
    ck_assert_str_eq(pt_fcentry_etag(again, dflt, mtime_us + 2000000), "\"4-60a24181e41f4\"");
    ck_assert_ptr_null(pt_fcentry_etag(again, PT_FETAG_ALL, mtime_us + 2000000));
    pt_filecache_release(again);
}
END_TEST

static int released_fd = -1;

static void *open_release(void *arg)
{
    (void)arg;
    pt_fcentry_t *e = open_fresh();
    released_fd = pt_fcentry_fd(e);
    pt_filecache_release(e); /* into this thread's slot */
    return NULL;
}

/* The entry a thread kept in its slot goes when the thread ends, once nothing else holds
 * it: its descriptor is closed. */
START_TEST(a_threads_kept_entry_goes_when_the_thread_ends)
{
    write_at(path, "one\n");
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, open_release, NULL), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0); /* (the slot outlives the thread: no) */
    ck_assert_int_ge(released_fd, 0);
    ck_assert_int_ne(fcntl(released_fd, F_GETFD), -1); /* the table still has it */
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s/new", dir);
    write_at(tmp, "two\n");
    ck_assert_int_eq(rename(tmp, path), 0);
    pt_fcentry_t *b = open_fresh(); /* replaces it in the table: now nobody holds it */
    ck_assert_int_eq(fcntl(released_fd, F_GETFD), -1);
    pt_filecache_release(b);
}
END_TEST

static pthread_mutex_t idle_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER;
static int idle_step; /* [idle_mu] 1: the thread released its entry; 2: go idle; 3: it did;
                         4: it may end */

static void idle_advance(int to)
{
    pthread_mutex_lock(&idle_mu);
    idle_step = to;
    pthread_cond_broadcast(&idle_cv);
    pthread_mutex_unlock(&idle_mu);
}

static void idle_await(int step)
{
    pthread_mutex_lock(&idle_mu);
    while (idle_step < step)
        pthread_cond_wait(&idle_cv, &idle_mu);
    pthread_mutex_unlock(&idle_mu);
}

static void *release_then_idle(void *arg)
{
    (void)arg;
    pt_fcentry_t *e = open_fresh();
    released_fd = pt_fcentry_fd(e);
    pt_filecache_release(e); /* into this thread's slot */
    idle_advance(1);
    idle_await(2);
    pt_thread_idle(); /* as an MPM worker about to wait for work */
    idle_advance(3);
    idle_await(4); /* (alive until looked at: its end would let the slot go too) */
    return NULL;
}

/* A thread that lives on keeps its last entry only until it goes idle: a file replaced
 * meanwhile, which the table let go of, is closed then (a thread that stays idle would
 * otherwise keep a deleted file's inode without end). */
START_TEST(a_threads_kept_entry_goes_when_it_goes_idle)
{
    write_at(path, "one\n");
    idle_step = 0;
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, release_then_idle, NULL), 0);
    idle_await(1);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s/new", dir);
    write_at(tmp, "two\n");
    ck_assert_int_eq(rename(tmp, path), 0);
    pt_fcentry_t *b = open_fresh(); /* the table lets the old one go: the slot still has it */
    ck_assert_int_ne(fcntl(released_fd, F_GETFD), -1);
    idle_advance(2);
    idle_await(3);
    bool closed = fcntl(released_fd, F_GETFD) == -1;
    idle_advance(4);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert(closed);
    pt_filecache_release(b);
}
END_TEST

static atomic_bool stop_racers;
static atomic_int bad_reads;

static void *racer(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_racers)) {
        struct stat st;
        pt_fcentry_t *e = NULL;
        if (stat(path, &st) != 0 || pt_filecache_open(path, &st, &e) != 0)
            continue;
        const char *d = pt_fcentry_data(e);
        if (!d || (memcmp(d, "one\n", 4) != 0 && memcmp(d, "two\n", 4) != 0))
            atomic_fetch_add(&bad_reads, 1);
        pt_filecache_release(e);
    }
    return NULL;
}

/* Threads open and release one path while it is replaced again and again: each sees one
 * whole version, and no entry is freed while held or kept after its last holder (ASan). */
START_TEST(threads_share_entries_while_the_file_is_replaced)
{
    write_at(path, "one\n");
    atomic_store(&stop_racers, false);
    atomic_store(&bad_reads, 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, racer, NULL), 0);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s/new", dir);
    for (int i = 0; i < 300; i++) {
        write_at(tmp, i % 2 ? "one\n" : "two\n");
        ck_assert_int_eq(rename(tmp, path), 0);
        usleep(200);
    }
    atomic_store(&stop_racers, true);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(atomic_load(&bad_reads), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("filecache");
    TCase *tc = tcase_create("revalidation");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, reuses_an_entry_while_the_file_is_unchanged);
    tcase_add_test(tc, a_chmod_is_seen_at_once);
    tcase_add_test(tc, a_replaced_file_is_reloaded_at_once);
    tcase_add_test(tc, an_entry_replaced_while_held_is_readable_until_released);
    tcase_add_test(tc, a_held_entry_is_not_evicted);
    tcase_add_test(tc, a_released_entry_is_taken_back_while_the_file_is_unchanged);
    tcase_add_test(tc, a_threads_kept_entry_goes_when_the_thread_ends);
    tcase_add_test(tc, a_threads_kept_entry_goes_when_it_goes_idle);
    tcase_add_test(tc, threads_share_entries_while_the_file_is_replaced);
    tcase_add_test(tc, a_cached_etag_is_weak_for_a_request_within_a_second_of_the_mtime);
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
