/* Open-file cache: a hash table of entries under one mutex, LRU eviction among entries
 * nobody holds, a stat by path at most once per validity period. An entry's reference count
 * includes one for the table while the entry is in it, so a release needs no lock: the
 * count reaches 0 only once the entry is out of the table, where nobody can find it. */
#include "filecache.h"
#include "common.h"
#include "config.h"
#include "httpdate.h"
#include "idle.h"
#include "range.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUCKETS 2048 /* power of two */
#define ETAG_BITS (PT_FETAG_MTIME | PT_FETAG_SIZE) /* the ETag an entry holds */

struct pt_fcentry {
    char *path;
    uint64_t hash;
    int fd;
    struct stat st;
    void *data;                    /* small files only */
    char etag[PT_ETAG_LEN];        /* for ETAG_BITS, weak: the strong form is etag + 2 */
    int64_t mtime_us;              /* the tag's weakness is the request's to decide */
    char last_modified[PT_HTTP_DATE_LEN + 1]; /* "" when the mtime was in the future */
    int64_t checked_ms;
    atomic_int refs;               /* holders, plus 1 while in the table; taken under the lock */
    struct pt_fcentry *hnext;      /* bucket chain */
    struct pt_fcentry *lprev, *lnext; /* LRU, most recent first */
};

static struct {
    pthread_mutex_t lock;
    pt_fcentry_t *buckets[BUCKETS];
    pt_fcentry_t *lru_head, *lru_tail;
    size_t n;
} fc = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* FNV-style over eight bytes at a time (a path is hashed per request). */
static uint64_t hash_path(const char *s)
{
    size_t n = strlen(s), i = 0;
    uint64_t h = 1469598103934665603ULL;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        h = (h ^ v) * 1099511628211ULL;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h ^ (h >> 32);
}

static void entry_free(pt_fcentry_t *e)
{
    close(e->fd);
    free(e->data);
    free(e->path);
    free(e);
}

static void lru_unlink(pt_fcentry_t *e)
{
    if (e->lprev)
        e->lprev->lnext = e->lnext;
    else
        fc.lru_head = e->lnext;
    if (e->lnext)
        e->lnext->lprev = e->lprev;
    else
        fc.lru_tail = e->lprev;
    e->lprev = e->lnext = NULL;
}

static void lru_front(pt_fcentry_t *e)
{
    e->lnext = fc.lru_head;
    e->lprev = NULL;
    if (fc.lru_head)
        fc.lru_head->lprev = e;
    fc.lru_head = e;
    if (!fc.lru_tail)
        fc.lru_tail = e;
}

/* Drops a reference to e: the last one frees it. */
static void unref(pt_fcentry_t *e)
{
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        entry_free(e);
}

/* Whether someone besides the table holds e (lock held: nobody can take a new reference, so
 * a "no" stays true, and a "yes" that turns false meanwhile only spares e for now). */
static bool held(pt_fcentry_t *e)
{
    return atomic_load_explicit(&e->refs, memory_order_acquire) > 1;
}

