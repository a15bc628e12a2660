/* The HTTP/1.1 connection driver (h1_conn.c): what startup.c registers with the MPM as the
 * protocol of fresh connections (pt_conn_proto_t); the MPM itself names none of it. */
#ifndef PT_H1_CONN_H
#define PT_H1_CONN_H

#include "conn.h"

/* Serves requests on a readable connection until it would wait for the client; says what
 * to do with it next. */
pt_conn_next_t pt_conn_serve(pt_worker_t *w, pt_conn_t *c);
/* Sends a canned "status, no body, close" answer without blocking (the listener's 408). */
void pt_conn_send_status(pt_conn_t *c, int status);

#endif
