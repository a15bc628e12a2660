/* mod_ssl's environment variables of a TLS connection (SSL_PROTOCOL, SSL_CIPHER,
 * SSL_CLIENT_*, ...), for what hands them to a backend (FastCGI params). Names and value
 * formats as mod_ssl's (DNs in RFC 2253 form, as its default LegacyDNStringFormat off). */
#include "tls.h"
#include "tls_ctx.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static const char *dn_text(pt_arena_t *a, const X509_NAME *nm)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return "";
    X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    const char *s = pt_arena_strndup(a, p ? p : "", n > 0 ? (size_t)n : 0);
    BIO_free(b);
    return s;
}

static const char *cert_pem(pt_arena_t *a, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return "";
    PEM_write_bio_X509(b, x);
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    const char *s = pt_arena_strndup(a, p ? p : "", n > 0 ? (size_t)n : 0);
    BIO_free(b);
    return s;
}

static const char *serial_text(pt_arena_t *a, X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    const char *s = pt_arena_strdup(a, hex ? hex : "");
    OPENSSL_free(hex);
    BN_free(bn);
    return s;
}

/* SSL_CLIENT_VERIFY as mod_ssl's: NONE (no certificate), SUCCESS, GENEROUS (optional_no_ca
 * forgave an unknown issuer: any other error fails the handshake), or FAILED:reason. */
static const char *verify_text(pt_arena_t *a, SSL *ssl, bool have_cert)
{
    if (!have_cert)
        return "NONE";
    long vr = SSL_get_verify_result(ssl);
    if (vr == X509_V_OK)
        return "SUCCESS";
    if (pt_tls_verify_error_is_optional(vr))
        return "GENEROUS";
    return pt_arena_printf(a, "FAILED:%s", X509_verify_cert_error_string(vr));
}

static void client_vars(SSL *ssl, pt_arena_t *a,
                        void (*set)(void *ud, const char *name, const char *value), void *ud)
{
    X509 *peer = SSL_get1_peer_certificate(ssl);
    set(ud, "SSL_CLIENT_VERIFY", verify_text(a, ssl, peer != NULL));
    if (!peer)
        return;
    set(ud, "SSL_CLIENT_S_DN", dn_text(a, X509_get_subject_name(peer)));
    set(ud, "SSL_CLIENT_I_DN", dn_text(a, X509_get_issuer_name(peer)));
    set(ud, "SSL_CLIENT_M_SERIAL", serial_text(a, peer));
    set(ud, "SSL_CLIENT_CERT", cert_pem(a, peer));
    X509_free(peer);
}

void pt_tls_vars(const pt_conn_t *c, pt_arena_t *a,
                 void (*set)(void *ud, const char *name, const char *value), void *ud)
{
    if (!pt_tls_active(c))
        return;
    const pt_tls_state_t *st = c->tp_state;
    if (!st || !st->done)
        return;
    SSL *ssl = st->ssl;
    set(ud, "HTTPS", "on");
    set(ud, "SSL_PROTOCOL", SSL_get_version(ssl));
    const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
    if (ci) {
        int alg = 0;
        int use = SSL_CIPHER_get_bits(ci, &alg);
        set(ud, "SSL_CIPHER", SSL_CIPHER_get_name(ci));
        set(ud, "SSL_CIPHER_USEKEYSIZE", pt_arena_printf(a, "%d", use));
        set(ud, "SSL_CIPHER_ALGKEYSIZE", pt_arena_printf(a, "%d", alg));
    }
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (sni)
        set(ud, "SSL_TLS_SNI", sni);
    X509 *own = SSL_get_certificate(ssl);
    if (own)
        set(ud, "SSL_SERVER_S_DN", dn_text(a, X509_get_subject_name(own)));
    client_vars(ssl, a, set, ud);
    ERR_clear_error();
}
