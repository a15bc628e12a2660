/* RFC 9113 (sections 4-8) and RFC 7541 as a peer observes them: a table of raw exchanges,
 * each on a fresh connection after the preface, with the answer the RFC names (GOAWAY for
 * a connection error, RST_STREAM for a stream error, with its code; or the frame a valid
 * exchange gets). nghttp2 checks the frames; portico checks the messages (section 8: each
 * field, the pseudo-headers, content-length against DATA, trailers; h2_check.c), which
 * nghttp2 1.52's HTTP messaging checked before, with the same answers: the rows of section
 * 8 record those. */
#include "h2_client.h"
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static pth_t *h;
static pth_h2_fcgi_t be;

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "a.txt", "hello h2\n");
    ck_assert_int_eq(pth_h2_fcgi_start(&be, pth_path(h, "be.sock")), 0);
    pth_config(h, "Protocols h2c http/1.1\nH2WindowSize 1024\n"
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

/* Frames of a request with the given fields (NULL-terminated name, value pairs). */
static void headers(pth_h2_t *c, int32_t id, uint8_t flags, const char *const *f)
{
    const char *n[32], *v[32];
    size_t k = 0;
    for (; f[2 * k] && k < 32; k++)
        n[k] = f[2 * k], v[k] = f[2 * k + 1];
    uint8_t blk[4096];
    size_t len = pth_h2_block(c, blk, sizeof(blk), n, v, k);
    pth_h2_frame(c, NGHTTP2_HEADERS, flags | NGHTTP2_FLAG_END_HEADERS, id, blk, len);
}

#define GET_FIELDS ":method", "GET", ":scheme", "http", ":path", "/a.txt", ":authority", "x"
#define END NGHTTP2_FLAG_END_STREAM

static void settings1(pth_h2_t *c, uint16_t id, uint32_t v)
{
    uint8_t p[6] = {(uint8_t)(id >> 8), (uint8_t)id, (uint8_t)(v >> 24), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 8), (uint8_t)v};
    pth_h2_frame(c, NGHTTP2_SETTINGS, 0, 0, p, 6);
}

static void window_update(pth_h2_t *c, int32_t id, uint32_t inc)
{
    uint8_t p[4] = {(uint8_t)(inc >> 24), (uint8_t)(inc >> 16), (uint8_t)(inc >> 8),
                    (uint8_t)inc};
    pth_h2_frame(c, NGHTTP2_WINDOW_UPDATE, 0, id, p, 4);
}

