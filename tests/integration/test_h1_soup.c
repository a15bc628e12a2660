/* A seeded request soup for HTTP/1.1 over plain TCP: many short connections, each a
 * reproducible pseudo-random run of requests, valid (GET, HEAD, POST and OPTIONS of a static
 * file, a missing one, a directory, a FastCGI echo and a proxied backend; bodies by
 * Content-Length or chunked with extensions and trailers; Expect: 100-continue; ranges and
 * conditions; absolute-form, percent-encoded and dot-segment targets; Connection: close;
 * Upgrade: h2c) and broken (request lines, field names and values, obs-fold, framing a reader
 * could take two ways, bad chunks, bare LF, NUL and control bytes, the Limit* bounds set low,
 * a request cut off), pipelined or one at a time, sent in pieces split at random bytes and
 * sometimes half-closed. Every answer must parse, its framing matching its bytes; each valid
 * request gets one final answer, in order, with the status and body it must have (an
 * Upgrade: h2c a 101, then the server's SETTINGS); a broken one a 4xx (or the 501 or 505 it
 * earns) then the close, or the close alone; nothing hangs. Every SOUP_CHECK_EVERY
 * connections a fresh client must still get a file, a FastCGI echo and a proxied body
 * exactly, and the server must log no crash or sanitizer report. Seed n is connection n: to
 * replay, PORTICO_SOUP_FIRST=n PORTICO_SOUP_COUNT=1, with PORTICO_SOUP_TRACE=1 to print what
 * was sent and received. */
#include "h2_client.h"
#include "harness.h"
#include "http_backend.h"
#include "soup.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The sanitizer builds (CI) run the server slower: fewer connections there. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SOUP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SOUP_SANITIZED 1
#endif
#endif
#ifdef SOUP_SANITIZED
#define SOUP_CONNECTIONS 1500
#else
#define SOUP_CONNECTIONS 3000
#endif
#define SOUP_CHECK_EVERY 25
#define SOUP_MAX_REQUESTS 8
#define SOUP_ANSWER_MS 5000   /* a request due an answer gets it within this */
#define SOUP_CLOSE_MS 5000    /* a connection the server must end is ended within this */
#define SOUP_IDLE_MS 30       /* a cut request, not half-closed: how long to look for answers */
#define SOUP_EXPECT_MS 1000   /* one at a time: the wait for a 100 before the body goes anyway */
#define SOUP_FILE_LEN 3000    /* /a.txt */
#define SOUP_BODY_MAX 3000    /* request bodies */
#define SOUP_LINE_LIMIT 512   /* LimitRequestLine */
#define SOUP_FIELD_LIMIT 256  /* LimitRequestFieldSize */
#define SOUP_FIELDS_LIMIT 20  /* LimitRequestFields */
#define SOUP_BODY_LIMIT 65536 /* LimitRequestBody */

static pth_t *h;
static pth_h2_fcgi_t fcgi;
static pth_http_backend_t hb;
static uint8_t file[SOUP_FILE_LEN];
static const char index_html[] = "<p>soup index</p>\n";

/* What the soup sent and met, for the figures the test prints. */
static struct {
    uint64_t requests, valid, broken, cut, pipelined, pieces, half_closed, answers, interim,
        upgraded, errors, closed, resets, no_continue;
} stats;

/* ---- Requests and what each must get -------------------------------------------------- */

typedef enum {
    REQ_VALID,  /* must get want (or want2), body checked */
    REQ_BROKEN, /* an error status of allow[] then the close, or the close; with want, may
                 * instead be served as valid (a leniency RFC 9112 permits) */
    REQ_CUT,    /* cut off: no answer, or an error of allow[], or want when cut in its body */
    REQ_AFTER,  /* sent after an ending request: answered only if that one was served */
} req_kind_t;

typedef enum { CHECK_NONE, CHECK_FILE, CHECK_ECHO, CHECK_EXACT, CHECK_MULTI, CHECK_UNSAT } check_t;

typedef struct {
    req_kind_t kind;
    int want, want2;
    int allow[4]; /* error statuses a broken or cut request may get */
    bool head;    /* HEAD: no body in its answer */
    bool expect;  /* Expect: 100-continue sent */
    bool close;   /* Connection: close: the last answered */
    bool upgrade; /* a 101 to h2c is its answer */
    bool h2c;     /* it asked for h2c: the connection's last request */
    bool http10;  /* HTTP/1.0: the last answered, and never chunked (RFC 9112 6.1) */
    check_t check;
    size_t off, len;         /* FILE: the part of a.txt; ECHO: the body's length; EXACT: length */
    uint64_t sum;            /* ECHO */
    uint8_t *exact;          /* EXACT: the body it must get (malloc'd) */
    size_t start, body, end; /* its bytes in the connection's stream */
    char what[80];
} req_t;

typedef struct {
    soup_rng_t r;
    uint64_t seed;
    bool trace;
    char *out; /* every byte the connection sends */
    size_t len, cap;
    req_t req[SOUP_MAX_REQUESTS + 1];
    int n;
} soup_t;

static void put(soup_t *s, const void *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->out = realloc(s->out, s->cap);
        pth_assert(s->out != NULL);
    }
    memcpy(s->out + s->len, p, n);
    s->len += n;
}

static void __attribute__((format(printf, 2, 3))) putf(soup_t *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    pth_assert(n >= 0 && (size_t)n < sizeof(buf));
    put(s, buf, (size_t)n);
}

static void set_allow(req_t *q, int a, int b, int c, int d)
{
    q->allow[0] = a, q->allow[1] = b, q->allow[2] = c, q->allow[3] = d;
}

/* A body of len bytes, as Content-Length or chunked (sizes at random, hex in either case,
 * sometimes extensions, sometimes trailers within the limits). */
