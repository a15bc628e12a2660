/* The event MPM's child state, shared by event.c (the workers, the listener, start and
 * stop), event_park.c (what the listener watches: parking, readiness, expiry) and
 * event_queue.c (the timeout heap and the ready queue). Private to src/mpm. Functions are
 * named by the thread that may call them: _listener (the listener thread only), _worker
 * (a worker thread), none (either, under the locks they take). */
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
#define EV_HOOK_TICK_MS 1000  /* the tick_listener hook runs about this often */
#define EV_TAG_WAKE 0         /* eventfd, level-triggered: wakes every epoll waiter at stop */
#define EV_TAG_SIGNAL 1
#define EV_TAG_KICK 2         /* eventfd, edge-triggered: wakes one worker waiting in epoll */
#define EV_TAG_LISTEN 3       /* + listener index */
#define EV_TAG_POKE 4095      /* eventfd in the listener's own set: a worker left epoll */
#define EV_TAG_MAX 4096       /* tags below this are not connection pointers */
/* A borrowed fd2's registration (PT_PARK_UPSTREAM) carries a token, not a pointer: this
 * bit, the generation of the wait (31 bits) and the descriptor (32 bits). */
#define EV_TOKEN_BIT (1ULL << 63)
#define EV_STALE_MS 10         /* a queued connection waiting this long wakes another worker */
#define EV_HARVEST 16         /* events a looking worker takes from epoll itself */
#define EV_FD_RESERVE 64      /* descriptors a child keeps for other than connections */
#define EV_LINGER_BUDGET (256 * 1024) /* bytes a lingering connection drains per wake-up */

typedef struct {
    const pt_config_t *cfg;
    const pt_child_t *ch;
    const pt_conn_proto_t *proto; /* of fresh connections */
    bool own_conns;           /* worker MPM: a worker keeps its connection, keep-alive too */
    bool harvest;             /* event MPM: looking workers take events from epoll */
    int64_t drain_limit_ms;   /* how long in-flight requests get at stop; -1 = no limit */
    uint64_t accepted;        /* for MaxConnectionsPerChild */
    /* epfd: parked connections, wake and kick; what harvesting workers wait on. lepfd: what
     * the listener waits on (signals, listening sockets, poke); a set of its own when
     * workers harvest, so that an event a worker will take does not also wake the
     * listener (it looks at epfd only while no worker waits there); else epfd itself. */
    int epfd, lepfd, sigfd, wakefd, kickfd, pokefd;
    pt_listener_t *ls;
    size_t nls;

    pthread_t *threads;
    pt_worker_t *workers;
    _Atomic int *active_fd;   /* the socket each worker is serving, -1 when none */
    int nworkers;

    /* Ready queue: tasks for a worker (connections with something to serve). Each is in at
     * most one place, and connections are bounded by the open-files limit. */
    pthread_mutex_t qlock;
    pt_task_t *qhead, *qtail;
    atomic_bool queued;       /* qhead != NULL, for pt_mpm_block_begin's look without qlock
                                 (written under qlock) */
    /* Waking: a worker is "looking" from the moment it is woken (or finishes a
     * connection) until it takes the next one. A push wakes a sleeping worker only when
     * nobody is looking, and then the most recently idle one (LIFO: its cache is warm). */
    pthread_cond_t *conds;    /* one per worker */
    bool *woken;
    int *idle_stack;
    int nidle;
    atomic_int looking;       /* (written under qlock; atomic for pt_mpm_block_begin) */
    int serving;              /* workers holding a connection */
    atomic_int blocked;       /* of those, waiting for a backend (pt_mpm_block_begin): they
                                 hold no CPU, so they do not count as awake. Changed without
                                 qlock (twice per proxied request): see pt_mpm_block_begin */
    int epoll_waiting;        /* looking workers blocked in epoll_wait */
    bool kick_pending;        /* kickfd written, not yet seen by an epoll waiter */
    bool listener_dozing;     /* listener asleep on its own set while a worker waits in
                                 epoll: the last waiter to leave pokes it (pokefd) */
    int ncpu;                 /* CPUs this process may run on: awake workers worth having */
    bool quit;                /* workers exit when the queue is empty */

    /* Parked things ordered by deadline (min-heap), shared with workers that park. */
    pthread_mutex_t tlock;
    pt_park_t **heap;
    size_t hlen, hcap;

    /* Parked things the listener expired while a worker may hold an epoll event for them:
     * closed and marked at once, freed once every worker that was inside epoll_wait or
     * claiming at that moment has come out (an epoch per worker: odd while inside). */
    pt_park_t *graveyard;     /* buried since the last snapshot */
    pt_park_t *pending;       /* waiting for the workers in snap to move on */
    /* Borrowed second descriptors by number (tlock): the park waiting on each now (NULL
     * when none) and the generation its registration's token carries. A pooled backend
     * socket stays registered between borrowers, so its next event may come for a wait
     * that is over: the token finds no park then, where a pointer would find freed memory. */
    struct ev_fd2 {
        pt_park_t *p;
        uint32_t gen;
        uint32_t pending; /* a kept registration's events while no park waited on it */
    } *fd2s;
    size_t nfd2s;
    int nparked[PT_PARK_NSTATES]; /* parked things by state (tlock) */
    atomic_int nconns;        /* connections this child holds */
    int conn_cap;             /* it accepts no more beyond this (open-files limit) */
    bool accepting;           /* listeners in the epoll set (listener thread only) */
    unsigned *snap;
    atomic_uint *hepoch;
    atomic_int in_epoll;      /* workers inside epoll_wait itself (a stop's wake: drain) */
    atomic_uint_fast64_t looks; /* waits on the sets of parked things begun (ev_look) */

    atomic_bool stopping;     /* graceful stop: no new requests on kept connections */
} ev_child_t;

