/* A TLS 1.3 server's session tickets (tls_transport.c's writer holds them): OpenSSL writes
 * its two once the client's Finished is in, one record and one flush each. They must reach
 * the client all the same, and in as few sends as the exchange allows: with the answer to a
 * request that came with the Finished, or together as soon as the server waits for the
 * client; and a session from them resumes.
 *
 * The client is the test's own OpenSSL session over memory BIOs, so that its Finished and
 * its first request leave in one send when the test wants; what the server sent is counted
 * in TCP segments that carry data (TCP_INFO's tcpi_data_segs_in: on loopback each send of
 * the server's, of a few KiB, is one segment). The server asks for no kernel TLS (with
 * it the kernel writes the records, and the tickets go as OpenSSL writes them). */
#include "harness.h"
#include "http_backend.h"
#include "tls_client.h"

#include <check.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pth_t *h;
static pth_http_backend_t be;
static int tls_port;

static void setup(void)
{
    h = pth_new();
    pth_http_backend_start_must(&be, NULL);
    tls_port = pth_free_port();
    pth_config(h,
               "KeepAliveTimeout 30\nSSLOpenSSLConfCmd Options -KTLS\n"
               "ProxyPass /be/ http://127.0.0.1:%d/\n%s",
               be.port, pth_tls_vhost_conf(tls_port));
    pth_write_file(h, "index.html", "tickets", 7);
    pth_start(h);
}

static void teardown(void)
{
    pth_stop(h);
    pth_http_backend_stop(&be);
    pth_free(h);
}

/* The client: its socket, and a session whose input and output are memory. */
typedef struct {
    pth_conn_t *conn;
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *in, *out;
    int tickets;        /* sessions (tickets) received */
    SSL_SESSION *first; /* the first of them, kept */
} client_t;

static int ex_client = -1;

static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    client_t *c = SSL_get_ex_data(ssl, ex_client);
    c->tickets++;
    if (c->first)
        return 0; /* not kept: OpenSSL frees it */
    c->first = sess;
    return 1;
}

