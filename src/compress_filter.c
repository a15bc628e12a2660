/* The encoder between the response writer and the protocol: the head's changes when a
 * coding is chosen, then gzip (zlib) or br (libbrotli) over the body as the handler writes
 * it. A body streamed from a backend is flushed after every write (Z_SYNC_FLUSH,
 * BROTLI_OPERATION_FLUSH): the relays write what one read of the backend brought, so what
 * the backend flushed (PHP's flush()) reaches the client then, not when the encoder's
 * buffer fills. Memory is the encoder's state and one output buffer (DeflateBufferSize),
 * whatever the body's size; a whole static file offered by the static handler comes from
 * the compressed-file cache instead. */
#include "compress.h"
#include "conn.h"
#include "expr.h"
#include "log.h"

#include <brotli/encode.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#define PT_COMPRESS_FILE_SLICE (64 * 1024) /* a static file too big to cache, per read */
#define PT_GZIP_FRAMING 18 /* zlib's gzip header (10 bytes) and trailer (8) */

struct pt_compress {
    pt_encoding_t enc;
    bool active;            /* body bytes go through the encoder (or the cached body) */
    bool flush_each;        /* streamed from a backend */
    bool offered;           /* the static handler offered the whole file */
    int fd;
    struct stat st;
    const void *data;
    const char *cached;     /* the cached encoded body (a copy in the arena), or NULL */
    size_t cached_len;
    bool cached_sent;
    z_stream z;
    BrotliEncoderState *br;
    unsigned char *out, *in;
    size_t outcap, out_len;
    pt_arena_t *arena;
    struct free_block *free; /* brotli's freed blocks, reused (see br_alloc) */
    pt_compress_out_fn write; /* the response writer's: bytes to the protocol */
    int64_t in_bytes, out_bytes; /* for DeflateFilterNote/BrotliFilterNote */
};

/* ---- Allocation in the request's arena ------------------------------------------------- */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    return pt_arena_alloc(opaque, (size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    (void)p; /* zlib allocates once, at init: the arena's reset frees it */
}

/* Brotli allocates and frees as it goes (per meta-block): a freed block goes to a list that
 * later allocations take from, so a long stream's memory stays at its peak, not its sum. */
struct free_block {
    size_t size;
    struct free_block *next;
};
#define BLOCK_HDR 16

static void *br_alloc(void *opaque, size_t n)
{
    pt_compress_t *c = opaque;
    for (struct free_block **pp = &c->free; *pp; pp = &(*pp)->next) {
        struct free_block *b = *pp;
        if (b->size >= n && b->size <= 2 * n + 4096) {
            *pp = b->next;
            return (char *)b + BLOCK_HDR;
        }
    }
    struct free_block *b = pt_arena_alloc(c->arena, n + BLOCK_HDR);
    b->size = n;
    return (char *)b + BLOCK_HDR;
}

static void br_free(void *opaque, void *p)
{
    pt_compress_t *c = opaque;
    if (!p)
        return;
    struct free_block *b = (struct free_block *)((char *)p - BLOCK_HDR);
    b->next = c->free;
    c->free = b;
}

/* ---- The head ------------------------------------------------------------------------- */

static bool list_has(const char *list, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        p += strspn(p, " \t");
        if (strncasecmp(p, token, tl) == 0 && strchr(", \t", p[tl]))
            return true;
    }
    return false;
}

void pt_compress_add_vary(pt_table_t *fields)
{
    for (size_t i = 0; i < fields->n; i++)
        if (strcasecmp(fields->v[i].name, "Vary") == 0 &&
            (list_has(fields->v[i].value, "Accept-Encoding") || list_has(fields->v[i].value, "*")))
            return;
    pt_table_append(fields, "Vary", "Accept-Encoding");
}

static void rewrite_head(pt_request_t *r, pt_table_t *fields, pt_encoding_t enc)
{
    const char *token = pt_compress_token(enc);
    const char *ce = pt_table_get(fields, "Content-Encoding");
    if (ce && strcasecmp(ce, "identity") != 0)
        token = pt_arena_printf(r->arena, "%s, %s", ce, token);
    pt_table_set(fields, "Content-Encoding", token);
    pt_table_unset(fields, "Content-MD5");
    /* DeflateAlterETag/BrotliAlterETag, AddSuffix by default: the encoded body is another
     * representation, so a cache must not take one for the other. */
    const pt_compress_conf_t *cc = r->dir->compress;
    int mode = enc == PT_ENC_GZIP ? PT_COMPRESS_SETTING(cc, deflate_etag)
                                  : PT_COMPRESS_SETTING(cc, brotli_etag);
    const char *etag = pt_table_get(fields, "ETag");
    if (etag && mode == PT_ETAG_REMOVE)
        pt_table_unset(fields, "ETag");
    const char *tagged = etag && mode == PT_ETAG_ADD_SUFFIX ? pt_compress_etag(r->arena, etag, enc)
                                                            : NULL;
    if (tagged)
        pt_table_set(fields, "ETag", tagged);
}

