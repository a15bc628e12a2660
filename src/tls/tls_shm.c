/* src/tls: shared memory for the TLS runtime state the parent refreshes (tls_shm.h), and
 * the sequence lock that lets children copy it without a lock. */
#include "tls_shm.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

/* A write is a few hundred bytes of memcpy; a reader that still sees it in progress after
 * this many yields is looking at a writer that will not finish. */
#define SEQ_READ_TRIES 1000

void *pt_tls_shm_alloc(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void pt_tls_shm_free(void *p, size_t len)
{
    if (p)
        munmap(p, len);
}

void pt_seq_write_begin(pt_seqlock_t *l)
{
    uint32_t s = atomic_load_explicit(&l->seq, memory_order_relaxed);
    atomic_store_explicit(&l->seq, s + 1, memory_order_relaxed);
    /* The odd count must be visible before any of the data stores. */
    atomic_thread_fence(memory_order_release);
}

void pt_seq_write_end(pt_seqlock_t *l)
{
    uint32_t s = atomic_load_explicit(&l->seq, memory_order_relaxed);
    atomic_store_explicit(&l->seq, s + 1, memory_order_release);
}

bool pt_seq_begin(const pt_seqlock_t *l, uint32_t *s)
{
    for (int i = 0; i < SEQ_READ_TRIES; i++) {
        *s = atomic_load_explicit(&l->seq, memory_order_acquire);
        if (!(*s & 1))
            return true;
        sched_yield();
    }
    return false;
}

bool pt_seq_valid(const pt_seqlock_t *l, uint32_t s)
{
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&l->seq, memory_order_relaxed) == s;
}

bool pt_seq_read(const pt_seqlock_t *l, void *dst, const void *src, size_t len)
{
    for (int i = 0; i < SEQ_READ_TRIES; i++) {
        uint32_t s;
        if (!pt_seq_begin(l, &s))
            return false;
        memcpy(dst, src, len);
        if (pt_seq_valid(l, s))
            return true;
    }
    return false;
}
