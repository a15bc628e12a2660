/* An HTTP/2 stream as a request (c2): built from the headers the session decoded, served on
 * a pool thread (h2_workers.c) through pt_h2_proto, the pt_proto_ops_t below. The response
 * head and body go into the stream's bounded buffer for the session to frame; the request
 * body comes out of the buffer the session fills from DATA frames. Each stream has its own
 * secondary connection (st->c2, as mod_http2's c2): the core marks a client gone there
 * (c->aborted) without touching the session's connection or its other streams. */
#include "h2_int.h"
#include "idle.h"

#include "log.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Ended streams are kept per thread, not per session: the thread's next stream, of any
 * session, takes one with its arena's first block and a small output buffer, still in the
 * CPU's cache; an idle session keeps none (each session kept up to 16, about 12.5 KiB each
 * after small answers: 129 KiB per idle HTTP/2 connection that had run ten streams).
 * Streams are made and recycled on the session's thread (c1), whichever MPM worker that is
 * at the time; a stream made on one thread may be kept by another. A thread about to wait
 * for work (idle.h) or ending frees those it keeps. */
#define H2_SPARE_STREAMS 16       /* ended streams a thread keeps for reuse */
#define H2_SPARE_OUT_MAX 16384    /* the largest output buffer a kept stream keeps */

static _Thread_local struct {
    h2_stream_t *head;
    int n;
} spares;
static atomic_bool spares_hooked; /* spares_release is an idle hook (idle.h) */

/* Frees the thread's ended streams: at its end, and when it is about to wait a while (a
 * worker that served HTTP/2 once keeps none of them while idle). */
static void spares_release(void)
{
    while (spares.head) {
        h2_stream_t *st = spares.head;
        spares.head = st->next;
        h2_stream_destroy(st);
    }
    spares.n = 0;
}

static void stream_init(h2_stream_t *st, h2_session_t *s, int32_t id)
{
    st->s = s;
    st->id = id;
    pt_table_init(&st->headers, st->arena, 16);
}

h2_stream_t *h2_stream_create(h2_session_t *s, int32_t id)
{
    h2_stream_t *st = spares.head;
    if (st) {
        spares.head = st->next;
        spares.n--;
        st->next = NULL;
        stream_init(st, s, id);
        return st;
    }
    st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->arena = pt_arena_create(8192);
    if (!st->arena) {
        free(st);
        return NULL;
    }
    pthread_cond_init(&st->cond, NULL); /* (for the struct's life: recycling keeps it) */
    stream_init(st, s, id);
    return st;
}

void h2_stream_destroy(h2_stream_t *st)
{
    if (st->s && st->s->last == st)
        st->s->last = NULL;
    pthread_cond_destroy(&st->cond);
    pt_arena_destroy(st->arena);
    free(st->in);
    free(st->out);
    free(st->spare_out);
    free(st->tr);
    free(st);
}

void h2_stream_recycle(h2_stream_t *st)
{
    h2_session_t *s = st->s;
    if (s->last == st)
        s->last = NULL;
    if (spares.n >= H2_SPARE_STREAMS || !pt_thread_keeps(spares_release, &spares_hooked)) {
        h2_stream_destroy(st);
        return;
    }
    pt_arena_t *a = st->arena;
    char *out = st->out ? st->out : st->spare_out;
    size_t cap = st->out ? st->out_cap : st->spare_cap;
    if (st->out && st->spare_out)
        free(st->spare_out);
    if (cap > H2_SPARE_OUT_MAX) {
        free(out);
        out = NULL;
        cap = 0;
    }
    if (st->in) /* (most streams have neither: no calls) */
        free(st->in);
    if (st->tr)
        free(st->tr);
    pt_arena_reset(a); /* (runs the request's cleanups, as destroying it would) */
    /* All but the condition, which nobody waits on now and which the next stream uses as it
     * is (destroying and making it again was an atomic operation per stream). */
    size_t at = offsetof(h2_stream_t, cond), past = at + sizeof(st->cond);
    memset(st, 0, at);
    memset((char *)st + past, 0, sizeof(*st) - past);
    st->arena = a;
    st->spare_out = out;
    st->spare_cap = cap;
    st->next = spares.head;
    spares.head = st;
    spares.n++;
}

size_t h2_stream_spares(void)
{
    return (size_t)spares.n;
}

