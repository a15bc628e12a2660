/* The access log: the LogFormat, CustomLog and TransferLog directives (a CustomLog may name
 * a LogFormat defined after it, so formats are resolved once the file is read), and the
 * lines a finished request writes to its virtual host's sinks. Above the request core: the
 * HTTP/1 driver calls pt_log_access after each request. */
#include "accesslog.h"

#include "directives.h"
#include "log.h"
#include "logformat.h"
#include "request.h"

#define ACCESS_LINE_MAX 8192        /* one access log line, bytes */

typedef struct {
    const char *name;
    pt_logformat_t *format;
} dcx_nick_t;

typedef struct {
    pt_vhost_t *vh;
    size_t index;
    const char *format;
    const pt_node_t *node;
} dcx_pending_t;

/* What one load collects: nicknames, and CustomLogs whose format waits for the end. */
typedef struct {
    dcx_nick_t *nicks;
    size_t nnicks;
    const char *default_format; /* last LogFormat without a nickname */
    dcx_pending_t *pending;
    size_t npending;
} dcx_logs_t;

/* ---- Directives (registered with conf by loader.c) ------------------------------------- */

/* This load's state, made on first use. */
static dcx_logs_t *logs_of(dcx_t *l)
{
    void **slot = pt_dcx_ext_state(l, &pt_accesslog_conf);
    if (!*slot)
        *slot = pt_arena_calloc(l->a, sizeof(dcx_logs_t));
    return *slot;
}

static int set_log_format(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    dcx_logs_t *logs = logs_of(l);
    char msg[PT_ERRLEN];
    pt_logformat_t *f = pt_logformat_compile(l->a, n->argv[0], msg, sizeof(msg));
    if (!f)
        return pt_dcx_fail(l, n, "LogFormat: %s", msg);
    if (n->argc == 1) {
        logs->default_format = n->argv[0];
        return 0;
    }
    dcx_nick_t *k = pt_dcx_push(l->a, &logs->nicks, &logs->nnicks, sizeof(*k));
    k->name = n->argv[1];
    k->format = f;
    return 0;
}

static int add_log(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, const char *path,
                   const char *format, const char *env)
{
    dcx_logs_t *logs = logs_of(l);
    const char *p = pt_dcx_log_path(l, n, path);
    if (!p)
        return -1;
    if (env && strncmp(env, "env=", 4) != 0)
        return pt_dcx_fail(l, n, "%s: third argument must be env=[!]VAR", n->name);
    pt_customlog_t *cl = pt_dcx_push(l->a, &s->vh->logs, &s->vh->nlogs, sizeof(*cl));
    cl->path = p;
    cl->env_cond = env ? env + 4 : NULL;
    /* Formats are looked up after the whole file is read: LogFormat may come later. */
    dcx_pending_t *pd = pt_dcx_push(l->a, &logs->pending, &logs->npending,
                                    sizeof(*pd));
    pd->vh = s->vh;
    pd->index = s->vh->nlogs - 1;
    pd->format = format;
    pd->node = n;
    return 0;
}

static int set_custom_log(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_log(l, s, n, n->argv[0], n->argv[1], n->argc == 3 ? n->argv[2] : NULL);
}

/* GlobalLog (mod_log_config, 2.4.19): a CustomLog of the main server that every virtual
 * host writes too, even one with CustomLogs of its own (resolve_log_formats adds it). */
static int set_global_log(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (add_log(l, s, n, n->argv[0], n->argv[1], n->argc == 3 ? n->argv[2] : NULL) < 0)
        return -1;
    s->vh->logs[s->vh->nlogs - 1].global = true;
    return 0;
}

/* A virtual host with CustomLogs of its own inherits none of the main server's, except its
 * GlobalLogs. */
static void add_global_logs(dcx_t *l)
{
    const pt_vhost_t *m = l->cfg->main_server;
    for (size_t v = 0; v < l->cfg->nvhosts; v++) {
        pt_vhost_t *vh = l->cfg->vhosts[v];
        if (vh->logs == m->logs)
            continue; /* inherited whole */
        for (size_t i = 0; i < m->nlogs; i++) {
            if (!m->logs[i].global)
                continue;
            pt_customlog_t *cl = pt_dcx_push(l->a, &vh->logs, &vh->nlogs, sizeof(*cl));
            *cl = m->logs[i];
        }
    }
}

static int set_transfer_log(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    dcx_logs_t *logs = logs_of(l);
    const char *fmt = logs->default_format ? logs->default_format : "common";
    return add_log(l, s, n, n->argv[0], fmt, NULL);
}

static int resolve_log_formats(dcx_t *l)
{
    dcx_logs_t *logs = logs_of(l);
    char msg[PT_ERRLEN];
    for (size_t i = 0; i < logs->npending; i++) {
        dcx_pending_t *pd = &logs->pending[i];
        pt_logformat_t *f = NULL;
        for (size_t k = logs->nnicks; k-- > 0 && !f;)
            if (strcmp(logs->nicks[k].name, pd->format) == 0)
                f = logs->nicks[k].format;
        if (!f)
            f = pt_logformat_compile(l->a, pd->format, msg, sizeof(msg));
        if (!f)
            return pt_dcx_fail(l, pd->node, "%s: %s", pd->node->name, msg);
        pd->vh->logs[pd->index].format = f;
    }
    add_global_logs(l);
    return 0;
}

static const dcx_directive_t directives[] = {
    {"LogFormat", SRV, 1, 2, set_log_format},
    {"CustomLog", SRV, 2, 3, set_custom_log},
    {"TransferLog", SRV, 1, 1, set_transfer_log},
    {"GlobalLog", W_SERVER, 2, 3, set_global_log},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_accesslog_conf = {
    .name = "accesslog",
    .directives = directives,
    .finish = resolve_log_formats,
};

/* ---- Lines -------------------------------------------------------------------------------- */

/* CustomLog ... env=NAME logs only when NAME is set; env=!NAME only when it is not. */
static bool env_allows(const pt_customlog_t *cl, const pt_request_t *r)
{
    const char *c = cl->env_cond;
    if (!c || !*c)
        return true;
    if (strncmp(c, "env=", 4) == 0)
        c += 4;
    bool neg = *c == '!';
    bool set = pt_table_get(&r->env, neg ? c + 1 : c) != NULL;
    return neg ? !set : set;
}

static PT_NOINLINE void log_access(const struct pt_request *r)
{
    char line[ACCESS_LINE_MAX];
    for (size_t i = 0; i < r->vhost->nlogs; i++) {
        const pt_customlog_t *cl = &r->vhost->logs[i];
        if (!cl->sink || !cl->format || !env_allows(cl, r))
            continue;
        size_t n = pt_logformat_render(cl->format, r, line, sizeof(line));
        pt_logsink_append(cl->sink, line, n);
    }
}

void pt_log_access(const struct pt_request *r)
{
    if (r && r->vhost && r->vhost->nlogs)
        log_access(r);
}
