/* The FastCGI gateway (SetHandler "proxy:fcgi://..." / "proxy:unix:...|fcgi://...", and
 * ProxyPass to fcgi:// URLs): finds the script, spools a chunked body when php-fpm needs
 * CONTENT_LENGTH (spool.c), borrows a pooled connection, sends BEGIN_REQUEST, PARAMS and
 * STDIN, and hands the answer to relay.c. */
#include "fcgi/exchange.h"

#include "handler.h"
#include "log.h"
#include "runtime.h"
#include "scheme.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* A .php that is not there: 404 from here (php-fpm is not asked), or FallbackResource (as
 * mod_dir moves there: pt_request_lookup_redirect). */
static int script_missing(pt_request_t *r)
{
    const char *fb = r->dir->fallback;
    if (fb && fb[0] && strcmp(fb, r->uri) != 0)
        return pt_request_lookup_redirect(r, fb);
    pt_log_rerror(PT_LOG_INFO, r, "AH01264: script not found or unable to stat: %s",
                  r->filename ? r->filename : r->uri);
    return 404;
}

static int fcgi_forward(pt_request_t *r, const pt_backend_t *b, pt_proxy_attempt_t *a);

const pt_proxy_scheme_t pt_fcgi_scheme = {
    .name = "fcgi",
    .default_port = 8000, /* mod_proxy_fcgi's default for fcgi:// */
    .handler = {"proxy:fcgi", pt_fcgi_handler, true}, /* remote: the script is php-fpm's */
    .forward = fcgi_forward,
};

/* ---- Sending ------------------------------------------------------------------------- */

static int send_stdin(pt_fcgi_exchange_t *x, const void *p, size_t n)
{
    unsigned char hdr[FCGI_HEADER_LEN];
    pt_fcgi_header_put(hdr, FCGI_STDIN, PT_FCGI_REQUEST_ID, n, 0);
    struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)p, n}};
    return pt_fcgi_backend_writev(x, iov, n ? 2 : 1);
}

/* The body as STDIN records, from the spool file or straight from the client. Returns 0,
 * a status (>0) when the client's body failed, or a negative error from the backend. */
static int send_body(pt_fcgi_exchange_t *x, int spool_fd)
{
    pt_request_t *r = x->r;
    unsigned char *data = x->buf + FCGI_HEADER_LEN;
    if (spool_fd >= 0 && lseek(spool_fd, 0, SEEK_SET) != 0)
        return 500;
    for (;;) {
        long n;
        int st = 400;
        if (spool_fd >= 0) {
            n = read(spool_fd, data, PT_FCGI_MAX_CONTENT);
            if (n < 0)
                return 500;
        } else if (r->has_body) {
            n = pt_req_read_body(r, data, PT_FCGI_MAX_CONTENT, &st);
            if (n < 0)
                return st;
        } else {
            n = 0;
        }
        int rc = send_stdin(x, data, (size_t)n);
        if (rc != 0 || n == 0)
            return rc;
    }
}

/* BEGIN_REQUEST and PARAMS in one write, and for a request without a body the empty STDIN
 * that ends it too: php-fpm then reads the whole request at once. */
static int send_head(pt_fcgi_exchange_t *x, const unsigned char *params, size_t plen,
                     bool no_body)
{
    unsigned char begin[sizeof(FCGI_BeginRequestRecord)];
    unsigned char end_stdin[FCGI_HEADER_LEN];
    /* Keep the connection only when it may be reused: otherwise php-fpm closes it. */
    pt_fcgi_begin_put(begin, PT_FCGI_REQUEST_ID, x->b->enablereuse);
    pt_fcgi_header_put(end_stdin, FCGI_STDIN, PT_FCGI_REQUEST_ID, 0, 0);
    struct iovec iov[3] = {{begin, sizeof(begin)}, {(void *)params, plen},
                           {end_stdin, sizeof(end_stdin)}};
    return pt_fcgi_backend_writev(x, iov, no_body ? 3 : 2);
}

/* Connects and sends the request's head; a reused connection that turns out dead before
 * anything of the request went through is replaced once by a fresh one. */
static int open_and_send_head(pt_fcgi_exchange_t *x, const unsigned char *params, size_t plen,
                              bool no_body)
{
    for (int attempt = 0;; attempt++) {
        pt_upstream_fail_t fail;
        int err = 0;
        if (pt_pool_acquire(x->pool, x->timeout_ms, attempt > 0, &x->c, &fail, &err) != 0)
            return pt_fcgi_fail_log(x, fail, fail == PT_UPSTREAM_POOL_FULL ? NULL
                                                                           : strerror(err));
        int rc = send_head(x, params, plen, no_body);
        if (rc == 0)
            return 0;
        bool retry = attempt == 0 && pt_upstream_stale(&x->c, rc);
        pt_pool_release(x->pool, &x->c, false);
        if (!retry)
            return rc == PT_ETIMEOUT ? pt_fcgi_fail_log(x, PT_UPSTREAM_WRITE_TIMEOUT, NULL)
                                     : pt_fcgi_fail_log(x, PT_UPSTREAM_RESET_BEFORE_SEND,
                                                        strerror(-rc));
    }
}

