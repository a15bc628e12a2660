/* HTTP semantics shared by every protocol version (RFC 9110): method identifiers, the
 * status codes that carry no body, and the reason phrases. The HTTP/1 parser and the
 * protocol-neutral request core both use these names; nothing here knows a wire format. */
#ifndef PT_SEMANTICS_H
#define PT_SEMANTICS_H

#include <stdbool.h>

typedef enum {
    PT_METHOD_OTHER = 0,
    PT_METHOD_GET,
    PT_METHOD_HEAD,
    PT_METHOD_POST,
    PT_METHOD_PUT,
    PT_METHOD_DELETE,
    PT_METHOD_OPTIONS,
    PT_METHOD_TRACE,
    PT_METHOD_CONNECT,
    PT_METHOD_PATCH,
} pt_method_t;

/* The reason phrase for a status code ("Not Found"), "Unknown" when not known. HTTP/1's
 * status line and the error pages' titles use it; HTTP/2 sends no reason. */
const char *pt_http_reason(int status);
/* False for the statuses whose responses never carry a body (1xx, 204, 304: RFC 9110
 * sections 15.2, 15.3.5, 15.4.5). Inline: a response asks four times. */
static inline bool pt_status_has_body(int status)
{
    return !(status < 200 || status == 204 || status == 304);
}

#endif
