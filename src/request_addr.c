/* A request's addresses as Apache's helpers give them (request.h): the client's (after
 * mod_remoteip), the peer's, the local ones, and the server name and port a self-referential
 * URL is made with (UseCanonicalName). */
#include "conn.h"
#include "request.h"

#include <stdio.h>
#include <string.h>

const char *pt_request_client_ip(const pt_request_t *r)
{
    return r->useragent_ip ? r->useragent_ip : r->conn->peer_ip;
}
int pt_request_client_port(const pt_request_t *r)
{
    return r->conn->peer_port;
}
const char *pt_request_local_ip(const pt_request_t *r)
{
    return r->conn->local_ip;
}
int pt_request_local_port(const pt_request_t *r)
{
    return r->conn->local_port;
}
const struct sockaddr *pt_request_client_addr(const pt_request_t *r)
{
    return r->useragent_addr ? r->useragent_addr : &r->conn->peer.sa;
}

const char *pt_request_peer_ip(const pt_request_t *r)
{
    return r->conn->via ? r->conn->via->ip : r->conn->peer_ip;
}

const char *pt_request_server_name(const pt_request_t *r)
{
    if (r->vhost->use_canonical_name || !r->hostname) {
        if (r->vhost->server_name)
            return r->vhost->server_name;
        if (r->cfg->main_server->server_name)
            return r->cfg->main_server->server_name;
    }
    return r->hostname ? r->hostname : r->conn->local_ip;
}

int pt_request_server_port(const pt_request_t *r)
{
    if (r->vhost->use_canonical_name && r->vhost->server_port)
        return r->vhost->server_port;
    if (!r->vhost->use_canonical_name && r->host_port)
        return r->host_port;
    return r->conn->local_port;
}

/* ap_default_port: the port a URL of this scheme may leave out. */
static int default_port(const pt_request_t *r)
{
    return r->scheme && strcmp(r->scheme, "https") == 0 ? 443 : 80;
}

int pt_request_url_port(const pt_request_t *r)
{
    const pt_vhost_t *vh = r->vhost;
    int named = vh->server_port ? vh->server_port : r->cfg->main_server->server_port;
    if (!vh->use_canonical_name && r->host_port)
        return r->host_port;
    return named ? named : default_port(r);
}

const char *pt_request_construct_url(pt_request_t *r, const char *uri)
{
    const char *name = pt_request_server_name(r);
    bool v6 = strchr(name, ':') && name[0] != '[';
    int port = pt_request_url_port(r);
    char ps[16] = "";
    if (port != default_port(r))
        snprintf(ps, sizeof(ps), ":%d", port);
    return pt_arena_printf(r->arena, "%s://%s%s%s%s%s", r->scheme ? r->scheme : "http",
                           v6 ? "[" : "", name, v6 ? "]" : "", ps, uri);
}
