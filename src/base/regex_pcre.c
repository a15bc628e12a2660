/* PCRE2 behind pt_regex_*: compile once at config load (JIT when available), match from
 * any thread with match data kept per thread (idle.h) and grown to the largest pattern seen. */
#include "regex_pcre.h"

#include "idle.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A pattern that is a plain string, perhaps anchored (".php$", "^index\\.php$", "^"), or a
 * lone "." (any byte, under DOTALL): matched by comparing bytes, with no call into PCRE2
 * (most of a short match's cost is the call). */
typedef enum { LIT_NONE, LIT_STRING, LIT_ANY } lit_kind_t;

struct pt_regex {
    pcre2_code *code;
    bool jit;             /* compiled by the JIT: matched without pcre2_match's checks */
    unsigned ncaptures;
    char *pattern;
    lit_kind_t lit;
    bool lit_start, lit_end; /* "^" and "$" around the string */
    char *lit_text;
    size_t lit_len;
};

/* Per-thread match data, grown to the largest pattern seen. It goes when the thread waits
 * for work or ends (idle.h), and a match after that (a later destructor's, say) makes it
 * again. */
static _Thread_local pcre2_match_data *md_kept;
static _Thread_local uint32_t md_pairs;
static atomic_bool md_hooked; /* md_drop is an idle hook */

static void md_drop(void)
{
    pcre2_match_data_free(md_kept);
    md_kept = NULL;
    md_pairs = 0;
}

static pcre2_match_data *match_data(uint32_t pairs)
{
    if (md_kept && md_pairs >= pairs)
        return md_kept;
    if (!pt_thread_keeps(md_drop, &md_hooked))
        return NULL;
    pcre2_match_data *md = pcre2_match_data_create(pairs, NULL);
    if (!md)
        return NULL;
    pcre2_match_data_free(md_kept);
    md_kept = md;
    md_pairs = pairs;
    return md;
}

/* Fills re's literal form when pattern has one: an optional '^', then bytes that are not
 * metacharacters or are escaped punctuation, then an optional '$'. */
static void literal_form(pt_regex_t *re, const char *pattern, int flags)
{
    if (flags & (PT_REG_ICASE | PT_REG_LITERAL))
        return;
    if (strcmp(pattern, ".") == 0) {
        re->lit = LIT_ANY;
        return;
    }
    const char *p = pattern;
    bool start = *p == '^';
    p += start;
    char *text = malloc(strlen(p) + 1);
    if (!text)
        return;
    size_t n = 0;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '$' && p[1] == '\0')
            break;
        if (c == '\\' && p[1] && !isalnum((unsigned char)p[1]) && (unsigned char)p[1] < 128) {
            text[n++] = *++p;
        } else if (!strchr(".^$|()[]{}*+?\\", c)) {
            text[n++] = (char)c;
        } else {
            free(text);
            return;
        }
    }
    text[n] = '\0';
    re->lit = LIT_STRING;
    re->lit_start = start;
    re->lit_end = *p == '$';
    re->lit_text = text;
    re->lit_len = n;
}

/* The literal form's match: 0 with m[0] set, or PT_REG_NOMATCH. */
static int literal_exec(const pt_regex_t *re, const char *subject, size_t len, int eflags,
                        pt_regmatch_t *m0)
{
    size_t n = re->lit_len, at;
    if (re->lit == LIT_ANY) {
        if (len == 0)
            return PT_REG_NOMATCH;
        *m0 = (pt_regmatch_t){0, 1};
        return 0;
    }
    if (re->lit_start && (eflags & PT_REG_NOTBOL))
        return PT_REG_NOMATCH;
    if (n > len)
        return PT_REG_NOMATCH;
    if (re->lit_start) {
        at = 0;
        if ((re->lit_end && len != n) || memcmp(subject, re->lit_text, n) != 0)
            return PT_REG_NOMATCH;
    } else if (re->lit_end) {
        at = len - n;
        if (memcmp(subject + at, re->lit_text, n) != 0)
            return PT_REG_NOMATCH;
    } else {
        const char *hit = n ? memmem(subject, len, re->lit_text, n) : subject;
        if (!hit)
            return PT_REG_NOMATCH;
        at = (size_t)(hit - subject);
    }
    *m0 = (pt_regmatch_t){(int)at, (int)(at + n)};
    return 0;
}

pt_regex_t *pt_regex_compile(const char *pattern, int flags, char *err, size_t errlen)
{
    uint32_t opts = (flags & PT_REG_LITERAL) ? PCRE2_LITERAL
                                             : PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY;
    if (flags & PT_REG_ICASE)
        opts |= PCRE2_CASELESS;
    int code;
    PCRE2_SIZE off;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &code,
                                  &off, NULL);
    if (!c) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof(msg));
        if (err && errlen)
            snprintf(err, errlen, "%s at offset %zu", (const char *)msg, (size_t)off);
        return NULL;
    }
    /* No JIT (an unsupported CPU, a W^X policy) only costs speed. */
    bool jit = pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0;
    pt_regex_t *re = calloc(1, sizeof(*re));
    char *copy = strdup(pattern);
    if (!re || !copy) {
        free(re);
        free(copy);
        pcre2_code_free(c);
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    uint32_t n = 0;
    (void)pcre2_pattern_info(c, PCRE2_INFO_CAPTURECOUNT, &n);
    re->code = c;
    re->jit = jit;
    re->ncaptures = n;
    re->pattern = copy;
    literal_form(re, pattern, flags);
    return re;
}

void pt_regex_free(pt_regex_t *re)
{
    if (!re)
        return;
    pcre2_code_free(re->code);
    free(re->lit_text);
    free(re->pattern);
    free(re);
}

int pt_regex_exec_len(const pt_regex_t *re, const char *subject, size_t len, size_t nmatch,
                      pt_regmatch_t *m, int eflags)
{
    if (re->lit != LIT_NONE) {
        pt_regmatch_t m0;
        int rc = literal_exec(re, subject, len, eflags, &m0);
        for (size_t i = 0; rc == 0 && i < nmatch; i++)
            m[i] = i ? (pt_regmatch_t){-1, -1} : m0;
        return rc;
    }
    pcre2_match_data *md = match_data(re->ncaptures + 1);
    if (!md)
        return PT_REG_ERROR;
    uint32_t opts = (eflags & PT_REG_NOTBOL) ? PCRE2_NOTBOL : 0;
    int rc = re->jit ? pcre2_jit_match(re->code, (PCRE2_SPTR)subject, len, 0, opts, md, NULL)
                     : pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, opts, md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH)
        return PT_REG_NOMATCH;
    if (rc < 0)
        return PT_REG_ERROR;
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    for (size_t i = 0; i < nmatch; i++) {
        if (i < (size_t)rc && ov[2 * i] != PCRE2_UNSET) {
            m[i].rm_so = (int)ov[2 * i];
            m[i].rm_eo = (int)ov[2 * i + 1];
        } else {
            m[i].rm_so = m[i].rm_eo = -1;
        }
    }
    return 0;
}

int pt_regex_exec(const pt_regex_t *re, const char *subject, size_t nmatch, pt_regmatch_t *m,
                  int eflags)
{
    return pt_regex_exec_len(re, subject, strlen(subject), nmatch, m, eflags);
}

unsigned pt_regex_ncaptures(const pt_regex_t *re)
{
    return re->ncaptures;
}

const char *pt_regex_pattern(const pt_regex_t *re)
{
    return re->pattern;
}
