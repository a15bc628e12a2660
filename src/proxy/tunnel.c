/* The tunnel after "101 Switching Protocols": the client's connection changes protocol to
 * this relay, which moves bytes both ways between it (through its transport) and the
 * backend's socket. A FIN from one side is passed on as a shutdown of writing to the other;
 * the tunnel ends when both directions have ended, on an error, or when no byte moved for
 * the idle timeout. Under the event MPM (c->async_write) a tunnel with nothing to move is
 * parked on both descriptors (PT_NEXT_PARK_TUNNEL) and holds no worker; elsewhere the
 * worker or prefork process that served the upgrade relays until the end with poll. */
#include "tunnel.h"

#include "conn.h"
#include "log.h"
#include "request.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PT_TUNNEL_BUF 16384            /* bytes held per direction while its sink is full */
#define PT_TUNNEL_BUDGET (256 * 1024)  /* bytes read per turn on an event worker: a busy
                                          tunnel then parks (ready at once) and takes its
                                          turn after what else is queued */

enum { END_CLIENT, END_UP };

/* One direction: bytes read from src and not yet written to the other end. */
typedef struct {
    int src;               /* END_CLIENT or END_UP; the sink is the other */
    char *buf;             /* malloc'd while in use; freed when empty at a park */
    size_t cap, pos, len;
    bool eof;              /* the source sent its FIN */
    bool done;             /* and it was passed on: the sink is shut for writing */
} pt_tunnel_dir_t;

/* The connection's protocol state once upgraded (c->proto_state): owned by the connection,
 * freed with it (pt_conn_destroy -> tunnel_release), which closes the backend's socket.
 * The client's connection stays the MPM's, as any connection: it runs this state on one
 * worker at a time (ready claims it once, net/task.h), so nothing here is shared. */
typedef struct {
    pt_conn_t *c;
    int up_fd;
    SSL *up_ssl;           /* an https:// backend's TLS over up_fd, or NULL */
    pt_tunnel_dir_t to_up, to_client;
    short want[2];         /* poll events each end waits for, after a turn */
    int64_t idle_ms;       /* no byte moved this long: the tunnel ends */
    int64_t last_ms;       /* when a byte last moved */
    int err;               /* why it failed, for the log */
} pt_tunnel_t;

/* ---- The two ends -------------------------------------------------------------------- */

static long up_result(pt_tunnel_t *t, ssize_t n, short events)
{
    if (n >= 0)
        return (long)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        t->want[END_UP] |= events;
        return PT_EAGAIN;
    }
    return -errno;
}

static long client_result(pt_tunnel_t *t, long n, short events)
{
    if (n == PT_EAGAIN) /* a transport may need the other event (TLS) */
        t->want[END_CLIENT] |= t->c->tp_want ? t->c->tp_want : events;
    return n;
}

/* The backend's end over TLS: what SSL_read or SSL_write returned (n) as the plain end's
 * results; a read or a write may want the other event (a key update, a late ticket). */
static long up_tls_result(pt_tunnel_t *t, int n)
{
    if (n > 0)
        return n;
    int e = SSL_get_error(t->up_ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        t->want[END_UP] |= e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return PT_EAGAIN;
    }
    int err = errno;
    ERR_clear_error();
    if (e == SSL_ERROR_ZERO_RETURN) /* close_notify (or, with IGNORE_UNEXPECTED_EOF, a FIN) */
        return 0;
    return e == SSL_ERROR_SYSCALL && err ? -err : -ECONNRESET;
}

static long end_recv(pt_tunnel_t *t, int end, void *buf, size_t n)
{
    if (end == END_CLIENT)
        return client_result(t, pt_conn_recv_some(t->c, buf, n), POLLIN);
    if (t->up_ssl) {
        ERR_clear_error();
        return up_tls_result(t, SSL_read(t->up_ssl, buf, (int)PT_MIN(n, (size_t)INT32_MAX)));
    }
    return up_result(t, recv(t->up_fd, buf, n, MSG_DONTWAIT), POLLIN);
}

