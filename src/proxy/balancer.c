/* The balancer scheme (balancer://NAME, mod_proxy_balancer): for each request, a member
 * picked by the sticky route or the lbmethod among the usable ones (hot standbys only when
 * no other is), the request forwarded through the member's own scheme (its forward op), and
 * what the attempt came to applied to the member's shared state: the error state for
 * retry= seconds, failonstatus=, and another member for a request that failed before any
 * byte of an answer went to the client (an idempotent one even when the member had it, once;
 * any other only when none of it reached the member). */
#include "balancer.h"

#include "access.h"
#include "clock.h"
#include "lbmethods.h"
#include "request.h"
#include "scheme.h"

#include "mpm/mpm.h"

#include <strings.h>
#include <time.h>

#define WAIT_STEP_MS 50 /* timeout=: how often a waiting request looks for a usable member */

static pt_balancer_dynamic_fn dynamic_member;

void pt_balancer_set_dynamic(pt_balancer_dynamic_fn fn)
{
    dynamic_member = fn;
}

const pt_backend_t *pt_balancer_member(const pt_balancer_t *bal, size_t slot)
{
    if (slot < bal->nmembers)
        return bal->members[slot];
    return slot < bal->nslots && dynamic_member ? dynamic_member(bal, slot) : NULL;
}

/* ---- Sticky sessions ------------------------------------------------------------------ */

/* The value of name=... in s where name starts s or follows one of delims; NULL if none. */
static const char *find_param(pt_arena_t *a, const char *s, const char *name,
                              const char *delims, const char *ends)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(s, name); p; p = strstr(p + 1, name)) {
        if (p != s && !strchr(delims, p[-1]))
            continue;
        if (p[nl] != '=')
            continue;
        const char *v = p + nl + 1;
        size_t vl = strcspn(v, ends);
        if (vl)
            return pt_arena_strndup(a, v, vl);
    }
    return NULL;
}

const char *pt_balancer_sticky_route(pt_arena_t *a, const pt_balancer_t *bal,
                                     const char *cookies, const char *url)
{
    if (!bal->sticky[0])
        return NULL;
    const char *session = NULL;
    /* The URL first (session in the path ";jsessionid=" or the query), then the cookie:
     * Apache's order. ';' ends a value only with scolonpathdelim. */
    if (url)
        session = find_param(a, url, bal->sticky[1], ";?&",
                             bal->scolonpathdelim ? ";?&" : "?&");
    if (!session && cookies) {
        session = find_param(a, cookies, bal->sticky[0], " ;,\t", ";, \t");
        if (session && session[0] == '"') /* a quoted cookie value */
            session = pt_arena_strndup(a, session + 1, strcspn(session + 1, "\""));
    }
    const char *sep = session ? strchr(session, bal->sticky_sep) : NULL;
    return sep && sep[1] ? sep + 1 : NULL;
}

/* ---- Picking a member ----------------------------------------------------------------- */

/* What one request's balancing needs, on its stack. */
typedef struct {
    pt_request_t *r;
    const pt_balancer_t *bal;
    pt_member_shared_t *slots;
    size_t nslots;
    bool *tried;               /* per slot: an attempt of this request went there */
    bool *candidate;
    int64_t now_ms;
} pick_t;

static bool slot_open(const pick_t *k, size_t i)
{
    return !k->tried[i] && pt_balancer_member(k->bal, i) != NULL;
}

/* The member whose route= is route: its own standbys after the others, as Apache's
 * find_route_worker. -1 when none is usable. */
static int pick_route(const pick_t *k, const char *route)
{
    for (int standby = 0; standby < 2; standby++) {
        for (size_t i = 0; i < k->nslots; i++) {
            const pt_backend_t *b = slot_open(k, i) ? pt_balancer_member(k->bal, i) : NULL;
            if (!b || !b->route || strcmp(b->route, route) != 0)
                continue;
            bool sb = atomic_load(&k->slots[i].status) & PT_MEMBER_HOT_STANDBY;
            if (sb == (bool)standby && pt_member_usable(&k->slots[i], true, k->now_ms))
                return (int)i;
        }
    }
    return -1;
}

