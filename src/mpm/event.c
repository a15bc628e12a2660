/* The event MPM: one listener thread (this one) with epoll accepts connections and parks
 * what has nothing for a worker to do (idle keep-alive, a head not yet complete, lingering
 * close: event_park.c); ThreadsPerChild workers take tasks from a queue, serve what is
 * there, and hand them back. An idle worker waits on the parked connections' epoll set
 * itself and serves what it finds; the listener waits on a set of its own (signals,
 * listening sockets) and looks at the connections only while no worker waits there.
 * A parked thing is claimed under the park lock by whichever thread takes its event, so
 * exactly one owner ever acts on one (event_park.c). The protocol is the connection's
 * (c->proto): nothing here knows HTTP. */
#include "conn.h"
#include "event_child.h"
#include "idle.h"
#include "log.h"
#include "mpm.h"
#include "scoreboard.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* ---- Workers ----------------------------------------------------------------------- */

static void finish_conn_worker(ev_child_t *ev, pt_conn_t *c, pt_conn_next_t next)
{
    if (atomic_load(&ev->stopping) && next == PT_NEXT_PARK_KEEPALIVE)
        next = PT_NEXT_CLOSE;
    switch (next) {
    case PT_NEXT_PARK_KEEPALIVE:
        pt_conn_shrink(c);
        ev_park_conn(ev, c, PT_PARK_KEEPALIVE, pt_conn_keepalive_deadline(c));
        break;
    case PT_NEXT_PARK_READ:
        ev_park_conn(ev, c, PT_PARK_READ, pt_conn_read_deadline(c));
        break;
    case PT_NEXT_LINGER:
        ev_start_linger(ev, c);
        break;
    case PT_NEXT_WRITE:
        ev_park_conn(ev, c, PT_PARK_WRITE, pt_now_ms() + c->wc_timeout_ms);
        break;
    case PT_NEXT_CLOSE:
        ev_conn_close(ev, c);
        break;
    case PT_NEXT_PARK_TUNNEL:
        ev_park_conn(ev, c, PT_PARK_TUNNEL, c->park.deadline_ms);
        break;
    case PT_NEXT_PARK_UPSTREAM:
        ev_park_conn(ev, c, PT_PARK_UPSTREAM, c->park.deadline_ms);
        break;
    }
}

/* Worker MPM: the worker itself waits for the next request on its connection (keep-alive
 * and an unfinished head), as Apache's worker MPM does; only lingering goes to the
 * listener. Returns what to do once the wait ends. */
static pt_conn_next_t hold_conn_worker(ev_child_t *ev, pt_worker_t *w, pt_conn_t *c,
                                       pt_conn_next_t next)
{
    while ((next == PT_NEXT_PARK_KEEPALIVE || next == PT_NEXT_PARK_READ) &&
           !atomic_load(&ev->stopping)) {
        bool ka = next == PT_NEXT_PARK_KEEPALIVE;
        if (ka)
            pt_conn_shrink(c);
        int64_t deadline = ka ? pt_conn_keepalive_deadline(c)
                              : pt_conn_read_deadline(c);
        pt_sb_set_state(w->sb, ka ? PT_SB_KEEPALIVE : PT_SB_READ);
        /* Wait in slices so that a stop does not wait out an idle client's timeout. */
        short events = pt_conn_read_events(c);
        int rc;
        do {
            int64_t left = PT_MAX(deadline - pt_now_ms(), 0);
            rc = pt_conn_wait(c, events, PT_MIN(left, 200));
            if (rc == PT_ETIMEOUT)
                pt_thread_idle(); /* (a slice without the next request: idle.h) */
        } while (rc == PT_ETIMEOUT && pt_now_ms() < deadline && !atomic_load(&ev->stopping));
        if (rc != 0) {
            if (!ka && c->head_bytes > 0 && c->proto->read_timeout)
                c->proto->read_timeout(c);
            if (ka && rc == PT_ETIMEOUT && c->proto->idle_timeout)
                c->proto->idle_timeout(c);
            return PT_NEXT_CLOSE;
        }
        pt_sb_set_state(w->sb, PT_SB_READ);
        next = c->proto->serve_worker(w, c);
        pt_arena_reset(w->arena);
    }
    /* A stop while idle: an HTTP/2 session says GOAWAY (the event MPM's listener does the
     * same for what it parked). */
    if (next == PT_NEXT_PARK_KEEPALIVE && atomic_load(&ev->stopping) && c->proto->idle_timeout)
        c->proto->idle_timeout(c);
    return next;
}

