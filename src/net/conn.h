/* src/net/: connections, listeners and the transport under a connection; knows no request.
 *
 * A client connection: transport, addresses, read buffer and the MPM's bookkeeping. The
 * listener owns a parked connection; a worker owns one it is serving; ownership moves
 * through the MPM's queues, never shared. Idle connections keep no read buffer (it is freed
 * when a connection parks with nothing pending), so thousands of them cost a few hundred
 * bytes each. Every byte to or from the peer goes through the functions below and from
 * there through c->tp (transport.h); nothing else touches c->fd but the MPM's epoll. */
#ifndef PT_CONN_H
#define PT_CONN_H

#include "arena.h"
#include "common.h"
#include "config.h"
#include "task.h"
#include "transport.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PT_CONN_RBUF_INITIAL 4096
#define PT_CONN_FILE_CHUNK 16384 /* bytes read per write when the transport cannot sendfile */
#define PT_LINGER_MS 2000 /* as Apache's MAX_SECS_TO_LINGER */
#define PT_KEEPALIVE_DEFAULT_MS 5000 /* KeepAliveTimeout before any request set one */

struct pt_conn;
struct pt_worker;

/* What the worker does with a connection after serving what it could. */
typedef enum {
    PT_NEXT_PARK_KEEPALIVE,
    PT_NEXT_PARK_READ,  /* head incomplete: wait for more bytes */
    PT_NEXT_LINGER,
    PT_NEXT_WRITE,      /* a response tail is pending: the listener finishes it */
    PT_NEXT_CLOSE,
    /* A tunnel after an upgrade, idle both ways (event MPM only, where c->async_write):
     * park on c->fd and c->park.fd2 with the events and deadline_ms the protocol set in
     * c->park; ready again when either is. */
    PT_NEXT_PARK_TUNNEL,
    /* A request waiting for its backend's answer (event MPM only, c->async_write): park on
     * c->park.fd2 alone (c->park.skip_fd), until its deadline_ms; ready again when the
     * backend's socket is readable, or (park.timed_out) when the deadline passed. */
    PT_NEXT_PARK_UPSTREAM,
} pt_conn_next_t;

/* The protocol driver of a connection (HTTP/1 now; HTTP/2 after ALPN later): what the MPM
 * calls, so that it names no protocol. startup.c registers the one for fresh connections
 * (pt_mpm_ctx_t.proto); a driver may switch c->proto (an upgrade). */
typedef struct pt_conn_proto {
    const char *name;
    /* On a worker: serves requests on a readable connection until it would wait for the
     * client; says what to do with it next. */
    pt_conn_next_t (*serve_worker)(struct pt_worker *w, struct pt_conn *c);
    /* A head that started did not arrive in time (RequestReadTimeout): tell the client
     * without blocking, just before the MPM closes the connection. On the listener, or on
     * the worker or prefork process that was waiting. May be NULL. */
    void (*read_timeout)(struct pt_conn *c);
    /* An idle connection's KeepAliveTimeout passed: say goodbye without blocking (HTTP/2:
     * GOAWAY), just before the MPM closes it. Where read_timeout runs. May be NULL. */
    void (*idle_timeout)(struct pt_conn *c);
    /* Frees c->proto_state (pt_conn_destroy). NULL: free(). */
    void (*release)(void *proto_state);
} pt_conn_proto_t;

/* An end of a TCP connection, IPv4 or IPv6: 28 bytes where a sockaddr_storage takes 128.
 * A connection holds two, and an idle one costs little else (0.40 KiB each with 8,000 of
 * them; nginx 0.52). Other families are cut to what fits (a unit test's socketpair). */
typedef union {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} pt_sockaddr_t;

/* The TCP peer of a connection that began with a PROXY protocol header (remoteip.c): the
 * balancer in front, while pt_conn_t.peer becomes the client the header named. */
typedef struct pt_conn_via {
    pt_sockaddr_t addr;
    char ip[46];
    int port;
} pt_conn_via_t;

