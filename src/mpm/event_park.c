/* What the event MPM's listener watches on behalf of others (pt_park_t, net/task.h): one
 * descriptor armed EPOLLONESHOT (a connection's own socket: registered once, edge-triggered)
 * and an entry in the timeout heap, put in place under one lock; claimed by whichever
 * thread takes its event, or expired by the listener. A parked
 * thing says itself what happens then (its pt_park_ops_t): the connection's ops below
 * handle idle keep-alive, an unfinished head, lingering close and response tails. */
#include "event_child.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- Any parked thing ---------------------------------------------------------------- */

/* ---- Borrowed second descriptors (PT_PARK_UPSTREAM, net/task.h) ---------------------- */

/* A pooled backend socket stays registered between its borrowers (one EPOLL_CTL_MOD per
 * wait, not an ADD and a DEL), so an event of its registration may come after the wait it
 * was armed for is over, even after that connection is freed. Its registration carries a
 * token, therefore: the descriptor and the generation of the wait, looked up here under
 * tlock; a token of an earlier wait finds no park. Every claim of such a park forgets it
 * here (an event of either descriptor, the deadline, an expiry), so a park is named here
 * only while it waits.
 *
 * When its holder keeps the registration with the socket (reg2: pt_suspend_t.reg), it is
 * made once, edge-triggered, and its token lives as long as it does: a wait then costs no
 * system call. An event that comes while no park waits on it (the answer came before its
 * request was parked) is kept with the descriptor (pending) for the next wait to see. */
static bool borrowed2(const pt_park_t *p)
{
    return p->state == PT_PARK_UPSTREAM && p->fd2 >= 0;
}

/* Names p as the park behind descriptor fd's registration, with a new generation; returns
 * the token that registration carries (tlock held). */
static uint64_t name_locked(ev_child_t *ev, pt_park_t *p, int fd)
{
    size_t i = (size_t)fd;
    if (i >= ev->nfd2s) {
        size_t n = ev->nfd2s ? ev->nfd2s : 256;
        while (n <= i)
            n *= 2;
        struct ev_fd2 *t = realloc(ev->fd2s, n * sizeof(*t));
        if (!t) {
            pt_log_error(PT_LOG_CRIT, NULL, "out of memory parking a request");
            abort();
        }
        memset(t + ev->nfd2s, 0, (n - ev->nfd2s) * sizeof(*t));
        ev->fd2s = t;
        ev->nfd2s = n;
    }
    struct ev_fd2 *e = &ev->fd2s[i];
    e->gen = (e->gen + 1) & 0x7fffffffu;
    e->p = p;
    e->pending = 0;
    return EV_TOKEN_BIT | (uint64_t)e->gen << 32 | (uint32_t)fd;
}

/* p's fd2 is registered edge-triggered by its holder's word (reg2), and that registration
 * is the live one for the descriptor (tlock held): then p is named as its waiter. */
static bool borrowed_et(const pt_park_t *p)
{
    return borrowed2(p) && p->reg2;
}

static bool registered_et_locked(ev_child_t *ev, pt_park_t *p)
{
    uint64_t t = *p->reg2;
    size_t fd = (size_t)p->fd2;
    return t && (uint32_t)t == (uint32_t)p->fd2 && fd < ev->nfd2s &&
           ev->fd2s[fd].gen == ((uint32_t)(t >> 32) & 0x7fffffffu);
}

/* Names p as the park waiting on its fd2 (tlock held): a new registration, or (borrowed_et)
 * the one its holder kept. */
static void remember_fd2_locked(ev_child_t *ev, pt_park_t *p)
{
    if (borrowed_et(p) && registered_et_locked(ev, p)) {
        p->token2 = *p->reg2;
        ev->fd2s[p->fd2].p = p;
        return;
    }
    p->token2 = name_locked(ev, p, p->fd2);
    if (p->reg2)
        *p->reg2 = 0; /* registered (again) by this wait's arming */
}

/* p is claimed (tlock held): its fd2 names it no more. */
static void forget_fd2_locked(ev_child_t *ev, pt_park_t *p)
{
    if (borrowed2(p) && (size_t)p->fd2 < ev->nfd2s && ev->fd2s[p->fd2].p == p)
        ev->fd2s[p->fd2].p = NULL;
}

