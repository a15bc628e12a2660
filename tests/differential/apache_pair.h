/* portico and Debian's apache2 on one config, for the integration suites that compare them
 * (test_expr, test_apache_phases): both started, each asked the same request, both stopped.
 * Aborting helpers (inside a Check test only). */
#ifndef DT_APACHE_PAIR_H
#define DT_APACHE_PAIR_H

#include "apache.h"
#include "harness.h"

/* A GET of path for host to port (with a few fields the comparisons' expressions read:
 * User-Agent, Accept, X-Token, a Cookie), Connection: close; the answer into r. */
void dt_pair_ask(int port, const char *path, const char *host, pth_resp_t *r);
/* Starts h's portico with conf (after the harness's prelude; @DOCROOT@ stands for h's
 * document root) and apache2 with the same lines, after apache_only (LoadModule lines beyond
 * the differential's set, or ""); calls check with both servers' ports, stops both. */
void dt_pair_run(pth_t *h, const char *apache_only, const char *conf,
                 void (*check)(int ours, int theirs));
/* Asks both servers each path: the statuses agree, and each field (a Location without its
 * port: each server answers with its own) is absent from both or the same in both. */
void dt_pair_agree_on(int ours_port, int theirs_port, const char *const *paths, size_t npaths,
                      const char *const *fields, size_t nfields);
#define DT_PAIR_AGREE_ON(paths, fields)                                                            \
    dt_pair_agree_on(ours_port, theirs_port, paths, sizeof(paths) / sizeof(*paths), fields,        \
                     sizeof(fields) / sizeof(*fields))

#endif
