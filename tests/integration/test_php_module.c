/* PHP in-process (modules/php, LoadModule php_module) under MPM prefork: the PHP test pages
 * of the FastCGI suite (tests/support/php_pages.h) give the same answers without php-fpm
 * (CGI variables and PATH_INFO, uploads, php://input, cookies, status and redirects, 32 MiB,
 * flush() streaming); LimitRequestBody, a fatal error, exit(), a crashed child,
 * MaxConnectionsPerChild, php_value and friends per directory, PHPIniDir, PHP's error log in
 * portico's, HTTPS over TLS, and DokuWiki (Debian's package) under an Alias. MPM event and
 * worker refuse the module at start-up (tested from the prefork run: the configs name their
 * MPM). */
/* mpms: prefork */
#include "harness.h"
#include "php_pages.h"
#include "tls_client.h"

#include <arpa/inet.h>
#include <check.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define RUN_MS 10000
#define DOKUWIKI "/usr/share/dokuwiki"

static pth_t *h;
static bool asan; /* the binary under test is an ASan build */

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

/* The module next to the binary under test: BUILD/modules/php/php_module.so. */
static const char *module_path(void)
{
    static char path[600];
    char bin[512];
    snprintf(bin, sizeof(bin), "%s", pth_bin());
    snprintf(path, sizeof(path), "%s/modules/php/php_module.so", dirname(bin));
    ck_assert_msg(access(path, R_OK) == 0, "%s is not built", path);
    return path;
}

/* A php.ini of the tests' own (PHPIniDir), as the FastCGI suite's pool is set up. */
static const char php_ini[] = "output_buffering = 0\n"
                              "memory_limit = 256M\n"
                              "max_execution_time = 30\n"
                              "display_errors = Off\n"
                              "log_errors = On\n"
                              "precision = 11\n";

/* The usual mod_php block, with PHPIniDir, and extra lines. */
#define PHP_CONF                                                                       \
    "LoadModule php_module %s\n"                                                       \
    "PHPIniDir @DIR@/phpini\n"                                                         \
    "<FilesMatch \\.php$>\n"                                                           \
    "    SetHandler application/x-httpd-php\n"                                         \
    "</FilesMatch>\n"

static void start_php(const char *extra)
{
    pth_write_dir_file(h, "phpini/php.ini", php_ini, sizeof(php_ini) - 1);
    pth_config(h, PHP_CONF "%s", module_path(), extra ? extra : "");
    pth_start(h);
}

/* The value of "NAME=value" lines in a body. */
static char *var(const char *body, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = body; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t ll = e ? (size_t)(e - p) : strlen(p);
        if (ll > nl && strncmp(p, name, nl) == 0 && p[nl] == '=')
            return strndup(p + nl + 1, ll - nl - 1);
        p = e ? e + 1 : NULL;
    }
    return strdup("(missing)");
}

#define ASSERT_VAR(body, name, want)                                                   \
    do {                                                                               \
        char *v_ = var(body, name);                                                    \
        ck_assert_msg(strcmp(v_, want) == 0, "%s=%s, want %s", name, v_, want);       \
        free(v_);                                                                      \
    } while (0)

