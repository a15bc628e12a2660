/* What each virtual host and directory serves: the per-host directives (names, document
 * root, keep-alive, timeouts and request limits), the <Directory>/<Files>/<Location>
 * sections and the per-directory directives (mod_alias's are in directives_alias.c; Require,
 * Header and the like come from the floors above as pt_conf_ext_t tables). The walker calls
 * these through pt_dcx_dir_table, which directives.c hands it. */
#include "directives.h"
#include "expr_parse.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Per-host directives ---------------------------------------------------------------- */

static int set_server_name(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *v = n->argv[0];
    const char *scheme = strstr(v, "://");
    if (scheme)
        v = scheme + 3;
    const char *colon = v[0] == '[' ? strstr(v, "]:") : strrchr(v, ':');
    if (colon && v[0] == '[')
        colon++;
    s->vh->server_port = 0;
    if (colon) {
        long long p = 0;
        if (pt_dcx_long(l, n, colon + 1, 1, 65535, &p) < 0)
            return -1;
        s->vh->server_port = (int)p;
        v = pt_arena_strndup(l->a, v, (size_t)(colon - v));
    }
    if (!*v)
        return pt_dcx_fail(l, n, "ServerName: empty host name");
    s->vh->server_name = v;
    return 0;
}

static int set_server_alias(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    for (int i = 0; i < n->argc; i++) {
        const char **slot = pt_dcx_push(l->a, &s->vh->aliases, &s->vh->naliases, sizeof(*slot));
        *slot = n->argv[i];
    }
    return 0;
}

static int set_server_admin(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    s->vh->server_admin = n->argv[0];
    return 0;
}

/* The root's plainness as pt_vhost_t.document_root_plain says it. */
static bool root_plain(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] == '/' && (i + 1 == len || p[i + 1] == '/' || p[i + 1] == '.'))
            return false;
    return len > 0;
}

static int set_document_root(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *p = pt_dcx_path(l, n->argv[0]);
    struct stat st;
    if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode) || access(p, R_OK | X_OK) < 0)
        return pt_dcx_fail(l, n, "DocumentRoot '%s' is not a directory, or is not readable", p);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        len--;
    s->vh->document_root = pt_arena_strndup(l->a, p, len);
    s->vh->document_root_len = len;
    s->vh->document_root_plain = root_plain(p, len);
    return 0;
}

static int set_keepalive(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_dcx_vhost_set(s->vh, DCX_SET_KEEPALIVE);
    return pt_dcx_onoff(l, n, n->argv[0], &s->vh->keepalive);
}

static int set_keepalive_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_timeout(l, n, n->argv[0], &s->vh->keepalive_timeout_ms);
}

static int set_max_keepalive_requests(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_int(l, n, 0, INT32_MAX, &s->vh->max_keepalive_requests);
}

static int set_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_timeout(l, n, n->argv[0], &s->vh->timeout_ms);
}

/* One "stage=T[-MAX][,MinRate=R]" item of RequestReadTimeout. */
static int reqtimeout_item(dcx_t *l, const pt_node_t *n, const char *item, int64_t *t,
                           int64_t *tmax, int64_t *rate)
{
    const char *eq = strchr(item, '=');
    char *spec = pt_arena_strdup(l->a, eq + 1);
    char *rs = strchr(spec, ',');
    long long v = 0, w = 0, r = 0;
    *t = *tmax = *rate = 0;
    if (rs) {
        *rs++ = '\0';
        if (strncasecmp(rs, "MinRate=", 8) != 0)
            return pt_dcx_fail(l, n, "RequestReadTimeout: bad item '%s'", item);
        if (pt_dcx_long(l, n, rs + 8, 1, INT32_MAX, &r) < 0)
            return -1;
    }
    char *dash = strchr(spec, '-');
    if (dash)
        *dash++ = '\0';
    if (pt_dcx_long(l, n, spec, 0, 86400, &v) < 0)
        return -1;
    if (dash && (pt_dcx_long(l, n, dash, 0, 86400, &w) < 0))
        return -1;
    if (dash && w < v)
        return pt_dcx_fail(l, n, "RequestReadTimeout: maximum below initial timeout");
    if (dash && !rs)
        return pt_dcx_fail(l, n, "RequestReadTimeout: a range needs MinRate");
    *t = v * 1000;
    *tmax = w * 1000;
    *rate = v == 0 ? 0 : r;
    return 0;
}

