/* The one MPM interface. main.c loads the configuration, opens the listening sockets and
 * hands both to pt_mpm_run, which serves until a stop signal and returns the exit code.
 * The event MPM runs in this process for now; the parent/children process model, worker
 * and prefork come behind this same call. */
#ifndef PT_MPM_H
#define PT_MPM_H

#include "config.h"

typedef struct {
    int fd;
    const pt_listen_t *conf;
} pt_listener_t;

/* Binds every Listen of cfg. 0, or -errno with "FILE:LINE: could not bind to address
 * ADDR: reason" in err (nothing left open). */
int pt_listen_open(const pt_config_t *cfg, pt_listener_t **out, size_t *n, char *err,
                   size_t errlen);
void pt_listen_close(pt_listener_t *ls, size_t n);

/* Serves until SIGTERM/SIGINT (graceful stop bounded by GracefulShutdownTimeout) or
 * SIGWINCH (graceful stop). Returns the process exit code. */
int pt_mpm_run(const pt_config_t *cfg, pt_listener_t *ls, size_t nls);

const char *pt_mpm_name(pt_mpm_kind_t k);
/* MPMs compiled in, for -V. */
#define PT_MPMS_COMPILED "event"

#endif
