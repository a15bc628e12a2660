/* The per-directory config: its constructors (every field unset, or Apache 2.4's defaults
 * for the main server), and the per-request lookups in a loaded configuration: Apache's
 * merge of per-directory configs, the section walk that builds the config for a file and
 * URL, and name-based virtual host selection. The lookups read the immutable config and
 * allocate from the caller's arena. */
#include "compress_conf.h"
#include "config.h"
#include "directives.h"
#include "htaccess_parse.h"

#include <fnmatch.h>
#include <netinet/in.h>
#include <sys/stat.h>

/* ---- New configs ------------------------------------------------------------------------ */

pt_dir_config_t *pt_dcx_dir_new(pt_arena_t *a)
{
    pt_dir_config_t *dc = pt_arena_calloc(a, sizeof(*dc));
    dc->limit_request_body = -1;
    dc->enable_sendfile = -1;
    dc->enable_mmap = -1;
    dc->fcgi_backend_type = -1;
    dc->rewrite.engine = -1;
    dc->rewrite.options = -1;
    return dc;
}

/* The main server's DirectoryIndex until a directive sets one (then replaced, not added to). */
static const char *default_index[] = {"index.html"};

void pt_dcx_dir_defaults(pt_arena_t *a, pt_dir_config_t *dc)
{
    (void)a;
    dc->options = PT_OPT_FOLLOW_SYMLINKS;
    dc->options_set = true;
    dc->dir_index = default_index;
    dc->ndir_index = 1;
    dc->dir_index_set = true;
    dc->limit_request_body = (int64_t)1 << 30;
    dc->enable_sendfile = 0;
    dc->enable_mmap = 1;
}

bool pt_dcx_dir_index_is_default(const pt_dir_config_t *dc)
{
    return dc->dir_index == default_index;
}

/* ---- Merge ------------------------------------------------------------------------------ */

static void *concat(pt_arena_t *a, const void *x, size_t nx, const void *y, size_t ny,
                    size_t elt, size_t *n)
{
    *n = nx + ny;
    if (*n == 0)
        return NULL;
    if (ny == 0)
        return (void *)x;
    if (nx == 0)
        return (void *)y;
    char *v = pt_arena_alloc(a, *n * elt);
    memcpy(v, x, nx * elt);
    memcpy(v + nx * elt, y, ny * elt);
    return v;
}

/* Options as Apache's merge_core_dir_configs: an absolute setting replaces everything
 * before it; +/- adjust the outer value and accumulate. */
static void merge_options(pt_dir_config_t *m, const pt_dir_config_t *o,
                          const pt_dir_config_t *i)
{
    if (i->options_set) {
        m->options = i->options;
        m->options_add = i->options_add;
        m->options_remove = i->options_remove;
        m->options_set = true;
        m->options_rel = i->options_rel;
        return;
    }
    m->options_add = (o->options_add & ~i->options_remove) | i->options_add;
    m->options_remove = (o->options_remove & ~i->options_add) | i->options_remove;
    m->options = (o->options & ~i->options_remove) | i->options_add;
    m->options_set = o->options_set;
    m->options_rel = o->options_rel || i->options_rel;
}

/* Error documents: the inner one wins for a status it names. */
static void merge_errordocs(pt_arena_t *a, pt_dir_config_t *m, const pt_dir_config_t *o,
                            const pt_dir_config_t *i)
{
    if (!i->nerrordocs || !o->nerrordocs) {
        m->errordocs = i->nerrordocs ? i->errordocs : o->errordocs;
        m->nerrordocs = i->nerrordocs ? i->nerrordocs : o->nerrordocs;
        return;
    }
    pt_errordoc_t *v = pt_arena_alloc(a, (o->nerrordocs + i->nerrordocs) * sizeof(*v));
    size_t n = 0;
    for (size_t k = 0; k < o->nerrordocs; k++) {
        bool overridden = false;
        for (size_t j = 0; j < i->nerrordocs && !overridden; j++)
            overridden = i->errordocs[j].status == o->errordocs[k].status;
        if (!overridden)
            v[n++] = o->errordocs[k];
    }
    memcpy(v + n, i->errordocs, i->nerrordocs * sizeof(*v));
    m->errordocs = v;
    m->nerrordocs = n + i->nerrordocs;
}

