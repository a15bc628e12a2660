/* The upstream's answer: the head read and parsed (interim 1xx skipped), its fields copied
 * without the hop-by-hop ones, the body streamed to the client as it comes, framed by
 * Content-Length, chunked (decoded here, re-framed by the client's protocol) or the close.
 * A read from the backend happens only after the client took the previous one (a slow
 * client blocks pt_resp_write), so memory stays one buffer per exchange whatever the size:
 * backpressure without a growing queue. A failure after the client saw a byte closes the
 * client's connection: a truncated body is never presented as complete. */
#include "http_exchange.h"
#include "proxy_srv.h"

#include "clock.h"
#include "conn.h"
#include "log.h"
#include "reverse.h"
#include "tunnel.h"

#include <openssl/ssl.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- The thread's buffer --------------------------------------------------------------- */

static pthread_key_t iobuf_key;
static pthread_once_t iobuf_once = PTHREAD_ONCE_INIT;

static void iobuf_key_make(void)
{
    pthread_key_create(&iobuf_key, free);
}

char *pt_http_iobuf(void)
{
    /* One per worker thread, freed when it exits: a proxied request makes no allocation of
     * its size (the request arena would malloc and free a block each time). */
    pthread_once(&iobuf_once, iobuf_key_make);
    char *b = pthread_getspecific(iobuf_key);
    if (!b) {
        b = malloc(PT_HTTP_IOBUF);
        if (!b)
            abort(); /* as an arena: out of memory is not a request error */
        pthread_setspecific(iobuf_key, b);
    }
    return b;
}

/* ---- Failures -------------------------------------------------------------------------- */

int pt_http_fail(pt_http_x_t *x, pt_upstream_fail_t f, const char *detail)
{
    x->a->failed = true;
    x->a->fail = f;
    x->a->started = x->r->head_sent;
    return pt_upstream_fail_log(x->r, f, "HTTP", x->b->url, detail, x->r->head_sent);
}

/* Ends the exchange on a backend failure: the status to answer while nothing reached the
 * client (a head built but still held is forgotten, with the backend's fields), else the
 * client connection closes. */
static int give_up(pt_http_x_t *x, pt_upstream_fail_t f, const char *detail)
{
    pt_request_t *r = x->r;
    int status = pt_http_fail(x, f, detail);
    pt_pool_release(x->pool, &x->c, false);
    if (!r->head_sent) {
        if (x->resp_started) {
            pt_resp_unstart(r);
            r->headers_out.n = x->own_headers;
            x->resp_started = false;
        } else {
            r->headers_out.n = PT_MIN(r->headers_out.n, x->own_headers);
        }
        return status;
    }
    r->keepalive = false;
    r->conn->aborted = true;
    return PT_ECLOSED;
}

static int client_gone(pt_http_x_t *x, int rc)
{
    pt_log_rmerror("proxy_http", PT_LOG_INFO, x->r,
                   "client went away; HTTP request to %s abandoned", x->b->url);
    pt_pool_release(x->pool, &x->c, false);
    x->r->keepalive = false;
    x->r->conn->aborted = true;
    return rc < 0 ? rc : PT_ECLOSED;
}

/* ---- The head -------------------------------------------------------------------------- */

/* More bytes into buf after len (compacting what was used first): > 0, 0 at EOF, or a
 * negative error. */
static long read_more(pt_http_x_t *x, int64_t wait_ms, bool first)
{
    if (x->pos > 0) {
        memmove(x->buf, x->buf + x->pos, x->len - x->pos);
        x->len -= x->pos;
        x->pos = 0;
    }
    if (x->len >= PT_HTTP_IOBUF)
        return PT_ETOOBIG;
    long n = pt_upstream_conn_read(&x->c, x->buf + x->len, PT_HTTP_IOBUF - x->len, wait_ms,
                                   first);
    if (n > 0) {
        x->len += (size_t)n;
        x->a->bytes_in += (uint64_t)n;
    }
    return n;
}

/* read_more without a wait (a resumed exchange: a plain socket, x->nowait): PT_EAGAIN when
 * nothing is there. */
