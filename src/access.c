/* Access control as mod_authz_core and mod_authz_host: Require lines become a rule tree at
 * load time; a request is judged with Apache's three results (granted, denied, neutral) and
 * the containers' and/or logic, a negation turning granted into denied and denied into
 * neutral, so that a negated rule can refuse but never admit on its own. */
#include "access.h"

#include "access_dns.h"
#include "directives.h"
#include "expr.h"
#include "request.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>

void pt_access_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- Addresses ------------------------------------------------------------------------ */

/* Decimal prefix length in 1..max; apr (and so Apache) refuses /0. */
static int parse_bits(const char *s, int max)
{
    if (*s == '\0' || strlen(s) > 3)
        return -1;
    int v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v >= 1 && v <= max ? v : -1;
}

/* A dotted netmask must be contiguous ones: the rule stores a prefix length. */
static int mask_to_prefix(const uint8_t *m, int nbytes)
{
    int bits = 0;
    bool ended = false;
    for (int i = 0; i < nbytes * 8; i++) {
        bool one = (m[i / 8] >> (7 - i % 8)) & 1;
        if (one && ended)
            return -1;
        if (one)
            bits++;
        else
            ended = true;
    }
    return bits >= 1 ? bits : -1;
}

/* Apache's partial form: "10", "10.1", "10.1.2" and the full "10.1.2.3" (prefix 8 per byte),
 * each partial one also with a trailing dot. */
static int parse_partial_v4(const char *s, pt_cidr_t *out)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        int v = 0, digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            v = v * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255)
            return PT_EINVAL;
        out->addr[n++] = (uint8_t)v;
        if (*p == '\0')
            break;
        /* apr takes a trailing dot ("127.") as the same partial address. */
        if (*p != '.' || n == 4)
            return PT_EINVAL;
        if (*++p == '\0')
            break;
    }
    out->family = AF_INET;
    out->prefix = n * 8;
    return 0;
}

static void apply_mask(pt_cidr_t *c)
{
    int nbytes = c->family == AF_INET ? 4 : 16;
    for (int i = 0; i < nbytes; i++) {
        int keep = c->prefix - i * 8;
        if (keep <= 0)
            c->addr[i] = 0;
        else if (keep < 8)
            c->addr[i] &= (uint8_t)(0xff << (8 - keep));
    }
}

int pt_cidr_parse(const char *s, pt_cidr_t *out)
{
    char ip[INET6_ADDRSTRLEN + 1];
    if (!s || !out)
        return PT_EINVAL;
    const char *slash = strchr(s, '/');
    size_t iplen = slash ? (size_t)(slash - s) : strlen(s);
    if (iplen == 0 || iplen >= sizeof ip)
        return PT_EINVAL;
    memcpy(ip, s, iplen);
    ip[iplen] = '\0';
    memset(out, 0, sizeof *out);

    if (strchr(ip, ':')) {
        if (inet_pton(AF_INET6, ip, out->addr) != 1)
            return PT_EINVAL;
        out->family = AF_INET6;
        out->prefix = slash ? parse_bits(slash + 1, 128) : 128;
    } else if (!slash) {
        return parse_partial_v4(ip, out);
    } else {
        /* With a mask the address must be complete, as apr_ipsubnet_create wants. */
        if (inet_pton(AF_INET, ip, out->addr) != 1)
            return PT_EINVAL;
        out->family = AF_INET;
        if (strchr(slash + 1, '.')) {
            uint8_t m[4];
            if (inet_pton(AF_INET, slash + 1, m) != 1)
                return PT_EINVAL;
            out->prefix = mask_to_prefix(m, 4);
        } else {
            out->prefix = parse_bits(slash + 1, 32);
        }
    }
    if (out->prefix < 0)
        return PT_EINVAL;
    apply_mask(out);
    return 0;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, int prefix)
{
    int whole = prefix / 8, rest = prefix % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t m = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & m) == (b[whole] & m);
}