/* A connection's socket is closed or about to be: its registration's events find nothing
 * from now on (tlock held). */
static void forget_fd_locked(ev_child_t *ev, pt_park_t *p)
{
    if (p->et_reg && p->fd >= 0 && (size_t)p->fd < ev->nfd2s && ev->fd2s[p->fd].p == p)
        ev->fd2s[p->fd].p = NULL;
    p->et_reg = false;
}

/* The descriptor's entry when tag is its live registration's token, else NULL (tlock
 * held). */
static struct ev_fd2 *token_entry_locked(ev_child_t *ev, uint64_t tag)
{
    size_t fd = (uint32_t)tag;
    uint32_t gen = (uint32_t)(tag >> 32) & 0x7fffffffu;
    return fd < ev->nfd2s && ev->fd2s[fd].gen == gen ? &ev->fd2s[fd] : NULL;
}

/* The park a token names, or NULL when its wait is over (tlock held). */
static pt_park_t *token_park_locked(ev_child_t *ev, uint64_t tag)
{
    struct ev_fd2 *e = token_entry_locked(ev, tag);
    return e ? e->p : NULL;
}

/* ---- A connection's own socket, edge-triggered (net/task.h: et) ---------------------- */

/* Registered once (EPOLLET, for input; for output too while a wait for it armed it; its
 * token as data) rather than re-armed
 * EPOLLONESHOT at every park: a connection waiting for its next request is put back in the
 * heap and that is all, where re-arming cost an epoll_ctl per request (5% of a core serving
 * small files). The price is that its events come whenever the socket's state changes, also
 * while a worker serves it: ev_ready claims the park only when it is parked for what came,
 * and keeps the rest in pending for the next park to look at. Waiting for output re-arms
 * (EPOLL_CTL_MOD reports the room there is now; an edge would come only after the buffer
 * had filled), as does a park that arms fd2 anyway. */

/* What p waits for on fd this time, with its errors and hang-ups; 0 when fd is not watched
 * (skip_fd, or events 0: a tunnel waiting on its other end alone). Those are kept
 * (pending) for the park that watches fd again: a ready op with nothing to do for them
 * would park again and, re-armed, be woken again at once (a spinning worker). */
static uint32_t want_fd(const pt_park_t *p)
{
    return p->skip_fd || !p->events ? 0 : p->events | EPOLLERR | EPOLLHUP;
}

/* Parking p again needs no system call: fd is registered, nothing else is to be armed or
 * taken out of the set (an fd2 still registered), and p waits for input. */
static bool quick(const pt_park_t *p)
{
    return p->et_reg && p->in_epoll && !p->events2 && !(p->used2 && p->in_epoll2) &&
           !p->skip_fd &&
           !(p->events & ~(uint32_t)(EPOLLIN | EPOLLRDHUP));
}

/* The client's FIN (EPOLLRDHUP) stays pending once it came, for every later park for
 * input: a read of the bytes that came with it, or before it, ends short (drained)
 * without meeting it, and no other edge comes (a request and its FIN together would wait
 * out KeepAliveTimeout). Such a park is then ready at once, and its read meets the end.
 * (Owners read to the end once told; a park that wants no input does not take it.) */
#define EV_STICKY EPOLLRDHUP

/* Takes what came for fd while p was not parked for it and that p waits for now (tlock
 * held). */
static bool take_pending_locked(pt_park_t *p)
{
    uint32_t hit = p->pending & want_fd(p);
    p->pending &= ~hit | EV_STICKY;
    return hit != 0;
}

/* Bytes in fd's receive queue that no event will announce: the owner's reads since the claim
 * did not meet an empty socket (drained), and FIONREAD finds some (or cannot tell). */
static bool unannounced(const pt_park_t *p)
{
    if (p->drained)
        return false;
    int n = 0;
    return ioctl(p->fd, FIONREAD, &n) != 0 || n > 0;
}

/* For input always (what a quick park waits for), for output only when this wait is for
 * it: arming reports what is there now, and room to write, nearly always there, would be an
 * event (a woken thread, the park lock) at every tunnel or HTTP/2 park for nothing. */
