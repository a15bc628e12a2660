/* Inside src/http2: the session (c1, h2_session.c), its streams (c2, h2_stream.c) and the
 * worker pool that runs the streams that may block (h2_workers.c), and what passes
 * between them.
 *
 * Threads: the session's fields marked [c1] are touched only by the thread driving the
 * session (the MPM worker serving the connection), which alone calls nghttp2. Fields
 * marked [lock] are shared with the stream's worker under the session's lock. Fields
 * marked [c2] are the stream worker's (the session's own thread for a stream run inline). A stream is freed by the session once it is closed
 * on the wire and its worker is done with it (or it never had one). */
#ifndef PT_H2_INT_H
#define PT_H2_INT_H

#include "h2.h"
#include "h2_check.h"
#include "h2_mem.h"
#include "request.h"

#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct h2_session h2_session_t;
typedef struct h2_stream h2_stream_t;

/* A token bucket against floods: burst frames at once, refilled at rate a second. */
typedef struct {
    double tokens;
    int64_t last_ms;
} h2_bucket_t;

struct h2_stream {
    h2_session_t *s;
    int32_t id;
    pt_task_t task;            /* how the pool runs it */
    h2_stream_t *next;         /* [c1] the session's list */
    pt_arena_t *arena;         /* the request as received and the response head: [c1]
                                  until queued, then [c2]; freed with the stream */
    /* The request [c1 until queued, read-only after]. */
    const char *method, *scheme, *authority, *path;
    size_t path_len;           /* :path's length before its query (request_new) */
    pt_table_t headers;
    size_t head_bytes;         /* decoded header bytes (name + value + 32 each) */
    size_t trailer_bytes;      /* [c1] the same for trailers (after queued) */
    bool end_on_headers;       /* no body */
    bool host_kept;            /* [c1] its request's host is the session's auth_host */
    bool too_big;              /* header list over the limit: answered 431 by the session */
    bool bad;                  /* malformed (answered 400 by the session) */
    bool queued;               /* [c1] started: to be run, inline or by the pool */
    /* The request made and routed up to its handler by the session (in arena), answered
       inline or by the pool: [c1] until queued, then [c2]. */
    pt_request_t *req;
    int req_code;              /* the status routing ended with, or 0: req_handler answers */
    const struct pt_handler *req_handler;
    bool on_c1;                /* [c1] run inline, on the session's thread: its output never
                                  waits (the session sends it after) and wakes nothing */
    h2_stream_t *pend_next;    /* [c1] the session's streams started and not yet run */
    /* [lock] request body from the session to the worker: at most the stream window. */
    char *in;
    size_t in_len, in_cap;
    bool in_eof;
    size_t consumed;           /* taken by the worker, not yet given back as window */
    /* [lock] request trailer fields as received: name NUL value NUL, one after another;
       the worker takes them into r->trailers_in once it reads the body's end. */
    char *tr;
    size_t tr_len;
    int tr_fields;             /* [c1] */
    bool tr_dropped;           /* [c1] some were over the limits (logged) */
    bool continue_wanted;      /* the handler waits for a body the client holds back for
                                  a 100 (Expect: 100-continue): the session sends one */
    bool continue_sent;        /* [c1] */
    /* [lock] response from the worker to the session. */
    nghttp2_nv *nv;            /* the head, in arena, once ready */
    size_t nnv;
    bool no_body;
    bool head_ready, head_submitted;
    char *out;                 /* malloc'd, stream_max_mem at most */
    char *spare_out;           /* [c1] a recycled stream's buffer, for its first write */
    size_t spare_cap;
    size_t out_off, out_len, out_cap;
    bool out_eof;
    bool deferred;             /* nghttp2 waits for more response bytes */
    bool closed;               /* the stream ended on the wire (or the session ended) */
    bool done;                 /* its worker finished with it */
    bool reset_counted;        /* [lock] counted in the session's nreset */
    bool reset_sent;           /* [c1] RST_STREAM submitted for it */
    int nfields;               /* [c1] regular fields decoded */
    h2_check_t ck;             /* [c1] RFC 9113 8's checks of the request (h2_callbacks.c) */
    pthread_cond_t cond;       /* the worker waits here for body bytes or room */
    /* [c2] the response head held until the first body bytes (as HTTP/1 does). */
    bool held;
};

