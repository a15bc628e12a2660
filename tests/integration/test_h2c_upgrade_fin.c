/* An HTTP/1.1 request with "Upgrade: h2c" whose client half-closes (a FIN) right after it,
 * or right after its connection preface: the request is whole, so it is answered, then the
 * connection is closed in order, soon.
 *
 * Why answered: RFC 9113 section 3.2 makes the upgraded request stream 1, "half-closed
 * (local)" for the client, its response sent by the server on that stream after the 101;
 * a FIN ends only what the client sends, and it has sent all stream 1 needs. mod_http2
 * does the same: the client's end is a graceful shutdown there (a GOAWAY, the streams it
 * has go on), and portico answers an HTTP/1 request before a FIN too. A client that never
 * sends its preface (the first variant) breaks 3.2's "MUST", but sends nothing wrong to
 * answer with an error: its request is served all the same. A GOAWAY with NO_ERROR comes
 * before the close (RFC 9113 6.8's SHOULD, as mod_http2). The server's first frame is its SETTINGS
 * (3.2). The close must come well before any timeout (Timeout and KeepAliveTimeout 30 s here): a
 * hang fails the test. */
#include "h2_client.h"
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The whole exchange, the close included; the server has 30 s timeouts. */
#define EXCHANGE_MS 5000

