/* Byte ranges (RFC 9110 section 14), multipart/byteranges framing, and the validators the
 * static handler uses for conditional requests (RFC 9110 section 13): entity tags, HTTP
 * dates, and the precondition order. Pure functions: no I/O, nothing from request.c. */
#ifndef PT_RANGE_H
#define PT_RANGE_H

#include "arena.h"
#include "common.h"
#include "httpdate.h" /* pt_http_date_parse, pt_http_date_format: range.c's users read dates */
#include "table.h"

#include <time.h>

/* More ranges than this in one Range field and the field is ignored (a full 200 answer):
 * many small overlapping ranges are a known amplification attack (CVE-2011-3192). */
#define PT_RANGE_MAX 100

typedef struct {
    int64_t first, last; /* inclusive byte positions, first <= last < size */
} pt_range_t;

typedef enum {
    PT_RANGE_NONE = 0,        /* no usable Range: send the whole representation (200) */
    PT_RANGE_OK = 1,          /* *n >= 1 ranges, sorted and coalesced (206) */
    PT_RANGE_UNSATISFIABLE = 2, /* 416 with "Content-Range: bytes * /SIZE" */
} pt_range_result_t;

/* Parses a Range field value for a representation of size bytes into out[0..*n). Invalid
 * syntax, another unit, more than PT_RANGE_MAX ranges, or an empty representation give
 * NONE. Overlapping and adjacent ranges are merged; the result is in ascending order. */
pt_range_result_t pt_range_parse(const char *value, int64_t size, pt_range_t *out,
                                 size_t *n);

/* multipart/byteranges: the part header that precedes ranges[i] (CRLF, "--boundary", CRLF,
 * Content-Type when type is not NULL, Content-Range, blank line), and the closing
 * delimiter. */
const char *pt_range_part_head(pt_arena_t *a, const char *boundary, const char *type,
                               const pt_range_t *r, int64_t size);
const char *pt_range_multipart_tail(pt_arena_t *a, const char *boundary);
/* Exact Content-Length of the multipart body built from the two functions above. */
int64_t pt_range_multipart_length(pt_arena_t *a, const char *boundary, const char *type,
                                  const pt_range_t *ranges, size_t n, int64_t size);

/* ---- Validators --------------------------------------------------------------------- */

#define PT_ETAG_LEN 64 /* buffer for pt_etag_make_bits, "W/", quotes and NUL included */

/* The ETag of FileETag components bits (PT_FETAG_INODE, _SIZE, _MTIME; conf/config.h) as
 * Apache's ap_make_etag: "INODE-SIZE-MTIME" in lower-case hex with the parts not asked for
 * left out, MTIME in microseconds (the default, MTime Size: "SIZE-MTIME"). */
void pt_etag_make_bits(char *buf, size_t len, unsigned bits, uint64_t inode, int64_t size,
                       int64_t mtime_us);
/* The same tag in its weak form, W/"...": the strong form is buf + 2, so one tag made once
 * (the open-file cache's) serves requests on either side of the window of pt_etag_weak. */
void pt_etag_make_weak_bits(char *buf, size_t len, unsigned bits, uint64_t inode, int64_t size,
                            int64_t mtime_us);
/* Whether a file's ETag is weak at the request's time (microseconds), as Apache's
 * ap_make_etag decides: when the mtime is not more than a second before the request (or is
 * after it), the file may change again within that second and keep its mtime, so the tag
 * cannot promise the same bytes (RFC 9110 8.8.1). FileETag Digest is always strong. */
bool pt_etag_weak(int64_t mtime_us, int64_t request_us);
/* Is etag (strong, quoted) in the list field value ("*" matches any)? weak: the weak
 * comparison (W/ ignored on both sides), else the strong one (a W/ tag never matches). */
bool pt_etag_list_match(const char *list, const char *etag, bool weak);


/* RFC 9110 13.2.2 order on headers_in: If-Match, If-Unmodified-Since, If-None-Match,
 * If-Modified-Since (ignored when If-None-Match is present, when invalid, or when later
 * than now). Returns 0 to go on, 412, or 304 (GET/HEAD) for a matching If-None-Match or an
 * unmodified If-Modified-Since. */
int pt_cond_evaluate(const pt_table_t *headers_in, bool get_or_head, const char *etag,
                     time_t mtime, time_t now);

/* If-Range (RFC 9110 13.1.5): true when the ranges may be applied: the value is our strong
 * ETag, or a date equal to Last-Modified. NULL (no If-Range) is true. */
bool pt_range_if_range_ok(const char *if_range, const char *etag, time_t mtime);

#endif
