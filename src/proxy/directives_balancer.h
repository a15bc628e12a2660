/* The balancer's part of the configuration language (mod_proxy_balancer's directives,
 * mod_proxy's <Proxy> and <ProxyMatch>, BalancerPersist, ProxyStatus), added to conf by
 * startup.c at start-up; its finish hook makes the generation's shared memory. */
#ifndef PT_DIRECTIVES_BALANCER_H
#define PT_DIRECTIVES_BALANCER_H

#include "directives.h"

extern const pt_conf_ext_t pt_balancer_conf;

#endif
