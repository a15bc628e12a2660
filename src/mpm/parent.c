/* The parent process, shared by the three MPMs: it never serves a request. It creates the
 * scoreboard, starts StartServers children, reaps and replaces those that exit, keeps the
 * idle workers between the spare bounds once a second, and runs restarts: re-read the
 * configuration (a broken one is logged and the old one kept), start the new generation,
 * tell the old one to finish and exit. The parent stays single-threaded so fork is safe. */
#include "log.h"
#include "mpm.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define PARENT_TICK_MS 1000
#define MAX_SPAWN_RATE 32  /* children started per second at most, as Apache */

typedef struct {
    pt_mpm_ctx_t *ctx;
    pt_scoreboard_t *sb;
    int sigfd;
    int spawn_rate;        /* doubles each second that spares are short */
    bool stopping;
    bool killed;           /* the stop ran out of time and sent SIGKILL itself */
} parent_t;

static int threads_per_child(const pt_config_t *cfg)
{
    return cfg->mpm == PT_MPM_PREFORK ? 1 : cfg->threads_per_child;
}

/* ---- Children ---------------------------------------------------------------------- */

static void child_run(parent_t *p, int slot)
{
    /* In the child: die with the parent. The signals stay blocked: the child's MPM reads
     * them from its own signalfd. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    close(p->sigfd);
    if (p->ctx->switch_ids &&
        (setgroups(1, &p->ctx->gid) != 0 || setgid(p->ctx->gid) != 0 ||
         setuid(p->ctx->uid) != 0)) {
        pt_log_error(PT_LOG_ALERT, NULL, "cannot switch to User %s Group %s: %s",
                     p->ctx->cfg->user, p->ctx->cfg->group ? p->ctx->cfg->group : "-",
                     strerror(errno));
        pt_log_flush_all();
        _exit(1);
    }
    const pt_mpm_hooks_t *hooks = p->ctx->hooks;
    pt_child_t ch = {.cfg = p->ctx->cfg, .ls = p->ctx->ls, .nls = p->ctx->nls, .sb = p->sb,
                     .slot = slot, .generation = atomic_load(&p->sb->generation),
                     .proto = p->ctx->proto, .hooks = hooks};
    pt_scoreboard_set(p->sb);
    if (hooks && hooks->child_init && hooks->child_init(ch.cfg) != 0) {
        pt_log_flush_all();
        _exit(1);
    }
    int rc = p->ctx->cfg->mpm == PT_MPM_PREFORK ? pt_prefork_child_main(&ch)
                                                 : pt_event_child_main(&ch, p->ctx->cfg->mpm ==
                                                                                PT_MPM_WORKER);
    if (hooks && hooks->child_exit)
        hooks->child_exit(ch.cfg);
    pt_log_flush_all();
    exit(rc); /* exit, not _exit: the sanitizers check the child's leaks too */
}

static int free_slot(parent_t *p)
{
    for (int i = 0; i < p->sb->server_limit; i++)
        if (atomic_load(&p->sb->procs[i].pid) == 0)
            return i;
    return -1;
}

static int spawn(parent_t *p)
{
    int slot = free_slot(p);
    if (slot < 0)
        return -1;
    pt_sb_process_t *ps = &p->sb->procs[slot];
    ps->generation = atomic_load(&p->sb->generation);
    atomic_store(&ps->quiescing, false);
    atomic_store(&ps->fcgi_spool_bytes, 0); /* what a crashed child held is free again */
    int tpc = threads_per_child(p->ctx->cfg);
    for (int t = 0; t < p->sb->thread_limit; t++)
        pt_sb_set_state(pt_sb_worker(p->sb, slot, t), t < tpc ? PT_SB_STARTING : PT_SB_DEAD);
    pt_log_flush_all(); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        pt_log_error(PT_LOG_ALERT, NULL, "fork: %s; cannot start a child", strerror(errno));
        return -1;
    }
    if (pid == 0)
        child_run(p, slot);
    atomic_store(&ps->pid, pid);
    return 0;
}

