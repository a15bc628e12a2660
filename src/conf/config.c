/* The httpd.conf language: logical lines (comments, '\' continuation), quoted words,
 * <Section> nesting, Include/IncludeOptional, Define/UnDefine and ${NAME}, <IfModule> and
 * <IfDefine>, and the built-in module list. The result is a node tree; directives.c gives
 * the nodes their meaning. */
#include "config.h"
#include "modcatalog.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Apache allows 128; real configs nest a handful, and a deep chain is almost always a loop
 * through different names. */
#define MAX_INCLUDE_DEPTH 32

typedef struct {
    const char *name;
    const char *value; /* NULL for -D NAME and "Define NAME": usable by <IfDefine> only */
} define_t;

typedef struct {
    pt_arena_t *a;
    char *err;
    size_t errlen;
    const char *server_root;
    bool htaccess; /* pt_parse_opts_t.htaccess */
    int mpm;
    bool mpm_set; /* an MPM directive (or LoadModule mpm_*) has been read */
    const char **loaded; /* modules LoadModule'd so far, for <IfModule> */
    bool loads_builtin;  /* a LoadModule has named one of Apache's shared modules portico
                          * builds in: from then on <IfModule> follows the LoadModule lines */
    size_t nloaded;
    define_t *defs;
    size_t ndefs, capdefs;
    const char *stack[MAX_INCLUDE_DEPTH]; /* real paths of the files being read */
    int depth;
    bool (*directive_known)(const char *name, bool section); /* pt_parse_opts_t's */
} pctx_t;

typedef struct {
    const char *file;
    const char *buf;
    size_t pos, len;
    int next_line; /* number of the next physical line */
} reader_t;

/* ---- Errors and small helpers ----------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int fail(pctx_t *c, const char *file, int line,
                                                      const char *fmt, ...)
{
    char msg[PT_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (file)
        snprintf(c->err, c->errlen, "%s:%d: %s", file, line, msg);
    else
        snprintf(c->err, c->errlen, "%s", msg);
    return -1;
}

static const char *resolve_path(pctx_t *c, const char *path)
{
    if (path[0] == '/' || !c->server_root)
        return pt_arena_strdup(c->a, path);
    return pt_arena_printf(c->a, "%s/%s", c->server_root, path);
}

static const define_t *define_find(const pctx_t *c, const char *name)
{
    for (size_t i = c->ndefs; i-- > 0;)
        if (strcmp(c->defs[i].name, name) == 0)
            return &c->defs[i];
    return NULL;
}

static void define_set(pctx_t *c, const char *name, const char *value)
{
    for (size_t i = 0; i < c->ndefs; i++) {
        if (strcmp(c->defs[i].name, name) == 0) {
            c->defs[i].value = value;
            return;
        }
    }
    if (c->ndefs == c->capdefs) {
        size_t cap = c->capdefs ? c->capdefs * 2 : 16;
        c->defs = pt_arena_grow(c->a, c->defs, c->ndefs * sizeof(define_t),
                                cap * sizeof(define_t));
        c->capdefs = cap;
    }
    c->defs[c->ndefs++] = (define_t){name, value};
}

static void define_unset(pctx_t *c, const char *name)
{
    for (size_t i = 0; i < c->ndefs; i++) {
        if (strcmp(c->defs[i].name, name) == 0) {
            c->defs[i] = c->defs[--c->ndefs];
            return;
        }
    }
}

/* ---- Lines and words -------------------------------------------------------------------- */

/* Next logical line, with continuations joined and surrounding space trimmed; comment and
 * blank lines are skipped. *lineno is the line it starts on. Returns NULL at the end. */
