/* mod_alias's Redirect and RedirectMatch, checked against a request (redirect.c). The lists
 * are the config's (conf/directives_alias.c): a server's, checked at the URL translation, and
 * a per-directory config's, inner sections first, checked in the fixups. */
#ifndef PT_REDIRECT_H
#define PT_REDIRECT_H

#include "config.h"
#include "request.h"

/* One Redirect against r->uri: its status (Location set in r->err_headers_out, made with d's
 * RedirectRelative), or 0 when it does not match. */
int pt_redirect_one(pt_request_t *r, const pt_redirect_t *rd, const pt_dir_config_t *d);
/* The first of rd[0..n) that matches: its status, or 0. */
int pt_redirects_check(pt_request_t *r, const pt_redirect_t *rd, size_t n,
                       const pt_dir_config_t *d);
/* d's one-argument Redirect (the innermost section's), or NULL. */
const pt_redirect_t *pt_redirect_whole_section(const pt_dir_config_t *d);
/* The sections' Redirects of r->dir, a one-argument one first: a status, or 0. */
int pt_redirects_check_sections(pt_request_t *r);

#endif
