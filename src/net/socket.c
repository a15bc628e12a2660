/* The plain socket transport (TCP or Unix): each operation is the system call, made
 * non-blocking, with EINTR retried and EAGAIN turned into PT_EAGAIN plus what to wait for. */
#include "conn.h"
#include "transport.h"

#include <errno.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

/* What a socket call's result means for a transport: n itself (>= 0), PT_EAGAIN with what
 * to wait for, or -errno; *retry after EINTR. */
static long sock_result(pt_conn_t *c, ssize_t n, short want, bool *retry)
{
    *retry = n < 0 && errno == EINTR;
    if (n >= 0 || *retry)
        return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c->tp_want = want;
        return PT_EAGAIN;
    }
    return -errno;
}

static long sock_recv(pt_conn_t *c, void *buf, size_t n)
{
    bool retry;
    long rc;
    do
        rc = sock_result(c, recv(c->fd, buf, n, 0), POLLIN, &retry);
    while (retry);
    /* A stream socket's recv returns fewer bytes than asked only once its receive queue is
     * empty: anything later wakes epoll (net/task.h, drained). */
    if (rc == PT_EAGAIN || (rc >= 0 && (size_t)rc < n))
        c->park.drained = true;
    return rc;
}

static long sock_writev(pt_conn_t *c, const struct iovec *iov, int iovcnt, bool more)
{
    struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
    /* MSG_DONTWAIT: the fd is non-blocking already, but a caller may hand us one that is not
     * (a test's socketpair), and no transport operation may block. */
    int flags = MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0);
    bool retry;
    long rc;
    do
        rc = sock_result(c, sendmsg(c->fd, &mh, flags), POLLOUT, &retry);
    while (retry);
    return rc;
}

/* 0: the file ended before n. */
static long sock_sendfile(pt_conn_t *c, int fd, off_t *off, size_t n)
{
    bool retry;
    long rc;
    do
        rc = sock_result(c, sendfile(c->fd, fd, off, n), POLLOUT, &retry);
    while (retry);
    return rc;
}

static size_t sock_pending(const pt_conn_t *c)
{
    (void)c;
    return 0; /* the kernel's buffer is all there is, and epoll sees it */
}

static int sock_shutdown_write(pt_conn_t *c)
{
    return shutdown(c->fd, SHUT_WR) == 0 ? 0 : -errno;
}

static void sock_close(pt_conn_t *c)
{
    close(c->fd);
    c->fd = -1;
}

const pt_transport_t pt_transport_socket = {
    .name = "tcp",
    .recv = sock_recv,
    .writev = sock_writev,
    .sendfile = sock_sendfile,
    .pending = sock_pending,
    .shutdown_write = sock_shutdown_write,
    .close = sock_close,
};
