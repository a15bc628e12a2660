/* libFuzzer harness for src/http2/h2_check.c, against nghttp2 1.52's own checks of a request
 * (its HTTP messaging, which portico's server session turns off because h2_check makes them
 * as it keeps each field). Each input is one request on stream 1: a head, maybe a body and
 * trailers. The same frames go to an nghttp2 server session with HTTP messaging on, which
 * resets a malformed request's stream with PROTOCOL_ERROR, and through the calls portico's
 * callbacks make (h2_callbacks.c: on_header, on_frame_recv, on_data_chunk): both must find
 * the request malformed, or both not. Any difference aborts.
 *
 * Input: byte 0 is flags (H_*); bytes 1 and 2 the body's length (big-endian, modulo 2049),
 * sent as one DATA frame of 'x' when the head does not end the stream; then fields, each
 * [name length][name][value length][value]; a name length of 0xff ends the head's fields,
 * those after it being the trailers' (sent when H_TRAILERS). */
#include "fuzz.h"
#include "h2_check.h"

#include <nghttp2/nghttp2.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

enum {
    H_HEAD_ENDS = 1 << 0,     /* END_STREAM on the head: no body, no trailers */
    H_TRAILERS = 1 << 1,      /* trailers follow the body */
    H_TRAILERS_OPEN = 1 << 2, /* ... without END_STREAM (malformed) */
};

#define MAX_FIELDS 64
#define MAX_BODY 2048

typedef struct {
    nghttp2_nv nv[MAX_FIELDS];
    size_t n;
} fields_t;

/* Reads fields from p[*at..n) into f until the end or a 0xff name length (passed over). */
static void read_fields(const uint8_t *p, size_t n, size_t *at, fields_t *f)
{
    f->n = 0;
    while (*at < n && f->n < MAX_FIELDS) {
        size_t nl = p[(*at)++];
        if (nl == 0xff)
            return;
        if (*at + nl >= n) {
            *at = n;
            return;
        }
        const uint8_t *name = p + *at;
        *at += nl;
        size_t vl = p[(*at)++];
        if (*at + vl > n)
            vl = n - *at;
        f->nv[f->n++] =
            (nghttp2_nv){(uint8_t *)name, (uint8_t *)(p + *at), nl, vl, NGHTTP2_NV_FLAG_NONE};
        *at += vl;
    }
}

/* ---- The frames --------------------------------------------------------------------- */

typedef struct {
    uint8_t b[65536];
    size_t len;
} wire_t;

static void frame_head(wire_t *w, size_t len, uint8_t type, uint8_t flags, uint32_t id)
{
    uint8_t *h = w->b + w->len;
    h[0] = (uint8_t)(len >> 16), h[1] = (uint8_t)(len >> 8), h[2] = (uint8_t)len;
    h[3] = type, h[4] = flags;
    h[5] = (uint8_t)(id >> 24), h[6] = (uint8_t)(id >> 16), h[7] = (uint8_t)(id >> 8);
    h[8] = (uint8_t)id;
    w->len += 9;
}

/* A HEADERS frame of f (one frame: the fields are small), encoded by deflater. */
static bool headers_frame(wire_t *w, nghttp2_hd_deflater *deflater, const fields_t *f,
                          bool end_stream)
{
    size_t at = w->len;
    w->len += 9;
    ssize_t n = nghttp2_hd_deflate_hd(deflater, w->b + w->len, 16384, f->nv, f->n);
    if (n < 0)
        return false;
    w->len = at;
    frame_head(w, (size_t)n, NGHTTP2_HEADERS,
               NGHTTP2_FLAG_END_HEADERS | (end_stream ? NGHTTP2_FLAG_END_STREAM : 0), 1);
    w->len += (size_t)n;
    return true;
}

/* ---- What nghttp2 answers ------------------------------------------------------------ */

typedef struct {
    uint8_t b[65536];
    size_t len;
} out_t;

static ssize_t on_send(nghttp2_session *ng, const uint8_t *p, size_t n, int flags, void *user)
{
    (void)ng, (void)flags;
    out_t *o = user;
    if (o->len + n > sizeof(o->b))
        n = sizeof(o->b) - o->len;
    memcpy(o->b + o->len, p, n);
    o->len += n;
    return (ssize_t)n;
}

/* nghttp2's verdict on the request in w: 1 when its stream was reset with PROTOCOL_ERROR
 * first, 0 when it was not reset, -1 when something else came first (a connection error,
 * another reset code: frames, not messages, which are not h2_check's). */
