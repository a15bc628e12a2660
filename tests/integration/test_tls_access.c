/* mod_ssl's access directives and client-certificate checks beyond the CA: SSLRequireSSL,
 * SSLRequire (an ap_expr with the %{SSL_*} variables, checked beside Require), SSLUserName,
 * SSLOptions +FakeBasicAuth and +StrictRequire, SSLVerifyClient optional_no_ca, revocation
 * lists (SSLCARevocationFile/Path/Check) and the CA names a CertificateRequest lists
 * (SSLCADNRequestFile). PKI: tests/support/ca.sh (alice valid, bob revoked, mallory of
 * another CA); certificates no command line can make come from pth_tls_issue. */
#include "harness.h"
#include "tls_client.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pth_t *h;
static int plain_port;

static void setup(void)
{
    h = pth_new();
    plain_port = pth_free_port();
    pth_write_dir_file(h, "site/index.html", "home", 4);
    pth_write_dir_file(h, "site/secure/index.html", "secure", 6);
    pth_write_dir_file(h, "site/staff/index.html", "staff", 5);
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

/* One TLS vhost a.test on @PORT@ and the main server on a plain port, both serving
 * @DIR@/site; main_extra goes in the main server (sections apply to both), vh_extra in the
 * vhost. */
static void start_site(const char *main_extra, const char *vh_extra)
{
    pth_config_raw(h,
        "MPM %s\nListen 127.0.0.1:@PORT@ https\nListen 127.0.0.1:%d\n"
        "ServerName localhost\nErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\n"
        "LogLevel info\nCustomLog @DIR@/access.log common\nDocumentRoot @DIR@/site\n"
        "<Directory @DIR@/site>\nRequire all granted\n</Directory>\n%s\n"
        "<VirtualHost *:@PORT@>\nServerName a.test\nDocumentRoot @DIR@/site\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\nSSLCACertificateFile %s\n%s\n"
        "</VirtualHost>\n",
        pth_mpm(), plain_port, main_extra, pth_tls_file("a.test.rsa.pem"),
        pth_tls_file("a.test.rsa.key"), pth_tls_file("ca.pem"), vh_extra);
    pth_start(h);
}

/* The response to a GET over TLS with the client certificate NAME (NULL: none) and one
 * more request field (NULL: none); status -1 when the handshake was refused. */
static void tls_get(const char *path, const char *name, const char *field, pth_resp_t *r)
{
    char cert[64], key[64];
    snprintf(cert, sizeof(cert), "%s.pem", name ? name : "");
    snprintf(key, sizeof(key), "%s.key", name ? name : "");
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = path,
                       .cert = name ? cert : NULL, .key = name ? key : NULL, .header = field};
    if (pth_tls_get(&q, r) != 0)
        r->status = -1;
}

/* The status of a GET over TLS with the client certificate NAME (NULL: none); -1 when the
 * handshake was refused. */
static int tls_status(const char *path, const char *name)
{
    pth_resp_t r;
    tls_get(path, name, NULL, &r);
    int st = r.status;
    pth_resp_free(&r);
    return st;
}

/* The status of that GET and the response's field HDR ("" when absent), in out. */
static int tls_field(const char *path, const char *name, const char *hdr, char *out,
                     size_t len)
{
    pth_resp_t r;
    tls_get(path, name, NULL, &r);
    const char *v = r.status > 0 ? pth_resp_header(&r, hdr) : NULL;
    snprintf(out, len, "%s", v ? v : "");
    int st = r.status;
    pth_resp_free(&r);
    return st;
}

/* The status of a GET on the plain port with one more request field (NULL: none). */
static int plain_status_with(const char *path, const char *field)
{
    int port = h->port;
    h->port = plain_port;
    const char *fields[] = {field, NULL};
    pth_resp_t r;
    pth_get(h, path, fields, &r);
    h->port = port;
    int st = r.status;
    pth_resp_free(&r);
    return st;
}

static int plain_status(const char *path)
{
    return plain_status_with(path, NULL);
}

START_TEST(ssl_require_ssl_refuses_plain_http_and_serves_tls)
{
    pth_expect_error(h, "AH02219: access to .* failed, reason: SSL connection required");
    start_site("<Directory @DIR@/site/secure>\nSSLRequireSSL\n</Directory>", "");
    ck_assert_int_eq(plain_status("/secure/"), 403);
    ck_assert_int_eq(plain_status("/"), 200);
    ck_assert_int_eq(tls_status("/secure/", NULL), 200);
    ck_assert(pth_file_wait_contains(h->error_log, "SSL connection required", 3000));
}
END_TEST