typedef struct pt_conn {
    int fd;                /* the transport's; -1 once closed */
    const pt_transport_t *tp;
    void *tp_state;        /* owned by the transport (TLS: the session), freed by tp->close */
    short tp_want;         /* poll events the transport's last PT_EAGAIN waits for */
    /* The last read (pt_conn_read, pt_conn_recv_some) cannot go on before the transport has
     * written (TLS: SSL_read must send a KeyUpdate's answer first, and the socket is full).
     * A wait for the next bytes then waits for room instead (pt_conn_read_events): nothing
     * can be read before that, and a wait for input would return at once again and again
     * (OpenSSL keeps the record that made it write: pending) while the socket stays full.
     * Set by every read, so a flag that a wait did not use is gone at the next read. */
    bool read_wants_out;
    /* The transport's, while the owner watches (tp->watch_records) and since it cleared
     * them: a read met something other than the peer's data (TLS: a record of another type,
     * such as a KeyUpdate or an alert); the records the reads opened. */
    bool tp_other;
    int tp_records;
    const pt_conn_proto_t *proto;
    void *proto_state;     /* owned by the protocol driver, freed by proto->release */
    const pt_config_t *cfg;
    pt_sockaddr_t peer, local;
    char peer_ip[46];
    char local_ip[46];
    int peer_port, local_port;
    pt_conn_via_t *via;    /* malloc'd when a PROXY header was read (then peer is the
                              client it named, or stays for LOCAL/UNKNOWN); else NULL */

    char *rbuf;            /* malloc'd; NULL while idle */
    size_t rcap;           /* allocated */
    size_t rlen;           /* bytes held */
    size_t rpos;           /* start of bytes not yet consumed by a request */

    int requests;          /* served on this connection */
    int64_t head_start_ms; /* first byte of the request head being read, 0 if none */
    size_t head_bytes;     /* bytes of it received so far (for MinRate) */
    bool aborted;          /* the client went away mid-response */
    bool proxy_header_done;/* RemoteIPProxyProtocol's header read (or not wanted) */
    /* Write completion (event MPM): the tail of a file response, sent by the listener
     * without holding a worker. async_write says the MPM supports it (and parking in
     * flight: a tunnel, a request waiting for its backend). */
    bool async_write;
    bool wc_keepalive;     /* serve another request once the tail is out */
    int wc_fd;             /* our own dup of the file, -1 when none */
    off_t wc_off, wc_len;
    int64_t wc_timeout_ms;
    int64_t keepalive_ms;  /* KeepAliveTimeout of the vhost that served the last request */
    int64_t idle_from_ms;  /* monotonic ms when the last answer ended, while the connection
                              goes idle straight after it (no wait since): the keep-alive
                              deadline counts from it instead of reading the clock again;
                              0 otherwise (pt_conn_keepalive_deadline consumes it) */
    /* A request parked while its backend works (PT_NEXT_PARK_UPSTREAM): the protocol's
     * record of it, and what gives back what it holds (its arena, the backend connection)
     * when the connection is destroyed before it resumes (a child's forced exit). */
    void *susp;
    void (*susp_abandon)(struct pt_conn *c);

    /* The MPM's: the connection as something a worker serves, and as something the
     * listener watches (park.state is what server-status counts it as). */
    pt_task_t task;
    pt_park_t park;
} pt_conn_t;

pt_conn_t *pt_conn_create(int fd, const pt_config_t *cfg, const struct sockaddr *peer,
                          socklen_t peerlen);
/* Closes the transport (if still open) and frees everything the connection owns. */
void pt_conn_destroy(pt_conn_t *c);
/* Closes the transport now (the fd leaves every epoll set) and drops the read buffer, but
 * keeps the memory: the MPM frees it later, when no thread can hold an event for it. */
void pt_conn_close(pt_conn_t *c);
/* Accepts one connection from a listening socket (non-blocking, TCP_NODELAY), on the plain
 * socket transport with no protocol yet. NULL with *err = -EAGAIN when none is waiting, or
 * another -errno (logged here when it matters). */
pt_conn_t *pt_conn_accept(int lfd, const pt_config_t *cfg, int *err);
/* Releases the read buffer when nothing is pending in it, and tells the transport that the
 * connection is between requests (its idle operation). */
void pt_conn_shrink(pt_conn_t *c);

