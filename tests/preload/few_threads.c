/* An LD_PRELOAD shim for test_mpm: in each process, pthread_create of a thread with
 * attributes (portico gives them to its worker threads, for their stack size: the event
 * and worker MPMs' workers and the HTTP/2 pool) fails with EAGAIN once PTH_FEW_THREADS of
 * them were made, as it does for a process at its limit of threads or of memory (a child
 * starts with the count its parent had: the parent makes none). The size itself is no
 * mark: TSan's pthread_create enlarges the stack in the attributes it is given. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static atomic_int made;

int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    create_fn real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
    const char *limit = getenv("PTH_FEW_THREADS");
    if (limit && attr && atomic_fetch_add(&made, 1) >= atoi(limit))
        return EAGAIN;
    return real ? real(t, attr, fn, arg) : ENOSYS;
}