/* Apache 2.4: SSLRequire is another access check, ANDed with Require (not one more Require
 * line that a RequireAny could pass), and mod_ssl does not check it on a plain connection. */
START_TEST(ssl_require_checks_the_client_certificate_beside_require)
{
    start_site("<Location /staff>\nRequire all granted\n"
               "SSLRequire %{SSL_CLIENT_S_DN_CN} in {\"alice\", \"carol\"} "
               "&& %{SSL_CLIENT_S_DN_O} == \"portico tests\"\n</Location>\n"
               "<Location /secure>\nSSLRequire %{SSL_CLIENT_VERIFY} == \"SUCCESS\"\n"
               "SSLRequire %{SSL_CLIENT_I_DN_CN} =~ /test CA$/\n</Location>",
               "SSLVerifyClient optional");
    ck_assert_int_eq(tls_status("/staff/", "client"), 200);   /* alice */
    ck_assert_int_eq(tls_status("/staff/", NULL), 403);
    ck_assert_int_eq(tls_status("/secure/", "client"), 200);
    ck_assert_int_eq(tls_status("/secure/", NULL), 403);
    ck_assert_int_eq(tls_status("/", NULL), 200);
    ck_assert_int_eq(plain_status("/staff/"), 200);           /* as mod_ssl: TLS only */
    ck_assert(pth_file_wait_contains(h->error_log, "requirement expression not fulfilled",
                                     3000));
    ck_assert(pth_file_wait_contains(h->error_log, "Failed expression: %{SSL_CLIENT_S_DN_CN}",
                                     3000));
}
END_TEST

/* mod_headers' %{NAME}s reads mod_ssl's variables (the recipe that hands a client
 * certificate's name to a backend); without TLS, HTTPS is "off" and the rest "(null)", as
 * apache2 2.4 with mod_ssl answers. */
START_TEST(header_formats_read_mod_ssl_variables)
{
    start_site("Header always set X-TLS \"%{HTTPS}s|%{SSL_PROTOCOL}s|%{SSL_CLIENT_S_DN_CN}s\"\n"
               "RequestHeader set X-Client-CN \"%{SSL_CLIENT_S_DN_CN}s\"\n"
               "Header always set X-Seen \"expr=%{HTTP:X-Client-CN}\"",
               "SSLVerifyClient optional\nSSLProtocol -all +TLSv1.3");
    char v[256];
    ck_assert_int_eq(tls_field("/", "client", "X-TLS", v, sizeof(v)), 200);
    ck_assert_str_eq(v, "on|TLSv1.3|alice");
    ck_assert_int_eq(tls_field("/", "client", "X-Seen", v, sizeof(v)), 200);
    ck_assert_str_eq(v, "alice");
    ck_assert_int_eq(tls_field("/", NULL, "X-TLS", v, sizeof(v)), 200);
    ck_assert_str_eq(v, "on|TLSv1.3|(null)");
    int port = h->port;
    h->port = plain_port;
    pth_resp_t r;
    pth_get(h, "/", NULL, &r);
    h->port = port;
    ck_assert_int_eq(r.status, 200);
    const char *t = pth_resp_header(&r, "X-TLS");
    ck_assert_msg(t && strcmp(t, "off|(null)|(null)") == 0, "plain X-TLS: %s", t ? t : "(none)");
    pth_resp_free(&r);
}
END_TEST

START_TEST(ssl_user_name_makes_the_certificate_cn_the_remote_user)
{
    start_site("", "SSLVerifyClient optional\nSSLUserName SSL_CLIENT_S_DN_CN");
    ck_assert_int_eq(tls_status("/", "client"), 200);
    ck_assert(pth_file_wait_contains(pth_path(h, "access.log"), " - alice [", 3000));
    ck_assert_int_eq(tls_status("/", NULL), 200); /* no certificate: no user, a warning */
    ck_assert(pth_file_wait_contains(h->error_log,
                                     "Failed to set r->user to 'SSL_CLIENT_S_DN_CN'", 3000));
}
END_TEST

