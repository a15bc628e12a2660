/* src/proxy/: the upstream engine and the proxy, above the request core and below the
 * schemes that use it (fcgi/): this file, the pools (pool.h) held per child (runtime.h), the
 * scheme registry (scheme.h) and the proxy directives.
 *
 * The upstream engine that every proxy scheme uses (FastCGI first, HTTP later): a connection
 * to a backend made with a deadline (TCP or unix socket), reads and writes on it that wait at
 * most a bound, and the one table that says what an upstream failure means: the status the
 * client gets, the error-log text, whether an idempotent request may go to another member,
 * and whether the member is marked failed. The pool of connections is pool.h's. */
#ifndef PT_UPSTREAM_H
#define PT_UPSTREAM_H

#include "common.h"
#include "config.h"

#include <sys/uio.h>

struct pt_request;

/* connectiontimeout= default (mod_proxy's is the Timeout; portico's is shorter so that a
 * dead address fails a request quickly). */
#define PT_UPSTREAM_CONNECT_TIMEOUT_MS 5000

/* How an exchange with a backend failed. The order is the order of an exchange. */
typedef enum {
    PT_UPSTREAM_REFUSED,          /* connect refused, or no such socket / address */
    PT_UPSTREAM_CONNECT_TIMEOUT,  /* connect did not finish within connectiontimeout= */
    PT_UPSTREAM_TLS_HANDSHAKE,    /* https://: the handshake or the peer's check failed */
    PT_UPSTREAM_POOL_FULL,        /* no free connection within the wait (max= reached) */
    PT_UPSTREAM_RESET_BEFORE_SEND,/* reset or closed before any byte of the request went */
    PT_UPSTREAM_WRITE_TIMEOUT,    /* the backend stopped reading the request */
    PT_UPSTREAM_RESET_BEFORE_HEAD,/* request (partly) sent, closed before the answer's head */
    PT_UPSTREAM_READ_TIMEOUT,     /* no answer within the timeout (ProxyTimeout) */
    PT_UPSTREAM_OVERLOADED,       /* the backend said it cannot take the request now */
    PT_UPSTREAM_MALFORMED,        /* an answer the protocol does not allow */
    PT_UPSTREAM_RESET_AFTER_HEAD, /* closed or reset while the body was coming */
    PT_UPSTREAM_NFAILS
} pt_upstream_fail_t;

/* One row of the table (static, read-only). */
typedef struct {
    pt_upstream_fail_t fail;
    int status;               /* answered while nothing went to the client yet */
    const char *log;          /* error-log text, before the backend and the detail */
    bool retry_idempotent;    /* an idempotent request may be sent to another member */
    bool mark_failed;         /* the member is taken out of rotation for its retry= time */
} pt_upstream_class_t;

/* The row of f. */
const pt_upstream_class_t *pt_upstream_class(pt_upstream_fail_t f);
/* The class of a failed connect: err is the negative result of pt_upstream_connect. */
pt_upstream_fail_t pt_upstream_connect_fail(int err);
/* Why a connect to b failed with errno err, for the log: strerror, or that b's name did not
 * resolve when the configuration was loaded. */
const char *pt_upstream_connect_why(const pt_backend_t *b, int err);
/* Logs the failure of a request to backend url ("FastCGI", "proxy:fcgi://h:9000/") at
 * PT_LOG_ERR: the class's text, the backend, the detail (may be NULL) and, when the response
 * had started, that the client connection is closed. Returns the class's status. */
int pt_upstream_fail_log(const struct pt_request *r, pt_upstream_fail_t f, const char *proto,
                         const char *url, const char *detail, bool started);

/* ---- Connections --------------------------------------------------------------------- */

/* A connection to a backend, borrowed from its pool (pool.h) or made by pt_upstream_connect.
 * The borrower owns fd until it gives it back. */
typedef struct {
    int fd;                   /* close-on-exec; -1 when none. Non-blocking, unless
                                 rcvtimeo_ms says otherwise */
    bool reused;              /* it served a request before */
    int32_t rcvtimeo_ms;      /* > 0: a plain connection that pt_upstream_conn_read put in
                                 blocking mode with this SO_RCVTIMEO (kept with it in the
                                 pool); every other call on it still passes MSG_DONTWAIT */
    struct ssl_st *ssl;       /* https:// (upstream_tls.h): TLS over fd, owned with it; NULL
                                 on a plain connection */
    uint64_t key;             /* https://: the SNI it was made for (pool.h's key); 0 plain */
    uint64_t reg;             /* the event MPM's registration of fd, kept with it between
                                 borrowers (pt_suspend_t.reg); 0 for a new connection */
} pt_upstream_conn_t;

