/* The directives of the health checks and of members that follow the network: ProxyHCExpr
 * (mod_proxy_hcheck; the forms of ap_expr a status check uses), ProxyResolver ADDR:PORT
 * (portico's own), ProxyHCTemplate and hctemplate=, BalancerGrowth (mod_proxy), the
 * load-time check that every hcexpr= names a ProxyHCExpr, and the names of backends without
 * resolve= resolved once per load. They
 * fill pt_config_t.hcheck (hcheck.h), registered by startup.c as pt_hcheck_conf_ext. */
#include "hcheck.h"

#include "directives.h"
#include "directives_proxy.h"
#include "log.h"
#include "resolver.h"

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>

#define EXPR_HELP "supported: %%{REQUEST_STATUS} followed by =~ /regex/, !~ /regex/, " \
                  "in {'200', '204'}, or ==, !=, -eq, -ne, -lt, -le, -gt, -ge and a number; " \
                  "combined with &&, ||, ! and parentheses"

static pt_hcheck_conf_t *conf_of(dcx_t *l)
{
    if (!l->cfg->hcheck)
        l->cfg->hcheck = pt_arena_calloc(l->a, sizeof(pt_hcheck_conf_t));
    return l->cfg->hcheck;
}

/* ---- ProxyHCExpr's expressions --------------------------------------------------------- */

typedef struct {
    dcx_t *l;
    const pt_node_t *n;
    const char *text;  /* the whole expression, for messages */
    const char *p;     /* where the reader is */
} xp_t;

static void skip_ws(xp_t *x)
{
    while (isspace((unsigned char)*x->p))
        x->p++;
}

/* Takes tok (and the blanks before it) when it comes next. */
static bool take(xp_t *x, const char *tok)
{
    skip_ws(x);
    size_t n = strlen(tok);
    if (strncasecmp(x->p, tok, n) != 0)
        return false;
    /* A word operator must end there: "in" is not the start of "inx". */
    if (isalpha((unsigned char)tok[n - 1]) && isalnum((unsigned char)x->p[n]))
        return false;
    x->p += n;
    return true;
}

static pt_hc_expr_t *fail(xp_t *x, const char *what)
{
    pt_dcx_fail(x->l, x->n, "%s: cannot read the expression '%s' at '%s': %s; " EXPR_HELP,
                x->n->name, x->text, *x->p ? x->p : "(end)", what);
    return NULL;
}

static pt_hc_expr_t *node(xp_t *x, int kind)
{
    pt_hc_expr_t *e = pt_arena_calloc(x->l->a, sizeof(*e));
    e->kind = kind;
    return e;
}

/* A quoted string or a bare word (a number in practice), up to a delimiter. */
static const char *word(xp_t *x)
{
    skip_ws(x);
    const char *s = x->p, *e;
    if (*s == '\'' || *s == '"') {
        e = strchr(s + 1, *s);
        if (!e)
            return NULL;
        x->p = e + 1;
        return pt_arena_strndup(x->l->a, s + 1, (size_t)(e - s - 1));
    }
    for (e = s; *e && !isspace((unsigned char)*e) && !strchr(",}()&|", *e); e++)
        ;
    if (e == s)
        return NULL;
    x->p = e;
    return pt_arena_strndup(x->l->a, s, (size_t)(e - s));
}

/* /regex/ (or m#regex#), with an i after it for no case. */
static pt_hc_expr_t *regex_operand(xp_t *x)
{
    skip_ws(x);
    char delim = *x->p;
    if (delim == 'm' && x->p[1] && !isalnum((unsigned char)x->p[1]))
        delim = *++x->p;
    if (delim != '/' && delim != '#')
        return fail(x, "a regex in /.../ was expected");
    const char *s = ++x->p, *e = strchr(s, delim);
    if (!e)
        return fail(x, "the regex is not closed");
    x->p = e + 1;
    int flags = 0;
    if (*x->p == 'i')
        flags |= PT_REG_ICASE, x->p++;
    pt_hc_expr_t *m = node(x, PT_HCX_MATCH);
    if (!(m->re = pt_dcx_regex(x->l, x->n, pt_arena_strndup(x->l->a, s, (size_t)(e - s)),
                               flags)))
        return NULL;
    return m;
}

