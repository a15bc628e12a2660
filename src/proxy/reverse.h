/* ProxyPassReverse, ProxyPassReverseCookiePath and ProxyPassReverseCookieDomain (mod_proxy):
 * a backend's answer names the backend (Location: http://app:8080/login); the client must
 * see the front end's URL instead. The rules are per-directory (config.h, pt_reverse_rule_t,
 * parsed by directives_reverse.c); this is the one place that applies them. */
#ifndef PT_REVERSE_H
#define PT_REVERSE_H

#include "request.h"

/* Rewrites, in place, the backend's response fields in headers (r->headers_out, before they
 * go to the client) by r->dir's rules, as mod_proxy_http does: Location, Content-Location,
 * URI and Destination by ProxyPassReverse (a relative result made absolute with the front
 * end's name, as ap_construct_url), the path= and domain= attributes of each Set-Cookie by
 * the cookie rules. Every field of those names is mapped, the first matching rule wins, and
 * a field no rule matches is left as it came. New strings are in r's arena. */
void pt_proxy_reverse_map(struct pt_request *r, pt_table_t *headers);

#endif
