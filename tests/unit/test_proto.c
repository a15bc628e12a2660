/* Unit tests for the protocol-neutral request core: a request carried by a fake protocol
 * (not HTTP/1, and no socket: its connection's fd is -1) gets its status, header fields,
 * length decision and body through the pt_proto_ops_t operations, and reads its body
 * through them with the core's limits applied. */
#include "conn.h"
#include "request.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* What the fake protocol saw. */
typedef struct {
    int heads, finishes;
    int status;
    int64_t length;
    bool no_body, last_file;
    pt_table_t fields;
    char body[4096];
    size_t body_len;
    const char *feed;       /* request body the fake client sends, read_body's source */
    size_t feed_len, feed_pos;
} fake_t;

static fake_t *fake_of(pt_request_t *r)
{
    return r->proto_ctx;
}

static bool fake_keep_alive(pt_request_t *r, int64_t len)
{
    (void)r, (void)len;
    return true;
}

static int fake_send_head(pt_request_t *r, const pt_resp_head_t *h)
{
    fake_t *f = fake_of(r);
    f->heads++;
    f->status = h->status;
    f->length = h->length;
    f->no_body = h->no_body;
    f->fields = *h->fields;
    r->head_sent = true; /* this protocol sends heads at once */
    return 0;
}

static int fake_send_body(pt_request_t *r, pt_chain_t *body)
{
    fake_t *f = fake_of(r);
    while (body && !pt_chain_empty(body)) {
        struct iovec iov[PT_CHAIN_IOV];
        size_t bytes = 0;
        int n = pt_chain_iov(body, iov, PT_CHAIN_IOV, &bytes);
        ck_assert_int_gt(n + (int)bytes, 0); /* the core sends no file range as memory */
        for (int i = 0; i < n; i++) {
            ck_assert_uint_le(f->body_len + iov[i].iov_len, sizeof(f->body));
            memcpy(f->body + f->body_len, iov[i].iov_base, iov[i].iov_len);
            f->body_len += iov[i].iov_len;
        }
        pt_chain_consume(body, bytes);
    }
    return 0;
}

static int fake_send_file(pt_request_t *r, int fd, off_t off, off_t len, bool last)
{
    fake_t *f = fake_of(r);
    ck_assert_int_eq(pread(fd, f->body + f->body_len, (size_t)len, off), len);
    f->body_len += (size_t)len;
    f->last_file = last;
    return 0;
}

static int fake_finish(pt_request_t *r)
{
    fake_of(r)->finishes++;
    return 0;
}

static long fake_read_body(pt_request_t *r, void *buf, size_t n, int *status)
{
    fake_t *f = fake_of(r);
    (void)status;
    size_t k = PT_MIN(n, f->feed_len - f->feed_pos);
    k = PT_MIN(k, (size_t)4); /* small pieces: the core loops, as with DATA frames */
    memcpy(buf, f->feed + f->feed_pos, k);
    f->feed_pos += k;
    if (f->feed_pos == f->feed_len)
        r->body_eof = true;
    return (long)k;
}

static const pt_proto_ops_t fake_proto = {
    .name = "fake",
    .keep_alive = fake_keep_alive,
    .send_head = fake_send_head,
    .send_body = fake_send_body,
    .send_file = fake_send_file,
    .finish = fake_finish,
    .read_body = fake_read_body,
};

typedef struct {
    pt_conn_t conn;
    pt_arena_t *a;
    pt_config_t cfg;
    pt_vhost_t vh;
    pt_dir_config_t dir;
    fake_t fake;
    pt_request_t r;
} fixture_t;