struct h2_session {
    pt_conn_t *c;
    nghttp2_session *ng;       /* [c1] */
    const pt_vhost_t *vh;      /* the connection's default server (limits, settings) */
    const pt_h2_conf_t *conf;
    pthread_mutex_t lock;
    int efd;                   /* eventfd: a stream has news for the session */
    h2_stream_t *streams;      /* [c1] */
    h2_stream_t *last;         /* [c1] the stream found last (h2_callbacks.c's stream_of):
                                  one with nghttp2's user data, cleared as that goes */
    h2_stream_t *pend_head, *pend_tail; /* [c1] started, to run after this read */
    int nqueued;               /* [lock] streams handed to the pool and not done */
    int nreset;                /* [lock] of those, streams reset on the wire already: their
                                  worker still runs, but nghttp2 counts them no more */
    bool news;                 /* [lock] a stream changed since the session last looked */
    size_t max_header_list;    /* bytes of decoded fields a request may carry */
    /* [c1] flood protection */
    h2_bucket_t b_reset, b_settings, b_ping, b_priority, b_empty;
    int32_t max_stream_id;     /* the highest stream the client opened */
    int continuations;         /* CONTINUATION frames in the header block being read */
    bool calm;                 /* GOAWAY ENHANCE_YOUR_CALM was sent */
    bool greeted;              /* bytes went out: the server's SETTINGS first (RFC 9113
                                  3.4), as nghttp2 queues it before anything */
    int stream_errors;         /* [c1] invalid frames on streams (H2MaxStreamErrors) */
    bool eof;                  /* the client's side ended (its FIN): what it sent is still
                                  answered, then the connection closes */
    bool stopping;             /* GOAWAY NO_ERROR was submitted: the child stops; the
                                  session ends once its streams are done */
    int64_t last_stream_ms;
    /* [c1] the clocks when h2_session_run_started began, 0 outside it: the time the heads
       of the streams it runs arrived (one read brought them all) */
    int64_t batch_wall_us, batch_mono_us;
    /* [c1] the server the last request's host went to and its TLS verdict (h2_request.c's
       set_vhost: neither depends on anything else the connection changes); vh_host ""
       when none is kept */
    char vh_host[64];
    const pt_vhost_t *vh_last;
    int vh_tls;
    bool vh_auth;              /* vh_host is auth_host: a stream whose host was kept
                                  (host_kept) needs no comparison */
    /* [c1] the last request's authority and the host and port it gave (h2_request.c's
       set_host_kept); auth "" when none is kept */
    char auth[64], auth_host[64];
    size_t auth_host_len;
    int auth_port;
};

/* h2_session.c [c1] */
h2_session_t *h2_session_create(pt_conn_t *c, const pt_vhost_t *vh);
int h2_session_flush(h2_session_t *s);
#define H2_OBUF_FLUSH 65536 /* output batched up to this before a write */
_Static_assert(H2_OBUF_MIN >= H2_OBUF_FLUSH + 16384, "a batch and a frame past it");
int h2_session_submit_settings(h2_session_t *s);
int h2_session_feed(h2_session_t *s, const uint8_t *p, size_t n);
void h2_session_goaway_now(h2_session_t *s, uint32_t error);
/* h2_callbacks.c [c1]: the nghttp2 session with portico's settings and callbacks. */
int h2_session_new_ng(h2_session_t *s);
/* A stream's response body for nghttp2: read_data tells how many bytes the next DATA
 * frame carries (NGHTTP2_DATA_FLAG_NO_COPY) and send_data puts the frame, its bytes taken
 * from the stream's buffer, straight into the session's batch. */
ssize_t h2_session_read_data(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
                             uint32_t *flags, nghttp2_data_source *src, void *user);
int h2_session_send_data(nghttp2_session *ng, nghttp2_frame *frame, const uint8_t *framehd,
                         size_t length, nghttp2_data_source *src, void *user);
/* Starts st's request (its headers are complete): answered at once when malformed, else
 * queued on the session to run once the frames read so far are processed
 * (h2_session_run_started). */
