/* The response writer: status line and header fields (Date cached per second, Server per
 * ServerTokens, Header rules, framing), bodies from memory or files, and the error pages. */
#include "conn.h"
#include "headers.h"
#include "log.h"
#include "mpm/scoreboard.h"
#include "request.h"
#include "uri.h"

#include <openssl/opensslv.h>
#include <stdio.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>

#define PT_SMALL_BODY 16384 /* files up to this size are read and sent with the head */

static const char *http_date_now(void)
{
    /* Each thread keeps its own copy: no lock, refreshed once a second. */
    static __thread time_t last;
    static __thread char buf[40];
    time_t now = time(NULL);
    if (now != last) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        last = now;
    }
    return buf;
}

static const char *server_banner(int tokens)
{
    switch (tokens) {
    case 0: return "portico";
    case 1: return "portico/" "0";
    case 2: return "portico/0.1";
    case 3: return "portico/" PORTICO_VERSION;
    case 4: return "portico/" PORTICO_VERSION " (Unix)";
    default: return "portico/" PORTICO_VERSION " (Unix) " OPENSSL_VERSION_TEXT;
    }
}

const char *pt_server_banner(int tokens)
{
    return server_banner(tokens);
}

static const char *fmt_uint(pt_arena_t *a, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return pt_arena_strndup(a, tmp + i, sizeof(tmp) - i);
}

static bool status_has_body(int status)
{
    return !(status < 200 || status == 204 || status == 304);
}

/* Decides keep-alive for this response (after the handler, before the head). */
static void decide_keepalive(pt_request_t *r, int64_t len)
{
    const pt_vhost_t *vh = r->vhost;
    if (!r->keepalive)
        return;
    if (!vh->keepalive || r->body_error || r->conn->aborted)
        r->keepalive = false;
    else if (vh->max_keepalive_requests > 0 && r->conn->requests + 1 >= vh->max_keepalive_requests)
        r->keepalive = false;
    else if (len < 0 && r->proto_num < 1001 && status_has_body(r->status) && !r->header_only)
        r->keepalive = false; /* HTTP/1.0 without a length: the close ends the body */
    /* A request body not read to the end: drop it now or close. */
    if (r->keepalive && !r->body_eof && r->has_body && pt_req_discard_body(r) != 0)
        r->keepalive = false;
}

/* mod_headers keeps two tables, as Apache: plain Header (onsuccess) rules work on the
 * handler's headers_out, which a page the server makes itself (an error, a Redirect) does
 * not send; Header always rules on err_headers_out, sent with every response. A rule sees
 * only its own table: set in both sends two fields, and unset in one leaves the other's. */
static void apply_header_rules(pt_request_t *r, int status)
{
    pt_table_t *ok = r->error_page ? NULL : &r->headers_out;
    if (ok && r->backend && strcmp(r->backend->scheme, "fcgi") == 0) {
        /* A script's header fields are in Apache's always table (util_script merges them
         * into err_headers_out): "Header always unset X-Powered-By" removes PHP's, plain
         * "Header unset" does not. */
        for (size_t i = 0; i < ok->n; i++)
            pt_table_add(&r->err_headers_out, ok->v[i].name, ok->v[i].value);
        pt_table_init(ok, r->arena, 4);
    }
    if (r->content_type && status_has_body(status) &&
        !(ok && pt_table_get(ok, "Content-Type")) &&
        !pt_table_get(&r->err_headers_out, "Content-Type"))
        pt_table_add(ok ? ok : &r->err_headers_out, "Content-Type", r->content_type);
    if (!r->dir)
        return;
    if (ok)
        pt_header_rules_apply(r->dir->headers, r->dir->nheaders, false, ok, r);
    pt_header_rules_apply(r->dir->headers, r->dir->nheaders, true, &r->err_headers_out, r);
}

/* A copy of t's entries (the strings are shared: tables never free them). */
static void table_copy(pt_table_t *dst, const pt_table_t *src, pt_arena_t *a)
{
    pt_table_init(dst, a, src->n ? src->n : 1);
    for (size_t i = 0; i < src->n; i++)
        pt_table_add(dst, src->v[i].name, src->v[i].value);
}