/* Apache's config_perdir_merge for mod_rewrite: engine and options inherited, the base and
 * the directory the inner section's, the rules the inner ones unless RewriteOptions asks for
 * the outer ones too. A section without a Rewrite* directive changes nothing. */
static void merge_rewrite(pt_arena_t *a, pt_rewrite_dir_t *m, const pt_rewrite_dir_t *o,
                          const pt_rewrite_dir_t *i)
{
    if (!i->present)
        return;
    m->present = true;
    m->engine = i->engine >= 0 ? i->engine : o->engine;
    m->options = i->options >= 0 ? i->options : o->options;
    m->base = i->base;
    m->directory = i->directory;
    int opt = m->options > 0 ? m->options : 0;
    if (opt & PT_REWRITE_INHERIT)
        m->rules = concat(a, i->rules, i->nrules, o->rules, o->nrules, sizeof(*i->rules),
                          &m->nrules);
    else if (opt & PT_REWRITE_INHERIT_BEFORE)
        m->rules = concat(a, o->rules, o->nrules, i->rules, i->nrules, sizeof(*i->rules),
                          &m->nrules);
    else
        m->rules = i->rules, m->nrules = i->nrules;
}

/* Set once at start-up, before any configuration is loaded or a thread runs (the request
 * floor's join of two rule trees: conf does not know their type). */
static const pt_require_t *(*join_require)(pt_arena_t *a, const pt_require_t *o,
                                           const pt_require_t *i, bool and_op);

void pt_dcx_set_merge_require(const pt_require_t *(*fn)(pt_arena_t *a, const pt_require_t *o,
                                                        const pt_require_t *i, bool and_op))
{
    join_require = fn;
}

/* mod_authz_core's merge: an inner section's Require lines replace the outer ones, unless
 * its AuthMerging says And or Or (then both, in one container); AuthMerging Off in a section
 * without Require drops the outer ones. */
static void merge_require(pt_arena_t *a, pt_dir_config_t *m, const pt_dir_config_t *o,
                          const pt_dir_config_t *i)
{
    int op = i->core.auth_merging;
    if (op == 0) {
        if (i->require)
            m->require = i->require;
    } else if (op == 1) {
        m->require = i->require;
    } else if (o->require && i->require) {
        m->require = join_require ? join_require(a, o->require, i->require, op == 2)
                                  : o->require;
    } else if (i->require) {
        m->require = i->require;
    }
}

