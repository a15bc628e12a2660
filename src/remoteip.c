/* mod_remoteip (remoteip.h): the client address from a trusted proxy's header, walked as
 * Apache's remoteip_modify_request walks it, and the PROXY protocol header read at the
 * start of a connection before any protocol sees a byte. */
#include "remoteip.h"

#include "clock.h"
#include "conn.h"
#include "log.h"
#include "proxyproto.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* The address a header entry names, or false when it is not an IP address (Apache would
 * resolve a name here; portico does no DNS on the request path and treats it as bad). */
static bool parse_ip(const char *s, struct sockaddr_storage *ss, char *text, size_t textlen)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, s, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)textlen);
        return true;
    }
    if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        inet_ntop(AF_INET6, &in6->sin6_addr, text, (socklen_t)textlen);
        return true;
    }
    return false;
}

/* What an external (trusted, not internal) proxy may not present as the client: RFC 3330's
 * local and private IPv4 ranges, and any IPv6 address outside global unicast 2000::/3. */
static bool is_private(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const uint8_t *b = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
        return b[0] == 10 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
               (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168);
    }
    const uint8_t *b = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
    return (b[0] & 0xe0) != 0x20;
}

/* The listed proxy that sa is, or NULL. */
static const pt_remoteip_proxy_t *listed(const pt_remoteip_conf_t *cf, const struct sockaddr *sa)
{
    for (size_t i = 0; i < cf->nproxies; i++)
        if (pt_cidr_match(&cf->proxies[i].cidr, sa))
            return &cf->proxies[i];
    return NULL;
}

/* Every field of the header joined with ", ", as Apache's head reader merges repeated fields
 * before mod_remoteip reads one value; NULL when there is none. */
static char *header_value(pt_request_t *r, const char *name)
{
    char *v = NULL;
    for (size_t i = 0; i < r->headers_in.n; i++) {
        const pt_entry_t *e = &r->headers_in.v[i];
        if (strcasecmp(e->name, name) == 0)
            v = v ? pt_arena_printf(r->arena, "%s, %s", v, e->value)
                  : pt_arena_strdup(r->arena, e->value);
    }
    return v;
}

/* The state of one walk: the address trusted so far, and the external proxies passed. */
typedef struct {
    struct sockaddr_storage *addr; /* in the arena; NULL: still the connection's peer */
    const char *ip;
    const char *proxy_ips;         /* external proxies, for RemoteIPProxiesHeader */
} walk_t;

/* Takes the last entry of v[0..*len) when the current address may present it; *len shrinks
 * past it. false: the walk stops here (the entry stays in the header). */
static bool take_one(pt_request_t *r, const pt_remoteip_conf_t *cf, walk_t *w, bool *internal,
                     const char *v, size_t *len)
{
    const struct sockaddr *cur = w->addr ? (const struct sockaddr *)w->addr
                                         : &r->conn->peer.sa;
    if (cf->nproxies) {
        const pt_remoteip_proxy_t *p = listed(cf, cur);
        if (!p)
            return false;
        /* An internal proxy may present an external one, never the reverse. */
        if (*internal)
            *internal = p->internal;
    }
    size_t start = *len;
    while (start > 0 && v[start - 1] != ',')
        start--;
    size_t b = start, e = *len;
    while (b < e && v[b] == ' ')
        b++;
    while (e > b && v[e - 1] == ' ')
        e--;
    char *entry = pt_arena_strndup(r->arena, v + b, e - b);
    struct sockaddr_storage *ss = pt_arena_alloc(r->arena, sizeof(*ss));
    char text[INET6_ADDRSTRLEN];
    if (!*entry || !parse_ip(entry, ss, text, sizeof(text))) {
        pt_log_rerror(PT_LOG_DEBUG, r, "RemoteIP: Header %s value of %s cannot be parsed as "
                      "a client IP", cf->header, entry);
        return false;
    }
    if (!*internal && is_private(ss)) {
        pt_log_rerror(PT_LOG_DEBUG, r, "RemoteIP: Header %s value of %s appears to be a "
                      "private IP or nonsensical.  Ignored", cf->header, entry);
        return false;
    }
    if (!*internal) {
        const char *prev = w->ip ? w->ip : r->conn->peer_ip;
        w->proxy_ips = w->proxy_ips ? pt_arena_printf(r->arena, "%s, %s", w->proxy_ips, prev)
                                    : prev;
    }
    w->addr = ss;
    w->ip = pt_arena_strdup(r->arena, text);
    *len = start > 0 ? start - 1 : 0;
    return true;
}

static PT_NOINLINE void remoteip_apply(pt_request_t *r, const pt_remoteip_conf_t *cf)
{
    char *v = header_value(r, cf->header);
    if (!v)
        return;
    /* With a proxy list, the walk starts as internal (trusted with private addresses) and
     * drops to external at the first RemoteIPTrustedProxy; without one, every peer is an
     * external proxy. */
    bool internal = cf->nproxies > 0;
    walk_t w = {0};
    size_t len = strlen(v);
    bool more = len > 0;
    while (more && take_one(r, cf, &w, &internal, v, &len))
        more = len > 0;
    if (!w.addr)
        return;
    if (more) {
        while (len > 0 && v[len - 1] == ' ')
            len--;
        pt_table_set(&r->headers_in, cf->header, pt_arena_strndup(r->arena, v, len));
    } else {
        pt_table_unset(&r->headers_in, cf->header);
    }
    if (w.proxy_ips && cf->proxies_header)
        pt_table_set(&r->headers_in, cf->proxies_header, w.proxy_ips);
    r->useragent_addr = (const struct sockaddr *)w.addr; /* port 0: not known */
    r->useragent_ip = w.ip;
    pt_log_rerror(PT_LOG_TRACE1, r, w.proxy_ips ? "Using %s as client's IP by proxies %s"
                                                : "Using %s as client's IP by internal "
                                                  "proxies%s", w.ip,
                  w.proxy_ips ? w.proxy_ips : "");
}

