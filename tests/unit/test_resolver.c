/* portico's DNS client (proxy/resolver.c, resolver_lookup.c): the query encoder, the answer
 * parser on hand-built messages (compression pointers, CNAME chains, TTLs, truncation,
 * hostile lengths and pointer loops), the resolver address, and whole lookups against the
 * tests' DNS server (tests/support/dns_server.c) over UDP and, for truncated answers, TCP. */
#include "resolver.h"

#include "dns_server.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- Hand-built messages --------------------------------------------------------------- */

typedef struct {
    uint8_t b[1024];
    size_t n;
} msg_t;

static void u8(msg_t *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}

static void u16(msg_t *m, unsigned v)
{
    u8(m, v >> 8);
    u8(m, v & 0xFF);
}

static void u32(msg_t *m, uint32_t v)
{
    u16(m, v >> 16);
    u16(m, v & 0xFFFF);
}

static void name(msg_t *m, const char *dotted)
{
    const char *p = dotted;
    while (*p) {
        const char *d = strchr(p, '.');
        size_t l = d ? (size_t)(d - p) : strlen(p);
        u8(m, (unsigned)l);
        memcpy(m->b + m->n, p, l);
        m->n += l;
        p += l + (d ? 1 : 0);
    }
    u8(m, 0);
}

/* A response header and the question (qname at offset 12). */
static void head(msg_t *m, unsigned id, unsigned flags, unsigned an, const char *q,
                 unsigned qtype)
{
    m->n = 0;
    u16(m, id);
    u16(m, 0x8180 | flags);
    u16(m, 1);
    u16(m, an);
    u16(m, 0);
    u16(m, 0);
    name(m, q);
    u16(m, qtype);
    u16(m, 1);
}

static void rr_a(msg_t *m, unsigned owner_ptr, uint32_t ttl, const char *ip)
{
    u16(m, 0xC000 | owner_ptr);
    u16(m, 1);
    u16(m, 1);
    u32(m, ttl);
    u16(m, 4);
    inet_pton(AF_INET, ip, m->b + m->n);
    m->n += 4;
}

static char *ip_of(const pt_dns_addr_t *a, char *buf)
{
    inet_ntop(a->family, a->addr, buf, INET6_ADDRSTRLEN);
    return buf;
}

START_TEST(a_query_is_encoded_as_rfc_1035_says)
{
    uint8_t q[300];
    int n = pt_dns_query_encode(q, sizeof(q), 0x1234, "App.Internal.", PT_DNS_TYPE_AAAA);
    static const uint8_t want[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                   3, 'A', 'p', 'p', 8, 'I', 'n', 't', 'e', 'r', 'n', 'a', 'l', 0,
                                   0, 28, 0, 1};
    ck_assert_int_eq(n, (int)sizeof(want));
    ck_assert_mem_eq(q, want, sizeof(want));
}
END_TEST

START_TEST(bad_names_are_refused_by_the_encoder)
{
    uint8_t q[600];
    char longlabel[80];
    memset(longlabel, 'a', 64);
    longlabel[64] = '\0';
    ck_assert_int_eq(pt_dns_query_encode(q, sizeof(q), 1, "", 1), PT_EINVAL);
    ck_assert_int_eq(pt_dns_query_encode(q, sizeof(q), 1, "a..b", 1), PT_EINVAL);
    ck_assert_int_eq(pt_dns_query_encode(q, sizeof(q), 1, "a..", 1), PT_EINVAL);
    ck_assert_int_eq(pt_dns_query_encode(q, sizeof(q), 1, ".", 1), PT_EINVAL);
    ck_assert_int_eq(pt_dns_query_encode(q, sizeof(q), 1, longlabel, 1), PT_EINVAL);
    ck_assert_int_eq(pt_dns_query_encode(q, 10, 1, "a.b", 1), PT_ETOOBIG);
}
END_TEST

START_TEST(addresses_and_their_ttls_are_read_through_compression_pointers)
{
    msg_t m;
    head(&m, 7, 0, 2, "app.example", 1);
    rr_a(&m, 12, 30, "10.0.0.1");
    rr_a(&m, 12, 0x80000001u, "10.0.0.2"); /* top bit set: read as 0 */
    pt_dns_answer_t a;
    char ip[64];
    ck_assert_int_eq(pt_dns_answer_parse(m.b, m.n, 7, "APP.example.", 1, &a), 0);
    ck_assert_int_eq((int)a.naddrs, 2);
    ck_assert_str_eq(ip_of(&a.addrs[0], ip), "10.0.0.1");
    ck_assert_uint_eq(a.addrs[0].ttl, 30);
    ck_assert_str_eq(ip_of(&a.addrs[1], ip), "10.0.0.2");
    ck_assert_uint_eq(a.addrs[1].ttl, 0);
}
END_TEST

