/* The directive walker's helpers for every directive table: errors with FILE:LINE, arrays
 * grown in the config arena, regexes freed with the config, and the number, On/Off, path
 * and timeout arguments. Declared in directives.h. */
#include "directives.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int pt_dcx_fail(dcx_t *l, const pt_node_t *n, const char *fmt, ...)
{
    char msg[PT_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n)
        snprintf(l->err, l->errlen, "%s:%d: %s", n->file, n->line, msg);
    else
        snprintf(l->err, l->errlen, "%s", msg);
    return -1;
}

/* The array's capacity is implied by its length: 4, then doubling at every power of two. */
void *pt_dcx_push(pt_arena_t *a, void *arrp, size_t *n, size_t elt)
{
    void **arr = arrp;
    size_t k = *n;
    if (k == 0 || (k >= 4 && (k & (k - 1)) == 0))
        *arr = pt_arena_grow(a, *arr, k * elt, (k == 0 ? 4 : 2 * k) * elt);
    void *slot = (char *)*arr + k * elt;
    memset(slot, 0, elt);
    (*n)++;
    return slot;
}

regex_t *pt_dcx_regex(dcx_t *l, const pt_node_t *n, const char *pattern, int flags)
{
    regex_t *re = pt_arena_calloc(l->a, sizeof(*re));
    int rc = regcomp(re, pattern, REG_EXTENDED | flags);
    if (rc != 0) {
        char msg[128];
        regerror(rc, re, msg, sizeof(msg));
        regfree(re);
        pt_dcx_fail(l, n, "bad regex '%s': %s", pattern, msg);
        return NULL;
    }
    pt_dcx_keep_regex(l, re);
    return re;
}

void pt_dcx_keep_regex(dcx_t *l, regex_t *re)
{
    regex_t **slot = pt_dcx_push(l->a, &l->cfg->regexes, &l->cfg->nregexes, sizeof(*slot));
    *slot = re;
}

int pt_dcx_long(dcx_t *l, const pt_node_t *n, const char *s, long long min, long long max,
                long long *out)
{
    char *end;
    *out = 0; /* written on every path: callers need not initialise */
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return pt_dcx_fail(l, n, "%s: '%s' is not a number", n->name, s);
    if (v < min || v > max)
        return pt_dcx_fail(l, n, "%s: %s is out of range (%lld to %lld)", n->name, s, min,
                           max);
    *out = v;
    return 0;
}

int pt_dcx_int(dcx_t *l, const pt_node_t *n, long long min, long long max, int *out)
{
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[0], min, max, &v) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

int pt_dcx_onoff(dcx_t *l, const pt_node_t *n, const char *s, bool *out)
{
    *out = false;
    if (strcasecmp(s, "on") == 0)
        *out = true;
    else if (strcasecmp(s, "off") == 0)
        *out = false;
    else
        return pt_dcx_fail(l, n, "%s must be On or Off", n->name);
    return 0;
}

const char *pt_dcx_path(dcx_t *l, const char *p)
{
    if (p[0] == '/' || !l->cfg->server_root)
        return pt_arena_strdup(l->a, p);
    return pt_arena_printf(l->a, "%s/%s", l->cfg->server_root, p);
}

/* Seconds, or milliseconds with an "ms" suffix (Apache's ap_timeout_parameter_parse). */
int pt_dcx_timeout(dcx_t *l, const pt_node_t *n, const char *s, int64_t *ms)
{
    size_t len = strlen(s);
    bool is_ms = len > 2 && strcasecmp(s + len - 2, "ms") == 0;
    char *num = pt_arena_strndup(l->a, s, is_ms ? len - 2 : len);
    long long v = 0;
    if (pt_dcx_long(l, n, num, 0, is_ms ? INT64_MAX / 2 : INT32_MAX, &v) < 0)
        return -1;
    *ms = is_ms ? v : v * 1000;
    return 0;
}
