/* Client certificates beyond the CAs that sign them: revocation lists (mod_ssl's
 * SSLCARevocationFile/Path/Check, checked by OpenSSL during the handshake) and the CA names
 * a CertificateRequest lists (SSLCADNRequestFile/Path, else the trusted CAs' subjects). */
#include "log.h"
#include "tls_ctx.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

static const char *reason(char *buf, size_t n)
{
    unsigned long e = ERR_peek_last_error();
    if (!e)
        snprintf(buf, n, "unknown error");
    else
        ERR_error_string_n(e, buf, n);
    ERR_clear_error();
    return buf;
}

/* no_crl_for_cert_ok: a CA without any CRL loaded does not fail the chain (mod_ssl's
 * ssl_callback_SSLVerify does the same with X509_V_ERR_UNABLE_TO_GET_CRL). */
static int verify_no_crl_ok(int ok, X509_STORE_CTX *x)
{
    if (!ok && X509_STORE_CTX_get_error(x) == X509_V_ERR_UNABLE_TO_GET_CRL) {
        X509_STORE_CTX_set_error(x, X509_V_OK);
        return 1;
    }
    return ok;
}

static int verify_no_crl_ok_any(int ok, X509_STORE_CTX *x)
{
    (void)verify_no_crl_ok(ok, x);
    return 1; /* optional_no_ca: any certificate is taken */
}

static int load_crls(dcx_t *l, X509_STORE *store, const pt_tls_conf_t *tc)
{
    char why[256];
    if (tc->crl_file.path) {
        FILE *f = fopen(tc->crl_file.path, "r");
        if (!f)
            return pt_tls_fail_at(l, &tc->crl_file, "SSLCARevocationFile", strerror(errno));
        fclose(f);
        X509_LOOKUP *lu = X509_STORE_add_lookup(store, X509_LOOKUP_file());
        if (!lu || X509_load_crl_file(lu, tc->crl_file.path, X509_FILETYPE_PEM) <= 0)
            return pt_tls_fail_at(l, &tc->crl_file, "SSLCARevocationFile",
                                  reason(why, sizeof(why)));
    }
    if (tc->crl_path.path && X509_STORE_load_path(store, tc->crl_path.path) != 1)
        return pt_tls_fail_at(l, &tc->crl_path, "SSLCARevocationPath",
                              reason(why, sizeof(why)));
    return 0;
}

int pt_tls_client_revocation(dcx_t *l, SSL_CTX *ctx, const pt_tls_conf_t *tc, int verify)
{
    int check = tc->crl_check < 0 ? PT_TLS_CRL_NONE : tc->crl_check;
    int mode = check & PT_TLS_CRL_MODE;
    bool have = tc->crl_file.path || tc->crl_path.path;
    if (!have) {
        if (mode == PT_TLS_CRL_NONE)
            return 0;
        /* mod_ssl refuses to start here (AH01899) */
        return pt_tls_fail_at(l, &tc->crl_check_at, "SSLCARevocationCheck",
                              "CRL checking has been enabled, but neither "
                              "SSLCARevocationFile nor SSLCARevocationPath is configured");
    }
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    if (load_crls(l, store, tc) < 0)
        return -1;
    if (mode == PT_TLS_CRL_NONE) {
        /* Apache 2.4's default: the lists are loaded and not consulted. */
        const pt_tls_path_t *at = tc->crl_file.path ? &tc->crl_file : &tc->crl_path;
        pt_log_error(PT_LOG_WARN, NULL, "%s:%d: CRLs are configured but SSLCARevocationCheck "
                     "is none (the default): revocation is not checked", at->file, at->line);
        return 0;
    }
    unsigned long flags = X509_V_FLAG_CRL_CHECK;
    if (mode == PT_TLS_CRL_CHAIN)
        flags |= X509_V_FLAG_CRL_CHECK_ALL;
    X509_STORE_set_flags(store, flags);
    if (check & PT_TLS_CRL_NO_CRL_OK)
        SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx),
                           verify == PT_TLS_VERIFY_OPTIONAL_NO_CA ? verify_no_crl_ok_any
                                                                  : verify_no_crl_ok);
    return 0;
}

/* The subjects of every certificate in a file, or in a hashed directory. */
static int add_names(dcx_t *l, STACK_OF(X509_NAME) *names, const pt_tls_path_t *p,
                     bool dir, const char *what)
{
    char why[256];
    int ok = dir ? SSL_add_dir_cert_subjects_to_stack(names, p->path)
                 : SSL_add_file_cert_subjects_to_stack(names, p->path);
    if (ok != 1)
        return pt_tls_fail_at(l, p, what, reason(why, sizeof(why)));
    ERR_clear_error();
    return 0;
}

int pt_tls_client_ca_names(dcx_t *l, SSL_CTX *ctx, const pt_tls_conf_t *tc)
{
    bool own = tc->cadn_file.path || tc->cadn_path.path;
    const pt_tls_path_t *file = own ? &tc->cadn_file : &tc->ca_file;
    const pt_tls_path_t *path = own ? &tc->cadn_path : &tc->ca_path;
    if (!file->path && !path->path)
        return 0;
    STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
    if (!names)
        return pt_dcx_fail(l, NULL, "out of memory");
    if ((file->path && add_names(l, names, file, false, own ? "SSLCADNRequestFile"
                                                            : "SSLCACertificateFile") < 0) ||
        (path->path && add_names(l, names, path, true, own ? "SSLCADNRequestPath"
                                                           : "SSLCACertificatePath") < 0)) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        return -1;
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    return 0;
}
