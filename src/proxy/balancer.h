/* Balancers (mod_proxy_balancer): <Proxy "balancer://NAME"> with its members, the lbmethods
 * that pick one, and the state every child shares about each member.
 *
 * A member is a pt_backend_t of its own (its own pool in each child, config.h); what
 * changes at run time (in error until, disabled by the balancer-manager, failed health
 * checks, counts) is in shared memory made by the parent for each configuration generation
 * before the children fork (Apache's proxy_worker_shared), so that a change made in one
 * child, or by the parent's health checks, is seen by every child at once. The memory is
 * found through a registry keyed by the configuration (balancer_shm.c), never through a
 * pointer in the read-only configuration. */
#ifndef PT_BALANCER_H
#define PT_BALANCER_H

#include "common.h"
#include "config.h"

#include <stdatomic.h>

/* A member's state flags: Apache's status letters (status= key, balancer-manager). */
enum {
    PT_MEMBER_DISABLED = 1u << 0,       /* D: takes no requests (Apache 2.4: not usable) */
    PT_MEMBER_STOPPED = 1u << 1,        /* S: takes no requests at all */
    PT_MEMBER_HOT_STANDBY = 1u << 2,    /* H: used only when no other member is usable */
    PT_MEMBER_IGNORE_ERRORS = 1u << 3,  /* I: never put in the error state */
    PT_MEMBER_DRAIN = 1u << 4,          /* N: no new sessions; sticky ones and what it has
                                           in flight finish */
    PT_MEMBER_IN_ERROR = 1u << 5,       /* E: failed; retried after retry= */
    PT_MEMBER_HC_FAILED = 1u << 6,      /* C: failed its health checks */
};

/* The flags an operator sets (status=, balancer-manager); BalancerPersist carries them. */
#define PT_MEMBER_ADMIN_FLAGS                                                             \
    (PT_MEMBER_DISABLED | PT_MEMBER_STOPPED | PT_MEMBER_HOT_STANDBY |                     \
     PT_MEMBER_IGNORE_ERRORS | PT_MEMBER_DRAIN)

/* One member's shared state (in shared memory; every field atomic, no locks). */
typedef struct pt_member_shared {
    char name[256];                /* the member's URL: matches a member across restarts
                                      (BalancerPersist) and names a resolved address */
    _Atomic unsigned status;       /* PT_MEMBER_* */
    _Atomic int loadfactor;        /* 1..100, from the config or the balancer-manager */
    _Atomic int64_t error_until_ms;/* monotonic ms (CLOCK_MONOTONIC is system-wide) */
    _Atomic uint64_t requests, failures;
    _Atomic uint64_t bytes_in, bytes_out;  /* bytraffic */
    _Atomic int busy;              /* requests in flight now (bybusyness) */
    _Atomic int64_t lbstatus;      /* byrequests' running score */
    _Atomic int64_t last_latency_us;
    _Atomic int hc_streak;         /* > 0: consecutive passes, < 0: consecutive fails */
    _Atomic bool in_use;           /* a slot taken (members added by resolve= come and go) */
} pt_member_shared_t;

/* One balancer's shared header, before its slots. */
typedef struct pt_balancer_shared {
    char nonce[40];                /* the balancer-manager's nonce (hex), made at load */
    _Atomic uint64_t changes;      /* balancer-manager changes applied */
} pt_balancer_shared_t;

struct pt_lbmethod;

/* The configuration of one balancer (<Proxy "balancer://NAME">, BalancerMember, ProxySet):
 * in the config's arena, read-only after load like the rest of it. */
