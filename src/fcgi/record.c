/* FastCGI records (FastCGI 1.0 specification, sections 3 and 5): header and BEGIN_REQUEST
 * encoding, name-value pairs, PARAMS streams cut into records, and the incremental decoder
 * for what a backend sends back. Layouts and constants are libfcgi's fastcgi.h. */
#include "fcgi/fcgi.h"

enum { DEC_HEADER, DEC_CONTENT, DEC_PADDING };

void pt_fcgi_header_put(unsigned char *out, int type, unsigned id, size_t clen, size_t pad)
{
    FCGI_Header h = {
        .version = FCGI_VERSION_1,
        .type = (unsigned char)type,
        .requestIdB1 = (unsigned char)(id >> 8),
        .requestIdB0 = (unsigned char)id,
        .contentLengthB1 = (unsigned char)(clen >> 8),
        .contentLengthB0 = (unsigned char)clen,
        .paddingLength = (unsigned char)pad,
        .reserved = 0,
    };
    memcpy(out, &h, sizeof(h));
}

void pt_fcgi_begin_put(unsigned char *out, unsigned id, bool keep_conn)
{
    FCGI_BeginRequestRecord rec;
    memset(&rec, 0, sizeof(rec));
    pt_fcgi_header_put((unsigned char *)&rec.header, FCGI_BEGIN_REQUEST, id,
                       sizeof(rec.body), 0);
    rec.body.roleB1 = 0;
    rec.body.roleB0 = FCGI_RESPONDER;
    rec.body.flags = keep_conn ? FCGI_KEEP_CONN : 0;
    memcpy(out, &rec, sizeof(rec));
}

static size_t len_size(size_t n)
{
    return n < 128 ? 1 : 4;
}

size_t pt_fcgi_nv_size(size_t nlen, size_t vlen)
{
    return len_size(nlen) + len_size(vlen) + nlen + vlen;
}

static size_t len_put(unsigned char *out, size_t n)
{
    if (n < 128) {
        out[0] = (unsigned char)n;
        return 1;
    }
    out[0] = (unsigned char)(0x80 | ((n >> 24) & 0x7f));
    out[1] = (unsigned char)(n >> 16);
    out[2] = (unsigned char)(n >> 8);
    out[3] = (unsigned char)n;
    return 4;
}

size_t pt_fcgi_nv_put(unsigned char *out, const char *name, size_t nlen, const char *value,
                      size_t vlen)
{
    size_t o = len_put(out, nlen);
    o += len_put(out + o, vlen);
    memcpy(out + o, name, nlen);
    o += nlen;
    memcpy(out + o, value, vlen);
    return o + vlen;
}

static int len_get(const unsigned char *p, size_t len, size_t *o, size_t *n)
{
    if (*o >= len)
        return PT_EINVAL;
    if (!(p[*o] & 0x80)) {
        *n = p[(*o)++];
        return 0;
    }
    if (len - *o < 4)
        return PT_EINVAL;
    *n = ((size_t)(p[*o] & 0x7f) << 24) | ((size_t)p[*o + 1] << 16) |
         ((size_t)p[*o + 2] << 8) | p[*o + 3];
    *o += 4;
    return 0;
}

int pt_fcgi_nv_get(const unsigned char *p, size_t len, pt_str_t *name, pt_str_t *value,
                   size_t *used)
{
    size_t o = 0, nl = 0, vl = 0;
    if (len_get(p, len, &o, &nl) != 0 || len_get(p, len, &o, &vl) != 0)
        return PT_EINVAL;
    if (nl > len - o || vl > len - o - nl)
        return PT_EINVAL;
    *name = (pt_str_t){(const char *)p + o, nl};
    *value = (pt_str_t){(const char *)p + o + nl, vl};
    *used = o + nl + vl;
    return 0;
}

/* ---- PARAMS stream ------------------------------------------------------------------- */

void pt_fcgi_params_init(pt_fcgi_params_t *pp, pt_arena_t *a)
{
    pp->arena = a;
    pp->cap = 2048;
    pp->p = pt_arena_alloc(a, pp->cap);
    pp->len = 0;
}

void pt_fcgi_params_add(pt_fcgi_params_t *pp, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    size_t need = pt_fcgi_nv_size(nl, vl);
    if (pp->len + need > pp->cap) {
        size_t cap = PT_MAX(pp->cap * 2, pp->len + need);
        pp->p = pt_arena_grow(pp->arena, pp->p, pp->len, cap);
        pp->cap = cap;
    }
    pp->len += pt_fcgi_nv_put(pp->p + pp->len, name, nl, value, vl);
}

unsigned char *pt_fcgi_params_records(const pt_fcgi_params_t *pp, unsigned id, size_t *len)
{
    size_t nrec = pp->len / PT_FCGI_MAX_CONTENT + 1;
    /* Content padded to 8 bytes, as the specification recommends. */
    unsigned char *out = pt_arena_alloc(pp->arena, pp->len + (nrec + 1) * (FCGI_HEADER_LEN + 8));
    size_t o = 0;
    for (size_t off = 0; off < pp->len;) {
        size_t n = PT_MIN(pp->len - off, (size_t)PT_FCGI_MAX_CONTENT);
        size_t pad = (8 - n % 8) % 8;
        pt_fcgi_header_put(out + o, FCGI_PARAMS, id, n, pad);
        o += FCGI_HEADER_LEN;
        memcpy(out + o, pp->p + off, n);
        o += n;
        memset(out + o, 0, pad);
        o += pad;
        off += n;
    }
    pt_fcgi_header_put(out + o, FCGI_PARAMS, id, 0, 0);
    *len = o + FCGI_HEADER_LEN;
    return out;
}