START_TEST(a_cname_chain_leads_to_the_addresses_and_strangers_are_dropped)
{
    msg_t m;
    head(&m, 9, 0, 4, "www.example", 1);
    /* www.example CNAME lb.example (the target written in full), lb CNAME pool.lb (its
     * owner a pointer to the target, its target a label then a pointer), then an A record
     * for pool.lb.example and one for an unrelated name. */
    u16(&m, 0xC00C);
    u16(&m, 5);
    u16(&m, 1);
    u32(&m, 60);
    size_t lbpos = m.n + 2;
    u16(&m, 12);
    name(&m, "lb.example");
    u16(&m, 0xC000 | (unsigned)lbpos);
    u16(&m, 5);
    u16(&m, 1);
    u32(&m, 60);
    u16(&m, 7);
    size_t poolpos = m.n;
    u8(&m, 4);
    memcpy(m.b + m.n, "pool", 4);
    m.n += 4;
    u16(&m, 0xC000 | (unsigned)lbpos);
    rr_a(&m, (unsigned)poolpos, 5, "10.1.1.1");
    u16(&m, 0xC000 | ((unsigned)lbpos + 3)); /* "example": not in the chain */
    u16(&m, 1);
    u16(&m, 1);
    u32(&m, 5);
    u16(&m, 4);
    u32(&m, 0x0A090909);
    pt_dns_answer_t a;
    char ip[64];
    ck_assert_int_eq(pt_dns_answer_parse(m.b, m.n, 9, "www.example", 1, &a), 0);
    ck_assert_int_eq((int)a.naddrs, 1);
    ck_assert_str_eq(ip_of(&a.addrs[0], ip), "10.1.1.1");
}
END_TEST

START_TEST(an_answer_to_another_question_is_refused)
{
    msg_t m;
    head(&m, 7, 0, 1, "app.example", 1);
    rr_a(&m, 12, 30, "10.0.0.1");
    pt_dns_answer_t a;
    ck_assert_int_eq(pt_dns_answer_parse(m.b, m.n, 8, "app.example", 1, &a), PT_EINVAL);
    ck_assert_int_eq(pt_dns_answer_parse(m.b, m.n, 7, "other.example", 1, &a), PT_EINVAL);
    ck_assert_int_eq(pt_dns_answer_parse(m.b, m.n, 7, "app.example", 28, &a), PT_EINVAL);
    m.b[2] &= 0x7F; /* a query, not a response */
    ck_assert_int_eq(pt_dns_answer_parse(m.b, m.n, 7, "app.example", 1, &a), PT_EINVAL);
}
END_TEST

START_TEST(truncation_and_nxdomain_are_reported)
{
    msg_t m;
    head(&m, 7, 0x0200, 0, "app.example", 1);
    pt_dns_answer_t a;
    ck_assert_int_eq(pt_dns_answer_parse(m.b, m.n, 7, "app.example", 1, &a), 0);
    ck_assert(a.truncated);
    head(&m, 7, 3, 0, "app.example", 1);
    ck_assert_int_eq(pt_dns_answer_parse(m.b, m.n, 7, "app.example", 1, &a), 0);
    ck_assert(!a.truncated);
    ck_assert_int_eq(a.rcode, PT_DNS_RCODE_NXDOMAIN);
    ck_assert_int_eq((int)a.naddrs, 0);
}
END_TEST

START_TEST(hostile_lengths_and_pointer_loops_are_malformed)
{
    msg_t m;
    pt_dns_answer_t a;
    head(&m, 7, 0, 1, "app.example", 1);
    rr_a(&m, 12, 30, "10.0.0.1");
    for (size_t cut = 0; cut < m.n; cut++) /* every truncation of a valid message */
        ck_assert_int_eq(pt_dns_answer_parse(m.b, cut, 7, "app.example", 1, &a), PT_EINVAL);
    head(&m, 7, 0, 1, "app.example", 1);
    size_t self = m.n;
    u16(&m, 0xC000 | (unsigned)self); /* a pointer to itself */
    u16(&m, 1);
    u16(&m, 1);
    u32(&m, 1);
    u16(&m, 4);
    u32(&m, 0);
    ck_assert_int_eq(pt_dns_answer_parse(m.b, m.n, 7, "app.example", 1, &a), PT_EINVAL);
    head(&m, 7, 0, 1, "app.example", 1);
    rr_a(&m, 12, 30, "10.0.0.1");
    m.b[m.n - 5] = 5; /* rdlength 5 for an A record */
    ck_assert_int_eq(pt_dns_answer_parse(m.b, m.n, 7, "app.example", 1, &a), PT_EINVAL);
}
END_TEST

