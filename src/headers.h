/* Header and RequestHeader (mod_headers): set, append, add, merge, unset, setifempty,
 * edit and edit*, echo (Header only), with the "always" condition and env=[!]VAR. Values may
 * use %% , %{NAME}e (environment; "(null)" when unset, as Apache), %{NAME}i (request header;
 * empty when absent), %D ("D=<microseconds since the request began>") and %t ("t=<request
 * start, microseconds since the epoch>"). A value written "expr=..." is a string
 * expression and a last argument "expr=..." a condition (ap_expr: conf/expr_parse.h, both
 * evaluated per request); note and %{NAME}s are refused at parse time; "early" is accepted and runs with the other rules, before any handler. echo matches request header names case-insensitively. */
#ifndef PT_HEADERS_H
#define PT_HEADERS_H

#include "arena.h"
#include "config.h"
#include "table.h"

#include "regex_pcre.h"

/* Parses the arguments after "Header" / "RequestHeader". is_request selects RequestHeader
 * (no "always", no echo); xf: PT_EXPR_* flags for its expressions (PT_EXPR_RESTRICTED in a
 * .htaccess file). Returns 0 or PT_EINVAL with err set. */
int pt_header_rule_parse(pt_arena_t *a, bool is_request, unsigned xf, int argc,
                         const char *const *argv, pt_header_rule_t *out, char *err,
                         size_t errlen);

/* Frees what parsing allocated outside the arena (the compiled regex of edit and echo
 * rules). The config calls it for every rule before it destroys the arena the rules live in. */
void pt_header_rule_release(pt_header_rule_t *rule);

/* Applies rules to a table. For responses call it twice, as mod_headers keeps two tables:
 * with always == false (onsuccess) on headers_out, not sent with a page the server makes
 * itself (an error, a Redirect), and always == true on err_headers_out, sent with every
 * response and holding a FastCGI script's fields. A rule sees only its own table.
 * For RequestHeader call with always == false on headers_in. early: the "early" rules (as
 * the request is read, with the server's own rules), else the others. Returns whether a
 * rule for the field `named` applied (its env= and expr= conditions held); named may be
 * NULL. */
struct pt_request;
bool pt_header_rules_apply(const pt_header_rule_t *rules, size_t n, bool always, bool early,
                           pt_table_t *t, const struct pt_request *r, const char *named);

/* Header and RequestHeader: conf's extension (loader.c). */
extern const struct pt_conf_ext pt_headers_conf;

#endif
