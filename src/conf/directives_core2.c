/* Per-directory directives of Apache's core, mod_dir, mod_authz_core and mod_auth_basic that
 * directives_dir.c does not hold: FileETag, AcceptPathInfo, DirectorySlash,
 * DirectoryIndexRedirect, AuthMerging, AuthzSendForbiddenOnFailure, AuthBasicAuthoritative,
 * AuthBasicFake, QualifyRedirectURL, CGIPassAuth (pt_dir_config_t.core); and the
 * server-level MergeSlashes, StrictHostCheck, HttpProtocolOptions (pt_vhost_t.core),
 * MergeTrailers and Protocol. The request floor reads them. */
#include "directives.h"

#include "expr_parse.h"

#include <stdlib.h>

/* 0 unset, 1 Off, 2 On: the tri-state the core fields use. */
static int set_flag(dcx_t *l, const pt_node_t *n, int *field)
{
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    *field = on ? 2 : 1;
    return 0;
}

static unsigned etag_keyword(const char *w)
{
    static const struct {
        const char *name;
        unsigned bit;
    } words[] = {
        {"None", PT_FETAG_NONE},     {"All", PT_FETAG_ALL},     {"Size", PT_FETAG_SIZE},
        {"MTime", PT_FETAG_MTIME},   {"LMTime", PT_FETAG_MTIME},
        {"LastModified", PT_FETAG_MTIME}, {"INode", PT_FETAG_INODE},
        {"Digest", PT_FETAG_DIGEST},
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(words); i++)
        if (strcasecmp(w, words[i].name) == 0)
            return words[i].bit;
    return 0;
}

/* Apache's set_etag_bits: an absolute keyword forgets what was inherited and any relative
 * ones before it; +X/-X adjust the inherited set. */
static int set_file_etag(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_core_dir_t *c = &s->dc->core;
    bool first = true;
    for (int i = 0; i < n->argc; i++) {
        const char *w = n->argv[i];
        char action = (w[0] == '+' || w[0] == '-') ? w[0] : 0;
        w += action != 0;
        unsigned bit = etag_keyword(w);
        if (!bit)
            return pt_dcx_fail(l, n, "Unknown keyword '%s' for FileETag directive", w);
        bool absolute_only = bit == PT_FETAG_NONE || bit == PT_FETAG_ALL;
        if (absolute_only && action)
            return pt_dcx_fail(l, n, "FileETag keyword '%s' cannot be used with '+' or '-'", w);
        if (action == '+') {
            c->etag_add |= bit;
            c->etag_remove &= ~bit;
        } else if (action == '-') {
            c->etag_remove |= bit;
            c->etag_add &= ~bit;
        } else {
            if (first)
                c->etag_bits = 0;
            first = false;
            c->etag_bits |= bit;
            c->etag_add = c->etag_remove = 0;
        }
    }
    return 0; /* "None Size" stays None: Apache sends no ETag when the None bit is set */
}

static int set_accept_path_info(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const char *const words[] = {"off", "on", "default"};
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(n->argv[0], words[i]) == 0) {
            s->dc->core.accept_path_info = i + 1;
            return 0;
        }
    }
    return pt_dcx_fail(l, n, "AcceptPathInfo must be set to on, off or default");
}

static int set_directory_slash(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &s->dc->core.dir_slash);
}

/* mod_dir's DirectoryIndexRedirect: on (302), off, permanent, temp, seeother, or a 3xx. */
static int set_index_redirect(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const struct {
        const char *word;
        int status;
    } words[] = {{"on", 302}, {"off", -1}, {"permanent", 301}, {"temp", 302},
                 {"seeother", 303}};
    const char *a = n->argv[0];
    for (size_t i = 0; i < PT_ARRAY_LEN(words); i++) {
        if (strcasecmp(a, words[i].word) == 0) {
            s->dc->core.index_redirect = words[i].status;
            return 0;
        }
    }
    char *end;
    long v = strtol(a, &end, 10);
    if (*a && !*end && v >= 300 && v <= 399) {
        s->dc->core.index_redirect = (int)v;
        return 0;
    }
    return pt_dcx_fail(l, n, "DirectoryIndexRedirect: '%s' is not on, off, permanent, temp, "
                             "seeother or a 3xx status", a);
}

static int set_auth_merging(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const char *const words[] = {"off", "and", "or"};
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(n->argv[0], words[i]) == 0) {
            s->dc->core.auth_merging = i + 1;
            return 0;
        }
    }
    return pt_dcx_fail(l, n, "AuthMerging must be one of: Off | And | Or");
}

static int set_forbidden_on_fail(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &s->dc->core.forbidden_on_fail);
}

static int set_basic_authoritative(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &s->dc->core.basic_authoritative);
}

