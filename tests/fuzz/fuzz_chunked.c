/* libFuzzer harness for the chunked decoder: the same input decoded in one piece, one byte
 * at a time and in uneven pieces must give the same result, body and byte count; every data
 * slice lies inside the input it came from. A violation aborts. */
#include "fuzz.h"
#include "http1.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    pt_chunk_result_t result;
    size_t used;   /* input bytes consumed up to END or ERROR (or all of it) */
    size_t outlen;
    uint64_t total;
} outcome_t;

/* Feeds pieces whose sizes come from step(); decoded body bytes are appended to out. */
static outcome_t decode(const uint8_t *data, size_t len, size_t (*step)(size_t), char *out)
{
    pt_chunked_t c;
    outcome_t o = {PT_CHUNK_AGAIN, 0, 0, 0};
    pt_chunked_init(&c);
    for (size_t k = 0; o.used < len; k++) {
        size_t n = PT_MIN(step(k), len - o.used);
        char *piece = malloc(n); /* exact size: ASan catches reads past it */
        memcpy(piece, data + o.used, n);
        size_t pos = 0;
        for (;;) {
            size_t consumed = (size_t)-1;
            pt_str_t d = {(const char *)1, 99};
            o.result = pt_chunked_decode(&c, piece + pos, n - pos, &consumed, &d);
            CHECK(consumed <= n - pos);
            if (o.result == PT_CHUNK_DATA) {
                CHECK(d.len > 0 && d.p >= piece + pos && d.p + d.len == piece + pos + consumed);
                memcpy(out + o.outlen, d.p, d.len);
                o.outlen += d.len;
                pos += consumed;
                continue;
            }
            CHECK(d.len == 0);
            if (o.result == PT_CHUNK_AGAIN)
                CHECK(consumed == n - pos);
            else
                CHECK(o.result == PT_CHUNK_END || o.result == PT_CHUNK_ERROR);
            pos += consumed;
            break;
        }
        free(piece);
        o.used += pos;
        if (o.result != PT_CHUNK_AGAIN)
            break;
    }
    o.total = c.total;
    CHECK(o.total == o.outlen);
    return o;
}

static size_t whole(size_t k)
{
    (void)k;
    return SIZE_MAX;
}

static size_t one(size_t k)
{
    (void)k;
    return 1;
}

static size_t uneven(size_t k)
{
    return 1 + (k * 7919) % 13;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    char *out[3];
    size_t (*steps[3])(size_t) = {whole, one, uneven};
    outcome_t o[3];
    for (int i = 0; i < 3; i++) {
        out[i] = malloc(len + 1);
        o[i] = decode(data, len, steps[i], out[i]);
    }
    for (int i = 1; i < 3; i++) {
        /* A piece always ends in AGAIN, END or ERROR, at the same byte however split. */
        CHECK(o[i].result == o[0].result);
        CHECK(o[i].used == o[0].used);
        CHECK(o[i].outlen == o[0].outlen && memcmp(out[i], out[0], o[0].outlen) == 0);
    }
    for (int i = 0; i < 3; i++)
        free(out[i]);
    return 0;
}