static int encoder_init(pt_request_t *r, pt_compress_t *c, int64_t len)
{
    const pt_compress_conf_t *cc = r->dir->compress;
    c->outcap = (size_t)PT_COMPRESS_SETTING(cc, deflate_buffer);
    c->out = pt_arena_alloc(r->arena, c->outcap);
    if (c->enc == PT_ENC_GZIP) {
        c->z.zalloc = z_alloc;
        c->z.zfree = z_free;
        c->z.opaque = r->arena;
        int wbits = PT_MAX(PT_COMPRESS_SETTING(cc, deflate_window), 9); /* zlib's floor */
        return deflateInit2(&c->z, PT_COMPRESS_SETTING(cc, deflate_level), Z_DEFLATED,
                            16 + wbits, PT_COMPRESS_SETTING(cc, deflate_memlevel),
                            Z_DEFAULT_STRATEGY) == Z_OK ? 0 : PT_EINVAL;
    }
    c->br = BrotliEncoderCreateInstance(br_alloc, br_free, c);
    if (!c->br)
        return PT_EINVAL;
    BrotliEncoderSetParameter(c->br, BROTLI_PARAM_QUALITY,
                              (uint32_t)PT_COMPRESS_SETTING(cc, brotli_quality));
    BrotliEncoderSetParameter(c->br, BROTLI_PARAM_LGWIN,
                              (uint32_t)PT_COMPRESS_SETTING(cc, brotli_window));
    int lgblock = PT_COMPRESS_SETTING(cc, brotli_lgblock); /* MaxInputBlock; 0: the encoder's */
    if (lgblock > 0)
        BrotliEncoderSetParameter(c->br, BROTLI_PARAM_LGBLOCK, (uint32_t)lgblock);
    if (len > 0 && len < (1 << 30))
        BrotliEncoderSetParameter(c->br, BROTLI_PARAM_SIZE_HINT, (uint32_t)len);
    return 0;
}

pt_zparams_t pt_compress_params(const pt_compress_conf_t *cc, pt_encoding_t enc)
{
    pt_zparams_t zp = {enc, 0, 0, 0};
    if (enc == PT_ENC_GZIP) {
        zp.level = PT_COMPRESS_SETTING(cc, deflate_level);
        zp.window = PT_MAX(PT_COMPRESS_SETTING(cc, deflate_window), 9);
        zp.memlevel = PT_COMPRESS_SETTING(cc, deflate_memlevel);
    } else {
        zp.level = PT_COMPRESS_SETTING(cc, brotli_quality);
        zp.window = PT_COMPRESS_SETTING(cc, brotli_window);
        zp.memlevel = PT_COMPRESS_SETTING(cc, brotli_lgblock);
    }
    return zp;
}

/* The body: the cached encoding of an offered file, else the encoder. */
static void prepare_body(pt_request_t *r, pt_compress_t *c, int64_t *len)
{
    if (c->offered && c->st.st_size <= PT_ZCACHE_FILE_MAX) {
        pt_zparams_t zp = pt_compress_params(r->dir->compress, c->enc);
        c->cached = pt_zcache_get(r->arena, r->filename, c->fd, &c->st, c->data, &zp,
                                  &c->cached_len);
        if (c->cached) {
            *len = (int64_t)c->cached_len;
            c->active = !r->header_only;
            return;
        }
    }
    *len = -1;
    if (r->header_only)
        return;
    if (encoder_init(r, c, c->offered ? (int64_t)c->st.st_size : -1) != 0) {
        pt_log_rerror(PT_LOG_ERR, r, "cannot start the %s encoder", pt_compress_token(c->enc));
        c->enc = PT_ENC_IDENTITY; /* the caller leaves the head without the coding */
        return;
    }
    c->active = true;
}

/* mod_filter's FilterChain: for each smart filter, the first of its providers whose
 * expression holds for this response (CONTENT_TYPE is the response's type) joins the chain;
 * an expression that cannot be evaluated counts as false, logged, as Apache's. */
