/* Host-name checks for access rules: the double-reverse lookup that keeps a client from
 * claiming a name by its own reverse zone, Apache's label-boundary domain match, and the
 * forward lookup of a named host. */
#include "access_dns.h"

#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

/* The address as 16 bytes, IPv4 in its IPv6-mapped form; false for other families. */
static bool as_v6(const struct sockaddr *sa, uint8_t out[16])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (sa->sa_family == AF_INET6) {
        memcpy(out, ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr, 16);
        return true;
    }
    if (sa->sa_family == AF_INET) {
        memcpy(out, mapped, 12);
        memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return true;
    }
    return false;
}

bool pt_access_addr_equal(const struct sockaddr *x, const struct sockaddr *y)
{
    uint8_t a[16], b[16];
    return x && y && as_v6(x, a) && as_v6(y, b) && memcmp(a, b, 16) == 0;
}

bool pt_access_forward_dns_matches(const char *name, const struct sockaddr *client)
{
    if (!name || !client)
        return false;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(name, NULL, &hints, &res) != 0)
        return false;
    bool found = false;
    for (struct addrinfo *ai = res; ai && !found; ai = ai->ai_next)
        found = pt_access_addr_equal(ai->ai_addr, client);
    freeaddrinfo(res);
    return found;
}

const char *pt_access_remote_host(pt_arena_t *a, const struct sockaddr *client)
{
    if (!client || (client->sa_family != AF_INET && client->sa_family != AF_INET6))
        return NULL;
    socklen_t len = client->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                 : sizeof(struct sockaddr_in6);
    char host[NI_MAXHOST];
    if (getnameinfo(client, len, host, sizeof host, NULL, 0, NI_NAMEREQD) != 0)
        return NULL;
    /* The double-reverse part: the name must lead back to the client. */
    if (!pt_access_forward_dns_matches(host, client))
        return NULL;
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return pt_arena_strdup(a, host);
}

bool pt_access_in_domain(const char *domain, const char *host)
{
    if (!domain || !host)
        return false;
    size_t dl = strlen(domain), hl = strlen(host);
    if (dl == 0 || hl < dl || strcasecmp(domain, host + hl - dl) != 0)
        return false;
    /* A whole label: "good.com" must not admit "nogood.com". */
    return hl == dl || domain[0] == '.' || host[hl - dl - 1] == '.';
}