static void setup_fixture(fixture_t *f)
{
    memset(f, 0, sizeof(*f));
    f->conn.fd = -1; /* no socket: every byte must go through the operations */
    f->a = pt_arena_create(0);
    f->dir.limit_request_body = -1;
    f->vh.dir = &f->dir;
    f->vh.timeout_ms = 2000;
    f->vh.keepalive = true;
    f->vh.server_name = "www.example.com";
    f->cfg.main_server = &f->vh;
    f->cfg.server_tokens = 0;
    pt_request_t *r = &f->r;
    r->arena = f->a;
    r->conn = &f->conn;
    r->cfg = &f->cfg;
    r->vhost = &f->vh;
    r->dir = &f->dir;
    r->proto = &fake_proto;
    r->proto_ctx = &f->fake;
    r->protocol = "HTTP/2.0";
    r->proto_num = 2000;
    r->method = "GET";
    r->method_id = PT_METHOD_GET;
    r->uri = "/x";
    r->keepalive = true;
    r->content_length = -1;
    pt_table_init(&r->headers_in, f->a, 4);
    pt_table_init(&r->headers_out, f->a, 4);
    pt_table_init(&r->err_headers_out, f->a, 4);
    pt_table_init(&r->env, f->a, 4);
}

static void teardown_fixture(fixture_t *f)
{
    pt_arena_destroy(f->a);
}

START_TEST(a_response_from_memory_goes_through_the_operations)
{
    fixture_t f;
    setup_fixture(&f);
    pt_request_t *r = &f.r;
    pt_table_add(&r->headers_out, "X-Mine", "yes");
    pt_table_add(&r->headers_out, "Content-Length", "999"); /* framing is not the handler's */
    pt_table_add(&r->headers_out, "X-After", "kept");
    pt_table_add(&r->headers_out, "connection", "close");
    ck_assert_int_eq(pt_resp_send(r, 201, "text/plain", "hello", 5), 0);
    ck_assert_int_eq(f.fake.heads, 1);
    ck_assert_int_eq(f.fake.finishes, 1);
    ck_assert_int_eq(f.fake.status, 201);
    ck_assert_int_eq(f.fake.length, 5);
    ck_assert(!f.fake.no_body);
    ck_assert_str_eq(pt_table_get(&f.fake.fields, "X-Mine"), "yes");
    ck_assert_str_eq(pt_table_get(&f.fake.fields, "Content-Type"), "text/plain");
    ck_assert_str_eq(pt_table_get(&f.fake.fields, "Server"), "portico");
    ck_assert_ptr_nonnull(pt_table_get(&f.fake.fields, "Date"));
    /* No HTTP/1 framing: the protocol decides how the length is told. */
    ck_assert_ptr_null(pt_table_get(&f.fake.fields, "Content-Length"));
    ck_assert_ptr_null(pt_table_get(&f.fake.fields, "Transfer-Encoding"));
    ck_assert_ptr_null(pt_table_get(&f.fake.fields, "Connection"));
    /* What is left keeps its order, each field once: those after a dropped one move up. */
    static const char *const names[] = {"Date", "Server", "X-Mine", "X-After", "Content-Type"};
    ck_assert_uint_eq(f.fake.fields.n, PT_ARRAY_LEN(names));
    for (size_t i = 0; i < PT_ARRAY_LEN(names); i++)
        ck_assert_str_eq(f.fake.fields.v[i].name, names[i]);
    ck_assert_uint_eq(f.fake.body_len, 5);
    ck_assert_int_eq(memcmp(f.fake.body, "hello", 5), 0);
    ck_assert_int_eq(r->bytes_sent, 5);
    ck_assert(r->keepalive);
    teardown_fixture(&f);
}
END_TEST

START_TEST(an_unknown_length_is_passed_on_and_the_body_streams)
{
    fixture_t f;
    setup_fixture(&f);
    pt_request_t *r = &f.r;
    ck_assert_int_eq(pt_resp_start(r, 200, -1), 0);
    ck_assert_int_eq(pt_resp_write(r, "abc", 3), 0);
    ck_assert_int_eq(pt_resp_write(r, "defgh", 5), 0);
    ck_assert_int_eq(pt_resp_finish(r), 0);
    ck_assert_int_eq(f.fake.length, -1);
    ck_assert_uint_eq(f.fake.body_len, 8);
    ck_assert_int_eq(memcmp(f.fake.body, "abcdefgh", 8), 0);
    ck_assert(r->keepalive); /* the fake protocol needs no close to end a body */
    teardown_fixture(&f);
}
END_TEST

