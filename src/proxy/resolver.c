/* The DNS wire format (RFC 1035): queries encoded, answers parsed (resolver.h). Everything
 * here reads a bounded message and never trusts a length or a pointer in it; the lookup
 * that sends and receives these is resolver_lookup.c. */
#include "resolver.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#define DNS_HEADER 12
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_CLASS_IN 1
#define DNS_NAME_MAX 255
/* Compression pointers followed in one name at most: a loop of pointers ends here. */
#define DNS_MAX_JUMPS 32
/* CNAME records remembered from one answer. */
#define DNS_MAX_CNAME_RECS 16

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int pt_dns_query_encode(uint8_t *out, size_t cap, uint16_t id, const char *name,
                        uint16_t qtype)
{
    size_t nlen = strlen(name);
    if (nlen > 0 && name[nlen - 1] == '.')
        nlen--;
    /* The encoded name is one byte longer than the dotted one, plus the root label. A
     * second final dot would be an empty label (the fuzzer found "a.." sent as "a"). */
    if (nlen == 0 || nlen > DNS_NAME_MAX - 2 || name[nlen - 1] == '.')
        return PT_EINVAL;
    if (cap < DNS_HEADER + nlen + 2 + 4)
        return PT_ETOOBIG;
    memset(out, 0, DNS_HEADER);
    put16(out, id);
    put16(out + 2, DNS_FLAG_RD);
    put16(out + 4, 1);
    size_t o = DNS_HEADER;
    for (size_t i = 0; i < nlen;) {
        size_t j = i;
        while (j < nlen && name[j] != '.')
            j++;
        if (j == i || j - i > 63)
            return PT_EINVAL;
        out[o++] = (uint8_t)(j - i);
        memcpy(out + o, name + i, j - i);
        o += j - i;
        i = j + 1;
    }
    out[o++] = 0;
    put16(out + o, qtype);
    put16(out + o + 2, DNS_CLASS_IN);
    return (int)(o + 4);
}

/* Reads the name at *off (following compression pointers, RFC 1035 4.1.4) into out as a
 * lower-case dotted name, and moves *off past it in the record. 0, or PT_EINVAL. */
static int read_name(const uint8_t *msg, size_t len, size_t *off, char *out)
{
    size_t p = *off, o = 0, end = 0;
    int jumps = 0;
    for (;;) {
        if (p >= len)
            return PT_EINVAL;
        unsigned b = msg[p];
        if ((b & 0xC0) == 0xC0) {
            if (p + 1 >= len || ++jumps > DNS_MAX_JUMPS)
                return PT_EINVAL;
            if (!end)
                end = p + 2;
            p = (b & 0x3F) << 8 | msg[p + 1];
            continue;
        }
        if (b & 0xC0)
            return PT_EINVAL; /* the extended label types are not used in answers */
        p++;
        if (b == 0)
            break;
        if (p + b > len || o + b + 1 > DNS_NAME_MAX)
            return PT_EINVAL;
        if (o)
            out[o++] = '.';
        for (unsigned i = 0; i < b; i++)
            out[o++] = (char)tolower(msg[p + i]);
        p += b;
    }
    out[o] = '\0';
    *off = end ? end : p;
    return 0;
}

