/* remoteip.c and directives_remoteip.c: mod_remoteip's walk of RemoteIPHeader through
 * RemoteIPTrustedProxy and RemoteIPInternalProxy (right to left, private addresses only from
 * internal proxies, what is consumed removed from the header), RemoteIPProxiesHeader, the
 * virtual hosts' inheritance, the *List files, and which connections RemoteIPProxyProtocol
 * and its exceptions apply to. */
#include "config.h"
#include "conn.h"
#include "remoteip.h"
#include "request.h"
#include "startup.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64];
static char path[128];
static char listpath[128];
static char err[PT_ERRLEN];
static pt_config_t *cfg;
static pt_arena_t *arena;
static pt_conn_t conn;
static pt_request_t req;

static void setup(void)
{
    strcpy(dir, "/tmp/ptripXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/main.conf", dir);
    snprintf(listpath, sizeof(listpath), "%s/proxies.txt", dir);
    pt_startup_register();
    arena = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    cfg = NULL;
}

static void teardown(void)
{
    if (cfg)
        pt_config_free(cfg);
    pt_arena_destroy(arena);
    unlink(path);
    unlink(listpath);
    rmdir(dir);
}

static pt_config_t *load(const char *body)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "Listen 127.0.0.1:8080\nServerName t\nDocumentRoot /tmp\n%s", body);
    fclose(f);
    err[0] = '\0';
    return pt_config_load(path, NULL, err, sizeof(err));
}

static const char *errmsg(void)
{
    const char *p = strstr(err, "main.conf:");
    return p ? p : err;
}

static void set_addr(pt_sockaddr_t *sa, char *text, const char *ip, int port)
{
    memset(sa, 0, sizeof(*sa));
    if (strchr(ip, ':')) {
        sa->in6.sin6_family = AF_INET6;
        ck_assert_int_eq(inet_pton(AF_INET6, ip, &sa->in6.sin6_addr), 1);
        sa->in6.sin6_port = htons((uint16_t)port);
    } else {
        sa->in.sin_family = AF_INET;
        ck_assert_int_eq(inet_pton(AF_INET, ip, &sa->in.sin_addr), 1);
        sa->in.sin_port = htons((uint16_t)port);
    }
    if (text)
        strcpy(text, ip);
}

/* A request from peer on the main server (or vh) whose header X-Forwarded-For is xff
 * (NULL: none). */
static void request_from(const pt_vhost_t *vh, const char *peer, const char *xff)
{
    memset(&conn, 0, sizeof(conn));
    conn.cfg = cfg;
    set_addr(&conn.peer, conn.peer_ip, peer, 40000);
    conn.peer_port = 40000;
    memset(&req, 0, sizeof(req));
    req.arena = arena;
    req.conn = &conn;
    req.cfg = cfg;
    req.vhost = vh ? vh : cfg->main_server;
    pt_table_init(&req.headers_in, arena, 4);
    if (xff)
        pt_table_add(&req.headers_in, "X-Forwarded-For", xff);
}

static void setup_conf(const char *body)
{
    cfg = load(body);
    ck_assert_msg(cfg != NULL, "%s", err);
}

#define XFF() pt_table_get(&req.headers_in, "X-Forwarded-For")

START_TEST(a_trusted_peers_header_names_the_client_and_is_consumed)
{
    setup_conf("RemoteIPHeader X-Forwarded-For\nRemoteIPTrustedProxy 10.0.0.1\n");
    request_from(NULL, "10.0.0.1", "198.51.100.7");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "198.51.100.7");
    ck_assert_ptr_null(XFF());
    const struct sockaddr_in *in = (const struct sockaddr_in *)pt_request_client_addr(&req);
    ck_assert_int_eq(in->sin_family, AF_INET);
    ck_assert_int_eq(in->sin_port, 0); /* not known */
    ck_assert_str_eq(pt_request_peer_ip(&req), "10.0.0.1");
}
END_TEST

START_TEST(an_untrusted_peers_header_is_ignored_and_kept)
{
    setup_conf("RemoteIPHeader X-Forwarded-For\nRemoteIPTrustedProxy 10.0.0.1\n");
    request_from(NULL, "10.0.0.9", "198.51.100.7");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "10.0.0.9");
    ck_assert_ptr_eq(pt_request_client_addr(&req), &conn.peer.sa);
    ck_assert_str_eq(XFF(), "198.51.100.7");
}
END_TEST

