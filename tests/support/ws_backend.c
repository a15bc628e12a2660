/* The WebSocket test origin (ws_backend.h): the handshake, frames both ways, and the
 * client-side helpers the integration tests share. */
#include "ws_backend.h"
#include "harness.h"

#include <check.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define WS_MAX_FRAME (64u << 20)
#define WS_HEAD_MAX 8192

static pth_ws_counts_t *counts;

/* ---- Frames (both sides) ---------------------------------------------------------------- */

static int write_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads exactly n bytes before deadline (ms, monotonic): 0, or -1. */
static int read_full(int fd, void *p, size_t n, int64_t deadline)
{
    char *d = p;
    while (n > 0) {
        int64_t left = deadline - pth_now_ms();
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pf, 1, (int)left) != 1)
            return -1;
        ssize_t r = read(fd, d, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        d += r;
        n -= (size_t)r;
    }
    return 0;
}

size_t pth_ws_frame(void *out, int opcode, const void *p, size_t n, bool mask)
{
    unsigned char *h = out;
    size_t hl = 2;
    h[0] = (unsigned char)(0x80 | (opcode & 0x0f));
    if (n < 126) {
        h[1] = (unsigned char)n;
    } else if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    if (mask) {
        h[1] |= 0x80;
        memcpy(h + hl, key, 4);
        hl += 4;
    }
    for (size_t i = 0; i < n; i++)
        h[hl + i] = ((const unsigned char *)p)[i] ^ (mask ? key[i % 4] : 0);
    return hl + n;
}

int pth_ws_send_frame(int fd, int opcode, const void *p, size_t n, bool mask)
{
    unsigned char *buf = malloc(n + 14);
    if (!buf)
        return -1;
    int rc = write_all(fd, buf, pth_ws_frame(buf, opcode, p, n, mask));
    free(buf);
    return rc;
}

int pth_ws_read_frame(int fd, void **p, size_t *n, int ms)
{
    int64_t deadline = pth_now_ms() + ms;
    unsigned char h[2], ext[8], key[4];
    if (read_full(fd, h, 2, deadline) != 0)
        return -1;
    uint64_t len = h[1] & 0x7f;
    if (len >= 126) {
        size_t k = len == 126 ? 2 : 8;
        if (read_full(fd, ext, k, deadline) != 0)
            return -1;
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | ext[i];
    }
    if (len > WS_MAX_FRAME)
        return -1;
    bool masked = h[1] & 0x80;
    if (masked && read_full(fd, key, 4, deadline) != 0)
        return -1;
    unsigned char *d = malloc(len + 1);
    if (!d || read_full(fd, d, len, deadline) != 0) {
        free(d);
        return -1;
    }
    for (uint64_t i = 0; masked && i < len; i++)
        d[i] ^= key[i % 4];
    d[len] = 0;
    *p = d;
    *n = (size_t)len;
    return h[0] & 0x0f;
}

void pth_ws_accept_for(const char *key, char out[64])
{
    char in[256];
    snprintf(in, sizeof(in), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)in, strlen(in), md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}

/* ---- The origin -------------------------------------------------------------------------- */

/* Reads a request head (to the blank line): its length, or -1. */
static int read_head(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    int64_t deadline = pth_now_ms() + 10000;
    while (n + 1 < cap) {
        if (read_full(fd, buf + n, 1, deadline) != 0)
            return -1;
        n++;
        buf[n] = 0;
        if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
            return (int)n;
    }
    return -1;
}

/* The value of field name in head, copied into out; false when absent. */
static bool field(const char *head, const char *name, char *out, size_t cap)
{
    char want[64];
    snprintf(want, sizeof(want), "\r\n%s:", name);
    const char *p = strcasestr(head, want);
    if (!p)
        return false;
    p += strlen(want);
    while (*p == ' ')
        p++;
    size_t k = strcspn(p, "\r\n");
    snprintf(out, cap, "%.*s", (int)(k < cap - 1 ? k : cap - 1), p);
    return true;
}

