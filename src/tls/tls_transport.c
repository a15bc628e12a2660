/* The TLS transport: one OpenSSL SSL per connection over its non-blocking socket. The
 * handshake is advanced a step at a time by whoever serves the connection (the caller parks
 * it while the peer is silent, so a slow handshake holds no worker under event); after it,
 * recv/writev are SSL_read/SSL_write with OpenSSL's "want read/write" mapped to PT_EAGAIN
 * and tp_want. With kernel TLS for sending, files go out by SSL_sendfile; without it the
 * transport has no sendfile and conn.c reads and writes the file in slices. */
#include "clock.h"
#include "log.h"
#include "tls.h"
#include "tls_bio.h"
#include "tls_ctx.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

/* Bytes gathered from an iovec into one SSL_write: a TLS record's worth, so a response
 * head and the start of its body leave in one record. */
#define PT_TLS_COALESCE 16384

/* Record buffers between requests. The context's SSL_MODE_RELEASE_BUFFERS frees OpenSSL's
 * two (some 17 KiB each) whenever they are empty, so that an idle connection holds neither;
 * but a busy keep-alive connection then frees and allocates both for every request (1,200
 * instructions, 4% of a 1 KiB response over TLS 1.3). A connection that goes idle again
 * within PT_TLS_WARM_GAP_MS turns the mode off and keeps them, until it goes idle after a
 * longer pause or closes. At most PT_TLS_WARM_MAX connections of a child are warm at once,
 * so what idle connections can hold has a bound (some 9 MiB) whatever their number. */
#define PT_TLS_WARM_GAP_MS 1000
#define PT_TLS_WARM_MAX 256

/* The child's warm connections: a count, shared by its workers (no connection's state). */
static atomic_int warm_conns;

static pt_tls_state_t *st_of(const pt_conn_t *c)
{
    return c->tp_state;
}

static void warm_end(pt_tls_state_t *st)
{
    if (!st->warm)
        return;
    st->warm = false;
    atomic_fetch_sub_explicit(&warm_conns, 1, memory_order_relaxed);
    SSL_set_mode(st->ssl, SSL_MODE_RELEASE_BUFFERS);
}

/* What the writer holds (the tickets) goes now; a full socket keeps the rest for the next
 * read or write. */
static void tls_flush(pt_conn_t *c)
{
    (void)pt_tls_held_flush(c, st_of(c));
}

static void tls_idle(pt_conn_t *c)
{
    pt_tls_state_t *st = st_of(c);
    if (!st->done || st->plain || st->failed)
        return;
    tls_flush(c);
    /* When the answer ended, if the connection goes idle straight after it: no clock read. */
    int64_t now = c->idle_from_ms > 0 ? c->idle_from_ms : pt_now_ms();
    bool quick = st->idle_ms > 0 && now - st->idle_ms < PT_TLS_WARM_GAP_MS;
    st->idle_ms = now;
    if (quick && !st->warm) {
        if (atomic_fetch_add_explicit(&warm_conns, 1, memory_order_relaxed) < PT_TLS_WARM_MAX) {
            st->warm = true;
            SSL_clear_mode(st->ssl, SSL_MODE_RELEASE_BUFFERS);
        } else {
            atomic_fetch_sub_explicit(&warm_conns, 1, memory_order_relaxed);
        }
    } else if (!quick && st->warm) {
        warm_end(st);
        (void)SSL_free_buffers(st->ssl); /* refused while bytes wait in them: kept then */
    }
}

/* What an SSL call's failure means for a transport: PT_EAGAIN with what to wait for, 0 at
 * the peer's close_notify or EOF, or PT_ECLOSED. */
static long ssl_result(pt_conn_t *c, int r)
{
    pt_tls_state_t *st = st_of(c);
    int e = SSL_get_error(st->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        c->tp_want = POLLIN;
        return PT_EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        c->tp_want = POLLOUT;
        return PT_EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        st->failed = true;
        return errno == EPIPE || errno == ECONNRESET || errno == 0 ? PT_ECLOSED : -errno;
    default:
        st->failed = true;
        return PT_ECLOSED;
    }
}

