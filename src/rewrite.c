/* Building mod_rewrite's rules, conditions and maps from their directive arguments, as
 * Apache's cmd_rewriterule, cmd_rewritecond and cmd_rewritemap parse them (flag names and
 * their long forms, the condition's operators, the "!" negations). What Apache accepts and
 * portico does not do (CO, an N without its bound, a %{LA-U:...}, prg: maps) is an
 * error here, never ignored. Evaluation is in rewrite_eval.c. */
#include "rewrite_int.h"

#include "expr_parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Apache's REWRITE_MAX_ROUNDS: N=max's bound when none is given (refused here). */
#define RW_MAX_ROUNDS_LIMIT 32000

__attribute__((format(printf, 2, 3))) static void *fail(pt_rewrite_build_t *b, const char *fmt,
                                                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, b->errlen, fmt, ap);
    va_end(ap);
    return NULL;
}

static pt_regex_t *compile(pt_rewrite_build_t *b, const char *what, const char *pattern,
                           bool icase)
{
    char e[256];
    pt_regex_t *re = pt_regex_compile(pattern, icase ? PT_REG_ICASE : 0, e, sizeof(e));
    if (!re)
        return fail(b, "%s: cannot compile regular expression '%s': %s", what, pattern, e);
    b->keep_regex(b->ud, re);
    return re;
}

/* ---- Variables and templates --------------------------------------------------------------- */

/* lookup_variable's names in Apache 2.4 (mod_rewrite.c), all of which rewrite_request.c
 * gives a value. */
static const char *const known_vars[] = {
    "API_VERSION", "AUTH_TYPE", "CONN_REMOTE_ADDR", "CONTEXT_DOCUMENT_ROOT", "CONTEXT_PREFIX",
    "DOCUMENT_ROOT", "HTTP2", "HTTPS", "HTTP_ACCEPT", "HTTP_COOKIE", "HTTP_FORWARDED",
    "HTTP_HOST", "HTTP_PROXY_CONNECTION", "HTTP_REFERER", "HTTP_USER_AGENT", "IPV6",
    "IS_SUBREQ", "PATH_INFO", "QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_IDENT",
    "REMOTE_PORT", "REMOTE_USER", "REQUEST_FILENAME", "REQUEST_METHOD", "REQUEST_SCHEME",
    "REQUEST_URI", "SCRIPT_FILENAME", "SERVER_ADDR",
    "SERVER_ADMIN", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
    "THE_REQUEST", "TIME", "TIME_DAY", "TIME_HOUR", "TIME_MIN", "TIME_MON", "TIME_SEC",
    "TIME_WDAY", "TIME_YEAR",
};

bool pt_rewrite_var_known(const char *name)
{
    if (strncasecmp(name, "HTTP:", 5) == 0 || strncasecmp(name, "ENV:", 4) == 0 ||
        strncasecmp(name, "SSL:", 4) == 0)
        return true;
    for (size_t i = 0; i < sizeof(known_vars) / sizeof(known_vars[0]); i++)
        if (strcmp(name, known_vars[i]) == 0)
            return true;
    return false;
}

/* The '}' that closes the '{' at p[0], counting nested braces (Apache's find_closing_curly),
 * or NULL. */
static const char *closing_curly(const char *p)
{
    int depth = 0;
    for (; *p; p++) {
        if (*p == '{')
            depth++;
        else if (*p == '}' && --depth == 0)
            return p;
    }
    return NULL;
}

void pt_rewrite_scan(const char *tmpl,
                     void (*fn)(void *ud, char kind, const char *name, size_t len), void *ud)
{
    for (const char *p = tmpl; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if ((*p != '%' && *p != '$') || p[1] != '{')
            continue;
        const char *end = closing_curly(p + 1);
        if (!end) {
            fn(ud, '?', p, strlen(p));
            return;
        }
        if (*p == '%') {
            fn(ud, '%', p + 2, (size_t)(end - p - 2));
            p = end;
            continue;
        }
        /* ${map:key|default}: the name, then what is inside the key and default */
        size_t nl = strcspn(p + 2, ":}");
        if (p[2 + nl] == ':')
            fn(ud, '$', p + 2, nl);
        p++;
    }
}

