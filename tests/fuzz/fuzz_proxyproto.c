/* libFuzzer harness for the PROXY protocol parser (net/proxyproto.c): no input makes it read
 * out of bounds; a header it accepts has a length within the input and the bounds, and the
 * same input in any prefix gives AGAIN until the whole header is there, never another
 * answer (a header cannot become good or bad by waiting). A violation aborts. */
#include "fuzz.h"
#include "proxyproto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pt_proxyproto_result_t parse_copy(const uint8_t *data, size_t n, pt_proxyproto_t *pp)
{
    uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan catches reads past it */
    memcpy(copy, data, n);
    const char *why = NULL;
    pt_proxyproto_result_t r = pt_proxyproto_parse(copy, n, pp, &why);
    CHECK(r != PT_PROXYPROTO_ERROR || why != NULL);
    free(copy);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pt_proxyproto_t whole;
    pt_proxyproto_result_t r = parse_copy(data, size, &whole);
    if (r == PT_PROXYPROTO_DONE) {
        CHECK(whole.len > 0 && whole.len <= size);
        CHECK(whole.len <= PT_PROXYPROTO_V2_MAX);
        CHECK(whole.version == 1 || whole.version == 2);
        CHECK(whole.version != 1 || whole.len <= PT_PROXYPROTO_V1_MAX);
        CHECK(whole.local || whole.src.ss_family == AF_INET ||
              whole.src.ss_family == AF_INET6);
    }
    if (r == PT_PROXYPROTO_AGAIN)
        CHECK(size < PT_PROXYPROTO_V2_MAX);
    /* Every shorter prefix: AGAIN before the header's end, the same answer from it on. */
    size_t end = r == PT_PROXYPROTO_DONE ? whole.len : size;
    for (size_t k = 0; k < end && k < 512; k++) {
        pt_proxyproto_t part;
        pt_proxyproto_result_t pr = parse_copy(data, k, &part);
        if (r == PT_PROXYPROTO_DONE || r == PT_PROXYPROTO_AGAIN)
            CHECK(pr == PT_PROXYPROTO_AGAIN);
        else
            CHECK(pr != PT_PROXYPROTO_DONE);
    }
    if (r == PT_PROXYPROTO_DONE) {
        pt_proxyproto_t again;
        CHECK(parse_copy(data, whole.len, &again) == PT_PROXYPROTO_DONE);
        CHECK(again.len == whole.len && again.local == whole.local);
    }
    return 0;
}
