/* A TLS read that must write first: a TLS 1.3 client's KeyUpdate with update_requested owes
 * it a KeyUpdate of the server's, which OpenSSL (3.0) sends before its next record of data,
 * or from SSL_read when another handshake message follows (the next KeyUpdate); when the
 * socket is full then, SSL_read wants to write (tls_transport.c: PT_EAGAIN with tp_want
 * POLLOUT), and the record that made it write stays inside OpenSSL. A server that then
 * waits for input finds that record pending and reads again at once, and again, for as long
 * as the client leaves the socket full: a busy loop holding a worker (event: through the
 * ready queue; worker and prefork: in the connection's thread). It must wait for room.
 *
 * The server's socket is full for certain: a preloaded shim (tests/preload/full_socket.c)
 * fixes its send buffer, the client's receive buffer is small, and the client sends more
 * KeyUpdates than the answers to them that both buffers can hold, reading nothing. The
 * shim also counts the server's sends that find the socket full: one per wait for room,
 * thousands a second for a server that spins. Then the client reads, and every answer and
 * the request's must arrive. */
#include "harness.h"
#include "http_backend.h"
#include "tls_client.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYUPDATES 2048   /* their answers, 27 bytes each, exceed both buffers 3 times */
#define SMALL_BUFFER 4096 /* SO_SNDBUF of the server's socket, SO_RCVBUF of the client's */
#define WINDOW_MS 1000    /* how long the client leaves the socket full */
/* Sends that may meet the full socket meanwhile: one per time it had room again (the kernel
 * moving bytes into the client's buffer), some 20 under each MPM; a server that reads again
 * at once makes some 100,000 (the shim's bound), and thousands even on a loaded machine. */
#define FULL_SENDS_MAX 1000

static pth_t *h;
static pth_http_backend_t be; /* for a request body the proxy reads */
static char full_log[512];
static int keyupdates_in; /* KeyUpdate messages the client has received */

static void count_keyupdates(int write_p, int version, int type, const void *buf, size_t len,
                             SSL *ssl, void *arg)
{
    (void)version, (void)ssl, (void)arg;
    if (!write_p && type == SSL3_RT_HANDSHAKE && len > 0 &&
        ((const unsigned char *)buf)[0] == SSL3_MT_KEY_UPDATE)
        keyupdates_in++;
}

static void setup(void)
{
    h = pth_new();
    pth_http_backend_start_must(&be, NULL);
    pth_write_file(h, "index.html", "wantwrite", 9);
    snprintf(full_log, sizeof(full_log), "%s", pth_path(h, "full-sends.log"));
    pth_config_raw(
        h,
        "MPM %s\nListen 127.0.0.1:@PORT@ https\nServerName localhost\n"
        "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
        "DocumentRoot @DOCROOT@\n<Directory @DOCROOT@>\nRequire all granted\n</Directory>\n"
        "KeepAliveTimeout 30\nTimeout 30\nRequestReadTimeout header=30 body=30\n"
        "<VirtualHost *:@PORT@>\nServerName a.test\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\nProtocols h2 http/1.1\n"
        "ProxyPass /p/ http://127.0.0.1:%d/\n</VirtualHost>\n",
        pth_mpm(), pth_tls_file("a.test.rsa.pem"), pth_tls_file("a.test.rsa.key"), be.port);
    char size[16];
    snprintf(size, sizeof(size), "%d", SMALL_BUFFER);
    setenv("PTH_SNDBUF", size, 1);
    setenv("PTH_EAGAIN_LOG", full_log, 1);
    pth_start_preloaded(h, "full_socket");
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
    pth_http_backend_stop(&be);
}

/* Waits until fd is ready for ev, or fails the test after what. */
static void wait_fd(int fd, short ev, int64_t deadline, const char *what)
{
    struct pollfd p = {.fd = fd, .events = ev};
    int64_t left = deadline - pth_now_ms();
    pth_assert_msg(left > 0 && poll(&p, 1, (int)left) == 1, "timed out: %s", what);
}

/* One SSL call's retry: waits for what it wants; false when it failed for good. */
static bool retry(SSL *ssl, int r, int64_t deadline, const char *what)
{
    int e = SSL_get_error(ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        return false;
    wait_fd(SSL_get_fd(ssl), e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, what);
    return true;
}

/* A non-blocking connection with a small receive buffer (set before the connect, so that
 * the window it announces is small from the start). */
static int connect_small(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert(fd >= 0);
    int n = SMALL_BUFFER;
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n)), 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)h->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s",
                  strerror(errno));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* A TLS 1.3 session to a.test; alpn "h2" or NULL. */
