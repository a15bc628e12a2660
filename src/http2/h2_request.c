/* A stream's request: the protocol-neutral request made from the pseudo-header fields and
 * the fields the session decoded (RFC 9113 section 8.3.1), then routed and answered as
 * HTTP/1 does (h1_conn.c), and logged; on the session's own thread when its handler cannot
 * block and its answer is small (runs_inline), else on a pool thread (c2). */
#include "h2_int.h"

#include "accesslog.h"
#include "handler.h"
#include "log.h"
#include "remoteip.h"
#include "tls.h"
#include "uri.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char h2_method_get[] = "GET", h2_method_post[] = "POST", h2_method_head[] = "HEAD";

static pt_method_t method_id(const char *m)
{
    if (m == h2_method_get) /* (the usual ones by their address: h2_int.h) */
        return PT_METHOD_GET;
    if (m == h2_method_head)
        return PT_METHOD_HEAD;
    if (m == h2_method_post)
        return PT_METHOD_POST;
    static const struct {
        const char *name;
        pt_method_t id;
    } t[] = {{"GET", PT_METHOD_GET},         {"HEAD", PT_METHOD_HEAD},
             {"POST", PT_METHOD_POST},       {"PUT", PT_METHOD_PUT},
             {"DELETE", PT_METHOD_DELETE},   {"OPTIONS", PT_METHOD_OPTIONS},
             {"TRACE", PT_METHOD_TRACE},     {"CONNECT", PT_METHOD_CONNECT},
             {"PATCH", PT_METHOD_PATCH}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(m, t[i].name) == 0)
            return t[i].id;
    return PT_METHOD_OTHER;
}

/* The port after :authority's colon, as atoi(p) & 0xffff reads it; the usual few digits
 * without atoi's strtol (a tenth of an inline answer's parsing). */
static int port_of(const char *p)
{
    int v = 0, i = 0;
    for (; i < 9 && p[i] >= '0' && p[i] <= '9'; i++)
        v = v * 10 + (p[i] - '0');
    if (i == 0 || i == 9 || p[i] != '\0')
        return atoi(p) & 0xffff;
    return v & 0xffff;
}

/* :authority (else Host) without the port, lower case, as HTTP/1 keeps Host. */
static void set_host(pt_request_t *r, const char *auth)
{
    if (!auth || !*auth)
        return;
    size_t n = strlen(auth);
    const char *colon;
    if (auth[0] == '[') {
        const char *rb = strchr(auth, ']');
        n = rb ? (size_t)(rb - auth + 1) : n;
        colon = rb ? strchr(rb, ':') : NULL;
    } else {
        colon = strchr(auth, ':');
        if (colon)
            n = (size_t)(colon - auth);
    }
    if (colon)
        r->host_port = port_of(colon + 1);
    while (n && auth[n - 1] == '.')
        n--;
    char *h = pt_arena_alloc(r->arena, n + 1);
    h2_lower_copy(h, (const uint8_t *)auth, n); /* (tolower in the C locale) */
    h[n] = '\0';
    r->hostname = h;
}

/* set_host through the session's memory of the last authority (a client's streams mostly
 * name one): the same authority gives the same host and port. */
static void set_host_kept(h2_session_t *s, h2_stream_t *st, pt_request_t *r, const char *auth)
{
    if (auth && s->auth[0] && strcmp(auth, s->auth) == 0) {
        char *h = pt_arena_alloc(r->arena, s->auth_host_len + 1); /* (auth_host ends in NUL) */
        memcpy(h, s->auth_host, s->auth_host_len + 1);
        r->hostname = h;
        r->host_port = s->auth_port;
        st->host_kept = true;
        return;
    }
    set_host(r, auth);
    size_t n = auth ? strlen(auth) : 0;
    st->host_kept = false;
    if (n > 0 && n < sizeof(s->auth) && r->hostname) {
        memcpy(s->auth, auth, n + 1);
        s->auth_host_len = strlen(r->hostname); /* (no longer than auth) */
        memcpy(s->auth_host, r->hostname, s->auth_host_len + 1);
        s->auth_port = r->host_port;
        s->vh_auth = false; /* (auth_host changed) */
        st->host_kept = true;
    }
}

