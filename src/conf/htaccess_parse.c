/* .htaccess files as Apache reads them: the parser's language without Include or Define,
 * walked in <Directory> context against a scratch configuration, each directive admitted by
 * its AllowOverride class (the "Override:" line of Apache's documentation; a loaded
 * module's directive says its own, W_OVR_SHIFT) or by AllowOverrideList. */
#include "htaccess_parse.h"

#include "directives.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANY PT_OVR_ALL

/* Apache 2.4's override class of each directive portico knows that .htaccess may hold.
 * Sorted by name (case-insensitive) for bsearch. */
static const struct ovr_class {
    const char *name;
    unsigned cls;
} classes[] = {
    {"<Else", ANY},
    {"<ElseIf", ANY},
    {"<Files", ANY},
    {"<FilesMatch", ANY},
    {"<If", ANY},
    {"<Limit", ANY},
    {"<LimitExcept", ANY},
    {"<RequireAll", PT_OVR_AUTHCFG},
    {"<RequireAny", PT_OVR_AUTHCFG},
    {"<RequireNone", PT_OVR_AUTHCFG},
    {"AcceptPathInfo", PT_OVR_FILEINFO},
    {"Action", PT_OVR_FILEINFO},
    {"AddAlt", PT_OVR_INDEXES},
    {"AddAltByEncoding", PT_OVR_INDEXES},
    {"AddAltByType", PT_OVR_INDEXES},
    {"AddCharset", PT_OVR_FILEINFO},
    {"AddDefaultCharset", PT_OVR_FILEINFO},
    {"AddDescription", PT_OVR_INDEXES},
    {"AddEncoding", PT_OVR_FILEINFO},
    {"AddHandler", PT_OVR_FILEINFO},
    {"AddIcon", PT_OVR_INDEXES},
    {"AddIconByEncoding", PT_OVR_INDEXES},
    {"AddIconByType", PT_OVR_INDEXES},
    {"AddInputFilter", PT_OVR_FILEINFO},
    {"AddLanguage", PT_OVR_FILEINFO},
    {"AddOutputFilter", PT_OVR_FILEINFO},
    {"AddOutputFilterByType", PT_OVR_FILEINFO},
    {"AddType", PT_OVR_FILEINFO},
    {"Allow", PT_OVR_LIMIT},
    {"AuthBasicAuthoritative", PT_OVR_AUTHCFG},
    {"AuthBasicFake", PT_OVR_AUTHCFG},
    {"AuthBasicProvider", PT_OVR_AUTHCFG},
    {"AuthGroupFile", PT_OVR_AUTHCFG},
    {"AuthMerging", PT_OVR_AUTHCFG},
    {"AuthName", PT_OVR_AUTHCFG},
    {"AuthType", PT_OVR_AUTHCFG},
    {"AuthUserFile", PT_OVR_AUTHCFG},
    {"AuthzSendForbiddenOnFailure", PT_OVR_AUTHCFG},
    {"BrowserMatch", PT_OVR_FILEINFO},
    {"BrowserMatchNoCase", PT_OVR_FILEINFO},
    {"CGIPassAuth", PT_OVR_AUTHCFG},
    {"CGIVar", PT_OVR_FILEINFO},
    {"ContentDigest", PT_OVR_OPTIONS},
    {"DefaultIcon", PT_OVR_INDEXES},
    {"DefaultLanguage", PT_OVR_FILEINFO},
    {"DefaultType", PT_OVR_FILEINFO},
    {"DeflateInflateLimitRequestBody", ANY},
    {"DeflateInflateRatioBurst", ANY},
    {"DeflateInflateRatioLimit", ANY},
    {"Deny", PT_OVR_LIMIT},
    {"DirectoryCheckHandler", PT_OVR_INDEXES},
    {"DirectoryIndex", PT_OVR_INDEXES},
    {"DirectoryIndexRedirect", PT_OVR_INDEXES},
    {"DirectorySlash", PT_OVR_INDEXES},
    {"EnableMMAP", PT_OVR_FILEINFO},
    {"EnableSendfile", PT_OVR_FILEINFO},
    {"ErrorDocument", PT_OVR_FILEINFO},
    {"ExpiresActive", PT_OVR_INDEXES},
    {"ExpiresByType", PT_OVR_INDEXES},
    {"ExpiresDefault", PT_OVR_INDEXES},
    {"FallbackResource", PT_OVR_INDEXES},
    {"FileETag", PT_OVR_FILEINFO},
    {"FilterChain", PT_OVR_OPTIONS},
    {"FilterDeclare", PT_OVR_OPTIONS},
    {"FilterProvider", PT_OVR_OPTIONS},
    {"ForceLanguagePriority", PT_OVR_FILEINFO},
    {"ForceType", PT_OVR_FILEINFO},
    {"Header", PT_OVR_FILEINFO},
    {"HeaderName", PT_OVR_INDEXES},
    {"IndexHeadInsert", PT_OVR_INDEXES},
    {"IndexIgnore", PT_OVR_INDEXES},
    {"IndexIgnoreReset", PT_OVR_INDEXES},
    {"IndexOptions", PT_OVR_INDEXES},
    {"IndexOrderDefault", PT_OVR_INDEXES},
    {"IndexStyleSheet", PT_OVR_INDEXES},
    {"LanguagePriority", PT_OVR_FILEINFO},
    {"LimitRequestBody", ANY},
    {"LimitXMLRequestBody", ANY},
    {"Options", PT_OVR_OPTIONS},
    {"Order", PT_OVR_LIMIT},
    {"PassEnv", PT_OVR_FILEINFO},
    {"QualifyRedirectURL", PT_OVR_FILEINFO},
    {"ReadmeName", PT_OVR_INDEXES},
    {"Redirect", PT_OVR_FILEINFO},
    {"RedirectMatch", PT_OVR_FILEINFO},
    {"RedirectPermanent", PT_OVR_FILEINFO},
    {"RedirectRelative", PT_OVR_FILEINFO},
    {"RedirectTemp", PT_OVR_FILEINFO},
    {"RemoveCharset", PT_OVR_FILEINFO},
    {"RemoveEncoding", PT_OVR_FILEINFO},
    {"RemoveHandler", PT_OVR_FILEINFO},
    {"RemoveInputFilter", PT_OVR_FILEINFO},
    {"RemoveLanguage", PT_OVR_FILEINFO},
    {"RemoveOutputFilter", PT_OVR_FILEINFO},
    {"RemoveType", PT_OVR_FILEINFO},
    {"RequestHeader", PT_OVR_FILEINFO},
    {"Require", PT_OVR_AUTHCFG},
    {"RewriteBase", PT_OVR_FILEINFO},
    {"RewriteCond", PT_OVR_FILEINFO},
    {"RewriteEngine", PT_OVR_FILEINFO},
    {"RewriteOptions", PT_OVR_FILEINFO},
    {"RewriteRule", PT_OVR_FILEINFO},
    {"Satisfy", PT_OVR_AUTHCFG},
    {"ServerSignature", ANY},
    {"SetEnv", PT_OVR_FILEINFO},
    {"SetEnvIf", PT_OVR_FILEINFO},
    {"SetEnvIfExpr", PT_OVR_FILEINFO},
    {"SetEnvIfNoCase", PT_OVR_FILEINFO},
    {"SetHandler", PT_OVR_FILEINFO},
    {"SetInputFilter", PT_OVR_FILEINFO},
    {"SetOutputFilter", PT_OVR_FILEINFO},
    {"SSLOptions", PT_OVR_OPTIONS},
    {"SSLRequire", PT_OVR_AUTHCFG},
    {"SSLRequireSSL", PT_OVR_AUTHCFG},
    {"SSLUserName", PT_OVR_AUTHCFG},
    {"UnsetEnv", PT_OVR_FILEINFO},
    {"XBitHack", PT_OVR_OPTIONS},
};

