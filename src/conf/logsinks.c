/* The access log files a configuration writes to: every CustomLog of every virtual host
 * gets the sink for its path (base/log.c shares one sink per path, across vhosts and across
 * the generations a graceful restart keeps alive at once). What goes into them is the access
 * log's business (src/accesslog.c). */
#include "config.h"

#include "log.h"

#include <limits.h>
#include <stdio.h>

/* Relative CustomLog paths are under ServerRoot, as in Apache. */
static const char *log_path(const pt_config_t *cfg, const char *path, char *tmp, size_t cap)
{
    if (path[0] == '/' || path[0] == '|' || !cfg->server_root)
        return path; /* a piped log's program is run as written */
    snprintf(tmp, cap, "%s/%s", cfg->server_root, path);
    return tmp;
}

static int open_vhost_logs(pt_config_t *cfg, pt_vhost_t *vh, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    for (size_t i = 0; i < vh->nlogs; i++) {
        pt_customlog_t *cl = &vh->logs[i];
        if (cl->sink || !cl->path)
            continue; /* a logs array shared with another vhost is already open */
        const char *path = log_path(cfg, cl->path, tmp, sizeof(tmp));
        int rc = 0;
        cl->sink = pt_logsink_open(path, &rc);
        if (!cl->sink) {
            snprintf(err, errlen, "%s:%d: cannot open CustomLog %s: %s",
                     vh->file ? vh->file : (cfg->path ? cfg->path : "?"), vh->line, path,
                     strerror(-rc));
            return rc;
        }
    }
    return 0;
}

int pt_log_open_sinks(pt_config_t *cfg, char *err, size_t errlen)
{
    int rc = 0;
    if (cfg->main_server)
        rc = open_vhost_logs(cfg, cfg->main_server, err, errlen);
    for (size_t i = 0; rc == 0 && i < cfg->nvhosts; i++)
        rc = open_vhost_logs(cfg, cfg->vhosts[i], err, errlen);
    if (rc < 0)
        pt_log_close_sinks(cfg);
    return rc;
}

static void close_vhost_logs(pt_vhost_t *vh)
{
    for (size_t i = 0; i < vh->nlogs; i++) {
        if (vh->logs[i].sink)
            pt_logsink_release(vh->logs[i].sink);
        vh->logs[i].sink = NULL;
    }
}

void pt_log_close_sinks(pt_config_t *cfg)
{
    if (cfg->main_server)
        close_vhost_logs(cfg->main_server);
    for (size_t i = 0; i < cfg->nvhosts; i++)
        close_vhost_logs(cfg->vhosts[i]);
}
