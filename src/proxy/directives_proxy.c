/* The proxy directives (mod_proxy): ProxyPass, ProxyPassMatch, ProxyTimeout, ProxyRequests,
 * and the backend URLs that ProxyPass and SetHandler "proxy:..." name, each resolved to its
 * scheme's entry (scheme.h) here, at load. The FastCGI-only directives are src/fcgi's
 * (directives_fcgi.c). */
#include "directives_proxy.h"

#include "directives.h"
#include "balancer.h"
#include "scheme.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Backend URLs ---------------------------------------------------------------------- */

/* The backend already made for this URL, so that every rule naming it shares one pool (as
 * Apache shares a worker). */
static pt_backend_t *find_backend(const pt_config_t *cfg, const char *url)
{
    for (size_t i = 0; i < cfg->nbackends; i++)
        if (strcmp(cfg->backends[i]->url, url) == 0)
            return cfg->backends[i];
    return NULL;
}

/* "host[:port]" or "[v6][:port]" then an optional path, after "scheme://". */
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
    b->port = b->scheme_ops->default_port;
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

/* The Apache module of a proxy scheme portico has none for (the sl bytes at name), for the
 * error that names it: mod_proxy_<scheme>, but HTTP/2's (h2, h2c) are mod_proxy_http2's. */
static const char *apache_module_of(const char *name, int sl)
{
    bool h2 = (sl == 2 && strncasecmp(name, "h2", 2) == 0) ||
              (sl == 3 && strncasecmp(name, "h2c", 3) == 0);
    return h2 ? "mod_proxy_http2" : NULL;
}

/* The scheme of rest ("fcgi://..."), resolved; NULL after pt_dcx_fail. */
static const pt_proxy_scheme_t *scheme_of(dcx_t *l, const pt_node_t *n, const char *url,
                                          const char *rest, const char **after)
{
    const char *sep = strstr(rest, "://");
    const pt_proxy_scheme_t *sc = sep ? pt_proxy_scheme_find(rest, (size_t)(sep - rest)) : NULL;
    if (!sc) {
        const char *colon = strchr(rest, ':');
        int sl = colon ? (int)(colon - rest) : (int)strlen(rest);
        const char *module = apache_module_of(rest, sl);
        if (module)
            return pt_dcx_fail(l, n, "%s: '%s': no proxy scheme '%.*s' (%s) in portico", n->name,
                               url, sl, rest, module),
                   NULL;
        return pt_dcx_fail(l, n, "%s: '%s': no proxy scheme '%.*s' (mod_proxy_%.*s) in "
                           "portico", n->name, url, sl, rest, sl, rest), NULL;
    }
    *after = sep + 3;
    return sc;
}

/* A backend URL as ProxyPass writes it ("fcgi://h:p/path", "unix:/sock|fcgi://h/path"), or
 * SetHandler after "proxy:". NULL after pt_dcx_fail. */
pt_backend_t *pt_proxy_backend_parse(dcx_t *l, const pt_node_t *n, const char *url)
{
    /* The handler name request.c dispatches on is the URL with "proxy:" before it. */
    const char *name = pt_arena_printf(l->a, "proxy:%s", url);
    pt_backend_t *b = find_backend(l->cfg, name);
    if (b)
        return b;
    b = pt_arena_calloc(l->a, sizeof(*b));
    b->url = name;
    b->retry_ms = -1;
    b->member_index = -1;
    /* Off by default, as mod_proxy_fcgi: a kept connection pins a php-fpm child, so more
     * kept connections than pm.max_children starve requests. enablereuse=on opts in. */
    b->enablereuse = false;
    const char *rest = url;
    if (strncasecmp(url, "unix:", 5) == 0) {
        const char *bar = strchr(url, '|');
        if (!bar || bar == url + 5)
            return pt_dcx_fail(l, n, "%s: '%s': a unix socket URL is unix:/path|http://host/ "
                               "(or |fcgi://host/)",
                               n->name, url), NULL;
        b->unix_path = pt_dcx_path(l, pt_arena_strndup(l->a, url + 5, (size_t)(bar - url - 5)));
        rest = bar + 1;
    }
    const char *auth = NULL;
    if (!(b->scheme_ops = scheme_of(l, n, url, rest, &auth)))
        return NULL;
    b->scheme = b->scheme_ops->name;
    b->handler = &b->scheme_ops->handler;
    if (parse_authority(l, n, b, auth) < 0)
        return NULL;
    b->index = l->cfg->nbackends;
    pt_backend_t **slot = pt_dcx_push(l->a, &l->cfg->backends, &l->cfg->nbackends,
                                      sizeof(*slot));
    *slot = b;
    return b;
}

