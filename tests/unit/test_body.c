/* Unit tests for the request body reader and the response writer, over a socketpair. */
#include "conn.h"
#include "h1.h"
#include "request.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int peer; /* the test's end: plays the client */
    pt_conn_t *c;
    pt_arena_t *a;
    pt_config_t cfg;
    pt_vhost_t vh;
    pt_dir_config_t dir;
    pt_http1_request_t h1;
    pt_request_t r;
} fixture_t;

static void setup_fixture(fixture_t *f, bool chunked, int64_t cl, bool expect, int64_t limit)
{
    memset(f, 0, sizeof(*f));
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    f->peer = sv[1];
    struct sockaddr_storage ss = {.ss_family = AF_UNIX};
    f->c = pt_conn_create(sv[0], &f->cfg, (struct sockaddr *)&ss, sizeof(ss));
    f->a = pt_arena_create(0);
    f->dir.limit_request_body = limit;
    f->vh.dir = &f->dir;
    f->vh.timeout_ms = 2000;
    f->vh.body_timeout_ms = 2000;
    f->vh.keepalive = true;
    f->cfg.main_server = &f->vh;
    f->h1.chunked = chunked;
    f->h1.content_length = cl;
    f->h1.expect_continue = expect;
    f->h1.version = 11;
    pt_request_t *r = &f->r;
    r->arena = f->a;
    r->conn = f->c;
    r->cfg = &f->cfg;
    r->vhost = &f->vh;
    r->dir = &f->dir;
    r->proto_num = 1001;
    r->protocol = "HTTP/1.1";
    r->keepalive = true;
    r->has_body = chunked || cl > 0;
    r->content_length = chunked ? -1 : cl;
    pt_h1_attach(r, &f->h1);
    pt_table_init(&r->headers_out, f->a, 4);
    pt_table_init(&r->err_headers_out, f->a, 4);
    pt_table_init(&r->env, f->a, 4);
}

static void teardown_fixture(fixture_t *f)
{
    pt_conn_destroy(f->c);
    close(f->peer);
    pt_arena_destroy(f->a);
}

static void peer_send(fixture_t *f, const char *s)
{
    ck_assert_int_eq(write(f->peer, s, strlen(s)), (ssize_t)strlen(s));
}

static size_t peer_read(fixture_t *f, char *buf, size_t cap)
{
    fcntl(f->peer, F_SETFL, O_NONBLOCK);
    ssize_t n = read(f->peer, buf, cap - 1);
    buf[n > 0 ? n : 0] = '\0';
    return n > 0 ? (size_t)n : 0;
}

static size_t read_all(fixture_t *f, char *out, size_t cap, int *status)
{
    size_t len = 0;
    for (;;) {
        long n = pt_req_read_body(&f->r, out + len, cap - len, status);
        if (n <= 0)
            return n < 0 ? (size_t)-1 : len;
        len += (size_t)n;
    }
}

START_TEST(reads_a_content_length_body_and_stops_at_its_end)
{
    fixture_t f;
    setup_fixture(&f, false, 5, false, -1);
    peer_send(&f, "helloGET / HTTP/1.1\r\n");
    char out[64];
    int st = 0;
    ck_assert_uint_eq(read_all(&f, out, sizeof(out), &st), 5);
    ck_assert_int_eq(memcmp(out, "hello", 5), 0);
    /* The next pipelined request stays in the connection's buffer. */
    ck_assert_uint_eq(f.c->rlen - f.c->rpos, strlen("GET / HTTP/1.1\r\n"));
    teardown_fixture(&f);
}
END_TEST

START_TEST(dechunks_a_chunked_body)
{
    fixture_t f;
    setup_fixture(&f, true, -1, false, -1);
    peer_send(&f, "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n");
    char out[64];
    int st = 0;
    size_t n = read_all(&f, out, sizeof(out), &st);
    ck_assert_uint_eq(n, 11);
    ck_assert_int_eq(memcmp(out, "hello world", 11), 0);
    ck_assert(f.r.body_eof);
    ck_assert(!f.r.body_error);
    teardown_fixture(&f);
}
END_TEST

