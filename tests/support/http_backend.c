/* The HTTP/1.1 test origin of http_backend.h: a small, deliberately plain request reader
 * (head up to CRLF CRLF, Content-Length or chunked body), and the answers the proxy tests
 * need, well-formed or not. Its own parsing is lenient only where a test needs to see what
 * the proxy sent; framing it cannot be sure of is counted in counts->bad. */
#include "http_backend.h"
#include "harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define HB_HEAD_MAX (64 * 1024)
#define HB_IO (64 * 1024)

static pth_http_counts_t *counts;

typedef struct {
    int fd;
    int id;                  /* connection number */
    int served;              /* requests on this connection */
    char buf[HB_HEAD_MAX];   /* read buffer: the head, then body bytes that came with it */
    size_t len, pos;
} hb_conn_t;

typedef struct {
    char head[HB_HEAD_MAX];  /* the head as received */
    size_t head_len;
    char method[16];
    char target[4096];
    char name[256];          /* last path component */
    char query[1024];
    long long clen;          /* -1 none */
    bool chunked, expect, is_head, close;
} hb_req_t;

void pth_http_pattern_fill(void *p, size_t n, uint64_t off)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = pth_http_pattern(off + i);
}

void pth_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static bool write_all(int fd, const void *p, size_t n)
{
    size_t o = 0;
    while (o < n) {
        ssize_t w = send(fd, (const char *)p + o, n - o, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        o += (size_t)w;
    }
    return true;
}

static bool writef(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool writef(int fd, const char *fmt, ...)
{
    char tmp[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    return n > 0 && (size_t)n < sizeof(tmp) && write_all(fd, tmp, (size_t)n);
}

/* More bytes into c->buf (compacting first); false at EOF or error. */
static bool fill(hb_conn_t *c)
{
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->len >= sizeof(c->buf))
        return false;
    ssize_t n;
    do
        n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return false;
    c->len += (size_t)n;
    return true;
}

static const char *field(const hb_req_t *q, const char *name, char *val, size_t vlen)
{
    size_t nl = strlen(name);
    const char *p = strstr(q->head, "\r\n");
    while (p && p[2] != '\r') {
        p += 2;
        const char *e = strstr(p, "\r\n");
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(val, vlen, "%.*s", (int)(e - v), v);
            return val;
        }
        p = e;
    }
    return NULL;
}

static void parse_target(hb_req_t *q)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", q->target);
    char *qm = strchr(path, '?');
    if (qm) {
        snprintf(q->query, sizeof(q->query), "%.1023s", qm + 1);
        *qm = '\0';
    }
    char *slash = strrchr(path, '/');
    snprintf(q->name, sizeof(q->name), "%.255s", slash ? slash + 1 : path);
}

/* Reads one head into q. False at EOF or on a head it cannot read. */
static bool read_head(hb_conn_t *c, hb_req_t *q)
{
    memset(q, 0, sizeof(*q));
    char *end;
    while (!(end = memmem(c->buf + c->pos, c->len - c->pos, "\r\n\r\n", 4)))
        if (!fill(c))
            return false;
    q->head_len = (size_t)(end + 4 - (c->buf + c->pos));
    memcpy(q->head, c->buf + c->pos, q->head_len);
    q->head[q->head_len] = '\0';
    c->pos += q->head_len;
    if (sscanf(q->head, "%15s %4095s", q->method, q->target) != 2)
        return false;
    atomic_fetch_add(&counts->requests, 1);
    if (strstr(q->target, "smuggled"))
        atomic_fetch_add(&counts->smuggled, 1);
    parse_target(q);
    char v[256];
    q->clen = field(q, "Content-Length", v, sizeof(v)) ? atoll(v) : -1;
    q->chunked = field(q, "Transfer-Encoding", v, sizeof(v)) && strcasestr(v, "chunked");
    if (q->clen >= 0 && q->chunked)
        atomic_fetch_add(&counts->bad, 1);
    q->expect = field(q, "Expect", v, sizeof(v)) && strcasecmp(v, "100-continue") == 0;
    q->close = field(q, "Connection", v, sizeof(v)) && strcasestr(v, "close");
    q->is_head = strcmp(q->method, "HEAD") == 0;
    return true;
}

