/* Checks the harness itself, so a failure elsewhere can be trusted to be the server's: port
 * retry, stop and reap, the error-log check's matching, and the response parser. */
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

START_TEST(starts_on_another_port_when_the_chosen_one_is_taken)
{
    pth_t *h = pth_new();
    int taken = h->port;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* not inherited */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    taken = h->port = ntohs(a.sin_port);
    ck_assert_int_eq(listen(fd, 4), 0);
    pth_write_filef(h, "x.txt", "x");
    pth_config(h, "\n");
    pth_start(h);
    ck_assert_int_ne(h->port, taken);
    pth_resp_t r;
    pth_get(h, "/x.txt", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    close(fd);
    pid_t pid = h->pid;
    ck_assert_int_eq(pth_stop(h), 0);
    ck_assert_int_eq(h->pid, 0);
    ck_assert_msg(kill(pid, 0) != 0 && errno == ESRCH, "server still exists after stop");
    pth_free(h);
}
END_TEST

START_TEST(error_log_check_ignores_lower_levels_and_expected_lines)
{
    pth_t *h = pth_new();
    FILE *f = fopen(h->error_log, "w");
    fputs("[Mon Nov 23 00:00:00.000000 2026] [core:notice] [pid 1:tid 1] fine\n"
          "[Mon Nov 23 00:00:00.000000 2026] [core:warn] [pid 1:tid 1] error: not a level\n"
          "[Mon Nov 23 00:00:00.000000 2026] [authz_core:error] [pid 1:tid 1] AH01630: denied\n",
          f);
    fclose(f);
    pth_expect_error(h, "AH01630");
    pth_check_error_log(h);
    pth_free(h);
}
END_TEST

START_TEST(parses_content_length_chunked_close_delimited_and_interim_responses)
{
    pth_resp_t r;
    size_t used;
    const char *cl = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A:  v \r\n\r\nabcHTTP/1.1";
    ck_assert_int_eq(pth_parse_response(cl, strlen(cl), false, false, &r, &used), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.reason, "OK");
    ck_assert_str_eq(r.body, "abc");
    ck_assert_str_eq(pth_resp_header(&r, "x-a"), "v");
    ck_assert_uint_eq(used, strlen(cl) - 8);
    pth_resp_free(&r);

    const char *ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n";
    ck_assert_int_eq(pth_parse_response(ch, strlen(ch), false, false, &r, &used), 0);
    ck_assert_str_eq(r.body, "abcde");
    ck_assert_uint_eq(used, strlen(ch));
    pth_resp_free(&r);
    ck_assert_int_eq(pth_parse_response(ch, strlen(ch) - 2, false, false, &r, &used), -EAGAIN);

    const char *eof = "HTTP/1.0 200 OK\r\n\r\nuntil close";
    ck_assert_int_eq(pth_parse_response(eof, strlen(eof), false, false, &r, &used), -EAGAIN);
    ck_assert_int_eq(pth_parse_response(eof, strlen(eof), false, true, &r, &used), 0);
    ck_assert_str_eq(r.body, "until close");
    ck_assert(r.framed_by_close);
    ck_assert_int_eq(r.version, 10);
    pth_resp_free(&r);

    const char *cont = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 405 Method Not Allowed\r\n";
    ck_assert_int_eq(pth_parse_response(cont, strlen(cont), false, false, &r, &used), 0);
    ck_assert_int_eq(r.status, 100);
    ck_assert_uint_eq(used, 25);
    pth_resp_free(&r);

    ck_assert_int_eq(pth_parse_response("garbage\r\n\r\n", 11, false, true, &r, &used), -EINVAL);
}
END_TEST

/* The parser is a client that must not be fooled: a bare LF or CR in the head, a line that
 * is not a field, an ambiguous framing or a chunk without its CRLF is malformed. */
START_TEST(parser_rejects_bare_line_ends_and_ambiguous_framing)
{
    static const char *const bad[] = {
        "HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\na",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\n\r\n",
        "HTTP/1.12 200 OK\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pth_resp_t r;
        size_t used;
        int rc = pth_parse_response(bad[i], strlen(bad[i]), false, true, &r, &used);
        ck_assert_msg(rc == -EINVAL, "case %zu parsed (%d): %s", i, rc, bad[i]);
    }
}
END_TEST

START_TEST(run_captures_exit_code_and_output)
{
    pth_t *h = pth_new();
    pth_run_t r;
    pth_run(h, 10000, &r, "-v", NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(r.out);
    ck_assert_ptr_nonnull(r.err);
    pth_run_free(&r);
    pth_free(h);
}
END_TEST

/* The same when the port's holder is a dual-stack IPv6 listener ([::], as `openssl ocsp
 * -port` or a test backend of another suite may bind): it takes IPv4 connections too, but
 * /proc/net/tcp does not list it. The readiness check took "no listener there" for "cannot
 * tell" and the connect the stranger answered for ours: the test then talked to the
 * stranger (404s and 503s from another server under load) while ours exited on
 * EADDRINUSE. */
START_TEST(starts_on_another_port_when_an_ipv6_listener_holds_the_chosen_one)
{
    pth_t *h = pth_new();
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    int off = 0;
    ck_assert_int_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)), 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
    socklen_t al = sizeof(a);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    int taken = h->port = ntohs(a.sin6_port);
    ck_assert_int_eq(listen(fd, 4), 0);
    pth_write_filef(h, "x.txt", "x");
    pth_config(h, "\n");
    pth_start(h);
    ck_assert_int_ne(h->port, taken);
    pth_resp_t r;
    pth_get(h, "/x.txt", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    close(fd);
    ck_assert_int_eq(pth_stop(h), 0);
    pth_free(h);
}
END_TEST

/* A suite's own Listen (an https port beside the harness's) is bound after the harness's
 * one: pth_start returned once the first accepted, and a connect to the second could come
 * before its listen() (test_websocket's TLS case, once under TSan). The shim delays that
 * second listen() by 300 ms; pth_start must not return before it is done. */
START_TEST(waits_for_every_listener_before_returning)
{
    pth_t *h = pth_new();
    int second = pth_free_port();
    char port[16];
    snprintf(port, sizeof(port), "%d", second);
    setenv("PTH_SLOW_LISTEN_PORT", port, 1);
    pth_write_filef(h, "x.txt", "x");
    pth_config(h, "Listen 127.0.0.1:%d\n", second);
    pth_start_preloaded(h, "slow_listen");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)second),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0,
                  "the second listener was not up when pth_start returned: %s",
                  strerror(errno));
    close(fd);
    ck_assert_int_eq(pth_stop(h), 0);
    pth_free(h);
}
END_TEST

static Suite *harness_suite(void)
{
    Suite *s = suite_create("harness");
    TCase *tc = tcase_create("harness");
    tcase_add_test(tc, starts_on_another_port_when_the_chosen_one_is_taken);
    tcase_add_test(tc, starts_on_another_port_when_an_ipv6_listener_holds_the_chosen_one);
    tcase_add_test(tc, waits_for_every_listener_before_returning);
    tcase_add_test(tc, error_log_check_ignores_lower_levels_and_expected_lines);
    tcase_add_test(tc, parses_content_length_chunked_close_delimited_and_interim_responses);
    tcase_add_test(tc, parser_rejects_bare_line_ends_and_ambiguous_framing);
    tcase_add_test(tc, run_captures_exit_code_and_output);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(harness_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
