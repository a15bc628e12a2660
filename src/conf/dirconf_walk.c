/* The section walk of a loaded configuration: the <Directory> sections (and the .htaccess
 * files of each depth) that hold a file, then <DirectoryMatch>, <Files> and <Location>, as
 * Apache merges them, and the <If> walk after it. Reads the immutable config and allocates
 * from the caller's arena. */
#include "config.h"
#include "dirconf_walk.h"
#include "htaccess_parse.h"

#include <fnmatch.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
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
} dsec_t;

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

/* The plain <Directory> sections that hold name's directory (those on the way: a section
 * naming the whole name is the walk's last step, walk_whole_name), shortest first, ties in
 * file order. whole gets, in file order, the ones naming the whole name (exact), or else
 * (name is a directory, ending in '/') those that may name a name in it: a wildcard one, or
 * a plain one that is the directory and one more name. */
typedef struct {
    const pt_section_t **v;
    size_t n;
} whole_t;

static bool may_name_an_entry(const char *pattern, const char *dir)
{
    if (strpbrk(pattern, "*?["))
        return true;
    size_t n = strlen(dir);
    return strncmp(pattern, dir, n) == 0 && pattern[n] && !strchr(pattern + n, '/');
}

static size_t sections_on_the_way(pt_arena_t *a, const pt_vhost_t *vh, const char *name,
                                  dsec_t **out, whole_t *whole, bool exact)
{
    dsec_t *v = pt_arena_alloc(a, (vh->nsections + 1) * sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < vh->nsections; i++) {
        const pt_section_t *s = &vh->sections[i];
        if (s->kind != PT_SEC_DIRECTORY)
            continue;
        dir_match_t m = directory_matches(s->pattern, name);
        if (m == DIR_ON_THE_WAY) {
            v[n++] = (dsec_t){s, count_components(s->pattern)};
        } else if (exact ? m == DIR_WHOLE_NAME : may_name_an_entry(s->pattern, name)) {
            if (!whole->v)
                whole->v = pt_arena_alloc(a, vh->nsections * sizeof(*whole->v));
            whole->v[whole->n++] = s;
        }
    }
    /* Insertion sort: stable, and the lists are short. */
    for (size_t i = 1; i < n; i++) {
        dsec_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1].ncomp > x.ncomp; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    *out = v;
    return n;
}

static void walk_prefix(pt_arena_t *a, const pt_vhost_t *vh, const char *name,
                        const pt_htaccess_reader_t *ht, pt_walk_prefix_t *out, whole_t *whole,
                        bool exact)
{
    dsec_t *v;
    size_t n = sections_on_the_way(a, vh, name, &v, whole, exact);
    ht_walk_t w;
    memset(&w, 0, offsetof(ht_walk_t, read)); /* read[] is filled as nread grows */
    w.nread = 0;
    w.status = 0;
    w.ht = ht;
    w.name = name;
    if (ht) {
        const char *slash = strrchr(name, '/');
        w.dirlen = slash ? (size_t)(slash - name) + 1 : 0;
    }
    const pt_dir_config_t *d = vh->dir;
    const pt_dir_config_t **matched = pt_arena_alloc(a, (n + 1) * sizeof(*matched));
    uint64_t sig = sig_add(0xcbf29ce484222325ull, vh);
    out->walk_options = d->options;
    for (size_t i = 0; i < n; i++) {
        if (ht)
            d = ht_walk_to(a, &w, v[i].ncomp, d);
        d = pt_dir_config_merge(a, d, v[i].s->conf);
        matched[i] = v[i].s->conf;
        sig = sig_add(sig, matched[i]);
        out->walk_options = d->options;
    }
    out->d = ht ? ht_walk_to(a, &w, SIZE_MAX, d) : d;
    out->matched = matched;
    out->nmatched = n;
    const pt_htaccess_t **read = NULL;
    if (w.nread) {
        read = pt_arena_alloc(a, w.nread * sizeof(*read));
        memcpy(read, w.read, w.nread * sizeof(*read));
    }
    for (size_t i = 0; i < w.nread; i++)
        sig = sig_add(sig, read[i]);
    out->read = read;
    out->nread = w.nread;
    out->status = w.status;
    out->sections = sig;
}

/* The <Files> sections in the order merge_files takes them: top-level ones, then those
 * nested in each of the prefix's sections. */
