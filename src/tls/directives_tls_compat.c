/* mod_ssl directives whose answer in portico is short: the ones Apache 2.4 itself refuses
 * (SSLLog, SSLLogLevel, with its words), those OpenSSL 3 makes a different matter (SSLFIPS,
 * SSLCryptoDevice, SRP) and those portico accepts without anything to do (a -t notice
 * saying why). A second extension beside directives_tls.c's (startup.c registers both). */
#include "tls.h"

#include <openssl/evp.h>
#include <openssl/provider.h>
#include <strings.h>

/* Apache 2.4's own refusal (ap_set_deprecated), word for word. */
static int set_ssl_deprecated(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    return pt_dcx_fail(l, n, "%s directive is no longer supported - use %s.", n->name,
                       strcasecmp(n->name, "SSLLog") == 0 ? "ErrorLog" : "LogLevel");
}

/* SSLFIPS on: FIPS mode needs OpenSSL's FIPS provider; without it Apache fails to start
 * (AH01948), and so does portico, at load. With it, FIPS properties become the default for
 * the whole process (Apache's FIPS_mode_set), which a later reload does not undo. */
static int set_ssl_fips(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    if (!on)
        return 0;
    if (!OSSL_PROVIDER_try_load(NULL, "fips", 1))
        return pt_dcx_fail(l, n, "SSLFIPS on: OpenSSL's FIPS provider (fips.so with its "
                           "fipsmodule.cnf) is not installed, so FIPS mode cannot be "
                           "enabled");
    if (!EVP_default_properties_enable_fips(NULL, 1))
        return pt_dcx_fail(l, n, "SSLFIPS on: OpenSSL refused to enable FIPS mode");
    return 0;
}

/* SSLCryptoDevice builtin is all portico uses: engines are deprecated in OpenSSL 3, and
 * hardware is reached through providers named in openssl.cnf. */
static int set_ssl_crypto_device(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    if (strcasecmp(n->argv[0], "builtin") == 0)
        return 0;
    return pt_dcx_fail(l, n, "SSLCryptoDevice %s: portico does not load OpenSSL engines "
                       "(deprecated in OpenSSL 3): use builtin, and name a provider for the "
                       "device in openssl.cnf (OPENSSL_CONF) instead", n->argv[0]);
}

static int set_ssl_srp(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    return pt_dcx_fail(l, n, "%s: portico does not offer TLS-SRP (RFC 5054): its OpenSSL 3 "
                       "API is deprecated and TLS 1.3 has no SRP; authenticate clients with "
                       "certificates (SSLVerifyClient) or HTTP authentication", n->name);
}

/* SSLRenegBufferSize: mod_ssl buffers a request body while it renegotiates for a
 * per-directory SSLVerifyClient; portico never renegotiates (OpenSSL's
 * SSL_OP_NO_RENEGOTIATION), so there is nothing to buffer. */
static int set_ssl_reneg_buffer_size(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[0], 0, 0x7fffffff, &v) < 0)
        return -1;
    pt_dcx_note(l, n, n->name, "SSLRenegBufferSize ignored: portico never renegotiates TLS "
                "(client certificates are asked for in the handshake only), so no request "
                "body is buffered for it");
    return 0;
}

static const dcx_directive_t tls_compat_table[] = {
    {"SSLLog", ALL, 0, NOMAX, set_ssl_deprecated},
    {"SSLLogLevel", ALL, 0, NOMAX, set_ssl_deprecated},
    {"SSLFIPS", W_SERVER, 1, 1, set_ssl_fips},
    {"SSLCryptoDevice", W_SERVER, 1, 1, set_ssl_crypto_device},
    {"SSLSRPVerifierFile", SRV, 1, 1, set_ssl_srp},
    {"SSLSRPUnknownUserSeed", SRV, 1, 1, set_ssl_srp},
    {"SSLRenegBufferSize", W_SECTIONS, 1, 1, set_ssl_reneg_buffer_size},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_tls_compat_conf_ext = {
    .name = "ssl (compatibility)",
    .directives = tls_compat_table,
};
