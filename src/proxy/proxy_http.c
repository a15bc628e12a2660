/* mod_proxy_http: the "http" scheme (ProxyPass to http:// and unix:/path|http://host/).
 * Its forward op is one attempt on one backend (what a balancer calls per member): borrow
 * a pooled keep-alive connection, send the head (http_reqhead.c), stream the body (a
 * chunked one re-framed as chunked; with Expect: 100-continue only once the backend asked
 * for it), then hand the answer to http_relay.c. A pooled connection that the backend had
 * closed is replaced by a fresh one when nothing of the request can have been taken. The
 * handler is forward plus the failure's status. */
#include "http_exchange.h"

#include "proxy_http.h"
#include "proxy_srv.h"
#include "clock.h"
#include "log.h"
#include "runtime.h"
#include "upstream_tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 9.2.2 (and the balancer's rule): a request that may be sent twice. */
static bool idempotent(const pt_request_t *r)
{
    switch (r->method_id) {
    case PT_METHOD_GET: case PT_METHOD_HEAD: case PT_METHOD_PUT: case PT_METHOD_DELETE:
    case PT_METHOD_OPTIONS: case PT_METHOD_TRACE:
        return true;
    default:
        return false;
    }
}

/* upgrade=websocket (or *) and the client asked for that protocol (Apache 2.4.47+). */
static bool wants_upgrade(const pt_request_t *r, const pt_backend_t *b)
{
    if (!b->upgrade)
        return false;
    const char *up = pt_table_get(&r->headers_in, "Upgrade");
    const char *conn = pt_table_get(&r->headers_in, "Connection");
    if (!up || !conn || !pt_http_list_has(conn, strlen(conn), "upgrade", 7))
        return false;
    return strcmp(b->upgrade, "*") == 0 || strcasecmp(b->upgrade, up) == 0;
}

/* ---- The request body ------------------------------------------------------------------ */

/* The client's body to the backend, as it comes: Content-Length bytes as they are, a
 * chunked body as chunks again (its size is not known before its end). 0, a status (> 0)
 * when the client's body failed, or a negative error from the backend. */
static int send_body(pt_http_x_t *x)
{
    pt_request_t *r = x->r;
    bool chunked = r->content_length < 0;
    char *data = pt_arena_alloc(r->arena, PT_HTTP_BODYBUF);
    for (;;) {
        int st = 400;
        long n = pt_req_read_body(r, data, PT_HTTP_BODYBUF, &st);
        if (n < 0)
            return st;
        char sz[24];
        struct iovec iov[3];
        int k = 0;
        if (chunked) {
            int sl = n ? snprintf(sz, sizeof(sz), "%lx\r\n", n) : 0;
            if (sl)
                iov[k++] = (struct iovec){sz, (size_t)sl};
            iov[k++] = (struct iovec){data, (size_t)n};
            iov[k++] = n ? (struct iovec){"\r\n", 2} : (struct iovec){"0\r\n\r\n", 5};
        } else if (n) {
            iov[k++] = (struct iovec){data, (size_t)n};
        }
        int rc = k ? pt_upstream_conn_writev(&x->c, iov, k, x->timeout_ms) : 0;
        if (rc != 0)
            return rc;
        x->a->bytes_out += (uint64_t)n;
        if (n == 0) {
            x->body_sent = true;
            return 0;
        }
    }
}

/* ---- One attempt ----------------------------------------------------------------------- */

/* How to borrow: a request that head_phase may send again when the reused connection turns
 * out closed (idempotent, no body) takes a recent idle one without the pool's check, which
 * would be a system call per request. */
static pt_pool_how_t pool_how(const pt_http_x_t *x, bool fresh)
{
    if (fresh)
        return PT_POOL_FRESH;
    return idempotent(x->r) && !x->r->has_body && !x->r->body_started ? PT_POOL_TRUST_RECENT
                                                                      : PT_POOL_CHECK;
}

/* Connects (or borrows) and sends the head; a reused connection that turns out closed
 * before any of it went is replaced once. 0, or the failure's status (logged). */
