/* src/tls: OCSP stapling (stapling.h): per certificate, a slot in shared memory that the
 * parent fills (from a file at load, from the responder at its tick) and every child's
 * status callback copies into its handshakes. Responses are checked before they are kept:
 * signed by the issuer or its delegated responder, for this certificate, within their
 * validity; a responder's error answer is stapled as mod_ssl does
 * (SSLStaplingReturnResponderErrors, SSLStaplingFakeTryLater). */
#include "stapling.h"

#include "clock.h"
#include "log.h"
#include "ocsp_fetch.h"
#include "tls.h"
#include "tls_shm.h"

#include <errno.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What a child staples: written by the parent only, under lock. */
typedef struct {
    pt_seqlock_t lock;
    int64_t expires;            /* wall seconds after which it is not stapled (nextUpdate) */
    uint32_t len;               /* 0: nothing to staple */
    unsigned char der[PT_STAPLE_MAX];
} slot_t;

/* One certificate's stapling. cert and issuer are referenced (X509_up_ref), id and url
 * owned; slot is shared memory. next_ms is the parent's: when to fetch next. */
typedef struct {
    X509 *cert, *issuer;
    OCSP_CERTID *id;
    char *url;                  /* NULL: the response came from a file */
    slot_t *slot;
    int64_t next_ms;
} staple_t;

/* Everything made for one SSL_CTX (its status callback's argument), malloc'd by the parent
 * at load and inherited by the children; the parent's registry links them for its tick. */
typedef struct stap_ctx {
    struct stap_ctx *next;
    SSL_CTX *ctx;
    pt_stapling_opts_t o;       /* strings not kept (file, force_url are read at load) */
    size_t n;
    staple_t st[];
} stap_ctx_t;

/* The parent's list of contexts with stapling, for its tick (a child's copy is unused). */
static stap_ctx_t *registry;

void pt_stapling_opts_default(pt_stapling_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->timeout_ms = 10000;
    o->standard_ttl_s = 3600;
    o->error_ttl_s = 600;
    o->return_errors = true;
    o->fake_try_later = true;
    o->time_skew_s = 300;
    o->max_age_s = -1;
}

static int64_t wall_s(void)
{
    return (int64_t)time(NULL);
}

static int64_t asn1_wall_s(const ASN1_GENERALIZEDTIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return INT64_MAX;
    return (int64_t)timegm(&tm);
}

static void slot_store(slot_t *s, const unsigned char *der, size_t len, int64_t expires)
{
    pt_seq_write_begin(&s->lock);
    memcpy(s->der, der, len);
    s->len = (uint32_t)len;
    s->expires = expires;
    pt_seq_write_end(&s->lock);
}

/* A copy of what s holds now, or 0 (nothing, expired, or no consistent copy). */
static size_t slot_copy(const slot_t *s, unsigned char **der)
{
    for (int tries = 0; tries < 100; tries++) {
        uint32_t seq;
        if (!pt_seq_begin(&s->lock, &seq))
            return 0;
        size_t len = s->len;
        int64_t expires = s->expires;
        if (len == 0 || len > PT_STAPLE_MAX || wall_s() >= expires) {
            if (!pt_seq_valid(&s->lock, seq))
                continue;
            return 0;
        }
        unsigned char *b = OPENSSL_malloc(len);
        if (!b)
            return 0;
        memcpy(b, s->der, len);
        if (pt_seq_valid(&s->lock, seq)) {
            *der = b;
            return len;
        }
        OPENSSL_free(b);
    }
    return 0;
}

/* ---- Checking a response ------------------------------------------------------------ */

/* check_response's answer for a response that is about another certificate, or none. */
#define NOT_OURS (-2)

/* Is resp a good answer about st's certificate? 0 with *expires (wall s) and *ttl_s (how
 * long to keep it before fetching again), or -1 (NOT_OURS) with err. An error status from the
 * responder is kept (for the error TTL) when return_errors says so. */
