/* The table of handlers by name: the built-in ones (static files, server-status, metrics,
 * health) and those the floors above register at start-up (FastCGI as "proxy:fcgi"). Only
 * the loader (loader.c) and LoadModule's name check (module.c) look names up, at load time. */
#include "handler.h"

#include "log.h"

static const pt_handler_t builtins[] = {
    {"static", pt_static_handler, false},
    {"default-handler", pt_static_handler, false},
    {"server-status", pt_status_handler, false},
    {"metrics", pt_metrics_handler, false},
    {"health", pt_health_handler, false},
};

#define PT_HANDLER_MAX_REGISTERED 16

/* Written at start-up only (startup.c, through the scheme registry), before threads;
 * read-only after. */
static const pt_handler_t *registered[PT_HANDLER_MAX_REGISTERED];
static size_t nregistered;

static bool name_taken(const char *name)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(builtins); i++)
        if (strcasecmp(builtins[i].name, name) == 0)
            return true;
    for (size_t i = 0; i < nregistered; i++)
        if (strcasecmp(registered[i]->name, name) == 0)
            return true;
    return false;
}

int pt_handler_register(const pt_handler_t *h)
{
    for (size_t i = 0; i < nregistered; i++)
        if (registered[i] == h)
            return 0;
    if (nregistered == PT_HANDLER_MAX_REGISTERED || name_taken(h->name))
        return PT_EINVAL;
    registered[nregistered++] = h;
    return 0;
}

/* "proxy:SCHEME://..." or "proxy:unix:/path|SCHEME://...": the scheme's length, or 0. */
static size_t proxy_scheme(const char *url, const char **scheme)
{
    if (strncasecmp(url, "unix:", 5) == 0) {
        const char *bar = strchr(url, '|');
        if (!bar)
            return 0;
        url = bar + 1;
    }
    const char *sep = strstr(url, "://");
    *scheme = url;
    return sep ? (size_t)(sep - url) : 0;
}

static const pt_handler_t *find_registered_proxy(const char *url)
{
    const char *scheme;
    size_t n = proxy_scheme(url, &scheme);
    for (size_t i = 0; n && i < nregistered; i++) {
        const char *rn = registered[i]->name;
        if (strncasecmp(rn, "proxy:", 6) == 0 && strlen(rn + 6) == n &&
            strncasecmp(rn + 6, scheme, n) == 0)
            return registered[i];
    }
    return NULL;
}

const pt_handler_t *pt_handler_find(const char *name)
{
    if (strncasecmp(name, "proxy:", 6) == 0)
        return find_registered_proxy(name + 6);
    for (size_t i = 0; i < PT_ARRAY_LEN(builtins); i++)
        if (strcasecmp(builtins[i].name, name) == 0)
            return &builtins[i];
    for (size_t i = 0; i < nregistered; i++)
        if (strcasecmp(registered[i]->name, name) == 0)
            return registered[i];
    return NULL;
}

const pt_handler_t *pt_handler_default(void)
{
    return &builtins[0];
}

/* Apache's default handler serves whatever no module claims; portico says so in the log,
 * since a misspelt SetHandler is otherwise silent. */
static int unknown_handler(pt_request_t *r)
{
    pt_log_rerror(PT_LOG_WARN, r, "no handler named '%s'; serving %s as a static file",
                  r->handler, r->uri);
    return pt_static_handler(r);
}

static const pt_handler_t unknown[2] = {
    {"(unknown)", unknown_handler, false},
    {"(unknown proxy:)", unknown_handler, true},
};

const pt_handler_t *pt_handler_unknown(bool remote)
{
    return &unknown[remote];
}
