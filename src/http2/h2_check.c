/* RFC 9113 section 8's checks of a request, field by field and as a whole (h2_check.h).
 * They run for every field of every request, so the usual case is cheap: each name and
 * value is one table look-up a byte, eight at a time with no branch until the end, and only
 * a few names (by length, then by bytes) get a rule of their own. */
#include "h2_check.h"

#include <string.h>

/* clang-format off */
/* Character classes, one bit each (RFC 9110 5.1, 5.5, 5.6.2; RFC 3986 3.1, 3.2). */
enum {
    C_NAME = 1 << 0,  /* tchar but upper case: a field name (RFC 9113 8.2.1) */
    C_TCHAR = 1 << 1, /* tchar: a method */
    C_AUTH = 1 << 2,  /* an authority: unreserved, sub-delims, ":", "@", "[", "]", "%" */
    C_VALUE = 1 << 3, /* field-vchar, SP, HTAB */
    C_PATH = 1 << 4,  /* VCHAR and obs-text: no space, no control */
    C_SCHEME = 1 << 5, /* ALPHA, DIGIT, "+", "-", "." */
};

#define VP (C_VALUE | C_PATH)             /* a delimiter of no other use */
#define AV (C_AUTH | VP)                  /* a delimiter an authority may hold */
#define NV (C_NAME | C_TCHAR | VP)        /* a token character no authority holds */
#define TK (C_NAME | C_TCHAR | C_AUTH | VP) /* a token character that goes anywhere */
#define TS (TK | C_SCHEME)                /* lower case, digits, "+", "-", "." */
#define UP (C_TCHAR | C_AUTH | VP | C_SCHEME) /* upper case */
#define X16(c) c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c

static const uint8_t cls[256] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, C_VALUE, 0, 0, 0, 0, 0, 0,
    /* 0x10 */ X16(0),
    /* SP ! " # $ % & ' ( ) * + , - . / */
    C_VALUE, TK, VP, NV, TK, TK, TK, TK, AV, AV, TK, TS, AV, TS, TS, VP,
    /* 0 - 9 : ; < = > ? */
    TS, TS, TS, TS, TS, TS, TS, TS, TS, TS, AV, AV, VP, AV, VP, VP,
    /* @ A - O */
    AV, UP, UP, UP, UP, UP, UP, UP, UP, UP, UP, UP, UP, UP, UP, UP,
    /* P - Z [ \ ] ^ _ */
    UP, UP, UP, UP, UP, UP, UP, UP, UP, UP, UP, AV, VP, AV, NV, TK,
    /* ` a - o */
    NV, TS, TS, TS, TS, TS, TS, TS, TS, TS, TS, TS, TS, TS, TS, TS,
    /* p - z { | } ~ DEL */
    TS, TS, TS, TS, TS, TS, TS, TS, TS, TS, TS, VP, NV, VP, TK, 0,
    /* obs-text */
    X16(VP), X16(VP), X16(VP), X16(VP), X16(VP), X16(VP), X16(VP), X16(VP),
};
/* clang-format on */

/* The classes every byte of p[0..n) has: eight bytes at a time, the last eight
 * overlapping those before them; fewer than eight read as four and four, or three, some
 * twice (which changes nothing here), so no byte past n is read. Two instructions a byte,
 * no branch but the loop's. */
static uint8_t cls4(const uint8_t *p)
{
    return cls[p[0]] & cls[p[1]] & cls[p[2]] & cls[p[3]];
}

static uint8_t classes(const uint8_t *p, size_t n)
{
    if (n >= 8) {
        uint8_t acc = 0xff;
        for (size_t i = 0; i + 8 < n; i += 8)
            acc &= cls4(p + i) & cls4(p + i + 4);
        return acc & cls4(p + n - 8) & cls4(p + n - 4);
    }
    if (n >= 4)
        return cls4(p) & cls4(p + n - 4);
    if (n > 0)
        return cls[p[0]] & cls[p[n / 2]] & cls[p[n - 1]];
    return 0xff;
}

