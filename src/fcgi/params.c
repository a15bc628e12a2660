/* The CGI/1.1 variables of a request as Apache's mod_proxy_fcgi sends them to php-fpm
 * (ap_add_common_vars, ap_add_cgi_vars, then ProxyFCGISetEnvIf): where the script is
 * (SCRIPT_FILENAME through Alias or DocumentRoot, PATH_INFO split on the file system, or the
 * ProxyPass URL's path), the request's fields and headers, and the request environment. */
#include "fcgi/fcgi.h"
#include "auth_basic.h"

#include "request.h"
#include "tls.h"
#include "uri.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* ---- Where the script is ---------------------------------------------------------------- */

/* SCRIPT_NAME: the URL-path without the trailing path info. */
static const char *script_name(pt_request_t *r, const char *path_info)
{
    size_t ul = strlen(r->uri), pl = path_info ? strlen(path_info) : 0;
    if (pl && ul >= pl && strcmp(r->uri + ul - pl, path_info) == 0)
        return pt_arena_strndup(r->arena, r->uri, ul - pl);
    return r->uri;
}

int pt_fcgi_script_locate(pt_request_t *r, pt_fcgi_script_t *s)
{
    struct stat st;
    const char *f = r->filename;
    s->filename = f;
    s->path_info = NULL;
    s->script_name = r->uri;
    if (r->path_info && r->path_info[0]) {
        /* The core's walk already split /app/index.php/foo/bar at the script. */
        s->path_info = r->path_info;
        s->script_name = script_name(r, s->path_info);
        return 0;
    }
    /* The core's walk stat()ed this very name (walked is filename itself for a file that
     * exists): asking again costs a system call per request and tells nothing new. */
    if (r->finfo_valid && r->walked == f && S_ISREG(r->finfo.st_mode))
        return 0;
    if (stat(f, &st) == 0)
        return S_ISDIR(st.st_mode) ? 1 : 0;
    if (errno != ENOTDIR)
        return 404;
    /* A component is a file and more path follows: /app/index.php/foo/bar. */
    char *path = pt_arena_strdup(r->arena, f);
    for (size_t i = 1; path[i]; i++) {
        if (path[i] != '/')
            continue;
        path[i] = '\0';
        int rc = stat(path, &st);
        path[i] = '/';
        if (rc != 0)
            return 404;
        if (!S_ISDIR(st.st_mode)) {
            s->filename = pt_arena_strndup(r->arena, path, i);
            s->path_info = path + i;
            s->script_name = script_name(r, s->path_info);
            return 0;
        }
    }
    return 404;
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

/* ---- Variables ------------------------------------------------------------------------- */

/* HTTP_<NAME>: upper case, '-' to '_'. Names with other characters are dropped, as Apache
 * does, so that "Foo_Bar" cannot pose as "Foo-Bar". */
static const char *http_var(pt_arena_t *a, const char *name)
{
    size_t n = strlen(name);
    char *v = pt_arena_alloc(a, n + 6);
    memcpy(v, "HTTP_", 5);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '-')
            v[5 + i] = '_';
        else if (isalnum(c))
            v[5 + i] = (char)toupper(c);
        else
            return NULL;
    }
    v[5 + n] = '\0';
    return v;
}

static void add_headers(pt_request_t *r, pt_table_t *t)
{
    for (size_t i = 0; i < r->headers_in.n; i++) {
        const char *name = r->headers_in.v[i].name, *value = r->headers_in.v[i].value;
        if (strcasecmp(name, "Content-Type") == 0) {
            pt_table_set(t, "CONTENT_TYPE", value);
        } else if (strcasecmp(name, "Content-Length") == 0) {
            pt_table_set(t, "CONTENT_LENGTH", value);
        } else if (strcasecmp(name, "Proxy") == 0 || strcasecmp(name, "Authorization") == 0 ||
                   strcasecmp(name, "Proxy-Authorization") == 0) {
            /* httpoxy (CVE-2016-5385); credentials only with CGIPassAuth, as Apache. */
            continue;
        } else {
            const char *var = http_var(r->arena, name);
            if (var)
                pt_table_append(t, var, value);
        }
    }
}

/* CONTEXT_PREFIX / CONTEXT_DOCUMENT_ROOT: the Alias that mapped the request, if any. */
static void add_context(pt_request_t *r, pt_table_t *t)
{
    const pt_vhost_t *vh = r->vhost;
    const char *root = vh->document_root ? vh->document_root : "";
    const char *prefix = "";
    for (size_t i = 0; r->filename && i < vh->naliases_map; i++) {
        const pt_alias_t *al = &vh->aliases_map[i];
        size_t n = strlen(al->from);
        if (al->regex || strncmp(r->uri, al->from, n) != 0)
            continue;
        if (n && al->from[n - 1] != '/' && r->uri[n] != '\0' && r->uri[n] != '/')
            continue;
        prefix = al->from;
        root = al->to;
        break;
    }
    pt_table_set(t, "CONTEXT_PREFIX", prefix);
    pt_table_set(t, "CONTEXT_DOCUMENT_ROOT", root);
}

