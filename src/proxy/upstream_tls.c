/* https:// upstreams (upstream_tls.h): client contexts per server, made in each child; the
 * client handshake with mod_ssl's peer checks; bounded-wait I/O over an SSL on a
 * non-blocking socket; and the load-time checks. */
#include "upstream_tls.h"

#include "balancer.h"
#include "clock.h"
#include "log.h"
#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pt_utls {
    pt_utls_server_t *servers; /* one per server with SSLProxyEngine On */
    size_t n;
};

/* ---- Contexts ---------------------------------------------------------------------------- */

static void ssl_reason(char *buf, size_t len, const char *what)
{
    unsigned long e = ERR_get_error();
    char detail[200] = "";
    if (e)
        ERR_error_string_n(e, detail, sizeof(detail));
    snprintf(buf, len, "%s%s%s", what, e ? ": " : "", detail);
    ERR_clear_error();
}

/* Protocols: SSLProxyProtocol, else TLS 1.2 and 1.3 (as the server side's default). */
static void set_versions(SSL_CTX *ctx, unsigned protocols)
{
    unsigned p = protocols ? protocols : (PT_TLS_V12 | PT_TLS_V13);
    SSL_CTX_set_min_proto_version(ctx, p & PT_TLS_V12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, p & PT_TLS_V13 ? TLS1_3_VERSION : TLS1_2_VERSION);
}