/* The hash lbmethod's key: hashkey= header or cookie, else the client address. */
static const char *hash_key(const pick_t *k)
{
    const char *hk = k->bal->hashkey;
    pt_request_t *r = k->r;
    if (hk && strncasecmp(hk, "header:", 7) == 0) {
        const char *v = pt_table_get(&r->headers_in, hk + 7);
        if (v && *v)
            return v;
    } else if (hk) {
        const char *c = pt_table_get(&r->headers_in, "Cookie");
        const char *v = c ? find_param(r->arena, c, hk + 7, " ;,\t", ";, \t") : NULL;
        if (v)
            return v;
    }
    return pt_request_client_ip(r);
}

/* The lbmethod among the members of one lbset and tier (standby or not). */
static int pick_tier(const pick_t *k, int lbset, bool standby)
{
    bool some = false;
    for (size_t i = 0; i < k->nslots; i++) {
        const pt_backend_t *b = slot_open(k, i) ? pt_balancer_member(k->bal, i) : NULL;
        bool sb = b && (atomic_load(&k->slots[i].status) & PT_MEMBER_HOT_STANDBY);
        k->candidate[i] = b && b->lbset == lbset && sb == standby &&
                          pt_member_usable(&k->slots[i], false, k->now_ms);
        some |= k->candidate[i];
    }
    if (!some)
        return -1;
    pt_lb_pick_t p = {.bal = k->bal, .slots = k->slots, .candidate = k->candidate,
                      .nslots = k->nslots, .key = k->bal->lbmethod->keyed ? hash_key(k) : NULL};
    return k->bal->lbmethod->pick(&p);
}

/* The smallest lbset above after among the open members; -1 when none. */
static int next_lbset(const pick_t *k, int after)
{
    int next = -1;
    for (size_t i = 0; i < k->nslots; i++) {
        const pt_backend_t *b = slot_open(k, i) ? pt_balancer_member(k->bal, i) : NULL;
        if (b && b->lbset > after && (next < 0 || b->lbset < next))
            next = b->lbset;
    }
    return next;
}

/* Apache's lbset order: the lowest set first, in it the members, then its hot standbys;
 * a higher set only when the lower ones have no usable member. */
static int pick_lb(const pick_t *k)
{
    for (int lbset = next_lbset(k, -1); lbset >= 0; lbset = next_lbset(k, lbset)) {
        for (int standby = 0; standby < 2; standby++) {
            int i = pick_tier(k, lbset, standby);
            if (i >= 0)
                return i;
        }
    }
    return -1;
}

/* forcerecovery (Apache's default): when every member is in error, their retry= time is
 * cut short so that the request tries them again rather than failing on a stale state. */
static bool force_recovery(const pick_t *k)
{
    bool any = false;
    for (size_t i = 0; i < k->nslots; i++) {
        pt_member_shared_t *m = &k->slots[i];
        if (!slot_open(k, i) || !atomic_load(&m->in_use))
            continue;
        unsigned st = atomic_load(&m->status);
        if (st & (PT_MEMBER_STOPPED | PT_MEMBER_DISABLED | PT_MEMBER_HC_FAILED |
                  PT_MEMBER_DRAIN))
            continue;
        if (!(st & PT_MEMBER_IN_ERROR))
            return false; /* one is usable or busy elsewhere: not "all in error" */
        any = true;
    }
    for (size_t i = 0; any && i < k->nslots; i++)
        if (slot_open(k, i))
            atomic_store(&k->slots[i].error_until_ms, 0);
    return any;
}

/* The member for the next attempt: the sticky route's when it is usable, else the
 * lbmethod's. -1 when none (the caller answers 503). */
static int pick_member(pick_t *k, const char *route, bool first)
{
    int i = route ? pick_route(k, route) : -1;
    if (i >= 0)
        return i;
    if (route && k->bal->nofailover && first)
        return -1; /* the session's member is down and may not be replaced (Apache) */
    i = pick_lb(k);
    if (i < 0 && first && k->bal->forcerecovery && force_recovery(k)) {
        pt_log_rmerror("proxy_balancer", PT_LOG_WARN, k->r,
                       "AH01165: %s: all members in error state: "
                       "forcing recovery",
                       k->bal->name);
        i = pick_lb(k);
    }
    return i;
}

