/* mod_proxy_http: the "http" proxy scheme (proxy_http.c) and its directives
 * (directives_http.c: ProxyPreserveHost, ProxyAddHeaders), registered by startup.c. */
#ifndef PT_PROXY_HTTP_H
#define PT_PROXY_HTTP_H

#include "directives.h"
#include "scheme.h"

extern const pt_proxy_scheme_t pt_http_scheme;
/* https:// upstreams (SSLProxyEngine On): the same client over TLS. */
extern const pt_proxy_scheme_t pt_https_scheme;
extern const pt_conf_ext_t pt_http_conf;

#endif
