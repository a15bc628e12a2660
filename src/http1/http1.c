/* HTTP/1.1 request head parser (RFC 9110, RFC 9112); the chunked decoder is in chunked.c.
 * One pass over the bytes, however they arrive, and no copies: every slice points into the
 * caller's buffer. Strict on purpose: a
 * front-end that tolerates what a back-end reads differently lets requests be smuggled. */
#include "http1.h"

#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Empty lines tolerated before the request line (Apache: DEFAULT_LIMIT_BLANK_LINES). */
#define MAX_BLANK_LINES 10

#define AGAIN 1 /* internal result: need more bytes; statuses are >= 400, success is 0 */

/* tchar (RFC 9110 5.6.2): method and field-name bytes. */
static const uint8_t tchar[256] = {
    ['!'] = 1, ['#' ... '\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1,
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['^' ... '`'] = 1, ['a' ... 'z'] = 1,
    ['|'] = 1, ['~'] = 1,
};

/* field-value bytes: VCHAR, obs-text, SP and HTAB. CR ends the line; NUL, LF and other
 * controls are refused (RFC 9110 5.5). */
static const uint8_t value_ch[256] = {
    ['\t'] = 1, [' ' ... '~'] = 1, [0x80 ... 0xff] = 1,
};

/* request-target bytes: visible ASCII and obs-text, without '#' (a fragment is never sent). */
static const uint8_t target_ch[256] = {
    ['!' ... '"'] = 1, ['$' ... '~'] = 1, [0x80 ... 0xff] = 1,
};

/* reg-name bytes (RFC 3986 3.2.2): unreserved and sub-delims; '%' is checked apart. */
static const uint8_t host_ch[256] = {
    ['!'] = 1, ['$'] = 1, ['&' ... '.'] = 1, ['0' ... '9'] = 1, [';'] = 1, ['='] = 1,
    ['A' ... 'Z'] = 1, ['_'] = 1, ['a' ... 'z'] = 1, ['~'] = 1,
};

static const char slash[] = "/";

/* One call's view of a parse: the bytes so far and the state kept between calls. */
typedef struct {
    const char *buf;
    size_t len;
    const pt_http1_limits_t *lim;
    pt_http1_parser_t *st;
    pt_http1_request_t *req; /* the caller's, judged request line in it when line_done */
    bool line_done;          /* the request line ended in this call */
} parser_t;

/* Scan states; each names what the byte at st->pos belongs to. */
enum {
    S_BLANK = 0,  /* before the request line: empty lines, or its first byte */
    S_METHOD,
    S_TARGET,
    S_VERSION,    /* "HTTP/x.y" CR LF, judged byte by byte */
    S_FIELD,      /* start of a field line, or the CR of the empty line that ends the head */
    S_NAME,
    S_OWS,
    S_VALUE,
    S_FIELD_LF,
    S_END_LF,
    S_DONE,
    S_FAILED,
};

static inline bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool is_alpha(char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static pt_method_t method_id(pt_str_t m)
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
            while (p < end && host_ch[*p])
                p++;
            if (p == end || *p != '%')
                break;
            if (end - p < 3 || hexval(p[1]) < 0 || hexval(p[2]) < 0)
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
    while (p < end && is_digit((char)*p))
        p++;
    return p == end;
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

static int parse_target(pt_http1_request_t *req)
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
static int parse_version(const char *v, int *version)
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
static const char *split_field(const char *s, pt_header_t *h)
{
    const char *q = s;
    while (*q != ':')
        q++;
    h->name = (pt_str_t){s, (size_t)(q - s)};
    q++;
    while (is_ows(*q))
        q++;
    const char *v = q;
    /* The scan judged the line: its CR is there, before the end of the bytes read. (Not
     * strchr: the buffer has no NUL after it, and strchr reads ahead in blocks.) */
    while (*q != '\r')
        q++;
    const char *e = q;
    while (e > v && is_ows(e[-1]))
        e--;
    h->value = (pt_str_t){v, (size_t)(e - v)};
    return q + 2;
}

/* 1#DIGIT list; repeats of one value are allowed, differing values are not (RFC 9110 8.6). */
static int on_content_length(parser_t *ps, pt_str_t v)
{
    const char *p = v.p, *end = p + v.len;
    int64_t *cl = &ps->st->content_length;
    for (;;) {
        const char *d = p;
        int64_t n = 0;
        while (p < end && is_digit(*p)) {
            int dig = *p++ - '0';
            if (n > (INT64_MAX - dig) / 10)
                return 400;
            n = n * 10 + dig;
        }
        if (p == d || (ps->st->cl_seen && *cl != n))
            return 400;
        *cl = n;
        ps->st->cl_seen = true;
        while (p < end && is_ows(*p))
            p++;
        if (p == end)
            return 0;
        if (*p++ != ',')
            return 400;
        while (p < end && is_ows(*p))
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
static int on_transfer_encoding(parser_t *ps, pt_str_t v)
{
    const char *p = v.p, *end = p + v.len;
    ps->st->te_seen = true;
    for (;;) {
        const char *t = p;
        while (p < end && tchar[(unsigned char)*p])
            p++;
        pt_str_t c = {t, (size_t)(p - t)};
        while (p < end && is_ows(*p))
            p++;
        if (c.len == 0 || (p < end && *p != ','))
            return 400;
        if (pt_str_caseeq(c, "chunked")) {
            if (ps->st->te_chunked_seen)
                return 400;
            ps->st->te_chunked_seen = ps->st->te_last_chunked = true;
        } else if (is_known_coding(c)) {
            ps->st->te_last_chunked = false;
        } else {
            return 501;
        }
        if (p == end)
            return 0;
        p++;
        while (p < end && is_ows(*p))
            p++;
    }
}

static void on_connection(parser_t *ps, pt_str_t v)
{
    const char *p = v.p, *end = p + v.len;
    while (p < end) {
        const char *t = p;
        while (p < end && *p != ',')
            p++;
        const char *e = p;
        while (e > t && is_ows(e[-1]))
            e--;
        pt_str_t tok = {t, (size_t)(e - t)};
        if (pt_str_caseeq(tok, "close"))
            ps->st->conn_close = true;
        else if (pt_str_caseeq(tok, "keep-alive"))
            ps->st->conn_keep_alive = true;
        else if (pt_str_caseeq(tok, "upgrade"))
            ps->st->conn_upgrade = true;
        if (p < end)
            p++;
        while (p < end && is_ows(*p))
            p++;
    }
}

static int on_host(parser_t *ps, pt_str_t v)
{
    if (++ps->st->hosts > 1)
        return 400;
    /* An empty Host is what a client sends when the target has no authority (RFC 9110 7.2). */
    if (v.len > 0 && !valid_authority(v, false))
        return 400;
    ps->st->host = (size_t)(v.p - ps->buf);
    ps->st->host_len = v.len;
    return 0;
}

static int on_field(parser_t *ps, const pt_header_t *h)
{
    switch (h->name.len) {
    case 4:
        if (pt_str_caseeq(h->name, "host"))
            return on_host(ps, h->value);
        break;
    case 6:
        if (pt_str_caseeq(h->name, "expect") && pt_str_caseeq(h->value, "100-continue"))
            ps->st->expect = true;
        break;
    case 7:
        if (pt_str_caseeq(h->name, "upgrade") && h->value.len > 0)
            ps->st->has_upgrade = true;
        break;
    case 10:
        if (pt_str_caseeq(h->name, "connection"))
            on_connection(ps, h->value);
        break;
    case 14:
        if (pt_str_caseeq(h->name, "content-length"))
            return on_content_length(ps, h->value);
        break;
    case 17:
        if (pt_str_caseeq(h->name, "transfer-encoding"))
            return on_transfer_encoding(ps, h->value);
        break;
    }
    return 0;
}

/* What a scan may judge 16 bytes at a time (SSE2) before the table loop: exactly the
 * table's bytes for a target or a value; for a token (method, field name) only letters,
 * digits and '-', which is what tokens are nearly always made of, the table loop then
 * judging from the first other byte. A vector loop costs a tenth of the table loop per
 * byte; a request's head is mostly its field values. */
enum { V_TOKEN, V_TARGET, V_VALUE };

#ifdef __SSE2__
/* Bit i set: byte i of v ends what a vector judges. */
static inline unsigned vec_stops(__m128i v, int kind)
{
    __m128i bad;
    if (kind == V_TOKEN) {
        __m128i a = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
        __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
        __m128i good = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(a, _mm_set1_epi8(25)), a),
                         _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)),
            _mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
        return (unsigned)_mm_movemask_epi8(good) ^ 0xffffu;
    }
    __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
    if (kind == V_TARGET) { /* <= SP, DEL, '#' */
        __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x20)), v);
        bad = _mm_or_si128(_mm_or_si128(low, del), _mm_cmpeq_epi8(v, _mm_set1_epi8('#')));
    } else { /* controls but HTAB, DEL */
        __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), low), del);
    }
    return (unsigned)_mm_movemask_epi8(bad);
}
#endif

