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

#include "regex_pcre.h"
#include <sys/socket.h>

/* How long one parent tick may spend driving checks and lookups. */
#define PT_HC_TICK_BUDGET_MS 200
/* A probe's whole deadline when the member has no timeout=. */
#define PT_HC_TIMEOUT_MS 5000
/* hcinterval when none is given (mod_proxy_hcheck's default). */
#define PT_HC_INTERVAL_MS 30000

/* ---- ProxyHCExpr (directives_hcheck.c parses, hcheck.c evaluates) ------------------- */

/* A node of a status expression: %{REQUEST_STATUS} compared, combined with && || !. */
typedef struct pt_hc_expr pt_hc_expr_t;
struct pt_hc_expr {
    enum { PT_HCX_OR, PT_HCX_AND, PT_HCX_NOT, PT_HCX_MATCH, PT_HCX_IN, PT_HCX_CMP } kind;
    const pt_hc_expr_t *l, *r;  /* OR, AND: both; NOT: l */
    const pt_regex_t *re;          /* MATCH (=~; !~ is NOT over MATCH), freed with the config */
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
/* The client TLS contexts https:// members are checked with (pt_utls_create for cfg), each
 * member with the SSLProxy* settings of the server whose ProxyPass names its balancer, as
 * its requests are; hc owns utls. Before the targets are added. */
struct pt_utls;
void pt_hcheck_set_tls(pt_hcheck_t *hc, const pt_config_t *cfg, struct pt_utls *utls);
/* Adds a target, first checked at now_ms: 0, or -ENOMEM. */
int pt_hcheck_add(pt_hcheck_t *hc, const pt_hc_target_spec_t *t, int64_t now_ms);
/* Stops checking the member whose state is sh (a member resolve= removed). */
void pt_hcheck_remove(pt_hcheck_t *hc, const pt_member_shared_t *sh);
/* Starts the checks that are due and drives those in flight for at most budget_ms. */
void pt_hcheck_run(pt_hcheck_t *hc, int64_t budget_ms);
/* Probes sent so far (tests, status). */
uint64_t pt_hcheck_probes(const pt_hcheck_t *hc);
/* Calls fn with the shared state of every member hc checks. */
void pt_hcheck_each(const pt_hcheck_t *hc, void (*fn)(const pt_member_shared_t *sh, void *arg),
                    void *arg);

/* The ProxyHCExpr that b's hcexpr= names in cfg, or NULL (2xx-3xx). */
const pt_hc_expr_t *pt_hcheck_expr_of(const pt_config_t *cfg, const pt_backend_t *b);

/* ---- resolve=N: members that follow the network (resolve_members.c) ------------------
 * A BalancerMember with resolve=N stands for its host name: every N seconds the parent
 * asks the resolver (ProxyResolver, else /etc/resolv.conf's first nameserver) for the
 * name's A and AAAA records and keeps one member per address, in the spare slots the
 * balancer keeps for it (balancer.h nslots). An address that appears takes a free slot
 * (its URL, the member's with the address for the host, in the slot's name, then in_use
 * set); one that goes away has in_use cleared: it takes no new request, and those in
 * flight finish on the connections they hold (it drains). A freed slot is given to another
 * address only once its busy count is 0 and PT_RESOLVE_REUSE_MS have passed, so that a
 * child never reads a name while the parent rewrites it. While at least one address is
 * known the configured member itself takes no requests (its addresses do); a failed or
 * empty lookup keeps the members it had (logged). */

/* A lookup that has not answered within this fails (and is tried again N seconds on). */
#define PT_RESOLVE_TIMEOUT_MS 5000
#define PT_RESOLVE_REUSE_MS 10000

/* The lookups of one configuration generation (parent only; owns its sockets). */
typedef struct pt_resolve pt_resolve_t;

/* The lookups for cfg's resolve= members; NULL when it has none. New members with an
 * hcmethod get their checks in hc. */
pt_resolve_t *pt_resolve_create(const pt_config_t *cfg, pt_hcheck_t *hc, int64_t now_ms);
void pt_resolve_destroy(pt_resolve_t *rs);
/* Starts the lookups that are due, drives those in flight for at most budget_ms and
 * applies the answers to the shared slots. */
void pt_resolve_run(pt_resolve_t *rs, int64_t budget_ms);

/* In a child: the backend that serves a slot resolve= filled (registered with
 * pt_balancer_set_dynamic by startup.c), made on first use from the configured member
 * and the address in the slot's name (it connects there; its Host stays the name); NULL
 * for a slot not in use. Thread-safe. */
const pt_backend_t *pt_resolve_member(const pt_balancer_t *bal, size_t slot);
/* child_init and child_exit: the cache of those backends (freed only at exit: a request
 * in flight may hold one whose slot was emptied). */
int pt_resolve_child_init(const pt_config_t *cfg);
void pt_resolve_child_exit(void);

/* ---- The parent's side: what startup.c registers -------------------------------------- */

/* The parent tick: (re)builds the checks and the resolve= lookups for cfg and runs them. */
void pt_hcheck_tick_parent(const pt_config_t *cfg, int64_t now_ms);
/* pt_config_free's hook: drops the checks made for cfg (sockets closed). */
void pt_hcheck_release(pt_config_t *cfg);
/* In a new child: closes the sockets inherited from the parent's checks and forgets them. */
void pt_hcheck_child_forget(void);

#endif
