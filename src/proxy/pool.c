/* Connections to one backend (unix or TCP), shared by the worker threads of a child (see
 * pool.h). Each idle connection to php-fpm pins one of its children, so max across all
 * portico processes must stay at or below php-fpm's pm.max_children; see the ProxyPass
 * reference. The lock is held for list work only: connects and closes happen outside it, so
 * that the listener's tick never waits behind a connect. */
#include "pool.h"

#include "clock.h"
#include "upstream_tls.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    SSL *ssl;                /* https://: its TLS, NULL on a plain one */
    int64_t since;           /* monotonic ms it became idle */
    uint64_t key;            /* the SNI it was made for (pt_upstream_conn_t.key) */
    int32_t rcvtimeo_ms;     /* pt_upstream_conn_t.rcvtimeo_ms: its socket's mode */
    uint64_t reg;            /* pt_upstream_conn_t.reg: its registration with the MPM */
} idle_conn_t;

/* Closes a connection that is no one's any more. */
static void conn_close(idle_conn_t k)
{
    if (k.ssl)
        pt_utls_free(k.ssl);
    close(k.fd);
}

struct pt_pool {
    pthread_mutex_t mu;
    pthread_cond_t freed;    /* a slot or an idle connection came free */
    const pt_backend_t *b;
    pt_pool_opts_t o;
    int open;                /* idle + borrowed */
    idle_conn_t *idle;       /* stack of o.max slots; oldest at the bottom */
    int nidle;
    atomic_int parked;       /* borrowed by requests parked without a worker (pt_pool_park) */
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
        conn_close(p->idle[i]);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
    free(p->idle);
    free(p);
}

/* Batch of descriptors closed after the lock is let go (sweep, acquire). */
#define POOL_BATCH 64

/* Unlinks at most cap of the connections idle since before now - timeout into out; called
 * with the lock held. Returns how many. */
static int take_expired(pt_pool_t *p, int64_t now, idle_conn_t *out, int cap)
{
    int64_t old = now - p->o.idle_timeout_ms;
    int k = 0;
    while (k < p->nidle && k < cap && p->idle[k].since < old) {
        out[k] = p->idle[k];
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
    idle_conn_t fds[POOL_BATCH];
    int total = 0, k;
    /* A batch per lock hold: the lock stays short however many are idle. */
    do {
        pthread_mutex_lock(&p->mu);
        k = take_expired(p, now_ms, fds, POOL_BATCH);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < k; i++)
            conn_close(fds[i]);
        total += k;
    } while (k == POOL_BATCH);
    return total;
}

/* An idle connection is dead when the backend closed it (or sent something unasked). */
static bool still_alive(idle_conn_t k)
{
    if (k.ssl)
        return pt_utls_alive(k.ssl, k.fd);
    struct pollfd pfd = {.fd = k.fd, .events = POLLIN};
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

/* The newest idle connection made for key, or -1. On a plain pool (every key 0) the top.
 * A TLS one (tls non-NULL) also under the request's server's SSLProxy* terms for the very
 * name: key is only a hash of the name, and servers that proxy to one URL share its pool
 * whatever their terms (verification, a client certificate). */
static int find_key(const pt_pool_t *p, uint64_t key, const pt_pool_tls_t *tls)
{
    for (int i = p->nidle - 1; i >= 0; i--)
        if (p->idle[i].key == key &&
            (!tls || pt_utls_made_for(p->idle[i].ssl, tls->srv, tls->host)))
            return i;
    return -1;
}

/* With the lock held: the newest idle connection made for key (its fd, *got filled; its
 * liveness is the caller's to check, outside the lock), or -1 after counting a slot for a
 * new one (closing an idle one to make room when fresh or none is for this key: it goes to
 * dead), or -2 when none came within wait_ms. */
static int take_locked(pt_pool_t *p, int64_t wait_ms, bool fresh, uint64_t key,
                       const pt_pool_tls_t *tls, idle_conn_t *dead, int *ndead,
                       idle_conn_t *got)
{
    if (!wait_slot(p, wait_ms))
        return -2;
    int i = fresh ? -1 : find_key(p, key, tls);
    if (i >= 0) {
        *got = p->idle[i];
        p->nidle--;
        memmove(p->idle + i, p->idle + i + 1, (size_t)(p->nidle - i) * sizeof(*p->idle));
        return got->fd;
    }
    if (p->open >= p->o.max) {
        dead[(*ndead)++] = p->idle[--p->nidle];
        p->open--;
    }
    p->open++;
    return -1;
}

uint64_t pt_pool_tls_key(const char *host)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, case-folded: names are case-blind */
    for (const unsigned char *s = (const unsigned char *)host; *s; s++)
        h = (h ^ (uint64_t)(*s | 0x20)) * 1099511628211ULL;
    return h | 1; /* never 0, a plain connection's */
}

int pt_pool_acquire(pt_pool_t *p, int64_t wait_ms, bool fresh, pt_upstream_conn_t *c,
                    pt_upstream_fail_t *fail, int *err)
{
    return pt_pool_acquire_tls(p, wait_ms, fresh ? PT_POOL_FRESH : PT_POOL_CHECK, NULL, c,
                               fail, err);
}

