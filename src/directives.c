/* The directive table: every directive portico knows, where it may appear, how many
 * arguments it takes and the handler that stores it into pt_config_t; then the walk over the
 * parsed tree, virtual host inheritance and the defaults Apache 2.4 uses.
 * Everything lives in this one file because the shared loader types would otherwise need a
 * private header; see the split note at the per-directory part. */
#include "config.h"

#include "access.h"
#include "headers.h"
#include "log.h"
#include "mime.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where a directive may appear. */
enum {
    W_SERVER = 1 << 0, /* main server config */
    W_VHOST = 1 << 1,
    W_DIR = 1 << 2,    /* <Directory>, <DirectoryMatch> */
    W_LOC = 1 << 3,    /* <Location>, <LocationMatch> */
    W_FILES = 1 << 4,  /* <Files>, <FilesMatch> */
    W_AUTHZ = 1 << 5,  /* <RequireAll>, <RequireAny>, <RequireNone> */
    W_SECTIONS = W_DIR | W_LOC | W_FILES,
};

/* vhost fields whose "unset" cannot be told from a value. */
enum {
    DCX_SET_KEEPALIVE = 1 << 0,
    DCX_SET_TRACE = 1 << 1,
    DCX_SET_RT_HEADER = 1 << 2,
    DCX_SET_RT_BODY = 1 << 3,
};

typedef struct {
    pt_vhost_t vh; /* first: a pt_vhost_t * is a dcx_vhost_t * */
    unsigned set;
} dcx_vhost_t;

typedef struct {
    const char *name;
    pt_logformat_t *format;
} dcx_nick_t;

typedef struct {
    pt_vhost_t *vh;
    size_t index;
    const char *format;
    const pt_node_t *node;
} dcx_pending_t;

/* pt_config_t and what only the loader and pt_config_free need. */
typedef struct {
    pt_config_t cfg; /* first: a pt_config_t * is a dcx_priv_t * */
    regex_t **regs;  /* every compiled regex, for regfree */
    size_t nregs;
    dcx_nick_t *nicks;
    size_t nnicks;
    const char *default_format; /* last LogFormat without a nickname */
    dcx_pending_t *pending;  /* CustomLog formats to resolve at the end */
    size_t npending;
} dcx_priv_t;

typedef struct {
    pt_config_t *cfg;
    dcx_priv_t *priv;
    pt_arena_t *a;
    char *err;
    size_t errlen;
} dcx_t;

/* Where the walk is: the innermost section and what it fills. */
typedef struct {
    unsigned where;
    const char *name;       /* section name as written, for messages */
    pt_vhost_t *vh;
    pt_dir_config_t *dc;
    pt_section_t *sec;      /* innermost <Directory>/<Files>/<Location>, else NULL */
    pt_require_t **req;     /* Require lines and groups collected in this scope */
    size_t nreq;
} dcx_scope_t;

typedef struct {
    const char *name; /* "<Name" for sections */
    unsigned where;
    int min, max;
    int (*fn)(dcx_t *l, dcx_scope_t *s, const pt_node_t *n);
} dcx_directive_t;

static const dcx_directive_t dcx_dir_table[];
static int dcx_walk(dcx_t *l, dcx_scope_t *s, const pt_node_t *n);
static pt_vhost_t *dcx_vhost_new(dcx_t *l, bool main_server, const pt_node_t *n);
static pt_dir_config_t *dcx_dir_new(pt_arena_t *a);
static void dcx_dir_defaults(pt_arena_t *a, pt_dir_config_t *dc);
static void dcx_keep_regex(dcx_t *l, regex_t *re);
static void dcx_vhost_set(pt_vhost_t *vh, unsigned bit);

/* ---- Errors, arrays, numbers ------------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static int dcx_fail(dcx_t *l,
                                                           const pt_node_t *n,
                                                           const char *fmt, ...)
{
    char msg[PT_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n)
        snprintf(l->err, l->errlen, "%s:%d: %s", n->file, n->line, msg);
    else
        snprintf(l->err, l->errlen, "%s", msg);
    return -1;
}

/* Appends a zeroed element to an arena array whose capacity is implied by its length:
 * 4, then doubling at every power of two. */
static void *dcx_push(pt_arena_t *a, void *arrp, size_t *n, size_t elt)
{
    void **arr = arrp;
    size_t k = *n;
    if (k == 0 || (k >= 4 && (k & (k - 1)) == 0))
        *arr = pt_arena_grow(a, *arr, k * elt, (k == 0 ? 4 : 2 * k) * elt);
    void *slot = (char *)*arr + k * elt;
    memset(slot, 0, elt);
    (*n)++;
    return slot;
}

static regex_t *dcx_regex(dcx_t *l, const pt_node_t *n, const char *pattern, int flags)
{
    regex_t *re = pt_arena_calloc(l->a, sizeof(*re));
    int rc = regcomp(re, pattern, REG_EXTENDED | flags);
    if (rc != 0) {
        char msg[128];
        regerror(rc, re, msg, sizeof(msg));
        regfree(re);
        dcx_fail(l, n, "bad regex '%s': %s", pattern, msg);
        return NULL;
    }
    dcx_keep_regex(l, re);
    return re;
}

static void dcx_keep_regex(dcx_t *l, regex_t *re)
{
    regex_t **slot = dcx_push(l->a, &l->priv->regs, &l->priv->nregs, sizeof(*slot));
    *slot = re;
}

static int dcx_long(dcx_t *l, const pt_node_t *n, const char *s, long long min, long long max,
                long long *out)
{
    char *end;
    *out = 0; /* written on every path: callers need not initialise */
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return dcx_fail(l, n, "%s: '%s' is not a number", n->name, s);
    if (v < min || v > max)
        return dcx_fail(l, n, "%s: %s is out of range (%lld to %lld)", n->name, s, min,
                           max);
    *out = v;
    return 0;
}

