/* A seeded frame soup for the HTTP/2 session: many short h2c connections, each a
 * reproducible pseudo-random run of frames (valid and broken header blocks, DATA on any
 * stream, padding right and wrong, every control frame with good and bad lengths and
 * values, a lying length last), against the real binary; a polite connection then reads
 * its answers with flow control given back. Every SOUP_CHECK_EVERY connections
 * a fresh client must still get a static file and a FastCGI echo exactly right, and the
 * server must log no crash and no sanitizer report. One connection in three is corked
 * (its frames reach the server in one read). Seed n is connection n: to replay,
 * PORTICO_SOUP_FIRST=n PORTICO_SOUP_COUNT=1, with PORTICO_SOUP_TRACE=1 to print each frame
 * sent and received and how the connection ended. */
#include "h2_client.h"
#include "harness.h"
#include "soup.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

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
#define SOUP_MIN_FRAMES 5
#define SOUP_MAX_FRAMES 40
#define SOUP_IDLE_MS 300    /* a soup connection ends after this long with nothing read */
#define SOUP_CONN_MS 3000   /* ... and at the latest after this long of reading */
#define SOUP_SEND_MS 2000   /* a send the server does not take within this fails */
#define SOUP_FILE_LEN 20000 /* /a.txt: two DATA frames at the default max frame size */
#define SOUP_ECHO_LEN 1500
#define SOUP_FIELD_LIMIT 200 /* LimitRequestFieldSize */

static pth_t *h;
static pth_h2_fcgi_t be;

/* What the soup met, for the figures the test prints. */
static struct {
    uint64_t frames, sent_dead, goaway, eof, pong, answered, idle, truncated, headers, rst;
} stats;
static uint8_t file[SOUP_FILE_LEN];

/* ---- One soup connection ------------------------------------------------------------ */

typedef struct {
    pth_h2_t *c;
    soup_rng_t r;
    int32_t next_id;    /* the next new odd stream id */
    int32_t opened[64]; /* ids sent a HEADERS, for frames on known streams */
    bool ended[64];     /* ... and whether this side ended it (END_STREAM sent) */
    bool reset[64];     /* ... or reset it (no answer to wait for) */
    int nopened;
    uint64_t seed;
    uint32_t rude; /* the percentage of choices that break a rule, per connection */
    bool dead;     /* a send failed: the server closed */
} soup_t;

/* Whether this choice breaks a rule: a connection's rudeness is drawn once, from polite
 * (its streams get far) to hostile (it is mostly ended early by a connection error). */
