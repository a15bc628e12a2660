/* The configuration loader's language for directive tables: the types and helpers that
 * directives.c (the loader, process and log-level directives), directives_dir.c (what each
 * virtual host and directory serves), directives_alias.c and directives_args.c (the walker
 * and argument helpers) share, and the extension point through which the layers above conf
 * add their directives and load-time steps (pt_conf_ext_t: access, headers, access logs,
 * LoadModule, the proxy, the handler loader), registered at start-up by src/loader.c. */
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
    W_IF = 1 << 6,     /* <If>, <ElseIf>, <Else>: what a per-directory section takes */
    W_SECTIONS = W_DIR | W_LOC | W_FILES | W_IF,
};

/* A loaded module's directive carries in these bits of its where the AllowOverride classes
 * (PT_OVR_*) that let it into a .htaccess file; conf's own have theirs in the class table
 * of htaccess_parse.c. */
#define W_OVR_SHIFT 16
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

typedef struct dcx_directive dcx_directive_t;
typedef struct pt_conf_ext pt_conf_ext_t;

/* The loader's state for one pt_config_load. */
typedef struct dcx {
    pt_config_t *cfg;
    pt_arena_t *a;
    char *err;
    size_t errlen;
    const dcx_directive_t *const *tables; /* what the walker looks names up in, in order */
    size_t ntables;
    const pt_conf_ext_t *const *exts;     /* the extensions registered (pt_config_extend) */
    size_t nexts;
    void **ext_state;                     /* one slot per ext, for its per-load state */
    /* A .htaccess walk (htaccess_parse.c), NULL otherwise: may directive n (d: its table
     * entry, NULL when unknown) be used? 0 yes, 1 skip it (logged), -1 after pt_dcx_fail. */
    int (*allow)(struct dcx *l, const pt_node_t *n, const dcx_directive_t *d);
    const void *allow_ctx;
} dcx_t;

/* A virtual host while it is loaded: the flags above beside it. */
typedef struct {
    pt_vhost_t vh; /* first: a pt_vhost_t * is a dcx_vhost_t * */
    unsigned set;  /* DCX_SET_* */
} dcx_vhost_t;

/* Where the walk is: the innermost section and what it fills. */
typedef struct {
    unsigned where;
    const char *name;       /* section name as written, for messages */
    pt_vhost_t *vh;
    pt_dir_config_t *dc;
    pt_section_t *sec;      /* innermost <Directory>/<Files>/<Location>, else NULL */
    pt_require_t **req;     /* Require lines and groups collected in this scope */
    size_t nreq;
    const pt_method_limit_t *limit; /* inside <Limit>/<LimitExcept>, else NULL */
} dcx_scope_t;

struct dcx_directive {
    const char *name; /* "<Name" for sections */
    unsigned where;
    int min, max;
    int (*fn)(dcx_t *l, dcx_scope_t *s, const pt_node_t *n);
};

/* conf's own tables, which pt_config_load hands to the walker before the extensions'. */
extern const dcx_directive_t pt_dcx_dir_table[];
extern const dcx_directive_t pt_dcx_alias_table[];
/* directives_limit.c: <Limit>, <LimitExcept>, RegisterHttpMethod, HttpProtocolOptions;
 * directives_core2.c: the rest of Apache's core, mod_dir, mod_env, ... that portico takes. */
extern const dcx_directive_t pt_dcx_limit_table[];
extern const dcx_directive_t pt_dcx_core2_table[];
/* directives_compat2.c: Apache directives whose feature portico lacks (notice or error). */
extern const dcx_directive_t pt_dcx_compat2_table[];
/* Is method one of Apache's standard methods (GET, POST, PROPFIND, ...)? */
bool pt_dcx_method_standard(const char *method);

/* ---- Extensions: how the floors above conf add to the language ----------------------------
 * conf names nothing above it: access rules, Header rules, access logs, LoadModule, the
 * proxy and the handler names are added by tables and hooks that src/startup.c (the proxy's
 * and FastCGI's) and src/loader.c (the request core's) register at start-up (main.c calls
 * pt_startup_register; so do the tests that load configurations). */
