/* mod_authn_file and mod_authz_groupfile: the htpasswd and group files, read at each check
 * as Apache reads them (a change to a file applies to the next request, no reload), and the
 * password hashes htpasswd writes: bcrypt ($2y$), APR1-MD5 ($apr1$), {SHA} (SHA-1), and
 * crypt(3)'s own (DES, $5$, $6$ ...). Comparisons take the same time whatever matches. */
#ifndef PT_AUTHN_FILE_H
#define PT_AUTHN_FILE_H

#include "arena.h"

#include <stdbool.h>

typedef enum {
    PT_AUTHN_GRANTED = 0,
    PT_AUTHN_USER_NOT_FOUND,
    PT_AUTHN_DENIED,          /* password mismatch */
    PT_AUTHN_ERROR,           /* file unreadable, or a hash no algorithm reads */
} pt_authn_t;

/* password against one stored hash. */
bool pt_password_matches(const char *password, const char *hash);
/* The APR1-MD5 hash of password with salt (up to 8 characters, ended by '$' or NUL), as
 * "$apr1$salt$hash" in out (at least 40 bytes). */
void pt_apr1_md5(const char *password, const char *salt, char *out, size_t outlen);
/* Looks user up in the htpasswd file at path and checks password. On PT_AUTHN_ERROR, err
 * says why. */
pt_authn_t pt_authn_file_check(const char *path, const char *user, const char *password,
                               char *err, size_t errlen);
/* user is listed in group in the group file ("group: user1 user2", one group a line):
 * 1 yes, 0 no, -1 the file could not be read (err says why). */
int pt_groupfile_member(const char *path, const char *user, const char *group, char *err,
                        size_t errlen);

#endif