pt_dir_config_t *pt_dir_config_merge(pt_arena_t *a, const pt_dir_config_t *outer,
                                     const pt_dir_config_t *inner)
{
    pt_dir_config_t *m = pt_arena_alloc(a, sizeof(*m));
    const pt_dir_config_t *o = outer, *i = inner;
    *m = *o;
    merge_options(m, o, i);
    pt_core_dir_merge(&m->core, &o->core, &i->core);
    if (i->dir_index_set) {
        m->dir_index = i->dir_index;
        m->ndir_index = i->ndir_index;
        m->dir_index_set = true;
    }
    if (i->fallback)
        m->fallback = i->fallback;
    if (i->overrides_set) {
        m->overrides = i->overrides;
        m->override_opts = i->override_opts;
        m->overrides_set = true;
    }
    if (i->override_list_set) {
        m->override_list = i->override_list;
        m->noverride_list = i->noverride_list;
        m->override_list_set = true;
    }
    merge_require(a, m, o, i);
    if (i->access_compat) /* replaced whole: mod_access_compat has no merge */
        m->access_compat = i->access_compat;
    if (i->auth_type)
        m->auth_type = i->auth_type;
    if (i->auth_name)
        m->auth_name = i->auth_name;
    if (i->auth_user_file)
        m->auth_user_file = i->auth_user_file;
    if (i->auth_group_file)
        m->auth_group_file = i->auth_group_file;
    m->headers = concat(a, o->headers, o->nheaders, i->headers, i->nheaders,
                        sizeof(*o->headers), &m->nheaders);
    m->req_headers = concat(a, o->req_headers, o->nreq_headers, i->req_headers,
                            i->nreq_headers, sizeof(*o->req_headers), &m->nreq_headers);
    merge_errordocs(a, m, o, i);
    m->redirects = concat(a, o->redirects, o->nredirects, i->redirects, i->nredirects,
                          sizeof(*o->redirects), &m->nredirects);
    m->charsets = concat(a, i->charsets, i->ncharsets, o->charsets, o->ncharsets,
                         sizeof(*o->charsets), &m->ncharsets);
    m->languages = concat(a, i->languages, i->nlanguages, o->languages, o->nlanguages,
                          sizeof(*o->languages), &m->nlanguages);
    if (i->default_language)
        m->default_language = i->default_language;
    if (i->expires_active)
        m->expires_active = i->expires_active;
    if (i->expires_default)
        m->expires_default = i->expires_default;
    m->expires_by_type = concat(a, i->expires_by_type, i->nexpires_by_type,
                                o->expires_by_type, o->nexpires_by_type,
                                sizeof(*o->expires_by_type), &m->nexpires_by_type);
    /* Lookups take the first mapping of an extension: inner ones go first. */
    m->types = concat(a, i->types, i->ntypes, o->types, o->ntypes, sizeof(*o->types),
                      &m->ntypes);
    m->handlers = concat(a, i->handlers, i->nhandlers, o->handlers, o->nhandlers,
                         sizeof(*o->handlers), &m->nhandlers);
    if (i->handler_name) {
        m->handler_name = i->handler_name;
        m->handler = i->handler;
        m->handler_backend = i->handler_backend;
    }
    if (i->default_type)
        m->default_type = i->default_type;
    if (i->default_charset)
        m->default_charset = i->default_charset;
    m->env = concat(a, o->env, o->nenv, i->env, i->nenv, sizeof(*o->env), &m->nenv);
    if (i->limit_request_body >= 0)
        m->limit_request_body = i->limit_request_body;
    if (i->enable_sendfile >= 0)
        m->enable_sendfile = i->enable_sendfile;
    if (i->enable_mmap >= 0)
        m->enable_mmap = i->enable_mmap;
    if (i->fcgi_backend_type >= 0)
        m->fcgi_backend_type = i->fcgi_backend_type;
    m->fcgi_setenv = concat(a, o->fcgi_setenv, o->nfcgi_setenv, i->fcgi_setenv,
                            i->nfcgi_setenv, sizeof(*o->fcgi_setenv), &m->nfcgi_setenv);
    m->reverse = concat(a, o->reverse, o->nreverse, i->reverse, i->nreverse,
                        sizeof(*o->reverse), &m->nreverse);
    m->cookie_paths = concat(a, o->cookie_paths, o->ncookie_paths, i->cookie_paths,
                             i->ncookie_paths, sizeof(*o->cookie_paths), &m->ncookie_paths);
    m->cookie_domains = concat(a, o->cookie_domains, o->ncookie_domains, i->cookie_domains,
                               i->ncookie_domains, sizeof(*o->cookie_domains),
                               &m->ncookie_domains);
    merge_rewrite(a, &m->rewrite, &o->rewrite, &i->rewrite);
    m->mod_directives = concat(a, o->mod_directives, o->nmod_directives, i->mod_directives,
                               i->nmod_directives, sizeof(*o->mod_directives),
                               &m->nmod_directives);
    m->ifs = concat(a, o->ifs, o->nifs, i->ifs, i->nifs, sizeof(*o->ifs), &m->nifs);
    m->compress = pt_compress_conf_merge(a, o->compress, i->compress);
    return m;
}