START_TEST(the_walk_goes_right_to_left_through_listed_proxies)
{
    setup_conf("RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 10.0.0.0/8\n");
    request_from(NULL, "10.0.0.1", "203.0.113.9, 10.0.0.2,10.0.0.3");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "203.0.113.9");
    ck_assert_ptr_null(XFF());
}
END_TEST

START_TEST(the_walk_stops_at_the_first_address_not_listed_and_keeps_the_rest)
{
    setup_conf("RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 10.0.0.0/8\n");
    request_from(NULL, "10.0.0.1", "1.1.1.1, 203.0.113.9 ,  10.0.0.3");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "203.0.113.9");
    ck_assert_str_eq(XFF(), "1.1.1.1");
}
END_TEST

START_TEST(a_trusted_proxy_may_not_present_a_private_address)
{
    setup_conf("RemoteIPHeader X-Forwarded-For\nRemoteIPTrustedProxy 203.0.113.1\n");
    static const char *const priv[] = {"192.168.1.5", "10.1.1.1", "172.16.0.1", "172.31.9.9",
                                       "127.0.0.1", "169.254.1.1", "fd00::1", "::1"};
    for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
        request_from(NULL, "203.0.113.1", priv[i]);
        pt_remoteip_apply(&req);
        ck_assert_msg(strcmp(pt_request_client_ip(&req), "203.0.113.1") == 0, "%s", priv[i]);
        ck_assert_str_eq(XFF(), priv[i]);
    }
    /* 172.32/16 is not private; 2001:db8::/32 is in 2000::/3. */
    request_from(NULL, "203.0.113.1", "172.32.0.1");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "172.32.0.1");
    request_from(NULL, "203.0.113.1", "2001:db8::7");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "2001:db8::7");
}
END_TEST

START_TEST(an_internal_proxy_may_present_a_private_address)
{
    setup_conf("RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 10.0.0.1\n");
    request_from(NULL, "10.0.0.1", "192.168.1.5");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "192.168.1.5");
}
END_TEST

START_TEST(after_a_trusted_proxy_the_walk_is_external)
{
    /* Internal 10.0.0.1 presents the trusted (external) 198.51.100.1, which may not present
     * a private address: the client is 198.51.100.1, the private entry stays. */
    setup_conf("RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 10.0.0.1\n"
               "RemoteIPTrustedProxy 198.51.100.1\n");
    request_from(NULL, "10.0.0.1", "192.168.0.9, 198.51.100.1");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "198.51.100.1");
    ck_assert_str_eq(XFF(), "192.168.0.9");
}
END_TEST

START_TEST(without_a_list_every_peer_is_a_trusted_external_proxy)
{
    setup_conf("RemoteIPHeader X-Forwarded-For\n");
    request_from(NULL, "127.0.0.1", "8.8.8.8, 9.9.9.9");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "8.8.8.8");
    ck_assert_ptr_null(XFF());
    request_from(NULL, "127.0.0.1", "10.0.0.5, 9.9.9.9");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "9.9.9.9");
    ck_assert_str_eq(XFF(), "10.0.0.5");
}
END_TEST

START_TEST(an_entry_that_is_not_an_address_stops_the_walk)
{
    setup_conf("RemoteIPHeader X-Forwarded-For\nRemoteIPTrustedProxy 10.0.0.1\n");
    request_from(NULL, "10.0.0.1", "unknown");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "10.0.0.1");
    ck_assert_str_eq(XFF(), "unknown");
    request_from(NULL, "10.0.0.1", "198.51.100.2, ");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "10.0.0.1");
}
END_TEST

START_TEST(the_proxies_header_records_the_external_proxies_passed)
{
    setup_conf("RemoteIPHeader X-Forwarded-For\nRemoteIPProxiesHeader X-Forwarded-By\n"
               "RemoteIPTrustedProxy 203.0.113.1 203.0.113.2\n");
    request_from(NULL, "203.0.113.1", "198.51.100.7, 203.0.113.2");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "198.51.100.7");
    ck_assert_str_eq(pt_table_get(&req.headers_in, "X-Forwarded-By"),
                     "203.0.113.1, 203.0.113.2");
}
END_TEST

