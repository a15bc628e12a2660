/* The HTTP/2 worker pool of a child (mod_http2's h2_workers, H2MaxWorkers): threads that
 * run the streams whose handler may block (a backend, a module); what cannot block runs
 * on the session's own thread (h2_stream_run_inline). Not the MPM's workers: a stream
 * that waits on a backend holds its thread, and in the MPM's queue one connection's 100
 * slow streams would hold every worker of the child (ThreadsPerChild, 25 by default) and
 * wait 25 at a time, where mod_http2 runs them at once; under prefork there is one MPM
 * thread. Under the worker MPM a session also holds its MPM worker while its streams run
 * (it cannot park), so there the MPM's queue could deadlock. These threads never wait for
 * a session, so every stream gets to run. Threads are started on demand up to
 * H2MaxWorkers (H2_POOL_MAX by default), H2MinWorkers of them at once, and stay, unless
 * H2MaxWorkerIdleSeconds ends those above H2MinWorkers that have had nothing to do that
 * long; the pool is made in the child on first use. */
#include "h2_int.h"
#include "idle.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define H2_POOL_MAX 256       /* threads; 100 slow streams of one session run at once */
#define H2_POOL_STACK (256 * 1024)

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static pt_task_t *q_head, *q_tail;  /* [pool_lock] */
static int nthreads, nidle, qlen;   /* [pool_lock] */
static pid_t pool_pid;              /* the process that started the threads */
static int pool_max = H2_POOL_MAX;  /* [pool_lock] H2MaxWorkers */
static int pool_min;                /* [pool_lock] H2MinWorkers */
static int64_t pool_idle_ms;        /* [pool_lock] H2MaxWorkerIdleSeconds; 0: stay */

/* Waits for the queue; NULL when this thread has been idle H2MaxWorkerIdleSeconds while
 * more than H2MinWorkers exist (it then ends). */
static bool idle_wait_locked(void)
{
    if (pool_idle_ms <= 0 || nthreads <= pool_min) {
        pthread_cond_wait(&pool_cond, &pool_lock);
        return true;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += pool_idle_ms / 1000;
    ts.tv_nsec += (pool_idle_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    return pthread_cond_timedwait(&pool_cond, &pool_lock, &ts) != ETIMEDOUT || q_head;
}

static pt_task_t *take_locked(void)
{
    bool let_go = false;
    while (!q_head) {
        if (!let_go) { /* what it kept goes before it waits, without the pool's lock */
            let_go = true;
            pthread_mutex_unlock(&pool_lock);
            pt_thread_idle(); /* (idle.h) */
            pthread_mutex_lock(&pool_lock);
            continue;
        }
        nidle++;
        bool stay = idle_wait_locked();
        nidle--;
        if (!stay && !q_head && nthreads > pool_min)
            return NULL;
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
        if (!t) {
            nthreads--;
            break;
        }
        pthread_mutex_unlock(&pool_lock);
        t->serve_worker(t, &w);
        pt_arena_reset(w.arena);
        pthread_mutex_lock(&pool_lock);
    }
    pthread_mutex_unlock(&pool_lock);
    pt_arena_destroy(w.arena);
    return NULL;
}

static int spawn_locked(void)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, H2_POOL_STACK);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int rc = -pthread_create(&th, &at, pool_thread, (void *)(intptr_t)nthreads);
    pthread_attr_destroy(&at);
    if (rc == 0)
        nthreads++;
    return rc;
}

int h2_workers_queue(pt_task_t *t, const pt_h2_conf_t *pool)
{
    pthread_mutex_lock(&pool_lock);
    pool_max = pool->max_workers > 0 ? pool->max_workers : H2_POOL_MAX;
    pool_min = PT_MIN(pool->min_workers, pool_max);
    pool_idle_ms = pool->worker_idle_ms;
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
    while (nthreads < pool_min && spawn_locked() == 0) /* H2MinWorkers at once */
        ;
    /* One thread per task waiting beyond the idle ones: a burst of streams runs at once. */
    if (qlen > nidle && nthreads < pool_max) {
        rc = spawn_locked();
        if (rc != 0 && nthreads > 0)
            rc = 0; /* the running ones will get to it */
    }
    if (rc == 0)
        pthread_cond_signal(&pool_cond);
    else
        q_head = q_tail = NULL, qlen = 0; /* (it was the only one queued) */
    pthread_mutex_unlock(&pool_lock);
    return rc;
}
