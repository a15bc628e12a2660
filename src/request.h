/* src/: the request core, above base/, conf/, net/ and mpm/ and below the protocol drivers
 * (http1/) and the backends (proxy/, fcgi/), which it reaches only through registration
 * (the handler table in handler.h, the loader in loader.h).
 *
 * A request: parsed head, routing (virtual host, per-directory config), the handler call,
 * and the response writer that handlers use. A request and everything it allocates live in
 * its arena, which is reset when the request ends. One worker thread owns a request.
 *
 * The request is protocol-neutral: the protocol that carried it (HTTP/1 in src/http1, later
 * HTTP/2) fills the copied fields below from its own head and sets r->proto, the operations
 * through which the response writer (response.c) and the body reader (body.c) reach the
 * client. What a protocol keeps per request (a parsed head, framing state) hangs off
 * r->proto_ctx, opaque here. */
#ifndef PT_REQUEST_H
#define PT_REQUEST_H

#include "arena.h"
#include "common.h"
#include "config.h"
#include "dirconf_walk.h"
#include "semantics.h"
#include "buf.h"
#include "table.h"

#include <sys/stat.h>
#include <sys/types.h>

typedef struct pt_conn pt_conn_t;
typedef struct pt_request pt_request_t;

/* What the core decided about a response's head, handed to the protocol to serialize.
 * Lives for one send_head call; the table and its strings are in the request's arena. */
typedef struct {
    int status;
    /* Header rules applied, Date and Server added; no framing fields (Content-Length,
     * Transfer-Encoding, Connection): those are the protocol's, which may add its own to
     * this table (the core's scratch copy for this response). */
    pt_table_t *fields;
    int64_t length;            /* body bytes announced, -1 when not known in advance */
    bool no_body;              /* HEAD, 1xx, 204, 304: no body bytes follow the head */
} pt_resp_head_t;

/* The operations of the protocol that carries a request. A protocol's table is static and
 * shared; its per-request state is r->proto_ctx. They are called by the worker that owns
 * the request, never concurrently. They assume no status line, no chunking and no socket:
 * how the head and the body are framed, and where the bytes go, is theirs. Writes return 0
 * or a negative error (the client is gone: r->conn->aborted is then set). */
typedef struct pt_proto_ops {
    const char *name;            /* "HTTP/1.1", for logs */
    /* Whether the connection may serve another request after a response of len body bytes
     * (-1 unknown) with r->status: HTTP/1.0 ends a body of unknown length by closing. */
    bool (*keep_alive)(pt_request_t *r, int64_t len);
    /* Takes the head. The protocol may hold it until the first body bytes so that both
     * leave in one write; it sets r->head_sent once the head has gone to the client. */
    int (*send_head)(pt_request_t *r, const pt_resp_head_t *h);
    /* Sends body bytes (the held head first). NULL or an empty chain only sends the held
     * head. The chain is consumed; its buffers stay the caller's. */
    int (*send_body)(pt_request_t *r, pt_chain_t *body);
    /* Sends len bytes of file fd from off (the held head first). last: this range ends a
     * body of announced length, so the protocol may finish it after the call returns
     * (HTTP/1 hands the rest to the event listener); fd stays the caller's to close. */
    int (*send_file)(pt_request_t *r, int fd, off_t off, off_t len, bool last);
    /* Ends the body (HTTP/1: the last chunk), or sends the held head of a bodiless answer.
     * Called before r->body_done is set. */
    int (*finish)(pt_request_t *r);
    /* Reads up to n bytes of decoded request body: bytes (> 0), 0 at its end, or a negative
     * error with *status (400, 408). Sets r->body_eof once the last byte is delivered and
     * counts wire bytes in r->body_bytes_in. body.c applies the limits around it. */
    long (*read_body)(pt_request_t *r, void *buf, size_t n, int *status);
} pt_proto_ops_t;

struct pt_request {
    pt_arena_t *arena;
    pt_conn_t *conn;
    const pt_proto_ops_t *proto; /* the protocol that carries the request */
    void *proto_ctx;             /* its per-request state (HTTP/1: pt_h1_req_t), in arena */
    const pt_config_t *cfg;
    const pt_vhost_t *vhost;
    const pt_dir_config_t *dir;  /* merged for this request's file and URL */

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
    /* The client as mod_remoteip found it (remoteip.c), in the arena: NULL when the
     * connection's peer is the client. pt_request_client_ip/addr read these first. */
    const char *useragent_ip;
    const struct sockaddr *useragent_addr;

