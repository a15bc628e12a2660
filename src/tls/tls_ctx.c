/* The SSL_CTXs of a configuration generation: made in the parent when the configuration
 * is loaded (so a bad certificate is a file:line error at start, at -t, and on a restart
 * that then keeps the old generation serving), inherited by the children, and kept here
 * in a registry keyed by the config (the config itself stays read-only). Also the
 * callbacks every context shares: the ClientHello's SNI picks the virtual host's context,
 * ALPN offers what its Protocols list. */
#include "log.h"
#include "tls.h"
#include "tls_ctx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

/* TLS 1.2 suites when no SSLCipherSuite is given: AEAD with forward secrecy only (ECDHE
 * with AES-GCM or ChaCha20-Poly1305), Mozilla's "intermediate" minus the DHE ones. */
#define PT_TLS_DEFAULT_CIPHERS                                                            \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                           \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                           \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/* TLS 1.3's suites are all AEAD with forward secrecy: OpenSSL's three, in the order of the
 * 1.2 list (Mozilla's, HAProxy's): AES-128-GCM first, which costs a third fewer AES rounds
 * per record than AES-256-GCM (OpenSSL's default first, and so every OpenSSL client's) at
 * a strength no attack approaches. With the default lists a client that puts ChaCha20
 * first (one without AES instructions) still gets it: SSL_OP_PRIORITIZE_CHACHA. */
#define PT_TLS_DEFAULT_CIPHERS13                                                          \
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define PT_TLS_DEFAULT_CACHE_TIMEOUT_S 300 /* mod_ssl's SSLSessionCacheTimeout */
#define PT_TLS_DEFAULT_VERIFY_DEPTH 1      /* mod_ssl's SSLVerifyDepth */

/* One server's context (the SSL_CTX holds one reference per entry). */
typedef struct {
    const pt_vhost_t *vh;
    SSL_CTX *ctx;
} tls_entry_t;

/* A TLS listener: connections to this port (and address, unless it is a wildcard). */
typedef struct {
    int port;
    int family;                /* 0: any address */
    unsigned char addr[16];
} tls_addr_t;

/* One generation's contexts, owned by the registry; made and freed in the parent only (a
 * child reads the copy it inherited), so no lock. */
typedef struct tls_gen {
    const pt_config_t *cfg;
    tls_entry_t *ents;
    size_t nents;
    tls_addr_t *addrs;
    size_t naddrs;
    struct tls_gen *next;
} tls_gen_t;

static tls_gen_t *gens;
/* What ALPN may choose: protocols a driver exists for (startup.c adds them). */
static const char *alpn_known[4] = {"http/1.1"};
static size_t nalpn_known = 1;
static const pt_tls_ctx_hook_t *hooks[PT_TLS_CTX_HOOKS_MAX];
static size_t nhooks;

int pt_tls_ctx_hook_register(const pt_tls_ctx_hook_t *hook)
{
    for (size_t i = 0; i < nhooks; i++)
        if (hooks[i] == hook)
            return 0;
    if (nhooks == PT_TLS_CTX_HOOKS_MAX)
        return PT_EINVAL;
    hooks[nhooks++] = hook;
    return 0;
}

int pt_tls_alpn_offer(const char *proto)
{
    for (size_t i = 0; i < nalpn_known; i++)
        if (strcmp(alpn_known[i], proto) == 0)
            return 0;
    if (nalpn_known == PT_ARRAY_LEN(alpn_known))
        return PT_EINVAL;
    alpn_known[nalpn_known++] = proto;
    return 0;
}

const char *pt_tls_alpn_intern(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < nalpn_known; i++)
        if (strlen(alpn_known[i]) == n && memcmp(alpn_known[i], p, n) == 0)
            return alpn_known[i];
    return NULL;
}

static bool alpn_served(const char *proto)
{
    return pt_tls_alpn_intern((const unsigned char *)proto, strlen(proto)) != NULL;
}

