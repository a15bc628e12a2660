/* OCSP stapling (tls/stapling.c) with a real responder: `openssl ocsp` serving the test
 * CA's database (tests/support/ocsp_pki.sh), named by the certificates' AIA. The parent
 * fetches once and every child staples that response (the responder sees one request for
 * many handshakes); a revoked certificate's status is stapled as such; SSLStaplingFile
 * staples a saved response with no responder at all; a responder that is down gives
 * mod_ssl's tryLater; a file about another certificate is a config error. Client: openssl
 * s_client -status. */
#include "harness.h"
#include "tlsx_tools.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char pki[256];          /* ocsp_pki.sh's output, made once by main */
static int ocsp_port;          /* the responder's port, named in the certificates' AIA */
static pth_t *h;
static pid_t responder;

static const char *pki_file(const char *name)
{
    static char ring[4][320];
    static int next;
    char *b = ring[next++ % 4];
    snprintf(b, sizeof(ring[0]), "%s/%s", pki, name);
    return b;
}

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "index.html", "stapled");
    responder = 0;
}

static void teardown(void)
{
    tlsx_kill(responder);
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

/* `openssl ocsp` for the test CA's database, signing with the delegated responder
 * certificate; its output (-text: each request) goes to DIR/ocsp.log. */
static void start_responder(void)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", ocsp_port);
    const char *argv[] = {"openssl", "ocsp", "-index", pki_file("index.txt"), "-port", port,
                          "-rsigner", pki_file("ocsp.pem"), "-rkey", pki_file("ocsp.key"),
                          "-CA", pki_file("ca.pem"), "-nmin", "60", "-text", NULL};
    responder = tlsx_spawn(argv, pth_path(h, "ocsp.log"));
    /* Ready when it says so: a probe connection closed without a request would wedge it
     * (OpenSSL 3.0's responder then waits on that connection for good). */
    ck_assert_msg(pth_file_wait_contains(pth_path(h, "ocsp.log"),
                                         "waiting for OCSP client connections", 5000),
                  "the OCSP responder did not start");
}

/* One TLS vhost per name given (a.test first: the default), stapling on, extra lines in
 * the main server. Children: two or three, so that several processes staple. */
static void config_stapling(const char *extra)
{
    bool prefork = strcmp(pth_mpm(), "prefork") == 0;
    char vhosts[4096] = "";
    const char *names[] = {"a.test", "b.test", "c.test"};
    for (int i = 0; i < 3; i++) {
        char one[1024];
        snprintf(one, sizeof(one),
                 "<VirtualHost *:@PORT@>\nServerName %s\nSSLEngine on\n"
                 "SSLCertificateFile %s/%s.pem\nSSLCertificateKeyFile %s/%s.key\n"
                 "SSLCertificateChainFile %s/ca.pem\n</VirtualHost>\n",
                 names[i], pki, names[i], pki, names[i], pki);
        strcat(vhosts, one);
    }
    pth_config_raw(h,
        "MPM %s\nListen 127.0.0.1:@PORT@ https\nServerName localhost\n"
        "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
        "CustomLog @DIR@/access.log common\nDocumentRoot @DOCROOT@\n"
        "<Directory @DOCROOT@>\nRequire all granted\n</Directory>\n%s"
        "SSLUseStapling On\nSSLStaplingCache \"shmcb:logs/ssl_stapling(32768)\"\n%s\n%s",
        pth_mpm(),
        prefork ? "StartServers 3\nMinSpareServers 3\nMaxSpareServers 4\nServerLimit 8\n"
                : "StartServers 2\nThreadsPerChild 4\nMinSpareThreads 8\n"
                  "MaxSpareThreads 12\nServerLimit 4\n",
        extra, vhosts);
}

static char *s_client_status(const char *name)
{
    char args[256];
    snprintf(args, sizeof(args), "-status -servername %s", name);
    return tlsx_s_client(h->port, args);
}

/* Polls s_client -status until its output has want (the first fetch comes with the
 * parent's first tick, about a second after the start); returns that output. */