bool pt_cidr_match(const pt_cidr_t *c, const struct sockaddr *sa)
{
    static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    uint8_t buf[16];
    const uint8_t *a;
    int family;
    if (!c || !sa)
        return false;
    if (sa->sa_family == AF_INET) {
        a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
        family = AF_INET;
    } else if (sa->sa_family == AF_INET6) {
        a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        family = AF_INET6;
    } else {
        return false;
    }
    /* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; IPv4 rules must still hold. */
    if (family == AF_INET6 && c->family == AF_INET && memcmp(a, mapped_prefix, 12) == 0) {
        a += 12;
        family = AF_INET;
    } else if (family == AF_INET && c->family == AF_INET6) {
        memcpy(buf, mapped_prefix, 12);
        memcpy(buf + 12, a, 4);
        a = buf;
        family = AF_INET6;
    }
    if (family != c->family)
        return false;
    return prefix_equal(a, c->addr, c->prefix);
}

/* ---- Parsing Require lines ------------------------------------------------------------ */

static int parse_all(pt_require_t *rq, int argc, const char *const *argv, char *err,
                     size_t errlen)
{
    if (rq->negate) {
        pt_access_err(err, errlen, "'Require not all' is not allowed: a negative Require directive "
                             "can only refuse, so 'not all' has no useful effect");
        return PT_EINVAL;
    }
    if (argc == 1 && strcasecmp(argv[0], "granted") == 0)
        rq->kind = PT_REQUIRE_ALL_GRANTED;
    else if (argc == 1 && strcasecmp(argv[0], "denied") == 0)
        rq->kind = PT_REQUIRE_ALL_DENIED;
    else {
        pt_access_err(err, errlen, "Argument for 'Require all' must be 'granted' or 'denied'");
        return PT_EINVAL;
    }
    return 0;
}

static int parse_ip(pt_arena_t *a, pt_require_t *rq, int argc, const char *const *argv,
                    char *err, size_t errlen)
{
    if (argc < 1) {
        pt_access_err(err, errlen, "'Require ip' needs at least one address or network");
        return PT_EINVAL;
    }
    rq->kind = PT_REQUIRE_IP;
    rq->cidrs = pt_arena_calloc(a, (size_t)argc * sizeof(pt_cidr_t));
    for (int i = 0; i < argc; i++) {
        if (pt_cidr_parse(argv[i], &rq->cidrs[i]) != 0) {
            pt_access_err(err, errlen, "'Require ip': '%s' is not a valid IP address or network",
                    argv[i]);
            return PT_EINVAL;
        }
    }
    rq->ncidrs = (size_t)argc;
    return 0;
}

/* "local" is loopback only: the rule tree does not know the connection's own address. */
static int parse_local(pt_arena_t *a, pt_require_t *rq, int argc, char *err, size_t errlen)
{
    if (argc != 0) {
        pt_access_err(err, errlen, "'Require local' takes no arguments");
        return PT_EINVAL;
    }
    rq->kind = PT_REQUIRE_IP;
    rq->cidrs = pt_arena_calloc(a, 2 * sizeof(pt_cidr_t));
    pt_cidr_parse("127.0.0.0/8", &rq->cidrs[0]);
    pt_cidr_parse("::1", &rq->cidrs[1]);
    rq->ncidrs = 2;
    return 0;
}

static int parse_names(pt_arena_t *a, pt_require_t *rq, pt_require_kind_t kind,
                       const char *prov, int argc, const char *const *argv, char *err,
                       size_t errlen)
{
    if (argc < 1) {
        pt_access_err(err, errlen, "'Require %s' needs at least one argument", prov);
        return PT_EINVAL;
    }
    rq->kind = kind;
    rq->names = pt_arena_alloc(a, (size_t)argc * sizeof(char *));
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '\0') {
            pt_access_err(err, errlen, "'Require %s': empty argument", prov);
            return PT_EINVAL;
        }
        rq->names[i] = pt_arena_strdup(a, argv[i]);
    }
    rq->nnames = (size_t)argc;
    return 0;
}

/* mod_authz_user, mod_authz_groupfile and mod_authz_host's name providers, and the place
 * kept for "Require expr". */