static int arg_int(dcx_t *l, const pt_node_t *n, long long min, long long max, int *out)
{
    long long v = 0;
    if (dcx_long(l, n, n->argv[0], min, max, &v) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

static int dcx_onoff(dcx_t *l, const pt_node_t *n, const char *s, bool *out)
{
    *out = false;
    if (strcasecmp(s, "on") == 0)
        *out = true;
    else if (strcasecmp(s, "off") == 0)
        *out = false;
    else
        return dcx_fail(l, n, "%s must be On or Off", n->name);
    return 0;
}

static const char *dcx_path(dcx_t *l, const char *p)
{
    if (p[0] == '/' || !l->cfg->server_root)
        return pt_arena_strdup(l->a, p);
    return pt_arena_printf(l->a, "%s/%s", l->cfg->server_root, p);
}

/* Seconds, or milliseconds with an "ms" suffix (Apache's ap_timeout_parameter_parse). */
static int arg_timeout(dcx_t *l, const pt_node_t *n, const char *s, int64_t *ms)
{
    size_t len = strlen(s);
    bool is_ms = len > 2 && strcasecmp(s + len - 2, "ms") == 0;
    char *num = pt_arena_strndup(l->a, s, is_ms ? len - 2 : len);
    long long v = 0;
    if (dcx_long(l, n, num, 0, is_ms ? INT64_MAX / 2 : INT32_MAX, &v) < 0)
        return -1;
    *ms = is_ms ? v : v * 1000;
    return 0;
}

/* ---- Addresses -------------------------------------------------------------------------- */

/* Splits "host:port", "[v6]:port", "port" (host ""), "host" (port NULL). */
static int split_hostport(dcx_t *l, const pt_node_t *n, const char *spec, const char **host,
                          const char **port)
{
    if (spec[0] == '[') {
        const char *e = strchr(spec, ']');
        if (!e || (e[1] && e[1] != ':'))
            return dcx_fail(l, n, "%s: bad address '%s'", n->name, spec);
        *host = pt_arena_strndup(l->a, spec + 1, (size_t)(e - spec - 1));
        *port = e[1] ? e + 2 : NULL;
        return 0;
    }
    const char *colon = strrchr(spec, ':');
    if (colon && strchr(spec, ':') != colon)
        return dcx_fail(l, n, "%s: IPv6 address '%s' must be in []", n->name, spec);
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
        return dcx_fail(l, n, "%s: cannot resolve '%s': %s", n->name, host,
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
        return dcx_fail(l, n, "Listen: port must be specified in '%s'", n->argv[0]);
    if (dcx_long(l, n, port, 1, 65535, &p) < 0)
        return -1;
    pt_config_t *cfg = l->cfg;
    pt_listen_t *ls = dcx_push(l->a, &cfg->listens, &cfg->nlistens, sizeof(*ls));
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
            return dcx_fail(l, n,
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
        return dcx_fail(l, n, "VirtualHost: bad address '%s'", spec);
    va->port = 0;
    if (port && strcmp(port, "*") != 0) {
        long long p = 0;
        if (dcx_long(l, n, port, 0, 65535, &p) < 0)
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
    pt_vhost_t **slot = dcx_push(l->a, &l->cfg->vhosts, &l->cfg->nvhosts, sizeof(*slot));
    *slot = vh;
    dcx_scope_t in = {.where = W_VHOST, .vh = vh, .dc = vh->dir, .name = n->name};
    return dcx_walk(l, &in, n->children);
}

static int set_server_name(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *v = n->argv[0];
    const char *scheme = strstr(v, "://");
    if (scheme)
        v = scheme + 3;
    const char *colon = v[0] == '[' ? strstr(v, "]:") : strrchr(v, ':');
    if (colon && v[0] == '[')
        colon++;
    s->vh->server_port = 0;
    if (colon) {
        long long p = 0;
        if (dcx_long(l, n, colon + 1, 1, 65535, &p) < 0)
            return -1;
        s->vh->server_port = (int)p;
        v = pt_arena_strndup(l->a, v, (size_t)(colon - v));
    }
    if (!*v)
        return dcx_fail(l, n, "ServerName: empty host name");
    s->vh->server_name = v;
    return 0;
}

static int set_server_alias(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    for (int i = 0; i < n->argc; i++) {
        const char **slot = dcx_push(l->a, &s->vh->aliases, &s->vh->naliases, sizeof(*slot));
        *slot = n->argv[i];
    }
    return 0;
}

static int set_server_admin(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    s->vh->server_admin = n->argv[0];
    return 0;
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
    return dcx_fail(l, n, "ServerTokens: unknown value '%s'", n->argv[0]);
}

static int set_document_root(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *p = dcx_path(l, n->argv[0]);
    struct stat st;
    if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode) || access(p, R_OK | X_OK) < 0)
        return dcx_fail(l, n, "DocumentRoot '%s' is not a directory, or is not readable", p);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        len--;
    s->vh->document_root = pt_arena_strndup(l->a, p, len);
    return 0;
}

static int set_keepalive(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    dcx_vhost_set(s->vh, DCX_SET_KEEPALIVE);
    return dcx_onoff(l, n, n->argv[0], &s->vh->keepalive);
}

static int set_keepalive_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return arg_timeout(l, n, n->argv[0], &s->vh->keepalive_timeout_ms);
}

static int set_max_keepalive_requests(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return arg_int(l, n, 0, INT32_MAX, &s->vh->max_keepalive_requests);
}

static int set_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return arg_timeout(l, n, n->argv[0], &s->vh->timeout_ms);
}

/* One "stage=T[-MAX][,MinRate=R]" item of RequestReadTimeout. */
static int reqtimeout_item(dcx_t *l, const pt_node_t *n, const char *item, int64_t *t,
                           int64_t *tmax, int64_t *rate)
{
    const char *eq = strchr(item, '=');
    char *spec = pt_arena_strdup(l->a, eq + 1);
    char *rs = strchr(spec, ',');
    long long v = 0, w = 0, r = 0;
    *t = *tmax = *rate = 0;
    if (rs) {
        *rs++ = '\0';
        if (strncasecmp(rs, "MinRate=", 8) != 0)
            return dcx_fail(l, n, "RequestReadTimeout: bad item '%s'", item);
        if (dcx_long(l, n, rs + 8, 1, INT32_MAX, &r) < 0)
            return -1;
    }
    char *dash = strchr(spec, '-');
    if (dash)
        *dash++ = '\0';
    if (dcx_long(l, n, spec, 0, 86400, &v) < 0)
        return -1;
    if (dash && (dcx_long(l, n, dash, 0, 86400, &w) < 0))
        return -1;
    if (dash && w < v)
        return dcx_fail(l, n, "RequestReadTimeout: maximum below initial timeout");
    if (dash && !rs)
        return dcx_fail(l, n, "RequestReadTimeout: a range needs MinRate");
    *t = v * 1000;
    *tmax = w * 1000;
    *rate = v == 0 ? 0 : r;
    return 0;
}

static int set_request_read_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_vhost_t *vh = s->vh;
    for (int i = 0; i < n->argc; i++) {
        const char *a = n->argv[i];
        int64_t t = 0, tmax = 0, rate = 0;
        if (!strchr(a, '='))
            return dcx_fail(l, n, "RequestReadTimeout: bad item '%s'", a);
        if (reqtimeout_item(l, n, a, &t, &tmax, &rate) < 0)
            return -1;
        if (strncasecmp(a, "header=", 7) == 0) {
            vh->header_timeout_ms = t, vh->header_max_timeout_ms = tmax;
            vh->header_min_rate = rate;
            dcx_vhost_set(vh, DCX_SET_RT_HEADER);
        } else if (strncasecmp(a, "body=", 5) == 0) {
            vh->body_timeout_ms = t, vh->body_max_timeout_ms = tmax, vh->body_min_rate = rate;
            dcx_vhost_set(vh, DCX_SET_RT_BODY);
        } else if (strncasecmp(a, "handshake=", 10) != 0) {
            /* handshake= is accepted for TLS configs; TLS is not built yet. */
            return dcx_fail(l, n, "RequestReadTimeout: unknown stage in '%s'", a);
        }
    }
    return 0;
}