START_TEST(the_resolver_address_comes_from_resolv_conf_or_addr_port)
{
    char path[] = "/tmp/ptresolvXXXXXX";
    int fd = mkstemp(path);
    const char *text = "# comment\nsearch example\nnameserver fe80::1%eth0\n"
                       "nameserver 192.0.2.53\nnameserver 192.0.2.54\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    struct sockaddr_storage sa;
    socklen_t len;
    ck_assert_int_eq(pt_dns_resolv_conf(path, &sa, &len), 0);
    unlink(path);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&sa;
    ck_assert_int_eq(v4->sin_family, AF_INET);
    ck_assert_int_eq(ntohs(v4->sin_port), 53);
    ck_assert_uint_eq(ntohl(v4->sin_addr.s_addr), 0xC0000235u);
    ck_assert_int_eq(pt_dns_server_parse("127.0.0.1:5353", &sa, &len), 0);
    ck_assert_int_eq(ntohs(v4->sin_port), 5353);
    ck_assert_int_eq(pt_dns_server_parse("[::1]:54", &sa, &len), 0);
    ck_assert_int_eq(((struct sockaddr_in6 *)&sa)->sin6_family, AF_INET6);
    ck_assert_int_eq(ntohs(((struct sockaddr_in6 *)&sa)->sin6_port), 54);
    ck_assert_int_eq(pt_dns_server_parse("::1", &sa, &len), 0);
    ck_assert_int_eq(pt_dns_server_parse("dns.example:53", &sa, &len), -1);
    ck_assert_int_eq(pt_dns_server_parse("127.0.0.1:0", &sa, &len), -1);
    ck_assert_int_eq(pt_dns_resolv_conf("/nonexistent/resolv.conf", &sa, &len), -1);
}
END_TEST

/* ---- Whole lookups against the tests' server ----------------------------------------- */

static pth_dns_t *srv;

static void setup(void)
{
    srv = pth_dns_start();
    ck_assert_ptr_nonnull(srv);
}

static void teardown(void)
{
    pth_dns_stop(srv);
    srv = NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs a lookup to its end as the parent's tick would: poll, step. */
static int lookup(const char *host, int port, int64_t timeout_ms, pt_dns_answer_t *out)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    pt_dns_lookup_t *lk = pt_dns_lookup_start((struct sockaddr *)&sa, sizeof(sa), host,
                                              now_ms(), timeout_ms);
    ck_assert_ptr_nonnull(lk);
    int rc = 0;
    while (rc == 0) {
        short ev = 0;
        struct pollfd pf = {.fd = pt_dns_lookup_fd(lk, &ev)};
        pf.events = ev;
        int64_t wait = pt_dns_lookup_deadline(lk) - now_ms();
        poll(&pf, 1, (int)(wait < 0 ? 0 : wait));
        rc = pt_dns_lookup_step(lk, now_ms());
    }
    if (rc == 1)
        *out = *pt_dns_lookup_result(lk);
    pt_dns_lookup_free(lk);
    return rc;
}

static bool has(const pt_dns_answer_t *a, const char *ip)
{
    char buf[64];
    for (size_t i = 0; i < a->naddrs; i++)
        if (strcmp(ip_of(&a->addrs[i], buf), ip) == 0)
            return true;
    return false;
}

START_TEST(a_lookup_returns_a_and_aaaa_records)
{
    pth_dns_set(srv, "app.test", "127.0.0.2 127.0.0.3 ::1", 30);
    pt_dns_answer_t a;
    ck_assert_int_eq(lookup("app.test", pth_dns_port(srv), 3000, &a), 1);
    ck_assert_int_eq((int)a.naddrs, 3);
    ck_assert(has(&a, "127.0.0.2") && has(&a, "127.0.0.3") && has(&a, "::1"));
    ck_assert_int_eq(a.addrs[0].family, AF_INET); /* A first */
    ck_assert_uint_eq(a.addrs[0].ttl, 30);
    ck_assert_uint_eq(pth_dns_tcp_queries(srv), 0);
}
END_TEST

