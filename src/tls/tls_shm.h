/* src/tls: memory that the parent maps before it forks the children, so that what it writes
 * later (a rotated ticket key, a refreshed OCSP response) is what every child reads, and a
 * sequence lock around it: one writer (the parent's tick), readers in any child on any
 * thread, no lock a killed process could leave held. */
#ifndef PT_TLS_SHM_H
#define PT_TLS_SHM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* len bytes of zeroed MAP_SHARED anonymous memory, or NULL with errno. Freed with
 * pt_tls_shm_free(p, len). */
void *pt_tls_shm_alloc(size_t len);
void pt_tls_shm_free(void *p, size_t len);

/* Even: stable; odd: the writer is inside. Lives in the shared memory it guards. */
typedef struct {
    _Atomic uint32_t seq;
} pt_seqlock_t;

/* The writer (one at a time: the parent) brackets its stores. */
void pt_seq_write_begin(pt_seqlock_t *l);
void pt_seq_write_end(pt_seqlock_t *l);

/* Copies len bytes of src (guarded by l) into dst as one consistent snapshot. false when
 * none could be taken within a bounded number of tries (a writer that died mid-write): the
 * reader then does without (a full handshake, no staple) rather than spin. */
bool pt_seq_read(const pt_seqlock_t *l, void *dst, const void *src, size_t len);

/* The same in two steps, for a reader that copies a variable length: s = pt_seq_begin(l)
 * (false after the bounded wait), copy, then pt_seq_valid(l, s) says whether the copy is
 * consistent (false: start again). */
bool pt_seq_begin(const pt_seqlock_t *l, uint32_t *s);
bool pt_seq_valid(const pt_seqlock_t *l, uint32_t s);

#endif