static const char magic[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/* HTTP2-Settings: SETTINGS_MAX_CONCURRENT_STREAMS 100, base64url (RFC 9113 3.2.1). */
static const char upgrade[] = "GET %s HTTP/1.1\r\nHost: localhost\r\n"
                              "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                              "HTTP2-Settings: AAMAAABk\r\n\r\n";

static pth_t *h;
static pth_h2_fcgi_t be;

static void setup(void)
{
    h = pth_new();
    ck_assert_int_eq(pth_h2_fcgi_start(&be, pth_path(h, "be.sock")), 0);
    pth_config(h, "Protocols h2c http/1.1\nKeepAliveTimeout 30\nTimeout 30\n"
                  "RequestReadTimeout header=30 body=30\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\"\n");
    pth_write_file(h, "index.html", "upgraded", 8);
    pth_start(h);
}

static void teardown(void)
{
    pth_stop(h);
    pth_h2_fcgi_stop(&be);
    pth_free(h);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_all(int fd, const void *p, size_t n)
{
    pth_assert(send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n);
}

/* The 101's head, read a byte at a time so that the frames after it stay in the socket for
 * the h2 client. */
static void read_101(int fd, long deadline)
{
    char head[512] = "";
    size_t n = 0;
    while (n < 4 || memcmp(head + n - 4, "\r\n\r\n", 4) != 0) {
        pth_assert_msg(n < sizeof(head) - 1, "a head of more than %zu bytes", n);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(deadline - now_ms());
        pth_assert_msg(left > 0 && poll(&p, 1, left) == 1, "no 101 in time");
        pth_assert_msg(recv(fd, head + n, 1, 0) == 1, "closed before a 101");
        n++;
    }
    head[n] = '\0';
    ck_assert_msg(strncmp(head, "HTTP/1.1 101 ", 13) == 0, "not a 101: %s", head);
}

/* What came on the HTTP/2 connection until its end. */
typedef struct {
    int first_type; /* the server's first frame */
    int status;     /* stream 1's :status */
    char body[64];  /* stream 1's DATA */
    size_t len;
    bool ended; /* stream 1's END_STREAM came */
    bool goaway;
    uint32_t goaway_code;
} seen_t;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads frames until the server closes; fails on a deadline passed first. */
static void read_to_close(pth_h2_t *c, long deadline, seen_t *s)
{
    memset(s, 0, sizeof(*s));
    s->first_type = -1;
    for (;;) {
        int left = (int)(deadline - now_ms());
        pth_h2_frame_t f;
        int rc = left > 0 ? pth_h2_read(c, &f, left) : -ETIMEDOUT;
        ck_assert_msg(rc != -ETIMEDOUT, "the connection was still open after %d ms", EXCHANGE_MS);
        if (rc == -ECONNRESET)
            return; /* (the end of the stream: a FIN, or a reset, which c->reset tells) */
        if (s->first_type < 0)
            s->first_type = f.type;
        if (f.type == NGHTTP2_HEADERS && f.stream == 1 && f.status)
            s->status = f.status;
        if (f.type == NGHTTP2_DATA && f.stream == 1) {
            ck_assert_uint_lt(s->len + f.length, sizeof(s->body));
            memcpy(s->body + s->len, f.payload, f.length);
            s->len += f.length;
        }
        if (f.stream == 1 && (f.flags & NGHTTP2_FLAG_END_STREAM))
            s->ended = true;
        ck_assert_msg(f.type != NGHTTP2_RST_STREAM, "stream %d reset", f.stream);
        if (f.type == NGHTTP2_GOAWAY && f.length >= 8)
            s->goaway = true, s->goaway_code = be32(f.payload + 4);
        pth_h2_frame_free(&f);
    }
}

/* Upgrades a GET of path, the FIN after the request or after the preface, and expects
 * body on stream 1. */
static void upgraded_then_fin(const char *path, bool preface_first, const char *body)
{
    long deadline = now_ms() + EXCHANGE_MS;
    pth_h2_t *c = pth_h2_open(h->port, false);
    ck_assert_ptr_nonnull(c);
    char req[256];
    int n = snprintf(req, sizeof(req), upgrade, path);
    pth_assert(n > 0 && (size_t)n < sizeof(req));
    send_all(c->fd, req, (size_t)n);
    if (preface_first) {
        /* As RFC 9113 3.2 has it: the preface once the 101 is in. */
        read_101(c->fd, deadline);
        send_all(c->fd, magic, 24);
        ck_assert_int_eq(pth_h2_frame(c, NGHTTP2_SETTINGS, 0, 0, NULL, 0), 0);
    }
    ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
    long fin = now_ms();
    if (!preface_first)
        read_101(c->fd, deadline);
    seen_t s;
    read_to_close(c, deadline, &s);
    bool reset = c->reset;
    fprintf(stderr, "h2c_upgrade_fin %s: GET %s%s: closed %ld ms after the FIN\n", pth_mpm(), path,
            preface_first ? " (preface sent)" : "", now_ms() - fin);
    pth_h2_close(c);
    ck_assert_int_eq(s.first_type, NGHTTP2_SETTINGS);
    ck_assert_int_eq(s.status, 200);
    ck_assert_msg(s.ended, "stream 1 did not end");
    s.body[s.len] = '\0';
    ck_assert_str_eq(s.body, body);
    ck_assert_msg(s.goaway && s.goaway_code == NGHTTP2_NO_ERROR, "GOAWAY %s, code %u",
                  s.goaway ? "sent" : "not sent", s.goaway_code);
    ck_assert_msg(!reset, "the connection was reset, not closed in order");
    pth_assert(pth_running(h)); /* (and pth_stop checks the exit, the logs, ASan's reports) */
}

START_TEST(an_upgrade_followed_by_a_fin_is_answered_on_stream_1_then_closed)
{
    upgraded_then_fin("/", false, "upgraded");
}
END_TEST

START_TEST(an_upgrade_with_its_preface_then_a_fin_is_answered_on_stream_1_then_closed)
{
    upgraded_then_fin("/", true, "upgraded");
}
END_TEST

/* Stream 1 still runs when the FIN is read (FastCGI "slow" answers after 1 s): the session
 * waits for it with nothing left to read, then closes. */
START_TEST(an_upgrade_answered_slowly_after_a_fin_is_answered_on_stream_1_then_closed)
{
    upgraded_then_fin("/f/slow", false, "slow");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("h2c_upgrade_fin");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, an_upgrade_followed_by_a_fin_is_answered_on_stream_1_then_closed);
    tcase_add_test(tc, an_upgrade_with_its_preface_then_a_fin_is_answered_on_stream_1_then_closed);
    tcase_add_test(tc, an_upgrade_answered_slowly_after_a_fin_is_answered_on_stream_1_then_closed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
