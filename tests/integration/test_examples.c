/* The three configurations people start from (conf/examples/), run as they are with real
 * backends: php-fpm.conf in front of a private php-fpm pool, load-balancer.conf in front of
 * two test HTTP servers, tls-terminator.conf with the test CA's certificate. Only what a
 * person would change is changed: the Define lines at the top (and the MPM of this run,
 * and the listeners bound to loopback). And the container image's docker/portico.conf in its
 * -D TLS mode, as two replicas sharing one session ticket key. */
#include "fcgi_backends.h"
#include "harness.h"
#include "http_backend.h"
#include "tls_client.h"
#include "tlsx_tools.h"

#include <check.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pth_t *h;

/* The unix-socket pool shared by the php-fpm case. */
PTH_FPM_SUITE_POOL(4)

static void setup(void)
{
    h = pth_new();
    /* The examples log to stderr, as containers do: that is the error log to check. */
    snprintf(h->error_log, sizeof(h->error_log), "%s", h->err_path);
}

static void teardown(void)
{
    pth_free(h);
}

/* One line to change: the line that is `prefix` or starts with `prefix ` becomes
 * `prefix value`, or just `value` when whole. */
typedef struct {
    const char *prefix;
    const char *value;
    bool whole;
} edit_t;

#define SET(prefix, value) {prefix, value, false}
#define LINE(prefix, value) {prefix, value, true}
#define END {NULL, NULL, false}

/* Replaces the first such line; aborts when the example has none, so an example that loses
 * a Define the README names fails here. */
static char *edit_line(char *text, const edit_t *e)
{
    size_t pl = strlen(e->prefix);
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        if (ll >= pl && strncmp(line, e->prefix, pl) == 0 && (ll == pl || line[pl] == ' ')) {
            char *out = NULL;
            pth_assert(asprintf(&out, "%.*s%s%s%s%s", (int)(line - text), text,
                                e->whole ? "" : e->prefix, e->whole ? "" : " ", e->value,
                                line + ll) >= 0);
            free(text);
            return out;
        }
        line = nl ? nl + 1 : line + ll;
    }
    ck_abort_msg("the example has no line starting with '%s '", e->prefix);
    return NULL;
}

/* SOURCE/rel with the edits (terminated by END) and this run's MPM, written as the
 * server's configuration (the harness fills @PORT@ and @DIR@). */
static void use_file(const char *rel, const edit_t *edits)
{
    const char *src = getenv("PORTICO_SOURCE_DIR");
    pth_assert_msg(src != NULL, "PORTICO_SOURCE_DIR is not set");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", src, rel);
    char *text = pth_read_file(path, NULL);
    pth_assert_msg(text != NULL, "cannot read %s", path);
    text = edit_line(text, &(edit_t)SET("MPM", pth_mpm()));
    for (const edit_t *e = edits; e->prefix; e++)
        text = edit_line(text, e);
    pth_config_raw(h, "%s", text);
    free(text);
}

/* conf/examples/NAME, its PID file in the test's dir. */
static void use_example(const char *name, const edit_t *edits)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "conf/examples/%s", name);
    size_t n = 0;
    while (edits[n].prefix)
        n++;
    edit_t *all = calloc(n + 2, sizeof(*all));
    pth_assert(all != NULL);
    all[0] = (edit_t)SET("Define RUN_DIR", "@DIR@");
    memcpy(all + 1, edits, n * sizeof(*all));
    use_file(rel, all);
    free(all);
}

static void get_expect(const char *path, int status, const char *needle)
{
    pth_resp_t r;
    pth_get(h, path, NULL, &r);
    ck_assert_msg(r.status == status, "GET %s: %d, not %d: %s", path, r.status, status,
                  r.body);
    if (needle)
        ck_assert_msg(strstr(r.body, needle), "GET %s: no '%s' in: %s", path, needle, r.body);
    pth_resp_free(&r);
}

/* ---- php-fpm.conf ---------------------------------------------------------------------- */

