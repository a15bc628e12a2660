/* php_module: `LoadModule php_module .../php_module.so` and the usual mod_php block
 *
 *   <FilesMatch \.php$>
 *       SetHandler application/x-httpd-php
 *   </FilesMatch>
 *
 * Each prefork child starts PHP once (child_init) and runs one script per request: the
 * script's fatal error or exit() ends that request with what PHP produced; a crash in PHP
 * ends the child, which the parent replaces. libphp keeps its state in globals unless it is
 * built with ZTS, which Debian's is not: the module is not thread-safe, and MPM event and
 * worker refuse it at start-up. */
#include "php_module.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "SAPI.h"
#include "php.h"
#include "php_main.h"
#include "zend_signal.h"
#include "zend_stream.h"

#define OUT_BUFFER (64 * 1024)
#define PORTICO_PHP_VERSION "0.1"

static int php_started;

/* portico opens a module with RTLD_LOCAL, so libphp (which the module pulls in) is not in
 * the global scope, and PHP's shared extensions (php8.2-xml's dom.so, ...) could not find
 * the zend_* symbols they expect from the executable. Apache opens modules RTLD_GLOBAL;
 * here only libphp is promoted, by reopening it RTLD_NOLOAD | RTLD_GLOBAL. */
static int libphp_global(void)
{
    Dl_info info;
    if (!dladdr((void *)php_request_startup, &info) || !info.dli_fname) {
        pt_module_log(PT_MOD_LOG_ERR, "php: cannot find which library libphp is");
        return -1;
    }
    if (!dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD)) {
        const char *why = dlerror();
        pt_module_log(PT_MOD_LOG_ERR, "php: cannot make %s global: %s", info.dli_fname,
                      why ? why : "unknown error");
        return -1;
    }
    return 0; /* the reference is kept: libphp stays for the life of the process */
}

/* PHP's opcache starts only under the SAPIs it lists (Apache's apache2handler, FPM,
 * FrankenPHP, ...; PHP 8.2: "Opcode Caching is only supported in ..."), and portico is not
 * one of them. This module's MINIT runs during PHP's module startup after PHP_SAPI is
 * defined and just before the Zend extensions (opcache) start: it shows opcache mod_php's
 * name, the role this module has, and php_child_init puts "portico" back once the startup
 * is over, so PHP_SAPI and php_sapi_name() say "portico". */
static PHP_MINIT_FUNCTION(portico)
{
    sapi_module.name = "apache2handler";
    return SUCCESS;
}

static zend_module_entry portico_zend_module = {
    STANDARD_MODULE_HEADER,
    "portico",
    NULL,
    PHP_MINIT(portico),
    NULL,
    NULL,
    NULL,
    NULL,
    PORTICO_PHP_VERSION,
    STANDARD_MODULE_PROPERTIES,
};

static int startup(sapi_module_struct *m)
{
    int rc = php_module_startup(m, &portico_zend_module) == SUCCESS ? SUCCESS : FAILURE;
    sapi_module.name = pt_php_sapi.name;
    return rc;
}

static int php_child_init(void)
{
    if (libphp_global() != 0)
        return 1;
    const char *ini_dir = pt_php_ini_dir();
    if (ini_dir)
        pt_php_sapi.php_ini_path_override = strdup(ini_dir);
#ifdef ZEND_SIGNALS
    zend_signal_startup();
#endif
    pt_php_sapi.startup = startup;
    sapi_startup(&pt_php_sapi);
    if (pt_php_sapi.startup(&pt_php_sapi) != SUCCESS) {
        pt_module_log(PT_MOD_LOG_ERR, "php: PHP's module startup failed (php.ini from %s)",
                      ini_dir ? ini_dir : "the default path");
        return 1;
    }
    php_started = 1;
    return 0;
}

static void take_var(void *ctx, const char *name, const char *value)
{
    php_req_t *q = ctx;
    if (q->nvars == q->capvars) {
        size_t cap = q->capvars ? 2 * q->capvars : 64;
        const char **n = realloc(q->names, cap * sizeof(*n));
        if (n)
            q->names = n;
        const char **v = n ? realloc(q->values, cap * sizeof(*v)) : NULL;
        if (!v)
            return; /* out of memory: the variable is left out */
        q->values = v;
        q->capvars = cap;
    }
    q->names[q->nvars] = name;
    q->values[q->nvars++] = value;
}