static int parse_user_providers(pt_arena_t *a, pt_require_t *rq, const char *prov, int n,
                                const char *const *args, char *err, size_t errlen)
{
    if (strcasecmp(prov, "valid-user") == 0) {
        if (n != 0) {
            pt_access_err(err, errlen, "'Require valid-user' takes no arguments");
            return PT_EINVAL;
        }
        rq->kind = PT_REQUIRE_VALID_USER;
        return 0;
    }
    if (strcasecmp(prov, "user") == 0)
        return parse_names(a, rq, PT_REQUIRE_USER, "user", n, args, err, errlen);
    if (strcasecmp(prov, "group") == 0)
        return parse_names(a, rq, PT_REQUIRE_GROUP, "group", n, args, err, errlen);
    if (strcasecmp(prov, "host") == 0) {
        for (int i = 0; i < n; i++) {
            if (strpbrk(args[i], "*?[")) {
                pt_access_err(err, errlen, "'Require host %s': host names take no wildcards; "
                                     "'.example.com' matches every host in the domain",
                        args[i]);
                return PT_EINVAL;
            }
        }
        return parse_names(a, rq, PT_REQUIRE_HOST, "host", n, args, err, errlen);
    }
    if (strcasecmp(prov, "forward-dns") == 0)
        return parse_names(a, rq, PT_REQUIRE_FORWARD_DNS, "forward-dns", n, args, err,
                           errlen);
    if (strcasecmp(prov, "expr") == 0) {
        /* The expression is the line as written, quotes and all, which words have lost:
         * the directive reads it (require_expr). */
        pt_access_err(err, errlen, "'Require expr' is parsed from the Require line as written "
                             "(its words alone lose the quotes the expression needs)");
        return PT_EINVAL;
    }
    pt_access_err(err, errlen,
            "'Require %s': portico has no such authorization provider (the providers are "
            "all, ip, local, method, env, valid-user, user, group, host and forward-dns)",
            prov);
    return PT_EINVAL;
}

pt_require_t *pt_require_parse(pt_arena_t *a, int argc, const char *const *argv, char *err,
                               size_t errlen)
{
    int i = 0;
    bool negate = false;
    if (argc >= 1 && strcasecmp(argv[0], "not") == 0) {
        negate = true;
        i = 1;
    }
    if (argc <= i) {
        pt_access_err(err, errlen, "Require needs an authorization provider, e.g. 'Require all "
                             "granted' or 'Require ip 10.0.0.0/8'");
        return NULL;
    }
    const char *prov = argv[i];
    int n = argc - i - 1;
    const char *const *args = argv + i + 1;
    pt_require_t *rq = pt_arena_calloc(a, sizeof *rq);
    rq->negate = negate;
    int rc;
    if (strcasecmp(prov, "all") == 0)
        rc = parse_all(rq, n, args, err, errlen);
    else if (strcasecmp(prov, "ip") == 0)
        rc = parse_ip(a, rq, n, args, err, errlen);
    else if (strcasecmp(prov, "local") == 0)
        rc = parse_local(a, rq, n, err, errlen);
    else if (strcasecmp(prov, "method") == 0)
        rc = parse_names(a, rq, PT_REQUIRE_METHOD, "method", n, args, err, errlen);
    else if (strcasecmp(prov, "env") == 0)
        rc = parse_names(a, rq, PT_REQUIRE_ENV, "env", n, args, err, errlen);
    else
        rc = parse_user_providers(a, rq, prov, n, args, err, errlen);
    return rc == 0 ? rq : NULL;
}

pt_require_t *pt_require_group(pt_arena_t *a, pt_require_kind_t kind, pt_require_t **items,
                               size_t n)
{
    pt_require_t *g = pt_arena_calloc(a, sizeof *g);
    g->kind = kind;
    g->negate = kind == PT_REQUIRE_GROUP_NONE;
    if (n > 0) {
        g->children = pt_arena_alloc(a, n * sizeof(pt_require_t *));
        memcpy(g->children, items, n * sizeof(pt_require_t *));
    }
    g->nchildren = n;
    return g;
}

/* ---- Load-time checks ----------------------------------------------------------------- */

static bool is_group(const pt_require_t *rq)
{
    return rq->kind == PT_REQUIRE_GROUP_ALL || rq->kind == PT_REQUIRE_GROUP_ANY ||
           rq->kind == PT_REQUIRE_GROUP_NONE;
}

/* <RequireNone> is a negated <RequireAny>, whatever its flag says. */
static bool is_negated(const pt_require_t *rq)
{
    return rq->negate || rq->kind == PT_REQUIRE_GROUP_NONE;
}

