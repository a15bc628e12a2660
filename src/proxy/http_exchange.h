/* One HTTP/1.1 exchange with an upstream (mod_proxy_http): the state that proxy_http.c (the
 * scheme, the attempt, the request body), http_reqhead.c (the request head) and
 * http_relay.c (the response to the client) share for one forward. Private to these. */
#ifndef PT_HTTP_EXCHANGE_H
#define PT_HTTP_EXCHANGE_H

#include "http_resp.h"
#include "pool.h"
#include "request.h"
#include "scheme.h"

/* Response read buffer: a head (PT_HTTP_RESP_HEAD_MAX) fits, and a body moves through it
 * in reads of this size. One per worker thread, reused (http_relay.c). */
#define PT_HTTP_IOBUF (64 * 1024)
/* Request body pieces read from the client and sent on. */
#define PT_HTTP_BODYBUF (32 * 1024)
/* How long a request with "Expect: 100-continue" waits for the backend's 100 (or final
 * answer) before its body is sent anyway (RFC 9110 10.1.1: a client must not wait for
 * ever; Apache's is the same order). */
#define PT_HTTP_CONTINUE_WAIT_MS 1000

typedef struct {
    pt_request_t *r;
    const pt_backend_t *b;
    pt_proxy_attempt_t *a;
    pt_pool_t *pool;         /* this child's pool of b */
    pt_upstream_conn_t c;    /* borrowed; fd -1 once given back */
    pt_pool_tls_t *tls;      /* https://: what new connections are put on TLS with; NULL
                                for http:// */
    int64_t timeout_ms;      /* each wait on the backend (timeout=, ProxyTimeout, Timeout) */
    int64_t sent_us;         /* monotonic, when the request head went (for the latency) */
    bool expect;             /* Expect: 100-continue forwarded: the body waits for the 100 */
    bool upgrade;            /* Upgrade forwarded (upgrade= matches what the client asked) */
    bool reuse;              /* connections to b are kept (enablereuse=, on by default) */
    bool body_sent;          /* the whole request body went to the backend */
    const char *req_head;    /* the request head (arena), req_hlen bytes */
    size_t req_hlen;
    bool may_suspend;        /* the request may park while the backend works (proxy_http.c) */
    int attempt;             /* parked: the attempt it parked in */
    int64_t head_deadline_ms;/* parked: when the whole head must have come */
    bool nowait;             /* resumed: the head's reads take what is there and wait for
                                nothing (pt_http_read_head's PT_EAGAIN); until it is whole */
    /* The response, as it is read. */
    char *buf;               /* PT_HTTP_IOBUF bytes (the thread's) */
    size_t len, pos;         /* bytes in buf; parsed up to pos */
    pt_http_resp_t head;
    size_t own_headers;      /* r->headers_out entries before the backend's */
    bool resp_started;       /* pt_resp_start was called for the backend's head */
} pt_http_x_t;

/* http_reqhead.c: the request head for the backend (arena memory), *len its bytes. */
char *pt_http_request_head(pt_http_x_t *x, size_t *len);

/* http_relay.c */
/* The thread's response buffer (PT_HTTP_IOBUF bytes), made on first use. */
char *pt_http_iobuf(void);
/* Reads until a final response head is parsed into x->head (1xx interim ones skipped; 100
 * ends the wait when stop_at_100). wait_ms bounds the whole wait. 0, 100 (a 100 Continue
 * came, stop_at_100), or a negative: PT_ETIMEOUT, PT_ECLOSED (closed before any byte of a
 * head when *nothing is then true), PT_EINVAL (malformed, *why), PT_EAGAIN (x->nowait:
 * nothing more to read now; x->nowait ends with a whole head). */
int pt_http_read_head(pt_http_x_t *x, int64_t wait_ms, bool stop_at_100, bool *nothing,
                      const char **why);
/* Relays the parsed head and the body to the client, gives the connection back. Returns
 * what a handler returns (PT_DONE, a status while nothing reached the client, or negative
 * when the client connection was given up); failures are logged and noted in x->a. */
int pt_http_relay(pt_http_x_t *x);
/* Logs a failure of the exchange (pt_upstream_fail_log) and notes it in x->a; returns the
 * class's status. */
int pt_http_fail(pt_http_x_t *x, pt_upstream_fail_t f, const char *detail);

#endif
