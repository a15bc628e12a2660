/* Connections to one FastCGI backend (unix or TCP), shared by the worker threads of a
 * process: at most max open at once, idle ones reused LIFO and checked for a hang-up before
 * reuse. Each idle connection to php-fpm pins one of its children (a child serves one
 * connection until it closes), so max across all portico processes must stay at or below
 * php-fpm's pm.max_children; see the ProxyPass reference. */
#include "fcgi/fcgi.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PT_FCGI_CONNECT_TIMEOUT_MS 5000 /* connectiontimeout= default */
/* An idle connection pins a php-fpm child, and other processes' pools cannot see it: idle
 * ones are closed after this, so a starved backend recovers within about a second. */
#define PT_FCGI_IDLE_TTL_MS 1000
#define PT_FCGI_SWEEP_MS 250

typedef struct {
    int fd;
    int64_t since;           /* monotonic ms it became idle */
} idle_conn_t;

struct pt_fcgi_pool {
    pthread_mutex_t mu;
    pthread_cond_t freed;
    const pt_backend_t *b;
    int max;
    int open;                /* idle + borrowed */
    idle_conn_t *idle;       /* stack, max slots; oldest at the bottom */
    int nidle;
    pthread_t sweeper;
    pthread_cond_t stop_cv;
    bool stop;
};

