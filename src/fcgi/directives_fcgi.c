/* The FastCGI directives (mod_proxy_fcgi): ProxyFCGIBackendType, ProxyFCGISetEnvIf, and
 * portico's own ProxyFCGISpoolLimit. The backend URLs themselves are the proxy's
 * (proxy/directives_proxy.c); the values land in the configuration for params.c and
 * spool.c to read. */
#include "directives.h"
#include "expr_parse.h"

#include <stdio.h>

static int set_backend_type(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (strcasecmp(n->argv[0], "FPM") == 0)
        s->dc->fcgi_backend_type = 0;
    else if (strcasecmp(n->argv[0], "GENERIC") == 0)
        s->dc->fcgi_backend_type = 1;
    else
        return pt_dcx_fail(l, n, "ProxyFCGIBackendType must be FPM or GENERIC");
    return 0;
}

/* ProxyFCGISetEnvIf conditional-expression [!]name [value-expression]: both ap_exprs, the
 * value a string one (mod_proxy_fcgi's). */
static int set_fcgi_setenvif(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_fcgi_setenv_t e = {.name = n->argv[1]};
    if (!(e.cond = pt_dcx_expr(l, n, "ProxyFCGISetEnvIf", n->argv[0], 0)))
        return -1;
    if (n->argc > 2 &&
        !(e.value = pt_dcx_expr(l, n, "ProxyFCGISetEnvIf", n->argv[2], PT_EXPR_STRING)))
        return -1;
    pt_dir_config_t *dc = s->dc;
    size_t k = dc->nfcgi_setenv;
    pt_fcgi_setenv_t *v = pt_dcx_push(l->a, &dc->fcgi_setenv, &k, sizeof(*v));
    *v = e;
    dc->nfcgi_setenv = k;
    return 0;
}

/* ProxyFCGISpoolLimit bytes (portico's own): chunked request bodies spooled for php-fpm at
 * once, across the server; the default is PT_FCGI_SPOOL_LIMIT (fcgi/exchange.h). */
static int set_fcgi_spool_limit(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[0], 1, INT64_MAX, &v) < 0)
        return -1;
    l->cfg->fcgi_spool_limit = v;
    return 0;
}

static const dcx_directive_t fcgi_table[] = {
    {"ProxyFCGIBackendType", ALL, 1, 1, set_backend_type},
    {"ProxyFCGISetEnvIf", ALL, 2, 3, set_fcgi_setenvif},
    {"ProxyFCGISpoolLimit", W_SERVER, 1, 1, set_fcgi_spool_limit},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_fcgi_conf = {
    .name = "fcgi",
    .directives = fcgi_table,
};
