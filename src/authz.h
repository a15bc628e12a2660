/* The access phase of a request, as Apache's ap_process_request_internal runs it with
 * mod_access_compat, mod_authz_core and mod_auth_basic: Order/Allow/Deny, then the Require
 * tree without a user, then (only when the tree needs one) Basic authentication and the
 * tree again, with Satisfy Any letting the host rules alone admit. */
#ifndef PT_AUTHZ_H
#define PT_AUTHZ_H

#include "request.h"

/* 0 when r may proceed (r->user set if it authenticated), else the status to answer:
 * 403, 401 (with the challenge in err_headers_out) or 500; the reason is logged. client is
 * the address the rules see (pt_request_client_addr: mod_remoteip's, else the peer); proxy
 * the Order/Allow/Deny set of the <Proxy> sections matching a ProxyPass'd request's URL
 * (NULL: none), which a <Location>'s set replaces. */
struct pt_access_compat;
int pt_authz_request(pt_request_t *r, const struct sockaddr *client,
                     const struct pt_access_compat *proxy);

#endif