/* ---- Decoder ------------------------------------------------------------------------- */

void pt_fcgi_decoder_init(pt_fcgi_decoder_t *d, unsigned id)
{
    memset(d, 0, sizeof(*d));
    d->id = id;
    d->state = DEC_HEADER;
}

static int dec_fail(pt_fcgi_decoder_t *d, const char *why)
{
    d->error = why;
    return PT_EINVAL;
}

/* A complete header: checks it and sets up the content. */
static int dec_header(pt_fcgi_decoder_t *d)
{
    const FCGI_Header *h = (const FCGI_Header *)d->hdr;
    unsigned id = ((unsigned)h->requestIdB1 << 8) | h->requestIdB0;
    d->type = h->type;
    d->content_left = ((size_t)h->contentLengthB1 << 8) | h->contentLengthB0;
    d->pad_left = h->paddingLength;
    d->blen = 0;
    d->hlen = 0;
    if (h->version != FCGI_VERSION_1)
        return dec_fail(d, "unsupported FastCGI record version");
    if (d->ended)
        return dec_fail(d, "record after END_REQUEST");
    if (id == FCGI_NULL_REQUEST_ID &&
        (d->type == FCGI_GET_VALUES_RESULT || d->type == FCGI_UNKNOWN_TYPE)) {
        d->type = -1; /* management records: skipped */
    } else if (id != d->id) {
        return dec_fail(d, "record for an unknown request id");
    } else if (d->type == FCGI_END_REQUEST) {
        if (d->content_left != sizeof(FCGI_EndRequestBody))
            return dec_fail(d, "END_REQUEST record of the wrong length");
    } else if (d->type != FCGI_STDOUT && d->type != FCGI_STDERR) {
        return dec_fail(d, "unexpected FastCGI record type");
    }
    d->state = d->content_left ? DEC_CONTENT : DEC_PADDING;
    return 0;
}

static void dec_end_event(pt_fcgi_decoder_t *d, pt_fcgi_event_t *ev)
{
    const FCGI_EndRequestBody *b = (const FCGI_EndRequestBody *)d->body;
    ev->type = PT_FCGI_EV_END;
    ev->app_status = ((uint32_t)b->appStatusB3 << 24) | ((uint32_t)b->appStatusB2 << 16) |
                     ((uint32_t)b->appStatusB1 << 8) | b->appStatusB0;
    ev->protocol_status = b->protocolStatus;
    d->ended = true;
}

/* Content bytes of the current record: STDOUT/STDERR are handed out as slices. */
static void dec_content(pt_fcgi_decoder_t *d, const unsigned char *p, size_t n,
                        pt_fcgi_event_t *ev)
{
    d->content_left -= n;
    if (d->type == FCGI_STDOUT || d->type == FCGI_STDERR) {
        ev->type = d->type == FCGI_STDOUT ? PT_FCGI_EV_STDOUT : PT_FCGI_EV_STDERR;
        ev->data = (pt_str_t){(const char *)p, n};
    } else if (d->type == FCGI_END_REQUEST) {
        memcpy(d->body + d->blen, p, n);
        d->blen += n;
        if (d->content_left == 0)
            dec_end_event(d, ev);
    }
    if (d->content_left == 0)
        d->state = DEC_PADDING;
}

int pt_fcgi_decode(pt_fcgi_decoder_t *d, const unsigned char *buf, size_t len, size_t *used,
                   pt_fcgi_event_t *ev)
{
    size_t o = 0;
    memset(ev, 0, sizeof(*ev));
    while (o < len || (d->state == DEC_PADDING && d->pad_left == 0)) {
        if (d->state == DEC_HEADER) {
            size_t n = PT_MIN(len - o, FCGI_HEADER_LEN - d->hlen);
            memcpy(d->hdr + d->hlen, buf + o, n);
            d->hlen += n;
            o += n;
            if (d->hlen == FCGI_HEADER_LEN) {
                bool empty_stream;
                if (dec_header(d) != 0) {
                    *used = o;
                    return PT_EINVAL;
                }
                /* An empty STDOUT record ends the stream: reported as empty data. */
                empty_stream = d->content_left == 0 && d->type == FCGI_STDOUT;
                if (empty_stream) {
                    ev->type = PT_FCGI_EV_STDOUT;
                    ev->data = (pt_str_t){"", 0};
                    break;
                }
            }
        } else if (d->state == DEC_CONTENT) {
            size_t n = PT_MIN(len - o, d->content_left);
            dec_content(d, buf + o, n, ev);
            o += n;
            if (ev->type == PT_FCGI_EV_END) {
                /* Its padding too, so that a clean end leaves nothing unread. */
                size_t k = PT_MIN(len - o, d->pad_left);
                d->pad_left -= k;
                o += k;
            }
            if (ev->type != PT_FCGI_EV_NONE)
                break;
        } else {
            size_t n = PT_MIN(len - o, d->pad_left);
            d->pad_left -= n;
            o += n;
            if (d->pad_left == 0)
                d->state = DEC_HEADER;
        }
    }
    *used = o;
    return 0;
}