static const char app_php[] =
    "<?php header('Content-Type: text/plain');\n"
    "echo 'script=', $_SERVER['SCRIPT_FILENAME'], \"\\n\";\n"
    "echo 'uri=', $_SERVER['REQUEST_URI'], \"\\n\";\n"
    "echo 'path_info=', $_SERVER['PATH_INFO'] ?? '', \"\\n\";\n";

static void write_app(void)
{
    pth_write_filef(h, "index.php", "%s", app_php);
    pth_write_filef(h, "info.php", "%s", app_php);
    pth_write_filef(h, "css/site.css", "body { color: #222 }\n");
    pth_write_filef(h, ".env", "DB_PASSWORD=secret\n");
}

static void check_php_app(void)
{
    char want[400];
    snprintf(want, sizeof(want), "script=%s/index.php\nuri=/\n", h->docroot);
    get_expect("/", 200, want);
    snprintf(want, sizeof(want), "script=%s/info.php\n", h->docroot);
    get_expect("/info.php/users/7?x=1", 200, want);
    get_expect("/info.php/users/7?x=1", 200, "path_info=/users/7\n");
    /* The front controller: a URL that names no file runs index.php. */
    get_expect("/blog/2026/hello", 200, "uri=/blog/2026/hello\n");
    pth_resp_t r;
    pth_get(h, "/css/site.css", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "body { color: #222 }\n");
    const char *cc = pth_resp_header(&r, "Cache-Control");
    ck_assert_msg(cc && strstr(cc, "max-age=86400"), "Cache-Control: %s", cc ? cc : "(none)");
    pth_resp_free(&r);
    pth_expect_error(h, "AH01630: client denied by server configuration: .*/htdocs/\\.env");
    get_expect("/.env", 403, NULL);
    /* A missing script is the front controller's too (FallbackResource), never php-fpm's
     * "No input file specified". */
    get_expect("/missing.php", 200, "uri=/missing.php\n");
    get_expect("/server-status?auto", 200, "Scoreboard: ");
    get_expect("/metrics", 200, "portico_requests_total");
    get_expect("/healthz", 200, "ok\n");
}

/* php-fpm.conf with its Defines set (PHP_FPM: fpm_addr, quoted), started, the app checked. */
static void run_php_fpm_example(const char *fpm_addr)
{
    write_app();
    use_example("php-fpm.conf", (const edit_t[]){SET("Define LISTEN", "127.0.0.1:@PORT@"),
                                                 SET("Define APP_ROOT", h->docroot),
                                                 SET("Define PHP_FPM", fpm_addr),
                                                 END});
    pth_start(h);
    check_php_app();
}

START_TEST(php_fpm_example_serves_files_php_and_the_front_controller_over_a_unix_socket)
{
    char fpm_addr[300];
    snprintf(fpm_addr, sizeof(fpm_addr), "\"unix:%s|fcgi://localhost\"", fpm.sock);
    run_php_fpm_example(fpm_addr);
    /* The access log goes to stdout, in the example's format (%D last). */
    ck_assert(pth_file_wait_contains(h->out_path, "\"GET /css/site.css HTTP/1.1\" 200 21 ",
                                     5000));
    pth_stop(h);
}
END_TEST

START_TEST(php_fpm_example_works_with_php_fpm_on_tcp_as_the_php_image_listens)
{
    pth_fpm_t tcp;
    pth_fpm_start_checked(&tcp, 2, true);
    char fpm_addr[100];
    snprintf(fpm_addr, sizeof(fpm_addr), "\"fcgi://127.0.0.1:%d\"", tcp.port);
    run_php_fpm_example(fpm_addr);
    pth_stop(h);
    pth_fpm_free(&tcp);
}
END_TEST

/* ---- load-balancer.conf ---------------------------------------------------------------- */

static pth_http_backend_t app1, app2;

