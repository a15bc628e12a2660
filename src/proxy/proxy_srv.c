/* What mod_proxy does to a proxied request and its answer beyond mapping it: Via fields
 * (ProxyVia, ap_proxy_create_hdrbrgd and ap_proxy_http_process_response), Max-Forwards
 * (proxy_handler) and ProxyErrorOverride's choice. Values and messages as Apache's. */
#include "proxy_srv.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "1.1 name[:port]" or, Full, "1.1 name[:port] (portico/x.y)": the version of the client's
 * request, the ServerName, and the port when it is not the scheme's default. */
static const char *via_value(const pt_request_t *r, int via)
{
    const pt_vhost_t *vh = r->vhost;
    const char *name = vh->server_name ? vh->server_name : r->cfg->main_server->server_name;
    if (!name)
        name = pt_request_server_name(r);
    int port = pt_request_url_port(r); /* ap_get_server_port, as Apache's Via */
    bool tls = r->scheme && strcmp(r->scheme, "https") == 0;
    char portstr[16] = "";
    if (port && port != (tls ? 443 : 80))
        snprintf(portstr, sizeof(portstr), ":%d", port);
    int major = r->proto_num / 1000, minor = r->proto_num % 1000;
    if (via == PT_VIA_FULL)
        return pt_arena_printf(r->arena, "%d.%d %s%s (portico/%s)", major, minor, name,
                               portstr, PORTICO_VERSION);
    return pt_arena_printf(r->arena, "%d.%d %s%s", major, minor, name, portstr);
}

bool pt_proxy_via_drops_client(const pt_request_t *r)
{
    int via = pt_proxy_srv_of(r->vhost)->via;
    return via == PT_VIA_ON || via == PT_VIA_FULL || via == PT_VIA_BLOCK;
}

const char *pt_proxy_via_request(const pt_request_t *r)
{
    int via = pt_proxy_srv_of(r->vhost)->via;
    if (via != PT_VIA_ON && via != PT_VIA_FULL)
        return NULL;
    /* apr_table_mergen: the client's fields, then ours, as one */
    const char *v = NULL;
    const pt_table_t *t = &r->headers_in;
    for (size_t i = 0; i < t->n; i++)
        if (strcasecmp(t->v[i].name, "Via") == 0)
            v = v ? pt_arena_printf(r->arena, "%s, %s", v, t->v[i].value) : t->v[i].value;
    const char *ours = via_value(r, via);
    return v ? pt_arena_printf(r->arena, "%s, %s", v, ours) : ours;
}

void pt_proxy_via_response(pt_request_t *r)
{
    int via = pt_proxy_srv_of(r->vhost)->via;
    if (via == PT_VIA_ON || via == PT_VIA_FULL)
        pt_table_add(&r->headers_out, "Via", via_value(r, via));
}

int pt_proxy_max_forwards_check(pt_request_t *r)
{
    const char *v = pt_table_get(&r->headers_in, "Max-Forwards");
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || n < 0 || errno == ERANGE) {
        pt_log_rerror(PT_LOG_ERR, r, "AH00898: Max-Forwards value '%s' could not be parsed "
                      "returned by %s", v, r->uri);
        return 400;
    }
    if (n == 0) {
        pt_log_rerror(PT_LOG_ERR, r, "AH00898: Max-Forwards has reached zero - proxy loop? "
                      "returned by %s", r->uri);
        return 502;
    }
    return 0;
}

const char *pt_proxy_max_forwards(const pt_request_t *r, const char *v)
{
    if (v) /* checked: a number above zero */
        return pt_arena_printf(r->arena, "%lld", strtoll(v, NULL, 10) - 1);
    const pt_proxy_srv_t *ps = pt_proxy_srv_of(r->vhost);
    if (!ps->max_forwards_set || ps->max_forwards < 0)
        return NULL;
    return pt_arena_printf(r->arena, "%d", ps->max_forwards);
}

bool pt_proxy_error_override(const pt_request_t *r, int st)
{
    const pt_dir_config_t *dc = r->dir;
    if (dc->proxy_error_override != 2 || st < 400 || st > 599)
        return false;
    if (!dc->nproxy_error_codes)
        return true;
    for (size_t i = 0; i < dc->nproxy_error_codes; i++)
        if (dc->proxy_error_codes[i] == st)
            return true;
    return false;
}
