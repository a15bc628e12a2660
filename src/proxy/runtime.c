/* The proxy runtime of a child (runtime.h). The per-child pointer is written by child_init
 * before the MPM starts any thread and cleared by child_exit after the last one has stopped,
 * so the workers and the listener only ever read it. */
#include "runtime.h"

#include "log.h"
#include "scheme.h"
#include "upstream_tls.h"

#include <pthread.h>
#include <stdlib.h>

static pt_runtime_t *child_runtime;

/* The pools of members added at run time (resolve=), found by backend: a short list, as
 * few such members exist, searched under its lock by the workers that use them. */
typedef struct dyn_pool {
    const pt_backend_t *b;
    pt_pool_t *pool;
    struct dyn_pool *next;
} dyn_pool_t;

struct pt_runtime_dyn {
    pthread_mutex_t mu;
    dyn_pool_t *head;
};

static pt_pool_opts_t pool_opts(const pt_config_t *cfg, const pt_backend_t *b)
{
    bool reuse = b->reuse_set ? b->enablereuse : b->scheme_ops && b->scheme_ops->reuse_default;
    /* mod_proxy's default max= is ThreadsPerChild: a worker holds each connection. Where a
     * request waiting for its backend holds none (the event MPM), more may be open. */
    int max = cfg->threads_per_child;
    if (cfg->mpm == PT_MPM_EVENT && b->scheme_ops && b->scheme_ops->parks)
        max += PT_POOL_PARKED_DEFAULT;
    return (pt_pool_opts_t){.max = b->max > 0 ? b->max : max, .idle_timeout_ms = b->ttl_ms,
                            .reuse = reuse, .workers = cfg->threads_per_child};
}

pt_runtime_t *pt_runtime_create(const pt_config_t *cfg)
{
    pt_runtime_t *rt = calloc(1, sizeof(*rt));
    if (!rt)
        return NULL;
    rt->cfg = cfg;
    rt->pools = calloc(cfg->nbackends ? cfg->nbackends : 1, sizeof(*rt->pools));
    rt->dyn = calloc(1, sizeof(*rt->dyn));
    if (!rt->pools || !rt->dyn) {
        free(rt->pools);
        free(rt->dyn);
        free(rt);
        return NULL;
    }
    pthread_mutex_init(&rt->dyn->mu, NULL);
    char err[512];
    if (!(rt->tls = pt_utls_create(cfg, err, sizeof(err)))) {
        /* the load made the same contexts: only memory can fail here */
        pt_log_merror("proxy", PT_LOG_CRIT, NULL, "https upstreams: %s", err);
        pt_runtime_destroy(rt);
        return NULL;
    }
    for (size_t i = 0; i < cfg->nbackends; i++) {
        const pt_backend_t *b = cfg->backends[i];
        pt_pool_opts_t o = pool_opts(cfg, b);
        if (!(rt->pools[i] = pt_pool_create(b, &o))) {
            pt_runtime_destroy(rt);
            return NULL;
        }
        rt->npools++;
    }
    return rt;
}

void pt_runtime_destroy(pt_runtime_t *rt)
{
    if (!rt)
        return;
    for (size_t i = 0; i < rt->npools; i++)
        pt_pool_destroy(rt->pools[i]);
    while (rt->dyn && rt->dyn->head) {
        dyn_pool_t *d = rt->dyn->head;
        rt->dyn->head = d->next;
        pt_pool_destroy(d->pool);
        free(d);
    }
    if (rt->dyn)
        pthread_mutex_destroy(&rt->dyn->mu);
    pt_utls_destroy(rt->tls);
    free(rt->dyn);
    free(rt->pools);
    free(rt);
}

static pt_pool_t *dynamic_pool(const pt_runtime_t *rt, const pt_backend_t *b)
{
    pthread_mutex_lock(&rt->dyn->mu);
    dyn_pool_t *d = rt->dyn->head;
    while (d && d->b != b)
        d = d->next;
    if (!d && (d = calloc(1, sizeof(*d)))) {
        pt_pool_opts_t o = pool_opts(rt->cfg, b);
        if ((d->pool = pt_pool_create(b, &o))) {
            d->b = b;
            d->next = rt->dyn->head;
            rt->dyn->head = d;
        } else {
            free(d);
            d = NULL;
        }
    }
    pthread_mutex_unlock(&rt->dyn->mu);
    return d ? d->pool : NULL;
}

pt_pool_t *pt_runtime_pool(const pt_runtime_t *rt, const pt_backend_t *b)
{
    if (!rt)
        return NULL;
    if (b->index < rt->npools && rt->cfg->backends[b->index] == b)
        return rt->pools[b->index];
    return rt->dyn && b->index == PT_BACKEND_RUNTIME ? dynamic_pool(rt, b) : NULL;
}

void pt_runtime_sweep(pt_runtime_t *rt, int64_t now_ms)
{
    for (size_t i = 0; rt && i < rt->npools; i++)
        pt_pool_sweep(rt->pools[i], now_ms);
    if (!rt || !rt->dyn)
        return;
    pthread_mutex_lock(&rt->dyn->mu);
    for (dyn_pool_t *d = rt->dyn->head; d; d = d->next)
        pt_pool_sweep(d->pool, now_ms);
    pthread_mutex_unlock(&rt->dyn->mu);
}

int pt_proxy_child_init(const pt_config_t *cfg)
{
    pt_runtime_destroy(child_runtime);
    child_runtime = pt_runtime_create(cfg);
    if (!child_runtime) {
        pt_log_merror("proxy", PT_LOG_CRIT, NULL, "cannot create the proxy runtime: out of memory");
        return -1;
    }
    return 0;
}

void pt_proxy_child_exit(const pt_config_t *cfg)
{
    (void)cfg;
    pt_runtime_destroy(child_runtime);
    child_runtime = NULL;
}

void pt_proxy_tick(int64_t now_ms)
{
    pt_runtime_sweep(child_runtime, now_ms);
}

pt_runtime_t *pt_proxy_runtime(void)
{
    return child_runtime;
}
