/* The TLS suites' clients (tls_client.h): the PKI script, libcurl over HTTPS, s_client. */
#include "tls_client.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static char pki_dir[256];
static pid_t pki_owner;

static void pki_remove(void)
{
    if (getpid() != pki_owner || !pki_dir[0] || getenv("PORTICO_TEST_KEEP"))
        return;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", pki_dir);
}

const char *pth_tls_pki(void)
{
    if (pki_dir[0])
        return pki_dir;
    const char *src = getenv("PORTICO_SOURCE_DIR");
    snprintf(pki_dir, sizeof(pki_dir), "/tmp/portico-pki.XXXXXX");
    if (!src || !mkdtemp(pki_dir)) {
        fprintf(stderr, "pth_tls_pki: no PORTICO_SOURCE_DIR or no temp dir\n");
        exit(1);
    }
    pki_owner = getpid();
    atexit(pki_remove);
    /* Under ctest the "pki" fixture has made ca.sh's files once for the run: a copy costs
     * nothing, while ca.sh's seven RSA keys take 3 s, in each of some 40 suite processes.
     * The copy is private, since suites add files to it (pth_tls_issue). */
    const char *made = getenv("PORTICO_TEST_PKI");
    char ca[600], cmd[1024];
    snprintf(ca, sizeof(ca), "%s/ca.pem", made ? made : "");
    if (made && access(ca, R_OK) == 0)
        snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s'", made, pki_dir);
    else
        snprintf(cmd, sizeof(cmd), "sh '%s/tests/support/ca.sh' '%s'", src, pki_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "pth_tls_pki: %s failed (is openssl installed?)\n", cmd);
        exit(1);
    }
    return pki_dir;
}

const char *pth_tls_file(const char *name)
{
    static char ring[8][320];
    static int next;
    char *b = ring[next++ % 8];
    snprintf(b, sizeof(ring[0]), "%s/%s", pth_tls_pki(), name);
    return b;
}

static void *read_pem(const char *file, bool key)
{
    FILE *f = fopen(pth_tls_file(file), "r");
    pth_assert_msg(f != NULL, "cannot read %s", file);
    void *v = key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL)
                  : (void *)PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    pth_assert_msg(v != NULL, "no PEM in %s", file);
    return v;
}

static void add_dns_name(X509 *x, const pth_cert_spec_t *cs)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    pth_assert(gens && g && ia5);
    pth_assert(ASN1_STRING_set(ia5, cs->dns, (int)cs->dns_len) == 1);
    GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
    pth_assert(sk_GENERAL_NAME_push(gens, g) > 0);
    pth_assert(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1);
    GENERAL_NAMES_free(gens);
}

static void write_pems(const pth_cert_spec_t *cs, X509 *x, EVP_PKEY *key)
{
    char file[64];
    snprintf(file, sizeof(file), "%s.pem", cs->name);
    FILE *f = fopen(pth_tls_file(file), "w");
    pth_assert(f && PEM_write_X509(f, x) == 1);
    fclose(f);
    snprintf(file, sizeof(file), "%s.key", cs->name);
    f = fopen(pth_tls_file(file), "w");
    pth_assert(f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
    fclose(f);
}

void pth_tls_issue(const pth_cert_spec_t *cs)
{
    X509 *ca = read_pem("ca.pem", false);
    EVP_PKEY *ca_key = read_pem("ca.key", true);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    pth_assert(key && x);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)pth_now_ms());
    X509_gmtime_adj(X509_getm_notBefore(x), cs->from_s);
    X509_gmtime_adj(X509_getm_notAfter(x), cs->to_s);
    X509_NAME *nm = X509_get_subject_name(x);
    pth_assert(X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC,
                                          (const unsigned char *)"portico tests", -1, -1, 0));
    pth_assert(X509_NAME_add_entry_by_NID(nm, NID_commonName, MBSTRING_ASC,
                                          (const unsigned char *)cs->cn, (int)cs->cn_len, -1,
                                          0));
    X509_set_issuer_name(x, X509_get_subject_name(cs->self_signed ? x : ca));
    X509_set_pubkey(x, key);
    if (cs->dns)
        add_dns_name(x, cs);
    pth_assert(X509_sign(x, cs->self_signed ? key : ca_key, EVP_sha256()) > 0);
    write_pems(cs, x, key);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
}