static const char *label(const pt_require_t *rq)
{
    switch (rq->kind) {
    case PT_REQUIRE_GROUP_ALL: return "<RequireAll>";
    case PT_REQUIRE_GROUP_ANY: return "<RequireAny>";
    case PT_REQUIRE_GROUP_NONE: return "<RequireNone>";
    default: return "Require";
    }
}

static void where(const pt_require_t *rq, char *buf, size_t len)
{
    if (rq->file)
        snprintf(buf, len, " (at %s:%d)", rq->file, rq->line);
    else
        buf[0] = '\0';
}

static int neg_in_or(const pt_require_t *child, const char *parent, char *err, size_t errlen)
{
    char at[300];
    where(child, at, sizeof at);
    pt_access_err(err, errlen, "negative %s directive has no effect in %s directive%s",
            label(child), parent, at);
    return PT_EINVAL;
}

/* Apache's rules: a negated rule (Require not, <RequireNone>) cannot stand in an "or"
 * container (<RequireAny>, <RequireNone>, or the implicit one around a section's Require
 * lines), and <RequireAll> needs a positive member, since negatives alone never grant. */
static int check_node(const pt_require_t *rq, char *err, size_t errlen)
{
    if (!is_group(rq))
        return 0;
    bool or_op = rq->kind != PT_REQUIRE_GROUP_ALL;
    bool positive = false;
    for (size_t i = 0; i < rq->nchildren; i++) {
        const pt_require_t *c = rq->children[i];
        int rc = check_node(c, err, errlen);
        if (rc != 0)
            return rc;
        if (is_negated(c) && or_op)
            return neg_in_or(c, label(rq), err, errlen);
        if (!is_negated(c))
            positive = true;
    }
    if (rq->nchildren > 0 && !positive) {
        char at[300];
        where(rq, at, sizeof at);
        pt_access_err(err, errlen, "%s directive contains only negative authorization directives%s",
                label(rq), at);
        return PT_EINVAL;
    }
    return 0;
}

int pt_require_check(const pt_require_t *top, char *err, size_t errlen)
{
    if (!top)
        return 0;
    int rc = check_node(top, err, errlen);
    if (rc != 0)
        return rc;
    if (is_negated(top))
        return neg_in_or(top, "<RequireAny>", err, errlen);
    return 0;
}

/* ---- Evaluation ----------------------------------------------------------------------- */

static bool method_listed(const pt_require_t *rq, const char *method)
{
    if (!method)
        return false;
    for (size_t i = 0; i < rq->nnames; i++) {
        /* Apache gives HEAD the method number of GET, so "Require method GET" admits HEAD. */
        if (strcmp(rq->names[i], method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(rq->names[i], "GET") == 0))
            return true;
    }
    return false;
}

static bool env_present(const pt_require_t *rq, const pt_table_t *env)
{
    if (!env)
        return false;
    for (size_t i = 0; i < rq->nnames; i++)
        if (pt_table_get(env, rq->names[i]))
            return true;
    return false;
}

static bool ip_listed(const pt_require_t *rq, const struct sockaddr *client)
{
    for (size_t i = 0; i < rq->ncidrs; i++)
        if (pt_cidr_match(&rq->cidrs[i], client))
            return true;
    return false;
}

/* ---- Require expr (mod_authz_core's expr provider) ------------------------------------------
 * The line as written (its first '"' pair stripped, as Apache), parsed with conf/expr_parse.h,
 * evaluated with expr.h against ctx->request. An expression that cannot be evaluated is
 * Apache's AUTHZ_GENERAL_ERROR, logged. */

static pt_authz_t judge_expr(const pt_require_t *rq, const pt_authz_ctx_t *ctx)
{
    if (!ctx->request)
        return PT_AUTHZ_DENIED;
    const char *why = NULL;
    int v = pt_expr_eval(ctx->request, rq->expr, NULL, &why);
    if (v < 0) {
        pt_log_rerror(PT_LOG_ERR, ctx->request, "AH01624: Failed to evaluate Require expr "
                      "'%s': %s", rq->expr->source, why);
        return PT_AUTHZ_ERROR;
    }
    return v ? PT_AUTHZ_GRANTED : PT_AUTHZ_DENIED;
}

