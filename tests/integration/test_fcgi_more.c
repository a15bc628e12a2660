/* More of the FastCGI gateway at run time, with a real php-fpm: ProxyPassMatch to a TCP
 * pool, ProxyPass with a "!" exclusion, ProxyFCGISetEnvIf, ProxyFCGIBackendType GENERIC, the
 * canonical <FilesMatch> + SetHandler setup with PATH_INFO, a client leaving in the middle of
 * a streamed answer, and a backend limited to max=1 connection under concurrent load. */
#include "fcgi_backends.h"
#include "harness.h"
#include "php_pages.h"

#include <check.h>
#include <fcgiapp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pth_t *h;

/* The shared unix-socket pool (unchecked fixture); a test that needs a pool of its own
 * starts it with pth_fpm_start_checked and stops it by PID at its end. */
PTH_FPM_SUITE_POOL(4)

static void setup(void)
{
    h = pth_new();
}

static void teardown(void)
{
    pth_free(h);
}

/* The variables these tests look at (php_pages.h has the FastCGI suite's full list). */
static const char more_vars_php[] =
    "<?php\nheader('Content-Type: text/plain');\n"
    "foreach (['SCRIPT_FILENAME','SCRIPT_NAME','PATH_INFO','PATH_TRANSLATED','QUERY_STRING',"
    "'REQUEST_URI','DOCUMENT_ROOT','VAR','OTHER','X'] as $k)\n"
    "  echo $k, '=', isset($_SERVER[$k]) ? $_SERVER[$k] : '(unset)', \"\\n\";\n";

static void write_vars(const char *rel)
{
    pth_write_file(h, rel, more_vars_php, sizeof(more_vars_php) - 1);
}

START_TEST(proxypassmatch_to_a_tcp_pool_runs_the_script_at_the_expanded_path)
{
    pth_fpm_t tcp;
    pth_fpm_start_checked(&tcp, 2, true);
    write_vars("sub/vars.php");
    pth_write_filef(h, "m/page.html", "static page");
    pth_config(h, "ProxyPassMatch \"^/m/(.*\\.php)$\" \"fcgi://127.0.0.1:%d@DOCROOT@/$1\"\n",
               tcp.port);
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/m/sub/vars.php?k=v", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "SCRIPT_FILENAME", pth_path(h, "htdocs/sub/vars.php"));
    PTH_ASSERT_VAR(r.body, "QUERY_STRING", "k=v");
    PTH_ASSERT_VAR(r.body, "REQUEST_URI", "/m/sub/vars.php?k=v");
    pth_resp_free(&r);
    pth_get(h, "/m/page.html", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "static page");
    ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "text/html");
    pth_resp_free(&r);
    pth_stop(h);
    pth_fpm_free(&tcp);
}
END_TEST

START_TEST(proxypass_with_an_exclusion_serves_the_excluded_prefix_from_disk)
{
    write_vars("app/vars.php");
    pth_write_filef(h, "app/static/logo.txt", "from disk");
    static const char src[] = "<?php echo 'executed';";
    pth_write_file(h, "app/static/raw.php", src, sizeof(src) - 1);
    pth_config(h, "ProxyPass \"/app/static/\" \"!\"\n"
                  "ProxyPass \"/app/\" \"unix:%s|fcgi://localhost@DOCROOT@/app/\"\n", fpm.sock);
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/app/vars.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "SCRIPT_FILENAME", pth_path(h, "htdocs/app/vars.php"));
    PTH_ASSERT_VAR(r.body, "SCRIPT_NAME", "/app/vars.php");
    pth_resp_free(&r);
    pth_get(h, "/app/static/logo.txt", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "from disk");
    pth_resp_free(&r);
    /* Excluded means not proxied at all: a .php there is a plain file. */
    pth_get(h, "/app/static/raw.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, src);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(proxy_fcgi_setenvif_sets_variables_only_when_the_condition_holds)
{
    write_vars("vars.php");
    pth_config(h, "SetEnvIf User-Agent \"abc\" X=xxabcxx\n"
                  "ProxyFCGISetEnvIf \"true\" VAR value\n"
                  "ProxyFCGISetEnvIf \"reqenv('X') =~ /abc/\" OTHER yes\n"
                  "<FilesMatch \"\\.php$\">\n"
                  "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n"
                  "</FilesMatch>\n", fpm.sock);
    pth_start(h);
    pth_resp_t r;
    const char *with[] = {"User-Agent: test-abc-agent", NULL};
    pth_get(h, "/vars.php", with, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "VAR", "value");
    PTH_ASSERT_VAR(r.body, "X", "xxabcxx");
    PTH_ASSERT_VAR(r.body, "OTHER", "yes");
    pth_resp_free(&r);
    const char *without[] = {"User-Agent: plain-agent", NULL};
    pth_get(h, "/vars.php", without, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "VAR", "value");
    PTH_ASSERT_VAR(r.body, "X", "(unset)");
    PTH_ASSERT_VAR(r.body, "OTHER", "(unset)");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* A libfcgi responder that answers every request with its SCRIPT_FILENAME, which php-fpm
 * would rewrite before PHP sees it. Runs as a child of the test, stopped by PID. */
static pid_t echo_responder_start(const char *sock_path)
{
    unlink(sock_path);
    pid_t parent = getpid();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int sock = FCGX_OpenSocket(sock_path, 8);
        if (sock < 0)
            _exit(126);
        FCGX_Init();
        FCGX_Request rq;
        FCGX_InitRequest(&rq, sock, 0);
        for (int errors = 0; errors < 100;) {
            if (FCGX_Accept_r(&rq) != 0) {
                errors++;
                continue;
            }
            const char *sf = FCGX_GetParam("SCRIPT_FILENAME", rq.envp);
            FCGX_FPrintF(rq.out, "Content-Type: text/plain\r\n\r\nSCRIPT_FILENAME=%s\n",
                         sf ? sf : "(unset)");
            FCGX_Finish_r(&rq);
        }
        _exit(1);
    }
    if (!pth_unix_wait_ready(sock_path, 5000)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        ck_abort_msg("the echo responder did not start on %s", sock_path);
    }
    return pid;
}

static void echo_responder_stop(pid_t pid, const char *sock_path)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    unlink(sock_path);
}

