/* The tests' DNS server (dns_server.h): one thread polling a UDP socket, a TCP listener and a
 * stop pipe; answers are built from a small table under a mutex, with compression pointers
 * to the question and to a CNAME's target as a real server writes them. */
#include "dns_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define DNS_ENTRIES 64
#define DNS_MSG_MAX 4096
#define UDP_LIMIT 512

typedef struct {
    char name[256];
    char cname[256];    /* "" unless an alias */
    char addrs[1024];
    uint32_t ttl;
} entry_t;

struct pth_dns {
    int udp, tcp, stop[2], port;
    pthread_t thread;
    pthread_mutex_t mu;
    entry_t entries[DNS_ENTRIES];
    int nentries;
    bool truncate_all;
    atomic_uint udp_queries, tcp_queries;
};

static entry_t *find(pth_dns_t *s, const char *name)
{
    for (int i = 0; i < s->nentries; i++)
        if (strcasecmp(s->entries[i].name, name) == 0)
            return &s->entries[i];
    return NULL;
}

static entry_t *find_or_add(pth_dns_t *s, const char *name)
{
    entry_t *e = find(s, name);
    if (!e && s->nentries < DNS_ENTRIES) {
        e = &s->entries[s->nentries++];
        snprintf(e->name, sizeof(e->name), "%s", name);
    }
    return e;
}

void pth_dns_set(pth_dns_t *s, const char *name, const char *addrs, uint32_t ttl)
{
    pthread_mutex_lock(&s->mu);
    entry_t *e = find_or_add(s, name);
    if (e) {
        e->cname[0] = '\0';
        snprintf(e->addrs, sizeof(e->addrs), "%s", addrs);
        e->ttl = ttl;
    }
    pthread_mutex_unlock(&s->mu);
}

void pth_dns_set_cname(pth_dns_t *s, const char *name, const char *target)
{
    pthread_mutex_lock(&s->mu);
    entry_t *e = find_or_add(s, name);
    if (e) {
        snprintf(e->cname, sizeof(e->cname), "%s", target);
        e->addrs[0] = '\0';
        e->ttl = 60;
    }
    pthread_mutex_unlock(&s->mu);
}

void pth_dns_force_truncation(pth_dns_t *s, bool on)
{
    pthread_mutex_lock(&s->mu);
    s->truncate_all = on;
    pthread_mutex_unlock(&s->mu);
}

unsigned pth_dns_udp_queries(const pth_dns_t *s)
{
    return atomic_load(&s->udp_queries);
}

unsigned pth_dns_tcp_queries(const pth_dns_t *s)
{
    return atomic_load(&s->tcp_queries);
}

int pth_dns_port(const pth_dns_t *s)
{
    return s->port;
}

/* ---- Answers ---------------------------------------------------------------------------- */

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Encodes a dotted name at out; returns its length. */
static size_t put_name(uint8_t *out, const char *name)
{
    size_t o = 0;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        out[o++] = (uint8_t)l;
        memcpy(out + o, p, l);
        o += l;
        p += l + (dot ? 1 : 0);
    }
    out[o++] = 0;
    return o;
}

/* A record header at out: owner as a pointer, type, class IN, ttl, rdlen. */
static size_t put_rr(uint8_t *out, unsigned owner_off, unsigned type, uint32_t ttl,
                     unsigned rdlen)
{
    put16(out, 0xC000 | owner_off);
    put16(out + 2, type);
    put16(out + 4, 1);
    put16(out + 6, ttl >> 16);
    put16(out + 8, ttl & 0xFFFF);
    put16(out + 10, rdlen);
    return 12;
}

