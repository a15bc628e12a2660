/* HTTP/1 output: the status line and the head's serialization with the framing fields
 * (Content-Length, Transfer-Encoding: chunked, Connection), the chunked framing of bodies,
 * and the write-completion tail (the rest of a file handed to the event listener). The
 * response writer (response.c) decides what is sent; this decides how it looks on an
 * HTTP/1 connection. The head is held until the first body bytes so that both leave in one
 * writev (a small file is read and sent with it; a large one follows with MSG_MORE). */
#include "conn.h"
#include "h1.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define PT_SMALL_BODY 16384 /* files up to this size are read and sent with the head */
#define PT_H1_IOV 16        /* pt_conn_writev's bound */

static int64_t write_timeout(const pt_request_t *r)
{
    return r->vhost->timeout_ms > 0 ? r->vhost->timeout_ms : 60000;
}

static pt_h1_req_t *h1_of(pt_request_t *r)
{
    return r->proto_ctx;
}

bool pt_h1_keep_alive(pt_request_t *r, int64_t len)
{
    /* HTTP/1.0 without a length: the close ends the body. */
    return !(len < 0 && r->proto_num < 1001 && pt_status_has_body(r->status) &&
             !r->header_only);
}

/* Field lengths kept on the stack for a head of up to this many fields (more: the arena). */
#define PT_H1_HEAD_FIELDS 32

/* The framing fields the protocol adds after the core's, written straight into the head:
 * through the table they cost an allocation for the number and the length and CR/LF scans
 * of values made here (about 180 instructions a response). */
typedef struct {
    char clen[20]; /* Content-Length's digits, right-aligned; nclen of them, 0: none */
    size_t nclen;
    const char *conn; /* Connection's value, or NULL */
    size_t nconn;
} framing_t;

static void framing_length(framing_t *f, uint64_t v)
{
    size_t i = sizeof(f->clen);
    do {
        f->clen[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    f->nclen = sizeof(f->clen) - i;
}

/* memcpy, with the sizes of field names and values (4 to 32 bytes) done inline as two
 * overlapping moves of a fixed size: a head is a dozen short copies, and a call to memcpy
 * cost more than the copy. */
static inline void move_fixed(char *p, const char *s, size_t n, size_t k)
{
    char a[16], b[16];
    memcpy(a, s, k);
    memcpy(b, s + n - k, k);
    memcpy(p, a, k);
    memcpy(p + n - k, b, k);
}

static inline char *put(char *p, const char *s, size_t n)
{
    if (n >= 16 && n <= 32)
        move_fixed(p, s, n, 16);
    else if (n >= 8 && n < 16)
        move_fixed(p, s, n, 8);
    else if (n >= 4 && n < 8)
        move_fixed(p, s, n, 4);
    else
        memcpy(p, s, n);
    return p + n;
}

#ifdef __SSE2__
/* Bit i set: byte i of v is a CR or an LF. */
static inline unsigned line_breaks(__m128i v)
{
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
                                                    _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
}
#endif

/* Whether s[0, n) holds a CR or an LF. Every load lies inside the n bytes (the last ones
 * overlap what came before), so no byte past the value is read: with SSE2, a 29-byte Date
 * is two vector checks, where strcspn's set search cost some 50 instructions a field. */
static inline bool has_line_break(const char *s, size_t n)
{
#ifdef __SSE2__
    if (n >= 16) {
        for (size_t i = 0; i + 16 < n; i += 16)
            if (line_breaks(_mm_loadu_si128((const __m128i *)(const void *)(s + i))))
                return true;
        return line_breaks(_mm_loadu_si128((const __m128i *)(const void *)(s + n - 16))) != 0;
    }
    if (n >= 8) {
        __m128i lo = _mm_loadl_epi64((const __m128i *)(const void *)s);
        __m128i hi = _mm_loadl_epi64((const __m128i *)(const void *)(s + n - 8));
        return line_breaks(_mm_unpacklo_epi64(lo, hi)) != 0;
    }
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        return line_breaks(_mm_set_epi32(0, 0, (int)hi, (int)lo)) != 0;
    }
#endif
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n')
            return true;
    return false;
}

/* A value's length in serialize's table when the value is left out. */
#define PT_H1_LEFT_OUT SIZE_MAX

/* "HTTP/1.1 200 OK\r\n" + fields + framing fields + CRLF, built with memcpy: this runs for
 * every response, and printf is a tenth of it. A field whose value holds CR or LF (from a
 * rule or a backend) is left out: it would split the response. */
static char *serialize(pt_arena_t *a, int status, const pt_table_t *h, const framing_t *f,
                       size_t *len)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\n";
    const char *reason = status == 200 ? "" : pt_http_reason(status);
    size_t rl = status == 200 ? 0 : strlen(reason);
    size_t stack[2 * PT_H1_HEAD_FIELDS];
    size_t *nl = h->n <= PT_H1_HEAD_FIELDS ? stack : pt_arena_alloc(a, 2 * h->n * sizeof(size_t));
    size_t n = sizeof(ok) - 1 + rl + 2;
    for (size_t i = 0; i < h->n; i++) {
        size_t vl = strlen(h->v[i].value);
        if (has_line_break(h->v[i].value, vl)) {
            nl[2 * i + 1] = PT_H1_LEFT_OUT;
            continue;
        }
        nl[2 * i] = strlen(h->v[i].name);
        nl[2 * i + 1] = vl;
        n += nl[2 * i] + vl + 4;
    }
    n += f->nclen ? 16 + f->nclen + 2 : 0;
    n += f->conn ? 12 + f->nconn + 2 : 0;
    char *start = pt_arena_alloc(a, n), *p = start;
    if (status == 200) {
        p = put(p, ok, sizeof(ok) - 1);
    } else {
        p = put(p, "HTTP/1.1 ", 9);
        *p++ = (char)('0' + status / 100 % 10);
        *p++ = (char)('0' + status / 10 % 10);
        *p++ = (char)('0' + status % 10);
        *p++ = ' ';
        p = put(p, reason, rl);
        *p++ = '\r';
        *p++ = '\n';
    }
    for (size_t i = 0; i < h->n; i++) {
        const char *v = h->v[i].value;
        size_t vl = nl[2 * i + 1];
        if (vl == PT_H1_LEFT_OUT)
            continue;
        p = put(p, h->v[i].name, nl[2 * i]);
        *p++ = ':';
        *p++ = ' ';
        p = put(p, v, vl);
        *p++ = '\r';
        *p++ = '\n';
    }
    if (f->nclen) {
        p = put(p, "Content-Length: ", 16);
        p = put(p, f->clen + sizeof(f->clen) - f->nclen, f->nclen);
        *p++ = '\r';
        *p++ = '\n';
    }
    if (f->conn) {
        p = put(p, "Connection: ", 12);
        p = put(p, f->conn, f->nconn);
        *p++ = '\r';
        *p++ = '\n';
    }
    *p++ = '\r';
    *p++ = '\n';
    *len = (size_t)(p - start);
    return start;
}

