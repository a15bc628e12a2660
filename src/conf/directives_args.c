/* The directive walker and its helpers for every directive table: the walk over the parsed
 * tree (names looked up in the tables the loader hands it, context and argument-count
 * checks), errors with FILE:LINE, arrays grown in the config arena, regexes freed with the
 * config, and the number, On/Off, path and timeout arguments. Declared in directives.h. */
#include "directives.h"
#include "modcatalog.h"

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

/* -t notices (directives.h); the walker passes the parser's on. */
void pt_dcx_note(dcx_t *l, const pt_node_t *n, const char *key, const char *fmt, ...)
{
    pt_config_t *cfg = l->cfg;
    for (size_t i = 0; key && i < cfg->nnotices; i++)
        if (cfg->notice_keys[i] && strcasecmp(cfg->notice_keys[i], key) == 0)
            return;
    char msg[PT_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t k = cfg->nnotices;
    const char **slot = pt_dcx_push(l->a, &cfg->notices, &cfg->nnotices, sizeof(*slot));
    *slot = n ? pt_arena_printf(l->a, "%s:%d: notice: %s", n->file, n->line, msg)
              : pt_arena_printf(l->a, "notice: %s", msg);
    size_t kn = k;
    const char **kslot = pt_dcx_push(l->a, &cfg->notice_keys, &kn, sizeof(*kslot));
    *kslot = key ? pt_arena_strdup(l->a, key) : NULL;
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

pt_regex_t *pt_dcx_regex(dcx_t *l, const pt_node_t *n, const char *pattern, int flags)
{
    char msg[160];
    pt_regex_t *re = pt_regex_compile(pattern, flags, msg, sizeof(msg));
    if (!re) {
        pt_dcx_fail(l, n, "bad regex '%s': %s", pattern, msg);
        return NULL;
    }
    pt_dcx_keep_regex(l, re);
    return re;
}

void pt_dcx_keep_regex(dcx_t *l, pt_regex_t *re)
{
    pt_regex_t **slot = pt_dcx_push(l->a, &l->cfg->regexes, &l->cfg->nregexes, sizeof(*slot));
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

/* ---- The walker ------------------------------------------------------------------------ */

/* The tables come as data (l->tables): conf's own, then the extensions' in the order they
 * were registered; the first that defines a name wins. */
static const dcx_directive_t *lookup(const dcx_t *l, const pt_node_t *n)
{
    for (size_t t = 0; t < l->ntables; t++) {
        for (const dcx_directive_t *d = l->tables[t]; d->name; d++) {
            bool sec = d->name[0] == '<';
            if (sec == n->section && strcasecmp(d->name + sec, n->name) == 0)
                return d;
        }
    }
    return NULL;
}

static int check_use(dcx_t *l, dcx_scope_t *s, const pt_node_t *n,
                     const dcx_directive_t *d)
{
    const char *lt = n->section ? "<" : "";
    if (!(d->where & s->where)) {
        if (s->where == W_SERVER)
            return pt_dcx_fail(l, n, "%s%s not allowed here", lt, n->name);
        return pt_dcx_fail(l, n, "%s%s cannot occur within <%s> section", lt, n->name,
                           s->name);
    }
    if (n->argc < d->min || (d->max != NOMAX && n->argc > d->max)) {
        if (d->min == d->max)
            return pt_dcx_fail(l, n, "%s%s takes %d argument%s, got %d", lt, n->name, d->min,
                               d->min == 1 ? "" : "s", n->argc);
        if (d->max == NOMAX)
            return pt_dcx_fail(l, n, "%s%s takes at least %d argument%s, got %d", lt, n->name,
                               d->min, d->min == 1 ? "" : "s", n->argc);
        return pt_dcx_fail(l, n, "%s%s takes %d to %d arguments, got %d", lt, n->name, d->min,
                           d->max, n->argc);
    }
    return 0;
}

/* A name no table knows: an Apache directive portico lacks is said so (a config written for
 * Apache is not misspelt), anything else gets Apache's own message. */
static int unknown_directive(dcx_t *l, const pt_node_t *n)
{
    char name[128];
    snprintf(name, sizeof(name), "%s%s", n->section ? "<" : "", n->name);
    const char *mod = pt_apache_directive_module(name);
    if (mod)
        return pt_dcx_fail(l, n, "%s%s is a directive of Apache's %s that portico does not "
                                 "implement", name, n->section ? ">" : "", mod);
    return pt_dcx_fail(l, n, "Invalid command '%s', perhaps misspelled or defined by a module "
                             "not included in the server configuration", name);
}

int pt_dcx_walk(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    for (; n; n = n->next) {
        if (n->name[0] == '#') {
            /* The parser's notes (a LoadModule accepted as a no-op, a skipped <IfModule>). */
            if (strcmp(n->name, "#notice") == 0 && n->argc == 1)
                pt_dcx_note(l, n, NULL, "%s", n->argv[0]);
            continue;
        }
        const dcx_directive_t *d = lookup(l, n);
        int allowed = l->allow ? l->allow(l, n, d) : 0;
        if (allowed < 0)
            return -1;
        if (allowed > 0)
            continue;
        if (!d)
            return unknown_directive(l, n);
        if (check_use(l, s, n, d) < 0 || d->fn(l, s, n) < 0)
            return -1;
    }
    return 0;
}

void pt_dcx_vhost_set(pt_vhost_t *vh, unsigned bit)
{
    ((dcx_vhost_t *)vh)->set |= bit;
}

void **pt_dcx_ext_state(dcx_t *l, const pt_conf_ext_t *ext)
{
    for (size_t i = 0; i < l->nexts; i++)
        if (l->exts[i] == ext)
            return &l->ext_state[i];
    return NULL;
}

/* A config and the <If> sections in it, nested ones included. */
static void each_dir_and_ifs(pt_config_t *cfg, pt_dir_config_t *dc,
                             void (*fn)(pt_config_t *cfg, pt_dir_config_t *dc))
{
    fn(cfg, dc);
    for (size_t i = 0; i < dc->nifs; i++)
        each_dir_and_ifs(cfg, dc->ifs[i].conf, fn);
}

static void each_dir_of(pt_config_t *cfg, pt_vhost_t *vh,
                        void (*fn)(pt_config_t *cfg, pt_dir_config_t *dc))
{
    each_dir_and_ifs(cfg, vh->dir, fn);
    for (size_t i = 0; i < vh->nsections; i++)
        each_dir_and_ifs(cfg, vh->sections[i].conf, fn);
}

void pt_dcx_each_dir(pt_config_t *cfg, void (*fn)(pt_config_t *cfg, pt_dir_config_t *dc))
{
    if (cfg->main_server)
        each_dir_of(cfg, cfg->main_server, fn);
    for (size_t i = 0; i < cfg->nvhosts; i++)
        each_dir_of(cfg, cfg->vhosts[i], fn);
}
