/* The balancers' shared memory (balancer.h): one anonymous shared mapping per configuration
 * generation, made in the parent when the configuration is loaded so that every child of
 * the generation inherits it through fork, and found through a small registry keyed by the
 * configuration (the configuration itself stays read-only and holds no pointer to it); and
 * the helpers that read and change one member's state there. */
#include "balancer.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/random.h>

/* Generations alive at once in one process: the one served and the one being loaded (a
 * few more for tests that keep configurations). */
#define SHM_GENERATIONS_MAX 8
#define RETRY_DEFAULT_MS 60000 /* retry= unset: mod_proxy's 60 seconds */
#define SHM_ALIGN 64 /* a cache line: slots of two balancers never share one */

/* One generation's mapping. Written only by the parent (or a test) while single-threaded:
 * a child's threads only read the registry it inherited. */
typedef struct {
    const pt_config_t *cfg;
    unsigned char *base;
    size_t len;
    size_t *offsets;           /* per balancer: its pt_balancer_shared_t */
    uint64_t serial;           /* creation order: the newest earlier one is persisted from */
} shm_gen_t;

static shm_gen_t gens[SHM_GENERATIONS_MAX];
static uint64_t serial;

static size_t align_up(size_t n)
{
    return (n + SHM_ALIGN - 1) / SHM_ALIGN * SHM_ALIGN;
}

static size_t balancer_size(const pt_balancer_t *bal)
{
    return align_up(sizeof(pt_balancer_shared_t)) + bal->nslots * sizeof(pt_member_shared_t);
}

/* A lookup over the configuration, here beside the registry that persist_from needs it
 * for (the directives use it too). */
const pt_balancer_t *pt_balancer_find(const pt_config_t *cfg, const char *name)
{
    const char *p = strncasecmp(name, "balancer://", 11) == 0 ? name + 11 : name;
    size_t len = strcspn(p, "/");
    for (size_t i = 0; i < cfg->nbalancers; i++) {
        const char *bn = cfg->balancers[i]->name + 11;
        if (strlen(bn) == len && strncasecmp(bn, p, len) == 0)
            return cfg->balancers[i];
    }
    return NULL;
}

static shm_gen_t *gen_of(const pt_config_t *cfg)
{
    for (size_t i = 0; i < SHM_GENERATIONS_MAX; i++)
        if (gens[i].cfg == cfg && gens[i].base)
            return &gens[i];
    return NULL;
}

/* The newest generation other than cfg's (the one a graceful restart replaces). */
static shm_gen_t *previous_gen(const pt_config_t *cfg)
{
    shm_gen_t *best = NULL;
    for (size_t i = 0; i < SHM_GENERATIONS_MAX; i++)
        if (gens[i].base && gens[i].cfg != cfg && (!best || gens[i].serial > best->serial))
            best = &gens[i];
    return best;
}

static void make_nonce(char *out, size_t cap)
{
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        /* getrandom(2) does not fail on Linux >= 3.17 once the pool is ready; a nonce that
         * is only unpredictable-ish still differs between runs. */
        for (size_t i = 0; i < sizeof(rnd); i++)
            rnd[i] = (unsigned char)(random() >> 7);
    }
    for (size_t i = 0; i < sizeof(rnd) && 2 * i + 2 < cap; i++)
        snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

/* The member's name in the shared slot: its URL without the "proxy:" of handler names. */
static const char *member_name(const pt_backend_t *b)
{
    return strncmp(b->url, "proxy:", 6) == 0 ? b->url + 6 : b->url;
}

/* ---- A member's state ------------------------------------------------------------------ */

bool pt_member_usable(const pt_member_shared_t *m, bool sticky, int64_t now_ms)
{
    if (!atomic_load(&m->in_use))
        return false;
    unsigned st = atomic_load(&m->status);
    if (st & (PT_MEMBER_STOPPED | PT_MEMBER_DISABLED | PT_MEMBER_HC_FAILED))
        return false;
    if ((st & PT_MEMBER_DRAIN) && !sticky)
        return false;
    /* Past its retry= time a member in error is tried again (mod_proxy's retry): the next
     * answer it gives clears the state. */
    return !(st & PT_MEMBER_IN_ERROR) || now_ms >= atomic_load(&m->error_until_ms);
}

int64_t pt_member_retry_ms(const pt_backend_t *b)
{
    return b->retry_ms >= 0 ? b->retry_ms : RETRY_DEFAULT_MS;
}

void pt_member_mark_error(pt_member_shared_t *m, int64_t retry_ms, int64_t now_ms)
{
    atomic_fetch_add(&m->failures, 1);
    if (atomic_load(&m->status) & PT_MEMBER_IGNORE_ERRORS)
        return;
    atomic_store(&m->error_until_ms, now_ms + retry_ms);
    atomic_fetch_or(&m->status, PT_MEMBER_IN_ERROR);
}

