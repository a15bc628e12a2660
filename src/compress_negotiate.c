/* Which coding a response gets: the filter chain from the config, and mod_deflate's and
 * mod_brotli's tests against the response and the request's Accept-Encoding. Pure
 * functions over strings, so that the unit suite can run them as tables. */
#include "compress.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* "q=0.5" style weight, 0 to 1000; malformed weights count as 1 (Apache ignores q). */
static int parse_q(const char *p, size_t n)
{
    if (n == 0 || (p[0] != '0' && p[0] != '1'))
        return 1000;
    int q = (p[0] - '0') * 1000;
    if (n > 1 && p[1] == '.') {
        int scale = 100;
        for (size_t i = 2; i < n && i < 5 && isdigit((unsigned char)p[i]); i++, scale /= 10)
            q += (p[i] - '0') * scale;
    }
    return q > 1000 ? 1000 : q;
}

/* The q of one element "coding;q=x;...", and its coding in *name, *nlen. */
static int element_q(const char *p, size_t n, const char **name, size_t *nlen)
{
    size_t k = 0;
    while (k < n && p[k] != ';' && p[k] != ' ' && p[k] != '\t')
        k++;
    *name = p;
    *nlen = k;
    int q = 1000;
    for (size_t i = k; i < n;) {
        const char *semi = memchr(p + i, ';', n - i);
        if (!semi)
            break;
        i = (size_t)(semi - p) + 1;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i + 1 < n && (p[i] == 'q' || p[i] == 'Q') && p[i + 1] == '=') {
            size_t v = i + 2, vl = 0;
            while (v + vl < n && p[v + vl] != ';' && p[v + vl] != ' ' && p[v + vl] != '\t')
                vl++;
            q = parse_q(p + v, vl);
        }
    }
    return q;
}

static bool coding_is(const char *name, size_t nlen, const char *coding)
{
    if (strlen(coding) == nlen && strncasecmp(name, coding, nlen) == 0)
        return true;
    /* RFC 9110 8.4.1.3: x-gzip is gzip. */
    return strcmp(coding, "gzip") == 0 && nlen == 6 && strncasecmp(name, "x-gzip", 6) == 0;
}

