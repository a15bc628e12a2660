/* The C API of portico_module.h, what a loaded module's handler calls back into: reading the
 * request, answering it (whole or in parts), its CGI variables, the module's directives,
 * logging. Built on request.h and cgivars.h; the binary exports these symbols
 * (ENABLE_EXPORTS), and nothing else of the server is part of a module's contract. */
#include "portico_module.h"

#include "cgivars.h"
#include "handler.h"
#include "log.h"
#include "module.h"
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
    pt_modguard_io(1); /* the first read may send 100 Continue */
    long got = pt_req_read_body(r, buf, n, &status);
    pt_modguard_io(-1);
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
    pt_modguard_io(1);
    int rc = pt_resp_send(r, status, type, body, len);
    pt_modguard_io(-1);
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

/* ---- Answering in parts ----------------------------------------------------------------- */

void pt_modreq_add_header(pt_modreq_t *r, const char *name, const char *value)
{
    pt_table_add(&r->headers_out, pt_arena_strdup(r->arena, name),
                 pt_arena_strdup(r->arena, value));
}

int pt_modreq_start(pt_modreq_t *r, int status, const char *content_type, long long length)
{
    if (content_type)
        r->content_type = pt_arena_strdup(r->arena, content_type);
    pt_modguard_io(1);
    int rc = pt_resp_start(r, status, length < 0 ? -1 : (int64_t)length);
    pt_modguard_io(-1);
    return rc;
}

int pt_modreq_write(pt_modreq_t *r, const void *p, size_t n)
{
    if (!r->head_built)
        return PT_EINVAL;
    pt_modguard_io(1);
    int rc = pt_resp_write(r, p, n);
    pt_modguard_io(-1);
    return rc;
}

int pt_modreq_flush(pt_modreq_t *r)
{
    if (!r->head_built)
        return PT_EINVAL;
    pt_modguard_io(1);
    int rc = pt_resp_write(r, NULL, 0); /* sends a held head; body bytes are never held */
    pt_modguard_io(-1);
    return rc;
}

int pt_modreq_finish(pt_modreq_t *r)
{
    if (!r->head_built)
        return PT_EINVAL;
    /* A bodiless answer (HEAD, 204, 304) is body_done from its start, its head still held:
     * finishing is what sends it. */
    if (r->body_done && r->head_sent)
        return 0;
    pt_modguard_io(1);
    int rc = pt_resp_finish(r);
    pt_modguard_io(-1);
    return rc;
}

int pt_modreq_started(const pt_modreq_t *r)
{
    return r->head_built;
}

/* ---- The CGI view ----------------------------------------------------------------------- */

/* No script where the request maps: what the FastCGI gateway does too (mod_dir's
 * FallbackResource, a directory's DirectoryIndex and friends, else a 404). */
static int no_script(pt_modreq_t *r, int located)
{
    if (located == 1)
        return pt_static_handler(r);
    const char *fb = r->dir->fallback;
    if (fb && fb[0] && strcmp(fb, r->uri) != 0)
        return pt_request_lookup_redirect(r, fb);
    pt_log_rerror(PT_LOG_INFO, r, "AH01264: script not found or unable to stat: %s",
                  r->filename ? r->filename : r->uri);
    return 404;
}

int pt_modreq_cgi_vars(pt_modreq_t *r,
                       void (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
    pt_cgi_script_t s;
    int located = r->filename ? pt_cgi_script_locate(r, &s) : 404;
    if (located != 0) {
        pt_modguard_io(1); /* the static handler or an internal redirect may answer */
        int rc = no_script(r, located);
        pt_modguard_io(-1);
        return rc;
    }
    pt_table_t t;
    pt_table_init(&t, r->arena, 48);
    pt_cgi_vars(r, &s, -1, &t);
    for (size_t i = 0; i < t.n; i++)
        fn(ctx, t.v[i].name, t.v[i].value);
    return PT_MOD_SCRIPT_FOUND;
}

/* ---- The module's directives ------------------------------------------------------------ */

static void each_directive(const pt_dir_config_t *dc, pt_module_directive_fn fn, void *ctx)
{
    for (size_t i = 0; dc && i < dc->nmod_directives; i++) {
        const pt_mod_directive_t *d = &dc->mod_directives[i];
        fn(ctx, d->name, d->argc, d->argv, d->file, d->line);
    }
}

void pt_modreq_directives(const pt_modreq_t *r, pt_module_directive_fn fn, void *ctx)
{
    each_directive(r->dir, fn, ctx);
}

void pt_modreq_directive_lines(const pt_modreq_t *r,
                               void (*fn)(void *ctx, const pt_module_directive_line_t *d),
                               void *ctx)
{
    for (size_t i = 0; r->dir && i < r->dir->nmod_directives; i++) {
        const pt_mod_directive_t *d = &r->dir->mod_directives[i];
        pt_module_directive_line_t line = {d->name, d->argc, d->argv, d->file, d->line,
                                           d->htaccess};
        fn(ctx, &line);
    }
}

static const pt_config_t *child_cfg;

void pt_modapi_child_config(const pt_config_t *cfg)
{
    child_cfg = cfg;
}

void pt_module_directives(pt_module_directive_fn fn, void *ctx)
{
    const pt_config_t *cfg = child_cfg;
    if (cfg && cfg->main_server)
        each_directive(cfg->main_server->dir, fn, ctx);
}

void pt_module_log(int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pt_log_error(level, NULL, "%s", msg);
}