typedef struct {
    char *p;
    size_t n, cap;
    FILE *f;
} sink_t;

static size_t on_body(char *data, size_t sz, size_t nm, void *ud)
{
    sink_t *s = ud;
    size_t n = sz * nm;
    if (s->f)
        return fwrite(data, 1, n, s->f);
    if (s->n + n + 1 > s->cap) { /* doubling: a 16 MiB body is not copied a thousand times */
        size_t cap = s->cap ? s->cap : 65536;
        while (cap < s->n + n + 1)
            cap *= 2;
        char *np = realloc(s->p, cap);
        if (!np)
            return 0;
        s->p = np;
        s->cap = cap;
    }
    memcpy(s->p + s->n, data, n);
    s->n += n;
    s->p[s->n] = '\0';
    return n;
}

static size_t on_header(char *data, size_t sz, size_t nm, void *ud)
{
    pth_resp_t *r = ud;
    size_t n = sz * nm, l = n;
    while (l > 0 && (data[l - 1] == '\n' || data[l - 1] == '\r'))
        l--;
    const char *colon = memchr(data, ':', l);
    if (strncmp(data, "HTTP/", 5) == 0) {
        for (size_t i = 0; i < r->nheaders; i++) {
            free(r->headers[i].name);
            free(r->headers[i].value);
        }
        r->nheaders = 0;
    } else if (colon && r->nheaders < PTH_MAX_HEADERS) {
        const char *v = colon + 1;
        while (v < data + l && *v == ' ')
            v++;
        r->headers[r->nheaders].name = strndup(data, (size_t)(colon - data));
        r->headers[r->nheaders].value = strndup(v, (size_t)(data + l - v));
        r->nheaders++;
    }
    return n;
}

static void set_tls_opts(CURL *cu, const pth_tls_req_t *q, struct curl_slist **res,
                         struct curl_slist **hdrs)
{
    if (q->host_header) {
        char hh[300];
        snprintf(hh, sizeof(hh), "Host: %s", q->host_header);
        *hdrs = curl_slist_append(*hdrs, hh);
    }
    if (q->header)
        *hdrs = curl_slist_append(*hdrs, q->header);
    if (*hdrs)
        curl_easy_setopt(cu, CURLOPT_HTTPHEADER, *hdrs);
    char url[512], rl[300];
    const char *host = q->host ? q->host : "127.0.0.1";
    snprintf(url, sizeof(url), "https://%s:%d%s", host, q->port, q->path ? q->path : "/");
    if (q->host) {
        snprintf(rl, sizeof(rl), "%s:%d:127.0.0.1", q->host, q->port);
        *res = curl_slist_append(NULL, rl);
        curl_easy_setopt(cu, CURLOPT_RESOLVE, *res);
    }
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_CAINFO, pth_tls_file("ca.pem"));
    /* Without SNI the certificate names a.test, not 127.0.0.1: trust the chain only. */
    curl_easy_setopt(cu, CURLOPT_SSL_VERIFYHOST, q->host ? 2L : 0L);
    if (q->cert) {
        curl_easy_setopt(cu, CURLOPT_SSLCERT, pth_tls_file(q->cert));
        curl_easy_setopt(cu, CURLOPT_SSLKEY, pth_tls_file(q->key));
    }
    if (q->tls12_only)
        curl_easy_setopt(cu, CURLOPT_SSLVERSION,
                         (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2));
    curl_easy_setopt(cu, CURLOPT_HTTP_VERSION,
                     q->http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
    if (q->max_recv_bytes_s)
        curl_easy_setopt(cu, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)q->max_recv_bytes_s);
}

int pth_tls_get(const pth_tls_req_t *q, pth_resp_t *r)
{
    memset(r, 0, sizeof(*r));
    CURL *cu = curl_easy_init();
    pth_assert(cu != NULL);
    struct curl_slist *res = NULL, *hdrs = NULL;
    sink_t s = {0};
    if (q->sink)
        pth_assert_msg((s.f = fopen(q->sink, "w")) != NULL, "cannot write %s", q->sink);
    set_tls_opts(cu, q, &res, &hdrs);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT, q->timeout_s ? q->timeout_s
                                          : q->max_recv_bytes_s ? 60L
                                                                : (long)PTH_CURL_TIMEOUT_S);
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(cu, CURLOPT_HEADERDATA, r);
    CURLcode rc = curl_easy_perform(cu);
    long status = 0, ver = 0;
    curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(cu, CURLINFO_HTTP_VERSION, &ver);
    r->status = (int)status;
    r->version = ver == CURL_HTTP_VERSION_2_0 ? 20 : 11;
    if (s.f) {
        fclose(s.f);
        r->body = strdup("");
    } else {
        r->body = s.p ? s.p : strdup("");
        r->body_len = s.n;
    }
    curl_slist_free_all(res);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(cu);
    return (int)rc;
}