/* A client context from one server's SSLProxy* settings; NULL with err filled. */
static SSL_CTX *make_ctx(const pt_tls_conf_t *tc, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        ssl_reason(err, errlen, "cannot make an SSL client context");
        return NULL;
    }
    set_versions(ctx, tc->proxy_protocols);
    /* A backend that closes without close_notify ends the stream: HTTP framing, not TLS,
     * says whether the answer was whole (http_relay.c checks it). A backend may renegotiate
     * (TLS 1.2, secure renegotiation only), as mod_ssl's proxy side lets it, to ask for
     * the machine certificate per location: the read of its answer does that handshake. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
    bool ok = true;
    if (tc->proxy_ciphers12 && !SSL_CTX_set_cipher_list(ctx, tc->proxy_ciphers12))
        ok = false;
    if (ok && tc->proxy_ciphers13 && !SSL_CTX_set_ciphersuites(ctx, tc->proxy_ciphers13))
        ok = false;
    if (!ok) {
        ssl_reason(err, errlen, "SSLProxyCipherSuite: no usable cipher");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (tc->proxy_ca_file.path &&
        SSL_CTX_load_verify_locations(ctx, tc->proxy_ca_file.path, NULL) != 1) {
        char why[256];
        ssl_reason(why, sizeof(why), "cannot read");
        snprintf(err, errlen, "%s:%d: SSLProxyCACertificateFile '%s': %s",
                 tc->proxy_ca_file.file, tc->proxy_ca_file.line, tc->proxy_ca_file.path, why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* SSLProxyVerify none (mod_ssl's default): the chain is not checked; the name and the
     * dates still are (pt_utls_handshake), as mod_ssl does. */
    int verify = tc->proxy_verify;
    bool peer = verify == PT_TLS_VERIFY_REQUIRE || verify == PT_TLS_VERIFY_OPTIONAL;
    SSL_CTX_set_verify(ctx, peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    /* SSLProxyVerifyDepth: mod_ssl's default is 1 (a CA the server knows signed it). */
    SSL_CTX_set_verify_depth(ctx, tc->proxy_verify_depth >= 0 ? tc->proxy_verify_depth : 1);
    if (pt_utls_client_extras(ctx, tc, err, errlen) < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static bool proxy_on(const pt_vhost_t *vh)
{
    return vh && vh->tls && vh->tls->proxy_engine == 1;
}

static bool is_https(const pt_backend_t *b);

/* Does cfg name any https:// backend? (Members added by resolve= copy a configured one.) */
static bool any_https(const pt_config_t *cfg)
{
    for (size_t i = 0; i < cfg->nbackends; i++)
        if (is_https(cfg->backends[i]))
            return true;
    return false;
}

pt_utls_t *pt_utls_create(const pt_config_t *cfg, char *err, size_t errlen)
{
    pt_utls_t *t = calloc(1, sizeof(*t));
    if (t)
        t->servers = calloc(cfg->nvhosts + 1, sizeof(*t->servers));
    if (!t || !t->servers) {
        snprintf(err, errlen, "out of memory");
        free(t);
        return NULL;
    }
    /* No context (and no CA file read) for a configuration that proxies to no https://. */
    bool need = any_https(cfg);
    for (size_t i = 0; need && i <= cfg->nvhosts; i++) {
        const pt_vhost_t *vh = i == 0 ? cfg->main_server : cfg->vhosts[i - 1];
        if (!proxy_on(vh))
            continue;
        const pt_tls_conf_t *tc = vh->tls;
        SSL_CTX *ctx = make_ctx(tc, err, errlen);
        if (!ctx) {
            pt_utls_destroy(t);
            return NULL;
        }
        t->servers[t->n++] = (pt_utls_server_t){vh, ctx, tc->proxy_check_peer_name,
                                                tc->proxy_check_peer_cn,
                                                tc->proxy_check_peer_expire};
    }
    return t;
}

void pt_utls_destroy(pt_utls_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        SSL_CTX_free(t->servers[i].ctx);
    free(t->servers);
    free(t);
}

const pt_utls_server_t *pt_utls_for(const pt_utls_t *t, const pt_vhost_t *vh)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (t->servers[i].vh == vh)
            return &t->servers[i];
    return NULL;
}

/* ---- Bounded-wait I/O -------------------------------------------------------------------- */

/* After an SSL call returned rc <= 0: waits for what OpenSSL wants. 1 to try again, 0 at the
 * end of the stream, or a negative error. */
static int ssl_wait(SSL *ssl, int fd, int rc, int64_t timeout_ms)
{
    int e = SSL_get_error(ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        int w = pt_upstream_wait(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, timeout_ms);
        return w > 0 ? 1 : w == 0 ? PT_ETIMEOUT : w;
    }
    ERR_clear_error();
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    if (e == SSL_ERROR_SYSCALL && errno && errno != EAGAIN)
        return -errno;
    return -ECONNRESET;
}

int pt_utls_writev(SSL *ssl, int fd, struct iovec *iov, int n, int64_t timeout_ms)
{
    for (int i = 0; i < n; i++) {
        while (iov[i].iov_len > 0) {
            int len = (int)PT_MIN(iov[i].iov_len, (size_t)INT32_MAX);
            int w = SSL_write(ssl, iov[i].iov_base, len);
            if (w > 0) {
                iov[i].iov_base = (char *)iov[i].iov_base + w;
                iov[i].iov_len -= (size_t)w;
                continue;
            }
            int rc = ssl_wait(ssl, fd, w, timeout_ms);
            if (rc != 1)
                return rc == 0 ? -EPIPE : rc;
        }
    }
    return 0;
}

long pt_utls_read(SSL *ssl, int fd, void *buf, size_t len, int64_t timeout_ms,
                  bool wait_first)
{
    if (wait_first && SSL_pending(ssl) == 0) {
        int w = pt_upstream_wait(fd, POLLIN, timeout_ms);
        if (w <= 0)
            return w == 0 ? PT_ETIMEOUT : w;
    }
    for (;;) {
        int r = SSL_read(ssl, buf, (int)PT_MIN(len, (size_t)INT32_MAX));
        if (r > 0)
            return r;
        int rc = ssl_wait(ssl, fd, r, timeout_ms);
        if (rc != 1)
            return rc;
    }
}

bool pt_utls_alive(SSL *ssl, int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (SSL_pending(ssl) > 0)
        return false;
    if (poll(&pfd, 1, 0) == 0)
        return true;
    /* Readable: a late session ticket (TLS 1.3) is fine, a close_notify or data is not. */
    char c;
    int r = SSL_peek(ssl, &c, 1);
    bool alive = r <= 0 && SSL_get_error(ssl, r) == SSL_ERROR_WANT_READ;
    ERR_clear_error();
    return alive;
}

void pt_utls_free(SSL *ssl)
{
    if (!ssl)
        return;
    /* One try, no wait: the backend learns the close was meant, and a closed socket is no
     * error here. */
    if (SSL_is_init_finished(ssl))
        SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
}

/* ---- The handshake and mod_ssl's peer checks --------------------------------------------- */

/* The certificate's first CN as mod_ssl compares it for SSLProxyCheckPeerCN (its
 * SSL_CLIENT_S_DN_CN: control characters escaped), into buf; false when there is none or it
 * does not fit. Copied raw, "localhost\0.evil.example" would read as "localhost". */
static bool peer_cn(X509 *cert, char *buf, size_t len)
{
    const X509_NAME *nm = X509_get_subject_name(cert);
    int pos = X509_NAME_get_index_by_NID(nm, NID_commonName, -1);
    BIO *b = pos >= 0 ? BIO_new(BIO_s_mem()) : NULL;
    buf[0] = '\0';
    if (!b)
        return false;
    const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, pos));
    int n = ASN1_STRING_print_ex(b, v, ASN1_STRFLGS_ESC_CTRL | ASN1_STRFLGS_UTF8_CONVERT);
    bool fits = n >= 0 && (size_t)n < len && (n == 0 || BIO_read(b, buf, n) == n);
    buf[fits ? n : 0] = '\0';
    BIO_free(b);
    return fits;
}