START_TEST(repeated_header_fields_are_read_as_one_list)
{
    setup_conf("RemoteIPHeader X-Real-Chain\nRemoteIPInternalProxy 127.0.0.1 10.0.0.2\n");
    request_from(NULL, "127.0.0.1", NULL);
    pt_table_add(&req.headers_in, "X-Real-Chain", "203.0.113.50");
    pt_table_add(&req.headers_in, "x-real-chain", "10.0.0.2");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "203.0.113.50");
    ck_assert_ptr_null(pt_table_get(&req.headers_in, "X-Real-Chain"));
}
END_TEST

START_TEST(ipv6_peers_and_entries_work)
{
    setup_conf("RemoteIPHeader X-Forwarded-For\nRemoteIPTrustedProxy 2001:db8:1::/48\n");
    request_from(NULL, "2001:db8:1::5", "2001:DB8:2::0009");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "2001:db8:2::9");
}
END_TEST

START_TEST(a_proxy_protocol_connection_ignores_the_header)
{
    setup_conf("RemoteIPHeader X-Forwarded-For\n");
    request_from(NULL, "198.51.100.8", "8.8.8.8");
    pt_conn_via_t via = {.ip = "10.0.0.1"};
    conn.via = &via;
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "198.51.100.8");
    ck_assert_str_eq(pt_request_peer_ip(&req), "10.0.0.1");
    ck_assert_str_eq(XFF(), "8.8.8.8");
}
END_TEST

START_TEST(nothing_happens_without_remoteipheader)
{
    setup_conf("RemoteIPTrustedProxy 10.0.0.1\n");
    request_from(NULL, "10.0.0.1", "198.51.100.7");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "10.0.0.1");
    ck_assert_str_eq(XFF(), "198.51.100.7");
}
END_TEST

START_TEST(a_vhost_takes_each_setting_it_lacks_from_the_main_server)
{
    setup_conf("RemoteIPHeader X-Forwarded-For\nRemoteIPTrustedProxy 10.0.0.1\n"
               "<VirtualHost *:8080>\n ServerName a\n RemoteIPHeader X-Client-IP\n"
               "</VirtualHost>\n"
               "<VirtualHost *:8080>\n ServerName b\n RemoteIPTrustedProxy 10.0.0.2\n"
               "</VirtualHost>\n<VirtualHost *:8080>\n ServerName c\n</VirtualHost>\n");
    request_from(cfg->vhosts[0], "10.0.0.1", NULL);
    pt_table_add(&req.headers_in, "X-Client-IP", "198.51.100.1");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "198.51.100.1");
    request_from(cfg->vhosts[1], "10.0.0.1", "198.51.100.2");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "10.0.0.1"); /* its own list only */
    request_from(cfg->vhosts[1], "10.0.0.2", "198.51.100.2");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "198.51.100.2");
    request_from(cfg->vhosts[2], "10.0.0.1", "198.51.100.3");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "198.51.100.3");
}
END_TEST

START_TEST(list_files_hold_addresses_and_comments)
{
    FILE *f = fopen(listpath, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "# the balancers\n10.0.0.1 10.0.0.2 # two\n\n192.168.0.0/16\n");
    fclose(f);
    char body[512];
    snprintf(body, sizeof(body), "RemoteIPHeader X-Forwarded-For\n"
             "RemoteIPInternalProxyList %s\n", listpath);
    setup_conf(body);
    ck_assert_uint_eq(cfg->main_server->remoteip->nproxies, 3);
    ck_assert(cfg->main_server->remoteip->proxies[0].internal);
    request_from(NULL, "192.168.3.4", "10.9.9.9");
    pt_remoteip_apply(&req);
    ck_assert_str_eq(pt_request_client_ip(&req), "10.9.9.9");
}
END_TEST

START_TEST(bad_addresses_and_missing_lists_name_their_line)
{
    cfg = load("RemoteIPTrustedProxy 10.0.0.0/99\n");
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(errmsg(), "main.conf:4: RemoteIP: Error parsing IP 10.0.0.0/99 for "
                               "RemoteIPTrustedProxy");
    cfg = load("RemoteIPInternalProxyList /nonexistent/list\n");
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(errmsg(), "main.conf:4: RemoteIPInternalProxyList: Could not open file "
                               "/nonexistent/list");
    cfg = load("RemoteIPProxyProtocol maybe\n");
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(errmsg(), "main.conf:4: RemoteIPProxyProtocol must be On or Off");
    cfg = load("RemoteIPProxyProtocolExceptions 1.2.3.4/77\n");
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(errmsg(), "main.conf:4: ip address '1.2.3.4/77' appears to be invalid");
    cfg = load("<Location />\nRemoteIPHeader X\n</Location>\n");
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(errmsg(), "main.conf:5: RemoteIPHeader cannot occur within <Location> "
                               "section");
}
END_TEST

