/* The HTTP/1.1 connection driver (h1_conn.c): what startup.c registers with the MPM as the
 * protocol of fresh connections (pt_conn_proto_t); the MPM itself names none of it. */
#ifndef PT_H1_CONN_H
#define PT_H1_CONN_H

#include "conn.h"
#include "http1.h"

/* Serves requests on a readable connection until it would wait for the client; says what
 * to do with it next. */
pt_conn_next_t pt_conn_serve(pt_worker_t *w, pt_conn_t *c);
/* Sends a canned "status, no body, close" answer without blocking (the listener's 408). */
void pt_conn_send_status(pt_conn_t *c, int status);

/* Hand-offs to HTTP/2 (h2c), registered by startup.c so that http1 names no HTTP/2; NULL
 * when none is. On the worker serving c; each returns true when it switched c->proto
 * (pt_conn_serve then hands c to the new driver). preface: c begins with the HTTP/2
 * connection preface (in c->rbuf at rpos). upgrade: the parsed head h asks for
 * "Upgrade: h2c" (the 101 is written and h's bytes consumed when it switches). */
typedef struct {
    bool (*preface)(pt_conn_t *c);
    bool (*upgrade)(pt_conn_t *c, const pt_http1_request_t *h);
} pt_h1_handoff_t;
extern const pt_h1_handoff_t *pt_h1_handoff;

#endif