static void start_balancer(void)
{
    pth_http_backend_start_must(&app1, NULL);
    pth_http_backend_start_must(&app2, NULL);
    char m1[64], m2[64];
    snprintf(m1, sizeof(m1), "http://127.0.0.1:%d", app1.port);
    snprintf(m2, sizeof(m2), "http://127.0.0.1:%d", app2.port);
    use_example("load-balancer.conf",
                (const edit_t[]){SET("Define LISTEN", "127.0.0.1:@PORT@"),
                                 SET("Define APP1", m1),
                                 SET("Define APP2", m2),
                                 SET("Define HEALTH_PATH", "/status?code=200"),
                                 END});
    pth_start(h);
}

static void stop_backends(void)
{
    pth_http_backend_stop(&app1);
    pth_http_backend_stop(&app2);
}

START_TEST(load_balancer_example_spreads_requests_and_forwards_the_client)
{
    start_balancer();
    int before1 = atomic_load(&app1.counts->requests);
    int before2 = atomic_load(&app2.counts->requests);
    for (int i = 0; i < 10; i++) {
        pth_resp_t r;
        pth_get(h, "/app/echo?i=1", (const char *const[]){"Host: shop.example", NULL}, &r);
        ck_assert_msg(r.status == 200, "request %d: %d", i, r.status);
        /* ProxyPreserveHost and the X-Forwarded-* fields. */
        ck_assert_msg(strstr(r.body, "\r\nHost: shop.example\r\n"), "%s", r.body);
        ck_assert_msg(strstr(r.body, "\r\nX-Forwarded-For: 127.0.0.1\r\n"), "%s", r.body);
        ck_assert_msg(strstr(r.body, "\r\nX-Forwarded-Proto: http\r\n"), "%s", r.body);
        pth_resp_free(&r);
    }
    /* byrequests takes turns: each member got its five (a health check may add one). */
    int got1 = atomic_load(&app1.counts->requests) - before1;
    int got2 = atomic_load(&app2.counts->requests) - before2;
    ck_assert_msg(got1 >= 5 && got2 >= 5 && got1 + got2 <= 12, "%d and %d", got1, got2);
    /* server-status stays local and shows both members (ProxyStatus On). */
    char m[64];
    snprintf(m, sizeof(m), "127.0.0.1:%d", app2.port);
    get_expect("/server-status", 200, m);
    get_expect("/healthz", 200, "ok\n"); /* the balancer's own, not a member's */
    pth_stop(h);
    stop_backends();
}
END_TEST

START_TEST(load_balancer_example_keeps_answering_when_a_member_dies)
{
    start_balancer();
    pth_http_backend_stop(&app2);
    for (int i = 0; i < 10; i++)
        get_expect("/echo", 200, "GET /echo HTTP/1.1\r\n");
    /* The dead member was marked in error (retry=30) and logged; not an error line. */
    pth_http_backend_stop(&app1);
    get_expect("/echo", 503, NULL);
    pth_expect_error(h, "\\[proxy(_http|_balancer)?:error\\].*(AH01079|AH00940|AH01167)");
    pth_stop(h);
}
END_TEST

/* ---- tls-terminator.conf --------------------------------------------------------------- */

