/* https:// upstreams (SSLProxyEngine, mod_ssl's proxy side) and X-Forwarded-Proto over TLS.
 * The TLS backend is a second portico (Listen ... https) in front of the raw echo origin of
 * http_backend.h; its access log records the remote port of each request, so that the
 * number of distinct ports is the number of TLS connections (handshakes) the front made.
 * Certificates: the test PKI of ca.sh, plus two leaves for "localhost" made here (one from
 * the test CA, one from the rogue CA), since localhost is the name that resolves. */
#include "harness.h"
#include "http_backend.h"
#include "tls_client.h"

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pth_t *h;   /* the front: plain listener, ProxyPass to https:// */
static pth_t *bk;  /* the TLS backend */
static pth_http_backend_t be;

static void setup(void)
{
    h = pth_new();
    bk = pth_new();
    pth_http_backend_start_must(&be, NULL);
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    pth_stop(bk);
    pth_free(bk);
    pth_http_backend_stop(&be);
}

/* The TLS backend: a.test (the default for names it does not know) then localhost as
 * name-based hosts; cert is the PKI file stem for localhost ("localhost" or
 * "rogue-localhost"), or NULL to serve a.test's certificate for every name. */
static void start_backend(const char *cert, int keepalive_s)
{
    char lh[600] = "";
    if (cert)
        snprintf(lh, sizeof(lh), "<VirtualHost *:@PORT@>\nServerName localhost\nSSLEngine on\n"
                 "SSLCertificateFile %s.pem\nSSLCertificateKeyFile %s.key\n"
                 "ProxyPass / http://127.0.0.1:%d/\n</VirtualHost>\n",
                 pth_tls_file(cert), pth_tls_file(cert), be.port);
    pth_config_raw(bk,
        "MPM %s\nListen 127.0.0.1:@PORT@ https\nServerName localhost\n"
        "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
        "LogFormat \"%%{remote}p %%U\" conns\nCustomLog @DIR@/conns.log conns\n"
        "KeepAliveTimeout %d\n"
        "<VirtualHost *:@PORT@>\nServerName a.test\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
        "ProxyPass / http://127.0.0.1:%d/\n</VirtualHost>\n%s",
        pth_mpm(), keepalive_s, pth_tls_file("a.test.rsa.pem"),
        pth_tls_file("a.test.rsa.key"), be.port, lh);
    pth_start(bk);
}

/* The front: SSLProxy* lines (extra) and ProxyPass /s/ to the backend with keys. */
static void start_front(const char *extra, const char *keys)
{
    pth_config(h, "SSLProxyEngine On\nSSLProxyCACertificateFile %s\n%s\n"
               "ProxyPass /s/ https://localhost:%d/ %s\n",
               pth_tls_file("ca.pem"), extra, bk->port, keys);
    pth_start(h);
}

/* Lines in the backend's connection log once it has at least n (it is written
 * asynchronously), and how many distinct remote ports they name. */
static int distinct_ports(int n)
{
    int64_t end = pth_now_ms() + 5000;
    char *log = NULL;
    int lines = 0;
    for (;;) {
        free(log);
        log = pth_read_file(pth_path(bk, "conns.log"), NULL);
        lines = 0;
        for (const char *p = log; p && *p; p++)
            lines += *p == '\n';
        if (lines >= n || pth_now_ms() > end)
            break;
        pth_sleep_ms(50);
    }
    ck_assert_msg(lines >= n, "%d lines in conns.log, want %d:\n%s", lines, n, log);
    int ports[64], np = 0;
    for (char *line = log; line && *line && np < 64;) {
        int port = atoi(line);
        bool seen = false;
        for (int i = 0; i < np; i++)
            seen = seen || ports[i] == port;
        if (!seen)
            ports[np++] = port;
        char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    free(log);
    return np;
}

static void expect_status(const char *path, int status)
{
    pth_resp_t r;
    pth_get(h, path, NULL, &r);
    ck_assert_msg(r.status == status, "%s: %d, want %d: %s", path, r.status, status, r.body);
    pth_resp_free(&r);
}

START_TEST(a_backend_verified_with_the_ca_and_its_name_answers_with_sni)
{
    /* The backend's default certificate is a.test's: a check of "localhost" passes only
     * when the front sent SNI localhost. */
    start_backend("localhost", 5);
    start_front("SSLProxyVerify require", "");
    pth_resp_t r;
    pth_get(h, "/s/echo", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "GET /echo HTTP/1.1\r\n"), "%s", r.body);
    pth_resp_free(&r);
}
END_TEST

