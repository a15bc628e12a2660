/* RewriteMap's txt: and rnd: files (rewrite_eval.c has the int: functions). A file is read
 * when the directive is (a missing one is a config error), then reread when it changes, as
 * Apache's lookup_map does ("cached until the mtime of the mapfile changes"): a lookup stats
 * the file at most once a second per map, and the thread that sees a change reads the new
 * table beside the old one and swaps it in; lookups meanwhile use the old one. While the
 * file cannot be read the map has no values (Apache's lookup returns none), logged once. */
#include "rewrite_int.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A line longer than this is read as several. */
#define RW_MAP_MAX_LINE 8192
/* How often a lookup looks at the file. */
#define RW_MAP_CHECK_MS 1000

typedef struct {
    const char *key, *value;
    size_t line;
} map_entry_t;

static int entry_cmp(const void *x, const void *y)
{
    const map_entry_t *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* One "key value" line (Apache's lookup_map_txtfile: '#' starts a comment line, the value is
 * the second word). false when the line holds no pair. */
static bool map_line(pt_arena_t *a, char *line, map_entry_t *e)
{
    char *p = line + strspn(line, " \t");
    if (*p == '#' || !*p || *p == '\n' || *p == '\r')
        return false;
    size_t kl = strcspn(p, " \t\r\n");
    char *v = p + kl + strspn(p + kl, " \t");
    size_t vl = strcspn(v, " \t\r\n");
    if (!vl)
        return false;
    e->key = pt_arena_strndup(a, p, kl);
    e->value = pt_arena_strndup(a, v, vl);
    return true;
}

static void file_id(const struct stat *st, rw_map_file_id_t *id)
{
    *id = (rw_map_file_id_t){.dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
                             .mtime_s = st->st_mtim.tv_sec, .mtime_ns = st->st_mtim.tv_nsec};
}

/* The table of the file at path, in a: 0, or an errno. Its identity in *id. */
static int table_read(pt_arena_t *a, const char *path, rw_map_table_t *t, rw_map_file_id_t *id)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return errno;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        int e = errno;
        fclose(f);
        return e;
    }
    file_id(&st, id);
    map_entry_t *v = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char line[RW_MAP_MAX_LINE];
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        map_entry_t e = {.line = lineno};
        if (!map_line(a, line, &e))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            v = pt_arena_grow(a, v, cap * sizeof(*v), nc * sizeof(*v));
            cap = nc;
        }
        v[n++] = e;
    }
    int err = ferror(f) ? EIO : 0;
    fclose(f);
    if (err)
        return err;
    if (n)
        qsort(v, n, sizeof(*v), entry_cmp);
    t->keys = pt_arena_alloc(a, (n + 1) * sizeof(char *));
    t->values = pt_arena_alloc(a, (n + 1) * sizeof(char *));
    t->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (t->n && strcmp(t->keys[t->n - 1], v[i].key) == 0)
            continue; /* a later line for a key Apache's scan would have found first */
        t->keys[t->n] = v[i].key;
        t->values[t->n++] = v[i].value;
    }
    return 0;
}

static void table_free(rw_map_table_t *t)
{
    if (t && t->arena) /* (the first table lives in the configuration's arena) */
        pt_arena_destroy(t->arena);
}

/* The configuration's arena goes: so do the tables read since. */
static void map_release(void *arg)
{
    pt_rewrite_map_t *m = arg;
    table_free(m->table);
    pthread_rwlock_destroy(&m->lock);
    pthread_mutex_destroy(&m->reload);
}

static pt_rewrite_map_t *map_open(pt_rewrite_build_t *b, pt_rewrite_map_t *m, const char *path)
{
    rw_map_table_t *t = pt_arena_calloc(b->a, sizeof(*t));
    int e = table_read(b->a, path, t, &m->id);
    if (e != 0) {
        snprintf(b->err, b->errlen, "RewriteMap: file for map %s not found: %s: %s", m->name,
                 path, strerror(e));
        return NULL;
    }
    m->path = pt_arena_strdup(b->a, path);
    m->table = t;
    atomic_init(&m->checked_ms, pt_now_ms());
    pthread_rwlock_init(&m->lock, NULL);
    pthread_mutex_init(&m->reload, NULL);
    pt_arena_cleanup(b->a, map_release, m);
    return m;
}

