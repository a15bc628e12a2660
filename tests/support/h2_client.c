/* The raw HTTP/2 client and the external-client runner of h2_client.h. */
#include "h2_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pth_h2_t *client_new(int fd, const pth_h2_io_t *io)
{
    pth_h2_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->goaway_last = -1;
    c->fd = fd;
    if (io)
        c->io = *io;
    nghttp2_hd_deflate_new(&c->def, 4096);
    nghttp2_hd_inflate_new(&c->inf);
    return c;
}

pth_h2_t *pth_h2_over(const pth_h2_io_t *io)
{
    return client_new(-1, io);
}

pth_h2_t *pth_h2_open(int port, bool preface)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    pth_h2_t *c = client_new(fd, NULL);
    if (!c) {
        close(fd);
        return NULL;
    }
    if (preface) {
        static const char magic[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        if (send(fd, magic, 24, MSG_NOSIGNAL) != 24 ||
            pth_h2_frame(c, NGHTTP2_SETTINGS, 0, 0, NULL, 0) != 0) {
            pth_h2_close(c);
            return NULL;
        }
    }
    return c;
}

void pth_h2_close(pth_h2_t *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    nghttp2_hd_deflate_del(c->def);
    nghttp2_hd_inflate_del(c->inf);
    free(c->buf);
    free(c);
}

void pth_h2_cork(pth_h2_t *c, bool on)
{
    int v = on;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v));
}

size_t pth_h2_frame_bytes(uint8_t *out, size_t cap, uint8_t type, uint8_t flags, int32_t stream,
                          const void *p, size_t len)
{
    if (cap < 9 || len > cap - 9)
        return 0;
    out[0] = (uint8_t)(len >> 16), out[1] = (uint8_t)(len >> 8), out[2] = (uint8_t)len;
    out[3] = type, out[4] = flags;
    out[5] = (uint8_t)((stream >> 24) & 0x7f), out[6] = (uint8_t)(stream >> 16);
    out[7] = (uint8_t)(stream >> 8), out[8] = (uint8_t)stream;
    if (len)
        memcpy(out + 9, p, len);
    return 9 + len;
}

static int sock_send(int fd, const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t k = send(fd, p + off, n - off, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -errno;
        off += (size_t)k;
    }
    return 0;
}

int pth_h2_frame(pth_h2_t *c, uint8_t type, uint8_t flags, int32_t stream, const void *p,
                 size_t len)
{
    uint8_t *f = malloc(9 + len);
    if (!f)
        return -ENOMEM;
    size_t n = pth_h2_frame_bytes(f, 9 + len, type, flags, stream, p, len);
    int rc = c->io.send ? c->io.send(c->io.io, f, n) : sock_send(c->fd, f, n);
    free(f);
    return rc;
}

size_t pth_h2_block(pth_h2_t *c, uint8_t *out, size_t cap, const char *const *names,
                    const char *const *values, size_t n)
{
    nghttp2_nv nv[64];
    for (size_t i = 0; i < n && i < 64; i++)
        nv[i] = (nghttp2_nv){(uint8_t *)(uintptr_t)names[i], (uint8_t *)(uintptr_t)values[i],
                             strlen(names[i]), strlen(values[i]), NGHTTP2_NV_FLAG_NONE};
    ssize_t k = nghttp2_hd_deflate_hd(c->def, out, cap, nv, n < 64 ? n : 64);
    return k > 0 ? (size_t)k : 0;
}

int pth_h2_get(pth_h2_t *c, int32_t id, const char *path)
{
    const char *n[] = {":method", ":scheme", ":path", ":authority"};
    const char *v[] = {"GET", "http", path, "localhost"};
    uint8_t blk[1024];
    size_t k = pth_h2_block(c, blk, sizeof(blk), n, v, 4);
    return pth_h2_frame(c, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM | NGHTTP2_FLAG_END_HEADERS,
                        id, blk, k);
}

/* Up to n bytes from the socket within ms (pth_h2_io_t's recv, for the socket). */
static long sock_recv(int fd, void *p, size_t n, int ms)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    int r = poll(&pf, 1, ms);
    if (r <= 0)
        return r == 0 || errno == EINTR ? -ETIMEDOUT : -errno;
    ssize_t k = recv(fd, p, n, 0);
    return k >= 0 ? (long)k : -errno;
}

static int fill(pth_h2_t *c, size_t want, int64_t deadline)
{
    while (c->len < want) {
        if (c->eof)
            return -ECONNRESET;
        int left = (int)(deadline - now_ms());
        if (left <= 0)
            return -ETIMEDOUT;
        if (c->cap - c->len < 65536) {
            c->cap = c->cap * 2 + 65536;
            c->buf = realloc(c->buf, c->cap);
        }
        void *to = c->buf + c->len;
        size_t room = c->cap - c->len;
        long n =
            c->io.recv ? c->io.recv(c->io.io, to, room, left) : sock_recv(c->fd, to, room, left);
        if (n == -ETIMEDOUT || n == -EINTR)
            continue; /* (the deadline, above, says whether to look again) */
        if (n <= 0) {
            c->eof = true;
            c->reset = n == -ECONNRESET;
            continue;
        }
        c->len += (size_t)n;
    }
    return 0;
}