static int set_limit_size(dcx_t *l, const pt_node_t *n, long long max, size_t *out)
{
    long long v = 0;
    if (dcx_long(l, n, n->argv[0], 0, max, &v) < 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int set_limit_request_line(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_limit_size(l, n, 1 << 20, &s->vh->limit_request_line);
}

static int set_limit_request_fields(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_limit_size(l, n, 32767, &s->vh->limit_request_fields);
}

static int set_limit_request_field_size(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_limit_size(l, n, 1 << 20, &s->vh->limit_request_field_size);
}

static int set_trace_enable(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    dcx_vhost_set(s->vh, DCX_SET_TRACE);
    if (strcasecmp(n->argv[0], "extended") == 0) {
        s->vh->trace_enable = true;
        return 0;
    }
    return dcx_onoff(l, n, n->argv[0], &s->vh->trace_enable);
}

static int set_use_canonical_name(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool on = false;
    if (strcasecmp(n->argv[0], "DNS") == 0)
        return dcx_fail(l, n, "UseCanonicalName DNS is not supported (no DNS lookups)");
    if (dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    s->vh->use_canonical_name = on;
    return 0;
}

static int set_server_signature(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool on = false;
    if (strcasecmp(n->argv[0], "EMail") == 0) {
        s->vh->server_signature = 2;
        return 0;
    }
    if (dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    s->vh->server_signature = on;
    return 0;
}

/* ---- Logs ------------------------------------------------------------------------------- */

static const char *log_path(dcx_t *l, const pt_node_t *n, const char *p)
{
    if (p[0] == '|') {
        dcx_fail(l, n, "%s: piped logs are not supported", n->name);
        return NULL;
    }
    return dcx_path(l, p);
}

static int set_error_log(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (strncasecmp(n->argv[0], "syslog", 6) == 0)
        return dcx_fail(l, n, "ErrorLog: syslog is not supported");
    const char *p = log_path(l, n, n->argv[0]);
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
            return dcx_fail(l, n, "LogLevel: unknown level '%s'", a);
        if (!colon && s->where == W_SERVER)
            l->cfg->log_level = lv;
    }
    return 0;
}

static int set_log_format(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    char msg[PT_ERRLEN];
    pt_logformat_t *f = pt_logformat_compile(l->a, n->argv[0], msg, sizeof(msg));
    if (!f)
        return dcx_fail(l, n, "LogFormat: %s", msg);
    if (n->argc == 1) {
        l->priv->default_format = n->argv[0];
        return 0;
    }
    dcx_nick_t *k = dcx_push(l->a, &l->priv->nicks, &l->priv->nnicks, sizeof(*k));
    k->name = n->argv[1];
    k->format = f;
    return 0;
}

static int add_log(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, const char *path,
                   const char *format, const char *env)
{
    const char *p = log_path(l, n, path);
    if (!p)
        return -1;
    if (env && strncmp(env, "env=", 4) != 0)
        return dcx_fail(l, n, "%s: third argument must be env=[!]VAR", n->name);
    pt_customlog_t *cl = dcx_push(l->a, &s->vh->logs, &s->vh->nlogs, sizeof(*cl));
    cl->path = p;
    cl->env_cond = env ? env + 4 : NULL;
    /* Formats are looked up after the whole file is read: LogFormat may come later. */
    dcx_pending_t *pd = dcx_push(l->a, &l->priv->pending, &l->priv->npending,
                                       sizeof(*pd));
    pd->vh = s->vh;
    pd->index = s->vh->nlogs - 1;
    pd->format = format;
    pd->node = n;
    return 0;
}

static int set_custom_log(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_log(l, s, n, n->argv[0], n->argv[1], n->argc == 3 ? n->argv[2] : NULL);
}

static int set_transfer_log(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *fmt = l->priv->default_format ? l->priv->default_format : "common";
    return add_log(l, s, n, n->argv[0], fmt, NULL);
}

static int resolve_log_formats(dcx_t *l)
{
    char msg[PT_ERRLEN];
    for (size_t i = 0; i < l->priv->npending; i++) {
        dcx_pending_t *pd = &l->priv->pending[i];
        pt_logformat_t *f = NULL;
        for (size_t k = l->priv->nnicks; k-- > 0 && !f;)
            if (strcmp(l->priv->nicks[k].name, pd->format) == 0)
                f = l->priv->nicks[k].format;
        if (!f)
            f = pt_logformat_compile(l->a, pd->format, msg, sizeof(msg));
        if (!f)
            return dcx_fail(l, pd->node, "%s: %s", pd->node->name, msg);
        pd->vh->logs[pd->index].format = f;
    }
    return 0;
}

/* ---- Process model and the rest --------------------------------------------------------- */

static int set_pid_file(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    l->cfg->pid_file = dcx_path(l, n->argv[0]);
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
    return dcx_fail(l, n, "MPM must be event, worker or prefork");
}

/* Process-model numbers, each stored at an offset in pt_config_t. */
#define MPM_FIELD(fn, field)                                                               \
    static int fn(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)                      \
    {                                                                                      \
        return arg_int(l, n, 0, INT32_MAX, &l->cfg->field);                                \
    }
MPM_FIELD(set_start_servers, start_servers)
MPM_FIELD(set_server_limit, server_limit)
MPM_FIELD(set_thread_limit, thread_limit)
MPM_FIELD(set_threads_per_child, threads_per_child)
MPM_FIELD(set_min_spare_threads, min_spare_threads)
MPM_FIELD(set_max_spare_threads, max_spare_threads)
MPM_FIELD(set_min_spare_servers, min_spare_servers)
MPM_FIELD(set_max_spare_servers, max_spare_servers)
MPM_FIELD(set_max_request_workers, max_request_workers)
MPM_FIELD(set_max_connections_per_child, max_connections_per_child)
MPM_FIELD(set_listen_backlog, listen_backlog)

static int set_async_request_worker_factor(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    char *end;
    double v = strtod(n->argv[0], &end);
    if (*end || !(v > 0) || v > 1000)
        return dcx_fail(l, n, "AsyncRequestWorkerFactor: bad value '%s'", n->argv[0]);
    l->cfg->async_request_worker_factor = v;
    return 0;
}

static int set_graceful_shutdown_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return arg_timeout(l, n, n->argv[0], &l->cfg->graceful_shutdown_timeout_ms);
}

static int set_types_config(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    l->cfg->types_config = dcx_path(l, n->argv[0]);
    return 0;
}

static int set_hostname_lookups(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (strcasecmp(n->argv[0], "Off") == 0)
        return 0;
    if (strcasecmp(n->argv[0], "On") == 0 || strcasecmp(n->argv[0], "Double") == 0)
        return dcx_fail(l, n, "HostnameLookups %s is not supported: portico does no "
                                 "reverse DNS lookups", n->argv[0]);
    return dcx_fail(l, n, "HostnameLookups must be On, Off or Double");
}

/* Accepted for compatibility with Apache configs; nothing to store yet. */
static int set_ignored(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return 0;
}

/* ---- The table -------------------------------------------------------------------------- */

#define SRV (W_SERVER | W_VHOST)
#define ALL (W_SERVER | W_VHOST | W_SECTIONS)
#define NOMAX -1

static const dcx_directive_t server_table[] = {
    {"ServerRoot", W_SERVER, 1, 1, set_ignored}, /* applied by the parser */
    {"Listen", W_SERVER, 1, 2, set_listen},
    {"ServerName", SRV, 1, 1, set_server_name},
    {"ServerAlias", W_VHOST, 1, NOMAX, set_server_alias},
    {"ServerAdmin", SRV, 1, 1, set_server_admin},
    {"ServerTokens", W_SERVER, 1, 1, set_server_tokens},
    {"DocumentRoot", SRV, 1, 1, set_document_root},
    {"KeepAlive", SRV, 1, 1, set_keepalive},
    {"KeepAliveTimeout", SRV, 1, 1, set_keepalive_timeout},
    {"MaxKeepAliveRequests", SRV, 1, 1, set_max_keepalive_requests},
    {"Timeout", SRV, 1, 1, set_timeout},
    {"RequestReadTimeout", SRV, 1, 3, set_request_read_timeout},
    {"LimitRequestLine", SRV, 1, 1, set_limit_request_line},
    {"LimitRequestFields", SRV, 1, 1, set_limit_request_fields},
    {"LimitRequestFieldSize", SRV, 1, 1, set_limit_request_field_size},
    {"TraceEnable", SRV, 1, 1, set_trace_enable},
    {"UseCanonicalName", SRV, 1, 1, set_use_canonical_name},
    {"ServerSignature", SRV, 1, 1, set_server_signature},
    {"ErrorLog", SRV, 1, 1, set_error_log},
    {"LogLevel", ALL, 1, NOMAX, set_log_level},
    {"LogFormat", SRV, 1, 2, set_log_format},
    {"CustomLog", SRV, 2, 3, set_custom_log},
    {"TransferLog", SRV, 1, 1, set_transfer_log},
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
    {"AccessFileName", SRV, 1, NOMAX, set_ignored},
    {"DefaultRuntimeDir", W_SERVER, 1, 1, set_ignored},
    {"Mutex", W_SERVER, 1, 2, set_ignored},
    {"Protocols", SRV, 1, NOMAX, set_ignored},
    {"ProtocolsHonorOrder", SRV, 1, 1, set_ignored},
    {"<VirtualHost", W_SERVER, 1, NOMAX, set_virtual_host},
    {NULL, 0, 0, 0, NULL},
};

static const dcx_directive_t *lookup(const pt_node_t *n)
{
    const dcx_directive_t *tables[] = {server_table, dcx_dir_table};
    for (size_t t = 0; t < PT_ARRAY_LEN(tables); t++) {
        for (const dcx_directive_t *d = tables[t]; d->name; d++) {
            bool sec = d->name[0] == '<';
            if (sec == n->section && strcasecmp(d->name + sec, n->name) == 0)
                return d;
        }
    }
    return NULL;
}

static int check_use(dcx_t *l, dcx_scope_t *s, const pt_node_t *n,
                     const dcx_directive_t *d)
{
    const char *lt = n->section ? "<" : "";
    if (!(d->where & s->where)) {
        if (s->where == W_SERVER)
            return dcx_fail(l, n, "%s%s not allowed here", lt, n->name);
        return dcx_fail(l, n, "%s%s cannot occur within <%s> section", lt, n->name,
                           s->name);
    }
    if (n->argc < d->min || (d->max != NOMAX && n->argc > d->max)) {
        if (d->min == d->max)
            return dcx_fail(l, n, "%s%s takes %d argument%s, got %d", lt, n->name, d->min,
                               d->min == 1 ? "" : "s", n->argc);
        if (d->max == NOMAX)
            return dcx_fail(l, n, "%s%s takes at least %d argument%s, got %d", lt, n->name,
                               d->min, d->min == 1 ? "" : "s", n->argc);
        return dcx_fail(l, n, "%s%s takes %d to %d arguments, got %d", lt, n->name, d->min,
                           d->max, n->argc);
    }
    return 0;
}

static int dcx_walk(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    for (; n; n = n->next) {
        if (n->name[0] == '#')
            continue;
        const dcx_directive_t *d = lookup(n);
        if (!d)
            return dcx_fail(l, n,
                               "Invalid command '%s%s', perhaps misspelled or defined by a "
                               "module not included in the server configuration",
                               n->section ? "<" : "", n->name);
        if (check_use(l, s, n, d) < 0 || d->fn(l, s, n) < 0)
            return -1;
    }
    return 0;
}

/* ---- Virtual hosts: creation and inheritance -------------------------------------------- */

static pt_vhost_t *dcx_vhost_new(dcx_t *l, bool main_server, const pt_node_t *n)
{
    dcx_vhost_t *p = pt_arena_calloc(l->a, sizeof(*p));
    pt_vhost_t *vh = &p->vh;
    vh->dir = dcx_dir_new(l->a);
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
        dcx_dir_defaults(l->a, vh->dir);
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

static void dcx_vhost_set(pt_vhost_t *vh, unsigned bit)
{
    ((dcx_vhost_t *)vh)->set |= bit;
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
    INHERIT(document_root, NULL);
    INHERIT(keepalive_timeout_ms, -1);
    INHERIT(max_keepalive_requests, -1);
    INHERIT(timeout_ms, -1);
    INHERIT(limit_request_line, SIZE_MAX);
    INHERIT(limit_request_fields, SIZE_MAX);
    INHERIT(limit_request_field_size, SIZE_MAX);
    INHERIT(use_canonical_name, -1);
    INHERIT(server_signature, -1);
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
    vh->dir = pt_dir_config_merge(l->a, m->dir, vh->dir);
    /* Apache: the main server's sections come first; mod_alias puts the vhost's first. */
    vh->sections = concat(l->a, m->sections, m->nsections, vh->sections, vh->nsections,
                          sizeof(pt_section_t), &vh->nsections);
    vh->aliases_map = concat(l->a, vh->aliases_map, vh->naliases_map, m->aliases_map,
                             m->naliases_map, sizeof(pt_alias_t), &vh->naliases_map);
    vh->redirects = concat(l->a, vh->redirects, vh->nredirects, m->redirects, m->nredirects,
                           sizeof(pt_redirect_t), &vh->nredirects);
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
    dcx_priv_t *p = pt_arena_calloc(a, sizeof(*p));
    pt_config_t *c = &p->cfg;
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
    return c;
}

static int finish(dcx_t *l)
{
    pt_config_t *c = l->cfg;
    /* Apache listens on port 80 by default; portico insists on an explicit Listen so that
     * a test or container config never grabs a privileged port by accident. */
    if (c->nlistens == 0)
        return dcx_fail(l, NULL, "%s: no Listen directive", c->path);
    if (resolve_log_formats(l) < 0)
        return -1;
    if (!c->main_server->server_name) {
        char host[256] = "localhost";
        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        c->main_server->server_name = pt_arena_strdup(l->a, host);
    }
    mpm_defaults(c);
    for (size_t i = 0; i < c->nvhosts; i++)
        vhost_inherit(l, c->vhosts[i], c->main_server);
    char msg[PT_ERRLEN];
    c->mime = pt_mime_load(l->a, c->types_config, msg, sizeof(msg));
    if (!c->mime)
        return dcx_fail(l, NULL, "%s: TypesConfig: %s", c->path, msg);
    return 0;
}

pt_config_t *pt_config_load(const char *path, const pt_parse_opts_t *opts, char *err,
                            size_t errlen)
{
    pt_config_t *c = config_new(path);
    dcx_t l = {.cfg = c, .priv = (dcx_priv_t *)c, .a = c->arena, .err = err,
                  .errlen = errlen};
    c->tree = pt_config_parse(c->arena, path, opts, &c->server_root, err, errlen);
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
    if (dcx_walk(&l, &s, c->tree) < 0 || finish(&l) < 0) {
        pt_config_free(c);
        return NULL;
    }
    return c;
}

void pt_config_free(pt_config_t *cfg)
{
    if (!cfg)
        return;
    dcx_priv_t *p = (dcx_priv_t *)cfg;
    for (size_t i = 0; i < p->nregs; i++)
        regfree(p->regs[i]);
    pt_arena_destroy(cfg->arena);
}

/* ---- Per-directory directives ------------------------------------------------------------
 * These fill a pt_dir_config_t: the server's (or vhost's) defaults or a section's. They
 * could move to directives_dir.c, which would need the loader types above in a private
 * header. */

static pt_dir_config_t *dcx_dir_new(pt_arena_t *a)
{
    pt_dir_config_t *dc = pt_arena_calloc(a, sizeof(*dc));
    dc->limit_request_body = -1;
    dc->enable_sendfile = -1;
    dc->enable_mmap = -1;
    return dc;
}

/* Apache 2.4's defaults for the main server. */
static void dcx_dir_defaults(pt_arena_t *a, pt_dir_config_t *dc)
{
    dc->options = PT_OPT_FOLLOW_SYMLINKS;
    dc->options_set = true;
    const char **idx = pt_arena_alloc(a, sizeof(*idx));
    idx[0] = "index.html";
    dc->dir_index = idx;
    dc->ndir_index = 1;
    dc->dir_index_set = true;
    dc->limit_request_body = (int64_t)1 << 30;
    dc->enable_sendfile = 0;
    dc->enable_mmap = 1;
}

static int finish_require(dcx_t *l, dcx_scope_t *in)
{
    if (in->nreq == 1)
        in->dc->require = in->req[0];
    else if (in->nreq > 1)
        in->dc->require = pt_require_group(l->a, PT_REQUIRE_GROUP_ANY, in->req, in->nreq);
    return 0;
}

/* <Directory>, <DirectoryMatch>, <Files>, <FilesMatch>, <Location>, <LocationMatch>. */
static int section(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, pt_section_kind_t kind,
                   unsigned where)
{
    const char *pat = n->argv[0];
    bool tilde = strcmp(pat, "~") == 0;
    if (tilde && kind != PT_SEC_DIRECTORY && kind != PT_SEC_FILES && kind != PT_SEC_LOCATION)
        return dcx_fail(l, n, "<%s ~> is not allowed; the section is a regex already",
                           n->name);
    if (n->argc != (tilde ? 2 : 1))
        return dcx_fail(l, n, "<%s> takes one argument (or ~ and a regex)", n->name);
    if (tilde) {
        pat = n->argv[1];
        kind++; /* the *_MATCH kind follows each plain one */
    }
    pt_section_t *sec = pt_arena_calloc(l->a, sizeof(*sec));
    sec->kind = kind;
    sec->file = n->file;
    sec->line = n->line;
    sec->conf = dcx_dir_new(l->a);
    if (kind == PT_SEC_DIRECTORY_MATCH || kind == PT_SEC_FILES_MATCH ||
        kind == PT_SEC_LOCATION_MATCH) {
        if (!(sec->re = dcx_regex(l, n, pat, 0)))
            return -1;
    } else if (kind == PT_SEC_DIRECTORY) {
        size_t len = strlen(pat);
        while (len > 1 && pat[len - 1] == '/')
            len--;
        pat = pt_arena_strndup(l->a, pat, len);
    }
    sec->pattern = pat;
    if (where == W_FILES && s->sec)
        sec->within = s->sec;
    pt_section_t *slot = dcx_push(l->a, &s->vh->sections, &s->vh->nsections, sizeof(*slot));
    dcx_scope_t in = {.where = where, .name = n->name, .vh = s->vh, .dc = sec->conf,
                         .sec = sec};
    int rc = dcx_walk(l, &in, n->children);
    finish_require(l, &in);
    /* The slot was taken before the walk so sections stay in file order (outer first). */
    *slot = *sec;
    return rc;
}

static int set_directory(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return section(l, s, n, PT_SEC_DIRECTORY, W_DIR);
}

static int set_directory_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return section(l, s, n, PT_SEC_DIRECTORY_MATCH, W_DIR);
}

static int set_files(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return section(l, s, n, PT_SEC_FILES, W_FILES);
}

static int set_files_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return section(l, s, n, PT_SEC_FILES_MATCH, W_FILES);
}

static int set_location(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return section(l, s, n, PT_SEC_LOCATION, W_LOC);
}

static int set_location_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return section(l, s, n, PT_SEC_LOCATION_MATCH, W_LOC);
}

