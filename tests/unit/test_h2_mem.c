/* Memory for nghttp2 (h2_mem.c): freed blocks come back for the next request of their size
 * on the thread that freed them, realloc and calloc keep their promises, big blocks pass
 * through to malloc, the free lists never hold more than H2_MEM_CACHE_MAX bytes, and a
 * thread's go when it ends. */
#include "h2_mem.h"
#include "idle.h"

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

START_TEST(a_freed_block_serves_the_next_request_of_its_size)
{
    nghttp2_mem a = h2_mem();
    void *p = a.malloc(100, a.mem_user_data);
    ck_assert_ptr_nonnull(p);
    a.free(p, a.mem_user_data);
    ck_assert_uint_eq(h2_mem_cached(), 128);
    ck_assert_ptr_eq(a.malloc(120, a.mem_user_data), p); /* the same class: 65..128 */
    ck_assert_uint_eq(h2_mem_cached(), 0);
    void *q = a.malloc(64, a.mem_user_data); /* another class: a new block */
    ck_assert_ptr_ne(q, p);
    a.free(q, a.mem_user_data);
    a.free(p, a.mem_user_data);
    h2_mem_thread_release();
    ck_assert_uint_eq(h2_mem_cached(), 0);
}
END_TEST

START_TEST(blocks_are_aligned_as_mallocs)
{
    nghttp2_mem a = h2_mem();
    for (size_t n = 1; n < 5000; n += 333) {
        void *p = a.malloc(n, a.mem_user_data);
        ck_assert_uint_eq((uintptr_t)p % _Alignof(max_align_t), 0);
        a.free(p, a.mem_user_data);
    }
    h2_mem_thread_release();
}
END_TEST

START_TEST(calloc_zeroes_a_reused_block)
{
    nghttp2_mem a = h2_mem();
    char *p = a.malloc(200, a.mem_user_data);
    memset(p, 'x', 200);
    a.free(p, a.mem_user_data);
    char *q = a.calloc(10, 20, a.mem_user_data);
    ck_assert_ptr_eq(q, p);
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(q[i], 0);
    ck_assert_ptr_null(a.calloc(SIZE_MAX / 2, 4, a.mem_user_data));
    a.free(q, a.mem_user_data);
    h2_mem_thread_release();
}
END_TEST

START_TEST(realloc_keeps_the_bytes_across_classes_and_to_a_big_block)
{
    nghttp2_mem a = h2_mem();
    char *p = a.realloc(NULL, 10, a.mem_user_data);
    memcpy(p, "0123456789", 10);
    ck_assert_ptr_eq(a.realloc(p, 60, a.mem_user_data), p); /* fits its block */
    p = a.realloc(p, 1000, a.mem_user_data);
    ck_assert_mem_eq(p, "0123456789", 10);
    p = a.realloc(p, 100000, a.mem_user_data); /* past every class: malloc's own */
    ck_assert_mem_eq(p, "0123456789", 10);
    memset(p + 99990, 'y', 10);
    char *q = a.realloc(p, 50, a.mem_user_data);
    ck_assert_mem_eq(q, "0123456789", 10);
    a.free(q, a.mem_user_data);
    h2_mem_thread_release();
}
END_TEST

START_TEST(the_free_lists_hold_at_most_the_cache_bound)
{
    nghttp2_mem a = h2_mem();
    enum { N = 200 };
    void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = a.malloc(2000, a.mem_user_data);
    for (int i = 0; i < N; i++)
        a.free(p[i], a.mem_user_data);
    ck_assert_uint_le(h2_mem_cached(), H2_MEM_CACHE_MAX);
    ck_assert_uint_ge(h2_mem_cached(), H2_MEM_CACHE_MAX - 2048);
    void *big = a.malloc(70000, a.mem_user_data);
    size_t before = h2_mem_cached();
    a.free(big, a.mem_user_data); /* not cached: freed */
    ck_assert_uint_eq(h2_mem_cached(), before);
    a.free(NULL, a.mem_user_data);
    h2_mem_thread_release();
    ck_assert_uint_eq(h2_mem_cached(), 0);
}
END_TEST

