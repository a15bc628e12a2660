/* net/proxyproto.c: PROXY protocol v1 lines and v2 headers, whole, in pieces, and broken. */
#include "proxyproto.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pt_proxyproto_t pp;
static const char *why;

static pt_proxyproto_result_t parse(const void *p, size_t n)
{
    return pt_proxyproto_parse(p, n, &pp, &why);
}

static pt_proxyproto_result_t parse_str(const char *s)
{
    return parse(s, strlen(s));
}

static const char *ip_of(const struct sockaddr_storage *ss, int *port)
{
    static char buf[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        *port = ntohs(in->sin_port);
        return inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    *port = ntohs(in6->sin6_port);
    return inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
}

static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* A v2 header: version/command byte, family/protocol byte, then alen address bytes. */
static size_t v2(uint8_t *buf, uint8_t vc, uint8_t fp, const uint8_t *addr, size_t alen)
{
    memcpy(buf, sig, 12);
    buf[12] = vc;
    buf[13] = fp;
    buf[14] = (uint8_t)(alen >> 8);
    buf[15] = (uint8_t)alen;
    if (alen)
        memcpy(buf + 16, addr, alen);
    return 16 + alen;
}

START_TEST(v1_tcp4_names_the_client_and_what_follows_is_not_consumed)
{
    const char *s = "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\nGET / HTTP/1.1\r\n";
    ck_assert_int_eq(parse_str(s), PT_PROXYPROTO_DONE);
    ck_assert_int_eq(pp.version, 1);
    ck_assert(!pp.local);
    ck_assert_uint_eq(pp.len, strlen("PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n"));
    int port = 0;
    ck_assert_str_eq(ip_of(&pp.src, &port), "203.0.113.7");
    ck_assert_int_eq(port, 56324);
    ck_assert_str_eq(ip_of(&pp.dst, &port), "192.0.2.1");
    ck_assert_int_eq(port, 443);
}
END_TEST

START_TEST(v1_tcp6_and_unknown_are_understood)
{
    ck_assert_int_eq(parse_str("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n"),
                     PT_PROXYPROTO_DONE);
    int port = 0;
    ck_assert_str_eq(ip_of(&pp.src, &port), "2001:db8::1");
    ck_assert_int_eq(port, 1);
    ck_assert_int_eq(parse_str("PROXY UNKNOWN\r\n"), PT_PROXYPROTO_DONE);
    ck_assert(pp.local);
    ck_assert_uint_eq(pp.len, 15);
    ck_assert_int_eq(parse_str("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), PT_PROXYPROTO_DONE);
    ck_assert(pp.local);
}
END_TEST

START_TEST(v1_in_pieces_asks_for_more_until_the_crlf)
{
    const char *s = "PROXY TCP4 10.1.2.3 10.0.0.1 1000 80\r\n";
    size_t n = strlen(s);
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(parse(s, k) == PT_PROXYPROTO_AGAIN, "at %zu: %s", k, why ? why : "");
    ck_assert_int_eq(parse(s, n), PT_PROXYPROTO_DONE);
}
END_TEST

START_TEST(v1_malformed_lines_are_refused)
{
    static const char *const bad[] = {
        "PROXY TCP4 203.0.113.7 192.0.2.1 56324\r\n",          /* a field short */
        "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443 9\r\n",    /* one too many */
        "PROXY TCP4 203.0.113.7  192.0.2.1 56324 443\r\n",     /* two spaces */
        "PROXY TCP4 2001:db8::1 192.0.2.1 1 2\r\n",            /* v6 in TCP4 */
        "PROXY TCP6 203.0.113.7 2001:db8::2 1 2\r\n",          /* v4 in TCP6 */
        "PROXY TCP4 203.0.113.7 192.0.2.1 65536 443\r\n",      /* port too big */
        "PROXY TCP4 203.0.113.7 192.0.2.1 080 443\r\n",        /* leading zero */
        "PROXY TCP4 203.0.113.7 192.0.2.1 -1 443\r\n",
        "PROXY TCP4 203.0.113 192.0.2.1 1 443\r\n",
        "PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n",
        "PROXY TCP4 203.0.113.7 192.0.2.1 1 2\n",              /* bare LF */
        "PROXY TCP4 203.0.113.7 192.0.2.1 1 2\rX\n",
        "GET / HTTP/1.1\r\n\r\n",                              /* no header at all */
        "proxy TCP4 203.0.113.7 192.0.2.1 1 2\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(parse_str(bad[i]) == PT_PROXYPROTO_ERROR, "accepted: %s", bad[i]);
        ck_assert_ptr_nonnull(why);
    }
}
END_TEST

START_TEST(v1_longer_than_107_bytes_is_refused_without_a_crlf)
{
    char s[200];
    memset(s, 'x', sizeof(s));
    memcpy(s, "PROXY UNKNOWN ", 14);
    ck_assert_int_eq(parse(s, 106), PT_PROXYPROTO_AGAIN);
    ck_assert_int_eq(parse(s, 107), PT_PROXYPROTO_ERROR);
    ck_assert_int_eq(parse(s, sizeof(s)), PT_PROXYPROTO_ERROR);
    /* Exactly 107 with its CRLF is allowed. */
    s[105] = '\r', s[106] = '\n';
    ck_assert_int_eq(parse(s, 107), PT_PROXYPROTO_DONE);
}
END_TEST

START_TEST(v2_ipv4_and_ipv6_are_read_with_their_tlvs_skipped)
{
    uint8_t buf[128];
    uint8_t a4[12 + 7] = {198, 51, 100, 9, 192, 0, 2, 1, 0xC3, 0x50, 0x01, 0xBB,
                          0x04, 0x00, 0x04, 'v', 'p', 'c', 'e'}; /* + one TLV */
    size_t n = v2(buf, 0x21, 0x11, a4, sizeof(a4));
    buf[n] = 'G'; /* the request starts after it */
    ck_assert_int_eq(parse(buf, n + 1), PT_PROXYPROTO_DONE);
    ck_assert_int_eq(pp.version, 2);
    ck_assert_uint_eq(pp.len, n);
    int port = 0;
    ck_assert_str_eq(ip_of(&pp.src, &port), "198.51.100.9");
    ck_assert_int_eq(port, 50000);
    ck_assert_str_eq(ip_of(&pp.dst, &port), "192.0.2.1");
    ck_assert_int_eq(port, 443);
    uint8_t a6[36] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x05, [16] = 0x20, [17] = 0x01,
                      [31] = 0x06, [32] = 0x00, [33] = 0x50, [34] = 0x00, [35] = 0x51};
    n = v2(buf, 0x21, 0x21, a6, sizeof(a6));
    ck_assert_int_eq(parse(buf, n), PT_PROXYPROTO_DONE);
    ck_assert_str_eq(ip_of(&pp.src, &port), "2001:db8::5");
    ck_assert_int_eq(port, 80);
}
END_TEST

START_TEST(v2_local_unspec_and_unix_keep_the_connections_addresses)
{
    uint8_t buf[300];
    ck_assert_int_eq(parse(buf, v2(buf, 0x20, 0x00, NULL, 0)), PT_PROXYPROTO_DONE);
    ck_assert(pp.local);
    uint8_t a4[12] = {1, 2, 3, 4};
    ck_assert_int_eq(parse(buf, v2(buf, 0x20, 0x11, a4, 12)), PT_PROXYPROTO_DONE);
    ck_assert(pp.local); /* LOCAL: the addresses are ignored */
    ck_assert_int_eq(parse(buf, v2(buf, 0x21, 0x00, NULL, 0)), PT_PROXYPROTO_DONE);
    ck_assert(pp.local);
    uint8_t un[216] = {'/'};
    ck_assert_int_eq(parse(buf, v2(buf, 0x21, 0x31, un, sizeof(un))), PT_PROXYPROTO_DONE);
    ck_assert(pp.local);
}
END_TEST

START_TEST(v2_in_pieces_asks_for_more_until_its_length)
{
    uint8_t buf[64];
    uint8_t a4[12] = {203, 0, 113, 1, 10, 0, 0, 1, 0, 1, 0, 2};
    size_t n = v2(buf, 0x21, 0x11, a4, sizeof(a4));
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(parse(buf, k) == PT_PROXYPROTO_AGAIN, "at %zu", k);
    ck_assert_int_eq(parse(buf, n), PT_PROXYPROTO_DONE);
}
END_TEST

START_TEST(v2_malformed_headers_are_refused)
{
    uint8_t buf[64];
    uint8_t a4[12] = {0};
    ck_assert_int_eq(parse(buf, v2(buf, 0x11, 0x11, a4, 12)), PT_PROXYPROTO_ERROR); /* v1? */
    ck_assert_int_eq(parse(buf, v2(buf, 0x22, 0x11, a4, 12)), PT_PROXYPROTO_ERROR); /* cmd */
    ck_assert_int_eq(parse(buf, v2(buf, 0x21, 0x41, a4, 12)), PT_PROXYPROTO_ERROR); /* fam */
    ck_assert_int_eq(parse(buf, v2(buf, 0x21, 0x13, a4, 12)), PT_PROXYPROTO_ERROR);
    ck_assert_int_eq(parse(buf, v2(buf, 0x21, 0x11, a4, 11)), PT_PROXYPROTO_ERROR); /* short */
    ck_assert_int_eq(parse(buf, v2(buf, 0x21, 0x21, a4, 12)), PT_PROXYPROTO_ERROR);
    /* A length past our bound is refused from the first 16 bytes. */
    v2(buf, 0x21, 0x11, a4, 12);
    buf[14] = 0xFF, buf[15] = 0xFF;
    ck_assert_int_eq(parse(buf, 16), PT_PROXYPROTO_ERROR);
    /* A signature that goes wrong part way. */
    memcpy(buf, sig, 12);
    buf[7] = 'X';
    ck_assert_int_eq(parse(buf, 12), PT_PROXYPROTO_ERROR);
}
END_TEST

START_TEST(nothing_yet_or_a_signature_prefix_waits)
{
    ck_assert_int_eq(parse("", 0), PT_PROXYPROTO_AGAIN);
    ck_assert_int_eq(parse("PRO", 3), PT_PROXYPROTO_AGAIN);
    ck_assert_int_eq(parse(sig, 5), PT_PROXYPROTO_AGAIN);
    ck_assert_int_eq(parse("PRX", 3), PT_PROXYPROTO_ERROR);
    ck_assert_int_eq(parse("\r\n\r\nX", 5), PT_PROXYPROTO_ERROR);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("proxyproto");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, v1_tcp4_names_the_client_and_what_follows_is_not_consumed);
    tcase_add_test(tc, v1_tcp6_and_unknown_are_understood);
    tcase_add_test(tc, v1_in_pieces_asks_for_more_until_the_crlf);
    tcase_add_test(tc, v1_malformed_lines_are_refused);
    tcase_add_test(tc, v1_longer_than_107_bytes_is_refused_without_a_crlf);
    tcase_add_test(tc, v2_ipv4_and_ipv6_are_read_with_their_tlvs_skipped);
    tcase_add_test(tc, v2_local_unspec_and_unix_keep_the_connections_addresses);
    tcase_add_test(tc, v2_in_pieces_asks_for_more_until_its_length);
    tcase_add_test(tc, v2_malformed_headers_are_refused);
    tcase_add_test(tc, nothing_yet_or_a_signature_prefix_waits);
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