static int check_response(const staple_t *st, const pt_stapling_opts_t *o, OCSP_RESPONSE *resp,
                          int64_t *expires, int64_t *ttl_s, char *err, size_t errlen)
{
    int rs = OCSP_response_status(resp);
    if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        snprintf(err, errlen, "responder answered %s", OCSP_response_status_str(rs));
        if (!o->return_errors)
            return -1;
        *ttl_s = o->error_ttl_s;
        *expires = wall_s() + o->error_ttl_s;
        return 0;
    }
    OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
    X509_STORE *store = X509_STORE_new();
    STACK_OF(X509) *certs = sk_X509_new_null();
    int status = -1, rc = -1;
    ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL;
    if (!bs || !store || !certs || !X509_STORE_add_cert(store, st->issuer) ||
        !sk_X509_push(certs, st->issuer)) {
        snprintf(err, errlen, "not a basic OCSP response");
        rc = NOT_OURS;
        goto done;
    }
    /* The issuer may be an intermediate: trusted as the anchor of this check alone. */
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    if (OCSP_basic_verify(bs, certs, store, 0) <= 0) {
        snprintf(err, errlen, "response not signed by the issuer or its responder");
    } else if (OCSP_resp_find_status(bs, st->id, &status, NULL, NULL, &thisupd, &nextupd) != 1) {
        snprintf(err, errlen, "response is not about this certificate");
        rc = NOT_OURS;
    } else if (status != V_OCSP_CERTSTATUS_GOOD && status != V_OCSP_CERTSTATUS_REVOKED) {
        snprintf(err, errlen, "certificate status unknown to the responder");
    } else if (OCSP_check_validity(thisupd, nextupd, (long)o->time_skew_s,
                                   (long)o->max_age_s) != 1) {
        snprintf(err, errlen, "response outside its validity (thisUpdate/nextUpdate%s)",
                 o->max_age_s >= 0 ? ", SSLStaplingResponseMaxAge" : "");
    } else {
        int64_t now = wall_s();
        *expires = nextupd ? asn1_wall_s(nextupd) : INT64_MAX;
        if (o->max_age_s >= 0 && asn1_wall_s(thisupd) + o->max_age_s < *expires)
            *expires = asn1_wall_s(thisupd) + o->max_age_s;
        /* Fetched again halfway to nextUpdate, so a failing responder leaves time to
         * retry before the response in hand expires. */
        int64_t half = *expires != INT64_MAX ? (*expires - now) / 2 : o->standard_ttl_s;
        *ttl_s = half < 1 ? 1 : half < o->standard_ttl_s ? half : o->standard_ttl_s;
        rc = 0;
    }
done:
    sk_X509_free(certs);
    X509_STORE_free(store);
    OCSP_BASICRESP_free(bs);
    return rc;
}

/* check_response on DER bytes. */
static int check_der(const staple_t *st, const pt_stapling_opts_t *o, const unsigned char *der,
                     size_t len, int64_t *expires, int64_t *ttl_s, char *err, size_t errlen)
{
    const unsigned char *p = der;
    if (len > PT_STAPLE_MAX) {
        snprintf(err, errlen, "response larger than %d bytes", PT_STAPLE_MAX);
        return -1;
    }
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    if (!resp) {
        snprintf(err, errlen, "not a DER OCSP response");
        return NOT_OURS;
    }
    int rc = check_response(st, o, resp, expires, ttl_s, err, errlen);
    OCSP_RESPONSE_free(resp);
    return rc;
}

/* ---- Fetching (the parent's tick) ---------------------------------------------------- */

/* mod_ssl's SSLStaplingFakeTryLater: when the responder cannot be reached and nothing valid
 * is in hand, a "tryLater" answer is stapled, so that a client sees why there is none. */
static void staple_try_later(staple_t *st, const pt_stapling_opts_t *o)
{
    OCSP_RESPONSE *r = OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, NULL);
    unsigned char *der = NULL;
    int len = r ? i2d_OCSP_RESPONSE(r, &der) : -1;
    if (len > 0)
        slot_store(st->slot, der, (size_t)len, wall_s() + o->error_ttl_s);
    OPENSSL_free(der);
    OCSP_RESPONSE_free(r);
}

/* The fetch in flight (the parent's; at most one at a time) and whose it is. */
static struct {
    pt_ocsp_fetch_t *f;
    staple_t *st;
    const stap_ctx_t *sc;
} inflight;

/* A failed fetch for st: logged; with nothing valid in hand, mod_ssl's tryLater. */
static void fetch_failed(staple_t *st, const pt_stapling_opts_t *o, const char *err)
{
    pt_log_merror("ssl", PT_LOG_ERR, NULL, "OCSP stapling: %s (next try in %lld s)", err,
                  (long long)o->error_ttl_s);
    unsigned char *held = NULL;
    size_t hl = slot_copy(st->slot, &held);
    OPENSSL_free(held);
    if (hl == 0 && o->return_errors && o->fake_try_later)
        staple_try_later(st, o);
}

