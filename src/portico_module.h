/* The one public header a loadable handler module is built against. A module is a shared
 * library that `LoadModule NAME PATH.so` loads; it exports one object named NAME of type
 * pt_module_t and calls back into the server only through the functions below, which the
 * running portico binary exports. Nothing else from the server's headers is part of the
 * contract. Bump PT_MODULE_API_VERSION on any incompatible change here. */
#ifndef PORTICO_MODULE_H
#define PORTICO_MODULE_H

#include <stddef.h>

/* 2: streamed answers (start/write/flush/finish), CGI variables, module directives and the
 * module's note on thread safety; since added without breaking a module built before:
 * PT_MOD_OVERRIDE_* (directives in .htaccess) and pt_modreq_directive_lines. */
#define PT_MODULE_API_VERSION 2

/* A request as a module sees it: opaque, valid only during the handler call. */
typedef struct pt_request pt_modreq_t;

/* What a handler returns: PT_MOD_DONE once it has sent a response with pt_modreq_send, or
 * an HTTP status (>= 300) for the server's own error page (ErrorDocument applies). A
 * negative value from pt_modreq_send (client gone) may be returned as is. */
#define PT_MOD_DONE 0

typedef struct {
    const char *name;                /* the SetHandler / AddHandler name */
    int (*fn)(pt_modreq_t *r);
} pt_module_handler_t;

/* Where a module's directive may be written. */
enum {
    PT_MOD_DIRECTIVE_SERVER = 1,     /* the main server and <VirtualHost> */
    PT_MOD_DIRECTIVE_SECTIONS = 2,   /* also <Directory>, <Location>, <Files> and the *Match */
    /* Added to SECTIONS: also in .htaccess files, where the directory's AllowOverride grants
     * one of these classes (or AllowOverrideList names the directive), as an Apache
     * module's OR_AUTHCFG ... OR_OPTIONS. Without any, .htaccess refuses the directive
     * ("... not allowed here"). */
    PT_MOD_OVERRIDE_AUTHCFG = 1 << 8,
    PT_MOD_OVERRIDE_FILEINFO = 1 << 9,
    PT_MOD_OVERRIDE_INDEXES = 1 << 10,
    PT_MOD_OVERRIDE_LIMIT = 1 << 11,
    PT_MOD_OVERRIDE_OPTIONS = 1 << 12,
};

/* A directive the module adds to the configuration language. The server checks where it
 * stands and how many arguments it has, and keeps every occurrence, in order, with the
 * per-directory configuration it was written in (merged outer then inner, as Apache merges
 * sections); the module reads them with pt_modreq_directives and pt_module_directives and
 * gives them their meaning. A name the server or an earlier module has is refused. */
typedef struct {
    const char *name;
    int where;                       /* PT_MOD_DIRECTIVE_* */
    int min_args, max_args;
} pt_module_directive_t;

typedef struct {
    int api_version;                 /* PT_MODULE_API_VERSION the module was built with */
    const char *name;                /* for messages */
    int thread_safe;                 /* 0: handlers share unlocked state; MPM prefork only */
    const pt_module_handler_t *handlers; /* ended by an entry with name NULL */
    int (*child_init)(void);         /* optional: run once in each child; non-zero = fail */
    const pt_module_directive_t *directives; /* optional; ended by an entry with name NULL */
    /* Optional, for a module that is not thread-safe: why, added to the error that refuses
     * it under MPM event or worker. */
    const char *thread_safety_note;
} pt_module_t;

/* Error-log levels for pt_modreq_log (the same as LogLevel's). */
enum {
    PT_MOD_LOG_ERR = 3,
    PT_MOD_LOG_WARN = 4,
    PT_MOD_LOG_NOTICE = 5,
    PT_MOD_LOG_INFO = 6,
    PT_MOD_LOG_DEBUG = 7,
};

/* ---- Reading the request (strings live until the handler returns) ---------------------- */
const char *pt_modreq_method(const pt_modreq_t *r);
/* The decoded, normalized URL-path. */
const char *pt_modreq_uri(const pt_modreq_t *r);
/* The query string without '?', or NULL. */
const char *pt_modreq_args(const pt_modreq_t *r);
/* A request header (case-insensitive name), or NULL. */
const char *pt_modreq_header(const pt_modreq_t *r, const char *name);
/* A request environment variable (SetEnv, SetEnvIf), or NULL. */
const char *pt_modreq_env(const pt_modreq_t *r, const char *name);
/* Reads up to n bytes of the (de-chunked) body: bytes read, 0 at its end, or minus the HTTP
 * status the failure calls for (-400, -408, -413); return that status from the handler. */