static int arm_et(ev_child_t *ev, pt_park_t *p, bool *in_epoll)
{
    struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (p->events & EPOLLOUT),
                            .data.u64 = p->token};
    if (epoll_ctl(ev->epfd, *in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, p->fd, &e) != 0)
        return -errno;
    *in_epoll = true;
    return 0;
}

/* Parks whose event came while this thread armed them (ev_park), and whether this thread is
 * running them already. */
static _Thread_local pt_park_t *fired_head, *fired_tail;
static _Thread_local bool fired_running;

/* EPOLLONESHOT: the event that came while arming was p's one and nobody else acts on it,
 * so this thread runs it; but not in place when it is running one already. A ready op parks
 * again (a lingering drain, a response tail), and while the client keeps the socket ready
 * the event can come while arming each time (a waiting worker woken by epoll_ctl preempts
 * the parker on a loaded core): ev_park -> ready -> ev_park nested at ~380 bytes a level,
 * and ~680 levels overflow the 256 KiB worker stack (SIGSEGV; forced in the linger flood
 * test by taking the event while arming every time). The outermost call runs them one
 * after another instead. */
static void run_fired(ev_child_t *ev, pt_park_t *p)
{
    p->next = NULL;
    if (fired_tail)
        fired_tail->next = p;
    else
        fired_head = p;
    fired_tail = p;
    if (fired_running)
        return; /* the caller hands p on as parked: the outer call below runs it */
    fired_running = true;
    while ((p = fired_head) != NULL) {
        fired_head = p->next;
        if (!fired_head)
            fired_tail = NULL;
        pt_task_t *t = p->ops->ready(p, ev);
        if (t)
            ev_queue_push(ev, t);
    }
    fired_running = false;
}

/* Arms one descriptor of p (ONESHOT), or takes it out of the set when nothing is wanted of
 * it this time (events 0: epoll would still report errors and hang-ups, and a ready op
 * with nothing to do for them would be woken again at once). *in_epoll: registered before
 * (read here; only the parker writes the flags, under tlock, since with two descriptors a
 * stale event's ev_ready may read p's neighbouring fields meanwhile); set to what it is
 * after. 0 or -errno. */
static int arm_fd(ev_child_t *ev, pt_park_t *p, int fd, uint32_t events, bool *in_epoll)
{
    if (events == 0) {
        if (*in_epoll && epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, NULL) != 0)
            return -errno;
        *in_epoll = false;
        return 0;
    }
    struct epoll_event e = {.events = events | EPOLLONESHOT, .data.ptr = p};
    if (fd == p->fd2 && borrowed2(p))
        e.data.u64 = p->token2;
    if (fd == p->fd2 && borrowed_et(p)) { /* once, for the socket's life */
        e.events = events | EPOLLET;
        int rc = epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &e);
        if (rc != 0 && errno == EEXIST) /* (registered under an earlier token) */
            rc = epoll_ctl(ev->epfd, EPOLL_CTL_MOD, fd, &e);
        if (rc != 0)
            return -errno;
        *in_epoll = true;
        return 0;
    }
    int rc = epoll_ctl(ev->epfd, *in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e);
    /* A borrowed fd2 is tried with MOD: ENOENT when its socket has no registration yet (a
     * fresh backend connection, or one whose number was reused). */
    if (rc != 0 && errno == ENOENT && *in_epoll && fd == p->fd2)
        rc = epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &e);
    if (rc != 0)
        return -errno;
    *in_epoll = true;
    return 0;
}

/* Both descriptors of p (net/task.h: a second one for a tunnel), into in[0] and in[1]. */
static int arm(ev_child_t *ev, pt_park_t *p, bool in[2])
{
    in[0] = p->in_epoll;
    in[1] = p->in_epoll2;
    int rc = p->skip_fd ? 0
             : p->et_reg ? arm_et(ev, p, &in[0])
                         : arm_fd(ev, p, p->fd, p->events, &in[0]);
    if (rc == 0 && p->used2)
        rc = arm_fd(ev, p, p->fd2, p->events2, &in[1]);
    return rc;
}