/* ---- I/O, all through c->tp ---------------------------------------------------------
 * Blocking calls wait through poll, each wait bounded by timeout_ms, and mark the
 * connection aborted when they fail. The _some calls never block: they return bytes
 * (> 0), PT_EAGAIN (c->tp_want says what to wait for), or a negative error. */

/* Reads what is available into the buffer, growing it up to max. Returns bytes read (> 0),
 * 0 on EOF, PT_EAGAIN when nothing is there, PT_ETOOBIG when the buffer is full, or -errno. */
long pt_conn_read(pt_conn_t *c, size_t max);
/* Reads into the caller's buffer instead (lingering close drains this way): as pt_conn_read
 * without the connection's buffer. */
long pt_conn_recv_some(pt_conn_t *c, void *buf, size_t n);
/* True when the transport holds bytes the peer sent that epoll cannot see (TLS records
 * already decrypted): the connection is readable without an event. */
bool pt_conn_pending(const pt_conn_t *c);
/* What a wait for the connection's next bytes waits for: POLLIN, or POLLOUT when the last
 * read must let the transport write first (read_wants_out); the read is then made again. */
static inline short pt_conn_read_events(const pt_conn_t *c)
{
    return c->read_wants_out ? POLLOUT : POLLIN;
}
/* Waits until the connection is ready for events (or timeout_ms passes): 0, PT_ETIMEOUT or
 * -errno. Readable at once when bytes are pending in the transport. */
int pt_conn_wait(pt_conn_t *c, short events, int64_t timeout_ms);
/* Writes everything in iov. 0 or a negative error (PT_ETIMEOUT, PT_ECLOSED). more:
 * MSG_MORE (a file follows). */
int pt_conn_writev(pt_conn_t *c, const struct iovec *iov, int iovcnt, int64_t timeout_ms,
                   bool more);
/* Writes what fits now of iov (the listener's canned 408, a non-blocking writer). */
long pt_conn_writev_some(pt_conn_t *c, const struct iovec *iov, int iovcnt, bool more);
/* Sends len bytes of a file from off. 0 or a negative error. By the transport's sendfile,
 * or (a transport without one, as TLS) read from the file and written. */
int pt_conn_sendfile(pt_conn_t *c, int fd, off_t off, off_t len, int64_t timeout_ms);
/* Sends what fits now of n bytes of a file from *off (advanced by what was sent); the same
 * fallback. Bytes sent (> 0), PT_EAGAIN, or a negative error (PT_ECLOSED when the file
 * ends before n: the promised length cannot be kept). */
long pt_conn_sendfile_some(pt_conn_t *c, int fd, off_t *off, size_t n);
/* Sends what it can of the pending tail (wc_fd) without blocking: 0 when it is all out,
 * PT_EAGAIN when the socket is full, or a negative error (the tail is then dropped). */
int pt_conn_write_tail(pt_conn_t *c);
/* Stops sending (TCP FIN; TLS close_notify first): 0 or -errno. */
int pt_conn_shutdown_write(pt_conn_t *c);
/* What the transport holds back for the next write goes now (a handler that may wait for a
 * backend calls it first); nothing for a stream's connection (no descriptor). */
void pt_conn_flush(pt_conn_t *c);

/* When a connection waiting for (the rest of) a request head must give up: the header
 * timeout of RequestReadTimeout from the first byte, extended by MinRate, capped by its
 * maximum (Timeout when disabled). */
int64_t pt_conn_read_deadline(const pt_conn_t *c);
/* When an idle keep-alive connection is closed: its last vhost's KeepAliveTimeout from now
 * (from c->idle_from_ms when set, which it clears). */
int64_t pt_conn_keepalive_deadline(pt_conn_t *c);

/* Per worker thread state, passed down explicitly. */
typedef struct pt_worker {
    int id;
    pt_arena_t *arena;     /* request arena, reset per request */
    void *mpm;             /* owning MPM child */
    void *sb;              /* this worker's scoreboard slot (pt_sb_worker_t), or NULL */
    void *sb_counters;     /* its process's counters (pt_sb_counters_t), or NULL */
} pt_worker_t;

#endif
