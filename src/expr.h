/* Evaluates an ap_expr tree (conf/expr_parse.h) against a request: <If>, Header expr=,
 * SetEnvIfExpr, Require expr, and RewriteCond expr through the same two calls. Variables and
 * functions read the request (expr_vars.c); nothing is written to it. */
#ifndef PT_EXPR_H
#define PT_EXPR_H

#include "config.h"
#include "dirconf_walk.h"
#include "expr_parse.h"
#include "regex_pcre.h"
#include "table.h"

struct pt_request;

/* The captures of the last =~ that matched, what $0..$9 name. A caller may pass captures of
 * its own (a RewriteRule's) in, and reads the expression's out (SetEnvIfExpr's $1). */
typedef struct {
    const char *subject;           /* NULL: no captures */
    pt_regmatch_t m[PT_REG_MAXSUB];
} pt_expr_caps_t;

/* A condition: 1 true, 0 false, -1 when it cannot be evaluated (a regex that hit PCRE's
 * limits, a file() that cannot be read); *err then says why (the caller logs it, and
 * Apache's callers take it for false). caps may be NULL. */
int pt_expr_eval(const struct pt_request *r, const pt_expr_t *e, pt_expr_caps_t *caps,
                 const char **err);

/* A string expression (PT_EXPR_STRING), or a condition rendered "true"/"false". NULL with
 * *err on error. The result is in the request's arena. */
const char *pt_expr_eval_string(const struct pt_request *r, const pt_expr_t *e, pt_expr_caps_t *caps,
                                const char **err);

/* The same, with reqenv() and env() reading env in place of r->env: mod_proxy_fcgi evaluates
 * ProxyFCGISetEnvIf against the FastCGI parameters being built. */
int pt_expr_eval_in(const struct pt_request *r, const pt_table_t *env, const pt_expr_t *e,
                    pt_expr_caps_t *caps, const char **err);
const char *pt_expr_eval_string_in(const struct pt_request *r, const pt_table_t *env,
                                   const pt_expr_t *e, pt_expr_caps_t *caps, const char **err);

/* pt_expr_eval (caps as there) that also gives the request headers the expression read
 * with req(), http() or %{HTTP:...}, comma-separated (NULL when none): mod_headers and
 * RewriteCond expr add them to Vary. */
int pt_expr_eval_vary(const struct pt_request *r, const pt_expr_t *e, pt_expr_caps_t *caps,
                      const char **vary, const char **err);

/* Merges the <If>/<ElseIf>/<Else> sections of r->dir whose conditions hold into r->dir
 * (pt_config_if_walk), after the section walk, as Apache's ap_if_walk; a condition that
 * cannot be evaluated is logged and false. */
void pt_expr_if_walk(struct pt_request *r);
/* The same walk over d, a merge made before the section walk (Apache's first ap_if_walk, after
 * its first location walk, which mod_alias's URL translation sees): r is left alone. */
const pt_dir_config_t *pt_expr_if_merge(struct pt_request *r, const pt_dir_config_t *d);

/* SetEnvIfExpr (mod_setenvif): 1 when e->expr holds, else 0; caps gets the captures of its
 * last =~ that matched, which its values' $0..$9 name (pt_setenvif_assign), or empty ones over
 * "" when it has none. An expression that cannot be evaluated is logged and false. */
int pt_expr_setenvif(const struct pt_request *r, const pt_env_rule_t *e, pt_expr_caps_t *caps);

/* ---- What names mean: a lookup that knows the request -------------------------------------
 * expr.c evaluates through it, so that the request core (request.c, access.c, headers.c),
 * which calls the evaluator, is not called back by it: expr_vars.c provides the one that
 * reads a pt_request_t, registered at start-up (pt_startup_register). */
typedef struct {
    /* %{NAME}: never NULL ("" when the request has no such value). */
    const char *(*var)(const struct pt_request *r, pt_expr_var_t v);
    /* %{SSL_...} (PT_XV_SSL): mod_ssl's variable of that name, "" when none. */
    const char *(*ssl_var)(const struct pt_request *r, const char *name);
    /* name(arg): NULL with *err when the call fails. env: what reqenv() and env() read. */
    const char *(*func)(const struct pt_request *r, const pt_table_t *env, pt_expr_func_t f,
                        const char *arg, const char **err);
    /* -ipmatch and -R: ip (text) inside net (Apache's forms: CIDR, partial dotted, mask). */
    bool (*ip_match)(const char *ip, const char *net);
} pt_expr_lookup_t;

/* Sets the lookup (start-up only, before threads). Until then, evaluating a variable, a
 * function or an address match fails with a message. */
void pt_expr_set_lookup(const pt_expr_lookup_t *lookup);
/* expr_vars.c: the names of expr.html for a pt_request_t. */
extern const pt_expr_lookup_t pt_expr_request_lookup;

#endif