/* Does st's slot hold a good response, one about its certificate and still valid (not a
 * responder's error answer)? */
static bool holds_good(const staple_t *st, const pt_stapling_opts_t *o)
{
    unsigned char *held = NULL;
    size_t hl = slot_copy(st->slot, &held);
    char why[256] = "";
    int64_t expires, ttl;
    bool good = hl > 0 && check_der(st, o, held, hl, &expires, &ttl, why, sizeof(why)) == 0 &&
                why[0] == '\0';
    OPENSSL_free(held);
    return good;
}

/* The responder's answer for st: kept only when it checks out, and an error answer
 * (tryLater, internalError: stapled as it is when SSLStaplingReturnResponderErrors is on)
 * only when no good response is in hand: one still valid is kept, as when the responder
 * is down, and asked again after the error TTL. The seconds until the next fetch. */
static int64_t fetch_done(staple_t *st, const pt_stapling_opts_t *o, const unsigned char *resp,
                          size_t rlen)
{
    char why[256] = "", err[512];
    int64_t expires = 0, ttl = o->error_ttl_s;
    if (check_der(st, o, resp, rlen, &expires, &ttl, why, sizeof(why)) != 0) {
        snprintf(err, sizeof(err), "OCSP responder %s: %s", st->url, why);
        fetch_failed(st, o, err);
        return o->error_ttl_s;
    }
    if (why[0] && holds_good(st, o)) {
        pt_log_merror("ssl", PT_LOG_ERR, NULL, "OCSP stapling: OCSP responder %s: %s; the "
                      "response in hand stays stapled (next try in %lld s)", st->url, why,
                      (long long)o->error_ttl_s);
        return o->error_ttl_s;
    }
    slot_store(st->slot, resp, rlen, expires);
    if (why[0]) /* a responder error stapled as it is */
        pt_log_merror("ssl", PT_LOG_WARN, NULL, "OCSP stapling: %s: %s", st->url, why);
    return ttl;
}

/* Starts the fetch for st (the request encoded, the connect begun): the fetch, or NULL
 * when it failed at once (handled: logged, tryLater). */
static pt_ocsp_fetch_t *fetch_start(staple_t *st, const pt_stapling_opts_t *o)
{
    char err[512] = "";
    unsigned char *req = NULL;
    OCSP_REQUEST *q = OCSP_REQUEST_new();
    OCSP_CERTID *id = OCSP_CERTID_dup(st->id);
    int qlen = -1;
    if (q && id && OCSP_request_add0_id(q, id))
        id = NULL, qlen = i2d_OCSP_REQUEST(q, &req);
    OCSP_CERTID_free(id);
    OCSP_REQUEST_free(q);
    pt_ocsp_fetch_t *f = NULL;
    if (qlen <= 0)
        snprintf(err, sizeof(err), "cannot encode the OCSP request");
    else
        f = pt_ocsp_fetch_start(st->url, req, (size_t)qlen, o->timeout_ms, err, sizeof(err));
    OPENSSL_free(req);
    if (!f)
        fetch_failed(st, o, err);
    return f;
}

/* Moves the fetch in flight on for at most wait_ms; when it ends, its staple is updated and
 * scheduled. True while it is still in flight. */
static bool fetch_step(int64_t wait_ms)
{
    unsigned char *resp = NULL;
    size_t rlen = 0;
    char err[512] = "";
    staple_t *st = inflight.st;
    const pt_stapling_opts_t *o = &inflight.sc->o;
    int rc = pt_ocsp_fetch_step(inflight.f, wait_ms, &resp, &rlen, err, sizeof(err));
    if (rc == 0)
        return true;
    int64_t ttl = o->error_ttl_s;
    if (rc > 0)
        ttl = fetch_done(st, o, resp, rlen);
    else
        fetch_failed(st, o, err);
    free(resp);
    st->next_ms = pt_now_ms() + ttl * 1000;
    pt_ocsp_fetch_free(inflight.f);
    inflight.f = NULL;
    inflight.st = NULL;
    inflight.sc = NULL;
    return false;
}

/* The next staple whose refresh is due, or NULL. */
static staple_t *next_due(int64_t now_ms, stap_ctx_t **owner)
{
    for (stap_ctx_t *sc = registry; sc; sc = sc->next)
        for (size_t i = 0; i < sc->n; i++)
            if (sc->st[i].url && now_ms >= sc->st[i].next_ms) {
                *owner = sc;
                return &sc->st[i];
            }
    return NULL;
}

