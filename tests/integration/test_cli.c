/* The command line as httpd's: -t, -v, -V, -l, -M, -D, -k stop, and start-up failures.
 * Config errors must name FILE:LINE exactly, so the bad configs here are written without
 * the harness prelude and the line numbers are counted in the test. */
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RUN_MS 10000

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

/* Runs -t on the current config and asserts "portico: CONF:LINE: " on stderr, exit 1. */
static void assert_config_error_at(int line, const char *const *extra)
{
    pth_run_t r;
    if (extra && extra[0])
        pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, extra[0], extra[1], NULL);
    else
        pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
    char want[600];
    snprintf(want, sizeof(want), "portico: %s:%d: ", h->conf, line);
    ck_assert_msg(r.code == 1, "exit %d, stderr: %s", r.code, r.err);
    ck_assert_msg(strstr(r.err, want) != NULL, "want \"%s\" in stderr: %s", want, r.err);
    ck_assert_msg(strstr(r.err, "Syntax OK") == NULL, "Syntax OK on a bad config");
    pth_run_free(&r);
}

static void assert_syntax_ok(const char *const *extra)
{
    pth_run_t r;
    if (extra && extra[0])
        pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, extra[0], extra[1], NULL);
    else
        pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(r.code == 0, "exit %d, stderr: %s", r.code, r.err);
    ck_assert_msg(strstr(r.err, "Syntax OK") != NULL, "stderr: %s", r.err);
    pth_run_free(&r);
}

START_TEST(syntax_check_prints_syntax_ok_for_a_good_config)
{
    pth_config(h, "KeepAliveTimeout 5\n<Location /x>\n    Require all granted\n</Location>\n");
    assert_syntax_ok(NULL);
}
END_TEST

START_TEST(syntax_check_names_file_and_line_of_an_unknown_directive)
{
    pth_config_raw(h, "ServerName localhost\n# a comment\n\nFrobnicateTheServer on\n");
    assert_config_error_at(4, NULL);
}
END_TEST

START_TEST(syntax_check_names_file_and_line_of_wrong_arguments)
{
    pth_config_raw(h, "ServerName localhost\nDocumentRoot @DOCROOT@\nKeepAliveTimeout 1 2 3\n");
    assert_config_error_at(3, NULL);
}
END_TEST

START_TEST(syntax_check_names_file_and_line_of_a_non_numeric_argument)
{
    pth_config_raw(h, "ServerName localhost\nKeepAliveTimeout soon\n");
    assert_config_error_at(2, NULL);
}
END_TEST

START_TEST(syntax_check_reports_an_unclosed_section_at_its_opening_line)
{
    pth_config_raw(h, "ServerName localhost\n<Directory @DOCROOT@>\n    Require all granted\n");
    assert_config_error_at(2, NULL);
}
END_TEST

START_TEST(syntax_check_reports_an_undefined_variable)
{
    unsetenv("PORTICO_SURELY_UNDEFINED");
    pth_config_raw(h, "ServerName localhost\n\nServerAdmin ${PORTICO_SURELY_UNDEFINED}\n");
    assert_config_error_at(3, NULL);
}
END_TEST

START_TEST(syntax_check_expands_variables_from_define_and_environment)
{
    setenv("PORTICO_IT_ROOT", h->docroot, 1);
    pth_config_raw(h, "Define NAME localhost\nServerName ${NAME}\nListen 127.0.0.1:@PORT@\n"
                      "DocumentRoot ${PORTICO_IT_ROOT}\n");
    assert_syntax_ok(NULL);
}
END_TEST

START_TEST(syntax_check_rejects_a_missing_document_root)
{
    pth_config_raw(h, "ServerName localhost\nDocumentRoot @DIR@/does-not-exist\n");
    assert_config_error_at(2, NULL);
}
END_TEST

START_TEST(syntax_check_names_the_included_file_and_its_line)
{
    const char *inc = pth_write_conf_file(h, "inc.conf", "# included\nNoSuchDirective 1\n");
    char incpath[512];
    snprintf(incpath, sizeof(incpath), "%s", inc);
    pth_config_raw(h, "ServerName localhost\nInclude %s\n", incpath);
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
    char want[600];
    snprintf(want, sizeof(want), "portico: %s:2: ", incpath);
    ck_assert_msg(r.code == 1, "exit %d", r.code);
    ck_assert_msg(strstr(r.err, want) != NULL, "want \"%s\" in: %s", want, r.err);
    pth_run_free(&r);
}
END_TEST

START_TEST(ifdefine_section_is_read_only_with_minus_d)
{
    pth_config_raw(h, "Listen 127.0.0.1:@PORT@\n<IfDefine PT_TEST_FLAG>\n    BadDirectiveHere\n"
                      "</IfDefine>\n<IfDefine !PT_TEST_FLAG>\n    ServerName localhost\n"
                      "</IfDefine>\n");
    assert_syntax_ok(NULL);
    const char *extra[] = {"-D", "PT_TEST_FLAG"};
    assert_config_error_at(3, extra);
}
END_TEST

