/* Unit tests for the tunnel after 101 (proxy/tunnel.c) over socketpairs: the client's end
 * is a real connection (plain transport) and the backend's a socket. Each test runs twice:
 * as under worker and prefork (the relay keeps its thread and polls), and as under the
 * event MPM (the relay parks: a small loop here stands in for the MPM, polling the two
 * descriptors the park names with the events it asks for, until its deadline). */
#include "conn.h"
#include "request.h"
#include "tunnel.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    pt_conn_t *c;
    int up_fd;                 /* the tunnel's end of the backend pair */
    int conn_fd;               /* the connection's (c->fd, which the relay's thread clears) */
    int client, backend;       /* the test's ends */
    bool async;
    pthread_t th;
    pt_conn_next_t last;       /* what the relay said last */
    pthread_mutex_t mu;        /* guards parks and seen: the relay's thread writes them */
    int parks;                 /* times it parked (async) */
    pt_park_t seen;            /* the park as the relay last asked for it */
    bool ended;
} fixture_t;

/* What the relay asked for at its last park, and how many times it parked. */
static int parked(fixture_t *f, pt_park_t *seen)
{
    pthread_mutex_lock(&f->mu);
    int n = f->parks;
    if (seen)
        *seen = f->seen;
    pthread_mutex_unlock(&f->mu);
    return n;
}

static pt_config_t cfg;
static pt_vhost_t vh;

static void nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* The MPM's part: run the relay until it says close. Async: wait as the listener would, on
 * both descriptors for what the park asks, and give up at its deadline (expiry). */
static void *run_relay(void *arg)
{
    fixture_t *f = arg;
    pt_worker_t w = {0};
    for (;;) {
        f->last = f->c->proto->serve_worker(&w, f->c);
        if (f->last != PT_NEXT_PARK_TUNNEL)
            break;
        pt_park_t *p = &f->c->park;
        pthread_mutex_lock(&f->mu);
        f->parks++;
        f->seen = *p;
        pthread_mutex_unlock(&f->mu);
        ck_assert_int_eq(p->fd2, f->up_fd);
        ck_assert(p->events || p->events2);
        struct pollfd pf[2] = {{.fd = p->events ? p->fd : -1, .events = (short)p->events},
                               {.fd = p->events2 ? p->fd2 : -1, .events = (short)p->events2}};
        int64_t left = p->deadline_ms - pt_now_ms();
        if (left <= 0 || poll(pf, 2, (int)left) == 0) {
            /* Expired: the listener closes the connection and shuts the second descriptor
             * (event_park.c). */
            pt_conn_close(f->c);
            shutdown(p->fd2, SHUT_RDWR);
            f->last = PT_NEXT_CLOSE;
            break;
        }
    }
    pt_conn_close(f->c); /* as the MPM does at once on PT_NEXT_CLOSE (the memory later) */
    __atomic_store_n(&f->ended, true, __ATOMIC_SEQ_CST);
    return NULL;
}

/* A connection with `held` bytes read after its head, upgraded with `pending` bytes the
 * backend sent after its 101; the relay started in a thread. */
static void start(fixture_t *f, bool async, const char *held, const char *pending,
                  int64_t idle_ms)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    int cs[2], us[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, cs), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, us), 0);
    nonblock(cs[0]);
    struct sockaddr sa = {.sa_family = AF_UNIX};
    f->c = pt_conn_create(cs[0], &cfg, &sa, sizeof(sa));
    f->conn_fd = cs[0];
    f->c->async_write = f->async = async;
    f->c->rbuf = strdup(held);
    f->c->rlen = f->c->rcap = strlen(held);
    f->client = cs[1];
    f->backend = us[1];
    f->up_fd = us[0]; /* left blocking: the tunnel makes it non-blocking */
    pt_request_t r = {.conn = f->c, .vhost = &vh, .keepalive = true};
    ck_assert_int_eq(pt_tunnel_run(&r, us[0], NULL, pending, strlen(pending), idle_ms), 0);
    ck_assert(!r.keepalive && r.body_done);
    ck_assert_str_eq(f->c->proto->name, "tunnel");
    ck_assert_uint_eq(f->c->rpos, f->c->rlen); /* the held bytes are the tunnel's now */
    ck_assert_int_eq(pthread_create(&f->th, NULL, run_relay, f), 0);
}

