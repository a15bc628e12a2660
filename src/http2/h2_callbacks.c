/* nghttp2's callbacks for a session (c1) and the settings it starts with. nghttp2 does the
 * framing and RFC 9113's checks of frames (sizes, stream states, flow control: each
 * answered with the error the RFC names); portico checks the HTTP messages they carry
 * (section 8: fields, pseudo-headers, content-length against DATA, in h2_check.c) as it
 * keeps the request as a stream (the pseudo-headers and fields kept for h2_request.c), the
 * limits of LimitRequestFields and LimitRequestFieldSize with
 * SETTINGS_MAX_HEADER_LIST_SIZE (431), the body into the stream's buffer, and the flood
 * guards (h2_guard.c). */
#include "h2_int.h"

#include "log.h"
#include "walk.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define H2_MAX_HEADER_LIST 65536 /* SETTINGS_MAX_HEADER_LIST_SIZE we announce */
#define H2_BOMB_FACTOR 4         /* decoded bytes past this many times it: HPACK bomb */

/* The stream of id: the last one found, else nghttp2's (a hash lookup that every field of a
 * request's header block would repeat). */
static h2_stream_t *stream_of(h2_session_t *s, int32_t id)
{
    if (s->last && s->last->id == id)
        return s->last;
    h2_stream_t *st = nghttp2_session_get_stream_user_data(s->ng, id);
    if (st)
        s->last = st;
    return st;
}

ssize_t h2_session_read_data(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
                             uint32_t *flags, nghttp2_data_source *src, void *user)
{
    (void)ng, (void)id, (void)buf;
    h2_session_t *s = user;
    h2_stream_t *st = src->ptr;
    /* A stream answered inline has no worker: its output is this thread's alone. */
    bool shared = !st->on_c1;
    if (shared)
        pthread_mutex_lock(&s->lock);
    size_t n = PT_MIN(len, st->out_len);
    ssize_t rc = (ssize_t)n;
    if (n > 0)
        *flags |= NGHTTP2_DATA_FLAG_NO_COPY; /* (h2_session_send_data takes the n bytes) */
    if (n == st->out_len && st->out_eof) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (n == 0) {
        st->deferred = true;
        rc = NGHTTP2_ERR_DEFERRED;
    }
    if (shared)
        pthread_mutex_unlock(&s->lock);
    return rc;
}

/* The DATA frame whose length read_data gave: its header, the pad length, the stream's
 * bytes (which only this thread takes: the worker may add bytes meanwhile, or move them to
 * its buffer's start, but not take them), the padding. Once the batch is full, nghttp2 is
 * paused for h2_session_flush to write it. */
int h2_session_send_data(nghttp2_session *ng, nghttp2_frame *frame, const uint8_t *framehd,
                         size_t length, nghttp2_data_source *src, void *user)
{
    (void)ng;
    static const uint8_t zeros[256];
    h2_session_t *s = user;
    h2_stream_t *st = src->ptr;
    size_t pad = frame->data.padlen;
    uint8_t padlen = (uint8_t)(pad > 0 ? pad - 1 : 0);
    if (h2_session_out(s, framehd, 9) < 0 || (pad > 0 && h2_session_out(s, &padlen, 1) < 0))
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    s->last = st; /* (a frame that ends the stream is followed by on_stream_close's look) */
    bool shared = !st->on_c1;
    if (shared)
        pthread_mutex_lock(&s->lock);
    int rc = h2_session_out(s, st->out + st->out_off, length);
    st->out_off += length;
    st->out_len -= length;
    if (st->out_len == 0)
        st->out_off = 0;
    if (shared) {
        pthread_cond_signal(&st->cond); /* room for the worker */
        pthread_mutex_unlock(&s->lock);
    }
    if (rc < 0 || (pad > 1 && h2_session_out(s, zeros, pad - 1) < 0))
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return h2_ob.len >= H2_OBUF_FLUSH ? NGHTTP2_ERR_PAUSE : 0;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
    h2_session_t *s = user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2_stream_t *st = h2_stream_create(s, f->hd.stream_id);
    if (!st)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    st->next = s->streams;
    s->streams = st;
    s->max_stream_id = PT_MAX(s->max_stream_id, f->hd.stream_id);
    nghttp2_session_set_stream_user_data(ng, f->hd.stream_id, st);
    s->last = st;
    return 0;
}

static const char *dup_n(h2_stream_t *st, const uint8_t *p, size_t n)
{
    return pt_arena_strndup(st->arena, (const char *)p, n);
}