static char *wait_staple(const char *name, const char *want)
{
    char *out = NULL;
    for (int64_t end = pth_now_ms() + 15000; pth_now_ms() < end; pth_sleep_ms(200)) {
        free(out);
        out = s_client_status(name);
        if (strstr(out, want))
            return out;
    }
    ck_abort_msg("%s: no '%s' within 15 s:\n%.3000s", name, want, out);
    return NULL;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

START_TEST(children_staple_the_one_response_the_parent_fetched)
{
    start_responder();
    config_stapling("");
    pth_start(h);
    free(wait_staple("a.test", "Cert Status: good"));
    for (int i = 0; i < 8; i++) {
        char *out = s_client_status("a.test");
        ck_assert_msg(strstr(out, "OCSP Response Status: successful") &&
                          strstr(out, "Cert Status: good") && strstr(out, "stapled"),
                      "handshake %d: no staple:\n%.3000s", i, out);
        free(out);
    }
    /* a.test's and b.test's responses: one request each, made by the parent, not one per
     * handshake or per child. */
    free(wait_staple("b.test", "Cert Status: revoked"));
    char *log = pth_read_file(pth_path(h, "ocsp.log"), NULL);
    ck_assert_msg(count(log, "OCSP Request Data:") == 2, "requests:\n%.4000s", log);
    free(log);
}
END_TEST

/* Refreshed by the parent before it goes stale: here SSLStaplingStandardCacheTimeout 2
 * (the responder's nextUpdate is an hour away), so a new request every two seconds or so,
 * each answer stapled in turn. */
START_TEST(the_parent_fetches_again_after_the_standard_cache_timeout)
{
    start_responder();
    config_stapling("SSLStaplingStandardCacheTimeout 2\n");
    pth_start(h);
    free(wait_staple("a.test", "Cert Status: good"));
    const char *log_path = pth_path(h, "ocsp.log");
    int64_t end = pth_now_ms() + 15000;
    char *log = NULL;
    for (; pth_now_ms() < end; pth_sleep_ms(200)) {
        free(log);
        log = pth_read_file(log_path, NULL);
        if (count(log, "OCSP Request Data:") >= 4) /* a.test's and b.test's, twice each */
            break;
    }
    ck_assert_msg(count(log, "OCSP Request Data:") >= 4, "requests:\n%.4000s", log);
    free(log);
    char *out = s_client_status("a.test");
    ck_assert_msg(strstr(out, "Cert Status: good"), "after a refresh:\n%.3000s", out);
    free(out);
}
END_TEST

START_TEST(a_revoked_certificate_is_stapled_as_revoked_and_one_without_aia_not_at_all)
{
    start_responder();
    config_stapling("");
    pth_expect_error(h, "names no OCSP responder");
    pth_start(h);
    char *out = wait_staple("b.test", "Cert Status: revoked");
    ck_assert_ptr_nonnull(strstr(out, "Revocation Time:"));
    free(out);
    out = s_client_status("c.test");
    ck_assert_msg(strstr(out, "OCSP response: no response sent"), "%.3000s", out);
    ck_assert_ptr_nonnull(strstr(out, "stapled"));
    free(out);
}
END_TEST

START_TEST(a_stapling_file_is_stapled_from_the_first_handshake_without_a_responder)
{
    start_responder();
    char *out = tlsx_sh_ok(10, "openssl ocsp -issuer %s -cert %s -url http://127.0.0.1:%d/ "
                               "-CAfile %s -respout %s", pki_file("ca.pem"),
                           pki_file("a.test.pem"), ocsp_port, pki_file("ca.pem"),
                           pth_path(h, "a.der"));
    free(out);
    tlsx_kill(responder);
    responder = 0;
    config_stapling("");
    /* The file for a.test only (its vhost's lines are the first after the main server's). */
    char *conf = pth_read_file(h->conf, NULL), line[600];
    snprintf(line, sizeof(line), "ServerName a.test\nSSLStaplingFile %s\n", pth_path(h, "a.der"));
    char *at = strstr(conf, "ServerName a.test\n");
    pth_config_raw(h, "%.*s%s%s", (int)(at - conf), conf, line, at + strlen("ServerName a.test\n"));
    free(conf);
    pth_expect_error(h, "OCSP stapling: OCSP responder");
    pth_start(h);
    out = s_client_status("a.test");
    ck_assert_msg(strstr(out, "OCSP Response Status: successful") &&
                      strstr(out, "Cert Status: good"),
                  "first handshake:\n%.3000s", out);
    free(out);
}
END_TEST

START_TEST(a_responder_that_is_down_gives_try_later_and_an_error_line)
{
    config_stapling("");
    pth_expect_error(h, "OCSP stapling: OCSP responder http://127.0.0.1:[0-9]+/: connect");
    pth_start(h);
    free(wait_staple("a.test", "OCSP Response Status: trylater"));
    ck_assert(pth_file_wait_contains(h->error_log, "OCSP stapling: OCSP responder", 5000));
}
END_TEST

START_TEST(a_stapling_file_about_another_certificate_is_a_config_error)
{
    start_responder();
    char *out = tlsx_sh_ok(10, "openssl ocsp -issuer %s -cert %s -url http://127.0.0.1:%d/ "
                               "-CAfile %s -respout %s", pki_file("ca.pem"),
                           pki_file("b.test.pem"), ocsp_port, pki_file("ca.pem"),
                           pth_path(h, "b.der"));
    free(out);
    char extra[600];
    snprintf(extra, sizeof(extra), "SSLStaplingFile %s\n", pth_path(h, "b.der"));
    config_stapling(extra);
    pth_run_t r;
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_int_ne(r.code, 0);
    ck_assert_msg(strstr(r.err, "is about none of this server's certificates") &&
                      strstr(r.err, "portico.conf:"),
                  "%s", r.err);
    pth_run_free(&r);
}
END_TEST

/* SSLStaplingResponseMaxAge: a response whose thisUpdate is older is not taken (here a
 * file, checked at load: with a max age of 0 any response is too old). */
START_TEST(a_response_older_than_the_max_age_is_refused)
{
    start_responder();
    char *out = tlsx_sh_ok(10, "openssl ocsp -issuer %s -cert %s -url http://127.0.0.1:%d/ "
                               "-CAfile %s -respout %s", pki_file("ca.pem"),
                           pki_file("a.test.pem"), ocsp_port, pki_file("ca.pem"),
                           pth_path(h, "a.der"));
    free(out);
    char extra[700];
    snprintf(extra, sizeof(extra), "SSLStaplingFile %s\nSSLStaplingResponseMaxAge 0\n"
             "SSLStaplingResponseTimeSkew 0\n", pth_path(h, "a.der"));
    config_stapling(extra);
    pth_run_t r;
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_int_ne(r.code, 0);
    ck_assert_msg(strstr(r.err, "SSLStaplingResponseMaxAge"), "%s", r.err);
    pth_run_free(&r);
    snprintf(extra, sizeof(extra), "SSLStaplingFile %s\nSSLStaplingResponseMaxAge 3600\n",
             pth_path(h, "a.der"));
    config_stapling(extra);
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(strstr(r.err, "SSLStaplingResponseMaxAge") == NULL, "%s", r.err);
    pth_run_free(&r);
}
END_TEST

/* a.test over TLS asking client certificates of the OCSP CA, checked with OCSP (extra:
 * the SSLOCSP* lines). */
static void start_ocsp_client_check(const char *extra)
{
    pth_config_raw(h,
        "MPM %s\nListen 127.0.0.1:@PORT@ https\nServerName localhost\n"
        "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
        "DocumentRoot @DOCROOT@\n<Directory @DOCROOT@>\nRequire all granted\n</Directory>\n"
        "<VirtualHost *:@PORT@>\nServerName a.test\nSSLEngine on\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\nSSLVerifyClient require\n"
        "SSLCACertificateFile %s\n%s\n</VirtualHost>\n",
        pth_mpm(), pki_file("a.test.pem"), pki_file("a.test.key"), pki_file("ca.pem"), extra);
    pth_start(h);
}

/* The status a GET / gets with the client certificate NAME.pem of the OCSP PKI ("000"
 * when the handshake failed). */
static int client_status(const char *name)
{
    char cert[320], key[320];
    snprintf(cert, sizeof(cert), "%s", pki_file(name));
    snprintf(key, sizeof(key), "%s", cert);
    strcpy(cert + strlen(cert), ".pem");
    strcpy(key + strlen(key), ".key");
    char *out = tlsx_sh(20, NULL, "curl -s -o /dev/null -w '%%{http_code}' --max-time 15 "
                                  "--cacert %s --cert %s --key %s --resolve a.test:%d:127.0.0.1 "
                                  "https://a.test:%d/", pki_file("ca.pem"), cert, key, h->port,
                        h->port);
    int st = atoi(out);
    free(out);
    return st;
}

START_TEST(client_certificates_are_checked_with_the_responder_they_name)
{
    start_responder();
    start_ocsp_client_check("SSLOCSPEnable leaf");
    ck_assert_int_eq(client_status("a.test"), 200);
    ck_assert_int_eq(client_status("b.test"), 0); /* revoked */
    ck_assert(pth_file_wait_contains(h->error_log, "/CN=b.test (depth 0) failed: revoked",
                                     3000));
    ck_assert_int_eq(client_status("c.test"), 0); /* no responder named */
    ck_assert(pth_file_wait_contains(h->error_log, "no OCSP responder specified", 3000));
    ck_assert(pth_file_wait_contains(pth_path(h, "ocsp.log"), "Serial Number: 1001", 3000));
    pth_stop(h);
    start_ocsp_client_check("SSLOCSPEnable leaf no_ocsp_for_cert_ok");
    ck_assert_int_eq(client_status("c.test"), 200);
    pth_stop(h);
    /* The default responder asked for c.test: the CA's database does not know it. */
    char extra[300];
    snprintf(extra, sizeof(extra), "SSLOCSPEnable on\nSSLOCSPDefaultResponder "
             "http://127.0.0.1:%d/", ocsp_port);
    start_ocsp_client_check(extra);
    ck_assert_int_eq(client_status("c.test"), 0);
    ck_assert(pth_file_wait_contains(h->error_log, "status unknown to the responder", 3000));
}
END_TEST

START_TEST(a_responder_that_is_down_fails_the_client_and_config_errors_are_said)
{
    start_ocsp_client_check("SSLOCSPEnable leaf\nSSLOCSPResponderTimeout 2");
    ck_assert_int_eq(client_status("a.test"), 0);
    ck_assert(pth_file_wait_contains(h->error_log, "OCSP validation of the client "
                                                   "certificate /CN=a.test", 3000));
    pth_stop(h);
    pth_config_raw(h, "Listen 127.0.0.1:@PORT@ https\nErrorLog @DIR@/error.log\n"
                      "<VirtualHost *:@PORT@>\nSSLEngine on\nSSLCertificateFile %s\n"
                      "SSLCertificateKeyFile %s\nSSLOCSPEnable on\n"
                      "SSLOCSPOverrideResponder on\n</VirtualHost>\n",
                   pki_file("a.test.pem"), pki_file("a.test.key"));
    pth_run_t r;
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_int_ne(r.code, 0);
    ck_assert_msg(strstr(r.err, "needs SSLOCSPDefaultResponder"), "%s", r.err);
    pth_run_free(&r);
    pth_config_raw(h, "SSLOCSPProxyURL http://proxy:3128/\n");
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_int_ne(r.code, 0);
    ck_assert_msg(strstr(r.err, "SSLOCSPProxyURL is not supported"), "%s", r.err);
    pth_run_free(&r);
}
END_TEST

/* A responder that takes the connection and never answers: the parent's fetch waits up to
 * SSLStaplingResponderTimeout for it, but without stalling its other work. A child killed
 * meanwhile is replaced within the parent's next ticks, not after the fetch gives up. */
/* A listening socket of the test's own on the responder's port (the certificates' AIA). */
static int listen_as_responder(void)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ocsp_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(ls, 16), 0);
    return ls;
}

