/* mod_rewrite's directives: RewriteEngine, RewriteOptions, RewriteBase, RewriteCond,
 * RewriteRule (server, virtual host and <Directory> context) and RewriteMap (server and
 * virtual host). A rule takes the conditions written before it in the same scope; a
 * condition no rule follows is an error. [P] makes its backend now, through the proxy's
 * SetHandler hook, from the fixed scheme://host:port of its target. Registered by loader.c;
 * run by rewrite_request.c. */
#include "directives.h"
#include "rewrite_request.h"

#include <stdio.h>
#include <string.h>

/* Conditions waiting for their rule, per scope (a section's config or a server). */
typedef struct pending {
    const void *scope;
    pt_rewrite_cond_t **conds;
    size_t nconds;
    const pt_node_t *first;
    struct pending *next;
} pending_t;

/* Every rule, for the map-name check once the whole file is read. */
typedef struct rule_ref {
    const pt_rewrite_rule_t *rule;
    const pt_node_t *node;
    const pt_vhost_t *vh;   /* the server whose maps it reads; NULL: per-directory */
    struct rule_ref *next;
} rule_ref_t;

typedef struct {
    pending_t *pending;
    rule_ref_t *rules;
} state_t;

static state_t *state(dcx_t *l)
{
    void **slot = pt_dcx_ext_state(l, &pt_rewrite_conf);
    if (!*slot)
        *slot = pt_arena_calloc(l->a, sizeof(state_t));
    return *slot;
}

static void keep_regex(void *ud, pt_regex_t *re)
{
    pt_dcx_keep_regex(ud, re);
}

static pt_rewrite_build_t builder(dcx_t *l, char *err)
{
    return (pt_rewrite_build_t){.a = l->a, .keep_regex = keep_regex, .ud = l, .err = err,
                                .errlen = PT_ERRLEN};
}

static bool server_scope(const dcx_scope_t *s)
{
    return s->sec == NULL && (s->where & (W_SERVER | W_VHOST));
}

/* A .htaccess file: a directory scope without a section, named by the file's path. */
static bool htaccess_scope(const dcx_scope_t *s)
{
    return s->sec == NULL && !server_scope(s);
}

static pt_rewrite_srv_t *server_conf(dcx_t *l, pt_vhost_t *vh)
{
    if (!vh->rewrite) {
        pt_rewrite_srv_t *sc = pt_arena_calloc(l->a, sizeof(*sc));
        sc->engine = sc->options = -1;
        vh->rewrite = sc;
    }
    return (pt_rewrite_srv_t *)vh->rewrite; /* made here, by this extension */
}

/* The section's part: only <Directory> has Apache's per-directory semantics; Apache's own
 * documentation calls rules in <Location> and <Files> unsupported, and in <DirectoryMatch>
 * its prefix is the regex text. Those are refused rather than run half-right. */
static pt_rewrite_dir_t *dir_conf(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_rewrite_dir_t *rd = &s->dc->rewrite;
    if (server_scope(s)) {
        rd->present = true;
        return rd;
    }
    if (htaccess_scope(s)) {
        /* Apache's per-directory prefix is the directory that holds the file. */
        if (!rd->present) {
            const char *slash = strrchr(s->name, '/');
            rd->present = true;
            rd->directory = slash ? pt_arena_strndup(l->a, s->name, (size_t)(slash - s->name) + 1)
                                  : "/";
        }
        return rd;
    }
    if (s->sec->kind != PT_SEC_DIRECTORY || s->sec->within)
        return pt_dcx_fail(l, n, "%s is supported at server level and in <Directory> only "
                                 "(not in <%s>), as Apache documents", n->name, s->name), NULL;
    if (!rd->present) {
        rd->present = true;
        size_t pl = strlen(s->sec->pattern);
        rd->directory = pl && s->sec->pattern[pl - 1] == '/'
                            ? s->sec->pattern
                            : pt_arena_printf(l->a, "%s/", s->sec->pattern);
    }
    return rd;
}

/* ---- RewriteEngine, RewriteOptions, RewriteBase ---------------------------------------- */

/* At server level both the server's switch and its per-directory default are set, as
 * Apache's cmd_rewriteengine. */
static int set_rewrite_engine(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    pt_rewrite_dir_t *rd = dir_conf(l, s, n);
    if (!rd)
        return -1;
    rd->engine = on;
    if (server_scope(s))
        server_conf(l, s->vh)->engine = on;
    return 0;
}

