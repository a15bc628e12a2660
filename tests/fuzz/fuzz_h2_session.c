/* libFuzzer harness for the whole HTTP/2 session: nghttp2 with portico's callbacks, guards,
 * request checks and streams (src/http2), on a real connection served as the prefork MPM
 * serves one (prefork.c's serve_connection: the fresh connection's driver, HTTP/1's h2c
 * preface hand-off, then h2_serve_worker until it closes or lingers). Each input is what a
 * client sends after the connection preface and an empty SETTINGS, which the harness sends
 * first. Failure: a crash or sanitizer report (nghttp2's assertions included: it aborts),
 * a leak, a server that waits WAIT_MS for a client that has sent everything and shut its
 * side, or one that never ends the connection (libFuzzer's -timeout).
 *
 * Input: byte 0 chooses how the bytes arrive: 0, in reads as large as the server takes
 * (several frames per read); n > 0, in reads of 1..4n bytes (frames cut across reads), the
 * sizes drawn from a generator seeded by bytes 0 and 1. The rest are the client's bytes.
 * The client end of a SOCK_SEQPACKET socketpair keeps those read boundaries whatever the
 * threads' timing: each recv of the server's gets one record. A client thread writes the
 * records and reads and discards what the server sends, so the server never waits for
 * room; the client's side is shut once the session has served every record. Mutations
 * are libFuzzer's and, by frame, this harness's own (LLVMFuzzerCustomMutator, below).
 *
 * The configuration (written once): h2c with prior knowledge, a small file and routes that
 * answer on the session's thread (a redirect, a 403, server-status), and low limits
 * (H2MaxStreamErrors 1, LimitRequestFieldSize 256, a window of 16 KiB) so the guards and
 * limits are within a few frames' reach. A request with a body runs on the HTTP/2 worker
 * pool (h2_workers.c, two threads at most): only those without one run inline. */
#include "conn.h"
#include "fuzz.h"
#include "log.h"
#include "startup.h"

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAIT_MS 5000   /* the server waits no longer for bytes the client has all sent */
#define QUIET_MS 25    /* a session silent this long, its input all read, waits for the client */
#define LINGER_MS 2000 /* prefork's lingering close (PT_LINGER_MS) */
/* Records shorter than the session's read buffer (16 KiB, h2_session.c's read_in): each read
 * of one ends the session's read loop, and the frames it brought are served before the next
 * read, which may find the client's end. */
#define RECORD_MAX 16000