int pt_resp_start(pt_request_t *r, int status, int64_t len)
{
    if (r->head_sent || r->head)
        return PT_EINVAL;
    if (r->error_status && status == 200)
        status = r->error_status; /* a local ErrorDocument keeps the original status */
    r->status = status;
    /* Counted before the client can see the answer. */
    pt_sb_request_commit(r->sb_counters, &r->sb_counted, r->status, (int)r->method_id);
    if (!status_has_body(status))
        len = 0;
    decide_keepalive(r, len);

    bool theirs = r->backend && !r->error_page;
    if (theirs) {
        table_copy(&r->unstart_out, &r->headers_out, r->arena);
        table_copy(&r->unstart_err, &r->err_headers_out, r->arena);
    }
    apply_header_rules(r, status);
    pt_table_t h;
    pt_table_init(&h, r->arena, 16);
    /* A proxied answer keeps the backend's Date and Server, as Apache does: one of each.
     * A script's fields are in the always table by now (apply_header_rules). */
    if (!theirs || !(pt_table_get(&r->headers_out, "Date") ||
                     pt_table_get(&r->err_headers_out, "Date")))
        pt_table_add(&h, "Date", http_date_now());
    if (!theirs || !(pt_table_get(&r->headers_out, "Server") ||
                     pt_table_get(&r->err_headers_out, "Server")))
        pt_table_add(&h, "Server", server_banner(r->cfg->server_tokens));
    /* Apache's header filter overlays headers_out on err_headers_out: the always table's
     * fields go out first. */
    for (size_t i = 0; i < r->err_headers_out.n; i++)
        pt_table_add(&h, r->err_headers_out.v[i].name, r->err_headers_out.v[i].value);
    if (!r->error_page)
        for (size_t i = 0; i < r->headers_out.n; i++)
            pt_table_add(&h, r->headers_out.v[i].name, r->headers_out.v[i].value);
    /* Framing is the core's: rules and handlers cannot change it. */
    pt_table_unset(&h, "Content-Length");
    pt_table_unset(&h, "Transfer-Encoding");
    pt_table_unset(&h, "Connection");
    r->chunked_out = false;
    r->out_remaining = len;
    if (len >= 0) {
        if (status_has_body(status))
            pt_table_add(&h, "Content-Length", fmt_uint(r->arena, (uint64_t)len));
    } else if (r->proto_num >= 1001) {
        r->chunked_out = true;
        pt_table_add(&h, "Transfer-Encoding", "chunked");
    }
    if (!r->keepalive)
        pt_table_add(&h, "Connection", "close");
    else if (r->proto_num < 1001)
        pt_table_add(&h, "Connection", "Keep-Alive");

    /* Built with memcpy: this runs for every response, and printf is a tenth of it. */
    const char *reason = pt_http_reason(status);
    size_t rl = strlen(reason);
    size_t *nl = pt_arena_alloc(r->arena, 2 * h.n * sizeof(size_t));
    size_t n = 9 + 4 + rl + 2 + 2;
    for (size_t i = 0; i < h.n; i++) {
        nl[2 * i] = strlen(h.v[i].name);
        nl[2 * i + 1] = strlen(h.v[i].value);
        n += nl[2 * i] + nl[2 * i + 1] + 4;
    }
    char *p = pt_arena_alloc(r->arena, n);
    memcpy(p, "HTTP/1.1 ", 9);
    p[9] = (char)('0' + status / 100 % 10);
    p[10] = (char)('0' + status / 10 % 10);
    p[11] = (char)('0' + status % 10);
    p[12] = ' ';
    memcpy(p + 13, reason, rl);
    size_t o = 13 + rl;
    p[o++] = '\r';
    p[o++] = '\n';
    for (size_t i = 0; i < h.n; i++) {
        /* A value with CR or LF (from a rule or a backend) would split the response. */
        if (memchr(h.v[i].value, '\r', nl[2 * i + 1]) || memchr(h.v[i].value, '\n', nl[2 * i + 1]))
            continue;
        memcpy(p + o, h.v[i].name, nl[2 * i]);
        o += nl[2 * i];
        p[o++] = ':';
        p[o++] = ' ';
        memcpy(p + o, h.v[i].value, nl[2 * i + 1]);
        o += nl[2 * i + 1];
        p[o++] = '\r';
        p[o++] = '\n';
    }
    memcpy(p + o, "\r\n", 2);
    r->head = p;
    r->head_len = o + 2;
    if (r->header_only || !status_has_body(status)) {
        r->body_done = true; /* nothing of a body goes out */
        r->out_remaining = 0;
    }
    return 0;
}