/* A pseudo-header's usual value as a literal (no copy), else a copy in the arena. */
static const char *pseudo_value(h2_stream_t *st, const uint8_t *v, size_t n)
{
    switch (n) {
    case 3:
        if (memcmp(v, "GET", 3) == 0)
            return h2_method_get;
        break;
    case 4:
        if (memcmp(v, "POST", 4) == 0)
            return h2_method_post;
        if (memcmp(v, "HEAD", 4) == 0)
            return h2_method_head;
        if (memcmp(v, "http", 4) == 0)
            return "http";
        break;
    case 5:
        if (memcmp(v, "https", 5) == 0)
            return "https";
        break;
    default:
        break;
    }
    return dup_n(st, v, n);
}

/* A regular field, name and value, in one block of the arena. */
static void keep_field(h2_stream_t *st, const uint8_t *name, size_t namelen, const uint8_t *value,
                       size_t valuelen)
{
    char *q = pt_arena_alloc(st->arena, namelen + valuelen + 2);
    memcpy(q, name, namelen);
    q[namelen] = '\0';
    memcpy(q + namelen + 1, value, valuelen);
    q[namelen + 1 + valuelen] = '\0';
    pt_table_add(&st->headers, q, q + namelen + 1);
}

/* A request trailer field, kept for the stream's request (r->trailers_in, as Apache's),
 * within the limits of its header fields: past them the rest are dropped, and logged. */
