/* HTTP/2 over TLS, chosen by ALPN "h2" (Protocols h2 http/1.1), with the private CA of
 * tests/support/ca.sh: libcurl (h2 by ALPN, 16 MiB intact), nghttp (a request body to a
 * FastCGI backend intact, which sees HTTPS=on), h2load, and a server whose Protocols lists
 * no h2 answering HTTP/1.1. */
#include "h2_client.h"
#include "harness.h"
#include "tls_client.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pth_t *h;
static pth_h2_fcgi_t be;

/* a.test (h2) and b.test (HTTP/1.1 only) on one address; extra: more global lines. */
static void configure(const char *extra)
{
    pth_config_raw(h,
        "%sMPM %s\nListen 127.0.0.1:@PORT@ https\n"
        "ServerName localhost\nErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\n"
        "LogLevel info\nCustomLog @DIR@/access.log common\nDocumentRoot @DOCROOT@\n"
        "<Directory @DIR@>\nRequire all granted\n</Directory>\n"
        "<VirtualHost *:@PORT@>\nServerName a.test\nDocumentRoot @DIR@/a\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\nProtocols h2 http/1.1\n"
        "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\" max=200\n</VirtualHost>\n"
        "<VirtualHost *:@PORT@>\nServerName b.test\nDocumentRoot @DIR@/b\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\nProtocols http/1.1\n"
        "</VirtualHost>\n",
        extra, pth_mpm(), pth_tls_file("a.test.rsa.pem"), pth_tls_file("a.test.rsa.key"),
        pth_tls_file("b.test.rsa.pem"), pth_tls_file("b.test.rsa.key"));
}

static void setup(void)
{
    h = pth_new();
    pth_write_dir_file(h, "a/index.html", "site a", 6);
    pth_write_dir_file(h, "b/index.html", "site b", 6);
    ck_assert_int_eq(pth_h2_fcgi_start(&be, pth_path(h, "be.sock")), 0);
    configure("");
    pth_start(h);
}

static void teardown(void)
{
    pth_stop(h);
    pth_h2_fcgi_stop(&be);
    pth_free(h);
    h = NULL;
}

START_TEST(alpn_h2_serves_http2_and_a_server_without_h2_http1)
{
    pth_resp_t r;
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/", .http2 = true};
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.version, 20);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "site a");
    pth_resp_free(&r);
    pth_tls_req_t qb = {.port = h->port, .host = "b.test", .path = "/", .http2 = true};
    ck_assert_int_eq(pth_tls_get(&qb, &r), 0);
    ck_assert_int_eq(r.version, 11);
    ck_assert_str_eq(r.body, "site b");
    pth_resp_free(&r);
}
END_TEST

START_TEST(a_stream_naming_a_server_of_other_tls_terms_than_its_sni_gets_421)
{
    /* SNI a.test, :authority b.test, whose certificate is another (terms that differ under
     * SSLVHostSNIPolicy strict): mod_http2's 421; a.test is still served. */
    pth_stop(h);
    configure("SSLVHostSNIPolicy strict\n");
    pth_start(h);
    pth_resp_t r;
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/", .http2 = true,
                       .host_header = "b.test"};
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.version, 20);
    ck_assert_int_eq(r.status, 421);
    ck_assert_str_ne(r.body, "site b");
    pth_resp_free(&r);
    q.host_header = "a.test";
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "site a");
    pth_resp_free(&r);
}
END_TEST

START_TEST(sixteen_mib_over_h2_and_tls_arrive_intact)
{
    size_t n = 16u << 20;
    uint8_t *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (uint8_t)(i * 11 + (i >> 12));
    pth_write_dir_file(h, "a/big.bin", big, n);
    const char *sink = pth_path(h, "got.bin");
    char sinkp[512];
    snprintf(sinkp, sizeof(sinkp), "%s", sink);
    pth_resp_t r;
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/big.bin", .http2 = true,
                       .sink = sinkp};
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.version, 20);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    size_t got = 0;
    char *data = pth_read_file(sinkp, &got);
    ck_assert_uint_eq(got, n);
    ck_assert(memcmp(data, big, n) == 0);
    free(data);
    free(big);
}
END_TEST

START_TEST(nghttp_posts_a_body_to_fastcgi_intact_and_h2load_is_served)
{
    size_t n = 1u << 20;
    uint8_t *body = malloc(n);
    for (size_t i = 0; i < n; i++)
        body[i] = (uint8_t)(i * 5 + (i >> 9));
    char path[512], url[128], *out = NULL;
    snprintf(path, sizeof(path), "%s", pth_path(h, "body.bin"));
    pth_write_dir_file(h, "body.bin", body, n);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/f/echo", h->port);
    char *ng[] = {"nghttp", "-d", path, url, NULL};
    ck_assert_int_eq(pth_h2_run(ng, 20000, &out), 0);
    char want[128];
    snprintf(want, sizeof(want), "len=%zu sum=%llu", n, (unsigned long long)pth_h2_sum(body, n));
    ck_assert_msg(strstr(out, want), "nghttp: %s (wanted %s)", out, want);
    free(out);
    free(body);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/", h->port);
    char *ld[] = {"h2load", "-n", "2000", "-c", "4", "-m", "10", url, NULL};
    ck_assert_int_eq(pth_h2_run(ld, 60000, &out), 0);
    ck_assert_msg(strstr(out, "2000 succeeded, 0 failed, 0 errored"), "h2load: %s", out);
    ck_assert_msg(strstr(out, "Application protocol: h2"), "h2load: %s", out);
    free(out);
}
END_TEST

static Suite *h2_tls_suite(void)
{
    Suite *s = suite_create("h2_tls");
    TCase *tc = tcase_create("alpn");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, alpn_h2_serves_http2_and_a_server_without_h2_http1);
    tcase_add_test(tc, a_stream_naming_a_server_of_other_tls_terms_than_its_sni_gets_421);
    tcase_add_test(tc, sixteen_mib_over_h2_and_tls_arrive_intact);
    tcase_add_test(tc, nghttp_posts_a_body_to_fastcgi_intact_and_h2load_is_served);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    pth_tls_pki();
    SRunner *sr = srunner_create(h2_tls_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
