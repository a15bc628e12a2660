/* Idle hooks (idle.h): a fixed array published by a count, so that a thread going idle
 * reads it without a lock while another thread adds a keeper's hook; and one pthread key
 * whose destructor runs them all at a thread's end. */
#include "idle.h"

#include <pthread.h>

#define PT_IDLE_HOOKS 8 /* keepers at most */

static pt_idle_fn hooks[PT_IDLE_HOOKS];
static atomic_int nhooks;
static pthread_mutex_t add_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_key_t end_key;
static pthread_once_t end_once = PTHREAD_ONCE_INIT;
static bool end_ok;

_Thread_local bool pt_idle_armed;

static void thread_end(void *unused)
{
    (void)unused;
    pt_idle_armed = false; /* (a keeper that keeps again in the teardown arms it again, and
                              the destructor runs once more) */
    pt_thread_idle();
}

static void end_key_make(void)
{
    end_ok = pthread_key_create(&end_key, thread_end) == 0;
}

/* Adds fn once: whether it is among the hooks. */
static bool hook_add(pt_idle_fn fn)
{
    pthread_mutex_lock(&add_lock);
    int n = atomic_load_explicit(&nhooks, memory_order_relaxed);
    bool there = false;
    for (int i = 0; i < n && !there; i++)
        there = hooks[i] == fn;
    if (!there && n < PT_IDLE_HOOKS) {
        hooks[n] = fn;
        atomic_store_explicit(&nhooks, n + 1, memory_order_release); /* (after hooks[n]) */
        there = true;
    }
    pthread_mutex_unlock(&add_lock);
    return there;
}

bool pt_thread_keep(pt_idle_fn fn, atomic_bool *added)
{
    if (!atomic_load_explicit(added, memory_order_acquire)) {
        if (!hook_add(fn))
            return false;
        atomic_store_explicit(added, true, memory_order_release);
    }
    if (!pt_idle_armed) {
        pthread_once(&end_once, end_key_make);
        if (!end_ok || pthread_setspecific(end_key, &pt_idle_armed) != 0)
            return false;
        pt_idle_armed = true;
    }
    return true;
}

void pt_thread_idle(void)
{
    int n = atomic_load_explicit(&nhooks, memory_order_acquire);
    for (int i = 0; i < n; i++)
        hooks[i]();
}