/* Joins the relay (within 5 s) and frees the connection as the MPM does on close. */
static void finish(fixture_t *f)
{
    for (int i = 0; i < 500 && !__atomic_load_n(&f->ended, __ATOMIC_SEQ_CST); i++)
        usleep(10000);
    ck_assert_msg(__atomic_load_n(&f->ended, __ATOMIC_SEQ_CST), "the tunnel did not end");
    pthread_join(f->th, NULL);
    pthread_mutex_destroy(&f->mu);
    ck_assert_int_eq(f->last, PT_NEXT_CLOSE);
    pt_conn_destroy(f->c);
    ck_assert_int_eq(fcntl(f->up_fd, F_GETFD), -1); /* the backend's socket closed with it */
    close(f->client);
    close(f->backend);
}

/* Reads exactly n bytes (5 s at most); returns what it got. */
static size_t read_n(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) != 1)
            break;
        ssize_t k = read(fd, buf + got, n - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    return got;
}

static bool at_eof(int fd)
{
    char b;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 5000) == 1 && read(fd, &b, 1) == 0;
}

START_TEST(bytes_that_came_before_the_tunnel_go_first_both_ways)
{
    fixture_t f;
    start(&f, _i, "client-early", "backend-early", 5000);
    ck_assert_int_eq(write(f.client, "+later", 6), 6);
    ck_assert_int_eq(write(f.backend, "+later", 6), 6);
    char buf[64] = {0};
    ck_assert_uint_eq(read_n(f.backend, buf, 18), 18);
    ck_assert_str_eq(buf, "client-early+later");
    memset(buf, 0, sizeof(buf));
    ck_assert_uint_eq(read_n(f.client, buf, 19), 19);
    ck_assert_str_eq(buf, "backend-early+later");
    close(f.client);
    f.client = -1;
    ck_assert(at_eof(f.backend));
    close(f.backend);
    f.backend = -1;
    finish(&f);
}
END_TEST

/* Both ends write and read 4 MiB at once through the 16 KiB buffers; every byte arrives,
 * in order. */
START_TEST(relays_megabytes_both_ways_at_once)
{
    fixture_t f;
    start(&f, _i, "", "", 5000);
    size_t total = 4u << 20;
    size_t out[2] = {0, 0}, in[2] = {0, 0};
    int fds[2] = {f.client, f.backend};
    nonblock(f.client);
    nonblock(f.backend);
    char buf[8192];
    int64_t deadline = pt_now_ms() + 20000;
    while ((in[0] < total || in[1] < total) && pt_now_ms() < deadline) {
        struct pollfd p[2];
        for (int k = 0; k < 2; k++)
            p[k] = (struct pollfd){.fd = fds[k],
                                   .events = (short)(POLLIN | (out[k] < total ? POLLOUT : 0))};
        ck_assert_int_ge(poll(p, 2, 1000), 0);
        for (int k = 0; k < 2; k++) {
            if (out[k] < total && (p[k].revents & POLLOUT)) {
                size_t n = PT_MIN(sizeof(buf), total - out[k]);
                for (size_t j = 0; j < n; j++)
                    buf[j] = (char)((out[k] + j) * (k ? 7 : 13));
                ssize_t w = write(fds[k], buf, n);
                if (w > 0)
                    out[k] += (size_t)w;
            }
            if (p[k].revents & POLLIN) {
                ssize_t r = read(fds[k], buf, sizeof(buf));
                bool same = true; /* what k reads, the other end wrote (one check a read:
                                     Check records every assertion it passes) */
                for (ssize_t j = 0; j < r; j++)
                    same &= buf[j] == (char)((in[k] + (size_t)j) * (k ? 13 : 7));
                ck_assert_msg(same, "byte %zu of end %d differs", in[k], k);
                if (r > 0)
                    in[k] += (size_t)r;
            }
        }
    }
    ck_assert_uint_eq(in[0], total);
    ck_assert_uint_eq(in[1], total);
    shutdown(f.client, SHUT_WR);
    shutdown(f.backend, SHUT_WR);
    finish(&f);
}
END_TEST

