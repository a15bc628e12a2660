/* libFuzzer harness for what a FastCGI backend sends: the record decoder fed in one piece
 * and one byte at a time must produce the same STDOUT/STDERR bytes and the same outcome;
 * STDOUT then goes through the bounded CGI head gatherer and parser. A violation aborts. */
#include "fcgi/fcgi.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    int rc;          /* 0, or PT_EINVAL */
    bool ended;
    size_t out_len, err_len;
} outcome_t;

static outcome_t decode(const uint8_t *data, size_t len, size_t piece, char *out, char *err)
{
    pt_fcgi_decoder_t d;
    pt_fcgi_decoder_init(&d, 1);
    outcome_t o = {0, false, 0, 0};
    size_t off = 0;
    while (off < len && o.rc == 0) {
        size_t n = PT_MIN(piece, len - off);
        size_t in = 0;
        while (in < n) {
            size_t used = 0;
            pt_fcgi_event_t ev;
            if (pt_fcgi_decode(&d, data + off + in, n - in, &used, &ev) != 0) {
                CHECK(d.error != NULL);
                o.rc = PT_EINVAL;
                break;
            }
            CHECK(used <= n - in);
            if (ev.type == PT_FCGI_EV_STDOUT || ev.type == PT_FCGI_EV_STDERR) {
                CHECK(ev.data.len == 0 || ((const uint8_t *)ev.data.p >= data + off + in &&
                                           (const uint8_t *)ev.data.p + ev.data.len <=
                                               data + off + in + used));
                char *dst = ev.type == PT_FCGI_EV_STDOUT ? out + o.out_len : err + o.err_len;
                memcpy(dst, ev.data.p, ev.data.len);
                if (ev.type == PT_FCGI_EV_STDOUT)
                    o.out_len += ev.data.len;
                else
                    o.err_len += ev.data.len;
            } else if (ev.type == PT_FCGI_EV_END) {
                o.ended = true;
            } else {
                CHECK(used == n - in); /* nothing reported: all input consumed */
            }
            in += used;
        }
        off += n;
    }
    return o;
}

static void parse_head(const char *out, size_t len)
{
    pt_arena_t *a = pt_arena_create(4096);
    pt_fcgi_head_t h;
    pt_fcgi_head_init(&h, a, 4096);
    size_t used = 0;
    int rc = pt_fcgi_head_feed(&h, out, len, &used);
    CHECK(used <= len && h.len <= 4096);
    if (rc == 1) {
        pt_fcgi_cgi_t cgi;
        const char *why = NULL;
        if (pt_fcgi_head_parse(a, h.buf, h.len, &cgi, &why) == 0) {
            CHECK(cgi.status >= 200 && cgi.status <= 599);
            CHECK(!cgi.local_redirect || cgi.location[0] == '/');
        } else {
            CHECK(why != NULL);
        }
    }
    pt_arena_destroy(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    char *out1 = malloc(len + 1), *err1 = malloc(len + 1);
    char *out2 = malloc(len + 1), *err2 = malloc(len + 1);
    outcome_t a = decode(data, len, len ? len : 1, out1, err1);
    outcome_t b = decode(data, len, 1, out2, err2);
    /* A byte-at-a-time feed may report a record's data before finding its successor
     * broken, so only the successful outcomes must match exactly. */
    CHECK(a.rc == b.rc);
    if (a.rc == 0) {
        CHECK(a.ended == b.ended);
        CHECK(a.out_len == b.out_len && memcmp(out1, out2, a.out_len) == 0);
        CHECK(a.err_len == b.err_len && memcmp(err1, err2, a.err_len) == 0);
    }
    parse_head(out2, b.out_len);
    free(out1);
    free(err1);
    free(out2);
    free(err2);
    return 0;
}
