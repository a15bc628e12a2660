/* The socket's two sides under a connection's SSL (tls_bio.h): OpenSSL's BIOs replaced by
 * two of our own, which say what OpenSSL's cannot (a read that emptied the socket) and skip
 * what costs (kernel TLS asked of every record), and the writer's held TLS 1.3 tickets. */
#include "tls_bio.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

static pt_tls_state_t *st_of(const pt_conn_t *c)
{
    return c->tp_state;
}

/* ---- Session tickets, held ----------------------------------------------------------- */

/* A TLS 1.3 server's session tickets, held by the writer. OpenSSL writes them (two by
 * default) once the client's Finished is in, each its own record, flushed one by one: two
 * sends of some 250 bytes per handshake, each a trip through loopback or the NIC and a
 * wake-up of the client, when the client's first request has usually come with its
 * Finished and the answer is about to go. Held, they leave in the same send as the next
 * record (the answer), or alone before the connection waits for the client (the
 * transport's tls_recv wanting the socket, tls_idle) or for a backend (a handler other than
 * the static one: pt_conn_flush), shuts down or closes. So they are never later than the
 * first answer, and never wait for a backend's: a client that sends nothing gets them at
 * once, as before. Not with kernel TLS: the kernel writes the records then. */

/* Tickets beyond this many bytes (a session with a large client certificate in it) go out
 * as they come. */
#define PT_TLS_HELD_MAX 8192

static bool writing_tickets(const pt_tls_state_t *st)
{
    return !st->done && SSL_get_state(st->ssl) == TLS_ST_SW_SESSION_TICKET &&
           SSL_version(st->ssl) == TLS1_3_VERSION;
}

static bool hold(pt_tls_state_t *st, const char *buf, size_t n)
{
    if (st->held_len + n > PT_TLS_HELD_MAX)
        return false;
    unsigned char *h = realloc(st->held, st->held_len + n);
    if (!h)
        return false;
    memcpy(h + st->held_len, buf, n);
    st->held = h;
    st->held_len += n;
    return true;
}

void pt_tls_held_drop(pt_tls_state_t *st)
{
    free(st->held);
    st->held = NULL;
    st->held_len = 0;
}

/* The first k held bytes went out. */
static void held_sent(pt_tls_state_t *st, size_t k)
{
    if (k >= st->held_len) {
        pt_tls_held_drop(st);
        return;
    }
    memmove(st->held, st->held + k, st->held_len - k);
    st->held_len -= k;
}

long pt_tls_held_flush(pt_conn_t *c, pt_tls_state_t *st)
{
    while (st->held_len > 0) {
        ssize_t r = send(c->fd, st->held, st->held_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r >= 0) {
            held_sent(st, (size_t)r);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->tp_want = POLLOUT;
            return PT_EAGAIN;
        }
        pt_tls_held_drop(st);
        st->failed = true;
        return PT_ECLOSED;
    }
    return 0;
}

/* ---- The socket's read side --------------------------------------------------------- */

/* OpenSSL's socket BIO reads as recv does, but whoever reads through it cannot learn
 * whether the read left the socket empty. This one, the read side of every session once
 * the handshake's first bytes are in, says so on the connection (net/task.h, drained), so
 * that parking a connection between requests needs no system call (event_park.c; without
 * it, an FIONREAD per request). */
static BIO_METHOD *reader_method;
static pthread_once_t methods_once = PTHREAD_ONCE_INIT;

static int reader_read(BIO *b, char *buf, size_t n, size_t *got)
{
    pt_conn_t *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    *got = 0;
    ssize_t r;
    do
        r = recv(c->fd, buf, n, MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r > 0) {
        if ((size_t)r < n) /* a stream socket's recv stops short only when it is empty */
            c->park.drained = true;
        *got = (size_t)r;
        return 1;
    }
    if (r == 0) {
        BIO_set_flags(b, BIO_FLAGS_IN_EOF); /* (OpenSSL asks BIO_eof) */
        c->park.drained = true;
        return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c->park.drained = true;
        BIO_set_retry_read(b);
    }
    return -1; /* errno says why (SSL_ERROR_SYSCALL) */
}

static long reader_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_EOF:
        return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
    case BIO_CTRL_FLUSH:
        return 1;
    default:
        return 0; /* kernel TLS for receiving among them: not offered */
    }
}

static int reader_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* The write side without kernel TLS, from the start of the handshake. OpenSSL asks its
 * write BIO whether the kernel encrypts (BIO_get_ktls_send) eight times for each record it
 * writes, and the socket BIO's answer costs some 85 instructions through BIO_ctrl: 700 of
 * a 1 KiB response's 25,000 over HTTP/1.1. This one's is a switch; it sends as the socket
 * BIO does (SIGPIPE is ignored process-wide; MSG_NOSIGNAL all the same). */
static BIO_METHOD *writer_method;

static int writer_write(BIO *b, const char *buf, size_t n, size_t *put)
{
    pt_conn_t *c = BIO_get_data(b);
    pt_tls_state_t *st = st_of(c);
    BIO_clear_retry_flags(b);
    *put = 0;
    if (writing_tickets(st) && hold(st, buf, n)) {
        *put = n;
        return 1;
    }
    struct iovec iov[2] = {{st->held, st->held_len}, {(char *)buf, n}};
    struct msghdr m = {.msg_iov = st->held_len ? iov : iov + 1, .msg_iovlen = st->held_len ? 2 : 1};
    ssize_t r;
    do
        r = sendmsg(c->fd, &m, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r >= 0 && st->held_len) {
        size_t k = st->held_len;
        held_sent(st, (size_t)r);
        if ((size_t)r <= k) { /* none of buf: a short send, as a full socket makes one */
            BIO_set_retry_write(b);
            errno = EAGAIN;
            return -1;
        }
        r -= (ssize_t)k;
    }
    if (r >= 0) {
        *put = (size_t)r;
        return 1;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        BIO_set_retry_write(b);
    return -1; /* errno says why (SSL_ERROR_SYSCALL) */
}

static long writer_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    /* What is held waits on purpose (a flush after each ticket); kernel TLS
     * (GET_KTLS_SEND, SET_KTLS) is not offered. */
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static BIO_METHOD *method_new(const char *name, int (*rd)(BIO *, char *, size_t, size_t *),
                              int (*wr)(BIO *, const char *, size_t, size_t *),
                              long (*ctrl)(BIO *, int, long, void *))
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, name);
    if (m && (rd ? BIO_meth_set_read_ex(m, rd) : BIO_meth_set_write_ex(m, wr)) &&
        BIO_meth_set_ctrl(m, ctrl) && BIO_meth_set_create(m, reader_create))
        return m;
    BIO_meth_free(m);
    return NULL;
}

static void methods_init_once(void)
{
    reader_method = method_new("portico socket reader", reader_read, NULL, reader_ctrl);
    writer_method = method_new("portico socket writer", NULL, writer_write, writer_ctrl);
}

/* A BIO of method m (NULL: none could be made) on c's socket, or NULL. */
static BIO *bio_on(BIO_METHOD **m, pt_conn_t *c)
{
    pthread_once(&methods_once, methods_init_once);
    BIO *b = *m ? BIO_new(*m) : NULL;
    if (b)
        BIO_set_data(b, c);
    return b;
}

BIO *pt_tls_bio_reader(pt_conn_t *c)
{
    return bio_on(&reader_method, c);
}

BIO *pt_tls_bio_writer(pt_conn_t *c)
{
    return bio_on(&writer_method, c);
}