/* True when every byte of p[0..n) has every bit of want. */
static bool all_of(const uint8_t *p, size_t n, uint8_t want)
{
    return (classes(p, n) & want) == want;
}

bool h2_check_name(const uint8_t *p, size_t n)
{
    return n > 0 && all_of(p, n, C_NAME);
}

static bool ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

bool h2_check_value(const uint8_t *p, size_t n)
{
    if (n == 0)
        return true;
    return !ows(p[0]) && !ows(p[n - 1]) && all_of(p, n, C_VALUE);
}

/* RFC 3986 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
static bool scheme_ok(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    uint8_t c = (uint8_t)(p[0] | 0x20);
    return c >= 'a' && c <= 'z' && all_of(p + 1, n - 1, C_SCHEME);
}

/* Equal to lit (lower case letters only), in any case. */
static bool letters_eq(const uint8_t *p, size_t n, const char *lit, size_t litlen)
{
    if (n != litlen)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != (uint8_t)lit[i])
            return false;
    return true;
}

/* 1*DIGIT within int64_t, or -1. */
static int64_t length_of(const uint8_t *p, size_t n)
{
    if (n == 0)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)p[i] - '0';
        if (d > 9 || v > (INT64_MAX - (int64_t)d) / 10)
            return -1;
        v = v * 10 + (int64_t)d;
    }
    return v;
}

#define NAME_IS(lit) (namelen == sizeof(lit) - 1 && memcmp(name, lit, sizeof(lit) - 1) == 0)

/* A pseudo-header field (name begins with ':'): once each, non-empty, before any regular
 * field, never in trailers, and only those of a request (8.3, 8.3.1). */
static h2_field_t pseudo_field(h2_check_t *ck, const uint8_t *name, size_t namelen,
                               const uint8_t *v, size_t n, bool trailer)
{
    h2_field_t f;
    uint16_t bit;
    bool ok;
    if (NAME_IS(":method")) {
        f = H2_FIELD_METHOD, bit = H2_CK_METHOD, ok = all_of(v, n, C_TCHAR);
        if (n == 7 && memcmp(v, "CONNECT", 7) == 0)
            ck->seen |= H2_CK_CONNECT;
        else if (n == 7 && memcmp(v, "OPTIONS", 7) == 0)
            ck->seen |= H2_CK_OPTIONS;
    } else if (NAME_IS(":scheme")) {
        f = H2_FIELD_SCHEME, bit = H2_CK_SCHEME, ok = true;
        if (letters_eq(v, n, "https", 5) || letters_eq(v, n, "http", 4))
            ck->seen |= H2_CK_HTTP;
        else
            ok = scheme_ok(v, n);
    } else if (NAME_IS(":path")) {
        f = H2_FIELD_PATH, bit = H2_CK_PATH, ok = all_of(v, n, C_PATH);
        if (n > 0 && v[0] == '/')
            ck->seen |= H2_CK_PATH_SLASH;
        else if (n == 1 && v[0] == '*')
            ck->seen |= H2_CK_PATH_STAR;
    } else if (NAME_IS(":authority")) {
        f = H2_FIELD_AUTHORITY, bit = H2_CK_AUTHORITY, ok = all_of(v, n, C_AUTH);
    } else if (NAME_IS(":protocol")) {
        f = H2_FIELD_PROTOCOL, bit = H2_CK_PROTOCOL, ok = h2_check_value(v, n);
    } else {
        return H2_FIELD_MALFORMED; /* :status, and any other */
    }
    if (!ok || n == 0 || trailer || (ck->seen & (bit | H2_CK_REGULAR)))
        return H2_FIELD_MALFORMED;
    ck->seen |= bit;
    return f;
}