/* Before an SSL call whose failure SSL_get_error reads: the thread's error queue must be
 * empty, which is what SSL_get_error itself asks of it (ERR_peek_error). Looked at first:
 * ERR_clear_error on an empty queue costs some 800 instructions (twice a request for
 * HTTP/1 over TLS). */
static void clear_errors(void)
{
    if (ERR_peek_error() != 0)
        ERR_clear_error();
}

/* After an SSL read or write that failed: SSL_get_error reads the thread's error queue,
 * which must hold nothing older than the call it explains. Looking before every call
 * (clear_errors) costs some 200 instructions, twice a request; looking only after a
 * failure costs nothing when the call works, as it nearly always does. True when the queue
 * held something, now cleared: it may have been older than the call, so the caller makes
 * the call once more (the same arguments, as OpenSSL asks of a retry), and that one's
 * failure is its own. A connection that failed for good fails again (OpenSSL keeps it
 * failed); one that would block says so again. */
static bool errors_before_retry(void)
{
    if (ERR_peek_error() == 0)
        return false;
    ERR_clear_error();
    return true;
}

static long raw_recv(pt_conn_t *c, void *buf, size_t n)
{
    ssize_t r;
    do
        r = recv(c->fd, buf, n, MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r >= 0)
        return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c->tp_want = POLLIN;
        return PT_EAGAIN;
    }
    return -errno;
}

static long tls_recv(pt_conn_t *c, void *buf, size_t n)
{
    pt_tls_state_t *st = st_of(c);
    if (st->plain || !st->done)
        return st->plain ? raw_recv(c, buf, n) : PT_ECLOSED;
    size_t got = 0;
    int r = SSL_read_ex(st->ssl, buf, n, &got);
    if (r != 1 && errors_before_retry())
        r = SSL_read_ex(st->ssl, buf, n, &got);
    long rc = r == 1 ? (long)got : ssl_result(c, r);
    st->starved = rc == PT_EAGAIN && c->tp_want == POLLIN;
    if (st->starved && st->held_len > 0) { /* the client is waited for: its tickets first */
        long f = pt_tls_held_flush(c, st);
        if (f != 0)
            return f;
    }
    return rc;
}

static long tls_writev(pt_conn_t *c, const struct iovec *iov, int iovcnt, bool more)
{
    (void)more;
    pt_tls_state_t *st = st_of(c);
    if (!st->done)
        return PT_ECLOSED;
    char buf[PT_TLS_COALESCE];
    const void *p = iov[0].iov_base;
    size_t len = iov[0].iov_len;
    /* A small first piece (a response head) is gathered with what follows; a large one is
     * written as it is. A retry after PT_EAGAIN comes with the same iovec, so it gathers
     * the same bytes, as SSL_write requires. */
    if (iovcnt > 1 && len < PT_TLS_COALESCE) {
        len = 0;
        for (int i = 0; i < iovcnt && len < sizeof(buf); i++) {
            size_t k = PT_MIN(iov[i].iov_len, sizeof(buf) - len);
            memcpy(buf + len, iov[i].iov_base, k);
            len += k;
        }
        p = buf;
    }
    if (len == 0)
        return 0;
    size_t put = 0;
    int r = SSL_write_ex(st->ssl, p, len, &put);
    if (r != 1 && errors_before_retry())
        r = SSL_write_ex(st->ssl, p, len, &put);
    if (r == 1)
        return (long)put;
    long rc = ssl_result(c, r);
    return rc == 0 ? PT_ECLOSED : rc;
}

/* Kernel TLS only: the kernel encrypts what sendfile sends. */
static long tls_sendfile(pt_conn_t *c, int fd, off_t *off, size_t n)
{
    pt_tls_state_t *st = st_of(c);
    clear_errors();
    ossl_ssize_t r = SSL_sendfile(st->ssl, fd, *off, n, 0);
    if (r > 0) {
        *off += r;
        return (long)r;
    }
    if (r == 0)
        return 0;
    long rc = ssl_result(c, (int)r);
    return rc == 0 ? PT_ECLOSED : rc;
}

