/* mod_alias's directives and ErrorDocument: Alias, AliasMatch and ScriptAlias (URL to file
 * mapping, per host), Redirect and its forms, RedirectMatch (per host or per section), as
 * request.c applies them. directives.c calls these through pt_dcx_alias_table. */
#include "directives.h"

#include <ctype.h>
#include <stdlib.h>

static int add_alias(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, bool regex)
{
    pt_alias_t *al = pt_dcx_push(l->a, &s->vh->aliases_map, &s->vh->naliases_map, sizeof(*al));
    al->regex = regex;
    al->from = n->argv[0];
    al->to = n->argv[1];
    if (regex && !(al->re = pt_dcx_regex(l, n, al->from, 0)))
        return -1;
    return 0;
}

/* Alias inside <Location path> takes one argument, the target of the whole location
 * (mod_alias 2.4.13); AliasPreservePath says whether the rest of the path follows. */
static int set_location_alias(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const pt_section_t *sec = s->sec;
    if (n->argc != 1)
        return pt_dcx_fail(l, n, "Alias inside <Location> takes one argument, the path the "
                                 "location maps to");
    if (!sec || sec->kind != PT_SEC_LOCATION || strpbrk(sec->pattern, "*?["))
        return pt_dcx_fail(l, n, "Alias with one argument is supported in a <Location path> "
                                 "section only (not <LocationMatch> or wildcards)");
    pt_alias_t *al = pt_dcx_push(l->a, &s->vh->aliases_map, &s->vh->naliases_map, sizeof(*al));
    al->from = sec->pattern;
    al->to = n->argv[0];
    al->location = s->dc;
    return 0;
}

static int set_alias(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (s->where == W_LOC)
        return set_location_alias(l, s, n);
    if (n->argc != 2)
        return pt_dcx_fail(l, n, "Alias takes two arguments, a fakename and a realname");
    return add_alias(l, s, n, false);
}

static int set_alias_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_alias(l, s, n, true);
}

static void store_redirect(dcx_t *l, dcx_scope_t *s, const pt_redirect_t *r);

/* ScriptAlias URL-path directory: the mapping is kept as an Alias, but CGI execution is not
 * built and an unknown handler is served as a static file, so nothing under the URL-path is
 * served: the scripts' source would be. A 403 rule on the same prefix, checked before
 * mapping like a server-level Redirect, answers instead. */
static int set_script_alias(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (add_alias(l, s, n, false) < 0)
        return -1;
    pt_redirect_t deny = {.status = 403, .path = n->argv[0]};
    store_redirect(l, s, &deny);
    return 0;
}