/* What a finished handshake's peer certificate fails, or NULL when it passes. */
static const char *peer_problem(const pt_utls_server_t *s, SSL *ssl, const char *host,
                                char *why, size_t whylen)
{
    long vr = SSL_get_verify_result(ssl);
    if (SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE && vr != X509_V_OK) {
        snprintf(why, whylen, "certificate verification failed: %s",
                 X509_verify_cert_error_string(vr));
        return why;
    }
    if (s->check_name == 0 && s->check_cn == 0 && s->check_expire == 0)
        return NULL;
    X509 *cert = SSL_get0_peer_certificate(ssl);
    if (!cert)
        return "the peer sent no certificate";
    if (s->check_expire != 0 && (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0 ||
                                 X509_cmp_current_time(X509_get0_notBefore(cert)) > 0))
        return "the peer certificate is expired or not yet valid (SSLProxyCheckPeerExpire)";
    if (s->check_name != 0) {
        bool ok = X509_check_host(cert, host, 0, 0, NULL) == 1 ||
                  X509_check_ip_asc(cert, host, 0) == 1;
        if (!ok) {
            snprintf(why, whylen, "the peer certificate does not name '%s' "
                     "(SSLProxyCheckPeerName)", host);
            return why;
        }
    } else if (s->check_cn != 0) {
        char cn[256];
        if (!peer_cn(cert, cn, sizeof(cn)) || strcasecmp(cn, host) != 0) {
            snprintf(why, whylen, "the peer certificate's CN '%s' is not '%s' "
                     "(SSLProxyCheckPeerCN)", cn, host);
            return why;
        }
    }
    return NULL;
}

/* Why SSL_connect failed (r its result): the verification result when that is the cause. */
static void connect_failed(SSL *ssl, char *why, size_t whylen)
{
    long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK) {
        snprintf(why, whylen, "certificate verification failed: %s",
                 X509_verify_cert_error_string(vr));
        ERR_clear_error();
    } else {
        ssl_reason(why, whylen, "handshake failed");
    }
}

/* SSL ex_data: the host a client connection was made for (SNI and the name checked), its
 * own copy (OPENSSL_strdup), freed with the SSL. */
static int host_index = -1;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void free_host(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                      void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    OPENSSL_free(ptr);
}

static void host_index_init(void)
{
    host_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_host);
}

bool pt_utls_made_for(SSL *ssl, const pt_utls_server_t *s, const char *host)
{
    if (SSL_get_SSL_CTX(ssl) != s->ctx || host_index < 0)
        return false;
    const char *made = SSL_get_ex_data(ssl, host_index);
    return made && strcasecmp(made, host) == 0;
}

