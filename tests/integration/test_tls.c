/* TLS termination with a private CA made by the tests (tests/support/ca.sh): protocol
 * versions and the secure default suites, SNI for two names and the default (each name
 * with its own versions and suites), RSA and ECDSA side by side, ALPN, mutual TLS, the
 * SSL_* variables a FastCGI backend sees, plain HTTP sent to the TLS port, a stalled
 * handshake, Redirect to https with HSTS, and a 16 MiB file. Clients: openssl s_client and
 * libcurl. (Restarts: test_tls_restart.c.) */
#include "fcgi_backends.h"
#include "harness.h"
#include "tls_client.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static pth_t *h;
static int plain_port;

static void setup(void)
{
    h = pth_new();
    plain_port = pth_free_port();
    pth_write_dir_file(h, "a/index.html", "site a", 6);
    pth_write_dir_file(h, "b/index.html", "site b", 6);
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

/* Two name-based TLS vhosts on @PORT@ (a.test first, so the default: RSA and ECDSA
 * certificates; b.test RSA) and a plain listener; extra lines for the main server and each
 * vhost. */
static void write_tls_config(const char *main_extra, const char *a_extra, const char *b_extra)
{
    pth_config_raw(h,
        "MPM %s\nListen 127.0.0.1:@PORT@ https\nListen 127.0.0.1:%d\n"
        "ServerName localhost\nErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\n"
        "LogLevel info\nCustomLog @DIR@/access.log common\nDocumentRoot @DOCROOT@\n"
        "<Directory @DIR@>\nRequire all granted\n</Directory>\n%s\n"
        "<VirtualHost *:@PORT@>\nServerName a.test\nDocumentRoot @DIR@/a\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n%s\n</VirtualHost>\n"
        "<VirtualHost *:@PORT@>\nServerName b.test\nDocumentRoot @DIR@/b\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n%s\n</VirtualHost>\n",
        pth_mpm(), plain_port, main_extra, pth_tls_file("a.test.rsa.pem"),
        pth_tls_file("a.test.rsa.key"), pth_tls_file("a.test.ec.pem"),
        pth_tls_file("a.test.ec.key"), a_extra, pth_tls_file("b.test.rsa.pem"),
        pth_tls_file("b.test.rsa.key"), b_extra);
}

static void start_tls(const char *main_extra, const char *a_extra, const char *b_extra)
{
    write_tls_config(main_extra, a_extra, b_extra);
    pth_start(h);
}

static void assert_out(const char *out, const char *needle, const char *what)
{
    ck_assert_msg(strstr(out, needle) != NULL, "%s: no '%s' in:\n%.3000s", what, needle, out);
}

static void s_client_expect(const char *args, const char *needle)
{
    char *out = pth_s_client(h->port, args);
    assert_out(out, needle, args);
    free(out);
}

static void s_client_refuse(const char *args, const char *needle)
{
    char *out = pth_s_client(h->port, args);
    assert_out(out, needle, args);
    ck_assert_msg(strstr(out, "Verify return code: 0 (ok)") == NULL ||
                      strstr(out, "Cipher is (NONE)") != NULL,
                  "%s: a handshake was completed:\n%.3000s", args, out);
    free(out);
}

START_TEST(tls12_and_tls13_negotiate_and_tls10_tls11_are_refused)
{
    start_tls("", "", "");
    char ca[400];
    snprintf(ca, sizeof(ca), "-servername a.test -CAfile %s", pth_tls_file("ca.pem"));
    char a[600];
    snprintf(a, sizeof(a), "%s -tls1_2", ca);
    s_client_expect(a, "New, TLSv1.2, Cipher is ECDHE-");
    snprintf(a, sizeof(a), "%s -tls1_3", ca);
    s_client_expect(a, "New, TLSv1.3, Cipher is TLS_");
    s_client_expect(a, "Verify return code: 0 (ok)");
    /* The client is made willing (security level 0), so only the server can refuse. */
    snprintf(a, sizeof(a), "%s -tls1_1 -cipher DEFAULT@SECLEVEL=0", ca);
    s_client_refuse(a, "alert protocol version");
    snprintf(a, sizeof(a), "%s -tls1 -cipher DEFAULT@SECLEVEL=0", ca);
    s_client_refuse(a, "alert protocol version");
}
END_TEST

START_TEST(default_suites_are_aead_with_forward_secrecy_in_the_server_order)
{
    start_tls("", "", "");
    char a[600];
    /* No forward secrecy (static RSA key exchange), no AEAD (CBC): refused. */
    snprintf(a, sizeof(a), "-servername b.test -tls1_2 -cipher AES128-GCM-SHA256");
    s_client_refuse(a, "alert handshake failure");
    snprintf(a, sizeof(a), "-servername b.test -tls1_2 -cipher ECDHE-RSA-AES128-SHA");
    s_client_refuse(a, "alert handshake failure");
    /* The client prefers AES-256 first; the server's order (AES-128 first) wins. */
    snprintf(a, sizeof(a), "-servername b.test -tls1_2 -cipher "
             "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256");
    s_client_expect(a, "Cipher is ECDHE-RSA-AES128-GCM-SHA256");
    /* No compression, no renegotiation offered to the client. */
    s_client_expect(a, "Compression: NONE");
}
END_TEST

/* TLS 1.3 by default: AES-128-GCM first in the server's order (the cheapest AEAD on a CPU
 * with AES instructions, as HAProxy, Cloudflare and Mozilla's lists put it), AES-256-GCM
 * and ChaCha20-Poly1305 after it; a client that puts ChaCha20 first (no AES hardware)
 * gets it. SSLHonorCipherOrder off gives the client's order, and SSLCipherSuite TLSv1.3
 * replaces the list (a name-based server's own: each_name_negotiates_...). */
START_TEST(tls13_default_suites_prefer_aes128_and_chacha20_for_clients_that_ask_first)
{
    start_tls("", "", "");
    const char *aes256_first = "-servername a.test -tls1_3 -ciphersuites "
                               "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:"
                               "TLS_CHACHA20_POLY1305_SHA256";
    s_client_expect(aes256_first, "Cipher is TLS_AES_128_GCM_SHA256");
    s_client_expect("-servername a.test -tls1_3 -ciphersuites "
                    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:"
                    "TLS_AES_128_GCM_SHA256",
                    "Cipher is TLS_CHACHA20_POLY1305_SHA256");
    s_client_expect("-servername a.test -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384",
                    "Cipher is TLS_AES_256_GCM_SHA384");
    /* OpenSSL's default client order (AES-256 first), as wrk and curl send it. */
    s_client_expect("-servername a.test -tls1_3", "Cipher is TLS_AES_128_GCM_SHA256");
}
END_TEST

START_TEST(honor_order_off_and_sslciphersuite_tlsv13_replace_the_default_order)
{
    start_tls("SSLHonorCipherOrder off", "", "");
    s_client_expect("-servername a.test -tls1_3 -ciphersuites "
                    "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256",
                    "Cipher is TLS_AES_256_GCM_SHA384");
    pth_stop(h);
    start_tls("", "SSLCipherSuite TLSv1.3 TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256", "");
    s_client_expect("-servername a.test -tls1_3 -ciphersuites "
                    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384",
                    "Cipher is TLS_AES_256_GCM_SHA384");
    s_client_refuse("-servername a.test -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256",
                    "alert handshake failure");
}
END_TEST

/* A name-based server that is not the address's default negotiates with its own
 * SSLCipherSuite (TLSv1.3 and 1.2), SSLHonorCipherOrder and SSLProtocol, as in Apache
 * (mod_ssl switches servers in its ClientHello callback): OpenSSL picks the version and a
 * TLS 1.3 suite before its SNI callback runs. The default keeps its own. */
START_TEST(each_name_negotiates_with_its_own_suites_order_and_protocols)
{
    start_tls("", "",
              "SSLCipherSuite TLSv1.3 TLS_CHACHA20_POLY1305_SHA256\n"
              "SSLCipherSuite ECDHE-RSA-CHACHA20-POLY1305");
    s_client_expect("-servername b.test -tls1_3", "Cipher is TLS_CHACHA20_POLY1305_SHA256");
    s_client_refuse("-servername b.test -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256",
                    "alert handshake failure");
    s_client_expect("-servername b.test -tls1_2", "Cipher is ECDHE-RSA-CHACHA20-POLY1305");
    s_client_expect("-servername a.test -tls1_3", "Cipher is TLS_AES_128_GCM_SHA256");
    s_client_expect("-servername a.test -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256",
                    "Cipher is ECDHE-RSA-AES128-GCM-SHA256");
    pth_stop(h);
    start_tls("", "", "SSLHonorCipherOrder off");
    const char *aes256_first = "-tls1_3 -ciphersuites "
                               "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256";
    char a[300];
    snprintf(a, sizeof(a), "-servername b.test %s", aes256_first);
    s_client_expect(a, "Cipher is TLS_AES_256_GCM_SHA384");
    snprintf(a, sizeof(a), "-servername a.test %s", aes256_first);
    s_client_expect(a, "Cipher is TLS_AES_128_GCM_SHA256");
    pth_stop(h);
    start_tls("", "", "SSLProtocol TLSv1.2");
    s_client_expect("-servername b.test", "New, TLSv1.2, Cipher is ECDHE-");
    s_client_refuse("-servername b.test -tls1_3", "alert protocol version");
    s_client_expect("-servername a.test", "New, TLSv1.3, Cipher is TLS_");
    pth_stop(h);
    start_tls("", "", "SSLProtocol TLSv1.3");
    s_client_refuse("-servername b.test -tls1_2", "alert protocol version");
    s_client_expect("-servername b.test", "New, TLSv1.3, Cipher is TLS_");
    s_client_expect("-servername a.test -tls1_2", "New, TLSv1.2, Cipher is ECDHE-");
}
END_TEST

/* A HelloRetryRequest (the client's key share is for a group the server does not take)
 * brings a second ClientHello: the handshake stays with the server the first one named. */
START_TEST(after_a_hello_retry_the_named_server_still_makes_the_handshake)
{
    start_tls("SSLOpenSSLConfCmd Groups P-256", "",
              "SSLCipherSuite TLSv1.3 TLS_CHACHA20_POLY1305_SHA256");
    const char *args = "-servername b.test -tls1_3 -groups X25519:P-256";
    s_client_expect(args, "Server Temp Key: ECDH, prime256v1");
    s_client_expect(args, "Cipher is TLS_CHACHA20_POLY1305_SHA256");
    s_client_expect(args, "subject=CN = b.test");
}
END_TEST

START_TEST(sni_selects_each_names_certificate_and_the_default_for_unknown_or_none)
{
    start_tls("", "", "");
    s_client_expect("-servername a.test", "subject=CN = a.test");
    s_client_expect("-servername b.test", "subject=CN = b.test");
    s_client_expect("-servername c.test", "subject=CN = a.test");
    s_client_expect("-noservername", "subject=CN = a.test");
    /* The request itself is routed by Host, as Apache: each name its own document root. */
    pth_resp_t r;
    pth_tls_req_t q = {.port = h->port, .host = "b.test", .path = "/"};
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "site b");
    pth_resp_free(&r);
    q.host = "a.test";
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_str_eq(r.body, "site a");
    pth_resp_free(&r);
    /* SNI a.test, Host b.test: the same TLS terms, so b.test serves it (Apache too). */
    q.host_header = "b.test";
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "site b");
    pth_resp_free(&r);
}
END_TEST

