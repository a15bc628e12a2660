/* The .htaccess caches. The files: a hash table of directories under one mutex. An entry is
 * immutable once made; a changed file makes a new entry, and the old one is freed when the
 * last holder lets go (an atomic reference count, released by an arena cleanup without the
 * lock). A file that cannot be parsed is cached as its error: each request for it answers
 * 500 with the file and line in the error log, until the file changes. The walks: the
 * merged prefix of each directory (conf's pt_walk_prefix_t), read-mostly under a rwlock,
 * made from and holding the file entries of every depth; a request in a known directory
 * makes that one lookup. */
#include "htaccess.h"

#include "clock.h"
#include "htaccess_parse.h"
#include "idle.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NBUCKETS 1024

/* What the file system said of a directory's access files: which name exists, and its
 * identity and times, so any change of the file makes another signature. */
typedef struct {
    int which; /* index into AccessFileName's names, -1 for none */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
} ht_sig_t;

typedef struct ht_entry {
    struct ht_entry *next;     /* hash chain [lock] */
    uint64_t hash;
    const pt_config_t *cfg;    /* the key: configuration, AllowOverride, directory */
    unsigned overrides, override_opts;
    const char **override_list;
    const char *const *names;
    size_t nnames;
    char *dir;
    ht_sig_t sig;
    pt_htaccess_t *ht;         /* NULL: no file, or an error */
    char *error;               /* "file:line: message" when the file could not be used */
    int64_t checked_ms;        /* [lock] */
    atomic_int refs;           /* the cache's own, and one per request holding it */
} ht_entry_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static ht_entry_t *buckets[NBUCKETS]; /* [lock] */
static size_t nentries;               /* [lock] */

static const char *const default_names[] = {".htaccess"};
static const char *(*resolve_dir)(const pt_config_t *cfg, pt_dir_config_t *dc); /* start-up */

void pt_htaccess_set_resolver(const char *(*fn)(const pt_config_t *cfg, pt_dir_config_t *dc))
{
    resolve_dir = fn;
}

static void entry_free(ht_entry_t *e)
{
    pt_htaccess_free(e->ht);
    free(e->error);
    free(e->dir);
    free(e);
}

static void entry_release(void *arg)
{
    ht_entry_t *e = arg;
    if (atomic_fetch_sub(&e->refs, 1) == 1)
        entry_free(e);
}

static uint64_t hash_key(const pt_config_t *cfg, const pt_dir_config_t *d, const char *dir)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(uintptr_t)cfg;
    h = (h ^ d->overrides) * 0x100000001b3ull;
    h = (h ^ (uint64_t)(uintptr_t)d->override_list) * 0x100000001b3ull;
    for (const char *p = dir; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return h;
}

static bool same_key(const ht_entry_t *e, uint64_t h, const pt_config_t *cfg,
                     const pt_dir_config_t *d, const char *dir)
{
    return e->hash == h && e->cfg == cfg && e->overrides == d->overrides &&
           e->override_opts == d->override_opts && e->override_list == d->override_list &&
           strcmp(e->dir, dir) == 0;
}

/* The first of names that exists in dir (Apache reads only that one). An unreadable
 * file is an error, as Apache's "Permission denied: ... unable to check htaccess file". */