static void put_body(soup_t *s, const uint8_t *b, size_t len, bool chunked)
{
    if (!chunked) {
        put(s, b, len);
        return;
    }
    static const char *const ext[] = {"", ";a=b", ";q=\"x y\"", ";flag", ";n=1;m=\"2\""};
    for (size_t done = 0; done < len;) {
        size_t k = 1 + soup_rnd(&s->r, (uint32_t)(len - done));
        putf(s, soup_chance(&s->r, 50) ? "%zx%s\r\n" : "%zX%s\r\n", k,
             soup_chance(&s->r, 20) ? ext[soup_rnd(&s->r, 5)] : "");
        put(s, b + done, k);
        put(s, "\r\n", 2);
        done += k;
    }
    putf(s, "0%s\r\n", soup_chance(&s->r, 10) ? ";last=1" : "");
    for (uint32_t t = soup_chance(&s->r, 20) ? 1 + soup_rnd(&s->r, 3) : 0; t > 0; t--)
        putf(s, "X-Trailer-%u: t%u\r\n", t, soup_rnd(&s->r, 1000));
    put(s, "\r\n", 2);
}

/* A few harmless fields, within LimitRequestFields and LimitRequestFieldSize. */
static void put_extras(soup_t *s)
{
    static const char *const f[] = {
        "User-Agent: soup/1",      "Accept: */*",    "Accept-Encoding: identity",
        "Cache-Control: no-cache", "X-Soup: a b\tc", "Cookie: a=1; b=2"};
    for (uint32_t i = soup_rnd(&s->r, 4); i > 0; i--)
        putf(s, "%s\r\n", f[soup_rnd(&s->r, 6)]);
}

/* The range and conditions of a GET or HEAD of /a.txt, and the answer they make. */
static void file_conditions(soup_t *s, req_t *q, bool get)
{
    static const char *const old = "Sat, 01 Jan 1994 00:00:00 GMT";
    q->want = 200, q->check = CHECK_FILE, q->off = 0, q->len = SOUP_FILE_LEN;
    uint32_t k = soup_rnd(&s->r, 100);
    if (k < 8) {
        putf(s, "If-None-Match: *\r\n"), q->want = 304, q->check = CHECK_NONE;
        return;
    } else if (k < 12) {
        putf(s, "If-Match: \"soup\"\r\n"), q->want = 412, q->check = CHECK_NONE;
        return;
    } else if (k < 16) {
        putf(s, "If-Unmodified-Since: %s\r\n", old), q->want = 412, q->check = CHECK_NONE;
        return;
    } else if (k < 20) {
        putf(s, "If-Modified-Since: %s\r\n", old);
    } else if (k < 24) {
        putf(s, "If-None-Match: \"soup\", \"other\"\r\n");
    }
    if (!get || !soup_chance(&s->r, 35))
        return;
    uint32_t a = soup_rnd(&s->r, SOUP_FILE_LEN), b = a + soup_rnd(&s->r, SOUP_FILE_LEN - a);
    switch (soup_rnd(&s->r, 7)) {
    case 0:
        putf(s, "Range: bytes=%u-%u\r\n", a, b), q->want = 206, q->off = a, q->len = b - a + 1;
        break;
    case 1:
        putf(s, "Range: bytes=%u-\r\n", a), q->want = 206, q->off = a;
        q->len = SOUP_FILE_LEN - a;
        break;
    case 2:
        b = 1 + soup_rnd(&s->r, SOUP_FILE_LEN);
        putf(s, "Range: bytes=-%u\r\n", b), q->want = 206, q->off = SOUP_FILE_LEN - b;
        q->len = b;
        break;
    case 3:
        putf(s, "Range: bytes=0-9,%u-%u\r\n", 1000 + a % 1000, 2000 + a % 1000);
        q->want = 206, q->check = CHECK_MULTI;
        break;
    case 4:
        putf(s, "Range: bytes=%u-%u\r\n", SOUP_FILE_LEN + a, SOUP_FILE_LEN + a + b);
        q->want = 416, q->check = CHECK_UNSAT;
        break;
    default: {
        static const char *const junk[] = {"bytes=abc", "chars=0-5", "bytes 0-5", "bytes=--1"};
        putf(s, "Range: %s\r\n", junk[soup_rnd(&s->r, 4)]); /* ignored: RFC 9110 14.2 */
    }
    }
}

static void fill_body(soup_t *s, uint8_t *b, size_t len)
{
    uint64_t x = soup_next64(&s->r);
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)((x >> (i % 7 * 8)) + i * 13);
}

