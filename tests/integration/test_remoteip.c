/* mod_remoteip through the real server: RemoteIPHeader from a trusted proxy changes what the
 * access log's %a shows (and %{c}a keeps the peer) and what Require ip decides, while an
 * untrusted peer's header is ignored; RemoteIPProxyProtocol reads HAProxy PROXY v1 and v2
 * headers sent on raw sockets (whole and in pieces), closes connections whose header is
 * missing, malformed or late with a log line, and exempts the listed peers. Clients come
 * from different loopback addresses (127.0.0.x) to be trusted or not. */
#include "harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pth_t *h;

static const char *const common_conf =
    "StartServers 1\nServerLimit 1\nMinSpareThreads 1\n"
    "LogFormat \"%a %{c}a %h \\\"%r\\\" %s\" rip\n"
    "CustomLog @DIR@/rip.log rip\n"
    "<Directory @DOCROOT@/only>\n    Require ip 198.51.100.0/24\n</Directory>\n";

static void files(void)
{
    pth_write_file(h, "data.txt", "0123456789", 10);
    pth_write_file(h, "only/x.txt", "x", 1);
}

static void setup_header(void)
{
    h = pth_new();
    files();
    pth_config(h, "%sRemoteIPHeader X-Forwarded-For\n"
                  "RemoteIPInternalProxy 127.0.0.1 10.0.0.0/8\n", common_conf);
    pth_expect_error(h, "AH01630: client denied by server configuration");
    pth_start(h);
}

static void setup_pp(void)
{
    h = pth_new();
    files();
    pth_config(h, "%sRequestReadTimeout header=1\nRemoteIPProxyProtocol On\n"
                  "RemoteIPProxyProtocolExceptions 127.0.0.3\n"
                  "RemoteIPHeader X-Forwarded-For\n", common_conf);
    pth_expect_error(h, "RemoteIPProxyProtocol: ");
    pth_expect_error(h, "AH01630: client denied by server configuration");
    pth_start(h);
}

static void teardown(void)
{
    pth_free(h);
    h = NULL;
}

/* A connection to the server from loopback address src (127.0.0.x). */
static pth_conn_t *open_from(const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    pth_assert(fd >= 0);
    struct sockaddr_in me = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &me.sin_addr);
    pth_assert_msg(bind(fd, (struct sockaddr *)&me, sizeof(me)) == 0, "bind %s: %s", src,
                   strerror(errno));
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    pth_assert_msg(connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0, "connect: %s",
                   strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    pth_conn_t *c = calloc(1, sizeof(*c));
    pth_assert(c != NULL);
    c->fd = fd;
    c->cap = 16384;
    c->buf = malloc(c->cap);
    pth_assert(c->buf != NULL);
    return c;
}

/* Sends pre (a PROXY header, may be empty) and a GET for path with an optional extra
 * header line, from src; returns the status (0: no response, the connection closed). */
static int get_from(const char *src, const void *pre, size_t prelen, const char *path,
                    const char *extra)
{
    pth_conn_t *c = open_from(src);
    if (prelen)
        pth_assert(pth_conn_send(c, pre, prelen) == 0);
    pth_conn_sendf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\n%s%sConnection: close\r\n\r\n",
                   path, extra ? extra : "", extra ? "\r\n" : "");
    pth_resp_t r;
    int rc = pth_conn_read_response(c, &r, false, 5000);
    int st = rc == 0 ? r.status : 0;
    if (rc == 0)
        pth_resp_free(&r);
    pth_conn_close(c);
    return st;
}

/* The access log line that contains key (the server stopped first: the log is buffered). */
static char *log_line(const char *key)
{
    char *all = pth_read_file(pth_path(h, "rip.log"), NULL);
    ck_assert_msg(all != NULL, "no rip.log");
    char *hit = strstr(all, key);
    ck_assert_msg(hit != NULL, "rip.log has no %s:\n%s", key, all);
    char *start = hit;
    while (start > all && start[-1] != '\n')
        start--;
    char *line = strndup(start, strcspn(start, "\n"));
    free(all);
    return line;
}

/* ---- RemoteIPHeader ------------------------------------------------------------------- */

