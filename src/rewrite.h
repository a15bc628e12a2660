/* mod_rewrite's engine, pure: compiled rules and conditions (RewriteRule, RewriteCond),
 * RewriteMap (txt:, rnd:, int:), and the evaluation of a rule list on a subject, with
 * Apache's semantics (chains, skips, back-references $N and %N, ${map:key|default},
 * query-string splitting, per-directory prefix stripping). It knows no request: variables,
 * environment and lookups come through the context's callbacks (src/rewrite_request.c
 * gives them a request; tests/unit/test_rewrite.c a table). Compiled objects are
 * read-only and shared by threads; a context is one evaluation's. */
#ifndef PT_REWRITE_H
#define PT_REWRITE_H

#include "arena.h"
#include "regex_pcre.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct pt_rewrite_rule pt_rewrite_rule_t;
typedef struct pt_rewrite_cond pt_rewrite_cond_t;
typedef struct pt_rewrite_map pt_rewrite_map_t;

/* Rule flags (pt_rewrite_rule_flags), Apache's RULEFLAG_* with their letters. */
enum {
    PT_RWF_LAST = 1u << 0,        /* L */
    PT_RWF_END = 1u << 1,         /* END */
    PT_RWF_REDIRECT = 1u << 2,    /* R with a 3xx (or none) */
    PT_RWF_NOESCAPE = 1u << 3,    /* NE */
    PT_RWF_QSAPPEND = 1u << 4,    /* QSA */
    PT_RWF_QSDISCARD = 1u << 5,   /* QSD */
    PT_RWF_QSLAST = 1u << 6,      /* QSL */
    PT_RWF_CHAIN = 1u << 7,       /* C */
    PT_RWF_PASSTHROUGH = 1u << 8, /* PT */
    PT_RWF_NOCASE = 1u << 9,      /* NC */
    PT_RWF_ESCAPEREF = 1u << 10,  /* B */
    PT_RWF_NOPLUS = 1u << 11,     /* BNP */
    PT_RWF_PROXY = 1u << 12,      /* P */
    PT_RWF_NOSUBREQ = 1u << 13,   /* NS */
    PT_RWF_NOSUB = 1u << 14,      /* the substitution is "-" (or F, G, R=4xx) */
    PT_RWF_STATUS = 1u << 15,     /* F, G, R=non-3xx: answer with the status */
    PT_RWF_NOTMATCH = 1u << 16,   /* "!pattern" */
    PT_RWF_NEXT = 1u << 17,       /* N=max */
    PT_RWF_DISCARDPATH = 1u << 18 /* DPI */
};

/* ---- Building (at configuration load) ---------------------------------------------------- */

/* Where compiled objects go: the arena, and a hook that takes each regex (its owner frees
 * it: the configuration's pt_dcx_keep_regex, or a test). err gets the reason on failure. */
typedef struct {
    pt_arena_t *a;
    void (*keep_regex)(void *ud, pt_regex_t *re);
    void *ud;
    char *err;
    size_t errlen;
    bool htaccess;  /* a .htaccess file's: RewriteCond expr is parsed restricted */
} pt_rewrite_build_t;

/* RewriteCond TestString CondPattern [flags]: flags NULL or "[NC,OR,NV]". NULL on error (an
 * unknown variable or flag, a bad regex or expression). TestString "expr": CondPattern is an
 * Apache expression (conf/expr_parse.h). */
pt_rewrite_cond_t *pt_rewrite_cond_new(pt_rewrite_build_t *b, const char *input,
                                       const char *pattern, const char *flags);
/* RewriteRule Pattern Substitution [flags], with the conditions that came before it. */
pt_rewrite_rule_t *pt_rewrite_rule_new(pt_rewrite_build_t *b, const char *pattern,
                                       const char *subst, const char *flags,
                                       pt_rewrite_cond_t *const *conds, size_t nconds);
unsigned pt_rewrite_rule_flags(const pt_rewrite_rule_t *rule);
/* [P]: the "scheme://host[:port]" at the start of the substitution when it is fixed text
 * (no variable or back-reference before the path), else NULL. */
const char *pt_rewrite_rule_proxy_origin(pt_arena_t *a, const pt_rewrite_rule_t *rule);
/* H=: the handler name as written, or NULL. */
const char *pt_rewrite_rule_handler(const pt_rewrite_rule_t *rule);
/* [P]: what the caller gets back in ctx->proxy when the rule proxies (its backend). */
void pt_rewrite_rule_set_proxy(pt_rewrite_rule_t *rule, const void *target);
/* Calls fn with each map name the rule and its conditions use (${name:...}). */
void pt_rewrite_rule_each_map(const pt_rewrite_rule_t *rule, void (*fn)(void *ud, const char *),
                              void *ud);