static int add_require(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, pt_require_t *r)
{
    r->file = n->file;
    r->line = n->line;
    pt_require_t **slot = dcx_push(l->a, &s->req, &s->nreq, sizeof(*slot));
    *slot = r;
    return 0;
}

static int set_require(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    char msg[PT_ERRLEN];
    pt_require_t *r = pt_require_parse(l->a, n->argc, n->argv, msg, sizeof(msg));
    if (!r)
        return dcx_fail(l, n, "Require: %s", msg);
    return add_require(l, s, n, r);
}

static int require_group(dcx_t *l, dcx_scope_t *s, const pt_node_t *n,
                         pt_require_kind_t kind)
{
    dcx_scope_t in = *s;
    in.where = W_AUTHZ;
    in.name = n->name;
    in.req = NULL;
    in.nreq = 0;
    if (dcx_walk(l, &in, n->children) < 0)
        return -1;
    if (in.nreq == 0)
        return dcx_fail(l, n, "<%s> has no Require directive", n->name);
    return add_require(l, s, n, pt_require_group(l->a, kind, in.req, in.nreq));
}

static int set_require_all(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return require_group(l, s, n, PT_REQUIRE_GROUP_ALL);
}

static int set_require_any(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return require_group(l, s, n, PT_REQUIRE_GROUP_ANY);
}

