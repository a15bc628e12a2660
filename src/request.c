/* Routing a request, Apache's phases before the handler: the early Redirects, URL-to-file
 * mapping, the per-directory walk and merge, SetEnvIf, RequestHeader, Require, the fixups (the
 * sections' Redirects); then the handler the loader resolved for it (r->dir->handler),
 * internal redirects and mod_dir's lookups. The request's addresses and self-referential URLs
 * are request_addr.c's, mod_alias's Redirect matching redirect.c's. The protocol driver
 * (http1/h1_conn.c) reads the head, calls pt_request_route, and writes the access log line. */
#include "request.h"
#include "access.h"
#include "auth_basic.h"
#include "authz.h"
#include "conn.h"
#include "dirconf_walk.h"
#include "expr.h"
#include "handler.h"
#include "headers.h"
#include "htaccess.h"
#include "log.h"
#include "mime.h"
#include "redirect.h"
#include "setenvif.h"
#include "uri.h"
#include "walk.h"

#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#define PT_MAX_INTERNAL_REDIRECTS 10

/* Set once at start-up, before any thread (pt_request_set_phases). */
static const pt_request_phases_t *phases;

void pt_request_set_phases(const pt_request_phases_t *p)
{
    phases = p;
}

/* ---- Environment (SetEnv, UnsetEnv, SetEnvIf) ------------------------------------- */

static const char *env_attribute(pt_request_t *r, const char *attr)
{
    if (strcasecmp(attr, "Remote_Addr") == 0)
        return pt_request_client_ip(r);
    if (strcasecmp(attr, "Request_URI") == 0)
        return r->uri;
    if (strcasecmp(attr, "Request_Method") == 0)
        return r->method;
    if (strcasecmp(attr, "Request_Protocol") == 0)
        return r->protocol;
    if (strcasecmp(attr, "Server_Addr") == 0)
        return pt_request_local_ip(r);
    const char *v = pt_table_get(&r->headers_in, attr);
    return v ? v : pt_table_get(&r->env, attr);
}

/* Which of mod_setenvif's rules a phase runs: Apache runs a server's own as the request is
 * read (post_read_request, again on an internal redirect), the sections' after the <If>
 * sections merge (header_parser, not in a subrequest). */
static void apply_setenvif(pt_request_t *r, const pt_dir_config_t *d, bool server)
{
    for (size_t i = 0; i < d->nenv; i++) {
        const pt_env_rule_t *e = &d->env[i];
        if (e->kind == PT_ENV_SET || e->kind == PT_ENV_UNSET || e->server != server)
            continue;
        pt_expr_caps_t caps = {0};
        const char *subject = NULL;
        if (e->kind == PT_ENV_SETIF_EXPR) {
            if (!pt_expr_setenvif(r, e, &caps))
                continue;
            subject = caps.subject;
        } else {
            /* Apache matches an absent field as "", so that "^$" finds it missing. */
            subject = env_attribute(r, e->attribute);
            if (!subject)
                subject = "";
            if (!pt_setenvif_match(e, subject, caps.m))
                continue;
        }
        pt_setenvif_assign(r->arena, &r->env, e, subject, caps.m);
    }
}

/* mod_env's fixup, after the access checks and the per-directory RewriteRules (neither sees
 * these variables). Its table is the config's: a later SetEnv or PassEnv of a name replaces
 * an earlier one, UnsetEnv drops an earlier one. Apache lays it under the request's own
 * variables, so a name the request already has (from SetEnvIf, a RewriteRule's [E=]) keeps
 * its value, and UnsetEnv does not remove it. */
