/* A session's memory for nghttp2 (h2_mem.h): each block carries a 16-byte header (its size
 * class, or its size when it is too big for one) so that free, which nghttp2 calls without
 * a size, knows where it goes. Small blocks go back on their class's list while the cache
 * is under its bound, the rest to free(). */
#include "h2_mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define H2_MEM_MIN 64            /* the smallest class's size */
#define H2_MEM_BIG H2_MEM_CLASSES /* the class of a block malloc'd to its own size */

struct h2_mem_free {
    h2_mem_free_t *next;
};

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
    h2_mem_t *m = ud;
    uint32_t c = class_of(size);
    h2_mem_head_t *h;
    if (c < H2_MEM_BIG && m->free[c]) {
        h2_mem_free_t *f = m->free[c];
        m->free[c] = f->next;
        m->cached -= (size_t)H2_MEM_MIN << c;
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
    h2_mem_t *m = ud;
    if (!p)
        return;
    h2_mem_head_t *h = head_of(p);
    uint32_t c = h->h.cls;
    if (c < H2_MEM_BIG && m->cached + h->h.size <= H2_MEM_CACHE_MAX) {
        h2_mem_free_t *f = p; /* (in the block: its head stays as it is) */
        f->next = m->free[c];
        m->free[c] = f;
        m->cached += h->h.size;
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

nghttp2_mem h2_mem_of(h2_mem_t *m)
{
    return (nghttp2_mem){.mem_user_data = m,
                         .malloc = mem_malloc,
                         .free = mem_free,
                         .calloc = mem_calloc,
                         .realloc = mem_realloc};
}

void h2_mem_release(h2_mem_t *m)
{
    for (int c = 0; c < H2_MEM_CLASSES; c++)
        while (m->free[c]) {
            h2_mem_free_t *f = m->free[c];
            m->free[c] = f->next;
            free(head_of(f));
        }
    m->cached = 0;
}