/* SetHandler "proxy:URL": the directory's handler is the backend's. 1 when the name is a
 * proxy one, 0 when it is not, -1 after pt_dcx_fail. */
static int proxy_set_handler(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, const char *name)
{
    if (strncasecmp(name, "proxy:", 6) != 0)
        return 0;
    s->dc->handler_backend = pt_proxy_backend_parse(l, n, name + 6);
    if (s->dc->handler_backend && !pt_dcx_backend_is_servers(l, s->dc->handler_backend))
        return pt_dcx_fail(l, n, "%s \"%s\": that backend is not defined in the server "
                                 "configuration (portico makes its backends when it loads it: "
                                 "name it there in a <Proxy \"%s\"> section)", n->name, name,
                           name + 6);
    return s->dc->handler_backend ? 1 : -1;
}

/* ---- ProxyPass, ProxyPassMatch ------------------------------------------------------- */

/* status=+H-D...: Apache's letters for a member's state flags (proxy/balancer.h). */
static int parse_status(dcx_t *l, const pt_node_t *n, pt_backend_t *b, const char *v)
{
    static const struct { char letter; unsigned flag; } letters[] = {
        {'D', PT_MEMBER_DISABLED}, {'S', PT_MEMBER_STOPPED}, {'H', PT_MEMBER_HOT_STANDBY},
        {'I', PT_MEMBER_IGNORE_ERRORS}, {'N', PT_MEMBER_DRAIN}, {'E', PT_MEMBER_IN_ERROR},
        {'C', PT_MEMBER_HC_FAILED},
    };
    bool add = true;
    for (const char *p = v; *p; p++) {
        if (*p == '+' || *p == '-') {
            add = *p == '+';
            continue;
        }
        size_t i = 0;
        while (i < PT_ARRAY_LEN(letters) && letters[i].letter != toupper((unsigned char)*p))
            i++;
        if (i == PT_ARRAY_LEN(letters))
            return pt_dcx_fail(l, n, "%s: status=%s: unknown state '%c' (D, S, H, I, N, E, C)",
                               n->name, v, *p);
        b->status = add ? b->status | letters[i].flag : b->status & ~letters[i].flag;
    }
    return 0;
}

static int key_seconds(dcx_t *l, const pt_node_t *n, const char *v, int64_t *ms)
{
    return pt_dcx_timeout(l, n, v, ms);
}

static pt_proxy_key_fn extra_key;

void pt_proxy_set_extra_key(pt_proxy_key_fn fn)
{
    extra_key = fn;
}

/* The keys of one worker (ProxyPass after the URL, BalancerMember, ProxySet in
 * <Proxy worker-url>), as mod_proxy reads them. */
