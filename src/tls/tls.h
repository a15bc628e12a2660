/* src/tls/: TLS termination, above net/ (a second pt_transport_t under the connection) and
 * conf/ (the SSL* directives, registered as a pt_conf_ext_t by startup.c).
 *
 * Three parts: the directives (directives_tls.c) fill one pt_tls_conf_t per server, as
 * written and then merged over the main server's; the contexts (tls_ctx.c) are the
 * SSL_CTXs made from them at load, in the parent, kept in a registry keyed by the
 * configuration generation (runtime state, never written into the read-only config); the
 * transport (tls_transport.c) runs one SSL per connection over its non-blocking socket. */
#ifndef PT_TLS_H
#define PT_TLS_H

#include "conn.h"
#include "directives.h"

#include <openssl/ssl.h>

/* ---- The SSL* directives of one server (mod_ssl's meanings) ---------------------------- */

/* A file named by a directive, with where it was named (for file:line errors at load). */
typedef struct {
    const char *path;          /* absolute (ServerRoot applied) */
    const char *file;
    int line;
} pt_tls_path_t;

/* SSLOpenSSLConfCmd NAME VALUE, applied through SSL_CONF_cmd after portico's own settings. */
typedef struct {
    const char *name, *value;
    const char *file;
    int line;
} pt_tls_cmd_t;

enum { PT_TLS_V12 = 1 << 0, PT_TLS_V13 = 1 << 1 };
enum {
    PT_TLS_VERIFY_NONE = 0,
    PT_TLS_VERIFY_OPTIONAL,
    PT_TLS_VERIFY_REQUIRE,
    PT_TLS_VERIFY_OPTIONAL_NO_CA,
};

/* Owned by the configuration's arena. While loading, a server's fields are "unset" (-1,
 * NULL, 0 counts) where it gave no directive; the finish hook merges each virtual host over
 * the main server, so that what a reader sees after load is the effective value (unset
 * flags then mean the default, which tls_ctx.c applies). */
