/* Where resolve= members live in a balancer's shared slots, and how a slot's name carries
 * its address: what the parent (resolve_members.c) writes and every child
 * (resolve_slots.c's pt_resolve_member) reads, so both sides compute it the same way. */
#ifndef PT_RESOLVE_SLOTS_H
#define PT_RESOLVE_SLOTS_H

#include "balancer.h"

/* The spare slots of bal's member m (which has resolve=): after the configured members and
 * growth='s slots, the rest split evenly between the resolving members in order. 0, or -1
 * when m does not resolve or bal keeps no slots for it. */
int pt_resolve_slot_range(const pt_balancer_t *bal, size_t m, size_t *first, size_t *count);
/* The member that owns spare slot `slot` of bal (its index in bal->members), or -1. */
int pt_resolve_slot_owner(const pt_balancer_t *bal, size_t slot);
/* b's URL with addr for its host ("http://10.0.0.7:8080/app/"; [addr] for IPv6), without
 * "proxy:": a resolved member's name. */
void pt_resolve_member_name(const pt_backend_t *b, const char *addr, char *out, size_t cap);
/* The host of such a name, brackets removed: 0, or -1 when it has none. */
int pt_resolve_name_addr(const char *name, char *out, size_t cap);

#endif
