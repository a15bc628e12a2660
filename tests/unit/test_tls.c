/* The SSL* directives (tls/directives_tls.c) and the Protocols directive: what each stores,
 * the virtual host merged over the main server, mod_ssl's SSLProtocol syntax with TLS 1.2
 * and 1.3 only, and the errors with their file:line. (Contexts and handshakes are the
 * integration suites' test_tls*.) */
#include "startup.h"
#include "tls.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char path[64];
static char err[PT_ERRLEN];

static pt_config_t *load(const char *text)
{
    pt_startup_register();
    strcpy(path, "/tmp/pttlsXXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    err[0] = '\0';
    pt_config_t *c = pt_config_load(path, NULL, err, sizeof(err));
    unlink(path);
    return c;
}

static void assert_error(const char *text, const char *want)
{
    pt_config_t *c = load(text);
    ck_assert_msg(c == NULL, "loaded: %s", text);
    char where[128];
    snprintf(where, sizeof(where), "%s:", path);
    ck_assert_msg(strstr(err, where) && strstr(err, want), "error '%s', wanted %s...%s", err,
                  where, want);
}

START_TEST(every_ssl_directive_is_stored_and_a_vhost_merges_over_the_main_server)
{
    pt_config_t *c = load(
        "Listen 8080\nSSLProtocol -all +TLSv1.3\n"
        "SSLCipherSuite TLSv1.3 TLS_AES_128_GCM_SHA256\nSSLSessionTickets off\n"
        "SSLUseStapling on\nSSLStaplingFile /etc/ocsp.der\nSSLStaplingResponderTimeout 5\n"
        "SSLStaplingCache \"shmcb:logs/ssl_stapling(32768)\"\n"
        "SSLSessionTicketKeyFile /etc/ticket.key\nSSLSessionCache \"shmcb:/x(512000)\"\n"
        "SSLSessionCacheTimeout 600\nSSLRandomSeed startup builtin\nSSLMutex default\n"
        "SSLPassPhraseDialog builtin\nSSLCompression off\nSSLOpenSSLConfCmd Curves X25519\n"
        "SSLProxyEngine on\nSSLProxyVerify require\nSSLProxyCACertificateFile /etc/pca.pem\n"
        "SSLProxyCheckPeerName off\n"
        "<VirtualHost *:8080>\nServerName v\nSSLCipherSuite ECDHE-RSA-AES128-GCM-SHA256\n"
        "SSLVerifyClient optional_no_ca\nSSLVerifyDepth 3\nSSLHonorCipherOrder off\n"
        "SSLOpenSSLConfCmd ECDHParameters auto\n"
        "<Directory /srv>\nSSLOptions +StdEnvVars -ExportCertData\n</Directory>\n"
        "</VirtualHost>\n<VirtualHost *:8080>\nServerName w\n</VirtualHost>\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_tls_conf_t *m = c->main_server->tls, *v = c->vhosts[0]->tls;
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->protocols, PT_TLS_V13);
    ck_assert_str_eq(m->ciphers13, "TLS_AES_128_GCM_SHA256");
    ck_assert_ptr_null(m->ciphers12);
    ck_assert_int_eq(m->tickets, 0);
    ck_assert_int_eq(m->use_stapling, 1);
    ck_assert_str_eq(m->stapling_file.path, "/etc/ocsp.der");
    ck_assert_int_eq(m->stapling_timeout_ms, 5000);
    ck_assert_str_eq(m->ticket_key_file.path, "/etc/ticket.key");
    ck_assert_int_eq(m->ticket_key_file.line, 9);
    ck_assert_int_eq(m->cache_timeout_s, 600);
    ck_assert_int_eq(m->proxy_engine, 1);
    ck_assert_int_eq(m->proxy_verify, PT_TLS_VERIFY_REQUIRE);
    ck_assert_str_eq(m->proxy_ca_file.path, "/etc/pca.pem");
    ck_assert_int_eq(m->proxy_check_peer_name, 0);
    /* The vhost: its own lines, the main server's for the rest. */
    ck_assert_ptr_ne(v, m);
    ck_assert_str_eq(v->ciphers12, "ECDHE-RSA-AES128-GCM-SHA256");
    ck_assert_str_eq(v->ciphers13, "TLS_AES_128_GCM_SHA256");
    ck_assert_uint_eq(v->protocols, PT_TLS_V13);
    ck_assert_int_eq(v->verify_client, PT_TLS_VERIFY_OPTIONAL_NO_CA);
    ck_assert_int_eq(v->verify_depth, 3);
    ck_assert_int_eq(v->honor_order, 0);
    ck_assert_int_eq(v->tickets, 0);
    ck_assert_str_eq(v->ticket_key_file.path, "/etc/ticket.key");
    ck_assert_int_eq(v->use_stapling, 1);
    ck_assert_uint_eq(v->ncmds, 2);
    ck_assert_str_eq(v->cmds[0].name, "Curves");
    ck_assert_str_eq(v->cmds[1].name, "ECDHParameters");
    /* A vhost without SSL lines shares the main server's. */
    ck_assert_ptr_eq(c->vhosts[1]->tls, m);
    /* No SSLEngine and no certificate: no TLS anywhere. */
    ck_assert_ptr_null(pt_tls_ctx_for(c, c->main_server));
    pt_config_free(c);
}
END_TEST

START_TEST(ssl_protocol_speaks_mod_ssl_but_offers_tls12_and_tls13_only)
{
    static const struct { const char *line; unsigned want; } cases[] = {
        {"all", PT_TLS_V12 | PT_TLS_V13},
        {"all -SSLv3", PT_TLS_V12 | PT_TLS_V13},
        {"all -SSLv2 -SSLv3 -TLSv1 -TLSv1.1", PT_TLS_V12 | PT_TLS_V13},
        {"-all +TLSv1.2 +TLSv1.3", PT_TLS_V12 | PT_TLS_V13},
        {"TLSv1.2", PT_TLS_V12},
        {"all -TLSv1.2", PT_TLS_V13},
        {"+TLSv1 +TLSv1.1 +TLSv1.2", PT_TLS_V12}, /* the old ones ignored, with a warning */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[200];
        snprintf(text, sizeof(text), "Listen 8080\nSSLProtocol %s\n", cases[i].line);
        pt_config_t *c = load(text);
        ck_assert_msg(c != NULL, "%s: %s", cases[i].line, err);
        ck_assert_msg(c->main_server->tls->protocols == cases[i].want, "%s: %u",
                      cases[i].line, c->main_server->tls->protocols);
        pt_config_free(c);
    }
    assert_error("Listen 8080\nSSLProtocol TLSv1.1\n", ":2: SSLProtocol: no protocol left");
    assert_error("Listen 8080\nSSLProtocol TLSv9\n", ":2: SSLProtocol: unknown protocol");
}
END_TEST

START_TEST(bad_ssl_lines_are_errors_with_file_and_line)
{
    assert_error("Listen 8080\n\nSSLVerifyClient sometimes\n", ":3: SSLVerifyClient");
    assert_error("Listen 8080\nSSLEngine optional\n", ":2: SSLEngine optional");
    assert_error("Listen 8080\nSSLCompression on\n", ":2: SSLCompression on");
    assert_error("Listen 8080\nSSLCipherSuite TLSv1.4 X\n", ":2: SSLCipherSuite");
    assert_error("Listen 8080\nSSLOptions +Bogus\n", ":2: SSLOptions");
    assert_error("Listen 8080\nSSLSessionCache memory\n", ":2: SSLSessionCache");
    assert_error("Listen 8080\nSSLVerifyDepth -1\n", ":2:");
    assert_error("Listen 8080\n<Directory /x>\nSSLEngine on\n</Directory>\n", ":3:");
    assert_error("Listen 8080\nSSLEngine on\n", "SSLEngine on");
    assert_error("Listen 8080\nSSLEngine on\nSSLCertificateFile /nonexistent/c.pem\n",
                 ":3: SSLCertificateFile /nonexistent/c.pem: No such file or directory");
}
END_TEST

START_TEST(protocols_is_stored_in_order_and_inherited_by_vhosts)
{
    pt_config_t *c = load("Listen 8080\nProtocols h2 http/1.1\n<VirtualHost *:8080>\n"
                          "ServerName a\n</VirtualHost>\n<VirtualHost *:8080>\nServerName b\n"
                          "Protocols H2C HTTP/1.1\n</VirtualHost>\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->main_server->nprotocols, 2);
    ck_assert_str_eq(c->main_server->protocols[0], "h2");
    ck_assert_str_eq(c->vhosts[0]->protocols[1], "http/1.1");
    ck_assert_str_eq(c->vhosts[1]->protocols[0], "h2c");
    ck_assert_str_eq(c->vhosts[1]->protocols[1], "http/1.1");
    pt_config_free(c);
    assert_error("Listen 8080\nProtocols spdy/3\n", ":2: Protocols: unknown protocol");
}
END_TEST

START_TEST(a_https_listen_without_any_certificate_stays_plain_as_in_apache)
{
    pt_config_t *c = load("Listen 127.0.0.1:8443 https\n");
    ck_assert_msg(c != NULL, "%s", err);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8443),
                             .sin_addr.s_addr = htonl(0x7f000001)};
    ck_assert(!pt_tls_addr_is_tls(c, (const struct sockaddr *)&sa));
    pt_config_free(c);
}
END_TEST