/* The client connection preface and an empty SETTINGS (RFC 9113 3.4). */
static const uint8_t prefix[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
#define PREFIX_LEN (sizeof(prefix) - 1)

static char dir[64];
static pt_config_t *cfg;
static pt_worker_t worker;
static int done_fd; /* eventfd: the client has sent everything */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void cleanup(void)
{
    char path[128];
    static const char *const names[] = {"htdocs/a.txt", "htdocs", "main.conf"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        (void)remove(path);
    }
    (void)rmdir(dir);
}

static void init(void)
{
    snprintf(dir, sizeof(dir), "/tmp/fuzz-h2-session.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char path[128], docs[96];
    snprintf(docs, sizeof(docs), "%s/htdocs", dir);
    CHECK(mkdir(docs, 0700) == 0);
    snprintf(path, sizeof(path), "%s/a.txt", docs);
    write_file(path, "hello, fuzz\n");
    snprintf(path, sizeof(path), "%s/main.conf", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f,
            "Listen 127.0.0.1:8080\nServerName fuzz\nDocumentRoot %s\n"
            "Protocols h2c http/1.1\nH2MaxStreamErrors 1\nH2MaxSessionStreams 8\n"
            "H2WindowSize 16384\nH2MaxWorkers 2\nH2StreamTimeout 2\n"
            "Timeout 2\nKeepAliveTimeout 2\nLimitRequestFieldSize 256\nLimitRequestFields 16\n"
            "Redirect /old /a.txt\n<Location /deny>\n    Require all denied\n</Location>\n"
            "<Location /status>\n    SetHandler server-status\n</Location>\n",
            docs);
    fclose(f);
    pt_startup_register();
    char err[1024];
    cfg = pt_config_load(path, NULL, err, sizeof(err));
    if (!cfg)
        fprintf(stderr, "fuzz_h2_session: %s\n", err);
    CHECK(cfg != NULL);
    /* FUZZ_H2_LOG=path keeps the error log (at debug), to see how an input ended. */
    const char *log = getenv("FUZZ_H2_LOG");
    CHECK(pt_log_open_error(log ? log : "/dev/null", log ? PT_LOG_DEBUG : PT_LOG_INFO, err,
                            sizeof(err)) == 0);
    worker.arena = pt_arena_create(16384);
    atexit(cleanup);
    done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK(done_fd >= 0);
}

/* ---- The client ------------------------------------------------------------------- */

/* The client thread's, and what the harness's thread reads of it (sent, under done's
 * eventfd: it is set before the eventfd is written). */
typedef struct {
    int fd;
    const uint8_t *p; /* the client's bytes after the prefix, and how they are cut */
    size_t len;
    unsigned span; /* 0: records as large as they may be; else 1..4*span bytes */
    uint32_t rnd;
    size_t size;      /* the next record's, drawn once (a full socket does not redraw it) */
    atomic_bool sent; /* every record is out (or the server closed) */
} client_t;

static size_t next_size(client_t *cl)
{
    if (cl->size == 0 && cl->span == 0)
        cl->size = RECORD_MAX;
    if (cl->size == 0) {
        cl->rnd ^= cl->rnd << 13, cl->rnd ^= cl->rnd >> 17, cl->rnd ^= cl->rnd << 5;
        cl->size = 1 + cl->rnd % (4 * cl->span);
    }
    return PT_MIN(cl->size, cl->len);
}

/* Sends the next record, unless the socket is full; the rest is dropped once the server has
 * closed. */
static void send_record(client_t *cl)
{
    size_t n = next_size(cl);
    ssize_t rc = send(cl->fd, cl->p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    CHECK(rc < 0 || (size_t)rc == n); /* (a record goes whole or not at all) */
    cl->size = 0;
    cl->len = rc < 0 ? 0 : cl->len - n;
    cl->p += n;
}

static void sent_all(client_t *cl)
{
    atomic_store(&cl->sent, true);
    uint64_t one = 1;
    CHECK(write(done_fd, &one, sizeof(one)) == sizeof(one));
}

/* Sends the prefix, then the records, and reads what the server sends until it ends its
 * side. The prefix goes alone: HTTP/1 reads it (pt_conn_serve, the h2c preface) and hands
 * the connection over with the SETTINGS left in its buffer (bytes after them there would be
 * fed, but their streams dropped if the session's first read met the client's end). The
 * client's side is shut only once the server has taken every record and served them: a
 * session that reads the client's end stops there, and the streams running on the pool go
 * unanswered. wait_client shuts it when the session waits for more (it returned to the
 * harness); here, when the session has said nothing for QUIET_MS (its streams wait for
 * body bytes or window that will not come). */
static void *client_run(void *arg)
{
    client_t *cl = arg;
    static uint8_t buf[256 * 1024]; /* (one client at a time) */
    CHECK(send(cl->fd, prefix, PREFIX_LEN, MSG_NOSIGNAL) == (ssize_t)PREFIX_LEN);
    if (cl->len == 0)
        sent_all(cl);
    for (bool eof = false, shut = false; !eof;) {
        struct pollfd p = {.fd = cl->fd, .events = (short)(POLLIN | (cl->len ? POLLOUT : 0))};
        int n = poll(&p, 1, cl->len || shut ? -1 : QUIET_MS);
        CHECK(n >= 0 || errno == EINTR);
        int unread = -1;
        if (n == 0 && ioctl(cl->fd, SIOCOUTQ, &unread) == 0 && unread == 0) {
            /* Streams on the pool wait for more of a body, or for window: the client
             * sends neither. */
            (void)shutdown(cl->fd, SHUT_WR);
            shut = true;
        }
        if (cl->len && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
            send_record(cl);
            if (cl->len == 0)
                sent_all(cl);
        }
        if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t got = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);
            eof = got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR);
        }
    }
    /* The server ended its side: what it did not read is dropped, and its lingering close
     * sees the client's end. */
    if (!atomic_load(&cl->sent))
        sent_all(cl);
    (void)shutdown(cl->fd, SHUT_WR);
    return NULL;
}

