/* Password files and groups: lines are read with getline from the file at each call (no
 * cache to go stale), the hashes checked with libcrypt (bcrypt, DES and the $N$ schemes) or
 * with OpenSSL's digests (APR1-MD5 and {SHA}, which libcrypt does not know), compared with
 * CRYPTO_memcmp. */
#include "authn_file.h"

#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APR1_MAGIC "$apr1$"
#define APR1_SALT_MAX 8
#define MD5_LEN 16

static const char itoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void to64(char **p, unsigned long v, int n)
{
    while (n-- > 0) {
        *(*p)++ = itoa64[v & 0x3f];
        v >>= 6;
    }
}

static void md5_parts(EVP_MD_CTX *c, const void *a, size_t alen, const void *b, size_t blen,
                      const void *d, size_t dlen, unsigned char out[MD5_LEN])
{
    EVP_DigestInit_ex(c, EVP_md5(), NULL);
    EVP_DigestUpdate(c, a, alen);
    EVP_DigestUpdate(c, b, blen);
    EVP_DigestUpdate(c, d, dlen);
    EVP_DigestFinal_ex(c, out, NULL);
}

/* The thousand rounds of the MD5-crypt scheme (Poul-Henning Kamp's, which APR uses with its
 * own magic), each mixing the last digest with the password and salt in a fixed pattern. */
static void apr1_rounds(EVP_MD_CTX *c, const char *pw, size_t pl, const char *salt, size_t sl,
                        unsigned char fin[MD5_LEN])
{
    for (int i = 0; i < 1000; i++) {
        EVP_DigestInit_ex(c, EVP_md5(), NULL);
        if (i & 1)
            EVP_DigestUpdate(c, pw, pl);
        else
            EVP_DigestUpdate(c, fin, MD5_LEN);
        if (i % 3)
            EVP_DigestUpdate(c, salt, sl);
        if (i % 7)
            EVP_DigestUpdate(c, pw, pl);
        if (i & 1)
            EVP_DigestUpdate(c, fin, MD5_LEN);
        else
            EVP_DigestUpdate(c, pw, pl);
        EVP_DigestFinal_ex(c, fin, NULL);
    }
}

static void apr1_digest(EVP_MD_CTX *c, const char *pw, const char *salt, size_t sl,
                        unsigned char fin[MD5_LEN])
{
    size_t pl = strlen(pw);
    unsigned char alt[MD5_LEN];
    md5_parts(c, pw, pl, salt, sl, pw, pl, alt);
    EVP_DigestInit_ex(c, EVP_md5(), NULL);
    EVP_DigestUpdate(c, pw, pl);
    EVP_DigestUpdate(c, APR1_MAGIC, strlen(APR1_MAGIC));
    EVP_DigestUpdate(c, salt, sl);
    for (size_t left = pl; left > 0; left -= left > MD5_LEN ? MD5_LEN : left)
        EVP_DigestUpdate(c, alt, left > MD5_LEN ? MD5_LEN : left);
    /* One byte per bit of the length: a zero byte for a one bit, the password's first
     * character for a zero bit (the scheme's quirk, kept for compatibility). */
    for (size_t i = pl; i; i >>= 1)
        EVP_DigestUpdate(c, (i & 1) ? "" : pw, 1);
    EVP_DigestFinal_ex(c, fin, NULL);
    apr1_rounds(c, pw, pl, salt, sl, fin);
}

void pt_apr1_md5(const char *password, const char *salt, char *out, size_t outlen)
{
    size_t sl = 0;
    while (sl < APR1_SALT_MAX && salt[sl] && salt[sl] != '$')
        sl++;
    unsigned char f[MD5_LEN];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    apr1_digest(c, password, salt, sl, f);
    EVP_MD_CTX_free(c);
    char enc[23], *p = enc;
    to64(&p, ((unsigned long)f[0] << 16) | ((unsigned long)f[6] << 8) | f[12], 4);
    to64(&p, ((unsigned long)f[1] << 16) | ((unsigned long)f[7] << 8) | f[13], 4);
    to64(&p, ((unsigned long)f[2] << 16) | ((unsigned long)f[8] << 8) | f[14], 4);
    to64(&p, ((unsigned long)f[3] << 16) | ((unsigned long)f[9] << 8) | f[15], 4);
    to64(&p, ((unsigned long)f[4] << 16) | ((unsigned long)f[10] << 8) | f[5], 4);
    to64(&p, f[11], 2);
    *p = '\0';
    snprintf(out, outlen, "%s%.*s$%s", APR1_MAGIC, (int)sl, salt, enc);
    OPENSSL_cleanse(f, sizeof f);
}

