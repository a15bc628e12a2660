/* resolve=N in the parent (hcheck.h): one lookup per resolving member every N seconds,
 * driven for a bounded time per tick, and its answer applied to the member's spare slots
 * in the balancer's shared memory (added, removed and drained members, logged at notice).
 * The slots' layout (which spare slots belong to which member) is resolve_slots.c's. */
#include "hcheck.h"

#include "log.h"
#include "resolve_slots.h"
#include "resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

/* One resolving member and its slots. */
typedef struct {
    const pt_balancer_t *bal;
    const pt_backend_t *b;
    size_t own_slot;           /* the configured member's slot */
    size_t first, count;       /* its spare slots */
    pt_member_shared_t *slots; /* the balancer's, all of them */
    int64_t next_ms;
    pt_dns_lookup_t *lk;
    int64_t *freed_ms;         /* per spare slot: when it was emptied (0: free since start) */
    bool said_empty;           /* "no address" logged (once until an address comes back) */
} follow_t;

struct pt_resolve {
    const pt_config_t *cfg;
    pt_hcheck_t *hc;
    struct sockaddr_storage server;
    socklen_t slen;            /* 0: no resolver known (logged at create) */
    follow_t *f;
    size_t nf;
};

/* The resolver: ProxyResolver, else resolv.conf's first nameserver. */
static void find_server(pt_resolve_t *rs)
{
    const pt_hcheck_conf_t *hc = rs->cfg->hcheck;
    if (hc && hc->resolver_len) {
        rs->server = hc->resolver;
        rs->slen = hc->resolver_len;
    } else if (pt_dns_resolv_conf("/etc/resolv.conf", &rs->server, &rs->slen) < 0) {
        rs->slen = 0;
        pt_log_merror("proxy_balancer", PT_LOG_ERR, NULL,
                      "resolve=: no nameserver in /etc/resolv.conf and no "
                      "ProxyResolver: members keep the address they had at start");
    }
}

static int add_follow(pt_resolve_t *rs, const pt_balancer_t *bal, size_t m, int64_t now_ms)
{
    size_t nslots = 0;
    pt_member_shared_t *slots = pt_balancer_slots(rs->cfg, bal, &nslots);
    follow_t f = {.bal = bal, .b = bal->members[m], .own_slot = m, .slots = slots,
                  .next_ms = now_ms};
    if (!slots || pt_resolve_slot_range(bal, m, &f.first, &f.count) < 0 ||
        f.first + f.count > nslots)
        return 0;
    if (f.b->unix_path) {
        pt_log_merror("proxy_balancer", PT_LOG_WARN, NULL,
                      "%s: member %s: resolve= ignored on a unix socket", bal->name, slots[m].name);
        return 0;
    }
    if (!(f.freed_ms = calloc(f.count, sizeof(*f.freed_ms))))
        return -ENOMEM;
    follow_t *nf = realloc(rs->f, (rs->nf + 1) * sizeof(*nf));
    if (!nf) {
        free(f.freed_ms);
        return -ENOMEM;
    }
    rs->f = nf;
    rs->f[rs->nf++] = f;
    return 0;
}

pt_resolve_t *pt_resolve_create(const pt_config_t *cfg, pt_hcheck_t *hc, int64_t now_ms)
{
    pt_resolve_t *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return NULL;
    rs->cfg = cfg;
    rs->hc = hc;
    for (size_t i = 0; i < cfg->nbalancers; i++) {
        const pt_balancer_t *bal = cfg->balancers[i];
        for (size_t m = 0; m < bal->nmembers; m++)
            if (bal->members[m]->resolve_s > 0 && add_follow(rs, bal, m, now_ms) < 0)
                pt_log_merror("proxy_balancer", PT_LOG_ERR, NULL, "resolve=: out of memory");
    }
    if (rs->nf == 0) {
        free(rs);
        return NULL;
    }
    find_server(rs);
    return rs;
}

void pt_resolve_destroy(pt_resolve_t *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->nf; i++) {
        pt_dns_lookup_free(rs->f[i].lk);
        free(rs->f[i].freed_ms);
    }
    free(rs->f);
    free(rs);
}

/* ---- Applying an answer ----------------------------------------------------------------- */

/* The address of a spare slot in use, as text; false when the name holds none. */
static bool slot_addr(const pt_member_shared_t *sh, char *out, size_t cap)
{
    return pt_resolve_name_addr(sh->name, out, cap) == 0;
}

