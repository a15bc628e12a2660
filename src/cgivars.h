/* The CGI/1.1 variables of a request, as Apache's ap_add_common_vars and ap_add_cgi_vars
 * make them: what the FastCGI gateway sends to php-fpm (fcgi/params.c, which adds
 * ProxyFCGISetEnvIf) and what an in-process module such as PHP puts in $_SERVER (the module
 * API's pt_modreq_cgi_vars). One list, so that both give a script the same answers. */
#ifndef PT_CGIVARS_H
#define PT_CGIVARS_H

#include "table.h"

#include <stdint.h>

struct pt_request;

/* Where the script is: the SCRIPT_FILENAME, SCRIPT_NAME and PATH_INFO of a request. */
typedef struct {
    const char *filename;    /* SCRIPT_FILENAME */
    const char *script_name; /* SCRIPT_NAME */
    const char *path_info;   /* PATH_INFO, NULL when none */
} pt_cgi_script_t;

/* For a request mapped to a file (SetHandler): walks r->filename's components to the first
 * that is not a directory. Returns 0, 404 when there is no such file (then the caller
 * decides about FallbackResource), or 1 when the whole path is a directory. */
int pt_cgi_script_locate(struct pt_request *r, pt_cgi_script_t *s);

/* CONTEXT_PREFIX and CONTEXT_DOCUMENT_ROOT: the Alias that mapped r (its URL prefix and
 * its target), else "" and the DocumentRoot, as Apache's ap_set_context_info. */
void pt_cgi_context(const struct pt_request *r, const char **prefix, const char **root);

/* Fills t (in r's arena) with the request's CGI/1.1 variables: the request headers as
 * HTTP_* (never Proxy or credentials), the server's and the client's addresses, HTTPS and
 * mod_ssl's SSL_* on TLS, the request environment (SetEnv), then the CGI fields of script s.
 * content_length >= 0 replaces CONTENT_LENGTH (a de-chunked body); < 0 leaves it to the
 * request header, which a chunked request has none of. */
void pt_cgi_vars(struct pt_request *r, const pt_cgi_script_t *s, int64_t content_length,
                 pt_table_t *t);

#endif