START_TEST(a_revoked_client_certificate_is_refused_when_crl_checking_is_on)
{
    char vh[800];
    snprintf(vh, sizeof(vh), "SSLVerifyClient require\nSSLCARevocationFile %s\n"
             "SSLCARevocationCheck chain", pth_tls_file("ca.crl.pem"));
    start_site("", vh);
    ck_assert_int_eq(tls_status("/", "client"), 200);
    ck_assert_int_eq(tls_status("/", "revoked"), -1);
    ck_assert(pth_file_wait_contains(h->error_log, "revoked", 3000));
}
END_TEST

START_TEST(crls_in_a_hashed_directory_are_checked_too)
{
    char vh[800];
    snprintf(vh, sizeof(vh), "SSLVerifyClient require\nSSLCARevocationPath %s\n"
             "SSLCARevocationCheck leaf", pth_tls_file("crldir"));
    start_site("", vh);
    ck_assert_int_eq(tls_status("/", "client"), 200);
    ck_assert_int_eq(tls_status("/", "revoked"), -1);
}
END_TEST

/* Apache 2.4's default SSLCARevocationCheck none loads the lists and does not consult them;
 * with checking on, a CA without a CRL fails the chain unless no_crl_for_cert_ok. */
START_TEST(crl_checking_follows_the_check_mode_and_its_flag)
{
    char vh[800];
    snprintf(vh, sizeof(vh), "SSLVerifyClient require\nSSLCARevocationFile %s",
             pth_tls_file("ca.crl.pem"));
    start_site("", vh);
    ck_assert_int_eq(tls_status("/", "revoked"), 200);
    ck_assert(pth_file_wait_contains(pth_path(h, "stderr.txt"), "revocation is not checked",
                                     3000));
    pth_stop(h);
    /* a CRL of another CA only: alice's CA has none */
    const char *rogue = pth_tls_file("rogue.crl.pem");
    snprintf(vh, sizeof(vh), "SSLVerifyClient require\nSSLCARevocationFile %s\n"
             "SSLCARevocationCheck leaf", rogue);
    start_site("", vh);
    ck_assert_int_eq(tls_status("/", "client"), -1);
    pth_stop(h);
    snprintf(vh, sizeof(vh), "SSLVerifyClient require\nSSLCARevocationFile %s\n"
             "SSLCARevocationCheck leaf no_crl_for_cert_ok", rogue);
    start_site("", vh);
    ck_assert_int_eq(tls_status("/", "client"), 200);
}
END_TEST

START_TEST(the_certificate_request_lists_the_cadn_request_file_names)
{
    start_site("", "SSLVerifyClient optional");
    char *out = pth_s_client(h->port, "-servername a.test");
    ck_assert_msg(strstr(out, "Acceptable client certificate CA names\n"
                              "O = portico tests, CN = portico test CA\n") != NULL,
                  "%.1500s", strstr(out, "Acceptable") ? strstr(out, "Acceptable") : out);
    free(out);
    pth_stop(h);
    char vh[600];
    snprintf(vh, sizeof(vh), "SSLVerifyClient optional\nSSLCADNRequestFile %s",
             pth_tls_file("rogue-ca.pem"));
    start_site("", vh);
    out = pth_s_client(h->port, "-servername a.test");
    /* only the file's names, not the trusted CA's */
    ck_assert_msg(strstr(out, "Acceptable client certificate CA names\n"
                              "O = portico tests, CN = rogue CA\nRequested") != NULL,
                  "%.1500s", strstr(out, "Acceptable") ? strstr(out, "Acceptable") : out);
    free(out);
}
END_TEST

/* a.test and b.test on one port, b's TLS lines given; the main server's extra too. */
static void start_two(const char *main_extra, const char *b_extra)
{
    pth_config_raw(h,
        "MPM %s\nListen 127.0.0.1:@PORT@ https\nServerName localhost\n"
        "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
        "DocumentRoot @DIR@/site\n<Directory @DIR@/site>\nRequire all granted\n</Directory>\n"
        "%s\n<VirtualHost *:@PORT@>\nServerName a.test\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n</VirtualHost>\n"
        "<VirtualHost *:@PORT@>\nServerName b.test\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n%s\n</VirtualHost>\n",
        pth_mpm(), main_extra, pth_tls_file("a.test.rsa.pem"), pth_tls_file("a.test.rsa.key"),
        pth_tls_file("b.test.rsa.pem"), pth_tls_file("b.test.rsa.key"), b_extra);
    pth_start(h);
}

