/* The balancer's part of the configuration language (mod_proxy_balancer's directives,
 * mod_proxy's <Proxy> and <ProxyMatch>, BalancerPersist, ProxyStatus), added to conf by
 * startup.c at start-up; its finish hook makes the generation's shared memory. */
#ifndef PT_DIRECTIVES_BALANCER_H
#define PT_DIRECTIVES_BALANCER_H

#include "directives.h"

extern const pt_conf_ext_t pt_balancer_conf;

/* A balancer key (stickysession=, lbmethod=, ...) on a ProxyPass to balancer://NAME, as
 * Apache allows: 1 taken, 0 when b is not a balancer or the key not a balancer's, -1 after
 * pt_dcx_fail. Registered with pt_proxy_set_extra_key by startup.c. */
int pt_balancer_pass_key(dcx_t *l, const pt_node_t *n, pt_backend_t *b, const char *key,
                         const char *value);

#endif
