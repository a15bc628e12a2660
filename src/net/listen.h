/* Listening sockets: bound by the parent from the configuration's Listen directives,
 * before privileges are dropped, and kept open across restarts (the fds are inherited by
 * every child). */
#ifndef PT_LISTEN_H
#define PT_LISTEN_H

#include "config.h"

#include <stddef.h>

/* One bound socket and the Listen it came from (owned by the array's owner: the parent). */
typedef struct {
    int fd;
    const pt_listen_t *conf;
} pt_listener_t;

/* Binds every Listen of cfg. 0, or -errno with "FILE:LINE: could not bind to address
 * ADDR: reason" in err (nothing left open). */
int pt_listen_open(const pt_config_t *cfg, pt_listener_t **out, size_t *n, char *err,
                   size_t errlen);
/* Listeners for a new configuration: the fds of old ones with the same address are moved
 * over (set to -1 in old); the rest are bound. 0 or -errno with err set. */
int pt_listen_reopen(const pt_config_t *cfg, pt_listener_t *old, size_t nold,
                     pt_listener_t **out, size_t *n, char *err, size_t errlen);
void pt_listen_close(pt_listener_t *ls, size_t n);

#endif