/* The first position from pos (before stop) whose byte is not in the class table: the one
 * loop under every scan, with the position in a register (a store to st->pos per byte could
 * alias the buffer, so the compiler kept it in memory). */
static inline size_t scan_while(const unsigned char *b, size_t pos, size_t stop,
                                const uint8_t *cls, int kind)
{
#ifdef __SSE2__
    while (pos + 16 <= stop) {
        unsigned m = vec_stops(_mm_loadu_si128((const __m128i *)(const void *)(b + pos)), kind);
        if (m) {
            pos += (size_t)__builtin_ctz(m);
            if (kind != V_TOKEN) /* the vector judged as the table does */
                return pos;
            break;
        }
        pos += 16;
    }
#else
    (void)kind;
#endif
    while (pos + 4 <= stop && cls[b[pos]] && cls[b[pos + 1]] && cls[b[pos + 2]] &&
           cls[b[pos + 3]])
        pos += 4;
    while (pos < stop && cls[b[pos]])
        pos++;
    return pos;
}

/* Where the content of the current line must stop: its limit, or the end of the bytes. A byte
 * at the limit other than the CR that ends the line is one too many. */
static size_t line_stop(const parser_t *ps, size_t max)
{
    size_t line = ps->st->line; /* <= pos <= len */
    return max < ps->len - line ? line + max : ps->len;
}

