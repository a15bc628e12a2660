/* The FastCGI gateway in front of a real php-fpm (a private static pool on a unix socket,
 * and one on TCP): CGI variables, uploads, chunked bodies, large and streamed responses,
 * status and redirects, cookies, FallbackResource, Alias, restarts of php-fpm, ProxyTimeout
 * and many concurrent requests on reused connections. */
#include "fcgi_backends.h"
#include "harness.h"
#include "php_pages.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pth_t *h;

/* The pool shared by the tests of a case (unchecked fixture). */
PTH_FPM_SUITE_POOL(6)

/* The usual php-fpm setup: .php files (and PATH_INFO after them) go to the pool. */
#define PHP_CONF                                                                       \
    "<LocationMatch \"\\.php(/|$)\">\n"                                                \
    "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n"                                \
    "</LocationMatch>\n"

static void setup(void)
{
    h = pth_new();
}

static void teardown(void)
{
    pth_free(h);
}

static void start_php(const char *extra)
{
    pth_config(h, PHP_CONF "%s", fpm.sock, extra ? extra : "");
    pth_start(h);
}

START_TEST(every_cgi_variable_reaches_php)
{
    pth_write_file(h, "vars.php", vars_php, sizeof(vars_php) - 1);
    start_php("SetEnv MY_ENV from-setenv\n");
    pth_php_check_vars(h);
    pth_stop(h);
}
END_TEST

START_TEST(a_10_mib_multipart_upload_arrives_intact)
{
    pth_write_file(h, "up.php", md5_php, sizeof(md5_php) - 1);
    size_t bl;
    char *want;
    char *body = pth_php_upload_body(h, &bl, &want);
    start_php(NULL);
    const char *hdrs[] = {"Content-Type: multipart/form-data; boundary=XyZbound", NULL};
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, "POST", "/up.php", hdrs, body, bl, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, want) != NULL, "%s (want %s)", r.body, want);
    ck_assert_msg(strstr(r.body, "field=value\n") != NULL, "%s", r.body);
    pth_resp_free(&r);
    free(body);
    free(want);
    pth_stop(h);
}
END_TEST