SSL *pt_utls_start(const pt_utls_server_t *s, int fd, const char *host, char *why,
                   size_t whylen)
{
    pthread_once(&host_once, host_index_init);
    SSL *ssl = SSL_new(s->ctx);
    char *made = OPENSSL_strdup(host);
    bool kept = ssl && made && host_index >= 0 && SSL_set_ex_data(ssl, host_index, made);
    if (!kept)
        OPENSSL_free(made); /* once kept, the SSL's: freed by SSL_free (free_host) */
    if (!kept || !SSL_set_fd(ssl, fd)) {
        ssl_reason(why, whylen, "cannot make an SSL connection");
        SSL_free(ssl);
        return NULL;
    }
    /* SNI is a host name, never an address literal (RFC 6066 section 3). */
    bool literal = strchr(host, ':') || strspn(host, "0123456789.") == strlen(host);
    if (!literal)
        SSL_set_tlsext_host_name(ssl, host);
    return ssl;
}

int pt_utls_connect_step(const pt_utls_server_t *s, SSL *ssl, const char *host,
                         short *events, char *why, size_t whylen)
{
    ERR_clear_error();
    int r = SSL_connect(ssl);
    if (r == 1) {
        const char *bad = peer_problem(s, ssl, host, why, whylen);
        if (bad && bad != why)
            snprintf(why, whylen, "%s", bad);
        return bad ? -1 : 1;
    }
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        *events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return 0;
    }
    connect_failed(ssl, why, whylen);
    return -1;
}

int pt_utls_handshake(const pt_utls_server_t *s, int fd, const char *host,
                      int64_t timeout_ms, SSL **out, char *why, size_t whylen)
{
    *out = NULL;
    SSL *ssl = pt_utls_start(s, fd, host, why, whylen);
    if (!ssl)
        return -1;
    int64_t deadline = pt_now_ms() + timeout_ms;
    for (;;) {
        short ev = 0;
        int rc = pt_utls_connect_step(s, ssl, host, &ev, why, whylen);
        if (rc == 1)
            break;
        int64_t left = deadline - pt_now_ms();
        int w = rc == 0 && left > 0 ? pt_upstream_wait(fd, ev, left) : rc;
        if (w <= 0) {
            if (rc == 0)
                snprintf(why, whylen, "handshake %s", w == 0 ? "timed out" : strerror(-w));
            SSL_free(ssl);
            return -1;
        }
    }
    *out = ssl;
    return 0;
}

/* ---- Load-time checks -------------------------------------------------------------------- */

static bool is_https(const pt_backend_t *b)
{
    if (!b)
        return false;
    if (b->scheme && strcasecmp(b->scheme, "https") == 0)
        return true;
    const pt_balancer_t *bal = b->balancer;
    if (bal && b->member_index < 0)
        for (size_t i = 0; i < bal->nmembers; i++)
            if (is_https(bal->members[i]))
                return true;
    return false;
}

static int finish_https(dcx_t *l)
{
    pt_config_t *cfg = l->cfg;
    for (size_t i = 0; i <= cfg->nvhosts; i++) {
        const pt_vhost_t *vh = i == 0 ? cfg->main_server : cfg->vhosts[i - 1];
        for (size_t k = 0; k < vh->nproxy_passes && !proxy_on(vh); k++) {
            const pt_proxy_pass_t *pp = &vh->proxy_passes[k];
            if (is_https(pp->backend))
                return pt_dcx_fail(l, NULL, "%s:%d: AH00961: SSL Proxy requested for %s but "
                                   "not enabled [Hint: SSLProxyEngine On in this server]",
                                   pp->file, pp->line, pp->backend->url + 6);
        }
    }
    /* Each client context must build (a CA file that cannot be read is a config error). */
    pt_utls_t *t = pt_utls_create(cfg, l->err, l->errlen);
    if (!t)
        return -1;
    pt_utls_destroy(t);
    return 0;
}

const pt_conf_ext_t pt_https_conf = {
    .name = "proxy_https",
    .finish = finish_https,
};