START_TEST(a_lookup_follows_a_cname_and_sees_changes)
{
    pth_dns_set_cname(srv, "svc.test", "pods.test");
    pth_dns_set(srv, "pods.test", "127.0.0.5", 5);
    pt_dns_answer_t a;
    ck_assert_int_eq(lookup("svc.test", pth_dns_port(srv), 3000, &a), 1);
    ck_assert_int_eq((int)a.naddrs, 1);
    ck_assert(has(&a, "127.0.0.5"));
    pth_dns_set(srv, "pods.test", "127.0.0.6 127.0.0.7", 5);
    ck_assert_int_eq(lookup("svc.test", pth_dns_port(srv), 3000, &a), 1);
    ck_assert_int_eq((int)a.naddrs, 2);
    ck_assert(has(&a, "127.0.0.6") && has(&a, "127.0.0.7"));
}
END_TEST

START_TEST(a_truncated_answer_is_asked_again_over_tcp)
{
    char many[1024] = "";
    for (int i = 1; i <= 31; i++) /* 31 A records: past 512 bytes */
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "127.0.1.%d ", i);
    pth_dns_set(srv, "big.test", many, 30);
    pt_dns_answer_t a;
    ck_assert_int_eq(lookup("big.test", pth_dns_port(srv), 3000, &a), 1);
    ck_assert_int_eq((int)a.naddrs, 31);
    ck_assert(has(&a, "127.0.1.31"));
    ck_assert_uint_ge(pth_dns_tcp_queries(srv), 1);
    pth_dns_force_truncation(srv, true);
    pth_dns_set(srv, "small.test", "127.0.0.9", 30);
    ck_assert_int_eq(lookup("small.test", pth_dns_port(srv), 3000, &a), 1);
    ck_assert(has(&a, "127.0.0.9"));
}
END_TEST

START_TEST(an_unknown_name_is_nxdomain_and_a_silent_server_times_out)
{
    pt_dns_answer_t a;
    ck_assert_int_eq(lookup("nothing.test", pth_dns_port(srv), 3000, &a), 1);
    ck_assert_int_eq(a.rcode, PT_DNS_RCODE_NXDOMAIN);
    ck_assert_int_eq((int)a.naddrs, 0);
    /* A UDP socket bound but never read: queries vanish, the lookup ends at its deadline. */
    int mute = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    ck_assert_int_eq(bind(mute, (struct sockaddr *)&sa, sizeof(sa)), 0);
    getsockname(mute, (struct sockaddr *)&sa, &sl);
    int64_t t0 = now_ms();
    ck_assert_int_eq(lookup("app.test", ntohs(sa.sin_port), 300, &a), PT_ETIMEOUT);
    ck_assert_int_lt(now_ms() - t0, 2000);
    close(mute);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("resolver");
    TCase *wire = tcase_create("wire");
    tcase_add_test(wire, a_query_is_encoded_as_rfc_1035_says);
    tcase_add_test(wire, bad_names_are_refused_by_the_encoder);
    tcase_add_test(wire, addresses_and_their_ttls_are_read_through_compression_pointers);
    tcase_add_test(wire, a_cname_chain_leads_to_the_addresses_and_strangers_are_dropped);
    tcase_add_test(wire, an_answer_to_another_question_is_refused);
    tcase_add_test(wire, truncation_and_nxdomain_are_reported);
    tcase_add_test(wire, hostile_lengths_and_pointer_loops_are_malformed);
    tcase_add_test(wire, the_resolver_address_comes_from_resolv_conf_or_addr_port);
    suite_add_tcase(s, wire);
    TCase *lk = tcase_create("lookup");
    tcase_add_checked_fixture(lk, setup, teardown);
    tcase_set_timeout(lk, 20);
    tcase_add_test(lk, a_lookup_returns_a_and_aaaa_records);
    tcase_add_test(lk, a_lookup_follows_a_cname_and_sees_changes);
    tcase_add_test(lk, a_truncated_answer_is_asked_again_over_tcp);
    tcase_add_test(lk, an_unknown_name_is_nxdomain_and_a_silent_server_times_out);
    suite_add_tcase(s, lk);
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
