/* portico and apache2 on one config (apache_pair.h). */
#include "apache_pair.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dt_pair_ask(int port, const char *path, const char *host, pth_resp_t *r)
{
    pth_conn_t *c = pth_conn_open_port(port);
    ck_assert_int_eq(pth_conn_sendf(c,
                                    "GET %s HTTP/1.1\r\n"
                                    "Host: %s\r\nUser-Agent: UA/1.0\r\n"
                                    "Accept: text/x-test\r\nX-Token: abc\r\n"
                                    "Cookie: c=1\r\nConnection: close\r\n\r\n",
                                    path, host),
                     0);
    ck_assert_int_eq(pth_conn_read_response(c, r, false, PTH_IO_DEADLINE_MS), 0);
    pth_conn_close(c);
}

/* body with each @DOCROOT@ replaced by h's document root (malloc'd). */
static char *at_docroot(const pth_t *h, const char *body)
{
    size_t n = strlen(body) + 1, dl = strlen(h->docroot);
    for (const char *p = body; (p = strstr(p, "@DOCROOT@")); p++)
        n += dl;
    char *out = malloc(n), *o = out;
    ck_assert_ptr_nonnull(out);
    for (const char *p = body, *at; *p; p = at + strlen("@DOCROOT@")) {
        if (!(at = strstr(p, "@DOCROOT@"))) {
            strcpy(o, p);
            return out;
        }
        memcpy(o, p, (size_t)(at - p));
        o += at - p;
        memcpy(o, h->docroot, dl);
        o += dl;
    }
    *o = '\0';
    return out;
}

void dt_pair_run(pth_t *h, const char *apache_only, const char *conf,
                 void (*check)(int ours, int theirs))
{
    char *body = at_docroot(h, conf);
    pth_config(h, "%s", body);
    pth_start(h);
    dt_apache_t ap;
    ck_assert_int_eq(dt_apache_init(&ap, h->dir), 0);
    char *ap_body = malloc(strlen(apache_only) + strlen(body) + 512);
    ck_assert_ptr_nonnull(ap_body);
    sprintf(ap_body, "%s<Directory \"%s\">\n  Require all granted\n</Directory>\n%s", apache_only,
            h->docroot, body);
    ck_assert_int_eq(dt_apache_spawn(&ap, h->docroot, ap_body), 0);
    free(ap_body);
    char msg[4096];
    int ready = dt_apache_wait_ready(&ap, msg, sizeof msg);
    ck_assert_msg(ready == 0, "%s", msg);
    check(h->port, ap.port);
    dt_apache_stop(&ap);
    pth_stop(h);
    free(body);
}

/* A Location's URL with its port left out: each server answers with its own. */
static const char *without_port(char *buf, size_t len, const char *loc)
{
    const char *host = loc ? strstr(loc, "://") : NULL;
    const char *colon = host ? strchr(host + 3, ':') : NULL;
    const char *slash = host ? strchr(host + 3, '/') : NULL;
    if (!colon || (slash && slash < colon))
        return loc;
    snprintf(buf, len, "%.*s%s", (int)(colon - loc), loc, slash ? slash : "");
    return buf;
}

void dt_pair_agree_on(int ours_port, int theirs_port, const char *const *paths, size_t npaths,
                      const char *const *fields, size_t nfields)
{
    for (size_t i = 0; i < npaths; i++) {
        pth_resp_t ours, theirs;
        dt_pair_ask(ours_port, paths[i], "www.example.com", &ours);
        dt_pair_ask(theirs_port, paths[i], "www.example.com", &theirs);
        ck_assert_msg(ours.status == theirs.status, "%s: portico %d, apache2 %d", paths[i],
                      ours.status, theirs.status);
        for (size_t k = 0; k < nfields; k++) {
            char ba[512], bb[512];
            const char *a = without_port(ba, sizeof(ba), pth_resp_header(&ours, fields[k]));
            const char *b = without_port(bb, sizeof(bb), pth_resp_header(&theirs, fields[k]));
            ck_assert_msg((!a && !b) || (a && b && strcmp(a, b) == 0),
                          "%s %s: portico '%s', apache2 '%s'", paths[i], fields[k],
                          a ? a : "(none)", b ? b : "(none)");
        }
        pth_resp_free(&ours);
        pth_resp_free(&theirs);
    }
}
