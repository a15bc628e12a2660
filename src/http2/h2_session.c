/* The HTTP/2 session of a connection (c1): nghttp2 and the connection's bytes, on the MPM
 * worker serving the connection, one thread at a time. It reads frames, hands complete
 * requests to the streams (h2_request.c), frames what the streams put in their buffers,
 * gives window back as the streams take request body bytes, and guards the connection
 * against floods (h2_guard.c). Under the event MPM it holds a worker only while it has
 * something to read or write: an idle session is parked in the listener
 * (PT_NEXT_PARK_KEEPALIVE, closed with GOAWAY at KeepAliveTimeout: the driver's
 * idle_timeout), and one whose streams are running parks on its socket and its wakeup
 * (park_busy). Under the worker and prefork MPMs, which park nothing, it keeps its thread
 * while streams run and polls both itself. */
#include "h2_int.h"

#include "log.h"
#include "mpm/mpm.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define H2_READ_BUDGET (256 * 1024) /* bytes read per turn before the streams get a look */

/* ---- Output ----------------------------------------------------------------------- */

/* Writes the batch out and empties it: 0, or a negative error (the client is gone or
 * stalled). */
static int write_out(h2_session_t *s)
{
    if (h2_ob.len == 0)
        return 0;
    struct iovec iov = {h2_ob.p, h2_ob.len};
    int64_t to = s->vh->timeout_ms > 0 ? s->vh->timeout_ms : 60000;
    int rc = pt_conn_writev(s->c, &iov, 1, to, false);
    s->greeted = true;
    h2_ob.len = 0;
    if (h2_ob.cap > 4 * (size_t)H2_OBUF_FLUSH) /* (a rare huge head: not kept) */
        h2_obuf_free();
    return rc;
}

/* Frames what nghttp2 has to send, in batches of H2_OBUF_FLUSH. 0 or a negative error.
 * DATA frames come through h2_session_send_data, which pauses nghttp2 (mem_send returns 0)
 * once the batch is full. The thread's batch is empty when this returns, however it
 * returns (h2_int.h). */
int h2_session_flush(h2_session_t *s)
{
    h2_ob.len = 0;
    for (;;) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(s->ng, &p);
        if (n < 0 || (n > 0 && h2_session_out(s, p, (size_t)n) < 0)) {
            h2_ob.len = 0;
            return PT_EINVAL;
        }
        if (h2_ob.len >= H2_OBUF_FLUSH) {
            if (write_out(s) < 0)
                return PT_ECLOSED;
            continue;
        }
        if (n == 0)
            break;
    }
    return write_out(s);
}

/* A GOAWAY frame written raw, without blocking: from the listener at KeepAliveTimeout, or
 * when nghttp2 itself gave up on the connection. */
void h2_session_goaway_now(h2_session_t *s, uint32_t error)
{
    int32_t last = s->ng ? nghttp2_session_get_last_proc_stream_id(s->ng) : 0;
    /* An empty SETTINGS first when nothing went out yet (the client's first read ended the
     * session): RFC 9113 3.4 makes it the server's first frame. */
    uint8_t f[9 + 17] = {0, 0, 0, NGHTTP2_SETTINGS, 0, 0, 0, 0, 0, 0, 0, 8, NGHTTP2_GOAWAY};
    uint8_t *g = f + 9;
    g[9] = (uint8_t)((last >> 24) & 0x7f), g[10] = (uint8_t)(last >> 16);
    g[11] = (uint8_t)(last >> 8), g[12] = (uint8_t)last;
    g[13] = (uint8_t)(error >> 24), g[14] = (uint8_t)(error >> 16);
    g[15] = (uint8_t)(error >> 8), g[16] = (uint8_t)error;
    struct iovec iov = {s->greeted ? g : f, s->greeted ? 17 : sizeof(f)};
    s->greeted = true;
    (void)pt_conn_writev_some(s->c, &iov, 1, false);
}

/* ---- What the streams' workers did ------------------------------------------------- */

/* The response head of st goes out; its body is read from the stream's buffer. */
static void submit_head(h2_session_t *s, h2_stream_t *st)
{
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = h2_session_read_data};
    st->head_submitted = true;
    if (nghttp2_submit_response(s->ng, st->id, st->nv, st->nnv, st->no_body ? NULL : &prd))
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
}

/* Looks at every stream that may have news (lock held): window to give back, heads to
 * submit, bodies to resume, workers that ended without an answer, streams to free. */
