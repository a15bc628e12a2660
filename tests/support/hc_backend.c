/* The health-check tests' member (hc_backend.h): an accept thread and a thread per
 * connection, each tracked in a slot so that stop can shut it down and join it (a finished
 * one is joined by the acceptor, which reuses its slot). */
#include "hc_backend.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HC_MAX_CONNS 256
#define HC_SLOW_MS 4000

struct pth_hc_backend {
    int lfd, port;
    char name[64];
    atomic_int health, probes, requests;
    atomic_bool stopping;
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_t threads[HC_MAX_CONNS];
    int fds[HC_MAX_CONNS];       /* -1 once the connection closed (under mu) */
    bool used[HC_MAX_CONNS];     /* a thread to join */
};

typedef struct {
    pth_hc_backend_t *b;
    int slot;
} conn_arg_t;

/* One request head (up to the blank line) into buf; false at end or error. Bodies are
 * not expected (the tests send GETs). */
static bool read_head(int fd, char *buf, size_t cap, size_t *have)
{
    for (;;) {
        char *end = memmem(buf, *have, "\r\n\r\n", 4);
        if (end)
            return true;
        if (*have + 1 >= cap)
            return false;
        ssize_t n = read(fd, buf + *have, cap - 1 - *have);
        if (n <= 0)
            return false;
        *have += (size_t)n;
    }
}

static void *serve_conn(void *arg)
{
    conn_arg_t *ca = arg;
    pth_hc_backend_t *b = ca->b;
    int slot = ca->slot;
    free(ca);
    pthread_mutex_lock(&b->mu);
    int fd = b->fds[slot];
    pthread_mutex_unlock(&b->mu);
    char buf[8192];
    size_t have = 0;
    while (!atomic_load(&b->stopping) && read_head(fd, buf, sizeof(buf), &have)) {
        char *end = memmem(buf, have, "\r\n\r\n", 4) + 4;
        bool health = strstr(buf, " /health") && strstr(buf, " /health") < strchr(buf, '\n');
        bool head = strncmp(buf, "HEAD ", 5) == 0;
        bool close_after = strcasestr(buf, "\r\nConnection: close") != NULL &&
                           strcasestr(buf, "\r\nConnection: close") < end;
        char out[256];
        int len;
        if (health) {
            atomic_fetch_add(&b->probes, 1);
            len = snprintf(out, sizeof(out), "HTTP/1.1 %d Health\r\nContent-Length: 0\r\n%s\r\n",
                           atomic_load(&b->health), close_after ? "Connection: close\r\n" : "");
        } else {
            atomic_fetch_add(&b->requests, 1);
            if (strncmp(strchr(buf, ' ') + 1, "/slow", 5) == 0)
                usleep(HC_SLOW_MS * 1000);
            char body[160];
            snprintf(body, sizeof(body), "%s\n", b->name);
            const char *host = strcasestr(buf, "\r\nHost: ");
            if (strncmp(strchr(buf, ' ') + 1, "/host", 5) == 0 && host && host < end)
                snprintf(body, sizeof(body), "%s %.*s\n", b->name,
                         (int)strcspn(host + 8, "\r"), host + 8);
            len = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                           "Content-Type: text/plain\r\n\r\n%s", strlen(body),
                           head ? "" : body);
        }
        if (write(fd, out, (size_t)len) != len || close_after)
            break;
        have -= (size_t)(end - buf);
        memmove(buf, end, have);
    }
    pthread_mutex_lock(&b->mu);
    close(fd);
    b->fds[slot] = -1;
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* A free slot, joining a finished thread to make one (under mu); -1 when all are busy. */
static int free_slot(pth_hc_backend_t *b)
{
    for (int i = 0; i < HC_MAX_CONNS; i++) {
        if (b->used[i] && b->fds[i] < 0) {
            pthread_join(b->threads[i], NULL);
            b->used[i] = false;
        }
        if (!b->used[i])
            return i;
    }
    return -1;
}

static void *accept_loop(void *arg)
{
    pth_hc_backend_t *b = arg;
    while (!atomic_load(&b->stopping)) {
        int fd = accept(b->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&b->mu);
        conn_arg_t *ca = malloc(sizeof(*ca));
        int slot = free_slot(b);
        if (slot < 0 || !ca || atomic_load(&b->stopping)) {
            free(ca);
            close(fd);
        } else {
            *ca = (conn_arg_t){b, slot};
            b->fds[slot] = fd;
            if (pthread_create(&b->threads[slot], NULL, serve_conn, ca) == 0) {
                b->used[slot] = true;
            } else {
                free(ca);
                close(fd);
                b->fds[slot] = -1;
            }
        }
        pthread_mutex_unlock(&b->mu);
    }
    return NULL;
}

pth_hc_backend_t *pth_hc_backend_start(const char *ip, int port, const char *name)
{
    pth_hc_backend_t *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    snprintf(b->name, sizeof(b->name), "%s", name);
    atomic_init(&b->health, 200);
    for (int i = 0; i < HC_MAX_CONNS; i++)
        b->fds[i] = -1;
    pthread_mutex_init(&b->mu, NULL);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t sl = sizeof(sa);
    inet_pton(AF_INET, ip, &sa.sin_addr);
    b->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(b->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(b->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(b->lfd, 128) < 0 ||
        getsockname(b->lfd, (struct sockaddr *)&sa, &sl) < 0 ||
        pthread_create(&b->acceptor, NULL, accept_loop, b) != 0) {
        close(b->lfd);
        free(b);
        return NULL;
    }
    b->port = ntohs(sa.sin_port);
    return b;
}

void pth_hc_backend_stop(pth_hc_backend_t *b)
{
    if (!b)
        return;
    atomic_store(&b->stopping, true);
    shutdown(b->lfd, SHUT_RDWR);
    pthread_join(b->acceptor, NULL);
    close(b->lfd);
    pthread_mutex_lock(&b->mu);
    for (int i = 0; i < HC_MAX_CONNS; i++)
        if (b->used[i] && b->fds[i] >= 0)
            shutdown(b->fds[i], SHUT_RDWR);
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < HC_MAX_CONNS; i++)
        if (b->used[i])
            pthread_join(b->threads[i], NULL);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

int pth_hc_backend_port(const pth_hc_backend_t *b)
{
    return b->port;
}

void pth_hc_backend_set_health(pth_hc_backend_t *b, int status)
{
    atomic_store(&b->health, status);
}

int pth_hc_backend_probes(const pth_hc_backend_t *b)
{
    return atomic_load(&b->probes);
}

int pth_hc_backend_requests(const pth_hc_backend_t *b)
{
    return atomic_load(&b->requests);
}