static int set_request_read_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_vhost_t *vh = s->vh;
    for (int i = 0; i < n->argc; i++) {
        const char *a = n->argv[i];
        int64_t t = 0, tmax = 0, rate = 0;
        if (!strchr(a, '='))
            return pt_dcx_fail(l, n, "RequestReadTimeout: bad item '%s'", a);
        if (reqtimeout_item(l, n, a, &t, &tmax, &rate) < 0)
            return -1;
        if (strncasecmp(a, "header=", 7) == 0) {
            vh->header_timeout_ms = t, vh->header_max_timeout_ms = tmax;
            vh->header_min_rate = rate;
            pt_dcx_vhost_set(vh, DCX_SET_RT_HEADER);
        } else if (strncasecmp(a, "body=", 5) == 0) {
            vh->body_timeout_ms = t, vh->body_max_timeout_ms = tmax, vh->body_min_rate = rate;
            pt_dcx_vhost_set(vh, DCX_SET_RT_BODY);
        } else if (strncasecmp(a, "handshake=", 10) != 0) {
            /* handshake= is accepted for TLS configs; TLS is not built yet. */
            return pt_dcx_fail(l, n, "RequestReadTimeout: unknown stage in '%s'", a);
        }
    }
    return 0;
}

static int set_limit_size(dcx_t *l, const pt_node_t *n, long long max, size_t *out)
{
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[0], 0, max, &v) < 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int set_limit_request_line(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_limit_size(l, n, 1 << 20, &s->vh->limit_request_line);
}

static int set_limit_request_fields(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_limit_size(l, n, 32767, &s->vh->limit_request_fields);
}

static int set_limit_request_field_size(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_limit_size(l, n, 1 << 20, &s->vh->limit_request_field_size);
}

static int set_trace_enable(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_dcx_vhost_set(s->vh, DCX_SET_TRACE);
    if (strcasecmp(n->argv[0], "extended") == 0) {
        s->vh->trace_enable = true;
        return 0;
    }
    return pt_dcx_onoff(l, n, n->argv[0], &s->vh->trace_enable);
}

static int set_use_canonical_name(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool on = false;
    if (strcasecmp(n->argv[0], "DNS") == 0)
        return pt_dcx_fail(l, n, "UseCanonicalName DNS is not supported (no DNS lookups)");
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    s->vh->use_canonical_name = on;
    return 0;
}

static int set_server_signature(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool on = false;
    if (strcasecmp(n->argv[0], "EMail") == 0) {
        s->vh->server_signature = 2;
        return 0;
    }
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    s->vh->server_signature = on;
    return 0;
}

/* ---- Per-directory directives ------------------------------------------------------------
 * These fill a pt_dir_config_t: the server's (or vhost's) defaults or a section's. */

/* <Directory>, <DirectoryMatch>, <Files>, <FilesMatch>, <Location>, <LocationMatch>. */
static int section(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, pt_section_kind_t kind,
                   unsigned where)
{
    const char *pat = n->argv[0];
    bool tilde = strcmp(pat, "~") == 0;
    if (tilde && kind != PT_SEC_DIRECTORY && kind != PT_SEC_FILES && kind != PT_SEC_LOCATION)
        return pt_dcx_fail(l, n, "<%s ~> is not allowed; the section is a regex already",
                           n->name);
    if (n->argc != (tilde ? 2 : 1))
        return pt_dcx_fail(l, n, "<%s> takes one argument (or ~ and a regex)", n->name);
    if (tilde) {
        pat = n->argv[1];
        kind++; /* the *_MATCH kind follows each plain one */
    }
    pt_section_t *sec = pt_arena_calloc(l->a, sizeof(*sec));
    sec->kind = kind;
    sec->file = n->file;
    sec->line = n->line;
    sec->conf = pt_dcx_dir_new(l->a);
    if (kind == PT_SEC_DIRECTORY_MATCH || kind == PT_SEC_FILES_MATCH ||
        kind == PT_SEC_LOCATION_MATCH) {
        if (!(sec->re = pt_dcx_regex(l, n, pat, 0)))
            return -1;
    } else if (kind == PT_SEC_DIRECTORY) {
        size_t len = strlen(pat);
        while (len > 1 && pat[len - 1] == '/')
            len--;
        pat = pt_arena_strndup(l->a, pat, len);
    }
    sec->pattern = pat;
    if (where == W_FILES && s->sec)
        sec->within = s->sec;
    /* The slot is taken before the walk so sections stay in file order (outer first), and
     * kept by index: a nested <Files> pushes onto the same array, which may move it. */
    size_t slot = s->vh->nsections;
    pt_dcx_push(l->a, &s->vh->sections, &s->vh->nsections, sizeof(*sec));
    dcx_scope_t in = {.where = where, .name = n->name, .vh = s->vh, .dc = sec->conf,
                         .sec = sec};
    int rc = pt_dcx_walk(l, &in, n->children);
    s->vh->sections[slot] = *sec;
    return rc;
}