static void pump_locked(h2_session_t *s)
{
    s->news = false;
    /* pp links to st, so an ended stream is unlinked where it stands (the oldest, which
     * end first, are the list's last: a search from its head would walk all of it). */
    h2_stream_t **pp = &s->streams;
    while (*pp) {
        h2_stream_t *st = *pp;
        if (st->consumed) {
            nghttp2_session_consume(s->ng, st->id, st->consumed);
            st->consumed = 0;
        }
        if (st->closed) {
            if (!st->queued || st->done) {
                /* Body bytes its worker never took (a reset, a 413, a timeout, a refusal)
                 * were counted against the connection's window when they came: given back
                 * here, or every such stream would shrink that window for good. (nghttp2
                 * credits the connection for a stream it has closed.) */
                if (st->in_len)
                    nghttp2_session_consume(s->ng, st->id, st->in_len);
                *pp = st->next;
                h2_stream_recycle(st);
            } else {
                pp = &st->next;
            }
            continue;
        }
        pp = &st->next;
        if (st->continue_wanted && !st->continue_sent && !st->head_submitted) {
            static const nghttp2_nv cont = {(uint8_t *)":status", (uint8_t *)"100", 7, 3,
                                            NGHTTP2_NV_FLAG_NONE};
            st->continue_sent = true;
            nghttp2_submit_headers(s->ng, NGHTTP2_FLAG_NONE, st->id, NULL, &cont, 1, NULL);
        }
        if (st->head_ready && !st->head_submitted) {
            submit_head(s, st);
        } else if (st->head_submitted && st->deferred && (st->out_len || st->out_eof)) {
            st->deferred = false;
            nghttp2_session_resume_data(s->ng, st->id);
        }
        if (st->done && !(st->out_eof && st->head_ready) && !st->reset_sent) {
            st->reset_sent = true; /* the worker ended without an answer */
            nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
        }
    }
}

static void drain_wake(h2_session_t *s)
{
    uint64_t v;
    ssize_t n = read(s->efd, &v, sizeof(v));
    (void)n;
}

/* ---- The connection's loop ----------------------------------------------------------- */

/* Feeds bytes to nghttp2. 0, or a negative error after which the connection ends. */
int h2_session_feed(h2_session_t *s, const uint8_t *p, size_t n)
{
    ssize_t rc = nghttp2_session_mem_recv(s->ng, p, n);
    if (rc >= 0)
        return 0;
    if (rc == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS || s->calm) {
        if (!s->calm)
            h2_guard_log(s, "CONTINUATION flood");
        h2_session_goaway_now(s, NGHTTP2_ENHANCE_YOUR_CALM);
    } else if (rc == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
        pt_log_error(PT_LOG_INFO, s->c->peer_ip, "h2: bad connection preface");
    } else {
        pt_log_error(PT_LOG_INFO, s->c->peer_ip, "h2: session error: %s",
                     nghttp2_strerror((int)rc));
        h2_session_goaway_now(s, NGHTTP2_PROTOCOL_ERROR);
    }
    return PT_EINVAL;
}

/* Reads what the client sent, up to a budget or a short read. 1: bytes were read; 0: none
 * waiting; negative: the connection ends. */
static int read_in(h2_session_t *s)
{
    uint8_t buf[16384];
    size_t total = 0;
    while (total < H2_READ_BUDGET && nghttp2_session_want_read(s->ng)) {
        long n = pt_conn_recv_some(s->c, buf, sizeof(buf));
        if (n == PT_EAGAIN)
            break;
        if (n <= 0)
            return PT_ECLOSED;
        total += (size_t)n;
        if (h2_session_feed(s, buf, (size_t)n) < 0)
            return PT_EINVAL;
        if (s->calm)
            break;
        /* A short read took what was waiting: the next would find nothing (the caller
         * looks again once the frames are answered, if the socket was not found empty). */
        if ((size_t)n < sizeof(buf) && !pt_conn_pending(s->c))
            break;
    }
    return total > 0;
}

/* Waits for the client or a stream (the worker is released to the MPM meanwhile: it waits
 * for neither a CPU nor its own client's request). */
static void wait_events(h2_session_t *s, int ms)
{
    struct pollfd p[2] = {{.fd = s->eof ? -1 : s->c->fd, .events = pt_conn_read_events(s->c)},
                          {.fd = s->efd, .events = POLLIN}};
    pt_mpm_block_begin();
    (void)poll(p, 2, ms);
    pt_mpm_block_end();
}

/* Every stream is told the session is over, and the session waits until no worker holds
 * one (they hold the connection's addresses and the lock). */