/* The status of a request made with SNI a.test and Host b.test. */
static int crossed_status(void)
{
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .host_header = "b.test",
                       .path = "/"};
    pth_resp_t r;
    int rc = pth_tls_get(&q, &r);
    int st = rc == 0 ? r.status : -1;
    pth_resp_free(&r);
    return st;
}

START_TEST(sni_policy_decides_which_differences_between_sni_and_host_are_a_421)
{
    char ca[400];
    snprintf(ca, sizeof(ca), "SSLVerifyClient optional\nSSLCACertificateFile %s",
             pth_tls_file("ca.pem"));
    start_two("", "SSLProtocol TLSv1.3"); /* secure (the default): versions count */
    ck_assert_int_eq(crossed_status(), 421);
    pth_stop(h);
    start_two("SSLVHostSNIPolicy authonly", "SSLProtocol TLSv1.3");
    ck_assert_int_eq(crossed_status(), 200);
    pth_stop(h);
    start_two("SSLVHostSNIPolicy authonly", ca); /* client authentication counts */
    ck_assert_int_eq(crossed_status(), 421);
    pth_stop(h);
    start_two("SSLVHostSNIPolicy insecure", ca);
    ck_assert_int_eq(crossed_status(), 200);
    pth_stop(h);
    start_two("", ""); /* secure: only the certificates differ */
    ck_assert_int_eq(crossed_status(), 200);
    pth_stop(h);
    start_two("SSLVHostSNIPolicy strict", ""); /* strict: they count too */
    ck_assert_int_eq(crossed_status(), 421);
}
END_TEST

static void assert_t_fails(const char *body, const char *needle)
{
    pth_config_raw(h,
        "Listen 127.0.0.1:@PORT@ https\nServerName localhost\nErrorLog @DIR@/error.log\n"
        "<VirtualHost *:@PORT@>\nServerName a.test\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n%s\n</VirtualHost>\n",
        pth_tls_file("a.test.rsa.pem"), pth_tls_file("a.test.rsa.key"), body);
    pth_run_t r;
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(r.code != 0, "-t accepted: %s", body);
    ck_assert_msg(strstr(r.err, h->conf) && strstr(r.err, needle), "-t said '%s', wanted %s",
                  r.err, needle);
    pth_run_free(&r);
}

START_TEST(bad_access_and_revocation_directives_are_config_errors)
{
    assert_t_fails("SSLCARevocationCheck chain", "neither SSLCARevocationFile nor");
    assert_t_fails("SSLCARevocationCheck sometimes", "none, leaf or chain");
    assert_t_fails("SSLCARevocationFile /nonexistent/crl.pem", "No such file");
    assert_t_fails("<Location />\nSSLRequire %{SSL_CLIENT_S_DN_CN} ==\n</Location>",
                   "SSLRequire");
    assert_t_fails("SSLRequireSSL", "SSLRequireSSL cannot occur within <VirtualHost>");
}
END_TEST

static void assert_t(const char *body, bool ok, const char *needle)
{
    pth_config(h, "%s\n", body);
    pth_config_test(h, ok ? 0 : 1, needle);
}

START_TEST(compatibility_directives_are_refused_or_noted_as_apache_does)
{
    assert_t("SSLLog /var/log/ssl.log", false,
             "SSLLog directive is no longer supported - use ErrorLog.");
    assert_t("SSLLogLevel info", false,
             "SSLLogLevel directive is no longer supported - use LogLevel.");
    assert_t("SSLFIPS off", true, "Syntax OK");
    assert_t("SSLFIPS on", false, "FIPS provider");
    assert_t("SSLCryptoDevice builtin", true, "Syntax OK");
    assert_t("SSLCryptoDevice padlock", false, "does not load OpenSSL engines");
    assert_t("SSLSRPVerifierFile /etc/passwd.srpv", false, "TLS-SRP");
    assert_t("<Location />\nSSLRenegBufferSize 65536\n</Location>", true,
             "notice: SSLRenegBufferSize ignored: portico never renegotiates");
    assert_t("SSLVHostSNIPolicy lax", false, "strict, secure, authonly or insecure");
    assert_t("H2Push off", true, "Syntax OK");
    assert_t("H2Push on", true, "notice: H2Push on ignored: portico does not do HTTP/2 "
                                "server push");
    assert_t("H2PushResource /style.css", true, "notice: H2PushResource ignored");
    assert_t("H2CopyFiles on", true, "notice: H2CopyFiles ignored");
    assert_t("H2SerializeHeaders on", true, "notice: H2SerializeHeaders ignored");
    assert_t("H2TLSWarmUpSize 1048576", true, "notice: H2TLSWarmUpSize ignored");
    assert_t("H2ProxyRequests on", true, "notice: H2ProxyRequests ignored");
    assert_t("H2WebSockets on", false, "RFC 8441");
    assert_t("H2WebSockets off", true, "Syntax OK");
}
END_TEST

