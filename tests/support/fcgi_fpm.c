/* A private php-fpm pool for the FastCGI tests: config written here, php-fpm8.2 run in the
 * foreground (-R: the CI runs as root), readiness by connecting, stop by PID. */
#include "fcgi_backends.h"
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define FPM_BIN "php-fpm8.2"
#define FPM_PATH "/usr/sbin/php-fpm8.2"

bool pth_fpm_available(void)
{
    return access(FPM_PATH, X_OK) == 0;
}

bool pth_unix_wait_ready(const char *path, int ms)
{
    int64_t end = pth_now_ms() + ms;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    while (pth_now_ms() < end) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
        close(fd);
        if (rc == 0)
            return true;
        pth_sleep_ms(20);
    }
    return false;
}

static bool tcp_wait_ready(int port, int ms)
{
    int64_t end = pth_now_ms() + ms;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    while (pth_now_ms() < end) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
        close(fd);
        if (rc == 0)
            return true;
        pth_sleep_ms(20);
    }
    return false;
}

static int write_conf(pth_fpm_t *f)
{
    FILE *c = fopen(f->conf, "w");
    if (!c)
        return -1;
    char listen[200];
    if (f->port)
        snprintf(listen, sizeof(listen), "127.0.0.1:%d", f->port);
    else
        snprintf(listen, sizeof(listen), "%s", f->sock);
    fprintf(c,
            "[global]\n"
            "error_log = %s\n"
            "daemonize = no\n"
            "[test]\n"
            "listen = %s\n"
            "pm = static\n"
            "pm.max_children = %d\n"
            "clear_env = no\n"
            "catch_workers_output = yes\n"
            "php_admin_value[output_buffering] = 0\n"
            "php_admin_value[upload_max_filesize] = 64M\n"
            "php_admin_value[post_max_size] = 64M\n"
            "php_admin_value[memory_limit] = 256M\n"
            "php_admin_value[max_execution_time] = 30\n",
            f->log, listen, f->children);
    return fclose(c);
}

static int spawn(pth_fpm_t *f, char *msg, size_t msglen)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(msg, msglen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        setpgid(0, 0);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execl(FPM_PATH, FPM_BIN, "-R", "--nodaemonize", "--fpm-config", f->conf, "-n",
              (char *)NULL);
        _exit(127);
    }
    f->pid = pid;
    f->owner = parent;
    bool ok = f->port ? tcp_wait_ready(f->port, PTH_FPM_START_DEADLINE_MS)
                      : pth_unix_wait_ready(f->sock, PTH_FPM_START_DEADLINE_MS);
    if (!ok) {
        char *log = pth_read_file(f->log, NULL);
        snprintf(msg, msglen, "php-fpm did not become ready: %s", log ? log : "(no log)");
        free(log);
        pth_fpm_stop(f);
        return -1;
    }
    return 0;
}

int pth_fpm_start(pth_fpm_t *f, int children, bool tcp, char *msg, size_t msglen)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/portico-fpm.XXXXXX");
    if (!mkdtemp(f->dir)) {
        snprintf(msg, msglen, "mkdtemp: %s", strerror(errno));
        return -1;
    }
    chmod(f->dir, 0755);
    snprintf(f->sock, sizeof(f->sock), "%s/fpm.sock", f->dir);
    snprintf(f->conf, sizeof(f->conf), "%s/fpm.conf", f->dir);
    snprintf(f->log, sizeof(f->log), "%s/fpm.log", f->dir);
    f->children = children;
    f->port = tcp ? pth_free_port() : 0;
    if (write_conf(f) != 0) {
        snprintf(msg, msglen, "cannot write %s", f->conf);
        return -1;
    }
    return spawn(f, msg, msglen);
}

int pth_fpm_restart(pth_fpm_t *f, char *msg, size_t msglen)
{
    return spawn(f, msg, msglen);
}

void pth_fpm_stop(pth_fpm_t *f)
{
    if (f->pid <= 0 || f->owner != getpid())
        return;
    kill(f->pid, SIGQUIT);
    int64_t end = pth_now_ms() + 5000;
    int st;
    while (waitpid(f->pid, &st, WNOHANG) == 0) {
        if (pth_now_ms() > end) {
            pth_kill_descendants(f->pid);
            kill(f->pid, SIGKILL);
            waitpid(f->pid, &st, 0);
            break;
        }
        pth_sleep_ms(10);
    }
    /* Children that outlive the master would keep the socket's old clients waiting. */
    kill(-f->pid, SIGKILL);
    f->pid = 0;
    unlink(f->sock);
}

void pth_fpm_free(pth_fpm_t *f)
{
    if (f->owner && f->owner != getpid())
        return;
    pth_fpm_stop(f);
    unlink(f->conf);
    unlink(f->log);
    unlink(f->sock);
    rmdir(f->dir);
}

void pth_fpm_start_or_exit(pth_fpm_t *f, int children)
{
    char msg[1024];
    if (pth_fpm_start(f, children, false, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "php-fpm is needed for these tests: %s\n", msg);
        exit(1);
    }
}

void pth_fpm_start_checked(pth_fpm_t *f, int children, bool tcp)
{
    char msg[1024];
    pth_assert_msg(pth_fpm_start(f, children, tcp, msg, sizeof(msg)) == 0, "%s", msg);
}
