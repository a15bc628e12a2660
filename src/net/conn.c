/* A connection's I/O: reading into its buffer, writing with bounded waits, sending files;
 * every byte through the connection's transport (c->tp: the plain socket, later TLS), which
 * this file falls back around when it lacks an operation (no sendfile: read and write). */
#include "conn.h"
#include "log.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

static void addr_text(const pt_sockaddr_t *ss, char *ip, size_t iplen, int *port)
{
    ip[0] = '\0';
    *port = 0;
    if (ss->sa.sa_family == AF_INET) {
        const struct sockaddr_in *in = &ss->in;
        inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)iplen);
        *port = ntohs(in->sin_port);
    } else if (ss->sa.sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = &ss->in6;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, (socklen_t)iplen);
        else
            inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)iplen);
        *port = ntohs(in6->sin6_port);
    }
}

pt_conn_t *pt_conn_create(int fd, const pt_config_t *cfg, const struct sockaddr *peer,
                          socklen_t peerlen)
{
    pt_conn_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = fd;
    c->tp = &pt_transport_socket;
    c->cfg = cfg;
    c->park.heap_idx = -1;
    c->park.fd = fd;
    c->park.fd2 = -1;
    c->wc_fd = -1;
    if (peerlen > sizeof(c->peer))
        peerlen = sizeof(c->peer);
    memcpy(&c->peer, peer, peerlen);
    socklen_t ll = sizeof(c->local);
    if (getsockname(fd, &c->local.sa, &ll) != 0)
        memset(&c->local, 0, sizeof(c->local));
    addr_text(&c->peer, c->peer_ip, sizeof(c->peer_ip), &c->peer_port);
    addr_text(&c->local, c->local_ip, sizeof(c->local_ip), &c->local_port);
    return c;
}

pt_conn_t *pt_conn_accept(int lfd, const pt_config_t *cfg, int *err)
{
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        *err = -errno;
        if (errno == EMFILE || errno == ENFILE)
            pt_log_error(PT_LOG_ERR, NULL, "accept: %s (raise the open-files limit)",
                         strerror(errno));
        else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                 errno != ECONNABORTED && errno != EINVAL) /* EINVAL: shut down at stop */
            pt_log_error(PT_LOG_ERR, NULL, "accept: %s", strerror(errno));
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    pt_conn_t *c = pt_conn_create(fd, cfg, (struct sockaddr *)&peer, plen);
    if (!c) {
        close(fd);
        *err = -ENOMEM;
    }
    return c;
}

void pt_conn_close(pt_conn_t *c)
{
    if (c->fd >= 0)
        c->tp->close(c);
    c->fd = -1;
    free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = c->rlen = c->rpos = 0;
}

void pt_conn_destroy(pt_conn_t *c)
{
    if (!c)
        return;
    pt_conn_close(c);
    if (c->susp && c->susp_abandon)
        c->susp_abandon(c);
    if (c->wc_fd >= 0)
        close(c->wc_fd);
    if (c->proto_state) {
        if (c->proto && c->proto->release)
            c->proto->release(c->proto_state);
        else
            free(c->proto_state);
    }
    free(c->via);
    free(c);
}

/* A connection idle in keep-alive gives its read buffer back (pt_conn_shrink), and the next
 * read of one takes a new one: each thread keeps one such buffer aside, so that a
 * keep-alive request costs no malloc and free of it (a buffer of this size is past glibc's
 * per-thread cache). One per thread: bounded by the thread count, freed when it ends (the
 * key's destructor; the buffer itself is in thread-local storage, cheaper to reach). */
static __thread char *spare;
static __thread bool spare_registered;
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static bool spare_ok;

static void spare_free(void *unused)
{
    (void)unused;
    free(spare);
    spare = NULL;
}

static void spare_key_make(void)
{
    spare_ok = pthread_key_create(&spare_key, spare_free) == 0;
}

/* This thread's spare buffer of PT_CONN_RBUF_INITIAL bytes, taken, or NULL. */
static char *spare_take(void)
{
    char *b = spare;
    spare = NULL;
    return b;
}

