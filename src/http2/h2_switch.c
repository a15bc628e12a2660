/* How a connection becomes an HTTP/2 session: by the h2c preface on a plain connection
 * (prior knowledge, H2Direct), by "Upgrade: h2c" on an HTTP/1.1 request (H2Upgrade: 101,
 * then the request is stream 1), or by ALPN "h2" over TLS. HTTP/1 reaches the first two
 * through the pointers startup.c registers (pt_h1_handoff_t); it names nothing here. */
#include "h2_int.h"

#include "log.h"
#include "tls.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Makes c an HTTP/2 connection served by vh's settings: the session, our SETTINGS queued,
 * c->proto switched. NULL when the session cannot be made. */
static h2_session_t *start(pt_conn_t *c, const pt_vhost_t *vh)
{
    h2_session_t *s = h2_session_create(c, vh);
    if (!s)
        return NULL;
    if (h2_session_submit_settings(s) != 0) {
        pt_h2_conn_proto.release(s);
        return NULL;
    }
    free(c->proto_state); /* (HTTP/1's unfinished parse, if any) */
    c->proto_state = s;
    c->proto = &pt_h2_conn_proto;
    return s;
}

bool pt_h2_start(pt_conn_t *c)
{
    const pt_vhost_t *vh = pt_tls_sni_vhost(c); /* (the server SNI chose, over TLS) */
    if (!vh)
        vh = pt_config_vhost_for(c->cfg, &c->local.sa, NULL);
    h2_session_t *s = start(c, vh);
    /* H2ModernTLSOnly (on by default): a session over weaker TLS is refused at once with
     * GOAWAY INADEQUATE_SECURITY, as RFC 9113 9.2.3 says. */
    if (s && s->conf->modern_tls_only != 0 && !pt_tls_h2_adequate(c)) {
        pt_log_error(PT_LOG_INFO, c->peer_ip, "h2: TLS version or cipher suite below what "
                     "HTTP/2 requires (H2ModernTLSOnly): GOAWAY INADEQUATE_SECURITY");
        s->calm = true;
        nghttp2_session_terminate_session(s->ng, NGHTTP2_INADEQUATE_SECURITY);
    }
    return s != NULL;
}

bool pt_h2_preface(pt_conn_t *c)
{
    const pt_vhost_t *vh = pt_config_vhost_for(c->cfg, &c->local.sa, NULL);
    if (!pt_h2_protocol_enabled(c->cfg, vh, "h2c") || pt_h2_conf(c->cfg, vh)->direct == 0)
        return false;
    return start(c, vh) != NULL;
}

/* ---- Upgrade: h2c ------------------------------------------------------------------ */

static bool has_token(pt_str_t v, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i < v.len;) {
        while (i < v.len && (v.p[i] == ' ' || v.p[i] == ',' || v.p[i] == '\t'))
            i++;
        size_t j = i;
        while (j < v.len && v.p[j] != ',' && v.p[j] != ' ' && v.p[j] != '\t')
            j++;
        if (j - i == tl && strncasecmp(v.p + i, tok, tl) == 0)
            return true;
        i = j;
    }
    return false;
}

static const pt_header_t *field(const pt_http1_request_t *h, const char *name, int *count)
{
    const pt_header_t *f = NULL;
    *count = 0;
    for (size_t i = 0; i < h->nheaders; i++)
        if (h->headers[i].name.len == strlen(name) &&
            strncasecmp(h->headers[i].name.p, name, h->headers[i].name.len) == 0)
            f = f ? f : &h->headers[i], ++*count;
    return f;
}

/* HTTP2-Settings is base64url without padding (RFC 7540 section 3.2.1). */
static long b64url_decode(pt_str_t in, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < in.len; i++) {
        int c = (unsigned char)in.p[i], v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '-' || c == '+')
            v = 62;
        else if (c == '_' || c == '/')
            v = 63;
        else if (c == '=')
            break;
        else
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)n;
}

/* The server named by Host (for its Protocols and H2Upgrade). */
static const pt_vhost_t *vhost_of(pt_conn_t *c, const pt_http1_request_t *h)
{
    char host[256];
    size_t n = 0;
    for (size_t i = 0; i < h->host.len && n < sizeof(host) - 1 && h->host.p[i] != ':'; i++)
        host[n++] = (char)tolower((unsigned char)h->host.p[i]);
    host[n] = '\0';
    return pt_config_vhost_for(c->cfg, &c->local.sa, n ? host : NULL);
}

