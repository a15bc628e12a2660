/* A crash in PHP in-process (modules/php) under MPM prefork takes down one child, which the
 * parent replaces (src/modguard.c): the client gets a 500 with Connection: close when
 * nothing of the response had gone out, an aborted connection (a reset, never a response
 * that looks complete) when part of it had or over TLS; the error log names the signal,
 * the request and the child's pid, and the next request is served by a new child.
 *
 * The crash is a real one: PHP 8.2 has no guard on the C stack (8.3 added
 * zend.max_allowed_stack_size), and a function that recurses through array_map() nests the
 * engine's C frames until the stack overflows (SIGSEGV). A crash after output is a SIGSEGV
 * sent to the child from here, while the script sleeps. */
/* mpms: prefork */
#include "harness.h"
#include "php_pages.h"
#include "tls_client.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ONE_CHILD "StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\n"

static const char recurse_php[] =
    "<?php function f($x) { return array_map('f', [$x + 1]); } f(0); echo 'survived';";
static const char pid_php[] = "<?php echo getmypid();";

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    pth_write_file(h, "crash.php", recurse_php, sizeof(recurse_php) - 1);
    pth_write_file(h, "pid.php", pid_php, sizeof(pid_php) - 1);
    pth_expect_error(h, "child pid [0-9]+ crashed: signal Segmentation fault \\(11\\)");
    pth_expect_error(h, "child pid [0-9]+ exit signal Segmentation fault \\(11\\); starting "
                        "a replacement");
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

/* The crash line's pid (the first group of re), once the error log has a line matching
 * re, else 0 after ms. */
static long wait_log_pid(const char *re, int ms)
{
    regex_t rx;
    ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE), 0);
    long pid = 0;
    for (int64_t t0 = pth_now_ms(); pid == 0 && pth_now_ms() - t0 < ms;) {
        char *log = pth_read_file(h->error_log, NULL);
        regmatch_t m[2];
        if (log && regexec(&rx, log, 2, m, 0) == 0)
            pid = atol(log + m[1].rm_so);
        free(log);
        if (pid == 0)
            pth_sleep_ms(50); /* polling a file with a deadline, not synchronisation */
    }
    regfree(&rx);
    return pid;
}

/* The time at the start of the error-log line that has needle, as local time. */
static time_t log_line_time(const char *needle)
{
    char *log = pth_read_file(h->error_log, NULL);
    ck_assert_ptr_nonnull(log);
    char *p = strstr(log, needle);
    ck_assert_ptr_nonnull(p);
    while (p > log && p[-1] != '\n')
        p--;
    struct tm tm = {0};
    char *end = strptime(p, "[%a %b %d %H:%M:%S", &tm);
    ck_assert_msg(end && end[0] == '.' && end[7] == ' ' && end[12] == ']', "%.80s", p);
    tm.tm_year = atoi(end + 8) - 1900;
    tm.tm_isdst = -1;
    free(log);
    return mktime(&tm);
}

/* The next request, on a new connection, meets another child. */
static void served_by_another_child(long crashed)
{
    pth_resp_t r;
    pth_get(h, "/pid.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_gt(atoi(r.body), 0);
    ck_assert_int_ne(atoi(r.body), (int)crashed);
    pth_resp_free(&r);
}

START_TEST(a_crash_before_any_output_answers_500_and_a_new_child_serves_the_next_request)
{
    pth_php_start(h, ONE_CHILD);
    time_t t0 = time(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /crash.php?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 20000), 0);
    time_t t1 = time(NULL);
    ck_assert_int_eq(r.status, 500);
    ck_assert_str_eq(pth_resp_header(&r, "Connection"), "close");
    ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "text/html; charset=iso-8859-1");
    ck_assert_ptr_nonnull(pth_resp_header(&r, "Server"));
    ck_assert_ptr_nonnull(strstr(r.body, "<title>500 Internal Server Error</title>"));
    ck_assert_ptr_null(strstr(r.body, "survived"));
    /* The Date field is an IMF-fixdate of now (formatted by hand in the signal handler). */
    struct tm tm = {0};
    const char *date = pth_resp_header(&r, "Date");
    ck_assert_ptr_nonnull(date);
    char *end = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    ck_assert_msg(end && !*end, "Date: %s", date);
    time_t dt = timegm(&tm);
    ck_assert_msg(dt >= t0 - 1 && dt <= t1 + 1, "Date: %s", date);
    pth_resp_free(&r);
    ck_assert(pth_conn_wait_closed(c, 5000));
    pth_conn_close(c);
    long pid = wait_log_pid("\\] child pid ([0-9]+) crashed: signal Segmentation fault \\(11\\) "
                            "in the handler of module php_module serving \"GET /crash.php\\?x=1 "
                            "HTTP/1.1\"; sent a 500", 5000);
    ck_assert_int_gt(pid, 0);
    char want[256];
    snprintf(want, sizeof(want), "[core:error] [pid %ld:tid %ld] [client 127.0.0.1:", pid, pid);
    ck_assert(pth_file_wait_contains(h->error_log, want, 1000));
    time_t lt = log_line_time("crashed: signal");
    ck_assert_msg(lt >= t0 - 1 && lt <= t1 + 1, "log time %ld, request %ld..%ld", (long)lt,
                  (long)t0, (long)t1);
    snprintf(want, sizeof(want), "child pid %ld exit signal Segmentation fault (11)", pid);
    ck_assert(pth_file_wait_contains(h->error_log, want, 5000));
    served_by_another_child(pid);
}
END_TEST