/* SSLStrictSNIVHostCheck (mod_ssl): a client without SNI may not reach a name-based server
 * that has the check On (403, AH02033); On in the address's default closes every name of it
 * to such clients. With SNI nothing changes. */
/* A GET / for host by openssl s_client with args; its answer must hold needle. */
static void s_client_get_expect(const char *host, const char *args, const char *needle)
{
    char *out = pth_s_client_get(h->port, host, args);
    assert_out(out, needle, args);
    free(out);
}

START_TEST(strict_sni_vhost_check_refuses_clients_without_sni)
{
    start_tls("", "", "SSLStrictSNIVHostCheck On");
    pth_expect_error(h, "AH02033");
    s_client_get_expect("b.test", "-noservername", "HTTP/1.1 403");
    s_client_get_expect("a.test", "-noservername", "HTTP/1.1 200");
    s_client_get_expect("b.test", "-servername b.test", "HTTP/1.1 200");
    ck_assert(pth_file_wait_contains(h->error_log, "AH02033", 3000));
    pth_stop(h);
    /* On in the address's default: no name of it without SNI. */
    start_tls("", "SSLStrictSNIVHostCheck On", "");
    pth_expect_error(h, "AH02033");
    s_client_get_expect("b.test", "-noservername", "HTTP/1.1 403");
    s_client_get_expect("a.test", "-noservername", "HTTP/1.1 403");
    s_client_get_expect("a.test", "-servername a.test", "HTTP/1.1 200");
    pth_stop(h);
    /* On outside the vhosts: both inherit it. */
    start_tls("SSLStrictSNIVHostCheck On", "", "");
    pth_expect_error(h, "AH02033");
    s_client_get_expect("b.test", "-noservername", "HTTP/1.1 403");
    s_client_get_expect("b.test", "-servername b.test", "HTTP/1.1 200");
    /* Off again in one vhost: that one is open without SNI. */
    pth_stop(h);
    start_tls("SSLStrictSNIVHostCheck On", "SSLStrictSNIVHostCheck Off",
              "SSLStrictSNIVHostCheck Off");
    s_client_get_expect("b.test", "-noservername", "HTTP/1.1 200");
}
END_TEST

