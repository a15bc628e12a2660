/* A tiny DNS server for the tests: a thread of the test process answering on 127.0.0.1 (UDP
 * and TCP on one port) from a table of records that the test changes while portico runs,
 * so that members of a resolve= balancer appear and disappear during a test. Answers over
 * UDP longer than 512 bytes go out truncated (TC), as a real server's, and can be forced to. */
#ifndef PTH_DNS_SERVER_H
#define PTH_DNS_SERVER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct pth_dns pth_dns_t;

/* Starts the server on a free loopback port; NULL on failure (errno). */
pth_dns_t *pth_dns_start(void);
/* Stops the thread, closes the sockets, frees srv (NULL is fine). */
void pth_dns_stop(pth_dns_t *srv);
int pth_dns_port(const pth_dns_t *srv);
/* name's addresses from now on: a space-separated list of IPv4 and IPv6 literals ("" for
 * none: NOERROR without an answer). Replaces what name had (a CNAME too). */
void pth_dns_set(pth_dns_t *srv, const char *name, const char *addrs, uint32_t ttl);
/* name is an alias of target (a CNAME record before target's addresses). */
void pth_dns_set_cname(pth_dns_t *srv, const char *name, const char *target);
/* Every UDP answer truncated (TC, no records): the client must ask over TCP. */
void pth_dns_force_truncation(pth_dns_t *srv, bool on);
/* Queries received so far, over UDP and over TCP. */
unsigned pth_dns_udp_queries(const pth_dns_t *srv);
unsigned pth_dns_tcp_queries(const pth_dns_t *srv);

#endif
