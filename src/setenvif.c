/* mod_setenvif's rules one at a time (setenvif.h): a pattern's match, and the variables it
 * sets with its captures; request.c runs them in order against the request. */
#include "setenvif.h"

#include "uri.h"

#include <string.h>

bool pt_setenvif_match(const pt_env_rule_t *e, const char *value, pt_regmatch_t m[PT_REG_MAXSUB])
{
    return e->re && pt_regex_exec(e->re, value, PT_REG_MAXSUB, m, 0) == 0;
}

/* One "NAME=value" of mod_setenvif, read as Apache's add_envvars
 * reads it (ap_getword): NAME up to the first '=', the value after the run of '=' there;
 * no value sets "1", and a value that starts with '!' (as "!NAME" gives) unsets NAME. */
static void assign_one(pt_arena_t *a, pt_table_t *env, const pt_env_rule_t *e, const char *spec,
                       const char *subject, const pt_regmatch_t *m)
{
    const char *eq = strchr(spec, '=');
    const char *val = eq ? eq + strspn(eq, "=") : "";
    const char *name = eq ? pt_arena_strndup(a, spec, (size_t)(eq - spec)) : spec;
    if (!*val && name[0] == '!') {
        pt_table_unset(env, name + 1);
    } else if (!*val) {
        pt_table_set(env, name, "1");
    } else if (val[0] == '!') {
        pt_table_unset(env, name);
    } else {
        bool substitute = subject && !e->literal_values;
        pt_table_set(env, name, substitute ? pt_uri_regsub(a, val, subject, m) : val);
    }
}

void pt_setenvif_assign(pt_arena_t *a, pt_table_t *env, const pt_env_rule_t *e, const char *subject,
                        const pt_regmatch_t *m)
{
    for (size_t j = 0; j < e->nvars; j++)
        assign_one(a, env, e, e->vars[j], subject, m);
}
