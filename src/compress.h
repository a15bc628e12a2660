/* Response compression, as mod_deflate (DEFLATE, gzip) and mod_brotli (BROTLI_COMPRESS, br)
 * do it: the filter chain a response gets from the config (compress_negotiate.c), the
 * choice of a coding from Accept-Encoding, the head's changes (Content-Encoding, Vary, the
 * ETag's "-gzip"/"-br" suffix, no Content-Length), the streaming encoder between the
 * response writer and the protocol (compress_filter.c), a per-child cache of compressed
 * static files (compress_cache.c), and the static handler's side: precompressed siblings,
 * AddEncoding and conditional requests against a suffixed ETag (compress_static.c).
 *
 * The response writer (response.c) calls pt_compress_start from pt_resp_start and routes
 * body bytes through pt_compress_write* while pt_compress_active(r); the filter writes what
 * it makes with the writer's own function, handed to pt_compress_start (so that neither
 * module depends on the other's symbols both ways). Its state is r->compress, in the
 * request's arena (zlib's and brotli's allocations too: nothing to free when a request is
 * cut short). */
#ifndef PT_COMPRESS_H
#define PT_COMPRESS_H

#include "compress_conf.h"
#include "request.h"

typedef enum { PT_ENC_IDENTITY = 0, PT_ENC_GZIP = 1, PT_ENC_BR = 2 } pt_encoding_t;
typedef struct pt_compress pt_compress_t;

/* A body of known length under this is sent as it is, as mod_deflate does (Debian's
 * apache2 2.4: 68 bytes go out plain, 69 are compressed); mod_brotli has no such floor,
 * portico applies the same one to br. */
#define PT_COMPRESS_MIN_LENGTH 69

/* ---- Negotiation (pure; compress_negotiate.c) ----------------------------------------- */

/* The q-value (0 to 1000) Accept-Encoding gives coding, through "*" when it is not named
 * ("x-gzip" counts as "gzip"); -1 when neither is there. */
int pt_accept_encoding_q(const char *accept, const char *coding);

/* The filters that apply, in chain order: SetOutputFilter, then AddOutputFilter by each of
 * the file name's extensions, then AddOutputFilterByType by the type (its parameters
 * ignored); each filter once. c, filename and type may be NULL. */
pt_filter_chain_t pt_compress_chain(const pt_compress_conf_t *c, const char *filename,
                                    const char *type);

/* What a response looks like to the decision. */
typedef struct {
    int status;
    const char *type;             /* Content-Type, or NULL */
    const char *content_encoding; /* as the head has it, or NULL */
    const char *cache_control;
    const char *content_range;
    const char *accept;           /* the request's Accept-Encoding, or NULL */
    int64_t length;               /* body bytes when known, else -1 */
    const pt_table_t *env;        /* no-gzip, no-brotli, gzip-only-text/html, dont-vary */
} pt_compress_input_t;

typedef struct {
    pt_encoding_t enc;            /* the coding to apply, PT_ENC_IDENTITY for none */
    bool vary;                    /* add Vary: Accept-Encoding (the answer depended on it) */
} pt_compress_decision_t;

/* mod_deflate's and mod_brotli's tests in their order: no body to transform (204, 206, a
 * Content-Range), the env variables, an encoding already there, no-transform; then Vary
 * (unless dont-vary), a tiny body, then Accept-Encoding: among the chain's filters the client
 * accepts (q > 0), the highest q wins, the chain's order breaks ties. */
pt_compress_decision_t pt_compress_decide(const pt_filter_chain_t *chain,
                                          const pt_compress_input_t *in);

/* "\"abc\"" -> "\"abc-gzip\"" (W/ kept); NULL when etag is not a quoted tag. */
const char *pt_compress_etag(pt_arena_t *a, const char *etag, pt_encoding_t enc);
/* The coding's token: "gzip", "br". */
const char *pt_compress_token(pt_encoding_t enc);
/* Vary gets Accept-Encoding, unless it has it or "*". */
void pt_compress_add_vary(pt_table_t *fields);

/* ---- The response writer's side (compress_filter.c) ----------------------------------- */

/* From pt_resp_start, once fields holds the head: decides, rewrites fields, and sets *len to
 * -1 (or to the cached body's length) when the body is encoded. */
typedef int (*pt_compress_out_fn)(pt_request_t *r, const void *p, size_t n);
void pt_compress_start(pt_request_t *r, int status, pt_table_t *fields, int64_t *len,
                       pt_compress_out_fn out);
/* Whether body bytes go through the encoder. */
bool pt_compress_active(const pt_request_t *r);
int pt_compress_write(pt_request_t *r, const void *p, size_t n);
/* A file range, read in large slices (no sendfile for an encoded body). */
int pt_compress_write_file(pt_request_t *r, int fd, off_t off, off_t len);
/* Ends the encoded stream (the coding's trailer), before the protocol's finish. */
int pt_compress_finish(pt_request_t *r);

/* ---- The static handler's side (compress_static.c) ------------------------------------ */

/* Before the conditional checks of a regular file: applies AddEncoding, and lets an
 * If-None-Match/If-Match tag with our "-gzip"/"-br" suffix match the file's ETag. */
void pt_compress_static_prepare(pt_request_t *r);
/* PrecompressedStatic: when r->filename has a fresh ".br"/".gz" sibling the client accepts,
 * the sibling's entry (open-file cache) to serve instead, with Content-Encoding and Vary
 * set; else NULL (Vary still set when a sibling exists). */
struct pt_fcentry *pt_compress_sibling(pt_request_t *r, const struct stat *st);
/* Offers the whole file (fd and st; data: its bytes when in memory, else NULL) to the
 * response about to start: when it gets encoded, the compressed-file cache supplies it. */
void pt_compress_offer_file(pt_request_t *r, int fd, const struct stat *st, const void *data);

/* ---- The compressed-file cache (compress_cache.c) ------------------------------------- */

#define PT_ZCACHE_FILE_MAX (1 << 20)     /* bigger files are encoded per request */
#define PT_ZCACHE_BYTES (32 << 20)       /* compressed bytes kept, per child */
#define PT_ZCACHE_ENTRIES 512

/* Encoding settings that make a cached body. */
typedef struct {
    pt_encoding_t enc;
    int level, window, memlevel;  /* gzip: level, window bits, memLevel; br: quality, lgwin,
                                     lgblock (0: the encoder's choice) */
} pt_zparams_t;

/* The encoded bytes of the file st describes (path, fd; data when the file is in memory),
 * copied into arena a: from the cache while the file is unchanged, else encoded now and
 * kept. NULL when the file cannot be read or is too big to cache. */
const void *pt_zcache_get(pt_arena_t *a, const char *path, int fd, const struct stat *st,
                          const void *data, const pt_zparams_t *zp, size_t *len);
/* The cache's key settings for enc under config cc. */
pt_zparams_t pt_compress_params(const pt_compress_conf_t *cc, pt_encoding_t enc);
/* Encodes n bytes at p into a malloc'ed buffer (*out, *outlen); 0 or -ENOMEM. */
int pt_zcache_encode(const void *p, size_t n, const pt_zparams_t *zp, void **out,
                     size_t *outlen);
void pt_zcache_clear(void);

#endif
