/* Proxy schemes by name: each scheme (fcgi://, later http://) registers what serves it once at
 * start-up, from startup.c, since the schemes live on floors above src/proxy. A backend's scheme
 * is resolved when its URL is parsed (pt_backend_t.scheme_ops, and .handler = the scheme's
 * handler), so a request runs r->backend->handler->run(r) without comparing names. */
#ifndef PT_SCHEME_H
#define PT_SCHEME_H

#include "handler.h"

/* Schemes that can be registered (fcgi, http, https, balancer, ws, wss, and room). */
#define PT_PROXY_SCHEMES_MAX 16

/* A scheme's entry: static and read-only, owned by the module that registers it. */
typedef struct pt_proxy_scheme {
    const char *name;          /* the URL scheme before "://", lower case ("fcgi") */
    int default_port;          /* when the URL names none */
    pt_handler_t handler;      /* serves a request whose r->backend has this scheme; its name
                                  is "proxy:" + name */
} pt_proxy_scheme_t;

/* Adds s (before any configuration is loaded; not thread-safe), and its handler to the
 * handler table (handler.h). 0 (also when s is there already), PT_EINVAL when another entry
 * has the name, PT_ETOOBIG past the bound. */
int pt_proxy_scheme_register(const pt_proxy_scheme_t *s);
/* The entry for the len bytes at name, compared without case, or NULL. */
const pt_proxy_scheme_t *pt_proxy_scheme_find(const char *name, size_t len);

#endif