/* "Require [not] expr ...": 1 for "not", 0 without, -1 for another provider. */
static int require_expr_negated(const pt_node_t *n)
{
    int i = n->argc > 1 && strcasecmp(n->argv[0], "not") == 0;
    return i < n->argc && strcasecmp(n->argv[i], "expr") == 0 && n->raw ? i : -1;
}

/* The rule of a "Require [not] expr" line; NULL after pt_dcx_fail. */
static pt_require_t *require_expr(dcx_t *l, const pt_node_t *n, int i)
{
    const char *line = n->raw;
    for (int k = 0; k <= i; k++) { /* past "not" and "expr" as ap_getword_conf */
        line += strcspn(line, " \t");
        line += strspn(line, " \t");
    }
    size_t len = strlen(line);
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len >= 2 && line[0] == '"' && line[len - 1] == '"')
        line++, len -= 2;
    char msg[PT_ERRLEN];
    pt_expr_t *e = pt_expr_parse(l->a, pt_arena_strndup(l->a, line, len),
                                 pt_dcx_in_htaccess(l) ? PT_EXPR_RESTRICTED : 0, msg, sizeof msg);
    if (!e) {
        pt_dcx_fail(l, n, "Cannot parse expression in require line: %s", msg);
        return NULL;
    }
    for (size_t k = 0; k < e->nregexes; k++)
        pt_dcx_keep_regex(l, e->regexes[k]);
    e->nregexes = 0;
    pt_require_t *rq = pt_arena_calloc(l->a, sizeof *rq);
    rq->kind = PT_REQUIRE_EXPR;
    rq->negate = i == 1;
    rq->expr = e;
    return rq;
}

static pt_authz_t granted_if(bool yes)
{
    return yes ? PT_AUTHZ_GRANTED : PT_AUTHZ_DENIED;
}

/* mod_authz_user and mod_authz_groupfile: no user yet is DENIED_NO_USER, so that the
 * request is authenticated and judged again. */
static pt_authz_t judge_user(const pt_require_t *rq, const pt_authz_ctx_t *ctx)
{
    if (!ctx->user)
        return PT_AUTHZ_DENIED_NO_USER;
    if (rq->kind == PT_REQUIRE_VALID_USER)
        return PT_AUTHZ_GRANTED;
    for (size_t i = 0; i < rq->nnames; i++) {
        if (rq->kind == PT_REQUIRE_USER) {
            if (strcmp(rq->names[i], ctx->user) == 0)
                return PT_AUTHZ_GRANTED;
            continue;
        }
        int m = ctx->in_group ? ctx->in_group(ctx->arg, ctx->user, rq->names[i]) : 0;
        if (m < 0)
            return PT_AUTHZ_ERROR;
        if (m > 0)
            return PT_AUTHZ_GRANTED;
    }
    return PT_AUTHZ_DENIED;
}

static pt_authz_t judge_host(const pt_require_t *rq, pt_authz_ctx_t *ctx)
{
    if (!ctx->host_done && ctx->arena) {
        ctx->host = pt_access_remote_host(ctx->arena, ctx->client);
        ctx->host_done = true;
    }
    for (size_t i = 0; i < rq->nnames && ctx->host; i++)
        if (pt_access_in_domain(rq->names[i], ctx->host))
            return PT_AUTHZ_GRANTED;
    return PT_AUTHZ_DENIED;
}

static pt_authz_t judge_forward_dns(const pt_require_t *rq, const pt_authz_ctx_t *ctx)
{
    for (size_t i = 0; i < rq->nnames; i++)
        if (pt_access_forward_dns_matches(rq->names[i], ctx->client))
            return PT_AUTHZ_GRANTED;
    return PT_AUTHZ_DENIED;
}

static pt_authz_t judge_node(const pt_require_t *rq, pt_authz_ctx_t *ctx, bool parent_and);

/* Apache's apply_authz_sections: neutral members do not count; in an "and" a denial ends
 * it and DENIED_NO_USER outranks neutral and granted; in an "or" a grant ends it and
 * DENIED_NO_USER outranks a plain denial, since a user may still change the answer. */
