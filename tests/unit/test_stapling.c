/* Unit tests for OCSP stapling (src/tls/stapling.c, ocsp_fetch.c): the responder URL, the
 * HTTP/1.0 client's bounds (a stalled responder, an error status), fetching from the
 * certificate's AIA responder at the tick and stapling in a handshake, responses refused
 * (wrong signer) and mod_ssl's tryLater, SSLStaplingFile read and matched at load, and a
 * refresh by the parent seen by a forked child. A CA, a leaf and the responses are made
 * here with OpenSSL; the responder is a thread on a loopback socket. */
#include "ocsp_fetch.h"
#include "stapling.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The parent's ticks until the fetch a tick started has ended (within 10 s): now is the
 * first tick's time, moved on by what passes. */
static void tick_through(int64_t now)
{
    int64_t t0 = mono_ms();
    while (pt_stapling_tick(now + mono_ms() - t0))
        ck_assert_msg(mono_ms() - t0 < 10000, "a fetch did not end within 10 s");
}

/* ---- A small PKI ------------------------------------------------------------------- */

typedef struct {
    EVP_PKEY *key;
    X509 *cert;
} pki_t;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    ck_assert_ptr_nonnull(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

/* A P-256 certificate for cn, signed by ca (self-signed when NULL); aia: its OCSP URL. */
static pki_t make(const char *cn, const pki_t *ca, const char *aia)
{
    static long serial = 1;
    pki_t p = {EVP_EC_gen("P-256"), X509_new()};
    X509_set_version(p.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(p.cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(p.cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(p.cert), 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(p.cert), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(p.cert, X509_get_subject_name(ca ? ca->cert : p.cert));
    X509_set_pubkey(p.cert, p.key);
    add_ext(p.cert, ca ? ca->cert : p.cert, NID_basic_constraints, ca ? "CA:FALSE" : "CA:TRUE");
    if (aia) {
        char v[256];
        snprintf(v, sizeof(v), "OCSP;URI:%s", aia);
        add_ext(p.cert, ca->cert, NID_info_access, v);
    }
    ck_assert_int_gt(X509_sign(p.cert, ca ? ca->key : p.key, EVP_sha256()), 0);
    return p;
}

static void pki_free(pki_t *p)
{
    X509_free(p->cert);
    EVP_PKEY_free(p->key);
}

/* DER of a successful response about leaf (issued by ca), signed by signer. */
static unsigned char *ocsp_der(const pki_t *leaf, const pki_t *ca, const pki_t *signer,
                               int status, int valid_s, int *len)
{
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf->cert, ca->cert);
    ASN1_TIME *thisupd = X509_gmtime_adj(NULL, -60), *nextupd = X509_gmtime_adj(NULL, valid_s);
    ASN1_TIME *rev = X509_gmtime_adj(NULL, -120);
    ck_assert_ptr_nonnull(OCSP_basic_add1_status(bs, id, status, 0,
                                                 status == V_OCSP_CERTSTATUS_REVOKED ? rev : NULL,
                                                 thisupd, nextupd));
    ck_assert_int_eq(OCSP_basic_sign(bs, signer->cert, signer->key, EVP_sha256(), NULL, 0), 1);
    OCSP_RESPONSE *r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    unsigned char *der = NULL;
    *len = i2d_OCSP_RESPONSE(r, &der);
    ck_assert_int_gt(*len, 0);
    OCSP_RESPONSE_free(r);
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(id);
    ASN1_TIME_free(thisupd);
    ASN1_TIME_free(nextupd);
    ASN1_TIME_free(rev);
    return der;
}

/* ---- A responder thread ------------------------------------------------------------ */

typedef struct {
    int lfd, port;
    const char *head;           /* status line and fields, NULL: stall (read, never answer) */
    const unsigned char *body;
    int body_len;
    int served;                 /* requests whose body was a DER OCSP request */
    pthread_t th;
} responder_t;

static void *responder_main(void *arg)
{
    responder_t *r = arg;
    int fd = accept(r->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    char buf[8192];
    size_t got = 0;
    ssize_t n;
    char *end = NULL;
    while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
        got += (size_t)n;
        buf[got] = '\0';
        end = strstr(buf, "\r\n\r\n");
        const char *cl = strcasestr(buf, "Content-Length:");
        if (end && cl && got >= (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10))
            break;
    }
    if (end) {
        const unsigned char *p = (const unsigned char *)end + 4;
        OCSP_REQUEST *q = d2i_OCSP_REQUEST(NULL, &p, (long)(got - (size_t)(end + 4 - buf)));
        if (q && strncmp(buf, "POST / HTTP/1.0\r\n", 17) == 0)
            r->served++;
        OCSP_REQUEST_free(q);
    }
    if (!r->head) {
        sleep(3);
    } else {
        ck_assert_int_gt(write(fd, r->head, strlen(r->head)), 0);
        if (r->body_len)
            ck_assert_int_eq(write(fd, r->body, (size_t)r->body_len), r->body_len);
    }
    close(fd);
    return NULL;
}

static void responder_start(responder_t *r)
{
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sin);
    ck_assert_int_eq(bind(r->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(listen(r->lfd, 4), 0);
    getsockname(r->lfd, (struct sockaddr *)&sin, &sl);
    r->port = ntohs(sin.sin_port);
    pthread_create(&r->th, NULL, responder_main, r);
}

static void responder_join(responder_t *r)
{
    shutdown(r->lfd, SHUT_RDWR);
    pthread_join(r->th, NULL);
    close(r->lfd);
}

/* ---- The client ---------------------------------------------------------------------- */

START_TEST(url_parse_splits_host_port_and_path)
{
    char host[64], port[8], err[128];
    const char *path;
    ck_assert_int_eq(pt_ocsp_url_parse("http://ocsp.example:8080/a/b", host, sizeof(host),
                                       port, sizeof(port), &path, err, sizeof(err)), 0);
    ck_assert_str_eq(host, "ocsp.example");
    ck_assert_str_eq(port, "8080");
    ck_assert_str_eq(path, "/a/b");
    ck_assert_int_eq(pt_ocsp_url_parse("http://r3.o.lencr.org", host, sizeof(host), port,
                                       sizeof(port), &path, err, sizeof(err)), 0);
    ck_assert_str_eq(port, "80");
    ck_assert_str_eq(path, "/");
    ck_assert_int_eq(pt_ocsp_url_parse("http://[::1]:9/", host, sizeof(host), port,
                                       sizeof(port), &path, err, sizeof(err)), 0);
    ck_assert_str_eq(host, "::1");
    ck_assert_str_eq(port, "9");
    ck_assert_int_eq(pt_ocsp_url_parse("https://x/", host, sizeof(host), port, sizeof(port),
                                       &path, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "only http://"));
    ck_assert_int_eq(pt_ocsp_url_parse("http://:80/", host, sizeof(host), port, sizeof(port),
                                       &path, err, sizeof(err)), -1);
}
END_TEST

START_TEST(post_returns_the_body_of_a_200)
{
    responder_t r = {.head = "HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                             "Content-Length: 5\r\n\r\n",
                     .body = (const unsigned char *)"abcdeXX", .body_len = 7};
    responder_start(&r);
    char url[64], err[256] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", r.port);
    OCSP_REQUEST *q = OCSP_REQUEST_new();
    unsigned char *req = NULL, *out = NULL;
    int qlen = i2d_OCSP_REQUEST(q, &req);
    size_t olen = 0;
    ck_assert_msg(pt_ocsp_post(url, req, (size_t)qlen, 2000, &out, &olen, err, sizeof(err)) == 0,
                  "%s", err);
    responder_join(&r);
    ck_assert_uint_eq(olen, 5); /* Content-Length ends the body */
    ck_assert_mem_eq(out, "abcde", 5);
    ck_assert_int_eq(r.served, 1);
    free(out);
    OPENSSL_free(req);
    OCSP_REQUEST_free(q);
}
END_TEST

START_TEST(post_to_a_stalled_responder_gives_up_at_its_timeout)
{
    responder_t r = {.head = NULL};
    responder_start(&r);
    char url[64], err[256] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", r.port);
    unsigned char *out = NULL;
    size_t olen = 0;
    int64_t t0 = mono_ms();
    ck_assert_int_eq(pt_ocsp_post(url, (const unsigned char *)"x", 1, 300, &out, &olen, err,
                                  sizeof(err)), -1);
    int64_t took = mono_ms() - t0;
    ck_assert_msg(took >= 250 && took < 1500, "took %lld ms", (long long)took);
    ck_assert_msg(strstr(err, "timed out"), "%s", err);
    responder_join(&r);
}
END_TEST

START_TEST(post_refuses_a_status_other_than_200)
{
    responder_t r = {.head = "HTTP/1.0 500 Internal Server Error\r\n\r\n"};
    responder_start(&r);
    char url[64], err[256] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", r.port);
    unsigned char *out = NULL;
    size_t olen = 0;
    ck_assert_int_eq(pt_ocsp_post(url, (const unsigned char *)"x", 1, 2000, &out, &olen, err,
                                  sizeof(err)), -1);
    ck_assert_msg(strstr(err, "HTTP status 500"), "%s", err);
    responder_join(&r);
}
END_TEST

/* ---- Stapling ------------------------------------------------------------------------- */

static SSL_CTX *server_ctx(const pki_t *leaf, const pki_t *ca)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    ck_assert_int_eq(SSL_CTX_use_certificate(ctx, leaf->cert), 1);
    ck_assert_int_eq(SSL_CTX_use_PrivateKey(ctx, leaf->key), 1);
    ck_assert_int_eq(SSL_CTX_add1_chain_cert(ctx, ca->cert), 1);
    return ctx;
}

/* A handshake asking for the status: the OCSP response status of the staple (-1: none). */
static int handshake_staple(SSL_CTX *sctx)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
    BIO *bs, *bc;
    ck_assert_int_eq(BIO_new_bio_pair(&bs, 0, &bc, 0), 1);
    SSL_set_bio(s, bs, bs);
    SSL_set_bio(c, bc, bc);
    SSL_set_accept_state(s);
    SSL_set_connect_state(c);
    SSL_set_tlsext_status_type(c, TLSEXT_STATUSTYPE_ocsp);
    int rs = 0, rc = 0;
    for (int i = 0; i < 20 && (rs != 1 || rc != 1); i++) {
        if (rc != 1)
            rc = SSL_do_handshake(c);
        if (rs != 1)
            rs = SSL_do_handshake(s);
    }
    ck_assert_msg(rs == 1 && rc == 1, "handshake did not complete");
    const unsigned char *p = NULL;
    long len = SSL_get_tlsext_status_ocsp_resp(c, &p);
    int status = -1;
    if (len > 0 && p) {
        OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, len);
        ck_assert_ptr_nonnull(r);
        status = OCSP_response_status(r);
        OCSP_RESPONSE_free(r);
    }
    SSL_free(s);
    SSL_free(c);
    SSL_CTX_free(cctx);
    return status;
}

typedef struct {
    pki_t ca, leaf, stranger;
    responder_t r;
    unsigned char *der;
    int der_len;
    char head[128];
} world_t;

/* A CA, a leaf naming the responder thread in its AIA, and a response about it signed by
 * signer ("ca" or "stranger"). */
static void world(world_t *w, bool signed_by_ca)
{
    memset(w, 0, sizeof(*w));
    responder_start(&w->r);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", w->r.port);
    w->ca = make("Test CA", NULL, NULL);
    w->leaf = make("localhost", &w->ca, url);
    w->stranger = make("Stranger", NULL, NULL);
    w->der = ocsp_der(&w->leaf, &w->ca, signed_by_ca ? &w->ca : &w->stranger,
                      V_OCSP_CERTSTATUS_GOOD, 3600, &w->der_len);
    snprintf(w->head, sizeof(w->head), "HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n",
             w->der_len);
    w->r.head = w->head;
    w->r.body = w->der;
    w->r.body_len = w->der_len;
}

static void world_free(world_t *w)
{
    responder_join(&w->r);
    OPENSSL_free(w->der);
    pki_free(&w->ca);
    pki_free(&w->leaf);
    pki_free(&w->stranger);
}

START_TEST(tick_fetches_from_the_aia_responder_and_handshakes_staple_it)
{
    world_t w;
    world(&w, true);
    SSL_CTX *ctx = server_ctx(&w.leaf, &w.ca);
    pt_stapling_opts_t o;
    pt_stapling_opts_default(&o);
    char err[256] = "";
    ck_assert_msg(pt_stapling_ctx(ctx, &o, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(handshake_staple(ctx), -1); /* nothing before the first tick */
    tick_through(mono_ms());
    ck_assert_int_eq(w.r.served, 1);
    unsigned char *der = NULL;
    ck_assert_int_eq(pt_stapling_current(ctx, w.leaf.cert, &der), (size_t)w.der_len);
    ck_assert_mem_eq(der, w.der, (size_t)w.der_len);
    OPENSSL_free(der);
    ck_assert_int_eq(handshake_staple(ctx), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    /* Not due again before half its validity: no second fetch. */
    tick_through(mono_ms() + 1000);
    ck_assert_int_eq(w.r.served, 1);
    pt_stapling_ctx_free(ctx);
    SSL_CTX_free(ctx);
    world_free(&w);
}
END_TEST

START_TEST(a_new_generation_takes_over_the_response_in_hand)
{
    world_t w;
    world(&w, true);
    SSL_CTX *old = server_ctx(&w.leaf, &w.ca);
    pt_stapling_opts_t o;
    pt_stapling_opts_default(&o);
    char err[256] = "";
    ck_assert_int_eq(pt_stapling_ctx(old, &o, err, sizeof(err)), 0);
    tick_through(mono_ms());
    ck_assert_int_eq(w.r.served, 1);
    /* A graceful restart: the same certificate in a new context, the old one still alive. */
    SSL_CTX *fresh = server_ctx(&w.leaf, &w.ca);
    ck_assert_int_eq(pt_stapling_ctx(fresh, &o, err, sizeof(err)), 0);
    pt_stapling_ctx_free(old);
    SSL_CTX_free(old);
    ck_assert_int_eq(handshake_staple(fresh), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    tick_through(mono_ms());
    ck_assert_int_eq(w.r.served, 1); /* not due: the schedule came along */
    pt_stapling_ctx_free(fresh);
    SSL_CTX_free(fresh);
    world_free(&w);
}
END_TEST

START_TEST(response_from_a_stranger_is_not_stapled_but_try_later_is)
{
    world_t w;
    world(&w, false);
    SSL_CTX *ctx = server_ctx(&w.leaf, &w.ca);
    pt_stapling_opts_t o;
    pt_stapling_opts_default(&o);
    char err[256] = "";
    ck_assert_int_eq(pt_stapling_ctx(ctx, &o, err, sizeof(err)), 0);
    tick_through(mono_ms());
    ck_assert_int_eq(w.r.served, 1);
    /* mod_ssl's SSLStaplingFakeTryLater: the client learns why there is no good answer. */
    ck_assert_int_eq(handshake_staple(ctx), OCSP_RESPONSE_STATUS_TRYLATER);
    pt_stapling_ctx_free(ctx);
    SSL_CTX_free(ctx);
    world_free(&w);
}
END_TEST

START_TEST(without_fake_try_later_a_failed_fetch_staples_nothing)
{
    world_t w;
    world(&w, false);
    SSL_CTX *ctx = server_ctx(&w.leaf, &w.ca);
    pt_stapling_opts_t o;
    pt_stapling_opts_default(&o);
    o.fake_try_later = false;
    char err[256] = "";
    ck_assert_int_eq(pt_stapling_ctx(ctx, &o, err, sizeof(err)), 0);
    tick_through(mono_ms());
    ck_assert_int_eq(handshake_staple(ctx), -1);
    pt_stapling_ctx_free(ctx);
    SSL_CTX_free(ctx);
    world_free(&w);
}
END_TEST

static const char *write_tmp(const void *data, size_t len)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/pt-staple.XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

START_TEST(stapling_file_is_read_at_load_and_must_match_a_certificate)
{
    world_t w;
    world(&w, true);
    w.r.head = "HTTP/1.0 500 Nope\r\n\r\n"; /* the file, never the responder */
    SSL_CTX *ctx = server_ctx(&w.leaf, &w.ca);
    pt_stapling_opts_t o;
    pt_stapling_opts_default(&o);
    o.file = write_tmp(w.der, (size_t)w.der_len);
    char err[256] = "";
    ck_assert_msg(pt_stapling_ctx(ctx, &o, err, sizeof(err)) == 0, "%s", err);
    unlink(o.file);
    ck_assert_int_eq(handshake_staple(ctx), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    tick_through(mono_ms());
    ck_assert_int_eq(w.r.served, 0);
    pt_stapling_ctx_free(ctx);
    SSL_CTX_free(ctx);

    /* A response about another certificate, and a file that is no response at all. */
    pki_t other = make("other", &w.ca, NULL);
    int olen;
    unsigned char *oder = ocsp_der(&other, &w.ca, &w.ca, V_OCSP_CERTSTATUS_GOOD, 3600, &olen);
    ctx = server_ctx(&w.leaf, &w.ca);
    o.file = write_tmp(oder, (size_t)olen);
    ck_assert_int_eq(pt_stapling_ctx(ctx, &o, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "about none of this server's certificates"), "%s", err);
    unlink(o.file);
    o.file = write_tmp("garbage", 7);
    ck_assert_int_eq(pt_stapling_ctx(ctx, &o, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "not a DER OCSP response"), "%s", err);
    unlink(o.file);
    o.file = "/nonexistent/ocsp.der";
    ck_assert_int_eq(pt_stapling_ctx(ctx, &o, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "/nonexistent/ocsp.der: No such file"), "%s", err);
    SSL_CTX_free(ctx);
    OPENSSL_free(oder);
    pki_free(&other);
    /* Unblock the responder thread, which waits for one connection. */
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", w.r.port);
    unsigned char *out = NULL;
    size_t n;
    pt_ocsp_post(url, (const unsigned char *)"x", 1, 2000, &out, &n, err, sizeof(err));
    world_free(&w);
}
END_TEST

START_TEST(a_certificate_without_responder_is_not_stapled)
{
    pki_t ca = make("Test CA", NULL, NULL), leaf = make("localhost", &ca, NULL);
    SSL_CTX *ctx = server_ctx(&leaf, &ca);
    pt_stapling_opts_t o;
    pt_stapling_opts_default(&o);
    char err[256] = "";
    ck_assert_int_eq(pt_stapling_ctx(ctx, &o, err, sizeof(err)), 0);
    tick_through(mono_ms());
    ck_assert_int_eq(handshake_staple(ctx), -1);
    pt_stapling_ctx_free(ctx);
    SSL_CTX_free(ctx);
    pki_free(&leaf);
    pki_free(&ca);
}
END_TEST

START_TEST(a_tick_waits_no_longer_than_its_budget_for_a_stalled_responder)
{
    responder_t r = {.head = NULL};
    responder_start(&r);
    char url[64], err[256] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", r.port);
    pki_t ca = make("Test CA", NULL, NULL), leaf = make("localhost", &ca, NULL);
    SSL_CTX *ctx = server_ctx(&leaf, &ca);
    pt_stapling_opts_t o;
    pt_stapling_opts_default(&o);
    o.force_url = url;
    o.timeout_ms = 600;
    ck_assert_msg(pt_stapling_ctx(ctx, &o, err, sizeof(err)) == 0, "%s", err);
    int64_t t0 = mono_ms();
    ck_assert(pt_stapling_tick(t0)); /* in flight */
    ck_assert(pt_stapling_tick(t0 + 1));
    int64_t took = mono_ms() - t0;
    ck_assert_msg(took < 2 * PT_STAPLING_TICK_BUDGET_MS + 100, "two ticks took %lld ms",
                  (long long)took);
    tick_through(t0 + 2);
    took = mono_ms() - t0;
    ck_assert_msg(took >= 550 && took < 3000, "the fetch ended after %lld ms", (long long)took);
    /* It failed at its timeout: mod_ssl's tryLater is stapled meanwhile. */
    ck_assert_int_eq(handshake_staple(ctx), OCSP_RESPONSE_STATUS_TRYLATER);
    pt_stapling_ctx_free(ctx);
    SSL_CTX_free(ctx);
    pki_free(&leaf);
    pki_free(&ca);
    responder_join(&r);
}
END_TEST

START_TEST(a_fetch_by_the_parent_is_stapled_by_a_forked_child)
{
    world_t w;
    world(&w, true);
    SSL_CTX *ctx = server_ctx(&w.leaf, &w.ca);
    pt_stapling_opts_t o;
    pt_stapling_opts_default(&o);
    char err[256] = "";
    ck_assert_int_eq(pt_stapling_ctx(ctx, &o, err, sizeof(err)), 0);
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char b;
        if (read(go[0], &b, 1) != 1)
            _exit(2);
        _exit(handshake_staple(ctx) == OCSP_RESPONSE_STATUS_SUCCESSFUL ? 0 : 3);
    }
    tick_through(mono_ms());
    ck_assert_int_eq(write(go[1], "g", 1), 1);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %d", st);
    close(go[0]), close(go[1]);
    pt_stapling_ctx_free(ctx);
    SSL_CTX_free(ctx);
    world_free(&w);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("stapling");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, url_parse_splits_host_port_and_path);
    tcase_add_test(tc, post_returns_the_body_of_a_200);
    tcase_add_test(tc, post_to_a_stalled_responder_gives_up_at_its_timeout);
    tcase_add_test(tc, post_refuses_a_status_other_than_200);
    tcase_add_test(tc, tick_fetches_from_the_aia_responder_and_handshakes_staple_it);
    tcase_add_test(tc, a_new_generation_takes_over_the_response_in_hand);
    tcase_add_test(tc, response_from_a_stranger_is_not_stapled_but_try_later_is);
    tcase_add_test(tc, without_fake_try_later_a_failed_fetch_staples_nothing);
    tcase_add_test(tc, stapling_file_is_read_at_load_and_must_match_a_certificate);
    tcase_add_test(tc, a_certificate_without_responder_is_not_stapled);
    tcase_add_test(tc, a_fetch_by_the_parent_is_stapled_by_a_forked_child);
    tcase_add_test(tc, a_tick_waits_no_longer_than_its_budget_for_a_stalled_responder);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
