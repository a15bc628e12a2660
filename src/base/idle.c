/* Idle hooks (idle.h): a fixed array published by a count, so that a thread going idle
 * reads it without a lock while another thread adds the first hook of its module. */
#include "idle.h"

#include <pthread.h>
#include <stdatomic.h>

static pt_idle_fn hooks[PT_IDLE_HOOKS];
static atomic_int nhooks;
static pthread_mutex_t add_lock = PTHREAD_MUTEX_INITIALIZER;

int pt_idle_hook_add(pt_idle_fn fn)
{
    pthread_mutex_lock(&add_lock);
    int n = atomic_load_explicit(&nhooks, memory_order_relaxed);
    if (n < PT_IDLE_HOOKS) {
        hooks[n] = fn;
        atomic_store_explicit(&nhooks, n + 1, memory_order_release); /* (after hooks[n]) */
    }
    pthread_mutex_unlock(&add_lock);
    return n < PT_IDLE_HOOKS ? 0 : -1;
}

void pt_thread_idle(void)
{
    int n = atomic_load_explicit(&nhooks, memory_order_acquire);
    for (int i = 0; i < n; i++)
        hooks[i]();
}
