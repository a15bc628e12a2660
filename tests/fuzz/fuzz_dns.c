/* libFuzzer harness for portico's DNS answer parser (src/proxy/resolver.c): any message is
 * parsed for A and AAAA of one name without reading outside it, returns only 0 or
 * PT_EINVAL, and yields at most PT_DNS_MAX_ADDRS addresses of the family asked; a query
 * encoded from the input's leading bytes as a name, echoed as an empty answer, parses. */
#include "fuzz.h"
#include "resolver.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static void parse_as(const uint8_t *data, size_t len, uint16_t qtype)
{
    uint16_t id = len >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
    pt_dns_answer_t a;
    int rc = pt_dns_answer_parse(data, len, id, "app.example", qtype, &a);
    CHECK(rc == 0 || rc == PT_EINVAL);
    CHECK(a.naddrs <= PT_DNS_MAX_ADDRS);
    for (size_t i = 0; rc == 0 && i < a.naddrs; i++)
        CHECK(a.addrs[i].family == (qtype == PT_DNS_TYPE_A ? AF_INET : AF_INET6));
}

/* The input's first bytes as a name: encoded, made a response, parsed back. */
static void round_trip(const uint8_t *data, size_t len)
{
    char name[300];
    size_t n = 0;
    while (n < len && n < sizeof(name) - 1 && data[n])
        name[n] = (char)data[n], n++;
    name[n] = '\0';
    uint8_t q[320];
    int ql = pt_dns_query_encode(q, sizeof(q), 0x4242, name, PT_DNS_TYPE_A);
    CHECK(ql < (int)sizeof(q));
    if (ql < 0)
        return;
    q[2] |= 0x80; /* the query echoed as an answer with no records */
    pt_dns_answer_t a;
    CHECK(pt_dns_answer_parse(q, (size_t)ql, 0x4242, name, PT_DNS_TYPE_A, &a) == 0);
    CHECK(a.naddrs == 0 && !a.truncated);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    parse_as(data, len, PT_DNS_TYPE_A);
    parse_as(data, len, PT_DNS_TYPE_AAAA);
    round_trip(data, len);
    return 0;
}
