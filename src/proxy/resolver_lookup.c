/* A lookup of one name's A and AAAA records (resolver.h), stepped by its caller when its fd
 * is ready: both queries go out at once over a connected UDP socket (so that only the
 * server's datagrams reach it, from a port the kernel picks at random, with random ids),
 * are sent again each second while unanswered, and are asked again over TCP when an answer
 * comes truncated (RFC 7766: both queries pipelined on one connection). */
#include "resolver.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

/* An unanswered UDP query is sent again after this. */
#define DNS_RESEND_MS 1000
/* A DNS message over TCP is at most this long (its 2-byte length prefix). */
#define DNS_TCP_MAX 65535
/* A query is at most this long: header, a 255-byte name, type and class. */
#define DNS_QUERY_MAX 300

enum { Q_A, Q_AAAA, NQ };
static const uint16_t qtypes[NQ] = {PT_DNS_TYPE_A, PT_DNS_TYPE_AAAA};

struct pt_dns_lookup {
    char name[256];
    struct sockaddr_storage server;
    socklen_t slen;
    int fd;
    bool tcp, connecting;
    uint16_t id[NQ];
    bool answered[NQ];
    pt_dns_answer_t part[NQ];  /* each query's answer */
    pt_dns_answer_t result;    /* both, once done */
    int64_t deadline, resend_at;
    uint8_t out[NQ * (2 + DNS_QUERY_MAX)]; /* TCP: the queries still to write */
    size_t outlen, outoff;
    uint8_t *in;               /* TCP: what was read of the answers (DNS_TCP_MAX + 2) */
    size_t inlen;
    int state;                 /* 0 running, 1 done, < 0 failed */
};