START_TEST(sends_100_continue_before_reading_the_body)
{
    fixture_t f;
    setup_fixture(&f, false, 3, true, -1);
    peer_send(&f, "abc");
    char out[8];
    int st = 0;
    ck_assert_uint_eq(read_all(&f, out, sizeof(out), &st), 3);
    char got[128];
    peer_read(&f, got, sizeof(got));
    ck_assert_str_eq(got, "HTTP/1.1 100 Continue\r\n\r\n");
    teardown_fixture(&f);
}
END_TEST

START_TEST(answers_413_when_a_chunked_body_passes_the_limit)
{
    fixture_t f;
    setup_fixture(&f, true, -1, false, 8);
    peer_send(&f, "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n");
    char out[64];
    int st = 0;
    ck_assert_uint_eq(read_all(&f, out, sizeof(out), &st), (size_t)-1);
    ck_assert_int_eq(st, 413);
    ck_assert(f.r.body_error);
    teardown_fixture(&f);
}
END_TEST

START_TEST(answers_400_to_a_malformed_chunk_size)
{
    fixture_t f;
    setup_fixture(&f, true, -1, false, -1);
    peer_send(&f, "zz\r\nhello\r\n0\r\n\r\n");
    char out[64];
    int st = 0;
    ck_assert_uint_eq(read_all(&f, out, sizeof(out), &st), (size_t)-1);
    ck_assert_int_eq(st, 400);
    teardown_fixture(&f);
}
END_TEST

START_TEST(answers_400_when_the_client_closes_mid_body)
{
    fixture_t f;
    setup_fixture(&f, false, 10, false, -1);
    peer_send(&f, "abc");
    shutdown(f.peer, SHUT_WR);
    char out[64];
    int st = 0;
    ck_assert_uint_eq(read_all(&f, out, sizeof(out), &st), (size_t)-1);
    ck_assert_int_eq(st, 400);
    teardown_fixture(&f);
}
END_TEST

START_TEST(answers_408_when_the_body_stalls)
{
    fixture_t f;
    setup_fixture(&f, false, 10, false, -1);
    f.vh.body_timeout_ms = 200;
    peer_send(&f, "abc");
    char out[64];
    int st = 0;
    int64_t t0 = pt_now_ms();
    ck_assert_uint_eq(read_all(&f, out, sizeof(out), &st), (size_t)-1);
    ck_assert_int_eq(st, 408);
    ck_assert_int_lt(pt_now_ms() - t0, 1500);
    teardown_fixture(&f);
}
END_TEST

START_TEST(writes_a_chunked_response_when_the_length_is_unknown)
{
    fixture_t f;
    setup_fixture(&f, false, 0, false, -1);
    pt_request_t *r = &f.r;
    ck_assert_int_eq(pt_resp_start(r, 200, -1), 0);
    ck_assert_int_eq(pt_resp_write(r, "abc", 3), 0);
    ck_assert_int_eq(pt_resp_write(r, "defgh", 5), 0);
    ck_assert_int_eq(pt_resp_finish(r), 0);
    char got[1024];
    peer_read(&f, got, sizeof(got));
    ck_assert_ptr_nonnull(strstr(got, "HTTP/1.1 200 OK\r\n"));
    ck_assert_ptr_nonnull(strstr(got, "Transfer-Encoding: chunked\r\n"));
    ck_assert_ptr_null(strstr(got, "Content-Length"));
    ck_assert_ptr_nonnull(strstr(got, "\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n"));
    ck_assert_int_eq(r->bytes_sent, 8);
    teardown_fixture(&f);
}
END_TEST

START_TEST(head_responses_carry_the_length_but_no_body)
{
    fixture_t f;
    setup_fixture(&f, false, 0, false, -1);
    pt_request_t *r = &f.r;
    r->header_only = true;
    ck_assert_int_eq(pt_resp_start(r, 200, 1234), 0);
    ck_assert_int_eq(pt_resp_write(r, "abc", 3), 0);
    ck_assert_int_eq(pt_resp_finish(r), 0);
    ck_assert(r->keepalive);
    ck_assert(!f.c->aborted);
    char got[1024];
    peer_read(&f, got, sizeof(got));
    ck_assert_ptr_nonnull(strstr(got, "Content-Length: 1234\r\n"));
    size_t n = strlen(got);
    ck_assert_str_eq(got + n - 4, "\r\n\r\n");
    teardown_fixture(&f);
}
END_TEST

