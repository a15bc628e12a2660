/* Unit tests for compression (src/compress*.c): Accept-Encoding q-values, the filter chain
 * from the config, mod_deflate's and mod_brotli's decisions, the directives and their
 * errors, and the encoder behind the response writer, driven through a fake protocol (no
 * socket) and decoded with zlib and libbrotli's decoder. */
#include "compress.h"
#include "conn.h"
#include "startup.h"

#include <brotli/decode.h>
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- Decoders --------------------------------------------------------------------------- */

/* The gzip or br body p[0..n) decoded into out (cap bytes); returns its length, or -1 when
 * it does not decode. partial: a stream that stops at a flush point is fine. */
static long decode(pt_encoding_t enc, const void *p, size_t n, char *out, size_t cap,
                   bool partial)
{
    if (enc == PT_ENC_GZIP) {
        z_stream z = {0};
        ck_assert_int_eq(inflateInit2(&z, 16 + 15), Z_OK);
        z.next_in = (Bytef *)(uintptr_t)p;
        z.avail_in = (uInt)n;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)cap;
        int zr = inflate(&z, Z_SYNC_FLUSH);
        long got = (long)(cap - z.avail_out);
        inflateEnd(&z);
        return zr == Z_STREAM_END || (partial && (zr == Z_OK || zr == Z_BUF_ERROR)) ? got : -1;
    }
    BrotliDecoderState *s = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    size_t in_left = n, out_left = cap;
    const uint8_t *ip = p;
    uint8_t *op = (uint8_t *)out;
    BrotliDecoderResult br =
        BrotliDecoderDecompressStream(s, &in_left, &ip, &out_left, &op, NULL);
    BrotliDecoderDestroyInstance(s);
    long got = (long)(cap - out_left);
    return br == BROTLI_DECODER_RESULT_SUCCESS ||
                   (partial && br == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
               ? got
               : -1;
}

/* ---- Accept-Encoding -------------------------------------------------------------------- */

