/* RFC 9218's priority signals as the order of the DATA a peer gets. portico sends
 * SETTINGS_NO_RFC7540_PRIORITIES 1, so a request's `priority` field (section 5: u urgency
 * 0..7, i incremental) and PRIORITY_UPDATE frames (section 7) schedule its response; nghttp2
 * 1.52 read that field itself while its HTTP messaging was on. Each row opens a connection
 * and sends, in one write (so the server reads them in one read, and answers both in one
 * batch), two GETs of files that take three DATA frames each, small enough to be served on
 * the session's thread: both responses are then ready before the first DATA goes out, and
 * nghttp2's scheduler alone decides the order. No timing: the order within that batch
 * follows from the urgencies (lower first), incremental streams taking turns frame by
 * frame, and otherwise the stream opened first going first and whole. */
#include "h2_client.h"
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#define BODY 40000 /* three DATA frames of at most 16384 */

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    static char body[BODY];
    memset(body, 'a', sizeof(body));
    pth_write_file(h, "one", body, sizeof(body));
    pth_write_file(h, "three", body, sizeof(body));
    pth_config(h, "Protocols h2c http/1.1\n");
    pth_start(h);
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

typedef struct {
    uint8_t b[8192];
    size_t n;
} out_t;

static void frame(out_t *o, uint8_t type, uint8_t flags, int32_t id, const void *p, size_t len)
{
    ck_assert_uint_le(o->n + 9 + len, sizeof(o->b));
    uint8_t *q = o->b + o->n;
    q[0] = (uint8_t)(len >> 16), q[1] = (uint8_t)(len >> 8), q[2] = (uint8_t)len;
    q[3] = type, q[4] = flags;
    q[5] = (uint8_t)(id >> 24), q[6] = (uint8_t)(id >> 16), q[7] = (uint8_t)(id >> 8);
    q[8] = (uint8_t)id;
    if (len)
        memcpy(q + 9, p, len);
    o->n += 9 + len;
}

static void put32(uint8_t *q, uint32_t v)
{
    q[0] = (uint8_t)(v >> 24), q[1] = (uint8_t)(v >> 16), q[2] = (uint8_t)(v >> 8);
    q[3] = (uint8_t)v;
}

/* A GET of path on stream id with a `priority` line for each of prio (NULL-terminated;
 * NULL: none). */
static void get(pth_h2_t *c, out_t *o, int32_t id, const char *path, const char *const *prio)
{
    const char *n[16] = {":method", ":scheme", ":path", ":authority"};
    const char *v[16] = {"GET", "http", path, "x"};
    size_t k = 4;
    for (size_t i = 0; prio && prio[i]; i++, k++)
        n[k] = "priority", v[k] = prio[i];
    uint8_t blk[1024];
    size_t len = pth_h2_block(c, blk, sizeof(blk), n, v, k);
    frame(o, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM | NGHTTP2_FLAG_END_HEADERS, id, blk, len);
}

static char *data_order(pth_h2_t *c);

/* The streams of the DATA frames the server sends for GETs of /one on stream 1 (with
 * priority lines p1) and of /three on stream 3 (p3), after a PRIORITY_UPDATE for stream 3
 * with update as its value when update is not NULL: as "113133", one digit a frame. */