START_TEST(a_short_body_closes_the_connection)
{
    fixture_t f;
    setup_fixture(&f, false, 0, false, -1);
    pt_request_t *r = &f.r;
    ck_assert_int_eq(pt_resp_start(r, 200, 10), 0);
    ck_assert_int_eq(pt_resp_write(r, "abc", 3), 0);
    ck_assert_int_ne(pt_resp_finish(r), 0);
    ck_assert(!r->keepalive);
    teardown_fixture(&f);
}
END_TEST

START_TEST(header_values_with_line_breaks_are_not_sent)
{
    fixture_t f;
    setup_fixture(&f, false, 0, false, -1);
    pt_request_t *r = &f.r;
    pt_table_add(&r->headers_out, "X-Evil", "a\r\nSet-Cookie: x=1");
    pt_table_add(&r->headers_out, "X-Good", "fine");
    ck_assert_int_eq(pt_resp_send(r, 200, "text/plain", "ok", 2), 0);
    char got[1024];
    peer_read(&f, got, sizeof(got));
    ck_assert_ptr_null(strstr(got, "Set-Cookie"));
    ck_assert_ptr_nonnull(strstr(got, "X-Good: fine\r\n"));
    teardown_fixture(&f);
}
END_TEST

/* The head writer's line-break check reads a value in overlapping pieces whose sizes depend
 * on its length: a CR or an LF at any place of a value of any length from 1 to 48 bytes
 * leaves the field out, and a clean value of each length is sent whole. */
START_TEST(a_line_break_anywhere_in_a_value_of_any_length_leaves_the_field_out)
{
    for (size_t len = 1; len <= 48; len++) {
        fixture_t f;
        setup_fixture(&f, false, 0, false, -1);
        pt_request_t *r = &f.r;
        char clean[64];
        memset(clean, 'v', len);
        clean[len] = '\0';
        pt_table_add(&r->headers_out, "X-Clean", clean);
        for (size_t at = 0; at < len; at++) {
            for (int k = 0; k < 2; k++) {
                char *v = pt_arena_strdup(f.a, clean);
                v[at] = k ? '\n' : '\r';
                pt_table_add(&r->headers_out, "X-Broken", v);
            }
        }
        ck_assert_int_eq(pt_resp_send(r, 200, "text/plain", "ok", 2), 0);
        char got[4096], want[96];
        peer_read(&f, got, sizeof(got));
        snprintf(want, sizeof(want), "\r\nX-Clean: %s\r\n", clean);
        ck_assert_msg(strstr(got, want) != NULL, "clean value of %zu bytes not sent", len);
        ck_assert_msg(strstr(got, "X-Broken") == NULL, "a broken value of %zu bytes sent", len);
        ck_assert_ptr_nonnull(strstr(got, "\r\n\r\nok"));
        teardown_fixture(&f);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("body");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, reads_a_content_length_body_and_stops_at_its_end);
    tcase_add_test(tc, dechunks_a_chunked_body);
    tcase_add_test(tc, sends_100_continue_before_reading_the_body);
    tcase_add_test(tc, answers_413_when_a_chunked_body_passes_the_limit);
    tcase_add_test(tc, answers_400_to_a_malformed_chunk_size);
    tcase_add_test(tc, answers_400_when_the_client_closes_mid_body);
    tcase_add_test(tc, answers_408_when_the_body_stalls);
    tcase_add_test(tc, writes_a_chunked_response_when_the_length_is_unknown);
    tcase_add_test(tc, head_responses_carry_the_length_but_no_body);
    tcase_add_test(tc, a_short_body_closes_the_connection);
    tcase_add_test(tc, header_values_with_line_breaks_are_not_sent);
    tcase_add_test(tc, a_line_break_anywhere_in_a_value_of_any_length_leaves_the_field_out);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