static int set_require_none(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return require_group(l, s, n, PT_REQUIRE_GROUP_NONE);
}

static int option_bit(const char *w, unsigned *bit)
{
    static const struct {
        const char *name;
        unsigned bit;
    } opts[] = {
        {"Indexes", PT_OPT_INDEXES},
        {"FollowSymLinks", PT_OPT_FOLLOW_SYMLINKS},
        {"SymLinksIfOwnerMatch", PT_OPT_SYMLINKS_IF_OWNER},
        {"ExecCGI", PT_OPT_EXECCGI},
        {"Includes", PT_OPT_INCLUDES},
        {"IncludesNOEXEC", PT_OPT_INCLUDES},
        {"MultiViews", PT_OPT_MULTIVIEWS},
        /* Apache's OPT_ALL leaves out MultiViews and SymLinksIfOwnerMatch. */
        {"All", PT_OPT_INDEXES | PT_OPT_INCLUDES | PT_OPT_FOLLOW_SYMLINKS | PT_OPT_EXECCGI},
        {"None", 0},
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(opts); i++) {
        if (strcasecmp(w, opts[i].name) == 0) {
            *bit = opts[i].bit;
            return 0;
        }
    }
    return -1;
}

static int set_options(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_dir_config_t *dc = s->dc;
    unsigned abs = 0, add = 0, rem = 0;
    int nrel = 0;
    for (int i = 0; i < n->argc; i++) {
        const char *w = n->argv[i];
        bool rel = w[0] == '+' || w[0] == '-';
        unsigned bit;
        if (option_bit(w + rel, &bit) < 0)
            return dcx_fail(l, n, "Illegal option %s", w + rel);
        nrel += rel;
        if (!rel)
            abs |= bit;
        else if (w[0] == '+')
            add |= bit, rem &= ~bit;
        else
            rem |= bit, add &= ~bit;
    }
    if (nrel && nrel != n->argc)
        return dcx_fail(l, n, "Either all Options must start with + or -, or no Option "
                                 "may.");
    if (!nrel) {
        dc->options = abs;
        dc->options_set = true;
        dc->options_add = dc->options_remove = 0;
    } else if (dc->options_set) {
        dc->options = (dc->options & ~rem) | add;
    } else {
        dc->options_add = (dc->options_add & ~rem) | add;
        dc->options_remove = (dc->options_remove & ~add) | rem;
        dc->options_rel = true;
    }
    return 0;
}