/* Takes e out of the table (lock held); frees it unless someone holds it. */
static void remove_locked(pt_fcentry_t *e)
{
    pt_fcentry_t **pp = &fc.buckets[e->hash & (BUCKETS - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    lru_unlink(e);
    fc.n--;
    unref(e);
}

static pt_fcentry_t *find_locked(const char *path, uint64_t h)
{
    for (pt_fcentry_t *e = fc.buckets[h & (BUCKETS - 1)]; e; e = e->hnext)
        if (e->hash == h && strcmp(e->path, path) == 0)
            return e;
    return NULL;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_mode == b->st_mode;
}

/* ---- A thread's last released entry --------------------------------------------------
 * A release keeps its reference in the releasing thread's slot instead of dropping it, and
 * that thread's next open of the same file takes it back: a hot file costs no lock and no
 * atomic operation per request (the first locked instruction after a response's bytes were
 * written waits for them to drain: 2.4% of an HTTP/2 request's time, by perf). The slot's
 * reference is an ordinary one: the entry is "held" (not evicted), and is freed when the
 * slot lets it go, as with any holder. So a file replaced or deleted meanwhile stays open
 * while a slot holds it, and the slot lets go as soon as the thread releases another file,
 * waits for work (idle.h: an event MPM worker after a tick without any, an HTTP/2 pool
 * thread, a prefork child between connections), clears the cache, or ends (the key's
 * destructor); a thread busy with one long request (a proxied stream) keeps it until then.
 * At most one entry per thread is kept so, beyond PT_FILECACHE_ENTRIES. */
static _Thread_local pt_fcentry_t *slot;
static atomic_bool slot_hooked; /* slot_drop is an idle hook (idle.h) */

static void slot_drop(void)
{
    pt_fcentry_t *e = slot;
    slot = NULL;
    if (e != NULL)
        unref(e);
}

/* Takes the slot's entry when it is path's and still describes current. Before the path is
 * hashed: the entry's name is compared instead (a thread's next file is mostly its last
 * one, and the hash of a path cost three times the compare). */
static pt_fcentry_t *slot_take(const char *path, const struct stat *current)
{
    pt_fcentry_t *e = slot;
    if (!e || !same_file(current, &e->st) || strcmp(e->path, path) != 0)
        return NULL;
    slot = NULL;
    return e;
}

/* Opens path into a new entry (no lock held). */
static int load(const char *path, uint64_t h, pt_fcentry_t **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = S_ISREG(st.st_mode) ? -errno : -EISDIR;
        close(fd);
        return e;
    }
    pt_fcentry_t *e = calloc(1, sizeof(*e));
    char *p = strdup(path);
    if (!e || !p) {
        free(e);
        free(p);
        close(fd);
        return -ENOMEM;
    }
    e->path = p;
    e->hash = h;
    e->fd = fd;
    e->st = st;
    e->checked_ms = pt_now_ms();
    e->mtime_us = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
    pt_etag_make_weak_bits(e->etag, sizeof(e->etag), ETAG_BITS, (uint64_t)st.st_ino,
                           (int64_t)st.st_size, e->mtime_us);
    /* Once the mtime is past, it stays past: the date is the header of every request. */
    if (st.st_mtime <= time(NULL))
        pt_http_date_format(e->last_modified, sizeof(e->last_modified), st.st_mtime);
    if (st.st_size > 0 && st.st_size <= PT_FILECACHE_SMALL) {
        e->data = malloc((size_t)st.st_size);
        if (e->data && pread(fd, e->data, (size_t)st.st_size, 0) != st.st_size) {
            free(e->data);
            e->data = NULL;
        }
    }
    *out = e;
    return 0;
}

int pt_filecache_open(const char *path, const struct stat *current, pt_fcentry_t **out)
{
    if (current && (*out = slot_take(path, current)) != NULL)
        return 0;
    uint64_t h = hash_path(path);
    /* The clock only for a caller without a fresh stat (the usual caller has one). */
    int64_t now = current ? 0 : pt_now_ms();
    pthread_mutex_lock(&fc.lock);
    pt_fcentry_t *e = find_locked(path, h);
    bool fresh = e && (current ? same_file(current, &e->st)
                               : now - e->checked_ms < PT_FILECACHE_VALID_MS);
    if (fresh) {
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        lru_unlink(e);
        lru_front(e);
        pthread_mutex_unlock(&fc.lock);
        *out = e;
        return 0;
    }
    struct stat cached;
    bool have = e != NULL && current == NULL;
    if (have)
        cached = e->st;
    pthread_mutex_unlock(&fc.lock);

    if (have) {
        /* Still the same file? A stat by path, outside the lock. */
        struct stat st;
        if (stat(path, &st) == 0 && same_file(&st, &cached)) {
            pthread_mutex_lock(&fc.lock);
            e = find_locked(path, h);
            if (e && same_file(&e->st, &st)) {
                e->checked_ms = now;
                atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
                pthread_mutex_unlock(&fc.lock);
                *out = e;
                return 0;
            }
            pthread_mutex_unlock(&fc.lock);
        }
    }
    pt_fcentry_t *ne = NULL;
    int rc = load(path, h, &ne);
    pthread_mutex_lock(&fc.lock);
    pt_fcentry_t *old = find_locked(path, h);
    if (old)
        remove_locked(old);
    if (rc != 0) {
        pthread_mutex_unlock(&fc.lock);
        return rc;
    }
    while (fc.n >= PT_FILECACHE_ENTRIES && fc.lru_tail) {
        pt_fcentry_t *victim = fc.lru_tail;
        while (victim && held(victim))
            victim = victim->lprev;
        if (!victim)
            break;
        remove_locked(victim);
    }
    ne->hnext = fc.buckets[h & (BUCKETS - 1)];
    fc.buckets[h & (BUCKETS - 1)] = ne;
    lru_front(ne);
    fc.n++;
    atomic_init(&ne->refs, 2); /* the table's and the caller's */
    pthread_mutex_unlock(&fc.lock);
    *out = ne;
    return 0;
}

void pt_filecache_release(pt_fcentry_t *e)
{
    if (!e)
        return;
    if (!pt_thread_keeps(slot_drop, &slot_hooked)) {
        unref(e);
        return;
    }
    pt_fcentry_t *old = slot;
    slot = e;
    if (old)
        unref(old);
}

int pt_fcentry_fd(const pt_fcentry_t *e) { return e->fd; }
const struct stat *pt_fcentry_stat(const pt_fcentry_t *e) { return &e->st; }
const void *pt_fcentry_data(const pt_fcentry_t *e) { return e->data; }

const char *pt_fcentry_last_modified(const pt_fcentry_t *e)
{
    return e->last_modified[0] ? e->last_modified : NULL;
}

const char *pt_fcentry_etag(const pt_fcentry_t *e, unsigned bits, int64_t request_us)
{
    if (bits != ETAG_BITS || !e->etag[0])
        return NULL;
    return pt_etag_weak(e->mtime_us, request_us) ? e->etag : e->etag + 2;
}

void pt_filecache_clear(void)
{
    slot_drop(); /* (this thread's; another's goes as it releases, idles or ends) */
    pthread_mutex_lock(&fc.lock);
    pt_fcentry_t *e = fc.lru_head;
    while (e) {
        pt_fcentry_t *n = e->lnext;
        if (!held(e))
            remove_locked(e);
        e = n;
    }
    pthread_mutex_unlock(&fc.lock);
}