int pt_proxy_backend_key(dcx_t *l, const pt_node_t *n, pt_backend_t *b, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq)
        return pt_dcx_fail(l, n, "%s: '%s' is not key=value", n->name, kv);
    const char *key = pt_arena_strndup(l->a, kv, (size_t)(eq - kv));
    const char *v = eq + 1;
    long long num = 0;
    bool on = false;
    int taken;
    if (strcasecmp(key, "max") == 0) {
        if (pt_dcx_long(l, n, v, 1, 100000, &num) < 0)
            return -1;
        b->max = (int)num;
    } else if (strcasecmp(key, "timeout") == 0) {
        return pt_dcx_timeout(l, n, v, &b->timeout_ms);
    } else if (strcasecmp(key, "connectiontimeout") == 0) {
        return pt_dcx_timeout(l, n, v, &b->connect_timeout_ms);
    } else if (strcasecmp(key, "ttl") == 0) {
        return key_seconds(l, n, v, &b->ttl_ms);
    } else if (strcasecmp(key, "retry") == 0) {
        return key_seconds(l, n, v, &b->retry_ms);
    } else if (strcasecmp(key, "hcinterval") == 0) {
        return key_seconds(l, n, v, &b->hcinterval_ms);
    } else if (strcasecmp(key, "enablereuse") == 0 || strcasecmp(key, "disablereuse") == 0) {
        if (pt_dcx_onoff(l, n, v, &on) < 0)
            return -1;
        b->enablereuse = strcasecmp(key, "enablereuse") == 0 ? on : !on;
        b->reuse_set = true;
    } else if (strcasecmp(key, "keepalive") == 0) {
        return pt_dcx_onoff(l, n, v, &b->tcp_keepalive);
    } else if (strcasecmp(key, "upgrade") == 0) {
        b->upgrade = pt_arena_strdup(l->a, v);
    } else if (strcasecmp(key, "loadfactor") == 0) {
        if (pt_dcx_long(l, n, v, 1, 100, &num) < 0)
            return -1;
        b->loadfactor = (int)num;
    } else if (strcasecmp(key, "lbset") == 0) {
        if (pt_dcx_long(l, n, v, 0, 99, &num) < 0)
            return -1;
        b->lbset = (int)num;
    } else if (strcasecmp(key, "route") == 0) {
        b->route = pt_arena_strdup(l->a, v);
    } else if (strcasecmp(key, "status") == 0) {
        return parse_status(l, n, b, v);
    } else if (strcasecmp(key, "hcmethod") == 0) {
        static const char *const methods[] = {"GET", "HEAD", "OPTIONS", "TCP", "GET11",
                                              "HEAD11", "OPTIONS11"};
        for (size_t i = 0; i < PT_ARRAY_LEN(methods); i++)
            if (strcasecmp(v, methods[i]) == 0)
                return b->hcmethod = methods[i], 0;
        return pt_dcx_fail(l, n, "%s: hcmethod=%s: one of GET, HEAD, OPTIONS, TCP", n->name, v);
    } else if (strcasecmp(key, "hcuri") == 0) {
        b->hcuri = pt_arena_strdup(l->a, v);
    } else if (strcasecmp(key, "hcexpr") == 0) {
        b->hcexpr = pt_arena_strdup(l->a, v);
    } else if (strcasecmp(key, "hctemplate") == 0) {
        b->hctemplate = pt_arena_strdup(l->a, v);
    } else if (strcasecmp(key, "hcpasses") == 0 || strcasecmp(key, "hcfails") == 0) {
        if (pt_dcx_long(l, n, v, 1, 1000, &num) < 0)
            return -1;
        *(strcasecmp(key, "hcpasses") == 0 ? &b->hcpasses : &b->hcfails) = (int)num;
    } else if (strcasecmp(key, "resolve") == 0) {
        if (pt_dcx_long(l, n, v, 1, 86400, &num) < 0)
            return -1;
        b->resolve_s = (int)num;
    } else if (strcasecmp(key, "flushpackets") == 0 || strcasecmp(key, "flushwait") == 0 ||
               strcasecmp(key, "smax") == 0 || strcasecmp(key, "min") == 0 ||
               strcasecmp(key, "acquire") == 0 || strcasecmp(key, "ping") == 0 ||
               strcasecmp(key, "iobuffersize") == 0 || strcasecmp(key, "receivebuffersize") == 0) {
        /* Accepted for compatibility: portico always streams and sizes its own buffers. */
    } else if (extra_key && (taken = extra_key(l, n, b, key, v)) != 0) {
        return taken < 0 ? -1 : 0;
    } else {
        return pt_dcx_fail(l, n, "%s: unknown key '%s'", n->name, key);
    }
    return 0;
}

/* ProxyPass [path] url|! [key=value ...]; inside <Location> the path is the section's. */
static int add_pass(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, bool match)
{
    int a = 0;
    const char *path;
    pt_regex_t *re = NULL;
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
        if (!(pp.backend = pt_proxy_backend_parse(l, n, url)))
            return -1;
        for (; a < n->argc; a++) {
            const char *k = n->argv[a];
            if (strcasecmp(k, "nocanon") == 0)
                pp.nocanon = true;
            else if (strcasecmp(k, "noquery") == 0)
                pp.noquery = true;
            else if (strcasecmp(k, "interpolate") == 0)
                pp.interpolate = true;
            else if (pt_proxy_backend_key(l, n, pp.backend, k) < 0)
                return -1;
        }
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

static const dcx_directive_t proxy_table[] = {
    {"ProxyPass", SRV | W_LOC, 1, NOMAX, set_proxy_pass},
    {"ProxyPassMatch", SRV | W_LOC, 1, NOMAX, set_proxy_pass_match},
    {"ProxyTimeout", SRV, 1, 1, set_proxy_timeout},
    {"ProxyRequests", SRV, 1, 1, set_proxy_requests},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_proxy_conf = {
    .name = "proxy",
    .directives = proxy_table,
    .set_handler = proxy_set_handler,
};