/* After a scan loop stopped at stop: AGAIN when out of bytes, the limit status when the byte
 * at the limit is content (stop < len only at the limit), else 0: the byte is the caller's. */
static int scan_end(const parser_t *ps, size_t stop, int status)
{
    size_t pos = ps->st->pos;
    if (pos == ps->len)
        return AGAIN;
    return pos == stop && ps->buf[pos] != '\r' ? status : 0;
}

static int scan_blank(parser_t *ps)
{
    pt_http1_parser_t *st = ps->st;
    if (st->pos == ps->len)
        return AGAIN;
    if (ps->buf[st->pos] != '\r') {
        st->line = st->method = st->pos;
        st->state = S_METHOD;
        return 0;
    }
    if (st->pos + 1 == ps->len)
        return AGAIN;
    if (ps->buf[st->pos + 1] != '\n' || st->blank == MAX_BLANK_LINES)
        return 400;
    st->pos += 2;
    st->blank++;
    return 0;
}

/* method SP request-target SP HTTP-version CRLF, exactly one SP between parts (RFC 9112 3). */
static int scan_method(parser_t *ps)
{
    pt_http1_parser_t *st = ps->st;
    const unsigned char *b = (const unsigned char *)ps->buf;
    size_t stop = line_stop(ps, ps->lim->max_line);
    st->pos = scan_while(b, st->pos, stop, tchar, V_TOKEN);
    int rc = scan_end(ps, stop, 414);
    if (rc)
        return rc;
    if (b[st->pos] != ' ' || st->pos == st->line)
        return 400;
    st->method_len = st->pos - st->line;
    st->value = ++st->pos;
    st->state = S_TARGET;
    return 0;
}

