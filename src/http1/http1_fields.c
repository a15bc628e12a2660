/* The meaning of an HTTP/1.1 request head (RFC 9110, RFC 9112), judged as the scan in http1.c
 * hands over its pieces: the method, the request-target's forms, the version, and the fields
 * that frame the message or route it (Host, Content-Length, Transfer-Encoding, Connection,
 * Expect, Upgrade). Every slice still points into the caller's buffer. */
#include "http1_fields.h"

#include <stdint.h>

/* tchar (RFC 9110 5.6.2): method and field-name bytes. */
const uint8_t pt_h1_tchar[256] = {
    ['!'] = 1, ['#' ... '\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1,
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['^' ... '`'] = 1, ['a' ... 'z'] = 1,
    ['|'] = 1, ['~'] = 1,
};


/* reg-name bytes (RFC 3986 3.2.2): unreserved and sub-delims; '%' is checked apart. */
static const uint8_t host_ch[256] = {
    ['!'] = 1, ['$'] = 1, ['&' ... '.'] = 1, ['0' ... '9'] = 1, [';'] = 1, ['='] = 1,
    ['A' ... 'Z'] = 1, ['_'] = 1, ['a' ... 'z'] = 1, ['~'] = 1,
};

/* A port's bytes. */
static const uint8_t digit_ch[256] = {['0' ... '9'] = 1};

static const char slash[] = "/";

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool is_alpha(char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

pt_method_t pt_h1_method_id(pt_str_t m)
{
    const char *p = m.p;
    switch (m.len) {
    case 3:
        if (memcmp(p, "GET", 3) == 0)
            return PT_METHOD_GET;
        if (memcmp(p, "PUT", 3) == 0)
            return PT_METHOD_PUT;
        break;
    case 4:
        if (memcmp(p, "HEAD", 4) == 0)
            return PT_METHOD_HEAD;
        if (memcmp(p, "POST", 4) == 0)
            return PT_METHOD_POST;
        break;
    case 5:
        if (memcmp(p, "TRACE", 5) == 0)
            return PT_METHOD_TRACE;
        if (memcmp(p, "PATCH", 5) == 0)
            return PT_METHOD_PATCH;
        break;
    case 6:
        if (memcmp(p, "DELETE", 6) == 0)
            return PT_METHOD_DELETE;
        break;
    case 7:
        if (memcmp(p, "OPTIONS", 7) == 0)
            return PT_METHOD_OPTIONS;
        if (memcmp(p, "CONNECT", 7) == 0)
            return PT_METHOD_CONNECT;
        break;
    }
    return PT_METHOD_OTHER;
}

/* The first byte from p (before end) not in the class: four at a time first, as the scan in
 * http1.c does (a Host field is judged for every request; byte by byte it cost twice as
 * much). */
static inline const unsigned char *skip_class(const unsigned char *p, const unsigned char *end,
                                              const uint8_t *cls)
{
    while (end - p >= 4 && cls[p[0]] && cls[p[1]] && cls[p[2]] && cls[p[3]])
        p += 4;
    while (p < end && cls[*p])
        p++;
    return p;
}

/* host [":" port] (RFC 3986 3.2.2): a non-empty host, a bracketed IP literal or reg-name
 * with valid percent-escapes. userinfo ('@') is refused, as RFC 9110 4.2.4 advises. */
static bool valid_authority(pt_str_t s, bool need_port)
{
    const unsigned char *p = (const unsigned char *)s.p, *end = p + s.len;
    if (p < end && *p == '[') {
        const unsigned char *h = ++p;
        while (p < end && (host_ch[*p] || *p == ':'))
            p++;
        if (p == h || p == end || *p != ']')
            return false;
        p++;
    } else {
        const unsigned char *h = p;
        for (;;) {
            p = skip_class(p, end, host_ch);
            if (p == end || *p != '%')
                break;
            if (end - p < 3 || pt_hexval(p[1]) < 0 || pt_hexval(p[2]) < 0)
                return false;
            p += 3;
        }
        if (p == h)
            return false;
    }
    if (p == end)
        return !need_port;
    if (*p++ != ':' || (need_port && p == end))
        return false;
    return skip_class(p, end, digit_ch) == end;
}

static void split_query(pt_http1_request_t *req, const char *p, const char *end)
{
    const char *q = memchr(p, '?', (size_t)(end - p));
    if (q) {
        req->query = (pt_str_t){q + 1, (size_t)(end - q - 1)};
        end = q;
    }
    if (p == end)
        req->path = (pt_str_t){slash, 1}; /* empty path means "/" (RFC 9110 4.2.3) */
    else
        req->path = (pt_str_t){p, (size_t)(end - p)};
}

/* absolute-form: scheme "://" authority [path] ["?" query]; RFC 9112 3.2.2 makes its
 * authority the request's host, whatever the Host field says. */
static int parse_absolute(pt_http1_request_t *req)
{
    const char *p = req->target.p, *end = p + req->target.len;
    if (!is_alpha(*p))
        return 400;
    while (p < end && (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-' || *p == '.'))
        p++;
    if (end - p < 3 || memcmp(p, "://", 3) != 0)
        return 400;
    const char *a = p += 3;
    while (p < end && *p != '/' && *p != '?')
        p++;
    req->abs_host = (pt_str_t){a, (size_t)(p - a)};
    if (!valid_authority(req->abs_host, false))
        return 400;
    split_query(req, p, end);
    return 0;
}

int pt_h1_parse_target(pt_http1_request_t *req)
{
    pt_str_t t = req->target;
    if (req->method_id == PT_METHOD_CONNECT) /* authority-form, CONNECT only (3.2.3) */
        return valid_authority(t, true) ? 0 : 400;
    if (t.p[0] == '/') {
        split_query(req, t.p, t.p + t.len);
        return 0;
    }
    if (t.len == 1 && t.p[0] == '*') { /* asterisk-form, OPTIONS only (3.2.4) */
        if (req->method_id != PT_METHOD_OPTIONS)
            return 400;
        req->path = t;
        return 0;
    }
    return parse_absolute(req);
}

/* HTTP-version = "HTTP/" DIGIT "." DIGIT, then CRLF. Well formed but not 1.0/1.1: 505. */
int pt_h1_parse_version(const char *v, int *version)
{
    if (memcmp(v, "HTTP/", 5) != 0 || !is_digit(v[5]) || v[6] != '.' || !is_digit(v[7]) ||
        v[8] != '\r' || v[9] != '\n')
        return 400;
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return 505;
    *version = v[7] == '0' ? 10 : 11;
    return 0;
}

/* Splits a field line that the scan judged already: its name, and its value without the
 * surrounding OWS. Returns the start of the next line. (For the fields past those the scan
 * kept: pt_http1_parser_t's kept.) */
const char *pt_h1_split_field(const char *s, pt_header_t *h)
{
    const char *q = s;
    while (*q != ':')
        q++;
    h->name = (pt_str_t){s, (size_t)(q - s)};
    q++;
    while (pt_h1_is_ows(*q))
        q++;
    const char *v = q;
    /* The scan judged the line: its CR is there, before the end of the bytes read. (Not
     * strchr: the buffer has no NUL after it, and strchr reads ahead in blocks.) */
    while (*q != '\r')
        q++;
    const char *e = q;
    while (e > v && pt_h1_is_ows(e[-1]))
        e--;
    h->value = (pt_str_t){v, (size_t)(e - v)};
    return q + 2;
}

/* 1#DIGIT list; repeats of one value are allowed, differing values are not (RFC 9110 8.6). */
static int on_content_length(pt_http1_parser_t *st, pt_str_t v)
{
    const char *p = v.p, *end = p + v.len;
    int64_t *cl = &st->content_length;
    for (;;) {
        const char *d = p;
        int64_t n = 0;
        while (p < end && is_digit(*p)) {
            int dig = *p++ - '0';
            if (n > (INT64_MAX - dig) / 10)
                return 400;
            n = n * 10 + dig;
        }
        if (p == d || (st->cl_seen && *cl != n))
            return 400;
        *cl = n;
        st->cl_seen = true;
        while (p < end && pt_h1_is_ows(*p))
            p++;
        if (p == end)
            return 0;
        if (*p++ != ',')
            return 400;
        while (p < end && pt_h1_is_ows(*p))
            p++;
    }
}

static bool is_known_coding(pt_str_t c)
{
    /* x-gzip and x-compress are aliases a recipient should accept (RFC 9112 7.2). */
    return pt_str_caseeq(c, "gzip") || pt_str_caseeq(c, "deflate") ||
           pt_str_caseeq(c, "compress") || pt_str_caseeq(c, "x-gzip") ||
           pt_str_caseeq(c, "x-compress");
}

/* Codings accumulate over every Transfer-Encoding line. chunked must come once and last;
 * an unknown coding is 501 (RFC 9112 6.1). identity is not a transfer coding any more. */
static int on_transfer_encoding(pt_http1_parser_t *st, pt_str_t v)
{
    const char *p = v.p, *end = p + v.len;
    st->te_seen = true;
    for (;;) {
        const char *t = p;
        while (p < end && pt_h1_tchar[(unsigned char)*p])
            p++;
        pt_str_t c = {t, (size_t)(p - t)};
        while (p < end && pt_h1_is_ows(*p))
            p++;
        if (c.len == 0 || (p < end && *p != ','))
            return 400;
        if (pt_str_caseeq(c, "chunked")) {
            if (st->te_chunked_seen)
                return 400;
            st->te_chunked_seen = st->te_last_chunked = true;
        } else if (is_known_coding(c)) {
            st->te_last_chunked = false;
        } else {
            return 501;
        }
        if (p == end)
            return 0;
        p++;
        while (p < end && pt_h1_is_ows(*p))
            p++;
    }
}

static void on_connection(pt_http1_parser_t *st, pt_str_t v)
{
    const char *p = v.p, *end = p + v.len;
    while (p < end) {
        const char *t = p;
        while (p < end && *p != ',')
            p++;
        const char *e = p;
        while (e > t && pt_h1_is_ows(e[-1]))
            e--;
        pt_str_t tok = {t, (size_t)(e - t)};
        if (pt_str_caseeq(tok, "close"))
            st->conn_close = true;
        else if (pt_str_caseeq(tok, "keep-alive"))
            st->conn_keep_alive = true;
        else if (pt_str_caseeq(tok, "upgrade"))
            st->conn_upgrade = true;
        if (p < end)
            p++;
        while (p < end && pt_h1_is_ows(*p))
            p++;
    }
}

static int on_host(pt_http1_parser_t *st, const char *buf, pt_str_t v)
{
    if (++st->hosts > 1)
        return 400;
    /* An empty Host is what a client sends when the target has no authority (RFC 9110 7.2). */
    if (v.len > 0 && !valid_authority(v, false))
        return 400;
    st->host = (size_t)(v.p - buf);
    st->host_len = v.len;
    return 0;
}

int pt_h1_on_field(pt_http1_parser_t *st, const char *buf, const pt_header_t *h)
{
    switch (h->name.len) {
    case 4:
        if (pt_str_caseeq(h->name, "host"))
            return on_host(st, buf, h->value);
        break;
    case 6:
        if (pt_str_caseeq(h->name, "expect") && pt_str_caseeq(h->value, "100-continue"))
            st->expect = true;
        break;
    case 7:
        if (pt_str_caseeq(h->name, "upgrade") && h->value.len > 0)
            st->has_upgrade = true;
        break;
    case 10:
        if (pt_str_caseeq(h->name, "connection"))
            on_connection(st, h->value);
        break;
    case 14:
        if (pt_str_caseeq(h->name, "content-length"))
            return on_content_length(st, h->value);
        break;
    case 17:
        if (pt_str_caseeq(h->name, "transfer-encoding"))
            return on_transfer_encoding(st, h->value);
        break;
    }
    return 0;
}