START_TEST(a_responder_that_never_answers_does_not_stall_the_parent)
{
    int ls = listen_as_responder();
    config_stapling("SSLStaplingResponderTimeout 20\n");
    pth_expect_error(h, "OCSP stapling: OCSP responder http://127.0.0.1:[0-9]+/: timed out");
    pth_expect_error(h, "exit signal Killed");
    pth_start(h);
    /* The parent's first fetch has connected: it now waits for an answer. */
    struct pollfd pf = {.fd = ls, .events = POLLIN};
    ck_assert_msg(poll(&pf, 1, 5000) == 1, "the parent never asked the responder");
    int held = accept(ls, NULL, NULL);
    ck_assert_int_ge(held, 0);
    pid_t kids[16];
    int n = pth_children(h->pid, kids, 16);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(kill(kids[0], SIGKILL), 0);
    int64_t t0 = pth_now_ms();
    bool replaced = false;
    while (!replaced && pth_now_ms() - t0 < 5000) {
        pid_t now[16];
        int m = pth_children(h->pid, now, 16);
        bool old_gone = true;
        for (int i = 0; i < m; i++)
            old_gone = old_gone && now[i] != kids[0];
        replaced = old_gone && m >= n;
        if (!replaced)
            pth_sleep_ms(50);
    }
    ck_assert_msg(replaced, "the killed child was not replaced within 5 s");
    /* And the server still answers over TLS meanwhile. */
    char *out = s_client_status("a.test");
    ck_assert_msg(strstr(out, "Verify return code") || strstr(out, "CONNECTED"), "%.2000s",
                  out);
    free(out);
    close(held);
    close(ls);
}
END_TEST