int pt_tls_conn_index(void)
{
    /* Made once, at the first load (start-up, single-threaded), before any fork. */
    static int idx = -1;
    if (idx < 0)
        idx = SSL_get_ex_new_index(0, "pt_conn", NULL, NULL, NULL);
    return idx;
}

static tls_gen_t *gen_of(const pt_config_t *cfg)
{
    for (tls_gen_t *g = gens; g; g = g->next)
        if (g->cfg == cfg)
            return g;
    return NULL;
}

void pt_tls_ctx_each(const pt_config_t *cfg, void (*fn)(SSL_CTX *ctx, void *arg), void *arg)
{
    tls_gen_t *g = cfg ? gen_of(cfg) : NULL;
    for (size_t i = 0; g && i < g->nents; i++)
        fn(g->ents[i].ctx, arg);
}

static const tls_entry_t *entry_for(const pt_config_t *cfg, const pt_vhost_t *vh)
{
    tls_gen_t *g = gen_of(cfg);
    for (size_t i = 0; g && i < g->nents; i++)
        if (g->ents[i].vh == vh)
            return &g->ents[i];
    return NULL;
}

SSL_CTX *pt_tls_ctx_for(const pt_config_t *cfg, const pt_vhost_t *vh)
{
    const tls_entry_t *e = entry_for(cfg, vh);
    return e ? e->ctx : NULL;
}

bool pt_tls_addr_is_tls(const pt_config_t *cfg, const struct sockaddr *local)
{
    tls_gen_t *g = gen_of(cfg);
    if (!g || !g->naddrs)
        return false;
    int port = 0, fam = local->sa_family;
    const unsigned char *ip = NULL;
    if (fam == AF_INET) {
        port = ntohs(((const struct sockaddr_in *)local)->sin_port);
        ip = (const unsigned char *)&((const struct sockaddr_in *)local)->sin_addr;
    } else if (fam == AF_INET6) {
        port = ntohs(((const struct sockaddr_in6 *)local)->sin6_port);
        ip = ((const struct sockaddr_in6 *)local)->sin6_addr.s6_addr;
    }
    for (size_t i = 0; i < g->naddrs; i++) {
        const tls_addr_t *a = &g->addrs[i];
        if (a->port == port && (!a->family || (a->family == fam && ip &&
                                memcmp(a->addr, ip, fam == AF_INET ? 4 : 16) == 0)))
            return true;
    }
    return false;
}

/* ---- Callbacks shared by every context ------------------------------------------------ */

/* The server's Protocols (the main server's when it names none; http/1.1 by default),
 * offered through ALPN in the server's order: the first one the client also offers. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    const pt_vhost_t *vh = arg;
    pt_conn_t *c = SSL_get_ex_data(ssl, pt_tls_conn_index());
    static const char *const dflt[] = {"http/1.1"};
    const char *const *p = dflt;
    size_t np = 1;
    if (vh->protocols) {
        p = vh->protocols, np = vh->nprotocols;
    } else if (c && c->cfg->main_server->protocols) {
        p = c->cfg->main_server->protocols, np = c->cfg->main_server->nprotocols;
    }
    for (size_t i = 0; i < np; i++) {
        size_t pl = strlen(p[i]);
        if (!alpn_served(p[i])) /* h2c (cleartext only), or no driver for it */
            continue;
        for (unsigned k = 0; k < inlen; k += 1u + in[k]) {
            if (in[k] == pl && k + 1u + pl <= inlen && memcmp(in + k + 1, p[i], pl) == 0) {
                *out = in + k + 1;
                *outlen = in[k];
                return SSL_TLSEXT_ERR_OK;
            }
        }
    }
    return SSL_TLSEXT_ERR_NOACK; /* no common protocol: go on without ALPN (HTTP/1.1) */
}

/* The host name of the ClientHello's server_name extension (RFC 6066 section 3: one
 * host_name entry, as OpenSSL itself accepts it), into buf; NULL for none, or for one that
 * OpenSSL's own parse will refuse. */