/* ---- Section walk ----------------------------------------------------------------------- */

static size_t count_components(const char *p)
{
    size_t n = 0;
    for (; *p; p++)
        if (*p == '/' && p[1] && p[1] != '/')
            n++;
    return n;
}

/* How a <Directory> applies to a walked file name: not at all, to a directory on the way
 * (the name goes on with a '/'; the walk gives a directory a trailing '/'), or to the whole
 * name, which the walk reaches only in some cases (see walk_directories). */
typedef enum { DIR_NO, DIR_ON_THE_WAY, DIR_WHOLE_NAME } dir_match_t;

/* A wildcard <Directory> is matched as in Apache's walk, against the prefix of filename with as
 * many components as dir, so /x/<star> applies to the directory /x/sub/ and what is in it,
 * and to a name under /x that does not exist only as far as the walk goes (not at all). */
static dir_match_t directory_matches(const char *dir, const char *filename)
{
    if (strcmp(dir, "/") == 0)
        return filename[0] == '/' ? DIR_ON_THE_WAY : DIR_NO;
    if (!strpbrk(dir, "*?[")) {
        size_t len = strlen(dir);
        if (strncmp(filename, dir, len) != 0)
            return DIR_NO;
        return filename[len] == '/' ? DIR_ON_THE_WAY
                                    : filename[len] == '\0' ? DIR_WHOLE_NAME : DIR_NO;
    }
    size_t want = count_components(dir), seen = 0;
    const char *p = filename;
    while (*p && seen < want) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        while (*p && *p != '/')
            p++;
        seen++;
    }
    if (seen < want || (*p != '/' && *p != '\0'))
        return DIR_NO;
    char prefix[4096], pattern[4096];
    size_t len = (size_t)(p - filename), dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    if (len >= sizeof(prefix) || dl >= sizeof(pattern))
        return DIR_NO;
    memcpy(prefix, filename, len);
    prefix[len] = '\0';
    memcpy(pattern, dir, dl);
    pattern[dl] = '\0';
    if (fnmatch(pattern, prefix, FNM_PATHNAME) != 0)
        return DIR_NO;
    return *p == '/' ? DIR_ON_THE_WAY : DIR_WHOLE_NAME;
}

/* Apache's walk reaches the last name itself (as "name/", so a <Directory> naming it or a
 * wildcard one matching it applies) only when the whole path exists and the Options in force
 * before it are FollowSymLinks without SymLinksIfOwnerMatch: it then skips the lstat of each
 * name and takes it for a directory. Otherwise it lstats, stops at a regular file or a
 * missing name, and no section of that depth applies. */
static bool walk_reaches_whole_name(const char *filename, bool exists, unsigned options)
{
    if ((options & (PT_OPT_FOLLOW_SYMLINKS | PT_OPT_SYMLINKS_IF_OWNER)) !=
        PT_OPT_FOLLOW_SYMLINKS)
        return false;
    size_t n = strlen(filename);
    if (n == 0 || filename[n - 1] == '/')
        return false;
    struct stat st;
    return exists && stat(filename, &st) == 0;
}

static bool location_matches(const char *loc, const char *uri)
{
    if (strpbrk(loc, "*?["))
        return fnmatch(loc, uri, FNM_PATHNAME) == 0;
    size_t len = strlen(loc);
    if (strncmp(uri, loc, len) != 0)
        return false;
    return len == 0 || loc[len - 1] == '/' || uri[len] == '/' || uri[len] == '\0';
}

typedef struct {
    const pt_section_t *s;
    size_t ncomp;
    size_t order;
    bool whole; /* matched the whole name: applies only when the walk reaches it */
} dsec_t;

/* The .htaccess files of a walk: Apache reads a directory's file right after it merges
 * the <Directory> sections of that depth, when the AllowOverride merged so far lets
 * something in; the next depth's sections then come after it. */
