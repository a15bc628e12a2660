/* Loadable handler modules (LoadModule) against the real binary. The sample "counter" module
 * keeps an unlocked global counter and says it is not thread-safe: under MPM prefork it
 * serves, and its per-process counts prove that requests ran in separate processes with
 * unshared state; under event and worker `portico -t` refuses it, naming the LoadModule line
 * and MPM prefork. Most configs here set their MPM themselves: those tests are registered
 * only in the ctest run of that MPM (pth_tcase_add_for). */
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_MS 10000
#define REQUESTS 30
#define HELD 2         /* connections kept open so that the next one goes to another child */
#define MAX_PIDS 64
#define LOADMODULE_LINE 12

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

static const char *module_dir(void)
{
    const char *d = getenv("PORTICO_TEST_MODULE_DIR");
    ck_assert_msg(d && *d, "PORTICO_TEST_MODULE_DIR is not set");
    return d;
}

/* A whole config whose LoadModule line is LOADMODULE_LINE. */
static void write_conf(const char *mpm, const char *module, const char *extra)
{
    pth_config_raw(h,
                   "MPM %s\n"
                   "Listen 127.0.0.1:@PORT@\n"
                   "ServerName localhost\n"
                   "ErrorLog @DIR@/error.log\n"
                   "PidFile @DIR@/portico.pid\n"
                   "LogLevel info\n"
                   "DocumentRoot @DOCROOT@\n"
                   "<Directory @DOCROOT@>\n"
                   "    Require all granted\n"
                   "</Directory>\n"
                   "ServerRoot \"%s\"\n"
                   "LoadModule %s_module %s.so\n"
                   "%s",
                   mpm, module_dir(), module, module, extra ? extra : "");
}

static void assert_refused(const char *mpm)
{
    write_conf(mpm, "counter", "<Location /counter>\n    SetHandler counter\n</Location>\n");
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
    char want[600];
    snprintf(want, sizeof(want), "%s:%d: module counter_module (%s/counter.so) is not "
             "thread-safe and cannot run under MPM %s", h->conf, LOADMODULE_LINE, module_dir(),
             mpm);
    ck_assert_msg(r.code == 1, "exit %d, stderr: %s", r.code, r.err);
    ck_assert_msg(strstr(r.err, want) != NULL, "want \"%s\" in stderr: %s", want, r.err);
    ck_assert_msg(strstr(r.err, "use MPM prefork") != NULL, "stderr: %s", r.err);
    ck_assert_msg(strstr(r.err, "Syntax OK") == NULL, "Syntax OK on a refused config");
    pth_run_free(&r);
}

START_TEST(event_refuses_a_module_that_is_not_thread_safe_naming_mpm_prefork)
{
    assert_refused("event");
}
END_TEST

START_TEST(worker_refuses_a_module_that_is_not_thread_safe_naming_mpm_prefork)
{
    assert_refused("worker");
}
END_TEST

START_TEST(prefork_accepts_a_module_that_is_not_thread_safe)
{
    write_conf("prefork", "counter", "<Location /counter>\n    SetHandler counter\n</Location>\n");
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(r.code == 0, "exit %d, stderr: %s", r.code, r.err);
    ck_assert_msg(strstr(r.err, "Syntax OK") != NULL, "stderr: %s", r.err);
    pth_run_free(&r);
}
END_TEST

START_TEST(a_missing_module_file_is_a_config_error_with_file_and_line)
{
    write_conf("prefork", "nosuch", NULL);
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
    char want[600];
    snprintf(want, sizeof(want), "%s:%d: Cannot load %s/nosuch.so into server: No such file",
             h->conf, LOADMODULE_LINE, module_dir());
    ck_assert_msg(r.code == 1, "exit %d, stderr: %s", r.code, r.err);
    ck_assert_msg(strstr(r.err, want) != NULL, "want \"%s\" in stderr: %s", want, r.err);
    pth_run_free(&r);
}
END_TEST

START_TEST(a_module_for_another_api_version_is_a_config_error_naming_both)
{
    write_conf("prefork", "oldapi", NULL);
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(r.code == 1, "exit %d, stderr: %s", r.code, r.err);
    ck_assert_msg(strstr(r.err, "was built for module API version 43, but this portico "
                                "provides version 2") != NULL, "stderr: %s", r.err);
    pth_run_free(&r);
}
END_TEST

typedef struct {
    long pid;
    unsigned long last; /* the last count this process reported */
    int served;
} pid_seen_t;

/* One request on conn; returns the pid and count the module reported. */
static void counter_request(pth_conn_t *c, long *pid, unsigned long *count)
{
    ck_assert_int_eq(pth_conn_sendf(c, "GET /counter HTTP/1.1\r\nHost: localhost\r\n\r\n"), 0);
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "text/plain");
    ck_assert_str_eq(pth_resp_header(&r, "X-Counter-Child-Init"), "yes");
    ck_assert_msg(sscanf(r.body, "pid=%ld count=%lu\n", pid, count) == 2, "body: %s", r.body);
    pth_resp_free(&r);
}

