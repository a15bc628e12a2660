/* The event MPM's child state, shared by event.c (the listener, the workers, start and
 * stop) and event_queue.c (the timeout heap and the ready queue). Private to src/mpm. */
#ifndef PT_EVENT_CHILD_H
#define PT_EVENT_CHILD_H

#include "conn.h"
#include "mpm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define EV_BATCH 256
#define EV_TICK_MS 250        /* timeouts are checked at least this often */
#define EV_TAG_WAKE 0         /* eventfd, level-triggered: wakes every epoll waiter at stop */
#define EV_TAG_SIGNAL 1
#define EV_TAG_KICK 2         /* eventfd, edge-triggered: wakes one worker waiting in epoll */
#define EV_TAG_LISTEN 3       /* + listener index */
#define EV_TAG_MAX 4096       /* tags below this are not connection pointers */
#define EV_STALE_MS 10         /* a queued connection waiting this long wakes another worker */
#define EV_HARVEST 16         /* events a looking worker takes from epoll itself */
#define EV_FD_RESERVE 64      /* descriptors a child keeps for other than connections */
#define EV_LINGER_BUDGET (256 * 1024) /* bytes a lingering connection drains per wake-up */

typedef struct {
    const pt_config_t *cfg;
    const pt_child_t *ch;
    bool own_conns;           /* worker MPM: a worker keeps its connection, keep-alive too */
    bool harvest;             /* event MPM: looking workers take events from epoll */
    int64_t drain_limit_ms;   /* how long in-flight requests get at stop; -1 = no limit */
    uint64_t accepted;        /* for MaxConnectionsPerChild */
    int epfd, sigfd, wakefd, kickfd;
    pt_listener_t *ls;
    size_t nls;

    pthread_t *threads;
    pt_worker_t *workers;
    _Atomic int *active_fd;   /* the socket each worker is serving, -1 when none */
    int nworkers;

    /* Ready queue: connections with something for a worker. Each connection is in at
     * most one place, and connections are bounded by the open-files limit. */
    pthread_mutex_t qlock;
    pthread_mutex_t alock;    /* held while accepting (listener or a harvesting worker) */
    pt_conn_t *qhead, *qtail;
    /* Waking: a worker is "looking" from the moment it is woken (or finishes a
     * connection) until it takes the next one. A push wakes a sleeping worker only when
     * nobody is looking, and then the most recently idle one (LIFO: its cache is warm). */
    pthread_cond_t *conds;    /* one per worker */
    bool *woken;
    int *idle_stack;
    int nidle;
    int looking;
    int serving;              /* workers holding a connection */
    int epoll_waiting;        /* looking workers blocked in epoll_wait */
    bool kick_pending;        /* kickfd written, not yet seen by an epoll waiter */
    bool quit;                /* workers exit when the queue is empty */

    /* Parked connections ordered by deadline (min-heap), shared with workers that park. */
    pthread_mutex_t tlock;
    pt_conn_t **heap;
    size_t hlen, hcap;

    /* Connections the listener expired while a worker may hold an epoll event for them:
     * closed and marked at once, freed once every worker that was inside epoll_wait or
     * claiming at that moment has come out (an epoch per worker: odd while inside). */
    pt_conn_t *graveyard;     /* buried since the last snapshot */
    pt_conn_t *pending;       /* waiting for the workers in snap to move on */
    int nparked[PT_CONN_WRITE + 1]; /* parked connections by state (tlock) */
    atomic_int nconns;        /* connections this child holds */
    int conn_cap;             /* it accepts no more beyond this (open-files limit) */
    bool accepting;           /* listeners in the epoll set (listener thread only) */
    unsigned *snap;
    atomic_uint *hepoch;

    atomic_bool stopping;     /* graceful stop: no new requests on kept connections */
    atomic_int busy;          /* workers serving */
} ev_child_t;

/* event_queue.c. Parked connections by deadline (tlock held). */
void ev_heap_push(ev_child_t *ev, pt_conn_t *c);
void ev_heap_remove(ev_child_t *ev, pt_conn_t *c);
/* The ready queue (qlock held, as for take). */
void ev_queue_push(ev_child_t *ev, pt_conn_t *c);
void ev_wake_if_stale(ev_child_t *ev, bool now);
pt_conn_t *ev_take_locked(ev_child_t *ev);

#endif