void h2_session_start_stream(h2_session_t *s, h2_stream_t *st);
/* RFC 9218 5: st's response is scheduled by the priority its head asked for (st->ck), if
 * any; once the head has ended. */
void h2_session_prioritize(h2_session_t *s, const h2_stream_t *st);
/* Runs the started streams: inline (h2_stream_run_inline) or on the pool. */
void h2_session_run_started(h2_session_t *s);
/* h2_guard.c [c1]: flood accounting; true when the frame is one too many (GOAWAY
 * ENHANCE_YOUR_CALM has been submitted and logged). Called with each frame received
 * (on_frame_recv), and with each PRIORITY frame as it begins (on_begin_frame): nghttp2
 * skips those unread once it was told SETTINGS_NO_RFC7540_PRIORITIES. */
bool h2_guard_frame(h2_session_t *s, const nghttp2_frame_hd *hd);
void h2_guard_log(h2_session_t *s, const char *what);
void h2_guard_init(h2_session_t *s);
/* h2_stream.c */
h2_stream_t *h2_stream_create(h2_session_t *s, int32_t id);
void h2_stream_destroy(h2_stream_t *st);
/* An ended stream (no worker holds it) kept by the calling thread, arena reset, for its
 * next stream of any session to reuse its memory; destroyed when the thread keeps enough.
 * h2_stream_spares: how many the calling thread keeps. */
void h2_stream_recycle(h2_stream_t *st);
size_t h2_stream_spares(void);
void h2_stream_serve_worker(pt_task_t *t, pt_worker_t *w);
/* n bytes from p to q in ASCII lower case (q may be p). */
void h2_lower_copy(char *q, const uint8_t *p, size_t n);
/* The name (n bytes, any case) of a response field most answers carry (the core's, the
 * static files', and a few more) in lower case, a literal, or NULL: the head then needs no
 * lowered copy of it. None of them is connection-specific. */
const char *h2_known_name(const char *name, size_t n);
/* h2_request.c [c1]: makes and routes st's request, and answers it on the session's
 * thread when its answer cannot block and is small (no body to read, a status, a small
 * static file, the status pages): true when it did (st is done), false when st, routed,
 * must go to the pool (h2_stream_serve_worker answers it there). */
bool h2_stream_run_inline(h2_stream_t *st);
/* The :method values pseudo-header decoding (h2_callbacks.c) gives for the usual methods,
 * so that h2_request.c knows them by their address. */
extern const char h2_method_get[], h2_method_post[], h2_method_head[];
extern const pt_proto_ops_t pt_h2_proto;
/* A stream has news for the session (any thread; lock held or not). Here, inline, so
 * that the stream side depends on no function of the session's. */
static inline void h2_session_wake(h2_session_t *s)
{
    s->news = true;
    uint64_t one = 1;
    ssize_t n = write(s->efd, &one, sizeof(one));
    (void)n; /* a full counter: a wake is pending anyway */
}
/* Appends n bytes to the batch: 0, or PT_EINVAL without memory [c1]. Here, inline, so that
 * nghttp2's callbacks that frame DATA (h2_callbacks.c) depend on no function of the
 * session's. */
static inline int h2_session_out(h2_session_t *s, const void *p, size_t n)
{
    (void)s;
    if (h2_ob.len + n > h2_ob.cap && h2_obuf_grow(h2_ob.len + n) < 0)
        return PT_EINVAL;
    memcpy(h2_ob.p + h2_ob.len, p, n);
    h2_ob.len += n;
    return 0;
}

/* The same for a stream's own news. A stream run inline wakes nothing: its thread is the
 * session's, which looks at every stream once its started streams ran (h2_serve_worker
 * pumps after h2_session_run_started); news is [lock] and an inline stream's output holds
 * no lock. */
static inline void h2_stream_wake(h2_stream_t *st)
{
    if (!st->on_c1)
        h2_session_wake(st->s);
}
/* h2_workers.c: runs t on a thread of the child's HTTP/2 pool, sized by pool (the main
 * server's H2MaxWorkers, H2MinWorkers, H2MaxWorkerIdleSeconds). 0 or -errno. */
int h2_workers_queue(pt_task_t *t, const pt_h2_conf_t *pool);

#endif