START_TEST(every_cgi_variable_reaches_php_as_through_fastcgi)
{
    pth_write_file(h, "vars.php", vars_php, sizeof(vars_php) - 1);
    start_php("SetEnv MY_ENV from-setenv\n");
    const char *hdrs[] = {"X-Custom: hello", "Proxy: http://evil.example/", NULL};
    pth_resp_t r;
    pth_get(h, "/vars.php/extra/path?q=a%20b%26c&z=%C3%A9", hdrs, &r);
    ck_assert_int_eq(r.status, 200);
    char want[512];
    snprintf(want, sizeof(want), "%s/vars.php", h->docroot);
    ASSERT_VAR(r.body, "SCRIPT_FILENAME", want);
    ASSERT_VAR(r.body, "SCRIPT_NAME", "/vars.php");
    ASSERT_VAR(r.body, "PATH_INFO", "/extra/path");
    snprintf(want, sizeof(want), "%s/extra/path", h->docroot);
    ASSERT_VAR(r.body, "PATH_TRANSLATED", want);
    ASSERT_VAR(r.body, "QUERY_STRING", "q=a%20b%26c&z=%C3%A9");
    ASSERT_VAR(r.body, "REQUEST_URI", "/vars.php/extra/path?q=a%20b%26c&z=%C3%A9");
    ASSERT_VAR(r.body, "GET_q", "a b&c");
    ASSERT_VAR(r.body, "DOCUMENT_ROOT", h->docroot);
    ASSERT_VAR(r.body, "REQUEST_METHOD", "GET");
    ASSERT_VAR(r.body, "REQUEST_SCHEME", "http");
    ASSERT_VAR(r.body, "CONTENT_LENGTH", "(unset)");
    ASSERT_VAR(r.body, "SERVER_NAME", "127.0.0.1");
    snprintf(want, sizeof(want), "%d", h->port);
    ASSERT_VAR(r.body, "SERVER_PORT", want);
    ASSERT_VAR(r.body, "SERVER_ADDR", "127.0.0.1");
    ASSERT_VAR(r.body, "SERVER_PROTOCOL", "HTTP/1.1");
    ASSERT_VAR(r.body, "SERVER_SOFTWARE", pth_resp_header(&r, "Server"));
    ASSERT_VAR(r.body, "REMOTE_ADDR", "127.0.0.1");
    ASSERT_VAR(r.body, "GATEWAY_INTERFACE", "CGI/1.1");
    ASSERT_VAR(r.body, "HTTPS", "(unset)");
    ASSERT_VAR(r.body, "REDIRECT_STATUS", "200");
    ASSERT_VAR(r.body, "HTTP_X_CUSTOM", "hello");
    ASSERT_VAR(r.body, "HTTP_PROXY", "(unset)");
    snprintf(want, sizeof(want), "127.0.0.1:%d", h->port);
    ASSERT_VAR(r.body, "HTTP_HOST", want);
    ASSERT_VAR(r.body, "MY_ENV", "from-setenv");
    ASSERT_VAR(r.body, "PHP_SELF", "/vars.php/extra/path");
    char *port = var(r.body, "REMOTE_PORT");
    ck_assert_int_gt(atoi(port), 0);
    free(port);
    pth_resp_free(&r);
}
END_TEST

/* The 10 MiB upload of the FastCGI suite; php_admin_value raises PHP's limits for it. */
START_TEST(a_10_mib_multipart_upload_arrives_intact)
{
    pth_write_file(h, "up.php", md5_php, sizeof(md5_php) - 1);
    size_t fl = 10 << 20;
    char *file = malloc(fl);
    for (size_t i = 0; i < fl; i++)
        file[i] = (char)((i * 7 + i / 4096) & 0xff);
    pth_write_dir_file(h, "upload.bin", file, fl);
    const char *pre = "--XyZbound\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue"
                      "\r\n--XyZbound\r\nContent-Disposition: form-data; name=\"f\"; "
                      "filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n";
    const char *post = "\r\n--XyZbound--\r\n";
    size_t pl = strlen(pre), bl = pl + fl + strlen(post);
    char *body = malloc(bl);
    memcpy(body, pre, pl);
    memcpy(body + pl, file, fl);
    memcpy(body + pl + fl, post, strlen(post));
    start_php("php_admin_value upload_max_filesize 64M\n"
              "php_admin_value post_max_size 64M\n");
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "php8.2 -n -r 'echo md5_file(\"%s\");'",
             pth_path(h, "upload.bin"));
    FILE *p = popen(cmd, "r");
    char want[64] = "";
    ck_assert_ptr_nonnull(fgets(want, sizeof(want), p));
    pclose(p);
    const char *hdrs[] = {"Content-Type: multipart/form-data; boundary=XyZbound", NULL};
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, "POST", "/up.php", hdrs, body, bl, &r), 0);
    ck_assert_int_eq(r.status, 200);
    char line[128];
    snprintf(line, sizeof(line), "f 0 %zu %s\n", fl, want);
    ck_assert_msg(strstr(r.body, line) != NULL, "%s (want %s)", r.body, line);
    ck_assert_msg(strstr(r.body, "field=value\n") != NULL, "%s", r.body);
    pth_resp_free(&r);
    free(body);
    free(file);
}
END_TEST

