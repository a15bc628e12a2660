/* Unit suites' configurations loaded from text (conf_text.h). */
#include "conf_text.h"

#include "startup.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void main_conf(const pth_conf_t *c, char *path, size_t len)
{
    snprintf(path, len, "%s/main.conf", c->dir);
}

void pth_conf_open(pth_conf_t *c)
{
    strcpy(c->dir, "/tmp/ptconfXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(c->dir));
    c->err[0] = '\0';
    c->cfg = NULL;
}

pt_config_t *pth_conf_load(pth_conf_t *c, const char *body)
{
    char p[128];
    main_conf(c, p, sizeof(p));
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "Listen 127.0.0.1:8080\nDocumentRoot %s\n%s", c->dir, body);
    fclose(f);
    pt_parse_opts_t o = {.server_root = c->dir};
    pt_startup_register();
    pt_config_free(c->cfg);
    c->err[0] = '\0';
    c->cfg = pt_config_load(p, &o, c->err, sizeof(c->err));
    return c->cfg;
}

void pth_conf_close(pth_conf_t *c)
{
    pt_config_free(c->cfg);
    c->cfg = NULL;
    char p[128];
    main_conf(c, p, sizeof(p));
    unlink(p);
    rmdir(c->dir);
}
