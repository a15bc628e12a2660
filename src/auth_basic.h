/* mod_auth_basic with mod_authn_core's AuthType/AuthName and mod_authn_file's AuthUserFile
 * (AuthBasicProvider file), and mod_authz_groupfile's AuthGroupFile: the directives, and
 * the authentication of a request from its Authorization header. */
#ifndef PT_AUTH_BASIC_H
#define PT_AUTH_BASIC_H

#include "request.h"

/* The AuthType in force, NULL when none or "None" (Apache's ap_auth_type). */
const char *pt_auth_type(const pt_request_t *r);
/* Authenticates r (Apache's check_user_id phase): 0 with r->user set; 401 with the
 * challenge in err_headers_out (no or wrong credentials, unknown user); 500 when the
 * configuration cannot authenticate (no AuthType, no AuthName, password file unreadable).
 * Logs why. */
int pt_auth_basic_authenticate(pt_request_t *r);
/* Adds the challenge (WWW-Authenticate: Basic realm="...") to r's error headers. */
void pt_auth_basic_note_failure(pt_request_t *r);
/* AuthBasicFake: sets the Authorization request header from the section's expressions
 * (mod_auth_basic's fixup; a proxied or FastCGI backend sees it). No-op when not set. */
void pt_auth_basic_fake(pt_request_t *r);
/* The credentials of r's "Authorization: Basic ..." header, decoded, into *user and *pw
 * (in r's arena); false when there is no such header or it does not decode to user:pw. */
bool pt_auth_basic_credentials(pt_request_t *r, const char **user, const char **pw);
/* Sets the Authorization request header to Basic base64(user ":" pass). */
void pt_auth_basic_set(pt_request_t *r, const char *user, const char *pass);
/* "Require group" against r's AuthGroupFile (pt_authz_ctx_t.in_group; arg is r). */
int pt_auth_in_group(void *arg, const char *user, const char *group);

/* AuthType, AuthName, AuthBasicProvider, AuthUserFile, AuthGroupFile (loader.c). */
extern const struct pt_conf_ext pt_auth_basic_conf;

#endif