/* in {'200', '204', ...} (items quoted or bare, commas optional). */
static pt_hc_expr_t *list_operand(xp_t *x)
{
    if (!take(x, "{"))
        return fail(x, "a list in {...} was expected");
    pt_hc_expr_t *e = node(x, PT_HCX_IN);
    while (!take(x, "}")) {
        const char *w = word(x);
        if (!w)
            return fail(x, "a list item or '}' was expected");
        const char **slot = pt_dcx_push(x->l->a, &e->list, &e->nlist, sizeof(*slot));
        *slot = w;
        take(x, ",");
    }
    return e;
}

static pt_hc_expr_t *comparison(xp_t *x)
{
    static const struct { const char *tok; int op; } ops[] = {
        {"==", PT_HCX_EQ}, {"!=", PT_HCX_NE}, {"-eq", PT_HCX_EQ}, {"-ne", PT_HCX_NE},
        {"-lt", PT_HCX_LT}, {"-le", PT_HCX_LE}, {"-gt", PT_HCX_GT}, {"-ge", PT_HCX_GE},
        {"=", PT_HCX_EQ},
    };
    if (take(x, "=~"))
        return regex_operand(x);
    if (take(x, "!~")) {
        pt_hc_expr_t *m = regex_operand(x), *not = m ? node(x, PT_HCX_NOT) : NULL;
        if (not)
            not->l = m;
        return not;
    }
    if (take(x, "in"))
        return list_operand(x);
    for (size_t i = 0; i < PT_ARRAY_LEN(ops); i++)
        if (take(x, ops[i].tok)) {
            const char *w = word(x);
            char *end = NULL;
            long v = w ? strtol(w, &end, 10) : 0;
            if (!w || !*w || *end)
                return fail(x, "a status number was expected");
            pt_hc_expr_t *e = node(x, PT_HCX_CMP);
            e->op = ops[i].op;
            e->num = v;
            return e;
        }
    return fail(x, "an operator was expected");
}

static pt_hc_expr_t *disjunction(xp_t *x);

static pt_hc_expr_t *primary(xp_t *x)
{
    if (take(x, "!")) {
        pt_hc_expr_t *in = primary(x), *e = in ? node(x, PT_HCX_NOT) : NULL;
        if (e)
            e->l = in;
        return e;
    }
    if (take(x, "(")) {
        pt_hc_expr_t *e = disjunction(x);
        if (e && !take(x, ")"))
            return fail(x, "')' was expected");
        return e;
    }
    if (!take(x, "%{REQUEST_STATUS}"))
        return fail(x, "only %{REQUEST_STATUS} can be tested");
    return comparison(x);
}

/* a && b && ... */
static pt_hc_expr_t *conjunction(xp_t *x)
{
    pt_hc_expr_t *e = primary(x);
    while (e && take(x, "&&")) {
        pt_hc_expr_t *r = primary(x), *and = r ? node(x, PT_HCX_AND) : NULL;
        if (!and)
            return NULL;
        and->l = e;
        and->r = r;
        e = and;
    }
    return e;
}

static pt_hc_expr_t *disjunction(xp_t *x)
{
    pt_hc_expr_t *e = conjunction(x);
    while (e && take(x, "||")) {
        pt_hc_expr_t *r = conjunction(x), *or = r ? node(x, PT_HCX_OR) : NULL;
        if (!or)
            return NULL;
        or->l = e;
        or->r = r;
        e = or;
    }
    return e;
}

/* The words after the name, joined back (the config reader split them) and read inside
 * the braces Apache requires around an expression. */
static const pt_hc_expr_t *parse_expr(dcx_t *l, const pt_node_t *n)
{
    size_t len = 1;
    for (int i = 1; i < n->argc; i++)
        len += strlen(n->argv[i]) + 1;
    char *text = pt_arena_alloc(l->a, len);
    text[0] = '\0';
    for (int i = 1; i < n->argc; i++) {
        strcat(text, n->argv[i]);
        if (i + 1 < n->argc)
            strcat(text, " ");
    }
    xp_t x = {.l = l, .n = n, .text = text, .p = text};
    if (!take(&x, "{"))
        return fail(&x, "an expression is written in {...}");
    pt_hc_expr_t *e = disjunction(&x);
    if (!e)
        return NULL;
    if (!take(&x, "}"))
        return fail(&x, "'}' was expected");
    skip_ws(&x);
    if (*x.p)
        return fail(&x, "nothing may follow the '}'");
    return e;
}

