/* Compression with the real binary: static files gzip- and br-encoded (from the compressed-
 * file cache, and streamed when too big for it), precompressed siblings, AddEncoding,
 * Vary, the ETag suffix and If-None-Match against it, what is never compressed (ranges,
 * tiny and already-encoded bodies, no-transform, no-gzip), HEAD and 304, a proxied and a
 * FastCGI body compressed as it flows (PHP's flush() still reaches the client), and HTTP/2.
 * Every body is decoded here (zlib, libbrotli) and compared with its source by sha256. */
#include "fcgi_backends.h"
#include "harness.h"
#include "http_backend.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static pth_t *h;

static void setup(void)
{
    h = pth_new();
}

static void teardown(void)
{
    pth_free(h);
}

/* ---- Helpers ---------------------------------------------------------------------------- */

/* Text that compresses about 4:1 and is not periodic. */
static char *sample(size_t n)
{
    static const char *const words[] = {"<p>portico ", "serves ", "compressed ", "pages ",
                                        "</p>\n", "to ", "every ", "client ", "that asks "};
    char *s = malloc(n + 1);
    uint32_t x = 7;
    for (size_t i = 0; i < n;) {
        x = x * 1103515245u + 12345u;
        const char *w = words[(x >> 16) % 9];
        for (size_t k = 0; w[k] && i < n; k++)
            s[i++] = w[k];
    }
    s[n] = '\0';
    return s;
}

/* Decodes a whole gzip or br body; returns the malloc'd bytes (*n) or NULL. partial: a
 * stream cut at a flush point decodes to what it holds. */
static char *decode(const char *coding, const void *p, size_t len, size_t *n, bool partial)
{
    size_t cap = len * 16 + 65536, got = 0;
    char *out = malloc(cap);
    bool ok;
    if (strcmp(coding, "gzip") == 0) {
        z_stream z = {0};
        inflateInit2(&z, 16 + 15);
        z.next_in = (Bytef *)(uintptr_t)p;
        z.avail_in = (uInt)len;
        int zr;
        do {
            if (got == cap)
                out = realloc(out, cap *= 2);
            z.next_out = (Bytef *)out + got;
            z.avail_out = (uInt)(cap - got);
            zr = inflate(&z, Z_SYNC_FLUSH);
            got = cap - z.avail_out;
        } while (zr == Z_OK && z.avail_out == 0);
        ok = zr == Z_STREAM_END || (partial && (zr == Z_OK || zr == Z_BUF_ERROR)) ;
        ok = ok && (zr != Z_STREAM_END || z.avail_in == 0); /* nothing after the member */
        inflateEnd(&z);
    } else {
        BrotliDecoderState *s = BrotliDecoderCreateInstance(NULL, NULL, NULL);
        size_t in_left = len;
        const uint8_t *ip = p;
        BrotliDecoderResult br;
        do {
            if (got == cap)
                out = realloc(out, cap *= 2);
            size_t out_left = cap - got;
            uint8_t *op = (uint8_t *)out + got;
            br = BrotliDecoderDecompressStream(s, &in_left, &ip, &out_left, &op, NULL);
            got = cap - out_left;
        } while (br == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT);
        ok = (br == BROTLI_DECODER_RESULT_SUCCESS && in_left == 0) ||
             (partial && br == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT);
        BrotliDecoderDestroyInstance(s);
    }
    if (!ok) {
        free(out);
        return NULL;
    }
    *n = got;
    return out;
}

/* The body decodes (by its Content-Encoding) to exactly want[0..n): compared by sha256. */
static void assert_decodes_to(const pth_resp_t *r, const char *coding, const void *want,
                              size_t n)
{
    const char *ce = pth_resp_header(r, "Content-Encoding");
    ck_assert_msg(ce && strcmp(ce, coding) == 0, "Content-Encoding %s, want %s",
                  ce ? ce : "(none)", coding);
    size_t got = 0;
    char *plain = decode(coding, r->body, r->body_len, &got, false);
    ck_assert_msg(plain != NULL, "the %s body (%zu bytes) does not decode", coding, r->body_len);
    char a[65], b[65];
    pth_sha256_hex(plain, got, a);
    pth_sha256_hex(want, n, b);
    ck_assert_msg(got == n && strcmp(a, b) == 0, "decoded %zu bytes sha256 %s, want %zu %s",
                  got, a, n, b);
    free(plain);
}