void ev_serve_conn_worker(pt_task_t *t, pt_worker_t *w)
{
    ev_child_t *ev = w->mpm;
    pt_conn_t *c = PT_CONTAINER_OF(t, pt_conn_t, task);
    atomic_store(&ev->active_fd[w->id], c->fd);
    pt_sb_set_state(w->sb, PT_SB_READ);
    pt_conn_next_t next = c->proto->serve_worker(w, c);
    pt_arena_reset(w->arena);
    if (ev->own_conns)
        next = hold_conn_worker(ev, w, c, next);
    atomic_store(&ev->active_fd[w->id], -1);
    finish_conn_worker(ev, c, next);
}

static void serve_task_worker(ev_child_t *ev, pt_worker_t *w, pt_task_t *t)
{
    t->serve_worker(t, w);
    pt_sb_set_state(w->sb, PT_SB_READY);
}

static pt_task_t *harvest_worker(ev_child_t *ev, pt_worker_t *w, int timeout_ms,
                                 bool waiter);

/* The next task for a looking worker (qlock held, and held again on return): the queue,
 * else epoll. The only looking worker waits on epoll itself rather than on its condition
 * variable: the next ready connection reaches it without the listener and a wake-up in
 * between (epoll wakes its most recent waiter first). Sets *again when it should look once
 * more (its wait timed out). */
static pt_task_t *next_task_worker(ev_child_t *ev, pt_worker_t *w, bool *again)
{
    pt_task_t *c = ev_take_locked(ev);
    if (c || ev->quit)
        return c;
    bool can_wait = ev->harvest && !atomic_load(&ev->stopping);
    if (!(can_wait && ev->looking == 1)) {
        /* Another worker is looking: take what epoll has now, without waiting. (The one
         * that will wait skips this: its wait returns the same events, and at one client
         * this call found nothing on every request.) */
        pthread_mutex_unlock(&ev->qlock);
        c = harvest_worker(ev, w, 0, false);
        pthread_mutex_lock(&ev->qlock);
        if (!c)
            c = ev_take_locked(ev);
    }
    if (!c && can_wait && ev->looking == 1 && !ev->quit) {
        ev->epoll_waiting++;
        pthread_mutex_unlock(&ev->qlock);
        c = harvest_worker(ev, w, EV_TICK_MS, true); /* (takes epoll_waiting back) */
        if (!c)
            pt_thread_idle(); /* (a tick without work: what it kept goes, idle.h; unlocked) */
        pthread_mutex_lock(&ev->qlock);
        *again = !c;
    }
    return c;
}

static void *worker_main(void *arg)
{
    pt_worker_t *w = arg;
    ev_child_t *ev = w->mpm;
    ev_worker_thread_init(ev);
    pthread_mutex_lock(&ev->qlock);
    ev->looking++;
    bool let_go = false; /* what it kept went since its last task (idle.h) */
    for (;;) {
        bool again = false;
        pt_task_t *c = next_task_worker(ev, w, &again);
        if (again)
            continue;
        if (!c) {
            if (ev->quit)
                break;
            if (!let_go) {
                /* Before the wait, what it kept for its next request goes, without the
                 * queue's lock (a close may block); then it looks once more, still
                 * counted as looking. */
                let_go = true;
                pthread_mutex_unlock(&ev->qlock);
                pt_thread_idle();
                pthread_mutex_lock(&ev->qlock);
                continue;
            }
            ev->looking--;
            ev->idle_stack[ev->nidle++] = w->id;
            ev->woken[w->id] = false;
            while (!ev->woken[w->id] && !ev->quit)
                pthread_cond_wait(&ev->conds[w->id], &ev->qlock);
            if (!ev->woken[w->id])
                ev->looking++; /* woken by quit, not by a push */
            continue;
        }
        let_go = false;
        ev->looking--;
        ev->serving++;
        if (atomic_load(&ev->hepoch[w->id]) & 1) /* a harvested task, now counted */
            atomic_fetch_add(&ev->hepoch[w->id], 1);
        bool more = ev->qhead != NULL;
        pthread_mutex_unlock(&ev->qlock);
        if (more)
            ev_wake_if_stale(ev, false);
        serve_task_worker(ev, w, c);
        pthread_mutex_lock(&ev->qlock);
        ev->serving--;
        ev->looking++;
    }
    ev->looking--;
    pthread_mutex_unlock(&ev->qlock);
    return NULL;
}

/* ---- Listener ---------------------------------------------------------------------- */

