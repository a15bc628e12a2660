/* A module whose handler takes a name the server already answers to: LoadModule must
 * refuse it rather than leave SetHandler ambiguous. */
#include "portico_module.h"

static int clash_handler(pt_modreq_t *r)
{
    return 500;
}

static const pt_module_handler_t handlers[] = {
    {"server-status", clash_handler},
    {NULL, NULL},
};

const pt_module_t clash_module = {
    .api_version = PT_MODULE_API_VERSION,
    .name = "clash",
    .thread_safe = 1,
    .handlers = handlers,
};
