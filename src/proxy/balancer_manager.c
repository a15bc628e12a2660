/* What the balancers show and let an operator change: their sections in server-status (HTML
 * and ?auto) and in the metrics, and SetHandler balancer-manager (mod_proxy_balancer's): a
 * page listing each balancer and member, and the form/query API that sets a member's status
 * flags and loadfactor in the generation's shared memory, so that every child sees the
 * change with its next request. A change must carry the balancer's nonce (shown in the
 * page) as Apache requires, so that another site cannot make a browser change it. */
#include "balancer_manager.h"

#include "balancer.h"
#include "clock.h"
#include "lbmethods.h"
#include "request.h"
#include "uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define MANAGER_BODY_MAX 8192  /* a form post: a few fields, far below this */

/* The flags the manager and the status pages show and set, with Apache's names. */
static const struct {
    unsigned flag;
    char letter;               /* w_status_X */
    const char *name;          /* in "Init Ok" style status text */
} flags[] = {
    {PT_MEMBER_IGNORE_ERRORS, 'I', "Ign"}, {PT_MEMBER_DRAIN, 'N', "Drn"},
    {PT_MEMBER_DISABLED, 'D', "Dis"},      {PT_MEMBER_HOT_STANDBY, 'H', "Stby"},
    {PT_MEMBER_STOPPED, 'S', "Stop"},      {PT_MEMBER_IN_ERROR, 'E', "Err"},
    {PT_MEMBER_HC_FAILED, 'C', "HcFl"},
};

/* "Init Ok", "Init Dis Err": Apache's status text of a worker. */
static const char *status_text(pt_arena_t *a, unsigned st)
{
    const char *s = "Init";
    bool any = false;
    for (size_t i = 0; i < PT_ARRAY_LEN(flags); i++) {
        if (st & flags[i].flag) {
            s = pt_arena_printf(a, "%s %s", s, flags[i].name);
            any = true;
        }
    }
    return any ? s : "Init Ok";
}

static const char *esc(pt_request_t *r, const char *s)
{
    return pt_html_escape(r->arena, s ? s : "");
}

/* ---- server-status and metrics ---------------------------------------------------------- */

/* ProxyStatus On or Full for the request's server (mod_proxy's status hook returns at once
 * with Off, the default, in HTML and ?auto alike). */
static bool proxy_status_on(const pt_request_t *r)
{
    return r->vhost && r->vhost->proxy_status == 2;
}

static void status_html(pt_request_t *r, pt_strbuf_t *b)
{
    const pt_config_t *cfg = r->cfg;
    if (!proxy_status_on(r))
        return;
    for (size_t i = 0; cfg && i < cfg->nbalancers; i++) {
        const pt_balancer_t *bal = cfg->balancers[i];
        size_t n;
        pt_member_shared_t *m = pt_balancer_slots(cfg, bal, &n);
        pt_strbuf_printf(b, "<hr />\n<h1>Proxy LoadBalancer Status for %s</h1>\n"
                         "<table border=\"0\"><tr><th>SSes</th><th>Method</th></tr>\n"
                         "<tr><td>%s</td><td>%s</td></tr></table>\n",
                         esc(r, bal->name), esc(r, bal->sticky[0] ? bal->sticky[0] : "-"),
                         esc(r, bal->lbmethod->name));
        pt_strbuf_printf(b, "<table border=\"0\"><tr><th>Member</th><th>Route</th>"
                         "<th>F</th><th>Set</th><th>Stat</th><th>Acc</th><th>Fail</th>"
                         "<th>Busy</th><th>Latency</th><th>Wr</th><th>Rd</th></tr>\n");
        for (size_t j = 0; m && j < n; j++) {
            const pt_backend_t *mb = pt_balancer_member(bal, j);
            if (!atomic_load(&m[j].in_use) || !mb)
                continue;
            pt_strbuf_printf(
                b, "<tr><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%llu</td>"
                   "<td>%llu</td><td>%d</td><td>%.3f ms</td><td>%llu</td><td>%llu</td></tr>\n",
                esc(r, m[j].name), esc(r, mb->route), atomic_load(&m[j].loadfactor), mb->lbset,
                status_text(r->arena, atomic_load(&m[j].status)),
                (unsigned long long)atomic_load(&m[j].requests),
                (unsigned long long)atomic_load(&m[j].failures), atomic_load(&m[j].busy),
                (double)atomic_load(&m[j].last_latency_us) / 1000.0,
                (unsigned long long)atomic_load(&m[j].bytes_out),
                (unsigned long long)atomic_load(&m[j].bytes_in));
        }
        pt_strbuf_printf(b, "</table>\n");
    }
}

