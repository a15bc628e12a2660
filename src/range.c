/* Range parsing and multipart/byteranges framing (RFC 9110 section 14), and the pieces of
 * conditional requests (RFC 9110 section 13): ETags as Apache makes them and the order in
 * which preconditions are evaluated (HTTP dates are base/httpdate.c's). */
#include "range.h"

#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    return p;
}

/* 1*DIGIT, saturating at INT64_MAX: a huge position is valid syntax, just unsatisfiable or
 * clamped. NULL when there is no digit. */
static const char *parse_pos(const char *p, int64_t *out)
{
    if (!isdigit((unsigned char)*p)) {
        return NULL;
    }
    int64_t v = 0;
    for (; isdigit((unsigned char)*p); p++) {
        int d = *p - '0';
        v = v > (INT64_MAX - d) / 10 ? INT64_MAX : v * 10 + d;
    }
    *out = v;
    return p;
}

/* One range-spec at p. Returns the position after it, or NULL for bad syntax. *ok says
 * whether it is satisfiable for size; then *r holds it, clamped. */
static const char *parse_spec(const char *p, int64_t size, pt_range_t *r, bool *ok)
{
    int64_t first, last;
    *ok = false;
    if (*p == '-') {
        p = parse_pos(p + 1, &last);
        if (p == NULL) {
            return NULL;
        }
        if (last > 0) {
            r->first = last >= size ? 0 : size - last;
            r->last = size - 1;
            *ok = true;
        }
        return p;
    }
    p = parse_pos(p, &first);
    if (p == NULL || *p != '-') {
        return NULL;
    }
    p++;
    last = INT64_MAX;
    if (isdigit((unsigned char)*p)) {
        p = parse_pos(p, &last);
        if (last < first) {
            return NULL;
        }
    }
    if (first < size) {
        r->first = first;
        r->last = PT_MIN(last, size - 1);
        *ok = true;
    }
    return p;
}

static int cmp_range(const void *a, const void *b)
{
    const pt_range_t *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

static size_t coalesce(pt_range_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_range);
    size_t o = 0;
    for (size_t i = 1; i < n; i++) {
        if (v[i].first <= v[o].last + 1) {
            v[o].last = PT_MAX(v[o].last, v[i].last);
        } else {
            v[++o] = v[i];
        }
    }
    return o + 1;
}

pt_range_result_t pt_range_parse(const char *value, int64_t size, pt_range_t *out, size_t *n)
{
    *n = 0;
    if (value == NULL || size <= 0) {
        return PT_RANGE_NONE;
    }
    const char *p = skip_ows(value);
    if (strncasecmp(p, "bytes=", 6) != 0) {
        return PT_RANGE_NONE;
    }
    p += 6;
    size_t specs = 0, sat = 0;
    for (;;) {
        p = skip_ows(p);
        if (*p == ',') { /* empty list elements are allowed (RFC 9110 5.6.1) */
            p++;
            continue;
        }
        if (*p == '\0') {
            break;
        }
        if (++specs > PT_RANGE_MAX) {
            return PT_RANGE_NONE;
        }
        bool ok;
        p = parse_spec(p, size, &out[sat], &ok);
        if (p == NULL) {
            return PT_RANGE_NONE;
        }
        sat += ok;
        p = skip_ows(p);
        if (*p != ',' && *p != '\0') {
            return PT_RANGE_NONE;
        }
    }
    if (specs == 0) {
        return PT_RANGE_NONE;
    }
    if (sat == 0) {
        return PT_RANGE_UNSATISFIABLE;
    }
    *n = coalesce(out, sat);
    return PT_RANGE_OK;
}

const char *pt_range_part_head(pt_arena_t *a, const char *boundary, const char *type,
                               const pt_range_t *r, int64_t size)
{
    return pt_arena_printf(a, "\r\n--%s\r\n%s%s%sContent-Range: bytes %" PRId64 "-%" PRId64
                              "/%" PRId64 "\r\n\r\n",
                           boundary, type ? "Content-Type: " : "", type ? type : "",
                           type ? "\r\n" : "", r->first, r->last, size);
}

const char *pt_range_multipart_tail(pt_arena_t *a, const char *boundary)
{
    return pt_arena_printf(a, "\r\n--%s--\r\n", boundary);
}

int64_t pt_range_multipart_length(pt_arena_t *a, const char *boundary, const char *type,
                                  const pt_range_t *ranges, size_t n, int64_t size)
{
    int64_t total = (int64_t)strlen(pt_range_multipart_tail(a, boundary));
    for (size_t i = 0; i < n; i++) {
        total += (int64_t)strlen(pt_range_part_head(a, boundary, type, &ranges[i], size));
        total += ranges[i].last - ranges[i].first + 1;
    }
    return total;
}

/* ---- Validators --------------------------------------------------------------------- */

