/* Evaluating mod_rewrite's rules, as Apache's apply_rewrite_list, apply_rewrite_rule and
 * apply_rewrite_cond: a rule's pattern first, then its conditions (OR chains), then the
 * substitution with $N (the rule's captures), %N (the last matched condition's), %{VAR} and
 * ${map:key|default}; the query string split off, the per-directory prefix stripped and put
 * back, C, S=, N=, L, END, PT and P ending or steering the walk. */
#include "common.h"
#include "rewrite_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A match's captures and the string they index (Apache's backrefinfo). */
typedef struct {
    const char *source; /* NULL: none (no match yet, or a negated one) */
    pt_regmatch_t m[PT_REG_MAXSUB];
} backref_t;

typedef struct {
    pt_rewrite_ctx_t *c;
    backref_t rule, cond;
    bool escape;        /* B: captures escaped */
    bool noplus;        /* BNP */
    const char *vary_this;
} eval_t;

static const char hexdigits[] = "0123456789abcdef";

/* A string growing in the arena. */
typedef struct {
    pt_arena_t *a;
    char *p;
    size_t len, cap;
} sb_t;

static void sb_put(sb_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t nc = (b->len + n + 1) * 2;
        b->p = pt_arena_grow(b->a, b->p, b->cap, nc);
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sb_t *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static char *escape_with(pt_arena_t *a, const char *s, bool (*keep)(unsigned char), bool plus)
{
    char *out = pt_arena_alloc(a, 3 * strlen(s) + 1), *d = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (keep(*p)) {
            *d++ = (char)*p;
        } else if (*p == ' ' && plus) {
            *d++ = '+';
        } else {
            *d++ = '%';
            *d++ = hexdigits[*p >> 4];
            *d++ = hexdigits[*p & 15];
        }
    }
    *d = '\0';
    return out;
}

/* ap_escape_uri's set (T_OS_ESCAPE_PATH): these stay as they are. */
static bool uri_char(unsigned char c)
{
    return isalnum(c) || (c && strchr("$-_.+!*'(),:;@&=/~", c));
}

static bool backref_char(unsigned char c)
{
    return isalnum(c) || c == '_';
}

const char *pt_rewrite_escape_uri(pt_arena_t *a, const char *s)
{
    return escape_with(a, s, uri_char, false);
}

/* ---- Maps -------------------------------------------------------------------------------- */

static char *unescape(pt_arena_t *a, const char *s)
{
    char *out = pt_arena_strdup(a, s), *d = out;
    for (const char *p = s; *p; p++) {
        if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            *d++ = (char)(pt_hexval(p[1]) * 16 + pt_hexval(p[2]));
            p += 2;
        } else {
            *d++ = *p;
        }
    }
    *d = '\0';
    return out;
}

const char *pt_rewrite_map_lookup(pt_arena_t *a, const pt_rewrite_map_t *m, const char *key)
{
    char *s;
    switch (m->kind) {
    case RWM_TXT:
    case RWM_RND:
        return rw_map_file_lookup(a, m, key);
    case RWM_TOLOWER:
    case RWM_TOUPPER:
        s = pt_arena_strdup(a, key);
        for (char *p = s; *p; p++)
            *p = (char)(m->kind == RWM_TOLOWER ? tolower((unsigned char)*p)
                                               : toupper((unsigned char)*p));
        return s;
    case RWM_ESCAPE:
        return pt_rewrite_escape_uri(a, key);
    default:
        return unescape(a, key);
    }
}

/* ---- Expansion --------------------------------------------------------------------------- */

static const char *expand(eval_t *e, const char *tmpl);

static void note_vary(eval_t *e, const char *name)
{
    const char *field = NULL;
    if (name[0] != 'H' && name[0] != 'h')
        return; /* every name below starts so */
    if (strncasecmp(name, "HTTP:", 5) == 0)
        field = name + 5;
    else if (strcmp(name, "HTTP_USER_AGENT") == 0)
        field = "User-Agent";
    else if (strcmp(name, "HTTP_REFERER") == 0)
        field = "Referer";
    else if (strcmp(name, "HTTP_COOKIE") == 0)
        field = "Cookie";
    else if (strcmp(name, "HTTP_FORWARDED") == 0)
        field = "Forwarded";
    else if (strcmp(name, "HTTP_ACCEPT") == 0)
        field = "Accept";
    else if (strcmp(name, "HTTP_PROXY_CONNECTION") == 0)
        field = "Proxy-Connection";
    /* Host is not a Vary (Apache leaves it out: it names the resource). */
    if (field)
        e->vary_this = e->vary_this ? pt_arena_printf(e->c->a, "%s, %s", e->vary_this, field)
                                    : field;
}

