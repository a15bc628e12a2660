/* The upstream engine: connect with a deadline, bounded-wait reads and writes, and the table
 * of failure classes (upstream.h). Protocol-neutral: what a record or a status line is
 * belongs to the scheme (src/fcgi, later the HTTP client). */
#include "upstream.h"

#include "log.h"
#include "proxy_srv.h"
#include "mpm/mpm.h"
#include "request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- The failure classes ------------------------------------------------------------- */

/* Statuses as mod_proxy gives them: the backend unreachable or busy is 503 (try later), no
 * answer in time is 504, a broken answer is 502. A retry elsewhere is safe only while the
 * backend cannot have acted on the request (nothing of it was taken), or, for an idempotent
 * request, when the backend closed without answering (RFC 9110 section 9.2.2). As Apache
 * (ap_proxy_connect_backend), only a failure to reach the member marks it failed: a slow or
 * broken script is not a dead server, and taking it out would move the load to the others.
 * The texts keep mod_proxy's message numbers that portico's lines carried before the table
 * (AH01079 for failing to get a connection, AH01075 for a failure while reading the answer),
 * which is what an admin's log watch greps for. */
static const pt_upstream_class_t classes[PT_UPSTREAM_NFAILS] = {
    [PT_UPSTREAM_REFUSED] = {PT_UPSTREAM_REFUSED, 503, "AH01079: failed to make connection",
                             true, true},
    [PT_UPSTREAM_CONNECT_TIMEOUT] = {PT_UPSTREAM_CONNECT_TIMEOUT, 504,
                                     "AH01079: failed to make connection", true, true},
    /* mod_ssl's AH02003 line; 502 as Apache answers a refused backend certificate. Not
     * retried and not marking the member failed: another member of the same deployment has
     * the same certificate problem, and the server is up. */
    [PT_UPSTREAM_TLS_HANDSHAKE] = {PT_UPSTREAM_TLS_HANDSHAKE, 502,
                                   "AH02003: SSL Proxy connect failed", false, false},
    [PT_UPSTREAM_POOL_FULL] = {PT_UPSTREAM_POOL_FULL, 503,
                               "AH01079: no free connection in the pool (max= reached)", true,
                               false},
    [PT_UPSTREAM_RESET_BEFORE_SEND] = {PT_UPSTREAM_RESET_BEFORE_SEND, 503,
                                       "cannot send the request", true, true},
    [PT_UPSTREAM_WRITE_TIMEOUT] = {PT_UPSTREAM_WRITE_TIMEOUT, 504,
                                   "timed out sending the request", false, false},
    [PT_UPSTREAM_RESET_BEFORE_HEAD] = {PT_UPSTREAM_RESET_BEFORE_HEAD, 502,
                                       "AH01075: connection closed before the end of the "
                                       "response head", true, false},
    [PT_UPSTREAM_READ_TIMEOUT] = {PT_UPSTREAM_READ_TIMEOUT, 504,
                                  "AH01075: timed out waiting for the response (ProxyTimeout)",
                                  false, false},
    [PT_UPSTREAM_OVERLOADED] = {PT_UPSTREAM_OVERLOADED, 503, "the backend is overloaded", true,
                                false},
    [PT_UPSTREAM_MALFORMED] = {PT_UPSTREAM_MALFORMED, 502, "AH01075: malformed response", false,
                               false},
    /* Retry: only while nothing went to the client (the balancer checks), as when a member
     * dies between its head and its body; once the answer started, the client's connection
     * is closed instead. */
    [PT_UPSTREAM_RESET_AFTER_HEAD] = {PT_UPSTREAM_RESET_AFTER_HEAD, 502,
                                      "AH01075: connection closed before the end of the response",
                                      true, false},
};

const pt_upstream_class_t *pt_upstream_class(pt_upstream_fail_t f)
{
    return f < PT_UPSTREAM_NFAILS ? &classes[f] : &classes[PT_UPSTREAM_MALFORMED];
}

pt_upstream_fail_t pt_upstream_connect_fail(int err)
{
    return err == PT_ETIMEOUT || err == -ETIMEDOUT ? PT_UPSTREAM_CONNECT_TIMEOUT
                                                   : PT_UPSTREAM_REFUSED;
}

int pt_upstream_fail_log(const struct pt_request *r, pt_upstream_fail_t f, const char *proto,
                         const char *url, const char *detail, bool started)
{
    const pt_upstream_class_t *c = pt_upstream_class(f);
    /* The module Apache's line comes from: mod_ssl for the handshake, else the scheme's. */
    const char *module = f == PT_UPSTREAM_TLS_HANDSHAKE  ? "ssl"
                         : strcmp(proto, "FastCGI") == 0 ? "proxy_fcgi"
                         : strcmp(proto, "HTTP") == 0    ? "proxy_http"
                                                         : "proxy";
    pt_log_rmerror(module, PT_LOG_ERR, r, "%s: %s backend %s%s%s%s", c->log, proto, url,
                   detail ? ": " : "", detail ? detail : "",
                   started ? " (response already started; closing the connection)" : "");
    return c->status;
}

