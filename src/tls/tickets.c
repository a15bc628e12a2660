/* src/tls: session ticket keys shared by the children (tickets.h): the ring in shared
 * memory, its rotation from the parent's tick, the mod_ssl key file, and OpenSSL 3's
 * ticket callback (SSL_CTX_set_tlsext_ticket_key_evp_cb with an EVP_MAC HMAC). */
#include "tickets.h"

#include "clock.h"
#include "tls.h"
#include "tls_ctx.h"
#include "tls_shm.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds on the rotation period: a second (tests set SSLSessionCacheTimeout that low) to a
 * day (a key that outlives that protects nothing a rotation would not). */
#define ROTATE_MIN_MS 1000
#define ROTATE_MAX_MS (24 * 3600 * 1000LL)

/* What the children read (under lock): the key that encrypts and the one before it. */
typedef struct {
    pt_ticket_key_t cur;
    pt_ticket_key_t prev;
    bool has_prev;
} ring_keys_t;

/* The shared ring. keys is written by the parent only, under lock; rotated_ms is the
 * parent's bookkeeping (children inherit it and never read it). */
typedef struct {
    pt_seqlock_t lock;
    ring_keys_t keys;
    int64_t rotated_ms;
} ring_t;

/* Mapped once in the parent and inherited by every child; like the scoreboard, process
 * state that outlives the configuration generations (sessions survive a graceful restart). */
static ring_t *ring;
/* SSL_CTX ex_data slot of a virtual host's key-file key (pt_ticket_key_t, OPENSSL_malloc). */
static int file_key_idx = -1;

static int new_key(pt_ticket_key_t *k)
{
    memset(k, 0, sizeof(*k));
    k->hmac_len = sizeof(k->hmac);
    k->aes_len = sizeof(k->aes);
    if (RAND_bytes(k->name, sizeof(k->name)) != 1 || RAND_bytes(k->hmac, sizeof(k->hmac)) != 1 ||
        RAND_bytes(k->aes, sizeof(k->aes)) != 1)
        return -1;
    return 0;
}

static void free_file_key(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                          void *argp)
{
    OPENSSL_clear_free(ptr, sizeof(pt_ticket_key_t));
}

int pt_tickets_init(char *err, size_t errlen)
{
    if (file_key_idx < 0)
        file_key_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_file_key);
    if (file_key_idx < 0) {
        snprintf(err, errlen, "ticket keys: no SSL_CTX ex_data slot");
        return -1;
    }
    if (ring)
        return 0;
    ring_t *r = pt_tls_shm_alloc(sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "ticket keys: shared memory: %s", strerror(errno));
        return -1;
    }
    if (new_key(&r->keys.cur) != 0) {
        pt_tls_shm_free(r, sizeof(*r));
        snprintf(err, errlen, "ticket keys: no random bytes");
        return -1;
    }
    r->rotated_ms = pt_now_ms();
    ring = r;
    return 0;
}

int pt_tickets_key_file(const char *path, pt_ticket_key_t *key, char *err, size_t errlen)
{
    unsigned char buf[PT_TICKET_KEY_FILE_LEN + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "SSLSessionTicketKeyFile %s: %s", path, strerror(errno));
        return -1;
    }
    size_t got = 0;
    ssize_t n = 0;
    while (got < sizeof(buf) && (n = read(fd, buf + got, sizeof(buf) - got)) > 0)
        got += (size_t)n;
    int saved = errno;
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "SSLSessionTicketKeyFile %s: %s", path, strerror(saved));
        return -1;
    }
    if (got != PT_TICKET_KEY_FILE_LEN) {
        snprintf(err, errlen, "SSLSessionTicketKeyFile %s: must hold exactly %d bytes (key "
                 "name, HMAC secret, AES key: 16 each), it holds %s%zu", path,
                 PT_TICKET_KEY_FILE_LEN, got > PT_TICKET_KEY_FILE_LEN ? "more than " : "",
                 got > PT_TICKET_KEY_FILE_LEN ? (size_t)PT_TICKET_KEY_FILE_LEN : got);
        OPENSSL_cleanse(buf, sizeof(buf));
        return -1;
    }
    memset(key, 0, sizeof(*key));
    memcpy(key->name, buf, 16);
    memcpy(key->hmac, buf + 16, 16);
    memcpy(key->aes, buf + 32, 16);
    key->hmac_len = 16;
    key->aes_len = 16;
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}