static char *read_line(pctx_t *c, reader_t *r, int *lineno)
{
    while (r->pos < r->len) {
        *lineno = r->next_line;
        size_t cap = 128, n = 0;
        char *out = pt_arena_alloc(c->a, cap);
        for (;;) {
            const char *s = r->buf + r->pos;
            const char *nl = memchr(s, '\n', r->len - r->pos);
            size_t plen = nl ? (size_t)(nl - s) : r->len - r->pos;
            r->pos += plen + (nl ? 1 : 0);
            r->next_line++;
            while (plen > 0 && (s[plen - 1] == ' ' || s[plen - 1] == '\t' ||
                                s[plen - 1] == '\r'))
                plen--;
            bool cont = plen > 0 && s[plen - 1] == '\\' && r->pos < r->len;
            if (cont)
                plen--;
            if (n + plen + 1 > cap) {
                size_t ncap = (n + plen + 1) * 2;
                out = pt_arena_grow(c->a, out, n, ncap);
                cap = ncap;
            }
            memcpy(out + n, s, plen);
            n += plen;
            if (!cont)
                break;
        }
        out[n] = '\0';
        char *p = out;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '\0' && *p != '#')
            return p;
    }
    return NULL;
}

/* Replaces ${NAME} with a Define's value, else the environment variable's. */
static const char *expand(pctx_t *c, const char *s, const char *file, int line)
{
    if (!strstr(s, "${"))
        return s;
    size_t cap = strlen(s) + 64, n = 0;
    char *out = pt_arena_alloc(c->a, cap);
    while (*s) {
        const char *end = s[0] == '$' && s[1] == '{' ? strchr(s + 2, '}') : NULL;
        /* ${map:key} is mod_rewrite's, left as written: a Define's name has no ':' (Apache
         * refuses one for this reason). */
        if (end && memchr(s + 2, ':', (size_t)(end - s - 2)))
            end = NULL;
        const char *val = NULL;
        size_t add = 1;
        if (end) {
            char *name = pt_arena_strndup(c->a, s + 2, (size_t)(end - s - 2));
            const define_t *d = define_find(c, name);
            val = d && d->value ? d->value : getenv(name);
            if (!val) {
                fail(c, file, line, "variable ${%s} is not defined", name);
                return NULL;
            }
            add = strlen(val);
        }
        if (n + add + 1 > cap) {
            size_t ncap = (n + add + 1) * 2;
            out = pt_arena_grow(c->a, out, n, ncap);
            cap = ncap;
        }
        if (end) {
            memcpy(out + n, val, add);
            s = end + 1;
        } else {
            out[n] = *s++;
        }
        n += add;
    }
    out[n] = '\0';
    return out;
}

/* Splits s into words as Apache's ap_getword_conf: "..." and '...' group, a backslash
 * escapes the quote character inside them. Returns 0 or -1 (err set). */
static int split_words(pctx_t *c, const char *s, const char *file, int line, int *argc,
                       const char ***argv)
{
    size_t cap = 8;
    int n = 0;
    const char **v = pt_arena_alloc(c->a, cap * sizeof(*v));
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        char *w = pt_arena_alloc(c->a, strlen(s) + 1);
        size_t wn = 0;
        if (*s == '"' || *s == '\'') {
            char q = *s++;
            while (*s && *s != q) {
                if (*s == '\\' && s[1] == q)
                    s++;
                w[wn++] = *s++;
            }
            if (!*s)
                return fail(c, file, line, "unterminated quoted argument");
            s++;
        } else {
            while (*s && *s != ' ' && *s != '\t')
                w[wn++] = *s++;
        }
        w[wn] = '\0';
        const char *e = expand(c, w, file, line);
        if (!e)
            return -1;
        if ((size_t)n + 1 == cap) {
            v = pt_arena_grow(c->a, v, cap * sizeof(*v), cap * 2 * sizeof(*v));
            cap *= 2;
        }
        v[n++] = e;
    }
    v[n] = NULL;
    *argc = n;
    *argv = v;
    return 0;
}

/* ---- Sections --------------------------------------------------------------------------- */

static int parse_block(pctx_t *c, reader_t *r, const char *open, int open_line,
                       pt_node_t ***tail);