START_TEST(a_certificate_from_another_ca_is_refused_with_502_and_a_log_line)
{
    start_backend("rogue-localhost", 5);
    pth_expect_error(h, "AH02003: SSL Proxy connect failed.*certificate verification failed");
    start_front("SSLProxyVerify require", "");
    expect_status("/s/echo", 502);
    ck_assert(pth_file_wait_contains(pth_path(h, "error.log"), "unable to get local issuer",
                                     3000));
    ck_assert_int_eq(be.counts->requests, 0);
}
END_TEST

START_TEST(a_wrong_name_is_refused_and_verify_none_with_the_checks_off_accepts_it)
{
    start_backend(NULL, 5); /* a.test's certificate for "localhost" */
    pth_expect_error(h, "AH02003: .*does not name 'localhost' \\(SSLProxyCheckPeerName\\)");
    start_front("SSLProxyVerify require", "");
    expect_status("/s/echo", 502);
    pth_stop(h);
    /* SSLProxyVerify none is mod_ssl's default; the name is checked all the same. */
    start_front("", "");
    expect_status("/s/echo", 502);
    pth_stop(h);
    start_front("SSLProxyVerify none\nSSLProxyCheckPeerName off\nSSLProxyCheckPeerCN off", "");
    expect_status("/s/echo", 200);
}
END_TEST

START_TEST(verify_none_accepts_a_certificate_from_another_ca)
{
    start_backend("rogue-localhost", 5);
    start_front("SSLProxyVerify none", "");
    expect_status("/s/echo", 200);
}
END_TEST

/* Whether the backend has closed the front's connection from port front_port, by a state
 * in /proc/net/tcp that only its close makes: the front's side in CLOSE_WAIT or LAST_ACK,
 * or the backend's in FIN_WAIT1, FIN_WAIT2, CLOSING or TIME_WAIT (60 s: it stays to be
 * seen). A state seen, not a socket missed: a read of the table can skip entries while other
 * processes open and close many sockets. Read a line at a time, as the harness's
 * scan_listeners: sscanf on the rest of the whole table for every line made each look
 * quadratic in the sockets on the machine (other suites, a benchmark: 25 s at 71,000). */
static bool backend_closed(int front_port)
{
    FILE *f = fopen("/proc/net/tcp", "re");
    ck_assert(f != NULL);
    char line[512];
    bool closed = false;
    while (!closed && fgets(line, sizeof(line), f)) {
        unsigned lport, rport, st;
        if (sscanf(line, " %*d: %*x:%x %*x:%x %x", &lport, &rport, &st) != 3)
            continue; /* the heading */
        bool front = (int)lport == front_port && (int)rport == bk->port;
        bool back = (int)lport == bk->port && (int)rport == front_port;
        closed = (front && (st == 0x08 || st == 0x09)) ||
                 (back && (st == 0x04 || st == 0x05 || st == 0x06 || st == 0x0B));
    }
    fclose(f);
    return closed;
}

/* Three requests on one client connection (one child under every MPM): one TLS
 * connection to the backend. Then the backend closes it (KeepAliveTimeout 1 s, the front
 * keeps it 30 s): the next request still succeeds, on a second connection. The test waits
 * for that close rather than sleeping past the 1 s: a backend that closed it 1.5 s late (a
 * loaded machine) left it open after a 2 s sleep, and the request went on it as it should.
 * The client's connection must outlast that wait (10 s at most) for the late request to
 * reach the child that holds the kept connection: the front keeps it 30 s, not the default
 * 5 s, which closed it, as it should, before a wait of 5 s ended (the request then read
 * EOF, -104). */