    pt_table_t headers_in;
    pt_table_t headers_out;      /* sent with 2xx/3xx (and with errors if always) */
    pt_table_t err_headers_out;  /* sent with every response ("Header always") */
    pt_table_t env;              /* SetEnv, SetEnvIf; passed to FastCGI later */
    bool route_defer;            /* routing chooses the handler and does not run it: set by
                                    pt_request_route_begin around its fixup phase */
    const struct pt_handler *route_handler; /* the handler an internal redirect chose then */
    pt_table_t notes;            /* Apache's r->notes (LogFormat %{NAME}n): set by
                                    DeflateFilterNote/BrotliFilterNote; zeroed until the first
                                    note (pt_table_init on first use) */
    pt_table_t trailers_in;      /* request trailer fields, as Apache's r->trailers_in: set
                                    once the body has been read to its end (HTTP/2; HTTP/1's
                                    chunked trailers are discarded); LogFormat %{NAME}^ti */

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
    const pt_proxy_pass_t *proxy_pass; /* the ProxyPass rule that chose r->backend (its
                                    nocanon and noquery flags), else NULL */

    int status;                  /* status sent (or to send) */
    bool header_only;            /* HEAD: no body goes out */
    bool keepalive;              /* the connection may serve another request after this */
    int64_t bytes_sent;          /* body bytes written (%B) */
    int64_t content_length;      /* request body length, -1 chunked or none */
    bool has_body;
    bool expects_continue;       /* the client waits for a go-ahead (Expect: 100-continue)
                                    before it sends the body */
    int64_t head_bytes_in;       /* bytes of the request head as received (%I), 0 when
                                    none was parsed */
    int64_t start_wall_us;       /* wall clock when the head arrived (%t) */
    int64_t start_mono_us;       /* monotonic, for %D */
    const char *user;            /* %u; NULL */
    const char *ssl_fake_auth;   /* the Authorization value SSLOptions +FakeBasicAuth set
                                    (ssl_access.c), kept across internal redirects; NULL */
    bool xfp_by_rule;            /* a RequestHeader rule for X-Forwarded-Proto applied (its
                                    env=/expr= condition held): the proxy passes the field
                                    as the rules left it (behind a trusted TLS terminator,
                                    "RequestHeader edit X-Forwarded-Proto ^(.*)$ $1"); else
                                    it writes the scheme the client used */
    /* headers_in as they were before the RequestHeader rules of the last routing that was
     * not mod_dir's move (a copy, in the arena; NULL when no rule ran), and xfp_by_rule then:
     * a move applies its file's rules instead (request.c, apply_request_headers). moving: the
     * routing in progress is such a move (a fast redirect). */
    pt_table_t *headers_in_unfixed;
    bool xfp_unfixed;
    bool moving;
    int redirects;               /* internal redirects so far (bounded) */
    const char *redirect_from;   /* uri before the last internal redirect or mod_dir's move:
                                    the request is being routed again */
    /* The request before its first internal redirect (Apache's first of the r->prev chain),
     * for LogFormat's items that read it (%U %s %R by default, the others with '<'); not set
     * by mod_dir's moves (fast redirects: the request is the same one). uri NULL until. */
    struct {
        const char *uri, *args, *method, *filename, *handler;
        int status;
    } orig;
    const char *prev_uri;        /* Apache's r->prev->uri (REDIRECT_URL): the uri before the
                                    last internal redirect, not mod_dir's move (a fast
                                    redirect, which has no r->prev); NULL */
    unsigned walk_options;       /* Options for symbolic links on the walk (PT_OPT_*) */
    unsigned dir_options;        /* Options of the directory walk (with <DirectoryMatch>) */
    uint64_t sections;           /* pt_walk_result_t.sections of r->dir, 0 when unknown */
    uint64_t prev_sections;      /* the same for the request before an internal redirect or
                                    the parent of a lookup: equal, Require is not run again */
    const char *walked_dir;      /* the directory the request before an internal redirect
                                    was walked to (with '/'), or NULL */
    const char *walked;          /* the name the walk got to (pt_walk_stat), or NULL */
    /* mod_rewrite (rewrite_request.c): what its rules forced (T=, H=), kept across internal
     * redirects as Apache's notes; rewrite_end: an [END] rule applied, no more rewriting. */
    const char *rewrite_type;
    const char *rewrite_handler;
    bool rewrite_end;
    /* The status routing ended with is a rule's ([R], [F], [G], R=4xx). Apache's hooks give
     * r->status back 200 before they return it, so ap_die takes it as a new error, not as
     * an ErrorDocument failing (response.c). Set by rewrite_request.c, cleared by response.c
     * before it routes an ErrorDocument. */
    bool rewrite_answered;
    struct pt_sb_counters *sb_counters; /* where the request is counted (scoreboard.h) */
    bool sb_counted;             /* counted by status and method when its head was built */