static void apply_setenv(pt_request_t *r, const pt_dir_config_t *d)
{
    pt_table_t vars;
    bool any = false;
    for (size_t i = 0; i < d->nenv; i++) {
        const pt_env_rule_t *e = &d->env[i];
        if (e->kind != PT_ENV_SET && e->kind != PT_ENV_UNSET)
            continue;
        if (!any)
            pt_table_init(&vars, r->arena, 8);
        any = true;
        for (size_t j = 0; j < e->nvars; j++) {
            const char *eq = e->kind == PT_ENV_SET ? strchr(e->vars[j], '=') : NULL;
            if (eq)
                pt_table_set(&vars,
                             pt_arena_strndup(r->arena, e->vars[j], (size_t)(eq - e->vars[j])),
                             eq + 1);
            else
                pt_table_unset(&vars, e->vars[j]);
        }
    }
    for (size_t i = 0; any && i < vars.n; i++)
        if (!pt_table_get(&r->env, vars.v[i].name))
            pt_table_add(&r->env, vars.v[i].name, vars.v[i].value);
}

/* mod_headers' "early" rules, as the request is read: the server's own (a section's early
 * rule is never run, as in Apache). RequestHeader edits the fields every phase then sees;
 * Header sets the response's tables before any handler. */
static void apply_early_headers(pt_request_t *r)
{
    const pt_dir_config_t *d = r->vhost->dir;
    if (d->nreq_headers && pt_header_rules_apply(d->req_headers, d->nreq_headers, false, true,
                                                 &r->headers_in, r, "X-Forwarded-Proto"))
        r->xfp_by_rule = true;
    if (d->nheaders) {
        pt_header_rules_apply(d->headers, d->nheaders, false, true, &r->headers_out, r, NULL);
        pt_header_rules_apply(d->headers, d->nheaders, true, true, &r->err_headers_out, r, NULL);
    }
}

/* ---- Routing ---------------------------------------------------------------------- */

/* The config Apache's first walks give, before the URL is mapped: the <Location> sections,
 * then the <If> sections they and the server hold, of a new request (no file name yet, not
 * the one an internal redirect or a lookup comes from). An answer from the URL translation
 * (a server-level Redirect or RewriteRule) is sent with it: its Header always, its
 * ErrorDocument. */
static const pt_dir_config_t *early_dir(pt_request_t *r)
{
    const char *filename = r->filename, *path_info = r->path_info;
    r->filename = NULL;
    r->path_info = NULL;
    const pt_dir_config_t *d =
        pt_expr_if_merge(r, pt_config_dir_for(r->arena, r->vhost, NULL, r->uri));
    r->filename = filename;
    r->path_info = path_info;
    return d;
}

/* A <Location>'s one-argument Redirect is seen before the server's Redirects: Apache walks
 * the Locations, and the <If> sections they and the server hold, before it maps the URL. */
static int check_location_redirects(pt_request_t *r)
{
    if (!r->vhost->location_redirects)
        return 0;
    const pt_dir_config_t *d = early_dir(r);
    const pt_redirect_t *w = pt_redirect_whole_section(d);
    if (!w)
        return 0;
    r->dir = d;
    return pt_redirect_one(r, w, d);
}

static const char *file_ext(const char *filename)
{
    const char *slash = strrchr(filename, '/');
    const char *base = slash ? slash + 1 : filename;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot + 1 : NULL;
}

/* The handler the loader resolved for this request: ProxyPass's backend, SetHandler (a
 * "proxy:" one brings its backend), AddHandler by extension, else the default. r->handler
 * keeps the name it was chosen by, for the log. No handler name is compared here. */
static const pt_handler_t *choose_handler(pt_request_t *r)
{
    const pt_dir_config_t *d = r->dir;
    if (r->backend) {
        r->handler = r->backend->url;
        return r->backend->handler;
    }
    if (d->handler) {
        r->handler = d->handler_name;
        r->backend = d->handler_backend;
        return d->handler;
    }
    if (r->filename && d->nhandlers) {
        const char *ext = file_ext(r->filename);
        for (size_t i = 0; ext && i < d->nhandlers; i++) {
            if (strcasecmp(d->handlers[i].ext, ext) == 0) {
                if (!d->handlers[i].value)
                    break; /* RemoveHandler: the default handler, as if never added */
                r->handler = d->handlers[i].value;
                return d->handlers[i].handler;
            }
        }
    }
    r->handler = "static";
    return r->cfg->default_handler;
}