/* ---- The registry ------------------------------------------------------------------------ */

static void init_slots(const pt_balancer_t *bal, pt_balancer_shared_t *h, pt_member_shared_t *m)
{
    make_nonce(h->nonce, sizeof(h->nonce));
    for (size_t i = 0; i < bal->nmembers; i++) {
        const pt_backend_t *b = bal->members[i];
        snprintf(m[i].name, sizeof(m[i].name), "%s", member_name(b));
        atomic_init(&m[i].status, b->status);
        atomic_init(&m[i].loadfactor, b->loadfactor > 0 ? b->loadfactor : 1);
        atomic_init(&m[i].in_use, true);
        if (b->status & PT_MEMBER_IN_ERROR) /* status=+E: in error from the start */
            atomic_init(&m[i].error_until_ms, pt_now_ms() + pt_member_retry_ms(b));
    }
}

/* BalancerPersist: what the operator set (status flags, loadfactor) survives the restart,
 * member by member by name, as Apache's persisted proxy_worker_shared. */
static void persist_from(const shm_gen_t *old, const pt_balancer_t *bal,
                         pt_balancer_shared_t *h, pt_member_shared_t *m)
{
    const pt_balancer_t *ob = pt_balancer_find(old->cfg, bal->name);
    if (!ob)
        return;
    const pt_balancer_shared_t *oh = (const void *)(old->base + old->offsets[ob->index]);
    const pt_member_shared_t *om = (const void *)((const unsigned char *)oh +
                                                  align_up(sizeof(*oh)));
    memcpy(h->nonce, oh->nonce, sizeof(h->nonce));
    for (size_t i = 0; i < bal->nmembers; i++) {
        for (size_t j = 0; j < ob->nslots; j++) {
            if (!atomic_load(&om[j].in_use) || strcmp(om[j].name, m[i].name) != 0)
                continue;
            unsigned keep = atomic_load(&om[j].status) & PT_MEMBER_ADMIN_FLAGS;
            atomic_store(&m[i].status,
                         (atomic_load(&m[i].status) & ~PT_MEMBER_ADMIN_FLAGS) | keep);
            atomic_store(&m[i].loadfactor, atomic_load(&om[j].loadfactor));
            break;
        }
    }
}

static shm_gen_t *free_gen(void)
{
    for (size_t i = 0; i < SHM_GENERATIONS_MAX; i++)
        if (!gens[i].base)
            return &gens[i];
    return NULL;
}

int pt_balancer_shm_create(const pt_config_t *cfg)
{
    if (cfg->nbalancers == 0 || gen_of(cfg))
        return 0;
    shm_gen_t *g = free_gen();
    if (!g)
        return -ENOSPC;
    size_t *offsets = calloc(cfg->nbalancers, sizeof(*offsets));
    if (!offsets)
        return -ENOMEM;
    size_t len = 0;
    for (size_t i = 0; i < cfg->nbalancers; i++) {
        offsets[i] = len;
        len += align_up(balancer_size(cfg->balancers[i]));
    }
    void *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        int err = errno;
        free(offsets);
        return -err;
    }
    *g = (shm_gen_t){.cfg = cfg, .base = base, .len = len, .offsets = offsets,
                     .serial = ++serial};
    const shm_gen_t *old = previous_gen(cfg);
    for (size_t i = 0; i < cfg->nbalancers; i++) {
        const pt_balancer_t *bal = cfg->balancers[i];
        size_t n;
        pt_member_shared_t *m = pt_balancer_slots(cfg, bal, &n);
        pt_balancer_shared_t *h = pt_balancer_shared(cfg, bal);
        init_slots(bal, h, m);
        if (bal->persist && old)
            persist_from(old, bal, h, m);
    }
    return 0;
}

void pt_balancer_shm_release(const pt_config_t *cfg)
{
    shm_gen_t *g = gen_of(cfg);
    if (!g)
        return;
    munmap(g->base, g->len);
    free(g->offsets);
    *g = (shm_gen_t){0};
}

pt_balancer_shared_t *pt_balancer_shared(const pt_config_t *cfg, const pt_balancer_t *bal)
{
    shm_gen_t *g = gen_of(cfg);
    if (!g || bal->index >= cfg->nbalancers || cfg->balancers[bal->index] != bal)
        return NULL;
    return (pt_balancer_shared_t *)(void *)(g->base + g->offsets[bal->index]);
}

pt_member_shared_t *pt_balancer_slots(const pt_config_t *cfg, const pt_balancer_t *bal,
                                      size_t *nslots)
{
    pt_balancer_shared_t *h = pt_balancer_shared(cfg, bal);
    *nslots = h ? bal->nslots : 0;
    return h ? (pt_member_shared_t *)(void *)((unsigned char *)h + align_up(sizeof(*h)))
             : NULL;
}