/* Fills s; *handled when the request was answered otherwise (returns its result). */
static int locate(pt_request_t *r, bool fpm, pt_fcgi_script_t *s, bool *handled)
{
    *handled = false;
    if (r->filename) {
        int rc = pt_fcgi_script_locate(r, s);
        *handled = rc != 0;
        if (rc == 404)
            return script_missing(r);
        if (rc == 1) /* a directory: DirectoryIndex, DirectorySlash and friends */
            return pt_static_handler(r);
        return 0;
    }
    if (r->backend_path) {
        pt_fcgi_script_from_backend(r, fpm, s);
        return 0;
    }
    s->filename = "";
    s->script_name = r->uri;
    s->path_info = NULL;
    return 0;
}

/* One exchange with r->backend, its outcome in a. */
static int fcgi_run(pt_request_t *r, pt_proxy_attempt_t *a)
{
    pt_fcgi_exchange_t x = {.r = r, .b = r->backend, .a = a, .c = {.fd = -1}};
    bool fpm = r->dir->fcgi_backend_type != 1;
    pt_fcgi_script_t s;
    bool handled;
    int rc = locate(r, fpm, &s, &handled);
    if (handled)
        return rc;
    x.timeout_ms = pt_upstream_exchange_timeout(r, x.b);
    if (!(x.pool = pt_runtime_pool(pt_proxy_runtime(), x.b))) {
        pt_log_rerror(PT_LOG_ERR, r, "FastCGI backend %s: no connection pool in this process "
                      "(the proxy runtime was not made)", x.b->url);
        return 500;
    }
    x.buf = pt_arena_alloc(r->arena, PT_FCGI_IOBUF);
    pt_fcgi_spool_t sp = {.fd = -1};
    int64_t clen = -1;
    if (r->has_body && r->content_length < 0 && fpm) {
        rc = pt_fcgi_spool_body(r, x.buf, PT_FCGI_MAX_CONTENT, &sp);
        if (rc != 0) {
            pt_fcgi_spool_close(&sp);
            return rc;
        }
        clen = sp.len;
    }
    pt_fcgi_params_t pp;
    pt_fcgi_params_init(&pp, r->arena);
    pt_fcgi_params_build(r, &s, clen, &pp);
    size_t plen = 0;
    unsigned char *params = pt_fcgi_params_records(&pp, PT_FCGI_REQUEST_ID, &plen);
    bool no_body = sp.fd < 0 && !r->has_body;
    rc = open_and_send_head(&x, params, plen, no_body);
    a->sent = rc == 0;
    if (rc == 0 && !no_body)
        rc = send_body(&x, sp.fd);
    pt_fcgi_spool_close(&sp);
    if (rc == -EPIPE || rc == -ECONNRESET) {
        /* The backend stopped reading the body: it may have answered already (or it
         * closed); what it sent decides. */
        return pt_fcgi_relay(&x);
    }
    if (rc != 0) {
        pt_pool_release(x.pool, &x.c, false);
        if (rc == PT_ETIMEOUT)
            return pt_fcgi_fail_log(&x, PT_UPSTREAM_WRITE_TIMEOUT, "the request body");
        if (rc < 0)
            return pt_fcgi_fail_log(&x, PT_UPSTREAM_RESET_BEFORE_HEAD,
                                    pt_arena_printf(r->arena, "cannot send the request body: %s",
                                                    strerror(-rc)));
        return rc;
    }
    return pt_fcgi_relay(&x);
}

int pt_fcgi_handler(pt_request_t *r)
{
    if (!r->backend) {
        pt_log_rerror(PT_LOG_ERR, r, "no FastCGI backend for handler %s", r->handler);
        return 500;
    }
    pt_proxy_attempt_t a = {0};
    return fcgi_run(r, &a);
}

/* A balancer's attempt on member b: the exchange runs as for b's own rule (the params and
 * the response rules read r->backend), and r->backend is the balancer's again after. */
static int fcgi_forward(pt_request_t *r, const pt_backend_t *b, pt_proxy_attempt_t *a)
{
    *a = (pt_proxy_attempt_t){0};
    const pt_backend_t *was = r->backend;
    r->backend = b;
    int rc = fcgi_run(r, a);
    r->backend = was;
    return rc;
}
