/* The HTTP reverse proxy (mod_proxy_http) against the raw test origin of http_backend.h:
 * what the backend sees (request line, Host, hop-by-hop fields gone, X-Forwarded-*, bodies
 * by sha256), what the client gets (framing of HEAD/204/304, hop-by-hop gone, 1 MiB both
 * ways), 100-continue, keep-alive pooling and a stale pooled connection, unix sockets,
 * ProxyPreserveHost, and no request smuggled through. */
#include "harness.h"
#include "http_backend.h"

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

PTH_PROXY_SUITE_FIXTURE

static void get(const char *path, const char *const *hdrs, pth_resp_t *r)
{
    pth_get(h, path, hdrs, r);
}

/* The request head the backend echoed (the part before "\n--\n"). */
static char *echoed_head(const pth_resp_t *r)
{
    const char *e = strstr(r->body, "\n--\n");
    return strndup(r->body, e ? (size_t)(e - r->body) : r->body_len);
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

START_TEST(a_get_reaches_the_backend_with_its_path_query_host_and_forwarded_fields)
{
    start_with(NULL);
    pth_resp_t r;
    get("/b/echo?x=1&y=%41", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    char *head = echoed_head(&r);
    ck_assert_msg(starts(head, "GET /echo?x=1&y=%41 HTTP/1.1\r\n"), "%s", head);
    char host[64];
    snprintf(host, sizeof(host), "Host: 127.0.0.1:%d", be.port);
    ck_assert_msg(pth_echo_has_line(head, host), "%s", head);
    ck_assert_msg(pth_echo_has_line(head, "X-Forwarded-For: 127.0.0.1"), "%s", head);
    char xfh[64];
    snprintf(xfh, sizeof(xfh), "X-Forwarded-Host: 127.0.0.1:%d", h->port);
    ck_assert_msg(pth_echo_has_line(head, xfh), "%s", head);
    ck_assert_msg(pth_echo_has_line(head, "X-Forwarded-Server: localhost"), "%s", head);
    ck_assert_msg(pth_echo_has_line(head, "X-Forwarded-Proto: http"), "%s", head);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "text/plain");
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(x_forwarded_for_is_appended_and_proxy_add_headers_off_adds_none)
{
    start_with(NULL);
    pth_resp_t r;
    const char *hdrs[] = {"X-Forwarded-For: 10.0.0.1", NULL};
    get("/b/echo", hdrs, &r);
    char *head = echoed_head(&r);
    ck_assert_msg(pth_echo_has_line(head, "X-Forwarded-For: 10.0.0.1, 127.0.0.1"), "%s", head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
    pth_config(h, "ProxyAddHeaders Off\nProxyPass /b/ http://127.0.0.1:%d/\n", be.port);
    pth_start(h);
    get("/b/echo", NULL, &r);
    head = echoed_head(&r);
    ck_assert_msg(!pth_echo_names(head, "X-Forwarded-For") &&
                      !pth_echo_names(head, "X-Forwarded-Host") &&
                      !pth_echo_names(head, "X-Forwarded-Proto"),
                  "%s", head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* X-Forwarded-Proto is the scheme portico saw: a client on plain HTTP that sends its own
 * "https" does not make the backend believe it came over TLS (secure cookies, forced
 * redirects). A RequestHeader rule that names the field decides it instead, so that a
 * portico behind a trusted TLS terminator can pass that one's on. */
START_TEST(a_clients_x_forwarded_proto_is_replaced_unless_a_requestheader_rule_names_it)
{
    const char *spoof[] = {"X-Forwarded-Proto: https", NULL};
    start_with(NULL);
    pth_resp_t r;
    get("/b/echo", spoof, &r);
    char *head = echoed_head(&r);
    ck_assert_msg(pth_echo_has_line(head, "X-Forwarded-Proto: http") &&
                      !strstr(head, "X-Forwarded-Proto: https"),
                  "a plain request's own X-Forwarded-Proto: https reached the backend:\n%s",
                  head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
    start_with("RequestHeader edit X-Forwarded-Proto ^(.*)$ $1");
    get("/b/echo", spoof, &r);
    head = echoed_head(&r);
    ck_assert_msg(pth_echo_has_line(head, "X-Forwarded-Proto: https") &&
                      !pth_echo_has_line(head, "X-Forwarded-Proto: http"),
                  "a RequestHeader rule kept the client's value: %s", head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* A RequestHeader rule for X-Forwarded-Proto whose condition failed decided nothing: the
 * recipe "RequestHeader set X-Forwarded-Proto https env=HTTPS", on plain HTTP, let the
 * client's own "https" through to the backend. */
START_TEST(a_requestheader_rule_whose_condition_failed_leaves_the_field_to_portico)
{
    const char *spoof[] = {"X-Forwarded-Proto: https", NULL};
    const char *rules[] = {"RequestHeader set X-Forwarded-Proto https env=HTTPS",
                           "RequestHeader set X-Forwarded-Proto https \"expr=%{HTTPS} == 'on'\"",
                           "RequestHeader set X-Forwarded-Proto https env=!NO_SUCH_VAR\n"
                           "RequestHeader edit X-Forwarded-Proto ^https$ gopher env=NO_SUCH_VAR"};
    const char *want[] = {"X-Forwarded-Proto: http", "X-Forwarded-Proto: http",
                          "X-Forwarded-Proto: https"};
    const char *not[] = {"X-Forwarded-Proto: https", "X-Forwarded-Proto: https",
                         "X-Forwarded-Proto: http"};
    for (size_t i = 0; i < 3; i++) {
        start_with(rules[i]);
        pth_resp_t r;
        get("/b/echo", spoof, &r);
        char *head = echoed_head(&r);
        ck_assert_msg(pth_echo_has_line(head, want[i]) && !pth_echo_has_line(head, not[i]),
                      "with \"%s\" the backend got:\n%s", rules[i], head);
        free(head);
        pth_resp_free(&r);
        pth_stop(h);
    }
}
END_TEST

START_TEST(proxy_preserve_host_sends_the_clients_host)
{
    start_with("ProxyPreserveHost On");
    pth_resp_t r;
    const char *hdrs[] = {"Host: app.example:8443", NULL};
    get("/b/echo", hdrs, &r);
    char *head = echoed_head(&r);
    ck_assert_msg(pth_echo_has_line(head, "Host: app.example:8443"), "%s", head);
    ck_assert_msg(pth_echo_has_line(head, "X-Forwarded-Host: app.example:8443"), "%s", head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(hop_by_hop_fields_are_removed_both_ways)
{
    start_with(NULL);
    pth_resp_t r;
    const char *hdrs[] = {"Connection: X-Secret, keep-alive", "X-Secret: 1",
                          "Keep-Alive: 300", "TE: trailers", "Proxy-Authorization: Basic eA==",
                          "Proxy-Connection: keep-alive", "Upgrade: foo", "X-Kept: yes",
                          NULL};
    get("/b/echo", hdrs, &r);
    char *head = echoed_head(&r);
    const char *gone[] = {"X-Secret", "Keep-Alive", "TE", "Proxy-Authorization",
                          "Proxy-Connection", "Upgrade", "Connection", "Trailer",
                          "Transfer-Encoding"};
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
        ck_assert_msg(!pth_echo_names(head, gone[i]), "%s reached the backend:\n%s", gone[i], head);
    ck_assert_msg(pth_echo_has_line(head, "X-Kept: yes"), "%s", head);
    free(head);
    pth_resp_free(&r);
    get("/b/hop", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    const char *rgone[] = {"X-Drop-Me", "Keep-Alive", "Trailer", "Upgrade", "Proxy-Connection"};
    for (size_t i = 0; i < sizeof(rgone) / sizeof(rgone[0]); i++)
        ck_assert_msg(!pth_resp_header(&r, rgone[i]), "%s reached the client", rgone[i]);
    ck_assert_str_eq(pth_resp_header(&r, "X-Keep"), "yes");
    ck_assert_str_eq(r.body, "ok");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

static void sha_of_pattern(size_t n, char hex[65])
{
    unsigned char *p = malloc(n);
    pth_http_pattern_fill(p, n, 0);
    pth_sha256_hex(p, n, hex);
    free(p);
}

START_TEST(one_mib_bodies_cross_intact_both_ways)
{
    start_with(NULL);
    size_t n = 1 << 20;
    unsigned char *body = malloc(n);
    pth_http_pattern_fill(body, n, 0);
    char hex[65], want[128];
    sha_of_pattern(n, hex);
    snprintf(want, sizeof(want), "body-len: %zu\nbody-sha256: %s\n", n, hex);
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, "POST", "/b/echo", NULL, body, n, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, want), "%s", strstr(r.body, "\n--\n"));
    pth_resp_free(&r);
    /* chunked from the client: re-framed chunked to the backend */
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    ck_assert_int_eq(pth_curl(h, "POST", "/b/echo", chunked, body, n, &r), 0);
    ck_assert_msg(strstr(r.body, want), "%s", strstr(r.body, "\n--\n"));
    ck_assert_msg(strstr(r.body, "Transfer-Encoding: chunked\r\n"), "%s", r.body);
    pth_resp_free(&r);
    const char *paths[] = {"/b/bytes?n=1048576", "/b/bytes?n=1048576&chunked=1",
                           "/b/bytes?n=1048576&eof=1"};
    for (size_t i = 0; i < 3; i++) {
        get(paths[i], NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_uint_eq(r.body_len, n);
        char got[65];
        pth_sha256_hex(r.body, r.body_len, got);
        ck_assert_msg(strcmp(got, hex) == 0, "%s: body differs", paths[i]);
        pth_resp_free(&r);
    }
    free(body);
    pth_stop(h);
}
END_TEST

START_TEST(head_204_and_304_are_framed_without_a_body)
{
    start_with(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "HEAD /b/bytes?n=100 HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /b/status?code=204 HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /b/status?code=304 HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /b/bytes?n=10 HTTP/1.1\r\nHost: x\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, true, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Length"), "100");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 204);
    ck_assert_ptr_null(pth_resp_header(&r, "Content-Length"));
    ck_assert_ptr_null(pth_resp_header(&r, "Transfer-Encoding"));
    pth_resp_free(&r);
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 304);
    ck_assert_uint_eq(r.body_len, 0);
    ck_assert_ptr_null(pth_resp_header(&r, "Transfer-Encoding"));
    pth_resp_free(&r);
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 10);
    pth_resp_free(&r);
    pth_conn_close(c);
    pth_stop(h);
}
END_TEST

START_TEST(expect_100_continue_gets_a_100_before_the_body_and_none_when_refused)
{
    start_with(NULL);
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /b/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      "Expect: 100-continue\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 100);
    pth_resp_free(&r);
    pth_conn_sendf(c, "hello");
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "Expect: 100-continue\r\n"), "%s", r.body);
    ck_assert_msg(strstr(r.body, "body-len: 5\n"), "%s", r.body);
    pth_resp_free(&r);
    pth_conn_close(c);
    /* The backend refuses without asking for the body: the client gets its answer, no 100,
     * and has not had to send the body. */
    c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /b/reject HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      "Expect: 100-continue\r\n\r\n");
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 417);
    pth_resp_free(&r);
    pth_conn_close(c);
    pth_stop(h);
}
END_TEST

START_TEST(ambiguous_or_broken_upstream_framing_is_a_502_never_passed_on)
{
    start_with(NULL);
    pth_expect_error(h, "AH01075: malformed response: HTTP backend proxy:http://.*: "
                        "(both Content-Length and Transfer-Encoding|bad or conflicting "
                        "Content-Length|bad chunked body|malformed status line)");
    pth_expect_error(h, "AH01075: connection closed before the end of the response head");
    const char *paths[] = {"/b/clte", "/b/twocl", "/b/badchunk", "/b/badstatus",
                           "/b/headclose"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        pth_resp_t r;
        get(paths[i], NULL, &r);
        ck_assert_msg(r.status == 502, "%s: %d", paths[i], r.status);
        ck_assert_msg(!strstr(r.body, "ok"), "%s passed on: %s", paths[i], r.body);
        pth_resp_free(&r);
    }
    char *log = pth_read_file(h->error_log, NULL);
    ck_assert_msg(strstr(log, "both Content-Length and Transfer-Encoding"), "%s", log);
    ck_assert_msg(strstr(log, "bad or conflicting Content-Length"), "%s", log);
    ck_assert_msg(strstr(log, "bad chunked body"), "%s", log);
    free(log);
    pth_stop(h);
}
END_TEST

/* Reads from c until it closes or 5 s pass: whether the peer closed. */
static bool closes(pth_conn_t *c)
{
    return pth_conn_wait_closed(c, 5000);
}

START_TEST(a_reset_mid_response_closes_the_client_connection)
{
    start_with(NULL);
    pth_expect_error(h, "AH01075: connection closed before the end of the response: HTTP "
                        "backend .*response already started; closing the connection");
    const char *paths[] = {"/b/reset?after=20000", "/b/resetchunk?after=20000"};
    for (int i = 0; i < 2; i++) {
        pth_conn_t *c = pth_conn_open(h);
        pth_conn_sendf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", paths[i]);
        ck_assert_msg(closes(c), "%s: the connection stayed open", paths[i]);
        pth_resp_t r;
        size_t used;
        /* Whatever came is not a complete response. */
        int rc = pth_parse_response(c->buf, c->len, false, false, &r, &used);
        ck_assert_msg(rc != 0, "%s: a complete response was presented", paths[i]);
        ck_assert_msg(c->len > 20000, "%s: only %zu bytes", paths[i], c->len);
        pth_conn_close(c);
    }
    pth_stop(h);
}
END_TEST

START_TEST(upstream_connections_are_kept_and_reused_unless_disabled)
{
    start_with(NULL);
    /* One client connection: one child, whose pool keeps one upstream connection. */
    pth_conn_t *c = pth_conn_open(h);
    for (int i = 0; i < 10; i++) {
        pth_resp_t r;
        pth_conn_sendf(c, "GET /b/echo HTTP/1.1\r\nHost: x\r\n\r\n");
        ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
        ck_assert_int_eq(r.status, 200);
        char want[32];
        snprintf(want, sizeof(want), "%d", i + 1);
        ck_assert_str_eq(pth_resp_header(&r, "X-Conn-Requests"), want);
        pth_resp_free(&r);
    }
    pth_conn_close(c);
    ck_assert_int_eq(atomic_load(&be.counts->accepted), 1);
    pth_stop(h);
    pth_config(h, "ProxyPass /b/ http://127.0.0.1:%d/ disablereuse=On\n", be.port);
    pth_start(h);
    for (int i = 0; i < 5; i++) {
        pth_resp_t r;
        get("/b/echo", NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(strstr(r.body, "\r\nConnection: close\r\n"), "%s", r.body);
        pth_resp_free(&r);
    }
    ck_assert_int_eq(atomic_load(&be.counts->accepted), 6);
    ck_assert(pth_http_backend_wait_open(&be, 0, 5000));
    pth_stop(h);
}
END_TEST

START_TEST(a_pooled_connection_the_backend_closed_never_fails_a_request)
{
    start_with(NULL);
    for (int i = 0; i < 30; i++) {
        pth_resp_t r;
        get("/b/closeafter", NULL, &r);
        ck_assert_int_eq(r.status, 200);
        pth_resp_free(&r);
        get(i % 2 ? "/b/echo" : "/b/status?code=200", NULL, &r);
        ck_assert_msg(r.status == 200, "round %d: %d", i, r.status);
        pth_resp_free(&r);
    }
    pth_stop(h);
}
END_TEST

START_TEST(a_unix_socket_upstream_is_proxied)
{
    pth_http_backend_t ub;
    pth_http_backend_start_must(&ub, pth_path(h, "app.sock"));
    pth_config(h, "ProxyPass /u/ unix:@DIR@/app.sock|http://localhost/\n");
    pth_start(h);
    pth_resp_t r;
    get("/u/echo?q=1", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    char *head = echoed_head(&r);
    ck_assert_msg(starts(head, "GET /echo?q=1 HTTP/1.1\r\n"), "%s", head);
    ck_assert_msg(pth_echo_has_line(head, "Host: localhost"), "%s", head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
    pth_http_backend_stop(&ub);
}
END_TEST

/* The module tag Apache writes ("[proxy_http:error]") on the error-log line that says what. */
static void assert_logged_by(pth_t *srv, const char *what, const char *tag)
{
    ck_assert_msg(pth_file_wait_contains(srv->error_log, what, 3000), "no '%s' logged", what);
    char *log = pth_read_file(srv->error_log, NULL);
    char *at = log ? strstr(log, what) : NULL;
    ck_assert_ptr_nonnull(at);
    char *bol = at;
    while (bol > log && bol[-1] != '\n')
        bol--;
    char *nl = strchr(at, '\n');
    if (nl)
        *nl = '\0';
    ck_assert_msg(strstr(bol, tag) != NULL && strstr(bol, tag) < at, "'%s' is not tagged %s",
                  bol, tag);
    free(log);
}

START_TEST(refused_timed_out_and_malformed_upstreams_answer_503_504_502_with_a_log_line)
{
    int dead = pth_free_port();
    pth_config(h, "ProxyTimeout 1\nProxyPass /b/ http://127.0.0.1:%d/\n"
                  "ProxyPass /dead/ http://127.0.0.1:%d/\n", be.port, dead);
    pth_start(h);
    pth_expect_error(h, "AH01079: failed to make connection: HTTP backend "
                        "proxy:http://127.0.0.1:[0-9]+/: Connection refused");
    pth_expect_error(h, "AH01075: timed out waiting for the response \\(ProxyTimeout\\): HTTP "
                        "backend proxy:http://127.0.0.1:[0-9]+/");
    pth_expect_error(h, "AH01075: malformed response");
    pth_resp_t r;
    get("/dead/x", NULL, &r);
    ck_assert_int_eq(r.status, 503);
    pth_resp_free(&r);
    get("/b/slow?ms=3000", NULL, &r);
    ck_assert_int_eq(r.status, 504);
    pth_resp_free(&r);
    get("/b/badstatus", NULL, &r);
    ck_assert_int_eq(r.status, 502);
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "Connection refused", 2000));
    ck_assert(pth_file_wait_contains(h->error_log, "ProxyTimeout", 2000));
    assert_logged_by(h, "AH01079: failed to make connection", "[proxy_http:error]");
    assert_logged_by(h, "AH01075: malformed response", "[proxy_http:error]");
    pth_stop(h);
}
END_TEST

START_TEST(a_te_cl_desync_attempt_reaches_the_backend_as_exactly_one_request)
{
    start_with(NULL);
    const char smuggle[] = "GET /b/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    /* The body of a counted request holds a whole request: it stays a body. */
    pth_resp_t r;
    bool closed;
    char req[512];
    int n = snprintf(req, sizeof(req), "POST /b/echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
                     "%zu\r\nConnection: close\r\n\r\n0\r\n\r\n%s", 5 + strlen(smuggle), smuggle);
    ck_assert_int_eq(pth_raw(h, req, (size_t)n, 5000, &r, &closed), 0);
    ck_assert_int_eq(r.status, 200);
    pth_assert_one_response(&r, "counted body");
    pth_resp_free(&r);
    /* A chunked body whose data looks like the end and a request: re-framed, still data. */
    n = snprintf(req, sizeof(req), "POST /b/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                 "chunked\r\nConnection: close\r\n\r\n%zx\r\n0\r\n\r\n%s\r\n0\r\n\r\n",
                 5 + strlen(smuggle), smuggle);
    ck_assert_int_eq(pth_raw(h, req, (size_t)n, 5000, &r, &closed), 0);
    ck_assert_int_eq(r.status, 200);
    pth_assert_one_response(&r, "chunked body");
    pth_resp_free(&r);
    /* Both framings: refused at the door, nothing goes upstream. */
    n = snprintf(req, sizeof(req), "POST /b/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n%s", smuggle);
    ck_assert_int_eq(pth_raw(h, req, (size_t)n, 5000, &r, &closed), 0);
    ck_assert_int_eq(r.status, 400);
    pth_resp_free(&r);
    ck_assert_int_eq(atomic_load(&be.counts->requests), 2);
    ck_assert_int_eq(atomic_load(&be.counts->smuggled), 0);
    ck_assert_int_eq(atomic_load(&be.counts->bad), 0);
    pth_stop(h);
}
END_TEST

START_TEST(interim_103_is_skipped_and_the_final_answer_relayed)
{
    start_with(NULL);
    pth_resp_t r;
    get("/b/early", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST


START_TEST(nocanon_passes_the_raw_path_and_the_default_re_encodes_the_decoded_one)
{
    pth_config(h, "ProxyPass /b/ http://127.0.0.1:%d/\n"
                  "ProxyPass /raw/ http://127.0.0.1:%d/base/ nocanon\n"
                  "ProxyPass /nq/ http://127.0.0.1:%d/ noquery\n", be.port, be.port, be.port);
    pth_start(h);
    pth_resp_t r;
    get("/b/x%41%20y%3F/echo?q=%41", NULL, &r);
    char *head = echoed_head(&r);
    ck_assert_msg(starts(head, "GET /xA%20y%3F/echo?q=%41 HTTP/1.1\r\n"), "%s", head);
    free(head);
    pth_resp_free(&r);
    get("/raw/x%41%20y/echo?q=1", NULL, &r);
    head = echoed_head(&r);
    ck_assert_msg(starts(head, "GET /base/x%41%20y/echo?q=1 HTTP/1.1\r\n"), "%s",
                  head);
    free(head);
    pth_resp_free(&r);
    get("/nq/echo?q=1", NULL, &r);
    head = echoed_head(&r);
    ck_assert_msg(starts(head, "GET /echo HTTP/1.1\r\n"), "%s", head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(request_header_unset_early_keeps_the_proxy_field_from_the_backend)
{
    start_with("RequestHeader unset Proxy early");
    pth_resp_t r;
    const char *hdrs[] = {"Proxy: http://evil.example:8080", NULL};
    get("/b/echo", hdrs, &r);
    char *head = echoed_head(&r);
    ck_assert_msg(!pth_echo_names(head, "Proxy"), "%s", head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* ProxyRequests Off, as Apache 2.4.71 answers: an absolute-form request naming another host
 * is not forwarded there; its path is served here like any other (by ProxyPass), and
 * CONNECT is refused. */
START_TEST(an_absolute_uri_for_another_host_is_never_forwarded_to_that_host)
{
    start_with("ProxyRequests Off");
    pth_resp_t r;
    bool closed;
    const char req[] = "GET http://other.example/b/echo HTTP/1.1\r\nHost: other.example\r\n"
                       "Connection: close\r\n\r\n";
    ck_assert_int_eq(pth_raw(h, req, sizeof(req) - 1, 5000, &r, &closed), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(starts(r.body, "GET /echo HTTP/1.1\r\n"), "%s", r.body);
    char host[64];
    snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%d\r\n", be.port);
    ck_assert_msg(strstr(r.body, host), "%s", r.body);
    pth_resp_free(&r);
    const char conn[] = "CONNECT other.example:443 HTTP/1.1\r\nHost: other.example:443\r\n\r\n";
    ck_assert_int_eq(pth_raw(h, conn, sizeof(conn) - 1, 5000, &r, &closed), 0);
    /* Apache says 405; portico's parser refuses the authority-form target first (400). */
    ck_assert_msg(r.status == 405 || r.status == 400, "CONNECT: %d", r.status);
    pth_resp_free(&r);
    ck_assert_int_eq(atomic_load(&be.counts->requests), 1);
    pth_stop(h);
}
END_TEST

/* Jenkins' and GitLab's recipe: AllowEncodedSlashes NoDecode with nocanon sends "%2F" on as
 * sent; NoDecode alone keeps it too (re-encoding the rest); Off (the default) is a 404. */
START_TEST(encoded_slashes_follow_allow_encoded_slashes)
{
    pth_config(h, "AllowEncodedSlashes NoDecode\n"
                  "ProxyPass /j/ http://127.0.0.1:%d/ nocanon\n"
                  "ProxyPass /b/ http://127.0.0.1:%d/\n", be.port, be.port);
    pth_start(h);
    pth_resp_t r;
    get("/j/job/a%2Fb%20c/echo", NULL, &r);
    char *head = echoed_head(&r);
    ck_assert_msg(starts(head, "GET /job/a%2Fb%20c/echo HTTP/1.1\r\n"), "%s", head);
    free(head);
    pth_resp_free(&r);
    get("/b/a%2fb%20c/echo", NULL, &r);
    head = echoed_head(&r);
    ck_assert_msg(starts(head, "GET /a%2fb%20c/echo HTTP/1.1\r\n"), "%s", head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
    pth_config(h, "ProxyPass /b/ http://127.0.0.1:%d/\n", be.port);
    pth_start(h);
    get("/b/a%2Fb/echo", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    pth_resp_free(&r);
    ck_assert_int_eq(atomic_load(&be.counts->requests), 2);
    pth_stop(h);
    pth_config(h, "AllowEncodedSlashes On\nProxyPass /b/ http://127.0.0.1:%d/\n", be.port);
    pth_start(h);
    get("/b/a%2Fb/echo", NULL, &r);
    head = echoed_head(&r);
    ck_assert_msg(starts(head, "GET /a/b/echo HTTP/1.1\r\n"), "%s", head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(location_scoped_proxypass_and_proxypassmatch_route_to_http_backends)
{
    pth_config(h, "<Location /loc/>\n    ProxyPass http://127.0.0.1:%d/\n</Location>\n"
                  "ProxyPassMatch ^/m/(.*)$ http://127.0.0.1:%d/$1\n", be.port, be.port);
    pth_start(h);
    pth_resp_t r;
    get("/loc/echo?a=1", NULL, &r);
    char *head = echoed_head(&r);
    ck_assert_msg(starts(head, "GET /echo?a=1 HTTP/1.1\r\n"), "%s", head);
    free(head);
    pth_resp_free(&r);
    get("/m/echo", NULL, &r);
    head = echoed_head(&r);
    ck_assert_msg(starts(head, "GET /echo HTTP/1.1\r\n"), "%s", head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* upgrade=websocket forwards the client's Upgrade (and only then); a backend that does not
 * switch answers as usual. */
START_TEST(upgrade_is_forwarded_only_to_a_backend_with_upgrade_set)
{
    /* Two URLs: rules naming one URL share one backend and its keys, as Apache's worker. */
    pth_config(h, "ProxyPass /ws/ http://127.0.0.1:%d/ upgrade=websocket\n"
                  "ProxyPass /b/ http://127.0.0.1:%d/plain/\n", be.port, be.port);
    pth_start(h);
    const char *hdrs[] = {"Upgrade: websocket", "Connection: Upgrade", NULL};
    pth_resp_t r;
    get("/ws/echo", hdrs, &r);
    char *head = echoed_head(&r);
    ck_assert_msg(pth_echo_has_line(head, "Upgrade: websocket") &&
                      pth_echo_has_line(head, "Connection: Upgrade"),
                  "%s", head);
    free(head);
    pth_resp_free(&r);
    get("/b/echo", hdrs, &r);
    head = echoed_head(&r);
    ck_assert_msg(!pth_echo_names(head, "Upgrade") && !pth_echo_names(head, "Connection"), "%s",
                  head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* Clients at once on keep-alive connections, GETs and POSTs mixed: every answer whole and
 * right while the children's pools are shared by their threads. */
#define PAR_CLIENTS 8
#define PAR_ROUNDS 40

static atomic_int par_bad;

static void *par_client(void *arg)
{
    (void)arg;
    pth_conn_t *c = pth_conn_open_port(h->port);
    static const char body[] = "0123456789abcdef";
    for (int i = 0; i < PAR_ROUNDS; i++) {
        pth_resp_t r;
        if (i % 4 == 3)
            pth_conn_sendf(c, "POST /b/echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s",
                           sizeof(body) - 1, body);
        else
            pth_conn_sendf(c, "GET /b/bytes?n=%d HTTP/1.1\r\nHost: x\r\n\r\n", 1000 + i);
        if (pth_conn_read_response(c, &r, false, 10000) != 0) {
            atomic_fetch_add(&par_bad, 1);
            break;
        }
        bool ok = r.status == 200 &&
                  (i % 4 == 3 ? strstr(r.body, "body-len: 16\n") != NULL
                              : r.body_len == (size_t)(1000 + i));
        if (!ok)
            atomic_fetch_add(&par_bad, 1);
        pth_resp_free(&r);
    }
    pth_conn_close(c);
    return NULL;
}

START_TEST(concurrent_keep_alive_clients_all_get_whole_answers)
{
    start_with(NULL);
    atomic_store(&par_bad, 0);
    pthread_t t[PAR_CLIENTS];
    for (int i = 0; i < PAR_CLIENTS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, par_client, NULL), 0);
    for (int i = 0; i < PAR_CLIENTS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(atomic_load(&par_bad), 0);
    /* kept: far fewer upstream connections than requests */
    ck_assert_int_lt(atomic_load(&be.counts->accepted), PAR_CLIENTS * PAR_ROUNDS / 4);
    pth_stop(h);
}
END_TEST

/* ttl= is how long an idle upstream connection is kept; timeout= bounds the wait for an
 * answer on that backend alone (ProxyTimeout elsewhere). */
START_TEST(ttl_and_timeout_keys_apply_to_their_backend)
{
    pth_config(h, "ProxyPass /b/ http://127.0.0.1:%d/ ttl=5\n"
                  "ProxyPass /t/ http://127.0.0.1:%d/t/ timeout=1\n", be.port, be.port);
    pth_start(h);
    pth_expect_error(h, "AH01075: timed out waiting for the response");
    pth_resp_t r;
    get("/b/echo", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    pth_sleep_ms(1800); /* past the default second: still kept */
    ck_assert_int_eq(atomic_load(&be.counts->open), 1);
    ck_assert_msg(pth_http_backend_wait_open(&be, 0, 6000), "idle connection kept past ttl=5");
    int64_t t0 = pth_now_ms();
    get("/t/slow?ms=3000", NULL, &r);
    ck_assert_int_eq(r.status, 504);
    ck_assert_int_lt(pth_now_ms() - t0, 2800);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* A backend that answers before it took the whole chunked body (417, closing): the rest
 * of the client's body is drained as what it is, chunked, and the request after it on the
 * connection is answered as itself, or the connection closes; never a desync. (Under the
 * event MPM such a request parks, and its body is drained on the worker that resumes it:
 * the chunked framing then came from a copy of the head, not a dead stack frame.) */
START_TEST(an_unread_chunked_body_is_drained_as_chunked_before_the_next_request)
{
    start_with(NULL);
    pth_conn_t *c = pth_conn_open_port(h->port);
    static char chunk[65536];
    memset(chunk, 'a', sizeof(chunk));
    pth_conn_sendf(c, "POST /b/reject HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 4; i++) {
        pth_conn_sendf(c, "%zx\r\n", sizeof(chunk));
        pth_conn_send(c, chunk, sizeof(chunk));
        pth_conn_sendf(c, "\r\n");
        pth_sleep_ms(100);
    }
    pth_conn_sendf(c, "0\r\n\r\nGET /b/status?code=204 HTTP/1.1\r\nHost: x\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 417);
    pth_resp_free(&r);
    if (pth_conn_read_response(c, &r, false, 5000) == 0) {
        ck_assert_int_eq(r.status, 204);
        pth_resp_free(&r);
    }
    pth_conn_close(c);
    pth_stop(h);
}
END_TEST

/* A CR or LF that a rule puts into a field the proxy merges or writes itself (here the
 * decoded URL, through RequestHeader into X-Forwarded-*, Via, Upgrade and Host) never
 * splits the head the backend gets: the rule gives it as a space. */
START_TEST(a_crlf_a_rule_puts_into_a_forwarded_field_never_splits_the_backends_head)
{
    start_with("ProxyPreserveHost On\nProxyVia On\n"
               "RequestHeader set X-Forwarded-For \"expr=%{REQUEST_URI}\"\n"
               "RequestHeader set X-Forwarded-Host \"expr=%{REQUEST_URI}\"\n"
               "RequestHeader set X-Forwarded-Server \"expr=%{REQUEST_URI}\"\n"
               "RequestHeader set Via \"expr=%{REQUEST_URI}\"\n"
               "RequestHeader set Upgrade \"expr=%{REQUEST_URI}\"\n"
               "RequestHeader set Host \"expr=%{REQUEST_URI}\"\n");
    pth_resp_t r;
    get("/b/x%0d%0aInjected:%20yes/echo", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    char *head = echoed_head(&r);
    ck_assert_msg(!strstr(head, "\nInjected"), "a field was injected: %s", head);
    ck_assert_msg(strstr(head, "\r\nX-Forwarded-For: /b/x  Injected: yes/echo, 127.0.0.1\r\n"),
                  "%s", head);
    free(head);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* ---- Under the event MPM a request waiting for its backend holds no worker ------------- */

/* One child with two workers. */
#define TWO_WORKERS "StartServers 1\nServerLimit 1\nThreadLimit 2\nThreadsPerChild 2\n" \
                    "MaxRequestWorkers 2\nMinSpareThreads 1\nMaxSpareThreads 2\n"

typedef struct {
    const char *path;
    int status;
    size_t len;
} slow_get_t;

static void *slow_get(void *arg)
{
    slow_get_t *g = arg;
    pth_conn_t *c = pth_conn_open_port(h->port);
    pth_conn_sendf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", g->path);
    pth_resp_t r;
    if (pth_conn_read_response(c, &r, false, 15000) == 0) {
        g->status = r.status;
        g->len = r.body_len;
        pth_resp_free(&r);
    }
    pth_conn_close(c);
    return NULL;
}

/* GETs of one path under way at once, each on its own connection and thread. */
typedef struct {
    pthread_t t[16];
    slow_get_t g[16];
    int n;
} gets_t;

static void gets_start(gets_t *s, const char *path, int n)
{
    ck_assert_int_le(n, 16);
    s->n = n;
    for (int i = 0; i < n; i++) {
        s->g[i] = (slow_get_t){.path = path};
        ck_assert_int_eq(pthread_create(&s->t[i], NULL, slow_get, &s->g[i]), 0);
    }
}

/* Waits for them (each bounded by slow_get's read timeout); true when every one got 200
 * "ok". */
static bool gets_join(gets_t *s)
{
    bool ok = true;
    for (int i = 0; i < s->n; i++) {
        pthread_join(s->t[i], NULL);
        ok = ok && s->g[i].status == 200 && s->g[i].len == 2;
    }
    return ok;
}

/* n GETs of path at once; true when every one got 200 "ok". *ms: how long they took
 * together. */
static bool slow_gets(const char *path, int n, int64_t *ms)
{
    gets_t s;
    int64_t t0 = pth_now_ms();
    gets_start(&s, path, n);
    bool ok = gets_join(&s);
    *ms = pth_now_ms() - t0;
    return ok;
}

/* Twelve requests to a backend that answers after 1.5 s, two workers: the workers park
 * each request once it is sent, so the twelve wait together (about 1.5 s in all) rather
 * than two at a time (9 s when a worker waits for its backend). */
START_TEST(a_slow_backend_holds_no_worker)
{
    pth_config(h, TWO_WORKERS "ProxyPass /b/ http://127.0.0.1:%d/ max=20\n", be.port);
    pth_start(h);
    int64_t ms;
    ck_assert(slow_gets("/b/slow?ms=1500", 12, &ms));
    ck_assert_msg(ms < 4500, "12 requests to a 1.5 s backend took %lld ms on two workers",
                  (long long)ms);
    pth_stop(h);
}
END_TEST

/* Parked requests never hold all max= connections of their pool: with both workers waiting
 * for a free one, nobody would be left to finish them (until the pool wait's timeout).
 * max=2, two workers, six requests at once: all answered, in about three backend times. */
START_TEST(parked_requests_leave_a_pooled_connection_for_the_workers)
{
    pth_config(h, TWO_WORKERS "ProxyPass /b/ http://127.0.0.1:%d/ max=2\n", be.port);
    pth_start(h);
    int64_t ms;
    ck_assert(slow_gets("/b/slow?ms=500", 6, &ms));
    ck_assert_msg(ms < 10000, "six requests took %lld ms", (long long)ms);
    pth_stop(h);
}
END_TEST

/* A resumed request whose head is not whole yet (a 103 Early Hints first, the answer 2 s
 * later) parks again rather than wait on its worker: with two such requests resumed by
 * their 103s, the two workers still answer a third request at once (it waited out the
 * 2 s when they did). */
START_TEST(a_request_resumed_by_an_interim_answer_parks_again)
{
    pth_config(h, TWO_WORKERS "ProxyPass /b/ http://127.0.0.1:%d/ max=20\n", be.port);
    pth_start(h);
    gets_t early;
    gets_start(&early, "/b/early?ms=2000", 2);
    ck_assert(pth_http_backend_wait_open(&be, 2, 3000));
    pth_sleep_ms(300); /* their 103s have come (not a synchronisation: see above) */
    int64_t t0 = pth_now_ms();
    pth_resp_t r;
    get("/b/echo", NULL, &r);
    int64_t ms = pth_now_ms() - t0;
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    ck_assert_msg(ms < 1000, "a third request waited %lld ms for a worker", (long long)ms);
    ck_assert(gets_join(&early));
    pth_stop(h);
}
END_TEST

/* With max= unset, more requests than ThreadsPerChild reach a backend at once under the
 * event MPM (parked ones hold no worker): the pool allows them, none waits for a pooled
 * connection past ProxyTimeout (503s before the default grew beyond ThreadsPerChild). */
START_TEST(more_requests_than_workers_fit_the_default_pool)
{
    pth_config(h, TWO_WORKERS "ProxyTimeout 1\nProxyPass /b/ http://127.0.0.1:%d/\n", be.port);
    pth_start(h);
    int64_t ms;
    ck_assert(slow_gets("/b/slow?ms=700", 16, &ms));
    pth_stop(h);
}
END_TEST

/* server-status and the metrics count requests parked on their backend (no worker's line
 * shows them): four of them, to a backend that answers after 4 s. */
START_TEST(server_status_counts_requests_parked_on_their_backend)
{
    pth_config(h, TWO_WORKERS "ProxyPass /b/ http://127.0.0.1:%d/ max=20\n"
                  "<Location /server-status>\n SetHandler server-status\n</Location>\n"
                  "<Location /metrics>\n SetHandler metrics\n</Location>\n", be.port);
    pth_start(h);
    gets_t slow;
    gets_start(&slow, "/b/slow?ms=4000", 4);
    bool seen = false;
    for (int64_t end = pth_now_ms() + 3000; !seen && pth_now_ms() < end; pth_sleep_ms(50)) {
        pth_resp_t r;
        get("/server-status?auto", NULL, &r);
        seen = r.status == 200 && strstr(r.body, "\nConnsAsyncBackend: 4\n") != NULL;
        pth_resp_free(&r);
    }
    ck_assert_msg(seen, "server-status never counted the four parked requests");
    pth_resp_t r;
    get("/metrics", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "portico_connections{state=\"backend\"} 4\n") != NULL,
                  "metrics: %s", r.body);
    pth_resp_free(&r);
    ck_assert(gets_join(&slow));
    pth_stop(h);
}
END_TEST

/* A request pipelined behind one that parks is served after it, in order, by whichever
 * worker resumes the first; then the connection parks for keep-alive as usual. */
START_TEST(a_request_pipelined_behind_a_parked_one_is_answered_in_order)
{
    pth_config(h, TWO_WORKERS "ProxyPass /b/ http://127.0.0.1:%d/\n", be.port);
    pth_start(h);
    pth_conn_t *c = pth_conn_open_port(h->port);
    pth_conn_sendf(c, "GET /b/slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /b/bytes?n=777 HTTP/1.1\r\nHost: x\r\n\r\n");
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 777);
    pth_resp_free(&r);
    pth_conn_sendf(c, "GET /b/slow?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_str_eq(r.body, "ok");
    pth_resp_free(&r);
    pth_conn_close(c);
    pth_stop(h);
}
END_TEST

/* A client that leaves while its request is parked: the answer that comes finds it gone,
 * the backend's connection is not kept, and the next clients are served (ASan's leak check
 * at the stop covers the request's arena and the pool's count). */
START_TEST(a_client_that_leaves_while_its_request_is_parked_costs_nothing)
{
    pth_config(h, TWO_WORKERS "ProxyPass /b/ http://127.0.0.1:%d/\n", be.port);
    pth_start(h);
    for (int i = 0; i < 4; i++) {
        pth_conn_t *c = pth_conn_open_port(h->port);
        pth_conn_sendf(c, "GET /b/slow?ms=300&body=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        pth_conn_close(c);
    }
    pth_sleep_ms(800); /* their answers came and found nobody */
    int64_t ms;
    ck_assert(slow_gets("/b/slow?ms=100", 4, &ms));
    pth_stop(h);
}
END_TEST

/* A graceful stop waits for a request parked on its backend, as for any in flight. */
START_TEST(a_graceful_stop_finishes_a_request_parked_on_its_backend)
{
    pth_config(h, TWO_WORKERS "GracefulShutdownTimeout 30\n"
                  "ProxyPass /b/ http://127.0.0.1:%d/\n", be.port);
    pth_start(h);
    pth_conn_t *c = pth_conn_open_port(h->port);
    pth_conn_sendf(c, "GET /b/slow?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(pth_http_backend_wait_open(&be, 1, 3000)); /* sent: parked now */
    pth_sleep_ms(200);
    ck_assert_int_eq(kill(h->pid, SIGWINCH), 0);
    ck_assert(pth_file_wait_contains(h->error_log, "caught SIGWINCH", 3000));
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok");
    pth_resp_free(&r);
    pth_conn_close(c);
    ck_assert_int_eq(pth_wait_exit(h, 5000), 0);
    pth_check_error_log(h);
    pth_check_stderr(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("proxy_http");
    TCase *tc = tcase_create("proxy_http");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_get_reaches_the_backend_with_its_path_query_host_and_forwarded_fields);
    tcase_add_test(tc, x_forwarded_for_is_appended_and_proxy_add_headers_off_adds_none);
    tcase_add_test(tc, a_clients_x_forwarded_proto_is_replaced_unless_a_requestheader_rule_names_it);
    tcase_add_test(tc, a_requestheader_rule_whose_condition_failed_leaves_the_field_to_portico);
    tcase_add_test(tc, proxy_preserve_host_sends_the_clients_host);
    tcase_add_test(tc, hop_by_hop_fields_are_removed_both_ways);
    tcase_add_test(tc, one_mib_bodies_cross_intact_both_ways);
    tcase_add_test(tc, head_204_and_304_are_framed_without_a_body);
    tcase_add_test(tc, expect_100_continue_gets_a_100_before_the_body_and_none_when_refused);
    tcase_add_test(tc, ambiguous_or_broken_upstream_framing_is_a_502_never_passed_on);
    tcase_add_test(tc, a_reset_mid_response_closes_the_client_connection);
    tcase_add_test(tc, upstream_connections_are_kept_and_reused_unless_disabled);
    tcase_add_test(tc, a_pooled_connection_the_backend_closed_never_fails_a_request);
    tcase_add_test(tc, a_unix_socket_upstream_is_proxied);
    tcase_add_test(tc, refused_timed_out_and_malformed_upstreams_answer_503_504_502_with_a_log_line);
    tcase_add_test(tc, a_te_cl_desync_attempt_reaches_the_backend_as_exactly_one_request);
    tcase_add_test(tc, interim_103_is_skipped_and_the_final_answer_relayed);
    tcase_add_test(tc, nocanon_passes_the_raw_path_and_the_default_re_encodes_the_decoded_one);
    tcase_add_test(tc, request_header_unset_early_keeps_the_proxy_field_from_the_backend);
    tcase_add_test(tc, an_absolute_uri_for_another_host_is_never_forwarded_to_that_host);
    tcase_add_test(tc, encoded_slashes_follow_allow_encoded_slashes);
    tcase_add_test(tc, location_scoped_proxypass_and_proxypassmatch_route_to_http_backends);
    tcase_add_test(tc, upgrade_is_forwarded_only_to_a_backend_with_upgrade_set);
    tcase_add_test(tc, concurrent_keep_alive_clients_all_get_whole_answers);
    tcase_add_test(tc, ttl_and_timeout_keys_apply_to_their_backend);
    tcase_add_test(tc, an_unread_chunked_body_is_drained_as_chunked_before_the_next_request);
    tcase_add_test(tc, a_crlf_a_rule_puts_into_a_forwarded_field_never_splits_the_backends_head);
    pth_tcase_add_for(tc, "event", a_slow_backend_holds_no_worker);
    pth_tcase_add_for(tc, "event", parked_requests_leave_a_pooled_connection_for_the_workers);
    pth_tcase_add_for(tc, "event", a_graceful_stop_finishes_a_request_parked_on_its_backend);
    pth_tcase_add_for(tc, "event", a_request_resumed_by_an_interim_answer_parks_again);
    pth_tcase_add_for(tc, "event", more_requests_than_workers_fit_the_default_pool);
    pth_tcase_add_for(tc, "event", server_status_counts_requests_parked_on_their_backend);
    tcase_add_test(tc, a_request_pipelined_behind_a_parked_one_is_answered_in_order);
    tcase_add_test(tc, a_client_that_leaves_while_its_request_is_parked_costs_nothing);
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
