/* Loadable handler modules, the server side: LoadModule opens a shared library built against
 * portico_module.h, checks its API version and handler table, and keeps it in the config of
 * its generation until pt_config_free closes it. The loader (loader.c) looks SetHandler
 * names up here after the built-in and registered handlers. */
#ifndef PT_MODULE_H
#define PT_MODULE_H

#include "config.h"
#include "handler.h"
#include "portico_module.h"

#include <time.h>

/* A handler table longer than this is taken for one that lacks its NULL terminator. */
#define PT_MODULE_MAX_HANDLERS 64

/* One LoadModule line that loaded a library. Lives in the config's arena; the library stays
 * open (handle) until pt_module_unload_all. */
typedef struct pt_loaded_module {
    const char *name;          /* LoadModule name: the exported symbol */
    const char *path;          /* the file opened (relative paths already under ServerRoot) */
    const char *file;          /* the LoadModule line, for messages */
    int line;
    void *handle;              /* dlopen handle */
    const pt_module_t *mod;    /* the exported descriptor, inside the library */
    pt_handler_t *handlers;    /* mod->handlers as the core's handler type */
    size_t nhandlers;
} pt_loaded_module_t;

/* Loads path as module name for the LoadModule line at file:line and appends it to
 * cfg->modules. A name already loaded is skipped (as Apache does). 0, or PT_ECONFIG with
 * "FILE:LINE: ..." in err: missing file, dlopen failure (its text), missing symbol, API
 * version mismatch (both versions named), malformed handler table, handler name taken. */
int pt_module_load(pt_config_t *cfg, const char *name, const char *path, const char *file,
                   int line, char *err, size_t errlen);
/* Once the MPM is known: a module that is not thread-safe under event or worker is an error
 * "FILE:LINE: ... use MPM prefork" naming its LoadModule line. 0 or PT_ECONFIG. */
int pt_module_check_mpm(const pt_config_t *cfg, char *err, size_t errlen);
/* The handler a loaded module provides under name (case-insensitive), or NULL. Its run
 * function calls the module's through pt_modguard_run. */
const pt_handler_t *pt_module_handler_find(const pt_config_t *cfg, const char *name);
/* Runs every module's child_init in this process (called once by each child after fork).
 * 0, or PT_ECONFIG after logging which module failed. */
int pt_module_child_init(const pt_config_t *cfg);
/* modapi.c: the configuration this process's children serve (pt_module_child_init sets it
 * before the modules' child_init), which the module API's pt_module_directives reads. */
void pt_modapi_child_config(const pt_config_t *cfg);
/* Closes every library cfg loaded (pt_config_free calls it, through pt_module_conf). */
void pt_module_unload_all(pt_config_t *cfg);

/* modguard.c: a crash in a module's handler under MPM prefork (see there). */
/* In a prefork child with modules (pt_module_child_init): installs the handler for SIGSEGV,
 * SIGBUS, SIGILL, SIGFPE and SIGABRT on an alternate stack. */
void pt_modguard_enable(const pt_config_t *cfg);
/* Runs a module's handler fn for r, armed: a crash inside answers the client with a 500
 * when nothing of the response went out (plain HTTP/1), else resets the connection, logs
 * the signal, the request and the pid, and ends the child by the signal. Only calls fn
 * when no guard is enabled (event, worker). */
int pt_modguard_run(pt_request_t *r, const char *module, int (*fn)(pt_modreq_t *r));
/* The module API brackets its calls that may write to the client with +1 / -1: a crash
 * inside one may have sent part of a response. */
void pt_modguard_io(int delta);
/* The signal handler's own time formatting (localtime is not async-signal-safe), for the
 * tests too: the error log's "[Wed Dec 02 02:05:14.123456 2026] " for ts at off seconds
 * east of UTC. Bytes written (out is NUL-terminated, cut at cap). Its Date header is
 * base/httpdate's pt_http_date_format. */
size_t pt_modguard_log_time(char *out, size_t cap, const struct timespec *ts, long off);

/* LoadModule, the MPM check and the unload: conf's extension (loader.c). */
extern const struct pt_conf_ext pt_module_conf;

#endif