/* Options' symlink rules hold for every handler's file (a FastCGI script as much as a static
 * file), as in Apache's directory walk, each link with the Options of the directory that
 * holds it; a missing file is the handler's business, but a dangling link or a refused link
 * on the way to a missing name is refused here, as the walk's lstat sees the link. */
static int check_symlinks(pt_request_t *r)
{
    /* No DocumentRoot maps the URL (a server that only proxies and reports status): no
     * file, no link to check; the handler answers. */
    if (!r->filename)
        return 0;
    /* The usual case (FollowSymLinks all the way) costs no open: nothing to refuse. */
    if (pt_walk_follows_everywhere(r, r->filename_root, r->walk_options))
        return 0;
    int fd;
    struct stat st;
    int rc = pt_walk_open(r, r->filename_root, r->walk_options, true, &fd, &st);
    if (rc == 0)
        close(fd);
    return rc == 403 ? 403 : 0;
}

/* ProxyPass / ProxyPassMatch: the first that matches r->uri (prefix on segment boundaries,
 * as mod_proxy). Sets r->backend_path, decoded (from r->uri). */
static const pt_proxy_pass_t *match_proxy_pass(pt_request_t *r)
{
    const pt_vhost_t *vh = r->vhost;
    for (size_t i = 0; i < vh->nproxy_passes; i++) {
        const pt_proxy_pass_t *pp = &vh->proxy_passes[i];
        if (pp->re) {
            pt_regmatch_t m[10];
            if (pt_regex_exec(pp->re, r->uri, 10, m, 0) != 0)
                continue;
            if (!pp->disabled)
                r->backend_path = pp->backend->path[0]
                                      ? pt_uri_regsub(r->arena, pp->backend->path, r->uri, m)
                                      : r->uri;
            return pp;
        }
        size_t pl = strlen(pp->path);
        if (strncmp(r->uri, pp->path, pl) != 0)
            continue;
        if (pl && pp->path[pl - 1] != '/' && r->uri[pl] != '\0' && r->uri[pl] != '/')
            continue;
        if (!pp->disabled) {
            const char *bp = pp->backend->path;
            size_t bl = strlen(bp);
            const char *rest = r->uri + pl;
            /* "/app/" -> "/srv/app/": join without doubling or losing the slash */
            if (bl && bp[bl - 1] == '/' && rest[0] == '/')
                rest++;
            /* Joined by hand: a printf here was 1.4% of a proxied request's CPU. */
            size_t rl = strlen(rest);
            char *path = pt_arena_alloc(r->arena, bl + rl + 1);
            memcpy(path, bp, bl);
            memcpy(path + bl, rest, rl + 1);
            r->backend_path = path;
        }
        return pp;
    }
    return NULL;
}

/* Apache's internal redirects and mod_dir's subrequests (index, fallback) inherit the walk of
 * the request they come from: a file in the directory that request was walked to reuses that
 * walk, so its own name is not walked (no <Directory> naming it applies). */
static bool walk_inherited(const pt_request_t *r, const char *walked)
{
    if (!r->walked_dir || !walked)
        return false;
    size_t dl = strlen(r->walked_dir);
    return strncmp(walked, r->walked_dir, dl) == 0 && walked[dl] && !strchr(walked + dl, '/');
}

/* The per-directory config files (AccessFileName, .htaccess by default) and every ".ht*"
 * file (.htpasswd, .htgroup) are never served, whatever the sections say: Apache's stock
 * configs deny them with <FilesMatch "^\.ht">, and a config without that rule must not
 * hand out password hashes. 403, as that rule answers. */