/* A new non-blocking connection to b, waiting at most timeout_ms for it: the fd, or
 * PT_ETIMEOUT, or -errno (a unix path too long is -ENAMETOOLONG, an unknown host
 * -EHOSTUNREACH). */
int pt_upstream_connect(const pt_backend_t *b, int64_t timeout_ms);
/* The connect timeout of b (connectiontimeout=, else the default). */
int64_t pt_upstream_connect_timeout(const pt_backend_t *b);
/* How long each wait on b's answer for r may take: timeout= of b, else ProxyTimeout, else
 * Timeout of r's server, else 60 s (mod_proxy's order). */
int64_t pt_upstream_exchange_timeout(const struct pt_request *r, const pt_backend_t *b);
/* Writes all of iov (which it advances) to fd, each wait for room bounded by timeout_ms:
 * 0, PT_ETIMEOUT or -errno (-EPIPE, -ECONNRESET when the backend went away). It never
 * blocks in the send itself (MSG_DONTWAIT), whatever the socket's mode. */
int pt_upstream_writev(int fd, struct iovec *iov, int n, int64_t timeout_ms);
/* Reads what is there, up to len bytes, waiting at most timeout_ms for the first byte:
 * bytes read (> 0), 0 at end of stream, PT_ETIMEOUT or -errno. wait_first: wait for the fd
 * before the first recv, for the read right after a request went out, when the answer
 * cannot be there yet (a recv would only say EAGAIN: a system call per request for
 * nothing). Its recv never blocks (MSG_DONTWAIT): the waits are polls. */
long pt_upstream_read(int fd, void *buf, size_t len, int64_t timeout_ms, bool wait_first);
/* A failed write on a reused connection that the backend had already closed (it kept it
 * idle past its own timeout): the request may go again on a fresh connection, since none of
 * it was taken. */
bool pt_upstream_stale(const pt_upstream_conn_t *c, int err);
/* Waits until fd is ready for events (POLLIN, POLLOUT) or timeout_ms pass, as a blocked
 * worker (pt_mpm_block_begin/end): > 0 ready, 0 timed out, -errno. */
int pt_upstream_wait(int fd, short events, int64_t timeout_ms);

/* Writes and reads on a borrowed connection, over TLS when it carries an SSL: the plain
 * path costs one predictable test more than the fd calls above. The TLS ones are
 * upstream_tls.c's (same results as the fd calls). */
int pt_utls_writev(struct ssl_st *ssl, int fd, struct iovec *iov, int n, int64_t timeout_ms);
long pt_utls_read(struct ssl_st *ssl, int fd, void *buf, size_t len, int64_t timeout_ms,
                  bool wait_first);
static inline int pt_upstream_conn_writev(const pt_upstream_conn_t *c, struct iovec *iov, int n,
                                          int64_t timeout_ms)
{
    return c->ssl ? pt_utls_writev(c->ssl, c->fd, iov, n, timeout_ms)
                  : pt_upstream_writev(c->fd, iov, n, timeout_ms);
}
/* pt_upstream_read on a plain connection, where a wait is the recv itself: the socket is put
 * in blocking mode once with timeout_ms as its SO_RCVTIMEO (again only when a later call
 * asks for another timeout), so that the wait for an answer is one system call, not a poll
 * and then a recv. */
long pt_upstream_read_blocking(pt_upstream_conn_t *c, void *buf, size_t len, int64_t timeout_ms,
                               bool wait_first);
static inline long pt_upstream_conn_read(pt_upstream_conn_t *c, void *buf, size_t len,
                                         int64_t timeout_ms, bool wait_first)
{
    return c->ssl ? pt_utls_read(c->ssl, c->fd, buf, len, timeout_ms, wait_first)
                  : pt_upstream_read_blocking(c, buf, len, timeout_ms, wait_first);
}

#endif
