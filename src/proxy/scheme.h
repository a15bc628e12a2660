/* Proxy schemes by name: each scheme (fcgi://, later http://) registers what serves it once at
 * start-up, from startup.c, since the schemes live on floors above src/proxy. A backend's scheme
 * is resolved when its URL is parsed (pt_backend_t.scheme_ops, and .handler = the scheme's
 * handler), so a request runs r->backend->handler->run(r) without comparing names. */
#ifndef PT_SCHEME_H
#define PT_SCHEME_H

#include "handler.h"
#include "upstream.h"

/* Schemes that can be registered (fcgi, http, https, balancer, ws, wss, and room). */
#define PT_PROXY_SCHEMES_MAX 16

/* What one attempt to forward a request to one backend (a member, for a balancer) came to:
 * filled by a scheme's forward op, read by the balancer to decide a retry on another member
 * and the member's state (upstream.h's failure classes), and by failonstatus=. */
typedef struct pt_proxy_attempt {
    bool failed;               /* fail says how; nothing was answered to the client yet
                                  unless started */
    pt_upstream_fail_t fail;
    bool sent;                 /* a byte of the request reached the backend (then a retry
                                  is not safe for a non-idempotent method) */
    bool started;              /* the response to the client started (no retry, no error
                                  page: the client connection is closed on failure) */
    int status;                /* the backend's status when it answered (else 0) */
    int64_t latency_us;        /* request sent -> head received, when it answered */
    uint64_t bytes_in, bytes_out; /* body bytes from and to the backend (bytraffic) */
    /* Set by the caller before forward (which keeps them): an attempt may then park the
     * request while the backend works (pt_request_suspend) and return PT_SUSPENDED; when it
     * ends after that, on whichever worker resumed it, it calls then(r, then_ctx, rc) with
     * what forward would have returned, and returns what then returns. NULL: the attempt
     * waits on its worker. */
    int (*then)(struct pt_request *r, void *then_ctx, int rc);
    void *then_ctx;
    /* Instead of then, when the parked request is abandoned (the child's forced exit). */
    void (*gone)(void *then_ctx);
} pt_proxy_attempt_t;

/* A scheme's entry: static and read-only, owned by the module that registers it. */
typedef struct pt_proxy_scheme {
    const char *name;          /* the URL scheme before "://", lower case ("fcgi") */
    int default_port;          /* when the URL names none */
    pt_handler_t handler;      /* serves a request whose r->backend has this scheme; its name
                                  is "proxy:" + name */
    /* Forwards r to backend b (r->backend, or a balancer's member) once: answers the client
     * itself when the backend answered (returns 0 or the status it sent, as a handler),
     * or, when it failed before anything went to the client, returns without answering
     * and with a->failed set, so that the caller (the scheme's own handler, or the
     * balancer) decides: another member, or pt_upstream_fail_log's status. NULL for
     * schemes that cannot be a balancer member (balancer:// itself). */
    int (*forward)(struct pt_request *r, const pt_backend_t *b, pt_proxy_attempt_t *a);
    /* Connections kept for reuse when neither enablereuse= nor disablereuse= is given
     * (off for fcgi, as mod_proxy_fcgi; on for http). */
    bool reuse_default;
    /* Its requests may park while the backend works (the event MPM): its pools then allow
     * PT_POOL_PARKED_DEFAULT connections beyond ThreadsPerChild unless max= says. */
    bool parks;
} pt_proxy_scheme_t;

/* Adds s (before any configuration is loaded; not thread-safe), and its handler to the
 * handler table (handler.h). 0 (also when s is there already), PT_EINVAL when another entry
 * has the name, PT_ETOOBIG past the bound. */
int pt_proxy_scheme_register(const pt_proxy_scheme_t *s);
/* The entry for the len bytes at name, compared without case, or NULL. */
const pt_proxy_scheme_t *pt_proxy_scheme_find(const char *name, size_t len);

#endif