static int check_hidden(pt_request_t *r, const char *walked, size_t n)
{
    if (!walked)
        return 0;
    while (n > 1 && walked[n - 1] == '/')
        n--;
    const char *slash = memrchr(walked, '/', n); /* (a scan back by hand cost twice more) */
    const char *base = slash ? slash + 1 : walked;
    size_t bl = (size_t)(walked + n - base);
    bool hidden = bl >= 3 && strncmp(base, ".ht", 3) == 0;
    const pt_vhost_t *vh = r->vhost->access_files ? r->vhost : r->cfg->main_server;
    for (size_t i = 0; !hidden && vh && i < vh->naccess_files; i++)
        hidden = strlen(vh->access_files[i]) == bl && strncmp(base, vh->access_files[i], bl) == 0;
    if (!hidden)
        return 0;
    pt_log_rerror(PT_LOG_ERR, r, "AH01630: client denied by server configuration: %s "
                                 "(a per-directory config or .ht* file is never served)",
                  walked);
    return 403;
}

/* The directory r was walked to, as Apache's walk cache keeps it: the directory itself, or
 * the one that holds the file or the first missing name (for /a/b/c with no /a/b, the walk
 * stopped in /a/: a fallback lookup of /a/x reuses it, apache2 2.4.71). */
static const char *walked_dir_of(pt_request_t *r)
{
    const char *w = r->walked;
    if (!r->filename || !w)
        return NULL;
    size_t n = strlen(w);
    if (r->finfo_valid && S_ISDIR(r->finfo.st_mode) && !r->path_info)
        return n && w[n - 1] == '/' ? w : pt_arena_printf(r->arena, "%s/", w);
    const char *slash = strrchr(w, '/');
    return slash ? pt_arena_strndup(r->arena, w, (size_t)(slash - w) + 1) : NULL;
}

/* The name <DirectoryMatch> sees: a directory keeps the trailing '/' of the walk only when
 * the URL has one, as r->filename in Apache. */
static const char *regex_name(pt_request_t *r, const char *walked, size_t wl)
{
    if (wl < 2 || walked[wl - 1] != '/')
        return walked;
    size_t ul = strlen(r->uri);
    if (ul && r->uri[ul - 1] != '/')
        return pt_arena_strndup(r->arena, walked, wl - 1);
    return walked;
}

/* What Apache decides while reading the request, before any phase: StrictHostCheck and
 * HttpProtocolOptions RegisteredMethods. 0 or the status. */
static int check_request_line(pt_request_t *r)
{
    if (r->conn && pt_config_host_rejected(r->cfg, &r->conn->local.sa, r->hostname)) {
        pt_log_rerror(PT_LOG_WARN, r, "AH10157: Requested hostname '%s' did not match any "
                      "ServerName/ServerAlias in the matching virtual host", r->hostname);
        return 400;
    }
    if (r->vhost->core.registered_methods == 2 && !pt_method_registered(r->cfg, r->method)) {
        pt_log_rerror(PT_LOG_INFO, r, "AH02423: HTTP Request Line; Unrecognized HTTP method: "
                      "'%s'", r->method);
        return 501;
    }
    return 0;
}

/* Maps r->uri to a file, merges the per-directory config and checks access: Apache's phases
 * before the handler. Returns 0 or a status for an error page. A lookup (a subrequest's
 * phases) leaves the request's environment and header fields alone. */