/* In the heap first, so that a thread that takes its event finds it there; then epoll_ctl
 * outside the lock. Holding tlock across that system call (every parking worker does it
 * once per request) made tlock the event MPM's one contended lock: 0.8 futex calls per
 * request under 64 keep-alive clients, by strace. An event taken meanwhile (fired) or a
 * deadline passed meanwhile (due) is left to this thread, which looks again under the lock:
 * it runs ready itself, or puts the due one back for the listener to expire. With two
 * descriptors both may fire meanwhile: fired is one flag, and ready runs once. */
/* A quick park (no system call): into the heap under tlock, unless what it waits for has
 * come already; then this thread runs it, as one whose event came while arming. (Bytes a
 * read left in the socket are not such: ev_park re-arms for them, so that they come back
 * through epoll after the other events there. Run here, a ready op that drains a budget
 * and parks again (linger_drain) would run again at once, holding the thread that took its
 * event until its client stops sending or its deadline passes.) */
static int park_quick(ev_child_t *ev, pt_park_t *p)
{
    pthread_mutex_lock(&ev->tlock);
    p->fired = p->due = p->timed_out = false;
    bool now = take_pending_locked(p);
    if (!now)
        ev_heap_push(ev, p);
    pthread_mutex_unlock(&ev->tlock);
    if (now) {
        p->drained = false;
        run_fired(ev, p);
    }
    return 0;
}

/* A request waiting for its backend on the registration its holder kept (borrowed_et):
 * named as its waiter, with no system call; run here at once when the answer came already
 * (pending). False when that registration is not the live one: the caller arms it. */
static bool park_upstream_quick(ev_child_t *ev, pt_park_t *p)
{
    pthread_mutex_lock(&ev->tlock);
    if (!registered_et_locked(ev, p)) {
        pthread_mutex_unlock(&ev->tlock);
        return false;
    }
    p->fired = p->due = p->timed_out = false;
    p->used2 = p->in_epoll2 = true;
    p->token2 = *p->reg2;
    struct ev_fd2 *e = &ev->fd2s[p->fd2];
    bool now = e->pending & (p->events2 | EPOLLERR | EPOLLHUP);
    e->pending = 0;
    if (!now) {
        e->p = p;
        ev_heap_push(ev, p);
    }
    pthread_mutex_unlock(&ev->tlock);
    if (now)
        run_fired(ev, p);
    return true;
}

int ev_park(ev_child_t *ev, pt_park_t *p)
{
    /* After the owner's last read: a wait that begins later finds only bytes that came
     * since (ready_ns, which only such a wait's claim sets: not a park ready at once). */
    p->looked = atomic_load(&ev->looks);
    p->ready_ns = 0;
    if (quick(p) && !unannounced(p))
        return park_quick(ev, p);
    if (borrowed_et(p) && p->skip_fd && park_upstream_quick(ev, p))
        return 0;
    pthread_mutex_lock(&ev->tlock);
    p->arming = true;
    p->fired = p->due = p->timed_out = false;
    if (p->events2) /* (set before arming: an event of fd may be out already on failure) */
        p->used2 = true;
    if (borrowed2(p))
        remember_fd2_locked(ev, p);
    if (p->et && !p->skip_fd) {
        if (!p->et_reg) {
            p->token = name_locked(ev, p, p->fd);
            p->et_reg = true;
        }
        p->pending = 0; /* arming fd reports what is there now */
    }
    ev_heap_push(ev, p);
    pthread_mutex_unlock(&ev->tlock);
    bool in[2];
    int rc = arm(ev, p, in);
    pthread_mutex_lock(&ev->tlock);
    p->in_epoll = in[0];
    p->in_epoll2 = in[1];
    p->arming = false;
    if (rc == 0 && borrowed_et(p))
        *p->reg2 = p->token2; /* the holder keeps it with the socket */
    /* Parked in flight after the stop began (ev_wake_busy_listener skips what is arming,
     * and cannot see what parks later): made ready once now, to learn of it. */
    if (rc == 0 && p->state == PT_PARK_TUNNEL && !p->stop_told && atomic_load(&ev->stopping))
        p->stop_told = p->fired = true;
    /* (On failure the caller keeps p and closes it.) */
    bool fired = (take_pending_locked(p) || p->fired) && rc == 0;
    if (rc != 0 || fired) {
        ev_heap_remove(ev, p); /* (a no-op when the listener took it out as due) */
        forget_fd2_locked(ev, p);
    }
    else if (p->due)
        ev_heap_push(ev, p);
    pthread_mutex_unlock(&ev->tlock);
    if (fired) {
        p->drained = false;
        run_fired(ev, p);
    }
    return rc;
}