static void c_data_on_0(pth_h2_t *c) { pth_h2_frame(c, NGHTTP2_DATA, 0, 0, "x", 1); }
static void c_even_stream(pth_h2_t *c) { headers(c, 2, END, (const char *[]){GET_FIELDS, NULL}); }
static void c_settings_len(pth_h2_t *c) { pth_h2_frame(c, NGHTTP2_SETTINGS, 0, 0, "12345", 5); }
static void c_window_too_big(pth_h2_t *c) { settings1(c, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0x80000000u); }
static void c_enable_push_2(pth_h2_t *c) { settings1(c, NGHTTP2_SETTINGS_ENABLE_PUSH, 2); }
static void c_max_frame_small(pth_h2_t *c) { settings1(c, NGHTTP2_SETTINGS_MAX_FRAME_SIZE, 16383); }
static void c_settings_on_stream(pth_h2_t *c) { pth_h2_frame(c, NGHTTP2_SETTINGS, 0, 1, NULL, 0); }
static void c_settings_ack_payload(pth_h2_t *c)
{
    pth_h2_frame(c, NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0, "123456", 6);
}
static void c_ping_7(pth_h2_t *c) { pth_h2_frame(c, NGHTTP2_PING, 0, 0, "1234567", 7); }
static void c_ping_on_stream(pth_h2_t *c) { pth_h2_frame(c, NGHTTP2_PING, 0, 1, "12345678", 8); }
static void c_wu_zero_conn(pth_h2_t *c) { window_update(c, 0, 0); }
static void c_wu_overflow(pth_h2_t *c) { window_update(c, 0, 0x7fffffffu); }
static void c_wu_idle(pth_h2_t *c) { window_update(c, 5, 100); }
static void c_rst_idle(pth_h2_t *c)
{
    pth_h2_frame(c, NGHTTP2_RST_STREAM, 0, 5, "\0\0\0\x08", 4);
}
static void c_frame_too_big(pth_h2_t *c)
{
    static uint8_t big[16385];
    headers(c, 1, 0, (const char *[]){":method", "POST", ":scheme", "http", ":path", "/f/slow",
                                      ":authority", "x", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, big, sizeof(big));
}
static void c_continuation_alone(pth_h2_t *c)
{
    pth_h2_frame(c, NGHTTP2_CONTINUATION, NGHTTP2_FLAG_END_HEADERS, 1, "\x82", 1);
}
static void c_frame_inside_block(pth_h2_t *c)
{
    pth_h2_frame(c, NGHTTP2_HEADERS, END, 1, "\x82\x86\x84", 3); /* no END_HEADERS */
    pth_h2_frame(c, NGHTTP2_PING, 0, 0, "12345678", 8);
}
static void c_stream_id_down(pth_h2_t *c)
{
    headers(c, 5, END, (const char *[]){GET_FIELDS, NULL});
    headers(c, 3, END, (const char *[]){GET_FIELDS, NULL});
}
static void c_hpack_bad_index(pth_h2_t *c)
{
    pth_h2_frame(c, NGHTTP2_HEADERS, END | NGHTTP2_FLAG_END_HEADERS, 1, "\x82\x86\xbf", 3);
}
static void c_hpack_table_update_too_big(pth_h2_t *c)
{
    /* A dynamic table size update above SETTINGS_HEADER_TABLE_SIZE (4096): 0x3f + 8192. */
    pth_h2_frame(c, NGHTTP2_HEADERS, END | NGHTTP2_FLAG_END_HEADERS, 1,
                 "\x3f\xe1\x3f\x82\x86\x84", 6);
}
static void c_no_method(pth_h2_t *c)
{
    headers(c, 1, END, (const char *[]){":scheme", "http", ":path", "/", ":authority", "x",
                                        NULL});
}
static void c_uppercase(pth_h2_t *c)
{
    headers(c, 1, END, (const char *[]){GET_FIELDS, "X-Upper", "1", NULL});
}
static void c_connection_field(pth_h2_t *c)
{
    headers(c, 1, END, (const char *[]){GET_FIELDS, "connection", "keep-alive", NULL});
}
static void c_te_gzip(pth_h2_t *c)
{
    headers(c, 1, END, (const char *[]){GET_FIELDS, "te", "gzip", NULL});
}
static void c_pseudo_after_regular(pth_h2_t *c)
{
    headers(c, 1, END, (const char *[]){":method", "GET", ":scheme", "http", "x-a", "1",
                                        ":path", "/", NULL});
}
static void c_unknown_pseudo(pth_h2_t *c)
{
    headers(c, 1, END, (const char *[]){GET_FIELDS, ":foo", "1", NULL});
}
static void c_two_paths(pth_h2_t *c)
{
    headers(c, 1, END, (const char *[]){GET_FIELDS, ":path", "/b", NULL});
}
static void c_empty_path(pth_h2_t *c)
{
    headers(c, 1, END, (const char *[]){":method", "GET", ":scheme", "http", ":path", "",
                                        ":authority", "x", NULL});
}
static void c_status_in_request(pth_h2_t *c)
{
    headers(c, 1, END, (const char *[]){GET_FIELDS, ":status", "200", NULL});
}
static void c_short_body(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){":method", "POST", ":scheme", "http", ":path", "/f/echo",
                                      "content-length", "10", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, END, 1, "12345", 5);
}
static void c_long_body(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){":method", "POST", ":scheme", "http", ":path", "/f/echo",
                                      "content-length", "3", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, END, 1, "12345", 5);
}
static void c_pseudo_in_trailers(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){":method", "POST", ":scheme", "http", ":path", "/f/echo",
                                      NULL});
    headers(c, 1, END, (const char *[]){":path", "/x", NULL});
}
static void c_data_after_end(pth_h2_t *c)
{
    headers(c, 1, END, (const char *[]){":method", "GET", ":scheme", "http", ":path", "/f/slow",
                                        ":authority", "x", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "x", 1);
}
/* H2WindowSize 1024 (below), in force once our SETTINGS are acknowledged: one DATA frame
 * of 2000 bytes is over the stream's window whatever the worker has read. */
static void c_over_stream_window(pth_h2_t *c)
{
    static uint8_t chunk[2000];
    pth_h2_frame(c, NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0, NULL, 0);
    headers(c, 1, 0, (const char *[]){":method", "POST", ":scheme", "http", ":path", "/f/slow",
                                      ":authority", "x", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, chunk, sizeof(chunk));
}
/* RFC 9218 7.1: PRIORITY_UPDATE goes on stream 0, and prioritizes a request stream. */
static void c_priority_update_on_stream(pth_h2_t *c)
{
    pth_h2_frame(c, NGHTTP2_PRIORITY_UPDATE, 0, 1, "\0\0\0\1u=0", 7);
}
static void c_priority_update_push(pth_h2_t *c)
{
    pth_h2_frame(c, NGHTTP2_PRIORITY_UPDATE, 0, 0, "\0\0\0\2u=0", 7);
}
static void c_unknown_type_then_ping(pth_h2_t *c)
{
    pth_h2_frame(c, 0xfa, 0, 0, "whatever", 8);
    pth_h2_frame(c, NGHTTP2_PING, 0, 0, "12345678", 8);
}
static void c_settings(pth_h2_t *c) { settings1(c, NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 1024); }
static void c_get(pth_h2_t *c) { headers(c, 1, END, (const char *[]){GET_FIELDS, NULL}); }
static void c_head(pth_h2_t *c)
{
    headers(c, 1, END, (const char *[]){":method", "HEAD", ":scheme", "http", ":path",
                                        "/a.txt", ":authority", "x", NULL});
}
static void c_head_no_authority(pth_h2_t *c)
{
    headers(c, 1, END, (const char *[]){":method", "HEAD", ":scheme", "http", ":path",
                                        "/a.txt", NULL});
}
static void c_get_with_trailers_ok(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){":method", "POST", ":scheme", "http", ":path", "/f/echo",
                                      ":authority", "x", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "abc", 3);
    headers(c, 1, END, (const char *[]){"x-trailer", "1", NULL});
}

/* A request whose last field is written as a literal without indexing, byte for byte (a
 * value with NUL, which the deflater's C strings cannot carry). */
static void headers_raw(pth_h2_t *c, int32_t id, uint8_t flags, const char *const *f,
                        const char *name, size_t namelen, const char *value, size_t valuelen)
{
    const char *n[32], *v[32];
    size_t k = 0;
    for (; f[2 * k] && k < 32; k++)
        n[k] = f[2 * k], v[k] = f[2 * k + 1];
    uint8_t blk[4096];
    size_t len = pth_h2_block(c, blk, sizeof(blk), n, v, k);
    blk[len++] = 0x00;
    blk[len++] = (uint8_t)namelen;
    memcpy(blk + len, name, namelen);
    len += namelen;
    blk[len++] = (uint8_t)valuelen;
    memcpy(blk + len, value, valuelen);
    len += valuelen;
    pth_h2_frame(c, NGHTTP2_HEADERS, flags | NGHTTP2_FLAG_END_HEADERS, id, blk, len);
}

/* A GET of /a.txt with one more field. */
static void get_with(pth_h2_t *c, const char *name, const char *value)
{
    headers(c, 1, END, (const char *[]){GET_FIELDS, name, value, NULL});
}

/* A request of the given pseudo-header fields only (and END_STREAM). */
#define REQ(...) headers(c, 1, END, (const char *[]){__VA_ARGS__, NULL})
#define POST_ECHO ":method", "POST", ":scheme", "http", ":path", "/f/echo", ":authority", "x"

/* RFC 9113 8.2.1: a value with CR, LF or NUL (or another control but HTAB), or with white
 * space at either end, is malformed. nghttp2 would drop such a regular field if the
 * session took an on_invalid_header callback; portico's takes none, so the stream is
 * reset, whatever the field (even one whose value is otherwise never read). */
static void c_value_cr(pth_h2_t *c) { get_with(c, "x-a", "a\rb"); }
static void c_value_lf(pth_h2_t *c) { get_with(c, "x-a", "a\nb"); }
static void c_value_nul(pth_h2_t *c)
{
    headers_raw(c, 1, END, (const char *[]){GET_FIELDS, NULL}, "x-a", 3, "a\0b", 3);
}
static void c_value_ctl(pth_h2_t *c) { get_with(c, "x-a", "a\x01" "b"); }
static void c_value_del(pth_h2_t *c) { get_with(c, "x-a", "a\x7f" "b"); }
static void c_value_lead_space(pth_h2_t *c) { get_with(c, "x-a", " a"); }
static void c_value_trail_tab(pth_h2_t *c) { get_with(c, "x-a", "a\t"); }
static void c_value_inner_tab_high(pth_h2_t *c) { get_with(c, "x-a", "a\tb \xff\x80 c"); }
/* Special fields are checked as values first (the reset is the same). */
static void c_clen_space(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){POST_ECHO, "content-length", "3 ", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, END, 1, "123", 3);
}
static void c_connection_cr(pth_h2_t *c) { get_with(c, "connection", "close\r"); }
static void c_te_space(pth_h2_t *c) { get_with(c, "te", "trailers "); }
/* A name with a character outside the token set, upper case or not. */
static void c_name_paren(pth_h2_t *c) { get_with(c, "x(a", "1"); }
static void c_name_space(pth_h2_t *c) { get_with(c, "x a", "1"); }
static void c_name_high(pth_h2_t *c) { get_with(c, "x\xe9", "1"); }
static void c_name_colon_inside(pth_h2_t *c) { get_with(c, "x:a", "1"); }
static void c_name_upper_and_paren(pth_h2_t *c) { get_with(c, "X(a", "1"); }
static void c_name_colon_only(pth_h2_t *c) { get_with(c, ":", "1"); }
static void c_pseudo_upper(pth_h2_t *c)
{
    REQ(":Method", "GET", ":scheme", "http", ":path", "/a.txt", ":authority", "x");
}
static void c_pseudo_bad_char(pth_h2_t *c) { get_with(c, ":a(b", "1"); }
static void c_pseudo_empty_name(pth_h2_t *c) { get_with(c, "", "1"); }
/* :authority and host (RFC 3986 authority characters). */
static void c_authority_space(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "http", ":path", "/a.txt", ":authority", "a b");
}
static void c_authority_slash(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "http", ":path", "/a.txt", ":authority", "a/b");
}
static void c_authority_empty(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "http", ":path", "/a.txt", ":authority", "");
}
static void c_authority_twice(pth_h2_t *c) { get_with(c, ":authority", "y"); }
static void c_authority_ipv6(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "http", ":path", "/a.txt", ":authority", "[::1]:80");
}
static void c_host_only(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "http", ":path", "/a.txt", "host", "x");
}
static void c_host_bad_alone(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "http", ":path", "/a.txt", "host", "a b");
}
static void c_host_bad_with_authority(pth_h2_t *c) { get_with(c, "host", "a<b"); }
static void c_host_empty(pth_h2_t *c) { get_with(c, "host", ""); }
static void c_host_twice(pth_h2_t *c)
{
    REQ(GET_FIELDS, "host", "x", "host", "x");
}
static void c_host_bad_then_good(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "http", ":path", "/a.txt", "host", "a b", "host", "x");
}
/* :method (a token), :scheme (RFC 3986 3.1), :path. */
static void c_method_space(pth_h2_t *c)
{
    REQ(":method", "GE T", ":scheme", "http", ":path", "/a.txt", ":authority", "x");
}
static void c_method_empty(pth_h2_t *c)
{
    REQ(":method", "", ":scheme", "http", ":path", "/a.txt", ":authority", "x");
}
static void c_method_twice(pth_h2_t *c) { get_with(c, ":method", "GET"); }
static void c_scheme_digit_first(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "1http", ":path", "/a.txt", ":authority", "x");
}
static void c_scheme_bad_char(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "ht_tp", ":path", "/a.txt", ":authority", "x");
}
static void c_scheme_empty(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "", ":path", "/a.txt", ":authority", "x");
}
static void c_scheme_twice(pth_h2_t *c) { get_with(c, ":scheme", "http"); }
static void c_no_scheme(pth_h2_t *c) { REQ(":method", "GET", ":path", "/a.txt", ":authority", "x"); }
static void c_no_path(pth_h2_t *c) { REQ(":method", "GET", ":scheme", "http", ":authority", "x"); }
static void c_scheme_upper(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "HTTP", ":path", "/a.txt", ":authority", "x");
}
static void c_path_space(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "http", ":path", "/a b", ":authority", "x");
}
static void c_path_no_slash(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "http", ":path", "a.txt", ":authority", "x");
}
static void c_path_asterisk_get(pth_h2_t *c)
{
    REQ(":method", "GET", ":scheme", "http", ":path", "*", ":authority", "x");
}
static void c_path_asterisk_options(pth_h2_t *c)
{
    REQ(":method", "OPTIONS", ":scheme", "http", ":path", "*", ":authority", "x");
}
/* CONNECT (8.5): :authority, and neither :scheme nor :path. */
static void c_connect_no_authority(pth_h2_t *c) { REQ(":method", "CONNECT"); }
static void c_connect_with_path(pth_h2_t *c)
{
    REQ(":method", "CONNECT", ":authority", "x:443", ":path", "/");
}
static void c_connect_with_scheme(pth_h2_t *c)
{
    REQ(":method", "CONNECT", ":authority", "x:443", ":scheme", "https");
}
/* :protocol (RFC 8441) without SETTINGS_ENABLE_CONNECT_PROTOCOL, which portico never sends. */
static void c_protocol(pth_h2_t *c)
{
    REQ(":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/a.txt",
        ":authority", "x");
}
/* te: trailers only (8.2.2), in any case. */
static void c_te_trailers(pth_h2_t *c) { get_with(c, "te", "trailers"); }
static void c_te_trailers_upper(pth_h2_t *c) { get_with(c, "te", "Trailers"); }
static void c_keep_alive(pth_h2_t *c) { get_with(c, "keep-alive", "5"); }
static void c_proxy_connection(pth_h2_t *c) { get_with(c, "proxy-connection", "keep-alive"); }
static void c_transfer_encoding(pth_h2_t *c) { get_with(c, "transfer-encoding", "chunked"); }
static void c_upgrade(pth_h2_t *c) { get_with(c, "upgrade", "h2c"); }
/* content-length: digits only, once. */
static void c_clen_letters(pth_h2_t *c) { get_with(c, "content-length", "abc"); }
static void c_clen_negative(pth_h2_t *c) { get_with(c, "content-length", "-1"); }
static void c_clen_empty(pth_h2_t *c) { get_with(c, "content-length", ""); }
static void c_clen_plus(pth_h2_t *c) { get_with(c, "content-length", "+0"); }
static void c_clen_overflow(pth_h2_t *c) { get_with(c, "content-length", "99999999999999999999"); }
static void c_clen_two_different(pth_h2_t *c)
{
    REQ(POST_ECHO, "content-length", "3", "content-length", "4");
}
static void c_clen_two_same(pth_h2_t *c)
{
    REQ(POST_ECHO, "content-length", "0", "content-length", "0");
}
static void c_clen_end_on_headers(pth_h2_t *c) { REQ(POST_ECHO, "content-length", "5"); }
static void c_clen_zero_end_on_headers(pth_h2_t *c) { get_with(c, "content-length", "0"); }
static void c_clen_exact(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){POST_ECHO, "content-length", "5", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "12", 2);
    pth_h2_frame(c, NGHTTP2_DATA, END, 1, "345", 3);
}
static void c_clen_over_in_parts(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){POST_ECHO, "content-length", "4", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "123", 3);
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "45", 2);
}
static void c_clen_short_before_trailers(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){POST_ECHO, "content-length", "4", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "123", 3);
    headers(c, 1, END, (const char *[]){"x-trailer", "1", NULL});
}
/* Padding is not body: 3 bytes of data in a padded frame of 8. */
static void c_clen_padded(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){POST_ECHO, "content-length", "3", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, END | NGHTTP2_FLAG_PADDED, 1, "\x04" "abc\0\0\0\0", 8);
}
/* Trailers (8.1): END_STREAM, no pseudo-header, no connection-specific field, no second
 * content-length, no malformed field, as in a head. */
