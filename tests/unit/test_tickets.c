/* Unit tests for the shared session ticket keys (src/tls/tickets.c): resumption through the
 * ring from another SSL_CTX (another child, another generation), rotation (the previous key
 * still decrypts, the one before does not), mod_ssl's 48-byte key file shared by replicas,
 * SSLSessionTickets off, and a rotation in the parent seen by a forked child. Handshakes
 * run in memory (BIO pairs) against a self-signed certificate made here. */
#include "tickets.h"

#include <check.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static EVP_PKEY *pkey;
static X509 *cert;

/* A P-256 key and a self-signed certificate for CN=localhost, once per test process. */
static void make_cert(void)
{
    if (cert)
        return;
    pkey = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(pkey);
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_NAME *nm = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
                               -1, 0);
    X509_set_issuer_name(cert, nm);
    X509_set_pubkey(cert, pkey);
    ck_assert_int_gt(X509_sign(cert, pkey, EVP_sha256()), 0);
}

/* A server context as the TLS core makes one, with tickets set by pt_tickets_ctx. */
static SSL_CTX *server_ctx(bool enabled, const pt_ticket_key_t *fk, long timeout_s)
{
    make_cert();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(SSL_CTX_use_certificate(ctx, cert), 1);
    ck_assert_int_eq(SSL_CTX_use_PrivateKey(ctx, pkey), 1);
    SSL_CTX_set_timeout(ctx, timeout_s);
    char err[256] = "";
    ck_assert_int_eq(pt_tickets_init(err, sizeof(err)), 0);
    ck_assert_msg(pt_tickets_ctx(ctx, enabled, fk, err, sizeof(err)) == 0, "%s", err);
    return ctx;
}

static SSL_CTX *client_ctx(int version)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    return ctx;
}

/* One handshake (offering in, when given) and one byte from the server, so that the client
 * has read TLS 1.3's tickets. Returns whether the session was resumed; *out gets the
 * client's session afterwards (the newest ticket), NULL when it has none to offer. */
static bool handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *in, SSL_SESSION **out)
{
    SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
    BIO *bs, *bc;
    ck_assert_int_eq(BIO_new_bio_pair(&bs, 0, &bc, 0), 1);
    SSL_set_bio(s, bs, bs);
    SSL_set_bio(c, bc, bc);
    SSL_set_accept_state(s);
    SSL_set_connect_state(c);
    SSL_set_tlsext_host_name(c, "localhost");
    if (in)
        ck_assert_int_eq(SSL_set_session(c, in), 1);
    int rs = 0, rc = 0;
    for (int i = 0; i < 20 && (rs != 1 || rc != 1); i++) {
        if (rc != 1)
            rc = SSL_do_handshake(c);
        if (rs != 1)
            rs = SSL_do_handshake(s);
    }
    ck_assert_msg(rs == 1 && rc == 1, "handshake did not complete");
    char b = 'x';
    ck_assert_int_eq(SSL_write(s, &b, 1), 1);
    ck_assert_int_eq(SSL_read(c, &b, 1), 1);
    bool reused = SSL_session_reused(c) == 1;
    if (out) {
        SSL_SESSION *ss = SSL_get1_session(c);
        *out = ss && SSL_SESSION_is_resumable(ss) ? ss : NULL;
        if (ss && !*out)
            SSL_SESSION_free(ss);
    }
    /* A clean close: OpenSSL marks the session of an SSL freed without one not resumable. */
    SSL_shutdown(c);
    SSL_shutdown(s);
    SSL_free(s);
    SSL_free(c);
    return reused;
}

static void check_resumes(int version)
{
    SSL_CTX *s1 = server_ctx(true, NULL, 300), *s2 = server_ctx(true, NULL, 300);
    SSL_CTX *cc = client_ctx(version);
    SSL_SESSION *sess = NULL, *again = NULL;
    ck_assert(!handshake(s1, cc, NULL, &sess));
    ck_assert_ptr_nonnull(sess);
    /* s2 stands for another child (or the next generation): it shares only the ring. */
    ck_assert(handshake(s2, cc, sess, &again));
    SSL_SESSION_free(sess);
    SSL_SESSION_free(again);
    SSL_CTX_free(s1);
    SSL_CTX_free(s2);
    SSL_CTX_free(cc);
}