/* ?auto: Apache's ProxyBalancer[i]Worker[j]... keys, and portico's Failures/Latency. */
static void status_text_auto(pt_request_t *r, pt_strbuf_t *b)
{
    const pt_config_t *cfg = r->cfg;
    if (!proxy_status_on(r))
        return;
    for (size_t i = 0; cfg && i < cfg->nbalancers; i++) {
        const pt_balancer_t *bal = cfg->balancers[i];
        size_t n, w = 0;
        pt_member_shared_t *m = pt_balancer_slots(cfg, bal, &n);
        pt_strbuf_printf(b, "ProxyBalancer[%zu]Name: %s\n", i, bal->name);
        for (size_t j = 0; m && j < n; j++, w++) {
            if (!atomic_load(&m[j].in_use))
                continue;
            const char *p = pt_arena_printf(r->arena, "ProxyBalancer[%zu]Worker[%zu]", i, w);
            pt_strbuf_printf(b, "%sName: %s\n%sStatus: %s\n%sElected: %llu\n%sFailures: %llu\n"
                             "%sBusy: %d\n%sLatency: %lld\n%sSent: %lluK\n%sRcvd: %lluK\n",
                             p, m[j].name, p, status_text(r->arena, atomic_load(&m[j].status)),
                             p, (unsigned long long)atomic_load(&m[j].requests), p,
                             (unsigned long long)atomic_load(&m[j].failures), p,
                             atomic_load(&m[j].busy), p,
                             (long long)atomic_load(&m[j].last_latency_us), p,
                             (unsigned long long)atomic_load(&m[j].bytes_out) / 1024, p,
                             (unsigned long long)atomic_load(&m[j].bytes_in) / 1024);
        }
    }
}

/* A label value: backslash, double quote and newline escaped (exposition format 0.0.4). */
static const char *label(pt_arena_t *a, const char *s)
{
    char *o = pt_arena_alloc(a, 2 * strlen(s) + 1), *q = o;
    for (; *s; s++) {
        if (*s == '\\' || *s == '"' || *s == '\n')
            *q++ = '\\';
        *q++ = *s == '\n' ? 'n' : *s;
    }
    *q = '\0';
    return o;
}

/* One metric family, a sample per member. */
static void metric(pt_request_t *r, pt_strbuf_t *b, const char *name, const char *type,
                   const char *help, double (*value)(const pt_member_shared_t *m))
{
    const pt_config_t *cfg = r->cfg;
    pt_strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (size_t i = 0; i < cfg->nbalancers; i++) {
        size_t n;
        pt_member_shared_t *m = pt_balancer_slots(cfg, cfg->balancers[i], &n);
        for (size_t j = 0; m && j < n; j++)
            if (atomic_load(&m[j].in_use))
                pt_strbuf_printf(b, "%s{balancer=\"%s\",member=\"%s\"} %.17g\n", name,
                                 label(r->arena, cfg->balancers[i]->name),
                                 label(r->arena, m[j].name), value(&m[j]));
    }
}

static double v_requests(const pt_member_shared_t *m)
{
    return (double)atomic_load(&m->requests);
}

static double v_failures(const pt_member_shared_t *m)
{
    return (double)atomic_load(&m->failures);
}

static double v_busy(const pt_member_shared_t *m)
{
    return atomic_load(&m->busy);
}

static double v_latency(const pt_member_shared_t *m)
{
    return (double)atomic_load(&m->last_latency_us) / 1e6;
}

static double v_up(const pt_member_shared_t *m)
{
    return pt_member_usable(m, false, pt_now_ms());
}

static double v_bytes(const pt_member_shared_t *m)
{
    return (double)(atomic_load(&m->bytes_in) + atomic_load(&m->bytes_out));
}

static double v_status(const pt_member_shared_t *m)
{
    return atomic_load(&m->status);
}