static int set_directory(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return section(l, s, n, PT_SEC_DIRECTORY, W_DIR);
}

static int set_directory_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return section(l, s, n, PT_SEC_DIRECTORY_MATCH, W_DIR);
}

static int set_files(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return section(l, s, n, PT_SEC_FILES, W_FILES);
}

static int set_files_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return section(l, s, n, PT_SEC_FILES_MATCH, W_FILES);
}

static int set_location(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return section(l, s, n, PT_SEC_LOCATION, W_LOC);
}

static int set_location_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return section(l, s, n, PT_SEC_LOCATION_MATCH, W_LOC);
}

bool pt_dcx_in_htaccess(const dcx_t *l)
{
    return l->allow != NULL;
}

struct pt_expr *pt_dcx_expr(dcx_t *l, const pt_node_t *n, const char *what, const char *src,
                            unsigned flags)
{
    char msg[PT_ERRLEN];
    if (pt_dcx_in_htaccess(l))
        flags |= PT_EXPR_RESTRICTED;
    pt_expr_t *e = pt_expr_parse(l->a, src, flags, msg, sizeof msg);
    if (!e) {
        pt_dcx_fail(l, n, "%s: cannot parse expression \"%s\": %s", what, src, msg);
        return NULL;
    }
    for (size_t i = 0; i < e->nregexes; i++)
        pt_dcx_keep_regex(l, e->regexes[i]);
    e->nregexes = 0; /* the config's now */
    return e;
}

/* <If "expr">, <ElseIf "expr">, <Else>: kept in the scope's config in file order, with
 * Apache's checks and messages; what they hold is walked like a <Location>'s, with where
 * W_IF (no sections but <If>, no server directives). */
static int if_section(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, pt_if_kind_t kind)
{
    if (kind == PT_IF_ELSE && n->argc != 0)
        return pt_dcx_fail(l, n, "<Else> does not take an argument");
    if (kind != PT_IF_ELSE && n->argc != 1)
        return pt_dcx_fail(l, n, n->argc ? "Multiple <%s> arguments not supported."
                                         : "<%s> directive requires additional arguments",
                           n->name);
    const pt_dir_config_t *dc = s->dc;
    if (kind != PT_IF_IF && (!dc->nifs || dc->ifs[dc->nifs - 1].kind == PT_IF_ELSE))
        return pt_dcx_fail(l, n, "<Else> or <ElseIf> section without previous <If> or "
                                 "<ElseIf> section in same scope");
    pt_if_section_t is = {.kind = kind, .file = n->file, .line = n->line,
                          .conf = pt_dcx_dir_new(l->a)};
    if (kind != PT_IF_ELSE &&
        !(is.cond = pt_dcx_expr(l, n, pt_arena_printf(l->a, "<%s>", n->name), n->argv[0], 0)))
        return -1;
    dcx_scope_t in = {.where = W_IF, .name = n->name, .vh = s->vh, .dc = is.conf,
                      .sec = s->sec};
    if (pt_dcx_walk(l, &in, n->children) < 0)
        return -1;
    pt_if_section_t *slot = pt_dcx_push(l->a, &s->dc->ifs, &s->dc->nifs, sizeof(*slot));
    *slot = is;
    return 0;
}

static int set_if(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return if_section(l, s, n, PT_IF_IF);
}

static int set_else_if(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return if_section(l, s, n, PT_IF_ELSEIF);
}

static int set_else(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return if_section(l, s, n, PT_IF_ELSE);
}