START_TEST(minus_v_prints_the_server_version)
{
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-v", NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_msg(strstr(r.out, "Server version: portico/") != NULL, "stdout: %s", r.out);
    pth_run_free(&r);
}
END_TEST

START_TEST(minus_cap_v_mentions_mpm_openssl_and_nghttp2)
{
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-V", NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_msg(strstr(r.out, "Server version: portico/") != NULL, "stdout: %s", r.out);
    ck_assert_msg(strcasestr(r.out, "MPM") != NULL, "no MPM in: %s", r.out);
    ck_assert_msg(strcasestr(r.out, "event") != NULL, "default MPM event not named: %s", r.out);
    ck_assert_msg(strstr(r.out, "OpenSSL") != NULL, "no OpenSSL in: %s", r.out);
    ck_assert_msg(strcasestr(r.out, "nghttp2") != NULL, "no nghttp2 in: %s", r.out);
    pth_run_free(&r);
}
END_TEST

START_TEST(minus_l_lists_core_module)
{
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-l", NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_msg(strstr(r.out, "core_module") != NULL, "stdout: %s", r.out);
    ck_assert_msg(strstr(r.out, "mpm_event_module") != NULL, "stdout: %s", r.out);
    pth_run_free(&r);
}
END_TEST

START_TEST(minus_cap_m_lists_loaded_modules_of_a_config)
{
    pth_config(h, "MPM event\n");
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-M", "-f", h->conf, NULL);
    ck_assert_msg(r.code == 0, "exit %d, stderr: %s", r.code, r.err);
    ck_assert_msg(strstr(r.out, "core_module") != NULL, "stdout: %s", r.out);
    ck_assert_msg(strstr(r.out, "mpm_prefork_module") == NULL, "prefork listed under event");
    pth_run_free(&r);
}
END_TEST

START_TEST(listen_on_a_port_in_use_exits_1_with_a_message)
{
    /* Port 0: the kernel picks one nobody holds, so parallel suites cannot race us. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    h->port = ntohs(a.sin_port);
    pth_config(h, "\n");
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-f", h->conf, NULL);
    close(fd);
    char *elog = pth_read_file(h->error_log, NULL);
    ck_assert_msg(r.code == 1, "exit %d (a server that ran until the deadline is -1)", r.code);
    bool said = strstr(r.err, "Address already in use") != NULL ||
                (elog && strstr(elog, "Address already in use") != NULL);
    ck_assert_msg(said, "no reason given; stderr: %s error.log: %s", r.err, elog ? elog : "");
    free(elog);
    pth_run_free(&r);
}
END_TEST

START_TEST(minus_k_stop_stops_a_running_server_by_its_pid_file)
{
    pth_config(h, "\n");
    pth_start(h);
    int written = 0; /* the file may exist before its number is written */
    for (int64_t end = pth_now_ms() + 3000; written <= 0 && pth_now_ms() < end;) {
        char *pidtxt = pth_read_file(h->pid_file, NULL);
        written = pidtxt ? atoi(pidtxt) : 0;
        free(pidtxt);
        if (written <= 0)
            pth_sleep_ms(20);
    }
    ck_assert_int_eq(written, h->pid);
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-k", "stop", "-f", h->conf, NULL);
    ck_assert_msg(r.code == 0, "-k stop exit %d, stderr: %s", r.code, r.err);
    pth_run_free(&r);
    int code = pth_wait_exit(h, 10000);
    ck_assert_msg(code == 0, "server exit %d after -k stop (-1: still running)", code);
    ck_assert_msg(access(h->pid_file, F_OK) != 0, "pid file left behind");
    pth_check_error_log(h);
}
END_TEST

