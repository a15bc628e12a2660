/* A client that changed a file and then sent a request gets the change, as from Apache's
 * stat per request, while portico shares one stat among the requests that were all sent
 * before it began (walk.h: the streams of one HTTP/2 read; in the event MPM, the idle
 * HTTP/1 connections one epoll_wait found with bytes). Rounds of keep-alive requests, plain
 * and over TLS, on several connections at once: before each round the file is replaced (a
 * new inode), then every connection asks for it, and every answer must be the new one. A
 * stat shared with a request sent after it began would answer with the file of the round
 * before. Over TLS each connection first sends a KeyUpdate, a record that is not a request,
 * before the file changes: when the server finds it and the request in one read, it must not
 * stand for the request's bytes. (The rules for what may stand for them are unit-tested:
 * test_walk, test_event_park.) Prefork is left out: its children, started one by one, are
 * what 8 connections at once would wait for. */
/* mpms: event worker */
#include "harness.h"
#include "tls_client.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNS 8
#define ROUNDS 100

static pth_t *h;
static int tls_port;

static void setup(void)
{
    h = pth_new();
    tls_port = pth_free_port();
    pth_config(h, "%s%s", "KeepAliveTimeout 30\nMaxKeepAliveRequests 0\n",
               pth_tls_vhost_conf(tls_port));
    pth_write_file(h, "v.txt", "round 0", 7);
    pth_start(h);
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
}

/* The file's next version: a new file renamed over the name (a deploy's way). */
static void replace(int round, char *body, size_t len)
{
    snprintf(body, len, "round %d", round);
    pth_write_file(h, "v.tmp", body, strlen(body));
    char to[512];
    snprintf(to, sizeof(to), "%s/v.txt", h->docroot);
    pth_assert(rename(pth_path(h, "htdocs/v.tmp"), to) == 0);
}

static const char get[] = "GET /v.txt HTTP/1.1\r\nHost: a.test\r\n\r\n";

static void check_answer(const pth_resp_t *r, const char *want, int round, int i)
{
    pth_assert_msg(r->status == 200, "round %d, connection %d: status %d", round, i, r->status);
    pth_assert_msg(r->body_len == strlen(want) && memcmp(r->body, want, r->body_len) == 0,
                   "round %d, connection %d: got \"%.*s\", want \"%s\"", round, i, (int)r->body_len,
                   r->body, want);
}

START_TEST(plain_keepalive_requests_see_the_file_replaced_before_them)
{
    pth_conn_t *c[CONNS];
    for (int i = 0; i < CONNS; i++)
        c[i] = pth_conn_open(h);
    for (int round = 1; round <= ROUNDS; round++) {
        char want[32];
        replace(round, want, sizeof(want));
        for (int i = 0; i < CONNS; i++)
            pth_assert(pth_conn_send(c[i], get, sizeof(get) - 1) == 0);
        for (int i = 0; i < CONNS; i++) {
            pth_resp_t r;
            pth_assert(pth_conn_read_response(c[i], &r, false, PTH_IO_DEADLINE_MS) == 0);
            check_answer(&r, want, round, i);
            pth_resp_free(&r);
        }
    }
    for (int i = 0; i < CONNS; i++)
        pth_conn_close(c[i]);
}
END_TEST

START_TEST(tls_keepalive_requests_see_the_file_replaced_before_them)
{
    static pth_tls_conn_t t[CONNS];
    for (int i = 0; i < CONNS; i++)
        pth_tls_conn_open(&t[i], tls_port, "a.test");
    for (int round = 1; round <= ROUNDS; round++) {
        for (int i = 0; i < CONNS; i++)
            pth_tls_conn_key_update(&t[i]);
        char want[32];
        replace(round, want, sizeof(want));
        for (int i = 0; i < CONNS; i++)
            pth_tls_conn_send(&t[i], get, sizeof(get) - 1);
        for (int i = 0; i < CONNS; i++) {
            pth_resp_t r;
            pth_tls_conn_read_response(&t[i], &r);
            check_answer(&r, want, round, i);
            pth_resp_free(&r);
        }
    }
    for (int i = 0; i < CONNS; i++)
        pth_tls_conn_close(&t[i]);
}
END_TEST

int main(void)
{
    pth_tls_pki();
    Suite *s = suite_create("fresh_files");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, plain_keepalive_requests_see_the_file_replaced_before_them);
    tcase_add_test(tc, tls_keepalive_requests_see_the_file_replaced_before_them);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
