/* HTTP/1 request bodies: Content-Length or chunked (de-chunked here), from what the
 * connection already buffered and then from the socket, each wait bounded by the body
 * timeout that body.c computes; 100 Continue before the first read when the client asked
 * for it. body.c, the neutral reader, applies LimitRequestBody and keeps the error state. */
#include "conn.h"
#include "h1.h"
#include "log.h"

#include <poll.h>
#include <sys/uio.h>

static int send_continue(pt_request_t *r, pt_h1_req_t *h1)
{
    h1->sent_continue = true;
    if (!r->expects_continue || r->proto_num < 1001)
        return 0;
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct iovec iov = {(void *)cont, sizeof(cont) - 1};
    return pt_conn_writev(r->conn, &iov, 1, pt_req_body_wait_ms(r), false);
}

/* Makes sure some unconsumed bytes are buffered: 0, or a negative error. */
static int fill(pt_request_t *r, int *status)
{
    pt_conn_t *c = r->conn;
    while (c->rpos >= c->rlen) {
        /* Checked before every read, as mod_reqtimeout does: a client whose bytes are
         * always there when we look still cannot pass the deadline. */
        int64_t left = pt_req_body_wait_ms(r);
        if (left <= 0)
            return pt_req_body_timed_out(r, status);
        long n = pt_conn_read(c, PT_CONN_RBUF_INITIAL * 4);
        if (n > 0) {
            r->body_bytes_in += n;
            return 0;
        }
        if (n == PT_EAGAIN) {
            int rc = pt_conn_wait(c, pt_conn_read_events(c), left);
            if (rc == PT_ETIMEOUT)
                return pt_req_body_timed_out(r, status);
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

/* Content-Length: what is buffered, up to the announced end. */
static long read_counted(pt_request_t *r, pt_h1_req_t *h1, void *buf, size_t n, int *status)
{
    pt_conn_t *c = r->conn;
    if (h1->body_left == 0) {
        r->body_eof = true;
        return 0;
    }
    int rc = fill(r, status);
    if (rc != 0)
        return rc;
    size_t avail = c->rlen - c->rpos;
    size_t k = (size_t)PT_MIN((int64_t)PT_MIN(avail, n), h1->body_left);
    memcpy(buf, c->rbuf + c->rpos, k);
    c->rpos += k;
    h1->body_left -= (int64_t)k;
    if (h1->body_left == 0)
        r->body_eof = true;
    return (long)k;
}

/* Chunked: decodes in place from the read buffer until a piece of data or the end. */
static long read_chunked(pt_request_t *r, pt_h1_req_t *h1, void *buf, size_t n, int *status)
{
    pt_conn_t *c = r->conn;
    for (;;) {
        if (c->rpos >= c->rlen) {
            int rc = fill(r, status);
            if (rc != 0)
                return rc;
        }
        size_t used = 0;
        pt_str_t data = {0};
        size_t avail = c->rlen - c->rpos;
        pt_chunked_limit_trailers(&h1->chunk, r->vhost->limit_request_fields,
                                  r->vhost->limit_request_field_size);
        pt_chunk_result_t cr = pt_chunked_decode(&h1->chunk, c->rbuf + c->rpos,
                                                 PT_MIN(avail, n), &used, &data);
        if (cr == PT_CHUNK_ERROR) {
            pt_log_rerror(PT_LOG_INFO, r, "chunked request body refused (400): %s",
                          h1->chunk.error);
            *status = 400;
            return PT_EINVAL;
        }
        c->rpos += used;
        if (cr == PT_CHUNK_END) {
            r->body_eof = true;
            return 0;
        }
        if (cr == PT_CHUNK_DATA && data.len) {
            memmove(buf, data.p, data.len);
            return (long)data.len;
        }
    }
}

long pt_h1_read_body(pt_request_t *r, void *buf, size_t n, int *status)
{
    pt_h1_req_t *h1 = r->proto_ctx;
    if (!h1->sent_continue && send_continue(r, h1) != 0) {
        *status = 400;
        return PT_ECLOSED;
    }
    if (h1->head && h1->head->chunked)
        return read_chunked(r, h1, buf, n, status);
    return read_counted(r, h1, buf, n, status);
}