static int class_cmp(const void *k, const void *e)
{
    return strcasecmp(k, ((const struct ovr_class *)e)->name);
}

unsigned pt_htaccess_override_class(const char *name)
{
    const struct ovr_class *c =
        bsearch(name, classes, PT_ARRAY_LEN(classes), sizeof(classes[0]), class_cmp);
    return c ? c->cls : 0;
}

typedef struct {
    const pt_dir_config_t *allowed;
    const pt_config_t *server; /* the configuration the file is read under */
    size_t warnings;
} allow_ctx_t;

bool pt_dcx_backend_is_servers(const dcx_t *l, const pt_backend_t *b)
{
    if (!l->allow) /* the server configuration itself */
        return true;
    const pt_config_t *cfg = ((const allow_ctx_t *)l->allow_ctx)->server;
    return b->index < cfg->nbackends && cfg->backends[b->index] == b;
}

static bool listed(const pt_dir_config_t *a, const char *name)
{
    for (size_t i = 0; i < a->noverride_list; i++)
        if (strcasecmp(a->override_list[i], name) == 0)
            return true;
    return false;
}

/* An Options line may name only what AllowOverride Options= lists (Apache:
 * "Option ExecCGI not allowed here"). */
static int check_options(dcx_t *l, const pt_node_t *n, const pt_dir_config_t *a)
{
    for (int i = 0; i < n->argc; i++) {
        const char *w = n->argv[i] + (n->argv[i][0] == '+' || n->argv[i][0] == '-');
        unsigned bit;
        if (pt_dcx_option_bit(w, &bit) == 0 && (bit & ~a->override_opts))
            return pt_dcx_fail(l, n, "Option %s not allowed here", w);
    }
    return 0;
}

/* Apache's messages: "Invalid command" for what no module knows, "not allowed here" for
 * what the directory's AllowOverride does not let in; Nonfatal= turns either into a
 * warning and the directive is skipped. */
