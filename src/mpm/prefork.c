/* The prefork MPM's child: single-threaded, one connection at a time, for in-process
 * handlers that are not thread-safe. Children share the listeners through EPOLLEXCLUSIVE,
 * so one child wakes per new connection (Apache uses an accept mutex for the same end). */
#include "conn.h"
#include "idle.h"
#include "log.h"
#include "mpm.h"
#include "scoreboard.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define PF_TAG_SIGNAL UINT64_MAX
#define PF_TICK_MS 1000 /* the tick_listener hook runs about this often */

/* When this process last ran the tick (it is single-threaded: the process is its own
 * listener). */
static int64_t last_tick_ms;

/* Runs the tick_listener hook when PF_TICK_MS have passed since it last ran, wherever the
 * process waits: between connections, and while a kept-alive client has it (a prefork child
 * serves one client at a time, and its idle upstream connections must not outlive a
 * backend's patience for as long as that client stays, however often it sends). */
static void tick_maybe(const pt_child_t *ch)
{
    int64_t now = pt_now_ms();
    if (now - last_tick_ms < PF_TICK_MS)
        return;
    last_tick_ms = now;
    if (ch->hooks && ch->hooks->tick_listener)
        ch->hooks->tick_listener(now);
}

/* Waits for the next request on c while watching for a stop signal. 0: readable (or, when
 * the last read must let the transport write first, writable); PT_ETIMEOUT; PT_ECLOSED
 * when a signal says stop. */
static int wait_conn(const pt_child_t *ch, pt_conn_t *c, int sigfd, int64_t deadline)
{
    short events = pt_conn_read_events(c);
    if (events == POLLIN && pt_conn_pending(c))
        return 0; /* bytes inside the transport: readable without the socket saying so */
    struct pollfd p[2] = {{.fd = c->fd, .events = events}, {.fd = sigfd, .events = POLLIN}};
    for (;;) {
        int64_t left = deadline - pt_now_ms();
        if (left <= 0)
            return PT_ETIMEOUT;
        tick_maybe(ch);
        int n = poll(p, 2, (int)PT_MIN(left, PF_TICK_MS));
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n == 0)
            pt_thread_idle(); /* (a tick without the next request: idle.h) */
        if (n > 0 && p[1].revents)
            return PT_ECLOSED; /* the signal stays pending for the main loop */
        if (n > 0 && p[0].revents)
            return 0;
    }
}

/* Lingering close: stop sending, drain what the client still sends until it closes or
 * PT_LINGER_MS pass. The deadline is checked between reads too: a client that keeps
 * sending always has data ready, and a zero-timeout wait would let it linger forever. */
static void linger_close(pt_conn_t *c)
{
    if (pt_conn_shutdown_write(c) == 0) {
        char buf[4096];
        int64_t deadline = pt_now_ms() + PT_LINGER_MS;
        while (pt_now_ms() < deadline &&
               pt_conn_wait(c, POLLIN, PT_MAX(deadline - pt_now_ms(), 0)) == 0 &&
               pt_conn_recv_some(c, buf, sizeof(buf)) > 0)
            ;
    }
    pt_conn_destroy(c);
}

/* One connection, start to end, keep-alive included. */
static void serve_connection(const pt_child_t *ch, pt_worker_t *w, pt_conn_t *c, int sigfd)
{
    pt_conn_next_t next = PT_NEXT_PARK_READ;
    bool first = true;
    for (;;) {
        if (!first) {
            bool ka = next == PT_NEXT_PARK_KEEPALIVE;
            if (ka)
                pt_conn_shrink(c);
            int64_t deadline = ka ? pt_conn_keepalive_deadline(c)
                                  : pt_conn_read_deadline(c);
            pt_sb_set_state(w->sb, ka ? PT_SB_KEEPALIVE : PT_SB_READ);
            int rc = wait_conn(ch, c, sigfd, deadline);
            if (rc != 0) {
                if (rc == PT_ETIMEOUT && !ka && c->head_bytes > 0 && c->proto->read_timeout)
                    c->proto->read_timeout(c);
                /* An idle HTTP/2 session says GOAWAY at its keep-alive timeout and at a
                 * stop, as under the event MPM (the listener's expiry at a stop). */
                if ((rc == PT_ETIMEOUT || rc == PT_ECLOSED) && ka && c->proto->idle_timeout)
                    c->proto->idle_timeout(c);
                pt_conn_destroy(c);
                return;
            }
        }
        first = false;
        pt_sb_set_state(w->sb, PT_SB_READ);
        next = c->proto->serve_worker(w, c);
        pt_arena_reset(w->arena);
        if (next == PT_NEXT_LINGER) {
            pt_sb_set_state(w->sb, PT_SB_CLOSING);
            linger_close(c);
            return;
        }
        if (next == PT_NEXT_CLOSE) {
            pt_conn_destroy(c);
            return;
        }
    }
}

static void accept_one(const pt_child_t *ch, pt_worker_t *w, int lfd, int sigfd)
{
    int err;
    pt_conn_t *c = pt_conn_accept(lfd, ch->cfg, &err);
    if (!c)
        return;
    c->proto = ch->proto;
    serve_connection(ch, w, c, sigfd);
}

int pt_prefork_child_main(const pt_child_t *ch)
{
    atomic_store(&ch->sb->procs[ch->slot].pid, getpid());
    sigset_t set;
    pt_mpm_signals(&set, false);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (sigfd < 0 || ep < 0) {
        pt_log_error(PT_LOG_CRIT, NULL, "prefork child: %s", strerror(errno));
        return 1;
    }
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = PF_TAG_SIGNAL};
    epoll_ctl(ep, EPOLL_CTL_ADD, sigfd, &e);
    for (size_t i = 0; i < ch->nls; i++) {
        e.events = EPOLLIN | EPOLLEXCLUSIVE;
        e.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, ch->ls[i].fd, &e);
    }
    pt_worker_t w = {.id = 0, .arena = pt_arena_create(16384), .sb = pt_sb_worker(ch->sb, ch->slot, 0),
                     .sb_counters = &ch->sb->counters[ch->slot]};
    int mcpc = ch->cfg->max_connections_per_child;
    uint64_t served = 0;
    bool stop = false;
    last_tick_ms = pt_now_ms();
    while (!stop) {
        tick_maybe(ch); /* between connections: the wait below is 1 s at most */
        pt_thread_idle(); /* (what it kept for its next request goes: idle.h) */
        pt_sb_set_state(w.sb, PT_SB_READY);
        struct epoll_event evs[8];
        int n = epoll_wait(ep, evs, 8, 1000);
        for (int i = 0; i < n && !stop; i++) {
            if (evs[i].data.u64 == PF_TAG_SIGNAL) {
                /* Each of the signals in the set means stop; nothing is in flight here. */
                struct signalfd_siginfo si;
                while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                    stop = true;
                continue;
            }
            accept_one(ch, &w, ch->ls[evs[i].data.u64].fd, sigfd);
            if (mcpc > 0 && ++served >= (uint64_t)mcpc) {
                pt_log_error(PT_LOG_INFO, NULL, "MaxConnectionsPerChild (%d) reached: child "
                             "retiring", mcpc);
                atomic_store(&ch->sb->procs[ch->slot].quiescing, true);
                stop = true;
            }
        }
        pt_log_flush_all();
    }
    pt_sb_set_state(w.sb, PT_SB_DEAD);
    pt_arena_destroy(w.arena);
    close(ep);
    close(sigfd);
    pt_log_flush_all();
    return 0;
}