int pt_pool_acquire_how(pt_pool_t *p, int64_t wait_ms, pt_pool_how_t how,
                        pt_upstream_conn_t *c, pt_upstream_fail_t *fail, int *err)
{
    return pt_pool_acquire_tls(p, wait_ms, how, NULL, c, fail, err);
}

/* Gives back the slot counted for a connection that could not be made or will not be
 * used. */
static void slot_back(pt_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    p->open--;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

/* A new connection in the slot counted for it: connected and, for https://, on TLS. */
static int new_conn(pt_pool_t *p, pt_pool_tls_t *tls, pt_upstream_conn_t *c,
                    pt_upstream_fail_t *fail, int *err)
{
    int64_t tmo = pt_upstream_connect_timeout(p->b);
    int fd = pt_upstream_connect(p->b, tmo);
    if (fd < 0) {
        slot_back(p);
        *fail = pt_upstream_connect_fail(fd);
        *err = fd == PT_ETIMEOUT ? ETIMEDOUT : -fd;
        return -1;
    }
    SSL *ssl = NULL;
    if (tls && pt_utls_handshake(tls->srv, fd, tls->host, tmo, &ssl, tls->why,
                                 sizeof(tls->why)) != 0) {
        close(fd);
        slot_back(p);
        *fail = PT_UPSTREAM_TLS_HANDSHAKE;
        *err = EPROTO;
        return -1;
    }
    c->fd = fd;
    c->ssl = ssl;
    c->key = tls ? pt_pool_tls_key(tls->host) : 0;
    return 0;
}

/* An idle connection taken from the stack may be used: alive when checked, or, for a plain
 * one, trusted unchecked (PT_POOL_TRUST_RECENT) when it was given back a moment ago. The
 * check is a system call per request; the caller that trusts sends the request again on a
 * fresh connection when the backend had closed this one (the stale retry). A TLS one is
 * always checked (its check also reads a late session ticket). */
static bool usable(pt_pool_how_t how, idle_conn_t k, int64_t now)
{
    if (how == PT_POOL_TRUST_RECENT && !k.ssl && now - k.since < PT_POOL_TRUST_MS)
        return true;
    return still_alive(k);
}

int pt_pool_acquire_tls(pt_pool_t *p, int64_t wait_ms, pt_pool_how_t how, pt_pool_tls_t *tls,
                        pt_upstream_conn_t *c, pt_upstream_fail_t *fail, int *err)
{
    *c = (pt_upstream_conn_t){.fd = -1};
    *err = 0;
    int64_t now = now_of(p);
    uint64_t key = tls ? pt_pool_tls_key(tls->host) : 0;
    for (;;) {
        idle_conn_t dead[POOL_BATCH + 1], got = {.fd = -1};
        pthread_mutex_lock(&p->mu);
        /* The sweep at acquire: a connection idle too long is not handed out, whatever the
         * tick's timing. */
        int ndead = take_expired(p, now, dead, POOL_BATCH);
        int fd = take_locked(p, wait_ms, how == PT_POOL_FRESH, key, tls, dead, &ndead,
                             &got);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < ndead; i++)
            conn_close(dead[i]);
        if (fd == -1)
            return new_conn(p, tls, c, fail, err);
        if (fd == -2) {
            *fail = PT_UPSTREAM_POOL_FULL;
            *err = ETIMEDOUT;
            return -1;
        }
        /* Checked outside the lock: a system call under it would hold up every worker. */
        if (usable(how, got, now)) {
            *c = (pt_upstream_conn_t){.fd = fd, .reused = true, .ssl = got.ssl, .key = got.key,
                                      .rcvtimeo_ms = got.rcvtimeo_ms, .reg = got.reg};
            return 0;
        }
        conn_close(got);
        slot_back(p);
    }
}

void pt_pool_release(pt_pool_t *p, pt_upstream_conn_t *c, bool reusable)
{
    if (c->fd < 0)
        return;
    idle_conn_t k = {c->fd, (SSL *)c->ssl, 0, c->key, c->rcvtimeo_ms, c->reg};
    c->fd = -1;
    c->ssl = NULL;
    c->reg = 0;
    bool keep = reusable && p->o.reuse;
    k.since = keep ? now_of(p) : 0;
    pthread_mutex_lock(&p->mu);
    if (keep && p->nidle < p->o.max)
        p->idle[p->nidle++] = k;
    else {
        p->open--;
        keep = false;
    }
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
    if (!keep)
        conn_close(k);
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

bool pt_pool_park(pt_pool_t *p)
{
    int n = atomic_load_explicit(&p->parked, memory_order_relaxed);
    do {
        if (n + 1 + p->o.workers > p->o.max)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&p->parked, &n, n + 1,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed));
    return true;
}

void pt_pool_unpark(pt_pool_t *p)
{
    atomic_fetch_sub_explicit(&p->parked, 1, memory_order_relaxed);
}
