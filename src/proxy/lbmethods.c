/* The lbmethods (lbmethods.h), one table as HAProxy's lb_ops: byrequests, bybusyness and
 * bytraffic as mod_lbmethod_* compute them, and portico's random2 (the power of two random
 * choices) and hash (weighted rendezvous hashing). Every score is in the shared slots, read
 * and updated with atomics and no lock: two picks at once may both see the same scores and
 * choose alike, a bounded unfairness Apache accepts too (its lock covers one child only
 * when the balancer mutex is off). */
#include "lbmethods.h"

#include <math.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int lf_of(const pt_member_shared_t *m)
{
    int lf = atomic_load_explicit(&m->loadfactor, memory_order_relaxed);
    return lf > 0 ? lf : 1;
}

/* ---- byrequests, bybusyness (mod_lbmethod_byrequests / _bybusyness) ------------------ */

/* Apache's weighted round robin: every candidate's score grows by its loadfactor, the
 * highest wins and gives back the total; over sum(lf) picks each member gets lf of them,
 * interleaved. ties(a, b) prefers a over the best so far b (bybusyness: fewer in flight). */
static int weighted_pick(const pt_lb_pick_t *p,
                         bool (*better)(const pt_member_shared_t *a, int64_t as,
                                        const pt_member_shared_t *b, int64_t bs))
{
    int best = -1;
    int64_t best_score = 0, total = 0;
    for (size_t i = 0; i < p->nslots; i++) {
        if (!p->candidate[i])
            continue;
        pt_member_shared_t *m = &p->slots[i];
        int lf = lf_of(m);
        int64_t s = atomic_fetch_add(&m->lbstatus, lf) + lf;
        total += lf;
        if (best < 0 || better(m, s, &p->slots[best], best_score)) {
            best = (int)i;
            best_score = s;
        }
    }
    if (best >= 0)
        atomic_fetch_sub(&p->slots[best].lbstatus, total);
    return best;
}

static bool by_score(const pt_member_shared_t *a, int64_t as, const pt_member_shared_t *b,
                     int64_t bs)
{
    (void)a;
    (void)b;
    return as > bs;
}

static bool by_busy(const pt_member_shared_t *a, int64_t as, const pt_member_shared_t *b,
                    int64_t bs)
{
    int ab = atomic_load(&a->busy), bb = atomic_load(&b->busy);
    return ab < bb || (ab == bb && as > bs);
}

static int pick_byrequests(const pt_lb_pick_t *p)
{
    return weighted_pick(p, by_score);
}

static int pick_bybusyness(const pt_lb_pick_t *p)
{
    return weighted_pick(p, by_busy);
}

/* ---- bytraffic (mod_lbmethod_bytraffic): the fewest bytes moved per unit of loadfactor */

static int pick_bytraffic(const pt_lb_pick_t *p)
{
    int best = -1;
    double best_traffic = 0;
    for (size_t i = 0; i < p->nslots; i++) {
        if (!p->candidate[i])
            continue;
        const pt_member_shared_t *m = &p->slots[i];
        double t = ((double)atomic_load(&m->bytes_in) + (double)atomic_load(&m->bytes_out)) /
                   lf_of(m);
        if (best < 0 || t < best_traffic) {
            best = (int)i;
            best_traffic = t;
        }
    }
    return best;
}

/* ---- random2: two members drawn at random (by loadfactor), the less busy one wins ---- */

/* xorshift64*, one state per thread, seeded from the thread's stack address, the pid and
 * the clock so that children and threads draw apart. */
static uint64_t rnd64(void)
{
    static _Thread_local uint64_t s;
    if (!s) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)(uintptr_t)&ts ^ ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec;
        s |= 1;
    }
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
}

static int draw_weighted(const pt_lb_pick_t *p, int64_t total)
{
    int64_t r = (int64_t)(rnd64() % (uint64_t)total);
    for (size_t i = 0; i < p->nslots; i++) {
        if (!p->candidate[i])
            continue;
        r -= lf_of(&p->slots[i]);
        if (r < 0)
            return (int)i;
    }
    return -1;
}

static int pick_random2(const pt_lb_pick_t *p)
{
    int64_t total = 0;
    for (size_t i = 0; i < p->nslots; i++)
        if (p->candidate[i])
            total += lf_of(&p->slots[i]);
    if (total == 0)
        return -1;
    int a = draw_weighted(p, total), b = draw_weighted(p, total);
    /* In-flight requests per unit of weight: a member twice as heavy may hold twice as
     * many before it loses. */
    double la = (double)atomic_load(&p->slots[a].busy) / lf_of(&p->slots[a]);
    double lb = (double)atomic_load(&p->slots[b].busy) / lf_of(&p->slots[b]);
    return lb < la ? b : a;
}

/* ---- hash: weighted rendezvous (highest random weight) hashing ----------------------- */

/* FNV-1a over key and member, then splitmix64's finalizer for the avalanche FNV lacks. */
static uint64_t hash2(const char *key, const char *member)
{
    uint64_t h = 14695981039346656037ull;
    for (const char *s = key; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull; /* separator: ("ab","c") != ("a","bc") */
    for (const char *s = member; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

/* Each member scores every key independently: the key goes to the highest score. A member
 * added wins only the keys it now scores highest on (its share), and a member removed
 * loses only its own; the others' keep their member. -lf/ln(u) weights the shares by
 * loadfactor (Schindelhauer and Schomaker's weighted form). */
double pt_lb_hash_score(const char *key, const char *member, int loadfactor)
{
    double u = ((double)(hash2(key, member) >> 11) + 0.5) / 9007199254740992.0; /* (0,1) */
    return (double)(loadfactor > 0 ? loadfactor : 1) / -log(u);
}

static int pick_hash(const pt_lb_pick_t *p)
{
    const char *key = p->key ? p->key : "";
    int best = -1;
    double best_score = 0;
    for (size_t i = 0; i < p->nslots; i++) {
        if (!p->candidate[i])
            continue;
        double s = pt_lb_hash_score(key, p->slots[i].name, lf_of(&p->slots[i]));
        if (best < 0 || s > best_score) {
            best = (int)i;
            best_score = s;
        }
    }
    return best;
}

/* ---- The table --------------------------------------------------------------------- */

static const pt_lbmethod_t methods[] = {
    {"byrequests", pick_byrequests, false},
    {"bybusyness", pick_bybusyness, false},
    {"bytraffic", pick_bytraffic, false},
    {"random2", pick_random2, false},
    {"hash", pick_hash, true},
};

const pt_lbmethod_t *pt_lbmethod_find(const char *name)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(methods); i++)
        if (strcasecmp(methods[i].name, name) == 0)
            return &methods[i];
    return NULL;
}

const pt_lbmethod_t *pt_lbmethod_default(void)
{
    return &methods[0];
}
