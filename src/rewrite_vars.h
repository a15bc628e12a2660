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
int pt_rewrite_expr(pt_rewrite_ctx_t *c, const struct pt_expr *e, const char **subject,
                    pt_regmatch_t *m, const char **vary);

#endif
