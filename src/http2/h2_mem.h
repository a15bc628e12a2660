/* nghttp2's memory (nghttp2_mem): blocks of a few sizes kept on free lists of the thread
 * that frees them, and handed back when that thread asks again, so the objects nghttp2 makes
 * and drops for every stream (the stream, its outbound items, the copy of a response head,
 * decoded header buffers) skip malloc and free. The lists are the thread's, not a
 * session's: a block freed by one session's stream serves the next session's while it is
 * still in the CPU's cache (a session's own lists, reused a batch of every other session
 * later, missed it: the pop was 2% of an HTTP/2 request's time, by perf), and an idle
 * session keeps no free blocks. Each thread's lists are bounded (H2_MEM_CACHE_MAX bytes) and
 * freed when the thread is about to wait for work (idle.h) or ends. */
#ifndef PT_H2_MEM_H
#define PT_H2_MEM_H

#include <nghttp2/nghttp2.h>
#include <stddef.h>

#define H2_MEM_CLASSES 6            /* block sizes 64, 128, ..., 2048 */
#define H2_MEM_CACHE_MAX (32 * 1024) /* bytes of free blocks a thread keeps */
#define H2_OBUF_MIN (64 * 1024 + 16384)  /* the output batch's first size: a full batch
                                            and a frame past it (H2_OBUF_FLUSH) */

/* The allocator (any thread; each uses its own lists). */
nghttp2_mem h2_mem(void);
/* Bytes on the calling thread's free lists. */
size_t h2_mem_cached(void);
/* Frees the calling thread's free blocks (its end does this by itself). */
void h2_mem_thread_release(void);

/* The batch h2_session_flush writes: the thread's, not a session's. A flush fills and
 * writes it and leaves it empty, whatever happens (so no session's bytes can go out with
 * another's), so one buffer serves every session the thread runs: it stays in the CPU's
 * cache from one session's batch to the next's, and an idle session holds none of the 64
 * KiB and more its batches grew to. Freed with the thread's free blocks. */
typedef struct {
    char *p;
    size_t len, cap;
} h2_obuf_t;
extern _Thread_local h2_obuf_t h2_ob;
/* Room for need bytes in all: 0, or -1 without memory. */
int h2_obuf_grow(size_t need);
/* Frees the buffer (empty). */
void h2_obuf_free(void);

#endif
