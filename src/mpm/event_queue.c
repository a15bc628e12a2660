/* The event MPM's timeout heap (parked things ordered by deadline) and ready queue
 * (tasks for a worker, and the rule that decides which worker to wake). */
#include "event_child.h"
#include "log.h"

#include <stdlib.h>

/* ---- Timeout heap (tlock held) ----------------------------------------------------- */

static void heap_swap(ev_child_t *ev, size_t a, size_t b)
{
    pt_park_t *t = ev->heap[a];
    ev->heap[a] = ev->heap[b];
    ev->heap[b] = t;
    ev->heap[a]->heap_idx = (long)a;
    ev->heap[b]->heap_idx = (long)b;
}

static void heap_up(ev_child_t *ev, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (ev->heap[p]->deadline_ms <= ev->heap[i]->deadline_ms)
            break;
        heap_swap(ev, i, p);
        i = p;
    }
}

static void heap_down(ev_child_t *ev, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < ev->hlen && ev->heap[l]->deadline_ms < ev->heap[m]->deadline_ms)
            m = l;
        if (r < ev->hlen && ev->heap[r]->deadline_ms < ev->heap[m]->deadline_ms)
            m = r;
        if (m == i)
            return;
        heap_swap(ev, i, m);
        i = m;
    }
}

void ev_heap_push(ev_child_t *ev, pt_park_t *c)
{
    if (ev->hlen == ev->hcap) {
        size_t ncap = ev->hcap ? ev->hcap * 2 : 1024;
        pt_park_t **nh = realloc(ev->heap, ncap * sizeof(*nh));
        if (!nh) {
            pt_log_error(PT_LOG_CRIT, NULL, "out of memory parking a connection");
            abort();
        }
        ev->heap = nh;
        ev->hcap = ncap;
    }
    c->heap_idx = (long)ev->hlen;
    ev->heap[ev->hlen++] = c;
    ev->nparked[c->state]++;
    heap_up(ev, ev->hlen - 1);
}

void ev_heap_remove(ev_child_t *ev, pt_park_t *c)
{
    if (c->heap_idx < 0)
        return;
    ev->nparked[c->state]--;
    size_t i = (size_t)c->heap_idx;
    ev->hlen--;
    if (i != ev->hlen) {
        ev->heap[i] = ev->heap[ev->hlen];
        ev->heap[i]->heap_idx = (long)i;
        heap_down(ev, i);
        heap_up(ev, i);
    }
    c->heap_idx = -1;
}

/* ---- Ready queue (qlock held where noted) ---------------------------------------- */

/* Whether wake_one_locked would wake a worker. */
static bool can_wake_locked(const ev_child_t *ev, bool stale)
{
    /* A worker waiting in epoll does not see the queue: it does not count as looking. */
    return ev->looking - ev->epoll_waiting <= 0 && ev->nidle > 0 &&
           (stale || ev->serving - ev->blocked <= 0);
}

/* Wakes the most recently idle worker when nobody is looking, and (unless the queue is
 * stale) nobody is serving either: a busy worker comes back to the queue soon, and on a
 * loaded core every extra runnable thread adds preemption to the latency tail. */
static int wake_one_locked(ev_child_t *ev, bool stale)
{
    if (!can_wake_locked(ev, stale))
        return -1;
    int id = ev->idle_stack[--ev->nidle];
    ev->woken[id] = true;
    ev->looking++;
    return id;
}

/* With qlock held (released here): a worker woken, or the epoll waiter kicked, for what is
 * queued. */
static void notify_unlock(ev_child_t *ev)
{
    int id = ev->qhead ? wake_one_locked(ev, false) : -1;
    /* Nobody sees the queue but a worker waiting in epoll: kick it out of epoll_wait. */
    bool kick = ev->qhead && id < 0 && ev->looking == ev->epoll_waiting &&
                ev->epoll_waiting > 0 && !ev->kick_pending;
    if (kick)
        ev->kick_pending = true;
    pthread_mutex_unlock(&ev->qlock);
    if (id >= 0)
        pthread_cond_signal(&ev->conds[id]);
    if (kick) {
        uint64_t one = 1;
        (void)!write(ev->kickfd, &one, sizeof(one));
    }
}

void ev_queue_push(ev_child_t *ev, pt_task_t *c)
{
    c->next = NULL;
    c->queued_ms = pt_now_ms();
    pthread_mutex_lock(&ev->qlock);
    if (ev->qtail)
        ev->qtail->next = c;
    else
        ev->qhead = c;
    ev->qtail = c;
    atomic_store(&ev->queued, true); /* before notify reads blocked: pt_mpm_block_begin */
    notify_unlock(ev);
}