START_TEST(one_server_offers_its_rsa_and_its_ecdsa_certificate)
{
    start_tls("", "", "");
    s_client_expect("-servername a.test -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256",
                    "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256");
    s_client_expect("-servername a.test -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256",
                    "Cipher is ECDHE-RSA-AES128-GCM-SHA256");
    s_client_expect("-servername a.test -tls1_3 -sigalgs ecdsa_secp256r1_sha256",
                    "Peer signature type: ECDSA");
    s_client_expect("-servername a.test -tls1_3 -sigalgs rsa_pss_rsae_sha256",
                    "Peer signature type: RSA-PSS");
}
END_TEST

START_TEST(alpn_picks_from_what_protocols_lists_in_the_servers_order)
{
    start_tls("", "Protocols h2 http/1.1", "Protocols http/1.1");
    s_client_expect("-servername b.test -alpn h2,http/1.1", "ALPN protocol: http/1.1");
    s_client_expect("-servername b.test -alpn spdy/3,foo", "No ALPN negotiated");
    /* libcurl offering h2 and http/1.1 to a server that lists only http/1.1. */
    pth_resp_t r;
    pth_tls_req_t q = {.port = h->port, .host = "b.test", .path = "/", .http2 = true};
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.version, 11);
    ck_assert_str_eq(r.body, "site b");
    pth_resp_free(&r);
}
END_TEST