struct pt_conf_ext {
    const char *name;                     /* for messages */
    const dcx_directive_t *directives;    /* ended by a NULL name; may be NULL */
    /* After the walk and conf's own finishing (virtual hosts inherited, MIME types loaded),
     * in registration order: resolve names, check. 0, or -1 after pt_dcx_fail. */
    int (*finish)(dcx_t *l);
    /* From pt_config_free, before the arena is destroyed: release what the extension made
     * outside it (libraries, connection pools). */
    void (*release)(pt_config_t *cfg);
    /* SetHandler NAME: 1 when the extension takes the name (and fills s->dc, e.g. a proxy
     * backend), 0 when the name is not its, -1 after pt_dcx_fail. */
    int (*set_handler)(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, const char *name);
    /* AuthMerging And|Or: the outer and inner rule trees joined in one container (and_op:
     * <RequireAll>, else <RequireAny>), allocated from a; NULL when not the extension's. */
    const pt_require_t *(*merge_require)(pt_arena_t *a, const pt_require_t *outer,
                                         const pt_require_t *inner, bool and_op);
};

#define PT_CONF_EXT_MAX 48
/* Adds ext to every later pt_config_load (start-up only, before threads; a second call with
 * the same ext is ignored). 0; a full table aborts (a programming error). */
int pt_config_extend(const pt_conf_ext_t *ext);
/* The slot for ext's state during this load (NULL at first; allocate from l->a). */
void **pt_dcx_ext_state(dcx_t *l, const pt_conf_ext_t *ext);

/* ---- directives.c ---- */

/* Is there a directive (section: a "<name" section) of that name, case-insensitive, in
 * conf's tables or a registered extension's? What <IfDirective> and <IfSection> test. */
bool pt_dcx_directive_known(const char *name, bool section);


/* Adds a -t notice "FILE:LINE: notice: message" (pt_config_t.notices); with a key, only the
 * first notice of that key is kept (one line per directive name). */
__attribute__((format(printf, 4, 5))) void pt_dcx_note(dcx_t *l, const pt_node_t *n,
                                                       const char *key, const char *fmt, ...);
/* A loader state for a walk of cfg outside pt_config_load (a .htaccess file): conf's and
 * the extensions' tables into tables (room for PT_DCX_TABLES_MAX), state (room for
 * PT_CONF_EXT_MAX, zeroed) for the extensions. */
#define PT_DCX_TABLES_MAX (9 + PT_CONF_EXT_MAX)
void pt_dcx_init(dcx_t *l, pt_config_t *cfg, const dcx_directive_t **tables, void **state,
                 char *err, size_t errlen);

/* Writes "FILE:LINE: message" (n may be NULL) into l->err; returns -1. */
__attribute__((format(printf, 3, 4))) int pt_dcx_fail(dcx_t *l, const pt_node_t *n,
                                                      const char *fmt, ...);
/* Appends a zeroed element to the arena array *arrp of *n elements; returns it. */
void *pt_dcx_push(pt_arena_t *a, void *arrp, size_t *n, size_t elt);
/* Compiles an extended regex that pt_config_free releases; NULL after pt_dcx_fail. */
pt_regex_t *pt_dcx_regex(dcx_t *l, const pt_node_t *n, const char *pattern, int flags);
/* Hands a regex compiled elsewhere to pt_config_free. */
void pt_dcx_keep_regex(dcx_t *l, pt_regex_t *re);
/* The parsers below write their out-parameter on every path, failure included. */
int pt_dcx_long(dcx_t *l, const pt_node_t *n, const char *s, long long min, long long max,
                long long *out);
