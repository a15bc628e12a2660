/* The health-check probes (hcheck.h): one state machine per checked member, connect, send,
 * read the status line, on a non-blocking socket that pt_hcheck_run drives for a bounded
 * time; a verdict moves the member's streak and, past hcfails or hcpasses, sets or clears
 * PT_MEMBER_HC_FAILED in the shared state. Only the parent's thread runs this. */
#include "hcheck.h"

#include "log.h"
#include "upstream_tls.h"

#include <openssl/err.h>
#include <strings.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The head of an answer read at most: the status line is all a check needs. */
#define HC_HEAD_MAX 256
#define HC_REQ_MAX 1024

typedef enum { HC_IDLE, HC_CONNECTING, HC_HANDSHAKE, HC_SENDING, HC_READING } hc_phase_t;

typedef struct {
    pt_hc_target_spec_t spec;
    struct sockaddr_storage addr;  /* spec.sa copied */
    char label[300];
    int64_t next_ms;               /* when the next probe starts */
    hc_phase_t phase;
    int fd;
    short want;                    /* the poll events the phase waits for */
    const pt_utls_server_t *tls;   /* https://: the SSLProxy* side it is checked with */
    bool https;
    SSL *ssl;                      /* HC_HANDSHAKE and after, for https:// */
    int64_t deadline_ms;
    char req[HC_REQ_MAX];
    size_t reqlen, reqoff;
    char head[HC_HEAD_MAX];
    size_t headlen;
} target_t;

struct pt_hcheck {
    target_t **targets;
    size_t ntargets, cap;
    uint64_t probes;
    const pt_config_t *cfg;        /* for the https:// members' server (pt_hcheck_set_tls) */
    pt_utls_t *utls;               /* owned */
};

/* ---- Expressions ------------------------------------------------------------------------ */

static bool cmp(const pt_hc_expr_t *e, long v)
{
    switch (e->op) {
    case PT_HCX_EQ: return v == e->num;
    case PT_HCX_NE: return v != e->num;
    case PT_HCX_LT: return v < e->num;
    case PT_HCX_LE: return v <= e->num;
    case PT_HCX_GT: return v > e->num;
    case PT_HCX_GE: return v >= e->num;
    }
    return false;
}

bool pt_hc_expr_eval(const pt_hc_expr_t *e, int status)
{
    if (!e)
        return status >= 200 && status < 400;
    char s[16];
    snprintf(s, sizeof(s), "%d", status);
    switch (e->kind) {
    case PT_HCX_OR: return pt_hc_expr_eval(e->l, status) || pt_hc_expr_eval(e->r, status);
    case PT_HCX_AND: return pt_hc_expr_eval(e->l, status) && pt_hc_expr_eval(e->r, status);
    case PT_HCX_NOT: return !pt_hc_expr_eval(e->l, status);
    case PT_HCX_MATCH: return pt_regex_exec(e->re, s, 0, NULL, 0) == 0;
    case PT_HCX_IN:
        for (size_t i = 0; i < e->nlist; i++)
            if (strcmp(e->list[i], s) == 0)
                return true;
        return false;
    case PT_HCX_CMP: return cmp(e, status);
    }
    return false;
}

const pt_hc_expr_t *pt_hcheck_expr_of(const pt_config_t *cfg, const pt_backend_t *b)
{
    const pt_hcheck_conf_t *hc = cfg->hcheck;
    return hc && hc->backend_expr && b->index < cfg->nbackends ? hc->backend_expr[b->index]
                                                               : NULL;
}

/* ---- Targets ---------------------------------------------------------------------------- */

pt_hcheck_t *pt_hcheck_create(void)
{
    return calloc(1, sizeof(pt_hcheck_t));
}

/* No close_notify: the probe asked for Connection: close, and in a new child (forget) the
 * socket is the parent's. */
static void close_probe(target_t *t)
{
    SSL_free(t->ssl);
    t->ssl = NULL;
    ERR_clear_error();
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    t->phase = HC_IDLE;
}

void pt_hcheck_destroy(pt_hcheck_t *hc)
{
    if (!hc)
        return;
    for (size_t i = 0; i < hc->ntargets; i++) {
        close_probe(hc->targets[i]);
        free(hc->targets[i]);
    }
    free(hc->targets);
    pt_utls_destroy(hc->utls);
    free(hc);
}

void pt_hcheck_set_tls(pt_hcheck_t *hc, const pt_config_t *cfg, pt_utls_t *utls)
{
    pt_utls_destroy(hc->utls);
    hc->cfg = cfg;
    hc->utls = utls;
}

