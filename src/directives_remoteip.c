/* mod_remoteip's directives: RemoteIPHeader, RemoteIPProxiesHeader, RemoteIPTrustedProxy,
 * RemoteIPInternalProxy and their *List file forms (per server, a virtual host taking the
 * main server's for what it does not set), RemoteIPProxyProtocol and
 * RemoteIPProxyProtocolExceptions (for the whole server, by local address). Registered by
 * startup.c as a conf extension; read by remoteip.c. */
#include "directives.h"
#include "remoteip.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>

static pt_remoteip_conf_t *server_conf(dcx_t *l, pt_vhost_t *vh)
{
    if (!vh->remoteip)
        vh->remoteip = pt_arena_calloc(l->a, sizeof(pt_remoteip_conf_t));
    return (pt_remoteip_conf_t *)vh->remoteip; /* made here, by this extension */
}

static pt_remoteip_pp_conf_t *pp_conf(dcx_t *l)
{
    if (!l->cfg->proxy_protocol)
        l->cfg->proxy_protocol = pt_arena_calloc(l->a, sizeof(pt_remoteip_pp_conf_t));
    return (pt_remoteip_pp_conf_t *)l->cfg->proxy_protocol;
}

static int set_header(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    server_conf(l, s->vh)->header = n->argv[0];
    return 0;
}

static int set_proxies_header(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    server_conf(l, s->vh)->proxies_header = n->argv[0];
    return 0;
}

static void push_proxy(dcx_t *l, pt_remoteip_conf_t *cf, const pt_cidr_t *c, bool internal)
{
    pt_remoteip_proxy_t *p = pt_dcx_push(l->a, &cf->proxies, &cf->nproxies, sizeof(*p));
    p->cidr = *c;
    p->internal = internal;
}

/* Apache's looks_like_ip: a ':' or only digits and dots. */
static bool looks_like_ip(const char *s)
{
    if (strchr(s, ':'))
        return true;
    s += strspn(s, "0123456789.");
    return *s == '\0' || *s == '/';
}

/* One address, subnet or host name (each of its addresses, resolved now, as Apache). */
static int add_proxy(dcx_t *l, const pt_node_t *n, pt_remoteip_conf_t *cf, const char *arg,
                     bool internal)
{
    pt_cidr_t c;
    if (looks_like_ip(arg)) {
        if (pt_cidr_parse(arg, &c) != 0)
            return pt_dcx_fail(l, n, "RemoteIP: Error parsing IP %s for %s", arg, n->name);
        push_proxy(l, cf, &c, internal);
        return 0;
    }
    if (strchr(arg, '/'))
        return pt_dcx_fail(l, n, "RemoteIP: Error parsing IP %s the subnet is invalid for %s",
                           arg, n->name);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(arg, NULL, &hints, &res);
    if (rc != 0)
        return pt_dcx_fail(l, n, "RemoteIP: Error parsing IP %s (%s) for %s", arg,
                           gai_strerror(rc), n->name);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN];
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof(text), NULL, 0,
                        NI_NUMERICHOST) == 0 && pt_cidr_parse(text, &c) == 0)
            push_proxy(l, cf, &c, internal);
    }
    freeaddrinfo(res);
    return 0;
}

static int add_proxies(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, bool internal)
{
    pt_remoteip_conf_t *cf = server_conf(l, s->vh);
    for (int i = 0; i < n->argc; i++)
        if (add_proxy(l, n, cf, n->argv[i], internal) < 0)
            return -1;
    return 0;
}

static int set_trusted(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_proxies(l, s, n, false);
}

static int set_internal(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_proxies(l, s, n, true);
}

/* The *List forms: a file of addresses, any number a line, '#' starting a comment. */
static int read_list(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, bool internal)
{
    const char *file = pt_dcx_path(l, n->argv[0]);
    FILE *f = fopen(file, "r");
    if (!f)
        return pt_dcx_fail(l, n, "%s: Could not open file %s", n->name, file);
    pt_remoteip_conf_t *cf = server_conf(l, s->vh);
    char line[1024];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *save = NULL;
        for (char *w = strtok_r(line, " \t\r\n", &save); w && *w != '#';
             w = strtok_r(NULL, " \t\r\n", &save)) {
            if (add_proxy(l, n, cf, w, internal) < 0) {
                size_t len = strlen(l->err);
                snprintf(l->err + len, l->errlen - len, " at line %d of %s", lineno, file);
                rc = -1;
                break;
            }
        }
    }
    fclose(f);
    return rc;
}

