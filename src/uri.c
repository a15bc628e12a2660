/* URL-path normalization (percent-decoding, RFC 3986 dot-segment removal, slash merging)
 * and mapping of the result to a file by Alias, AliasMatch and DocumentRoot, as Apache's
 * core and mod_alias do. Also the escaping helpers used for links and Location headers. */
#include "uri.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Decodes %XX into out (room for len + 1). A decoded '/' would let a client hide a segment
 * boundary from <Location> matching, so it is refused as Apache does with
 * AllowEncodedSlashes Off; a NUL byte would truncate the file name. */
static int percent_decode(const char *raw, size_t len, int slashes, char *out, size_t *outlen)
{
    if (!memchr(raw, '%', len) && !memchr(raw, '\0', len)) { /* nothing to decode */
        memcpy(out, raw, len);
        out[len] = '\0';
        *outlen = len;
        return 0;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = raw[i];
        if (c == '\0') {
            return 400;
        }
        if (c == '%') {
            if (i + 2 >= len) {
                return 400;
            }
            int hi = pt_hexval(raw[i + 1]);
            int lo = pt_hexval(raw[i + 2]);
            if (hi < 0 || lo < 0) {
                return 400;
            }
            int v = hi * 16 + lo;
            if (v == 0) {
                return 400;
            }
            if (v == '/' && slashes == 3) { /* NoDecode: kept as sent */
                memcpy(out + o, raw + i, 3);
                o += 3;
                i += 2;
                continue;
            }
            if (v == '/' && slashes != 2) {
                return 404;
            }
            c = (char)v;
            i += 2;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    *outlen = o;
    return 0;
}

/* Removes "." and ".." segments (RFC 3986 5.2.4) and, when merge, runs of '/' (Apache's
 * MergeSlashes On, the default; Off keeps them). A trailing '/' is kept, and a trailing "." or ".." leaves one, as the
 * RFC's algorithm does. in starts with '/'. Returns false when a ".." would climb above the
 * root, unless clamp (file names: "/.." is "/"): Apache answers such a URL with 400. */
/* Whether a path of more than "/" has no "//", "/." or "/..": remove_dot_segments gives it
 * back as it is. */
static bool no_dot_segments(const char *in, size_t len)
{
    if (len <= 1)
        return false;
    /* A short name byte by byte (two memchr calls cost more than its bytes), a longer one
     * from slash to slash: this runs on every mapped name. */
    if (len <= 16) {
        for (size_t i = 0; i + 1 < len; i++)
            if (in[i] == '/' && (in[i + 1] == '/' || in[i + 1] == '.'))
                return false;
        return true;
    }
    const char *p = in, *last = in + len - 1; /* a '/' at last has no byte after it */
    while ((p = memchr(p, '/', (size_t)(last - p))) != NULL) {
        if (p[1] == '/' || p[1] == '.')
            return false;
        p++;
    }
    return true;
}

static bool remove_dot_segments(const char *in, size_t len, char *out, bool clamp, bool merge)
{
    /* The common case is its own result, copied at once instead of segment by segment. */
    if (no_dot_segments(in, len)) {
        memcpy(out, in, len);
        out[len] = '\0';
        return true;
    }
    size_t o = 0;
    out[o++] = '/';
    bool last_is_name = false;
    size_t i = 1;
    while (i <= len) {
        size_t j = i;
        while (j < len && in[j] != '/') {
            j++;
        }
        size_t n = j - i;
        last_is_name = false;
        if (n == 0 && !merge && j < len) {
            out[o++] = '/'; /* MergeSlashes Off: an empty segment is kept */
        } else if (n == 0 || (n == 1 && in[i] == '.')) {
            /* nothing */
        } else if (n == 2 && in[i] == '.' && in[i + 1] == '.') {
            if (o == 1 && !clamp) {
                return false;
            }
            if (o > 1) {
                o--; /* the '/' ending the last segment */
                while (o > 0 && out[o - 1] != '/') {
                    o--;
                }
            }
        } else {
            memcpy(out + o, in + i, n);
            o += n;
            out[o++] = '/';
            last_is_name = true;
        }
        i = j + 1;
    }
    if (last_is_name && o > 1) {
        o--;
    }
    out[o] = '\0';
    return true;
}

#ifdef __SSE2__
/* For 16 bytes of a path: bit i of *bad set when byte i is '%' or NUL, of *slash when it is
 * '/', of *next when it is '/' or '.' (what may not follow a '/'). */
static inline void path_classes(__m128i v, unsigned *bad, unsigned *slash, unsigned *next)
{
    __m128i sl = _mm_cmpeq_epi8(v, _mm_set1_epi8('/'));
    __m128i b = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('%')),
                             _mm_cmpeq_epi8(v, _mm_setzero_si128()));
    *bad = (unsigned)_mm_movemask_epi8(b);
    *slash = (unsigned)_mm_movemask_epi8(sl);
    *next = (unsigned)_mm_movemask_epi8(_mm_or_si128(sl, _mm_cmpeq_epi8(v, _mm_set1_epi8('.'))));
}
#endif

