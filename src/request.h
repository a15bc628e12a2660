/* src/: the request core, above base/, conf/, net/ and mpm/ and below the protocol drivers
 * (http1/) and the backends (proxy/, fcgi/), which it reaches only through registration
 * (the handler table in handler.h, the loader in loader.h).
 *
 * A request: parsed head, routing (virtual host, per-directory config), the handler call,
 * and the response writer that handlers use. A request and everything it allocates live in
 * its arena, which is reset when the request ends. One worker thread owns a request. */
#ifndef PT_REQUEST_H
#define PT_REQUEST_H

#include "arena.h"
#include "common.h"
#include "config.h"
#include "http1.h"
#include "table.h"

#include <sys/stat.h>
#include <sys/types.h>

typedef struct pt_conn pt_conn_t;

typedef struct pt_request {
    pt_arena_t *arena;
    pt_conn_t *conn;
    const pt_config_t *cfg;
    const pt_vhost_t *vhost;
    const pt_dir_config_t *dir;  /* merged for this request's file and URL */
    const pt_http1_request_t *h1; /* the parsed head: its slices point into the read buffer
                                    and are valid only until the body is read; use the
                                    copied fields below instead */

    const char *the_request;     /* request line as sent, for %r */
    const char *method;
    pt_method_t method_id;
    const char *protocol;        /* "HTTP/1.1" */
    int proto_num;               /* 1000 * major + minor: 1001 for HTTP/1.1 */
    const char *unparsed_uri;    /* request target as sent */
    const char *uri;             /* decoded path with dot-segments removed; what <Location>,
                                    Alias and DocumentRoot mapping see */
    const char *args;            /* query string without '?', NULL when none */
    const char *hostname;        /* Host without port, lower case; NULL when none */
    int host_port;               /* port given in Host, 0 when none */
    const char *scheme;          /* "http" or "https" */

    pt_table_t headers_in;
    pt_table_t headers_out;      /* sent with 2xx/3xx (and with errors if always) */
    pt_table_t err_headers_out;  /* sent with every response ("Header always") */
    pt_table_t env;              /* SetEnv, SetEnvIf; passed to FastCGI later */

    const char *filename;        /* mapped file path, NULL when not mapped */
    const char *path_info;       /* trailing path after an existing file, or NULL */
    size_t filename_root;        /* length of the mapping root (DocumentRoot, Alias target)
                                    at the start of filename: Options rule below it */
    struct stat finfo;
    bool finfo_valid;            /* filename exists and finfo is its lstat/stat */
    const char *content_type;
    const char *handler;         /* the name the handler was chosen by, for logs (%R):
                                    "static", "server-status", "proxy:fcgi://...", ... */
    const pt_backend_t *backend; /* where a proxy handler sends it (ProxyPass or SetHandler
                                    "proxy:..."), else NULL */
    const char *backend_path;    /* ProxyPass: the backend URL's path plus the rest of the
                                    request path (what SCRIPT_FILENAME starts from) */

    int status;                  /* status sent (or to send) */
    bool header_only;            /* HEAD: no body goes out */
    bool keepalive;              /* the connection may serve another request after this */
    int64_t bytes_sent;          /* body bytes written (%B) */
    int64_t content_length;      /* request body length, -1 chunked or none */
    bool has_body;
    int64_t start_wall_us;       /* wall clock when the head arrived (%t) */
    int64_t start_mono_us;       /* monotonic, for %D */
    const char *user;            /* %u; NULL */
    int redirects;               /* internal redirects so far (bounded) */
    const char *redirect_from;   /* uri before the last internal redirect */
    unsigned walk_options;       /* Options for symbolic links on the walk (PT_OPT_*) */
    unsigned dir_options;        /* Options of the directory walk (with <DirectoryMatch>) */
    uint64_t sections;           /* pt_walk_result_t.sections of r->dir, 0 when unknown */
    uint64_t prev_sections;      /* the same for the request before an internal redirect or
                                    the parent of a lookup: equal, Require is not run again */
    const char *walked_dir;      /* the directory the request before an internal redirect
                                    was walked to (with '/'), or NULL */
    const char *walked;          /* the name the walk got to (pt_walk_stat), or NULL */
    struct pt_sb_counters *sb_counters; /* where the request is counted (scoreboard.h) */
    bool sb_counted;             /* counted by status and method when its head was built */

    /* Response writer state (private to response.c). */
    int error_status;            /* an ErrorDocument is being served for this status */
    bool error_page;             /* the response is an error page: headers_out not sent */
    char *head;                  /* built head not yet written */
    size_t head_len;
    /* A proxied answer's tables as they were before pt_resp_start applied the Header rules
     * and moved the backend's fields, so that pt_resp_unstart can put them back. */
    pt_table_t unstart_out, unstart_err;
    bool head_sent;
    bool chunked_out;
    bool body_done;
    int64_t out_remaining;       /* bytes still promised by Content-Length; -1 chunked */
    /* Request body reader state (private to request.c). */
    pt_chunked_t chunk;
    int64_t body_left;
    bool body_eof;
    bool body_error;             /* framing broken: close the connection */
    int body_status;             /* the status that body error calls for (400, 408, 413) */
    bool sent_continue;
    int64_t body_start_ms;       /* first body read: RequestReadTimeout body= runs from it */
    int64_t body_bytes_in;       /* bytes read from the socket for the body (for MinRate) */
} pt_request_t;