/* LimitRequestBody is the server's: the upload is refused with 413 before PHP answers. */
START_TEST(an_upload_over_limit_request_body_is_a_413)
{
    pth_write_file(h, "up.php", md5_php, sizeof(md5_php) - 1);
    pth_expect_error(h, "Requested content-length of 5000 is larger than the configured "
                        "limit of 1000");
    start_php("LimitRequestBody 1000\n");
    size_t bl = 5000;
    char *body = malloc(bl);
    memset(body, 'x', bl);
    memcpy(body, "field=", 6);
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, "POST", "/up.php", hdrs, body, bl, &r), 0);
    ck_assert_int_eq(r.status, 413);
    ck_assert_ptr_null(strstr(r.body, "input="));
    pth_resp_free(&r);
    /* Under the limit, the same page reads it all. */
    ck_assert_int_eq(pth_curl(h, "POST", "/up.php", hdrs, body, 900, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, " 900\n") != NULL, "%s", r.body);
    pth_resp_free(&r);
    free(body);
}
END_TEST

/* php://input and $_POST from a form body, and a chunked body streamed to php://input. As
 * with mod_php (and unlike the FastCGI gateway, which spools it to count it), a chunked
 * body has no CONTENT_LENGTH. */
START_TEST(post_fields_and_php_input_reach_the_script)
{
    pth_write_file(h, "up.php", md5_php, sizeof(md5_php) - 1);
    start_php(NULL);
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, "POST", "/up.php", hdrs, "field=abc&x=1", 13, &r), 0);
    ck_assert_int_eq(r.status, 200);
    /* md5("field=abc&x=1") */
    ck_assert_msg(strstr(r.body, "field=abc\ninput=2f871f754120a255eba87269c2f49331 13\n"),
                  "%s", r.body);
    pth_resp_free(&r);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /up.php HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    /* md5("hello world") */
    ck_assert_msg(strstr(r.body, "input=5eb63bbbe01eeed093cb22bb8f5acdc3 -\n") != NULL, "%s",
                  r.body);
    pth_resp_free(&r);
    pth_conn_close(c);
}
END_TEST

/* Read into one preallocated buffer (ASan's realloc always moves); HTTP/1.0 ends the body
 * at the close. */
static char *get_big(pth_t *hh, const char *path, size_t cap, size_t *len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)hh->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    struct timeval tv = {.tv_sec = 20};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    char *buf = malloc(cap);
    size_t got = 0;
    ssize_t k;
    while (got < cap && (k = read(fd, buf + got, cap - got)) > 0)
        got += (size_t)k;
    close(fd);
    *len = got;
    return buf;
}

START_TEST(a_32_mib_response_arrives_intact)
{
    pth_write_file(h, "big.php", big_php, sizeof(big_php) - 1);
    start_php(NULL);
    size_t len = 0;
    char *buf = get_big(h, "/big.php", (40u << 20), &len);
    char *body = memmem(buf, len, "\r\n\r\n", 4);
    ck_assert_ptr_nonnull(body);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.60s", buf);
    body += 4;
    ck_assert_uint_eq(len - (size_t)(body - buf), 32u << 20);
    for (int i = 0; i < 32 * 1024; i++) {
        char want[9];
        snprintf(want, sizeof(want), "%08d", i);
        pth_assert_msg(memcmp(body + (size_t)i * 1024, want, 8) == 0, "block %d", i);
        pth_assert(body[(size_t)i * 1024 + 1023] == '.');
    }
    free(buf);
}
END_TEST

