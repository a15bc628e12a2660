/* The per-directory config: its constructors (every field unset, or Apache 2.4's defaults
 * for the main server), and the per-request lookups in a loaded configuration: Apache's
 * merge of per-directory configs and name-based virtual host selection (the section walk
 * that builds the config for a file and URL is dirconf_walk.c). The lookups read the
 * immutable config and allocate from the caller's arena. */
#include "compress_conf.h"
#include "config.h"
#include "directives.h"

#include <fnmatch.h>
#include <netinet/in.h>

/* ---- New configs ------------------------------------------------------------------------ */

pt_dir_config_t *pt_dcx_dir_new(pt_arena_t *a)
{
    pt_dir_config_t *dc = pt_arena_calloc(a, sizeof(*dc));
    dc->limit_request_body = -1;
    dc->enable_sendfile = -1;
    dc->enable_mmap = -1;
    dc->fcgi_backend_type = -1;
    dc->rewrite.engine = -1;
    dc->rewrite.options = -1;
    return dc;
}

/* The main server's DirectoryIndex until a directive sets one (then replaced, not added to). */
static const char *default_index[] = {"index.html"};

void pt_dcx_dir_defaults(pt_arena_t *a, pt_dir_config_t *dc)
{
    (void)a;
    dc->options = PT_OPT_FOLLOW_SYMLINKS;
    dc->options_set = true;
    dc->dir_index = default_index;
    dc->ndir_index = 1;
    dc->dir_index_set = true;
    dc->limit_request_body = (int64_t)1 << 30;
    dc->enable_sendfile = 0;
    dc->enable_mmap = 1;
}

bool pt_dcx_dir_index_is_default(const pt_dir_config_t *dc)
{
    return dc->dir_index == default_index;
}

/* ---- Merge ------------------------------------------------------------------------------ */

static void *concat(pt_arena_t *a, const void *x, size_t nx, const void *y, size_t ny,
                    size_t elt, size_t *n)
{
    *n = nx + ny;
    if (*n == 0)
        return NULL;
    if (ny == 0)
        return (void *)x;
    if (nx == 0)
        return (void *)y;
    char *v = pt_arena_alloc(a, *n * elt);
    memcpy(v, x, nx * elt);
    memcpy(v + nx * elt, y, ny * elt);
    return v;
}

/* Options as Apache's merge_core_dir_configs: an absolute setting replaces everything
 * before it; +/- accumulate, and what has been added and removed so far applies to the
 * outer value (set_options says what a section's lines leave). */
static void merge_options(pt_dir_config_t *m, const pt_dir_config_t *o,
                          const pt_dir_config_t *i)
{
    if (i->options_set) {
        m->options = i->options;
        m->options_add = i->options_add;
        m->options_remove = i->options_remove;
        m->options_set = true;
        m->options_rel = i->options_rel;
        return;
    }
    m->options_add = (o->options_add & ~i->options_remove) | i->options_add;
    m->options_remove = (o->options_remove & ~i->options_add) | i->options_remove;
    m->options = (o->options & ~m->options_remove) | m->options_add;
    m->options_set = o->options_set;
    m->options_rel = o->options_rel || i->options_rel;
}

/* mod_ssl's ssl_config_perdir_merge for SSLOptions. */
static void merge_ssl_options(pt_dir_config_t *m, const pt_dir_config_t *o,
                              const pt_dir_config_t *i)
{
    if (!i->ssl_options_set)
        return; /* m is o's */
    if (i->ssl_options_abs) {
        m->ssl_options = i->ssl_options;
        m->ssl_options_add = i->ssl_options_add;
        m->ssl_options_del = i->ssl_options_del;
        m->ssl_options_abs = true;
    } else {
        m->ssl_options_add = (o->ssl_options_add & ~i->ssl_options_del) | i->ssl_options_add;
        m->ssl_options_del = (o->ssl_options_del & ~i->ssl_options_add) | i->ssl_options_del;
        m->ssl_options = (o->ssl_options & ~m->ssl_options_del) | m->ssl_options_add;
    }
    m->ssl_options_set = true;
}

/* Error documents: the inner one wins for a status it names. */
static void merge_errordocs(pt_arena_t *a, pt_dir_config_t *m, const pt_dir_config_t *o,
                            const pt_dir_config_t *i)
{
    if (!i->nerrordocs || !o->nerrordocs) {
        m->errordocs = i->nerrordocs ? i->errordocs : o->errordocs;
        m->nerrordocs = i->nerrordocs ? i->nerrordocs : o->nerrordocs;
        return;
    }
    pt_errordoc_t *v = pt_arena_alloc(a, (o->nerrordocs + i->nerrordocs) * sizeof(*v));
    size_t n = 0;
    for (size_t k = 0; k < o->nerrordocs; k++) {
        bool overridden = false;
        for (size_t j = 0; j < i->nerrordocs && !overridden; j++)
            overridden = i->errordocs[j].status == o->errordocs[k].status;
        if (!overridden)
            v[n++] = o->errordocs[k];
    }
    memcpy(v + n, i->errordocs, i->nerrordocs * sizeof(*v));
    m->errordocs = v;
    m->nerrordocs = n + i->nerrordocs;
}

