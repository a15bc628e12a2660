/* The SAPI that puts PHP behind portico's module API, as mod_php's apache2handler puts it
 * behind Apache's: the request body read from the client as PHP asks for it, PHP's status
 * and header fields set on the response, output written to the client (flush() at once),
 * $_SERVER from the CGI variables the FastCGI gateway sends, and PHP's error log in
 * portico's. */
#include "php_module.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "SAPI.h"
#include "php.h"
#include "php_main.h"
#include "php_variables.h"

static php_req_t *req(void)
{
    return (php_req_t *)SG(server_context);
}

const char *pt_php_var(const php_req_t *q, const char *name)
{
    for (size_t i = 0; q && i < q->nvars; i++)
        if (strcmp(q->names[i], name) == 0)
            return q->values[i];
    return NULL;
}

/* ---- Output ------------------------------------------------------------------------------ */

static int start(php_req_t *q, long long length)
{
    if (q->started)
        return 0;
    q->started = 1;
    return pt_modreq_start(q->r, q->head_ready ? q->status : 200, q->content_type, length);
}

/* Whether output is dropped: the client is gone, or the body failed before anything went out
 * (the answer is then the server's error page for body_status). */
static int dropping(const php_req_t *q)
{
    return q->gone || (q->body_status && !q->started);
}

int pt_php_emit(php_req_t *q, int how)
{
    if (dropping(q))
        return q->gone ? -1 : 0;
    /* A HEAD answer carries no body here, so its length is not announced as 0. */
    long long length = how == PT_PHP_LAST && !q->head_only ? (long long)q->outlen : -1;
    int rc = start(q, length);
    if (rc == 0 && q->outlen)
        rc = pt_modreq_write(q->r, q->out, q->outlen);
    q->outlen = 0;
    if (rc == 0 && how == PT_PHP_FLUSH)
        rc = pt_modreq_flush(q->r);
    if (rc < 0)
        q->gone = 1;
    return rc;
}

static size_t ub_write(const char *str, size_t len)
{
    php_req_t *q = req();
    if (!q || dropping(q))
        return len; /* the answer is an error page, or nobody reads it */
    int rc = 0;
    if (q->outlen + len > q->outcap)
        rc = pt_php_emit(q, PT_PHP_MORE);
    if (rc == 0 && len >= q->outcap) { /* too big to hold: straight out */
        rc = pt_modreq_write(q->r, str, len);
        q->gone = rc < 0;
    } else if (rc == 0) {
        memcpy(q->out + q->outlen, str, len);
        q->outlen += len;
    }
    if (rc < 0)
        php_handle_aborted_connection(); /* ends the script unless ignore_user_abort */
    return len;
}

static void sapi_flush_cb(void *ctx)
{
    php_req_t *q = ctx;
    if (!q)
        return;
    if (!SG(headers_sent))
        sapi_send_headers();
    if (pt_php_emit(q, PT_PHP_FLUSH) < 0)
        php_handle_aborted_connection();
}

/* ---- Header fields ------------------------------------------------------------------------ */

static void take_field(php_req_t *q, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line)
        return; /* PHP only stores "Name: value" lines */
    size_t nl = (size_t)(colon - line);
    const char *v = colon + 1;
    while (v < line + len && (*v == ' ' || *v == '\t'))
        v++;
    char *name = strndup(line, nl), *value = strndup(v, (size_t)(line + len - v));
    if (!name || !value) {
        free(name);
        free(value);
        return;
    }
    if (strcasecmp(name, "Content-Type") == 0) {
        free(q->content_type);
        q->content_type = value;
        value = NULL;
    } else if (strcasecmp(name, "Content-Length") != 0 &&
               strcasecmp(name, "Transfer-Encoding") != 0) {
        pt_modreq_add_header(q->r, name, value); /* framing stays the server's */
    }
    free(name);
    free(value);
}

/* The head is held until the first body bytes leave (or the end), so that a short page
 * goes out with a Content-Length; PHP counts the headers as sent from here on. */
static int send_headers(sapi_headers_struct *h)
{
    php_req_t *q = req();
    if (!q)
        return SAPI_HEADER_SENT_SUCCESSFULLY;
    q->status = h->http_response_code ? h->http_response_code : 200;
    zend_llist_position pos;
    for (sapi_header_struct *f = zend_llist_get_first_ex(&h->headers, &pos); f;
         f = zend_llist_get_next_ex(&h->headers, &pos))
        take_field(q, f->header, f->header_len);
    q->head_ready = 1;
    return SAPI_HEADER_SENT_SUCCESSFULLY;
}

/* ---- Input -------------------------------------------------------------------------------- */

/* PHP takes a short read for the end of the body: fill the buffer unless the body ends. */
static size_t read_post(char *buf, size_t count)
{
    php_req_t *q = req();
    size_t got = 0;
    while (q && !q->body_status && got < count) {
        long n = pt_modreq_read_body(q->r, buf + got, count - got);
        if (n < 0)
            q->body_status = (int)-n; /* 413 over LimitRequestBody, 400, 408 */
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

static char *read_cookies(void)
{
    php_req_t *q = req();
    return q ? (char *)pt_modreq_header(q->r, "Cookie") : NULL;
}

static void register_variables(zval *track)
{
    php_req_t *q = req();
    for (size_t i = 0; q && i < q->nvars; i++) {
        char *val = (char *)q->values[i];
        size_t len = strlen(val), new_len = 0;
        if (sapi_module.input_filter(PARSE_SERVER, (char *)q->names[i], &val, len, &new_len))
            php_register_variable_safe((char *)q->names[i], val, new_len, track);
    }
    /* As the CGI SAPI with cgi.fix_pathinfo: the script's URL with its path info. */
    const char *sn = pt_php_var(q, "SCRIPT_NAME"), *pi = pt_php_var(q, "PATH_INFO");
    if (sn) {
        size_t sl = strlen(sn), pl = pi ? strlen(pi) : 0;
        char *self = malloc(sl + pl + 1);
        if (self) {
            memcpy(self, sn, sl);
            memcpy(self + sl, pi ? pi : "", pl + 1);
            php_register_variable_safe("PHP_SELF", self, sl + pl, track);
            free(self);
        }
    }
}

static char *getenv_cb(const char *name, size_t len)
{
    return (char *)pt_php_var(req(), name);
}

/* PHP's error log (log_errors with no error_log file): portico's, with the client. */
static void log_message(const char *msg, int syslog_level)
{
    php_req_t *q = req();
    int level = syslog_level < PT_MOD_LOG_ERR ? PT_MOD_LOG_ERR
                : syslog_level > PT_MOD_LOG_DEBUG ? PT_MOD_LOG_DEBUG : syslog_level;
    if (q)
        pt_modreq_log(q->r, level, "%s", msg);
    else
        pt_module_log(level, "php: %s", msg);
}

sapi_module_struct pt_php_sapi = {
    .name = "portico",
    .pretty_name = "portico module (prefork)",
    /* .startup is php_module.c's (it adds the module's own zend_module_entry) */
    .shutdown = php_module_shutdown_wrapper,
    .ub_write = ub_write,
    .flush = sapi_flush_cb,
    .getenv = getenv_cb,
    .sapi_error = php_error,
    .send_headers = send_headers,
    .read_post = read_post,
    .read_cookies = read_cookies,
    .register_server_variables = register_variables,
    .log_message = log_message,
    .php_ini_ignore_cwd = 1,
};
