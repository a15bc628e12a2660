/* The proxy directives (mod_proxy, mod_proxy_fcgi): ProxyPass, ProxyPassMatch, ProxyTimeout,
 * ProxyFCGIBackendType, ProxyFCGISetEnvIf, and the backend URLs that ProxyPass and
 * SetHandler "proxy:..." name. Only fcgi:// backends exist so far. */
#include "directives.h"

#include "fcgi/fcgi.h"

#include <stdio.h>
#include <stdlib.h>

#define PT_FCGI_DEFAULT_PORT 8000 /* mod_proxy_fcgi's default for fcgi:// */

/* ---- Backend URLs ---------------------------------------------------------------------- */

/* The backend already made for this URL, so that every rule naming it shares one pool (as
 * Apache shares a worker): searched in the server and virtual hosts parsed so far. */
static pt_backend_t *find_in_dir(const pt_dir_config_t *dc, const char *url)
{
    pt_backend_t *b = dc ? dc->handler_backend : NULL;
    return b && strcmp(b->url, url) == 0 ? b : NULL;
}

static pt_backend_t *find_in_vhost(const pt_vhost_t *vh, const char *url)
{
    if (!vh)
        return NULL;
    for (size_t i = 0; i < vh->nproxy_passes; i++) {
        pt_backend_t *b = vh->proxy_passes[i].backend;
        if (b && strcmp(b->url, url) == 0)
            return b;
    }
    for (size_t i = 0; i < vh->nsections; i++) {
        pt_backend_t *b = find_in_dir(vh->sections[i].conf, url);
        if (b)
            return b;
    }
    return find_in_dir(vh->dir, url);
}

static pt_backend_t *find_backend(dcx_t *l, dcx_scope_t *s, const char *url)
{
    pt_backend_t *b = find_in_dir(s->dc, url);
    if (!b)
        b = find_in_vhost(l->cfg->main_server, url);
    for (size_t i = 0; !b && i < l->cfg->nvhosts; i++)
        b = find_in_vhost(l->cfg->vhosts[i], url);
    return b;
}

/* "host[:port]" or "[v6][:port]" then an optional path, after "fcgi://". */
static int parse_authority(dcx_t *l, const pt_node_t *n, pt_backend_t *b, const char *p)
{
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    const char *host = p, *hend, *colon;
    if (*p == '[') {
        hend = memchr(p, ']', (size_t)(end - p));
        if (!hend)
            return pt_dcx_fail(l, n, "%s: bad IPv6 address in '%s'", n->name, b->url);
        host = p + 1;
        colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        hend = colon ? colon : end;
    }
    if (hend == host)
        return pt_dcx_fail(l, n, "%s: no host in '%s'", n->name, b->url);
    b->host = pt_arena_strndup(l->a, host, (size_t)(hend - host));
    b->port = PT_FCGI_DEFAULT_PORT;
    if (colon) {
        char *pe;
        long port = strtol(colon + 1, &pe, 10);
        if (pe != end || port < 1 || port > 65535)
            return pt_dcx_fail(l, n, "%s: bad port in '%s'", n->name, b->url);
        b->port = (int)port;
    }
    b->path = slash ? pt_arena_strdup(l->a, slash) : "";
    return 0;
}

/* A backend URL as ProxyPass writes it ("fcgi://h:p/path", "unix:/sock|fcgi://h/path"), or
 * SetHandler after "proxy:". NULL after pt_dcx_fail. */
static pt_backend_t *backend_parse(dcx_t *l, dcx_scope_t *s, const pt_node_t *n,
                                   const char *url)
{
    /* The handler name request.c dispatches on is the URL with "proxy:" before it. */
    const char *name = pt_arena_printf(l->a, "proxy:%s", url);
    pt_backend_t *b = find_backend(l, s, name);
    if (b)
        return b;
    b = pt_arena_calloc(l->a, sizeof(*b));
    b->url = name;
    /* Off by default, as mod_proxy_fcgi: a kept connection pins a php-fpm child, so more
     * kept connections than pm.max_children starve requests. enablereuse=on opts in. */
    b->enablereuse = false;
    const char *rest = url;
    if (strncasecmp(url, "unix:", 5) == 0) {
        const char *bar = strchr(url, '|');
        if (!bar || bar == url + 5)
            return pt_dcx_fail(l, n, "%s: '%s': a unix socket URL is unix:/path|fcgi://host/",
                               n->name, url), NULL;
        b->unix_path = pt_dcx_path(l, pt_arena_strndup(l->a, url + 5, (size_t)(bar - url - 5)));
        rest = bar + 1;
    }
    if (strncasecmp(rest, "fcgi://", 7) != 0) {
        const char *colon = strchr(rest, ':');
        int sl = colon ? (int)(colon - rest) : (int)strlen(rest);
        return pt_dcx_fail(l, n, "%s: '%s': only fcgi:// backends are supported; the %.*s "
                           "proxy (mod_proxy_%.*s) is not built yet", n->name, url, sl, rest,
                           sl, rest), NULL;
    }
    b->scheme = "fcgi";
    if (parse_authority(l, n, b, rest + 7) < 0)
        return NULL;
    return b;
}