/* "METHOD path HTTP/2.0", as HTTP/1's request line reads (without printf's parsing). */
static const char *request_line(pt_arena_t *a, const char *method, const char *path, size_t p)
{
    static const char proto[] = " HTTP/2.0";
    size_t m = method == h2_method_get ? 3 : strlen(method);
    char *line = pt_arena_alloc(a, m + 1 + p + sizeof(proto));
    memcpy(line, method, m);
    line[m] = ' ';
    memcpy(line + m + 1, path, p);
    memcpy(line + m + 1 + p, proto, sizeof(proto));
    return line;
}

static pt_request_t *request_new(pt_arena_t *a, h2_stream_t *st, pt_conn_t *c2)
{
    pt_request_t *r = pt_arena_calloc(a, sizeof(*r));
    r->arena = a;
    r->conn = c2;
    r->cfg = c2->cfg;
    r->vhost = c2->cfg->main_server;
    r->dir = r->vhost->dir;
    r->scheme = pt_tls_active(c2) ? "https" : "http"; /* the connection's, not :scheme */
    r->protocol = "HTTP/2.0";
    r->proto_num = 2000;
    r->proto = &pt_h2_proto;
    r->proto_ctx = st;
    /* When its head arrived: the batch's reading, taken once for the streams of one read. */
    const h2_session_t *s = st->s;
    r->start_wall_us = s->batch_wall_us ? s->batch_wall_us : pt_wall_us();
    r->start_mono_us = s->batch_mono_us ? s->batch_mono_us : pt_mono_us();
    r->method = st->method;
    r->method_id = method_id(st->method);
    r->header_only = r->method_id == PT_METHOD_HEAD;
    r->unparsed_uri = st->path;
    size_t plen = strlen(st->path);
    const char *q = memchr(st->path, '?', plen);
    r->args = q ? q + 1 : NULL;
    st->path_len = q ? (size_t)(q - st->path) : plen;
    r->the_request = request_line(a, st->method, st->path, plen);
    r->keepalive = true;
    r->content_length = st->ck.seen & H2_CK_LENGTH ? st->ck.length : -1;
    r->has_body = !st->end_on_headers;
    const char *expect = r->has_body ? pt_table_get(&st->headers, "Expect") : NULL;
    r->expects_continue = expect && strcasecmp(expect, "100-continue") == 0;
    r->head_bytes_in = (int64_t)st->head_bytes;
    r->headers_in = st->headers;
    r->headers_in.arena = a; /* (the request's additions go to its arena) */
    /* :authority is the request's Host, as mod_http2 makes it: a host field that names
     * another would have rules, logs and backends (%{HTTP_HOST}, ProxyPreserveHost) see a
     * host other than the one whose server answers (RFC 9113 8.3.1). */
    const char *auth = st->authority && st->authority[0] ? st->authority : NULL;
    if (auth && (st->ck.seen & H2_CK_HOST))
        pt_table_set(&r->headers_in, "Host", auth);
    else if (auth)
        pt_table_add(&r->headers_in, "Host", auth);
    set_host_kept(st->s, st, r, auth ? auth : pt_table_get(&r->headers_in, "Host"));
    pt_table_init(&r->headers_out, a, 8);
    pt_table_init(&r->err_headers_out, a, 4);
    pt_table_init(&r->env, a, 8);
    pt_table_init(&r->trailers_in, a, 4);
    return r;
}

/* The TLS verdict on r's server: 403 when SNI is missing where it must not be
 * (pt_tls_sni_missing_strict), 421 when the server's TLS terms are not those the handshake
 * was made under (pt_tls_vhost_ok), else 0. */
static int tls_verdict(const pt_request_t *r)
{
    if (pt_tls_sni_missing_strict(r->conn, r->vhost))
        return 403;
    return pt_tls_vhost_ok(r->conn, r->vhost) ? 0 : 421;
}