/* "scheme:..." as Apache's ap_is_url: a letter, then letters, digits, '+', '-' or '.'. */
static bool is_url(const char *u)
{
    if (!isalpha((unsigned char)u[0]))
        return false;
    size_t n = 1 + strspn(u + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789+-.");
    return u[n] == ':';
}

/* Redirect's first word as mod_alias reads it: a status name, or any word that starts with a
 * digit, read as atoi reads it ("3xx" is 3, "200" a status Apache takes too). -1: not a
 * status, so the word is the URL-path (or a section's target). */
static int redirect_word_status(const char *w)
{
    static const struct {
        const char *name;
        int status;
    } t[] = {{"permanent", 301}, {"temp", 302}, {"seeother", 303}, {"gone", 410}};
    for (size_t i = 0; i < PT_ARRAY_LEN(t); i++)
        if (strcasecmp(w, t[i].name) == 0)
            return t[i].status;
    if (!isdigit((unsigned char)w[0]))
        return -1;
    long v = strtol(w, NULL, 10);
    return v > PT_REDIRECT_STATUS_MAX ? PT_REDIRECT_STATUS_MAX : (int)v;
}

/* RedirectMatch's status word: a name, or three digits; 0 when it is neither. */
static int redirect_status(const char *w)
{
    if (!isdigit((unsigned char)w[0])) {
        int named = redirect_word_status(w);
        return named < 0 ? 0 : named;
    }
    if (strspn(w, "0123456789") == strlen(w) && strlen(w) == 3)
        return atoi(w);
    return 0;
}

/* Server and vhost redirects are checked before the URL is mapped; a section's after. A
 * section has one one-argument Redirect, its last (mod_alias keeps it in a field of its own,
 * not in the list): a later one takes the earlier one's place. */
static void store_redirect(dcx_t *l, dcx_scope_t *s, const pt_redirect_t *r)
{
    bool server = s->where & (W_SERVER | W_VHOST);
    pt_redirect_t *slot = NULL;
    for (size_t i = 0; !server && !r->path && i < s->dc->nredirects && !slot; i++)
        if (!s->dc->redirects[i].path)
            slot = (pt_redirect_t *)&s->dc->redirects[i];
    if (!slot)
        slot = server ? pt_dcx_push(l->a, &s->vh->redirects, &s->vh->nredirects, sizeof(*slot))
                      : pt_dcx_push(l->a, &s->dc->redirects, &s->dc->nredirects, sizeof(*slot));
    *slot = *r;
}

/* Redirect [status] [URL-path] [URL], in the order mod_alias 2.4 decides. Inside a section (an
 * <If> or .htaccess too) three forms leave the path out and apply to the whole section: a 3xx
 * status and its URL, a status outside 3xx alone, or a URL alone (302). Their URL is not
 * checked here: Apache reads it as an expression and answers a non-URL with a 500 per
 * request. A <Location>'s, or an <If>'s outside <Directory> and <Files>, is checked before the
 * server's Redirects, as Apache's early location and <If> walks let it. Otherwise a 3xx needs
 * a URL that is one or a URL-path, and any other status takes none. */
static int add_redirect(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, int status)
{
    bool in_section = s->sec || (s->where & W_IF) || pt_dcx_in_htaccess(l);
    const char *a2 = n->argc > 1 ? n->argv[1] : NULL, *a3 = n->argc > 2 ? n->argv[2] : NULL;
    int named = redirect_word_status(n->argv[0]);
    bool grok = named >= 0;
    if (grok)
        status = named;
    if (a3 && !grok)
        return pt_dcx_fail(l, n, "%s: invalid first argument (of three)", n->name);
    bool is_3xx = status >= 300 && status < 400;
    pt_redirect_t r = {.status = status};
    if (in_section && !a3 && (grok ? (a2 != NULL) == is_3xx : !a2)) {
        r.url = grok ? a2 : n->argv[0];
    } else {
        r.path = grok ? a2 : n->argv[0];
        r.url = grok ? a3 : a2;
        if (is_3xx && !r.url)
            return pt_dcx_fail(l, n, "%s: URL to redirect to is missing", n->name);
        if (is_3xx && r.url[0] != '/' && !is_url(r.url))
            return pt_dcx_fail(l, n, "%s to non-URL '%s'", n->name, r.url);
        if (!is_3xx && r.url)
            return pt_dcx_fail(l, n, "%s URL not valid for this status", n->name);
        /* mod_alias takes a status alone at server level, with no path to match, and its
         * children then crash on every request (apache2 2.4.71: SIGSEGV). */
        if (!r.path)
            return pt_dcx_fail(l, n,
                               "%s: the URL-path is missing (a status alone is a "
                               "section's form)",
                               n->name);
    }
    if (!r.path && (!s->sec || s->sec->kind >= PT_SEC_LOCATION) && !pt_dcx_in_htaccess(l))
        s->vh->location_redirects = true;
    store_redirect(l, s, &r);
    return 0;
}

static int set_redirect(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_redirect(l, s, n, 302);
}

static int set_redirect_permanent(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_redirect(l, s, n, 301);
}

static int set_redirect_temp(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_redirect(l, s, n, 302);
}

/* RedirectMatch [status] regex [URL]: as mod_alias, a first argument that reads as a status
 * is one; the URL is required for 3xx and refused otherwise. The URL is not checked for a
 * scheme or a leading '/': it may be made of captures ($1) alone. */
static int set_redirect_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    int status = redirect_status(n->argv[0]);
    if (!status && n->argc == 3)
        return pt_dcx_fail(l, n, "RedirectMatch: unknown status '%s'", n->argv[0]);
    int i = status ? 1 : 0;
    if (!status)
        status = 302;
    if (status < 300 || status > 599)
        return pt_dcx_fail(l, n, "RedirectMatch: bad status %d", status);
    pt_redirect_t r = {.status = status, .path = n->argv[i]};
    r.url = i + 1 < n->argc ? n->argv[i + 1] : NULL;
    if (status < 400 && !r.url)
        return pt_dcx_fail(l, n, "RedirectMatch: URL to redirect to is missing");
    if (status >= 400 && r.url)
        return pt_dcx_fail(l, n, "RedirectMatch: a URL is not valid with status %d", status);
    if (!(r.re = pt_dcx_regex(l, n, r.path, 0)))
        return -1;
    store_redirect(l, s, &r);
    return 0;
}

static int set_error_document(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    long long code = 0;
    if (pt_dcx_long(l, n, n->argv[0], 400, 599, &code) < 0)
        return -1;
    pt_dir_config_t *dc = s->dc;
    for (size_t i = 0; i < dc->nerrordocs; i++) {
        if (dc->errordocs[i].status == code) {
            ((pt_errordoc_t *)dc->errordocs)[i].value = n->argv[1];
            return 0;
        }
    }
    pt_errordoc_t *e = pt_dcx_push(l->a, &dc->errordocs, &dc->nerrordocs, sizeof(*e));
    e->status = (int)code;
    e->value = n->argv[1];
    return 0;
}

const dcx_directive_t pt_dcx_alias_table[] = {
    {"Alias", SRV | W_LOC, 1, 2, set_alias},
    {"AliasMatch", SRV, 2, 2, set_alias_match},
    {"ScriptAlias", SRV, 2, 2, set_script_alias},
    {"Redirect", ALL, 1, 3, set_redirect},
    {"RedirectPermanent", ALL, 1, 2, set_redirect_permanent},
    {"RedirectTemp", ALL, 1, 2, set_redirect_temp},
    {"RedirectMatch", ALL, 2, 3, set_redirect_match},
    {"ErrorDocument", ALL, 2, 2, set_error_document},
    {NULL, 0, 0, 0, NULL},
};