/* A fresh connection to local:port from peer, for pt_remoteip_conn_wants. */
static bool wants(const char *local, int port, const char *peer)
{
    memset(&conn, 0, sizeof(conn));
    conn.cfg = cfg;
    set_addr(&conn.local, conn.local_ip, local, port);
    conn.local_port = port;
    set_addr(&conn.peer, conn.peer_ip, peer, 1234);
    return pt_remoteip_conn_wants(&conn);
}

START_TEST(proxy_protocol_applies_by_local_address_with_exceptions)
{
    setup_conf("");
    ck_assert(!wants("127.0.0.1", 8080, "10.0.0.1"));
    pt_config_free(cfg);
    setup_conf("RemoteIPProxyProtocol On\nRemoteIPProxyProtocolExceptions 10.9.0.0/16\n");
    ck_assert(wants("127.0.0.1", 8080, "10.0.0.1"));
    ck_assert(wants("127.0.0.2", 9999, "10.0.0.1"));
    ck_assert(!wants("127.0.0.1", 8080, "10.9.1.1"));
    pt_config_free(cfg);
    setup_conf("Listen 127.0.0.1:8081\n<VirtualHost *:8081>\n ServerName pp\n"
               " RemoteIPProxyProtocol On\n</VirtualHost>\n"
               "<VirtualHost 127.0.0.1:8080>\n ServerName plain\n RemoteIPProxyProtocol Off\n"
               "</VirtualHost>\n");
    ck_assert(wants("127.0.0.1", 8081, "10.0.0.1"));
    ck_assert(wants("127.0.0.5", 8081, "10.0.0.1"));
    ck_assert(!wants("127.0.0.1", 8080, "10.0.0.1"));
    pt_config_free(cfg);
    /* On for the main server (every address), Off again for one virtual host's. */
    setup_conf("Listen 127.0.0.1:8081\nRemoteIPProxyProtocol On\n"
               "<VirtualHost *:8081>\n ServerName plain\n RemoteIPProxyProtocol Off\n"
               "</VirtualHost>\n");
    ck_assert(wants("127.0.0.1", 8080, "10.0.0.1"));
    ck_assert(!wants("127.0.0.1", 8081, "10.0.0.1"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("remoteip");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, a_trusted_peers_header_names_the_client_and_is_consumed);
    tcase_add_test(tc, an_untrusted_peers_header_is_ignored_and_kept);
    tcase_add_test(tc, the_walk_goes_right_to_left_through_listed_proxies);
    tcase_add_test(tc, the_walk_stops_at_the_first_address_not_listed_and_keeps_the_rest);
    tcase_add_test(tc, a_trusted_proxy_may_not_present_a_private_address);
    tcase_add_test(tc, an_internal_proxy_may_present_a_private_address);
    tcase_add_test(tc, after_a_trusted_proxy_the_walk_is_external);
    tcase_add_test(tc, without_a_list_every_peer_is_a_trusted_external_proxy);
    tcase_add_test(tc, an_entry_that_is_not_an_address_stops_the_walk);
    tcase_add_test(tc, the_proxies_header_records_the_external_proxies_passed);
    tcase_add_test(tc, repeated_header_fields_are_read_as_one_list);
    tcase_add_test(tc, ipv6_peers_and_entries_work);
    tcase_add_test(tc, a_proxy_protocol_connection_ignores_the_header);
    tcase_add_test(tc, nothing_happens_without_remoteipheader);
    tcase_add_test(tc, a_vhost_takes_each_setting_it_lacks_from_the_main_server);
    tcase_add_test(tc, list_files_hold_addresses_and_comments);
    tcase_add_test(tc, bad_addresses_and_missing_lists_name_their_line);
    tcase_add_test(tc, proxy_protocol_applies_by_local_address_with_exceptions);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
