/* The layout of resolve= slots (resolve_slots.h) and, in each child, the backends that
 * serve them (hcheck.h pt_resolve_member): a copy of the configured member that connects to
 * the slot's address (its host, for the Host field, stays the name), made the first time a worker meets the slot with that name
 * and kept until the child exits, since a request in flight may still hold it after the
 * parent emptied or refilled the slot. */
#include "hcheck.h"

#include "resolve_slots.h"
#include "runtime.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- Layout ----------------------------------------------------------------------------- */

static size_t resolving(const pt_balancer_t *bal, size_t upto)
{
    size_t n = 0;
    for (size_t i = 0; i < upto && i < bal->nmembers; i++)
        n += bal->members[i]->resolve_s > 0;
    return n;
}

int pt_resolve_slot_range(const pt_balancer_t *bal, size_t m, size_t *first, size_t *count)
{
    size_t all = resolving(bal, bal->nmembers), base = bal->nmembers + (size_t)bal->growth;
    if (m >= bal->nmembers || bal->members[m]->resolve_s <= 0 || bal->nslots <= base)
        return -1;
    size_t per = (bal->nslots - base) / all;
    *first = base + resolving(bal, m) * per;
    *count = per;
    return per ? 0 : -1;
}

int pt_resolve_slot_owner(const pt_balancer_t *bal, size_t slot)
{
    for (size_t m = 0; m < bal->nmembers; m++) {
        size_t first, count;
        if (pt_resolve_slot_range(bal, m, &first, &count) == 0 && slot >= first &&
            slot < first + count)
            return (int)m;
    }
    return -1;
}

void pt_resolve_member_name(const pt_backend_t *b, const char *addr, char *out, size_t cap)
{
    bool v6 = strchr(addr, ':') != NULL;
    snprintf(out, cap, "%s://%s%s%s:%d%s", b->scheme, v6 ? "[" : "", addr, v6 ? "]" : "",
             b->port, b->path ? b->path : "");
}

int pt_resolve_name_addr(const char *name, char *out, size_t cap)
{
    const char *p = strstr(name, "://");
    if (!p)
        return -1;
    p += 3;
    const char *e;
    if (*p == '[') {
        e = strchr(++p, ']');
    } else {
        e = p + strcspn(p, ":/");
    }
    if (!e || e == p || (size_t)(e - p) >= cap)
        return -1;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return 0;
}

/* ---- In a child: the backends of the slots ----------------------------------------------- */

/* A backend made for a slot, with what it points to. Its host stays the name (the Host
 * field and TLS want it); it connects to the one address in addr. */
typedef struct dyn {
    pt_backend_t b;
    struct dyn *next;          /* every one made, for the child's exit */
    char url[262];             /* "proxy:" + the slot's name */
    struct sockaddr_storage addr;
} dyn_t;

/* The address text of a slot's name, with the member's port, as a socket address. */
static int to_sockaddr(const char *name, int port, struct sockaddr_storage *sa)
{
    char host[64];
    if (pt_resolve_name_addr(name, host, sizeof(host)) < 0)
        return -1;
    memset(sa, 0, sizeof(*sa));
    struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
    } else {
        return -1;
    }
    return 0;
}

static struct {
    const pt_config_t *cfg;
    _Atomic(dyn_t *) **cache;  /* [balancer][slot]: the backend last made for the slot */
    dyn_t *all;
    pthread_mutex_t mu;        /* making one (rare); lookups take no lock */
} child = {.mu = PTHREAD_MUTEX_INITIALIZER};

int pt_resolve_child_init(const pt_config_t *cfg)
{
    pt_resolve_child_exit();
    child.cfg = cfg;
    if (cfg->nbalancers == 0)
        return 0;
    if (!(child.cache = calloc(cfg->nbalancers, sizeof(*child.cache))))
        return -1;
    for (size_t i = 0; i < cfg->nbalancers; i++)
        if (cfg->balancers[i]->nslots &&
            !(child.cache[i] = calloc(cfg->balancers[i]->nslots, sizeof(**child.cache))))
            return -1;
    return 0;
}

void pt_resolve_child_exit(void)
{
    for (size_t i = 0; child.cache && i < child.cfg->nbalancers; i++)
        free((void *)child.cache[i]);
    free(child.cache);
    child.cache = NULL;
    while (child.all) {
        dyn_t *d = child.all;
        child.all = d->next;
        free(d);
    }
    child.cfg = NULL;
}

/* A new backend for slot: the owner's copy with the name's address (under child.mu). */
static dyn_t *make(const pt_balancer_t *bal, size_t slot, const char *name)
{
    int owner = pt_resolve_slot_owner(bal, slot);
    dyn_t *d = owner < 0 ? NULL : calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->b = *bal->members[owner];
    if (to_sockaddr(name, d->b.port, &d->addr) < 0) {
        free(d);
        return NULL;
    }
    snprintf(d->url, sizeof(d->url), "proxy:%s", name);
    d->b.url = d->url;
    d->b.resolve_s = 0;
    d->b.addrs = &d->addr;
    d->b.naddrs = 1;
    d->b.index = PT_BACKEND_RUNTIME;
    d->b.member_index = (int)slot;
    d->next = child.all;
    child.all = d;
    return d;
}

const pt_backend_t *pt_resolve_member(const pt_balancer_t *bal, size_t slot)
{
    const pt_config_t *cfg = child.cfg;
    if (!cfg || !child.cache || bal->index >= cfg->nbalancers ||
        cfg->balancers[bal->index] != bal || slot >= bal->nslots)
        return NULL;
    size_t n = 0;
    pt_member_shared_t *slots = pt_balancer_slots(cfg, bal, &n);
    if (!slots || slot >= n || !atomic_load(&slots[slot].in_use))
        return NULL;
    const char *name = slots[slot].name;
    dyn_t *d = atomic_load(&child.cache[bal->index][slot]);
    if (d && strcmp(d->url + 6, name) == 0)
        return &d->b;
    pthread_mutex_lock(&child.mu);
    d = atomic_load(&child.cache[bal->index][slot]);
    if (!d || strcmp(d->url + 6, name) != 0) {
        d = make(bal, slot, name);
        if (d)
            atomic_store(&child.cache[bal->index][slot], d);
    }
    pthread_mutex_unlock(&child.mu);
    return d ? &d->b : NULL;
}