int pt_dcx_option_bit(const char *w, unsigned *bit)
{
    static const struct {
        const char *name;
        unsigned bit;
    } opts[] = {
        {"Indexes", PT_OPT_INDEXES},
        {"FollowSymLinks", PT_OPT_FOLLOW_SYMLINKS},
        {"SymLinksIfOwnerMatch", PT_OPT_SYMLINKS_IF_OWNER},
        {"ExecCGI", PT_OPT_EXECCGI},
        {"Includes", PT_OPT_INCLUDES},
        {"IncludesNOEXEC", PT_OPT_INCLUDES},
        {"MultiViews", PT_OPT_MULTIVIEWS},
        /* Apache's OPT_ALL leaves out MultiViews and SymLinksIfOwnerMatch. */
        {"All", PT_OPT_INDEXES | PT_OPT_INCLUDES | PT_OPT_FOLLOW_SYMLINKS | PT_OPT_EXECCGI},
        {"None", 0},
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(opts); i++) {
        if (strcasecmp(w, opts[i].name) == 0) {
            *bit = opts[i].bit;
            return 0;
        }
    }
    return -1;
}

static int set_options(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_dir_config_t *dc = s->dc;
    unsigned abs = 0, add = 0, rem = 0;
    int nrel = 0;
    for (int i = 0; i < n->argc; i++) {
        const char *w = n->argv[i];
        bool rel = w[0] == '+' || w[0] == '-';
        unsigned bit;
        if (pt_dcx_option_bit(w + rel, &bit) < 0)
            return pt_dcx_fail(l, n, "Illegal option %s", w + rel);
        nrel += rel;
        if (!rel)
            abs |= bit;
        else if (w[0] == '+')
            add |= bit, rem &= ~bit;
        else
            rem |= bit, add &= ~bit;
    }
    if (nrel && nrel != n->argc)
        return pt_dcx_fail(l, n, "Either all Options must start with + or -, or no Option "
                                 "may.");
    if ((abs | add) & PT_OPT_MULTIVIEWS)
        pt_dcx_note(l, n, "MultiViews", "Options MultiViews does nothing: portico does not "
                                        "negotiate files by extension (mod_negotiation)");
    /* As Apache's set_options: an absolute line replaces the section's value but keeps
     * what +/- lines before it in the section added and removed, and +/- lines add up
     * whatever came before them; merge_options applies those again at every later merge
     * (so "Options -Indexes" then "Options Indexes" in one section ends without Indexes
     * once an inner section merges, as in Apache). */
    if (!nrel) {
        dc->options = abs;
        dc->options_set = true;
        return 0;
    }
    dc->options_add = (dc->options_add & ~rem) | add;
    dc->options_remove = (dc->options_remove & ~add) | rem;
    if (dc->options_set)
        dc->options = (dc->options & ~rem) | add;
    else
        dc->options_rel = true;
    return 0;
}

/* Options=Indexes,MultiViews: the options an Options line in .htaccess may name. */
static int override_options(dcx_t *l, const pt_node_t *n, const char *list, unsigned *out)
{
    *out = 0;
    char *copy = pt_arena_strdup(l->a, list), *save = NULL;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        unsigned bit;
        if (pt_dcx_option_bit(w, &bit) < 0)
            return pt_dcx_fail(l, n, "Illegal option %s", w);
        *out |= bit;
    }
    return 0;
}

static int override_nonfatal(dcx_t *l, const pt_node_t *n, const char *what, unsigned *out)
{
    if (strcasecmp(what, "Override") == 0)
        *out |= PT_OVR_NONFATAL_OVERRIDE;
    else if (strcasecmp(what, "Unknown") == 0)
        *out |= PT_OVR_NONFATAL_UNKNOWN;
    else if (strcasecmp(what, "All") == 0)
        *out |= PT_OVR_NONFATAL_OVERRIDE | PT_OVR_NONFATAL_UNKNOWN;
    else
        return pt_dcx_fail(l, n, "AllowOverride: Nonfatal=%s: expected Override, Unknown or "
                                 "All", what);
    return 0;
}

/* AllowOverride All|None|AuthConfig FileInfo Indexes Limit Options[=...] [Nonfatal=...]:
 * Apache's classes (its "Override:" line of each directive, htaccess_parse.c). Only in a
 * <Directory> without a regex, as Apache. */
