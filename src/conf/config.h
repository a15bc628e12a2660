/* src/conf/: the configuration, above base/ only. It stores names (of handlers, of
 * backends); the floors above register their directives and the steps that resolve those
 * names (pt_conf_ext_t in directives.h), so conf names nothing above it.
 *
 * The configuration: httpd.conf text parsed into a node tree (config.c), then turned by the
 * directive walker and tables (directives*.c, and the extensions) into an immutable
 * pt_config_t, one per generation. After pt_config_load returns, nothing writes to the tree;
 * every string and array in it lives in the config's arena and dies with pt_config_free. */
#ifndef PT_CONFIG_H
#define PT_CONFIG_H

#include "arena.h"
#include "common.h"
#include "log.h"

#include "regex_pcre.h"
#include <sys/socket.h>

/* ---- The language: a tree of directives ------------------------------------------------ */

/* One directive or section as written, after Include, Define/${}, <IfModule> and <IfDefine>
 * have been applied (those never appear in the tree). */
typedef struct pt_node {
    const char *name;          /* as written; compare case-insensitively */
    int argc;
    const char **argv;         /* quotes removed, ${NAME} expanded */
    const char *raw;           /* the arguments as written, ${NAME} expanded (Apache's
                                  RAW_ARGS: Require expr); NULL for sections */
    const char *file;
    int line;
    bool section;              /* <Name args> ... </Name> */
    struct pt_node *children;  /* first child of a section */
    struct pt_node *next;      /* next sibling */
} pt_node_t;

typedef struct {
    const char *server_root;   /* -d, or NULL for the default */
    const char **defines;      /* -D NAME values */
    size_t ndefines;
    bool htaccess;             /* a .htaccess file: Include, Define, LoadModule, ServerRoot
                                  and MPM are not allowed there */
    /* What <IfDirective> and <IfSection> ask: is there a directive (section: a "<name"
     * section) of that name? pt_config_load and the .htaccess reader fill it in
     * (pt_dcx_directive_known); NULL: none is, both conditions false. */
    bool (*directive_known)(const char *name, bool section);
} pt_parse_opts_t;

/* Parses path (and what it includes) into a tree in arena a. On error returns NULL and
 * writes "FILE:LINE: message" into err. The ServerRoot directive takes effect while parsing
 * (Include paths are relative to it); *server_root_out receives the final value. */
pt_node_t *pt_config_parse(pt_arena_t *a, const char *path, const pt_parse_opts_t *opts,
                           const char **server_root_out, char *err, size_t errlen);

/* Is a built-in module of this name (or source file name, "mod_dir.c") present, given the
 * MPM in use? Used by <IfModule>, LoadModule, portico -l and -M. */
bool pt_module_known(const char *name, int mpm);
/* Whether Apache compiles the module into its binary (core, so, log_config, unixd,
 * watchdog, the MPM) rather than loading it with LoadModule. */
bool pt_module_static(const char *name);
/* NULL-terminated list of built-in module names. */
const char *const *pt_module_list(void);

/* ---- The result: what the server reads -------------------------------------------------- */

typedef enum { PT_MPM_EVENT = 0, PT_MPM_WORKER, PT_MPM_PREFORK } pt_mpm_kind_t;

/* Options bits, as Apache's (Options directive, merged with +/-). */
enum {
    PT_OPT_INDEXES = 1 << 0,
    PT_OPT_FOLLOW_SYMLINKS = 1 << 1,
    PT_OPT_SYMLINKS_IF_OWNER = 1 << 2,
    PT_OPT_EXECCGI = 1 << 3,
    PT_OPT_INCLUDES = 1 << 4,
    PT_OPT_MULTIVIEWS = 1 << 5,
};

/* AllowOverride's classes: what a .htaccess file may set (Apache's OR_* bits). */
enum {
    PT_OVR_AUTHCFG = 1 << 0,   /* AuthConfig: Auth*, Require */
    PT_OVR_FILEINFO = 1 << 1,  /* FileInfo: types, handlers, ErrorDocument, Header, Rewrite* */
    PT_OVR_INDEXES = 1 << 2,   /* Indexes: DirectoryIndex, FallbackResource, Expires* */
    PT_OVR_LIMIT = 1 << 3,     /* Limit: Order, Allow, Deny */
    PT_OVR_OPTIONS = 1 << 4,   /* Options (those of override_opts) */
    PT_OVR_ALL = 0x1f,
    /* AllowOverride Nonfatal=: those errors in a .htaccess file are warnings. */
    PT_OVR_NONFATAL_OVERRIDE = 1 << 8, /* a directive its class does not allow */
    PT_OVR_NONFATAL_UNKNOWN = 1 << 9,  /* a directive portico does not know */
};

struct pt_expr; /* an ap_expr (conf/expr_parse.h) */
/* <Limit GET POST> and <LimitExcept GET> (Apache's cmd->limited): the methods the access
 * directives inside apply to. Methods are compared as written (case-sensitive, as Apache);
 * HEAD counts as GET, as Apache gives both one method number. outer: the enclosing <Limit>,
 * whose set the method must also pass (NULL: none). Built at load, read-only after. */
typedef struct pt_method_limit {
    const char **methods;
    size_t nmethods;
    bool except;                       /* <LimitExcept>: every method but those */
    const struct pt_method_limit *outer;
} pt_method_limit_t;

