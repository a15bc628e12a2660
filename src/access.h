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
    PT_AUTHZ_DENIED_NO_USER = 3, /* a user provider with no user yet: authenticate first */
    PT_AUTHZ_ERROR = 4,   /* a provider could not decide (group file unreadable): 500 */
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
    PT_REQUIRE_VALID_USER, /* mod_authz_user: any authenticated user */
    PT_REQUIRE_USER,      /* names: these users */
    PT_REQUIRE_GROUP,     /* names: a member of one of these groups (AuthGroupFile) */
    PT_REQUIRE_HOST,      /* names: the client's double-reverse host name in a domain */
    PT_REQUIRE_FORWARD_DNS, /* names: the client's address is one of the name's */
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
    const pt_method_limit_t *limit; /* <Limit>/<LimitExcept> around the line; NULL: all
                                       methods (a container applies where a member does) */
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
/* Formats a parse error into err (errlen bytes; nothing when err is NULL): for the parsers
 * of Require (here) and of Allow/Deny (access_compat.c). */
__attribute__((format(printf, 3, 4))) void pt_access_err(char *err, size_t errlen,
                                                         const char *fmt, ...);
/* Parses "10.0.0.0/8", "192.168", "2001:db8::/32", "127.0.0.1" (Apache's forms, including
 * partial dotted IPv4 and netmask "10.0.0.0/255.0.0.0"). 0 or PT_EINVAL. */
int pt_cidr_parse(const char *s, pt_cidr_t *out);
bool pt_cidr_match(const pt_cidr_t *c, const struct sockaddr *sa);

/* What a rule tree is judged against. user is NULL before authentication; in_group answers
 * "Require group" (1 member, 0 not, negative: the group file could not be read); arena is
 * for the host name lookups, cached in host/host_done for one request. */
typedef struct pt_authz_ctx {
    const struct sockaddr *client;
    const char *method;
    const pt_table_t *env;
    const char *user;
    int (*in_group)(void *arg, const char *user, const char *group);
    void *arg;
    pt_arena_t *arena;
    const char *host;     /* double-reverse host name, NULL when none */
    bool host_done;
    const struct pt_request *request; /* what Require expr reads; NULL: an expr rule denies */
} pt_authz_ctx_t;

/* Apache's raw result of a tree (apply_authz_sections): GRANTED, DENIED, NEUTRAL,
 * DENIED_NO_USER (a user may change it) or ERROR. A NULL tree is GRANTED. */
pt_authz_t pt_require_judge(const pt_require_t *rq, pt_authz_ctx_t *ctx);
/* The tree uses a provider that wants a user (valid-user, user, group). */
bool pt_require_wants_user(const pt_require_t *rq);
/* The tree is one "Require all granted" for every method: whatever the request, the judge
 * says GRANTED, so the access phase may skip it (authz.c, the usual config). */
bool pt_require_grants_all(const pt_require_t *rq);

/* Evaluates rules for a client. A tree that ends NEUTRAL at the top is DENIED, as Apache;
 * a NULL tree (no Require anywhere) is GRANTED. client may be NULL (matches no ip rule).
 * "Require method GET" admits HEAD, as Apache. */
/* env is the request's own r->env (a Require expr rule reads that request), or NULL. */
pt_authz_t pt_require_eval(const pt_require_t *rq, const struct sockaddr *client,
                           const char *method, const pt_table_t *env);

/* Require, <RequireAll>, <RequireAny>, <RequireNone>: conf's extension (loader.c). */
extern const struct pt_conf_ext pt_access_conf;

#endif
