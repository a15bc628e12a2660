/* mod_rewrite's %{VARIABLES} of a request (Apache's lookup_variable), its [E=] and its -U/-F
 * lookups: the callbacks through which the engine (rewrite.h) sees a request. */
#include "access.h"
#include "conn.h"
#include "expr.h"
#include "rewrite_vars.h"
#include "tls.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *header(const pt_request_t *r, const char *name)
{
    const char *v = pt_table_get(&r->headers_in, name);
    return v ? v : "";
}

typedef struct {
    const char *want;
    const char *got;
} tls_pick_t;

static void tls_pick(void *ud, const char *name, const char *value)
{
    tls_pick_t *p = ud;
    if (!p->got && strcmp(name, p->want) == 0)
        p->got = value;
}

/* The port Apache's ap_get_server_port gives: Host's (UseCanonicalName Off), else
 * ServerName's, else the scheme's default. */
static int server_port(const pt_request_t *r)
{
    const pt_vhost_t *vh = r->vhost;
    int named = vh->server_port ? vh->server_port : r->cfg->main_server->server_port;
    if (!vh->use_canonical_name && r->host_port)
        return r->host_port;
    if (named)
        return named;
    return strcmp(r->scheme ? r->scheme : "http", "https") == 0 ? 443 : 80;
}

static const char *time_var(pt_request_t *r, const char *name)
{
    time_t now = (time_t)(r->start_wall_us / 1000000);
    struct tm tm;
    localtime_r(&now, &tm);
    static const char *const names[] = {"TIME_YEAR", "TIME_MON", "TIME_DAY", "TIME_HOUR",
                                        "TIME_MIN",  "TIME_SEC", "TIME_WDAY"};
    const int values[] = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                          tm.tm_min,         tm.tm_sec,     tm.tm_wday};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return pt_arena_printf(r->arena, i == 0 || i == 6 ? "%d" : "%02d", values[i]);
    if (strcmp(name, "TIME") == 0)
        return pt_arena_printf(r->arena, "%04d%02d%02d%02d%02d%02d", values[0], values[1],
                               values[2], values[3], values[4], values[5]);
    return NULL;
}

/* The names whose value is a request header (lookup_variable's HTTP_* cases). */
static const char *header_var(const pt_request_t *r, const char *name)
{
    static const char *const h[][2] = {
        {"HTTP_USER_AGENT", "User-Agent"}, {"HTTP_REFERER", "Referer"},
        {"HTTP_COOKIE", "Cookie"},         {"HTTP_FORWARDED", "Forwarded"},
        {"HTTP_HOST", "Host"},             {"HTTP_PROXY_CONNECTION", "Proxy-Connection"},
        {"HTTP_ACCEPT", "Accept"},
    };
    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
        if (strcmp(name, h[i][0]) == 0)
            return header(r, h[i][1]);
    return NULL;
}

static const char *request_var(pt_rewrite_ctx_t *c, pt_request_t *r, const char *name)
{
    if (strcmp(name, "REQUEST_FILENAME") == 0 || strcmp(name, "SCRIPT_FILENAME") == 0)
        return c->filename;
    if (strcmp(name, "QUERY_STRING") == 0)
        return c->args;
    if (strcmp(name, "REQUEST_URI") == 0)
        return r->uri;
    if (strcmp(name, "REQUEST_METHOD") == 0)
        return r->method;
    if (strcmp(name, "REQUEST_SCHEME") == 0)
        return r->scheme ? r->scheme : "http";
    if (strcmp(name, "THE_REQUEST") == 0)
        return r->the_request;
    if (strcmp(name, "HTTPS") == 0)
        return r->scheme && strcmp(r->scheme, "https") == 0 ? "on" : "off";
    if (strcmp(name, "PATH_INFO") == 0)
        return r->path_info;
    if (strcmp(name, "IS_SUBREQ") == 0)
        return c->subreq ? "true" : "false";
    if (strcmp(name, "REMOTE_USER") == 0)
        return r->user;
    if (strcmp(name, "HTTP2") == 0)
        return r->proto_num >= 2000 ? "on" : "off";
    return NULL;
}