/* ---- The session's lock ------------------------------------------------------------- */

/* A stream run inline (on_c1) is the session's thread's alone while it runs: no other
 * thread reads or writes its fields, so its output takes no lock (four lock and unlock
 * pairs a small answer saved: 5% of an HTTP/2 request's time, by perf). What the session
 * must learn of it, it learns after the run (it pumps once its started streams ran). */
static void stream_lock(h2_stream_t *st)
{
    if (!st->on_c1)
        pthread_mutex_lock(&st->s->lock);
}

static void stream_unlock(h2_stream_t *st)
{
    if (!st->on_c1)
        pthread_mutex_unlock(&st->s->lock);
}

/* ---- Waiting for the session (lock held) ------------------------------------------- */

/* Waits on the stream's condition until the session signals it or ms pass: false when the
 * time ran out. */
static bool wait_locked(h2_stream_t *st, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ms = PT_MAX(ms, 1);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return pthread_cond_timedwait(&st->cond, &st->s->lock, &ts) != ETIMEDOUT;
}

/* H2StreamTimeout, else Timeout: how long a stream waits for the client to take output. */
static int64_t write_timeout_ms(const h2_stream_t *st, const pt_request_t *r)
{
    if (st->s->conf->stream_timeout_ms > 0)
        return st->s->conf->stream_timeout_ms;
    return r->vhost->timeout_ms > 0 ? r->vhost->timeout_ms : 60000;
}

/* Copies n response bytes into the stream's buffer, waiting for room while the session
 * sends what is there (flow control lets a slow client hold a stream's worker, not its
 * memory). 0, or a negative error when the stream is gone. */
static int out_write(pt_request_t *r, h2_stream_t *st, const char *p, size_t n)
{
    h2_session_t *s = st->s;
    int rc = 0;
    stream_lock(st);
    if (!st->out && n > 0) { /* (made on first use: many answers have no body) */
        size_t cap = st->on_c1 ? PT_MAX(n, (size_t)4096) : s->conf->stream_max_mem;
        if (st->spare_out && st->spare_cap >= cap) { /* a recycled stream's, when enough */
            st->out = st->spare_out; /* (its cap stays this stream's: H2StreamMaxMemSize) */
        } else {
            free(st->spare_out);
            st->out = malloc(cap);
        }
        st->spare_out = NULL;
        st->out_cap = st->out ? cap : 0;
        /* Without memory the answer ends, but the stream is not "closed": nghttp2 still has
         * it, and the session resets it once its worker is done (pump_locked), then ends it
         * on the wire before it is recycled for another. */
        if (!st->out)
            rc = PT_ECLOSED;
    }
    while (n > 0 && rc == 0) {
        if (st->closed) {
            rc = PT_ECLOSED;
            break;
        }
        if (st->out_off > 0 && st->out_off + st->out_len == st->out_cap) {
            memmove(st->out, st->out + st->out_off, st->out_len);
            st->out_off = 0;
        }
        size_t room = st->out_cap - st->out_off - st->out_len;
        if (room == 0 && st->on_c1) { /* nobody sends meanwhile: grows (runs_inline) */
            char *nb = realloc(st->out, PT_MAX(st->out_cap * 2, st->out_len + n));
            if (!nb) {
                rc = PT_ECLOSED;
                break;
            }
            st->out_cap = PT_MAX(st->out_cap * 2, st->out_len + n);
            st->out = nb;
            continue;
        }
        if (room == 0) {
            h2_session_wake(s);
            if (!wait_locked(st, write_timeout_ms(st, r)) && !st->closed &&
                st->out_len == st->out_cap) {
                rc = PT_ETIMEOUT;
                break;
            }
            continue;
        }
        size_t k = PT_MIN(room, n);
        memcpy(st->out + st->out_off + st->out_len, p, k);
        st->out_len += k;
        p += k;
        n -= k;
        if (st->deferred)
            h2_stream_wake(st);
    }
    stream_unlock(st);
    if (rc < 0)
        r->conn->aborted = true;
    return rc;
}

/* The held head goes to the session (the first body bytes or the end follow it). */
static void release_head(h2_stream_t *st)
{
    if (!st->held)
        return;
    st->held = false;
    stream_lock(st);
    st->head_ready = true;
    h2_stream_wake(st);
    stream_unlock(st);
}