static int set_rewrite_options(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    int opts = 0;
    for (int i = 0; i < n->argc; i++) {
        if (strcasecmp(n->argv[i], "Inherit") == 0)
            opts |= PT_REWRITE_INHERIT;
        else if (strcasecmp(n->argv[i], "InheritBefore") == 0)
            opts |= PT_REWRITE_INHERIT_BEFORE;
        else
            return pt_dcx_fail(l, n, "RewriteOptions: option '%s' is not supported (Inherit "
                                     "and InheritBefore are)", n->argv[i]);
    }
    pt_rewrite_dir_t *rd = dir_conf(l, s, n);
    if (!rd)
        return -1;
    rd->options = (rd->options > 0 ? rd->options : 0) | opts;
    if (server_scope(s)) {
        pt_rewrite_srv_t *sc = server_conf(l, s->vh);
        sc->options = (sc->options > 0 ? sc->options : 0) | opts;
    }
    return 0;
}

static int set_rewrite_base(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (server_scope(s))
        return pt_dcx_fail(l, n, "RewriteBase: only valid in per-directory config files");
    if (n->argv[0][0] != '/')
        return pt_dcx_fail(l, n, "RewriteBase: argument is not a valid URL");
    pt_rewrite_dir_t *rd = dir_conf(l, s, n);
    if (!rd)
        return -1;
    rd->base = n->argv[0];
    return 0;
}

/* ---- RewriteCond, RewriteRule ----------------------------------------------------------- */

static const void *scope_key(const dcx_scope_t *s)
{
    return server_scope(s) ? (const void *)s->vh : (const void *)s->dc;
}

static pending_t *pending_for(dcx_t *l, const void *key, bool make)
{
    state_t *st = state(l);
    for (pending_t *p = st->pending; p; p = p->next)
        if (p->scope == key)
            return p;
    if (!make)
        return NULL;
    pending_t *p = pt_arena_calloc(l->a, sizeof(*p));
    p->scope = key;
    p->next = st->pending;
    st->pending = p;
    return p;
}

static int set_rewrite_cond(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (!dir_conf(l, s, n))
        return -1;
    char err[PT_ERRLEN];
    pt_rewrite_build_t b = builder(l, err);
    b.htaccess = htaccess_scope(s);
    pt_rewrite_cond_t *c =
        pt_rewrite_cond_new(&b, n->argv[0], n->argv[1], n->argc > 2 ? n->argv[2] : NULL);
    if (!c)
        return pt_dcx_fail(l, n, "%s", err);
    pending_t *p = pending_for(l, scope_key(s), true);
    if (!p->nconds)
        p->first = n;
    pt_rewrite_cond_t **slot = pt_dcx_push(l->a, &p->conds, &p->nconds, sizeof(*slot));
    *slot = c;
    return 0;
}

/* The backend a "proxy:URL" handler name stands for, made (or found) by the proxy as for
 * SetHandler; NULL after pt_dcx_fail. */
static pt_backend_t *backend_for(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, const char *name)
{
    pt_dir_config_t *scratch = pt_dcx_dir_new(l->a);
    dcx_scope_t tmp = {.where = s->where, .name = n->name, .vh = s->vh, .dc = scratch};
    for (size_t i = 0; i < l->nexts && !scratch->handler_backend; i++)
        if (l->exts[i]->set_handler && l->exts[i]->set_handler(l, &tmp, n, name) < 0)
            return NULL;
    if (!scratch->handler_backend)
        return pt_dcx_fail(l, n, "RewriteRule: no proxy scheme serves '%s'", name + 6), NULL;
    return scratch->handler_backend;
}

/* [P]: the backend of the target's fixed origin. ws:// and wss:// are HTTP with an upgrade
 * to WebSocket, as mod_proxy_wstunnel's schemes. */
static int proxy_backend(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, pt_rewrite_rule_t *r)
{
    const char *origin = pt_rewrite_rule_proxy_origin(l->a, r);
    if (!origin)
        return pt_dcx_fail(l, n, "RewriteRule [P]: the target's scheme://host[:port] must be "
                                 "written out (portico makes its backends when it loads the "
                                 "configuration)");
    bool ws = strncasecmp(origin, "ws", 2) == 0 && (origin[2] == ':' || origin[3] == ':');
    const char *url = ws ? pt_arena_printf(l->a, "http%s", origin + 2) : origin;
    pt_backend_t *be = backend_for(l, s, n, pt_arena_printf(l->a, "proxy:%s", url));
    if (!be)
        return -1;
    if (ws && !be->upgrade && pt_dcx_in_htaccess(l)) /* (the server's: read-only here) */
        return pt_dcx_fail(l, n, "RewriteRule [P]: the server configuration's backend %s has "
                                 "no upgrade=websocket", url);
    if (ws && !be->upgrade)
        be->upgrade = "websocket";
    pt_rewrite_rule_set_proxy(r, be);
    return 0;
}

