/* The raw FastCGI responder of fcgi_hostile.h: reads a request's records by hand and writes
 * exactly the bytes a test needs, including the malformed ones; counts connections. */
#include "fcgi_hostile.h"
#include "harness.h"

#include <errno.h>
#include <fastcgi.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOSTILE_MAX_PARAMS (64 * 1024)
#define HOSTILE_SLOW_DEFAULT_MS 300

typedef struct {
    bool keep_conn;
    char script[512];        /* last component of SCRIPT_NAME */
    char query[256];
    long stdin_len;
    const unsigned char *params; /* the whole PARAMS stream */
    size_t plen;
    bool unbusy;             /* left the busy count */
} hostile_req_t;

static pth_hostile_counts_t *counts;

static bool read_full(int fd, void *p, size_t n)
{
    size_t o = 0;
    while (o < n) {
        ssize_t r = read(fd, (char *)p + o, n - o);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        o += (size_t)r;
    }
    return true;
}

static bool write_full(int fd, const void *p, size_t n)
{
    size_t o = 0;
    while (o < n) {
        ssize_t w = write(fd, (const char *)p + o, n - o);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        o += (size_t)w;
    }
    return true;
}

static bool put_record(int fd, int version, int type, const void *p, size_t n)
{
    FCGI_Header h = {.version = (unsigned char)version, .type = (unsigned char)type,
                     .requestIdB0 = 1, .contentLengthB1 = (unsigned char)(n >> 8),
                     .contentLengthB0 = (unsigned char)n};
    return write_full(fd, &h, sizeof(h)) && (n == 0 || write_full(fd, p, n));
}

static bool put_stdout(int fd, const char *s)
{
    return put_record(fd, FCGI_VERSION_1, FCGI_STDOUT, s, strlen(s));
}

static void raise_max(atomic_int *max, int now)
{
    int m = atomic_load(max);
    while (now > m && !atomic_compare_exchange_weak(max, &m, now))
        ;
}

/* Leaves the busy count before the client can see the end (see busy). */
static void unbusy(hostile_req_t *q)
{
    if (!q->unbusy)
        atomic_fetch_sub(&counts->busy, 1);
    q->unbusy = true;
}

static bool put_end(int fd, hostile_req_t *q)
{
    unsigned char body[8] = {0, 0, 0, 0, FCGI_REQUEST_COMPLETE, 0, 0, 0};
    unbusy(q);
    return put_record(fd, FCGI_VERSION_1, FCGI_STDOUT, NULL, 0) &&
           put_record(fd, FCGI_VERSION_1, FCGI_END_REQUEST, body, sizeof(body));
}

static size_t nv_len(const unsigned char *p, size_t *o)
{
    if (p[*o] < 128)
        return p[(*o)++];
    size_t n = ((size_t)(p[*o] & 0x7f) << 24) | ((size_t)p[*o + 1] << 16) |
               ((size_t)p[*o + 2] << 8) | p[*o + 3];
    *o += 4;
    return n;
}

/* The value of a parameter (not NUL-terminated: *vl bytes), NULL when absent. */
static const char *param_get(const hostile_req_t *q, const char *want, size_t *vl)
{
    const unsigned char *p = q->params;
    size_t o = 0, wl = strlen(want);
    while (o + 2 <= q->plen) {
        size_t nl = nv_len(p, &o);
        *vl = nv_len(p, &o);
        if (o + nl + *vl > q->plen)
            return NULL;
        if (nl == wl && memcmp(p + o, want, wl) == 0)
            return (const char *)p + o + nl;
        o += nl + *vl;
    }
    return NULL;
}

/* SCRIPT_NAME's last component and QUERY_STRING. */
static void parse_params(hostile_req_t *q)
{
    size_t vl;
    const char *v = param_get(q, "SCRIPT_NAME", &vl);
    if (v) {
        const char *slash = memrchr(v, '/', vl);
        size_t skip = slash ? (size_t)(slash - v) + 1 : 0;
        snprintf(q->script, sizeof(q->script), "%.*s", (int)(vl - skip), v + skip);
    }
    v = param_get(q, "QUERY_STRING", &vl);
    if (v)
        snprintf(q->query, sizeof(q->query), "%.*s", (int)vl, v);
}

/* Reads one request (BEGIN_REQUEST, PARAMS, STDIN to their empty records). False at EOF or
 * on anything unexpected. */
static bool read_request(int fd, hostile_req_t *q, unsigned char *params)
{
    memset(q, 0, sizeof(*q));
    size_t plen = 0;
    bool params_done = false, stdin_done = false;
    unsigned char content[65536 + 256];
    while (!params_done || !stdin_done) {
        FCGI_Header h;
        if (!read_full(fd, &h, sizeof(h)))
            return false;
        size_t clen = ((size_t)h.contentLengthB1 << 8) | h.contentLengthB0;
        if (!read_full(fd, content, clen + h.paddingLength))
            return false;
        if (h.type == FCGI_BEGIN_REQUEST && clen >= 8) {
            q->keep_conn = (content[2] & FCGI_KEEP_CONN) != 0;
            atomic_fetch_add(&counts->requests, 1);
            raise_max(&counts->max_busy, atomic_fetch_add(&counts->busy, 1) + 1);
            if (q->keep_conn)
                atomic_fetch_add(&counts->keep_conn, 1);
        } else if (h.type == FCGI_PARAMS) {
            if (clen == 0)
                params_done = true;
            else if (plen + clen <= HOSTILE_MAX_PARAMS)
                memcpy(params + plen, content, clen), plen += clen;
        } else if (h.type == FCGI_STDIN) {
            if (clen == 0)
                stdin_done = true;
            q->stdin_len += (long)clen;
        }
    }
    q->params = params;
    q->plen = plen;
    parse_params(q);
    return true;
}