pt_backend_t *pt_dcx_proxy_backend(dcx_t *l, dcx_scope_t *s, const pt_node_t *n,
                                   const char *url)
{
    return backend_parse(l, s, n, url);
}

/* ---- ProxyPass, ProxyPassMatch ------------------------------------------------------- */

static int set_key(dcx_t *l, const pt_node_t *n, pt_backend_t *b, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq)
        return pt_dcx_fail(l, n, "%s: '%s' is not key=value", n->name, kv);
    const char *key = pt_arena_strndup(l->a, kv, (size_t)(eq - kv));
    const char *v = eq + 1;
    long long num = 0;
    bool on = false;
    if (strcasecmp(key, "max") == 0) {
        if (pt_dcx_long(l, n, v, 1, 100000, &num) < 0)
            return -1;
        b->max = (int)num;
    } else if (strcasecmp(key, "timeout") == 0) {
        return pt_dcx_timeout(l, n, v, &b->timeout_ms);
    } else if (strcasecmp(key, "connectiontimeout") == 0) {
        return pt_dcx_timeout(l, n, v, &b->connect_timeout_ms);
    } else if (strcasecmp(key, "enablereuse") == 0 || strcasecmp(key, "disablereuse") == 0) {
        if (pt_dcx_onoff(l, n, v, &on) < 0)
            return -1;
        b->enablereuse = strcasecmp(key, "enablereuse") == 0 ? on : !on;
    } else if (strcasecmp(key, "retry") == 0 || strcasecmp(key, "flushpackets") == 0 ||
               strcasecmp(key, "flushwait") == 0 || strcasecmp(key, "ttl") == 0) {
        /* Accepted for compatibility: portico retries at once and always streams. */
    } else {
        return pt_dcx_fail(l, n, "%s: unknown key '%s' (supported: max, timeout, "
                           "connectiontimeout, enablereuse, disablereuse)", n->name, key);
    }
    return 0;
}

/* ProxyPass [path] url|! [key=value ...]; inside <Location> the path is the section's. */
static int add_pass(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, bool match)
{
    int a = 0;
    const char *path;
    regex_t *re = NULL;
    if (s->where == W_LOC) {
        if (!s->sec)
            return pt_dcx_fail(l, n, "%s: no <Location> path", n->name);
        path = s->sec->pattern;
        re = s->sec->re;
        if (match && !re && !(re = pt_dcx_regex(l, n, path, 0)))
            return -1;
    } else {
        if (n->argc < 2)
            return pt_dcx_fail(l, n, "%s takes a path and a URL", n->name);
        path = n->argv[a++];
        if (match && !(re = pt_dcx_regex(l, n, path, 0)))
            return -1;
    }
    const char *url = n->argv[a++];
    pt_proxy_pass_t pp = {.path = path, .re = re, .file = n->file, .line = n->line};
    if (strcmp(url, "!") == 0) {
        pp.disabled = true;
    } else {
        if (!(pp.backend = backend_parse(l, s, n, url)))
            return -1;
        for (; a < n->argc; a++)
            if (set_key(l, n, pp.backend, n->argv[a]) < 0)
                return -1;
    }
    pt_proxy_pass_t *slot = pt_dcx_push(l->a, &s->vh->proxy_passes, &s->vh->nproxy_passes,
                                        sizeof(*slot));
    *slot = pp;
    return 0;
}

static int set_proxy_pass(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_pass(l, s, n, false);
}

static int set_proxy_pass_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_pass(l, s, n, true);
}

static int set_proxy_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_timeout(l, n, n->argv[0], &s->vh->proxy_timeout_ms);
}

static int set_proxy_requests(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    if (on)
        return pt_dcx_fail(l, n, "ProxyRequests On: portico is not a forward proxy");
    return 0;
}

/* ---- mod_proxy_fcgi ---------------------------------------------------------------- */

static int set_backend_type(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (strcasecmp(n->argv[0], "FPM") == 0)
        s->dc->fcgi_backend_type = 0;
    else if (strcasecmp(n->argv[0], "GENERIC") == 0)
        s->dc->fcgi_backend_type = 1;
    else
        return pt_dcx_fail(l, n, "ProxyFCGIBackendType must be FPM or GENERIC");
    return 0;
}