#define HT_MAX_LEVELS 64
typedef struct {
    const pt_htaccess_reader_t *ht; /* NULL: no files are read */
    const char *name;               /* the walked name */
    size_t dirlen;                  /* its directories: name[0..dirlen), ending in '/' */
    size_t next;                    /* where the next directory's '/' is looked for */
    size_t level;                   /* the depth of the next directory to read */
    const pt_htaccess_t *read[HT_MAX_LEVELS];
    size_t nread;
    int status;
} ht_walk_t;

static void ht_walk_init(ht_walk_t *w, const pt_htaccess_reader_t *ht, const char *name)
{
    memset(w, 0, sizeof(*w));
    w->ht = ht;
    w->name = name;
    const char *slash = strrchr(name, '/');
    w->dirlen = slash ? (size_t)(slash - name) + 1 : 0;
}

/* Reads the files of the directories of depth below upto (all of them: SIZE_MAX). */
static const pt_dir_config_t *ht_walk_to(pt_arena_t *a, ht_walk_t *w, size_t upto,
                                         const pt_dir_config_t *d)
{
    while (w->ht && !w->status && w->level < upto && w->next < w->dirlen) {
        const char *slash = memchr(w->name + w->next, '/', w->dirlen - w->next);
        if (!slash)
            break;
        size_t len = (size_t)(slash - w->name) + 1;
        w->next = len;
        if (len > 1 && w->name[len - 2] == '/')
            continue; /* "//": not a new depth */
        w->level++;
        if (!((d->overrides & PT_OVR_ALL) || d->noverride_list))
            continue;
        const char *dir = pt_arena_strndup(a, w->name, len);
        const pt_htaccess_t *h = w->ht->read(w->ht->ctx, dir, d, &w->status);
        if (h && w->nread < HT_MAX_LEVELS) {
            w->read[w->nread++] = h;
            d = pt_dir_config_merge(a, d, h->dc);
        }
    }
    return d;
}

/* Plain <Directory> sections on the walk to filename, shortest first, ties in file order,
 * each depth followed by its .htaccess file (w); then the <DirectoryMatch> ones. exists:
 * filename is the whole path and it exists. */
static const pt_dir_config_t *walk_directories(pt_arena_t *a, const pt_vhost_t *vh,
                                               const char *filename, bool exists,
                                               const pt_dir_config_t *d,
                                               const pt_dir_config_t **matched, size_t *nm,
                                               unsigned *walk_options, const char *rx_name,
                                               ht_walk_t *w)
{
    dsec_t *v = pt_arena_alloc(a, (vh->nsections + 1) * sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < vh->nsections; i++) {
        const pt_section_t *s = &vh->sections[i];
        if (s->kind != PT_SEC_DIRECTORY)
            continue;
        dir_match_t m = directory_matches(s->pattern, filename);
        if (m != DIR_NO)
            v[n++] = (dsec_t){s, count_components(s->pattern), i, m == DIR_WHOLE_NAME};
    }
    /* Insertion sort: stable, and the lists are short. */
    for (size_t i = 1; i < n; i++) {
        dsec_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1].ncomp > x.ncomp; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    /* Whole-name matches have the most components: they come last, and whether the walk
     * reaches the name depends on the Options merged from the directories before it. */
    int reach = -1;
    *walk_options = d->options;
    for (size_t i = 0; i < n; i++) {
        if (w && !v[i].whole)
            d = ht_walk_to(a, w, v[i].ncomp, d);
        if (w && v[i].whole)
            d = ht_walk_to(a, w, SIZE_MAX, d);
        if (v[i].whole) {
            if (reach < 0) {
                reach = walk_reaches_whole_name(filename, exists, d->options);
                *walk_options = d->options;
            }
            if (!reach)
                continue;
        }
        d = pt_dir_config_merge(a, d, v[i].s->conf);
        matched[(*nm)++] = v[i].s->conf;
        if (!v[i].whole)
            *walk_options = d->options;
    }
    if (w)
        d = ht_walk_to(a, w, SIZE_MAX, d);
    for (size_t i = 0; i < vh->nsections; i++) {
        const pt_section_t *s = &vh->sections[i];
        if (s->kind == PT_SEC_DIRECTORY_MATCH && pt_regex_exec(s->re, rx_name, 0, NULL, 0) == 0) {
            d = pt_dir_config_merge(a, d, s->conf);
            matched[(*nm)++] = s->conf;
        }
    }
    return d;
}