static void status_metrics(pt_request_t *r, pt_strbuf_t *b)
{
    if (!r->cfg || r->cfg->nbalancers == 0)
        return;
    metric(r, b, "portico_balancer_member_requests_total", "counter",
           "Requests sent to the balancer member.", v_requests);
    metric(r, b, "portico_balancer_member_failures_total", "counter",
           "Failed attempts on the balancer member.", v_failures);
    metric(r, b, "portico_balancer_member_busy", "gauge",
           "Requests in flight on the balancer member.", v_busy);
    metric(r, b, "portico_balancer_member_last_latency_seconds", "gauge",
           "Time to the head of the member's last answer.", v_latency);
    metric(r, b, "portico_balancer_member_bytes_total", "counter",
           "Body bytes to and from the balancer member.", v_bytes);
    metric(r, b, "portico_balancer_member_up", "gauge",
           "1 when the member takes new requests.", v_up);
    metric(r, b, "portico_balancer_member_status_flags", "gauge",
           "The member's state flags (1 D, 2 S, 4 H, 8 I, 16 N, 32 E, 64 C).", v_status);
}

const pt_status_ext_t pt_balancer_status_ext = {
    .html = status_html,
    .text = status_text_auto,
    .metrics = status_metrics,
};

/* ---- SetHandler balancer-manager -------------------------------------------------------- */

/* The request's parameters: the query's, then a form post's. */
typedef struct {
    const char **names, **values;
    size_t n;
} params_t;

/* application/x-www-form-urlencoded: '+' is a space, %XX a byte. */
static char *form_decode(pt_arena_t *a, const char *s, size_t len)
{
    char *o = pt_arena_alloc(a, len + 1), *q = o;
    for (size_t i = 0; i < len; i++) {
        int h, l;
        if (s[i] == '+')
            *q++ = ' ';
        else if (s[i] == '%' && i + 2 < len && (h = pt_hexval(s[i + 1])) >= 0 &&
                 (l = pt_hexval(s[i + 2])) >= 0) {
            *q++ = (char)(h * 16 + l);
            i += 2;
        } else
            *q++ = s[i];
    }
    *q = '\0';
    return o;
}

/* Adds the k=v&k=v pairs of s after those p has (the arrays grow by the pairs of s). */
static void params_parse(pt_arena_t *a, params_t *p, const char *s)
{
    if (!s || !*s)
        return;
    size_t max = p->n + 1;
    for (const char *c = s; *c; c++)
        max += *c == '&';
    const char **nm = pt_arena_alloc(a, max * sizeof(*nm));
    const char **vl = pt_arena_alloc(a, max * sizeof(*vl));
    for (size_t i = 0; i < p->n; i++) {
        nm[i] = p->names[i];
        vl[i] = p->values[i];
    }
    p->names = nm;
    p->values = vl;
    while (*s) {
        size_t len = strcspn(s, "&");
        const char *eq = memchr(s, '=', len);
        size_t kl = eq ? (size_t)(eq - s) : len;
        nm[p->n] = form_decode(a, s, kl);
        vl[p->n] = eq ? form_decode(a, eq + 1, len - kl - 1) : "";
        p->n++;
        s += len + (s[len] == '&');
    }
}

static const char *param(const params_t *p, const char *name)
{
    for (size_t i = p->n; i-- > 0;)
        if (strcmp(p->names[i], name) == 0)
            return p->values[i];
    return NULL;
}

/* A form post's body, bounded: 0, or the status to answer. */
static int read_form(pt_request_t *r, params_t *p)
{
    if (!r->has_body)
        return 0;
    char *buf = pt_arena_alloc(r->arena, MANAGER_BODY_MAX + 1);
    size_t len = 0;
    for (;;) {
        int st = 400;
        long n = pt_req_read_body(r, buf + len, MANAGER_BODY_MAX - len, &st);
        if (n < 0)
            return st;
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == MANAGER_BODY_MAX)
            return 413;
    }
    buf[len] = '\0';
    params_parse(r->arena, p, buf);
    return 0;
}

/* The slot of bal named w (its URL), or -1. */
static int member_slot(pt_member_shared_t *m, size_t n, const char *w)
{
    for (size_t i = 0; i < n; i++)
        if (atomic_load(&m[i].in_use) && strcmp(m[i].name, w) == 0)
            return (int)i;
    return -1;
}