/* mod_ssl's ssl_verify_error_is_optional: optional_no_ca forgives a certificate whose issuer
 * cannot be found or trusted (SSL_CLIENT_VERIFY says GENEROUS), and nothing else: an expired
 * or a revoked certificate of the trusted CA fails the handshake as under "require". */
START_TEST(optional_no_ca_forgives_an_unknown_issuer_and_nothing_else)
{
    pth_cert_spec_t old = {.name = "expired", .cn = "alice", .cn_len = 5, .from_s = -2 * 86400,
                       .to_s = -86400};
    pth_tls_issue(&old);
    start_site("Header always set X-Verify \"expr=%{SSL_CLIENT_VERIFY}\"",
               "SSLVerifyClient optional_no_ca");
    char v[128];
    ck_assert_int_eq(tls_field("/", "client", "X-Verify", v, sizeof(v)), 200);
    ck_assert_str_eq(v, "SUCCESS");
    ck_assert_int_eq(tls_field("/", NULL, "X-Verify", v, sizeof(v)), 200);
    ck_assert_str_eq(v, "NONE");
    ck_assert_int_eq(tls_field("/", "rogue", "X-Verify", v, sizeof(v)), 200);
    ck_assert_str_eq(v, "GENEROUS");
    int st = tls_field("/", "expired", "X-Verify", v, sizeof(v));
    ck_assert_msg(st == -1, "an expired certificate was taken under optional_no_ca: %d, "
                  "SSL_CLIENT_VERIFY %s", st, v);
    pth_stop(h);
    char vh[800];
    snprintf(vh, sizeof(vh), "SSLVerifyClient optional_no_ca\nSSLCARevocationFile %s\n"
             "SSLCARevocationCheck chain\n<Location /staff>\n"
             "SSLRequire %%{SSL_CLIENT_S_DN_CN} == \"bob\"\n</Location>",
             pth_tls_file("ca.crl.pem"));
    start_site("", vh);
    ck_assert_int_eq(tls_status("/", "client"), 200);
    st = tls_status("/staff/", "revoked");
    ck_assert_msg(st == -1, "bob's revoked certificate was taken under optional_no_ca with "
                  "CRL checking on: GET /staff/ answered %d", st);
    ck_assert(pth_file_wait_contains(h->error_log, "revoked", 3000));
}
END_TEST

/* no_crl_for_cert_ok forgives the missing CRL of a self-signed certificate's issuer (itself)
 * or of the rogue CA: that must not make a certificate optional_no_ca let through read as
 * verified. */
START_TEST(no_crl_for_cert_ok_leaves_a_forgiven_certificate_generous)
{
    pth_cert_spec_t self = {.name = "self", .cn = "alice", .cn_len = 5, .from_s = -3600,
                            .to_s = 86400, .self_signed = true};
    pth_tls_issue(&self);
    char vh[800], v[128];
    snprintf(vh, sizeof(vh), "SSLVerifyClient optional_no_ca\nSSLCARevocationFile %s\n"
             "SSLCARevocationCheck chain no_crl_for_cert_ok", pth_tls_file("ca.crl.pem"));
    start_site("Header always set X-Verify \"expr=%{SSL_CLIENT_VERIFY}\"", vh);
    ck_assert_int_eq(tls_field("/", "self", "X-Verify", v, sizeof(v)), 200);
    ck_assert_str_eq(v, "GENEROUS");
    ck_assert_int_eq(tls_field("/", "rogue", "X-Verify", v, sizeof(v)), 200);
    ck_assert_str_eq(v, "GENEROUS");
    ck_assert_int_eq(tls_field("/", "client", "X-Verify", v, sizeof(v)), 200);
    ck_assert_str_eq(v, "SUCCESS");
}
END_TEST

/* The 2009 null-prefix trick: a CN "alice\0.evil.example" from a CA that signs whatever
 * names its customers ask for must not read as "alice". mod_ssl escapes the control
 * characters of a DN part or a subjectAltName (ASN1_STRFLGS_ESC_CTRL): "alice\00.evil...". */