static int stat_names(const char *dir, const char *const *names, size_t nnames, ht_sig_t *sig,
                      char *path, size_t pathlen)
{
    memset(sig, 0, sizeof(*sig));
    sig->which = -1;
    for (size_t i = 0; i < nnames; i++) {
        snprintf(path, pathlen, "%s%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                continue;
            return -errno;
        }
        if (S_ISDIR(st.st_mode))
            continue;
        *sig = (ht_sig_t){(int)i, st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
        return 0;
    }
    return 0;
}

static bool same_sig(const ht_sig_t *a, const ht_sig_t *b)
{
    return a->which == b->which && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
           a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* A config and its <If> sections (nested ones too), each resolved as the server's are
 * (pt_dcx_each_dir): a handler named inside an <If> must not stay a bare name. */
static const char *resolve_tree(const pt_config_t *cfg, pt_dir_config_t *dc)
{
    const char *bad = resolve_dir(cfg, dc);
    for (size_t i = 0; i < dc->nifs; i++) {
        const char *b = resolve_tree(cfg, dc->ifs[i].conf);
        bad = bad ? bad : b;
    }
    return bad;
}

/* SetHandler "proxy:..." in the file or in an <If> of it. */
/* Makes the entry for dir as the file system has it now. */
static ht_entry_t *entry_make(pt_request_t *r, const char *dir, const pt_dir_config_t *d,
                              const char *const *names, size_t nnames, uint64_t h)
{
    ht_entry_t *e = calloc(1, sizeof(*e));
    if (!e || !(e->dir = strdup(dir))) {
        free(e);
        return NULL;
    }
    e->hash = h;
    e->cfg = r->cfg;
    e->overrides = d->overrides;
    e->override_opts = d->override_opts;
    e->override_list = d->override_list;
    e->names = names;
    e->nnames = nnames;
    atomic_init(&e->refs, 1);
    char path[4096], err[4096 + 512];
    int rc = stat_names(dir, names, nnames, &e->sig, path, sizeof(path));
    if (rc < 0) {
        snprintf(err, sizeof(err), "%s: unable to check htaccess file, ensure it is "
                                   "readable and that '%s' is executable: %s", path, dir,
                 strerror(-rc));
        e->error = strdup(err);
    } else if (e->sig.which >= 0) {
        e->ht = pt_htaccess_parse(r->cfg, path, d, err, sizeof(err));
        if (!e->ht)
            e->error = strdup(err);

    }
    if (e->ht && !e->error && resolve_dir) {
        /* A handler name nothing provides is an error, as in the server config
         * (src/loader.c), not the file served as it is ("AddHandler application/x-httpd-php
         * .html" of an old PHP site). */
        const char *bad = resolve_tree(r->cfg, e->ht->dc);
        for (size_t i = 0; i < e->ht->nfiles; i++) {
            const char *b = resolve_tree(r->cfg, e->ht->files[i].conf);
            bad = bad ? bad : b;
        }
        if (bad) {
            snprintf(err, sizeof(err), "%s: no part of portico handles the handler '%s', and "
                                       "serving the file as it is could expose its source",
                     path, bad);
            e->error = strdup(err);
        }
    }
    return e;
}

/* Now, for the caches: the request's own start (a clock read per level showed in profiles):
 * a request a moment old sees the files as they were a moment ago. */
static int64_t request_now(const pt_request_t *r)
{
    return r->start_mono_us > 0 ? r->start_mono_us / 1000 : pt_now_ms();
}

/* The current entry for the key, made or replaced as needed; one reference taken for the
 * caller. force: stat the directory whatever the entry's age (a walk being made again
 * because a file changed). */
static ht_entry_t *entry_get(pt_request_t *r, const char *dir, const pt_dir_config_t *d,
                             bool force)
{
    const pt_vhost_t *vh = r->vhost->access_files ? r->vhost : r->cfg->main_server;
    const char *const *names = vh && vh->access_files ? vh->access_files : default_names;
    size_t nnames = vh && vh->access_files ? vh->naccess_files : 1;
    uint64_t h = hash_key(r->cfg, d, dir);
    ht_entry_t **slot = &buckets[h % NBUCKETS];
    int64_t now = request_now(r);
    pthread_mutex_lock(&lock);
    ht_entry_t **pp = slot, *e = NULL;
    for (; *pp; pp = &(*pp)->next)
        if (same_key(*pp, h, r->cfg, d, dir)) {
            e = *pp;
            break;
        }
    if (e && (force || now - e->checked_ms >= PT_HTACCESS_RECHECK_MS)) {
        ht_sig_t sig;
        char path[4096];
        if (stat_names(dir, names, nnames, &sig, path, sizeof(path)) == 0 &&
            same_sig(&sig, &e->sig) && !e->error) {
            e->checked_ms = now;
        } else { /* changed, or an error that may have been fixed: read it again */
            *pp = e->next;
            nentries--;
            entry_release(e);
            e = NULL;
        }
    }
    if (!e) {
        e = entry_make(r, dir, d, names, nnames, h);
        if (e) {
            e->checked_ms = now;
            if (nentries < PT_HTACCESS_CACHE_MAX) {
                e->next = *slot;
                *slot = e;
                nentries++;
                atomic_fetch_add(&e->refs, 1);
            }
        }
    } else {
        atomic_fetch_add(&e->refs, 1);
    }
    pthread_mutex_unlock(&lock);
    return e;
}

static const pt_htaccess_t *read_dir(void *ctx, const char *dir, const pt_dir_config_t *d,
                                     int *status)
{
    pt_request_t *r = ctx;
    ht_entry_t *e = entry_get(r, dir, d, false);
    if (!e) {
        pt_log_rerror(PT_LOG_ERR, r, "%s: out of memory reading its htaccess file", dir);
        *status = 500;
        return NULL;
    }
    if (!e->ht && !e->error) { /* no file here: nothing to hold */
        entry_release(e);
        return NULL;
    }
    pt_arena_cleanup(r->arena, entry_release, e);
    if (e->error) {
        pt_log_rerror(PT_LOG_ALERT, r, "%s", e->error);
        *status = 500;
        return NULL;
    }
    return e->ht;
}

/* ---- Walks ------------------------------------------------------------------------------ */

#define WALK_BUCKETS 1024

typedef struct walk_entry {
    struct walk_entry *next;      /* hash chain [wlock] */
    uint64_t hash;
    const pt_config_t *cfg;       /* the key: configuration, host, directory */
    const pt_vhost_t *vh;
    char *dir;
    size_t dirlen;
    pt_arena_t *arena;            /* what the prefix merged */
    pt_walk_prefix_t prefix;
    ht_entry_t **levels;          /* every file entry read (one reference each) */
    size_t nlevels, caplevels;
    _Atomic int64_t checked_ms;
    atomic_bool used;             /* looked up since the clock hand last passed */
    atomic_bool gone;             /* taken out of the table [set under wlock] */
    atomic_int refs;              /* the cache's own, a thread's memo's, and one per request
                                     holding it */
} walk_entry_t;

static pthread_rwlock_t wlock = PTHREAD_RWLOCK_INITIALIZER;
static walk_entry_t *wbuckets[WALK_BUCKETS]; /* [wlock] */
static size_t nwalks;                        /* [wlock] */
static size_t whand;                         /* [wlock] the eviction's clock hand */

static void walk_release(void *arg)
{
    walk_entry_t *w = arg;
    if (atomic_fetch_sub(&w->refs, 1) != 1)
        return;
    for (size_t i = 0; i < w->nlevels; i++)
        entry_release(w->levels[i]);
    free(w->levels);
    pt_arena_destroy(w->arena);
    free(w);
}

/* Out of the table (under wlock): no memo hands it out again. */
static void walk_drop(walk_entry_t *w)
{
    atomic_store_explicit(&w->gone, true, memory_order_release);
    walk_release(w);
}

/* The walk this thread found last, with a reference of its own: a request in the same
 * directory as the one before it on this thread (a keep-alive run, most often) finds it
 * without the table's lock and hash, about 100 instructions a request. An entry taken out
 * of the table is not handed out again; the memo's reference goes when the thread ends or
 * waits for work (idle.h), or finds another walk. */
static __thread walk_entry_t *memo;
static atomic_bool memo_hooked; /* memo_drop is an idle hook (idle.h) */

/* The thread is about to wait a while, or ends (idle.h): its memo goes (an .htaccess changed
 * meanwhile leaves the old walk to nobody). */
static void memo_drop(void)
{
    walk_entry_t *w = memo;
    memo = NULL;
    if (w)
        walk_release(w);
}

static void memo_set(walk_entry_t *w)
{
    if (memo == w || !pt_thread_keeps(memo_drop, &memo_hooked))
        return;
    atomic_fetch_add(&w->refs, 1);
    walk_entry_t *old = memo;
    memo = w;
    if (old)
        walk_release(old);
}

/* FNV-style over eight bytes at a time (the hash is per request; names are long). */
static uint64_t walk_hash(const pt_vhost_t *vh, const char *dir, size_t dirlen)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(uintptr_t)vh;
    size_t i = 0;
    for (; i + 8 <= dirlen; i += 8) {
        uint64_t v;
        memcpy(&v, dir + i, 8);
        h = (h ^ v) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < dirlen; i++)
        h = (h ^ (unsigned char)dir[i]) * 0x100000001b3ull;
    return h ^ (h >> 32);
}

static bool walk_same(const walk_entry_t *w, uint64_t h, const pt_config_t *cfg,
                      const pt_vhost_t *vh, const char *dir, size_t dirlen)
{
    return w->hash == h && w->cfg == cfg && w->vh == vh && w->dirlen == dirlen &&
           memcmp(w->dir, dir, dirlen) == 0;
}

/* The reader a walk is made with: each file entry it reads is kept by the walk. */
typedef struct {
    pt_request_t *r;
    walk_entry_t *w;
    bool force;
} walk_build_t;

static const pt_htaccess_t *walk_read(void *ctx, const char *dir, const pt_dir_config_t *d,
                                      int *status)
{
    walk_build_t *b = ctx;
    walk_entry_t *w = b->w;
    ht_entry_t *e = entry_get(b->r, dir, d, b->force);
    if (e && w->nlevels == w->caplevels) {
        size_t cap = w->caplevels ? 2 * w->caplevels : 8;
        ht_entry_t **v = realloc(w->levels, cap * sizeof(*v));
        if (!v) {
            entry_release(e);
            e = NULL;
        } else {
            w->levels = v;
            w->caplevels = cap;
        }
    }
    if (!e) {
        pt_log_rerror(PT_LOG_ERR, b->r, "%s: out of memory reading its htaccess file", dir);
        *status = 500;
        return NULL;
    }
    w->levels[w->nlevels++] = e;
    if (e->error) {
        pt_log_rerror(PT_LOG_ALERT, b->r, "%s", e->error);
        *status = 500;
        return NULL;
    }
    return e->ht;
}

/* The walk of dir (dirlen bytes, through its last '/') for vh as the files are now. force:
 * every depth's file is looked at again (one of them changed). */
static walk_entry_t *walk_make(pt_request_t *r, const pt_vhost_t *vh, const char *dir,
                               size_t dirlen, uint64_t h, bool force)
{
    walk_entry_t *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->arena = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    w->hash = h;
    w->cfg = r->cfg;
    w->vh = vh;
    w->dir = pt_arena_strndup(w->arena, dir, dirlen);
    w->dirlen = dirlen;
    atomic_init(&w->checked_ms, request_now(r));
    atomic_init(&w->used, true);
    atomic_init(&w->gone, false);
    atomic_init(&w->refs, 1);
    walk_build_t b = {r, w, force};
    pt_htaccess_reader_t rd = {.read = walk_read, .prefix = NULL, .ctx = &b};
    pt_config_walk_prefix(w->arena, vh, w->dir, &rd, &w->prefix);
    return w;
}

/* Whether every file w was made from is still as it was (a stat per depth). */
static bool walk_current(const walk_entry_t *w)
{
    for (size_t i = 0; i < w->nlevels; i++) {
        const ht_entry_t *e = w->levels[i];
        ht_sig_t sig;
        char path[4096];
        if (e->error || stat_names(e->dir, e->names, e->nnames, &sig, path, sizeof(path)) != 0 ||
            !same_sig(&sig, &e->sig))
            return false;
    }
    return true;
}

/* Past the bound, the clock: an entry looked up since the hand last passed is spared once. */
static void walk_evict(void)
{
    for (size_t n = 0; nwalks > PT_HTACCESS_WALK_MAX && n < 2 * WALK_BUCKETS; n++) {
        for (walk_entry_t **pp = &wbuckets[whand]; *pp;) {
            walk_entry_t *w = *pp;
            if (atomic_exchange(&w->used, false)) {
                pp = &w->next;
                continue;
            }
            *pp = w->next;
            nwalks--;
            walk_drop(w);
        }
        whand = (whand + 1) % WALK_BUCKETS;
    }
}

/* w (one reference taken for the cache) replaces the entry of its key, if any. */
static void walk_insert(walk_entry_t *w)
{
    atomic_fetch_add(&w->refs, 1);
    pthread_rwlock_wrlock(&wlock);
    walk_entry_t **pp = &wbuckets[w->hash % WALK_BUCKETS];
    for (; *pp; pp = &(*pp)->next) {
        walk_entry_t *old = *pp;
        if (walk_same(old, w->hash, w->cfg, w->vh, w->dir, w->dirlen)) {
            *pp = old->next;
            nwalks--;
            walk_drop(old);
            break;
        }
    }
    w->next = wbuckets[w->hash % WALK_BUCKETS];
    wbuckets[w->hash % WALK_BUCKETS] = w;
    nwalks++;
    walk_evict();
    pthread_rwlock_unlock(&wlock);
}

/* Takes w out of the table if it is still there (a walk found out of date). */
static void walk_remove(walk_entry_t *w)
{
    pthread_rwlock_wrlock(&wlock);
    for (walk_entry_t **pp = &wbuckets[w->hash % WALK_BUCKETS]; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            nwalks--;
            walk_drop(w);
            break;
        }
    }
    pthread_rwlock_unlock(&wlock);
}

