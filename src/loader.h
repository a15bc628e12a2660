/* The loader: what the request core adds to conf's configuration language, registered as
 * extensions (conf/directives.h pt_conf_ext_t) so that conf names nothing above it, and the
 * step that resolves every handler name of a loaded configuration to a pointer. */
#ifndef PT_LOADER_H
#define PT_LOADER_H

/* Registers the core's extensions with conf: Require (access.c), Header and RequestHeader
 * (headers.c), LogFormat and CustomLog (accesslog.c), LoadModule (module.c) and the handler
 * resolution below (the proxy's and FastCGI's directives are startup.c's, registered before
 * these). Call once at start-up, before the first pt_config_load (pt_startup_register does;
 * so do tests that load configurations); calling it again does nothing. */
void pt_loader_init(void);

struct pt_config;
struct pt_dir_config;
/* Resolves the handler names of one per-directory config of cfg (a .htaccess file's, read
 * after the load: src/htaccess.c). Returns a name nothing provides, else NULL. */
const char *pt_loader_resolve_dir(const struct pt_config *cfg, struct pt_dir_config *dc);

#endif