/* timeout= (Apache's balancer timeout): with no usable member, wait that long for one to
 * come back (out of its error state, enabled by the manager, passing its health checks)
 * before answering 503; without it, 503 at once. */
static int wait_member(pick_t *k, const char *route)
{
    int slot = -1;
    int64_t end = pt_now_ms() + k->bal->timeout_ms;
    pt_mpm_block_begin(); /* the worker only sleeps: the MPM may serve others meanwhile */
    while (slot < 0 && (k->now_ms = pt_now_ms()) < end) {
        struct timespec ts = {0, WAIT_STEP_MS * 1000000L};
        nanosleep(&ts, NULL);
        k->now_ms = pt_now_ms();
        slot = pick_member(k, route, false);
    }
    pt_mpm_block_end();
    return slot;
}

/* ---- One attempt ------------------------------------------------------------------------ */

/* The member's path, then what the request adds after the balancer's name (Apache swaps
 * "balancer://NAME" for the member's URL). */
static const char *member_path(pt_request_t *r, const pt_backend_t *b, const char *rest)
{
    size_t bl = strlen(b->path);
    if (bl && b->path[bl - 1] == '/' && rest[0] == '/')
        rest++;
    return pt_arena_printf(r->arena, "%s%s", b->path, rest);
}

static bool is_status_listed(const pt_balancer_t *bal, int status)
{
    for (size_t i = 0; i < bal->nfailonstatus; i++)
        if (bal->failonstatus[i] == status)
            return true;
    return false;
}

/* What an answered attempt tells about the member. */
static void note_answer(pick_t *k, int slot, const pt_backend_t *b, const pt_proxy_attempt_t *a)
{
    pt_member_shared_t *m = &k->slots[slot];
    atomic_store(&m->last_latency_us, a->latency_us);
    if (is_status_listed(k->bal, a->status)) {
        pt_member_mark_error(m, pt_member_retry_ms(b), pt_now_ms());
        pt_log_rmerror("proxy_balancer", PT_LOG_ERR, k->r,
                       "AH01173: %s: forcing member %s into error state: "
                       "status %d is in failonstatus",
                       k->bal->name, m->name, a->status);
    } else if (atomic_load(&m->status) & PT_MEMBER_IN_ERROR) {
        atomic_fetch_and(&m->status, ~(unsigned)PT_MEMBER_IN_ERROR);
        pt_log_rmerror("proxy_balancer", PT_LOG_NOTICE, k->r,
                       "%s: member %s answered again: out of the error "
                       "state",
                       k->bal->name, m->name);
    }
}

/* A balanced request: the pick, the attempts so far and the one in flight. In the arena:
 * an attempt may park the request and end on another worker (attempt_then). */
typedef struct {
    pick_t k;
    const char *route, *rest;
    int n, max;               /* attempts made; at most */
    bool resent;              /* a request that reached a member goes to one more at most */
    int slot;                 /* the member of the attempt in flight */
    const pt_backend_t *b;
    pt_proxy_attempt_t a;
} balance_t;

/* The member's counters after its attempt (forward_to's other half). */
static void attempt_counted(balance_t *bl)
{
    pt_member_shared_t *m = &bl->k.slots[bl->slot];
    atomic_fetch_sub(&m->busy, 1);
    atomic_fetch_add(&m->bytes_in, bl->a.bytes_in);
    atomic_fetch_add(&m->bytes_out, bl->a.bytes_out);
}

static int attempt_then(pt_request_t *r, void *ctx, int rc);

static void attempt_gone(void *ctx)
{
    attempt_counted(ctx);
}

/* Forwards r once to the member in bl->slot: its counters in shared memory around the call
 * (busy stays counted while the attempt is parked). */
