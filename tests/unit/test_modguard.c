/* Unit tests for modguard.c, a crash in a module's handler under prefork: the hand-made
 * error log time against the C library's over four centuries (its Date header is
 * base/httpdate's: test_httpdate), and in a forked process, what
 * an armed crash sends (a 500 on plain HTTP/1 before any output, nothing once the head went
 * out; no body for HEAD), its log line, death by the same signal, and a crash outside any
 * module handler left to the disposition that was there before. */
#include "conn.h"
#include "log.h"
#include "module.h"
#include "request.h"
#include "transport.h"

#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Times from 1970 to 2399 (leap days, 2000, 2100, 2400 excluded, the end of each year). */
static time_t sample(int i)
{
    static const time_t fixed[] = {0, 951782400, 951868800, 4107456000, 4107542400,
                                   1767225599, 1767225600, 13569465599};
    if (i < (int)(sizeof(fixed) / sizeof(fixed[0])))
        return fixed[i];
    return (time_t)((unsigned long long)i * 2654435761u % 13569465600ull);
}

START_TEST(the_log_time_is_the_error_logs_in_local_time)
{
    setenv("TZ", "America/New_York", 1); /* an offset and its DST changes */
    tzset();
    for (int i = 0; i < 20000; i++) {
        struct timespec ts = {.tv_sec = sample(i), .tv_nsec = (i * 7919L) % 1000000000L};
        struct tm tm;
        localtime_r(&ts.tv_sec, &tm);
        char day[64], want[96], got[96];
        strftime(day, sizeof(day), "%a %b %d %H:%M:%S", &tm);
        snprintf(want, sizeof(want), "[%s.%06ld %d] ", day, ts.tv_nsec / 1000,
                 tm.tm_year + 1900);
        pt_modguard_log_time(got, sizeof(got), &ts, tm.tm_gmtoff);
        ck_assert_msg(strcmp(got, want) == 0, "%lld: %s, want %s", (long long)ts.tv_sec, got,
                      want);
    }
    char small[8];
    struct timespec ts = {0};
    ck_assert_uint_eq(pt_modguard_log_time(small, sizeof(small), &ts, 0), 7);
    ck_assert_str_eq(small, "[Thu Ja");
}
END_TEST

/* ---- A crash, in a forked process ----------------------------------------------------- */

static int sp[2];
static char logpath[64];
static pt_conn_t conn;
static pt_request_t req;

static void setup(void)
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    snprintf(logpath, sizeof(logpath), "/tmp/pt-modguard-%ld.log", (long)getpid());
    unlink(logpath);
    conn = (pt_conn_t){.fd = sp[1], .tp = &pt_transport_socket, .peer_port = 4321};
    snprintf(conn.peer_ip, sizeof(conn.peer_ip), "192.0.2.7");
    req = (pt_request_t){.conn = &conn, .proto_num = 1001,
                         .the_request = "GET /boom.php?a=\"b\" HTTP/1.1"};
}

static void teardown(void)
{
    close(sp[0]);
    close(sp[1]);
    unlink(logpath);
}

/* A real SIGSEGV: a read of a page mapped with no access (not a null pointer, which the
 * sanitizers' build reports on its own). */
static int fault(pt_modreq_t *r)
{
    volatile int *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(p != MAP_FAILED);
    return *p;
}

static int killed(pt_modreq_t *r)
{
    raise(SIGABRT);
    return 0;
}

#define CHILD_DEADLINE_MS 10000

/* The wait status of a forked child that should end by itself at once: one still running at
 * the deadline (a guard that hangs) is killed and reaped, and the test fails. */
static int wait_child(pid_t pid)
{
    int pfd = pidfd_open(pid, 0);
    ck_assert_int_ge(pfd, 0);
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    int ready = poll(&p, 1, CHILD_DEADLINE_MS);
    if (ready <= 0)
        pidfd_send_signal(pfd, SIGKILL, NULL, 0);
    close(pfd);
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid); /* ended, or killed just now */
    ck_assert_msg(ready > 0, "the child was still running after %d ms", CHILD_DEADLINE_MS);
    return st;
}

/* Runs fn through the guard in a child; returns its wait status, the bytes on the client's
 * end in out. */
