/* The response writer, protocol-neutral: the status, the header fields (Header rules, Date
 * cached per second, Server per ServerTokens), keep-alive and the body length decision,
 * bodies from memory or files, and the error pages (ErrorDocument). The bytes go out
 * through the request's protocol operations (r->proto): the status line, framing and the
 * socket are the protocol's (src/http1/h1_output.c for HTTP/1). */
#include "compress.h"
#include "conn.h"
#include "expires.h"
#include "headers.h"
#include "httpdate.h"
#include "log.h"
#include "mpm/scoreboard.h"
#include "request.h"
#include "uri.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *http_date_now(void)
{
    /* Each thread keeps its own copy: no lock, refreshed once a second. */
    static __thread time_t last;
    static __thread char buf[40];
    time_t now = time(NULL);
    if (now != last) {
        pt_http_date_format(buf, sizeof(buf), now);
        last = now;
    }
    return buf;
}

/* Full ends as Apache's does with mod_ssl loaded: the TLS library in use as a product token,
 * "OpenSSL/3.0.19" (mod_ssl's SSL_VERSION_LIBRARY), not OPENSSL_VERSION_TEXT, whose date words
 * are not product tokens and which names the headers built against. */
static char banner_full[96];
static pthread_once_t banner_full_once = PTHREAD_ONCE_INIT;
static atomic_bool banner_full_made; /* (read first: pthread_once is a call per response) */

static void banner_full_make(void)
{
    snprintf(banner_full, sizeof(banner_full), "portico/%s (Unix) OpenSSL/%s", PORTICO_VERSION,
             OpenSSL_version(OPENSSL_VERSION_STRING));
    atomic_store_explicit(&banner_full_made, true, memory_order_release);
}

static const char *server_banner(int tokens)
{
    switch (tokens) {
    case 0: return "portico";
    case 1: return "portico/" "0";
    case 2: return "portico/0.1";
    case 3: return "portico/" PORTICO_VERSION;
    case 4: return "portico/" PORTICO_VERSION " (Unix)";
    default:
        if (!atomic_load_explicit(&banner_full_made, memory_order_acquire))
            pthread_once(&banner_full_once, banner_full_make);
        return banner_full;
    }
}

const char *pt_server_banner(int tokens)
{
    return server_banner(tokens);
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
    else if (!r->proto->keep_alive(r, len))
        r->keepalive = false; /* the protocol's own rule (HTTP/1.0: a close ends the body) */
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
    if (r->content_type && pt_status_has_body(status) &&
        !(ok && pt_table_get(ok, "Content-Type")) &&
        !pt_table_get(&r->err_headers_out, "Content-Type"))
        pt_table_add(ok ? ok : &r->err_headers_out, "Content-Type", r->content_type);
    if (!r->dir)
        return;
    if (ok) /* mod_expires' filter runs before mod_headers' fixups: Header sees its fields */
        pt_expires_apply(r, status, ok);
    /* Most configs have no Header rule: two calls that find none cost about 75 instructions
     * a response. */
    if (!r->dir->nheaders)
        return;
    if (ok)
        pt_header_rules_apply(r->dir->headers, r->dir->nheaders, false, false, ok, r, NULL);
    pt_header_rules_apply(r->dir->headers, r->dir->nheaders, true, false, &r->err_headers_out, r,
                          NULL);
}

/* A copy of t's entries (the strings are shared: tables never free them). */
static void table_copy(pt_table_t *dst, const pt_table_t *src, pt_arena_t *a)
{
    pt_table_init(dst, a, src->n ? src->n : 1);
    pt_table_add_all(dst, src);
}

/* Takes Content-Length, Transfer-Encoding and Connection out of h's entries from the first
 * on, in one pass (by length first: three pt_table_unset scans were 3% of a proxied
 * request's user-space work). */
static void drop_framing(pt_table_t *h, size_t first)
{
    size_t j = first;
    for (size_t i = first; i < h->n; i++) {
        const char *name = h->v[i].name;
        /* The three names start with C or T: most names are let through on that. */
        unsigned char c0 = (unsigned char)(name[0] | 0x20);
        size_t n = c0 == 'c' || c0 == 't' ? strlen(name) : 0;
        bool framing = (n == 14 && strcasecmp(name, "Content-Length") == 0) ||
                       (n == 17 && strcasecmp(name, "Transfer-Encoding") == 0) ||
                       (n == 10 && strcasecmp(name, "Connection") == 0);
        /* Nothing moves before the first framing field (usually there is none). */
        if (!framing && j++ != i)
            h->v[j - 1] = h->v[i];
    }
    h->n = j;
}

/* The head's fields: the Header rules applied, Date and Server, and neither table's framing
 * fields (the length decision and the connection's fate are the core's and the protocol's,
 * whatever rules and handlers said). */
