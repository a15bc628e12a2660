/* mod_rewrite's two places in a request, as Apache's hook_uri2file and hook_fixup: the
 * server's rules before the URL is mapped (their result a file, a URL-path mapped again
 * [PT], a backend [P], a redirect or a status), and a <Directory>'s rules after the walk
 * (the directory prefix stripped from the file name and put back, RewriteBase, and a local
 * result served by an internal redirect, which the redirect bound stops from looping). */
#include "handler.h"
#include "log.h"
#include "module.h"
#include "rewrite_request.h"
#include "rewrite_vars.h"
#include "uri.h"

#include <sys/stat.h>

static void context(pt_rewrite_ctx_t *c, pt_request_t *r, const pt_rewrite_srv_t *sc)
{
    *c = (pt_rewrite_ctx_t){.a = r->arena, .ud = r, .var = pt_rewrite_var,
                            .setenv = pt_rewrite_setenv, .lookup = pt_rewrite_lookup,
                            .log = pt_rewrite_log, .expr = pt_rewrite_expr,
                            .args = r->args};
    if (sc) {
        c->maps = sc->maps;
        c->nmaps = sc->nmaps;
    }
}

/* What the rules forced besides the subject: Vary, T=, H=, END. */
static void keep_side_effects(pt_request_t *r, const pt_rewrite_ctx_t *c)
{
    if (c->vary)
        pt_table_merge(&r->headers_out, "Vary", c->vary);
    if (c->type)
        r->rewrite_type = c->type;
    if (c->handler)
        r->rewrite_handler = c->handler;
    if (c->end)
        r->rewrite_end = true;
}

/* An absolute URL result: the redirect, its path escaped unless NE, and the query after it
 * (escaped unless NE or unchanged), as Apache's hooks build it. */
static int send_redirect(pt_request_t *r, const pt_rewrite_ctx_t *c, const char *url)
{
    const char *loc = url;
    if (!c->noescape) {
        size_t skip = pt_rewrite_absolute_uri(url, NULL);
        const char *path = strchr(url + skip, '/');
        if (path)
            loc = pt_arena_printf(r->arena, "%.*s%s", (int)(path - url), url,
                                  pt_rewrite_escape_uri(r->arena, path));
    }
    if (c->args) {
        bool same = r->args && strcmp(c->args, r->args) == 0;
        loc = pt_arena_printf(r->arena, "%s?%s", loc,
                              c->noescape || same ? c->args
                                                  : pt_rewrite_escape_uri(r->arena, c->args));
    }
    pt_table_set(&r->err_headers_out, "Location", loc);
    r->rewrite_answered = true;
    return c->redirect && c->status >= 300 && c->status < 400 ? c->status : 302;
}

/* [P]: the rule's backend takes the request; the URL's path (after scheme://authority, which
 * must be the origin the backend was made for) is what it is sent. */
static int hand_to_proxy(pt_request_t *r, const pt_rewrite_ctx_t *c)
{
    const pt_backend_t *b = c->proxy;
    const char *url = c->filename;
    size_t skip = pt_rewrite_absolute_uri(url, NULL);
    const char *path = skip ? url + skip + strcspn(url + skip, "/") : NULL;
    if (!b || !path) {
        pt_log_rerror(PT_LOG_ERR, r, "mod_rewrite: proxy target '%s' is not a URL", url);
        return 500;
    }
    const char *want = strstr(b->url, "://"), *got = strstr(url, "://");
    size_t alen = (size_t)(path - got);
    if (!want || !got || strncasecmp(want, got, alen) != 0 ||
        (want[alen] && want[alen] != '/')) {
        pt_log_rerror(PT_LOG_ERR, r, "mod_rewrite: proxy target '%s' is not on the backend '%s' "
                      "its rule was loaded with", url, b->url + 6);
        return 500;
    }
    r->backend = b;
    r->backend_path = *path ? path : "/";
    r->proxy_pass = NULL;
    r->filename = NULL;
    r->args = c->args;
    return 0;
}

/* Apache's prefix_stat: a result whose first component exists at the file system root is a
 * file name; any other is below the DocumentRoot. */
