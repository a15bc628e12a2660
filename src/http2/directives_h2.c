/* The HTTP/2 directives (mod_http2's names): H2MaxSessionStreams, H2WindowSize,
 * H2StreamMaxMemSize, H2Direct, H2Upgrade, per server and virtual host. Stored in
 * pt_vhost_t.h2 (opaque to conf), made in the configuration's arena; a virtual host that
 * sets none inherits the main server's (finish hook). Protocols itself is conf's. */
#include "h2.h"

#include <string.h>
#include <strings.h>

static const pt_h2_conf_t h2_defaults = {
    .max_session_streams = 100,
    .window_size = 65535,
    .stream_max_mem = 65536,
    .direct = -1,
    .upgrade = -1,
    .max_stream_errors = 8,
    .modern_tls_only = -1,
    .max_workers = 256,
};

/* The vhost's own settings, made on its first H2 directive from the main server's (so a
 * virtual host changes only what it names). */
static pt_h2_conf_t *conf_for(dcx_t *l, dcx_scope_t *s)
{
    if (s->vh->h2 && (s->vh == l->cfg->main_server || s->vh->h2 != l->cfg->main_server->h2))
        return (pt_h2_conf_t *)s->vh->h2;
    pt_h2_conf_t *c = pt_arena_calloc(l->a, sizeof(*c));
    const pt_h2_conf_t *base = l->cfg->main_server->h2;
    *c = base && s->vh != l->cfg->main_server ? *base : h2_defaults;
    s->vh->h2 = c;
    return c;
}

static int set_max_streams(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_int(l, n, 1, 65535, &conf_for(l, s)->max_session_streams);
}

static int set_window(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_int(l, n, 1024, 0x7fffffff, &conf_for(l, s)->window_size);
}

static int set_max_mem(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[0], 1024, 1 << 30, &v) < 0)
        return -1;
    conf_for(l, s)->stream_max_mem = (size_t)v;
    return 0;
}

static int set_flag(dcx_t *l, const pt_node_t *n, int *out)
{
    bool b = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &b) < 0)
        return -1;
    *out = b;
    return 0;
}

static int set_direct(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &conf_for(l, s)->direct);
}

static int set_upgrade(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &conf_for(l, s)->upgrade);
}

static int set_int(dcx_t *l, const pt_node_t *n, long long lo, long long hi, int *out)
{
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[0], lo, hi, &v) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

static int set_max_data_frame_len(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_int(l, n, 0, 16777215, &conf_for(l, s)->max_data_frame_len);
}

static int set_max_header_block_len(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_int(l, n, 0, 0x7fffffff, &conf_for(l, s)->max_header_block_len);
}

static int set_stream_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_timeout(l, n, n->argv[0], &conf_for(l, s)->stream_timeout_ms);
}

static int set_max_stream_errors(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_int(l, n, 0, 0x7fffffff, &conf_for(l, s)->max_stream_errors);
}

static int set_padding(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_int(l, n, 0, 8, &conf_for(l, s)->padding_bits);
}

static int set_modern_tls_only(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &conf_for(l, s)->modern_tls_only);
}

static int set_max_workers(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_int(l, n, 1, 65535, &conf_for(l, s)->max_workers);
}

static int set_min_workers(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_int(l, n, 0, 65535, &conf_for(l, s)->min_workers);
}

static int set_max_worker_idle(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[0], 0, 86400, &v) < 0)
        return -1;
    conf_for(l, s)->worker_idle_ms = v * 1000;
    return 0;
}

/* H2EarlyHints on: portico sends no 103 Early Hints (and drops a backend's, as Apache does
 * with it off). H2EarlyHint only feeds those, so it changes nothing while they are off. */
static int set_early_hints(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    if (on)
        return pt_dcx_fail(l, n, "H2EarlyHints on is not supported: portico does not send "
                           "103 Early Hints (a backend's 103 is dropped, as with the default "
                           "H2EarlyHints off); send preload Link fields on the final answer");
    return 0;
}

static int set_early_hint(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    pt_dcx_note(l, n, n->name, "H2EarlyHint ignored: it adds to 103 Early Hints, which "
                "portico does not send (H2EarlyHints off)");
    return 0;
}

/* Server push (H2Push and its companions): browsers have dropped it (Chrome 106, Firefox
 * 132) and Apache 2.4.58 turned it off by default; portico never pushes. Off is what it
 * does; anything that asks for a push is accepted with a -t notice saying so. */
static int set_push(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    if (on)
        pt_dcx_note(l, n, n->name, "H2Push on ignored: portico does not do HTTP/2 server "
                    "push (browsers no longer accept it; use 103 Early Hints or preload "
                    "links)");
    return 0;
}

static int set_push_other(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    pt_dcx_note(l, n, n->name, "%s ignored: portico does not do HTTP/2 server push",
                n->name);
    return 0;
}

/* Tuning of mod_http2's own machinery, which portico's session does not have: each is
 * accepted (checked for form) with a -t notice saying why it changes nothing. */
