/* Private to the configuration loader: the types and helpers that directives.c (the walker,
 * the loader, process and log directives) shares with directives_dir.c (what each virtual
 * host and directory serves). Nothing outside those two files includes this. */
#ifndef PT_DIRECTIVES_H
#define PT_DIRECTIVES_H

#include "config.h"

/* Where a directive may appear. */
enum {
    W_SERVER = 1 << 0, /* main server config */
    W_VHOST = 1 << 1,
    W_DIR = 1 << 2,    /* <Directory>, <DirectoryMatch> */
    W_LOC = 1 << 3,    /* <Location>, <LocationMatch> */
    W_FILES = 1 << 4,  /* <Files>, <FilesMatch> */
    W_AUTHZ = 1 << 5,  /* <RequireAll>, <RequireAny>, <RequireNone> */
    W_SECTIONS = W_DIR | W_LOC | W_FILES,
};

#define SRV (W_SERVER | W_VHOST)
#define ALL (W_SERVER | W_VHOST | W_SECTIONS)
#define NOMAX -1

/* vhost fields whose "unset" cannot be told from a value (see pt_dcx_vhost_set). */
enum {
    DCX_SET_KEEPALIVE = 1 << 0,
    DCX_SET_TRACE = 1 << 1,
    DCX_SET_RT_HEADER = 1 << 2,
    DCX_SET_RT_BODY = 1 << 3,
};

typedef struct dcx_logs dcx_logs_t;

/* The loader's state for one pt_config_load. */
typedef struct {
    pt_config_t *cfg;
    dcx_logs_t *logs;       /* LogFormat nicknames and CustomLogs waiting for them */
    pt_arena_t *a;
    char *err;
    size_t errlen;
} dcx_t;

/* Where the walk is: the innermost section and what it fills. */
typedef struct {
    unsigned where;
    const char *name;       /* section name as written, for messages */
    pt_vhost_t *vh;
    pt_dir_config_t *dc;
    pt_section_t *sec;      /* innermost <Directory>/<Files>/<Location>, else NULL */
    pt_require_t **req;     /* Require lines and groups collected in this scope */
    size_t nreq;
} dcx_scope_t;

typedef struct {
    const char *name; /* "<Name" for sections */
    unsigned where;
    int min, max;
    int (*fn)(dcx_t *l, dcx_scope_t *s, const pt_node_t *n);
} dcx_directive_t;

/* directives_dir.c's table, searched after directives.c's; then directives_alias.c's,
 * proxy/directives_proxy.c's and fcgi/directives_fcgi.c's. */
extern const dcx_directive_t pt_dcx_dir_table[];
extern const dcx_directive_t pt_dcx_alias_table[];
extern const dcx_directive_t pt_dcx_proxy_table[];
extern const dcx_directive_t pt_dcx_fcgi_table[];

/* ---- directives.c ---- */

/* Writes "FILE:LINE: message" (n may be NULL) into l->err; returns -1. */
__attribute__((format(printf, 3, 4))) int pt_dcx_fail(dcx_t *l, const pt_node_t *n,
                                                      const char *fmt, ...);
/* Appends a zeroed element to the arena array *arrp of *n elements; returns it. */
void *pt_dcx_push(pt_arena_t *a, void *arrp, size_t *n, size_t elt);
/* Compiles an extended regex that pt_config_free releases; NULL after pt_dcx_fail. */
regex_t *pt_dcx_regex(dcx_t *l, const pt_node_t *n, const char *pattern, int flags);
/* Hands a regex compiled elsewhere to pt_config_free. */
void pt_dcx_keep_regex(dcx_t *l, regex_t *re);
/* The parsers below write their out-parameter on every path, failure included. */
int pt_dcx_long(dcx_t *l, const pt_node_t *n, const char *s, long long min, long long max,
                long long *out);
int pt_dcx_int(dcx_t *l, const pt_node_t *n, long long min, long long max, int *out);
int pt_dcx_onoff(dcx_t *l, const pt_node_t *n, const char *s, bool *out);
int pt_dcx_timeout(dcx_t *l, const pt_node_t *n, const char *s, int64_t *ms);
/* p made absolute against ServerRoot. */
const char *pt_dcx_path(dcx_t *l, const char *p);
/* Runs the directives of a node list in scope s. */
int pt_dcx_walk(dcx_t *l, dcx_scope_t *s, const pt_node_t *n);
/* Marks a DCX_SET_* field of a vhost as given. */
void pt_dcx_vhost_set(pt_vhost_t *vh, unsigned bit);

/* ---- directives_dir.c ---- */

/* A per-directory config with every field unset. */
pt_dir_config_t *pt_dcx_dir_new(pt_arena_t *a);
/* Apache 2.4's per-directory defaults for the main server. */
void pt_dcx_dir_defaults(pt_arena_t *a, pt_dir_config_t *dc);

/* ---- proxy/directives_proxy.c ---- */

/* The backend for a URL after "proxy:" (SetHandler) or as ProxyPass names it; one backend
 * per URL in a config (cfg->backends), its scheme resolved. NULL after pt_dcx_fail (bad URL,
 * or a scheme not built yet). */
pt_backend_t *pt_dcx_proxy_backend(dcx_t *l, dcx_scope_t *s, const pt_node_t *n,
                                   const char *url);

#endif