static const char *hello_name(SSL *ssl, char *buf, size_t n)
{
    const unsigned char *p;
    size_t len;
    if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) || len < 5)
        return NULL;
    size_t list = (size_t)p[0] << 8 | p[1], nl = (size_t)p[3] << 8 | p[4];
    if (list != len - 2 || p[2] != TLSEXT_NAMETYPE_host_name || nl == 0 || nl + 3 != list ||
        nl >= n || memchr(p + 5, 0, nl))
        return NULL;
    memcpy(buf, p + 5, nl);
    buf[nl] = '\0';
    return buf;
}

/* Moves a connection to another server's context before OpenSSL acts on its ClientHello.
 * SSL_set_SSL_CTX brings the certificates and the session id context (with it which
 * sessions resume); the suites (SSL_get_ciphers), the client CA names (SSL_get_client_CA_list)
 * and the callbacks (ALPN, OCSP stapling, the ticket keys' host) are read from the context
 * the connection is on, as long as the SSL has none of its own (portico gives it none). What
 * SSL_new copied from the first context is copied here: the versions, the options
 * (SSLHonorCipherOrder, SSLSessionTickets), the number of TLS 1.3 tickets, and client
 * verification (SSLVerifyClient, SSLVerifyDepth). */
static int switch_ctx(SSL *ssl, SSL_CTX *ctx)
{
    if (!SSL_set_SSL_CTX(ssl, ctx) ||
        !SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(ctx)) ||
        !SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(ctx)))
        return -1;
    uint64_t opts = SSL_CTX_get_options(ctx);
    SSL_clear_options(ssl, SSL_get_options(ssl) & ~opts);
    SSL_set_options(ssl, opts);
    SSL_set_num_tickets(ssl, SSL_CTX_get_num_tickets(ctx));
    SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx), SSL_CTX_get_verify_callback(ctx));
    SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(ctx));
    return 0;
}

/* SNI, read from the ClientHello before OpenSSL negotiates the version and (TLS 1.3) the
 * suite or resumes a session, so that all of them are the named server's, as mod_ssl's
 * ClientHello callback does: the name-based virtual host of the connection's address for
 * the name (the address's default for no name or an unknown one, as Apache). Once: a second
 * ClientHello (after a HelloRetryRequest) keeps the server of the first. */
