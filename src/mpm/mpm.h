/* src/mpm/: the process models, above base/, conf/ and net/ only. The MPM names no protocol,
 * handler or module: it runs the tasks it is handed (net/task.h), parks what waits, and calls
 * what start-up registered (pt_mpm_hooks_t, the first protocol of a connection).
 *
 * The one MPM interface. main.c loads the configuration and opens the listening sockets;
 * pt_mpm_run runs the parent process (parent.c): it creates the scoreboard, starts and
 * replaces children, keeps spare capacity, and runs restarts. Children run one of the
 * three MPMs' child loops: event and worker (event.c), prefork (prefork.c). */
#ifndef PT_MPM_H
#define PT_MPM_H

#include "config.h"
#include "conn.h"
#include "listen.h"
#include "scoreboard.h"
#include "task.h"

#include <signal.h>
#include <sys/types.h>

/* What the layers above the MPM run in a child, registered by startup.c (the MPM names no
 * protocol, handler or module). Each may be NULL. The thread each runs on is in its name.
 *  child_init   in the new child, before it serves: per-child runtime state (module
 *               child_init, the upstream pools made from cfg); non-zero makes the child exit
 *  child_exit   in the child after its last connection, before it exits (free what
 *               child_init made)
 *  tick_listener  on the thread that waits for events (event: the listener; prefork: the
 *               process) about once a second with the monotonic time: sweep idle upstream
 *               connections and the like; must not block
 *  tick_parent  in the parent, about once a second, with the configuration it serves now:
 *               what must run once per server rather than once per child (health checks,
 *               re-resolving balancer members, OCSP responses, ticket-key rotation); must
 *               not block for long (the parent also reaps and replaces children).
 * Per-generation shared state (made in the parent before the children fork, so that they
 * inherit it) is made by the conf extensions' finish hooks at load and freed by their
 * release hooks (conf/directives.h pt_conf_ext_t), not here. */
typedef struct pt_mpm_hooks {
    int (*child_init)(const pt_config_t *cfg);
    void (*child_exit)(const pt_config_t *cfg);
    void (*tick_listener)(int64_t now_ms);
    void (*tick_parent)(const pt_config_t *cfg, int64_t now_ms);
} pt_mpm_hooks_t;

/* What the parent needs to serve and to re-read its configuration. The parent owns cfg
 * and ls and replaces them on a successful restart. */
typedef struct {
    const pt_mpm_hooks_t *hooks;
    const pt_conn_proto_t *proto;  /* the protocol of fresh connections */
    const char *conf_path;
    const pt_parse_opts_t *opts;
    pt_config_t *cfg;
    pt_listener_t *ls;
    size_t nls;
    bool switch_ids;           /* children become uid/gid (User, Group) after the fork */
    uid_t uid;
    gid_t gid;
} pt_mpm_ctx_t;

/* Serves until SIGTERM/SIGINT (stop: children finish in-flight requests within
 * GracefulShutdownTimeout) or SIGWINCH (graceful stop); SIGHUP restarts, SIGUSR1 restarts
 * gracefully. Returns the process exit code. */
int pt_mpm_run(pt_mpm_ctx_t *ctx);

/* For what runs on an event child's threads (mpm: pt_worker_t.mpm, or the one a park op
 * is given). pt_mpm_park watches p until it is ready or its deadline passes (its owner set
 * ops, fd, events, deadline_ms and state; the MPM owns it meanwhile): 0, or -errno when it
 * could not be parked (the caller still owns it). After 0 the caller must not touch p: its
 * ready op may have run already. pt_mpm_queue hands a task to a worker. */
int pt_mpm_park(void *mpm, pt_park_t *p);
void pt_mpm_queue(void *mpm, pt_task_t *t);
/* Whether the child is stopping (a stop, a graceful restart or stop, a retirement): a
 * protocol that multiplexes takes no new requests and says so (HTTP/2: GOAWAY) while those
 * in flight finish. At a stop, what is parked in flight (PT_PARK_TUNNEL) is made ready once
 * so that it learns it. False for a NULL mpm (prefork: its connection ends at its turn). */
bool pt_mpm_stopping(void *mpm);

/* ---- Inside src/mpm: one child ---------------------------------------------------- */
typedef struct {
    const pt_config_t *cfg;
    const pt_mpm_hooks_t *hooks; /* from pt_mpm_ctx_t; may be NULL */
    pt_listener_t *ls;
    size_t nls;
    pt_scoreboard_t *sb;
    int slot;                  /* process slot in the scoreboard */
    uint32_t generation;
    const pt_conn_proto_t *proto;
} pt_child_t;

/* event (own_connections false) and worker (true) children; prefork children. Each returns
 * the child's exit code. */
int pt_event_child_main(const pt_child_t *ch, bool own_connections);
int pt_prefork_child_main(const pt_child_t *ch);

const char *pt_mpm_name(pt_mpm_kind_t k);

/* The calling worker is about to wait for something other than its client or the CPU (a
 * backend's answer, a connect): the MPM may hand queued work to another worker meanwhile.
 * Calls pair, on the same thread; nothing happens outside an event or worker MPM worker. */
void pt_mpm_block_begin(void);
void pt_mpm_block_end(void);
/* The signals the MPMs take through a signalfd (TERM, INT, HUP, USR1, WINCH; with_chld for
 * the parent). SIGPIPE is ignored process-wide instead. */
void pt_mpm_signals(sigset_t *set, bool with_chld);
/* MPMs compiled in, for -V. */
#define PT_MPMS_COMPILED "event worker prefork"

#endif
