/* src/fcgi/: the FastCGI scheme of the proxy, the top floor below main.c and startup.c.
 *
 * The FastCGI client's parts, shared inside src/fcgi (and by its tests): record encoding and
 * an incremental record decoder (record.c), the CGI response head parser (cgihead.c) and the
 * CGI/1.1 parameters of a request (params.c). Connections, pools and what a failure means are
 * the upstream engine's (src/proxy). The wire definitions are libfcgi's fastcgi.h. */
#ifndef PT_FCGI_H
#define PT_FCGI_H

#include "arena.h"
#include "cgivars.h"
#include "common.h"
#include "config.h"
#include "table.h"

#include <fastcgi.h>
#include <sys/types.h>

struct pt_request;

/* The one request id used per connection: portico never multiplexes (php-fpm cannot). */
#define PT_FCGI_REQUEST_ID 1
/* Largest record content portico writes: a multiple of 8, so no padding is needed. */
#define PT_FCGI_MAX_CONTENT 0xfff8
/* Bound on the CGI response head (Status, Location, headers) from a backend. */
#define PT_FCGI_MAX_HEAD (64 * 1024)

/* ---- Records (record.c) ------------------------------------------------------------- */

/* Writes an 8-byte record header into out. */
void pt_fcgi_header_put(unsigned char *out, int type, unsigned id, size_t clen, size_t pad);
/* BEGIN_REQUEST (header and body, 16 bytes) for the responder role. */
void pt_fcgi_begin_put(unsigned char *out, unsigned id, bool keep_conn);
/* Bytes a name-value pair takes (1-byte lengths below 128, else 4-byte). */
size_t pt_fcgi_nv_size(size_t nlen, size_t vlen);
/* Writes a name-value pair at out (pt_fcgi_nv_size bytes); returns bytes written. */
size_t pt_fcgi_nv_put(unsigned char *out, const char *name, size_t nlen, const char *value,
                      size_t vlen);
/* Reads one name-value pair from p: 0 with *used set, or PT_EINVAL when it is truncated. */
int pt_fcgi_nv_get(const unsigned char *p, size_t len, pt_str_t *name, pt_str_t *value,
                   size_t *used);

/* A stream of name-value pairs built in an arena, then cut into PARAMS records. */
typedef struct {
    pt_arena_t *arena;
    unsigned char *p;
    size_t len, cap;
} pt_fcgi_params_t;

void pt_fcgi_params_init(pt_fcgi_params_t *pp, pt_arena_t *a);
void pt_fcgi_params_add(pt_fcgi_params_t *pp, const char *name, const char *value);
/* The PARAMS records for the stream, the empty one that ends it included: a buffer from
 * the arena of *len bytes. */
unsigned char *pt_fcgi_params_records(const pt_fcgi_params_t *pp, unsigned id, size_t *len);

/* What the decoder found. Data slices point into the caller's buffer. */
typedef enum {
    PT_FCGI_EV_NONE,   /* all input consumed, nothing to report */
    PT_FCGI_EV_STDOUT, /* data (may be empty: the end of the stream) */
    PT_FCGI_EV_STDERR,
    PT_FCGI_EV_END,    /* END_REQUEST: app_status, protocol_status */
} pt_fcgi_ev_type_t;

typedef struct {
    pt_fcgi_ev_type_t type;
    pt_str_t data;
    uint32_t app_status;
    int protocol_status;
} pt_fcgi_event_t;

/* Incremental decoder of the records a backend sends for one request. */
typedef struct {
    unsigned id;             /* the request id we expect */
    int state;               /* private */
    unsigned char hdr[FCGI_HEADER_LEN];
    size_t hlen;
    int type;
    size_t content_left, pad_left;
    unsigned char body[8];   /* END_REQUEST body, gathered across reads */
    size_t blen;
    bool ended;              /* END_REQUEST seen: anything after it is an error */
    const char *error;       /* why PT_EINVAL was returned (static text) */
} pt_fcgi_decoder_t;