static void get_ae(const char *path, const char *accept, pth_resp_t *r)
{
    char ae[128] = "";
    if (accept)
        snprintf(ae, sizeof(ae), "Accept-Encoding: %s", accept);
    const char *hdrs[] = {ae, NULL};
    pth_get(h, path, accept ? hdrs : NULL, r);
}

static void assert_identity(const pth_resp_t *r, const void *want, size_t n)
{
    ck_assert_ptr_null(pth_resp_header(r, "Content-Encoding"));
    ck_assert_uint_eq(r->body_len, n);
    ck_assert_int_eq(memcmp(r->body, want, n), 0);
}

#define HTML_CONF "AddOutputFilterByType DEFLATE text/html text/plain\n"

/* ---- Static files ----------------------------------------------------------------------- */

START_TEST(a_static_page_is_gzipped_with_vary_a_length_and_a_suffixed_etag)
{
    size_t n = 100 * 1024;
    char *page = sample(n);
    pth_write_file(h, "page.html", page, n);
    pth_config(h, HTML_CONF);
    pth_start(h);
    for (int round = 0; round < 2; round++) { /* encoded, then from the cache */
        pth_resp_t r;
        get_ae("/page.html", "gzip, deflate", &r);
        ck_assert_int_eq(r.status, 200);
        assert_decodes_to(&r, "gzip", page, n);
        ck_assert_str_eq(pth_resp_header(&r, "Vary"), "Accept-Encoding");
        ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "text/html");
        const char *cl = pth_resp_header(&r, "Content-Length");
        ck_assert_msg(cl && strtoul(cl, NULL, 10) == r.body_len, "Content-Length %s", cl);
        const char *etag = pth_resp_header(&r, "ETag");
        ck_assert_msg(etag && strstr(etag, "-gzip\""), "ETag %s", etag);
        pth_resp_free(&r);
    }
    pth_resp_t r;
    get_ae("/page.html", NULL, &r); /* no Accept-Encoding: as it is, and it varies */
    assert_identity(&r, page, n);
    ck_assert_str_eq(pth_resp_header(&r, "Vary"), "Accept-Encoding");
    ck_assert_ptr_null(strstr(pth_resp_header(&r, "ETag"), "-gzip"));
    pth_resp_free(&r);
    free(page);
    pth_stop(h);
}
END_TEST

START_TEST(brotli_and_gzip_are_chosen_by_q_value_then_by_the_chains_order)
{
    size_t n = 20000;
    char *page = sample(n);
    pth_write_file(h, "p.html", page, n);
    pth_config(h, "SetOutputFilter BROTLI_COMPRESS;DEFLATE\nBrotliCompressionQuality 6\n");
    pth_start(h);
    static const struct {
        const char *accept, *want;
    } t[] = {
        {"gzip, deflate, br", "br"}, {"gzip", "gzip"}, {"br;q=0.5, gzip", "gzip"},
        {"x-gzip", "gzip"}, {"*", "br"}, {"gzip;q=0, br;q=0", NULL}, {"identity", NULL},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        pth_resp_t r;
        get_ae("/p.html", t[i].accept, &r);
        ck_assert_int_eq(r.status, 200);
        if (t[i].want)
            assert_decodes_to(&r, t[i].want, page, n);
        else
            assert_identity(&r, page, n);
        ck_assert_str_eq(pth_resp_header(&r, "Vary"), "Accept-Encoding");
        pth_resp_free(&r);
    }
    free(page);
    pth_stop(h);
}
END_TEST