static char *run_s_client(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    pth_assert_msg(p != NULL, "popen %s", cmd);
    char *out = NULL;
    size_t n = 0;
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof(buf), p)) > 0) {
        char *np = realloc(out, n + k + 1);
        pth_assert(np != NULL);
        out = np;
        memcpy(out + n, buf, k);
        n += k;
        out[n] = '\0';
    }
    pclose(p);
    return out ? out : strdup("");
}

char *pth_s_client(int port, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "timeout 20 openssl s_client -connect 127.0.0.1:%d %s </dev/null 2>&1", port,
             args);
    return run_s_client(cmd);
}

char *pth_s_client_get(int port, const char *host, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "printf 'GET / HTTP/1.1\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n' | "
             "timeout 20 openssl s_client -ign_eof -connect 127.0.0.1:%d %s 2>&1", host, port,
             args);
    return run_s_client(cmd);
}

const char *pth_tls_vhost_conf(int port)
{
    static char ring[4][1024];
    static int next;
    char *b = ring[next++ % 4];
    snprintf(b, sizeof(ring[0]),
             "Listen 127.0.0.1:%d https\n<VirtualHost *:%d>\nServerName a.test\nSSLEngine on\n"
             "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n</VirtualHost>\n",
             port, port, pth_tls_file("a.test.ec.pem"), pth_tls_file("a.test.ec.key"));
    return b;
}

/* ---- A raw TLS connection ---- */

void pth_tls_conn_open(pth_tls_conn_t *t, int port, const char *host)
{
    pth_tls_conn_open_alpn(t, port, host, NULL);
}