static int allow(dcx_t *l, const pt_node_t *n, const dcx_directive_t *d)
{
    allow_ctx_t *x = (allow_ctx_t *)l->allow_ctx;
    const pt_dir_config_t *a = x->allowed;
    char name[128];
    snprintf(name, sizeof(name), "%s%s", n->section ? "<" : "", n->name);
    unsigned mod_cls = d ? (d->where >> W_OVR_SHIFT) & PT_OVR_ALL : 0;
    unsigned cls = mod_cls ? mod_cls : pt_htaccess_override_class(name);
    bool known = d != NULL;
    if (known && listed(a, n->name))
        return 0;
    if (known && (cls & a->overrides & PT_OVR_ALL))
        return cls == PT_OVR_OPTIONS && !mod_cls ? check_options(l, n, a) : 0;
    unsigned nonfatal = known ? PT_OVR_NONFATAL_OVERRIDE : PT_OVR_NONFATAL_UNKNOWN;
    char why[256];
    if (known)
        snprintf(why, sizeof(why), "%s not allowed here", name);
    else
        snprintf(why, sizeof(why), "Invalid command '%s', perhaps misspelled or defined by a "
                                   "module not included in the server configuration", name);
    if (a->overrides & nonfatal) {
        pt_log_error(PT_LOG_WARN, NULL, "%s:%d: %s: skipped (AllowOverride Nonfatal)", n->file,
                     n->line, why);
        x->warnings++;
        return 1;
    }
    return pt_dcx_fail(l, n, "%s", why);
}

/* The scratch configuration: read-only fields a directive may consult (ServerRoot, MIME
 * types, the MPM) copied from cfg; lists it fills (regexes) its own. */
static pt_config_t *scratch_new(const pt_config_t *cfg, const char *path)
{
    pt_arena_t *a = pt_arena_create(4096);
    pt_config_t *c = pt_arena_calloc(a, sizeof(*c));
    *c = *cfg;
    c->arena = a;
    c->path = pt_arena_strdup(a, path);
    c->regexes = NULL;
    c->nregexes = 0;
    c->vhosts = NULL;
    c->nvhosts = 0;
    c->tree = NULL;
    /* -t notices are the server config's; a .htaccess file's would write into its arrays. */
    c->notices = c->notice_keys = NULL;
    c->nnotices = 0;
    /* A SetHandler "proxy:URL" finds the server's backends in this copy of their list; one it
     * makes goes into the copy, never into the server's array, which other threads read
     * (room as pt_dcx_push expects it: 4, or the power of two at or above the count). */
    if (cfg->nbackends) {
        size_t cap = 4;
        while (cap < cfg->nbackends)
            cap *= 2;
        c->backends = pt_arena_alloc(a, cap * sizeof(*c->backends));
        memcpy(c->backends, cfg->backends, cfg->nbackends * sizeof(*c->backends));
    }
    c->main_server = pt_arena_calloc(a, sizeof(dcx_vhost_t));
    c->main_server->dir = pt_dcx_dir_new(a);
    c->main_server->file = c->path;
    return c;
}

pt_htaccess_t *pt_htaccess_parse(const pt_config_t *cfg, const char *path,
                                 const pt_dir_config_t *allowed, char *err, size_t errlen)
{
    pt_htaccess_t *ht = calloc(1, sizeof(*ht));
    if (!ht) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    ht->scratch = scratch_new(cfg, path);
    pt_config_t *c = ht->scratch;
    pt_parse_opts_t opts = {.server_root = cfg->server_root, .htaccess = true,
                            .directive_known = pt_dcx_directive_known};
    pt_node_t *tree = pt_config_parse(c->arena, path, &opts, NULL, err, errlen);
    const dcx_directive_t *tables[PT_DCX_TABLES_MAX];
    void *state[PT_CONF_EXT_MAX] = {0};
    dcx_t l;
    pt_dcx_init(&l, c, tables, state, err, errlen);
    allow_ctx_t x = {.allowed = allowed, .server = cfg};
    l.allow = allow;
    l.allow_ctx = &x;
    pt_vhost_t *vh = c->main_server;
    dcx_scope_t s = {.where = W_DIR, .name = path, .vh = vh, .dc = vh->dir};
    if (!tree || pt_dcx_walk(&l, &s, tree) < 0) {
        pt_htaccess_free(ht);
        return NULL;
    }
    ht->dc = vh->dir;
    ht->files = vh->sections;
    ht->nfiles = vh->nsections;
    ht->nwarnings = x.warnings;
    return ht;
}

void pt_htaccess_free(pt_htaccess_t *ht)
{
    if (!ht)
        return;
    pt_config_t *c = ht->scratch;
    for (size_t i = 0; c && i < c->nregexes; i++)
        pt_regex_free(c->regexes[i]);
    if (c)
        pt_arena_destroy(c->arena);
    free(ht);
}