static int keep_trailer(h2_session_t *s, h2_stream_t *st, const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen)
{
    const pt_vhost_t *vh = s->vh;
    if (st->tr_dropped)
        return 0;
    if (st->trailer_bytes > s->max_header_list ||
        ++st->tr_fields > (int)vh->limit_request_fields ||
        namelen + valuelen + 2 > vh->limit_request_field_size) {
        st->tr_dropped = true;
        pt_log_error(PT_LOG_INFO, s->c->peer_ip, "h2: stream %d: request trailers over the "
                     "limits (LimitRequestFields, LimitRequestFieldSize): the rest dropped",
                     st->id);
        return 0;
    }
    pthread_mutex_lock(&s->lock);
    char *nb = realloc(st->tr, st->tr_len + namelen + valuelen + 2);
    if (nb) {
        memcpy(nb + st->tr_len, name, namelen);
        nb[st->tr_len + namelen] = '\0';
        memcpy(nb + st->tr_len + namelen + 1, value, valuelen);
        nb[st->tr_len + namelen + 1 + valuelen] = '\0';
        st->tr = nb;
        st->tr_len += namelen + valuelen + 2;
    }
    pthread_mutex_unlock(&s->lock);
    return nb ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

/* Resets a stream whose request is malformed (RST_STREAM PROTOCOL_ERROR). Once it is
 * submitted, nghttp2 takes the stream as closing: no more of its frames reach a callback
 * (and on_header's TEMPORAL_CALLBACK_FAILURE after it sends no second RST_STREAM). */
/* H2MaxStreamErrors: a client that makes that many stream errors (invalid frames nghttp2
 * answers with RST_STREAM, malformed requests) loses the session, ENHANCE_YOUR_CALM. err
 * says which (nghttp2's error code). */
static void stream_error(h2_session_t *s, int err)
{
    if (s->conf->max_stream_errors <= 0)
        return;
    if (++s->stream_errors > s->conf->max_stream_errors && !s->calm) {
        pt_log_error(PT_LOG_INFO, s->c->peer_ip, "h2: %d stream errors (the last: %s), more "
                     "than H2MaxStreamErrors: ENHANCE_YOUR_CALM", s->stream_errors,
                     nghttp2_strerror(err));
        s->calm = true;
        nghttp2_session_terminate_session(s->ng, NGHTTP2_ENHANCE_YOUR_CALM);
    }
}

/* RFC 9113 8.1.1: a malformed request is a stream error of type PROTOCOL_ERROR, and counts
 * once for H2MaxStreamErrors however many of its frames are found wrong. err is the code
 * nghttp2 gave such a stream error: HTTP_HEADER for a field, HTTP_MESSAGING for the head or
 * trailers as a whole and for a body not of its content-length. (nghttp2 left that last one
 * uncounted; here it counts: a stream to a backend starts the backend's request before its
 * body is found short or long, so a flood of them is as costly as of malformed heads.) */
static void malformed(h2_session_t *s, h2_stream_t *st, int err)
{
    if (st->reset_sent)
        return;
    st->reset_sent = true;
    nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
    stream_error(s, err);
}

/* Keeps one decoded field of a request (or checks the size of a trailer's), once
 * h2_check_field finds it well-formed: a malformed one resets the stream, and nghttp2
 * skips the rest of its header block. Past the limits the request is answered 431; far
 * past them (an HPACK bomb: a few bytes that decode to megabytes) the connection is closed
 * with ENHANCE_YOUR_CALM. */
static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user)
{
    (void)flags;
    h2_session_t *s = user;
    h2_stream_t *st = stream_of(s, f->hd.stream_id);
    if (!st)
        return 0;
    bool trailer = f->headers.cat == NGHTTP2_HCAT_HEADERS;
    h2_field_t kind = h2_check_field(&st->ck, name, namelen, value, valuelen, trailer);
    /* RFC 8441 3: :protocol only once SETTINGS_ENABLE_CONNECT_PROTOCOL was sent (which
     * portico does not send). */
    if (kind == H2_FIELD_MALFORMED ||
        (kind == H2_FIELD_PROTOCOL &&
         !nghttp2_session_get_local_settings(ng, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL))) {
        malformed(s, st, NGHTTP2_ERR_HTTP_HEADER);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    /* Trailers come after the stream went to its worker, which reads head_bytes: they are
     * counted apart, on this thread only. */
    size_t *bytes = st->queued ? &st->trailer_bytes : &st->head_bytes;
    *bytes += namelen + valuelen + 32;
    if (*bytes > s->max_header_list * H2_BOMB_FACTOR) {
        h2_guard_log(s, "HPACK decompression bomb");
        nghttp2_session_terminate_session(s->ng, NGHTTP2_ENHANCE_YOUR_CALM);
        s->calm = true;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (st->queued)
        return keep_trailer(s, st, name, namelen, value, valuelen);
    if (st->too_big)
        return 0;
    const pt_vhost_t *vh = s->vh;
    if (st->head_bytes > s->max_header_list ||
        (name[0] != ':' && (++st->nfields > (int)vh->limit_request_fields ||
                            namelen + valuelen + 2 > vh->limit_request_field_size))) {
        st->too_big = true;
        return 0;
    }
    switch (kind) {
    case H2_FIELD_METHOD:
        st->method = pseudo_value(st, value, valuelen);
        return 0;
    case H2_FIELD_SCHEME:
        st->scheme = pseudo_value(st, value, valuelen);
        return 0;
    case H2_FIELD_PATH:
        st->path = pseudo_value(st, value, valuelen);
        return 0;
    case H2_FIELD_AUTHORITY:
        st->authority = pseudo_value(st, value, valuelen);
        return 0;
    case H2_FIELD_PROTOCOL:
        return 0;
    default:
        break;
    }
    keep_field(st, name, namelen, value, valuelen);
    return 0;
}

/* A status answered by the session itself, without a worker (431, 400, 503). */
static void respond_direct(h2_session_t *s, h2_stream_t *st, int status)
{
    const char *code = pt_arena_printf(st->arena, "%d", status);
    nghttp2_nv nv[] = {{(uint8_t *)":status", (uint8_t *)(uintptr_t)code, 7, strlen(code),
                        NGHTTP2_NV_FLAG_NONE},
                       {(uint8_t *)"content-length", (uint8_t *)"0", 14, 1,
                        NGHTTP2_NV_FLAG_NONE}};
    st->head_submitted = true;
    nghttp2_submit_response(s->ng, st->id, nv, 2, NULL);
}

void h2_session_start_stream(h2_session_t *s, h2_stream_t *st)
{
    if (st->too_big) {
        pt_log_error(PT_LOG_INFO, s->c->peer_ip, "h2: stream %d: request header fields "
                     "too large: 431", st->id);
        respond_direct(s, st, 431);
        return;
    }
    if (!st->method || (!st->path && strcmp(st->method, "CONNECT") != 0)) {
        respond_direct(s, st, 400);
        return;
    }
    if (!st->path)
        st->path = st->authority ? st->authority : "/";
    st->task.serve_worker = h2_stream_serve_worker;
    st->queued = true;
    st->pend_next = NULL;
    if (s->pend_tail)
        s->pend_tail->pend_next = st;
    else
        s->pend_head = st;
    s->pend_tail = st;
}

void h2_session_run_started(h2_session_t *s)
{
    if (!s->pend_head) /* (a read of DATA, WINDOW_UPDATE, ...: no clock, no memo) */
        return;
    /* One reading of the clocks for all of them: their heads came in one read, and every
     * one of them was sent before it (walk.h). */
    int64_t mono_ns = pt_mono_ns();
    s->batch_wall_us = pt_wall_us();
    s->batch_mono_us = mono_ns / 1000;
    pt_walk_memo_begin(mono_ns);
    while (s->pend_head) {
        h2_stream_t *st = s->pend_head;
        s->pend_head = st->pend_next;
        if (!s->pend_head)
            s->pend_tail = NULL;
        const pt_h2_conf_t *pool = pt_h2_conf(s->c->cfg, NULL); /* the main server's */
        if (h2_stream_run_inline(st))
            continue;
        pthread_mutex_lock(&s->lock); /* (counted before its worker may end it) */
        bool full = s->nqueued >= s->conf->max_session_streams && s->nreset > 0;
        if (!full)
            s->nqueued++;
        pthread_mutex_unlock(&s->lock);
        if (full) {
            /* Streams reset on the wire still hold their workers until these notice: they
             * count against H2MaxSessionStreams here, which nghttp2 no longer does, or one
             * connection opening and resetting slow streams would take every pool thread
             * (and their backends). Streams that ended well are not counted (their worker
             * may finish a moment after the client saw the end, and open another): so a
             * client that resets nothing is never refused. It may send it again
             * (REFUSED_STREAM). */
            pt_log_error(PT_LOG_INFO, s->c->peer_ip, "h2: stream %d refused: %d streams of "
                         "this connection still run (H2MaxSessionStreams)", st->id,
                         s->conf->max_session_streams);
            st->queued = false;
            nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_REFUSED_STREAM);
            continue;
        }
        if (h2_workers_queue(&st->task, pool) == 0)
            continue;
        pthread_mutex_lock(&s->lock);
        st->queued = false;
        s->nqueued--;
        pthread_mutex_unlock(&s->lock);
        if (!st->closed)
            respond_direct(s, st, 503);
    }
    s->batch_wall_us = s->batch_mono_us = 0;
    pt_walk_memo_end();
}

static void end_input(h2_session_t *s, h2_stream_t *st)
{
    pthread_mutex_lock(&s->lock);
    st->in_eof = true;
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&s->lock);
}

