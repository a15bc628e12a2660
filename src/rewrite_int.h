/* The rewrite engine's compiled objects, shared by rewrite.c (building) and rewrite_eval.c
 * (evaluating); nobody else reads them (rewrite.h is the API). */
#ifndef PT_REWRITE_INT_H
#define PT_REWRITE_INT_H

#include "rewrite.h"

/* Apache's CONDPAT_*: what a condition's pattern tests. */
typedef enum {
    RWC_REGEX,
    RWC_FILE,      /* -f */
    RWC_SIZE,      /* -s */
    RWC_LINK,      /* -l -L -h */
    RWC_DIR,       /* -d */
    RWC_XBIT,      /* -x */
    RWC_LOOKUP_URL,  /* -U */
    RWC_LOOKUP_FILE, /* -F */
    RWC_STR_LT, RWC_STR_LE, RWC_STR_EQ, RWC_STR_GT, RWC_STR_GE,
    RWC_INT_LT, RWC_INT_LE, RWC_INT_EQ, RWC_INT_GT, RWC_INT_GE,
} rwc_kind_t;

enum { RWC_NOCASE = 1, RWC_ORNEXT = 2, RWC_NOVARY = 4, RWC_NOTMATCH = 8 };

struct pt_rewrite_cond {
    const char *input;      /* TestString, expanded at each evaluation */
    const char *input_var;  /* the name when TestString is one %{NAME} and nothing else:
                               looked up, with no expansion to make */
    const char *pattern;    /* after the operator */
    pt_regex_t *re;
    rwc_kind_t kind;
    unsigned flags;         /* RWC_* */
};

typedef struct {
    const char *name;       /* "!name" unsets */
    const char *value;      /* expanded */
} rw_env_t;

struct pt_rewrite_rule {
    const char *pattern;
    pt_regex_t *re;
    const char *output;     /* Substitution */
    unsigned flags;         /* PT_RWF_* */
    int status;             /* R=, F, G */
    const char *type;       /* T= */
    const char *handler;    /* H= */
    int skip;               /* S= */
    int max_rounds;         /* N= */
    const rw_env_t *env;    /* E=, in order */
    size_t nenv;
    pt_rewrite_cond_t *const *conds;
    size_t nconds;
    const void *proxy;      /* pt_rewrite_rule_set_proxy */
};

enum { RWM_TXT, RWM_RND, RWM_TOLOWER, RWM_TOUPPER, RWM_ESCAPE, RWM_UNESCAPE };

struct pt_rewrite_map {
    const char *name;
    int kind;               /* RWM_* */
    const char **keys;      /* sorted; the first line of a key wins, as Apache's scan */
    const char **values;
    size_t n;
};

/* The %{NAME} Apache knows, checked when a rule or condition is built (rewrite.c). */
bool pt_rewrite_var_known(const char *name);
/* Calls fn on each %{NAME} and ${map:...} of a template (rewrite.c). */
void pt_rewrite_scan(const char *tmpl,
                     void (*fn)(void *ud, char kind, const char *name, size_t len), void *ud);

#endif
