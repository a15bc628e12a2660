/* The upstream response head parser (http_resp.h). One pass over a complete head: the
 * caller finds the blank line first, so a head that comes in pieces is parsed once. */
#include "http_resp.h"

#include <string.h>
#include <strings.h>

/* tchar (RFC 9110 5.6.2): the bytes of a field name. */
static const uint8_t tchar[256] = {
    ['!'] = 1, ['#' ... '\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1,
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['^' ... '`'] = 1, ['a' ... 'z'] = 1,
    ['|'] = 1, ['~'] = 1,
};

/* What a field value may hold: every byte but the controls other than HTAB (so the scan of
 * a value stops at its CR, and at a NUL, a bare LF or another control). */
static const uint8_t value_ch[256] = {
    ['\t'] = 1, [' ' ... 0xff] = 1,
};

static bool slice_is(pt_str_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

bool pt_http_list_has(const char *list, size_t len, const char *token, size_t tlen)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (list[i] == ' ' || list[i] == '\t' || list[i] == ','))
            i++;
        size_t s = i;
        while (i < len && list[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (list[e - 1] == ' ' || list[e - 1] == '\t'))
            e--;
        if (e - s == tlen && strncasecmp(list + s, token, tlen) == 0)
            return true;
    }
    return false;
}

/* name (of lit's length) is lit, in any case; its first letter is compared inline, so
 * that most names are told apart without a call. */
static bool name_ci(const char *name, const char *lit, size_t n)
{
    return (name[0] | 0x20) == (lit[0] | 0x20) && strncasecmp(name, lit, n) == 0;
}

bool pt_http_hop_by_hop(const char *name, size_t len)
{
    /* By length and first letter: this runs for every field both ways. */
    switch (len) {
    case 2:
        return name_ci(name, "TE", 2);
    case 7:
        return name_ci(name, "Trailer", 7) || name_ci(name, "Upgrade", 7);
    case 10:
        return name_ci(name, "Connection", 10) || name_ci(name, "Keep-Alive", 10);
    case 16:
        return name_ci(name, "Proxy-Connection", 16);
    case 17:
        return name_ci(name, "Transfer-Encoding", 17);
    case 19:
        return name_ci(name, "Proxy-Authorization", 19);
    default:
        return false;
    }
}

/* "HTTP/1.x DDD[ reason]" */
static bool status_line(const char *p, size_t n, pt_http_resp_t *out)
{
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return false;
    for (int i = 9; i < 12; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    if (n > 12 && p[12] != ' ')
        return false;
    for (size_t i = 13; i < n; i++)
        if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
            return false;
    out->version = p[7] == '1' ? 11 : 10;
    out->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    return out->status >= 100;
}

/* One Content-Length value: digits, or a list of equal ones ("5, 5"), RFC 9110 8.6. */
static bool content_length(pt_str_t v, int64_t *cl)
{
    size_t i = 0;
    do {
        while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
            i++;
        if (i >= v.len || v.p[i] < '0' || v.p[i] > '9')
            return false;
        int64_t n = 0;
        while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9') {
            if (n > (INT64_MAX - 9) / 10)
                return false;
            n = n * 10 + (v.p[i++] - '0');
        }
        while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t'))
            i++;
        if (i < v.len && v.p[i] != ',')
            return false;
        if (*cl >= 0 && *cl != n)
            return false;
        *cl = n;
    } while (i < v.len);
    return true;
}

/* The tokens of a Connection field that the framing depends on, in one walk of its list
 * (the tokens split and trimmed as pt_http_list_has does): close, upgrade, and for
 * HTTP/1.0 keep-alive, which wins over a close in the same field. */
static void connection(pt_http_resp_t *out, pt_str_t v)
{
    bool close = false, upgrade = false, keep = false;
    size_t i = 0;
    while (i < v.len) {
        while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
            i++;
        size_t s = i;
        while (i < v.len && v.p[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
            e--;
        pt_str_t t = {v.p + s, e - s};
        close = close || slice_is(t, "close");
        upgrade = upgrade || slice_is(t, "upgrade");
        keep = keep || slice_is(t, "keep-alive");
    }
    if (close)
        out->conn_close = true;
    if (upgrade)
        out->conn_upgrade = true;
    if (out->version == 10 && keep)
        out->conn_close = false;
}

/* The framing fields and Connection; false with *why for what may not pass. */
static bool note_field(pt_http_resp_t *out, pt_str_t name, pt_str_t v, bool *te_seen,
                       const char **why)
{
    if (slice_is(name, "Content-Length")) {
        if (!content_length(v, &out->content_length))
            return *why = "bad or conflicting Content-Length", false;
    } else if (slice_is(name, "Transfer-Encoding")) {
        /* Only "chunked", once: another coding would need decoding we do not do, and
         * "chunked, chunked" or a coding after chunked is a framing we will not guess. */
        if (*te_seen || !slice_is(v, "chunked"))
            return *why = "unsupported Transfer-Encoding", false;
        *te_seen = out->chunked = true;
    } else if (slice_is(name, "Connection")) {
        connection(out, v);
    }
    return true;
}

/* The first byte of a value at e that is not a value byte, eight at a time while eight
 * remain before limit: a word with no byte below 0x20 is all value bytes (the borrow trick
 * flags the first such byte exactly, little-endian); HTAB, the one control a value may hold,
 * is stepped over. */
static const char *value_end(const char *e, const char *limit)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (limit - e >= 8) {
        uint64_t w;
        memcpy(&w, e, 8);
        uint64_t m = (w - ones * 0x20) & ~w & highs;
        if (m == 0) {
            e += 8;
            continue;
        }
        e += (unsigned)__builtin_ctzll(m) >> 3;
        if (*e != '\t')
            return e;
        e++;
    }
#else
    (void)limit;
#endif
    while (value_ch[(unsigned char)*e])
        e++;
    return e;
}

/* A field line as nearly every backend writes it, "token:value" up to its CRLF, into *f
 * (the value trimmed); the next line, or NULL for any other line, which the checks below
 * then take apart for the reason. Every byte is looked at once, and no scan can pass the
 * CR of the head's last CRLF CRLF at limit - 4 (neither a tchar nor a value byte). */
static const char *clean_field(const char *p, const char *limit, pt_header_t *f)
{
    const char *q = p;
    while (tchar[(unsigned char)*q])
        q++;
    if (q == p || *q != ':')
        return NULL;
    const char *v = q + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    const char *e = value_end(v, limit);
    if (e[0] != '\r' || e[1] != '\n')
        return NULL;
    const char *next = e + 2;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    f->name = (pt_str_t){p, (size_t)(q - p)};
    f->value = (pt_str_t){v, (size_t)(e - v)};
    return next;
}

/* "name: value" in p[0..n); the value trimmed. */
static bool field_line(const char *p, size_t n, pt_header_t *f, const char **why)
{
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p)
        return *why = "malformed header field", false;
    for (const char *q = p; q < colon; q++)
        if (!tchar[(unsigned char)*q])
            return *why = "malformed header field name", false;
    const char *v = colon + 1, *e = p + n;
    for (const char *q = v; q < e; q++)
        if ((unsigned char)*q < 0x20 && *q != '\t')
            return *why = "control character in a header field", false;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    f->name = (pt_str_t){p, (size_t)(colon - p)};
    f->value = (pt_str_t){v, (size_t)(e - v)};
    return true;
}

