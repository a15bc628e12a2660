/* The balancer's directives (mod_proxy_balancer, and mod_proxy's <Proxy> section):
 * <Proxy "balancer://NAME"> with BalancerMember and ProxySet, the same two outside it with
 * the balancer's URL first, <Proxy worker-url> whose ProxySet keys go to that backend,
 * <Proxy *> and <ProxyMatch> (their Require lines), BalancerPersist and ProxyStatus. At the
 * end of the load the ProxyPass backends are tied to their balancers and the parent makes
 * the generation's shared memory (balancer_shm.c), which the children inherit. */
#include "directives_balancer.h"

#include "access.h"
#include "balancer.h"
#include "directives_proxy.h"
#include "lbmethods.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <strings.h>

/* Spare slots a resolve= member gets for the addresses its name may come to have. */
#define RESOLVE_SLOTS 16

/* A <Proxy>/<ProxyMatch> section's access rules, kept until the end of the load. */
typedef struct {
    const char *url;           /* "*", a URL prefix, or the regex source */
    pt_regex_t *re;               /* <ProxyMatch> */
    const pt_require_t *require;
    const struct pt_access_compat *compat; /* Order/Allow/Deny/Satisfy (access_compat.h) */
} psection_t;

/* A worker's ProxySet (in <Proxy worker-url>, or ProxySet worker-url ...): kept to be
 * applied at the end to the other backends under that URL too. */
typedef struct {
    const pt_backend_t *worker;
    const pt_node_t *node;
    int first;                 /* the first key=value argument */
} wset_t;

/* What one load keeps between directives (its slot in dcx_t, in the load's arena). */
typedef struct {
    psection_t *sections;
    size_t nsections;
    wset_t *wsets;
    size_t nwsets;
    pt_balancer_t *cur;        /* inside <Proxy "balancer://...">: that balancer */
    pt_backend_t *worker;      /* inside <Proxy worker-url>: that backend */
    bool persist;              /* BalancerPersist On */
} bstate_t;

static bstate_t *state(dcx_t *l)
{
    void **slot = pt_dcx_ext_state(l, &pt_balancer_conf);
    if (!*slot)
        *slot = pt_arena_calloc(l->a, sizeof(bstate_t));
    return *slot;
}

static bool is_balancer_url(const char *url)
{
    return strncasecmp(url, "balancer://", 11) == 0;
}

/* "balancer://NAME/path" or "NAME" -> "balancer://name", lower case as Apache keeps it. */
static const char *canonical_name(pt_arena_t *a, const char *url)
{
    const char *p = is_balancer_url(url) ? url + 11 : url;
    size_t len = strcspn(p, "/");
    char *name = pt_arena_printf(a, "balancer://%.*s", (int)len, p);
    for (char *c = name + 11; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return name;
}

/* The balancer of that URL, made on first mention (a ProxyPass may name it first). */
static pt_balancer_t *balancer_get(dcx_t *l, const pt_node_t *n, const char *url)
{
    pt_balancer_t *bal = (pt_balancer_t *)pt_balancer_find(l->cfg, url);
    if (bal)
        return bal;
    bal = pt_arena_calloc(l->a, sizeof(*bal));
    bal->name = canonical_name(l->a, url);
    bal->index = l->cfg->nbalancers;
    bal->lbmethod = pt_lbmethod_default();
    bal->sticky_sep = '.';
    bal->forcerecovery = true;
    bal->file = n ? n->file : NULL;
    bal->line = n ? n->line : 0;
    pt_balancer_t **slot = pt_dcx_push(l->a, &l->cfg->balancers, &l->cfg->nbalancers,
                                       sizeof(*slot));
    *slot = bal;
    return bal;
}

/* ---- Balancer keys (ProxySet, mod_proxy_balancer's set_balancer_param) --------------- */

static int set_sticky(dcx_t *l, pt_balancer_t *bal, const char *v)
{
    const char *bar = strchr(v, '|');
    bal->sticky[0] = bar ? pt_arena_strndup(l->a, v, (size_t)(bar - v)) : pt_arena_strdup(l->a, v);
    bal->sticky[1] = bar ? pt_arena_strdup(l->a, bar + 1) : bal->sticky[0];
    return 0;
}

static int set_failonstatus(dcx_t *l, const pt_node_t *n, pt_balancer_t *bal, const char *v)
{
    char *list = pt_arena_strdup(l->a, v), *save = NULL;
    for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        long long st;
        if (pt_dcx_long(l, n, t, 100, 599, &st) < 0)
            return -1;
        int *slot = pt_dcx_push(l->a, &bal->failonstatus, &bal->nfailonstatus, sizeof(*slot));
        *slot = (int)st;
    }
    return 0;
}