static void add_smart_filters(pt_request_t *r, const pt_compress_conf_t *cc, const char *type,
                              pt_filter_chain_t *chain)
{
    if (!cc->nsmart_chain || !cc->nproviders)
        return;
    const char *saved = r->content_type;
    r->content_type = type;
    for (size_t i = 0; i < cc->nsmart_chain; i++) {
        for (size_t k = 0; k < cc->nproviders; k++) {
            const pt_filter_provider_t *p = &cc->providers[k];
            if (strcasecmp(p->name, cc->smart_chain[i]) != 0)
                continue;
            const char *why = NULL;
            int v = pt_expr_eval(r, p->expr, NULL, &why);
            if (v < 0)
                pt_log_rerror(PT_LOG_ERR, r, "AH01379: Error evaluating filter dispatch "
                              "condition: %s", why ? why : "");
            if (v <= 0)
                continue;
            if (chain->n < PT_FILTER_CHAIN_MAX)
                chain->v[chain->n++] = p->filter;
            break;
        }
    }
    r->content_type = saved;
}

static PT_NOINLINE void compress_start(pt_request_t *r, pt_compress_t *c,
                                       const pt_compress_conf_t *cc, int status,
                                       pt_table_t *fields, int64_t *len, pt_compress_out_fn out)
{
    const char *type = pt_table_get(fields, "Content-Type");
    if (!type)
        type = r->content_type; /* a 304 carries none, and answers as its GET would */
    pt_filter_chain_t chain = pt_compress_chain(cc, r->filename, type);
    add_smart_filters(r, cc, type, &chain);
    if (chain.n == 0)
        return;
    int64_t known = *len;
    if (!pt_status_has_body(status))  /* a 304 answers as its GET would */
        known = c && c->offered ? (int64_t)c->st.st_size : -1;
    pt_compress_input_t in = {
        .status = status, .type = type,
        .content_encoding = pt_table_get(fields, "Content-Encoding"),
        .cache_control = pt_table_get(fields, "Cache-Control"),
        .content_range = pt_table_get(fields, "Content-Range"),
        .accept = pt_table_get(&r->headers_in, "Accept-Encoding"),
        .length = known, .env = &r->env,
    };
    pt_compress_decision_t d = pt_compress_decide(&chain, &in);
    if (d.vary)
        pt_compress_add_vary(fields);
    if (d.enc == PT_ENC_IDENTITY)
        return;
    if (!c)
        c = pt_arena_calloc(r->arena, sizeof(*c));
    c->enc = d.enc;
    c->write = out;
    c->arena = r->arena;
    c->flush_each = r->backend != NULL;
    if (pt_status_has_body(status)) {
        prepare_body(r, c, len);
        if (c->enc == PT_ENC_IDENTITY)
            return; /* the encoder failed: the body goes out as it is, unannounced */
    }
    rewrite_head(r, fields, d.enc);
    r->compress = c;
}

void pt_compress_start(pt_request_t *r, int status, pt_table_t *fields, int64_t *len,
                       pt_compress_out_fn out)
{
    pt_compress_t *c = r->compress;
    r->compress = NULL;
    const pt_compress_conf_t *cc = r->dir ? r->dir->compress : NULL;
    if (cc)
        compress_start(r, c, cc, status, fields, len, out);
}

void pt_compress_offer_file(pt_request_t *r, int fd, const struct stat *st, const void *data)
{
    if (!r->dir || !r->dir->compress)
        return;
    pt_compress_t *c = pt_arena_calloc(r->arena, sizeof(*c));
    c->offered = true;
    c->fd = fd;
    c->st = *st;
    c->data = data;
    r->compress = c;
}

bool pt_compress_active(const pt_request_t *r)
{
    return r->compress && r->compress->active;
}

/* ---- The body ------------------------------------------------------------------------- */

/* Output waits in c->out until it fills or the stream is flushed: zlib writes the gzip
 * header at once, which alone would cost the client a packet. */
static int emit(pt_request_t *r, pt_compress_t *c, bool force)
{
    if (c->out_len == 0 || (!force && c->out_len < c->outcap))
        return 0;
    size_t n = c->out_len;
    c->out_len = 0;
    c->out_bytes += (int64_t)n;
    return c->write(r, c->out, n);
}

static int z_run(pt_request_t *r, pt_compress_t *c, const void *p, size_t n, int flush)
{
    c->z.next_in = (Bytef *)(uintptr_t)p;
    c->z.avail_in = (uInt)n;
    do {
        c->z.next_out = c->out + c->out_len;
        c->z.avail_out = (uInt)(c->outcap - c->out_len);
        if (deflate(&c->z, flush) == Z_STREAM_ERROR)
            return PT_EINVAL;
        c->out_len = c->outcap - c->z.avail_out;
        int rc = emit(r, c, flush != Z_NO_FLUSH);
        if (rc != 0)
            return rc;
    } while (c->z.avail_out == 0);
    return 0;
}

