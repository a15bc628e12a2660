/* HTTP/1.1 request head parser (RFC 9110, RFC 9112): the scan; what the pieces mean is judged
 * in http1_fields.c, and the chunked decoder is in chunked.c.
 * One pass over the bytes, however they arrive, and no copies: every slice points into the
 * caller's buffer. Strict on purpose: a
 * front-end that tolerates what a back-end reads differently lets requests be smuggled. */
#include "http1.h"
#include "http1_fields.h"

#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Empty lines tolerated before the request line (Apache: DEFAULT_LIMIT_BLANK_LINES). */
#define MAX_BLANK_LINES 10

#define AGAIN 1 /* internal result: need more bytes; statuses are >= 400, success is 0 */

/* field-value bytes: VCHAR, obs-text, SP and HTAB. CR ends the line; NUL, LF and other
 * controls are refused (RFC 9110 5.5). */
static const uint8_t value_ch[256] = {
    ['\t'] = 1, [' ' ... '~'] = 1, [0x80 ... 0xff] = 1,
};

/* request-target bytes: visible ASCII and obs-text, without '#' (a fragment is never sent). */
static const uint8_t target_ch[256] = {
    ['!' ... '"'] = 1, ['$' ... '~'] = 1, [0x80 ... 0xff] = 1,
};


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
    st->pos = scan_while(b, st->pos, stop, pt_h1_tchar, V_TOKEN);
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
    req->method_id = pt_h1_method_id(req->method);
    req->target = (pt_str_t){ps->buf + st->target, st->target_len};
    req->version = st->version;
    return pt_h1_parse_target(req);
}

/* The version and its CRLF are whole: the version and the target are judged as a whole.
 * known: the version when the caller matched its bytes exactly already, else 0. */
static int version_done(parser_t *ps, int known)
{
    pt_http1_parser_t *st = ps->st;
    int rc;
    if (known)
        st->version = known;
    else if ((rc = pt_h1_parse_version(ps->buf + st->value, &st->version)) != 0)
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
        st->pos + 7 - st->line < ps->lim->max_line) {
        int known = memcmp(b + st->pos, "HTTP/1.1\r\n", 10) == 0   ? 11
                    : memcmp(b + st->pos, "HTTP/1.0\r\n", 10) == 0 ? 10
                                                                   : 0;
        if (known) {
            st->pos += 10;
            return version_done(ps, known); /* what pt_h1_parse_version would find */
        }
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
            return version_done(ps, 0);
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
    st->pos = scan_while(b, st->pos, stop, pt_h1_tchar, V_TOKEN);
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
    while (st->pos < stop && pt_h1_is_ows(ps->buf[st->pos]))
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
    while (e > v && pt_h1_is_ows(e[-1]))
        e--;
    pt_header_t h = {{ps->buf + st->line, st->mark - st->line}, {v, (size_t)(e - v)}};
    if (pt_h1_field_may_matter(h.name)) {
        int rc = pt_h1_on_field(ps->st, ps->buf, &h);
        if (rc)
            return rc;
    }
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
        p = pt_h1_split_field(p, &req->headers[i]);
}

/* Each step that returns 0 has set the state that follows it, and the states of a line
 * follow in the enum's order: a step that succeeds goes straight on to the next case, where
 * the loop would have sent it. The loop turns only where a line ends (an empty one before
 * the request line, a field's LF, the head's empty line): a dozen dispatches a head were a
 * tenth of its parse. */
static int scan(parser_t *ps)
{
    pt_http1_parser_t *st = ps->st;
    int rc = 0;
    while (rc == 0 && st->state != S_DONE) {
        switch (st->state) {
        case S_BLANK:
            if ((rc = scan_blank(ps)) != 0 || st->state != S_METHOD)
                break; /* an empty line, skipped */
            __attribute__((fallthrough));
        case S_METHOD:
            if ((rc = scan_method(ps)) != 0)
                break;
            __attribute__((fallthrough));
        case S_TARGET:
            if ((rc = scan_target(ps)) != 0)
                break;
            __attribute__((fallthrough));
        case S_VERSION:
            if ((rc = scan_version(ps)) != 0)
                break;
            __attribute__((fallthrough));
        case S_FIELD:
            if ((rc = scan_field_start(ps)) != 0 || st->state != S_NAME)
                break; /* S_END_LF: the head's empty line */
            __attribute__((fallthrough));
        case S_NAME:
            if ((rc = scan_name(ps)) != 0)
                break;
            __attribute__((fallthrough));
        case S_OWS:
            if ((rc = scan_ows(ps)) != 0)
                break;
            __attribute__((fallthrough));
        case S_VALUE:
            if ((rc = scan_value(ps)) != 0)
                break;
            __attribute__((fallthrough));
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