static int scan_target(parser_t *ps)
{
    pt_http1_parser_t *st = ps->st;
    const unsigned char *b = (const unsigned char *)ps->buf;
    size_t stop = line_stop(ps, ps->lim->max_line);
    st->pos = scan_while(b, st->pos, stop, target_ch, V_TARGET);
    int rc = scan_end(ps, stop, 414);
    if (rc)
        return rc;
    if (b[st->pos] != ' ' || st->pos == st->value)
        return 400;
    st->target = st->value;
    st->target_len = st->pos - st->value;
    st->value = ++st->pos;
    st->state = S_VERSION;
    return 0;
}

/* The parts of the request line as slices of buf (target-derived fields included). */
static int request_line_slices(const parser_t *ps, pt_http1_request_t *req)
{
    const pt_http1_parser_t *st = ps->st;
    req->method = (pt_str_t){ps->buf + st->method, st->method_len};
    req->method_id = method_id(req->method);
    req->target = (pt_str_t){ps->buf + st->target, st->target_len};
    req->version = st->version;
    return parse_target(req);
}

/* The version and its CRLF are whole: the version and the target are judged as a whole. */
static int version_done(parser_t *ps)
{
    pt_http1_parser_t *st = ps->st;
    int rc = parse_version(ps->buf + st->value, &st->version);
    if (rc)
        return rc;
    /* Judged into the caller's request: when the head ends in this call too (the usual
     * case), its request line is there already. */
    ps->line_done = true;
    rc = request_line_slices(ps, ps->req);
    if (rc)
        return rc;
    st->line = st->fields = st->pos;
    st->state = S_FIELD;
    return 0;
}

/* Eight version bytes (no CR or LF among them), CR, LF; then version_done. */
static int scan_version(parser_t *ps)
{
    pt_http1_parser_t *st = ps->st;
    const char *b = ps->buf;
    /* The usual line ends in "HTTP/1.1" CRLF, all here and within the limit: what the loop
     * below would find byte by byte. */
    if (st->pos == st->value && ps->len - st->pos >= 10 &&
        st->pos + 7 - st->line < ps->lim->max_line &&
        (memcmp(b + st->pos, "HTTP/1.1\r\n", 10) == 0 ||
         memcmp(b + st->pos, "HTTP/1.0\r\n", 10) == 0)) {
        st->pos += 10;
        return version_done(ps);
    }
    for (; st->pos < ps->len; st->pos++) {
        size_t i = st->pos - st->value;
        char ch = b[st->pos];
        if (i < 8) {
            if (ch == '\r' || ch == '\n')
                return 400;
            if (st->pos - st->line >= ps->lim->max_line)
                return 414;
        } else if (i == 8) {
            if (ch != '\r')
                return 400;
        } else {
            if (ch != '\n')
                return 400;
            st->pos++;
            return version_done(ps);
        }
    }
    return AGAIN;
}

static int scan_field_start(parser_t *ps)
{
    pt_http1_parser_t *st = ps->st;
    if (st->pos == ps->len)
        return AGAIN;
    if (ps->buf[st->pos] == '\r') {
        st->pos++;
        st->state = S_END_LF;
        return 0;
    }
    if (st->nfields >= ps->lim->max_fields)
        return 431;
    st->line = st->pos;
    st->state = S_NAME;
    return 0;
}

/* field-name ":" OWS field-value OWS CRLF. Anything else is 400: no space before the
 * colon (RFC 9112 5.1), no obs-fold (5.2), no bare CR or LF, no NUL. */