/* event_queue.c. Parked things by deadline (tlock held). */
void ev_heap_push(ev_child_t *ev, pt_park_t *p);
void ev_heap_remove(ev_child_t *ev, pt_park_t *p);
/* The ready queue: push takes qlock; take wants it held. */
void ev_queue_push(ev_child_t *ev, pt_task_t *t);
/* What a harvesting worker took beyond the one it serves (qlock held): queued for it to
 * come back to, waking others only while fewer workers are awake than CPUs. */
void ev_queue_push_harvest_locked(ev_child_t *ev, pt_task_t **t, int n, int *wake, int *nwake);
void ev_wake_if_stale(ev_child_t *ev, bool now);
/* Wakes a worker (or kicks the epoll waiter) for what is queued, as a push does. */
void ev_queue_notify(ev_child_t *ev);
/* Marks the calling thread as one of ev's workers (for pt_mpm_block_begin). */
void ev_worker_thread_init(ev_child_t *ev);
pt_task_t *ev_take_locked(ev_child_t *ev);

/* event_park.c. */
/* Watches p (its owner set ops, fd, events, deadline_ms, state): 0, or -errno when epoll
 * refused it (the caller still owns it). */
int ev_park(ev_child_t *ev, pt_park_t *p);
/* A connection waits for its client in state until deadline (closed if it cannot be
 * parked; queued for a worker at once when its transport holds bytes already). */
void ev_park_conn(ev_child_t *ev, pt_conn_t *c, pt_park_state_t state, int64_t deadline);
void ev_conn_close(ev_child_t *ev, pt_conn_t *c);
/* Lingering close: stop sending, then drain what the client still sends for a moment. */
void ev_start_linger(ev_child_t *ev, pt_conn_t *c);
/* An epoll event for a parked thing (listener or a harvesting worker), by its tag (a
 * pointer, or a borrowed fd2's token): claims it and runs its ready op. Returns a task for
 * a worker, or NULL. look: the wait's number (ev_look), now_ns: pt_mono_ns read after it
 * returned (0: not read); they make the park's ready_ns. */
/* A number for a wait on epoll that is about to begin (ev_ready's look). */
static inline uint64_t ev_look(ev_child_t *ev)
{
    return atomic_fetch_add(&ev->looks, 1) + 1;
}
pt_task_t *ev_ready(ev_child_t *ev, uint64_t tag, uint32_t bits, uint64_t look, int64_t now_ns);
/* A stop: what is parked in flight (PT_PARK_TUNNEL) is made ready once, so that its owner
 * learns of the stop (pt_mpm_stopping). */
void ev_wake_busy_listener(ev_child_t *ev);
/* Expires what is due (all_idle: everything but response tails; force: those too). */
void ev_expire_listener(ev_child_t *ev, int64_t now, bool all_idle, bool force);
void ev_free_graveyard_listener(ev_child_t *ev, bool force);
/* How long the listener may sleep in epoll_wait. */
int ev_next_timeout_listener(ev_child_t *ev, int64_t now);
/* The task of a connection (event.c): serve it on a worker, then hand it on. */
void ev_serve_conn_worker(pt_task_t *t, pt_worker_t *w);

#endif