static size_t tls_pending(const pt_conn_t *c)
{
    const pt_tls_state_t *st = st_of(c);
    if (!st->done || st->plain)
        return 0;
    /* Has pending: decrypted bytes not yet taken, or bytes read ahead, asked first, since
     * at a park there is usually neither. Those bytes may be a record's first part only:
     * after a read that wanted the socket they are (starved), and another read would
     * want it again at once, and again (a busy loop until the client sends the rest). */
    if (st->starved || !SSL_has_pending(st->ssl))
        return 0;
    int n = SSL_pending(st->ssl);
    return n > 0 ? (size_t)n : 1;
}

/* close_notify (best effort: a full socket drops it), then the TCP FIN. */
static int tls_shutdown_write(pt_conn_t *c)
{
    pt_tls_state_t *st = st_of(c);
    if (st->done && !st->failed && !st->plain) {
        ERR_clear_error();
        (void)pt_tls_held_flush(c, st);
        (void)SSL_shutdown(st->ssl);
    }
    return shutdown(c->fd, SHUT_WR) == 0 ? 0 : -errno;
}

static void tls_close(pt_conn_t *c)
{
    pt_tls_state_t *st = st_of(c);
    if (st) {
        warm_end(st);
        /* A connection closed at a timeout without close_notify keeps its session
         * resumable (OpenSSL drops a session whose connection was not shut down). */
        if (st->done && !st->failed && !st->plain) {
            (void)pt_tls_held_flush(c, st);
            SSL_set_quiet_shutdown(st->ssl, 1);
            SSL_shutdown(st->ssl);
        }
        pt_tls_held_drop(st);
        SSL_free(st->ssl);
        free(st);
        c->tp_state = NULL;
    }
    ERR_clear_error();
    close(c->fd);
    c->fd = -1;
}

static void tls_watch_records(pt_conn_t *c, bool on);

const pt_transport_t pt_transport_tls = {
    .name = "tls",
    .recv = tls_recv,
    .writev = tls_writev,
    .sendfile = NULL,
    .pending = tls_pending,
    .idle = tls_idle,
    .watch_records = tls_watch_records,
    .flush = tls_flush,
    .shutdown_write = tls_shutdown_write,
    .close = tls_close,
};

/* The same with kernel TLS sending: the connection switches to it after the handshake. */
static const pt_transport_t transport_ktls = {
    .name = "tls",
    .recv = tls_recv,
    .writev = tls_writev,
    .sendfile = tls_sendfile,
    .pending = tls_pending,
    .idle = tls_idle,
    .watch_records = tls_watch_records,
    .flush = tls_flush,
    .shutdown_write = tls_shutdown_write,
    .close = tls_close,
};

bool pt_tls_active(const pt_conn_t *c)
{
    return c->tp == &pt_transport_tls || c->tp == &transport_ktls;
}

/* ---- The handshake ------------------------------------------------------------------- */

/* Bytes that arrived before the handshake began (what followed a PROXY header in the same
 * read: the ClientHello's start) become the session's first input: a memory BIO as the
 * read side, swapped for the socket once OpenSSL has drained it (swap_prefix). */
static int take_prefix(pt_conn_t *c, pt_tls_state_t *st)
{
    BIO *m = BIO_new(BIO_s_mem());
    if (!m || BIO_write(m, c->rbuf + c->rpos, (int)(c->rlen - c->rpos)) <= 0) {
        BIO_free(m);
        pt_log_error(PT_LOG_ERR, c->peer_ip, "TLS: cannot start a session (out of memory)");
        return -ENOMEM;
    }
    BIO_set_mem_eof_return(m, -1); /* drained: "retry", not end of stream */
    SSL_set0_rbio(st->ssl, m);     /* (the write side stays as it is) */
    st->prefix = m;
    c->rpos = c->rlen = 0;
    return 0;
}

/* The prefix drained: the socket is the read side from here. True when it swapped. */
static bool swap_prefix(pt_conn_t *c, pt_tls_state_t *st)
{
    if (!st->prefix || BIO_ctrl_pending(st->prefix) > 0)
        return false;
    BIO *sock = pt_tls_bio_reader(c);
    if (!sock)
        return false;
    SSL_set0_rbio(st->ssl, sock); /* frees the memory BIO */
    st->prefix = NULL;
    return true;
}