START_TEST(a_control_character_in_a_certificate_name_is_escaped_not_cut)
{
    static const char cn[] = "alice\0.evil.example";
    static const char dns[] = "a.test\0.evil.example";
    pth_cert_spec_t nul = {.name = "nulcn", .cn = cn, .cn_len = sizeof(cn) - 1, .dns = dns,
                           .dns_len = sizeof(dns) - 1, .from_s = -3600, .to_s = 86400};
    pth_tls_issue(&nul);
    start_site("<Location /staff>\nSSLRequire %{SSL_CLIENT_S_DN_CN} == \"alice\"\n"
               "</Location>\nHeader always set X-CN \"expr=%{SSL_CLIENT_S_DN_CN}\"\n"
               "Header always set X-DNS \"expr=%{SSL_CLIENT_SAN_DNS_0}\"",
               "SSLVerifyClient require");
    ck_assert_int_eq(tls_status("/staff/", "client"), 200); /* the real alice */
    char v[128];
    int st = tls_field("/staff/", "nulcn", "X-CN", v, sizeof(v));
    ck_assert_msg(st == 403, "CN \"alice\\0.evil.example\" passed SSLRequire "
                  "%%{SSL_CLIENT_S_DN_CN} == \"alice\": %d", st);
    ck_assert_str_eq(v, "alice\\00.evil.example");
    ck_assert_int_eq(tls_field("/", "nulcn", "X-DNS", v, sizeof(v)), 200);
    ck_assert_str_eq(v, "a.test\\00.evil.example");
}
END_TEST

/* mod_ssl's recipe for +FakeBasicAuth: the users file lists each client's DN with the crypt
 * of the word "password". Anyone can type a DN and that word, so mod_ssl refuses any Basic
 * credentials of that shape (AH02035) wherever a user is asked for, with or without TLS or
 * the option. */
#define ALICE_DN "/O=portico tests/CN=alice"
#define FAKE_USERS                                                                         \
    ALICE_DN ":xxj31ZMTZzkVA\n/O=portico tests/CN=mallory:xxj31ZMTZzkVA\n"                  \
    "carol:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"

START_TEST(a_typed_fake_basic_auth_dn_is_refused_with_or_without_tls)
{
    pth_expect_error(h, "AH02035: Encountered FakeBasicAuth spoof: " ALICE_DN);
    pth_write_conf_file(h, "users", FAKE_USERS);
    start_site("<Location /staff>\nSSLOptions +FakeBasicAuth\nAuthType Basic\n"
               "AuthName staff\nAuthUserFile @DIR@/users\nRequire valid-user\n</Location>\n"
               "<Location /secure>\nAuthType Basic\nAuthName secure\n"
               "AuthUserFile @DIR@/users\nRequire valid-user\n</Location>", "");
    char field[PTH_BASIC_AUTH_MAX];
    pth_basic_auth(field, sizeof(field), ALICE_DN ":password");
    int st = plain_status_with("/staff/", field);
    ck_assert_msg(st == 403, "a typed DN with the password \"password\" (no certificate at "
                  "all) on plain HTTP: %d", st);
    ck_assert_int_eq(plain_status_with("/secure/", field), 403);
    pth_resp_t r;
    tls_get("/staff/", NULL, field, &r);
    ck_assert_int_eq(r.status, 403);
    pth_resp_free(&r);
    ck_assert_int_eq(plain_status("/"), 200); /* no user asked for: no check */
    ck_assert(pth_file_wait_contains(h->error_log, "AH02035: Encountered FakeBasicAuth "
                                     "spoof: " ALICE_DN, 3000));
}
END_TEST

/* An internal redirect does not carry the spoof past the check: an ErrorDocument in the
 * protected place is not served to typed credentials (mod_ssl checks the initial request
 * only, and a redirect's Basic authentication would take them). */
START_TEST(a_typed_fake_basic_auth_dn_is_refused_after_an_internal_redirect_too)
{
    pth_expect_error(h, "AH02035: Encountered FakeBasicAuth spoof: " ALICE_DN);
    pth_write_conf_file(h, "users", FAKE_USERS);
    start_site("ErrorDocument 404 /staff/index.html\n<Location /staff>\nAuthType Basic\n"
               "AuthName staff\nAuthUserFile @DIR@/users\nRequire valid-user\n</Location>",
               "");
    char field[PTH_BASIC_AUTH_MAX];
    pth_basic_auth(field, sizeof(field), ALICE_DN ":password");
    int port = h->port;
    h->port = plain_port;
    const char *fields[] = {field, NULL};
    pth_resp_t r;
    pth_get(h, "/missing", fields, &r);
    h->port = port;
    ck_assert_msg(!strstr(r.body, "staff"), "the protected error document was served to a "
                  "typed DN (status %d): %s", r.status, r.body);
    pth_resp_free(&r);
}
END_TEST