static void end_streams(h2_session_t *s)
{
    pthread_mutex_lock(&s->lock);
    for (h2_stream_t *st = s->pend_head; st; st = st->pend_next)
        st->queued = false; /* started, never run (nor counted) */
    s->pend_head = s->pend_tail = NULL;
    for (h2_stream_t *st = s->streams; st; st = st->next) {
        st->closed = true;
        pthread_cond_broadcast(&st->cond);
    }
    while (s->nqueued > 0) {
        pthread_mutex_unlock(&s->lock);
        struct pollfd p = {.fd = s->efd, .events = POLLIN};
        (void)poll(&p, 1, 100);
        drain_wake(s);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
}

/* What a park watches the socket for: input, or room when the last read must let the
 * transport write first (pt_conn_read_events; poll's bits are epoll's). */
static uint32_t socket_events(const pt_conn_t *c)
{
    return c->read_wants_out ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
}

/* After the client's end no WINDOW_UPDATE can come: a response with bytes (or its end)
 * left to send and no window for them would hold its worker until a timeout. Such streams
 * are reset (CANCEL): their workers learn of it as of a client's reset. True when one was. */
static bool reset_stalled(h2_session_t *s)
{
    bool any = false;
    int32_t conn = nghttp2_session_get_remote_window_size(s->ng);
    pthread_mutex_lock(&s->lock);
    for (h2_stream_t *st = s->streams; st; st = st->next) {
        if (!st->head_submitted || st->closed || st->reset_sent || !(st->out_len || st->out_eof))
            continue;
        if (conn > 0 && nghttp2_session_get_stream_remote_window_size(s->ng, st->id) > 0)
            continue;
        st->reset_sent = true;
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
        any = true;
    }
    pthread_mutex_unlock(&s->lock);
    return any;
}

/* Whether a stream's response has begun and not ended: nghttp2 holds the rest, waiting for
 * the client's window (no worker runs for the session when this is asked). */
static bool responding(const h2_session_t *s)
{
    for (const h2_stream_t *st = s->streams; st; st = st->next)
        if (st->head_submitted && !st->closed)
            return true;
    return false;
}

/* What to do once nothing is in flight: park, keep-alive style, or (a stream half received)
 * as a connection waiting for the rest of a request. Only the socket is watched (the
 * wakeup of a busy park, below, leaves the epoll set: events2 0). */
static pt_conn_next_t park_idle(h2_session_t *s)
{
    s->c->park.events2 = 0;
    s->c->keepalive_ms = s->vh->keepalive_timeout_ms;
    pthread_mutex_lock(&s->lock);
    pump_locked(s); /* (frees the streams that ended in the last write) */
    pthread_mutex_unlock(&s->lock);
    if (s->c->async_write && responding(s)) {
        /* A response whose rest waits for the client's window is in flight, as an HTTP/1
         * response tail is: a stop lets it finish (and makes it ready once, for the GOAWAY)
         * where it would close a connection that waits for a request. Timeout bounds the
         * wait, as for a request's rest. */
        pt_park_t *p = &s->c->park;
        p->events = socket_events(s->c); /* (its wakeup unwatched: events2 0, above) */
        int64_t to = s->vh->timeout_ms > 0 ? s->vh->timeout_ms : 60000;
        p->deadline_ms = pt_now_ms() + to;
        return PT_NEXT_PARK_TUNNEL;
    }
    if (s->streams) {
        s->c->head_start_ms = 0;
        s->c->head_bytes = 0;
        return PT_NEXT_PARK_READ;
    }
    return PT_NEXT_PARK_KEEPALIVE;
}

/* Event MPM, streams in flight and nothing to do: the session parks in the listener on its
 * socket and on its wakeup (the eventfd a stream writes when it has output or is done, as a
 * tunnel parks on its two ends) and holds no worker; either brings it back to one. It has
 * no deadline of its own: each stream ends within its own timeouts (Timeout for a client
 * that takes no bytes, the body's read timeout, the backend's) and wakes the session, and a
 * client that goes away makes the socket ready. (An expiry would close the connection
 * under running streams, and the listener would have to wait for them in h2_release.) A
 * stop waits for it as for a response in flight, and makes it ready once to send GOAWAY. */
static pt_conn_next_t park_busy(h2_session_t *s)
{
    pt_park_t *p = &s->c->park;
    p->events = s->eof ? 0 : socket_events(s->c); /* (at its end: ready for good) */
    p->fd2 = s->efd;
    p->events2 = EPOLLIN;
    p->deadline_ms = INT64_MAX;
    return PT_NEXT_PARK_TUNNEL;
}

static pt_conn_next_t h2_serve_worker(pt_worker_t *w, pt_conn_t *c)
{
    h2_session_t *s = c->proto_state;
    bool gone = false; /* the client closed, or stopped taking our bytes */
    if (c->rbuf && c->rpos < c->rlen) { /* what HTTP/1 had read past its last head */
        int rc = h2_session_feed(s, (uint8_t *)c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rpos = c->rlen = 0;
        if (rc < 0)
            goto end;
    }
    pt_conn_shrink(c);
    for (;;) {
        int got = s->eof ? 0 : read_in(s);
        if (got == PT_ECLOSED) {
            /* The client's end (or a reset): the streams it started are still answered,
             * as an HTTP/1 request before a FIN is, and the socket is not read again (a
             * reset fails the next write). Those whose request had not ended never will:
             * reset (CANCEL), their workers learn of it. */
            s->eof = true;
            got = 0;
            for (h2_stream_t *st = s->streams; st; st = st->next)
                if (!st->in_eof && !st->closed && !st->reset_sent) {
                    st->reset_sent = true;
                    nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
                }
            /* A graceful end, as mod_http2 takes the client's: a GOAWAY says which streams
             * were taken (RFC 9113 6.8: one SHOULD come before the close). */
            if (!s->stopping) {
                s->stopping = true;
                nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE,
                                      nghttp2_session_get_last_proc_stream_id(s->ng),
                                      NGHTTP2_NO_ERROR, NULL, 0);
            }
        } else if (got < 0) {
            goto end;
        }
        h2_session_run_started(s);
        if (!s->stopping && pt_mpm_stopping(w->mpm)) {
            /* Graceful stop or restart: no stream after the last one started; those in
             * flight finish, then the connection closes (mod_http2 does the same). */
            s->stopping = true;
            nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE,
                                  nghttp2_session_get_last_proc_stream_id(s->ng),
                                  NGHTTP2_NO_ERROR, NULL, 0);
        }
        pthread_mutex_lock(&s->lock);
        pump_locked(s);
        bool busy = s->nqueued > 0;
        pthread_mutex_unlock(&s->lock);
        if (h2_session_flush(s) < 0 || (s->eof && reset_stalled(s) && h2_session_flush(s) < 0)) {
            gone = true;
            goto end;
        }
        if (s->calm || (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng)))
            goto end;
        /* Frames came: read again, unless the read met an empty socket (drained): then
         * whatever comes later raises an event of its own, and the park below sees it,
         * so the read that would find nothing (EAGAIN, once per batch) is not made. */
        if (!s->eof && !c->read_wants_out && (pt_conn_pending(c) || (got && !c->park.drained)))
            continue;
        if (!busy && (s->eof || (s->stopping && !responding(s)))) {
            gone = s->eof; /* (what waits for window would wait for good) */
            goto end;
        }
        if (!busy)
            return park_idle(s);
        drain_wake(s);
        pthread_mutex_lock(&s->lock);
        bool news = s->news;
        pthread_mutex_unlock(&s->lock);
        if (news)
            continue;
        /* (A stream's wake after this look stays in the eventfd: the park sees it.) */
        if (c->async_write)
            return park_busy(s);
        wait_events(s, 1000);
    }