/* OpenSSL's record trace (read side): every record's header, and in TLS 1.3 its inner
 * type, comes here. Counted (tp_records); a type other than application data marks the
 * connection (tp_other). */
static void note_record(int write_p, int version, int type, const void *buf, size_t len, SSL *ssl,
                        void *arg)
{
    (void)version;
    (void)ssl;
    if (write_p)
        return;
    if (type == SSL3_RT_HEADER)
        ((pt_conn_t *)arg)->tp_records++;
    const unsigned char *b = buf;
    bool data = (type == SSL3_RT_HEADER || type == SSL3_RT_INNER_CONTENT_TYPE) && len > 0 &&
                b[0] == SSL3_RT_APPLICATION_DATA;
    if (!data)
        ((pt_conn_t *)arg)->tp_other = true;
}

static void tls_watch_records(pt_conn_t *c, bool on)
{
    SSL_set_msg_callback(st_of(c)->ssl, on ? note_record : NULL);
}

int pt_tls_start(pt_conn_t *c)
{
    const pt_vhost_t *vh = NULL;
    SSL_CTX *ctx = pt_tls_ctx_for_local(c->cfg, &c->local.sa, &vh);
    pt_tls_state_t *st = ctx ? calloc(1, sizeof(*st)) : NULL;
    SSL *ssl = st ? SSL_new(ctx) : NULL;
    BIO *rd = ssl ? pt_tls_bio_reader(c) : NULL;
    if (!rd || SSL_set_fd(ssl, c->fd) != 1) {
        BIO_free(rd);
        pt_log_error(PT_LOG_ERR, c->peer_ip, "TLS: cannot start a session (%s)",
                     ctx ? "out of memory" : "no certificate for this address");
        SSL_free(ssl);
        free(st);
        ERR_clear_error();
        return -ENOMEM;
    }
    /* The socket BIO SSL_set_fd made stays the write side where kernel TLS may take the
     * keys (it looks there); otherwise the writer takes its place now. */
    SSL_set0_rbio(ssl, rd);
    if (!(SSL_get_options(ssl) & SSL_OP_ENABLE_KTLS)) {
        BIO *w = pt_tls_bio_writer(c);
        if (w) {
            SSL_set0_wbio(ssl, w); /* frees the socket BIO (it does not close the fd) */
            st->own_writer = true;
        }
    }
    SSL_set_accept_state(ssl);
    SSL_set_ex_data(ssl, pt_tls_conn_index(), c);
    SSL_set_msg_callback_arg(ssl, c); /* (note_record, while watched) */
    st->ssl = ssl;
    st->vh = vh;
    c->tp_state = st;
    c->tp = &pt_transport_tls;
    if (c->rpos < c->rlen)
        return take_prefix(c, st);
    return 0;
}