static int set_allow_override(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const struct {
        const char *name;
        unsigned bit;
    } classes[] = {{"AuthConfig", PT_OVR_AUTHCFG}, {"FileInfo", PT_OVR_FILEINFO},
                   {"Indexes", PT_OVR_INDEXES},    {"Limit", PT_OVR_LIMIT},
                   {"Options", PT_OVR_OPTIONS},    {"All", PT_OVR_ALL}};
    if (!s->sec || s->sec->kind != PT_SEC_DIRECTORY)
        return pt_dcx_fail(l, n, "AllowOverride not allowed here: only in <Directory> "
                                 "sections without a regular expression");
    unsigned ovr = 0, opts = PT_OPT_INDEXES | PT_OPT_INCLUDES | PT_OPT_FOLLOW_SYMLINKS |
                             PT_OPT_EXECCGI | PT_OPT_MULTIVIEWS | PT_OPT_SYMLINKS_IF_OWNER;
    for (int i = 0; i < n->argc; i++) {
        const char *w = n->argv[i];
        if (strcasecmp(w, "None") == 0) {
            continue;
        } else if (strncasecmp(w, "Options=", 8) == 0) {
            if (override_options(l, n, w + 8, &opts) < 0)
                return -1;
            ovr |= PT_OVR_OPTIONS;
            continue;
        } else if (strncasecmp(w, "Nonfatal=", 9) == 0) {
            if (override_nonfatal(l, n, w + 9, &ovr) < 0)
                return -1;
            continue;
        }
        size_t k = 0;
        while (k < PT_ARRAY_LEN(classes) && strcasecmp(w, classes[k].name) != 0)
            k++;
        if (k == PT_ARRAY_LEN(classes))
            return pt_dcx_fail(l, n, "Illegal override option %s", w);
        ovr |= classes[k].bit;
    }
    s->dc->overrides = ovr;
    s->dc->override_opts = opts;
    s->dc->overrides_set = true;
    if (ovr & PT_OVR_ALL)
        l->cfg->htaccess = true;
    return 0;
}

/* AllowOverrideList None|directive ...: directives a .htaccess may hold whatever the
 * classes say. */
static int set_allow_override_list(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (!s->sec || s->sec->kind != PT_SEC_DIRECTORY)
        return pt_dcx_fail(l, n, "AllowOverrideList not allowed here: only in <Directory> "
                                 "sections without a regular expression");
    pt_dir_config_t *dc = s->dc;
    dc->override_list_set = true;
    dc->override_list = NULL;
    dc->noverride_list = 0;
    if (n->argc == 1 && strcasecmp(n->argv[0], "None") == 0)
        return 0;
    dc->override_list = pt_arena_alloc(l->a, (size_t)n->argc * sizeof(char *));
    for (int i = 0; i < n->argc; i++)
        dc->override_list[i] = n->argv[i];
    dc->noverride_list = (size_t)n->argc;
    l->cfg->htaccess = true;
    return 0;
}

/* As mod_dir: each DirectoryIndex in a section adds its names to the section's list, and
 * "disabled" as the only argument empties it (among other names it is a file name). */
static int set_directory_index(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_dir_config_t *dc = s->dc;
    if (!dc->dir_index_set || pt_dcx_dir_index_is_default(dc)) {
        dc->dir_index = NULL;
        dc->ndir_index = 0;
    }
    dc->dir_index_set = true;
    if (n->argc == 1 && strcasecmp(n->argv[0], "disabled") == 0) {
        dc->ndir_index = 0;
        return 0;
    }
    const char **v = pt_arena_alloc(l->a, (dc->ndir_index + (size_t)n->argc) * sizeof(*v));
    for (size_t i = 0; i < dc->ndir_index; i++)
        v[i] = dc->dir_index[i];
    for (int i = 0; i < n->argc; i++)
        v[dc->ndir_index++] = n->argv[i];
    dc->dir_index = v;
    return 0;
}

static int set_fallback_resource(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    s->dc->fallback = strcasecmp(n->argv[0], "disabled") == 0 ? "" : n->argv[0];
    return 0;
}

