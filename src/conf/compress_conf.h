/* Compression settings as the configuration holds them: mod_deflate's and mod_brotli's
 * directives, the output-filter directives that name them (SetOutputFilter, mod_mime's
 * AddOutputFilter/RemoveOutputFilter, mod_filter's AddOutputFilterByType), mod_mime's
 * AddEncoding, and portico's own PrecompressedStatic. Parsed by directives_compress.c into
 * one pt_compress_conf_t per per-directory config (NULL when the scope sets none), merged
 * with the directory configs; read by the request core's compress*.c. */
#ifndef PT_COMPRESS_CONF_H
#define PT_COMPRESS_CONF_H

#include "directives.h"

#include <stdbool.h>
#include <stddef.h>

/* The output filters portico provides, as bits of a set and as chain entries. */
enum { PT_FILTER_DEFLATE = 1, PT_FILTER_BROTLI = 2 };
/* What an encoded response's ETag becomes (DeflateAlterETag, BrotliAlterETag). */
enum { PT_ETAG_ADD_SUFFIX = 0, PT_ETAG_NO_CHANGE = 1, PT_ETAG_REMOVE = 2 };
/* What a DeflateFilterNote/BrotliFilterNote records (its optional first argument). */
enum { PT_NOTE_RATIO = 0, PT_NOTE_INPUT = 1, PT_NOTE_OUTPUT = 2, PT_NOTE_KINDS = 3 };
#define PT_FILTER_CHAIN_MAX 4 /* "DEFLATE;BROTLI_COMPRESS" and repeats fit */

typedef struct {
    unsigned char v[PT_FILTER_CHAIN_MAX]; /* PT_FILTER_* in chain order */
    unsigned char n;
} pt_filter_chain_t;

typedef struct {
    const char *key;           /* MIME type (lower case, no parameters) or extension */
    pt_filter_chain_t chain;   /* empty: RemoveOutputFilter of the extension */
} pt_filter_map_t;

/* mod_filter: FilterProvider NAME FILTER EXPR (one of portico's filters when the expression,
 * evaluated on the response, is true) and the FilterChain of smart filter names. */
typedef struct {
    const char *name;          /* the smart filter (FilterDeclare'd or not) */
    unsigned char filter;      /* PT_FILTER_* */
    const struct pt_expr *expr;
} pt_filter_provider_t;

typedef struct pt_compress_conf {
    /* Per directory. */
    pt_filter_chain_t set;     /* SetOutputFilter; inner replaces */
    bool set_given;
    const pt_filter_map_t *bytype; /* AddOutputFilterByType; merged outer then inner */
    size_t nbytype;
    const pt_filter_map_t *byext;  /* AddOutputFilter/RemoveOutputFilter; inner first */
    size_t nbyext;
    const pt_ext_map_t *encodings; /* AddEncoding (value: the coding); inner first */
    size_t nencodings;
    int precompressed;         /* PrecompressedStatic: -1 unset, 0 Off, 1 On */
    /* Per server (RSRC_CONF in Apache); -1 unset. */
    int deflate_level;         /* DeflateCompressionLevel 1-9, default 6 (zlib's) */
    int deflate_window;        /* DeflateWindowSize 1-15, default 15 */
    int deflate_memlevel;      /* DeflateMemLevel 1-9, default 9 as Apache */
    int deflate_buffer;        /* DeflateBufferSize bytes, default 8096 as Apache */
    int brotli_quality;        /* BrotliCompressionQuality 0-11, default 5 as Apache */
    int brotli_window;         /* BrotliCompressionWindow 10-24, default 18 */
    int deflate_etag;          /* DeflateAlterETag: PT_ETAG_* , default AddSuffix */
    int brotli_etag;           /* BrotliAlterETag */
    int brotli_lgblock;        /* BrotliCompressionMaxInputBlock 16-24; 0 (default): the
                                  encoder's choice */
    /* DeflateFilterNote and BrotliFilterNote: the request note (LogFormat %{NAME}n) that
     * gets the ratio, the input or the output bytes; NULL unset. */
    const char *deflate_notes[PT_NOTE_KINDS];
    const char *brotli_notes[PT_NOTE_KINDS];
    /* mod_filter. Providers: outer then inner, the first true one per name decides. The
     * chain: the names in order after this scope's FilterChain lines were applied to the
     * outer chain (chain_ops: those lines' words, "+name", "-name", "=name", "@name", "!",
     * kept for the merge); chain_given: a FilterChain line is in this scope. */
    const pt_filter_provider_t *providers;
    size_t nproviders;
    const char **smart_chain;
    size_t nsmart_chain;
    const char **chain_ops;
    size_t nchain_ops;
} pt_compress_conf_t;

/* The defaults above, for a scope whose merged config has none. */
extern const pt_compress_conf_t pt_compress_conf_default;

/* inner over outer (either may be NULL); a new one in a only when both are set. */
const pt_compress_conf_t *pt_compress_conf_merge(pt_arena_t *a, const pt_compress_conf_t *o,
                                                 const pt_compress_conf_t *i);
/* A setting of c, or its default when c is NULL or leaves it unset. */
int pt_compress_conf_int(const pt_compress_conf_t *c, size_t offset);
#define PT_COMPRESS_SETTING(c, field) \
    pt_compress_conf_int((c), offsetof(pt_compress_conf_t, field))

/* The scope's own compression config, made on first use (directives_filter.c's too). */
pt_compress_conf_t *pt_dcx_compress_conf(dcx_t *l, dcx_scope_t *s);
/* FilterChain's words applied to a chain of names (mod_filter's filter_chain): a new array
 * in a, its length in *n. */
const char **pt_filter_chain_apply(pt_arena_t *a, const char *const *chain, size_t nchain,
                                   const char *const *ops, size_t nops, size_t *n);
/* FilterDeclare, FilterProvider, FilterChain, FilterProtocol (directives_filter.c). */
extern const dcx_directive_t pt_dcx_filter_table[];

/* The directives, registered by src/loader.c. */
extern const pt_conf_ext_t pt_compress_conf_ext;

#endif