static void prefix_files(pt_arena_t *a, const pt_vhost_t *vh, pt_walk_prefix_t *out)
{
    const pt_section_t **v = NULL;
    size_t n = 0;
    for (size_t k = 0; k <= out->nmatched; k++) {
        const pt_dir_config_t *within = k ? out->matched[k - 1] : NULL;
        for (size_t i = 0; i < vh->nsections; i++) {
            const pt_section_t *s = &vh->sections[i];
            if ((s->kind != PT_SEC_FILES && s->kind != PT_SEC_FILES_MATCH) ||
                (s->within ? s->within->conf : NULL) != within)
                continue;
            if (!v)
                v = pt_arena_alloc(a, (out->nmatched + 1) * vh->nsections * sizeof(*v));
            v[n++] = s;
        }
    }
    out->files = v;
    out->nfiles = n;
}

void pt_config_walk_prefix(pt_arena_t *a, const pt_vhost_t *vh, const char *name,
                           const pt_htaccess_reader_t *ht, pt_walk_prefix_t *out)
{
    whole_t may = {NULL, 0};
    walk_prefix(a, vh, name, ht, out, &may, false);
    out->whole = may.v;
    out->nwhole = may.n;
    prefix_files(a, vh, out);
}

unsigned pt_config_walk_options(pt_arena_t *a, const pt_vhost_t *vh, const char *dir)
{
    pt_walk_prefix_t p;
    pt_config_walk_prefix(a, vh, dir, NULL, &p);
    return p.walk_options;
}

const pt_dir_config_t *pt_config_dir_for(pt_arena_t *a, const pt_vhost_t *vh,
                                         const char *filename, const char *uri_path)
{
    return pt_config_dir_for_walk(a, vh, filename, filename, true, uri_path, NULL);
}

/* directory_matches(pattern, filename) == DIR_WHOLE_NAME, without its work for the common
 * case: a plain pattern names the whole name only when it is the name. */
static bool names_whole_name(const char *pattern, const char *filename)
{
    if (strpbrk(pattern, "*?["))
        return directory_matches(pattern, filename) == DIR_WHOLE_NAME;
    return strcmp(pattern, filename) == 0 && strcmp(pattern, "/") != 0;
}

/* The sections merged after the prefix (for their nested <Files>). */
typedef struct {
    const pt_dir_config_t **v;
    size_t n;
} extra_t;

static void extra_add(pt_arena_t *a, const pt_vhost_t *vh, extra_t *x, const pt_dir_config_t *c)
{
    if (!x->v)
        x->v = pt_arena_alloc(a, (vh->nsections + 1) * sizeof(*x->v));
    x->v[x->n++] = c;
}

/* What follows the prefix: a <Directory> naming the whole name (when the walk reaches it),
 * then the <DirectoryMatch> sections. Whole-name matches have the most components, so they
 * come last among the plain ones, and whether the walk reaches the name depends on the
 * Options merged from the directories before it. exists: filename is the whole path and it
 * exists. */
static const pt_dir_config_t *walk_whole_name(pt_arena_t *a, const pt_vhost_t *vh,
                                              const char *filename, bool exists,
                                              const char *rx_name, const pt_dir_config_t *d,
                                              const whole_t *whole, bool exact, extra_t *x,
                                              unsigned *walk_options, uint64_t *sig)
{
    int reach = -1;
    for (size_t i = 0; i < whole->n; i++) {
        const pt_section_t *s = whole->v[i];
        if (!exact && !names_whole_name(s->pattern, filename))
            continue;
        if (reach < 0) {
            reach = walk_reaches_whole_name(filename, exists, d->options);
            *walk_options = d->options;
        }
        if (!reach)
            break;
        d = pt_dir_config_merge(a, d, s->conf);
        extra_add(a, vh, x, s->conf);
        *sig = sig_add(*sig, s->conf);
    }
    if (vh->sections_absent & PT_SEC_BIT(PT_SEC_DIRECTORY_MATCH))
        return d;
    for (size_t i = 0; i < vh->nsections; i++) {
        const pt_section_t *s = &vh->sections[i];
        if (s->kind == PT_SEC_DIRECTORY_MATCH && pt_regex_exec(s->re, rx_name, 0, NULL, 0) == 0) {
            d = pt_dir_config_merge(a, d, s->conf);
            extra_add(a, vh, x, s->conf);
            *sig = sig_add(*sig, s->conf);
        }
    }
    return d;
}