/* The cached entry for the key, one reference taken; NULL when there is none. */
static walk_entry_t *walk_find(const pt_config_t *cfg, const pt_vhost_t *vh, const char *dir,
                               size_t dirlen, uint64_t h)
{
    pthread_rwlock_rdlock(&wlock);
    walk_entry_t *w = wbuckets[h % WALK_BUCKETS];
    while (w && !walk_same(w, h, cfg, vh, dir, dirlen))
        w = w->next;
    if (w)
        atomic_fetch_add(&w->refs, 1);
    pthread_rwlock_unlock(&wlock);
    return w;
}

/* The reader's prefix: the cached walk of the directory, checked at most once a second by
 * the one request that claims the check (the others meanwhile use it as it is). */
static const pt_walk_prefix_t *walk_prefix(void *ctx, const pt_vhost_t *vh, const char *name,
                                           size_t dirlen)
{
    pt_request_t *r = ctx;
    int64_t now = request_now(r);
    walk_entry_t *w = memo;
    if (w && w->dirlen == dirlen && w->vh == vh && w->cfg == r->cfg &&
        !atomic_load_explicit(&w->gone, memory_order_acquire) &&
        memcmp(w->dir, name, dirlen) == 0) {
        atomic_fetch_add(&w->refs, 1);
    } else {
        w = walk_find(r->cfg, vh, name, dirlen, walk_hash(vh, name, dirlen));
        if (w)
            memo_set(w);
    }
    bool changed = false;
    if (w) {
        if (!atomic_load_explicit(&w->used, memory_order_relaxed))
            atomic_store_explicit(&w->used, true, memory_order_relaxed);
        int64_t checked = atomic_load(&w->checked_ms);
        if (now - checked >= PT_HTACCESS_RECHECK_MS &&
            atomic_compare_exchange_strong(&w->checked_ms, &checked, now) && !walk_current(w)) {
            walk_remove(w);
            walk_release(w);
            w = NULL;
            changed = true;
        }
    }
    if (!w) {
        w = walk_make(r, vh, name, dirlen, walk_hash(vh, name, dirlen), changed);
        if (!w)
            return NULL; /* the walk reads the files itself */
        if (!w->prefix.status) {
            walk_insert(w);
            memo_set(w);
        }
    }
    pt_arena_cleanup(r->arena, walk_release, w);
    return &w->prefix;
}

const pt_htaccess_reader_t *pt_htaccess_reader(pt_request_t *r)
{
    pt_htaccess_reader_t *rd = pt_arena_alloc(r->arena, sizeof(*rd));
    rd->read = read_dir;
    rd->prefix = walk_prefix;
    rd->ctx = r;
    return rd;
}

void pt_htaccess_cache_clear(void)
{
    pthread_rwlock_wrlock(&wlock);
    for (size_t i = 0; i < WALK_BUCKETS; i++) {
        walk_entry_t *w = wbuckets[i];
        wbuckets[i] = NULL;
        while (w) {
            walk_entry_t *next = w->next;
            walk_drop(w);
            w = next;
        }
    }
    nwalks = 0;
    pthread_rwlock_unlock(&wlock);
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < NBUCKETS; i++) {
        ht_entry_t *e = buckets[i];
        buckets[i] = NULL;
        while (e) {
            ht_entry_t *next = e->next;
            entry_release(e);
            e = next;
        }
    }
    nentries = 0;
    pthread_mutex_unlock(&lock);
}
