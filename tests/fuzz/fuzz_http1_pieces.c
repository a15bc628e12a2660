/* libFuzzer harness for pt_http1_parse_more: the same bytes fed in random pieces give what
 * one call over all of them gives (result, status, every field), however they are cut.
 * Before each call the bytes so far are copied to a new exact-size buffer, as a connection's
 * buffer may be compacted or grown between reads, so a parser that kept a pointer into an
 * old buffer is caught by ASan, and one that reads past the bytes it was given too. */
#include "fuzz.h"
#include "http1.h"

#include <stdio.h>
#include <stdlib.h>

static const pt_http1_limits_t limit_sets[] = {
    {.max_line = 8190, .max_fields = 100, .max_field_size = 8190},
    {.max_line = 40, .max_fields = 4, .max_field_size = 32},
};

static bool inside(const char *p, const char *buf, size_t len)
{
    return p >= buf && p < buf + len;
}

/* The same bytes at the same offset of each buffer; or, outside both (the "/" of an empty
 * path), the same constant. */
static void same_slice(pt_str_t a, const char *abuf, pt_str_t b, const char *bbuf, size_t len)
{
    CHECK(a.len == b.len);
    CHECK((a.p == NULL) == (b.p == NULL));
    if (a.p == NULL)
        return;
    bool ai = inside(a.p, abuf, len), bi = inside(b.p, bbuf, len);
    CHECK(ai == bi);
    CHECK(ai ? a.p - abuf == b.p - bbuf : a.p == b.p);
}

static void same_request(const pt_http1_request_t *a, const char *abuf,
                         const pt_http1_request_t *b, const char *bbuf)
{
    size_t len = a->head_len;
    CHECK(a->head_len == b->head_len);
    CHECK(a->method_id == b->method_id && a->version == b->version);
    same_slice(a->method, abuf, b->method, bbuf, len);
    same_slice(a->target, abuf, b->target, bbuf, len);
    same_slice(a->path, abuf, b->path, bbuf, len);
    same_slice(a->query, abuf, b->query, bbuf, len);
    same_slice(a->abs_host, abuf, b->abs_host, bbuf, len);
    same_slice(a->host, abuf, b->host, bbuf, len);
    CHECK(a->content_length == b->content_length && a->chunked == b->chunked);
    CHECK(a->keep_alive == b->keep_alive && a->expect_continue == b->expect_continue);
    CHECK(a->upgrade == b->upgrade);
    CHECK(a->nheaders == b->nheaders);
    for (size_t i = 0; i < a->nheaders; i++) {
        same_slice(a->headers[i].name, abuf, b->headers[i].name, bbuf, len);
        same_slice(a->headers[i].value, abuf, b->headers[i].value, bbuf, len);
    }
}

/* xorshift32 seeded by a hash of the input: the cuts change as the input mutates, and a
 * crashing input replays with the same cuts. */
static uint32_t next_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void run(const uint8_t *data, size_t len, uint32_t seed, const pt_http1_limits_t *lim)
{
    pt_arena_t *a = pt_arena_create(0);
    char *whole = malloc(len ? len : 1);
    memcpy(whole, data, len);
    pt_http1_request_t one;
    int one_status = 0;
    pt_http1_result_t r1 = pt_http1_parse_head(whole, len, lim, a, &one, &one_status);

    pt_http1_parser_t ps;
    pt_http1_parser_init(&ps);
    pt_http1_request_t more;
    int more_status = 0;
    pt_http1_result_t r2 = PT_HTTP1_AGAIN;
    char *buf = NULL;
    size_t have = 0;
    /* Small pieces mostly (1-8 bytes), now and then a larger one, and empty calls too. */
    while (r2 == PT_HTTP1_AGAIN) {
        uint32_t k = next_rand(&seed);
        size_t n = (k & 7) == 0 ? k >> 20 : (k >> 8) % 9;
        if (n > len - have)
            n = len - have;
        have += n;
        free(buf);
        buf = malloc(have ? have : 1);
        memcpy(buf, data, have);
        r2 = pt_http1_parse_more(&ps, buf, have, lim, a, &more, &more_status);
        if (have == len)
            break;
    }
    CHECK(r1 == r2);
    if (r1 == PT_HTTP1_ERROR)
        CHECK(one_status == more_status);
    if (r1 == PT_HTTP1_DONE)
        same_request(&one, whole, &more, buf);
    free(buf);
    free(whole);
    pt_arena_destroy(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    uint32_t seed = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        seed = (seed ^ data[i]) * 16777619u;
    for (size_t i = 0; i < PT_ARRAY_LEN(limit_sets); i++)
        run(data, len, seed, &limit_sets[i]);
    return 0;
}
