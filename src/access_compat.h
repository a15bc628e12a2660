/* mod_access_compat: Apache 2.2's host-based access control, kept by 2.4 for old configs
 * (Jenkins' documented vhost, DokuWiki's Debian config): Order, Allow from, Deny from and
 * Satisfy. A section that uses any of them gets a whole new set, which replaces the outer
 * one at merge (Apache gives the module no merge function): its Order is Deny,Allow and its
 * Satisfy unset unless the section says otherwise. Built at load, read-only after. */
#ifndef PT_ACCESS_COMPAT_H
#define PT_ACCESS_COMPAT_H

#include "access.h"

typedef enum {
    PT_ORDER_DENY_ALLOW = 0, /* Apache's default */
    PT_ORDER_ALLOW_DENY,
    PT_ORDER_MUTUAL_FAILURE,
} pt_order_t;

typedef enum {
    PT_SATISFY_NOSPEC = 0, /* behaves as All */
    PT_SATISFY_ALL,
    PT_SATISFY_ANY,
} pt_satisfy_t;

typedef enum {
    PT_FROM_ALL,
    PT_FROM_IP,       /* cidr */
    PT_FROM_HOST,     /* name: a domain the double-reverse host name must be in */
    PT_FROM_ENV,      /* name: the variable is set */
    PT_FROM_NOT_ENV,  /* env=!name: the variable is not set */
} pt_from_kind_t;

typedef struct {
    pt_from_kind_t kind;
    pt_cidr_t cidr;
    const char *name;
    const pt_method_limit_t *limit; /* the <Limit> around the line: other methods skip it */
} pt_from_t;

/* An Order or Satisfy line inside <Limit>/<LimitExcept> (or not: limit NULL). Apache keeps
 * one value per method, each line setting those of its methods. */
typedef struct {
    int value;                      /* pt_order_t or pt_satisfy_t */
    const pt_method_limit_t *limit;
} pt_compat_setting_t;

typedef struct pt_access_compat {
    pt_order_t order;               /* the value for every method when no line is limited */
    pt_satisfy_t satisfy;
    pt_compat_setting_t *orders;    /* every Order line, in file order; when present, the
                                       last that applies to the method decides */
    size_t norders;
    pt_compat_setting_t *satisfies; /* the same for Satisfy */
    size_t nsatisfies;
    pt_from_t *allows;
    size_t nallows;
    pt_from_t *denys;
    size_t ndenys;
} pt_access_compat_t;

/* Parses one "from" argument of Allow/Deny ("all", "10.1", "10.0.0.0/8",
 * "10.0.0.0/255.0.0.0", "2001:db8::/32", "example.com", "env=VAR", "env=!VAR"). 0, or
 * PT_EINVAL with err set. */
int pt_access_compat_parse_from(pt_arena_t *a, const char *arg, pt_from_t *out, char *err,
                                size_t errlen);
/* Apache's check_dir_access: true when Order, Allow and Deny admit the client. ctx gives
 * the client, env and the arena for a host-name lookup (cached in ctx). NULL admits. */
bool pt_access_compat_allows(const pt_access_compat_t *c, pt_authz_ctx_t *ctx);
/* Satisfy of c (NOSPEC for NULL). */
pt_satisfy_t pt_access_compat_satisfy(const pt_access_compat_t *c);
/* Satisfy of c for a request of this method (<Limit> sets it per method). */
pt_satisfy_t pt_access_compat_satisfy_for(const pt_access_compat_t *c, const char *method);

/* Order, Allow, Deny, Satisfy: conf's extension (loader.c). */
extern const struct pt_conf_ext pt_access_compat_conf;

#endif
