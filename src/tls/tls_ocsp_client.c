/* Client certificates checked with OCSP during the handshake (mod_ssl's SSLOCSPEnable and
 * its ssl_engine_ocsp.c): for the client's certificate (leaf) or each one of its chain but
 * a self-issued root (on), a request to the responder its AIA names (or
 * SSLOCSPDefaultResponder, which SSLOCSPOverrideResponder puts first), POSTed with
 * ocsp_fetch.c's client within SSLOCSPResponderTimeout; the answer signed by the CA or a
 * responder it delegated (SSLOCSPResponderCertificateFile adds trusted responders,
 * SSLOCSPNoVerify skips the check), with our nonce, within its validity. Good passes;
 * revoked fails with "certificate revoked"; unknown, or no answer, fails. Like mod_ssl,
 * this runs on the thread doing the handshake and waits for the responder. */
#include "log.h"
#include "ocsp_fetch.h"
#include "tls_ctx.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The responder for cert: the override, else its AIA, else the default (malloc'd; NULL
 * when there is none). */
static char *responder_url(const pt_tls_conf_t *tc, X509 *cert)
{
    if (tc->ocsp_override == 1 && tc->ocsp_default_responder)
        return strdup(tc->ocsp_default_responder);
    STACK_OF(OPENSSL_STRING) *aia = X509_get1_ocsp(cert);
    char *url = aia && sk_OPENSSL_STRING_num(aia) > 0 ? strdup(sk_OPENSSL_STRING_value(aia, 0))
                                                       : NULL;
    X509_email_free(aia);
    if (!url && tc->ocsp_default_responder)
        url = strdup(tc->ocsp_default_responder);
    return url;
}

static STACK_OF(X509) *responder_certs(const pt_tls_conf_t *tc)
{
    if (!tc->ocsp_responder_certs.path)
        return NULL;
    BIO *b = BIO_new_file(tc->ocsp_responder_certs.path, "r");
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x;
    while (b && sk && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        sk_X509_push(sk, x);
    BIO_free(b);
    ERR_clear_error();
    return sk;
}

/* The status of id in the DER answer: V_OCSP_CERTSTATUS_*, or -1 with why. */
static int answer_status(const pt_tls_conf_t *tc, X509_STORE *store, OCSP_REQUEST *req,
                         OCSP_CERTID *id, const unsigned char *der, size_t len,
                         const char **why)
{
    const unsigned char *p = der;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    OCSP_BASICRESP *bs = resp ? OCSP_response_get1_basic(resp) : NULL;
    STACK_OF(X509) *extra = responder_certs(tc);
    int status = -1, reason = 0;
    ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL;
    long maxage = tc->ocsp_max_age_s < -1 ? -1 : (long)tc->ocsp_max_age_s;
    long skew = tc->ocsp_time_skew_s < 0 ? 300 : (long)tc->ocsp_time_skew_s;
    if (!resp || OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL || !bs)
        *why = "the responder's answer is not a successful OCSP response";
    else if (tc->ocsp_nonce != 0 && OCSP_check_nonce(req, bs) <= 0)
        *why = "bad nonce in the OCSP response";
    else if (tc->ocsp_no_verify != 1 &&
             OCSP_basic_verify(bs, extra, store, extra ? OCSP_TRUSTOTHER : 0) <= 0)
        *why = "the OCSP response is not signed by the CA or a responder it trusts";
    else if (OCSP_resp_find_status(bs, id, &status, &reason, NULL, &thisupd, &nextupd) != 1)
        *why = "the OCSP response is not about this certificate", status = -1;
    else if (OCSP_check_validity(thisupd, nextupd, skew, maxage) != 1)
        *why = "the OCSP response is outside its validity", status = -1;
    sk_X509_pop_free(extra, X509_free);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    return status;
}

/* Asks url about cert (issued by issuer): V_OCSP_CERTSTATUS_*, or -1 with why. */
static int ask(const pt_tls_conf_t *tc, X509_STORE *store, const char *url, X509 *cert,
               X509 *issuer, char *why, size_t whylen)
{
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, cert, issuer);
    OCSP_CERTID *mine = id ? OCSP_CERTID_dup(id) : NULL;
    unsigned char *der = NULL, *out = NULL;
    size_t outlen = 0;
    int len = -1, status = -1;
    if (req && mine && OCSP_request_add0_id(req, mine)) {
        mine = NULL;
        if (tc->ocsp_nonce != 0)
            OCSP_request_add1_nonce(req, NULL, -1);
        len = i2d_OCSP_REQUEST(req, &der);
    }
    int64_t tmo = (tc->ocsp_timeout_s < 0 ? 10 : tc->ocsp_timeout_s) * 1000;
    if (len <= 0) {
        snprintf(why, whylen, "cannot make an OCSP request");
    } else if (pt_ocsp_post(url, der, (size_t)len, tmo, &out, &outlen, why, whylen) == 0) {
        const char *bad = NULL;
        status = answer_status(tc, store, req, id, out, outlen, &bad);
        if (status < 0)
            snprintf(why, whylen, "%s", bad ? bad : "no status");
    }
    free(out);
    OPENSSL_free(der);
    OCSP_CERTID_free(mine);
    OCSP_CERTID_free(id);
    OCSP_REQUEST_free(req);
    ERR_clear_error();
    return status;
}

static int fail(X509_STORE_CTX *x, int err)
{
    X509_STORE_CTX_set_error(x, err);
    return 0;
}

int pt_tls_ocsp_verify(X509_STORE_CTX *x, const pt_tls_conf_t *tc)
{
    int depth = X509_STORE_CTX_get_error_depth(x);
    if ((tc->ocsp_enable & PT_TLS_OCSP_MODE) == PT_TLS_OCSP_LEAF && depth > 0)
        return 1;
    X509 *cert = X509_STORE_CTX_get_current_cert(x);
    if (!cert || X509_check_issued(cert, cert) == X509_V_OK)
        return 1; /* a self-issued root has no one to ask (mod_ssl skips it too) */
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(x);
    X509 *issuer = chain && depth + 1 < sk_X509_num(chain) ? sk_X509_value(chain, depth + 1)
                                                           : NULL;
    char *url = responder_url(tc, cert);
    char why[256] = "";
    int status = -1;
    if (!url) {
        if (tc->ocsp_enable & PT_TLS_OCSP_NO_URL_OK)
            return 1;
        snprintf(why, sizeof(why), "no OCSP responder specified in certificate and no "
                 "default configured");
    } else if (!issuer) {
        snprintf(why, sizeof(why), "no issuer certificate to ask the responder about");
    } else {
        status = ask(tc, X509_STORE_CTX_get0_store(x), url, cert, issuer, why, sizeof(why));
    }
    char subject[256] = "";
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
    if (status == V_OCSP_CERTSTATUS_GOOD) {
        free(url);
        return 1;
    }
    if (status == V_OCSP_CERTSTATUS_REVOKED)
        snprintf(why, sizeof(why), "revoked");
    else if (status == V_OCSP_CERTSTATUS_UNKNOWN)
        snprintf(why, sizeof(why), "status unknown to the responder");
    pt_log_error(PT_LOG_INFO, NULL, "AH01922: OCSP validation of the client certificate %s "
                 "(depth %d) failed: %s%s%s", subject, depth, why, url ? ", responder " : "",
                 url ? url : "");
    free(url);
    return fail(x, status == V_OCSP_CERTSTATUS_REVOKED ? X509_V_ERR_CERT_REVOKED
                                                       : X509_V_ERR_APPLICATION_VERIFICATION);
}