static int forward_to(balance_t *bl)
{
    pick_t *k = &bl->k;
    pt_request_t *r = k->r;
    const pt_backend_t *b = bl->b;
    pt_member_shared_t *m = &k->slots[bl->slot];
    k->tried[bl->slot] = true;
    r->backend = b;
    r->backend_path = member_path(r, b, bl->rest);
    atomic_fetch_add(&m->requests, 1);
    atomic_fetch_add(&m->busy, 1);
    int rc;
    bl->a = (pt_proxy_attempt_t){.then = attempt_then, .gone = attempt_gone, .then_ctx = bl};
    if (b->scheme_ops->forward) {
        rc = b->scheme_ops->forward(r, b, &bl->a);
        if (rc == PT_SUSPENDED)
            return rc;
    } else {
        /* A scheme without a forward op (FastCGI): its handler answers, and a 503 while
         * nothing went to the client is what its handler says for a backend it could not
         * reach (refused, pool full): taken as a refusal, so another member may answer. */
        r->handler = b->url;
        rc = b->handler->run(r);
        if (rc == 503 && !r->head_sent)
            bl->a = (pt_proxy_attempt_t){.failed = true, .fail = PT_UPSTREAM_REFUSED};
    }
    attempt_counted(bl);
    return rc;
}

static bool idempotent(const pt_request_t *r)
{
    switch (r->method_id) {
    case PT_METHOD_GET: case PT_METHOD_HEAD: case PT_METHOD_PUT: case PT_METHOD_DELETE:
    case PT_METHOD_OPTIONS:
        return true;
    default:
        return false;
    }
}

/* A failed attempt: the member's state, then whether another member may take the request:
 * only when nothing was answered to the client and the client's body was not read, and for
 * a method that is not idempotent only when none of it reached the member (RFC 9110
 * 9.2.2): the failure class says which failures allow it (upstream.h). */
static bool failed_attempt(pick_t *k, int slot, const pt_backend_t *b,
                           const pt_proxy_attempt_t *a, bool last)
{
    const pt_upstream_class_t *cls = pt_upstream_class(a->fail);
    pt_member_shared_t *m = &k->slots[slot];
    bool timeout = a->fail == PT_UPSTREAM_READ_TIMEOUT || a->fail == PT_UPSTREAM_WRITE_TIMEOUT;
    if (cls->mark_failed || (k->bal->failontimeout && timeout)) {
        pt_member_mark_error(m, pt_member_retry_ms(b), pt_now_ms());
        pt_log_rmerror("proxy", PT_LOG_ERR, k->r,
                       "AH00940: %s: member %s in error state for %lld s: %s", k->bal->name,
                       m->name, (long long)pt_member_retry_ms(b) / 1000, cls->log);
    } else {
        atomic_fetch_add(&m->failures, 1);
    }
    pt_request_t *r = k->r;
    bool body_safe = !r->has_body || !r->body_started;
    return !last && !a->started && cls->retry_idempotent && (idempotent(r) || !a->sent) &&
           body_safe && !k->bal->nofailover;
}

/* ---- The handler ---------------------------------------------------------------------- */

static int all_down(pick_t *k)
{
    pt_log_rmerror("proxy_balancer", PT_LOG_ERR, k->r,
                   "AH01167: %s: All workers are in error state (no "
                   "usable member): 503",
                   k->bal->name);
    return 503;
}

/* Attempts for one request: the first, then maxattempts= failovers (Apache's default: one
 * less than the members, so each member at most once). */
static int attempts_max(const pt_balancer_t *bal, size_t nslots)
{
    if (bal->maxattempts > 0)
        return bal->maxattempts + 1;
    return nslots > 1 ? (int)nslots : 1;
}

/* What the attempt in flight came to (rc, as forward returned it): true with *res when the
 * request is answered (or given up), false when another member is to be tried. */
