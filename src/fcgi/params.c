/* The CGI/1.1 variables of a request as Apache's mod_proxy_fcgi sends them to php-fpm: the
 * request core's (cgivars.c: ap_add_common_vars, ap_add_cgi_vars), where the script is for a
 * ProxyPass (the URL's path), then ProxyFCGISetEnvIf. */
#include "fcgi/fcgi.h"

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

/* The variable that "reqenv('NAME') =~ /re/" tests. */
static const char *cond_var(pt_arena_t *a, const char *cond)
{
    const char *q = strchr(cond, '\'');
    const char *e = q ? strchr(q + 1, '\'') : NULL;
    return e ? pt_arena_strndup(a, q + 1, (size_t)(e - q - 1)) : NULL;
}

/* The value with $0..$9 from the match and %{VAR} / %{reqenv:VAR} from the variables. */
static const char *expand_value(pt_arena_t *a, const char *tpl, const char *subject,
                                const pt_regmatch_t *m, const pt_table_t *t)
{
    size_t cap = strlen(tpl) + 64, o = 0;
    char *out = pt_arena_alloc(a, cap);
    for (const char *p = tpl; *p;) {
        const char *ins = NULL;
        size_t il = 0;
        if (p[0] == '$' && isdigit((unsigned char)p[1]) && subject && m) {
            const pt_regmatch_t *g = &m[p[1] - '0'];
            if (g->rm_so >= 0)
                ins = subject + g->rm_so, il = (size_t)(g->rm_eo - g->rm_so);
            p += 2;
        } else if (p[0] == '%' && p[1] == '{' && strchr(p, '}')) {
            const char *e = strchr(p, '}');
            const char *name = pt_arena_strndup(a, p + 2, (size_t)(e - p - 2));
            if (strncasecmp(name, "reqenv:", 7) == 0)
                name += 7;
            ins = pt_table_get(t, name);
            il = ins ? strlen(ins) : 0;
            p = e + 1;
        } else {
            ins = p++;
            il = 1;
        }
        if (o + il + 1 > cap) {
            size_t nc = (o + il + 1) * 2;
            out = pt_arena_grow(a, out, o, nc);
            cap = nc;
        }
        if (il)
            memcpy(out + o, ins, il);
        o += il;
    }
    out[o] = '\0';
    return out;
}

static void apply_setenv(pt_request_t *r, pt_table_t *t)
{
    const pt_dir_config_t *d = r->dir;
    for (size_t i = 0; d && i < d->nfcgi_setenv; i++) {
        const pt_fcgi_setenv_t *e = &d->fcgi_setenv[i];
        pt_regmatch_t m[10];
        const char *subject = NULL;
        if (e->re) {
            const char *var = cond_var(r->arena, e->cond);
            subject = var ? pt_table_get(t, var) : NULL;
            if (!subject)
                subject = "";
            if (pt_regex_exec(e->re, subject, 10, m, 0) != 0)
                continue;
        }
        if (e->name[0] == '!') {
            pt_table_unset(t, e->name + 1);
            continue;
        }
        pt_table_set(t, e->name,
                     expand_value(r->arena, e->value ? e->value : "", subject,
                                  e->re ? m : NULL, t));
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