static pt_table_t *head_fields(pt_request_t *r, int status)
{
    bool theirs = r->backend && !r->error_page;
    if (theirs) {
        table_copy(&r->unstart_out, &r->headers_out, r->arena);
        table_copy(&r->unstart_err, &r->err_headers_out, r->arena);
    }
    apply_header_rules(r, status);
    pt_table_t *h = pt_arena_alloc(r->arena, sizeof(*h));
    pt_table_init(h, r->arena, 16);
    /* A proxied answer keeps the backend's Date and Server, as Apache does: one of each.
     * A script's fields are in the always table by now (apply_header_rules). */
    if (!theirs || !(pt_table_get(&r->headers_out, "Date") ||
                     pt_table_get(&r->err_headers_out, "Date")))
        pt_table_add(h, "Date", http_date_now());
    if (!theirs || !(pt_table_get(&r->headers_out, "Server") ||
                     pt_table_get(&r->err_headers_out, "Server")))
        pt_table_add(h, "Server", server_banner(r->cfg->server_tokens));
    /* Apache's header filter overlays headers_out on err_headers_out: the always table's
     * fields go out first. */
    size_t ours = h->n; /* Date and Server, no framing field among them */
    pt_table_add_all(h, &r->err_headers_out);
    if (!r->error_page)
        pt_table_add_all(h, &r->headers_out);
    /* Framing is the core's: rules and handlers cannot change it. */
    drop_framing(h, ours);
    return h;
}

/* Body bytes as they go to the protocol (past the encoder, which writes with this too). */
static int write_raw(pt_request_t *r, const void *p, size_t n)
{
    r->bytes_sent += (int64_t)n;
    if (r->out_remaining >= 0) {
        if ((int64_t)n > r->out_remaining)
            n = (size_t)r->out_remaining; /* never send more than announced */
        r->out_remaining -= (int64_t)n;
    }
    /* One buffer on the stack: the bytes are the handler's, not copied. */
    pt_buf_t b = {.p = p, .fd = -1, .len = n};
    pt_chain_t body;
    pt_chain_init(&body);
    pt_chain_append(&body, &b);
    return r->proto->send_body(r, &body);
}

int pt_resp_start(pt_request_t *r, int status, int64_t len)
{
    if (r->head_built)
        return PT_EINVAL;
    if (r->error_status && status == 200)
        status = r->error_status; /* a local ErrorDocument keeps the original status */
    r->status = status;
    /* Counted before the client can see the answer. */
    pt_sb_request_commit(r->sb_counters, &r->sb_counted, r->status, (int)r->method_id);
    if (!pt_status_has_body(status))
        len = 0;
    pt_table_t *fields = head_fields(r, status);
    pt_compress_start(r, status, fields, &len, write_raw); /* may drop the length */
    decide_keepalive(r, len);
    pt_resp_head_t head = {status, fields, len < 0 ? -1 : len,
                           r->header_only || !pt_status_has_body(status)};
    r->out_remaining = head.length;
    int rc = r->proto->send_head(r, &head);
    if (rc != 0)
        return rc;
    r->head_built = true;
    if (head.no_body) {
        r->body_done = true; /* nothing of a body goes out */
        r->out_remaining = 0;
    }
    return 0;
}

int pt_resp_unstart(pt_request_t *r)
{
    if (r->head_sent)
        return PT_EINVAL;
    if (r->head_built && r->backend && !r->error_page) {
        r->headers_out = r->unstart_out;
        r->err_headers_out = r->unstart_err;
    }
    r->head_built = false;
    r->body_done = false;
    r->out_remaining = -1;
    r->compress = NULL;
    return 0;
}

/* Sends a head the protocol still holds (nothing else to send with it). */
static int flush_head(pt_request_t *r)
{
    return r->head_built && !r->head_sent ? r->proto->send_body(r, NULL) : 0;
}

int pt_resp_write(pt_request_t *r, const void *p, size_t n)
{
    if (r->conn->aborted)
        return PT_ECLOSED;
    if (r->body_done || n == 0)
        return flush_head(r);
    if (pt_compress_active(r))
        return pt_compress_write(r, p, n);
    return write_raw(r, p, n);
}

int pt_resp_write_file(pt_request_t *r, int fd, off_t off, off_t len)
{
    if (r->conn->aborted)
        return PT_ECLOSED;
    if (r->body_done || len == 0)
        return flush_head(r);
    if (pt_compress_active(r))
        return pt_compress_write_file(r, fd, off, len);
    if (r->out_remaining >= 0) {
        if (len > r->out_remaining)
            len = r->out_remaining;
        r->out_remaining -= len;
    }
    int rc = r->proto->send_file(r, fd, off, len, r->out_remaining == 0);
    if (rc == 0)
        r->bytes_sent += len;
    return rc;
}