int pt_mpm_park(void *mpm, pt_park_t *p)
{
    return ev_park(mpm, p);
}

void pt_mpm_queue(void *mpm, pt_task_t *t)
{
    ev_queue_push(mpm, t);
}

bool pt_mpm_stopping(void *mpm)
{
    return mpm && atomic_load(&((ev_child_t *)mpm)->stopping);
}

/* Each is claimed as its event would claim it (out of the heap, under tlock): an event of
 * either descriptor that comes meanwhile finds it claimed (ev_ready), and its owner re-arms
 * both when it parks again (net/task.h). One being armed is left alone: its parker sees
 * the stop once it has armed (ev_park), as does one that parks later; stop_told makes it
 * once in all. */
void ev_wake_busy_listener(ev_child_t *ev)
{
    pt_park_t *list = NULL;
    pthread_mutex_lock(&ev->tlock);
    for (size_t i = 0; i < ev->hlen;) {
        pt_park_t *p = ev->heap[i];
        if (p->state != PT_PARK_TUNNEL || p->arming || p->stop_told) {
            i++;
            continue;
        }
        p->stop_told = true;
        ev_heap_remove(ev, p); /* (the last one moves to i: look at i again) */
        p->next = list;
        list = p;
    }
    pthread_mutex_unlock(&ev->tlock);
    while (list) {
        pt_park_t *p = list;
        list = p->next;
        pt_task_t *t = p->ops->ready(p, ev);
        if (t)
            ev_queue_push(ev, t);
    }
}

pt_task_t *ev_ready(ev_child_t *ev, uint64_t tag, uint32_t bits, uint64_t look, int64_t now_ns)
{
    pthread_mutex_lock(&ev->tlock);
    pt_park_t *p = tag & EV_TOKEN_BIT ? token_park_locked(ev, tag) : (pt_park_t *)(uintptr_t)tag;
    if (p && p->et_reg && tag == p->token) { /* (token: written under tlock, unlike fd) */
        /* A connection's own socket (edge-triggered): claimed when parked for what came;
         * else kept for its next park (or its parker's look after arming). */
        bool claim = !p->expired && !p->arming && p->heap_idx >= 0 && (bits & want_fd(p));
        if (claim) {
            ev_heap_remove(ev, p);
            forget_fd2_locked(ev, p);
            p->pending = (p->pending & ~bits) | (bits & EV_STICKY);
            p->drained = false;
            p->ready_ns = bits & p->events & EPOLLIN && p->looked < look ? now_ns : 0;
        } else if (!p->expired) {
            p->pending |= bits;
        }
        pthread_mutex_unlock(&ev->tlock);
        return claim ? p->ops->ready(p, ev) : NULL;
    }
    if (!p && (tag & EV_TOKEN_BIT)) {
        /* No wait on it now: a registration kept between waits (borrowed_et) holds it for
         * the next one. */
        struct ev_fd2 *e = token_entry_locked(ev, tag);
        if (e)
            e->pending |= bits;
    }
    /* Gone: a token's wait is over; expired by the listener while this event was in
     * flight; or still being armed, and then the parking thread runs it (ev_park); or out
     * of the heap while neither, which only a park with two descriptors can be: claimed
     * already through its other one, whose owner re-arms both when it parks again
     * (net/task.h). */
    bool gone = !p || p->expired || p->arming || p->heap_idx < 0;
    if (p && p->arming) {
        p->fired = true;
    } else if (!gone) {
        ev_heap_remove(ev, p);
        forget_fd2_locked(ev, p);
    }
    pthread_mutex_unlock(&ev->tlock);
    return gone ? NULL : p->ops->ready(p, ev);
}

