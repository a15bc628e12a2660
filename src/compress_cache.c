/* The compressed-file cache of a child: the encoded bytes of hot static files, one entry per
 * file and encoding settings, so that a file is compressed once, not per request. An entry
 * is used only while the stat the static handler has just taken still describes the file it
 * was made from (device, inode, size, mtime), as the open-file cache does (filecache.h).
 * Bounded in entries and bytes, least recently used out first; one mutex (a hit is a short
 * list walk and a copy into the request's arena, so no entry is ever held by a request). */
#include "compress.h"

#include <brotli/encode.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

typedef struct zentry {
    char *path;
    uint64_t hash;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    pt_zparams_t zp;
    void *data;
    size_t len;
    struct zentry *prev, *next; /* most recently used first */
} zentry_t;

static struct {
    pthread_mutex_t lock;
    zentry_t *head, *tail;
    size_t n, bytes;
} zc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t key_hash(const char *path, const pt_zparams_t *zp)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *s = path; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ^ ((uint64_t)zp->enc << 56 | (uint64_t)zp->level << 48 |
                (uint64_t)zp->window << 40 | (uint64_t)zp->memlevel << 32);
}

static bool same_params(const pt_zparams_t *a, const pt_zparams_t *b)
{
    return a->enc == b->enc && a->level == b->level && a->window == b->window &&
           a->memlevel == b->memlevel;
}