START_TEST(tls_connections_are_kept_reused_and_a_stale_one_replaced)
{
    start_backend("localhost", 1);
    start_front("SSLProxyVerify require\nKeepAliveTimeout 30", "ttl=30");
    pth_conn_t *c = pth_conn_open(h);
    for (int i = 0; i < 3; i++) {
        pth_resp_t r;
        pth_conn_sendf(c, "GET /s/echo?i=%d HTTP/1.1\r\nHost: localhost\r\n\r\n", i);
        ck_assert_int_eq(pth_conn_read_response(c, &r, false, 10000), 0);
        ck_assert_int_eq(r.status, 200);
        pth_resp_free(&r);
    }
    ck_assert_int_eq(distinct_ports(3), 1);
    char *log = pth_read_file(pth_path(bk, "conns.log"), NULL);
    ck_assert(log != NULL);
    int front_port = atoi(log);
    free(log);
    bool closed = false;
    for (int64_t end = pth_now_ms() + 10000; !closed && pth_now_ms() < end; pth_sleep_ms(50))
        closed = backend_closed(front_port);
    ck_assert_msg(closed,
                  "the backend kept the connection from port %d 10 s with KeepAliveTimeout 1",
                  front_port);
    pth_resp_t r;
    pth_conn_sendf(c, "GET /s/echo?i=late HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    ck_assert_int_eq(distinct_ports(4), 2);
    pth_conn_close(c);
}
END_TEST

/* ProxyPreserveHost: the client's Host is the SNI and the name checked, and a kept
 * connection serves only requests for its own name. */
START_TEST(proxy_preserve_host_sends_the_clients_host_as_sni_and_pools_by_it)
{
    start_backend("localhost", 5);
    start_front("SSLProxyVerify require\nProxyPreserveHost On", "");
    pth_conn_t *c = pth_conn_open(h);
    const char *hosts[] = {"a.test", "localhost:8443", "a.test", "localhost"};
    for (int i = 0; i < 4; i++) {
        pth_resp_t r;
        pth_conn_sendf(c, "GET /s/echo HTTP/1.1\r\nHost: %s\r\n\r\n", hosts[i]);
        ck_assert_int_eq(pth_conn_read_response(c, &r, false, 10000), 0);
        ck_assert_msg(r.status == 200, "Host %s: %d", hosts[i], r.status);
        pth_resp_free(&r);
    }
    ck_assert_int_eq(distinct_ports(4), 2);
    pth_conn_close(c);
}
END_TEST

START_TEST(a_balancer_member_over_https_is_served)
{
    start_backend("localhost", 5);
    pth_config(h, "SSLProxyEngine On\nSSLProxyVerify require\nSSLProxyCACertificateFile %s\n"
               "<Proxy \"balancer://tc\">\nBalancerMember https://localhost:%d\n</Proxy>\n"
               "ProxyPass /lb/ balancer://tc/\n", pth_tls_file("ca.pem"), bk->port);
    pth_start(h);
    for (int i = 0; i < 3; i++)
        expect_status("/lb/echo", 200);
}
END_TEST

/* The backend's connection log has a line for path (written asynchronously). */
static bool backend_logged(const char *path, int ms)
{
    char needle[128];
    snprintf(needle, sizeof(needle), " %s\n", path);
    return pth_file_wait_contains(pth_path(bk, "conns.log"), needle, ms);
}

/* A balancer of the TLS backend with health checks (mod_proxy_hcheck over https://). */
static void start_checked_balancer(void)
{
    pth_config(h, "SSLProxyEngine On\nSSLProxyVerify require\nSSLProxyCACertificateFile %s\n"
               "<Proxy \"balancer://tc\">\nBalancerMember https://localhost:%d "
               "hcmethod=GET hcuri=/hc/echo hcinterval=1 hcfails=1\n</Proxy>\n"
               "ProxyPass /lb/ balancer://tc/\n", pth_tls_file("ca.pem"), bk->port);
    pth_start(h);
}

START_TEST(health_checks_of_an_https_member_speak_tls_and_verify_it)
{
    start_backend("localhost", 5);
    start_checked_balancer();
    ck_assert_msg(backend_logged("/hc/echo", 5000), "no probe reached the backend");
    /* Two more intervals: a probe that failed would have ejected the member (hcfails=1). */
    int64_t end = pth_now_ms() + 2500;
    while (pth_now_ms() < end)
        pth_sleep_ms(100);
    ck_assert(!pth_file_wait_contains(h->error_log, "ejected", 0));
    expect_status("/lb/echo", 200);
}
END_TEST

START_TEST(a_health_check_refuses_an_https_member_with_a_certificate_of_another_ca)
{
    pth_expect_error(h, "AH01079|AH02003|no usable member|all members|AH01097");
    start_backend("rogue-localhost", 5);
    start_checked_balancer();
    ck_assert(pth_file_wait_contains(h->error_log, "ejected after 1 failed check "
                                     "(certificate verification failed", 5000));
    expect_status("/lb/echo", 503);
}
END_TEST

START_TEST(https_without_ssl_proxy_engine_or_with_a_bad_ca_file_is_a_config_error)
{
    char msg[4096];
    pth_config(h, "ProxyPass /s/ https://localhost:9/\n");
    ck_assert_int_ne(pth_try_start(h, NULL, msg, sizeof(msg)), 0);
    ck_assert_msg(strstr(msg, "portico.conf:") && strstr(msg, "AH00961"), "%s", msg);
    pth_config(h, "<Proxy \"balancer://tc\">\nBalancerMember https://localhost:9\n</Proxy>\n"
               "ProxyPass /lb/ balancer://tc/\n");
    ck_assert_int_ne(pth_try_start(h, NULL, msg, sizeof(msg)), 0);
    ck_assert_msg(strstr(msg, "AH00961"), "%s", msg);
    /* A CA file that cannot be read: its directive's line. */
    pth_config(h, "SSLProxyEngine On\nSSLProxyCACertificateFile /nonexistent/ca.pem\n"
               "ProxyPass /s/ https://localhost:9/\n");
    ck_assert_int_ne(pth_try_start(h, NULL, msg, sizeof(msg)), 0);
    ck_assert_msg(strstr(msg, "portico.conf:") && strstr(msg, "SSLProxyCACertificateFile"),
                  "%s", msg);
}
END_TEST

/* A backend that takes only clients with a certificate from the test CA whose CN is alice
 * (SSLVerifyClient require, SSLRequire), and revokes bob's. */
static void start_mtls_backend(void)
{
    pth_config_raw(bk,
        "MPM %s\nListen 127.0.0.1:@PORT@ https\nServerName localhost\n"
        "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
        "<VirtualHost *:@PORT@>\nServerName localhost\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\nSSLVerifyClient require\n"
        "SSLCACertificateFile %s\n<Location />\nSSLRequire %%{SSL_CLIENT_S_DN_CN} == \"alice\"\n"
        "</Location>\nProxyPass / http://127.0.0.1:%d/\n</VirtualHost>\n",
        pth_mpm(), pth_tls_file("localhost.pem"), pth_tls_file("localhost.key"),
        pth_tls_file("ca.pem"), be.port);
    pth_start(bk);
}

/* "cert + key" of the PKI's name, one PEM file in h's dir (what the directive takes). */
static const char *machine_file(const char *name)
{
    char cert[64], key[64];
    snprintf(cert, sizeof(cert), "%s.pem", name);
    snprintf(key, sizeof(key), "%s.key", name);
    char *c = pth_read_file(pth_tls_file(cert), NULL), *k = pth_read_file(pth_tls_file(key), NULL);
    char rel[64];
    snprintf(rel, sizeof(rel), "machine-%s.pem", name);
    const char *p = pth_write_conf_file(h, rel, "%s%s", c, k);
    free(c);
    free(k);
    return p;
}

START_TEST(a_machine_certificate_is_sent_to_a_backend_that_asks_for_one)
{
    start_mtls_backend();
    pth_expect_error(h, "AH02003|AH01075|SSL Proxy connect failed|handshake|cannot send the request");
    char extra[900];
    snprintf(extra, sizeof(extra), "SSLProxyVerify require\nSSLProxyMachineCertificateFile %s",
             machine_file("client"));
    start_front(extra, "");
    expect_status("/s/echo", 200);
    pth_stop(h);
    start_front("SSLProxyVerify require", ""); /* no certificate: the handshake fails */
    pth_resp_t r;
    pth_get(h, "/s/echo", NULL, &r);
    /* TLS 1.3 says so after the client's Finished: a reset while reading (502) or a
     * refused connection (503), as the alert arrives */
    ck_assert_msg(r.status == 502 || r.status == 503, "%d", r.status);
    pth_resp_free(&r);
    pth_stop(h);
    /* bob's is from the same CA but fails the backend's SSLRequire */
    snprintf(extra, sizeof(extra), "SSLProxyVerify require\nSSLProxyMachineCertificateFile %s",
             machine_file("revoked"));
    start_front(extra, "");
    expect_status("/s/echo", 403);
    pth_stop(h);
    /* revocation of the backend's own certificate: a CRL of its CA that does not list it
     * passes; checking without any CRL is a config error */
    snprintf(extra, sizeof(extra), "SSLProxyVerify require\nSSLProxyMachineCertificateFile %s\n"
             "SSLProxyCARevocationFile %s\nSSLProxyCARevocationCheck leaf",
             machine_file("client"), pth_tls_file("ca.crl.pem"));
    start_front(extra, "");
    expect_status("/s/echo", 200);
}
END_TEST

START_TEST(bad_machine_certificate_files_are_config_errors)
{
    char body[900];
    snprintf(body, sizeof(body), "SSLProxyEngine On\nSSLProxyMachineCertificateFile %s\n"
             "ProxyPass /s/ https://localhost:1/\n", pth_tls_file("client.pem"));
    pth_config(h, "%s", body);
    pth_run_t r;
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_int_ne(r.code, 0);
    ck_assert_msg(strstr(r.err, "without its private key"), "%s", r.err);
    pth_run_free(&r);
    pth_config(h, "SSLProxyEngine On\nSSLProxyCARevocationCheck chain\n"
               "ProxyPass /s/ https://localhost:1/\n");
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_int_ne(r.code, 0);
    ck_assert_msg(strstr(r.err, "neither SSLProxyCARevocationFile"), "%s", r.err);
    pth_run_free(&r);
}
END_TEST

START_TEST(a_request_over_tls_reaches_an_http_backend_with_x_forwarded_proto_https)
{
    pth_config_raw(h,
        "MPM %s\nListen 127.0.0.1:@PORT@ https\nServerName a.test\n"
        "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
        "SSLEngine on\nSSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
        "ProxyPass /p/ http://127.0.0.1:%d/\n",
        pth_mpm(), pth_tls_file("a.test.rsa.pem"), pth_tls_file("a.test.rsa.key"), be.port);
    pth_start(h);
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/p/echo"};
    pth_resp_t r;
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "\r\nX-Forwarded-Proto: https\r\n"), "%s", r.body);
    pth_resp_free(&r);
}
END_TEST

