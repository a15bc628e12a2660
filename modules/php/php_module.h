/* PHP in-process (the mod_php role) for MPM prefork: a portico module built against
 * src/portico_module.h and libphp (Debian's libphp8.2-embed), with its own SAPI.
 *
 * php_module.c: the module descriptor, child_init (PHP's module startup, once per child)
 * and the handler that runs one script per request.
 * php_sapi.c: the SAPI callbacks (body in, headers and output out, $_SERVER, the error log).
 * php_conf.c: PHPIniDir and php_value / php_flag / php_admin_value / php_admin_flag.
 *
 * One request at a time per process (prefork): the request being served is a global. */
#ifndef PT_PHP_MODULE_H
#define PT_PHP_MODULE_H

#include "portico_module.h"

#include <stddef.h>

/* The request being served: what the SAPI callbacks reach through SG(server_context). */
typedef struct php_req {
    pt_modreq_t *r;
    /* The CGI variables (strings in the request's arena), for $_SERVER and getenv(). */
    const char **names, **values;
    size_t nvars, capvars;
    /* Output: held here until a flush, a full buffer or the end, so that a small page
     * leaves with a Content-Length and a large one in few writes. */
    char *out;
    size_t outlen, outcap;
    int status;          /* from PHP's headers (send_headers) */
    char *content_type;  /* malloc'd, or NULL */
    int head_ready;      /* send_headers ran: status and fields are set */
    int started;         /* pt_modreq_start ran */
    int body_status;     /* a body read failed (400, 408, 413): the answer is that status */
    int gone;            /* the client went away: output is dropped */
    int head_only;       /* HEAD: PHP sends no body */
} php_req_t;

/* php_sapi.c */
extern struct _sapi_module_struct pt_php_sapi;
/* A CGI variable of the request, or NULL. */
const char *pt_php_var(const php_req_t *q, const char *name);
/* Sends what is buffered, starting the response first if needed: PT_PHP_MORE (more may
 * follow: length unknown), PT_PHP_FLUSH (the same, and a held head goes out too) or
 * PT_PHP_LAST (the script is over: a response not started yet gets a Content-Length).
 * 0, or negative when the client is gone. */
enum { PT_PHP_MORE, PT_PHP_FLUSH, PT_PHP_LAST };
int pt_php_emit(php_req_t *q, int how);

/* php_conf.c */
extern const pt_module_directive_t pt_php_directives[];
/* PHPIniDir of the main server, or NULL (read in child_init). */
const char *pt_php_ini_dir(void);
/* Applies the request's php_value/php_flag/php_admin_* before the request starts. */
void pt_php_apply_ini(php_req_t *q);

#endif
