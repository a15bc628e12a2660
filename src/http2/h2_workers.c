/* The HTTP/2 worker pool of a child (mod_http2's h2_workers, H2MaxWorkers): threads that
 * run the streams whose handler may block (a backend, a module); what cannot block runs
 * on the session's own thread (h2_stream_run_inline). Not the MPM's workers: a stream
 * that waits on a backend holds its thread, and in the MPM's queue one connection's 100
 * slow streams would hold every worker of the child (ThreadsPerChild, 25 by default) and
 * wait 25 at a time, where mod_http2 runs them at once; under prefork there is one MPM
 * thread. Under the worker MPM a session also holds its MPM worker while its streams run
 * (it cannot park), so there the MPM's queue could deadlock. These threads never wait for
 * a session, so every stream gets to run. Threads are started on demand up to
 * H2_POOL_MAX and stay; the pool is made in the child on first use. */
#include "h2_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define H2_POOL_MAX 256       /* threads; 100 slow streams of one session run at once */
#define H2_POOL_STACK (256 * 1024)

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static pt_task_t *q_head, *q_tail;  /* [pool_lock] */
static int nthreads, nidle, qlen;   /* [pool_lock] */
static pid_t pool_pid;              /* the process that started the threads */

static pt_task_t *take_locked(void)
{
    while (!q_head) {
        nidle++;
        pthread_cond_wait(&pool_cond, &pool_lock);
        nidle--;
    }
    qlen--;
    pt_task_t *t = q_head;
    q_head = t->next;
    if (!q_head)
        q_tail = NULL;
    return t;
}

static void *pool_thread(void *arg)
{
    pt_worker_t w = {.id = (int)(intptr_t)arg, .arena = pt_arena_create(16384)};
    pthread_mutex_lock(&pool_lock);
    for (;;) {
        pt_task_t *t = take_locked();
        pthread_mutex_unlock(&pool_lock);
        t->serve_worker(t, &w);
        pt_arena_reset(w.arena);
        pthread_mutex_lock(&pool_lock);
    }
    return NULL;
}

int h2_workers_queue(pt_task_t *t)
{
    pthread_mutex_lock(&pool_lock);
    if (pool_pid != getpid()) { /* a new child: the parent's threads (none) are not ours */
        pool_pid = getpid();
        nthreads = nidle = qlen = 0;
        q_head = q_tail = NULL;
    }
    t->next = NULL;
    if (q_tail)
        q_tail->next = t;
    else
        q_head = t;
    q_tail = t;
    qlen++;
    int rc = 0;
    /* One thread per task waiting beyond the idle ones: a burst of streams runs at once. */
    if (qlen > nidle && nthreads < H2_POOL_MAX) {
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, H2_POOL_STACK);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_t th;
        rc = -pthread_create(&th, &at, pool_thread, (void *)(intptr_t)nthreads);
        pthread_attr_destroy(&at);
        if (rc == 0)
            nthreads++;
        else if (nthreads > 0)
            rc = 0; /* the running ones will get to it */
    }
    if (rc == 0)
        pthread_cond_signal(&pool_cond);
    else
        q_head = q_tail = NULL, qlen = 0; /* (it was the only one queued) */
    pthread_mutex_unlock(&pool_lock);
    return rc;
}