static int client_hello(SSL *ssl, int *alert, void *arg)
{
    (void)arg;
    pt_conn_t *c = SSL_get_ex_data(ssl, pt_tls_conn_index());
    pt_tls_state_t *st = c ? c->tp_state : NULL;
    if (!st || st->sni_done)
        return SSL_CLIENT_HELLO_SUCCESS;
    st->sni_done = true;
    char buf[TLSEXT_MAXLEN_host_name + 1];
    const char *name = hello_name(ssl, buf, sizeof(buf));
    if (!name)
        return SSL_CLIENT_HELLO_SUCCESS;
    const pt_vhost_t *vh = pt_config_vhost_for(c->cfg, &c->local.sa, name);
    const tls_entry_t *e = entry_for(c->cfg, vh);
    if (!e || e->ctx == SSL_get_SSL_CTX(ssl))
        return SSL_CLIENT_HELLO_SUCCESS;
    if (switch_ctx(ssl, e->ctx) < 0) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    st->vh = vh;
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* The server is chosen by then (client_hello); accepting the name is what makes OpenSSL
 * acknowledge it and keep it in a TLS 1.2 session, where SSL_get_servername of a resumed
 * connection finds it (SSL_TLS_SNI, the 421 check's log line). */
static int servername(SSL *ssl, int *alert, void *arg)
{
    (void)ssl, (void)alert, (void)arg;
    return SSL_TLSEXT_ERR_OK;
}

/* ---- Making one context --------------------------------------------------------------- */

/* OpenSSL's reason for the last failure, for a message. */
static const char *ossl_reason(char *buf, size_t n)
{
    unsigned long e = ERR_peek_last_error();
    if (!e)
        snprintf(buf, n, "unknown error");
    else
        ERR_error_string_n(e, buf, n);
    ERR_clear_error();
    return buf;
}

static int fail_at(dcx_t *l, const pt_tls_path_t *p, const char *what, const char *why)
{
    return pt_tls_fail_at(l, p, what, why);
}


/* A file a directive names must be readable: say so plainly before OpenSSL's codes. */
static int readable(dcx_t *l, const pt_tls_path_t *p, const char *what)
{
    FILE *f = fopen(p->path, "r");
    if (!f)
        return fail_at(l, p, what, strerror(errno));
    fclose(f);
    return 0;
}

/* Each SSLCertificateFile (leaf first, then its chain) with the key of the same rank (or
 * from the same file): an RSA and an ECDSA pair sit side by side in one context. */
static int load_certs(dcx_t *l, SSL_CTX *ctx, const pt_tls_conf_t *tc)
{
    char why[256];
    for (size_t i = 0; i < tc->ncerts; i++) {
        const pt_tls_path_t *cp = &tc->certs[i];
        const pt_tls_path_t *kp = i < tc->nkeys ? &tc->keys[i] : cp;
        if (readable(l, cp, "SSLCertificateFile") < 0 ||
            readable(l, kp, kp == cp ? "SSLCertificateFile (key)" : "SSLCertificateKeyFile") < 0)
            return -1;
        if (SSL_CTX_use_certificate_chain_file(ctx, cp->path) != 1)
            return fail_at(l, cp, "SSLCertificateFile", ossl_reason(why, sizeof(why)));
        if (SSL_CTX_use_PrivateKey_file(ctx, kp->path, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
            return fail_at(l, kp, "SSLCertificateKeyFile", ossl_reason(why, sizeof(why)));
    }
    if (tc->chain.path) {
        if (readable(l, &tc->chain, "SSLCertificateChainFile") < 0)
            return -1;
        BIO *b = BIO_new_file(tc->chain.path, "r");
        X509 *x;
        int n = 0;
        while (b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
            if (SSL_CTX_add_extra_chain_cert(ctx, x) != 1) {
                X509_free(x);
                break;
            }
            n++;
        }
        BIO_free(b);
        ERR_clear_error(); /* the end of the file reads as an error */
        if (n == 0)
            return fail_at(l, &tc->chain, "SSLCertificateChainFile", "no certificate in it");
    }
    return 0;
}

static int load_client_verify(dcx_t *l, SSL_CTX *ctx, const pt_tls_conf_t *tc)
{
    char why[256];
    int v = tc->verify_client < 0 ? PT_TLS_VERIFY_NONE : tc->verify_client;
    if (tc->ca_file.path || tc->ca_path.path) {
        const pt_tls_path_t *p = tc->ca_file.path ? &tc->ca_file : &tc->ca_path;
        if (tc->ca_file.path && readable(l, &tc->ca_file, "SSLCACertificateFile") < 0)
            return -1;
        if (SSL_CTX_load_verify_locations(ctx, tc->ca_file.path, tc->ca_path.path) != 1)
            return fail_at(l, p, "SSLCACertificateFile", ossl_reason(why, sizeof(why)));
    }
    if (pt_tls_client_ca_names(l, ctx, tc) < 0)
        return -1;
    if (!tc->ca_file.path && !tc->ca_path.path &&
        (v == PT_TLS_VERIFY_REQUIRE || v == PT_TLS_VERIFY_OPTIONAL)) {
        pt_tls_path_t at = {.path = "", .file = tc->file, .line = tc->line};
        return fail_at(l, &at, "SSLVerifyClient", "needs SSLCACertificateFile or "
                       "SSLCACertificatePath (the CAs client certificates are checked "
                       "against)");
    }
    int mode = v == PT_TLS_VERIFY_NONE ? SSL_VERIFY_NONE : SSL_VERIFY_PEER;
    if (v == PT_TLS_VERIFY_REQUIRE)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    /* optional_no_ca's forgiveness is in pt_tls_client_verify_cb's callback */
    SSL_CTX_set_verify(ctx, mode, NULL);
    if (pt_tls_client_revocation(l, ctx, tc) < 0 || pt_tls_client_verify_cb(l, ctx, tc) < 0)
        return -1;
    SSL_CTX_set_verify_depth(ctx, tc->verify_depth < 0 ? PT_TLS_DEFAULT_VERIFY_DEPTH
                                                       : tc->verify_depth);
    return 0;
}

/* Protocol versions, suites and the secure defaults (see tls.h and the README). */
static int set_protocol(dcx_t *l, SSL_CTX *ctx, const pt_tls_conf_t *tc)
{
    char why[256];
    unsigned p = tc->protocols ? tc->protocols : (PT_TLS_V12 | PT_TLS_V13);
    SSL_CTX_set_min_proto_version(ctx, (p & PT_TLS_V12) ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, (p & PT_TLS_V13) ? TLS1_3_VERSION : TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(ctx, tc->ciphers12 ? tc->ciphers12
                                                   : PT_TLS_DEFAULT_CIPHERS) != 1)
        return fail_at(l, &tc->ciphers_at, "SSLCipherSuite",
                       ossl_reason(why, sizeof(why)));
    if (SSL_CTX_set_ciphersuites(ctx, tc->ciphers13 ? tc->ciphers13
                                                    : PT_TLS_DEFAULT_CIPHERS13) != 1)
        return fail_at(l, &tc->ciphers_at, "SSLCipherSuite TLSv1.3",
                       ossl_reason(why, sizeof(why)));
    /* Ignore unexpected EOF: curl and browsers often close without close_notify, an EOF
     * and not an attack (HTTP has its own framing, so truncation is seen there). */
    uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF;
    if (pt_tls_kernel_offers_tls())
        opts |= SSL_OP_ENABLE_KTLS;
    if (tc->honor_order != 0)
        opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    if (tc->honor_order != 0 && !tc->ciphers12 && !tc->ciphers13)
        opts |= SSL_OP_PRIORITIZE_CHACHA; /* a list given is taken in its exact order */
    if (tc->tickets == 0)
        opts |= SSL_OP_NO_TICKET;
    SSL_CTX_set_options(ctx, opts);
    /* Partial writes: a writev reports what went out, as a socket does; moving buffer: a
     * retried write may come from another copy of the same bytes (conn.c re-reads a file
     * slice); release buffers: an idle parked connection keeps no 34 KiB of them (a busy
     * one turns it off while it stays busy: tls_transport.c's tls_idle). */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    /* Read ahead: one recv takes every record waiting (up to the read buffer), not a
     * record's 5-byte header and then its body. What it read past the record asked for is
     * OpenSSL's (SSL_has_pending): pt_conn_pending sees it before a connection parks. */
    SSL_CTX_set_read_ahead(ctx, 1);
    return 0;
}

bool pt_tls_kernel_offers_tls(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true; /* (unknown: OpenSSL's own attempt decides) */
    int rc = setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls") - 1);
    int err = errno;
    close(fd);
    return rc == 0 || err != ENOENT;
}

static void sid_str(EVP_MD_CTX *md, const char *s)
{
    s = s ? s : "";
    EVP_DigestUpdate(md, s, strlen(s) + 1); /* (with its NUL: "ab","c" is not "a","bc") */
}

static void sid_int(EVP_MD_CTX *md, int v)
{
    EVP_DigestUpdate(md, &v, sizeof(v));
}

/* The session id context of vh's contexts: a SHA-256 of its name (and ServerName's port)
 * and of the terms a client certificate is checked under. The ticket keys are every
 * server's, so this alone keeps a session made where no client certificate was asked for
 * from resuming where one is required: the name and port alone did not (two servers of one
 * name on two addresses or ports, an address-based one without a name, names alike in their
 * first 32 bytes). Servers alike in all of it may resume each other's sessions, as replicas
 * behind one name do (SSLSessionTicketKeyFile), whatever port each listens on. Stable
 * across children and restarts. */
static int session_id_context(const pt_vhost_t *vh, const pt_tls_conf_t *tc,
                              unsigned char out[SSL_MAX_SID_CTX_LENGTH])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    unsigned char d[EVP_MAX_MD_SIZE];
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        return -1;
    }
    sid_str(md, vh->server_name);
    sid_int(md, vh->server_port);
    sid_int(md, tc->verify_client < 0 ? 0 : tc->verify_client);
    sid_int(md, tc->verify_depth);
    sid_str(md, tc->ca_file.path);
    sid_str(md, tc->ca_path.path);
    sid_str(md, tc->crl_file.path);
    sid_str(md, tc->crl_path.path);
    sid_int(md, tc->crl_check);
    sid_str(md, tc->cadn_file.path);
    sid_str(md, tc->cadn_path.path);
    int ok = EVP_DigestFinal_ex(md, d, &n);
    EVP_MD_CTX_free(md);
    if (!ok || n < SSL_MAX_SID_CTX_LENGTH)
        return -1;
    memcpy(out, d, SSL_MAX_SID_CTX_LENGTH);
    return 0;
}

static int set_sessions(dcx_t *l, SSL_CTX *ctx, const pt_vhost_t *vh, const pt_tls_conf_t *tc)
{
    /* A session resumes only with the server it was made with (and client certificates
     * need a context to resume at all). */
    unsigned char sid[SSL_MAX_SID_CTX_LENGTH];
    if (session_id_context(vh, tc, sid) != 0 ||
        !SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid))) {
        char why[256];
        pt_dcx_fail(l, NULL, "the TLS session id context: %s", ossl_reason(why, sizeof(why)));
        return -1;
    }
    SSL_CTX_set_timeout(ctx, tc->cache_timeout_s < 0 ? PT_TLS_DEFAULT_CACHE_TIMEOUT_S
                                                     : tc->cache_timeout_s);
    return 0;
}

