/* The registry of proxy schemes (scheme.h): written at start-up, read-only once a
 * configuration is loaded. */
#include "scheme.h"

#include <string.h>
#include <strings.h>

static const pt_proxy_scheme_t *schemes[PT_PROXY_SCHEMES_MAX];
static size_t nschemes;

int pt_proxy_scheme_register(const pt_proxy_scheme_t *s)
{
    if (pt_proxy_scheme_find(s->name, strlen(s->name)))
        return pt_proxy_scheme_find(s->name, strlen(s->name)) == s ? 0 : PT_EINVAL;
    if (nschemes >= PT_PROXY_SCHEMES_MAX)
        return PT_ETOOBIG;
    /* Its handler is a named one too ("proxy:fcgi"), for AddHandler and the like. */
    int rc = pt_handler_register(&s->handler);
    if (rc < 0)
        return rc;
    schemes[nschemes++] = s;
    return 0;
}

const pt_proxy_scheme_t *pt_proxy_scheme_find(const char *name, size_t len)
{
    for (size_t i = 0; i < nschemes; i++)
        if (strlen(schemes[i]->name) == len && strncasecmp(schemes[i]->name, name, len) == 0)
            return schemes[i];
    return NULL;
}