START_TEST(mutual_tls_takes_a_client_certificate_from_the_ca_and_refuses_others)
{
    char b[600];
    snprintf(b, sizeof(b), "SSLVerifyClient require\nSSLVerifyDepth 2\n"
             "SSLCACertificateFile %s", pth_tls_file("ca.pem"));
    start_tls("", "", b);
    /* The certificate request names b's CAs (a has none). */
    char args[1200];
    snprintf(args, sizeof(args), "-servername b.test -cert %s -key %s", pth_tls_file("client.pem"),
             pth_tls_file("client.key"));
    s_client_expect(args, "Acceptable client certificate CA names\n"
                          "O = portico tests, CN = portico test CA\n");
    pth_resp_t r;
    pth_tls_req_t q = {.port = h->port, .host = "b.test", .path = "/",
                       .cert = "client.pem", .key = "client.key"};
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    q.cert = q.key = NULL;
    ck_assert_int_ne(pth_tls_get(&q, &r), 0);
    pth_resp_free(&r);
    q.cert = "rogue.pem", q.key = "rogue.key";
    ck_assert_int_ne(pth_tls_get(&q, &r), 0);
    pth_resp_free(&r);
    /* a.test asks for nothing: the same client without a certificate is served there. */
    q = (pth_tls_req_t){.port = h->port, .host = "a.test", .path = "/"};
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    /* ... but may not name b.test in Host to pass b's check by a's handshake: 421. */
    q.host_header = "b.test";
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 421);
    ck_assert_str_ne(r.body, "site b");
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "TLS handshake failed", 3000));
}
END_TEST