/* Only the listener accepts (the listening sockets are in its set alone): connections
 * are queued in the order they were accepted. */
static void accept_all_listener(ev_child_t *ev, int lfd)
{
    /* At the cap the rest stay in the backlog for siblings; update_accepting_listener then takes
     * this child's listeners out of its epoll set. */
    while (atomic_load(&ev->nconns) < ev->conn_cap) {
        int err;
        pt_conn_t *c = pt_conn_accept(lfd, ev->cfg, &err);
        if (!c) {
            if (err == -EINTR || err == -ECONNABORTED || err == -ENOMEM)
                continue;
            return;
        }
        c->async_write = !ev->own_conns;
        c->proto = ev->proto;
        c->task.serve_worker = ev_serve_conn_worker;
        atomic_fetch_add(&ev->nconns, 1);
        /* With TCP_DEFER_ACCEPT the request is usually there already: straight to a worker. */
        ev_queue_push(ev, &c->task);
        int mcpc = ev->cfg->max_connections_per_child;
        if (mcpc > 0 && ++ev->accepted >= (uint64_t)mcpc && !atomic_load(&ev->stopping)) {
            /* MaxConnectionsPerChild: this child retires; the parent starts another. */
            pt_sb_process_t *ps = &ev->ch->sb->procs[ev->ch->slot];
            if (!atomic_exchange(&ps->quiescing, true)) {
                pt_log_error(PT_LOG_INFO, NULL, "MaxConnectionsPerChild (%d) reached: child "
                             "retiring", mcpc);
                kill(getpid(), SIGUSR1);
            }
            return;
        }
    }
}

/* A waiter came out of epoll_wait with n tasks to queue beyond the one it serves. The last
 * one out pokes a dozing listener, which looks at epfd itself while nobody waits there. */
static void leave_epoll_worker(ev_child_t *ev, pt_task_t **t, int n)
{
    int wake[EV_HARVEST], nwake = 0;
    pthread_mutex_lock(&ev->qlock);
    ev->epoll_waiting--;
    ev->kick_pending = false;
    bool poke = ev->epoll_waiting == 0 && ev->listener_dozing;
    if (poke)
        ev->listener_dozing = false;
    if (n > 0)
        ev_queue_push_harvest_locked(ev, t, n, wake, &nwake);
    pthread_mutex_unlock(&ev->qlock);
    for (int i = 0; i < nwake; i++)
        pthread_cond_signal(&ev->conds[wake[i]]);
    if (poke) {
        uint64_t one = 1;
        (void)!write(ev->pokefd, &one, sizeof(one));
    }
}

/* A stop's drain waits in the workers' epoll set for what may end it: an epoch that turned
 * even is news to it. (No worker waits there once stopping is set, so this edge is the
 * drain's.) */
static void kick_drain(ev_child_t *ev)
{
    uint64_t one = 1;
    (void)!write(ev->kickfd, &one, sizeof(one));
}

/* A looking worker takes ready connections from epoll itself: the one it serves next
 * skips the trip through the listener and the queue, and the rest wait in the queue for it
 * to come back (ev_queue_push_harvest_locked). A waiter (counted in epoll_waiting) stops
 * being one here, before it queues anything, so that its own pushes do not wake another
 * worker on its behalf. Signals stay with the listener (its own epoll set). */
