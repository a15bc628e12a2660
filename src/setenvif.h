/* mod_setenvif's work on one rule, apart from where the request's values come from (request.c
 * reads the attribute, expr.c evaluates SetEnvIfExpr): whether a SetEnvIf, SetEnvIfNoCase or
 * BrowserMatch pattern matches, and setting a rule's variables with the match's $0..$9. */
#ifndef PT_SETENVIF_H
#define PT_SETENVIF_H

#include "arena.h"
#include "config.h"
#include "regex_pcre.h"
#include "table.h"

#include <stdbool.h>

/* Whether e's pattern (SetEnvIf, SetEnvIfNoCase, BrowserMatch) matches value; m gets the
 * captures. */
bool pt_setenvif_match(const pt_env_rule_t *e, const char *value, pt_regmatch_t m[PT_REG_MAXSUB]);

/* Sets or unsets e's variables in env, as mod_setenvif (SetEnv and UnsetEnv are mod_env's,
 * request.c): "!NAME" unsets, "NAME" sets "1", "NAME=value" sets value with $0..$9
 * replaced from the match of m on subject as Apache's ap_pregsub (a group that took no part
 * gives "", a backslash takes the next character as it is). subject NULL, and a
 * SetEnvIf whose pattern Apache matches as a plain string (e->literal_values) set the value
 * as written. mod_setenvif's own reading of a word holds too: "NAME=" sets "1", "NAME==v"
 * sets "v", and "NAME=!v" unsets NAME. What is set is allocated from a. */
void pt_setenvif_assign(pt_arena_t *a, pt_table_t *env, const pt_env_rule_t *e, const char *subject,
                        const pt_regmatch_t *m);

#endif
