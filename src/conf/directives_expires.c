/* mod_expires' directives: ExpiresActive, ExpiresDefault and ExpiresByType, with Apache's
 * two code syntaxes ("access plus 1 month 2 days", "modification plus 1 hour"; "A3600",
 * "M60") compiled at load into the 'A'/'M' plus seconds form that src/expires.c applies. */
#include "directives.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

/* mod_expires' units: a month is 30 days and a year 365, whatever the calendar says. */
static const struct {
    const char *name;
    long long seconds;
} units[] = {
    {"years", 60LL * 60 * 24 * 365}, {"year", 60LL * 60 * 24 * 365},
    {"months", 60LL * 60 * 24 * 30}, {"month", 60LL * 60 * 24 * 30},
    {"weeks", 60LL * 60 * 24 * 7},   {"week", 60LL * 60 * 24 * 7},
    {"days", 60LL * 60 * 24},        {"day", 60LL * 60 * 24},
    {"hours", 60LL * 60},            {"hour", 60LL * 60},
    {"minutes", 60},                 {"minute", 60},
    {"seconds", 1},                  {"second", 1},
};

/* Apache reads the compiled seconds back with atoi: at most INT_MAX (68 years). */
#define EXPIRES_MAX_SECONDS 2147483647LL

static long long unit_seconds(const char *w)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(units); i++)
        if (strcasecmp(w, units[i].name) == 0)
            return units[i].seconds;
    return -1;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* "<base> [plus] {<num> <unit>}*", words already split. */
static const char *compile_words(char **w, int nw, char *out, size_t outlen)
{
    char base;
    if (strcasecmp(w[0], "access") == 0 || strcasecmp(w[0], "now") == 0)
        base = 'A';
    else if (strcasecmp(w[0], "modification") == 0)
        base = 'M';
    else
        return "bad expires code, unrecognised <base> (access, now or modification)";
    int i = 1;
    if (i < nw && strcasecmp(w[i], "plus") == 0)
        i++;
    long long total = 0;
    for (; i < nw; i += 2) {
        if (!all_digits(w[i]))
            return "bad expires code, numeric value expected <num>";
        if (i + 1 == nw)
            return "bad expires code, missing <type>";
        long long u = unit_seconds(w[i + 1]);
        if (u < 0)
            return "bad expires code, unrecognised <type> (years, months, weeks, days, hours, "
                   "minutes, seconds)";
        long long num = strlen(w[i]) > 12 ? EXPIRES_MAX_SECONDS : atoll(w[i]);
        total += num * u;
        if (total > EXPIRES_MAX_SECONDS)
            return "bad expires code, the time is too long";
    }
    snprintf(out, outlen, "%c%lld", base, total);
    return NULL;
}

const char *pt_dcx_expires_code(const char *code, char *out, size_t outlen)
{
    if ((code[0] == 'A' || code[0] == 'M') && all_digits(code + 1)) {
        if (strlen(code + 1) > 10 || atoll(code + 1) > EXPIRES_MAX_SECONDS)
            return "bad expires code, the time is too long";
        snprintf(out, outlen, "%c%lld", code[0], atoll(code + 1));
        return NULL;
    }
    char buf[512];
    if (strlen(code) >= sizeof(buf))
        return "bad expires code, too long";
    strcpy(buf, code);
    char *w[64];
    int nw = 0;
    for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t;
         t = strtok_r(NULL, " \t", &save)) {
        if (nw == (int)PT_ARRAY_LEN(w))
            return "bad expires code, too many words";
        w[nw++] = t;
    }
    if (nw == 0)
        return "bad expires code, missing <code>";
    return compile_words(w, nw, out, outlen);
}

static const char *compile(dcx_t *l, const pt_node_t *n, const char *code)
{
    char out[32];
    const char *why = pt_dcx_expires_code(code, out, sizeof(out));
    if (why) {
        pt_dcx_fail(l, n, "%s: '%s': %s", n->name, code, why);
        return NULL;
    }
    return pt_arena_strdup(l->a, out);
}

static int set_expires_active(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    s->dc->expires_active = on ? 2 : 1;
    return 0;
}

static int set_expires_default(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    s->dc->expires_default = compile(l, n, n->argv[0]);
    return s->dc->expires_default ? 0 : -1;
}

static int set_expires_by_type(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *type = n->argv[0];
    const char *slash = strchr(type, '/');
    if (!slash || slash == type || !slash[1])
        return pt_dcx_fail(l, n, "ExpiresByType: '%s' is not a MIME type (type/subtype, or "
                                 "type/* for every subtype)", type);
    const char *code = compile(l, n, n->argv[1]);
    if (!code)
        return -1;
    /* A second line for a type in one scope replaces the first (Apache's table set). */
    pt_ext_map_t *v = (pt_ext_map_t *)s->dc->expires_by_type;
    for (size_t i = 0; i < s->dc->nexpires_by_type; i++) {
        if (strcasecmp(v[i].ext, type) == 0) {
            v[i].value = code;
            return 0;
        }
    }
    pt_ext_map_t *m = pt_dcx_push(l->a, &s->dc->expires_by_type, &s->dc->nexpires_by_type,
                                  sizeof(*m));
    m->ext = type;
    m->value = code;
    return 0;
}

const dcx_directive_t pt_dcx_expires_table[] = {
    {"ExpiresActive", ALL, 1, 1, set_expires_active},
    {"ExpiresDefault", ALL, 1, 1, set_expires_default},
    {"ExpiresByType", ALL, 2, 2, set_expires_by_type},
    {NULL, 0, 0, 0, NULL},
};
