/* Connections to one backend (unix or TCP), shared by the worker threads of a child (see
 * pool.h). Each idle connection to php-fpm pins one of its children, so max across all
 * portico processes must stay at or below php-fpm's pm.max_children; see the ProxyPass
 * reference. The lock is held for list work only: connects and closes happen outside it, so
 * that the listener's tick never waits behind a connect. */
#include "pool.h"

#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    int64_t since;           /* monotonic ms it became idle */
} idle_conn_t;

struct pt_pool {
    pthread_mutex_t mu;
    pthread_cond_t freed;    /* a slot or an idle connection came free */
    const pt_backend_t *b;
    pt_pool_opts_t o;
    int open;                /* idle + borrowed */
    idle_conn_t *idle;       /* stack of o.max slots; oldest at the bottom */
    int nidle;
};

static int64_t now_of(const pt_pool_t *p)
{
    return p->o.now_ms ? p->o.now_ms() : pt_now_ms();
}

pt_pool_t *pt_pool_create(const pt_backend_t *b, const pt_pool_opts_t *o)
{
    pt_pool_t *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->b = b;
    p->o = *o;
    if (p->o.max <= 0)
        p->o.max = PT_POOL_DEFAULT_MAX;
    if (p->o.idle_timeout_ms <= 0)
        p->o.idle_timeout_ms = PT_POOL_IDLE_TIMEOUT_MS;
    p->idle = calloc((size_t)p->o.max, sizeof(*p->idle));
    if (!p->idle) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->freed, &ca);
    pthread_condattr_destroy(&ca);
    return p;
}

void pt_pool_destroy(pt_pool_t *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nidle; i++)
        close(p->idle[i].fd);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
    free(p->idle);
    free(p);
}

/* Batch of descriptors closed after the lock is let go (sweep, acquire). */
#define POOL_BATCH 64

/* Unlinks at most cap of the connections idle since before now - timeout into out; called
 * with the lock held. Returns how many. */
static int take_expired(pt_pool_t *p, int64_t now, int *out, int cap)
{
    int64_t old = now - p->o.idle_timeout_ms;
    int k = 0;
    while (k < p->nidle && k < cap && p->idle[k].since < old) {
        out[k] = p->idle[k].fd;
        k++;
    }
    if (k) {
        memmove(p->idle, p->idle + k, (size_t)(p->nidle - k) * sizeof(*p->idle));
        p->nidle -= k;
        p->open -= k;
        pthread_cond_broadcast(&p->freed);
    }
    return k;
}

int pt_pool_sweep(pt_pool_t *p, int64_t now_ms)
{
    int fds[POOL_BATCH];
    int total = 0, k;
    /* A batch per lock hold: the lock stays short however many are idle. */
    do {
        pthread_mutex_lock(&p->mu);
        k = take_expired(p, now_ms, fds, POOL_BATCH);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < k; i++)
            close(fds[i]);
        total += k;
    } while (k == POOL_BATCH);
    return total;
}

/* An idle connection is dead when the backend closed it (or sent something unasked). */
static bool still_alive(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, 0) == 0;
}

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

/* Waits for an idle connection or a free slot until wait_ms pass; false when none came.
 * Called with the lock held. */
static bool wait_slot(pt_pool_t *p, int64_t wait_ms)
{
    if (p->nidle > 0 || p->open < p->o.max)
        return true; /* the common case: no deadline (no clock read) needed */
    struct timespec ts = deadline_in(wait_ms);
    while (p->nidle == 0 && p->open >= p->o.max) {
        if (pthread_cond_timedwait(&p->freed, &p->mu, &ts) == ETIMEDOUT)
            return p->nidle > 0 || p->open < p->o.max;
    }
    return true;
}

/* With the lock held: the newest idle connection (its fd, and in *since when it became
 * idle; its liveness is the caller's to check, outside the lock), or -1 after counting a slot
 * for a new one (closing an idle one to make room when fresh: it goes to *dead), or -2 when
 * none came within wait_ms. */