typedef struct {
    pt_rewrite_build_t *b;
    const char *what;
    bool bad;
} check_t;

static void check_one(void *ud, char kind, const char *name, size_t len)
{
    check_t *ck = ud;
    if (ck->bad)
        return;
    if (kind == '?') {
        fail(ck->b, "%s: '%s' has no closing '}'", ck->what, name);
        ck->bad = true;
        return;
    }
    if (kind != '%')
        return;
    char *v = pt_arena_strndup(ck->b->a, name, len);
    if (strncasecmp(v, "LA-U:", 5) == 0 || strncasecmp(v, "LA-F:", 5) == 0) {
        fail(ck->b, "%s: %%{%s}: look-ahead variables are not supported", ck->what, v);
        ck->bad = true;
    } else if (!pt_rewrite_var_known(v)) {
        fail(ck->b, "%s: unknown variable %%{%s}", ck->what, v);
        ck->bad = true;
    }
}

static bool template_ok(pt_rewrite_build_t *b, const char *what, const char *tmpl)
{
    check_t ck = {b, what, false};
    pt_rewrite_scan(tmpl, check_one, &ck);
    return !ck.bad;
}

/* ---- Flags ------------------------------------------------------------------------------- */

/* Calls fn(key, val) for each "key[=val]" of "[a,b=c]" (Apache's cmd_parseflagfield: spaces
 * around items are dropped, val is "" when there is no '='). */
static bool each_flag(pt_rewrite_build_t *b, const char *what, const char *field,
                      bool (*fn)(pt_rewrite_build_t *b, void *obj, const char *key,
                                 const char *val),
                      void *obj)
{
    size_t n = strlen(field);
    if (n < 2 || field[0] != '[' || field[n - 1] != ']') {
        fail(b, "%s: bad flag delimiters in '%s': flags are written [A,B=c]", what, field);
        return false;
    }
    char *s = pt_arena_strndup(b->a, field + 1, n - 2);
    while (*s) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        while (isspace((unsigned char)*s))
            s++;
        char *e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (*s) {
            char *eq = strchr(s, '=');
            if (eq)
                *eq++ = '\0';
            if (!fn(b, obj, s, eq ? eq : ""))
                return false;
        }
        if (!comma)
            break;
        s = comma + 1;
    }
    return true;
}

static bool is(const char *key, const char *shortname, const char *longname)
{
    return strcasecmp(key, shortname) == 0 || (longname && strcasecmp(key, longname) == 0);
}

static bool cond_flag(pt_rewrite_build_t *b, void *obj, const char *key, const char *val)
{
    pt_rewrite_cond_t *c = obj;
    (void)val;
    if (is(key, "NC", "nocase"))
        c->flags |= RWC_NOCASE;
    else if (is(key, "OR", "ornext"))
        c->flags |= RWC_ORNEXT;
    else if (is(key, "NV", "novary"))
        c->flags |= RWC_NOVARY;
    else
        return fail(b, "RewriteCond: unknown flag '%s'", key), false;
    return true;
}

/* R's value: a name or a status code; a non-3xx status answers with that status instead. */
static bool redirect_flag(pt_rewrite_build_t *b, pt_rewrite_rule_t *r, const char *val)
{
    r->flags |= PT_RWF_REDIRECT;
    if (!*val)
        return true;
    if (strcasecmp(val, "permanent") == 0)
        r->status = 301;
    else if (strcasecmp(val, "temp") == 0)
        r->status = 302;
    else if (strcasecmp(val, "seeother") == 0)
        r->status = 303;
    else if (strspn(val, "0123456789") == strlen(val) && strlen(val) == 3 &&
             atoi(val) >= 100 && atoi(val) <= 599)
        r->status = atoi(val);
    else
        return fail(b, "RewriteRule: invalid HTTP response code '%s' for flag 'R'", val), false;
    if (r->status < 300 || r->status > 399) {
        r->flags &= ~PT_RWF_REDIRECT;
        r->flags |= PT_RWF_STATUS | PT_RWF_NOSUB;
    }
    return true;
}

