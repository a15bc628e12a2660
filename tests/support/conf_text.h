/* A configuration loaded from text, for the unit suites of directives: a fresh directory
 * (ServerRoot and DocumentRoot, under /tmp) with a main.conf that starts "Listen
 * 127.0.0.1:8080" and "DocumentRoot DIR", then the suite's lines. Links portico_core. */
#ifndef PTH_CONF_TEXT_H
#define PTH_CONF_TEXT_H

#include "config.h"

typedef struct {
    char dir[64];
    char err[PT_ERRLEN]; /* the last load's error ("main.conf:LINE: ..."), else "" */
    pt_config_t *cfg;    /* the last load's, NULL when it failed */
} pth_conf_t;

/* c's directory made (a check fails when it cannot be), nothing loaded yet. */
void pth_conf_open(pth_conf_t *c);
/* Frees what the last load made, writes main.conf with body after the two lines above and
 * loads it (the directive tables registered first): c->cfg, or NULL with c->err. */
pt_config_t *pth_conf_load(pth_conf_t *c, const char *body);
/* Frees the config, removes main.conf and the directory. */
void pth_conf_close(pth_conf_t *c);

#endif