static int live_children(parent_t *p, bool count_quiescing)
{
    int n = 0;
    for (int i = 0; i < p->sb->server_limit; i++)
        if (atomic_load(&p->sb->procs[i].pid) != 0 &&
            (count_quiescing || !atomic_load(&p->sb->procs[i].quiescing)))
            n++;
    return n;
}

static void signal_children(parent_t *p, int sig, bool only_current)
{
    uint32_t gen = atomic_load(&p->sb->generation);
    for (int i = 0; i < p->sb->server_limit; i++) {
        pt_sb_process_t *ps = &p->sb->procs[i];
        pid_t pid = atomic_load(&ps->pid);
        if (pid == 0 || (only_current && ps->generation == gen))
            continue;
        if (sig != SIGKILL)
            atomic_store(&ps->quiescing, true);
        kill(pid, sig);
    }
}

static const char *describe_exit(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "exit signal %s (%d)%s", strsignal(WTERMSIG(status)),
                 WTERMSIG(status), WCOREDUMP(status) ? ", possible coredump" : "");
    else
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    return buf;
}

static void reap(parent_t *p)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pt_log_piped_exited(pid, status))
            continue; /* a piped log program (base/log.c), started again */
        for (int i = 0; i < p->sb->server_limit; i++) {
            pt_sb_process_t *ps = &p->sb->procs[i];
            if (atomic_load(&ps->pid) != pid)
                continue;
            bool expected = atomic_load(&ps->quiescing) || p->stopping;
            bool abnormal = WIFSIGNALED(status) || WEXITSTATUS(status) != 0;
            /* A child that crashes while stopping or retiring crashed all the same: an error,
             * which the logs' watchers (and the tests) see. Only the SIGKILL the stop itself
             * sent after GracefulShutdownTimeout is a warning; it was logged as such. */
            bool ours = p->killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
            char why[96];
            if (!expected || abnormal)
                pt_log_error(ours ? PT_LOG_WARN : PT_LOG_ERR, NULL, "child pid %d %s%s",
                             (int)pid, describe_exit(status, why, sizeof(why)),
                             expected ? " while stopping" : "; starting a replacement");
            for (int t = 0; t < p->sb->thread_limit; t++)
                pt_sb_set_state(pt_sb_worker(p->sb, i, t), PT_SB_DEAD);
            atomic_store(&ps->pid, 0);
            if (!expected && !p->stopping)
                spawn(p);
        }
    }
}

/* ---- Spare capacity ---------------------------------------------------------------- */

static void count_idle(parent_t *p, int *idle, int *children)
{
    uint32_t gen = atomic_load(&p->sb->generation);
    *idle = 0;
    *children = 0;
    for (int i = 0; i < p->sb->server_limit; i++) {
        pt_sb_process_t *ps = &p->sb->procs[i];
        if (atomic_load(&ps->pid) == 0 || atomic_load(&ps->quiescing) || ps->generation != gen)
            continue;
        (*children)++;
        for (int t = 0; t < p->sb->thread_limit; t++) {
            char st = atomic_load(&pt_sb_worker(p->sb, i, t)->state);
            if (st == PT_SB_READY || st == PT_SB_STARTING)
                (*idle)++;
        }
    }
}

static int max_children(const pt_config_t *cfg)
{
    int by_workers = cfg->max_request_workers / threads_per_child(cfg);
    return PT_MAX(1, PT_MIN(cfg->server_limit, by_workers));
}

/* Once a second, as Apache's perform_idle_server_maintenance: start children while idle
 * workers are below the minimum (doubling the rate each second up to MAX_SPAWN_RATE),
 * retire one gracefully while they are above the maximum. */
