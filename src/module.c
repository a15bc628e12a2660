/* Loadable handler modules: the LoadModule directive, dlopen/dlsym of the library it names,
 * the checks made at load (API version, handler table, thread safety under the MPM), and
 * lookup of module handlers by name (for the loader). The C API modules call back into is
 * modapi.c. */
#include "module.h"

#include "directives.h"
#include "log.h"
#include "modcatalog.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

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

/* The C API a module calls back into (modapi.c) must be in the binary whenever LoadModule
 * can run; nothing in the server calls it, so this reference is what links it in. */
__attribute__((used)) static int (*const keep_modapi)(pt_modreq_t *, int, const char *,
                                                      const void *, size_t) = pt_modreq_send;

/* ---- Handler slots: how a request reaches a module's handler through the crash guard ---- */

/* The core calls a handler as h->run(r), with nothing that says which module's function
 * is meant; each module handler gets a slot, whose trampoline runs the slot's function
 * through pt_modguard_run. Slots are assigned at load, in the parent, and freed with the
 * config (a reload holds the old config's and the new one's for a while). */
#define PT_MODULE_SLOTS 32

typedef struct {
    int (*fn)(pt_modreq_t *r);
    const char *module;
} slot_t;

static slot_t slots[PT_MODULE_SLOTS];

#define SLOT_FN(i)                                                                         \
    static int slot_##i(pt_request_t *r)                                                   \
    {                                                                                      \
        return pt_modguard_run(r, slots[i].module, slots[i].fn);                           \
    }
SLOT_FN(0) SLOT_FN(1) SLOT_FN(2) SLOT_FN(3) SLOT_FN(4) SLOT_FN(5) SLOT_FN(6) SLOT_FN(7)
SLOT_FN(8) SLOT_FN(9) SLOT_FN(10) SLOT_FN(11) SLOT_FN(12) SLOT_FN(13) SLOT_FN(14)
SLOT_FN(15) SLOT_FN(16) SLOT_FN(17) SLOT_FN(18) SLOT_FN(19) SLOT_FN(20) SLOT_FN(21)
SLOT_FN(22) SLOT_FN(23) SLOT_FN(24) SLOT_FN(25) SLOT_FN(26) SLOT_FN(27) SLOT_FN(28)
SLOT_FN(29) SLOT_FN(30) SLOT_FN(31)

static const pt_handler_fn slot_run[PT_MODULE_SLOTS] = {
    slot_0,  slot_1,  slot_2,  slot_3,  slot_4,  slot_5,  slot_6,  slot_7,
    slot_8,  slot_9,  slot_10, slot_11, slot_12, slot_13, slot_14, slot_15,
    slot_16, slot_17, slot_18, slot_19, slot_20, slot_21, slot_22, slot_23,
    slot_24, slot_25, slot_26, slot_27, slot_28, slot_29, slot_30, slot_31,
};

/* The trampoline of a free slot, now running fn of module; NULL when all are taken. */
static pt_handler_fn slot_take(int (*fn)(pt_modreq_t *r), const char *module)
{
    for (size_t i = 0; i < PT_MODULE_SLOTS; i++) {
        if (!slots[i].fn) {
            slots[i] = (slot_t){fn, module};
            return slot_run[i];
        }
    }
    return NULL;
}

static void slot_release(pt_handler_fn run)
{
    for (size_t i = 0; i < PT_MODULE_SLOTS; i++)
        if (slot_run[i] == run)
            slots[i] = (slot_t){NULL, NULL};
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
        m->handlers[i].run = slot_take(hs[i].fn, m->name);
        if (!m->handlers[i].run)
            return fail(err, errlen, m->file, m->line,
                        "module %s in %s: more than %d module handlers are loaded", m->name,
                        m->path, PT_MODULE_SLOTS);
        m->nhandlers = i + 1;
    }
    return 0;
}

/* Apache's modules need the symbols of httpd (ap_*) and APR (apr_*, apu_*), which a
 * portico process does not have: dlopen's "undefined symbol: apr_array_make" says so. */