typedef struct pt_tls_conf {
    int engine;                     /* SSLEngine: -1 unset, 0 off, 1 on */
    pt_tls_path_t *certs;           /* SSLCertificateFile, in order (RSA, ECDSA, ...) */
    size_t ncerts;
    pt_tls_path_t *keys;            /* SSLCertificateKeyFile, paired with certs by index */
    size_t nkeys;
    pt_tls_path_t chain;            /* SSLCertificateChainFile; path NULL when none */
    pt_tls_path_t ca_file;          /* SSLCACertificateFile (client certificates) */
    pt_tls_path_t ca_path;          /* SSLCACertificatePath */
    unsigned protocols;             /* SSLProtocol: PT_TLS_V*; 0 unset (= 1.2 and 1.3) */
    const char *ciphers12;          /* SSLCipherSuite [SSL] list; NULL: portico's */
    const char *ciphers13;          /* SSLCipherSuite TLSv1.3 list; NULL: OpenSSL's */
    pt_tls_path_t ciphers_at;       /* where SSLCipherSuite was (path unused) */
    int honor_order;                /* SSLHonorCipherOrder: -1 unset (portico: on) */
    pt_tls_cmd_t *cmds;             /* SSLOpenSSLConfCmd, main server's then the vhost's */
    size_t ncmds;
    int tickets;                    /* SSLSessionTickets: -1 unset (on) */
    int64_t cache_timeout_s;        /* SSLSessionCacheTimeout: -1 unset (300) */
    const char *session_cache;      /* SSLSessionCache as written (accepted, checked,
                                       unused: no session ID cache, tickets.h) */
    int verify_client;              /* SSLVerifyClient: -1 unset, PT_TLS_VERIFY_* */
    int verify_depth;               /* SSLVerifyDepth: -1 unset (1, as mod_ssl) */
    int strict_sni;                 /* SSLStrictSNIVHostCheck: -1 unset (off) */
    unsigned options;               /* SSLOptions at server level (PT_TLS_OPT_*) */
    /* Session tickets and OCSP stapling: parsed here, their behaviour is
     * tls tickets/stapling code attached through pt_tls_ctx_hook_t. */
    pt_tls_path_t ticket_key_file;  /* SSLSessionTicketKeyFile */
    int use_stapling;               /* SSLUseStapling: -1 unset (off) */
    pt_tls_path_t stapling_file;    /* SSLStaplingFile (portico's): a DER OCSP response */
    int64_t stapling_timeout_ms;    /* SSLStaplingResponderTimeout: -1 unset (10 s) */
    int stapling_return_errors;     /* SSLStaplingReturnResponderErrors: -1 unset (on) */
    int stapling_fake_try_later;    /* SSLStaplingFakeTryLater: -1 unset (on) */
    int64_t stapling_standard_timeout_s; /* SSLStaplingStandardCacheTimeout: -1 (3600) */
    int64_t stapling_error_timeout_s;    /* SSLStaplingErrorCacheTimeout: -1 (600) */
    const char *stapling_force_url; /* SSLStaplingForceURL */
    const char *stapling_cache;     /* SSLStaplingCache as written (global) */
    /* The proxy's side (https:// upstreams, done with the proxy): stored only. */
    int proxy_engine;               /* SSLProxyEngine: -1 unset (off) */
    int proxy_verify;               /* SSLProxyVerify: -1 unset, PT_TLS_VERIFY_* */
    int proxy_verify_depth;         /* SSLProxyVerifyDepth: -1 unset */
    pt_tls_path_t proxy_ca_file;    /* SSLProxyCACertificateFile */
    int proxy_check_peer_name;      /* SSLProxyCheckPeerName: -1 unset (on) */
    int proxy_check_peer_cn;        /* SSLProxyCheckPeerCN: -1 unset (on) */
    int proxy_check_peer_expire;    /* SSLProxyCheckPeerExpire: -1 unset (on) */
    unsigned proxy_protocols;       /* SSLProxyProtocol: 0 unset */
    const char *proxy_ciphers12;    /* SSLProxyCipherSuite */
    const char *proxy_ciphers13;
    pt_tls_path_t proxy_ca_path;    /* SSLProxyCACertificatePath */
    pt_tls_path_t proxy_crl_file;   /* SSLProxyCARevocationFile */
    pt_tls_path_t proxy_crl_path;   /* SSLProxyCARevocationPath */
    int proxy_crl_check;            /* SSLProxyCARevocationCheck: -1 unset, PT_TLS_CRL_* */
    pt_tls_path_t proxy_machine_file;  /* SSLProxyMachineCertificateFile (certs + keys) */
    pt_tls_path_t proxy_machine_path;  /* SSLProxyMachineCertificatePath */
    pt_tls_path_t proxy_machine_chain; /* SSLProxyMachineCertificateChainFile */
    /* Client certificates: revocation (tls_clientca.c) and the CA names asked for. */
    pt_tls_path_t crl_file;         /* SSLCARevocationFile */
    pt_tls_path_t crl_path;         /* SSLCARevocationPath (hashed: HASH.rN) */
    int crl_check;                  /* SSLCARevocationCheck: -1 unset, PT_TLS_CRL_* */
    pt_tls_path_t crl_check_at;     /* where it was given (path unused) */
    pt_tls_path_t cadn_file;        /* SSLCADNRequestFile */
    pt_tls_path_t cadn_path;        /* SSLCADNRequestPath */
    /* Client certificates checked with OCSP (tls_ocsp_client.c), mod_ssl's SSLOCSP*. */
    int ocsp_enable;                /* SSLOCSPEnable: -1 unset (off), PT_TLS_OCSP_* */
    const char *ocsp_default_responder; /* SSLOCSPDefaultResponder URL */
    int ocsp_override;              /* SSLOCSPOverrideResponder: -1 unset (off) */
    int64_t ocsp_timeout_s;         /* SSLOCSPResponderTimeout: -1 unset (10) */
    int64_t ocsp_max_age_s;         /* SSLOCSPResponseMaxAge: -2 unset (-1: no limit) */
    int64_t ocsp_time_skew_s;       /* SSLOCSPResponseTimeSkew: -1 unset (300) */
    int ocsp_nonce;                 /* SSLOCSPUseRequestNonce: -1 unset (on) */
    int ocsp_no_verify;             /* SSLOCSPNoVerify: -1 unset (off) */
    pt_tls_path_t ocsp_responder_certs; /* SSLOCSPResponderCertificateFile */
    int sni_policy;                 /* SSLVHostSNIPolicy (main server): 0 unset (secure) */
    int64_t stapling_max_age_s;     /* SSLStaplingResponseMaxAge: -1 unset (no limit) */
    int64_t stapling_time_skew_s;   /* SSLStaplingResponseTimeSkew: -1 unset (300) */
    const char *file;               /* the server's first SSL* line, for messages */
    int line;
} pt_tls_conf_t;