static struct timespec deadline_in(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

/* Closes connections idle for longer than the TTL (the oldest are at the bottom). */
static void *sweep(void *arg)
{
    pt_fcgi_pool_t *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        struct timespec ts = deadline_in(PT_FCGI_SWEEP_MS);
        pthread_cond_timedwait(&p->stop_cv, &p->mu, &ts);
        int64_t old = pt_now_ms() - PT_FCGI_IDLE_TTL_MS;
        int k = 0;
        while (k < p->nidle && p->idle[k].since < old)
            k++;
        for (int i = 0; i < k; i++)
            close(p->idle[i].fd);
        if (k) {
            memmove(p->idle, p->idle + k, (size_t)(p->nidle - k) * sizeof(*p->idle));
            p->nidle -= k;
            p->open -= k;
            pthread_cond_broadcast(&p->freed);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Serializes pool creation: the pointer lives in the (otherwise read-only) config. */
static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;

pt_fcgi_pool_t *pt_fcgi_pool_get(pt_backend_t *b, int max_default)
{
    pt_fcgi_pool_t *p = __atomic_load_n((pt_fcgi_pool_t **)&b->pool, __ATOMIC_ACQUIRE);
    if (p)
        return p;
    pthread_mutex_lock(&create_mu);
    p = b->pool;
    if (!p) {
        p = calloc(1, sizeof(*p));
        if (!p)
            abort();
        pthread_mutex_init(&p->mu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&p->freed, &ca);
        pthread_cond_init(&p->stop_cv, &ca);
        pthread_condattr_destroy(&ca);
        p->b = b;
        p->max = b->max > 0 ? b->max : (max_default > 0 ? max_default : 25);
        p->idle = calloc((size_t)p->max, sizeof(*p->idle));
        if (!p->idle || pthread_create(&p->sweeper, NULL, sweep, p) != 0)
            abort();
        __atomic_store_n((pt_fcgi_pool_t **)&b->pool, p, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&create_mu);
    return p;
}

/* An idle connection is dead when the backend closed it (or sent something unasked). */
static bool still_alive(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, 0) == 0;
}

static int wait_connected(int fd, int64_t timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    int rc;
    do {
        rc = poll(&pfd, 1, (int)PT_MIN(timeout_ms, (int64_t)INT32_MAX));
    } while (rc < 0 && errno == EINTR);
    if (rc == 0)
        return PT_ETIMEOUT;
    int err = 0;
    socklen_t len = sizeof(err);
    if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return -errno;
    return err ? -err : 0;
}

static int connect_addr(const struct sockaddr *sa, socklen_t len, int64_t timeout_ms)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (sa->sa_family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    int rc = connect(fd, sa, len) == 0 ? 0 : -errno;
    if (rc == -EINPROGRESS || rc == -EAGAIN)
        rc = wait_connected(fd, timeout_ms);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/* A new connection: the fd, or a negative error. */
static int open_conn(const pt_backend_t *b)
{
    int64_t tmo = b->connect_timeout_ms > 0 ? b->connect_timeout_ms : PT_FCGI_CONNECT_TIMEOUT_MS;
    if (b->unix_path) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (strlen(b->unix_path) >= sizeof(sun.sun_path))
            return -ENAMETOOLONG;
        strcpy(sun.sun_path, b->unix_path);
        return connect_addr((struct sockaddr *)&sun, sizeof(sun), tmo);
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", b->port);
    if (getaddrinfo(b->host, port, &hints, &res) != 0 || !res)
        return -EHOSTUNREACH;
    int fd = -ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = connect_addr(ai->ai_addr, ai->ai_addrlen, tmo);
        if (fd >= 0 || fd == PT_ETIMEOUT)
            break;
    }
    freeaddrinfo(res);
    return fd;
}

/* Waits for a free slot until deadline; false on timeout. Called with the lock held. */
static bool wait_slot(pt_fcgi_pool_t *p, int64_t wait_ms)
{
    struct timespec ts = deadline_in(wait_ms);
    while (p->nidle == 0 && p->open >= p->max) {
        if (pthread_cond_timedwait(&p->freed, &p->mu, &ts) == ETIMEDOUT)
            return p->nidle > 0 || p->open < p->max;
    }
    return true;
}

int pt_fcgi_pool_acquire(pt_fcgi_pool_t *p, int64_t wait_ms, bool fresh, pt_fcgi_conn_t *c,
                         int *err)
{
    c->fd = -1;
    c->reused = false;
    *err = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (!wait_slot(p, wait_ms)) {
            pthread_mutex_unlock(&p->mu);
            *err = ETIMEDOUT;
            return 503;
        }
        if (p->nidle > 0 && !fresh) {
            int fd = p->idle[--p->nidle].fd;
            if (still_alive(fd)) {
                pthread_mutex_unlock(&p->mu);
                c->fd = fd;
                c->reused = true;
                return 0;
            }
            close(fd);
            p->open--;
            continue;
        }
        if (p->open >= p->max) {
            /* fresh: make room by closing an idle one */
            close(p->idle[--p->nidle].fd);
            p->open--;
        }
        break;
    }
    p->open++;
    pthread_mutex_unlock(&p->mu);
    int fd = open_conn(p->b);
    if (fd >= 0) {
        c->fd = fd;
        return 0;
    }
    pthread_mutex_lock(&p->mu);
    p->open--;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
    *err = fd == PT_ETIMEOUT ? ETIMEDOUT : -fd;
    return fd == PT_ETIMEOUT ? 504 : 503;
}

void pt_fcgi_pool_release(pt_fcgi_pool_t *p, pt_fcgi_conn_t *c, bool reusable)
{
    if (c->fd < 0)
        return;
    pthread_mutex_lock(&p->mu);
    if (reusable && p->b->enablereuse && p->nidle < p->max) {
        p->idle[p->nidle++] = (idle_conn_t){c->fd, pt_now_ms()};
    } else {
        close(c->fd);
        p->open--;
    }
    c->fd = -1;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

void pt_fcgi_pool_destroy(pt_fcgi_pool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->stop_cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->sweeper, NULL);
    for (int i = 0; i < p->nidle; i++)
        close(p->idle[i].fd);
    pthread_cond_destroy(&p->stop_cv);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
    free(p->idle);
    free(p);
}

int pt_fcgi_pool_open_count(pt_fcgi_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    int n = p->open;
    pthread_mutex_unlock(&p->mu);
    return n;
}
