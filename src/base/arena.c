/* Region allocator: bump allocation in linked blocks; big requests get their own block. */
#include "arena.h"
#include "common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
} block_t;

typedef struct cleanup {
    struct cleanup *next;
    void (*fn)(void *arg);
    void *arg;
} cleanup_t;

struct pt_arena {
    struct pt_arena_bump bump; /* head's free space; first, for arena.h's inline path */
    block_t *head; /* current block; every block is reachable from it */
    block_t *first; /* kept across resets */
    size_t block_size;
    size_t total; /* bytes handed out from the blocks head has replaced, and big blocks */
    cleanup_t *cleanups; /* newest first; the nodes live in the arena */
};

_Static_assert(offsetof(struct pt_arena, bump) == 0, "arena.h's fast path reads bump at a");

static void run_cleanups(pt_arena_t *a)
{
    /* A cleanup may register another (it lands on the fresh list and runs too). */
    while (a->cleanups) {
        cleanup_t *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->arg);
    }
}

#define ALIGN PT_ARENA_ALIGN
#define HDR ((sizeof(block_t) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

static char *block_data(block_t *b)
{
    return (char *)b + HDR;
}

/* Makes b the current block, all of it free. */
static void bump_to(pt_arena_t *a, block_t *b)
{
    a->head = b;
    a->bump.pos = block_data(b);
    a->bump.end = block_data(b) + b->size;
}

static block_t *block_new(size_t size)
{
    block_t *b = malloc(HDR + size);
    if (!b) {
        fputs("portico: out of memory\n", stderr);
        abort();
    }
    b->next = NULL;
    b->size = size;
    return b;
}

pt_arena_t *pt_arena_create(size_t block_size)
{
    pt_arena_t *a = malloc(sizeof(*a));
    if (!a) {
        fputs("portico: out of memory\n", stderr);
        abort();
    }
    a->block_size = block_size ? block_size : PT_ARENA_DEFAULT_BLOCK;
    a->first = block_new(a->block_size);
    bump_to(a, a->first);
    a->total = 0;
    a->cleanups = NULL;
    return a;
}