static bool bad(soup_t *s)
{
    return soup_chance(&s->r, s->rude);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void send_frame(soup_t *s, uint8_t type, uint8_t flags, int32_t id, const void *p,
                       size_t len)
{
    if (getenv("PORTICO_SOUP_TRACE"))
        fprintf(stderr, "  type %u flags %#x stream %d len %zu\n", type, flags, id, len);
    if (!s->dead && pth_h2_frame(s->c, type, flags, id, p, len) != 0)
        s->dead = true;
}

/* A stream this connection opened (for DATA, one it has not ended), or when the choice
 * is rude one idle, even, 0 or far ahead. 0 when politeness finds none. */
static int32_t some_stream(soup_t *s, bool for_data)
{
    if (!bad(s)) {
        int32_t ids[64];
        uint32_t n = 0;
        for (int i = 0; i < s->nopened; i++)
            if (!for_data || !s->ended[i])
                ids[n++] = s->opened[i];
        return n ? ids[soup_rnd(&s->r, n)] : 0;
    }
    uint32_t k = soup_rnd(&s->r, 100);
    if (k < 50 && s->nopened)
        return s->opened[soup_rnd(&s->r, (uint32_t)s->nopened)];
    if (k < 75)
        return s->next_id; /* idle */
    if (k < 85)
        return 2 * (int32_t)soup_rnd(&s->r, 10) + 2; /* even */
    if (k < 92)
        return 0;
    return (int32_t)soup_rnd(&s->r, 0x7fffffff);
}

/* Mostly the next odd id; sometimes one reused, even, 0, or one that jumps ahead. */
static int32_t headers_stream(soup_t *s)
{
    uint32_t k = bad(s) ? soup_rnd(&s->r, 100) : 0;
    if (k < 50 || (k < 85 && !s->nopened)) {
        int32_t id = s->next_id;
        s->next_id += 2;
        return id;
    }
    if (k < 85)
        return s->opened[soup_rnd(&s->r, (uint32_t)s->nopened)];
    if (k < 90)
        return 2 * (int32_t)soup_rnd(&s->r, 10) + 2;
    if (k < 93)
        return 0;
    s->next_id += 2 * (int32_t)soup_rnd(&s->r, 50) + 2;
    return s->next_id - 2;
}

static const char *const extra_names[] = {
    "accept",     "user-agent",     "cookie",  "x-soup",          "te",
    "connection", "content-length", "X-Upper", "accept-encoding", "x-long"};

/* A request's fields (names, values; returns how many): a GET or HEAD of a static file, a
 * POST to the FastCGI echo with a content-length right, wrong or absent, random extra
 * fields, and sometimes a broken pseudo-header. */
static size_t request_fields(soup_t *s, const char **n, const char **v, char *vbuf, size_t vcap)
{
    static const char *const paths[] = {"/a.txt", "/nope", "/f/echo", "/f/ok", "/a.txt?q=1"};
    size_t k = 0, used = 0;
    uint32_t kind = soup_rnd(&s->r, 4);
    n[k] = ":method", v[k++] = kind == 0 ? "GET" : kind == 1 ? "HEAD" : "POST";
    n[k] = ":scheme", v[k++] = "http";
    n[k] = ":path", v[k++] = kind >= 2 ? "/f/echo" : paths[soup_rnd(&s->r, 5)];
    n[k] = ":authority", v[k++] = "localhost";
    if (kind >= 2 && soup_chance(&s->r, 60)) {
        char *cl = vbuf + used;
        used += (size_t)snprintf(cl, vcap - used, "%u", soup_rnd(&s->r, 3001)) + 1;
        n[k] = "content-length", v[k++] = cl;
    }
    for (uint32_t i = soup_rnd(&s->r, 5); i > 0; i--) {
        const char *name = extra_names[soup_rnd(&s->r, 10)];
        char *val = vbuf + used;
        size_t len =
            soup_rnd(&s->r, 100) < 85 ? soup_rnd(&s->r, 20) : soup_rnd(&s->r, 2 * SOUP_FIELD_LIMIT);
        if (used + len + 1 > vcap)
            break;
        for (size_t j = 0; j < len; j++)
            val[j] = (char)('a' + soup_rnd(&s->r, 26));
        val[len] = '\0';
        used += len + 1;
        n[k] = name, v[k++] = val;
    }
    if (bad(s)) {
        static const char *const bad_n[] = {":foo", ":path", ":status", ":method", "Host"};
        static const char *const bad_v[] = {"1", "/b", "200", "PUT", "x"};
        uint32_t b = soup_rnd(&s->r, 5);
        n[k] = bad_n[b], v[k++] = bad_v[b];
    }
    if (bad(s))
        n[0] = n[k - 1], v[0] = v[k - 1], n[k - 1] = ":method", v[k - 1] = "GET"; /* order */
    if (bad(s))
        n[2] = "x-path"; /* no :path */
    return k;
}

/* HEADERS, sometimes with PRIORITY, sometimes split over CONTINUATION; END_STREAM and
 * END_HEADERS at random. On a stream already opened, sometimes trailers. */
static void soup_headers(soup_t *s)
{
    const char *n[32], *v[32];
    char vbuf[2048];
    size_t k;
    int32_t id = headers_stream(s);
    int known = -1;
    for (int i = 0; i < s->nopened; i++)
        if (s->opened[i] == id)
            known = i;
    if (known >= 0 && soup_chance(&s->r, 50)) {
        n[0] = "x-trailer", v[0] = "1", k = 1;
    } else {
        k = request_fields(s, n, v, vbuf, sizeof(vbuf));
    }
    uint8_t blk[8192];
    size_t len = pth_h2_block(s->c, blk + 5, sizeof(blk) - 5, n, v, k);
    uint8_t flags = soup_chance(&s->r, 50) ? NGHTTP2_FLAG_END_STREAM : 0;
    uint8_t *p = blk + 5;
    if (soup_chance(&s->r, 10)) {
        put32(blk, (uint32_t)id + (bad(s) ? 0 : 1 + soup_rnd(&s->r, 20))); /* rude: itself */
        blk[4] = (uint8_t)soup_rnd(&s->r, 256);
        p = blk, len += 5, flags |= NGHTTP2_FLAG_PRIORITY;
    }
    bool end = !bad(s);
    if (known < 0 && s->nopened < 64)
        known = s->nopened++, s->opened[known] = id;
    if (known >= 0)
        s->ended[known] |= flags & NGHTTP2_FLAG_END_STREAM;
    if (len > 1 && soup_chance(&s->r, 20)) {
        size_t cut = 1 + soup_rnd(&s->r, (uint32_t)len - 1);
        send_frame(s, NGHTTP2_HEADERS, flags, id, p, cut);
        send_frame(s, NGHTTP2_CONTINUATION, end ? NGHTTP2_FLAG_END_HEADERS : 0,
                   bad(s) ? some_stream(s, false) : id, p + cut, len - cut);
        return;
    }
    send_frame(s, NGHTTP2_HEADERS, flags | (end ? NGHTTP2_FLAG_END_HEADERS : 0), id, p, len);
}

static void soup_ping(soup_t *s);

/* CONTINUATION with no HEADERS before it: always a connection error, so a PING instead
 * unless this choice is a rude one. */
static void soup_continuation(soup_t *s)
{
    if (!bad(s)) {
        soup_ping(s);
        return;
    }
    const char *n[] = {"x-a"}, *v[] = {"b"};
    uint8_t blk[64];
    size_t len = pth_h2_block(s->c, blk, sizeof(blk), n, v, 1);
    send_frame(s, NGHTTP2_CONTINUATION, soup_chance(&s->r, 50) ? NGHTTP2_FLAG_END_HEADERS : 0,
               some_stream(s, false), blk, len);
}

/* 0-3000 bytes on some stream, sometimes padded, the pad length fitting or not. */
static void soup_data(soup_t *s)
{
    int32_t id = some_stream(s, true);
    if (id == 0 && !bad(s)) {
        soup_headers(s); /* a stream to send on, politely */
        return;
    }
    static uint8_t buf[3001];
    size_t len = soup_rnd(&s->r, 3001);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    uint8_t flags = soup_chance(&s->r, 50) ? NGHTTP2_FLAG_END_STREAM : 0;
    for (int i = 0; i < s->nopened; i++)
        if (s->opened[i] == id)
            s->ended[i] |= flags & NGHTTP2_FLAG_END_STREAM;
    if (soup_chance(&s->r, 15)) {
        flags |= NGHTTP2_FLAG_PADDED;
        if (len == 0)
            len = 1;
        buf[0] = !bad(s) ? (uint8_t)soup_rnd(&s->r, (uint32_t)(len < 256 ? len : 256))
                         : (uint8_t)(len - 1 + soup_rnd(&s->r, 10));
    }
    send_frame(s, NGHTTP2_DATA, flags, id, buf, len);
}

static void soup_rst(soup_t *s)
{
    uint8_t p[4];
    int32_t id = some_stream(s, false);
    for (int i = 0; i < s->nopened; i++)
        s->reset[i] |= s->opened[i] == id;
    put32(p, soup_chance(&s->r, 80) ? soup_rnd(&s->r, 16) : (uint32_t)soup_next64(&s->r));
    send_frame(s, NGHTTP2_RST_STREAM, 0, id, p, bad(s) ? 3 : 4);
}

static void soup_window_update(soup_t *s)
{
    static const uint32_t incs[] = {0, 1, 1024, 65535, 0x7fffffff, 0x80000000u};
    uint8_t p[5] = {0};
    put32(p, bad(s) ? incs[soup_rnd(&s->r, 6)] : 1 + soup_rnd(&s->r, 65535));
    send_frame(s, NGHTTP2_WINDOW_UPDATE, 0, soup_chance(&s->r, 50) ? 0 : some_stream(s, false), p,
               bad(s) ? 5 : 4);
}

/* Known and unknown ids, values in and out of range; sometimes an ACK with a payload. */
static void soup_settings(soup_t *s)
{
    static const uint32_t vals[] = {0,          1,           2,          100,   4096,
                                    16383,      16384,       65535,      65536, 1u << 24,
                                    0x7fffffff, 0x80000000u, 0xffffffffu};
    uint8_t p[6 * 4 + 1];
    size_t n = soup_rnd(&s->r, 5), len = 6 * n;
    for (size_t i = 0; i < n; i++) {
        uint16_t id =
            (uint16_t)(soup_chance(&s->r, 85) ? 1 + soup_rnd(&s->r, 9) : soup_rnd(&s->r, 65536));
        uint32_t v = vals[soup_rnd(&s->r, 13)];
        if (!bad(s) && id == NGHTTP2_SETTINGS_MAX_FRAME_SIZE)
            v = 16384 + soup_rnd(&s->r, 1u << 23);
        else if (!bad(s) && id == NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE)
            v = soup_rnd(&s->r, 1u << 20);
        else if (!bad(s) && (id == NGHTTP2_SETTINGS_ENABLE_PUSH || id == 8))
            v = soup_rnd(&s->r, 2);
        else if (!bad(s) && id == 9) /* NO_RFC7540_PRIORITIES may not change */
            id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
        p[6 * i] = (uint8_t)(id >> 8), p[6 * i + 1] = (uint8_t)id;
        put32(p + 6 * i + 2, v);
    }
    if (bad(s))
        len++;
    uint8_t flags = bad(s) ? NGHTTP2_FLAG_ACK : 0;
    send_frame(s, NGHTTP2_SETTINGS, flags, bad(s) ? 1 : 0, p, len);
}

static void soup_ping(soup_t *s)
{
    uint8_t p[9] = {'s', 'o', 'u', 'p', 0, 0, 0, 0, 0};
    put32(p + 4, (uint32_t)soup_next64(&s->r));
    size_t len = bad(s) ? soup_rnd(&s->r, 10) : 8;
    send_frame(s, NGHTTP2_PING, soup_chance(&s->r, 20) ? NGHTTP2_FLAG_ACK : 0, bad(s) ? 1 : 0, p,
               len);
}

static void soup_priority(soup_t *s)
{
    int32_t id = some_stream(s, false);
    uint8_t p[6] = {0};
    put32(p, bad(s) ? (uint32_t)id : (uint32_t)some_stream(s, false));
    if (soup_chance(&s->r, 10))
        p[0] |= 0x80; /* exclusive */
    p[4] = (uint8_t)soup_rnd(&s->r, 256);
    send_frame(s, NGHTTP2_PRIORITY, 0, id, p, bad(s) ? soup_rnd(&s->r, 7) : 5);
}

static void soup_priority_update(soup_t *s)
{
    static const char *const fv[] = {"u=0", "u=7, i", "u=9", "i=?0", ",,", ""};
    uint8_t p[32];
    put32(p, (uint32_t)some_stream(s, false));
    const char *f = fv[soup_rnd(&s->r, 6)];
    size_t len = 4 + strlen(f);
    memcpy(p + 4, f, strlen(f));
    if (bad(s))
        len = soup_rnd(&s->r, 4);
    send_frame(s, NGHTTP2_PRIORITY_UPDATE, 0, bad(s) ? some_stream(s, false) : 0, p, len);
}

static void soup_goaway(soup_t *s)
{
    uint8_t p[16] = {0};
    put32(p, bad(s) ? (uint32_t)some_stream(s, false) : 0); /* the server's: none */
    put32(p + 4, soup_rnd(&s->r, 16));
    memcpy(p + 8, "soup-bye", 8);
    send_frame(s, NGHTTP2_GOAWAY, 0, bad(s) ? 1 : 0, p, 8 + soup_rnd(&s->r, 9));
}

static void soup_unknown(soup_t *s)
{
    uint8_t p[100];
    size_t len = soup_rnd(&s->r, sizeof(p));
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)soup_next64(&s->r);
    send_frame(s, (uint8_t)(0x20 + soup_rnd(&s->r, 0xe0)), (uint8_t)soup_rnd(&s->r, 256),
               some_stream(s, false), p, len);
}