/* Keys the ticket's cipher and MAC with k; enc: a fresh IV too. 1, or -1 (handshake
 * fails, as OpenSSL treats a callback error). */
static int key_up(const pt_ticket_key_t *k, unsigned char *iv, EVP_CIPHER_CTX *cctx,
                  EVP_MAC_CTX *hctx, int enc)
{
    const EVP_CIPHER *c = k->aes_len == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac,
                                                  k->hmac_len);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (enc && RAND_bytes(iv, EVP_CIPHER_get_iv_length(c)) != 1)
        return -1;
    int ok = enc ? EVP_EncryptInit_ex(cctx, c, NULL, k->aes, iv)
                 : EVP_DecryptInit_ex(cctx, c, NULL, k->aes, iv);
    if (ok != 1 || EVP_MAC_CTX_set_params(hctx, params) != 1)
        return -1;
    return 1;
}

/* OpenSSL's ticket callback, for every server's connections: OpenSSL calls the first
 * context's (the address's default server), whichever server SNI switched to, so the keys
 * are the switched context's (SSL_get_SSL_CTX). Encrypt: name the key, key up. Decrypt: 1
 * for the current key, 2 for the previous one (valid, but OpenSSL issues a new ticket under
 * the current key), 0 for a key we no longer have (a full handshake, as for an expired
 * ticket). A server's key file is the only file key it takes: the key of a file since
 * replaced (a graceful restart) resumes nothing, as in mod_ssl. */
static int ticket_cb(SSL *s, unsigned char key_name[16], unsigned char *iv,
                     EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
    const pt_ticket_key_t *fk = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(s), file_key_idx);
    if (enc && fk) {
        memcpy(key_name, fk->name, 16);
        return key_up(fk, iv, cctx, hctx, 1);
    }
    if (!enc && fk && memcmp(key_name, fk->name, 16) == 0)
        return key_up(fk, iv, cctx, hctx, 0);
    ring_keys_t rk;
    if (!ring || !pt_seq_read(&ring->lock, &rk, &ring->keys, sizeof(rk)))
        return enc ? -1 : 0;
    int rc = 0;
    if (enc) {
        memcpy(key_name, rk.cur.name, 16);
        rc = key_up(&rk.cur, iv, cctx, hctx, 1);
    } else if (memcmp(key_name, rk.cur.name, 16) == 0) {
        /* Under a host with a key file, a ring ticket is renewed under the file's key. */
        rc = key_up(&rk.cur, iv, cctx, hctx, 0) == 1 ? (fk ? 2 : 1) : -1;
    } else if (rk.has_prev && memcmp(key_name, rk.prev.name, 16) == 0) {
        rc = key_up(&rk.prev, iv, cctx, hctx, 0) == 1 ? 2 : -1;
    }
    OPENSSL_cleanse(&rk, sizeof(rk));
    return rc;
}

/* Before OpenSSL makes a ticket: the session it carries gets the lifetime of the server the
 * connection is on, its SSLSessionCacheTimeout. OpenSSL gives a new session the lifetime of
 * the connection's first context (the address's default server), whichever server SNI
 * switched to, and calls the first context's callback, so every context has this one. The
 * lifetime goes into the ticket, with it its hint to the client, and is what a resumption
 * is checked against. */
static int ticket_made(SSL *s, void *arg)
{
    (void)arg;
    SSL_SESSION *sess = SSL_get0_session(s);
    long lifetime = SSL_CTX_get_timeout(SSL_get_SSL_CTX(s));
    if (sess && SSL_SESSION_get_timeout(sess) != lifetime)
        SSL_SESSION_set_timeout(sess, lifetime);
    return 1;
}

/* The callbacks every context has (ticket_cb, ticket_made), tickets on or off: as an
 * address's default server, its context is the one whose callbacks OpenSSL calls for the
 * servers SNI switches to. */
static int callbacks(SSL_CTX *ctx, char *err, size_t errlen)
{
    if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb) != 1 ||
        SSL_CTX_set_session_ticket_cb(ctx, ticket_made, NULL, NULL) != 1) {
        snprintf(err, errlen, "ticket keys: the ticket callbacks could not be set");
        return -1;
    }
    return 0;
}

