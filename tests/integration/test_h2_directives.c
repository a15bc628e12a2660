/* mod_http2's directives that change what a session sends or allows, with the raw frame
 * client of h2_client.h over h2c: H2MaxDataFrameLen, H2Padding, H2MaxStreamErrors,
 * H2MaxWorkers; and over TLS with libcurl, H2ModernTLSOnly. */
#include "h2_client.h"
#include "harness.h"
#include "tls_client.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H2_DATA 0x0
#define H2_HEADERS 0x1
#define H2_GOAWAY 0x7
#define H2_END_STREAM 0x1
#define H2_END_HEADERS 0x4
#define H2_PADDED 0x8

static pth_t *h;
static pth_h2_fcgi_t be;

static void setup(void)
{
    h = pth_new();
    char *big = malloc(100000);
    memset(big, 'x', 100000);
    pth_write_file(h, "big.txt", big, 100000);
    free(big);
    ck_assert_int_eq(pth_h2_fcgi_start(&be, pth_path(h, "be.sock")), 0);
}

static void teardown(void)
{
    pth_stop(h);
    pth_h2_fcgi_stop(&be);
    pth_free(h);
    h = NULL;
}

static void start_h2c(const char *extra)
{
    pth_config(h, "Protocols h2c http/1.1\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\" max=20\n%s\n",
               extra);
    pth_start(h);
}

/* GET /big.txt on stream 1: the DATA frames' largest length, whether any was padded, and
 * the body bytes (the frame lengths less their padding). */
static void data_frames(size_t *largest, bool *padded, size_t *body)
{
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(pth_h2_get(c, 1, "/big.txt"), 0);
    *largest = *body = 0;
    *padded = false;
    for (int64_t end = pth_now_ms() + 20000; pth_now_ms() < end;) {
        pth_h2_frame_t f;
        if (pth_h2_read(c, &f, 5000) != 0)
            break;
        bool last = f.type == H2_DATA && (f.flags & H2_END_STREAM);
        if (f.type == H2_DATA && f.stream == 1) {
            size_t pad = (f.flags & H2_PADDED) && f.length ? (size_t)f.payload[0] + 1 : 0;
            if (f.length > *largest)
                *largest = f.length;
            *padded |= (f.flags & H2_PADDED) != 0;
            *body += f.length - pad;
            /* give the window back, so the whole body comes */
            uint8_t inc[4] = {0, 0, (uint8_t)(f.length >> 8), (uint8_t)f.length};
            pth_h2_frame(c, 0x8, 0, 0, inc, 4);
            pth_h2_frame(c, 0x8, 0, 1, inc, 4);
        }
        pth_h2_frame_free(&f);
        if (last)
            break;
    }
    pth_h2_close(c);
}

START_TEST(h2_max_data_frame_len_caps_data_frames)
{
    start_h2c("H2MaxDataFrameLen 1000");
    size_t largest = 0, body = 0;
    bool padded = false;
    data_frames(&largest, &padded, &body);
    ck_assert_int_eq(body, 100000);
    ck_assert_msg(largest <= 1000 && largest > 0, "largest DATA frame %zu", largest);
    ck_assert(!padded);
    pth_stop(h);
    start_h2c(""); /* the default: frames as large as the client allows (16384) */
    data_frames(&largest, &padded, &body);
    ck_assert_int_eq(body, 100000);
    ck_assert_msg(largest > 1000, "largest DATA frame %zu", largest);
}
END_TEST

/* A frame can take padding only where its data is shorter than both the frame size and the
 * flow-control window allow: a full frame, or one cut to what the window has left, stays
 * as it is (as in Apache). So the client opens windows far larger than the bodies, and
 * asks for 16 small responses: 32 frames that can be padded (each HEADERS and each
 * DATA), each by 0..255 bytes at random. The test once read one 100,000-byte response
 * whose only frame that could be padded was its last, and that one only when the window
 * updates had come back in time: a failure about one run in three. */
