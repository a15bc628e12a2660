/* mod_ssl's access check (its ssl_hook_Access): SSLRequireSSL, SSLRequire and SSLUserName
 * of the request's merged per-directory config, run in the access phase beside
 * mod_access_compat's host rules (authz.c). */
#ifndef PT_SSL_ACCESS_H
#define PT_SSL_ACCESS_H

#include "request.h"

/* 0 when mod_ssl's check lets r pass, else 403 (the reason logged). On a TLS connection
 * SSLUserName then sets r->user. As mod_ssl, SSLRequire is only checked on TLS: on a plain
 * connection only SSLRequireSSL refuses. client: the address the access rules see. */
int pt_ssl_access_check(pt_request_t *r, const struct sockaddr *client);
/* Whether dc has any of SSLRequireSSL, SSLRequire or SSLUserName: without them the check
 * lets every request pass and sets nothing. */
bool pt_ssl_access_configured(const pt_dir_config_t *dc);

#endif