static int64_t period_of(SSL_CTX *ctx)
{
    int64_t ms = (int64_t)SSL_CTX_get_timeout(ctx) * 1000;
    return ms < ROTATE_MIN_MS ? ROTATE_MIN_MS : ms > ROTATE_MAX_MS ? ROTATE_MAX_MS : ms;
}

int pt_tickets_ctx(SSL_CTX *ctx, bool enabled, const pt_ticket_key_t *file_key, char *err,
                   size_t errlen)
{
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (!enabled) {
        /* TLS 1.3 would still send (stateful) tickets with only SSL_OP_NO_TICKET. */
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
        return ring ? callbacks(ctx, err, errlen) : 0;
    }
    if (!ring || file_key_idx < 0) {
        snprintf(err, errlen, "ticket keys: pt_tickets_init was not called");
        return -1;
    }
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
    if (file_key) {
        pt_ticket_key_t *k = OPENSSL_malloc(sizeof(*k));
        if (!k || SSL_CTX_set_ex_data(ctx, file_key_idx, k) != 1) {
            OPENSSL_free(k);
            snprintf(err, errlen, "ticket keys: out of memory");
            return -1;
        }
        *k = *file_key;
    }
    return callbacks(ctx, err, errlen);
}

void pt_tickets_rotate(int64_t now_ms)
{
    if (!ring)
        return;
    pt_ticket_key_t k;
    if (new_key(&k) != 0)
        return; /* no entropy now: keep the current key, try at the next tick */
    pt_seq_write_begin(&ring->lock);
    ring->keys.prev = ring->keys.cur;
    ring->keys.has_prev = true;
    ring->keys.cur = k;
    pt_seq_write_end(&ring->lock);
    ring->rotated_ms = now_ms;
    OPENSSL_cleanse(&k, sizeof(k));
}

int64_t pt_tickets_ctx_period_ms(SSL_CTX *ctx)
{
    if ((SSL_CTX_get_options(ctx) & SSL_OP_NO_TICKET) ||
        (file_key_idx >= 0 && SSL_CTX_get_ex_data(ctx, file_key_idx)))
        return 0;
    return period_of(ctx);
}

static void widen_period(SSL_CTX *ctx, void *arg)
{
    int64_t *period = arg;
    *period = PT_MAX(*period, pt_tickets_ctx_period_ms(ctx));
}

int64_t pt_tickets_period_ms(const pt_config_t *cfg)
{
    int64_t period = ROTATE_MIN_MS;
    pt_tls_ctx_each(cfg, widen_period, &period);
    return period;
}

void pt_tickets_tick(int64_t period_ms, int64_t now_ms)
{
    if (ring && now_ms - ring->rotated_ms >= period_ms)
        pt_tickets_rotate(now_ms);
}

bool pt_tickets_current_name(unsigned char name[16])
{
    ring_keys_t rk;
    if (!ring || !pt_seq_read(&ring->lock, &rk, &ring->keys, sizeof(rk)))
        return false;
    memcpy(name, rk.cur.name, 16);
    OPENSSL_cleanse(&rk, sizeof(rk));
    return true;
}

/* ---- The SSL_CTX hook --------------------------------------------------------------- */

static int tickets_ctx_init(SSL_CTX *ctx, const pt_vhost_t *vh, const pt_tls_conf_t *tc,
                            char *err, size_t errlen)
{
    (void)vh;
    bool enabled = tc->tickets != 0;
    pt_ticket_key_t key, *fk = NULL;
    char why[PT_ERRLEN] = "";
    if (enabled && pt_tickets_init(err, errlen) != 0)
        return -1;
    if (enabled && tc->ticket_key_file.path) {
        if (pt_tickets_key_file(tc->ticket_key_file.path, &key, why, sizeof(why)) != 0) {
            /* The directive's own line, which the hook's caller does not know. */
            snprintf(err, errlen, "%s (%s:%d)", why, tc->ticket_key_file.file,
                     tc->ticket_key_file.line);
            return -1;
        }
        fk = &key;
    }
    int rc = pt_tickets_ctx(ctx, enabled, fk, err, errlen);
    OPENSSL_cleanse(&key, sizeof(key));
    return rc;
}

const pt_tls_ctx_hook_t pt_tickets_hook = {
    .name = "session tickets",
    .ctx_init = tickets_ctx_init,
};
