/* Unit tests for FastCGI records: header and BEGIN_REQUEST encoding, name-value pairs,
 * PARAMS streams and the incremental decoder of what a backend sends. */
#include "fcgi/fcgi.h"

#include <check.h>
#include <stdlib.h>

static pt_arena_t *a;

static void setup(void) { a = pt_arena_create(4096); }
static void teardown(void) { pt_arena_destroy(a); }

/* Appends a record to out (padding as given); returns the new length. */
static size_t rec(unsigned char *out, size_t o, int type, unsigned id, const void *p, size_t n,
                  size_t pad)
{
    pt_fcgi_header_put(out + o, type, id, n, pad);
    memcpy(out + o + 8, p, n);
    memset(out + o + 8 + n, 0, pad);
    return o + 8 + n + pad;
}

static size_t end_rec(unsigned char *out, size_t o, unsigned id, uint32_t app, int proto)
{
    unsigned char body[8] = {(unsigned char)(app >> 24), (unsigned char)(app >> 16),
                             (unsigned char)(app >> 8), (unsigned char)app,
                             (unsigned char)proto, 0, 0, 0};
    return rec(out, o, FCGI_END_REQUEST, id, body, 8, 0);
}

START_TEST(header_is_version_1_with_big_endian_id_and_length)
{
    unsigned char h[8];
    pt_fcgi_header_put(h, FCGI_STDIN, 0x0102, 0xfff8, 3);
    const unsigned char want[8] = {1, FCGI_STDIN, 1, 2, 0xff, 0xf8, 3, 0};
    ck_assert_mem_eq(h, want, 8);
}
END_TEST

START_TEST(begin_request_asks_the_responder_role_and_keep_conn)
{
    unsigned char b[16];
    pt_fcgi_begin_put(b, 1, true);
    const unsigned char want[16] = {1, FCGI_BEGIN_REQUEST, 0, 1, 0, 8, 0, 0,
                                    0, FCGI_RESPONDER, FCGI_KEEP_CONN, 0, 0, 0, 0, 0};
    ck_assert_mem_eq(b, want, 16);
    pt_fcgi_begin_put(b, 1, false);
    ck_assert_int_eq(b[10], 0);
}
END_TEST

START_TEST(short_names_and_values_take_one_byte_lengths)
{
    unsigned char out[32];
    ck_assert_uint_eq(pt_fcgi_nv_size(4, 3), 9);
    size_t n = pt_fcgi_nv_put(out, "NAME", 4, "val", 3);
    ck_assert_uint_eq(n, 9);
    const unsigned char want[9] = {4, 3, 'N', 'A', 'M', 'E', 'v', 'a', 'l'};
    ck_assert_mem_eq(out, want, 9);
}
END_TEST

START_TEST(long_values_take_four_byte_lengths_with_the_high_bit)
{
    size_t vl = 300;
    char *v = malloc(vl);
    memset(v, 'x', vl);
    unsigned char *out = malloc(pt_fcgi_nv_size(1, vl));
    ck_assert_uint_eq(pt_fcgi_nv_size(1, vl), 1 + 4 + 1 + vl);
    pt_fcgi_nv_put(out, "Q", 1, v, vl);
    const unsigned char want[5] = {1, 0x80, 0, 0x01, 0x2c};
    ck_assert_mem_eq(out, want, 5);
    pt_str_t name, value;
    size_t used = 0;
    ck_assert_int_eq(pt_fcgi_nv_get(out, 6 + vl, &name, &value, &used), 0);
    ck_assert_uint_eq(used, 6 + vl);
    ck_assert(pt_str_eq(name, "Q"));
    ck_assert_uint_eq(value.len, vl);
    free(out);
    free(v);
}
END_TEST

START_TEST(a_length_of_exactly_127_still_takes_one_byte)
{
    ck_assert_uint_eq(pt_fcgi_nv_size(127, 128), 1 + 4 + 127 + 128);
}
END_TEST

START_TEST(truncated_pairs_are_rejected)
{
    const unsigned char p[] = {4, 3, 'N', 'A', 'M', 'E', 'v'};
    pt_str_t n, v;
    size_t used;
    ck_assert_int_eq(pt_fcgi_nv_get(p, sizeof(p), &n, &v, &used), PT_EINVAL);
    const unsigned char q[] = {0x80, 0, 0};
    ck_assert_int_eq(pt_fcgi_nv_get(q, sizeof(q), &n, &v, &used), PT_EINVAL);
    const unsigned char huge[] = {0xff, 0xff, 0xff, 0xff, 1, 'a'};
    ck_assert_int_eq(pt_fcgi_nv_get(huge, sizeof(huge), &n, &v, &used), PT_EINVAL);
}
END_TEST