START_TEST(tls_terminator_example_serves_https_and_h2_and_redirects_plain_http)
{
    pth_http_backend_t app;
    pth_http_backend_start_must(&app, NULL);
    char backend[64], http_port[16], listen_plain[64];
    snprintf(backend, sizeof(backend), "http://127.0.0.1:%d", app.port);
    int plain = pth_free_port();
    snprintf(http_port, sizeof(http_port), "%d", plain);
    snprintf(listen_plain, sizeof(listen_plain), "127.0.0.1:%d", plain);
    use_example("tls-terminator.conf",
                (const edit_t[]){SET("Define SERVER_NAME", "a.test"),
                                 SET("Define HTTP_PORT", http_port),
                                 SET("Define HTTPS_PORT", "@PORT@"),
                                 SET("Define TLS_CERT", pth_tls_file("a.test.full.pem")),
                                 SET("Define TLS_KEY", pth_tls_file("a.test.rsa.key")),
                                 SET("Define BACKEND", backend),
                                 /* bound to loopback only, on the ports the Defines say */
                                 LINE("Listen ${HTTP_PORT}", "Listen 127.0.0.1:${HTTP_PORT}"),
                                 LINE("Listen ${HTTPS_PORT}", "Listen 127.0.0.1:${HTTPS_PORT} https"),
                                 END});
    pth_start(h);
    pth_tls_req_t hq = {.port = h->port, .host = "a.test", .path = "/healthz"};
    pth_resp_t hr;
    ck_assert_int_eq(pth_tls_get(&hq, &hr), 0);
    ck_assert_msg(hr.status == 200 && strcmp(hr.body, "ok\n") == 0, "%d %s", hr.status, hr.body);
    pth_resp_free(&hr);
    for (int h2 = 0; h2 <= 1; h2++) {
        pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/echo", .http2 = h2};
        pth_resp_t r;
        ck_assert_int_eq(pth_tls_get(&q, &r), 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_int_eq(r.version, h2 ? 20 : 11);
        ck_assert_msg(strstr(r.body, "\r\nX-Forwarded-Proto: https\r\n"), "%s", r.body);
        ck_assert_msg(strstr(r.body, "\r\nHost: a.test:"), "%s", r.body);
        const char *hsts = pth_resp_header(&r, "Strict-Transport-Security");
        ck_assert_msg(hsts && strcmp(hsts, "max-age=31536000") == 0, "HSTS: %s",
                      hsts ? hsts : "(none)");
        pth_resp_free(&r);
    }
    /* Plain HTTP on the other port: a permanent redirect to the same path over HTTPS. */
    pth_conn_t *c = pth_conn_open_port(plain);
    pth_conn_sendf(c, "GET /cart?id=3 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, PTH_IO_DEADLINE_MS), 0);
    ck_assert_int_eq(r.status, 301);
    const char *loc = pth_resp_header(&r, "Location");
    ck_assert_msg(loc && strcmp(loc, "https://a.test/cart?id=3") == 0, "Location: %s",
                  loc ? loc : "(none)");
    pth_resp_free(&r);
    pth_conn_close(c);
    pth_stop(h);
    pth_http_backend_stop(&app);
}
END_TEST

/* ---- docker/portico.conf, -D TLS: two replicas sharing one ticket key ------------------- */

/* The image's environment (docker/Dockerfile's ENV) with this test's values. */
static void image_env(int https_port, const char *ticket)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", https_port);
    setenv("HTTPS_PORT", port, 1);
    setenv("HTTP_PORT", "unused", 1); /* its Listen line is the harness's */
    setenv("SERVER_NAME", "a.test", 1);
    setenv("DOCUMENT_ROOT", h->docroot, 1);
    setenv("PHP_FPM", "fcgi://127.0.0.1:1", 1);
    setenv("FALLBACK_RESOURCE", "disabled", 1);
    setenv("TLS_CERT", pth_tls_file("a.test.full.pem"), 1);
    setenv("TLS_KEY", pth_tls_file("a.test.rsa.key"), 1);
    setenv("TLS_TICKET_KEY_FILE", ticket, 1);
    setenv("UPSTREAM", "app.test:8080", 1);
    setenv("UPSTREAM_RESOLVE", "10", 1);
    setenv("UPSTREAM_HEALTH_PATH", "/healthz", 1);
    setenv("START_SERVERS", "1", 1);
    setenv("THREADS_PER_CHILD", "4", 1);
    setenv("MAX_REQUEST_WORKERS", "16", 1);
    setenv("GRACEFUL_SHUTDOWN_TIMEOUT", "5", 1);
    setenv("LOG_LEVEL", "warn", 1);
}

static void start_image_tls(pth_t *s, int https_port, const char *ticket)
{
    pth_t *saved = h;
    h = s;
    image_env(https_port, ticket);
    use_file("docker/portico.conf",
             (const edit_t[]){LINE("Listen ${HTTP_PORT}", "Listen 127.0.0.1:@PORT@"),
                              LINE("PidFile /run/portico/portico.pid", "PidFile @DIR@/portico.pid"),
                              END});
    pth_start_args(s, (const char *const[]){"-D", "TLS", NULL});
    h = saved;
}

START_TEST(image_config_with_tls_serves_https_and_replicas_resume_each_others_sessions)
{
    pth_write_filef(h, "index.html", "replica page\n");
    const char *ticket = pth_path(h, "ticket.key");
    unsigned char key[48];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(i * 7 + 3);
    FILE *f = fopen(ticket, "wb");
    ck_assert(f && fwrite(key, 1, sizeof(key), f) == sizeof(key) && fclose(f) == 0);
    char ticket_path[300];
    snprintf(ticket_path, sizeof(ticket_path), "%s", ticket);
    int https[2] = {pth_free_port(), pth_free_port()};
    pth_t *other = pth_new();
    snprintf(other->error_log, sizeof(other->error_log), "%s", other->err_path);
    start_image_tls(h, https[0], ticket_path);
    start_image_tls(other, https[1], ticket_path);
    /* (Not "/": DirectoryIndex names index.php first, which php-fpm's handler would take
     * whether or not the file exists, as mod_dir does for a proxied handler.) */
    pth_tls_req_t q = {.port = https[0], .host = "a.test", .path = "/index.html", .http2 = true};
    pth_resp_t r;
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.version, 20);
    ck_assert_str_eq(r.body, "replica page\n");
    ck_assert_str_eq(pth_resp_header(&r, "Strict-Transport-Security"), "max-age=31536000");
    pth_resp_free(&r);
    get_expect("/healthz", 200, "ok");
    /* A session from one replica resumes on the other (the shared ticket key). */
    char args[600];
    snprintf(args, sizeof(args), "-tls1_3 -servername a.test -sess_out %s",
             pth_path(h, "sess.pem"));
    char *out = tlsx_s_client(https[0], args);
    ck_assert_msg(strstr(out, "New, TLSv1.3"), "%.2000s", out);
    free(out);
    snprintf(args, sizeof(args), "-tls1_3 -servername a.test -sess_in %s",
             pth_path(h, "sess.pem"));
    out = tlsx_s_client(https[1], args);
    ck_assert_msg(strstr(out, "Reused, TLSv1.3"), "the other replica did not resume: %.2000s",
                  out);
    free(out);
    pth_stop(other);
    pth_free(other);
    pth_stop(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("examples");
    TCase *php = tcase_create("php-fpm.conf");
    tcase_add_unchecked_fixture(php, fpm_up, fpm_down);
    tcase_add_checked_fixture(php, setup, teardown);
    tcase_set_timeout(php, 60);
    tcase_add_test(php, php_fpm_example_serves_files_php_and_the_front_controller_over_a_unix_socket);
    tcase_add_test(php, php_fpm_example_works_with_php_fpm_on_tcp_as_the_php_image_listens);
    suite_add_tcase(s, php);
    TCase *lb = tcase_create("load-balancer.conf");
    tcase_add_checked_fixture(lb, setup, teardown);
    tcase_set_timeout(lb, 60);
    tcase_add_test(lb, load_balancer_example_spreads_requests_and_forwards_the_client);
    tcase_add_test(lb, load_balancer_example_keeps_answering_when_a_member_dies);
    suite_add_tcase(s, lb);
    TCase *tls = tcase_create("tls-terminator.conf");
    tcase_add_checked_fixture(tls, setup, teardown);
    tcase_set_timeout(tls, 60);
    tcase_add_test(tls, tls_terminator_example_serves_https_and_h2_and_redirects_plain_http);
    suite_add_tcase(s, tls);
    TCase *image = tcase_create("docker/portico.conf");
    tcase_add_checked_fixture(image, setup, teardown);
    tcase_set_timeout(image, 60);
    tcase_add_test(image, image_config_with_tls_serves_https_and_replicas_resume_each_others_sessions);
    suite_add_tcase(s, image);
    return s;
}

int main(void)
{
    if (!pth_fpm_available()) {
        fprintf(stderr, "php-fpm8.2 is not installed (scripts/setup installs it)\n");
        return EXIT_FAILURE;
    }
    pth_tls_pki();
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