/* Whether the kernel offers TLS to sockets: the answer agrees with the module being there
 * after the question (which loads it where the kernel can). On a kernel without it, no
 * context asks OpenSSL for kernel TLS, which would try and fail two setsockopt() calls in
 * every handshake. */
START_TEST(the_kernel_tls_question_agrees_with_the_kernels_module)
{
    bool offered = pt_tls_kernel_offers_tls();
    bool module = access("/sys/module/tls", F_OK) == 0;
    ck_assert_msg(offered == module, "offered %d, /sys/module/tls %s", offered,
                  module ? "present" : "absent");
    ck_assert(pt_tls_kernel_offers_tls() == offered); /* (asked again: the same) */
}
END_TEST

static Suite *tls_suite(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("directives");
    tcase_add_test(tc, every_ssl_directive_is_stored_and_a_vhost_merges_over_the_main_server);
    tcase_add_test(tc, ssl_protocol_speaks_mod_ssl_but_offers_tls12_and_tls13_only);
    tcase_add_test(tc, bad_ssl_lines_are_errors_with_file_and_line);
    tcase_add_test(tc, protocols_is_stored_in_order_and_inherited_by_vhosts);
    tcase_add_test(tc, a_https_listen_without_any_certificate_stays_plain_as_in_apache);
    tcase_add_test(tc, the_kernel_tls_question_agrees_with_the_kernels_module);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tls_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
