/* The tunnel after "101 Switching Protocols" (ProxyPass ... upgrade=websocket, Apache
 * 2.4.47+): bytes flow both ways between the client and the backend until either side
 * closes or the tunnel is idle longer than ProxyWebsocketIdleTimeout. Under the event MPM
 * an idle tunnel is parked in the listener (it holds no worker). */
#ifndef PT_TUNNEL_H
#define PT_TUNNEL_H

#include "common.h"

struct pt_request;
struct pt_conf_ext;
struct ssl_st;

/* ProxyWebsocketIdleTimeout and the obsolete ProxyWebsocket* directives Apache accepts
 * (directives_tunnel.c), registered by startup.c. */
extern const struct pt_conf_ext pt_tunnel_conf;

/* Runs the tunnel for r, whose 101 head has been sent to the client, with up_fd (owned from
 * here: closed when the tunnel ends) connected to the backend; up_ssl, when not NULL, is
 * the TLS over up_fd of an https:// backend (wss:// to the origin; owned from here too, its
 * socket BIO already on up_fd): the bytes go through it, including those OpenSSL holds
 * decrypted already. up_pending: bytes already read from the backend after its 101 head,
 * sent to the client first. The client's
 * connection is not kept alive after. Returns 0, or a negative error (logged).
 * On 0 the connection's protocol is the tunnel's: the handler returns as after a response
 * (nothing more is written for r), and the relay runs once r is logged (h1_conn.c), so the
 * access log shows the 101 when the tunnel opens. Idle timeout: ProxyWebsocketIdleTimeout
 * when set, else idle_timeout_ms when > 0, else ProxyTimeout, else Timeout. */
int pt_tunnel_run(struct pt_request *r, int up_fd, struct ssl_st *up_ssl,
                  const void *up_pending, size_t n_pending, int64_t idle_timeout_ms);

#endif
