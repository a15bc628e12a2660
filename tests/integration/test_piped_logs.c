/* Piped logs as Apache's: CustomLog and ErrorLog "|program args" (no shell) and "|$command"
 * (through /bin/sh), the program started by the parent with the log on its stdin, started
 * again when it dies, stopped with the server; a program that cannot run is a config error. */
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    pth_write_file(h, "a.txt", "a\n", 2);
}

static void teardown(void)
{
    pth_free(h);
    h = NULL;
}

static void get_ok(const char *path)
{
    pth_resp_t r;
    pth_get(h, path, NULL, &r);
    ck_assert_msg(r.status == 200, "%s: %d", path, r.status);
    pth_resp_free(&r);
}

/* The pids a logger script appended to DIR/rel, one a line; waits until there are want. */
static int wait_pids(const char *rel, pid_t *out, int want)
{
    int64_t end = pth_now_ms() + 10000;
    int n = 0;
    do {
        char *text = pth_read_file(pth_path(h, rel), NULL);
        n = 0;
        for (char *p = text; p && *p && n < want;) {
            out[n++] = (pid_t)strtol(p, &p, 10);
            while (*p == '\n')
                p++;
        }
        free(text);
        if (n >= want)
            return n;
        pth_sleep_ms(20);
    } while (pth_now_ms() < end);
    return n;
}

static bool wait_gone(pid_t pid)
{
    int64_t end = pth_now_ms() + 10000;
    do {
        char path[64], state = 0;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f)
            return true;
        if (fscanf(f, "%*d %*s %c", &state) != 1)
            state = 0;
        fclose(f);
        if (state == 'Z')
            return false; /* nobody reaped it: the server did not wait for its program */
        pth_sleep_ms(20);
    } while (pth_now_ms() < end);
    return false;
}

START_TEST(custom_log_lines_reach_the_program_with_and_without_a_shell)
{
    pth_config(h, "CustomLog \"|/usr/bin/tee -a @DIR@/tee.log\" common\n"
                  "CustomLog \"|$cat >> '@DIR@/shell log.txt'\" \"%%U shell\"\n"
                  "CustomLog \"||/bin/sh -c 'cat > @DIR@/quoted.log'\" \"%%U quoted\"\n");
    pth_start(h);
    get_ok("/a.txt");
    ck_assert(pth_file_wait_contains(pth_path(h, "tee.log"), "\"GET /a.txt HTTP/1.1\" 200 2",
                                     10000));
    ck_assert(pth_file_wait_contains(pth_path(h, "shell log.txt"), "/a.txt shell", 10000));
    ck_assert(pth_file_wait_contains(pth_path(h, "quoted.log"), "/a.txt quoted", 10000));
}
END_TEST

START_TEST(error_log_lines_reach_the_program)
{
    pth_config_raw(h, "Listen 127.0.0.1:@PORT@\nServerName localhost\nPidFile @DIR@/portico.pid\n"
                      "ErrorLog \"|$exec cat >> @DIR@/error.log\"\nLogLevel info\n"
                      "DocumentRoot @DOCROOT@\n<Directory @DOCROOT@>\nRequire all granted\n"
                      "</Directory>\n");
    pth_start(h);
    ck_assert(pth_file_wait_contains(h->error_log, "resuming normal operations", 10000));
}
END_TEST

START_TEST(a_program_that_dies_is_started_again_and_stopped_with_the_server)
{
    pth_config(h, "CustomLog \"|$echo $$ >> @DIR@/pids; exec cat >> @DIR@/piped.log\" "
                  "\"%%U piped\"\n");
    pth_expect_error(h, "piped log program .* died of signal 9; started it again");
    pth_start(h);
    pid_t pids[2];
    ck_assert_int_eq(wait_pids("pids", pids, 1), 1);
    get_ok("/a.txt");
    ck_assert(pth_file_wait_contains(pth_path(h, "piped.log"), "/a.txt piped", 10000));
    ck_assert_int_eq(kill(pids[0], SIGKILL), 0);
    ck_assert_int_eq(wait_pids("pids", pids, 2), 2);
    ck_assert_int_ne(pids[0], pids[1]);
    ck_assert(pth_file_wait_contains(h->error_log, "started it again", 10000));
    get_ok("/a.txt?again");
    ck_assert(pth_file_wait_contains(pth_path(h, "piped.log"), "/a.txt piped\n/a.txt piped",
                                     10000));
    pth_stop(h);
    ck_assert_msg(wait_gone(pids[1]), "the log program %d outlived the server", (int)pids[1]);
}
END_TEST

/* A graceful restart with the same CustomLog keeps its program (the sink is shared by the
 * generations), so nothing is lost or written twice. */
START_TEST(a_graceful_restart_keeps_the_same_program)
{
    pth_config(h, "CustomLog \"|$echo $$ >> @DIR@/pids; exec cat >> @DIR@/piped.log\" "
                  "\"%%U piped\"\n");
    pth_start(h);
    pid_t pids[2];
    ck_assert_int_eq(wait_pids("pids", pids, 1), 1);
    get_ok("/a.txt");
    ck_assert(pth_file_wait_contains(pth_path(h, "piped.log"), "/a.txt piped", 10000));
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    ck_assert(pth_file_wait_contains(h->error_log, "generation 1 configured", 10000));
    get_ok("/a.txt?after");
    ck_assert(pth_file_wait_contains(pth_path(h, "piped.log"), "/a.txt piped\n/a.txt piped",
                                     10000));
    char *text = pth_read_file(pth_path(h, "pids"), NULL);
    ck_assert_msg(text && strchr(text, '\n') == strrchr(text, '\n'), "pids: %s", text);
    free(text);
    ck_assert_msg(kill(pids[0], 0) == 0, "the program %d is gone", (int)pids[0]);
}
END_TEST

START_TEST(a_program_that_cannot_run_is_a_config_error)
{
    pth_run_t r;
    pth_config_raw(h, "Listen 127.0.0.1:@PORT@\nCustomLog \"|/nonexistent/rotatelogs x 86400\" "
                      "common\n");
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_int_eq(r.code, 1);
    ck_assert_msg(strstr(r.err, ":2: CustomLog: piped log program /nonexistent/rotatelogs is "
                                "not an executable file"), "%s", r.err);
    pth_run_free(&r);
    pth_config_raw(h, "Listen 127.0.0.1:@PORT@\nErrorLog \"|rotatelogs x 86400\"\n");
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_int_eq(r.code, 1);
    ck_assert_msg(strstr(r.err, ":2: ErrorLog: piped log program rotatelogs is not"), "%s",
                  r.err);
    pth_run_free(&r);
}
END_TEST

static Suite *piped_suite(void)
{
    Suite *s = suite_create("piped_logs");
    TCase *tc = tcase_create("piped_logs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, custom_log_lines_reach_the_program_with_and_without_a_shell);
    tcase_add_test(tc, error_log_lines_reach_the_program);
    tcase_add_test(tc, a_program_that_dies_is_started_again_and_stopped_with_the_server);
    tcase_add_test(tc, a_graceful_restart_keeps_the_same_program);
    tcase_add_test(tc, a_program_that_cannot_run_is_a_config_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(piped_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