void pth_tls_conn_open_alpn(pth_tls_conn_t *t, int port, const char *host, const char *alpn)
{
    t->len = t->rest_len = 0;
    t->ctx = SSL_CTX_new(TLS_client_method());
    pth_assert(t->ctx != NULL);
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
    t->fd = socket(AF_INET, SOCK_STREAM, 0);
    pth_assert(t->fd >= 0);
    struct timeval tv = {.tv_sec = PTH_IO_DEADLINE_MS / 1000};
    setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    pth_assert_msg(connect(t->fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s",
                   strerror(errno));
    t->ssl = SSL_new(t->ctx);
    pth_assert(t->ssl != NULL);
    SSL_set_fd(t->ssl, t->fd);
    if (host)
        SSL_set_tlsext_host_name(t->ssl, host);
    size_t alen = alpn ? strlen(alpn) : 0;
    if (alpn) {
        unsigned char wire[64]; /* (the wire form: each name after its length) */
        pth_assert(alen > 0 && alen < sizeof(wire));
        wire[0] = (unsigned char)alen;
        memcpy(wire + 1, alpn, alen);
        pth_assert(SSL_set_alpn_protos(t->ssl, wire, (unsigned)alen + 1) == 0);
    }
    pth_assert_msg(SSL_connect(t->ssl) == 1, "TLS handshake failed");
    if (alpn) {
        const unsigned char *got = NULL;
        unsigned glen = 0;
        SSL_get0_alpn_selected(t->ssl, &got, &glen);
        pth_assert_msg(glen == alen && memcmp(got, alpn, alen) == 0,
                       "the server did not choose ALPN %s", alpn);
    }
}

void pth_tls_conn_close(pth_tls_conn_t *t)
{
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    close(t->fd);
}

void pth_tls_conn_send(pth_tls_conn_t *t, const void *data, size_t len)
{
    size_t put = 0;
    pth_assert_msg(SSL_write_ex(t->ssl, data, len, &put) == 1 && put == len, "TLS write");
}

void pth_tls_conn_key_update(pth_tls_conn_t *t)
{
    pth_assert(SSL_key_update(t->ssl, SSL_KEY_UPDATE_NOT_REQUESTED) == 1);
    pth_assert(SSL_do_handshake(t->ssl) == 1);
}

void pth_tls_conn_send_cut(pth_tls_conn_t *t, const void *data, size_t len, size_t cut)
{
    /* The record goes to memory (the write side swapped for a moment), then to the socket
     * in two pieces. */
    BIO *mem = BIO_new(BIO_s_mem());
    pth_assert(mem != NULL);
    BIO *sock = SSL_get_wbio(t->ssl);
    BIO_up_ref(sock);
    SSL_set0_wbio(t->ssl, mem);
    pth_tls_conn_send(t, data, len);
    char rec[sizeof(t->rest) + 64];
    int n = BIO_read(mem, rec, sizeof(rec));
    bool whole = BIO_pending(mem) == 0;
    SSL_set0_wbio(t->ssl, sock); /* frees mem */
    pth_assert_msg(n > 0 && (size_t)n > cut && (size_t)n - cut <= sizeof(t->rest) && whole,
                   "a record of %d bytes", n);
    pth_assert(send(t->fd, rec, cut, 0) == (ssize_t)cut);
    t->rest_len = (size_t)n - cut;
    memcpy(t->rest, rec + cut, t->rest_len);
}

void pth_tls_conn_send_rest(pth_tls_conn_t *t)
{
    pth_assert(send(t->fd, t->rest, t->rest_len, 0) == (ssize_t)t->rest_len);
    t->rest_len = 0;
}

void pth_tls_conn_read_response(pth_tls_conn_t *t, pth_resp_t *r)
{
    for (;;) {
        size_t used = 0;
        int rc = pth_parse_response(t->buf, t->len, false, false, r, &used);
        if (rc == 0) {
            memmove(t->buf, t->buf + used, t->len - used);
            t->len -= used;
            return;
        }
        pth_assert_msg(rc == -EAGAIN, "a malformed response");
        pth_assert(t->len < sizeof(t->buf));
        size_t got = 0;
        pth_assert_msg(SSL_read_ex(t->ssl, t->buf + t->len, sizeof(t->buf) - t->len, &got) == 1,
                       "no response in time");
        t->len += got;
    }
}

long pth_tls_conn_recv(pth_tls_conn_t *t, void *p, size_t n, int ms)
{
    /* The client reads no record ahead: what OpenSSL holds is decrypted (SSL_pending), and
     * with none, a record's first byte is waited for on the socket. */
    if (SSL_pending(t->ssl) == 0) {
        struct pollfd pf = {.fd = t->fd, .events = POLLIN};
        int r = poll(&pf, 1, ms > 0 ? ms : 0);
        if (r <= 0)
            return r == 0 || errno == EINTR ? -ETIMEDOUT : -errno;
    }
    ERR_clear_error();
    errno = 0;
    size_t got = 0;
    int r = SSL_read_ex(t->ssl, p, n, &got);
    if (r == 1)
        return (long)got;
    switch (SSL_get_error(t->ssl, r)) {
    case SSL_ERROR_ZERO_RETURN: /* close_notify */
        return 0;
    case SSL_ERROR_WANT_READ: /* (only a session ticket came, or SO_RCVTIMEO passed) */
        return -ETIMEDOUT;
    case SSL_ERROR_SYSCALL: /* a reset, or (OpenSSL 1.1) a FIN without close_notify */
        return errno == 0 ? 0 : -errno;
    case SSL_ERROR_SSL: /* OpenSSL 3: a FIN without close_notify is "unexpected" */
        return ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING ? 0 : -EIO;
    default:
        return -EIO;
    }
}

static int h2_send(void *io, const void *p, size_t n)
{
    pth_tls_conn_t *t = io;
    size_t put = 0;
    ERR_clear_error();
    return SSL_write_ex(t->ssl, p, n, &put) == 1 && put == n ? 0 : -EPIPE;
}

static long h2_recv(void *io, void *p, size_t n, int ms)
{
    return pth_tls_conn_recv(io, p, n, ms);
}

pth_h2_t *pth_tls_conn_h2(pth_tls_conn_t *t)
{
    pth_h2_io_t io = {.io = t, .send = h2_send, .recv = h2_recv};
    pth_h2_t *c = pth_h2_over(&io);
    pth_assert(c != NULL);
    return c;
}
