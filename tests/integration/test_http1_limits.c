/* Limits on the HTTP/1 request path that an attacker leans on: a head sent in small pieces
 * (parsed once, not once per piece), a body trickled under RequestReadTimeout's MinRate,
 * unbounded chunked trailers, and what the access log says about a body that never came. */
#include "fcgi_backends.h"
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IO_MS 5000

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "a.txt", "A");
}

static void teardown(void)
{
    int rc = pth_stop(h);
    pth_free(h);
    h = NULL;
    ck_assert_msg(rc == 0, "server exit status %d at stop", rc);
}

/* The access log line of the request whose line is `line`, once it is written. */
static char *access_line(const char *line)
{
    char needle[256];
    snprintf(needle, sizeof(needle), "\"%s\" ", line);
    ck_assert_msg(pth_file_wait_contains(h->access_log, needle, IO_MS),
                  "no access log line for %s", line);
    char *log = pth_read_file(h->access_log, NULL);
    char *p = strstr(log, needle);
    char *nl = strchr(p, '\n');
    if (nl)
        *nl = '\0';
    char *out = strdup(p);
    free(log);
    return out;
}

/* The status the access log gives the request (%>s after "%r" in the common format). */
static int logged_status(const char *line)
{
    char *l = access_line(line);
    int st = atoi(l + strlen(line) + 3);
    free(l);
    return st;
}

/* Reads the response that ends a connection (or times out): its status, 0 when none. */
static int final_status(pth_conn_t *c, int ms)
{
    pth_resp_t r;
    int rc = pth_conn_read_response(c, &r, false, ms);
    if (rc != 0)
        return 0;
    int st = r.status;
    pth_resp_free(&r);
    return st;
}

/* ---- Defect 7: chunked trailers ------------------------------------------------------- */

static void send_trailers(pth_conn_t *c, const char *path, int n, size_t vlen)
{
    pth_conn_sendf(c, "POST %s HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                      "\r\n1\r\na\r\n0\r\n", path);
    char *v = malloc(vlen + 1);
    memset(v, 'v', vlen);
    v[vlen] = '\0';
    for (int i = 0; i < n; i++)
        if (pth_conn_sendf(c, "X-T%d: %s\r\n", i, v) != 0)
            break;
    free(v);
    pth_conn_sendf(c, "\r\n");
}

START_TEST(more_trailer_fields_than_limit_request_fields_get_400_and_a_log_line)
{
    pth_config(h, "LimitRequestFields 20\n");
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    send_trailers(c, "/a.txt", 20, 10);
    /* 20 trailers are within the limit: the request is answered (405: POST to a file). */
    int st = final_status(c, IO_MS);
    ck_assert_msg(st == 405, "20 trailers: status %d", st);
    pth_conn_close(c);

    c = pth_conn_open(h);
    send_trailers(c, "/a.txt?many", 5000, 100);
    st = final_status(c, IO_MS);
    ck_assert_msg(st == 400, "5,000 trailers: status %d (Apache: 400)", st);
    ck_assert(pth_conn_wait_closed(c, IO_MS));
    pth_conn_close(c);
    ck_assert(pth_file_wait_contains(h->error_log, "more trailer fields than LimitRequestFields",
                                     IO_MS));
    ck_assert_int_eq(logged_status("POST /a.txt?many HTTP/1.1"), 400);
}
END_TEST

START_TEST(a_trailer_field_longer_than_limit_request_field_size_gets_400)
{
    pth_config(h, "LimitRequestFieldSize 200\n");
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    send_trailers(c, "/a.txt", 1, 180);
    int st = final_status(c, IO_MS);
    ck_assert_msg(st == 405, "a 190-byte trailer: status %d", st);
    pth_conn_close(c);

    c = pth_conn_open(h);
    send_trailers(c, "/a.txt", 1, 300);
    st = final_status(c, IO_MS);
    ck_assert_msg(st == 400, "a 310-byte trailer: status %d (Apache: 400)", st);
    pth_conn_close(c);
    ck_assert(pth_file_wait_contains(h->error_log,
                                     "trailer field larger than LimitRequestFieldSize", IO_MS));
}
END_TEST

/* ---- Defect 10: the access log of a body that did not come ----------------------------- */

START_TEST(a_client_that_closes_mid_body_is_logged_with_400)
{
    pth_config(h, "RequestReadTimeout header=5 body=5\n");
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n"
                      "0123456789");
    pth_conn_close(c);
    /* Apache logs 400 (the body read failed); portico logged status 0. */
    ck_assert_int_eq(logged_status("POST /a.txt HTTP/1.1"), 400);
}
END_TEST

START_TEST(a_body_that_stalls_until_the_timeout_is_logged_with_408)
{
    pth_config(h, "RequestReadTimeout header=5 body=1\n");
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /nothing HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n"
                      "0123456789");
    int st = final_status(c, IO_MS);
    ck_assert_msg(st == 408, "status %d after the body stalled", st);
    pth_conn_close(c);
    ck_assert_int_eq(logged_status("POST /nothing HTTP/1.1"), 408);
}
END_TEST

