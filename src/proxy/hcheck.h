/* Active health checks (mod_proxy_hcheck) and balancer members that follow the network
 * (resolve=N), both run once per server: in the parent, from the MPM's parent tick
 * (mpm.h tick_parent), never once per child.
 *
 * Why the parent and not a thread: the parent forks children all the time and stays
 * single-threaded so that fork is safe (mpm/parent.c). So the checks are non-blocking
 * sockets that the tick drives for a bounded time (PT_HC_TICK_BUDGET_MS): a probe to a
 * backend that answers at once ends within the tick that started it, one that hangs goes on
 * over later ticks until its own deadline, and the parent's reaping never waits longer than
 * the budget. A child inherits the parent's probe sockets at fork and closes them at once
 * (pt_hcheck_child_forget, from child_init).
 *
 * A check's verdict goes to the member's shared state (balancer.h pt_member_shared_t:
 * hc_streak, PT_MEMBER_HC_FAILED), which every child's balancer reads. */
#ifndef PT_HCHECK_H
#define PT_HCHECK_H

#include "balancer.h"

#include <regex.h>
#include <sys/socket.h>

/* How long one parent tick may spend driving checks and lookups. */
#define PT_HC_TICK_BUDGET_MS 200
/* A probe's whole deadline when the member has no timeout= (capped by hcinterval). */
#define PT_HC_TIMEOUT_MS 5000
/* hcinterval when none is given (mod_proxy_hcheck's default). */
#define PT_HC_INTERVAL_MS 30000

/* ---- ProxyHCExpr (directives_hcheck.c parses, hcheck.c evaluates) ------------------- */

/* A node of a status expression: %{REQUEST_STATUS} compared, combined with && || !. */
typedef struct pt_hc_expr pt_hc_expr_t;
struct pt_hc_expr {
    enum { PT_HCX_OR, PT_HCX_AND, PT_HCX_NOT, PT_HCX_MATCH, PT_HCX_IN, PT_HCX_CMP } kind;
    const pt_hc_expr_t *l, *r;  /* OR, AND: both; NOT: l */
    const regex_t *re;          /* MATCH (=~; !~ is NOT over MATCH), freed with the config */
    const char **list;          /* IN: the strings the status may be */
    size_t nlist;
    enum { PT_HCX_EQ, PT_HCX_NE, PT_HCX_LT, PT_HCX_LE, PT_HCX_GT, PT_HCX_GE } op; /* CMP */
    long num;                   /* CMP: the number compared with */
};

/* Whether status passes e (NULL: 2xx and 3xx pass, mod_proxy_hcheck's default). */
bool pt_hc_expr_eval(const pt_hc_expr_t *e, int status);

/* What the directives of directives_hcheck.c set (in the config's arena, read-only after
 * load; pt_config_t.hcheck). */
typedef struct pt_hcheck_conf {
    const char **expr_names;       /* ProxyHCExpr NAME {expr} */
    const pt_hc_expr_t **exprs;
    size_t nexprs;
    const pt_hc_expr_t **backend_expr; /* by backend index: its hcexpr= resolved; NULL none */
    struct sockaddr_storage resolver;  /* ProxyResolver; resolver_len 0: /etc/resolv.conf */
    socklen_t resolver_len;
} pt_hcheck_conf_t;

extern const struct pt_conf_ext pt_hcheck_conf_ext;

/* ---- The probes ---------------------------------------------------------------------- */

/* The checks of one configuration generation: owns its targets and their sockets; only
 * ever touched by the parent's thread. */
typedef struct pt_hcheck pt_hcheck_t;

/* A member to check: b says how (hcmethod, hcuri, hcinterval, hcpasses, hcfails, timeout),
 * sa where (b's own address, or an address resolve= found), sh where the verdict goes. */
typedef struct {
    const pt_backend_t *b;
    const pt_hc_expr_t *expr;      /* NULL: 2xx-3xx */
    const struct sockaddr *sa;
    socklen_t salen;
    pt_member_shared_t *sh;
    const char *label;             /* for the log ("http://10.0.0.1:8080" of balancer x) */
} pt_hc_target_spec_t;

pt_hcheck_t *pt_hcheck_create(void);
/* Closes every probe and frees hc (NULL is fine); never touches the shared state. */
void pt_hcheck_destroy(pt_hcheck_t *hc);
/* Adds a target, first checked at now_ms: 0, or -ENOMEM. */
int pt_hcheck_add(pt_hcheck_t *hc, const pt_hc_target_spec_t *t, int64_t now_ms);
/* Stops checking the member whose state is sh (a member resolve= removed). */
void pt_hcheck_remove(pt_hcheck_t *hc, const pt_member_shared_t *sh);
/* Starts the checks that are due and drives those in flight for at most budget_ms. */
void pt_hcheck_run(pt_hcheck_t *hc, int64_t budget_ms);
/* Probes sent so far (tests, status). */
uint64_t pt_hcheck_probes(const pt_hcheck_t *hc);

/* ---- The parent's side: what startup.c registers -------------------------------------- */

/* The parent tick: (re)builds the checks and the resolve= lookups for cfg and runs them. */
void pt_hcheck_tick_parent(const pt_config_t *cfg, int64_t now_ms);
/* In a new child: closes the sockets inherited from the parent's checks and forgets them. */
void pt_hcheck_child_forget(void);

#endif
