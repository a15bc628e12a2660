/* FastCGI gateway: placeholder until the FastCGI issue lands; answers 503 and says why. */
#include "handler.h"
#include "log.h"

int pt_fcgi_handler(pt_request_t *r)
{
    pt_log_rerror(PT_LOG_ERR, r, "FastCGI backend %s: the FastCGI gateway is not built yet",
                  r->backend ? r->backend->url : r->handler);
    return 503;
}