/* Handlers return PT_DONE once they have sent a response, an HTTP status (>= 300) to have
 * the core send the error or redirect page (ErrorDocument applies), or a negative value when
 * the connection is broken (nothing more can be sent). */
#define PT_DONE 0
#define PT_DECLINED (-1)

/* ---- Response writer ---------------------------------------------------------------- */
/* Starts the response: applies Header rules, adds Date, Server, Content-Length (len >= 0)
 * or Transfer-Encoding: chunked (len < 0, HTTP/1.1) or close-delimited (HTTP/1.0), and
 * Connection, then buffers the head (it is written with the first body bytes). */
int pt_resp_start(pt_request_t *r, int status, int64_t len);
/* Forgets a head that pt_resp_start built and nothing has written yet, so that the handler
 * can still return an error status (a backend that failed after its head). PT_EINVAL when
 * the head went out. */
int pt_resp_unstart(pt_request_t *r);
/* Body bytes (ignored for HEAD). 0 or a negative error when the client is gone. */
int pt_resp_write(pt_request_t *r, const void *p, size_t n);
/* Body bytes from a file, by sendfile. */
int pt_resp_write_file(pt_request_t *r, int fd, off_t off, off_t len);
/* Ends the body (last chunk when chunked). */
int pt_resp_finish(pt_request_t *r);
/* Whole response from memory: start + write + finish. */
int pt_resp_send(pt_request_t *r, int status, const char *type, const void *body, size_t n);
/* The core's error or redirect page for status, honouring ErrorDocument. */
int pt_resp_send_error(pt_request_t *r, int status);
/* The Server header's value for a ServerTokens setting (also FastCGI's SERVER_SOFTWARE). */
const char *pt_server_banner(int tokens);

/* ---- Request body ------------------------------------------------------------------- */
/* Reads up to n bytes of decoded body (de-chunked). Returns bytes read, 0 at the end, or a
 * negative value; on error *status (if given) is 400, 408 or 413. Sends 100 Continue first
 * when the client asked for it. */
long pt_req_read_body(pt_request_t *r, void *buf, size_t n, int *status);
/* Reads and drops the rest of the body so the connection can be reused; negative when it
 * cannot be (then the connection closes). */
int pt_req_discard_body(pt_request_t *r);

/* ---- Routing ------------------------------------------------------------------------ */
/* Routes r->uri (normalized) and runs the handler: Redirect, Alias/DocumentRoot mapping,
 * per-directory config, SetEnvIf, RequestHeader, Require, handler. */
int pt_request_route(pt_request_t *r);
/* mod_dir's subrequest: runs the phases before the handler (redirects, mapping, walk,
 * access) for uri as a GET, without changing r. Returns 0 when they pass, else the status
 * (a redirect's Location is then set in r->err_headers_out). dirent: mod_autoindex's lookup
 * of a directory entry (no server-level Redirect, no query, r's Location left alone). */
int pt_request_lookup(pt_request_t *r, const char *uri, bool dirent);
/* Re-runs routing for a new URL-path (FallbackResource, ErrorDocument); query kept. Returns
 * what the new handler returned. Bounded to 10 redirects (then 500). */
int pt_request_internal_redirect(pt_request_t *r, const char *uri);

/* Client and local address text, for logs and CGI variables. */
const char *pt_request_client_ip(const pt_request_t *r);
int pt_request_client_port(const pt_request_t *r);
const char *pt_request_local_ip(const pt_request_t *r);
int pt_request_local_port(const pt_request_t *r);
const struct sockaddr *pt_request_client_addr(const pt_request_t *r);
/* The canonical server name and port for self-referential URLs (UseCanonicalName). */
const char *pt_request_server_name(const pt_request_t *r);
int pt_request_server_port(const pt_request_t *r);
/* The port Apache's ap_get_server_port gives for URLs it writes (redirects, the server
 * signature): Host's port, else ServerName's, else 80; with UseCanonicalName On,
 * ServerName's, else 80. */
int pt_request_url_port(const pt_request_t *r);
/* "http://name[:port]" + path, as Apache's ap_construct_url. */
const char *pt_request_absolute_url(pt_request_t *r, const char *path);

/* pt_log_error (base/log.h) with the request's client ("[client ip:port]"); r may be NULL.
 * Here, not in the log, because the error log knows no request. */
void pt_log_rerror(int level, const pt_request_t *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