static void maintain_spares(parent_t *p)
{
    const pt_config_t *cfg = p->ctx->cfg;
    bool prefork = cfg->mpm == PT_MPM_PREFORK;
    int min = prefork ? cfg->min_spare_servers : cfg->min_spare_threads;
    int max = prefork ? cfg->max_spare_servers : cfg->max_spare_threads;
    int idle, children;
    count_idle(p, &idle, &children);
    if (idle > max && children > 1) {
        for (int i = p->sb->server_limit - 1; i >= 0; i--) {
            pt_sb_process_t *ps = &p->sb->procs[i];
            pid_t pid = atomic_load(&ps->pid);
            if (pid == 0 || atomic_load(&ps->quiescing))
                continue;
            atomic_store(&ps->quiescing, true);
            kill(pid, SIGUSR1); /* finish what it holds, then exit */
            pt_log_error(PT_LOG_INFO, NULL, "%d idle workers (MaxSpare %d): retiring child %d",
                         idle, max, (int)pid);
            break;
        }
        p->spawn_rate = 1;
        return;
    }
    if (idle >= min || children >= max_children(cfg)) {
        p->spawn_rate = 1;
        return;
    }
    int want = PT_MIN(p->spawn_rate, max_children(cfg) - children);
    if (p->spawn_rate >= 8)
        pt_log_error(PT_LOG_INFO, NULL, "server seems busy (%d idle workers, MinSpare %d): "
                     "starting %d children", idle, min, want);
    for (int i = 0; i < want; i++)
        if (spawn(p) != 0)
            break;
    p->spawn_rate = PT_MIN(p->spawn_rate * 2, MAX_SPAWN_RATE);
}

/* Apache's adjustments of inconsistent process limits, each with a warning. */
static void adjust_limits(pt_config_t *cfg)
{
    int tpc = threads_per_child(cfg);
    if (cfg->mpm != PT_MPM_PREFORK && cfg->threads_per_child > cfg->thread_limit) {
        pt_log_error(PT_LOG_WARN, NULL, "ThreadsPerChild of %d exceeds ThreadLimit of %d, "
                     "decreasing to match", cfg->threads_per_child, cfg->thread_limit);
        cfg->threads_per_child = tpc = cfg->thread_limit;
    }
    if (cfg->max_request_workers < tpc) {
        pt_log_error(PT_LOG_WARN, NULL, "MaxRequestWorkers of %d is less than ThreadsPerChild "
                     "of %d, increasing to %d", cfg->max_request_workers, tpc, tpc);
        cfg->max_request_workers = tpc;
    }
    if (cfg->max_request_workers % tpc) {
        int v = cfg->max_request_workers / tpc * tpc;
        pt_log_error(PT_LOG_WARN, NULL, "MaxRequestWorkers of %d is not an integer multiple "
                     "of ThreadsPerChild of %d, decreasing to nearest multiple %d",
                     cfg->max_request_workers, tpc, v);
        cfg->max_request_workers = v;
    }
    if (cfg->max_request_workers / tpc > cfg->server_limit) {
        int v = cfg->server_limit * tpc;
        pt_log_error(PT_LOG_WARN, NULL, "MaxRequestWorkers of %d would require %d servers and "
                     "would exceed ServerLimit of %d, decreasing to %d",
                     cfg->max_request_workers, cfg->max_request_workers / tpc, cfg->server_limit,
                     v);
        cfg->max_request_workers = v;
    }
    if (cfg->start_servers > max_children(cfg))
        cfg->start_servers = max_children(cfg);
    if (cfg->start_servers < 1)
        cfg->start_servers = 1;
    if (cfg->max_spare_threads < cfg->min_spare_threads + tpc)
        cfg->max_spare_threads = cfg->min_spare_threads + tpc;
    if (cfg->max_spare_servers <= cfg->min_spare_servers)
        cfg->max_spare_servers = cfg->min_spare_servers + 1;
}

/* ---- Restarts and stop ------------------------------------------------------------- */