static pt_task_t *harvest_worker(ev_child_t *ev, pt_worker_t *w, int timeout_ms, bool waiter)
{
    if (!ev->harvest) {
        if (waiter)
            leave_epoll_worker(ev, NULL, 0);
        return NULL;
    }
    /* Odd, and counted in epoll, before stopping is read: a stop that begins meanwhile
     * either sees this worker (and keeps its wake up until the wait ends) or is seen here
     * (drain_listener stores stopping before it looks). */
    atomic_fetch_add(&ev->hepoch[w->id], 1); /* odd: this worker may hold events */
    atomic_fetch_add(&ev->in_epoll, 1);
    if (atomic_load(&ev->stopping)) {
        atomic_fetch_sub(&ev->in_epoll, 1);
        atomic_fetch_add(&ev->hepoch[w->id], 1);
        kick_drain(ev);
        if (waiter)
            leave_epoll_worker(ev, NULL, 0);
        return NULL;
    }
    struct epoll_event evs[EV_HARVEST];
    pt_task_t *got[EV_HARVEST];
    int ngot = 0;
    uint64_t look = ev_look(ev);
    int n = epoll_wait(ev->epfd, evs, EV_HARVEST, timeout_ms);
    atomic_fetch_sub(&ev->in_epoll, 1); /* (what it took is still counted: its odd epoch) */
    int64_t now_ns = n > 0 ? pt_mono_ns() : 0; /* (the bytes it finds were here by then) */
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == EV_TAG_KICK) {
            uint64_t v;
            (void)!read(ev->kickfd, &v, sizeof(v));
        } else if (tag >= EV_TAG_MAX) {
            pt_task_t *c = ev_ready(ev, tag, evs[i].events, look, now_ns);
            if (c)
                got[ngot++] = c;
        }
    }
    if (waiter)
        leave_epoll_worker(ev, got + 1, ngot - 1);
    else if (ngot > 1) {
        int wake[EV_HARVEST], nwake;
        pthread_mutex_lock(&ev->qlock);
        ev_queue_push_harvest_locked(ev, got + 1, ngot - 1, wake, &nwake);
        pthread_mutex_unlock(&ev->qlock);
        for (int i = 0; i < nwake; i++)
            pthread_cond_signal(&ev->conds[wake[i]]);
    }
    /* The epoch stays odd while this worker holds got[0], until worker_main counts it as
     * serving (under qlock): a stopping listener must see every task somewhere (drain). */
    if (!ngot) {
        atomic_fetch_add(&ev->hepoch[w->id], 1);
        if (atomic_load(&ev->stopping))
            kick_drain(ev);
    }
    return ngot ? got[0] : NULL;
}

/* ---- Start and stop ---------------------------------------------------------------- */

/* Parked connections are bounded by file descriptors, not workers: the soft open-files
 * limit goes up to the hard one, and a child takes connections while EV_FD_RESERVE are left
 * for the rest (files being served, upstream sockets, logs). A response tail's file needs
 * one more; when none is left the worker sends that tail itself. Returns the cap. */
static int raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return INT_MAX;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)INT_MAX)
        return INT_MAX / 2;
    return PT_MAX((int)rl.rlim_cur - EV_FD_RESERVE, EV_FD_RESERVE);
}

static int start_workers(ev_child_t *ev)
{
    int n = ev->cfg->threads_per_child > 0 ? ev->cfg->threads_per_child : 25;
    ev->threads = calloc((size_t)n, sizeof(*ev->threads));
    ev->workers = calloc((size_t)n, sizeof(*ev->workers));
    ev->conds = calloc((size_t)n, sizeof(*ev->conds));
    ev->woken = calloc((size_t)n, sizeof(*ev->woken));
    ev->idle_stack = calloc((size_t)n, sizeof(*ev->idle_stack));
    ev->hepoch = calloc((size_t)n, sizeof(*ev->hepoch));
    ev->active_fd = calloc((size_t)n, sizeof(*ev->active_fd));
    if (!ev->active_fd)
        return -ENOMEM;
    for (int i = 0; i < n; i++)
        atomic_store(&ev->active_fd[i], -1);
    ev->snap = calloc((size_t)n, sizeof(*ev->snap));
    if (!ev->threads || !ev->workers || !ev->conds || !ev->woken || !ev->idle_stack ||
        !ev->hepoch || !ev->snap)
        return -ENOMEM;
    for (int i = 0; i < n; i++)
        pthread_cond_init(&ev->conds[i], NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < n; i++) {
        ev->workers[i].id = i;
        ev->workers[i].arena = pt_arena_create(16384);
        ev->workers[i].mpm = ev;
        if (ev->ch->sb && i < ev->ch->sb->thread_limit) {
            ev->workers[i].sb = pt_sb_worker(ev->ch->sb, ev->ch->slot, i);
            ev->workers[i].sb_counters = &ev->ch->sb->counters[ev->ch->slot];
            pt_sb_set_state(ev->workers[i].sb, PT_SB_READY);
        }
        int rc = pthread_create(&ev->threads[i], &attr, worker_main, &ev->workers[i]);
        if (rc != 0) {
            pt_arena_destroy(ev->workers[i].arena);
            pt_log_error(PT_LOG_CRIT, NULL, "cannot start worker thread: %s", strerror(rc));
            /* This slot and those after it have no thread: open, not waiting or starting. */
            for (int j = i; ev->ch->sb && j < PT_MIN(n, ev->ch->sb->thread_limit); j++)
                pt_sb_set_state(pt_sb_worker(ev->ch->sb, ev->ch->slot, j), PT_SB_DEAD);
            break;
        }
        ev->nworkers++;
    }
    pthread_attr_destroy(&attr);
    return ev->nworkers > 0 ? 0 : -EAGAIN;
}