/* A park's second descriptor leaves the epoll set before its owner closes it (its number
 * must not be reused while the set still names it); shut (on expiry), so that its peer
 * learns now rather than when the owner's destroy closes it, a moment later. */
static void drop_fd2(ev_child_t *ev, pt_park_t *p, bool shut)
{
    if (!p->used2)
        return;
    if (p->in_epoll2)
        epoll_ctl(ev->epfd, EPOLL_CTL_DEL, p->fd2, NULL);
    p->in_epoll2 = false;
    if (borrowed_et(p))
        *p->reg2 = 0;
    if (shut)
        shutdown(p->fd2, SHUT_RDWR);
}

/* Closes what the listener took from the heap; its memory waits in the graveyard until no
 * worker can be holding an event for it (tlock held). */
static void bury_locked(ev_child_t *ev, pt_park_t *p, bool stopping)
{
    forget_fd2_locked(ev, p);
    forget_fd_locked(ev, p);
    drop_fd2(ev, p, true);
    p->ops->expire_listener(p, ev, stopping);
    p->expired = true;
    p->next = ev->graveyard;
    ev->graveyard = p;
}

static bool workers_moved_on(ev_child_t *ev)
{
    for (int i = 0; i < ev->nworkers; i++) {
        unsigned e = atomic_load(&ev->hepoch[i]);
        if ((ev->snap[i] & 1) && e == ev->snap[i])
            return false;
    }
    return true;
}

static void free_list(pt_park_t *g)
{
    while (g) {
        pt_park_t *n = g->next;
        g->ops->destroy(g);
        g = n;
    }
}

void ev_free_graveyard_listener(ev_child_t *ev, bool force)
{
    pt_park_t *done = NULL, *more = NULL;
    pthread_mutex_lock(&ev->tlock);
    if (ev->pending && (force || workers_moved_on(ev))) {
        done = ev->pending;
        ev->pending = NULL;
    }
    if (force) {
        more = ev->graveyard;
        ev->graveyard = NULL;
    } else if (!ev->pending && ev->graveyard) {
        ev->pending = ev->graveyard;
        ev->graveyard = NULL;
        for (int i = 0; i < ev->nworkers; i++)
            ev->snap[i] = atomic_load(&ev->hepoch[i]);
    }
    pthread_mutex_unlock(&ev->tlock);
    free_list(done);
    free_list(more);
}

void ev_expire_listener(ev_child_t *ev, int64_t now, bool all_idle, bool force)
{
    pt_park_t *owned = NULL; /* in flight and due: their owners hear of it on a worker */
    pthread_mutex_lock(&ev->tlock);
    for (size_t i = 0; i < ev->hlen;) {
        pt_park_t *p = ev->heap[i];
        /* A stop closes what is idle; a response tail, a tunnel or a request waiting for its
         * backend goes on to the drain limit. */
        bool busy = p->state == PT_PARK_WRITE || p->state == PT_PARK_TUNNEL ||
                    p->state == PT_PARK_UPSTREAM;
        bool due = p->deadline_ms <= now || force || (all_idle && !busy);
        if (!due) {
            if (!all_idle)
                break; /* a heap: nothing after the first one that is not due */
            i++;
            continue;
        }
        ev_heap_remove(ev, p);
        i = all_idle ? 0 : i;
        if (p->arming) {
            p->due = true; /* its fd may not be armed yet: the parker puts it back */
        } else if (p->state == PT_PARK_UPSTREAM && p->ops->due && !force) {
            /* Claimed as an event would claim it (out of the heap): an event that comes
             * now finds it gone (ev_ready). */
            forget_fd2_locked(ev, p);
            p->timed_out = true;
            p->next = owned;
            owned = p;
        } else {
            bury_locked(ev, p, all_idle);
        }
    }
    pthread_mutex_unlock(&ev->tlock);
    while (owned) {
        pt_park_t *p = owned;
        owned = p->next;
        pt_task_t *t = p->ops->due(p, ev);
        if (t)
            ev_queue_push(ev, t);
    }
    ev_free_graveyard_listener(ev, false);
}