/* Does a directive made under lim apply to a request with this method? NULL: always. */
bool pt_method_limited(const pt_method_limit_t *lim, const char *method);

/* Access rules (Require, <RequireAll>, <RequireAny>, <RequireNone>); see access.h. */
typedef struct pt_require pt_require_t;
/* Header / RequestHeader rules as parsed (headers.c parses and applies them; the type is
 * here because the per-directory merge copies arrays of them). */
typedef enum {
    PT_HDR_SET, PT_HDR_APPEND, PT_HDR_ADD, PT_HDR_MERGE, PT_HDR_UNSET, PT_HDR_SETIFEMPTY,
    PT_HDR_EDIT, PT_HDR_EDIT_ALL, PT_HDR_ECHO,
} pt_hdr_action_t;

typedef struct pt_header_rule {
    pt_hdr_action_t action;
    bool always;          /* Header always: also on error responses (err_headers_out) */
    const char *name;
    const char *value;    /* format string; for edit: the replacement */
    pt_regex_t *re;          /* edit and echo */
    const char *env;      /* env=VAR condition, NULL when none */
    bool env_negate;      /* env=!VAR */
    struct pt_expr *cond;       /* expr=... condition (conf/expr_parse.h); NULL when none */
    struct pt_expr *value_expr; /* a value (or edit's replacement) written "expr=...": a
                                   string expression in place of the format; else NULL */
    bool early;                 /* "early": mod_headers runs it as the request is read, from the
                                   server's or virtual host's own config only (a section's is
                                   never run, as Apache's); the others in their usual phase */
} pt_header_rule_t;
/* A compiled LogFormat; see logformat.h. */
typedef struct pt_logformat pt_logformat_t;

/* A Redirect status word is read as atoi reads it; larger ones are kept as this (any status
 * past 599 is answered alike: request.c). */
#define PT_REDIRECT_STATUS_MAX 1000

typedef struct {
    int status;                /* as written: 3xx, 410 for "gone", or any number mod_alias
                                  takes (0..PT_REDIRECT_STATUS_MAX; request.c answers it) */
    const char *path;          /* URL-path prefix matched on segment boundaries, or the
                                  regex source for RedirectMatch; NULL: a section's
                                  one-argument Redirect (every request it applies to) */
    pt_regex_t *re;               /* RedirectMatch: url may hold $0..$9; NULL for Redirect */
    const char *url;           /* target; NULL for gone */
} pt_redirect_t;

typedef struct {
    int status;
    const char *value;         /* "/local/path", "http://..." (redirect) or text */
} pt_errordoc_t;

/* A handler (src/handler.h). conf stores handler names only; the loader above it
 * (src/loader.c, registered as a pt_conf_ext_t) fills these pointers once the whole file is
 * read, so that a request runs r->dir->handler->run(r) and never looks a name up. */
struct pt_handler;

typedef struct {
    const char *ext;           /* without the dot, lower case */
    const char *value;         /* MIME type (AddType) or handler name (AddHandler) */
    const struct pt_handler *handler; /* AddHandler: value resolved at load; else NULL */
} pt_ext_map_t;

typedef struct {
    enum { PT_ENV_SET, PT_ENV_UNSET, PT_ENV_SETIF, PT_ENV_SETIF_NOCASE, PT_ENV_SETIF_EXPR } kind;
    const char *attribute;     /* SetEnvIf: Remote_Addr, Request_URI, Request_Method, or a
                                  request header name */
    pt_regex_t *re;               /* SetEnvIf */
    bool literal_values;       /* SetEnvIf: re has no regex metacharacter, which Apache
                                  matches as a plain string and whose values it sets as
                                  written (no $N) */
    const char **vars;         /* "NAME=value", "NAME" (value "1") or "!NAME" */
    size_t nvars;
    const struct pt_expr *expr; /* SetEnvIfExpr's condition; values may hold its $0..$9 */
    bool server;                /* mod_setenvif's, in a server's or virtual host's own config
                                   (outside every section): run as the request is read, not
                                   with the per-directory ones (request.c) */
} pt_env_rule_t;

/* A backend that requests are proxied to (FastCGI now; HTTP upstreams later). Parsed at
 * load, read-only after: its connection pool is runtime state, found by index in the child's
 * runtime (proxy/runtime.h), never hung off the config. */
struct pt_proxy_scheme;