static int set_allow_override(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (n->argc == 1 && strcasecmp(n->argv[0], "None") == 0)
        return 0;
    return dcx_fail(l, n, "%s: only None is accepted: portico reads no .htaccess files",
                       n->name);
}

static int header_rule(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, bool req)
{
    char msg[PT_ERRLEN];
    pt_dir_config_t *dc = s->dc;
    pt_header_rule_t *r = req ? dcx_push(l->a, &dc->req_headers, &dc->nreq_headers,
                                            sizeof(*r))
                              : dcx_push(l->a, &dc->headers, &dc->nheaders, sizeof(*r));
    if (pt_header_rule_parse(l->a, req, n->argc, n->argv, r, msg, sizeof(msg)) < 0)
        return dcx_fail(l, n, "%s: %s", n->name, msg);
    if (r->re)
        dcx_keep_regex(l, r->re);
    return 0;
}

static int set_header(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return header_rule(l, s, n, false);
}

static int set_request_header(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return header_rule(l, s, n, true);
}

static int set_directory_index(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_dir_config_t *dc = s->dc;
    dc->dir_index_set = true;
    dc->ndir_index = 0;
    dc->dir_index = NULL;
    for (int i = 0; i < n->argc; i++) {
        if (strcasecmp(n->argv[i], "disabled") == 0) {
            dc->ndir_index = 0;
            return 0;
        }
    }
    dc->dir_index = n->argv;
    dc->ndir_index = (size_t)n->argc;
    return 0;
}