/* The server whose SSLProxy* settings a member's requests use: the one whose ProxyPass
 * names its balancer (the main server when none does). */
static const pt_vhost_t *member_server(const pt_config_t *cfg, const pt_backend_t *b)
{
    const pt_backend_t *front = b->balancer ? b->balancer->backend : b;
    for (size_t i = 0; front && i <= cfg->nvhosts; i++) {
        const pt_vhost_t *vh = i == 0 ? cfg->main_server : cfg->vhosts[i - 1];
        for (size_t j = 0; j < vh->nproxy_passes; j++)
            if (vh->proxy_passes[j].backend == front)
                return vh;
    }
    return cfg->main_server;
}

static int64_t interval_ms(const pt_backend_t *b)
{
    return b->hcinterval_ms > 0 ? b->hcinterval_ms : PT_HC_INTERVAL_MS;
}

/* The request line's target: the member's path, then hcuri (mod_proxy_hcheck appends it
 * to the worker's URL), "/" when both are empty. */
static void build_request(target_t *t)
{
    const pt_backend_t *b = t->spec.b;
    const char *m = b->hcmethod;
    size_t mlen = strlen(m);
    bool v11 = mlen > 2 && strcmp(m + mlen - 2, "11") == 0;
    const char *path = b->path ? b->path : "", *uri = b->hcuri ? b->hcuri : "";
    size_t plen = strlen(path);
    if (plen && path[plen - 1] == '/' && uri[0] == '/')
        plen--;
    char host[300];
    bool v6 = strchr(b->host ? b->host : "", ':') != NULL;
    snprintf(host, sizeof(host), "%s%s%s:%d", v6 ? "[" : "", b->host ? b->host : "localhost",
             v6 ? "]" : "", b->port);
    int n = snprintf(t->req, sizeof(t->req),
                     "%.*s %.*s%s%s HTTP/1.%d\r\nHost: %s\r\nUser-Agent: portico-hcheck\r\n"
                     "Connection: close\r\n\r\n",
                     (int)(v11 ? mlen - 2 : mlen), m, (int)plen, path, uri,
                     plen == 0 && uri[0] != '/' ? "/" : "", v11 ? 1 : 0, host);
    t->reqlen = n > 0 && (size_t)n < sizeof(t->req) ? (size_t)n : 0;
    t->reqoff = 0;
}

int pt_hcheck_add(pt_hcheck_t *hc, const pt_hc_target_spec_t *spec, int64_t now_ms)
{
    if (spec->salen > sizeof(struct sockaddr_storage))
        return -EINVAL;
    if (hc->ntargets == hc->cap) {
        size_t ncap = hc->cap ? hc->cap * 2 : 8;
        target_t **nt = realloc(hc->targets, ncap * sizeof(*nt));
        if (!nt)
            return -ENOMEM;
        hc->targets = nt;
        hc->cap = ncap;
    }
    target_t *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->spec = *spec;
    memcpy(&t->addr, spec->sa, spec->salen);
    t->spec.sa = (struct sockaddr *)&t->addr;
    snprintf(t->label, sizeof(t->label), "%s", spec->label ? spec->label : spec->b->url);
    t->spec.label = t->label;
    t->fd = -1;
    t->next_ms = now_ms;
    t->https = spec->b->scheme && strcasecmp(spec->b->scheme, "https") == 0;
    if (t->https && hc->cfg)
        t->tls = pt_utls_for(hc->utls, member_server(hc->cfg, spec->b));
    hc->targets[hc->ntargets++] = t;
    return 0;
}

void pt_hcheck_remove(pt_hcheck_t *hc, const pt_member_shared_t *sh)
{
    for (size_t i = 0; i < hc->ntargets; i++)
        if (hc->targets[i]->spec.sh == sh) {
            close_probe(hc->targets[i]);
            free(hc->targets[i]);
            hc->targets[i--] = hc->targets[--hc->ntargets];
        }
}

uint64_t pt_hcheck_probes(const pt_hcheck_t *hc)
{
    return hc->probes;
}

void pt_hcheck_each(const pt_hcheck_t *hc, void (*fn)(const pt_member_shared_t *sh, void *arg),
                    void *arg)
{
    for (size_t i = 0; i < hc->ntargets; i++)
        fn(hc->targets[i]->spec.sh, arg);
}

/* ---- Verdicts --------------------------------------------------------------------------- */

/* One probe's result: the streak moves (only the parent writes it), and the member is
 * ejected after hcfails failures in a row or re-admitted after hcpasses passes in a row.
 * The flag is set and cleared with atomic or/and: the children change other bits. */