void pt_fcgi_decoder_init(pt_fcgi_decoder_t *d, unsigned id);
/* Consumes input from buf until one event is ready or the input is used up: returns 0 and
 * sets *used and *ev (type NONE when nothing happened), or PT_EINVAL on a malformed record
 * (d->error says why). */
int pt_fcgi_decode(pt_fcgi_decoder_t *d, const unsigned char *buf, size_t len, size_t *used,
                   pt_fcgi_event_t *ev);

/* ---- CGI response head (cgihead.c) ---------------------------------------------------- */

/* Gathers STDOUT bytes until the blank line that ends the head, bounded by max. */
typedef struct {
    char *buf;               /* from the arena */
    size_t len, cap, max;
    pt_arena_t *arena;
} pt_fcgi_head_t;

void pt_fcgi_head_init(pt_fcgi_head_t *h, pt_arena_t *a, size_t max);
/* Takes bytes from p; *used says how many belong to the head. Returns 1 when the head is
 * complete (the rest of p is body), 0 when more is needed, PT_ETOOBIG past the bound. */
int pt_fcgi_head_feed(pt_fcgi_head_t *h, const char *p, size_t n, size_t *used);

/* The head, parsed (RFC 3875 section 6). */
typedef struct {
    int status;              /* from Status, else 302 for a client redirect, else 200 */
    const char *reason;      /* from Status, or NULL */
    const char *location;    /* NULL when none */
    bool local_redirect;     /* Location is a local path and no Status was given */
    const char *content_type;
    pt_table_t headers;      /* every other header (Set-Cookie kept apart), in order */
} pt_fcgi_cgi_t;

/* Parses a complete head (as gathered by pt_fcgi_head_feed). PT_EINVAL with *why set when
 * a line is not a header or Status is not a three-digit code from 100 to 599. */
int pt_fcgi_head_parse(pt_arena_t *a, const char *head, size_t len, pt_fcgi_cgi_t *out,
                       const char **why);

/* ---- Parameters (params.c) ------------------------------------------------------------ */

/* Where the script is: the SCRIPT_FILENAME, SCRIPT_NAME and PATH_INFO of a request. */
typedef pt_cgi_script_t pt_fcgi_script_t;

/* pt_cgi_script_locate (cgivars.h), under the gateway's name. */
int pt_fcgi_script_locate(struct pt_request *r, pt_fcgi_script_t *s);

/* The FastCGI gateway (fcgi_handler.c): SetHandler "proxy:fcgi://..." or
 * "proxy:unix:/path|fcgi://...", and ProxyPass to fcgi:// URLs (r->backend is set).
 * startup.c registers it as the handler for the "fcgi" scheme (handler.h). */
int pt_fcgi_handler(struct pt_request *r);
/* For ProxyPass: SCRIPT_FILENAME from r->backend_path, which is decoded already (as is for
 * FPM, escaped into a proxy:fcgi:// URL for GENERIC). */
void pt_fcgi_script_from_backend(struct pt_request *r, bool fpm, pt_fcgi_script_t *s);
/* All CGI/1.1 variables for the request, as Apache's mod_proxy_fcgi sends them;
 * content_length < 0 leaves CONTENT_LENGTH to the request header (or out). */
void pt_fcgi_params_build(struct pt_request *r, const pt_fcgi_script_t *s,
                          int64_t content_length, pt_fcgi_params_t *pp);

/* ---- The scheme (fcgi_handler.c) ------------------------------------------------------ */

struct pt_proxy_scheme;
/* fcgi:// for proxy/scheme.h: startup.c registers it before loading a configuration. */
extern const struct pt_proxy_scheme pt_fcgi_scheme;
/* The FastCGI directives (ProxyFCGI*), added to conf by startup.c at start-up
 * (directives_fcgi.c). */
extern const struct pt_conf_ext pt_fcgi_conf;

#endif