typedef struct pt_backend {
    const char *url;           /* "proxy:" + the URL as written ("proxy:fcgi://127.0.0.1:9000/p",
                                  "proxy:unix:/s|fcgi://h"): the handler name requests use */
    const char *scheme;        /* "fcgi" (later "http", "https", "balancer") */
    const struct pt_proxy_scheme *scheme_ops; /* resolved from scheme at load (proxy/scheme.h) */
    size_t index;              /* in pt_config_t.backends: the runtime's pool of it */
    const char *unix_path;     /* unix socket path, or NULL for TCP */
    const char *host;          /* TCP host (or the authority after '|' for unix sockets) */
    int port;
    const char *path;          /* path part of the URL ("" when none) */
    int max;                   /* max= connections, 0 = ThreadsPerChild */
    int64_t timeout_ms;        /* timeout= (0: ProxyTimeout, then Timeout) */
    int64_t connect_timeout_ms;/* connectiontimeout= (0: the default) */
    bool enablereuse;          /* enablereuse= (off by default, as mod_proxy_fcgi) */
    bool reuse_set;            /* enablereuse= or disablereuse= given (else the scheme's
                                  default: off for fcgi, on for http) */
    const struct pt_handler *handler; /* what serves its scheme ("proxy:fcgi"), set when the
                                   backend is parsed (proxy/scheme.h) */
    /* Connection keys (ProxyPass / BalancerMember key=value, mod_proxy's meanings). */
    int64_t ttl_ms;            /* ttl=: an idle pooled connection is closed after; 0 unset */
    bool tcp_keepalive;        /* keepalive=On: SO_KEEPALIVE on upstream connections */
    const char *upgrade;       /* upgrade=: protocol tunnelled after 101 ("websocket", "*");
                                  NULL: none */
    /* Member keys (BalancerMember, or any worker). */
    int loadfactor;            /* loadfactor= 1..100; 0 unset (= 1) */
    const char *route;         /* route= (sticky sessions); NULL none */
    unsigned status;           /* status=: PT_MEMBER_* initial flags (proxy/balancer.h) */
    int64_t retry_ms;          /* retry=: seconds in the error state; -1 unset (60 s) */
    int lbset;                 /* lbset= 0..99 */
    /* Health checks (mod_proxy_hcheck's keys). */
    const char *hcmethod;      /* NULL: none (no checks); "GET", "HEAD", "OPTIONS", "TCP" */
    const char *hcuri;         /* appended to the member's URL */
    int64_t hcinterval_ms;     /* default 30 s */
    int hcpasses, hcfails;     /* default 1 each */
    const char *hcexpr;        /* ProxyHCExpr name: the statuses that pass; NULL: 2xx-3xx */
    const char *hctemplate;    /* ProxyHCTemplate name: its keys fill those not given */
    int resolve_s;             /* resolve=N (portico's own): re-resolve the name every N s */
    /* host's addresses when the configuration was loaded: resolved once, at start and at
     * each restart (proxy/directives_hcheck.c); naddrs 0: resolved at each connect. */
    const struct sockaddr_storage *addrs;
    size_t naddrs;
    /* The balancer this backend is (balancer://NAME), or the one it is a member of. */
    struct pt_balancer *balancer;
    int member_index;          /* in its balancer's members; -1 when not a member */
    const pt_require_t *proxy_require; /* Require of the last <Proxy>/<ProxyMatch> section
                                   matching its URL (proxy/directives_balancer.c); NULL none:
                                   what SetHandler's proxying is checked by */
    const struct pt_access_compat *proxy_compat; /* Order/Allow/Deny of the last such
                                   section that has them (src/access_compat.h); NULL none */
    const struct pt_proxy_srv *sock_srv; /* ProxySourceAddress and ProxyReceiveBufferSize of
                                   the servers whose rules name it (proxy/proxy_srv.h);
                                   NULL: none set */
} pt_backend_t;

typedef struct {
    const char *path;          /* URL prefix (ProxyPass) or regex source (ProxyPassMatch) */
    pt_regex_t *re;
    bool disabled;             /* ProxyPass /x ! : exclusion */
    pt_backend_t *backend;     /* NULL when disabled */
    bool nocanon;              /* the path passed on raw, not re-encoded */
    bool noquery;              /* the query string not passed */
    bool interpolate;          /* ${VAR} in the URL (ProxyPassInterpolateEnv) */
    const char *file;
    int line;
} pt_proxy_pass_t;

/* ProxyFCGISetEnvIf: ap_exprs (conf/expr_parse.h) whose reqenv() reads the FastCGI
 * parameters being built, as mod_proxy_fcgi's. */
typedef struct {
    const struct pt_expr *cond;  /* conditional-expression */
    const char *name;            /* variable; "!NAME" unsets */
    const struct pt_expr *value; /* value-expression (a string one, with the condition's
                                    $0..$9); NULL: the empty string */
} pt_fcgi_setenv_t;

/* Reverse mapping of a proxied answer (src/proxy/reverse.c, directives_reverse.c): one
 * ProxyPassReverse, ProxyPassReverseCookiePath or ProxyPassReverseCookieDomain line. */
typedef struct pt_reverse_rule {
    const char *fake;          /* the public side: ProxyPassReverse's path (the <Location>'s
                                  inside one); the cookie directives' public path or domain */
    const char *real;          /* the backend side: a URL (or a path), the internal cookie
                                  path or domain */
    bool interpolate;          /* "interpolate": ${VAR} from the request's environment */
    /* ProxyPassReverse to balancer://NAME: the members' URLs, filled once the whole file
     * is read (a member may be declared after the line); NULL for other URLs. */
    const struct pt_reverse_members *members;
} pt_reverse_rule_t;

typedef struct pt_reverse_members {
    const char **urls;         /* each member's URL as written ("http://h:p/path") */
    size_t n;
    bool found;                /* a balancer of that name exists */
} pt_reverse_members_t;

/* mod_rewrite's part of a per-directory config (src/directives_rewrite.c fills it,
 * src/rewrite_request.c runs it): merged by pt_dir_config_merge as Apache's
 * config_perdir_merge. The rules are the engine's (src/rewrite.h), opaque here. */