static void stop_workers(ev_child_t *ev)
{
    pthread_mutex_lock(&ev->qlock);
    ev->quit = true;
    for (int i = 0; i < ev->nworkers; i++)
        pthread_cond_signal(&ev->conds[i]);
    pthread_mutex_unlock(&ev->qlock);
    uint64_t one = 1;
    if (ev->wakefd >= 0)
        (void)!write(ev->wakefd, &one, sizeof(one)); /* level-triggered: wakes every waiter */
    for (int i = 0; i < ev->nworkers; i++) {
        pthread_join(ev->threads[i], NULL);
        pt_arena_destroy(ev->workers[i].arena);
    }
    if (ev->conds) {
        int n = ev->cfg->threads_per_child > 0 ? ev->cfg->threads_per_child : 25;
        for (int i = 0; i < n; i++)
            pthread_cond_destroy(&ev->conds[i]);
    }
    free(ev->threads);
    free(ev->workers);
    free(ev->conds);
    free(ev->woken);
    free(ev->idle_stack);
    free(ev->hepoch);
    free(ev->snap);
    free(ev->active_fd);
    ev->hepoch = NULL;
    ev->snap = NULL;
    ev->nworkers = 0; /* nobody can hold an event any more: the graveyard frees at once */
}

/* Whether anything this child took is still being served: queued, with a worker, a
 * response tail or tunnel parked, or an event a harvesting worker holds. One look under
 * both locks (tlock, then qlock, as ev_expire_listener may queue under tlock): a task moves
 * between those places only under one of them or inside a worker's odd harvest epoch, so
 * it cannot slip between two looks, as a tail a worker had just taken from epoll did (its
 * download was cut when the child exited). */
static bool in_flight_listener(ev_child_t *ev, bool *queued)
{
    pthread_mutex_lock(&ev->tlock);
    pthread_mutex_lock(&ev->qlock);
    *queued = ev->qhead != NULL;
    bool busy = *queued || ev->serving > 0 || ev->nparked[PT_PARK_WRITE] > 0 ||
                ev->nparked[PT_PARK_TUNNEL] > 0 || ev->nparked[PT_PARK_UPSTREAM] > 0;
    for (int i = 0; !busy && i < ev->nworkers; i++)
        busy = atomic_load(&ev->hepoch[i]) & 1;
    pthread_mutex_unlock(&ev->qlock);
    pthread_mutex_unlock(&ev->tlock);
    return busy;
}

/* Stop accepting and wait for in-flight requests, bounded by GracefulShutdownTimeout.
 * What this child accepted is served, as an Apache child finishes what it took. */
static void drain_listener(ev_child_t *ev)
{
    atomic_store(&ev->stopping, true);
    ev_wake_busy_listener(ev);
    /* A worker waiting in epoll counts as in flight (it may come out holding events) until
     * its wait ends, which its tick (EV_TICK_MS) did: every stop took up to 250 ms. The wake
     * is level-triggered, so it brings that worker out even when this thread's wait below
     * sees it first (an edge would reach one of them); the worker finds stopping and waits
     * there no more. Once no worker is inside epoll_wait the wake is taken back, or the wait
     * below would return at once for as long as requests are in flight (a worker that came
     * out with a response tail to write may write it for long). */
    uint64_t one = 1;
    (void)!write(ev->wakefd, &one, sizeof(one));
    bool waking = true;
    if (ev->accepting)
        for (size_t i = 0; i < ev->nls; i++) {
            epoll_ctl(ev->lepfd, EPOLL_CTL_DEL, ev->ls[i].fd, NULL);
            /* EPOLLEXCLUSIVE may have woken only this child for a connection that is
             * waiting, and no sibling: take what is there (non-blocking) and serve it. */
            accept_all_listener(ev, ev->ls[i].fd);
        }
    ev->accepting = false;
    int64_t limit = ev->drain_limit_ms;
    int64_t deadline = limit >= 0 ? pt_now_ms() + limit : INT64_MAX;
    struct epoll_event evs[EV_BATCH];
    int64_t last_tick = pt_now_ms();
    for (;;) {
        ev_expire_listener(ev, pt_now_ms(), true, false);
        bool queued;
        if (!in_flight_listener(ev, &queued))
            break;
        if (waking && atomic_load(&ev->in_epoll) == 0) {
            uint64_t v;
            (void)!read(ev->wakefd, &v, sizeof(v));
            waking = false;
        }
        /* The queue's usual wake waits for a busy worker to come back (listen_loop wakes
         * another once the head is stale); here that worker may hold a long response, and
         * nothing else would wake one: a connection queued just before the signal would
         * wait for it. Nothing new arrives now, so wake an idle worker at once. */
        if (queued)
            ev_wake_if_stale(ev, true);
        if (pt_now_ms() >= deadline) {
            pt_log_error(PT_LOG_WARN, NULL, "GracefulShutdownTimeout reached with requests "
                         "in flight; cutting them off");
            /* A worker blocked on a client that does not read would otherwise hold the
             * exit until Timeout: shut its socket so the write fails now. The kernel's
             * shutdown on the bare fd, not the transport's: the connection belongs to that
             * worker's thread, and this only makes its next system call fail. */
            for (int i = 0; i < ev->nworkers; i++) {
                int fd = atomic_load(&ev->active_fd[i]);
                if (fd >= 0)
                    shutdown(fd, SHUT_RDWR);
            }
            ev_expire_listener(ev, pt_now_ms(), true, true);
            break;
        }
        /* Parked connections that wake up now are closed (their ready op sees stopping);
         * response tails go on. */
        int n = epoll_wait(ev->epfd, evs, EV_BATCH, 50);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 < EV_TAG_MAX)
                continue;
            pt_task_t *t = ev_ready(ev, evs[i].data.u64, evs[i].events, 0, 0);
            if (t)
                ev_queue_push(ev, t);
        }
        pt_log_flush_all();
        /* The tick goes on while requests finish: idle upstream connections must not keep a
         * backend's worker for as long as a slow download drains. */
        int64_t now = pt_now_ms();
        if (ev->ch->hooks && ev->ch->hooks->tick_listener && now - last_tick >= EV_HOOK_TICK_MS) {
            ev->ch->hooks->tick_listener(now);
            last_tick = now;
        }
    }
}