int pt_resp_finish(pt_request_t *r)
{
    if (r->conn->aborted)
        return PT_ECLOSED;
    int rc = pt_compress_active(r) && !r->body_done ? pt_compress_finish(r) : 0;
    if (rc != 0)
        return rc;
    rc = r->proto->finish(r);
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

/* The error a local ErrorDocument was for, or the first of a chain of them (mod_rewrite may
 * answer a document with another error, which has its own): what is answered when a document
 * fails, as Apache's ap_die answers for the first failing request. */
typedef struct {
    int status;
    const pt_dir_config_t *dir;
    const char *location;
} error_origin_t;

static int send_error_page(pt_request_t *r, int status, const error_origin_t *origin);

/* A local document, served by its own handler with the status it is for. *failed: it could
 * not be, and r is set back to answer with origin's plain page. */
static int send_local_document(pt_request_t *r, int status, const char *uri,
                               const error_origin_t *origin, bool *failed)
{
    pt_request_keep_original(r, status); /* before the method and query change */
    r->error_status = status;
    pt_table_set(&r->env, "REDIRECT_STATUS", pt_arena_printf(r->arena, "%d", status));
    /* As Apache's ap_die: a script sees the original method as REDIRECT_REQUEST_METHOD, a
     * GET's too, and the document is fetched with GET whatever the method (a POST would find
     * a static page refusing it). */
    pt_table_set(&r->env, "REDIRECT_REQUEST_METHOD", r->method);
    if (r->method_id != PT_METHOD_GET && r->method_id != PT_METHOD_HEAD) {
        r->method = "GET";
        r->method_id = PT_METHOD_GET;
    }
    /* Apache's internal redirect takes the query from the document's URL alone: a script
     * sees QUERY_STRING empty (or the ErrorDocument's own) and the original as
     * REDIRECT_QUERY_STRING, set only when there was one (util_script.c). */
    if (r->args)
        pt_table_set(&r->env, "REDIRECT_QUERY_STRING", r->args);
    r->args = NULL;
    r->error_page = false;
    pt_table_unset(&r->headers_out, "Content-Type");
    r->rewrite_answered = false;
    int rc = pt_request_internal_redirect(r, uri);
    if (rc <= 0)
        return rc;
    r->error_status = 0;
    if (r->rewrite_answered) {
        /* mod_rewrite answered the document's request: a new error of that request, as
         * Apache's ap_die sees it (request.h): the redirect with the rule's Location, or the
         * rule's status with the document's config's ErrorDocument for it. The internal
         * redirect bound ends a chain of them. */
        return send_error_page(r, rc, origin);
    }
    /* The document itself failed: the plain page for the original status, made with the
     * original request's config (its Header always rules, its ServerSignature). A Redirect
     * the document met is not sent: mod_alias sets its Location in the document request's
     * headers_out. */
    *failed = true;
    r->dir = origin->dir;
    r->error_page = true;
    if (origin->location)
        pt_table_set(&r->err_headers_out, "Location", origin->location);
    else
        pt_table_unset(&r->err_headers_out, "Location");
    return 0;
}

static int send_error_page(pt_request_t *r, int status, const error_origin_t *origin)
{
    const pt_errordoc_t *ed = r->error_status ? NULL : find_errordoc(r, status);
    r->error_page = true;
    r->content_type = NULL;
    int doc_failed = 0; /* the status the failed document's request was for */
    if (ed && ed->value[0] == '/') {
        error_origin_t self = {status, r->dir, pt_table_get(&r->err_headers_out, "Location")};
        if (!origin)
            origin = &self;
        bool failed = false;
        int rc = send_local_document(r, status, ed->value, origin, &failed);
        if (!failed)
            return rc;
        doc_failed = status;
        status = origin->status;
        ed = NULL;
    }
    if (ed && strstr(ed->value, "://")) {
        pt_table_set(&r->err_headers_out, "Location", ed->value);
        status = 302;
    } else if (ed) {
        return pt_resp_send(r, status, "text/html; charset=iso-8859-1", ed->value,
                            strlen(ed->value));
    }
    const char *reason = pt_http_reason(status);
    /* Apache's ap_send_error_response names the status of the document's request (the one
     * it was fetched for, not what made it fail) when the document could not be used. */
    const char *also =
        doc_failed ? pt_arena_printf(r->arena,
                                     "<p>Additionally, a %d %s\nerror was encountered while "
                                     "trying to use an ErrorDocument to handle the request."
                                     "</p>\n",
                                     doc_failed, pt_http_reason(doc_failed))
                   : "";
    char *body = pt_arena_printf(
        r->arena,
        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n"
        "<title>%d %s</title>\n</head><body>\n<h1>%s</h1>\n<p>%s</p>\n%s%s</body></html>\n",
        status, reason, reason, error_explanation(r, status), also, signature(r));
    return pt_resp_send(r, status, "text/html; charset=iso-8859-1", body, strlen(body));
}

int pt_resp_send_error(pt_request_t *r, int status)
{
    if (r->head_built) {
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
    r->compress = NULL; /* a file the static handler offered is not this page's body */
    return send_error_page(r, status, NULL);
}
