/* mod_ssl's access check (its ssl_hook_Access): SSLRequireSSL, SSLRequire and SSLUserName
 * of the request's merged per-directory config, run in the access phase beside
 * mod_access_compat's host rules (authz.c); and its user check (SSLOptions +FakeBasicAuth,
 * +StrictRequire) before authentication. */
#ifndef PT_SSL_ACCESS_H
#define PT_SSL_ACCESS_H

#include "request.h"

/* 0 when mod_ssl's check lets r pass, else 403 (the reason logged). On a TLS connection
 * SSLUserName then sets r->user. As mod_ssl, SSLRequire is only checked on TLS: on a plain
 * connection only SSLRequireSSL refuses. client: the address the access rules see. */
int pt_ssl_access_check(pt_request_t *r, const struct sockaddr *client);
/* mod_ssl's user check (ssl_hook_UserCheck), run where Apache runs it: when the request
 * is to be authenticated, before Basic authentication reads the header. 403 when
 * ssl_refused (the access check above refused r, and Satisfy Any went on to ask for a
 * user) and +StrictRequire applies; 403 with AH02035 for Basic credentials of a user that
 * starts with '/' and a password that starts with "password" (the FakeBasicAuth spoof, refused with or
 * without TLS or the option, after an internal redirect too) unless +FakeBasicAuth set
 * them; with +FakeBasicAuth and a verified client certificate, sets Authorization to the
 * certificate's subject and "password" (AuthUserFile then authenticates it). Else 0. */
int pt_ssl_user_check(pt_request_t *r, bool ssl_refused);
/* Whether dc has any of SSLRequireSSL, SSLRequire or SSLUserName: without them the check
 * lets every request pass and sets nothing. */
bool pt_ssl_access_configured(const pt_dir_config_t *dc);

#endif