/* Answers; false when the connection must close afterwards whatever was asked. */
static bool answer(int fd, hostile_req_t *q)
{
    const char *w = q->script;
    char buf[256];
    if (strcmp(w, "ok") == 0)
        return put_stdout(fd, "Content-Type: text/plain\r\n\r\nok") && put_end(fd, q);
    if (strcmp(w, "slow") == 0) {
        int ms = q->query[0] ? atoi(q->query) : HOSTILE_SLOW_DEFAULT_MS;
        pth_sleep_ms(ms);
        return put_stdout(fd, "Content-Type: text/plain\r\n\r\nok") && put_end(fd, q);
    }
    if (strcmp(w, "echo") == 0) {
        snprintf(buf, sizeof(buf), "Content-Type: text/plain\r\n\r\nlen=%ld", q->stdin_len);
        return put_stdout(fd, buf) && put_end(fd, q);
    }
    if (strcmp(w, "param") == 0) {
        size_t vl = 0;
        const char *v = param_get(q, q->query, &vl);
        snprintf(buf, sizeof(buf), "Content-Type: text/plain\r\n\r\n%.*s", (int)vl,
                 v ? v : "");
        return put_stdout(fd, buf) && put_end(fd, q);
    }
    if (strcmp(w, "dateserver") == 0)
        return put_stdout(fd, "Date: Sat, 01 Jan 2000 00:00:00 GMT\r\nServer: hostile/1.0\r\n"
                              "Content-Type: text/plain\r\n\r\nok") &&
               put_end(fd, q);
    if (strcmp(w, "folded") == 0)
        return put_stdout(fd, "Content-Type: text/plain\r\nX-Folded: one\r\n two\r\n\r\nok") &&
               put_end(fd, q);
    if (strcmp(w, "headclose") == 0) {
        put_stdout(fd, "Content-Type: text/plain\r\nX-Head: sent\r\n\r\n");
        return false;
    }
    if (strcmp(w, "headstall") == 0) {
        put_stdout(fd, "Content-Type: text/plain\r\nX-Head: sent\r\n\r\n");
        pth_sleep_ms(q->query[0] ? atoi(q->query) : 3000);
        return false;
    }
    if (strcmp(w, "headbad") == 0) {
        put_stdout(fd, "Content-Type: text/plain\r\nX-Head: sent\r\n\r\n");
        put_record(fd, 2, FCGI_STDOUT, "x", 1);
        return false;
    }
    if (strcmp(w, "closeafter") == 0) {
        put_stdout(fd, "Content-Type: text/plain\r\n\r\nok");
        put_end(fd, q);
        return false;
    }
    return put_stdout(fd, "Status: 404\r\nContent-Type: text/plain\r\n\r\nunknown") &&
           put_end(fd, q);
}

static void *serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    raise_max(&counts->max_open, atomic_fetch_add(&counts->open, 1) + 1);
    unsigned char *params = malloc(HOSTILE_MAX_PARAMS);
    hostile_req_t q;
    while (params && read_request(fd, &q, params)) {
        bool more = answer(fd, &q);
        unbusy(&q);
        if (!more || !q.keep_conn)
            break;
    }
    free(params);
    shutdown(fd, SHUT_RDWR);
    close(fd);
    atomic_fetch_sub(&counts->open, 1);
    return NULL;
}

static void hostile_main(int lfd)
{
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            _exit(1);
        }
        atomic_fetch_add(&counts->accepted, 1);
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, serve_conn, (void *)(intptr_t)fd) != 0)
            close(fd);
        pthread_attr_destroy(&at);
    }
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path))
        return -1;
    strcpy(sun.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 || listen(fd, 64) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int pth_hostile_start(pth_hostile_t *hs, const char *sock_path, char *msg, size_t msglen)
{
    memset(hs, 0, sizeof(*hs));
    snprintf(hs->sock, sizeof(hs->sock), "%s", sock_path);
    hs->counts = mmap(NULL, sizeof(*hs->counts), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (hs->counts == MAP_FAILED) {
        hs->counts = NULL;
        snprintf(msg, msglen, "mmap: %s", strerror(errno));
        return -1;
    }
    int lfd = listen_unix(sock_path);
    if (lfd < 0) {
        snprintf(msg, msglen, "cannot listen on %s: %s", sock_path, strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(lfd);
        snprintf(msg, msglen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        counts = hs->counts;
        hostile_main(lfd);
    }
    close(lfd);
    hs->pid = pid;
    hs->owner = parent;
    return 0;
}

void pth_hostile_stop(pth_hostile_t *hs)
{
    if (hs->owner != getpid())
        return;
    if (hs->pid > 0) {
        kill(hs->pid, SIGKILL);
        waitpid(hs->pid, NULL, 0);
        hs->pid = 0;
    }
    unlink(hs->sock);
    if (hs->counts)
        munmap(hs->counts, sizeof(*hs->counts));
    hs->counts = NULL;
}

bool pth_hostile_wait_open(pth_hostile_t *hs, int want, int ms)
{
    int64_t end = pth_now_ms() + ms;
    for (;;) {
        if (atomic_load(&hs->counts->open) == want)
            return true;
        if (pth_now_ms() > end)
            return false;
        pth_sleep_ms(10);
    }
}
