/* The head of an upstream's HTTP/1.x response, parsed strictly (RFC 9112): what a proxy
 * must not guess about is refused, so that the 502 is ours and no ambiguity reaches the
 * client (a response that two parsers would frame differently is a desync waiting to
 * happen). Pure: no I/O; the fields are slices of the caller's buffer. */
#ifndef PT_HTTP_RESP_H
#define PT_HTTP_RESP_H

#include "arena.h"
#include "http1.h"

/* Longest response head accepted (Apache's is LimitRequestFieldSize per line, 8 KiB, and
 * 100 fields; this bounds the whole head the same order of magnitude). */
#define PT_HTTP_RESP_HEAD_MAX (64 * 1024)
#define PT_HTTP_RESP_FIELDS_MAX 200

/* Owned by the caller; fields[] is from the arena given to the parse, its slices point
 * into the parsed buffer. */
typedef struct {
    int version;            /* 10 or 11 */
    int status;             /* 100..599 */
    pt_header_t *fields;
    size_t nfields;
    int64_t content_length; /* -1 when absent */
    bool chunked;           /* Transfer-Encoding: chunked (the only coding accepted) */
    bool conn_close;        /* Connection: close (or HTTP/1.0 without keep-alive) */
    bool conn_upgrade;      /* Connection names upgrade */
    size_t head_len;        /* bytes of the head, the blank line included */
} pt_http_resp_t;

typedef enum {
    PT_HTTP_RESP_DONE = 0,
    PT_HTTP_RESP_AGAIN = 1, /* not complete yet (and within PT_HTTP_RESP_HEAD_MAX) */
    PT_HTTP_RESP_BAD = 2,   /* *why says what was wrong */
} pt_http_resp_result_t;

/* Parses the response head at the start of buf[0..len). BAD for: a status line that is not
 * "HTTP/1.0|1.1 DDD[ reason]"; a field line that is not "token: value" (obs-fold, space
 * before the colon, bare CR or LF, NUL); Content-Length that is not digits, or several
 * differing ones; Transfer-Encoding with Content-Length, or with a coding other than one
 * chunked; a head longer than PT_HTTP_RESP_HEAD_MAX or with more than max_fields fields. */
pt_http_resp_result_t pt_http_resp_parse(const char *buf, size_t len, size_t max_fields,
                                         pt_arena_t *a, pt_http_resp_t *out, const char **why);

/* The same, with ProxyBadHeader's choice for a field line that has no colon: an error (as
 * above), skipped (Ignore), or the start of the body (StartBody: the head ends before it,
 * head_len says where, and a line ending CRLF CRLF after it is body). */
enum { PT_HTTP_BADHDR_ERROR = 0, PT_HTTP_BADHDR_IGNORE, PT_HTTP_BADHDR_STARTBODY };
pt_http_resp_result_t pt_http_resp_parse_bad(const char *buf, size_t len, size_t max_fields,
                                             int bad, pt_arena_t *a, pt_http_resp_t *out,
                                             const char **why);

/* Whether name is a hop-by-hop field that a proxy never forwards (RFC 9110 section 7.6.1:
 * Connection, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, and the Proxy-Connection
 * and Proxy-Authorization fields older clients send). */
bool pt_http_hop_by_hop(const char *name, size_t len);
/* Whether the comma-separated list list[0..len) names token (case-insensitive). */
bool pt_http_list_has(const char *list, size_t len, const char *token, size_t tlen);

#endif
