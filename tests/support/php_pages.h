/* The PHP test pages that the FastCGI suite (test_fcgi.c, through php-fpm) and the
 * in-process suites (test_php_module*.c, through modules/php) both serve, so that the two
 * gateways are held to the same answers, and the checks both make of their answers
 * (php_pages.c). The pages are static arrays here, so that sizeof gives their length. */
#ifndef PTH_PHP_PAGES_H
#define PTH_PHP_PAGES_H

#include "harness.h"

#include <stdbool.h>
#include <stddef.h>

/* A page: unused in a file that includes this header for its functions only. */
#define PTH_PAGE static const char __attribute__((unused))

/* Prints "NAME=value" lines of $_SERVER (and $_GET['q'], PHP_SELF). */
PTH_PAGE vars_php[] =
    "<?php\nheader('Content-Type: text/plain');\n"
    "foreach (['SCRIPT_FILENAME','SCRIPT_NAME','PATH_INFO','PATH_TRANSLATED','QUERY_STRING',"
    "'REQUEST_URI','DOCUMENT_ROOT','REQUEST_METHOD','REQUEST_SCHEME','CONTENT_TYPE',"
    "'CONTENT_LENGTH','SERVER_NAME','SERVER_PORT','SERVER_ADDR','SERVER_PROTOCOL',"
    "'SERVER_SOFTWARE','REMOTE_ADDR','REMOTE_PORT','GATEWAY_INTERFACE','HTTPS',"
    "'REDIRECT_STATUS','HTTP_X_CUSTOM','HTTP_PROXY','HTTP_HOST','MY_ENV'] as $k)\n"
    "  echo $k, '=', isset($_SERVER[$k]) ? $_SERVER[$k] : '(unset)', \"\\n\";\n"
    "echo 'GET_q=', isset($_GET['q']) ? $_GET['q'] : '(unset)', \"\\n\";\n"
    "echo 'PHP_SELF=', $_SERVER['PHP_SELF'], \"\\n\";\n";

/* Each upload's error, size and md5, the "field" form field, and md5 of php://input. */
PTH_PAGE md5_php[] =
    "<?php\nheader('Content-Type: text/plain');\n"
    "foreach ($_FILES as $k => $f) echo $k, ' ', $f['error'], ' ', $f['size'], ' ',"
    " md5_file($f['tmp_name']), \"\\n\";\n"
    "echo 'field=', isset($_POST['field']) ? $_POST['field'] : '', \"\\n\";\n"
    "echo 'input=', md5(file_get_contents('php://input')), ' ',"
    " isset($_SERVER['CONTENT_LENGTH']) ? $_SERVER['CONTENT_LENGTH'] : '-', \"\\n\";\n";

/* 32 MiB: 32768 blocks of 1024 bytes, each starting with its number in 8 digits. */
PTH_PAGE big_php[] =
    "<?php\nheader('Content-Type: application/octet-stream');\n"
    "for ($i = 0; $i < 32 * 1024; $i++) echo str_pad(sprintf('%08d', $i), 1024, '.');\n";

/* A first event, flush(), two seconds, a second event. */
PTH_PAGE sse_php[] =
    "<?php header('Content-Type: text/event-stream');"
    " echo \"data: first\\n\\n\"; flush(); sleep(2);"
    " echo \"data: second\\n\\n\";";

/* Status, redirects and cookies. */
PTH_PAGE nf_php[] = "<?php http_response_code(404); echo 'not here';";
PTH_PAGE go_php[] = "<?php header('Location: /elsewhere');";
PTH_PAGE perm_php[] = "<?php header('Location: http://example.com/x', true, 301);";
PTH_PAGE cookies_php[] = "<?php setcookie('a', '1'); setcookie('b', '2');"
                         " setcookie('c', '3'); echo 'ok';";

/* ---- Checks of the answers (php_pages.c) --------------------------------------------- */

/* The value of a "NAME=value" line in a body (malloc'd), "(missing)" when there is none. */
char *pth_php_var(const char *body, const char *name);
#define PTH_ASSERT_VAR(body, name, want)                                               \
    do {                                                                               \
        char *v_ = pth_php_var(body, name);                                            \
        ck_assert_msg(strcmp(v_, want) == 0, "%s=%s, want %s", name, v_, want);       \
        free(v_);                                                                      \
    } while (0)

/* GETs /vars.php/extra/path?q=a%20b%26c&z=%C3%A9 (vars_php, written by the caller, with
 * "SetEnv MY_ENV from-setenv" in the config) with X-Custom and Proxy fields, and checks
 * every CGI variable. */
void pth_php_check_vars(pth_t *h);
/* A 10 MiB multipart/form-data body (boundary XyZbound) with a field "field"=value and a
 * file "f" (written to DIR/upload.bin too); *want is md5_php's line for the file ("f 0
 * SIZE MD5\n", the md5 from php-cli). Both malloc'd. */
char *pth_php_upload_body(pth_t *h, size_t *len, char **want);
/* GETs /big.php (big_php) with HTTP/1.0 and checks the 32 MiB, block by block. */
void pth_php_check_big(pth_t *h);
/* GETs /sse.php (sse_php): the first event arrives within a second, the whole after two. */
void pth_php_check_flush(pth_t *h);
/* GETs /nf.php, /go.php and /perm.php (nf_php, go_php, perm_php): 404, 302, 301. */
void pth_php_check_status_and_redirects(pth_t *h);
/* GETs /cookies.php (cookies_php): three Set-Cookie fields in order. */
void pth_php_check_cookies(pth_t *h);

/* ---- The in-process module (modules/php) -------------------------------------------- */

/* The module next to the binary under test: BUILD/modules/php/php_module.so. */
const char *pth_php_module_path(void);
/* The tests' own php.ini (PHPIniDir @DIR@/phpini), as the FastCGI suite's pool is set up. */
extern const char pth_php_ini[];
/* The usual mod_php block, with PHPIniDir; the module's path is the format's %s. */
#define PTH_PHP_CONF                                                                   \
    "LoadModule php_module %s\n"                                                       \
    "PHPIniDir @DIR@/phpini\n"                                                         \
    "<FilesMatch \\.php$>\n"                                                           \
    "    SetHandler application/x-httpd-php\n"                                         \
    "</FilesMatch>\n"
/* Writes DIR/phpini/php.ini, configures PTH_PHP_CONF and extra (may be NULL), starts. */
void pth_php_start(pth_t *h, const char *extra);
/* For main(): whether the binary under test is an ASan build, and if so the environment
 * its servers need for PHP (no scan directory: PHP's shared extensions are opened with
 * RTLD_DEEPBIND, which the ASan runtime refuses; libphp's start-up allocations suppressed
 * for LeakSanitizer by modules/php/libphp.lsan.supp). */
bool pth_php_asan_setup(void);

#endif