/* SSLOCSPEnable on|leaf|off [no_ocsp_for_cert_ok]: the mode in the low bits. */
enum {
    PT_TLS_OCSP_OFF = 0,
    PT_TLS_OCSP_CHAIN = 1,          /* on: every certificate of the chain but the root */
    PT_TLS_OCSP_LEAF = 2,           /* the client's own certificate only */
    PT_TLS_OCSP_MODE = 3,
    PT_TLS_OCSP_NO_URL_OK = 1 << 2, /* a certificate without a responder passes */
};

/* SSLVHostSNIPolicy (Apache 2.4.46+): how alike the server chosen by SNI and the one a
 * request's Host names must be for the request to be served (else 421). */
enum {
    PT_TLS_SNI_STRICT = 1, /* every TLS setting */
    PT_TLS_SNI_SECURE,     /* client authentication, versions and suites (the default) */
    PT_TLS_SNI_AUTHONLY,   /* client authentication only */
    PT_TLS_SNI_INSECURE,   /* anything */
};

/* SSLCARevocationCheck none|leaf|chain [no_crl_for_cert_ok]: the mode in the low bits. */
enum {
    PT_TLS_CRL_NONE = 0,
    PT_TLS_CRL_LEAF = 1,
    PT_TLS_CRL_CHAIN = 2,
    PT_TLS_CRL_MODE = 3,
    PT_TLS_CRL_NO_CRL_OK = 1 << 2, /* a certificate whose CA has no CRL passes */
};

/* SSLOptions bits (accepted anywhere; StdEnvVars and ExportCertData are what FastCGI
 * variables follow in mod_ssl; portico passes the SSL_* variables always). */
enum {
    PT_TLS_OPT_STDENVVARS = 1 << 0,
    PT_TLS_OPT_EXPORTCERTDATA = 1 << 1,
    PT_TLS_OPT_STRICTREQUIRE = 1 << 2,
    PT_TLS_OPT_OPTRENEGOTIATE = 1 << 3,
    PT_TLS_OPT_FAKEBASICAUTH = 1 << 4,
};

/* The SSL* directives and the load-time step that makes the SSL_CTXs (startup.c registers
 * it with pt_config_extend). */
extern const pt_conf_ext_t pt_tls_conf_ext;
/* directives_tls_compat.c: SSLLog, SSLLogLevel, SSLFIPS, SSLCryptoDevice, SSLSRP*,
 * SSLRenegBufferSize (refused with the reason, or accepted with a -t notice). */
extern const pt_conf_ext_t pt_tls_compat_conf_ext;

/* ---- Contexts (tls_ctx.c) ------------------------------------------------------------- */

/* What the other tls parts attach to each SSL_CTX at load (session ticket keys shared by
 * the children, OCSP stapling): registered by startup.c before any load. ctx_init runs in
 * the parent after portico's own settings and certificates, for every server with TLS:
 * 0, or -1 with a message in err (the load fails with the server's file:line). ctx_free
 * runs before the SSL_CTX is freed (with its generation). Either may be NULL. */
typedef struct pt_tls_ctx_hook {
    const char *name;
    int (*ctx_init)(SSL_CTX *ctx, const pt_vhost_t *vh, const pt_tls_conf_t *tc,
                    char *err, size_t errlen);
    void (*ctx_free)(SSL_CTX *ctx);
} pt_tls_ctx_hook_t;

#define PT_TLS_CTX_HOOKS_MAX 4
/* Start-up only, before any load. 0, or PT_EINVAL when full. */
int pt_tls_ctx_hook_register(const pt_tls_ctx_hook_t *hook);

/* ALPN chooses only among protocols a driver exists for: "http/1.1" always; startup.c adds
 * "h2" when HTTP/2 is wired (proto: a static string). Start-up only. 0 or PT_EINVAL. */
int pt_tls_alpn_offer(const char *proto);

/* The SSL_CTX of a server of cfg (the main server or one of its virtual hosts), NULL when
 * it has no TLS. Valid as long as cfg. */
SSL_CTX *pt_tls_ctx_for(const pt_config_t *cfg, const pt_vhost_t *vh);
/* Is a connection arriving on this local address TLS? (A `Listen ... https` listener, or
 * an SSLEngine on server on that address.) */
bool pt_tls_addr_is_tls(const pt_config_t *cfg, const struct sockaddr *local);

/* ---- Connections (tls_transport.c) ---------------------------------------------------- */

extern const pt_transport_t pt_transport_tls;

/* Puts a fresh connection (on the plain socket transport, nothing read yet) on TLS: 0, or
 * a negative error (logged; the caller closes it). */
int pt_tls_start(pt_conn_t *c);
/* Advances the handshake without blocking: 1 when it is done, PT_EAGAIN when it waits for
 * the peer (c->tp_want says for what), or a negative error (logged; a client that spoke
 * plain HTTP has had its 400 answer; the caller closes the connection). */