int pt_dcx_int(dcx_t *l, const pt_node_t *n, long long min, long long max, int *out);
int pt_dcx_onoff(dcx_t *l, const pt_node_t *n, const char *s, bool *out);
int pt_dcx_timeout(dcx_t *l, const pt_node_t *n, const char *s, int64_t *ms);
/* p made absolute against ServerRoot. */
const char *pt_dcx_path(dcx_t *l, const char *p);
/* Runs the directives of a node list in scope s, looking them up in l->tables. */
int pt_dcx_walk(dcx_t *l, dcx_scope_t *s, const pt_node_t *n);
/* Marks a DCX_SET_* field of a vhost as given. */
void pt_dcx_vhost_set(pt_vhost_t *vh, unsigned bit);
/* Calls fn on every per-directory config of the loaded cfg: each server's defaults and
 * every section's (a section shared by several virtual hosts is visited once per host). */
void pt_dcx_each_dir(pt_config_t *cfg, void (*fn)(pt_config_t *cfg, pt_dir_config_t *dc));

/* ---- directives_compat.c ---- */

/* An ErrorLog or CustomLog target: a file made absolute against ServerRoot, or a piped log
 * ("|program args", "||program args": the program must be an executable file named by its
 * full path; "|$command": run by the shell), kept as "|..." with "||" made "|". NULL after
 * pt_dcx_fail. */
const char *pt_dcx_log_path(dcx_t *l, const pt_node_t *n, const char *p);
/* Directives of Apache modules that portico accepts (some ignored, each noted once). */
extern const dcx_directive_t pt_dcx_compat_table[];

/* ---- directives_expires.c ---- */

/* ExpiresActive, ExpiresDefault, ExpiresByType. */
extern const dcx_directive_t pt_dcx_expires_table[];
/* Apache's expiry code ("access plus 1 month", "M3600") compiled to 'A'/'M' and seconds
 * into out (at least 24 bytes); NULL on success, else what is wrong. */
const char *pt_dcx_expires_code(const char *code, char *out, size_t outlen);
/* ---- directives_dir.c ---- */

/* An Options word ("Indexes", "All") to its PT_OPT_* bits: 0, or -1 when unknown. */
int pt_dcx_option_bit(const char *w, unsigned *bit);

/* Whether l reads a .htaccess file: its expressions are parsed PT_EXPR_RESTRICTED, as
 * Apache 2.4.67's are there. */
bool pt_dcx_in_htaccess(const dcx_t *l);
/* Whether b is a backend of the server configuration (always, outside a .htaccess file): a
 * .htaccess file may use those (SetHandler "proxy:URL", RewriteRule [P] and H=), not make
 * its own, since backends and their shared state are made when the server loads
 * (htaccess_parse.c). */
bool pt_dcx_backend_is_servers(const dcx_t *l, const pt_backend_t *b);
/* Parses an ap_expr (conf/expr_parse.h; flags PT_EXPR_*, with PT_EXPR_RESTRICTED added in a
 * .htaccess file) whose regexes pt_config_free releases; NULL after pt_dcx_fail
 * ("FILE:LINE: what: cannot parse expression ..."). */
struct pt_expr *pt_dcx_expr(dcx_t *l, const pt_node_t *n, const char *what, const char *src,
                            unsigned flags);

/* ---- dirconf.c ---- */

/* AuthMerging's join (pt_conf_ext_t.merge_require), set by pt_config_extend at start-up;
 * without one, the outer rules stay. */
void pt_dcx_set_merge_require(const pt_require_t *(*fn)(pt_arena_t *a, const pt_require_t *o,
                                                        const pt_require_t *i, bool and_op));

/* A per-directory config with every field unset. */
pt_dir_config_t *pt_dcx_dir_new(pt_arena_t *a);
/* Apache 2.4's per-directory defaults for the main server. */
void pt_dcx_dir_defaults(pt_arena_t *a, pt_dir_config_t *dc);
/* DirectoryIndex is still the main server's default (a directive replaces it). */
bool pt_dcx_dir_index_is_default(const pt_dir_config_t *dc);


#endif