/* ---- pt_proto_ops_t ------------------------------------------------------------------ */

static bool h2_keep_alive(pt_request_t *r, int64_t len)
{
    (void)r, (void)len;
    return true; /* a stream's end never ends the connection */
}

/* Connection-specific fields have no place in HTTP/2 (RFC 9113 section 8.2.2). By length
 * first: most names are none of them. */
static bool connection_specific(const char *name, size_t len)
{
    switch (len) {
    case 7:
        return strcasecmp(name, "upgrade") == 0;
    case 10:
        return strcasecmp(name, "connection") == 0 || strcasecmp(name, "keep-alive") == 0;
    case 16:
        return strcasecmp(name, "proxy-connection") == 0;
    case 17:
        return strcasecmp(name, "transfer-encoding") == 0;
    default:
        return false;
    }
}

/* "00" to "99": two digits per division (a length and a status per response). */
static const char two_digits[] = "00010203040506070809101112131415161718192021222324252627282930"
                                 "31323334353637383940414243444546474849505152535455565758596061"
                                 "6263646566676869707172737475767778798081828384858687888990919293"
                                 "949596979899";

/* v in decimal at q (at most 20 characters and a NUL): its length. Written from its last
 * digit back, once its digits are counted. */
static size_t decimal_at(char *q, long long v)
{
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    size_t n = 1; /* (a multiplication per digit, not a division) */
    for (unsigned long long t = 10; n < 20 && u >= t; t *= 10)
        n++;
    if (v < 0)
        *q++ = '-';
    char *p = q + n;
    *p = '\0';
    for (; u >= 100; u /= 100) {
        p -= 2;
        memcpy(p, two_digits + 2 * (u % 100), 2);
    }
    if (u >= 10)
        memcpy(p - 2, two_digits + 2 * u, 2);
    else
        p[-1] = (char)('0' + u);
    return n + (v < 0);
}

/* A status of three digits at q, and its NUL: 3. */
static size_t status_at(char *q, int status)
{
    q[0] = (char)('0' + status / 100);
    memcpy(q + 1, two_digits + 2 * (status % 100), 2);
    q[3] = '\0';
    return 3;
}