static int set_hashkey(dcx_t *l, const pt_node_t *n, pt_balancer_t *bal, const char *v)
{
    if (strncasecmp(v, "header:", 7) != 0 && strncasecmp(v, "cookie:", 7) != 0)
        return pt_dcx_fail(l, n, "%s: hashkey=%s: header:NAME or cookie:NAME", n->name, v);
    if (!v[7])
        return pt_dcx_fail(l, n, "%s: hashkey=%s: no name", n->name, v);
    bal->hashkey = pt_arena_strdup(l->a, v);
    return 0;
}

static int set_onoff_key(dcx_t *l, const pt_node_t *n, const char *v, bool *out)
{
    return pt_dcx_onoff(l, n, v, out);
}

/* 1 when key is a balancer's, 0 when it is not (a worker key), -1 after pt_dcx_fail. */
static int balancer_key(dcx_t *l, const pt_node_t *n, pt_balancer_t *bal, const char *key,
                        const char *v)
{
    long long num = 0;
    int rc = 0;
    if (strcasecmp(key, "lbmethod") == 0) {
        if (!(bal->lbmethod = pt_lbmethod_find(v)))
            return pt_dcx_fail(l, n, "%s: lbmethod=%s: unknown (byrequests, bybusyness, "
                               "bytraffic, random2, hash)", n->name, v);
    } else if (strcasecmp(key, "stickysession") == 0) {
        rc = set_sticky(l, bal, v);
    } else if (strcasecmp(key, "stickysessionsep") == 0) {
        if (strlen(v) != 1)
            return pt_dcx_fail(l, n, "%s: stickysessionsep=%s: one character", n->name, v);
        bal->sticky_sep = v[0];
    } else if (strcasecmp(key, "scolonpathdelim") == 0) {
        rc = set_onoff_key(l, n, v, &bal->scolonpathdelim);
    } else if (strcasecmp(key, "failonstatus") == 0) {
        rc = set_failonstatus(l, n, bal, v);
    } else if (strcasecmp(key, "failontimeout") == 0) {
        rc = set_onoff_key(l, n, v, &bal->failontimeout);
    } else if (strcasecmp(key, "nofailover") == 0) {
        rc = set_onoff_key(l, n, v, &bal->nofailover);
    } else if (strcasecmp(key, "forcerecovery") == 0) {
        rc = set_onoff_key(l, n, v, &bal->forcerecovery);
    } else if (strcasecmp(key, "maxattempts") == 0) {
        rc = pt_dcx_long(l, n, v, 0, 1000, &num);
        bal->maxattempts = (int)num;
    } else if (strcasecmp(key, "growth") == 0) {
        rc = pt_dcx_long(l, n, v, 0, 1000, &num);
        bal->growth = (int)num;
    } else if (strcasecmp(key, "timeout") == 0) {
        rc = pt_dcx_timeout(l, n, v, &bal->timeout_ms);
    } else if (strcasecmp(key, "hashkey") == 0) {
        rc = set_hashkey(l, n, bal, v);
    } else if (strcasecmp(key, "lbset") == 0 || strcasecmp(key, "tracking") == 0) {
        /* Accepted as Apache: lbset is a member key; tracking is not used by portico. */
    } else {
        return 0;
    }
    return rc < 0 ? -1 : 1;
}

