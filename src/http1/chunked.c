/* Chunked request body decoder (RFC 9112 section 7.1), declared in http1.h: a byte-at-a-time
 * state machine for the framing, so input may be cut anywhere, with the data handed out as
 * slices of the input. Extensions and trailers are bounded and discarded. */
#include "http1.h"

#include <stdint.h>

static inline bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Chunked decoder states. Framing bytes go through chunk_step one at a time, so input may be
 * split anywhere; data is handed out as slices of the input. */
enum {
    C_SIZE,          /* hex digits; ext_len counts them, then the extension bytes */
    C_SIZE_BWS,      /* blanks after the size, only ';' may follow */
    C_EXT,           /* chunk extension, skipped up to PT_CHUNK_EXT_MAX bytes */
    C_SIZE_LF,
    C_DATA,
    C_DATA_CR,
    C_DATA_LF,
    C_TRAILER_START, /* start of a trailer line, or the final CRLF */
    C_TRAILER,
    C_TRAILER_LF,
    C_END_LF,
    C_DONE,
    C_ERROR,
};

void pt_chunked_init(pt_chunked_t *c)
{
    memset(c, 0, sizeof(*c));
    c->state = C_SIZE;
    c->max_trailers = PT_CHUNK_TRAILERS_DEFAULT;
    c->max_trailer_line = PT_CHUNK_EXT_MAX;
}

void pt_chunked_limit_trailers(pt_chunked_t *c, size_t max_fields, size_t max_line)
{
    if (max_fields > 0)
        c->max_trailers = max_fields;
    if (max_line > 0)
        c->max_trailer_line = max_line;
}

static int chunk_fail(pt_chunked_t *c, const char *why)
{
    c->error = why;
    return -1;
}

static inline bool is_ctl(unsigned char ch)
{
    return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

/* Bytes of an extension or trailer line: bounded, no controls (a bare LF among them). */
static int line_byte(pt_chunked_t *c, unsigned char ch, int lf_state)
{
    if (ch == '\r') {
        c->state = lf_state;
        return 0;
    }
    return (++c->ext_len > PT_CHUNK_EXT_MAX || is_ctl(ch)) ? -1 : 0;
}

/* Bytes of a trailer line: bounded per line and in all (Apache counts them as it counts
 * header fields: 400 past LimitRequestFieldSize). */
static int trailer_byte(pt_chunked_t *c, unsigned char ch)
{
    if (++c->trailer_bytes > PT_CHUNK_TRAILERS_MAX)
        return chunk_fail(c, "trailer section larger than its bound");
    if (ch == '\r') {
        c->state = C_TRAILER_LF;
        return 0;
    }
    if (++c->ext_len > c->max_trailer_line)
        return chunk_fail(c, "trailer field larger than LimitRequestFieldSize");
    return is_ctl(ch) ? -1 : 0;
}

static int size_end(pt_chunked_t *c, unsigned char ch)
{
    if (c->ext_len == 0 || c->remaining > (uint64_t)INT64_MAX)
        return -1;
    c->ext_len = 0;
    if (ch == '\r') {
        c->state = C_SIZE_LF;
        return 0;
    }
    if (ch == ';') {
        c->state = C_EXT;
        c->ext_len = 1;
        return 0;
    }
    if (ch == ' ' || ch == '\t') {
        c->state = C_SIZE_BWS;
        c->ext_len = 1;
        return 0;
    }
    return -1;
}

static int chunk_step(pt_chunked_t *c, unsigned char ch)
{
    int h;
    switch (c->state) {
    case C_SIZE:
        if ((h = pt_hexval(ch)) < 0)
            return size_end(c, ch);
        if (c->ext_len == 16)
            return -1;
        c->remaining = c->remaining << 4 | (uint64_t)h;
        c->ext_len++;
        return 0;
    case C_SIZE_BWS: /* BWS before ';' (RFC 9112 7.1.1); not before CRLF */
        if (ch == ';')
            c->state = C_EXT;
        else if (!is_ows((char)ch))
            return -1;
        return ++c->ext_len > PT_CHUNK_EXT_MAX ? -1 : 0;
    case C_EXT:
        return line_byte(c, ch, C_SIZE_LF);
    case C_SIZE_LF:
        if (ch != '\n')
            return -1;
        c->ext_len = 0;
        c->state = c->remaining ? C_DATA : C_TRAILER_START;
        return 0;
    case C_DATA_CR:
        c->state = C_DATA_LF;
        return ch == '\r' ? 0 : -1;
    case C_DATA_LF:
        c->state = C_SIZE;
        c->remaining = 0;
        c->ext_len = 0;
        return ch == '\n' ? 0 : -1;
    case C_TRAILER_START:
        if (ch == '\r') {
            c->state = C_END_LF;
            return 0;
        }
        if (is_ows((char)ch)) /* obs-fold */
            return -1;
        if (++c->trailers > c->max_trailers)
            return chunk_fail(c, "more trailer fields than LimitRequestFields");
        c->state = C_TRAILER;
        return trailer_byte(c, ch);
    case C_TRAILER:
        return trailer_byte(c, ch);
    case C_TRAILER_LF:
        c->ext_len = 0;
        c->state = C_TRAILER_START;
        return ch == '\n' ? 0 : -1;
    case C_END_LF:
        c->state = C_DONE;
        return ch == '\n' ? 0 : -1;
    }
    return -1;
}

pt_chunk_result_t pt_chunked_decode(pt_chunked_t *c, const char *in, size_t len,
                                    size_t *consumed, pt_str_t *data)
{
    size_t i = 0;
    data->p = NULL;
    data->len = 0;
    while (i < len && c->state < C_DONE) {
        if (c->state == C_DATA) {
            size_t n = (size_t)PT_MIN(c->remaining, (uint64_t)(len - i));
            *data = (pt_str_t){in + i, n};
            c->remaining -= n;
            c->total += n;
            if (c->remaining == 0)
                c->state = C_DATA_CR;
            *consumed = i + n;
            return PT_CHUNK_DATA;
        }
        if (chunk_step(c, (unsigned char)in[i++]) != 0) {
            if (!c->error)
                c->error = "malformed chunked framing";
            c->state = C_ERROR;
            break;
        }
    }
    *consumed = i;
    if (c->state == C_DONE)
        return PT_CHUNK_END;
    return c->state == C_ERROR ? PT_CHUNK_ERROR : PT_CHUNK_AGAIN;
}
