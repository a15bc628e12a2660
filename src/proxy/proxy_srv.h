/* mod_proxy's server-wide settings beyond ProxyPass (directives_proxy_srv.c): Via fields,
 * Max-Forwards, what to do with a malformed backend header, socket options for upstream
 * connections, and inheritance from the main server; plus the small request-time steps
 * that apply them (proxy_srv.c), called by the HTTP client. */
#ifndef PT_PROXY_SRV_H
#define PT_PROXY_SRV_H

#include "directives.h"
#include "request.h"

#include <sys/socket.h>

enum { PT_VIA_OFF = 1, PT_VIA_ON, PT_VIA_FULL, PT_VIA_BLOCK };
enum { PT_BADHDR_ISERROR = 1, PT_BADHDR_IGNORE, PT_BADHDR_STARTBODY };

/* One server's settings (pt_vhost_t.proxy_srv), in the config's arena. While loading, 0
 * (and max_forwards_set false) is "unset"; the finish hook fills a virtual host's unset
 * fields from the main server's, so readers see effective values, 0 meaning the default. */
typedef struct pt_proxy_srv {
    int via;                   /* ProxyVia: PT_VIA_* (default Off) */
    int max_forwards;          /* ProxyMaxForwards (default -1: never added) */
    bool max_forwards_set;
    int bad_header;            /* ProxyBadHeader: PT_BADHDR_* (default IsError) */
    int pass_inherit;          /* ProxyPassInherit: 1 Off, 2 On (default) */
    int balancer_inherit;      /* BalancerInherit: 1 Off, 2 On (default) */
    int interpolate_env;       /* ProxyPassInterpolateEnv: 1 Off (default), 2 On */
    int recv_buffer;           /* ProxyReceiveBufferSize: SO_RCVBUF bytes; 0 the system's */
    struct sockaddr_storage source; /* ProxySourceAddress; source_len 0 when unset */
    socklen_t source_len;
} pt_proxy_srv_t;

/* The directives, and inheritance (registered before the other proxy extensions); then the
 * backends' socket options (registered after the balancers'). */
extern const pt_conf_ext_t pt_proxy_srv_conf;
extern const pt_conf_ext_t pt_proxy_sock_conf;

/* The effective settings of vh (a zeroed default when it has none). */
const pt_proxy_srv_t *pt_proxy_srv_of(const pt_vhost_t *vh);

/* ---- proxy_srv.c: request-time steps of mod_proxy_http ---------------------------------- */

/* Max-Forwards (mod_proxy's proxy_handler): 0 when r may go on (the value the backend gets
 * is then pt_proxy_max_forwards), else the status to answer: 400 for a value that is not a
 * number, 502 at zero (a loop), both logged. */
int pt_proxy_max_forwards_check(pt_request_t *r);
/* The Max-Forwards value to send, or NULL for none (the client sent none and
 * ProxyMaxForwards is -1); client is the client's first Max-Forwards field, or NULL. */
const char *pt_proxy_max_forwards(const pt_request_t *r, const char *client);
/* Whether the client's Via fields are dropped from the request head: the head then
 * carries pt_proxy_via_request (Block: none at all). */
bool pt_proxy_via_drops_client(const pt_request_t *r);
/* The Via field for the request to the backend (the client's fields, then ours), or NULL. */
const char *pt_proxy_via_request(const pt_request_t *r);
/* Adds our Via to the backend's answer in r->headers_out (On and Full). */
void pt_proxy_via_response(pt_request_t *r);
/* ProxyErrorOverride: whether the backend's answer with status st is replaced by portico's
 * own error answer (its ErrorDocument). */
bool pt_proxy_error_override(const pt_request_t *r, int st);

#endif
