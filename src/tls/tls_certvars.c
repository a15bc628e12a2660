/* One mod_ssl variable by name (pt_tls_var): what SSLRequire, SSLUserName and %{SSL_...} in
 * an expression read. The names and formats are mod_ssl's ssl_engine_vars.c: DN parts as
 * UTF-8 text with control characters escaped, validity dates as OpenSSL prints them
 * ("Jan  1 00:00:00 2030 GMT"). */
#include "tls.h"
#include "tls_ctx.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *want;
    const char *got;
} pick_t;

static void pick(void *ud, const char *name, const char *value)
{
    pick_t *p = ud;
    if (!p->got && strcmp(name, p->want) == 0)
        p->got = value;
}

/* mod_ssl's table of DN parts (ssl_var_lookup_ssl_cert_dn_rec). */
static int dn_nid(const char *part, size_t len)
{
    static const struct { const char *name; int nid; } parts[] = {
        {"C", NID_countryName},        {"ST", NID_stateOrProvinceName},
        {"SP", NID_stateOrProvinceName}, {"L", NID_localityName},
        {"O", NID_organizationName},   {"OU", NID_organizationalUnitName},
        {"CN", NID_commonName},        {"T", NID_title},
        {"I", NID_initials},           {"G", NID_givenName},
        {"S", NID_surname},            {"D", NID_description},
        {"UID", NID_userId},           {"Email", NID_pkcs9_emailAddress},
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(parts); i++)
        if (strlen(parts[i].name) == len && strncmp(parts[i].name, part, len) == 0)
            return parts[i].nid;
    return NID_undef;
}

/* "CN", "CN_1": the part's NID and which of its entries (0 first). */
static int dn_part(const char *s, int *idx)
{
    const char *us = strchr(s, '_');
    *idx = 0;
    if (us) {
        char *end = NULL;
        long v = strtol(us + 1, &end, 10);
        if (!us[1] || *end || v < 0 || v > 64)
            return NID_undef;
        *idx = (int)v;
    }
    return dn_nid(s, us ? (size_t)(us - s) : strlen(s));
}

static const char *bio_text(pt_arena_t *a, BIO *b)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    const char *s = pt_arena_strndup(a, p ? p : "", n > 0 ? (size_t)n : 0);
    BIO_free(b);
    return s;
}

/* A name's text as mod_ssl's asn1_string_convert gives it: UTF-8, with control characters
 * escaped ("\00", "\0A") and so the backslash too. Raw, a NUL would cut the C string: the
 * CN "alice\0.evil.example" would read as "alice" (the null-prefix attack), and a newline
 * would pass into whatever the value is written to. */
static const char *asn1_text(pt_arena_t *a, const ASN1_STRING *as)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return NULL;
    if (ASN1_STRING_print_ex(b, as, ASN1_STRFLGS_ESC_CTRL | ASN1_STRFLGS_UTF8_CONVERT) < 0) {
        BIO_free(b);
        return NULL;
    }
    return bio_text(a, b);
}

static const char *dn_value(pt_arena_t *a, const X509_NAME *nm, const char *part)
{
    int idx = 0, nid = dn_part(part, &idx);
    if (nid == NID_undef)
        return NULL;
    int pos = -1;
    for (int k = 0; k <= idx; k++) {
        pos = X509_NAME_get_index_by_NID(nm, nid, pos);
        if (pos < 0)
            return NULL;
    }
    return asn1_text(a, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, pos)));
}

static const char *time_text(pt_arena_t *a, const ASN1_TIME *t)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return NULL;
    ASN1_TIME_print(b, t);
    return bio_text(a, b);
}

/* Days until the certificate expires, 0 once it has (mod_ssl's V_REMAIN). */
static const char *remain_text(pt_arena_t *a, const ASN1_TIME *end)
{
    int days = 0, secs = 0;
    if (!ASN1_TIME_diff(&days, &secs, NULL, end))
        return NULL;
    return pt_arena_printf(a, "%d", days > 0 ? days : 0);
}

/* SAN_Email_n, SAN_DNS_n: the n-th subjectAltName of that kind. */
static const char *san_value(pt_arena_t *a, X509 *x, const char *rest)
{
    int type = strncmp(rest, "Email_", 6) == 0 ? GEN_EMAIL
               : strncmp(rest, "DNS_", 4) == 0 ? GEN_DNS : -1;
    if (type < 0)
        return NULL;
    const char *num = rest + (type == GEN_EMAIL ? 6 : 4);
    char *end = NULL;
    long want = strtol(num, &end, 10);
    if (!*num || *end || want < 0)
        return NULL;
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    const char *v = NULL;
    long seen = 0;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !v; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == type && seen++ == want)
            v = asn1_text(a, g->d.ia5);
    }
    GENERAL_NAMES_free(gens);
    return v;
}

static const char *key_alg(X509 *x)
{
    const X509_PUBKEY *pk = X509_get_X509_PUBKEY(x);
    ASN1_OBJECT *obj = NULL;
    if (!pk || !X509_PUBKEY_get0_param(&obj, NULL, NULL, NULL, pk))
        return NULL;
    return OBJ_nid2ln(OBJ_obj2nid(obj));
}