START_TEST(one_mib_bodies_cross_an_https_backend_intact_both_ways)
{
    start_backend("localhost", 5);
    start_front("SSLProxyVerify require", "");
    size_t n = 1 << 20;
    unsigned char *body = malloc(n);
    pth_http_pattern_fill(body, n, 0);
    char hex[65], want[128];
    pth_sha256_hex(body, n, hex);
    snprintf(want, sizeof(want), "body-len: %zu\nbody-sha256: %s\n", n, hex);
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, "POST", "/s/echo", NULL, body, n, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, want), "%s", r.body);
    pth_resp_free(&r);
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    ck_assert_int_eq(pth_curl(h, "POST", "/s/echo", chunked, body, n, &r), 0);
    ck_assert_msg(strstr(r.body, want), "%s", r.body);
    pth_resp_free(&r);
    const char *paths[] = {"/s/bytes?n=1048576", "/s/bytes?n=1048576&chunked=1"};
    for (size_t i = 0; i < 2; i++) {
        pth_get(h, paths[i], NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_uint_eq(r.body_len, n);
        char got[65];
        pth_sha256_hex(r.body, r.body_len, got);
        ck_assert_msg(strcmp(got, hex) == 0, "%s: body differs", paths[i]);
        pth_resp_free(&r);
    }
    free(body);
}
END_TEST

