/* The ap_expr evaluator: walks a tree from conf/expr_parse.c for one request. Words become
 * strings (in the request's arena), comparisons follow Apache's util_expr_eval.c meanings
 * (strcmp for the string ones, 64-bit integers for -eq.., fnmatch for -strmatch, CIDR for
 * -ipmatch), and =~ keeps its captures for $0..$9 later in the same expression. */
#include "expr.h"

#include "request.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const pt_request_t *r;
    const pt_table_t *env; /* what reqenv() reads: r->env, or FastCGI's parameters */
    pt_expr_caps_t *caps;
    const char *err;
    pt_strbuf_t *vary;     /* when wanted: the header names req() and http() read */
} xe_t;

static const pt_expr_lookup_t *lookup; /* set once at start-up: pt_expr_set_lookup */

void pt_expr_set_lookup(const pt_expr_lookup_t *l)
{
    lookup = l;
}

static const char *no_lookup(xe_t *x)
{
    x->err = "no variable lookup registered (pt_expr_set_lookup)";
    return NULL;
}

static const char *word(xe_t *x, const pt_expr_node_t *n);

static const char *backref(xe_t *x, int i)
{
    const pt_expr_caps_t *c = x->caps;
    if (!c->subject || i < 0 || i >= PT_REG_MAXSUB || c->m[i].rm_so < 0)
        return "";
    return pt_arena_strndup(x->r->arena, c->subject + c->m[i].rm_so,
                            (size_t)(c->m[i].rm_eo - c->m[i].rm_so));
}

/* Apache's Vary list: "User-Agent,Referer" for a condition reading both (apache2 2.4). */
static void vary_add(xe_t *x, const char *name)
{
    pt_strbuf_printf(x->vary, "%s%s", x->vary->len ? "," : "", name);
}

/* The HTTP_* variables read a request header as much as http() does. */
static void vary_var(xe_t *x, pt_expr_var_t v)
{
    static const struct {
        pt_expr_var_t var;
        const char *header;
    } hv[] = {
        {PT_XV_HTTP_ACCEPT, "Accept"},       {PT_XV_HTTP_COOKIE, "Cookie"},
        {PT_XV_HTTP_FORWARDED, "Forwarded"}, {PT_XV_HTTP_HOST, "Host"},
        {PT_XV_HTTP_PROXY_CONNECTION, "Proxy-Connection"},
        {PT_XV_HTTP_REFERER, "Referer"},     {PT_XV_HTTP_USER_AGENT, "User-Agent"},
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(hv); i++)
        if (hv[i].var == v)
            vary_add(x, hv[i].header);
}

/* A chain of joins is deep on its left (one node per part of a long string): walked by a
 * loop, not by recursion, so a long string costs no stack. */
static const char *concat(xe_t *x, const pt_expr_node_t *n)
{
    size_t count = 0;
    for (const pt_expr_node_t *i = n; i->kind == PT_XN_CONCAT; i = i->a)
        count++;
    const pt_expr_node_t **parts = pt_arena_alloc(x->r->arena, (count + 1) * sizeof(*parts));
    size_t k = count + 1;
    const pt_expr_node_t *i = n;
    for (; i->kind == PT_XN_CONCAT; i = i->a)
        parts[--k] = i->b;
    parts[0] = i;
    pt_strbuf_t out = {.a = x->r->arena};
    for (k = 0; k <= count; k++) {
        const char *w = word(x, parts[k]);
        if (!w)
            return NULL;
        pt_strbuf_printf(&out, "%s", w);
    }
    return out.p ? out.p : "";
}

static const char *word(xe_t *x, const pt_expr_node_t *n)
{
    switch (n->kind) {
    case PT_XN_STRING:
        return n->s;
    case PT_XN_CONCAT:
        return concat(x, n);
    case PT_XN_VAR:
        if (x->vary)
            vary_var(x, (pt_expr_var_t)n->id);
        if (!lookup)
            return no_lookup(x);
        if (n->id == PT_XV_SSL)
            return lookup->ssl_var(x->r, n->s);
        return lookup->var(x->r, (pt_expr_var_t)n->id);
    case PT_XN_FUNC: {
        const char *arg = word(x, n->a);
        if (arg && x->vary && (n->id == PT_XF_req || n->id == PT_XF_http))
            vary_add(x, arg);
        if (!arg)
            return NULL;
        return lookup ? lookup->func(x->r, x->env, (pt_expr_func_t)n->id, arg, &x->err)
                      : no_lookup(x);
    }
    case PT_XN_BACKREF:
        return backref(x, n->id);
    default:
        x->err = "internal error: a condition where a word was expected";
        return NULL;
    }
}

