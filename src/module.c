/* Loadable handler modules: dlopen/dlsym of the library a LoadModule line names, the
 * checks made at load (API version, handler table, thread safety under the MPM), lookup of
 * module handlers by name, and the small C API of portico_module.h on top of request.h. */
#include "module.h"

#include "log.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

_Static_assert((int)PT_MOD_LOG_ERR == (int)PT_LOG_ERR &&
                   (int)PT_MOD_LOG_WARN == (int)PT_LOG_WARN &&
                   (int)PT_MOD_LOG_NOTICE == (int)PT_LOG_NOTICE &&
                   (int)PT_MOD_LOG_INFO == (int)PT_LOG_INFO &&
                   (int)PT_MOD_LOG_DEBUG == (int)PT_LOG_DEBUG,
               "module log levels are LogLevel's");

__attribute__((format(printf, 5, 6))) static int fail(char *err, size_t errlen,
                                                      const char *file, int line,
                                                      const char *fmt, ...)
{
    char msg[PT_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s:%d: %s", file, line, msg);
    return PT_ECONFIG;
}

static const pt_loaded_module_t *find_loaded(const pt_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nmodules; i++)
        if (strcmp(cfg->modules[i].name, name) == 0)
            return &cfg->modules[i];
    return NULL;
}

/* Copies the module's handler table into the core's type, refusing what would make a
 * SetHandler name ambiguous: a name the server or an earlier module already answers to. */
static int take_handlers(pt_config_t *cfg, pt_loaded_module_t *m, char *err, size_t errlen)
{
    const pt_module_handler_t *hs = m->mod->handlers;
    size_t n = 0;
    while (hs && hs[n].name) {
        if (++n > PT_MODULE_MAX_HANDLERS)
            return fail(err, errlen, m->file, m->line,
                        "module %s in %s has more than %d handlers (is its table missing "
                        "the NULL entry at the end?)", m->name, m->path,
                        PT_MODULE_MAX_HANDLERS);
    }
    m->handlers = pt_arena_calloc(cfg->arena, (n ? n : 1) * sizeof(*m->handlers));
    for (size_t i = 0; i < n; i++) {
        const char *hn = hs[i].name;
        if (!hs[i].fn)
            return fail(err, errlen, m->file, m->line,
                        "module %s in %s: handler %s has no function", m->name, m->path, hn);
        if (pt_handler_find(hn) || pt_module_handler_find(cfg, hn))
            return fail(err, errlen, m->file, m->line,
                        "module %s in %s: handler name %s is already taken", m->name,
                        m->path, hn);
        m->handlers[i].name = pt_arena_strdup(cfg->arena, hn);
        m->handlers[i].run = hs[i].fn;
        m->nhandlers = i + 1;
    }
    return 0;
}

static int open_library(pt_loaded_module_t *m, char *err, size_t errlen)
{
    struct stat st;
    if (stat(m->path, &st) != 0)
        return fail(err, errlen, m->file, m->line, "Cannot load %s into server: %s", m->path,
                    strerror(errno));
    dlerror();
    m->handle = dlopen(m->path, RTLD_NOW | RTLD_LOCAL);
    if (!m->handle) {
        const char *why = dlerror();
        return fail(err, errlen, m->file, m->line, "Cannot load %s into server: %s", m->path,
                    why ? why : "unknown dlopen error");
    }
    dlerror();
    m->mod = dlsym(m->handle, m->name);
    if (!m->mod) {
        const char *why = dlerror();
        return fail(err, errlen, m->file, m->line,
                    "Can't locate API module structure `%s' in file %s: %s", m->name, m->path,
                    why ? why : "symbol is NULL");
    }
    if (m->mod->api_version != PT_MODULE_API_VERSION)
        return fail(err, errlen, m->file, m->line,
                    "module %s in %s was built for module API version %d, but this portico "
                    "provides version %d (rebuild it against portico_module.h)",
                    m->name, m->path, m->mod->api_version, PT_MODULE_API_VERSION);
    return 0;
}

int pt_module_load(pt_config_t *cfg, const char *name, const char *path, const char *file,
                   int line, char *err, size_t errlen)
{
    if (find_loaded(cfg, name))
        return 0;
    pt_loaded_module_t m = {
        .name = pt_arena_strdup(cfg->arena, name),
        .path = pt_arena_strdup(cfg->arena, path),
        .file = file,
        .line = line,
    };
    int rc = open_library(&m, err, errlen);
    if (rc == 0)
        rc = take_handlers(cfg, &m, err, errlen);
    if (rc != 0) {
        if (m.handle)
            dlclose(m.handle);
        return rc;
    }
    /* A handful of modules per config: copying the array on each load is cheap. */
    pt_loaded_module_t *v = pt_arena_alloc(cfg->arena, (cfg->nmodules + 1) * sizeof(*v));
    if (cfg->nmodules)
        memcpy(v, cfg->modules, cfg->nmodules * sizeof(*v));
    v[cfg->nmodules] = m;
    cfg->modules = v;
    cfg->nmodules++;
    return 0;
}

int pt_module_check_mpm(const pt_config_t *cfg, char *err, size_t errlen)
{
    if (cfg->mpm == PT_MPM_PREFORK)
        return 0;
    for (size_t i = 0; i < cfg->nmodules; i++) {
        const pt_loaded_module_t *m = &cfg->modules[i];
        if (!m->mod->thread_safe)
            return fail(err, errlen, m->file, m->line,
                        "module %s (%s) is not thread-safe and cannot run under MPM %s, "
                        "whose children serve requests from several threads; use MPM prefork",
                        m->name, m->path, cfg->mpm == PT_MPM_WORKER ? "worker" : "event");
    }
    return 0;
}

const pt_handler_t *pt_module_handler_find(const pt_config_t *cfg, const char *name)
{
    if (!cfg || !name)
        return NULL;
    for (size_t i = 0; i < cfg->nmodules; i++) {
        const pt_loaded_module_t *m = &cfg->modules[i];
        for (size_t j = 0; j < m->nhandlers; j++)
            if (strcasecmp(m->handlers[j].name, name) == 0)
                return &m->handlers[j];
    }
    return NULL;
}

int pt_module_child_init(const pt_config_t *cfg)
{
    for (size_t i = 0; i < cfg->nmodules; i++) {
        const pt_loaded_module_t *m = &cfg->modules[i];
        if (!m->mod->child_init)
            continue;
        int rc = m->mod->child_init();
        if (rc != 0) {
            pt_log_error(PT_LOG_ERR, NULL, "module %s (%s): child_init failed with %d",
                         m->name, m->path, rc);
            return PT_ECONFIG;
        }
    }
    return 0;
}

void pt_module_unload_all(pt_config_t *cfg)
{
    for (size_t i = cfg->nmodules; i-- > 0;) {
        if (cfg->modules[i].handle)
            dlclose(cfg->modules[i].handle);
        cfg->modules[i].handle = NULL;
    }
    cfg->nmodules = 0;
}

/* ---- The module API (portico_module.h) ------------------------------------------------ */

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