/* A valid request: its bytes into the stream and its answer into q. */
static void gen_valid(soup_t *s, req_t *q, bool may_end)
{
    static const char *const file_paths[] = {"/a.txt",   "/%61.txt",   "/d/../a.txt",
                                             "/./a.txt", "/a.txt?x=1", "/d/./../a%2Etxt"};
    static uint8_t body[SOUP_BODY_MAX];
    uint32_t k = soup_rnd(&s->r, 100), m = soup_rnd(&s->r, 100);
    const char *method = m < 60 ? "GET" : m < 85 ? "HEAD" : m < 93 ? "POST" : "OPTIONS";
    size_t blen = 0;
    bool with_body = false, chunked = soup_chance(&s->r, 40);
    /* Sometimes the last request: Connection: close, Upgrade: h2c, or HTTP/1.0. */
    uint32_t end = may_end ? soup_rnd(&s->r, 100) : 100;
    q->http10 = end >= 14 && end < 18;
    chunked &= !q->http10;
    char target[128];
    q->kind = REQ_VALID, q->head = !strcmp(method, "HEAD");
    if (k < 30) {
        const char *p = file_paths[soup_rnd(&s->r, 6)];
        if (soup_chance(&s->r, 10))
            snprintf(target, sizeof(target), "http://localhost%s", p); /* absolute-form */
        else
            snprintf(target, sizeof(target), "%s", p);
        if (!strcmp(method, "POST"))
            method = "GET", q->head = false, with_body = true;
        q->want = 200;
    } else if (k < 38) {
        snprintf(target, sizeof(target), "/nope%u.txt", soup_rnd(&s->r, 3));
        method = q->head ? "HEAD" : "GET", q->want = 404;
    } else if (k < 45) {
        bool slash = soup_chance(&s->r, 70);
        snprintf(target, sizeof(target), "%s", slash ? "/d/" : "/d");
        method = q->head ? "HEAD" : "GET", q->want = slash ? 200 : 301;
        q->check = slash && !q->head ? CHECK_EXACT : CHECK_NONE;
        if (q->check == CHECK_EXACT) {
            q->len = strlen(index_html), q->exact = malloc(q->len);
            memcpy(q->exact, index_html, q->len);
        }
    } else if (k < 70) {
        snprintf(target, sizeof(target), "/f/echo%s", soup_chance(&s->r, 20) ? "?a=1&b=%20" : "");
        with_body = !strcmp(method, "POST");
        q->want = 200, q->check = q->head ? CHECK_NONE : CHECK_ECHO;
    } else if (k < 92) {
        q->want = 200;
        if (!strcmp(method, "POST")) {
            snprintf(target, sizeof(target), "/b/body"), with_body = true;
            q->check = CHECK_EXACT;
        } else {
            method = q->head ? "HEAD" : "GET";
            size_t n = soup_rnd(&s->r, 20000);
            snprintf(target, sizeof(target), "/b/bytes?n=%zu%s", n,
                     soup_chance(&s->r, 30) ? "&chunked=1" : "");
            q->check = q->head ? CHECK_NONE : CHECK_EXACT;
            if (!q->head) {
                q->len = n, q->exact = malloc(n + 1);
                pth_http_pattern_fill(q->exact, n, 0);
            }
        }
    } else {
        snprintf(target, sizeof(target), "*"), method = "OPTIONS", q->want = 200;
        q->head = false;
    }
    if (with_body) {
        blen = soup_chance(&s->r, 10) ? 0 : 1 + soup_rnd(&s->r, SOUP_BODY_MAX);
        fill_body(s, body, blen);
    }
    q->start = s->len;
    putf(s, "%s %s HTTP/1.%d\r\nHost: localhost\r\n", method, target, q->http10 ? 0 : 1);
    put_extras(s);
    if (k < 30 && strcmp(method, "OPTIONS"))
        file_conditions(s, q, !strcmp(method, "GET"));
    if (with_body) {
        if (chunked)
            putf(s, "Transfer-Encoding: chunked\r\n");
        else
            putf(s, "Content-Length: %zu\r\n", blen);
        /* RFC 9110 10.1.1: ignored in an HTTP/1.0 request (no 100 may come). */
        bool expect = soup_chance(&s->r, 25);
        q->expect = expect && !q->http10;
        if (expect)
            putf(s, "Expect: 100-continue\r\n");
    }
    if (q->check == CHECK_ECHO)
        q->len = blen, q->sum = pth_h2_sum(body, blen);
    if (q->check == CHECK_EXACT && !q->exact) {
        q->len = blen, q->exact = malloc(blen + 1);
        memcpy(q->exact, body, blen);
    }
    if (q->http10) {
        q->close = true; /* no keep-alive asked for */
    } else if (end < 8) {
        putf(s, "Connection: close\r\n"), q->close = true;
    } else if (end < 14 && !with_body && strcmp(target, "*")) {
        /* RFC 9113 3.2: HTTP2-Settings present, base64url, a multiple of 6 bytes. */
        /* Without it, or with one that is not base64url of whole settings, no 101; the
         * latter may instead be refused (400), and then the connection end. */
        static const char *const set[] = {"HTTP2-Settings: AAMAAABkAAQAAP__\r\n", "",
                                          "HTTP2-Settings: !!AAMA*\r\n",
                                          "HTTP2-Settings: AAMAAABkAA\r\n"};
        uint32_t k2 = soup_chance(&s->r, 60) ? 0 : 1 + soup_rnd(&s->r, 3);
        q->upgrade = k2 == 0, q->h2c = true, q->want2 = k2 >= 2 ? 400 : 0;
        putf(s, "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n%s", set[k2]);
    }
    snprintf(q->what, sizeof(q->what), "%s %.60s%s", method, target, q->http10 ? " (1.0)" : "");
    put(s, "\r\n", 2);
    q->body = s->len;
    if (with_body)
        put_body(s, body, blen, chunked);
    q->end = s->len;
}