/* Where the head in buf[0..len) ends: its "\r\n\r\n", or NULL; *lines the LFs up to it.
 * One memchr per line (memmem was a quarter of a proxied request's user-space work). */
static const char *head_end(const char *buf, size_t len, size_t *lines)
{
    const char *p = buf, *end = buf + len, *q;
    size_t k = 0;
    while ((q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        k++;
        if (q - buf >= 3 && q[-1] == '\r' && q[-2] == '\n' && q[-3] == '\r') {
            *lines = k;
            return q - 3;
        }
        p = q + 1;
    }
    return NULL;
}

pt_http_resp_result_t pt_http_resp_parse(const char *buf, size_t len, size_t max_fields,
                                         pt_arena_t *a, pt_http_resp_t *out, const char **why)
{
    return pt_http_resp_parse_bad(buf, len, max_fields, PT_HTTP_BADHDR_ERROR, a, out, why);
}

pt_http_resp_result_t pt_http_resp_parse_bad(const char *buf, size_t len, size_t max_fields,
                                             int bad, pt_arena_t *a, pt_http_resp_t *out,
                                             const char **why)
{
    *why = NULL;
    memset(out, 0, sizeof(*out));
    out->content_length = -1;
    size_t cap = 0;
    const char *end = head_end(buf, len, &cap);
    if (!end)
        return len >= PT_HTTP_RESP_HEAD_MAX ? (*why = "response head too large",
                                               PT_HTTP_RESP_BAD)
                                            : PT_HTTP_RESP_AGAIN;
    out->head_len = (size_t)(end - buf) + 4;
    if (out->head_len > PT_HTTP_RESP_HEAD_MAX)
        return *why = "response head too large", PT_HTTP_RESP_BAD;
    /* A line ends at its first LF, which must follow a CR (a bare LF is refused). */
    const char *eol = memchr(buf, '\n', out->head_len);
    if (eol == buf || eol[-1] != '\r' || !status_line(buf, (size_t)(eol - 1 - buf), out))
        return *why = "malformed status line", PT_HTTP_RESP_BAD;
    out->conn_close = out->version == 10;
    if (cap > max_fields + 2)
        return *why = "too many header fields", PT_HTTP_RESP_BAD;
    out->fields = pt_arena_alloc(a, cap * sizeof(*out->fields));
    bool te_seen = false;
    for (const char *p = eol + 1; p < end + 2;) {
        pt_header_t *f = &out->fields[out->nfields];
        const char *next = clean_field(p, end + 4, f);
        if (!next) {
            const char *lf = memchr(p, '\n', (size_t)(end + 2 - p));
            const char *e = lf - 1;
            if (lf == p || *e != '\r' || memchr(p, '\0', (size_t)(e - p)))
                return *why = "bare LF or NUL in the response head", PT_HTTP_RESP_BAD;
            if (*p == ' ' || *p == '\t')
                return *why = "obsolete line folding in the response head", PT_HTTP_RESP_BAD;
            /* ProxyBadHeader: a line without a colon is skipped, or starts the body. */
            if (bad != PT_HTTP_BADHDR_ERROR && !memchr(p, ':', (size_t)(e - p))) {
                if (bad == PT_HTTP_BADHDR_STARTBODY) {
                    out->head_len = (size_t)(p - buf);
                    break;
                }
                p = e + 2;
                continue;
            }
            if (!field_line(p, (size_t)(e - p), f, why))
                return PT_HTTP_RESP_BAD;
            next = lf + 1;
        }
        if (!note_field(out, f->name, f->value, &te_seen, why))
            return PT_HTTP_RESP_BAD;
        out->nfields++;
        p = next;
    }
    if (out->chunked && out->content_length >= 0)
        return *why = "both Content-Length and Transfer-Encoding", PT_HTTP_RESP_BAD;
    return PT_HTTP_RESP_DONE;
}
