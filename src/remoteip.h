/* mod_remoteip: the client's address as a trusted proxy in front of us saw it, taken from a
 * request header (RemoteIPHeader X-Forwarded-For) walked right to left through the trusted
 * proxies, or from the HAProxy PROXY protocol header a layer-4 balancer sends at the start
 * of a connection (RemoteIPProxyProtocol). What is found becomes r->useragent_ip, which the
 * logs (%a, %h), Require ip, SetEnvIf Remote_Addr and the proxy's X-Forwarded-For use; the
 * connection's own peer stays for %{c}a. */
#ifndef PT_REMOTEIP_H
#define PT_REMOTEIP_H

#include "access.h"
#include "config.h"
#include "request.h"

/* One RemoteIPTrustedProxy or RemoteIPInternalProxy address or subnet. */
typedef struct {
    pt_cidr_t cidr;
    bool internal;             /* RemoteIPInternalProxy: may present private addresses */
} pt_remoteip_proxy_t;

/* A server's settings (pt_vhost_t.remoteip), in the config's arena, read-only after load.
 * A virtual host that sets none of a field takes the main server's, as Apache's merge. */
typedef struct pt_remoteip_conf {
    const char *header;        /* RemoteIPHeader; NULL: no header is trusted */
    const char *proxies_header;/* RemoteIPProxiesHeader: where the external proxies passed
                                  through are recorded; NULL: nowhere */
    pt_remoteip_proxy_t *proxies; /* NULL: none listed (every peer is trusted, as an
                                     external proxy) */
    size_t nproxies;
} pt_remoteip_conf_t;

/* RemoteIPProxyProtocol for the whole server (pt_config_t.proxy_protocol): the local
 * addresses whose connections must begin with a PROXY header (each virtual host's that
 * turned it On; the main server's stands for every address), minus those turned Off, and
 * the peers exempted (RemoteIPProxyProtocolExceptions). */
typedef struct pt_remoteip_pp_conf {
    pt_vaddr_t *on;            /* addrlen 0: any address; port 0: any port */
    size_t non;
    pt_vaddr_t *off;
    size_t noff;
    pt_cidr_t *exceptions;
    size_t nexceptions;
} pt_remoteip_pp_conf_t;

/* Apache's post_read_request step: once r's virtual host is known, before anything reads
 * the client address. Sets r->useragent_ip/addr from the connection's PROXY header, or from
 * the trusted part of the RemoteIPHeader field, which it removes from r->headers_in (the
 * untrusted rest stays). Does nothing when neither applies. */
void pt_remoteip_apply(pt_request_t *r);

/* ---- PROXY protocol at the start of a connection (run before any protocol reads) ---- */

/* Whether connection c (just accepted) must begin with a PROXY protocol header. */
bool pt_remoteip_conn_wants(const struct pt_conn *c);
/* Reads and parses the PROXY header at the start of c: 1 when it is consumed (c->rpos past
 * it; the peer is now the client it named, the TCP peer in c->via), 0 when more bytes are
 * needed (wait for readable, within RequestReadTimeout's header limit), -1 when the
 * connection must close (malformed, not a PROXY header, or gone: logged here). */
int pt_remoteip_conn_start(struct pt_conn *c);
/* The read timeout ran out before the header was complete: logs it (nothing is sent). */
void pt_remoteip_conn_timeout(struct pt_conn *c);

/* The directives (RemoteIPHeader, RemoteIPProxiesHeader, RemoteIPTrustedProxy[List],
 * RemoteIPInternalProxy[List], RemoteIPProxyProtocol[Exceptions]); startup.c registers it. */
extern const struct pt_conf_ext pt_remoteip_conf;

#endif