static const char *server_var(pt_request_t *r, const char *name)
{
    if (strcmp(name, "SERVER_NAME") == 0)
        return pt_request_server_name(r);
    if (strcmp(name, "SERVER_PORT") == 0)
        return pt_arena_printf(r->arena, "%d", server_port(r));
    if (strcmp(name, "SERVER_ADDR") == 0)
        return pt_request_local_ip(r);
    if (strcmp(name, "SERVER_ADMIN") == 0)
        return r->vhost->server_admin ? r->vhost->server_admin
                                      : r->cfg->main_server->server_admin;
    if (strcmp(name, "SERVER_PROTOCOL") == 0)
        return r->protocol;
    if (strcmp(name, "SERVER_SOFTWARE") == 0)
        return pt_server_banner(r->cfg->server_tokens);
    if (strcmp(name, "DOCUMENT_ROOT") == 0 || strcmp(name, "CONTEXT_DOCUMENT_ROOT") == 0)
        return r->vhost->document_root;
    if (strcmp(name, "REMOTE_ADDR") == 0 || strcmp(name, "REMOTE_HOST") == 0)
        return pt_request_client_ip(r);
    if (strcmp(name, "REMOTE_PORT") == 0)
        return pt_arena_printf(r->arena, "%d", pt_request_client_port(r));
    if (strcmp(name, "CONN_REMOTE_ADDR") == 0)
        return pt_request_peer_ip(r);
    if (strcmp(name, "IPV6") == 0)
        return strchr(pt_request_local_ip(r), ':') ? "on" : "off";
    if (strcmp(name, "API_VERSION") == 0)
        return "20120211:0";
    return NULL; /* AUTH_TYPE, REMOTE_IDENT, CONTEXT_PREFIX: empty here */
}

const char *pt_rewrite_var(pt_rewrite_ctx_t *c, const char *name)
{
    pt_request_t *r = c->ud;
    /* The first letter picks the tests worth making (a chain of string compares showed in
     * profiles: REQUEST_FILENAME went through twenty). */
    int f = toupper((unsigned char)name[0]);
    if (f == 'H' && strncasecmp(name, "HTTP:", 5) == 0)
        return header(r, name + 5);
    if (f == 'E' && strncasecmp(name, "ENV:", 4) == 0) {
        const char *v = pt_table_get(&r->env, name + 4);
        return v ? v : getenv(name + 4);
    }
    if (f == 'S' && strncasecmp(name, "SSL:", 4) == 0) {
        tls_pick_t p = {name + 4, NULL};
        pt_tls_vars(r->conn, r->arena, tls_pick, &p);
        return p.got;
    }
    const char *v = name[0] == 'H' ? header_var(r, name) : NULL;
    if (!v && name[0] == 'T' && strncmp(name, "TIME", 4) == 0)
        v = time_var(r, name);
    if (!v)
        v = request_var(c, r, name);
    return v ? v : server_var(r, name);
}

void pt_rewrite_setenv(pt_rewrite_ctx_t *c, const char *name, const char *value)
{
    pt_request_t *r = c->ud;
    if (value)
        pt_table_set(&r->env, name, value);
    else
        pt_table_unset(&r->env, name);
}

/* -U: the URL's phases pass (mod_rewrite's ap_sub_req_lookup_uri, status < 400). -F: the file
 * exists and the access rules of its directory let this client have it. */
bool pt_rewrite_lookup(pt_rewrite_ctx_t *c, const char *s, bool file)
{
    pt_request_t *r = c->ud;
    if (!file) {
        int st = pt_request_lookup(r, s, PT_LOOKUP_URL);
        return st < 400; /* 0: the phases passed */
    }
    struct stat st;
    if (stat(s, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    const pt_dir_config_t *d = pt_config_dir_for(r->arena, r->vhost, s, r->uri);
    return !d->require || pt_require_eval(d->require, pt_request_client_addr(r), r->method,
                                          &r->env) == PT_AUTHZ_GRANTED;
}

void pt_rewrite_log(pt_rewrite_ctx_t *c, const char *msg)
{
    pt_log_rerror(PT_LOG_ERR, (pt_request_t *)c->ud, "mod_rewrite: %s", msg);
}

/* As Apache's apply_rewrite_cond: an expression that cannot be evaluated is logged and
 * false. */
int pt_rewrite_expr(pt_rewrite_ctx_t *c, const struct pt_expr *e, const char **subject,
                    pt_regmatch_t *m, const char **vary)
{
    pt_request_t *r = c->ud;
    pt_expr_caps_t caps = {0};
    const char *err = NULL;
    int v = pt_expr_eval_vary(r, e, &caps, vary, &err);
    if (v < 0) {
        pt_log_rerror(PT_LOG_ERR, r, "mod_rewrite: RewriteCond: expression \"%s\" cannot be "
                      "evaluated: %s", e->source, err);
        return -1;
    }
    *subject = caps.subject;
    memcpy(m, caps.m, sizeof(caps.m));
    return v;
}