void pt_arena_destroy(pt_arena_t *a)
{
    if (!a)
        return;
    run_cleanups(a);
    block_t *b = a->head;
    while (b) {
        block_t *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

void pt_arena_reset(pt_arena_t *a)
{
    /* Reset already, as a worker's arena is at two of its three resets a keep-alive
     * request: nothing to do. */
    if (!a->cleanups && a->head == a->first && !a->first->next &&
        a->bump.pos == block_data(a->first)) /* (a big block hangs behind the first) */
        return;
    run_cleanups(a);
    block_t *b = a->head;
    while (b) {
        block_t *n = b->next;
        if (b != a->first)
            free(b);
        b = n;
    }
    a->first->next = NULL;
    bump_to(a, a->first);
    a->total = 0;
}

/* The stock of spare arenas: as many as requests were parked at once recently, bounded. */
#define SPARE_MAX 64
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static pt_arena_t *spares[SPARE_MAX]; /* [spare_lock] */
static size_t nspares;                /* [spare_lock] */

pt_arena_t *pt_arena_spare_take(const pt_arena_t *like)
{
    pt_arena_t *a = NULL;
    pthread_mutex_lock(&spare_lock);
    if (nspares > 0)
        a = spares[--nspares];
    pthread_mutex_unlock(&spare_lock);
    return a ? a : pt_arena_create(like->block_size);
}

void pt_arena_spare_give(pt_arena_t *a)
{
    pt_arena_reset(a);
    pthread_mutex_lock(&spare_lock);
    bool kept = nspares < SPARE_MAX;
    if (kept)
        spares[nspares++] = a;
    pthread_mutex_unlock(&spare_lock);
    if (!kept)
        pt_arena_destroy(a);
}

void *pt_arena_alloc_block(pt_arena_t *a, size_t n)
{
    block_t *b = a->head;
    if (n > a->block_size / 4) {
        /* A big allocation gets a block of its own, linked behind the current one so the
         * current block's free space stays in use. */
        block_t *big = block_new(n);
        big->next = b->next;
        b->next = big;
        a->total += n;
        return block_data(big);
    }
    block_t *nb = block_new(a->block_size);
    nb->next = b;
    a->total += (size_t)(a->bump.pos - block_data(b));
    bump_to(a, nb);
    void *p = a->bump.pos;
    a->bump.pos += n;
    return p;
}

void *pt_arena_calloc(pt_arena_t *a, size_t n)
{
    void *p = pt_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *pt_arena_strndup(pt_arena_t *a, const char *s, size_t n)
{
    char *d = pt_arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *pt_arena_strdup(pt_arena_t *a, const char *s)
{
    return s ? pt_arena_strndup(a, s, strlen(s)) : NULL;
}

/* The number of %s conversions in fmt when it has no other conversion (%% aside) and at
 * most PT_CONCAT_MAX of them, else -1: such a format is a concatenation, made without
 * vsnprintf (which costs some 1,800 instructions for a short path). */
#define PT_CONCAT_MAX 8
static int concat_args(const char *fmt)
{
    int n = 0;
    for (const char *p = fmt; (p = strchr(p, '%')) != NULL; p += 2) {
        if (p[1] == 's')
            n++;
        else if (p[1] != '%')
            return -1;
    }
    return n <= PT_CONCAT_MAX ? n : -1;
}

/* fmt with n %s conversions (concat_args), as vsnprintf writes it: a NULL argument reads
 * "(null)", as glibc's does. */
static char *concat(pt_arena_t *a, const char *fmt, int n, va_list ap)
{
    const char *s[PT_CONCAT_MAX];
    size_t len[PT_CONCAT_MAX], total = strlen(fmt);
    for (int i = 0; i < n; i++) {
        s[i] = va_arg(ap, const char *);
        if (!s[i])
            s[i] = "(null)";
        len[i] = strlen(s[i]);
        total += len[i];
    }
    char *d = pt_arena_alloc(a, total + 1), *q = d;
    int i = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            *q++ = *p;
        } else if (*++p == '%') {
            *q++ = '%';
        } else {
            memcpy(q, s[i], len[i]);
            q += len[i++];
        }
    }
    *q = '\0';
    return d;
}

char *pt_arena_vprintf(pt_arena_t *a, const char *fmt, va_list ap)
{
    int ns = concat_args(fmt);
    if (ns >= 0)
        return concat(a, fmt, ns, ap);
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        n = 0;
    char *d = pt_arena_alloc(a, (size_t)n + 1);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    return d;
}

char *pt_arena_printf(pt_arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *d = pt_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return d;
}

void *pt_arena_grow(pt_arena_t *a, void *old, size_t old_bytes, size_t new_bytes)
{
    void *p = pt_arena_alloc(a, new_bytes);
    if (old && old_bytes)
        memcpy(p, old, old_bytes < new_bytes ? old_bytes : new_bytes);
    return p;
}

size_t pt_arena_used(const pt_arena_t *a)
{
    return a->total + (size_t)(a->bump.pos - block_data(a->head));
}

void pt_strbuf_printf(pt_strbuf_t *b, const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    if (!b->p) {
        b->cap = PT_MAX(b->cap, 256);
        b->p = pt_arena_alloc(b->a, b->cap);
        b->p[0] = '\0';
    }
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= b->cap - b->len) {
        size_t cap = PT_MAX(b->cap * 2, b->len + (size_t)n + 1);
        b->p = pt_arena_grow(b->a, b->p, b->len, cap);
        b->cap = cap;
        vsnprintf(b->p + b->len, b->cap - b->len, fmt, again);
    }
    va_end(again);
    if (n > 0)
        b->len += (size_t)n;
}

void pt_arena_cleanup(pt_arena_t *a, void (*fn)(void *arg), void *arg)
{
    cleanup_t *c = pt_arena_alloc(a, sizeof(*c));
    c->fn = fn;
    c->arg = arg;
    c->next = a->cleanups;
    a->cleanups = c;
}