/* A request's head, trailers or body (st's) that ended malformed (RFC 9113 8.1.1): its
 * stream is reset, and the frame goes no further (nghttp2 never passed such a frame on). */
static bool ended_malformed(h2_session_t *s, h2_stream_t *st, const nghttp2_frame *f)
{
    bool end = f->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (f->hd.type == NGHTTP2_DATA) {
        if (!end || h2_check_body_end(&st->ck))
            return false;
        malformed(s, st, NGHTTP2_ERR_HTTP_MESSAGING);
        return true;
    }
    if (f->hd.type != NGHTTP2_HEADERS ||
        (f->headers.cat == NGHTTP2_HCAT_REQUEST ? h2_check_head(&st->ck, end)
                                                : h2_check_trailers(&st->ck, end)))
        return false;
    malformed(s, st, NGHTTP2_ERR_HTTP_MESSAGING);
    return true;
}

/* RFC 9218 5: the priority the request's head asked for schedules its response, as
 * nghttp2's HTTP messaging (off for this session) did once the head ended: urgency, then
 * incremental streams taking turns. A field that did not parse is no signal. (nghttp2
 * takes it only on a session that sent SETTINGS_NO_RFC7540_PRIORITIES 1, as this one did.) */
void h2_session_prioritize(h2_session_t *s, const h2_stream_t *st)
{
    nghttp2_session *ng = s->ng;
    uint8_t urgency;
    bool incremental;
    if (!h2_check_priority_of(&st->ck, &urgency, &incremental))
        return;
    nghttp2_extpri pri = {.urgency = urgency, .inc = incremental};
    nghttp2_session_change_extpri_stream_priority(ng, st->id, &pri, 0);
}

static void frame_recv(h2_session_t *s, const nghttp2_frame *f)
{
    h2_stream_t *st = f->hd.stream_id ? stream_of(s, f->hd.stream_id) : NULL;
    if (st && ended_malformed(s, st, f))
        return;
    if (f->hd.type != NGHTTP2_PRIORITY && h2_guard_frame(s, &f->hd))
        return; /* (PRIORITY was counted as it began) */
    if (!st)
        return;
    bool end = f->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
        st->end_on_headers = end;
        st->in_eof = end;
        h2_session_prioritize(s, st);
        h2_session_start_stream(s, st);
    } else if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) && end) {
        end_input(s, st);
    }
}