START_TEST(status_redirects_and_three_cookies_come_from_php)
{
    pth_write_file(h, "nf.php", nf_php, sizeof(nf_php) - 1);
    pth_write_file(h, "go.php", go_php, sizeof(go_php) - 1);
    pth_write_file(h, "perm.php", perm_php, sizeof(perm_php) - 1);
    pth_write_file(h, "cookies.php", cookies_php, sizeof(cookies_php) - 1);
    pth_write_filef(h, "echo.php", "<?php echo 'c=', $_COOKIE['c'] ?? '-', "
                                   "' d=', $_COOKIE['d'] ?? '-';");
    start_php(NULL);
    pth_resp_t r;
    pth_get(h, "/nf.php", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "not here");
    pth_resp_free(&r);
    pth_get(h, "/go.php", NULL, &r);
    ck_assert_int_eq(r.status, 302);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "/elsewhere");
    pth_resp_free(&r);
    pth_get(h, "/perm.php", NULL, &r);
    ck_assert_int_eq(r.status, 301);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "http://example.com/x");
    pth_resp_free(&r);
    /* HEAD: the fields, no body, and no "Content-Length: 0" for a page that has one. */
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "HEAD /cookies.php HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(pth_conn_read_response(c, &r, true, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(pth_resp_header_count(&r, "Set-Cookie"), 3);
    ck_assert_ptr_null(pth_resp_header(&r, "Content-Length"));
    pth_resp_free(&r);
    pth_conn_close(c);
    pth_get(h, "/cookies.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(pth_resp_header_count(&r, "Set-Cookie"), 3);
    const char *want[] = {"a=1", "b=2", "c=3"};
    size_t k = 0;
    for (size_t i = 0; i < r.nheaders; i++)
        if (strcasecmp(r.headers[i].name, "Set-Cookie") == 0)
            ck_assert_str_eq(r.headers[i].value, want[k++]);
    pth_resp_free(&r);
    const char *cookie[] = {"Cookie: c=3; d=four", NULL};
    pth_get(h, "/echo.php", cookie, &r);
    ck_assert_str_eq(r.body, "c=3 d=four");
    pth_resp_free(&r);
}
END_TEST

START_TEST(flushed_output_reaches_the_client_before_the_script_ends)
{
    pth_write_file(h, "sse.php", sse_php, sizeof(sse_php) - 1);
    start_php(NULL);
    pth_conn_t *c = pth_conn_open(h);
    int64_t t0 = pth_now_ms();
    pth_conn_sendf(c, "GET /sse.php HTTP/1.1\r\nHost: x\r\n\r\n");
    int64_t first = -1;
    while (pth_now_ms() - t0 < 5000) {
        pth_conn_read_until(c, c->len + 1, 100);
        char *got = strndup(c->buf ? c->buf : "", c->len);
        bool has_first = strstr(got, "data: first") != NULL;
        bool has_second = strstr(got, "data: second") != NULL;
        free(got);
        if (has_first && first < 0)
            first = pth_now_ms() - t0;
        if (has_second)
            break;
    }
    int64_t total = pth_now_ms() - t0;
    ck_assert_int_ge(first, 0);
    ck_assert_msg(first < 1000, "first part after %lld ms", (long long)first);
    ck_assert_msg(total >= 1900, "whole answer after %lld ms", (long long)total);
    pth_conn_close(c);
}
END_TEST

/* A fatal error ends the request with what PHP made of it, not the child: a 500 when nothing
 * had gone out (output_buffering is 0 here, so PHP's headers leave with the first echo),
 * else the output so far; the message is in portico's error log with the client. The next
 * request is served by the same child. */
START_TEST(a_fatal_error_ends_the_request_not_the_child)
{
    pth_write_filef(h, "fatal.php", "<?php undefined_fn();");
    pth_write_filef(h, "late.php", "<?php echo 'before ', getmypid(); undefined_fn();"
                                   " echo 'after';");
    pth_write_filef(h, "pid.php", "<?php echo getmypid();");
    pth_expect_error(h, "PHP Fatal error: +Uncaught Error: Call to undefined function "
                        "undefined_fn\\(\\)");
    pth_expect_error(h, "PHP Stack trace|PHP +[0-9]+\\. |thrown in");
    start_php("MaxSpareServers 1\nMinSpareServers 1\nStartServers 1\n");
    pth_resp_t r;
    pth_get(h, "/fatal.php", NULL, &r);
    ck_assert_int_eq(r.status, 500);
    ck_assert_str_eq(r.body, "");
    pth_resp_free(&r);
    pth_get(h, "/late.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strncmp(r.body, "before ", 7) == 0 && !strstr(r.body, "after"), "%s",
                  r.body);
    char pid[32];
    snprintf(pid, sizeof(pid), "%s", r.body + 7);
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "PHP Fatal error:  Uncaught Error: Call "
                                                   "to undefined function undefined_fn()",
                                     3000));
    ck_assert(pth_file_wait_contains(h->error_log, "[client 127.0.0.1:", 3000));
    /* Same child (one only), still alive and serving. */
    pth_get(h, "/pid.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, pid);
    pth_resp_free(&r);
}
END_TEST

