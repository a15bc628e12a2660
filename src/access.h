/* Access control as mod_authz_core and mod_authz_host: Require all granted|denied,
 * Require [not] ip addr|CIDR ..., Require method, Require env, and the containers
 * <RequireAll>, <RequireAny>, <RequireNone>. Several Require lines in one section form an
 * implicit <RequireAny>. A rule tree is built at config load and read-only after. */
#ifndef PT_ACCESS_H
#define PT_ACCESS_H

#include "arena.h"
#include "config.h"
#include "table.h"

#include <netinet/in.h>
#include <sys/socket.h>

typedef enum {
    PT_AUTHZ_DENIED = 0,
    PT_AUTHZ_GRANTED = 1,
    PT_AUTHZ_NEUTRAL = 2, /* e.g. "Require not ip" that does not match */
} pt_authz_t;

typedef struct {
    int family;           /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    int prefix;           /* bits */
} pt_cidr_t;

typedef enum {
    PT_REQUIRE_ALL_GRANTED,
    PT_REQUIRE_ALL_DENIED,
    PT_REQUIRE_IP,        /* cidrs; negate for "Require not ip" */
    PT_REQUIRE_METHOD,    /* methods */
    PT_REQUIRE_ENV,       /* env var names */
    PT_REQUIRE_EXPR,      /* expr: an ap_expr (Require expr) */
    PT_REQUIRE_GROUP_ALL, /* children */
    PT_REQUIRE_GROUP_ANY,
    PT_REQUIRE_GROUP_NONE,
} pt_require_kind_t;

struct pt_require {
    pt_require_kind_t kind;
    bool negate;
    pt_cidr_t *cidrs;
    size_t ncidrs;
    const char **names;   /* methods or env names */
    size_t nnames;
    const struct pt_expr *expr; /* Require expr */
    struct pt_require **children;
    size_t nchildren;
    const char *file;
    int line;
};

/* Parses one Require line's arguments (after "Require"). NULL with err set (no location:
 * the caller prefixes file:line). */
pt_require_t *pt_require_parse(pt_arena_t *a, int argc, const char *const *argv, char *err,
                               size_t errlen);
/* A container of rules (items copied; GROUP_NONE comes back with negate set). Never fails:
 * call pt_require_check on the finished tree. */
pt_require_t *pt_require_group(pt_arena_t *a, pt_require_kind_t kind, pt_require_t **items,
                               size_t n);
/* Apache's load-time checks on the whole tree of one section (its top taken as sitting in
 * the implicit <RequireAny>): a negated rule ("Require not ...", <RequireNone>) inside an
 * "or" container is an error ("negative Require directive has no effect in <RequireAny>
 * directive"), and so is a <RequireAll> with only negated members. 0 or PT_EINVAL with err
 * set; the message ends with " (at file:line)" when the offending rule carries file/line. */
int pt_require_check(const pt_require_t *top, char *err, size_t errlen);
/* Parses "10.0.0.0/8", "192.168", "2001:db8::/32", "127.0.0.1" (Apache's forms, including
 * partial dotted IPv4 and netmask "10.0.0.0/255.0.0.0"). 0 or PT_EINVAL. */
int pt_cidr_parse(const char *s, pt_cidr_t *out);
bool pt_cidr_match(const pt_cidr_t *c, const struct sockaddr *sa);

/* env is the request's own r->env (Require expr reads the request it belongs to), or NULL
 * when there is no request (then an expr rule is denied). */
/* Evaluates rules for a client. A tree that ends NEUTRAL at the top is DENIED, as Apache;
 * a NULL tree (no Require anywhere) is GRANTED. client may be NULL (matches no ip rule).
 * "Require method GET" admits HEAD, as Apache. */
pt_authz_t pt_require_eval(const pt_require_t *rq, const struct sockaddr *client,
                           const char *method, const pt_table_t *env);

/* Require, <RequireAll>, <RequireAny>, <RequireNone>: conf's extension (loader.c). */
extern const struct pt_conf_ext pt_access_conf;

#endif