static int include_path(pctx_t *c, const char *arg, bool optional, const char *file, int line,
                        pt_node_t ***tail);

/* For "</Name>" returns "Name" (trimmed); NULL when the line is not a close tag. */
static char *close_name(pctx_t *c, const char *l)
{
    if (l[0] != '<' || l[1] != '/')
        return NULL;
    const char *s = l + 2, *e = s + strlen(s);
    if (e > s && e[-1] == '>')
        e--;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    return pt_arena_strndup(c->a, s, (size_t)(e - s));
}

/* Reads past a section whose condition is false, as Apache's ap_soak_end_container: only
 * nesting is looked at, nothing is expanded. */
static int skip_block(pctx_t *c, reader_t *r, const char *open, int open_line)
{
    int depth = 1, line;
    char *l;
    while ((l = read_line(c, r, &line))) {
        char *cn = close_name(c, l);
        if (cn) {
            if (--depth == 0) {
                if (strcasecmp(cn, open) != 0)
                    return fail(c, r->file, line, "Expected </%s> but saw </%s>", open, cn);
                return 0;
            }
        } else if (l[0] == '<') {
            depth++;
        }
    }
    return fail(c, r->file, open_line, "<%s> was not closed.", open);
}

/* <IfFile [!]path>: a relative path is ServerRoot's, as Apache's. */
static bool file_exists(pctx_t *c, const char *arg)
{
    struct stat st;
    return stat(resolve_path(c, arg), &st) == 0;
}

/* A module loaded by an earlier LoadModule line: by identifier ("counter_module") or by
 * Apache's source-file form ("mod_counter.c"). */
static bool loaded_module(const pctx_t *c, const char *arg)
{
    for (size_t i = 0; i < c->nloaded; i++) {
        const char *m = c->loaded[i];
        size_t ml = strlen(m), al = strlen(arg);
        if (strcasecmp(m, arg) == 0)
            return true;
        /* mod_X.c <-> X_module */
        if (ml > 7 && al > 6 && strncasecmp(arg, "mod_", 4) == 0 &&
            strcasecmp(arg + al - 2, ".c") == 0 && al - 6 == ml - 7 &&
            strncasecmp(arg + 4, m, ml - 7) == 0)
            return true;
    }
    return false;
}

