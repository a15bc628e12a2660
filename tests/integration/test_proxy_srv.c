/* mod_proxy's server settings beyond ProxyPass against the raw test origin: ProxyVia (both
 * ways, and Block), Max-Forwards (ProxyMaxForwards, the client's decremented, zero and
 * garbage refused), ProxyErrorOverride (with and without codes), ProxyBadHeader's three
 * answers, Proxy100Continue Off, ProxyPassInherit Off, ProxySourceAddress, and the
 * directives portico accepts with a notice or refuses with its reason. */
#include "harness.h"
#include "http_backend.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PTH_PROXY_SUITE_FIXTURE

START_TEST(proxy_via_on_adds_via_both_ways_and_block_removes_the_clients)
{
    start_with("ProxyVia On");
    const char *hdr[] = {"Via: 1.0 upstream-cache", NULL};
    pth_resp_t r;
    pth_get(h, "/b/echo", hdr, &r);
    ck_assert_int_eq(r.status, 200);
    char want[128];
    snprintf(want, sizeof(want), "Via: 1.0 upstream-cache, 1.1 localhost:%d", h->port);
    ck_assert_msg(pth_echo_has_line(r.body, want), "%s", r.body);
    snprintf(want, sizeof(want), "1.1 localhost:%d", h->port);
    const char *via = pth_resp_header(&r, "Via");
    ck_assert_msg(via && strcmp(via, want) == 0, "Via: %s", via ? via : "(none)");
    pth_resp_free(&r);
    pth_stop(h);
    start_with("ProxyVia Full");
    pth_get(h, "/b/echo", NULL, &r);
    ck_assert_msg(strstr(r.body, "\r\nVia: 1.1 localhost") && strstr(r.body, " (portico/"),
                  "%s", r.body);
    pth_resp_free(&r);
    pth_stop(h);
    start_with("ProxyVia Block");
    pth_get(h, "/b/echo", hdr, &r);
    ck_assert_msg(!pth_echo_names(r.body, "Via"), "%s", r.body);
    ck_assert_ptr_null(pth_resp_header(&r, "Via"));
    pth_resp_free(&r);
    pth_stop(h);
    start_with(NULL); /* Off: the client's passes as it is, none of ours */
    pth_get(h, "/b/echo", hdr, &r);
    ck_assert_msg(pth_echo_has_line(r.body, "Via: 1.0 upstream-cache"), "%s", r.body);
    ck_assert_ptr_null(pth_resp_header(&r, "Via"));
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* Via's port is the one Apache 2.4 writes in URLs (ap_get_server_port: Host's, else
 * ServerName's, else the scheme's default, which is left out), not the port the request came
 * in on: with "Host: other.test" Debian's apache2 sends "Via: 1.1 localhost" both ways. */