static bool is_apache_module_error(const char *why)
{
    const char *u = strstr(why, "undefined symbol: ");
    if (!u)
        return false;
    u += strlen("undefined symbol: ");
    return strncmp(u, "ap_", 3) == 0 || strncmp(u, "apr_", 4) == 0 ||
           strncmp(u, "apu_", 4) == 0 || strncmp(u, "unixd_", 6) == 0;
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
        const pt_apache_module_t *am = pt_apache_module_find(m->name);
        if (why && is_apache_module_error(why))
            return fail(err, errlen, m->file, m->line,
                        "LoadModule %s: %s is a module built for Apache httpd, which portico "
                        "cannot load (portico has its own module API, portico_module.h); "
                        "remove the line, or use what portico builds in (portico -l)%s%s",
                        m->name, m->path, am && am->hint ? "; " : "",
                        am && am->hint ? am->hint : "");
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
        for (size_t i = 0; i < m.nhandlers; i++)
            slot_release(m.handlers[i].run);
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
        const char *note = m->mod->thread_safety_note;
        if (!m->mod->thread_safe)
            return fail(err, errlen, m->file, m->line,
                        "module %s (%s) is not thread-safe and cannot run under MPM %s, "
                        "whose children serve requests from several threads; use MPM prefork"
                        "%s%s%s", m->name, m->path,
                        cfg->mpm == PT_MPM_WORKER ? "worker" : "event", note ? " (" : "",
                        note ? note : "", note ? ")" : "");
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
    pt_modapi_child_config(cfg);
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
    /* After the modules' child_init, so that the crash handler is the one in place. */
    if (cfg->mpm == PT_MPM_PREFORK && cfg->nmodules > 0)
        pt_modguard_enable(cfg);
    return 0;
}

void pt_module_unload_all(pt_config_t *cfg)
{
    for (size_t i = cfg->nmodules; i-- > 0;) {
        for (size_t j = 0; j < cfg->modules[i].nhandlers; j++)
            slot_release(cfg->modules[i].handlers[j].run);
        cfg->modules[i].nhandlers = 0;
        if (cfg->modules[i].handle)
            dlclose(cfg->modules[i].handle);
        cfg->modules[i].handle = NULL;
    }
    cfg->nmodules = 0;
}

/* ---- The LoadModule directive and the modules' own (registered with conf by loader.c) --- */

static int set_load_module(dcx_t *l, dcx_scope_t *s, const pt_node_t *n);
static int set_module_directive(dcx_t *l, dcx_scope_t *s, const pt_node_t *n);

/* LoadModule, then the directives that loaded modules declare, appended as each module
 * loads: the walker looks a name up when it reaches its line, so a module's directives are
 * known from the line after its LoadModule. The table outlives a configuration (a name
 * stays once seen); set_module_directive accepts a line only when a module of the
 * configuration being read declares the name. Filled in the parent, at load, only. */
#define PT_MODULE_MAX_DIRECTIVES 32
static dcx_directive_t directives[2 + PT_MODULE_MAX_DIRECTIVES] = {
    {"LoadModule", W_SERVER, 2, 2, set_load_module},
};

static bool name_known(const dcx_t *l, const char *name)
{
    for (size_t t = 0; t < l->ntables; t++)
        for (const dcx_directive_t *d = l->tables[t]; d->name; d++)
            if (d->name[0] != '<' && strcasecmp(d->name, name) == 0)
                return true;
    return false;
}

static bool declared_by(const pt_loaded_module_t *m, const char *name)
{
    for (const pt_module_directive_t *d = m->mod->directives; d && d->name; d++)
        if (strcasecmp(d->name, name) == 0)
            return true;
    return false;
}

_Static_assert(PT_MOD_OVERRIDE_AUTHCFG >> 8 == PT_OVR_AUTHCFG &&
                   PT_MOD_OVERRIDE_FILEINFO >> 8 == PT_OVR_FILEINFO &&
                   PT_MOD_OVERRIDE_INDEXES >> 8 == PT_OVR_INDEXES &&
                   PT_MOD_OVERRIDE_LIMIT >> 8 == PT_OVR_LIMIT &&
                   PT_MOD_OVERRIDE_OPTIONS >> 8 == PT_OVR_OPTIONS,
               "a module's override bits are AllowOverride's classes, shifted");