START_TEST(generic_backend_type_sends_the_proxy_url_as_script_filename)
{
    const char *sock = strdup(pth_path(h, "echo.sock"));
    pid_t echo = echo_responder_start(sock);
    write_vars("g/vars.php");
    pth_config(h, "ProxyFCGIBackendType GENERIC\n"
                  "ProxyPass \"/e/\" \"unix:%s|fcgi://localhost:9001@DOCROOT@/e/\"\n"
                  "ProxyPass \"/g/\" \"unix:%s|fcgi://localhost@DOCROOT@/g/\"\n", sock, fpm.sock);
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/e/x.cgi", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    char want[600];
    snprintf(want, sizeof(want), "proxy:fcgi://localhost:9001%s/e/x.cgi", h->docroot);
    PTH_ASSERT_VAR(r.body, "SCRIPT_FILENAME", want);
    pth_resp_free(&r);
    /* php-fpm strips Apache's "proxy:fcgi://host[:port]" itself, so the script still runs
     * and PHP sees the plain path. */
    pth_get(h, "/g/vars.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "SCRIPT_FILENAME", pth_path(h, "htdocs/g/vars.php"));
    PTH_ASSERT_VAR(r.body, "SCRIPT_NAME", "/g/vars.php");
    pth_resp_free(&r);
    pth_stop(h);
    echo_responder_stop(echo, sock);
    free((void *)sock);
}
END_TEST

START_TEST(filesmatch_sethandler_gets_path_info_split_by_the_core)
{
    write_vars("index.php");
    pth_config(h, "<FilesMatch \"\\.php$\">\n"
                  "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n"
                  "</FilesMatch>\n", fpm.sock);
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/index.php/foo/bar?a=1", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "PATH_INFO", "/foo/bar");
    PTH_ASSERT_VAR(r.body, "SCRIPT_NAME", "/index.php");
    PTH_ASSERT_VAR(r.body, "SCRIPT_FILENAME", pth_path(h, "htdocs/index.php"));
    PTH_ASSERT_VAR(r.body, "PATH_TRANSLATED", pth_path(h, "htdocs/foo/bar"));
    PTH_ASSERT_VAR(r.body, "QUERY_STRING", "a=1");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* Ticks every 200 ms for 5 s; PHP notices a vanished client on the flush after. */
static const char stream_php[] =
    "<?php header('Content-Type: text/plain');\n"
    "for ($i = 0; $i < 25; $i++) { echo \"tick $i\\n\"; flush(); usleep(200000); }\n";

START_TEST(a_client_leaving_mid_stream_frees_the_only_php_child)
{
    pth_fpm_t one;
    pth_fpm_start_checked(&one, 1, false);
    pth_write_file(h, "stream.php", stream_php, sizeof(stream_php) - 1);
    pth_write_filef(h, "hi.php", "<?php echo 'hi';");
    pth_config(h, "<FilesMatch \"\\.php$\">\n"
                  "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n"
                  "</FilesMatch>\n", one.sock);
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /stream.php HTTP/1.1\r\nHost: x\r\n\r\n");
    int64_t t0 = pth_now_ms();
    bool started = false;
    while (!started && pth_now_ms() - t0 < 3000) {
        pth_conn_read_until(c, c->len + 1, 100);
        started = c->len && memmem(c->buf, c->len, "tick 1\n", 7) != NULL;
    }
    ck_assert_msg(started, "the stream did not start");
    pth_conn_close(c);
    int64_t t1 = pth_now_ms();
    pth_resp_t r;
    pth_get(h, "/hi.php", NULL, &r);
    int64_t took = pth_now_ms() - t1;
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "hi");
    ck_assert_msg(took < 2000, "the next request waited %lld ms", (long long)took);
    pth_resp_free(&r);
    ck_assert(pth_running(h));
    /* Noted at info level, as Apache does; nothing at warn or above. */
    ck_assert(pth_file_wait_contains(h->error_log, "client went away", 2000));
    pth_stop(h);
    char *log = pth_read_file(h->error_log, NULL);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(!strstr(log, ":warn]") && !strstr(log, ":error]") && !strstr(log, ":crit]"),
                  "%s", log);
    free(log);
    pth_fpm_free(&one);
}
END_TEST

typedef struct {
    int port;
    const char *path;
    int status;
    char body[64];
} slow_arg_t;

static void *fetch(void *p)
{
    slow_arg_t *a = p;
    pth_conn_t *c = pth_conn_open_port(a->port);
    pth_conn_sendf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", a->path);
    pth_resp_t r;
    if (pth_conn_read_response(c, &r, false, 10000) == 0) {
        a->status = r.status;
        snprintf(a->body, sizeof(a->body), "%s", r.body);
        pth_resp_free(&r);
    }
    pth_conn_close(c);
    return NULL;
}

START_TEST(with_max_1_a_second_concurrent_request_waits_and_succeeds)
{
    /* Two children: only portico's max=1 can make the second request wait. */
    pth_fpm_t two;
    pth_fpm_start_checked(&two, 2, false);
    pth_write_filef(h, "s/slow.php", "<?php usleep(1000000); echo $_SERVER['QUERY_STRING'];");
    const char *mpm = getenv("PORTICO_TEST_MPM");
    bool prefork = mpm && strcmp(mpm, "prefork") == 0;
    /* One process, so one pool (the pool and its max are per process, as in Apache). */
    pth_config(h, "%s"
                  "ProxyPass \"/s/\" \"unix:%s|fcgi://localhost@DOCROOT@/s/\" max=1 timeout=5\n",
               prefork ? "" : "StartServers 1\nServerLimit 1\nMaxRequestWorkers 25\n", two.sock);
    pth_start(h);
    slow_arg_t a[2] = {{.port = h->port, .path = "/s/slow.php?one"},
                       {.port = h->port, .path = "/s/slow.php?two"}};
    pthread_t t[2];
    int64_t t0 = pth_now_ms();
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, fetch, &a[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    int64_t took = pth_now_ms() - t0;
    ck_assert_int_eq(a[0].status, 200);
    ck_assert_str_eq(a[0].body, "one");
    ck_assert_int_eq(a[1].status, 200);
    ck_assert_str_eq(a[1].body, "two");
    if (!prefork)
        ck_assert_msg(took >= 1900, "both answered after %lld ms: not serialized",
                      (long long)took);
    ck_assert_msg(took < 4500, "took %lld ms", (long long)took);
    pth_stop(h);
    pth_fpm_free(&two);
}
END_TEST

START_TEST(generic_backend_type_omits_the_default_port_as_apache_does)
{
    const char *sock = strdup(pth_path(h, "echo.sock"));
    pid_t echo = echo_responder_start(sock);
    pth_config(h, "ProxyFCGIBackendType GENERIC\n"
                  "ProxyPass \"/e/\" \"unix:%s|fcgi://localhost@DOCROOT@/e/\"\n", sock);
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/e/x.cgi", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    char want[600];
    snprintf(want, sizeof(want), "proxy:fcgi://localhost%s/e/x.cgi", h->docroot);
    PTH_ASSERT_VAR(r.body, "SCRIPT_FILENAME", want);
    pth_resp_free(&r);
    pth_stop(h);
    echo_responder_stop(echo, sock);
    free((void *)sock);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fcgi_more");
    TCase *tc = tcase_create("php-fpm");
    tcase_add_unchecked_fixture(tc, fpm_up, fpm_down);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, proxypass_with_an_exclusion_serves_the_excluded_prefix_from_disk);
    tcase_add_test(tc, proxy_fcgi_setenvif_sets_variables_only_when_the_condition_holds);
    tcase_add_test(tc, generic_backend_type_sends_the_proxy_url_as_script_filename);
    tcase_add_test(tc, generic_backend_type_omits_the_default_port_as_apache_does);
    tcase_add_test(tc, filesmatch_sethandler_gets_path_info_split_by_the_core);
    suite_add_tcase(s, tc);
    TCase *own = tcase_create("own php-fpm");
    tcase_add_checked_fixture(own, setup, teardown);
    tcase_set_timeout(own, 60);
    tcase_add_test(own, proxypassmatch_to_a_tcp_pool_runs_the_script_at_the_expanded_path);
    tcase_add_test(own, a_client_leaving_mid_stream_frees_the_only_php_child);
    tcase_add_test(own, with_max_1_a_second_concurrent_request_waits_and_succeeds);
    suite_add_tcase(s, own);
    return s;
}

int main(void)
{
    if (!pth_fpm_available()) {
        /* Not a skip: scripts/setup installs php8.2-fpm, so its absence is a failure. */
        fprintf(stderr, "php-fpm8.2 is not installed (scripts/setup installs it): the "
                        "FastCGI suite cannot run\n");
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
