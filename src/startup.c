/* The top floor's registrations (startup.h). Like main.c, this file may include every
 * floor: it is where they are wired together, so that src/ and conf/ name none of the
 * floors above them. */
#include "startup.h"

#include "conn.h"
#include "balancer.h"
#include "balancer_manager.h"
#include "directives.h"
#include "directives_balancer.h"
#include "directives_proxy.h"
#include "directives_reverse.h"
#include "expr.h"
#include "fcgi/fcgi.h"
#include "filecache.h"
#include "hcheck.h"
#include "loader.h"
#include "log.h"
#include "module.h"
#include "remoteip.h"
#include "mpm/mpm.h"
#include "runtime.h"
#include "scheme.h"
#include "proxy_http.h"
#include "proxy_srv.h"
#include "h1_conn.h"
#include "h2.h"
#include "tls.h"
#include "tunnel.h"
#include "upstream_tls.h"
#include "tickets.h"
#include "stapling.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* HTTP/1's ways to HTTP/2 on a plain connection (h2c: prior knowledge, Upgrade). */
static const pt_h1_handoff_t h2c_handoff = {
    .preface = pt_h2_preface,
    .upgrade = pt_h2_upgrade,
};

void pt_startup_register(void)
{
    /* Proxy schemes first (each with its handler, "proxy:fcgi"), then conf's extensions:
     * the proxy's and FastCGI's directives, then the request core's (the loader's last, as
     * it resolves the names the others read). */
    pt_proxy_scheme_register(&pt_fcgi_scheme);
    pt_proxy_scheme_register(&pt_http_scheme);
    pt_proxy_scheme_register(&pt_https_scheme);
    pt_config_extend(&pt_proxy_srv_conf);
    pt_config_extend(&pt_http_conf);
    pt_proxy_scheme_register(&pt_balancer_scheme);
    pt_config_extend(&pt_proxy_conf);
    /* Before the balancers': BalancerGrowth must be applied before their slots are counted. */
    pt_config_extend(&pt_hcheck_conf_ext);
    pt_config_extend(&pt_balancer_conf);
    pt_config_extend(&pt_proxy_sock_conf);
    pt_balancer_set_dynamic(pt_resolve_member);
    pt_proxy_set_extra_key(pt_balancer_pass_key);
    pt_handler_register(&pt_balancer_manager_handler);
    pt_status_extend(&pt_balancer_status_ext);
    /* After the balancer's: its members are known when the reverse rules are finished. */
    pt_config_extend(&pt_reverse_conf);
    pt_config_extend(&pt_remoteip_conf);
    pt_config_extend(&pt_fcgi_conf);
    pt_config_extend(&pt_tls_conf_ext);
    pt_config_extend(&pt_tls_compat_conf_ext);
    pt_config_extend(&pt_https_conf); /* after ssl's: reads the merged SSLProxy* */
    pt_config_extend(&pt_tunnel_conf);
    pt_expr_set_lookup(&pt_expr_request_lookup); /* what ap_expr's names mean (expr.h) */
    pt_tls_ctx_hook_register(&pt_tickets_hook);
    pt_tls_ctx_hook_register(&pt_stapling_hook);
    pt_config_extend(&pt_h2_conf_ext);
    pt_h1_handoff = &h2c_handoff;
    pt_tls_alpn_offer("h2");
    pt_loader_init();
}

/* ---- What the MPM runs (it names no protocol, handler or module itself) ------------- */

/* HTTP/1's answer to a head that did not arrive in time. */
static void http1_read_timeout(pt_conn_t *c)
{
    pt_log_error(PT_LOG_INFO, c->peer_ip,
                 "request head not received in time: 408 (RequestReadTimeout)");
    pt_conn_send_status(c, 408);
}

static const pt_conn_proto_t http1_proto = {
    .name = "http/1.1",
    .serve_worker = pt_conn_serve,
    .read_timeout = http1_read_timeout,
    .release = free,
};

/* The protocol a connection speaks once TLS is up, by what ALPN chose (NULL: none, as on a
 * plain connection). "h2" is HTTP/2's, started in first_serve (it makes a session). */
static const pt_conn_proto_t *proto_for_alpn(const char *alpn)
{
    (void)alpn;
    return &http1_proto;
}

