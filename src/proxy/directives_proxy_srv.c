/* mod_proxy's server directives beyond ProxyPass: ProxyVia, ProxyMaxForwards,
 * ProxyBadHeader, ProxyPassInherit, BalancerInherit, ProxyPassInterpolateEnv,
 * ProxySourceAddress, ProxyReceiveBufferSize, ProxyIOBufferSize, and the per-directory
 * ProxyErrorOverride and Proxy100Continue; the forward-proxy-only directives, which a
 * reverse proxy (ProxyRequests Off, all portico is) does not use; and ProxyHCTPsize. */
#include "proxy_srv.h"

#include "balancer.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const pt_proxy_srv_t srv_defaults;

static pt_proxy_srv_t *srv_for(dcx_t *l, dcx_scope_t *s)
{
    if (!s->vh->proxy_srv)
        s->vh->proxy_srv = pt_arena_calloc(l->a, sizeof(pt_proxy_srv_t));
    return (pt_proxy_srv_t *)s->vh->proxy_srv;
}

const pt_proxy_srv_t *pt_proxy_srv_of(const pt_vhost_t *vh)
{
    return vh && vh->proxy_srv ? vh->proxy_srv : &srv_defaults;
}

static int word_of(dcx_t *l, const pt_node_t *n, const char *const *words, int nwords,
                   int *out)
{
    for (int i = 0; i < nwords; i++)
        if (strcasecmp(n->argv[0], words[i]) == 0)
            return *out = i + 1, 0;
    char list[160] = "";
    for (int i = 0; i < nwords; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                 i ? (i == nwords - 1 ? " or " : ", ") : "", words[i]);
    return pt_dcx_fail(l, n, "%s must be %s", n->name, list);
}

static int set_proxy_via(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const char *const w[] = {"Off", "On", "Full", "Block"};
    return word_of(l, n, w, 4, &srv_for(l, s)->via);
}

static int set_proxy_bad_header(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const char *const w[] = {"IsError", "Ignore", "StartBody"};
    return word_of(l, n, w, 3, &srv_for(l, s)->bad_header);
}

static int onoff12(dcx_t *l, const pt_node_t *n, int *out)
{
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    *out = on ? 2 : 1;
    return 0;
}

static int set_proxy_pass_inherit(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return onoff12(l, n, &srv_for(l, s)->pass_inherit);
}

/* BalancerInherit: in Apache a virtual host gets copies of the main server's balancers
 * (On) or none (Off); portico makes each balancer once and shares it with every server
 * that names it, so there is nothing to copy or withhold. */
static int set_balancer_inherit(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (onoff12(l, n, &srv_for(l, s)->balancer_inherit) < 0)
        return -1;
    if (srv_for(l, s)->balancer_inherit == 1)
        pt_dcx_note(l, n, n->name, "BalancerInherit Off ignored: portico makes each "
                    "balancer once and shares it with every server that proxies to it, so "
                    "virtual hosts get no copies to withhold");
    return 0;
}

/* ProxyPassInterpolateEnv On: per-request ${VAR} in ProxyPass rules. portico's parser
 * expands ${NAME} at load (Define, then the environment; an unknown name is an error), so
 * no ${VAR} is left for a request to fill: On is refused rather than silently unused. */
static int set_proxy_pass_interpolate_env(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (onoff12(l, n, &srv_for(l, s)->interpolate_env) < 0)
        return -1;
    if (srv_for(l, s)->interpolate_env == 2)
        return pt_dcx_fail(l, n, "ProxyPassInterpolateEnv On is not supported: portico "
                           "expands ${NAME} when it reads the configuration (Define or the "
                           "environment; an undefined name is an error), so no ${VAR} is "
                           "left for a request's environment to fill");
    return 0;
}

/* ProxyMaxForwards N: -1 (Apache 2.4's default) adds no field of our own. */
static int set_proxy_max_forwards(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_proxy_srv_t *ps = srv_for(l, s);
    ps->max_forwards_set = true;
    return pt_dcx_int(l, n, -1, 0x7fffffff, &ps->max_forwards);
}

/* ProxyReceiveBufferSize bytes: 0 is the system's default; else at least 512 (mod_proxy's
 * rule). */
static int set_proxy_receive_buffer_size(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    int v = 0;
    if (pt_dcx_int(l, n, 0, 0x7fffffff, &v) < 0)
        return -1;
    if (v > 0 && v < 512)
        return pt_dcx_fail(l, n, "ProxyReceiveBufferSize must be >= 512 bytes, or 0 for "
                           "system default.");
    srv_for(l, s)->recv_buffer = v;
    return 0;
}

