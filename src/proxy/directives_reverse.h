/* The reverse-mapping directives of mod_proxy (ProxyPassReverse and the cookie ones), added
 * to conf by startup.c at start-up. */
#ifndef PT_DIRECTIVES_REVERSE_H
#define PT_DIRECTIVES_REVERSE_H

#include "directives.h"

extern const pt_conf_ext_t pt_reverse_conf;

#endif