/* ---- The server ------------------------------------------------------------------- */

/* prefork.c's lingering close. */
static void linger_close(pt_conn_t *c)
{
    if (pt_conn_shutdown_write(c) == 0) {
        char buf[4096];
        int64_t deadline = pt_now_ms() + LINGER_MS;
        while (pt_now_ms() < deadline &&
               pt_conn_wait(c, POLLIN, PT_MAX(deadline - pt_now_ms(), 0)) == 0 &&
               pt_conn_recv_some(c, buf, sizeof(buf)) > 0)
            ;
    }
    pt_conn_destroy(c);
}

/* Waits, as prefork.c's wait_conn, for the client's next bytes; once every record is sent
 * and taken, and the session waits for more (it has served what it read: it returned),
 * the client's side is shut, which ends the session. No wait takes longer than WAIT_MS. */
static void wait_client(pt_conn_t *c, client_t *cl, bool *shut)
{
    struct pollfd p[2] = {{.fd = c->fd, .events = pt_conn_read_events(c)},
                          {.fd = done_fd, .events = POLLIN}};
    for (;;) {
        int queued = 0;
        if (!*shut && atomic_load(&cl->sent) && ioctl(c->fd, FIONREAD, &queued) == 0 &&
            queued == 0) {
            CHECK(shutdown(cl->fd, SHUT_WR) == 0);
            *shut = true;
        }
        int n = poll(p, 2, WAIT_MS);
        CHECK(n > 0 || (n < 0 && errno == EINTR)); /* a session waiting on nothing */
        if (p[1].revents) {
            uint64_t v;
            CHECK(read(done_fd, &v, sizeof(v)) == sizeof(v));
        }
        if (p[0].revents)
            return;
    }
}

/* prefork.c's serve_connection. */
static void serve(pt_conn_t *c, client_t *cl)
{
    bool shut = false;
    for (;;) {
        pt_conn_next_t next = c->proto->serve_worker(&worker, c);
        pt_arena_reset(worker.arena);
        if (next == PT_NEXT_LINGER) {
            linger_close(c);
            return;
        }
        if (next == PT_NEXT_CLOSE) {
            pt_conn_destroy(c);
            return;
        }
        /* Without async_write (prefork, worker) a driver parks nothing in flight. */
        CHECK(next == PT_NEXT_PARK_KEEPALIVE || next == PT_NEXT_PARK_READ);
        if (next == PT_NEXT_PARK_KEEPALIVE)
            pt_conn_shrink(c);
        wait_client(c, cl, &shut);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (!cfg)
        init();
    if (len < 2)
        return 0;
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    client_t cl = {.fd = sv[0],
                   .p = data + 2,
                   .len = len - 2,
                   .span = data[0],
                   .rnd = (uint32_t)(data[0] << 8 | data[1]) | 1u << 16};
    atomic_init(&cl.sent, false);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, client_run, &cl) == 0);
    struct sockaddr_in peer = {
        .sin_family = AF_INET, .sin_port = htons(40000), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    pt_conn_t *c = pt_conn_create(sv[1], cfg, (struct sockaddr *)&peer, sizeof(peer));
    CHECK(c != NULL);
    c->proto = pt_startup_first_proto();
    serve(c, &cl); /* (closes sv[1]) */
    CHECK(pthread_join(th, NULL) == 0);
    close(sv[0]);
    uint64_t v;
    (void)read(done_fd, &v, sizeof(v)); /* (a wake nobody waited for) */
    return 0;
}

