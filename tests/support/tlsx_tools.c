/* The TLS suites' tools (tlsx_tools.h): PKI, commands with deadlines, helper processes. */
#include "tlsx_tools.h"
#include "tls_client.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One PKI per test process, made by tls_client.c (ca.sh): these are its names here. */
const char *tlsx_pki(void)
{
    return pth_tls_pki();
}

const char *tlsx_file(const char *name)
{
    return pth_tls_file(name);
}

static char *vsh(int timeout_s, int *code, const char *fmt, va_list ap)
{
    char *cmd = NULL, *full = NULL;
    ck_assert_int_ge(vasprintf(&cmd, fmt, ap), 0);
    /* The command goes to sh through a file: no quoting of what it holds. */
    char script[] = "/tmp/tlsx-cmd.XXXXXX";
    int fd = mkstemp(script);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
    close(fd);
    ck_assert_int_ge(asprintf(&full, "timeout -k 2 %d sh %s </dev/null 2>&1", timeout_s, script),
                     0);
    FILE *p = popen(full, "r");
    ck_assert_ptr_nonnull(p);
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 1024)
            out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    int st = pclose(p);
    if (code)
        *code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    unlink(script);
    free(cmd);
    free(full);
    return out;
}

char *tlsx_sh(int timeout_s, int *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = vsh(timeout_s, code, fmt, ap);
    va_end(ap);
    return out;
}

char *tlsx_sh_ok(int timeout_s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int code = -1;
    char *out = vsh(timeout_s, &code, fmt, ap);
    va_end(ap);
    ck_assert_msg(code == 0, "command failed (%d): %s\n%.3000s", code, fmt, out);
    return out;
}

pid_t tlsx_spawn(const char *const *argv, const char *out_path)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int in = open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0)
            _exit(126);
        dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

void tlsx_kill(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

bool tlsx_wait_port(int port, int ms)
{
    for (int waited = 0; waited < ms; waited += 20) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
        close(fd);
        if (rc == 0)
            return true;
        usleep(20000);
    }
    return false;
}

char *tlsx_s_client(int port, const char *args)
{
    return tlsx_sh(15, NULL,
                   "printf 'GET / HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' | "
                   "openssl s_client -connect 127.0.0.1:%d -ign_eof %s", port, args);
}