START_TEST(resumes_tls13_on_another_context_through_the_ring)
{
    check_resumes(TLS1_3_VERSION);
}
END_TEST

START_TEST(resumes_tls12_on_another_context_through_the_ring)
{
    check_resumes(TLS1_2_VERSION);
}
END_TEST

START_TEST(previous_key_still_decrypts_and_the_one_before_does_not)
{
    SSL_CTX *s = server_ctx(true, NULL, 300), *cc = client_ctx(TLS1_3_VERSION);
    SSL_SESSION *old = NULL, *renewed = NULL, *tmp = NULL;
    ck_assert(!handshake(s, cc, NULL, &old));
    pt_tickets_rotate(1);
    /* Decrypted with the previous key: resumed, and a new ticket under the current key. */
    ck_assert(handshake(s, cc, old, &renewed));
    pt_tickets_rotate(2);
    ck_assert(!handshake(s, cc, old, &tmp));
    SSL_SESSION_free(tmp);
    ck_assert(handshake(s, cc, renewed, &tmp));
    SSL_SESSION_free(tmp);
    SSL_SESSION_free(old);
    SSL_SESSION_free(renewed);
    SSL_CTX_free(s);
    SSL_CTX_free(cc);
}
END_TEST

START_TEST(tick_rotates_after_the_session_timeout_only)
{
    SSL_CTX *s = server_ctx(true, NULL, 2);
    unsigned char a[16], b[16];
    ck_assert(pt_tickets_current_name(a));
    /* Init stamped the ring with the monotonic clock; two seconds later it is due. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    pt_tickets_tick(pt_tickets_ctx_period_ms(s), now + 1000);
    ck_assert(pt_tickets_current_name(b));
    ck_assert_mem_eq(a, b, 16);
    pt_tickets_tick(pt_tickets_ctx_period_ms(s), now + 2100);
    ck_assert(pt_tickets_current_name(b));
    ck_assert(memcmp(a, b, 16) != 0);
    SSL_CTX_free(s);
}
END_TEST

static const char *write_tmp(const void *data, size_t len)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/pt-tickets.XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

/* A TLS 1.3 session made in another process, under a key file of its own. */
static SSL_SESSION *foreign_session(void)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        pt_ticket_key_t k;
        memset(&k, 0x5a, sizeof(k));
        k.hmac_len = k.aes_len = 16;
        SSL_CTX *s = server_ctx(true, &k, 300), *c = client_ctx(TLS1_3_VERSION);
        SSL_SESSION *sess = NULL;
        handshake(s, c, NULL, &sess);
        unsigned char buf[8192], *w = buf;
        int n = sess ? i2d_SSL_SESSION(sess, &w) : 0;
        _exit(n > 0 && write(p[1], buf, (size_t)n) == n ? 0 : 1);
    }
    close(p[1]);
    unsigned char buf[8192];
    ssize_t n = read(p[0], buf, sizeof(buf));
    close(p[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0 && n > 0);
    const unsigned char *r = buf;
    SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &r, (long)n);
    ck_assert_ptr_nonnull(sess);
    return sess;
}

START_TEST(key_file_of_48_bytes_is_shared_by_replicas)
{
    unsigned char raw[PT_TICKET_KEY_FILE_LEN];
    for (size_t i = 0; i < sizeof(raw); i++)
        raw[i] = (unsigned char)(i * 7 + 1);
    const char *path = write_tmp(raw, sizeof(raw));
    pt_ticket_key_t k;
    char err[256] = "";
    ck_assert_msg(pt_tickets_key_file(path, &k, err, sizeof(err)) == 0, "%s", err);
    unlink(path);
    ck_assert_mem_eq(k.name, raw, 16);
    ck_assert_int_eq(k.aes_len, 16);
    /* Two replicas: the same file key in two contexts. */
    SSL_CTX *r1 = server_ctx(true, &k, 300), *r2 = server_ctx(true, &k, 300);
    SSL_CTX *other = server_ctx(true, NULL, 300), *cc = client_ctx(TLS1_3_VERSION);
    SSL_SESSION *sess = NULL, *tmp = NULL;
    ck_assert(!handshake(r1, cc, NULL, &sess));
    pt_tickets_rotate(1); /* the ring's rotation does not touch a file key */
    ck_assert(handshake(r2, cc, sess, &tmp));
    SSL_SESSION_free(tmp);
    /* A context without the file (here one on the ring) takes none of its tickets: a
     * server decrypts with its own file's key only, so a replaced file retires its key. (In
     * the server, the ClientHello callback has switched to the server SNI names before
     * OpenSSL reads the ticket: tls_ctx.c.) */
    tmp = NULL;
    ck_assert(!handshake(other, cc, sess, &tmp));
    SSL_SESSION_free(tmp);
    /* A ticket from a process that never had this file is not decrypted. */
    SSL_SESSION *foreign = foreign_session();
    ck_assert(!handshake(r2, cc, foreign, &tmp));
    SSL_SESSION_free(tmp);
    SSL_SESSION_free(foreign);
    SSL_SESSION_free(sess);
    SSL_CTX_free(r1);
    SSL_CTX_free(r2);
    SSL_CTX_free(other);
    SSL_CTX_free(cc);
}
END_TEST