/* Keeps b (PT_CONN_RBUF_INITIAL bytes) as this thread's spare, or frees it. */
static void spare_give(char *b)
{
    if (!spare_registered) {
        /* Any non-NULL value: the destructor runs at the thread's end only for those. */
        pthread_once(&spare_once, spare_key_make);
        spare_registered = spare_ok && pthread_setspecific(spare_key, &spare_once) == 0;
    }
    if (spare || !spare_registered) {
        free(b);
        return;
    }
    spare = b;
}

void pt_conn_shrink(pt_conn_t *c)
{
    if (c->tp->idle)
        c->tp->idle(c);
    if (c->rbuf && c->rpos >= c->rlen) {
        if (c->rcap == PT_CONN_RBUF_INITIAL)
            spare_give(c->rbuf);
        else
            free(c->rbuf);
        c->rbuf = NULL;
        c->rcap = c->rlen = c->rpos = 0;
    }
}

long pt_conn_read(pt_conn_t *c, size_t max)
{
    if (c->rpos > 0 && c->rpos == c->rlen) {
        c->rpos = c->rlen = 0;
    } else if (c->rpos > 0 && c->rlen == c->rcap) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    if (c->rlen == c->rcap) {
        size_t ncap = c->rcap ? c->rcap * 2 : PT_CONN_RBUF_INITIAL;
        if (ncap > max)
            ncap = max;
        if (ncap <= c->rcap)
            return PT_ETOOBIG;
        char *nb = !c->rbuf && ncap == PT_CONN_RBUF_INITIAL ? spare_take() : NULL;
        if (!nb)
            nb = realloc(c->rbuf, ncap);
        if (!nb)
            return -ENOMEM;
        c->rbuf = nb;
        c->rcap = ncap;
    }
    long n = c->tp->recv(c, c->rbuf + c->rlen, c->rcap - c->rlen);
    if (n > 0)
        c->rlen += (size_t)n;
    c->read_wants_out = n == PT_EAGAIN && c->tp_want == POLLOUT;
    return n;
}

long pt_conn_recv_some(pt_conn_t *c, void *buf, size_t n)
{
    long got = c->tp->recv(c, buf, n);
    c->read_wants_out = got == PT_EAGAIN && c->tp_want == POLLOUT;
    return got;
}

bool pt_conn_pending(const pt_conn_t *c)
{
    return c->tp->pending && c->tp->pending(c) > 0;
}

int pt_conn_shutdown_write(pt_conn_t *c)
{
    return c->tp->shutdown_write(c);
}

void pt_conn_flush(pt_conn_t *c)
{
    if (c->fd >= 0 && c->tp->flush)
        c->tp->flush(c);
}

int pt_conn_wait(pt_conn_t *c, short events, int64_t timeout_ms)
{
    if ((events & POLLIN) && pt_conn_pending(c))
        return 0;
    struct pollfd p = {.fd = c->fd, .events = events};
    int64_t deadline = pt_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - pt_now_ms();
        if (left < 0)
            left = 0;
        int n = poll(&p, 1, (int)PT_MIN(left, 1000000));
        if (n > 0)
            return 0;
        if (n == 0)
            return PT_ETIMEOUT;
        if (errno != EINTR)
            return -errno;
    }
}

/* After a write that made no progress: waits for what the transport asked for (0, or
 * PT_ETIMEOUT) when it would block, else the connection is broken (PT_ECLOSED). Either
 * failure marks it aborted. */
static int wait_writable(pt_conn_t *c, long rc, int64_t timeout_ms)
{
    int wrc = PT_ECLOSED;
    if (rc == PT_EAGAIN)
        wrc = pt_conn_wait(c, c->tp_want ? c->tp_want : POLLOUT, timeout_ms);
    if (wrc != 0)
        c->aborted = true;
    return wrc;
}

long pt_conn_writev_some(pt_conn_t *c, const struct iovec *iov, int iovcnt, bool more)
{
    return c->tp->writev(c, iov, iovcnt, more);
}