/* As through the FastCGI gateway: FallbackResource routes a front controller (a missing .php
 * too), DirectoryIndex finds index.php, and a missing script without them is a 404. */
START_TEST(fallback_resource_and_directory_index_route_to_php)
{
    pth_write_file(h, "index.php", vars_php, sizeof(vars_php) - 1);
    pth_write_file(h, "app/index.php", vars_php, sizeof(vars_php) - 1);
    pth_write_filef(h, "style.css", "body{}");
    start_php("DirectoryIndex index.php\n"
              "<Directory @DOCROOT@/app>\n  FallbackResource /app/index.php\n</Directory>\n");
    pth_resp_t r;
    pth_get(h, "/app/blog/2024/hello?q=1", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ASSERT_VAR(r.body, "SCRIPT_NAME", "/app/index.php");
    ASSERT_VAR(r.body, "REQUEST_URI", "/app/blog/2024/hello?q=1");
    ASSERT_VAR(r.body, "GET_q", "1");
    pth_resp_free(&r);
    pth_get(h, "/app/missing.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ASSERT_VAR(r.body, "SCRIPT_NAME", "/app/index.php");
    pth_resp_free(&r);
    pth_get(h, "/", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ASSERT_VAR(r.body, "SCRIPT_NAME", "/index.php");
    pth_resp_free(&r);
    pth_get(h, "/style.css", NULL, &r);
    ck_assert_str_eq(r.body, "body{}");
    pth_resp_free(&r);
    pth_get(h, "/nothere.php", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "<title>404 Not Found</title>"));
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "script not found or unable to stat", 3000));
}
END_TEST

