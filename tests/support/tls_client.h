/* TLS for the integration suites: the private PKI made by ca.sh (a CA, RSA and ECDSA
 * certificates for a.test and b.test, a client certificate and one from another CA), an
 * HTTPS GET with libcurl that trusts that CA, and `openssl s_client` runs. Aborting
 * helpers follow harness.h's rules (inside a Check test only). */
#ifndef PTH_TLS_CLIENT_H
#define PTH_TLS_CLIENT_H

#include "h2_client.h"
#include "harness.h"

/* Makes the PKI once per process (call it from main, before the runner forks the tests)
 * in a temp dir that is removed at exit; returns the dir. Exits 1 when openssl fails.
 * With env PORTICO_TEST_PKI naming a dir that ca.sh filled (ctest's "pki" fixture), the
 * temp dir gets a copy of it instead. */
const char *pth_tls_pki(void);
/* "PKI/name" (a ring of 8 buffers). */
const char *pth_tls_file(const char *name);

/* A certificate of the PKI's test CA (or self-signed), issued with the OpenSSL API because
 * no command line writes a NUL into a name: subject O=portico tests, CN=cn (cn_len bytes,
 * NULs included), a subjectAltName DNS name likewise when dns is set, valid from from_s to
 * to_s seconds from now, an ECDSA P-256 key. Written as NAME.pem and NAME.key in the PKI
 * dir. */
typedef struct {
    const char *name;
    const char *cn;
    size_t cn_len;
    const char *dns; /* NULL: no subjectAltName */
    size_t dns_len;
    long from_s, to_s;
    bool self_signed; /* its own issuer instead of the test CA's */
} pth_cert_spec_t;
void pth_tls_issue(const pth_cert_spec_t *cs);

/* An HTTPS request. host: the name for SNI and Host (resolved to 127.0.0.1); NULL sends
 * https://127.0.0.1:port (no SNI). */
typedef struct {
    int port;
    const char *host;
    const char *path;
    const char *cert, *key;    /* a client certificate (files in the PKI dir), or NULL */
    bool tls12_only;           /* cap the client at TLS 1.2 */
    bool http2;                /* offer h2 (ALPN h2, http/1.1) */
    long max_recv_bytes_s;     /* throttle the download (a long request); 0: no limit */
    const char *sink;          /* write the body to this file instead of memory */
    const char *host_header;   /* a Host field other than host (SNI), or NULL */
    const char *header;        /* one more request field, "Name: value", or NULL */
    long timeout_s;            /* 0: PTH_CURL_TIMEOUT_S (60 s when throttled) */
} pth_tls_req_t;

/* Returns the CURLcode (0 when the exchange worked); fills r (status, headers, body). */
int pth_tls_get(const pth_tls_req_t *q, pth_resp_t *r);

/* Runs `openssl s_client -connect 127.0.0.1:PORT ARGS` with stdin closed, bounded by
 * `timeout 20` (an overloaded machine under ASan needs it); returns its output (stdout and stderr, malloc'd). */
char *pth_s_client(int port, const char *args);
/* The same with a GET / for host sent (Connection: close) and the answer awaited: what a
 * TLS 1.3 server sends after the handshake (its session tickets) has arrived by the end. */
char *pth_s_client_get(int port, const char *host, const char *args);

/* Config lines for a TLS listener on 127.0.0.1:port and its vhost a.test (the ECDSA
 * certificate), to add to a harness config (a buffer of a ring of 4). */
const char *pth_tls_vhost_conf(int port);

/* A raw TLS 1.3 connection of the test's own (no certificate check), for what curl cannot
 * do: records sent on the test's terms (a KeyUpdate, a record cut in two). Blocking socket,
 * reads and writes bounded by PTH_IO_DEADLINE_MS; aborting helpers. */
typedef struct {
    int fd;
    struct ssl_st *ssl;
    struct ssl_ctx_st *ctx;
    char buf[16384];
    size_t len;      /* read and not yet taken by a response */
    char rest[4096]; /* the part of a cut record not sent yet */
    size_t rest_len;
} pth_tls_conn_t;

/* Connects to 127.0.0.1:port and does the handshake, with SNI host (NULL: none). */
void pth_tls_conn_open(pth_tls_conn_t *t, int port, const char *host);
/* The same offering one protocol by ALPN ("h2"), which the server must choose. */
void pth_tls_conn_open_alpn(pth_tls_conn_t *t, int port, const char *host, const char *alpn);
void pth_tls_conn_close(pth_tls_conn_t *t);
/* Sends all of data as application data. */
void pth_tls_conn_send(pth_tls_conn_t *t, const void *data, size_t len);
/* Sends a KeyUpdate record now (not requesting the server's). */
void pth_tls_conn_key_update(pth_tls_conn_t *t);
/* Encrypts data (a few KiB at most) into one record and sends its first cut bytes only;
 * the rest, by pth_tls_conn_send_rest. */
void pth_tls_conn_send_cut(pth_tls_conn_t *t, const void *data, size_t len, size_t cut);
void pth_tls_conn_send_rest(pth_tls_conn_t *t);
/* Reads one response (bytes after it stay for the next). */
void pth_tls_conn_read_response(pth_tls_conn_t *t, pth_resp_t *r);
/* Application data that comes within ms, up to n bytes: the count, 0 at the server's end,
 * -ETIMEDOUT, or -EIO (pth_h2_io_t's recv). Not for use with pth_tls_conn_read_response's
 * buffer in between. */
long pth_tls_conn_recv(pth_tls_conn_t *t, void *p, size_t n, int ms);
/* h2_client.h's raw-frame client over t (opened with ALPN h2), no preface sent: frames go
 * out as one record each; the bytes of a cut record, by pth_h2_frame_bytes and
 * pth_tls_conn_send_cut. Closed by pth_h2_close before t is. */
pth_h2_t *pth_tls_conn_h2(pth_tls_conn_t *t);

#endif
