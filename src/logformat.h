/* The access log's format language (logformat.c): Apache's LogFormat compiled once at load
 * into a list of items, and the renderer that turns a finished request into one line. */
#ifndef PT_LOGFORMAT_H
#define PT_LOGFORMAT_H

#include "arena.h"
#include "config.h"

struct pt_request;

/* Compiles an Apache LogFormat string, or a nickname: "common", "combined", "json" (one
 * JSON object per request, portico's own). Returns NULL with err set when malformed. */
pt_logformat_t *pt_logformat_compile(pt_arena_t *a, const char *fmt, char *err, size_t errlen);
/* Renders one line (with '\n') for a finished request into out[0..cap); returns its length
 * (truncated lines still end in '\n'). */
size_t pt_logformat_render(const pt_logformat_t *f, const struct pt_request *r, char *out,
                           size_t cap);

#endif
