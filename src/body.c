/* The request body reader: Content-Length or chunked, from what the connection already
 * buffered and then from the socket, each wait bounded by the body timeout; 100-continue;
 * LimitRequestBody. */
#include "conn.h"
#include "log.h"
#include "request.h"

#include <poll.h>
#include <sys/uio.h>

#define PT_DISCARD_MAX (1 << 20) /* more unread body than this closes instead of draining */

static int64_t body_limit(const pt_request_t *r)
{
    int64_t lim = r->dir ? r->dir->limit_request_body : -1;
    if (lim < 0 && r->vhost && r->vhost->dir)
        lim = r->vhost->dir->limit_request_body;
    return lim > 0 ? lim : INT64_MAX;
}

/* One wait for the client (100 Continue): the body timeout, or Timeout when it is off. */
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
static int64_t body_time_left(const pt_request_t *r)
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

static int body_timed_out(pt_request_t *r, int *status)
{
    pt_log_rerror(PT_LOG_INFO, r, "timeout reading the request body (RequestReadTimeout "
                  "body): 408 after %lld bytes", (long long)r->body_bytes_in);
    *status = 408;
    return PT_ETIMEOUT;
}

static int send_continue(pt_request_t *r)
{
    r->sent_continue = true;
    if (!r->h1 || !r->h1->expect_continue || r->proto_num < 1001)
        return 0;
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct iovec iov = {(void *)cont, sizeof(cont) - 1};
    return pt_conn_writev(r->conn, &iov, 1, body_timeout(r), false);
}

/* Makes sure some unconsumed bytes are buffered: 0, or a negative error. */
static int fill(pt_request_t *r, int *status)
{
    pt_conn_t *c = r->conn;
    while (c->rpos >= c->rlen) {
        /* Checked before every read, as mod_reqtimeout does: a client whose bytes are
         * always there when we look still cannot pass the deadline. */
        int64_t left = body_time_left(r);
        if (left <= 0)
            return body_timed_out(r, status);
        long n = pt_conn_read(c, PT_CONN_RBUF_INITIAL * 4);
        if (n > 0) {
            r->body_bytes_in += n;
            return 0;
        }
        if (n == PT_EAGAIN) {
            int rc = pt_conn_wait(c, POLLIN, left);
            if (rc == PT_ETIMEOUT)
                return body_timed_out(r, status);
            if (rc != 0)
                return rc;
            continue;
        }
        /* EOF or error in the middle of a body */
        pt_log_rerror(PT_LOG_INFO, r, "client closed the connection during the request body");
        c->aborted = true;
        *status = 400;
        return PT_ECLOSED;
    }
    return 0;
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
    int st = 400;
    pt_conn_t *c = r->conn;
    if (r->body_eof || !r->has_body)
        return 0;
    if (r->body_error) {
        if (status)
            *status = r->body_status ? r->body_status : 400;
        return PT_EINVAL;
    }
    int64_t limit = body_limit(r);
    if (!r->h1->chunked && r->content_length > limit) {
        pt_log_rerror(PT_LOG_ERR, r, "Requested content-length of %lld is larger than the "
                      "configured limit of %lld", (long long)r->content_length, (long long)limit);
        return fail(r, status, 413, PT_ETOOBIG);
    }
    if (r->body_start_ms == 0)
        r->body_start_ms = pt_now_ms();
    if (!r->sent_continue && send_continue(r) != 0)
        return fail(r, status, 400, PT_ECLOSED);
    for (;;) {
        if (!r->h1->chunked) {
            if (r->body_left == 0) {
                r->body_eof = true;
                return 0;
            }
            int rc = fill(r, &st);
            if (rc != 0)
                return fail(r, status, st, rc);
            size_t avail = c->rlen - c->rpos;
            size_t k = (size_t)PT_MIN((int64_t)PT_MIN(avail, n), r->body_left);
            memcpy(buf, c->rbuf + c->rpos, k);
            c->rpos += k;
            r->body_left -= (int64_t)k;
            if (r->body_left == 0)
                r->body_eof = true;
            return (long)k;
        }
        if (c->rpos >= c->rlen) {
            int rc = fill(r, &st);
            if (rc != 0)
                return fail(r, status, st, rc);
        }
        size_t used = 0;
        pt_str_t data = {0};
        size_t avail = c->rlen - c->rpos;
        pt_chunked_limit_trailers(&r->chunk, r->vhost->limit_request_fields,
                                  r->vhost->limit_request_field_size);
        pt_chunk_result_t cr = pt_chunked_decode(&r->chunk, c->rbuf + c->rpos,
                                                 PT_MIN(avail, n), &used, &data);
        if (cr == PT_CHUNK_ERROR) {
            pt_log_rerror(PT_LOG_INFO, r, "chunked request body refused (400): %s",
                          r->chunk.error);
            return fail(r, status, 400, PT_EINVAL);
        }
        c->rpos += used;
        if (cr == PT_CHUNK_END) {
            r->body_eof = true;
            return 0;
        }
        if (cr == PT_CHUNK_DATA && data.len) {
            if ((int64_t)r->chunk.total > limit) {
                pt_log_rerror(PT_LOG_ERR, r, "chunked request body is larger than "
                              "LimitRequestBody (%lld)", (long long)limit);
                return fail(r, status, 413, PT_ETOOBIG);
            }
            memmove(buf, data.p, data.len);
            return (long)data.len;
        }
    }
}

int pt_req_discard_body(pt_request_t *r)
{
    char tmp[8192];
    int64_t dropped = 0;
    if (!r->has_body || r->body_eof)
        return r->body_error ? PT_EINVAL : 0;
    if (!r->h1->chunked && r->body_left > PT_DISCARD_MAX)
        return PT_ETOOBIG;
    if (!r->sent_continue) {
        /* The client waits for our word before sending: say nothing and close. */
        if (r->h1->expect_continue)
            return PT_EAGAIN;
    }
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
