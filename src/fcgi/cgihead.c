/* The CGI response head a FastCGI responder writes on STDOUT (RFC 3875 section 6): gathered
 * with a bound, then parsed into status, Location (local or client redirect), Content-Type
 * and the other header fields, several of a name kept apart (Set-Cookie). */
#include "fcgi/fcgi.h"

#include <ctype.h>
#include <stdlib.h>

void pt_fcgi_head_init(pt_fcgi_head_t *h, pt_arena_t *a, size_t max)
{
    h->arena = a;
    h->max = max;
    h->cap = PT_MIN(max, (size_t)4096);
    h->buf = pt_arena_alloc(a, h->cap);
    h->len = 0;
}

/* Index just past the blank line that ends the head, scanning from start; 0 when none. A
 * blank first line is an empty head. */
static size_t head_end(const char *b, size_t len, size_t start)
{
    for (size_t i = start; i < len; i++) {
        if (b[i] != '\n')
            continue;
        if (i == 0 || b[i - 1] == '\n')
            return i + 1;
        if (b[i - 1] == '\r' && (i == 1 || b[i - 2] == '\n'))
            return i + 1;
    }
    return 0;
}

int pt_fcgi_head_feed(pt_fcgi_head_t *h, const char *p, size_t n, size_t *used)
{
    size_t take = PT_MIN(n, h->max - h->len);
    if (h->len + take > h->cap) {
        size_t cap = PT_MIN(PT_MAX(h->cap * 2, h->len + take), h->max);
        h->buf = pt_arena_grow(h->arena, h->buf, h->len, cap);
        h->cap = cap;
    }
    memcpy(h->buf + h->len, p, take);
    size_t start = h->len > 2 ? h->len - 2 : 0;
    size_t old = h->len;
    h->len += take;
    size_t end = head_end(h->buf, h->len, start);
    if (end) {
        *used = end - old;
        h->len = end;
        return 1;
    }
    *used = take;
    return h->len >= h->max ? PT_ETOOBIG : 0;
}

static bool is_token(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?={}", c))
            return false;
    }
    return true;
}

static int parse_status(pt_fcgi_cgi_t *out, const char *v)
{
    if (!isdigit((unsigned char)v[0]) || !isdigit((unsigned char)v[1]) ||
        !isdigit((unsigned char)v[2]) || (v[3] && v[3] != ' ' && v[3] != '\t'))
        return PT_EINVAL;
    int st = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
    /* A CGI script answers with a final status; 1xx is not one. */
    if (st < 200 || st > 599)
        return PT_EINVAL;
    out->status = st;
    const char *rs = v + 3;
    while (*rs == ' ' || *rs == '\t')
        rs++;
    out->reason = *rs ? rs : NULL;
    return 0;
}

/* Lines with their trailing CR removed. A line starting with blanks would continue the last
 * (obs-fold): refused, as Apache does (RFC 9112 section 5.2 lets a proxy reject it, and a
 * joined value is where a backend's header could be read two ways). */
static int collect_lines(pt_arena_t *a, const char *head, size_t len, pt_table_t *raw,
                         const char **why)
{
    size_t o = 0;
    while (o < len) {
        const char *nl = memchr(head + o, '\n', len - o);
        size_t e = nl ? (size_t)(nl - head) : len;
        size_t le = e;
        if (le > o && head[le - 1] == '\r')
            le--;
        const char *line = head + o;
        size_t ll = le - o;
        o = e + 1;
        if (ll == 0)
            break;
        if (line[0] == ' ' || line[0] == '\t') {
            *why = "folded header line (obs-fold) from the script";
            return PT_EINVAL;
        }
        const char *colon = memchr(line, ':', ll);
        if (!colon || !is_token(line, (size_t)(colon - line))) {
            *why = "malformed header line from the script";
            return PT_EINVAL;
        }
        pt_table_add(raw, pt_arena_strndup(a, line, (size_t)(colon - line)),
                     pt_arena_strndup(a, colon + 1, ll - (size_t)(colon + 1 - line)));
    }
    return 0;
}

static const char *trim(pt_arena_t *a, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return pt_arena_strndup(a, v, n);
}

int pt_fcgi_head_parse(pt_arena_t *a, const char *head, size_t len, pt_fcgi_cgi_t *out,
                       const char **why)
{
    memset(out, 0, sizeof(*out));
    pt_table_init(&out->headers, a, 16);
    pt_table_t raw;
    pt_table_init(&raw, a, 16);
    *why = NULL;
    if (collect_lines(a, head, len, &raw, why) != 0)
        return PT_EINVAL;
    bool have_status = false;
    for (size_t i = 0; i < raw.n; i++) {
        const char *name = raw.v[i].name;
        const char *v = trim(a, raw.v[i].value);
        if (strcasecmp(name, "Status") == 0) {
            if (parse_status(out, v) != 0) {
                *why = "invalid Status from the script";
                return PT_EINVAL;
            }
            have_status = true;
        } else if (strcasecmp(name, "Content-Type") == 0) {
            out->content_type = v;
        } else if (strcasecmp(name, "Content-Length") == 0 ||
                   strcasecmp(name, "Transfer-Encoding") == 0 ||
                   strcasecmp(name, "Connection") == 0 || strcasecmp(name, "Keep-Alive") == 0) {
            continue; /* framing and hop-by-hop fields are the server's */
        } else {
            if (strcasecmp(name, "Location") == 0)
                out->location = v;
            pt_table_add(&out->headers, name, v);
        }
    }
    if (!have_status)
        out->status = 200;
    if (out->location && !have_status) {
        /* RFC 3875 6.2.2: a local path without a status is the server's to fetch. */
        if (out->location[0] == '/')
            out->local_redirect = true;
        else
            out->status = 302;
    }
    return 0;
}