/* The sections this parser handles itself (the walker never sees them). */
static bool is_conditional(const char *name)
{
    static const char *const names[] = {"IfModule", "IfDefine", "IfFile", "IfDirective",
                                        "IfSection"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    return false;
}

static bool condition_true(pctx_t *c, const char *kind, const char *arg)
{
    bool neg = arg[0] == '!';
    if (neg)
        arg++;
    bool yes;
    if (strcasecmp(kind, "IfModule") == 0)
        yes = (pt_module_known(arg, c->mpm) && (!c->loads_builtin || pt_module_static(arg))) ||
              loaded_module(c, arg);
    else if (strcasecmp(kind, "IfFile") == 0)
        yes = file_exists(c, arg);
    else if (strcasecmp(kind, "IfDirective") == 0)
        yes = c->directive_known && c->directive_known(arg, false);
    else if (strcasecmp(kind, "IfSection") == 0)
        yes = (c->directive_known && c->directive_known(arg, true)) || is_conditional(arg);
    else
        yes = define_find(c, arg) != NULL;
    return yes != neg;
}

static pt_node_t *node_new(pctx_t *c, const char *name, int argc, const char **argv,
                           const char *file, int line)
{
    pt_node_t *n = pt_arena_calloc(c->a, sizeof(*n));
    n->name = name;
    n->argc = argc;
    n->argv = argv;
    n->file = file;
    n->line = line;
    return n;
}

/* A "#notice" node: the walker turns it into a -t notice (pt_dcx_note) at file:line. */
__attribute__((format(printf, 5, 6))) static void note(pctx_t *c, pt_node_t ***tail,
                                                       const char *file, int line,
                                                       const char *fmt, ...)
{
    char msg[PT_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char **argv = pt_arena_calloc(c->a, 2 * sizeof(*argv));
    argv[0] = pt_arena_strdup(c->a, msg);
    pt_node_t *n = node_new(c, "#notice", 1, argv, file, line);
    **tail = n;
    *tail = &n->next;
}

/* Skipping an <IfModule> of a module Apache has and portico lacks loses what the section
 * held (certbot puts a whole HTTPS site in <IfModule mod_ssl.c>): -t says so. */
static void note_skipped_module(pctx_t *c, pt_node_t ***tail, const char *arg,
                                const char *file, int line)
{
    const pt_apache_module_t *m = arg[0] == '!' ? NULL : pt_apache_module_find(arg);
    if (m)
        note(c, tail, file, line, "<IfModule %s> skipped: portico does not provide %s (%s)",
             arg, m->name, m->what);
}

/* A line starting with '<' that is not a close tag. */
static int open_section(pctx_t *c, reader_t *r, char *l, int line, pt_node_t ***tail)
{
    size_t len = strlen(l);
    const char *s = l + 1;
    size_t nlen = strcspn(s, " \t>");
    char *name = pt_arena_strndup(c->a, s, nlen);
    if (nlen == 0)
        return fail(c, r->file, line, "empty section name");
    if (l[len - 1] != '>')
        return fail(c, r->file, line, "<%s> directive missing closing '>'", name);
    l[len - 1] = '\0';
    int argc;
    const char **argv;
    if (is_conditional(name)) {
        /* The condition is expanded; a skipped body is not. */
        if (split_words(c, s + nlen, r->file, line, &argc, &argv) < 0)
            return -1;
        if (argc != 1)
            return fail(c, r->file, line, "<%s> takes one argument", name);
        if (condition_true(c, name, argv[0]))
            return parse_block(c, r, name, line, tail);
        if (strcasecmp(name, "IfModule") == 0)
            note_skipped_module(c, tail, argv[0], r->file, line);
        return skip_block(c, r, name, line);
    }
    if (split_words(c, s + nlen, r->file, line, &argc, &argv) < 0)
        return -1;
    pt_node_t *n = node_new(c, name, argc, argv, r->file, line);
    n->section = true;
    **tail = n;
    *tail = &n->next;
    pt_node_t **child_tail = &n->children;
    return parse_block(c, r, name, line, &child_tail);
}

/* ---- Directives the parser itself handles ----------------------------------------------- */

static int set_server_root(pctx_t *c, const pt_node_t *n)
{
    struct stat st;
    if (n->argc != 1)
        return fail(c, n->file, n->line, "ServerRoot takes one argument");
    if (stat(n->argv[0], &st) < 0 || !S_ISDIR(st.st_mode))
        return fail(c, n->file, n->line, "ServerRoot must be a valid directory");
    size_t len = strlen(n->argv[0]);
    while (len > 1 && n->argv[0][len - 1] == '/')
        len--;
    c->server_root = pt_arena_strndup(c->a, n->argv[0], len);
    return 0;
}

static int mpm_kind(const char *s)
{
    if (strcasecmp(s, "event") == 0)
        return PT_MPM_EVENT;
    if (strcasecmp(s, "worker") == 0)
        return PT_MPM_WORKER;
    if (strcasecmp(s, "prefork") == 0)
        return PT_MPM_PREFORK;
    return -1;
}

static void add_loaded(pctx_t *c, const char *name)
{
    c->loaded = pt_arena_grow(c->a, c->loaded, c->nloaded * sizeof(*c->loaded),
                              (c->nloaded + 1) * sizeof(*c->loaded));
    c->loaded[c->nloaded++] = name;
}

/* Apache picks its MPM with LoadModule mpm_X_module; we honour that when no MPM directive
 * came first, by adding the equivalent MPM node to the tree. */
static int load_module(pctx_t *c, const pt_node_t *n, pt_node_t ***tail)
{
    if (n->argc != 2)
        return fail(c, n->file, n->line, "LoadModule takes two arguments");
    const char *name = n->argv[0];
    if (!c->mpm_set && strncmp(name, "mpm_", 4) == 0) {
        size_t l = strlen(name);
        char *kind = pt_arena_strndup(c->a, name + 4, l > 11 ? l - 11 : 0);
        int m = mpm_kind(kind);
        if (m >= 0 && strcmp(name + l - 7, "_module") == 0) {
            c->mpm = m;
            c->mpm_set = true;
            const char **argv = pt_arena_calloc(c->a, 2 * sizeof(*argv));
            argv[0] = kind;
            pt_node_t *mn = node_new(c, "MPM", 1, argv, n->file, n->line);
            **tail = mn;
            *tail = &mn->next;
            return 0;
        }
    }
    if (pt_module_known(name, c->mpm)) {
        /* An Apache layout (Debian's mods-enabled) says which of its shared modules it
         * has; <IfModule ssl_module> around Listen 443 must stay false without ssl.load. */
        if (!pt_module_static(name)) {
            c->loads_builtin = true;
            add_loaded(c, name);
        }
        return 0;
    }
    const pt_apache_module_t *am = pt_apache_module_find(name);
    if (am && !am->accepted && !pt_apache_module_is_portico(am->name))
        return fail(c, n->file, n->line,
                    "LoadModule %s: portico does not provide Apache's %s (%s), and cannot load "
                    "Apache's modules%s%s", name, am->name, am->what, am->hint ? "; " : "",
                    am->hint ? am->hint : "");
    if (am && am->accepted) {
        /* As Apache: once loaded, <IfModule> names it; its directives stay refused until
         * portico has them, so nothing it would do is lost without an error. */
        note(c, tail, n->file, n->line,
             "LoadModule %s accepted and ignored: portico does not implement %s (%s)", name,
             am->name, am->what);
        add_loaded(c, am->name);
        return 0;
    }
    if (strncmp(name, "mpm_", 4) == 0 || strstr(name, ".c"))
        return fail(c, n->file, n->line,
                    "module %s is not built into portico (loadable modules are not supported)",
                    name);
    /* A loadable module: directives.c opens it (module.c). The path is resolved against
     * the ServerRoot in effect at this line, as Apache does. */
    const char **argv = pt_arena_calloc(c->a, 3 * sizeof(*argv));
    argv[0] = name;
    argv[1] = resolve_path(c, n->argv[1]);
    pt_node_t *ln = node_new(c, "LoadModule", 2, argv, n->file, n->line);
    **tail = ln;
    *tail = &ln->next;
    add_loaded(c, name);
    return 0;
}

/* Directives with effect at read time. Returns 1 when n was consumed, 0 when it belongs in
 * the tree, -1 on error. */
static int read_time_directive(pctx_t *c, pt_node_t *n, pt_node_t ***tail)
{
    const char *name = n->name;
    static const char *const server_only[] = {"Include", "IncludeOptional", "Define",
                                              "UnDefine", "LoadModule", "ServerRoot", "MPM"};
    for (size_t i = 0; c->htaccess && i < PT_ARRAY_LEN(server_only); i++)
        if (strcasecmp(name, server_only[i]) == 0)
            return fail(c, n->file, n->line, "%s not allowed here", name);
    if (strcasecmp(name, "Include") == 0 || strcasecmp(name, "IncludeOptional") == 0) {
        if (n->argc != 1)
            return fail(c, n->file, n->line, "%s takes one argument", name);
        bool optional = strcasecmp(name, "IncludeOptional") == 0;
        return include_path(c, n->argv[0], optional, n->file, n->line, tail) < 0 ? -1 : 1;
    }
    if (strcasecmp(name, "Define") == 0) {
        if (n->argc < 1 || n->argc > 2)
            return fail(c, n->file, n->line, "Define takes one or two arguments");
        define_set(c, n->argv[0], n->argc == 2 ? n->argv[1] : NULL);
        return 1;
    }
    if (strcasecmp(name, "UnDefine") == 0) {
        if (n->argc != 1)
            return fail(c, n->file, n->line, "UnDefine takes one argument");
        define_unset(c, n->argv[0]);
        return 1;
    }
    if (strcasecmp(name, "LoadModule") == 0)
        return load_module(c, n, tail) < 0 ? -1 : 1;
    if (strcasecmp(name, "ServerRoot") == 0)
        return set_server_root(c, n) < 0 ? -1 : 0;
    if (strcasecmp(name, "MPM") == 0 && n->argc == 1 && mpm_kind(n->argv[0]) >= 0) {
        c->mpm = mpm_kind(n->argv[0]);
        c->mpm_set = true;
    }
    return 0;
}

/* Reads lines until "</open>" (or the end of the file when open is NULL), appending nodes
 * at *tail. */
static int parse_block(pctx_t *c, reader_t *r, const char *open, int open_line,
                       pt_node_t ***tail)
{
    int line;
    char *l;
    while ((l = read_line(c, r, &line))) {
        char *cn = close_name(c, l);
        if (cn) {
            if (!open)
                return fail(c, r->file, line, "</%s> without matching <%s> section", cn, cn);
            if (strcasecmp(cn, open) != 0)
                return fail(c, r->file, line, "Expected </%s> but saw </%s>", open, cn);
            return 0;
        }
        if (l[0] == '<') {
            if (open_section(c, r, l, line, tail) < 0)
                return -1;
            continue;
        }
        size_t nlen = strcspn(l, " \t");
        int argc;
        const char **argv;
        if (split_words(c, l + nlen, r->file, line, &argc, &argv) < 0)
            return -1;
        pt_node_t *n = node_new(c, pt_arena_strndup(c->a, l, nlen), argc, argv, r->file, line);
        const char *raw = l + nlen + strspn(l + nlen, " \t");
        if (!(n->raw = expand(c, pt_arena_strdup(c->a, raw), r->file, line)))
            return -1;
        int rc = read_time_directive(c, n, tail);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            **tail = n;
            *tail = &n->next;
        }
    }
    if (open)
        return fail(c, r->file, open_line, "<%s> was not closed.", open);
    return 0;
}

/* ---- Files and Include ------------------------------------------------------------------ */

static int parse_file(pctx_t *c, const char *path, const char *from, int from_line,
                      pt_node_t ***tail)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return fail(c, from, from_line, "could not open configuration file %s: %s", path,
                    strerror(errno));
    for (int i = 0; i < c->depth; i++)
        if (strcmp(c->stack[i], real) == 0)
            return fail(c, from, from_line, "Include loop: %s includes itself", path);
    if (c->depth == MAX_INCLUDE_DEPTH)
        return fail(c, from, from_line, "Include nesting deeper than %d", MAX_INCLUDE_DEPTH);
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(c, from, from_line, "could not open configuration file %s: %s", path,
                    strerror(errno));
    size_t cap = 4096, n = 0, got;
    char *buf = pt_arena_alloc(c->a, cap);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            buf = pt_arena_grow(c->a, buf, n, cap * 2);
            cap *= 2;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad)
        return fail(c, from, from_line, "error reading %s", path);
    reader_t r = {.file = pt_arena_strdup(c->a, path), .buf = buf, .len = n, .next_line = 1};
    c->stack[c->depth++] = pt_arena_strdup(c->a, real);
    int rc = parse_block(c, &r, NULL, 0, tail);
    c->depth--;
    return rc;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Names in dir (not "." and ".."), matching pattern when given, sorted. */
