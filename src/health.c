/* SetHandler health (portico's own): a readiness and liveness endpoint for load balancers
 * and Kubernetes probes. 200 "ok" while the server serves; 503 "stopping" once the parent
 * has begun a stop, so that a probe or a health check that still reaches the server (a
 * request already accepted, an open connection) takes it out while in-flight requests
 * finish. The listeners close at the same moment, so a new probe connection is refused:
 * not ready either way. */
#include "handler.h"
#include "mpm/scoreboard.h"

#include <stdatomic.h>

static const char health_ok[] = "ok\n";
static const char health_stopping[] = "stopping\n";

int pt_health_handler(pt_request_t *r)
{
    if (r->method_id != PT_METHOD_GET && r->method_id != PT_METHOD_HEAD) {
        pt_table_set(&r->err_headers_out, "Allow", "GET, HEAD");
        return 405;
    }
    /* A probe's answer must not be cached by anything between it and the server. */
    pt_table_set(&r->err_headers_out, "Cache-Control", "no-store");
    const pt_scoreboard_t *sb = pt_scoreboard_get();
    if (!sb || atomic_load(&sb->stopping))
        return pt_resp_send(r, 503, "text/plain", health_stopping, sizeof(health_stopping) - 1);
    return pt_resp_send(r, 200, "text/plain", health_ok, sizeof(health_ok) - 1);
}
