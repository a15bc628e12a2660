/* src/tls: the small HTTP/1.0 client that fetches an OCSP response for stapling: one POST
 * of a DER request to the responder's http:// URL (RFC 6960 appendix A.1), within a total
 * deadline, the answer's body bounded. Run by the parent's tick (stapling.c), never per
 * handshake. */
#ifndef PT_OCSP_FETCH_H
#define PT_OCSP_FETCH_H

#include <stddef.h>
#include <stdint.h>

/* The largest response body accepted: OCSP responses are a few KiB (one certificate's
 * status, perhaps the responder's certificate). */
#define PT_OCSP_RESPONSE_MAX (64 * 1024)

/* Splits "http://host[:port][/path]" (host may be a [v6] literal). host and port are
 * NUL-terminated copies; *path points into url ("/" when absent). 0, or -1 with a message
 * (not http, too long, empty host). */
int pt_ocsp_url_parse(const char *url, char *host, size_t hostlen, char *port, size_t portlen,
                      const char **path, char *err, size_t errlen);

/* One POST in flight, for a caller that must not block (the parent's tick): owns its
 * socket and buffers. */
typedef struct pt_ocsp_fetch pt_ocsp_fetch_t;

/* Starts POSTing req to url: the name resolved now (getaddrinfo, the one step that may
 * wait: an address literal or /etc/hosts does not), the connect begun. The whole exchange
 * must end within timeout_ms of now. NULL with a message in err. */
pt_ocsp_fetch_t *pt_ocsp_fetch_start(const char *url, const unsigned char *req, size_t reqlen,
                                     int64_t timeout_ms, char *err, size_t errlen);
/* Moves f on, waiting for the responder at most wait_ms (0: not at all): 1 when the answer
 * is in (the 200 answer's body in *out, malloc'd, *outlen bytes), 0 when it is not yet, -1
 * with a message in err (connect, timeout, a status other than 200, a body over
 * PT_OCSP_RESPONSE_MAX). After 1 or -1 only pt_ocsp_fetch_free. */
int pt_ocsp_fetch_step(pt_ocsp_fetch_t *f, int64_t wait_ms, unsigned char **out, size_t *outlen,
                       char *err, size_t errlen);
/* Closes the socket and frees f (NULL is fine). */
void pt_ocsp_fetch_free(pt_ocsp_fetch_t *f);

/* The same in one blocking call: POSTs req (application/ocsp-request) to url and returns the 200 answer's body in *out
 * (malloc'd, *outlen bytes; the caller frees it). Everything, name resolution aside,
 * happens within timeout_ms. 0, or -1 with a message in err (connect, timeout, a status
 * other than 200, a body over PT_OCSP_RESPONSE_MAX). */
int pt_ocsp_post(const char *url, const unsigned char *req, size_t reqlen, int64_t timeout_ms,
                 unsigned char **out, size_t *outlen, char *err, size_t errlen);

#endif
