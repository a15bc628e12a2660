/* src/http1/: the HTTP/1 protocol, above the request core: the parser below, HTTP/1's side
 * of the protocol operations (h1.h: h1_output.c, h1_body.c) and the connection driver
 * (h1_conn.c) that builds requests, runs them and logs them.
 *
 * HTTP/1.1 request parsing (RFC 9110, RFC 9112) and chunked body decoding. The parser is
 * strict and zero-copy: every pt_str_t it returns points into the caller's read buffer,
 * which must stay unchanged while the request is in use. It rejects what could smuggle a
 * request past a proxy or confuse framing (see pt_http1_parse_head). */
#ifndef PT_HTTP1_H
#define PT_HTTP1_H

#include "arena.h"
#include "common.h"
#include "semantics.h"

typedef struct {
    pt_str_t name;
    pt_str_t value; /* leading and trailing whitespace removed */
} pt_header_t;

typedef struct {
    size_t max_line;        /* LimitRequestLine: request line bytes, CRLF excluded (414) */
    size_t max_fields;      /* LimitRequestFields: number of header fields (431) */
    size_t max_field_size;  /* LimitRequestFieldSize: one field line, CRLF excluded (431) */
} pt_http1_limits_t;

typedef struct {
    pt_str_t method;
    pt_method_t method_id;
    pt_str_t target;      /* as sent: origin-form, absolute-form, authority-form or "*" */
    pt_str_t path;        /* path part of target, still percent-encoded; "*" for OPTIONS * */
    pt_str_t query;       /* after '?', without it; len 0 and p NULL when absent */
    pt_str_t abs_host;    /* host[:port] of an absolute-form target, else empty */
    int version;          /* 10 for HTTP/1.0, 11 for HTTP/1.1 */

    pt_header_t *headers; /* in arrival order, allocated from the arena */
    size_t nheaders;

    pt_str_t host;        /* Host field (or authority of absolute-form); empty if none */
    int64_t content_length; /* -1 when absent */
    bool chunked;         /* Transfer-Encoding ends with chunked */
    bool keep_alive;      /* per version and Connection field */
    bool expect_continue; /* Expect: 100-continue */
    bool upgrade;         /* Connection: upgrade with an Upgrade field */
    size_t head_len;      /* bytes of the head, final CRLF CRLF included */
} pt_http1_request_t;

#define PT_HTTP1_KEPT_FIELDS 16

/* Where a head parse stands between reads, so that each byte is scanned once however the
 * head is split (a head sent 100 bytes at a time used to be re-parsed from its first byte
 * on every read). Offsets count from the head's first byte: the caller may move or grow
 * its buffer between calls if the head keeps its start. Nothing here points into the
 * buffer or an arena. All zero (pt_http1_parser_init) is a fresh parse. */
typedef struct {
    int state;              /* private, as are the fields below */
    int blank;              /* empty lines skipped before the request line */
    size_t pos;             /* bytes scanned */
    size_t line;            /* start of the line being scanned */
    size_t mark;            /* in a field line: end of the name (the colon) */
    size_t value;           /* start of the target, the version or the field value */
    size_t method, method_len, target, target_len; /* the request line's parts */
    size_t fields;          /* first field line */
    size_t nfields;
    size_t rest;            /* the line after the last kept field (see kept) */
    size_t host, host_len;
    int64_t content_length;
    int hosts, version;
    bool cl_seen, te_seen, te_last_chunked, te_chunked_seen;
    bool conn_close, conn_keep_alive, conn_upgrade, has_upgrade, expect;
    /* The first PT_HTTP1_KEPT_FIELDS fields as the scan found them (offsets: name, its
     * length, value, its length), so that the headers array needs no second pass over
     * those lines. Past the zeroed part: only the first nfields entries are read. */
    uint32_t kept[PT_HTTP1_KEPT_FIELDS][4];
} pt_http1_parser_t;

typedef enum {
    PT_HTTP1_DONE = 0,   /* a whole head was parsed; req->head_len says how long it was */
    PT_HTTP1_AGAIN = 1,  /* the head is not complete yet and no limit is exceeded */
    PT_HTTP1_ERROR = 2,  /* *status holds 400, 414, 431, 501 or 505 */
} pt_http1_result_t;