/* A broken request: its bytes into the stream and what it may get into q. */
static void gen_broken(soup_t *s, req_t *q)
{
    static const char *const heads[] = {
        "GET /a.txt HTTP/1.1 x\r\nHost: localhost\r\n\r\n",
        "GET  /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /a.txt HTTP/3.0\r\nHost: localhost\r\n\r\n",
        "GET /a.txt\r\n\r\n",
        "GET /a\001.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GE(T /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost : localhost\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nNoColonHere\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX@Y: 1\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-C: a\001b\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-C: a\177b\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Fold: a\r\n b\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-CR: a\rb\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nHost: other\r\n\r\n",
        "POST /f/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n"
        "\r\nhello!",
        "POST /f/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n",
        "POST /f/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: +5\r\n\r\nhello",
        "POST /f/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0x10\r\n\r\n",
        "POST /b/body HTTP/1.1\r\nHost: localhost\r\nContent-Length: 99999999999999999999999\r\n"
        "\r\n",
        "POST /b/body HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: "
        "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "POST /f/echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST /f/echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
        "POST /f/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n",
        "POST /f/echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n",
        "POST /f/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 5\r\n"
        "\r\nhello",
        "POST /f/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5, 5\r\n\r\nhello",
    };
    static const int allow[][2] = {
        {400, 0},   {400, 0},   {505, 400}, {400, 505}, {400, 0}, {400, 501}, {400, 0},
        {400, 0},   {400, 0},   {400, 0},   {400, 0},   {400, 0}, {400, 0},   {400, 0},
        {400, 0},   {400, 0},   {400, 0},   {400, 0},   {400, 0}, {400, 413}, {400, 0},
        {501, 400}, {400, 501}, {413, 0},   {400, 501}, {400, 0}, {400, 0},
    };
    const size_t nheads = sizeof(heads) / sizeof(heads[0]);
    uint32_t k = soup_rnd(&s->r, (uint32_t)nheads + 6);
    q->kind = REQ_BROKEN, q->start = s->len;
    if (k < nheads) {
        size_t len = strlen(heads[k]);
        put(s, heads[k], len);
        if (k == 9 && soup_chance(&s->r, 50))
            s->out[s->len - len + strlen("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-C: a")] =
                '\0'; /* NUL */
        set_allow(q, allow[k][0], allow[k][1], 0, 0);
        snprintf(q->what, sizeof(q->what), "broken #%u", k);
        if (k == 11) /* RFC 9112 5.2: a server may replace the obs-fold with a space */
            q->want = 200, q->check = CHECK_FILE, q->len = SOUP_FILE_LEN;
        if (k >= 25) { /* RFC 9112 6.3: a list of one length repeated may be taken as it */
            q->want = 200, q->check = CHECK_ECHO, q->len = 5;
            q->sum = pth_h2_sum((const uint8_t *)"hello", 5);
        }
    } else if (k == nheads) { /* bare LF: RFC 9112 2.2 lets a server take it as a line end */
        putf(s, "GET /a.txt HTTP/1.1\nHost: localhost\n\n");
        set_allow(q, 400, 0, 0, 0), q->want = 200, q->check = CHECK_FILE;
        q->len = SOUP_FILE_LEN, snprintf(q->what, sizeof(q->what), "bare LF");
    } else if (k == nheads + 1) {
        putf(s, "GET /%0*u HTTP/1.1\r\nHost: localhost\r\n\r\n", SOUP_LINE_LIMIT, 1);
        set_allow(q, 414, 0, 0, 0), snprintf(q->what, sizeof(q->what), "long request line");
    } else if (k == nheads + 2) {
        putf(s, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Long: %0*u\r\n\r\n", SOUP_FIELD_LIMIT,
             7);
        set_allow(q, 431, 400, 0, 0), snprintf(q->what, sizeof(q->what), "long field");
    } else if (k == nheads + 3) {
        putf(s, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n");
        for (int i = 0; i < SOUP_FIELDS_LIMIT + 1; i++)
            putf(s, "X-F%d: %d\r\n", i, i);
        put(s, "\r\n", 2);
        set_allow(q, 431, 400, 0, 0), snprintf(q->what, sizeof(q->what), "too many fields");
    } else if (k == nheads + 4) {
        /* The last two are lenient: RFC 9112 2.2 lets a server take a bare LF as a line
         * end, and 5.2 replace an obs-fold (here in a trailer) with a space. */
        static const char *const bad[] = {"zz\r\nhello\r\n0\r\n\r\n",
                                          "fffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
                                          "-5\r\nhello\r\n0\r\n\r\n",
                                          "5\r\nhelloXX0\r\n\r\n",
                                          "0x5\r\nhello\r\n0\r\n\r\n",
                                          "5\nhello\r\n0\r\n\r\n",
                                          "5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n"};
        static const char *const to[] = {"/f/echo", "/b/body", "/a.txt"};
        uint32_t t = soup_rnd(&s->r, 3), b = soup_rnd(&s->r, 7);
        putf(s, "%s %s HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n%s",
             t == 2 ? "GET" : "POST", to[t], bad[b]);
        set_allow(q, 400, 413, 0, 0), snprintf(q->what, sizeof(q->what), "bad chunk #%u", b);
        if (t == 2) { /* a static file may be answered before its body is read */
            q->want = 200, q->check = CHECK_FILE, q->len = SOUP_FILE_LEN;
        } else if (b >= 5 && t == 0) {
            q->want = 200, q->check = CHECK_ECHO, q->len = 5;
            q->sum = pth_h2_sum((const uint8_t *)"hello", 5);
        } else if (b >= 5) {
            q->want = 200, q->check = CHECK_EXACT, q->len = 5, q->exact = malloc(5);
            memcpy(q->exact, "hello", 5);
        }
    } else {
        putf(s, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nExpect: soup\r\n\r\n");
        /* RFC 9110 10.1.1: a server MAY answer an unknown expectation with 417 */
        set_allow(q, 417, 0, 0, 0), q->want = 200, q->check = CHECK_FILE;
        q->len = SOUP_FILE_LEN, snprintf(q->what, sizeof(q->what), "Expect: soup");
    }
    q->body = q->end = s->len;
}

/* A valid request cut off in its head or its body: no answer due. */
static void gen_cut(soup_t *s, req_t *q)
{
    gen_valid(s, q, false);
    size_t len = q->end - q->start;
    if (len < 2 || q->upgrade) {
        q->kind = REQ_VALID;
        return;
    }
    size_t cut = q->start + 1 + soup_rnd(&s->r, (uint32_t)len - 1);
    s->len = q->end = cut;
    q->kind = REQ_CUT;
    set_allow(q, 400, 408, 0, 0);
    if (cut < q->body) /* in the head: nothing to answer yet */
        q->want = 0, q->body = cut;
    char what[sizeof(q->what)];
    snprintf(what, sizeof(what), "%.60s, cut at %zu", q->what, cut - q->start);
    memcpy(q->what, what, sizeof(what));
}

/* ---- One soup connection ------------------------------------------------------------ */

typedef struct {
    soup_t *s;
    pth_conn_t *c;
    int next;      /* the request the next final answer is for */
    bool interim;  /* a 100 came for it */
    bool ended;    /* an error answer came: nothing may follow but the close */
    bool served;   /* the broken or cut request was served as valid: AFTER is too */
    bool closing;  /* the server said it closes (or was asked to) */
    bool upgraded; /* a 101 came: HTTP/2 from there */
    bool dead;     /* a send failed: the server closed */
    bool shut;     /* this side half-closed */
} conv_t;

static void trace_bytes(const char *label, const char *p, size_t n)
{
    fprintf(stderr, "  %s %zu bytes: \"", label, n);
    for (size_t i = 0; i < n && i < 2000; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\n')
            fputs("\\n\"\n    \"", stderr);
        else if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
            fputc(ch, stderr);
        else
            fprintf(stderr, "\\x%02x", ch);
    }
    fputs(n > 2000 ? "\"...\n" : "\"\n", stderr);
}

static unsigned long long sd(const conv_t *v)
{
    return (unsigned long long)v->s->seed;
}

/* Sends out[from, to), reading what arrives meanwhile so that answers to pipelined
 * requests never stall the server's reading. False when the server closed. */
static bool send_all(conv_t *v, size_t from, size_t to)
{
    int64_t end = pth_now_ms() + SOUP_ANSWER_MS;
    while (from < to && !v->dead) {
        ssize_t w = send(v->c->fd, v->s->out + from, to - from, MSG_NOSIGNAL);
        if (w > 0) {
            from += (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            v->dead = true;
            break;
        }
        pth_assert_msg(pth_now_ms() < end, "seed %llu: the server takes no more bytes", sd(v));
        struct pollfd pf = {v->c->fd, POLLIN | POLLOUT, 0};
        poll(&pf, 1, 100);
        if (pf.revents & POLLIN)
            pth_conn_read_until(v->c, SIZE_MAX, 0);
    }
    return !v->dead;
}

/* Sends out[from, to) in pieces split at random bytes, now and then a few ms apart. */
static bool send_pieces(conv_t *v, size_t from, size_t to)
{
    soup_t *s = v->s;
    while (from < to) {
        size_t n = to - from;
        if (soup_chance(&s->r, 40))
            n = 1 + soup_rnd(&s->r, (uint32_t)n);
        stats.pieces++;
        if (s->trace)
            trace_bytes("send", s->out + from, n);
        if (!send_all(v, from, from + n))
            return false;
        from += n;
        if (from < to && soup_chance(&s->r, 3))
            pth_sleep_ms(1 + (int)soup_rnd(&s->r, 3));
    }
    return true;
}

static bool has_token(const pth_resp_t *r, const char *name, const char *token)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->headers[i].name, name) && strcasestr(r->headers[i].value, token))
            return true;
    return false;
}

