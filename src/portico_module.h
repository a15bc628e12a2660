/* The one public header a loadable handler module is built against. A module is a shared
 * library that `LoadModule NAME PATH.so` loads; it exports one object named NAME of type
 * pt_module_t and calls back into the server only through the functions below, which the
 * running portico binary exports. Nothing else from the server's headers is part of the
 * contract. Bump PT_MODULE_API_VERSION on any incompatible change here. */
#ifndef PORTICO_MODULE_H
#define PORTICO_MODULE_H

#include <stddef.h>

#define PT_MODULE_API_VERSION 1

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

typedef struct {
    int api_version;                 /* PT_MODULE_API_VERSION the module was built with */
    const char *name;                /* for messages */
    int thread_safe;                 /* 0: handlers share unlocked state; MPM prefork only */
    const pt_module_handler_t *handlers; /* ended by an entry with name NULL */
    int (*child_init)(void);         /* optional: run once in each child; non-zero = fail */
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

#endif
