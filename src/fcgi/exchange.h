/* One FastCGI exchange: the state that handler.c (script, body, request records) and
 * relay.c (response records to the client) share for a request. Private to src/fcgi. */
#ifndef PT_FCGI_EXCHANGE_H
#define PT_FCGI_EXCHANGE_H

#include "fcgi/fcgi.h"
#include "pool.h"
#include "request.h"
#include "scheme.h"

#include <stdatomic.h>
#include <sys/uio.h>

/* I/O buffer per exchange: one record's content plus its header. */
#define PT_FCGI_IOBUF (PT_FCGI_MAX_CONTENT + FCGI_HEADER_LEN)

typedef struct {
    pt_request_t *r;
    const pt_backend_t *b;
    pt_proxy_attempt_t *a;   /* what the attempt came to (scheme.h), for a balancer */
    pt_pool_t *pool;         /* this child's pool of b (proxy/runtime.h) */
    pt_upstream_conn_t c;    /* borrowed from pool; fd -1 once given back */
    int64_t timeout_ms;      /* each wait on the backend */
    unsigned char *buf;      /* PT_FCGI_IOBUF bytes from the request arena */
    pt_fcgi_decoder_t dec;
    pt_fcgi_head_t head;
    bool head_done;          /* the CGI head was parsed (the response may not have started:
                                r->head_sent says whether bytes reached the client) */
    size_t own_headers;      /* r->headers_out entries before the backend's were added */
    bool start_pending;      /* ... but the response not started: body bytes of this read
                                wait in pend[] in case END_REQUEST follows in the same read,
                                so a small answer goes out whole with a Content-Length */
    int status;
    pt_str_t pend[8];        /* slices of buf */
    int npend;
    bool reusable;           /* the backend ended the request cleanly */
} pt_fcgi_exchange_t;

/* Default of ProxyFCGISpoolLimit: chunked bodies spooled at once, server-wide. */
#define PT_FCGI_SPOOL_LIMIT ((int64_t)1 << 30)

/* A chunked body spooled for php-fpm (spool.c). */
typedef struct {
    int fd;                  /* unlinked temporary file, -1 when none */
    int64_t len;             /* bytes in it */
    int64_t reserved;        /* bytes of ProxyFCGISpoolLimit this body holds */
    _Atomic int64_t *counter; /* where they are counted (this child's scoreboard slot) */
} pt_fcgi_spool_t;

/* Reads the whole request body into a new spool file, using buf (size bytes) on the way.
 * Returns 0, or the status to answer (413 over the bound, 503 when the spool is full, 400,
 * 408 or 413 from the body reader, 500); the caller closes sp either way. */
int pt_fcgi_spool_body(pt_request_t *r, unsigned char *buf, size_t size, pt_fcgi_spool_t *sp);
/* Closes the file (which removes it) and gives its bytes back to the bound. */
void pt_fcgi_spool_close(pt_fcgi_spool_t *sp);

/* Writes all of iov to the backend: 0, PT_ETIMEOUT or -errno. */
int pt_fcgi_backend_writev(pt_fcgi_exchange_t *x, struct iovec *iov, int n);
/* Logs a failure of the exchange by its class (proxy/upstream.h), detail may be NULL;
 * returns the class's status. */
int pt_fcgi_fail_log(pt_fcgi_exchange_t *x, pt_upstream_fail_t f, const char *detail);
/* Reads the backend's records and relays them to the client until END_REQUEST. Returns
 * what the handler returns: PT_DONE, a status for the core's error page, or negative when
 * the client connection was given up. Releases the backend connection. */
int pt_fcgi_relay(pt_fcgi_exchange_t *x);

#endif