START_TEST(a_fastcgi_backend_sees_https_and_the_client_certificate)
{
    pth_fcgi_responder_t resp;
    char msg[512];
    if (pth_fcgi_responder_start(&resp, pth_path(h, "resp.sock"), msg, sizeof(msg)) != 0)
        ck_abort_msg("%s", msg);
    char b[800];
    snprintf(b, sizeof(b), "SSLVerifyClient optional\nSSLCACertificateFile %s\n"
             "ProxyPass /f/ \"unix:@DIR@/resp.sock|fcgi://localhost/\"",
             pth_tls_file("ca.pem"));
    start_tls("", "", b);
    pth_resp_t r;
    pth_tls_req_t q = {.port = h->port, .host = "b.test", .path = "/f/env",
                       .cert = "client.pem", .key = "client.key"};
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    assert_out(r.body, "HTTPS=on\n", "env");
    assert_out(r.body, "REQUEST_SCHEME=https\n", "env");
    assert_out(r.body, "SSL_PROTOCOL=TLSv1.3\n", "env");
    assert_out(r.body, "SSL_CIPHER=TLS_AES_", "env");
    assert_out(r.body, "SSL_CLIENT_S_DN=CN=alice,O=portico tests\n", "env");
    assert_out(r.body, "SSL_CLIENT_VERIFY=SUCCESS\n", "env");
    assert_out(r.body, "SSL_CLIENT_CERT=-----BEGIN CERTIFICATE-----", "env");
    pth_resp_free(&r);
    q.cert = q.key = NULL; /* optional: no certificate is fine, and said */
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    assert_out(r.body, "SSL_CLIENT_VERIFY=NONE\n", "env");
    assert_out(r.body, "SSL_CLIENT_S_DN=(unset)\n", "env");
    pth_resp_free(&r);
    pth_stop(h);
    pth_fcgi_responder_stop(&resp);
}
END_TEST

START_TEST(plain_http_to_the_tls_port_gets_a_400_in_plaintext_and_a_log_line)
{
    start_tls("", "", "");
    static const char req[] = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";
    pth_resp_t r;
    bool closed = false;
    ck_assert_int_eq(pth_raw(h, req, sizeof(req) - 1, 3000, &r, &closed), 0);
    ck_assert_int_eq(r.status, 400);
    assert_out(r.body, "speaking plain HTTP to an SSL-enabled server port", "400 page");
    ck_assert(closed);
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "plain HTTP spoken on a TLS port", 3000));
    s_client_expect("-servername a.test", "subject=CN = a.test"); /* still serving TLS */
}
END_TEST

START_TEST(a_stalled_handshake_is_closed_after_its_timeout_while_others_are_served)
{
    start_tls("RequestReadTimeout header=2", "", "");
    pth_conn_t *silent = pth_conn_open(h);
    pth_conn_t *half = pth_conn_open(h);
    /* A handshake record header that promises 80 bytes, then nothing. */
    ck_assert_int_eq(pth_conn_send(half, "\x16\x03\x01\x00\x50\x01", 6), 0);
    int64_t t0 = pth_now_ms();
    for (int i = 0; i < 3; i++) {
        pth_resp_t r;
        pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/"};
        ck_assert_int_eq(pth_tls_get(&q, &r), 0);
        ck_assert_str_eq(r.body, "site a");
        pth_resp_free(&r);
    }
    ck_assert_msg(pth_now_ms() - t0 < 1500, "others waited %lld ms",
                  (long long)(pth_now_ms() - t0));
    /* (The silent one is not even accepted yet: TCP_DEFER_ACCEPT keeps it in the kernel,
     * as Apache's AcceptFilter does; it costs portico nothing.) */
    ck_assert(pth_conn_wait_closed(half, 6000));
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(took >= 1500 && took < 6000, "closed after %lld ms", (long long)took);
    pth_conn_close(silent);
    pth_conn_close(half);
    ck_assert(pth_file_wait_contains(h->error_log, "TLS handshake not completed in time",
                                     2000));
}
END_TEST