START_TEST(the_forwarded_address_is_logged_and_the_peer_kept_for_c_a)
{
    ck_assert_int_eq(get_from("127.0.0.1", "", 0, "/data.txt?fwd",
                              "X-Forwarded-For: 203.0.113.5, 10.1.2.3"), 200);
    ck_assert_int_eq(get_from("127.0.0.2", "", 0, "/data.txt?untrusted",
                              "X-Forwarded-For: 203.0.113.5"), 200);
    ck_assert_int_eq(get_from("127.0.0.1", "", 0, "/data.txt?none", NULL), 200);
    ck_assert_int_eq(pth_stop(h), 0);
    char *l = log_line("?fwd");
    ck_assert_str_eq(l, "203.0.113.5 127.0.0.1 203.0.113.5 \"GET /data.txt?fwd HTTP/1.1\" 200");
    free(l);
    l = log_line("?untrusted");
    ck_assert_str_eq(l, "127.0.0.2 127.0.0.2 127.0.0.2 \"GET /data.txt?untrusted HTTP/1.1\" "
                        "200");
    free(l);
    l = log_line("?none");
    ck_assert_str_eq(l, "127.0.0.1 127.0.0.1 127.0.0.1 \"GET /data.txt?none HTTP/1.1\" 200");
    free(l);
}
END_TEST

START_TEST(require_ip_decides_by_the_forwarded_address)
{
    ck_assert_int_eq(get_from("127.0.0.1", "", 0, "/only/x.txt",
                              "X-Forwarded-For: 198.51.100.9"), 200);
    ck_assert_int_eq(get_from("127.0.0.1", "", 0, "/only/x.txt",
                              "X-Forwarded-For: 203.0.113.9"), 403);
    ck_assert_int_eq(get_from("127.0.0.1", "", 0, "/only/x.txt", NULL), 403);
    /* A peer that is not a trusted proxy cannot claim an allowed address. */
    ck_assert_int_eq(get_from("127.0.0.2", "", 0, "/only/x.txt",
                              "X-Forwarded-For: 198.51.100.9"), 403);
    ck_assert_int_eq(pth_stop(h), 0);
    char *err = pth_read_file(h->error_log, NULL);
    ck_assert_ptr_nonnull(strstr(err, "[client 203.0.113.9:"));
    free(err);
}
END_TEST

/* ---- RemoteIPProxyProtocol ------------------------------------------------------------ */

static const char v1[] = "PROXY TCP4 198.51.100.20 127.0.0.1 51000 80\r\n";

static size_t v2_tcp4(uint8_t *buf, const char *src, int sport)
{
    static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    memcpy(buf, sig, 12);
    buf[12] = 0x21, buf[13] = 0x11, buf[14] = 0, buf[15] = 12;
    inet_pton(AF_INET, src, buf + 16);
    inet_pton(AF_INET, "127.0.0.1", buf + 20);
    buf[24] = (uint8_t)(sport >> 8), buf[25] = (uint8_t)sport;
    buf[26] = 0, buf[27] = 80;
    return 28;
}

START_TEST(v1_and_v2_headers_name_the_client_for_logs_and_require)
{
    ck_assert_int_eq(get_from("127.0.0.1", v1, strlen(v1), "/data.txt?v1",
                              "X-Forwarded-For: 8.8.8.8"), 200);
    uint8_t b[64];
    size_t n = v2_tcp4(b, "198.51.100.21", 52000);
    ck_assert_int_eq(get_from("127.0.0.1", b, n, "/only/x.txt?v2", NULL), 200);
    n = v2_tcp4(b, "203.0.113.21", 52001);
    ck_assert_int_eq(get_from("127.0.0.1", b, n, "/only/x.txt?denied", NULL), 403);
    ck_assert_int_eq(pth_stop(h), 0);
    char *l = log_line("?v1");
    /* The header ignores X-Forwarded-For; %{c}a is the balancer. */
    ck_assert_str_eq(l, "198.51.100.20 127.0.0.1 198.51.100.20 \"GET /data.txt?v1 HTTP/1.1\" "
                        "200");
    free(l);
    l = log_line("?v2");
    ck_assert_str_eq(l, "198.51.100.21 127.0.0.1 198.51.100.21 \"GET /only/x.txt?v2 "
                        "HTTP/1.1\" 200");
    free(l);
}
END_TEST

