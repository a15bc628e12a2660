/* Buffer chains: how bytes move between a producer (a handler, a backend relay, later an
 * HTTP/2 stream) and a writer (a protocol's output, a transport). A pt_buf_t is a slice of
 * memory or a range of an open file (sent by sendfile where the transport can); a chain is
 * an ordered list of them with its byte count, so a writer can gather the memory slices of
 * a response into one writev and stop at a file range.
 *
 * Ownership: a chain owns neither the pt_buf_t records nor the bytes. Both live in the
 * arena they were made from (usually the request's), or the producer keeps them alive until
 * the chain is consumed. File descriptors stay the producer's to close. Bounds: a chain is
 * as long as its producer makes it; writers take at most PT_CHAIN_IOV slices per call. */
#ifndef PT_BUF_H
#define PT_BUF_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Slices a writer gathers into one writev at most (well under IOV_MAX). */
#define PT_CHAIN_IOV 64

typedef struct pt_buf {
    struct pt_buf *next;
    const char *p;     /* memory slice [p, p + len), when fd < 0 */
    int fd;            /* file range [off, off + len) of fd, or -1 */
    off_t off;
    size_t len;        /* bytes left in this buffer */
    bool last;         /* the final buffer of a body: nothing follows it */
} pt_buf_t;

typedef struct {
    pt_buf_t *head;
    pt_buf_t **tail;   /* where the next buffer is linked */
    size_t bytes;      /* total bytes left in the chain */
    bool last;         /* a buffer marked last was appended */
} pt_chain_t;

void pt_chain_init(pt_chain_t *c);
bool pt_chain_empty(const pt_chain_t *c);

/* A buffer referring to n bytes at p (not copied); NULL when the arena is exhausted. */
pt_buf_t *pt_buf_mem(pt_arena_t *a, const void *p, size_t n);
/* A buffer holding a copy of n bytes at p. */
pt_buf_t *pt_buf_copy(pt_arena_t *a, const void *p, size_t n);
/* A buffer for len bytes of file fd from off. */
pt_buf_t *pt_buf_file(pt_arena_t *a, int fd, off_t off, size_t len);

/* Links b (and whatever follows it) at the end of c. Empty buffers are kept only when they
 * carry the last mark. */
void pt_chain_append(pt_chain_t *c, pt_buf_t *b);

/* Fills iov with the memory slices at the head of c, up to max slices and up to the first
 * file buffer. Returns the number of slices; *bytes (if given) their total. */
int pt_chain_iov(const pt_chain_t *c, struct iovec *iov, int max, size_t *bytes);

/* Drops n bytes from the head of c (what a write took), unlinking buffers that are done. */
void pt_chain_consume(pt_chain_t *c, size_t n);

#endif
