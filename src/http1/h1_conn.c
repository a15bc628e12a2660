/* The HTTP/1.1 connection driver a worker runs: read, parse the head, build the request
 * (the neutral fields from the head, and r->proto = pt_h1_proto), route and answer it, log
 * it, then serve the next pipelined request or hand the connection back to the listener. */
#include "h1_conn.h"
#include "accesslog.h"
#include "conn.h"
#include "h1.h"
#include "log.h"
#include "mpm/scoreboard.h"
#include "remoteip.h"
#include "request.h"
#include "tls.h"
#include "uri.h"
#include "walk.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>

/* Largest request head the limits allow (line + fields + CRLFs), the read buffer's bound. */
static size_t head_max(const pt_vhost_t *vh)
{
    return vh->limit_request_line + 2 +
           vh->limit_request_fields * (vh->limit_request_field_size + 2) + 2;
}

static char *sdup(pt_arena_t *a, pt_str_t s)
{
    return pt_arena_strndup(a, s.p ? s.p : "", s.len);
}

/* mono_us: the monotonic clock as read when the head's bytes came, with no wait since (the
 * request starts then), else 0 (read it now). */
static pt_request_t *request_new(pt_worker_t *w, pt_conn_t *c, const pt_http1_request_t *h,
                                 int64_t mono_us)
{
    pt_request_t *r = pt_arena_calloc(w->arena, sizeof(*r));
    r->arena = w->arena;
    r->conn = c;
    r->cfg = c->cfg;
    r->vhost = c->cfg->main_server;
    r->dir = r->vhost->dir;
    r->scheme = pt_tls_active(c) ? "https" : "http";
    r->protocol = "HTTP/1.1";
    r->proto_num = 1001;
    r->content_length = -1;
    r->start_wall_us = pt_wall_us();
    r->start_mono_us = mono_us > 0 ? mono_us : pt_mono_us();
    pt_table_init(&r->headers_out, w->arena, 8);
    pt_table_init(&r->err_headers_out, w->arena, 4);
    pt_table_init(&r->env, w->arena, 8);
    pt_h1_attach(r, h);
    return r;
}

const pt_proto_ops_t pt_h1_proto = {
    .name = "HTTP/1.1",
    .keep_alive = pt_h1_keep_alive,
    .send_head = pt_h1_send_head,
    .send_body = pt_h1_send_body,
    .send_file = pt_h1_send_file,
    .finish = pt_h1_finish,
    .read_body = pt_h1_read_body,
};

pt_h1_req_t *pt_h1_attach(pt_request_t *r, const pt_http1_request_t *head)
{
    pt_h1_req_t *h1 = pt_arena_calloc(r->arena, sizeof(*h1));
    h1->head = head;
    pt_chunked_init(&h1->chunk);
    if (head) {
        h1->body_left = head->content_length > 0 ? head->content_length : 0;
        r->expects_continue = head->expect_continue;
        r->head_bytes_in = (int64_t)head->head_len;
    }
    r->proto = &pt_h1_proto;
    r->proto_ctx = h1;
    return h1;
}

/* The request line as sent, for logs: up to the first CR or LF. */
static const char *first_line(pt_arena_t *a, const char *p, size_t len)
{
    while (len && (*p == '\r' || *p == '\n'))
        p++, len--;
    const char *cr = memchr(p, '\r', len), *lf;
    size_t n = cr ? (size_t)(cr - p) : len;
    if ((lf = memchr(p, '\n', n)) != NULL)
        n = (size_t)(lf - p);
    return pt_arena_strndup(a, p, PT_MIN(n, (size_t)8192));
}

/* The same for a parsed head, without a scan: the parser took method SP target SP
 * "HTTP/x.y" CRLF exactly, none of it CR or LF, so the line is those bytes. */
static const char *parsed_line(pt_arena_t *a, const pt_http1_request_t *h)
{
    size_t n = (size_t)(h->target.p + h->target.len - h->method.p) + 9;
    return pt_arena_strndup(a, h->method.p, PT_MIN(n, (size_t)8192));
}