/* The body a served request must have. */
static void check_body(conv_t *v, const req_t *q, const pth_resp_t *r)
{
    switch (q->head ? CHECK_NONE : q->check) {
    case CHECK_NONE:
        break;
    case CHECK_FILE:
        pth_assert_msg(r->body_len == q->len && !memcmp(r->body, file + q->off, q->len),
                       "seed %llu: %s: %d with %zu bytes, not a.txt[%zu, +%zu)", sd(v), q->what,
                       r->status, r->body_len, q->off, q->len);
        if (r->status == 206) {
            char want[64];
            snprintf(want, sizeof(want), "bytes %zu-%zu/%d", q->off, q->off + q->len - 1,
                     SOUP_FILE_LEN);
            const char *cr = pth_resp_header(r, "Content-Range");
            pth_assert_msg(cr && !strcmp(cr, want), "seed %llu: %s: Content-Range %s, not %s",
                           sd(v), q->what, cr ? cr : "(none)", want);
        }
        break;
    case CHECK_ECHO: {
        char want[64];
        snprintf(want, sizeof(want), "len=%zu sum=%llu", q->len, (unsigned long long)q->sum);
        pth_assert_msg(strstr(r->body, want), "seed %llu: %s: '%.100s', not '%s'", sd(v), q->what,
                       r->body, want);
        break;
    }
    case CHECK_EXACT:
        pth_assert_msg(r->body_len == q->len && !memcmp(r->body, q->exact, q->len),
                       "seed %llu: %s: %zu bytes, not the %zu expected", sd(v), q->what,
                       r->body_len, q->len);
        break;
    case CHECK_UNSAT: { /* RFC 9110 15.5.17 (README: "416 carries Content-Range") */
        char want[32];
        snprintf(want, sizeof(want), "bytes */%d", SOUP_FILE_LEN);
        const char *cr = pth_resp_header(r, "Content-Range");
        pth_assert_msg(cr && !strcmp(cr, want), "seed %llu: %s: 416 with Content-Range %s", sd(v),
                       q->what, cr ? cr : "(none)");
        break;
    }
    case CHECK_MULTI: {
        const char *ct = pth_resp_header(r, "Content-Type");
        pth_assert_msg(ct && !strncmp(ct, "multipart/byteranges", 20),
                       "seed %llu: %s: 206 of type %s", sd(v), q->what, ct ? ct : "(none)");
        break;
    }
    }
}

/* After a 101 this side sends the connection preface (RFC 9113 3.2), and the server's
 * first frame must be SETTINGS on stream 0 (3.4). */
static void check_h2_settings(conv_t *v)
{
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
    if (v->s->trace)
        fprintf(stderr, "  send the HTTP/2 preface\n");
    send(v->c->fd, preface, sizeof(preface) - 1, MSG_NOSIGNAL);
    pth_conn_read_until(v->c, 9, SOUP_ANSWER_MS);
    const uint8_t *f = (const uint8_t *)v->c->buf;
    pth_assert_msg(v->c->len >= 9 && f[3] == NGHTTP2_SETTINGS && f[4] == 0 &&
                       !(f[5] | f[6] | f[7] | f[8]),
                   "seed %llu: after the 101, %zu bytes and no SETTINGS", sd(v), v->c->len);
    v->upgraded = true, stats.upgraded++;
}