int pt_conn_writev(pt_conn_t *c, const struct iovec *iov_in, int iovcnt, int64_t timeout_ms,
                   bool more)
{
    struct iovec iov[16];
    if (iovcnt > (int)PT_ARRAY_LEN(iov))
        return PT_EINVAL;
    memcpy(iov, iov_in, sizeof(*iov) * (size_t)iovcnt);
    struct iovec *v = iov;
    while (iovcnt > 0) {
        long n = c->tp->writev(c, v, iovcnt, more);
        if (n < 0) {
            int rc = wait_writable(c, n, timeout_ms);
            if (rc != 0)
                return rc;
            continue;
        }
        size_t left = (size_t)n;
        while (iovcnt > 0 && left >= v->iov_len) {
            left -= v->iov_len;
            v++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            v->iov_base = (char *)v->iov_base + left;
            v->iov_len -= left;
        }
    }
    return 0;
}

/* The fallback for a transport without sendfile: one buffer's worth read from the file at
 * *off and written; *off advances by what the transport took (the rest is read again next
 * time, so nothing is held between calls). */
static long pread_writev(pt_conn_t *c, int fd, off_t *off, size_t n)
{
    char buf[PT_CONN_FILE_CHUNK];
    ssize_t got;
    do
        got = pread(fd, buf, PT_MIN(n, sizeof(buf)), *off);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return -errno;
    if (got == 0)
        return 0;
    struct iovec v = {buf, (size_t)got};
    long sent = c->tp->writev(c, &v, 1, false);
    if (sent > 0)
        *off += sent;
    return sent;
}

long pt_conn_sendfile_some(pt_conn_t *c, int fd, off_t *off, size_t n)
{
    long sent = c->tp->sendfile ? c->tp->sendfile(c, fd, off, n) : pread_writev(c, fd, off, n);
    return sent == 0 && n > 0 ? PT_ECLOSED : sent; /* the file shrank under us */
}

int pt_conn_sendfile(pt_conn_t *c, int fd, off_t off, off_t len, int64_t timeout_ms)
{
    while (len > 0) {
        size_t chunk = (size_t)PT_MIN(len, (off_t)1 << 30);
        long n = pt_conn_sendfile_some(c, fd, &off, chunk);
        if (n == PT_ECLOSED) { /* the promised length cannot be kept */
            c->aborted = true;
            return PT_ECLOSED;
        }
        if (n < 0) {
            int rc = wait_writable(c, n, timeout_ms);
            if (rc != 0)
                return rc;
            continue;
        }
        len -= n;
    }
    return 0;
}

int64_t pt_conn_read_deadline(const pt_conn_t *c)
{
    const pt_vhost_t *ms = c->cfg->main_server;
    int64_t now = pt_now_ms();
    if (ms->header_timeout_ms <= 0)
        return now + (ms->timeout_ms > 0 ? ms->timeout_ms : 60000);
    if (!c->head_start_ms)
        return now + ms->header_timeout_ms;
    /* mod_reqtimeout: each MinRate bytes received buys a second, up to the maximum. */
    int64_t d = c->head_start_ms + ms->header_timeout_ms;
    if (ms->header_min_rate > 0)
        d += (int64_t)c->head_bytes * 1000 / ms->header_min_rate;
    if (ms->header_max_timeout_ms > 0 && d > c->head_start_ms + ms->header_max_timeout_ms)
        d = c->head_start_ms + ms->header_max_timeout_ms;
    return d;
}

int pt_conn_write_tail(pt_conn_t *c)
{
    while (c->wc_len > 0) {
        size_t chunk = (size_t)PT_MIN(c->wc_len, (off_t)1 << 30);
        long n = pt_conn_sendfile_some(c, c->wc_fd, &c->wc_off, chunk);
        if (n > 0) {
            c->wc_len -= n;
            continue;
        }
        if (n == PT_EAGAIN)
            return PT_EAGAIN;
        c->aborted = true; /* error, or the file shrank: the response cannot be completed */
        break;
    }
    close(c->wc_fd);
    c->wc_fd = -1;
    int rc = c->wc_len > 0 ? PT_ECLOSED : 0;
    c->wc_len = 0;
    return rc;
}

int64_t pt_conn_keepalive_deadline(pt_conn_t *c)
{
    int64_t from = c->idle_from_ms > 0 ? c->idle_from_ms : pt_now_ms();
    c->idle_from_ms = 0;
    return from + (c->keepalive_ms > 0 ? c->keepalive_ms : PT_KEEPALIVE_DEFAULT_MS);
}