/* H=proxy:URL: its backend is made now; the request finds it by name (rewrite_request.c). */
static int handler_backend(dcx_t *l, dcx_scope_t *s, const pt_node_t *n,
                           const pt_rewrite_rule_t *r)
{
    const char *h = pt_rewrite_rule_handler(r);
    if (!h || strncasecmp(h, "proxy:", 6) != 0)
        return 0;
    if (strpbrk(h, "$%\\"))
        return pt_dcx_fail(l, n, "RewriteRule: H=%s: a proxy handler must be written out "
                                 "(portico makes its backends when it loads the "
                                 "configuration)", h);
    return backend_for(l, s, n, h) ? 0 : -1;
}

static int set_rewrite_rule(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_rewrite_dir_t *rd = dir_conf(l, s, n);
    if (!rd)
        return -1;
    pending_t *p = pending_for(l, scope_key(s), false);
    char err[PT_ERRLEN];
    pt_rewrite_build_t b = builder(l, err);
    pt_rewrite_rule_t *r =
        pt_rewrite_rule_new(&b, n->argv[0], n->argv[1], n->argc > 2 ? n->argv[2] : NULL,
                            p ? p->conds : NULL, p ? p->nconds : 0);
    if (!r)
        return pt_dcx_fail(l, n, "%s", err);
    if (p)
        p->conds = NULL, p->nconds = 0, p->first = NULL;
    if ((pt_rewrite_rule_flags(r) & PT_RWF_PROXY) && proxy_backend(l, s, n, r) < 0)
        return -1;
    if (handler_backend(l, s, n, r) < 0)
        return -1;
    const pt_rewrite_rule_t **slot;
    if (server_scope(s)) {
        pt_rewrite_srv_t *sc = server_conf(l, s->vh);
        slot = pt_dcx_push(l->a, &sc->rules, &sc->nrules, sizeof(*slot));
    } else {
        slot = pt_dcx_push(l->a, &rd->rules, &rd->nrules, sizeof(*slot));
    }
    *slot = r;
    rule_ref_t *ref = pt_arena_calloc(l->a, sizeof(*ref));
    *ref = (rule_ref_t){r, n, server_scope(s) ? s->vh : NULL, state(l)->rules};
    state(l)->rules = ref;
    return 0;
}

/* ---- RewriteMap ------------------------------------------------------------------------- */

static int set_rewrite_map(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *spec = n->argv[1], *colon = strchr(spec, ':');
    const char *type = "txt", *source = spec;
    if (colon && colon > spec + 1) { /* "C:\..." is not a type */
        type = pt_arena_strndup(l->a, spec, (size_t)(colon - spec));
        source = colon + 1;
    }
    if (strncasecmp(type, "dbm", 3) == 0)
        type = "dbm";
    if (strcasecmp(type, "int") != 0)
        source = pt_dcx_path(l, source);
    char err[PT_ERRLEN];
    pt_rewrite_build_t b = builder(l, err);
    pt_rewrite_map_t *m = pt_rewrite_map_new(&b, n->argv[0], type, source);
    if (!m)
        return pt_dcx_fail(l, n, "%s", err);
    pt_rewrite_srv_t *sc = server_conf(l, s->vh);
    for (size_t i = 0; i < sc->nmaps; i++) {
        if (strcmp(pt_rewrite_map_name(sc->maps[i]), n->argv[0]) == 0) {
            sc->maps[i] = m; /* the later definition wins, as Apache's hash */
            return 0;
        }
    }
    const pt_rewrite_map_t **slot = pt_dcx_push(l->a, &sc->maps, &sc->nmaps, sizeof(*slot));
    *slot = m;
    return 0;
}

/* ---- Once the file is read -------------------------------------------------------------- */

static const pt_rewrite_map_t **maps_join(dcx_t *l, const pt_rewrite_srv_t *first,
                                          const pt_rewrite_srv_t *second, size_t *n)
{
    const pt_rewrite_map_t **v =
        pt_arena_alloc(l->a, (first->nmaps + second->nmaps + 1) * sizeof(*v));
    *n = 0;
    for (size_t i = 0; i < first->nmaps; i++)
        v[(*n)++] = first->maps[i];
    for (size_t i = 0; i < second->nmaps; i++) {
        bool shadowed = false;
        for (size_t j = 0; j < first->nmaps && !shadowed; j++)
            shadowed = strcmp(pt_rewrite_map_name(first->maps[j]),
                              pt_rewrite_map_name(second->maps[i])) == 0;
        if (!shadowed)
            v[(*n)++] = second->maps[i];
    }
    return v;
}

