/* src/tls: the OCSP responder client (ocsp_fetch.h): a non-blocking socket moved on by
 * steps that wait no longer than they are given, against one deadline; an HTTP/1.0 POST,
 * the body read until the responder closes. */
#include "ocsp_fetch.h"

#include "clock.h"
#include "common.h"

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

/* One POST in flight: the phases of a non-blocking socket, each moved on by
 * pt_ocsp_fetch_step as far as it goes without waiting longer than it is given. */
typedef enum { F_CONNECTING, F_SENDING, F_READING } phase_t;

struct pt_ocsp_fetch {
    char url[512];
    struct addrinfo *ai, *next;    /* the responder's addresses; next: the one to try then */
    int fd;
    phase_t phase;
    int64_t deadline;
    char *out;                     /* the request: head and DER */
    size_t outlen, outoff;
    char *in;                      /* the answer so far (NUL-terminated), at most IN_MAX */
    size_t inlen;
    char why[256];                 /* the last address's failure, while others are tried */
};

#define IN_MAX (PT_OCSP_RESPONSE_MAX + HEAD_MAX)

/* Starts a connect to the next address: 0 (in progress or done), -1 when none is left. */
static int connect_next(pt_ocsp_fetch_t *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    for (struct addrinfo *p = f->next; p; p = p->ai_next) {
        f->next = p->ai_next;
        f->fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (f->fd < 0)
            continue;
        if (connect(f->fd, p->ai_addr, p->ai_addrlen) == 0 || errno == EINPROGRESS) {
            f->phase = F_CONNECTING;
            return 0;
        }
        snprintf(f->why, sizeof(f->why), "connect: %s", strerror(errno));
        close(f->fd);
        f->fd = -1;
    }
    return -1;
}

pt_ocsp_fetch_t *pt_ocsp_fetch_start(const char *url, const unsigned char *req, size_t reqlen,
                                     int64_t timeout_ms, char *err, size_t errlen)
{
    char host[256], port[16];
    const char *path;
    if (pt_ocsp_url_parse(url, host, sizeof(host), port, sizeof(port), &path, err, errlen))
        return NULL;
    pt_ocsp_fetch_t *f = calloc(1, sizeof(*f));
    size_t cap = 1024 + 512 + reqlen;
    if (!f || !(f->out = malloc(cap)) || !(f->in = malloc(IN_MAX + 1))) {
        snprintf(err, errlen, "OCSP responder %s: out of memory", url);
        pt_ocsp_fetch_free(f);
        return NULL;
    }
    f->fd = -1;
    snprintf(f->url, sizeof(f->url), "%s", url);
    f->deadline = pt_now_ms() + timeout_ms;
    int hl = snprintf(f->out, cap,
                      "POST %.1024s HTTP/1.0\r\nHost: %s:%s\r\n"
                      "Content-Type: application/ocsp-request\r\nContent-Length: %zu\r\n\r\n",
                      path, host, port, reqlen);
    memcpy(f->out + hl, req, reqlen);
    f->outlen = (size_t)hl + reqlen;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    int rc = getaddrinfo(host, port, &hints, &f->ai);
    if (rc != 0)
        snprintf(f->why, sizeof(f->why), "resolve: %s", gai_strerror(rc));
    f->next = rc == 0 ? f->ai : NULL;
    if (rc != 0 || connect_next(f) != 0) {
        snprintf(err, errlen, "OCSP responder %s: %s", url, f->why[0] ? f->why : "no address");
        pt_ocsp_fetch_free(f);
        return NULL;
    }
    return f;
}

void pt_ocsp_fetch_free(pt_ocsp_fetch_t *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    if (f->ai)
        freeaddrinfo(f->ai);
    free(f->out);
    free(f->in);
    free(f);
}

/* The connect ended (POLLOUT): on to sending, or to the next address. 0, or -1 (why). */
static int step_connected(pt_ocsp_fetch_t *f)
{
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        soerr = errno;
    if (soerr == 0) {
        f->phase = F_SENDING;
        return 0;
    }
    snprintf(f->why, sizeof(f->why), "connect: %s", strerror(soerr));
    return connect_next(f);
}

