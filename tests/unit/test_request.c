/* Unit tests for request.c's URL builder, pt_request_construct_url, against what Apache
 * 2.4's ap_construct_url writes (checked on Debian's apache2 with DirectorySlash and
 * Redirect): the scheme of the connection, the name and port per UseCanonicalName, the
 * scheme's default port left out, the URI as the caller gives it. */
#include "config.h"
#include "conn.h"
#include "request.h"

#include <check.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>

static pt_arena_t *arena;
static pt_vhost_t main_vh, vh;
static pt_config_t cfg;
static pt_conn_t conn;
static pt_request_t req;

static void setup(void)
{
    arena = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    main_vh = (pt_vhost_t){.server_name = "main.test"};
    vh = (pt_vhost_t){.server_name = "front.example"};
    cfg = (pt_config_t){.main_server = &main_vh};
    conn = (pt_conn_t){.local_port = 18093};
    req = (pt_request_t){.arena = arena, .cfg = &cfg, .vhost = &vh, .conn = &conn,
                         .scheme = "http", .hostname = "front.example"};
}

static void teardown(void)
{
    pt_arena_destroy(arena);
}

static const char *url(const char *uri)
{
    return pt_request_construct_url(&req, uri);
}

START_TEST(keeps_the_port_of_host_and_leaves_out_the_default_one)
{
    req.host_port = 8443;
    ck_assert_str_eq(url("/sub/"), "http://front.example:8443/sub/");
    req.host_port = 80;
    ck_assert_str_eq(url("/sub/"), "http://front.example/sub/");
}
END_TEST

START_TEST(a_host_without_a_port_gets_servernames_port_else_none)
{
    ck_assert_str_eq(url("/sub/"), "http://front.example/sub/"); /* not the local 18093 */
    main_vh.server_port = 8081;
    ck_assert_str_eq(url("/sub/"), "http://front.example:8081/sub/");
    vh.server_port = 8082;
    ck_assert_str_eq(url("/sub/"), "http://front.example:8082/sub/");
}
END_TEST

START_TEST(use_canonical_name_on_writes_servername_and_its_port)
{
    vh.use_canonical_name = 1;
    req.hostname = "whatever.test";
    req.host_port = 8443;
    ck_assert_str_eq(url("/sub/"), "http://front.example/sub/");
    vh.server_port = 8082;
    ck_assert_str_eq(url("/sub/"), "http://front.example:8082/sub/");
    vh.server_name = NULL; /* inherits the main server's */
    ck_assert_str_eq(url("/t"), "http://main.test:8082/t");
}
END_TEST

START_TEST(over_tls_the_scheme_is_https_and_443_is_left_out)
{
    req.scheme = "https";
    ck_assert_str_eq(url("/x?q=1"), "https://front.example/x?q=1");
    req.host_port = 443;
    ck_assert_str_eq(url("/x"), "https://front.example/x");
    req.host_port = 80;
    ck_assert_str_eq(url("/x"), "https://front.example:80/x");
    req.host_port = 0;
    req.scheme = NULL; /* a request made without a protocol driver: plain http */
    ck_assert_str_eq(url("/x"), "http://front.example/x");
}
END_TEST

START_TEST(brackets_an_ipv6_host_and_takes_the_uri_as_given)
{
    req.hostname = "::1";
    req.host_port = 8080;
    ck_assert_str_eq(url("/a%20b"), "http://[::1]:8080/a%20b");
    req.hostname = "[::1]";
    ck_assert_str_eq(url("/"), "http://[::1]:8080/");
}
END_TEST

/* ServerTokens, as Apache's: Full ends with the TLS library as a product token, name/version
 * of the library in use (mod_ssl's SSL_VERSION_LIBRARY), as RFC 9110's Server field wants. */
START_TEST(server_tokens_give_apaches_product_tokens)
{
    char full[128];
    snprintf(full, sizeof(full), "portico/%s (Unix) OpenSSL/%s", PORTICO_VERSION,
             OpenSSL_version(OPENSSL_VERSION_STRING));
    ck_assert_str_eq(pt_server_banner(0), "portico");
    ck_assert_str_eq(pt_server_banner(3), "portico/" PORTICO_VERSION);
    ck_assert_str_eq(pt_server_banner(4), "portico/" PORTICO_VERSION " (Unix)");
    ck_assert_str_eq(pt_server_banner(5), full);
}
END_TEST

static Suite *request_suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("construct_url");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, keeps_the_port_of_host_and_leaves_out_the_default_one);
    tcase_add_test(tc, a_host_without_a_port_gets_servernames_port_else_none);
    tcase_add_test(tc, use_canonical_name_on_writes_servername_and_its_port);
    tcase_add_test(tc, over_tls_the_scheme_is_https_and_443_is_left_out);
    tcase_add_test(tc, brackets_an_ipv6_host_and_takes_the_uri_as_given);
    suite_add_tcase(s, tc);
    TCase *tb = tcase_create("server_tokens");
    tcase_add_test(tb, server_tokens_give_apaches_product_tokens);
    suite_add_tcase(s, tb);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(request_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
