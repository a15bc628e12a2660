/* The transport under a connection: how its bytes reach the peer. The plain socket
 * (socket.c) is the first implementation; TLS (src/tls) is the next. Every read and write
 * of a client connection goes through these operations (via conn.c), never to the fd.
 *
 * Return values follow conn.h: bytes (> 0), 0 at EOF for recv, PT_EAGAIN when the call
 * would block, or a negative error (-errno or PT_ECLOSED). The operations never block
 * (the fd is non-blocking); waiting is the caller's (conn.c's poll, or the MPM's epoll).
 * A transport may need to write while reading or read while writing (TLS): want_events
 * says which poll events the last PT_EAGAIN was waiting for. */
#ifndef PT_TRANSPORT_H
#define PT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct pt_conn;

typedef struct pt_transport {
    const char *name;                       /* "tcp", "tls": for logs and -V */
    long (*recv)(struct pt_conn *c, void *buf, size_t n);
    /* more: more bytes follow at once (MSG_MORE / cork), so a short head and its body can
     * leave in one packet. */
    long (*writev)(struct pt_conn *c, const struct iovec *iov, int iovcnt, bool more);
    /* NULL when the transport cannot send from a file (TLS without kTLS): callers then
     * read the file and writev it. */
    long (*sendfile)(struct pt_conn *c, int fd, off_t *off, size_t n);
    /* Bytes the transport holds that the peer sent but epoll cannot see (TLS records
     * already decrypted): a connection with pending() > 0 is readable without an event. */
    size_t (*pending)(const struct pt_conn *c);
    /* The connection is between requests, about to park in keep-alive (pt_conn_shrink;
     * NULL: nothing to do): the transport may give back memory it holds for it, or keep
     * it for a connection whose requests come back to back (TLS record buffers). */
    void (*idle)(struct pt_conn *c);
    /* From on to off, reads count the records they open (c->tp_records) and mark one of
     * another type than data (c->tp_other). NULL: no records (TCP: nothing to count). */
    void (*watch_records)(struct pt_conn *c, bool on);
    /* Sends what the transport held back to send with the next write (TLS: a TLS 1.3
     * server's session tickets), without waiting (pt_conn_flush; NULL: it holds nothing). */
    void (*flush)(struct pt_conn *c);
    int (*shutdown_write)(struct pt_conn *c);   /* TCP FIN, TLS close_notify then FIN */
    void (*close)(struct pt_conn *c);           /* frees transport state, closes the fd */
} pt_transport_t;

/* The plain TCP (or Unix) socket. */
extern const pt_transport_t pt_transport_socket;

#endif