/* A frame header whose length promises more than follows: the last thing sent. */
static void soup_truncated(soup_t *s)
{
    uint8_t f[9 + 64] = {0};
    uint32_t len = 64 + soup_rnd(&s->r, 16000);
    f[0] = (uint8_t)(len >> 16), f[1] = (uint8_t)(len >> 8), f[2] = (uint8_t)len;
    f[3] = (uint8_t)soup_rnd(&s->r, 11);
    put32(f + 5, (uint32_t)some_stream(s, false) & 0x7fffffff);
    size_t n = 9 + soup_rnd(&s->r, 64);
    if (!s->dead && send(s->c->fd, f, n, MSG_NOSIGNAL) != (ssize_t)n)
        s->dead = true;
}

typedef void (*soup_fn)(soup_t *s);

static const struct {
    soup_fn fn;
    uint32_t weight;
} menu[] = {
    {soup_headers, 30},        {soup_data, 20},    {soup_continuation, 3}, {soup_rst, 7},
    {soup_window_update, 7},   {soup_settings, 6}, {soup_ping, 6},         {soup_priority, 5},
    {soup_priority_update, 4}, {soup_goaway, 2},   {soup_unknown, 5},
};

static void soup_one(soup_t *s)
{
    uint32_t total = 0;
    for (size_t i = 0; i < sizeof(menu) / sizeof(menu[0]); i++)
        total += menu[i].weight;
    uint32_t k = soup_rnd(&s->r, total);
    for (size_t i = 0;; i++) {
        if (k < menu[i].weight) {
            menu[i].fn(s);
            return;
        }
        k -= menu[i].weight;
    }
}