/* ---- Defect 2: RequestReadTimeout body= MinRate and maximum ---------------------------- */

/* Sends one byte of body every period_ms until the server answers or closes; returns the
 * status (0 when none) and the time from the head to the answer in *ms. */
static int trickle(pth_conn_t *c, const char *chunk, int period_ms, int give_up_ms, int64_t *ms)
{
    int64_t t0 = pth_now_ms();
    for (;;) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, period_ms) > 0)
            break;
        if (pth_now_ms() - t0 > give_up_ms)
            break;
        if (pth_conn_send(c, chunk, strlen(chunk)) != 0)
            break;
    }
    *ms = pth_now_ms() - t0;
    return final_status(c, 1000);
}

START_TEST(a_body_below_min_rate_gets_408_at_the_body_timeout)
{
    pth_config(h, "RequestReadTimeout header=5 body=2-4,MinRate=100\n");
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n");
    int64_t ms;
    int st = trickle(c, "x", 1500, 12000, &ms);
    /* Apache: 408 after 2 s (each byte buys 10 ms). Before the fix no read ever waited 2 s,
     * so the connection stayed open for as long as the client kept trickling. */
    ck_assert_msg(st == 408, "status %d after %lld ms of a 1 byte / 1.5 s body", st,
                  (long long)ms);
    ck_assert_msg(ms >= 1800 && ms < 6000, "408 after %lld ms (body=2-4)", (long long)ms);
    ck_assert(pth_file_wait_contains(h->error_log, "timeout reading the request body", IO_MS));
    pth_conn_close(c);
    ck_assert_int_eq(logged_status("POST /a.txt HTTP/1.1"), 408);
}
END_TEST

START_TEST(a_body_at_min_rate_is_cut_off_at_the_maximum)
{
    pth_config(h, "RequestReadTimeout header=5 body=1-3,MinRate=100\n");
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /a.txt HTTP/1.1\r\nHost: localhost\r\n"
                      "Content-Length: 1000000\r\n\r\n");
    /* 100 bytes every 250 ms is 400 bytes/s, four times MinRate: only the maximum stops it. */
    static char piece[101];
    memset(piece, 'x', 100);
    int64_t ms;
    int st = trickle(c, piece, 250, 12000, &ms);
    ck_assert_msg(st == 408, "status %d after %lld ms", st, (long long)ms);
    ck_assert_msg(ms >= 2700 && ms < 6000, "408 after %lld ms (maximum 3 s)", (long long)ms);
    pth_conn_close(c);
}
END_TEST

START_TEST(a_body_above_min_rate_is_read_to_its_end)
{
    pth_config(h, "RequestReadTimeout header=5 body=1-10,MinRate=100\n");
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 600\r\n\r\n");
    /* 2 s of body at 300 bytes/s: past the 1 s base timeout, within what MinRate buys. */
    static char piece[61];
    memset(piece, 'x', 60);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(pth_conn_send(c, piece, 60), 0);
        pth_sleep_ms(200);
    }
    int st = final_status(c, IO_MS);
    ck_assert_msg(st == 405, "status %d after a body at 3 x MinRate", st);
    pth_conn_close(c);
}
END_TEST

/* Two bodies trickled to a php-fpm pool of two children held both of them, and a third
 * client got no answer. Each trickle must end with 408 and give its child back. */
START_TEST(trickled_bodies_to_php_fpm_end_with_408_and_free_the_pool)
{
    pth_fpm_t fpm;
    char msg[1024];
    ck_assert_msg(pth_fpm_start(&fpm, 2, false, msg, sizeof(msg)) == 0, "%s", msg);
    pth_write_filef(h, "t.php", "<?php echo 'len=' . strlen(file_get_contents('php://input'));");
    pth_config(h, "RequestReadTimeout header=5 body=2-4,MinRate=100\n"
                  "<LocationMatch \"\\.php$\">\n"
                  "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n"
                  "</LocationMatch>\n", fpm.sock);
    pth_start(h);
    pth_conn_t *c[2];
    bool answered[2] = {false, false};
    int status[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        c[i] = pth_conn_open(h);
        pth_conn_sendf(c[i], "POST /t.php HTTP/1.1\r\nHost: localhost\r\n"
                             "Content-Length: 1000\r\n\r\n");
    }
    int64_t t0 = pth_now_ms();
    while ((!answered[0] || !answered[1]) && pth_now_ms() - t0 < 12000) {
        for (int i = 0; i < 2; i++) {
            struct pollfd p = {.fd = c[i]->fd, .events = POLLIN};
            if (answered[i])
                continue;
            if (poll(&p, 1, 750) > 0) {
                answered[i] = true;
                status[i] = final_status(c[i], 1000);
            } else {
                pth_conn_send(c[i], "x", 1);
            }
        }
    }
    int64_t took = pth_now_ms() - t0;
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(status[i] == 408, "trickle %d: status %d after %lld ms", i, status[i],
                      (long long)took);
        pth_conn_close(c[i]);
    }
    ck_assert_msg(took < 6000, "the trickles lasted %lld ms (body=2-4)", (long long)took);
    /* The pool is free again: a plain request is answered at once. */
    pth_resp_t r;
    int64_t t1 = pth_now_ms();
    ck_assert_int_eq(pth_curl(h, "POST", "/t.php", NULL, "abc", 3, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "len=3");
    ck_assert_msg(pth_now_ms() - t1 < 3000, "the next PHP request took %lld ms",
                  (long long)(pth_now_ms() - t1));
    pth_resp_free(&r);
    pth_fpm_free(&fpm);
}
END_TEST

