/* PHP in-process (modules/php, LoadModule php_module) under MPM prefork: the PHP test pages
 * of the FastCGI suite (tests/support/php_pages.h) give the same answers without php-fpm
 * (CGI variables and PATH_INFO, uploads, php://input, cookies, status and redirects, 32 MiB,
 * flush() streaming); LimitRequestBody, a fatal error, exit(), MaxConnectionsPerChild,
 * php_value and friends per directory and in .htaccess, PHPIniDir, PHP's error log in
 * portico's, HTTPS over TLS, and DokuWiki (Debian's package) under an Alias. MPM event and
 * worker refuse the module at start-up (tested from the prefork run: the configs name their
 * MPM). A crash in PHP: test_php_module_crash.c. */
/* mpms: prefork */
#include "harness.h"
#include "php_pages.h"
#include "tls_client.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void start_php(const char *extra)
{
    pth_php_start(h, extra);
}

START_TEST(every_cgi_variable_reaches_php_as_through_fastcgi)
{
    pth_write_file(h, "vars.php", vars_php, sizeof(vars_php) - 1);
    start_php("SetEnv MY_ENV from-setenv\n");
    pth_php_check_vars(h);
}
END_TEST

/* The 10 MiB upload of the FastCGI suite; php_admin_value raises PHP's limits for it. */
START_TEST(a_10_mib_multipart_upload_arrives_intact)
{
    pth_write_file(h, "up.php", md5_php, sizeof(md5_php) - 1);
    size_t bl;
    char *want;
    char *body = pth_php_upload_body(h, &bl, &want);
    start_php("php_admin_value upload_max_filesize 64M\n"
              "php_admin_value post_max_size 64M\n");
    const char *hdrs[] = {"Content-Type: multipart/form-data; boundary=XyZbound", NULL};
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, "POST", "/up.php", hdrs, body, bl, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, want) != NULL, "%s (want %s)", r.body, want);
    ck_assert_msg(strstr(r.body, "field=value\n") != NULL, "%s", r.body);
    pth_resp_free(&r);
    free(body);
    free(want);
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

START_TEST(a_32_mib_response_arrives_intact)
{
    pth_write_file(h, "big.php", big_php, sizeof(big_php) - 1);
    start_php(NULL);
    pth_php_check_big(h);
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
    pth_php_check_status_and_redirects(h);
    pth_resp_t r;
    /* HEAD: the fields, no body, and no "Content-Length: 0" for a page that has one. */
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "HEAD /cookies.php HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(pth_conn_read_response(c, &r, true, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(pth_resp_header_count(&r, "Set-Cookie"), 3);
    ck_assert_ptr_null(pth_resp_header(&r, "Content-Length"));
    pth_resp_free(&r);
    pth_conn_close(c);
    pth_php_check_cookies(h);
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
    pth_php_check_flush(h);
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
    PTH_ASSERT_VAR(r.body, "SCRIPT_NAME", "/app/index.php");
    PTH_ASSERT_VAR(r.body, "REQUEST_URI", "/app/blog/2024/hello?q=1");
    PTH_ASSERT_VAR(r.body, "GET_q", "1");
    pth_resp_free(&r);
    pth_get(h, "/app/missing.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "SCRIPT_NAME", "/app/index.php");
    pth_resp_free(&r);
    pth_get(h, "/", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "SCRIPT_NAME", "/index.php");
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
    PTH_ASSERT_VAR(r.body, "precision", "11"); /* PHPIniDir's php.ini */
    PTH_ASSERT_VAR(r.body, "memory_limit", "64M");
    PTH_ASSERT_VAR(r.body, "default_charset", "UTF-8");
    PTH_ASSERT_VAR(r.body, "max_input_vars", "1234");
    pth_resp_free(&r);
    pth_get(h, "/sub/ini.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "memory_limit", "96M");
    PTH_ASSERT_VAR(r.body, "default_charset", "ISO-8859-1");
    PTH_ASSERT_VAR(r.body, "short_open_tag", "1");
    PTH_ASSERT_VAR(r.body, "max_input_vars", "1234"); /* the admin value stands */
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "PHP refused no_such_setting", 3000));
    /* The next request in the same (only) child starts from the configuration again. */
    pth_get(h, "/ini.php", NULL, &r);
    PTH_ASSERT_VAR(r.body, "memory_limit", "64M");
    pth_resp_free(&r);
}
END_TEST

/* .htaccess as mod_php reads it: php_value and php_flag are OR_OPTIONS (AllowOverride
 * Options or All, or AllowOverrideList naming them), and PHP hears they come from .htaccess
 * (PHP_INI_STAGE_HTACCESS: mail.force_extra_parameters is refused there and taken in a
 * <Directory>); php_admin_value is never allowed there: 500 with the file and line. */