static void c_trailers_no_end(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){POST_ECHO, NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "abc", 3);
    headers(c, 1, 0, (const char *[]){"x-trailer", "1", NULL});
}
static void c_trailers_connection(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){POST_ECHO, NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "abc", 3);
    headers(c, 1, END, (const char *[]){"connection", "close", NULL});
}
static void c_trailers_clen_again(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){POST_ECHO, "content-length", "3", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "abc", 3);
    headers(c, 1, END, (const char *[]){"content-length", "3", NULL});
}
static void c_trailers_clen_wrong(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){POST_ECHO, NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "abc", 3);
    headers(c, 1, END, (const char *[]){"content-length", "4", NULL});
}
static void c_trailers_bad_value(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){POST_ECHO, NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "abc", 3);
    headers(c, 1, END, (const char *[]){"x-trailer", "a\rb", NULL});
}
static void c_trailers_te(pth_h2_t *c)
{
    headers(c, 1, 0, (const char *[]){POST_ECHO, NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "abc", 3);
    headers(c, 1, END, (const char *[]){"te", "gzip", NULL});
}

typedef struct {
    const char *what;
    void (*send)(pth_h2_t *c);
    int type;          /* the frame expected: GOAWAY, RST_STREAM, HEADERS, PING, SETTINGS */
    uint32_t code;     /* GOAWAY's or RST_STREAM's error code; HEADERS: the status */
} row_t;

static const row_t rows[] = {
    {"6.1 DATA on stream 0", c_data_on_0, NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"5.1.1 a client stream with an even id", c_even_stream, NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"6.5 SETTINGS length not a multiple of 6", c_settings_len, NGHTTP2_GOAWAY, NGHTTP2_FRAME_SIZE_ERROR},
    {"6.5.2 INITIAL_WINDOW_SIZE over 2^31-1", c_window_too_big, NGHTTP2_GOAWAY, NGHTTP2_FLOW_CONTROL_ERROR},
    {"6.5.2 ENABLE_PUSH 2", c_enable_push_2, NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"6.5.2 MAX_FRAME_SIZE under 16384", c_max_frame_small, NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"6.5 SETTINGS on a stream", c_settings_on_stream, NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"6.5 SETTINGS ACK with a payload", c_settings_ack_payload, NGHTTP2_GOAWAY, NGHTTP2_FRAME_SIZE_ERROR},
    {"6.7 PING of 7 bytes", c_ping_7, NGHTTP2_GOAWAY, NGHTTP2_FRAME_SIZE_ERROR},
    {"6.7 PING on a stream", c_ping_on_stream, NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"6.9 WINDOW_UPDATE of 0 on the connection", c_wu_zero_conn, NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"6.9.1 connection window over 2^31-1", c_wu_overflow, NGHTTP2_GOAWAY, NGHTTP2_FLOW_CONTROL_ERROR},
    {"5.1 WINDOW_UPDATE on an idle stream", c_wu_idle, NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"5.1 RST_STREAM on an idle stream", c_rst_idle, NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"4.2 a frame over MAX_FRAME_SIZE", c_frame_too_big, NGHTTP2_GOAWAY, NGHTTP2_FRAME_SIZE_ERROR},
    {"6.10 CONTINUATION without HEADERS", c_continuation_alone, NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"6.10 another frame inside a header block", c_frame_inside_block, NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"5.1.1 a stream id lower than the last", c_stream_id_down, NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"RFC 7541 2.3.3 an index past the tables", c_hpack_bad_index, NGHTTP2_GOAWAY, NGHTTP2_COMPRESSION_ERROR},
    {"RFC 7541 4.2 a table size over the limit", c_hpack_table_update_too_big, NGHTTP2_GOAWAY, NGHTTP2_COMPRESSION_ERROR},
    {"8.3.1 no :authority nor host (nghttp2 insists)", c_head_no_authority, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 no :method", c_no_method, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 an upper-case field name", c_uppercase, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.2 a connection-specific field", c_connection_field, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.2 te other than trailers", c_te_gzip, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3 a pseudo-header after a field", c_pseudo_after_regular, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3 an unknown pseudo-header", c_unknown_pseudo, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 :path twice", c_two_paths, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 an empty :path", c_empty_path, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.2 :status in a request", c_status_in_request, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 fewer DATA bytes than content-length", c_short_body, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 more DATA bytes than content-length", c_long_body, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1 a pseudo-header in trailers", c_pseudo_in_trailers, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    /* RFC 9113 8.2.1, 8.3: nghttp2's checks of each field, which portico makes itself. */
    {"8.2.1 a value with CR", c_value_cr, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 a value with LF", c_value_lf, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 a value with NUL", c_value_nul, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 a value with another control", c_value_ctl, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 a value with DEL", c_value_del, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 a value with a leading space", c_value_lead_space, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 a value with a trailing tab", c_value_trail_tab, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 inner tabs, spaces and obs-text are values", c_value_inner_tab_high, NGHTTP2_HEADERS, 200},
    {"8.2.1 content-length with a trailing space", c_clen_space, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 connection with a CR in its value", c_connection_cr, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 te: trailers with a trailing space", c_te_space, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 a name with (", c_name_paren, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 a name with a space", c_name_space, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 a name with a non-ASCII byte", c_name_high, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 a name with a colon inside", c_name_colon_inside, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 an empty name", c_pseudo_empty_name, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 a name with upper case and ( is malformed", c_name_upper_and_paren, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3 a name of a colon alone", c_name_colon_only, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3 a pseudo-header in upper case", c_pseudo_upper, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3 a pseudo-header name with (", c_pseudo_bad_char, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 :authority with a space", c_authority_space, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 :authority with a slash", c_authority_slash, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 an empty :authority", c_authority_empty, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 :authority twice", c_authority_twice, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 an IPv6 :authority is answered", c_authority_ipv6, NGHTTP2_HEADERS, 200},
    {"8.3.1 host without :authority is answered", c_host_only, NGHTTP2_HEADERS, 200},
    {"8.3.1 an invalid host, no :authority", c_host_bad_alone, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 an invalid host beside :authority", c_host_bad_with_authority, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 an empty host", c_host_empty, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 host twice", c_host_twice, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 an invalid host, then a valid one", c_host_bad_then_good, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 :method with a space", c_method_space, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 an empty :method", c_method_empty, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 :method twice", c_method_twice, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 :scheme starting with a digit", c_scheme_digit_first, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 :scheme with _", c_scheme_bad_char, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 an empty :scheme", c_scheme_empty, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 :scheme twice", c_scheme_twice, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 no :scheme", c_no_scheme, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 no :path", c_no_path, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 :scheme HTTP is http", c_scheme_upper, NGHTTP2_HEADERS, 200},
    {"8.3.1 :path with a space", c_path_space, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 an http :path not starting with /", c_path_no_slash, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 :path * for GET", c_path_asterisk_get, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.3.1 :path * for OPTIONS passes (portico answers 400)", c_path_asterisk_options, NGHTTP2_HEADERS, 400},
    {"8.5 CONNECT without :authority", c_connect_no_authority, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.5 CONNECT with :path", c_connect_with_path, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.5 CONNECT with :scheme", c_connect_with_scheme, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"RFC 8441 :protocol, not enabled", c_protocol, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.2 te: trailers is accepted", c_te_trailers, NGHTTP2_HEADERS, 200},
    {"8.2.2 te: Trailers is accepted", c_te_trailers_upper, NGHTTP2_HEADERS, 200},
    {"8.2.2 keep-alive", c_keep_alive, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.2 proxy-connection", c_proxy_connection, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.2 transfer-encoding", c_transfer_encoding, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.2 upgrade", c_upgrade, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 content-length of letters", c_clen_letters, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 a negative content-length", c_clen_negative, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 an empty content-length", c_clen_empty, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 content-length +0", c_clen_plus, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 content-length past 2^63", c_clen_overflow, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 two different content-lengths", c_clen_two_different, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 content-length twice, the same (nghttp2 refuses)", c_clen_two_same, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 content-length 5 and END_STREAM on HEADERS", c_clen_end_on_headers, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 content-length 0 and END_STREAM on HEADERS", c_clen_zero_end_on_headers, NGHTTP2_HEADERS, 200},
    {"8.1.1 content-length met in two DATA", c_clen_exact, NGHTTP2_HEADERS, 200},
    {"8.1.1 content-length passed by a second DATA", c_clen_over_in_parts, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 content-length short when trailers end it", c_clen_short_before_trailers, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 padding is not counted", c_clen_padded, NGHTTP2_HEADERS, 200},
    {"8.1 trailers without END_STREAM", c_trailers_no_end, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.2 a connection field in trailers", c_trailers_connection, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 content-length again in trailers", c_trailers_clen_again, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.1.1 content-length in trailers, not the body's", c_trailers_clen_wrong, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.1 a bad value in trailers", c_trailers_bad_value, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    {"8.2.2 te other than trailers, in trailers", c_trailers_te, NGHTTP2_RST_STREAM, NGHTTP2_PROTOCOL_ERROR},
    /* A stream error that nghttp2 makes a connection error, as 5.4.1 allows. */
    {"5.1 DATA on a half-closed (remote) stream", c_data_after_end, NGHTTP2_GOAWAY, NGHTTP2_STREAM_CLOSED},
    {"6.9.1 DATA over the stream window", c_over_stream_window, NGHTTP2_RST_STREAM, NGHTTP2_FLOW_CONTROL_ERROR},
    {"4.1 an unknown frame type is ignored", c_unknown_type_then_ping, NGHTTP2_PING, 0},
    {"RFC 9218 7.1 PRIORITY_UPDATE on a stream", c_priority_update_on_stream, NGHTTP2_GOAWAY,
     NGHTTP2_PROTOCOL_ERROR},
    {"RFC 9218 7.1 PRIORITY_UPDATE of an idle push stream", c_priority_update_push,
     NGHTTP2_GOAWAY, NGHTTP2_PROTOCOL_ERROR},
    {"6.5.3 SETTINGS are acknowledged", c_settings, NGHTTP2_SETTINGS, 0},
    {"8.3.1 a GET is answered", c_get, NGHTTP2_HEADERS, 200},
    {"8.1 HEAD is answered without DATA", c_head, NGHTTP2_HEADERS, 200},
    {"8.1 a body with trailers is answered", c_get_with_trailers_ok, NGHTTP2_HEADERS, 200},
};

/* Reads until the expected frame type, skipping the server's SETTINGS and its ACK of ours
 * (except when SETTINGS ACK is what is expected). */
static int answer(pth_h2_t *c, int type, uint32_t *code, int *status)
{
    for (int i = 0; i < 20; i++) {
        pth_h2_frame_t f;
        if (pth_h2_read(c, &f, 3000) != 0)
            return -1;
        int t = f.type;
        bool want = t == type && (t != NGHTTP2_SETTINGS || (f.flags & NGHTTP2_FLAG_ACK)) &&
                    (t != NGHTTP2_PING || (f.flags & NGHTTP2_FLAG_ACK));
        if (want || t == NGHTTP2_GOAWAY || t == NGHTTP2_RST_STREAM) {
            if (f.length >= 8 && t == NGHTTP2_GOAWAY)
                *code = (uint32_t)f.payload[4] << 24 | (uint32_t)f.payload[5] << 16 |
                        (uint32_t)f.payload[6] << 8 | f.payload[7];
            if (f.length >= 4 && t == NGHTTP2_RST_STREAM)
                *code = (uint32_t)f.payload[0] << 24 | (uint32_t)f.payload[1] << 16 |
                        (uint32_t)f.payload[2] << 8 | f.payload[3];
            *status = f.status;
            pth_h2_frame_free(&f);
            return t;
        }
        pth_h2_frame_free(&f);
    }
    return -1;
}

START_TEST(each_must_gets_the_named_answer)
{
    char fails[16384] = "";
    size_t n = sizeof(rows) / sizeof(rows[0]);
    for (size_t i = 0; i < n; i++) {
        pth_h2_t *c = pth_h2_open(h->port, true);
        ck_assert_ptr_nonnull(c);
        rows[i].send(c);
        uint32_t code = 999;
        int status = 0;
        int t = answer(c, rows[i].type, &code, &status);
        bool ok = t == rows[i].type &&
                  (t == NGHTTP2_HEADERS ? (uint32_t)status == rows[i].code
                   : t == NGHTTP2_GOAWAY || t == NGHTTP2_RST_STREAM ? code == rows[i].code
                                                                     : true);
        if (!ok)
            snprintf(fails + strlen(fails), sizeof(fails) - strlen(fails),
                     "\n  %s: wanted type %d code %u, got type %d code %u status %d",
                     rows[i].what, rows[i].type, rows[i].code, t, code, status);
        pth_h2_close(c);
    }
    ck_assert_msg(fails[0] == '\0', "%s", fails);
}
END_TEST

/* Expect: 100-continue (RFC 9110 10.1.1, RFC 9113 8.1): the handler's first read of a body
 * the client holds back brings an interim HEADERS :status 100, then the final answer; a
 * request without it gets no 100. */
START_TEST(expect_100_continue_gets_an_interim_headers_when_the_body_is_read)
{
    for (int expect = 1; expect >= 0; expect--) {
        pth_h2_t *c = pth_h2_open(h->port, true);
        ck_assert_ptr_nonnull(c);
        headers(c, 1, 0, (const char *[]){":method", "POST", ":scheme", "http", ":path",
                                          "/f/echo", ":authority", "x", "content-length", "3",
                                          expect ? "expect" : "x-no", "100-continue", NULL});
        int status = 0;
        if (expect) {
            ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 1, 5000, NULL, &status),
                             NGHTTP2_HEADERS);
            ck_assert_int_eq(status, 100);
        } else { /* nothing comes until the body does */
            ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 1, 300, NULL, &status), -2);
        }
        pth_h2_frame(c, NGHTTP2_DATA, END, 1, "abc", 3);
        ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 1, 5000, NULL, &status),
                         NGHTTP2_HEADERS);
        ck_assert_int_eq(status, 200);
        pth_h2_close(c);
    }
}
END_TEST

/* Request trailers reach the request as Apache's r->trailers_in once its body is read:
 * LogFormat's %{NAME}^ti logs them (the FastCGI backend reads the body). */
START_TEST(request_trailers_reach_the_request_and_its_log)
{
    pth_stop(h);
    pth_config(h, "Protocols h2c http/1.1\n"
                  "LogFormat \"%%r tr=%%{x-trailer}^ti none=%%{x-none}^ti\" tr\n"
                  "CustomLog @DIR@/tr.log tr\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\"\n");
    pth_start(h);
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    headers(c, 1, 0, (const char *[]){":method", "POST", ":scheme", "http", ":path", "/f/echo",
                                      ":authority", "x", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "abc", 3);
    headers(c, 1, END, (const char *[]){"x-trailer", "t-value", NULL});
    int status = 0;
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 1, 5000, NULL, &status),
                     NGHTTP2_HEADERS);
    ck_assert_int_eq(status, 200);
    pth_h2_close(c);
    ck_assert(pth_file_wait_contains(pth_path(h, "tr.log"),
                                     "POST /f/echo HTTP/2.0 tr=t-value none=-", 5000));
}
END_TEST

/* A per-directory RewriteRule (WordPress's front controller) that sends a POST to a
 * FastCGI backend: the internal redirect's handler runs where the stream's handler runs
 * (the pool, since it reads a body), not while the session routes it, on the thread that
 * receives that body (it would wait for itself). */
START_TEST(a_per_directory_rewrite_to_a_backend_gets_its_request_body)
{
    pth_stop(h);
    pth_config(h, "Protocols h2c http/1.1\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\"\n"
                  "<Directory \"@DIR@\">\nRewriteEngine On\n"
                  "RewriteCond %%{REQUEST_FILENAME} !-f\nRewriteRule . /f/echo [L]\n"
                  "</Directory>\n");
    pth_start(h);
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    headers(c, 1, 0, (const char *[]){":method", "POST", ":scheme", "http", ":path",
                                      "/no/such/page", ":authority", "x", NULL});
    /* The body comes once the session has routed the stream (and answered this PING). */
    pth_h2_frame(c, NGHTTP2_PING, 0, 0, "12345678", 8);
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_PING, 0, 3000, NULL, NULL), NGHTTP2_PING);
    pth_h2_frame(c, NGHTTP2_DATA, END, 1, "abc", 3);
    int status = 0;
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 1, 5000, NULL, &status),
                     NGHTTP2_HEADERS);
    ck_assert_int_eq(status, 200);
    pth_h2_frame_t f;
    ck_assert_int_eq(pth_h2_read(c, &f, 5000), 0);
    ck_assert_int_eq(f.type, NGHTTP2_DATA);
    ck_assert(f.length >= 5 && memcmp(f.payload, "len=3", 5) == 0);
    pth_h2_frame_free(&f);
    pth_h2_close(c);
}
END_TEST