static int route_map(pt_request_t *r, bool lookup, bool dirent)
{
    int st = lookup || r->redirect_from ? 0 : check_request_line(r);
    if (st)
        return st;
    if (!lookup) {
        apply_setenvif(r, r->vhost->dir, true);
        if (!r->redirect_from)
            apply_early_headers(r);
    }
    /* A listing's entry lookup starts from the file (Apache's file subrequest), past the URL
     * translation where mod_alias applies a <Location>'s one-argument Redirect. */
    st = dirent ? 0 : check_location_redirects(r);
    r->backend = NULL;
    r->backend_path = NULL;
    r->proxy_pass = NULL;
    /* mod_rewrite's translate_name hook runs first; a file or backend it gives is mapped. */
    bool mapped = false;
    if (!st && !dirent && phases && phases->translate &&
        (st = phases->translate(r, lookup, &mapped)))
        r->dir = early_dir(r);
    /* A listing's lookup of an entry starts from its file name: no translate_name phase, so
     * no server-level Redirect (mod_alias's per-directory ones run in the fixups). */
    if (!st && !dirent && !mapped &&
        (st = pt_redirects_check(r, r->vhost->redirects, r->vhost->nredirects, r->vhost->dir)) != 0)
        r->dir = early_dir(r);
    if (st)
        return st;
    pt_walk_result_t wr = {0};
    r->path_info = NULL;
    r->finfo_valid = false;
    const pt_proxy_pass_t *pp = mapped ? NULL : match_proxy_pass(r);
    if (r->backend || (pp && !pp->disabled)) {
        /* ProxyPass (or RewriteRule [P]): no file mapping; only <Location> sections apply,
         * as in Apache. */
        r->filename = NULL;
        if (pp) {
            r->backend = pp->backend;
            r->proxy_pass = pp;
        }
        r->dir = pt_config_dir_for_walk(r->arena, r->vhost, NULL, NULL, true, r->uri, &wr);
        r->sections = wr.sections;
    } else {
        if (!mapped)
            r->filename = pt_uri_map(r->arena, r->vhost, r->uri, &r->filename_root);
        const char *walked = r->walked = pt_walk_stat(r);
        size_t wl = walked ? strlen(walked) : 0;
        /* Without AllowOverride no file is read, but the reader's cache of merged walks
         * still spares each request the <Directory> merge of its directory. */
        wr.ht = pt_htaccess_reader(r);
        r->dir = pt_config_dir_for_walk(r->arena, r->vhost, walked, regex_name(r, walked, wl),
                                        r->path_info == NULL && !walk_inherited(r, walked),
                                        r->uri, &wr);
        r->walk_options = wr.walk_options;
        r->dir_options = wr.dir_options;
        r->sections = wr.sections;
        /* A listing's entry lookup reuses the listed directory's walk: its link was checked
         * with that directory's Options (entry_visible), nothing above it is walked again. */
        st = wr.status;
        if (!st)
            st = dirent ? 0 : check_symlinks(r);
        if (!st)
            st = check_hidden(r, walked, wl);
        if (st) {
            /* Apache's walk stops before it merges a section: the server's config answers. */
            r->dir = r->vhost->dir;
            r->sections = 0;
            return st;
        }
    }
    pt_expr_if_walk(r); /* <If> sections merge after all others */
    if (!lookup)
        apply_setenvif(r, r->dir, false);
    /* Apache runs authorization again after an internal redirect, or in a subrequest, only
     * when the config differs from the request before (AP_AUTH_INTERNAL_PER_CONF): an
     * ErrorDocument with the denied file's sections is sent. */
    bool authorized_before = r->prev_sections && r->prev_sections == r->sections;
    /* A ProxyPass'd request: the <Proxy> sections of the URL it goes to (mod_proxy's walk):
     * their Order/Allow/Deny set goes to the access phase, their Require after it. */
    const char *purl = NULL;
    const struct pt_access_compat *pcompat = NULL;
    const pt_require_t *prq = !authorized_before && r->backend && r->cfg->proxy_require
                                  ? r->cfg->proxy_require(r->arena, r->cfg, r->backend,
                                                          r->backend_path, &purl, &pcompat)
                                  : NULL;
    if (!authorized_before) {
        /* Order/Allow/Deny, Require, Satisfy and authentication (authz.c). */
        st = pt_authz_request(r, pt_request_client_addr(r), pcompat);
        if (st)
            return st;
    }
    if (prq && pt_require_eval(prq, pt_request_client_addr(r), r->method, &r->env) !=
                   PT_AUTHZ_GRANTED) {
        pt_log_rerror(PT_LOG_ERR, r, "AH01630: client denied by server configuration: %s",
                      purl);
        return 403;
    }
    /* The sections' Redirects are mod_alias's fixup, after the access checks: a file a section
     * redirects and denies is 403 (401 behind a password). A lookup (mod_dir's, mod_autoindex's)
     * meets them here, its last phase; a request after mod_rewrite's per-directory rules
     * (pt_request_route_begin). */
    return lookup ? pt_redirects_check_sections(r) : 0;
}