/* Up to n body bytes into out (n bytes of the counted or chunked body); 0 at its end, -1 on
 * a broken body. */
typedef struct {
    long long left;          /* counted: bytes left; chunked: of the current chunk */
    bool chunked, done;
} hb_body_t;

static long body_read(hb_conn_t *c, hb_body_t *b, char *out, size_t n)
{
    if (b->done)
        return 0;
    if (b->chunked && b->left == 0) {
        char *eol;
        while (!(eol = memmem(c->buf + c->pos, c->len - c->pos, "\r\n", 2)))
            if (!fill(c))
                return -1;
        char *e;
        long long sz = strtoll(c->buf + c->pos, &e, 16);
        if (e == c->buf + c->pos || sz < 0)
            return atomic_fetch_add(&counts->bad, 1), -1;
        c->pos = (size_t)(eol + 2 - c->buf);
        if (sz == 0) { /* trailers until an empty line */
            for (;;) {
                while (!(eol = memmem(c->buf + c->pos, c->len - c->pos, "\r\n", 2)))
                    if (!fill(c))
                        return -1;
                bool empty = eol == c->buf + c->pos;
                c->pos = (size_t)(eol + 2 - c->buf);
                if (empty)
                    break;
            }
            b->done = true;
            return 0;
        }
        b->left = sz;
    }
    if (!b->chunked && b->left == 0)
        return b->done = true, 0;
    if (c->pos >= c->len && !fill(c))
        return -1;
    size_t k = c->len - c->pos;
    if ((long long)k > b->left)
        k = (size_t)b->left;
    if (k > n)
        k = n;
    memcpy(out, c->buf + c->pos, k);
    c->pos += k;
    b->left -= (long long)k;
    if (b->chunked && b->left == 0) { /* the CRLF after the chunk */
        while (c->len - c->pos < 2)
            if (!fill(c))
                return -1;
        if (memcmp(c->buf + c->pos, "\r\n", 2) != 0)
            return atomic_fetch_add(&counts->bad, 1), -1;
        c->pos += 2;
    }
    return (long)k;
}

static long long qnum(const hb_req_t *q, const char *key, long long dflt)
{
    size_t kl = strlen(key);
    for (const char *p = q->query; p && *p;) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=')
            return atoll(p + kl + 1);
        p = strchr(p, '&');
        p = p ? p + 1 : NULL;
    }
    return dflt;
}

/* The text value of key in the query (up to the next '&'); false when it is absent. */
static bool qstr(const hb_req_t *q, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = q->query; p && *p;) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            snprintf(out, n, "%.*s", (int)strcspn(p + kl + 1, "&"), p + kl + 1);
            return true;
        }
        p = strchr(p, '&');
        p = p ? p + 1 : NULL;
    }
    return false;
}

/* The Host field of the head as received ("" when none). */
static void host_of(const hb_req_t *q, char *out, size_t n)
{
    out[0] = '\0';
    for (const char *p = q->head; p && p < q->head + q->head_len; p = strstr(p, "\r\n")) {
        p += p == q->head ? 0 : 2;
        if (strncasecmp(p, "Host:", 5) == 0) {
            p += 5;
            while (*p == ' ')
                p++;
            snprintf(out, n, "%.*s", (int)strcspn(p, "\r"), p);
            return;
        }
    }
}

/* redirect: 302 to http://HOST<to> (Location and Content-Location), HOST being the Host
 * the request named (as an application builds its own URLs); with cpath= (and cdomain=) a
 * Set-Cookie carrying them. */
static bool send_redirect(hb_conn_t *c, const hb_req_t *q)
{
    char to[256] = "/next", host[256], cpath[256], cdomain[256], cookie[600] = "";
    qstr(q, "to", to, sizeof(to));
    host_of(q, host, sizeof(host));
    if (qstr(q, "cpath", cpath, sizeof(cpath))) {
        bool dom = qstr(q, "cdomain", cdomain, sizeof(cdomain));
        snprintf(cookie, sizeof(cookie), "Set-Cookie: sid=1; Path=%s%s%s; HttpOnly\r\n", cpath,
                 dom ? "; Domain=" : "", dom ? cdomain : "");
    }
    return writef(c->fd, "HTTP/1.1 302 Found\r\nLocation: http://%s%s\r\n"
                         "Content-Location: http://%s%s\r\n%sContent-Length: 0\r\n\r\n",
                  host, to, host, to, cookie);
}