/* Sends and reads what the socket takes or has now: 1 when the responder closed (the whole
 * answer is in), 0 when it would block, -1 with why. */
static int step_io(pt_ocsp_fetch_t *f)
{
    while (f->phase == F_SENDING && f->outoff < f->outlen) {
        ssize_t n = send(f->fd, f->out + f->outoff, f->outlen - f->outoff, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (n < 0)
            return snprintf(f->why, sizeof(f->why), "send: %s", strerror(errno)), -1;
        f->outoff += (size_t)n;
    }
    f->phase = F_READING;
    for (;;) {
        ssize_t n = recv(f->fd, f->in + f->inlen, IN_MAX + 1 - f->inlen, 0);
        if (n == 0)
            return f->in[f->inlen] = '\0', 1;
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (n < 0)
            return snprintf(f->why, sizeof(f->why), "recv: %s", strerror(errno)), -1;
        f->inlen += (size_t)n;
        if (f->inlen > IN_MAX)
            return snprintf(f->why, sizeof(f->why), "response larger than %d bytes", IN_MAX),
                   -1;
    }
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

/* The 200 answer's body out of the whole answer: 0 with *out, or -1 with why. */
static int take_body(pt_ocsp_fetch_t *f, unsigned char **out, size_t *outlen)
{
    const char *body;
    size_t blen;
    if (parse_answer(f->in, f->inlen, &body, &blen, f->why, sizeof(f->why)) != 0)
        return -1;
    if (blen > PT_OCSP_RESPONSE_MAX)
        return snprintf(f->why, sizeof(f->why), "response larger than %d bytes",
                        PT_OCSP_RESPONSE_MAX), -1;
    if (!(*out = malloc(blen ? blen : 1)))
        return snprintf(f->why, sizeof(f->why), "out of memory"), -1;
    memcpy(*out, body, blen);
    *outlen = blen;
    return 0;
}

int pt_ocsp_fetch_step(pt_ocsp_fetch_t *f, int64_t wait_ms, unsigned char **out, size_t *outlen,
                       char *err, size_t errlen)
{
    int64_t now = pt_now_ms(), until = PT_MIN(now + PT_MAX(wait_ms, 0), f->deadline);
    int rc = 0;
    for (;;) {
        struct pollfd pf = {.fd = f->fd, .events = f->phase == F_READING ? POLLIN : POLLOUT};
        int n = poll(&pf, 1, (int)PT_MAX(until - now, 0));
        if (n < 0 && errno != EINTR) {
            snprintf(f->why, sizeof(f->why), "poll: %s", strerror(errno));
            rc = -1;
        } else if (n > 0 && f->phase == F_CONNECTING) {
            rc = step_connected(f);
        } else if (n > 0) {
            rc = step_io(f);
        }
        now = pt_now_ms();
        if (rc == 0 && now >= f->deadline)
            rc = (snprintf(f->why, sizeof(f->why), "timed out"), -1);
        if (rc != 0 || now >= until)
            break;
    }
    if (rc == 1 && take_body(f, out, outlen) != 0)
        rc = -1;
    if (rc < 0)
        snprintf(err, errlen, "OCSP responder %s: %s", f->url, f->why[0] ? f->why : "failed");
    return rc;
}

int pt_ocsp_post(const char *url, const unsigned char *req, size_t reqlen, int64_t timeout_ms,
                 unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
    pt_ocsp_fetch_t *f = pt_ocsp_fetch_start(url, req, reqlen, timeout_ms, err, errlen);
    int rc = f ? 0 : -1;
    while (rc == 0)
        rc = pt_ocsp_fetch_step(f, timeout_ms, out, outlen, err, errlen);
    pt_ocsp_fetch_free(f);
    return rc > 0 ? 0 : -1;
}