/* ProxyIOBufferSize: mod_proxy's scratch buffer; portico relays through a fixed one. */
static int set_proxy_io_buffer_size(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    int v = 0;
    if (pt_dcx_int(l, n, 512, 0x7fffffff, &v) < 0)
        return -1;
    pt_dcx_note(l, n, n->name, "ProxyIOBufferSize ignored: portico relays upstream bytes "
                "through a fixed per-thread buffer (ProxyReceiveBufferSize sets the upstream "
                "socket's receive buffer)");
    return 0;
}

/* ProxySourceAddress ADDRESS: a numeric IPv4 or IPv6 address upstream sockets bind to. */
static int set_proxy_source_address(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(n->argv[0], NULL, &hints, &res) != 0 || !res)
        return pt_dcx_fail(l, n, "ProxySourceAddress: '%s' is not an IP address",
                           n->argv[0]);
    pt_proxy_srv_t *ps = srv_for(l, s);
    memcpy(&ps->source, res->ai_addr, res->ai_addrlen);
    ps->source_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* ProxyErrorOverride On|Off [code ...] (the codes: Apache 2.4.47+; 4xx and 5xx only). */
static int set_proxy_error_override(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    int v = 0;
    if (onoff12(l, n, &v) < 0)
        return -1;
    pt_dir_config_t *dc = s->dc;
    dc->proxy_error_override = v;
    dc->proxy_error_codes = NULL;
    dc->nproxy_error_codes = 0;
    for (int i = 1; i < n->argc; i++) {
        long long code = 0;
        if (pt_dcx_long(l, n, n->argv[i], 400, 599, &code) < 0)
            return pt_dcx_fail(l, n, "ProxyErrorOverride: '%s' is not a 4xx or 5xx status "
                               "code", n->argv[i]);
        int *slot = pt_dcx_push(l->a, &dc->proxy_error_codes, &dc->nproxy_error_codes,
                                sizeof(*slot));
        *slot = (int)code;
    }
    return 0;
}

static int set_proxy_100_continue(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return onoff12(l, n, &s->dc->proxy_100_continue);
}

/* Directives of a forward proxy (ProxyRequests On), which portico is not. */
static int set_forward_only(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    pt_dcx_note(l, n, n->name, "%s ignored: it applies to forward-proxy requests only "
                "(ProxyRequests On), and portico is a reverse proxy only (ProxyRequests Off)",
                n->name);
    return 0;
}

/* ProxyRemote and ProxyBlock act on ProxyPass'd requests too in Apache (mod_proxy chains
 * through the remote proxy, and refuses the blocked hosts, for every proxied request):
 * accepting them without doing so would change what a configuration means. */
static int set_reverse_too(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    const char *what = strcasecmp(n->name, "ProxyBlock") == 0
                           ? "refuse requests for the hosts it names"
                           : "send upstream requests through another proxy";
    return pt_dcx_fail(l, n, "%s is a directive of Apache's mod_proxy that portico does not "
                       "implement: it would %s, for ProxyPass'd requests as well as "
                       "forward-proxy ones (portico has ProxyRequests Off only)", n->name,
                       what);
}

/* ProxyHCTPsize: mod_proxy_hcheck's thread pool; portico's checks run in the parent's
 * single non-blocking loop. */
static int set_proxy_hc_tp_size(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    int v = 0;
    if (pt_dcx_int(l, n, 0, 0x7fffffff, &v) < 0)
        return -1;
    pt_dcx_note(l, n, n->name, "ProxyHCTPsize ignored: portico runs every health check in "
                "the parent process's single non-blocking loop, without a thread pool");
    return 0;
}

static const dcx_directive_t srv_table[] = {
    {"ProxyVia", SRV, 1, 1, set_proxy_via},
    {"ProxyMaxForwards", SRV, 1, 1, set_proxy_max_forwards},
    {"ProxyBadHeader", SRV, 1, 1, set_proxy_bad_header},
    {"ProxyPassInherit", SRV, 1, 1, set_proxy_pass_inherit},
    {"BalancerInherit", SRV, 1, 1, set_balancer_inherit},
    {"ProxyPassInterpolateEnv", SRV, 1, 1, set_proxy_pass_interpolate_env},
    {"ProxyReceiveBufferSize", SRV, 1, 1, set_proxy_receive_buffer_size},
    {"ProxyIOBufferSize", SRV, 1, 1, set_proxy_io_buffer_size},
    {"ProxySourceAddress", SRV, 1, 1, set_proxy_source_address},
    {"ProxyErrorOverride", SRV | W_DIR | W_LOC | W_IF, 1, NOMAX, set_proxy_error_override},
    {"Proxy100Continue", SRV | W_DIR | W_LOC | W_IF, 1, 1, set_proxy_100_continue},
    {"ProxyDomain", SRV, 1, 1, set_forward_only},
    {"NoProxy", SRV, 1, NOMAX, set_forward_only},
    {"ProxyRemote", SRV, 2, 2, set_reverse_too},
    {"ProxyRemoteMatch", SRV, 2, 2, set_reverse_too},
    {"ProxyBlock", SRV, 1, NOMAX, set_reverse_too},
    {"ProxyHCTPsize", W_SERVER, 1, 1, set_proxy_hc_tp_size},
    {NULL, 0, 0, 0, NULL},
};