static bool number_flag(pt_rewrite_build_t *b, const char *key, const char *val, int max,
                        int *out)
{
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (!*val || *end || errno || v < 0 || v > max)
        return fail(b, "RewriteRule: flag '%s' needs a number from 0 to %d, not '%s'", key,
                    max, val), false;
    *out = (int)v;
    return true;
}

static bool env_flag(pt_rewrite_build_t *b, pt_rewrite_rule_t *r, const char *val)
{
    if (!*val || strcmp(val, "!") == 0)
        return fail(b, "RewriteRule: flag 'E' needs a variable: E=name:value"), false;
    rw_env_t *e = pt_arena_alloc(b->a, (r->nenv + 1) * sizeof(*e));
    if (r->nenv)
        memcpy(e, r->env, r->nenv * sizeof(*e));
    const char *colon = strchr(val, ':');
    e[r->nenv].name = colon ? pt_arena_strndup(b->a, val, (size_t)(colon - val)) : val;
    e[r->nenv].value = colon ? colon + 1 : "";
    r->env = e;
    r->nenv++;
    return template_ok(b, "RewriteRule", val);
}

/* Flags that are a bit and nothing else. */
static const struct {
    const char *name, *longname;
    unsigned bit;
} plain_flags[] = {
    {"L", "last", PT_RWF_LAST},         {"END", NULL, PT_RWF_END},
    {"NE", "noescape", PT_RWF_NOESCAPE}, {"QSA", "qsappend", PT_RWF_QSAPPEND},
    {"QSD", "qsdiscard", PT_RWF_QSDISCARD}, {"QSL", "qslast", PT_RWF_QSLAST},
    {"C", "chain", PT_RWF_CHAIN},        {"PT", "passthrough", PT_RWF_PASSTHROUGH},
    {"NC", "nocase", PT_RWF_NOCASE},     {"B", "backrefescaping", PT_RWF_ESCAPEREF},
    {"BNP", "backrefnoplus", PT_RWF_NOPLUS}, {"P", "proxy", PT_RWF_PROXY},
    {"NS", "nosubreq", PT_RWF_NOSUBREQ}, {"DPI", "discardpath", PT_RWF_DISCARDPATH},
};

static bool rule_flag(pt_rewrite_build_t *b, void *obj, const char *key, const char *val)
{
    pt_rewrite_rule_t *r = obj;
    for (size_t i = 0; i < sizeof(plain_flags) / sizeof(plain_flags[0]); i++) {
        if (is(key, plain_flags[i].name, plain_flags[i].longname)) {
            if (plain_flags[i].bit == PT_RWF_ESCAPEREF && *val)
                return fail(b, "RewriteRule: B=chars (escaping a chosen set) is not "
                               "supported; use B"), false;
            r->flags |= plain_flags[i].bit;
            return true;
        }
    }
    if (is(key, "R", "redirect"))
        return redirect_flag(b, r, val);
    if (is(key, "F", "forbidden") || is(key, "G", "gone")) {
        r->flags |= PT_RWF_STATUS | PT_RWF_NOSUB;
        r->status = toupper((unsigned char)key[0]) == 'F' ? 403 : 410;
        return true;
    }
    if (is(key, "E", "env"))
        return env_flag(b, r, val);
    if (is(key, "T", "type") || is(key, "H", "handler")) {
        if (!*val)
            return fail(b, "RewriteRule: flag '%s' needs a value", key), false;
        *(toupper((unsigned char)key[0]) == 'T' ? &r->type : &r->handler) = val;
        return template_ok(b, "RewriteRule", val);
    }
    if (is(key, "S", "skip"))
        return number_flag(b, key, val, 10000, &r->skip);
    if (is(key, "N", "next")) {
        if (!*val)
            return fail(b, "RewriteRule: flag 'N' needs its bound (N=32 loops at most 32 "
                           "times)"), false;
        r->flags |= PT_RWF_NEXT;
        return number_flag(b, key, val, RW_MAX_ROUNDS_LIMIT, &r->max_rounds);
    }
    if (is(key, "CO", "cookie"))
        return fail(b, "RewriteRule: flag 'CO' (cookies) is not supported"), false;
    return fail(b, "RewriteRule: unknown flag '%s'", key), false;
}

