/* Header and environment tables: arrays in an arena, linear search (tables are short). */
#include "table.h"

#include <string.h>
#include <strings.h>

/* Whether two names are equal, ignoring ASCII case. The first bytes are compared here, so
 * that most of the names a lookup passes cost no call (tables are searched many times per
 * request: headers in, out, the environment). In the C locale (portico sets no other)
 * strcasecmp folds ASCII only. */
static inline bool same_name(const char *a, const char *b)
{
    /* Bytes equal but for the 0x20 bit pass (both cases of a letter, and some pairs of
     * other bytes that strcasecmp then tells apart); any other pair differs when folded. */
    return (((unsigned char)a[0] ^ (unsigned char)b[0]) & 0xdf) == 0 && strcasecmp(a, b) == 0;
}

/* The first entry from i on whose name's first byte may be name's (same_name's first test),
 * else t->n. It makes no call, so the searches below keep their frames for when a name
 * passes (most searches look for a name the table lacks: a frame saved and restored each
 * time cost more than the scan). */
static inline size_t candidate(const pt_table_t *t, size_t i, const char *name)
{
    unsigned char c = (unsigned char)name[0];
    for (; i < t->n; i++)
        if ((((unsigned char)t->v[i].name[0] ^ c) & 0xdf) == 0)
            break;
    return i;
}

static PT_NOINLINE const char *get_from(const pt_table_t *t, size_t i, const char *name)
{
    for (; i < t->n; i++)
        if (same_name(t->v[i].name, name))
            return t->v[i].value;
    return NULL;
}

const char *pt_table_get(const pt_table_t *t, const char *name)
{
    size_t i = candidate(t, 0, name);
    return i < t->n ? get_from(t, i, name) : NULL;
}

size_t pt_table_count(const pt_table_t *t, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; i < t->n; i++)
        if (same_name(t->v[i].name, name))
            c++;
    return c;
}

void pt_table_make_room(pt_table_t *t)
{
    if (!t->v) {
        t->v = pt_arena_alloc(t->arena, t->cap * sizeof(pt_entry_t));
    } else if (t->n == t->cap) {
        size_t ncap = t->cap * 2;
        t->v = pt_arena_grow(t->arena, t->v, t->cap * sizeof(pt_entry_t),
                             ncap * sizeof(pt_entry_t));
        t->cap = ncap;
    }
}

void pt_table_add_all(pt_table_t *t, const pt_table_t *src)
{
    if (src->n == 0)
        return;
    size_t need = t->n + src->n;
    if (!t->v) {
        t->cap = PT_MAX(t->cap, need);
        t->v = pt_arena_alloc(t->arena, t->cap * sizeof(pt_entry_t));
    } else if (need > t->cap) {
        size_t ncap = PT_MAX(t->cap * 2, need);
        t->v = pt_arena_grow(t->arena, t->v, t->cap * sizeof(pt_entry_t),
                             ncap * sizeof(pt_entry_t));
        t->cap = ncap;
    }
    memcpy(t->v + t->n, src->v, src->n * sizeof(pt_entry_t));
    t->n = need;
}

void pt_table_unset(pt_table_t *t, const char *name)
{
    /* Nothing moves before the first match (usually there is none: pt_table_set). */
    size_t i = 0;
    while (i < t->n && !same_name(t->v[i].name, name))
        i++;
    size_t j = i;
    for (; i < t->n; i++)
        if (!same_name(t->v[i].name, name))
            t->v[j++] = t->v[i];
    t->n = j;
}

static PT_NOINLINE void set_from(pt_table_t *t, size_t i, const char *name, const char *value)
{
    while (i < t->n && !same_name(t->v[i].name, name))
        i++;
    if (i < t->n) { /* the rest as pt_table_unset: nothing before i moves */
        size_t j = i;
        for (; i < t->n; i++)
            if (!same_name(t->v[i].name, name))
                t->v[j++] = t->v[i];
        t->n = j;
    }
    pt_table_add(t, name, value);
}

void pt_table_set(pt_table_t *t, const char *name, const char *value)
{
    size_t i = candidate(t, 0, name);
    if (i < t->n || !t->v || t->n == t->cap) {
        set_from(t, i, name, value);
        return;
    }
    t->v[t->n].name = name; /* (pt_table_add without its call: a frameless path) */
    t->v[t->n].value = value;
    t->n++;
}

static pt_entry_t *find(pt_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (same_name(t->v[i].name, name))
            return &t->v[i];
    return NULL;
}

void pt_table_append(pt_table_t *t, const char *name, const char *value)
{
    pt_entry_t *e = find(t, name);
    if (!e) {
        pt_table_add(t, name, value);
        return;
    }
    e->value = pt_arena_printf(t->arena, "%s, %s", e->value, value);
}

static bool has_token(const char *list, const char *v)
{
    size_t n = strlen(v);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && e[-1] == ' ')
            e--;
        if ((size_t)(e - s) == n && strncasecmp(s, v, n) == 0)
            return true;
    }
    return false;
}

void pt_table_merge(pt_table_t *t, const char *name, const char *value)
{
    pt_entry_t *e = find(t, name);
    if (e && has_token(e->value, value))
        return;
    pt_table_append(t, name, value);
}