START_TEST(key_file_of_another_size_or_missing_is_refused)
{
    unsigned char raw[80] = {0};
    pt_ticket_key_t k;
    char err[256] = "";
    const char *p = write_tmp(raw, 47);
    ck_assert_int_eq(pt_tickets_key_file(p, &k, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "exactly 48 bytes") && strstr(err, "it holds 47"), "%s", err);
    unlink(p);
    p = write_tmp(raw, 80);
    ck_assert_int_eq(pt_tickets_key_file(p, &k, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "it holds more than 48"), "%s", err);
    unlink(p);
    ck_assert_int_eq(pt_tickets_key_file("/nonexistent/tk", &k, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "/nonexistent/tk: No such file"), "%s", err);
}
END_TEST

START_TEST(tickets_off_gives_no_resumable_session)
{
    for (int v = TLS1_2_VERSION; v <= TLS1_3_VERSION; v++) {
        SSL_CTX *s = server_ctx(false, NULL, 300), *cc = client_ctx(v);
        SSL_SESSION *sess = NULL, *tmp = NULL;
        ck_assert(!handshake(s, cc, NULL, &sess));
        if (sess) /* TLS 1.2: a session ID the server did not keep */
            ck_assert(!handshake(s, cc, sess, &tmp));
        SSL_SESSION_free(sess);
        SSL_SESSION_free(tmp);
        SSL_CTX_free(s);
        SSL_CTX_free(cc);
    }
}
END_TEST

START_TEST(rotation_in_the_parent_is_seen_by_a_forked_child)
{
    SSL_CTX *s = server_ctx(true, NULL, 300), *cc = client_ctx(TLS1_3_VERSION);
    int go[2], res[2];
    ck_assert_int_eq(pipe(go), 0);
    ck_assert_int_eq(pipe(res), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* The child: after the parent's rotation, a ticket it issues must be one the parent
         * (any other child) decrypts with its current key. */
        char b;
        if (read(go[0], &b, 1) != 1)
            _exit(2);
        unsigned char name[16];
        if (!pt_tickets_current_name(name))
            _exit(3);
        _exit(write(res[1], name, 16) == 16 ? 0 : 4);
    }
    pt_tickets_rotate(5);
    unsigned char mine[16], theirs[16];
    ck_assert(pt_tickets_current_name(mine));
    ck_assert_int_eq(write(go[1], "g", 1), 1);
    ck_assert_int_eq(read(res[0], theirs, 16), 16);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_mem_eq(mine, theirs, 16);
    close(go[0]), close(go[1]), close(res[0]), close(res[1]);
    SSL_CTX_free(s);
    SSL_CTX_free(cc);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("tickets");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, resumes_tls13_on_another_context_through_the_ring);
    tcase_add_test(tc, resumes_tls12_on_another_context_through_the_ring);
    tcase_add_test(tc, previous_key_still_decrypts_and_the_one_before_does_not);
    tcase_add_test(tc, tick_rotates_after_the_session_timeout_only);
    tcase_add_test(tc, key_file_of_48_bytes_is_shared_by_replicas);
    tcase_add_test(tc, key_file_of_another_size_or_missing_is_refused);
    tcase_add_test(tc, tickets_off_gives_no_resumable_session);
    tcase_add_test(tc, rotation_in_the_parent_is_seen_by_a_forked_child);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
