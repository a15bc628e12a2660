/* The two units the MPM schedules, defined below it so that what it schedules can embed
 * them: a task is something a worker serves (a connection now; an HTTP/2 stream or a
 * tunnel later), a park is something the listener watches for its owner (one descriptor,
 * the events it waits for, a deadline, what server-status counts it as, and what to do
 * when it is ready or expired). The MPM runs them (mpm.h) and knows no more about them
 * than this: a new kind of parked thing is a new pt_park_ops_t, not a case in event.c. */
#ifndef PT_TASK_H
#define PT_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pt_worker;

/* On the ready queue (owned by the queue while there, by the worker that took it after). */
typedef struct pt_task {
    /* Runs on a worker thread: serve what is there, then hand the owner on (park it again,
     * close it, free it). */
    void (*serve_worker)(struct pt_task *t, struct pt_worker *w);
    struct pt_task *next;      /* queue link (the MPM's) */
    int64_t queued_ms;         /* when it entered the ready queue (the MPM's) */
} pt_task_t;

/* What server-status counts a parked thing as (the scoreboard's per-child counters). */
typedef enum {
    PT_PARK_READ,              /* waiting for (the rest of) a request head */
    PT_PARK_KEEPALIVE,         /* idle between requests */
    PT_PARK_LINGER,            /* shut down for writing, draining what the peer sends */
    PT_PARK_WRITE,             /* sending the rest of a response; a stop waits for it */
    PT_PARK_HANDSHAKE,         /* a TLS handshake waiting for the peer */
    PT_PARK_TUNNEL,            /* an upgraded connection (WebSocket) idle both ways, watched
                                  on two descriptors; a stop waits for it as for a response */
    PT_PARK_UPSTREAM,          /* a request sent to its backend, waiting for the answer on
                                  fd2 alone (the backend's socket); a stop waits for it */
    PT_PARK_NSTATES,
} pt_park_state_t;

struct pt_park;

/* What a parked thing does when its descriptor is ready or its deadline passes. mpm is
 * the MPM's handle (w->mpm), for pt_mpm_park and pt_mpm_queue. */
typedef struct pt_park_ops {
    /* Ready (claimed: it is out of the heap, its events no longer make it ready, and this
     * thread owns it). On the listener, a worker that harvested the event, or the thread that parked it
     * (when the event came while it was parking); must not block. Returns a task for a
     * worker, or NULL when it was handled here (parked again, or closed). */
    struct pt_task *(*ready)(struct pt_park *p, void *mpm);
    /* The deadline passed, or the child stops (stopping: give up quietly). On the
     * listener, with the MPM's park lock held: close the descriptor now (a worker may still
     * hold an event for it, so memory is freed later, by destroy); must not block and must
     * not park or queue anything. */
    void (*expire_listener)(struct pt_park *p, void *mpm, bool stopping);
    /* The deadline of something in flight passed (PT_PARK_UPSTREAM) while the child runs:
     * instead of expire_listener, its owner learns of it on a worker. On the listener,
     * without the lock, once the MPM took it out of the heap and set timed_out (it owns it
     * now, as after its event); returns the task to queue. NULL op: expire_listener. */
    struct pt_task *(*due)(struct pt_park *p, void *mpm);
    /* Frees it, once no thread can hold an event for it. */
    void (*destroy)(struct pt_park *p);
} pt_park_ops_t;