static void start_checks(pt_resolve_t *rs, follow_t *f, pt_member_shared_t *sh,
                         const char *addr, int64_t now_ms)
{
    if (!f->b->hcmethod)
        return;
    struct sockaddr_storage sa = {0};
    socklen_t len;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&sa;
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)f->b->port);
        len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)f->b->port);
        len = sizeof(*v6);
    } else {
        return;
    }
    char label[400];
    snprintf(label, sizeof(label), "%s of %s", sh->name, f->bal->name);
    pt_hc_target_spec_t t = {.b = f->b, .expr = pt_hcheck_expr_of(rs->cfg, f->b),
                             .sa = (struct sockaddr *)&sa, .salen = len, .sh = sh,
                             .label = label};
    if (pt_hcheck_add(rs->hc, &t, now_ms) < 0)
        pt_log_merror("proxy_balancer", PT_LOG_ERR, NULL, "health check: out of memory");
}

/* A free spare slot takes addr: its name first, in_use last (the children read in_use
 * before the name). false when every spare slot is taken or still draining. */
static bool add_member(pt_resolve_t *rs, follow_t *f, const char *addr, int64_t now_ms)
{
    for (size_t k = 0; k < f->count; k++) {
        pt_member_shared_t *sh = &f->slots[f->first + k];
        if (atomic_load(&sh->in_use) || atomic_load(&sh->busy) > 0 ||
            (f->freed_ms[k] && now_ms - f->freed_ms[k] < PT_RESOLVE_REUSE_MS))
            continue;
        pt_resolve_member_name(f->b, addr, sh->name, sizeof(sh->name));
        const pt_member_shared_t *own = &f->slots[f->own_slot];
        atomic_store(&sh->status, f->b->status & ~(unsigned)PT_MEMBER_HC_FAILED);
        atomic_store(&sh->loadfactor, atomic_load(&own->loadfactor));
        atomic_store(&sh->error_until_ms, 0);
        atomic_store(&sh->lbstatus, 0);
        atomic_store(&sh->hc_streak, 0);
        atomic_store(&sh->in_use, true);
        pt_log_merror("proxy_balancer", PT_LOG_NOTICE, NULL, "%s: member %s added (resolve= of %s)",
                      f->bal->name, sh->name, f->b->host);
        start_checks(rs, f, sh, addr, now_ms);
        return true;
    }
    pt_log_merror("proxy_balancer", PT_LOG_WARN, NULL,
                  "%s: %s has more addresses than the %zu slots kept for "
                  "it: %s not added",
                  f->bal->name, f->b->host, f->count, addr);
    return false;
}

static void remove_member(pt_resolve_t *rs, follow_t *f, size_t k, int64_t now_ms)
{
    pt_member_shared_t *sh = &f->slots[f->first + k];
    atomic_store(&sh->in_use, false);
    f->freed_ms[k] = now_ms;
    pt_hcheck_remove(rs->hc, sh);
    pt_log_merror("proxy_balancer", PT_LOG_NOTICE, NULL,
                  "%s: member %s removed: %s no longer has that address "
                  "(%d request%s in flight finish)",
                  f->bal->name, sh->name, f->b->host, atomic_load(&sh->busy),
                  atomic_load(&sh->busy) == 1 ? "" : "s");
}

static bool listed(char addrs[][INET6_ADDRSTRLEN], size_t n, const char *a)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(addrs[i], a) == 0)
            return true;
    return false;
}

/* The members become one per address of the answer. */
static void apply(pt_resolve_t *rs, follow_t *f, const pt_dns_answer_t *ans, int64_t now_ms)
{
    char addrs[PT_DNS_MAX_ADDRS][INET6_ADDRSTRLEN];
    size_t n = 0;
    for (size_t i = 0; i < ans->naddrs; i++) {
        char a[INET6_ADDRSTRLEN];
        inet_ntop(ans->addrs[i].family, ans->addrs[i].addr, a, sizeof(a));
        if (!listed(addrs, n, a))
            memcpy(addrs[n++], a, sizeof(a));
    }
    if (n == 0) {
        if (!f->said_empty)
            pt_log_merror("proxy_balancer", PT_LOG_WARN, NULL,
                          "%s: %s has no address now (%s): its members "
                          "are kept",
                          f->bal->name, f->b->host,
                          ans->rcode == PT_DNS_RCODE_NXDOMAIN ? "NXDOMAIN" : "empty answer");
        f->said_empty = true;
        return;
    }
    f->said_empty = false;
    bool have[PT_DNS_MAX_ADDRS] = {false}, any = false;
    for (size_t k = 0; k < f->count; k++) {
        char a[INET6_ADDRSTRLEN];
        pt_member_shared_t *sh = &f->slots[f->first + k];
        if (!atomic_load(&sh->in_use) || !slot_addr(sh, a, sizeof(a)))
            continue;
        size_t i = 0;
        while (i < n && strcmp(addrs[i], a) != 0)
            i++;
        if (i == n)
            remove_member(rs, f, k, now_ms);
        else
            have[i] = any = true;
    }
    for (size_t i = 0; i < n; i++)
        if (!have[i])
            any |= add_member(rs, f, addrs[i], now_ms);
    /* The configured member stands for the name: while its addresses are members, it
     * takes no requests of its own (it would be one of them twice). */
    if (any)
        atomic_store(&f->slots[f->own_slot].in_use, false);
}