/* Two servers proxy to one https:// URL under different SSLProxy* terms. A kept connection
 * made under the lax server's (no verification) must not carry a request of the strict
 * one (SSLProxyVerify require against the test CA): the backend's certificate is the rogue
 * CA's, so each of the strict server's requests is refused (502), before and after the lax
 * one's. In Apache each server's ProxyPass has its own worker and pool. */
START_TEST(a_kept_connection_is_not_reused_under_another_servers_proxy_terms)
{
    start_backend("rogue-localhost", 5);
    pth_expect_error(h, "AH02003|certificate verification failed");
    pth_config(h,
        "<VirtualHost *:@PORT@>\nServerName lax.test\nSSLProxyEngine On\n"
        "SSLProxyVerify none\nProxyPass /s/ https://localhost:%d/\n</VirtualHost>\n"
        "<VirtualHost *:@PORT@>\nServerName strict.test\nSSLProxyEngine On\n"
        "SSLProxyVerify require\nSSLProxyCACertificateFile %s\n"
        "ProxyPass /s/ https://localhost:%d/\n</VirtualHost>\n",
        bk->port, pth_tls_file("ca.pem"), bk->port);
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    const char *hosts[] = {"strict.test", "lax.test", "strict.test", "lax.test"};
    int want[] = {502, 200, 502, 200};
    for (int i = 0; i < 4; i++) {
        pth_resp_t r;
        pth_conn_sendf(c, "GET /s/echo HTTP/1.1\r\nHost: %s\r\n\r\n", hosts[i]);
        ck_assert_int_eq(pth_conn_read_response(c, &r, false, 10000), 0);
        ck_assert_msg(r.status == want[i], "request %d (Host %s): %d, want %d", i, hosts[i],
                      r.status, want[i]);
        pth_resp_free(&r);
    }
    pth_conn_close(c);
}
END_TEST