static bool same_file(const zentry_t *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static void unlink_entry(zentry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        zc.head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        zc.tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(zentry_t *e)
{
    e->next = zc.head;
    if (zc.head)
        zc.head->prev = e;
    zc.head = e;
    if (!zc.tail)
        zc.tail = e;
}

static void drop(zentry_t *e)
{
    unlink_entry(e);
    zc.n--;
    zc.bytes -= e->len;
    free(e->data);
    free(e->path);
    free(e);
}

/* A copy of the current entry's bytes in a, or NULL (a stale entry is dropped). */
static const void *lookup(pt_arena_t *a, const char *path, uint64_t h, const struct stat *st,
                          const pt_zparams_t *zp, size_t *len)
{
    const void *out = NULL;
    pthread_mutex_lock(&zc.lock);
    for (zentry_t *e = zc.head; e; e = e->next) {
        if (e->hash != h || !same_params(&e->zp, zp) || strcmp(e->path, path) != 0)
            continue;
        if (!same_file(e, st)) {
            drop(e);
            break;
        }
        unlink_entry(e);
        push_front(e);
        void *copy = pt_arena_alloc(a, e->len);
        memcpy(copy, e->data, e->len);
        *len = e->len;
        out = copy;
        break;
    }
    pthread_mutex_unlock(&zc.lock);
    return out;
}

static void insert(zentry_t *e)
{
    pthread_mutex_lock(&zc.lock);
    for (zentry_t *o = zc.head; o; o = o->next) {
        if (o->hash == e->hash && same_params(&o->zp, &e->zp) && strcmp(o->path, e->path) == 0) {
            drop(o); /* another thread's encoding of the same file, or an older one */
            break;
        }
    }
    while (zc.tail && (zc.n >= PT_ZCACHE_ENTRIES || zc.bytes + e->len > PT_ZCACHE_BYTES))
        drop(zc.tail);
    push_front(e);
    zc.n++;
    zc.bytes += e->len;
    pthread_mutex_unlock(&zc.lock);
}

static int encode_gzip(const void *p, size_t n, const pt_zparams_t *zp, void **out,
                       size_t *outlen)
{
    z_stream z = {0};
    if (deflateInit2(&z, zp->level, Z_DEFLATED, 16 + zp->window, zp->memlevel,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    uLong cap = deflateBound(&z, (uLong)n);
    unsigned char *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return -ENOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    *outlen = cap - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return -ENOMEM;
    }
    *out = buf;
    return 0;
}

/* One shot, or through an encoder instance when BrotliCompressionMaxInputBlock is set
 * (the one-shot call takes no LGBLOCK). */
static bool br_encode(const void *p, size_t n, const pt_zparams_t *zp, uint8_t *buf,
                      size_t *outlen)
{
    if (zp->memlevel <= 0)
        return BrotliEncoderCompress(zp->level, zp->window, BROTLI_MODE_GENERIC, n, p, outlen,
                                     buf);
    BrotliEncoderState *st = BrotliEncoderCreateInstance(NULL, NULL, NULL);
    if (!st)
        return false;
    BrotliEncoderSetParameter(st, BROTLI_PARAM_QUALITY, (uint32_t)zp->level);
    BrotliEncoderSetParameter(st, BROTLI_PARAM_LGWIN, (uint32_t)zp->window);
    BrotliEncoderSetParameter(st, BROTLI_PARAM_LGBLOCK, (uint32_t)zp->memlevel);
    BrotliEncoderSetParameter(st, BROTLI_PARAM_SIZE_HINT, (uint32_t)PT_MIN(n, (size_t)1 << 30));
    size_t avail_in = n, avail_out = *outlen;
    const uint8_t *next_in = p;
    uint8_t *next_out = buf;
    bool ok = BrotliEncoderCompressStream(st, BROTLI_OPERATION_FINISH, &avail_in, &next_in,
                                          &avail_out, &next_out, NULL) &&
              BrotliEncoderIsFinished(st);
    BrotliEncoderDestroyInstance(st);
    *outlen -= avail_out;
    return ok;
}

int pt_zcache_encode(const void *p, size_t n, const pt_zparams_t *zp, void **out,
                     size_t *outlen)
{
    if (zp->enc == PT_ENC_GZIP)
        return encode_gzip(p, n, zp, out, outlen);
    size_t cap = BrotliEncoderMaxCompressedSize(n);
    if (cap == 0)
        cap = n + n / 2 + 1024;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    *outlen = cap;
    if (!br_encode(p, n, zp, buf, outlen)) {
        free(buf);
        return -ENOMEM;
    }
    *out = buf;
    return 0;
}

/* The whole file, from memory or read now; *tmp is what the caller frees. */
static const void *file_bytes(int fd, const struct stat *st, const void *data, void **tmp)
{
    *tmp = NULL;
    if (data)
        return data;
    size_t n = (size_t)st->st_size, got = 0;
    char *buf = malloc(n ? n : 1);
    while (buf && got < n) {
        ssize_t k = pread(fd, buf + got, n - got, (off_t)got);
        if (k <= 0) {
            free(buf);
            return NULL;
        }
        got += (size_t)k;
    }
    *tmp = buf;
    return buf;
}

const void *pt_zcache_get(pt_arena_t *a, const char *path, int fd, const struct stat *st,
                          const void *data, const pt_zparams_t *zp, size_t *len)
{
    if (!path || st->st_size > PT_ZCACHE_FILE_MAX)
        return NULL;
    uint64_t h = key_hash(path, zp);
    const void *hit = lookup(a, path, h, st, zp, len);
    if (hit)
        return hit;
    void *tmp;
    const void *src = file_bytes(fd, st, data, &tmp);
    zentry_t *e = src ? calloc(1, sizeof(*e)) : NULL;
    if (!e || pt_zcache_encode(src, (size_t)st->st_size, zp, &e->data, &e->len) != 0 ||
        !(e->path = strdup(path))) {
        free(tmp);
        if (e)
            free(e->data);
        free(e);
        return NULL;
    }
    free(tmp);
    e->hash = h;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime = st->st_mtim;
    e->zp = *zp;
    void *copy = pt_arena_alloc(a, e->len);
    memcpy(copy, e->data, e->len);
    *len = e->len;
    insert(e);
    return copy;
}

void pt_zcache_clear(void)
{
    pthread_mutex_lock(&zc.lock);
    while (zc.head)
        drop(zc.head);
    pthread_mutex_unlock(&zc.lock);
}