static bool is_allowed(const req_t *q, int status)
{
    for (int i = 0; i < 4; i++)
        if (q->allow[i] && q->allow[i] == status)
            return true;
    return false;
}

/* Judges one answer against the request it is for. */
static void judge(conv_t *v, const pth_resp_t *r)
{
    soup_t *s = v->s;
    if (s->trace)
        fprintf(stderr, "  recv %d (%zu bytes of body%s)\n", r->status, r->body_len,
                r->framed_by_close ? ", ended by the close" : "");
    pth_assert_msg(v->next < s->n && !v->ended && !v->closing,
                   "seed %llu: an answer %d to no request%s", sd(v), r->status,
                   v->ended     ? " (after an error answer)"
                   : v->closing ? " (after the connection's last)"
                                : "");
    const req_t *q = &s->req[v->next];
    pth_assert_msg(r->version == 11, "seed %llu: %s: version %d", sd(v), q->what, r->version);
    if (r->status / 100 == 1) {
        stats.interim++;
        if (r->status == 100 && q->expect && !v->interim) {
            v->interim = true;
            return;
        }
        pth_assert_msg(r->status == 101 && q->upgrade && q->kind == REQ_VALID,
                       "seed %llu: %s: an interim %d", sd(v), q->what, r->status);
        check_h2_settings(v);
        return;
    }
    stats.answers++;
    v->interim = false, v->next++;
    /* 501 and 505 name what the client sent (an unknown coding, a version): allowed where
     * the request earns them; any other 5xx is the server's own failure. */
    pth_assert_msg(r->status < 500 || (q->kind != REQ_VALID && is_allowed(q, r->status)),
                   "seed %llu: %s: %d from the server", sd(v), q->what, r->status);
    bool served = q->want && (r->status == q->want || r->status == q->want2);
    switch (q->kind) {
    case REQ_VALID:
        pth_assert_msg(served && !q->upgrade, "seed %llu: %s: %d, not %d", sd(v), q->what,
                       r->status, q->upgrade ? 101 : q->want);
        break;
    case REQ_BROKEN:
    case REQ_CUT:
        pth_assert_msg(served || is_allowed(q, r->status), "seed %llu: %s: %d", sd(v), q->what,
                       r->status);
        v->served = served, v->ended = !served, stats.errors += !served;
        break;
    case REQ_AFTER:
        pth_assert_msg(v->served && served, "seed %llu: %s after an ending request: %d", sd(v),
                       q->what, r->status);
        break;
    }
    if (served && r->status == q->want)
        check_body(v, q, r);
    pth_assert_msg(!q->http10 || !pth_resp_header(r, "Transfer-Encoding"),
                   "seed %llu: %s: Transfer-Encoding in an answer to HTTP/1.0", sd(v), q->what);
    if (has_token(r, "Connection", "close")) {
        /* RFC 9110 10.1.1: a server may answer before reading a body and then close. */
        pth_assert_msg(
            q->kind != REQ_VALID || q->close || q->expect || q->body < q->end || r->status >= 400,
            "seed %llu: %s: %d closes the connection for no reason", sd(v), q->what, r->status);
        v->closing = true;
    }
    v->closing |= q->close;
}

/* Whether an answer is still owed: a valid request's, a broken one's (or the close), or
 * the request after a broken one that was served as valid. */
static bool answer_owed(const conv_t *v)
{
    const soup_t *s = v->s;
    if (v->ended || v->closing || v->upgraded || v->next >= s->n)
        return false;
    const req_t *q = &s->req[v->next];
    return q->kind == REQ_VALID || q->kind == REQ_BROKEN || (q->kind == REQ_AFTER && v->served);
}

/* Reads and judges answers until the request due (index upto - 1) is answered, or, with
 * upto past the last, until the connection has settled: every answer owed in, and closed
 * when the server must close. A close owed and not made, or an answer owed and not given,
 * within the deadlines fails; so does a close that leaves an answer owed, unless it was a
 * reset after an ending request (its answers may be lost with the unread input). */
static void settle(conv_t *v, int upto)
{
    soup_t *s = v->s;
    bool all = upto > s->n;
    int64_t deadline = pth_now_ms() + (all ? SOUP_CLOSE_MS : SOUP_ANSWER_MS);
    for (;;) {
        if (v->upgraded || (!all && v->next >= upto))
            return;
        bool owed = answer_owed(v);
        bool close_owed = v->ended || v->closing || v->shut || v->dead ||
                          (v->next < s->n && s->req[v->next].kind == REQ_AFTER && !v->served);
        if (all && !owed && !close_owed) {
            /* Nothing more is due: a cut request is given a moment to be answered wrong. */
            bool cut = s->n && s->req[s->n - 1].kind == REQ_CUT;
            if (cut)
                deadline = pth_now_ms() + SOUP_IDLE_MS;
            else
                pth_conn_read_until(v->c, SIZE_MAX, 0);
            while (cut && pth_now_ms() < deadline) {
                pth_resp_t r;
                int rc = pth_conn_read_response(v->c, &r, false, SOUP_IDLE_MS);
                if (rc != 0)
                    break;
                judge(v, &r);
                pth_resp_free(&r);
            }
            pth_assert_msg(v->c->len == 0 || v->c->eof, "seed %llu: %zu bytes after the answers",
                           sd(v), v->c->len);
            return;
        }
        int left = (int)(deadline - pth_now_ms());
        pth_resp_t r;
        bool head = v->next < s->n && s->req[v->next].head;
        int rc = pth_conn_read_response(v->c, &r, head, left > 0 ? left : 0);
        if (rc == 0) {
            judge(v, &r);
            pth_resp_free(&r);
            continue;
        }
        if (s->trace)
            fprintf(stderr, "  end: %s, %zu bytes left\n",
                    rc == -ETIMEDOUT ? "timeout"
                    : rc == -EINVAL  ? "unparsable"
                    : v->c->reset    ? "reset"
                                     : "closed",
                    v->c->len);
        if (rc == -ETIMEDOUT && v->c->len)
            trace_bytes("left", v->c->buf, v->c->len);
        pth_assert_msg(rc != -EINVAL, "seed %llu: an answer that does not parse: %.80s", sd(v),
                       v->c->buf);
        pth_assert_msg(rc != -ETIMEDOUT, "seed %llu: no %s in %d ms (answered %d of %d%s)", sd(v),
                       owed ? "answer" : "close", all ? SOUP_CLOSE_MS : SOUP_ANSWER_MS, v->next,
                       s->n, v->shut ? ", this side half-closed" : "");
        stats.closed++, stats.resets += v->c->reset;
        bool ending = false; /* a request before which the server may close */
        for (int i = 0; i < s->n; i++)
            ending |= s->req[i].kind != REQ_VALID || s->req[i].close;
        if (v->c->reset && ending)
            return;
        owed &= v->next < s->n && s->req[v->next].kind != REQ_BROKEN; /* may just close */
        pth_assert_msg(!owed && v->c->len == 0,
                       "seed %llu: closed with %s (answered %d of %d, %zu bytes left)", sd(v),
                       owed ? "an answer owed" : "an answer cut", v->next, s->n, v->c->len);
        return;
    }
}