/* The conditions portico evaluates: "true", and "reqenv('VAR') =~ /regex/" (also written
 * "%{reqenv:VAR} =~ /regex/", with an optional i flag). The variable's name is kept in
 * cond as "reqenv('VAR')" for params.c. */
static int parse_cond(dcx_t *l, const pt_node_t *n, pt_fcgi_setenv_t *e)
{
    const char *c = n->argv[0];
    if (strcasecmp(c, "true") == 0) {
        e->cond = "true";
        return 0;
    }
    char var[128], rest[1024];
    int used = 0;
    if (sscanf(c, " reqenv('%127[^']') =~ %n", var, &used) != 1 || !used) {
        used = 0;
        if (sscanf(c, " %%{reqenv:%127[^}]} =~ %n", var, &used) != 1 || !used)
            return pt_dcx_fail(l, n, "ProxyFCGISetEnvIf: unsupported expression '%s' (portico "
                               "understands true and reqenv('VAR') =~ /regex/)", c);
    }
    snprintf(rest, sizeof(rest), "%s", c + used);
    size_t rl = strlen(rest);
    while (rl && rest[rl - 1] == ' ')
        rest[--rl] = '\0';
    int flags = 0;
    if (rl >= 2 && rest[rl - 1] == 'i' && rest[rl - 2] == '/') {
        flags = REG_ICASE;
        rest[--rl] = '\0';
    }
    if (rl < 2 || rest[0] != '/' || rest[rl - 1] != '/')
        return pt_dcx_fail(l, n, "ProxyFCGISetEnvIf: the regex must be written /regex/");
    rest[rl - 1] = '\0';
    if (!(e->re = pt_dcx_regex(l, n, rest + 1, flags)))
        return -1;
    e->cond = pt_arena_printf(l->a, "reqenv('%s')", var);
    return 0;
}

static int set_fcgi_setenvif(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_fcgi_setenv_t e = {.name = n->argv[1], .value = n->argc > 2 ? n->argv[2] : ""};
    if (parse_cond(l, n, &e) < 0)
        return -1;
    pt_dir_config_t *dc = s->dc;
    size_t k = dc->nfcgi_setenv;
    pt_fcgi_setenv_t *v = pt_dcx_push(l->a, &dc->fcgi_setenv, &k, sizeof(*v));
    *v = e;
    dc->nfcgi_setenv = k;
    return 0;
}

/* ProxyFCGISpoolLimit bytes (portico's own): chunked request bodies spooled for php-fpm at
 * once, across the server; the default is in fcgi/exchange.h. */
static int set_fcgi_spool_limit(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[0], 1, INT64_MAX, &v) < 0)
        return -1;
    l->cfg->fcgi_spool_limit = v;
    return 0;
}

const dcx_directive_t pt_dcx_proxy_table[] = {
    {"ProxyPass", SRV | W_LOC, 1, NOMAX, set_proxy_pass},
    {"ProxyPassMatch", SRV | W_LOC, 1, NOMAX, set_proxy_pass_match},
    {"ProxyTimeout", SRV, 1, 1, set_proxy_timeout},
    {"ProxyRequests", SRV, 1, 1, set_proxy_requests},
    {"ProxyFCGIBackendType", ALL, 1, 1, set_backend_type},
    {"ProxyFCGISetEnvIf", ALL, 2, 3, set_fcgi_setenvif},
    {"ProxyFCGISpoolLimit", W_SERVER, 1, 1, set_fcgi_spool_limit},
    {NULL, 0, 0, 0, NULL},
};

/* ---- Teardown ------------------------------------------------------------------------ */

static void free_backend(pt_backend_t *b)
{
    if (b && b->pool) {
        pt_fcgi_pool_destroy(b->pool);
        b->pool = NULL;
    }
}

static void free_vhost_pools(pt_vhost_t *vh)
{
    if (!vh)
        return;
    for (size_t i = 0; i < vh->nproxy_passes; i++)
        free_backend(vh->proxy_passes[i].backend);
    for (size_t i = 0; i < vh->nsections; i++)
        free_backend(vh->sections[i].conf->handler_backend);
    if (vh->dir)
        free_backend(vh->dir->handler_backend);
}

void pt_dcx_proxy_free(pt_config_t *cfg)
{
    free_vhost_pools(cfg->main_server);
    for (size_t i = 0; i < cfg->nvhosts; i++)
        free_vhost_pools(cfg->vhosts[i]);
}