static int scan_name(parser_t *ps)
{
    pt_http1_parser_t *st = ps->st;
    const unsigned char *b = (const unsigned char *)ps->buf;
    size_t stop = line_stop(ps, ps->lim->max_field_size);
    st->pos = scan_while(b, st->pos, stop, tchar, V_TOKEN);
    int rc = scan_end(ps, stop, 431);
    if (rc)
        return rc;
    if (b[st->pos] != ':' || st->pos == st->line)
        return 400;
    st->mark = st->pos++;
    st->state = S_OWS;
    return 0;
}

static int scan_ows(parser_t *ps)
{
    pt_http1_parser_t *st = ps->st;
    size_t stop = line_stop(ps, ps->lim->max_field_size);
    while (st->pos < stop && is_ows(ps->buf[st->pos]))
        st->pos++;
    int rc = scan_end(ps, stop, 431);
    if (rc)
        return rc;
    st->value = st->pos;
    st->state = S_VALUE;
    return 0;
}

static int scan_value(parser_t *ps)
{
    pt_http1_parser_t *st = ps->st;
    const unsigned char *b = (const unsigned char *)ps->buf;
    size_t stop = line_stop(ps, ps->lim->max_field_size);
    st->pos = scan_while(b, st->pos, stop, value_ch, V_VALUE);
    int rc = scan_end(ps, stop, 431);
    if (rc)
        return rc;
    if (b[st->pos] != '\r')
        return 400;
    st->pos++;
    st->state = S_FIELD_LF;
    return 0;
}

/* The LF that ends a field line: the field is whole, and its meaning is taken now. */
static int scan_field_lf(parser_t *ps)
{
    pt_http1_parser_t *st = ps->st;
    if (st->pos == ps->len)
        return AGAIN;
    if (ps->buf[st->pos] != '\n')
        return 400;
    const char *v = ps->buf + st->value, *e = ps->buf + st->pos - 1;
    while (e > v && is_ows(e[-1]))
        e--;
    pt_header_t h = {{ps->buf + st->line, st->mark - st->line}, {v, (size_t)(e - v)}};
    int rc = on_field(ps, &h);
    if (rc)
        return rc;
    if (st->nfields < PT_HTTP1_KEPT_FIELDS && st->pos <= UINT32_MAX) {
        uint32_t *k = st->kept[st->nfields];
        k[0] = (uint32_t)st->line;
        k[1] = (uint32_t)h.name.len;
        k[2] = (uint32_t)st->value;
        k[3] = (uint32_t)h.value.len;
    }
    st->nfields++;
    st->line = ++st->pos;
    if (st->nfields == PT_HTTP1_KEPT_FIELDS)
        st->rest = st->line;
    st->state = S_FIELD;
    return 0;
}

/* Framing and routing decisions that need the whole head (RFC 9112 3.2, 6, 9.3). */
static int finish(const parser_t *ps, pt_http1_request_t *req)
{
    const pt_http1_parser_t *st = ps->st;
    if (st->te_seen) {
        /* TE in HTTP/1.0 means faulty framing (RFC 9112 6.1); with CL it can smuggle. */
        if (st->version == 10 || st->cl_seen || !st->te_last_chunked)
            return 400;
        req->chunked = true;
    }
    if (st->version == 11 && st->hosts == 0)
        return 400;
    req->content_length = st->cl_seen ? st->content_length : -1;
    if (st->hosts)
        req->host = (pt_str_t){ps->buf + st->host, st->host_len};
    if (req->abs_host.len > 0)
        req->host = req->abs_host;
    if (st->version == 11) {
        req->keep_alive = !st->conn_close;
        req->expect_continue = st->expect;
    } else {
        req->keep_alive = st->conn_keep_alive && !st->conn_close;
    }
    req->upgrade = st->conn_upgrade && st->has_upgrade;
    return 0;
}