/* Embedded in its owner. The owner sets ops, fd, events, deadline_ms and state before
 * parking (and fd2, events2 for a second descriptor); the rest is the MPM's.
 *
 * Two descriptors (a tunnel: the client's and the backend's): both are armed EPOLLONESHOT
 * with the same park behind them, and the first event claims it (ready runs once); an event
 * of the other descriptor that comes while the park is claimed is dropped, and one taken
 * before the claim but acted on after a re-park only wakes the owner for nothing (its
 * ready op must tolerate that). Re-parking re-arms both (EPOLL_CTL_MOD reports what is
 * ready already), so no readiness is lost. Because an event of fd2 can be in a worker's
 * hands at any time, such a park is never freed at once: the MPM frees it (destroy) once
 * no thread can hold one, as it does for what the listener expires: a connection's when it
 * closes (the MPM's ev_conn_close); another owner's by expiry (it parks with a deadline
 * that has passed). fd2 stays the owner's descriptor: the MPM takes it out of its epoll set
 * (and shuts it on expiry) but the owner's destroy closes it, so its number cannot be
 * reused while the MPM still names it. Ownership: one thread at a time runs the owner, the
 * one whose event claimed the park under the MPM's lock (or the parker, when an event came
 * while it armed), from the claim until it parks again or closes.
 *
 * A borrowed fd2 (PT_PARK_UPSTREAM: a pooled backend connection, lent for one wait): its
 * registration stays with the socket between borrowers, so the owner sets in_epoll2 true
 * (arming tries EPOLL_CTL_MOD first, ADD when the socket has none yet), and the
 * registration carries a token for this wait rather than the park's address (an event that
 * comes after the wait is over finds nothing: event_park.c). After the claim the owner sets
 * fd2 -1, events2 0 and in_epoll2 false before the descriptor goes back, so that the park
 * no longer names it and a later close or expiry of the owner leaves it alone. A stale event
 * of the owner's own socket may still claim such a park: its owner finds nothing to read
 * and parks again. */
typedef struct pt_park {
    const pt_park_ops_t *ops;
    int fd;
    uint32_t events;           /* EPOLLIN (with EPOLLRDHUP) or EPOLLOUT */
    int fd2;                   /* a second descriptor, watched while events2 is not 0 */
    uint32_t events2;          /* (0 for either descriptor: not watched this time) */
    bool in_epoll2;            /* fd2 is registered with the listener's epoll set */
    bool used2;                /* fd2 was ever armed: its events may be in flight */
    int64_t deadline_ms;
    pt_park_state_t state;
    long heap_idx;             /* -1 when not in the timeout heap */
    bool in_epoll;             /* the fd is registered with the listener's epoll set */
    bool expired;              /* closed by the listener; memory not yet freed */
    bool arming;               /* in the heap, epoll_ctl not yet done (see ev_park) */
    bool fired, due;           /* its event, or its deadline, came while arming */
    bool stop_told;            /* made ready once because the child stops (PT_PARK_TUNNEL) */
    bool skip_fd;              /* the owner's: fd is not watched this time and is left as it
                                  is (disarmed: its last event brought the owner here), with
                                  no epoll_ctl for it; only fd2 is armed */
    bool timed_out;            /* the MPM's: claimed by its deadline (the due op), not by an
                                  event; cleared when it parks again */
    uint64_t token2;           /* the MPM's: what a borrowed fd2's registration carries */
    uint64_t *reg2;            /* the owner's, for a borrowed fd2: where its holder keeps the
                                  socket's registration between borrowers (0: none yet; the
                                  MPM's to write). NULL: armed again at each wait */
    /* A connection's own socket (et, set by its owner) is registered once, edge-triggered
     * for reading (and writing, once it waited for that), for as long as it lives (the event MPM, event_park.c):
     * parking it again to wait for the next request costs no system call. Its events that
     * come while it is not parked for them are kept (pending) and looked at when it parks. */
    bool et;                   /* the owner's: fd may be registered so */
    bool et_reg;               /* the MPM's: it is, with token as its registration's data */
    bool drained;              /* the owner's transport's: a read of fd since the last claim
                                  met an empty socket (EAGAIN, or fewer bytes than asked),
                                  so whatever came after raised an event of its own */
    uint32_t pending;          /* the MPM's: fd's events that came while not parked for them */
    /* When the bytes that made it ready were surely here (the event MPM's, for walk.h):
     * pt_mono_ns read after the epoll_wait that found fd readable and claimed this park
     * waiting for input, when it was parked before that wait began (so nobody read those
     * bytes since); else 0. The owner takes it (and clears it) when it reads next. */
    int64_t ready_ns;
    uint64_t looked;           /* the MPM's: ev->looks when it parked last */
    uint64_t token;            /* the MPM's: what fd's registration carries when et_reg */
    struct pt_park *next;      /* graveyard link; or the arming thread's list of fired ones */
} pt_park_t;

#define PT_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