/* Only a certificate that verified names the user: mallory's, of another CA, and a
 * self-signed one with alice's very DN get through optional_no_ca (GENEROUS) but their DNs
 * are not taken (mod_ssl would take them at their word). */
START_TEST(fake_basic_auth_authenticates_the_certificate_subject_in_the_users_file)
{
    pth_cert_spec_t self = {.name = "self", .cn = "alice", .cn_len = 5, .from_s = -3600,
                            .to_s = 86400, .self_signed = true};
    pth_tls_issue(&self);
    pth_expect_error(h, "AH01618: user /O=portico tests/CN=bob not found");
    pth_write_conf_file(h, "users", FAKE_USERS);
    start_site("<Location /staff>\nSSLOptions +FakeBasicAuth\nAuthType Basic\n"
               "AuthName staff\nAuthUserFile @DIR@/users\nRequire valid-user\n</Location>",
               "SSLVerifyClient optional_no_ca");
    ck_assert_int_eq(tls_status("/staff/", "client"), 200);
    ck_assert(pth_file_wait_contains(pth_path(h, "access.log"), " - " ALICE_DN " [", 3000));
    ck_assert(pth_file_wait_contains(h->error_log, "AH02036: Faking HTTP Basic Auth header",
                                     3000));
    ck_assert_int_eq(tls_status("/staff/", "revoked"), 401); /* bob: not in the file */
    ck_assert_int_eq(tls_status("/staff/", "rogue"), 401);
    ck_assert_int_eq(tls_status("/staff/", "self"), 401);
    ck_assert_int_eq(tls_status("/staff/", NULL), 401);
    ck_assert(pth_file_wait_contains(h->error_log, "AH01618: user /O=portico tests/CN=bob "
                                     "not found", 3000));
}
END_TEST

/* +StrictRequire: a request SSLRequireSSL refused stays refused when Satisfy Any would let
 * a user's password in (mod_ssl's check_user_id hook, "ssl-access-forbidden"). */