/* Apache's config_perdir_merge for mod_rewrite: engine and options inherited, the base and
 * the directory the inner section's, the rules the inner ones unless RewriteOptions asks for
 * the outer ones too. A section without a Rewrite* directive changes nothing. */
static void merge_rewrite(pt_arena_t *a, pt_rewrite_dir_t *m, const pt_rewrite_dir_t *o,
                          const pt_rewrite_dir_t *i)
{
    if (!i->present)
        return;
    m->present = true;
    m->engine = i->engine >= 0 ? i->engine : o->engine;
    m->options = i->options >= 0 ? i->options : o->options;
    m->base = i->base;
    m->directory = i->directory;
    int opt = m->options > 0 ? m->options : 0;
    if (opt & PT_REWRITE_INHERIT)
        m->rules = concat(a, i->rules, i->nrules, o->rules, o->nrules, sizeof(*i->rules),
                          &m->nrules);
    else if (opt & PT_REWRITE_INHERIT_BEFORE)
        m->rules = concat(a, o->rules, o->nrules, i->rules, i->nrules, sizeof(*i->rules),
                          &m->nrules);
    else
        m->rules = i->rules, m->nrules = i->nrules;
}

/* Set once at start-up, before any configuration is loaded or a thread runs (the request
 * floor's join of two rule trees: conf does not know their type). */
static const pt_require_t *(*join_require)(pt_arena_t *a, const pt_require_t *o,
                                           const pt_require_t *i, bool and_op);

void pt_dcx_set_merge_require(const pt_require_t *(*fn)(pt_arena_t *a, const pt_require_t *o,
                                                        const pt_require_t *i, bool and_op))
{
    join_require = fn;
}

/* mod_authz_core's merge: an inner section's Require lines replace the outer ones, unless
 * its AuthMerging says And or Or (then both, in one container); AuthMerging Off in a section
 * without Require drops the outer ones. */
static void merge_require(pt_arena_t *a, pt_dir_config_t *m, const pt_dir_config_t *o,
                          const pt_dir_config_t *i)
{
    int op = i->core.auth_merging;
    if (op == 0) {
        if (i->require)
            m->require = i->require;
    } else if (op == 1) {
        m->require = i->require;
    } else if (o->require && i->require) {
        m->require = join_require ? join_require(a, o->require, i->require, op == 2)
                                  : o->require;
    } else if (i->require) {
        m->require = i->require;
    }
}