/* The part of a certificate variable after SSL_CLIENT_ or SSL_SERVER_. */
static const char *cert_value(pt_arena_t *a, X509 *x, const char *rest)
{
    if (strncmp(rest, "S_DN_", 5) == 0)
        return dn_value(a, X509_get_subject_name(x), rest + 5);
    if (strncmp(rest, "I_DN_", 5) == 0)
        return dn_value(a, X509_get_issuer_name(x), rest + 5);
    if (strncmp(rest, "SAN_", 4) == 0)
        return san_value(a, x, rest + 4);
    if (strcmp(rest, "M_VERSION") == 0)
        return pt_arena_printf(a, "%ld", X509_get_version(x) + 1);
    if (strcmp(rest, "V_START") == 0)
        return time_text(a, X509_get0_notBefore(x));
    if (strcmp(rest, "V_END") == 0)
        return time_text(a, X509_get0_notAfter(x));
    if (strcmp(rest, "V_REMAIN") == 0)
        return remain_text(a, X509_get0_notAfter(x));
    if (strcmp(rest, "A_SIG") == 0)
        return OBJ_nid2ln(X509_get_signature_nid(x));
    if (strcmp(rest, "A_KEY") == 0)
        return key_alg(x);
    return NULL;
}

static const char *session_value(pt_arena_t *a, SSL *ssl, const char *name)
{
    if (strcmp(name, "SSL_SESSION_RESUMED") == 0)
        return SSL_session_reused(ssl) ? "Resumed" : "Initial";
    if (strcmp(name, "SSL_SECURE_RENEG") == 0)
        return SSL_get_secure_renegotiation_support(ssl) ? "true" : "false";
    if (strcmp(name, "SSL_COMPRESS_METHOD") == 0)
        return "NULL"; /* never compressed (SSLCompression off) */
    if (strcmp(name, "SSL_SESSION_ID") == 0) {
        unsigned len = 0;
        const unsigned char *id = SSL_SESSION_get_id(SSL_get_session(ssl), &len);
        char *hex = pt_arena_alloc(a, 2 * (size_t)len + 1);
        for (unsigned i = 0; i < len; i++)
            snprintf(hex + 2 * i, 3, "%02X", id[i]);
        hex[2 * len] = '\0';
        return hex;
    }
    return NULL;
}

static const char *conn_value(pt_arena_t *a, SSL *ssl, const char *name)
{
    const char *v = session_value(a, ssl, name);
    if (v)
        return v;
    if (strncmp(name, "SSL_CLIENT_", 11) == 0) {
        X509 *peer = SSL_get1_peer_certificate(ssl);
        v = peer ? cert_value(a, peer, name + 11) : NULL;
        X509_free(peer);
        return v;
    }
    if (strncmp(name, "SSL_SERVER_", 11) == 0) {
        X509 *own = SSL_get_certificate(ssl);
        return own ? cert_value(a, own, name + 11) : NULL;
    }
    return NULL;
}

const char *pt_tls_var(const pt_conn_t *c, pt_arena_t *a, const char *name)
{
    /* The library's, with or without TLS (mod_ssl's "OpenSSL/3.0.x"). */
    if (strcmp(name, "SSL_VERSION_LIBRARY") == 0 || strcmp(name, "SSL_VERSION_INTERFACE") == 0)
        return pt_arena_printf(a, "OpenSSL/%s", OpenSSL_version(OPENSSL_VERSION_STRING));
    if (!pt_tls_active(c))
        return NULL;
    const pt_tls_state_t *st = c->tp_state;
    if (!st || !st->done)
        return NULL;
    pick_t p = {name, NULL};
    pt_tls_vars(c, a, pick, &p);
    if (p.got)
        return p.got;
    const char *v = conn_value(a, st->ssl, name);
    ERR_clear_error();
    return v;
}

const char *pt_tls_client_dn_verified(const pt_conn_t *c, pt_arena_t *a)
{
    if (!pt_tls_active(c))
        return NULL;
    const pt_tls_state_t *st = c->tp_state;
    if (!st || !st->done || SSL_get_verify_result(st->ssl) != X509_V_OK)
        return NULL;
    X509 *peer = SSL_get1_peer_certificate(st->ssl);
    char *dn = peer ? X509_NAME_oneline(X509_get_subject_name(peer), NULL, 0) : NULL;
    const char *v = dn ? pt_arena_strdup(a, dn) : NULL;
    OPENSSL_free(dn);
    X509_free(peer);
    return v;
}

/* RFC 9113 9.2 (RFC 7540 9.2 and its Appendix A list): TLS 1.2 or later, and under 1.2 an
 * AEAD suite with an ephemeral key exchange; what mod_http2's H2ModernTLSOnly asks. */
bool pt_tls_h2_adequate(const pt_conn_t *c)
{
    if (!pt_tls_active(c))
        return true;
    const pt_tls_state_t *st = c->tp_state;
    if (!st || !st->done)
        return false;
    int v = SSL_version(st->ssl);
    if (v >= TLS1_3_VERSION)
        return true;
    const SSL_CIPHER *ci = SSL_get_current_cipher(st->ssl);
    if (v < TLS1_2_VERSION || !ci || !SSL_CIPHER_is_aead(ci))
        return false;
    int kx = SSL_CIPHER_get_kx_nid(ci);
    return kx == NID_kx_ecdhe || kx == NID_kx_dhe;
}