/* AuthBasicFake off | username [password]: string expressions, as mod_auth_basic's. */
static int set_basic_fake(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_core_dir_t *c = &s->dc->core;
    if (n->argc == 1 && strcasecmp(n->argv[0], "off") == 0) {
        c->basic_fake = 1;
        c->basic_fake_user = c->basic_fake_pass = NULL;
        return 0;
    }
    c->basic_fake_user = pt_dcx_expr(l, n, "AuthBasicFake", n->argv[0], PT_EXPR_STRING);
    if (!c->basic_fake_user)
        return -1;
    c->basic_fake_pass = pt_dcx_expr(l, n, "AuthBasicFake", n->argc > 1 ? n->argv[1] : "password",
                                     PT_EXPR_STRING);
    if (!c->basic_fake_pass)
        return -1;
    c->basic_fake = 2;
    return 0;
}

static int set_qualify_redirect_url(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &s->dc->core.qualify_redirect_url);
}

static int set_cgi_pass_auth(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &s->dc->core.cgi_pass_auth);
}

/* mod_alias's RedirectRelative: a "/path" target is sent as written instead of made
 * absolute (a target that is neither a URL nor a path stays an error, AH00674). */
static int set_redirect_relative(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &s->dc->core.redirect_relative);
}

/* ScriptAliasMatch regex directory: as ScriptAlias (directives_alias.c), the mapping and a
 * 403 for every URL it maps, since portico runs no CGI and would otherwise serve the
 * scripts' source. */
static int set_script_alias_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_alias_t *al = pt_dcx_push(l->a, &s->vh->aliases_map, &s->vh->naliases_map, sizeof(*al));
    al->regex = true;
    al->from = n->argv[0];
    al->to = n->argv[1];
    if (!(al->re = pt_dcx_regex(l, n, al->from, 0)))
        return -1;
    pt_redirect_t *deny = pt_dcx_push(l->a, &s->vh->redirects, &s->vh->nredirects, sizeof(*deny));
    deny->status = 403;
    deny->path = al->from;
    deny->re = al->re;
    pt_dcx_note(l, n, n->name, "ScriptAliasMatch %s: portico runs no CGI; every URL it maps "
                               "is answered 403 (run the scripts behind FastCGI or an HTTP "
                               "upstream)", n->argv[0]);
    return 0;
}

/* AliasPreservePath: for the one-argument Alias inside <Location>, map the rest of the path
 * below the target (On) rather than the whole location to the target itself (Off). */
static int set_alias_preserve_path(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &s->dc->core.alias_preserve_path);
}

static int set_content_digest(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &s->dc->core.content_digest);
}

static int set_mime_use_path_info(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &s->dc->core.mime_use_path_info);
}

/* CGIVar REQUEST_URI original-uri|current-uri (core, 2.4.21); Apache knows no other
 * variable. */
static int set_cgi_var(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (strcmp(n->argv[0], "REQUEST_URI") != 0)
        return pt_dcx_fail(l, n, "Unrecognized CGI variable: \"%s\"", n->argv[0]);
    if (strcmp(n->argv[1], "original-uri") == 0)
        s->dc->core.cgi_current_uri = 1;
    else if (strcmp(n->argv[1], "current-uri") == 0)
        s->dc->core.cgi_current_uri = 2;
    else
        return pt_dcx_fail(l, n, "Unrecognized value for CGIVar REQUEST_URI: \"%s\"",
                           n->argv[1]);
    return 0;
}

/* mod_env's PassEnv: the server's environment variable, read now, as SetEnv would set it
 * (Apache warns about an undefined one, AH01506, and passes nothing). */
static int set_pass_env(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    for (int i = 0; i < n->argc; i++) {
        const char *v = getenv(n->argv[i]);
        if (!v) {
            pt_dcx_note(l, n, NULL, "PassEnv variable %s was undefined (AH01506)",
                        n->argv[i]);
            continue;
        }
        pt_env_rule_t *e = pt_dcx_push(l->a, &s->dc->env, &s->dc->nenv, sizeof(*e));
        const char **vars = pt_arena_alloc(l->a, sizeof(*vars));
        vars[0] = pt_arena_printf(l->a, "%s=%s", n->argv[i], v);
        e->kind = PT_ENV_SET;
        e->vars = vars;
        e->nvars = 1;
    }
    return 0;
}

/* ---- Server-level ---------------------------------------------------------------------- */

static int set_merge_slashes(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_flag(l, n, &s->vh->core.merge_slashes);
}

static int set_strict_host_check(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (set_flag(l, n, &s->vh->core.strict_host_check) < 0)
        return -1;
    if (s->vh->core.strict_host_check == 2)
        l->cfg->strict_host_check = true;
    return 0;
}

