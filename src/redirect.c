/* mod_alias's Redirect and RedirectMatch on a request (redirect.h): whether one matches, the
 * Location it sends, the status it answers with. request.c decides when each list is
 * checked. */
#include "redirect.h"

#include "log.h"
#include "uri.h"

#include <ctype.h>
#include <string.h>

/* "scheme:..." as Apache's ap_is_url: a letter, then letters, digits, '+', '-' or '.'. */
static bool is_absolute_uri(const char *u)
{
    if (!isalpha((unsigned char)u[0]))
        return false;
    size_t n = 1 + strspn(u + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789+-.");
    return u[n] == ':';
}

/* The Location of a redirect, as mod_alias: a URL-path target is made absolute with this
 * server's name and port (unless d's RedirectRelative is On), and the query follows unless
 * the target has one of its own. */
static const char *redirect_location(pt_request_t *r, const char *target, const pt_dir_config_t *d)
{
    bool relative = d && d->core.redirect_relative == 2;
    const char *loc = target[0] == '/' && !relative ? pt_request_construct_url(r, target) : target;
    if (r->args && !strchr(target, '?'))
        loc = pt_arena_printf(r->arena, "%s?%s", loc, r->args);
    return loc;
}

/* The status a Redirect answers with. mod_alias takes any number for one (conf/), and
 * apache2 2.4.71 answers a 3xx, 4xx or 5xx as written; 200 to 203 as written too, with the
 * error text of its ap_die page; 0 is a translation with no file, 404. For the rest it sends
 * no sane answer (1xx and 204 a page, or nothing, under their status line) or a 500 (299),
 * closing the connection past 599 (AH01579): all 500 here. */
static int redirect_answer(pt_request_t *r, int status)
{
    if ((status >= 300 && status < 600) || (status >= 200 && status <= 203))
        return status;
    if (status == 0)
        return 404;
    if (status > 599) {
        pt_log_rerror(PT_LOG_ERR, r, "AH01579: Invalid response status %d", status);
        r->keepalive = false;
    }
    return 500;
}

/* One Redirect or RedirectMatch against r->uri: its status (Location set), or 0. A section's
 * one-argument Redirect (no path) matches every request the section applies to and sends
 * its target as written; a prefix one matches on segment boundaries and appends the rest
 * of the path. */
int pt_redirect_one(pt_request_t *r, const pt_redirect_t *rd, const pt_dir_config_t *d)
{
    const char *target = rd->url;
    if (rd->re) {
        pt_regmatch_t m[10];
        if (pt_regex_exec(rd->re, r->uri, 10, m, 0) != 0)
            return 0;
        if (target) {
            /* As mod_alias: the substituted target is read as a URL whose path (everything
             * before a '?' or '#', which a capture may bring) is escaped. */
            const char *t = pt_uri_regsub(r->arena, target, r->uri, m);
            size_t pathlen = strcspn(t, "?#");
            target = pt_arena_printf(
                r->arena, "%s%s",
                pt_uri_escape_path(r->arena, pt_arena_strndup(r->arena, t, pathlen)), t + pathlen);
        }
    } else if (rd->path) {
        size_t pl = strlen(rd->path);
        if (strncmp(r->uri, rd->path, pl) != 0)
            return 0;
        if (pl && rd->path[pl - 1] != '/' && r->uri[pl] != '\0' && r->uri[pl] != '/')
            return 0;
        if (target)
            target = pt_arena_printf(r->arena, "%s%s", target,
                                     pt_uri_escape_path(r->arena, r->uri + pl));
    }
    if (target && target[0] != '/' && !is_absolute_uri(target)) {
        /* RedirectMatch's captures, or a section's target, may make anything: Apache refuses
         * to send it, and its 500 ends the connection (ap_status_drops_connection). */
        pt_log_rerror(PT_LOG_ERR, r,
                      "AH00674: cannot redirect '%s' to '%s'; target is not a "
                      "valid absoluteURI or abs_path",
                      r->uri, target);
        r->keepalive = false;
        return 500;
    }
    if (target)
        pt_table_set(&r->err_headers_out, "Location", redirect_location(r, target, d));
    return redirect_answer(r, rd->status);
}

int pt_redirects_check(pt_request_t *r, const pt_redirect_t *rd, size_t n, const pt_dir_config_t *d)
{
    for (size_t i = 0; i < n; i++) {
        int st = pt_redirect_one(r, &rd[i], d);
        if (st)
            return st;
    }
    return 0;
}

/* A section's one-argument Redirect (one per section, conf/directives_alias.c): Apache
 * merges it inner over outer, so the innermost (the first in the merged list, whose inner
 * sections come first) wins, and it is checked before the sections' prefix ones. */
const pt_redirect_t *pt_redirect_whole_section(const pt_dir_config_t *d)
{
    for (size_t i = 0; i < d->nredirects; i++)
        if (!d->redirects[i].path)
            return &d->redirects[i];
    return NULL;
}

int pt_redirects_check_sections(pt_request_t *r)
{
    const pt_redirect_t *w = pt_redirect_whole_section(r->dir);
    return w ? pt_redirect_one(r, w, r->dir)
             : pt_redirects_check(r, r->dir->redirects, r->dir->nredirects, r->dir);
}
