/* TLS records on the client's terms (tls_client.h's raw connection). A request whose record
 * comes in two pieces: OpenSSL (read ahead) holds the first piece, a record it cannot open
 * yet. The server must wait for the rest on the socket, not take the held bytes for
 * something to read (SSL_has_pending says yes to them) and read again at once, a busy loop
 * holding a worker for as long as the client waits. The CPU time of the server's processes
 * over the pause tells: a loop takes most of a core, a wait almost nothing. */
#include "harness.h"
#include "tls_client.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAUSE_MS 1000
/* CPU time the server may take while the client pauses: a wait takes a few ms; a loop some
 * 1,000, and no less than half that on a loaded machine. */
#define PAUSE_CPU_MAX_MS 250

static pth_t *h;
static int tls_port;

static void setup(void)
{
    h = pth_new();
    tls_port = pth_free_port();
    pth_config(h, "%s%s", "KeepAliveTimeout 30\nTimeout 30\nRequestReadTimeout header=30 body=30\n",
               pth_tls_vhost_conf(tls_port));
    pth_write_file(h, "index.html", "records", 7);
    pth_start(h);
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
}

/* User and system time of the server's processes (the parent's children), in ms. */
static long server_cpu_ms(void)
{
    return pth_children_cpu_ms(h->pid, true);
}

static const char get[] = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";

static void served_after_a_pause_in_a_record(bool first_request)
{
    pth_tls_conn_t t;
    pth_tls_conn_open(&t, tls_port, "a.test");
    pth_resp_t r;
    if (!first_request) {
        pth_tls_conn_send(&t, get, sizeof(get) - 1);
        pth_tls_conn_read_response(&t, &r);
        pth_assert(r.status == 200);
        pth_resp_free(&r);
    }
    pth_tls_conn_send_cut(&t, get, sizeof(get) - 1, 20);
    pth_sleep_ms(100); /* the server has read the piece */
    long before = server_cpu_ms();
    pth_sleep_ms(PAUSE_MS);
    long spent = server_cpu_ms() - before;
    pth_tls_conn_send_rest(&t);
    pth_tls_conn_read_response(&t, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "records");
    pth_resp_free(&r);
    pth_tls_conn_close(&t);
    ck_assert_msg(spent <= PAUSE_CPU_MAX_MS,
                  "the server took %ld ms of CPU in %d ms waiting for a record's rest", spent,
                  PAUSE_MS);
}

START_TEST(a_first_request_cut_inside_its_record_is_awaited_without_a_busy_loop)
{
    served_after_a_pause_in_a_record(true);
}
END_TEST

START_TEST(a_keepalive_request_cut_inside_its_record_is_awaited_without_a_busy_loop)
{
    served_after_a_pause_in_a_record(false);
}
END_TEST

int main(void)
{
    pth_tls_pki();
    Suite *s = suite_create("tls_records");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_first_request_cut_inside_its_record_is_awaited_without_a_busy_loop);
    tcase_add_test(tc, a_keepalive_request_cut_inside_its_record_is_awaited_without_a_busy_loop);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