static int add_ext_map(dcx_t *l, const pt_node_t *n, const pt_ext_map_t **v, size_t *nv)
{
    for (int i = 1; i < n->argc; i++) {
        const char *e = n->argv[i] + (n->argv[i][0] == '.');
        char *low = pt_arena_strdup(l->a, e);
        for (char *c = low; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        pt_ext_map_t *m = pt_dcx_push(l->a, v, nv, sizeof(*m));
        m->ext = low;
        m->value = n->argv[0];
    }
    return 0;
}

static int set_add_type(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_ext_map(l, n, &s->dc->types, &s->dc->ntypes);
}

static int set_add_handler(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_ext_map(l, n, &s->dc->handlers, &s->dc->nhandlers);
}

/* The name only: the loader resolves it to a handler once the file is read. An extension
 * may take the name first (the proxy makes the backend a "proxy:..." name points to). */
static int set_set_handler(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    s->dc->handler_name = strcasecmp(n->argv[0], "none") == 0 ? "none" : n->argv[0];
    s->dc->handler_backend = NULL;
    for (size_t i = 0; i < l->nexts; i++) {
        int rc = l->exts[i]->set_handler ? l->exts[i]->set_handler(l, s, n, n->argv[0]) : 0;
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    return 0;
}

static int set_force_type(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    s->dc->default_type = n->argv[0];
    return 0;
}

static int set_add_default_charset(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *v = n->argv[0];
    /* Apache's "On" means its historical default, ISO-8859-1. */
    s->dc->default_charset = strcasecmp(v, "On") == 0    ? "ISO-8859-1"
                             : strcasecmp(v, "Off") == 0 ? ""
                                                         : v;
    return 0;
}

/* mod_setenvif matches a pattern without regex metacharacters (a backslash may escape one) as
 * a plain string, and sets the values of its variables as written: ap_pregsub is only for a
 * regex's match. A backslash before anything else (\w, \d) makes a regex. */
static bool plain_pattern(const char *p)
{
    static const char meta[] = "^.$|()[]*+?{}";
    for (; *p; p++) {
        if (*p == '\\') {
            if (!*++p)
                break;
            if (*p != '\\' && !strchr(meta, *p))
                return false;
        } else if (strchr(meta, *p)) {
            return false;
        }
    }
    return true;
}

static int add_env(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, int kind,
                   const char *attr, const char *re, int first_var)
{
    pt_env_rule_t *e = pt_dcx_push(l->a, &s->dc->env, &s->dc->nenv, sizeof(*e));
    e->kind = kind;
    e->attribute = attr;
    e->server = kind != PT_ENV_UNSET && (s->where & SRV); /* (.htaccess is a W_DIR scope) */
    if (re && !(e->re = pt_dcx_regex(l, n, re, kind == PT_ENV_SETIF_NOCASE ? PT_REG_ICASE : 0)))
        return -1;
    e->literal_values = re && plain_pattern(re);
    e->vars = n->argv + first_var;
    e->nvars = (size_t)(n->argc - first_var);
    return 0;
}

static int set_set_env_if(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_env(l, s, n, PT_ENV_SETIF, n->argv[0], n->argv[1], 2);
}

static int set_set_env_if_no_case(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_env(l, s, n, PT_ENV_SETIF_NOCASE, n->argv[0], n->argv[1], 2);
}

static int set_set_env_if_expr(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const pt_expr_t *x = pt_dcx_expr(l, n, "SetEnvIfExpr", n->argv[0], 0);
    if (!x || add_env(l, s, n, PT_ENV_SETIF_EXPR, NULL, NULL, 1) < 0)
        return -1;
    pt_env_rule_t *e = (pt_env_rule_t *)&s->dc->env[s->dc->nenv - 1]; /* add_env's, ours */
    e->expr = x;
    return 0;
}

static int set_browser_match(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_env(l, s, n, PT_ENV_SETIF, "User-Agent", n->argv[0], 1);
}

static int set_browser_match_no_case(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_env(l, s, n, PT_ENV_SETIF_NOCASE, "User-Agent", n->argv[0], 1);
}

static int set_set_env(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_env_rule_t *e = pt_dcx_push(l->a, &s->dc->env, &s->dc->nenv, sizeof(*e));
    const char **v = pt_arena_alloc(l->a, sizeof(*v));
    v[0] = pt_arena_printf(l->a, "%s=%s", n->argv[0], n->argc == 2 ? n->argv[1] : "");
    e->kind = PT_ENV_SET;
    e->vars = v;
    e->nvars = 1;
    return 0;
}

static int set_unset_env(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_env(l, s, n, PT_ENV_UNSET, NULL, NULL, 0);
}

static int set_limit_request_body(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[0], 0, INT64_MAX, &v) < 0)
        return -1;
    s->dc->limit_request_body = v;
    return 0;
}