end:
    end_streams(s);
    pthread_mutex_lock(&s->lock);
    pump_locked(s);
    pthread_mutex_unlock(&s->lock);
    /* After a GOAWAY, a lingering close: what the client still sends must not turn into a
     * reset that destroys the GOAWAY before it reads it. */
    return gone || c->aborted ? PT_NEXT_CLOSE : PT_NEXT_LINGER;
}

/* ---- The driver ---------------------------------------------------------------------- */

static void h2_release(void *state)
{
    h2_session_t *s = state;
    if (!s)
        return;
    end_streams(s); /* (the child's forced end: its streams' workers may still run) */
    for (h2_stream_t *st = s->streams, *next; st; st = next) {
        next = st->next;
        h2_stream_destroy(st);
    }
    nghttp2_session_del(s->ng);
    close(s->efd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* KeepAliveTimeout on an idle session, or an unfinished request stalled: GOAWAY. */
static void h2_idle_timeout(pt_conn_t *c)
{
    if (c->proto_state)
        h2_session_goaway_now(c->proto_state, NGHTTP2_NO_ERROR);
}

const pt_conn_proto_t pt_h2_conn_proto = {
    .name = "h2",
    .serve_worker = h2_serve_worker,
    .read_timeout = h2_idle_timeout,
    .idle_timeout = h2_idle_timeout,
    .release = h2_release,
};

h2_session_t *h2_session_create(pt_conn_t *c, const pt_vhost_t *vh)
{
    h2_session_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->c = c;
    s->vh = vh;
    s->conf = pt_h2_conf(c->cfg, vh);
    s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&s->lock, NULL);
    if (s->efd < 0 || h2_session_new_ng(s) != 0) {
        pt_log_error(PT_LOG_ERR, c->peer_ip, "h2: cannot make a session: %s", strerror(errno));
        h2_release(s);
        return NULL;
    }
    return s;
}