static const char *local_file(pt_request_t *r, const char *path, size_t *root)
{
    size_t first = 1 + strcspn(path + 1, "/");
    struct stat st;
    const char *top = pt_arena_strndup(r->arena, path, first);
    const char *docroot = r->vhost->document_root;
    if ((first > 1 && stat(top, &st) == 0) || !docroot) {
        *root = 0;
        return pt_uri_canonical_file(r->arena, path);
    }
    *root = strlen(docroot);
    return pt_uri_canonical_file(r->arena, pt_arena_printf(r->arena, "%s%s", docroot, path));
}

static PT_NOINLINE int rewrite_server(pt_request_t *r, const pt_rewrite_srv_t *sc,
                                      bool lookup, bool *mapped)
{
    pt_rewrite_ctx_t c;
    context(&c, r, sc);
    c.filename = r->uri;
    c.subreq = lookup;
    int rc = pt_rewrite_apply(&c, sc->rules, sc->nrules);
    if (!lookup)
        keep_side_effects(r, &c);
    if (rc == PT_REWRITE_STATUS) {
        r->rewrite_answered = true;
        return c.status;
    }
    if (rc == PT_REWRITE_UNCHANGED)
        return 0;
    if (c.proxy_flag) {
        *mapped = true;
        return hand_to_proxy(r, &c);
    }
    if (pt_rewrite_absolute_uri(c.filename, NULL))
        return send_redirect(r, &c, c.filename);
    if (c.filename[0] != '/') {
        pt_log_rerror(PT_LOG_ERR, r, "mod_rewrite: '%s' is neither a URL-path nor a URL",
                      c.filename);
        return 400;
    }
    r->args = c.args;
    if (c.passthrough) {
        /* mapped again by Alias, ProxyPass, DocumentRoot; a capture cannot splice a ".." */
        r->uri = pt_uri_canonical_file(r->arena, c.filename);
        return 0;
    }
    r->filename = local_file(r, c.filename, &r->filename_root);
    *mapped = true;
    return 0;
}

int pt_rewrite_server(pt_request_t *r, bool lookup, bool *mapped)
{
    const pt_rewrite_srv_t *sc = r->vhost->rewrite;
    *mapped = false;
    if (!sc || sc->engine != 1 || !sc->nrules || r->rewrite_end)
        return 0;
    return rewrite_server(r, sc, lookup, mapped);
}

/* Apache's subst_prefix_path: input under dir (with its '/') gets base in its place. An
 * empty base (a redirect's, of RewriteBase /, without its slash: dir_redirect) takes the
 * prefix away and adds no '/', or the URL's path would begin with two. */
static const char *subst_prefix(pt_arena_t *a, const char *input, const char *dir,
                                const char *base)
{
    size_t dl = strlen(dir);
    if (dl && dir[dl - 1] == '/')
        dl--;
    if (strncmp(input, dir, dl) != 0 || input[dl] != '/')
        return input;
    size_t bl = strlen(base);
    return pt_arena_printf(a, "%s%s%s", base, !bl || base[bl - 1] == '/' ? "" : "/",
                           input + dl + 1);
}

/* A per-directory redirect: the directory in the URL's path replaced by RewriteBase, as
 * Apache's hook_fixup (without a base, the file system path stays, as there). */
static int dir_redirect(pt_request_t *r, const pt_rewrite_ctx_t *c, const pt_rewrite_dir_t *d)
{
    const char *url = c->filename;
    if (d->base) {
        size_t skip = pt_rewrite_absolute_uri(url, NULL);
        const char *path = strchr(url + skip, '/');
        if (path && path[1]) {
            const char *dir = d->directory[0] == '/' ? d->directory + 1 : d->directory;
            const char *rest = subst_prefix(r->arena, path + 1, dir, d->base + 1);
            url = pt_arena_printf(r->arena, "%.*s%s", (int)(path + 1 - url), url, rest);
        }
    }
    return send_redirect(r, c, url);
}

/* A local result: back to a URL-path (RewriteBase for the directory, else the DocumentRoot
 * taken off), which routing serves again from the start. */