static void verdict(target_t *t, bool pass, const char *why)
{
    pt_member_shared_t *sh = t->spec.sh;
    const pt_backend_t *b = t->spec.b;
    int s = atomic_load(&sh->hc_streak);
    s = pass ? (s > 0 ? s + 1 : 1) : (s < 0 ? s - 1 : -1);
    atomic_store(&sh->hc_streak, s);
    bool failed = atomic_load(&sh->status) & PT_MEMBER_HC_FAILED;
    int need_fails = b->hcfails > 0 ? b->hcfails : 1, need_passes = b->hcpasses > 0 ? b->hcpasses
                                                                                   : 1;
    if (!pass && !failed && -s >= need_fails) {
        atomic_fetch_or(&sh->status, PT_MEMBER_HC_FAILED);
        pt_log_merror("proxy_hcheck", PT_LOG_NOTICE, NULL,
                      "health check: member %s ejected after %d failed "
                      "check%s (%s)",
                      t->label, -s, s == -1 ? "" : "s", why);
    } else if (pass && failed && s >= need_passes) {
        atomic_fetch_and(&sh->status, ~(unsigned)PT_MEMBER_HC_FAILED);
        pt_log_merror("proxy_hcheck", PT_LOG_NOTICE, NULL,
                      "health check: member %s re-admitted after %d "
                      "passed check%s",
                      t->label, s, s == 1 ? "" : "s");
    } else if (!pass) {
        pt_log_merror("proxy_hcheck", PT_LOG_DEBUG, NULL, "health check: member %s failed (%s)",
                      t->label, why);
    }
}

static void end_probe(target_t *t, bool pass, const char *why)
{
    close_probe(t);
    verdict(t, pass, why);
}

/* The status line read so far: 1 when it decided the probe, 0 when more must come. */
static int judge_head(target_t *t, bool eof)
{
    const char *nl = memchr(t->head, '\n', t->headlen);
    if (!nl && !eof && t->headlen < sizeof(t->head) - 1)
        return 0;
    t->head[t->headlen] = '\0';
    int status = 0;
    char why[64];
    if (sscanf(t->head, "HTTP/1.%*1[01] %3d", &status) != 1 || status < 100 || status > 999) {
        end_probe(t, false, "no HTTP status line");
        return 1;
    }
    bool pass = pt_hc_expr_eval(t->spec.expr, status);
    snprintf(why, sizeof(why), "status %d", status);
    end_probe(t, pass, why);
    return 1;
}

/* ---- Probes ----------------------------------------------------------------------------- */

/* A probe's deadline: timeout= (mod_proxy_hcheck uses the worker's timeout), else ours. A
 * probe still running when the interval comes round delays the next one; none overlap. */
static int64_t probe_timeout_ms(const pt_backend_t *b)
{
    return b->timeout_ms > 0 ? b->timeout_ms : PT_HC_TIMEOUT_MS;
}

static void start_sending(target_t *t)
{
    build_request(t);
    t->headlen = 0;
    t->phase = HC_SENDING;
    t->want = POLLOUT;
}

/* The TLS handshake of an https:// member, one step (mod_ssl's peer checks at its end). */
static void step_handshake(target_t *t)
{
    char why[300];
    int rc = pt_utls_connect_step(t->tls, t->ssl, t->spec.b->host, &t->want, why, sizeof(why));
    if (rc < 0)
        end_probe(t, false, why);
    else if (rc > 0)
        start_sending(t);
}

/* Connected: a TCP check has passed; the others send their request, over TLS to an
 * https:// member, as its requests go. */
static void connected(target_t *t)
{
    if (strcmp(t->spec.b->hcmethod, "TCP") == 0) {
        end_probe(t, true, "connected");
        return;
    }
    if (!t->https) {
        start_sending(t);
        return;
    }
    char why[300] = "no SSLProxyEngine On for this member";
    if (!t->tls || !(t->ssl = pt_utls_start(t->tls, t->fd, t->spec.b->host, why, sizeof(why)))) {
        end_probe(t, false, why);
        return;
    }
    t->phase = HC_HANDSHAKE;
    step_handshake(t);
}

static void start_probe(pt_hcheck_t *hc, target_t *t, int64_t now_ms)
{
    t->next_ms = now_ms + interval_ms(t->spec.b);
    t->deadline_ms = now_ms + probe_timeout_ms(t->spec.b);
    hc->probes++;
    t->fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (t->fd < 0) {
        end_probe(t, false, strerror(errno));
        return;
    }
    if (connect(t->fd, t->spec.sa, t->spec.salen) == 0) {
        connected(t);
    } else if (errno == EINPROGRESS || errno == EAGAIN) {
        t->phase = HC_CONNECTING;
        t->want = POLLOUT;
    } else {
        char why[128];
        snprintf(why, sizeof(why), "connect: %s", strerror(errno));
        end_probe(t, false, why);
    }
}