/* Returns true when the loop should stop, with ev->drain_limit_ms set: TERM (stop) gives
 * in-flight requests GracefulShutdownTimeout; USR1 and WINCH (graceful restart or stop,
 * retirement) let them finish; HUP (restart) stops at once. */
static bool on_signal_listener(ev_child_t *ev)
{
    struct signalfd_siginfo si;
    bool stop = false;
    int64_t gst = ev->cfg->graceful_shutdown_timeout_ms;
    while (read(ev->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGTERM: case SIGINT:
            ev->drain_limit_ms = gst > 0 ? gst : -1;
            stop = true;
            break;
        case SIGHUP:
            ev->drain_limit_ms = 0;
            stop = true;
            break;
        case SIGUSR1: case SIGWINCH:
            ev->drain_limit_ms = si.ssi_signo == SIGWINCH && gst > 0 ? gst : -1;
            stop = true;
            break;
        default:
            break;
        }
    }
    return stop;
}

/* AsyncRequestWorkerFactor, as Apache's connections_above_limit: a child whose
 * connections that need a worker outnumber ThreadsPerChild + idle workers x factor stops
 * accepting, and its siblings take the new ones. Only connections queued for a worker or
 * held by one count: a parked connection waits for its client (a head still arriving, a
 * response tail the listener writes, keep-alive, lingering) and costs a file descriptor and
 * a few hundred bytes, not a worker. Counting slow clients here would let 1,000 slowloris
 * connections close every child's door; they are bounded by conn_cap instead. */