/* SSLOpenSSLConfCmd lines, after portico's own settings so that they win. */
static int apply_cmds(dcx_t *l, SSL_CTX *ctx, const pt_tls_conf_t *tc)
{
    if (!tc->ncmds)
        return 0;
    SSL_CONF_CTX *cc = SSL_CONF_CTX_new();
    SSL_CONF_CTX_set_flags(cc, SSL_CONF_FLAG_FILE | SSL_CONF_FLAG_SERVER |
                               SSL_CONF_FLAG_CERTIFICATE | SSL_CONF_FLAG_SHOW_ERRORS);
    SSL_CONF_CTX_set_ssl_ctx(cc, ctx);
    int rc = 0;
    char why[256];
    for (size_t i = 0; i < tc->ncmds && rc == 0; i++) {
        const pt_tls_cmd_t *c = &tc->cmds[i];
        int r = SSL_CONF_cmd(cc, c->name, c->value);
        if (r <= 0) {
            pt_tls_path_t at = {.path = c->name, .file = c->file, .line = c->line};
            rc = fail_at(l, &at, "SSLOpenSSLConfCmd", r == -2 ? "unknown command"
                                                              : ossl_reason(why, sizeof(why)));
        }
    }
    if (rc == 0 && SSL_CONF_CTX_finish(cc) != 1) {
        pt_tls_path_t at = {.path = "", .file = tc->cmds[0].file, .line = tc->cmds[0].line};
        rc = fail_at(l, &at, "SSLOpenSSLConfCmd", ossl_reason(why, sizeof(why)));
    }
    SSL_CONF_CTX_free(cc);
    return rc;
}