START_TEST(php_value_and_php_flag_in_htaccess_follow_allowoverride_options)
{
    static const char ini_php[] =
        "<?php foreach (['memory_limit','short_open_tag','mail.force_extra_parameters'] as $k)"
        " echo $k, '=', ini_get($k), \"\\n\";";
    static const char ht[] = "php_value memory_limit 77M\nphp_flag short_open_tag On\n"
                             "php_value mail.force_extra_parameters -fhtaccess\n";
    const char *dirs[] = {"opt", "all", "info", "list", "admin", "conf"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "%s/ini.php", dirs[i]);
        pth_write_file(h, rel, ini_php, sizeof(ini_php) - 1);
        snprintf(rel, sizeof(rel), "%s/.htaccess", dirs[i]);
        if (strcmp(dirs[i], "admin") == 0)
            pth_write_filef(h, rel, "php_admin_value memory_limit 1M\n");
        else if (strcmp(dirs[i], "list") == 0)
            pth_write_filef(h, rel, "php_value memory_limit 88M\n");
        else if (strcmp(dirs[i], "conf") != 0)
            pth_write_file(h, rel, ht, sizeof(ht) - 1);
    }
    pth_expect_error(h, "\\.htaccess:[0-9]: (php_value|php_admin_value) not allowed here");
    pth_expect_error(h, "PHP refused mail.force_extra_parameters");
    start_php("<Directory @DOCROOT@/opt>\n  AllowOverride Options\n</Directory>\n"
              "<Directory @DOCROOT@/all>\n  AllowOverride All\n</Directory>\n"
              "<Directory @DOCROOT@/info>\n  AllowOverride FileInfo AuthConfig\n</Directory>\n"
              "<Directory @DOCROOT@/list>\n  AllowOverride None\n"
              "  AllowOverrideList php_value\n</Directory>\n"
              "<Directory @DOCROOT@/admin>\n  AllowOverride All\n</Directory>\n"
              "<Directory @DOCROOT@/conf>\n"
              "  php_value mail.force_extra_parameters -fconf\n</Directory>\n");
    pth_resp_t r;
    for (int i = 0; i < 2; i++) {
        pth_get(h, i ? "/all/ini.php" : "/opt/ini.php", NULL, &r);
        ck_assert_int_eq(r.status, 200);
        PTH_ASSERT_VAR(r.body, "memory_limit", "77M");
        PTH_ASSERT_VAR(r.body, "short_open_tag", "1");
        PTH_ASSERT_VAR(r.body, "mail.force_extra_parameters", "");
        pth_resp_free(&r);
    }
    ck_assert(pth_file_wait_contains(h->error_log, "opt/.htaccess:3: PHP refused "
                                                   "mail.force_extra_parameters", 3000));
    pth_get(h, "/conf/ini.php", NULL, &r);
    PTH_ASSERT_VAR(r.body, "mail.force_extra_parameters", "-fconf");
    pth_resp_free(&r);
    pth_get(h, "/list/ini.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "memory_limit", "88M");
    pth_resp_free(&r);
    pth_get(h, "/info/ini.php", NULL, &r);
    ck_assert_int_eq(r.status, 500);
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "info/.htaccess:1: php_value not allowed "
                                                   "here", 3000));
    pth_get(h, "/admin/ini.php", NULL, &r);
    ck_assert_int_eq(r.status, 500);
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "admin/.htaccess:1: php_admin_value not "
                                                   "allowed here", 3000));
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
    pth_write_dir_file(h, "phpini/php.ini", pth_php_ini, strlen(pth_php_ini));
    pth_config_raw(h, "MPM prefork\nListen 127.0.0.1:@PORT@ https\nServerName localhost\n"
                      "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
                      "DocumentRoot @DOCROOT@\n<Directory @DOCROOT@>\nRequire all granted\n"
                      "</Directory>\nSSLEngine on\nSSLCertificateFile %s\n"
                      "SSLCertificateKeyFile %s\n" PTH_PHP_CONF,
                   pth_tls_file("a.test.rsa.pem"), pth_tls_file("a.test.rsa.key"),
                   pth_php_module_path());
    pth_start(h);
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/vars.php"};
    pth_resp_t r;
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    PTH_ASSERT_VAR(r.body, "HTTPS", "on");
    PTH_ASSERT_VAR(r.body, "REQUEST_SCHEME", "https");
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
                  pth_php_module_path());
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
                   mpm, pth_php_module_path());
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(r.code == 1, "exit %d, stderr: %s", r.code, r.err);
    char want[1200];
    snprintf(want, sizeof(want), "%s:6: module php_module (%s) is not thread-safe and cannot "
             "run under MPM %s", h->conf, pth_php_module_path(), mpm);
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
    tcase_add_test(tc, max_connections_per_child_recycles_php_children);
    tcase_add_test(tc, php_value_flag_and_admin_value_apply_per_directory);
    tcase_add_test(tc, php_value_and_php_flag_in_htaccess_follow_allowoverride_options);
    tcase_add_test(tc, php_warnings_go_to_portico_error_log_with_the_client);
    if (!asan) /* no shared extension under ASan: see pth_php_asan_setup */
        tcase_add_test(tc, php_sapi_is_portico_and_opcache_runs);
    tcase_add_test(tc, https_is_on_for_a_script_served_over_tls);
    tcase_add_test(tc, dokuwiki_serves_its_start_page_through_the_module);
    tcase_add_test(tc, event_and_worker_refuse_the_module_naming_prefork);
    tcase_add_test(tc, a_php_directive_without_the_module_is_an_invalid_command);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    pth_tls_pki();
    asan = pth_php_asan_setup();
    SRunner *sr = srunner_create(php_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
