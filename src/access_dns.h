/* The name lookups behind host-based access rules: Apache's double-reverse lookup of the
 * client (mod_access_compat's "Allow from example.com", mod_authz_host's "Require host") and
 * the forward lookup of "Require forward-dns". They block on the resolver, as Apache's do, and
 * run only when a rule that needs them is reached. */
#ifndef PT_ACCESS_DNS_H
#define PT_ACCESS_DNS_H

#include "arena.h"

#include <stdbool.h>
#include <sys/socket.h>

/* The client's host name when its reverse lookup gives a name whose forward lookup includes
 * the client's address again (lower case, in a); NULL otherwise, or when client is NULL. */
const char *pt_access_remote_host(pt_arena_t *a, const struct sockaddr *client);
/* Apache's in_domain: host ends with domain at a label boundary, case-insensitively
 * ("example.com" matches "www.example.com" and "example.com", not "badexample.com"). */
bool pt_access_in_domain(const char *domain, const char *host);
/* One of name's addresses is the client's (an IPv4 client seen as ::ffff:a.b.c.d included). */
bool pt_access_forward_dns_matches(const char *name, const struct sockaddr *client);
/* Two addresses are equal, IPv4 and its IPv6-mapped form alike. */
bool pt_access_addr_equal(const struct sockaddr *x, const struct sockaddr *y);

#endif