static int set_onoff_field(dcx_t *l, const pt_node_t *n, int *field)
{
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    *field = on;
    return 0;
}

static int set_enable_sendfile(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_onoff_field(l, n, &s->dc->enable_sendfile);
}

static int set_enable_mmap(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return set_onoff_field(l, n, &s->dc->enable_mmap);
}

#define DIRS (W_SERVER | W_VHOST | W_DIR)

const dcx_directive_t pt_dcx_dir_table[] = {
    /* per host */
    {"ServerName", SRV, 1, 1, set_server_name},
    {"ServerAlias", W_VHOST, 1, NOMAX, set_server_alias},
    {"ServerAdmin", SRV, 1, 1, set_server_admin},
    {"DocumentRoot", SRV, 1, 1, set_document_root},
    {"KeepAlive", SRV, 1, 1, set_keepalive},
    {"KeepAliveTimeout", SRV, 1, 1, set_keepalive_timeout},
    {"MaxKeepAliveRequests", SRV, 1, 1, set_max_keepalive_requests},
    {"Timeout", SRV, 1, 1, set_timeout},
    {"RequestReadTimeout", SRV, 1, 3, set_request_read_timeout},
    {"LimitRequestLine", SRV, 1, 1, set_limit_request_line},
    {"LimitRequestFields", SRV, 1, 1, set_limit_request_fields},
    {"LimitRequestFieldSize", SRV, 1, 1, set_limit_request_field_size},
    {"TraceEnable", SRV, 1, 1, set_trace_enable},
    {"UseCanonicalName", SRV, 1, 1, set_use_canonical_name},
    {"ServerSignature", SRV, 1, 1, set_server_signature},
    /* sections and per directory */
    {"<Directory", SRV, 1, 2, set_directory},
    {"<DirectoryMatch", SRV, 1, 1, set_directory_match},
    {"<Files", DIRS, 1, 2, set_files},
    {"<FilesMatch", DIRS, 1, 1, set_files_match},
    {"<Location", SRV, 1, 2, set_location},
    {"<LocationMatch", SRV, 1, 1, set_location_match},
    {"<If", ALL, 0, NOMAX, set_if},
    {"<ElseIf", ALL, 0, NOMAX, set_else_if},
    {"<Else", ALL, 0, NOMAX, set_else},
    {"Options", ALL, 1, NOMAX, set_options},
    {"AllowOverride", W_DIR, 1, NOMAX, set_allow_override},
    {"AllowOverrideList", W_DIR, 1, NOMAX, set_allow_override_list},
    {"DirectoryIndex", ALL, 1, NOMAX, set_directory_index},
    {"FallbackResource", ALL, 1, 1, set_fallback_resource},
    {"AddType", ALL, 2, NOMAX, set_add_type},
    {"AddHandler", ALL, 2, NOMAX, set_add_handler},
    {"SetHandler", ALL, 1, 1, set_set_handler},
    {"ForceType", ALL, 1, 1, set_force_type},
    {"AddDefaultCharset", ALL, 1, 1, set_add_default_charset},
    {"SetEnvIf", ALL, 3, NOMAX, set_set_env_if},
    {"SetEnvIfNoCase", ALL, 3, NOMAX, set_set_env_if_no_case},
    {"SetEnvIfExpr", ALL, 2, NOMAX, set_set_env_if_expr},
    {"BrowserMatch", ALL, 2, NOMAX, set_browser_match},
    {"BrowserMatchNoCase", ALL, 2, NOMAX, set_browser_match_no_case},
    {"SetEnv", ALL, 1, 2, set_set_env},
    {"UnsetEnv", ALL, 1, NOMAX, set_unset_env},
    {"LimitRequestBody", ALL, 1, 1, set_limit_request_body},
    {"EnableSendfile", ALL, 1, 1, set_enable_sendfile},
    {"EnableMMAP", ALL, 1, 1, set_enable_mmap},
    {NULL, 0, 0, 0, NULL},
};