static long end_send(pt_tunnel_t *t, int end, const void *buf, size_t n)
{
    if (end == END_CLIENT) {
        struct iovec iov = {(void *)buf, n};
        return client_result(t, pt_conn_writev_some(t->c, &iov, 1, false), POLLOUT);
    }
    if (t->up_ssl) {
        ERR_clear_error();
        return up_tls_result(t, SSL_write(t->up_ssl, buf, (int)PT_MIN(n, (size_t)INT32_MAX)));
    }
    return up_result(t, send(t->up_fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL), POLLOUT);
}

/* The client's FIN goes to a TLS backend as close_notify then FIN (TLS 1.3 allows the half
 * close, RFC 8446 section 6.1); one try, no wait: a full socket buffer loses the alert,
 * not the FIN. */
static void end_shutdown_write(pt_tunnel_t *t, int end)
{
    if (end == END_CLIENT) {
        (void)pt_conn_shutdown_write(t->c);
        return;
    }
    if (t->up_ssl) {
        (void)SSL_shutdown(t->up_ssl);
        ERR_clear_error();
    }
    (void)shutdown(t->up_fd, SHUT_WR);
}

/* ---- Relaying ------------------------------------------------------------------------ */

static int dir_buffer(pt_tunnel_dir_t *d, size_t need)
{
    if (d->buf && d->cap >= need)
        return 0;
    char *b = realloc(d->buf, need);
    if (!b)
        return -ENOMEM;
    d->buf = b;
    d->cap = need;
    return 0;
}

/* Moves what it can of d: writes what is held, then reads more, until an end would block
 * (t->want says for what), the budget is spent, or the direction ends. 1 when it has ended
 * (FIN passed on), 0 when it waits, or a negative error. */
static int dir_pump(pt_tunnel_t *t, pt_tunnel_dir_t *d, size_t *budget, bool *moved)
{
    int sink = d->src == END_CLIENT ? END_UP : END_CLIENT;
    for (;;) {
        if (d->pos < d->len) {
            long n = end_send(t, sink, d->buf + d->pos, d->len - d->pos);
            if (n == PT_EAGAIN)
                return 0;
            if (n <= 0)
                return n < 0 ? (int)n : PT_ECLOSED;
            d->pos += (size_t)n;
            *moved = true;
            continue;
        }
        d->pos = d->len = 0;
        if (d->eof) {
            if (!d->done) {
                end_shutdown_write(t, sink);
                d->done = *moved = true;
            }
            return 1;
        }
        if (*budget == 0) { /* its turn is over: ready again as soon as it is re-armed */
            t->want[d->src] |= POLLIN;
            return 0;
        }
        if (dir_buffer(d, PT_TUNNEL_BUF) != 0)
            return -ENOMEM;
        long n = end_recv(t, d->src, d->buf, d->cap);
        if (n == PT_EAGAIN)
            return 0;
        if (n < 0)
            return (int)n;
        if (n == 0)
            d->eof = true;
        d->len = (size_t)n;
        *budget -= PT_MIN(*budget, (size_t)n);
        *moved = true;
    }
}

typedef enum { TURN_WAIT, TURN_DONE, TURN_FAILED } pt_turn_t;

/* One turn both ways; t->want says what each end waits for after a TURN_WAIT. */
static pt_turn_t turn(pt_tunnel_t *t, size_t budget, bool *moved)
{
    t->want[END_CLIENT] = t->want[END_UP] = 0;
    *moved = false;
    int a = dir_pump(t, &t->to_up, &budget, moved);
    int b = a < 0 ? 0 : dir_pump(t, &t->to_client, &budget, moved);
    if (*moved)
        t->last_ms = pt_now_ms();
    if (a < 0 || b < 0) {
        t->err = a < 0 ? a : b;
        return TURN_FAILED;
    }
    return a == 1 && b == 1 ? TURN_DONE : TURN_WAIT;
}

/* Bytes a transport holds already (TLS, either end) raise no poll event: that end is
 * readable now, and the tunnel must not wait (or park) for the socket to say so. */