static int set_proxy_hc_expr(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    pt_hcheck_conf_t *hc = conf_of(l);
    for (size_t i = 0; i < hc->nexprs; i++)
        if (strcmp(hc->expr_names[i], n->argv[0]) == 0)
            return pt_dcx_fail(l, n, "%s: '%s' is defined twice", n->name, n->argv[0]);
    const pt_hc_expr_t *e = parse_expr(l, n);
    if (!e)
        return -1;
    size_t count = hc->nexprs;
    const char **name = pt_dcx_push(l->a, &hc->expr_names, &count, sizeof(*name));
    *name = pt_arena_strdup(l->a, n->argv[0]);
    const pt_hc_expr_t **slot = pt_dcx_push(l->a, &hc->exprs, &hc->nexprs, sizeof(*slot));
    *slot = e;
    return 0;
}

/* ---- ProxyResolver --------------------------------------------------------------------- */

static int set_proxy_resolver(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    pt_hcheck_conf_t *hc = conf_of(l);
    if (pt_dns_server_parse(n->argv[0], &hc->resolver, &hc->resolver_len) < 0)
        return pt_dcx_fail(l, n, "%s: '%s' is not ADDR, ADDR:PORT or [IPv6]:PORT (an IP "
                           "address: the resolver cannot be found by name)", n->name,
                           n->argv[0]);
    return 0;
}

/* ---- What one load keeps until finish ---------------------------------------------------- */

typedef struct {
    int growth;                /* BalancerGrowth; -1 unset */
    const pt_node_t **templates; /* ProxyHCTemplate lines */
    size_t ntemplates;
} load_t;

static load_t *load_state(dcx_t *l)
{
    void **st = pt_dcx_ext_state(l, &pt_hcheck_conf_ext);
    if (!*st) {
        load_t *ls = pt_arena_calloc(l->a, sizeof(*ls));
        ls->growth = -1;
        *st = ls;
    }
    return *st;
}

/* BalancerGrowth N (mod_proxy): spare slots for every balancer that sets no growth= of its
 * own; applied in finish, which runs before the balancers' (startup.c registers this
 * extension first) so that their slots count it. */
static int set_balancer_growth(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[0], 0, 1000, &v) < 0)
        return -1;
    load_state(l)->growth = (int)v;
    return 0;
}

/* ProxyHCTemplate name key=value ... (mod_proxy_hcheck): its keys are read now, on a
 * scratch backend, so that a bad one is reported at its own line. */
static int set_proxy_hc_template(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    load_t *ls = load_state(l);
    for (size_t i = 0; i < ls->ntemplates; i++)
        if (strcmp(ls->templates[i]->argv[0], n->argv[0]) == 0)
            return pt_dcx_fail(l, n, "%s: '%s' is defined twice", n->name, n->argv[0]);
    pt_backend_t scratch = {0};
    for (int a = 1; a < n->argc; a++) {
        if (strncasecmp(n->argv[a], "hc", 2) != 0)
            return pt_dcx_fail(l, n, "%s: '%s': a template holds health-check keys only "
                               "(hcmethod, hcuri, hcinterval, hcpasses, hcfails, hcexpr)",
                               n->name, n->argv[a]);
        if (pt_proxy_backend_key(l, n, &scratch, n->argv[a]) < 0)
            return -1;
    }
    const pt_node_t **slot = pt_dcx_push(l->a, &ls->templates, &ls->ntemplates,
                                         sizeof(*slot));
    *slot = n;
    return 0;
}