START_TEST(a_file_range_ends_a_body_of_known_length)
{
    fixture_t f;
    setup_fixture(&f);
    pt_request_t *r = &f.r;
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    fputs("0123456789", tmp);
    fflush(tmp);
    ck_assert_int_eq(pt_resp_start(r, 200, 6), 0);
    ck_assert_int_eq(pt_resp_write(r, "ab", 2), 0);
    ck_assert_int_eq(pt_resp_write_file(r, fileno(tmp), 3, 10), 0); /* clamped to 4 */
    ck_assert_int_eq(pt_resp_finish(r), 0);
    ck_assert(f.fake.last_file);
    ck_assert_uint_eq(f.fake.body_len, 6);
    ck_assert_int_eq(memcmp(f.fake.body, "ab3456", 6), 0);
    fclose(tmp);
    teardown_fixture(&f);
}
END_TEST

START_TEST(head_requests_and_304_send_no_body)
{
    fixture_t f;
    setup_fixture(&f);
    pt_request_t *r = &f.r;
    r->header_only = true;
    ck_assert_int_eq(pt_resp_send(r, 200, "text/plain", "hello", 5), 0);
    ck_assert(f.fake.no_body);
    ck_assert_int_eq(f.fake.length, 5);
    ck_assert_uint_eq(f.fake.body_len, 0);
    teardown_fixture(&f);
    setup_fixture(&f);
    r = &f.r;
    ck_assert_int_eq(pt_resp_send(r, 304, NULL, "", 0), 0);
    ck_assert(f.fake.no_body);
    ck_assert_uint_eq(f.fake.body_len, 0);
    teardown_fixture(&f);
}
END_TEST

START_TEST(error_pages_are_made_by_the_core)
{
    fixture_t f;
    setup_fixture(&f);
    pt_request_t *r = &f.r;
    pt_table_add(&r->headers_out, "X-Handler", "dropped on errors");
    ck_assert_int_eq(pt_resp_send_error(r, 404), 0);
    ck_assert_int_eq(f.fake.status, 404);
    ck_assert_ptr_null(pt_table_get(&f.fake.fields, "X-Handler"));
    ck_assert_str_eq(pt_table_get(&f.fake.fields, "Content-Type"),
                     "text/html; charset=iso-8859-1");
    f.fake.body[f.fake.body_len] = '\0';
    ck_assert_ptr_nonnull(strstr(f.fake.body, "<title>404 Not Found</title>"));
    ck_assert_int_eq(f.fake.length, (int64_t)f.fake.body_len);
    teardown_fixture(&f);
}
END_TEST

START_TEST(the_request_body_comes_through_read_body_with_the_limit_applied)
{
    fixture_t f;
    setup_fixture(&f);
    pt_request_t *r = &f.r;
    r->has_body = true;
    f.fake.feed = "hello world";
    f.fake.feed_len = 11;
    char out[64];
    size_t len = 0;
    long n;
    while ((n = pt_req_read_body(r, out + len, sizeof(out) - len, NULL)) > 0)
        len += (size_t)n;
    ck_assert_int_eq(n, 0);
    ck_assert_uint_eq(len, 11);
    ck_assert_int_eq(memcmp(out, "hello world", 11), 0);
    ck_assert_int_eq(r->body_read, 11);
    teardown_fixture(&f);

    setup_fixture(&f);
    r = &f.r;
    r->has_body = true;
    f.dir.limit_request_body = 6;
    f.fake.feed = "hello world";
    f.fake.feed_len = 11;
    int st = 0;
    while ((n = pt_req_read_body(r, out, sizeof(out), &st)) > 0)
        ;
    ck_assert_int_lt(n, 0);
    ck_assert_int_eq(st, 413);
    ck_assert(r->body_error);
    teardown_fixture(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proto");
    TCase *tc = tcase_create("neutral core");
    tcase_add_test(tc, a_response_from_memory_goes_through_the_operations);
    tcase_add_test(tc, an_unknown_length_is_passed_on_and_the_body_streams);
    tcase_add_test(tc, a_file_range_ends_a_body_of_known_length);
    tcase_add_test(tc, head_requests_and_304_send_no_body);
    tcase_add_test(tc, error_pages_are_made_by_the_core);
    tcase_add_test(tc, the_request_body_comes_through_read_body_with_the_limit_applied);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