int pt_balancer_pass_key(dcx_t *l, const pt_node_t *n, pt_backend_t *b, const char *key,
                         const char *value)
{
    if (strcasecmp(b->scheme, "balancer") != 0)
        return 0;
    return balancer_key(l, n, balancer_get(l, n, b->url + 6), key, value);
}

/* key=value for a balancer: its own keys, else an error naming it. */
static int set_balancer_kv(dcx_t *l, const pt_node_t *n, pt_balancer_t *bal, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq)
        return pt_dcx_fail(l, n, "%s: '%s' is not key=value", n->name, kv);
    const char *key = pt_arena_strndup(l->a, kv, (size_t)(eq - kv));
    int rc = balancer_key(l, n, bal, key, eq + 1);
    if (rc == 0)
        return pt_dcx_fail(l, n, "%s: unknown balancer key '%s'", n->name, key);
    return rc < 0 ? -1 : 0;
}

/* ---- BalancerMember, ProxySet --------------------------------------------------------- */

static bool in_proxy_section(const dcx_scope_t *s)
{
    return s->where == W_DIR && s->name && strcasecmp(s->name, "Proxy") == 0;
}

static int add_member(dcx_t *l, const pt_node_t *n, pt_balancer_t *bal, int a)
{
    if (a >= n->argc)
        return pt_dcx_fail(l, n, "BalancerMember: no member URL");
    const char *url = n->argv[a++];
    if (is_balancer_url(url))
        return pt_dcx_fail(l, n, "BalancerMember: a member cannot be a balancer ('%s')", url);
    pt_backend_t *b = pt_proxy_backend_parse(l, n, url);
    if (!b)
        return -1;
    if (b->balancer)
        return pt_dcx_fail(l, n, "BalancerMember: '%s' is already a member of %s", url,
                           b->balancer->name);
    for (; a < n->argc; a++)
        if (pt_proxy_backend_key(l, n, b, n->argv[a]) < 0)
            return -1;
    b->balancer = bal;
    b->member_index = (int)bal->nmembers;
    pt_backend_t **slot = pt_dcx_push(l->a, &bal->members, &bal->nmembers, sizeof(*slot));
    *slot = b;
    return 0;
}

/* BalancerMember [balancer://NAME] url [key=value ...]: the balancer's URL first outside
 * <Proxy "balancer://NAME">, as Apache. */
static int set_balancer_member(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bstate_t *st = state(l);
    if (in_proxy_section(s)) {
        if (!st->cur)
            return pt_dcx_fail(l, n, "BalancerMember: the <Proxy> section is not a "
                               "balancer:// one");
        return add_member(l, n, st->cur, 0);
    }
    if (s->where & W_SECTIONS)
        return pt_dcx_fail(l, n, "BalancerMember cannot occur within <%s> section", s->name);
    if (!is_balancer_url(n->argv[0]))
        return pt_dcx_fail(l, n, "BalancerMember must define balancer name when outside "
                           "<Proxy > section");
    return add_member(l, n, balancer_get(l, n, n->argv[0]), 1);
}

/* ProxySet [url] key=value ...: balancer keys for a balancer, worker keys for a worker. */
/* ProxySet's keys on worker b, noted for the backends under its URL. */
static int worker_set(dcx_t *l, const pt_node_t *n, pt_backend_t *b, int a)
{
    wset_t *w = pt_dcx_push(l->a, &state(l)->wsets, &state(l)->nwsets, sizeof(*w));
    *w = (wset_t){.worker = b, .node = n, .first = a};
    for (; a < n->argc; a++)
        if (pt_proxy_backend_key(l, n, b, n->argv[a]) < 0)
            return -1;
    return 0;
}