START_TEST(a_header_in_pieces_and_keepalive_requests_keep_the_client)
{
    pth_conn_t *c = open_from("127.0.0.1");
    for (size_t i = 0; i < strlen(v1); i += 7) {
        size_t k = strlen(v1) - i < 7 ? strlen(v1) - i : 7;
        pth_assert(pth_conn_send(c, v1 + i, k) == 0);
        pth_sleep_ms(20);
    }
    for (int i = 0; i < 2; i++) {
        pth_conn_sendf(c, "GET /data.txt?ka%d HTTP/1.1\r\nHost: localhost\r\n\r\n", i);
        pth_resp_t r;
        ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, "0123456789");
        pth_resp_free(&r);
    }
    pth_conn_close(c);
    ck_assert_int_eq(pth_stop(h), 0);
    for (int i = 0; i < 2; i++) {
        char key[16];
        snprintf(key, sizeof(key), "?ka%d", i);
        char *l = log_line(key);
        ck_assert_msg(strncmp(l, "198.51.100.20 127.0.0.1 ", 24) == 0, "%s", l);
        free(l);
    }
}
END_TEST

/* Sends bytes and expects the server to close without answering; the error log must then
 * hold msg. */
static void refused(const void *bytes, size_t n, const char *msg)
{
    pth_conn_t *c = open_from("127.0.0.1");
    pth_conn_send(c, bytes, n);
    ck_assert_msg(pth_conn_wait_closed(c, 5000), "not closed after %.*s", (int)n,
                  (const char *)bytes);
    ck_assert_msg(strncmp(c->buf, "HTTP/", c->len < 5 ? c->len : 5) != 0 || c->len == 0,
                  "answered: %.*s", (int)c->len, c->buf);
    ck_assert_uint_eq(c->len, 0);
    pth_conn_close(c);
    ck_assert_msg(pth_file_wait_contains(h->error_log, msg, 5000), "no log line: %s", msg);
}

START_TEST(a_missing_or_malformed_header_closes_the_connection_with_a_log_line)
{
    refused("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27, "not a PROXY protocol header");
    refused("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", 30, "fewer than five fields");
    refused("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", 32, "bad address for its protocol");
    uint8_t b[64];
    size_t n = v2_tcp4(b, "198.51.100.21", 1);
    b[12] = 0x23;
    refused(b, n, "v2 header: unknown command");
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(a_header_that_does_not_finish_in_time_closes_the_connection)
{
    pth_conn_t *c = open_from("127.0.0.1");
    pth_conn_send(c, "PROXY TCP4 198.51", 17);
    int64_t t0 = pth_now_ms();
    ck_assert(pth_conn_wait_closed(c, 8000));
    ck_assert_uint_eq(c->len, 0); /* no 408: nothing is said to a balancer */
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(took >= 700, "closed after %lld ms", (long long)took);
    pth_conn_close(c);
    ck_assert(pth_file_wait_contains(h->error_log, "PROXY header not received in time",
                                     5000));
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(an_excepted_peer_sends_no_header)
{
    ck_assert_int_eq(get_from("127.0.0.3", "", 0, "/data.txt?exc",
                              "X-Forwarded-For: 198.51.100.77"), 200);
    ck_assert_int_eq(pth_stop(h), 0);
    char *l = log_line("?exc");
    /* No PROXY header: RemoteIPHeader applies, but 127.0.0.3 is not a listed proxy and no
     * list is given, so it is trusted as an external proxy (Apache's default). */
    ck_assert_str_eq(l, "198.51.100.77 127.0.0.3 198.51.100.77 \"GET /data.txt?exc HTTP/1.1\" "
                        "200");
    free(l);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("remoteip");
    TCase *tc = tcase_create("header");
    tcase_add_checked_fixture(tc, setup_header, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, the_forwarded_address_is_logged_and_the_peer_kept_for_c_a);
    tcase_add_test(tc, require_ip_decides_by_the_forwarded_address);
    suite_add_tcase(s, tc);
    tc = tcase_create("proxy_protocol");
    tcase_add_checked_fixture(tc, setup_pp, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, v1_and_v2_headers_name_the_client_for_logs_and_require);
    tcase_add_test(tc, a_header_in_pieces_and_keepalive_requests_keep_the_client);
    tcase_add_test(tc, a_missing_or_malformed_header_closes_the_connection_with_a_log_line);
    tcase_add_test(tc, a_header_that_does_not_finish_in_time_closes_the_connection);
    tcase_add_test(tc, an_excepted_peer_sends_no_header);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