/* A fresh connection: on a TLS address (Listen ... https, or an SSLEngine on server), the
 * TLS transport and its handshake first, advanced each time the peer has sent more and
 * parked meanwhile (PARK_READ: RequestReadTimeout's header timeout bounds it, counted
 * from the accept); then the protocol ALPN chose serves it. */
static pt_conn_next_t first_serve(pt_worker_t *w, pt_conn_t *c)
{
    /* RemoteIPProxyProtocol: the PROXY header comes before anything else, TLS included. */
    if (!c->proxy_header_done && pt_remoteip_conn_wants(c)) {
        int rc = pt_remoteip_conn_start(c);
        if (rc <= 0)
            return rc < 0 ? PT_NEXT_CLOSE : PT_NEXT_PARK_READ;
        c->proxy_header_done = true;
    }
    if (!pt_tls_active(c)) {
        if (!pt_tls_addr_is_tls(c->cfg, &c->local.sa)) {
            c->proto = &http1_proto;
            return c->proto->serve_worker(w, c);
        }
        if (pt_tls_start(c) != 0)
            return PT_NEXT_CLOSE;
        /* The handshake's deadline runs from here (head_bytes > 0: its timeout is told,
         * by first_read_timeout). */
        c->head_start_ms = pt_now_ms();
        c->head_bytes = 1;
    }
    for (;;) {
        int rc = pt_tls_handshake(c);
        if (rc == PT_TLS_PLAINTEXT)
            return PT_NEXT_LINGER;
        if (rc == PT_EAGAIN && c->tp_want == POLLOUT) {
            /* Our flight did not fit the socket buffer: rare and short, so wait here. */
            if (pt_conn_wait(c, POLLOUT, PT_MAX(pt_conn_read_deadline(c) - pt_now_ms(), 0)))
                return PT_NEXT_CLOSE;
            continue;
        }
        if (rc == PT_EAGAIN)
            return PT_NEXT_PARK_READ;
        if (rc < 0)
            return PT_NEXT_CLOSE;
        break;
    }
    c->head_start_ms = 0;
    c->head_bytes = 0;
    const char *alpn = pt_tls_alpn(c);
    if (alpn && strcmp(alpn, "h2") == 0 && pt_h2_start(c))
        return c->proto->serve_worker(w, c); /* (pt_h2_start switched c->proto) */
    c->proto = proto_for_alpn(alpn);
    return c->proto->serve_worker(w, c);
}

static void first_read_timeout(pt_conn_t *c)
{
    if (!c->proxy_header_done && pt_remoteip_conn_wants(c)) {
        pt_remoteip_conn_timeout(c);
        return;
    }
    pt_log_error(PT_LOG_INFO, c->peer_ip, "TLS handshake not completed in time: closed "
                 "(RequestReadTimeout)");
}

static const pt_conn_proto_t first_proto = {
    .name = "first",
    .serve_worker = first_serve,
    .read_timeout = first_read_timeout,
    .release = free,
};

const pt_conn_proto_t *pt_startup_first_proto(void)
{
    return &first_proto;
}

/* Modules first (as Apache runs their child_init), then the proxy's runtime (pools). */
static int child_init(const pt_config_t *cfg)
{
    /* The parent's health-check and DNS sockets came with the fork: not this child's. */
    pt_hcheck_child_forget();
    pt_stapling_child_forget();
    if (pt_module_child_init(cfg) != 0)
        return -1;
    if (pt_resolve_child_init(cfg) != 0)
        return -1;
    return pt_proxy_child_init(cfg);
}

static void child_exit(const pt_config_t *cfg)
{
    pt_proxy_child_exit(cfg);
    pt_resolve_child_exit();
    pt_filecache_clear();
}

/* Once per server, not per child: ticket-key rotation, OCSP responses for stapling. */
static void tick_parent(const pt_config_t *cfg, int64_t now_ms)
{
    pt_hcheck_tick_parent(cfg, now_ms); /* health checks and resolve=, once per server */
    pt_tickets_tick(pt_tickets_period_ms(cfg), now_ms);
    pt_stapling_tick(now_ms);
}

static const pt_mpm_hooks_t mpm_hooks = {
    .child_init = child_init,
    .child_exit = child_exit,
    .tick_listener = pt_proxy_tick,
    .tick_parent = tick_parent,
};

const pt_mpm_hooks_t *pt_startup_mpm_hooks(void)
{
    return &mpm_hooks;
}
