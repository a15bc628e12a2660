/* The one handler interface: a handler gets a routed request (vhost, merged per-directory
 * config, mapped filename) and answers it with the response writer in request.h. */
#ifndef PT_HANDLER_H
#define PT_HANDLER_H

#include "request.h"

typedef int (*pt_handler_fn)(pt_request_t *r);

typedef struct {
    const char *name;      /* as SetHandler / AddHandler name it */
    pt_handler_fn run;
} pt_handler_t;

/* Static files, directory index and listings, ranges, conditional requests (static.c). */
int pt_static_handler(pt_request_t *r);

/* The FastCGI gateway (src/fcgi): SetHandler "proxy:fcgi://..." or
 * "proxy:unix:/path|fcgi://...", and ProxyPass to fcgi:// URLs. r->backend is set. */
int pt_fcgi_handler(pt_request_t *r);

/* SetHandler server-status: Apache's status page, HTML or ?auto (status.c). */
int pt_status_handler(pt_request_t *r);
/* SetHandler metrics: the scoreboard in Prometheus text format (metrics.c). */
int pt_metrics_handler(pt_request_t *r);

/* The handler registered under name, or NULL. Names starting with "proxy:" select the
 * proxy handler for their scheme. */
const pt_handler_t *pt_handler_find(const char *name);

#endif