/* dst as a table of its own with src's entries: what a lookup writes to it (a header rule,
 * +FakeBasicAuth, SetEnvIf) stays out of src, whose entry array it would share. */
static void table_copy(pt_table_t *dst, const pt_table_t *src, pt_arena_t *a)
{
    pt_table_init(dst, a, src->n + 4);
    pt_table_add_all(dst, src);
}

int pt_request_lookup(pt_request_t *r, const char *uri, pt_lookup_kind_t kind)
{
    bool dirent = kind == PT_LOOKUP_DIRENT;
    /* As Apache's subrequest: copies of the request's fields and environment, in an arena
     * that goes with the lookup (autoindex makes one lookup per entry, up to
     * LISTING_MAX_ENTRIES of them, and a client may send a hundred fields). */
    pt_arena_t *own = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    if (!own)
        return 500;
    pt_request_t sub = *r;
    table_copy(&sub.headers_in, &r->headers_in, own);
    table_copy(&sub.env, &r->env, own);
    sub.uri = uri;
    sub.method = "GET";
    sub.method_id = PT_METHOD_GET;
    sub.walked_dir = walked_dir_of(r);
    sub.prev_sections = r->sections;
    sub.sections = 0;
    if (dirent)
        sub.args = NULL;
    pt_table_init(&sub.err_headers_out, r->arena, 4);
    int st = route_map(&sub, true, dirent);
    /* mod_dir copies a redirect's headers to the request it answers with it; mod_rewrite's
     * -U and mod_autoindex read the status alone. */
    const char *loc = pt_table_get(&sub.err_headers_out, "Location");
    if (kind == PT_LOOKUP_INDEX && st >= 300 && st < 400 && loc)
        pt_table_set(&r->err_headers_out, "Location", loc);
    pt_arena_destroy(own);
    return st;
}

static int redirect(pt_request_t *r, const char *uri, bool fast);

/* An internal redirect whose handler is chosen and not run (a per-directory RewriteRule's
 * local result, mod_dir's move when fast): the new URL is routed with r->route_defer set,
 * and the handler comes back in r->route_handler, to *h. */
static int route_deferred(pt_request_t *r, const char *uri, bool fast, const pt_handler_t **h)
{
    bool defer = r->route_defer;
    r->route_defer = true;
    r->route_handler = NULL;
    int st = redirect(r, uri, fast);
    r->route_defer = defer;
    *h = st ? NULL : r->route_handler;
    return st;
}

/* Whether mod_dir may move r after its fixups: a FallbackResource for a missing file, or a
 * DirectoryIndex for a directory (static.c, the FastCGI gateway, the module API). */
static bool may_move(const pt_request_t *r)
{
    const char *fb = r->dir->fallback;
    return (fb && fb[0]) || (r->finfo_valid && S_ISDIR(r->finfo.st_mode));
}

/* mod_headers' fixup: the RequestHeader rules of r's config. Apache runs it for each request
 * of an internal redirect on the header fields they share (an "append" twice), and after
 * mod_dir's fixup, whose move (FallbackResource, DirectoryIndex) gives the request the
 * config of the file it moves to: that file's rules run, the request's own never do. So the
 * fields before the rules are kept for a move, only where one may follow (a copy of the
 * table: not for a proxied request, say). */
