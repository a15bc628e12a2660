/* Region allocator: many small allocations, freed together. One arena per connection,
 * one per request (reset between keep-alive requests), one per configuration generation.
 * An arena is used by one thread at a time. Allocation failure aborts the process: the
 * bounds on requests keep arenas small, so running out of memory is not a request error. */
#ifndef PT_ARENA_H
#define PT_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct pt_arena pt_arena_t;

#define PT_ARENA_DEFAULT_BLOCK 4096

pt_arena_t *pt_arena_create(size_t block_size);
void pt_arena_destroy(pt_arena_t *a);
/* Frees every block but the first and rewinds it: the cheap reset between requests. */
void pt_arena_reset(pt_arena_t *a);
/* Arenas that move between threads with a request parked without its worker (HTTP/1's
 * suspension): the worker that gives its arena to the request takes a spare from a small
 * process-wide stock (a new one with like's block size when it is empty); the worker that
 * adopts a request's arena gives its own back (reset here; destroyed when the stock is
 * full). */
pt_arena_t *pt_arena_spare_take(const pt_arena_t *like);
void pt_arena_spare_give(pt_arena_t *a);
/* Runs fn(arg) when a is next reset or destroyed, newest first, before its memory goes (as
 * an APR pool cleanup): how a request lets go of what it borrowed from a shared cache. */
void pt_arena_cleanup(pt_arena_t *a, void (*fn)(void *arg), void *arg);

/* 16-byte aligned. The common case (the current block has room) is inline: a request
 * makes some twenty allocations, and the call cost more than the bump. */
static inline void *pt_arena_alloc(pt_arena_t *a, size_t n);
void *pt_arena_calloc(pt_arena_t *a, size_t n);
char *pt_arena_strdup(pt_arena_t *a, const char *s);
char *pt_arena_strndup(pt_arena_t *a, const char *s, size_t n);
char *pt_arena_printf(pt_arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *pt_arena_vprintf(pt_arena_t *a, const char *fmt, va_list ap);
/* Grows an array allocated from the arena (old contents copied; the old block is not freed). */
void *pt_arena_grow(pt_arena_t *a, void *old, size_t old_bytes, size_t new_bytes);
/* A string that grows in an arena (status pages, metrics, generated text). */
typedef struct {
    pt_arena_t *a;
    char *p;
    size_t len, cap;
} pt_strbuf_t;

/* Appends formatted text, growing the buffer as needed; p stays NUL-terminated. */
void pt_strbuf_printf(pt_strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Bytes handed out since creation or the last reset (for tests and status). */
size_t pt_arena_used(const pt_arena_t *a);

/* Private to the arena: the free space of its current block, the first member of every
 * pt_arena_t (so that a pointer to the arena is one to it), for the inline fast path. */
struct pt_arena_bump {
    char *pos, *end;
};
#define PT_ARENA_ALIGN 16
/* The slow path: a new block, or a big allocation's own block. n is rounded already. */
void *pt_arena_alloc_block(pt_arena_t *a, size_t n);

static inline void *pt_arena_alloc(pt_arena_t *a, size_t n)
{
    struct pt_arena_bump *b = (struct pt_arena_bump *)(void *)a;
    n = (n + PT_ARENA_ALIGN - 1) & ~(size_t)(PT_ARENA_ALIGN - 1);
    if (n == 0)
        n = PT_ARENA_ALIGN;
    if ((size_t)(b->end - b->pos) < n)
        return pt_arena_alloc_block(a, n);
    void *p = b->pos;
    b->pos += n;
    return p;
}

#endif