static int crash_in_child(int (*fn)(pt_modreq_t *r), bool head_sent, char *out, size_t cap)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char err[256];
        pt_log_open_error(logpath, PT_LOG_INFO, err, sizeof(err));
        static pt_config_t cfg;
        pt_modguard_enable(&cfg);
        req.head_sent = head_sent;
        pt_modguard_run(&req, "test_module", fn);
        _exit(0);
    }
    close(sp[1]);
    sp[1] = -1;
    int status = wait_child(pid);
    ssize_t n = read(sp[0], out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
    return status;
}

START_TEST(a_fault_before_any_output_sends_a_500_logs_and_dies_by_the_signal)
{
    char out[2048];
    int st = crash_in_child(fault, false, out, sizeof(out));
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "status %#x", st);
    ck_assert_msg(strncmp(out, "HTTP/1.1 500 Internal Server Error\r\nDate: ", 42) == 0, "%s",
                  out);
    ck_assert_ptr_nonnull(strstr(out, "\r\nConnection: close\r\n"));
    char *body = strstr(out, "\r\n\r\n");
    ck_assert_ptr_nonnull(body);
    char *cl = strstr(out, "Content-Length: ");
    ck_assert_ptr_nonnull(cl);
    ck_assert_uint_eq(strlen(body + 4), (size_t)atol(cl + 16));
    char *log = NULL;
    FILE *f = fopen(logpath, "r");
    ck_assert_ptr_nonnull(f);
    size_t cap = 0;
    ck_assert_int_gt(getdelim(&log, &cap, '\0', f), 0);
    fclose(f);
    ck_assert_msg(strstr(log, "] [core:error] [pid ") && strstr(log, "[client 192.0.2.7:4321] "
                  "child pid ") && strstr(log, " crashed: signal Segmentation fault (11) in the "
                  "handler of module test_module serving \"GET /boom.php?a=\\x22b\\x22 "
                  "HTTP/1.1\"; sent a 500"), "%s", log);
    free(log);
}
END_TEST

START_TEST(the_500_for_a_head_request_has_no_body)
{
    req.method_id = PT_METHOD_HEAD;
    char out[2048];
    int st = crash_in_child(fault, false, out, sizeof(out));
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "status %#x", st);
    ck_assert_msg(strncmp(out, "HTTP/1.1 500 Internal Server Error\r\n", 36) == 0, "%s", out);
    char *end = strstr(out, "\r\n\r\n");
    ck_assert_ptr_nonnull(end);
    ck_assert_str_eq(end, "\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(out, "Content-Length: "));
}
END_TEST

START_TEST(a_crash_after_the_head_went_out_sends_nothing)
{
    char out[2048];
    int st = crash_in_child(killed, true, out, sizeof(out));
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "status %#x", st);
    ck_assert_str_eq(out, "");
}
END_TEST

static void exit_42(int sig)
{
    _exit(42);
}

/* Outside a module handler the previous disposition (here a handler that exits 42) takes
 * both a real fault and a signal sent to the process. */
START_TEST(a_crash_outside_a_module_handler_goes_to_the_previous_disposition)
{
    for (int real = 0; real < 2; real++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            signal(SIGSEGV, exit_42);
            static pt_config_t cfg;
            pt_modguard_enable(&cfg);
            if (real)
                fault(NULL);
            else
                raise(SIGSEGV);
            _exit(0);
        }
        int st = wait_child(pid);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 42, "status %#x (real %d)", st, real);
    }
}
END_TEST

static Suite *modguard_suite(void)
{
    Suite *s = suite_create("modguard");
    TCase *tc = tcase_create("dates");
    tcase_add_test(tc, the_log_time_is_the_error_logs_in_local_time);
    suite_add_tcase(s, tc);
    tc = tcase_create("crash");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_fault_before_any_output_sends_a_500_logs_and_dies_by_the_signal);
    tcase_add_test(tc, the_500_for_a_head_request_has_no_body);
    tcase_add_test(tc, a_crash_after_the_head_went_out_sends_nothing);
    tcase_add_test(tc, a_crash_outside_a_module_handler_goes_to_the_previous_disposition);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(modguard_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