void ev_queue_notify(ev_child_t *ev)
{
    pthread_mutex_lock(&ev->qlock);
    notify_unlock(ev);
}

void ev_queue_push_harvest_locked(ev_child_t *ev, pt_task_t **t, int n, int *wake, int *nwake)
{
    int64_t now = pt_now_ms();
    for (int i = 0; i < n; i++) {
        t[i]->next = NULL;
        t[i]->queued_ms = now;
        if (ev->qtail)
            ev->qtail->next = t[i];
        else
            ev->qhead = t[i];
        ev->qtail = t[i];
    }
    atomic_store(&ev->queued, n > 0 || ev->qhead); /* before blocked is read below */
    /* On one core a second runnable worker cannot serve in parallel: it only adds a switch
     * and preempts the harvester (0.3 context switches per request at 64 keep-alive
     * clients). A task that waits past EV_STALE_MS behind a slow handler still gets a
     * worker (ev_wake_if_stale). */
    int awake = ev->looking - ev->epoll_waiting + ev->serving - ev->blocked;
    *nwake = 0;
    while (*nwake < n && awake + *nwake < ev->ncpu && ev->nidle > 0) {
        int id = ev->idle_stack[--ev->nidle];
        ev->woken[id] = true;
        ev->looking++;
        wake[(*nwake)++] = id;
    }
}

/* A queue that is not draining (its head waited past EV_STALE_MS while every awake worker
 * is busy, as with slow handlers) gets another worker. */
void ev_wake_if_stale(ev_child_t *ev, bool now)
{
    pthread_mutex_lock(&ev->qlock);
    int id = -1;
    /* The clock only when there is a worker to wake (the usual case under load: none). */
    if (ev->qhead && can_wake_locked(ev, true) &&
        (now || pt_now_ms() - ev->qhead->queued_ms >= EV_STALE_MS))
        id = wake_one_locked(ev, true);
    pthread_mutex_unlock(&ev->qlock);
    if (id >= 0)
        pthread_cond_signal(&ev->conds[id]);
}

pt_task_t *ev_take_locked(ev_child_t *ev)
{
    pt_task_t *c = ev->qhead;
    if (c) {
        ev->qhead = c->next;
        if (!ev->qhead) {
            ev->qtail = NULL;
            atomic_store(&ev->queued, false);
        }
    }
    return c;
}

/* ---- Workers that wait for a backend ----------------------------------------------- */

/* The child of the worker thread running here (NULL on any other thread, and in prefork). */
static _Thread_local ev_child_t *tl_worker_child;

void ev_worker_thread_init(ev_child_t *ev)
{
    tl_worker_child = ev;
}

/* A worker that waits for php-fpm holds no CPU: the queue's rule (one awake worker per CPU,
 * the rest wait for the stale rule, EV_STALE_MS) would otherwise let one slow backend answer
 * hold up every queued request behind it, and a FastCGI pool of four children would serve
 * one request at a time.
 *
 * Twice per proxied request, so qlock is taken only when there is something to do: a task
 * queued, or nobody looking. A push that reads blocked before this increment left its task
 * for this worker, and then this worker reads queued as true (both sequentially consistent,
 * the push storing queued before it reads blocked): it notifies here. A push that reads it
 * after counts this worker as blocked and wakes another itself. */
void pt_mpm_block_begin(void)
{
    ev_child_t *ev = tl_worker_child;
    if (!ev)
        return;
    atomic_fetch_add(&ev->blocked, 1);
    if (!atomic_load(&ev->queued) && (!ev->harvest || atomic_load(&ev->looking) > 0))
        return;
    pthread_mutex_lock(&ev->qlock);
    if (ev->qhead) {
        notify_unlock(ev);
        return;
    }
    /* Nothing queued, but maybe ready in epoll, where nobody waits now that this worker
     * does not come back soon: an idle worker goes to look. */
    int id = -1;
    if (ev->harvest && ev->looking == 0 && ev->nidle > 0) {
        id = ev->idle_stack[--ev->nidle];
        ev->woken[id] = true;
        ev->looking++;
    }
    pthread_mutex_unlock(&ev->qlock);
    if (id >= 0)
        pthread_cond_signal(&ev->conds[id]);
}

/* Nothing to wake: a worker that comes back only adds to the awake count the queue's rule
 * reads under qlock (a push meanwhile may wake one worker more than needed, as before). */
void pt_mpm_block_end(void)
{
    ev_child_t *ev = tl_worker_child;
    if (ev)
        atomic_fetch_sub(&ev->blocked, 1);
}