static void client_open(client_t *c, SSL_SESSION *resume)
{
    memset(c, 0, sizeof(*c));
    if (ex_client < 0)
        ex_client = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    c->ctx = SSL_CTX_new(TLS_client_method());
    ck_assert_ptr_nonnull(c->ctx);
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(c->ctx,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(c->ctx, new_session_cb);
    c->ssl = SSL_new(c->ctx);
    ck_assert_ptr_nonnull(c->ssl);
    SSL_set_ex_data(c->ssl, ex_client, c);
    SSL_set_tlsext_host_name(c->ssl, "a.test");
    if (resume)
        ck_assert_int_eq(SSL_set_session(c->ssl, resume), 1);
    c->in = BIO_new(BIO_s_mem());
    c->out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(c->in, -1); /* empty: "retry", not the end */
    SSL_set_bio(c->ssl, c->in, c->out);
    SSL_set_connect_state(c->ssl);
    c->conn = pth_conn_open_port(tls_port);
}

static void client_close(client_t *c)
{
    SSL_SESSION_free(c->first);
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    pth_conn_close(c->conn);
}

/* Everything the session has written, in one send. */
static void flush_out(client_t *c)
{
    char *p;
    long n = BIO_get_mem_data(c->out, &p);
    if (n <= 0)
        return;
    ck_assert_int_eq(pth_conn_send(c->conn, p, (size_t)n), 0);
    (void)BIO_reset(c->out);
}

/* What the server sends within PTH_IO_DEADLINE_MS, into the session's input. */
static void read_in(client_t *c)
{
    struct pollfd p = {.fd = c->conn->fd, .events = POLLIN};
    ck_assert_msg(poll(&p, 1, PTH_IO_DEADLINE_MS) == 1, "nothing from the server");
    char buf[16384];
    ssize_t n = recv(c->conn->fd, buf, sizeof(buf), 0);
    ck_assert_msg(n > 0, "the server closed (%zd, %s)", n, strerror(errno));
    ck_assert_int_eq(BIO_write(c->in, buf, (int)n), (int)n);
}

/* The handshake, to the point where the client's Finished is written (not sent: flush_out
 * sends it, alone or with what follows). */
static void handshake(client_t *c)
{
    for (;;) {
        int r = SSL_do_handshake(c->ssl);
        if (r == 1)
            return;
        int e = SSL_get_error(c->ssl, r);
        ck_assert_msg(e == SSL_ERROR_WANT_READ, "handshake: SSL error %d", e);
        flush_out(c);
        read_in(c);
    }
}

/* Application data until want bytes are in (or, want 0: until the session has taken all
 * the server sent and needs more), with the tickets the server sends taken on the way. */
static size_t read_app(client_t *c, char *buf, size_t cap, size_t want)
{
    size_t got = 0;
    for (;;) {
        size_t k = 0;
        int r = SSL_read_ex(c->ssl, buf + got, cap - got, &k);
        if (r == 1) {
            got += k;
            if (want && got >= want)
                return got;
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        ck_assert_msg(e == SSL_ERROR_WANT_READ, "read: SSL error %d", e);
        if (!want)
            return got;
        read_in(c);
    }
}

/* A keep-alive GET of path, sent (with the Finished when that is not sent yet). */
static void send_get(client_t *c, const char *path)
{
    char req[256];
    int k = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a.test\r\n\r\n", path);
    size_t put = 0;
    ck_assert_int_eq(SSL_write_ex(c->ssl, req, (size_t)k, &put), 1);
    flush_out(c);
}

/* The answer to it: 200 with body (the answer's head and body into resp). */
static void read_answer(client_t *c, const char *body, char *resp, size_t cap)
{
    size_t n = 0;
    for (;;) {
        n += read_app(c, resp + n, cap - 1 - n, n + 1);
        resp[n] = '\0';
        const char *end = strstr(resp, "\r\n\r\n");
        if (end && strlen(end + 4) >= strlen(body))
            break;
    }
    ck_assert_msg(strncmp(resp, "HTTP/1.1 200 ", 13) == 0, "answer:\n%s", resp);
    ck_assert_msg(strcmp(strstr(resp, "\r\n\r\n") + 4, body) == 0, "answer:\n%s", resp);
}

/* One keep-alive GET / and its answer. */
static void get_index(client_t *c, char *resp, size_t cap)
{
    send_get(c, "/");
    read_answer(c, "tickets", resp, cap);
}

/* Reads until the server's tickets are in (within PTH_IO_DEADLINE_MS each read): the
 * application data that came before or with them. */
static size_t read_tickets(client_t *c, char *buf, size_t cap)
{
    size_t got = 0;
    for (;;) {
        got += read_app(c, buf + got, cap - got, 0);
        if (c->tickets >= 2)
            return got;
        read_in(c); /* (fails the test when nothing comes in time) */
    }
}

/* Segments with data the connection has received so far. */
static unsigned data_segments_in(client_t *c)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    ck_assert_int_eq(getsockopt(c->conn->fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    return ti.tcpi_data_segs_in;
}

/* A new connection offering sess resumes it, and is answered. */
static void assert_resumes(SSL_SESSION *sess)
{
    client_t r;
    client_open(&r, sess);
    handshake(&r);
    ck_assert_msg(SSL_session_reused(r.ssl) == 1, "the ticket's session did not resume");
    char resp[4096];
    get_index(&r, resp, sizeof(resp));
    client_close(&r);
}

START_TEST(tickets_leave_with_the_answer_to_a_request_sent_with_the_finished)
{
    client_t c;
    client_open(&c, NULL);
    handshake(&c);
    char resp[4096];
    get_index(&c, resp, sizeof(resp)); /* the Finished, not sent yet, and the GET: one send */
    ck_assert_int_eq(c.tickets, 2);
    /* The server's flight, then the tickets and the answer in one send (were four: the
     * flight, one per ticket, the answer). */
    ck_assert_uint_eq(data_segments_in(&c), 2);
    /* A second request on the connection: nothing held any more, the answer alone. */
    get_index(&c, resp, sizeof(resp));
    ck_assert_uint_eq(data_segments_in(&c), 3);
    ck_assert_int_eq(c.tickets, 2);

    assert_resumes(c.first);
    client_close(&c);
}
END_TEST

START_TEST(tickets_reach_a_client_that_sends_nothing_more)
{
    client_t c;
    client_open(&c, NULL);
    handshake(&c);
    flush_out(&c); /* the Finished alone; then the client waits */
    char buf[256];
    ck_assert_uint_eq(read_tickets(&c, buf, sizeof(buf)), 0);
    ck_assert_int_eq(c.tickets, 2);
    /* The flight, then both tickets in one send as the server waits for a request. */
    ck_assert_uint_eq(data_segments_in(&c), 2);
    char resp[4096];
    get_index(&c, resp, sizeof(resp));
    ck_assert_int_eq(c.tickets, 2);

    assert_resumes(c.first);
    client_close(&c);
}
END_TEST

/* A first request that waits for a backend: the tickets do not wait with it. */
START_TEST(tickets_do_not_wait_for_a_backends_answer)
{
    client_t c;
    client_open(&c, NULL);
    handshake(&c);
    send_get(&c, "/be/slow?ms=3000"); /* with the Finished */
    char resp[4096];
    /* No answer for 3 s: the tickets come before it, not in its send. */
    ck_assert_uint_eq(read_tickets(&c, resp, sizeof(resp)), 0);
    ck_assert_int_eq(c.tickets, 2);
    read_answer(&c, "ok", resp, sizeof(resp));
    assert_resumes(c.first);
    client_close(&c);
}
END_TEST

int main(void)
{
    pth_tls_pki();
    Suite *s = suite_create("tls_tickets");
    TCase *tc = tcase_create("tickets");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, tickets_leave_with_the_answer_to_a_request_sent_with_the_finished);
    tcase_add_test(tc, tickets_reach_a_client_that_sends_nothing_more);
    tcase_add_test(tc, tickets_do_not_wait_for_a_backends_answer);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
