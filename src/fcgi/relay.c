/* The backend's answer: records decoded as they arrive, the CGI head parsed (bounded), the
 * body streamed to the client as STDOUT comes (a slow client blocks pt_resp_write, which
 * stops us reading the backend: backpressure without a growing buffer), STDERR logged,
 * END_REQUEST deciding whether the connection goes back to the pool. */
#include "fcgi/exchange.h"

#include "conn.h"
#include "log.h"

#include <string.h>

#define PT_FCGI_STDERR_LINE 4096 /* longest STDERR line logged as one */

enum { RELAY_MORE = 1 }; /* keep reading; other values end the relay */

int pt_fcgi_backend_writev(pt_fcgi_exchange_t *x, struct iovec *iov, int n)
{
    return pt_upstream_writev(x->c.fd, iov, n, x->timeout_ms);
}

int pt_fcgi_fail_log(pt_fcgi_exchange_t *x, pt_upstream_fail_t f, const char *detail)
{
    x->a->failed = true;
    x->a->fail = f;
    x->a->started = x->r->head_sent;
    return pt_upstream_fail_log(x->r, f, "FastCGI", x->b->url, detail, x->r->head_sent);
}

/* Ends the exchange on a failure: the status to answer while nothing went out to the client
 * (a parsed head that is only buffered is dropped, with the backend's fields), else the
 * client sees the truncation (the connection closes). */
static int give_up(pt_fcgi_exchange_t *x, int status)
{
    pt_request_t *r = x->r;
    pt_pool_release(x->pool, &x->c, false);
    if (!r->head_sent) {
        if (x->head_done) {
            pt_resp_unstart(r);
            r->headers_out.n = x->own_headers;
            r->content_type = NULL;
        }
        return status;
    }
    r->keepalive = false;
    r->conn->aborted = true;
    return PT_ECLOSED;
}

/* A failure on the backend side, logged by its class. */
static int backend_fail(pt_fcgi_exchange_t *x, pt_upstream_fail_t f, const char *detail)
{
    return give_up(x, pt_fcgi_fail_log(x, f, detail));
}

static void log_stderr(pt_fcgi_exchange_t *x, pt_str_t d)
{
    size_t o = 0;
    while (o < d.len) {
        const char *nl = memchr(d.p + o, '\n', d.len - o);
        size_t e = nl ? (size_t)(nl - d.p) : d.len;
        size_t n = PT_MIN(e - o, (size_t)PT_FCGI_STDERR_LINE);
        if (n && !(n == 1 && d.p[o] == '\r'))
            pt_log_rerror(PT_LOG_ERR, x->r, "AH01071: Got error '%.*s'", (int)n, d.p + o);
        o = e + 1;
    }
}

static int client_gone(pt_fcgi_exchange_t *x, int rc);

/* The head is complete: a local redirect, or the response's status and header fields. */
static int start_response(pt_fcgi_exchange_t *x)
{
    pt_request_t *r = x->r;
    pt_fcgi_cgi_t cgi;
    const char *why = NULL;
    if (pt_fcgi_head_parse(r->arena, x->head.buf, x->head.len, &cgi, &why) != 0)
        return backend_fail(x, PT_UPSTREAM_MALFORMED, why);
    if (cgi.local_redirect) {
        /* RFC 3875 6.2.2: the server fetches it, as a GET, and the script's body is
         * dropped (with the connection: we do not wait for the rest of it). */
        pt_pool_release(x->pool, &x->c, false);
        r->method = "GET";
        r->method_id = PT_METHOD_GET;
        return pt_request_internal_redirect(r, cgi.location);
    }
    x->own_headers = r->headers_out.n;
    for (size_t i = 0; i < cgi.headers.n; i++)
        pt_table_add(&r->headers_out, cgi.headers.v[i].name, cgi.headers.v[i].value);
    if (cgi.content_type)
        r->content_type = cgi.content_type;
    x->head_done = true;
    x->start_pending = true;
    x->status = x->a->status = cgi.status;
    x->npend = 0;
    return RELAY_MORE;
}

/* Starts the response held back by start_pending: with a Content-Length when the whole body
 * is known (len >= 0), chunked (or close-delimited) otherwise; then the held bytes. */
static int flush_pending(pt_fcgi_exchange_t *x, int64_t len)
{
    x->start_pending = false;
    if (pt_resp_start(x->r, x->status, len) != 0) {
        pt_log_rerror(PT_LOG_ERR, x->r, "FastCGI backend %s: cannot start the response",
                      x->b->url);
        return give_up(x, 500);
    }
    for (int i = 0; i < x->npend; i++) {
        int rc = pt_resp_write(x->r, x->pend[i].p, x->pend[i].len);
        if (rc != 0)
            return client_gone(x, rc);
    }
    x->npend = 0;
    return RELAY_MORE;
}

