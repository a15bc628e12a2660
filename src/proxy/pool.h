/* A child's connections to one backend, shared by its worker threads: at most max open at
 * once (idle and borrowed), idle ones reused last-in first-out and checked for a hang-up
 * before reuse (outside the lock; skipped for a recent one when the caller can retry), and
 * closed once idle longer than the idle timeout by pt_pool_sweep (the MPM's tick calls it
 * through the runtime, and each acquire does too). No thread of its own. */
#ifndef PT_POOL_H
#define PT_POOL_H

#include "upstream.h"

/* An idle connection to php-fpm pins one of its children (a child serves one connection
 * until it closes), and other processes' pools cannot see it: idle ones are closed after
 * this, so that a starved backend recovers within about a second. */
#define PT_POOL_IDLE_TIMEOUT_MS 1000
/* max when neither max= nor ThreadsPerChild gives one. */
#define PT_POOL_DEFAULT_MAX 25

typedef struct {
    int max;                  /* open connections at most (> 0) */
    int64_t idle_timeout_ms;  /* 0: PT_POOL_IDLE_TIMEOUT_MS */
    bool reuse;               /* keep connections given back as reusable (enablereuse=) */
    int64_t (*now_ms)(void);  /* the monotonic clock; NULL: pt_now_ms (tests give their own) */
    int workers;              /* threads that may each hold one connection while they run
                                 (ThreadsPerChild): what parked borrowers must leave them */
} pt_pool_opts_t;

/* Owns its idle connections; a borrowed connection is the borrower's until released. */
typedef struct pt_pool pt_pool_t;

/* A pool for backend b (which must outlive it). NULL when memory runs out. */
pt_pool_t *pt_pool_create(const pt_backend_t *b, const pt_pool_opts_t *o);
/* Closes the idle connections and frees the pool; none may be borrowed. */
void pt_pool_destroy(pt_pool_t *p);
/* Borrows a connection: an idle one that is still alive (unless fresh), or a new one when
 * fewer than max are open, waiting at most wait_ms for one to be given back. Returns 0 with
 * c filled, or -1 with *fail set: PT_UPSTREAM_POOL_FULL (*err ETIMEDOUT), or the connect's
 * class (*err its errno). */
int pt_pool_acquire(pt_pool_t *p, int64_t wait_ms, bool fresh, pt_upstream_conn_t *c,
                    pt_upstream_fail_t *fail, int *err);

/* How pt_pool_acquire_how takes an idle connection. */
typedef enum {
    PT_POOL_CHECK,        /* an idle one checked for a hang-up first (a poll) */
    PT_POOL_TRUST_RECENT, /* one idle for less than PT_POOL_TRUST_MS unchecked: for a caller
                           * that sends the request again on a fresh connection when the
                           * reused one turns out closed (nothing of it taken) */
    PT_POOL_FRESH,        /* never an idle one: a new connection */
} pt_pool_how_t;

/* An idle connection given back less than this ago is trusted by PT_POOL_TRUST_RECENT:
 * backends close idle ones after seconds (their keep-alive timeout), and a closed one still
 * costs only the retry. Under load every connection is this recent, and the check would be
 * a system call per request. */
#define PT_POOL_TRUST_MS 250

/* pt_pool_acquire, saying how an idle connection may be taken. */
int pt_pool_acquire_how(pt_pool_t *p, int64_t wait_ms, pt_pool_how_t how,
                        pt_upstream_conn_t *c, pt_upstream_fail_t *fail, int *err);

/* https:// (upstream_tls.h): what a new connection is put on TLS with. */
struct pt_utls_server;
typedef struct {
    const struct pt_utls_server *srv; /* the request's server's client side */
    const char *host;        /* SNI and the name checked */
    char why[256];           /* out: why the handshake failed (PT_UPSTREAM_TLS_HANDSHAKE) */
} pt_pool_tls_t;
/* pt_pool_acquire for a pool of TLS connections (tls non-NULL): an idle one made for the
 * same SNI (ProxyPreserveHost sends the client's) under the same server's SSLProxy* terms
 * carries its SSL; a new one is put on TLS before it is returned. */
int pt_pool_acquire_tls(pt_pool_t *p, int64_t wait_ms, pt_pool_how_t how, pt_pool_tls_t *tls,
                        pt_upstream_conn_t *c, pt_upstream_fail_t *fail, int *err);
/* The pool key of an SNI name (never 0, a plain connection's). */
uint64_t pt_pool_tls_key(const char *host);
/* Gives a connection back: kept idle when reusable (and the pool reuses), else closed. */
void pt_pool_release(pt_pool_t *p, pt_upstream_conn_t *c, bool reusable);
/* Closes the connections idle since before now_ms - idle timeout. Holds the pool's lock only
 * to unlink them; the closes happen after. Returns how many it closed. */
int pt_pool_sweep(pt_pool_t *p, int64_t now_ms);
/* Connections open (idle and borrowed), and idle, for tests and the status page. */
int pt_pool_open_count(pt_pool_t *p);
int pt_pool_idle_count(pt_pool_t *p);
/* A borrower that holds its connection without a worker (a parked request) counts itself
 * here: true when it may, which is while parked ones leave a connection for every worker
 * (parked + workers <= max): so no worker ever waits for one because of parked requests,
 * since a parked request needs a worker to finish, and requests beyond the workers wait in
 * the MPM's queue as they did. pt_pool_unpark when it resumes (or is abandoned). */
/* Connections a pool of a scheme whose requests park (the event MPM's http://) allows by
 * default beyond the workers' (max= unset). */
#define PT_POOL_PARKED_DEFAULT 1024
bool pt_pool_park(pt_pool_t *p);
void pt_pool_unpark(pt_pool_t *p);

#endif
