/* Integration harness, network side: raw client connections with deadlines, a small
 * HTTP/1.x response parser (Content-Length, chunked, close-delimited, 1xx), and a libcurl
 * request helper. */
#include "harness.h"

#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- Responses ----------------------------------------------------------------------- */

void pth_resp_free(pth_resp_t *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->reason);
    free(r->body);
    free(r->rest);
    memset(r, 0, sizeof(*r));
}

const char *pth_resp_header(const pth_resp_t *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

size_t pth_resp_header_count(const pth_resp_t *r, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nheaders; i++)
        n += strcasecmp(r->headers[i].name, name) == 0;
    return n;
}

static char *dup_trim(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    char *s = malloc(n + 1);
    pth_assert(s != NULL);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* A field line "name: value" (RFC 9112 section 5): a token, the colon right after it, no
 * obs-fold. Returns false when malformed. */
static bool add_header(pth_resp_t *r, const char *line, size_t n)
{
    const char *colon = memchr(line, ':', n);
    if (colon == NULL || colon == line || r->nheaders >= PTH_MAX_HEADERS)
        return false;
    for (const char *p = line; p < colon; p++)
        if (*p <= ' ' || *p >= 127)
            return false;
    r->headers[r->nheaders].name = dup_trim(line, (size_t)(colon - line));
    r->headers[r->nheaders].value = dup_trim(colon + 1, n - (size_t)(colon - line) - 1);
    r->nheaders++;
    return true;
}

/* Strict line ends: every LF has its CR before it and every CR its LF after it (a bare LF
 * or CR is how a header is injected or a response split). n may end inside a CRLF. */
static bool crlf_only(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            return false;
        if (p[i] == '\r' && i + 1 < n && p[i + 1] != '\n')
            return false;
    }
    return true;
}

/* Parses "HTTP/1.1 200 OK" and the fields up to the blank line; returns the head length,
 * 0 when incomplete, -1 when malformed (bare LF or CR, a line that is not a field). */
static long parse_head(const char *buf, size_t len, pth_resp_t *r)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    size_t scan = end ? (size_t)(end - buf) + 4 : len;
    if (!crlf_only(buf, scan))
        return -1;
    if (end == NULL)
        return len > 65536 ? -1 : 0;
    int maj, min, status, used = 0;
    if (sscanf(buf, "HTTP/%1d.%1d %3d%n", &maj, &min, &status, &used) != 3 || used != 12 ||
        (buf[12] != ' ' && buf[12] != '\r'))
        return -1;
    r->version = maj * 10 + min;
    r->status = status;
    const char *eol = memmem(buf, (size_t)(end - buf) + 2, "\r\n", 2);
    r->reason = buf[12] == ' ' ? dup_trim(buf + 13, (size_t)(eol - buf - 13)) : dup_trim("", 0);
    for (const char *line = eol + 2; line < end + 2;) {
        const char *le = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        if (!add_header(r, line, (size_t)(le - line)))
            return -1;
        line = le + 2;
    }
    return (long)(end - buf) + 4;
}

/* Decodes a chunked body at p[0..len); returns bytes used or 0 when incomplete (*bad set
 * when malformed: a size that is not hex, data not followed by CRLF, a bare LF or CR). */
