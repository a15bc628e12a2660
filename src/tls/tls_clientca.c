/* Client certificates beyond the CAs that sign them: revocation lists (mod_ssl's
 * SSLCARevocationFile/Path/Check, checked by OpenSSL during the handshake) and the CA names
 * a CertificateRequest lists (SSLCADNRequestFile/Path, else the trusted CAs' subjects). */
#include "log.h"
#include "tls_ctx.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* (Here rather than in tls_ctx.c, which calls this file: no circle between the two.) */
int pt_tls_fail_at(dcx_t *l, const pt_tls_path_t *p, const char *what, const char *why)
{
    l->err[0] = '\0';
    snprintf(l->err, l->errlen, "%s:%d: %s %s: %s", p->file ? p->file : l->cfg->path,
             p->line, what, p->path ? p->path : "", why);
    return -1;
}

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

/* The server's settings, for the verify callback (the conf lives as long as the context). */
static int conf_index = -1;
/* On a connection: the last error optional_no_ca forgave (an X509_V_ERR_*), 0 for none. */
static int forgiven_index = -1;

bool pt_tls_verify_error_is_optional(long err)
{
    switch (err) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return true;
    default:
        return false;
    }
}

/* One callback for what OpenSSL's chain check alone does not do, in mod_ssl's order
 * (ssl_callback_SSLVerify): optional_no_ca forgives an issuer that cannot be found or
 * trusted, and only that (an expired or revoked certificate still fails the handshake);
 * no_crl_for_cert_ok lets a CA without any CRL loaded pass (X509_V_ERR_UNABLE_TO_GET_CRL);
 * then OCSP (SSLOCSPEnable) on what passed. */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    const pt_tls_conf_t *tc = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), conf_index)
                                  : NULL;
    if (!tc)
        return ok;
    int err = X509_STORE_CTX_get_error(x);
    if (!ok && tc->verify_client == PT_TLS_VERIFY_OPTIONAL_NO_CA &&
        pt_tls_verify_error_is_optional(err)) {
        /* the error stays the connection's verify result: GENEROUS */
        SSL_set_ex_data(ssl, forgiven_index, (void *)(intptr_t)err);
        ok = 1;
    }
    if (!ok && (tc->crl_check & PT_TLS_CRL_NO_CRL_OK) && tc->crl_check > 0 &&
        err == X509_V_ERR_UNABLE_TO_GET_CRL) {
        /* Not X509_V_OK after a forgiven error: a self-signed certificate (no CRL of its
         * issuer, itself) would end with a clean result and read as verified. */
        X509_STORE_CTX_set_error(x, (int)(intptr_t)SSL_get_ex_data(ssl, forgiven_index));
        ok = 1;
    }
    if (ok && tc->ocsp_enable > 0 && (tc->ocsp_enable & PT_TLS_OCSP_MODE))
        ok = pt_tls_ocsp_verify(x, tc);
    return ok;
}

int pt_tls_client_verify_cb(dcx_t *l, SSL_CTX *ctx, const pt_tls_conf_t *tc)
{
    bool ocsp = tc->ocsp_enable > 0 && (tc->ocsp_enable & PT_TLS_OCSP_MODE);
    bool no_crl_ok = tc->crl_check > 0 && (tc->crl_check & PT_TLS_CRL_NO_CRL_OK);
    if (!ocsp && !no_crl_ok && tc->verify_client != PT_TLS_VERIFY_OPTIONAL_NO_CA)
        return 0;
    if (ocsp && tc->ocsp_override == 1 && !tc->ocsp_default_responder) {
        pt_tls_path_t at = {.path = "", .file = tc->file, .line = tc->line};
        return pt_tls_fail_at(l, &at, "SSLOCSPOverrideResponder", "on needs "
                              "SSLOCSPDefaultResponder (the responder it names)");
    }
    if (conf_index < 0)
        conf_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    if (forgiven_index < 0)
        forgiven_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    SSL_CTX_set_ex_data(ctx, conf_index, (void *)tc);
    SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), verify_cb);
    return 0;
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

int pt_tls_client_revocation(dcx_t *l, SSL_CTX *ctx, const pt_tls_conf_t *tc)
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
