/* A module built for another module API version: LoadModule must refuse it. */
#include "portico_module.h"

const pt_module_t oldapi_module = {
    .api_version = PT_MODULE_API_VERSION + 41,
    .name = "oldapi",
    .thread_safe = 1,
    .handlers = NULL,
};