static int client_gone(pt_fcgi_exchange_t *x, int rc)
{
    /* The backend is mid-answer: its connection cannot be reused, closing it ends the
     * request there (php-fpm notices on its next write). */
    pt_log_rerror(PT_LOG_INFO, x->r, "client went away; FastCGI request to %s abandoned",
                  x->b->url);
    pt_pool_release(x->pool, &x->c, false);
    x->r->keepalive = false;
    x->r->conn->aborted = true;
    return rc < 0 ? rc : PT_ECLOSED;
}

static int on_stdout(pt_fcgi_exchange_t *x, pt_str_t d)
{
    if (!x->head_done) {
        size_t used = 0;
        int rc = pt_fcgi_head_feed(&x->head, d.p, d.len, &used);
        if (rc == PT_ETOOBIG)
            return backend_fail(x, PT_UPSTREAM_MALFORMED, "response header block too large");
        if (rc == 0)
            return RELAY_MORE;
        rc = start_response(x);
        if (rc != RELAY_MORE)
            return rc;
        d.p += used;
        d.len -= used;
    }
    if (d.len == 0)
        return RELAY_MORE;
    if (x->start_pending) {
        if (x->npend < (int)PT_ARRAY_LEN(x->pend)) {
            x->pend[x->npend++] = d;
            return RELAY_MORE;
        }
        int rc = flush_pending(x, -1);
        if (rc != RELAY_MORE)
            return rc;
    }
    int rc = pt_resp_write(x->r, d.p, d.len);
    return rc == 0 ? RELAY_MORE : client_gone(x, rc);
}

static int on_end(pt_fcgi_exchange_t *x, const pt_fcgi_event_t *ev, bool clean)
{
    pt_request_t *r = x->r;
    if (ev->protocol_status != FCGI_REQUEST_COMPLETE && !x->head_done) {
        /* FCGI_OVERLOADED: it did not take the request; CANT_MPX_CONN or UNKNOWN_ROLE: it
         * cannot serve what portico sends, a protocol mismatch. */
        const char *why = pt_arena_printf(r->arena, "refused the request (protocol status %d)",
                                          ev->protocol_status);
        return backend_fail(x, ev->protocol_status == FCGI_OVERLOADED ? PT_UPSTREAM_OVERLOADED
                                                                       : PT_UPSTREAM_MALFORMED,
                            why);
    }
    if (!x->head_done)
        return backend_fail(x, PT_UPSTREAM_MALFORMED, "premature end of script headers");
    pt_pool_release(x->pool, &x->c, clean && ev->protocol_status == FCGI_REQUEST_COMPLETE);
    if (x->start_pending) {
        int64_t len = 0;
        for (int i = 0; i < x->npend; i++)
            len += (int64_t)x->pend[i].len;
        int frc = flush_pending(x, len);
        if (frc != RELAY_MORE)
            return frc;
    }
    int rc = pt_resp_finish(r);
    return rc == 0 ? PT_DONE : client_gone(x, rc);
}

/* Decodes and acts on one read's worth of records. */
static int relay_chunk(pt_fcgi_exchange_t *x, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        pt_fcgi_event_t ev;
        if (pt_fcgi_decode(&x->dec, x->buf + off, n - off, &used, &ev) != 0)
            return backend_fail(x, PT_UPSTREAM_MALFORMED, x->dec.error);
        off += used;
        int rc = RELAY_MORE;
        if (ev.type == PT_FCGI_EV_STDOUT)
            rc = on_stdout(x, ev.data);
        else if (ev.type == PT_FCGI_EV_STDERR)
            log_stderr(x, ev.data);
        else if (ev.type == PT_FCGI_EV_END)
            rc = on_end(x, &ev, off == n && x->dec.pad_left == 0);
        if (rc != RELAY_MORE)
            return rc;
    }
    /* The read is used up without END_REQUEST: what was held goes out now (streaming; the
     * next read overwrites buf). */
    return x->start_pending ? flush_pending(x, -1) : RELAY_MORE;
}

int pt_fcgi_relay(pt_fcgi_exchange_t *x)
{
    pt_fcgi_decoder_init(&x->dec, PT_FCGI_REQUEST_ID);
    pt_fcgi_head_init(&x->head, x->r->arena, PT_FCGI_MAX_HEAD);
    for (bool first = true;; first = false) {
        long n = pt_upstream_read(x->c.fd, x->buf, PT_FCGI_IOBUF, x->timeout_ms, first);
        if (n == PT_ETIMEOUT)
            return backend_fail(x, PT_UPSTREAM_READ_TIMEOUT, NULL);
        if (n <= 0)
            return backend_fail(x, x->head_done ? PT_UPSTREAM_RESET_AFTER_HEAD
                                                : PT_UPSTREAM_RESET_BEFORE_HEAD,
                                n < 0 ? strerror((int)-n) : NULL);
        int rc = relay_chunk(x, (size_t)n);
        if (rc != RELAY_MORE)
            return rc;
    }
}