/* The whole body: into *out (malloc'd, may be NULL to drop it); its length, -1 if broken. */
static long long read_body(hb_conn_t *c, const hb_req_t *q, char **out, char hex[65])
{
    hb_body_t b = {.left = q->chunked ? 0 : (q->clen > 0 ? q->clen : 0), .chunked = q->chunked};
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    char *tmp = malloc(HB_IO), *all = NULL;
    long long total = 0;
    long n;
    while ((n = body_read(c, &b, tmp, HB_IO)) > 0) {
        EVP_DigestUpdate(md, tmp, (size_t)n);
        if (out) {
            all = realloc(all, (size_t)(total + n));
            memcpy(all + total, tmp, (size_t)n);
        }
        total += n;
    }
    unsigned char d[32];
    EVP_DigestFinal_ex(md, d, NULL);
    EVP_MD_CTX_free(md);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    free(tmp);
    if (out)
        *out = all;
    else
        free(all);
    return n < 0 ? -1 : total;
}

static void reset_close(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

static bool send_bytes(hb_conn_t *c, const hb_req_t *q)
{
    long long n = qnum(q, "n", 1024);
    bool chunked = qnum(q, "chunked", 0) != 0, eof = qnum(q, "eof", 0) != 0;
    if (chunked)
        writef(c->fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                      "X-Conn-Requests: %d\r\n\r\n", c->served);
    else if (eof)
        writef(c->fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    else
        writef(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\nX-Conn-Requests: %d\r\n\r\n",
               n, c->served);
    if (q->is_head)
        return !eof;
    char *buf = malloc(16384);
    bool ok = true;
    for (long long off = 0; ok && off < n;) {
        size_t k = (size_t)(n - off < 16384 ? n - off : 16384);
        pth_http_pattern_fill(buf, k, (uint64_t)off);
        if (chunked)
            ok = writef(c->fd, "%zx\r\n", k) && write_all(c->fd, buf, k) &&
                 write_all(c->fd, "\r\n", 2);
        else
            ok = write_all(c->fd, buf, k);
        off += (long long)k;
    }
    free(buf);
    if (ok && chunked)
        ok = write_all(c->fd, "0\r\n\r\n", 5);
    return ok && !eof;
}

static bool send_status(hb_conn_t *c, const hb_req_t *q)
{
    int code = (int)qnum(q, "code", 200);
    static const char body[] = "status body\n";
    bool none = code < 200 || code == 204 || code == 304;
    if (code == 204)
        return writef(c->fd, "HTTP/1.1 204 No Content\r\nX-Conn-Requests: %d\r\n\r\n",
                      c->served);
    if (none || q->is_head)
        return writef(c->fd, "HTTP/1.1 %d Status\r\nContent-Length: %zu\r\nETag: \"x\"\r\n\r\n",
                      code, sizeof(body) - 1);
    return writef(c->fd, "HTTP/1.1 %d Status\r\nContent-Length: %zu\r\n\r\n%s", code,
                  sizeof(body) - 1, body);
}

static bool send_echo(hb_conn_t *c, const hb_req_t *q, bool raw)
{
    char hex[65];
    char *data = NULL;
    long long n = read_body(c, q, raw ? &data : NULL, hex);
    if (n < 0)
        return free(data), false;
    if (raw) {
        bool ok = writef(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n"
                                "X-Conn-Requests: %d\r\n\r\n", n, c->served) &&
                  (n == 0 || write_all(c->fd, data, (size_t)n));
        free(data);
        return ok;
    }
    char tail[256];
    int tl = snprintf(tail, sizeof(tail), "\n--\nbody-len: %lld\nbody-sha256: %s\n", n, hex);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    char ip[64] = "unix";
    if (getpeername(c->fd, (struct sockaddr *)&peer, &plen) == 0 && peer.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, ip, sizeof(ip));
    return writef(c->fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         "Content-Length: %zu\r\nX-Conn-Requests: %d\r\nX-Conn-Id: %d\r\n"
                         "X-Conn-Peer: %s\r\n\r\n",
                  q->head_len + (size_t)tl, c->served, c->id, ip) &&
           write_all(c->fd, q->head, q->head_len) && write_all(c->fd, tail, (size_t)tl);
}

static bool send_reset(hb_conn_t *c, const hb_req_t *q, bool chunked)
{
    long long after = qnum(q, "after", 1000);
    char *buf = calloc(1, (size_t)after + 1);
    memset(buf, 'r', (size_t)after);
    if (chunked)
        writef(c->fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%llx\r\n", after);
    else
        writef(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
    write_all(c->fd, buf, (size_t)after);
    free(buf);
    pth_sleep_ms(50); /* let the bytes leave before the reset */
    return false;
}

/* Answers q (the body is read here when the answer needs it). False: close the connection
 * (reset: the caller resets it). */
static bool answer(hb_conn_t *c, const hb_req_t *q, bool *reset)
{
    const char *w = q->name;
    if (strcmp(w, "reject") == 0)
        return writef(c->fd, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n"
                             "Connection: close\r\n\r\n"), false;
    if (q->expect && !write_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25))
        return false;
    if (strcmp(w, "echo") == 0 || strcmp(w, "body") == 0)
        return send_echo(c, q, strcmp(w, "body") == 0);
    char hex[65];
    if (read_body(c, q, NULL, hex) < 0)
        return false;
    if (strcmp(w, "bytes") == 0)
        return send_bytes(c, q);
    if (strcmp(w, "status") == 0)
        return send_status(c, q);
    if (strcmp(w, "slow") == 0) {
        int ms = (int)qnum(q, "ms", 300);
        bool body = qnum(q, "body", 0) != 0;
        if (!body)
            pth_sleep_ms(ms);
        writef(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
        if (body)
            pth_sleep_ms(ms);
        return write_all(c->fd, "ok", 2);
    }
    if (strcmp(w, "hop") == 0)
        return writef(c->fd, "HTTP/1.1 200 OK\r\nConnection: X-Drop-Me\r\nX-Drop-Me: 1\r\n"
                             "Keep-Alive: timeout=5\r\nTrailer: X-T\r\nUpgrade: h2c\r\n"
                             "Proxy-Connection: keep-alive\r\nX-Keep: yes\r\n"
                             "Content-Length: 2\r\n\r\nok");
    if (strcmp(w, "reset") == 0 || strcmp(w, "resetchunk") == 0)
        return *reset = true, send_reset(c, q, strcmp(w, "resetchunk") == 0);
    if (strcmp(w, "clte") == 0)
        return writef(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: "
                             "chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    if (strcmp(w, "twocl") == 0)
        return writef(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
                             "\r\nok!");
    if (strcmp(w, "badchunk") == 0)
        return writef(c->fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "zz\r\nok\r\n0\r\n\r\n");
    if (strcmp(w, "badstatus") == 0)
        return writef(c->fd, "HTPT/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), false;
    if (strcmp(w, "headclose") == 0)
        return writef(c->fd, "HTTP/1.1 200 OK\r\nContent-Len"), false;
    if (strcmp(w, "closeafter") == 0)
        return writef(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Conn-Requests: %d"
                             "\r\n\r\nok", c->served), false;
    if (strcmp(w, "redirect") == 0)
        return send_redirect(c, q);
    if (strcmp(w, "badheader") == 0) /* a line without a colon (ProxyBadHeader) */
        return writef(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nNo colon here\r\n"
                             "X-After: yes\r\n\r\nok"), false;
    if (strcmp(w, "early") == 0) { /* ms=: the final answer that long after the 103 */
        writef(c->fd, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n");
        pth_sleep_ms((int)qnum(q, "ms", 0));
        return writef(c->fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }
    return writef(c->fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 8\r\n\r\nunknown\n");
}

static void *serve_conn(void *arg)
{
    hb_conn_t *c = arg;
    atomic_fetch_add(&counts->open, 1);
    hb_req_t *q = malloc(sizeof(*q));
    bool reset = false;
    while (q && read_head(c, q)) {
        c->served++;
        if (!answer(c, q, &reset) || q->close)
            break;
    }
    free(q);
    atomic_fetch_sub(&counts->open, 1);
    if (reset) {
        reset_close(c->fd);
    } else {
        shutdown(c->fd, SHUT_WR);
        close(c->fd);
    }
    free(c);
    return NULL;
}

static void backend_main(int lfd)
{
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            _exit(1);
        }
        /* An answer is written in pieces (head, echoed head, tail): with Nagle the second
         * piece waits for the proxy's delayed ACK, 40 ms per request on a kept connection,
         * most of test_balancer's time. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        hb_conn_t *c = calloc(1, sizeof(*c));
        c->fd = fd;
        c->id = atomic_fetch_add(&counts->accepted, 1) + 1;
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, serve_conn, c) != 0) {
            close(fd);
            free(c);
        }
        pthread_attr_destroy(&at);
    }
}

static int listen_on(pth_http_backend_t *b, const char *unix_path)
{
    if (unix_path) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (strlen(unix_path) >= sizeof(sun.sun_path))
            return -1;
        strcpy(sun.sun_path, unix_path);
        snprintf(b->sock, sizeof(b->sock), "%s", unix_path);
        unlink(unix_path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
                        listen(fd, 256) != 0)) {
            close(fd);
            return -1;
        }
        return fd;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sin);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 256) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    b->port = ntohs(sin.sin_port);
    return fd;
}

int pth_http_backend_start(pth_http_backend_t *b, const char *unix_path, char *msg,
                           size_t msglen)
{
    memset(b, 0, sizeof(*b));
    b->counts = mmap(NULL, sizeof(*b->counts), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (b->counts == MAP_FAILED) {
        b->counts = NULL;
        snprintf(msg, msglen, "mmap: %s", strerror(errno));
        return -1;
    }
    int lfd = listen_on(b, unix_path);
    if (lfd < 0) {
        snprintf(msg, msglen, "cannot listen: %s", strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(lfd);
        snprintf(msg, msglen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        counts = b->counts;
        backend_main(lfd);
    }
    close(lfd);
    b->pid = pid;
    b->owner = parent;
    return 0;
}

void pth_http_backend_start_must(pth_http_backend_t *b, const char *unix_path)
{
    char msg[256];
    pth_assert_msg(pth_http_backend_start(b, unix_path, msg, sizeof(msg)) == 0,
                   "http backend: %s", msg);
}

void pth_http_backend_stop(pth_http_backend_t *b)
{
    if (b->owner != getpid())
        return;
    if (b->pid > 0) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, NULL, 0);
        b->pid = 0;
    }
    if (b->sock[0])
        unlink(b->sock);
    if (b->counts)
        munmap(b->counts, sizeof(*b->counts));
    b->counts = NULL;
}

bool pth_http_backend_wait_open(pth_http_backend_t *b, int want, int ms)
{
    int64_t end = pth_now_ms() + ms;
    while (atomic_load(&b->counts->open) != want) {
        if (pth_now_ms() > end)
            return false;
        pth_sleep_ms(10);
    }
    return true;
}

/* Where echo's request head ends: its "\n--\n", else the end of the string. */
static const char *echo_head_end(const char *body)
{
    const char *e = strstr(body, "\n--\n");
    return e ? e : body + strlen(body);
}

bool pth_echo_has_line(const char *body, const char *line)
{
    char want[512];
    snprintf(want, sizeof(want), "\r\n%s\r\n", line);
    const char *f = strstr(body, want);
    return f && f < echo_head_end(body);
}

bool pth_echo_names(const char *body, const char *name)
{
    char want[256];
    snprintf(want, sizeof(want), "\r\n%s:", name);
    const char *f = strcasestr(body, want);
    return f && f < echo_head_end(body);
}
