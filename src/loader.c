/* The loader: registers the request core's configuration extensions with conf, and
 * resolves names to pointers once a configuration is read. SetHandler and AddHandler names,
 * and the scheme of every proxy backend, become const pt_handler_t pointers here (built-in,
 * registered by the floors above, or a loaded module's), so that a request dispatches with
 * r->dir->handler->run(r) and compares no handler name. A name nothing answers to is served
 * as Apache serves it: by the default (static) handler (pt_handler_unknown). */
#include "loader.h"

#include "accesslog.h"
#include "compress_conf.h"
#include "access.h"
#include "directives.h"
#include "handler.h"
#include "headers.h"
#include "htaccess.h"
#include "module.h"

static const pt_handler_t *resolve(const pt_config_t *cfg, const char *name)
{
    const pt_handler_t *h = pt_handler_find(name);
    if (!h)
        h = pt_module_handler_find(cfg, name);
    return h ? h : pt_handler_unknown(strncasecmp(name, "proxy:", 6) == 0);
}

/* One per-directory config: its SetHandler (a "proxy:" one is its backend's, set by the
 * scheme when the URL was parsed: proxy/scheme.h) and its AddHandler extensions. A section
 * shared by several hosts is seen more than once; the answer is the same each time. */
void pt_loader_resolve_dir(const pt_config_t *cfg, pt_dir_config_t *dc)
{
    dc->handler = NULL;
    if (dc->handler_backend)
        dc->handler = dc->handler_backend->handler;
    else if (dc->handler_name && strcasecmp(dc->handler_name, "none") != 0)
        dc->handler = resolve(cfg, dc->handler_name);
    /* The arrays are the config's own (const for readers): filled in place, once. */
    pt_ext_map_t *m = (pt_ext_map_t *)dc->handlers;
    for (size_t i = 0; i < dc->nhandlers; i++)
        m[i].handler = resolve(cfg, m[i].value);
}

static void resolve_dir(pt_config_t *cfg, pt_dir_config_t *dc)
{
    pt_loader_resolve_dir(cfg, dc);
}

static int resolve_handlers(dcx_t *l)
{
    pt_config_t *cfg = l->cfg;
    cfg->default_handler = pt_handler_default();
    pt_dcx_each_dir(cfg, resolve_dir);
    return 0;
}

static const pt_conf_ext_t handlers_ext = {
    .name = "handlers",
    .finish = resolve_handlers,
};

void pt_loader_init(void)
{
    /* Modules load during the walk; names resolve after it, once every module is in. */
    static const pt_conf_ext_t *const all[] = {
        &pt_access_conf, &pt_headers_conf, &pt_accesslog_conf, &pt_module_conf,
        &pt_compress_conf_ext, &handlers_ext,
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(all); i++)
        pt_config_extend(all[i]);
    pt_htaccess_set_resolver(pt_loader_resolve_dir);
}
