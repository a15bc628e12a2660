/* The proxy's part of the configuration language (mod_proxy's directives and the backends
 * that ProxyPass and SetHandler "proxy:..." name), added to conf by startup.c at start-up. */
#ifndef PT_DIRECTIVES_PROXY_H
#define PT_DIRECTIVES_PROXY_H

#include "directives.h"

extern const pt_conf_ext_t pt_proxy_conf;

/* For the other proxy directive files (balancer, reverse mapping): the backend for a URL as
 * ProxyPass writes it ("http://h:p/path", "unix:/sock|http://h/", "balancer://name/"), made
 * once per URL and shared by every rule that names it (one pool, as Apache shares a worker);
 * NULL after pt_dcx_fail. */
pt_backend_t *pt_proxy_backend_parse(dcx_t *l, const pt_node_t *n, const char *url);
/* One key=value of a worker (max, ttl, timeout, retry, loadfactor, route, status, hc*, ...)
 * set on b: 0, or -1 after pt_dcx_fail. */
int pt_proxy_backend_key(dcx_t *l, const pt_node_t *n, pt_backend_t *b, const char *kv);
/* Keys another directive file knows (the balancer's, on a ProxyPass to balancer://NAME):
 * asked for a key pt_proxy_backend_key does not know; 1 taken, 0 not its, -1 after
 * pt_dcx_fail. Set once at start-up by startup.c (a pointer: the balancer's directives
 * call this file, so it cannot call theirs). */
typedef int (*pt_proxy_key_fn)(dcx_t *l, const pt_node_t *n, pt_backend_t *b, const char *key,
                               const char *value);
void pt_proxy_set_extra_key(pt_proxy_key_fn fn);

#endif