/* How long the listener may sleep. While workers harvest, it looks at their epoll set
 * itself only when none of them waits there: then at least every EV_STALE_MS, as when the
 * queue holds tasks; otherwise it dozes until a deadline or a poke. */
int ev_next_timeout_listener(ev_child_t *ev, int64_t now)
{
    int64_t t = EV_TICK_MS;
    pthread_mutex_lock(&ev->qlock);
    bool doze = ev->epoll_waiting > 0 && !ev->qhead;
    ev->listener_dozing = doze && ev->lepfd != ev->epfd;
    if (ev->qhead || (ev->lepfd != ev->epfd && !doze))
        t = EV_STALE_MS; /* come back to check that the queue drains */
    pthread_mutex_unlock(&ev->qlock);
    pthread_mutex_lock(&ev->tlock);
    if (ev->hlen) {
        int64_t d = ev->heap[0]->deadline_ms - now;
        if (d < t)
            t = d < 0 ? 0 : d;
    }
    pthread_mutex_unlock(&ev->tlock);
    return (int)t;
}

/* ---- A parked connection ------------------------------------------------------------- */

void ev_conn_close(ev_child_t *ev, pt_conn_t *c)
{
    atomic_fetch_sub(&ev->nconns, 1);
    if (!c->park.used2) {
        if (c->park.et_reg) { /* an event of its registration may be in a worker's hands */
            pthread_mutex_lock(&ev->tlock);
            forget_fd_locked(ev, &c->park);
            pthread_mutex_unlock(&ev->tlock);
        }
        pt_conn_destroy(c); /* closing the fd removes it from the epoll set */
        return;
    }
    /* A tunnel's connection: an event of its second descriptor may be in a worker's hands
     * now (net/task.h), so its memory goes the way of an expired park's. */
    pthread_mutex_lock(&ev->tlock);
    forget_fd_locked(ev, &c->park);
    drop_fd2(ev, &c->park, false);
    pt_conn_close(c);
    c->park.expired = true;
    c->park.next = ev->graveyard;
    ev->graveyard = &c->park;
    pthread_mutex_unlock(&ev->tlock);
}

static const pt_park_ops_t conn_park_ops;

void ev_park_conn(ev_child_t *ev, pt_conn_t *c, pt_park_state_t state, int64_t deadline)
{
    pt_park_t *p = &c->park;
    p->ops = &conn_park_ops;
    p->fd = c->fd;
    p->et = true;
    p->state = state;
    p->deadline_ms = deadline;
    bool for_input = state == PT_PARK_READ || state == PT_PARK_KEEPALIVE;
    /* (A tunnel's protocol set its events, and fd2's; a request waiting for its backend set
     * fd2's and skip_fd.) */
    if (state != PT_PARK_TUNNEL && state != PT_PARK_UPSTREAM)
        p->events = state == PT_PARK_WRITE ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
    /* A read that must let the transport write first waits for room (poll's POLLOUT is
     * epoll's EPOLLOUT), then reads again; what is pending inside the transport cannot be
     * read before that. */
    if (for_input && c->read_wants_out) {
        p->events = EPOLLOUT;
        for_input = false;
    }
    /* Bytes already inside the transport raise no epoll event: they are ready now. */
    if (for_input && pt_conn_pending(c)) {
        ev_queue_push(ev, &c->task);
        return;
    }
    int rc = ev_park(ev, p);
    if (rc != 0) {
        pt_log_error(PT_LOG_ERR, c->peer_ip, "epoll_ctl on a parked connection: %s",
                     strerror(-rc));
        ev_conn_close(ev, c);
    }
}

/* Lingering close: stop sending, drain what the client still sends for a moment so our
 * response is not destroyed by a reset. */
void ev_start_linger(ev_child_t *ev, pt_conn_t *c)
{
    if (pt_conn_shutdown_write(c) != 0) {
        ev_conn_close(ev, c);
        return;
    }
    free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = c->rlen = c->rpos = 0;
    ev_park_conn(ev, c, PT_PARK_LINGER, pt_now_ms() + PT_LINGER_MS);
}

