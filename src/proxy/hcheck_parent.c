/* The parent's side of the health checks and of resolve= (hcheck.h): the checks and lookups
 * of the configuration generation the parent serves, made on the first tick that sees it
 * and dropped when the configuration is released (a restart: the verdicts are carried to
 * the members of the same name in the next generation) or in a fresh child. The
 * parent is single-threaded: this state is touched by its thread only. */
#include "hcheck.h"

#include "log.h"
#include "upstream_tls.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/un.h>

/* A member's verdict carried over a restart, by name: the new generation's shared memory
 * starts afresh, and a member failing its checks would otherwise take requests again until
 * hcfails new checks have failed. */
typedef struct {
    char name[256];
    bool failed;
    int streak;
} memo_t;

/* The generation the checks were made for (cfg NULL when none), and the verdicts of the
 * one before it. */
static struct {
    const pt_config_t *cfg;
    pt_hcheck_t *hc;
    pt_resolve_t *rs;
    memo_t *memo;
    size_t nmemo;
} parent;

static void remember(const pt_member_shared_t *sh, void *arg)
{
    (void)arg;
    memo_t *m = realloc(parent.memo, (parent.nmemo + 1) * sizeof(*m));
    if (!m)
        return;
    parent.memo = m;
    m = &parent.memo[parent.nmemo++];
    snprintf(m->name, sizeof(m->name), "%s", sh->name);
    m->failed = atomic_load(&sh->status) & PT_MEMBER_HC_FAILED;
    m->streak = atomic_load(&sh->hc_streak);
}

/* The verdict the member of the same name had in the generation before. */
static void recall(pt_member_shared_t *sh)
{
    for (size_t i = 0; i < parent.nmemo; i++)
        if (strcmp(parent.memo[i].name, sh->name) == 0) {
            if (parent.memo[i].failed)
                atomic_fetch_or(&sh->status, PT_MEMBER_HC_FAILED);
            atomic_store(&sh->hc_streak, parent.memo[i].streak);
            return;
        }
}

static void forget_memo(void)
{
    free(parent.memo);
    parent.memo = NULL;
    parent.nmemo = 0;
}

static void teardown(void)
{
    pt_resolve_destroy(parent.rs);
    pt_hcheck_destroy(parent.hc);
    parent.rs = NULL;
    parent.hc = NULL;
    parent.cfg = NULL;
}

/* b's address, as the proxy connects: its unix socket, else its name's first address at
 * load (a member without resolve= keeps the address it had at start). */
static int member_addr(const pt_backend_t *b, struct sockaddr_storage *sa, socklen_t *len)
{
    memset(sa, 0, sizeof(*sa));
    if (b->unix_path) {
        struct sockaddr_un *sun = (struct sockaddr_un *)sa;
        sun->sun_family = AF_UNIX;
        if (strlen(b->unix_path) >= sizeof(sun->sun_path))
            return -1;
        strcpy(sun->sun_path, b->unix_path);
        *len = sizeof(*sun);
        return 0;
    }
    if (!b->naddrs) /* its name did not resolve at load: not looked up here either */
        return -1;
    *sa = b->addrs[0];
    *len = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    return 0;
}

/* The checks of the configured members (a resolve= member's addresses are added by the
 * resolver as it finds them). */
static void add_members(const pt_config_t *cfg, const pt_balancer_t *bal, int64_t now_ms)
{
    size_t nslots = 0;
    pt_member_shared_t *slots = pt_balancer_slots(cfg, bal, &nslots);
    for (size_t i = 0; slots && i < bal->nmembers && i < nslots; i++) {
        const pt_backend_t *b = bal->members[i];
        if (!b->hcmethod || b->resolve_s > 0)
            continue;
        struct sockaddr_storage sa;
        socklen_t len = 0;
        if (member_addr(b, &sa, &len) < 0) {
            pt_log_merror("proxy_hcheck", PT_LOG_ERR, NULL,
                          "health check: %s: cannot resolve %s: its checks "
                          "fail until a restart",
                          bal->name, slots[i].name);
            sa.ss_family = AF_UNSPEC; /* the socket call fails: each check fails */
            len = sizeof(sa);
        }
        char label[400];
        snprintf(label, sizeof(label), "%s of %s", slots[i].name, bal->name);
        recall(&slots[i]);
        pt_hc_target_spec_t t = {.b = b, .expr = pt_hcheck_expr_of(cfg, b),
                                 .sa = (struct sockaddr *)&sa, .salen = len, .sh = &slots[i],
                                 .label = label};
        if (pt_hcheck_add(parent.hc, &t, now_ms) < 0)
            pt_log_merror("proxy_hcheck", PT_LOG_ERR, NULL, "health check: out of memory");
    }
}

static void build(const pt_config_t *cfg, int64_t now_ms)
{
    parent.cfg = cfg;
    parent.hc = pt_hcheck_create();
    if (!parent.hc)
        return;
    char err[256];
    pt_utls_t *utls = pt_utls_create(cfg, err, sizeof(err));
    if (!utls)
        pt_log_merror("proxy_hcheck", PT_LOG_ERR, NULL,
                      "health check: no TLS for https:// members: %s", err);
    pt_hcheck_set_tls(parent.hc, cfg, utls);
    for (size_t i = 0; i < cfg->nbalancers; i++)
        add_members(cfg, cfg->balancers[i], now_ms);
    parent.rs = pt_resolve_create(cfg, parent.hc, now_ms);
}

void pt_hcheck_tick_parent(const pt_config_t *cfg, int64_t now_ms)
{
    if (parent.cfg != cfg) {
        teardown();
        build(cfg, now_ms);
    }
    if (!parent.hc)
        return;
    /* Lookups first: an address found now is checked within the same tick. */
    if (parent.rs)
        pt_resolve_run(parent.rs, PT_HC_TICK_BUDGET_MS / 4);
    pt_hcheck_run(parent.hc, PT_HC_TICK_BUDGET_MS);
    /* Copied now for the next generation: at a restart this one's shared memory is
     * unmapped before this file hears of it. */
    forget_memo();
    pt_hcheck_each(parent.hc, remember, NULL);
}

/* The generation's shared memory may be gone already (the balancers' release runs first):
 * the verdicts were copied at the last tick. */
void pt_hcheck_release(pt_config_t *cfg)
{
    if (parent.cfg == cfg)
        teardown();
}

void pt_hcheck_child_forget(void)
{
    teardown();
    forget_memo();
}