int pt_resp_unstart(pt_request_t *r)
{
    if (r->head_sent)
        return PT_EINVAL;
    if (r->head && r->backend && !r->error_page) {
        r->headers_out = r->unstart_out;
        r->err_headers_out = r->unstart_err;
    }
    r->head = NULL;
    r->head_len = 0;
    r->chunked_out = false;
    r->body_done = false;
    r->out_remaining = -1;
    return 0;
}

static int64_t write_timeout(const pt_request_t *r)
{
    return r->vhost->timeout_ms > 0 ? r->vhost->timeout_ms : 60000;
}

static int flush_head(pt_request_t *r, const void *body, size_t n, bool more)
{
    struct iovec iov[2] = {{r->head, r->head_len}, {(void *)body, n}};
    int rc = pt_conn_writev(r->conn, iov, n ? 2 : 1, write_timeout(r), more);
    r->head = NULL;
    r->head_sent = true;
    return rc;
}

int pt_resp_write(pt_request_t *r, const void *p, size_t n)
{
    if (r->conn->aborted)
        return PT_ECLOSED;
    if (r->body_done || n == 0)
        return r->head ? flush_head(r, NULL, 0, false) : 0;
    r->bytes_sent += (int64_t)n;
    if (r->chunked_out) {
        char sz[24];
        int sl = snprintf(sz, sizeof(sz), "%zx\r\n", n);
        struct iovec iov[4];
        int c = 0;
        if (r->head)
            iov[c++] = (struct iovec){r->head, r->head_len};
        iov[c++] = (struct iovec){sz, (size_t)sl};
        iov[c++] = (struct iovec){(void *)p, n};
        iov[c++] = (struct iovec){"\r\n", 2};
        r->head = NULL;
        r->head_sent = true;
        return pt_conn_writev(r->conn, iov, c, write_timeout(r), false);
    }
    if (r->out_remaining >= 0) {
        if ((int64_t)n > r->out_remaining)
            n = (size_t)r->out_remaining; /* never send more than announced */
        r->out_remaining -= (int64_t)n;
    }
    if (r->head)
        return flush_head(r, p, n, false);
    struct iovec iov = {(void *)p, n};
    return pt_conn_writev(r->conn, &iov, 1, write_timeout(r), false);
}

/* The last piece of a response is a file range: send what the socket takes now, and if a
 * slow reader leaves some over, give the rest to the MPM with a dup of the file, so the
 * worker is free at once (the event MPM's write completion). */
static int hand_off_tail(pt_request_t *r, int fd, off_t off, off_t len)
{
    pt_conn_t *c = r->conn;
    off_t end = off + len;
    while (off < end) {
        ssize_t n = sendfile(c->fd, fd, &off, (size_t)PT_MIN(end - off, (off_t)1 << 30));
        if (n > 0 || (n < 0 && errno == EINTR))
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        c->aborted = true;
        return PT_ECLOSED;
    }
    r->bytes_sent += len;
    if (off == end)
        return 0;
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dfd < 0)
        return pt_conn_sendfile(c, fd, off, end - off, write_timeout(r));
    c->wc_fd = dfd;
    c->wc_off = off;
    c->wc_len = end - off;
    c->wc_timeout_ms = write_timeout(r);
    return 0;
}

int pt_resp_write_file(pt_request_t *r, int fd, off_t off, off_t len)
{
    if (r->conn->aborted)
        return PT_ECLOSED;
    if (r->body_done || len == 0)
        return r->head ? flush_head(r, NULL, 0, false) : 0;
    if (r->chunked_out) {
        /* Chunked framing around a file: size line, the file, CRLF. */
        char sz[24];
        int sl = snprintf(sz, sizeof(sz), "%llx\r\n", (unsigned long long)len);
        struct iovec iov[2];
        int c = 0;
        if (r->head)
            iov[c++] = (struct iovec){r->head, r->head_len};
        iov[c++] = (struct iovec){sz, (size_t)sl};
        r->head = NULL;
        r->head_sent = true;
        int rc = pt_conn_writev(r->conn, iov, c, write_timeout(r), true);
        if (rc == 0)
            rc = pt_conn_sendfile(r->conn, fd, off, len, write_timeout(r));
        struct iovec crlf = {"\r\n", 2};
        if (rc == 0)
            rc = pt_conn_writev(r->conn, &crlf, 1, write_timeout(r), false);
        if (rc == 0)
            r->bytes_sent += len;
        return rc;
    }
    if (r->out_remaining >= 0) {
        if (len > r->out_remaining)
            len = r->out_remaining;
        r->out_remaining -= len;
    }
    if (r->head && len <= PT_SMALL_BODY) {
        /* A small file goes out with the head in one writev: cheaper than a second
         * syscall through the splice machinery. */
        char *buf = pt_arena_alloc(r->arena, (size_t)len);
        if (pread(fd, buf, (size_t)len, off) == (ssize_t)len) {
            int rc = flush_head(r, buf, (size_t)len, false);
            if (rc == 0)
                r->bytes_sent += len;
            return rc;
        }
    }
    if (r->head) {
        int rc = flush_head(r, NULL, 0, true);
        if (rc != 0)
            return rc;
    }
    if (r->conn->async_write && !r->chunked_out && r->out_remaining == 0)
        return hand_off_tail(r, fd, off, len);
    int rc = pt_conn_sendfile(r->conn, fd, off, len, write_timeout(r));
    if (rc == 0)
        r->bytes_sent += len;
    return rc;
}

