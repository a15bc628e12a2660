/* The reverse-mapping directives (mod_proxy): ProxyPassReverse, ProxyPassReverseCookiePath,
 * ProxyPassReverseCookieDomain, stored per directory (config.h, pt_reverse_rule_t) and
 * applied by reverse.c. Added to conf by startup.c as an extension of its own. */
#include "directives_reverse.h"

#include "balancer.h"
#include "directives.h"

#include <string.h>
#include <strings.h>

#define BALANCER_PREFIX "balancer://"

/* This load's balancer:// rules, resolved to their members once the whole file is read. */
typedef struct {
    pt_reverse_members_t **v;
    const char **names;        /* "NAME" of each, lower case not required */
    size_t n;
} pending_t;

static const pt_conf_ext_t *self(void);

static pt_reverse_rule_t *push_rule(dcx_t *l, const pt_reverse_rule_t **arr, size_t *n)
{
    return pt_dcx_push(l->a, (void *)arr, n, sizeof(pt_reverse_rule_t));
}

/* A rule naming balancer://NAME waits for finish_reverse to learn the members. */
static void note_balancer(dcx_t *l, pt_reverse_rule_t *rule)
{
    if (strncasecmp(rule->real, BALANCER_PREFIX, sizeof(BALANCER_PREFIX) - 1) != 0)
        return;
    void **slot = pt_dcx_ext_state(l, self());
    if (!*slot)
        *slot = pt_arena_calloc(l->a, sizeof(pending_t));
    pending_t *p = *slot;
    size_t n = p->n;
    pt_reverse_members_t **m = pt_dcx_push(l->a, &p->v, &n, sizeof(*m));
    *m = pt_arena_calloc(l->a, sizeof(**m));
    rule->members = *m;
    const char *name = rule->real + sizeof(BALANCER_PREFIX) - 1;
    const char *slash = strchr(name, '/');
    const char **nm = pt_dcx_push(l->a, &p->names, &p->n, sizeof(*nm));
    *nm = slash ? pt_arena_strndup(l->a, name, (size_t)(slash - name)) : name;
}

/* ProxyPassReverse [path] url [interpolate]: inside <Location> the path is the section's
 * and may not be given (mod_proxy's add_pass_reverse). */
static int set_proxy_pass_reverse(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *fake, *real;
    const char *flag = NULL;
    if (s->where == W_LOC) {
        if (!s->sec)
            return pt_dcx_fail(l, n, "%s: no <Location> path", n->name);
        if (n->argc > 2 || (n->argc == 2 && strcasecmp(n->argv[1], "interpolate") != 0))
            return pt_dcx_fail(l, n, "ProxyPassReverse can not have a path when defined in "
                               "a location");
        fake = s->sec->pattern;
        real = n->argv[0];
        flag = n->argc == 2 ? n->argv[1] : NULL;
    } else {
        if (n->argc < 2 || strcasecmp(n->argv[1], "interpolate") == 0)
            return pt_dcx_fail(l, n, "ProxyPassReverse needs a path when not defined in a "
                               "location");
        fake = n->argv[0];
        real = n->argv[1];
        flag = n->argc == 3 ? n->argv[2] : NULL;
    }
    if (flag && strcasecmp(flag, "interpolate") != 0)
        return pt_dcx_fail(l, n, "%s: unknown flag '%s' (interpolate)", n->name, flag);
    pt_reverse_rule_t *rule = push_rule(l, &s->dc->reverse, &s->dc->nreverse);
    rule->fake = fake;
    rule->real = real;
    rule->interpolate = flag != NULL;
    note_balancer(l, rule);
    return 0;
}

/* The cookie directives: internal (the backend's) then public value [interpolate]. */
static int add_cookie_rule(dcx_t *l, const pt_node_t *n, const pt_reverse_rule_t **arr,
                           size_t *cnt)
{
    if (n->argc == 3 && strcasecmp(n->argv[2], "interpolate") != 0)
        return pt_dcx_fail(l, n, "%s: unknown flag '%s' (interpolate)", n->name, n->argv[2]);
    pt_reverse_rule_t *rule = push_rule(l, arr, cnt);
    rule->real = n->argv[0];
    rule->fake = n->argv[1];
    rule->interpolate = n->argc == 3;
    return 0;
}

static int set_cookie_path(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_cookie_rule(l, n, &s->dc->cookie_paths, &s->dc->ncookie_paths);
}

static int set_cookie_domain(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_cookie_rule(l, n, &s->dc->cookie_domains, &s->dc->ncookie_domains);
}

/* The balancer named name (<Proxy "balancer://NAME">, BalancerMember or ProxyPass), or
 * NULL. */
static const pt_balancer_t *find_balancer(const pt_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nbalancers; i++) {
        const pt_balancer_t *bal = cfg->balancers[i];
        if (strcasecmp(bal->name + sizeof(BALANCER_PREFIX) - 1, name) == 0)
            return bal;
    }
    return NULL;
}

/* Fills each balancer:// rule with its balancer's members' URLs (in member order). */
static int finish_reverse(dcx_t *l)
{
    void **slot = pt_dcx_ext_state(l, self());
    pending_t *p = slot ? *slot : NULL;
    for (size_t k = 0; p && k < p->n; k++) {
        const pt_balancer_t *bal = find_balancer(l->cfg, p->names[k]);
        pt_reverse_members_t *m = p->v[k];
        if (!bal)
            continue;
        m->found = true;
        m->n = bal->nmembers;
        m->urls = pt_arena_calloc(l->a, (bal->nmembers + 1) * sizeof(*m->urls));
        /* A member's url is "proxy:" + the URL as written. */
        for (size_t i = 0; i < bal->nmembers; i++)
            m->urls[i] = bal->members[i]->url + 6;
    }
    return 0;
}

static const dcx_directive_t reverse_table[] = {
    {"ProxyPassReverse", SRV | W_LOC, 1, 3, set_proxy_pass_reverse},
    {"ProxyPassReverseCookiePath", SRV | W_DIR | W_LOC, 2, 3, set_cookie_path},
    {"ProxyPassReverseCookieDomain", SRV | W_DIR | W_LOC, 2, 3, set_cookie_domain},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_reverse_conf = {
    .name = "proxy-reverse",
    .directives = reverse_table,
    .finish = finish_reverse,
};

static const pt_conf_ext_t *self(void)
{
    return &pt_reverse_conf;
}