START_TEST(strict_require_keeps_an_ssl_refusal_through_satisfy_any)
{
    pth_expect_error(h, "AH02219: access to .* failed, reason: SSL connection required");
    pth_write_conf_file(h, "users", FAKE_USERS);
    start_site("<Location /staff>\nSSLRequireSSL\nSatisfy Any\nAuthType Basic\n"
               "AuthName staff\nAuthUserFile @DIR@/users\nRequire valid-user\n</Location>\n"
               "<Location /secure>\nSSLRequireSSL\nSSLOptions +StrictRequire\nSatisfy Any\n"
               "AuthType Basic\nAuthName secure\nAuthUserFile @DIR@/users\n"
               "Require valid-user\n</Location>", "");
    char field[PTH_BASIC_AUTH_MAX];
    pth_basic_auth(field, sizeof(field), "carol:password");
    ck_assert_int_eq(plain_status_with("/staff/", field), 200);
    ck_assert_int_eq(plain_status_with("/secure/", field), 403);
    pth_resp_t r;
    tls_get("/secure/", NULL, field, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
}
END_TEST

/* DES crypt reads 8 characters, so "password" plus anything matches the recipe's hash: a
 * typed DN with "passwordX" is a spoof too (mod_ssl, comparing the whole word, lets it in). */
START_TEST(a_typed_dn_with_password_and_a_suffix_is_refused_too)
{
    pth_expect_error(h, "AH02035: Encountered FakeBasicAuth spoof");
    pth_write_conf_file(h, "users", FAKE_USERS);
    start_site("<Location /staff>\nSSLOptions +FakeBasicAuth\nAuthType Basic\n"
               "AuthName staff\nAuthUserFile @DIR@/users\nRequire valid-user\n</Location>", "");
    char field[PTH_BASIC_AUTH_MAX];
    pth_basic_auth(field, sizeof(field), ALICE_DN ":passwordX");
    int st = plain_status_with("/staff/", field);
    ck_assert_msg(st != 200, "typed DN with password \"passwordX\", no certificate: %d", st);
}
END_TEST

/* Two SSLOptions lines in one section add up, as in mod_ssl (the first's +FakeBasicAuth stays
 * when the second says +StdEnvVars). */
START_TEST(two_ssloptions_lines_in_one_section_add_up)
{
    pth_write_conf_file(h, "users", FAKE_USERS);
    start_site("<Location /staff>\nSSLOptions +FakeBasicAuth\nSSLOptions +StdEnvVars\n"
               "AuthType Basic\nAuthName staff\nAuthUserFile @DIR@/users\n"
               "Require valid-user\n</Location>", "SSLVerifyClient optional");
    ck_assert_int_eq(tls_status("/staff/", "client"), 200);
}
END_TEST

/* mod_dir's lookup of index.html authenticates a request of its own: the Authorization field
 * +FakeBasicAuth sets there is the lookup's, as in Apache (whose subrequest has a copy of
 * the headers). Once it landed in the request's own fields, where the request after the
 * redirect took it for a typed DN: 403 and AH02035 for a client that had sent a Bearer
 * token with its certificate. */
START_TEST(an_index_lookups_fake_authorization_is_not_taken_for_a_spoof)
{
    pth_write_conf_file(h, "users", FAKE_USERS);
    start_site("<Location /staff/index.html>\nSSLOptions +FakeBasicAuth\nAuthType Basic\n"
               "AuthName staff\nAuthUserFile @DIR@/users\nRequire valid-user\n</Location>",
               "SSLVerifyClient optional");
    ck_assert_int_eq(tls_status("/staff/index.html", "client"), 200);
    ck_assert_int_eq(tls_status("/staff/", "client"), 200);
    pth_resp_t r;
    tls_get("/staff/", "client", "Authorization: Bearer abc", &r);
    int st = r.status;
    pth_resp_free(&r);
    ck_assert_msg(st == 200, "/staff/ with a certificate and a Bearer field: %d (AH02035: %d)",
                  st, pth_file_wait_contains(h->error_log, "AH02035", 0));
}
END_TEST

static Suite *tls_access_suite(void)
{
    Suite *s = suite_create("tls_access");
    TCase *tc = tcase_create("tls_access");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, ssl_require_ssl_refuses_plain_http_and_serves_tls);
    tcase_add_test(tc, ssl_require_checks_the_client_certificate_beside_require);
    tcase_add_test(tc, header_formats_read_mod_ssl_variables);
    tcase_add_test(tc, ssl_user_name_makes_the_certificate_cn_the_remote_user);
    tcase_add_test(tc, a_revoked_client_certificate_is_refused_when_crl_checking_is_on);
    tcase_add_test(tc, crls_in_a_hashed_directory_are_checked_too);
    tcase_add_test(tc, crl_checking_follows_the_check_mode_and_its_flag);
    tcase_add_test(tc, the_certificate_request_lists_the_cadn_request_file_names);
    tcase_add_test(tc, bad_access_and_revocation_directives_are_config_errors);
    tcase_add_test(tc, sni_policy_decides_which_differences_between_sni_and_host_are_a_421);
    tcase_add_test(tc, compatibility_directives_are_refused_or_noted_as_apache_does);
    tcase_add_test(tc, optional_no_ca_forgives_an_unknown_issuer_and_nothing_else);
    tcase_add_test(tc, no_crl_for_cert_ok_leaves_a_forgiven_certificate_generous);
    tcase_add_test(tc, a_control_character_in_a_certificate_name_is_escaped_not_cut);
    tcase_add_test(tc, a_typed_fake_basic_auth_dn_is_refused_with_or_without_tls);
    tcase_add_test(tc, a_typed_fake_basic_auth_dn_is_refused_after_an_internal_redirect_too);
    tcase_add_test(tc, fake_basic_auth_authenticates_the_certificate_subject_in_the_users_file);
    tcase_add_test(tc, strict_require_keeps_an_ssl_refusal_through_satisfy_any);
    tcase_add_test(tc, a_typed_dn_with_password_and_a_suffix_is_refused_too);
    tcase_add_test(tc, two_ssloptions_lines_in_one_section_add_up);
    tcase_add_test(tc, an_index_lookups_fake_authorization_is_not_taken_for_a_spoof);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    pth_tls_pki();
    SRunner *sr = srunner_create(tls_access_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