/* A FIN from the client reaches the backend as a FIN, and the backend can still answer;
 * the tunnel ends once the backend's FIN has reached the client too. */
START_TEST(a_half_close_is_passed_on_and_the_other_way_goes_on)
{
    fixture_t f;
    start(&f, _i, "", "", 5000);
    ck_assert_int_eq(write(f.client, "bye", 3), 3);
    shutdown(f.client, SHUT_WR);
    char buf[16] = {0};
    ck_assert_uint_eq(read_n(f.backend, buf, 3), 3);
    ck_assert(at_eof(f.backend));
    ck_assert(!__atomic_load_n(&f.ended, __ATOMIC_SEQ_CST));
    ck_assert_int_eq(write(f.backend, "last words", 10), 10);
    ck_assert_uint_eq(read_n(f.client, buf, 10), 10);
    ck_assert_str_eq(buf, "last words");
    shutdown(f.backend, SHUT_WR);
    ck_assert(at_eof(f.client));
    finish(&f);
}
END_TEST

START_TEST(the_backend_closing_first_ends_it_for_the_client)
{
    fixture_t f;
    start(&f, _i, "", "", 5000);
    ck_assert_int_eq(write(f.backend, "closing", 7), 7);
    close(f.backend);
    f.backend = -1;
    char buf[16] = {0};
    ck_assert_uint_eq(read_n(f.client, buf, 7), 7);
    ck_assert(at_eof(f.client));
    close(f.client);
    f.client = -1;
    finish(&f);
}
END_TEST

START_TEST(an_idle_tunnel_is_closed_at_its_idle_timeout)
{
    fixture_t f;
    start(&f, _i, "", "", 300);
    int64_t t0 = pt_now_ms();
    ck_assert_int_eq(write(f.client, "x", 1), 1); /* activity moves the deadline */
    char b;
    ck_assert_uint_eq(read_n(f.backend, &b, 1), 1);
    ck_assert(at_eof(f.client));
    int64_t took = pt_now_ms() - t0;
    ck_assert_int_ge(took, 280);
    ck_assert_int_lt(took, 3000);
    finish(&f);
}
END_TEST

/* ProxyWebsocketIdleTimeout is the tunnel's own: it wins over the caller's. */
START_TEST(proxy_websocket_idle_timeout_wins_over_the_backend_timeout)
{
    vh.tunnel_idle_timeout_ms = 200;
    fixture_t f;
    start(&f, _i, "", "", 60000);
    int64_t t0 = pt_now_ms();
    ck_assert(at_eof(f.client));
    ck_assert_int_lt(pt_now_ms() - t0, 3000);
    vh.tunnel_idle_timeout_ms = 0;
    finish(&f);
}
END_TEST

/* A client that does not read: the tunnel stops reading the backend once its buffer is
 * full (it waits for the client to be writable, not for the backend's bytes), and
 * everything arrives once the client reads. */
START_TEST(a_client_that_does_not_read_holds_back_the_backend)
{
    fixture_t f;
    start(&f, _i, "", "", 5000);
    nonblock(f.backend);
    static char big[1 << 20];
    size_t sent = 0;
    for (int tries = 0; tries < 200; tries++) {
        ssize_t w = write(f.backend, big + sent, sizeof(big) - sent);
        if (w > 0)
            sent += (size_t)w;
        else
            usleep(5000);
    }
    ck_assert_uint_lt(sent, sizeof(big)); /* backpressure reached the backend */
    if (_i) {
        pt_park_t seen;
        ck_assert_int_gt(parked(&f, &seen), 0);
        ck_assert(seen.events & EPOLLOUT);
        ck_assert(!(seen.events2 & EPOLLIN));
    }
    size_t got = 0;
    static char sink[1 << 16];
    while (got < sent) {
        size_t n = read_n(f.client, sink, PT_MIN(sizeof(sink), sent - got));
        ck_assert_uint_gt(n, 0);
        got += n;
        ssize_t w = write(f.backend, big + sent, sizeof(big) - sent);
        if (w > 0)
            sent += (size_t)w;
    }
    close(f.backend);
    f.backend = -1;
    ck_assert(at_eof(f.client));
    finish(&f);
}
END_TEST

/* The client goes away for good: its FIN reaches the backend, and the backend's next
 * bytes find no one (EPIPE): the tunnel ends and the backend sees its socket closed. */