pt_dir_config_t *pt_dir_config_merge(pt_arena_t *a, const pt_dir_config_t *outer,
                                     const pt_dir_config_t *inner)
{
    pt_dir_config_t *m = pt_arena_alloc(a, sizeof(*m));
    const pt_dir_config_t *o = outer, *i = inner;
    *m = *o;
    merge_options(m, o, i);
    pt_core_dir_merge(&m->core, &o->core, &i->core);
    if (i->dir_index_set) {
        m->dir_index = i->dir_index;
        m->ndir_index = i->ndir_index;
        m->dir_index_set = true;
    }
    if (i->fallback)
        m->fallback = i->fallback;
    if (i->overrides_set) {
        m->overrides = i->overrides;
        m->override_opts = i->override_opts;
        m->overrides_set = true;
    }
    if (i->override_list_set) {
        m->override_list = i->override_list;
        m->noverride_list = i->noverride_list;
        m->override_list_set = true;
    }
    merge_require(a, m, o, i);
    if (i->access_compat) /* replaced whole: mod_access_compat has no merge */
        m->access_compat = i->access_compat;
    if (i->auth_type)
        m->auth_type = i->auth_type;
    if (i->auth_name)
        m->auth_name = i->auth_name;
    if (i->auth_user_file)
        m->auth_user_file = i->auth_user_file;
    if (i->auth_group_file)
        m->auth_group_file = i->auth_group_file;
    m->headers = concat(a, o->headers, o->nheaders, i->headers, i->nheaders,
                        sizeof(*o->headers), &m->nheaders);
    m->req_headers = concat(a, o->req_headers, o->nreq_headers, i->req_headers,
                            i->nreq_headers, sizeof(*o->req_headers), &m->nreq_headers);
    merge_errordocs(a, m, o, i);
    /* mod_alias merges the inner section's redirects before the outer's: the first that
     * matches is the innermost section's. */
    m->redirects = concat(a, i->redirects, i->nredirects, o->redirects, o->nredirects,
                          sizeof(*o->redirects), &m->nredirects);
    m->charsets = concat(a, i->charsets, i->ncharsets, o->charsets, o->ncharsets,
                         sizeof(*o->charsets), &m->ncharsets);
    m->languages = concat(a, i->languages, i->nlanguages, o->languages, o->nlanguages,
                          sizeof(*o->languages), &m->nlanguages);
    if (i->default_language)
        m->default_language = i->default_language;
    if (i->expires_active)
        m->expires_active = i->expires_active;
    if (i->expires_default)
        m->expires_default = i->expires_default;
    m->expires_by_type = concat(a, i->expires_by_type, i->nexpires_by_type,
                                o->expires_by_type, o->nexpires_by_type,
                                sizeof(*o->expires_by_type), &m->nexpires_by_type);
    /* Lookups take the first mapping of an extension: inner ones go first. */
    m->types = concat(a, i->types, i->ntypes, o->types, o->ntypes, sizeof(*o->types),
                      &m->ntypes);
    m->handlers = concat(a, i->handlers, i->nhandlers, o->handlers, o->nhandlers,
                         sizeof(*o->handlers), &m->nhandlers);
    if (i->handler_name) {
        m->handler_name = i->handler_name;
        m->handler = i->handler;
        m->handler_backend = i->handler_backend;
    }
    if (i->default_type)
        m->default_type = i->default_type;
    if (i->default_charset)
        m->default_charset = i->default_charset;
    m->env = concat(a, o->env, o->nenv, i->env, i->nenv, sizeof(*o->env), &m->nenv);
    if (i->limit_request_body >= 0)
        m->limit_request_body = i->limit_request_body;
    if (i->enable_sendfile >= 0)
        m->enable_sendfile = i->enable_sendfile;
    if (i->enable_mmap >= 0)
        m->enable_mmap = i->enable_mmap;
    if (i->fcgi_backend_type >= 0)
        m->fcgi_backend_type = i->fcgi_backend_type;
    m->fcgi_setenv = concat(a, o->fcgi_setenv, o->nfcgi_setenv, i->fcgi_setenv,
                            i->nfcgi_setenv, sizeof(*o->fcgi_setenv), &m->nfcgi_setenv);
    m->reverse = concat(a, o->reverse, o->nreverse, i->reverse, i->nreverse,
                        sizeof(*o->reverse), &m->nreverse);
    m->cookie_paths = concat(a, o->cookie_paths, o->ncookie_paths, i->cookie_paths,
                             i->ncookie_paths, sizeof(*o->cookie_paths), &m->ncookie_paths);
    m->cookie_domains = concat(a, o->cookie_domains, o->ncookie_domains, i->cookie_domains,
                               i->ncookie_domains, sizeof(*o->cookie_domains),
                               &m->ncookie_domains);
    merge_rewrite(a, &m->rewrite, &o->rewrite, &i->rewrite);
    m->mod_directives = concat(a, o->mod_directives, o->nmod_directives, i->mod_directives,
                               i->nmod_directives, sizeof(*o->mod_directives),
                               &m->nmod_directives);
    m->ifs = concat(a, o->ifs, o->nifs, i->ifs, i->nifs, sizeof(*o->ifs), &m->nifs);
    m->compress = pt_compress_conf_merge(a, o->compress, i->compress);
    m->ssl_require_ssl = o->ssl_require_ssl || i->ssl_require_ssl;
    m->ssl_require = concat(a, o->ssl_require, o->nssl_require, i->ssl_require,
                            i->nssl_require, sizeof(*o->ssl_require), &m->nssl_require);
    if (i->ssl_user_name)
        m->ssl_user_name = i->ssl_user_name;
    merge_ssl_options(m, o, i);
    if (i->proxy_error_override) {
        m->proxy_error_override = i->proxy_error_override;
        m->proxy_error_codes = i->proxy_error_codes;
        m->nproxy_error_codes = i->nproxy_error_codes;
    }
    if (i->proxy_100_continue)
        m->proxy_100_continue = i->proxy_100_continue;
    return m;
}

/* ---- Virtual hosts ---------------------------------------------------------------------- */