int pt_resp_finish(pt_request_t *r)
{
    int rc = 0;
    if (r->conn->aborted)
        return PT_ECLOSED;
    if (r->chunked_out && !r->body_done) {
        struct iovec iov[2];
        int c = 0;
        if (r->head)
            iov[c++] = (struct iovec){r->head, r->head_len};
        iov[c++] = (struct iovec){"0\r\n\r\n", 5};
        r->head = NULL;
        r->head_sent = true;
        rc = pt_conn_writev(r->conn, iov, c, write_timeout(r), false);
    } else if (r->head) {
        rc = flush_head(r, NULL, 0, false);
    }
    r->body_done = true;
    if (rc == 0 && r->out_remaining > 0) {
        /* The handler sent less than it announced: the client must see the truncation. */
        r->keepalive = false;
        r->conn->aborted = true;
        return PT_ECLOSED;
    }
    return rc;
}

int pt_resp_send(pt_request_t *r, int status, const char *type, const void *body, size_t n)
{
    if (type)
        r->content_type = type;
    int rc = pt_resp_start(r, status, (int64_t)n);
    if (rc == 0)
        rc = pt_resp_write(r, body, n);
    if (rc == 0)
        rc = pt_resp_finish(r);
    return rc;
}

static const char *error_explanation(pt_request_t *r, int status)
{
    switch (status) {
    case 301: case 302: case 303: case 307: case 308: {
        const char *loc = pt_table_get(&r->err_headers_out, "Location");
        if (!loc)
            loc = pt_table_get(&r->headers_out, "Location");
        return pt_arena_printf(r->arena, "The document has moved <a href=\"%s\">here</a>.",
                               pt_html_escape(r->arena, loc ? loc : ""));
    }
    case 400: return "Your browser sent a request that this server could not understand.";
    case 403: return "You don't have permission to access this resource.";
    case 404: return "The requested URL was not found on this server.";
    case 405: return "The requested method is not allowed for this URL.";
    case 408: return "Server timeout waiting for the HTTP request from the client.";
    case 410: return "The requested resource is no longer available on this server.";
    case 411: return "A request of the requested method requires a valid Content-length.";
    case 412: return "The precondition on the request for this URL evaluated to false.";
    case 413: return "The requested resource does not allow request data with this method, "
                     "or the amount of data provided in the request exceeds the capacity limit.";
    case 414: return "The requested URL's length exceeds the capacity limit for this server.";
    case 416: return "None of the range-specifier values in the Range request-header field "
                     "overlap the current extent of the selected resource.";
    case 417: return "The expectation given in the Expect request-header field could not be met.";
    case 431: return "The request's header fields exceed the size limits of this server.";
    case 501: return "The server does not support the action requested by the browser.";
    case 502: return "The proxy server received an invalid response from an upstream server.";
    case 503: return "The server is temporarily unable to service your request.";
    case 504: return "The gateway did not receive a timely response from the upstream server.";
    case 505: return "The server does not support the HTTP version used in the request.";
    default: return "The server encountered an internal error or misconfiguration and was "
                    "unable to complete your request.";
    }
}

/* ServerSignature, as Apache's ap_psignature: the banner ServerTokens allows, the name and
 * port Apache would write in a URL, and with EMail a link to ServerAdmin. */