/* The parent reaps and replaces children between ticks: a responder that does not answer
 * must not hold it for its SSLStaplingResponderTimeout. So one fetch at a time is moved on
 * by each tick for at most PT_STAPLING_TICK_BUDGET_MS (a responder that answers at once is
 * done within one), and a new one starts only when the last has ended. */
bool pt_stapling_tick(int64_t now_ms)
{
    int64_t end = pt_now_ms() + PT_STAPLING_TICK_BUDGET_MS;
    for (;;) {
        int64_t left = end - pt_now_ms();
        if (inflight.f && (left <= 0 || fetch_step(left)))
            return true;
        stap_ctx_t *sc = NULL;
        staple_t *st = left > 0 ? next_due(now_ms, &sc) : NULL;
        if (!st)
            return false;
        /* Not due again before this one ends (or its timeout passes). */
        st->next_ms = now_ms + sc->o.timeout_ms + 1000;
        pt_ocsp_fetch_t *f = fetch_start(st, &sc->o);
        if (!f) {
            st->next_ms = now_ms + sc->o.error_ttl_s * 1000;
            continue;
        }
        inflight.f = f;
        inflight.st = st;
        inflight.sc = sc;
    }
}

void pt_stapling_child_forget(void)
{
    pt_ocsp_fetch_free(inflight.f);
    inflight.f = NULL;
    inflight.st = NULL;
    inflight.sc = NULL;
}

/* ---- The children's side ------------------------------------------------------------- */

static const staple_t *staple_for(const stap_ctx_t *sc, X509 *x)
{
    for (size_t i = 0; x && i < sc->n; i++)
        if (sc->st[i].cert == x)
            return &sc->st[i];
    for (size_t i = 0; x && i < sc->n; i++)
        if (X509_cmp(sc->st[i].cert, x) == 0)
            return &sc->st[i];
    return NULL;
}

/* OpenSSL's status callback (a client sent status_request): the response in the slot of
 * the certificate this handshake uses, or no staple. */
static int status_cb(SSL *s, void *arg)
{
    const staple_t *st = staple_for(arg, SSL_get_certificate(s));
    unsigned char *der = NULL;
    size_t len = st ? slot_copy(st->slot, &der) : 0;
    if (len == 0)
        return SSL_TLSEXT_ERR_NOACK;
    if (SSL_set_tlsext_status_ocsp_resp(s, der, (long)len) != 1) {
        OPENSSL_free(der);
        return SSL_TLSEXT_ERR_NOACK;
    }
    return SSL_TLSEXT_ERR_OK;
}

size_t pt_stapling_current(SSL_CTX *ctx, X509 *cert, unsigned char **der)
{
    void *arg = NULL;
    SSL_CTX_get_tlsext_status_arg(ctx, &arg);
    const staple_t *st = arg ? staple_for(arg, cert) : NULL;
    return st ? slot_copy(st->slot, der) : 0;
}

/* ---- Set-up at load (the parent) ------------------------------------------------------ */

static bool issues(X509 *ca, X509 *x)
{
    return ca && ca != x && X509_check_issued(ca, x) == X509_V_OK;
}

/* x's issuer: in its own chain, the context's extra chain (SSLCertificateChainFile), or
 * the context's store. Not referenced. */
static X509 *find_issuer(SSL_CTX *ctx, X509 *x, STACK_OF(X509) *chain)
{
    STACK_OF(X509) *extra = NULL;
    SSL_CTX_get_extra_chain_certs_only(ctx, &extra);
    STACK_OF(X509) *lists[] = {chain, extra};
    for (size_t l = 0; l < 2; l++)
        for (int i = 0; lists[l] && i < sk_X509_num(lists[l]); i++)
            if (issues(sk_X509_value(lists[l], i), x))
                return sk_X509_value(lists[l], i);
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    for (int i = 0; objs && i < sk_X509_OBJECT_num(objs); i++)
        if (issues(X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i)), x))
            return X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
    return NULL;
}

static char *subject_of(X509 *x, char *buf, size_t len)
{
    X509_NAME_oneline(X509_get_subject_name(x), buf, (int)len);
    return buf;
}

/* A response file (SSLStaplingFile) for st: 1 stapled, 0 about another certificate of the
 * context, -1 with err (unreadable, not a response, too big). A response that is about st
 * but fails its checks (signature, validity) is logged and not stapled. */
