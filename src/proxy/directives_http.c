/* mod_proxy_http's server directives: ProxyPreserveHost (the client's Host goes upstream)
 * and ProxyAddHeaders (X-Forwarded-For, -Host, -Server, and portico's -Proto), and core's
 * AllowEncodedSlashes; server or virtual-host wide and inherited by virtual hosts from the
 * main server, as Apache merges them. */
#include "proxy_http.h"

#include <strings.h>

static int on_off(dcx_t *l, const pt_node_t *n, int *out)
{
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    *out = on ? 2 : 1;
    return 0;
}

static int set_proxy_preserve_host(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return on_off(l, n, &s->vh->proxy_preserve_host);
}

static int set_proxy_add_headers(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return on_off(l, n, &s->vh->proxy_add_headers);
}

/* Core's AllowEncodedSlashes, here because the proxy recipes are what need it (Jenkins,
 * GitLab: "AllowEncodedSlashes NoDecode" with "ProxyPass ... nocanon"). */
static int set_allow_encoded_slashes(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const char *const words[] = {"Off", "On", "NoDecode"};
    for (int i = 0; i < 3; i++)
        if (strcasecmp(n->argv[0], words[i]) == 0)
            return s->vh->allow_encoded_slashes = i + 1, 0;
    return pt_dcx_fail(l, n, "AllowEncodedSlashes must be On, Off, or NoDecode");
}

/* Virtual hosts without their own setting take the main server's. */
static int finish(dcx_t *l)
{
    const pt_vhost_t *m = l->cfg->main_server;
    for (size_t i = 0; i < l->cfg->nvhosts; i++) {
        pt_vhost_t *vh = l->cfg->vhosts[i];
        if (!vh->proxy_preserve_host)
            vh->proxy_preserve_host = m->proxy_preserve_host;
        if (!vh->proxy_add_headers)
            vh->proxy_add_headers = m->proxy_add_headers;
        if (!vh->allow_encoded_slashes)
            vh->allow_encoded_slashes = m->allow_encoded_slashes;
    }
    return 0;
}

static const dcx_directive_t http_table[] = {
    {"ProxyPreserveHost", SRV, 1, 1, set_proxy_preserve_host},
    {"ProxyAddHeaders", SRV, 1, 1, set_proxy_add_headers},
    {"AllowEncodedSlashes", SRV, 1, 1, set_allow_encoded_slashes},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_http_conf = {
    .name = "proxy_http",
    .directives = http_table,
    .finish = finish,
};
