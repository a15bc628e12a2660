/* An LD_PRELOAD shim for test_tls_wantwrite: the server's accepted sockets get a send buffer
 * of PTH_SNDBUF bytes (fixed: the kernel no longer grows it), so a test knows how much the
 * server can queue before its socket is full; and every send() that finds a socket full
 * (EAGAIN) adds a byte to the file PTH_EAGAIN_LOG, up to a bound, so a test can tell a
 * server that waits for room (one such send per wait) from one that tries again and again. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_BOUND 100000 /* bytes: a spinning server is told apart long before this */

int accept4(int lfd, struct sockaddr *addr, socklen_t *alen, int flags)
{
    int (*real)(int, struct sockaddr *, socklen_t *, int) =
        (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
    int fd = real ? real(lfd, addr, alen, flags) : -1;
    const char *size = getenv("PTH_SNDBUF");
    if (fd >= 0 && size) {
        int n = atoi(size);
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n));
    }
    return fd;
}

static void log_full(void)
{
    const char *path = getenv("PTH_EAGAIN_LOG");
    struct stat st;
    if (!path || (stat(path, &st) == 0 && st.st_size >= LOG_BOUND))
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
        (void)!write(fd, "x", 1);
        close(fd);
    }
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    ssize_t (*real)(int, const void *, size_t, int) =
        (ssize_t(*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "send");
    ssize_t r = real ? real(fd, buf, n, flags) : -1;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        int e = errno;
        log_full();
        errno = e;
    }
    return r;
}