    /* Response writer state (response.c's; the protocol sets head_sent). */
    int error_status;            /* an ErrorDocument is being served for this status */
    bool error_page;             /* the response is an error page: headers_out not sent */
    /* A proxied answer's tables as they were before pt_resp_start applied the Header rules
     * and moved the backend's fields, so that pt_resp_unstart can put them back. */
    pt_table_t unstart_out, unstart_err;
    bool head_built;             /* pt_resp_start gave the protocol a head (perhaps held) */
    bool head_sent;              /* the head has gone to the client */
    bool body_done;
    int64_t out_remaining;       /* bytes still promised by the length; -1 unknown */
    struct pt_compress *compress; /* the body's encoder (compress.h), NULL when none */
    /* Request body reader state (body.c's; the protocol sets body_eof, body_bytes_in). */
    int64_t body_read;           /* decoded body bytes delivered so far */
    bool body_started;           /* the first read went to the protocol (100 Continue sent) */
    bool body_eof;
    bool body_error;             /* framing broken: close the connection */
    int body_status;             /* the status that body error calls for (400, 408, 413) */
    int64_t body_start_ms;       /* first body read: RequestReadTimeout body= runs from it */
    int64_t body_bytes_in;       /* bytes read from the client for the body (for MinRate) */
    /* Suspension (pt_request_suspend): may_suspend is the protocol's word that its driver
     * can park the request (HTTP/1 under the event MPM); route_depth counts the routings
     * in progress, so that only the handler of the outermost one suspends; suspend is set
     * by pt_request_suspend for the protocol to park. */
    bool may_suspend;
    int route_depth;
    struct pt_suspend *suspend;
};

/* Handlers return PT_DONE once they have sent a response, an HTTP status (>= 300) to have
 * the core send the error or redirect page (ErrorDocument applies), or a negative value when
 * the connection is broken (nothing more can be sent). */
#define PT_DONE 0
#define PT_DECLINED (-1)
/* The handler parked the request (pt_request_suspend): its answer comes later. */
#define PT_SUSPENDED (-1100)

/* ---- Suspension -------------------------------------------------------------------- */
/* A handler waiting for a backend's answer may give its worker back meanwhile: the
 * protocol parks the request, with its arena, until fd is readable or deadline_ms passes,
 * and a worker (perhaps another) calls resume, whose result is what the handler would have
 * returned (it may suspend again). Only where pt_request_may_suspend says so: the
 * outermost handler of an HTTP/1 request under the event MPM. Anything the handler keeps
 * must be in r's arena or reachable from ctx; nothing of its thread (a thread's buffer) is
 * there when it resumes. fd is borrowed for the wait (net/task.h's PT_PARK_UPSTREAM).
 * abandon runs instead of resume when the connection is destroyed first (a child's forced
 * exit): give back what the handler holds. */
typedef struct pt_suspend {
    int fd;
    uint64_t *reg;      /* where fd's holder keeps its registration with the MPM between
                           borrowers (0 at first; the MPM writes it): a wait then needs no
                           system call. NULL: none kept */
    int64_t deadline_ms;
    int (*resume)(pt_request_t *r, void *ctx, bool timed_out);
    void (*abandon)(pt_request_t *r, void *ctx);
    void *ctx;
} pt_suspend_t;

bool pt_request_may_suspend(const pt_request_t *r);
/* Records s (copied) for the protocol; returns PT_SUSPENDED, for the handler to return. */
int pt_request_suspend(pt_request_t *r, const pt_suspend_t *s);

/* ---- Response writer ---------------------------------------------------------------- */
/* Starts the response: applies Header rules, adds Date and Server, decides keep-alive and
 * the body length (len >= 0 bytes, or < 0 unknown), and gives the head to the protocol,
 * which frames it (HTTP/1: Content-Length, chunked or close-delimited, Connection) and
 * writes it with the first body bytes. */
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
/* For a protocol's read_body: how long it may still wait for body bytes now (the body part
 * of RequestReadTimeout with MinRate, else Timeout); <= 0 when the time is up. */
int64_t pt_req_body_wait_ms(const pt_request_t *r);
/* For a protocol's read_body when the wait ran out: logs it, *status = 408, PT_ETIMEOUT. */
int pt_req_body_timed_out(pt_request_t *r, int *status);

/* ---- Routing ------------------------------------------------------------------------ */
/* Routes r->uri (normalized) and runs the handler: the server's and <Location>s' Redirects,
 * Alias/DocumentRoot mapping, per-directory config, SetEnvIf, RequestHeader, Require, the
 * fixups (per-directory RewriteRules, the sections' Redirects), handler. */
int pt_request_route(pt_request_t *r);
/* mod_dir's move to an index file or a FallbackResource (a subrequest, then
 * ap_internal_fast_redirect): routes uri; when its phases answer (a redirect, a refusal,
 * a missing file) the request as it was answers with that status and its own config, else
 * the handler they chose runs. Returns as pt_request_route. */