static SSL *tls_open(const char *alpn)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    ck_assert(ctx != NULL);
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    ck_assert_int_eq(SSL_CTX_load_verify_locations(ctx, pth_tls_file("ca.pem"), NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (alpn)
        SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x02h2", 3);
    SSL *ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* (the session holds it) */
    SSL_set_tlsext_host_name(ssl, "a.test");
    SSL_set1_host(ssl, "a.test");
    SSL_set_fd(ssl, connect_small());
    SSL_set_msg_callback(ssl, count_keyupdates);
    int64_t deadline = pth_now_ms() + PTH_IO_DEADLINE_MS;
    int r;
    while ((r = SSL_connect(ssl)) != 1)
        pth_assert_msg(retry(ssl, r, deadline, "handshake"), "handshake failed");
    if (alpn) {
        const unsigned char *p;
        unsigned n;
        SSL_get0_alpn_selected(ssl, &p, &n);
        ck_assert_msg(n == 2 && memcmp(p, "h2", 2) == 0, "ALPN did not choose h2");
    }
    return ssl;
}

static void tls_close(SSL *ssl)
{
    int fd = SSL_get_fd(ssl);
    SSL_free(ssl);
    close(fd);
}

static void tls_send(SSL *ssl, const void *p, size_t n)
{
    int64_t deadline = pth_now_ms() + PTH_IO_DEADLINE_MS;
    size_t put;
    int r;
    while ((r = SSL_write_ex(ssl, p, n, &put)) != 1)
        pth_assert_msg(retry(ssl, r, deadline, "send"), "send failed");
}

/* Reads until buf holds needle (NUL-terminated), processing what else comes (KeyUpdates). */
static void tls_read_until(SSL *ssl, char *buf, size_t cap, const char *needle, int ms)
{
    int64_t deadline = pth_now_ms() + ms;
    size_t len = 0;
    buf[0] = '\0';
    while (!strstr(buf, needle)) {
        pth_assert_msg(len + 1 < cap, "no '%s' in '%s'", needle, buf);
        size_t got;
        int r = SSL_read_ex(ssl, buf + len, cap - len - 1, &got);
        if (r == 1) {
            buf[len += got] = '\0';
            continue;
        }
        pth_assert_msg(retry(ssl, r, deadline, needle), "read failed before '%s' in '%s'", needle,
                       buf);
    }
}

static void expect_index(SSL *ssl, const char *where)
{
    char buf[8192];
    tls_read_until(ssl, buf, sizeof(buf), "wantwrite", PTH_IO_DEADLINE_MS * 2);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200 ", 13) == 0, "%s: answer: %s", where, buf);
}

static long full_sends(void)
{
    struct stat st;
    return stat(full_log, &st) == 0 ? (long)st.st_size : 0;
}

/* KEYUPDATES KeyUpdates asking for one back, made in memory and sent in one go (each one
 * changes the keys of what follows, so they are made one after the other). */
static void send_keyupdates(SSL *ssl)
{
    int fd = SSL_get_fd(ssl);
    BIO *mem = BIO_new(BIO_s_mem());
    ck_assert(mem != NULL);
    SSL_set0_wbio(ssl, mem);
    for (int i = 0; i < KEYUPDATES; i++) {
        ck_assert_int_eq(SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED), 1);
        ck_assert_int_eq(SSL_do_handshake(ssl), 1);
    }
    char *p;
    long n = BIO_get_mem_data(mem, &p);
    int64_t deadline = pth_now_ms() + PTH_IO_DEADLINE_MS;
    for (long at = 0; at < n;) {
        ssize_t k = send(fd, p + at, (size_t)(n - at), MSG_NOSIGNAL);
        if (k > 0) {
            at += k;
            continue;
        }
        pth_assert_msg(errno == EAGAIN, "send: %s", strerror(errno));
        wait_fd(fd, POLLOUT, deadline, "sending the KeyUpdates");
    }
    SSL_set0_wbio(ssl, BIO_new_socket(fd, BIO_NOCLOSE));
}

/* The server answers KEYUPDATES KeyUpdates into a full socket and must wait for room: while
 * the client reads nothing for WINDOW_MS, few of its sends meet the full socket; once the
 * client reads, every answer arrives (all but the last, which OpenSSL sends with the next
 * record of data). */
static void keyupdates_wait_for_room(SSL *ssl, const char *where)
{
    int before = keyupdates_in;
    long full_before = full_sends();
    send_keyupdates(ssl);
    usleep(WINDOW_MS * 1000); /* (a window to count in, not a wait for anything) */
    long spins = full_sends() - full_before;
    ck_assert_msg(spins <= FULL_SENDS_MAX,
                  "%s: %ld sends met the full socket in %d ms: the server's read wanted to "
                  "write and it read again at once instead of waiting for room",
                  where, spins, WINDOW_MS);
    int64_t deadline = pth_now_ms() + PTH_IO_DEADLINE_MS * 2;
    while (keyupdates_in - before < KEYUPDATES - 1) {
        char b[256];
        size_t got;
        int r = SSL_read_ex(ssl, b, sizeof(b), &got);
        ck_assert_msg(r != 1, "%s: unexpected bytes from the server", where);
        if (keyupdates_in - before >= KEYUPDATES - 1)
            break;
        ck_assert_msg(SSL_get_error(ssl, r) == SSL_ERROR_WANT_READ, "%s: the connection failed",
                      where);
        struct pollfd p = {.fd = SSL_get_fd(ssl), .events = POLLIN};
        int64_t left = deadline - pth_now_ms();
        ck_assert_msg(left > 0 && poll(&p, 1, (int)left) == 1, "%s: %d of %d KeyUpdates answered",
                      where, keyupdates_in - before, KEYUPDATES - 1);
    }
}

