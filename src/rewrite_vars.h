/* A request as the rewrite engine sees it (rewrite_vars.c): the callbacks of a
 * pt_rewrite_ctx_t whose ud is the pt_request_t. */
#ifndef PT_REWRITE_VARS_H
#define PT_REWRITE_VARS_H

#include "request.h"
#include "rewrite.h"

const char *pt_rewrite_var(pt_rewrite_ctx_t *c, const char *name);
void pt_rewrite_setenv(pt_rewrite_ctx_t *c, const char *name, const char *value);
bool pt_rewrite_lookup(pt_rewrite_ctx_t *c, const char *s, bool file);
void pt_rewrite_log(pt_rewrite_ctx_t *c, const char *msg);

#endif