START_TEST(an_nghttp2_session_runs_on_it)
{
    nghttp2_mem a = h2_mem();
    nghttp2_session_callbacks *cb;
    ck_assert_int_eq(nghttp2_session_callbacks_new(&cb), 0);
    nghttp2_session *ng;
    ck_assert_int_eq(nghttp2_session_server_new3(&ng, cb, NULL, NULL, &a), 0);
    static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                     "\0\0\0\4\0\0\0\0\0" /* empty SETTINGS */
                                     "\0\0\x0d\1\5\0\0\0\1" /* HEADERS, END_STREAM|HEADERS */
                                     "\x82\x87\x84\x41\x89\xa0\xe4\x1d\x13\x9d\x09\xb8\xf0\x1e";
    for (int i = 0; i < 3; i++) { /* (the second and third rounds reuse the blocks) */
        ck_assert_int_ge(nghttp2_session_mem_recv(ng, preface, sizeof(preface) - 1), 0);
        const uint8_t *out;
        while (nghttp2_session_mem_send(ng, &out) > 0)
            ;
        nghttp2_session_del(ng);
        ck_assert_int_eq(nghttp2_session_server_new3(&ng, cb, NULL, NULL, &a), 0);
    }
    nghttp2_session_del(ng);
    nghttp2_session_callbacks_del(cb);
    ck_assert_uint_gt(h2_mem_cached(), 0);
    h2_mem_thread_release();
}
END_TEST

static void *free_here(void *p)
{
    nghttp2_mem a = h2_mem();
    a.free(p, a.mem_user_data);
    size_t *cached = malloc(sizeof(*cached));
    *cached = h2_mem_cached();
    return cached; /* (the thread's lists go as it ends: an ASan build finds them leaked
                      otherwise) */
}

/* A block goes to the lists of the thread that frees it, whichever thread made it (a session
 * moves between workers): the maker's lists do not see it. */
START_TEST(a_block_goes_to_the_freeing_threads_lists)
{
    nghttp2_mem a = h2_mem();
    void *p = a.malloc(100, a.mem_user_data);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, free_here, p), 0);
    void *res = NULL;
    ck_assert_int_eq(pthread_join(t, &res), 0);
    ck_assert_uint_eq(*(size_t *)res, 128);
    free(res);
    ck_assert_uint_eq(h2_mem_cached(), 0);
}
END_TEST

/* A thread about to wait for work (idle.h) gives back its free blocks and its empty output
 * batch. */
START_TEST(a_thread_going_idle_gives_its_blocks_back)
{
    nghttp2_mem a = h2_mem();
    a.free(a.malloc(100, a.mem_user_data), a.mem_user_data);
    ck_assert_int_eq(h2_obuf_grow(100), 0);
    ck_assert_uint_eq(h2_mem_cached(), 128);
    ck_assert_ptr_nonnull(h2_ob.p);
    pt_thread_idle();
    ck_assert_uint_eq(h2_mem_cached(), 0);
    ck_assert_ptr_null(h2_ob.p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("h2_mem");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, a_freed_block_serves_the_next_request_of_its_size);
    tcase_add_test(tc, blocks_are_aligned_as_mallocs);
    tcase_add_test(tc, calloc_zeroes_a_reused_block);
    tcase_add_test(tc, realloc_keeps_the_bytes_across_classes_and_to_a_big_block);
    tcase_add_test(tc, the_free_lists_hold_at_most_the_cache_bound);
    tcase_add_test(tc, an_nghttp2_session_runs_on_it);
    tcase_add_test(tc, a_block_goes_to_the_freeing_threads_lists);
    tcase_add_test(tc, a_thread_going_idle_gives_its_blocks_back);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