/* hctemplate=NAME: the template's keys fill what the member did not say itself. */
static int apply_template(dcx_t *l, pt_backend_t *b)
{
    load_t *ls = load_state(l);
    const pt_node_t *t = NULL;
    for (size_t i = 0; i < ls->ntemplates && !t; i++)
        if (strcmp(ls->templates[i]->argv[0], b->hctemplate) == 0)
            t = ls->templates[i];
    if (!t)
        return pt_dcx_fail(l, NULL, "%s: hctemplate=%s names no ProxyHCTemplate", b->url + 6,
                           b->hctemplate);
    pt_backend_t v = {0};
    for (int a = 1; a < t->argc; a++)
        if (pt_proxy_backend_key(l, t, &v, t->argv[a]) < 0)
            return -1;
    b->hcmethod = b->hcmethod ? b->hcmethod : v.hcmethod;
    b->hcuri = b->hcuri ? b->hcuri : v.hcuri;
    b->hcexpr = b->hcexpr ? b->hcexpr : v.hcexpr;
    b->hcinterval_ms = b->hcinterval_ms ? b->hcinterval_ms : v.hcinterval_ms;
    b->hcpasses = b->hcpasses ? b->hcpasses : v.hcpasses;
    b->hcfails = b->hcfails ? b->hcfails : v.hcfails;
    return 0;
}

/* ---- After the walk --------------------------------------------------------------------- */

/* Without resolve=, a backend's name is resolved here, once per load: at start and at each
 * restart. A name that does not resolve now is said now; its connects then fail at once
 * (upstream.c), never looking the name up on a worker for each request. */
static void resolve_at_load(dcx_t *l, pt_backend_t *b)
{
    if (b->unix_path || !b->host || b->resolve_s > 0 || strcmp(b->scheme, "balancer") == 0)
        return; /* a unix socket, a balancer://, a member that follows the network */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", b->port);
    int rc = getaddrinfo(b->host, port, &hints, &res);
    if (rc != 0 || !res) {
        pt_log_merror("proxy", PT_LOG_WARN, NULL,
                      "backend %s: cannot resolve %s (%s): its "
                      "requests fail until a restart finds it (resolve=N follows a name that "
                      "changes)",
                      strncmp(b->url, "proxy:", 6) == 0 ? b->url + 6 : b->url, b->host,
                      rc ? gai_strerror(rc) : "no address");
        return;
    }
    size_t n = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        n += ai->ai_addrlen <= sizeof(struct sockaddr_storage);
    struct sockaddr_storage *addrs = pt_arena_calloc(l->a, (n ? n : 1) * sizeof(*addrs));
    n = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_addrlen <= sizeof(struct sockaddr_storage))
            memcpy(&addrs[n++], ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(res);
    b->addrs = addrs;
    b->naddrs = n;
}

/* Every hcexpr= names a ProxyHCExpr (wherever in the file it is); resolved by index. */
static int finish_hcheck(dcx_t *l)
{
    pt_config_t *cfg = l->cfg;
    pt_hcheck_conf_t *hc = NULL;
    const load_t *ls = load_state(l);
    for (size_t i = 0; ls->growth > 0 && i < cfg->nbalancers; i++)
        if (cfg->balancers[i]->growth == 0)
            cfg->balancers[i]->growth = ls->growth;
    for (size_t i = 0; i < cfg->nbackends; i++) {
        resolve_at_load(l, cfg->backends[i]);
        if (cfg->backends[i]->hctemplate && apply_template(l, cfg->backends[i]) < 0)
            return -1;
    }
    for (size_t i = 0; i < cfg->nbackends; i++) {
        const pt_backend_t *b = cfg->backends[i];
        if (!b->hcexpr)
            continue;
        hc = conf_of(l);
        if (!hc->backend_expr)
            hc->backend_expr = pt_arena_calloc(l->a, cfg->nbackends * sizeof(*hc->backend_expr));
        size_t k = 0;
        while (k < hc->nexprs && strcmp(hc->expr_names[k], b->hcexpr) != 0)
            k++;
        if (k == hc->nexprs)
            return pt_dcx_fail(l, NULL, "%s: hcexpr=%s names no ProxyHCExpr", b->url + 6,
                               b->hcexpr);
        hc->backend_expr[i] = hc->exprs[k];
    }
    return 0;
}

static const dcx_directive_t hcheck_table[] = {
    {"ProxyHCExpr", SRV, 2, NOMAX, set_proxy_hc_expr},
    {"ProxyResolver", W_SERVER, 1, 1, set_proxy_resolver},
    {"BalancerGrowth", SRV, 1, 1, set_balancer_growth},
    {"ProxyHCTemplate", SRV, 2, NOMAX, set_proxy_hc_template},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_hcheck_conf_ext = {
    .name = "hcheck",
    .directives = hcheck_table,
    .finish = finish_hcheck,
    .release = pt_hcheck_release,
};
