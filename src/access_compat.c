/* mod_access_compat's Order, Allow from, Deny from and Satisfy: the per-section rule set,
 * the client check with Apache's three orders, and the directives. How the result combines
 * with Require and authentication is authz.c's. */
#include "access_compat.h"

#include "access_dns.h"
#include "directives.h"

#include <stdarg.h>
#include <stdio.h>

/* Looks like an address (digits, dots, colons, hex, a slash) rather than a host name:
 * Apache takes what apr_ipsubnet_create refuses as EINVAL for a name, but reports other
 * refusals ("10.1/8", "300.1.1.1") as a bad address. */
static bool looks_like_address(const char *s)
{
    if (strchr(s, ':') || strchr(s, '/'))
        return true;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return false;
    return true;
}

int pt_access_compat_parse_from(pt_arena_t *a, const char *arg, pt_from_t *out, char *err,
                                size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (strncasecmp(arg, "env=", 4) == 0) {
        const char *v = arg + 4;
        out->kind = v[0] == '!' ? PT_FROM_NOT_ENV : PT_FROM_ENV;
        if (v[0] == '!')
            v++;
        if (v[0] == '\0') {
            pt_access_err(err, errlen, "'%s': env= needs a variable name", arg);
            return PT_EINVAL;
        }
        out->name = pt_arena_strdup(a, v);
        return 0;
    }
    if (strcasecmp(arg, "all") == 0) {
        out->kind = PT_FROM_ALL;
        return 0;
    }
    if (looks_like_address(arg)) {
        if (pt_cidr_parse(arg, &out->cidr) != 0) {
            pt_access_err(err, errlen,
                    "'%s' is not a valid IP address or network (forms: 10.1.2.3, 10.1, "
                    "10.0.0.0/8, 10.0.0.0/255.0.0.0 with a contiguous mask, 2001:db8::/32)",
                    arg);
            return PT_EINVAL;
        }
        out->kind = PT_FROM_IP;
        return 0;
    }
    if (strpbrk(arg, "*?[")) {
        /* Apache takes it for a literal name that no host has: say so instead. */
        pt_access_err(err, errlen, "'%s': host names take no wildcards; '.example.com' (or "
                             "'example.com') matches every host in the domain", arg);
        return PT_EINVAL;
    }
    out->kind = PT_FROM_HOST;
    out->name = pt_arena_strdup(a, arg);
    return 0;
}

static bool from_matches(const pt_from_t *f, pt_authz_ctx_t *ctx)
{
    switch (f->kind) {
    case PT_FROM_ALL: return true;
    case PT_FROM_IP: return pt_cidr_match(&f->cidr, ctx->client);
    case PT_FROM_ENV: return ctx->env && pt_table_get(ctx->env, f->name) != NULL;
    case PT_FROM_NOT_ENV: return !ctx->env || pt_table_get(ctx->env, f->name) == NULL;
    case PT_FROM_HOST:
        /* Looked up once per request, and only when a name rule is reached. */
        if (!ctx->host_done && ctx->arena) {
            ctx->host = pt_access_remote_host(ctx->arena, ctx->client);
            ctx->host_done = true;
        }
        return ctx->host && pt_access_in_domain(f->name, ctx->host);
    }
    return false;
}

static bool any_matches(const pt_from_t *v, size_t n, pt_authz_ctx_t *ctx)
{
    for (size_t i = 0; i < n; i++)
        if (pt_method_limited(v[i].limit, ctx->method) && from_matches(&v[i], ctx))
            return true;
    return false;
}

/* The last line of list that applies to method, else dflt (mod_access_compat's per-method
 * order[] and satisfy[] arrays, filled line by line). */
static int setting_for(const pt_compat_setting_t *list, size_t n, const char *method, int dflt)
{
    int v = dflt;
    for (size_t i = 0; i < n; i++)
        if (pt_method_limited(list[i].limit, method))
            v = list[i].value;
    return v;
}

