/* src/http2/: HTTP/2 (RFC 9113) with nghttp2, above http1 and below proxy. What the floors
 * above see of it: the connection driver that startup.c registers (and that TLS selects by
 * ALPN "h2"), the hand-offs from HTTP/1 (the h2c preface, Upgrade: h2c), and the H2*
 * directives as a pt_conf_ext_t.
 *
 * The model is Apache mod_http2's: a session (h2_session.c) owns the connection and every
 * nghttp2 call, on one thread at a time (the MPM worker serving the connection: "c1");
 * each request is a stream (h2_stream.c) served through the protocol-neutral request
 * (pt_proto_ops_t): on the session's thread when its handler cannot block and its answer
 * is small (a static file, a status page, an error or a redirect: no hand-off), else by a
 * thread of the HTTP/2 worker pool (h2_workers.c: "c2"), since handlers block (FastCGI,
 * proxy). Between them, per stream, bounded buffers: request body bytes limited by the
 * stream's flow-control window, response bytes by H2StreamMaxMemSize. Under the event MPM
 * a session holds no worker while it waits: idle, it is parked in the listener like an
 * HTTP/1 keep-alive connection; with streams running, on its socket and its wakeup. */
#ifndef PT_H2_H
#define PT_H2_H

#include "conn.h"
#include "directives.h"
#include "h1.h"

/* The H2* settings of one server (pt_vhost_t.h2; NULL there means these defaults). Made in
 * the configuration's arena by directives_h2.c; read-only once loaded. */
typedef struct pt_h2_conf {
    int max_session_streams;   /* H2MaxSessionStreams (100) */
    int window_size;           /* H2WindowSize: each stream's receive window (65535) */
    size_t stream_max_mem;     /* H2StreamMaxMemSize: response bytes buffered per stream
                                  between its worker and the session (65536) */
    int direct;                /* H2Direct: -1 unset (on for h2c), 0 off, 1 on */
    int upgrade;               /* H2Upgrade: -1 unset (on), 0 off, 1 on */
    int max_data_frame_len;    /* H2MaxDataFrameLen: DATA payload bytes; 0 no limit but
                                  the peer's SETTINGS_MAX_FRAME_SIZE */
    int max_header_block_len;  /* H2MaxHeaderBlockLen: a response's header block; 0:
                                  nghttp2's 64 KiB */
    int64_t stream_timeout_ms; /* H2StreamTimeout: a stream's wait for the client to take
                                  its output; 0: Timeout */
    int max_stream_errors;     /* H2MaxStreamErrors: invalid frames on streams before the
                                  session ends with ENHANCE_YOUR_CALM (8) */
    int padding_bits;          /* H2Padding: 0..8, pad frames by up to 2^n-1 bytes (0) */
    int modern_tls_only;       /* H2ModernTLSOnly: -1 unset (on), 0 off, 1 on */
    /* The HTTP/2 worker pool of each child (main server only; h2_workers.c). */
    int max_workers;           /* H2MaxWorkers (256) */
    int min_workers;           /* H2MinWorkers (0: threads stay once started) */
    int64_t worker_idle_ms;    /* H2MaxWorkerIdleSeconds: a thread above H2MinWorkers
                                  idle that long ends (0: never) */
} pt_h2_conf_t;

extern const pt_conf_ext_t pt_h2_conf_ext;
/* The settings that apply to vh (its own, else the main server's, else the defaults). */
const pt_h2_conf_t *pt_h2_conf(const pt_config_t *cfg, const pt_vhost_t *vh);
/* Whether vh's Protocols (or the main server's) list name ("h2", "h2c"). */
bool pt_h2_protocol_enabled(const pt_config_t *cfg, const pt_vhost_t *vh, const char *name);

/* The HTTP/2 connection driver (h2_session.c). */
extern const pt_conn_proto_t pt_h2_conn_proto;

/* Switches c to HTTP/2 (h2_switch.c), on the worker serving it. Each returns true when
 * c->proto is now the HTTP/2 driver (which then serves it) and false when c stays as it
 * was. start: unconditionally (TLS after ALPN "h2"); preface: c begins with the h2c
 * preface and its server has h2c in Protocols (and H2Direct not off); upgrade: the HTTP/1.1
 * head h asks "Upgrade: h2c" with HTTP2-Settings and its server allows it (101 written, the
 * request becomes stream 1, h's bytes consumed). preface and upgrade are what startup.c
 * registers with HTTP/1 (pt_h1_handoff_t). */
bool pt_h2_start(pt_conn_t *c);
bool pt_h2_preface(pt_conn_t *c);
bool pt_h2_upgrade(pt_conn_t *c, const pt_http1_request_t *h);

#endif