unsigned pt_config_walk_options(pt_arena_t *a, const pt_vhost_t *vh, const char *dir)
{
    const pt_dir_config_t **matched = pt_arena_alloc(a, (vh->nsections + 1) * sizeof(*matched));
    size_t nm = 0;
    unsigned wo = vh->dir->options;
    walk_directories(a, vh, dir, false, vh->dir, matched, &nm, &wo, dir, NULL);
    return wo;
}

const pt_dir_config_t *pt_config_dir_for(pt_arena_t *a, const pt_vhost_t *vh,
                                         const char *filename, const char *uri_path)
{
    return pt_config_dir_for_walk(a, vh, filename, filename, true, uri_path, NULL);
}

/* FNV-1a over the merged sections: the same sections in the same order give the same value. */
static uint64_t sig_add(uint64_t h, const void *p)
{
    uintptr_t v = (uintptr_t)p;
    for (size_t i = 0; i < sizeof(v); i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Merges the <Files>/<FilesMatch> sections nested in the <Directory> whose config is within
 * (top-level ones: NULL) that match base, in file order. Apache keeps a list of them per
 * directory config and a merge appends the inner list to the outer one, so the top-level
 * sections come first, then those of each merged <Directory> in the walk's order: a nested
 * section wins over a top-level one whatever their order in the file. */
/* The <Files> sections of the .htaccess files read, directory by directory, after those
 * of the configuration (Apache appends each file's list as it merges the file). */
static const pt_dir_config_t *merge_ht_files(pt_arena_t *a, const ht_walk_t *w,
                                             const char *base, const pt_dir_config_t *d,
                                             uint64_t *sig);

static const pt_dir_config_t *merge_files(pt_arena_t *a, const pt_vhost_t *vh, const char *base,
                                          const pt_dir_config_t *within,
                                          const pt_dir_config_t *d, uint64_t *sig)
{
    for (size_t i = 0; i < vh->nsections; i++) {
        const pt_section_t *s = &vh->sections[i];
        if (s->kind != PT_SEC_FILES && s->kind != PT_SEC_FILES_MATCH)
            continue;
        if ((s->within ? s->within->conf : NULL) != within)
            continue;
        bool hit = s->kind == PT_SEC_FILES ? fnmatch(s->pattern, base, 0) == 0
                                           : pt_regex_exec(s->re, base, 0, NULL, 0) == 0;
        if (hit) {
            d = pt_dir_config_merge(a, d, s->conf);
            *sig = sig_add(*sig, s->conf);
        }
    }
    return d;
}

static const pt_dir_config_t *merge_ht_files(pt_arena_t *a, const ht_walk_t *w,
                                             const char *base, const pt_dir_config_t *d,
                                             uint64_t *sig)
{
    for (size_t k = 0; k < w->nread; k++) {
        const pt_htaccess_t *h = w->read[k];
        for (size_t i = 0; i < h->nfiles; i++) {
            const pt_section_t *s = &h->files[i];
            bool hit = s->kind == PT_SEC_FILES ? fnmatch(s->pattern, base, 0) == 0
                                               : pt_regex_exec(s->re, base, 0, NULL, 0) == 0;
            if (hit) {
                d = pt_dir_config_merge(a, d, s->conf);
                *sig = sig_add(*sig, s->conf);
            }
        }
    }
    return d;
}

const pt_dir_config_t *pt_config_dir_for_walk(pt_arena_t *a, const pt_vhost_t *vh,
                                              const char *filename, const char *rx_name,
                                              bool whole_path, const char *uri_path,
                                              pt_walk_result_t *out)
{
    const pt_dir_config_t *d = vh->dir;
    pt_walk_result_t unused = {0};
    if (!out)
        out = &unused;
    out->status = 0;
    out->walk_options = out->dir_options = d->options;
    uint64_t sig = sig_add(0xcbf29ce484222325ull, vh);
    if (filename) {
        const pt_dir_config_t **matched = pt_arena_alloc(a, (vh->nsections + 1) *
                                                                sizeof(*matched));
        size_t nm = 0;
        ht_walk_t *w = NULL;
        if (out->ht) {
            w = pt_arena_alloc(a, sizeof(*w));
            ht_walk_init(w, out->ht, filename);
        }
        d = walk_directories(a, vh, filename, whole_path, d, matched, &nm, &out->walk_options,
                             rx_name ? rx_name : filename, w);
        out->dir_options = d->options;
        for (size_t i = 0; i < nm; i++)
            sig = sig_add(sig, matched[i]);
        for (size_t i = 0; w && i < w->nread; i++)
            sig = sig_add(sig, w->read[i]);
        if (w && w->status) {
            out->status = w->status;
            out->sections = sig ? sig : 1;
            return d;
        }
        const char *slash = strrchr(filename, '/');
        const char *base = slash ? slash + 1 : filename;
        d = merge_files(a, vh, base, NULL, d, &sig);
        for (size_t i = 0; i < nm; i++)
            d = merge_files(a, vh, base, matched[i], d, &sig);
        if (w)
            d = merge_ht_files(a, w, base, d, &sig);
    }
    for (size_t i = 0; uri_path && i < vh->nsections; i++) {
        const pt_section_t *s = &vh->sections[i];
        bool hit = false;
        if (s->kind == PT_SEC_LOCATION)
            hit = location_matches(s->pattern, uri_path);
        else if (s->kind == PT_SEC_LOCATION_MATCH)
            hit = pt_regex_exec(s->re, uri_path, 0, NULL, 0) == 0;
        if (hit) {
            d = pt_dir_config_merge(a, d, s->conf);
            sig = sig_add(sig, s->conf);
        }
    }
    out->sections = sig ? sig : 1;
    return d;
}

/* ---- <If> ------------------------------------------------------------------------------- */

/* One level of sections: the chain rules over the list, then the sections nested in each
 * one merged, in the same order: apache2 2.4 merges a nested <If> after every section of
 * the level above it ("srv-if, dir-if, loc-if, srv-if-nested"). */
static const pt_dir_config_t *if_walk(pt_arena_t *a, const pt_dir_config_t *d,
                                      const pt_if_section_t *v, size_t n, pt_if_eval_t eval,
                                      void *ctx, uint64_t *sig)
{
    const pt_dir_config_t **merged = pt_arena_alloc(a, (n + 1) * sizeof(*merged));
    size_t nm = 0;
    int prev = -1; /* the chain so far: 1 a section of it was merged, 0 none, -1 ended */
    for (size_t i = 0; i < n; i++) {
        const pt_if_section_t *s = &v[i];
        if (s->kind != PT_IF_IF && prev == 1)
            continue;
        if (s->kind != PT_IF_ELSE) {
            prev = eval(ctx, s) > 0;
            if (!prev)
                continue;
        } else {
            prev = -1;
        }
        d = pt_dir_config_merge(a, d, s->conf);
        merged[nm++] = s->conf;
        if (*sig)
            *sig = sig_add(*sig, s->conf);
    }
    for (size_t i = 0; i < nm; i++)
        if (merged[i]->nifs)
            d = if_walk(a, d, merged[i]->ifs, merged[i]->nifs, eval, ctx, sig);
    return d;
}

const pt_dir_config_t *pt_config_if_walk(pt_arena_t *a, const pt_dir_config_t *d,
                                         pt_if_eval_t eval, void *ctx, uint64_t *sections)
{
    uint64_t none = 0;
    return if_walk(a, d, d->ifs, d->nifs, eval, ctx, sections ? sections : &none);
}

/* ---- Virtual hosts ---------------------------------------------------------------------- */

/* 1: the vhost names this exact IP; 0: a wildcard address that matches; -1: no match. */
static int addr_match(const pt_vaddr_t *va, const struct sockaddr *local)
{
    int port = 0;
    const void *ip4 = NULL, *ip6 = NULL;
    if (local->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)local;
        port = ntohs(s4->sin_port);
        ip4 = &s4->sin_addr;
    } else if (local->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)local;
        port = ntohs(s6->sin6_port);
        ip6 = &s6->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
            ip4 = (const uint8_t *)&s6->sin6_addr + 12;
    }
    if (va->port != 0 && va->port != port)
        return -1;
    if (va->addrlen == 0)
        return 0;
    if (va->addr.ss_family == AF_INET && ip4)
        return memcmp(&((const struct sockaddr_in *)&va->addr)->sin_addr, ip4, 4) == 0 ? 1
                                                                                       : -1;
    if (va->addr.ss_family == AF_INET6 && ip6)
        return memcmp(&((const struct sockaddr_in6 *)&va->addr)->sin6_addr, ip6, 16) == 0
                   ? 1
                   : -1;
    return -1;
}