/* Parses the request head at the start of buf[0..len) in one call. Leading empty lines (CRLF) before
 * the request line are skipped, as RFC 9112 section 2.2 allows. Answers ERROR with:
 *  400  malformed request line or field; whitespace between field name and colon; obs-fold;
 *       NUL, bare CR or bare LF in a field; Content-Length with Transfer-Encoding; several
 *       differing, or malformed, Content-Length values (sign, inner space, overflow);
 *       HTTP/1.1 without Host, or several Host fields
 *  414  request line longer than max_line (also while incomplete)
 *  431  more than max_fields fields, or a field line longer than max_field_size
 * Bytes are judged in order: the first byte that breaks a rule decides the status, and a
 * line's byte past its limit (other than the CR that ends it) is 414 or 431 whatever it is.
 *  501  Transfer-Encoding with an unknown coding
 *  400  Transfer-Encoding whose final coding is not chunked
 *  505  a version other than HTTP/1.0 and HTTP/1.1
 * The arena provides the headers array. */
pt_http1_result_t pt_http1_parse_head(const char *buf, size_t len, const pt_http1_limits_t *lim,
                                      pt_arena_t *arena, pt_http1_request_t *req, int *status);

void pt_http1_parser_init(pt_http1_parser_t *ps);
/* pt_http1_parse_head over a head that grows between calls: buf[0..len) holds the bytes of
 * the previous calls (unchanged, though perhaps moved) and more. Only the new bytes are
 * scanned; the result is the one pt_http1_parse_head gives for buf[0..len), whatever the
 * pieces were. req is filled (and the arena used) only on DONE; after DONE or ERROR the
 * parser must be initialised again before the next head. */
pt_http1_result_t pt_http1_parse_more(pt_http1_parser_t *ps, const char *buf, size_t len,
                                      const pt_http1_limits_t *lim, pt_arena_t *arena,
                                      pt_http1_request_t *req, int *status);

/* Decoder for a chunked request body (RFC 9112 section 7.1). Extensions are skipped but
 * bounded; trailers are read and discarded, bounded as a head is: a count of fields, a size
 * per field line and a total (Apache reads 5,000 trailer fields no more than 100 header
 * fields). */
typedef struct {
    int state;          /* private */
    uint64_t remaining; /* bytes left in the current chunk */
    size_t ext_len;     /* bytes of extension or trailer seen on the current line */
    uint64_t total;     /* body bytes decoded so far */
    size_t max_trailers;     /* trailer fields allowed (LimitRequestFields) */
    size_t max_trailer_line; /* one trailer field line, CRLF excluded (LimitRequestFieldSize) */
    size_t trailers;         /* trailer fields seen */
    size_t trailer_bytes;    /* bytes of trailer lines seen, CRLFs included */
    const char *error;       /* after PT_CHUNK_ERROR: what was wrong, for the log */
} pt_chunked_t;

#define PT_CHUNK_EXT_MAX 4096 /* chunk extension, bytes; also the default trailer line bound */
#define PT_CHUNK_TRAILERS_DEFAULT 100 /* trailer fields before pt_chunked_limit_trailers */
/* All trailer lines together. Trailers are discarded, and the ones in use (checksums, a
 * gRPC status) are a few hundred bytes; this keeps a client from making the server scan
 * LimitRequestFields x LimitRequestFieldSize bytes after every body. */
#define PT_CHUNK_TRAILERS_MAX (64 * 1024)

typedef enum {
    PT_CHUNK_DATA = 0,  /* *data is a piece of body; *consumed bytes of input were used */
    PT_CHUNK_AGAIN = 1, /* all input consumed (*consumed == len), no data; feed more */
    PT_CHUNK_END = 2,   /* last chunk and trailers done; *consumed bytes used */
    PT_CHUNK_ERROR = 3, /* malformed: bad size, overflow, oversized extension, bad CRLF;
                           or trailers past their bounds. c->error says which */
} pt_chunk_result_t;

void pt_chunked_init(pt_chunked_t *c);
/* Bounds the trailer section: max_fields fields, each line at most max_line bytes (0 keeps
 * the default of each), and PT_CHUNK_TRAILERS_MAX bytes in all. */
void pt_chunked_limit_trailers(pt_chunked_t *c, size_t max_fields, size_t max_line);
/* Decodes from in[0..len). Call again with the rest (in + *consumed) until AGAIN or END. */
pt_chunk_result_t pt_chunked_decode(pt_chunked_t *c, const char *in, size_t len,
                                    size_t *consumed, pt_str_t *data);

/* Header field lookup in a parsed request (first match, case-insensitive). */
const pt_str_t *pt_http1_header(const pt_http1_request_t *req, const char *name);

#endif