/* A name as asked, compared without case and without a final dot. */
static bool name_is(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la && a[la - 1] == '.')
        la--;
    if (lb && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* The answer section's records, read once, then sorted out by the chain. */
typedef struct {
    char owner[DNS_NAME_MAX + 1];
    char target[DNS_NAME_MAX + 1];
} cname_rec_t;

typedef struct {
    size_t ncnames;
    cname_rec_t cnames[DNS_MAX_CNAME_RECS];
    size_t naddrs;
    pt_dns_addr_t addrs[PT_DNS_MAX_ADDRS];
    char owners[PT_DNS_MAX_ADDRS][DNS_NAME_MAX + 1];
} records_t;

/* One resource record at *off: a CNAME or an address of qtype is kept in rs, anything
 * else skipped. 0, or PT_EINVAL. */
static int read_record(const uint8_t *msg, size_t len, size_t *off, uint16_t qtype,
                       records_t *rs)
{
    char owner[DNS_NAME_MAX + 1];
    if (read_name(msg, len, off, owner) < 0 || *off + 10 > len)
        return PT_EINVAL;
    const uint8_t *h = msg + *off;
    unsigned type = get16(h), cls = get16(h + 2), rdlen = get16(h + 8);
    uint32_t ttl = get32(h + 4);
    size_t rd = *off + 10;
    if (rd + rdlen > len)
        return PT_EINVAL;
    *off = rd + rdlen;
    if (cls != DNS_CLASS_IN)
        return 0;
    if (type == PT_DNS_TYPE_CNAME && rs->ncnames < DNS_MAX_CNAME_RECS) {
        cname_rec_t *c = &rs->cnames[rs->ncnames];
        size_t t = rd;
        if (read_name(msg, rd + rdlen, &t, c->target) < 0)
            return PT_EINVAL;
        memcpy(c->owner, owner, sizeof(owner));
        rs->ncnames++;
    } else if (type == qtype && (type == PT_DNS_TYPE_A || type == PT_DNS_TYPE_AAAA)) {
        size_t alen = type == PT_DNS_TYPE_A ? 4 : 16;
        if (rdlen != alen)
            return PT_EINVAL;
        if (rs->naddrs == PT_DNS_MAX_ADDRS)
            return 0;
        pt_dns_addr_t *a = &rs->addrs[rs->naddrs];
        a->family = type == PT_DNS_TYPE_A ? AF_INET : AF_INET6;
        memset(a->addr, 0, sizeof(a->addr));
        memcpy(a->addr, msg + rd, alen);
        /* RFC 2181 8: a TTL with the top bit set is read as zero. */
        a->ttl = ttl & 0x80000000u ? 0 : ttl;
        memcpy(rs->owners[rs->naddrs], owner, sizeof(owner));
        rs->naddrs++;
    }
    return 0;
}

/* Keeps the addresses whose owner is name or a name the CNAME chain from it reaches: a
 * record for any other name in the answer is not the answer to this question. */
static void follow_chain(const records_t *rs, const char *name, pt_dns_answer_t *out)
{
    const char *chain[PT_DNS_MAX_CNAMES + 1] = {name};
    size_t n = 1;
    for (bool grew = true; grew && n <= PT_DNS_MAX_CNAMES;) {
        grew = false;
        for (size_t i = 0; i < rs->ncnames && !grew; i++)
            if (name_is(rs->cnames[i].owner, chain[n - 1])) {
                chain[n++] = rs->cnames[i].target;
                grew = true;
            }
    }
    for (size_t i = 0; i < rs->naddrs; i++)
        for (size_t k = 0; k < n; k++)
            if (name_is(rs->owners[i], chain[k])) {
                out->addrs[out->naddrs++] = rs->addrs[i];
                break;
            }
}

int pt_dns_answer_parse(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                        uint16_t qtype, pt_dns_answer_t *out)
{
    memset(out, 0, sizeof(*out));
    if (len < DNS_HEADER || get16(msg) != id)
        return PT_EINVAL;
    unsigned flags = get16(msg + 2), qd = get16(msg + 4), an = get16(msg + 6);
    if (!(flags & DNS_FLAG_QR) || (flags >> 11 & 0xF) != 0 || qd != 1)
        return PT_EINVAL;
    out->rcode = (int)(flags & 0xF);
    out->truncated = flags & DNS_FLAG_TC;
    size_t off = DNS_HEADER;
    char qname[DNS_NAME_MAX + 1];
    if (read_name(msg, len, &off, qname) < 0 || off + 4 > len || !name_is(qname, name) ||
        get16(msg + off) != qtype || get16(msg + off + 2) != DNS_CLASS_IN)
        return PT_EINVAL;
    off += 4;
    if (out->truncated)
        return 0; /* what follows may be cut anywhere: the caller asks again over TCP */
    records_t *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return -ENOMEM;
    int rc = 0;
    for (unsigned i = 0; i < an && rc == 0; i++)
        rc = read_record(msg, len, &off, qtype, rs);
    if (rc == 0)
        follow_chain(rs, name, out);
    free(rs);
    return rc;
}

/* ---- Where the resolver is -------------------------------------------------------------- */

int pt_dns_server_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
    char host[64];
    const char *port = NULL;
    if (*s == '[') {
        const char *e = strchr(s, ']');
        if (!e || (size_t)(e - s - 1) >= sizeof(host))
            return -1;
        memcpy(host, s + 1, (size_t)(e - s - 1));
        host[e - s - 1] = '\0';
        if (e[1] == ':')
            port = e + 2;
        else if (e[1])
            return -1;
    } else {
        const char *c = strchr(s, ':');
        bool v6 = c && strchr(c + 1, ':'); /* a bare IPv6 address has no port */
        size_t hl = c && !v6 ? (size_t)(c - s) : strlen(s);
        if (hl >= sizeof(host))
            return -1;
        memcpy(host, s, hl);
        host[hl] = '\0';
        port = c && !v6 ? c + 1 : NULL;
    }
    long p = 53;
    if (port) {
        char *end;
        p = strtol(port, &end, 10);
        if (!*port || *end || p < 1 || p > 65535)
            return -1;
    }
    memset(sa, 0, sizeof(*sa));
    struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *v6a = (struct sockaddr_in6 *)sa;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        *len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6a->sin6_addr) == 1) {
        v6a->sin6_family = AF_INET6;
        v6a->sin6_port = htons((uint16_t)p);
        *len = sizeof(*v6a);
    } else {
        return -1;
    }
    return 0;
}

int pt_dns_resolv_conf(const char *path, struct sockaddr_storage *sa, socklen_t *len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[256];
    int rc = -1;
    while (rc != 0 && fgets(line, sizeof(line), f)) {
        char addr[64];
        /* An address with a scope ("fe80::1%eth0") is not for us: the next one is tried. */
        if (sscanf(line, " nameserver %63s", addr) == 1 && !strchr(addr, '%'))
            rc = pt_dns_server_parse(addr, sa, len);
    }
    fclose(f);
    return rc;
}
