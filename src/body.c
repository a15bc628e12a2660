/* The request body reader, protocol-neutral: LimitRequestBody (on the announced length and
 * on what arrives), the body part of RequestReadTimeout (the protocol asks how long it may
 * wait), the error bookkeeping that decides the status and the connection's fate, and
 * draining an unread body. The framing (Content-Length or chunked, 100-continue, the read
 * buffer) is the protocol's read_body (src/http1/h1_body.c for HTTP/1). */
#include "log.h"
#include "request.h"

#define PT_DISCARD_MAX (1 << 20) /* more unread body than this closes instead of draining */

static int64_t body_limit(const pt_request_t *r)
{
    int64_t lim = r->dir ? r->dir->limit_request_body : -1;
    if (lim < 0 && r->vhost && r->vhost->dir)
        lim = r->vhost->dir->limit_request_body;
    return lim > 0 ? lim : INT64_MAX;
}

/* One wait for the client: the body timeout, or Timeout when it is off. */
static int64_t body_timeout(const pt_request_t *r)
{
    const pt_vhost_t *vh = r->vhost;
    if (vh->body_timeout_ms > 0)
        return vh->body_timeout_ms;
    return vh->timeout_ms > 0 ? vh->timeout_ms : 60000;
}

/* How long the body may still take, as mod_reqtimeout counts it: RequestReadTimeout
 * body=T[-MAX],MinRate=R gives T from the first body read, each R bytes received add a
 * second, never past MAX. Without it (body=0) each wait is bounded by Timeout alone, so a
 * client that trickles a byte per wait is only stopped by LimitRequestBody. */
int64_t pt_req_body_wait_ms(const pt_request_t *r)
{
    const pt_vhost_t *vh = r->vhost;
    if (vh->body_timeout_ms <= 0)
        return body_timeout(r);
    int64_t start = r->body_start_ms;
    int64_t d = start + vh->body_timeout_ms;
    if (vh->body_min_rate > 0)
        d += r->body_bytes_in * 1000 / vh->body_min_rate;
    if (vh->body_max_timeout_ms > 0 && d > start + vh->body_max_timeout_ms)
        d = start + vh->body_max_timeout_ms;
    return d - pt_now_ms();
}

int pt_req_body_timed_out(pt_request_t *r, int *status)
{
    pt_log_rerror(PT_LOG_INFO, r, "timeout reading the request body (RequestReadTimeout "
                  "body): 408 after %lld bytes", (long long)r->body_bytes_in);
    *status = 408;
    return PT_ETIMEOUT;
}

static long fail(pt_request_t *r, int *status, int st, long rc)
{
    r->body_error = true;
    r->body_eof = true;
    r->body_status = st;
    if (status)
        *status = st;
    return rc;
}

long pt_req_read_body(pt_request_t *r, void *buf, size_t n, int *status)
{
    if (r->body_eof || !r->has_body)
        return 0;
    if (r->body_error) {
        if (status)
            *status = r->body_status ? r->body_status : 400;
        return PT_EINVAL;
    }
    int64_t limit = body_limit(r);
    if (r->content_length > limit) {
        pt_log_rerror(PT_LOG_ERR, r, "Requested content-length of %lld is larger than the "
                      "configured limit of %lld", (long long)r->content_length, (long long)limit);
        return fail(r, status, 413, PT_ETOOBIG);
    }
    if (r->body_start_ms == 0)
        r->body_start_ms = pt_now_ms();
    r->body_started = true;
    int st = 400;
    long k = r->proto->read_body(r, buf, n, &st);
    if (k < 0)
        return fail(r, status, st, k);
    r->body_read += k;
    if (r->body_read > limit) {
        /* Only a body of unknown length gets here: an announced one was refused above. */
        pt_log_rerror(PT_LOG_ERR, r, "chunked request body is larger than "
                      "LimitRequestBody (%lld)", (long long)limit);
        return fail(r, status, 413, PT_ETOOBIG);
    }
    return k;
}

int pt_req_discard_body(pt_request_t *r)
{
    char tmp[8192];
    int64_t dropped = 0;
    if (!r->has_body || r->body_eof)
        return r->body_error ? PT_EINVAL : 0;
    if (r->content_length >= 0 && r->content_length - r->body_read > PT_DISCARD_MAX)
        return PT_ETOOBIG;
    /* The client waits for our word before sending: say nothing and close. */
    if (!r->body_started && r->expects_continue)
        return PT_EAGAIN;
    for (;;) {
        long n = pt_req_read_body(r, tmp, sizeof(tmp), NULL);
        if (n == 0)
            return 0;
        if (n < 0)
            return (int)n;
        dropped += n;
        if (dropped > PT_DISCARD_MAX)
            return PT_ETOOBIG;
    }
}