/* The same with a client certificate: only the server that names a machine certificate
 * reaches the backend that requires one; the other server's request does not ride on the
 * connection authenticated with it. */
START_TEST(a_machine_certificate_connection_is_not_lent_to_another_server)
{
    start_mtls_backend();
    pth_expect_error(h, "AH02003|AH01075|AH01084|AH01097|SSL Proxy connect failed|handshake|"
                        "cannot send the request|error reading");
    pth_config(h,
        "<VirtualHost *:@PORT@>\nServerName withcert.test\nSSLProxyEngine On\n"
        "SSLProxyVerify require\nSSLProxyCACertificateFile %s\n"
        "SSLProxyMachineCertificateFile %s\nProxyPass /s/ https://localhost:%d/\n"
        "</VirtualHost>\n"
        "<VirtualHost *:@PORT@>\nServerName nocert.test\nSSLProxyEngine On\n"
        "SSLProxyVerify require\nSSLProxyCACertificateFile %s\n"
        "ProxyPass /s/ https://localhost:%d/\n</VirtualHost>\n",
        pth_tls_file("ca.pem"), machine_file("client"), bk->port, pth_tls_file("ca.pem"),
        bk->port);
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    const char *hosts[] = {"withcert.test", "nocert.test"};
    for (int i = 0; i < 2; i++) {
        pth_resp_t r;
        pth_conn_sendf(c, "GET /s/echo HTTP/1.1\r\nHost: %s\r\n\r\n", hosts[i]);
        ck_assert_int_eq(pth_conn_read_response(c, &r, false, 10000), 0);
        if (i == 0)
            ck_assert_msg(r.status == 200, "withcert.test: %d", r.status);
        else
            ck_assert_msg(r.status == 502 || r.status == 503,
                          "nocert.test (no SSLProxyMachineCertificateFile) got %d from a "
                          "backend that requires a client certificate", r.status);
        pth_resp_free(&r);
    }
    pth_conn_close(c);
}
END_TEST

/* SSLProxyCheckPeerCN compares the whole CN: "localhost\0.evil.example" (a NUL inside, the
 * null-prefix trick of a CA that signs any name asked for) does not name localhost, as
 * mod_ssl's comparison of SSL_CLIENT_S_DN_CN (control characters escaped) does not. */
START_TEST(a_nul_inside_the_backends_cn_does_not_pass_ssl_proxy_check_peer_cn)
{
    static const char cn[] = "localhost\0.evil.example";
    pth_cert_spec_t nul = {.name = "nul-localhost", .cn = cn, .cn_len = sizeof(cn) - 1,
                           .from_s = -3600, .to_s = 86400};
    pth_tls_issue(&nul);
    start_backend("nul-localhost", 5);
    pth_expect_error(h, "AH02003: .*CN 'localhost\\\\00.evil.example' is not 'localhost' "
                        "\\(SSLProxyCheckPeerCN\\)");
    start_front("SSLProxyVerify require\nSSLProxyCheckPeerName off\nSSLProxyCheckPeerCN on",
                "");
    expect_status("/s/echo", 502);
    ck_assert_int_eq(be.counts->requests, 0);
    pth_stop(h);
    pth_stop(bk);
    start_backend("localhost", 5); /* CN=localhost: the same check passes */
    start_front("SSLProxyVerify require\nSSLProxyCheckPeerName off\nSSLProxyCheckPeerCN on",
                "");
    expect_status("/s/echo", 200);
}
END_TEST

/* ---- A backend that renegotiates ---------------------------------------------------- */

