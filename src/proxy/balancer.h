/* Balancers (mod_proxy_balancer): <Proxy "balancer://NAME"> with its members, the lbmethods
 * that pick one, and the state every child shares about each member.
 *
 * A member is a pt_backend_t of its own (its own pool in each child, config.h); what
 * changes at run time (in error until, disabled by the balancer-manager, failed health
 * checks, counts) is in shared memory made by the parent for each configuration generation
 * before the children fork (Apache's proxy_worker_shared), so that a change made in one
 * child, or by the parent's health checks, is seen by every child at once. */
#ifndef PT_BALANCER_H
#define PT_BALANCER_H

#include "common.h"
#include "config.h"

#include <stdatomic.h>

/* A member's state flags: Apache's status letters (status= key, balancer-manager). */
enum {
    PT_MEMBER_DISABLED = 1u << 0,       /* D: takes no new requests (sticky ones still go) */
    PT_MEMBER_STOPPED = 1u << 1,        /* S: takes no requests at all */
    PT_MEMBER_HOT_STANDBY = 1u << 2,    /* H: used only when no other member is usable */
    PT_MEMBER_IGNORE_ERRORS = 1u << 3,  /* I: never put in the error state */
    PT_MEMBER_DRAIN = 1u << 4,          /* N: no new sessions; sticky ones and what it has
                                           in flight finish */
    PT_MEMBER_IN_ERROR = 1u << 5,       /* E: failed; retried after retry= */
    PT_MEMBER_HC_FAILED = 1u << 6,      /* C: failed its health checks */
};

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

typedef struct pt_balancer pt_balancer_t; /* the configuration of one; balancer.c */

#endif