static const pt_rewrite_rule_t **rules_join(dcx_t *l, const pt_rewrite_srv_t *first,
                                            const pt_rewrite_srv_t *second, size_t *n)
{
    *n = first->nrules + second->nrules;
    const pt_rewrite_rule_t **v = pt_arena_alloc(l->a, (*n + 1) * sizeof(*v));
    if (first->nrules)
        memcpy(v, first->rules, first->nrules * sizeof(*v));
    if (second->nrules)
        memcpy(v + first->nrules, second->rules, second->nrules * sizeof(*v));
    return v;
}

/* Apache's config_server_merge: a virtual host takes the main server's switch and options
 * when it sets none; its rules and maps are its own unless RewriteOptions Inherit (the main
 * server's after its own) or InheritBefore (before). */
static void merge_server(dcx_t *l, pt_vhost_t *vh, const pt_rewrite_srv_t *m)
{
    static const pt_rewrite_srv_t none = {.engine = -1, .options = -1};
    const pt_rewrite_srv_t *v = vh->rewrite ? vh->rewrite : &none;
    pt_rewrite_srv_t *x = pt_arena_calloc(l->a, sizeof(*x));
    *x = *v;
    x->engine = v->engine >= 0 ? v->engine : m->engine;
    x->options = v->options >= 0 ? v->options : m->options;
    int opt = x->options > 0 ? x->options : 0;
    if (opt & PT_REWRITE_INHERIT) {
        x->maps = maps_join(l, v, m, &x->nmaps);
        x->rules = rules_join(l, v, m, &x->nrules);
    } else if (opt & PT_REWRITE_INHERIT_BEFORE) {
        x->maps = maps_join(l, m, v, &x->nmaps);
        x->rules = rules_join(l, m, v, &x->nrules);
    }
    vh->rewrite = x;
}

typedef struct {
    dcx_t *l;
    const pt_vhost_t *vh;
    const pt_node_t *node;
    int rc;
} map_check_t;

static bool has_map(const pt_vhost_t *vh, const char *name)
{
    const pt_rewrite_srv_t *sc = vh->rewrite;
    for (size_t i = 0; sc && i < sc->nmaps; i++)
        if (strcmp(pt_rewrite_map_name(sc->maps[i]), name) == 0)
            return true;
    return false;
}

static void check_map(void *ud, const char *name)
{
    map_check_t *mc = ud;
    const pt_config_t *cfg = mc->l->cfg;
    if (mc->rc < 0)
        return;
    bool found = mc->vh ? has_map(mc->vh, name) : has_map(cfg->main_server, name);
    for (size_t i = 0; !mc->vh && !found && i < cfg->nvhosts; i++)
        found = has_map(cfg->vhosts[i], name);
    if (!found)
        mc->rc = pt_dcx_fail(mc->l, mc->node, "RewriteRule: map '%s' is not defined by a "
                                              "RewriteMap for this server", name);
}

static int finish_rewrite(dcx_t *l)
{
    state_t *st = state(l);
    for (pending_t *p = st->pending; p; p = p->next)
        if (p->nconds)
            return pt_dcx_fail(l, p->first, "RewriteCond: no RewriteRule follows it in its "
                                            "section; a condition applies to the next rule");
    static const pt_rewrite_srv_t none = {.engine = -1, .options = -1};
    const pt_rewrite_srv_t *m = l->cfg->main_server->rewrite;
    for (size_t i = 0; i < l->cfg->nvhosts; i++)
        merge_server(l, l->cfg->vhosts[i], m ? m : &none);
    for (rule_ref_t *ref = st->rules; ref; ref = ref->next) {
        map_check_t mc = {l, ref->vh, ref->node, 0};
        pt_rewrite_rule_each_map(ref->rule, check_map, &mc);
        if (mc.rc < 0)
            return -1;
    }
    return 0;
}

static const dcx_directive_t rewrite_table[] = {
    {"RewriteEngine", SRV | W_SECTIONS, 1, 1, set_rewrite_engine},
    {"RewriteOptions", SRV | W_SECTIONS, 1, NOMAX, set_rewrite_options},
    {"RewriteBase", SRV | W_SECTIONS, 1, 1, set_rewrite_base},
    {"RewriteCond", SRV | W_SECTIONS, 2, 3, set_rewrite_cond},
    {"RewriteRule", SRV | W_SECTIONS, 2, 3, set_rewrite_rule},
    {"RewriteMap", SRV, 2, 2, set_rewrite_map},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_rewrite_conf = {
    .name = "rewrite",
    .directives = rewrite_table,
    .finish = finish_rewrite,
};