/* A TLS 1.2 origin of one connection and one request that, once it has the request's head,
 * asks for a client certificate by renegotiating, as mod_ssl does for an SSLVerifyClient
 * inside a <Location>, and answers with the CN it got ("none" when the client sent none or
 * refused to renegotiate). */
typedef struct {
    int lfd, port;
    SSL_CTX *ctx;
    pthread_t th;
} reneg_origin_t;

static int accept_any_cert(int ok, X509_STORE_CTX *x)
{
    (void)ok, (void)x;
    return 1; /* the answer reports the CN; the front's side is what is tested */
}

/* Reads the request's head; 0 once it is all in. */
static int reneg_read_head(SSL *ssl)
{
    char head[8192];
    size_t n = 0;
    while (n < sizeof(head) - 1) {
        int k = SSL_read(ssl, head + n, (int)(sizeof(head) - 1 - n));
        if (k <= 0)
            return -1;
        n += (size_t)k;
        head[n] = '\0';
        if (strstr(head, "\r\n\r\n"))
            return 0;
    }
    return -1;
}

/* Sends HelloRequest and reads (non-blocking) until the client's new handshake is done:
 * the client has no bytes of its own to send, so a read sees only handshake records. */
static const char *reneg_ask_for_a_certificate(SSL *ssl, int fd)
{
    SSL_set_verify(ssl, SSL_VERIFY_PEER, accept_any_cert);
    if (SSL_renegotiate(ssl) != 1 || SSL_do_handshake(ssl) != 1)
        return "failed";
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int64_t end = pth_now_ms() + 5000;
    while (!(SSL_is_init_finished(ssl) && SSL_get0_peer_certificate(ssl)) &&
           pth_now_ms() < end) {
        char b;
        int k = SSL_read(ssl, &b, 1);
        int e = SSL_get_error(ssl, k);
        if (k > 0 || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE))
            break;
        struct pollfd p = {.fd = fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
        (void)poll(&p, 1, 100);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    X509 *peer = SSL_get0_peer_certificate(ssl);
    static char cn[64];
    if (!peer || X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn,
                                           sizeof(cn)) <= 0)
        return "none";
    return cn;
}