/* Whether a path of more than "/" is its own normal form: nothing to decode (no '%', no
 * NUL) and no "//", "/." or "/.." (no_dot_segments). One pass, 16 bytes at a time: the
 * searches it stands for (memchr for each, then from slash to slash) made normalizing
 * "/1k.bin" cost 190 instructions, this pass and the copy 120. */
static bool path_is_normal(const char *in, size_t len)
{
    if (len <= 1)
        return false;
#ifdef __SSE2__
    unsigned carry = 0; /* a '/' ended the previous 16 bytes */
    size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        unsigned bad, slash, next;
        path_classes(_mm_loadu_si128((const __m128i *)(const void *)(in + i)), &bad, &slash,
                     &next);
        if (bad || ((slash << 1 | carry) & next))
            return false;
        carry = slash >> 15;
    }
    if (i < len) {
        /* The tail, padded with a byte of no class (a '/' at the end has nothing after). */
        char tail[16];
        memset(tail, 'a', sizeof(tail));
        memcpy(tail, in + i, len - i);
        unsigned bad, slash, next;
        path_classes(_mm_loadu_si128((const __m128i *)(const void *)tail), &bad, &slash, &next);
        if (bad || ((slash << 1 | carry) & next))
            return false;
    }
    return true;
#else
    return !memchr(in, '%', len) && !memchr(in, '\0', len) && no_dot_segments(in, len);
#endif
}

static int normalize(pt_arena_t *a, const char *raw, size_t len, int slashes, bool merge,
                     const char **out)
{
    if (raw == NULL || len == 0 || raw[0] != '/') {
        return 400;
    }
    if (path_is_normal(raw, len)) { /* the usual URL: its copy is the result */
        char *copy = pt_arena_alloc(a, len + 1);
        memcpy(copy, raw, len);
        copy[len] = '\0';
        *out = copy;
        return 0;
    }
    char *dec = pt_arena_alloc(a, len + 1);
    size_t dlen = 0;
    int st = percent_decode(raw, len, slashes, dec, &dlen);
    if (st != 0) {
        return st;
    }
    if (no_dot_segments(dec, dlen)) { /* the usual URL: the decoded copy is the result */
        *out = dec;
        return 0;
    }
    char *res = pt_arena_alloc(a, dlen + 2);
    if (!remove_dot_segments(dec, dlen, res, false, merge)) {
        return 400;
    }
    *out = res;
    return 0;
}

int pt_uri_normalize(pt_arena_t *a, const char *raw, size_t len, const char **out)
{
    return normalize(a, raw, len, 1, true, out);
}

int pt_uri_normalize_for(pt_arena_t *a, const pt_vhost_t *vh, const char *raw, size_t len,
                         const char **out)
{
    return normalize(a, raw, len, vh->allow_encoded_slashes, vh->core.merge_slashes != 1, out);
}

/* Apache's alias_matches on a normalized uri: the alias is a prefix of the uri, and when the
 * alias does not end in '/', the uri continues with '/' or ends there ("/icons" matches
 * "/icons/x" but not "/iconsx"). Returns the matched length, 0 for no match. */