/* ---- Lookups ---------------------------------------------------------------------------- */

/* A literal address needs no lookup: the answer is itself. */
static bool literal(const char *host, pt_dns_answer_t *ans)
{
    memset(ans, 0, sizeof(*ans));
    pt_dns_addr_t *a = &ans->addrs[0];
    if (inet_pton(AF_INET, host, a->addr) == 1)
        a->family = AF_INET;
    else if (inet_pton(AF_INET6, host, a->addr) == 1)
        a->family = AF_INET6;
    else
        return false;
    ans->naddrs = 1;
    return true;
}

static void start_lookup(pt_resolve_t *rs, follow_t *f, int64_t now_ms)
{
    f->next_ms = now_ms + (int64_t)f->b->resolve_s * 1000;
    pt_dns_answer_t ans;
    if (literal(f->b->host, &ans)) {
        apply(rs, f, &ans, now_ms);
        return;
    }
    if (!rs->slen)
        return;
    int64_t timeout = PT_MIN(PT_RESOLVE_TIMEOUT_MS, (int64_t)f->b->resolve_s * 1000);
    f->lk = pt_dns_lookup_start((struct sockaddr *)&rs->server, rs->slen, f->b->host, now_ms,
                                timeout);
    if (!f->lk)
        pt_log_merror("proxy_balancer", PT_LOG_WARN, NULL, "%s: cannot look %s up: %s",
                      f->bal->name, f->b->host, strerror(errno));
}

static const char *lookup_error(int rc)
{
    switch (rc) {
    case PT_ETIMEOUT: return "no answer in time";
    case PT_EINVAL: return "a malformed answer";
    case PT_ECLOSED: return "the server failed or refused";
    default: return strerror(-rc);
    }
}

static void step_lookup(pt_resolve_t *rs, follow_t *f, int64_t now_ms)
{
    int rc = pt_dns_lookup_step(f->lk, now_ms);
    if (rc == 0)
        return;
    if (rc == 1)
        apply(rs, f, pt_dns_lookup_result(f->lk), now_ms);
    else
        pt_log_merror("proxy_balancer", PT_LOG_WARN, NULL,
                      "%s: lookup of %s failed (%s): its members are kept", f->bal->name,
                      f->b->host, lookup_error(rc));
    pt_dns_lookup_free(f->lk);
    f->lk = NULL;
}

void pt_resolve_run(pt_resolve_t *rs, int64_t budget_ms)
{
    int64_t now = pt_now_ms(), end = now + budget_ms;
    for (size_t i = 0; i < rs->nf; i++)
        if (!rs->f[i].lk && now >= rs->f[i].next_ms)
            start_lookup(rs, &rs->f[i], now);
    struct pollfd *pf = calloc(rs->nf, sizeof(*pf));
    if (!pf)
        return;
    for (;;) {
        size_t active = 0;
        int64_t first = end;
        for (size_t i = 0; i < rs->nf; i++) {
            short ev = 0;
            pf[i] = (struct pollfd){.fd = rs->f[i].lk ? pt_dns_lookup_fd(rs->f[i].lk, &ev) : -1};
            pf[i].events = ev;
            if (rs->f[i].lk) {
                active++;
                first = PT_MIN(first, pt_dns_lookup_deadline(rs->f[i].lk));
            }
        }
        if (active == 0)
            break;
        poll(pf, rs->nf, (int)PT_MAX(first - now, 0));
        now = pt_now_ms();
        for (size_t i = 0; i < rs->nf; i++)
            if (rs->f[i].lk && (pf[i].revents || now >= pt_dns_lookup_deadline(rs->f[i].lk)))
                step_lookup(rs, &rs->f[i], now);
        if (now >= end)
            break;
    }
    free(pf);
}