static long read_more_now(pt_http_x_t *x)
{
    if (x->pos > 0) {
        memmove(x->buf, x->buf + x->pos, x->len - x->pos);
        x->len -= x->pos;
        x->pos = 0;
    }
    if (x->len >= PT_HTTP_IOBUF)
        return PT_ETOOBIG;
    ssize_t n = recv(x->c.fd, x->buf + x->len, PT_HTTP_IOBUF - x->len, MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? PT_EAGAIN : -errno;
    x->len += (size_t)n;
    x->a->bytes_in += (uint64_t)n;
    return n;
}

int pt_http_read_head(pt_http_x_t *x, int64_t wait_ms, bool stop_at_100, bool *nothing,
                      const char **why)
{
    /* wait_ms from now. A resumed exchange's reads (x->nowait) take what is there and never
     * wait, so no time passes that a deadline would measure: no clock read for them. */
    int64_t deadline = x->nowait ? 0 : pt_now_ms() + wait_ms;
    bool first = x->len == x->pos;
    *nothing = false;
    for (;;) {
        /* Nothing buffered yet, as after sending a request: nothing to parse (the head is
         * left as an empty parse leaves it). */
        pt_http_resp_result_t pr = PT_HTTP_RESP_AGAIN;
        if (x->len > x->pos) {
            int bad = pt_proxy_srv_of(x->r->vhost)->bad_header; /* ProxyBadHeader */
            pr = pt_http_resp_parse_bad(x->buf + x->pos, x->len - x->pos,
                                        x->r->vhost->limit_request_fields + 100,
                                        bad ? bad - 1 : PT_HTTP_BADHDR_ERROR, x->r->arena,
                                        &x->head, why);
        } else {
            x->head = (pt_http_resp_t){.content_length = -1}, *why = NULL;
        }
        if (pr == PT_HTTP_RESP_BAD)
            return PT_EINVAL;
        if (pr == PT_HTTP_RESP_DONE) {
            x->pos += x->head.head_len;
            int st = x->head.status;
            if (st >= 200 || (st == 101 && x->upgrade))
                return x->nowait = false, 0;
            if (st == 101)
                return *why = "101 Switching Protocols to a request without Upgrade",
                       PT_EINVAL;
            if (st == 100 && stop_at_100)
                return 100;
            continue; /* 100 unasked, 102, 103: interim, not relayed */
        }
        bool empty = x->len == x->pos;
        int64_t left = first || x->nowait ? wait_ms : deadline - pt_now_ms();
        if (left <= 0)
            return PT_ETIMEOUT;
        long n = x->nowait ? read_more_now(x) : read_more(x, left, first);
        first = false;
        if (n == PT_EAGAIN)
            return PT_EAGAIN;
        if (n == PT_ETIMEOUT || n == PT_ETOOBIG)
            return n == PT_ETIMEOUT ? PT_ETIMEOUT : (*why = "response head too large",
                                                     PT_EINVAL);
        if (n <= 0) {
            *nothing = empty && x->head.status == 0;
            *why = n < 0 ? strerror((int)-n) : NULL;
            return PT_ECLOSED;
        }
    }
}

/* Whether the backend's field n is named by one of its Connection fields. */
static bool conn_named(const pt_http_resp_t *h, pt_str_t n)
{
    for (size_t j = 0; j < h->nfields; j++) {
        pt_str_t c = h->fields[j].name, v = h->fields[j].value;
        if (c.len == 10 && strncasecmp(c.p, "Connection", 10) == 0 &&
            pt_http_list_has(v.p, v.len, n.p, n.len))
            return true;
    }
    return false;
}

/* The backend's fields into r->headers_out, without the hop-by-hop ones and those its
 * Connection names; the framing fields are the core's to write. */
static void copy_fields(pt_http_x_t *x)
{
    pt_request_t *r = x->r;
    const pt_http_resp_t *h = &x->head;
    x->own_headers = r->headers_out.n;
    /* "Connection: keep-alive" (what most backends send) names only Keep-Alive, which goes
     * as hop-by-hop anyway: the per-field look at Connection is for other values. */
    bool names = false;
    for (size_t i = 0; i < h->nfields && !names; i++) {
        pt_str_t c = h->fields[i].name, v = h->fields[i].value;
        names = c.len == 10 && strncasecmp(c.p, "Connection", 10) == 0 &&
                !(v.len == 10 && strncasecmp(v.p, "keep-alive", 10) == 0);
    }
    for (size_t i = 0; i < h->nfields; i++) {
        pt_str_t n = h->fields[i].name, v = h->fields[i].value;
        if (pt_http_hop_by_hop(n.p, n.len) ||
            (n.len == 14 && strncasecmp(n.p, "Content-Length", 14) == 0) ||
            (names && conn_named(h, n)))
            continue;
        /* Name and value in one piece of the arena (the buffer they are in is reused). */
        char *nv = pt_arena_alloc(r->arena, n.len + v.len + 2);
        memcpy(nv, n.p, n.len);
        nv[n.len] = '\0';
        memcpy(nv + n.len + 1, v.p, v.len);
        nv[n.len + 1 + v.len] = '\0';
        pt_table_add(&r->headers_out, nv, nv + n.len + 1);
    }
}

/* ---- The body -------------------------------------------------------------------------- */

/* The connection goes back to the pool when the answer ended where its framing said and
 * nothing more came, the backend keeps it, and the whole request went. */
static void done_with_backend(pt_http_x_t *x, bool framed)
{
    bool keep = framed && !x->head.conn_close && x->body_sent && x->len == x->pos &&
                !x->upgrade;
    pt_pool_release(x->pool, &x->c, keep);
}

static int finish(pt_http_x_t *x, bool framed)
{
    done_with_backend(x, framed);
    int rc = pt_resp_finish(x->r);
    return rc == 0 ? PT_DONE : client_gone(x, rc);
}

static int body_counted(pt_http_x_t *x, int64_t left)
{
    for (;;) {
        size_t k = (size_t)PT_MIN((int64_t)(x->len - x->pos), left);
        if (k) {
            int rc = pt_resp_write(x->r, x->buf + x->pos, k);
            x->pos += k;
            left -= (int64_t)k;
            if (rc != 0)
                return client_gone(x, rc);
        }
        if (left == 0)
            return finish(x, true);
        x->pos = x->len = 0;
        long n = read_more(x, x->timeout_ms, false);
        if (n == PT_ETIMEOUT)
            return give_up(x, PT_UPSTREAM_READ_TIMEOUT, "in the response body");
        if (n <= 0)
            return give_up(x, PT_UPSTREAM_RESET_AFTER_HEAD, n < 0 ? strerror((int)-n) : NULL);
    }
}

static int body_until_close(pt_http_x_t *x)
{
    for (;;) {
        if (x->len > x->pos) {
            int rc = pt_resp_write(x->r, x->buf + x->pos, x->len - x->pos);
            x->pos = x->len;
            if (rc != 0)
                return client_gone(x, rc);
        }
        x->pos = x->len = 0;
        long n = read_more(x, x->timeout_ms, false);
        if (n == 0)
            return finish(x, false);
        if (n == PT_ETIMEOUT)
            return give_up(x, PT_UPSTREAM_READ_TIMEOUT, "in the response body");
        if (n < 0)
            return give_up(x, PT_UPSTREAM_RESET_AFTER_HEAD, strerror((int)-n));
    }
}

/* Decodes what is buffered, gathering the data in place at the front of the unread part
 * (data never moves right), and writes it in one piece. 1: more to read, 0: the last chunk
 * and trailers are through, 2: the exchange ended with *res, the handler's result. */
static int chunked_step(pt_http_x_t *x, pt_chunked_t *ch, int *res)
{
    char *out = x->buf + x->pos;
    size_t w = 0;
    pt_chunk_result_t cr = PT_CHUNK_AGAIN;
    while (x->pos < x->len) {
        size_t used = 0;
        pt_str_t d = {0};
        cr = pt_chunked_decode(ch, x->buf + x->pos, x->len - x->pos, &used, &d);
        if (cr == PT_CHUNK_ERROR) {
            *res = give_up(x, PT_UPSTREAM_MALFORMED,
                           pt_arena_printf(x->r->arena, "bad chunked body: %s", ch->error));
            return 2;
        }
        if (d.len) {
            memmove(out + w, d.p, d.len);
            w += d.len;
        }
        x->pos += used;
        if (cr == PT_CHUNK_END || cr == PT_CHUNK_AGAIN)
            break;
    }
    if (w) {
        int rc = pt_resp_write(x->r, out, w);
        if (rc != 0)
            return *res = client_gone(x, rc), 2;
    }
    return cr == PT_CHUNK_END ? 0 : 1;
}

static int body_chunked(pt_http_x_t *x)
{
    pt_chunked_t ch;
    pt_chunked_init(&ch);
    pt_chunked_limit_trailers(&ch, x->r->vhost->limit_request_fields,
                              x->r->vhost->limit_request_field_size);
    for (;;) {
        int res = 0, rc = chunked_step(x, &ch, &res);
        if (rc == 0)
            return finish(x, true);
        if (rc == 2)
            return res;
        x->pos = x->len = 0;
        long n = read_more(x, x->timeout_ms, false);
        if (n == PT_ETIMEOUT)
            return give_up(x, PT_UPSTREAM_READ_TIMEOUT, "in the response body");
        if (n <= 0)
            return give_up(x, PT_UPSTREAM_RESET_AFTER_HEAD, n < 0 ? strerror((int)-n) : NULL);
    }
}

/* The backend's field named name (len), or NULL: for the 101's Upgrade, which copy_fields
 * leaves out as hop-by-hop. */
static const char *backend_field(pt_http_x_t *x, const char *name, size_t len)
{
    for (size_t i = 0; i < x->head.nfields; i++) {
        pt_str_t n = x->head.fields[i].name, v = x->head.fields[i].value;
        if (n.len == len && strncasecmp(n.p, name, len) == 0)
            return pt_arena_strndup(x->r->arena, v.p, v.len);
    }
    return NULL;
}

/* 101 Switching Protocols to an upgrade we asked for: the 101 goes to the client with the
 * protocol it names, and the backend's socket (a dup: the pool closes its own, and counts
 * it no more) becomes the tunnel's, with what the backend sent after its head. */
static int tunnel(pt_http_x_t *x)
{
    pt_request_t *r = x->r;
    const char *proto = backend_field(x, "Upgrade", 7);
    if (!proto)
        return give_up(x, PT_UPSTREAM_MALFORMED, "101 Switching Protocols without Upgrade");
    copy_fields(x);
    pt_table_set(&r->headers_out, "Upgrade", proto); /* (Connection: Upgrade is HTTP/1's) */
    int fd = dup(x->c.fd);
    if (fd < 0)
        return give_up(x, PT_UPSTREAM_RESET_AFTER_HEAD, strerror(errno));
    /* An https:// backend's TLS goes with the socket (wss:// to the origin): its BIO moves to
     * the dup, and what OpenSSL holds of the stream stays in it for the tunnel. */
    SSL *ssl = x->c.ssl;
    if (ssl && !SSL_set_fd(ssl, fd)) {
        close(fd);
        return give_up(x, PT_UPSTREAM_RESET_AFTER_HEAD, "cannot move the TLS connection");
    }
    x->c.ssl = NULL;
    pt_pool_release(x->pool, &x->c, false);
    int rc = pt_resp_start(r, 101, 0);
    if (rc == 0)
        rc = pt_resp_write(r, "", 0); /* the head alone, now */
    if (rc != 0) {
        SSL_free(ssl);
        close(fd);
        return client_gone(x, rc);
    }
    rc = pt_tunnel_run(r, fd, ssl, x->buf + x->pos, x->len - x->pos, x->timeout_ms);
    if (rc != 0) {
        r->conn->aborted = true; /* the 101 went: nothing else can follow on it */
        return rc;
    }
    return PT_DONE;
}

int pt_http_relay(pt_http_x_t *x)
{
    pt_request_t *r = x->r;
    const pt_http_resp_t *h = &x->head;
    x->a->status = h->status;
    x->a->latency_us = pt_mono_us() - x->sent_us;
    if (h->status == 101)
        return tunnel(x);
    if (pt_proxy_error_override(r, h->status)) {
        /* ProxyErrorOverride: the backend's error answer is dropped for portico's own (its
         * ErrorDocument); its body is not read, so the connection is not kept. */
        pt_pool_release(x->pool, &x->c, false);
        return h->status;
    }
    copy_fields(x);
    pt_proxy_via_response(r); /* ProxyVia On|Full */
    pt_proxy_reverse_map(r, &r->headers_out); /* ProxyPassReverse and the cookie rules */
    bool bodiless = r->header_only || !pt_status_has_body(h->status);
    int64_t len = bodiless ? (h->content_length >= 0 ? h->content_length : -1)
                           : (h->chunked ? -1 : h->content_length);
    if (pt_resp_start(r, h->status, len) != 0) {
        pt_log_rmerror("proxy_http", PT_LOG_ERR, r, "HTTP backend %s: cannot start the response",
                       x->b->url);
        pt_pool_release(x->pool, &x->c, false);
        return 500;
    }
    x->resp_started = true;
    if (bodiless)
        return finish(x, true);
    if (h->chunked)
        return body_chunked(x);
    if (h->content_length >= 0)
        return body_counted(x, h->content_length);
    return body_until_close(x);
}
