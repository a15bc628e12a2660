/* What the differential test compares in two answers to one request, and the rules that
 * excuse a difference because portico differs from Apache on purpose. Each rule's id is
 * named in README.md ("Where portico differs from Apache on purpose"); the test checks that
 * it is, so the list and the rules cannot drift apart. */
#ifndef DT_COMPARE_H
#define DT_COMPARE_H

#include "gen.h"

#include <stdbool.h>
#include <stddef.h>

#define DT_NHDR 3 /* the generated header names: X-T1, X-T2, X-S */

typedef struct {
    int status;               /* 0: no answer (transfer failed) */
    char location[256];       /* own host and port replaced by "SELF" */
    char ctype[128];
    char crange[64];          /* Content-Range */
    char hdr[DT_NHDR][128];   /* "" when absent; several fields joined by ", " */
    bool has_hdr[DT_NHDR];
    char *body;               /* malloc'd */
    size_t body_len;
    const char *file;         /* the tree file the body is, or NULL */
    bool listing;             /* a directory listing (either server's format) */
    char *entries;            /* a listing's entries: its links, sorted, one per line
                                 (malloc'd; NULL when not a listing) */
    char *head;               /* every header field, one per line (malloc'd; for --repro) */
} dt_answer_t;

extern const char *const dt_header_names[DT_NHDR];

/* One difference: the class (a short key that groups differences with one cause, used for
 * the report) and a line with both answers. */
typedef struct {
    char cls[160];
    char detail[600];
} dt_diff_t;

/* Compares; returns the number of differences stored in out (at most max). Differences
 * that an intentional rule explains are not stored; *rule gets that rule's id (NULL when
 * none applied). */
int dt_compare(const dt_req_t *q, const dt_answer_t *apache, const dt_answer_t *portico,
               dt_diff_t *out, int max, const char **rule);

/* The rule ids, NULL-terminated. */
extern const char *const dt_rule_ids[];

void dt_answer_free(dt_answer_t *a);
/* One line: status, Location, type, generated fields, which body. */
void dt_answer_describe(const dt_answer_t *x, char *buf, size_t cap);

#endif