/* Sets r's server, as pt_config_vhost_for finds it for r's host, and returns its TLS
 * verdict. Both depend on nothing else the connection changes (its configuration, its
 * address and its handshake are its own): the session keeps the last answers, as a
 * client's streams mostly name one host (the search walks every server of the address,
 * comparing names). */
static int set_vhost(h2_session_t *s, const h2_stream_t *st, pt_request_t *r)
{
    const char *host = r->hostname;
    if ((st->host_kept && s->vh_auth) ||
        (host && s->vh_host[0] && strcmp(host, s->vh_host) == 0)) {
        s->vh_auth = st->host_kept; /* (host is vh_host, and auth_host if it was kept) */
        r->vhost = s->vh_last;
        return s->vh_tls;
    }
    r->vhost = pt_config_vhost_for(r->cfg, &r->conn->local.sa, host);
    int tls = tls_verdict(r);
    size_t n = host ? strlen(host) : 0;
    if (n > 0 && n < sizeof(s->vh_host)) {
        memcpy(s->vh_host, host, n + 1);
        s->vh_last = r->vhost;
        s->vh_tls = tls;
        s->vh_auth = st->host_kept;
    }
    return tls;
}

/* Routes r (as h1_conn.c's handle, without the HTTP/1-only forms) up to its handler: the
 * status it ends with, or 0 and *h, the handler that answers it. */
static int prepare(pt_request_t *r, h2_stream_t *st, const pt_handler_t **h)
{
    int tls = set_vhost(st->s, st, r);
    r->dir = r->vhost->dir;
    pt_remoteip_apply(r); /* Apache's post_read_request: the client behind trusted proxies */
    int st_code;
    long long limit = r->vhost->dir->limit_request_body;
    if (r->content_length > 0 && limit > 0 && r->content_length > limit) {
        pt_log_rerror(PT_LOG_ERR, r, "Requested content-length of %lld is larger than the "
                      "configured limit of %lld", (long long)r->content_length, limit);
        st_code = 413;
    } else if (tls == 403) {
        pt_log_rmerror("ssl", PT_LOG_ERR, r, "AH02033: No hostname was provided via SNI for "
                       "a name based virtual host");
        st_code = 403;
    } else if (tls == 421) {
        /* The stream shares its session's TLS state: SNI chose one server's terms, and
         * :authority names another's (mod_ssl's and mod_http2's 421). */
        pt_log_rerror(PT_LOG_INFO, r, "Hostname %s provided via SNI and hostname %s provided "
                      "via HTTP have no compatible SSL setup: 421",
                      pt_tls_sni_name(r->conn) ? pt_tls_sni_name(r->conn) : "(none)",
                      r->hostname ? r->hostname : "(none)");
        st_code = 421;
    } else if ((st_code = pt_uri_normalize_for(r->arena, r->vhost, st->path, st->path_len,
                                               &r->uri)) != 0) {
        r->uri = r->unparsed_uri;
        pt_log_rerror(PT_LOG_INFO, r, "invalid URI path (%s)", r->unparsed_uri);
    } else if (r->method_id == PT_METHOD_TRACE && !r->vhost->trace_enable) {
        pt_table_set(&r->err_headers_out, "Allow", "GET,HEAD,POST,OPTIONS");
        st_code = 405;
    } else if (r->method_id == PT_METHOD_CONNECT) {
        st_code = 405;
    } else {
        st_code = pt_request_route_begin(r, h);
    }
    return st_code;
}

/* Answers a prepared r: its handler, or the status prepare ended with. */
static void answer(pt_request_t *r, int st_code, const pt_handler_t *h)
{
    if (st_code == 0)
        st_code = h->run(r);
    if (st_code > 0)
        pt_resp_send_error(r, st_code);
    else if (!r->conn->aborted && !r->body_done)
        pt_resp_finish(r);
    if (r->status == 0 && r->body_error && r->body_status)
        r->status = r->body_status;
}

/* Whether a prepared request's answer cannot wait on anything but this process and the page
 * cache, and is small: then the session serves it on its own thread, without handing it to
 * a pool thread and back (h2_stream_run_inline). A status (an error, a Redirect), the
 * status pages, and a regular file of at most H2StreamMaxMemSize without a Range (whose
 * parts could add up to more). What may block (a backend, a module's handler) or may be
 * long (a big file, a directory: an index, a listing, FallbackResource) goes to the pool.
 * An ErrorDocument or an internal redirect that reaches a backend runs here all the same
 * (README: HTTP/2). */