START_TEST(params_stream_ends_with_an_empty_params_record)
{
    pt_fcgi_params_t pp;
    pt_fcgi_params_init(&pp, a);
    pt_fcgi_params_add(&pp, "A", "b");
    size_t len = 0;
    unsigned char *r = pt_fcgi_params_records(&pp, 1, &len);
    /* 8 header + 4 content + 4 padding, then the empty record */
    ck_assert_uint_eq(len, 8 + 8 + 8);
    const unsigned char want[24] = {1, FCGI_PARAMS, 0, 1, 0, 4, 4, 0, 1, 1, 'A', 'b', 0, 0, 0, 0,
                                    1, FCGI_PARAMS, 0, 1, 0, 0, 0, 0};
    ck_assert_mem_eq(r, want, 24);
}
END_TEST

START_TEST(large_params_are_split_into_records_that_decode_back)
{
    pt_fcgi_params_t pp;
    pt_fcgi_params_init(&pp, a);
    char *big = malloc(100000);
    memset(big, 'v', 99999);
    big[99999] = '\0';
    pt_fcgi_params_add(&pp, "BIG", big);
    pt_fcgi_params_add(&pp, "SMALL", "1");
    size_t len = 0;
    unsigned char *r = pt_fcgi_params_records(&pp, 1, &len);
    /* Reassemble the content of the records and decode the pairs. */
    unsigned char *cat = malloc(len);
    size_t o = 0, c = 0, nrec = 0;
    bool saw_empty = false;
    while (o < len) {
        ck_assert_int_eq(r[o], 1);
        ck_assert_int_eq(r[o + 1], FCGI_PARAMS);
        size_t cl = ((size_t)r[o + 4] << 8) | r[o + 5];
        ck_assert_uint_le(cl, 0xffff);
        memcpy(cat + c, r + o + 8, cl);
        c += cl;
        saw_empty = cl == 0;
        o += 8 + cl + r[o + 6];
        nrec++;
    }
    ck_assert(saw_empty);
    ck_assert_uint_eq(nrec, 3);
    pt_str_t n, v;
    size_t used;
    ck_assert_int_eq(pt_fcgi_nv_get(cat, c, &n, &v, &used), 0);
    ck_assert(pt_str_eq(n, "BIG"));
    ck_assert_uint_eq(v.len, 99999);
    ck_assert_int_eq(pt_fcgi_nv_get(cat + used, c - used, &n, &v, &used), 0);
    ck_assert(pt_str_eq(n, "SMALL"));
    ck_assert(pt_str_eq(v, "1"));
    free(cat);
    free(big);
}
END_TEST

START_TEST(decoder_reports_stdout_stderr_and_end_in_order)
{
    unsigned char buf[256];
    size_t n = rec(buf, 0, FCGI_STDOUT, 1, "hello", 5, 3);
    n = rec(buf, n, FCGI_STDERR, 1, "oops", 4, 0);
    n = rec(buf, n, FCGI_STDOUT, 1, "", 0, 0);
    n = end_rec(buf, n, 1, 7, FCGI_REQUEST_COMPLETE);
    pt_fcgi_decoder_t d;
    pt_fcgi_decoder_init(&d, 1);
    size_t off = 0, used;
    pt_fcgi_event_t ev;
    ck_assert_int_eq(pt_fcgi_decode(&d, buf, n, &used, &ev), 0);
    ck_assert_int_eq(ev.type, PT_FCGI_EV_STDOUT);
    ck_assert(pt_str_eq(ev.data, "hello"));
    off += used;
    ck_assert_int_eq(pt_fcgi_decode(&d, buf + off, n - off, &used, &ev), 0);
    ck_assert_int_eq(ev.type, PT_FCGI_EV_STDERR);
    ck_assert(pt_str_eq(ev.data, "oops"));
    off += used;
    ck_assert_int_eq(pt_fcgi_decode(&d, buf + off, n - off, &used, &ev), 0);
    ck_assert_int_eq(ev.type, PT_FCGI_EV_STDOUT);
    ck_assert_uint_eq(ev.data.len, 0);
    off += used;
    ck_assert_int_eq(pt_fcgi_decode(&d, buf + off, n - off, &used, &ev), 0);
    ck_assert_int_eq(ev.type, PT_FCGI_EV_END);
    ck_assert_uint_eq(ev.app_status, 7);
    ck_assert_int_eq(ev.protocol_status, FCGI_REQUEST_COMPLETE);
    off += used;
    ck_assert_uint_eq(off, n);
    ck_assert(d.ended);
}
END_TEST