/* ---- Conditions and rules ---------------------------------------------------------------- */

/* The operator at the start of a condition's pattern (Apache's cmd_rewritecond): sets kind
 * and returns what follows it. */
static const char *cond_operator(pt_rewrite_cond_t *c, const char *p)
{
    static const struct { const char *op; rwc_kind_t kind; } tests[] = {
        {"-f", RWC_FILE}, {"-s", RWC_SIZE}, {"-d", RWC_DIR}, {"-x", RWC_XBIT},
        {"-h", RWC_LINK}, {"-L", RWC_LINK}, {"-l", RWC_LINK}, {"-U", RWC_LOOKUP_URL},
        {"-F", RWC_LOOKUP_FILE},
    }, ints[] = {
        {"-lt", RWC_INT_LT}, {"-le", RWC_INT_LE}, {"-gt", RWC_INT_GT}, {"-ge", RWC_INT_GE},
        {"-eq", RWC_INT_EQ}, {"-ne", RWC_INT_EQ},
    };
    c->kind = RWC_REGEX;
    if (!p[0] || !p[1])
        return p;
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
        if (strcmp(p, tests[i].op) == 0)
            return c->kind = tests[i].kind, p + 2;
    for (size_t i = 0; p[3] && i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (strncmp(p, ints[i].op, 3) == 0) {
            c->kind = ints[i].kind;
            if (strcmp(ints[i].op, "-ne") == 0)
                c->flags ^= RWC_NOTMATCH;
            return p + 3;
        }
    }
    if (p[0] == '>' || p[0] == '<') {
        bool eq = p[1] == '=';
        c->kind = p[0] == '>' ? (eq ? RWC_STR_GE : RWC_STR_GT) : (eq ? RWC_STR_LE : RWC_STR_LT);
        return p + 1 + eq;
    }
    if (p[0] == '=') {
        c->kind = RWC_STR_EQ;
        return strcmp(p + 1, "\"\"") == 0 ? "" : p + 1; /* ="" is the empty string */
    }
    return p;
}

/* RewriteCond expr "...": as Apache's cmd_rewritecond, a leading '!' negates (and then gives
 * no %N), NC means nothing, and in a .htaccess file the expression is parsed restricted. */
static pt_rewrite_cond_t *expr_cond(pt_rewrite_build_t *b, const char *pattern,
                                    const char *flags)
{
    pt_rewrite_cond_t *c = pt_arena_calloc(b->a, sizeof(*c));
    c->input = "expr";
    c->kind = RWC_EXPR;
    if (flags && !each_flag(b, "RewriteCond", flags, cond_flag, c))
        return NULL;
    c->flags &= ~(unsigned)RWC_NOCASE;
    if (*pattern == '!') {
        c->flags |= RWC_NOTMATCH;
        pattern++;
    }
    c->pattern = pattern;
    char msg[256];
    pt_expr_t *e = pt_expr_parse(b->a, pattern, b->htaccess ? PT_EXPR_RESTRICTED : 0, msg,
                                 sizeof(msg));
    if (!e)
        return fail(b, "RewriteCond: cannot compile expression%s \"%s\": %s",
                    b->htaccess ? " in htaccess context" : "", pattern, msg);
    for (size_t i = 0; i < e->nregexes; i++)
        b->keep_regex(b->ud, e->regexes[i]);
    e->nregexes = 0; /* (their owner's now) */
    c->expr = e;
    return c;
}