/* Flow control for what a polite connection reads: the bytes of a DATA given back to the
 * connection and the stream, and a stream that has answered given a window even if this
 * side's SETTINGS made its initial one 0. */
static void give_window(soup_t *s, const pth_h2_frame_t *f)
{
    uint8_t p[4];
    if (f->type == NGHTTP2_DATA && f->length > 0) {
        put32(p, f->length);
        send_frame(s, NGHTTP2_WINDOW_UPDATE, 0, 0, p, 4);
        send_frame(s, NGHTTP2_WINDOW_UPDATE, 0, f->stream, p, 4);
    } else if (f->type == NGHTTP2_HEADERS && f->status) {
        put32(p, 65535);
        send_frame(s, NGHTTP2_WINDOW_UPDATE, 0, f->stream, p, 4);
    }
}

/* Whether every stream this side ended has been answered in full or reset; marks the one
 * f ends. */
static bool all_answered(soup_t *s, bool *answered, const pth_h2_frame_t *f)
{
    bool all = true;
    for (int i = 0; i < s->nopened; i++) {
        if (s->opened[i] == f->stream &&
            (f->type == NGHTTP2_RST_STREAM || (f->flags & NGHTTP2_FLAG_END_STREAM)))
            answered[i] = true;
        all &= answered[i] || !s->ended[i] || s->reset[i];
    }
    return all;
}