START_TEST(if_none_match_with_the_suffixed_etag_is_a_304_and_ranges_stay_plain)
{
    size_t n = 30000;
    char *page = sample(n);
    pth_write_file(h, "p.html", page, n);
    /* Dated well before the requests: a file modified within the second has a weak ETag
     * that turns strong a second later, and the ETags compared below must not change. */
    pth_set_mtime(h, "p.html", time(NULL) - 3600);
    pth_config(h, HTML_CONF);
    pth_start(h);
    pth_resp_t r;
    get_ae("/p.html", "gzip", &r);
    char inm[128];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", pth_resp_header(&r, "ETag"));
    const char *cond[] = {"Accept-Encoding: gzip", inm, NULL};
    pth_resp_t c;
    pth_get(h, "/p.html", cond, &c);
    ck_assert_int_eq(c.status, 304);
    ck_assert_str_eq(pth_resp_header(&c, "ETag"), pth_resp_header(&r, "ETag"));
    ck_assert_str_eq(pth_resp_header(&c, "Vary"), "Accept-Encoding");
    ck_assert_uint_eq(c.body_len, 0);
    pth_resp_free(&c);
    /* A range is served from the file as it is: no coding under a Content-Range. */
    const char *range[] = {"Accept-Encoding: gzip", "Range: bytes=100-199", NULL};
    pth_get(h, "/p.html", range, &c);
    ck_assert_int_eq(c.status, 206);
    assert_identity(&c, page + 100, 100);
    ck_assert_ptr_null(strstr(pth_resp_header(&c, "ETag"), "-gzip"));
    pth_resp_free(&c);
    /* HEAD: the GET's head, no body. */
    pth_curl(h, "HEAD", "/p.html", (const char *[]){"Accept-Encoding: gzip", NULL}, NULL, 0,
             &c);
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(pth_resp_header(&c, "Content-Encoding"), "gzip");
    ck_assert_str_eq(pth_resp_header(&c, "ETag"), pth_resp_header(&r, "ETag"));
    ck_assert_str_eq(pth_resp_header(&c, "Content-Length"),
                     pth_resp_header(&r, "Content-Length"));
    ck_assert_uint_eq(c.body_len, 0);
    pth_resp_free(&c);
    pth_resp_free(&r);
    free(page);
    pth_stop(h);
}
END_TEST

START_TEST(tiny_encoded_and_no_transform_bodies_and_no_gzip_are_sent_as_they_are)
{
    char *page = sample(5000);
    pth_write_file(h, "tiny.html", page, 68); /* mod_deflate's floor: 68 bytes stay plain */
    pth_write_file(h, "just.html", page, 69);
    pth_write_file(h, "nt/p.html", page, 5000);
    pth_write_file(h, "ng/p.html", page, 5000);
    pth_write_file(h, "data.txt.gz", page, 5000); /* not real gzip: bytes must not change */
    pth_config(h, HTML_CONF "AddEncoding gzip .gz\n"
                            "<Location /nt>\n  Header set Cache-Control no-transform\n"
                            "</Location>\n"
                            "SetEnvIf Request_URI ^/ng/ no-gzip\n");
    pth_start(h);
    pth_resp_t r;
    get_ae("/tiny.html", "gzip", &r);
    assert_identity(&r, page, 68);
    pth_resp_free(&r);
    get_ae("/just.html", "gzip", &r);
    assert_decodes_to(&r, "gzip", page, 69);
    pth_resp_free(&r);
    get_ae("/nt/p.html", "gzip", &r);
    assert_identity(&r, page, 5000);
    pth_resp_free(&r);
    get_ae("/ng/p.html", "gzip", &r);
    assert_identity(&r, page, 5000);
    pth_resp_free(&r);
    get_ae("/data.txt.gz", "gzip", &r);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Encoding"), "gzip"); /* AddEncoding's */
    ck_assert_uint_eq(r.body_len, 5000);
    ck_assert_int_eq(memcmp(r.body, page, 5000), 0);
    pth_resp_free(&r);
    free(page);
    pth_stop(h);
}
END_TEST

START_TEST(add_output_filter_by_extension_and_remove_output_filter_below)
{
    char *page = sample(8000);
    pth_write_file(h, "notes.txt", page, 8000);
    pth_write_file(h, "raw/notes.txt", page, 8000);
    pth_config(h, "AddOutputFilter BROTLI_COMPRESS;DEFLATE .txt\n"
                  "<Directory @DOCROOT@/raw>\n  RemoveOutputFilter .txt\n</Directory>\n");
    pth_start(h);
    pth_resp_t r;
    get_ae("/notes.txt", "gzip, br", &r);
    assert_decodes_to(&r, "br", page, 8000);
    pth_resp_free(&r);
    get_ae("/raw/notes.txt", "gzip, br", &r);
    assert_identity(&r, page, 8000);
    ck_assert_ptr_null(pth_resp_header(&r, "Vary"));
    pth_resp_free(&r);
    free(page);
    pth_stop(h);
}
END_TEST

START_TEST(an_htaccess_file_turns_compression_on_for_its_directory)
{
    char *page = sample(8000);
    pth_write_file(h, "site/p.html", page, 8000);
    pth_write_file(h, "other/p.html", page, 8000);
    pth_write_filef(h, "site/.htaccess", "AddOutputFilterByType DEFLATE text/html\n");
    pth_config(h, "<Directory @DOCROOT@/site>\n  AllowOverride FileInfo\n</Directory>\n");
    pth_start(h);
    pth_resp_t r;
    get_ae("/site/p.html", "gzip", &r);
    assert_decodes_to(&r, "gzip", page, 8000);
    pth_resp_free(&r);
    get_ae("/other/p.html", "gzip", &r);
    assert_identity(&r, page, 8000);
    pth_resp_free(&r);
    free(page);
    pth_stop(h);
}
END_TEST