START_TEST(a_chunked_request_body_reaches_php_with_a_content_length)
{
    pth_write_file(h, "up.php", md5_php, sizeof(md5_php) - 1);
    start_php(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /up.php HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    /* md5("hello world") */
    ck_assert_msg(strstr(r.body, "input=5eb63bbbe01eeed093cb22bb8f5acdc3 11\n") != NULL, "%s",
                  r.body);
    pth_resp_free(&r);
    pth_conn_close(c);
    pth_stop(h);
}
END_TEST

START_TEST(a_32_mib_response_arrives_intact)
{
    pth_write_file(h, "big.php", big_php, sizeof(big_php) - 1);
    start_php(NULL);
    pth_php_check_big(h);
    pth_stop(h);
}
END_TEST

START_TEST(status_redirects_and_three_cookies_come_from_php)
{
    pth_write_file(h, "nf.php", nf_php, sizeof(nf_php) - 1);
    pth_write_file(h, "go.php", go_php, sizeof(go_php) - 1);
    pth_write_file(h, "perm.php", perm_php, sizeof(perm_php) - 1);
    pth_write_file(h, "cookies.php", cookies_php, sizeof(cookies_php) - 1);
    start_php(NULL);
    pth_php_check_status_and_redirects(h);
    pth_php_check_cookies(h);
    pth_stop(h);
}
END_TEST

START_TEST(flushed_output_reaches_the_client_before_the_script_ends)
{
    pth_write_file(h, "sse.php", sse_php, sizeof(sse_php) - 1);
    start_php(NULL);
    pth_php_check_flush(h);
    pth_stop(h);
}
END_TEST

START_TEST(fallback_resource_routes_a_front_controller_through_php)
{
    pth_write_file(h, "index.php", vars_php, sizeof(vars_php) - 1);
    pth_write_filef(h, "style.css", "body{}");
    start_php("FallbackResource /index.php\n");
    pth_resp_t r;
    pth_get(h, "/blog/2024/hello?q=1", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "SCRIPT_NAME", "/index.php");
    PTH_ASSERT_VAR(r.body, "REQUEST_URI", "/blog/2024/hello?q=1");
    PTH_ASSERT_VAR(r.body, "GET_q", "1");
    pth_resp_free(&r);
    pth_get(h, "/missing.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "SCRIPT_NAME", "/index.php");
    pth_resp_free(&r);
    pth_get(h, "/style.css", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "body{}");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* A front controller the fallback's own phases refuse (here denied): the request answers with
 * that status and its own config, as mod_dir's subrequest lets it (its Header always rule,
 * not the controller's). */
START_TEST(a_refused_front_controller_answers_with_the_requests_config)
{
    pth_write_file(h, "index.php", vars_php, sizeof(vars_php) - 1);
    pth_expect_error(h, "AH01630: client denied by server configuration");
    start_php("<Location /app>\n  FallbackResource /index.php\n"
              "  Header always set X-App yes\n</Location>\n"
              "<Location /index.php>\n  Require all denied\n"
              "  Header always set X-Controller yes\n</Location>\n");
    pth_resp_t r;
    pth_get(h, "/app/missing.php", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_ptr_nonnull(pth_resp_header(&r, "X-App"));
    ck_assert_ptr_null(pth_resp_header(&r, "X-Controller"));
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(a_missing_php_file_is_a_404_from_portico)
{
    start_php(NULL);
    pth_resp_t r;
    pth_get(h, "/nothere.php", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "<title>404 Not Found</title>"));
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "script not found or unable to stat", 3000));
    pth_stop(h);
}
END_TEST

START_TEST(a_php_app_under_an_alias_gets_its_pages_css_and_images)
{
    pth_write_dir_file(h, "wiki/doku.php", vars_php, sizeof(vars_php) - 1);
    static const char css[] = "<?php header('Content-Type: text/css'); echo 'a{color:red}';";
    pth_write_dir_file(h, "wiki/lib/css.php", css, sizeof(css) - 1);
    pth_write_dir_file(h, "wiki/lib/images/logo.png", "PNGDATA", 7);
    pth_config(h, PHP_CONF "Alias /wiki @DIR@/wiki\n<Directory @DIR@/wiki>\n"
                  "  Require all granted\n</Directory>\n", fpm.sock);
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/wiki/doku.php?id=start", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "SCRIPT_FILENAME", pth_path(h, "wiki/doku.php"));
    PTH_ASSERT_VAR(r.body, "SCRIPT_NAME", "/wiki/doku.php");
    PTH_ASSERT_VAR(r.body, "QUERY_STRING", "id=start");
    pth_resp_free(&r);
    pth_get(h, "/wiki/lib/css.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "text/css;charset=UTF-8");
    ck_assert_str_eq(r.body, "a{color:red}");
    pth_resp_free(&r);
    pth_get(h, "/wiki/lib/images/logo.png", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "image/png");
    ck_assert_str_eq(r.body, "PNGDATA");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(a_slow_script_hits_proxy_timeout_with_a_504)
{
    pth_write_filef(h, "slow.php", "<?php sleep(4); echo 'late';");
    start_php("ProxyTimeout 1\n");
    pth_expect_error(h, "timed out waiting for the response");
    int64_t t0 = pth_now_ms();
    pth_resp_t r;
    pth_get(h, "/slow.php", NULL, &r);
    ck_assert_int_eq(r.status, 504);
    ck_assert_int_lt(pth_now_ms() - t0, 3000);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

typedef struct {
    int port;
    int id;
    int ok;
} worker_arg_t;

static void *hammer(void *p)
{
    worker_arg_t *w = p;
    for (int i = 0; i < 25; i++) {
        pth_conn_t *c = pth_conn_open_port(w->port);
        char want[64];
        snprintf(want, sizeof(want), "id=%d-%d", w->id, i);
        pth_conn_sendf(c, "GET /id.php?%s HTTP/1.1\r\nHost: x\r\n\r\n"
                          "GET /id.php?%s2 HTTP/1.1\r\nHost: x\r\n\r\n", want, want);
        pth_resp_t r;
        int rc = pth_conn_read_response(c, &r, false, 10000);
        if (rc == 0 && r.status == 200 && strcmp(r.body, want) == 0)
            w->ok++;
        else
            fprintf(stderr, "want %s: rc %d status %d body %.40s\n", want, rc, r.status,
                    rc == 0 ? r.body : "");
        pth_resp_free(&r);
        strcat(want, "2");
        if (pth_conn_read_response(c, &r, false, 10000) == 0 && r.status == 200 &&
            strcmp(r.body, want) == 0)
            w->ok++;
        pth_resp_free(&r);
        pth_conn_close(c);
    }
    return NULL;
}

START_TEST(concurrent_requests_each_get_their_own_answer)
{
    pth_write_filef(h, "id.php", "<?php usleep(mt_rand(0, 3000)); echo $_SERVER['QUERY_STRING'];");
    /* Reuse on, max= below pm.max_children: kept connections must not pin every child. */
    pth_config(h, "<LocationMatch \"\\.php$\">\n"
                  "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n</LocationMatch>\n"
                  "ProxyPass /unused \"unix:%s|fcgi://localhost\" max=4 enablereuse=on\n", fpm.sock,
                fpm.sock);
    pth_start(h);
    enum { N = 12 };
    pthread_t t[N];
    worker_arg_t w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker_arg_t){.port = h->port, .id = i};
        pthread_create(&t[i], NULL, hammer, &w[i]);
    }
    int ok = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    ck_assert_int_eq(ok, N * 25 * 2);
    pth_stop(h);
}
END_TEST

START_TEST(php_fpm_stopped_is_a_503_at_once_and_started_again_works)
{
    pth_fpm_t own;
    pth_fpm_start_checked(&own, 2, false);
    pth_write_filef(h, "hi.php", "<?php echo 'hi';");
    pth_config(h, PHP_CONF, own.sock);
    pth_expect_error(h, "AH01079: failed to make connection");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/hi.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    pth_fpm_stop(&own);
    int64_t t0 = pth_now_ms();
    pth_get(h, "/hi.php", NULL, &r);
    ck_assert_int_eq(r.status, 503);
    ck_assert_int_lt(pth_now_ms() - t0, 1000);
    pth_resp_free(&r);
    char msg[1024];
    ck_assert_msg(pth_fpm_restart(&own, msg, sizeof(msg)) == 0, "%s", msg);
    pth_get(h, "/hi.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "hi");
    pth_resp_free(&r);
    pth_stop(h);
    pth_fpm_free(&own);
}
END_TEST

START_TEST(proxypass_to_php_fpm_over_tcp_maps_the_url_to_the_backend_path)
{
    pth_fpm_t tcp;
    pth_fpm_start_checked(&tcp, 2, true);
    pth_write_dir_file(h, "app/vars.php", vars_php, sizeof(vars_php) - 1);
    pth_config(h, "ProxyPass /app/static !\n"
                  "ProxyPass /app/ fcgi://127.0.0.1:%d@DIR@/app/ timeout=5\n", tcp.port);
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/app/vars.php?x=%41", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "SCRIPT_FILENAME", pth_path(h, "app/vars.php"));
    PTH_ASSERT_VAR(r.body, "SCRIPT_NAME", "/app/vars.php");
    PTH_ASSERT_VAR(r.body, "QUERY_STRING", "x=%41");
    pth_resp_free(&r);
    pth_get(h, "/app/static/none.txt", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    pth_resp_free(&r);
    pth_stop(h);
    pth_fpm_free(&tcp);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fcgi");
    TCase *tc = tcase_create("php-fpm");
    tcase_add_unchecked_fixture(tc, fpm_up, fpm_down);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_cgi_variable_reaches_php);
    tcase_add_test(tc, a_10_mib_multipart_upload_arrives_intact);
    tcase_add_test(tc, a_chunked_request_body_reaches_php_with_a_content_length);
    tcase_add_test(tc, a_32_mib_response_arrives_intact);
    tcase_add_test(tc, status_redirects_and_three_cookies_come_from_php);
    tcase_add_test(tc, flushed_output_reaches_the_client_before_the_script_ends);
    tcase_add_test(tc, fallback_resource_routes_a_front_controller_through_php);
    tcase_add_test(tc, a_refused_front_controller_answers_with_the_requests_config);
    tcase_add_test(tc, a_missing_php_file_is_a_404_from_portico);
    tcase_add_test(tc, a_php_app_under_an_alias_gets_its_pages_css_and_images);
    tcase_add_test(tc, a_slow_script_hits_proxy_timeout_with_a_504);
    tcase_add_test(tc, concurrent_requests_each_get_their_own_answer);
    suite_add_tcase(s, tc);
    TCase *own = tcase_create("own php-fpm");
    tcase_add_checked_fixture(own, setup, teardown);
    tcase_set_timeout(own, 60);
    tcase_add_test(own, php_fpm_stopped_is_a_503_at_once_and_started_again_works);
    tcase_add_test(own, proxypass_to_php_fpm_over_tcp_maps_the_url_to_the_backend_path);
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
