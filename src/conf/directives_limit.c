/* Apache's method-scoped access control and method registry: <Limit> and <LimitExcept>
 * (core: the Require, Allow, Deny, Order and Satisfy lines inside apply only to the methods
 * named, or to all others), RegisterHttpMethod, and the method set that HttpProtocolOptions
 * RegisteredMethods admits. */
#include "directives.h"

#include <string.h>

/* Apache's built-in method numbers (httpd.h M_GET ... M_MERGE); HEAD shares M_GET. */
static const char *const standard[] = {
    "GET", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PROPFIND",
    "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "VERSION-CONTROL", "CHECKOUT",
    "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL", "REPORT", "MKWORKSPACE", "MKACTIVITY",
    "BASELINE-CONTROL", "MERGE", "HEAD",
};

bool pt_dcx_method_standard(const char *method)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(standard); i++)
        if (strcmp(standard[i], method) == 0)
            return true;
    return false;
}

static const char *method_key(const char *m)
{
    return strcmp(m, "HEAD") == 0 ? "GET" : m;
}

static bool listed(const pt_method_limit_t *lim, const char *m)
{
    for (size_t i = 0; i < lim->nmethods; i++)
        if (strcmp(lim->methods[i], m) == 0)
            return true;
    return false;
}

bool pt_method_limited(const pt_method_limit_t *lim, const char *method)
{
    if (!method)
        return lim == NULL;
    const char *m = method_key(method);
    for (; lim; lim = lim->outer)
        if (listed(lim, m) == lim->except)
            return false;
    return true;
}

static bool known(const pt_config_t *cfg, const char *m)
{
    if (pt_dcx_method_standard(m))
        return true;
    for (size_t i = 0; i < cfg->nmethods; i++)
        if (strcmp(cfg->methods[i], m) == 0)
            return true;
    return false;
}

bool pt_method_registered(const pt_config_t *cfg, const char *method)
{
    return method && known(cfg, method);
}

/* Apache registers an unknown method a <Limit> names (ap_method_register), globally: from
 * the server configuration only, since a .htaccess file is read per request. */
static int register_method(dcx_t *l, const pt_node_t *n, const char *m)
{
    if (known(l->cfg, m))
        return 0;
    if (l->allow)
        return pt_dcx_fail(l, n, "Could not register method '%s' for <%s from .htaccess "
                                 "configuration", m, n->name);
    const char **slot = pt_dcx_push(l->a, &l->cfg->methods, &l->cfg->nmethods, sizeof(*slot));
    *slot = m;
    return 0;
}

/* Sections that Apache refuses inside <Limit> (NOT_IN_LIMIT): its walk would apply them to
 * every method, which the reader of the file would not expect. */
static int check_children(dcx_t *l, const pt_node_t *n)
{
    for (const pt_node_t *c = n->children; c; c = c->next) {
        if (!c->section || strncasecmp(c->name, "Require", 7) == 0 ||
            strncasecmp(c->name, "Limit", 5) == 0)
            continue;
        return pt_dcx_fail(l, c, "<%s> cannot occur within <Limit> or <LimitExcept> section",
                           c->name);
    }
    return 0;
}

static int limit_section(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, bool except)
{
    if (n->argc == 0)
        return pt_dcx_fail(l, n, "<%s> directive requires additional arguments", n->name);
    pt_method_limit_t *lim = pt_arena_calloc(l->a, sizeof(*lim));
    lim->except = except;
    lim->outer = s->limit;
    lim->methods = pt_arena_calloc(l->a, (size_t)n->argc * sizeof(char *));
    bool any = except;
    for (int i = 0; i < n->argc; i++) {
        const char *m = n->argv[i];
        if (strcmp(m, "TRACE") == 0 && !except)
            return pt_dcx_fail(l, n, "TRACE cannot be controlled by <Limit>, see TraceEnable");
        if (register_method(l, n, m) < 0)
            return -1;
        lim->methods[lim->nmethods++] = method_key(m);
        if (!except && pt_method_limited(s->limit, m))
            any = true;
    }
    if (!any)
        return pt_dcx_fail(l, n, "<%s> directive excludes all methods", n->name);
    if (check_children(l, n) < 0)
        return -1;
    dcx_scope_t in = *s;
    in.limit = lim;
    /* Require lines collect into the enclosing scope's implicit <RequireAny>. */
    in.req = s->req;
    in.nreq = s->nreq;
    if (pt_dcx_walk(l, &in, n->children) < 0)
        return -1;
    s->req = in.req;
    s->nreq = in.nreq;
    return 0;
}

static int set_limit(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return limit_section(l, s, n, false);
}

static int set_limit_except(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return limit_section(l, s, n, true);
}

/* RegisterHttpMethod (core, 2.4.24): a method HttpProtocolOptions RegisteredMethods admits.
 * Apache takes any word; one that is not a token can never arrive, which is harmless. */
static int set_register_http_method(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    for (int i = 0; i < n->argc; i++)
        if (register_method(l, n, n->argv[i]) < 0)
            return -1;
    return 0;
}

const dcx_directive_t pt_dcx_limit_table[] = {
    {"<Limit", W_SECTIONS | W_AUTHZ, 0, NOMAX, set_limit},
    {"<LimitExcept", W_SECTIONS | W_AUTHZ, 0, NOMAX, set_limit_except},
    {"RegisterHttpMethod", W_SERVER, 1, NOMAX, set_register_http_method},
    {NULL, 0, 0, 0, NULL},
};
