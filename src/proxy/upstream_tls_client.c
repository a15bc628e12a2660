/* What a client context for https:// upstreams takes beyond upstream_tls.c's basics:
 * SSLProxyCACertificatePath, revocation lists (SSLProxyCARevocationFile/Path/Check, as the
 * server side's), and the client certificate (SSLProxyMachineCertificateFile/Path: PEM
 * files each holding certificates with their unencrypted keys, and ChainFile for the CAs
 * sent along). As mod_ssl, the certificate offered is the first whose issuer is among the
 * CA names the backend asks for, or the first one when it names none. */
#include "upstream_tls.h"

#include "tls.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

static int infos_index = -1;

static void free_infos(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                       void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    sk_X509_INFO_pop_free(ptr, X509_INFO_free);
}

static int fail(char *err, size_t errlen, const pt_tls_path_t *p, const char *what,
                const char *why)
{
    unsigned long e = ERR_get_error();
    char detail[200] = "";
    if (e)
        ERR_error_string_n(e, detail, sizeof(detail));
    ERR_clear_error();
    snprintf(err, errlen, "%s:%d: %s '%s': %s%s%s", p->file, p->line, what, p->path, why,
             e ? ": " : "", detail);
    return -1;
}

/* The certificate-and-key pairs of one PEM file (a certificate without its key is an
 * error, as in mod_ssl). */
static int load_pairs(STACK_OF(X509_INFO) *all, const pt_tls_path_t *p, const char *file,
                      const char *what, char *err, size_t errlen)
{
    BIO *b = BIO_new_file(file, "r");
    if (!b)
        return fail(err, errlen, p, what, strerror(errno));
    STACK_OF(X509_INFO) *got = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!got)
        return fail(err, errlen, p, what, "no certificate in it");
    int rc = 0;
    while (sk_X509_INFO_num(got) > 0) {
        X509_INFO *xi = sk_X509_INFO_shift(got);
        if (xi->x509 && !xi->x_pkey)
            rc = -1;
        if (rc == 0 && xi->x509)
            sk_X509_INFO_push(all, xi);
        else
            X509_INFO_free(xi);
    }
    sk_X509_INFO_free(got);
    ERR_clear_error();
    if (rc < 0)
        return fail(err, errlen, p, what, "a certificate without its private key "
                    "(the file must hold each certificate with its unencrypted key)");
    return 0;
}

static int load_dir(STACK_OF(X509_INFO) *all, const pt_tls_path_t *p, char *err,
                    size_t errlen)
{
    const char *what = "SSLProxyMachineCertificatePath";
    DIR *d = opendir(p->path);
    if (!d)
        return fail(err, errlen, p, what, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char file[4096];
        snprintf(file, sizeof(file), "%s/%s", p->path, e->d_name);
        rc = load_pairs(all, p, file, what, err, errlen);
    }
    closedir(d);
    return rc;
}

static bool issuer_asked(SSL *ssl, X509 *x)
{
    const STACK_OF(X509_NAME) *cas = SSL_get_client_CA_list(ssl);
    for (int i = 0; cas && i < sk_X509_NAME_num(cas); i++)
        if (X509_NAME_cmp(sk_X509_NAME_value(cas, i), X509_get_issuer_name(x)) == 0)
            return true;
    return false;
}

static int client_cert(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    STACK_OF(X509_INFO) *all = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), infos_index);
    const STACK_OF(X509_NAME) *cas = SSL_get_client_CA_list(ssl);
    bool any = !cas || sk_X509_NAME_num(cas) == 0;
    for (int i = 0; all && i < sk_X509_INFO_num(all); i++) {
        X509_INFO *xi = sk_X509_INFO_value(all, i);
        if (!any && !issuer_asked(ssl, xi->x509))
            continue;
        X509_up_ref(xi->x509);
        EVP_PKEY_up_ref(xi->x_pkey->dec_pkey);
        *x509 = xi->x509;
        *pkey = xi->x_pkey->dec_pkey;
        return 1;
    }
    return 0; /* none fits: no certificate is sent (the backend decides) */
}

