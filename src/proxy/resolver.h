/* portico's own DNS client, for balancer members that follow the network (resolve=N): the
 * wire format (a query encoded, an answer parsed with its compression pointers, CNAME chain
 * and TTLs) and a lookup of A and AAAA records driven without blocking, over UDP with a
 * fall-back to TCP when an answer comes truncated. The parent's tick drives lookups
 * (hcheck.h), so nothing here waits: the caller polls the lookup's fd. */
#ifndef PT_RESOLVER_H
#define PT_RESOLVER_H

#include "common.h"

#include <sys/socket.h>

#define PT_DNS_TYPE_A 1
#define PT_DNS_TYPE_CNAME 5
#define PT_DNS_TYPE_AAAA 28
#define PT_DNS_RCODE_NXDOMAIN 3
/* Addresses kept from one answer (and one lookup): more members than this for one name
 * would be a configuration to write out by hand. */
#define PT_DNS_MAX_ADDRS 32
/* A UDP answer without EDNS is at most 512 bytes (RFC 1035 4.2.1); a longer one comes
 * truncated and is asked again over TCP. */
#define PT_DNS_UDP_MAX 512
/* CNAMEs followed from the name asked to the addresses, at most. */
#define PT_DNS_MAX_CNAMES 8

/* One address from an answer. */
typedef struct {
    int family;            /* AF_INET or AF_INET6 */
    uint8_t addr[16];      /* 4 bytes for AF_INET */
    uint32_t ttl;          /* seconds */
} pt_dns_addr_t;

/* What an answer said (value type, no pointers). */
typedef struct {
    int rcode;             /* 0 NOERROR, 3 NXDOMAIN, ... */
    bool truncated;        /* TC: ask again over TCP */
    size_t naddrs;
    pt_dns_addr_t addrs[PT_DNS_MAX_ADDRS];
} pt_dns_answer_t;

/* Encodes a recursive query for name (dotted, a final dot allowed) and qtype into out:
 * its length, or PT_EINVAL (a bad name) / PT_ETOOBIG (cap too small). */
int pt_dns_query_encode(uint8_t *out, size_t cap, uint16_t id, const char *name,
                        uint16_t qtype);
/* Parses an answer to the query (id, name, qtype): its addresses of qtype that belong to
 * name or to a name its CNAME chain leads to. 0, or PT_EINVAL when the message is malformed
 * or answers another question (a stray or spoofed datagram). */
int pt_dns_answer_parse(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                        uint16_t qtype, pt_dns_answer_t *out);
/* The first nameserver of a resolv.conf file, port 53, into sa: 0, or -1 when none. */
int pt_dns_resolv_conf(const char *path, struct sockaddr_storage *sa, socklen_t *len);
/* "ADDR:PORT", "[v6]:PORT" or "ADDR" (port 53) into sa: 0, or -1. */
int pt_dns_server_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len);

/* ---- A lookup (A and AAAA for one name) ------------------------------------------------- */

/* Owns its socket and buffers; made and driven by one thread. */
typedef struct pt_dns_lookup pt_dns_lookup_t;

/* Starts asking server for name's A and AAAA records, the whole lookup bounded by
 * timeout_ms. NULL when memory or a socket runs out (errno says). */
pt_dns_lookup_t *pt_dns_lookup_start(const struct sockaddr *server, socklen_t slen,
                                     const char *name, int64_t now_ms, int64_t timeout_ms);
/* The fd to poll and the events to wait for (POLLIN or POLLOUT); -1 when done. */
int pt_dns_lookup_fd(const pt_dns_lookup_t *lk, short *events);
/* The deadline of the lookup (monotonic ms): when to step it even without an event. */
int64_t pt_dns_lookup_deadline(const pt_dns_lookup_t *lk);
/* Moves the lookup on after its fd was ready (or its deadline passed): 0 while it is in
 * progress, 1 when done (pt_dns_lookup_result), or a negative code when it failed
 * (PT_ETIMEOUT, PT_EINVAL for a server answering nonsense, -errno, or PT_ECLOSED for a
 * SERVFAIL or refusal). */
int pt_dns_lookup_step(pt_dns_lookup_t *lk, int64_t now_ms);
/* The addresses found (A then AAAA), after step returned 1; rcode NXDOMAIN when the name
 * does not exist. */
const pt_dns_answer_t *pt_dns_lookup_result(const pt_dns_lookup_t *lk);
/* Closes the socket and frees the lookup (NULL is fine). */
void pt_dns_lookup_free(pt_dns_lookup_t *lk);

#endif