static int set_trusted_list(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return read_list(l, s, n, false);
}

static int set_internal_list(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return read_list(l, s, n, true);
}

/* ---- RemoteIPProxyProtocol --------------------------------------------------------- */

static bool vaddr_equal(const pt_vaddr_t *a, const pt_vaddr_t *b)
{
    return a->port == b->port && a->addrlen == b->addrlen &&
           memcmp(&a->addr, &b->addr, a->addrlen) == 0;
}

static void list_remove(pt_vaddr_t *v, size_t *n, const pt_vaddr_t *a)
{
    for (size_t i = 0; i < *n; i++) {
        if (vaddr_equal(&v[i], a)) {
            memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
            (*n)--;
            return;
        }
    }
}

/* On adds the server's addresses to the enabled list and takes them off the disabled one;
 * Off the reverse (Apache's remoteip_enable_proxy_protocol). The main server, which has no
 * address of its own, stands for every address. */
static int set_proxy_protocol(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    pt_remoteip_pp_conf_t *pp = pp_conf(l);
    static const pt_vaddr_t any = {.addrlen = 0, .port = 0};
    const pt_vaddr_t *addrs = s->vh->naddrs ? s->vh->addrs : &any;
    size_t naddrs = s->vh->naddrs ? s->vh->naddrs : 1;
    for (size_t i = 0; i < naddrs; i++) {
        list_remove(on ? pp->off : pp->on, on ? &pp->noff : &pp->non, &addrs[i]);
        pt_vaddr_t *slot = on ? pt_dcx_push(l->a, &pp->on, &pp->non, sizeof(*slot))
                              : pt_dcx_push(l->a, &pp->off, &pp->noff, sizeof(*slot));
        *slot = addrs[i];
    }
    return 0;
}

static int set_proxy_protocol_exceptions(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    pt_remoteip_pp_conf_t *pp = pp_conf(l);
    for (int i = 0; i < n->argc; i++) {
        pt_cidr_t *c = pt_dcx_push(l->a, &pp->exceptions, &pp->nexceptions, sizeof(*c));
        if (pt_cidr_parse(n->argv[i], c) != 0)
            return pt_dcx_fail(l, n, "ip address '%s' appears to be invalid", n->argv[i]);
    }
    return 0;
}

/* A virtual host takes each setting it does not make from the main server (Apache's
 * merge_remoteip_server_config: the header names and the proxy list, field by field). */
static int finish_remoteip(dcx_t *l)
{
    const pt_remoteip_conf_t *m = l->cfg->main_server->remoteip;
    for (size_t i = 0; m && i < l->cfg->nvhosts; i++) {
        pt_vhost_t *vh = l->cfg->vhosts[i];
        if (!vh->remoteip) {
            vh->remoteip = m;
            continue;
        }
        pt_remoteip_conf_t *cf = (pt_remoteip_conf_t *)vh->remoteip;
        if (!cf->header)
            cf->header = m->header;
        if (!cf->proxies_header)
            cf->proxies_header = m->proxies_header;
        if (!cf->proxies)
            cf->proxies = m->proxies, cf->nproxies = m->nproxies;
    }
    return 0;
}

static const dcx_directive_t remoteip_table[] = {
    {"RemoteIPHeader", SRV, 1, 1, set_header},
    {"RemoteIPProxiesHeader", SRV, 1, 1, set_proxies_header},
    {"RemoteIPTrustedProxy", SRV, 1, NOMAX, set_trusted},
    {"RemoteIPInternalProxy", SRV, 1, NOMAX, set_internal},
    {"RemoteIPTrustedProxyList", SRV, 1, 1, set_trusted_list},
    {"RemoteIPInternalProxyList", SRV, 1, 1, set_internal_list},
    {"RemoteIPProxyProtocol", SRV, 1, 1, set_proxy_protocol},
    {"RemoteIPProxyProtocolExceptions", SRV, 1, NOMAX, set_proxy_protocol_exceptions},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_remoteip_conf = {
    .name = "remoteip",
    .directives = remoteip_table,
    .finish = finish_remoteip,
};