static bool runs_inline(const pt_request_t *r, int st_code, const pt_handler_t *h, size_t max)
{
    if (st_code > 0)
        return true;
    if (h->run == pt_status_handler || h->run == pt_metrics_handler)
        return true;
    return h->run == pt_static_handler && r->finfo_valid && S_ISREG(r->finfo.st_mode) &&
           (uint64_t)r->finfo.st_size <= max && !pt_table_get(&r->headers_in, "Range");
}

/* The stream's secondary connection (c2 zeroed): the session's addresses and configuration,
 * no descriptor (nothing does I/O on it). */
static void c2_init(pt_conn_t *c2, const pt_conn_t *c1)
{
    c2->fd = -1;
    c2->cfg = c1->cfg;
    c2->peer = c1->peer;
    c2->local = c1->local;
    memcpy(c2->peer_ip, c1->peer_ip, sizeof(c2->peer_ip));
    memcpy(c2->local_ip, c1->local_ip, sizeof(c2->local_ip));
    c2->peer_port = c1->peer_port;
    c2->local_port = c1->local_port;
    /* The transport for what it tells about the connection (TLS: the SSL_* variables, read
     * only); nothing is read or written through c2. */
    c2->tp = c1->tp;
    c2->tp_state = c1->tp_state;
    c2->wc_fd = -1;
}

/* Runs st's request on this thread in arena a; false (nothing answered, a reset) when it
 * is not one to run inline and inline_only. */
/* Answers st's prepared request on this thread and logs it. */
static void respond(h2_stream_t *st)
{
    pt_request_t *r = st->req;
    answer(r, st->req_code, st->req_handler);
    /* A bodiless answer or HEAD ends without finish: the held head goes now (an answer
     * finished already, head_sent, has nothing left to send). */
    if (!r->conn->aborted && r->head_built && !r->head_sent)
        pt_h2_proto.finish(r);
    pt_log_access(r);
}

/* Makes st's request and routes it up to its handler, once, on the session's thread, in
 * the stream's arena (which the stream's worker then owns): a stream handed to the pool
 * is not routed again there (a module's hooks run once). */
static void prepare_stream(h2_stream_t *st)
{
    /* (Cleared by pt_arena_calloc's memset: the compiler's inline clearing of a constant
     * size was a rep stos, about twice the instructions.) */
    pt_conn_t *c2 = pt_arena_calloc(st->arena, sizeof(*c2));
    c2_init(c2, st->s->c);
    st->req = request_new(st->arena, st, c2);
    st->req_code = prepare(st->req, st, &st->req_handler);
}

void h2_stream_serve_worker(pt_task_t *t, pt_worker_t *w)
{
    (void)w;
    h2_stream_t *st = PT_CONTAINER_OF(t, h2_stream_t, task);
    h2_session_t *s = st->s;
    pthread_mutex_lock(&s->lock);
    bool gone = st->closed;
    pthread_mutex_unlock(&s->lock);
    if (!gone)
        respond(st);
    pthread_mutex_lock(&s->lock);
    st->done = true; /* (without out_eof: the session resets the stream) */
    s->nqueued--;
    if (st->reset_counted)
        s->nreset--;
    h2_session_wake(s);
    pthread_mutex_unlock(&s->lock);
}

bool h2_stream_run_inline(h2_stream_t *st)
{
    h2_session_t *s = st->s;
    if (!st->closed) {
        prepare_stream(st);
        /* A body comes from this thread: never answered here. */
        if (!st->end_on_headers || !runs_inline(st->req, st->req_code, st->req_handler,
                                                s->conf->stream_max_mem))
            return false;
        st->on_c1 = true;
        respond(st);
    }
    /* No other thread has known this stream (it was never counted in nqueued), and the
     * session pumps once the started streams are run: no lock, no news. */
    st->done = true;
    return true;
}
