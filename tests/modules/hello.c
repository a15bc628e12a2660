/* A thread-safe sample module (no state): accepted under every MPM. "hello" echoes the
 * request's method, URL-path, query and one header, exercising the module API, and the
 * HelloGreeting directive that applies to the request (a module's own directive);
 * HelloOption is a directive .htaccess files may hold (AllowOverride Options). */
#include "portico_module.h"

#include <stdio.h>
#include <string.h>

static void take_greeting(void *ctx, const char *name, int argc, const char *const *argv,
                          const char *file, int line)
{
    *(const char **)ctx = argv[0]; /* outer first: the innermost one is left */
}

static int hello_handler(pt_modreq_t *r)
{
    if (pt_modreq_args(r) && pt_modreq_args(r)[0] == 'e')
        return 418; /* lets a test see a status returned to the core */
    const char *greeting = NULL;
    pt_modreq_directives(r, take_greeting, &greeting);
    char extra[128] = "";
    if (greeting)
        snprintf(extra, sizeof(extra), " greeting=%s", greeting);
    char body[512];
    const char *agent = pt_modreq_header(r, "X-Hello");
    int n = snprintf(body, sizeof(body), "%s %s ?%s x-hello=%s%s\n", pt_modreq_method(r),
                     pt_modreq_uri(r), pt_modreq_args(r) ? pt_modreq_args(r) : "",
                     agent ? agent : "-", extra);
    if (n < 0 || (size_t)n >= sizeof(body))
        n = (int)strlen(body);
    pt_modreq_log(r, PT_MOD_LOG_INFO, "hello served %s", pt_modreq_uri(r));
    return pt_modreq_send(r, 200, "text/plain", body, (size_t)n);
}

static const pt_module_handler_t handlers[] = {
    {"hello", hello_handler},
    {NULL, NULL},
};

static const pt_module_directive_t directives[] = {
    {"HelloGreeting", PT_MOD_DIRECTIVE_SECTIONS, 1, 1},
    /* Also in .htaccess, under AllowOverride Options (read by no handler: for the loader). */
    {"HelloOption", PT_MOD_DIRECTIVE_SECTIONS | PT_MOD_OVERRIDE_OPTIONS, 1, 1},
    {NULL, 0, 0, 0},
};

const pt_module_t hello_module = {
    .api_version = PT_MODULE_API_VERSION,
    .name = "hello",
    .thread_safe = 1,
    .handlers = handlers,
    .directives = directives,
};