START_TEST(h2_padding_pads_frames_and_the_body_is_whole)
{
    char small[300];
    memset(small, 's', sizeof(small));
    pth_write_file(h, "small.txt", small, sizeof(small));
    start_h2c("H2Padding 8");
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    /* SETTINGS_INITIAL_WINDOW_SIZE 1 MiB for streams, and the connection's raised to match */
    uint8_t set[6] = {0, 4, 0, 0x10, 0, 0};
    ck_assert_int_eq(pth_h2_frame(c, 0x4, 0, 0, set, 6), 0);
    uint8_t inc[4] = {0, 0x10, 0, 0};
    ck_assert_int_eq(pth_h2_frame(c, 0x8, 0, 0, inc, 4), 0);
    for (int32_t id = 1; id <= 31; id += 2)
        ck_assert_int_eq(pth_h2_get(c, id, "/small.txt"), 0);
    size_t body[16] = {0}, frames = 0, padded = 0;
    int ended = 0;
    for (int64_t end = pth_now_ms() + 20000; ended < 16 && pth_now_ms() < end;) {
        pth_h2_frame_t f;
        if (pth_h2_read(c, &f, 5000) != 0)
            break;
        if ((f.type == H2_DATA || f.type == H2_HEADERS) && f.stream >= 1 && f.stream <= 31) {
            frames++;
            if (f.flags & H2_PADDED) {
                padded++;
                ck_assert_uint_gt(f.length, 0);
                ck_assert_uint_le((size_t)f.payload[0] + 1, f.length);
            }
            if (f.type == H2_HEADERS)
                ck_assert_int_eq(f.status, 200);
            if (f.type == H2_DATA) {
                size_t pad = (f.flags & H2_PADDED) ? (size_t)f.payload[0] + 1 : 0;
                body[f.stream / 2] += f.length - pad;
            }
            if (f.flags & H2_END_STREAM)
                ended++;
        }
        pth_h2_frame_free(&f);
    }
    pth_h2_close(c);
    ck_assert_int_eq(ended, 16);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(body[i], sizeof(small));
    ck_assert_uint_ge(frames, 32);
    /* each is left as it is one time in 256: that all 32 were is odds of 2^-256 */
    ck_assert_msg(padded > 0, "none of %zu frames padded", frames);
}
END_TEST

/* HEADERS with an upper-case field name: a malformed request, a stream error (RFC 9113
 * 8.2.1) that nghttp2 answers with RST_STREAM. */
static void bad_headers(pth_h2_t *c, int32_t id)
{
    const char *names[] = {":method", ":scheme", ":path", ":authority", "X-Upper"};
    const char *values[] = {"GET", "http", "/", "localhost", "1"};
    uint8_t block[512];
    size_t n = pth_h2_block(c, block, sizeof(block), names, values, 5);
    ck_assert_int_eq(pth_h2_frame(c, H2_HEADERS, H2_END_STREAM | H2_END_HEADERS, id, block, n),
                     0);
}

START_TEST(h2_max_stream_errors_ends_a_session_that_makes_too_many)
{
    start_h2c("H2MaxStreamErrors 2");
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    for (int32_t id = 1; id <= 5; id += 2)
        bad_headers(c, id);
    uint32_t code = 0;
    ck_assert(pth_h2_goaway(c, 5000, &code));
    ck_assert_int_eq(code, 11); /* ENHANCE_YOUR_CALM */
    pth_h2_close(c);
    ck_assert(pth_file_wait_contains(h->error_log, "more than H2MaxStreamErrors", 3000));
    pth_stop(h);
    start_h2c(""); /* the default, 8: three are reset and the session goes on */
    c = pth_h2_open(h->port, true);
    for (int32_t id = 1; id <= 5; id += 2)
        bad_headers(c, id);
    ck_assert_int_eq(pth_h2_get(c, 7, "/big.txt"), 0);
    int status = 0;
    ck_assert_int_eq(pth_h2_expect(c, H2_HEADERS, 7, 5000, &code, &status), H2_HEADERS);
    ck_assert_int_eq(status, 200);
    pth_h2_close(c);
}
END_TEST

/* H2MaxWorkers 1: two streams whose handler blocks (a FastCGI backend that takes 1 s) run
 * one after the other. */
START_TEST(h2_max_workers_bounds_the_streams_that_run_at_once)
{
    start_h2c("H2MaxWorkers 1\nH2MinWorkers 1\nH2MaxWorkerIdleSeconds 30");
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    int64_t t0 = pth_now_ms();
    ck_assert_int_eq(pth_h2_get(c, 1, "/f/slow"), 0);
    ck_assert_int_eq(pth_h2_get(c, 3, "/f/slow"), 0);
    uint32_t code = 0;
    int status = 0, done = 0;
    for (int i = 0; i < 2; i++) {
        int got = pth_h2_expect(c, H2_HEADERS, -1, 10000, &code, &status);
        ck_assert_int_eq(got, H2_HEADERS);
        ck_assert_int_eq(status, 200);
        done++;
    }
    int64_t took = pth_now_ms() - t0;
    ck_assert_int_eq(done, 2);
    ck_assert_msg(took >= 1900, "two 1 s streams on one worker took %lld ms", (long long)took);
    pth_h2_close(c);
}
END_TEST