int pt_h1_send_head(pt_request_t *r, const pt_resp_head_t *h)
{
    pt_h1_req_t *h1 = h1_of(r);
    framing_t f = {.nclen = 0, .conn = NULL};
    h1->chunked_out = false;
    if (h->length >= 0) {
        if (pt_status_has_body(h->status))
            framing_length(&f, (uint64_t)h->length);
    } else if (r->proto_num >= 1001) {
        h1->chunked_out = true;
        pt_table_add(h->fields, "Transfer-Encoding", "chunked");
    }
    if (h->status == 101) /* the connection changes protocol, to the Upgrade field's */
        f.conn = "Upgrade";
    else if (!r->keepalive)
        f.conn = "close";
    else if (r->proto_num < 1001)
        f.conn = "Keep-Alive";
    f.nconn = f.conn ? strlen(f.conn) : 0;
    h1->out = serialize(r->arena, h->status, h->fields, &f, &h1->out_len);
    return 0;
}

/* Puts the held head (if any) in iov[0]: it leaves with what follows it. */
static int take_head(pt_request_t *r, struct iovec *iov)
{
    pt_h1_req_t *h1 = h1_of(r);
    if (!r->head_built || r->head_sent || !h1->out)
        return 0;
    iov[0] = (struct iovec){h1->out, h1->out_len};
    h1->out = NULL;
    r->head_sent = true;
    return 1;
}

/* Memory slices of body (up to its first file range) in one writev, after the held head,
 * framed as one chunk when the body is chunked. */
static int send_slices(pt_request_t *r, pt_chain_t *body)
{
    struct iovec iov[PT_H1_IOV];
    int c = take_head(r, iov);
    bool chunked = h1_of(r)->chunked_out;
    char sz[24];
    int at = c + (chunked ? 1 : 0);
    size_t bytes = 0;
    int k = body ? pt_chain_iov(body, iov + at, PT_H1_IOV - at - 1, &bytes) : 0;
    if (bytes == 0) {
        k = 0; /* empty slices: only the held head, if any, goes out */
        at = c;
    } else if (chunked) {
        iov[c] = (struct iovec){sz, (size_t)snprintf(sz, sizeof(sz), "%zx\r\n", bytes)};
        iov[at + k++] = (struct iovec){"\r\n", 2};
    }
    int n = at + k;
    if (n == 0)
        return 0;
    int rc = pt_conn_writev(r->conn, iov, n, write_timeout(r), false);
    if (rc == 0 && body)
        pt_chain_consume(body, bytes);
    return rc;
}

