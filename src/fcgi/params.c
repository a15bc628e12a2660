/* The CGI/1.1 variables of a request as Apache's mod_proxy_fcgi sends them to php-fpm: the
 * request core's (cgivars.c: ap_add_common_vars, ap_add_cgi_vars), where the script is for a
 * ProxyPass (the URL's path), then ProxyFCGISetEnvIf. */
#include "fcgi/fcgi.h"

#include "expr.h"
#include "request.h"
#include "uri.h"

#include <ctype.h>
#include <stdio.h>

int pt_fcgi_script_locate(pt_request_t *r, pt_fcgi_script_t *s)
{
    return pt_cgi_script_locate(r, s);
}

void pt_fcgi_script_from_backend(pt_request_t *r, bool fpm, pt_fcgi_script_t *s)
{
    const pt_backend_t *b = r->backend;
    const char *bp = r->backend_path ? r->backend_path : "";
    s->script_name = r->uri;
    s->path_info = NULL;
    if (fpm) {
        /* php-fpm wants a plain path; its cgi.fix_pathinfo splits PATH_INFO off itself. The
         * path is already decoded (r->uri, once): decoding it again would turn %2569 into
         * 'i' past <Location>, %2500 into a NUL and %252f into a slash. */
        s->filename = bp;
    } else {
        /* As Apache's proxy_fcgi_canon: a URL, so the path escaped again; the port only
         * when it is not FastCGI's default (8000), an IPv6 host in brackets. */
        const char *host = b->host ? b->host : "";
        bool v6 = strchr(host, ':') != NULL;
        const char *port = b->port && b->port != 8000
                               ? pt_arena_printf(r->arena, ":%d", b->port) : "";
        s->filename = pt_arena_printf(r->arena, "proxy:fcgi://%s%s%s%s%s", v6 ? "[" : "", host,
                                      v6 ? "]" : "", port, pt_uri_escape_path(r->arena, bp));
    }
}

/* ---- ProxyFCGISetEnvIf ----------------------------------------------------------------- */

/* As mod_proxy_fcgi: reqenv() reads the parameters built so far (t), the value sees the
 * condition's captures, and an expression that cannot be evaluated is logged and skipped. */
static void apply_setenv(pt_request_t *r, pt_table_t *t)
{
    const pt_dir_config_t *d = r->dir;
    for (size_t i = 0; d && i < d->nfcgi_setenv; i++) {
        const pt_fcgi_setenv_t *e = &d->fcgi_setenv[i];
        pt_expr_caps_t caps = {0};
        const char *why = NULL;
        int v = pt_expr_eval_in(r, t, e->cond, &caps, &why);
        if (v < 0)
            pt_log_rerror(PT_LOG_ERR, r, "AH01570: ProxyFCGISetEnvIf: '%s': %s",
                          e->cond->source, why);
        if (v <= 0)
            continue;
        if (e->name[0] == '!') {
            pt_table_unset(t, e->name + 1);
            continue;
        }
        const char *val = e->value ? pt_expr_eval_string_in(r, t, e->value, &caps, &why) : "";
        if (!val) {
            pt_log_rerror(PT_LOG_ERR, r, "AH01571: ProxyFCGISetEnvIf: value '%s': %s",
                          e->value->source, why);
            continue;
        }
        pt_table_set(t, e->name, val);
    }
}

void pt_fcgi_params_build(pt_request_t *r, const pt_fcgi_script_t *s, int64_t content_length,
                          pt_fcgi_params_t *pp)
{
    pt_table_t t;
    pt_table_init(&t, r->arena, 48);
    pt_cgi_vars(r, s, content_length, &t);
    apply_setenv(r, &t);
    /* httpoxy again: an environment rule must not bring it back either. */
    pt_table_unset(&t, "HTTP_PROXY");
    for (size_t i = 0; i < t.n; i++)
        pt_fcgi_params_add(pp, t.v[i].name, t.v[i].value);
}