struct pt_rewrite_rule;
#define PT_REWRITE_INHERIT 1        /* RewriteOptions Inherit: the outer rules after ours */
#define PT_REWRITE_INHERIT_BEFORE 2 /* RewriteOptions InheritBefore: before ours */
typedef struct {
    bool present;              /* a Rewrite* directive is in this section; else the section
                                  leaves the outer part alone (Apache makes the module's
                                  config only when one of its directives is used) */
    int engine;                /* RewriteEngine: -1 unset, 0 off, 1 on */
    int options;               /* RewriteOptions: -1 unset, else PT_REWRITE_* bits */
    const char *base;          /* RewriteBase; NULL none (not inherited, as Apache) */
    const char *directory;     /* the <Directory> path with a trailing '/'; NULL at server
                                  level (then no per-directory rules run) */
    const struct pt_rewrite_rule *const *rules;
    size_t nrules;
} pt_rewrite_dir_t;
/* One line of a directive a loadable module added (src/module.c): kept as written, for the
 * module to read when it serves a request. */
typedef struct {
    const char *name;
    int argc;
    const char *const *argv;
    const char *file;
    int line;
    bool htaccess;   /* read from a .htaccess file */
} pt_mod_directive_t;
/* <If>, <ElseIf>, <Else> (Apache's core): a condition (conf/expr_parse.h) and what the
 * section sets; its conf's own ifs are the sections nested in it. The request floor merges
 * them after every other section, in order (pt_config_if_walk). */
typedef enum { PT_IF_IF, PT_IF_ELSEIF, PT_IF_ELSE } pt_if_kind_t;
typedef struct pt_if_section {
    pt_if_kind_t kind;
    const struct pt_expr *cond;    /* NULL for <Else> */
    struct pt_dir_config *conf;
    const char *file;
    int line;
} pt_if_section_t;

/* FileETag's components, Apache's ETAG_* bits (0 is unset). */
enum {
    PT_FETAG_NONE = 1 << 0,
    PT_FETAG_MTIME = 1 << 1,
    PT_FETAG_INODE = 1 << 2,
    PT_FETAG_SIZE = 1 << 3,
    PT_FETAG_DIGEST = 1 << 4,
    PT_FETAG_ALL = PT_FETAG_MTIME | PT_FETAG_INODE | PT_FETAG_SIZE,
};

/* The per-directory settings of Apache's core, mod_dir, mod_authz_core and mod_auth_basic
 * beyond those of pt_dir_config_t proper (conf/directives_core2.c sets them,
 * pt_core_dir_merge merges them). Zero is "unset" in every field. */
typedef struct {
    /* FileETag, kept as Apache's core_dir_config (bits, +add, -remove) and merged the same
     * way: a relative line changes an inherited explicit setting, not the built-in default. */
    unsigned etag_bits, etag_add, etag_remove;
    int accept_path_info;      /* AcceptPathInfo: 0 unset (Default), 1 Off, 2 On, 3 Default */
    int dir_slash;             /* DirectorySlash: 0 unset (On), 1 Off, 2 On */
    int index_redirect;        /* DirectoryIndexRedirect: 0 unset (off), -1 off, else 3xx */
    int forbidden_on_fail;     /* AuthzSendForbiddenOnFailure: 0 unset (Off), 1 Off, 2 On */
    int auth_merging;          /* AuthMerging of this section itself (not inherited):
                                  0 unset, 1 Off, 2 And, 3 Or */
    int basic_authoritative;   /* AuthBasicAuthoritative: 0 unset (On), 1 Off, 2 On */
    /* AuthBasicFake user [password]: string expressions (conf/expr_parse.h); basic_fake 0
     * unset, 1 "AuthBasicFake off", 2 set. */
    const struct pt_expr *basic_fake_user, *basic_fake_pass;
    int basic_fake;
    int qualify_redirect_url;  /* QualifyRedirectURL: 0 unset (Off), 1 Off, 2 On */
    int cgi_pass_auth;         /* CGIPassAuth: 0 unset (Off), 1 Off, 2 On */
    int redirect_relative;     /* RedirectRelative (mod_alias): 0 unset (Off), 1 Off, 2 On */
    int content_digest;        /* ContentDigest: 0 unset (Off), 1 Off, 2 On */
    int cgi_current_uri;       /* CGIVar REQUEST_URI: 0 unset (original-uri), 1
                                  original-uri, 2 current-uri */
    int mime_use_path_info;    /* ModMimeUsePathInfo: 0 unset (Off), 1 Off, 2 On */
    int alias_preserve_path;   /* AliasPreservePath: 0 unset (Off), 1 Off, 2 On */
} pt_core_dir_t;

/* Apache's merge of the fields above (merge_core_dir_configs and the modules'). */
void pt_core_dir_merge(pt_core_dir_t *m, const pt_core_dir_t *o, const pt_core_dir_t *i);
/* The FileETag components in force for a merged config (MTime Size when none is set). */
unsigned pt_core_etag_bits(const pt_core_dir_t *c);

/* Per-directory configuration: the server's defaults, and one per <Directory>, <Location>,
 * <Files> section. A field that a section does not set is "unset" (NULL, -1 or its _set flag
 * false) and the merge keeps the outer value. */
