/* The error log with a request's client: pt_log_rerror (declared in request.h). It lives
 * apart from the request code it serves, reading only the connection's address, so that
 * every file that logs for a request (the walk, the static handler, FastCGI) depends on
 * this and the log, not on the request core. */
#include "conn.h"
#include "log.h"
#include "request.h"

#include <stdarg.h>
#include <stdio.h>

static void rerror_v(const char *module, int level, const pt_request_t *r, const char *fmt,
                     va_list ap)
{
    char client[128];
    const char *ip = !r || !r->conn ? NULL : r->useragent_ip ? r->useragent_ip
                                                              : r->conn->peer_ip;
    if (ip)
        snprintf(client, sizeof(client), "%s:%d", ip, r->conn->peer_port);
    pt_log_mverror(module, level, ip ? client : NULL, fmt, ap);
}

void pt_log_rerror(int level, const pt_request_t *r, const char *fmt, ...)
{
    if (level > pt_log_level())
        return;
    va_list ap;
    va_start(ap, fmt);
    rerror_v("core", level, r, fmt, ap);
    va_end(ap);
}

void pt_log_rmerror(const char *module, int level, const pt_request_t *r, const char *fmt, ...)
{
    if (level > pt_log_level())
        return;
    va_list ap;
    va_start(ap, fmt);
    rerror_v(module, level, r, fmt, ap);
    va_end(ap);
}
