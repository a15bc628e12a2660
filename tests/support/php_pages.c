/* The checks that the FastCGI suite and the in-process suites make of the PHP test pages'
 * answers, and the in-process module's setup (php_pages.h). */
#include "php_pages.h"

#include <arpa/inet.h>
#include <check.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

char *pth_php_var(const char *body, const char *name)
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

void pth_php_check_vars(pth_t *h)
{
    const char *hdrs[] = {"X-Custom: hello", "Proxy: http://evil.example/", NULL};
    pth_resp_t r;
    pth_get(h, "/vars.php/extra/path?q=a%20b%26c&z=%C3%A9", hdrs, &r);
    ck_assert_int_eq(r.status, 200);
    char want[512];
    snprintf(want, sizeof(want), "%s/vars.php", h->docroot);
    PTH_ASSERT_VAR(r.body, "SCRIPT_FILENAME", want);
    PTH_ASSERT_VAR(r.body, "SCRIPT_NAME", "/vars.php");
    PTH_ASSERT_VAR(r.body, "PATH_INFO", "/extra/path");
    snprintf(want, sizeof(want), "%s/extra/path", h->docroot);
    PTH_ASSERT_VAR(r.body, "PATH_TRANSLATED", want);
    PTH_ASSERT_VAR(r.body, "QUERY_STRING", "q=a%20b%26c&z=%C3%A9");
    PTH_ASSERT_VAR(r.body, "REQUEST_URI", "/vars.php/extra/path?q=a%20b%26c&z=%C3%A9");
    PTH_ASSERT_VAR(r.body, "GET_q", "a b&c");
    PTH_ASSERT_VAR(r.body, "DOCUMENT_ROOT", h->docroot);
    PTH_ASSERT_VAR(r.body, "REQUEST_METHOD", "GET");
    PTH_ASSERT_VAR(r.body, "REQUEST_SCHEME", "http");
    PTH_ASSERT_VAR(r.body, "CONTENT_LENGTH", "(unset)");
    PTH_ASSERT_VAR(r.body, "SERVER_NAME", "127.0.0.1");
    snprintf(want, sizeof(want), "%d", h->port);
    PTH_ASSERT_VAR(r.body, "SERVER_PORT", want);
    PTH_ASSERT_VAR(r.body, "SERVER_ADDR", "127.0.0.1");
    PTH_ASSERT_VAR(r.body, "SERVER_PROTOCOL", "HTTP/1.1");
    PTH_ASSERT_VAR(r.body, "SERVER_SOFTWARE", pth_resp_header(&r, "Server")); /* ServerTokens */
    PTH_ASSERT_VAR(r.body, "REMOTE_ADDR", "127.0.0.1");
    PTH_ASSERT_VAR(r.body, "GATEWAY_INTERFACE", "CGI/1.1");
    PTH_ASSERT_VAR(r.body, "HTTPS", "(unset)");
    PTH_ASSERT_VAR(r.body, "REDIRECT_STATUS", "200");
    PTH_ASSERT_VAR(r.body, "HTTP_X_CUSTOM", "hello");
    PTH_ASSERT_VAR(r.body, "HTTP_PROXY", "(unset)");
    snprintf(want, sizeof(want), "127.0.0.1:%d", h->port);
    PTH_ASSERT_VAR(r.body, "HTTP_HOST", want);
    PTH_ASSERT_VAR(r.body, "MY_ENV", "from-setenv");
    PTH_ASSERT_VAR(r.body, "PHP_SELF", "/vars.php/extra/path");
    char *port = pth_php_var(r.body, "REMOTE_PORT");
    ck_assert_int_gt(atoi(port), 0);
    free(port);
    pth_resp_free(&r);
}

char *pth_php_upload_body(pth_t *h, size_t *len, char **want)
{
    /* Files of the same deterministic content give the same md5; the expected one is
     * computed by php-cli to stay independent of the server. */
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
    free(file);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "php8.2 -n -r 'echo md5_file(\"%s\");'",
             pth_path(h, "upload.bin"));
    FILE *p = popen(cmd, "r");
    char md5[64] = "";
    ck_assert_ptr_nonnull(fgets(md5, sizeof(md5), p));
    pclose(p);
    *want = malloc(128);
    snprintf(*want, 128, "f 0 %zu %s\n", fl, md5);
    *len = bl;
    return body;
}

/* Read into one preallocated buffer: growing one as the body arrives costs quadratic
 * copying under ASan (its realloc always moves). HTTP/1.0: the body ends at the close. */
static char *get_big(pth_t *h, const char *path, size_t cap, size_t *len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port),
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

void pth_php_check_big(pth_t *h)
{
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

void pth_php_check_flush(pth_t *h)
{
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

void pth_php_check_status_and_redirects(pth_t *h)
{
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
}

void pth_php_check_cookies(pth_t *h)
{
    pth_resp_t r;
    pth_get(h, "/cookies.php", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(pth_resp_header_count(&r, "Set-Cookie"), 3);
    const char *want[] = {"a=1", "b=2", "c=3"};
    size_t k = 0;
    for (size_t i = 0; i < r.nheaders; i++)
        if (strcasecmp(r.headers[i].name, "Set-Cookie") == 0)
            ck_assert_str_eq(r.headers[i].value, want[k++]);
    pth_resp_free(&r);
}

/* ---- The in-process module ------------------------------------------------------------- */

const char *pth_php_module_path(void)
{
    static char path[600];
    char bin[512];
    snprintf(bin, sizeof(bin), "%s", pth_bin());
    snprintf(path, sizeof(path), "%s/modules/php/php_module.so", dirname(bin));
    ck_assert_msg(access(path, R_OK) == 0, "%s is not built", path);
    return path;
}

const char pth_php_ini[] = "output_buffering = 0\n"
                           "memory_limit = 256M\n"
                           "max_execution_time = 30\n"
                           "display_errors = Off\n"
                           "log_errors = On\n"
                           "precision = 11\n";

void pth_php_start(pth_t *h, const char *extra)
{
    pth_write_dir_file(h, "phpini/php.ini", pth_php_ini, strlen(pth_php_ini));
    pth_config(h, PTH_PHP_CONF "%s", pth_php_module_path(), extra ? extra : "");
    pth_start(h);
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

bool pth_php_asan_setup(void)
{
    if (!under_asan())
        return false;
    setenv("PHP_INI_SCAN_DIR", "", 1);
    const char *src = getenv("PORTICO_SOURCE_DIR");
    const char *was = getenv("LSAN_OPTIONS");
    char opts[1024];
    snprintf(opts, sizeof(opts), "%s%ssuppressions=%s/modules/php/libphp.lsan.supp",
             was ? was : "", was ? ":" : "", src ? src : ".");
    setenv("LSAN_OPTIONS", opts, 1);
    return true;
}