static size_t dechunk(const char *p, size_t len, pth_resp_t *r, bool *bad)
{
    size_t pos = 0, cap = 1024, n = 0;
    char *out = malloc(cap);
    pth_assert(out != NULL);
    for (;;) {
        const char *eol = memmem(p + pos, len - pos, "\r\n", 2);
        size_t line = eol ? (size_t)(eol - p) + 2 - pos : len - pos;
        if (!crlf_only(p + pos, line)) {
            *bad = true;
            goto incomplete;
        }
        if (eol == NULL)
            goto incomplete;
        char *endp;
        unsigned long long sz = strtoull(p + pos, &endp, 16);
        if (endp == p + pos || (*endp != ';' && *endp != '\r')) {
            *bad = true;
            goto incomplete;
        }
        pos = (size_t)(eol - p) + 2;
        if (sz == 0)
            break;
        if (len - pos < sz + 2)
            goto incomplete;
        if (memcmp(p + pos + sz, "\r\n", 2) != 0) {
            *bad = true;
            goto incomplete;
        }
        if (n + sz + 1 > cap) {
            cap = (n + sz + 1) * 2;
            out = realloc(out, cap);
            pth_assert(out != NULL);
        }
        memcpy(out + n, p + pos, sz);
        n += sz;
        pos += sz + 2;
    }
    for (;;) { /* trailers until the empty line */
        const char *eol = memmem(p + pos, len - pos, "\r\n", 2);
        size_t line = eol ? (size_t)(eol - p) + 2 - pos : len - pos;
        if (!crlf_only(p + pos, line)) {
            *bad = true;
            goto incomplete;
        }
        if (eol == NULL)
            goto incomplete;
        bool empty = eol == p + pos;
        pos = (size_t)(eol - p) + 2;
        if (empty)
            break;
    }
    out[n] = '\0';
    r->body = out;
    r->body_len = n;
    return pos;
incomplete:
    free(out);
    return 0;
}

static void set_body(pth_resp_t *r, const char *p, size_t n)
{
    r->body = malloc(n + 1);
    pth_assert(r->body != NULL);
    memcpy(r->body, p, n);
    r->body[n] = '\0';
    r->body_len = n;
}

int pth_parse_response(const char *buf, size_t len, bool head_only, bool eof, pth_resp_t *r,
                       size_t *used)
{
    memset(r, 0, sizeof(*r));
    long hl = parse_head(buf, len, r);
    if (hl <= 0) {
        pth_resp_free(r);
        return hl < 0 ? -EINVAL : -EAGAIN;
    }
    const char *body = buf + hl;
    size_t avail = len - (size_t)hl;
    const char *te = pth_resp_header(r, "Transfer-Encoding");
    const char *cl = pth_resp_header(r, "Content-Length");
    if (head_only || r->status / 100 == 1 || r->status == 204 || r->status == 304) {
        set_body(r, "", 0);
        *used = (size_t)hl;
    } else if ((te && cl) || pth_resp_header_count(r, "Content-Length") > 1 ||
               (cl && (*cl == '\0' || strspn(cl, "0123456789") != strlen(cl)))) {
        /* A framing a client could read two ways (RFC 9112 section 6.3). */
        pth_resp_free(r);
        return -EINVAL;
    } else if (te && strcasestr(te, "chunked")) {
        bool bad = false;
        size_t n = dechunk(body, avail, r, &bad);
        if (n == 0) {
            pth_resp_free(r);
            return bad ? -EINVAL : -EAGAIN;
        }
        *used = (size_t)hl + n;
    } else if (cl) {
        size_t want = (size_t)strtoull(cl, NULL, 10);
        if (avail < want) {
            pth_resp_free(r);
            return -EAGAIN;
        }
        set_body(r, body, want);
        *used = (size_t)hl + want;
    } else {
        if (!eof) {
            pth_resp_free(r);
            return -EAGAIN;
        }
        set_body(r, body, avail);
        r->framed_by_close = true;
        *used = len;
    }
    return 0;
}

/* ---- Raw connections ----------------------------------------------------------------- */

pth_conn_t *pth_conn_open_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    pth_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        int err = 0;
        socklen_t el = sizeof(err);
        rc = poll(&p, 1, PTH_IO_DEADLINE_MS);
        if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0)
            rc = 0;
        else
            errno = rc == 0 ? ETIMEDOUT : err;
    }
    if (rc != 0) {
        int e = errno;
        close(fd);
        ck_abort_msg("connect 127.0.0.1:%d: %s", port, strerror(e));
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    pth_conn_t *c = calloc(1, sizeof(*c));
    pth_assert(c != NULL);
    c->fd = fd;
    c->cap = 16384;
    c->buf = malloc(c->cap);
    pth_assert(c->buf != NULL);
    return c;
}