typedef struct pt_dir_config {
    unsigned options;          /* PT_OPT_*; effective after merge */
    unsigned options_add, options_remove; /* +X / -X relative to the outer section */
    bool options_set;          /* absolute Options (no +/-) given here */
    bool options_rel;          /* +/- given here */

    const char **dir_index;    /* DirectoryIndex; "disabled" -> ndir_index 0 with _set */
    size_t ndir_index;
    bool dir_index_set;
    const char *fallback;      /* FallbackResource URL; "" = disabled; NULL = unset */

    const pt_require_t *require; /* NULL = unset (inherit) */
    /* Access phase (src/authz.c). mod_access_compat's Order/Allow/Deny/Satisfy: a section
     * with any of them replaces the outer set whole, as Apache (no merge); NULL unset. The
     * Auth* values are each inherited unless set (NULL); auth_type "None" switches off. */
    struct pt_access_compat *access_compat;
    const char *auth_type;       /* AuthType: "Basic" or "None" */
    const char *auth_name;       /* AuthName: the realm */
    const char *auth_user_file;  /* AuthUserFile, absolute */
    const char *auth_group_file; /* AuthGroupFile, absolute */

    const pt_header_rule_t *headers;     /* Header rules; merged: outer then inner */
    size_t nheaders;
    const pt_header_rule_t *req_headers; /* RequestHeader rules */
    size_t nreq_headers;

    const pt_errordoc_t *errordocs;      /* merged: inner wins per status */
    size_t nerrordocs;
    const pt_redirect_t *redirects;      /* Redirect inside a section: matches its path */
    size_t nredirects;

    const pt_ext_map_t *types;           /* AddType; merged: inner first; a NULL value:
                                            RemoveType */
    size_t ntypes;
    const pt_ext_map_t *handlers;        /* AddHandler; a NULL value: RemoveHandler */
    size_t nhandlers;
    const pt_ext_map_t *charsets;        /* AddCharset (value NULL: RemoveCharset) */
    size_t ncharsets;
    const pt_ext_map_t *languages;       /* AddLanguage (value NULL: RemoveLanguage) */
    size_t nlanguages;
    const char *default_language;        /* DefaultLanguage; NULL unset */
    const char *handler_name;            /* SetHandler; "none" clears; NULL unset */
    const struct pt_handler *handler;    /* handler_name resolved at load; NULL for unset
                                            and "none" */
    const char *default_type;            /* ForceType; NULL unset */
    const char *default_charset;         /* AddDefaultCharset: "Off" -> "" ; NULL unset */

    const pt_env_rule_t *env;            /* SetEnv/UnsetEnv/SetEnvIf in order */
    size_t nenv;

    int64_t limit_request_body;          /* LimitRequestBody bytes; -1 unset; 0 unlimited */
    int enable_sendfile;                 /* -1 unset, 0 off, 1 on */
    int enable_mmap;

    /* AllowOverride and AllowOverrideList (plain <Directory> only): what the .htaccess
     * files of this directory and below may set. Inner wins when set. */
    unsigned overrides;                  /* PT_OVR_* classes and Nonfatal bits */
    unsigned override_opts;              /* the PT_OPT_* an Options class allows */
    bool overrides_set;
    const char **override_list;          /* directive names allowed whatever the classes */
    size_t noverride_list;
    bool override_list_set;

    /* FastCGI (proxy_fcgi). */
    pt_backend_t *handler_backend;       /* SetHandler "proxy:..." parsed; NULL otherwise */
    int fcgi_backend_type;               /* -1 unset, 0 FPM, 1 GENERIC */
    const pt_fcgi_setenv_t *fcgi_setenv; /* ProxyFCGISetEnvIf, outer then inner */
    size_t nfcgi_setenv;

    /* Reverse mapping (proxy/reverse.c): merged outer then inner, tried in that order. */
    const pt_reverse_rule_t *reverse;    /* ProxyPassReverse */
    size_t nreverse;
    const pt_reverse_rule_t *cookie_paths;   /* ProxyPassReverseCookiePath */
    size_t ncookie_paths;
    const pt_reverse_rule_t *cookie_domains; /* ProxyPassReverseCookieDomain */
    size_t ncookie_domains;

    /* Loadable modules' directives (php_value, ...): outer then inner. */
    const pt_mod_directive_t *mod_directives;
    size_t nmod_directives;

    /* mod_expires (directives_expires.c; applied by src/expires.c). Codes are Apache's
     * compiled form: 'A' (access) or 'M' (modification) and seconds, "A2592000". */
    int expires_active;                  /* ExpiresActive: 0 unset, 1 Off, 2 On */
    const char *expires_default;         /* ExpiresDefault code; NULL unset */
    const pt_ext_map_t *expires_by_type; /* ExpiresByType: ext holds the type ("text/html",
                                            "image/ *" for a major type), value the code; inner first */
    size_t nexpires_by_type;

    pt_rewrite_dir_t rewrite;            /* RewriteEngine, RewriteRule ... in a section */
    pt_core_dir_t core;                  /* FileETag, AcceptPathInfo, DirectorySlash ... */
    /* <If>/<ElseIf>/<Else> of this scope, merged outer then inner (Apache's sec_if). */
    const pt_if_section_t *ifs;
    size_t nifs;
    /* Output filters, AddEncoding, mod_deflate/mod_brotli (conf/compress_conf.h); NULL when
     * no compression directive applies. */
    const struct pt_compress_conf *compress;
    /* mod_ssl's per-directory access (src/tls/directives_tls.c; checked by src/ssl_access.c
     * in the access phase): SSLRequireSSL (once set, set below as well, as mod_ssl's merge),
     * SSLRequire (outer then inner, every one must hold) and SSLUserName (inner wins). */
    bool ssl_require_ssl;
    const struct pt_expr *const *ssl_require;
    size_t nssl_require;
    const char *ssl_user_name;
    /* SSLOptions (the PT_TLS_OPT_* bits of tls/tls.h): ssl_options is what applies. As
     * mod_ssl's merge, a section whose options all carry + or - adds ssl_options_add to
     * what it inherits and takes ssl_options_del away; one naming an option bare
     * (ssl_options_abs) replaces it. */
    unsigned ssl_options, ssl_options_add, ssl_options_del;
    bool ssl_options_set, ssl_options_abs;
    /* mod_proxy's per-directory switches (src/proxy/directives_proxy_srv.c): 0 unset. */
    int proxy_error_override;            /* ProxyErrorOverride: 1 Off, 2 On */
    const int *proxy_error_codes;        /* its status codes (none: every 4xx and 5xx) */
    size_t nproxy_error_codes;
    int proxy_100_continue;              /* Proxy100Continue: 1 Off, 2 On (the default) */
} pt_dir_config_t;

