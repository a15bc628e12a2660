/* The lbmethods (lbmethod=): one table of ways to pick a member among the usable ones, as
 * HAProxy's lb_ops. Each reads and updates only the members' shared state (balancer.h), so
 * that every child of a generation balances as one. */
#ifndef PT_LBMETHODS_H
#define PT_LBMETHODS_H

#include "balancer.h"

/* One pick: what the balancer hands an lbmethod (on the request's stack). */
typedef struct pt_lb_pick {
    const pt_balancer_t *bal;
    pt_member_shared_t *slots;  /* the balancer's shared slots */
    const bool *candidate;      /* per slot: may be picked (usable, in the tier tried) */
    size_t nslots;
    const char *key;            /* hash: the client address, or the hashkey= header or
                                   cookie value (NULL or "": the address is used) */
} pt_lb_pick_t;

/* A method: static and read-only. */
typedef struct pt_lbmethod {
    const char *name;           /* as lbmethod= names it */
    /* The slot chosen among the candidates, or -1 when there is none. Thread-safe across
     * threads and children (atomics on the shared slots); updates the running scores. */
    int (*pick)(const pt_lb_pick_t *p);
    bool keyed;                 /* reads p->key (the balancer computes it only then) */
} pt_lbmethod_t;

/* The method called name (without case), or NULL. */
const pt_lbmethod_t *pt_lbmethod_find(const char *name);
/* byrequests: the default. */
const pt_lbmethod_t *pt_lbmethod_default(void);
/* The hash method's score of a member for key (rendezvous hashing, weighted): exposed for
 * the unit tests of key movement. */
double pt_lb_hash_score(const char *key, const char *member, int loadfactor);

#endif
