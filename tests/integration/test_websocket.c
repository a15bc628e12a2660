/* WebSocket through the reverse proxy (ProxyPass ... upgrade=websocket, Apache 2.4.47+)
 * against the RFC 6455 test origin of ws_backend.h, with a raw-socket client: the 101 and
 * its Sec-WebSocket-Accept, echo (with bytes the client sent right behind its request head
 * and bytes the backend sent right behind its 101), 1 MiB messages both ways, either side
 * closing first, ProxyWebsocketIdleTimeout, and under the event MPM 200 idle tunnels on 4
 * worker threads while plain requests are still served at once (a parked tunnel holds no
 * worker). */
#include "harness.h"
#include "tls_client.h"
#include "ws_backend.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static pth_t *h;
static pth_ws_backend_t be;
static int tls_port;

#define PTH_MIN_SZ(a, b) ((a) < (b) ? (a) : (b))

static void setup(void)
{
    h = pth_new();
    tls_port = pth_free_port();
    pth_ws_backend_start_must(&be);
}

static void teardown(void)
{
    pth_free(h);
    pth_ws_backend_stop(&be);
}

static void start_with(const char *extra)
{
    pth_write_file(h, "plain.txt", "plain\n", 6);
    pth_config(h, "GracefulShutdownTimeout 2\n"
               "ProxyPass /ws/ http://127.0.0.1:%d/ upgrade=websocket\n%s\n", be.port,
               extra ? extra : "");
    pth_start(h);
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Reads a response head byte by byte (nothing after it is consumed) within 5 s. */
static void read_head(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    int64_t end = pth_now_ms() + 5000;
    while (n + 1 < cap && (n < 4 || memcmp(buf + n - 4, "\r\n\r\n", 4) != 0)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = end - pth_now_ms();
        ck_assert_msg(left > 0 && poll(&p, 1, (int)left) == 1, "no response head");
        ck_assert_int_eq(read(fd, buf + n, 1), 1);
        buf[++n] = '\0';
    }
}

/* Opens a WebSocket through portico to the backend's path; `early` (a frame) leaves in the
 * same write as the request head. Checks the 101; returns the socket. */
static int ws_open(const char *path, const void *early, size_t nearly)
{
    int fd = connect_port(h->port);
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    char req[1024];
    int n = snprintf(req, sizeof(req), "GET /ws/%s HTTP/1.1\r\nHost: localhost\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, key);
    ck_assert_uint_le((size_t)n + nearly, sizeof(req));
    if (nearly)
        memcpy(req + n, early, nearly);
    ck_assert_int_eq(send(fd, req, (size_t)n + nearly, MSG_NOSIGNAL), n + (int)nearly);
    char head[2048];
    read_head(fd, head, sizeof(head));
    ck_assert_msg(strncmp(head, "HTTP/1.1 101 ", 13) == 0, "%s", head);
    ck_assert_msg(strcasestr(head, "\r\nUpgrade: websocket\r\n"), "%s", head);
    ck_assert_msg(strcasestr(head, "\r\nConnection: Upgrade\r\n"), "%s", head);
    ck_assert_msg(!strcasestr(head, "Content-Length") && !strcasestr(head, "Transfer-Enc"),
                  "%s", head);
    char accept[64], want[128];
    pth_ws_accept_for(key, accept);
    snprintf(want, sizeof(want), "\r\nSec-WebSocket-Accept: %s\r\n", accept);
    ck_assert_msg(strstr(head, want), "%s", head);
    return fd;
}

/* A masked client frame as bytes (for sending with the head). */
static size_t masked_frame(unsigned char *out, const char *text)
{
    size_t n = strlen(text);
    unsigned char key[4] = {1, 2, 3, 4};
    out[0] = 0x81;
    out[1] = (unsigned char)(0x80 | n);
    memcpy(out + 2, key, 4);
    for (size_t i = 0; i < n; i++)
        out[6 + i] = (unsigned char)text[i] ^ key[i % 4];
    return 6 + n;
}

static void expect_frame(int fd, int op, const char *text)
{
    void *p;
    size_t n;
    int got = pth_ws_read_frame(fd, &p, &n, 5000);
    ck_assert_int_eq(got, op);
    ck_assert_uint_eq(n, strlen(text));
    ck_assert_mem_eq(p, text, n);
    free(p);
}

/* True when the peer closes within ms (EOF or reset), nothing else arriving. */
static bool closed_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char b[64];
    return poll(&p, 1, ms) == 1 && read(fd, b, sizeof(b)) <= 0;
}

START_TEST(messages_echo_through_the_proxy_with_bytes_sent_ahead_either_side)
{
    start_with(NULL);
    unsigned char early[64];
    size_t ne = masked_frame(early, "sent-with-the-head");
    int fd = ws_open("greet", early, ne);
    expect_frame(fd, 1, "welcome");             /* behind the backend's 101 */
    expect_frame(fd, 1, "sent-with-the-head");  /* behind the client's head */
    for (int i = 0; i < 20; i++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "message %d", i);
        ck_assert_int_eq(pth_ws_send_frame(fd, 1, msg, strlen(msg), true), 0);
        expect_frame(fd, 1, msg);
    }
    ck_assert_int_eq(pth_ws_send_frame(fd, 9, "hb", 2, true), 0);
    expect_frame(fd, 10, "hb");
    ck_assert_int_eq(pth_ws_send_frame(fd, 8, "\x03\xe8", 2, true), 0);
    expect_frame(fd, 8, "\x03\xe8");
    ck_assert(closed_within(fd, 5000)); /* the backend closed: so does the tunnel */
    close(fd);
    ck_assert(pth_ws_backend_wait_open(&be, 0, 5000));
    /* Logged when the tunnel opened, with the status the client saw. */
    ck_assert(pth_file_wait_contains(pth_path(h, "access.log"),
                                     "\"GET /ws/greet HTTP/1.1\" 101", 3000));
    pth_stop(h);
}
END_TEST