/* v in lowercase hex without leading zeros, as %PRIx64; returns the end. */
static char *put_hex(char *p, uint64_t v)
{
    char t[16];
    size_t n = 0;
    do {
        t[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    while (n)
        *p++ = t[--n];
    return p;
}

/* By hand, not with snprintf: four calls of it were the largest libc cost of a static 1 KiB
 * response. At most 2 quotes, 3 x 16 digits and 2 dashes: PT_ETAG_LEN holds them and "W/". */
void pt_etag_make_bits(char *buf, size_t len, unsigned bits, uint64_t inode, int64_t size,
                       int64_t mtime_us)
{
    if (len < 53) {
        if (len)
            buf[0] = '\0';
        return;
    }
    char *p = buf;
    *p++ = '"';
    if (bits & PT_FETAG_INODE) {
        p = put_hex(p, inode);
        if (bits & (PT_FETAG_SIZE | PT_FETAG_MTIME))
            *p++ = '-';
    }
    if (bits & PT_FETAG_SIZE) {
        p = put_hex(p, (uint64_t)size);
        if (bits & PT_FETAG_MTIME)
            *p++ = '-';
    }
    if (bits & PT_FETAG_MTIME)
        p = put_hex(p, (uint64_t)mtime_us);
    *p++ = '"';
    *p = '\0';
}

void pt_etag_make_weak_bits(char *buf, size_t len, unsigned bits, uint64_t inode, int64_t size,
                            int64_t mtime_us)
{
    if (len < 2) {
        if (len)
            buf[0] = '\0';
        return;
    }
    pt_etag_make_bits(buf + 2, len - 2, bits, inode, size, mtime_us);
    buf[0] = buf[2] ? 'W' : '\0';
    buf[1] = '/';
}

/* Apache compares request_time - mtime > APR_USEC_PER_SEC, both in microseconds. */
#define ETAG_WEAK_WINDOW_US 1000000

bool pt_etag_weak(int64_t mtime_us, int64_t request_us)
{
    return mtime_us >= request_us - ETAG_WEAK_WINDOW_US; /* (no overflow for any mtime) */
}

/* The next entity-tag in a list: sets *weak and the opaque part (between the quotes).
 * Returns the position after it, or NULL at the end or on bad syntax. */
static const char *next_etag(const char *p, bool *weak, const char **op, size_t *on)
{
    while (*p == ' ' || *p == '\t' || *p == ',') {
        p++;
    }
    if (*p == '\0') {
        return NULL;
    }
    *weak = false;
    if (p[0] == 'W' && p[1] == '/') {
        *weak = true;
        p += 2;
    }
    if (*p != '"') {
        return NULL;
    }
    const char *end = strchr(p + 1, '"');
    if (end == NULL) {
        return NULL;
    }
    *op = p + 1;
    *on = (size_t)(end - p - 1);
    return end + 1;
}

bool pt_etag_list_match(const char *list, const char *etag, bool weak)
{
    if (list == NULL || etag == NULL) {
        return false;
    }
    const char *p = skip_ows(list);
    if (p[0] == '*') {
        const char *q = p + 1;
        while (*q == ' ' || *q == '\t') {
            q++;
        }
        if (*q == '\0') {
            return true;
        }
    }
    bool our_weak, their_weak;
    const char *ours, *theirs;
    size_t our_n, their_n;
    if (next_etag(etag, &our_weak, &ours, &our_n) == NULL) {
        return false;
    }
    if (!weak && our_weak) {
        return false;
    }
    while ((p = next_etag(p, &their_weak, &theirs, &their_n)) != NULL) {
        if ((weak || !their_weak) && their_n == our_n && memcmp(theirs, ours, our_n) == 0) {
            return true;
        }
    }
    return false;
}

/* A list field may arrive as several field lines; each is checked. */
static bool any_etag_match(const pt_table_t *h, const char *name, const char *etag, bool weak)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->v[i].name, name) == 0 &&
            pt_etag_list_match(h->v[i].value, etag, weak)) {
            return true;
        }
    }
    return false;
}

/* Whether any field of h is named "If-...": most requests carry none, and one pass over the
 * fields then stands for the four lookups. */
static bool has_if_field(const pt_table_t *h)
{
    for (size_t i = 0; i < h->n; i++) {
        const char *n = h->v[i].name;
        if ((n[0] | 0x20) == 'i' && (n[1] | 0x20) == 'f' && n[2] == '-')
            return true;
    }
    return false;
}

int pt_cond_evaluate(const pt_table_t *h, bool get_or_head, const char *etag, time_t mtime,
                     time_t now)
{
    if (!has_if_field(h))
        return 0;
    time_t t;
    if (pt_table_get(h, "If-Match") != NULL) {
        if (!any_etag_match(h, "If-Match", etag, false)) {
            return 412;
        }
    } else {
        const char *ius = pt_table_get(h, "If-Unmodified-Since");
        if (ius != NULL && pt_http_date_parse(ius, &t) == 0 && mtime > t) {
            return 412;
        }
    }
    if (pt_table_get(h, "If-None-Match") != NULL) {
        if (any_etag_match(h, "If-None-Match", etag, true)) {
            return get_or_head ? 304 : 412;
        }
    } else if (get_or_head) {
        const char *ims = pt_table_get(h, "If-Modified-Since");
        if (ims != NULL && pt_http_date_parse(ims, &t) == 0 && t <= now && mtime <= t) {
            return 304;
        }
    }
    return 0;
}

bool pt_range_if_range_ok(const char *if_range, const char *etag, time_t mtime)
{
    if (if_range == NULL) {
        return true;
    }
    const char *p = skip_ows(if_range);
    if (*p == '"' || (p[0] == 'W' && p[1] == '/')) {
        /* Strong comparison of exactly one entity-tag. */
        bool weak;
        const char *op;
        size_t on;
        const char *end = next_etag(p, &weak, &op, &on);
        if (end == NULL || weak || *skip_ows(end) != '\0') {
            return false;
        }
        return pt_etag_list_match(p, etag, false);
    }
    time_t t;
    return pt_http_date_parse(p, &t) == 0 && t == mtime;
}