static int proxy_set_on(dcx_t *l, const pt_node_t *n, const char *url, int a)
{
    if (is_balancer_url(url)) {
        pt_balancer_t *bal = balancer_get(l, n, url);
        for (; a < n->argc; a++)
            if (set_balancer_kv(l, n, bal, n->argv[a]) < 0)
                return -1;
        return 0;
    }
    pt_backend_t *b = pt_proxy_backend_parse(l, n, url);
    return b ? worker_set(l, n, b, a) : -1;
}

static int set_proxy_set(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bstate_t *st = state(l);
    if (in_proxy_section(s)) {
        if (st->cur) {
            for (int a = 0; a < n->argc; a++)
                if (set_balancer_kv(l, n, st->cur, n->argv[a]) < 0)
                    return -1;
            return 0;
        }
        if (st->worker)
            return worker_set(l, n, st->worker, 0);
        return pt_dcx_fail(l, n, "ProxySet: this <Proxy> section names no balancer or worker");
    }
    if (s->where & W_SECTIONS)
        return pt_dcx_fail(l, n, "ProxySet cannot occur within <%s> section", s->name);
    if (n->argc < 2 || strchr(n->argv[0], '=') )
        return pt_dcx_fail(l, n, "ProxySet outside a <Proxy> section takes the balancer or "
                           "worker URL first");
    return proxy_set_on(l, n, n->argv[0], 1);
}

/* ---- <Proxy>, <ProxyMatch> ------------------------------------------------------------ */

/* The section's body: BalancerMember, ProxySet, and per-directory directives (Require)
 * walked in a scope of its own. <Proxy *> and <ProxyMatch> carry access rules only. */
static int proxy_section(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, bool match)
{
    if (n->argc != 1)
        return pt_dcx_fail(l, n, "<%s> takes one argument", n->name);
    const char *url = n->argv[0];
    bstate_t *st = state(l);
    if (st->cur || st->worker)
        return pt_dcx_fail(l, n, "<%s> cannot be nested", n->name);
    pt_regex_t *re = NULL;
    if (match) {
        if (!(re = pt_dcx_regex(l, n, url, 0)))
            return -1;
    } else if (is_balancer_url(url)) {
        st->cur = balancer_get(l, n, url);
        st->cur->file = n->file;
        st->cur->line = n->line;
    } else if (strcmp(url, "*") != 0 && strstr(url, "://")) {
        if (!(st->worker = pt_proxy_backend_parse(l, n, url)))
            return -1;
    }
    dcx_scope_t in = {.where = W_DIR, .name = "Proxy", .vh = s->vh, .dc = pt_dcx_dir_new(l->a)};
    int rc = pt_dcx_walk(l, &in, n->children);
    if (in.dc->require || in.dc->access_compat) {
        psection_t *ps = pt_dcx_push(l->a, &st->sections, &st->nsections, sizeof(*ps));
        *ps = (psection_t){.url = url, .re = re, .require = in.dc->require,
                           .compat = in.dc->access_compat};
    }
    st->cur = NULL;
    st->worker = NULL;
    return rc;
}

static int set_proxy(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return proxy_section(l, s, n, false);
}

static int set_proxy_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return proxy_section(l, s, n, true);
}

static int set_balancer_persist(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    return pt_dcx_onoff(l, n, n->argv[0], &state(l)->persist);
}

/* ProxyStatus On|Off|Full: whether server-status (HTML and ?auto) shows the balancers, as
 * mod_proxy's status hook decides; Full is On (Apache 2.4), Off the default. A virtual host
 * without its own takes the main server's (finish). */
static int set_proxy_status(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *v = n->argv[0];
    if (strcasecmp(v, "off") == 0)
        s->vh->proxy_status = 1;
    else if (strcasecmp(v, "on") == 0 || strcasecmp(v, "full") == 0)
        s->vh->proxy_status = 2;
    else
        return pt_dcx_fail(l, n, "ProxyStatus must be On, Off or Full");
    return 0;
}

