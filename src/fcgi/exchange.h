/* One FastCGI exchange: the state that handler.c (script, body, request records) and
 * relay.c (response records to the client) share for a request. Private to src/fcgi. */
#ifndef PT_FCGI_EXCHANGE_H
#define PT_FCGI_EXCHANGE_H

#include "fcgi/fcgi.h"
#include "request.h"

#include <sys/uio.h>

/* I/O buffer per exchange: one record's content plus its header. */
#define PT_FCGI_IOBUF (PT_FCGI_MAX_CONTENT + FCGI_HEADER_LEN)

typedef struct {
    pt_request_t *r;
    pt_backend_t *b;
    pt_fcgi_pool_t *pool;
    pt_fcgi_conn_t c;
    int64_t timeout_ms;      /* each wait on the backend */
    unsigned char *buf;      /* PT_FCGI_IOBUF bytes from the request arena */
    pt_fcgi_decoder_t dec;
    pt_fcgi_head_t head;
    bool head_done;          /* the CGI head was parsed */
    bool start_pending;      /* ... but the response not started: body bytes of this read
                                wait in pend[] in case END_REQUEST follows in the same read,
                                so a small answer goes out whole with a Content-Length */
    int status;
    pt_str_t pend[8];        /* slices of buf */
    int npend;
    bool reusable;           /* the backend ended the request cleanly */
} pt_fcgi_exchange_t;

/* Writes all of iov to the backend: 0, PT_ETIMEOUT or -errno. */
int pt_fcgi_backend_writev(pt_fcgi_exchange_t *x, struct iovec *iov, int n);
/* Reads the backend's records and relays them to the client until END_REQUEST. Returns
 * what the handler returns: PT_DONE, a status for the core's error page, or negative when
 * the client connection was given up. Releases the backend connection. */
int pt_fcgi_relay(pt_fcgi_exchange_t *x);

#endif