/* ---- Finishing: inheritance, and the socket options given to the backends ------------- */

static void inherit(pt_proxy_srv_t *v, const pt_proxy_srv_t *m)
{
    if (!v->via) v->via = m->via;
    if (!v->max_forwards_set) v->max_forwards = m->max_forwards,
                              v->max_forwards_set = m->max_forwards_set;
    if (!v->bad_header) v->bad_header = m->bad_header;
    if (!v->pass_inherit) v->pass_inherit = m->pass_inherit;
    if (!v->balancer_inherit) v->balancer_inherit = m->balancer_inherit;
    if (!v->interpolate_env) v->interpolate_env = m->interpolate_env;
    if (!v->recv_buffer) v->recv_buffer = m->recv_buffer;
    if (!v->source_len) v->source = m->source, v->source_len = m->source_len;
}

static bool same_sockopts(const pt_proxy_srv_t *a, const pt_proxy_srv_t *b)
{
    return a->recv_buffer == b->recv_buffer && a->source_len == b->source_len &&
           memcmp(&a->source, &b->source, a->source_len) == 0;
}

/* A backend is shared by every rule that names its URL (one pool): the servers using it must
 * agree on how its sockets are made. */
static int give_one(dcx_t *l, const pt_vhost_t *vh, const pt_proxy_srv_t *ps, pt_backend_t *b)
{
    if (b->sock_srv && !same_sockopts(b->sock_srv, ps))
        return pt_dcx_fail(l, NULL, "%s:%d: ProxySourceAddress or ProxyReceiveBufferSize "
                           "differ between servers that proxy to %s (one connection pool "
                           "serves them all)", vh->file ? vh->file : l->cfg->path, vh->line,
                           b->url);
    if (ps->recv_buffer || ps->source_len)
        b->sock_srv = ps;
    return 0;
}

static int give_sockopts(dcx_t *l, const pt_vhost_t *vh)
{
    const pt_proxy_srv_t *ps = pt_proxy_srv_of(vh);
    for (size_t i = 0; i < vh->nproxy_passes; i++) {
        pt_backend_t *b = vh->proxy_passes[i].backend;
        if (!b)
            continue; /* ProxyPass /path ! */
        if (give_one(l, vh, ps, b) < 0)
            return -1;
        const pt_balancer_t *bal = b->balancer;
        for (size_t k = 0; bal && bal->backend == b && k < bal->nmembers; k++)
            if (give_one(l, vh, ps, bal->members[k]) < 0)
                return -1;
    }
    return 0;
}

static int finish(dcx_t *l)
{
    pt_config_t *c = l->cfg;
    const pt_proxy_srv_t *m = pt_proxy_srv_of(c->main_server);
    for (size_t i = 0; i < c->nvhosts; i++) {
        pt_vhost_t *vh = c->vhosts[i];
        if (vh->proxy_srv && vh->proxy_srv != c->main_server->proxy_srv)
            inherit((pt_proxy_srv_t *)vh->proxy_srv, m);
        else
            vh->proxy_srv = c->main_server->proxy_srv;
        /* ProxyPassInherit Off: conf appended the main server's rules after the vhost's */
        if (pt_proxy_srv_of(vh)->pass_inherit == 1 && vh->nproxy_passes >=
                                                          c->main_server->nproxy_passes)
            vh->nproxy_passes -= c->main_server->nproxy_passes;
    }
    return 0;
}

/* After the balancers' finish, which ties balancer:// backends to their members. */
static int finish_sockets(dcx_t *l)
{
    pt_config_t *c = l->cfg;
    if (give_sockopts(l, c->main_server) < 0)
        return -1;
    for (size_t i = 0; i < c->nvhosts; i++)
        if (give_sockopts(l, c->vhosts[i]) < 0)
            return -1;
    return 0;
}

const pt_conf_ext_t pt_proxy_srv_conf = {
    .name = "proxy (server settings)",
    .directives = srv_table,
    .finish = finish,
};

const pt_conf_ext_t pt_proxy_sock_conf = {
    .name = "proxy (upstream sockets)",
    .finish = finish_sockets,
};
