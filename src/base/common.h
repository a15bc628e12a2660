/* src/base/: the bottom floor, what every other folder uses (this header, arenas, tables,
 * buffer chains, the clock, HTTP dates, the error log); it includes nothing else of portico.
 *
 * Types and error codes every module shares: string slices, status codes, small helpers.
 * Nothing here allocates; see arena.h for memory. */
#ifndef PT_COMMON_H
#define PT_COMMON_H

#include "clock.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* A slice of bytes owned by someone else (usually a read buffer or an arena). */
typedef struct {
    const char *p;
    size_t len;
} pt_str_t;

#define PT_STR(lit) ((pt_str_t){(lit), sizeof(lit) - 1})

/* Errors: 0 success, negative PT_E* or -errno. */
enum {
    PT_OK = 0,
    PT_EAGAIN = -1000, /* need more input / would block */
    PT_EINVAL = -1001, /* malformed input */
    PT_ECONFIG = -1002,
    PT_ECLOSED = -1003, /* peer went away */
    PT_ETIMEOUT = -1004,
    PT_ETOOBIG = -1005,
};

/* Size of the buffer that config and validation functions fill with a message. */
#define PT_ERRLEN 512

static inline bool pt_str_eq(pt_str_t s, const char *c)
{
    size_t n = strlen(c);
    return s.len == n && memcmp(s.p, c, n) == 0;
}

static inline bool pt_str_caseeq(pt_str_t s, const char *c)
{
    size_t n = strlen(c);
    /* Bytes equal ignoring ASCII case differ at most in bit 0x20: a first byte that differs
     * elsewhere answers without the call (names of one length often differ there). */
    return s.len == n &&
           (n == 0 || (((unsigned char)s.p[0] ^ (unsigned char)c[0]) & ~0x20u) == 0) &&
           strncasecmp(s.p, c, n) == 0;
}

/* A hex digit's value (either case), or -1 for any other byte. */
static inline int pt_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

#define PT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* For the work behind a per-request function's quick "nothing to do" test: kept out of line,
 * the test costs no saving of registers or stack frame, which inlined it would (most
 * requests take the quick way). */
#define PT_NOINLINE __attribute__((noinline))
#define PT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PT_MAX(a, b) ((a) > (b) ? (a) : (b))


#endif