static pt_authz_t judge_group(const pt_require_t *rq, pt_authz_ctx_t *ctx)
{
    bool and_op = rq->kind == PT_REQUIRE_GROUP_ALL;
    pt_authz_t res = PT_AUTHZ_NEUTRAL;
    for (size_t i = 0; i < rq->nchildren; i++) {
        pt_authz_t c = judge_node(rq->children[i], ctx, and_op);
        if (c == PT_AUTHZ_ERROR)
            return c;
        if (c == PT_AUTHZ_NEUTRAL)
            continue;
        if (and_op) {
            if (c == PT_AUTHZ_DENIED)
                return c;
            if ((c == PT_AUTHZ_DENIED_NO_USER && res != PT_AUTHZ_DENIED) ||
                res == PT_AUTHZ_NEUTRAL)
                res = c;
        } else {
            if (c == PT_AUTHZ_GRANTED)
                return c;
            if ((c == PT_AUTHZ_DENIED_NO_USER && res == PT_AUTHZ_DENIED) ||
                res == PT_AUTHZ_NEUTRAL)
                res = c;
        }
    }
    return res;
}

static pt_authz_t judge_leaf(const pt_require_t *rq, pt_authz_ctx_t *ctx)
{
    switch (rq->kind) {
    case PT_REQUIRE_ALL_GRANTED: return PT_AUTHZ_GRANTED;
    case PT_REQUIRE_ALL_DENIED: return PT_AUTHZ_DENIED;
    case PT_REQUIRE_IP: return granted_if(ip_listed(rq, ctx->client));
    case PT_REQUIRE_METHOD: return granted_if(method_listed(rq, ctx->method));
    case PT_REQUIRE_ENV: return granted_if(env_present(rq, ctx->env));
    case PT_REQUIRE_VALID_USER:
    case PT_REQUIRE_USER:
    case PT_REQUIRE_GROUP: return judge_user(rq, ctx);
    case PT_REQUIRE_HOST: return judge_host(rq, ctx);
    case PT_REQUIRE_FORWARD_DNS: return judge_forward_dns(rq, ctx);
    case PT_REQUIRE_EXPR: return judge_expr(rq, ctx);
    default: return PT_AUTHZ_ERROR;
    }
}

/* Apache's section->limited: a rule applies to the methods of its <Limit>, a container to
 * those any member applies to. */
static bool applies(const pt_require_t *rq, const char *method)
{
    if (!is_group(rq))
        return pt_method_limited(rq->limit, method);
    if (rq->nchildren == 0)
        return true; /* never made by a configuration; judged (neutral) rather than skipped */
    for (size_t i = 0; i < rq->nchildren; i++)
        if (applies(rq->children[i], method))
            return true;
    return false;
}

static pt_authz_t judge_node(pt_require_t const *rq, pt_authz_ctx_t *ctx, bool parent_and)
{
    /* A rule limited to other methods grants inside an "and" and is neutral in an "or"
     * (apply_authz_sections: "directive limited to other methods"). */
    if (!applies(rq, ctx->method))
        return parent_and ? PT_AUTHZ_GRANTED : PT_AUTHZ_NEUTRAL;
    pt_authz_t res = is_group(rq) ? judge_group(rq, ctx) : judge_leaf(rq, ctx);
    if (is_negated(rq)) {
        if (res == PT_AUTHZ_GRANTED)
            res = PT_AUTHZ_DENIED;
        else if (res == PT_AUTHZ_DENIED || res == PT_AUTHZ_DENIED_NO_USER)
            res = PT_AUTHZ_NEUTRAL;
    }
    return res;
}

pt_authz_t pt_require_judge(const pt_require_t *rq, pt_authz_ctx_t *ctx)
{
    return rq ? judge_node(rq, ctx, true) : PT_AUTHZ_GRANTED;
}

bool pt_require_grants_all(const pt_require_t *rq)
{
    return rq && rq->kind == PT_REQUIRE_ALL_GRANTED && !rq->negate && !rq->limit;
}