/* Drains a lingering connection; true when it is done and was closed. The loop has a
 * deadline of its own, the linger's (PT_LINGER_MS after the shutdown, within Apache's 2 s
 * between reads and 30 s in all), and reads at most EV_LINGER_BUDGET bytes per wake-up: a
 * client that sends as fast as we read can neither keep its connection past the deadline
 * nor hold this thread (the listener, or a worker that harvested the event). */
static bool linger_drain(ev_child_t *ev, pt_conn_t *c)
{
    if (pt_now_ms() >= c->park.deadline_ms) {
        ev_conn_close(ev, c);
        return true;
    }
    char buf[4096];
    for (size_t drained = 0; drained < EV_LINGER_BUDGET;) {
        long n = pt_conn_recv_some(c, buf, sizeof(buf));
        if (n > 0) {
            drained += (size_t)n;
            continue;
        }
        if (n == PT_EAGAIN)
            return false;
        ev_conn_close(ev, c);
        return true;
    }
    return false; /* parked again, still readable: back after the others, deadline and all */
}

/* The socket of a slow reader has room again: send more of the response tail here, in
 * whichever thread took the event. Returns the connection when a worker must serve a
 * pipelined request next. */
static pt_conn_t *continue_write(ev_child_t *ev, pt_conn_t *c)
{
    int rc = pt_conn_write_tail(c);
    if (rc == PT_EAGAIN) {
        ev_park_conn(ev, c, PT_PARK_WRITE, pt_now_ms() + c->wc_timeout_ms);
        return NULL;
    }
    if (rc != 0) {
        ev_conn_close(ev, c);
        return NULL;
    }
    if (!c->wc_keepalive || atomic_load(&ev->stopping)) {
        ev_start_linger(ev, c);
        return NULL;
    }
    if (c->rpos < c->rlen)
        return c; /* the next request is already here */
    pt_conn_shrink(c);
    ev_park_conn(ev, c, PT_PARK_KEEPALIVE, pt_conn_keepalive_deadline(c));
    return NULL;
}

static pt_task_t *conn_ready(pt_park_t *p, void *mpm)
{
    ev_child_t *ev = mpm;
    pt_conn_t *c = PT_CONTAINER_OF(p, pt_conn_t, park);
    switch (p->state) {
    case PT_PARK_LINGER:
        if (!linger_drain(ev, c))
            ev_park_conn(ev, c, PT_PARK_LINGER, p->deadline_ms);
        return NULL;
    case PT_PARK_WRITE:
        c = continue_write(ev, c);
        return c ? &c->task : NULL;
    case PT_PARK_TUNNEL:
    case PT_PARK_UPSTREAM:
        return &c->task; /* a stop lets it go on, as a response (closed at the drain limit) */
    default:
        if (atomic_load(&ev->stopping)) { /* no new requests while the child stops */
            ev_conn_close(ev, c);
            return NULL;
        }
        return &c->task;
    }
}

static void conn_expire_listener(pt_park_t *p, void *mpm, bool stopping)
{
    ev_child_t *ev = mpm;
    pt_conn_t *c = PT_CONTAINER_OF(p, pt_conn_t, park);
    if (p->state == PT_PARK_READ && c->head_bytes > 0 && !stopping && c->proto &&
        c->proto->read_timeout)
        c->proto->read_timeout(c);
    /* (At a stop too: an idle HTTP/2 session gets its GOAWAY.) */
    if (p->state == PT_PARK_KEEPALIVE && c->proto && c->proto->idle_timeout)
        c->proto->idle_timeout(c);
    atomic_fetch_sub(&ev->nconns, 1);
    pt_conn_close(c);
}

/* A request's backend did not answer within its deadline: the worker that takes the task
 * answers the client (park.timed_out tells it). Anything else parked is expired as usual. */
static pt_task_t *conn_due(pt_park_t *p, void *mpm)
{
    (void)mpm;
    return &PT_CONTAINER_OF(p, pt_conn_t, park)->task;
}

static void conn_destroy(pt_park_t *p)
{
    pt_conn_destroy(PT_CONTAINER_OF(p, pt_conn_t, park));
}

static const pt_park_ops_t conn_park_ops = {
    .ready = conn_ready,
    .expire_listener = conn_expire_listener,
    .due = conn_due,
    .destroy = conn_destroy,
};
