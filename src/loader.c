/* The loader: registers the request core's configuration extensions with conf, and
 * resolves names to pointers once a configuration is read. SetHandler and AddHandler names,
 * and the scheme of every proxy backend, become const pt_handler_t pointers here (built-in,
 * registered by the floors above, or a loaded module's), so that a request dispatches with
 * r->dir->handler->run(r) and compares no handler name. A name nothing answers to is a
 * configuration error (Apache would serve the file as it is: for a mod_php leftover such as
 * "SetHandler application/x-httpd-php" that is the PHP source). */
#include "loader.h"

#include "accesslog.h"
#include "compress_conf.h"
#include "access.h"
#include "access_compat.h"
#include "auth_basic.h"
#include "directives.h"
#include "handler.h"
#include "headers.h"
#include "htaccess.h"
#include "module.h"
#include "rewrite_request.h"

/* Handler names of Apache modules that portico lacks but whose files are harmless to serve
 * as they are (mod_negotiation's type maps are text): served by the default handler, with a
 * -t notice. */
static const char *const served_as_files[] = {"type-map"};

static bool served_as_file(const char *name)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(served_as_files); i++)
        if (strcasecmp(name, served_as_files[i]) == 0)
            return true;
    return false;
}

static const pt_handler_t *find(const pt_config_t *cfg, const char *name)
{
    const pt_handler_t *h = pt_handler_find(name);
    return h ? h : pt_module_handler_find(cfg, name);
}

/* *bad gets the first name nothing provides (check_names refuses those of the server
 * config; a .htaccess file's are reported by htaccess.c). */
static const pt_handler_t *resolve(const pt_config_t *cfg, const char *name, const char **bad)
{
    const pt_handler_t *h = find(cfg, name);
    if (!h && served_as_file(name))
        return cfg->default_handler;
    if (!h && !*bad)
        *bad = name;
    return h ? h : pt_handler_unknown(strncasecmp(name, "proxy:", 6) == 0);
}

/* What an unknown name probably was, for the message. */
static const char *unknown_hint(const char *name)
{
    if (strcasestr(name, "php"))
        return "; for PHP, hand the files to php-fpm: SetHandler "
               "\"proxy:unix:/run/php/php-fpm.sock|fcgi://localhost\", or load portico's "
               "php_module (modules/php) under MPM prefork before this line";
    if (strcasecmp(name, "cgi-script") == 0)
        return "; portico runs no CGI programs (use FastCGI: fcgiwrap, php-fpm)";
    return "";
}

/* One SetHandler or AddHandler line: each name must be one portico serves. */
static int check_name(dcx_t *l, const pt_node_t *n, const char *name)
{
    if (strcasecmp(name, "none") == 0 || find(l->cfg, name))
        return 0;
    if (served_as_file(name)) {
        pt_dcx_note(l, n, name, "%s %s: portico does not have Apache's %s handler; such files "
                                "are served as they are", n->name, name, name);
        return 0;
    }
    return pt_dcx_fail(l, n, "%s %s: no part of portico handles '%s', and serving the file "
                             "as it is could expose its source%s", n->name, name, name,
                       unknown_hint(name));
}

/* The tree keeps file and line; the per-directory configs do not. */
static int check_names(dcx_t *l, const pt_node_t *n)
{
    for (; n; n = n->next) {
        int rc = 0;
        if (n->section)
            rc = check_names(l, n->children);
        else if (strcasecmp(n->name, "SetHandler") == 0 && n->argc >= 1)
            rc = check_name(l, n, n->argv[0]);
        else if (strcasecmp(n->name, "AddHandler") == 0 && n->argc >= 1)
            rc = check_name(l, n, n->argv[0]);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* One per-directory config: its SetHandler (a "proxy:" one is its backend's, set by the
 * scheme when the URL was parsed: proxy/scheme.h) and its AddHandler extensions. A section
 * shared by several hosts is seen more than once; the answer is the same each time. */
const char *pt_loader_resolve_dir(const pt_config_t *cfg, pt_dir_config_t *dc)
{
    const char *bad = NULL;
    dc->handler = NULL;
    if (dc->handler_backend)
        dc->handler = dc->handler_backend->handler;
    else if (dc->handler_name && strcasecmp(dc->handler_name, "none") != 0)
        dc->handler = resolve(cfg, dc->handler_name, &bad);
    /* The arrays are the config's own (const for readers): filled in place, once. */
    pt_ext_map_t *m = (pt_ext_map_t *)dc->handlers;
    for (size_t i = 0; i < dc->nhandlers; i++) /* a NULL value: RemoveHandler */
        m[i].handler = m[i].value ? resolve(cfg, m[i].value, &bad) : NULL;
    return bad;
}

static void resolve_dir(pt_config_t *cfg, pt_dir_config_t *dc)
{
    pt_loader_resolve_dir(cfg, dc);
}

static int resolve_handlers(dcx_t *l)
{
    pt_config_t *cfg = l->cfg;
    cfg->default_handler = pt_handler_default();
    if (check_names(l, cfg->tree) < 0)
        return -1;
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
        &pt_access_conf, &pt_access_compat_conf, &pt_auth_basic_conf, &pt_headers_conf,
        &pt_accesslog_conf, &pt_module_conf, &pt_rewrite_conf, &pt_compress_conf_ext,
        &handlers_ext,
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(all); i++)
        pt_config_extend(all[i]);
    pt_htaccess_set_resolver(pt_loader_resolve_dir);
    pt_request_set_phases(&pt_rewrite_phases);
}