static int staple_file(staple_t *st, const pt_stapling_opts_t *o, char *err, size_t errlen)
{
    FILE *f = fopen(o->file, "rbe");
    if (!f) {
        snprintf(err, errlen, "SSLStaplingFile %s: %s", o->file, strerror(errno));
        return -1;
    }
    unsigned char *buf = malloc(PT_STAPLE_MAX + 1);
    size_t len = buf ? fread(buf, 1, PT_STAPLE_MAX + 1, f) : 0;
    fclose(f);
    char why[256] = "";
    int64_t expires = 0, ttl = 0;
    int rc = check_der(st, o, buf, len, &expires, &ttl, why, sizeof(why));
    if (rc == 0)
        slot_store(st->slot, buf, len, expires);
    free(buf);
    if (rc == NOT_OURS && strcmp(why, "response is not about this certificate") == 0)
        return 0;
    if (rc == NOT_OURS || len > PT_STAPLE_MAX) {
        snprintf(err, errlen, "SSLStaplingFile %s: %s", o->file, why);
        return -1;
    }
    if (rc != 0)
        pt_log_merror("ssl", PT_LOG_WARN, NULL, "SSLStaplingFile %s: %s: not stapled", o->file,
                      why);
    return 1;
}

/* After a graceful restart the same certificate and responder were stapled by the previous
 * generation: its response and its schedule are taken over, so that the new children staple
 * from their first handshake and the responder is not asked again. */
static void inherit(staple_t *st)
{
    for (stap_ctx_t *sc = registry; sc; sc = sc->next)
        for (size_t i = 0; i < sc->n; i++) {
            const staple_t *old = &sc->st[i];
            if (!old->url || strcmp(old->url, st->url) != 0 || X509_cmp(old->cert, st->cert) ||
                X509_cmp(old->issuer, st->issuer))
                continue;
            unsigned char *der = NULL;
            size_t len = slot_copy(old->slot, &der);
            if (len > 0) {
                slot_store(st->slot, der, len, old->slot->expires);
                st->next_ms = old->next_ms;
            }
            OPENSSL_free(der);
            return;
        }
}

/* Fills st for certificate x of ctx: 1 ready, 0 skipped (logged), -1 with err. */
static int staple_init(SSL_CTX *ctx, X509 *x, STACK_OF(X509) *chain, const pt_stapling_opts_t *o,
                       staple_t *st, char *err, size_t errlen)
{
    char name[256];
    X509 *issuer = find_issuer(ctx, x, chain);
    if (!issuer) {
        pt_log_merror("ssl", PT_LOG_WARN, NULL,
                      "OCSP stapling: no issuer certificate for %s in its "
                      "chain: not stapled",
                      subject_of(x, name, sizeof(name)));
        return 0;
    }
    STACK_OF(OPENSSL_STRING) *aia = o->file || o->force_url ? NULL : X509_get1_ocsp(x);
    const char *url = o->force_url ? o->force_url
                      : sk_OPENSSL_STRING_num(aia) > 0 ? sk_OPENSSL_STRING_value(aia, 0) : NULL;
    if (!o->file && !url) {
        X509_email_free(aia);
        pt_log_merror("ssl", PT_LOG_WARN, NULL,
                      "OCSP stapling: %s names no OCSP responder (AIA) and "
                      "no SSLStaplingForceURL or SSLStaplingFile is set: not stapled",
                      subject_of(x, name, sizeof(name)));
        return 0;
    }
    st->url = url ? strdup(url) : NULL;
    X509_email_free(aia);
    st->id = OCSP_cert_to_id(NULL, x, issuer);
    st->slot = pt_tls_shm_alloc(sizeof(slot_t));
    if ((url && !st->url) || !st->id || !st->slot) {
        snprintf(err, errlen, "OCSP stapling: out of memory");
        return -1;
    }
    X509_up_ref(x);
    X509_up_ref(issuer);
    st->cert = x;
    st->issuer = issuer;
    if (o->file)
        return staple_file(st, o, err, errlen);
    inherit(st);
    return 1;
}

static void staple_release(staple_t *st)
{
    X509_free(st->cert);
    X509_free(st->issuer);
    OCSP_CERTID_free(st->id);
    free(st->url);
    pt_tls_shm_free(st->slot, sizeof(slot_t));
    memset(st, 0, sizeof(*st));
}

static void stap_ctx_release(stap_ctx_t *sc)
{
    for (size_t i = 0; i < sc->n; i++)
        staple_release(&sc->st[i]);
    free(sc);
}

