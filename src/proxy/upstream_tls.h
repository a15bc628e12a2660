/* https:// upstreams (mod_ssl's proxy side): the client SSL_CTXs of a child, one per server
 * with `SSLProxyEngine On`, made from its SSLProxy* settings when the child's proxy runtime
 * is made (runtime.c), never stored in the read-only config; the client handshake on a
 * connected upstream socket, with mod_ssl's peer checks (SSLProxyVerify, CheckPeerName,
 * CheckPeerCN, CheckPeerExpire); and the bounded-wait reads and writes over that SSL,
 * which upstream.h's pt_upstream_conn_* use when a connection carries one. */
#ifndef PT_UPSTREAM_TLS_H
#define PT_UPSTREAM_TLS_H

#include "directives.h"
#include "upstream.h"

#include <openssl/ssl.h>

/* One server's client side: owned by its pt_utls_t. */
typedef struct pt_utls_server {
    const pt_vhost_t *vh;
    SSL_CTX *ctx;
    int check_name;           /* SSLProxyCheckPeerName (unset = on) */
    int check_cn;             /* SSLProxyCheckPeerCN (unset = on; used when CheckPeerName off) */
    int check_expire;         /* SSLProxyCheckPeerExpire (unset = on) */
} pt_utls_server_t;

/* A child's client contexts: owns them. */
typedef struct pt_utls pt_utls_t;

/* The contexts for every server of cfg with SSLProxyEngine On; an empty set when none.
 * NULL with a message in err (a CA file that cannot be read). */
pt_utls_t *pt_utls_create(const pt_config_t *cfg, char *err, size_t errlen);
void pt_utls_destroy(pt_utls_t *t);
/* upstream_tls_client.c: SSLProxyCACertificatePath, SSLProxyCARevocation* and the
 * SSLProxyMachineCertificate* client certificate on a new client context. 0, or -1 with
 * "file:line: ..." in err. */
int pt_utls_client_extras(SSL_CTX *ctx, const struct pt_tls_conf *tc, char *err,
                          size_t errlen);
/* The client side of vh (the request's server), or NULL when it has no SSLProxyEngine On. */
const pt_utls_server_t *pt_utls_for(const pt_utls_t *t, const pt_vhost_t *vh);

/* Puts the connected fd on TLS to host (SNI, the name checked), waiting at most timeout_ms.
 * 0 with *out set, or -1 with why (the reason, for the error log) filled. */
int pt_utls_handshake(const pt_utls_server_t *s, int fd, const char *host,
                      int64_t timeout_ms, SSL **out, char *why, size_t whylen);
/* The same, one step at a time, for a caller with its own poll loop (the parent's health
 * checks): pt_utls_start makes the SSL on fd (SNI for host; NULL with why); each
 * pt_utls_connect_step returns 1 when the handshake is done and the peer passed mod_ssl's
 * checks, 0 when it wants *events (POLLIN or POLLOUT) on fd, -1 with why on failure. The
 * caller frees the SSL (SSL_free; pt_utls_free once it is finished). */
SSL *pt_utls_start(const pt_utls_server_t *s, int fd, const char *host, char *why,
                   size_t whylen);
int pt_utls_connect_step(const pt_utls_server_t *s, SSL *ssl, const char *host,
                         short *events, char *why, size_t whylen);
/* Was ssl made under s (its server's SSLProxy* terms, its context) for host (case-blind)?
 * What the pool asks before it lends an idle connection: a connection is reused only by
 * requests that would have made the same one. */
bool pt_utls_made_for(SSL *ssl, const pt_utls_server_t *s, const char *host);
/* pt_utls_writev / pt_utls_read (declared in upstream.h): pt_upstream_writev / read over
 * an SSL. */
/* May an idle pooled TLS connection be used? Not when the backend closed it (close_notify,
 * FIN) or sent data unasked; a session ticket that came late is read and dropped. */
bool pt_utls_alive(SSL *ssl, int fd);
/* Frees ssl, after a close_notify sent without waiting (the fd is the caller's). */
void pt_utls_free(SSL *ssl);

/* The load-time checks (registered by startup.c after the ssl extension): every ProxyPass
 * to an https:// backend (or a balancer with https members) needs SSLProxyEngine On in its
 * server (mod_proxy's AH00961), and each such server's client context must build. */
extern const pt_conf_ext_t pt_https_conf;

#endif