/* H2MaxStreamErrors counts the malformed requests (a field, the head as a whole, trailers,
 * a body not of its content-length), each stream once: with 2, the third ends the session
 * with ENHANCE_YOUR_CALM. */
START_TEST(malformed_requests_count_as_stream_errors)
{
    pth_stop(h);
    pth_config(h, "Protocols h2c http/1.1\nH2MaxStreamErrors 2\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\"\n");
    pth_start(h);
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    headers(c, 1, END, (const char *[]){GET_FIELDS, "keep-alive", "5", NULL});
    headers(c, 3, END, (const char *[]){":method", "GET", ":path", "/a.txt", ":authority", "x",
                                        NULL});
    headers(c, 5, 0, (const char *[]){POST_ECHO, NULL});
    headers(c, 5, 0, (const char *[]){"x-trailer", "1", NULL});
    uint32_t code = 0;
    ck_assert(pth_h2_goaway(c, 5000, &code));
    ck_assert_int_eq(code, NGHTTP2_ENHANCE_YOUR_CALM);
    pth_h2_close(c);

    /* Bodies longer and shorter than their content-length: the longer one comes in two
     * DATA frames, both past the length, and counts once. A well-formed request between
     * them is still served; the third wrong body ends the session. */
    c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    headers(c, 1, 0, (const char *[]){POST_ECHO, "content-length", "2", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, 0, 1, "123", 3);
    pth_h2_frame(c, NGHTTP2_DATA, END, 1, "456", 3);
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_RST_STREAM, 1, 5000, &code, NULL),
                     NGHTTP2_RST_STREAM);
    ck_assert_int_eq(code, NGHTTP2_PROTOCOL_ERROR);
    headers(c, 3, 0, (const char *[]){POST_ECHO, "content-length", "2", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, END, 3, "1", 1);
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_RST_STREAM, 3, 5000, &code, NULL),
                     NGHTTP2_RST_STREAM);
    ck_assert_int_eq(code, NGHTTP2_PROTOCOL_ERROR);
    headers(c, 5, END, (const char *[]){GET_FIELDS, NULL});
    int status = 0;
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 5, 5000, NULL, &status), NGHTTP2_HEADERS);
    ck_assert_int_eq(status, 200);
    headers(c, 7, 0, (const char *[]){POST_ECHO, "content-length", "2", NULL});
    pth_h2_frame(c, NGHTTP2_DATA, END, 7, "123", 3);
    ck_assert(pth_h2_goaway(c, 5000, &code));
    ck_assert_int_eq(code, NGHTTP2_ENHANCE_YOUR_CALM);
    pth_h2_close(c);
}
END_TEST

