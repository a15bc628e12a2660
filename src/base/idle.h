/* What a thread keeps for its next request (the file it served last, ...) to spare a lock or
 * an atomic operation per request, and that must not outlive a long wait or the thread:
 * each keeper has a hook that lets go of the calling thread's, and a thread about to wait for
 * work a while calls them all: an event MPM worker before it waits on its condition or after
 * a tick of epoll without work, a worker MPM worker after a 200 ms slice of its keep-alive
 * wait, an HTTP/2 pool thread before it waits, a prefork child between connections and after
 * a tick of its keep-alive wait. A thread's end calls them too (one pthread key for all). */
#ifndef PT_IDLE_H
#define PT_IDLE_H

#include <stdatomic.h>
#include <stdbool.h>

typedef void (*pt_idle_fn)(void);

/* Set while the calling thread's end will run the hooks. */
extern _Thread_local bool pt_idle_armed;

/* Before the calling thread keeps anything for keeper fn: fn is among the hooks (added once,
 * by whichever thread asks first; *added says so) and the thread's end runs them. True, or
 * false when either cannot be had (then the keeper keeps nothing). */
bool pt_thread_keep(pt_idle_fn fn, atomic_bool *added);

/* The same, at the cost of two loads once the thread is armed and fn added (per request). */
static inline bool pt_thread_keeps(pt_idle_fn fn, atomic_bool *added)
{
    return (pt_idle_armed && atomic_load_explicit(added, memory_order_relaxed)) ||
           pt_thread_keep(fn, added);
}

/* The calling thread is about to wait for work: every hook runs on it, with no lock of the
 * caller's held (a hook may close a file, which may block). */
void pt_thread_idle(void);

#endif
