#include "buf.h"

#include <string.h>

void pt_chain_init(pt_chain_t *c)
{
    c->head = NULL;
    c->tail = &c->head;
    c->bytes = 0;
    c->last = false;
}

bool pt_chain_empty(const pt_chain_t *c)
{
    return c->head == NULL;
}

static pt_buf_t *buf_new(pt_arena_t *a)
{
    pt_buf_t *b = pt_arena_calloc(a, sizeof(*b));
    if (b)
        b->fd = -1;
    return b;
}

pt_buf_t *pt_buf_mem(pt_arena_t *a, const void *p, size_t n)
{
    pt_buf_t *b = buf_new(a);
    if (b) {
        b->p = p;
        b->len = n;
    }
    return b;
}

pt_buf_t *pt_buf_copy(pt_arena_t *a, const void *p, size_t n)
{
    char *copy = pt_arena_alloc(a, n ? n : 1);
    if (!copy)
        return NULL;
    memcpy(copy, p, n);
    return pt_buf_mem(a, copy, n);
}

pt_buf_t *pt_buf_file(pt_arena_t *a, int fd, off_t off, size_t len)
{
    pt_buf_t *b = buf_new(a);
    if (b) {
        b->fd = fd;
        b->off = off;
        b->len = len;
    }
    return b;
}

void pt_chain_append(pt_chain_t *c, pt_buf_t *b)
{
    while (b) {
        pt_buf_t *next = b->next;
        b->next = NULL;
        if (b->last)
            c->last = true;
        if (b->len > 0 || b->last) {
            *c->tail = b;
            c->tail = &b->next;
            c->bytes += b->len;
        }
        b = next;
    }
}

int pt_chain_iov(const pt_chain_t *c, struct iovec *iov, int max, size_t *bytes)
{
    int n = 0;
    size_t total = 0;
    for (const pt_buf_t *b = c->head; b && b->fd < 0 && n < max; b = b->next) {
        if (b->len == 0)
            continue;
        iov[n].iov_base = (void *)b->p;
        iov[n].iov_len = b->len;
        total += b->len;
        n++;
    }
    if (bytes)
        *bytes = total;
    return n;
}

void pt_chain_consume(pt_chain_t *c, size_t n)
{
    while (c->head) {
        pt_buf_t *b = c->head;
        size_t take = n < b->len ? n : b->len;
        b->len -= take;
        c->bytes -= take;
        n -= take;
        if (b->fd >= 0)
            b->off += (off_t)take;
        else
            b->p += take;
        if (b->len > 0)
            break;
        c->head = b->next; /* done (an empty last mark too: c->last remembers it) */
        if (!c->head)
            c->tail = &c->head;
    }
}