START_TEST(exit_ends_the_script_with_what_it_sent)
{
    pth_write_filef(h, "exit.php", "<?php http_response_code(202); echo 'x'; exit(3);"
                                   " echo 'y';");
    pth_write_filef(h, "die.php", "<?php header('X-Before: 1'); die('bye'); echo 'no';");
    start_php(NULL);
    pth_resp_t r;
    pth_get(h, "/exit.php", NULL, &r);
    ck_assert_int_eq(r.status, 202);
    ck_assert_str_eq(r.body, "x");
    pth_resp_free(&r);
    pth_get(h, "/die.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "X-Before"), "1");
    ck_assert_str_eq(r.body, "bye");
    pth_resp_free(&r);
}
END_TEST

/* A child that crashes in the middle of a script (SIGSEGV, sent from here to the pid the
 * script reported: nothing PHP offers without its posix extension crashes on purpose) closes
 * that connection, which the client sees at once rather than waiting; the parent logs it and
 * starts another child, which serves the next request. */
START_TEST(a_child_that_crashes_in_php_is_replaced_and_the_client_is_not_left_hanging)
{
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    /* ASan would take the SIGSEGV for its own and report it: let it kill the child. */
    const char *was = getenv("ASAN_OPTIONS");
    char opts[512];
    snprintf(opts, sizeof(opts), "%s%shandle_segv=0", was ? was : "", was ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    pth_write_filef(h, "crash.php", "<?php echo 'pid=', getmypid(), \"\\n\"; flush();"
                                    " sleep(10); echo 'never';");
    pth_write_filef(h, "pid.php", "<?php echo getmypid();");
    pth_expect_error(h, "child pid [0-9]+ exit signal Segmentation fault \\(11\\); starting "
                        "a replacement");
    start_php("MaxSpareServers 1\nMinSpareServers 1\nStartServers 1\n");
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "GET /crash.php HTTP/1.1\r\nHost: x\r\n\r\n");
    int64_t t0 = pth_now_ms();
    long pid = 0;
    while (pid == 0 && pth_now_ms() - t0 < 5000) {
        pth_conn_read_until(c, c->len + 1, 100);
        char *got = strndup(c->buf ? c->buf : "", c->len);
        char *p = strstr(got, "pid=");
        if (p && strchr(p, '\n'))
            pid = atol(p + 4);
        free(got);
    }
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(kill((pid_t)pid, SIGSEGV), 0);
    int64_t t1 = pth_now_ms();
    ck_assert(pth_conn_wait_closed(c, 3000));
    ck_assert_msg(pth_now_ms() - t1 < 3000, "closed after %lld ms",
                  (long long)(pth_now_ms() - t1));
    pth_conn_close(c);
    ck_assert(pth_file_wait_contains(h->error_log, "starting a replacement", 5000));
    pth_resp_t r;
    pth_get(h, "/pid.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_gt(atoi(r.body), 0);
    ck_assert_int_ne(atoi(r.body), (int)pid);
    pth_resp_free(&r);
}
END_TEST

/* MaxConnectionsPerChild 2 with one child: every third connection meets a new process. */
START_TEST(max_connections_per_child_recycles_php_children)
{
    pth_write_filef(h, "pid.php", "<?php echo getmypid();");
    start_php("MaxSpareServers 1\nMinSpareServers 1\nStartServers 1\n"
              "MaxConnectionsPerChild 2\n");
    int pids[6];
    for (int i = 0; i < 6; i++) {
        pth_resp_t r;
        pth_get(h, "/pid.php", NULL, &r);
        ck_assert_int_eq(r.status, 200);
        pids[i] = atoi(r.body);
        pth_resp_free(&r);
    }
    int distinct = 0;
    for (int i = 0; i < 6; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen = seen || pids[j] == pids[i];
        distinct += !seen;
    }
    ck_assert_msg(distinct >= 3, "6 connections met %d processes", distinct);
}
END_TEST

/* php_value / php_flag per directory (inner wins), php_admin_value standing against an
 * inner php_value, a value PHP refuses logged with its file:line, PHPIniDir's php.ini. */
START_TEST(php_value_flag_and_admin_value_apply_per_directory)
{
    static const char ini_php[] =
        "<?php foreach (['precision','memory_limit','default_charset','short_open_tag',"
        "'max_input_vars'] as $k) echo $k, '=', ini_get($k), \"\\n\";";
    pth_write_file(h, "ini.php", ini_php, sizeof(ini_php) - 1);
    pth_write_file(h, "sub/ini.php", ini_php, sizeof(ini_php) - 1);
    pth_expect_error(h, "PHP refused");
    start_php("MaxSpareServers 1\nMinSpareServers 1\nStartServers 1\n"
              "php_value memory_limit 64M\n"
              "php_admin_value max_input_vars 1234\n"
              "<Directory @DOCROOT@/sub>\n"
              "  php_value memory_limit 96M\n"
              "  php_value default_charset ISO-8859-1\n"
              "  php_flag short_open_tag On\n"
              "  php_value max_input_vars 10\n"
              "  php_value no_such_setting 1\n"
              "</Directory>\n");
    pth_resp_t r;
    pth_get(h, "/ini.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ASSERT_VAR(r.body, "precision", "11"); /* PHPIniDir's php.ini */
    ASSERT_VAR(r.body, "memory_limit", "64M");
    ASSERT_VAR(r.body, "default_charset", "UTF-8");
    ASSERT_VAR(r.body, "max_input_vars", "1234");
    pth_resp_free(&r);
    pth_get(h, "/sub/ini.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ASSERT_VAR(r.body, "memory_limit", "96M");
    ASSERT_VAR(r.body, "default_charset", "ISO-8859-1");
    ASSERT_VAR(r.body, "short_open_tag", "1");
    ASSERT_VAR(r.body, "max_input_vars", "1234"); /* the admin value stands */
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "PHP refused no_such_setting", 3000));
    /* The next request in the same (only) child starts from the configuration again. */
    pth_get(h, "/ini.php", NULL, &r);
    ASSERT_VAR(r.body, "memory_limit", "64M");
    pth_resp_free(&r);
}
END_TEST

START_TEST(php_warnings_go_to_portico_error_log_with_the_client)
{
    pth_write_filef(h, "warn.php", "<?php trigger_error('custom trouble', E_USER_WARNING);"
                                   " echo 'done';");
    start_php(NULL);
    pth_resp_t r;
    pth_get(h, "/warn.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "done");
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "PHP Warning:  custom trouble in ", 3000));
    char *log = pth_read_file(h->error_log, NULL);
    ck_assert_msg(strstr(log, ":warn] [pid ") && strstr(log, "[client 127.0.0.1:"), "%s", log);
    free(log);
}
END_TEST

/* PHP_SAPI is portico's own name, and opcache (php8.2-opcache, which lists the SAPIs it
 * starts under) caches scripts all the same. */
START_TEST(php_sapi_is_portico_and_opcache_runs)
{
    ck_assert_msg(access("/etc/php/8.2/embed/conf.d/10-opcache.ini", R_OK) == 0,
                  "php8.2-opcache is not enabled for libphp8.2-embed");
    pth_write_filef(h, "op.php", "<?php $s = opcache_get_status(false);"
                                 " echo PHP_SAPI, ' ', php_sapi_name(), ' ',"
                                 " $s && $s['opcache_enabled'] ? 'cached' : 'uncached';");
    start_php(NULL);
    pth_resp_t r;
    pth_get(h, "/op.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "portico portico cached");
    pth_resp_free(&r);
}
END_TEST

START_TEST(https_is_on_for_a_script_served_over_tls)
{
    pth_write_file(h, "vars.php", vars_php, sizeof(vars_php) - 1);
    pth_write_dir_file(h, "phpini/php.ini", php_ini, sizeof(php_ini) - 1);
    pth_config_raw(h, "MPM prefork\nListen 127.0.0.1:@PORT@ https\nServerName localhost\n"
                      "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
                      "DocumentRoot @DOCROOT@\n<Directory @DOCROOT@>\nRequire all granted\n"
                      "</Directory>\nSSLEngine on\nSSLCertificateFile %s\n"
                      "SSLCertificateKeyFile %s\n" PHP_CONF,
                   pth_tls_file("a.test.rsa.pem"), pth_tls_file("a.test.rsa.key"),
                   module_path());
    pth_start(h);
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/vars.php"};
    pth_resp_t r;
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ASSERT_VAR(r.body, "HTTPS", "on");
    ASSERT_VAR(r.body, "REQUEST_SCHEME", "https");
    pth_resp_free(&r);
}
END_TEST

/* Debian's DokuWiki under an Alias, with the system's php.ini (no PHPIniDir). */
START_TEST(dokuwiki_serves_its_start_page_through_the_module)
{
    ck_assert_msg(access(DOKUWIKI "/doku.php", R_OK) == 0,
                  "DokuWiki is not installed (apt-get install dokuwiki)");
    pth_config(h, "LoadModule php_module %s\n"
                  "<FilesMatch \\.php$>\n  SetHandler application/x-httpd-php\n</FilesMatch>\n"
                  "Alias /dokuwiki " DOKUWIKI "\n<Directory " DOKUWIKI ">\n"
                  "  Require all granted\n  DirectoryIndex doku.php\n</Directory>\n",
                  module_path());
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/dokuwiki/doku.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "text/html; charset=utf-8");
    ck_assert_msg(strstr(r.body, "<title>start [") != NULL, "%.300s", r.body);
    ck_assert_msg(strstr(r.body, "DokuWiki") != NULL, "%.300s", r.body);
    pth_resp_free(&r);
    pth_get(h, "/dokuwiki/", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "<title>start [") != NULL, "%.300s", r.body);
    pth_resp_free(&r);
    pth_get(h, "/dokuwiki/lib/exe/css.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strncmp(pth_resp_header(&r, "Content-Type"), "text/css", 8) == 0, "%s",
                  pth_resp_header(&r, "Content-Type"));
    pth_resp_free(&r);
}
END_TEST

