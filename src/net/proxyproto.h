/* The HAProxy PROXY protocol header (versions 1 and 2) that a layer-4 load balancer sends at
 * the start of a connection to name the client it accepted. A pure parser: bytes in, the
 * addresses out; src/remoteip.c reads the bytes from the connection and decides. Spec:
 * https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt */
#ifndef PT_PROXYPROTO_H
#define PT_PROXYPROTO_H

#include "common.h"

#include <netinet/in.h>
#include <sys/socket.h>

#define PT_PROXYPROTO_V1_MAX 107  /* the spec's bound on a v1 line, CRLF included */
#define PT_PROXYPROTO_V2_MAX 4096 /* ours on a v2 header with its TLVs (AWS and GCP add
                                     some; the spec's own limit is 16 + 65535) */

typedef enum {
    PT_PROXYPROTO_DONE,   /* a whole header: out is filled */
    PT_PROXYPROTO_AGAIN,  /* what came so far is a valid start: more bytes are needed */
    PT_PROXYPROTO_ERROR,  /* not a PROXY header, or a malformed one: *why says what */
} pt_proxyproto_result_t;

typedef struct {
    int version;             /* 1 or 2 */
    /* v1 UNKNOWN, v2 LOCAL, or a v2 family without IP addresses (UNSPEC, UNIX): the
     * connection's own addresses stand (a health check from the balancer itself). */
    bool local;
    struct sockaddr_storage src, dst; /* the client and the address it connected to */
    size_t len;              /* bytes of the header, to consume before the protocol */
} pt_proxyproto_t;

/* Parses the header at the start of the n bytes at p. Never reads past n; never needs
 * more than PT_PROXYPROTO_V2_MAX bytes to decide. */
pt_proxyproto_result_t pt_proxyproto_parse(const uint8_t *p, size_t n, pt_proxyproto_t *out,
                                           const char **why);

#endif