/* Stream 1: the upgraded request, as the session would have decoded it. */
static h2_stream_t *upgraded_stream(h2_session_t *s, const pt_http1_request_t *h)
{
    h2_stream_t *st = h2_stream_create(s, 1);
    if (!st)
        return NULL;
    pt_arena_t *a = st->arena;
    st->method = pt_arena_strndup(a, h->method.p, h->method.len);
    st->path = pt_arena_strndup(a, h->target.p, h->target.len);
    st->scheme = "http";
    if (h->host.len)
        st->authority = pt_arena_strndup(a, h->host.p, h->host.len);
    static const char *const skip[] = {"connection", "upgrade", "http2-settings", "keep-alive",
                                       "proxy-connection", "transfer-encoding", "host", NULL};
    for (size_t i = 0; i < h->nheaders; i++) {
        const pt_header_t *f = &h->headers[i];
        bool drop = false;
        for (int k = 0; skip[k] && !drop; k++)
            drop = f->name.len == strlen(skip[k]) &&
                   strncasecmp(f->name.p, skip[k], f->name.len) == 0;
        if (!drop)
            pt_table_add(&st->headers, pt_arena_strndup(a, f->name.p, f->name.len),
                         pt_arena_strndup(a, f->value.p, f->value.len));
        if (f->name.len == 8 && strncasecmp(f->name.p, "priority", 8) == 0) /* (RFC 9218 5) */
            h2_check_priority_field(&st->ck, (const uint8_t *)f->value.p, f->value.len);
        st->head_bytes += f->name.len + f->value.len + 32;
    }
    st->end_on_headers = st->in_eof = true;
    return st;
}

bool pt_h2_upgrade(pt_conn_t *c, const pt_http1_request_t *h)
{
    int nup, nset;
    const pt_header_t *up = field(h, "Upgrade", &nup);
    const pt_header_t *set = field(h, "HTTP2-Settings", &nset);
    if (!up || !set || nset != 1 || !has_token(up->value, "h2c"))
        return false;
    /* A request body would have to be read before the switch: served as HTTP/1.1. */
    if (h->chunked || h->content_length > 0 || h->version != 11)
        return false;
    const pt_vhost_t *vh = vhost_of(c, h);
    if (!pt_h2_protocol_enabled(c->cfg, vh, "h2c") || pt_h2_conf(c->cfg, vh)->upgrade == 0)
        return false;
    uint8_t settings[256];
    long slen = b64url_decode(set->value, settings, sizeof(settings));
    if (slen < 0 || slen % 6 != 0)
        return false;
    h2_session_t *s = h2_session_create(c, vh);
    if (!s)
        return false;
    h2_stream_t *st = upgraded_stream(s, h);
    int head = h->method_id == PT_METHOD_HEAD;
    /* Our SETTINGS first: stream 1 is then opened under SETTINGS_NO_RFC7540_PRIORITIES, and
     * scheduled as the streams after it are (RFC 9218), not ahead of all of them in
     * RFC 7540's tree. */
    if (!st || h2_session_submit_settings(s) != 0 ||
        nghttp2_session_upgrade2(s->ng, settings, (size_t)slen, head, st) != 0) {
        if (st)
            h2_stream_destroy(st);
        pt_h2_conn_proto.release(s);
        return false;
    }
    static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                               "Upgrade: h2c\r\n\r\n";
    struct iovec iov = {(void *)resp, sizeof(resp) - 1};
    int64_t to = vh->timeout_ms > 0 ? vh->timeout_ms : 60000;
    c->rpos += h->head_len;
    st->next = s->streams;
    s->streams = st;
    free(c->proto_state);
    c->proto_state = s;
    c->proto = &pt_h2_conn_proto;
    if (pt_conn_writev(c, &iov, 1, to, false) != 0)
        return true; /* (the session finds the connection gone) */
    h2_session_prioritize(s, st);
    h2_session_start_stream(s, st);
    return true;
}
