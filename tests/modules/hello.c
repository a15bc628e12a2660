/* A thread-safe sample module (no state): accepted under every MPM. "hello" echoes the
 * request's method, URL-path, query and one header, exercising the module API. */
#include "portico_module.h"

#include <stdio.h>

static int hello_handler(pt_modreq_t *r)
{
    if (pt_modreq_args(r) && pt_modreq_args(r)[0] == 'e')
        return 418; /* lets a test see a status returned to the core */
    char body[512];
    const char *agent = pt_modreq_header(r, "X-Hello");
    int n = snprintf(body, sizeof(body), "%s %s ?%s x-hello=%s\n", pt_modreq_method(r),
                     pt_modreq_uri(r), pt_modreq_args(r) ? pt_modreq_args(r) : "",
                     agent ? agent : "-");
    pt_modreq_log(r, PT_MOD_LOG_INFO, "hello served %s", pt_modreq_uri(r));
    return pt_modreq_send(r, 200, "text/plain", body, (size_t)n);
}

static const pt_module_handler_t handlers[] = {
    {"hello", hello_handler},
    {NULL, NULL},
};

const pt_module_t hello_module = {
    .api_version = PT_MODULE_API_VERSION,
    .name = "hello",
    .thread_safe = 1,
    .handlers = handlers,
};