int pt_h1_send_body(pt_request_t *r, pt_chain_t *body)
{
    int rc = send_slices(r, body);
    while (rc == 0 && body && !pt_chain_empty(body)) {
        pt_buf_t *b = body->head;
        if (b->fd >= 0) {
            rc = pt_h1_send_file(r, b->fd, b->off, (off_t)b->len, false);
            if (rc == 0)
                pt_chain_consume(body, b->len);
        } else if (b->len == 0) {
            pt_chain_consume(body, 0);
        } else {
            rc = send_slices(r, body);
        }
    }
    return rc;
}

/* The last piece of a response is a file range: send what the socket takes now, and if a
 * slow reader leaves some over, give the rest to the MPM with a dup of the file, so the
 * worker is free at once (the event MPM's write completion). */
static int hand_off_tail(pt_request_t *r, int fd, off_t off, off_t len)
{
    pt_conn_t *c = r->conn;
    off_t end = off + len;
    while (off < end) {
        long n = pt_conn_sendfile_some(c, fd, &off, (size_t)(end - off));
        if (n == PT_EAGAIN)
            break;
        if (n < 0) {
            c->aborted = true; /* gone, or the file shrank: the length cannot be kept */
            return PT_ECLOSED;
        }
    }
    if (off == end)
        return 0;
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dfd < 0)
        return pt_conn_sendfile(c, fd, off, end - off, write_timeout(r));
    c->wc_fd = dfd;
    c->wc_off = off;
    c->wc_len = end - off;
    c->wc_timeout_ms = write_timeout(r);
    return 0;
}

/* Chunked framing around a file: size line (after the held head), the file, CRLF. */
static int send_file_chunk(pt_request_t *r, int fd, off_t off, off_t len)
{
    char sz[24];
    struct iovec iov[2];
    int c = take_head(r, iov);
    iov[c++] = (struct iovec){sz, (size_t)snprintf(sz, sizeof(sz), "%llx\r\n",
                                                   (unsigned long long)len)};
    int rc = pt_conn_writev(r->conn, iov, c, write_timeout(r), true);
    if (rc == 0)
        rc = pt_conn_sendfile(r->conn, fd, off, len, write_timeout(r));
    struct iovec crlf = {"\r\n", 2};
    if (rc == 0)
        rc = pt_conn_writev(r->conn, &crlf, 1, write_timeout(r), false);
    return rc;
}

int pt_h1_send_file(pt_request_t *r, int fd, off_t off, off_t len, bool last)
{
    pt_h1_req_t *h1 = h1_of(r);
    if (h1->chunked_out)
        return send_file_chunk(r, fd, off, len);
    struct iovec iov[2];
    bool held = r->head_built && !r->head_sent && h1->out;
    if (held && len <= PT_SMALL_BODY) {
        /* A small file goes out with the head in one writev: cheaper than a second
         * syscall through the splice machinery. */
        char *buf = pt_arena_alloc(r->arena, (size_t)len);
        if (pread(fd, buf, (size_t)len, off) == (ssize_t)len) {
            int c = take_head(r, iov);
            iov[c++] = (struct iovec){buf, (size_t)len};
            return pt_conn_writev(r->conn, iov, c, write_timeout(r), false);
        }
    }
    if (held) {
        /* MSG_MORE: the head waits for the file's first bytes, one packet for both. */
        int c = take_head(r, iov);
        int rc = pt_conn_writev(r->conn, iov, c, write_timeout(r), true);
        if (rc != 0)
            return rc;
    }
    if (r->conn->async_write && last)
        return hand_off_tail(r, fd, off, len);
    return pt_conn_sendfile(r->conn, fd, off, len, write_timeout(r));
}

int pt_h1_finish(pt_request_t *r)
{
    struct iovec iov[2];
    int c = take_head(r, iov);
    if (h1_of(r)->chunked_out && !r->body_done)
        iov[c++] = (struct iovec){"0\r\n\r\n", 5};
    return c ? pt_conn_writev(r->conn, iov, c, write_timeout(r), false) : 0;
}