START_TEST(sigterm_stops_the_server_with_exit_0)
{
    pth_config(h, "\n");
    pth_start(h);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(minus_k_stop_without_a_running_server_fails)
{
    pth_config(h, "\n");
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-k", "stop", "-f", h->conf, NULL);
    ck_assert_msg(r.code != 0 && r.code != -1, "exit %d", r.code);
    pth_run_free(&r);
}
END_TEST

/* -d sets the initial ServerRoot, as httpd's: a relative -f, Include, ErrorLog, PidFile and
 * DocumentRoot are all under it, wherever the command runs from (here: the build tree). The
 * main file sits in DIR/conf, so without -d its own directory would be the ServerRoot and
 * nothing would resolve. */
START_TEST(minus_d_sets_the_server_root_for_relative_paths)
{
    pth_write_filef(h, "x.txt", "under the server root\n");
    pth_config_raw(h, "Listen 127.0.0.1:@PORT@\n"); /* included: rewritten on a port retry */
    pth_write_conf_file(h, "conf.d/extra.conf", "Header always set X-Included yes\n");
    pth_write_conf_file(h, "conf/main.conf",
                        "MPM %s\n"
                        "ServerName localhost\n"
                        "Include portico.conf\n"
                        "Include conf.d/*.conf\n"
                        "ErrorLog error.log\n"
                        "PidFile portico.pid\n"
                        "LogLevel info\n"
                        "DocumentRoot htdocs\n"
                        "<Directory \"@DOCROOT@\">\n    Require all granted\n</Directory>\n",
                        pth_mpm());
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-t", "-d", h->dir, "-f", "conf/main.conf", NULL);
    ck_assert_msg(r.code == 0 && strstr(r.err, "Syntax OK"), "-t -d: exit %d, stderr: %s",
                  r.code, r.err);
    pth_run_free(&r);
    const char *const args[] = {"-d", h->dir, "-f", "conf/main.conf", NULL};
    pth_start_args(h, args);
    pth_resp_t resp;
    pth_get(h, "/x.txt", NULL, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.body, "under the server root\n");
    ck_assert_str_eq(pth_resp_header(&resp, "X-Included") ? pth_resp_header(&resp, "X-Included")
                                                           : "(none)", "yes");
    pth_resp_free(&resp);
    ck_assert_msg(pth_file_wait_contains(h->error_log, "resuming normal operations", 3000),
                  "nothing in %s", h->error_log);
    ck_assert_msg(pth_file_wait_contains(h->pid_file, "\n", 3000), "no PidFile %s",
                  h->pid_file);
    /* A restart re-reads the same files from the same root. */
    pth_write_conf_file(h, "conf.d/extra.conf", "Header always set X-Included again\n");
    pth_run(h, RUN_MS, &r, "-k", "graceful", "-d", h->dir, "-f", "conf/main.conf", NULL);
    ck_assert_msg(r.code == 0, "-k graceful -d: exit %d, stderr: %s", r.code, r.err);
    pth_run_free(&r);
    ck_assert_msg(pth_file_wait_contains(h->error_log, "generation 1 configured", 5000),
                  "the restart did not configure a new generation");
    char seen[64] = "";
    for (int64_t end = pth_now_ms() + 10000; strcmp(seen, "again") != 0; pth_sleep_ms(20)) {
        ck_assert_msg(pth_now_ms() < end, "X-Included \"%s\" 10 s after the restart", seen);
        pth_get(h, "/x.txt", NULL, &resp);
        const char *v = pth_resp_header(&resp, "X-Included");
        snprintf(seen, sizeof(seen), "%s", v ? v : "");
        pth_resp_free(&resp);
    }
    /* -k finds the PidFile the same way. */
    pth_run(h, RUN_MS, &r, "-k", "stop", "-d", h->dir, "-f", "conf/main.conf", NULL);
    ck_assert_msg(r.code == 0, "-k stop -d: exit %d, stderr: %s", r.code, r.err);
    pth_run_free(&r);
    int code = pth_wait_exit(h, 10000);
    ck_assert_msg(code == 0, "server exit %d after -k stop (-1: still running)", code);
    pth_check_error_log(h);
    pth_check_stderr(h);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, syntax_check_prints_syntax_ok_for_a_good_config);
    tcase_add_test(tc, syntax_check_names_file_and_line_of_an_unknown_directive);
    tcase_add_test(tc, syntax_check_names_file_and_line_of_wrong_arguments);
    tcase_add_test(tc, syntax_check_names_file_and_line_of_a_non_numeric_argument);
    tcase_add_test(tc, syntax_check_reports_an_unclosed_section_at_its_opening_line);
    tcase_add_test(tc, syntax_check_reports_an_undefined_variable);
    tcase_add_test(tc, syntax_check_expands_variables_from_define_and_environment);
    tcase_add_test(tc, syntax_check_rejects_a_missing_document_root);
    tcase_add_test(tc, syntax_check_names_the_included_file_and_its_line);
    tcase_add_test(tc, ifdefine_section_is_read_only_with_minus_d);
    tcase_add_test(tc, minus_v_prints_the_server_version);
    tcase_add_test(tc, minus_cap_v_mentions_mpm_openssl_and_nghttp2);
    tcase_add_test(tc, minus_l_lists_core_module);
    tcase_add_test(tc, minus_cap_m_lists_loaded_modules_of_a_config);
    tcase_add_test(tc, listen_on_a_port_in_use_exits_1_with_a_message);
    tcase_add_test(tc, minus_k_stop_stops_a_running_server_by_its_pid_file);
    tcase_add_test(tc, sigterm_stops_the_server_with_exit_0);
    tcase_add_test(tc, minus_k_stop_without_a_running_server_fails);
    tcase_add_test(tc, minus_d_sets_the_server_root_for_relative_paths);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
