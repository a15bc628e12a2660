/* src/tls: OCSP stapling (SSLUseStapling). For each certificate of an SSL_CTX, the parent
 * keeps one OCSP response in shared memory: read from a file (SSLStaplingFile, portico's)
 * at load, or fetched from the certificate's OCSP responder (its AIA URL, or
 * SSLStaplingForceURL) by the parent's tick and refreshed before its nextUpdate. Every
 * child staples that same response from the status callback; none fetches. */
#ifndef PT_STAPLING_H
#define PT_STAPLING_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest response that is stapled (a bigger one is refused when fetched or read). */
#define PT_STAPLE_MAX (16 * 1024)

/* mod_ssl's SSLStapling* settings, defaults as there. Plain data, copied. */
typedef struct {
    const char *file;            /* SSLStaplingFile: a DER OCSP response; NULL: fetch */
    const char *force_url;       /* SSLStaplingForceURL; NULL: the certificate's AIA */
    int64_t timeout_ms;          /* SSLStaplingResponderTimeout (10 s) */
    int64_t standard_ttl_s;      /* SSLStaplingStandardCacheTimeout (3600): the longest a
                                    good response is kept before it is fetched again */
    int64_t error_ttl_s;         /* SSLStaplingErrorCacheTimeout (600): the wait after a
                                    failed fetch */
    bool return_errors;          /* SSLStaplingReturnResponderErrors (on) */
    bool fake_try_later;         /* SSLStaplingFakeTryLater (on) */
    int64_t time_skew_s;         /* SSLStaplingResponseTimeSkew (300): the clock difference
                                    allowed around thisUpdate and nextUpdate */
    int64_t max_age_s;           /* SSLStaplingResponseMaxAge (-1: none): the oldest
                                    thisUpdate taken, and when a response stops being sent */
} pt_stapling_opts_t;

/* mod_ssl's defaults. */
void pt_stapling_opts_default(pt_stapling_opts_t *o);

/* In the parent at load, for a context whose certificates (and chains) are set: prepares
 * stapling for each certificate (its issuer from the chain, its responder, a slot in
 * shared memory) and sets the status callback. A file is read and checked now (its
 * response must be for this certificate); fetched responses come with the first ticks.
 * A certificate without responder URL or issuer is logged and not stapled. 0, or -1 with
 * a message in err (an unreadable or mismatched file). */
int pt_stapling_ctx(SSL_CTX *ctx, const pt_stapling_opts_t *o, char *err, size_t errlen);

/* Before ctx is freed: what pt_stapling_ctx made for it. Nothing when it made nothing. */
void pt_stapling_ctx_free(SSL_CTX *ctx);

/* The longest one parent tick spends on stapling (waiting for a responder included). */
#define PT_STAPLING_TICK_BUDGET_MS 50

/* The parent's tick: moves the fetch in flight on, and starts the next one that is due
 * (certificates refreshed one at a time), spending at most PT_STAPLING_TICK_BUDGET_MS; a
 * responder slower than that is waited for over later ticks, up to its
 * SSLStaplingResponderTimeout. True while a fetch is still in flight. */
bool pt_stapling_tick(int64_t now_ms);
/* In a new child: closes the responder socket of a fetch in flight that came with the fork
 * (the parent's, which would otherwise stay open until the child exits). */
void pt_stapling_child_forget(void);

/* What tls_ctx.c runs on each server's SSL_CTX at load and before freeing it (startup.c
 * registers it with pt_tls_ctx_hook_register): with SSLUseStapling on, pt_stapling_ctx with
 * the server's SSLStapling* settings. */
extern const struct pt_tls_ctx_hook pt_stapling_hook;

/* The response ctx staples for cert now (tests): a copy (OPENSSL_malloc) in *der, or 0
 * bytes when none. */
size_t pt_stapling_current(SSL_CTX *ctx, X509 *cert, unsigned char **der);

#endif
