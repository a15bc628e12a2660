/* The top floor's registrations (startup.h). Like main.c, this file may include every
 * floor: it is where they are wired together, so that src/ and conf/ name none of the
 * floors above them. */
#include "startup.h"

#include "conn.h"
#include "directives.h"
#include "directives_proxy.h"
#include "fcgi/fcgi.h"
#include "filecache.h"
#include "loader.h"
#include "log.h"
#include "module.h"
#include "mpm/mpm.h"
#include "runtime.h"
#include "scheme.h"
#include "h1_conn.h"
#include "h2.h"

#include <stdlib.h>

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
    pt_config_extend(&pt_proxy_conf);
    pt_config_extend(&pt_fcgi_conf);
    pt_config_extend(&pt_h2_conf_ext);
    pt_h1_handoff = &h2c_handoff;
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

const pt_conn_proto_t *pt_startup_first_proto(void)
{
    return &http1_proto;
}

/* Modules first (as Apache runs their child_init), then the proxy's runtime (pools). */
static int child_init(const pt_config_t *cfg)
{
    if (pt_module_child_init(cfg) != 0)
        return -1;
    return pt_proxy_child_init(cfg);
}

static void child_exit(const pt_config_t *cfg)
{
    pt_proxy_child_exit(cfg);
    pt_filecache_clear();
}

static const pt_mpm_hooks_t mpm_hooks = {
    .child_init = child_init,
    .child_exit = child_exit,
    .tick_listener = pt_proxy_tick,
};

const pt_mpm_hooks_t *pt_startup_mpm_hooks(void)
{
    return &mpm_hooks;
}