/* Merges the <Files>/<FilesMatch> sections nested in the <Directory> whose config is within
 * (top-level ones: NULL) that match base, in file order. Apache keeps a list of them per
 * directory config and a merge appends the inner list to the outer one, so the top-level
 * sections come first, then those of each merged <Directory> in the walk's order: a nested
 * section wins over a top-level one whatever their order in the file. */
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

/* The sections of list that match base, merged in its order. */
static const pt_dir_config_t *merge_files_list(pt_arena_t *a, const pt_section_t *const *list,
                                               size_t n, const char *base,
                                               const pt_dir_config_t *d, uint64_t *sig)
{
    for (size_t i = 0; i < n; i++) {
        const pt_section_t *s = list[i];
        bool hit = s->kind == PT_SEC_FILES ? fnmatch(s->pattern, base, 0) == 0
                                           : pt_regex_exec(s->re, base, 0, NULL, 0) == 0;
        if (hit) {
            d = pt_dir_config_merge(a, d, s->conf);
            *sig = sig_add(*sig, s->conf);
        }
    }
    return d;
}

/* The <Files> sections of the .htaccess files read, directory by directory, after those
 * of the configuration (Apache appends each file's list as it merges the file). */
static const pt_dir_config_t *merge_ht_files(pt_arena_t *a, const pt_walk_prefix_t *p,
                                             const char *base, const pt_dir_config_t *d,
                                             uint64_t *sig)
{
    for (size_t k = 0; k < p->nread; k++) {
        const pt_htaccess_t *h = p->read[k];
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

/* The <Directory>, .htaccess, <DirectoryMatch> and <Files> part of the walk for filename. */
static const pt_dir_config_t *walk_file(pt_arena_t *a, const pt_vhost_t *vh,
                                        const char *filename, const char *rx_name,
                                        bool whole_path, pt_walk_result_t *out, uint64_t *sig)
{
    const pt_walk_prefix_t *p = NULL;
    pt_walk_prefix_t mine;
    whole_t whole = {NULL, 0};
    bool exact = false; /* whole holds the sections naming filename, not those that may */
    const char *slash = strrchr(filename, '/');
    size_t dirlen = slash ? (size_t)(slash - filename) + 1 : 0;
    if (out->ht && out->ht->prefix)
        p = out->ht->prefix(out->ht->ctx, vh, filename, dirlen);
    if (!p) {
        walk_prefix(a, vh, filename, out->ht, &mine, &whole, true);
        p = &mine;
        exact = true;
    } else {
        whole = (whole_t){(const pt_section_t **)p->whole, p->nwhole};
    }
    const pt_dir_config_t *d = p->d;
    *sig = p->sections;
    out->walk_options = p->walk_options;
    if (p->status) {
        out->status = p->status;
        out->dir_options = d->options;
        return d;
    }
    extra_t x = {NULL, 0};
    d = walk_whole_name(a, vh, filename, whole_path, rx_name ? rx_name : filename, d, &whole,
                        exact, &x, &out->walk_options, sig);
    out->dir_options = d->options;
    const char *base = slash ? slash + 1 : filename;
    if (exact) {
        d = merge_files(a, vh, base, NULL, d, sig);
        for (size_t i = 0; i < p->nmatched; i++)
            d = merge_files(a, vh, base, p->matched[i], d, sig);
    } else {
        d = merge_files_list(a, p->files, p->nfiles, base, d, sig);
    }
    for (size_t i = 0; i < x.n; i++)
        d = merge_files(a, vh, base, x.v[i], d, sig);
    return merge_ht_files(a, p, base, d, sig);
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
    /* A file's walk starts its signature over from the prefix's (walk_file), which begins
     * with the vhost too. */
    uint64_t sig = 0;
    if (filename) {
        d = walk_file(a, vh, filename, rx_name, whole_path, out, &sig);
        if (out->status) {
            out->sections = sig ? sig : 1;
            return d;
        }
    } else {
        sig = sig_add(0xcbf29ce484222325ull, vh);
    }
    unsigned locations = PT_SEC_BIT(PT_SEC_LOCATION) | PT_SEC_BIT(PT_SEC_LOCATION_MATCH);
    if ((vh->sections_absent & locations) == locations)
        uri_path = NULL;
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