static const char *dir_local_url(pt_request_t *r, const pt_rewrite_ctx_t *c,
                                 const pt_rewrite_dir_t *d)
{
    const char *f = c->filename;
    if (d->base) {
        f = subst_prefix(r->arena, f, d->directory, d->base);
    } else if (r->vhost->document_root) {
        const char *root = r->vhost->document_root;
        size_t rl = strlen(root);
        if (rl && root[rl - 1] == '/')
            rl--;
        if (strncmp(f, root, rl) == 0 && f[rl] == '/')
            f += rl;
    }
    r->args = c->args;
    return f;
}

static bool symlinks_allowed(const pt_request_t *r)
{
    return (r->dir_options & (PT_OPT_FOLLOW_SYMLINKS | PT_OPT_SYMLINKS_IF_OWNER)) != 0;
}

static PT_NOINLINE int rewrite_directory(pt_request_t *r, const pt_rewrite_dir_t *d,
                                         const char **again)
{
    if (!symlinks_allowed(r)) {
        /* As Apache (AH00670): rewriting could reach what the symlink rules keep out. */
        pt_log_rerror(PT_LOG_ERR, r, "AH00670: Options FollowSymLinks and "
                      "SymLinksIfOwnerMatch are both off, so the RewriteRule directive is also "
                      "forbidden due to its similar ability to circumvent directory "
                      "restrictions : %s", r->filename);
        return 403;
    }
    pt_rewrite_ctx_t c;
    context(&c, r, r->vhost->rewrite);
    const char *ofilename = r->filename;
    c.filename = r->filename;
    c.perdir = d->directory;
    c.path_info = r->path_info;
    if (r->finfo_valid) { /* the walk's stat of this file (pt_walk_stat) */
        c.known_path = r->filename;
        c.known_st = &r->finfo;
    }
    int rc = pt_rewrite_apply(&c, d->rules, d->nrules);
    keep_side_effects(r, &c);
    if (rc == PT_REWRITE_STATUS) {
        r->rewrite_answered = true;
        return c.status;
    }
    if (rc == PT_REWRITE_UNCHANGED)
        return 0;
    if (c.proxy_flag)
        return hand_to_proxy(r, &c);
    if (pt_rewrite_absolute_uri(c.filename, NULL))
        return dir_redirect(r, &c, d);
    if (c.filename[0] != '/')
        return 400;
    /* Apache: "initial URL equal rewritten URL" ends the rewriting rather than loop. */
    if (strcmp(c.filename, ofilename) == 0) {
        r->args = c.args;
        return 0;
    }
    *again = dir_local_url(r, &c, d);
    return 0;
}

int pt_rewrite_directory(pt_request_t *r, const char **again)
{
    const pt_rewrite_dir_t *d = &r->dir->rewrite;
    *again = NULL;
    if (!d->directory || d->engine != 1 || !d->nrules || !r->filename || r->rewrite_end)
        return 0;
    return rewrite_directory(r, d, again);
}

/* T= and H= once the handler and type are chosen (Apache's hook_mimetype and its handler
 * note). An H= name no part of portico serves answers 500. */
static PT_NOINLINE int rewrite_fixup(pt_request_t *r, const struct pt_handler **h)
{
    const pt_handler_t *forced = NULL;
    if (strncasecmp(r->rewrite_handler, "proxy:", 6) == 0) {
        for (size_t i = 0; i < r->cfg->nbackends && !forced; i++) {
            if (strcmp(r->cfg->backends[i]->url, r->rewrite_handler) == 0) {
                r->backend = r->cfg->backends[i];
                forced = r->backend->handler;
            }
        }
    } else {
        forced = pt_handler_find(r->rewrite_handler);
        if (!forced)
            forced = pt_module_handler_find(r->cfg, r->rewrite_handler);
    }
    if (!forced) {
        pt_log_rerror(PT_LOG_ERR, r, "mod_rewrite: no handler is named '%s' (H=)",
                      r->rewrite_handler);
        return 500;
    }
    *h = forced;
    r->handler = r->rewrite_handler;
    return 0;
}

int pt_rewrite_fixup(pt_request_t *r, const struct pt_handler **h)
{
    if (r->rewrite_type)
        r->content_type = r->rewrite_type;
    return r->rewrite_handler ? rewrite_fixup(r, h) : 0;
}

const pt_request_phases_t pt_rewrite_phases = {
    .translate = pt_rewrite_server,
    .fixup = pt_rewrite_directory,
    .handler = pt_rewrite_fixup,
};
