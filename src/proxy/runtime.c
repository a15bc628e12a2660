/* The proxy runtime of a child (runtime.h). The per-child pointer is written by child_init
 * before the MPM starts any thread and cleared by child_exit after the last one has stopped,
 * so the workers and the listener only ever read it. */
#include "runtime.h"

#include "log.h"
#include "scheme.h"

#include <stdlib.h>

static pt_runtime_t *child_runtime;

pt_runtime_t *pt_runtime_create(const pt_config_t *cfg)
{
    pt_runtime_t *rt = calloc(1, sizeof(*rt));
    if (!rt)
        return NULL;
    rt->cfg = cfg;
    rt->pools = calloc(cfg->nbackends ? cfg->nbackends : 1, sizeof(*rt->pools));
    if (!rt->pools) {
        free(rt);
        return NULL;
    }
    for (size_t i = 0; i < cfg->nbackends; i++) {
        const pt_backend_t *b = cfg->backends[i];
        bool reuse = b->reuse_set ? b->enablereuse
                                  : b->scheme_ops && b->scheme_ops->reuse_default;
        pt_pool_opts_t o = {.max = b->max > 0 ? b->max : cfg->threads_per_child,
                            .idle_timeout_ms = b->ttl_ms, .reuse = reuse};
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
    free(rt->pools);
    free(rt);
}

pt_pool_t *pt_runtime_pool(const pt_runtime_t *rt, const pt_backend_t *b)
{
    return rt && b->index < rt->npools && rt->cfg->backends[b->index] == b ? rt->pools[b->index]
                                                                            : NULL;
}

void pt_runtime_sweep(pt_runtime_t *rt, int64_t now_ms)
{
    for (size_t i = 0; rt && i < rt->npools; i++)
        pt_pool_sweep(rt->pools[i], now_ms);
}

int pt_proxy_child_init(const pt_config_t *cfg)
{
    pt_runtime_destroy(child_runtime);
    child_runtime = pt_runtime_create(cfg);
    if (!child_runtime) {
        pt_log_error(PT_LOG_CRIT, NULL, "cannot create the proxy runtime: out of memory");
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