/* Reads and discards until the server closes, sends GOAWAY or answers the closing PING,
 * or SOUP_IDLE_MS pass with nothing. A polite connection first cancels the streams it
 * left open, and waits for the answers to the others too, giving window as it reads. */
static void drain(soup_t *s, bool ping)
{
    static const uint8_t end[8] = {'s', 'o', 'u', 'p', '-', 'e', 'n', 'd'};
    bool polite = ping && s->rude <= 1, pong = false, all = false, answered[64] = {false};
    uint8_t cancel[4] = {0, 0, 0, NGHTTP2_CANCEL};
    for (int i = 0; polite && i < s->nopened; i++)
        if (!s->ended[i])
            send_frame(s, NGHTTP2_RST_STREAM, 0, s->opened[i], cancel, 4);
    if (ping)
        send_frame(s, NGHTTP2_PING, 0, 0, end, 8);
    bool trace = getenv("PORTICO_SOUP_TRACE");
    int64_t deadline = pth_now_ms() + SOUP_CONN_MS;
    while (pth_now_ms() < deadline) {
        pth_h2_frame_t f;
        int rc = pth_h2_read(s->c, &f, SOUP_IDLE_MS);
        if (rc != 0) {
            rc == -ETIMEDOUT ? stats.idle++ : stats.eof++;
            if (trace)
                fprintf(stderr, "seed %llu rude %u: %s%s\n", (unsigned long long)s->seed, s->rude,
                        rc == -ETIMEDOUT ? "idle" : "closed",
                        pong   ? " after the PING's answer"
                        : ping ? ""
                               : " after a truncated frame");
            return;
        }
        if (trace)
            fprintf(stderr, "  recv type %u flags %#x stream %d len %u status %d\n", f.type,
                    f.flags, f.stream, f.length, f.status);
        stats.headers += f.type == NGHTTP2_HEADERS;
        stats.rst += f.type == NGHTTP2_RST_STREAM;
        stats.goaway += f.type == NGHTTP2_GOAWAY;
        if (f.type == NGHTTP2_GOAWAY && trace && f.length >= 8)
            fprintf(stderr, "seed %llu rude %u: GOAWAY %u %.*s\n", (unsigned long long)s->seed,
                    s->rude, (unsigned)f.payload[7], (int)f.length - 8, (char *)f.payload + 8);
        if (polite)
            give_window(s, &f);
        pong |= ping && f.type == NGHTTP2_PING && (f.flags & NGHTTP2_FLAG_ACK) && f.length == 8 &&
                memcmp(f.payload, end, 8) == 0;
        all = !polite || all_answered(s, answered, &f);
        bool goaway = f.type == NGHTTP2_GOAWAY;
        pth_h2_frame_free(&f);
        if (goaway)
            return;
        if (pong && all) {
            stats.pong++, stats.answered += polite;
            return;
        }
    }
}

