/* RFC 9113 section 8's checks of a request as it arrives on a stream: each field of its
 * head and trailers (8.2.1 characters, 8.2.2 connection-specific fields, 8.3 pseudo-header
 * fields), the head as a whole once it ends (8.3.1, CONNECT of 8.5), and the body against
 * its content-length (8.1.1). A request that fails one is malformed: the caller resets its
 * stream with PROTOCOL_ERROR. These are the checks nghttp2's HTTP messaging made (the
 * session turns it off: portico looks at every field anyway), with the one field it also
 * read, RFC 9218's priority, kept here as it passes; h2_callbacks.c calls them. */
#ifndef PT_H2_CHECK_H
#define PT_H2_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a stream's checks have seen so far. All zero is a new stream. */
typedef struct {
    uint16_t seen;   /* H2_CK_* */
    uint8_t urgency; /* the priority field's u and i, when H2_CK_PRIORITY */
    bool incremental;
    int64_t length; /* content-length, when H2_CK_LENGTH */
    int64_t body;   /* DATA bytes received (padding aside) */
} h2_check_t;

/* clang-format off */
enum {
    H2_CK_METHOD = 1 << 0, /* each pseudo-header field, once */
    H2_CK_SCHEME = 1 << 1,
    H2_CK_PATH = 1 << 2,
    H2_CK_AUTHORITY = 1 << 3,
    H2_CK_PROTOCOL = 1 << 4,
    H2_CK_HOST = 1 << 5,
    H2_CK_REGULAR = 1 << 6,    /* a regular field: no pseudo-header may follow */
    H2_CK_CONNECT = 1 << 7,    /* :method CONNECT */
    H2_CK_OPTIONS = 1 << 8,    /* :method OPTIONS */
    H2_CK_HTTP = 1 << 9,       /* :scheme http or https, any case */
    H2_CK_PATH_SLASH = 1 << 10, /* :path begins with / */
    H2_CK_PATH_STAR = 1 << 11,  /* :path is * */
    H2_CK_LENGTH = 1 << 12,    /* a content-length came (and bounds the body) */
    H2_CK_PRIORITY = 1 << 13,  /* the head's priority lines parsed so far */
    H2_CK_PRIORITY_BAD = 1 << 14, /* one did not: no signal (RFC 9218 4) */
};
/* clang-format on */

/* The fields h2_check_field tells apart: the caller keeps them without comparing names. */
typedef enum {
    H2_FIELD_MALFORMED = -1,
    H2_FIELD_REGULAR = 0,
    H2_FIELD_METHOD,
    H2_FIELD_SCHEME,
    H2_FIELD_PATH,
    H2_FIELD_AUTHORITY,
    H2_FIELD_PROTOCOL, /* valid only where SETTINGS_ENABLE_CONNECT_PROTOCOL was sent: the
                          caller knows (RFC 8441 3) */
    H2_FIELD_HOST,
    H2_FIELD_CONTENT_LENGTH, /* its value in ck->length */
} h2_field_t;

/* One decoded field of the head (trailer false) or of the trailers: which it is, or
 * H2_FIELD_MALFORMED. */
h2_field_t h2_check_field(h2_check_t *ck, const uint8_t *name, size_t namelen, const uint8_t *value,
                          size_t valuelen, bool trailer);
/* The head is complete (end_stream: it ends the request): false when malformed. */
bool h2_check_head(h2_check_t *ck, bool end_stream);
/* Trailers are complete: false when malformed. */
bool h2_check_trailers(const h2_check_t *ck, bool end_stream);
/* n more bytes of body: false when they pass the content-length. */
bool h2_check_data(h2_check_t *ck, size_t n);
/* DATA ended the request: false when the body fell short of its content-length. */
bool h2_check_body_end(const h2_check_t *ck);

/* One line of the head's priority field, as h2_check_field reads it: for the request an
 * HTTP/1.1 Upgrade made stream 1 of, whose fields no HEADERS frame carried. */
void h2_check_priority_field(h2_check_t *ck, const uint8_t *v, size_t n);

/* The urgency (0..7) and incremental flag the head's priority field asks for (RFC 9218 5),
 * once the head has ended: false when it has none, or one that does not parse. */
static inline bool h2_check_priority_of(const h2_check_t *ck, uint8_t *urgency, bool *incremental)
{
    if ((ck->seen & (H2_CK_PRIORITY | H2_CK_PRIORITY_BAD)) != H2_CK_PRIORITY)
        return false;
    *urgency = ck->urgency;
    *incremental = ck->incremental;
    return true;
}

/* One line of a priority field: an RFC 8941 dictionary (3.2, parsed as 4.2.2 says) of
 * which only u (an integer 0..7) and i (a boolean) count, other keys and every parameter
 * being skipped once they parse. Sets *urgency and *incremental from the members it has
 * (the last of each) and leaves the rest as they were, so that lines read one after
 * another add up as one list (RFC 9110 5.3); false, and neither touched, when it does not
 * parse or u or i is not of its type. An empty line is an empty dictionary. */
bool h2_check_priority(const uint8_t *p, size_t n, uint8_t *urgency, bool *incremental);

/* A regular field's name: lower-case token characters (RFC 9110 5.1, RFC 9113 8.2.1). */
bool h2_check_name(const uint8_t *p, size_t n);
/* A field's value: no NUL, CR, LF nor other control but HTAB, no DEL, and no space or HTAB
 * at either end (RFC 9113 8.2.1). */
bool h2_check_value(const uint8_t *p, size_t n);

#endif
