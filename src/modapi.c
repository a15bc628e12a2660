/* The C API of portico_module.h, what a loaded module's handler calls back into: reading the
 * request, answering it, logging. Built on request.h; the binary exports these symbols
 * (ENABLE_EXPORTS), and nothing else of the server is part of a module's contract. */
#include "portico_module.h"

#include "log.h"
#include "request.h"

#include <stdarg.h>
#include <stdio.h>

_Static_assert((int)PT_MOD_LOG_ERR == (int)PT_LOG_ERR &&
                   (int)PT_MOD_LOG_WARN == (int)PT_LOG_WARN &&
                   (int)PT_MOD_LOG_NOTICE == (int)PT_LOG_NOTICE &&
                   (int)PT_MOD_LOG_INFO == (int)PT_LOG_INFO &&
                   (int)PT_MOD_LOG_DEBUG == (int)PT_LOG_DEBUG,
               "module log levels are LogLevel's");

const char *pt_modreq_method(const pt_modreq_t *r)
{
    return r->method;
}

const char *pt_modreq_uri(const pt_modreq_t *r)
{
    return r->uri;
}

const char *pt_modreq_args(const pt_modreq_t *r)
{
    return r->args;
}

const char *pt_modreq_header(const pt_modreq_t *r, const char *name)
{
    return pt_table_get(&r->headers_in, name);
}

const char *pt_modreq_env(const pt_modreq_t *r, const char *name)
{
    return pt_table_get(&r->env, name);
}

long pt_modreq_read_body(pt_modreq_t *r, void *buf, size_t n)
{
    int status = 0;
    long got = pt_req_read_body(r, buf, n, &status);
    if (got >= 0)
        return got;
    return status > 0 ? -(long)status : -400;
}

void pt_modreq_set_header(pt_modreq_t *r, const char *name, const char *value)
{
    pt_table_set(&r->headers_out, pt_arena_strdup(r->arena, name),
                 pt_arena_strdup(r->arena, value));
}

int pt_modreq_send(pt_modreq_t *r, int status, const char *content_type, const void *body,
                   size_t len)
{
    const char *type = content_type ? pt_arena_strdup(r->arena, content_type) : NULL;
    int rc = pt_resp_send(r, status, type, body, len);
    return rc < 0 ? rc : PT_MOD_DONE;
}

void pt_modreq_log(const pt_modreq_t *r, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pt_log_rerror(level, r, "%s", msg);
}