static int set_tuning(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    static const struct { const char *name, *why; } whys[] = {
        {"H2CopyFiles", "portico's streams pass file bodies by reference to the session, "
                        "which reads them itself (no file handles cross threads)"},
        {"H2OutputBuffering", "a stream's output is always handed to the session in "
                              "bounded buffers (H2StreamMaxMemSize), never held back"},
        {"H2SerializeHeaders", "requests are never serialized to HTTP/1.1 (Apache "
                               "2.4.58 removed the feature too)"},
        {"H2SessionExtraFiles", "portico opens no extra files per session (obsolete in "
                                "Apache as well)"},
        {"H2TLSCoolDownSecs", "TLS records are sized by OpenSSL's defaults, without "
                              "mod_http2's warm-up and cool-down"},
        {"H2TLSWarmUpSize", "TLS records are sized by OpenSSL's defaults, without "
                            "mod_http2's warm-up and cool-down"},
        {"H2ProxyRequests", "portico is not a forward proxy (ProxyRequests Off), so "
                            "HTTP/2 requests are never forward-proxy requests"},
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(whys); i++)
        if (strcasecmp(n->name, whys[i].name) == 0)
            pt_dcx_note(l, n, n->name, "%s ignored: %s", n->name, whys[i].why);
    return 0;
}

static int set_tuning_onoff(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool b = false;
    return pt_dcx_onoff(l, n, n->argv[0], &b) < 0 ? -1 : set_tuning(l, s, n);
}

static int set_tuning_number(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    long long v = 0;
    return pt_dcx_long(l, n, n->argv[0], 0, 1LL << 40, &v) < 0 ? -1 : set_tuning(l, s, n);
}

/* H2WebSockets on: WebSockets over HTTP/2 (RFC 8441, extended CONNECT) is not in
 * portico; browsers then open their WebSocket over HTTP/1.1, which portico proxies. */
static int set_websockets(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    if (on)
        return pt_dcx_fail(l, n, "H2WebSockets on: portico does not implement WebSockets "
                           "over HTTP/2 (RFC 8441); leave it off (the default): clients "
                           "then use HTTP/1.1 for WebSockets, which portico proxies");
    return 0;
}

static const dcx_directive_t h2_table[] = {
    {"H2MaxDataFrameLen", SRV, 1, 1, set_max_data_frame_len},
    {"H2MaxHeaderBlockLen", SRV, 1, 1, set_max_header_block_len},
    {"H2StreamTimeout", SRV, 1, 1, set_stream_timeout},
    {"H2MaxStreamErrors", SRV, 1, 1, set_max_stream_errors},
    {"H2Padding", SRV, 1, 1, set_padding},
    {"H2ModernTLSOnly", SRV, 1, 1, set_modern_tls_only},
    {"H2MaxWorkers", W_SERVER, 1, 1, set_max_workers},
    {"H2MinWorkers", W_SERVER, 1, 1, set_min_workers},
    {"H2MaxWorkerIdleSeconds", W_SERVER, 1, 1, set_max_worker_idle},
    {"H2EarlyHints", SRV, 1, 1, set_early_hints},
    {"H2EarlyHint", SRV | W_SECTIONS, 2, 2, set_early_hint},
    {"H2Push", SRV | W_SECTIONS, 1, 1, set_push},
    {"H2PushResource", SRV | W_SECTIONS, 1, 2, set_push_other},
    {"H2PushPriority", SRV, 1, 3, set_push_other},
    {"H2PushDiarySize", SRV, 1, 1, set_push_other},
    {"H2CopyFiles", SRV | W_SECTIONS, 1, 1, set_tuning_onoff},
    {"H2OutputBuffering", SRV, 1, 1, set_tuning_onoff},
    {"H2SerializeHeaders", SRV, 1, 1, set_tuning_onoff},
    {"H2SessionExtraFiles", SRV, 1, 1, set_tuning_number},
    {"H2TLSCoolDownSecs", SRV, 1, 1, set_tuning_number},
    {"H2TLSWarmUpSize", SRV, 1, 1, set_tuning_number},
    {"H2ProxyRequests", SRV, 1, 1, set_tuning_onoff},
    {"H2WebSockets", SRV, 1, 1, set_websockets},
    {"H2MaxSessionStreams", SRV, 1, 1, set_max_streams},
    {"H2WindowSize", SRV, 1, 1, set_window},
    {"H2StreamMaxMemSize", SRV, 1, 1, set_max_mem},
    {"H2Direct", SRV, 1, 1, set_direct},
    {"H2Upgrade", SRV, 1, 1, set_upgrade},
    {NULL, 0, 0, 0, NULL},
};

/* Virtual hosts without settings of their own take the main server's. */
static int h2_finish(dcx_t *l)
{
    pt_config_t *cfg = l->cfg;
    for (size_t i = 0; i < cfg->nvhosts; i++)
        if (!cfg->vhosts[i]->h2)
            cfg->vhosts[i]->h2 = cfg->main_server->h2;
    return 0;
}

const pt_conf_ext_t pt_h2_conf_ext = {
    .name = "http2",
    .directives = h2_table,
    .finish = h2_finish,
};

const pt_h2_conf_t *pt_h2_conf(const pt_config_t *cfg, const pt_vhost_t *vh)
{
    if (vh && vh->h2)
        return vh->h2;
    if (cfg->main_server->h2)
        return cfg->main_server->h2;
    return &h2_defaults;
}

bool pt_h2_protocol_enabled(const pt_config_t *cfg, const pt_vhost_t *vh, const char *name)
{
    const pt_vhost_t *v = vh && vh->protocols ? vh : cfg->main_server;
    for (size_t i = 0; i < v->nprotocols; i++)
        if (strcmp(v->protocols[i], name) == 0)
            return true;
    return false;
}