static int br_run(pt_request_t *r, pt_compress_t *c, const void *p, size_t n,
                  BrotliEncoderOperation op)
{
    size_t avail_in = n;
    const uint8_t *next_in = p;
    for (;;) {
        size_t avail_out = c->outcap - c->out_len;
        uint8_t *next_out = c->out + c->out_len;
        if (!BrotliEncoderCompressStream(c->br, op, &avail_in, &next_in, &avail_out, &next_out,
                                         NULL))
            return PT_EINVAL;
        c->out_len = c->outcap - avail_out;
        bool more = avail_in > 0 || BrotliEncoderHasMoreOutput(c->br) ||
                    (op == BROTLI_OPERATION_FINISH && !BrotliEncoderIsFinished(c->br));
        int rc = emit(r, c, !more && op != BROTLI_OPERATION_PROCESS);
        if (rc != 0)
            return rc;
        if (!more)
            return 0;
    }
}

/* Feeds n bytes (UINT_MAX at most: the callers' slices are far smaller). */
static int encode(pt_request_t *r, pt_compress_t *c, const void *p, size_t n, bool flush)
{
    c->in_bytes += (int64_t)n;
    if (c->enc == PT_ENC_GZIP)
        return z_run(r, c, p, n, flush ? Z_SYNC_FLUSH : Z_NO_FLUSH);
    return br_run(r, c, p, n, flush ? BROTLI_OPERATION_FLUSH : BROTLI_OPERATION_PROCESS);
}

static int send_cached(pt_request_t *r, pt_compress_t *c)
{
    if (c->cached_sent)
        return 0;
    c->cached_sent = true;
    return c->write(r, c->cached, c->cached_len);
}

int pt_compress_write(pt_request_t *r, const void *p, size_t n)
{
    pt_compress_t *c = r->compress;
    if (c->cached)
        return send_cached(r, c);
    const char *s = p;
    while (n > 0) {
        size_t k = PT_MIN(n, (size_t)1 << 30);
        int rc = encode(r, c, s, k, c->flush_each && k == n);
        if (rc != 0)
            return rc;
        s += k;
        n -= k;
    }
    return 0;
}

int pt_compress_write_file(pt_request_t *r, int fd, off_t off, off_t len)
{
    pt_compress_t *c = r->compress;
    if (c->cached)
        return send_cached(r, c);
    if (!c->in)
        c->in = pt_arena_alloc(r->arena, PT_COMPRESS_FILE_SLICE);
    while (len > 0) {
        ssize_t k = pread(fd, c->in, (size_t)PT_MIN(len, (off_t)PT_COMPRESS_FILE_SLICE), off);
        if (k <= 0) {
            pt_log_rerror(PT_LOG_ERR, r, "reading %s: %s", r->filename ? r->filename : "a file",
                          k < 0 ? strerror(errno) : "file shrank");
            r->keepalive = false;
            r->conn->aborted = true; /* the coding cannot end cleanly */
            return PT_ECLOSED;
        }
        int rc = encode(r, c, c->in, (size_t)k, false);
        if (rc != 0)
            return rc;
        off += k;
        len -= k;
    }
    return 0;
}

/* DeflateFilterNote / BrotliFilterNote: the request notes Apache's filters set at the end
 * of the body, the sizes of the coded stream without gzip's header and trailer (mod_deflate
 * counts its raw deflate stream), "-" when nothing went in. */
static void set_notes(pt_request_t *r, const pt_compress_t *c)
{
    const pt_compress_conf_t *cc = r->dir ? r->dir->compress : NULL;
    if (!cc)
        return;
    const char *const *names = c->enc == PT_ENC_GZIP ? cc->deflate_notes : cc->brotli_notes;
    int64_t in = c->cached ? (int64_t)c->st.st_size : c->in_bytes;
    int64_t out = c->cached ? (int64_t)c->cached_len : c->out_bytes;
    if (c->enc == PT_ENC_GZIP)
        out = PT_MAX(out - PT_GZIP_FRAMING, (int64_t)0);
    for (int k = 0; k < PT_NOTE_KINDS; k++) {
        if (!names[k])
            continue;
        if (!r->notes.arena)
            pt_table_init(&r->notes, r->arena, 4);
        int64_t v = k == PT_NOTE_INPUT ? in : k == PT_NOTE_OUTPUT ? out : in ? out * 100 / in : 0;
        pt_table_set(&r->notes, names[k],
                     in > 0 ? pt_arena_printf(r->arena, "%lld", (long long)v) : "-");
    }
}

int pt_compress_finish(pt_request_t *r)
{
    pt_compress_t *c = r->compress;
    c->active = false;
    int rc;
    if (c->cached)
        rc = send_cached(r, c);
    else if (c->enc == PT_ENC_GZIP)
        rc = z_run(r, c, NULL, 0, Z_FINISH);
    else
        rc = br_run(r, c, NULL, 0, BROTLI_OPERATION_FINISH);
    set_notes(r, c);
    return rc;
}
