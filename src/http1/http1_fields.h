/* The request head's meaning (http1_fields.c), for the scan in http1.c: what it calls once it
 * has judged a piece's bytes. Internal to src/http1. */
#ifndef PT_HTTP1_FIELDS_H
#define PT_HTTP1_FIELDS_H

#include "http1.h"

#include <stdbool.h>
#include <stdint.h>

/* tchar (RFC 9110 5.6.2): method and field-name bytes. */
extern const uint8_t pt_h1_tchar[256];

static inline bool pt_h1_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

pt_method_t pt_h1_method_id(pt_str_t m);
/* req->target in its form (origin, absolute, authority for CONNECT, asterisk for OPTIONS):
 * path, query and abs_host set; 0 or 400. */
int pt_h1_parse_target(pt_http1_request_t *req);
/* v: "HTTP/x.y" CR LF. 0 with *version (10 or 11), 400 malformed, 505 another version. */
int pt_h1_parse_version(const char *v, int *version);
/* A field line the scan judged: its name and trimmed value; the start of the next line. */
const char *pt_h1_split_field(const char *s, pt_header_t *h);
/* Whether a field's name may be one that pt_h1_on_field takes (Host, Expect, Upgrade,
 * Connection, Content-Length, Transfer-Encoding): its length and first letter, in any case.
 * Asked before the call, which for any other field (most of a head's) costs more than this
 * test. name is not empty (the scan refuses an empty one). */
static inline bool pt_h1_field_may_matter(pt_str_t name)
{
    /* The first letter, lower case, of the name of each length; 0 for no such name ('h'
     * comes only from 'H' or 'h', and no byte | 0x20 is 0). */
    static const char first[18] = {[4] = 'h', [6] = 'e', [7] = 'u', [10] = 'c', [14] = 'c',
                                   [17] = 't'};
    return name.len < sizeof(first) && first[name.len] == (char)(name.p[0] | 0x20);
}

/* Takes a judged field's meaning into st (buf: the bytes st's offsets count from). 0, or the
 * status that refuses the head (400, 501). */
int pt_h1_on_field(pt_http1_parser_t *st, const char *buf, const pt_header_t *h);

#endif