/* w_lf=N and w_status_X=0|1 applied to the member; 0 or the status to answer. */
static int apply_change(pt_request_t *r, const pt_balancer_t *bal, pt_member_shared_t *m,
                        const params_t *p)
{
    const char *lf = param(p, "w_lf");
    long v = 0;
    if (lf) {
        char *end;
        v = strtol(lf, &end, 10);
        if (!*lf || *end || v < 1 || v > 100) {
            pt_log_rmerror("proxy_balancer", PT_LOG_ERR, r, "balancer-manager: w_lf=%s: 1..100",
                           lf);
            return 400;
        }
    }
    for (size_t i = 0; i < PT_ARRAY_LEN(flags); i++) {
        char name[16];
        snprintf(name, sizeof(name), "w_status_%c", flags[i].letter);
        const char *on = param(p, name);
        if (!on)
            continue;
        if (strcmp(on, "1") == 0)
            atomic_fetch_or(&m->status, flags[i].flag);
        else if (strcmp(on, "0") == 0)
            atomic_fetch_and(&m->status, ~flags[i].flag);
        else
            return 400;
    }
    if (lf)
        atomic_store(&m->loadfactor, (int)v);
    atomic_fetch_add(&pt_balancer_shared(r->cfg, bal)->changes, 1);
    pt_log_rmerror("proxy_balancer", PT_LOG_NOTICE, r,
                   "balancer-manager: %s member %s: status %s, loadfactor %d", bal->name, m->name,
                   status_text(r->arena, atomic_load(&m->status)), atomic_load(&m->loadfactor));
    return 0;
}

static bool wants_change(const params_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (strncmp(p->names[i], "w_", 2) == 0)
            return true;
    return false;
}

/* b=NAME&w=URL&nonce=N&w_...: a change, refused without the balancer's nonce. 0 when done
 * or when nothing was asked, else the status to answer. */
static int handle_change(pt_request_t *r, const params_t *p)
{
    const char *bn = param(p, "b");
    if (!bn || !wants_change(p))
        return 0;
    const pt_balancer_t *bal = pt_balancer_find(r->cfg, bn);
    pt_balancer_shared_t *h = bal ? pt_balancer_shared(r->cfg, bal) : NULL;
    if (!h) {
        pt_log_rmerror("proxy_balancer", PT_LOG_ERR, r, "balancer-manager: no balancer '%s'", bn);
        return 404;
    }
    const char *nonce = param(p, "nonce");
    if (!nonce || strcmp(nonce, h->nonce) != 0) {
        pt_log_rmerror("proxy_balancer", PT_LOG_ERR, r,
                       "AH01193: balancer-manager: refusing a change to %s: "
                       "%s nonce",
                       bal->name, nonce ? "wrong" : "no");
        return 403;
    }
    size_t n;
    pt_member_shared_t *m = pt_balancer_slots(r->cfg, bal, &n);
    const char *w = param(p, "w");
    int slot = w ? member_slot(m, n, w) : -1;
    if (slot < 0) {
        pt_log_rmerror("proxy_balancer", PT_LOG_ERR, r, "balancer-manager: %s has no member '%s'",
                       bal->name, w ? w : "");
        return 400;
    }
    return apply_change(r, bal, &m[slot], p);
}