/* HTTP/1.0 with no length: the body ends at the close, so a FIN would make the cut answer
 * look whole; the crash resets the connection instead. */
START_TEST(a_crash_after_output_resets_the_connection_so_the_answer_is_not_taken_whole)
{
    pth_write_filef(h, "slow.php", "<?php echo 'pid=', getmypid(), \"\\n\"; flush();"
                                   " sleep(10); echo 'never';");
    pth_php_start(h, ONE_CHILD);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /slow.php HTTP/1.0\r\nHost: x\r\n\r\n");
    long pid = 0;
    for (int64_t t0 = pth_now_ms(); pid == 0 && pth_now_ms() - t0 < 5000;) {
        pth_conn_read_until(c, c->len + 1, 100);
        char *got = strndup(c->buf ? c->buf : "", c->len);
        char *p = strstr(got, "pid=");
        if (p && strchr(p, '\n'))
            pid = atol(p + 4);
        free(got);
    }
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(kill((pid_t)pid, SIGSEGV), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK); /* the 5 s above bound it */
    char buf[256];
    ssize_t n;
    while ((n = recv(c->fd, buf, sizeof(buf), 0)) > 0)
        ck_assert_ptr_null(memmem(buf, (size_t)n, "never", 5));
    ck_assert_msg(n < 0 && errno == ECONNRESET, "read %zd (%s): an orderly close",
                  n, n < 0 ? strerror(errno) : "EOF");
    pth_conn_close(c);
    char want[300];
    snprintf(want, sizeof(want), "child pid %ld crashed: signal Segmentation fault (11) in the "
             "handler of module php_module serving \"GET /slow.php HTTP/1.0\"; resetting the "
             "connection (part of the response had been sent)", pid);
    ck_assert(pth_file_wait_contains(h->error_log, want, 5000));
    snprintf(want, sizeof(want), "child pid %ld exit signal Segmentation fault (11)", pid);
    ck_assert(pth_file_wait_contains(h->error_log, want, 5000));
    served_by_another_child(pid);
}
END_TEST

/* Over TLS nothing can be written from the signal handler: the connection is reset, which
 * the client sees as a failed exchange, and the log says why. */
START_TEST(a_crash_over_tls_resets_the_connection_and_says_why)
{
    pth_write_dir_file(h, "phpini/php.ini", pth_php_ini, strlen(pth_php_ini));
    pth_config_raw(h, "MPM prefork\nListen 127.0.0.1:@PORT@ https\nServerName localhost\n"
                      "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
                      ONE_CHILD "DocumentRoot @DOCROOT@\n<Directory @DOCROOT@>\n"
                      "Require all granted\n</Directory>\nSSLEngine on\n"
                      "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n" PTH_PHP_CONF,
                   pth_tls_file("a.test.rsa.pem"), pth_tls_file("a.test.rsa.key"),
                   pth_php_module_path());
    pth_start(h);
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/crash.php"};
    pth_resp_t r;
    ck_assert_int_ne(pth_tls_get(&q, &r), 0);
    pth_resp_free(&r);
    long pid = wait_log_pid("child pid ([0-9]+) crashed: signal Segmentation fault \\(11\\) in "
                            "the handler of module php_module serving \"GET /crash.php HTTP/1.1\"; "
                            "resetting the connection \\(a 500 cannot be sent safely over TLS "
                            "or HTTP/2\\)", 5000);
    ck_assert_int_gt(pid, 0);
    char want[128];
    snprintf(want, sizeof(want), "child pid %ld exit signal Segmentation fault (11)", pid);
    ck_assert(pth_file_wait_contains(h->error_log, want, 5000));
    q.path = "/pid.php";
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_ne(atoi(r.body), (int)pid);
    pth_resp_free(&r);
}
END_TEST

static Suite *crash_suite(void)
{
    Suite *s = suite_create("php_module_crash");
    TCase *tc = tcase_create("crash");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_crash_before_any_output_answers_500_and_a_new_child_serves_the_next_request);
    tcase_add_test(tc, a_crash_after_output_resets_the_connection_so_the_answer_is_not_taken_whole);
    tcase_add_test(tc, a_crash_over_tls_resets_the_connection_and_says_why);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    pth_tls_pki();
    pth_php_asan_setup();
    /* No core files from the children that crash on purpose; ASan would take the SIGSEGV
     * for its own report: the server's crash handler is what is tested. */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    const char *was = getenv("ASAN_OPTIONS");
    char opts[512];
    snprintf(opts, sizeof(opts), "%s%shandle_segv=0", was ? was : "", was ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    SRunner *sr = srunner_create(crash_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
