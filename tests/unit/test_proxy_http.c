/* The upstream response head parser of the HTTP proxy (proxy/http_resp.c): what it takes,
 * and every framing it refuses so that no ambiguity reaches a client. */
#include "http_resp.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static pt_arena_t *a;

static void setup(void)
{
    a = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
}

static void teardown(void)
{
    pt_arena_destroy(a);
}

static pt_http_resp_result_t parse(const char *s, pt_http_resp_t *h, const char **why)
{
    return pt_http_resp_parse(s, strlen(s), 100, a, h, why);
}

START_TEST(parses_the_status_the_fields_and_the_length)
{
    pt_http_resp_t h;
    const char *why;
    const char *s = "HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\nX-A:  b c \r\n\r\nbody";
    ck_assert_int_eq(parse(s, &h, &why), PT_HTTP_RESP_DONE);
    ck_assert_int_eq(h.status, 404);
    ck_assert_int_eq(h.version, 11);
    ck_assert_int_eq(h.content_length, 12);
    ck_assert_uint_eq(h.nfields, 2);
    ck_assert_uint_eq(h.head_len, strlen(s) - 4);
    ck_assert_int_eq((int)h.fields[1].value.len, 3);
    ck_assert(strncmp(h.fields[1].value.p, "b c", 3) == 0);
    ck_assert(!h.conn_close);
}
END_TEST

START_TEST(an_incomplete_head_asks_for_more)
{
    pt_http_resp_t h;
    const char *why;
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Le", &h, &why), PT_HTTP_RESP_AGAIN);
}
END_TEST

START_TEST(http_1_0_closes_unless_it_says_keep_alive)
{
    pt_http_resp_t h;
    const char *why;
    ck_assert_int_eq(parse("HTTP/1.0 200 OK\r\n\r\n", &h, &why), PT_HTTP_RESP_DONE);
    ck_assert(h.conn_close);
    ck_assert_int_eq(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n", &h, &why),
                     PT_HTTP_RESP_DONE);
    ck_assert(!h.conn_close);
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nConnection: x, close\r\n\r\n", &h, &why),
                     PT_HTTP_RESP_DONE);
    ck_assert(h.conn_close);
}
END_TEST

START_TEST(equal_repeated_lengths_pass_and_differing_ones_are_refused)
{
    pt_http_resp_t h;
    const char *why;
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n"
                           "\r\n", &h, &why), PT_HTTP_RESP_DONE);
    ck_assert_int_eq(h.content_length, 5);
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                           &h, &why), PT_HTTP_RESP_BAD);
    ck_assert_str_eq(why, "bad or conflicting Content-Length");
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", &h, &why),
                     PT_HTTP_RESP_BAD);
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", &h, &why),
                     PT_HTTP_RESP_BAD);
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
                           &h, &why), PT_HTTP_RESP_BAD);
}
END_TEST

START_TEST(rejects_content_length_with_transfer_encoding_and_unknown_codings)
{
    pt_http_resp_t h;
    const char *why;
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: "
                           "chunked\r\n\r\n", &h, &why), PT_HTTP_RESP_BAD);
    ck_assert_str_eq(why, "both Content-Length and Transfer-Encoding");
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &h,
                           &why), PT_HTTP_RESP_BAD);
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n", &h, &why), PT_HTTP_RESP_BAD);
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", &h, &why),
                     PT_HTTP_RESP_DONE);
    ck_assert(h.chunked);
}
END_TEST

START_TEST(rejects_malformed_lines)
{
    static const char *bad[] = {
        "HTTP/1.1 200 OK\r\nX-A : b\r\n\r\n",        /* space before the colon */
        "HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n",   /* obs-fold */
        "HTTP/1.1 200 OK\r\nX-A: b\nX-B: c\r\n\r\n", /* bare LF */
        "HTTP/1.1 200 OK\r\nX-A: b\rc\r\n\r\n",      /* bare CR */
        "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pt_http_resp_t h;
        const char *why = NULL;
        ck_assert_msg(parse(bad[i], &h, &why) == PT_HTTP_RESP_BAD, "accepted: %s", bad[i]);
        ck_assert_ptr_nonnull(why);
    }
}
END_TEST

START_TEST(a_head_past_the_bound_is_refused)
{
    size_t n = PT_HTTP_RESP_HEAD_MAX + 10;
    char *s = malloc(n + 1);
    memset(s, 'a', n);
    memcpy(s, "HTTP/1.1 200 OK\r\nX: ", 20);
    s[n] = '\0';
    pt_http_resp_t h;
    const char *why;
    ck_assert_int_eq(pt_http_resp_parse(s, n, 100, a, &h, &why), PT_HTTP_RESP_BAD);
    free(s);
}
END_TEST