/* A session this DATA frame ended (H2MaxStreamErrors, the empty DATA guard) stops nghttp2
 * with CALLBACK_FAILURE, and h2_session_feed sends the GOAWAY. nghttp2 1.52 misses its
 * check for an ended session after a DATA frame (it makes it after every other frame;
 * fixed upstream in 2025): it reads on, serving the frames after it, and a frame of the
 * wrong size among them trips its assertion, aborting the process. */
static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
    (void)ng;
    h2_session_t *s = user;
    bool calm = s->calm;
    frame_recv(s, f);
    return f->hd.type == NGHTTP2_DATA && s->calm && !calm ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

/* Request body bytes: into the stream's buffer, which the stream's window bounds (window
 * is given back only as its worker takes them). Bytes for a stream nobody reads are
 * given back at once. */
static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p,
                         size_t n, void *user)
{
    (void)flags;
    h2_session_t *s = user;
    h2_stream_t *st = stream_of(s, id);
    if (st && !h2_check_data(&st->ck, n)) {
        /* Past its content-length (RFC 9113 8.1.1): these bytes and the rest of the frame
         * are dropped, their window given back to the connection only, as nghttp2 did. */
        malformed(s, st, NGHTTP2_ERR_HTTP_MESSAGING);
        nghttp2_session_consume_connection(ng, n);
        return 0;
    }
    pthread_mutex_lock(&s->lock);
    bool take = st && st->queued && !st->closed && !st->done && n > 0;
    if (take && st->in_len + n > st->in_cap) {
        size_t cap = PT_MAX(st->in_cap * 2, st->in_len + n);
        char *nb = realloc(st->in, cap);
        take = nb != NULL;
        if (nb)
            st->in = nb, st->in_cap = cap;
    }
    if (take) {
        memcpy(st->in + st->in_len, p, n);
        st->in_len += n;
        pthread_cond_signal(&st->cond);
    }
    bool lost = st && !take && st->queued && !st->closed && !st->done && n > 0;
    pthread_mutex_unlock(&s->lock);
    if (!take)
        nghttp2_session_consume(ng, id, n);
    if (lost) /* (no memory for them: the handler must not read a body with a gap) */
        nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error, void *user)
{
    (void)ng;
    h2_session_t *s = user;
    h2_stream_t *st = stream_of(s, id);
    if (!st)
        return 0;
    /* (nghttp2 forgets the stream now, user data and all: it keeps no closed streams.) */
    if (s->last == st)
        s->last = NULL;
    if (!st->queued || st->on_c1) {
        /* No worker has it, nor ever will: the session's thread alone looks at it, and
         * frees it at its next pump, which needs no news to come. */
        st->closed = true;
        return 0;
    }
    pthread_mutex_lock(&s->lock);
    st->closed = true;
    if (error != NGHTTP2_NO_ERROR && !st->done) { /* (reset under a running worker) */
        st->reset_counted = true;
        s->nreset++;
    }
    pthread_cond_broadcast(&st->cond);
    s->news = true; /* (the pump frees it once its worker is done) */
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static int on_begin_frame(nghttp2_session *ng, const nghttp2_frame_hd *hd, void *user)
{
    h2_session_t *s = user;
    if (hd->type == NGHTTP2_CONTINUATION)
        s->continuations++;
    else
        s->continuations = 0;
    if (hd->type == NGHTTP2_PRIORITY && h2_guard_frame(s, hd))
        return 0; /* (nghttp2 reads nothing more: the session is ending) */
    /* RFC 9113 5.1.1: a new stream's id must exceed every one the client opened. nghttp2
     * lets a HEADERS on a lower, unknown id pass silently (it might be a stream it forgot);
     * a peer must see PROTOCOL_ERROR. */
    if (hd->type == NGHTTP2_HEADERS && (hd->stream_id & 1) &&
        hd->stream_id < s->max_stream_id && !nghttp2_session_find_stream(ng, hd->stream_id)) {
        pt_log_error(PT_LOG_INFO, s->c->peer_ip, "h2: HEADERS on stream %d after stream %d: "
                     "PROTOCOL_ERROR", hd->stream_id, s->max_stream_id);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

/* H2MaxDataFrameLen: DATA frames no longer than that (and what the peer and the windows
 * allow). */
static ssize_t data_length(nghttp2_session *ng, uint8_t type, int32_t stream_id,
                           int32_t conn_window, int32_t stream_window, uint32_t max_frame,
                           void *ud)
{
    (void)ng, (void)type, (void)stream_id;
    const h2_session_t *s = ud;
    int64_t n = PT_MIN(PT_MIN(conn_window, stream_window), (int64_t)max_frame);
    if (s->conf->max_data_frame_len > 0)
        n = PT_MIN(n, (int64_t)s->conf->max_data_frame_len);
    return (ssize_t)PT_MAX(n, 1);
}

/* H2Padding n: each HEADERS and DATA frame padded by 0..2^n-1 bytes, at random. */
static ssize_t select_padding(nghttp2_session *ng, const nghttp2_frame *frame,
                              size_t max_payload, void *ud)
{
    (void)ng;
    const h2_session_t *s = ud;
    size_t len = frame->hd.length;
    unsigned char r = 0;
    if (s->conf->padding_bits <= 0 || RAND_bytes(&r, 1) != 1)
        return (ssize_t)len;
    size_t pad = r & ((1u << s->conf->padding_bits) - 1);
    return (ssize_t)PT_MIN(len + pad, max_payload);
}

/* Invalid frames that nghttp2 answers with RST_STREAM count for H2MaxStreamErrors. */
static int on_invalid_frame(nghttp2_session *ng, const nghttp2_frame *frame, int err, void *ud)
{
    (void)ng;
    if (frame->hd.stream_id != 0)
        stream_error(ud, err);
    return 0;
}

int h2_session_new_ng(h2_session_t *s)
{
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    if (nghttp2_session_callbacks_new(&cb) != 0)
        return -1;
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        return -1;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, on_invalid_frame);
    nghttp2_session_callbacks_set_send_data_callback(cb, h2_session_send_data);
    if (s->conf->max_data_frame_len > 0)
        nghttp2_session_callbacks_set_data_source_read_length_callback(cb, data_length);
    if (s->conf->padding_bits > 0)
        nghttp2_session_callbacks_set_select_padding_callback(cb, select_padding);
    if (s->conf->max_header_block_len > 0)
        nghttp2_option_set_max_send_header_block_length(opt,
                                                        (size_t)s->conf->max_header_block_len);
    /* Window goes back as workers take body bytes, not as frames arrive. */
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_option_set_max_settings(opt, 32);
    nghttp2_option_set_max_outbound_ack(opt, 1000);
    nghttp2_option_set_max_continuations(opt, 16);
    nghttp2_option_set_stream_reset_rate_limit(opt, 1000, 33);
    /* Closed streams are kept only as nodes of RFC 7540's priority tree, which portico
     * does not use to schedule anything. (on_stream_close leaves their user data set: a
     * stream nghttp2 kept would point at one recycled.) */
    nghttp2_option_set_no_closed_streams(opt, 1);
    /* RFC 9113 8's checks of each request are h2_check.c's, made as on_header keeps its
     * fields: nghttp2's made a second pass over every field, 5% of a request's time. */
    nghttp2_option_set_no_http_messaging(opt, 1);
    /* RFC 9218 7: a client may change a request's priority by PRIORITY_UPDATE (before the
     * request, or while it is answered); nghttp2 applies it, h2_guard.c bounds how many. */
    nghttp2_option_set_builtin_recv_extension_type(opt, NGHTTP2_PRIORITY_UPDATE);
    nghttp2_mem mem = h2_mem(); /* (nghttp2 keeps a copy) */
    int rc = nghttp2_session_server_new3(&s->ng, cb, s, opt, &mem);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0)
        return -1;
    s->max_header_list = H2_MAX_HEADER_LIST;
    h2_guard_init(s);
    return 0;
}

/* Our SETTINGS, the first frame the server sends. */
int h2_session_submit_settings(h2_session_t *s)
{
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, (uint32_t)s->conf->max_session_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)s->conf->window_size},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, H2_MAX_HEADER_LIST},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        /* RFC 9218 section 2.1: portico schedules no stream by RFC 7540's priorities, so
         * nghttp2 need not keep their dependency tree for a client that agrees (one that
         * does not keeps it). PRIORITY frames are counted all the same (on_begin_frame). */
        {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
    };
    if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])))
        return -1;
    /* The connection's window: every stream's at once (each stream's own window is what
     * bounds its memory). */
    int64_t conn = (int64_t)s->conf->window_size * s->conf->max_session_streams;
    return nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0,
                                                 (int32_t)PT_MIN(conn, (int64_t)0x7fffffff));
}