START_TEST(precompressed_siblings_are_served_when_fresh_and_accepted)
{
    size_t n = 40000;
    char *page = sample(n);
    pth_write_file(h, "app.js", page, n);
    /* Encoded here at other settings than the server's, so that the test sees which file
     * went out. */
    char *gz = NULL, *br = NULL;
    size_t gzl = 0, brl = 0;
    {
        z_stream z = {0};
        deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY);
        gz = malloc(deflateBound(&z, n));
        z.next_in = (Bytef *)page;
        z.avail_in = (uInt)n;
        z.next_out = (Bytef *)gz;
        z.avail_out = (uInt)deflateBound(&z, n);
        deflate(&z, Z_FINISH);
        gzl = z.total_out;
        deflateEnd(&z);
    }
    brl = BrotliEncoderMaxCompressedSize(n);
    br = malloc(brl);
    ck_assert(BrotliEncoderCompress(11, 22, BROTLI_MODE_TEXT, n, (const uint8_t *)page, &brl,
                                    (uint8_t *)br));
    pth_write_file(h, "app.js.gz", gz, gzl);
    pth_write_file(h, "app.js.br", br, brl);
    pth_write_file(h, "old.js", page, n);
    pth_write_file(h, "old.js.gz", "stale", 5);
    pth_set_mtime(h, "old.js.gz", time(NULL) - 3600); /* older than old.js */
    pth_config(h, "PrecompressedStatic On\n");
    pth_start(h);
    pth_resp_t r;
    get_ae("/app.js", "gzip, br", &r);
    ck_assert_uint_eq(r.body_len, brl);
    ck_assert_int_eq(memcmp(r.body, br, brl), 0);
    assert_decodes_to(&r, "br", page, n);
    ck_assert_str_eq(pth_resp_header(&r, "Vary"), "Accept-Encoding");
    ck_assert_msg(strstr(pth_resp_header(&r, "Content-Type"), "javascript"), "%s",
                  pth_resp_header(&r, "Content-Type"));
    pth_resp_free(&r);
    get_ae("/app.js", "gzip", &r);
    ck_assert_uint_eq(r.body_len, gzl);
    assert_decodes_to(&r, "gzip", page, n);
    pth_resp_free(&r);
    get_ae("/app.js", "br;q=0, deflate", &r);
    assert_identity(&r, page, n);
    ck_assert_str_eq(pth_resp_header(&r, "Vary"), "Accept-Encoding");
    pth_resp_free(&r);
    get_ae("/old.js", "gzip", &r);
    assert_identity(&r, page, n); /* the stale sibling is ignored */
    pth_resp_free(&r);
    free(gz);
    free(br);
    free(page);
    pth_stop(h);
}
END_TEST

START_TEST(a_linked_sibling_is_not_served_where_symlinks_are_not_followed)
{
    char *page = sample(5000);
    pth_write_file(h, "a.html", page, 5000);
    pth_write_dir_file(h, "secret.gz", "not for you", 11);
    ck_assert_int_eq(symlink(pth_path(h, "secret.gz"), pth_path(h, "htdocs/a.html.gz")), 0);
    pth_config(h, "PrecompressedStatic On\n<Directory @DOCROOT@>\n  Options None\n"
                  "</Directory>\n");
    pth_start(h);
    pth_resp_t r;
    get_ae("/a.html", "gzip", &r);
    assert_identity(&r, page, 5000);
    pth_resp_free(&r);
    free(page);
    pth_stop(h);
}
END_TEST

