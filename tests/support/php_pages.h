/* The PHP test pages that the FastCGI suite (test_fcgi.c, through php-fpm) and the
 * in-process suite (test_php_module.c, through modules/php) both serve, so that the two
 * gateways are held to the same answers. */
#ifndef PTH_PHP_PAGES_H
#define PTH_PHP_PAGES_H

/* Prints "NAME=value" lines of $_SERVER (and $_GET['q'], PHP_SELF). */
static const char vars_php[] =
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
static const char md5_php[] =
    "<?php\nheader('Content-Type: text/plain');\n"
    "foreach ($_FILES as $k => $f) echo $k, ' ', $f['error'], ' ', $f['size'], ' ',"
    " md5_file($f['tmp_name']), \"\\n\";\n"
    "echo 'field=', isset($_POST['field']) ? $_POST['field'] : '', \"\\n\";\n"
    "echo 'input=', md5(file_get_contents('php://input')), ' ',"
    " isset($_SERVER['CONTENT_LENGTH']) ? $_SERVER['CONTENT_LENGTH'] : '-', \"\\n\";\n";

/* 32 MiB: 32768 blocks of 1024 bytes, each starting with its number in 8 digits. */
static const char big_php[] =
    "<?php\nheader('Content-Type: application/octet-stream');\n"
    "for ($i = 0; $i < 32 * 1024; $i++) echo str_pad(sprintf('%08d', $i), 1024, '.');\n";

/* A first event, flush(), two seconds, a second event. */
static const char sse_php[] =
    "<?php header('Content-Type: text/event-stream');"
    " echo \"data: first\\n\\n\"; flush(); sleep(2);"
    " echo \"data: second\\n\\n\";";

/* Status, redirects and cookies. */
static const char nf_php[] = "<?php http_response_code(404); echo 'not here';";
static const char go_php[] = "<?php header('Location: /elsewhere');";
static const char perm_php[] = "<?php header('Location: http://example.com/x', true, 301);";
static const char cookies_php[] = "<?php setcookie('a', '1'); setcookie('b', '2');"
                                  " setcookie('c', '3'); echo 'ok';";

#endif