static bool attempt_ended(balance_t *bl, int rc, int *res)
{
    pick_t *k = &bl->k;
    const pt_balancer_t *bal = k->bal;
    const pt_backend_t *b = bl->b;
    if (!bl->a.failed) {
        note_answer(k, bl->slot, b, &bl->a);
        return *res = rc, true;
    }
    bool again = failed_attempt(k, bl->slot, b, &bl->a,
                                bl->n + 1 >= bl->max || (bl->a.sent && bl->resent));
    bl->resent |= bl->a.sent;
    const char *url = strncmp(b->url, "proxy:", 6) == 0 ? b->url + 6 : b->url;
    /* The scheme logged the failure itself (scheme.h); its status stands. */
    if (!again)
        return *res = rc > 0 ? rc : pt_upstream_class(bl->a.fail)->status, true;
    pt_log_rmerror("proxy_balancer", PT_LOG_WARN, k->r,
                   "%s: member %s failed before the request was "
                   "sent (%s): trying another member",
                   bal->name, url, pt_upstream_class(bl->a.fail)->log);
    return false;
}

/* The next member to try, in bl->slot and bl->b; false when none is usable. A slot that
 * resolve= filled may be emptied by the parent at any moment, between the pick (which saw
 * its member) and the look here, which then finds none: that slot is passed over, and it
 * is no attempt. */
static bool next_member(balance_t *bl)
{
    pick_t *k = &bl->k;
    for (;;) {
        k->now_ms = pt_now_ms();
        int slot = pick_member(k, bl->route, bl->n == 0);
        if (slot < 0 && bl->n == 0 && k->bal->timeout_ms > 0)
            slot = wait_member(k, bl->route);
        if (slot < 0)
            return false;
        bl->slot = slot;
        bl->b = pt_balancer_member(k->bal, (size_t)slot);
        if (bl->b)
            return true;
        k->tried[slot] = true;
    }
}

/* Attempts from bl->n on, until one answers or none may follow. */
static int balance(balance_t *bl)
{
    pick_t *k = &bl->k;
    for (;; bl->n++) {
        if (!next_member(bl))
            return all_down(k);
        int rc = forward_to(bl), res;
        if (rc == PT_SUSPENDED)
            return rc;
        if (attempt_ended(bl, rc, &res))
            return res;
    }
}

/* The parked attempt ended on the worker that resumed it: the loop goes on from there. */
static int attempt_then(pt_request_t *r, void *ctx, int rc)
{
    (void)r;
    balance_t *bl = ctx;
    attempt_counted(bl);
    int res;
    if (attempt_ended(bl, rc, &res))
        return res;
    bl->n++;
    return balance(bl);
}

static int balancer_handler(pt_request_t *r)
{
    const pt_balancer_t *bal = r->backend ? r->backend->balancer : NULL;
    if (!bal) {
        pt_log_rmerror("proxy_balancer", PT_LOG_ERR, r, "no balancer for handler %s", r->handler);
        return 500;
    }
    /* A ProxyPass'd request was checked with the other access rules; SetHandler's is here. */
    const pt_require_t *rq = r->backend->proxy_require;
    if (rq && pt_require_eval(rq, pt_request_client_addr(r), r->method, &r->env) !=
                  PT_AUTHZ_GRANTED) {
        pt_log_rmerror("authz_core", PT_LOG_ERR, r,
                       "AH01630: client denied by server configuration: "
                       "proxy:%s",
                       bal->name);
        return 403;
    }
    balance_t *bl = pt_arena_calloc(r->arena, sizeof(*bl));
    pick_t *k = &bl->k;
    *k = (pick_t){.r = r, .bal = bal};
    if (!(k->slots = pt_balancer_slots(r->cfg, bal, &k->nslots)) || k->nslots == 0)
        return all_down(k);
    k->tried = pt_arena_calloc(r->arena, k->nslots * sizeof(*k->tried));
    k->candidate = pt_arena_calloc(r->arena, k->nslots * sizeof(*k->candidate));
    bl->rest = r->backend_path ? r->backend_path : r->uri;
    /* The target as sent: a session in the path (";jsessionid=") or the query. */
    bl->route = pt_balancer_sticky_route(r->arena, bal, pt_table_get(&r->headers_in, "Cookie"),
                                         r->unparsed_uri);
    bl->max = attempts_max(bal, k->nslots);
    return balance(bl);
}

const pt_proxy_scheme_t pt_balancer_scheme = {
    .name = "balancer",
    .default_port = 0,
    .handler = {"proxy:balancer", balancer_handler, true},
    .forward = NULL, /* a balancer is not a member of another */
};
