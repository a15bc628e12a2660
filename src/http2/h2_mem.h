/* nghttp2's memory for one session (nghttp2_mem): blocks of a few sizes kept on free lists
 * when nghttp2 frees them and handed back when it asks again, so the objects it makes and
 * drops for every stream (the stream, its outbound items, the copy of a response head,
 * decoded header buffers) skip malloc and free. Used by the session's thread alone (c1),
 * as nghttp2 itself is; the cache is bounded (H2_MEM_CACHE_MAX bytes) and freed with the
 * session. */
#ifndef PT_H2_MEM_H
#define PT_H2_MEM_H

#include <nghttp2/nghttp2.h>
#include <stddef.h>

#define H2_MEM_CLASSES 6            /* block sizes 64, 128, ..., 2048 */
#define H2_MEM_CACHE_MAX (32 * 1024) /* bytes of free blocks a session keeps */

typedef struct h2_mem_free h2_mem_free_t;

typedef struct {
    h2_mem_free_t *free[H2_MEM_CLASSES]; /* free blocks of each size */
    size_t cached;                       /* bytes on the free lists */
} h2_mem_t;

/* The allocator over m (which must outlive the nghttp2 session made with it). */
nghttp2_mem h2_mem_of(h2_mem_t *m);
/* Frees the cached blocks (after the nghttp2 session is deleted). */
void h2_mem_release(h2_mem_t *m);

#endif