START_TEST(prefork_children_each_keep_their_own_unshared_count)
{
    write_conf("prefork", "counter",
               "StartServers 5\nMinSpareServers 5\nMaxSpareServers 10\n"
               "<Location /counter>\n    SetHandler counter\n</Location>\n");
    pth_start(h);
    pid_seen_t seen[MAX_PIDS] = {{0}};
    int nseen = 0;
    pth_conn_t *held[HELD] = {NULL};
    for (int i = 0; i < REQUESTS; i++) {
        /* A new connection for every request; the last HELD stay open in keep-alive, so
         * their children are busy and the next connection goes to another one. */
        pth_conn_t *c = pth_conn_open(h);
        long pid;
        unsigned long count;
        counter_request(c, &pid, &count);
        int k = 0;
        while (k < nseen && seen[k].pid != pid)
            k++;
        if (k == nseen) {
            ck_assert_int_lt(nseen, MAX_PIDS);
            seen[nseen++] = (pid_seen_t){.pid = pid};
        }
        ck_assert_msg(count == seen[k].last + 1, "pid %ld: count %lu after %lu", pid, count,
                      seen[k].last);
        seen[k].last = count;
        seen[k].served++;
        if (held[0])
            pth_conn_close(held[0]);
        memmove(held, held + 1, (HELD - 1) * sizeof(*held));
        held[HELD - 1] = c;
    }
    for (int i = 0; i < HELD; i++)
        if (held[i])
            pth_conn_close(held[i]);
    ck_assert_msg(nseen >= HELD + 1, "only %d process(es) served %d requests", nseen,
                  REQUESTS);
    int total = 0;
    for (int k = 0; k < nseen; k++) {
        ck_assert_msg(seen[k].pid != (long)h->pid, "the parent served a request");
        ck_assert_uint_eq(seen[k].last, (unsigned long)seen[k].served);
        total += seen[k].served;
    }
    ck_assert_int_eq(total, REQUESTS);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(a_thread_safe_module_serves_under_the_suites_mpm)
{
    write_conf(pth_mpm(), "hello",
               "<Location /hi>\n    SetHandler hello\n</Location>\n");
    pth_start(h);
    const char *hdrs[] = {"X-Hello: there", NULL};
    pth_resp_t r;
    pth_get(h, "/hi/a%20b?x=1", hdrs, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "GET /hi/a b ?x=1 x-hello=there\n");
    pth_resp_free(&r);
    pth_get(h, "/hi?e", NULL, &r);
    ck_assert_int_eq(r.status, 418);
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "hello served /hi/a b", 3000));
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* A module's own directive (hello's HelloGreeting) is known from the line after its
 * LoadModule, kept per section and merged outer to inner; before the LoadModule line it is
 * an unknown command. */
START_TEST(a_module_directive_applies_per_section)
{
    write_conf(pth_mpm(), "hello",
               "HelloGreeting outer\n"
               "<Location /hi>\n    SetHandler hello\n</Location>\n"
               "<Location /hi/inner>\n    HelloGreeting inner\n</Location>\n");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/hi", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "GET /hi ? x-hello=- greeting=outer\n");
    pth_resp_free(&r);
    pth_get(h, "/hi/inner", NULL, &r);
    ck_assert_str_eq(r.body, "GET /hi/inner ? x-hello=- greeting=inner\n");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
    pth_config_raw(h, "MPM %s\nListen 127.0.0.1:@PORT@\nHelloGreeting early\n", pth_mpm());
    pth_run_t run;
    pth_run(h, RUN_MS, &run, "-t", "-f", h->conf, NULL);
    ck_assert_msg(run.code == 1, "exit %d, stderr: %s", run.code, run.err);
    ck_assert_msg(strstr(run.err, ":3: Invalid command 'HelloGreeting'") != NULL, "stderr: %s",
                  run.err);
    pth_run_free(&run);
}
END_TEST

/* A loaded module counts for <IfModule> after its LoadModule line, by identifier and by
 * Apache's source-file name, and `portico -M` lists it as shared. */
START_TEST(ifmodule_and_minus_cap_m_see_a_loaded_module)
{
    write_conf("prefork", "counter",
               "<IfModule counter_module>\n    ServerAdmin by-identifier@example.test\n"
               "</IfModule>\n<IfModule !mod_counter.c>\n    NoSuchDirective\n</IfModule>\n");
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-M", "-f", h->conf, NULL);
    ck_assert_msg(r.code == 0, "exit %d, stderr: %s", r.code, r.err);
    ck_assert_msg(strstr(r.out, " counter_module (shared)") != NULL, "stdout: %s", r.out);
    ck_assert_msg(strstr(r.out, " core_module (static)") != NULL, "stdout: %s", r.out);
    pth_run_free(&r);
}
END_TEST

static Suite *modules_suite(void)
{
    Suite *s = suite_create("modules");
    TCase *tc = tcase_create("loadmodule");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    /* Each config names its MPM: a test runs only in the ctest run of that MPM. */
    pth_tcase_add_for(tc, "event",
                      event_refuses_a_module_that_is_not_thread_safe_naming_mpm_prefork);
    pth_tcase_add_for(tc, "worker",
                      worker_refuses_a_module_that_is_not_thread_safe_naming_mpm_prefork);
    pth_tcase_add_for(tc, "prefork", prefork_accepts_a_module_that_is_not_thread_safe);
    pth_tcase_add_for(tc, "prefork", a_missing_module_file_is_a_config_error_with_file_and_line);
    pth_tcase_add_for(tc, "prefork",
                      a_module_for_another_api_version_is_a_config_error_naming_both);
    pth_tcase_add_for(tc, "prefork", prefork_children_each_keep_their_own_unshared_count);
    pth_tcase_add_for(tc, "prefork", ifmodule_and_minus_cap_m_see_a_loaded_module);
    tcase_add_test(tc, a_thread_safe_module_serves_under_the_suites_mpm);
    tcase_add_test(tc, a_module_directive_applies_per_section);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(modules_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