/* ---- The end of the load --------------------------------------------------------------- */

/* Every balancer:// backend (ProxyPass, SetHandler) tied to its balancer; one that no
 * section defines is made empty, as Apache does (its requests get 503). */
static int tie_backends(dcx_t *l)
{
    for (size_t i = 0; i < l->cfg->nbackends; i++) {
        pt_backend_t *b = l->cfg->backends[i];
        if (strcasecmp(b->scheme, "balancer") != 0)
            continue;
        pt_balancer_t *bal = balancer_get(l, NULL, b->url + 6);
        b->balancer = bal;
        if (!bal->backend)
            bal->backend = b;
        /* ProxyPass ... balancer://NAME timeout=N: Apache gives every key of a balancer's
         * ProxyPass to the balancer; the worker keys' parser took this one. */
        if (!bal->timeout_ms && b->timeout_ms)
            bal->timeout_ms = b->timeout_ms;
    }
    return 0;
}

/* Does the <Proxy> section's URL cover the backend URL url? "*", a wildcard pattern, or a
 * prefix ending on a path boundary ("http://h:8080" covers "http://h:8080/app"). */
static bool section_covers(const psection_t *ps, const char *url)
{
    if (ps->re)
        return pt_regex_exec(ps->re, url, 0, NULL, 0) == 0;
    if (strcmp(ps->url, "*") == 0 || fnmatch(ps->url, url, 0) == 0)
        return true;
    size_t pl = strlen(ps->url);
    return strncasecmp(url, ps->url, pl) == 0 &&
           (url[pl] == '\0' || url[pl] == '/' || (pl && ps->url[pl - 1] == '/'));
}

/* The sections with access rules, kept in the configuration for the request-time walk. */
struct pt_proxy_walk {
    const psection_t *sections;
    size_t n;
};

/* The URL mod_proxy's walk sees (r->filename after "proxy:"): b's scheme and authority
 * ("http://h:8080", "unix:/s|http://h") joined with the path the request goes to. */
static const char *proxied_url(pt_arena_t *a, const pt_backend_t *b, const char *path)
{
    const char *u = strncmp(b->url, "proxy:", 6) == 0 ? b->url + 6 : b->url;
    const char *auth = strstr(u, "://");
    size_t len = auth ? strcspn(auth + 3, "/") + (size_t)(auth + 3 - u) : strlen(u);
    return pt_arena_printf(a, "%.*s%s", (int)len, u, path ? path : b->path);
}

/* cfg->proxy_require (config.h): Apache merges the sections that match the proxied URL in
 * file order, a later Require replacing an earlier one. */
static const pt_require_t *walk_require(pt_arena_t *a, const pt_config_t *cfg,
                                        const pt_backend_t *b, const char *path,
                                        const char **url,
                                        const struct pt_access_compat **compat)
{
    const struct pt_proxy_walk *w = cfg->proxy_walk;
    const char *u = proxied_url(a, b, path);
    const pt_require_t *rq = NULL;
    *compat = NULL;
    for (size_t i = 0; w && i < w->n; i++)
        if (section_covers(&w->sections[i], u)) {
            if (w->sections[i].require)
                rq = w->sections[i].require;
            if (w->sections[i].compat)
                *compat = w->sections[i].compat;
        }
    *url = pt_arena_printf(a, "proxy:%s", u);
    return rq;
}

static void keep_walk(dcx_t *l, const bstate_t *st)
{
    if (!st->nsections)
        return;
    struct pt_proxy_walk *w = pt_arena_calloc(l->a, sizeof(*w));
    w->sections = st->sections;
    w->n = st->nsections;
    l->cfg->proxy_walk = w;
    l->cfg->proxy_require = walk_require;
}