START_TEST(decoder_handles_input_split_byte_by_byte)
{
    unsigned char buf[256];
    size_t n = rec(buf, 0, FCGI_STDOUT, 1, "abcdef", 6, 2);
    n = end_rec(buf, n, 1, 0, FCGI_REQUEST_COMPLETE);
    pt_fcgi_decoder_t d;
    pt_fcgi_decoder_init(&d, 1);
    char out[16];
    size_t olen = 0;
    bool ended = false;
    for (size_t i = 0; i < n; i++) {
        size_t used = 0;
        pt_fcgi_event_t ev;
        ck_assert_int_eq(pt_fcgi_decode(&d, buf + i, 1, &used, &ev), 0);
        ck_assert_uint_eq(used, 1);
        if (ev.type == PT_FCGI_EV_STDOUT) {
            memcpy(out + olen, ev.data.p, ev.data.len);
            olen += ev.data.len;
        }
        ended |= ev.type == PT_FCGI_EV_END;
    }
    ck_assert_uint_eq(olen, 6);
    ck_assert_mem_eq(out, "abcdef", 6);
    ck_assert(ended);
}
END_TEST

static const char *decode_error(const unsigned char *buf, size_t n)
{
    pt_fcgi_decoder_t d;
    pt_fcgi_decoder_init(&d, 1);
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        pt_fcgi_event_t ev;
        if (pt_fcgi_decode(&d, buf + off, n - off, &used, &ev) != 0)
            return d.error;
        off += used;
    }
    return NULL;
}

START_TEST(decoder_rejects_a_bad_version)
{
    unsigned char buf[32];
    size_t n = rec(buf, 0, FCGI_STDOUT, 1, "x", 1, 0);
    buf[0] = 2;
    ck_assert_str_eq(decode_error(buf, n), "unsupported FastCGI record version");
}
END_TEST

START_TEST(decoder_rejects_another_request_id_and_unexpected_types)
{
    unsigned char buf[32];
    size_t n = rec(buf, 0, FCGI_STDOUT, 2, "x", 1, 0);
    ck_assert_str_eq(decode_error(buf, n), "record for an unknown request id");
    n = rec(buf, 0, FCGI_PARAMS, 1, "x", 1, 0);
    ck_assert_str_eq(decode_error(buf, n), "unexpected FastCGI record type");
}
END_TEST

START_TEST(decoder_rejects_end_request_of_the_wrong_length_and_records_after_it)
{
    unsigned char buf[64];
    size_t n = rec(buf, 0, FCGI_END_REQUEST, 1, "abc", 3, 0);
    ck_assert_str_eq(decode_error(buf, n), "END_REQUEST record of the wrong length");
    n = end_rec(buf, 0, 1, 0, 0);
    n = rec(buf, n, FCGI_STDOUT, 1, "x", 1, 0);
    ck_assert_str_eq(decode_error(buf, n), "record after END_REQUEST");
}
END_TEST

START_TEST(decoder_skips_management_records)
{
    unsigned char buf[64];
    size_t n = rec(buf, 0, FCGI_UNKNOWN_TYPE, 0, "\x09\0\0\0\0\0\0\0", 8, 0);
    n = rec(buf, n, FCGI_STDOUT, 1, "ok", 2, 0);
    pt_fcgi_decoder_t d;
    pt_fcgi_decoder_init(&d, 1);
    size_t used;
    pt_fcgi_event_t ev;
    ck_assert_int_eq(pt_fcgi_decode(&d, buf, n, &used, &ev), 0);
    ck_assert_int_eq(ev.type, PT_FCGI_EV_STDOUT);
    ck_assert(pt_str_eq(ev.data, "ok"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fcgi_record");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, header_is_version_1_with_big_endian_id_and_length);
    tcase_add_test(tc, begin_request_asks_the_responder_role_and_keep_conn);
    tcase_add_test(tc, short_names_and_values_take_one_byte_lengths);
    tcase_add_test(tc, long_values_take_four_byte_lengths_with_the_high_bit);
    tcase_add_test(tc, a_length_of_exactly_127_still_takes_one_byte);
    tcase_add_test(tc, truncated_pairs_are_rejected);
    tcase_add_test(tc, params_stream_ends_with_an_empty_params_record);
    tcase_add_test(tc, large_params_are_split_into_records_that_decode_back);
    tcase_add_test(tc, decoder_reports_stdout_stderr_and_end_in_order);
    tcase_add_test(tc, decoder_handles_input_split_byte_by_byte);
    tcase_add_test(tc, decoder_rejects_a_bad_version);
    tcase_add_test(tc, decoder_rejects_another_request_id_and_unexpected_types);
    tcase_add_test(tc, decoder_rejects_end_request_of_the_wrong_length_and_records_after_it);
    tcase_add_test(tc, decoder_skips_management_records);
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