/* A responder that answers every request with an OCSP error status (tryLater, as a loaded
 * CA's does), until *stop: a thread of the test on a listening socket. */
typedef struct {
    int ls;
    atomic_bool stop;
} try_later_responder_t;

static void *answer_try_later(void *arg)
{
    try_later_responder_t *t = arg;
    /* An OCSPResponse of status tryLater (3) and no body, in DER. */
    static const char answer[] = "HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                                 "Content-Length: 5\r\n\r\n\x30\x03\x0a\x01\x03";
    while (!atomic_load(&t->stop)) {
        struct pollfd pf = {.fd = t->ls, .events = POLLIN};
        if (poll(&pf, 1, 100) != 1)
            continue;
        int c = accept(t->ls, NULL, NULL);
        if (c < 0)
            continue;
        /* The request is a few hundred bytes: read what comes until the client pauses. */
        char buf[4096];
        for (bool got = false;; got = true) {
            struct pollfd q = {.fd = c, .events = POLLIN};
            if (poll(&q, 1, got ? 200 : 2000) != 1 || read(c, buf, sizeof(buf)) <= 0)
                break;
        }
        ssize_t w = write(c, answer, sizeof(answer) - 1);
        (void)w;
        close(c);
    }
    return NULL;
}

/* At a refresh the responder answers with an error status while the response in hand is
 * still good for an hour: the good one stays stapled, as when the responder is down, and
 * the error is logged. mod_ssl keeps a valid cached response over a responder's error. */