/* H2StreamTimeout 1: a client that takes no more bytes (no WINDOW_UPDATE) holds the stream's
 * worker 1 s, not Timeout's 60, and the stream is reset. */
START_TEST(h2_stream_timeout_ends_a_stream_whose_client_takes_nothing)
{
    start_h2c("H2StreamTimeout 1\nH2StreamMaxMemSize 16384\nTimeout 60");
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    int64_t t0 = pth_now_ms();
    ck_assert_int_eq(pth_h2_get(c, 1, "/big.txt"), 0);
    uint32_t code = 0;
    int status = 0;
    ck_assert_int_eq(pth_h2_expect(c, 0x3, 1, 10000, &code, &status), 0x3); /* RST_STREAM */
    int64_t took = pth_now_ms() - t0;
    ck_assert_msg(took >= 900 && took < 9000, "reset after %lld ms", (long long)took);
    pth_h2_close(c);
}
END_TEST

START_TEST(h2_modern_tls_only_refuses_a_cbc_suite_unless_off)
{
    const char *tls = "Listen 127.0.0.1:@PORT@ https\nServerName localhost\n"
                      "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
                      "DocumentRoot @DOCROOT@\n<Directory @DOCROOT@>\nRequire all granted\n"
                      "</Directory>\nProtocols h2 http/1.1\nSSLEngine on\n"
                      "SSLProtocol TLSv1.2\nSSLCipherSuite ECDHE-RSA-AES128-SHA\n";
    pth_config_raw(h, "MPM %s\n%sSSLCertificateFile %s\nSSLCertificateKeyFile %s\n",
                   pth_mpm(), tls, pth_tls_file("a.test.rsa.pem"),
                   pth_tls_file("a.test.rsa.key"));
    pth_start(h);
    pth_tls_req_t q = {.port = h->port, .host = "a.test", .path = "/big.txt", .http2 = true};
    pth_resp_t r;
    int rc = pth_tls_get(&q, &r);
    ck_assert_msg(rc != 0 || r.status != 200, "served over h2 with a CBC suite");
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "INADEQUATE_SECURITY", 3000));
    pth_stop(h);
    pth_config_raw(h, "MPM %s\n%sSSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
                      "H2ModernTLSOnly off\n",
                   pth_mpm(), tls, pth_tls_file("a.test.rsa.pem"),
                   pth_tls_file("a.test.rsa.key"));
    pth_start(h);
    ck_assert_int_eq(pth_tls_get(&q, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.version, 20);
    pth_resp_free(&r);
}
END_TEST

START_TEST(h2_directives_check_their_values)
{
    const char *bad[] = {"H2Padding 9", "H2MaxDataFrameLen -1", "H2MaxWorkers 0",
                         "H2EarlyHints on", "H2ModernTLSOnly maybe"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pth_config(h, "%s\n", bad[i]);
        pth_run_t r;
        pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
        ck_assert_msg(r.code != 0 && strstr(r.err, "portico.conf:"), "%s: %s", bad[i], r.err);
        pth_run_free(&r);
    }
    pth_config(h, "H2EarlyHints off\nH2EarlyHint Link \"</s.css>; rel=preload\"\n"
                  "H2StreamTimeout 30\nH2MaxHeaderBlockLen 131072\n");
    pth_run_t r;
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(r.code == 0 && strstr(r.err, "notice: H2EarlyHint ignored"), "%s", r.err);
    pth_run_free(&r);
}
END_TEST

static Suite *h2_directives_suite(void)
{
    Suite *s = suite_create("h2_directives");
    TCase *tc = tcase_create("h2_directives");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, h2_max_data_frame_len_caps_data_frames);
    tcase_add_test(tc, h2_padding_pads_frames_and_the_body_is_whole);
    tcase_add_test(tc, h2_max_stream_errors_ends_a_session_that_makes_too_many);
    tcase_add_test(tc, h2_max_workers_bounds_the_streams_that_run_at_once);
    tcase_add_test(tc, h2_stream_timeout_ends_a_stream_whose_client_takes_nothing);
    tcase_add_test(tc, h2_modern_tls_only_refuses_a_cbc_suite_unless_off);
    tcase_add_test(tc, h2_directives_check_their_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    pth_tls_pki();
    SRunner *sr = srunner_create(h2_directives_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
