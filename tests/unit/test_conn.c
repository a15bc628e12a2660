/* Unit tests for the connection's I/O (net/conn.c) over its transport: the plain socket,
 * a transport without sendfile (the file is read and written instead), and one that holds
 * bytes epoll cannot see (pending). */
#include "conn.h"
#include "clock.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- A fake transport: what it was given is kept in memory ---------------------------- */

static char sent[1 << 18];
static size_t nsent;
static size_t write_cap;   /* bytes it takes per writev (a short write), 0: all */
static size_t fake_pending;
static bool closed;

static long fake_recv(pt_conn_t *c, void *buf, size_t n)
{
    (void)c, (void)buf, (void)n;
    c->tp_want = POLLIN;
    return PT_EAGAIN;
}

static long fake_writev(pt_conn_t *c, const struct iovec *iov, int iovcnt, bool more)
{
    (void)c, (void)more;
    size_t took = 0;
    for (int i = 0; i < iovcnt; i++) {
        size_t n = iov[i].iov_len;
        if (write_cap && took + n > write_cap)
            n = write_cap - took;
        ck_assert_uint_le(nsent + n, sizeof(sent));
        memcpy(sent + nsent, iov[i].iov_base, n);
        nsent += n;
        took += n;
        if (write_cap && took == write_cap)
            break;
    }
    return (long)took;
}

static size_t fake_pending_bytes(const pt_conn_t *c)
{
    (void)c;
    return fake_pending;
}

static int fake_shutdown(pt_conn_t *c)
{
    (void)c;
    return 0;
}

static void fake_close(pt_conn_t *c)
{
    close(c->fd);
    c->fd = -1;
    closed = true;
}

static const pt_transport_t no_sendfile = {
    .name = "fake",
    .recv = fake_recv,
    .writev = fake_writev,
    .sendfile = NULL,
    .pending = fake_pending_bytes,
    .shutdown_write = fake_shutdown,
    .close = fake_close,
};

static int sv[2];

static pt_conn_t *conn_on(const pt_transport_t *tp)
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    struct sockaddr_storage peer = {.ss_family = AF_UNIX};
    pt_conn_t *c = pt_conn_create(sv[0], NULL, (struct sockaddr *)&peer, sizeof(peer));
    ck_assert_ptr_nonnull(c);
    if (tp)
        c->tp = tp;
    nsent = 0;
    write_cap = 0;
    fake_pending = 0;
    closed = false;
    return c;
}

/* A temporary file holding n bytes of a known pattern. */
static int pattern_file(size_t n)
{
    char path[] = "/tmp/portico-test-conn-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    for (size_t i = 0; i < n; i++) {
        char b = (char)('a' + i % 26);
        ck_assert_int_eq(write(fd, &b, 1), 1);
    }
    return fd;
}

START_TEST(a_transport_without_sendfile_gets_the_file_read_and_written)
{
    pt_conn_t *c = conn_on(&no_sendfile);
    size_t size = 3 * PT_CONN_FILE_CHUNK + 123;
    int fd = pattern_file(size);
    ck_assert_int_eq(pt_conn_sendfile(c, fd, 5, (off_t)(size - 5), 1000), 0);
    ck_assert_uint_eq(nsent, size - 5);
    for (size_t i = 0; i < nsent; i++)
        ck_assert_int_eq(sent[i], 'a' + (i + 5) % 26);
    ck_assert(!c->aborted);
    close(fd);
    pt_conn_destroy(c);
    ck_assert(closed);
    close(sv[1]);
}
END_TEST

START_TEST(the_fallback_resumes_after_a_short_write_at_the_right_offset)
{
    pt_conn_t *c = conn_on(&no_sendfile);
    int fd = pattern_file(1000);
    write_cap = 300;
    off_t off = 10;
    ck_assert_int_eq(pt_conn_sendfile_some(c, fd, &off, 900), 300);
    ck_assert_int_eq(off, 310);
    ck_assert_int_eq(pt_conn_sendfile_some(c, fd, &off, 600), 300);
    ck_assert_int_eq(off, 610);
    ck_assert_uint_eq(nsent, 600);
    for (size_t i = 0; i < nsent; i++)
        ck_assert_int_eq(sent[i], 'a' + (i + 10) % 26);
    close(fd);
    pt_conn_destroy(c);
    close(sv[1]);
}
END_TEST

START_TEST(a_file_shorter_than_promised_aborts_the_connection)
{
    pt_conn_t *c = conn_on(&no_sendfile);
    int fd = pattern_file(100);
    ck_assert_int_eq(pt_conn_sendfile(c, fd, 0, 200, 1000), PT_ECLOSED);
    ck_assert(c->aborted);
    ck_assert_uint_eq(nsent, 100);
    close(fd);
    pt_conn_destroy(c);
    close(sv[1]);
}
END_TEST

