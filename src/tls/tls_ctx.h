/* Inside src/tls: the load-time step that makes a generation's SSL_CTXs (tls_ctx.c), called
 * by the SSL* directives' finish and release hooks (directives_tls.c). */
#ifndef PT_TLS_CTX_H
#define PT_TLS_CTX_H

#include "directives.h"
#include "tls.h"

#include <openssl/ssl.h>

/* After the merge: one SSL_CTX per server with TLS, registered under l->cfg. 0, or -1
 * after pt_dcx_fail ("file:line: ..." of the directive that named a bad file). */
int pt_tls_ctx_build(dcx_t *l);
/* Frees what pt_tls_ctx_build made for cfg (also after it failed half-way). */
void pt_tls_ctx_release(const pt_config_t *cfg);
/* fn(ctx, arg) for each of cfg's contexts (one per server with TLS); none for a cfg
 * without TLS or NULL. */
void pt_tls_ctx_each(const pt_config_t *cfg, void (*fn)(SSL_CTX *ctx, void *arg), void *arg);

/* A connection's TLS state (c->tp_state), owned by the transport: freed by its close. */
typedef struct {
    SSL *ssl;
    const pt_vhost_t *vh;      /* the server SNI chose (the address's default without SNI) */
    bool sni_done;             /* the first ClientHello chose vh (tls_ctx.c's client_hello) */
    bool done;                 /* the handshake finished */
    bool plain;                /* the peer spoke plain HTTP: raw bytes from here on */
    bool failed;               /* a fatal TLS error: no close_notify, no session kept */
    bool starved;              /* the last SSL_read wanted the socket: what OpenSSL holds
                                  read ahead is part of a record, nothing to read before
                                  the rest comes (tls_pending) */
    bool warm;                 /* keeps its record buffers between requests (one of
                                  PT_TLS_WARM_MAX; tls_transport.c's tls_idle) */
    int64_t idle_ms;           /* when it last went idle between requests, 0 never */
    BIO *prefix;               /* bytes read before TLS started (after a PROXY header, in
                                  the same packet), fed to OpenSSL before the socket; owned
                                  by ssl (its read BIO) until drained, then NULL */
    bool own_writer;           /* the writer (tls_bio.c) was the write side from the start:
                                  no kernel TLS was asked for */
    unsigned char *held;       /* TLS 1.3 session tickets not sent yet (tls_bio.c's writer):
                                  they leave with the next write, or before the connection
                                  waits for the client or a backend, or closes; else NULL */
    size_t held_len;
} pt_tls_state_t;

/* tls_clientca.c: SSLCARevocation* and SSLCADNRequest* on a server context, after its
 * CAs are loaded. 0, or -1 after pt_dcx_fail. */
int pt_tls_client_revocation(dcx_t *l, SSL_CTX *ctx, const pt_tls_conf_t *tc);
/* The verify callback for SSLVerifyClient optional_no_ca, no_crl_for_cert_ok and
 * SSLOCSPEnable, when any is on (after SSL_CTX_set_verify). 0, or -1 after pt_dcx_fail. */
int pt_tls_client_verify_cb(dcx_t *l, SSL_CTX *ctx, const pt_tls_conf_t *tc);
/* Whether optional_no_ca forgives this X509_V_ERR_* (mod_ssl's
 * ssl_verify_error_is_optional): a connection whose verify result is one of them got
 * through only so, SSL_CLIENT_VERIFY's GENEROUS. */
bool pt_tls_verify_error_is_optional(long err);
/* tls_ocsp_client.c: mod_ssl's OCSP check of the certificate x is at (from the verify
 * callback, on the worker doing the handshake: it waits for the responder, at most
 * SSLOCSPResponderTimeout). 1 when it passes, 0 with x's error set. */
int pt_tls_ocsp_verify(X509_STORE_CTX *x, const pt_tls_conf_t *tc);
/* The CA names sent in a CertificateRequest: SSLCADNRequestFile/Path when given, else the
 * subjects of SSLCACertificateFile/Path. 0, or -1 after pt_dcx_fail. */
int pt_tls_client_ca_names(dcx_t *l, SSL_CTX *ctx, const pt_tls_conf_t *tc);
/* "file:line: what path: why" into l->err; -1. */
int pt_tls_fail_at(dcx_t *l, const pt_tls_path_t *p, const char *what, const char *why);

/* The offered ALPN name equal to p[0..n), or NULL. */
const char *pt_tls_alpn_intern(const unsigned char *p, size_t n);

/* The ex_data index under which an SSL keeps its pt_conn_t (for the ClientHello callback). */
int pt_tls_conn_index(void);
/* The context for a connection to local before SNI (the address's default server's), and
 * that server in *vh_out; NULL when cfg has no TLS server. */
SSL_CTX *pt_tls_ctx_for_local(const pt_config_t *cfg, const struct sockaddr *local,
                              const pt_vhost_t **vh_out);

#endif