START_TEST(keyupdates_between_requests_into_a_full_socket_wait_for_room)
{
    SSL *ssl = tls_open(NULL);
    static const char get[] = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";
    tls_send(ssl, get, sizeof(get) - 1);
    expect_index(ssl, "first request");
    keyupdates_wait_for_room(ssl, "idle in keep-alive");
    tls_send(ssl, get, sizeof(get) - 1);
    expect_index(ssl, "after the KeyUpdates");
    tls_close(ssl);
}
END_TEST

START_TEST(keyupdates_inside_a_request_head_into_a_full_socket_wait_for_room)
{
    SSL *ssl = tls_open(NULL);
    static const char start[] = "GET / HTTP/1.1\r\n";
    static const char rest[] = "Host: a.test\r\n\r\n";
    tls_send(ssl, start, sizeof(start) - 1);
    keyupdates_wait_for_room(ssl, "inside a head");
    tls_send(ssl, rest, sizeof(rest) - 1);
    expect_index(ssl, "the head completed");
    tls_close(ssl);
}
END_TEST

/* The proxy reads the body as it forwards it (h1_body.c): the KeyUpdates come in its
 * middle. */
START_TEST(keyupdates_inside_a_request_body_into_a_full_socket_wait_for_room)
{
    SSL *ssl = tls_open(NULL);
    static const char start[] = "POST /p/body HTTP/1.1\r\nHost: a.test\r\n"
                                "Content-Length: 10\r\n\r\nwant-";
    tls_send(ssl, start, sizeof(start) - 1);
    keyupdates_wait_for_room(ssl, "inside a body");
    tls_send(ssl, "write", 5);
    char buf[8192];
    tls_read_until(ssl, buf, sizeof(buf), "want-write", PTH_IO_DEADLINE_MS * 2);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200 ", 13) == 0, "answer: %s", buf);
    tls_close(ssl);
}
END_TEST

/* Reads HTTP/2 frames until the server's SETTINGS ACK: after it, the session has nothing
 * more to send and is idle. */
static void h2_until_settings_ack(SSL *ssl)
{
    unsigned char buf[8192];
    size_t len = 0;
    int64_t deadline = pth_now_ms() + PTH_IO_DEADLINE_MS;
    for (;;) {
        size_t at = 0;
        while (len - at >= 9) {
            size_t flen = (size_t)buf[at] << 16 | (size_t)buf[at + 1] << 8 | buf[at + 2];
            if (len - at < 9 + flen)
                break;
            if (buf[at + 3] == 4 && (buf[at + 4] & 1))
                return;
            at += 9 + flen;
        }
        memmove(buf, buf + at, len - at);
        len -= at;
        pth_assert_msg(len < sizeof(buf), "an HTTP/2 frame too large");
        size_t got;
        int r = SSL_read_ex(ssl, buf + len, sizeof(buf) - len, &got);
        if (r == 1)
            len += got;
        else
            pth_assert_msg(retry(ssl, r, deadline, "SETTINGS ACK"), "h2: read failed");
    }
}

START_TEST(keyupdates_to_an_idle_http2_session_into_a_full_socket_wait_for_room)
{
    SSL *ssl = tls_open("h2");
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                  "\0\0\0\x04\0\0\0\0\0"; /* and an empty SETTINGS */
    tls_send(ssl, preface, sizeof(preface) - 1);
    h2_until_settings_ack(ssl);
    keyupdates_wait_for_room(ssl, "an idle HTTP/2 session");
    tls_close(ssl);
}
END_TEST

static Suite *wantwrite_suite(void)
{
    Suite *s = suite_create("tls_wantwrite");
    TCase *tc = tcase_create("tls_wantwrite");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, keyupdates_between_requests_into_a_full_socket_wait_for_room);
    tcase_add_test(tc, keyupdates_inside_a_request_head_into_a_full_socket_wait_for_room);
    tcase_add_test(tc, keyupdates_inside_a_request_body_into_a_full_socket_wait_for_room);
    tcase_add_test(tc, keyupdates_to_an_idle_http2_session_into_a_full_socket_wait_for_room);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    pth_tls_pki();
    SRunner *sr = srunner_create(wantwrite_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
