/* An ordered list of name/value pairs with case-insensitive names: request and response
 * header fields, the request environment (SetEnv, SetEnvIf, CGI variables). Entries and
 * strings live in the arena the table was made with; the table never frees. */
#ifndef PT_TABLE_H
#define PT_TABLE_H

#include "arena.h"
#include "common.h"

typedef struct {
    const char *name;
    const char *value;
} pt_entry_t;

typedef struct {
    pt_arena_t *arena;
    pt_entry_t *v; /* n entries; NULL until the first add (cap entries are made then) */
    size_t n, cap;
} pt_table_t;

static inline void pt_table_init(pt_table_t *t, pt_arena_t *a, size_t cap);
/* The first value for name, or NULL. */
const char *pt_table_get(const pt_table_t *t, const char *name);
size_t pt_table_count(const pt_table_t *t, const char *name);
/* add: append another entry. set: replace every entry of that name with one. Strings are
 * not copied: callers pass arena or static strings. */
static inline void pt_table_add(pt_table_t *t, const char *name, const char *value);
void pt_table_set(pt_table_t *t, const char *name, const char *value);
/* pt_table_add of each of src's entries, in order. */
void pt_table_add_all(pt_table_t *t, const pt_table_t *src);
void pt_table_unset(pt_table_t *t, const char *name);
/* Apache's "append": joins to an existing value with ", ", or adds. */
void pt_table_append(pt_table_t *t, const char *name, const char *value);
/* Apache's "merge": like append, unless the value is already among the values. */
void pt_table_merge(pt_table_t *t, const char *name, const char *value);

/* Private: pt_table_add's slow path (the first entries, or twice as many), out of line so
 * that the add itself, a dozen times a request, is inline. */
void pt_table_make_room(pt_table_t *t);

/* Inline: a request sets up some six tables. */
static inline void pt_table_init(pt_table_t *t, pt_arena_t *a, size_t cap)
{
    t->arena = a;
    t->n = 0;
    t->cap = cap ? cap : 8;
    t->v = NULL; /* made by the first add: many of a request's tables stay empty */
}

static inline void pt_table_add(pt_table_t *t, const char *name, const char *value)
{
    if (!t->v || t->n == t->cap)
        pt_table_make_room(t);
    t->v[t->n].name = name;
    t->v[t->n].value = value;
    t->n++;
}

#endif