/* The name of a method the parser knew (it matched these bytes exactly), else NULL. */
static const char *known_method(pt_method_t id)
{
    switch (id) {
    case PT_METHOD_GET: return "GET";
    case PT_METHOD_HEAD: return "HEAD";
    case PT_METHOD_POST: return "POST";
    case PT_METHOD_PUT: return "PUT";
    case PT_METHOD_DELETE: return "DELETE";
    case PT_METHOD_OPTIONS: return "OPTIONS";
    case PT_METHOD_TRACE: return "TRACE";
    case PT_METHOD_CONNECT: return "CONNECT";
    case PT_METHOD_PATCH: return "PATCH";
    default: return NULL;
    }
}

/* The header fields into r->headers_in as NUL-terminated strings: the field lines are
 * copied once, in one piece, and each name and value ends with a NUL written over the
 * byte after it (the colon, OWS or the CR; never a byte of another name or value): one
 * copy for the fields, not two per field. */
static void fill_headers(pt_request_t *r, const pt_http1_request_t *h)
{
    pt_arena_t *a = r->arena;
    pt_table_init(&r->headers_in, a, h->nheaders + 4);
    if (h->nheaders == 0)
        return;
    const pt_header_t *last = &h->headers[h->nheaders - 1];
    const char *base = h->headers[0].name.p;
    size_t span = (size_t)(last->value.p + last->value.len - base);
    char *copy = pt_arena_alloc(a, span + 1);
    memcpy(copy, base, span);
    for (size_t i = 0; i < h->nheaders; i++) {
        const pt_header_t *f = &h->headers[i];
        char *name = copy + (f->name.p - base), *value = copy + (f->value.p - base);
        name[f->name.len] = '\0';
        value[f->value.len] = '\0';
        pt_table_add(&r->headers_in, name, value);
    }
}

static void fill_from_head(pt_request_t *r, const pt_http1_request_t *h)
{
    pt_arena_t *a = r->arena;
    const char *method = known_method(h->method_id);
    r->method = method ? method : sdup(a, h->method);
    r->method_id = h->method_id;
    char *target = sdup(a, h->target);
    r->unparsed_uri = target;
    /* The query is the target's tail (the parser split it off the target's end). */
    r->args = h->query.p ? target + (h->query.p - h->target.p) : NULL;
    r->proto_num = h->version == 10 ? 1000 : 1001;
    r->protocol = h->version == 10 ? "HTTP/1.0" : "HTTP/1.1";
    r->header_only = h->method_id == PT_METHOD_HEAD;
    r->keepalive = h->keep_alive;
    r->content_length = h->chunked ? -1 : h->content_length;
    r->has_body = h->chunked || h->content_length > 0;
    fill_headers(r, h);
    if (h->host.len) {
        /* Host without the port, lower case: what ServerName/ServerAlias are matched on. */
        size_t n = h->host.len;
        const char *p = h->host.p, *end = p + n, *colon;
        if (p[0] == '[') {
            const char *rb = memchr(p, ']', n);
            n = rb ? (size_t)(rb - p + 1) : n;
            colon = memchr(p + n, ':', h->host.len - n);
        } else {
            colon = memchr(p, ':', n);
            if (colon)
                n = (size_t)(colon - p);
        }
        while (n && p[n - 1] == '.')
            n--; /* "example.com." names the same host */
        if (colon) {
            /* The slice is not NUL-terminated: no atoi. The parser checked the digits. */
            int port = 0;
            for (const char *q = colon + 1; q < end && port < 65536; q++)
                port = port * 10 + (*q - '0');
            r->host_port = port < 65536 ? port : 0;
        }
        char *host = pt_arena_alloc(a, n + 1);
        for (size_t i = 0; i < n; i++) /* the C locale's tolower: ASCII only */
            host[i] = p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] | 0x20) : p[i];
        host[n] = '\0';
        r->hostname = host;
    }
}

/* Answers a request whose head was fine: vhost, URI, handler. Returns what it came to:
 * PT_DONE, a status for the error page (handle_end), or PT_SUSPENDED. */