/* Under event and worker `portico -t` refuses the config at the LoadModule line, naming
 * prefork and why (libphp without thread safety). */
static void refused_under(const char *mpm)
{
    pth_config_raw(h, "MPM %s\nListen 127.0.0.1:@PORT@\nErrorLog @DIR@/error.log\n"
                      "PidFile @DIR@/portico.pid\nDocumentRoot @DOCROOT@\n"
                      "LoadModule php_module %s\n",
                   mpm, module_path());
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(r.code == 1, "exit %d, stderr: %s", r.code, r.err);
    char want[1200];
    snprintf(want, sizeof(want), "%s:6: module php_module (%s) is not thread-safe and cannot "
             "run under MPM %s", h->conf, module_path(), mpm);
    ck_assert_msg(strstr(r.err, want) != NULL, "want \"%s\" in: %s", want, r.err);
    ck_assert_msg(strstr(r.err, "use MPM prefork (libphp is built without thread safety"),
                  "stderr: %s", r.err);
    pth_run_free(&r);
}

START_TEST(event_and_worker_refuse_the_module_naming_prefork)
{
    refused_under("event");
    refused_under("worker");
}
END_TEST

START_TEST(a_php_directive_without_the_module_is_an_invalid_command)
{
    pth_config_raw(h, "MPM prefork\nListen 127.0.0.1:@PORT@\nErrorLog @DIR@/error.log\n"
                      "PidFile @DIR@/portico.pid\nDocumentRoot @DOCROOT@\n"
                      "php_value memory_limit 1M\n");
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(r.code == 1, "exit %d, stderr: %s", r.code, r.err);
    char want[600];
    snprintf(want, sizeof(want), "%s:6: Invalid command 'php_value'", h->conf);
    ck_assert_msg(strstr(r.err, want) != NULL, "want \"%s\" in: %s", want, r.err);
    pth_run_free(&r);
}
END_TEST