/* HttpProtocolOptions [Strict|Unsafe] [RegisteredMethods|LenientMethods]
 * [Allow0.9|Require1.0]: portico's HTTP/1 parser is always what Apache calls Strict and
 * Require1.0, so the words that would loosen it are refused with the reason. */
static int set_http_protocol_options(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    for (int i = 0; i < n->argc; i++) {
        const char *w = n->argv[i];
        if (strcasecmp(w, "Strict") == 0 || strcasecmp(w, "Require1.0") == 0)
            continue;
        if (strcasecmp(w, "RegisteredMethods") == 0)
            s->vh->core.registered_methods = 2;
        else if (strcasecmp(w, "LenientMethods") == 0)
            s->vh->core.registered_methods = 1;
        else if (strcasecmp(w, "Unsafe") == 0)
            return pt_dcx_fail(l, n, "HttpProtocolOptions Unsafe is not supported: portico's "
                                     "HTTP/1 parser always applies RFC 9112's rules (Apache's "
                                     "Strict); a request it refuses gets 400");
        else if (strcasecmp(w, "Allow0.9") == 0)
            return pt_dcx_fail(l, n, "HttpProtocolOptions Allow0.9 is not supported: portico "
                                     "does not speak HTTP/0.9 (Apache's default Require1.0)");
        else
            return pt_dcx_fail(l, n, "HttpProtocolOptions does not support %s", w);
    }
    return 0;
}

/* MergeTrailers: portico's handlers send a request's header fields on (to php-fpm, to an
 * upstream) before its body, so trailer fields merged after the body would reach none of
 * them; they stay apart from the header fields (HTTP/2 keeps them for LogFormat's
 * %{NAME}^ti, HTTP/1's chunked decoder discards them), as with Apache's default Off. */
static int set_merge_trailers(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    if (on)
        pt_dcx_note(l, n, n->name,
                    "MergeTrailers On has no effect: portico's handlers pass a request's "
                    "header fields on before its body, so merged trailer fields would reach "
                    "none of them (trailer fields stay apart, as with Off)");
    return 0;
}

/* Protocol names what a server's listeners speak: Apache uses it for its accept filter and,
 * for "https", to switch mod_ssl on when SSLEngine is not set. */
static int set_protocol(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (strcasecmp(n->argv[0], "http") == 0) {
        pt_dcx_note(l, n, n->name, "Protocol http has no effect: it names Apache's accept "
                                   "filter, which portico does not use");
        return 0;
    }
    if (strcasecmp(n->argv[0], "https") == 0)
        return pt_dcx_fail(l, n, "Protocol https: write \"SSLEngine on\" in the virtual host "
                                 "(or \"Listen PORT https\"), which is how portico turns TLS "
                                 "on");
    return pt_dcx_fail(l, n, "Protocol %s: portico's listeners speak http or https", n->argv[0]);
}

const dcx_directive_t pt_dcx_core2_table[] = {
    {"RedirectRelative", ALL, 1, 1, set_redirect_relative},
    {"ScriptAliasMatch", SRV, 2, 2, set_script_alias_match},
    {"AliasPreservePath", ALL, 1, 1, set_alias_preserve_path},
    {"ContentDigest", ALL, 1, 1, set_content_digest},
    {"ModMimeUsePathInfo", W_SECTIONS, 1, 1, set_mime_use_path_info},
    {"CGIVar", ALL, 2, 2, set_cgi_var},
    {"PassEnv", ALL, 1, NOMAX, set_pass_env},
    {"MergeSlashes", SRV, 1, 1, set_merge_slashes},
    {"StrictHostCheck", SRV, 1, 1, set_strict_host_check},
    {"HttpProtocolOptions", SRV, 1, NOMAX, set_http_protocol_options},
    {"MergeTrailers", SRV, 1, 1, set_merge_trailers},
    {"Protocol", SRV, 1, 1, set_protocol},
    {"FileETag", ALL, 0, NOMAX, set_file_etag},
    {"AcceptPathInfo", ALL, 1, 1, set_accept_path_info},
    {"DirectorySlash", ALL, 1, 1, set_directory_slash},
    {"DirectoryIndexRedirect", ALL, 1, 1, set_index_redirect},
    {"AuthMerging", W_SECTIONS, 1, 1, set_auth_merging},
    {"AuthzSendForbiddenOnFailure", W_SECTIONS, 1, 1, set_forbidden_on_fail},
    {"AuthBasicAuthoritative", W_SECTIONS, 1, 1, set_basic_authoritative},
    {"AuthBasicFake", W_SECTIONS, 1, 2, set_basic_fake},
    {"QualifyRedirectURL", ALL, 1, 1, set_qualify_redirect_url},
    {"CGIPassAuth", W_SECTIONS, 1, 1, set_cgi_pass_auth},
    {NULL, 0, 0, 0, NULL},
};