static int list_dir(pctx_t *c, const char *dir, const char *pattern, const char ***out,
                    size_t *nout)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    size_t cap = 16, n = 0;
    const char **v = pt_arena_alloc(c->a, cap * sizeof(*v));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (pattern && fnmatch(pattern, e->d_name, FNM_PERIOD) != 0)
            continue;
        if (n == cap) {
            v = pt_arena_grow(c->a, v, cap * sizeof(*v), cap * 2 * sizeof(*v));
            cap *= 2;
        }
        v[n++] = pt_arena_printf(c->a, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(v, n, sizeof(*v), cmp_str);
    *out = v;
    *nout = n;
    return 0;
}

static int include_one(pctx_t *c, const char *path, bool skip_dirs, const char *file,
                       int line, pt_node_t ***tail)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return fail(c, file, line, "could not open configuration file %s: %s", path,
                    strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return parse_file(c, path, file, line, tail);
    if (skip_dirs)
        return 0;
    const char **v;
    size_t n;
    int rc = list_dir(c, path, NULL, &v, &n);
    if (rc < 0)
        return fail(c, file, line, "could not open config directory %s: %s", path,
                    strerror(-rc));
    for (size_t i = 0; i < n; i++)
        if (include_one(c, v[i], false, file, line, tail) < 0)
            return -1;
    return 0;
}

