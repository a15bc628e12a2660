/* RemoteIPProxyProtocol on a TLS port (a layer-4 balancer in front of portico as the TLS
 * terminator, as a cloud or Kubernetes load balancer sends it): the PROXY header comes
 * first, then the TLS handshake. A balancer writes the header and the client's first bytes
 * as they come, so the ClientHello often arrives in the same read as the header: here it is
 * sent in the same write, every time, so that the server must hand what it read past the
 * header to TLS (the bug this guards: those bytes were lost and the handshake hung). */
#include "harness.h"
#include "tls_client.h"

#include <check.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    pth_write_dir_file(h, "a/index.html", "site a", 6);
    pth_config_raw(h,
        "MPM %s\nListen 127.0.0.1:@PORT@ https\nServerName localhost\n"
        "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
        "LogFormat \"%%a %%{c}a \\\"%%r\\\" %%s\" pp\nCustomLog @DIR@/access.log pp\n"
        "RequestReadTimeout header=5\nRemoteIPProxyProtocol On\n"
        "<Directory @DIR@>\nRequire all granted\n</Directory>\n"
        "<VirtualHost *:@PORT@>\nServerName a.test\nDocumentRoot @DIR@/a\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n</VirtualHost>\n",
        pth_mpm(), pth_tls_file("a.test.rsa.pem"), pth_tls_file("a.test.rsa.key"));
    pth_start(h);
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

/* Drives the client's handshake through memory BIOs until its first flight (the
 * ClientHello) is out, and returns those bytes (malloc'd, *n). */
static unsigned char *client_hello(SSL *ssl, BIO *out, size_t *n)
{
    ck_assert_int_le(SSL_do_handshake(ssl), 0);
    ck_assert_int_eq(SSL_get_error(ssl, -1), SSL_ERROR_WANT_READ);
    char *p;
    long len = BIO_get_mem_data(out, &p);
    ck_assert_int_gt(len, 0);
    unsigned char *copy = malloc((size_t)len);
    memcpy(copy, p, (size_t)len);
    *n = (size_t)len;
    (void)BIO_reset(out);
    return copy;
}

/* The rest of the exchange on the socket: handshake, GET /, and the whole answer. */
static char *finish_on_socket(SSL *ssl, int fd)
{
    /* The harness's sockets are non-blocking: this client blocks, bounded by a timeout. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    BIO *sock = BIO_new_socket(fd, BIO_NOCLOSE);
    SSL_set_bio(ssl, sock, sock);
    ck_assert_msg(SSL_do_handshake(ssl) == 1, "handshake after the PROXY header failed");
    const char req[] = "GET /index.html HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(SSL_write(ssl, req, (int)sizeof(req) - 1), (int)sizeof(req) - 1);
    static char resp[4096];
    size_t got = 0;
    int r;
    while (got < sizeof(resp) - 1 && (r = SSL_read(ssl, resp + got, (int)(sizeof(resp) - 1 - got))) > 0)
        got += (size_t)r;
    resp[got] = '\0';
    return resp;
}

START_TEST(a_clienthello_in_the_same_packet_as_the_proxy_header_is_not_lost)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    ck_assert_int_eq(SSL_CTX_load_verify_locations(ctx, pth_tls_file("ca.pem"), NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL *ssl = SSL_new(ctx);
    SSL_set_tlsext_host_name(ssl, "a.test");
    SSL_set1_host(ssl, "a.test");
    BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, in, out);
    SSL_set_connect_state(ssl);
    size_t hello_len;
    unsigned char *hello = client_hello(ssl, out, &hello_len);

    static const char hdr[] = "PROXY TCP4 198.51.100.7 127.0.0.1 40000 443\r\n";
    size_t total = sizeof(hdr) - 1 + hello_len;
    unsigned char *pkt = malloc(total);
    memcpy(pkt, hdr, sizeof(hdr) - 1);
    memcpy(pkt + sizeof(hdr) - 1, hello, hello_len);
    pth_conn_t *c = pth_conn_open(h);
    ck_assert_int_eq(pth_conn_send(c, pkt, total), 0); /* one write: header + ClientHello */
    char *resp = finish_on_socket(ssl, c->fd);
    if (!strstr(resp, "HTTP/1.1 200") || !strstr(resp, "site a")) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/error.log", h->dir);
        size_t n;
        char *log = pth_read_file(path, &n);
        ck_abort_msg("answer: '%s'; error log:\n%s", resp, log ? log : "(none)");
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    free(hello);
    free(pkt);
    pth_conn_close(c);

    /* The access log names the client the PROXY header gave, not the loopback peer. */
    pth_stop(h);
    char path[4096];
    snprintf(path, sizeof(path), "%s/access.log", h->dir);
    size_t n;
    char *log = pth_read_file(path, &n);
    ck_assert_msg(log && strstr(log, "198.51.100.7 127.0.0.1 \"GET /index.html HTTP/1.1\" 200"),
                  "access log: %s", log ? log : "(none)");
    free(log);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("proxyproto_tls");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_clienthello_in_the_same_packet_as_the_proxy_header_is_not_lost);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    pth_tls_pki();
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