static int set_fallback_resource(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    s->dc->fallback = strcasecmp(n->argv[0], "disabled") == 0 ? "" : n->argv[0];
    return 0;
}

static int add_alias(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, bool regex)
{
    pt_alias_t *al = dcx_push(l->a, &s->vh->aliases_map, &s->vh->naliases_map, sizeof(*al));
    al->regex = regex;
    al->from = n->argv[0];
    al->to = n->argv[1];
    if (regex && !(al->re = dcx_regex(l, n, al->from, 0)))
        return -1;
    return 0;
}

static int set_alias(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_alias(l, s, n, false);
}

static int set_alias_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_alias(l, s, n, true);
}

static int redirect_status(const char *w)
{
    static const struct {
        const char *name;
        int status;
    } t[] = {{"permanent", 301}, {"temp", 302}, {"seeother", 303}, {"gone", 410}};
    for (size_t i = 0; i < PT_ARRAY_LEN(t); i++)
        if (strcasecmp(w, t[i].name) == 0)
            return t[i].status;
    if (strspn(w, "0123456789") == strlen(w) && strlen(w) == 3)
        return atoi(w);
    return 0;
}

/* Redirect [status] [URL-path] [URL]: the path may be left out inside <Location>, the URL
 * must be left out for a status outside 3xx (gone). */
static int add_redirect(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, int status)
{
    int i = 0;
    if (!status && n->argc > 1 && (status = redirect_status(n->argv[0])) != 0)
        i = 1;
    else if (!status && n->argc == 3)
        return dcx_fail(l, n, "Redirect: unknown status '%s'", n->argv[0]);
    if (!status)
        status = 302;
    if (status < 300 || status > 599 || (status >= 400 && status != 410 && status < 400))
        return dcx_fail(l, n, "Redirect: bad status %d", status);
    bool needs_url = status < 400;
    int left = n->argc - i;
    bool in_loc = s->sec && s->sec->kind == PT_SEC_LOCATION;
    int want = (needs_url ? 2 : 1) - (in_loc && left < (needs_url ? 2 : 1) ? 1 : 0);
    if (left != want || want == 0)
        return dcx_fail(l, n, "%s: wrong number of arguments", n->name);
    pt_redirect_t r = {.status = status};
    r.path = want == (needs_url ? 2 : 1) ? n->argv[i++] : s->sec->pattern;
    r.url = needs_url ? n->argv[i] : NULL;
    if (r.url && r.url[0] != '/' && !strstr(r.url, "://"))
        return dcx_fail(l, n, "%s to non-URL '%s'", n->name, r.url);
    bool server = s->where & (W_SERVER | W_VHOST);
    pt_redirect_t *slot = server ? dcx_push(l->a, &s->vh->redirects, &s->vh->nredirects,
                                               sizeof(*slot))
                                 : dcx_push(l->a, &s->dc->redirects, &s->dc->nredirects,
                                               sizeof(*slot));
    *slot = r;
    return 0;
}

static int set_redirect(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_redirect(l, s, n, 0);
}

static int set_redirect_permanent(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_redirect(l, s, n, 301);
}

static int set_redirect_temp(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_redirect(l, s, n, 302);
}

static int set_error_document(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    long long code = 0;
    if (dcx_long(l, n, n->argv[0], 400, 599, &code) < 0)
        return -1;
    pt_dir_config_t *dc = s->dc;
    for (size_t i = 0; i < dc->nerrordocs; i++) {
        if (dc->errordocs[i].status == code) {
            ((pt_errordoc_t *)dc->errordocs)[i].value = n->argv[1];
            return 0;
        }
    }
    pt_errordoc_t *e = dcx_push(l->a, &dc->errordocs, &dc->nerrordocs, sizeof(*e));
    e->status = (int)code;
    e->value = n->argv[1];
    return 0;
}

