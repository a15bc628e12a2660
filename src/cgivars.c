/* The CGI/1.1 variables of a request (cgivars.h): Apache's ap_add_common_vars and
 * ap_add_cgi_vars, shared by the FastCGI gateway and the module API. */
#include "cgivars.h"

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

int pt_cgi_script_locate(pt_request_t *r, pt_cgi_script_t *s)
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
        } else if (strcasecmp(name, "Proxy") == 0) {
            continue; /* httpoxy (CVE-2016-5385) */
        } else if ((strcasecmp(name, "Authorization") == 0 ||
                    strcasecmp(name, "Proxy-Authorization") == 0) &&
                   r->dir->core.cgi_pass_auth != 2) {
            continue; /* credentials only with CGIPassAuth On, as Apache */
        } else {
            const char *var = http_var(r->arena, name);
            if (var)
                pt_table_append(t, var, value);
        }
    }
}

void pt_cgi_context(const pt_request_t *r, const char **prefix_out, const char **root_out)
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
    *prefix_out = prefix;
    *root_out = root;
}

static void add_context(pt_request_t *r, pt_table_t *t)
{
    const char *prefix, *root;
    pt_cgi_context(r, &prefix, &root);
    pt_table_set(t, "CONTEXT_PREFIX", prefix);
    pt_table_set(t, "CONTEXT_DOCUMENT_ROOT", root);
}

static void set_tls_var(void *t, const char *name, const char *value)
{
    pt_table_set(t, name, value);
}

static void add_common(pt_request_t *r, const pt_cgi_script_t *s, pt_table_t *t)
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

static void add_cgi(pt_request_t *r, const pt_cgi_script_t *s, pt_table_t *t)
{
    pt_table_set(t, "GATEWAY_INTERFACE", "CGI/1.1");
    pt_table_set(t, "SERVER_PROTOCOL", r->protocol ? r->protocol : "HTTP/1.1");
    pt_table_set(t, "REQUEST_METHOD", r->method);
    pt_table_set(t, "QUERY_STRING", r->args ? r->args : "");
    if (r->dir->core.cgi_current_uri == 2) /* CGIVar REQUEST_URI current-uri */
        pt_table_set(t, "REQUEST_URI",
                     pt_arena_printf(r->arena, "%s%s%s", pt_uri_escape_path(r->arena, r->uri),
                                     r->args ? "?" : "", r->args ? r->args : ""));
    else
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
    if (r->prev_uri && !pt_table_get(t, "REDIRECT_URL"))
        pt_table_set(t, "REDIRECT_URL",
                     r->dir->core.qualify_redirect_url == 2
                         ? pt_request_construct_url(r, pt_uri_escape_path(r->arena, r->prev_uri))
                         : r->prev_uri);
}

void pt_cgi_vars(pt_request_t *r, const pt_cgi_script_t *s, int64_t content_length,
                 pt_table_t *t)
{
    add_headers(r, t);
    if (content_length >= 0)
        pt_table_set(t, "CONTENT_LENGTH", pt_arena_printf(r->arena, "%lld",
                                                          (long long)content_length));
    else if (r->content_length < 0)
        pt_table_unset(t, "CONTENT_LENGTH");
    add_common(r, s, t);
    for (size_t i = 0; i < r->env.n; i++)
        pt_table_set(t, r->env.v[i].name, r->env.v[i].value);
    add_cgi(r, s, t);
}