/* Event only: with one worker thread in all, handshakes stalled by their clients are parked
 * with the listener, so the one worker still serves everyone else. */
START_TEST(under_event_stalled_handshakes_hold_no_worker)
{
    start_tls("RequestReadTimeout header=3\nStartServers 1\nServerLimit 1\n"
              "ThreadsPerChild 1\nMaxRequestWorkers 1\nMinSpareThreads 1\n"
              "MaxSpareThreads 1", "", "");
    pth_conn_t *stalled[3];
    for (int i = 0; i < 3; i++) {
        stalled[i] = pth_conn_open(h);
        ck_assert_int_eq(pth_conn_send(stalled[i], "\x16\x03\x01\x00\x50\x01", 6), 0);
    }
    pth_sleep_ms(200); /* each has reached the worker and been parked */
    int64_t t0 = pth_now_ms();
    for (int i = 0; i < 3; i++) {
        pth_resp_t r;
        pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/"};
        ck_assert_int_eq(pth_tls_get(&q, &r), 0);
        ck_assert_str_eq(r.body, "site a");
        pth_resp_free(&r);
    }
    ck_assert_msg(pth_now_ms() - t0 < 2000, "served in %lld ms",
                  (long long)(pth_now_ms() - t0));
    for (int i = 0; i < 3; i++) {
        ck_assert(pth_conn_wait_closed(stalled[i], 6000));
        pth_conn_close(stalled[i]);
    }
}
END_TEST

START_TEST(redirect_permanent_to_https_and_hsts_on_every_answer)
{
    char main_extra[400];
    snprintf(main_extra, sizeof(main_extra),
             "<VirtualHost *:%d>\nServerName a.test\nRedirect permanent / https://a.test:@PORT@/\n"
             "</VirtualHost>", plain_port);
    start_tls(main_extra, "Header always set Strict-Transport-Security \"max-age=63072000\"",
              "");
    pth_conn_t *c = pth_conn_open_port(plain_port);
    ck_assert_int_eq(pth_conn_sendf(c, "GET /x/y?z=1 HTTP/1.1\r\nHost: a.test\r\n"
                                       "Connection: close\r\n\r\n"), 0);
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 3000), 0);
    ck_assert_int_eq(r.status, 301);
    char want[200];
    snprintf(want, sizeof(want), "https://a.test:%d/x/y?z=1", h->port);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), want);
    pth_resp_free(&r);
    pth_conn_close(c);
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/"};
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "Strict-Transport-Security"), "max-age=63072000");
    pth_resp_free(&r);
    q.path = "/missing";
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(pth_resp_header(&r, "Strict-Transport-Security"), "max-age=63072000");
    pth_resp_free(&r);
}
END_TEST

/* Sends req on ssl and reads as many responses as it holds requests, each "site a". */
static void tls_exchange(SSL *ssl, const char *req, int nreq, const char *what)
{
    ck_assert_int_eq(SSL_write(ssl, req, (int)strlen(req)), (int)strlen(req));
    char buf[8192];
    size_t len = 0, at = 0;
    for (int i = 0; i < nreq; i++) {
        pth_resp_t r;
        size_t used = 0;
        int rc;
        while ((rc = pth_parse_response(buf + at, len - at, false, false, &r, &used)) ==
               -EAGAIN) {
            ck_assert_msg(len < sizeof(buf), "%s: response too long", what);
            int n = SSL_read(ssl, buf + len, (int)(sizeof(buf) - len));
            ck_assert_msg(n > 0, "%s: response %d cut after %zu bytes", what, i, len - at);
            len += (size_t)n;
        }
        ck_assert_msg(rc == 0 && r.status == 200 && strcmp(r.body, "site a") == 0,
                      "%s: response %d: %d '%s'", what, i, r.status, rc == 0 ? r.body : "");
        pth_resp_free(&r);
        at += used;
    }
    ck_assert_msg(at == len, "%s: bytes after the responses", what);
}