/* ---- Defect 4: a head in small pieces ------------------------------------------------- */

/* User CPU time (ms) used so far by the server's children. User time, not system time:
 * the defect this guards against is parsing, all of it in user space, while every piece of
 * a slow head also costs the kernel a park and a wakeup (epoll, a thread switch), whose
 * price is the host's: 0.1 ms a read here when the machine is quiet, and ten times that on
 * a loaded one (4.1 s of CPU for this head, most of it the scheduler's, under two test
 * runs at once). */
static long children_cpu_ms(void)
{
    return pth_children_cpu_ms(h->pid, false);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

START_TEST(a_large_head_sent_in_small_pieces_costs_little_cpu)
{
    pth_config(h, "LimitRequestFields 410\n");
    pth_start(h);
    /* 400 fields of 7,600 bytes: a 3 MB head, within LimitRequestFieldSize (8190) and
     * LimitRequestFields. Its size keeps the bound below wide on a loaded machine: the
     * defect's cost grows with the square of it (every read parsed the head again from its
     * first byte), the fixed server's only with the number of reads. At 3 MB the fixed
     * server takes 50-140 ms of user CPU under any MPM, with a load average of 8 too, and the
     * defect 4.1-4.3 s (re-created: a fresh parser on every read). */
    size_t cap = 3100 * 1024, len = 0;
    char *head = malloc(cap);
    len += (size_t)sprintf(head, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n");
    for (int i = 0; i < 400; i++) {
        len += (size_t)sprintf(head + len, "X-F%03d: ", i);
        memset(head + len, 'a' + i % 26, 7600 - 8);
        len += 7600 - 8;
        memcpy(head + len, "\r\n", 2);
        len += 2;
    }
    memcpy(head + len, "\r\n", 2);
    len += 2;

    pth_conn_t *c = pth_conn_open(h);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    long cpu0 = children_cpu_ms();
    int64_t t0 = pth_now_ms();
    unsigned seed = 7;
    /* One piece every PIECE_US, each a read of its own as a slow client's would be, on a
     * schedule that a client fallen behind catches up on (it sends at once meanwhile). A
     * sleep after each piece made the head last as long as its 20,000 wakeups took: 8 s on
     * a quiet machine, and past the 40 s RequestReadTimeout allows a head (a 408, EPIPE
     * here) for a TSan server under a load of 6 on its core. On the schedule it takes 8-9 s
     * whatever the load; a loaded server reads some pieces together, which lowers either
     * server's cost (a loaded run guards less, it does not fail). */
    enum { PIECE_US = 400 };
    int64_t due = now_us();
    for (size_t off = 0; off < len;) {
        size_t n = 100 + (size_t)(rand_r(&seed) % 101);
        if (n > len - off)
            n = len - off;
        ck_assert_int_eq(pth_conn_send(c, head + off, n), 0);
        off += n;
        due += PIECE_US;
        int64_t ahead = due - now_us();
        if (ahead > 0)
            usleep((useconds_t)ahead);
    }
    int st = final_status(c, 20000);
    long cpu = children_cpu_ms() - cpu0;
    int64_t wall = pth_now_ms() - t0;
    free(head);
    pth_conn_close(c);
    fprintf(stderr, "[%s] 3 MB head in 100-200 byte pieces: %ld ms user CPU, %lld ms wall\n",
            getenv("PORTICO_TEST_MPM") ? getenv("PORTICO_TEST_MPM") : "-", cpu,
            (long long)wall);
    ck_assert_msg(st == 200, "status %d", st);
    /* Ten times the fixed server's cost, a third of the defect's. */
    ck_assert_msg(cpu < 1500, "the server's children used %ld ms of user CPU for one head", cpu);
}
END_TEST

static Suite *limits_suite(void)
{
    Suite *s = suite_create("http1_limits");
    TCase *tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, more_trailer_fields_than_limit_request_fields_get_400_and_a_log_line);
    tcase_add_test(tc, a_trailer_field_longer_than_limit_request_field_size_gets_400);
    tcase_add_test(tc, a_client_that_closes_mid_body_is_logged_with_400);
    tcase_add_test(tc, a_body_that_stalls_until_the_timeout_is_logged_with_408);
    tcase_add_test(tc, a_body_below_min_rate_gets_408_at_the_body_timeout);
    tcase_add_test(tc, a_body_at_min_rate_is_cut_off_at_the_maximum);
    tcase_add_test(tc, a_body_above_min_rate_is_read_to_its_end);
    tcase_add_test(tc, trickled_bodies_to_php_fpm_end_with_408_and_free_the_pool);
    tcase_add_test(tc, a_large_head_sent_in_small_pieces_costs_little_cpu);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(limits_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