static int scan_end_lf(parser_t *ps)
{
    pt_http1_parser_t *st = ps->st;
    if (st->pos == ps->len)
        return AGAIN;
    if (ps->buf[st->pos] != '\n')
        return 400;
    st->pos++;
    st->state = S_DONE;
    return 0;
}

/* The fields as slices, split again now that the head is whole and the buffer holds still:
 * a second pass over lines already judged, so the parse stays linear. */
static void store_headers(const parser_t *ps, pt_arena_t *arena, pt_http1_request_t *req)
{
    size_t n = ps->st->nfields;
    req->nheaders = n;
    if (n == 0)
        return;
    req->headers = pt_arena_alloc(arena, n * sizeof(pt_header_t));
    const char *b = ps->buf;
    size_t i = 0;
    if (ps->st->pos <= UINT32_MAX) { /* else the offsets were not kept */
        for (; i < n && i < PT_HTTP1_KEPT_FIELDS; i++) {
            const uint32_t *k = ps->st->kept[i];
            req->headers[i] = (pt_header_t){{b + k[0], k[1]}, {b + k[2], k[3]}};
        }
    }
    const char *p = b + (i > 0 ? ps->st->rest : ps->st->fields);
    for (; i < n; i++)
        p = split_field(p, &req->headers[i]);
}

static int scan(parser_t *ps)
{
    int rc = 0;
    while (rc == 0 && ps->st->state != S_DONE) {
        switch (ps->st->state) {
        case S_BLANK: rc = scan_blank(ps); break;
        case S_METHOD: rc = scan_method(ps); break;
        case S_TARGET: rc = scan_target(ps); break;
        case S_VERSION: rc = scan_version(ps); break;
        case S_FIELD: rc = scan_field_start(ps); break;
        case S_NAME: rc = scan_name(ps); break;
        case S_OWS: rc = scan_ows(ps); break;
        case S_VALUE: rc = scan_value(ps); break;
        case S_FIELD_LF: rc = scan_field_lf(ps); break;
        case S_END_LF: rc = scan_end_lf(ps); break;
        default: rc = 400; break;
        }
    }
    return rc;
}

void pt_http1_parser_init(pt_http1_parser_t *st)
{
    memset(st, 0, offsetof(pt_http1_parser_t, kept));
}

/* What the caller's request holds unless a head is DONE. */
static void req_empty(pt_http1_request_t *req)
{
    memset(req, 0, sizeof(*req));
    req->content_length = -1;
}

pt_http1_result_t pt_http1_parse_more(pt_http1_parser_t *st, const char *buf, size_t len,
                                      const pt_http1_limits_t *lim, pt_arena_t *arena,
                                      pt_http1_request_t *req, int *status)
{
    parser_t ps = {buf, len, lim, st, req, false};
    req_empty(req);
    int rc = scan(&ps);
    if (rc == 0) {
        if (!ps.line_done) /* judged in an earlier call */
            request_line_slices(&ps, req);
        rc = finish(&ps, req);
    }
    if (rc && ps.line_done) /* req is filled only on DONE */
        req_empty(req);
    if (rc == AGAIN)
        return PT_HTTP1_AGAIN;
    if (rc) {
        st->state = S_FAILED; /* called again, it stays an error */
        *status = rc;
        return PT_HTTP1_ERROR;
    }
    store_headers(&ps, arena, req);
    req->head_len = st->pos;
    return PT_HTTP1_DONE;
}

pt_http1_result_t pt_http1_parse_head(const char *buf, size_t len, const pt_http1_limits_t *lim,
                                      pt_arena_t *arena, pt_http1_request_t *req, int *status)
{
    pt_http1_parser_t st;
    pt_http1_parser_init(&st);
    return pt_http1_parse_more(&st, buf, len, lim, arena, req, status);
}

const pt_str_t *pt_http1_header(const pt_http1_request_t *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++) {
        const pt_header_t *h = &req->headers[i];
        if (h->name.len == n && strncasecmp(h->name.p, name, n) == 0)
            return &h->value;
    }
    return NULL;
}
