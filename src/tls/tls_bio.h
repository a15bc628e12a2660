/* Inside src/tls: the BIOs a connection's SSL reads and writes its socket through
 * (tls_bio.c), for the transport (tls_transport.c). */
#ifndef PT_TLS_BIO_H
#define PT_TLS_BIO_H

#include "conn.h"
#include "tls_ctx.h"

#include <openssl/bio.h>

/* The read side: recv on c's socket, marking c->park.drained when a read empties it. NULL
 * when out of memory. */
BIO *pt_tls_bio_reader(pt_conn_t *c);
/* The write side without kernel TLS: send on c's socket; a TLS 1.3 server's session
 * tickets are held (st->held) and leave ahead of the next record. NULL when out of
 * memory. */
BIO *pt_tls_bio_writer(pt_conn_t *c);
/* Sends what the writer holds: 0 when nothing is left, PT_EAGAIN (the socket is full:
 * c->tp_want is POLLOUT) or PT_ECLOSED. */
long pt_tls_held_flush(pt_conn_t *c, pt_tls_state_t *st);
/* Forgets what the writer holds (the connection's end). */
void pt_tls_held_drop(pt_tls_state_t *st);

#endif