static int open_and_send(pt_http_x_t *x, const char *head, size_t hlen, bool fresh)
{
    for (int attempt = 0;; attempt++) {
        pt_upstream_fail_t fail;
        int err = 0;
        if (pt_pool_acquire_tls(x->pool, x->timeout_ms, pool_how(x, fresh || attempt > 0),
                                x->tls, &x->c, &fail, &err) != 0)
            return pt_http_fail(x, fail,
                                fail == PT_UPSTREAM_POOL_FULL ? NULL
                                : fail == PT_UPSTREAM_TLS_HANDSHAKE
                                    ? x->tls->why
                                    : pt_upstream_connect_why(x->b, err));
        struct iovec iov = {(void *)head, hlen};
        x->sent_us = pt_mono_us();
        int rc = pt_upstream_conn_writev(&x->c, &iov, 1, x->timeout_ms);
        if (rc == 0) {
            x->a->sent = true;
            return 0;
        }
        bool retry = attempt == 0 && pt_upstream_stale(&x->c, rc);
        pt_pool_release(x->pool, &x->c, false);
        if (!retry)
            return rc == PT_ETIMEOUT ? pt_http_fail(x, PT_UPSTREAM_WRITE_TIMEOUT, NULL)
                                     : pt_http_fail(x, PT_UPSTREAM_RESET_BEFORE_SEND,
                                                    strerror(-rc));
    }
}

/* With Expect: 100-continue the body waits for the backend's word: its 100 (the client then
 * gets its own 100 at the first body read), a final answer (relayed; the body is never
 * asked for), or silence past PT_HTTP_CONTINUE_WAIT_MS (the body goes anyway). 0 to send
 * the body, 1 when a final head is parsed, else the failure's status. */
static int await_continue(pt_http_x_t *x)
{
    bool nothing;
    const char *why;
    int rc = pt_http_read_head(x, PT_MIN(x->timeout_ms, PT_HTTP_CONTINUE_WAIT_MS), true,
                               &nothing, &why);
    if (rc == 100 || rc == PT_ETIMEOUT)
        return 0;
    if (rc == 0)
        return 1;
    pt_pool_release(x->pool, &x->c, false);
    return rc == PT_EINVAL ? pt_http_fail(x, PT_UPSTREAM_MALFORMED, why)
                           : pt_http_fail(x, PT_UPSTREAM_RESET_BEFORE_HEAD, why);
}

/* The body after the head; 0 when the answer is to be read. */
static int body_phase(pt_http_x_t *x)
{
    pt_request_t *r = x->r;
    if (!r->has_body) {
        x->body_sent = true;
        return 0;
    }
    if (x->expect) {
        int rc = await_continue(x);
        if (rc == 1)
            return 0; /* answered without the body: the connection is not reused */
        if (rc != 0)
            return rc;
    }
    int rc = send_body(x);
    if (rc == 0 || rc == -EPIPE || rc == -ECONNRESET)
        return 0; /* a backend that stopped reading may have answered: its answer decides */
    pt_pool_release(x->pool, &x->c, false);
    if (rc > 0)
        return rc; /* the client's body failed: its status, the backend sees a cut request */
    if (rc == PT_ETIMEOUT)
        return pt_http_fail(x, PT_UPSTREAM_WRITE_TIMEOUT, "the request body");
    return pt_http_fail(x, PT_UPSTREAM_RESET_BEFORE_HEAD,
                        pt_arena_printf(r->arena, "cannot send the request body: %s",
                                        strerror(-rc)));
}

/* Reads the answer's head. 0, 1 to try again on a fresh connection (a reused one closed
 * before answering a request that may be repeated), 2 when a resumed exchange (x->nowait)
 * has read what was there and the head is not complete yet, or the failure's status. */
static int head_phase(pt_http_x_t *x, bool may_retry)
{
    bool nothing;
    const char *why;
    int rc = x->head.status >= 200 || x->head.status == 101 ? 0 : pt_http_read_head(x, x->timeout_ms, false, &nothing,
                                                            &why);
    if (rc == 0)
        return 0;
    if (rc == PT_EAGAIN)
        return 2;
    pt_pool_release(x->pool, &x->c, false);
    if (rc == PT_ECLOSED && nothing && may_retry) {
        pt_log_rmerror("proxy_http", PT_LOG_DEBUG, x->r,
                       "HTTP backend %s closed a kept connection; "
                       "sending again on a fresh one",
                       x->b->url);
        return 1;
    }
    if (rc == PT_ETIMEOUT)
        return pt_http_fail(x, PT_UPSTREAM_READ_TIMEOUT, NULL);
    if (rc == PT_EINVAL)
        return pt_http_fail(x, PT_UPSTREAM_MALFORMED, why);
    return pt_http_fail(x, PT_UPSTREAM_RESET_BEFORE_HEAD, why);
}

