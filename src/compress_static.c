/* The static handler's side of compression: mod_mime's AddEncoding, portico's
 * PrecompressedStatic (a fresh "page.html.br" or "page.html.gz" served for "page.html" to a
 * client that accepts it, as nginx's gzip_static), and conditional requests that name the
 * ETag of an encoded response ("...-gzip"), which must still match the file's. */
#include "compress.h"
#include "filecache.h"

#include <string.h>
#include <strings.h>

static const pt_compress_conf_t *conf_of(const pt_request_t *r)
{
    return r->dir ? r->dir->compress : NULL;
}

/* AddEncoding: each extension of the base name that names a coding adds it, in order. */
static void add_encoding(pt_request_t *r, const pt_compress_conf_t *c)
{
    const char *base = strrchr(r->filename, '/');
    base = base ? base + 1 : r->filename;
    for (const char *e = strchr(base, '.'); e; e = strchr(e + 1, '.')) {
        size_t n = strcspn(e + 1, ".");
        for (size_t i = 0; i < c->nencodings; i++) {
            if (strlen(c->encodings[i].ext) != n ||
                strncasecmp(c->encodings[i].ext, e + 1, n) != 0)
                continue;
            if (!c->encodings[i].value)
                break; /* RemoveEncoding in a section nearer the file */
            const char *have = pt_table_get(&r->headers_out, "Content-Encoding");
            pt_table_set(&r->headers_out, "Content-Encoding",
                         have ? pt_arena_printf(r->arena, "%s, %s", have, c->encodings[i].value)
                              : c->encodings[i].value);
            break;
        }
    }
}

/* "\"x-gzip\"" -> "\"x\"" in a list of entity tags (the only suffixes this server makes). */
static const char *strip_suffixes(pt_arena_t *a, const char *list)
{
    static const char *const sfx[] = {"-gzip\"", "-br\""};
    char *out = pt_arena_alloc(a, strlen(list) + 1);
    size_t w = 0;
    for (const char *p = list; *p;) {
        bool cut = false;
        for (size_t i = 0; i < PT_ARRAY_LEN(sfx) && !cut; i++) {
            size_t n = strlen(sfx[i]);
            if (strncmp(p, sfx[i], n) == 0) {
                out[w++] = '"';
                p += n;
                cut = true;
            }
        }
        if (!cut)
            out[w++] = *p++;
    }
    out[w] = '\0';
    return out;
}

void pt_compress_static_prepare(pt_request_t *r)
{
    const pt_compress_conf_t *c = conf_of(r);
    if (!c)
        return;
    if (c->nencodings && r->filename)
        add_encoding(r, c);
    static const char *const conds[] = {"If-None-Match", "If-Match"};
    for (size_t i = 0; i < PT_ARRAY_LEN(conds); i++) {
        const char *v = pt_table_get(&r->headers_in, conds[i]);
        if (v && (strstr(v, "-gzip\"") || strstr(v, "-br\"")))
            pt_table_set(&r->headers_in, conds[i], strip_suffixes(r->arena, v));
    }
}

/* A sibling that exists as a regular file no older than the original. Without
 * FollowSymLinks a linked sibling does not count: the walk checked the original only. */
static bool fresh_sibling(const pt_request_t *r, const char *path, const struct stat *orig,
                          struct stat *st)
{
    bool follow = (r->walk_options & PT_OPT_FOLLOW_SYMLINKS) &&
                  !(r->walk_options & PT_OPT_SYMLINKS_IF_OWNER);
    if ((follow ? stat(path, st) : lstat(path, st)) != 0 || !S_ISREG(st->st_mode))
        return false;
    return st->st_mtim.tv_sec > orig->st_mtim.tv_sec ||
           (st->st_mtim.tv_sec == orig->st_mtim.tv_sec &&
            st->st_mtim.tv_nsec >= orig->st_mtim.tv_nsec);
}

pt_fcentry_t *pt_compress_sibling(pt_request_t *r, const struct stat *st)
{
    const pt_compress_conf_t *c = conf_of(r);
    if (!c || c->precompressed != 1 || !r->filename ||
        pt_table_get(&r->headers_out, "Content-Encoding"))
        return NULL;
    static const struct { pt_encoding_t enc; const char *suffix; } kinds[] = {
        {PT_ENC_BR, ".br"}, {PT_ENC_GZIP, ".gz"}};
    const char *accept = pt_table_get(&r->headers_in, "Accept-Encoding");
    bool any = false;
    int best_q = 0;
    const char *best = NULL;
    struct stat best_st;
    pt_encoding_t best_enc = PT_ENC_IDENTITY;
    for (size_t i = 0; i < PT_ARRAY_LEN(kinds); i++) {
        const char *path = pt_arena_printf(r->arena, "%s%s", r->filename, kinds[i].suffix);
        struct stat sst;
        if (!fresh_sibling(r, path, st, &sst))
            continue;
        any = true;
        int q = pt_accept_encoding_q(accept, pt_compress_token(kinds[i].enc));
        if (q > best_q) { /* br first: it wins a tie */
            best_q = q;
            best = path;
            best_st = sst;
            best_enc = kinds[i].enc;
        }
    }
    if (any)
        pt_compress_add_vary(&r->headers_out);
    pt_fcentry_t *e = NULL;
    if (!best || pt_filecache_open(best, &best_st, &e) != 0)
        return NULL;
    pt_table_set(&r->headers_out, "Content-Encoding", pt_compress_token(best_enc));
    return e;
}
