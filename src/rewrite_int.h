/* The rewrite engine's compiled objects, shared by rewrite.c (building), rewrite_map.c (map
 * files) and rewrite_eval.c (evaluating); nobody else reads them (rewrite.h is the API). */
#ifndef PT_REWRITE_INT_H
#define PT_REWRITE_INT_H

#include "rewrite.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

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
    RWC_EXPR,      /* TestString "expr": the pattern is an Apache expression */
} rwc_kind_t;

enum { RWC_NOCASE = 1, RWC_ORNEXT = 2, RWC_NOVARY = 4, RWC_NOTMATCH = 8 };

struct pt_rewrite_cond {
    const char *input;      /* TestString, expanded at each evaluation */
    const char *input_var;  /* the name when TestString is one %{NAME} and nothing else:
                               looked up, with no expansion to make */
    const char *pattern;    /* after the operator */
    pt_regex_t *re;
    const struct pt_expr *expr; /* RWC_EXPR */
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

/* A txt:/rnd: file's pairs (rewrite_map.c). */
typedef struct {
    const char **keys;      /* sorted; the first line of a key wins, as Apache's scan */
    const char **values;
    size_t n;
    pt_arena_t *arena;      /* a reread one's own; NULL: the configuration's (the first) */
} rw_map_table_t;

/* What tells a changed map file: all zero while it cannot be read. */
typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    time_t mtime_s;
    long mtime_ns;
} rw_map_file_id_t;

struct pt_rewrite_map {
    const char *name;
    int kind;               /* RWM_* */
    const char *path;       /* txt:/rnd: the file, reread when it changes */
    pthread_rwlock_t lock;  /* over table: lookups read, a reread swaps */
    rw_map_table_t *table;  /* NULL while the file cannot be read */
    pthread_mutex_t reload; /* held by the one thread checking the file */
    _Atomic int64_t checked_ms;
    rw_map_file_id_t id;    /* the table's file (under reload) */
};

/* A txt:/rnd: map's value for key, copied into a (rewrite_map.c); NULL when it has none. The
 * lookup may reread the file first. */
const char *rw_map_file_lookup(pt_arena_t *a, const pt_rewrite_map_t *m, const char *key);

/* The %{NAME} Apache knows, checked when a rule or condition is built (rewrite.c). */
bool pt_rewrite_var_known(const char *name);
/* Calls fn on each %{NAME} and ${map:...} of a template (rewrite.c). */
void pt_rewrite_scan(const char *tmpl,
                     void (*fn)(void *ud, char kind, const char *name, size_t len), void *ud);

#endif