/* Certificates a context may hold: one per key type (RSA, ECDSA, Ed25519, ...). */
#define CERTS_MAX 9

int pt_stapling_ctx(SSL_CTX *ctx, const pt_stapling_opts_t *o, char *err, size_t errlen)
{
    stap_ctx_t *sc = calloc(1, sizeof(*sc) + CERTS_MAX * sizeof(staple_t));
    if (!sc) {
        snprintf(err, errlen, "OCSP stapling: out of memory");
        return -1;
    }
    sc->ctx = ctx;
    sc->o = *o;
    sc->o.file = sc->o.force_url = NULL;
    int rc = 0;
    bool file_used = false;
    for (int more = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST); more && sc->n < CERTS_MAX;
         more = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT)) {
        X509 *x = SSL_CTX_get0_certificate(ctx);
        STACK_OF(X509) *chain = NULL;
        SSL_CTX_get0_chain_certs(ctx, &chain);
        staple_t *st = &sc->st[sc->n];
        rc = x ? staple_init(ctx, x, chain, o, st, err, errlen) : 0;
        if (rc < 0) {
            staple_release(st);
            break;
        }
        if (rc == 0 && o->file) /* the file is about another of its certificates */
            staple_release(st);
        else if (rc == 1)
            sc->n++, file_used = o->file != NULL;
        else
            staple_release(st);
    }
    if (rc >= 0 && o->file && !file_used) {
        snprintf(err, errlen, "SSLStaplingFile %s: the response is about none of this "
                 "server's certificates", o->file);
        rc = -1;
    }
    if (rc < 0) {
        stap_ctx_release(sc);
        return -1;
    }
    SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
    SSL_CTX_set_tlsext_status_arg(ctx, sc);
    sc->next = registry;
    registry = sc;
    return 0;
}

void pt_stapling_ctx_free(SSL_CTX *ctx)
{
    for (stap_ctx_t **pp = &registry; *pp; pp = &(*pp)->next)
        if ((*pp)->ctx == ctx) {
            stap_ctx_t *sc = *pp;
            *pp = sc->next;
            if (inflight.sc == sc) { /* its fetch is dropped with it (a restart) */
                pt_ocsp_fetch_free(inflight.f);
                inflight.f = NULL;
                inflight.st = NULL;
                inflight.sc = NULL;
            }
            SSL_CTX_set_tlsext_status_cb(ctx, NULL);
            SSL_CTX_set_tlsext_status_arg(ctx, NULL);
            stap_ctx_release(sc);
            return;
        }
}

/* ---- The SSL_CTX hook --------------------------------------------------------------- */

static int stapling_ctx_init(SSL_CTX *ctx, const pt_vhost_t *vh, const pt_tls_conf_t *tc,
                             char *err, size_t errlen)
{
    (void)vh;
    if (tc->use_stapling != 1)
        return 0;
    pt_stapling_opts_t o;
    pt_stapling_opts_default(&o);
    o.file = tc->stapling_file.path;
    o.force_url = tc->stapling_force_url;
    if (tc->stapling_timeout_ms >= 0)
        o.timeout_ms = tc->stapling_timeout_ms;
    if (tc->stapling_standard_timeout_s >= 0)
        o.standard_ttl_s = tc->stapling_standard_timeout_s;
    if (tc->stapling_error_timeout_s >= 0)
        o.error_ttl_s = tc->stapling_error_timeout_s;
    if (tc->stapling_return_errors >= 0)
        o.return_errors = tc->stapling_return_errors == 1;
    if (tc->stapling_fake_try_later >= 0)
        o.fake_try_later = tc->stapling_fake_try_later == 1;
    if (tc->stapling_time_skew_s >= 0)
        o.time_skew_s = tc->stapling_time_skew_s;
    o.max_age_s = tc->stapling_max_age_s;
    char why[PT_ERRLEN] = "";
    if (pt_stapling_ctx(ctx, &o, why, sizeof(why)) == 0)
        return 0;
    if (o.file) /* the directive's own line, which the hook's caller does not know */
        snprintf(err, errlen, "%s (%s:%d)", why, tc->stapling_file.file, tc->stapling_file.line);
    else
        snprintf(err, errlen, "%s", why);
    return -1;
}

const pt_tls_ctx_hook_t pt_stapling_hook = {
    .name = "OCSP stapling",
    .ctx_init = stapling_ctx_init,
    .ctx_free = pt_stapling_ctx_free,
};