static int vhost_addr_match(const pt_vhost_t *vh, const struct sockaddr *local)
{
    int best = -1;
    for (size_t i = 0; i < vh->naddrs; i++)
        best = PT_MAX(best, addr_match(&vh->addrs[i], local));
    return best;
}

static bool name_match(const pt_vhost_t *vh, const char *host, size_t hlen)
{
    char h[256];
    if (hlen >= sizeof(h))
        return false;
    memcpy(h, host, hlen);
    h[hlen] = '\0';
    if (vh->server_name && strcasecmp(vh->server_name, h) == 0)
        return true;
    for (size_t i = 0; i < vh->naliases; i++)
        if (fnmatch(vh->aliases[i], h, FNM_CASEFOLD) == 0)
            return true;
    return false;
}

/* Apache's order: vhosts naming the local IP exactly are considered before wildcard ones;
 * within a set, the first whose name matches wins, else the set's first is the default. */
const pt_vhost_t *pt_config_vhost_for(const pt_config_t *cfg, const struct sockaddr *local,
                                      const char *host)
{
    size_t hlen = host ? strlen(host) : 0;
    while (hlen > 0 && host[hlen - 1] == '.')
        hlen--;
    for (int level = 1; level >= 0; level--) {
        const pt_vhost_t *first = NULL;
        for (size_t i = 0; i < cfg->nvhosts; i++) {
            const pt_vhost_t *vh = cfg->vhosts[i];
            if (!local || vhost_addr_match(vh, local) != level)
                continue;
            if (!first)
                first = vh;
            if (hlen && name_match(vh, host, hlen))
                return vh;
        }
        if (first)
            return first;
    }
    return cfg->main_server;
}

/* StrictHostCheck (Apache's ap_update_vhost_from_headers_ex with require_match): the default
 * server of the address decides whether it applies, and a name counts only when a server on
 * that address (the main server when no virtual host is on it) names it. */
bool pt_config_host_rejected(const pt_config_t *cfg, const struct sockaddr *local,
                             const char *host)
{
    size_t hlen = host ? strlen(host) : 0;
    while (hlen > 0 && host[hlen - 1] == '.')
        hlen--;
    if (!hlen)
        return false;
    for (int level = 1; level >= 0; level--) {
        const pt_vhost_t *first = NULL;
        bool named = false;
        for (size_t i = 0; i < cfg->nvhosts; i++) {
            const pt_vhost_t *vh = cfg->vhosts[i];
            if (!local || vhost_addr_match(vh, local) != level)
                continue;
            if (!first)
                first = vh;
            named = named || name_match(vh, host, hlen);
        }
        if (first)
            return first->core.strict_host_check == 2 && !named;
    }
    const pt_vhost_t *m = cfg->main_server;
    return m->core.strict_host_check == 2 && !name_match(m, host, hlen);
}
