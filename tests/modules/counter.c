/* A sample loadable module that is NOT thread-safe: one unlocked global counter, bumped by
 * every request its process serves. Under MPM prefork each child has its own copy, so the
 * answers "pid=P count=N" show which process served a request and that state is unshared. */
#include "portico_module.h"

#include <stdio.h>
#include <unistd.h>

static unsigned long count; /* deliberately unlocked: the module declares thread_safe = 0 */
static long init_pid;

static int counter_child_init(void)
{
    init_pid = (long)getpid();
    return 0;
}

static int counter_handler(pt_modreq_t *r)
{
    count++;
    char body[96];
    int n = snprintf(body, sizeof(body), "pid=%ld count=%lu\n", (long)getpid(), count);
    /* Shows that the server ran child_init in this process before serving. */
    pt_modreq_set_header(r, "X-Counter-Child-Init", init_pid == (long)getpid() ? "yes" : "no");
    return pt_modreq_send(r, 200, "text/plain", body, (size_t)n);
}

static const pt_module_handler_t handlers[] = {
    {"counter", counter_handler},
    {NULL, NULL},
};

const pt_module_t counter_module = {
    .api_version = PT_MODULE_API_VERSION,
    .name = "counter",
    .thread_safe = 0,
    .handlers = handlers,
    .child_init = counter_child_init,
};