static void *reneg_serve(void *arg)
{
    reneg_origin_t *o = arg;
    int fd = accept(o->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    SSL *ssl = SSL_new(o->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1 && reneg_read_head(ssl) == 0) {
        const char *who = reneg_ask_for_a_certificate(ssl, fd);
        char resp[256];
        int n = snprintf(resp, sizeof(resp),
                         "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         strlen(who), who);
        SSL_write(ssl, resp, n);
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(fd);
    return NULL;
}

static void reneg_origin_start(reneg_origin_t *o)
{
    memset(o, 0, sizeof(*o));
    o->ctx = SSL_CTX_new(TLS_server_method());
    ck_assert_ptr_nonnull(o->ctx);
    SSL_CTX_set_max_proto_version(o->ctx, TLS1_2_VERSION);
    /* (a server that verifies clients needs one, or its handshake ends in internal_error) */
    SSL_CTX_set_session_id_context(o->ctx, (const unsigned char *)"reneg", 5);
    /* a full handshake, as mod_ssl's: a resumed one would ask for no certificate */
    SSL_CTX_set_options(o->ctx, SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
    ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(o->ctx, pth_tls_file("localhost.pem")), 1);
    ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(o->ctx, pth_tls_file("localhost.key"),
                                                 SSL_FILETYPE_PEM), 1);
    ck_assert_int_eq(SSL_CTX_load_verify_locations(o->ctx, pth_tls_file("ca.pem"), NULL), 1);
    /* the certificate request names the CAs it takes, so the client picks its certificate */
    SSL_CTX_set_client_CA_list(o->ctx, SSL_load_client_CA_file(pth_tls_file("ca.pem")));
    o->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sin);
    ck_assert(bind(o->lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(o->lfd, 8) == 0 &&
              getsockname(o->lfd, (struct sockaddr *)&sin, &sl) == 0);
    o->port = ntohs(sin.sin_port);
    ck_assert_int_eq(pthread_create(&o->th, NULL, reneg_serve, o), 0);
}

/* Ends the origin: its thread is done once its one connection is (a shutdown wakes an
 * accept that never got one). */
static void reneg_origin_stop(reneg_origin_t *o)
{
    shutdown(o->lfd, SHUT_RDWR);
    pthread_join(o->th, NULL);
    close(o->lfd);
    SSL_CTX_free(o->ctx);
}

/* A backend may renegotiate to ask for the front's certificate, as mod_ssl's proxy side
 * allows (it turns renegotiation off on server contexts only): the front presents its
 * SSLProxyMachineCertificateFile then. Refusing it answered 502. */
START_TEST(a_backend_that_renegotiates_for_a_client_certificate_gets_the_machine_certificate)
{
    reneg_origin_t o;
    reneg_origin_start(&o);
    pth_expect_error(h, "AH01075|AH01102|handshake|renegotiat");
    pth_config(h, "SSLProxyEngine On\nSSLProxyCACertificateFile %s\nSSLProxyVerify require\n"
               "SSLProxyMachineCertificateFile %s\nProxyPass /r/ https://localhost:%d/\n",
               pth_tls_file("ca.pem"), machine_file("client"), o.port);
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/r/staff", NULL, &r);
    int st = r.status;
    char body[64];
    snprintf(body, sizeof(body), "%s", r.body ? r.body : "");
    pth_resp_free(&r);
    pth_stop(h);
    reneg_origin_stop(&o);
    ck_assert_msg(st == 200 && strcmp(body, "alice") == 0,
                  "a backend's renegotiation for a certificate: %d \"%s\"", st, body);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("proxy_https");
    TCase *tc = tcase_create("https");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_backend_verified_with_the_ca_and_its_name_answers_with_sni);
    tcase_add_test(tc, a_certificate_from_another_ca_is_refused_with_502_and_a_log_line);
    tcase_add_test(tc, a_wrong_name_is_refused_and_verify_none_with_the_checks_off_accepts_it);
    tcase_add_test(tc, verify_none_accepts_a_certificate_from_another_ca);
    tcase_add_test(tc, tls_connections_are_kept_reused_and_a_stale_one_replaced);
    tcase_add_test(tc, proxy_preserve_host_sends_the_clients_host_as_sni_and_pools_by_it);
    tcase_add_test(tc, a_balancer_member_over_https_is_served);
    tcase_add_test(tc, health_checks_of_an_https_member_speak_tls_and_verify_it);
    tcase_add_test(tc, a_health_check_refuses_an_https_member_with_a_certificate_of_another_ca);
    tcase_add_test(tc, https_without_ssl_proxy_engine_or_with_a_bad_ca_file_is_a_config_error);
    tcase_add_test(tc, a_request_over_tls_reaches_an_http_backend_with_x_forwarded_proto_https);
    tcase_add_test(tc, a_machine_certificate_is_sent_to_a_backend_that_asks_for_one);
    tcase_add_test(tc, bad_machine_certificate_files_are_config_errors);
    tcase_add_test(tc, one_mib_bodies_cross_an_https_backend_intact_both_ways);
    tcase_add_test(tc, a_kept_connection_is_not_reused_under_another_servers_proxy_terms);
    tcase_add_test(tc, a_machine_certificate_connection_is_not_lent_to_another_server);
    tcase_add_test(tc, a_nul_inside_the_backends_cn_does_not_pass_ssl_proxy_check_peer_cn);
    tcase_add_test(tc, a_backend_that_renegotiates_for_a_client_certificate_gets_the_machine_certificate);
    suite_add_tcase(s, tc);
    return s;
}

/* Leaves for "localhost" (SAN DNS:localhost, serverAuth) from the test CA and from the
 * rogue CA, beside ca.sh's files. */
static void make_localhost_leaves(void)
{
    const char *dir = pth_tls_pki();
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && printf 'subjectAltName=DNS:localhost\\nextendedKeyUsage=serverAuth\\n"
             "basicConstraints=CA:FALSE\\n' >lh.ext && for ca in ca rogue-ca; do "
             "stem=localhost; [ $ca = ca ] || stem=rogue-localhost; "
             "openssl req -newkey rsa:2048 -nodes -keyout $stem.key -out $stem.csr "
             "-subj /CN=localhost 2>>openssl.log && openssl x509 -req -in $stem.csr -CA $ca.pem "
             "-CAkey $ca.key -CAcreateserial -days 30 -extfile lh.ext -out $stem.pem "
             "2>>openssl.log || exit 1; done", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot make the localhost certificates (openssl)\n");
        exit(1);
    }
}

int main(void)
{
    make_localhost_leaves();
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