static size_t alias_matches(const char *uri, const char *fake)
{
    size_t n = strlen(fake);
    if (n == 0 || strncmp(uri, fake, n) != 0) {
        return 0;
    }
    if (fake[n - 1] != '/' && uri[n] != '\0' && uri[n] != '/') {
        return 0;
    }
    return n;
}

char *pt_uri_regsub(pt_arena_t *a, const char *tmpl, const char *src, const pt_regmatch_t *m)
{
    size_t need = 1;
    for (const char *p = tmpl; *p; p++) {
        if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            const pt_regmatch_t *g = &m[p[1] - '0'];
            if (g->rm_so >= 0) {
                need += (size_t)(g->rm_eo - g->rm_so);
            }
            p++;
        } else {
            if (*p == '\\' && p[1]) {
                p++;
            }
            need++;
        }
    }
    char *out = pt_arena_alloc(a, need);
    size_t o = 0;
    for (const char *p = tmpl; *p; p++) {
        if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            const pt_regmatch_t *g = &m[p[1] - '0'];
            if (g->rm_so >= 0) {
                memcpy(out + o, src + g->rm_so, (size_t)(g->rm_eo - g->rm_so));
                o += (size_t)(g->rm_eo - g->rm_so);
            }
            p++;
        } else {
            if (*p == '\\' && p[1]) {
                p++;
            }
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return out;
}

/* A capture can splice a name like "a.." into "/x/$1" and make ".." a segment of its own;
 * such a result would climb out of the alias target. */
static bool has_dotdot_segment(const char *p)
{
    for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2) {
        bool start = s == p || s[-1] == '/';
        bool end = s[2] == '\0' || s[2] == '/';
        if (start && end) {
            return true;
        }
    }
    return false;
}

/* The file name in the form <Directory> sections are written in: no "//", "/./" or "/../"
 * (resolved by name; a mapping never climbs above "/"), so that an Alias target written as
 * "/dir/" or "/a/./dir" cannot step around <Directory "/dir/private">. A trailing '/' stays:
 * it tells a directory request. */
const char *pt_uri_canonical_file(pt_arena_t *a, const char *path)
{
    if (path == NULL || path[0] != '/') {
        return path;
    }
    size_t len = strlen(path);
    /* Already canonical (a DocumentRoot and a normalized URL, per request twice): no copy. */
    if (no_dot_segments(path, len))
        return path;
    char *res = pt_arena_alloc(a, len + 2);
    remove_dot_segments(path, len, res, true, true);
    size_t rl = strlen(res);
    if (rl > 1 && path[len - 1] == '/' && res[rl - 1] != '/') {
        res[rl++] = '/';
        res[rl] = '\0';
    }
    return res;
}

/* mod_alias's per-directory Alias (inside <Location>): the last location that matches, as
 * the merge of <Location> sections keeps the innermost; NULL when none does. */
static const char *map_location(pt_arena_t *a, const pt_vhost_t *vh, const char *uri,
                                const char **root)
{
    const pt_alias_t *hit = NULL;
    for (size_t i = 0; i < vh->naliases_map; i++) {
        const pt_alias_t *al = &vh->aliases_map[i];
        if (al->location && alias_matches(uri, al->from) > 0)
            hit = al;
    }
    if (!hit)
        return NULL;
    *root = hit->to;
    int preserve = hit->location->core.alias_preserve_path;
    if (!preserve)
        preserve = vh->dir->core.alias_preserve_path;
    if (preserve != 2)
        return hit->to;
    return pt_arena_printf(a, "%s%s", hit->to, uri + strlen(hit->from));
}

/* *plain: the name is DocumentRoot and uri joined, canonical as it is (a plain root, and
 * a URL with no "//", "/." or "/.."), so pt_uri_map need not scan it again. */