START_TEST(an_error_answer_at_a_refresh_does_not_replace_a_valid_response)
{
    start_responder();
    config_stapling("SSLStaplingStandardCacheTimeout 2\n");
    pth_expect_error(h, "OCSP stapling");
    pth_start(h);
    free(wait_staple("a.test", "Cert Status: good"));
    tlsx_kill(responder);
    responder = 0;
    try_later_responder_t t = {.ls = listen_as_responder()};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, answer_try_later, &t), 0);
    /* Both certificates' refreshes (a.test's, b.test's) got the error: logged after the
     * answer was judged. */
    int answered = 0;
    for (int64_t end = pth_now_ms() + 15000; pth_now_ms() < end; pth_sleep_ms(100)) {
        char *log = pth_read_file(h->error_log, NULL);
        answered = log ? count(log, "responder answered trylater") : 0;
        free(log);
        if (answered >= 2)
            break;
    }
    char *out = s_client_status("a.test");
    atomic_store(&t.stop, true);
    pthread_join(th, NULL);
    close(t.ls);
    ck_assert_msg(answered >= 2, "the parent did not ask again (%d answers logged)", answered);
    ck_assert_msg(strstr(out, "Cert Status: good"),
                  "a valid response (nextUpdate in an hour) was replaced by the responder's "
                  "error answer:\n%.1500s", out);
    free(out);
}
END_TEST

int main(void)
{
    ocsp_port = pth_free_port();
    snprintf(pki, sizeof(pki), "/tmp/portico-ocsp.XXXXXX");
    const char *src = getenv("PORTICO_SOURCE_DIR");
    if (!src || !mkdtemp(pki)) {
        fprintf(stderr, "no PORTICO_SOURCE_DIR or no temp dir\n");
        return 1;
    }
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "sh '%s/tests/support/ocsp_pki.sh' '%s' %d", src, pki, ocsp_port);
    if (system(cmd) != 0) {
        fprintf(stderr, "%s failed\n", cmd);
        return 1;
    }
    Suite *s = suite_create("tls_stapling");
    TCase *tc = tcase_create("stapling");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, children_staple_the_one_response_the_parent_fetched);
    tcase_add_test(tc, the_parent_fetches_again_after_the_standard_cache_timeout);
    tcase_add_test(tc, a_revoked_certificate_is_stapled_as_revoked_and_one_without_aia_not_at_all);
    tcase_add_test(tc, a_stapling_file_is_stapled_from_the_first_handshake_without_a_responder);
    tcase_add_test(tc, a_responder_that_is_down_gives_try_later_and_an_error_line);
    tcase_add_test(tc, a_stapling_file_about_another_certificate_is_a_config_error);
    tcase_add_test(tc, a_response_older_than_the_max_age_is_refused);
    tcase_add_test(tc, client_certificates_are_checked_with_the_responder_they_name);
    tcase_add_test(tc, a_responder_that_is_down_fails_the_client_and_config_errors_are_said);
    tcase_add_test(tc, a_responder_that_never_answers_does_not_stall_the_parent);
    tcase_add_test(tc, an_error_answer_at_a_refresh_does_not_replace_a_valid_response);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
    if (!getenv("PORTICO_TEST_KEEP") && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", pki);
    return failed ? 1 : 0;
}
