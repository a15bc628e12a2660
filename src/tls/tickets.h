/* src/tls: TLS session ticket keys shared by every child, so that a session resumes
 * whichever child answers. The parent maps one key ring before it forks (pt_tickets_init)
 * and rotates it from its tick (pt_tickets_tick); each SSL_CTX gets the ticket callback
 * (pt_tickets_ctx), which encrypts with the current key and still decrypts with the
 * previous one. A virtual host with SSLSessionTicketKeyFile (mod_ssl's 48-byte file) uses
 * that key instead, never rotated: replicas given the same file resume each other's
 * sessions. */
#ifndef PT_TICKETS_H
#define PT_TICKETS_H

#include "config.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* mod_ssl's SSLSessionTicketKeyFile: 16 bytes key name, 16 HMAC secret, 16 AES key. */
#define PT_TICKET_KEY_FILE_LEN 48

/* One ticket key. A key made by portico is AES-256 with a 32-byte HMAC-SHA256 secret; a
 * key file's is AES-128 with a 16-byte secret, as mod_ssl uses it. Plain data: copied. */
typedef struct {
    unsigned char name[16];
    unsigned char hmac[32];
    unsigned char aes[32];
    uint8_t hmac_len;
    uint8_t aes_len;
} pt_ticket_key_t;

/* In the parent, before the children fork (at configuration load): maps the shared ring
 * with a fresh random key, once per process (later calls do nothing), so that sessions
 * survive a graceful restart too. 0, or -1 with a message in err. */
int pt_tickets_init(char *err, size_t errlen);

/* Reads a SSLSessionTicketKeyFile into *key. 0, or -1 with a message in err (the caller
 * adds the directive's file:line): unreadable, or not exactly 48 bytes. */
int pt_tickets_key_file(const char *path, pt_ticket_key_t *key, char *err, size_t errlen);

/* Sets ctx's tickets (SSLSessionTickets): enabled, the ring's keys (pt_tickets_init first)
 * or file_key's (copied, freed with ctx; NULL for the ring); disabled, no tickets at all.
 * Either way OpenSSL's per-process session cache is turned off: a session ID cached in one
 * child would resume only when that child answers again. 0, or -1 with a message in err. */
int pt_tickets_ctx(SSL_CTX *ctx, bool enabled, const pt_ticket_key_t *file_key, char *err,
                   size_t errlen);

/* How often the ring must turn for ctx: its SSL_CTX_get_timeout (SSLSessionCacheTimeout),
 * within a second and a day, so that a ticket stays decryptable for its whole lifetime (the
 * key that made it is the previous one for a period more); 0 when ctx's tickets are not
 * under the ring (off, or a key file). */
int64_t pt_tickets_ctx_period_ms(SSL_CTX *ctx);
/* The ring's period under cfg, the configuration now loaded: the longest of its servers'
 * (pt_tickets_ctx_period_ms), a second at least. Of the loaded configuration only, so that
 * a graceful restart that shortens SSLSessionCacheTimeout turns the keys sooner. */
int64_t pt_tickets_period_ms(const pt_config_t *cfg);

/* The parent's tick (mpm.h tick_parent), with the monotonic time: rotates the ring when
 * period_ms (pt_tickets_period_ms) has passed since the last rotation. Cheap when nothing
 * is due; nothing before pt_tickets_init. */
void pt_tickets_tick(int64_t period_ms, int64_t now_ms);

/* Rotates now (tests; the tick's work): a new current key, the current one kept as the
 * previous for decryption, the previous one forgotten. */
void pt_tickets_rotate(int64_t now_ms);

/* What tls_ctx.c runs on each server's SSL_CTX at load (startup.c registers it with
 * pt_tls_ctx_hook_register): SSLSessionTickets and SSLSessionTicketKeyFile applied with
 * pt_tickets_init and pt_tickets_ctx. */
extern const struct pt_tls_ctx_hook pt_tickets_hook;

/* The current key's name (tests, and a child's view of a rotation): false before init. */
bool pt_tickets_current_name(unsigned char name[16]);

#endif
