/* The HTTP/1 driver's side of a request: what it keeps per request behind r->proto_ctx
 * (the parsed head, the response head it holds until the first body bytes, the framing of
 * both bodies) and its pt_proto_ops_t. h1_conn.c runs the connection, h1_output.c writes
 * responses (status line, chunked framing, the write-completion tail), h1_body.c reads
 * request bodies (Content-Length, de-chunking, 100-continue). */
#ifndef PT_H1_H
#define PT_H1_H

#include "http1.h"
#include "request.h"

/* Owned by the request: allocated in its arena, gone when the request ends. */
typedef struct pt_h1_req {
    /* The parsed head, NULL for a rejected one. Its slices point into the connection's read
     * buffer and are valid only until the body is read: the request's copied fields are
     * what handlers use. */
    const pt_http1_request_t *head;
    char *out;             /* the response head, built and held until written */
    size_t out_len;
    bool chunked_out;      /* the response body is sent chunked */
    pt_chunked_t chunk;    /* request body de-chunking */
    int64_t body_left;     /* Content-Length bytes not yet read */
    bool sent_continue;
} pt_h1_req_t;

extern const pt_proto_ops_t pt_h1_proto;

/* Makes r an HTTP/1 request: r->proto, and a fresh pt_h1_req_t in r's arena for head (NULL
 * for a head that could not be parsed), with its body framing state. */
pt_h1_req_t *pt_h1_attach(pt_request_t *r, const pt_http1_request_t *head);

/* h1_output.c */
bool pt_h1_keep_alive(pt_request_t *r, int64_t len);
int pt_h1_send_head(pt_request_t *r, const pt_resp_head_t *h);
int pt_h1_send_body(pt_request_t *r, pt_chain_t *body);
int pt_h1_send_file(pt_request_t *r, int fd, off_t off, off_t len, bool last);
int pt_h1_finish(pt_request_t *r);
/* h1_body.c */
long pt_h1_read_body(pt_request_t *r, void *buf, size_t n, int *status);

#endif
