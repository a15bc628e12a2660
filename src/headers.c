/* Header and RequestHeader as mod_headers: rules parsed once at load time (format strings
 * validated, regexes compiled), then applied in order to a request's header tables. Values
 * expand %%, %t, %D, %{NAME}e, %{NAME}s, %l, %i and %b per request. */
#include "headers.h"

#include "directives.h"
#include "expr.h"
#include "expr_parse.h"
#include "mpm/scoreboard.h"
#include "request.h"
#include "tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_CAPTURES 10 /* $0..$9, as ap_pregsub */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen,
                                                      const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return PT_EINVAL;
}

/* ---- Parsing ------------------------------------------------------------------------- */

static const struct {
    const char *word;
    pt_hdr_action_t action;
    int values; /* arguments after the header name, before the condition */
} actions[] = {
    {"set", PT_HDR_SET, 1},       {"append", PT_HDR_APPEND, 1},
    {"add", PT_HDR_ADD, 1},       {"merge", PT_HDR_MERGE, 1},
    {"unset", PT_HDR_UNSET, 0},   {"setifempty", PT_HDR_SETIFEMPTY, 1},
    {"edit", PT_HDR_EDIT, 2},     {"edit*", PT_HDR_EDIT_ALL, 2},
    {"echo", PT_HDR_ECHO, 0},
};

/* Checks a value's format directives now, so a request never meets a bad one. mod_headers'
 * letters: %t, %D, %{NAME}e, %{NAME}s (mod_ssl's variables), %l, %i, %b (the load, idle and
 * busy workers); any may have a {...} argument, which only e and s read. "%%" and a '%' at
 * the end are a percent sign. */
static int check_format(const char *dir, const char *s, char *err, size_t errlen)
{
    for (const char *p = s; (p = strchr(p, '%')) != NULL;) {
        p++;
        if (*p == '%') {
            p++;
            continue;
        }
        if (*p == '\0')
            break;
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close)
                return fail(err, errlen, "%s: unterminated %%{...} in '%s'", dir, s);
            p = close + 1;
        }
        if (*p == '\0')
            return fail(err, errlen, "%s: missing format letter after %%{...} in '%s'", dir,
                        s);
        if (!strchr("tDesilb", *p))
            return fail(err, errlen, "%s: unrecognized header format %%%c in '%s'", dir, *p, s);
        p++;
    }
    return 0;
}

static int parse_condition(pt_arena_t *a, unsigned xf, const char *dir, const char *c,
                           pt_header_rule_t *out, char *err, size_t errlen)
{
    if (strncasecmp(c, "env=", 4) == 0) {
        const char *v = c + 4;
        out->env_negate = *v == '!';
        if (out->env_negate)
            v++;
        if (*v == '\0')
            return fail(err, errlen, "%s: missing environment variable name in '%s' (write "
                                     "env=VAR or env=!VAR)", dir, c);
        out->env = v;
        return 0;
    }
    if (strncasecmp(c, "expr=", 5) == 0) {
        char msg[PT_ERRLEN];
        if (!(out->cond = pt_expr_parse(a, c + 5, xf, msg, sizeof msg)))
            return fail(err, errlen, "%s: cannot parse expression \"%s\": %s", dir, c + 5,
                        msg);
        return 0;
    }
    if (strcasecmp(c, "early") == 0) {
        out->early = true;
        return 0;
    }
    return fail(err, errlen, "%s: unknown parameter '%s' (expected env=[!]VAR or expr=...)",
                dir, c);
}

static int compile(pt_arena_t *a, const char *dir, const char *pattern, int flags,
                   pt_header_rule_t *out, char *err, size_t errlen)
{
    (void)a;
    char msg[160];
    pt_regex_t *re = pt_regex_compile(pattern, flags, msg, sizeof msg);
    if (!re)
        return fail(err, errlen, "%s: bad regular expression '%s': %s", dir, pattern, msg);
    out->re = re;
    return 0;
}