START_TEST(proxy_via_leaves_out_the_default_port_as_apache)
{
    start_with("ProxyVia On");
    const char *hdr[] = {"Host: other.test", NULL};
    pth_resp_t r;
    pth_get(h, "/b/echo", hdr, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(pth_echo_has_line(r.body, "Via: 1.1 localhost"), "%s", r.body);
    const char *via = pth_resp_header(&r, "Via");
    ck_assert_msg(via && strcmp(via, "1.1 localhost") == 0, "Via: %s", via ? via : "(none)");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(max_forwards_is_decremented_set_by_default_and_zero_is_a_loop)
{
    start_with("ProxyMaxForwards 7");
    pth_resp_t r;
    pth_get(h, "/b/echo", NULL, &r);
    ck_assert_msg(pth_echo_has_line(r.body, "Max-Forwards: 7"), "%s", r.body);
    pth_resp_free(&r);
    const char *three[] = {"Max-Forwards: 3", NULL};
    pth_get(h, "/b/echo", three, &r);
    ck_assert_msg(pth_echo_has_line(r.body, "Max-Forwards: 2"), "%s", r.body);
    pth_resp_free(&r);
    pth_expect_error(h, "AH00898");
    const char *zero[] = {"Max-Forwards: 0", NULL};
    pth_get(h, "/b/echo", zero, &r);
    ck_assert_int_eq(r.status, 502);
    pth_resp_free(&r);
    const char *junk[] = {"Max-Forwards: ten", NULL};
    pth_get(h, "/b/echo", junk, &r);
    ck_assert_int_eq(r.status, 400);
    pth_resp_free(&r);
    pth_stop(h);
    start_with(NULL); /* Apache 2.4's default -1: none added */
    pth_get(h, "/b/echo", NULL, &r);
    ck_assert_msg(!pth_echo_names(r.body, "Max-Forwards"), "%s", r.body);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(proxy_error_override_serves_the_error_document_for_the_codes_named)
{
    pth_write_file(h, "errors/404.html", "our 404 page", 12);
    pth_write_file(h, "errors/500.html", "our 500 page", 12);
    start_with("ErrorDocument 404 /errors/404.html\nErrorDocument 500 /errors/500.html\n"
               "<Location /b/>\nProxyErrorOverride On 404\n</Location>");
    pth_resp_t r;
    pth_get(h, "/b/status?code=404", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "our 404 page");
    pth_resp_free(&r);
    pth_get(h, "/b/status?code=500", NULL, &r); /* not named: the backend's own */
    ck_assert_int_eq(r.status, 500);
    ck_assert_msg(strstr(r.body, "our 500") == NULL, "%s", r.body);
    pth_resp_free(&r);
    pth_get(h, "/b/status?code=200", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    pth_stop(h);
    start_with("ErrorDocument 500 /errors/500.html\nProxyErrorOverride On");
    pth_get(h, "/b/status?code=500", NULL, &r);
    ck_assert_int_eq(r.status, 500);
    ck_assert_str_eq(r.body, "our 500 page");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(proxy_bad_header_is_an_error_ignored_or_the_start_of_the_body)
{
    pth_expect_error(h, "malformed header field");
    start_with(NULL);
    pth_resp_t r;
    pth_get(h, "/b/badheader", NULL, &r);
    ck_assert_int_eq(r.status, 502);
    pth_resp_free(&r);
    pth_stop(h);
    start_with("ProxyBadHeader Ignore");
    pth_get(h, "/b/badheader", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok");
    ck_assert_str_eq(pth_resp_header(&r, "X-After"), "yes");
    pth_resp_free(&r);
    pth_stop(h);
    start_with("ProxyBadHeader StartBody");
    pth_get(h, "/b/badheader", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "No"); /* Content-Length 2 of what follows */
    ck_assert_ptr_null(pth_resp_header(&r, "X-After"));
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(proxy_100_continue_off_answers_the_client_itself)
{
    start_with("Proxy100Continue Off");
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /b/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      "Expect: 100-continue\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 100);
    pth_resp_free(&r);
    pth_conn_sendf(c, "hello");
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(!pth_echo_names(r.body, "Expect"), "%s", r.body);
    ck_assert_msg(strstr(r.body, "body-len: 5\n"), "%s", r.body);
    pth_resp_free(&r);
    pth_conn_close(c);
    pth_stop(h);
}
END_TEST

START_TEST(proxy_pass_inherit_off_keeps_the_main_servers_rules_out_of_a_vhost)
{
    pth_config(h, "ProxyPass /b/ http://127.0.0.1:%d/\n"
               "<VirtualHost *:@PORT@>\nServerName plain.test\n</VirtualHost>\n"
               "<VirtualHost *:@PORT@>\nServerName own.test\nProxyPassInherit Off\n"
               "ProxyPass /own/ http://127.0.0.1:%d/\n</VirtualHost>\n", be.port, be.port);
    pth_start(h);
    pth_resp_t r;
    const char *plain[] = {"Host: plain.test", NULL}, *own[] = {"Host: own.test", NULL};
    pth_get(h, "/b/echo", plain, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    pth_get(h, "/b/echo", own, &r);
    ck_assert_int_eq(r.status, 404);
    pth_resp_free(&r);
    pth_get(h, "/own/echo", own, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(proxy_source_address_binds_upstream_sockets)
{
    start_with("ProxySourceAddress 127.0.0.2");
    pth_resp_t r;
    pth_get(h, "/b/echo", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    /* the backend saw the proxy's connection come from 127.0.0.2 */
    ck_assert_str_eq(pth_resp_header(&r, "X-Conn-Peer"), "127.0.0.2");
    pth_resp_free(&r);
    pth_stop(h);
    pth_expect_error(h, "AH01114|Cannot assign requested address|HTTP backend");
    start_with("ProxySourceAddress 192.0.2.1\nProxyReceiveBufferSize 65536");
    pth_get(h, "/b/echo", NULL, &r);
    ck_assert_int_ge(r.status, 500); /* not an address of this machine: no connection */
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

static void assert_t(const char *body, int want_ok, const char *needle)
{
    pth_config(h, "%s\n", body);
    pth_config_test(h, want_ok ? 0 : 1, needle);
}

START_TEST(forward_proxy_and_tuning_directives_get_a_notice_or_their_reason)
{
    assert_t("ProxyDomain .example.com", 1, "notice: ProxyDomain ignored: it applies to "
                                            "forward-proxy requests only");
    assert_t("NoProxy .example.com", 1, "notice: NoProxy ignored");
    assert_t("ProxyIOBufferSize 16384", 1, "notice: ProxyIOBufferSize ignored");
    assert_t("ProxyHCTPsize 8", 1, "notice: ProxyHCTPsize ignored");
    assert_t("BalancerInherit Off", 1, "notice: BalancerInherit Off ignored");
    assert_t("ProxyRemote * http://firewall:3128", 0, "for ProxyPass'd requests as well");
    assert_t("ProxyBlock example.com", 0, "refuse requests for the hosts it names");
    assert_t("ProxyPassInterpolateEnv On", 0, "ProxyPassInterpolateEnv On is not supported");
    assert_t("ProxyVia Sometimes", 0, "ProxyVia must be Off, On, Full or Block");
    assert_t("ProxyBadHeader Maybe", 0, "ProxyBadHeader must be IsError, Ignore or StartBody");
    assert_t("ProxyReceiveBufferSize 100", 0, "must be >= 512 bytes");
    assert_t("ProxySourceAddress nowhere.example", 0, "is not an IP address");
    assert_t("ProxyErrorOverride On 302", 0, "is not a 4xx or 5xx status code");
}
END_TEST

static Suite *proxy_srv_suite(void)
{
    Suite *s = suite_create("proxy_srv");
    TCase *tc = tcase_create("proxy_srv");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, proxy_via_on_adds_via_both_ways_and_block_removes_the_clients);
    tcase_add_test(tc, proxy_via_leaves_out_the_default_port_as_apache);
    tcase_add_test(tc, max_forwards_is_decremented_set_by_default_and_zero_is_a_loop);
    tcase_add_test(tc, proxy_error_override_serves_the_error_document_for_the_codes_named);
    tcase_add_test(tc, proxy_bad_header_is_an_error_ignored_or_the_start_of_the_body);
    tcase_add_test(tc, proxy_100_continue_off_answers_the_client_itself);
    tcase_add_test(tc, proxy_pass_inherit_off_keeps_the_main_servers_rules_out_of_a_vhost);
    tcase_add_test(tc, proxy_source_address_binds_upstream_sockets);
    tcase_add_test(tc, forward_proxy_and_tuning_directives_get_a_notice_or_their_reason);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(proxy_srv_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
