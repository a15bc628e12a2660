/* The reference server (apache.h). Started as the current user; when that is root, Apache's
 * own rule applies (it will not serve as root) and its child runs as www-data, which is why
 * the generated tree is world-readable. */
#include "apache.h"

#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The modules that carry what the generator uses; the rest of Apache is left out so that
 * nothing portico lacks can change an answer. */
static const char *const modules[] = {
    "mpm_event", "authz_core", "authz_host", "dir", "mime", "alias", "headers", "autoindex",
};

int dt_apache_init(dt_apache_t *a, const char *parent)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->dir, sizeof(a->dir), "%s/apache", parent);
    if (mkdir(a->dir, 0755) < 0 && errno != EEXIST)
        return -errno;
    return chmod(a->dir, 0755) < 0 ? -errno : 0;
}

static int write_conf(dt_apache_t *a, const char *docroot, const char *body)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/httpd.conf", a->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
        fprintf(f, "LoadModule %s_module %s/mod_%s.so\n", modules[i], DT_APACHE_MODULES,
                modules[i]);
    fprintf(f, "Listen 127.0.0.1:%d\nServerName localhost\nErrorLog %s/error.log\n"
               "PidFile %s/apache.pid\nDefaultRuntimeDir %s\nLogLevel warn\n"
               "TypesConfig /etc/mime.types\n",
            a->port, a->dir, a->dir, a->dir);
    if (getuid() == 0)
        fprintf(f, "User www-data\nGroup www-data\n");
    fprintf(f, "DocumentRoot \"%s\"\n%s", docroot, body);
    fclose(f);
    return 0;
}

int dt_apache_spawn(dt_apache_t *a, const char *docroot, const char *body)
{
    a->port = pth_free_port();
    char log[600];
    snprintf(log, sizeof(log), "%s/error.log", a->dir);
    unlink(log); /* a fresh log per start, so a failure message shows this start's lines */
    int rc = write_conf(a, docroot, body);
    if (rc < 0)
        return rc;
    char conf[600], out[600];
    snprintf(conf, sizeof(conf), "%s/httpd.conf", a->dir);
    snprintf(out, sizeof(out), "%s/stderr.txt", a->dir);
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setpgid(0, 0);
        execl(DT_APACHE_BIN, "apache2", "-X", "-f", conf, (char *)NULL);
        _exit(127);
    }
    a->pid = pid;
    return 0;
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

static void failure_message(dt_apache_t *a, int status, char *msg, size_t msglen)
{
    char p1[600], p2[600];
    snprintf(p1, sizeof(p1), "%s/stderr.txt", a->dir);
    snprintf(p2, sizeof(p2), "%s/error.log", a->dir);
    char *err = pth_read_file(p1, NULL), *log = pth_read_file(p2, NULL);
    snprintf(msg, msglen, "apache2 exited (status %d): %s%s", status, err ? err : "",
             log ? log : "");
    free(err);
    free(log);
}

int dt_apache_wait_ready(dt_apache_t *a, char *msg, size_t msglen)
{
    int64_t end = pth_now_ms() + DT_APACHE_START_DEADLINE_MS;
    while (pth_now_ms() < end) {
        int st;
        if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
            a->pid = 0;
            failure_message(a, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), msg,
                            msglen);
            return -1;
        }
        if (port_accepts(a->port))
            return 0;
        pth_sleep_ms(10);
    }
    dt_apache_stop(a);
    snprintf(msg, msglen, "apache2 not ready after %d ms", DT_APACHE_START_DEADLINE_MS);
    return -1;
}

int dt_apache_stop(dt_apache_t *a)
{
    if (a->pid <= 0)
        return -1;
    kill(a->pid, SIGTERM);
    int64_t end = pth_now_ms() + DT_APACHE_STOP_DEADLINE_MS;
    int st = 0;
    for (;;) {
        pid_t w = waitpid(a->pid, &st, WNOHANG);
        if (w == a->pid)
            break;
        if (pth_now_ms() >= end) {
            kill(-a->pid, SIGKILL);
            kill(a->pid, SIGKILL);
            waitpid(a->pid, &st, 0);
            break;
        }
        pth_sleep_ms(5);
    }
    a->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