START_TEST(accept_encoding_q_values_are_read_as_rfc_9110_says)
{
    static const struct {
        const char *accept, *coding;
        int q;
    } t[] = {
        {"gzip", "gzip", 1000},
        {"gzip, br", "br", 1000},
        {"GZIP", "gzip", 1000},
        {"x-gzip", "gzip", 1000},
        {"gzip;q=0", "gzip", 0},
        {"gzip; q=0.5", "gzip", 500},
        {"br;q=0.25, gzip;q=1.0", "br", 250},
        {"gzip;q=0.001", "gzip", 1},
        {"deflate, br", "gzip", -1},
        {"*", "br", 1000},
        {"*;q=0, gzip", "br", 0},
        {"gzip;q=0, *", "gzip", 0},
        {"identity", "gzip", -1},
        {"", "gzip", -1},
        {" , gzip ,", "gzip", 1000},
        {"gzip;level=1;q=0.3", "gzip", 300},
        {"gzipx", "gzip", -1},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        ck_assert_msg(pt_accept_encoding_q(t[i].accept, t[i].coding) == t[i].q,
                      "'%s' for %s: %d, want %d", t[i].accept, t[i].coding,
                      pt_accept_encoding_q(t[i].accept, t[i].coding), t[i].q);
    ck_assert_int_eq(pt_accept_encoding_q(NULL, "gzip"), -1);
}
END_TEST

/* ---- The chain -------------------------------------------------------------------------- */

static pt_filter_map_t map(const char *key, unsigned char f1, unsigned char f2)
{
    pt_filter_map_t m = {key, {{f1, f2}, (unsigned char)(f2 ? 2 : f1 ? 1 : 0)}};
    return m;
}

START_TEST(the_chain_takes_set_output_filter_then_extensions_then_types_each_once)
{
    pt_filter_map_t types[] = {map("text/html", PT_FILTER_DEFLATE, 0),
                               map("text/css", PT_FILTER_BROTLI, 0)};
    pt_filter_map_t exts[] = {map("php", 0, 0), /* RemoveOutputFilter inside */
                              map("php", PT_FILTER_BROTLI, 0), map("en", PT_FILTER_DEFLATE, 0)};
    pt_compress_conf_t c = {.bytype = types, .nbytype = 2, .byext = exts, .nbyext = 3};
    pt_filter_chain_t ch = pt_compress_chain(&c, "/srv/a.html", "text/html; charset=utf-8");
    ck_assert_int_eq(ch.n, 1);
    ck_assert_int_eq(ch.v[0], PT_FILTER_DEFLATE);
    ch = pt_compress_chain(&c, "/srv/index.php", "text/plain");
    ck_assert_int_eq(ch.n, 0); /* removed by the innermost entry */
    ch = pt_compress_chain(&c, "/srv/page.en.css", "TEXT/CSS");
    ck_assert_int_eq(ch.n, 2);
    ck_assert_int_eq(ch.v[0], PT_FILTER_DEFLATE); /* by extension, before by type */
    ck_assert_int_eq(ch.v[1], PT_FILTER_BROTLI);
    c.set = (pt_filter_chain_t){{PT_FILTER_BROTLI, PT_FILTER_DEFLATE}, 2};
    c.set_given = true;
    ch = pt_compress_chain(&c, "/srv/a.html", "text/html");
    ck_assert_int_eq(ch.n, 2);
    ck_assert_int_eq(ch.v[0], PT_FILTER_BROTLI);
    ck_assert_int_eq(ch.v[1], PT_FILTER_DEFLATE);
    ck_assert_int_eq(pt_compress_chain(NULL, "/a.html", "text/html").n, 0);
}
END_TEST

/* ---- The decision ----------------------------------------------------------------------- */

static pt_compress_decision_t decide(const pt_filter_chain_t *ch, int status, const char *accept,
                                     int64_t len, const pt_table_t *env)
{
    pt_compress_input_t in = {.status = status, .type = "text/html", .accept = accept,
                              .length = len, .env = env};
    return pt_compress_decide(ch, &in);
}

START_TEST(the_highest_q_wins_and_the_chain_order_breaks_a_tie)
{
    pt_filter_chain_t gz_br = {{PT_FILTER_DEFLATE, PT_FILTER_BROTLI}, 2};
    pt_filter_chain_t br_gz = {{PT_FILTER_BROTLI, PT_FILTER_DEFLATE}, 2};
    ck_assert_int_eq(decide(&gz_br, 200, "br, gzip", -1, NULL).enc, PT_ENC_GZIP);
    ck_assert_int_eq(decide(&br_gz, 200, "gzip, br", -1, NULL).enc, PT_ENC_BR);
    ck_assert_int_eq(decide(&gz_br, 200, "gzip;q=0.5, br", -1, NULL).enc, PT_ENC_BR);
    ck_assert_int_eq(decide(&br_gz, 200, "gzip, br;q=0", -1, NULL).enc, PT_ENC_GZIP);
    pt_compress_decision_t d = decide(&br_gz, 200, "gzip;q=0, br;q=0", -1, NULL);
    ck_assert_int_eq(d.enc, PT_ENC_IDENTITY);
    ck_assert(d.vary);
    d = decide(&br_gz, 200, NULL, -1, NULL);
    ck_assert_int_eq(d.enc, PT_ENC_IDENTITY);
    ck_assert(d.vary); /* the answer depended on the missing field */
    ck_assert_int_eq(decide(&gz_br, 404, "gzip", 300, NULL).enc, PT_ENC_GZIP);
}
END_TEST

START_TEST(bodies_that_must_not_be_transformed_are_left_alone)
{
    pt_filter_chain_t gz = {{PT_FILTER_DEFLATE}, 1};
    static const int no_body[] = {100, 204, 206};
    for (size_t i = 0; i < 3; i++) {
        pt_compress_decision_t d = decide(&gz, no_body[i], "gzip", -1, NULL);
        ck_assert_int_eq(d.enc, PT_ENC_IDENTITY);
        ck_assert(!d.vary);
    }
    pt_compress_input_t in = {.status = 200, .type = "text/html", .accept = "gzip",
                              .length = -1, .content_range = "bytes 0-9/100"};
    ck_assert_int_eq(pt_compress_decide(&gz, &in).enc, PT_ENC_IDENTITY);
    in.content_range = NULL;
    in.content_encoding = "br";
    ck_assert_int_eq(pt_compress_decide(&gz, &in).enc, PT_ENC_IDENTITY);
    in.content_encoding = "identity";
    ck_assert_int_eq(pt_compress_decide(&gz, &in).enc, PT_ENC_GZIP);
    in.cache_control = "public, no-transform";
    ck_assert_int_eq(pt_compress_decide(&gz, &in).enc, PT_ENC_IDENTITY);
    in.cache_control = "max-age=60";
    ck_assert_int_eq(pt_compress_decide(&gz, &in).enc, PT_ENC_GZIP);
    /* mod_deflate's floor: 68 bytes stay plain, 69 are compressed; Vary either way. */
    pt_compress_decision_t d = decide(&gz, 200, "gzip", PT_COMPRESS_MIN_LENGTH - 1, NULL);
    ck_assert_int_eq(d.enc, PT_ENC_IDENTITY);
    ck_assert(d.vary);
    ck_assert_int_eq(decide(&gz, 200, "gzip", PT_COMPRESS_MIN_LENGTH, NULL).enc, PT_ENC_GZIP);
    /* A 304 answers as its GET: decided on the GET's length, never on its empty body. */
    ck_assert_int_eq(decide(&gz, 304, "gzip", -1, NULL).enc, PT_ENC_GZIP);
}
END_TEST

START_TEST(env_variables_turn_codings_and_vary_off)
{
    pt_arena_t *a = pt_arena_create(0);
    pt_table_t env;
    pt_table_init(&env, a, 4);
    pt_filter_chain_t both = {{PT_FILTER_DEFLATE, PT_FILTER_BROTLI}, 2};
    pt_table_set(&env, "no-gzip", "1");
    ck_assert_int_eq(decide(&both, 200, "gzip, br", -1, &env).enc, PT_ENC_BR);
    pt_table_set(&env, "no-brotli", "1");
    pt_compress_decision_t d = decide(&both, 200, "gzip, br", -1, &env);
    ck_assert_int_eq(d.enc, PT_ENC_IDENTITY);
    ck_assert(!d.vary); /* nothing left that could vary */
    pt_table_init(&env, a, 4);
    pt_table_set(&env, "gzip-only-text/html", "1");
    pt_filter_chain_t gz = {{PT_FILTER_DEFLATE}, 1};
    pt_compress_input_t in = {.status = 200, .type = "text/css", .accept = "gzip",
                              .length = -1, .env = &env};
    ck_assert_int_eq(pt_compress_decide(&gz, &in).enc, PT_ENC_IDENTITY);
    in.type = "text/html; charset=utf-8";
    ck_assert_int_eq(pt_compress_decide(&gz, &in).enc, PT_ENC_GZIP);
    pt_table_set(&env, "dont-vary", "1");
    d = pt_compress_decide(&gz, &in);
    ck_assert_int_eq(d.enc, PT_ENC_GZIP);
    ck_assert(!d.vary);
    pt_arena_destroy(a);
}
END_TEST

START_TEST(etags_get_the_codings_suffix_inside_the_quotes)
{
    pt_arena_t *a = pt_arena_create(0);
    ck_assert_str_eq(pt_compress_etag(a, "\"19000-abc\"", PT_ENC_GZIP), "\"19000-abc-gzip\"");
    ck_assert_str_eq(pt_compress_etag(a, "W/\"x\"", PT_ENC_BR), "W/\"x-br\"");
    ck_assert_ptr_null(pt_compress_etag(a, "unquoted", PT_ENC_GZIP));
    pt_arena_destroy(a);
}
END_TEST

/* ---- Directives ------------------------------------------------------------------------- */

static char root[64], err[512];

static pt_config_t *load(const char *text)
{
    strcpy(root, "/tmp/ptczXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    char p[128];
    snprintf(p, sizeof(p), "%s/main.conf", root);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "Listen 127.0.0.1:8080\nDocumentRoot %s\n%s", root, text);
    fclose(f);
    pt_parse_opts_t o = {.server_root = root};
    pt_startup_register();
    err[0] = '\0';
    pt_config_t *c = pt_config_load(p, &o, err, sizeof(err));
    unlink(p);
    rmdir(root);
    return c;
}

START_TEST(debians_deflate_conf_and_the_settings_load)
{
    pt_config_t *c = load(
        "<IfModule mod_filter.c>\n"
        "  AddOutputFilterByType DEFLATE text/html text/plain text/xml text/css\n"
        "  AddOutputFilterByType DEFLATE application/javascript application/rss+xml\n"
        "</IfModule>\n"
        "<IfModule mod_brotli.c>\n  AddOutputFilterByType BROTLI_COMPRESS text/html\n"
        "</IfModule>\n"
        "DeflateCompressionLevel 9\nBrotliCompressionQuality 4\nBrotliCompressionWindow 20\n"
        "DeflateBufferSize 16384\nAddEncoding x-gzip .gz .tgz\n"
        "<Directory /srv>\n  SetOutputFilter BROTLI_COMPRESS;DEFLATE\n"
        "  PrecompressedStatic On\n  RemoveOutputFilter .php\n</Directory>\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_compress_conf_t *cc = c->main_server->dir->compress;
    ck_assert_ptr_nonnull(cc);
    ck_assert_uint_eq(cc->nbytype, 7);
    ck_assert_int_eq(PT_COMPRESS_SETTING(cc, deflate_level), 9);
    ck_assert_int_eq(PT_COMPRESS_SETTING(cc, brotli_quality), 4);
    ck_assert_int_eq(PT_COMPRESS_SETTING(cc, brotli_window), 20);
    ck_assert_int_eq(PT_COMPRESS_SETTING(cc, deflate_buffer), 16384);
    ck_assert_int_eq(PT_COMPRESS_SETTING(cc, deflate_memlevel), 9); /* the default */
    ck_assert_str_eq(cc->encodings[0].value, "x-gzip");
    pt_filter_chain_t ch = pt_compress_chain(cc, "/x/a.js", "application/javascript");
    ck_assert_int_eq(ch.n, 1);
    ch = pt_compress_chain(cc, "/x/a.html", "text/html");
    ck_assert_int_eq(ch.n, 2);
    ck_assert_int_eq(ch.v[1], PT_FILTER_BROTLI);
    pt_config_free(c);
}
END_TEST

START_TEST(unknown_filters_and_bad_settings_are_errors_with_file_and_line)
{
    static const struct {
        const char *text, *want;
    } t[] = {
        {"SetOutputFilter INCLUDES\n", "main.conf:3: SetOutputFilter: output filter 'INCLUDES'"},
        {"AddOutputFilterByType DEFLATE;SUBSTITUTE text/html\n", "'SUBSTITUTE' is not provided"},
        {"DeflateCompressionLevel 10\n", "main.conf:3:"},
        {"BrotliCompressionQuality 12\n", "main.conf:3:"},
        {"<Directory /x>\nDeflateCompressionLevel 5\n</Directory>\n", "main.conf:4:"},
        {"PrecompressedStatic maybe\n", "On or Off"},
        {"AddOutputFilter DEFLATE\n", "main.conf:3:"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        pt_config_t *c = load(t[i].text);
        ck_assert_msg(c == NULL, "accepted: %s", t[i].text);
        ck_assert_msg(strstr(err, t[i].want) != NULL, "'%s': %s", t[i].text, err);
    }
}
END_TEST

START_TEST(inner_sections_replace_set_output_filter_and_add_to_by_type)
{
    pt_config_t *c = load("SetOutputFilter DEFLATE\nAddOutputFilterByType DEFLATE text/html\n"
                          "<Location /b>\n  SetOutputFilter BROTLI_COMPRESS\n"
                          "  AddOutputFilterByType BROTLI_COMPRESS text/css\n"
                          "  DeflateCompressionLevel 2\n</Location>\n");
    ck_assert_msg(c == NULL, "a server setting in a <Location> was accepted");
    c = load("SetOutputFilter DEFLATE\nAddOutputFilterByType DEFLATE text/html\n"
             "DeflateCompressionLevel 2\n"
             "<Location /b>\n  SetOutputFilter BROTLI_COMPRESS\n"
             "  AddOutputFilterByType BROTLI_COMPRESS text/css\n</Location>\n");
    ck_assert_msg(c != NULL, "%s", err);
    pt_arena_t *a = pt_arena_create(0);
    const pt_dir_config_t *d = pt_config_dir_for(a, c->main_server, NULL, "/b/x");
    ck_assert_ptr_nonnull(d);
    pt_filter_chain_t ch = pt_compress_chain(d->compress, "/b/x.css", "text/css");
    ck_assert_int_eq(ch.n, 1);
    ck_assert_int_eq(ch.v[0], PT_FILTER_BROTLI);
    ch = pt_compress_chain(d->compress, "/b/x.html", "text/html");
    ck_assert_int_eq(ch.n, 2); /* BROTLI_COMPRESS set here, DEFLATE by type from outside */
    ck_assert_int_eq(PT_COMPRESS_SETTING(d->compress, deflate_level), 2);
    pt_arena_destroy(a);
    pt_config_free(c);
}
END_TEST

/* ---- The encoder behind the response writer --------------------------------------------- */

typedef struct {
    int status;
    int64_t length;
    pt_table_t fields;
    char *body;
    size_t body_len, cap;
    int sends;          /* send_body calls that carried bytes */
    size_t at_send[64]; /* body_len after each */
} fake_t;

static bool fake_keep_alive(pt_request_t *r, int64_t len)
{
    (void)r, (void)len;
    return true;
}

static int fake_send_head(pt_request_t *r, const pt_resp_head_t *h)
{
    fake_t *f = r->proto_ctx;
    f->status = h->status;
    f->length = h->length;
    f->fields = *h->fields;
    r->head_sent = true;
    return 0;
}

static int fake_send_body(pt_request_t *r, pt_chain_t *body)
{
    fake_t *f = r->proto_ctx;
    bool any = false;
    while (body && !pt_chain_empty(body)) {
        pt_buf_t *b = body->head;
        ck_assert_int_lt(b->fd, 0); /* an encoded body is never a file range */
        if (f->body_len + b->len > f->cap) {
            f->cap = (f->body_len + b->len) * 2;
            f->body = realloc(f->body, f->cap);
        }
        memcpy(f->body + f->body_len, b->p, b->len);
        f->body_len += b->len;
        any = any || b->len > 0;
        pt_chain_consume(body, b->len);
    }
    if (any && f->sends < 64)
        f->at_send[f->sends++] = f->body_len;
    return 0;
}

static int fake_send_file(pt_request_t *r, int fd, off_t off, off_t len, bool last)
{
    (void)r, (void)fd, (void)off, (void)len, (void)last;
    ck_abort_msg("sendfile used for an encoded body");
    return 0;
}

static int fake_finish(pt_request_t *r)
{
    (void)r;
    return 0;
}

static const pt_proto_ops_t fake_proto = {
    .name = "fake", .keep_alive = fake_keep_alive, .send_head = fake_send_head,
    .send_body = fake_send_body, .send_file = fake_send_file, .finish = fake_finish,
};

typedef struct {
    pt_conn_t conn;
    pt_arena_t *a;
    pt_config_t cfg;
    pt_vhost_t vh;
    pt_dir_config_t dir;
    pt_compress_conf_t cc;
    pt_backend_t backend;
    fake_t fake;
    pt_request_t r;
} fixture_t;

static void setup_fixture(fixture_t *f, unsigned char filter, const char *accept)
{
    memset(f, 0, sizeof(*f));
    f->conn.fd = -1;
    f->a = pt_arena_create(0);
    f->cc = pt_compress_conf_default;
    f->cc.set = (pt_filter_chain_t){{filter}, 1};
    f->cc.set_given = true;
    f->dir.limit_request_body = -1;
    f->dir.compress = &f->cc;
    f->vh.dir = &f->dir;
    f->vh.keepalive = true;
    f->cfg.main_server = &f->vh;
    f->backend.scheme = "http";
    pt_request_t *r = &f->r;
    r->arena = f->a;
    r->conn = &f->conn;
    r->cfg = &f->cfg;
    r->vhost = &f->vh;
    r->dir = &f->dir;
    r->proto = &fake_proto;
    r->proto_ctx = &f->fake;
    r->method = "GET";
    r->method_id = PT_METHOD_GET;
    r->keepalive = true;
    r->content_length = -1;
    pt_table_init(&r->headers_in, f->a, 4);
    pt_table_init(&r->headers_out, f->a, 4);
    pt_table_init(&r->err_headers_out, f->a, 4);
    pt_table_init(&r->env, f->a, 4);
    if (accept)
        pt_table_set(&r->headers_in, "Accept-Encoding", accept);
}

static void teardown_fixture(fixture_t *f)
{
    free(f->fake.body);
    pt_arena_destroy(f->a);
}

/* Text that compresses, and is not periodic at small sizes. */
static char *sample(size_t n)
{
    static const char *const words[] = {"portico ", "serves ", "<p>", "</p>\n", "gzip ",
                                        "and ", "brotli ", "bodies ", "as they flow "};
    char *s = malloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n;) {
        x = x * 1103515245u + 12345u;
        const char *w = words[(x >> 16) % 9];
        for (size_t k = 0; w[k] && i < n; k++)
            s[i++] = w[k];
    }
    return s;
}

static void check_streamed(unsigned char filter, pt_encoding_t enc)
{
    fixture_t f;
    setup_fixture(&f, filter, "gzip, br");
    pt_request_t *r = &f.r;
    r->backend = &f.backend; /* streamed from a backend: every write is flushed */
    r->content_type = "text/html";
    size_t n = 300000;
    char *src = sample(n);
    ck_assert_int_eq(pt_resp_start(r, 200, (int64_t)n), 0);
    ck_assert_int_eq(f.fake.length, -1); /* the length is gone */
    ck_assert_str_eq(pt_table_get(&f.fake.fields, "Content-Encoding"), pt_compress_token(enc));
    ck_assert_str_eq(pt_table_get(&f.fake.fields, "Vary"), "Accept-Encoding");
    char *out = malloc(n + 1);
    for (size_t off = 0, piece = 1000; off < n; off += piece, piece *= 2) {
        piece = PT_MIN(piece, n - off);
        ck_assert_int_eq(pt_resp_write(r, src + off, piece), 0);
        /* What went out so far decodes to everything written so far: flushed, not held. */
        long got = decode(enc, f.fake.body, f.fake.body_len, out, n, true);
        ck_assert_int_eq(got, (long)(off + piece));
        ck_assert_int_eq(memcmp(out, src, (size_t)got), 0);
    }
    ck_assert_int_eq(pt_resp_finish(r), 0);
    ck_assert_int_eq(decode(enc, f.fake.body, f.fake.body_len, out, n + 1, false), (long)n);
    ck_assert_int_eq(memcmp(out, src, n), 0);
    ck_assert_int_lt((long)f.fake.body_len, (long)n / 2);
    ck_assert_int_eq(r->bytes_sent, (int64_t)f.fake.body_len); /* %B counts what went out */
    free(out);
    free(src);
    teardown_fixture(&f);
}

START_TEST(a_streamed_gzip_body_is_flushed_at_every_write)
{
    check_streamed(PT_FILTER_DEFLATE, PT_ENC_GZIP);
}
END_TEST

START_TEST(a_streamed_brotli_body_is_flushed_at_every_write)
{
    check_streamed(PT_FILTER_BROTLI, PT_ENC_BR);
}
END_TEST

START_TEST(a_handlers_body_is_not_flushed_until_the_buffer_fills)
{
    fixture_t f;
    setup_fixture(&f, PT_FILTER_DEFLATE, "gzip");
    pt_request_t *r = &f.r;
    r->content_type = "text/plain";
    char *src = sample(4000);
    ck_assert_int_eq(pt_resp_start(r, 200, -1), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pt_resp_write(r, src + i * 1000, 1000), 0);
    ck_assert_int_eq(f.fake.sends, 0); /* still in the encoder */
    ck_assert_int_eq(pt_resp_finish(r), 0);
    ck_assert_int_eq(f.fake.sends, 1);
    char out[4001];
    ck_assert_int_eq(decode(PT_ENC_GZIP, f.fake.body, f.fake.body_len, out, 4001, false), 4000);
    ck_assert_int_eq(memcmp(out, src, 4000), 0);
    free(src);
    teardown_fixture(&f);
}
END_TEST

START_TEST(an_offered_file_comes_from_the_cache_with_a_length_and_a_suffixed_etag)
{
    fixture_t f;
    setup_fixture(&f, PT_FILTER_DEFLATE, "gzip");
    pt_request_t *r = &f.r;
    char path[] = "/tmp/ptczfileXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t n = 50000;
    char *src = sample(n);
    ck_assert_int_eq(write(fd, src, n), (ssize_t)n);
    struct stat st;
    fstat(fd, &st);
    r->filename = path;
    r->content_type = "text/html";
    pt_table_set(&r->headers_out, "ETag", "\"c350-1\"");
    pt_zcache_clear();
    for (int round = 0; round < 2; round++) { /* encoded, then from the cache */
        f.fake.body_len = 0;
        r->head_built = r->head_sent = r->body_done = false;
        pt_compress_offer_file(r, fd, &st, NULL);
        ck_assert_int_eq(pt_resp_start(r, 200, (int64_t)n), 0);
        ck_assert_int_gt(f.fake.length, 0);
        ck_assert_str_eq(pt_table_get(&f.fake.fields, "ETag"), "\"c350-1-gzip\"");
        ck_assert_int_eq(pt_resp_write_file(r, fd, 0, (off_t)n), 0);
        ck_assert_int_eq(pt_resp_finish(r), 0);
        ck_assert_int_eq((int64_t)f.fake.body_len, f.fake.length);
        char *out = malloc(n + 1);
        ck_assert_int_eq(decode(PT_ENC_GZIP, f.fake.body, f.fake.body_len, out, n + 1, false),
                         (long)n);
        ck_assert_int_eq(memcmp(out, src, n), 0);
        free(out);
    }
    close(fd);
    unlink(path);
    free(src);
    pt_zcache_clear();
    teardown_fixture(&f);
}
END_TEST

START_TEST(the_cache_encodes_again_when_the_file_changed)
{
    pt_arena_t *a = pt_arena_create(0);
    char path[] = "/tmp/ptczfileXXXXXX";
    int fd = mkstemp(path);
    char *src = sample(20000);
    ck_assert_int_eq(write(fd, src, 20000), 20000);
    struct stat st;
    fstat(fd, &st);
    pt_zparams_t zp = {PT_ENC_BR, 5, 18, 0};
    pt_zcache_clear();
    size_t l1, l2;
    const void *b1 = pt_zcache_get(a, path, fd, &st, NULL, &zp, &l1);
    ck_assert_ptr_nonnull(b1);
    /* Same size, new bytes, a later mtime: the entry no longer describes the file. */
    memset(src, 'z', 10000);
    ck_assert_int_eq(pwrite(fd, src, 20000, 0), 20000);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {st.st_mtim.tv_sec + 5, 0}};
    futimens(fd, ts);
    fstat(fd, &st);
    const void *b2 = pt_zcache_get(a, path, fd, &st, NULL, &zp, &l2);
    char *out = malloc(20001);
    ck_assert_int_eq(decode(PT_ENC_BR, b2, l2, out, 20001, false), 20000);
    ck_assert_int_eq(memcmp(out, src, 20000), 0);
    (void)b1;
    free(out);
    free(src);
    close(fd);
    unlink(path);
    pt_zcache_clear();
    pt_arena_destroy(a);
}
END_TEST

START_TEST(head_and_not_modified_change_the_head_only)
{
    fixture_t f;
    setup_fixture(&f, PT_FILTER_DEFLATE, "gzip");
    pt_request_t *r = &f.r;
    r->content_type = "text/html";
    r->header_only = true;
    pt_table_set(&r->headers_out, "ETag", "\"a\"");
    ck_assert_int_eq(pt_resp_start(r, 200, 5000), 0);
    ck_assert_str_eq(pt_table_get(&f.fake.fields, "Content-Encoding"), "gzip");
    ck_assert_int_eq(f.fake.length, -1);
    ck_assert_int_eq(pt_resp_finish(r), 0);
    ck_assert_uint_eq(f.fake.body_len, 0);
    teardown_fixture(&f);

    setup_fixture(&f, PT_FILTER_DEFLATE, "gzip");
    r = &f.r;
    r->content_type = "text/html";
    pt_table_set(&r->headers_out, "ETag", "\"a\"");
    ck_assert_int_eq(pt_resp_start(r, 304, 0), 0);
    ck_assert_str_eq(pt_table_get(&f.fake.fields, "ETag"), "\"a-gzip\"");
    ck_assert_str_eq(pt_table_get(&f.fake.fields, "Vary"), "Accept-Encoding");
    ck_assert_int_eq(pt_resp_finish(r), 0);
    ck_assert_uint_eq(f.fake.body_len, 0);
    teardown_fixture(&f);
}
END_TEST

START_TEST(alter_etag_keeps_or_removes_the_etag_when_told)
{
    static const struct {
        int mode;
        const char *want;
    } t[] = {{PT_ETAG_ADD_SUFFIX, "\"a-gzip\""}, {PT_ETAG_NO_CHANGE, "\"a\""},
             {PT_ETAG_REMOVE, NULL}};
    for (size_t i = 0; i < 3; i++) {
        fixture_t f;
        setup_fixture(&f, PT_FILTER_DEFLATE, "gzip");
        f.cc.deflate_etag = t[i].mode;
        pt_request_t *r = &f.r;
        r->content_type = "text/html";
        pt_table_set(&r->headers_out, "ETag", "\"a\"");
        ck_assert_int_eq(pt_resp_start(r, 304, 0), 0);
        const char *etag = pt_table_get(&f.fake.fields, "ETag");
        if (t[i].want)
            ck_assert_str_eq(etag, t[i].want);
        else
            ck_assert_ptr_null(etag);
        teardown_fixture(&f);
    }
    pt_config_t *c = load("DeflateAlterETag NoChange\nBrotliAlterETag Remove\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(PT_COMPRESS_SETTING(c->main_server->dir->compress, deflate_etag),
                     PT_ETAG_NO_CHANGE);
    ck_assert_int_eq(PT_COMPRESS_SETTING(c->main_server->dir->compress, brotli_etag),
                     PT_ETAG_REMOVE);
    pt_config_free(c);
    ck_assert_ptr_null(load("DeflateAlterETag Sometimes\n"));
    ck_assert_ptr_nonnull(strstr(err, "AddSuffix, NoChange or Remove"));
}
END_TEST

static Suite *compress_suite(void)
{
    Suite *s = suite_create("compress");
    TCase *tc = tcase_create("negotiation");
    tcase_add_test(tc, accept_encoding_q_values_are_read_as_rfc_9110_says);
    tcase_add_test(tc, the_chain_takes_set_output_filter_then_extensions_then_types_each_once);
    tcase_add_test(tc, the_highest_q_wins_and_the_chain_order_breaks_a_tie);
    tcase_add_test(tc, bodies_that_must_not_be_transformed_are_left_alone);
    tcase_add_test(tc, env_variables_turn_codings_and_vary_off);
    tcase_add_test(tc, etags_get_the_codings_suffix_inside_the_quotes);
    suite_add_tcase(s, tc);
    TCase *cf = tcase_create("directives");
    tcase_add_test(cf, debians_deflate_conf_and_the_settings_load);
    tcase_add_test(cf, unknown_filters_and_bad_settings_are_errors_with_file_and_line);
    tcase_add_test(cf, inner_sections_replace_set_output_filter_and_add_to_by_type);
    suite_add_tcase(s, cf);
    TCase *fl = tcase_create("filter");
    tcase_add_test(fl, a_streamed_gzip_body_is_flushed_at_every_write);
    tcase_add_test(fl, a_streamed_brotli_body_is_flushed_at_every_write);
    tcase_add_test(fl, a_handlers_body_is_not_flushed_until_the_buffer_fills);
    tcase_add_test(fl, an_offered_file_comes_from_the_cache_with_a_length_and_a_suffixed_etag);
    tcase_add_test(fl, the_cache_encodes_again_when_the_file_changed);
    tcase_add_test(fl, head_and_not_modified_change_the_head_only);
    tcase_add_test(fl, alter_etag_keeps_or_removes_the_etag_when_told);
    suite_add_tcase(s, fl);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(compress_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
