/* An LD_PRELOAD shim for the harness's own suite: listen() on the IPv4 port named in
 * PTH_SLOW_LISTEN_PORT waits 300 ms first, so a server's second listener comes up
 * visibly later than its first, and a readiness check that looks at the first alone
 * returns too early (test_harness: waits_for_every_listener_before_returning). */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

int listen(int fd, int backlog)
{
    int (*real)(int, int) = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
    const char *want = getenv("PTH_SLOW_LISTEN_PORT");
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    if (want && getsockname(fd, (struct sockaddr *)&a, &al) == 0 && a.sin_family == AF_INET &&
        ntohs(a.sin_port) == atoi(want)) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return real ? real(fd, backlog) : -1;
}