/* The addresses of e of qtype, owned by the name at owner_off. */
static size_t put_addrs(uint8_t *out, const entry_t *e, unsigned qtype, unsigned owner_off,
                        unsigned *an)
{
    char list[sizeof(e->addrs)], *save = NULL;
    snprintf(list, sizeof(list), "%s", e->addrs);
    size_t o = 0;
    for (char *t = strtok_r(list, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        uint8_t a[16];
        if (qtype == 1 && inet_pton(AF_INET, t, a) == 1) {
            o += put_rr(out + o, owner_off, 1, e->ttl, 4);
            memcpy(out + o, a, 4);
            o += 4;
        } else if (qtype == 28 && inet_pton(AF_INET6, t, a) == 1) {
            o += put_rr(out + o, owner_off, 28, e->ttl, 16);
            memcpy(out + o, a, 16);
            o += 16;
        } else {
            continue;
        }
        (*an)++;
    }
    return o;
}

/* The answer to query q (qlen bytes) into out: its length, 0 to stay silent. */
static size_t answer(pth_dns_t *s, const uint8_t *q, size_t qlen, uint8_t *out, bool udp)
{
    char name[256];
    size_t o = 12, n = 0;
    while (o < qlen && q[o] && n + q[o] + 1 < sizeof(name)) {
        if (n)
            name[n++] = '.';
        memcpy(name + n, q + o + 1, q[o]);
        n += q[o];
        o += (size_t)q[o] + 1;
    }
    if (o + 5 > qlen)
        return 0;
    name[n] = '\0';
    size_t qend = o + 5;
    unsigned qtype = (unsigned)q[o + 1] << 8 | q[o + 2], an = 0, rcode = 0;
    memcpy(out, q, qend);
    size_t w = qend;
    pthread_mutex_lock(&s->mu);
    bool trunc = udp && s->truncate_all;
    entry_t *e = find(s, name);
    unsigned owner = 12;
    if (e && e->cname[0]) {
        w += put_rr(out + w, owner, 5, e->ttl, 0);
        size_t tl = put_name(out + w, e->cname);
        put16(out + w - 2, (unsigned)tl);
        owner = (unsigned)w;
        w += tl;
        an++;
        e = find(s, e->cname);
    }
    if (e)
        w += put_addrs(out + w, e, qtype, owner, &an);
    else if (an == 0)
        rcode = 3;
    pthread_mutex_unlock(&s->mu);
    if (udp && w > UDP_LIMIT)
        trunc = true;
    if (trunc) {
        w = qend;
        an = 0;
    }
    put16(out + 2, 0x8000 | 0x0100 | 0x0080 | (trunc ? 0x0200 : 0) | rcode);
    put16(out + 6, an);
    put16(out + 8, 0);
    put16(out + 10, 0);
    return w;
}

/* ---- The thread ------------------------------------------------------------------------- */

static void serve_udp(pth_dns_t *s)
{
    uint8_t q[DNS_MSG_MAX], out[DNS_MSG_MAX];
    struct sockaddr_storage from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(s->udp, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
    if (n < 12)
        return;
    atomic_fetch_add(&s->udp_queries, 1);
    size_t w = answer(s, q, (size_t)n, out, true);
    if (w)
        sendto(s->udp, out, w, 0, (struct sockaddr *)&from, fl);
}

static bool read_full(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* One TCP client: length-prefixed queries answered until it closes (1 s per read). */
static void serve_tcp(pth_dns_t *s)
{
    int c = accept(s->tcp, NULL, NULL);
    if (c < 0)
        return;
    struct timeval tv = {.tv_sec = 1};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    uint8_t q[DNS_MSG_MAX], out[DNS_MSG_MAX + 2], lp[2];
    while (read_full(c, lp, 2)) {
        size_t ql = (size_t)lp[0] << 8 | lp[1];
        if (ql > sizeof(q) || !read_full(c, q, ql))
            break;
        atomic_fetch_add(&s->tcp_queries, 1);
        size_t w = answer(s, q, ql, out + 2, false);
        put16(out, (unsigned)w);
        if (write(c, out, w + 2) != (ssize_t)(w + 2))
            break;
    }
    close(c);
}

static void *run(void *arg)
{
    pth_dns_t *s = arg;
    for (;;) {
        struct pollfd pf[3] = {{.fd = s->udp, .events = POLLIN}, {.fd = s->tcp, .events = POLLIN},
                               {.fd = s->stop[0], .events = POLLIN}};
        if (poll(pf, 3, -1) < 0 && errno != EINTR)
            break;
        if (pf[2].revents)
            break;
        if (pf[0].revents & POLLIN)
            serve_udp(s);
        if (pf[1].revents & POLLIN)
            serve_tcp(s);
    }
    return NULL;
}

/* Binds both sockets to one free port (the UDP one picks it). */
static int bind_both(pth_dns_t *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    for (int tries = 0; tries < 20; tries++) {
        a.sin_port = 0;
        s->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (bind(s->udp, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            getsockname(s->udp, (struct sockaddr *)&a, &al) < 0)
            return -1;
        s->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(s->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(s->tcp, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s->tcp, 16) == 0) {
            s->port = ntohs(a.sin_port);
            return 0;
        }
        close(s->udp);
        close(s->tcp);
    }
    return -1;
}

pth_dns_t *pth_dns_start(void)
{
    pth_dns_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    if (pipe2(s->stop, O_CLOEXEC) < 0) {
        free(s);
        return NULL;
    }
    if (bind_both(s) < 0 || pthread_create(&s->thread, NULL, run, s) != 0) {
        close(s->stop[0]);
        close(s->stop[1]);
        free(s);
        return NULL;
    }
    return s;
}

void pth_dns_stop(pth_dns_t *s)
{
    if (!s)
        return;
    if (write(s->stop[1], "x", 1) != 1)
        abort();
    pthread_join(s->thread, NULL);
    close(s->udp);
    close(s->tcp);
    close(s->stop[0]);
    close(s->stop[1]);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