/* https://: the client side of the request's server (its SSLProxy* settings). false when
 * that server has no SSLProxyEngine On (a ProxyPass the load could not check, such as one
 * in a <Location>): a 500, as mod_proxy answers (AH00961). */
static bool tls_setup(pt_http_x_t *x, pt_pool_tls_t *tls)
{
    const pt_utls_server_t *srv = pt_utls_for(pt_proxy_runtime()->tls, x->r->vhost);
    if (!srv) {
        pt_log_rmerror("proxy", PT_LOG_ERR, x->r,
                       "AH00961: SSL Proxy requested for %s but not "
                       "enabled [Hint: SSLProxyEngine]",
                       x->b->url + 6);
        return false;
    }
    /* SNI and the name checked: the backend's host, or with ProxyPreserveHost the client's
     * Host without its port (as mod_proxy_http sets the SSL host name). */
    const char *host = x->b->host;
    const char *h = pt_table_get(&x->r->headers_in, "Host");
    if (x->r->vhost->proxy_preserve_host == 2 && h && *h) {
        const char *end = h[0] == '[' ? strchr(h, ']') : strrchr(h, ':');
        size_t n = end ? (size_t)(end - h) + (h[0] == '[') : strlen(h);
        host = h[0] == '[' ? pt_arena_strndup(x->r->arena, h + 1, n > 1 ? n - 2 : 0)
                           : pt_arena_strndup(x->r->arena, h, n);
    }
    *tls = (pt_pool_tls_t){.srv = srv, .host = host};
    x->tls = tls;
    return true;
}

/* ---- The exchange, and its wait for the answer without a worker ------------------------ */

static int exchange(pt_http_x_t *x, int attempt, bool answered);

/* The answer is there (or its time is up): the exchange goes on where it parked, on this
 * worker's buffer. */
static int resume_exchange(pt_request_t *r, void *ctx, bool timed_out)
{
    pt_http_x_t *x = ctx;
    pt_pool_unpark(x->pool);
    x->buf = pt_http_iobuf();
    int rc;
    if (timed_out) {
        pt_pool_release(x->pool, &x->c, false);
        rc = pt_http_fail(x, PT_UPSTREAM_READ_TIMEOUT, NULL);
    } else {
        x->nowait = true; /* the head's reads: what is there, no wait (net/task.h) */
        rc = exchange(x, x->attempt, true);
    }
    /* Ended: what forward's caller would have done with the result, now (the balancer's
     * verdict on the member, perhaps another attempt). */
    if (rc != PT_SUSPENDED && x->a->then)
        rc = x->a->then(r, x->a->then_ctx, rc);
    return rc;
}

static void abandon_exchange(pt_request_t *r, void *ctx)
{
    (void)r;
    pt_http_x_t *x = ctx;
    pt_pool_unpark(x->pool);
    pt_pool_release(x->pool, &x->c, false);
    if (x->a->gone)
        x->a->gone(x->a->then_ctx);
}

/* The request went and nothing of the answer is here yet: under the event MPM the worker
 * does not wait for it (a blocked worker is a context switch per request, and a thread
 * per request in flight); the listener watches the backend's socket until ProxyTimeout. */
static bool may_park(const pt_http_x_t *x)
{
    return x->may_suspend && !x->c.ssl && x->len == x->pos && x->head.status == 0;
}

/* again: resumed before the whole head came (a stale wake-up, or an interim 1xx first):
 * the same deadline, from when the request went, bounds the whole head. */
static int park(pt_http_x_t *x, int attempt, bool again)
{
    x->attempt = attempt;
    x->buf = NULL; /* the thread's: another may resume */
    if (!again)
        x->head_deadline_ms = pt_now_ms() + x->timeout_ms;
    pt_suspend_t s = {.fd = x->c.fd, .reg = &x->c.reg, .deadline_ms = x->head_deadline_ms,
                      .resume = resume_exchange, .abandon = abandon_exchange, .ctx = x};
    return pt_request_suspend(x->r, &s);
}

/* Attempts from attempt on: connect (or borrow), send, wait for the head, relay. answered:
 * resumed with this attempt's answer readable (its request went already). */