long pt_modreq_read_body(pt_modreq_t *r, void *buf, size_t n);

/* ---- Answering ------------------------------------------------------------------------- */
/* Sets a response header (replacing any of that name); both strings are copied. */
void pt_modreq_set_header(pt_modreq_t *r, const char *name, const char *value);
/* Sends the whole response. content_type may be NULL. PT_MOD_DONE, or negative when the
 * client is gone. */
int pt_modreq_send(pt_modreq_t *r, int status, const char *content_type, const void *body,
                   size_t len);
/* A line in the server's error log, with the request's client. */
void pt_modreq_log(const pt_modreq_t *r, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- Answering in parts (a response the handler produces as it runs) ------------------- */
/* Adds a response header, keeping those of the same name (Set-Cookie); strings copied. */
void pt_modreq_add_header(pt_modreq_t *r, const char *name, const char *value);
/* Starts the response with status, content_type (may be NULL) and the headers set so far;
 * length is the body's size when known, else -1 (then HTTP/1.1 chunks it). The head leaves
 * with the first body bytes. 0, or negative when the client is gone. Then return
 * PT_MOD_DONE from the handler, even when no body byte was written. */
int pt_modreq_start(pt_modreq_t *r, int status, const char *content_type, long long length);
/* Body bytes after pt_modreq_start (nothing goes out for HEAD): written to the client before
 * the call returns. 0, or negative when the client is gone. */
int pt_modreq_write(pt_modreq_t *r, const void *p, size_t n);
/* Sends a head the server still holds (a started response with no body byte yet). 0 or
 * negative. */
int pt_modreq_flush(pt_modreq_t *r);
/* Ends the body (the server does it too when the handler returns without). 0 or negative. */
int pt_modreq_finish(pt_modreq_t *r);
/* Whether pt_modreq_start has run (a handler that fails later must not return a status). */
int pt_modreq_started(const pt_modreq_t *r);

/* ---- The CGI view of a request (what mod_php puts in $_SERVER) ------------------------- */
/* Calls fn with each CGI/1.1 variable of the request, as the FastCGI gateway sends them to
 * php-fpm: SCRIPT_FILENAME (the mapped file, PATH_INFO split off where the path goes on past
 * it), SCRIPT_NAME, PATH_INFO, QUERY_STRING, the HTTP_* request headers, HTTPS on TLS, SetEnv
 * variables, ... Returns PT_MOD_SCRIPT_FOUND. When the request maps to no file, fn is not
 * called and the request is served as the FastCGI gateway serves it (a directory by its
 * DirectoryIndex, a missing file by FallbackResource, else 404): the value returned is then
 * what the handler must return. */
#define PT_MOD_SCRIPT_FOUND 1
int pt_modreq_cgi_vars(pt_modreq_t *r,
                       void (*fn)(void *ctx, const char *name, const char *value), void *ctx);

/* ---- The module's directives (pt_module_t.directives) ---------------------------------- */
typedef void (*pt_module_directive_fn)(void *ctx, const char *name, int argc,
                                       const char *const *argv, const char *file, int line);
/* The module's directives that apply to this request: the server's, then each section's,
 * outer to inner (a later one overrides an earlier one of the same meaning). */
void pt_modreq_directives(const pt_modreq_t *r, pt_module_directive_fn fn, void *ctx);
/* The same with each line as a struct, which says too whether it came from a .htaccess file
 * (mod_php applies those at PHP_INI_STAGE_HTACCESS). */
typedef struct {
    const char *name;
    int argc;
    const char *const *argv;
    const char *file;
    int line;
    int htaccess;                    /* 1: read from a .htaccess file */
} pt_module_directive_line_t;
void pt_modreq_directive_lines(const pt_modreq_t *r,
                               void (*fn)(void *ctx, const pt_module_directive_line_t *d),
                               void *ctx);
/* In child_init: the module's directives of the main server (outside every section). */
void pt_module_directives(pt_module_directive_fn fn, void *ctx);
/* A line in the server's error log that belongs to no request (start-up, child_init). */
void pt_module_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