static int add_ext_map(dcx_t *l, const pt_node_t *n, const pt_ext_map_t **v, size_t *nv)
{
    for (int i = 1; i < n->argc; i++) {
        const char *e = n->argv[i] + (n->argv[i][0] == '.');
        char *low = pt_arena_strdup(l->a, e);
        for (char *c = low; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        pt_ext_map_t *m = dcx_push(l->a, v, nv, sizeof(*m));
        m->ext = low;
        m->value = n->argv[0];
    }
    return 0;
}

static int set_add_type(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_ext_map(l, n, &s->dc->types, &s->dc->ntypes);
}

static int set_add_handler(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_ext_map(l, n, &s->dc->handlers, &s->dc->nhandlers);
}

static int set_set_handler(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    s->dc->handler = strcasecmp(n->argv[0], "none") == 0 ? "none" : n->argv[0];
    return 0;
}

static int set_force_type(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    s->dc->default_type = n->argv[0];
    return 0;
}

static int set_add_default_charset(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *v = n->argv[0];
    /* Apache's "On" means its historical default, ISO-8859-1. */
    s->dc->default_charset = strcasecmp(v, "On") == 0    ? "ISO-8859-1"
                             : strcasecmp(v, "Off") == 0 ? ""
                                                         : v;
    return 0;
}

static int add_env(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, int kind,
                   const char *attr, const char *re, int first_var)
{
    pt_env_rule_t *e = dcx_push(l->a, &s->dc->env, &s->dc->nenv, sizeof(*e));
    e->kind = kind;
    e->attribute = attr;
    if (re && !(e->re = dcx_regex(l, n, re, kind == PT_ENV_SETIF_NOCASE ? REG_ICASE : 0)))
        return -1;
    e->vars = n->argv + first_var;
    e->nvars = (size_t)(n->argc - first_var);
    return 0;
}

static int set_set_env_if(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_env(l, s, n, PT_ENV_SETIF, n->argv[0], n->argv[1], 2);
}

static int set_set_env_if_no_case(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_env(l, s, n, PT_ENV_SETIF_NOCASE, n->argv[0], n->argv[1], 2);
}

static int set_browser_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_env(l, s, n, PT_ENV_SETIF, "User-Agent", n->argv[0], 1);
}

static int set_browser_match_no_case(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_env(l, s, n, PT_ENV_SETIF_NOCASE, "User-Agent", n->argv[0], 1);
}

static int set_set_env(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_env_rule_t *e = dcx_push(l->a, &s->dc->env, &s->dc->nenv, sizeof(*e));
    const char **v = pt_arena_alloc(l->a, sizeof(*v));
    v[0] = pt_arena_printf(l->a, "%s=%s", n->argv[0], n->argc == 2 ? n->argv[1] : "");
    e->kind = PT_ENV_SET;
    e->vars = v;
    e->nvars = 1;
    return 0;
}

static int set_unset_env(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_env(l, s, n, PT_ENV_UNSET, NULL, NULL, 0);
}

static int set_limit_request_body(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    long long v = 0;
    if (dcx_long(l, n, n->argv[0], 0, INT64_MAX, &v) < 0)
        return -1;
    s->dc->limit_request_body = v;
    return 0;
}

static int set_onoff_field(dcx_t *l, const pt_node_t *n, int *field)
{
    bool on = false;
    if (dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    *field = on;
    return 0;
}

static int set_enable_sendfile(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_onoff_field(l, n, &s->dc->enable_sendfile);
}

static int set_enable_mmap(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_onoff_field(l, n, &s->dc->enable_mmap);
}

#define DIRS (W_SERVER | W_VHOST | W_DIR)
#define SECT W_SECTIONS

static const dcx_directive_t dcx_dir_table[] = {
    {"<Directory", SRV, 1, 2, set_directory},
    {"<DirectoryMatch", SRV, 1, 1, set_directory_match},
    {"<Files", DIRS, 1, 2, set_files},
    {"<FilesMatch", DIRS, 1, 1, set_files_match},
    {"<Location", SRV, 1, 2, set_location},
    {"<LocationMatch", SRV, 1, 1, set_location_match},
    {"Require", SECT | W_AUTHZ, 1, NOMAX, set_require},
    {"<RequireAll", SECT | W_AUTHZ, 0, 0, set_require_all},
    {"<RequireAny", SECT | W_AUTHZ, 0, 0, set_require_any},
    {"<RequireNone", SECT | W_AUTHZ, 0, 0, set_require_none},
    {"Options", ALL, 1, NOMAX, set_options},
    {"AllowOverride", W_DIR, 1, NOMAX, set_allow_override},
    {"AllowOverrideList", W_DIR, 1, NOMAX, set_allow_override},
    {"Header", ALL, 2, NOMAX, set_header},
    {"RequestHeader", ALL, 2, NOMAX, set_request_header},
    {"DirectoryIndex", ALL, 1, NOMAX, set_directory_index},
    {"FallbackResource", ALL, 1, 1, set_fallback_resource},
    {"Alias", SRV, 2, 2, set_alias},
    {"AliasMatch", SRV, 2, 2, set_alias_match},
    {"Redirect", ALL, 1, 3, set_redirect},
    {"RedirectPermanent", ALL, 1, 2, set_redirect_permanent},
    {"RedirectTemp", ALL, 1, 2, set_redirect_temp},
    {"ErrorDocument", ALL, 2, 2, set_error_document},
    {"AddType", ALL, 2, NOMAX, set_add_type},
    {"AddHandler", ALL, 2, NOMAX, set_add_handler},
    {"SetHandler", ALL, 1, 1, set_set_handler},
    {"ForceType", ALL, 1, 1, set_force_type},
    {"AddDefaultCharset", ALL, 1, 1, set_add_default_charset},
    {"SetEnvIf", ALL, 3, NOMAX, set_set_env_if},
    {"SetEnvIfNoCase", ALL, 3, NOMAX, set_set_env_if_no_case},
    {"BrowserMatch", ALL, 2, NOMAX, set_browser_match},
    {"BrowserMatchNoCase", ALL, 2, NOMAX, set_browser_match_no_case},
    {"SetEnv", ALL, 1, 2, set_set_env},
    {"UnsetEnv", ALL, 1, NOMAX, set_unset_env},
    {"LimitRequestBody", ALL, 1, 1, set_limit_request_body},
    {"EnableSendfile", ALL, 1, 1, set_enable_sendfile},
    {"EnableMMAP", ALL, 1, 1, set_enable_mmap},
    {NULL, 0, 0, 0, NULL},
};