static void restart(parent_t *p, bool graceful)
{
    pt_mpm_ctx_t *ctx = p->ctx;
    char err[PT_ERRLEN];
    pt_log_error(PT_LOG_NOTICE, NULL, "caught %s, %s", graceful ? "SIGUSR1" : "SIGHUP",
                 graceful ? "doing a graceful restart" : "restarting");
    pt_config_t *ncfg = pt_config_load(ctx->conf_path, ctx->opts, err, sizeof(err));
    if (!ncfg) {
        pt_log_error(PT_LOG_ERR, NULL, "not restarting; the configuration has an error "
                     "(still serving the previous one): %s", err);
        return;
    }
    if (ncfg->mpm != ctx->cfg->mpm) {
        pt_log_error(PT_LOG_ERR, NULL, "not restarting: changing the MPM from %s to %s needs "
                     "a stop and a start", pt_mpm_name(ctx->cfg->mpm), pt_mpm_name(ncfg->mpm));
        pt_config_free(ncfg);
        return;
    }
    pt_listener_t *nls;
    size_t nn;
    if (pt_listen_reopen(ncfg, ctx->ls, ctx->nls, &nls, &nn, err, sizeof(err)) != 0) {
        pt_log_error(PT_LOG_ERR, NULL, "not restarting: %s", err);
        pt_config_free(ncfg);
        return;
    }
    if (pt_log_open_sinks(ncfg, err, sizeof(err)) != 0) {
        pt_log_error(PT_LOG_ERR, NULL, "not restarting: %s", err);
        /* give the moved listeners back */
        for (size_t i = 0; i < nn; i++)
            for (size_t j = 0; j < ctx->nls; j++)
                if (ctx->ls[j].fd < 0 && ctx->ls[j].conf->addrlen == nls[i].conf->addrlen &&
                    memcmp(&ctx->ls[j].conf->addr, &nls[i].conf->addr,
                           nls[i].conf->addrlen) == 0) {
                    ctx->ls[j].fd = nls[i].fd;
                    nls[i].fd = -1;
                }
        pt_listen_close(nls, nn);
        pt_config_free(ncfg);
        return;
    }
    adjust_limits(ncfg);
    if (threads_per_child(ncfg) > p->sb->thread_limit) {
        pt_log_error(PT_LOG_WARN, NULL, "ThreadsPerChild %d exceeds the ThreadLimit the server "
                     "started with (%d): using %d until a full restart",
                     ncfg->threads_per_child, p->sb->thread_limit, p->sb->thread_limit);
        ncfg->threads_per_child = p->sb->thread_limit;
    }
    pt_log_open_error(ncfg->error_log, ncfg->log_level, err, sizeof(err));
    pt_config_t *old = ctx->cfg;
    pt_log_close_sinks(old);
    pt_listen_close(ctx->ls, ctx->nls); /* only the fds that were not moved */
    ctx->cfg = ncfg;
    ctx->ls = nls;
    ctx->nls = nn;
    atomic_fetch_add(&p->sb->generation, 1);
    p->sb->restart_wall_us = pt_wall_us();
    signal_children(p, graceful ? SIGUSR1 : SIGTERM, true);
    for (int i = 0; i < ncfg->start_servers; i++)
        if (spawn(p) != 0)
            break;
    pt_config_free(old);
    pt_log_error(PT_LOG_NOTICE, NULL, "generation %u configured -- resuming normal operations",
                 atomic_load(&p->sb->generation));
}