static void update_accepting_listener(ev_child_t *ev)
{
    if (atomic_load(&ev->stopping))
        return;
    pthread_mutex_lock(&ev->tlock);
    int parked = (int)ev->hlen;
    pt_sb_process_t *ps = &ev->ch->sb->procs[ev->ch->slot];
    atomic_store(&ps->conns_keepalive, (uint32_t)ev->nparked[PT_PARK_KEEPALIVE]);
    atomic_store(&ps->conns_lingering, (uint32_t)ev->nparked[PT_PARK_LINGER]);
    atomic_store(&ps->conns_writing, (uint32_t)ev->nparked[PT_PARK_WRITE]);
    atomic_store(&ps->conns_reading, (uint32_t)ev->nparked[PT_PARK_READ]);
    atomic_store(&ps->conns_handshake, (uint32_t)ev->nparked[PT_PARK_HANDSHAKE]);
    atomic_store(&ps->conns_backend, (uint32_t)ev->nparked[PT_PARK_UPSTREAM]);
    pthread_mutex_unlock(&ev->tlock);
    int total = atomic_load(&ev->nconns);
    atomic_store(&ps->conns_total, (uint32_t)PT_MAX(total, 0));
    pthread_mutex_lock(&ev->qlock);
    int idle_workers = ev->nidle + ev->looking;
    pthread_mutex_unlock(&ev->qlock);
    double f = ev->cfg->async_request_worker_factor > 0 ? ev->cfg->async_request_worker_factor
                                                        : 2.0;
    int limit = ev->nworkers + (int)(idle_workers * f);
    int active = total - parked;
    bool full = active > limit || total >= ev->conn_cap;
    bool room = active < limit && total < ev->conn_cap;
    if (ev->accepting && full) {
        for (size_t i = 0; i < ev->nls; i++)
            epoll_ctl(ev->lepfd, EPOLL_CTL_DEL, ev->ls[i].fd, NULL);
        ev->accepting = false;
        pt_log_error(PT_LOG_DEBUG, NULL, "child full (%d of %d connections need workers, limit "
                     "%d; cap %d): not accepting", active, total, limit, ev->conn_cap);
    } else if (!ev->accepting && room) {
        for (size_t i = 0; i < ev->nls; i++) {
            struct epoll_event e = {.events = EPOLLIN | EPOLLEXCLUSIVE,
                                    .data.u64 = EV_TAG_LISTEN + i};
            epoll_ctl(ev->lepfd, EPOLL_CTL_ADD, ev->ls[i].fd, &e);
        }
        ev->accepting = true;
    }
}

/* Events from either set; returns true when a signal says stop. */
static bool dispatch_listener(ev_child_t *ev, struct epoll_event *evs, int n, uint64_t look)
{
    bool stop = false;
    int64_t now_ns = 0; /* read at the first parked thing's event: its bytes were here by then */
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == EV_TAG_SIGNAL)
            stop = on_signal_listener(ev) || stop;
        else if (tag >= EV_TAG_LISTEN && tag < EV_TAG_LISTEN + ev->nls)
            accept_all_listener(ev, ev->ls[tag - EV_TAG_LISTEN].fd);
        else if (tag == EV_TAG_POKE) {
            uint64_t v;
            (void)!read(ev->pokefd, &v, sizeof(v));
        } else if (tag == EV_TAG_KICK) {
            /* A kick meant for a worker in epoll reached us: wake one for the queue. */
            uint64_t v;
            (void)!read(ev->kickfd, &v, sizeof(v));
            ev_wake_if_stale(ev, true);
        } else if (tag >= EV_TAG_MAX) {
            if (!now_ns)
                now_ns = pt_mono_ns();
            pt_task_t *t = ev_ready(ev, tag, evs[i].events, look, now_ns);
            if (t)
                ev_queue_push(ev, t);
        }
    }
    return stop;
}

/* With a set of its own, the listener takes the workers' events only while no worker
 * waits for them (all serving, say, one of them in a slow handler): what is ready then
 * goes to the queue, and the stale rule finds it a worker. */
static void sweep_listener(ev_child_t *ev, struct epoll_event *evs)
{
    if (ev->lepfd == ev->epfd)
        return;
    pthread_mutex_lock(&ev->qlock);
    bool nobody = ev->epoll_waiting == 0;
    pthread_mutex_unlock(&ev->qlock);
    if (nobody) {
        uint64_t look = ev_look(ev);
        dispatch_listener(ev, evs, epoll_wait(ev->epfd, evs, EV_BATCH, 0), look);
    }
}

static void listen_loop(ev_child_t *ev)
{
    struct epoll_event evs[EV_BATCH];
    int64_t last_flush = pt_now_ms(), last_tick = last_flush;
    void (*tick)(int64_t) = ev->ch->hooks ? ev->ch->hooks->tick_listener : NULL;
    bool stop = false;
    /* The clock as read after the last dispatch, while nothing since could have waited (a
     * log flush or a tick may): the next wait's timeout counts from it. 0: read again. */
    int64_t fresh = 0;
    while (!stop) {
        uint64_t look = ev_look(ev);
        int n = epoll_wait(ev->lepfd, evs, EV_BATCH,
                           ev_next_timeout_listener(ev, fresh > 0 ? fresh : pt_now_ms()));
        if (n < 0 && errno != EINTR) {
            pt_log_error(PT_LOG_CRIT, NULL, "epoll_wait: %s", strerror(errno));
            break;
        }
        stop = dispatch_listener(ev, evs, n, look);
        sweep_listener(ev, evs);
        int64_t now = pt_now_ms();
        ev_expire_listener(ev, now, false, false);
        ev_wake_if_stale(ev, false);
        update_accepting_listener(ev);
        fresh = now;
        if (now - last_flush >= EV_TICK_MS) {
            pt_log_flush_all();
            last_flush = now;
            fresh = 0;
        }
        if (tick && now - last_tick >= EV_HOOK_TICK_MS) {
            tick(now);
            last_tick = now;
            fresh = 0;
        }
    }
}