/* One send or receive, plain or TLS: bytes moved, 0 at the end of the stream, -1 for "try
 * again" (t->want set), -2 for a failure (why set). */
static ssize_t probe_io(target_t *t, bool out, void *buf, size_t len, char *why, size_t wl)
{
    if (!t->ssl) {
        ssize_t n = out ? send(t->fd, buf, len, MSG_NOSIGNAL) : recv(t->fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno == EAGAIN || errno == EINTR)
            return t->want = out ? POLLOUT : POLLIN, -1;
        snprintf(why, wl, "%s", strerror(errno));
        return -2;
    }
    ERR_clear_error();
    int n = out ? SSL_write(t->ssl, buf, (int)len) : SSL_read(t->ssl, buf, (int)len);
    if (n > 0)
        return n;
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return t->want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, -1;
    ERR_clear_error();
    if (e == SSL_ERROR_ZERO_RETURN || (!out && e == SSL_ERROR_SYSCALL && errno == 0))
        return 0;
    snprintf(why, wl, "TLS %s failed", out ? "write" : "read");
    return -2;
}

static void step_send(target_t *t)
{
    char why[128];
    while (t->reqoff < t->reqlen) {
        ssize_t n = probe_io(t, true, t->req + t->reqoff, t->reqlen - t->reqoff, why,
                             sizeof(why));
        if (n < 0) {
            if (n == -2)
                end_probe(t, false, why);
            return;
        }
        t->reqoff += (size_t)n;
    }
    t->phase = HC_READING;
    t->want = POLLIN;
}

static void step_read(target_t *t)
{
    char why[128];
    for (;;) {
        ssize_t n = probe_io(t, false, t->head + t->headlen, sizeof(t->head) - 1 - t->headlen,
                             why, sizeof(why));
        if (n < 0) {
            if (n == -2)
                end_probe(t, false, why);
            return;
        }
        t->headlen += (size_t)n;
        if (judge_head(t, n == 0))
            return;
    }
}

/* Moves a probe on after poll said revents (0: its deadline may have passed). */
static void step(target_t *t, short revents, int64_t now_ms)
{
    if (t->phase == HC_CONNECTING) {
        if (!revents)
            goto deadline;
        int err = 0;
        socklen_t el = sizeof(err);
        getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            char why[128];
            snprintf(why, sizeof(why), "connect: %s", strerror(err));
            end_probe(t, false, why);
            return;
        }
        connected(t);
    } else if (t->phase == HC_HANDSHAKE && revents) {
        step_handshake(t);
    }
    if (t->phase == HC_SENDING)
        step_send(t);
    if (t->phase == HC_READING && revents)
        step_read(t);
deadline:
    if (t->phase != HC_IDLE && now_ms >= t->deadline_ms)
        end_probe(t, false, "timed out");
}

void pt_hcheck_run(pt_hcheck_t *hc, int64_t budget_ms)
{
    int64_t now = pt_now_ms(), end = now + budget_ms;
    for (size_t i = 0; i < hc->ntargets; i++)
        if (hc->targets[i]->phase == HC_IDLE && now >= hc->targets[i]->next_ms)
            start_probe(hc, hc->targets[i], now);
    struct pollfd *pf = calloc(hc->ntargets ? hc->ntargets : 1, sizeof(*pf));
    if (!pf)
        return;
    for (;;) {
        size_t n = 0;
        int64_t first = end;
        for (size_t i = 0; i < hc->ntargets; i++) {
            target_t *t = hc->targets[i];
            pf[i] = (struct pollfd){.fd = t->phase == HC_IDLE ? -1 : t->fd, .events = t->want};
            if (t->phase != HC_IDLE) {
                n++;
                first = PT_MIN(first, t->deadline_ms);
            }
        }
        if (n == 0)
            break;
        poll(pf, hc->ntargets, (int)PT_MAX(first - now, 0));
        now = pt_now_ms();
        for (size_t i = 0; i < hc->ntargets; i++)
            if (pf[i].fd >= 0 && (pf[i].revents || now >= hc->targets[i]->deadline_ms))
                step(hc->targets[i], pf[i].revents, now);
        if (now >= end)
            break;
    }
    free(pf);
}