/* A regular field whose name has a rule of its own (8.2.2, 8.1.1, 8.3.1's host). */
static h2_field_t special_field(h2_check_t *ck, const uint8_t *name, size_t namelen,
                                const uint8_t *v, size_t n)
{
    switch (namelen) {
    case 2:
        if (NAME_IS("te") && !letters_eq(v, n, "trailers", 8))
            return H2_FIELD_MALFORMED;
        break;
    case 4:
        if (NAME_IS("host")) {
            if (n == 0 || !all_of(v, n, C_AUTH) || (ck->seen & H2_CK_HOST))
                return H2_FIELD_MALFORMED;
            ck->seen |= H2_CK_HOST;
            return H2_FIELD_HOST;
        }
        break;
    case 7:
        if (NAME_IS("upgrade"))
            return H2_FIELD_MALFORMED;
        break;
    case 10:
        if (NAME_IS("connection") || NAME_IS("keep-alive"))
            return H2_FIELD_MALFORMED;
        break;
    case 14:
        if (NAME_IS("content-length")) {
            int64_t len = length_of(v, n);
            if (len < 0 || (ck->seen & H2_CK_LENGTH))
                return H2_FIELD_MALFORMED;
            ck->seen |= H2_CK_LENGTH;
            ck->length = len;
            return H2_FIELD_CONTENT_LENGTH;
        }
        break;
    case 16:
        if (NAME_IS("proxy-connection"))
            return H2_FIELD_MALFORMED;
        break;
    case 17:
        if (NAME_IS("transfer-encoding"))
            return H2_FIELD_MALFORMED;
        break;
    default:
        break;
    }
    return H2_FIELD_REGULAR;
}

h2_field_t h2_check_field(h2_check_t *ck, const uint8_t *name, size_t namelen, const uint8_t *value,
                          size_t valuelen, bool trailer)
{
    if (namelen > 0 && name[0] == ':')
        return pseudo_field(ck, name, namelen, value, valuelen, trailer);
    ck->seen |= H2_CK_REGULAR;
    /* (host's value is then checked as an authority, whose characters are a value's) */
    if (!h2_check_name(name, namelen) || !h2_check_value(value, valuelen))
        return H2_FIELD_MALFORMED;
    return special_field(ck, name, namelen, value, valuelen);
}

bool h2_check_head(h2_check_t *ck, bool end_stream)
{
    uint16_t s = ck->seen;
    if ((s & H2_CK_CONNECT) && !(s & H2_CK_PROTOCOL)) {
        /* 8.5: the authority alone; a body of any length, as long as the tunnel lasts. */
        ck->seen &= (uint16_t)~H2_CK_LENGTH;
        return (s & (H2_CK_SCHEME | H2_CK_PATH)) == 0 && (s & H2_CK_AUTHORITY);
    }
    const uint16_t needed = H2_CK_METHOD | H2_CK_SCHEME | H2_CK_PATH;
    if ((s & needed) != needed || !(s & (H2_CK_AUTHORITY | H2_CK_HOST)))
        return false;
    /* RFC 8441 4: an extended CONNECT names its authority. */
    if ((s & H2_CK_PROTOCOL) && (!(s & H2_CK_CONNECT) || !(s & H2_CK_AUTHORITY)))
        return false;
    /* 8.3.1: an http or https :path is absolute, or * for OPTIONS. */
    if ((s & H2_CK_HTTP) && !(s & H2_CK_PATH_SLASH) &&
        !((s & H2_CK_OPTIONS) && (s & H2_CK_PATH_STAR)))
        return false;
    return !end_stream || h2_check_body_end(ck);
}

bool h2_check_trailers(const h2_check_t *ck, bool end_stream)
{
    return end_stream && h2_check_body_end(ck);
}

bool h2_check_data(h2_check_t *ck, size_t n)
{
    ck->body += (int64_t)n;
    return !(ck->seen & H2_CK_LENGTH) || ck->body <= ck->length;
}

bool h2_check_body_end(const h2_check_t *ck)
{
    return !(ck->seen & H2_CK_LENGTH) || ck->body == ck->length;
}
