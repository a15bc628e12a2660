/* A client connection: socket, addresses, read buffer and life-cycle state. The listener
 * owns a parked connection; a worker owns one it is serving; ownership moves through the
 * MPM's queues, never shared. Idle connections keep no read buffer (it is freed when a
 * connection parks with nothing pending), so thousands of them cost a few hundred bytes
 * each. */
#ifndef PT_CONN_H
#define PT_CONN_H

#include "arena.h"
#include "common.h"
#include "config.h"
#include "http1.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

/* States as server-status will show them. */
typedef enum {
    PT_CONN_READ_REQUEST, /* waiting for (the rest of) a request head */
    PT_CONN_KEEPALIVE,    /* idle between requests */
    PT_CONN_LINGER,       /* shut down for writing, draining what the client still sends */
    PT_CONN_WRITE,        /* the listener sends the rest of a response to a slow reader */
    PT_CONN_CLOSE,        /* to be closed now */
} pt_conn_state_t;

#define PT_CONN_RBUF_INITIAL 4096
#define PT_LINGER_MS 2000
#define PT_KEEPALIVE_DEFAULT_MS 5000 /* KeepAliveTimeout before any request set one */ /* as Apache's MAX_SECS_TO_LINGER */

typedef struct pt_conn {
    int fd;
    pt_conn_state_t state;
    const pt_config_t *cfg;
    struct sockaddr_storage peer, local;
    char peer_ip[46];
    char local_ip[46];
    int peer_port, local_port;

    char *rbuf;            /* malloc'd; NULL while idle */
    size_t rcap;           /* allocated */
    size_t rlen;           /* bytes held */
    size_t rpos;           /* start of bytes not yet consumed by a request */

    /* Progress on a head at rbuf + rpos that arrived in pieces (offsets, no pointers); owned,
     * NULL when none is pending, so an idle connection does not carry parser state. */
    pt_http1_parser_t *head;
    int requests;          /* served on this connection */
    int64_t head_start_ms; /* first byte of the request head being read, 0 if none */
    size_t head_bytes;     /* bytes of it received so far (for MinRate) */
    bool aborted;          /* the client went away mid-response */
    bool in_epoll;         /* registered with the listener's epoll set */
    /* Write completion (event MPM): the tail of a file response, sent by the listener
     * without holding a worker. async_write says the MPM supports it. */
    bool async_write;
    bool wc_keepalive;     /* serve another request once the tail is out */
    int wc_fd;             /* our own dup of the file, -1 when none */
    off_t wc_off, wc_len;
    int64_t wc_timeout_ms;
    int64_t keepalive_ms;  /* KeepAliveTimeout of the vhost that served the last request */

    /* Listener bookkeeping (timeout heap), owned by the MPM. */
    int64_t deadline_ms;
    long heap_idx;         /* -1 when not in the heap */
    bool expired;          /* closed by the listener; memory not yet freed */
    struct pt_conn *next;  /* queue link */
    int64_t queued_ms;     /* when it entered the ready queue */
} pt_conn_t;

pt_conn_t *pt_conn_create(int fd, const pt_config_t *cfg, const struct sockaddr *peer,
                          socklen_t peerlen);
void pt_conn_destroy(pt_conn_t *c);   /* closes the socket */
/* Accepts one connection from a listening socket (non-blocking, TCP_NODELAY). NULL with
 * *err = -EAGAIN when none is waiting, or another -errno (logged here when it matters). */
pt_conn_t *pt_conn_accept(int lfd, const pt_config_t *cfg, int *err);
/* Releases the read buffer when nothing is pending in it. */
void pt_conn_shrink(pt_conn_t *c);

/* Reads what is available into the buffer, growing it up to max. Returns bytes read (> 0),
 * 0 on EOF, PT_EAGAIN when nothing is there, PT_ETOOBIG when the buffer is full, or -errno. */
long pt_conn_read(pt_conn_t *c, size_t max);
/* Waits until the socket is readable (or timeout_ms passes): 0, PT_ETIMEOUT or -errno. */
int pt_conn_wait(pt_conn_t *c, short events, int64_t timeout_ms);
/* Writes everything in iov (blocking through poll, each wait bounded by timeout_ms).
 * 0 or a negative error (PT_ETIMEOUT, PT_ECLOSED). more: MSG_MORE (a file follows). */
int pt_conn_writev(pt_conn_t *c, const struct iovec *iov, int iovcnt, int64_t timeout_ms,
                   bool more);
/* Sends what it can of the pending tail without blocking: 0 when it is all out,
 * PT_EAGAIN when the socket is full, or a negative error (the tail is then dropped). */
int pt_conn_write_tail(pt_conn_t *c);
/* Sends len bytes of a file from off, by sendfile. 0 or a negative error. */
int pt_conn_sendfile(pt_conn_t *c, int fd, off_t off, off_t len, int64_t timeout_ms);
/* Sends what the socket takes now of p[0..n), without waiting: bytes sent or -errno. */
long pt_conn_send_nowait(pt_conn_t *c, const void *p, size_t n);
/* Sends what the socket takes now of len bytes of file fd from *off (advanced): 0 when
 * all went out, PT_EAGAIN when the socket is full, or PT_ECLOSED (then c->aborted). */
int pt_conn_sendfile_nowait(pt_conn_t *c, int fd, off_t *off, off_t len);

/* When a connection waiting for (the rest of) a request head must give up: the header
 * timeout of RequestReadTimeout from the first byte, extended by MinRate, capped by its
 * maximum (Timeout when disabled). */
int64_t pt_conn_read_deadline(const pt_conn_t *c);
/* When an idle keep-alive connection is closed: its last vhost's KeepAliveTimeout from now. */
int64_t pt_conn_keepalive_deadline(const pt_conn_t *c);

/* Sends a canned "status, no body, close" answer without blocking (the listener's 408). */
void pt_conn_send_status(pt_conn_t *c, int status);

/* What the worker does with a connection after serving what it could. */
typedef enum {
    PT_NEXT_PARK_KEEPALIVE,
    PT_NEXT_PARK_READ,  /* head incomplete: wait for more bytes */
    PT_NEXT_LINGER,
    PT_NEXT_WRITE,      /* a response tail is pending: the listener finishes it */
    PT_NEXT_CLOSE,
} pt_conn_next_t;

/* Per worker thread state, passed down explicitly. */
typedef struct pt_worker {
    int id;
    pt_arena_t *arena;     /* request arena, reset per request */
    void *mpm;             /* owning MPM child */
    void *sb;              /* this worker's scoreboard slot (pt_sb_worker_t), or NULL */
    void *sb_counters;     /* its process's counters (pt_sb_counters_t), or NULL */
} pt_worker_t;

/* Serves requests on a readable connection until it would wait for the client; says what
 * to do with it next (request.c). */
pt_conn_next_t pt_conn_serve(pt_worker_t *w, pt_conn_t *c);

#endif