static int exchange(pt_http_x_t *x, int attempt, bool answered)
{
    pt_request_t *r = x->r;
    for (;; attempt++) {
        int rc = 0;
        if (!answered) {
            rc = open_and_send(x, x->req_head, x->req_hlen, attempt > 0);
            if (rc == 0)
                rc = body_phase(x);
            if (rc == 0 && may_park(x) && pt_pool_park(x->pool))
                return park(x, attempt, false);
        }
        answered = false;
        bool may_retry = attempt == 0 && x->c.reused && !r->body_started && idempotent(r);
        if (rc == 0)
            rc = head_phase(x, may_retry);
        if (rc == 2) { /* resumed, and the rest of the head is still to come */
            if (pt_pool_park(x->pool))
                return park(x, attempt, true);
            x->nowait = false; /* the pool's bound: wait here instead */
            rc = head_phase(x, may_retry);
        }
        if (rc == 0)
            return pt_http_relay(x);
        if (rc != 1)
            return rc;
        x->len = x->pos = 0;
        x->head.status = 0;
        x->nowait = false;
        /* The kept connection was closed before our request could be read: nothing of it
         * reached the backend (for the balancer, which otherwise counts a second member
         * after this one as the last). The fresh attempt sets it again. */
        x->a->sent = false;
    }
}

/* One attempt on b. may_suspend: the caller lets the exchange park the request while the
 * backend works (pt_request_suspend; a->then says what follows). */
static int forward_x(pt_request_t *r, const pt_backend_t *b, pt_proxy_attempt_t *a,
                     bool may_suspend)
{
    *a = (pt_proxy_attempt_t){.then = a->then, .gone = a->gone, .then_ctx = a->then_ctx};
    int mf = pt_proxy_max_forwards_check(r);
    if (mf)
        return mf;
    /* In the arena: a parked exchange outlives this call. */
    pt_http_x_t *x = pt_arena_alloc(r->arena, sizeof(*x));
    *x = (pt_http_x_t){.r = r, .b = b, .a = a, .c = {.fd = -1},
                       .own_headers = r->headers_out.n};
    x->timeout_ms = pt_upstream_exchange_timeout(r, b);
    if (!(x->pool = pt_runtime_pool(pt_proxy_runtime(), b))) {
        pt_log_rmerror("proxy_http", PT_LOG_ERR, r,
                       "HTTP backend %s: no connection pool in this process "
                       "(the proxy runtime was not made)",
                       b->url);
        return 500;
    }
    if (b->scheme_ops == &pt_https_scheme &&
        !tls_setup(x, pt_arena_alloc(r->arena, sizeof(pt_pool_tls_t))))
        return 500;
    x->reuse = b->reuse_set ? b->enablereuse : pt_http_scheme.reuse_default;
    x->upgrade = wants_upgrade(r, b);
    /* Proxy100Continue Off: the backend is not asked; the core's 100 answers the client. */
    x->expect = r->has_body && r->expects_continue && !r->body_started &&
                r->dir->proxy_100_continue != 1;
    x->may_suspend = may_suspend;
    x->req_head = pt_http_request_head(x, &x->req_hlen);
    x->buf = pt_http_iobuf();
    return exchange(x, 0, false);
}

static int forward(pt_request_t *r, const pt_backend_t *b, pt_proxy_attempt_t *a)
{
    return forward_x(r, b, a, a->then && pt_request_may_suspend(r));
}

static int http_handler(pt_request_t *r)
{
    if (!r->backend) {
        pt_log_rmerror("proxy_http", PT_LOG_ERR, r, "no HTTP backend for handler %s", r->handler);
        return 500;
    }
    pt_proxy_attempt_t *a = pt_arena_calloc(r->arena, sizeof(*a));
    return forward_x(r, r->backend, a, pt_request_may_suspend(r));
}

const pt_proxy_scheme_t pt_http_scheme = {
    .name = "http",
    .default_port = 80,
    .handler = {"proxy:http", http_handler, true},
    .forward = forward,
    .reuse_default = true, /* keep-alive to upstreams unless disablereuse=On */
    .parks = true,
};

/* mod_proxy_http's https://: the same client over TLS (upstream_tls.h). */
const pt_proxy_scheme_t pt_https_scheme = {
    .name = "https",
    .default_port = 443,
    .handler = {"proxy:https", http_handler, true},
    .forward = forward,
    .reuse_default = true,
};