static int parse_action(const char *dir, bool is_request, const char *word, int *values,
                        pt_header_rule_t *out, char *err, size_t errlen)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(actions); i++) {
        if (strcasecmp(word, actions[i].word) != 0)
            continue;
        if (is_request && actions[i].action == PT_HDR_ECHO)
            return fail(err, errlen, "RequestHeader echo is not allowed (echo is for Header)");
        out->action = actions[i].action;
        *values = actions[i].values;
        return 0;
    }
    if (strcasecmp(word, "note") == 0)
        return fail(err, errlen, "%s note is not supported", dir);
    return fail(err, errlen, "%s: first argument must be 'set', 'append', 'add', 'merge', "
                             "'unset', 'setifempty', 'edit', 'edit*'%s, not '%s'",
                dir, is_request ? "" : ", 'echo'", word);
}

static const char *action_word(pt_hdr_action_t action)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(actions); i++)
        if (actions[i].action == action)
            return actions[i].word;
    return "?";
}

/* The arguments after the header name: the value(s) the action takes, then an optional
 * condition, as ap_getword_conf splits them in mod_headers. */
static int parse_values(pt_arena_t *a, unsigned xf, const char *dir, int want, int n,
                        const char *const *v, pt_header_rule_t *out, char *err, size_t errlen)
{
    static const char *usage[] = {"a header name", "a header name and a value",
                                  "a header name, a regular expression and a replacement"};
    if (n < want || n > want + 1)
        return fail(err, errlen, "%s %s takes %s, and optionally env=[!]VAR", dir,
                    action_word(out->action), usage[want]);
    if (n == want + 1 &&
        parse_condition(a, xf, dir, pt_arena_strdup(a, v[want]), out, err, errlen))
        return PT_EINVAL;
    if (want == 0)
        return 0;
    const char *value = v[want - 1]; /* the value, or edit's replacement */
    if (strncasecmp(value, "expr=", 5) == 0) {
        /* mod_headers: the rest is a string expression, evaluated per request. */
        char msg[PT_ERRLEN];
        out->value_expr = pt_expr_parse(a, value + 5, PT_EXPR_STRING | xf, msg, sizeof msg);
        if (!out->value_expr)
            return fail(err, errlen, "%s: cannot parse expression \"%s\": %s", dir, value + 5,
                        msg);
        out->value = "";
        return want == 2 ? compile(a, dir, v[0], 0, out, err, errlen) : 0;
    }
    if (check_format(dir, value, err, errlen) != 0)
        return PT_EINVAL;
    out->value = pt_arena_strdup(a, value);
    if (want == 2)
        return compile(a, dir, v[0], 0, out, err, errlen);
    return 0;
}

int pt_header_rule_parse(pt_arena_t *a, bool is_request, unsigned xf, int argc,
                         const char *const *argv, pt_header_rule_t *out, char *err,
                         size_t errlen)
{
    const char *dir = is_request ? "RequestHeader" : "Header";
    memset(out, 0, sizeof *out);
    int i = 0;
    if (argc > 0 && (strcasecmp(argv[0], "always") == 0 ||
                     strcasecmp(argv[0], "onsuccess") == 0)) {
        if (is_request)
            return fail(err, errlen, "RequestHeader takes no condition ('%s')", argv[0]);
        out->always = strcasecmp(argv[0], "always") == 0;
        i = 1;
    }
    if (argc - i < 2)
        return fail(err, errlen, "%s needs an action and a header name, e.g. '%s set "
                                 "X-Example value'", dir, dir);
    int want = 0;
    if (parse_action(dir, is_request, argv[i], &want, out, err, errlen) != 0)
        return PT_EINVAL;
    /* mod_headers accepts "Name:" and drops the colon. */
    size_t nlen = strlen(argv[i + 1]);
    if (nlen > 0 && argv[i + 1][nlen - 1] == ':')
        nlen--;
    if (nlen == 0)
        return fail(err, errlen, "%s: empty header name", dir);
    out->name = pt_arena_strndup(a, argv[i + 1], nlen);
    if (parse_values(a, xf, dir, want, argc - i - 2, argv + i + 2, out, err, errlen) != 0)
        return PT_EINVAL;
    if (out->action == PT_HDR_ECHO)
        return compile(a, dir, out->name, PT_REG_ICASE, out, err, errlen);
    return 0;
}

