/* What a thread keeps for its next request (the file it served last, ...) to spare a lock or
 * an atomic operation per request, and that must not outlive a long wait: each keeper adds
 * a hook that lets go of the calling thread's, and a thread about to wait for work a while
 * calls them all: an event MPM worker before it waits on its condition or after a tick of
 * epoll without work, a worker MPM worker after a 200 ms slice of its keep-alive wait, an
 * HTTP/2 pool thread before it waits, a prefork child between connections and after a tick
 * of its keep-alive wait. */
#ifndef PT_IDLE_H
#define PT_IDLE_H

typedef void (*pt_idle_fn)(void);

/* Adds fn (any thread, any time; at most PT_IDLE_HOOKS, then fn is not added and -1). */
#define PT_IDLE_HOOKS 8
int pt_idle_hook_add(pt_idle_fn fn);
/* The calling thread is about to wait for work: every hook runs on it, with no lock of the
 * caller's held (a hook may close a file, which may block). */
void pt_thread_idle(void);

#endif
