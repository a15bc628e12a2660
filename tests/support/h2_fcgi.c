/* A FastCGI responder that serves many requests at once (a thread per connection), for the
 * HTTP/2 tests: 100 slow requests on one HTTP/2 connection must reach it together. Runs as
 * a child process (dies with the test: PR_SET_PDEATHSIG), stopped by PID. The last
 * component of SCRIPT_NAME says what to do: "slow" sleeps 1 s, "echo" reports the length
 * and sum of the request body, "big" answers 1 MiB of 'b', anything else answers "ok". */
#include "h2_client.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t pth_h2_sum(const uint8_t *p, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = s * 31 + p[i];
    return s;
}

static int read_full(int fd, void *p, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t k = read(fd, (char *)p + off, n - off);
        if (k <= 0)
            return -1;
        off += (size_t)k;
    }
    return 0;
}

static void record(int fd, int type, int id, const void *p, size_t n)
{
    uint8_t h[8] = {1, (uint8_t)type, (uint8_t)(id >> 8), (uint8_t)id, (uint8_t)(n >> 8),
                    (uint8_t)n, 0, 0};
    if (write(fd, h, 8) != 8 || (n && write(fd, p, n) != (ssize_t)n))
        return;
}

/* SCRIPT_NAME from a PARAMS stream. */
static void script_name(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t i = 0;
    while (i < n) {
        uint32_t nl = p[i], vl;
        if (nl & 0x80)
            nl = (uint32_t)(p[i] & 0x7f) << 24 | p[i + 1] << 16 | p[i + 2] << 8 | p[i + 3], i += 4;
        else
            i++;
        vl = p[i];
        if (vl & 0x80)
            vl = (uint32_t)(p[i] & 0x7f) << 24 | p[i + 1] << 16 | p[i + 2] << 8 | p[i + 3], i += 4;
        else
            i++;
        if (nl == 11 && memcmp(p + i, "SCRIPT_NAME", 11) == 0) {
            snprintf(out, cap, "%.*s", (int)vl, (const char *)p + i + nl);
            return;
        }
        i += nl + vl;
    }
}

/* Requests on one connection, one after another, until the peer closes. */
static void *serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    uint8_t *params = NULL, *body = NULL;
    size_t np = 0, nb = 0;
    for (;;) {
        uint8_t h[8], rec[65536 + 256];
        if (read_full(fd, h, 8) < 0)
            break;
        size_t len = (size_t)h[4] << 8 | h[5], pad = h[6];
        int id = h[2] << 8 | h[3];
        if (read_full(fd, rec, len + pad) < 0)
            break;
        if (h[1] == 4) { /* PARAMS */
            params = realloc(params, np + len + 1);
            memcpy(params + np, rec, len);
            np += len;
        } else if (h[1] == 5 && len > 0) { /* STDIN */
            body = realloc(body, nb + len + 1);
            memcpy(body + nb, rec, len);
            nb += len;
        } else if (h[1] == 5) { /* the end of STDIN: answer */
            char sn[512] = "", out[256];
            script_name(params, np, sn, sizeof(sn));
            const char *last = strrchr(sn, '/') ? strrchr(sn, '/') + 1 : sn;
            if (strcmp(last, "slow") == 0) {
                usleep(1000 * 1000);
                snprintf(out, sizeof(out), "Content-Type: text/plain\r\n\r\nslow");
            } else if (strcmp(last, "big") == 0) {
                char chunk[32768]; /* (this thread's: a static one would be a race) */
                memset(chunk, 'b', sizeof(chunk));
                static const char head[] = "Content-Type: text/plain\r\n\r\n";
                record(fd, 6, id, head, strlen(head));
                for (int i = 0; i < 32; i++)
                    record(fd, 6, id, chunk, sizeof(chunk));
                out[0] = '\0';
            } else if (strcmp(last, "echo") == 0) {
                snprintf(out, sizeof(out), "Content-Type: text/plain\r\n\r\nlen=%zu sum=%llu", nb,
                         (unsigned long long)pth_h2_sum(body, nb));
            } else {
                snprintf(out, sizeof(out), "Content-Type: text/plain\r\n\r\nok");
            }
            if (out[0])
                record(fd, 6, id, out, strlen(out));
            record(fd, 6, id, NULL, 0);
            uint8_t end[8] = {0};
            record(fd, 3, id, end, 8);
            np = nb = 0;
        }
    }
    free(params);
    free(body);
    close(fd);
    return NULL;
}

static void run_server(int lfd)
{
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 256 * 1024);
        while (pthread_create(&t, &at, serve_conn, (void *)(intptr_t)fd) != 0)
            usleep(1000); /* (at the thread limit: a connection waits, it is not dropped) */
        pthread_attr_destroy(&at);
    }
}

int pth_h2_fcgi_start(pth_h2_fcgi_t *b, const char *sock)
{
    snprintf(b->sock, sizeof(b->sock), "%s", sock);
    unlink(sock);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 512) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGPIPE, SIG_IGN); /* a request portico abandoned: its write just fails */
        run_server(lfd);
        _exit(0);
    }
    close(lfd);
    b->pid = pid;
    return 0;
}

void pth_h2_fcgi_stop(pth_h2_fcgi_t *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, NULL, 0);
        b->pid = 0;
    }
    unlink(b->sock);
}