static int handle(pt_request_t *r)
{
    pt_conn_t *c = r->conn;
    const pt_http1_request_t *h = ((pt_h1_req_t *)r->proto_ctx)->head;
    r->vhost = pt_config_vhost_for(c->cfg, &c->local.sa, r->hostname);
    r->dir = r->vhost->dir;
    pt_remoteip_apply(r); /* Apache's post_read_request: the client behind trusted proxies */
    int st;
    if (r->has_body && r->content_length > 0 && r->vhost->dir->limit_request_body > 0 &&
        r->content_length > r->vhost->dir->limit_request_body) {
        pt_log_rerror(PT_LOG_ERR, r, "Requested content-length of %lld is larger than the "
                      "configured limit of %lld", (long long)r->content_length,
                      (long long)r->vhost->dir->limit_request_body);
        r->keepalive = false;
        st = 413;
    } else if (pt_tls_sni_missing_strict(c, r->vhost)) {
        pt_log_rmerror("ssl", PT_LOG_ERR, r, "AH02033: No hostname was provided via SNI for "
                       "a name based virtual host");
        st = 403;
    } else if (!pt_tls_vhost_ok(c, r->vhost)) {
        pt_log_rerror(PT_LOG_INFO, r, "Hostname %s provided via SNI and hostname %s provided "
                      "via HTTP have no compatible SSL setup: 421",
                      pt_tls_sni_name(c) ? pt_tls_sni_name(c) : "(none)",
                      r->hostname ? r->hostname : "(none)");
        st = 421;
    } else if (h->path.len == 1 && h->path.p[0] == '*') {
        r->uri = "*";
        if (r->method_id == PT_METHOD_OPTIONS) {
            pt_table_set(&r->headers_out, "Allow", "GET,HEAD,POST,OPTIONS");
            st = pt_resp_send(r, 200, NULL, "", 0);
        } else {
            st = 400;
        }
    } else if ((st = pt_uri_normalize_for(r->arena, r->vhost, h->path.p, h->path.len,
                                          &r->uri)) != 0) {
        r->uri = r->unparsed_uri;
        pt_log_rerror(PT_LOG_INFO, r, "invalid URI path (%s)", r->unparsed_uri);
    } else if (r->method_id == PT_METHOD_TRACE && !r->vhost->trace_enable) {
        pt_table_set(&r->err_headers_out, "Allow", "GET,HEAD,POST,OPTIONS");
        st = 405;
    } else if (r->method_id == PT_METHOD_CONNECT) {
        st = 405;
    } else {
        /* Under the event MPM a handler may park the request while its backend works. */
        r->may_suspend = c->async_write;
        st = pt_request_route(r);
        r->may_suspend = false;
    }
    return st;
}

/* The error page, or the end of the response the handler left open. */
static void handle_end(pt_request_t *r, int st)
{
    pt_conn_t *c = r->conn;
    if (st > 0)
        pt_resp_send_error(r, st);
    else if (!c->aborted && !r->body_done)
        pt_resp_finish(r);
    /* No answer went out because the body failed and the client is gone: log what the body
     * called for (400 closed mid-body, 408 timed out), as Apache does, not status 0. */
    if (r->status == 0 && r->body_error && r->body_status)
        r->status = r->body_status;
}

/* A head that could not be parsed: answer with the status and close (framing is in
 * doubt, so nothing after it on this connection can be trusted). */
static void reject(pt_worker_t *w, pt_conn_t *c, int status)
{
    pt_request_t *r = request_new(w, c, NULL, 0);
    r->the_request = first_line(r->arena, c->rbuf + c->rpos, c->rlen - c->rpos);
    r->method = "-";
    r->uri = "-";
    r->keepalive = false;
    pt_log_rerror(PT_LOG_INFO, r, "request rejected with %d: %s", status, r->the_request);
    pt_resp_send_error(r, status);
    pt_log_access(r);
}

/* Sends a canned error without a request (the listener's 408 on a stalled head). */
void pt_conn_send_status(pt_conn_t *c, int status)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status,
                     pt_http_reason(status));
    struct iovec iov = {buf, (size_t)n};
    (void)pt_conn_writev_some(c, &iov, 1, false);
}