static int ip_match(xe_t *x, const char *ip, const char *net)
{
    if (!lookup) {
        no_lookup(x);
        return -1;
    }
    return lookup->ip_match(ip, net);
}

/* -T: false for "", "0", "off", "false" and "no" in any case; true otherwise. */
static bool true_string(const char *s)
{
    return *s && strcmp(s, "0") != 0 && strcasecmp(s, "off") != 0 &&
           strcasecmp(s, "false") != 0 && strcasecmp(s, "no") != 0;
}

static int unary(xe_t *x, int op, const char *s)
{
    struct stat st;
    switch (op) {
    case PT_XO_DIR:
        return stat(s, &st) == 0 && S_ISDIR(st.st_mode);
    case PT_XO_EXISTS:
        return *s && stat(s, &st) == 0;
    case PT_XO_FILE:
        return stat(s, &st) == 0 && S_ISREG(st.st_mode);
    case PT_XO_NONEMPTY_FILE:
        return stat(s, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
    case PT_XO_SYMLINK:
        return lstat(s, &st) == 0 && S_ISLNK(st.st_mode);
    case PT_XO_EXEC:
        return stat(s, &st) == 0 && (st.st_mode & S_IXUSR);
    case PT_XO_NONEMPTY:
        return *s != '\0';
    case PT_XO_EMPTY:
        return *s == '\0';
    case PT_XO_TRUE_STR:
        return true_string(s);
    case PT_XO_REMOTE_IP:
        return ip_match(x, lookup ? lookup->var(x->r, PT_XV_REMOTE_ADDR) : "", s);
    default:
        x->err = "internal error: unknown unary operator";
        return -1;
    }
}

static int binary(xe_t *x, int op, const char *l, const char *r)
{
    long long a = strtoll(l, NULL, 10), b = strtoll(r, NULL, 10);
    switch (op) {
    case PT_XO_STR_EQ: return strcmp(l, r) == 0;
    case PT_XO_STR_NE: return strcmp(l, r) != 0;
    case PT_XO_STR_LT: return strcmp(l, r) < 0;
    case PT_XO_STR_LE: return strcmp(l, r) <= 0;
    case PT_XO_STR_GT: return strcmp(l, r) > 0;
    case PT_XO_STR_GE: return strcmp(l, r) >= 0;
    case PT_XO_INT_EQ: return a == b;
    case PT_XO_INT_NE: return a != b;
    case PT_XO_INT_LT: return a < b;
    case PT_XO_INT_LE: return a <= b;
    case PT_XO_INT_GT: return a > b;
    case PT_XO_INT_GE: return a >= b;
    case PT_XO_IPMATCH: return ip_match(x, l, r);
    case PT_XO_STRMATCH: return fnmatch(r, l, 0) == 0;
    case PT_XO_STRCMATCH: return fnmatch(r, l, FNM_CASEFOLD) == 0;
    case PT_XO_FNMATCH: return fnmatch(r, l, FNM_PATHNAME) == 0;
    default:
        x->err = "internal error: unknown binary operator";
        return -1;
    }
}

/* =~ and !~: a match that has groups replaces the captures $N sees, as Apache's. */
static int regex(xe_t *x, const pt_expr_node_t *n, const char *s)
{
    pt_regmatch_t m[PT_REG_MAXSUB];
    int rc = pt_regex_exec(n->re, s, PT_REG_MAXSUB, m, 0);
    if (rc == PT_REG_ERROR) {
        x->err = pt_arena_printf(x->r->arena, "regular expression /%s/ hit PCRE's match "
                                 "limit", pt_regex_pattern(n->re));
        return -1;
    }
    if (rc == 0 && pt_regex_ncaptures(n->re) > 0) {
        x->caps->subject = s;
        memcpy(x->caps->m, m, sizeof m);
    }
    return (rc == 0) == (n->id == PT_XO_MATCH);
}

static int cond(xe_t *x, const pt_expr_node_t *n)
{
    const char *l, *r;
    int v;
    switch (n->kind) {
    case PT_XN_TRUE:
        return 1;
    case PT_XN_FALSE:
        return 0;
    case PT_XN_NOT:
        return (v = cond(x, n->a)) < 0 ? v : !v;
    case PT_XN_AND:
        return (v = cond(x, n->a)) <= 0 ? v : cond(x, n->b);
    case PT_XN_OR:
        return (v = cond(x, n->a)) != 0 ? v : cond(x, n->b);
    case PT_XN_UNARY:
        return (l = word(x, n->a)) ? unary(x, n->id, l) : -1;
    case PT_XN_BINARY:
        if (!(l = word(x, n->a)) || !(r = word(x, n->b)))
            return -1;
        return binary(x, n->id, l, r);
    case PT_XN_REGEX:
        return (l = word(x, n->a)) ? regex(x, n, l) : -1;
    case PT_XN_IN:
        if (!(l = word(x, n->a)))
            return -1;
        for (const pt_expr_node_t *i = n->b; i; i = i->b) {
            if (!(r = word(x, i->a)))
                return -1;
            if (strcmp(l, r) == 0)
                return 1;
        }
        return 0;
    default:
        x->err = "internal error: a word where a condition was expected";
        return -1;
    }
}

int pt_expr_eval_in(const pt_request_t *r, const pt_table_t *env, const pt_expr_t *e,
                    pt_expr_caps_t *caps, const char **err)
{
    pt_expr_caps_t none = {0};
    xe_t x = {.r = r, .env = env, .caps = caps ? caps : &none};
    int v;
    if (e->is_string) {
        const char *s = word(&x, e->root);
        v = s ? true_string(s) : -1;
    } else {
        v = cond(&x, e->root);
    }
    if (v < 0 && err)
        *err = x.err ? x.err : "evaluation failed";
    return v;
}

const char *pt_expr_eval_string_in(const pt_request_t *r, const pt_table_t *env,
                                   const pt_expr_t *e, pt_expr_caps_t *caps, const char **err)
{
    pt_expr_caps_t none = {0};
    xe_t x = {.r = r, .env = env, .caps = caps ? caps : &none};
    const char *s;
    if (e->is_string) {
        s = word(&x, e->root);
    } else {
        int v = cond(&x, e->root);
        s = v < 0 ? NULL : v ? "true" : "false";
    }
    if (!s && err)
        *err = x.err ? x.err : "evaluation failed";
    return s;
}

int pt_expr_eval(const pt_request_t *r, const pt_expr_t *e, pt_expr_caps_t *caps,
                 const char **err)
{
    return pt_expr_eval_in(r, &r->env, e, caps, err);
}

const char *pt_expr_eval_string(const pt_request_t *r, const pt_expr_t *e, pt_expr_caps_t *caps,
                                const char **err)
{
    return pt_expr_eval_string_in(r, &r->env, e, caps, err);
}

int pt_expr_eval_vary(const pt_request_t *r, const pt_expr_t *e, pt_expr_caps_t *caps,
                      const char **vary, const char **err)
{
    pt_expr_caps_t none = {0};
    pt_strbuf_t names = {.a = r->arena};
    xe_t x = {.r = r, .env = &r->env, .caps = caps ? caps : &none, .vary = &names};
    int v = e->is_string ? -1 : cond(&x, e->root);
    if (e->is_string)
        x.err = "a string expression where a condition was expected";
    if (v < 0 && err)
        *err = x.err ? x.err : "evaluation failed";
    *vary = names.len ? names.p : NULL;
    return v;
}

/* ---- <If> ------------------------------------------------------------------------------- */

static int if_eval(void *ctx, const pt_if_section_t *s)
{
    pt_request_t *r = ctx;
    const char *why = NULL;
    int v = pt_expr_eval(r, s->cond, NULL, &why);
    if (v < 0)
        pt_log_rerror(PT_LOG_ERR, r, "AH00039: Failed to evaluate <If > condition at %s:%d: %s",
                      s->file, s->line, why);
    return v;
}

void pt_expr_if_walk(pt_request_t *r)
{
    if (r->dir && r->dir->nifs)
        r->dir = pt_config_if_walk(r->arena, r->dir, if_eval, r, &r->sections);
}

const pt_dir_config_t *pt_expr_if_merge(pt_request_t *r, const pt_dir_config_t *d)
{
    return d->nifs ? pt_config_if_walk(r->arena, d, if_eval, r, NULL) : d;
}

/* ---- SetEnvIfExpr ----------------------------------------------------------------------- */

int pt_expr_setenvif(const pt_request_t *r, const pt_env_rule_t *e, pt_expr_caps_t *caps)
{
    const char *why = NULL;
    int v = pt_expr_eval(r, e->expr, caps, &why);
    if (v < 0)
        pt_log_rerror(PT_LOG_ERR, r, "SetEnvIfExpr: failed to evaluate '%s': %s",
                      e->expr->source, why);
    /* Apache substitutes also when the expression captured nothing: $N is then empty. */
    if (!caps->subject)
        *caps = (pt_expr_caps_t){.subject = ""};
    return v > 0;
}