static const char *variable(eval_t *e, const char *name)
{
    note_vary(e, name);
    const char *v = e->c->var(e->c, name);
    return v ? v : "";
}

static const char *map_value(eval_t *e, const char *inner)
{
    pt_rewrite_ctx_t *c = e->c;
    /* "name:key|default": the key and the default are templates themselves. */
    size_t nl = strcspn(inner, ":");
    if (!inner[nl])
        return pt_arena_printf(c->a, "${%s}", inner);
    const char *name = pt_arena_strndup(c->a, inner, nl), *rest = inner + nl + 1;
    int depth = 0;
    const char *bar = NULL;
    for (const char *p = rest; *p && !bar; p++) {
        depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
        if (*p == '|' && depth == 0)
            bar = p;
    }
    const char *key = expand(e, bar ? pt_arena_strndup(c->a, rest, (size_t)(bar - rest)) : rest);
    const char *dflt = bar ? expand(e, bar + 1) : "";
    for (size_t i = 0; i < c->nmaps; i++) {
        if (strcmp(pt_rewrite_map_name(c->maps[i]), name) == 0) {
            const char *v = pt_rewrite_map_lookup(c->a, c->maps[i], key);
            return v ? v : dflt;
        }
    }
    if (c->log)
        c->log(c, pt_arena_printf(c->a, "RewriteMap '%s' is not defined for this server",
                                  name));
    return dflt;
}

static void put_backref(eval_t *e, sb_t *out, const backref_t *br, int n)
{
    if (!br->source || br->m[n].rm_so < 0 || br->m[n].rm_eo <= br->m[n].rm_so)
        return;
    const char *s = pt_arena_strndup(e->c->a, br->source + br->m[n].rm_so,
                                     (size_t)(br->m[n].rm_eo - br->m[n].rm_so));
    if (e->escape)
        s = escape_with(e->c->a, s, backref_char, !e->noplus);
    sb_puts(out, s);
}

/* Apache's do_expand: "\c" is c, "$N" and "%N" are captures, "%{VAR}" a variable, "${map:
 * key|default}" a map; any other '$' or '%' is itself. */
static const char *expand(eval_t *e, const char *tmpl)
{
    if (!strpbrk(tmpl, "\\$%"))
        return tmpl; /* nothing to expand (results are read, never written) */
    sb_t out = {e->c->a, NULL, 0, 0};
    sb_put(&out, "", 0);
    for (const char *p = tmpl; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            sb_put(&out, p, 1);
            continue;
        }
        if ((*p == '$' || *p == '%') && isdigit((unsigned char)p[1])) {
            put_backref(e, &out, *p == '$' ? &e->rule : &e->cond, p[1] - '0');
            p++;
            continue;
        }
        if ((*p == '$' || *p == '%') && p[1] == '{') {
            const char *end = p + 1;
            int depth = 0;
            for (; *end; end++) {
                depth += *end == '{' ? 1 : *end == '}' ? -1 : 0;
                if (depth == 0)
                    break;
            }
            if (*end) {
                const char *inner = pt_arena_strndup(e->c->a, p + 2, (size_t)(end - p - 2));
                sb_puts(&out, *p == '%' ? variable(e, inner) : map_value(e, inner));
                p = end;
                continue;
            }
        }
        sb_put(&out, p, 1);
    }
    return out.p;
}

/* ---- Conditions -------------------------------------------------------------------------- */

/* Apache's compare_lexicography: the longer string is the greater; equal lengths by bytes. */
static int compare_lex(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la > lb ? 1 : -1;
    int c = memcmp(a, b, la);
    return (c > 0) - (c < 0);
}