START_TEST(a_file_changed_on_disk_is_encoded_again_and_a_big_one_is_streamed)
{
    size_t n = 50000, big = 3 << 20;
    char *page = sample(big);
    pth_write_file(h, "p.html", page, n);
    pth_write_file(h, "big.html", page, big);
    pth_config(h, HTML_CONF);
    pth_start(h);
    pth_resp_t r;
    get_ae("/p.html", "gzip", &r);
    assert_decodes_to(&r, "gzip", page, n);
    pth_resp_free(&r);
    pth_write_file(h, "p.html", page + 7, n); /* same size, other bytes */
    pth_set_mtime(h, "p.html", time(NULL) + 2);
    get_ae("/p.html", "gzip", &r);
    assert_decodes_to(&r, "gzip", page + 7, n);
    pth_resp_free(&r);
    get_ae("/big.html", "gzip", &r);
    assert_decodes_to(&r, "gzip", page, big);
    ck_assert_ptr_null(pth_resp_header(&r, "Content-Length")); /* streamed, chunked */
    pth_resp_free(&r);
    free(page);
    pth_stop(h);
}
END_TEST

/* ---- Proxied and FastCGI bodies --------------------------------------------------------- */

START_TEST(a_proxied_body_is_compressed_as_it_flows)
{
    pth_http_backend_t be;
    pth_http_backend_start_must(&be, NULL);
    pth_config(h, "ProxyPass /b/ http://127.0.0.1:%d/\n<Location /b/>\n"
                  "  SetOutputFilter DEFLATE;BROTLI_COMPRESS\n</Location>\n", be.port);
    pth_start(h);
    size_t n = 1000000;
    char *want = malloc(n);
    pth_http_pattern_fill(want, n, 0);
    static const char *const paths[] = {"/b/bytes?n=1000000&chunked=1", "/b/bytes?n=1000000",
                                        "/b/bytes?n=1000000&eof=1"};
    for (size_t i = 0; i < 3; i++) {
        pth_resp_t r;
        get_ae(paths[i], i == 1 ? "br" : "gzip", &r);
        ck_assert_int_eq(r.status, 200);
        assert_decodes_to(&r, i == 1 ? "br" : "gzip", want, n);
        ck_assert_ptr_null(pth_resp_header(&r, "Content-Length"));
        pth_resp_free(&r);
    }
    free(want);
    pth_stop(h);
    pth_http_backend_stop(&be);
}
END_TEST

/* Reads the raw response on c until its body decodes to something containing needle or
 * the deadline passes; returns the ms it took, -1 on timeout. Chunked framing is undone
 * here (the head and chunk lines are checked as they come). */
static int64_t wait_decoded(pth_conn_t *c, const char *coding, const char *needle,
                            int64_t t0, int ms)
{
    while (pth_now_ms() - t0 < ms) {
        pth_conn_read_until(c, c->len + 1, 100);
        const char *head_end = c->buf ? strstr(c->buf, "\r\n\r\n") : NULL;
        if (!head_end)
            continue;
        const char *p = head_end + 4, *end = c->buf + c->len;
        char *body = malloc(c->len + 1);
        size_t bl = 0;
        while (p < end) { /* whole chunks only */
            char *e;
            unsigned long sz = strtoul(p, &e, 16);
            const char *data = strstr(e, "\r\n");
            if (!data || data + 2 + sz > end)
                break;
            memcpy(body + bl, data + 2, sz);
            bl += sz;
            p = data + 2 + sz + 2;
            if (sz == 0)
                break;
        }
        size_t got = 0;
        char *plain = bl ? decode(coding, body, bl, &got, true) : NULL;
        bool found = plain && memmem(plain, got, needle, strlen(needle));
        free(plain);
        free(body);
        if (found)
            return pth_now_ms() - t0;
    }
    return -1;
}