static void stop(parent_t *p, bool graceful)
{
    p->stopping = true;
    /* Readiness (SetHandler health) answers 503 from here on, in every child. */
    atomic_store(&p->sb->stopping, true);
    /* Close the door first, as Apache closes its listeners: shutdown (not close) acts on
     * the socket that every child shares, so from here the kernel refuses new connections
     * and resets those no child has accepted yet, whatever the children are doing. */
    for (size_t i = 0; i < p->ctx->nls; i++)
        if (p->ctx->ls[i].fd >= 0)
            shutdown(p->ctx->ls[i].fd, SHUT_RDWR);
    signal_children(p, graceful ? SIGWINCH : SIGTERM, false);
    int64_t limit = p->ctx->cfg->graceful_shutdown_timeout_ms;
    /* The children bound themselves by GracefulShutdownTimeout; a child that does not
     * come back a little after that is killed. */
    int64_t deadline = limit > 0 ? pt_now_ms() + limit + 3000 : INT64_MAX;
    while (live_children(p, true) > 0) {
        if (pt_now_ms() >= deadline) {
            pt_log_error(PT_LOG_WARN, NULL, "children still running after "
                         "GracefulShutdownTimeout: killing them");
            p->killed = true;
            signal_children(p, SIGKILL, false);
            deadline = INT64_MAX;
        }
        struct pollfd pf = {.fd = p->sigfd, .events = POLLIN};
        poll(&pf, 1, 100);
        struct signalfd_siginfo si;
        while (read(p->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
            ;
        reap(p);
    }
}

/* Returns true when the parent should stop; *graceful tells how. */
static bool on_signals(parent_t *p, bool *graceful)
{
    struct signalfd_siginfo si;
    bool quit = false;
    while (read(p->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGTERM: case SIGINT:
            pt_log_error(PT_LOG_NOTICE, NULL, "caught SIGTERM, shutting down");
            quit = true;
            *graceful = false;
            break;
        case SIGWINCH:
            pt_log_error(PT_LOG_NOTICE, NULL, "caught SIGWINCH, shutting down gracefully");
            quit = true;
            *graceful = true;
            break;
        case SIGHUP:
            restart(p, false);
            break;
        case SIGUSR1:
            restart(p, true);
            break;
        case SIGCHLD:
            break; /* reaped below */
        default:
            break;
        }
        if (quit)
            break;
    }
    return quit;
}

int pt_mpm_run(pt_mpm_ctx_t *ctx)
{
    pt_config_t *cfg = ctx->cfg;
    adjust_limits(cfg);
    int tl = cfg->mpm == PT_MPM_PREFORK ? 1 : PT_MAX(cfg->thread_limit, cfg->threads_per_child);
    parent_t p = {.ctx = ctx, .spawn_rate = 1, .sigfd = -1};
    p.sb = pt_scoreboard_create(cfg->server_limit, tl, pt_mpm_name(cfg->mpm));
    if (!p.sb) {
        pt_log_error(PT_LOG_CRIT, NULL, "cannot create the scoreboard: %s", strerror(errno));
        return 1;
    }
    pt_scoreboard_set(p.sb);
    sigset_t set;
    pt_mpm_signals(&set, true);
    sigprocmask(SIG_BLOCK, &set, NULL);
    p.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (p.sigfd < 0) {
        pt_log_error(PT_LOG_CRIT, NULL, "signalfd: %s", strerror(errno));
        pt_scoreboard_destroy(p.sb);
        return 1;
    }
    pt_log_error(PT_LOG_NOTICE, NULL, "portico/%s (%s MPM) configured -- resuming normal "
                 "operations", PORTICO_VERSION, pt_mpm_name(cfg->mpm));
    for (int i = 0; i < cfg->start_servers; i++)
        if (spawn(&p) != 0)
            break;
    int64_t next_tick = pt_now_ms() + PARENT_TICK_MS;
    bool graceful = false;
    for (;;) {
        struct pollfd pf = {.fd = p.sigfd, .events = POLLIN};
        int64_t wait = next_tick - pt_now_ms();
        poll(&pf, 1, (int)PT_MAX(wait, 0));
        if (on_signals(&p, &graceful))
            break;
        reap(&p);
        if (pt_now_ms() >= next_tick) {
            maintain_spares(&p);
            if (ctx->hooks && ctx->hooks->tick_parent)
                ctx->hooks->tick_parent(ctx->cfg, pt_now_ms());
            pt_log_flush_all();
            pt_log_piped_tick();
            next_tick = pt_now_ms() + PARENT_TICK_MS;
        }
    }
    stop(&p, graceful);
    close(p.sigfd);
    pt_scoreboard_set(NULL);
    pt_scoreboard_destroy(p.sb);
    pt_log_error(PT_LOG_NOTICE, NULL, "shutdown complete");
    return 0;
}