/* Apache's answer (mod_ssl's ssl_io_filter_error) to plain HTTP on a TLS port. */
static const char plain_answer[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
    "Connection: close\r\nContent-Length: 362\r\n\r\n"
    "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n"
    "<title>400 Bad Request</title>\n</head><body>\n<h1>Bad Request</h1>\n"
    "<p>Your browser sent a request that this server could not understand.<br />\n"
    "Reason: You're speaking plain HTTP to an SSL-enabled server port.<br />\n"
    " Instead use the HTTPS scheme to access this URL, please.<br />\n</p>\n"
    "</body></html>\n";

/* A TLS client's first byte is a handshake record (22); an HTTP method starts with a
 * capital letter. Peeked, so that OpenSSL still reads the record. 1: plain HTTP (answered),
 * 0: TLS, or PT_EAGAIN / an error. */
static int plain_http(pt_conn_t *c)
{
    unsigned char b;
    ssize_t r;
    do
        r = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return PT_ECLOSED;
    if (r < 0) {
        c->tp_want = POLLIN;
        return errno == EAGAIN || errno == EWOULDBLOCK ? PT_EAGAIN : -errno;
    }
    if (b < 'A' || b > 'Z')
        return 0;
    pt_tls_state_t *st = st_of(c);
    st->plain = true;
    pt_log_error(PT_LOG_INFO, c->peer_ip, "TLS handshake failed: plain HTTP spoken on a TLS "
                 "port (local port %d): 400 sent in plaintext", c->local_port);
    (void)send(c->fd, plain_answer, sizeof(plain_answer) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    return 1;
}

static void log_handshake_failure(pt_conn_t *c)
{
    char why[256] = "the peer closed the connection";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, why, sizeof(why));
    long vr = SSL_get_verify_result(st_of(c)->ssl);
    if (vr != X509_V_OK)
        pt_log_error(PT_LOG_INFO, c->peer_ip, "TLS handshake failed: client certificate: %s",
                     X509_verify_cert_error_string(vr));
    else
        pt_log_error(PT_LOG_INFO, c->peer_ip, "TLS handshake failed: %s", why);
    ERR_clear_error();
}

/* After the handshake: kernel TLS for sending when the kernel took the keys. */
static void handshake_done(pt_conn_t *c)
{
    pt_tls_state_t *st = st_of(c);
    st->done = true;
    if (!st->own_writer && BIO_get_ktls_send(SSL_get_wbio(st->ssl))) {
        c->tp = &transport_ktls;
    } else if (!st->own_writer) {
        BIO *w = pt_tls_bio_writer(c);
        if (w)
            SSL_set0_wbio(st->ssl, w); /* frees the socket BIO (it does not close the fd) */
    }
    pt_log_error(PT_LOG_DEBUG, c->peer_ip, "TLS: %s %s, %s", SSL_get_version(st->ssl),
                 SSL_get_cipher_name(st->ssl),
                 c->tp == &transport_ktls ? "kernel TLS for sending (sendfile)"
                                          : "no kernel TLS (files by read and write)");
}

int pt_tls_handshake(pt_conn_t *c)
{
    pt_tls_state_t *st = st_of(c);
    if (st->done)
        return 1;
    if (st->plain)
        return PT_TLS_PLAINTEXT;
    if (SSL_in_before(st->ssl) && !st->prefix) {
        int p = plain_http(c);
        if (p != 0)
            return p == 1 ? PT_TLS_PLAINTEXT : p;
    }
    ERR_clear_error();
    int r = SSL_do_handshake(st->ssl);
    if (r == 1 && st->prefix && !swap_prefix(c, st)) {
        st->failed = true; /* more than a ClientHello before our answer: not a TLS client */
        pt_log_error(PT_LOG_INFO, c->peer_ip, "TLS handshake failed: data before the "
                     "handshake finished");
        return PT_ECLOSED;
    }
    if (r == 1) {
        handshake_done(c);
        return 1;
    }
    long rc = ssl_result(c, r);
    if (rc == PT_EAGAIN && c->tp_want == POLLIN && swap_prefix(c, st))
        return pt_tls_handshake(c); /* the rest of the ClientHello is the socket's */
    if (rc == PT_EAGAIN)
        return PT_EAGAIN;
    /* A failure as the tickets were written (the ticket key callback's) left the tickets
     * made so far and the alert with the writer: they go, as OpenSSL would have sent them. */
    (void)pt_tls_held_flush(c, st);
    st->failed = true;
    log_handshake_failure(c);
    return PT_ECLOSED;
}

/* ---- What the layers above read ----------------------------------------------------- */

const char *pt_tls_alpn(const pt_conn_t *c)
{
    if (!pt_tls_active(c) || !st_of(c)->done)
        return NULL;
    const unsigned char *p = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(st_of(c)->ssl, &p, &n);
    if (!p || !n)
        return NULL;
    return pt_tls_alpn_intern(p, n); /* one of the static names offered */
}

const pt_vhost_t *pt_tls_sni_vhost(const pt_conn_t *c)
{
    return pt_tls_active(c) && st_of(c)->done ? st_of(c)->vh : NULL;
}

const char *pt_tls_sni_name(const pt_conn_t *c)
{
    if (!pt_tls_active(c) || !st_of(c)->done)
        return NULL;
    return SSL_get_servername(st_of(c)->ssl, TLSEXT_NAMETYPE_host_name);
}

static bool same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool same_path(pt_tls_path_t a, pt_tls_path_t b)
{
    return same_str(a.path, b.path);
}

/* What a client certificate was checked against (SSLVHostSNIPolicy authonly). */
static bool same_auth_terms(const pt_tls_conf_t *a, const pt_tls_conf_t *b)
{
    int va = a->verify_client < 0 ? 0 : a->verify_client;
    int vb = b->verify_client < 0 ? 0 : b->verify_client;
    return va == vb && a->verify_depth == b->verify_depth &&
           same_path(a->ca_file, b->ca_file) && same_path(a->ca_path, b->ca_path) &&
           same_path(a->crl_file, b->crl_file) && same_path(a->crl_path, b->crl_path) &&
           a->crl_check == b->crl_check && same_path(a->cadn_file, b->cadn_file) &&
           same_path(a->cadn_path, b->cadn_path);
}

/* ... and versions and suites (secure, the default). */
static bool same_secure_terms(const pt_tls_conf_t *a, const pt_tls_conf_t *b)
{
    return same_auth_terms(a, b) && a->protocols == b->protocols &&
           same_str(a->ciphers12, b->ciphers12) && same_str(a->ciphers13, b->ciphers13) &&
           a->honor_order == b->honor_order;
}

/* ... and the rest of what the handshake was made with (strict): certificates, the
 * OpenSSL commands, tickets. */
static bool same_all_terms(const pt_tls_conf_t *a, const pt_tls_conf_t *b)
{
    if (!same_secure_terms(a, b) || a->ncerts != b->ncerts || a->nkeys != b->nkeys ||
        a->ncmds != b->ncmds || a->tickets != b->tickets || !same_path(a->chain, b->chain))
        return false;
    for (size_t i = 0; i < a->ncerts; i++)
        if (!same_path(a->certs[i], b->certs[i]))
            return false;
    for (size_t i = 0; i < a->nkeys; i++)
        if (!same_path(a->keys[i], b->keys[i]))
            return false;
    for (size_t i = 0; i < a->ncmds; i++)
        if (!same_str(a->cmds[i].name, b->cmds[i].name) ||
            !same_str(a->cmds[i].value, b->cmds[i].value))
            return false;
    return true;
}

/* Do two servers' TLS settings make the same promises, as far as SSLVHostSNIPolicy asks?
 * What a handshake checked for one must hold for the other. */
static bool same_tls_terms(const pt_tls_conf_t *a, const pt_tls_conf_t *b, int policy)
{
    if (a == b || policy == PT_TLS_SNI_INSECURE)
        return true;
    if (!a || !b)
        return false;
    switch (policy) {
    case PT_TLS_SNI_STRICT: return same_all_terms(a, b);
    case PT_TLS_SNI_AUTHONLY: return same_auth_terms(a, b);
    default: return same_secure_terms(a, b);
    }
}

bool pt_tls_sni_missing_strict(const pt_conn_t *c, const pt_vhost_t *vh)
{
    /* No server says SSLStrictSNIVHostCheck On (the usual config): no server of the
     * handshake to look up per request. */
    if (!c->cfg || !c->cfg->strict_sni)
        return false;
    if (!pt_tls_active(c) || !st_of(c)->done || pt_tls_sni_name(c))
        return false;
    const pt_vhost_t *hs = st_of(c)->vh;
    if (!hs) /* no switch: the address's default made the handshake */
        hs = pt_config_vhost_for(c->cfg, &c->local.sa, NULL);
    bool strict = (vh->tls && vh->tls->strict_sni > 0) || (hs && hs->tls && hs->tls->strict_sni > 0);
    return strict && pt_config_addr_name_based(c->cfg, &c->local.sa);
}

bool pt_tls_vhost_ok(const pt_conn_t *c, const pt_vhost_t *vh)
{
    if (!pt_tls_active(c) || !st_of(c)->done)
        return true;
    const pt_vhost_t *hs = st_of(c)->vh;
    if (!hs || hs == vh)
        return true;
    const pt_tls_conf_t *m = c->cfg ? c->cfg->main_server->tls : NULL;
    int policy = m && m->sni_policy > 0 ? m->sni_policy : PT_TLS_SNI_SECURE;
    return same_tls_terms(hs->tls, vh->tls, policy);
}