/* Where the other tls parts attach ticket keys and OCSP stapling to a finished context. */
static int attach_ticket_keys_and_stapling(dcx_t *l, SSL_CTX *ctx, const pt_vhost_t *vh,
                                           const pt_tls_conf_t *tc)
{
    for (size_t i = 0; i < nhooks; i++) {
        char msg[PT_ERRLEN] = "";
        if (hooks[i]->ctx_init && hooks[i]->ctx_init(ctx, vh, tc, msg, sizeof(msg)) != 0) {
            pt_tls_path_t at = {.path = "", .file = tc->file, .line = tc->line};
            return fail_at(l, &at, hooks[i]->name, msg);
        }
    }
    return 0;
}

/* An encrypted key fails at once instead of OpenSSL asking a terminal for its phrase. */
static int no_passphrase(char *buf, int size, int rw, void *u)
{
    (void)buf, (void)size, (void)rw, (void)u;
    return 0;
}

static SSL_CTX *ctx_new(dcx_t *l, const pt_vhost_t *vh, const pt_tls_conf_t *tc)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        char why[256];
        pt_dcx_fail(l, NULL, "SSL_CTX_new: %s", ossl_reason(why, sizeof(why)));
        return NULL;
    }
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    SSL_CTX_set_client_hello_cb(ctx, client_hello, NULL);
    SSL_CTX_set_tlsext_servername_callback(ctx, servername);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, (void *)vh);
    if (set_protocol(l, ctx, tc) < 0 || load_certs(l, ctx, tc) < 0 ||
        load_client_verify(l, ctx, tc) < 0 || set_sessions(l, ctx, vh, tc) < 0 ||
        apply_cmds(l, ctx, tc) < 0 || attach_ticket_keys_and_stapling(l, ctx, vh, tc) < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static void ctx_free(SSL_CTX *ctx)
{
    for (size_t i = 0; i < nhooks; i++)
        if (hooks[i]->ctx_free)
            hooks[i]->ctx_free(ctx);
    SSL_CTX_free(ctx);
}

/* ---- A generation ----------------------------------------------------------------------- */

static bool vhost_on_port(const pt_vhost_t *vh, int port)
{
    for (size_t i = 0; i < vh->naddrs; i++)
        if (vh->addrs[i].port == 0 || vh->addrs[i].port == port)
            return true;
    return false;
}

/* A listener is TLS when Listen says https, or a server with SSLEngine on answers on its
 * port (the main server answers on every one). */
static bool listen_is_tls(const pt_config_t *c, const pt_listen_t *ls)
{
    if (ls->protocol && strcasecmp(ls->protocol, "https") == 0)
        return true;
    const pt_tls_conf_t *m = c->main_server->tls;
    if (m && m->engine == 1)
        return true;
    for (size_t i = 0; i < c->nvhosts; i++) {
        const pt_tls_conf_t *tc = c->vhosts[i]->tls;
        if (tc && tc->engine == 1 && vhost_on_port(c->vhosts[i], ls->port))
            return true;
    }
    return false;
}

static void add_addr(tls_gen_t *g, const pt_listen_t *ls)
{
    tls_addr_t a = {.port = ls->port};
    if (ls->addrlen && ls->addr.ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ls->addr;
        if (s4->sin_addr.s_addr != htonl(INADDR_ANY)) {
            a.family = AF_INET;
            memcpy(a.addr, &s4->sin_addr, 4);
        }
    } else if (ls->addrlen && ls->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ls->addr;
        if (!IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr)) {
            a.family = AF_INET6;
            memcpy(a.addr, &s6->sin6_addr, 16);
        }
    }
    g->addrs[g->naddrs++] = a;
}

