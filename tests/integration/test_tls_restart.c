/* Graceful restart (SIGUSR1) and certificates: a swapped certificate and key are served
 * after the restart while a long download that started before it completes intact; a
 * broken key makes the restart fail with file:line and the old generation keeps serving. */
#include "harness.h"
#include "tls_client.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG (8u << 20)
#define RATE (2L << 20) /* bytes/s: the download takes about 4 s */

static pth_t *h;

static void setup(void)
{
    h = pth_new();
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

/* Copies a PKI file over DIR/name by rename, as an operator's deploy would. */
static void install(const char *from, const char *name)
{
    size_t n = 0;
    char *data = pth_read_file(pth_tls_file(from), &n);
    ck_assert(data != NULL);
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%s.new", name);
    pth_write_dir_file(h, tmp, data, n);
    char dst[400];
    snprintf(dst, sizeof(dst), "%s", pth_path(h, name));
    ck_assert_int_eq(rename(pth_path(h, tmp), dst), 0);
    free(data);
}

static void start_with(const char *cert, const char *key)
{
    install(cert, "cur.pem");
    install(key, "cur.key");
    pth_config_raw(h,
        "MPM %s\nListen 127.0.0.1:@PORT@ https\nServerName localhost\n"
        "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
        "GracefulShutdownTimeout 30\n<Directory @DIR@>\nRequire all granted\n</Directory>\n"
        "<VirtualHost *:@PORT@>\nServerName a.test\nDocumentRoot @DIR@/a\nSSLEngine on\n"
        "SSLCertificateFile @DIR@/cur.pem\nSSLCertificateKeyFile @DIR@/cur.key\n"
        "</VirtualHost>\n", pth_mpm());
    pth_start(h);
}

/* The key size of the certificate a.test is served with now. */
static bool served_key_is(const char *bits)
{
    char *out = pth_s_client(h->port, "-servername a.test");
    char want[64];
    snprintf(want, sizeof(want), "Server public key is %s bit", bits);
    bool ok = strstr(out, want) != NULL;
    free(out);
    return ok;
}

static bool wait_key(const char *bits, int ms)
{
    for (int64_t end = pth_now_ms() + ms; pth_now_ms() < end; pth_sleep_ms(100))
        if (served_key_is(bits))
            return true;
    return false;
}

/* A throttled download of /big.bin in a child process: its exit code says whether the
 * whole body came with a 200. */
static pid_t start_download(const char *sink)
{
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        pth_resp_t r;
        pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/big.bin",
                           .max_recv_bytes_s = RATE, .sink = sink};
        int rc = pth_tls_get(&q, &r);
        _exit(rc == 0 && r.status == 200 ? 0 : 10 + rc);
    }
    return pid;
}

static int wait_child(pid_t pid, int ms)
{
    for (int64_t end = pth_now_ms() + ms; pth_now_ms() < end; pth_sleep_ms(50)) {
        int st = 0;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

START_TEST(usr1_serves_a_new_certificate_while_a_download_in_flight_completes)
{
    unsigned char *data = malloc(BIG);
    ck_assert(data != NULL);
    for (size_t i = 0; i < BIG; i++)
        data[i] = (unsigned char)(i * 2654435761u >> 13);
    pth_write_dir_file(h, "a/big.bin", data, BIG);
    start_with("a.test.rsa.pem", "a.test.rsa.key");
    ck_assert(served_key_is("2048"));
    const char *sink = pth_path(h, "got.bin");
    char sink_path[400];
    snprintf(sink_path, sizeof(sink_path), "%s", sink);
    pid_t dl = start_download(sink_path);
    pth_sleep_ms(800); /* the download is under way */
    install("a.test.ec.pem", "cur.pem");
    install("a.test.ec.key", "cur.key");
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    ck_assert_msg(wait_key("256", 10000), "the ECDSA certificate is not served after USR1");
    int rc = wait_child(dl, 40000);
    if (rc != 0) {
        /* Say how far it got and what the server logged (it failed 1 run in ~200 under ASan
         * with 28, curl's PARTIAL_FILE: the connection closed early; not reproduced yet). */
        size_t got_n = 0;
        char *part = pth_read_file(sink_path, &got_n);
        char *log = pth_read_file(pth_path(h, "error.log"), NULL);
        size_t ll = log ? strlen(log) : 0;
        ck_abort_msg("the download in flight failed: %d after %zu of %u bytes; error log "
                     "tail: %s", rc, got_n, BIG, log ? log + (ll > 3000 ? ll - 3000 : 0) : "");
        free(part);
        free(log);
    }
    size_t n = 0;
    char *got = pth_read_file(sink_path, &n);
    ck_assert(got != NULL);
    ck_assert_uint_eq(n, BIG);
    ck_assert(memcmp(got, data, BIG) == 0);
    free(got);
    free(data);
}
END_TEST

START_TEST(usr1_with_a_mismatched_key_keeps_the_old_certificate_serving)
{
    pth_write_dir_file(h, "a/index.html", "site a", 6);
    start_with("a.test.rsa.pem", "a.test.rsa.key");
    pth_expect_error(h, "not restarting");
    install("b.test.rsa.key", "cur.key"); /* another certificate's key */
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    ck_assert(pth_file_wait_contains(h->error_log, "SSLCertificateKeyFile", 10000));
    char *log = pth_read_file(h->error_log, NULL);
    char where[400];
    snprintf(where, sizeof(where), "%s:16: SSLCertificateKeyFile", h->conf);
    ck_assert_msg(strstr(log, where), "no '%s' in:\n%s", where, log);
    free(log);
    ck_assert(served_key_is("2048"));
    pth_resp_t r;
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/"};
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_str_eq(r.body, "site a");
    pth_resp_free(&r);
}
END_TEST

static Suite *tls_restart_suite(void)
{
    Suite *s = suite_create("tls_restart");
    TCase *tc = tcase_create("tls_restart");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, usr1_serves_a_new_certificate_while_a_download_in_flight_completes);
    tcase_add_test(tc, usr1_with_a_mismatched_key_keeps_the_old_certificate_serving);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    pth_tls_pki();
    SRunner *sr = srunner_create(tls_restart_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