static int machine_certs(SSL_CTX *ctx, const pt_tls_conf_t *tc, char *err, size_t errlen)
{
    if (!tc->proxy_machine_file.path && !tc->proxy_machine_path.path)
        return 0;
    if (infos_index < 0)
        infos_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_infos);
    STACK_OF(X509_INFO) *all = sk_X509_INFO_new_null();
    SSL_CTX_set_ex_data(ctx, infos_index, all);
    if (tc->proxy_machine_file.path &&
        load_pairs(all, &tc->proxy_machine_file, tc->proxy_machine_file.path,
                   "SSLProxyMachineCertificateFile", err, errlen) < 0)
        return -1;
    if (tc->proxy_machine_path.path && load_dir(all, &tc->proxy_machine_path, err, errlen) < 0)
        return -1;
    if (sk_X509_INFO_num(all) == 0)
        return fail(err, errlen, tc->proxy_machine_file.path ? &tc->proxy_machine_file
                                                             : &tc->proxy_machine_path,
                    "SSL proxy client certificate", "no certificate with a key found");
    SSL_CTX_set_client_cert_cb(ctx, client_cert);
    const pt_tls_path_t *ch = &tc->proxy_machine_chain;
    if (!ch->path)
        return 0;
    BIO *b = BIO_new_file(ch->path, "r");
    if (!b)
        return fail(err, errlen, ch, "SSLProxyMachineCertificateChainFile", strerror(errno));
    X509 *x;
    int n = 0;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (SSL_CTX_add_extra_chain_cert(ctx, x) != 1) {
            X509_free(x);
            break;
        }
        n++;
    }
    BIO_free(b);
    ERR_clear_error();
    return n ? 0 : fail(err, errlen, ch, "SSLProxyMachineCertificateChainFile",
                        "no certificate in it");
}

static int revocation(SSL_CTX *ctx, const pt_tls_conf_t *tc, char *err, size_t errlen)
{
    int check = tc->proxy_crl_check < 0 ? PT_TLS_CRL_NONE : tc->proxy_crl_check;
    int mode = check & PT_TLS_CRL_MODE;
    bool have = tc->proxy_crl_file.path || tc->proxy_crl_path.path;
    if (!have && mode != PT_TLS_CRL_NONE) {
        snprintf(err, errlen, "SSLProxyCARevocationCheck: CRL checking has been enabled, but "
                 "neither SSLProxyCARevocationFile nor SSLProxyCARevocationPath is "
                 "configured");
        return -1;
    }
    if (!have || mode == PT_TLS_CRL_NONE)
        return 0;
    X509_STORE *st = SSL_CTX_get_cert_store(ctx);
    X509_LOOKUP *lu = tc->proxy_crl_file.path ? X509_STORE_add_lookup(st, X509_LOOKUP_file())
                                              : NULL;
    if (tc->proxy_crl_file.path &&
        (!lu || X509_load_crl_file(lu, tc->proxy_crl_file.path, X509_FILETYPE_PEM) <= 0))
        return fail(err, errlen, &tc->proxy_crl_file, "SSLProxyCARevocationFile",
                    "cannot read it");
    if (tc->proxy_crl_path.path && X509_STORE_load_path(st, tc->proxy_crl_path.path) != 1)
        return fail(err, errlen, &tc->proxy_crl_path, "SSLProxyCARevocationPath",
                    "cannot read it");
    X509_STORE_set_flags(st, mode == PT_TLS_CRL_CHAIN
                                 ? X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL
                                 : X509_V_FLAG_CRL_CHECK);
    return 0;
}

int pt_utls_client_extras(SSL_CTX *ctx, const pt_tls_conf_t *tc, char *err, size_t errlen)
{
    const pt_tls_path_t *cp = &tc->proxy_ca_path;
    if (cp->path && SSL_CTX_load_verify_locations(ctx, NULL, cp->path) != 1)
        return fail(err, errlen, cp, "SSLProxyCACertificatePath", "cannot read it");
    if (revocation(ctx, tc, err, errlen) < 0)
        return -1;
    return machine_certs(ctx, tc, err, errlen);
}