static void set_tls_var(void *t, const char *name, const char *value)
{
    pt_table_set(t, name, value);
}

static void add_common(pt_request_t *r, const pt_fcgi_script_t *s, pt_table_t *t)
{
    pt_arena_t *a = r->arena;
    const char *path = getenv("PATH");
    pt_table_set(t, "PATH", path ? path : "/usr/local/bin:/usr/bin:/bin");
    pt_table_set(t, "SERVER_SIGNATURE", "");
    pt_table_set(t, "SERVER_SOFTWARE", pt_server_banner(r->cfg->server_tokens));
    pt_table_set(t, "SERVER_NAME", pt_request_server_name(r));
    pt_table_set(t, "SERVER_ADDR", pt_request_local_ip(r));
    pt_table_set(t, "SERVER_PORT", pt_arena_printf(a, "%d", pt_request_server_port(r)));
    pt_table_set(t, "REMOTE_ADDR", pt_request_client_ip(r));
    pt_table_set(t, "DOCUMENT_ROOT", r->vhost->document_root ? r->vhost->document_root : "");
    pt_table_set(t, "REQUEST_SCHEME", r->scheme ? r->scheme : "http");
    add_context(r, t);
    if (r->vhost->server_admin)
        pt_table_set(t, "SERVER_ADMIN", r->vhost->server_admin);
    pt_table_set(t, "SCRIPT_FILENAME", s->filename ? s->filename : "");
    pt_table_set(t, "REMOTE_PORT", pt_arena_printf(a, "%d", pt_request_client_port(r)));
    if (r->user)
        pt_table_set(t, "REMOTE_USER", r->user);
    if (r->user && pt_auth_type(r)) /* as Apache's r->ap_auth_type: set by authentication */
        pt_table_set(t, "AUTH_TYPE", pt_auth_type(r));
    if (r->scheme && strcmp(r->scheme, "https") == 0)
        pt_table_set(t, "HTTPS", "on");
    pt_tls_vars(r->conn, a, set_tls_var, t); /* mod_ssl's SSL_* variables */
}

static void add_cgi(pt_request_t *r, const pt_fcgi_script_t *s, pt_table_t *t)
{
    pt_table_set(t, "GATEWAY_INTERFACE", "CGI/1.1");
    pt_table_set(t, "SERVER_PROTOCOL", r->protocol ? r->protocol : "HTTP/1.1");
    pt_table_set(t, "REQUEST_METHOD", r->method);
    pt_table_set(t, "QUERY_STRING", r->args ? r->args : "");
    pt_table_set(t, "REQUEST_URI", r->unparsed_uri ? r->unparsed_uri : r->uri);
    pt_table_set(t, "SCRIPT_NAME", s->script_name);
    if (s->path_info && s->path_info[0]) {
        pt_table_set(t, "PATH_INFO", s->path_info);
        const char *root = r->vhost->document_root ? r->vhost->document_root : "";
        pt_table_set(t, "PATH_TRANSLATED", pt_arena_printf(r->arena, "%s%s", root,
                                                           s->path_info));
    }
    if (!pt_table_get(t, "REDIRECT_STATUS"))
        pt_table_set(t, "REDIRECT_STATUS", "200");
    if (r->redirect_from && !pt_table_get(t, "REDIRECT_URL"))
        pt_table_set(t, "REDIRECT_URL", r->redirect_from);
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
    add_headers(r, &t);
    if (content_length >= 0)
        pt_table_set(&t, "CONTENT_LENGTH", pt_arena_printf(r->arena, "%lld",
                                                           (long long)content_length));
    else if (r->content_length < 0)
        pt_table_unset(&t, "CONTENT_LENGTH");
    add_common(r, s, &t);
    for (size_t i = 0; i < r->env.n; i++)
        pt_table_set(&t, r->env.v[i].name, r->env.v[i].value);
    add_cgi(r, s, &t);
    apply_setenv(r, &t);
    /* httpoxy again: an environment rule must not bring it back either. */
    pt_table_unset(&t, "HTTP_PROXY");
    for (size_t i = 0; i < t.n; i++)
        pt_fcgi_params_add(pp, t.v[i].name, t.v[i].value);
}