static int nghttp2_verdict(const wire_t *w)
{
    nghttp2_session_callbacks *cb;
    nghttp2_session *ng;
    static out_t out;
    out.len = 0;
    CHECK(nghttp2_session_callbacks_new(&cb) == 0);
    nghttp2_session_callbacks_set_send_callback(cb, on_send);
    CHECK(nghttp2_session_server_new(&ng, cb, &out) == 0);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1}};
    CHECK(nghttp2_submit_settings(ng, NGHTTP2_FLAG_NONE, iv, 1) == 0);
    int verdict = 0;
    ssize_t rc = nghttp2_session_mem_recv(ng, w->b, w->len);
    if (rc < 0 || nghttp2_session_send(ng) != 0)
        verdict = -1;
    nghttp2_session_del(ng);
    for (size_t at = 0; verdict == 0 && at + 9 <= out.len;) {
        const uint8_t *h = out.b + at;
        size_t len = ((size_t)h[0] << 16) | ((size_t)h[1] << 8) | h[2];
        uint32_t id =
            ((uint32_t)(h[5] & 0x7f) << 24) | ((uint32_t)h[6] << 16) | ((uint32_t)h[7] << 8) | h[8];
        if (at + 9 + len > out.len)
            break;
        if (h[3] == NGHTTP2_GOAWAY)
            verdict = -1;
        else if (h[3] == NGHTTP2_RST_STREAM && id == 1 && len == 4)
            verdict = h[12] == NGHTTP2_PROTOCOL_ERROR && !h[9] && !h[10] && !h[11] ? 1 : -1;
        at += 9 + len;
    }
    return verdict;
}

/* ---- What portico answers ------------------------------------------------------------ */

/* One block of fields through on_header's check: false at the first malformed one (and
 * :protocol, which portico's session refuses: it sends no SETTINGS_ENABLE_CONNECT_PROTOCOL). */
static bool fields_pass(h2_check_t *ck, const fields_t *f, bool trailer)
{
    for (size_t i = 0; i < f->n; i++) {
        h2_field_t k = h2_check_field(ck, f->nv[i].name, f->nv[i].namelen, f->nv[i].value,
                                      f->nv[i].valuelen, trailer);
        if (k == H2_FIELD_MALFORMED || k == H2_FIELD_PROTOCOL)
            return false;
        if (k == H2_FIELD_CONTENT_LENGTH)
            CHECK((ck->seen & H2_CK_LENGTH) && ck->length >= 0);
    }
    return true;
}

/* portico's verdict: true when the request is malformed. */
static bool portico_malformed(const fields_t *head, bool head_ends, size_t body,
                              const fields_t *trailers, bool has_trailers, bool trailers_end)
{
    h2_check_t ck = {0};
    if (!fields_pass(&ck, head, false) || !h2_check_head(&ck, head_ends))
        return true;
    if (head_ends)
        return false;
    if (body > 0 && !h2_check_data(&ck, body)) /* (on_data_chunk: DATA with bytes) */
        return true;
    if (!has_trailers)
        return !h2_check_body_end(&ck);
    return !fields_pass(&ck, trailers, true) || !h2_check_trailers(&ck, trailers_end);
}

/* The priority field's parser: a line that parses sets only u (0..7) and i, and one that
 * does not leaves both as they were. */
static void priority_lines(const fields_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        uint8_t u = 9;
        bool inc = true;
        if (h2_check_priority(f->nv[i].value, f->nv[i].valuelen, &u, &inc))
            CHECK(u <= 7 || u == 9);
        else
            CHECK(u == 9 && inc);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    if (n < 3)
        return 0;
    uint8_t flags = p[0];
    size_t body = (((size_t)p[1] << 8) | p[2]) % (MAX_BODY + 1);
    size_t at = 3;
    static fields_t head, trailers;
    read_fields(p, n, &at, &head);
    read_fields(p, n, &at, &trailers);
    priority_lines(&head);

    bool head_ends = flags & H_HEAD_ENDS;
    bool has_trailers = !head_ends && (flags & H_TRAILERS);
    bool trailers_end = !(flags & H_TRAILERS_OPEN);
    static wire_t w;
    w.len = 0;
    memcpy(w.b, NGHTTP2_CLIENT_MAGIC, NGHTTP2_CLIENT_MAGIC_LEN);
    w.len = NGHTTP2_CLIENT_MAGIC_LEN;
    frame_head(&w, 0, NGHTTP2_SETTINGS, 0, 0);
    nghttp2_hd_deflater *deflater;
    CHECK(nghttp2_hd_deflate_new(&deflater, 4096) == 0);
    bool built = headers_frame(&w, deflater, &head, head_ends);
    if (built && !head_ends) {
        frame_head(&w, body, NGHTTP2_DATA, has_trailers ? 0 : NGHTTP2_FLAG_END_STREAM, 1);
        memset(w.b + w.len, 'x', body);
        w.len += body;
        if (has_trailers)
            built = headers_frame(&w, deflater, &trailers, trailers_end);
    }
    nghttp2_hd_deflate_del(deflater);
    if (!built)
        return 0;

    int theirs = nghttp2_verdict(&w);
    bool ours = portico_malformed(&head, head_ends, body, &trailers, has_trailers, trailers_end);
    if (getenv("FUZZ_H2_VERBOSE")) /* (what each seed is: FUZZ_H2_VERBOSE=1 fuzz_h2_check FILE) */
        fprintf(stderr, "nghttp2: %s; h2_check: %s\n",
                theirs < 0 ? "not a message's error"
                : theirs   ? "malformed"
                           : "well-formed",
                ours ? "malformed" : "well-formed");
    if (theirs < 0)
        return 0;
    if (ours != (theirs == 1)) {
        fprintf(stderr, "h2_check says %s, nghttp2 says %s\n", ours ? "malformed" : "well-formed",
                theirs ? "malformed" : "well-formed");
        abort();
    }
    return 0;
}
