/* src/tls: the OCSP responder client (ocsp_fetch.h): a non-blocking socket polled against
 * one deadline, an HTTP/1.0 POST, the body read until the responder closes. */
#include "ocsp_fetch.h"

#include "clock.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Head of the answer read before its body: a status line and a few fields. */
#define HEAD_MAX 8192

int pt_ocsp_url_parse(const char *url, char *host, size_t hostlen, char *port, size_t portlen,
                      const char **path, char *err, size_t errlen)
{
    if (strncasecmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "OCSP responder %s: only http:// responders are supported", url);
        return -1;
    }
    const char *h = url + 7, *end = h + strcspn(h, "/?"), *colon = NULL;
    const char *hend = end;
    if (*h == '[') { /* an IPv6 literal */
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb) {
            snprintf(err, errlen, "OCSP responder %s: unclosed [", url);
            return -1;
        }
        colon = rb[1] == ':' ? rb + 1 : NULL;
        hend = rb;
        h++;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        if (colon)
            hend = colon;
    }
    size_t hl = (size_t)(hend - h), pl = colon ? (size_t)(end - colon - 1) : 2;
    if (hl == 0 || hl >= hostlen || pl == 0 || pl >= portlen) {
        snprintf(err, errlen, "OCSP responder %s: bad host or port", url);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (colon) {
        memcpy(port, colon + 1, pl);
        port[pl] = '\0';
    } else {
        snprintf(port, portlen, "80");
    }
    *path = *end == '/' ? end : "/";
    return 0;
}

/* Waits for events on fd until deadline: 0, or -1 with err (timed out, poll failed). */
static int wait_fd(int fd, short events, int64_t deadline, char *err, size_t errlen)
{
    for (;;) {
        int64_t left = deadline - pt_now_ms();
        if (left <= 0) {
            snprintf(err, errlen, "timed out");
            return -1;
        }
        struct pollfd pf = {.fd = fd, .events = events};
        int n = poll(&pf, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
    }
}

/* A connected non-blocking socket to host:port, or -1 with err. */
static int connect_to(const char *host, const char *port, int64_t deadline, char *err,
                      size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "resolve: %s", gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *p = ai; p && fd < 0; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (connect(fd, p->ai_addr, p->ai_addrlen) == 0 ||
            (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline, err, errlen) == 0 &&
             getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0))
            break;
        if (soerr)
            snprintf(err, errlen, "connect: %s", strerror(soerr));
        else if (errno != EINPROGRESS)
            snprintf(err, errlen, "connect: %s", strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int send_all(int fd, const void *data, size_t len, int64_t deadline, char *err,
                    size_t errlen)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            snprintf(err, errlen, "send: %s", strerror(errno));
            return -1;
        } else if (wait_fd(fd, POLLOUT, deadline, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Reads until the peer closes: *buf (malloc'd, NUL-terminated) with *len bytes, at most
 * max. 0, or -1 with err (timeout, error, too long). */
static int recv_all(int fd, size_t max, int64_t deadline, char **buf, size_t *len, char *err,
                    size_t errlen)
{
    char *b = malloc(max + 2);
    size_t got = 0;
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (;;) {
        ssize_t n = recv(fd, b + got, max + 1 - got, 0);
        if (n == 0)
            break;
        if (n > 0) {
            got += (size_t)n;
            if (got <= max)
                continue;
            snprintf(err, errlen, "response larger than %zu bytes", max);
        } else if (errno == EAGAIN || errno == EINTR) {
            if (wait_fd(fd, POLLIN, deadline, err, errlen) == 0)
                continue;
        } else {
            snprintf(err, errlen, "recv: %s", strerror(errno));
        }
        free(b);
        return -1;
    }
    b[got] = '\0';
    *buf = b;
    *len = got;
    return 0;
}

/* The body of an HTTP/1.x 200 answer in resp (len bytes): *body, *bodylen. 0, or -1. */
static int parse_answer(const char *resp, size_t len, const char **body, size_t *bodylen,
                        char *err, size_t errlen)
{
    int status = 0;
    if (sscanf(resp, "HTTP/1.%*1[01] %3d", &status) != 1) {
        snprintf(err, errlen, "not an HTTP/1.x answer");
        return -1;
    }
    if (status != 200) {
        snprintf(err, errlen, "HTTP status %d", status);
        return -1;
    }
    const char *end = memmem(resp, len, "\r\n\r\n", 4);
    if (!end || end - resp > HEAD_MAX) {
        snprintf(err, errlen, "answer head incomplete or too long");
        return -1;
    }
    *body = end + 4;
    *bodylen = len - (size_t)(*body - resp);
    /* A Content-Length shorter than what came is the body's true end; a longer one is a
     * truncated answer. */
    const char *cl = strcasestr(resp, "\r\nContent-Length:");
    if (cl && cl < end) {
        unsigned long long n = strtoull(cl + 17, NULL, 10);
        if (n > *bodylen) {
            snprintf(err, errlen, "body truncated (%zu of %llu bytes)", *bodylen, n);
            return -1;
        }
        *bodylen = (size_t)n;
    }
    return 0;
}

int pt_ocsp_post(const char *url, const unsigned char *req, size_t reqlen, int64_t timeout_ms,
                 unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
    char host[256], port[16], head[1024 + 256], why[256] = "";
    const char *path;
    if (pt_ocsp_url_parse(url, host, sizeof(host), port, sizeof(port), &path, err, errlen))
        return -1;
    int64_t deadline = pt_now_ms() + timeout_ms;
    int fd = connect_to(host, port, deadline, why, sizeof(why));
    if (fd < 0) {
        snprintf(err, errlen, "OCSP responder %s: %s", url, why[0] ? why : "no address");
        return -1;
    }
    int hl = snprintf(head, sizeof(head),
                      "POST %.1024s HTTP/1.0\r\nHost: %s:%s\r\n"
                      "Content-Type: application/ocsp-request\r\nContent-Length: %zu\r\n\r\n",
                      path, host, port, reqlen);
    char *resp = NULL;
    size_t rlen = 0;
    const char *body;
    size_t blen;
    int rc = -1;
    if (send_all(fd, head, (size_t)hl, deadline, why, sizeof(why)) == 0 &&
        send_all(fd, req, reqlen, deadline, why, sizeof(why)) == 0 &&
        recv_all(fd, PT_OCSP_RESPONSE_MAX + HEAD_MAX, deadline, &resp, &rlen, why,
                 sizeof(why)) == 0 &&
        parse_answer(resp, rlen, &body, &blen, why, sizeof(why)) == 0) {
        if (blen > PT_OCSP_RESPONSE_MAX) {
            snprintf(why, sizeof(why), "response larger than %d bytes", PT_OCSP_RESPONSE_MAX);
        } else if ((*out = malloc(blen ? blen : 1)) != NULL) {
            memcpy(*out, body, blen);
            *outlen = blen;
            rc = 0;
        }
    }
    close(fd);
    free(resp);
    if (rc != 0)
        snprintf(err, errlen, "OCSP responder %s: %s", url, why[0] ? why : "out of memory");
    return rc;
}
