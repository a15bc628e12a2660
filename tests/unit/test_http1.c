/* Unit tests for the HTTP/1.1 request parser, the chunked decoder and the reason phrases.
 * Each request is parsed from an exactly sized heap copy so ASan sees any read past it. */
#include "http1.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static pt_arena_t *arena;
static pt_http1_request_t req;
static int status;
static char *copy;
static const pt_http1_limits_t limits = {.max_line = 8190, .max_fields = 100,
                                         .max_field_size = 8190};

static void setup(void)
{
    arena = pt_arena_create(0);
    copy = NULL;
    status = 0;
}

static void teardown(void)
{
    free(copy);
    pt_arena_destroy(arena);
}

static pt_http1_result_t parse_n_lim(const char *s, size_t n, const pt_http1_limits_t *lim)
{
    free(copy);
    copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    status = 0;
    return pt_http1_parse_head(copy, n, lim, arena, &req, &status);
}

static pt_http1_result_t parse_lim(const char *s, const pt_http1_limits_t *lim)
{
    return parse_n_lim(s, strlen(s), lim);
}

static pt_http1_result_t parse(const char *s)
{
    return parse_lim(s, &limits);
}

/* Asserts the request is refused with the given status. */
#define ck_status(s, st)                                                                  \
    do {                                                                                  \
        ck_assert_int_eq(parse(s), PT_HTTP1_ERROR);                                       \
        ck_assert_int_eq(status, (st));                                                   \
    } while (0)

#define ck_done(s) ck_assert_int_eq(parse(s), PT_HTTP1_DONE)

#define ck_str(slice, lit)                                                                \
    do {                                                                                  \
        pt_str_t s_ = (slice);                                                            \
        ck_assert_uint_eq(s_.len, strlen(lit));                                           \
        ck_assert(memcmp(s_.p, (lit), s_.len) == 0);                                      \
    } while (0)

/* ---- valid requests ---- */

START_TEST(parses_a_simple_get)
{
    const char *s = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
    ck_done(s);
    ck_str(req.method, "GET");
    ck_assert_int_eq(req.method_id, PT_METHOD_GET);
    ck_str(req.target, "/index.html");
    ck_str(req.path, "/index.html");
    ck_assert_ptr_null(req.query.p);
    ck_assert_uint_eq(req.query.len, 0);
    ck_assert_uint_eq(req.abs_host.len, 0);
    ck_assert_int_eq(req.version, 11);
    ck_assert_uint_eq(req.nheaders, 1);
    ck_str(req.headers[0].name, "Host");
    ck_str(req.headers[0].value, "example.com");
    ck_str(req.host, "example.com");
    ck_assert_int_eq(req.content_length, -1);
    ck_assert(!req.chunked);
    ck_assert(req.keep_alive);
    ck_assert(!req.expect_continue);
    ck_assert(!req.upgrade);
    ck_assert_uint_eq(req.head_len, strlen(s));
}
END_TEST

START_TEST(slices_point_into_the_input_buffer)
{
    ck_done("GET /a?b HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\n");
    ck_assert_ptr_eq(req.method.p, copy);
    ck_assert_ptr_eq(req.target.p, copy + 4);
    ck_assert_ptr_eq(req.path.p, copy + 4);
    ck_assert_ptr_eq(req.query.p, copy + 7);
    ck_assert_ptr_eq(req.headers[1].value.p, copy + 31);
}
END_TEST

static const struct {
    const char *name;
    pt_method_t id;
} methods[] = {
    {"GET", PT_METHOD_GET},         {"HEAD", PT_METHOD_HEAD},       {"POST", PT_METHOD_POST},
    {"PUT", PT_METHOD_PUT},         {"DELETE", PT_METHOD_DELETE},   {"OPTIONS", PT_METHOD_OPTIONS},
    {"TRACE", PT_METHOD_TRACE},     {"PATCH", PT_METHOD_PATCH},     {"PROPFIND", PT_METHOD_OTHER},
    {"get", PT_METHOD_OTHER},       {"GETS", PT_METHOD_OTHER},      {"M-SEARCH", PT_METHOD_OTHER},
};

START_TEST(recognises_every_method_by_name)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s /x HTTP/1.1\r\nHost: h\r\n\r\n", methods[_i].name);
    ck_done(buf);
    ck_assert_int_eq(req.method_id, methods[_i].id);
    ck_str(req.method, methods[_i].name);
}
END_TEST

