/* The top floor's registrations (startup.h). Like main.c, this file may include every
 * floor: it is where they are wired together, so that src/ and conf/ name none of the
 * floors above them. */
#include "startup.h"

#include "directives.h"
#include "directives_proxy.h"
#include "fcgi/fcgi.h"
#include "loader.h"
#include "scheme.h"

void pt_startup_register(void)
{
    /* Proxy schemes first (each with its handler, "proxy:fcgi"), then conf's extensions:
     * the proxy's and FastCGI's directives, then the request core's (the loader's last, as
     * it resolves the names the others read). */
    pt_proxy_scheme_register(&pt_fcgi_scheme);
    pt_config_extend(&pt_proxy_conf);
    pt_config_extend(&pt_fcgi_conf);
    pt_loader_init();
}