static int include_path(pctx_t *c, const char *arg, bool optional, const char *file, int line,
                        pt_node_t ***tail)
{
    const char *path = resolve_path(c, arg);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!strpbrk(base, "*?[")) {
        if (optional && access(path, F_OK) < 0)
            return 0;
        return include_one(c, path, false, file, line, tail);
    }
    const char *dir = slash ? pt_arena_strndup(c->a, path, (size_t)(slash - path)) : ".";
    if (!*dir)
        dir = "/";
    const char **v;
    size_t n;
    int rc = list_dir(c, dir, base, &v, &n);
    if (rc < 0 || n == 0) {
        if (optional)
            return 0;
        if (rc < 0)
            return fail(c, file, line, "could not open config directory %s: %s", dir,
                        strerror(-rc));
        return fail(c, file, line, "No matches for the wildcard '%s' in '%s'", base, dir);
    }
    for (size_t i = 0; i < n; i++)
        if (include_one(c, v[i], true, file, line, tail) < 0)
            return -1;
    return 0;
}

pt_node_t *pt_config_parse(pt_arena_t *a, const char *path, const pt_parse_opts_t *opts,
                           const char **server_root_out, char *err, size_t errlen)
{
    pctx_t c = {.a = a, .err = err, .errlen = errlen, .mpm = PT_MPM_EVENT,
                .htaccess = opts && opts->htaccess,
                .directive_known = opts ? opts->directive_known : NULL};
    const char *main_path = path;
    if (opts && opts->server_root) {
        /* As httpd -f: a relative config path is relative to ServerRoot (-d). */
        c.server_root = pt_arena_strdup(a, opts->server_root);
        main_path = resolve_path(&c, path);
    } else {
        /* No compiled-in ServerRoot: the main file's directory is the natural default. */
        char real[PATH_MAX];
        if (realpath(path, real)) {
            char *s = strrchr(real, '/');
            *s = '\0';
            c.server_root = pt_arena_strdup(a, real[0] ? real : "/");
        }
    }
    for (size_t i = 0; opts && i < opts->ndefines; i++)
        define_set(&c, pt_arena_strdup(a, opts->defines[i]), NULL);
    pt_node_t *head = NULL, **tail = &head;
    if (parse_file(&c, main_path, NULL, 0, &tail) < 0)
        return NULL;
    if (server_root_out)
        *server_root_out = c.server_root;
    if (!head) {
        /* An empty file is a valid (if useless) tree; directives.c reports what is missing. */
        head = node_new(&c, "#empty", 0, pt_arena_calloc(a, sizeof(char *)), main_path, 0);
    }
    return head;
}