/* One member's row and its form (the form posts back here with the nonce). */
static void manager_member(pt_request_t *r, pt_strbuf_t *b, const pt_balancer_t *bal,
                           const char *nonce, const pt_member_shared_t *m,
                           const pt_backend_t *mb)
{
    unsigned st = atomic_load(&m->status);
    pt_strbuf_printf(b, "<tr><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%s</td>"
                     "<td>%llu</td><td>%d</td><td>%llu</td><td>\n",
                     esc(r, m->name), esc(r, mb ? mb->route : NULL),
                     atomic_load(&m->loadfactor), mb ? mb->lbset : 0,
                     status_text(r->arena, st), (unsigned long long)atomic_load(&m->requests),
                     atomic_load(&m->busy), (unsigned long long)atomic_load(&m->failures));
    pt_strbuf_printf(b, "<form method=\"POST\" action=\"%s\">"
                     "<input type=\"hidden\" name=\"b\" value=\"%s\">"
                     "<input type=\"hidden\" name=\"w\" value=\"%s\">"
                     "<input type=\"hidden\" name=\"nonce\" value=\"%s\">"
                     "Load factor: <input name=\"w_lf\" size=\"3\" value=\"%d\">\n",
                     esc(r, r->uri), esc(r, bal->name + 11), esc(r, m->name), nonce,
                     atomic_load(&m->loadfactor));
    static const char *const labels[] = {"Ignore Errors", "Draining Mode", "Disabled",
                                         "Hot Standby", "Stopped"};
    for (size_t i = 0; i < PT_ARRAY_LEN(labels); i++) {
        bool on = st & flags[i].flag;
        pt_strbuf_printf(b, "%s: <input type=\"radio\" name=\"w_status_%c\" value=\"1\"%s>On "
                         "<input type=\"radio\" name=\"w_status_%c\" value=\"0\"%s>Off\n",
                         labels[i], flags[i].letter, on ? " checked" : "", flags[i].letter,
                         on ? "" : " checked");
    }
    pt_strbuf_printf(b, "<input type=\"submit\" value=\"Submit\"></form></td></tr>\n");
}

static void manager_page(pt_request_t *r, pt_strbuf_t *b)
{
    pt_strbuf_printf(b, "<!DOCTYPE html>\n<html><head><title>Balancer Manager</title></head>"
                     "<body>\n<h1>Load Balancer Manager for %s</h1>\n",
                     esc(r, pt_request_server_name(r)));
    for (size_t i = 0; i < r->cfg->nbalancers; i++) {
        const pt_balancer_t *bal = r->cfg->balancers[i];
        size_t n;
        pt_member_shared_t *m = pt_balancer_slots(r->cfg, bal, &n);
        pt_balancer_shared_t *h = pt_balancer_shared(r->cfg, bal);
        if (!m || !h)
            continue;
        pt_strbuf_printf(b, "<hr />\n<h3>LoadBalancer Status for %s [nonce %s]</h3>\n"
                         "<table><tr><th>MaxMembers</th><th>StickySession</th>"
                         "<th>DisableFailover</th><th>FailoverAttempts</th><th>Method</th></tr>\n"
                         "<tr><td>%zu [%zu Used]</td><td>%s</td><td>%s</td><td>%d</td>"
                         "<td>%s</td></tr></table>\n",
                         esc(r, bal->name), h->nonce, bal->nslots, bal->nmembers,
                         esc(r, bal->sticky[0] ? bal->sticky[0] : "(None)"),
                         bal->nofailover ? "On" : "Off", bal->maxattempts,
                         esc(r, bal->lbmethod->name));
        pt_strbuf_printf(b, "<table><tr><th>Worker URL</th><th>Route</th><th>Factor</th>"
                         "<th>Set</th><th>Status</th><th>Elected</th><th>Busy</th>"
                         "<th>Failures</th><th>Edit</th></tr>\n");
        for (size_t j = 0; j < n; j++)
            if (atomic_load(&m[j].in_use))
                manager_member(r, b, bal, h->nonce, &m[j], pt_balancer_member(bal, j));
        pt_strbuf_printf(b, "</table>\n");
    }
    pt_strbuf_printf(b, "</body></html>\n");
}

static int manager_handler(pt_request_t *r)
{
    if (r->method_id != PT_METHOD_GET && r->method_id != PT_METHOD_HEAD &&
        r->method_id != PT_METHOD_POST) {
        pt_table_set(&r->err_headers_out, "Allow", "GET, HEAD, POST");
        return 405;
    }
    params_t p = {0};
    params_parse(r->arena, &p, r->args);
    int st = r->method_id == PT_METHOD_POST ? read_form(r, &p) : 0;
    if (st || (st = handle_change(r, &p)) != 0)
        return st;
    /* The page shows the nonces: no cache may keep it. */
    pt_table_set(&r->headers_out, "Cache-Control", "no-cache");
    pt_strbuf_t b = {.a = r->arena, .cap = 4096};
    b.p = pt_arena_alloc(r->arena, b.cap);
    b.p[0] = '\0';
    manager_page(r, &b);
    return pt_resp_send(r, 200, "text/html; charset=ISO-8859-1", b.p, b.len);
}

const pt_handler_t pt_balancer_manager_handler = {"balancer-manager", manager_handler, false};