/* Does this server need a context? SSLEngine on; or certificates and no SSLEngine line on
 * a server of a TLS port (certbot's and Mozilla's vhosts say SSLEngine on; a `Listen 443
 * https` vhost with only certificate lines is served too). */
static int server_needs_ctx(dcx_t *l, const tls_gen_t *g, const pt_vhost_t *vh)
{
    const pt_tls_conf_t *tc = vh->tls;
    if (!tc || tc->engine == 0)
        return 0;
    if (tc->engine == 1 && tc->ncerts == 0) {
        pt_tls_path_t at = {.path = "", .file = vh->file ? vh->file : tc->file,
                            .line = vh->file ? vh->line : tc->line};
        return fail_at(l, &at, "SSLEngine on",
                       "the server has no certificate (SSLCertificateFile)");
    }
    if (tc->engine == 1)
        return 1;
    if (tc->ncerts == 0)
        return 0;
    if (vh == l->cfg->main_server)
        return g->naddrs > 0;
    for (size_t i = 0; i < g->naddrs; i++)
        if (vhost_on_port(vh, g->addrs[i].port))
            return 1;
    return 0;
}

static int add_server(dcx_t *l, tls_gen_t *g, const pt_vhost_t *vh)
{
    int need = server_needs_ctx(l, g, vh);
    if (need <= 0)
        return need;
    SSL_CTX *ctx = ctx_new(l, vh, vh->tls);
    if (!ctx)
        return -1;
    g->ents[g->nents++] = (tls_entry_t){vh, ctx};
    return 0;
}