/* After the answer (st, the handler's result): counted, logged; whether the connection may
 * serve another request. */
static bool serve_end(pt_worker_t *w, pt_conn_t *c, pt_request_t *r, int st)
{
    handle_end(r, st);
    c->requests++;
    c->keepalive_ms = r->vhost->keepalive_timeout_ms;
    pt_log_access(r);
    /* The end's one clock read, after the log (whose write may wait): the scoreboard's
     * duration and last use, and where an idle keep-alive wait starts (after_request). */
    int64_t end_us = pt_mono_us(), dur = end_us - r->start_mono_us;
    pt_sb_request_end(w->sb, w->sb_counters, r->sb_counted && r->sb_counters == w->sb_counters,
                      r->status, (int)r->method_id, r->bytes_sent, dur, r->start_wall_us + dur);
    c->idle_from_ms = end_us / 1000;
    return r->keepalive && !c->aborted && !r->body_error;
}

/* Serves the head at the start of the buffer (mono_us: as for request_new). Returns 1 when
 * the connection may serve another request, 0 when it must not, -1 when the handler parked
 * the request (*parked). */
static int serve_one(pt_worker_t *w, pt_conn_t *c, pt_http1_request_t *h, int64_t mono_us,
                     pt_request_t **parked)
{
    pt_request_t *r = request_new(w, c, h, mono_us);
    r->the_request = parsed_line(r->arena, h);
    fill_from_head(r, h);
    c->rpos += h->head_len;
    c->head_start_ms = 0;
    c->head_bytes = 0;
    r->sb_counters = w->sb_counters;
    pt_sb_request_begin(w->sb, r->the_request, pt_request_client_ip(r), r->vhost->server_name,
                        r->start_wall_us);
    int st = handle(r);
    if (st == PT_SUSPENDED) {
        *parked = r;
        return -1;
    }
    return serve_end(w, c, r, st);
}

/* ---- A request parked while its backend works (event MPM) ----------------------------- */

/* The connection closes before the request resumed (a child's forced exit): the handler
 * gives back what it holds, and the request's arena goes. */
static void abandon_parked(pt_conn_t *c)
{
    pt_request_t *r = c->susp;
    c->susp = NULL;
    if (r->suspend && r->suspend->abandon)
        r->suspend->abandon(r, r->suspend->ctx);
    pt_arena_destroy(r->arena);
}

/* Parks r (its handler returned PT_SUSPENDED): the listener watches the backend's socket
 * alone (the client's is left disarmed: a worker holds the connection until now), the
 * request keeps its arena, and this worker goes on with a spare one. */
static pt_conn_next_t park_request(pt_worker_t *w, pt_conn_t *c, pt_request_t *r)
{
    const pt_suspend_t *s = r->suspend;
    /* The parsed head was on pt_conn_serve's stack: the request keeps a copy (its slices
     * point into c->rbuf, which stays). */
    pt_h1_req_t *h1 = r->proto_ctx;
    if (h1->head) {
        pt_http1_request_t *head = pt_arena_alloc(r->arena, sizeof(*head));
        *head = *h1->head;
        h1->head = head;
    }
    c->susp = r;
    c->susp_abandon = abandon_parked;
    c->park.fd2 = s->fd;
    c->park.events2 = EPOLLIN | EPOLLRDHUP;
    c->park.in_epoll2 = true; /* borrowed: registered already, unless new (net/task.h) */
    c->park.reg2 = s->reg;
    c->park.skip_fd = true;
    c->park.deadline_ms = s->deadline_ms;
    w->arena = pt_arena_spare_take(r->arena);
    return PT_NEXT_PARK_UPSTREAM;
}

/* The backend answered (or its deadline passed): this worker adopts the request's arena and
 * the handler goes on where it stopped. As serve_one. */
