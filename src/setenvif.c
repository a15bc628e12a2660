/* mod_setenvif's rules one at a time (setenvif.h): a pattern's match, and the variables it
 * sets with its captures; request.c runs them in order against the request. */
#include "setenvif.h"

#include "uri.h"

#include <string.h>

bool pt_setenvif_match(const pt_env_rule_t *e, const char *value, pt_regmatch_t m[PT_REG_MAXSUB])
{
    return e->re && pt_regex_exec(e->re, value, PT_REG_MAXSUB, m, 0) == 0;
}

void pt_setenvif_assign(pt_arena_t *a, pt_table_t *env, const pt_env_rule_t *e, const char *subject,
                        const pt_regmatch_t *m)
{
    bool substitute = subject && e->kind != PT_ENV_SET && !e->literal_values;
    for (size_t j = 0; j < e->nvars; j++) {
        const char *spec = e->vars[j];
        if (e->kind == PT_ENV_UNSET) {
            pt_table_unset(env, spec);
            continue;
        }
        if (spec[0] == '!' && e->kind != PT_ENV_SET) {
            pt_table_unset(env, spec + 1);
            continue;
        }
        const char *eq = strchr(spec, '=');
        if (!eq) {
            pt_table_set(env, spec, "1");
            continue;
        }
        const char *val = substitute ? pt_uri_regsub(a, eq + 1, subject, m) : eq + 1;
        pt_table_set(env, pt_arena_strndup(a, spec, (size_t)(eq - spec)), val);
    }
}