static const char *map(pt_arena_t *a, const pt_vhost_t *vh, const char *uri,
                       const char **root, bool *plain)
{
    const char *located = map_location(a, vh, uri, root);
    if (located)
        return located;
    for (size_t i = 0; i < vh->naliases_map; i++) {
        const pt_alias_t *al = &vh->aliases_map[i];
        if (al->location)
            continue;
        if (al->regex) {
            pt_regmatch_t m[10];
            if (al->re == NULL || pt_regex_exec(al->re, uri, 10, m, 0) != 0) {
                continue;
            }
            char *f = pt_uri_regsub(a, al->to, uri, m);
            /* The root is the target's fixed part: up to the last '/' before a capture. */
            const char *dollar = strchr(al->to, '$');
            size_t n = dollar ? (size_t)(dollar - al->to) : strlen(al->to);
            while (n > 0 && al->to[n - 1] != '/') {
                n--;
            }
            *root = pt_arena_strndup(a, al->to, n);
            return has_dotdot_segment(f) ? NULL : f;
        }
        size_t n = alias_matches(uri, al->from);
        if (n > 0) {
            *root = al->to;
            return pt_arena_printf(a, "%s%s", al->to, uri + n);
        }
    }
    if (vh->document_root == NULL) {
        return NULL;
    }
    *root = vh->document_root;
    /* Joined by hand: the printf was a third of the mapping's cost per request. */
    size_t dl = vh->document_root_len ? vh->document_root_len : strlen(vh->document_root);
    size_t ul = strlen(uri);
    *plain = vh->document_root_plain && uri[0] == '/' && no_dot_segments(uri, ul);
    char *f = pt_arena_alloc(a, dl + ul + 1);
    memcpy(f, vh->document_root, dl);
    memcpy(f + dl, uri, ul + 1);
    return f;
}

const char *pt_uri_map(pt_arena_t *a, const pt_vhost_t *vh, const char *uri, size_t *root_len)
{
    const char *root = NULL;
    *root_len = 0;
    if (vh == NULL || uri == NULL) {
        return NULL;
    }
    bool plain = false;
    const char *m = map(a, vh, uri, &root, &plain);
    if (plain) {
        /* The usual request: no scan of the whole name, no count of the root's length. */
        *root_len = vh->document_root_len;
        return m;
    }
    const char *f = pt_uri_canonical_file(a, m);
    if (f == NULL || root == NULL || root[0] != '/') {
        return f;
    }
    /* The usual mapping, DocumentRoot and the URL joined, canonical as it was (f is m): the
     * root, a part of it with no trailing '/', is canonical too, and f starts with it. */
    if (f == m && root == vh->document_root && (uri[0] == '/' || uri[0] == '\0')) {
        *root_len = strlen(root);
        return f;
    }
    const char *cr = pt_uri_canonical_file(a, root);
    size_t n = strlen(cr);
    while (n > 1 && cr[n - 1] == '/') {
        n--;
    }
    if (strncmp(f, cr, n) == 0 && (n == 1 || f[n] == '/' || f[n] == '\0')) {
        *root_len = n;
    }
    return f;
}

const char *pt_uri_to_filename(pt_arena_t *a, const pt_vhost_t *vh, const char *uri)
{
    size_t root_len;
    return pt_uri_map(a, vh, uri, &root_len);
}

/* Characters a path may carry unescaped: RFC 3986 unreserved and the sub-delims that are
 * harmless in a path. '&' and '\'' are escaped too so the result is also safe inside HTML
 * attributes; '%', '?', '#' always. */
static bool path_safe(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return c != 0 && strchr("/-._~!$()*+,;=:@", c) != NULL;
}

const char *pt_uri_escape_path(pt_arena_t *a, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        n += path_safe(*p) ? 1 : 3;
    }
    char *out = pt_arena_alloc(a, n + 1);
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (path_safe(*p)) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return out;
}

static const char *html_entity(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

const char *pt_html_escape(pt_arena_t *a, const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        const char *e = html_entity(*p);
        n += e ? strlen(e) : 1;
    }
    char *out = pt_arena_alloc(a, n + 1);
    size_t o = 0;
    for (const char *p = s; *p; p++) {
        const char *e = html_entity(*p);
        if (e) {
            size_t el = strlen(e);
            memcpy(out + o, e, el);
            o += el;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return out;
}