static int send_udp(pt_dns_lookup_t *lk)
{
    for (int q = 0; q < NQ; q++) {
        if (lk->answered[q])
            continue;
        uint8_t buf[DNS_QUERY_MAX];
        int n = pt_dns_query_encode(buf, sizeof(buf), lk->id[q], lk->name, qtypes[q]);
        if (n < 0)
            return n;
        if (send(lk->fd, buf, (size_t)n, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
            return -errno;
    }
    return 0;
}

pt_dns_lookup_t *pt_dns_lookup_start(const struct sockaddr *server, socklen_t slen,
                                     const char *name, int64_t now_ms, int64_t timeout_ms)
{
    if (strlen(name) >= sizeof(((pt_dns_lookup_t *)0)->name) || slen > sizeof(
            struct sockaddr_storage)) {
        errno = EINVAL;
        return NULL;
    }
    pt_dns_lookup_t *lk = calloc(1, sizeof(*lk));
    if (!lk)
        return NULL;
    strcpy(lk->name, name);
    memcpy(&lk->server, server, slen);
    lk->slen = slen;
    lk->deadline = now_ms + timeout_ms;
    lk->resend_at = now_ms + DNS_RESEND_MS;
    if (getrandom(lk->id, sizeof(lk->id), GRND_NONBLOCK) != (ssize_t)sizeof(lk->id))
        lk->id[0] = (uint16_t)now_ms, lk->id[1] = (uint16_t)(now_ms >> 16);
    if (lk->id[1] == lk->id[0])
        lk->id[1] ^= 1;
    lk->fd = socket(server->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = lk->fd < 0 ? -errno : connect(lk->fd, server, slen) < 0 ? -errno : send_udp(lk);
    if (rc < 0) {
        pt_dns_lookup_free(lk);
        errno = rc < -999 ? EINVAL : -rc;
        return NULL;
    }
    return lk;
}

void pt_dns_lookup_free(pt_dns_lookup_t *lk)
{
    if (!lk)
        return;
    if (lk->fd >= 0)
        close(lk->fd);
    free(lk->in);
    free(lk);
}

int pt_dns_lookup_fd(const pt_dns_lookup_t *lk, short *events)
{
    if (lk->state != 0)
        return -1;
    *events = lk->connecting || lk->outoff < lk->outlen ? POLLOUT : POLLIN;
    return lk->fd;
}

int64_t pt_dns_lookup_deadline(const pt_dns_lookup_t *lk)
{
    return lk->tcp ? lk->deadline : PT_MIN(lk->deadline, lk->resend_at);
}

const pt_dns_answer_t *pt_dns_lookup_result(const pt_dns_lookup_t *lk)
{
    return &lk->result;
}

/* Both answered: A then AAAA, NXDOMAIN only when neither has an address. */
static int finish(pt_dns_lookup_t *lk)
{
    pt_dns_answer_t *r = &lk->result;
    memset(r, 0, sizeof(*r));
    for (int q = 0; q < NQ; q++)
        for (size_t i = 0; i < lk->part[q].naddrs && r->naddrs < PT_DNS_MAX_ADDRS; i++)
            r->addrs[r->naddrs++] = lk->part[q].addrs[i];
    if (r->naddrs == 0 && lk->part[Q_A].rcode == PT_DNS_RCODE_NXDOMAIN)
        r->rcode = PT_DNS_RCODE_NXDOMAIN;
    return 1;
}

/* Switches to TCP: the unanswered queries, length-prefixed, to write once connected. */
static int start_tcp(pt_dns_lookup_t *lk)
{
    close(lk->fd);
    lk->tcp = true;
    if (!lk->in && !(lk->in = malloc(DNS_TCP_MAX + 2)))
        return -ENOMEM;
    lk->outlen = lk->outoff = lk->inlen = 0;
    for (int q = 0; q < NQ; q++) {
        if (lk->answered[q])
            continue;
        int n = pt_dns_query_encode(lk->out + lk->outlen + 2, DNS_QUERY_MAX, lk->id[q],
                                    lk->name, qtypes[q]);
        if (n < 0)
            return n;
        lk->out[lk->outlen] = (uint8_t)(n >> 8);
        lk->out[lk->outlen + 1] = (uint8_t)n;
        lk->outlen += 2 + (size_t)n;
    }
    lk->fd = socket(lk->server.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lk->fd < 0)
        return -errno;
    if (connect(lk->fd, (struct sockaddr *)&lk->server, lk->slen) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return -errno;
    lk->connecting = true;
    return 0;
}

/* One answer, from either transport: 0 (kept, or a stray ignored), 1 truncated, or a
 * failure. */
static int take_answer(pt_dns_lookup_t *lk, const uint8_t *msg, size_t len)
{
    for (int q = 0; q < NQ; q++) {
        pt_dns_answer_t a;
        if (lk->answered[q] ||
            pt_dns_answer_parse(msg, len, lk->id[q], lk->name, qtypes[q], &a) < 0)
            continue;
        if (a.truncated)
            return lk->tcp ? PT_EINVAL : 1;
        if (a.rcode != 0 && a.rcode != PT_DNS_RCODE_NXDOMAIN)
            return PT_ECLOSED;
        lk->part[q] = a;
        lk->answered[q] = true;
        return 0;
    }
    return lk->tcp ? PT_EINVAL : 0; /* over TCP nothing else can arrive */
}

static int step_udp(pt_dns_lookup_t *lk, int64_t now_ms)
{
    uint8_t buf[PT_DNS_UDP_MAX + 1];
    for (;;) {
        ssize_t n = recv(lk->fd, buf, sizeof(buf), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -errno; /* ECONNREFUSED: nothing listens there */
            break;
        }
        int rc = take_answer(lk, buf, (size_t)n);
        if (rc == 1)
            return start_tcp(lk);
        if (rc < 0)
            return rc;
    }
    if (now_ms >= lk->resend_at && !(lk->answered[Q_A] && lk->answered[Q_AAAA])) {
        lk->resend_at = now_ms + DNS_RESEND_MS;
        return send_udp(lk);
    }
    return 0;
}

/* Reads what came and takes every whole length-prefixed answer in it. */
static int read_tcp(pt_dns_lookup_t *lk)
{
    ssize_t n = recv(lk->fd, lk->in + lk->inlen, DNS_TCP_MAX + 2 - lk->inlen, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    if (n == 0)
        return PT_ECLOSED;
    lk->inlen += (size_t)n;
    while (lk->inlen >= 2) {
        size_t mlen = (size_t)lk->in[0] << 8 | lk->in[1];
        if (lk->inlen < 2 + mlen)
            break;
        int rc = take_answer(lk, lk->in + 2, mlen);
        if (rc != 0)
            return rc;
        memmove(lk->in, lk->in + 2 + mlen, lk->inlen - 2 - mlen);
        lk->inlen -= 2 + mlen;
    }
    return 0;
}

static int step_tcp(pt_dns_lookup_t *lk)
{
    if (lk->connecting) {
        /* Stepped at a resend time or deadline rather than on POLLOUT: still connecting. */
        struct pollfd pf = {.fd = lk->fd, .events = POLLOUT};
        if (poll(&pf, 1, 0) == 0)
            return 0;
        int err = 0;
        socklen_t el = sizeof(err);
        if (getsockopt(lk->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            return -errno;
        if (err == EINPROGRESS || err == EALREADY)
            return 0;
        if (err)
            return -err;
        lk->connecting = false;
    }
    while (lk->outoff < lk->outlen) {
        ssize_t n = send(lk->fd, lk->out + lk->outoff, lk->outlen - lk->outoff, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        lk->outoff += (size_t)n;
    }
    return read_tcp(lk);
}

int pt_dns_lookup_step(pt_dns_lookup_t *lk, int64_t now_ms)
{
    if (lk->state != 0)
        return lk->state;
    int rc = lk->tcp ? step_tcp(lk) : step_udp(lk, now_ms);
    if (rc == 0 && lk->answered[Q_A] && lk->answered[Q_AAAA])
        rc = finish(lk);
    else if (rc == 0 && now_ms >= lk->deadline)
        rc = PT_ETIMEOUT;
    lk->state = rc;
    return rc;
}