static bool client_pending(const pt_tunnel_t *t)
{
    return ((t->want[END_CLIENT] & POLLIN) && pt_conn_pending(t->c)) ||
           ((t->want[END_UP] & POLLIN) && t->up_ssl && SSL_has_pending(t->up_ssl));
}

static void log_end(pt_tunnel_t *t, const char *why)
{
    pt_log_merror("proxy", PT_LOG_INFO, t->c->peer_ip, "tunnel to the backend closed: %s", why);
}

/* Worker and prefork: the tunnel keeps this thread until it ends. */
static pt_conn_next_t relay_here(pt_tunnel_t *t)
{
    for (;;) {
        bool moved;
        pt_turn_t st = turn(t, SIZE_MAX, &moved);
        if (st == TURN_DONE)
            return PT_NEXT_CLOSE;
        if (st == TURN_FAILED) {
            log_end(t, strerror(t->err > -1000 ? -t->err : ECONNRESET));
            return PT_NEXT_CLOSE;
        }
        if (client_pending(t))
            continue;
        int64_t left = t->last_ms + t->idle_ms - pt_now_ms();
        if (left <= 0) {
            log_end(t, "idle timeout (ProxyWebsocketIdleTimeout)");
            return PT_NEXT_CLOSE;
        }
        /* An end with nothing wanted is left out (-1): its hang-up would wake us for
         * nothing, again and again. */
        struct pollfd p[2] = {
            {.fd = t->want[END_CLIENT] ? t->c->fd : -1, .events = t->want[END_CLIENT]},
            {.fd = t->want[END_UP] ? t->up_fd : -1, .events = t->want[END_UP]},
        };
        if (poll(p, 2, (int)PT_MIN(left, 60000)) < 0 && errno != EINTR) {
            log_end(t, strerror(errno));
            return PT_NEXT_CLOSE;
        }
    }
}

/* Frees a direction's buffer while nothing waits in it: an idle tunnel holds no buffers. */
static void dir_shrink(pt_tunnel_dir_t *d)
{
    if (d->pos >= d->len) {
        free(d->buf);
        d->buf = NULL;
        d->cap = d->pos = d->len = 0;
    }
}

/* Event MPM: relay what is there, then hand the tunnel back to park on both descriptors. */
static pt_conn_next_t relay_async(pt_tunnel_t *t)
{
    bool moved;
    pt_turn_t st;
    do
        st = turn(t, PT_TUNNEL_BUDGET, &moved);
    while (st == TURN_WAIT && client_pending(t) && moved);
    if (st == TURN_DONE)
        return PT_NEXT_CLOSE;
    if (st == TURN_FAILED) {
        log_end(t, strerror(t->err > -1000 ? -t->err : ECONNRESET));
        return PT_NEXT_CLOSE;
    }
    pt_park_t *p = &t->c->park;
    p->deadline_ms = t->last_ms + t->idle_ms;
    if (p->deadline_ms <= pt_now_ms()) {
        log_end(t, "idle timeout (ProxyWebsocketIdleTimeout)");
        return PT_NEXT_CLOSE;
    }
    dir_shrink(&t->to_up);
    dir_shrink(&t->to_client);
    /* poll's POLLIN and POLLOUT are epoll's EPOLLIN and EPOLLOUT. */
    p->events = (uint32_t)t->want[END_CLIENT];
    p->fd2 = t->up_fd;
    p->events2 = (uint32_t)t->want[END_UP];
    return PT_NEXT_PARK_TUNNEL;
}

static pt_conn_next_t tunnel_serve_worker(pt_worker_t *w, pt_conn_t *c)
{
    (void)w;
    pt_tunnel_t *t = c->proto_state;
    pt_conn_next_t next = c->async_write ? relay_async(t) : relay_here(t);
    if (next == PT_NEXT_CLOSE) /* the backend learns now; the socket closes with c */
        shutdown(t->up_fd, SHUT_RDWR);
    return next;
}

static void tunnel_release(void *state)
{
    pt_tunnel_t *t = state;
    SSL_free(t->up_ssl); /* (close_notify was sent, or the tunnel failed: none now) */
    if (t->up_fd >= 0)
        close(t->up_fd);
    free(t->to_up.buf);
    free(t->to_client.buf);
    free(t);
}

