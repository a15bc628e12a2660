/* Regular expressions as Apache has them: PCRE2 (with its JIT where the CPU has one),
 * behind a small POSIX-shaped API so that a capture is an offset pair, as regexec gives.
 * Apache compiles every pattern with RegexDefaultOptions, whose default is DOTALL and
 * DOLLAR_ENDONLY; so does pt_regex_compile. A compiled pattern is read-only and may be
 * matched by any number of threads at once (match data is per thread). */
#ifndef PT_REGEX_PCRE_H
#define PT_REGEX_PCRE_H

#include <stddef.h>

typedef struct pt_regex pt_regex_t;

/* One capture: byte offsets into the subject, both -1 when the group did not take part. */
typedef struct {
    int rm_so;
    int rm_eo;
} pt_regmatch_t;

/* Compile flags. */
#define PT_REG_ICASE 0x01  /* caseless, as [NC], "(?i)" and REG_ICASE */
#define PT_REG_LITERAL 0x02 /* the pattern is a plain string (Apache's "=" forms) */

/* Exec flags. */
#define PT_REG_NOTBOL 0x01 /* the subject does not start a line: "^" cannot match at 0 */

/* Match results besides 0 (matched). */
#define PT_REG_NOMATCH 1
#define PT_REG_ERROR (-1) /* match or resource limit (catastrophic backtracking): no match */

/* Captures a replacement can name: $0..$9 in Apache's ap_pregsub. */
#define PT_REG_MAXSUB 10

/* Compiles pattern; NULL on error, with PCRE2's message and the offset in err. The result
 * is owned by the caller and freed with pt_regex_free. */
pt_regex_t *pt_regex_compile(const char *pattern, int flags, char *err, size_t errlen);
void pt_regex_free(pt_regex_t *re);

/* Matches NUL-terminated subject (exec_len: len bytes, not NUL-terminated). Fills
 * m[0..nmatch) (groups beyond the pattern's get -1). Returns 0, PT_REG_NOMATCH or
 * PT_REG_ERROR; any non-zero is "no match" to a caller that wants only that. */
int pt_regex_exec(const pt_regex_t *re, const char *subject, size_t nmatch, pt_regmatch_t *m,
                  int eflags);
int pt_regex_exec_len(const pt_regex_t *re, const char *subject, size_t len, size_t nmatch,
                      pt_regmatch_t *m, int eflags);

/* The number of capturing groups in the pattern (not counting $0). */
unsigned pt_regex_ncaptures(const pt_regex_t *re);
/* The pattern as written. */
const char *pt_regex_pattern(const pt_regex_t *re);

#endif