typedef struct pt_balancer {
    const char *name;          /* "balancer://NAME", NAME lower-cased (as Apache) */
    size_t index;              /* in cfg->balancers */
    pt_backend_t *backend;     /* the balancer://NAME backend ProxyPass names; NULL if none */
    pt_backend_t **members;    /* BalancerMember, in order: slot i is members[i] */
    size_t nmembers;
    int growth;                /* growth=: spare slots for members added at run time */
    size_t nslots;             /* nmembers + growth: the shared slots */
    const struct pt_lbmethod *lbmethod; /* lbmethod= (byrequests by default) */
    const char *sticky[2];     /* stickysession=COOKIE|URLPARAM: cookie name, URL parameter
                                  name (the same name twice when one is given) */
    char sticky_sep;           /* stickysessionsep= ('.') */
    bool scolonpathdelim;      /* ';' also starts a URL parameter */
    int *failonstatus;         /* failonstatus=: statuses that mark a member failed */
    size_t nfailonstatus;
    bool failontimeout;        /* failontimeout=On: a read timeout marks the member failed */
    bool nofailover;           /* nofailover=On: no retry on another member */
    int maxattempts;           /* maxattempts=: failovers per request after the first
                                  attempt; 0 unset (one less than the slots) */
    int64_t timeout_ms;        /* timeout=: wait this long for a usable member before 503
                                  (0: 503 at once) */
    bool forcerecovery;        /* forcerecovery= (On by default, as Apache) */
    const char *hashkey;       /* hashkey= for lbmethod=hash: "header:NAME", "cookie:NAME";
                                  NULL: the client address */
    bool persist;              /* BalancerPersist On (of the server it is defined in) */
    const char *file;
    int line;
} pt_balancer_t;

/* ---- The shared memory of a generation (balancer_shm.c) ------------------------------- */

/* Makes the shared memory for every balancer of cfg (in the parent, at load: the
 * children inherit it through fork), and when a balancer has persist set, carries the
 * admin flags and loadfactor of each member over by name from the newest earlier
 * generation still registered. 0, or -errno. */
int pt_balancer_shm_create(const pt_config_t *cfg);
/* Unmaps cfg's shared memory (pt_config_free's release hook). */
void pt_balancer_shm_release(const pt_config_t *cfg);
/* The shared header and slots of bal (a balancer of cfg); *nslots gets bal->nslots. NULL
 * when cfg has no shared memory (then the balancer answers 503). Thread-safe: the registry
 * changes only in the parent, single-threaded. */
pt_member_shared_t *pt_balancer_slots(const pt_config_t *cfg, const pt_balancer_t *bal,
                                      size_t *nslots);
pt_balancer_shared_t *pt_balancer_shared(const pt_config_t *cfg, const pt_balancer_t *bal);

/* ---- Members ----------------------------------------------------------------------- */

/* The backend of slot i of bal: members[i] for a configured member; for a slot past them
 * (growth=, members added at run time) what the dynamic-member hook returns, or NULL. */
const pt_backend_t *pt_balancer_member(const pt_balancer_t *bal, size_t slot);
/* Registered once at start-up by the part that adds members at run time (resolve=): the
 * backend that serves slot (>= bal->nmembers) in this process, or NULL. */
typedef const pt_backend_t *(*pt_balancer_dynamic_fn)(const pt_balancer_t *bal, size_t slot);
void pt_balancer_set_dynamic(pt_balancer_dynamic_fn fn);
/* May the member take a request now? Not stopped, disabled or failing its health checks,
 * and its error state, if any, over (retry= passed). sticky: a request of one of its
 * sessions (a draining member still takes it). */
bool pt_member_usable(const pt_member_shared_t *m, bool sticky, int64_t now_ms);
/* Puts m in the error state for retry_ms (unless it ignores errors) and counts a failure. */
void pt_member_mark_error(pt_member_shared_t *m, int64_t retry_ms, int64_t now_ms);
/* retry= of b in ms (60 s when unset). */
int64_t pt_member_retry_ms(const pt_backend_t *b);
/* The balancer of cfg named NAME ("balancer://NAME" or "NAME"), or NULL. */
const pt_balancer_t *pt_balancer_find(const pt_config_t *cfg, const char *name);

/* ---- Sticky sessions (balancer.c) ---------------------------------------------------- */

/* The route a request names (Apache's get_route): the value of the URL parameter
 * bal->sticky[1] in url ("/p;jsessionid=abc.r1?x", "?s=abc.r1"), else of the cookie
 * bal->sticky[0] in cookies (a Cookie header's value; may be NULL), after its first
 * bal->sticky_sep ("abc.r1" -> "r1"). NULL when there is none. Allocated from a. */
const char *pt_balancer_sticky_route(pt_arena_t *a, const pt_balancer_t *bal,
                                     const char *cookies, const char *url);

/* ---- The scheme (balancer.c), registered by startup.c -------------------------------- */

extern const struct pt_proxy_scheme pt_balancer_scheme;

#endif