/* A busy keep-alive connection keeps its record buffers, one that pauses gives them back
 * (tls_transport.c's tls_idle): either way every answer arrives whole, pipelined ones too. */
START_TEST(a_keep_alive_connection_serves_back_to_back_after_a_pause_and_pipelined)
{
    start_tls("KeepAliveTimeout 10", "", "");
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    ck_assert_int_eq(SSL_CTX_load_verify_locations(ctx, pth_tls_file("ca.pem"), NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    pth_conn_t *c = pth_conn_open(h);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK); /* SO_RCVTIMEO bounds it */
    struct timeval tv = {20, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    SSL *ssl = SSL_new(ctx);
    SSL_set_tlsext_host_name(ssl, "a.test");
    SSL_set1_host(ssl, "a.test");
    SSL_set_fd(ssl, c->fd);
    ck_assert_int_eq(SSL_connect(ssl), 1);
    const char *get = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";
    char two[256];
    snprintf(two, sizeof(two), "%s%s", get, get);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 5; i++)
            tls_exchange(ssl, get, 1, round ? "back to back after a pause" : "back to back");
        tls_exchange(ssl, two, 2, "pipelined");
        usleep(1300 * 1000); /* longer than PT_TLS_WARM_GAP_MS: the buffers go back */
        tls_exchange(ssl, get, 1, "after a pause");
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    pth_conn_close(c);
}
END_TEST

START_TEST(a_16_mib_file_arrives_intact_over_tls)
{
    size_t n = 16u << 20;
    unsigned char *data = malloc(n);
    ck_assert(data != NULL);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) { /* xorshift: incompressible, reproducible */
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        data[i] = (unsigned char)x;
    }
    pth_write_dir_file(h, "a/big.bin", data, n);
    start_tls("", "", "");
    pth_resp_t r;
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/big.bin",
                       .timeout_s = 60};
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, n);
    ck_assert(memcmp(r.body, data, n) == 0);
    pth_resp_free(&r);
    free(data);
}
END_TEST

START_TEST(a_session_resumes_whichever_child_answers)
{
    start_tls("StartServers 3", "", "");
    char a[600];
    for (int v = 2; v <= 3; v++) {
        snprintf(a, sizeof(a), "-servername a.test -tls1_%d -sess_out %s", v,
                 pth_path(h, "sess.pem"));
        char *out = pth_s_client_get(h->port, "a.test", a);
        assert_out(out, "New, TLSv1.", a);
        assert_out(out, "site a", a);
        free(out);
        snprintf(a, sizeof(a), "-servername a.test -tls1_%d -sess_in %s", v,
                 pth_path(h, "sess.pem"));
        for (int i = 0; i < 6; i++) /* connections spread over the children */
            s_client_expect(a, "Reused, TLSv1.");
    }
}
END_TEST

/* ---- Configuration errors at -t: file:line and a non-zero exit ------------------------ */

static void assert_t_fails(const char *a_extra_cert, const char *needle)
{
    pth_config_raw(h,
        "Listen 127.0.0.1:@PORT@ https\nServerName localhost\nErrorLog @DIR@/error.log\n"
        "<VirtualHost *:@PORT@>\nServerName a.test\nSSLEngine on\n%s\n</VirtualHost>\n",
        a_extra_cert);
    pth_run_t r;
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(r.code != 0, "-t accepted: %s", a_extra_cert);
    char where[400];
    snprintf(where, sizeof(where), "%s:", h->conf);
    ck_assert_msg(strstr(r.err, where) && strstr(r.err, needle),
                  "-t said '%s', wanted %s...%s", r.err, where, needle);
    pth_run_free(&r);
}

