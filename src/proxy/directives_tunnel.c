/* The WebSocket tunnel's directives (mod_proxy_wstunnel's names): ProxyWebsocketIdleTimeout,
 * the tunnel's own idle timeout; and ProxyWebsocketAsync, ProxyWebsocketAsyncDelay and
 * ProxyWebsocketFallbackToProxyHttp, which Apache 2.4.48+ accepts as obsolete and portico
 * accepts for the same configs: an idle tunnel is parked without a worker under the event
 * MPM by default, and upgrade=websocket on an http:// ProxyPass is the one way in. */
#include "directives.h"
#include "tunnel.h"

static int set_idle_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_timeout(l, n, n->argv[0], &s->vh->tunnel_idle_timeout_ms);
}

/* Checked as Apache checks them (a flag, a time), then without effect. */
static int set_obsolete_flag(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    bool on;
    return pt_dcx_onoff(l, n, n->argv[0], &on);
}

static int set_obsolete_delay(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    int64_t ms;
    return pt_dcx_timeout(l, n, n->argv[0], &ms);
}

/* A virtual host without its own ProxyWebsocketIdleTimeout takes the main server's. */
static int finish_tunnel(dcx_t *l)
{
    pt_config_t *cfg = l->cfg;
    int64_t main_ms = cfg->main_server->tunnel_idle_timeout_ms;
    for (size_t i = 0; i < cfg->nvhosts; i++)
        if (cfg->vhosts[i]->tunnel_idle_timeout_ms == 0)
            cfg->vhosts[i]->tunnel_idle_timeout_ms = main_ms;
    return 0;
}

static const dcx_directive_t tunnel_table[] = {
    {"ProxyWebsocketIdleTimeout", SRV, 1, 1, set_idle_timeout},
    {"ProxyWebsocketAsync", SRV, 1, 1, set_obsolete_flag},
    {"ProxyWebsocketAsyncDelay", SRV, 1, 1, set_obsolete_delay},
    {"ProxyWebsocketFallbackToProxyHttp", SRV, 1, 1, set_obsolete_flag},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_tunnel_conf = {
    .name = "tunnel",
    .directives = tunnel_table,
    .finish = finish_tunnel,
};