/* The epoll sets and their eventfds; -1 when one cannot be made. */
static int open_sets(ev_child_t *ev, const sigset_t *set)
{
    ev->epfd = epoll_create1(EPOLL_CLOEXEC);
    ev->lepfd = ev->harvest ? epoll_create1(EPOLL_CLOEXEC) : ev->epfd;
    ev->sigfd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
    ev->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ev->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ev->pokefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ev->epfd < 0 || ev->lepfd < 0 || ev->sigfd < 0 || ev->wakefd < 0 || ev->kickfd < 0 ||
        ev->pokefd < 0)
        return -1;
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = EV_TAG_SIGNAL};
    epoll_ctl(ev->lepfd, EPOLL_CTL_ADD, ev->sigfd, &e);
    e.data.u64 = EV_TAG_POKE;
    if (ev->lepfd != ev->epfd)
        epoll_ctl(ev->lepfd, EPOLL_CTL_ADD, ev->pokefd, &e);
    e.data.u64 = EV_TAG_WAKE;
    epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->wakefd, &e);
    e.events = EPOLLIN | EPOLLET;
    e.data.u64 = EV_TAG_KICK;
    epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->kickfd, &e);
    for (size_t i = 0; i < ev->nls; i++) {
        /* Children share the listeners: EPOLLEXCLUSIVE wakes one of them, not all. In the
         * listener's set, whose thread always waits there: which child accepts stays the
         * kernel's plain choice (the first that waits), and a busy child's workers never
         * wake for a new connection. */
        e.events = EPOLLIN | EPOLLEXCLUSIVE;
        e.data.u64 = EV_TAG_LISTEN + i;
        epoll_ctl(ev->lepfd, EPOLL_CTL_ADD, ev->ls[i].fd, &e);
    }
    ev->accepting = true;
    return 0;
}

static void close_sets(ev_child_t *ev)
{
    if (ev->lepfd >= 0 && ev->lepfd != ev->epfd)
        close(ev->lepfd);
    int fds[] = {ev->epfd, ev->sigfd, ev->wakefd, ev->kickfd, ev->pokefd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

int pt_event_child_main(const pt_child_t *ch, bool own_connections)
{
    const pt_config_t *cfg = ch->cfg;
    ev_child_t ev = {.cfg = cfg, .ch = ch, .proto = ch->proto, .ls = ch->ls, .nls = ch->nls,
                     .epfd = -1, .lepfd = -1, .sigfd = -1, .wakefd = -1, .kickfd = -1,
                     .pokefd = -1, .own_conns = own_connections,
                     .harvest = !own_connections, .drain_limit_ms = -1};
    atomic_store(&ch->sb->procs[ch->slot].pid, getpid());
    pthread_mutex_init(&ev.qlock, NULL);
    pthread_mutex_init(&ev.tlock, NULL);
    ev.conn_cap = raise_nofile();
    cpu_set_t cpus;
    ev.ncpu = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : 1;

    sigset_t set;
    pt_mpm_signals(&set, false);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* workers inherit the mask */

    int rc = 1;
    if (open_sets(&ev, &set) != 0) {
        pt_log_error(PT_LOG_CRIT, NULL, "cannot set up epoll: %s", strerror(errno));
        goto out;
    }
    if (start_workers(&ev) != 0)
        goto out;
    pt_log_error(PT_LOG_DEBUG, NULL, "child started: %s MPM, %d worker threads, generation %u",
                 own_connections ? "worker" : "event", ev.nworkers, ch->generation);
    listen_loop(&ev);
    drain_listener(&ev);
    rc = 0;
out:
    stop_workers(&ev);
    /* Whatever is left: expired (closed) and freed; queued tasks are connections. */
    ev_expire_listener(&ev, INT64_MAX, true, true);
    for (pt_task_t *t = ev.qhead, *n; t; t = n) {
        n = t->next;
        pt_conn_destroy(PT_CONTAINER_OF(t, pt_conn_t, task));
    }
    ev_free_graveyard_listener(&ev, true);
    free(ev.heap);
    free(ev.fd2s);
    close_sets(&ev);
    pthread_mutex_destroy(&ev.qlock);
    pthread_mutex_destroy(&ev.tlock);
    pt_log_flush_all();
    return rc;
}