static nghttp2_nv nv_of(const char *name, size_t nlen, const char *value, size_t vlen)
{
    return (nghttp2_nv){(uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)value, nlen, vlen,
                        NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

/* Eight bytes at a time: in each word, the bytes from 'A' to 'Z' get 0x20 (their 7-bit values
 * plus 0x3f reach 0x80 from 'A' on, plus 0x25 from past 'Z' on; neither carries into the
 * next byte; bytes past ASCII are left alone). A tail of a longer string is its last eight
 * bytes again (lowering twice is lowering once). */
static inline void lower8(char *q, const uint8_t *p)
{
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL, high = 0x8080808080808080ULL;
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t h = w & low7;
    uint64_t upper = (h + 0x3f3f3f3f3f3f3f3fULL) & ~(h + 0x2525252525252525ULL) & ~w & high;
    w |= upper >> 2;
    memcpy(q, &w, 8);
}

void h2_lower_copy(char *q, const uint8_t *p, size_t n)
{
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            q[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
        return;
    }
    for (size_t i = 0; i + 8 <= n; i += 8)
        lower8(q + i, p + i);
    if (n % 8)
        lower8(q + n - 8, p + n - 8);
}

/* Whether the n bytes at p, in any case, are low (lower case letters, '-' and digits):
 * a word at a time, each letter compared without its case bit (0x20, which in low's letters
 * sits below their 0x40), every other byte exactly. n is 4 to 16 (two overlapping words). */
static bool same_name(const char *p, size_t n, const char *low)
{
    if (n < 8) {
        uint32_t a, b, la, lb;
        memcpy(&a, p, 4), memcpy(&b, p + n - 4, 4);
        memcpy(&la, low, 4), memcpy(&lb, low + n - 4, 4);
        return (a | ((la & 0x40404040u) >> 1)) == la && (b | ((lb & 0x40404040u) >> 1)) == lb;
    }
    uint64_t a, b, la, lb;
    const uint64_t bit = 0x4040404040404040ULL;
    memcpy(&a, p, 8), memcpy(&b, p + n - 8, 8);
    memcpy(&la, low, 8), memcpy(&lb, low + n - 8, 8);
    return (a | ((la & bit) >> 1)) == la && (b | ((lb & bit) >> 1)) == lb;
}

static const char content_length[] = "content-length";

static inline const char *known_name(const char *name, size_t n)
{
    const char *low = NULL;
    switch (n) {
    case 4:
        switch (name[0] | 0x20) {
        case 'd': low = "date"; break;
        case 'e': low = "etag"; break;
        case 'v': low = "vary"; break;
        case 'l': low = "link"; break;
        default: break;
        }
        break;
    case 5: low = "allow"; break;
    case 6: low = "server"; break;
    case 7: low = "expires"; break;
    case 8: low = "location"; break;
    case 12: low = "content-type"; break;
    case 13:
        switch (name[0] | 0x20) {
        case 'l': low = "last-modified"; break;
        case 'a': low = "accept-ranges"; break;
        case 'c': low = "cache-control"; break;
        default: break;
        }
        break;
    case 14: low = content_length; break;
    case 16: low = "content-encoding"; break;
    default: break;
    }
    return low && same_name(name, n, low) ? low : NULL;
}

const char *h2_known_name(const char *name, size_t n)
{
    return known_name(name, n);
}

/* Copies the fields kept (nv[1..k): names still the response's where flags is 0, else
 * h2_known_name's literals; values still the response's) into one block of the stream's
 * arena, those names in lower case: the session submits the head after the request's
 * handler, whose strings may not last, is done. The block's end, past the fields. */
static char *copy_fields(pt_arena_t *a, nghttp2_nv *nv, size_t k, size_t bytes)
{
    char *q = pt_arena_alloc(a, bytes);
    for (size_t j = 1; j < k; j++) {
        if (!nv[j].flags) {
            h2_lower_copy(q, nv[j].name, nv[j].namelen);
            nv[j].name = (uint8_t *)q;
            q += nv[j].namelen;
            *q++ = '\0';
        }
        nv[j].flags = NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE;
        memcpy(q, nv[j].value, nv[j].valuelen + 1);
        nv[j].value = (uint8_t *)q;
        q += nv[j].valuelen + 1;
    }
    return q;
}

/* Builds the head in the stream's arena (the session submits it later, after the worker's
 * arena may be gone) and holds it until the first body bytes or the end. */
static int h2_send_head(pt_request_t *r, const pt_resp_head_t *h)
{
    h2_stream_t *st = r->proto_ctx;
    const pt_table_t *f = h->fields;
    nghttp2_nv *nv = pt_arena_alloc(st->arena, (f->n + 2) * sizeof(*nv));
    size_t k = 1, bytes = 2 * 24; /* (:status and content-length's values) */
    bool has_length = false;
    for (size_t i = 0; i < f->n; i++) {
        const char *name = f->v[i].name;
        size_t nlen = strlen(name);
        const char *low = known_name(name, nlen);
        if (!low && connection_specific(name, nlen))
            continue;
        size_t vlen = strlen(f->v[i].value);
        if (low == content_length)
            has_length = true;
        nv[k] = nv_of(low ? low : name, nlen, f->v[i].value, vlen);
        nv[k].flags = low != NULL; /* (copy_fields: the name needs no copy) */
        bytes += (low ? 0 : nlen + 1) + nv[k++].valuelen + 1;
    }
    char *q = copy_fields(st->arena, nv, k, bytes);
    size_t n = h->status >= 100 && h->status <= 999 ? status_at(q, h->status)
                                                     : decimal_at(q, h->status);
    nv[0] = nv_of(":status", 7, q, n);
    q += n + 1;
    if (h->length >= 0 && pt_status_has_body(h->status) && !has_length)
        nv[k++] = nv_of(content_length, 14, q, decimal_at(q, h->length));
    stream_lock(st);
    st->nv = nv;
    st->nnv = k;
    st->no_body = h->no_body || r->header_only;
    stream_unlock(st);
    st->held = true;
    return 0;
}

static int h2_send_body(pt_request_t *r, pt_chain_t *body)
{
    h2_stream_t *st = r->proto_ctx;
    release_head(st);
    while (body && body->head) { /* (pt_chain_empty, without a call per buffer) */
        pt_buf_t *b = body->head;
        if (b->fd >= 0) {
            char tmp[16384];
            ssize_t n = pread(b->fd, tmp, PT_MIN(b->len, sizeof(tmp)), b->off);
            if (n <= 0)
                return PT_ECLOSED;
            int rc = out_write(r, st, tmp, (size_t)n);
            if (rc < 0)
                return rc;
            pt_chain_consume(body, (size_t)n);
            continue;
        }
        size_t len = b->len;
        int rc = out_write(r, st, b->p, len);
        if (rc < 0)
            return rc;
        pt_chain_consume(body, len);
    }
    return 0;
}

/* Files are read into the stream's buffer: HTTP/2 frames every byte, so there is no
 * sendfile past the session. */
static int h2_send_file(pt_request_t *r, int fd, off_t off, off_t len, bool last)
{
    (void)last;
    h2_stream_t *st = r->proto_ctx;
    release_head(st);
    char tmp[16384];
    while (len > 0) {
        ssize_t n = pread(fd, tmp, (size_t)PT_MIN(len, (off_t)sizeof(tmp)), off);
        if (n <= 0) {
            r->conn->aborted = true; /* the promised length cannot be kept */
            return PT_ECLOSED;
        }
        int rc = out_write(r, st, tmp, (size_t)n);
        if (rc < 0)
            return rc;
        off += n;
        len -= n;
    }
    return 0;
}

static int h2_finish(pt_request_t *r)
{
    h2_stream_t *st = r->proto_ctx;
    release_head(st);
    stream_lock(st);
    st->out_eof = true;
    h2_stream_wake(st);
    stream_unlock(st);
    r->head_sent = true;
    return 0;
}

/* The request's trailer fields, at the body's end (lock held). */
static void take_trailers(pt_request_t *r, h2_stream_t *st)
{
    for (size_t i = 0; i < st->tr_len;) {
        const char *name = st->tr + i;
        const char *value = name + strlen(name) + 1;
        pt_table_add(&r->trailers_in, pt_arena_strdup(r->arena, name),
                     pt_arena_strdup(r->arena, value));
        i = (size_t)(value - st->tr) + strlen(value) + 1;
    }
    st->tr_len = 0;
}

/* Takes request body bytes the session received; what is taken is given back to the
 * client as window by the session (nghttp2_session_consume), so a stream never holds
 * more than its window. */
static long h2_read_body(pt_request_t *r, void *buf, size_t n, int *status)
{
    h2_stream_t *st = r->proto_ctx;
    h2_session_t *s = st->s;
    long got = 0;
    pthread_mutex_lock(&s->lock);
    /* The first read of a body the client holds back: a 100 (RFC 9110 10.1.1; RFC 9113 8.1,
     * an interim HEADERS), unless bytes came already. */
    if (r->expects_continue && r->body_bytes_in == 0 && st->in_len == 0 && !st->in_eof &&
        !st->continue_wanted) {
        st->continue_wanted = true;
        h2_stream_wake(st);
    }
    for (;;) {
        if (st->in_len > 0) {
            got = (long)PT_MIN(n, st->in_len);
            memcpy(buf, st->in, (size_t)got);
            memmove(st->in, st->in + got, st->in_len - (size_t)got);
            st->in_len -= (size_t)got;
            st->consumed += (size_t)got;
            h2_stream_wake(st);
            break;
        }
        if (st->in_eof || st->closed) {
            got = st->in_eof ? 0 : PT_ECLOSED;
            break;
        }
        int64_t left = pt_req_body_wait_ms(r);
        if (left <= 0 || (!wait_locked(st, left) && st->in_len == 0 && !st->in_eof)) {
            if (pt_req_body_wait_ms(r) > 0)
                continue;
            pthread_mutex_unlock(&s->lock);
            return pt_req_body_timed_out(r, status);
        }
    }
    if (got == 0)
        take_trailers(r, st);
    pthread_mutex_unlock(&s->lock);
    if (got > 0)
        r->body_bytes_in += got;
    if (got == 0)
        r->body_eof = true;
    if (got < 0 && status) {
        *status = 400;
        r->conn->aborted = true;
    }
    return got;
}

const pt_proto_ops_t pt_h2_proto = {
    .name = "HTTP/2.0",
    .keep_alive = h2_keep_alive,
    .send_head = h2_send_head,
    .send_body = h2_send_body,
    .send_file = h2_send_file,
    .finish = h2_finish,
    .read_body = h2_read_body,
};