static int handshake(int fd, const char *head, bool greet)
{
    char key[128], up[64], accept[64], resp[512];
    if (!field(head, "Upgrade", up, sizeof(up)) || strcasecmp(up, "websocket") != 0 ||
        !field(head, "Sec-WebSocket-Key", key, sizeof(key))) {
        const char *bad = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                          "Connection: close\r\n\r\n";
        write_all(fd, bad, strlen(bad));
        return -1;
    }
    pth_ws_accept_for(key, accept);
    int n = snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n%s", accept,
                     greet ? "\x81\x07welcome" : "");
    atomic_fetch_add(&counts->upgraded, 1);
    return write_all(fd, resp, (size_t)n);
}

static void echo_frames(int fd)
{
    for (;;) {
        void *p;
        size_t n;
        int op = pth_ws_read_frame(fd, &p, &n, 600000);
        if (op < 0)
            return;
        if (op == 8) {
            atomic_fetch_add(&counts->closes, 1);
            pth_ws_send_frame(fd, 8, p, n, false);
            free(p);
            return;
        }
        if (op == 9)
            pth_ws_send_frame(fd, 10, p, n, false);
        else if (op <= 2) {
            atomic_fetch_add(&counts->frames, 1);
            pth_ws_send_frame(fd, op, p, n, false);
        }
        free(p);
    }
}

static void close_first(int fd)
{
    pth_ws_send_frame(fd, 1, "bye", 3, false);
    pth_ws_send_frame(fd, 8, "\x03\xe8", 2, false);
    shutdown(fd, SHUT_WR);
    void *p;
    size_t n;
    int op;
    while ((op = pth_ws_read_frame(fd, &p, &n, 10000)) >= 0) {
        free(p);
        if (op == 8) {
            atomic_fetch_add(&counts->closes, 1);
            break;
        }
    }
}

static void *serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    atomic_fetch_add(&counts->open, 1);
    char head[WS_HEAD_MAX];
    if (read_head(fd, head, sizeof(head)) > 0) {
        const char *sp = strchr(head, ' ');
        const char *end = sp ? strchr(sp + 1, ' ') : NULL;
        char target[256] = "";
        if (end)
            snprintf(target, sizeof(target), "%.*s", (int)(end - sp - 1), sp + 1);
        char *q = strchr(target, '?');
        if (q)
            *q = 0;
        const char *last = strrchr(target, '/');
        last = last ? last + 1 : target;
        bool greet = strcmp(last, "greet") == 0;
        if (handshake(fd, head, greet) == 0) {
            if (strcmp(last, "closefirst") == 0)
                close_first(fd);
            else
                echo_frames(fd);
        }
    }
    close(fd);
    atomic_fetch_sub(&counts->open, 1);
    return NULL;
}

static void backend_main(int lfd)
{
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
                continue;
            _exit(1);
        }
        atomic_fetch_add(&counts->accepted, 1);
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 128 * 1024);
        if (pthread_create(&t, &at, serve_conn, (void *)(intptr_t)fd) != 0)
            close(fd);
        pthread_attr_destroy(&at);
    }
}

int pth_ws_backend_start(pth_ws_backend_t *b, char *msg, size_t msglen)
{
    memset(b, 0, sizeof(*b));
    b->counts = mmap(NULL, sizeof(*b->counts), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (b->counts == MAP_FAILED) {
        b->counts = NULL;
        snprintf(msg, msglen, "mmap: %s", strerror(errno));
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sin);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 512) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
        snprintf(msg, msglen, "cannot listen: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    b->port = ntohs(sin.sin_port);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        snprintf(msg, msglen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        counts = b->counts;
        backend_main(fd);
    }
    close(fd);
    b->pid = pid;
    b->owner = parent;
    return 0;
}

void pth_ws_backend_start_must(pth_ws_backend_t *b)
{
    char msg[256];
    pth_assert_msg(pth_ws_backend_start(b, msg, sizeof(msg)) == 0, "ws backend: %s", msg);
}

void pth_ws_backend_stop(pth_ws_backend_t *b)
{
    if (b->owner != getpid())
        return;
    if (b->pid > 0) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, NULL, 0);
        b->pid = 0;
    }
    if (b->counts)
        munmap(b->counts, sizeof(*b->counts));
    b->counts = NULL;
}

bool pth_ws_backend_wait_open(pth_ws_backend_t *b, int want, int ms)
{
    int64_t end = pth_now_ms() + ms;
    while (atomic_load(&b->counts->open) != want) {
        if (pth_now_ms() > end)
            return false;
        pth_sleep_ms(10);
    }
    return true;
}