/* SetHandler's proxying has no proxied path at the access check: each backend gets the
 * last section matching its own URL (balancer.c checks it). A later Require (or
 * Order/Allow/Deny set) replaces an earlier one, as Apache merges them in file order. */
static void tie_requires(dcx_t *l, const bstate_t *st)
{
    for (size_t i = 0; i < l->cfg->nbackends; i++) {
        pt_backend_t *b = l->cfg->backends[i];
        const char *url = strncmp(b->url, "proxy:", 6) == 0 ? b->url + 6 : b->url;
        for (size_t j = 0; j < st->nsections; j++)
            if (section_covers(&st->sections[j], url)) {
                if (st->sections[j].require)
                    b->proxy_require = st->sections[j].require;
                if (st->sections[j].compat)
                    b->proxy_compat = st->sections[j].compat;
            }
    }
}

/* Apache shares a worker with every URL it prefixes: <Proxy "fcgi://127.0.0.1:9000">
 * ProxySet timeout=300 holds for ProxyPassMatch ... fcgi://127.0.0.1:9000/var/www/$1 too.
 * Here each backend under a worker's URL gets the worker's ProxySet keys (in file order,
 * after its own). */
static int share_worker_keys(dcx_t *l, const bstate_t *st)
{
    for (size_t w = 0; w < st->nwsets; w++) {
        const wset_t *ws = &st->wsets[w];
        psection_t cover = {.url = ws->worker->url};
        for (size_t i = 0; i < l->cfg->nbackends; i++) {
            pt_backend_t *b = l->cfg->backends[i];
            if (b == ws->worker || !section_covers(&cover, b->url))
                continue;
            for (int a = ws->first; a < ws->node->argc; a++)
                if (pt_proxy_backend_key(l, ws->node, b, ws->node->argv[a]) < 0)
                    return -1;
        }
    }
    return 0;
}

/* Virtual hosts without their own ProxyStatus take the main server's (Apache's merge). */
static void inherit_proxy_status(dcx_t *l)
{
    const pt_vhost_t *m = l->cfg->main_server;
    for (size_t i = 0; i < l->cfg->nvhosts; i++)
        if (!l->cfg->vhosts[i]->proxy_status)
            l->cfg->vhosts[i]->proxy_status = m->proxy_status;
}

static int finish(dcx_t *l)
{
    bstate_t *st = state(l);
    inherit_proxy_status(l);
    tie_backends(l);
    tie_requires(l, st);
    keep_walk(l, st);
    if (share_worker_keys(l, st) < 0)
        return -1;
    for (size_t i = 0; i < l->cfg->nbalancers; i++) {
        pt_balancer_t *bal = l->cfg->balancers[i];
        size_t resolving = 0;
        for (size_t m = 0; m < bal->nmembers; m++)
            resolving += bal->members[m]->resolve_s > 0;
        bal->nslots = bal->nmembers + (size_t)bal->growth + resolving * RESOLVE_SLOTS;
        bal->persist = st->persist;
    }
    int rc = pt_balancer_shm_create(l->cfg);
    if (rc < 0)
        return pt_dcx_fail(l, NULL, "cannot make the balancers' shared memory: %s",
                           strerror(-rc));
    return 0;
}

static void release(pt_config_t *cfg)
{
    pt_balancer_shm_release(cfg);
}

static const dcx_directive_t balancer_table[] = {
    {"<Proxy", SRV, 1, 1, set_proxy},
    {"<ProxyMatch", SRV, 1, 1, set_proxy_match},
    {"BalancerMember", SRV | W_DIR, 1, NOMAX, set_balancer_member},
    {"ProxySet", SRV | W_DIR, 1, NOMAX, set_proxy_set},
    {"BalancerPersist", SRV, 1, 1, set_balancer_persist},
    {"ProxyStatus", SRV, 1, 1, set_proxy_status},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_balancer_conf = {
    .name = "balancer",
    .directives = balancer_table,
    .finish = finish,
    .release = release,
};
