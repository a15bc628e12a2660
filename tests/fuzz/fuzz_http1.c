/* libFuzzer harness for pt_http1_parse_head: no crash, no read past the input, and the
 * documented contract holds (slices inside the head, statuses from the documented set,
 * a prefix of a complete head is never complete or an error). A violation aborts. */
#include "fuzz.h"
#include "http1.h"

#include <stdio.h>
#include <stdlib.h>

static const pt_http1_limits_t limit_sets[] = {
    {.max_line = 8190, .max_fields = 100, .max_field_size = 8190},
    {.max_line = 40, .max_fields = 4, .max_field_size = 32},
};

/* s lies inside [lo, hi), or is the empty-path "/" that is not in the buffer. */
static void check_slice(pt_str_t s, const char *lo, const char *hi)
{
    if (s.p == NULL) {
        CHECK(s.len == 0);
        return;
    }
    if (s.len == 1 && s.p[0] == '/' && (s.p < lo || s.p >= hi))
        return;
    CHECK(s.p >= lo && s.p <= hi && s.len <= (size_t)(hi - s.p));
}

static pt_http1_result_t parse_copy(const uint8_t *data, size_t len,
                                    const pt_http1_limits_t *lim, pt_arena_t *a,
                                    pt_http1_request_t *req, int *status)
{
    /* An exact-size heap copy so ASan flags any read past len. */
    char *buf = malloc(len ? len : 1);
    memcpy(buf, data, len);
    pt_http1_result_t r = pt_http1_parse_head(buf, len, lim, a, req, status);
    free(buf);
    return r;
}

static void check_done(const char *buf, const pt_http1_limits_t *lim,
                       const pt_http1_request_t *req)
{
    const char *hi = buf + req->head_len;
    CHECK(req->head_len >= 4 && memcmp(hi - 4, "\r\n\r\n", 4) == 0);
    CHECK(req->version == 10 || req->version == 11);
    CHECK(req->nheaders <= lim->max_fields);
    CHECK(req->content_length >= -1);
    CHECK(!req->chunked || req->content_length == -1);
    CHECK(req->method.len > 0 && req->target.len > 0);
    check_slice(req->method, buf, hi);
    check_slice(req->target, buf, hi);
    check_slice(req->path, buf, hi);
    check_slice(req->query, buf, hi);
    check_slice(req->abs_host, buf, hi);
    check_slice(req->host, buf, hi);
    CHECK(req->nheaders == 0 || req->headers != NULL);
    for (size_t i = 0; i < req->nheaders; i++) {
        const pt_header_t *h = &req->headers[i];
        CHECK(h->name.len > 0 && h->name.len <= lim->max_field_size);
        check_slice(h->name, buf, hi);
        check_slice(h->value, buf, hi);
        for (size_t j = 0; j < h->value.len; j++)
            CHECK(h->value.p[j] != '\r' && h->value.p[j] != '\n' && h->value.p[j] != '\0');
        CHECK(pt_http1_header(req, "") == NULL);
    }
    if (req->version == 11)
        CHECK(pt_http1_header(req, "host") != NULL);
}

static void run(const uint8_t *data, size_t len, const pt_http1_limits_t *lim)
{
    pt_arena_t *a = pt_arena_create(0);
    pt_http1_request_t req;
    int status = 0;
    char *buf = malloc(len ? len : 1);
    memcpy(buf, data, len);
    pt_http1_result_t r = pt_http1_parse_head(buf, len, lim, a, &req, &status);
    CHECK(r == PT_HTTP1_DONE || r == PT_HTTP1_AGAIN || r == PT_HTTP1_ERROR);
    if (r == PT_HTTP1_ERROR)
        CHECK(status == 400 || status == 414 || status == 431 || status == 501 ||
              status == 505);
    if (r == PT_HTTP1_DONE) {
        CHECK(req.head_len <= len);
        check_done(buf, lim, &req);
        size_t head = req.head_len;
        pt_http1_request_t again;
        /* The head alone parses the same; one byte less is not complete yet. */
        CHECK(parse_copy(data, head, lim, a, &again, &status) == PT_HTTP1_DONE);
        CHECK(again.head_len == head && again.nheaders == req.nheaders);
        CHECK(parse_copy(data, head - 1, lim, a, &again, &status) == PT_HTTP1_AGAIN);
        CHECK(parse_copy(data, head / 2, lim, a, &again, &status) == PT_HTTP1_AGAIN);
    } else if (r == PT_HTTP1_AGAIN && len > 0) {
        pt_http1_request_t again;
        CHECK(parse_copy(data, len - 1, lim, a, &again, &status) == PT_HTTP1_AGAIN);
    }
    free(buf);
    pt_arena_destroy(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(limit_sets); i++)
        run(data, len, &limit_sets[i]);
    return 0;
}