static bool same_string(const char *a, const char *b)
{
    size_t n = strlen(a);
    /* The lengths are the hash format's, not a secret; the bytes are compared in full. */
    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

static bool sha1_matches(const char *password, const char *b64)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(password, strlen(password), md, &mdlen, EVP_sha1(), NULL);
    char enc[64];
    EVP_EncodeBlock((unsigned char *)enc, md, (int)mdlen);
    return same_string(enc, b64);
}

static bool crypt_matches(const char *password, const char *hash)
{
    struct crypt_data *cd = calloc(1, sizeof *cd); /* tens of KiB: not on a worker's stack */
    if (!cd)
        return false;
    const char *out = crypt_r(password, hash, cd);
    /* libxcrypt answers a setting it cannot read with "*0"/"*1", never equal to it. */
    bool ok = out && out[0] != '*' && same_string(out, hash);
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return ok;
}

bool pt_password_matches(const char *password, const char *hash)
{
    if (!password || !hash || !hash[0])
        return false;
    if (strncmp(hash, APR1_MAGIC, strlen(APR1_MAGIC)) == 0) {
        char mine[64];
        pt_apr1_md5(password, hash + strlen(APR1_MAGIC), mine, sizeof mine);
        return same_string(mine, hash);
    }
    if (strncmp(hash, "{SHA}", 5) == 0)
        return sha1_matches(password, hash + 5);
    return crypt_matches(password, hash);
}

/* The next line with blanks trimmed at both ends; NULL at the end of the file. */
static char *next_line(FILE *f, char **buf, size_t *cap)
{
    ssize_t n = getline(buf, cap, f);
    if (n < 0)
        return NULL;
    char *s = *buf;
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
                     s[n - 1] == '\t'))
        s[--n] = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static FILE *open_file(const char *path, const char *what, char *err, size_t errlen)
{
    FILE *f = path ? fopen(path, "re") : NULL;
    if (!f)
        snprintf(err, errlen, "Could not open %s file: %s (%s)", what, path ? path : "(none)",
                 path ? strerror(errno) : "not configured");
    return f;
}

pt_authn_t pt_authn_file_check(const char *path, const char *user, const char *password,
                               char *err, size_t errlen)
{
    FILE *f = open_file(path, "password", err, errlen);
    if (!f)
        return PT_AUTHN_ERROR;
    char *buf = NULL, *l;
    size_t cap = 0, ulen = strlen(user);
    pt_authn_t res = PT_AUTHN_USER_NOT_FOUND;
    while ((l = next_line(f, &buf, &cap))) {
        if (l[0] == '#' || l[0] == '\0')
            continue;
        if (strncmp(l, user, ulen) != 0 || l[ulen] != ':')
            continue;
        char *hash = l + ulen + 1, *end = strchr(hash, ':');
        if (end)
            *end = '\0'; /* htdigest-style extra fields are not part of the hash */
        res = pt_password_matches(password, hash) ? PT_AUTHN_GRANTED : PT_AUTHN_DENIED;
        break;
    }
    if (buf)
        explicit_bzero(buf, cap);
    free(buf);
    fclose(f);
    return res;
}

static bool listed(char *members, const char *user)
{
    for (char *save = NULL, *w = strtok_r(members, " \t", &save); w;
         w = strtok_r(NULL, " \t", &save))
        if (strcmp(w, user) == 0)
            return true;
    return false;
}

int pt_groupfile_member(const char *path, const char *user, const char *group, char *err,
                        size_t errlen)
{
    FILE *f = open_file(path, "group", err, errlen);
    if (!f)
        return -1;
    char *buf = NULL, *l;
    size_t cap = 0, glen = strlen(group);
    int res = 0;
    while (!res && (l = next_line(f, &buf, &cap))) {
        if (l[0] == '#' || strncmp(l, group, glen) != 0 || l[glen] != ':')
            continue;
        res = listed(l + glen + 1, user) ? 1 : 0;
    }
    free(buf);
    fclose(f);
    return res;
}