START_TEST(a_client_gone_for_good_ends_the_tunnel_at_the_next_write)
{
    fixture_t f;
    start(&f, _i, "", "", 5000);
    close(f.client);
    f.client = -1;
    ck_assert(at_eof(f.backend));
    ck_assert_int_eq(write(f.backend, "anyone?", 7), 7);
    finish(&f);
}
END_TEST

/* Under the event MPM an idle tunnel asks to be parked on both descriptors, for reading,
 * and holds no buffer meanwhile (checked by ASan's leak check and by the events alone). */
START_TEST(an_idle_tunnel_parks_on_both_descriptors)
{
    fixture_t f;
    start(&f, 1, "", "", 5000);
    pt_park_t seen;
    for (int i = 0; i < 200 && parked(&f, NULL) == 0; i++)
        usleep(5000);
    ck_assert_int_ge(parked(&f, &seen), 1);
    ck_assert_int_eq(seen.fd, f.conn_fd);
    ck_assert(seen.events & EPOLLIN);
    ck_assert(seen.events2 & EPOLLIN);
    ck_assert_int_gt(seen.deadline_ms, pt_now_ms());
    close(f.client);
    close(f.backend);
    f.client = f.backend = -1;
    finish(&f);
}
END_TEST

/* ---- An https:// backend: the tunnel relays over its TLS (wss:// to the origin) ------- */

/* A server context with a throwaway self-signed certificate. */
static SSL_CTX *tls_server_ctx(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    ck_assert(k && x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"backend", -1, -1,
                               0);
    X509_set_issuer_name(x, n);
    ck_assert(X509_sign(x, k, EVP_sha256()) > 0);
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    ck_assert(SSL_CTX_use_certificate(c, x) == 1 && SSL_CTX_use_PrivateKey(c, k) == 1);
    X509_free(x);
    EVP_PKEY_free(k);
    return c;
}

static void *tls_accept(void *arg)
{
    return (void *)(intptr_t)SSL_accept(arg);
}

/* As start, with the backend's end on TLS: *srv is the test's (the backend's) side. The
 * backend's first record is "101-head" followed by `after`; the test reads only the head
 * through the tunnel's SSL, as the HTTP client does, so `after` waits decrypted inside
 * OpenSSL (SSL_pending), with nothing left on the socket, when the tunnel starts. */
static void start_tls(fixture_t *f, bool async, const char *after, SSL_CTX **sctx, SSL **srv)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    int cs[2], us[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, cs), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, us), 0);
    nonblock(cs[0]);
    *sctx = tls_server_ctx();
    *srv = SSL_new(*sctx);
    SSL_set_fd(*srv, us[1]);
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL *cli = SSL_new(cctx);
    SSL_CTX_free(cctx); /* the SSL holds its reference */
    SSL_set_fd(cli, us[0]);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, tls_accept, *srv), 0);
    ck_assert_int_eq(SSL_connect(cli), 1);
    void *acc;
    pthread_join(th, &acc);
    ck_assert_int_eq((int)(intptr_t)acc, 1);
    char rec[256];
    int n = snprintf(rec, sizeof(rec), "101-head%s", after);
    ck_assert_int_eq(SSL_write(*srv, rec, n), n);
    char head[8];
    ck_assert_int_eq(SSL_read(cli, head, 8), 8);
    ck_assert_int_eq(SSL_pending(cli), (int)strlen(after));
    struct sockaddr sa = {.sa_family = AF_UNIX};
    f->c = pt_conn_create(cs[0], &cfg, &sa, sizeof(sa));
    f->conn_fd = cs[0];
    f->c->async_write = f->async = async;
    f->client = cs[1];
    f->backend = us[1];
    f->up_fd = us[0];
    pt_request_t r = {.conn = f->c, .vhost = &vh, .keepalive = true};
    ck_assert_int_eq(pt_tunnel_run(&r, us[0], cli, "", 0, 5000), 0);
    ck_assert_int_eq(pthread_create(&f->th, NULL, run_relay, f), 0);
}