void pt_header_rule_release(pt_header_rule_t *rule)
{
    if (!rule)
        return;
    if (rule->re) {
        pt_regex_free(rule->re);
        rule->re = NULL;
    }
    pt_expr_free(rule->cond);
    pt_expr_free(rule->value_expr);
}

/* ---- Building strings ---------------------------------------------------------------- */

typedef struct {
    pt_arena_t *a;
    char *p;
    size_t len, cap;
} sbuf_t;

static void sb_put(sbuf_t *sb, const char *s, size_t n)
{
    if (sb->len + n + 1 > sb->cap) {
        size_t ncap = PT_MAX(sb->cap * 2, sb->len + n + 64);
        sb->p = pt_arena_grow(sb->a, sb->p, sb->cap, ncap);
        sb->cap = ncap;
    }
    memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

/* Substituted text comes from the environment or the client: a CR or LF in it would split
 * the response head, so it becomes a space. */
static void sb_put_clean(sbuf_t *sb, const char *s)
{
    size_t start = sb->len;
    sb_put(sb, s, strlen(s));
    for (size_t i = start; i < sb->len; i++)
        if (sb->p[i] == '\r' || sb->p[i] == '\n')
            sb->p[i] = ' ';
}

/* Idle or busy workers as a percentage of every worker slot, as Apache's ap_get_sload. */
static int workers_percent(bool idle)
{
    const pt_scoreboard_t *sb = pt_scoreboard_get();
    if (!sb || sb->server_limit * sb->thread_limit <= 0)
        return 0;
    pt_sb_totals_t t;
    pt_sb_totals(sb, &t, NULL);
    return (idle ? t.idle : t.busy) * 100 / (sb->server_limit * sb->thread_limit);
}

static void put_tag(sbuf_t *sb, char tag, const char *name, size_t nlen,
                    const pt_request_t *r)
{
    char num[64];
    if (tag == 't' || tag == 'D' || tag == 'i' || tag == 'b') {
        long long v = 0;
        if (tag == 'i' || tag == 'b')
            v = workers_percent(tag == 'i');
        else if (r)
            v = tag == 't' ? r->start_wall_us : pt_mono_us() - r->start_mono_us;
        snprintf(num, sizeof num, "%c=%lld", tag, v);
        sb_put(sb, num, strlen(num));
        return;
    }
    if (tag == 'l') {
        double l[3] = {0, 0, 0};
        if (getloadavg(l, 3) < 0)
            l[0] = l[1] = l[2] = 0;
        snprintf(num, sizeof num, "l=%.2f/%.2f/%.2f", l[0], l[1], l[2]);
        sb_put(sb, num, strlen(num));
        return;
    }
    char *key = pt_arena_strndup(sb->a, name ? name : "", nlen);
    const char *v = NULL;
    if (r && tag == 'e')
        v = pt_table_get(&r->env, key);
    else if (r && r->conn && pt_tls_active(r->conn)) /* 's': mod_ssl's variable */
        v = pt_tls_var(r->conn, sb->a, key);
    else if (tag == 's' && strcmp(key, "HTTPS") == 0) /* (mod_ssl's answer without TLS) */
        v = "off";
    /* Apache prints a missing (or, from mod_ssl, empty) value as "(null)". */
    sb_put_clean(sb, v && *v ? v : "(null)");
}

/* A value written "expr=...": "" when the request cannot give one (logged, as Apache). */
static const char *expr_value(pt_arena_t *a, const pt_header_rule_t *rule,
                              const pt_request_t *r)
{
    const char *why = NULL, *v = r ? pt_expr_eval_string(r, rule->value_expr, NULL, &why) : "";
    if (!v) {
        pt_log_rerror(PT_LOG_ERR, r, "AH02557: Can't evaluate value expression: %s", why);
        return "";
    }
    /* As a format's substitutions: a CR or LF would split the head. */
    char *clean = pt_arena_strdup(a, v);
    for (char *c = clean; *c; c++)
        if (*c == '\r' || *c == '\n')
            *c = ' ';
    return clean;
}

/* Expands a value checked by check_format (or evaluates its expression). */
static const char *value_of(pt_arena_t *a, const pt_header_rule_t *rule, const char *fmt,
                            const pt_request_t *r);

static const char *expand(pt_arena_t *a, const char *fmt, const pt_request_t *r)
{
    if (!strchr(fmt, '%'))
        return fmt;
    sbuf_t sb = {a, NULL, 0, 0};
    sb_put(&sb, "", 0);
    const char *p = fmt;
    for (const char *pct; (pct = strchr(p, '%')) != NULL;) {
        sb_put(&sb, p, (size_t)(pct - p));
        const char *name = NULL;
        size_t nlen = 0;
        p = pct + 1;
        if (*p == '\0' || *p == '%') { /* a percent sign, as Apache's */
            sb_put(&sb, "%", 1);
            if (*p == '\0')
                break;
            p++;
            continue;
        }
        if (*p == '{') {
            const char *close = strchr(p, '}');
            name = p + 1;
            nlen = (size_t)(close - name);
            p = close + 1;
        }
        put_tag(&sb, *p, name, nlen, r);
        p++;
    }
    sb_put(&sb, p, strlen(p));
    return sb.p;
}

static const char *value_of(pt_arena_t *a, const pt_header_rule_t *rule, const char *fmt,
                            const pt_request_t *r)
{
    return rule->value_expr ? expr_value(a, rule, r) : expand(a, fmt, r);
}

/* ---- Applying -------------------------------------------------------------------------- */

/* ap_pregsub's rules: $0..$9 and & are captures, a backslash quotes the next character. */
static void put_subst(sbuf_t *sb, const char *repl, const char *base, const pt_regmatch_t *m)
{
    for (const char *s = repl; *s; s++) {
        int no = -1;
        if (*s == '&')
            no = 0;
        else if (*s == '$' && s[1] >= '0' && s[1] <= '9')
            no = *++s - '0';
        if (no >= 0) {
            if (m[no].rm_so >= 0)
                sb_put(sb, base + m[no].rm_so, (size_t)(m[no].rm_eo - m[no].rm_so));
            continue;
        }
        if (*s == '\\' && s[1])
            s++;
        sb_put(sb, s, 1);
    }
}

static const char *edit_value(pt_arena_t *a, const pt_header_rule_t *rule, const char *value,
                              const char *repl)
{
    pt_regmatch_t m[MAX_CAPTURES];
    sbuf_t sb = {a, NULL, 0, 0};
    const char *p = value;
    bool changed = false;
    int eflags = 0;
    while (*p != '\0' || !changed) {
        if (pt_regex_exec(rule->re, p, MAX_CAPTURES, m, eflags) != 0)
            break;
        if (!changed)
            sb_put(&sb, "", 0);
        changed = true;
        sb_put(&sb, p, (size_t)m[0].rm_so);
        put_subst(&sb, repl, p, m);
        const char *end = p + m[0].rm_eo;
        if (m[0].rm_eo == m[0].rm_so && *end != '\0') /* empty match: step over a char */
            sb_put(&sb, end++, 1);
        p = end;
        if (rule->action != PT_HDR_EDIT_ALL)
            break;
        eflags = PT_REG_NOTBOL;
    }
    if (!changed)
        return value;
    sb_put(&sb, p, strlen(p));
    return sb.p;
}

static void apply_edit(const pt_header_rule_t *rule, pt_table_t *t, const pt_request_t *r)
{
    const char *repl = NULL;
    for (size_t i = 0; i < t->n; i++) {
        if (strcasecmp(t->v[i].name, rule->name) != 0)
            continue;
        if (!repl)
            repl = value_of(t->arena, rule, rule->value, r);
        t->v[i].value = edit_value(t->arena, rule, t->v[i].value, repl);
    }
}

static void apply_echo(const pt_header_rule_t *rule, pt_table_t *t, const pt_request_t *r)
{
    if (!r || t == &r->headers_in)
        return;
    const pt_table_t *in = &r->headers_in;
    for (size_t i = 0; i < in->n; i++)
        if (pt_regex_exec(rule->re, in->v[i].name, 0, NULL, 0) == 0)
            pt_table_add(t, in->v[i].name, in->v[i].value);
}

static void apply_one(const pt_header_rule_t *rule, pt_table_t *t, const pt_request_t *r)
{
    switch (rule->action) {
    case PT_HDR_SET: pt_table_set(t, rule->name, value_of(t->arena, rule, rule->value, r)); break;
    case PT_HDR_APPEND:
        pt_table_append(t, rule->name, value_of(t->arena, rule, rule->value, r));
        break;
    case PT_HDR_ADD: pt_table_add(t, rule->name, value_of(t->arena, rule, rule->value, r)); break;
    case PT_HDR_MERGE:
        pt_table_merge(t, rule->name, value_of(t->arena, rule, rule->value, r));
        break;
    case PT_HDR_UNSET: pt_table_unset(t, rule->name); break;
    case PT_HDR_SETIFEMPTY:
        if (!pt_table_get(t, rule->name))
            pt_table_set(t, rule->name, value_of(t->arena, rule, rule->value, r));
        break;
    case PT_HDR_EDIT:
    case PT_HDR_EDIT_ALL: apply_edit(rule, t, r); break;
    case PT_HDR_ECHO: apply_echo(rule, t, r); break;
    }
}

/* expr=: a condition that cannot be evaluated is logged and false, as mod_headers; the
 * request headers it read (req(), http(), %{HTTP:..}, %{HTTP_*}) join a response's Vary
 * whether it holds or not (apache2 2.4: "Vary: X-C" after 'Header set X-C c
 * "expr=%{HTTP:X-C} == 1"'). */
static bool cond_holds(const pt_header_rule_t *rule, pt_table_t *t, const pt_request_t *r)
{
    const char *why = NULL, *vary = NULL;
    int v = r ? pt_expr_eval_vary(r, rule->cond, NULL, &vary, &why) : 0;
    if (vary && t != &r->headers_in)
        pt_table_merge(t, "Vary", vary);
    if (v < 0)
        pt_log_rerror(PT_LOG_ERR, r, "AH01526: Failed to evaluate expression (%s): %s",
                      rule->cond->source, why);
    return v > 0;
}

bool pt_header_rules_apply(const pt_header_rule_t *rules, size_t n, bool always, bool early,
                           pt_table_t *t, const struct pt_request *r, const char *named)
{
    bool hit = false;
    for (size_t i = 0; i < n; i++) {
        const pt_header_rule_t *rule = &rules[i];
        if (rule->always != always || rule->early != early)
            continue;
        if (rule->env) {
            bool set = r && pt_table_get(&r->env, rule->env) != NULL;
            if (set == rule->env_negate)
                continue;
        }
        if (rule->cond && !cond_holds(rule, t, r))
            continue;
        apply_one(rule, t, r);
        hit = hit || (named && rule->name && strcasecmp(rule->name, named) == 0);
    }
    return hit;
}

/* ---- Directives (registered with conf by loader.c) ------------------------------------- */

/* An expression's regexes become the config's, as the rule's own. */
static void keep_expr_regexes(dcx_t *l, pt_expr_t *e)
{
    for (size_t i = 0; e && i < e->nregexes; i++)
        pt_dcx_keep_regex(l, e->regexes[i]);
    if (e)
        e->nregexes = 0;
}

static int header_rule(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, bool req)
{
    char msg[PT_ERRLEN];
    pt_dir_config_t *dc = s->dc;
    pt_header_rule_t *r = req ? pt_dcx_push(l->a, &dc->req_headers, &dc->nreq_headers,
                                            sizeof(*r))
                              : pt_dcx_push(l->a, &dc->headers, &dc->nheaders, sizeof(*r));
    unsigned xf = pt_dcx_in_htaccess(l) ? PT_EXPR_RESTRICTED : 0;
    if (pt_header_rule_parse(l->a, req, xf, n->argc, n->argv, r, msg, sizeof(msg)) < 0)
        return pt_dcx_fail(l, n, "%s: %s", n->name, msg);
    if (r->re)
        pt_dcx_keep_regex(l, r->re);
    keep_expr_regexes(l, r->cond);
    keep_expr_regexes(l, r->value_expr);
    return 0;
}

static int set_header(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return header_rule(l, s, n, false);
}

static int set_request_header(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return header_rule(l, s, n, true);
}

static const dcx_directive_t directives[] = {
    {"Header", ALL, 2, NOMAX, set_header},
    {"RequestHeader", ALL, 2, NOMAX, set_request_header},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_headers_conf = {.name = "headers", .directives = directives};
