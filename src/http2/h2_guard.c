/* Flood guards of a session (c1): frames that cost the server work and give the client
 * nothing it needs many of. Each kind has a token bucket (a burst, then a rate a second);
 * a client past one gets GOAWAY ENHANCE_YOUR_CALM and a log line, and the session ends.
 *   RST_STREAM   Rapid Reset (CVE-2023-44487): streams opened and cancelled at once, each
 *                starting a request on a worker
 *   SETTINGS, PING   each one forces an ACK (nghttp2 also caps unsent ACKs)
 *   PRIORITY     ignored work, unbounded in number
 *   PRIORITY_UPDATE  a reschedule each (RFC 9218), from the same bucket as PRIORITY
 *   empty DATA   zero-length DATA without END_STREAM: no progress, all parsing
 * CONTINUATION floods (CVE-2024-27316) end in nghttp2's own cap on the frames of one header
 * block and HPACK bombs in h2_callbacks.c's bound on decoded bytes. */
#include "h2_int.h"

#include "log.h"

typedef struct {
    double burst, rate;
} guard_rule_t;

static const guard_rule_t rule_reset = {200, 50};
static const guard_rule_t rule_settings = {50, 10};
static const guard_rule_t rule_ping = {50, 10};
static const guard_rule_t rule_priority = {1000, 200};
static const guard_rule_t rule_empty = {100, 20};

static void fill(h2_bucket_t *b, const guard_rule_t *r, int64_t now)
{
    b->tokens = r->burst;
    b->last_ms = now;
}

void h2_guard_init(h2_session_t *s)
{
    int64_t now = pt_now_ms();
    fill(&s->b_reset, &rule_reset, now);
    fill(&s->b_settings, &rule_settings, now);
    fill(&s->b_ping, &rule_ping, now);
    fill(&s->b_priority, &rule_priority, now);
    fill(&s->b_empty, &rule_empty, now);
}

/* Takes a token; false when the bucket is empty. */
static bool take(h2_bucket_t *b, const guard_rule_t *r)
{
    int64_t now = pt_now_ms();
    b->tokens += (double)(now - b->last_ms) * r->rate / 1000.0;
    if (b->tokens > r->burst)
        b->tokens = r->burst;
    b->last_ms = now;
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

void h2_guard_log(h2_session_t *s, const char *what)
{
    pt_log_error(PT_LOG_WARN, s->c->peer_ip, "h2: %s: GOAWAY ENHANCE_YOUR_CALM, "
                 "closing the connection", what);
}

bool h2_guard_frame(h2_session_t *s, const nghttp2_frame_hd *hd)
{
    if (s->calm)
        return true;
    bool ok = true;
    const char *what = NULL;
    switch (hd->type) {
    case NGHTTP2_RST_STREAM:
        ok = take(&s->b_reset, &rule_reset), what = "RST_STREAM flood (Rapid Reset)";
        break;
    case NGHTTP2_SETTINGS:
        if (!(hd->flags & NGHTTP2_FLAG_ACK))
            ok = take(&s->b_settings, &rule_settings), what = "SETTINGS flood";
        break;
    case NGHTTP2_PING:
        if (!(hd->flags & NGHTTP2_FLAG_ACK))
            ok = take(&s->b_ping, &rule_ping), what = "PING flood";
        break;
    case NGHTTP2_PRIORITY:
        ok = take(&s->b_priority, &rule_priority), what = "PRIORITY flood";
        break;
    case NGHTTP2_PRIORITY_UPDATE:
        ok = take(&s->b_priority, &rule_priority), what = "PRIORITY_UPDATE flood";
        break;
    case NGHTTP2_DATA:
        if (hd->length == 0 && !(hd->flags & NGHTTP2_FLAG_END_STREAM))
            ok = take(&s->b_empty, &rule_empty), what = "empty DATA flood";
        break;
    default:
        break;
    }
    if (ok)
        return false;
    h2_guard_log(s, what);
    nghttp2_session_terminate_session(s->ng, NGHTTP2_ENHANCE_YOUR_CALM);
    s->calm = true;
    return true;
}