static int proto_num(const char *p)
{
    if (p && strncmp(p, "HTTP/", 5) == 0 && p[5] >= '0' && p[5] <= '9')
        return 1000 * (p[5] - '0') + (p[6] == '.' && p[7] >= '0' && p[7] <= '9' ? p[7] - '0'
                                                                                 : 0);
    return 1001;
}

/* SG(request_info) as mod_php fills it (strings are the request's: they outlive the
 * script); Authorization goes to PHP_AUTH_USER/PW as mod_php's php_handle_auth_data. */
static void fill_request_info(php_req_t *q)
{
    pt_modreq_t *r = q->r;
    const char *cl = pt_modreq_header(r, "Content-Length");
    SG(server_context) = q;
    SG(sapi_headers).http_response_code = 200;
    SG(request_info).request_method = pt_modreq_method(r);
    SG(request_info).query_string = (char *)pt_modreq_args(r);
    SG(request_info).request_uri = (char *)pt_modreq_uri(r);
    SG(request_info).path_translated = (char *)pt_php_var(q, "SCRIPT_FILENAME");
    SG(request_info).content_type = pt_modreq_header(r, "Content-Type");
    SG(request_info).content_length = cl ? atoll(cl) : 0;
    SG(request_info).proto_num = proto_num(pt_php_var(q, "SERVER_PROTOCOL"));
    q->head_only = strcmp(pt_modreq_method(r), "HEAD") == 0;
    SG(request_info).headers_only = q->head_only;
    php_handle_auth_data(pt_modreq_header(r, "Authorization"));
}

static void run_script(php_req_t *q)
{
    zend_file_handle fh;
    zend_first_try {
        pt_php_apply_ini(q);
        fill_request_info(q);
        if (php_request_startup() == SUCCESS) {
            zend_stream_init_filename(&fh, SG(request_info).path_translated);
            php_execute_script(&fh);
            zend_destroy_file_handle(&fh);
        } else {
            pt_modreq_log(q->r, PT_MOD_LOG_ERR, "php: request startup failed");
            q->body_status = q->body_status ? q->body_status : 500;
        }
    } zend_end_try();
    php_request_shutdown(NULL); /* sends the headers and the rest of the output */
    SG(server_context) = NULL;
}

/* After the script: the response as PHP left it. A body that failed to arrive (413 over
 * LimitRequestBody) is answered by the server's error page when nothing went out yet. */
static int finish(php_req_t *q)
{
    if (q->body_status && !q->started)
        return q->body_status;
    if (q->gone)
        return -1;
    int rc = pt_php_emit(q, PT_PHP_LAST);
    if (rc == 0)
        rc = pt_modreq_finish(q->r);
    return rc < 0 ? rc : PT_MOD_DONE;
}

static int php_handler(pt_modreq_t *r)
{
    if (!php_started)
        return 500;
    php_req_t q = {.r = r, .status = 200};
    int rc = pt_modreq_cgi_vars(r, take_var, &q);
    if (rc != PT_MOD_SCRIPT_FOUND) /* fn was not called: nothing to free */
        return rc; /* answered as for any missing script (FallbackResource, 404, ...) */
    q.outcap = OUT_BUFFER;
    q.out = malloc(q.outcap);
    if (q.out) {
        run_script(&q);
        rc = finish(&q);
    } else {
        rc = 500;
    }
    free(q.out);
    free(q.names);
    free(q.values);
    free(q.content_type);
    return rc;
}

static const pt_module_handler_t handlers[] = {
    {"application/x-httpd-php", php_handler},
    {NULL, NULL},
};

const pt_module_t php_module = {
    .api_version = PT_MODULE_API_VERSION,
    .name = "php",
    .thread_safe = 0,
    .handlers = handlers,
    .child_init = php_child_init,
    .directives = pt_php_directives,
#ifdef ZTS
    .thread_safety_note = "this libphp is built with ZTS, but the module runs it as NTS",
#else
    .thread_safety_note = "libphp is built without thread safety (NTS), as Debian's "
                          "libphp8.2-embed is",
#endif
};