static int resume_request(pt_worker_t *w, pt_conn_t *c, pt_request_t **parked)
{
    pt_request_t *r = c->susp;
    pt_suspend_t s = *r->suspend;
    bool timed_out = c->park.timed_out;
    c->susp = NULL;
    r->suspend = NULL;
    c->park.fd2 = -1; /* the backend's socket goes back to its holder (net/task.h) */
    c->park.events2 = 0;
    c->park.in_epoll2 = false;
    c->park.reg2 = NULL;
    c->park.skip_fd = false;
    pt_arena_spare_give(w->arena);
    w->arena = r->arena;
    pt_sb_request_begin(w->sb, r->the_request, pt_request_client_ip(r), r->vhost->server_name,
                        r->start_wall_us);
    int st = s.resume(r, s.ctx, timed_out);
    if (st == PT_SUSPENDED) {
        *parked = r;
        return -1;
    }
    return serve_end(w, c, r, st);
}

static pt_conn_next_t after_close_decision(pt_conn_t *c)
{
    return c->aborted ? PT_NEXT_CLOSE : PT_NEXT_LINGER;
}

const pt_h1_handoff_t *pt_h1_handoff;

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24

/* Whether the first bytes of a connection are HTTP/2's preface: 1 all of it, 0 a part of
 * it so far (wait for more before parsing: its first 18 bytes are a complete HTTP/1
 * head), -1 not it. */
static int preface_match(const pt_conn_t *c)
{
    size_t n = PT_MIN(c->rlen - c->rpos, (size_t)H2_PREFACE_LEN);
    if (memcmp(c->rbuf + c->rpos, H2_PREFACE, n) != 0)
        return -1;
    return n == H2_PREFACE_LEN ? 1 : 0;
}

/* After a request served (keep: serve_one's 1 or 0): what the connection does next, into
 * *next; false when the next pipelined head is there to serve. */
static bool after_request(pt_worker_t *w, pt_conn_t *c, bool keep, pt_conn_next_t *next)
{
    /* serve_end's clock read stands for "now" only until something may wait: it is kept
     * for a keep-alive park straight from here, and dropped on every other way. */
    int64_t end_ms = c->idle_from_ms;
    c->idle_from_ms = 0;
    /* The handler switched the connection's protocol (a tunnel after 101), and the request
     * is logged: the new driver goes on from here. */
    if (c->proto->serve_worker != pt_conn_serve)
        return *next = c->proto->serve_worker(w, c), true;
    if (c->wc_len > 0) {
        c->wc_keepalive = keep;
        return *next = PT_NEXT_WRITE, true;
    }
    if (!keep)
        return *next = after_close_decision(c), true;
    /* Nothing pipelined: park at once. A read here would almost always find nothing yet
     * (the client is still reading our response) and cost a syscall per request; the epoll
     * event brings the next request. */
    if (c->rpos >= c->rlen) {
        c->idle_from_ms = end_ms;
        return *next = PT_NEXT_PARK_KEEPALIVE, true;
    }
    /* The next head has started: its RequestReadTimeout runs from now. */
    c->head_start_ms = end_ms > 0 ? end_ms : pt_now_ms();
    c->head_bytes = c->rlen - c->rpos;
    return false;
}