/* A TLS listener with no server that has a certificate stays plain, as in Apache (where
 * `Listen 443 https` only names the protocol): said at load, since it is surely a slip. */
static void check_listeners(dcx_t *l, tls_gen_t *g)
{
    pt_config_t *c = l->cfg;
    if (g->nents > 0)
        return;
    for (size_t i = 0; i < c->nlistens; i++) {
        const pt_listen_t *ls = &c->listens[i];
        if (listen_is_tls(c, ls))
            pt_log_error(PT_LOG_WARN, NULL, "%s:%d: Listen %s https: no server on it has a "
                         "certificate (SSLEngine on, SSLCertificateFile): serving plain "
                         "HTTP", ls->file, ls->line, ls->spec);
    }
    g->naddrs = 0;
}

int pt_tls_ctx_build(dcx_t *l)
{
    pt_config_t *c = l->cfg;
    SSL_load_error_strings();
    (void)pt_tls_conn_index();
    tls_gen_t *g = calloc(1, sizeof(*g));
    if (!g)
        return pt_dcx_fail(l, NULL, "out of memory");
    g->cfg = c;
    g->next = gens;
    gens = g; /* registered first, so that a failure below is freed by the release hook */
    g->addrs = calloc(c->nlistens + 1, sizeof(*g->addrs));
    g->ents = calloc(c->nvhosts + 1, sizeof(*g->ents));
    if (!g->addrs || !g->ents)
        return pt_dcx_fail(l, NULL, "out of memory");
    for (size_t i = 0; i < c->nlistens; i++)
        if (listen_is_tls(c, &c->listens[i]))
            add_addr(g, &c->listens[i]);
    if (add_server(l, g, c->main_server) < 0)
        return -1;
    for (size_t i = 0; i < c->nvhosts; i++)
        if (add_server(l, g, c->vhosts[i]) < 0)
            return -1;
    check_listeners(l, g);
    return 0;
}

void pt_tls_ctx_release(const pt_config_t *cfg)
{
    for (tls_gen_t **pp = &gens; *pp; pp = &(*pp)->next) {
        tls_gen_t *g = *pp;
        if (g->cfg != cfg)
            continue;
        *pp = g->next;
        for (size_t i = 0; i < g->nents; i++)
            ctx_free(g->ents[i].ctx);
        free(g->ents);
        free(g->addrs);
        free(g);
        return;
    }
}

/* The context for a connection before SNI: the default server of its address, else the
 * first server with TLS that answers on its port, else the first of all. */
SSL_CTX *pt_tls_ctx_for_local(const pt_config_t *cfg, const struct sockaddr *local,
                              const pt_vhost_t **vh_out)
{
    tls_gen_t *g = gen_of(cfg);
    if (!g || !g->nents)
        return NULL;
    const pt_vhost_t *vh = pt_config_vhost_for(cfg, local, NULL);
    for (size_t i = 0; i < g->nents; i++)
        if (g->ents[i].vh == vh) {
            *vh_out = vh;
            return g->ents[i].ctx;
        }
    int port = local->sa_family == AF_INET6
                   ? ntohs(((const struct sockaddr_in6 *)local)->sin6_port)
                   : ntohs(((const struct sockaddr_in *)local)->sin_port);
    for (size_t i = 0; i < g->nents; i++)
        if (g->ents[i].vh != cfg->main_server && vhost_on_port(g->ents[i].vh, port)) {
            *vh_out = g->ents[i].vh;
            return g->ents[i].ctx;
        }
    *vh_out = g->ents[0].vh;
    return g->ents[0].ctx;
}