/* The connection's requests: valid ones, the last sometimes broken or cut, and after an
 * ending one sometimes a request that must go unanswered. */
static void plan(soup_t *s)
{
    int n = 1 + (int)soup_rnd(&s->r, SOUP_MAX_REQUESTS - 1);
    for (int i = 0; i < n; i++) {
        req_t *q = &s->req[s->n++];
        uint32_t k = i == n - 1 ? soup_rnd(&s->r, 100) : 100;
        if (k < 22)
            gen_broken(s, q), stats.broken++;
        else if (k < 32)
            gen_cut(s, q), stats.cut += q->kind == REQ_CUT;
        else
            gen_valid(s, q, true);
        stats.valid += q->kind == REQ_VALID;
        if (q->close || q->h2c || q->kind != REQ_VALID)
            break;
    }
    req_t *last = &s->req[s->n - 1];
    if ((last->close || last->kind == REQ_BROKEN) && soup_chance(&s->r, 30)) {
        req_t *q = &s->req[s->n++];
        q->kind = REQ_AFTER, q->want = 200, q->check = CHECK_FILE, q->len = SOUP_FILE_LEN;
        q->start = s->len;
        putf(s, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
        q->body = q->end = s->len;
        snprintf(q->what, sizeof(q->what), "GET /a.txt");
    }
    stats.requests += (uint64_t)s->n;
}

static void soup_connection(uint64_t seed)
{
    soup_t s = {.r = {seed * 0x2545f4914f6cdd1dull + 1}, .seed = seed};
    s.trace = getenv("PORTICO_SOUP_TRACE") != NULL;
    plan(&s);
    /* Not half-closed before an upgrade: the preface must follow the 101. */
    bool pipelined = soup_chance(&s.r, 50) && s.n > 1,
         shut = soup_chance(&s.r, 15) && !s.req[s.n - 1].upgrade;
    conv_t v = {.s = &s, .c = pth_conn_open(h)};
    stats.pipelined += pipelined;
    if (s.trace)
        fprintf(stderr, "seed %llu: %d requests, %s%s\n", (unsigned long long)seed, s.n,
                pipelined ? "pipelined" : "one at a time", shut ? ", then half-closed" : "");
    for (int i = 0; i < s.n && !v.dead; i++) {
        req_t *q = &s.req[i];
        if (s.trace)
            fprintf(stderr, " request %d: %s\n", i, q->what);
        if (pipelined) {
            send_pieces(&v, q->start, q->end);
            continue;
        }
        if (q->expect && q->body < q->end) {
            /* RFC 9110 10.1.1: a 100 or a final answer comes before the body is sent; a
             * client may send it anyway after a while. */
            if (!send_pieces(&v, q->start, q->body))
                break;
            int before = v.next;
            pth_resp_t r;
            int rc = pth_conn_read_response(v.c, &r, q->head, SOUP_EXPECT_MS);
            pth_assert_msg(rc != -EINVAL, "seed %llu: an answer that does not parse: %.80s",
                           (unsigned long long)seed, v.c->buf);
            if (rc == 0)
                judge(&v, &r), pth_resp_free(&r);
            stats.no_continue += rc == -ETIMEDOUT;
            if (rc == -EPIPE || rc == -ECONNRESET)
                break;
            if (v.upgraded || (v.next > before && (v.closing || v.ended)))
                break;
            send_pieces(&v, q->body, q->end);
        } else {
            send_pieces(&v, q->start, q->end);
        }
        if (q->kind == REQ_VALID && i < s.n - 1)
            settle(&v, i + 1);
        if (v.closing || v.ended || v.upgraded)
            break;
    }
    if (shut && !v.dead && !v.upgraded) {
        shutdown(v.c->fd, SHUT_WR);
        v.shut = true, stats.half_closed++;
    }
    settle(&v, s.n + 1);
    pth_conn_close(v.c);
    for (int i = 0; i < s.n; i++)
        free(s.req[i].exact);
    free(s.out);
}

/* ---- What must still hold ------------------------------------------------------------ */

/* One request on a fresh connection; the answer's status and body into r. */
static void fresh(const char *req, size_t len, pth_resp_t *r, uint64_t after, const char *what)
{
    pth_conn_t *c = pth_conn_open(h);
    pth_assert_msg(pth_conn_send(c, req, len) == 0, "after seed %llu: %s: send failed",
                   (unsigned long long)after, what);
    int rc = pth_conn_read_response(c, r, false, SOUP_ANSWER_MS);
    pth_assert_msg(rc == 0, "after seed %llu: %s: no answer (%d)", (unsigned long long)after, what,
                   rc);
    pth_conn_close(c);
}

/* A fresh client gets /a.txt exactly, the FastCGI echo's length and sum of a body and a
 * proxied body exactly; the server is still running and has logged no crash or sanitizer
 * report. */
static void check_alive(uint64_t after)
{
    unsigned long long a = (unsigned long long)after;
    pth_assert_msg(pth_running(h), "after seed %llu: the server is gone", a);
    soup_check_log_clean(h->err_path, after); /* first: a crash's own words are there */
    soup_check_log_clean(h->error_log, after);
    pth_resp_t r;
    static const char get[] = "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    fresh(get, sizeof(get) - 1, &r, after, "GET /a.txt");
    pth_assert_msg(r.status == 200 && r.body_len == SOUP_FILE_LEN &&
                       !memcmp(r.body, file, SOUP_FILE_LEN),
                   "after seed %llu: GET /a.txt got %d with %zu bytes", a, r.status, r.body_len);
    pth_resp_free(&r);

    static char post[128 + 1500];
    int n = snprintf(post, sizeof(post),
                     "POST /f/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1500\r\n\r\n");
    for (int i = 0; i < 1500; i++)
        post[n + i] = (char)(i * 31 + (int)after);
    char want[64];
    snprintf(want, sizeof(want), "len=1500 sum=%llu",
             (unsigned long long)pth_h2_sum((const uint8_t *)post + n, 1500));
    fresh(post, (size_t)n + 1500, &r, after, "POST /f/echo");
    pth_assert_msg(r.status == 200 && strstr(r.body, want),
                   "after seed %llu: POST /f/echo got %d '%.80s', not '%s'", a, r.status, r.body,
                   want);
    pth_resp_free(&r);

    static const char bytes[] = "GET /b/bytes?n=30000 HTTP/1.1\r\nHost: localhost\r\n\r\n";
    static uint8_t pattern[30000];
    pth_http_pattern_fill(pattern, sizeof(pattern), 0);
    fresh(bytes, sizeof(bytes) - 1, &r, after, "GET /b/bytes");
    pth_assert_msg(r.status == 200 && r.body_len == sizeof(pattern) &&
                       !memcmp(r.body, pattern, sizeof(pattern)),
                   "after seed %llu: GET /b/bytes?n=30000 got %d with %zu bytes", a, r.status,
                   r.body_len);
    pth_resp_free(&r);
}

static void soup_run(uint64_t first, uint64_t n)
{
    for (uint64_t seed = first; seed < first + n; seed++) {
        soup_connection(seed);
        if ((seed + 1 - first) % SOUP_CHECK_EVERY == 0)
            check_alive(seed);
    }
    check_alive(first + n - 1);
}

static void setup(void)
{
    h = pth_new();
    for (size_t i = 0; i < sizeof(file); i++)
        file[i] = (uint8_t)('a' + i % 23);
    pth_write_file(h, "a.txt", file, sizeof(file));
    pth_write_file(h, "d/index.html", index_html, strlen(index_html));
    ck_assert_int_eq(pth_h2_fcgi_start(&fcgi, pth_path(h, "fcgi.sock")), 0);
    pth_http_backend_start_must(&hb, NULL);
    pth_config(h,
               "Protocols h2c http/1.1\n"
               "LimitRequestLine %d\nLimitRequestFieldSize %d\nLimitRequestFields %d\n"
               "LimitRequestBody %d\nKeepAliveTimeout 20\n"
               "ProxyPass /f/ \"unix:@DIR@/fcgi.sock|fcgi://localhost/f/\" max=200\n"
               "ProxyPass /b/ http://127.0.0.1:%d/\n",
               SOUP_LINE_LIMIT, SOUP_FIELD_LIMIT, SOUP_FIELDS_LIMIT, SOUP_BODY_LIMIT, hb.port);
    pth_expect_error(h, "larger than the configured limit");
    pth_start(h);
}

static void teardown(void)
{
    pth_stop(h);
    pth_h2_fcgi_stop(&fcgi);
    pth_http_backend_stop(&hb);
    pth_free(h);
    h = NULL;
}

START_TEST(the_server_survives_the_soup_and_answers_every_request_right)
{
    int64_t t0 = pth_now_ms();
    const char *first = getenv("PORTICO_SOUP_FIRST"), *count = getenv("PORTICO_SOUP_COUNT");
    uint64_t n = count ? strtoull(count, NULL, 10) : SOUP_CONNECTIONS;
    soup_run(first ? strtoull(first, NULL, 10) : 0, n);
    fprintf(stderr,
            "h1_soup (%s): %llu connections (%llu pipelined, %llu half-closed), %llu requests "
            "(%llu valid, %llu broken, %llu cut) in %llu pieces in %lld ms; %llu answers, "
            "%llu of them errors to broken requests, %llu interim, %llu upgraded to h2c, "
            "%llu waits for a 100 that did not come; %llu closed by the server (%llu "
            "resets)\n",
            pth_mpm(), (unsigned long long)n, (unsigned long long)stats.pipelined,
            (unsigned long long)stats.half_closed, (unsigned long long)stats.requests,
            (unsigned long long)stats.valid, (unsigned long long)stats.broken,
            (unsigned long long)stats.cut, (unsigned long long)stats.pieces,
            (long long)(pth_now_ms() - t0), (unsigned long long)stats.answers,
            (unsigned long long)stats.errors, (unsigned long long)stats.interim,
            (unsigned long long)stats.upgraded, (unsigned long long)stats.no_continue,
            (unsigned long long)stats.closed, (unsigned long long)stats.resets);
}
END_TEST

static Suite *soup_suite(void)
{
    Suite *s = suite_create("h1_soup");
    TCase *tc = tcase_create("soup");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, the_server_survives_the_soup_and_answers_every_request_right);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(soup_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