static const pt_conn_proto_t tunnel_proto = {
    .name = "tunnel",
    .serve_worker = tunnel_serve_worker,
    .release = tunnel_release,
};

/* ---- Entry ---------------------------------------------------------------------------- */

/* ProxyWebsocketIdleTimeout when set (the tunnel's own), else the caller's (the backend's
 * timeout), else ProxyTimeout, else Timeout. */
static int64_t idle_timeout(const pt_request_t *r, int64_t given)
{
    const pt_vhost_t *vh = r->vhost;
    if (vh && vh->tunnel_idle_timeout_ms > 0)
        return vh->tunnel_idle_timeout_ms;
    if (given > 0)
        return given;
    if (vh && vh->proxy_timeout_ms > 0)
        return vh->proxy_timeout_ms;
    return vh && vh->timeout_ms > 0 ? vh->timeout_ms : 60000;
}

/* Takes what waits already: the backend's bytes after its 101 head for the client, the
 * client's bytes after its request head (in the connection's read buffer) for the backend,
 * each sent before anything read later. */
static int take_pending(pt_tunnel_t *t, const void *up_pending, size_t n_pending)
{
    pt_conn_t *c = t->c;
    if (n_pending > 0) {
        if (dir_buffer(&t->to_client, PT_MAX(n_pending, (size_t)PT_TUNNEL_BUF)) != 0)
            return -ENOMEM;
        memcpy(t->to_client.buf, up_pending, n_pending);
        t->to_client.len = n_pending;
    }
    size_t held = c->rlen > c->rpos ? c->rlen - c->rpos : 0;
    if (held > 0) {
        if (dir_buffer(&t->to_up, PT_MAX(held, (size_t)PT_TUNNEL_BUF)) != 0)
            return -ENOMEM;
        memcpy(t->to_up.buf, c->rbuf + c->rpos, held);
        t->to_up.len = held;
        c->rpos = c->rlen;
    }
    return 0;
}

int pt_tunnel_run(pt_request_t *r, int up_fd, SSL *up_ssl, const void *up_pending,
                  size_t n_pending, int64_t idle_timeout_ms)
{
    pt_conn_t *c = r->conn;
    /* An HTTP/1 connection only: an HTTP/2 stream shares its connection with others. */
    pt_tunnel_t *t = r->proto_num < 2000 ? calloc(1, sizeof(*t)) : NULL;
    int rc = t ? 0 : r->proto_num < 2000 ? -ENOMEM : -EPROTONOSUPPORT;
    if (t) {
        t->c = c;
        t->up_fd = up_fd;
        t->up_ssl = up_ssl;
        t->to_up.src = END_CLIENT;
        t->to_client.src = END_UP;
        t->idle_ms = idle_timeout(r, idle_timeout_ms);
        t->last_ms = pt_now_ms();
        rc = take_pending(t, up_pending, n_pending);
    }
    int fl = fcntl(up_fd, F_GETFL);
    if (rc == 0 && (fl < 0 || fcntl(up_fd, F_SETFL, fl | O_NONBLOCK) != 0))
        rc = -errno;
    if (rc != 0) {
        pt_log_rmerror("proxy", PT_LOG_ERR, r, "cannot start the tunnel to the backend: %s",
                       strerror(-rc));
        if (t) {
            t->up_fd = -1;
            t->up_ssl = NULL;
            tunnel_release(t);
        }
        SSL_free(up_ssl);
        close(up_fd);
        r->keepalive = false;
        return rc;
    }
    /* The HTTP/1 driver hands over when the request is logged (h1_conn.c): from then on the
     * connection's protocol is this tunnel. Nothing of an HTTP body follows the 101. */
    if (c->proto_state && c->proto && c->proto->release)
        c->proto->release(c->proto_state);
    else
        free(c->proto_state);
    c->proto = &tunnel_proto;
    c->proto_state = t;
    r->keepalive = false;
    r->body_done = true;
    return 0;
}