pth_conn_t *pth_conn_open(pth_t *h)
{
    return pth_conn_open_port(h->port);
}

void pth_conn_close(pth_conn_t *c)
{
    if (c == NULL)
        return;
    close(c->fd);
    free(c->buf);
    free(c);
}

int pth_conn_send(pth_conn_t *c, const void *data, size_t len)
{
    const char *p = data;
    int64_t end = pth_now_ms() + PTH_IO_DEADLINE_MS;
    while (len > 0) {
        ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            len -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        int left = (int)(end - pth_now_ms());
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pf = {c->fd, POLLOUT, 0};
        poll(&pf, 1, left);
    }
    return 0;
}

int pth_conn_sendf(pth_conn_t *c, const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    pth_assert(n >= 0);
    int rc = pth_conn_send(c, s, (size_t)n);
    free(s);
    return rc;
}

/* One read into the buffer, waiting at most until end. 1 data, 0 timeout, -1 EOF/error. */
static int fill(pth_conn_t *c, int64_t end)
{
    if (c->eof)
        return -1;
    if (c->len + 4096 > c->cap) {
        c->cap *= 2;
        c->buf = realloc(c->buf, c->cap);
        pth_assert(c->buf != NULL);
    }
    for (;;) {
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
        if (r > 0) {
            c->len += (size_t)r;
            c->buf[c->len] = '\0';
            return 1;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            c->eof = true;
            c->reset = r < 0 && errno == ECONNRESET;
            return -1;
        }
        int left = (int)(end - pth_now_ms());
        if (left <= 0)
            return 0;
        struct pollfd pf = {c->fd, POLLIN, 0};
        poll(&pf, 1, left);
    }
}

int pth_conn_read_response(pth_conn_t *c, pth_resp_t *r, bool head_only, int timeout_ms)
{
    int64_t end = pth_now_ms() + timeout_ms;
    for (;;) {
        size_t used;
        int rc = pth_parse_response(c->buf, c->len, head_only, c->eof, r, &used);
        if (rc == 0) {
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            return 0;
        }
        if (rc == -EINVAL)
            return rc;
        if (c->eof)
            return c->reset ? -ECONNRESET : -EPIPE;
        if (fill(c, end) == 0)
            return -ETIMEDOUT;
    }
}

bool pth_conn_wait_closed(pth_conn_t *c, int ms)
{
    int64_t end = pth_now_ms() + ms;
    while (!c->eof) {
        if (fill(c, end) == 0)
            return false;
    }
    return true;
}

void pth_conn_read_until(pth_conn_t *c, size_t max, int ms)
{
    int64_t end = pth_now_ms() + ms;
    while (!c->eof && c->len < max) {
        if (fill(c, end) == 0)
            return;
    }
}

size_t pth_conn_pending(const pth_conn_t *c)
{
    return c->len;
}

int pth_raw(pth_t *h, const void *req, size_t len, int ms, pth_resp_t *r, bool *closed)
{
    pth_conn_t *c = pth_conn_open(h);
    int64_t end = pth_now_ms() + ms;
    pth_conn_send(c, req, len); /* an early close by the server is an answer too */
    pth_conn_read_until(c, (size_t)-1, ms);
    *closed = c->eof;
    size_t used;
    int rc = pth_parse_response(c->buf, c->len, false, true, r, &used);
    if (rc == -EAGAIN)
        rc = pth_now_ms() >= end ? -ETIMEDOUT : c->reset ? -ECONNRESET : -EPIPE;
    if (rc == 0) {
        r->rest_len = c->len - used;
        r->rest = malloc(r->rest_len + 1);
        pth_assert(r->rest != NULL);
        memcpy(r->rest, c->buf + used, r->rest_len);
        r->rest[r->rest_len] = '\0';
    }
    pth_conn_close(c);
    return rc;
}

