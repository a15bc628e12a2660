/* The one handler interface, and the table of handlers by name. A handler gets a routed
 * request (vhost, merged per-directory config, mapped filename) and answers it with the
 * response writer in request.h. Names (SetHandler, AddHandler, a backend's scheme) are
 * looked up here once, when a configuration is loaded (loader.c); a request only follows
 * the pointer the loader stored: r->dir->handler->run(r). */
#ifndef PT_HANDLER_H
#define PT_HANDLER_H

#include "request.h"

typedef int (*pt_handler_fn)(pt_request_t *r);

/* A handler. Built-in ones are static; registered ones (pt_handler_register) and a loaded
 * module's (module.c) live as long as their owner: the process, or the config. */
typedef struct pt_handler {
    const char *name;      /* as SetHandler / AddHandler name it; "proxy:SCHEME" serves the
                              backends of that scheme */
    pt_handler_fn run;
    bool remote;           /* answers from a backend: the file need not exist here (mod_dir
                              counts such an index name as usable) */
} pt_handler_t;

/* Static files, directory index and listings, ranges, conditional requests (static.c). */
int pt_static_handler(pt_request_t *r);
/* SetHandler server-status: Apache's status page, HTML or ?auto (status.c). */
int pt_status_handler(pt_request_t *r);
/* SetHandler metrics: the scoreboard in Prometheus text format (metrics.c). */
int pt_metrics_handler(pt_request_t *r);
/* SetHandler health: 200 while serving, 503 once a stop has begun (health.c). */
int pt_health_handler(pt_request_t *r);

/* What the floors above the request core add to server-status and to metrics (the
 * balancers), set once at start-up by startup.c (static, read-only). Each may be NULL. */
typedef struct pt_status_ext {
    void (*html)(pt_request_t *r, pt_strbuf_t *b);    /* server-status, before the footer */
    void (*text)(pt_request_t *r, pt_strbuf_t *b);    /* server-status?auto, at the end */
    void (*metrics)(pt_request_t *r, pt_strbuf_t *b); /* metrics, at the end */
} pt_status_ext_t;
void pt_status_extend(const pt_status_ext_t *e);
const pt_status_ext_t *pt_status_ext(void);

/* Adds h (which must outlive every config) to the table: how the floors above the request
 * core (the proxy, FastCGI) offer handlers without the core naming them. Called at start-up
 * (startup.c), before a configuration is loaded and before threads. 0, PT_EINVAL when the
 * table is full or the name is taken (a second call with the same h is ignored). */
int pt_handler_register(const pt_handler_t *h);

/* The built-in or registered handler for name (case-insensitive), or NULL. A "proxy:" name
 * ("proxy:fcgi://h/", "proxy:unix:/s|fcgi://h/") selects the handler registered for its
 * scheme ("proxy:fcgi"). For load time only: requests never look names up. */
const pt_handler_t *pt_handler_find(const char *name);
/* The static handler, for requests no SetHandler or AddHandler names. */
const pt_handler_t *pt_handler_default(void);
/* What a name that no handler answers to is served by: the static handler, as Apache's
 * default handler serves it, with a warning naming r->handler. remote: the name is a
 * "proxy:" one (mod_dir still counts its index names as usable). */
const pt_handler_t *pt_handler_unknown(bool remote);

#endif
