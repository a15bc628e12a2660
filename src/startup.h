/* What the binary registers before it reads a configuration: the top floor's wiring of the
 * floors above the request core into the ones below (proxy schemes with their handlers,
 * conf extensions, the loader). main.c calls it first; so do the tests that load
 * configurations. Calling it again changes nothing. */
#ifndef PT_STARTUP_H
#define PT_STARTUP_H

void pt_startup_register(void);

struct pt_mpm_hooks;
struct pt_conn_proto;
/* What a child runs around its connections (module child_init, the proxy's per-child
 * runtime and its tick, the file cache at exit), for pt_mpm_ctx_t.hooks. */
const struct pt_mpm_hooks *pt_startup_mpm_hooks(void);
/* The protocol a fresh connection starts with: HTTP/1 (pt_mpm_ctx_t.proto). */
const struct pt_conn_proto *pt_startup_first_proto(void);

#endif