START_TEST(values_keep_tabs_and_obs_text_and_lose_their_outer_blanks)
{
    pt_http_resp_t h;
    const char *why;
    const char *s = "HTTP/1.1 200 OK\r\nX-A:\t a\tb \x80\x7f\t\r\nX-B:\r\nX-C: \r\n\r\n";
    ck_assert_int_eq(parse(s, &h, &why), PT_HTTP_RESP_DONE);
    ck_assert_uint_eq(h.nfields, 3);
    ck_assert_uint_eq(h.fields[0].value.len, 6);
    ck_assert(memcmp(h.fields[0].value.p, "a\tb \x80\x7f", 6) == 0);
    ck_assert_uint_eq(h.fields[1].value.len, 0);
    ck_assert_uint_eq(h.fields[2].value.len, 0);
    ck_assert_uint_eq(h.fields[2].name.len, 3);
}
END_TEST

START_TEST(a_nul_or_a_control_byte_in_a_line_says_which)
{
    pt_http_resp_t h;
    const char *why;
    static const char nul[] = "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n";
    ck_assert_int_eq(pt_http_resp_parse(nul, sizeof(nul) - 1, 100, a, &h, &why),
                     PT_HTTP_RESP_BAD);
    ck_assert_str_eq(why, "bare LF or NUL in the response head");
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nX-A: a\x01z\r\n\r\n", &h, &why),
                     PT_HTTP_RESP_BAD);
    ck_assert_str_eq(why, "control character in a header field");
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nX(A: b\r\n\r\n", &h, &why), PT_HTTP_RESP_BAD);
    ck_assert_str_eq(why, "malformed header field name");
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\n: b\r\n\r\n", &h, &why), PT_HTTP_RESP_BAD);
    ck_assert_str_eq(why, "malformed header field");
}
END_TEST

START_TEST(connection_tokens_are_read_from_the_whole_list)
{
    pt_http_resp_t h;
    const char *why;
    ck_assert_int_eq(parse("HTTP/1.1 101 S\r\nConnection: , Upgrade ,\tClose\r\n\r\n", &h, &why),
                     PT_HTTP_RESP_DONE);
    ck_assert(h.conn_close && h.conn_upgrade);
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nConnection: closed, keep-alive\r\n\r\n", &h, &why),
                     PT_HTTP_RESP_DONE);
    ck_assert(!h.conn_close && !h.conn_upgrade);
    /* HTTP/1.0: keep-alive wins over a close in the same field, not over a later one */
    ck_assert_int_eq(parse("HTTP/1.0 200 OK\r\nConnection: close, keep-alive\r\n\r\n", &h, &why),
                     PT_HTTP_RESP_DONE);
    ck_assert(!h.conn_close);
    ck_assert_int_eq(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n"
                           "\r\n", &h, &why),
                     PT_HTTP_RESP_DONE);
    ck_assert(h.conn_close);
}
END_TEST

START_TEST(proxy_bad_header_skips_or_starts_the_body_at_a_line_without_a_colon)
{
    pt_http_resp_t h;
    const char *why;
    const char *s = "HTTP/1.1 200 OK\r\nX-A: 1\r\nno colon\r\nX-B: 2\r\n\r\n";
    ck_assert_int_eq(pt_http_resp_parse_bad(s, strlen(s), 100, PT_HTTP_BADHDR_IGNORE, a, &h,
                                            &why),
                     PT_HTTP_RESP_DONE);
    ck_assert_uint_eq(h.nfields, 2);
    ck_assert_uint_eq(h.head_len, strlen(s));
    ck_assert_int_eq(pt_http_resp_parse_bad(s, strlen(s), 100, PT_HTTP_BADHDR_STARTBODY, a, &h,
                                            &why),
                     PT_HTTP_RESP_DONE);
    ck_assert_uint_eq(h.nfields, 1);
    ck_assert_uint_eq(h.head_len, strlen("HTTP/1.1 200 OK\r\nX-A: 1\r\n"));
}
END_TEST

START_TEST(hop_by_hop_names_and_connection_lists)
{
    ck_assert(pt_http_hop_by_hop("keep-alive", 10));
    ck_assert(pt_http_hop_by_hop("Proxy-Authorization", 19));
    ck_assert(!pt_http_hop_by_hop("Authorization", 13));
    ck_assert(pt_http_list_has(" a , X-Foo,b", 12, "x-foo", 5));
    ck_assert(!pt_http_list_has("X-Foobar", 8, "x-foo", 5));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("proxy_http");
    TCase *tc = tcase_create("resp");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parses_the_status_the_fields_and_the_length);
    tcase_add_test(tc, an_incomplete_head_asks_for_more);
    tcase_add_test(tc, http_1_0_closes_unless_it_says_keep_alive);
    tcase_add_test(tc, equal_repeated_lengths_pass_and_differing_ones_are_refused);
    tcase_add_test(tc, rejects_content_length_with_transfer_encoding_and_unknown_codings);
    tcase_add_test(tc, rejects_malformed_lines);
    tcase_add_test(tc, a_head_past_the_bound_is_refused);
    tcase_add_test(tc, values_keep_tabs_and_obs_text_and_lose_their_outer_blanks);
    tcase_add_test(tc, a_nul_or_a_control_byte_in_a_line_says_which);
    tcase_add_test(tc, connection_tokens_are_read_from_the_whole_list);
    tcase_add_test(tc, proxy_bad_header_skips_or_starts_the_body_at_a_line_without_a_colon);
    tcase_add_test(tc, hop_by_hop_names_and_connection_lists);
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