/* :status of a header block (HEADERS without padding or priority handled). */
static int decode_status(pth_h2_t *c, const pth_h2_frame_t *f)
{
    const uint8_t *p = f->payload;
    size_t n = f->length;
    if (f->flags & NGHTTP2_FLAG_PADDED && n > 0) {
        size_t pad = p[0];
        p++, n--;
        n = pad <= n ? n - pad : 0;
    }
    if (f->flags & NGHTTP2_FLAG_PRIORITY && n >= 5)
        p += 5, n -= 5;
    int status = 0;
    while (n > 0) {
        nghttp2_nv nv;
        int fl = 0;
        ssize_t k = nghttp2_hd_inflate_hd2(c->inf, &nv, &fl, p, n, 1);
        if (k < 0)
            return -1;
        p += k, n -= (size_t)k;
        if ((fl & NGHTTP2_HD_INFLATE_EMIT) && nv.namelen == 7 && !memcmp(nv.name, ":status", 7))
            status = atoi((const char *)nv.value);
        if (fl & NGHTTP2_HD_INFLATE_FINAL)
            break;
    }
    nghttp2_hd_inflate_end_headers(c->inf);
    return status;
}

int pth_h2_read(pth_h2_t *c, pth_h2_frame_t *f, int ms)
{
    int64_t deadline = now_ms() + ms;
    memset(f, 0, sizeof(*f));
    int rc = fill(c, 9, deadline);
    if (rc)
        return rc;
    uint32_t len = (uint32_t)c->buf[0] << 16 | (uint32_t)c->buf[1] << 8 | c->buf[2];
    if ((rc = fill(c, 9 + len, deadline)))
        return rc;
    f->length = len;
    f->type = c->buf[3];
    f->flags = c->buf[4];
    f->stream = (int32_t)(((uint32_t)c->buf[5] & 0x7f) << 24 | (uint32_t)c->buf[6] << 16 |
                          (uint32_t)c->buf[7] << 8 | c->buf[8]);
    f->payload = malloc(len + 1);
    memcpy(f->payload, c->buf + 9, len);
    memmove(c->buf, c->buf + 9 + len, c->len - 9 - len);
    c->len -= 9 + len;
    if (f->type == NGHTTP2_HEADERS)
        f->status = decode_status(c, f);
    return 0;
}

void pth_h2_frame_free(pth_h2_frame_t *f)
{
    free(f->payload);
    f->payload = NULL;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int pth_h2_expect(pth_h2_t *c, int type, int32_t stream, int ms, uint32_t *code, int *status)
{
    int64_t deadline = now_ms() + ms;
    for (;;) {
        pth_h2_frame_t f;
        int left = (int)(deadline - now_ms());
        int rc = left > 0 ? pth_h2_read(c, &f, left) : -ETIMEDOUT;
        if (rc == -ETIMEDOUT)
            return -2;
        if (rc)
            return -1;
        bool match = f.type == type && (stream < 0 || f.stream == stream);
        if (match || f.type == NGHTTP2_GOAWAY) {
            if (code && f.type == NGHTTP2_GOAWAY && f.length >= 8)
                *code = be32(f.payload + 4);
            if (f.type == NGHTTP2_GOAWAY && f.length >= 8)
                c->goaway_last = (int32_t)(be32(f.payload) & 0x7fffffff);
            if (code && f.type == NGHTTP2_RST_STREAM && f.length >= 4)
                *code = be32(f.payload);
            if (status && f.type == NGHTTP2_HEADERS)
                *status = f.status;
            int t = f.type;
            pth_h2_frame_free(&f);
            return t;
        }
        pth_h2_frame_free(&f);
    }
}

bool pth_h2_goaway(pth_h2_t *c, int ms, uint32_t *code)
{
    return pth_h2_expect(c, NGHTTP2_GOAWAY, -1, ms, code, NULL) == NGHTTP2_GOAWAY;
}

int pth_h2_run(char *const argv[], int ms, char **out)
{
    char path[] = "/tmp/pth-h2-run.XXXXXX";
    int fd = mkstemp(path);
    *out = NULL;
    if (fd < 0)
        return -1;
    unlink(path);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int code = -1;
    int64_t end = now_ms() + ms;
    while (pid > 0) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            break;
        }
        if (now_ms() >= end) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            break;
        }
        usleep(10000);
    }
    off_t size = lseek(fd, 0, SEEK_END);
    *out = calloc(1, (size_t)size + 1);
    if (size > 0 && pread(fd, *out, (size_t)size, 0) < 0)
        (*out)[0] = '\0';
    close(fd);
    return code;
}