/* RewriteMap name type:source, type "txt", "rnd" or "int" (source an absolute file path, or
 * tolower, toupper, escape, unescape for int). The file is read now, and reread by a lookup
 * when it changes (rewrite_map.c). NULL on error. */
pt_rewrite_map_t *pt_rewrite_map_new(pt_rewrite_build_t *b, const char *name, const char *type,
                                     const char *source);
const char *pt_rewrite_map_name(const pt_rewrite_map_t *m);
/* The map's value for key, or NULL when it has none. */
const char *pt_rewrite_map_lookup(pt_arena_t *a, const pt_rewrite_map_t *m, const char *key);

/* ---- Evaluating (per request) ------------------------------------------------------------ */

struct stat;
struct pt_expr;
typedef struct pt_rewrite_ctx pt_rewrite_ctx_t;
struct pt_rewrite_ctx {
    pt_arena_t *a;
    void *ud;
    /* %{name} as written ("HTTP_HOST", "HTTP:Authorization", "ENV:x"); NULL reads as "".
     * It may read filename and args below, which hold the subject as rewritten so far. */
    const char *(*var)(pt_rewrite_ctx_t *c, const char *name);
    /* [E=name:value]; value NULL for [E=!name]. */
    void (*setenv)(pt_rewrite_ctx_t *c, const char *name, const char *value);
    /* -U (file false) and -F (file true): whether a lookup of s passes. NULL: never. */
    bool (*lookup)(pt_rewrite_ctx_t *c, const char *s, bool file);
    const pt_rewrite_map_t *const *maps; /* RewriteMap of the server */
    size_t nmaps;
    void (*log)(pt_rewrite_ctx_t *c, const char *msg); /* an evaluation error; may be NULL */
    /* RewriteCond expr: 1 true, 0 false, -1 could not be evaluated (logged by the callee).
     * On true, the captures of its last =~ that matched in *subject (NULL: none) and m
     * (PT_REG_MAXSUB); the request fields it read in *vary (NULL: none). NULL: never true. */
    int (*expr)(pt_rewrite_ctx_t *c, const struct pt_expr *e, const char **subject,
                pt_regmatch_t *m, const char **vary);

    const char *perdir;    /* per-directory prefix with '/' ("/srv/www/sub/"), NULL in the
                              server context */
    const char *path_info; /* per-directory: added to the subject before matching */
    bool subreq;           /* a lookup: NS rules and redirects are skipped */
    /* A stat already made of one path (the walk's, of the request's file): -f, -s, -d and
     * -x on that very path read it rather than ask the kernel again. NULL: none. */
    const char *known_path;
    const struct stat *known_st;

    /* In: the subject (server: the URL-path; per-directory: the file name) and the query
     * (NULL: none). Out: the same, rewritten. */
    const char *filename;
    const char *args;

    /* Out. */
    int status;            /* R: the redirect's code; F, G, R=4xx: the status */
    bool redirect, proxy_flag, passthrough, noescape, end;
    const void *proxy;     /* [P]: the rule's target (pt_rewrite_rule_set_proxy) */
    const char *type;      /* T= */
    const char *handler;   /* H= */
    const char *vary;      /* request fields the matched rules' conditions read, for Vary */
};

/* What pt_rewrite_apply came to. */
enum {
    PT_REWRITE_UNCHANGED = 0, /* no rule changed the subject (E=, T= may have applied) */
    PT_REWRITE_CHANGED = 1,   /* filename/args rewritten; see the flags */
    PT_REWRITE_STATUS = 2,    /* answer with ctx->status (F, G, R=4xx, a loop of N) */
};

int pt_rewrite_apply(pt_rewrite_ctx_t *c, const pt_rewrite_rule_t *const *rules, size_t n);

/* Apache's is_absolute_uri: "http://", "mailto:" ...: the length of the scheme part (and
 * *split: whether a query string may follow), 0 when uri is not one. */
size_t pt_rewrite_absolute_uri(const char *uri, bool *split);
/* ap_escape_uri: what a redirect's path and query are escaped with (NE turns it off). */
const char *pt_rewrite_escape_uri(pt_arena_t *a, const char *s);
/* A local path or URL made absolute: scheme://SERVER_NAME[:SERVER_PORT] from ctx->var. */
const char *pt_rewrite_qualify(pt_rewrite_ctx_t *c, const char *path);

#endif