typedef enum {
    PT_SEC_DIRECTORY,       /* <Directory path> (wildcards allowed) */
    PT_SEC_DIRECTORY_MATCH, /* <DirectoryMatch re> or <Directory ~ re> */
    PT_SEC_FILES,           /* <Files name> (wildcards) */
    PT_SEC_FILES_MATCH,
    PT_SEC_LOCATION,        /* <Location path> */
    PT_SEC_LOCATION_MATCH,
} pt_section_kind_t;

#define PT_SEC_BIT(kind) (1u << (kind))

typedef struct pt_section {
    pt_section_kind_t kind;
    const char *pattern;       /* path, wildcard or regex source; Directory: no trailing '/' */
    pt_regex_t *re;               /* for *_MATCH */
    const struct pt_section *within; /* <Files> nested in a <Directory>, else NULL */
    pt_dir_config_t *conf;
    const char *file;
    int line;
} pt_section_t;

typedef struct {
    bool regex;
    const char *from;          /* URL prefix, or regex source */
    pt_regex_t *re;
    const char *to;            /* filesystem path; may hold $1..$9 for AliasMatch */
    /* The one-argument Alias inside <Location from> (Apache 2.4.13): the section's own config
     * (its AliasPreservePath), else NULL for a server-level Alias. */
    const struct pt_dir_config *location;
} pt_alias_t;

typedef struct {
    pt_logformat_t *format;
    const char *path;          /* file path, "/dev/stdout" or "/dev/stderr" */
    const char *env_cond;      /* env=NAME or env=!NAME; NULL for always */
    bool global;               /* GlobalLog: also every virtual host's, own CustomLogs or not */
    struct pt_logsink *sink;   /* opened by pt_log_open_sinks after load (base/log.h) */
} pt_customlog_t;

/* An address a <VirtualHost> answers on: *:port, host:port, or port 0 for any port. */
typedef struct {
    struct sockaddr_storage addr;
    socklen_t addrlen;         /* 0 for "*" */
    int port;                  /* 0 = any */
} pt_vaddr_t;

/* Server-level settings of Apache's core beyond pt_vhost_t's own (directives_core2.c);
 * 0 is unset in every field, and a virtual host inherits the main server's. */
typedef struct {
    int merge_slashes;         /* MergeSlashes: 0 unset (On), 1 Off, 2 On */
    int strict_host_check;     /* StrictHostCheck: 0 unset (Off), 1 Off, 2 On */
    int registered_methods;    /* HttpProtocolOptions: 0 unset (LenientMethods), 1
                                  LenientMethods, 2 RegisteredMethods (others get 501) */
} pt_core_srv_t;

/* A virtual host's unset fields from the main server's. */
void pt_core_srv_inherit(pt_core_srv_t *vh, const pt_core_srv_t *main_server);