static bool file_test(const pt_rewrite_ctx_t *c, rwc_kind_t kind, const char *path)
{
    struct stat st;
    if (kind == RWC_LINK)
        return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
    if (c->known_st && strcmp(path, c->known_path) == 0)
        st = *c->known_st;
    else if (stat(path, &st) != 0)
        return false;
    switch (kind) {
    case RWC_FILE:
        return S_ISREG(st.st_mode);
    case RWC_SIZE:
        return S_ISREG(st.st_mode) && st.st_size > 0;
    case RWC_DIR:
        return S_ISDIR(st.st_mode);
    default: /* RWC_XBIT */
        return (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
    }
}

static bool cond_regex(eval_t *e, const pt_rewrite_cond_t *cd, const char *input)
{
    pt_regmatch_t m[PT_REG_MAXSUB];
    bool rc = pt_regex_exec(cd->re, input, PT_REG_MAXSUB, m, 0) == 0;
    if (rc && !(cd->flags & RWC_NOTMATCH)) {
        e->cond.source = input;
        memcpy(e->cond.m, m, sizeof(m));
    }
    return rc;
}

/* RewriteCond expr: its last =~'s captures are the %N that follow, as a regex's are. */
static bool cond_expr(eval_t *e, const pt_rewrite_cond_t *cd)
{
    const char *subject = NULL, *vary = NULL;
    pt_regmatch_t m[PT_REG_MAXSUB];
    bool rc = e->c->expr && e->c->expr(e->c, cd->expr, &subject, m, &vary) == 1;
    if (rc && subject && !(cd->flags & RWC_NOTMATCH)) {
        e->cond.source = subject;
        memcpy(e->cond.m, m, sizeof(m));
    }
    e->vary_this = vary;
    return rc;
}

static bool cond_test(eval_t *e, const pt_rewrite_cond_t *cd)
{
    if (cd->kind == RWC_EXPR)
        return cond_expr(e, cd);
    const char *in = cd->input_var ? variable(e, cd->input_var) : expand(e, cd->input);
    bool nc = (cd->flags & RWC_NOCASE) != 0;
    int cmp;
    switch (cd->kind) {
    case RWC_REGEX:
        return cond_regex(e, cd, in);
    case RWC_FILE:
    case RWC_SIZE:
    case RWC_LINK:
    case RWC_DIR:
    case RWC_XBIT:
        return file_test(e->c, cd->kind, in);
    case RWC_LOOKUP_URL:
    case RWC_LOOKUP_FILE:
        return *in && !e->c->subreq && e->c->lookup &&
               e->c->lookup(e->c, in, cd->kind == RWC_LOOKUP_FILE);
    case RWC_STR_EQ:
        return nc ? strcasecmp(in, cd->pattern) == 0 : strcmp(in, cd->pattern) == 0;
    case RWC_STR_LT:
    case RWC_STR_LE:
    case RWC_STR_GT:
    case RWC_STR_GE:
        cmp = nc ? strcasecmp(in, cd->pattern) : compare_lex(in, cd->pattern);
        return cd->kind == RWC_STR_LT   ? cmp < 0
               : cd->kind == RWC_STR_LE ? cmp <= 0
               : cd->kind == RWC_STR_GT ? cmp > 0
                                        : cmp >= 0;
    default:
        break;
    }
    long a = atol(in), b = atol(cd->pattern);
    return cd->kind == RWC_INT_LT   ? a < b
           : cd->kind == RWC_INT_LE ? a <= b
           : cd->kind == RWC_INT_EQ ? a == b
           : cd->kind == RWC_INT_GT ? a > b
                                    : a >= b;
}

static bool cond_apply(eval_t *e, const pt_rewrite_cond_t *cd)
{
    bool rc = cond_test(e, cd);
    return (cd->flags & RWC_NOTMATCH) ? !rc : rc;
}

/* All of a rule's conditions, OR chains included; the Vary of those that held. */
static bool conds_hold(eval_t *e, const pt_rewrite_rule_t *r, const char **vary)
{
    for (size_t i = 0; i < r->nconds; i++) {
        const pt_rewrite_cond_t *cd = r->conds[i];
        e->vary_this = NULL;
        bool rc = cond_apply(e, cd);
        if (cd->flags & RWC_NOVARY)
            e->vary_this = NULL;
        if (cd->flags & RWC_ORNEXT) {
            if (!rc)
                continue;
            while (i < r->nconds && (r->conds[i]->flags & RWC_ORNEXT))
                i++; /* the rest of the OR chain */
        } else if (!rc) {
            return false;
        }
        if (e->vary_this)
            *vary = *vary ? pt_arena_printf(e->c->a, "%s, %s", *vary, e->vary_this)
                          : e->vary_this;
    }
    return true;
}

/* ---- Rules ------------------------------------------------------------------------------- */

size_t pt_rewrite_absolute_uri(const char *uri, bool *split)
{
    /* Apache's is_absolute_uri list; the ones with a query string "split". */
    static const struct { const char *scheme; bool split; } schemes[] = {
        {"ajp://", true},   {"balancer://", true}, {"fcgi://", true}, {"ftp://", true},
        {"gopher://", true}, {"http://", true},   {"https://", true}, {"h2://", true},
        {"h2c://", true},   {"ldap://", true},     {"mailto:", false}, {"news:", false},
        {"nntp://", true},  {"scgi://", true},     {"unix:", true},   {"ws://", true},
        {"wss://", true},
    };
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i].scheme);
        if (strncasecmp(uri, schemes[i].scheme, n) == 0) {
            if (split)
                *split = schemes[i].split;
            return n;
        }
    }
    return 0;
}