bool pt_require_wants_user(const pt_require_t *rq)
{
    if (!rq)
        return false;
    if (rq->kind == PT_REQUIRE_VALID_USER || rq->kind == PT_REQUIRE_USER ||
        rq->kind == PT_REQUIRE_GROUP)
        return true;
    for (size_t i = 0; i < rq->nchildren; i++)
        if (pt_require_wants_user(rq->children[i]))
            return true;
    return false;
}

pt_authz_t pt_require_eval(const pt_require_t *rq, const struct sockaddr *client,
                           const char *method, const pt_table_t *env)
{
    /* The callers pass their request's own table (request.c, balancer.c): Require expr
     * reads that request. */
    const pt_request_t *r =
        env ? (const pt_request_t *)((const char *)env - offsetof(pt_request_t, env)) : NULL;
    pt_authz_ctx_t ctx = {.client = client, .method = method, .env = env, .request = r};
    return pt_require_judge(rq, &ctx) == PT_AUTHZ_GRANTED ? PT_AUTHZ_GRANTED
                                                          : PT_AUTHZ_DENIED;
}

/* ---- Directives (registered with conf by loader.c) ------------------------------------- */

/* Several Require lines in one section form an implicit <RequireAny>: the section's rule is
 * rebuilt as each is added, so it is whole whenever the walk leaves the section. Inside a
 * container (W_AUTHZ) the container collects them instead. */
static int add_require(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, pt_require_t *r)
{
    r->file = n->file;
    r->line = n->line;
    r->limit = s->limit;
    pt_require_t **slot = pt_dcx_push(l->a, &s->req, &s->nreq, sizeof(*slot));
    *slot = r;
    if (s->where != W_AUTHZ)
        s->dc->require = s->nreq == 1 ? s->req[0]
                                      : pt_require_group(l->a, PT_REQUIRE_GROUP_ANY, s->req,
                                                         s->nreq);
    return 0;
}

static int set_require(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    int neg = require_expr_negated(n);
    if (neg >= 0) {
        pt_require_t *x = require_expr(l, n, neg);
        return x ? add_require(l, s, n, x) : -1;
    }
    char msg[PT_ERRLEN];
    pt_require_t *r = pt_require_parse(l->a, n->argc, n->argv, msg, sizeof(msg));
    if (!r)
        return pt_dcx_fail(l, n, "Require: %s", msg);
    return add_require(l, s, n, r);
}

static int require_group(dcx_t *l, dcx_scope_t *s, const pt_node_t *n,
                         pt_require_kind_t kind)
{
    dcx_scope_t in = *s;
    in.where = W_AUTHZ;
    in.name = n->name;
    in.req = NULL;
    in.nreq = 0;
    if (pt_dcx_walk(l, &in, n->children) < 0)
        return -1;
    if (in.nreq == 0)
        return pt_dcx_fail(l, n, "<%s> has no Require directive", n->name);
    return add_require(l, s, n, pt_require_group(l->a, kind, in.req, in.nreq));
}

static int set_require_all(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return require_group(l, s, n, PT_REQUIRE_GROUP_ALL);
}

static int set_require_any(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return require_group(l, s, n, PT_REQUIRE_GROUP_ANY);
}

static int set_require_none(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return require_group(l, s, n, PT_REQUIRE_GROUP_NONE);
}

static const dcx_directive_t directives[] = {
    {"Require", W_SECTIONS | W_AUTHZ, 1, NOMAX, set_require},
    {"<RequireAll", W_SECTIONS | W_AUTHZ, 0, 0, set_require_all},
    {"<RequireAny", W_SECTIONS | W_AUTHZ, 0, 0, set_require_any},
    {"<RequireNone", W_SECTIONS | W_AUTHZ, 0, 0, set_require_none},
    {NULL, 0, 0, 0, NULL},
};

/* AuthMerging And|Or (pt_conf_ext_t.merge_require). */
static const pt_require_t *merge_require(pt_arena_t *a, const pt_require_t *outer,
                                         const pt_require_t *inner, bool and_op)
{
    pt_require_t *items[2] = {(pt_require_t *)outer, (pt_require_t *)inner};
    return pt_require_group(a, and_op ? PT_REQUIRE_GROUP_ALL : PT_REQUIRE_GROUP_ANY, items, 2);
}

const pt_conf_ext_t pt_access_conf = {.name = "access", .directives = directives,
                                      .merge_require = merge_require};