pt_conn_next_t pt_conn_serve(pt_worker_t *w, pt_conn_t *c)
{
    const pt_vhost_t *ms = c->cfg->main_server;
    pt_http1_limits_t lim = {ms->limit_request_line, ms->limit_request_fields,
                             ms->limit_request_field_size};
    size_t max = head_max(ms);
    pt_request_t *parked = NULL;
    pt_conn_next_t next;
    /* The clock read when a head's first bytes came in this call: the request's start too
     * when it completes here (no wait between), 0 when there was none. */
    int64_t read_us = 0;
    /* When the bytes the listener's epoll found here were surely here (the event MPM's
     * ready_ns, walk.h), and what the first request read in this call was sent by: then, when
     * those bytes can only be its own: nothing held from before (no bytes, no request to
     * resume); not a connection's first request, whose bytes may follow a TLS handshake or a
     * PROXY header; the first byte read is its head's first (no empty line before it); and
     * that read opened one TLS record at most, of data (an empty record or a KeyUpdate
     * before the request may be what epoll found). Else unknown. */
    int64_t ready_ns = c->rpos >= c->rlen && !c->susp ? c->park.ready_ns : 0;
    int64_t sent_ns = INT64_MAX;
    c->park.ready_ns = 0;
    if (c->susp) {
        int res = resume_request(w, c, &parked);
        if (res < 0)
            return park_request(w, c, parked);
        if (after_request(w, c, res == 1, &next))
            return next;
    }
    for (;;) {
        pt_arena_reset(w->arena);
        int pm = -1;
        if (c->requests == 0 && pt_h1_handoff && c->rpos < c->rlen &&
            (pm = preface_match(c)) > 0 && pt_h1_handoff->preface(c))
            return c->proto->serve_worker(w, c);
        if (c->rpos < c->rlen && pm != 0) {
            pt_http1_request_t h;
            int status = 400;
            /* Only the bytes that came since the last call are scanned: a head sent in
             * small pieces costs what it weighs, not its weight times its pieces. A head
             * that arrives whole (the usual case) is parsed with state on the stack; only
             * one left unfinished keeps its state, in c->proto_state. */
            pt_http1_parser_t fresh;
            pt_http1_parser_t *ps = c->proto_state;
            if (!ps) {
                pt_http1_parser_init(&fresh);
                ps = &fresh;
            }
            pt_http1_result_t res = pt_http1_parse_more(ps, c->rbuf + c->rpos,
                                                        c->rlen - c->rpos, &lim, w->arena, &h,
                                                        &status);
            if (res == PT_HTTP1_AGAIN) {
                if (!c->proto_state) {
                    c->proto_state = malloc(sizeof(fresh));
                    if (!c->proto_state) {
                        reject(w, c, 503);
                        return after_close_decision(c);
                    }
                    *(pt_http1_parser_t *)c->proto_state = fresh;
                }
            } else if (c->proto_state) {
                free(c->proto_state);
                c->proto_state = NULL;
            }
            if (res == PT_HTTP1_DONE && h.upgrade && pt_h1_handoff &&
                pt_h1_handoff->upgrade(c, &h))
                return c->proto->serve_worker(w, c);
            if (res == PT_HTTP1_DONE) {
                pt_walk_memo_begin(sent_ns);
                int keep = serve_one(w, c, &h, read_us, &parked);
                pt_walk_memo_end();
                read_us = 0;
                sent_ns = INT64_MAX;
                if (keep < 0)
                    return park_request(w, c, parked);
                if (after_request(w, c, keep == 1, &next))
                    return next;
                continue;
            }
            if (res == PT_HTTP1_ERROR) {
                reject(w, c, status);
                return after_close_decision(c);
            }
        }
        /* Need more bytes. */
        bool had = c->rpos < c->rlen;
        bool watch = ready_ns && c->tp->watch_records; /* (the read that may give sent_ns) */
        c->tp_other = false;
        c->tp_records = 0;
        if (watch)
            c->tp->watch_records(c, true);
        long n = pt_conn_read(c, max);
        if (watch)
            c->tp->watch_records(c, false);
        if (n > 0) {
            if (!had) {
                read_us = pt_mono_us();
                c->head_start_ms = read_us / 1000;
                c->head_bytes = 0;
                char first = c->rbuf[c->rpos];
                if (ready_ns && c->requests > 0 && !c->tp_other && c->tp_records <= 1 &&
                    first != '\r' && first != '\n')
                    sent_ns = ready_ns;
            }
            ready_ns = 0;
            c->head_bytes += (size_t)n;
            continue;
        }
        if (n == PT_EAGAIN) {
            if (c->rpos < c->rlen)
                return PT_NEXT_PARK_READ;
            return c->requests > 0 ? PT_NEXT_PARK_KEEPALIVE : PT_NEXT_PARK_READ;
        }
        if (n == PT_ETOOBIG) {
            reject(w, c, 431);
            return after_close_decision(c);
        }
        return PT_NEXT_CLOSE; /* EOF or error: the client is gone */
    }
}
