/* Unit tests for buffer chains (base/buf.c): gathering memory slices, stopping at a file
 * range, consuming partial writes, and the last mark. */
#include "buf.h"

#include <check.h>
#include <string.h>

static pt_arena_t *arena;

static void setup(void)
{
    arena = pt_arena_create(1024);
}

static void teardown(void)
{
    pt_arena_destroy(arena);
}

START_TEST(memory_slices_gather_in_order_up_to_a_file_range)
{
    pt_chain_t c;
    pt_chain_init(&c);
    ck_assert(pt_chain_empty(&c));
    pt_chain_append(&c, pt_buf_mem(arena, "head\r\n", 6));
    pt_chain_append(&c, pt_buf_copy(arena, "body", 4));
    pt_chain_append(&c, pt_buf_file(arena, 7, 100, 50));
    pt_chain_append(&c, pt_buf_mem(arena, "tail", 4));
    ck_assert_uint_eq(c.bytes, 64);
    struct iovec iov[8];
    size_t bytes = 0;
    int n = pt_chain_iov(&c, iov, 8, &bytes);
    ck_assert_int_eq(n, 2);
    ck_assert_uint_eq(bytes, 10);
    ck_assert_mem_eq(iov[0].iov_base, "head\r\n", 6);
    ck_assert_mem_eq(iov[1].iov_base, "body", 4);
    /* At most max slices. */
    ck_assert_int_eq(pt_chain_iov(&c, iov, 1, &bytes), 1);
    ck_assert_uint_eq(bytes, 6);
}
END_TEST

START_TEST(consume_takes_partial_writes_and_advances_file_ranges)
{
    pt_chain_t c;
    pt_chain_init(&c);
    pt_chain_append(&c, pt_buf_mem(arena, "abcdef", 6));
    pt_chain_append(&c, pt_buf_file(arena, 3, 10, 20));
    pt_chain_consume(&c, 4);
    ck_assert_uint_eq(c.bytes, 22);
    struct iovec iov[4];
    ck_assert_int_eq(pt_chain_iov(&c, iov, 4, NULL), 1);
    ck_assert_mem_eq(iov[0].iov_base, "ef", 2);
    pt_chain_consume(&c, 2 + 5); /* the rest of the memory and 5 file bytes */
    ck_assert_int_eq(pt_chain_iov(&c, iov, 4, NULL), 0);
    ck_assert_int_eq(c.head->fd, 3);
    ck_assert_int_eq((int)c.head->off, 15);
    ck_assert_uint_eq(c.head->len, 15);
    pt_chain_consume(&c, 15);
    ck_assert(pt_chain_empty(&c));
    ck_assert_uint_eq(c.bytes, 0);
    /* The chain takes new buffers after it was emptied. */
    pt_chain_append(&c, pt_buf_mem(arena, "x", 1));
    ck_assert_uint_eq(c.bytes, 1);
    ck_assert_int_eq(pt_chain_iov(&c, iov, 4, NULL), 1);
}
END_TEST

START_TEST(empty_buffers_are_dropped_but_the_last_mark_is_kept)
{
    pt_chain_t c;
    pt_chain_init(&c);
    pt_chain_append(&c, pt_buf_mem(arena, "", 0));
    ck_assert(pt_chain_empty(&c));
    ck_assert(!c.last);
    pt_buf_t *end = pt_buf_mem(arena, "", 0);
    end->last = true;
    pt_chain_append(&c, pt_buf_mem(arena, "zz", 2));
    pt_chain_append(&c, end);
    ck_assert(c.last);
    ck_assert(!pt_chain_empty(&c));
    pt_chain_consume(&c, 2);
    ck_assert(pt_chain_empty(&c)); /* the bytes are out and the mark was seen */
    ck_assert(c.last);
}
END_TEST

START_TEST(appending_a_linked_list_takes_every_buffer)
{
    pt_buf_t *a = pt_buf_mem(arena, "1", 1);
    pt_buf_t *b = pt_buf_mem(arena, "22", 2);
    a->next = b;
    pt_chain_t c;
    pt_chain_init(&c);
    pt_chain_append(&c, a);
    ck_assert_uint_eq(c.bytes, 3);
    ck_assert_ptr_eq(c.head, a);
    ck_assert_ptr_eq(*c.tail, NULL);
    ck_assert_ptr_eq(c.tail, &b->next);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("chain");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, memory_slices_gather_in_order_up_to_a_file_range);
    tcase_add_test(tc, consume_takes_partial_writes_and_advances_file_ranges);
    tcase_add_test(tc, empty_buffers_are_dropped_but_the_last_mark_is_kept);
    tcase_add_test(tc, appending_a_linked_list_takes_every_buffer);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