pt_rewrite_cond_t *pt_rewrite_cond_new(pt_rewrite_build_t *b, const char *input,
                                       const char *pattern, const char *flags)
{
    if (strcasecmp(input, "expr") == 0)
        return expr_cond(b, pattern, flags);
    pt_rewrite_cond_t *c = pt_arena_calloc(b->a, sizeof(*c));
    c->input = input;
    if (flags && !each_flag(b, "RewriteCond", flags, cond_flag, c))
        return NULL;
    const char *p = pattern;
    if (*p == '!') {
        c->flags |= RWC_NOTMATCH;
        p++;
    }
    p = cond_operator(c, p);
    /* As Apache: NC means something only to a regex and the string comparisons. */
    if (c->kind != RWC_REGEX && (c->kind < RWC_STR_LT || c->kind > RWC_STR_GE))
        c->flags &= ~(unsigned)RWC_NOCASE;
    c->pattern = p;
    if (!template_ok(b, "RewriteCond", input))
        return NULL;
    if (c->kind == RWC_REGEX &&
        !(c->re = compile(b, "RewriteCond", p, (c->flags & RWC_NOCASE) != 0)))
        return NULL;
    size_t n = strlen(input);
    if (n > 3 && strncmp(input, "%{", 2) == 0 && input[n - 1] == '}' &&
        strcspn(input + 2, "{}") == n - 3)
        c->input_var = pt_arena_strndup(b->a, input + 2, n - 3);
    return c;
}

pt_rewrite_rule_t *pt_rewrite_rule_new(pt_rewrite_build_t *b, const char *pattern,
                                       const char *subst, const char *flags,
                                       pt_rewrite_cond_t *const *conds, size_t nconds)
{
    pt_rewrite_rule_t *r = pt_arena_calloc(b->a, sizeof(*r));
    r->status = 302;
    if (flags && !each_flag(b, "RewriteRule", flags, rule_flag, r))
        return NULL;
    if (*pattern == '!') {
        r->flags |= PT_RWF_NOTMATCH;
        pattern++;
    }
    r->pattern = pattern;
    if (!(r->re = compile(b, "RewriteRule", pattern, (r->flags & PT_RWF_NOCASE) != 0)))
        return NULL;
    r->output = subst;
    if (strcmp(subst, "-") == 0)
        r->flags |= PT_RWF_NOSUB;
    if (!template_ok(b, "RewriteRule", subst))
        return NULL;
    if ((r->flags & PT_RWF_PROXY) && (r->flags & PT_RWF_NOSUB))
        return fail(b, "RewriteRule: [P] needs a substitution (the URL to proxy to)");
    r->conds = conds;
    r->nconds = nconds;
    return r;
}

unsigned pt_rewrite_rule_flags(const pt_rewrite_rule_t *rule)
{
    return rule->flags;
}

const char *pt_rewrite_rule_handler(const pt_rewrite_rule_t *rule)
{
    return rule->handler;
}

void pt_rewrite_rule_set_proxy(pt_rewrite_rule_t *rule, const void *target)
{
    rule->proxy = target;
}

const char *pt_rewrite_rule_proxy_origin(pt_arena_t *a, const pt_rewrite_rule_t *rule)
{
    /* The authority ends at the path, the query, or the first substitution (which the
     * caller checks at each request: the expanded URL must go on with '/' or '?'). */
    const char *o = rule->output;
    const char *sep = strstr(o, "://");
    if (!sep || sep == o || strcspn(o, "$%\\") < (size_t)(sep - o))
        return NULL;
    size_t start = (size_t)(sep - o) + 3;
    size_t n = start + strcspn(o + start, "/?$%\\");
    return n > start ? pt_arena_strndup(a, o, n) : NULL;
}

typedef struct {
    void (*fn)(void *ud, const char *);
    void *ud;
    pt_arena_t *a;
} each_map_t;

static void each_map_one(void *ud, char kind, const char *name, size_t len)
{
    each_map_t *em = ud;
    if (kind == '$')
        em->fn(em->ud, pt_arena_strndup(em->a, name, len));
}

void pt_rewrite_rule_each_map(const pt_rewrite_rule_t *rule, void (*fn)(void *ud, const char *),
                              void *ud)
{
    pt_arena_t *a = pt_arena_create(1024);
    each_map_t em = {fn, ud, a};
    pt_rewrite_scan(rule->output, each_map_one, &em);
    for (size_t i = 0; i < rule->nenv; i++)
        pt_rewrite_scan(rule->env[i].value, each_map_one, &em);
    for (size_t i = 0; i < rule->nconds; i++)
        pt_rewrite_scan(rule->conds[i]->input, each_map_one, &em);
    pt_arena_destroy(a);
}