static int take_locked(pt_pool_t *p, int64_t wait_ms, bool fresh, int64_t *since, int *dead,
                       int *ndead)
{
    if (!wait_slot(p, wait_ms))
        return -2;
    if (p->nidle > 0 && !fresh) {
        p->nidle--;
        *since = p->idle[p->nidle].since;
        return p->idle[p->nidle].fd;
    }
    if (p->open >= p->o.max) {
        /* fresh: make room by closing an idle one */
        dead[(*ndead)++] = p->idle[--p->nidle].fd;
        p->open--;
    }
    p->open++;
    return -1;
}

/* Gives back the slot of a connection that was taken and will not be used. */
static void drop_slot(pt_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    p->open--;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

/* An idle connection taken from the stack may be used: alive when checked, or trusted
 * unchecked (PT_POOL_TRUST_RECENT) when it was given back a moment ago. The check is a
 * system call per request; the caller that trusts can send again on a fresh connection
 * when the backend had closed this one (the stale retry). */
static bool usable(pt_pool_how_t how, int fd, int64_t since, int64_t now)
{
    if (how == PT_POOL_TRUST_RECENT && now - since < PT_POOL_TRUST_MS)
        return true;
    return still_alive(fd);
}

int pt_pool_acquire(pt_pool_t *p, int64_t wait_ms, bool fresh, pt_upstream_conn_t *c,
                    pt_upstream_fail_t *fail, int *err)
{
    return pt_pool_acquire_how(p, wait_ms, fresh ? PT_POOL_FRESH : PT_POOL_CHECK, c, fail,
                               err);
}

/* A new connection in the slot take_locked counted. */
static int acquire_new(pt_pool_t *p, pt_upstream_conn_t *c, pt_upstream_fail_t *fail,
                       int *err)
{
    int fd = pt_upstream_connect(p->b, pt_upstream_connect_timeout(p->b));
    if (fd >= 0) {
        c->fd = fd;
        return 0;
    }
    drop_slot(p);
    *fail = pt_upstream_connect_fail(fd);
    *err = fd == PT_ETIMEOUT ? ETIMEDOUT : -fd;
    return -1;
}

int pt_pool_acquire_how(pt_pool_t *p, int64_t wait_ms, pt_pool_how_t how,
                        pt_upstream_conn_t *c, pt_upstream_fail_t *fail, int *err)
{
    *c = (pt_upstream_conn_t){.fd = -1};
    *err = 0;
    int64_t now = now_of(p);
    int dead[POOL_BATCH + 1];
    for (;;) {
        int64_t since = 0;
        pthread_mutex_lock(&p->mu);
        /* The sweep at acquire: a connection idle too long is not handed out, whatever the
         * tick's timing. */
        int ndead = take_expired(p, now, dead, POOL_BATCH);
        int fd = take_locked(p, wait_ms, how == PT_POOL_FRESH, &since, dead, &ndead);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < ndead; i++)
            close(dead[i]);
        if (fd == -1)
            return acquire_new(p, c, fail, err);
        if (fd == -2) {
            *fail = PT_UPSTREAM_POOL_FULL;
            *err = ETIMEDOUT;
            return -1;
        }
        /* Checked outside the lock: a system call under it would hold up every worker. */
        if (usable(how, fd, since, now)) {
            *c = (pt_upstream_conn_t){.fd = fd, .reused = true};
            return 0;
        }
        close(fd);
        drop_slot(p);
    }
}

void pt_pool_release(pt_pool_t *p, pt_upstream_conn_t *c, bool reusable)
{
    if (c->fd < 0)
        return;
    int fd = c->fd;
    c->fd = -1;
    bool keep = reusable && p->o.reuse;
    int64_t now = keep ? now_of(p) : 0;
    pthread_mutex_lock(&p->mu);
    if (keep && p->nidle < p->o.max)
        p->idle[p->nidle++] = (idle_conn_t){fd, now};
    else {
        p->open--;
        keep = false;
    }
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
    if (!keep)
        close(fd);
}

int pt_pool_open_count(pt_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    int n = p->open;
    pthread_mutex_unlock(&p->mu);
    return n;
}

int pt_pool_idle_count(pt_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    int n = p->nidle;
    pthread_mutex_unlock(&p->mu);
    return n;
}
