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

/* RFC 8941's structured fields, as far as RFC 9218's priority needs them: a dictionary
 * whose members are read to their end (any item, inner list and parameters) so that one
 * that does not parse spoils the whole line, as 4.2 says. in->p moves past what parsed. */
typedef struct {
    const uint8_t *p, *end;
} sf_in_t;

typedef enum { SF_INTEGER, SF_BOOLEAN, SF_OTHER } sf_type_t;

typedef struct {
    sf_type_t type;
    int64_t i; /* an integer's value, a boolean's 0 or 1 */
} sf_item_t;

static bool sf_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool sf_lcalpha(uint8_t c)
{
    return c >= 'a' && c <= 'z';
}

static bool sf_alpha(uint8_t c)
{
    return sf_lcalpha((uint8_t)(c | 0x20));
}

static bool sf_at(const sf_in_t *in, uint8_t c)
{
    return in->p < in->end && *in->p == c;
}

static void sf_skip_sp(sf_in_t *in)
{
    while (sf_at(in, ' '))
        in->p++;
}

static void sf_skip_ows(sf_in_t *in)
{
    while (in->p < in->end && ows(*in->p))
        in->p++;
}

/* 4.2.3.3: lcalpha or "*", then lcalpha, DIGIT, "_", "-", "." or "*". */
static bool sf_key(sf_in_t *in, const uint8_t **key, size_t *len)
{
    const uint8_t *b = in->p;
    if (b == in->end || !(sf_lcalpha(*b) || *b == '*'))
        return false;
    for (in->p++; in->p < in->end; in->p++) {
        uint8_t c = *in->p;
        if (!sf_lcalpha(c) && !sf_digit(c) && c != '_' && c != '-' && c != '.' && c != '*')
            break;
    }
    *key = b;
    *len = (size_t)(in->p - b);
    return true;
}

/* 4.2.4: an integer of at most 15 digits, or a decimal of at most 12 then 1 to 3. */
static bool sf_number(sf_in_t *in, sf_item_t *it)
{
    bool neg = sf_at(in, '-');
    if (neg)
        in->p++;
    if (in->p == in->end || !sf_digit(*in->p))
        return false;
    int64_t v = 0;
    int whole = 0, frac = -1; /* digits before the dot; after it (-1: no dot) */
    for (; in->p < in->end; in->p++) {
        uint8_t c = *in->p;
        if (sf_digit(c) && frac < 0) {
            if (++whole > 15)
                return false;
            v = v * 10 + (c - '0');
        } else if (sf_digit(c)) {
            if (++frac > 3)
                return false;
        } else if (c == '.' && frac < 0 && whole <= 12) {
            frac = 0;
        } else if (c == '.' && frac < 0) {
            return false;
        } else {
            break;
        }
    }
    if (frac == 0)
        return false;
    it->type = frac < 0 ? SF_INTEGER : SF_OTHER;
    it->i = neg ? -v : v;
    return true;
}

/* 4.2.5: printable ASCII between quotes, with only \" and \\ escaped. */
static bool sf_string(sf_in_t *in)
{
    for (in->p++; in->p < in->end;) {
        uint8_t c = *in->p++;
        if (c == '"')
            return true;
        if (c == '\\') {
            if (!sf_at(in, '"') && !sf_at(in, '\\'))
                return false;
            in->p++;
        } else if (c < 0x20 || c > 0x7e) {
            return false;
        }
    }
    return false;
}

/* 4.2.6: ALPHA or "*", then tchar, ":" or "/". */
static void sf_token(sf_in_t *in)
{
    for (in->p++; in->p < in->end; in->p++)
        if (!(cls[*in->p] & C_TCHAR) && *in->p != ':' && *in->p != '/')
            break;
}

/* 4.2.7: base64's characters between colons (not decoded: never used). */
static bool sf_bytes(sf_in_t *in)
{
    for (in->p++; in->p < in->end; in->p++) {
        uint8_t c = *in->p;
        if (c == ':') {
            in->p++;
            return true;
        }
        if (!sf_alpha(c) && !sf_digit(c) && c != '+' && c != '/' && c != '=')
            return false;
    }
    return false;
}

/* 4.2.8: ?0 or ?1. */
static bool sf_boolean(sf_in_t *in, sf_item_t *it)
{
    in->p++;
    if (!sf_at(in, '0') && !sf_at(in, '1'))
        return false;
    it->type = SF_BOOLEAN;
    it->i = *in->p++ - '0';
    return true;
}