typedef struct pt_vhost {
    const char *server_name;   /* without port; NULL inherits the main server's */
    int server_port;           /* from ServerName host:port, else 0 */
    const char **aliases;      /* ServerAlias, wildcards allowed */
    size_t naliases;
    const char *server_admin;
    pt_vaddr_t *addrs;
    size_t naddrs;
    const char *document_root; /* absolute, no trailing '/' */
    /* Set with document_root, for the URL mapping of every request (uri.c): its length (0:
     * not known, count it), and whether it is plain: no '/' in it is followed by a '/' or
     * a '.' or ends it, so that it joined with a canonical URL is a canonical file name. */
    size_t document_root_len;
    bool document_root_plain;
    pt_dir_config_t *dir;      /* server-level per-directory defaults */
    pt_section_t *sections;    /* every section, in file order */
    size_t nsections;
    /* PT_SEC_BIT of each kind that no section of sections is, set when the configuration
     * is finished (0 in a vhost built by hand: none known absent): the walk of a request
     * skips its look for <Location> or <DirectoryMatch> sections in a vhost without any. */
    unsigned sections_absent;
    pt_alias_t *aliases_map;   /* Alias / AliasMatch / ScriptAlias in order */
    size_t naliases_map;
    const pt_redirect_t *redirects; /* Redirect at server level */
    size_t nredirects;
    bool location_redirects; /* a <Location>, or an <If> outside <Directory> and <Files>,
                                holds a one-argument Redirect */
    pt_customlog_t *logs;
    size_t nlogs;

    /* Server-level limits and timeouts (inherited from the main server when not set). */
    bool keepalive;
    int64_t keepalive_timeout_ms;
    int max_keepalive_requests; /* 0 = unlimited */
    int64_t timeout_ms;         /* Timeout */
    /* RequestReadTimeout header=MIN-MAX,MinRate=R body=... (0 = disabled) */
    int64_t header_timeout_ms, header_max_timeout_ms, header_min_rate;
    int64_t body_timeout_ms, body_max_timeout_ms, body_min_rate;
    size_t limit_request_line, limit_request_fields, limit_request_field_size;
    bool trace_enable;
    pt_proxy_pass_t *proxy_passes; /* ProxyPass / ProxyPassMatch, in order */
    size_t nproxy_passes;
    int64_t proxy_timeout_ms;   /* ProxyTimeout; 0 = Timeout */
    /* mod_proxy_http's server settings and AllowEncodedSlashes (proxy/directives_http.c),
     * inherited from the main server: 0 unset, 1 Off, 2 On. */
    int proxy_preserve_host;    /* ProxyPreserveHost (default Off) */
    int proxy_add_headers;      /* ProxyAddHeaders (default On) */
    int proxy_status;           /* ProxyStatus (proxy/directives_balancer.c): 0 unset,
                                   1 Off (the default), 2 On or Full */
    int allow_encoded_slashes;  /* AllowEncodedSlashes: 0 unset, 1 Off, 2 On, 3 NoDecode */
    int use_canonical_name;     /* 0 off, 1 on */
    int server_signature;       /* 0 off, 1 on, 2 email */
    const char **protocols;     /* Protocols (h2, h2c, http/1.1), in the order given; NULL
                                   inherits the main server's (default: http/1.1 only) */
    size_t nprotocols;
    /* What the floors above conf parse for a server (SSL*, H2*): opaque here, owned by the
     * extension that made it (in the config's arena), inherited by its own finish hook. */
    const struct pt_tls_conf *tls;   /* src/tls; NULL: no SSL directive applies */
    const struct pt_proxy_srv *proxy_srv; /* src/proxy (ProxyVia, ProxyMaxForwards, ...):
                                             NULL: Apache's defaults */
    const struct pt_h2_conf *h2;     /* src/http2; NULL: the defaults */
    const struct pt_remoteip_conf *remoteip; /* src/remoteip.c (RemoteIP*): NULL none */
    const struct pt_rewrite_srv *rewrite;    /* src/directives_rewrite.c (Rewrite* at server
                                                level, RewriteMap): NULL none */
    /* WebSocket and Upgrade tunnels (proxy/directives_tunnel.c). */
    int64_t tunnel_idle_timeout_ms; /* ProxyWebsocketIdleTimeout; 0: the backend's timeout,
                                       then ProxyTimeout, then Timeout */
    pt_core_srv_t core;         /* MergeSlashes, StrictHostCheck, HttpProtocolOptions */
    const char **access_files;  /* AccessFileName; NULL inherits the main server's (default
                                   .htaccess): never served, whatever the sections say */
    size_t naccess_files;
    const char *file;
    int line;
} pt_vhost_t;

typedef struct {
    const char *spec;          /* as written in Listen */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int port;
    const char *protocol;      /* "http" or "https"; NULL when not given */
    const char *file;
    int line;
} pt_listen_t;