void pt_remoteip_apply(pt_request_t *r)
{
    /* A PROXY protocol header decided the client for the whole connection (the peer is
     * already the client it named): the request header is not consulted, as Apache. */
    if (r->conn->via || !r->vhost || !r->vhost->remoteip || !r->vhost->remoteip->header)
        return;
    remoteip_apply(r, r->vhost->remoteip);
}

/* ---- PROXY protocol ------------------------------------------------------------------ */

/* Apache's remoteip_sockaddr_compat: a wildcard address or port 0 matches any. */
static bool vaddr_matches(const pt_vaddr_t *v, const pt_sockaddr_t *a, int port)
{
    if (v->port != 0 && v->port != port)
        return false;
    if (v->addrlen == 0)
        return true;
    if (v->addr.ss_family != a->sa.sa_family)
        return false;
    if (a->sa.sa_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)&v->addr)->sin_addr, &a->in.sin_addr,
                      4) == 0;
    return memcmp(&((const struct sockaddr_in6 *)&v->addr)->sin6_addr, &a->in6.sin6_addr,
                  16) == 0;
}

static bool vaddr_listed(const pt_vaddr_t *v, size_t n, const pt_conn_t *c)
{
    for (size_t i = 0; i < n; i++)
        if (vaddr_matches(&v[i], &c->local, c->local_port))
            return true;
    return false;
}

bool pt_remoteip_conn_wants(const pt_conn_t *c)
{
    const pt_remoteip_pp_conf_t *pp = c->cfg ? c->cfg->proxy_protocol : NULL;
    if (!pp || !vaddr_listed(pp->on, pp->non, c) || vaddr_listed(pp->off, pp->noff, c))
        return false;
    for (size_t i = 0; i < pp->nexceptions; i++)
        if (pt_cidr_match(&pp->exceptions[i], &c->peer.sa))
            return false;
    return true;
}

/* The client the header named becomes the connection's peer; the balancer it came through
 * is kept in c->via (%{c}a). LOCAL and UNKNOWN keep the peer. */
static int adopt(pt_conn_t *c, const pt_proxyproto_t *pp)
{
    c->via = malloc(sizeof(*c->via));
    if (!c->via)
        return -1;
    c->via->addr = c->peer;
    memcpy(c->via->ip, c->peer_ip, sizeof(c->via->ip));
    c->via->port = c->peer_port;
    if (pp->local)
        return 0;
    if (pp->src.ss_family == AF_INET) {
        memcpy(&c->peer.in, &pp->src, sizeof(c->peer.in));
        inet_ntop(AF_INET, &c->peer.in.sin_addr, c->peer_ip, sizeof(c->peer_ip));
        c->peer_port = ntohs(c->peer.in.sin_port);
    } else {
        memcpy(&c->peer.in6, &pp->src, sizeof(c->peer.in6));
        inet_ntop(AF_INET6, &c->peer.in6.sin6_addr, c->peer_ip, sizeof(c->peer_ip));
        c->peer_port = ntohs(c->peer.in6.sin6_port);
    }
    return 0;
}

/* The header is parsed from the connection's buffer: what follows it (the first request)
 * stays there for the protocol, whose head timeout starts now. */
static int conn_parsed(pt_conn_t *c, const pt_proxyproto_t *pp)
{
    char via[46];
    memcpy(via, c->peer_ip, sizeof(via));
    if (adopt(c, pp) < 0)
        return -1;
    c->rpos += pp->len;
    c->head_bytes = c->rlen - c->rpos;
    c->head_start_ms = c->head_bytes ? pt_now_ms() : 0;
    pt_log_error(PT_LOG_DEBUG, via, "RemoteIPProxyProtocol: received valid PROXY v%d "
                 "header: %s:%d", pp->version, c->peer_ip, c->peer_port);
    return 1;
}

int pt_remoteip_conn_start(pt_conn_t *c)
{
    for (;;) {
        if (c->rpos < c->rlen) {
            pt_proxyproto_t pp;
            const char *why = NULL;
            pt_proxyproto_result_t res = pt_proxyproto_parse(
                (const uint8_t *)c->rbuf + c->rpos, c->rlen - c->rpos, &pp, &why);
            if (res == PT_PROXYPROTO_DONE)
                return conn_parsed(c, &pp);
            if (res == PT_PROXYPROTO_ERROR) {
                pt_log_error(PT_LOG_ERR, c->peer_ip, "RemoteIPProxyProtocol: %s: connection "
                             "closed", why);
                return -1;
            }
        }
        bool had = c->rpos < c->rlen;
        long n = pt_conn_read(c, c->rpos + PT_PROXYPROTO_V2_MAX);
        if (n > 0) {
            if (!had)
                c->head_start_ms = pt_now_ms();
            c->head_bytes += (size_t)n;
            continue;
        }
        if (n == PT_EAGAIN)
            return 0;
        if (had)
            pt_log_error(PT_LOG_ERR, c->peer_ip, "RemoteIPProxyProtocol: connection closed "
                         "in the PROXY header");
        return -1;
    }
}

void pt_remoteip_conn_timeout(pt_conn_t *c)
{
    pt_log_error(PT_LOG_ERR, c->peer_ip, "RemoteIPProxyProtocol: PROXY header not received "
                 "in time: connection closed");
}
