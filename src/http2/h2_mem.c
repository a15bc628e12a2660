/* Memory for nghttp2 (h2_mem.h): each block carries a 16-byte header (its size
 * class, or its size when it is too big for one) so that free, which nghttp2 calls without
 * a size, knows where it goes. Small blocks go back on their class's list while the cache
 * is under its bound, the rest to free(). */
#include "h2_mem.h"
#include "idle.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define H2_MEM_MIN 64            /* the smallest class's size */
#define H2_MEM_BIG H2_MEM_CLASSES /* the class of a block malloc'd to its own size */

typedef struct h2_mem_free {
    struct h2_mem_free *next;
} h2_mem_free_t;

/* The calling thread's lists. */
static _Thread_local struct {
    h2_mem_free_t *free[H2_MEM_CLASSES]; /* free blocks of each size */
    size_t cached;                       /* bytes on the free lists */
} tc;

_Thread_local h2_obuf_t h2_ob;

/* A thread about to wait a while, or ending, gives its free blocks and its (empty) output
 * batch back to malloc: a worker that served HTTP/2 once keeps nothing of it while idle. */
static void idle_release(void)
{
    h2_mem_thread_release();
    if (h2_ob.len == 0)
        h2_obuf_free();
}

static atomic_bool hooked; /* idle_release is an idle hook (idle.h) */

/* Whether the thread may keep blocks or a batch: the hook will let them go. */
static bool keeps(void)
{
    return pt_thread_keeps(idle_release, &hooked);
}

typedef union {
    struct {
        uint32_t cls;
        size_t size; /* usable bytes */
    } h;
    max_align_t align; /* (the block after it as aligned as malloc's) */
} h2_mem_head_t;

static h2_mem_head_t *head_of(void *p)
{
    return (h2_mem_head_t *)p - 1;
}

static uint32_t class_of(size_t size)
{
    if (size <= H2_MEM_MIN)
        return 0;
    /* bits of size - 1, less those of H2_MEM_MIN - 1 (6): 65..128 is 1, 129..256 is 2 */
    unsigned bits = 64u - (unsigned)__builtin_clzll((unsigned long long)(size - 1));
    return bits - 6 < H2_MEM_BIG ? bits - 6 : H2_MEM_BIG;
}

static void *mem_malloc(size_t size, void *ud)
{
    (void)ud;
    uint32_t c = class_of(size);
    h2_mem_head_t *h;
    if (c < H2_MEM_BIG && tc.free[c]) {
        h2_mem_free_t *f = tc.free[c];
        tc.free[c] = f->next;
        tc.cached -= (size_t)H2_MEM_MIN << c;
        return f;
    }
    size_t cap = c < H2_MEM_BIG ? (size_t)H2_MEM_MIN << c : size;
    if (cap > SIZE_MAX - sizeof(*h))
        return NULL;
    h = malloc(sizeof(*h) + cap);
    if (!h)
        return NULL;
    h->h.cls = c;
    h->h.size = cap;
    return h + 1;
}

static void mem_free(void *p, void *ud)
{
    (void)ud;
    if (!p)
        return;
    h2_mem_head_t *h = head_of(p);
    uint32_t c = h->h.cls;
    if (c < H2_MEM_BIG && tc.cached + h->h.size <= H2_MEM_CACHE_MAX) {
        if (!keeps()) {
            free(h);
            return;
        }
        h2_mem_free_t *f = p; /* (in the block: its head stays as it is) */
        f->next = tc.free[c];
        tc.free[c] = f;
        tc.cached += h->h.size;
        return;
    }
    free(h);
}

static void *mem_calloc(size_t n, size_t size, void *ud)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = mem_malloc(n * size, ud);
    if (p)
        memset(p, 0, n * size);
    return p;
}

static void *mem_realloc(void *p, size_t size, void *ud)
{
    if (!p)
        return mem_malloc(size, ud);
    size_t have = head_of(p)->h.size;
    if (size <= have)
        return p;
    void *q = mem_malloc(size, ud);
    if (!q)
        return NULL;
    memcpy(q, p, size < have ? size : have);
    mem_free(p, ud);
    return q;
}

nghttp2_mem h2_mem(void)
{
    return (nghttp2_mem){.mem_user_data = NULL,
                         .malloc = mem_malloc,
                         .free = mem_free,
                         .calloc = mem_calloc,
                         .realloc = mem_realloc};
}

size_t h2_mem_cached(void)
{
    return tc.cached;
}

void h2_mem_thread_release(void)
{
    for (int c = 0; c < H2_MEM_CLASSES; c++)
        while (tc.free[c]) {
            h2_mem_free_t *f = tc.free[c];
            tc.free[c] = f->next;
            free(head_of(f));
        }
    tc.cached = 0;
}

int h2_obuf_grow(size_t need)
{
    if (!keeps())
        return -1;
    size_t cap = h2_ob.cap * 2 > need ? h2_ob.cap * 2 : need;
    if (cap < H2_OBUF_MIN)
        cap = H2_OBUF_MIN;
    char *nb = realloc(h2_ob.p, cap);
    if (!nb)
        return -1;
    h2_ob.p = nb;
    h2_ob.cap = cap;
    return 0;
}

void h2_obuf_free(void)
{
    free(h2_ob.p);
    h2_ob = (h2_obuf_t){0};
}