START_TEST(over_tls_bytes_openssl_holds_reach_the_client_and_both_ways_go_on)
{
    fixture_t f;
    SSL_CTX *sctx;
    SSL *srv;
    start_tls(&f, _i, "welcome", &sctx, &srv);
    char buf[64] = {0};
    ck_assert_uint_eq(read_n(f.client, buf, 7), 7);
    ck_assert_str_eq(buf, "welcome");
    for (int i = 0; i < 5; i++) {
        /* Each round trip parks the tunnel between them under event. */
        ck_assert_int_eq(write(f.client, "ping", 4), 4);
        memset(buf, 0, sizeof(buf));
        ck_assert_int_eq(SSL_read(srv, buf, sizeof(buf)), 4);
        ck_assert_str_eq(buf, "ping");
        /* Two records in one write: the second must not wait in OpenSSL for more. */
        ck_assert_int_eq(SSL_write(srv, "po", 2), 2);
        ck_assert_int_eq(SSL_write(srv, "ng", 2), 2);
        memset(buf, 0, sizeof(buf));
        ck_assert_uint_eq(read_n(f.client, buf, 4), 4);
        ck_assert_str_eq(buf, "pong");
    }
    /* The client's FIN reaches the backend as close_notify. */
    shutdown(f.client, SHUT_WR);
    ck_assert_int_eq(SSL_read(srv, buf, sizeof(buf)), 0);
    ck_assert_int_eq(SSL_get_error(srv, 0), SSL_ERROR_ZERO_RETURN);
    /* The backend's close_notify and FIN end the other way. */
    SSL_shutdown(srv);
    shutdown(f.backend, SHUT_WR);
    ck_assert(at_eof(f.client));
    finish(&f);
    SSL_free(srv);
    SSL_CTX_free(sctx);
}
END_TEST

START_TEST(a_tunnel_that_cannot_start_closes_the_backend_socket)
{
    int cs[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, cs), 0);
    struct sockaddr sa = {.sa_family = AF_UNIX};
    pt_conn_t *c = pt_conn_create(cs[0], &cfg, &sa, sizeof(sa));
    pt_request_t r = {.conn = c, .vhost = &vh, .keepalive = true};
    int bad = dup(cs[1]);
    close(bad); /* a descriptor that is not open: fcntl fails */
    ck_assert_int_lt(pt_tunnel_run(&r, bad, NULL, "", 0, 1000), 0);
    ck_assert(!r.keepalive);
    ck_assert_ptr_eq(c->proto, NULL); /* the connection is not taken over */
    pt_conn_destroy(c);
    close(cs[1]);
}
END_TEST

int main(void)
{
    vh.timeout_ms = 60000;
    cfg.main_server = &vh;
    Suite *s = suite_create("tunnel");
    TCase *tc = tcase_create("relay");
    tcase_set_timeout(tc, 60);
    /* _i: 0 relays on its thread (worker, prefork), 1 parks (event). */
    tcase_add_loop_test(tc, bytes_that_came_before_the_tunnel_go_first_both_ways, 0, 2);
    tcase_add_loop_test(tc, a_half_close_is_passed_on_and_the_other_way_goes_on, 0, 2);
    tcase_add_loop_test(tc, the_backend_closing_first_ends_it_for_the_client, 0, 2);
    tcase_add_loop_test(tc, an_idle_tunnel_is_closed_at_its_idle_timeout, 0, 2);
    tcase_add_loop_test(tc, proxy_websocket_idle_timeout_wins_over_the_backend_timeout, 0, 2);
    tcase_add_loop_test(tc, a_client_that_does_not_read_holds_back_the_backend, 0, 2);
    tcase_add_loop_test(tc, a_client_gone_for_good_ends_the_tunnel_at_the_next_write, 0, 2);
    tcase_add_test(tc, an_idle_tunnel_parks_on_both_descriptors);
    tcase_add_loop_test(tc, over_tls_bytes_openssl_holds_reach_the_client_and_both_ways_go_on, 0,
                        2);
    tcase_add_test(tc, a_tunnel_that_cannot_start_closes_the_backend_socket);
    suite_add_tcase(s, tc);
    TCase *bulk = tcase_create("bulk");
    tcase_set_timeout(bulk, 60);
    tcase_add_loop_test(bulk, relays_megabytes_both_ways_at_once, 0, 2);
    suite_add_tcase(s, bulk);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