/* ---- Connect ------------------------------------------------------------------------- */

/* Waits until fd is ready for events or timeout_ms pass: > 0 ready, 0 timed out, -errno. */
static int wait_fd(int fd, short events, int64_t timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    /* One clock read per wait (this runs for every proxied request); the rest of the wait
     * is worked out only after a signal cut it short. */
    int64_t deadline = pt_now_ms() + timeout_ms, left = PT_MAX(timeout_ms, 0);
    for (;;) {
        pt_mpm_block_begin(); /* no CPU is needed while the backend works */
        int rc = poll(&pfd, 1, (int)PT_MIN(left, (int64_t)INT32_MAX));
        pt_mpm_block_end();
        if (rc >= 0)
            return rc;
        if (errno != EINTR)
            return -errno;
        left = PT_MAX(deadline - pt_now_ms(), 0);
    }
}

int pt_upstream_wait(int fd, short events, int64_t timeout_ms)
{
    return wait_fd(fd, events, timeout_ms);
}

static int wait_connected(int fd, int64_t timeout_ms)
{
    int rc = wait_fd(fd, POLLOUT, timeout_ms);
    if (rc == 0)
        return PT_ETIMEOUT;
    if (rc < 0)
        return rc;
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return -errno;
    return err ? -err : 0;
}

/* ProxyReceiveBufferSize and ProxySourceAddress (proxy_srv.h) on a new TCP socket; the
 * source address applies to destinations of its own family. 0 or -errno. */
static int apply_sockopts(int fd, const struct sockaddr *sa, const pt_backend_t *b)
{
    const pt_proxy_srv_t *ps = b ? b->sock_srv : NULL;
    if (!ps || sa->sa_family == AF_UNIX)
        return 0;
    if (ps->recv_buffer > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &ps->recv_buffer, sizeof(ps->recv_buffer));
    if (ps->source_len && ps->source.ss_family == sa->sa_family &&
        bind(fd, (const struct sockaddr *)&ps->source, ps->source_len) != 0)
        return -errno;
    return 0;
}

static int connect_addr(const struct sockaddr *sa, socklen_t len, int64_t timeout_ms,
                        const pt_backend_t *b)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int so = apply_sockopts(fd, sa, b);
    if (so < 0) {
        close(fd);
        return so;
    }
    if (sa->sa_family != AF_UNIX) {
        /* Records and heads are written whole: Nagle would only hold back the last one. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    int rc = connect(fd, sa, len) == 0 ? 0 : -errno;
    if (rc == -EINPROGRESS || rc == -EAGAIN)
        rc = wait_connected(fd, timeout_ms);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    return fd;
}

const char *pt_upstream_connect_why(const pt_backend_t *b, int err)
{
    unsigned char ip[sizeof(struct in6_addr)];
    bool literal = b->host && (inet_pton(AF_INET, b->host, ip) == 1 ||
                               inet_pton(AF_INET6, b->host, ip) == 1);
    if (err == EHOSTUNREACH && !b->unix_path && !b->naddrs && b->resolve_s <= 0 && !literal)
        return "its name was not resolved when the configuration was loaded (names are "
               "resolved at start and restart; resolve=N follows a name that changes)";
    return strerror(err);
}

int64_t pt_upstream_connect_timeout(const pt_backend_t *b)
{
    return b->connect_timeout_ms > 0 ? b->connect_timeout_ms : PT_UPSTREAM_CONNECT_TIMEOUT_MS;
}

int64_t pt_upstream_exchange_timeout(const pt_request_t *r, const pt_backend_t *b)
{
    if (b->timeout_ms > 0)
        return b->timeout_ms;
    if (r->vhost->proxy_timeout_ms > 0)
        return r->vhost->proxy_timeout_ms;
    return r->vhost->timeout_ms > 0 ? r->vhost->timeout_ms : 60000;
}

static int connect_backend(const pt_backend_t *b, int64_t timeout_ms);

int pt_upstream_connect(const pt_backend_t *b, int64_t timeout_ms)
{
    int fd = connect_backend(b, timeout_ms);
    if (fd >= 0 && b->tcp_keepalive && !b->unix_path) {
        /* keepalive=On: the kernel probes an idle pooled connection, so that a firewall
         * between us and the backend does not silently drop it. */
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    }
    return fd;
}