START_TEST(certificate_and_key_errors_are_config_errors_with_file_and_line)
{
    char c[1200];
    snprintf(c, sizeof(c), "SSLCertificateFile @DIR@/missing.pem\nSSLCertificateKeyFile %s",
             pth_tls_file("a.test.rsa.key"));
    assert_t_fails(c, ":7: SSLCertificateFile");
    pth_write_dir_file(h, "garbage.pem", "not a certificate\n", 18);
    snprintf(c, sizeof(c), "SSLCertificateFile @DIR@/garbage.pem\nSSLCertificateKeyFile %s",
             pth_tls_file("a.test.rsa.key"));
    assert_t_fails(c, ":7: SSLCertificateFile");
    snprintf(c, sizeof(c), "SSLCertificateFile %s\nSSLCertificateKeyFile %s",
             pth_tls_file("a.test.rsa.pem"), pth_tls_file("b.test.rsa.key"));
    assert_t_fails(c, ":8: SSLCertificateKeyFile");
    snprintf(c, sizeof(c), "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
             "SSLCipherSuite NOTACIPHER", pth_tls_file("a.test.rsa.pem"),
             pth_tls_file("a.test.rsa.key"));
    assert_t_fails(c, ":9: SSLCipherSuite");
    snprintf(c, sizeof(c), "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
             "SSLOpenSSLConfCmd NoSuchCommand x", pth_tls_file("a.test.rsa.pem"),
             pth_tls_file("a.test.rsa.key"));
    assert_t_fails(c, ":9: SSLOpenSSLConfCmd");
    assert_t_fails("", ":4: SSLEngine on"); /* no certificate at all */
    snprintf(c, sizeof(c), "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
             "SSLProtocol -all +TLSv1.1", pth_tls_file("a.test.rsa.pem"),
             pth_tls_file("a.test.rsa.key"));
    assert_t_fails(c, ":9: SSLProtocol");
}
END_TEST

static Suite *tls_suite(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("tls");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tls12_and_tls13_negotiate_and_tls10_tls11_are_refused);
    tcase_add_test(tc, default_suites_are_aead_with_forward_secrecy_in_the_server_order);
    tcase_add_test(tc, tls13_default_suites_prefer_aes128_and_chacha20_for_clients_that_ask_first);
    tcase_add_test(tc, honor_order_off_and_sslciphersuite_tlsv13_replace_the_default_order);
    tcase_add_test(tc, each_name_negotiates_with_its_own_suites_order_and_protocols);
    tcase_add_test(tc, after_a_hello_retry_the_named_server_still_makes_the_handshake);
    tcase_add_test(tc, sni_selects_each_names_certificate_and_the_default_for_unknown_or_none);
    tcase_add_test(tc, strict_sni_vhost_check_refuses_clients_without_sni);
    tcase_add_test(tc, one_server_offers_its_rsa_and_its_ecdsa_certificate);
    tcase_add_test(tc, alpn_picks_from_what_protocols_lists_in_the_servers_order);
    tcase_add_test(tc, mutual_tls_takes_a_client_certificate_from_the_ca_and_refuses_others);
    tcase_add_test(tc, a_fastcgi_backend_sees_https_and_the_client_certificate);
    tcase_add_test(tc, plain_http_to_the_tls_port_gets_a_400_in_plaintext_and_a_log_line);
    tcase_add_test(tc, a_stalled_handshake_is_closed_after_its_timeout_while_others_are_served);
    pth_tcase_add_for(tc, "event", under_event_stalled_handshakes_hold_no_worker);
    tcase_add_test(tc, redirect_permanent_to_https_and_hsts_on_every_answer);
    tcase_add_test(tc, a_keep_alive_connection_serves_back_to_back_after_a_pause_and_pipelined);
    tcase_add_test(tc, a_16_mib_file_arrives_intact_over_tls);
    tcase_add_test(tc, a_session_resumes_whichever_child_answers);
    tcase_add_test(tc, certificate_and_key_errors_are_config_errors_with_file_and_line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    pth_tls_pki();
    SRunner *sr = srunner_create(tls_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