/* A session H2MaxStreamErrors ends on a DATA frame (a body short of its content-length)
 * reads nothing after it: not the GET that follows in the same read, nor a PING of the
 * wrong size, on which nghttp2 1.52 (having read on) aborted the process. */
START_TEST(a_session_ended_on_a_data_frame_reads_nothing_after_it)
{
    pth_stop(h);
    pth_config(h, "Protocols h2c http/1.1\nH2MaxStreamErrors 1\n"
                  "ProxyPass /f/ \"unix:@DIR@/be.sock|fcgi://localhost/f/\"\n");
    pth_start(h);
    pth_h2_t *c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    pth_h2_cork(c, true);
    for (int32_t id = 1; id <= 3; id += 2) {
        headers(c, id, 0, (const char *[]){POST_ECHO, "content-length", "2", NULL});
        pth_h2_frame(c, NGHTTP2_DATA, END, id, "1", 1);
    }
    headers(c, 5, END, (const char *[]){GET_FIELDS, NULL});
    pth_h2_frame(c, NGHTTP2_PING, 0, 0, "1234567", 7);
    pth_h2_cork(c, false);
    uint32_t code = 0;
    int status = 0;
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 5, 5000, &code, &status), NGHTTP2_GOAWAY);
    ck_assert_int_eq(code, NGHTTP2_ENHANCE_YOUR_CALM);
    pth_h2_close(c);
    ck_assert(pth_file_wait_contains(h->error_log, "more than H2MaxStreamErrors", 3000));
    char *log = pth_read_file(h->error_log, NULL);
    ck_assert_msg(!strstr(log, "exit signal"), "%s", log);
    free(log);
    c = pth_h2_open(h->port, true);
    ck_assert_ptr_nonnull(c);
    headers(c, 1, END, (const char *[]){GET_FIELDS, NULL});
    ck_assert_int_eq(pth_h2_expect(c, NGHTTP2_HEADERS, 1, 5000, NULL, &status), NGHTTP2_HEADERS);
    ck_assert_int_eq(status, 200);
    pth_h2_close(c);
}
END_TEST

