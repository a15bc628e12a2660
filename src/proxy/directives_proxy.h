/* The proxy's part of the configuration language (mod_proxy's directives and the backends
 * that ProxyPass and SetHandler "proxy:..." name), added to conf by startup.c at start-up. */
#ifndef PT_DIRECTIVES_PROXY_H
#define PT_DIRECTIVES_PROXY_H

#include "directives.h"

extern const pt_conf_ext_t pt_proxy_conf;

#endif