/* ---- Mutations by frame ---------------------------------------------------------------
 * Besides libFuzzer's byte mutations, whole frames of the input (the client's bytes read as
 * frames by their 9-byte headers) are copied (a stream's copy on the next new stream, so
 * that one request becomes several, each of which can err), dropped, swapped, or given a
 * length their type forbids (a PING of 7 bytes): the guards and limits count across
 * frames, which byte mutations rarely line up. */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);

#define MAX_FRAMES 256

/* The frames' offsets in data (from 2), the last one's end cut at size. */
static size_t frames_of(const uint8_t *data, size_t size, size_t *off)
{
    size_t n = 0;
    for (size_t i = 2; i + 9 <= size && n < MAX_FRAMES; n++) {
        off[n] = i;
        i += 9 + ((size_t)data[i] << 16 | (size_t)data[i + 1] << 8 | data[i + 2]);
    }
    return n;
}

static size_t frame_len(const uint8_t *data, size_t size, const size_t *off, size_t n, size_t k)
{
    return (k + 1 < n ? off[k + 1] : size) - off[k];
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned seed)
{
    size_t off[MAX_FRAMES];
    size_t n = size >= 2 ? frames_of(data, size, off) : 0;
    srand(seed);
    if (n == 0 || rand() % 2)
        return LLVMFuzzerMutate(data, size, max);
    size_t a = (size_t)rand() % n, b = (size_t)rand() % n;
    size_t alen = frame_len(data, size, off, n, a);
    static uint8_t tmp[65536];
    switch (rand() % 4) {
    case 0: { /* frames a.. (up to 4) copied after b, their streams moved to new ones */
        size_t more = (size_t)rand() % 4, last = PT_MIN(n - 1, a + more);
        size_t run = off[last] + frame_len(data, size, off, n, last) - off[a];
        if (size + run > max || run > sizeof(tmp))
            return LLVMFuzzerMutate(data, size, max);
        memcpy(tmp, data + off[a], run);
        uint32_t bump = 2 * (1 + (uint32_t)rand() % 4);
        for (size_t k = a; k <= last; k++) {
            uint8_t *h = tmp + (off[k] - off[a]);
            uint32_t sid = (uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | h[7] << 8 | h[8];
            if (sid == 0)
                continue;
            sid = (sid + bump) & 0x7fffffff;
            h[5] = (uint8_t)(sid >> 24), h[6] = (uint8_t)(sid >> 16);
            h[7] = (uint8_t)(sid >> 8), h[8] = (uint8_t)sid;
        }
        size_t at = off[b] + frame_len(data, size, off, n, b);
        memmove(data + at + run, data + at, size - at);
        memcpy(data + at, tmp, run);
        return size + run;
    }
    case 1: /* a dropped */
        memmove(data + off[a], data + off[a] + alen, size - off[a] - alen);
        return size - alen;
    case 2: { /* a and b (a before b) swapped */
        if (a == b)
            return LLVMFuzzerMutate(data, size, max);
        if (a > b) {
            size_t t = a;
            a = b, b = t;
        }
        size_t end = off[b] + frame_len(data, size, off, n, b), span = end - off[a];
        if (span > sizeof(tmp))
            return LLVMFuzzerMutate(data, size, max);
        size_t blen = end - off[b], mid = off[b] - off[a] - frame_len(data, size, off, n, a);
        alen = frame_len(data, size, off, n, a);
        memcpy(tmp, data + off[b], blen);
        memcpy(tmp + blen, data + off[a] + alen, mid);
        memcpy(tmp + blen + mid, data + off[a], alen);
        memcpy(data + off[a], tmp, span);
        return size;
    }
    default: { /* a's length off by a little, its payload as it was */
        size_t len = alen - 9, bad = rand() % 2 ? len + 1 : len - 1;
        if (alen < 9 || bad > 0xffffff)
            return LLVMFuzzerMutate(data, size, max);
        data[off[a]] = (uint8_t)(bad >> 16), data[off[a] + 1] = (uint8_t)(bad >> 8);
        data[off[a] + 2] = (uint8_t)bad;
        return size;
    }
    }
}