static void soup_connection(uint64_t seed)
{
    soup_t s = {.r = {seed * 0x2545f4914f6cdd1dull + 1}, .next_id = 1, .seed = seed};
    static const uint32_t rudeness[] = {0, 1, 3, 10, 30};
    s.rude = rudeness[soup_rnd(&s.r, 5)];
    s.c = pth_h2_open(h->port, true);
    pth_assert_msg(s.c, "seed %llu: cannot connect", (unsigned long long)seed);
    struct timeval tv = {SOUP_SEND_MS / 1000, 0};
    setsockopt(s.c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    uint32_t frames = SOUP_MIN_FRAMES + soup_rnd(&s.r, SOUP_MAX_FRAMES - SOUP_MIN_FRAMES + 1);
    /* One connection in three sends its frames corked, to reach the server in one read:
     * what a frame does to the session then meets the frames after it in the same parse
     * (otherwise that hangs on how the reads happen to fall). */
    bool corked = seed % 3 == 1;
    pth_h2_cork(s.c, corked);
    soup_headers(&s), stats.frames++;
    for (uint32_t i = 1; i < frames && !s.dead; i++, stats.frames++)
        soup_one(&s);
    stats.sent_dead += s.dead;
    bool truncated = soup_chance(&s.r, 7);
    if (truncated)
        soup_truncated(&s), stats.truncated++;
    pth_h2_cork(s.c, false);
    if (!s.dead)
        drain(&s, !truncated);
    pth_h2_close(s.c);
}

/* ---- What must still hold ------------------------------------------------------------ */

/* A response on stream id: its :status and body (up to cap bytes kept in body, all of it
 * counted in *len). False when the stream was reset or the connection ended first. */
static bool response(pth_h2_t *c, int32_t id, int *status, uint8_t *body, size_t cap, size_t *len)
{
    *status = 0, *len = 0;
    int64_t deadline = pth_now_ms() + 10000;
    while (pth_now_ms() < deadline) {
        pth_h2_frame_t f;
        if (pth_h2_read(c, &f, (int)(deadline - pth_now_ms())) != 0)
            return false;
        bool mine = f.stream == id, end = f.flags & NGHTTP2_FLAG_END_STREAM;
        if (f.type == NGHTTP2_GOAWAY || (mine && f.type == NGHTTP2_RST_STREAM)) {
            pth_h2_frame_free(&f);
            return false;
        }
        if (mine && f.type == NGHTTP2_HEADERS && f.status)
            *status = f.status;
        if (mine && f.type == NGHTTP2_DATA) {
            if (*len + f.length <= cap)
                memcpy(body + *len, f.payload, f.length);
            *len += f.length;
        }
        pth_h2_frame_free(&f);
        if (mine && end)
            return true;
    }
    return false;
}

/* A fresh client gets /a.txt exactly and the FastCGI echo's length and sum of a body;
 * the server is still running and has logged no crash or sanitizer report. */
static void check_alive(uint64_t after)
{
    unsigned long long a = (unsigned long long)after;
    pth_assert_msg(pth_running(h), "after seed %llu: the server is gone", a);
    soup_check_log_clean(h->err_path, after); /* first: a crash's own words are there */
    soup_check_log_clean(h->error_log, after);
    pth_h2_t *c = pth_h2_open(h->port, true);
    pth_assert_msg(c, "after seed %llu: cannot connect", a);
    pth_h2_get(c, 1, "/a.txt");
    static uint8_t body[SOUP_FILE_LEN + 1];
    int status;
    size_t len;
    pth_assert_msg(response(c, 1, &status, body, sizeof(body), &len),
                   "after seed %llu: no whole response to GET /a.txt", a);
    pth_assert_msg(status == 200 && len == SOUP_FILE_LEN && !memcmp(body, file, len),
                   "after seed %llu: GET /a.txt got %d with %zu bytes", a, status, len);

    static uint8_t post[SOUP_ECHO_LEN];
    for (size_t i = 0; i < sizeof(post); i++)
        post[i] = (uint8_t)(i * 31 + after);
    char cl[16], want[64];
    snprintf(cl, sizeof(cl), "%d", SOUP_ECHO_LEN);
    const char *n[] = {":method", ":scheme", ":path", ":authority", "content-length"};
    const char *v[] = {"POST", "http", "/f/echo", "localhost", cl};
    uint8_t blk[256];
    size_t k = pth_h2_block(c, blk, sizeof(blk), n, v, 5);
    pth_h2_frame(c, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 3, blk, k);
    pth_h2_frame(c, NGHTTP2_DATA, NGHTTP2_FLAG_END_STREAM, 3, post, sizeof(post));
    pth_assert_msg(response(c, 3, &status, body, sizeof(body) - 1, &len),
                   "after seed %llu: no whole response to the POST", a);
    body[len < sizeof(body) ? len : sizeof(body) - 1] = '\0';
    snprintf(want, sizeof(want), "len=%d sum=%llu", SOUP_ECHO_LEN,
             (unsigned long long)pth_h2_sum(post, sizeof(post)));
    pth_assert_msg(status == 200 && strstr((char *)body, want),
                   "after seed %llu: POST /f/echo got %d '%s', not '%s'", a, status, (char *)body,
                   want);
    pth_h2_close(c);
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
    ck_assert_int_eq(pth_h2_fcgi_start(&be, pth_path(h, "be.sock")), 0);
    pth_config(h,
               "Protocols h2c http/1.1\nH2MaxSessionStreams 8\nH2WindowSize 16384\n"
               "LimitRequestFieldSize %d\n"
               "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\" max=200\n",
               SOUP_FIELD_LIMIT);
    pth_start(h);
}

static void teardown(void)
{
    pth_stop(h);
    pth_h2_fcgi_stop(&be);
    pth_free(h);
    h = NULL;
}

START_TEST(the_server_survives_the_soup_and_still_answers_right)
{
    int64_t t0 = pth_now_ms();
    const char *first = getenv("PORTICO_SOUP_FIRST"), *count = getenv("PORTICO_SOUP_COUNT");
    uint64_t n = count ? strtoull(count, NULL, 10) : SOUP_CONNECTIONS;
    soup_run(first ? strtoull(first, NULL, 10) : 0, n);
    fprintf(stderr,
            "h2_soup (%s): %llu connections, %llu frames in %lld ms; ended by GOAWAY %llu, "
            "close %llu, PING answered %llu (and every stream, politely: %llu), idle %llu, a send "
            "failing %llu, a truncated "
            "frame %llu; %llu HEADERS and %llu RST_STREAM received\n",
            pth_mpm(), (unsigned long long)n, (unsigned long long)stats.frames,
            (long long)(pth_now_ms() - t0), (unsigned long long)stats.goaway,
            (unsigned long long)stats.eof, (unsigned long long)stats.pong,
            (unsigned long long)stats.answered, (unsigned long long)stats.idle,
            (unsigned long long)stats.sent_dead, (unsigned long long)stats.truncated,
            (unsigned long long)stats.headers, (unsigned long long)stats.rst);
}
END_TEST

static Suite *soup_suite(void)
{
    Suite *s = suite_create("h2_soup");
    TCase *tc = tcase_create("soup");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, the_server_survives_the_soup_and_still_answers_right);
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