bool pt_access_compat_allows(const pt_access_compat_t *c, pt_authz_ctx_t *ctx)
{
    if (!c)
        return true;
    pt_order_t order = c->norders ? (pt_order_t)setting_for(c->orders, c->norders, ctx->method,
                                                            PT_ORDER_DENY_ALLOW)
                                  : c->order;
    switch (order) {
    /* Allow,Deny: denied unless allowed, a Deny match winning over an Allow; Apache's
     * Mutual-failure comes to the same. */
    case PT_ORDER_ALLOW_DENY:
    case PT_ORDER_MUTUAL_FAILURE:
        return any_matches(c->allows, c->nallows, ctx) &&
               !any_matches(c->denys, c->ndenys, ctx);
    case PT_ORDER_DENY_ALLOW: /* allowed unless denied; an Allow match wins over a Deny */
    default:
        return any_matches(c->allows, c->nallows, ctx) ||
               !any_matches(c->denys, c->ndenys, ctx);
    }
}

pt_satisfy_t pt_access_compat_satisfy(const pt_access_compat_t *c)
{
    return c ? c->satisfy : PT_SATISFY_NOSPEC;
}

pt_satisfy_t pt_access_compat_satisfy_for(const pt_access_compat_t *c, const char *method)
{
    if (!c || !c->nsatisfies)
        return pt_access_compat_satisfy(c);
    return (pt_satisfy_t)setting_for(c->satisfies, c->nsatisfies, method, PT_SATISFY_NOSPEC);
}

static void add_setting(dcx_t *l, dcx_scope_t *s, pt_compat_setting_t **list, size_t *n,
                        int value)
{
    pt_compat_setting_t *e = pt_dcx_push(l->a, list, n, sizeof(*e));
    e->value = value;
    e->limit = s->limit;
}

/* ---- Directives ------------------------------------------------------------------------- */

/* The section's own set, made on its first compat directive (then it replaces the outer). */
static pt_access_compat_t *section_set(dcx_t *l, dcx_scope_t *s)
{
    if (!s->dc->access_compat)
        s->dc->access_compat = pt_arena_calloc(l->a, sizeof(pt_access_compat_t));
    return s->dc->access_compat;
}

static int set_order(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const char *const names[] = {"deny,allow", "allow,deny", "mutual-failure"};
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(n->argv[0], names[i]) == 0) {
            pt_access_compat_t *c = section_set(l, s);
            if (!s->limit)
                c->order = (pt_order_t)i;
            add_setting(l, s, &c->orders, &c->norders, i);
            return 0;
        }
    }
    return pt_dcx_fail(l, n, "Order: unknown order '%s' (expected 'allow,deny', 'deny,allow' "
                       "or 'mutual-failure', written without spaces)", n->argv[0]);
}

static int set_allow_deny(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, bool allow)
{
    const char *what = allow ? "Allow" : "Deny";
    if (strcasecmp(n->argv[0], "from") != 0)
        return pt_dcx_fail(l, n, "%s must be followed by 'from' (%s from all, %s from "
                           "10.0.0.0/8, ...)", what, what, what);
    pt_access_compat_t *c = section_set(l, s);
    for (int i = 1; i < n->argc; i++) {
        char msg[PT_ERRLEN];
        pt_from_t f;
        if (pt_access_compat_parse_from(l->a, n->argv[i], &f, msg, sizeof msg) != 0)
            return pt_dcx_fail(l, n, "%s from: %s", what, msg);
        pt_from_t *slot = allow ? pt_dcx_push(l->a, &c->allows, &c->nallows, sizeof f)
                                : pt_dcx_push(l->a, &c->denys, &c->ndenys, sizeof f);
        *slot = f;
        slot->limit = s->limit;
    }
    return 0;
}

static int set_allow(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_allow_deny(l, s, n, true);
}

static int set_deny(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_allow_deny(l, s, n, false);
}

static int set_satisfy(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_satisfy_t v;
    if (strcasecmp(n->argv[0], "all") == 0)
        v = PT_SATISFY_ALL;
    else if (strcasecmp(n->argv[0], "any") == 0)
        v = PT_SATISFY_ANY;
    else
        return pt_dcx_fail(l, n, "Satisfy either 'any' or 'all', not '%s'", n->argv[0]);
    pt_access_compat_t *c = section_set(l, s);
    if (!s->limit)
        c->satisfy = v;
    add_setting(l, s, &c->satisfies, &c->nsatisfies, (int)v);
    return 0;
}

static const dcx_directive_t directives[] = {
    {"Order", W_SECTIONS, 1, 1, set_order},
    {"Allow", W_SECTIONS, 2, NOMAX, set_allow},
    {"Deny", W_SECTIONS, 2, NOMAX, set_deny},
    {"Satisfy", W_SECTIONS, 1, 1, set_satisfy},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_access_compat_conf = {.name = "access_compat",
                                             .directives = directives};