static void apply_request_headers(pt_request_t *r)
{
    if (r->moving && r->headers_in_unfixed) {
        r->headers_in.n = 0;
        pt_table_add_all(&r->headers_in, r->headers_in_unfixed);
        r->xfp_by_rule = r->xfp_unfixed;
    } else if (!r->moving) {
        r->headers_in_unfixed = NULL;
    }
    if (!r->dir->nreq_headers)
        return;
    if (!r->moving && may_move(r)) {
        pt_table_t *t = pt_arena_alloc(r->arena, sizeof(*t));
        pt_table_init(t, r->arena, r->headers_in.n);
        pt_table_add_all(t, &r->headers_in);
        r->headers_in_unfixed = t;
        r->xfp_unfixed = r->xfp_by_rule;
    }
    if (pt_header_rules_apply(r->dir->req_headers, r->dir->nreq_headers, false, false,
                              &r->headers_in, r, "X-Forwarded-Proto"))
        r->xfp_by_rule = true;
}

/* The phases before the handler (request.h). */
int pt_request_route_begin(pt_request_t *r, const pt_handler_t **h)
{
    *h = NULL;
    int st = route_map(r, false, false);
    if (st)
        return st;
    /* Apache's fixups: mod_rewrite's first (its [R] or [F] answers), then mod_alias's, whose
     * section Redirect of the URL as requested wins over the rewrite's internal redirect. */
    const char *again = NULL;
    st = phases && phases->fixup ? phases->fixup(r, &again) : 0;
    if (!st)
        st = pt_redirects_check_sections(r);
    if (st)
        return st;
    /* mod_env's fixup, then mod_headers' (the last): RequestHeader sees SetEnv's variables,
     * and the phases before it (access, RewriteCond %{HTTP:...}) the fields as sent. Both
     * run before a local rewrite's redirect routes the new URL (as Apache's, whose
     * redirect handler comes after the fixups), and again for the new URL. */
    apply_setenv(r, r->dir);
    apply_request_headers(r);
    if (again)
        return route_deferred(r, again, false, h);
    pt_auth_basic_fake(r); /* mod_auth_basic's fixup (AuthBasicFake) */
    const pt_handler_t *hh = choose_handler(r);
    if (r->filename) {
        /* ModMimeUsePathInfo On: the name with its path info is what mod_mime reads. */
        const char *mime_name = r->dir->core.mime_use_path_info == 2 && r->path_info
                                    ? pt_arena_printf(r->arena, "%s%s", r->filename,
                                                      r->path_info)
                                    : r->filename;
        r->content_type = pt_mime_type_for(r->arena, r->cfg->mime, r->dir, mime_name);
        /* mod_mime's languages describe the file: a script or backend says its own. */
        const char *lang = hh == r->cfg->default_handler
                               ? pt_mime_languages(r->arena, r->dir, r->filename)
                               : NULL;
        if (lang)
            pt_table_set(&r->headers_out, "Content-Language", lang);
    }
    st = phases && phases->handler ? phases->handler(r, &hh) : 0;
    if (st == 0)
        *h = hh;
    return st;
}

/* A backend or a module may change files: what this request walks after it (a local
 * redirect, an ErrorDocument) is looked at again (walk.h). */
static int run_handler(pt_request_t *r, const pt_handler_t *h)
{
    if (h->run != r->cfg->default_handler->run) {
        pt_walk_memo_end();
        /* A handler that may wait for a backend: the transport's held bytes (a TLS 1.3
         * connection's tickets, held for the first answer) do not wait with it. */
        if (r->conn)
            pt_conn_flush(r->conn);
    }
    return h->run(r);
}

/* Maps r->uri to a file, merges the per-directory config, checks access, and runs the
 * handler (or, within pt_request_route_begin's fixup, leaves it to that caller). Returns
 * PT_DONE or a status for an error page. */
