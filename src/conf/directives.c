/* The loader: the table of server, process and error-log directives, virtual host creation
 * and inheritance, Apache 2.4's defaults, the extensions the floors above register
 * (pt_config_extend), load and free. What each virtual host and directory serves is in
 * directives_dir.c; the walker and the argument helpers (errors, numbers, paths) are in
 * directives_args.c; directives.h holds what they share. */
#include "directives.h"

#include "compress_conf.h"

#include "log.h"
#include "mime.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static pt_vhost_t *dcx_vhost_new(dcx_t *l, bool main_server, const pt_node_t *n);

/* ---- Addresses -------------------------------------------------------------------------- */

/* Splits "host:port", "[v6]:port", "port" (host ""), "host" (port NULL). */
static int split_hostport(dcx_t *l, const pt_node_t *n, const char *spec, const char **host,
                          const char **port)
{
    if (spec[0] == '[') {
        const char *e = strchr(spec, ']');
        if (!e || (e[1] && e[1] != ':'))
            return pt_dcx_fail(l, n, "%s: bad address '%s'", n->name, spec);
        *host = pt_arena_strndup(l->a, spec + 1, (size_t)(e - spec - 1));
        *port = e[1] ? e + 2 : NULL;
        return 0;
    }
    const char *colon = strrchr(spec, ':');
    if (colon && strchr(spec, ':') != colon)
        return pt_dcx_fail(l, n, "%s: IPv6 address '%s' must be in []", n->name, spec);
    if (colon) {
        *host = pt_arena_strndup(l->a, spec, (size_t)(colon - spec));
        *port = colon + 1;
    } else if (strspn(spec, "0123456789") == strlen(spec)) {
        *host = "";
        *port = spec;
    } else {
        *host = spec;
        *port = NULL;
    }
    return 0;
}

