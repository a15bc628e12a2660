/* mod_expires' filter: which code applies (the exact type, then the major type's wildcard,
 * then the default, as expires_filter in Apache's mod_expires.c) and the two fields it sets.
 * The request's own start is "access"; the file's modification time is "modification". */
#include "expires.h"

#include "range.h"

#include <stdio.h>
#include <stdlib.h>

/* The type without parameters ("text/html; charset=utf-8" -> "text/html"). */
static const char *bare_type(const char *type, size_t *len)
{
    size_t n = strcspn(type, ";");
    while (n > 0 && (type[n - 1] == ' ' || type[n - 1] == '\t'))
        n--;
    *len = n;
    return type;
}

static const char *code_for(const pt_dir_config_t *d, const char *type, size_t tlen)
{
    for (size_t i = 0; type && i < d->nexpires_by_type; i++) {
        const char *e = d->expires_by_type[i].ext;
        if (strncasecmp(e, type, tlen) == 0 && e[tlen] == '\0')
            return d->expires_by_type[i].value;
    }
    const char *slash = type ? memchr(type, '/', tlen) : NULL;
    for (size_t i = 0; slash && i < d->nexpires_by_type; i++) {
        const char *e = d->expires_by_type[i].ext;
        size_t major = (size_t)(slash - type) + 1; /* "image/" */
        if (strncasecmp(e, type, major) == 0 && strcmp(e + major, "*") == 0)
            return d->expires_by_type[i].value;
    }
    return d->expires_default;
}

static const char *response_type(pt_request_t *r, pt_table_t *out)
{
    if (r->content_type)
        return r->content_type;
    const char *t = pt_table_get(out, "Content-Type");
    return t ? t : pt_table_get(&r->err_headers_out, "Content-Type");
}

static PT_NOINLINE void expires_apply(pt_request_t *r, const pt_dir_config_t *d,
                                      pt_table_t *out)
{
    if (pt_table_get(out, "Expires") || pt_table_get(&r->err_headers_out, "Expires"))
        return; /* the handler (a script, a backend) decided */
    size_t tlen = 0;
    const char *type = response_type(r, out);
    if (type)
        type = bare_type(type, &tlen);
    const char *code = code_for(d, type, tlen);
    if (!code)
        return;
    int64_t now = r->start_wall_us / 1000000;
    int64_t base = now;
    if (code[0] == 'M') {
        if (!r->finfo_valid)
            return; /* no file: nothing to count from (Apache says nothing either) */
        base = (int64_t)r->finfo.st_mtime;
    }
    int64_t expires = base + atoll(code + 1);
    if (expires < now)
        expires = now; /* a modification time long past expires now, not in the past */
    pt_table_append(out, "Cache-Control",
                    pt_arena_printf(r->arena, "max-age=%lld", (long long)(expires - now)));
    char *date = pt_arena_alloc(r->arena, 32);
    pt_http_date_format(date, 32, (time_t)expires);
    pt_table_set(out, "Expires", date);
}

void pt_expires_apply(pt_request_t *r, int status, pt_table_t *out)
{
    const pt_dir_config_t *d = r->dir;
    if (!d || d->expires_active != 2 || status >= 400)
        return;
    if (!d->expires_default && d->nexpires_by_type == 0)
        return;
    expires_apply(r, d, out);
}