START_TEST(the_write_tail_goes_through_the_fallback_too)
{
    pt_conn_t *c = conn_on(&no_sendfile);
    int fd = pattern_file(50000);
    c->wc_fd = dup(fd);
    c->wc_off = 0;
    c->wc_len = 50000;
    ck_assert_int_eq(pt_conn_write_tail(c), 0);
    ck_assert_uint_eq(nsent, 50000);
    ck_assert_int_eq(c->wc_fd, -1);
    close(fd);
    pt_conn_destroy(c);
    close(sv[1]);
}
END_TEST

START_TEST(pending_bytes_make_a_connection_readable_without_the_socket)
{
    pt_conn_t *c = conn_on(&no_sendfile);
    ck_assert(!pt_conn_pending(c));
    ck_assert_int_eq(pt_conn_wait(c, POLLIN, 0), PT_ETIMEOUT);
    fake_pending = 7;
    ck_assert(pt_conn_pending(c));
    ck_assert_int_eq(pt_conn_wait(c, POLLIN, 5000), 0); /* at once: nothing on the socket */
    pt_conn_destroy(c);
    close(sv[1]);
}
END_TEST

START_TEST(the_socket_transport_reads_writes_sends_files_and_shuts_down)
{
    pt_conn_t *c = conn_on(NULL);
    ck_assert_ptr_eq(c->tp, &pt_transport_socket);
    ck_assert_int_eq(pt_conn_read(c, 4096), PT_EAGAIN);
    ck_assert_int_eq(c->tp_want, POLLIN);
    ck_assert_int_eq(write(sv[1], "GET / HTTP/1.1\r\n", 16), 16);
    ck_assert_int_eq(pt_conn_read(c, 4096), 16);
    ck_assert_mem_eq(c->rbuf, "GET / HTTP/1.1\r\n", 16);
    struct iovec v[2] = {{"hello ", 6}, {"world", 5}};
    ck_assert_int_eq(pt_conn_writev(c, v, 2, 1000, false), 0);
    int fd = pattern_file(26);
    ck_assert_int_eq(pt_conn_sendfile(c, fd, 0, 26, 1000), 0);
    close(fd);
    ck_assert_int_eq(pt_conn_shutdown_write(c), 0);
    char buf[64];
    size_t got = 0;
    for (ssize_t n; (n = read(sv[1], buf + got, sizeof(buf) - got)) > 0;)
        got += (size_t)n;
    ck_assert_uint_eq(got, 37);
    ck_assert_mem_eq(buf, "hello worldabcdefghijklmnopqrstuvwxyz", 37);
    pt_conn_destroy(c);
    close(sv[1]);
}
END_TEST

static int released;

static void count_release(void *p)
{
    released++;
    free(p);
}

START_TEST(destroy_releases_the_protocol_state_through_its_driver)
{
    static const pt_conn_proto_t proto = {.name = "test", .release = count_release};
    pt_conn_t *c = conn_on(NULL);
    c->proto = &proto;
    c->proto_state = malloc(16);
    released = 0;
    pt_conn_destroy(c);
    ck_assert_int_eq(released, 1);
    /* Without a driver's release, free() does. */
    c = conn_on(NULL);
    c->proto_state = malloc(16);
    pt_conn_destroy(c);
    close(sv[1]);
}
END_TEST

START_TEST(the_keepalive_deadline_counts_from_the_answers_end_once_then_from_now)
{
    pt_conn_t *c = conn_on(NULL);
    c->keepalive_ms = 5000;
    c->idle_from_ms = 1000; /* the end of the answer, as the HTTP/1 driver leaves it */
    ck_assert_int_eq(pt_conn_keepalive_deadline(c), 6000);
    ck_assert_int_eq(c->idle_from_ms, 0); /* consumed: a later park reads the clock */
    int64_t before = pt_now_ms();
    int64_t d = pt_conn_keepalive_deadline(c);
    ck_assert(d >= before + 5000 && d <= pt_now_ms() + 5000);
    pt_conn_destroy(c);
    close(sv[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conn");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, a_transport_without_sendfile_gets_the_file_read_and_written);
    tcase_add_test(tc, the_fallback_resumes_after_a_short_write_at_the_right_offset);
    tcase_add_test(tc, a_file_shorter_than_promised_aborts_the_connection);
    tcase_add_test(tc, the_write_tail_goes_through_the_fallback_too);
    tcase_add_test(tc, pending_bytes_make_a_connection_readable_without_the_socket);
    tcase_add_test(tc, the_socket_transport_reads_writes_sends_files_and_shuts_down);
    tcase_add_test(tc, destroy_releases_the_protocol_state_through_its_driver);
    tcase_add_test(tc, the_keepalive_deadline_counts_from_the_answers_end_once_then_from_now);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