static int resolve(dcx_t *l, const pt_node_t *n, const char *host, int port,
                   struct sockaddr_storage *ss, socklen_t *len)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST}, *res = NULL;
    char portbuf[16];
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    if (!*host || strcmp(host, "*") == 0) {
        /* IPv4 wildcard: binds everywhere that matters without requiring IPv6. */
        host = "0.0.0.0";
    }
    int rc = getaddrinfo(host, portbuf, &hints, &res);
    if (rc != 0) {
        hints.ai_flags = 0;
        rc = getaddrinfo(host, portbuf, &hints, &res);
    }
    if (rc != 0)
        return pt_dcx_fail(l, n, "%s: cannot resolve '%s': %s", n->name, host,
                           gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* ---- Server-level directives ------------------------------------------------------------ */

static int set_listen(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *host = NULL, *port = NULL;
    long long p = 0;
    if (split_hostport(l, n, n->argv[0], &host, &port) < 0)
        return -1;
    if (!port)
        return pt_dcx_fail(l, n, "Listen: port must be specified in '%s'", n->argv[0]);
    if (pt_dcx_long(l, n, port, 1, 65535, &p) < 0)
        return -1;
    pt_config_t *cfg = l->cfg;
    pt_listen_t *ls = pt_dcx_push(l->a, &cfg->listens, &cfg->nlistens, sizeof(*ls));
    ls->spec = n->argv[0];
    ls->port = (int)p;
    ls->file = n->file;
    ls->line = n->line;
    if (n->argc == 2) {
        char *proto = pt_arena_strdup(l->a, n->argv[1]);
        for (char *c = proto; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        ls->protocol = proto;
    }
    if (resolve(l, n, host, ls->port, &ls->addr, &ls->addrlen) < 0)
        return -1;
    for (size_t i = 0; i + 1 < cfg->nlistens; i++) {
        const pt_listen_t *o = &cfg->listens[i];
        if (o->port == ls->port && same_addr(&o->addr, &ls->addr))
            return pt_dcx_fail(l, n,
                               "Cannot define multiple Listeners on the same IP:port "
                               "(%s, first at %s:%d)", n->argv[0], o->file, o->line);
    }
    return 0;
}

static int parse_vaddr(dcx_t *l, const pt_node_t *n, const char *spec, pt_vaddr_t *va)
{
    const char *host = NULL, *port = NULL;
    if (split_hostport(l, n, spec, &host, &port) < 0)
        return -1;
    if (!port && !*host)
        return pt_dcx_fail(l, n, "VirtualHost: bad address '%s'", spec);
    va->port = 0;
    if (port && strcmp(port, "*") != 0) {
        long long p = 0;
        if (pt_dcx_long(l, n, port, 0, 65535, &p) < 0)
            return -1;
        va->port = (int)p;
    }
    if (strcmp(host, "*") == 0 || strcasecmp(host, "_default_") == 0 || !*host) {
        va->addrlen = 0;
        return 0;
    }
    return resolve(l, n, host, va->port, &va->addr, &va->addrlen);
}

static int set_virtual_host(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_vhost_t *vh = dcx_vhost_new(l, false, n);
    vh->addrs = pt_arena_calloc(l->a, (size_t)n->argc * sizeof(pt_vaddr_t));
    vh->naddrs = (size_t)n->argc;
    for (int i = 0; i < n->argc; i++)
        if (parse_vaddr(l, n, n->argv[i], &vh->addrs[i]) < 0)
            return -1;
    pt_vhost_t **slot = pt_dcx_push(l->a, &l->cfg->vhosts, &l->cfg->nvhosts, sizeof(*slot));
    *slot = vh;
    dcx_scope_t in = {.where = W_VHOST, .vh = vh, .dc = vh->dir, .name = n->name};
    return pt_dcx_walk(l, &in, n->children);
}

static int set_server_tokens(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const struct {
        const char *name;
        int v;
    } t[] = {{"Prod", 0}, {"ProductOnly", 0}, {"Major", 1}, {"Minor", 2}, {"Min", 3},
             {"Minimal", 3}, {"OS", 4}, {"Full", 5}};
    for (size_t i = 0; i < PT_ARRAY_LEN(t); i++) {
        if (strcasecmp(n->argv[0], t[i].name) == 0) {
            l->cfg->server_tokens = t[i].v;
            return 0;
        }
    }
    return pt_dcx_fail(l, n, "ServerTokens: unknown value '%s'", n->argv[0]);
}

/* ---- Logs ------------------------------------------------------------------------------- */

static int set_error_log(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (strncasecmp(n->argv[0], "syslog", 6) == 0)
        return pt_dcx_fail(l, n, "ErrorLog: syslog is not supported");
    const char *p = pt_dcx_log_path(l, n, n->argv[0]);
    if (!p)
        return -1;
    /* One error log per process: a <VirtualHost> ErrorLog is accepted but not separate. */
    if (s->where == W_SERVER)
        l->cfg->error_log = p;
    return 0;
}

static int set_log_level(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    for (int i = 0; i < n->argc; i++) {
        const char *a = n->argv[i];
        const char *colon = strchr(a, ':');
        int lv = pt_log_level_parse(colon ? colon + 1 : a);
        if (lv < 0)
            return pt_dcx_fail(l, n, "LogLevel: unknown level '%s'", a);
        if (!colon && s->where == W_SERVER)
            l->cfg->log_level = lv;
    }
    return 0;
}

/* ---- Process model and the rest --------------------------------------------------------- */

static int set_pid_file(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    l->cfg->pid_file = pt_dcx_path(l, n->argv[0]);
    return 0;
}

static int set_user(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    l->cfg->user = n->argv[0];
    return 0;
}

static int set_group(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    l->cfg->group = n->argv[0];
    return 0;
}

static int set_mpm(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const char *const kinds[] = {"event", "worker", "prefork"};
    for (size_t i = 0; i < PT_ARRAY_LEN(kinds); i++) {
        if (strcasecmp(n->argv[0], kinds[i]) == 0) {
            l->cfg->mpm = (pt_mpm_kind_t)i;
            return 0;
        }
    }
    return pt_dcx_fail(l, n, "MPM must be event, worker or prefork");
}

/* Process-model numbers, each stored at an offset in pt_config_t. */
#define MPM_FIELD(fn, field, min)                                                          \
    static int fn(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)                            \
    {                                                                                      \
        return pt_dcx_int(l, n, min, INT32_MAX, &l->cfg->field);                           \
    }
/* A child without threads or a server without children is meaningless: refused. */
MPM_FIELD(set_start_servers, start_servers, 0)
MPM_FIELD(set_server_limit, server_limit, 1)
MPM_FIELD(set_thread_limit, thread_limit, 1)
MPM_FIELD(set_threads_per_child, threads_per_child, 1)
MPM_FIELD(set_min_spare_threads, min_spare_threads, 0)
MPM_FIELD(set_max_spare_threads, max_spare_threads, 0)
MPM_FIELD(set_min_spare_servers, min_spare_servers, 0)
MPM_FIELD(set_max_spare_servers, max_spare_servers, 0)
MPM_FIELD(set_max_request_workers, max_request_workers, 0)
MPM_FIELD(set_max_connections_per_child, max_connections_per_child, 0)
MPM_FIELD(set_listen_backlog, listen_backlog, 0)

static int set_async_request_worker_factor(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    char *end;
    double v = strtod(n->argv[0], &end);
    if (*end || !(v > 0) || v > 1000)
        return pt_dcx_fail(l, n, "AsyncRequestWorkerFactor: bad value '%s'", n->argv[0]);
    l->cfg->async_request_worker_factor = v;
    return 0;
}

static int set_graceful_shutdown_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_timeout(l, n, n->argv[0], &l->cfg->graceful_shutdown_timeout_ms);
}

static int set_types_config(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    l->cfg->types_config = pt_dcx_path(l, n->argv[0]);
    return 0;
}

static int set_hostname_lookups(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (strcasecmp(n->argv[0], "Off") == 0)
        return 0;
    if (strcasecmp(n->argv[0], "On") == 0 || strcasecmp(n->argv[0], "Double") == 0)
        return pt_dcx_fail(l, n, "HostnameLookups %s is not supported: portico does no "
                                 "reverse DNS lookups", n->argv[0]);
    return pt_dcx_fail(l, n, "HostnameLookups must be On, Off or Double");
}

static int set_extended_status(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_onoff(l, n, n->argv[0], &l->cfg->extended_status);
}

/* Accepted for compatibility with Apache configs; nothing to store yet. */
static int set_ignored(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return 0;
}

/* AccessFileName name ...: the per-directory config files (.htaccess). Names with a '/'
 * could never be a directory's entry: refused. */
static int set_access_file_name(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char **v = pt_arena_alloc(l->a, (size_t)n->argc * sizeof(*v));
    for (int i = 0; i < n->argc; i++) {
        if (!n->argv[i][0] || strchr(n->argv[i], '/'))
            return pt_dcx_fail(l, n, "AccessFileName: '%s' is not a file name", n->argv[i]);
        v[i] = n->argv[i];
    }
    s->vh->access_files = v;
    s->vh->naccess_files = (size_t)n->argc;
    return 0;
}

/* Protocols h2 h2c http/1.1 (core, as Apache's): what a server offers, in its order of
 * preference (ALPN over TLS; h2c in cleartext). Readers: tls (ALPN), http2. */
static int set_protocols(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char **p = pt_arena_alloc(l->a, (size_t)n->argc * sizeof(*p));
    for (int i = 0; i < n->argc; i++) {
        const char *a = n->argv[i];
        if (strcasecmp(a, "h2") != 0 && strcasecmp(a, "h2c") != 0 &&
            strcasecmp(a, "http/1.1") != 0)
            return pt_dcx_fail(l, n, "Protocols: unknown protocol '%s' (h2, h2c, http/1.1)",
                               a);
        p[i] = strcasecmp(a, "http/1.1") == 0 ? "http/1.1"
               : strcasecmp(a, "h2") == 0     ? "h2"
                                              : "h2c";
    }
    s->vh->protocols = p;
    s->vh->nprotocols = (size_t)n->argc;
    return 0;
}

/* ---- The table -------------------------------------------------------------------------- */

static const dcx_directive_t server_table[] = {
    {"ServerRoot", W_SERVER, 1, 1, set_ignored}, /* applied by the parser */
    {"Listen", W_SERVER, 1, 2, set_listen},
    {"ServerTokens", W_SERVER, 1, 1, set_server_tokens},
    {"ErrorLog", SRV, 1, 1, set_error_log},
    {"LogLevel", ALL, 1, NOMAX, set_log_level},
    {"PidFile", W_SERVER, 1, 1, set_pid_file},
    {"User", W_SERVER, 1, 1, set_user},
    {"Group", W_SERVER, 1, 1, set_group},
    {"MPM", W_SERVER, 1, 1, set_mpm},
    {"StartServers", W_SERVER, 1, 1, set_start_servers},
    {"ServerLimit", W_SERVER, 1, 1, set_server_limit},
    {"ThreadLimit", W_SERVER, 1, 1, set_thread_limit},
    {"ThreadsPerChild", W_SERVER, 1, 1, set_threads_per_child},
    {"MinSpareThreads", W_SERVER, 1, 1, set_min_spare_threads},
    {"MaxSpareThreads", W_SERVER, 1, 1, set_max_spare_threads},
    {"MinSpareServers", W_SERVER, 1, 1, set_min_spare_servers},
    {"MaxSpareServers", W_SERVER, 1, 1, set_max_spare_servers},
    {"MaxRequestWorkers", W_SERVER, 1, 1, set_max_request_workers},
    {"MaxClients", W_SERVER, 1, 1, set_max_request_workers},
    {"MaxConnectionsPerChild", W_SERVER, 1, 1, set_max_connections_per_child},
    {"MaxRequestsPerChild", W_SERVER, 1, 1, set_max_connections_per_child},
    {"AsyncRequestWorkerFactor", W_SERVER, 1, 1, set_async_request_worker_factor},
    {"ListenBacklog", W_SERVER, 1, 1, set_listen_backlog},
    {"GracefulShutdownTimeout", W_SERVER, 1, 1, set_graceful_shutdown_timeout},
    {"TypesConfig", W_SERVER, 1, 1, set_types_config},
    {"HostnameLookups", ALL, 1, 1, set_hostname_lookups},
    {"ExtendedStatus", W_SERVER, 1, 1, set_extended_status},
    {"AccessFileName", SRV, 1, NOMAX, set_access_file_name},
    {"DefaultRuntimeDir", W_SERVER, 1, 1, set_ignored},
    {"Mutex", W_SERVER, 1, 2, set_ignored},
    {"Protocols", SRV, 1, NOMAX, set_protocols},
    {"ProtocolsHonorOrder", SRV, 1, 1, set_ignored},
    {"<VirtualHost", W_SERVER, 1, NOMAX, set_virtual_host},
    {NULL, 0, 0, 0, NULL},
};

/* ---- Virtual hosts: creation and inheritance -------------------------------------------- */

static pt_vhost_t *dcx_vhost_new(dcx_t *l, bool main_server, const pt_node_t *n)
{
    dcx_vhost_t *p = pt_arena_calloc(l->a, sizeof(*p));
    pt_vhost_t *vh = &p->vh;
    vh->dir = pt_dcx_dir_new(l->a);
    vh->file = n ? n->file : l->cfg->path;
    vh->line = n ? n->line : 0;
    if (main_server) {
        /* Apache 2.4's defaults. */
        p->set = ~0u;
        vh->keepalive = true;
        vh->keepalive_timeout_ms = 5000;
        vh->max_keepalive_requests = 100;
        vh->timeout_ms = 60000;
        vh->header_timeout_ms = 20000, vh->header_max_timeout_ms = 40000;
        vh->header_min_rate = 500;
        vh->body_timeout_ms = 20000, vh->body_max_timeout_ms = 0, vh->body_min_rate = 500;
        vh->limit_request_line = 8190;
        vh->limit_request_fields = 100;
        vh->limit_request_field_size = 8190;
        vh->trace_enable = true;
        vh->use_canonical_name = 0;
        vh->server_signature = 0;
        pt_dcx_dir_defaults(l->a, vh->dir);
        return vh;
    }
    vh->keepalive_timeout_ms = -1;
    vh->max_keepalive_requests = -1;
    vh->timeout_ms = -1;
    vh->limit_request_line = vh->limit_request_fields = vh->limit_request_field_size = SIZE_MAX;
    vh->use_canonical_name = -1;
    vh->server_signature = -1;
    return vh;
}

/* Concatenates two arena arrays of elt-sized items. */
static void *concat(pt_arena_t *a, const void *x, size_t nx, const void *y, size_t ny,
                    size_t elt, size_t *n)
{
    *n = nx + ny;
    if (*n == 0)
        return NULL;
    char *v = pt_arena_alloc(a, *n * elt);
    if (nx)
        memcpy(v, x, nx * elt);
    if (ny)
        memcpy(v + nx * elt, y, ny * elt);
    return v;
}

#define INHERIT(f, unset) if (vh->f == (unset)) vh->f = m->f

static void vhost_inherit(dcx_t *l, pt_vhost_t *vh, const pt_vhost_t *m)
{
    unsigned set = ((dcx_vhost_t *)vh)->set;
    if (!vh->server_name)
        vh->server_name = m->server_name, vh->server_port = m->server_port;
    INHERIT(server_admin, NULL);
    if (!vh->document_root) {
        vh->document_root = m->document_root;
        vh->document_root_len = m->document_root_len;
        vh->document_root_plain = m->document_root_plain;
    }
    INHERIT(keepalive_timeout_ms, -1);
    INHERIT(max_keepalive_requests, -1);
    INHERIT(timeout_ms, -1);
    INHERIT(limit_request_line, SIZE_MAX);
    INHERIT(limit_request_fields, SIZE_MAX);
    INHERIT(limit_request_field_size, SIZE_MAX);
    INHERIT(use_canonical_name, -1);
    INHERIT(server_signature, -1);
    INHERIT(proxy_timeout_ms, 0);
    if (!vh->protocols)
        vh->protocols = m->protocols, vh->nprotocols = m->nprotocols;
    if (!(set & DCX_SET_KEEPALIVE))
        vh->keepalive = m->keepalive;
    if (!(set & DCX_SET_TRACE))
        vh->trace_enable = m->trace_enable;
    if (!(set & DCX_SET_RT_HEADER)) {
        vh->header_timeout_ms = m->header_timeout_ms;
        vh->header_max_timeout_ms = m->header_max_timeout_ms;
        vh->header_min_rate = m->header_min_rate;
    }
    if (!(set & DCX_SET_RT_BODY)) {
        vh->body_timeout_ms = m->body_timeout_ms;
        vh->body_max_timeout_ms = m->body_max_timeout_ms;
        vh->body_min_rate = m->body_min_rate;
    }
    if (vh->nlogs == 0)
        vh->logs = m->logs, vh->nlogs = m->nlogs;
    pt_core_srv_inherit(&vh->core, &m->core);
    vh->dir = pt_dir_config_merge(l->a, m->dir, vh->dir);
    /* Apache: the main server's sections come first; mod_alias puts the vhost's first. */
    vh->sections = concat(l->a, m->sections, m->nsections, vh->sections, vh->nsections,
                          sizeof(pt_section_t), &vh->nsections);
    vh->aliases_map = concat(l->a, vh->aliases_map, vh->naliases_map, m->aliases_map,
                             m->naliases_map, sizeof(pt_alias_t), &vh->naliases_map);
    vh->redirects = concat(l->a, vh->redirects, vh->nredirects, m->redirects, m->nredirects,
                           sizeof(pt_redirect_t), &vh->nredirects);
    vh->location_redirects |= m->location_redirects;
    /* ProxyPassInherit On (Apache's default): the vhost's own rules first. */
    vh->proxy_passes = concat(l->a, vh->proxy_passes, vh->nproxy_passes, m->proxy_passes,
                              m->nproxy_passes, sizeof(pt_proxy_pass_t), &vh->nproxy_passes);
}

/* ---- Load and free ---------------------------------------------------------------------- */

static void mpm_defaults(pt_config_t *c)
{
    bool prefork = c->mpm == PT_MPM_PREFORK;
    if (c->start_servers < 0)
        c->start_servers = prefork ? 5 : 3;
    if (c->server_limit < 0)
        c->server_limit = prefork ? 256 : 16;
    if (c->thread_limit < 0)
        c->thread_limit = 64;
    if (c->threads_per_child < 0)
        c->threads_per_child = 25;
    if (c->min_spare_threads < 0)
        c->min_spare_threads = 75;
    if (c->max_spare_threads < 0)
        c->max_spare_threads = 250;
    if (c->min_spare_servers < 0)
        c->min_spare_servers = 5;
    if (c->max_spare_servers < 0)
        c->max_spare_servers = 10;
    if (c->max_request_workers < 0)
        c->max_request_workers = prefork ? 256 : 400;
    if (c->max_connections_per_child < 0)
        c->max_connections_per_child = 0;
    if (c->listen_backlog < 0)
        c->listen_backlog = 511;
}

static pt_config_t *config_new(const char *path)
{
    pt_arena_t *a = pt_arena_create(16384);
    pt_config_t *c = pt_arena_calloc(a, sizeof(*c));
    c->arena = a;
    c->path = pt_arena_strdup(a, path);
    c->start_servers = c->server_limit = c->thread_limit = c->threads_per_child = -1;
    c->min_spare_threads = c->max_spare_threads = -1;
    c->min_spare_servers = c->max_spare_servers = -1;
    c->max_request_workers = c->max_connections_per_child = c->listen_backlog = -1;
    c->async_request_worker_factor = 2.0;
    c->error_log = "/dev/stderr";
    c->log_level = PT_LOG_WARN;
    c->server_tokens = 5;
    c->extended_status = true; /* Apache 2.4 turns it on when mod_status is loaded */
    return c;
}

static void note_absent_sections(pt_vhost_t *vh)
{
    unsigned present = 0;
    for (size_t i = 0; i < vh->nsections; i++)
        present |= PT_SEC_BIT(vh->sections[i].kind);
    vh->sections_absent = ~present & (PT_SEC_BIT(PT_SEC_LOCATION_MATCH + 1) - 1);
}

static int finish(dcx_t *l)
{
    pt_config_t *c = l->cfg;
    /* Apache listens on port 80 by default; portico insists on an explicit Listen so that
     * a test or container config never grabs a privileged port by accident. */
    if (c->nlistens == 0)
        return pt_dcx_fail(l, NULL, "%s: no Listen directive", c->path);
    if (!c->main_server->server_name) {
        char host[256] = "localhost";
        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        c->main_server->server_name = pt_arena_strdup(l->a, host);
    }
    mpm_defaults(c);
    for (size_t i = 0; i < c->nvhosts; i++) {
        vhost_inherit(l, c->vhosts[i], c->main_server);
        note_absent_sections(c->vhosts[i]);
    }
    note_absent_sections(c->main_server);
    char msg[PT_ERRLEN];
    c->mime = pt_mime_load(l->a, c->types_config, msg, sizeof(msg));
    if (!c->mime)
        return pt_dcx_fail(l, NULL, "%s: TypesConfig: %s", c->path, msg);
    for (size_t i = 0; i < l->nexts; i++)
        if (l->exts[i]->finish && l->exts[i]->finish(l) < 0)
            return -1;
    return 0;
}

/* ---- Extensions ------------------------------------------------------------------------- */

/* Written at start-up only, before any thread runs; read by every load after. */
static const pt_conf_ext_t *exts[PT_CONF_EXT_MAX];
static size_t nexts;

int pt_config_extend(const pt_conf_ext_t *ext)
{
    for (size_t i = 0; i < nexts; i++)
        if (exts[i] == ext)
            return 0;
    if (nexts == PT_CONF_EXT_MAX) {
        /* A start-up programming error: its directives would be unknown, so say it loudly. */
        fprintf(stderr, "portico: too many configuration extensions (PT_CONF_EXT_MAX %d): "
                        "'%s' not registered\n", PT_CONF_EXT_MAX, ext->name);
        abort();
    }
    exts[nexts++] = ext;
    if (ext->merge_require)
        pt_dcx_set_merge_require(ext->merge_require);
    return 0;
}

/* conf's tables, then each extension's, in the order they were registered. */
static size_t gather_tables(const dcx_directive_t **out)
{
    size_t n = 0;
    out[n++] = server_table;
    out[n++] = pt_dcx_dir_table;
    out[n++] = pt_dcx_alias_table;
    out[n++] = pt_dcx_compat_table;
    out[n++] = pt_dcx_expires_table;
    out[n++] = pt_dcx_limit_table;
    out[n++] = pt_dcx_core2_table;
    out[n++] = pt_dcx_compat2_table;
    out[n++] = pt_dcx_filter_table;
    for (size_t i = 0; i < nexts; i++)
        if (exts[i]->directives)
            out[n++] = exts[i]->directives;
    return n;
}

bool pt_dcx_directive_known(const char *name, bool section)
{
    const dcx_directive_t *tables[PT_DCX_TABLES_MAX];
    size_t nt = gather_tables(tables);
    for (size_t t = 0; t < nt; t++) {
        for (const dcx_directive_t *d = tables[t]; d->name; d++) {
            bool sec = d->name[0] == '<';
            if (sec == section && strcasecmp(d->name + sec, name) == 0)
                return true;
        }
    }
    return false;
}

void pt_dcx_init(dcx_t *l, pt_config_t *cfg, const dcx_directive_t **tables, void **state,
                 char *err, size_t errlen)
{
    *l = (dcx_t){.cfg = cfg, .a = cfg->arena, .err = err, .errlen = errlen, .tables = tables,
                 .ntables = gather_tables(tables), .exts = exts, .nexts = nexts,
                 .ext_state = state};
}

pt_config_t *pt_config_load(const char *path, const pt_parse_opts_t *opts, char *err,
                            size_t errlen)
{
    pt_config_t *c = config_new(path);
    const dcx_directive_t *tables[PT_DCX_TABLES_MAX];
    void *state[PT_CONF_EXT_MAX] = {0};
    dcx_t l = {.cfg = c, .a = c->arena, .err = err, .errlen = errlen, .tables = tables,
               .ntables = gather_tables(tables), .exts = exts, .nexts = nexts,
               .ext_state = state};
    pt_parse_opts_t o = opts ? *opts : (pt_parse_opts_t){0};
    o.directive_known = pt_dcx_directive_known;
    c->tree = pt_config_parse(c->arena, path, &o, &c->server_root, err, errlen);
    if (!c->tree) {
        pt_config_free(c);
        return NULL;
    }
    for (const pt_node_t *n = c->tree; n; n = n->next) {
        if (strcasecmp(n->name, "MPM") == 0 && n->argc == 1 && set_mpm(&l, NULL, n) < 0)
            break;
    }
    c->main_server = dcx_vhost_new(&l, true, NULL);
    dcx_scope_t s = {.where = W_SERVER, .vh = c->main_server, .dc = c->main_server->dir,
                     .name = "server config"};
    if (pt_dcx_walk(&l, &s, c->tree) < 0 || finish(&l) < 0) {
        pt_config_free(c);
        return NULL;
    }
    return c;
}

void pt_config_free(pt_config_t *cfg)
{
    if (!cfg)
        return;
    /* Nothing an extension makes can exist before the main server does. */
    for (size_t i = nexts; cfg->main_server && i-- > 0;)
        if (exts[i]->release)
            exts[i]->release(cfg);
    for (size_t i = 0; i < cfg->nregexes; i++)
        pt_regex_free(cfg->regexes[i]);
    pt_arena_destroy(cfg->arena);
}
