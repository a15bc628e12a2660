/* A child's proxy runtime: the mutable state made from one configuration generation (today
 * one connection pool per backend; later balancer handles), created in the child before it
 * serves and freed when it exits, through the MPM's hooks (mpm.h pt_mpm_hooks_t, registered
 * by startup.c). The configuration itself stays read-only. */
#ifndef PT_RUNTIME_H
#define PT_RUNTIME_H

#include "pool.h"

/* The index of a backend made at run time (a resolve= member, resolve_slots.c), in no
 * configuration's backends: the runtime makes its pool when it is first used. */
#define PT_BACKEND_RUNTIME SIZE_MAX

/* Owns its pools; cfg is the generation it was made from (it must outlive the runtime). */
typedef struct pt_runtime {
    const pt_config_t *cfg;
    pt_pool_t **pools;         /* one per cfg->backends[i], at i */
    size_t npools;
    struct pt_runtime_dyn *dyn;/* pools of members added at run time (resolve=, not in
                                  cfg->backends), each made when first used */
    struct pt_utls *tls;       /* https:// upstreams: the client SSL_CTX of each server with
                                  SSLProxyEngine On (upstream_tls.h) */
} pt_runtime_t;

/* The runtime for cfg: a pool for each backend, max= connections each (ThreadsPerChild when
 * no max= is given). NULL when memory runs out. */
pt_runtime_t *pt_runtime_create(const pt_config_t *cfg);
void pt_runtime_destroy(pt_runtime_t *rt);
/* The pool of backend b: a backend of rt->cfg, or one made at run time (index
 * PT_BACKEND_RUNTIME: its pool made on first use); NULL for any other (another
 * generation's) or when memory runs out. */
pt_pool_t *pt_runtime_pool(const pt_runtime_t *rt, const pt_backend_t *b);
/* Closes idle connections past their idle timeout in every pool; does not block on I/O. */
void pt_runtime_sweep(pt_runtime_t *rt, int64_t now_ms);

/* ---- This child's runtime: what startup.c registers as MPM hooks ---------------- */

/* Makes this child's runtime (before the MPM starts its threads): 0, or -1 (logged). */
int pt_proxy_child_init(const pt_config_t *cfg);
/* Frees it, after the child's last request. */
void pt_proxy_child_exit(const pt_config_t *cfg);
/* The listener's tick: sweeps idle upstream connections. */
void pt_proxy_tick(int64_t now_ms);
/* This child's runtime, for the request handlers; NULL outside a child (then a proxied
 * request is a 500). */
pt_runtime_t *pt_proxy_runtime(void);

#endif