/* Where the walker takes a module directive: its scopes, and the AllowOverride classes
 * that let it into .htaccess (only for one that sections take, as in Apache). */
static unsigned where_of(const pt_module_directive_t *d)
{
    if (!(d->where & PT_MOD_DIRECTIVE_SECTIONS))
        return SRV;
    unsigned ovr = ((unsigned)d->where >> 8) & PT_OVR_ALL;
    return (unsigned)ALL | ovr << W_OVR_SHIFT;
}

/* Adds module m's directives to the table; a name the language has already, or another
 * module of this configuration declares, is an error. */
static int add_directives(dcx_t *l, const pt_node_t *n, const pt_loaded_module_t *m)
{
    for (const pt_module_directive_t *d = m->mod->directives; d && d->name; d++) {
        size_t i = 1;
        while (directives[i].name && strcasecmp(directives[i].name, d->name) != 0)
            i++;
        for (size_t k = 0; k < l->cfg->nmodules; k++)
            if (&l->cfg->modules[k] != m && declared_by(&l->cfg->modules[k], d->name))
                return pt_dcx_fail(l, n, "module %s in %s: directive %s is already taken "
                                   "by module %s", m->name, m->path, d->name,
                                   l->cfg->modules[k].name);
        if (directives[i].name)
            continue; /* known from an earlier load: set_module_directive checks who has it */
        if (name_known(l, d->name))
            return pt_dcx_fail(l, n, "module %s in %s: directive %s is already taken",
                               m->name, m->path, d->name);
        if (i >= PT_MODULE_MAX_DIRECTIVES || d->min_args < 0 ||
            (d->max_args >= 0 && d->max_args < d->min_args))
            return pt_dcx_fail(l, n, "module %s in %s: directive %s cannot be added (more "
                               "than %d module directives, or bad argument counts)",
                               m->name, m->path, d->name, PT_MODULE_MAX_DIRECTIVES);
        char *name = strdup(d->name);
        if (!name)
            return pt_dcx_fail(l, n, "out of memory");
        directives[i] = (dcx_directive_t){name, where_of(d), d->min_args, d->max_args,
                                          set_module_directive};
    }
    return 0;
}

/* The parser keeps only LoadModule lines that name no built-in module, path resolved. */
static int set_load_module(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (pt_module_load(l->cfg, n->argv[0], n->argv[1], n->file, n->line, l->err,
                       l->errlen) < 0)
        return -1;
    const pt_loaded_module_t *m = find_loaded(l->cfg, n->argv[0]);
    return m ? add_directives(l, n, m) : 0;
}

/* A module directive: kept, as written, in the per-directory config of its scope. */
static int set_module_directive(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool loaded = false;
    for (size_t i = 0; i < l->cfg->nmodules && !loaded; i++)
        loaded = declared_by(&l->cfg->modules[i], n->name);
    if (!loaded)
        return pt_dcx_fail(l, n, "Invalid command '%s', perhaps misspelled or defined by a "
                           "module not included in the server configuration", n->name);
    pt_dir_config_t *dc = s->dc;
    pt_mod_directive_t *d = pt_dcx_push(l->a, &dc->mod_directives, &dc->nmod_directives,
                                        sizeof(*d));
    const char **argv = pt_arena_calloc(l->a, (size_t)(n->argc + 1) * sizeof(*argv));
    for (int i = 0; i < n->argc; i++)
        argv[i] = pt_arena_strdup(l->a, n->argv[i]);
    d->name = pt_arena_strdup(l->a, n->name);
    d->argc = n->argc;
    d->argv = argv;
    d->file = n->file;
    d->line = n->line;
    d->htaccess = l->allow != NULL; /* the walker of a .htaccess file asks allow() */
    return 0;
}

static int check_mpm(dcx_t *l)
{
    return pt_module_check_mpm(l->cfg, l->err, l->errlen) < 0 ? -1 : 0;
}

const pt_conf_ext_t pt_module_conf = {
    .name = "module",
    .directives = directives,
    .finish = check_mpm,
    .release = pt_module_unload_all,
};