static const char *signature(pt_request_t *r)
{
    int sig = r->vhost->server_signature;
    if (sig <= 0)
        return "";
    const char *banner = server_banner(r->cfg->server_tokens);
    const char *name = pt_html_escape(r->arena, pt_request_server_name(r));
    int port = pt_request_url_port(r);
    if (sig == 1)
        return pt_arena_printf(r->arena, "<hr>\n<address>%s Server at %s Port %d</address>\n",
                               banner, name, port);
    const char *admin = r->vhost->server_admin ? r->vhost->server_admin
                                               : "[no address given]";
    return pt_arena_printf(r->arena,
                           "<hr>\n<address>%s Server at <a href=\"%s%s\">%s</a> Port %d"
                           "</address>\n",
                           banner, strstr(admin, "://") ? "" : "mailto:",
                           pt_html_escape(r->arena, admin), name, port);
}

static const pt_errordoc_t *find_errordoc(const pt_request_t *r, int status)
{
    if (!r->dir)
        return NULL;
    for (size_t i = 0; i < r->dir->nerrordocs; i++)
        if (r->dir->errordocs[i].status == status)
            return &r->dir->errordocs[i];
    return NULL;
}

int pt_resp_send_error(pt_request_t *r, int status)
{
    if (r->head_sent || r->head) {
        /* Too late for an error page: the client sees a cut response. */
        r->keepalive = false;
        r->conn->aborted = true;
        return PT_ECLOSED;
    }
    int64_t lim = r->dir ? r->dir->limit_request_body : -1;
    if (r->has_body && !r->body_eof && lim > 0 && r->content_length > lim && status != 413) {
        /* A body over this location's LimitRequestBody is refused whatever the handler
         * said, as Apache's input filter does. */
        pt_log_rerror(PT_LOG_ERR, r, "Requested content-length of %lld is larger than the "
                      "configured limit of %lld", (long long)r->content_length, (long long)lim);
        status = 413;
        r->keepalive = false;
    }
    if (r->has_body && !r->body_eof && !r->body_error && status != 413 && r->keepalive) {
        /* Read the unread body now, as Apache does before an error page: a broken body
         * makes the answer a 400, and one we cannot drain closes the connection. */
        int rc = pt_req_discard_body(r);
        if (rc != 0) {
            r->keepalive = false;
            if (r->body_error && !r->conn->aborted && r->body_status) {
                status = r->body_status;
                pt_table_unset(&r->err_headers_out, "Allow"); /* only a 405 carries it */
            }
        }
    }
    if (r->conn->aborted)
        return PT_ECLOSED;
    const pt_errordoc_t *ed = r->error_status ? NULL : find_errordoc(r, status);
    r->error_page = true;
    r->content_type = NULL;
    if (ed && ed->value[0] == '/') {
        /* Local document: served by its own handler, with the original status. */
        r->error_status = status;
        pt_table_set(&r->env, "REDIRECT_STATUS", pt_arena_printf(r->arena, "%d", status));
        if (r->method_id != PT_METHOD_GET && r->method_id != PT_METHOD_HEAD) {
            /* As Apache's ap_die: the document is fetched with GET whatever the method
             * (a POST would find a static page refusing it); a script sees the original
             * as REDIRECT_REQUEST_METHOD. */
            pt_table_set(&r->env, "REDIRECT_REQUEST_METHOD", r->method);
            r->method = "GET";
            r->method_id = PT_METHOD_GET;
        }
        r->error_page = false;
        pt_table_unset(&r->headers_out, "Content-Type");
        int rc = pt_request_internal_redirect(r, ed->value);
        if (rc > 0) { /* the document itself failed: plain page for the original status */
            r->error_page = true;
            r->error_status = 0;
            ed = NULL;
        } else {
            return rc;
        }
    }
    if (ed && strstr(ed->value, "://")) {
        pt_table_set(&r->err_headers_out, "Location", ed->value);
        status = 302;
    } else if (ed) {
        return pt_resp_send(r, status, "text/html; charset=iso-8859-1", ed->value,
                            strlen(ed->value));
    }
    const char *reason = pt_http_reason(status);
    char *body = pt_arena_printf(r->arena,
        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n"
        "<title>%d %s</title>\n</head><body>\n<h1>%s</h1>\n<p>%s</p>\n%s</body></html>\n",
        status, reason, reason, error_explanation(r, status), signature(r));
    return pt_resp_send(r, status, "text/html; charset=iso-8859-1", body, strlen(body));
}