int pt_accept_encoding_q(const char *accept, const char *coding)
{
    if (!accept)
        return -1;
    int named = -1, star = -1;
    const char *p = accept;
    while (*p) {
        p = skip_ws(p);
        size_t n = strcspn(p, ",");
        size_t trim = n;
        while (trim > 0 && (p[trim - 1] == ' ' || p[trim - 1] == '\t'))
            trim--;
        if (trim > 0) {
            const char *name;
            size_t nlen;
            int q = element_q(p, trim, &name, &nlen);
            if (coding_is(name, nlen, coding))
                named = PT_MAX(named, q);
            else if (nlen == 1 && name[0] == '*')
                star = PT_MAX(star, q);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return named >= 0 ? named : star;
}

static void chain_add(pt_filter_chain_t *c, const pt_filter_chain_t *add)
{
    for (unsigned i = 0; i < add->n; i++) {
        bool seen = false;
        for (unsigned k = 0; k < c->n; k++)
            seen = seen || c->v[k] == add->v[i];
        if (!seen && c->n < PT_FILTER_CHAIN_MAX)
            c->v[c->n++] = add->v[i];
    }
}

/* mod_mime: every part of the base name after its first dot is an extension. */
static void chain_by_ext(const pt_compress_conf_t *c, const char *filename,
                         pt_filter_chain_t *out)
{
    const char *base = strrchr(filename, '/');
    base = base ? base + 1 : filename;
    const char *e = strchr(base, '.');
    while (e) {
        const char *next = strchr(e + 1, '.');
        size_t n = next ? (size_t)(next - e - 1) : strlen(e + 1);
        for (size_t i = 0; i < c->nbyext; i++) {
            if (strlen(c->byext[i].key) == n && strncasecmp(c->byext[i].key, e + 1, n) == 0) {
                chain_add(out, &c->byext[i].chain); /* the first is the innermost, latest */
                break;
            }
        }
        e = next;
    }
}

pt_filter_chain_t pt_compress_chain(const pt_compress_conf_t *c, const char *filename,
                                    const char *type)
{
    pt_filter_chain_t out = {.n = 0};
    if (!c)
        return out;
    if (c->set_given)
        chain_add(&out, &c->set);
    if (filename && c->nbyext)
        chain_by_ext(c, filename, &out);
    if (type && c->nbytype) {
        const char *t = skip_ws(type);
        size_t n = strcspn(t, "; \t");
        for (size_t i = 0; i < c->nbytype; i++)
            if (strlen(c->bytype[i].key) == n && strncasecmp(c->bytype[i].key, t, n) == 0)
                chain_add(&out, &c->bytype[i].chain);
    }
    return out;
}

/* A list field holds token (case-insensitive, as a whole element or before parameters)? */
static bool has_token(const char *list, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = list; p && *p;) {
        p = skip_ws(p);
        if (strncasecmp(p, token, tl) == 0) {
            char c = p[tl];
            if (c == '\0' || c == ',' || c == ';' || c == ' ' || c == '\t' || c == '=')
                return true;
        }
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return false;
}

/* Only codings that leave the bytes as they are allow another (mod_deflate's list). */
static bool already_encoded(const char *ce)
{
    if (!ce)
        return false;
    for (const char *p = ce; *p;) {
        p = skip_ws(p);
        size_t n = strcspn(p, ", \t");
        static const char *const plain[] = {"identity", "7bit", "8bit", "binary"};
        bool ok = n == 0;
        for (size_t i = 0; i < PT_ARRAY_LEN(plain) && !ok; i++)
            ok = strlen(plain[i]) == n && strncasecmp(p, plain[i], n) == 0;
        if (!ok)
            return true;
        p += n;
        p += strspn(p, ", \t");
    }
    return false;
}

static unsigned allowed_filters(const pt_compress_input_t *in)
{
    unsigned allowed = PT_FILTER_DEFLATE | PT_FILTER_BROTLI;
    if (in->env && pt_table_get(in->env, "no-gzip"))
        allowed &= ~(unsigned)PT_FILTER_DEFLATE;
    if (in->env && pt_table_get(in->env, "no-brotli"))
        allowed &= ~(unsigned)PT_FILTER_BROTLI;
    const char *only = in->env ? pt_table_get(in->env, "gzip-only-text/html") : NULL;
    if (only && strcmp(only, "1") == 0 &&
        (!in->type || strncasecmp(in->type, "text/html", 9) != 0))
        allowed &= ~(unsigned)PT_FILTER_DEFLATE;
    return allowed;
}

pt_compress_decision_t pt_compress_decide(const pt_filter_chain_t *chain,
                                          const pt_compress_input_t *in)
{
    pt_compress_decision_t d = {PT_ENC_IDENTITY, false};
    if (!chain || chain->n == 0)
        return d;
    if (in->status < 200 || in->status == 204 || in->status == 206 || in->content_range)
        return d;
    unsigned allowed = allowed_filters(in);
    bool any = false;
    for (unsigned i = 0; i < chain->n; i++)
        any = any || (chain->v[i] & allowed);
    if (!any || already_encoded(in->content_encoding))
        return d;
    if (in->cache_control && has_token(in->cache_control, "no-transform"))
        return d;
    d.vary = !(in->env && pt_table_get(in->env, "dont-vary"));
    if (in->length >= 0 && in->length < PT_COMPRESS_MIN_LENGTH)
        return d;
    int best = 0;
    for (unsigned i = 0; i < chain->n; i++) {
        if (!(chain->v[i] & allowed))
            continue;
        pt_encoding_t enc = chain->v[i] == PT_FILTER_BROTLI ? PT_ENC_BR : PT_ENC_GZIP;
        int q = pt_accept_encoding_q(in->accept, pt_compress_token(enc));
        if (q > best) {
            best = q;
            d.enc = enc;
        }
    }
    return d;
}

const char *pt_compress_token(pt_encoding_t enc)
{
    return enc == PT_ENC_BR ? "br" : enc == PT_ENC_GZIP ? "gzip" : "identity";
}

const char *pt_compress_etag(pt_arena_t *a, const char *etag, pt_encoding_t enc)
{
    size_t n = etag ? strlen(etag) : 0;
    if (n < 2 || etag[n - 1] != '"')
        return NULL;
    return pt_arena_printf(a, "%.*s-%s\"", (int)(n - 1), etag, pt_compress_token(enc));
}