/* Apache's splitout_queryargs: a '?' in the result starts the new query (QSA appends the old
 * one, QSD drops it, QSL splits at the last '?'). */
static void split_query(pt_rewrite_ctx_t *c, unsigned flags)
{
    bool split = true;
    size_t skip = pt_rewrite_absolute_uri(c->filename, &split);
    if (skip && !split) {
        c->args = NULL;
        return;
    }
    if (flags & PT_RWF_QSDISCARD)
        c->args = NULL;
    const char *from = c->filename + skip;
    const char *q = (flags & PT_RWF_QSLAST) ? strrchr(from, '?') : strchr(from, '?');
    if (!q)
        return;
    const char *newq = q + 1;
    c->filename = pt_arena_strndup(c->a, c->filename, (size_t)(q - c->filename));
    if (!(flags & PT_RWF_QSAPPEND))
        c->args = newq;
    else if (*newq)
        c->args = c->args ? pt_arena_printf(c->a, "%s&%s", newq, c->args) : newq;
    if (c->args) {
        size_t n = strlen(c->args);
        if (!n)
            c->args = NULL;
        else if (c->args[n - 1] == '&')
            c->args = pt_arena_strndup(c->a, c->args, n - 1);
    }
}

const char *pt_rewrite_qualify(pt_rewrite_ctx_t *c, const char *path)
{
    if (pt_rewrite_absolute_uri(path, NULL))
        return path;
    const char *scheme = c->var(c, "REQUEST_SCHEME");
    const char *name = c->var(c, "SERVER_NAME");
    const char *port = c->var(c, "SERVER_PORT");
    scheme = scheme && *scheme ? scheme : "http";
    bool dflt = !port || !*port || (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
                (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0);
    bool v6 = name && strchr(name, ':') && name[0] != '[';
    return pt_arena_printf(c->a, "%s://%s%s%s%s%s%s", scheme, v6 ? "[" : "", name ? name : "",
                           v6 ? "]" : "", dflt ? "" : ":", dflt ? "" : port,
                           path[0] == '/' ? path : pt_arena_printf(c->a, "/%s", path));
}

/* Apache's reduce_uri: "http://this-server[:port]/path" is the local /path (use [R] to
 * redirect to oneself). */
static void reduce(pt_rewrite_ctx_t *c)
{
    const char *scheme = c->var(c, "REQUEST_SCHEME");
    scheme = scheme && *scheme ? scheme : "http";
    size_t sl = strlen(scheme);
    const char *f = c->filename;
    if (strncasecmp(f, scheme, sl) != 0 || strncmp(f + sl, "://", 3) != 0)
        return;
    const char *host = f + sl + 3, *path = host + strcspn(host, "/");
    const char *colon = memchr(host, ':', (size_t)(path - host));
    size_t hl = (size_t)((colon ? colon : path) - host);
    const char *name = c->var(c, "SERVER_NAME"), *port = c->var(c, "SERVER_PORT");
    const char *want = colon ? pt_arena_strndup(c->a, colon + 1, (size_t)(path - colon - 1))
                             : strcmp(scheme, "https") == 0 ? "443" : "80";
    if (!name || strlen(name) != hl || strncasecmp(host, name, hl) != 0 || !port ||
        strcmp(port, want) != 0)
        return;
    c->filename = *path ? path : "/";
}

static void set_env(eval_t *e, const pt_rewrite_rule_t *r)
{
    for (size_t i = 0; i < r->nenv && e->c->setenv; i++) {
        const char *name = r->env[i].name;
        if (name[0] == '!')
            e->c->setenv(e->c, expand(e, name + 1), NULL);
        else
            e->c->setenv(e->c, expand(e, name), expand(e, r->env[i].value));
    }
}

static void force_type_handler(eval_t *e, const pt_rewrite_rule_t *r)
{
    if (r->type)
        e->c->type = expand(e, r->type);
    if (r->handler)
        e->c->handler = expand(e, r->handler);
}

/* The subject a rule matches: per directory, with the path info and without the prefix. */
static const char *subject(const pt_rewrite_ctx_t *c)
{
    const char *u = c->filename;
    if (!c->perdir)
        return u;
    if (c->path_info && *c->path_info)
        u = pt_arena_printf(c->a, "%s%s", u, c->path_info);
    size_t dl = strlen(c->perdir);
    return strncmp(u, c->perdir, dl) == 0 ? u + dl : u;
}

/* One rule: 0 when it did not apply, 1 when it rewrote, 2 when it matched without a
 * substitution (Apache's apply_rewrite_rule). */
static int rule_apply(eval_t *e, const pt_rewrite_rule_t *r, const char **vary)
{
    pt_rewrite_ctx_t *c = e->c;
    const char *uri = subject(c);
    pt_regmatch_t m[PT_REG_MAXSUB];
    bool matched = pt_regex_exec(r->re, uri, PT_REG_MAXSUB, m, 0) == 0;
    if (matched == ((r->flags & PT_RWF_NOTMATCH) != 0))
        return 0;
    e->rule.source = (r->flags & PT_RWF_NOTMATCH) ? NULL : uri;
    memcpy(e->rule.m, m, sizeof(m));
    e->cond.source = NULL;
    e->escape = (r->flags & PT_RWF_ESCAPEREF) != 0;
    e->noplus = (r->flags & PT_RWF_NOPLUS) != 0;
    if (!conds_hold(e, r, vary))
        return 0;
    const char *out = (r->flags & PT_RWF_NOSUB) ? NULL : expand(e, r->output);
    e->escape = false;
    set_env(e, r);
    if (r->flags & PT_RWF_NOSUB) {
        force_type_handler(e, r);
        if (r->flags & PT_RWF_STATUS)
            c->status = r->status;
        return 2;
    }
    c->filename = out;
    if (r->flags & PT_RWF_DISCARDPATH)
        c->path_info = NULL;
    split_query(c, r->flags);
    if (c->perdir && !(r->flags & PT_RWF_PROXY) && c->filename[0] != '/' &&
        !pt_rewrite_absolute_uri(c->filename, NULL))
        c->filename = pt_arena_printf(c->a, "%s%s", c->perdir, c->filename);
    if (r->flags & PT_RWF_PROXY) {
        c->filename = pt_rewrite_qualify(c, c->filename);
        c->proxy_flag = true;
        c->proxy = r->proxy;
        return 1;
    }
    if (r->flags & PT_RWF_REDIRECT) {
        c->filename = pt_rewrite_qualify(c, c->filename);
        c->redirect = true;
        c->status = r->status;
        return 1;
    }
    reduce(c);
    force_type_handler(e, r);
    return 1;
}

int pt_rewrite_apply(pt_rewrite_ctx_t *c, const pt_rewrite_rule_t *const *rules, size_t n)
{
    eval_t e = {.c = c};
    int changed = PT_REWRITE_UNCHANGED, round = 0;
restart:
    for (size_t i = 0; i < n; i++) {
        const pt_rewrite_rule_t *r = rules[i];
        if (c->subreq && (r->flags & (PT_RWF_NOSUBREQ | PT_RWF_REDIRECT)))
            continue;
        const char *vary = NULL;
        int rc = rule_apply(&e, r, &vary);
        if (!rc) {
            while (i < n && (rules[i]->flags & PT_RWF_CHAIN))
                i++; /* a chained rule that fails skips the rest of its chain */
            continue;
        }
        if (vary)
            c->vary = c->vary ? pt_arena_printf(c->a, "%s, %s", c->vary, vary) : vary;
        if (r->flags & PT_RWF_STATUS)
            return PT_REWRITE_STATUS;
        if (rc == 1) {
            changed = PT_REWRITE_CHANGED;
            c->noescape = (r->flags & PT_RWF_NOESCAPE) != 0;
        }
        if (r->flags & PT_RWF_PASSTHROUGH) {
            c->passthrough = true;
            return PT_REWRITE_CHANGED;
        }
        if (r->flags & PT_RWF_END) {
            c->end = true;
            break;
        }
        if (r->flags & (PT_RWF_PROXY | PT_RWF_LAST))
            break;
        if (r->flags & PT_RWF_NEXT) {
            if (++round >= r->max_rounds) {
                if (c->log)
                    c->log(c, pt_arena_printf(c->a, "RewriteRule '%s' and its N flag looped "
                                                    "%d times: stopped", r->pattern, round));
                c->status = 500;
                return PT_REWRITE_STATUS;
            }
            goto restart;
        }
        for (int s = r->skip; s > 0 && i < n; s--)
            i++;
    }
    return changed;
}