int pt_request_lookup_redirect(pt_request_t *r, const char *uri);
/* pt_request_route without running the handler: the phases before it, then *h is the
 * handler that would run (0), or the status they ended with. For a protocol that chooses
 * where a request runs by what its handler is (HTTP/2 serves static files inline). */
struct pt_handler;
int pt_request_route_begin(pt_request_t *r, const struct pt_handler **h);
/* Whose subrequest a lookup is, which decides what of its answer reaches the request. */
typedef enum {
    PT_LOOKUP_INDEX,  /* mod_dir's, of a DirectoryIndex name: a redirect it meets is the
                         request's answer, so its Location is set in r->err_headers_out */
    PT_LOOKUP_URL,    /* mod_rewrite's -U: only the status counts; r is left alone */
    PT_LOOKUP_DIRENT, /* mod_autoindex's, of a directory entry: no URL translation (no
                         server-level Redirect nor a <Location>'s one-argument one before the
                         access checks), no query; r is left alone */
} pt_lookup_kind_t;
/* A subrequest: runs the phases before the handler (redirects, mapping, walk, access, the
 * sections' Redirects) for uri as a GET, without changing r but as kind says. Returns 0 when
 * they pass, else the status. */
int pt_request_lookup(pt_request_t *r, const char *uri, pt_lookup_kind_t kind);
/* Re-runs routing for a new URL-path (ErrorDocument, a rewrite's or a script's local
 * redirect); query kept. Returns what the new handler returned. Bounded to 10 redirects
 * (then 500). The request as it was is kept for the log (pt_request_keep_original). */
int pt_request_internal_redirect(pt_request_t *r, const char *uri);
/* Keeps r as it is now as r->orig, the request before the first internal redirect (status
 * is its status, Apache's ap_die sets it for an ErrorDocument; 200 otherwise); no-op when
 * one is kept. Called by pt_request_internal_redirect, and by the ErrorDocument's code before
 * it changes the method and query. */
void pt_request_keep_original(pt_request_t *r, int status);

/* Phases a module above routing adds (mod_rewrite: src/rewrite_request.h), set once at
 * start-up (src/loader.c) so that routing calls up without depending on what is above. Each
 * may be NULL. translate: before URL mapping, 0 or a status, *mapped when it gave the file or
 * backend; fixup: after the access checks, the first of Apache's fixups, 0 or a status, and
 * *again set to a URL-path to serve from the start (an internal redirect, which routing makes
 * once the fixups after it passed); handler: once the handler and type are chosen, 0 or a
 * status. */
typedef struct {
    int (*translate)(pt_request_t *r, bool lookup, bool *mapped);
    int (*fixup)(pt_request_t *r, const char **again);
    int (*handler)(pt_request_t *r, const struct pt_handler **h);
} pt_request_phases_t;
void pt_request_set_phases(const pt_request_phases_t *p);

/* Client and local address text, for logs and CGI variables. */
const char *pt_request_client_ip(const pt_request_t *r);
int pt_request_client_port(const pt_request_t *r);
const char *pt_request_local_ip(const pt_request_t *r);
int pt_request_local_port(const pt_request_t *r);
const struct sockaddr *pt_request_client_addr(const pt_request_t *r);
/* The connection's peer as TCP saw it, whatever mod_remoteip found (%{c}a): the load
 * balancer's address when a PROXY protocol header named the client. */
const char *pt_request_peer_ip(const pt_request_t *r);
/* The canonical server name and port for self-referential URLs (UseCanonicalName). */
const char *pt_request_server_name(const pt_request_t *r);
int pt_request_server_port(const pt_request_t *r);
/* The port Apache's ap_get_server_port gives for URLs it writes (redirects, the server
 * signature): Host's port, else ServerName's, else the scheme's default (80, 443 over
 * TLS); with UseCanonicalName On, ServerName's, else the default. */
int pt_request_url_port(const pt_request_t *r);
/* Apache's ap_construct_url, the one builder of this server's URLs (redirects, DirectorySlash,
 * ProxyPassReverse, QualifyRedirectURL): "scheme://name[:port]" + uri, the scheme the
 * connection's (https over TLS), name and port as pt_request_server_name and
 * pt_request_url_port give them, the port left out when it is the scheme's default. uri
 * goes in as it is: a caller with a decoded path escapes it (pt_uri_escape_path). */
const char *pt_request_construct_url(pt_request_t *r, const char *uri);

/* pt_log_error (base/log.h) with the request's client ("[client ip:port]"); r may be NULL.
 * Here, not in the log, because the error log knows no request. */
void pt_log_rerror(int level, const pt_request_t *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with an Apache module's tag ("[proxy_http:error]", pt_log_merror). */
void pt_log_rmerror(const char *module, int level, const pt_request_t *r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