/* 4.2.3.1. */
static bool sf_bare_item(sf_in_t *in, sf_item_t *it)
{
    it->type = SF_OTHER;
    if (in->p == in->end)
        return false;
    uint8_t c = *in->p;
    if (c == '-' || sf_digit(c))
        return sf_number(in, it);
    if (c == '"')
        return sf_string(in);
    if (c == ':')
        return sf_bytes(in);
    if (c == '?')
        return sf_boolean(in, it);
    if (c != '*' && !sf_alpha(c))
        return false;
    sf_token(in);
    return true;
}

/* 4.2.3.2: parameters, which RFC 9218 gives no meaning. */
static bool sf_params(sf_in_t *in)
{
    while (sf_at(in, ';')) {
        in->p++;
        sf_skip_sp(in);
        const uint8_t *key;
        size_t len;
        sf_item_t it;
        if (!sf_key(in, &key, &len))
            return false;
        if (!sf_at(in, '='))
            continue; /* true */
        in->p++;
        if (!sf_bare_item(in, &it))
            return false;
    }
    return true;
}

/* 4.2.1.2: items separated by spaces, between parentheses, then parameters. */
static bool sf_inner_list(sf_in_t *in)
{
    in->p++;
    for (;;) {
        sf_skip_sp(in);
        if (sf_at(in, ')')) {
            in->p++;
            return sf_params(in);
        }
        sf_item_t it;
        if (!sf_bare_item(in, &it) || !sf_params(in))
            return false;
        if (!sf_at(in, ' ') && !sf_at(in, ')'))
            return false;
    }
}

/* A dictionary member's value (4.2.2): "=" and an item or inner list, or else true with
 * parameters. */
static bool sf_member_value(sf_in_t *in, sf_item_t *it)
{
    if (!sf_at(in, '=')) {
        it->type = SF_BOOLEAN;
        it->i = 1;
        return sf_params(in);
    }
    in->p++;
    if (sf_at(in, '(')) {
        it->type = SF_OTHER;
        return sf_inner_list(in);
    }
    return sf_bare_item(in, it) && sf_params(in);
}

/* RFC 9218 4: u, the urgency, an integer 0..7; i, incremental, a boolean. */
static bool priority_member(const uint8_t *key, size_t len, const sf_item_t *it, uint8_t *u,
                            bool *inc)
{
    if (len != 1)
        return true;
    if (key[0] == 'u') {
        if (it->type != SF_INTEGER || it->i < 0 || it->i > 7)
            return false;
        *u = (uint8_t)it->i;
    } else if (key[0] == 'i') {
        if (it->type != SF_BOOLEAN)
            return false;
        *inc = it->i != 0;
    }
    return true;
}

bool h2_check_priority(const uint8_t *p, size_t n, uint8_t *urgency, bool *incremental)
{
    sf_in_t in = {p, p + n};
    uint8_t u = *urgency;
    bool inc = *incremental;
    sf_skip_sp(&in);
    while (in.p < in.end) {
        const uint8_t *key;
        size_t len;
        sf_item_t it;
        if (!sf_key(&in, &key, &len) || !sf_member_value(&in, &it) ||
            !priority_member(key, len, &it, &u, &inc))
            return false;
        sf_skip_ows(&in);
        if (in.p == in.end)
            break;
        if (*in.p++ != ',')
            return false;
        sf_skip_ows(&in);
        if (in.p == in.end) /* a trailing comma */
            return false;
    }
    *urgency = u;
    *incremental = inc;
    return true;
}

/* A priority line of a head (nghttp2 read none in trailers): lines add up until one does
 * not parse, which leaves the request with no signal, whatever the others say. */
void h2_check_priority_field(h2_check_t *ck, const uint8_t *v, size_t n)
{
    if (ck->seen & H2_CK_PRIORITY_BAD)
        return;
    if (!(ck->seen & H2_CK_PRIORITY)) {
        ck->urgency = 3; /* RFC 9218 4.1, 4.2: the defaults */
        ck->incremental = false;
    }
    if (h2_check_priority(v, n, &ck->urgency, &ck->incremental))
        ck->seen |= H2_CK_PRIORITY;
    else
        ck->seen = (uint16_t)((ck->seen & ~H2_CK_PRIORITY) | H2_CK_PRIORITY_BAD);
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

/* A regular field whose name has a rule of its own (8.2.2, 8.1.1, 8.3.1's host), or is
 * read here (RFC 9218's priority). */
static h2_field_t special_field(h2_check_t *ck, const uint8_t *name, size_t namelen,
                                const uint8_t *v, size_t n, bool trailer)
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
    case 8:
        if (NAME_IS("priority") && !trailer)
            h2_check_priority_field(ck, v, n);
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
    return special_field(ck, name, namelen, value, valuelen, trailer);
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
