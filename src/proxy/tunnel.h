/* The tunnel after "101 Switching Protocols" (ProxyPass ... upgrade=websocket, Apache
 * 2.4.47+): bytes flow both ways between the client and the backend until either side
 * closes or the tunnel is idle longer than ProxyWebsocketIdleTimeout. Under the event MPM
 * an idle tunnel is parked in the listener (it holds no worker). */
#ifndef PT_TUNNEL_H
#define PT_TUNNEL_H

#include "common.h"

struct pt_request;

/* Runs the tunnel for r, whose 101 head has been sent to the client, with up_fd (owned from
 * here: closed when the tunnel ends) connected to the backend. up_pending: bytes already
 * read from the backend after its 101 head, sent to the client first. The client's
 * connection is not kept alive after. Returns 0, or a negative error (logged). */
int pt_tunnel_run(struct pt_request *r, int up_fd, const void *up_pending, size_t n_pending,
                  int64_t idle_timeout_ms);

#endif