static char *order(const char *const *p1, const char *const *p3, const char *update)
{
    pth_h2_t *c = pth_h2_open(h->port, false);
    ck_assert_ptr_nonnull(c);
    static out_t o;
    o.n = 0;
    memcpy(o.b, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    o.n = 24;
    frame(&o, NGHTTP2_SETTINGS, 0, 0, NULL, 0);
    uint8_t wu[4];
    put32(wu, 1u << 20); /* (the connection's window holds both bodies) */
    frame(&o, NGHTTP2_WINDOW_UPDATE, 0, 0, wu, 4);
    if (update) {
        uint8_t pu[64];
        size_t len = strlen(update);
        ck_assert_uint_le(len, sizeof(pu) - 4);
        put32(pu, 3);
        memcpy(pu + 4, update, len);
        frame(&o, NGHTTP2_PRIORITY_UPDATE, 0, 0, pu, 4 + len);
    }
    get(c, &o, 1, "/one", p1);
    get(c, &o, 3, "/three", p3);
    ck_assert_int_eq(send(c->fd, o.b, o.n, MSG_NOSIGNAL), (ssize_t)o.n);
    return data_order(c);
}

/* The streams of the DATA frames c gets for /one on stream 1 and /three on stream 3, one
 * digit a frame; c is closed. */
static char *data_order(pth_h2_t *c)
{
    static char seq[64];
    size_t n = 0;
    int ended = 0;
    size_t got[4] = {0};
    while (ended < 2) {
        pth_h2_frame_t f;
        ck_assert_int_eq(pth_h2_read(c, &f, 5000), 0);
        ck_assert_int_ne(f.type, NGHTTP2_RST_STREAM);
        ck_assert_int_ne(f.type, NGHTTP2_GOAWAY);
        if (f.type == NGHTTP2_HEADERS)
            ck_assert_int_eq(f.status, 200);
        if (f.type == NGHTTP2_DATA && f.length > 0) {
            ck_assert(f.stream == 1 || f.stream == 3);
            ck_assert_uint_lt(n, sizeof(seq) - 1);
            seq[n++] = (char)('0' + f.stream);
            got[f.stream] += f.length;
        }
        if ((f.type == NGHTTP2_DATA || f.type == NGHTTP2_HEADERS) &&
            (f.flags & NGHTTP2_FLAG_END_STREAM))
            ended++;
        pth_h2_frame_free(&f);
    }
    seq[n] = '\0';
    ck_assert_uint_eq(got[1], BODY);
    ck_assert_uint_eq(got[3], BODY);
    pth_h2_close(c);
    return seq;
}

/* As order, with stream 1 the request an HTTP/1.1 Upgrade: h2c made (its priority lines
 * as HTTP/1.1 fields), the preface, SETTINGS and stream 3 sent in the same write. */
static char *order_upgraded(const char *const *p1, const char *const *p3)
{
    pth_h2_t *c = pth_h2_open(h->port, false);
    ck_assert_ptr_nonnull(c);
    static out_t o;
    int n = snprintf((char *)o.b, sizeof(o.b),
                     "GET /one HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                     "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n");
    for (size_t i = 0; p1 && p1[i]; i++)
        n += snprintf((char *)o.b + n, sizeof(o.b) - (size_t)n, "Priority: %s\r\n", p1[i]);
    n += snprintf((char *)o.b + n, sizeof(o.b) - (size_t)n, "\r\n");
    o.n = (size_t)n;
    memcpy(o.b + o.n, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    o.n += 24;
    frame(&o, NGHTTP2_SETTINGS, 0, 0, NULL, 0);
    uint8_t wu[4];
    put32(wu, 1u << 20);
    frame(&o, NGHTTP2_WINDOW_UPDATE, 0, 0, wu, 4);
    get(c, &o, 3, "/three", p3);
    ck_assert_int_eq(send(c->fd, o.b, o.n, MSG_NOSIGNAL), (ssize_t)o.n);
    /* The 101's head, a byte at a time (the frames after it are the reader's). */
    struct timeval tv = {.tv_sec = 5};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char head[512];
    size_t k = 0;
    while (k < 4 || memcmp(head + k - 4, "\r\n\r\n", 4) != 0) {
        ck_assert_uint_lt(k, sizeof(head) - 1);
        ck_assert_int_eq(recv(c->fd, head + k, 1, 0), 1);
        k++;
    }
    head[k] = '\0';
    ck_assert_msg(strncmp(head, "HTTP/1.1 101 ", 13) == 0, "not a 101: %s", head);
    return data_order(c);
}

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE NULL
#define FIRST_ONE "111333"   /* stream 1 whole, then 3 (same urgency, not incremental) */
#define FIRST_THREE "333111" /* stream 3 has the lower urgency */

typedef struct {
    const char *what;
    const char *const *p1, *const *p3;
    const char *update; /* a PRIORITY_UPDATE for stream 3 before both */
    const char *want;
} row_t;

/* What nghttp2 1.52 did with each (lib/nghttp2_http.c, nghttp2_session.c): the field is a
 * dictionary (RFC 8941 3.2) of which only u (an integer 0..7) and i (a boolean) count; one
 * that fails to parse, anywhere, is no signal at all (RFC 9218 4); several lines add up, a
 * later member replacing an earlier one; the field is not read in trailers. */
static const row_t rows[] = {
    {"no signal: the first stream first", NONE, NONE, NULL, FIRST_ONE},
    {"u=0 goes before the default 3", NONE, P("u=0"), NULL, FIRST_THREE},
    {"u=0 goes before u=7", P("u=7"), P("u=0"), NULL, FIRST_THREE},
    {"u=7 goes after u=0", P("u=0"), P("u=7"), NULL, FIRST_ONE},
    {"u=2 goes before u=4", P("u=4"), P("u=2"), NULL, FIRST_THREE},
    {"u=4 goes after the default", NONE, P("u=4"), NULL, FIRST_ONE},
    {"two incremental streams take turns", P("i"), P("i"), NULL, "131313"},
    {"i=?1 is incremental", P("i=?1"), P("u=3, i=?1"), NULL, "131313"},
    {"i=?0 is not", P("i=?0"), P("i=?0"), NULL, FIRST_ONE},
    {"parameters and other keys are ignored", NONE, P("u=0;a=1;b, x=(1 \"s\");y, z=:AQ==:"), NULL,
     FIRST_THREE},
    {"white space around commas", NONE, P("x=1 ,\tu=0 ,  i=?0"), NULL, FIRST_THREE},
    {"the last u counts", NONE, P("u=7, u=0"), NULL, FIRST_THREE},
    {"lines add up", NONE, P("u=7", "x", "u=0"), NULL, FIRST_THREE},
    {"an empty line changes nothing", NONE, P("u=0", ""), NULL, FIRST_THREE},
    {"u=8 is no signal", P("u=4"), P("u=8"), NULL, FIRST_THREE},
    {"u=-1 is no signal", NONE, P("u=-1"), NULL, FIRST_ONE},
    {"u=a is no signal", NONE, P("u=a"), NULL, FIRST_ONE},
    {"u=0.0 is no signal", NONE, P("u=0.0"), NULL, FIRST_ONE},
    {"u alone (true) is no signal", P("u=4"), P("u"), NULL, FIRST_THREE},
    {"i=1 spoils u=0", NONE, P("u=0, i=1"), NULL, FIRST_ONE},
    {"a trailing comma spoils it", NONE, P("u=0,"), NULL, FIRST_ONE},
    {"an upper-case key spoils it", NONE, P("u=0, I"), NULL, FIRST_ONE},
    {"a bad line spoils the lines before it", NONE, P("u=0", "u=9"), NULL, FIRST_ONE},
    {"and those after it", NONE, P("u=9", "u=0"), NULL, FIRST_ONE},
    {"garbage", NONE, P("u=0 garbage"), NULL, FIRST_ONE},
    /* RFC 9218 7: a PRIORITY_UPDATE before its request sets the request's priority; a
     * priority field in the request then replaces it (as nghttp2 1.52 did with its own
     * reading of the field), and one that does not parse leaves it. (The update makes
     * stream 3 the older stream, first among equals: stream 1 asks for u=1 or u=2 so that
     * only the urgency decides.) */
    {"PRIORITY_UPDATE before the request", P("u=1"), NONE, "u=0", FIRST_THREE},
    {"PRIORITY_UPDATE u=7", P("u=4"), NONE, "u=7", FIRST_ONE},
    {"the field replaces an earlier PRIORITY_UPDATE", P("u=1"), P("u=0"), "u=7", FIRST_THREE},
    {"a field without u sets the default 3 again", P("u=2"), P("i=?0"), "u=0", FIRST_ONE},
    {"a field that does not parse leaves the update", P("u=1"), P("u=9"), "u=0", FIRST_THREE},
};

/* A request upgraded from HTTP/1.1 (RFC 9113 3.1 of RFC 7540) is stream 1, scheduled as
 * the streams after it are, by the priority its HTTP/1.1 fields asked for (RFC 9218 5). */
static const row_t upgraded_rows[] = {
    {"no signal: the first stream first", NONE, NONE, NULL, FIRST_ONE},
    {"stream 1 takes its turn by urgency", NONE, P("u=0"), NULL, FIRST_THREE},
    {"its priority field counts", P("u=0"), P("u=1"), NULL, FIRST_ONE},
    {"u=7 goes after the default", P("u=7"), NONE, NULL, FIRST_THREE},
    {"lines add up", P("u=7", "u=1"), P("u=2"), NULL, FIRST_ONE},
    {"a field that does not parse is no signal", P("u=9"), P("u=4"), NULL, FIRST_ONE},
};

START_TEST(an_upgraded_requests_priority_orders_its_response)
{
    for (size_t i = 0; i < sizeof(upgraded_rows) / sizeof(upgraded_rows[0]); i++) {
        const row_t *r = &upgraded_rows[i];
        const char *got = order_upgraded(r->p1, r->p3);
        ck_assert_msg(strcmp(got, r->want) == 0, "upgrade: %s: DATA of streams %s, want %s",
                      r->what, got, r->want);
    }
}
END_TEST

START_TEST(priority_field_orders_the_responses)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row_t *r = &rows[i];
        const char *got = order(r->p1, r->p3, r->update);
        ck_assert_msg(strcmp(got, r->want) == 0, "%s: DATA of streams %s, want %s", r->what, got,
                      r->want);
    }
}
END_TEST

static Suite *prio_suite(void)
{
    Suite *s = suite_create("h2_priority");
    TCase *tc = tcase_create("rfc9218");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, priority_field_orders_the_responses);
    tcase_add_test(tc, an_upgraded_requests_priority_orders_its_response);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(prio_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