int pt_request_route(pt_request_t *r)
{
    const pt_handler_t *h = NULL;
    r->route_depth++;
    int st = pt_request_route_begin(r, &h);
    if (st == 0 && h && r->route_defer)
        r->route_handler = h;
    else if (st == 0 && h)
        st = run_handler(r, h);
    r->route_depth--;
    return st;
}

int pt_request_lookup_redirect(pt_request_t *r, const char *uri)
{
    const char *before_uri = r->uri, *before_filename = r->filename;
    const char *before_walked = r->walked, *before_walked_dir = r->walked_dir;
    const pt_dir_config_t *before_dir = r->dir;
    uint64_t before_sections = r->sections, before_prev = r->prev_sections;
    const pt_handler_t *h = NULL;
    int st = route_deferred(r, uri, true, &h);
    if (st > 0) {
        /* Its phases answered (a Redirect, a refusal, a missing file): as mod_dir's answer
         * with the subrequest's status, the request as it was answers, with its config (its
         * Header always rules, its ErrorDocument); a redirect's Location stays. Its walk
         * too: an ErrorDocument's access check compares the document's sections with the
         * request's, not the subrequest's (differential seed 25015). */
        r->uri = before_uri;
        r->filename = before_filename;
        r->dir = before_dir;
        r->walked = before_walked;
        r->walked_dir = before_walked_dir;
        r->sections = before_sections;
        r->prev_sections = before_prev;
        return st;
    }
    if (st < 0 || !h)
        return st;
    r->route_depth++; /* (run as a redirect's handler: it does not park the request) */
    st = run_handler(r, h);
    r->route_depth--;
    return st;
}

bool pt_request_may_suspend(const pt_request_t *r)
{
    return r->may_suspend && r->route_depth == 1;
}

int pt_request_suspend(pt_request_t *r, const pt_suspend_t *s)
{
    r->suspend = pt_arena_alloc(r->arena, sizeof(*s));
    *r->suspend = *s;
    return PT_SUSPENDED;
}

/* A new routing of r for uri. Apache's internal redirect makes a new request whose r->prev
 * is the old one (REDIRECT_URL); mod_dir's move (fast: ap_internal_fast_redirect) copies
 * its subrequest's result into the request, which has no r->prev for it. */
static int redirect(pt_request_t *r, const char *uri, bool fast)
{
    if (++r->redirects > PT_MAX_INTERNAL_REDIRECTS) {
        pt_log_rerror(PT_LOG_ERR, r,
                      "request exceeded the limit of %d internal redirects (last: %s)",
                      PT_MAX_INTERNAL_REDIRECTS, uri);
        r->keepalive = false; /* Apache's 500 ends the connection (ap_status_drops_connection) */
        return 500;
    }
    if (!fast)
        pt_request_keep_original(r, 200);
    const char *q = strchr(uri, '?');
    const char *path = uri;
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    if (q)
        r->args = pt_arena_strdup(r->arena, q + 1);
    const char *norm;
    int st = pt_uri_normalize(r->arena, path, plen, &norm);
    if (st)
        return st;
    r->walked_dir = walked_dir_of(r);
    r->prev_sections = r->sections;
    r->sections = 0;
    r->redirect_from = r->uri;
    if (!fast)
        r->prev_uri = r->uri;
    r->uri = norm;
    r->handler = NULL;
    r->content_type = NULL;
    bool moving = r->moving;
    r->moving = fast;
    st = pt_request_route(r);
    r->moving = moving;
    return st;
}

int pt_request_internal_redirect(pt_request_t *r, const char *uri)
{
    return redirect(r, uri, false);
}

void pt_request_keep_original(pt_request_t *r, int status)
{
    if (r->orig.uri)
        return;
    r->orig.uri = r->uri;
    r->orig.args = r->args;
    r->orig.method = r->method;
    r->orig.filename = r->filename;
    r->orig.handler = r->handler;
    r->orig.status = status;
}