START_TEST(parses_connect_with_authority_form)
{
    ck_done("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    ck_assert_int_eq(req.method_id, PT_METHOD_CONNECT);
    ck_str(req.target, "example.com:443");
    ck_str(req.host, "example.com:443");
}
END_TEST

START_TEST(splits_query_string_from_path)
{
    ck_done("GET /search/x?q=a+b&lang=en HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_str(req.path, "/search/x");
    ck_str(req.query, "q=a+b&lang=en");
}
END_TEST

START_TEST(keeps_an_empty_query_as_present)
{
    ck_done("GET /p? HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_str(req.path, "/p");
    ck_assert_ptr_nonnull(req.query.p);
    ck_assert_uint_eq(req.query.len, 0);
}
END_TEST

START_TEST(keeps_percent_encoded_path_as_sent)
{
    ck_done("GET /a%20b/%2e%2E/c%3F?x=%41 HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_str(req.path, "/a%20b/%2e%2E/c%3F");
    ck_str(req.query, "x=%41");
}
END_TEST

START_TEST(parses_many_headers_in_order)
{
    char buf[8192];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < 99; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-Field-%d: value %d\r\n", i, i);
    snprintf(buf + n, sizeof(buf) - n, "\r\n");
    ck_done(buf);
    ck_assert_uint_eq(req.nheaders, 100);
    ck_str(req.headers[0].name, "Host");
    ck_str(req.headers[64].name, "X-Field-63");
    ck_str(req.headers[64].value, "value 63");
    ck_str(req.headers[99].name, "X-Field-98");
    ck_str(req.headers[99].value, "value 98");
    ck_assert_uint_eq(req.head_len, strlen(buf));
}
END_TEST

START_TEST(trims_whitespace_around_field_values)
{
    ck_done("GET / HTTP/1.1\r\nHost:h\r\nX-A: \t a b \t \r\n\r\n");
    ck_str(req.headers[0].value, "h");
    ck_str(req.headers[1].value, "a b");
}
END_TEST

START_TEST(accepts_an_empty_field_value)
{
    ck_done("GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Blank:   \r\n\r\n");
    ck_assert_uint_eq(req.nheaders, 3);
    ck_assert_uint_eq(req.headers[1].value.len, 0);
    ck_assert_uint_eq(req.headers[2].value.len, 0);
}
END_TEST

START_TEST(accepts_obs_text_in_field_values)
{
    ck_done("GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\r\n\r\n");
    ck_str(req.headers[1].value, "caf\xc3\xa9");
}
END_TEST

START_TEST(finds_headers_case_insensitively)
{
    ck_done("GET / HTTP/1.1\r\nHost: h\r\nX-Dup: one\r\nx-dup: two\r\n\r\n");
    const pt_str_t *v = pt_http1_header(&req, "X-DUP");
    ck_assert_ptr_nonnull(v);
    ck_str(*v, "one");
    ck_assert_ptr_null(pt_http1_header(&req, "X-Du"));
    ck_assert_ptr_null(pt_http1_header(&req, "Missing"));
}
END_TEST

START_TEST(parses_a_pipelined_second_request_after_head_len)
{
    const char *s = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
    ck_done(s);
    ck_str(req.path, "/1");
    size_t first = req.head_len;
    ck_assert_uint_eq(first, strlen(s) / 2);
    pt_http1_request_t second;
    ck_assert_int_eq(pt_http1_parse_head(copy + first, strlen(s) - first, &limits, arena,
                                         &second, &status), PT_HTTP1_DONE);
    ck_str(second.path, "/2");
    ck_assert_uint_eq(second.head_len, strlen(s) - first);
}
END_TEST

/* Feeds s to pt_http1_parse_more step bytes at a time, each call on a new copy of the bytes
 * so far (as a connection buffer that was compacted or grown); the result of the last call. */
static pt_http1_result_t parse_in_pieces(const char *s, size_t step, char **buf)
{
    size_t len = strlen(s), have = 0;
    pt_http1_parser_t ps;
    pt_http1_parser_init(&ps);
    pt_http1_result_t r = PT_HTTP1_AGAIN;
    *buf = NULL;
    while (r == PT_HTTP1_AGAIN && have < len) {
        have = PT_MIN(len, have + step);
        free(*buf);
        *buf = malloc(have);
        memcpy(*buf, s, have);
        r = pt_http1_parse_more(&ps, *buf, have, &limits, arena, &req, &status);
    }
    return r;
}

/* RFC 9110's classes, written out again: the scan judges 16 bytes at a time where it can
 * and byte by byte elsewhere, and a byte must fare the same wherever it falls. */
static bool is_tchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

START_TEST(judges_every_byte_alike_wherever_it_falls_in_a_line)
{
    static const size_t at[] = {1, 5, 15, 16, 17, 30, 38};
    for (int c = 0; c < 256; c++) {
        for (size_t k = 0; k < PT_ARRAY_LEN(at); k++) {
            char part[41], s[256];
            memset(part, 'a', 40);
            part[40] = '\0';
            part[at[k]] = (char)c;
            bool in_target = c > 0x20 && c != 0x7f && c != '#';
            bool in_value = c == '\t' || (c >= 0x20 && c != 0x7f);
            bool in_name = is_tchar(c) || c == ':';
            /* Each line with the byte, and a copy of itself past it so that the scan of
             * the line does not stop at the end of the bytes. */
            size_t n = 41;
            memcpy(s, "GET /", 5);
            memcpy(s + 5, part, 40);
            n = 45 + (size_t)snprintf(s + 45, sizeof(s) - 45, " HTTP/1.1\r\nHost: h\r\n\r\n");
            ck_assert_int_eq(parse_n_lim(s, n, &limits) == PT_HTTP1_DONE, in_target);
            n = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: h\r\nX: ");
            memcpy(s + n, part, 40);
            n += 40 + (size_t)snprintf(s + n + 40, sizeof(s) - n - 40, "\r\nY: z\r\n\r\n");
            ck_assert_int_eq(parse_n_lim(s, n, &limits) == PT_HTTP1_DONE, in_value);
            n = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: h\r\n");
            memcpy(s + n, part, 40);
            n += 40 + (size_t)snprintf(s + n + 40, sizeof(s) - n - 40, ": v\r\nY: z\r\n\r\n");
            ck_assert_int_eq(parse_n_lim(s, n, &limits) == PT_HTTP1_DONE, in_name);
        }
    }
}
END_TEST

/* The scan keeps the first fields' slices and the rest are split again at the end: every
 * field comes out the same on either side of that line, in one piece or in many. */
START_TEST(every_field_is_sliced_the_same_wherever_it_is)
{
    char s[4096];
    size_t n = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 1; i < 40; i++)
        n += (size_t)snprintf(s + n, sizeof(s) - n, "X-F%d:%s%d v%s\r\n", i,
                              i % 3 == 0 ? "" : i % 3 == 1 ? " " : " \t ", i,
                              i % 2 ? "" : " \t");
    snprintf(s + n, sizeof(s) - n, "\r\n");
    for (size_t step = 0; step <= 5; step++) {
        char *buf = NULL;
        if (step == 0)
            ck_done(s);
        else
            ck_assert_int_eq(parse_in_pieces(s, step, &buf), PT_HTTP1_DONE);
        ck_assert_uint_eq(req.nheaders, 40);
        ck_str(req.headers[0].name, "Host");
        ck_str(req.headers[0].value, "h");
        for (int i = 1; i < 40; i++) {
            char name[16], value[16];
            snprintf(name, sizeof(name), "X-F%d", i);
            snprintf(value, sizeof(value), "%d v", i);
            ck_str(req.headers[i].name, name);
            ck_str(req.headers[i].value, value);
        }
        free(buf);
    }
}
END_TEST

START_TEST(a_head_in_pieces_parses_as_in_one_piece)
{
    const char *s = "\r\nPOST http://ex.com:8080/p/a?q=1 HTTP/1.1\r\nHost: ignored\r\n"
                    "Content-Length: 5\r\nConnection: keep-alive, Upgrade\r\nUpgrade: h2c\r\n"
                    "X-Empty:\r\nX-Pad: \t v a l \t\r\n\r\nhello";
    for (size_t step = 1; step <= 7; step++) {
        char *buf;
        ck_assert_int_eq(parse_in_pieces(s, step, &buf), PT_HTTP1_DONE);
        ck_assert_uint_eq(req.head_len, strlen(s) - 5);
        ck_str(req.method, "POST");
        ck_str(req.path, "/p/a");
        ck_str(req.query, "q=1");
        ck_str(req.host, "ex.com:8080");
        ck_assert_int_eq(req.content_length, 5);
        ck_assert(req.keep_alive && req.upgrade);
        ck_assert_uint_eq(req.nheaders, 6);
        ck_str(req.headers[4].value, "");
        ck_str(req.headers[5].value, "v a l");
        /* Every slice is in the last buffer, not in one of the earlier copies. */
        ck_assert(req.headers[5].value.p > buf && req.headers[5].value.p < buf + strlen(s));
        free(buf);
    }
}
END_TEST

START_TEST(a_head_in_pieces_is_refused_as_in_one_piece)
{
    static const struct {
        const char *s;
        int status;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
        {"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\nHost: h\r\n"
         "\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: zip\r\n\r\n", 501},
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(cases); i++) {
        for (size_t step = 1; step <= 5; step += 2) {
            char *buf;
            ck_assert_int_eq(parse_in_pieces(cases[i].s, step, &buf), PT_HTTP1_ERROR);
            ck_assert_int_eq(status, cases[i].status);
            free(buf);
        }
    }
}
END_TEST

START_TEST(a_line_past_its_limit_is_refused_before_it_ends)
{
    pt_http1_limits_t small = {.max_line = 20, .max_fields = 4, .max_field_size = 16};
    /* 20 bytes of request line are within the limit; a 21st is one too many, even before
     * the line is whole. */
    ck_assert_int_eq(parse_lim("GET /012345 HTTP/1.1", &small), PT_HTTP1_AGAIN);
    ck_assert_int_eq(parse_lim("GET /0123456 HTTP/1.1", &small), PT_HTTP1_ERROR);
    ck_assert_int_eq(status, 414);
    ck_assert_int_eq(parse_lim("GET / HTTP/1.1\r\nHost: h\r\nX-Long: 0123456789", &small),
                     PT_HTTP1_ERROR);
    ck_assert_int_eq(status, 431);
    ck_assert_int_eq(parse_lim("GET / HTTP/1.1\r\nHost: h\r\nX-Long: 01234567\r", &small),
                     PT_HTTP1_AGAIN);
}
END_TEST

START_TEST(accepts_http10_without_host)
{
    ck_done("GET / HTTP/1.0\r\n\r\n");
    ck_assert_int_eq(req.version, 10);
    ck_assert_uint_eq(req.host.len, 0);
    ck_assert_uint_eq(req.nheaders, 0);
    ck_assert_ptr_null(req.headers);
}
END_TEST

/* The authority check reads a host and a port four bytes at a time, then byte by byte: a
 * byte outside reg-name in the host ('@', '/') or a non-digit in the port is refused at any
 * place of any length, in Host and in CONNECT's target alike; clean ones are taken whole. */
START_TEST(a_bad_authority_byte_is_refused_at_any_place)
{
    for (size_t hl = 1; hl <= 13; hl++) {
        for (size_t pl = 0; pl <= 6; pl++) {
            char auth[32];
            memset(auth, 'a', hl);
            if (pl > 0) {
                auth[hl] = ':';
                memset(auth + hl + 1, '7', pl);
            }
            size_t n = hl + (pl > 0 ? pl + 1 : 0);
            auth[n] = '\0';
            char s[128];
            snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", auth);
            ck_done(s);
            ck_str(req.host, auth);
            if (pl > 0) {
                snprintf(s, sizeof(s), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", auth, auth);
                ck_done(s);
            }
            for (size_t at = 0; at < n; at++) {
                if (at == hl)
                    continue; /* the colon */
                char bad[32];
                memcpy(bad, auth, n + 1);
                bad[at] = at < hl ? (at % 2 ? '@' : '/') : 'x';
                snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", bad);
                ck_status(s, 400);
                if (pl > 0) {
                    snprintf(s, sizeof(s), "CONNECT %s HTTP/1.1\r\nHost: h\r\n\r\n", bad);
                    ck_status(s, 400);
                }
            }
        }
    }
}
END_TEST

/* The framing and routing fields are looked at only when their name's length and first
 * letter fit: each is still taken in upper, lower and mixed case. */
START_TEST(framing_fields_are_taken_in_any_case)
{
    static const char *const heads[] = {
        "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\nexpect: 100-continue\r\n"
        "connection: close, upgrade\r\nupgrade: x\r\n\r\n",
        "POST / HTTP/1.1\r\nHOST: h\r\nCONTENT-LENGTH: 3\r\nEXPECT: 100-continue\r\n"
        "CONNECTION: close, upgrade\r\nUPGRADE: x\r\n\r\n",
        "POST / HTTP/1.1\r\nhOsT: h\r\ncOnTeNt-LeNgTh: 3\r\neXpEcT: 100-continue\r\n"
        "cOnNeCtIoN: close, upgrade\r\nuPgRaDe: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        ck_done(heads[i]);
        ck_str(req.host, "h");
        ck_assert_int_eq(req.content_length, 3);
        ck_assert(req.expect_continue);
        ck_assert(!req.keep_alive);
        ck_assert(req.upgrade);
    }
    static const char *const te[] = {"transfer-encoding", "TRANSFER-ENCODING",
                                     "tRaNsFeR-eNcOdInG"};
    for (size_t i = 0; i < sizeof(te) / sizeof(te[0]); i++) {
        char s[128];
        snprintf(s, sizeof(s), "POST / HTTP/1.1\r\nHost: h\r\n%s: chunked\r\n\r\n", te[i]);
        ck_done(s);
        ck_assert(req.chunked);
        snprintf(s, sizeof(s), "GET / HTTP/1.1\r\n%s: chunked\r\n\r\n", te[i]);
        ck_status(s, 400); /* and a missing Host is still missed */
    }
    /* Two Hosts, whatever their case, are one too many. */
    ck_status("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n", 400);
}
END_TEST

START_TEST(skips_leading_empty_lines_and_counts_them)
{
    const char *s = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
    ck_done(s);
    ck_str(req.method, "GET");
    ck_assert_uint_eq(req.head_len, strlen(s));
}
END_TEST

START_TEST(rejects_too_many_leading_empty_lines)
{
    ck_status("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}
END_TEST

START_TEST(reads_content_length)
{
    ck_done("POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 1234\r\n\r\n");
    ck_assert_int_eq(req.content_length, 1234);
    ck_done("POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    ck_assert_int_eq(req.content_length, 0);
    ck_done("POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n");
    ck_assert_int_eq(req.content_length, INT64_MAX);
}
END_TEST

START_TEST(accepts_identical_repeated_content_lengths)
{
    ck_done("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n");
    ck_assert_int_eq(req.content_length, 5);
    ck_done("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n");
    ck_assert_int_eq(req.content_length, 5);
    ck_done("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7,7 ,\t7\r\n\r\n");
    ck_assert_int_eq(req.content_length, 7);
}
END_TEST

START_TEST(reads_chunked_transfer_encoding)
{
    ck_done("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    ck_assert(req.chunked);
    ck_assert_int_eq(req.content_length, -1);
    ck_done("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n");
    ck_assert(req.chunked);
    ck_done("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
            "Transfer-Encoding: chunked\r\n\r\n");
    ck_assert(req.chunked);
}
END_TEST

START_TEST(http11_keeps_alive_by_default)
{
    ck_done("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert(req.keep_alive);
}
END_TEST

START_TEST(http11_closes_on_connection_close_in_a_token_list)
{
    ck_done("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, CLOSE\r\n\r\n");
    ck_assert(!req.keep_alive);
    ck_done("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n");
    ck_assert(!req.keep_alive);
    ck_done("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n");
    ck_assert(req.keep_alive);
}
END_TEST

START_TEST(http10_keeps_alive_only_when_asked)
{
    ck_done("GET / HTTP/1.0\r\n\r\n");
    ck_assert(!req.keep_alive);
    ck_done("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    ck_assert(req.keep_alive);
    ck_done("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
    ck_assert(!req.keep_alive);
}
END_TEST

START_TEST(sets_expect_continue_on_http11)
{
    ck_done("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n");
    ck_assert(req.expect_continue);
    ck_done("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n");
    ck_assert(!req.expect_continue);
    ck_done("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
    ck_assert(!req.expect_continue);
}
END_TEST

START_TEST(sets_upgrade_only_with_connection_token_and_upgrade_field)
{
    ck_done("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
            "Upgrade: websocket\r\n\r\n");
    ck_assert(req.upgrade);
    ck_done("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n");
    ck_assert(!req.upgrade);
    ck_done("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n");
    ck_assert(!req.upgrade);
}
END_TEST

START_TEST(absolute_form_sets_host_path_and_query)
{
    ck_done("GET http://example.com:8080/p?q HTTP/1.1\r\nHost: other.org\r\n\r\n");
    ck_str(req.abs_host, "example.com:8080");
    ck_str(req.host, "example.com:8080");
    ck_str(req.path, "/p");
    ck_str(req.query, "q");
    ck_str(req.headers[0].value, "other.org");
}
END_TEST

START_TEST(absolute_form_without_path_means_root)
{
    ck_done("GET https://Example.COM HTTP/1.1\r\nHost: example.com\r\n\r\n");
    ck_str(req.abs_host, "Example.COM");
    ck_str(req.path, "/");
    ck_done("GET http://[::1]:80?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    ck_str(req.abs_host, "[::1]:80");
    ck_str(req.path, "/");
    ck_str(req.query, "x=1");
}
END_TEST

START_TEST(accepts_options_asterisk)
{
    ck_done("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_str(req.path, "*");
    ck_str(req.target, "*");
}
END_TEST

START_TEST(accepts_ip_literal_and_port_in_host)
{
    ck_done("GET / HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n");
    ck_str(req.host, "[2001:db8::1]:8443");
    ck_done("GET / HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n");
    ck_str(req.host, "192.0.2.1");
    ck_done("GET / HTTP/1.1\r\nHost: xn--caf-dma.example:80\r\n\r\n");
}
END_TEST

/* ---- incomplete input ---- */

START_TEST(returns_again_on_every_prefix_of_a_valid_head)
{
    const char *s = "\r\nPOST /a?b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX:  y \r\n\r\n";
    for (size_t n = 0; n < strlen(s); n++)
        ck_assert_msg(parse_n_lim(s, n, &limits) == PT_HTTP1_AGAIN, "prefix %zu", n);
    ck_assert_int_eq(parse_n_lim(s, strlen(s), &limits), PT_HTTP1_DONE);
}
END_TEST

/* ---- limits ---- */

START_TEST(rejects_a_long_request_line_with_414)
{
    pt_http1_limits_t lim = {.max_line = 20, .max_fields = 10, .max_field_size = 100};
    ck_assert_int_eq(parse_lim("GET /0123456789 HTTP/1.1\r\nHost: h\r\n\r\n", &lim),
                     PT_HTTP1_ERROR);
    ck_assert_int_eq(status, 414);
    /* exactly at the limit is fine */
    ck_assert_int_eq(parse_lim("GET /012345 HTTP/1.1\r\nHost: h\r\n\r\n", &lim), PT_HTTP1_DONE);
}
END_TEST

START_TEST(rejects_an_incomplete_request_line_past_the_limit_with_414)
{
    pt_http1_limits_t lim = {.max_line = 20, .max_fields = 10, .max_field_size = 100};
    ck_assert_int_eq(parse_lim("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &lim), PT_HTTP1_ERROR);
    ck_assert_int_eq(status, 414);
    ck_assert_int_eq(parse_lim("GETGETGETGETGETGETGETGET", &lim), PT_HTTP1_ERROR);
    ck_assert_int_eq(status, 414);
    ck_assert_int_eq(parse_lim("GET /aaaaaaaaaaaaaa", &lim), PT_HTTP1_AGAIN);
}
END_TEST

START_TEST(rejects_more_fields_than_the_limit_with_431)
{
    pt_http1_limits_t lim = {.max_line = 100, .max_fields = 2, .max_field_size = 100};
    ck_assert_int_eq(parse_lim("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n", &lim), PT_HTTP1_DONE);
    ck_assert_int_eq(parse_lim("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", &lim),
                     PT_HTTP1_ERROR);
    ck_assert_int_eq(status, 431);
    /* detected before the head is complete */
    ck_assert_int_eq(parse_lim("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB", &lim), PT_HTTP1_ERROR);
    ck_assert_int_eq(status, 431);
}
END_TEST

START_TEST(rejects_a_long_field_line_with_431)
{
    pt_http1_limits_t lim = {.max_line = 100, .max_fields = 10, .max_field_size = 10};
    ck_assert_int_eq(parse_lim("GET / HTTP/1.1\r\nHost: h\r\nX: 1234567\r\n\r\n", &lim),
                     PT_HTTP1_DONE);
    ck_assert_int_eq(parse_lim("GET / HTTP/1.1\r\nHost: h\r\nX: 12345678\r\n\r\n", &lim),
                     PT_HTTP1_ERROR);
    ck_assert_int_eq(status, 431);
}
END_TEST

START_TEST(rejects_an_incomplete_field_line_past_the_limit_with_431)
{
    pt_http1_limits_t lim = {.max_line = 100, .max_fields = 10, .max_field_size = 10};
    ck_assert_int_eq(parse_lim("GET / HTTP/1.1\r\nHost: h\r\nX: 12345678", &lim),
                     PT_HTTP1_ERROR);
    ck_assert_int_eq(status, 431);
    ck_assert_int_eq(parse_lim("GET / HTTP/1.1\r\nHost: h\r\nXXXXXXXXXXXXXXXX", &lim),
                     PT_HTTP1_ERROR);
    ck_assert_int_eq(status, 431);
    ck_assert_int_eq(parse_lim("GET / HTTP/1.1\r\nHost: h\r\nX: 1234567\r", &lim),
                     PT_HTTP1_AGAIN);
}
END_TEST

/* ---- framing errors ---- */

START_TEST(rejects_content_length_with_transfer_encoding)
{
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
              "Transfer-Encoding: chunked\r\n\r\n", 400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
              "Content-Length: 5\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_differing_content_lengths)
{
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
              400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_signed_content_length)
{
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -5\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_content_length_with_inner_space_or_non_digits)
{
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", 400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12a\r\n\r\n", 400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", 400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_empty_content_length)
{
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:   \r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_content_length_past_int64)
{
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n", 400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
              400);
}
END_TEST

START_TEST(rejects_transfer_encoding_not_ending_in_chunked)
{
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
              "Transfer-Encoding: deflate\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_unknown_transfer_coding_with_501)
{
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: br, chunked\r\n\r\n", 501);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n", 501);
}
END_TEST

START_TEST(rejects_identity_transfer_coding_with_501)
{
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", 501);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity, chunked\r\n\r\n", 501);
}
END_TEST

START_TEST(rejects_chunked_twice)
{
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
              "Transfer-Encoding: chunked\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_malformed_transfer_encoding_lists)
{
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", 400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked,\r\n\r\n", 400);
    ck_status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_transfer_encoding_in_http10)
{
    ck_status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}
END_TEST

/* ---- field syntax ---- */

START_TEST(rejects_obs_fold)
{
    ck_status("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n  folded\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tfolded\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_whitespace_between_field_name_and_colon)
{
    ck_status("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding\t: chunked\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_empty_field_name)
{
    ck_status("GET / HTTP/1.1\r\nHost: h\r\n: value\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_invalid_characters_in_field_name)
{
    ck_status("GET / HTTP/1.1\r\nHost: h\r\nX(A): 1\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: h\r\nX\"A: 1\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: 1\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_nul_in_field_value)
{
    static const char s[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
    ck_assert_int_eq(parse_n_lim(s, sizeof(s) - 1, &limits), PT_HTTP1_ERROR);
    ck_assert_int_eq(status, 400);
}
END_TEST

START_TEST(rejects_bare_cr_in_field_value)
{
    ck_status("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_control_characters_in_field_value)
{
    ck_status("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01" "b\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_bare_lf_as_line_terminator)
{
    ck_status("GET / HTTP/1.1\nHost: h\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: h\r\n\n", 400);
    ck_status("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    /* detected even before the rest arrives */
    ck_status("GET / HTTP/1.1\n", 400);
}
END_TEST

START_TEST(rejects_cr_not_followed_by_lf_at_end_of_head)
{
    ck_status("GET / HTTP/1.1\r\nHost: h\r\n\rX", 400);
    ck_status("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}
END_TEST

/* ---- request line ---- */

START_TEST(rejects_extra_spaces_in_request_line)
{
    ck_status("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
    ck_status(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_a_method_that_is_not_a_token)
{
    ck_status("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("G\xc3\x89T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_an_empty_or_invalid_target)
{
    ck_status("GET  HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_a_request_line_without_version)
{
    ck_status("GET /\r\n\r\n", 400);
    ck_status("GET / \r\nHost: h\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_malformed_versions_with_400)
{
    ck_status("GET / http/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET / HTTP/1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET / HTTP/11.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET / HTTP/a.b\r\nHost: h\r\n\r\n", 400);
    ck_status("GET / HTTPS/1.1\r\nHost: h\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_other_well_formed_versions_with_505)
{
    ck_status("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
    ck_status("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505);
    ck_status("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505);
    ck_status("GET / HTTP/3.0\r\n\r\n", 505);
}
END_TEST

START_TEST(rejects_asterisk_outside_options)
{
    ck_status("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_authority_form_outside_connect)
{
    ck_status("GET example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_connect_without_authority_form)
{
    ck_status("CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("CONNECT http://example.com:80/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_malformed_absolute_form)
{
    ck_status("GET http:/example.com/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET http:///p HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET http://user@example.com/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    ck_status("GET 1http://example.com/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}
END_TEST

/* ---- Host ---- */

START_TEST(rejects_http11_without_host)
{
    ck_status("GET / HTTP/1.1\r\n\r\n", 400);
    ck_status("GET http://example.com/ HTTP/1.1\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_several_host_fields)
{
    ck_status("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
    ck_status("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400);
}
END_TEST

START_TEST(rejects_host_with_invalid_characters)
{
    ck_status("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400);
    ck_status("GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400);
}
END_TEST

/* ---- chunked decoder ---- */

/* Decodes all of in, split into pieces of at most step bytes; returns the last result and
 * appends decoded data to out. */
static pt_chunk_result_t decode_all(pt_chunked_t *c, const char *in, size_t len, size_t step,
                                    char *out, size_t *outlen, size_t *used)
{
    pt_chunk_result_t r = PT_CHUNK_AGAIN;
    size_t off = 0;
    *outlen = 0;
    while (off < len) {
        size_t n = PT_MIN(step, len - off), consumed = 0;
        char *piece = malloc(n);
        memcpy(piece, in + off, n);
        size_t pos = 0;
        for (;;) {
            pt_str_t d;
            r = pt_chunked_decode(c, piece + pos, n - pos, &consumed, &d);
            ck_assert_uint_le(consumed, n - pos);
            pos += consumed;
            if (r == PT_CHUNK_DATA) {
                ck_assert_uint_gt(d.len, 0);
                memcpy(out + *outlen, d.p, d.len);
                *outlen += d.len;
                continue;
            }
            break;
        }
        free(piece);
        off += pos;
        if (r == PT_CHUNK_END || r == PT_CHUNK_ERROR)
            break;
        ck_assert_uint_eq(pos, n);
    }
    *used = off;
    return r;
}

static pt_chunk_result_t chunk_run(const char *in, char *out, size_t *outlen)
{
    pt_chunked_t c;
    size_t used;
    pt_chunked_init(&c);
    return decode_all(&c, in, strlen(in), strlen(in), out, outlen, &used);
}

START_TEST(decodes_a_chunked_body)
{
    const char *in = "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\nNEXT";
    pt_chunked_t c;
    char out[64];
    size_t outlen, used;
    pt_chunked_init(&c);
    ck_assert_int_eq(decode_all(&c, in, strlen(in), 1000, out, &outlen, &used), PT_CHUNK_END);
    ck_assert_uint_eq(outlen, 12);
    ck_assert(memcmp(out, "hello, world", 12) == 0);
    ck_assert_uint_eq(c.total, 12);
    ck_assert_uint_eq(used, strlen(in) - 4);
}
END_TEST

START_TEST(decodes_a_chunked_body_fed_one_byte_at_a_time)
{
    const char *in = "1a;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\nA \t;x\r\n0123456789\r\n"
                     "0\r\nTrailer: one\r\nX: two\r\n\r\n";
    const char *want = "abcdefghijklmnopqrstuvwxyz0123456789";
    char whole[128], bytes[128];
    size_t wlen, blen, used;
    pt_chunked_t c;
    pt_chunked_init(&c);
    ck_assert_int_eq(decode_all(&c, in, strlen(in), strlen(in), whole, &wlen, &used),
                     PT_CHUNK_END);
    pt_chunked_init(&c);
    ck_assert_int_eq(decode_all(&c, in, strlen(in), 1, bytes, &blen, &used), PT_CHUNK_END);
    ck_assert_uint_eq(used, strlen(in));
    ck_assert_uint_eq(wlen, strlen(want));
    ck_assert_uint_eq(blen, strlen(want));
    ck_assert(memcmp(whole, want, wlen) == 0);
    ck_assert(memcmp(bytes, want, blen) == 0);
    ck_assert_uint_eq(c.total, strlen(want));
}
END_TEST

START_TEST(reads_chunk_sizes_in_either_case)
{
    char out[64];
    size_t n;
    ck_assert_int_eq(chunk_run("a\r\n0123456789\r\nB\r\n0123456789X\r\n0\r\n\r\n", out, &n),
                     PT_CHUNK_END);
    ck_assert_uint_eq(n, 21);
    ck_assert_int_eq(chunk_run("000000000000000A\r\n0123456789\r\n0\r\n\r\n", out, &n),
                     PT_CHUNK_END);
    ck_assert_uint_eq(n, 10);
}
END_TEST

START_TEST(rejects_an_empty_or_non_hex_chunk_size)
{
    char out[64];
    size_t n;
    ck_assert_int_eq(chunk_run("\r\nabc\r\n0\r\n\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run(";ext\r\n0\r\n\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run("g\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run("-1\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run("0x5\r\n", out, &n), PT_CHUNK_ERROR);
}
END_TEST

START_TEST(rejects_an_overflowing_chunk_size)
{
    char out[64];
    size_t n;
    ck_assert_int_eq(chunk_run("00000000000000001\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run("8000000000000000\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run("FFFFFFFFFFFFFFFF\r\n", out, &n), PT_CHUNK_ERROR);
    pt_chunked_t c;
    pt_str_t d;
    pt_chunked_init(&c);
    ck_assert_int_eq(pt_chunked_decode(&c, "7FFFFFFFFFFFFFFF\r\nab", 20, &n, &d), PT_CHUNK_DATA);
    ck_assert_uint_eq(c.remaining, (uint64_t)INT64_MAX - 2);
}
END_TEST

START_TEST(accepts_blanks_before_extension_but_not_inside_size)
{
    char out[64];
    size_t n;
    ck_assert_int_eq(chunk_run("3 \t ;ext=1\r\nabc\r\n0\r\n\r\n", out, &n), PT_CHUNK_END);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(chunk_run("1 0\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run("3 \r\nabc\r\n0\r\n\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run(" 3\r\nabc\r\n0\r\n\r\n", out, &n), PT_CHUNK_ERROR);
}
END_TEST

START_TEST(bounds_chunk_extensions)
{
    static char in[PT_CHUNK_EXT_MAX + 64];
    char out[64];
    size_t n;
    strcpy(in, "3;");
    memset(in + 2, 'x', PT_CHUNK_EXT_MAX - 1);
    strcpy(in + 1 + PT_CHUNK_EXT_MAX, "\r\nabc\r\n0\r\n\r\n");
    ck_assert_int_eq(chunk_run(in, out, &n), PT_CHUNK_END);
    strcpy(in, "3;");
    memset(in + 2, 'x', PT_CHUNK_EXT_MAX);
    strcpy(in + 2 + PT_CHUNK_EXT_MAX, "\r\nabc\r\n0\r\n\r\n");
    ck_assert_int_eq(chunk_run(in, out, &n), PT_CHUNK_ERROR);
}
END_TEST

START_TEST(bounds_trailer_lines)
{
    static char in[PT_CHUNK_EXT_MAX + 64];
    char out[64];
    size_t n;
    strcpy(in, "0\r\n");
    memset(in + 3, 'x', PT_CHUNK_EXT_MAX);
    strcpy(in + 3 + PT_CHUNK_EXT_MAX, "\r\n\r\n");
    ck_assert_int_eq(chunk_run(in, out, &n), PT_CHUNK_END);
    strcpy(in, "0\r\n");
    memset(in + 3, 'x', PT_CHUNK_EXT_MAX + 1);
    strcpy(in + 4 + PT_CHUNK_EXT_MAX, "\r\n\r\n");
    ck_assert_int_eq(chunk_run(in, out, &n), PT_CHUNK_ERROR);
}
END_TEST

START_TEST(requires_crlf_after_chunk_data)
{
    char out[64];
    size_t n;
    ck_assert_int_eq(chunk_run("3\r\nabcX\r\n0\r\n\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run("3\r\nabc\n0\r\n\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run("3\r\nabc\rX0\r\n\r\n", out, &n), PT_CHUNK_ERROR);
}
END_TEST

START_TEST(rejects_bare_lf_in_chunk_framing)
{
    char out[64];
    size_t n;
    ck_assert_int_eq(chunk_run("3\nabc\r\n0\r\n\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run("3;a\nabc\r\n0\r\n\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run("0\r\nX: y\n\r\n", out, &n), PT_CHUNK_ERROR);
    ck_assert_int_eq(chunk_run("0\r\n\n", out, &n), PT_CHUNK_ERROR);
}
END_TEST

START_TEST(discards_trailer_fields)
{
    char out[64];
    size_t n;
    ck_assert_int_eq(chunk_run("2\r\nab\r\n0\r\nA: 1\r\nB: 2\r\n\r\n", out, &n), PT_CHUNK_END);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(chunk_run("0\r\nA: 1\r\n folded\r\n\r\n", out, &n), PT_CHUNK_ERROR);
}
END_TEST

/* "0\r\n", n trailer lines "X-Tnnnn: vvv...v" of line bytes each, then the final CRLF. */
static char *trailers(size_t n, size_t line, size_t *len)
{
    char *in = malloc(3 + n * (line + 2) + 3);
    size_t off = 0;
    memcpy(in, "0\r\n", 3);
    off = 3;
    for (size_t i = 0; i < n; i++) {
        int k = sprintf(in + off, "X-T%04zu: ", i % 10000);
        memset(in + off + k, 'v', line - (size_t)k);
        off += line;
        memcpy(in + off, "\r\n", 2);
        off += 2;
    }
    memcpy(in + off, "\r\n", 3);
    *len = off + 2;
    return in;
}

static pt_chunk_result_t decode_trailers(size_t n, size_t line, size_t max_fields,
                                         size_t max_line, const char **why)
{
    size_t len, outlen, used;
    char out[8];
    char *in = trailers(n, line, &len);
    pt_chunked_t c;
    pt_chunked_init(&c);
    pt_chunked_limit_trailers(&c, max_fields, max_line);
    pt_chunk_result_t r = decode_all(&c, in, len, 100, out, &outlen, &used);
    *why = c.error;
    free(in);
    return r;
}

START_TEST(counts_trailer_fields_against_the_field_limit)
{
    const char *why;
    ck_assert_int_eq(decode_trailers(100, 20, 100, 8190, &why), PT_CHUNK_END);
    ck_assert_int_eq(decode_trailers(101, 20, 100, 8190, &why), PT_CHUNK_ERROR);
    ck_assert_str_eq(why, "more trailer fields than LimitRequestFields");
    ck_assert_int_eq(decode_trailers(5, 20, 4, 8190, &why), PT_CHUNK_ERROR);
    /* Without limits from the config, the default count still bounds them. */
    ck_assert_int_eq(decode_trailers(5000, 20, 0, 0, &why), PT_CHUNK_ERROR);
}
END_TEST

START_TEST(bounds_each_trailer_field_by_the_field_size_limit)
{
    const char *why;
    ck_assert_int_eq(decode_trailers(1, 8190, 100, 8190, &why), PT_CHUNK_END);
    ck_assert_int_eq(decode_trailers(1, 8191, 100, 8190, &why), PT_CHUNK_ERROR);
    ck_assert_str_eq(why, "trailer field larger than LimitRequestFieldSize");
    ck_assert_int_eq(decode_trailers(1, 200, 100, 100, &why), PT_CHUNK_ERROR);
}
END_TEST

START_TEST(bounds_the_whole_trailer_section)
{
    const char *why;
    /* 50 fields of 1,000 bytes fit; 70 pass PT_CHUNK_TRAILERS_MAX though each is allowed. */
    ck_assert_int_eq(decode_trailers(50, 1000, 1000, 8190, &why), PT_CHUNK_END);
    ck_assert_int_eq(decode_trailers(70, 1000, 1000, 8190, &why), PT_CHUNK_ERROR);
    ck_assert_str_eq(why, "trailer section larger than its bound");
}
END_TEST

START_TEST(waits_for_more_input_and_stays_finished)
{
    pt_chunked_t c;
    pt_str_t d;
    size_t n;
    pt_chunked_init(&c);
    ck_assert_int_eq(pt_chunked_decode(&c, "0", 1, &n, &d), PT_CHUNK_AGAIN);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(pt_chunked_decode(&c, "", 0, &n, &d), PT_CHUNK_AGAIN);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(pt_chunked_decode(&c, "\r\n\r\n\r\n", 6, &n, &d), PT_CHUNK_END);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(c.total, 0);
    ck_assert_int_eq(pt_chunked_decode(&c, "xx", 2, &n, &d), PT_CHUNK_END);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(stays_in_error_after_a_framing_error)
{
    pt_chunked_t c;
    pt_str_t d;
    size_t n;
    pt_chunked_init(&c);
    ck_assert_int_eq(pt_chunked_decode(&c, "z", 1, &n, &d), PT_CHUNK_ERROR);
    ck_assert_int_eq(pt_chunked_decode(&c, "0\r\n\r\n", 5, &n, &d), PT_CHUNK_ERROR);
}
END_TEST

/* ---- reason phrases ---- */

START_TEST(knows_the_common_reason_phrases)
{
    static const int codes[] = {100, 101, 200, 201, 202, 203, 204, 205, 206, 300, 301, 302,
                                303, 304, 305, 306, 307, 308, 400, 401, 402, 403, 404, 405,
                                406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417,
                                418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500,
                                501, 502, 503, 504, 505};
    for (size_t i = 0; i < PT_ARRAY_LEN(codes); i++)
        ck_assert_str_ne(pt_http_reason(codes[i]), "Unknown");
    ck_assert_str_eq(pt_http_reason(200), "OK");
    ck_assert_str_eq(pt_http_reason(404), "Not Found");
    ck_assert_str_eq(pt_http_reason(414), "URI Too Long");
    ck_assert_str_eq(pt_http_reason(431), "Request Header Fields Too Large");
    ck_assert_str_eq(pt_http_reason(505), "HTTP Version Not Supported");
    ck_assert_str_eq(pt_http_reason(427), "Unknown");
    ck_assert_str_eq(pt_http_reason(999), "Unknown");
    ck_assert_str_eq(pt_http_reason(-1), "Unknown");
}
END_TEST

static Suite *http1_suite(void)
{
    Suite *s = suite_create("http1");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, parses_a_simple_get);
    tcase_add_test(tc, slices_point_into_the_input_buffer);
    tcase_add_loop_test(tc, recognises_every_method_by_name, 0, (int)PT_ARRAY_LEN(methods));
    tcase_add_test(tc, parses_connect_with_authority_form);
    tcase_add_test(tc, splits_query_string_from_path);
    tcase_add_test(tc, keeps_an_empty_query_as_present);
    tcase_add_test(tc, keeps_percent_encoded_path_as_sent);
    tcase_add_test(tc, parses_many_headers_in_order);
    tcase_add_test(tc, every_field_is_sliced_the_same_wherever_it_is);
    tcase_add_test(tc, judges_every_byte_alike_wherever_it_falls_in_a_line);
    tcase_add_test(tc, trims_whitespace_around_field_values);
    tcase_add_test(tc, accepts_an_empty_field_value);
    tcase_add_test(tc, accepts_obs_text_in_field_values);
    tcase_add_test(tc, finds_headers_case_insensitively);
    tcase_add_test(tc, parses_a_pipelined_second_request_after_head_len);
    tcase_add_test(tc, a_head_in_pieces_parses_as_in_one_piece);
    tcase_add_test(tc, a_head_in_pieces_is_refused_as_in_one_piece);
    tcase_add_test(tc, a_line_past_its_limit_is_refused_before_it_ends);
    tcase_add_test(tc, accepts_http10_without_host);
    tcase_add_test(tc, skips_leading_empty_lines_and_counts_them);
    tcase_add_test(tc, a_bad_authority_byte_is_refused_at_any_place);
    tcase_add_test(tc, framing_fields_are_taken_in_any_case);
    tcase_add_test(tc, rejects_too_many_leading_empty_lines);
    tcase_add_test(tc, reads_content_length);
    tcase_add_test(tc, accepts_identical_repeated_content_lengths);
    tcase_add_test(tc, reads_chunked_transfer_encoding);
    tcase_add_test(tc, http11_keeps_alive_by_default);
    tcase_add_test(tc, http11_closes_on_connection_close_in_a_token_list);
    tcase_add_test(tc, http10_keeps_alive_only_when_asked);
    tcase_add_test(tc, sets_expect_continue_on_http11);
    tcase_add_test(tc, sets_upgrade_only_with_connection_token_and_upgrade_field);
    tcase_add_test(tc, absolute_form_sets_host_path_and_query);
    tcase_add_test(tc, absolute_form_without_path_means_root);
    tcase_add_test(tc, accepts_options_asterisk);
    tcase_add_test(tc, accepts_ip_literal_and_port_in_host);
    tcase_add_test(tc, returns_again_on_every_prefix_of_a_valid_head);
    tcase_add_test(tc, rejects_a_long_request_line_with_414);
    tcase_add_test(tc, rejects_an_incomplete_request_line_past_the_limit_with_414);
    tcase_add_test(tc, rejects_more_fields_than_the_limit_with_431);
    tcase_add_test(tc, rejects_a_long_field_line_with_431);
    tcase_add_test(tc, rejects_an_incomplete_field_line_past_the_limit_with_431);
    tcase_add_test(tc, rejects_content_length_with_transfer_encoding);
    tcase_add_test(tc, rejects_differing_content_lengths);
    tcase_add_test(tc, rejects_signed_content_length);
    tcase_add_test(tc, rejects_content_length_with_inner_space_or_non_digits);
    tcase_add_test(tc, rejects_empty_content_length);
    tcase_add_test(tc, rejects_content_length_past_int64);
    tcase_add_test(tc, rejects_transfer_encoding_not_ending_in_chunked);
    tcase_add_test(tc, rejects_unknown_transfer_coding_with_501);
    tcase_add_test(tc, rejects_identity_transfer_coding_with_501);
    tcase_add_test(tc, rejects_chunked_twice);
    tcase_add_test(tc, rejects_malformed_transfer_encoding_lists);
    tcase_add_test(tc, rejects_transfer_encoding_in_http10);
    tcase_add_test(tc, rejects_obs_fold);
    tcase_add_test(tc, rejects_whitespace_between_field_name_and_colon);
    tcase_add_test(tc, rejects_empty_field_name);
    tcase_add_test(tc, rejects_invalid_characters_in_field_name);
    tcase_add_test(tc, rejects_nul_in_field_value);
    tcase_add_test(tc, rejects_bare_cr_in_field_value);
    tcase_add_test(tc, rejects_control_characters_in_field_value);
    tcase_add_test(tc, rejects_bare_lf_as_line_terminator);
    tcase_add_test(tc, rejects_cr_not_followed_by_lf_at_end_of_head);
    tcase_add_test(tc, rejects_extra_spaces_in_request_line);
    tcase_add_test(tc, rejects_a_method_that_is_not_a_token);
    tcase_add_test(tc, rejects_an_empty_or_invalid_target);
    tcase_add_test(tc, rejects_a_request_line_without_version);
    tcase_add_test(tc, rejects_malformed_versions_with_400);
    tcase_add_test(tc, rejects_other_well_formed_versions_with_505);
    tcase_add_test(tc, rejects_asterisk_outside_options);
    tcase_add_test(tc, rejects_authority_form_outside_connect);
    tcase_add_test(tc, rejects_connect_without_authority_form);
    tcase_add_test(tc, rejects_malformed_absolute_form);
    tcase_add_test(tc, rejects_http11_without_host);
    tcase_add_test(tc, rejects_several_host_fields);
    tcase_add_test(tc, rejects_host_with_invalid_characters);
    suite_add_tcase(s, tc);

    TCase *tcc = tcase_create("chunked");
    tcase_set_timeout(tcc, 10);
    tcase_add_test(tcc, decodes_a_chunked_body);
    tcase_add_test(tcc, decodes_a_chunked_body_fed_one_byte_at_a_time);
    tcase_add_test(tcc, reads_chunk_sizes_in_either_case);
    tcase_add_test(tcc, rejects_an_empty_or_non_hex_chunk_size);
    tcase_add_test(tcc, rejects_an_overflowing_chunk_size);
    tcase_add_test(tcc, accepts_blanks_before_extension_but_not_inside_size);
    tcase_add_test(tcc, bounds_chunk_extensions);
    tcase_add_test(tcc, bounds_trailer_lines);
    tcase_add_test(tcc, requires_crlf_after_chunk_data);
    tcase_add_test(tcc, rejects_bare_lf_in_chunk_framing);
    tcase_add_test(tcc, discards_trailer_fields);
    tcase_add_test(tcc, counts_trailer_fields_against_the_field_limit);
    tcase_add_test(tcc, bounds_each_trailer_field_by_the_field_size_limit);
    tcase_add_test(tcc, bounds_the_whole_trailer_section);
    tcase_add_test(tcc, waits_for_more_input_and_stays_finished);
    tcase_add_test(tcc, stays_in_error_after_a_framing_error);
    suite_add_tcase(s, tcc);

    TCase *tcr = tcase_create("reason");
    tcase_add_test(tcr, knows_the_common_reason_phrases);
    suite_add_tcase(s, tcr);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(http1_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