START_TEST(phps_flush_reaches_the_client_through_the_encoder)
{
    pth_fpm_t fpm;
    char msg[512];
    ck_assert_msg(pth_fpm_start(&fpm, 2, false, msg, sizeof(msg)) == 0, "%s", msg);
    pth_write_filef(h, "sse.php", "<?php header('Content-Type: text/html');"
                                  " echo str_repeat(\"data: first\\n\", 50); flush(); sleep(2);"
                                  " echo str_repeat(\"data: second\\n\", 50);");
    pth_write_filef(h, "big.php", "<?php header('Content-Type: text/plain');"
                                  " for ($i = 0; $i < 100000; $i++) echo \"line $i\\n\";");
    pth_config(h, "<LocationMatch \"\\.php$\">\n"
                  "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n</LocationMatch>\n"
                  HTML_CONF "AddOutputFilterByType BROTLI_COMPRESS text/html\n", fpm.sock);
    pth_start(h);
    static const char *const codings[] = {"gzip", "br"};
    for (int i = 0; i < 2; i++) {
        pth_conn_t *c = pth_conn_open(h);
        int64_t t0 = pth_now_ms();
        pth_conn_sendf(c, "GET /sse.php HTTP/1.1\r\nHost: x\r\nAccept-Encoding: %s\r\n\r\n",
                       codings[i]);
        int64_t first = wait_decoded(c, codings[i], "data: first", t0, 5000);
        ck_assert_msg(first >= 0 && first < 1500, "%s: first part after %lld ms", codings[i],
                      (long long)first);
        int64_t all = wait_decoded(c, codings[i], "data: second", t0, 6000);
        ck_assert_msg(all >= 1900, "%s: whole answer after %lld ms", codings[i],
                      (long long)all);
        ck_assert_ptr_nonnull(strcasestr(c->buf, "\r\nContent-Encoding: "));
        pth_conn_close(c);
    }
    pth_resp_t r;
    get_ae("/big.php", "gzip", &r);
    ck_assert_int_eq(r.status, 200);
    size_t cap = 1 << 21, wl = 0;
    char *want = malloc(cap);
    for (int k = 0; k < 100000; k++)
        wl += (size_t)sprintf(want + wl, "line %d\n", k);
    assert_decodes_to(&r, "gzip", want, wl);
    pth_resp_free(&r);
    free(want);
    pth_stop(h);
    pth_fpm_free(&fpm);
}
END_TEST

/* ---- HTTP/2 ----------------------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t n;
} sink_t;

static size_t on_bytes(char *p, size_t sz, size_t nm, void *ud)
{
    sink_t *s = ud;
    s->p = realloc(s->p, s->n + sz * nm + 1);
    memcpy(s->p + s->n, p, sz * nm);
    s->n += sz * nm;
    s->p[s->n] = '\0';
    return sz * nm;
}

START_TEST(an_http2_response_is_compressed_too)
{
    size_t n = 60000;
    char *page = sample(n);
    pth_write_file(h, "p.html", page, n);
    pth_config(h, "Protocols h2c http/1.1\n" HTML_CONF);
    pth_start(h);
    CURL *e = curl_easy_init();
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/p.html", h->port);
    sink_t body = {0}, head = {0};
    struct curl_slist *hl = curl_slist_append(NULL, "Accept-Encoding: gzip");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_bytes);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_bytes);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &head);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
    ck_assert_int_eq(curl_easy_perform(e), CURLE_OK);
    long ver = 0;
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &ver);
    ck_assert_int_eq(ver, CURL_HTTP_VERSION_2_0);
    ck_assert_msg(strstr(head.p, "content-encoding: gzip\r\n"), "%s", head.p);
    ck_assert_msg(strstr(head.p, "vary: Accept-Encoding\r\n"), "%s", head.p);
    pth_resp_t r = {.body = body.p, .body_len = body.n};
    r.headers[0].name = strdup("Content-Encoding");
    r.headers[0].value = strdup("gzip");
    r.nheaders = 1;
    assert_decodes_to(&r, "gzip", page, n);
    pth_resp_free(&r);
    curl_slist_free_all(hl);
    curl_easy_cleanup(e);
    free(head.p);
    free(page);
    pth_stop(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("compress");
    TCase *tc = tcase_create("compress");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_static_page_is_gzipped_with_vary_a_length_and_a_suffixed_etag);
    tcase_add_test(tc, brotli_and_gzip_are_chosen_by_q_value_then_by_the_chains_order);
    tcase_add_test(tc, if_none_match_with_the_suffixed_etag_is_a_304_and_ranges_stay_plain);
    tcase_add_test(tc, tiny_encoded_and_no_transform_bodies_and_no_gzip_are_sent_as_they_are);
    tcase_add_test(tc, add_output_filter_by_extension_and_remove_output_filter_below);
    tcase_add_test(tc, an_htaccess_file_turns_compression_on_for_its_directory);
    tcase_add_test(tc, precompressed_siblings_are_served_when_fresh_and_accepted);
    tcase_add_test(tc, a_linked_sibling_is_not_served_where_symlinks_are_not_followed);
    tcase_add_test(tc, a_file_changed_on_disk_is_encoded_again_and_a_big_one_is_streamed);
    tcase_add_test(tc, a_proxied_body_is_compressed_as_it_flows);
    tcase_add_test(tc, phps_flush_reaches_the_client_through_the_encoder);
    tcase_add_test(tc, an_http2_response_is_compressed_too);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!pth_fpm_available()) {
        fprintf(stderr, "php-fpm8.2 is not installed (scripts/setup installs it): the "
                        "compression suite cannot run\n");
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