/* 1: the vhost names this exact IP; 0: a wildcard address that matches; -1: no match. */
static int addr_match(const pt_vaddr_t *va, const struct sockaddr *local)
{
    int port = 0;
    const void *ip4 = NULL, *ip6 = NULL;
    if (local->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)local;
        port = ntohs(s4->sin_port);
        ip4 = &s4->sin_addr;
    } else if (local->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)local;
        port = ntohs(s6->sin6_port);
        ip6 = &s6->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
            ip4 = (const uint8_t *)&s6->sin6_addr + 12;
    }
    if (va->port != 0 && va->port != port)
        return -1;
    if (va->addrlen == 0)
        return 0;
    if (va->addr.ss_family == AF_INET && ip4)
        return memcmp(&((const struct sockaddr_in *)&va->addr)->sin_addr, ip4, 4) == 0 ? 1
                                                                                       : -1;
    if (va->addr.ss_family == AF_INET6 && ip6)
        return memcmp(&((const struct sockaddr_in6 *)&va->addr)->sin6_addr, ip6, 16) == 0
                   ? 1
                   : -1;
    return -1;
}

static int vhost_addr_match(const pt_vhost_t *vh, const struct sockaddr *local)
{
    int best = -1;
    for (size_t i = 0; i < vh->naddrs; i++)
        best = PT_MAX(best, addr_match(&vh->addrs[i], local));
    return best;
}

static bool name_match(const pt_vhost_t *vh, const char *host, size_t hlen)
{
    char h[256];
    if (hlen >= sizeof(h))
        return false;
    memcpy(h, host, hlen);
    h[hlen] = '\0';
    if (vh->server_name && strcasecmp(vh->server_name, h) == 0)
        return true;
    for (size_t i = 0; i < vh->naliases; i++)
        if (fnmatch(vh->aliases[i], h, FNM_CASEFOLD) == 0)
            return true;
    return false;
}

/* Apache's order: vhosts naming the local IP exactly are considered before wildcard ones;
 * within a set, the first whose name matches wins, else the set's first is the default. */
const pt_vhost_t *pt_config_vhost_for(const pt_config_t *cfg, const struct sockaddr *local,
                                      const char *host)
{
    if (!local)
        return cfg->main_server;
    size_t hlen = host ? strlen(host) : 0;
    while (hlen > 0 && host[hlen - 1] == '.')
        hlen--;
    /* One pass, each vhost's addresses matched once (every request comes here): per set
     * (level 1: the local IP named; 0: a wildcard) its first, and the first after it that
     * names host. A wildcard set's names are not looked at once an exact one is known. */
    const pt_vhost_t *first[2] = {NULL, NULL}, *named[2] = {NULL, NULL};
    for (size_t i = 0; i < cfg->nvhosts; i++) {
        const pt_vhost_t *vh = cfg->vhosts[i];
        int level = vhost_addr_match(vh, local);
        if (level < 0)
            continue;
        if (!first[level])
            first[level] = vh;
        else if (hlen && !named[level] && (level == 1 || !first[1]) &&
                 name_match(vh, host, hlen))
            named[level] = vh;
    }
    for (int level = 1; level >= 0; level--) {
        /* The set's first is its answer whether or not it names host, unless a later one
         * names it: only then does the first's own name decide (it comes first). */
        if (first[level])
            return named[level] && !name_match(first[level], host, hlen) ? named[level]
                                                                           : first[level];
    }
    return cfg->main_server;
}

bool pt_config_addr_name_based(const pt_config_t *cfg, const struct sockaddr *local)
{
    for (int level = 1; level >= 0 && local; level--) {
        size_t n = 0;
        for (size_t i = 0; i < cfg->nvhosts; i++)
            if (vhost_addr_match(cfg->vhosts[i], local) == level)
                n++;
        if (n > 0)
            return n > 1;
    }
    return false;
}

/* StrictHostCheck (Apache's ap_update_vhost_from_headers_ex with require_match): the default
 * server of the address decides whether it applies, and a name counts only when a server on
 * that address (the main server when no virtual host is on it) names it. */
bool pt_config_host_rejected(const pt_config_t *cfg, const struct sockaddr *local,
                             const char *host)
{
    if (!cfg->strict_host_check)
        return false;
    size_t hlen = host ? strlen(host) : 0;
    while (hlen > 0 && host[hlen - 1] == '.')
        hlen--;
    if (!hlen)
        return false;
    for (int level = 1; level >= 0; level--) {
        const pt_vhost_t *first = NULL;
        bool named = false;
        for (size_t i = 0; i < cfg->nvhosts; i++) {
            const pt_vhost_t *vh = cfg->vhosts[i];
            if (!local || vhost_addr_match(vh, local) != level)
                continue;
            if (!first)
                first = vh;
            named = named || name_match(vh, host, hlen);
        }
        if (first)
            return first->core.strict_host_check == 2 && !named;
    }
    const pt_vhost_t *m = cfg->main_server;
    return m->core.strict_host_check == 2 && !name_match(m, host, hlen);
}