/* ---- libcurl ------------------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t n;
} growbuf_t;

static size_t on_body(char *data, size_t sz, size_t nm, void *ud)
{
    growbuf_t *g = ud;
    size_t n = sz * nm;
    char *np = realloc(g->p, g->n + n + 1);
    if (np == NULL)
        return 0;
    g->p = np;
    memcpy(g->p + g->n, data, n);
    g->n += n;
    g->p[g->n] = '\0';
    return n;
}

/* Header callback: a new status line (after 1xx) starts the header list over. */
static size_t on_header(char *data, size_t sz, size_t nm, void *ud)
{
    pth_resp_t *r = ud;
    size_t n = sz * nm;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        for (size_t i = 0; i < r->nheaders; i++) {
            free(r->headers[i].name);
            free(r->headers[i].value);
        }
        r->nheaders = 0;
        free(r->reason);
        const char *sp = memchr(data, ' ', n);
        const char *rs = sp ? memchr(sp + 1, ' ', n - (size_t)(sp + 1 - data)) : NULL;
        r->reason = rs ? dup_trim(rs + 1, n - (size_t)(rs + 1 - data)) : dup_trim("", 0);
        size_t l = r->reason ? strlen(r->reason) : 0;
        if (l && r->reason[l - 1] == '\n')
            r->reason[l - 1] = '\0';
        return n;
    }
    size_t l = n;
    while (l > 0 && (data[l - 1] == '\n' || data[l - 1] == '\r'))
        l--;
    if (l > 0)
        add_header(r, data, l);
    return n;
}

int pth_curl(pth_t *h, const char *method, const char *path, const char *const *headers,
             const void *body, size_t body_len, pth_resp_t *r)
{
    memset(r, 0, sizeof(*r));
    CURL *cu = curl_easy_init();
    pth_assert(cu != NULL);
    char url[4096];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", h->port, path);
    struct curl_slist *hl = NULL;
    for (; headers && *headers; headers++)
        hl = curl_slist_append(hl, *headers);
    growbuf_t g = {NULL, 0};
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT, (long)PTH_CURL_TIMEOUT_S);
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(cu, CURLOPT_HEADERDATA, r);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
    } else if (body != NULL) {
        curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode rc = curl_easy_perform(cu);
    long status = 0, ver = 0;
    curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(cu, CURLINFO_HTTP_VERSION, &ver);
    r->status = (int)status;
    r->version = ver == CURL_HTTP_VERSION_1_0 ? 10 : ver == CURL_HTTP_VERSION_1_1 ? 11 : 20;
    r->body = g.p ? g.p : strdup("");
    r->body_len = g.n;
    curl_slist_free_all(hl);
    curl_easy_cleanup(cu);
    return (int)rc;
}

void pth_get(pth_t *h, const char *path, const char *const *headers, pth_resp_t *r)
{
    int rc = pth_curl(h, "GET", path, headers, NULL, 0, r);
    pth_assert_msg(rc == 0, "GET %s: %s", path, curl_easy_strerror((CURLcode)rc));
}

void pth_assert_one_response(const pth_resp_t *r, const char *what)
{
    pth_assert_msg(r->rest_len == 0, "%s: %zu more bytes after the %d response (a second "
                   "response means a smuggled request was served): %.300s", what, r->rest_len,
                   r->status, r->rest ? r->rest : "");
}

const char *pth_basic_auth(char *out, size_t len, const char *cred)
{
    unsigned char b64[PTH_BASIC_AUTH_MAX];
    size_t n = strlen(cred);
    pth_assert_msg(4 * ((n + 2) / 3) < sizeof(b64), "credentials too long: %s", cred);
    EVP_EncodeBlock(b64, (const unsigned char *)cred, (int)n);
    int w = snprintf(out, len, "Authorization: Basic %s", b64);
    pth_assert_msg(w > 0 && (size_t)w < len, "no room for the Authorization of %s", cred);
    return out;
}