pt_rewrite_map_t *pt_rewrite_map_new(pt_rewrite_build_t *b, const char *name, const char *type,
                                     const char *source)
{
    static const struct { const char *name; int kind; } ints[] = {
        {"tolower", RWM_TOLOWER}, {"toupper", RWM_TOUPPER},
        {"escape", RWM_ESCAPE}, {"unescape", RWM_UNESCAPE},
    };
    pt_rewrite_map_t *m = pt_arena_calloc(b->a, sizeof(*m));
    m->name = name;
    if (strcasecmp(type, "int") == 0) {
        for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
            if (strcmp(source, ints[i].name) == 0)
                return m->kind = ints[i].kind, m;
        snprintf(b->err, b->errlen, "RewriteMap: internal map not found: %s (tolower, "
                 "toupper, escape, unescape)", source);
        return NULL;
    }
    if (strcasecmp(type, "txt") == 0 || strcasecmp(type, "rnd") == 0) {
        m->kind = strcasecmp(type, "txt") == 0 ? RWM_TXT : RWM_RND;
        return map_open(b, m, source);
    }
    snprintf(b->err, b->errlen, "RewriteMap: map type '%s' is not supported (txt:, rnd: and "
             "int: are)", type);
    return NULL;
}

const char *pt_rewrite_map_name(const pt_rewrite_map_t *m)
{
    return m->name;
}

/* ---- Rereading ---------------------------------------------------------------------------- */

static void table_swap(pt_rewrite_map_t *m, rw_map_table_t *t)
{
    pthread_rwlock_wrlock(&m->lock);
    rw_map_table_t *old = m->table;
    m->table = t;
    pthread_rwlock_unlock(&m->lock);
    table_free(old);
}

/* The file changed (or went, or came back): the new table, or none while it cannot be read. */
static void map_reread(pt_rewrite_map_t *m, int stat_err)
{
    if (stat_err != 0) {
        pt_log_error(PT_LOG_ERR, NULL, "RewriteMap %s: cannot read %s: %s; the map has no "
                     "values until it can", m->name, m->path, strerror(stat_err));
        m->id = (rw_map_file_id_t){0};
        table_swap(m, NULL);
        return;
    }
    pt_arena_t *a = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    rw_map_table_t *t = pt_arena_calloc(a, sizeof(*t));
    t->arena = a;
    int e = table_read(a, m->path, t, &m->id);
    if (e != 0) {
        pt_arena_destroy(a);
        map_reread(m, e);
        return;
    }
    pt_log_error(PT_LOG_INFO, NULL, "RewriteMap %s: reread %s (%zu keys)", m->name, m->path,
                 t->n);
    table_swap(m, t);
}

/* At most once per RW_MAP_CHECK_MS, one thread stats the file; the others go on. */
static void map_check(pt_rewrite_map_t *m)
{
    int64_t now = pt_now_ms(), last = atomic_load_explicit(&m->checked_ms, memory_order_relaxed);
    if (now - last < RW_MAP_CHECK_MS || pthread_mutex_trylock(&m->reload) != 0)
        return;
    if (atomic_compare_exchange_strong(&m->checked_ms, &last, now)) {
        struct stat st;
        int e = stat(m->path, &st) == 0 ? 0 : errno;
        rw_map_file_id_t id = {0};
        if (e == 0)
            file_id(&st, &id);
        if (e != 0 ? m->id.ino != 0 || m->table : memcmp(&id, &m->id, sizeof(id)) != 0)
            map_reread(m, e);
    }
    pthread_mutex_unlock(&m->reload);
}

/* ---- Lookups ------------------------------------------------------------------------------ */

static const char *table_find(const rw_map_table_t *t, const char *key)
{
    size_t lo = 0, hi = t ? t->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, t->keys[mid]);
        if (c == 0)
            return t->values[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* rnd: one of the '|'-separated values, each as likely (Apache's select_random_value_part). */
static const char *random_part(pt_arena_t *a, const char *v)
{
    size_t n = 1;
    for (const char *p = v; *p; p++)
        n += *p == '|';
    uint32_t k = n > 1 ? arc4random_uniform((uint32_t)n) : 0;
    const char *p = v;
    while (k--)
        p = strchr(p, '|') + 1;
    return pt_arena_strndup(a, p, strcspn(p, "|"));
}

const char *rw_map_file_lookup(pt_arena_t *a, const pt_rewrite_map_t *cm, const char *key)
{
    pt_rewrite_map_t *m = (pt_rewrite_map_t *)cm; /* (the table behind it changes) */
    map_check(m);
    pthread_rwlock_rdlock(&m->lock);
    const char *v = table_find(m->table, key);
    if (v)
        v = m->kind == RWM_RND ? random_part(a, v) : pt_arena_strdup(a, v);
    pthread_rwlock_unlock(&m->lock);
    return v;
}