START_TEST(a_mebibyte_message_crosses_intact_both_ways)
{
    start_with(NULL);
    int fd = ws_open("echo", NULL, 0);
    size_t n = 1u << 20;
    char *msg = malloc(n);
    for (size_t i = 0; i < n; i++)
        msg[i] = (char)((i * 131 + (i >> 13)) % 251);
    for (int round = 0; round < 3; round++) {
        /* The backend echoes while it still reads: the client must read as it writes, or
         * both sides fill up; a thread would do, but a 1 MiB frame fits in the sockets and
         * the tunnel's buffers only partly, so send from a child process. */
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            _exit(pth_ws_send_frame(fd, 2, msg, n, true) == 0 ? 0 : 1);
        void *p;
        size_t got;
        ck_assert_int_eq(pth_ws_read_frame(fd, &p, &got, 20000), 2);
        ck_assert_uint_eq(got, n);
        ck_assert(memcmp(p, msg, n) == 0);
        free(p);
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    free(msg);
    close(fd);
    ck_assert(pth_ws_backend_wait_open(&be, 0, 5000)); /* the client's close reached it */
    pth_stop(h);
}
END_TEST

/* A 1 MiB binary message sent from a child process while this one reads the echo. */
static void mebibyte_round_trip(int fd)
{
    size_t n = 1u << 20;
    char *msg = malloc(n);
    for (size_t i = 0; i < n; i++)
        msg[i] = (char)((i * 131 + (i >> 13)) % 251);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(pth_ws_send_frame(fd, 2, msg, n, true) == 0 ? 0 : 1);
    void *p;
    size_t got;
    ck_assert_int_eq(pth_ws_read_frame(fd, &p, &got, 20000), 2);
    ck_assert_uint_eq(got, n);
    ck_assert(memcmp(p, msg, n) == 0);
    free(p);
    free(msg);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* wss:// to the origin: ProxyPass to an https:// backend with upgrade=websocket. The TLS
 * backend is a second portico (Listen ... https) in front of the WebSocket origin. Bytes the
 * backend's TLS records carry behind the 101 head, and those OpenSSL holds decrypted when
 * the tunnel would park, must reach the client. */
START_TEST(a_websocket_through_an_https_backend_echoes_and_closes)
{
    pth_t *bk = pth_new();
    pth_config_raw(bk,
        "MPM %s\nListen 127.0.0.1:@PORT@ https\nServerName localhost\n"
        "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nGracefulShutdownTimeout 2\n"
        "SSLEngine on\nSSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
        "ProxyPass / http://127.0.0.1:%d/ upgrade=websocket\n",
        pth_mpm(), pth_tls_file("a.test.rsa.pem"), pth_tls_file("a.test.rsa.key"), be.port);
    pth_start(bk);
    pth_config(h, "GracefulShutdownTimeout 2\nSSLProxyEngine On\nSSLProxyVerify require\n"
               "SSLProxyCACertificateFile %s\nSSLProxyCheckPeerName Off\n"
               "SSLProxyCheckPeerCN Off\n"
               "ProxyPass /ws/ https://127.0.0.1:%d/ upgrade=websocket\n",
               pth_tls_file("ca.pem"), bk->port);
    pth_start(h);
    unsigned char early[64];
    size_t ne = masked_frame(early, "sent-with-the-head");
    int fd = ws_open("greet", early, ne);
    expect_frame(fd, 1, "welcome");
    expect_frame(fd, 1, "sent-with-the-head");
    for (int i = 0; i < 20; i++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "message %d", i);
        ck_assert_int_eq(pth_ws_send_frame(fd, 1, msg, strlen(msg), true), 0);
        expect_frame(fd, 1, msg);
    }
    for (int round = 0; round < 2; round++)
        mebibyte_round_trip(fd);
    ck_assert_int_eq(pth_ws_send_frame(fd, 8, "\x03\xe8", 2, true), 0);
    expect_frame(fd, 8, "\x03\xe8");
    ck_assert(closed_within(fd, 5000));
    close(fd);
    ck_assert(pth_ws_backend_wait_open(&be, 0, 5000));
    pth_stop(h);
    pth_stop(bk);
    pth_free(bk);
}
END_TEST

START_TEST(the_client_closing_closes_the_backend_connection)
{
    start_with(NULL);
    int fd = ws_open("echo", NULL, 0);
    ck_assert_int_eq(pth_ws_send_frame(fd, 1, "hi", 2, true), 0);
    expect_frame(fd, 1, "hi");
    ck_assert_int_eq(atomic_load(&be.counts->open), 1);
    close(fd); /* no close frame: the TCP close alone */
    ck_assert(pth_ws_backend_wait_open(&be, 0, 5000));
    pth_stop(h);
}
END_TEST

/* The backend says goodbye and shuts its side: the client gets the frames and then the
 * FIN, and can still send its close frame, which reaches the backend. */
START_TEST(the_backend_closing_first_reaches_the_client_which_can_still_answer)
{
    start_with(NULL);
    int fd = ws_open("closefirst", NULL, 0);
    expect_frame(fd, 1, "bye");
    expect_frame(fd, 8, "\x03\xe8");
    ck_assert(closed_within(fd, 5000)); /* the backend's FIN, passed on */
    ck_assert_int_eq(pth_ws_send_frame(fd, 8, "\x03\xe8", 2, true), 0);
    ck_assert(pth_ws_backend_wait_open(&be, 0, 5000));
    ck_assert_int_eq(atomic_load(&be.counts->closes), 1);
    close(fd);
    pth_stop(h);
}
END_TEST

START_TEST(an_idle_tunnel_is_closed_after_proxy_websocket_idle_timeout)
{
    start_with("ProxyWebsocketIdleTimeout 1\nProxyWebsocketAsync On\n"
               "ProxyWebsocketFallbackToProxyHttp Off\n");
    int fd = ws_open("echo", NULL, 0);
    ck_assert_int_eq(pth_ws_send_frame(fd, 1, "hi", 2, true), 0);
    expect_frame(fd, 1, "hi");
    int64_t t0 = pth_now_ms();
    ck_assert(closed_within(fd, 6000));
    int64_t took = pth_now_ms() - t0;
    ck_assert_int_ge(took, 900);
    ck_assert_int_lt(took, 4000);
    ck_assert(pth_ws_backend_wait_open(&be, 0, 5000));
    close(fd);
    pth_stop(h);
}
END_TEST

START_TEST(a_bad_proxy_websocket_idle_timeout_is_a_config_error)
{
    pth_config(h, "ProxyWebsocketIdleTimeout soon\n");
    pth_run_t out;
    pth_run(h, 10000, &out, "-t", "-f", h->conf, NULL);
    ck_assert_int_ne(out.code, 0);
    ck_assert_msg(strstr(out.err, "portico.conf:"), "%s", out.err);
    pth_run_free(&out);
}
END_TEST

/* 200 tunnels parked while the child has 4 workers: a plain request is answered at once,
 * and every tunnel still echoes afterwards. */
START_TEST(two_hundred_idle_tunnels_hold_no_worker)
{
    pth_raise_nofile(4096);
    start_with("StartServers 1\nServerLimit 1\nThreadsPerChild 4\nMaxRequestWorkers 4\n"
               "ThreadLimit 4\n");
    enum { N = 200 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = ws_open("echo", NULL, 0);
        ck_assert_int_eq(pth_ws_send_frame(fds[i], 1, "x", 1, true), 0);
        expect_frame(fds[i], 1, "x");
    }
    ck_assert_int_eq(atomic_load(&be.counts->open), N);
    for (int i = 0; i < 20; i++) {
        int64_t t0 = pth_now_ms();
        pth_resp_t r;
        pth_get(h, "/plain.txt", NULL, &r);
        ck_assert_int_eq(r.status, 200);
        pth_resp_free(&r);
        ck_assert_int_lt(pth_now_ms() - t0, 1000);
    }
    for (int i = 0; i < N; i++) {
        char msg[16];
        snprintf(msg, sizeof(msg), "again %d", i);
        ck_assert_int_eq(pth_ws_send_frame(fds[i], 1, msg, strlen(msg), true), 0);
        expect_frame(fds[i], 1, msg);
    }
    for (int i = 0; i < N; i++)
        close(fds[i]);
    ck_assert(pth_ws_backend_wait_open(&be, 0, 10000));
    pth_stop(h);
}
END_TEST

/* A stop while a tunnel is open closes it at GracefulShutdownTimeout (2 s here), as any
 * request in flight: event closes the parked tunnel, worker shuts the worker's client
 * socket, and prefork's parent kills the child 3 s later (its relay does not see signals). */
START_TEST(a_stop_closes_open_tunnels_within_graceful_shutdown_timeout)
{
    start_with(NULL);
    int fd = ws_open("echo", NULL, 0);
    ck_assert_int_eq(pth_ws_send_frame(fd, 1, "hi", 2, true), 0);
    expect_frame(fd, 1, "hi");
    int64_t t0 = pth_now_ms();
    pth_expect_error(h, "GracefulShutdownTimeout");
    pth_stop(h);
    ck_assert_int_lt(pth_now_ms() - t0, 9000);
    ck_assert(closed_within(fd, 2000));
    close(fd);
    ck_assert(pth_ws_backend_wait_open(&be, 0, 5000));
}
END_TEST

/* ---- Over TLS: the tunnel reads the client through its transport ------------------- */

static void tls_write_all(SSL *s, const void *p, size_t n)
{
    while (n > 0) {
        int w = SSL_write(s, p, (int)PTH_MIN_SZ(n, 1 << 20));
        ck_assert_int_gt(w, 0);
        p = (const char *)p + w;
        n -= (size_t)w;
    }
}

static void tls_read_full(SSL *s, void *p, size_t n)
{
    while (n > 0) {
        int r = SSL_read(s, p, (int)PTH_MIN_SZ(n, 1 << 20));
        ck_assert_msg(r > 0, "TLS read failed (%d)", SSL_get_error(s, r));
        p = (char *)p + r;
        n -= (size_t)r;
    }
}

/* One frame from the server (unmasked); its payload malloc'd into *p. */
static int tls_read_frame(SSL *s, char **p, size_t *n)
{
    unsigned char hd[10];
    tls_read_full(s, hd, 2);
    size_t len = hd[1] & 0x7f;
    if (len >= 126) {
        size_t k = len == 126 ? 2 : 8;
        tls_read_full(s, hd + 2, k);
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | hd[2 + i];
    }
    *p = malloc(len + 1);
    tls_read_full(s, *p, len);
    *n = len;
    return hd[0] & 0x0f;
}

static void tls_send_frame(SSL *s, int op, const void *p, size_t n)
{
    size_t cap = n + 14, len;
    unsigned char *f = malloc(cap);
    len = pth_ws_frame(f, op, p, n, true);
    tls_write_all(s, f, len);
    free(f);
}

START_TEST(a_websocket_over_tls_echoes_small_and_large_messages)
{
    pth_config(h, "Listen 127.0.0.1:%d https\nGracefulShutdownTimeout 2\n"
               "<VirtualHost *:%d>\nServerName a.test\nSSLEngine on\n"
               "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
               "ProxyPass /ws/ http://127.0.0.1:%d/ upgrade=websocket\n</VirtualHost>\n",
               tls_port, tls_port, pth_tls_file("a.test.rsa.pem"),
               pth_tls_file("a.test.rsa.key"), be.port);
    pth_start(h);
    int fd = connect_port(tls_port);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *s = SSL_new(ctx);
    SSL_set_tlsext_host_name(s, "a.test");
    SSL_set_fd(s, fd);
    ck_assert_int_eq(SSL_connect(s), 1);
    const char *req = "GET /ws/greet HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    tls_write_all(s, req, strlen(req));
    char head[2048];
    size_t hn = 0;
    while (hn < 4 || memcmp(head + hn - 4, "\r\n\r\n", 4) != 0) {
        ck_assert_uint_lt(hn + 1, sizeof(head));
        tls_read_full(s, head + hn++, 1);
    }
    head[hn] = 0;
    ck_assert_msg(strncmp(head, "HTTP/1.1 101 ", 13) == 0, "%s", head);
    char *p;
    size_t n;
    ck_assert_int_eq(tls_read_frame(s, &p, &n), 1);
    ck_assert_uint_eq(n, 7);
    ck_assert_mem_eq(p, "welcome", 7);
    free(p);
    /* 256 KiB: many TLS records each way, decrypted ahead of what the tunnel reads. */
    size_t big = 256 * 1024;
    char *msg = malloc(big);
    for (size_t i = 0; i < big; i++)
        msg[i] = (char)(i * 7 + 3);
    for (int round = 0; round < 3; round++) {
        tls_send_frame(s, 2, msg, big);
        ck_assert_int_eq(tls_read_frame(s, &p, &n), 2);
        ck_assert_uint_eq(n, big);
        ck_assert(memcmp(p, msg, big) == 0);
        free(p);
        tls_send_frame(s, 1, "ping", 4);
        ck_assert_int_eq(tls_read_frame(s, &p, &n), 1);
        ck_assert_mem_eq(p, "ping", 4);
        free(p);
    }
    free(msg);
    tls_send_frame(s, 8, "\x03\xe8", 2);
    ck_assert_int_eq(tls_read_frame(s, &p, &n), 8);
    free(p);
    SSL_free(s);
    SSL_CTX_free(ctx);
    close(fd);
    ck_assert(pth_ws_backend_wait_open(&be, 0, 5000));
    pth_stop(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("websocket");
    TCase *tc = tcase_create("websocket");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, messages_echo_through_the_proxy_with_bytes_sent_ahead_either_side);
    tcase_add_test(tc, a_mebibyte_message_crosses_intact_both_ways);
    tcase_add_test(tc, the_client_closing_closes_the_backend_connection);
    tcase_add_test(tc, the_backend_closing_first_reaches_the_client_which_can_still_answer);
    tcase_add_test(tc, an_idle_tunnel_is_closed_after_proxy_websocket_idle_timeout);
    tcase_add_test(tc, a_bad_proxy_websocket_idle_timeout_is_a_config_error);
    tcase_add_test(tc, a_stop_closes_open_tunnels_within_graceful_shutdown_timeout);
    tcase_add_test(tc, a_websocket_over_tls_echoes_small_and_large_messages);
    tcase_add_test(tc, a_websocket_through_an_https_backend_echoes_and_closes);
    pth_tcase_add_for(tc, "event", two_hundred_idle_tunnels_hold_no_worker);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    pth_tls_pki(); /* once, before the runner forks the tests */
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
