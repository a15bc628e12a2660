/* mod_rewrite in the request path: the server-context rules (Apache's translate_name hook,
 * before URL mapping) and the per-directory ones (its fixup hook, after the walk and access
 * checks), on a request; and the server-level configuration that directives_rewrite.c
 * builds (pt_vhost_t.rewrite). */
#ifndef PT_REWRITE_REQUEST_H
#define PT_REWRITE_REQUEST_H

#include "directives.h"
#include "request.h"
#include "rewrite.h"

/* A server's Rewrite* directives and maps, merged with the main server's at load as Apache's
 * config_server_merge. Made by directives_rewrite.c in the config's arena; read-only. */
typedef struct pt_rewrite_srv {
    int engine;                  /* -1 unset, 0 off, 1 on */
    int options;                 /* -1 unset, else PT_REWRITE_* bits (config.h) */
    const pt_rewrite_rule_t **rules;
    size_t nrules;
    const pt_rewrite_map_t **maps;
    size_t nmaps;
} pt_rewrite_srv_t;

extern const pt_conf_ext_t pt_rewrite_conf;
/* The three functions below as routing's phases (pt_request_set_phases). */
extern const pt_request_phases_t pt_rewrite_phases;

/* Server context, before URL mapping: 0 to go on, or a status to answer with (a redirect's
 * Location set). It may rewrite r->uri and r->args ([PT]), or set r->filename or r->backend
 * ([P]): then *mapped is set and the URL is not mapped again. lookup: a subrequest's. */
int pt_rewrite_server(pt_request_t *r, bool lookup, bool *mapped);
/* Per-directory, after the walk and the access checks, with r->dir's rules: 0 to go on
 * (r->backend may be set by [P]; *again set: the URL-path of a local result, for routing to
 * serve from the start), or a status. */
int pt_rewrite_directory(pt_request_t *r, const char **again);
/* After the handler and the type are chosen: T= and H=. 0 or 500. */
int pt_rewrite_fixup(pt_request_t *r, const struct pt_handler **h);

#endif