/* RFC 9113 3.4: the server's first frame is a SETTINGS, even when the client's first read
 * already ends the session (here a HEADERS on a stream lower than one opened before it:
 * PROTOCOL_ERROR). Preface, SETTINGS and both HEADERS reach the server in one read. */
START_TEST(a_connection_error_in_the_first_read_comes_after_the_servers_settings)
{
    pth_h2_t *c = pth_h2_open(h->port, false);
    ck_assert_ptr_nonnull(c);
    pth_h2_cork(c, true);
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    ck_assert_int_eq(send(c->fd, preface, sizeof(preface) - 1, MSG_NOSIGNAL),
                     (ssize_t)sizeof(preface) - 1);
    pth_h2_frame(c, NGHTTP2_SETTINGS, 0, 0, NULL, 0);
    headers(c, 5, END, (const char *[]){GET_FIELDS, NULL});
    headers(c, 3, END, (const char *[]){GET_FIELDS, NULL});
    pth_h2_cork(c, false);
    pth_h2_frame_t f;
    ck_assert_int_eq(pth_h2_read(c, &f, 5000), 0);
    ck_assert_msg(f.type == NGHTTP2_SETTINGS && !(f.flags & NGHTTP2_FLAG_ACK),
                  "the server's first frame: type %u flags %#x", f.type, f.flags);
    pth_h2_frame_free(&f);
    uint32_t code = 0;
    ck_assert(pth_h2_goaway(c, 5000, &code));
    ck_assert_int_eq(code, NGHTTP2_PROTOCOL_ERROR);
    pth_h2_close(c);
}
END_TEST

static Suite *conf_suite(void)
{
    Suite *s = suite_create("h2_conformance");
    TCase *tc = tcase_create("rfc9113");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, each_must_gets_the_named_answer);
    tcase_add_test(tc, expect_100_continue_gets_an_interim_headers_when_the_body_is_read);
    tcase_add_test(tc, request_trailers_reach_the_request_and_its_log);
    tcase_add_test(tc, a_per_directory_rewrite_to_a_backend_gets_its_request_body);
    tcase_add_test(tc, malformed_requests_count_as_stream_errors);
    tcase_add_test(tc, a_session_ended_on_a_data_frame_reads_nothing_after_it);
    tcase_add_test(tc, a_connection_error_in_the_first_read_comes_after_the_servers_settings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