/* The addresses the name had when the configuration was loaded, each in turn. */
static int connect_loaded(const pt_backend_t *b, int64_t timeout_ms)
{
    int fd = -ECONNREFUSED;
    for (size_t i = 0; i < b->naddrs; i++) {
        const struct sockaddr_storage *sa = &b->addrs[i];
        socklen_t len = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                  : sizeof(struct sockaddr_in);
        fd = connect_addr((const struct sockaddr *)sa, len, timeout_ms, b);
        if (fd >= 0 || fd == PT_ETIMEOUT)
            break;
    }
    return fd;
}

static int connect_backend(const pt_backend_t *b, int64_t timeout_ms)
{
    if (b->unix_path) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (strlen(b->unix_path) >= sizeof(sun.sun_path))
            return -ENAMETOOLONG;
        strcpy(sun.sun_path, b->unix_path);
        return connect_addr((struct sockaddr *)&sun, sizeof(sun), timeout_ms, b);
    }
    if (b->naddrs)
        return connect_loaded(b, timeout_ms);
    /* Without resolve=, a name is resolved at load only (start and restart): one that did
     * not resolve then is not looked up on a worker per request (pt_upstream_connect_why);
     * an address literal needs no lookup. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (b->resolve_s <= 0)
        hints.ai_flags = AI_NUMERICHOST;
    char port[16];
    snprintf(port, sizeof(port), "%d", b->port);
    if (getaddrinfo(b->host, port, &hints, &res) != 0 || !res)
        return -EHOSTUNREACH;
    /* Each address in turn, as mod_proxy does; a timeout ends the attempt (the deadline is
     * the request's, not each address's). */
    int fd = -ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = connect_addr(ai->ai_addr, ai->ai_addrlen, timeout_ms, b);
        if (fd >= 0 || fd == PT_ETIMEOUT)
            break;
    }
    freeaddrinfo(res);
    return fd;
}

/* ---- Bounded-wait I/O ---------------------------------------------------------------- */

int pt_upstream_writev(int fd, struct iovec *iov, int n, int64_t timeout_ms)
{
    while (n > 0) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -errno;
            int rc = wait_fd(fd, POLLOUT, timeout_ms);
            if (rc == 0)
                return PT_ETIMEOUT;
            if (rc < 0)
                return rc;
            continue;
        }
        size_t done = (size_t)w;
        while (n > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return 0;
}

long pt_upstream_read(int fd, void *buf, size_t len, int64_t timeout_ms, bool wait_first)
{
    for (;;) {
        if (wait_first) {
            int rc = wait_fd(fd, POLLIN, timeout_ms);
            if (rc == 0)
                return PT_ETIMEOUT;
            if (rc < 0)
                return rc;
            wait_first = false;
        }
        ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
        if (n >= 0)
            return (long)n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -errno;
        int rc = wait_fd(fd, POLLIN, timeout_ms);
        if (rc == 0)
            return PT_ETIMEOUT;
        if (rc < 0)
            return rc;
    }
}

/* The socket in blocking mode with timeout_ms as its receive timeout: false when it cannot
 * be (the caller polls instead). Once per connection, and once more per change of timeout. */
static bool recv_timeout(pt_upstream_conn_t *c, int64_t timeout_ms)
{
    if (c->rcvtimeo_ms == timeout_ms)
        return true;
    /* 0 would be no timeout at all for SO_RCVTIMEO. */
    if (timeout_ms <= 0 || timeout_ms > INT32_MAX)
        return false;
    struct timeval tv = {.tv_sec = (time_t)(timeout_ms / 1000),
                         .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000};
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
        return false;
    if (c->rcvtimeo_ms == 0) {
        int fl = fcntl(c->fd, F_GETFL);
        if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
            return false; /* its receive timeout is set but unused while it stays non-blocking */
    }
    c->rcvtimeo_ms = (int32_t)timeout_ms;
    return true;
}

long pt_upstream_read_blocking(pt_upstream_conn_t *c, void *buf, size_t len, int64_t timeout_ms,
                               bool wait_first)
{
    if (!wait_first) {
        /* A body's next piece is often there already: no need to count as blocked. */
        ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);
        if (n >= 0)
            return (long)n;
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
    }
    if (!recv_timeout(c, timeout_ms))
        return pt_upstream_read(c->fd, buf, len, timeout_ms, true);
    pt_mpm_block_begin(); /* no CPU is needed while the backend works */
    ssize_t n = recv(c->fd, buf, len, 0);
    int err = errno;
    pt_mpm_block_end();
    if (n >= 0)
        return (long)n;
    if (err == EAGAIN)
        return PT_ETIMEOUT; /* SO_RCVTIMEO ran out */
    /* Signals are blocked in a child's threads: an EINTR comes from a debugger attaching.
     * The wait goes on as a poll, bounded again by the timeout. */
    if (err == EINTR)
        return pt_upstream_read(c->fd, buf, len, timeout_ms, true);
    return -err;
}

bool pt_upstream_stale(const pt_upstream_conn_t *c, int err)
{
    return c->reused && (err == -EPIPE || err == -ECONNRESET);
}