typedef struct pt_config {
    pt_arena_t *arena;
    const char *path;          /* main config file */
    const char *server_root;
    pt_node_t *tree;

    pt_listen_t *listens;
    size_t nlistens;
    pt_vhost_t *main_server;   /* settings outside any <VirtualHost> */
    pt_vhost_t **vhosts;       /* <VirtualHost> sections in order; may be empty */
    size_t nvhosts;

    /* Process model. */
    pt_mpm_kind_t mpm;
    int start_servers, server_limit, thread_limit, threads_per_child;
    int min_spare_threads, max_spare_threads, min_spare_servers, max_spare_servers;
    int max_request_workers, max_connections_per_child;
    double async_request_worker_factor;
    int listen_backlog;
    int64_t graceful_shutdown_timeout_ms; /* 0 = wait for ever */
    const char *pid_file;      /* absolute; NULL for none */
    const char *user, *group;  /* NULL: do not change */

    /* Logging. */
    const char *error_log;     /* path, "/dev/stderr" by default */
    int log_level;             /* PT_LOG_* */

    /* Proxy. Every backend of the config, one per URL, in the order first named. */
    pt_backend_t **backends;
    size_t nbackends;
    struct pt_balancer **balancers; /* <Proxy "balancer://..."> in order (proxy/balancer.h) */
    size_t nbalancers;
    struct pt_hcheck_conf *hcheck;  /* ProxyHCExpr, ProxyResolver (proxy/hcheck.h); NULL
                                       when the configuration has none */
    /* mod_proxy's proxy_walk over the <Proxy>/<ProxyMatch> sections with Require lines
     * (proxy/directives_balancer.c sets both; NULL when there are none): the Require of the
     * last section matching the proxied URL, b's scheme and authority joined with path (a
     * ProxyPass'd request's backend_path; b's own path when NULL), NULL when none matches;
     * *url gets that URL ("proxy:http://h:8080/app/x", from a) for the log, and *compat
     * the Order/Allow/Deny set of the last matching section that has one (NULL: none). */
    const struct pt_proxy_walk *proxy_walk;
    const pt_require_t *(*proxy_require)(pt_arena_t *a, const struct pt_config *cfg,
                                         const pt_backend_t *b, const char *path,
                                         const char **url,
                                         const struct pt_access_compat **compat);

    /* RemoteIPProxyProtocol (src/remoteip.c): NULL when no server turned it on. */
    const struct pt_remoteip_pp_conf *proxy_protocol;

    /* FastCGI. */
    int64_t fcgi_spool_limit;  /* ProxyFCGISpoolLimit (portico's own): bytes of chunked
                                  bodies spooled for php-fpm at once, server-wide; 0 default */

    /* Identity. */
    int server_tokens;         /* 0 Prod(uctOnly), 1 Major, 2 Minor, 3 Min(imal), 4 OS, 5 Full */
    bool hostname_lookups;     /* only Off is accepted */

    /* MIME. */
    const char *types_config;  /* TypesConfig path */
    struct pt_mime *mime;      /* loaded table; see mime.h */

    /* Every regex compiled for this config (sections, aliases, redirects, env and header
     * rules): freed by pt_config_free. Loader bookkeeping, not for readers. */
    pt_regex_t **regexes;
    size_t nregexes;

    bool extended_status;      /* ExtendedStatus (server-status per-worker table); On */
    bool htaccess;             /* some AllowOverride lets .htaccess files in: walks read them */
    bool strict_host_check;    /* some StrictHostCheck On: requests' hosts are checked (off,
                                  the check costs nothing per request) */
    bool strict_sni;           /* some SSLStrictSNIVHostCheck On (src/tls): requests without
                                  SNI are checked (off, the check costs nothing per request) */

    /* LoadModule'd handler modules (module.h), in load order; closed by pt_config_free. */
    struct pt_loaded_module *modules;
    size_t nmodules;

    /* The handler for a request that no SetHandler or AddHandler names (static files),
     * set at load by src/loader.c. */
    const struct pt_handler *default_handler;

    /* Methods beyond the standard ones that the configuration made known (RegisterHttpMethod
     * and <Limit>/<LimitExcept> at load): what HttpProtocolOptions RegisteredMethods admits. */
    const char **methods;
    size_t nmethods;

    /* What `portico -t` prints beside "Syntax OK": "FILE:LINE: notice: ..." lines for what
     * the configuration asks and portico accepts without doing (directives_compat.c), one
     * per key (a directive or module name); notice_keys[i] is NULL for keyless lines. */
    const char **notices;
    const char **notice_keys;
    size_t nnotices;
} pt_config_t;

/* Is method one of Apache's standard ones or one the configuration registered
 * (RegisterHttpMethod, <Limit>)? What HttpProtocolOptions RegisteredMethods admits. */
bool pt_method_registered(const pt_config_t *cfg, const char *method);

/* Reads and builds a configuration. NULL on error with "FILE:LINE: message" in err (or a
 * message without a location when the file cannot be opened). */
pt_config_t *pt_config_load(const char *path, const pt_parse_opts_t *opts, char *err,
                            size_t errlen);
void pt_config_free(pt_config_t *cfg);

/* Opens every CustomLog target of cfg (one sink per distinct path, shared by vhosts).
 * Returns 0, or -errno with "FILE:LINE: cannot open ..." in err (logsinks.c). */
int pt_log_open_sinks(pt_config_t *cfg, char *err, size_t errlen);
/* Releases the sinks opened for cfg (the last user of a file flushes and closes it). */
void pt_log_close_sinks(pt_config_t *cfg);

/* Merges inner over outer into a new config allocated from a (Apache's merge rules). */
pt_dir_config_t *pt_dir_config_merge(pt_arena_t *a, const pt_dir_config_t *outer,
                                     const pt_dir_config_t *inner);

/* The per-directory config for a request: the server defaults, then <Directory> sections
 * that contain filename (shortest first, then regex ones), then <Files>/<FilesMatch> on the
 * base name, then <Location>/<LocationMatch> on the URL path, each group in file order, as
 * Apache merges them. filename may be NULL (no file mapping): only <Location> applies. */
const pt_dir_config_t *pt_config_dir_for(pt_arena_t *a, const pt_vhost_t *vh,
                                         const char *filename, const char *uri_path);
/* The virtual host for a request that arrived on local address/port with this Host (port
 * stripped, may be NULL): name-based among the vhosts whose address matches; the first
 * matching one is the default; the main server when none matches. */
const pt_vhost_t *pt_config_vhost_for(const pt_config_t *cfg, const struct sockaddr *local,
                                      const char *host);
/* Whether the address's servers are a name-based set (two or more share it), where the
 * host name picks one: what mod_ssl's SSLStrictSNIVHostCheck asks about. */
bool pt_config_addr_name_based(const pt_config_t *cfg, const struct sockaddr *local);
/* StrictHostCheck On in the default server for that address, and host (may be NULL: never
 * rejected) names none of the servers on it: Apache answers 400 (AH10157). */
bool pt_config_host_rejected(const pt_config_t *cfg, const struct sockaddr *local,
                             const char *host);

#endif