static Suite *php_suite(void)
{
    Suite *s = suite_create("php_module");
    TCase *tc = tcase_create("inprocess");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_cgi_variable_reaches_php_as_through_fastcgi);
    tcase_add_test(tc, a_10_mib_multipart_upload_arrives_intact);
    tcase_add_test(tc, an_upload_over_limit_request_body_is_a_413);
    tcase_add_test(tc, post_fields_and_php_input_reach_the_script);
    tcase_add_test(tc, a_32_mib_response_arrives_intact);
    tcase_add_test(tc, status_redirects_and_three_cookies_come_from_php);
    tcase_add_test(tc, flushed_output_reaches_the_client_before_the_script_ends);
    tcase_add_test(tc, a_fatal_error_ends_the_request_not_the_child);
    tcase_add_test(tc, fallback_resource_and_directory_index_route_to_php);
    tcase_add_test(tc, exit_ends_the_script_with_what_it_sent);
    tcase_add_test(tc, a_child_that_crashes_in_php_is_replaced_and_the_client_is_not_left_hanging);
    tcase_add_test(tc, max_connections_per_child_recycles_php_children);
    tcase_add_test(tc, php_value_flag_and_admin_value_apply_per_directory);
    tcase_add_test(tc, php_warnings_go_to_portico_error_log_with_the_client);
    if (!asan) /* no shared extension under ASan: see php_under_asan */
        tcase_add_test(tc, php_sapi_is_portico_and_opcache_runs);
    tcase_add_test(tc, https_is_on_for_a_script_served_over_tls);
    tcase_add_test(tc, dokuwiki_serves_its_start_page_through_the_module);
    tcase_add_test(tc, event_and_worker_refuse_the_module_naming_prefork);
    tcase_add_test(tc, a_php_directive_without_the_module_is_an_invalid_command);
    suite_add_tcase(s, tc);
    return s;
}

/* Whether the binary under test is an ASan build ("Sanitizers: address,..." in -V). */
static bool under_asan(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "%s -V 2>&1", pth_bin());
    FILE *p = popen(cmd, "r");
    bool yes = false;
    char line[256];
    while (p && fgets(line, sizeof(line), p))
        yes = yes || (strncmp(line, "Sanitizers:", 11) == 0 && strstr(line, "address"));
    if (p)
        pclose(p);
    return yes;
}

/* Under ASan: PHP opens its shared extensions (conf.d: opcache, dom, ...) with
 * RTLD_DEEPBIND, which the ASan runtime refuses (it ends the process), so the servers of an
 * ASan run read no scan directory; and libphp's start-up allocations, which it keeps for the
 * life of the child, are suppressed for LeakSanitizer by modules/php/libphp.lsan.supp (libphp
 * frames only: none of portico's or the module's). */
static void php_under_asan(void)
{
    setenv("PHP_INI_SCAN_DIR", "", 1);
    const char *src = getenv("PORTICO_SOURCE_DIR");
    const char *was = getenv("LSAN_OPTIONS");
    char opts[1024];
    snprintf(opts, sizeof(opts), "%s%ssuppressions=%s/modules/php/libphp.lsan.supp",
             was ? was : "", was ? ":" : "", src ? src : ".");
    setenv("LSAN_OPTIONS", opts, 1);
}

int main(void)
{
    pth_tls_pki();
    asan = under_asan();
    if (asan)
        php_under_asan();
    SRunner *sr = srunner_create(php_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