int pt_tls_handshake(pt_conn_t *c);
/* pt_tls_handshake's answer when the peer spoke plain HTTP: it had its 400 in plaintext;
 * the caller closes lingering (the rest of its request is read and dropped). */
#define PT_TLS_PLAINTEXT (-1100)
/* Is c on TLS (handshake done or not)? */
bool pt_tls_active(const pt_conn_t *c);
/* The protocol ALPN chose ("h2", "http/1.1"), or NULL when none was negotiated. */
const char *pt_tls_alpn(const pt_conn_t *c);
/* The server the SNI name selected (the default server of the address when none or an
 * unknown name was sent); NULL before the handshake or without TLS. */
const pt_vhost_t *pt_tls_sni_vhost(const pt_conn_t *c);
/* May a request on c be served by vh (chosen by its Host)? Not when the handshake was made
 * for another server whose TLS terms differ (client certificates, CAs, versions, suites):
 * a client must not pass one server's check to reach another (Apache's 421 Misdirected
 * Request, mod_ssl's ssl_hook_ReadReq). True without TLS. */
bool pt_tls_vhost_ok(const pt_conn_t *c, const pt_vhost_t *vh);
/* SSLStrictSNIVHostCheck (mod_ssl's ssl_hook_ReadReq): the client sent no SNI on a TLS
 * connection to a name-based set of servers, and vh (the request's server) or the server that
 * made the handshake has the check On: Apache answers 403 (AH02033). False without TLS. */
bool pt_tls_sni_missing_strict(const pt_conn_t *c, const pt_vhost_t *vh);
/* The name the client sent in SNI, or NULL. */
const char *pt_tls_sni_name(const pt_conn_t *c);

/* Whether this kernel offers TLS to sockets (its tls module, built in or loadable), asked of
 * a socket that is not connected: the module is looked up (and loaded) by name before the
 * socket's state is checked, so ENOENT means there is none. Without it a context does not
 * ask OpenSSL for kernel TLS, which would try and fail two setsockopt() calls in each
 * handshake. */
bool pt_tls_kernel_offers_tls(void);

/* mod_ssl's variables of a TLS connection for a backend (FastCGI params): HTTPS,
 * SSL_PROTOCOL, SSL_CIPHER, SSL_CIPHER_USEKEYSIZE, SSL_CIPHER_ALGKEYSIZE,
 * SSL_SERVER_S_DN, SSL_TLS_SNI, SSL_CLIENT_VERIFY and, with a client certificate,
 * SSL_CLIENT_S_DN, SSL_CLIENT_I_DN, SSL_CLIENT_M_SERIAL, SSL_CLIENT_CERT (PEM). set is
 * called once per variable; values live in a (the request's arena). Nothing without TLS. */
void pt_tls_vars(const pt_conn_t *c, pt_arena_t *a,
                 void (*set)(void *ud, const char *name, const char *value), void *ud);
/* One of mod_ssl's variables by name (SSLRequire, SSLUserName, %{SSL_...}): those above,
 * and the DN parts SSL_{CLIENT,SERVER}_{S,I}_DN_x[_n] (x: C ST SP L O OU CN T I G S D UID
 * Email; n counts from 0), SSL_{CLIENT,SERVER}_{M_VERSION,V_START,V_END,V_REMAIN,A_SIG,
 * A_KEY,SAN_Email_n,SAN_DNS_n}, SSL_SESSION_ID, SSL_SESSION_RESUMED, SSL_SECURE_RENEG,
 * SSL_COMPRESS_METHOD, SSL_VERSION_LIBRARY, SSL_VERSION_INTERFACE. NULL when c has no
 * such value (no TLS, no client certificate, an unknown name). */
const char *pt_tls_var(const pt_conn_t *c, pt_arena_t *a, const char *name);
/* The subject of c's client certificate in X509_NAME_oneline's form ("/O=.../CN=alice",
 * what mod_ssl's FakeBasicAuth makes the user), in a; NULL without TLS, without a client
 * certificate, or when it did not verify (one optional_no_ca let through: unlike mod_ssl,
 * whose FakeBasicAuth would take a self-signed certificate's DN at its word). */
const char *pt_tls_client_dn_verified(const pt_conn_t *c, pt_arena_t *a);
/* Whether c's TLS is good enough for HTTP/2 (RFC 9113 9.2: TLS 1.2+, no suite of RFC 7540's
 * Appendix A): true without TLS. */
bool pt_tls_h2_adequate(const pt_conn_t *c);

#endif
