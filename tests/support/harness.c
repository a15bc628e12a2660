/* Integration harness, process side: temp dirs, config files, starting and stopping the
 * server, the error-log check and running the binary for one-shot commands. Sockets, HTTP
 * parsing and libcurl live in harness_net.c. */
#include "harness.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <regex.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_LIVE 16
#define START_RETRIES 5

/* Servers still running, for the atexit sweep (Check forks one process per test, so this
 * is per test). */
static pth_t *live[MAX_LIVE];
static bool atexit_done;

/* Check runs each test in a child that leaves with _exit() when an assertion fails, so
 * neither teardown nor atexit run there. Temp dirs therefore live under one base dir that
 * the runner process (the one that loaded us) creates and removes when it exits. */
static char base_dir[64];
static pid_t runner_pid;

int64_t pth_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pth_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static int stop_checked(pth_t *h);

static void track(pth_t *h, bool on)
{
    for (int i = 0; i < MAX_LIVE; i++) {
        if (on && live[i] == NULL) {
            live[i] = h;
            return;
        }
        if (!on && live[i] == h) {
            live[i] = NULL;
            return;
        }
    }
}

/* Reaps pid, SIGKILLing it (and what it forked) if it does not exit within ms. */
static int reap_with_deadline(pid_t pid, int ms)
{
    int64_t end = pth_now_ms() + ms;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        if (pth_now_ms() >= end) {
            pth_kill_descendants(pid);
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        pth_sleep_ms(10);
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void sweep(void)
{
    for (int i = 0; i < MAX_LIVE; i++) {
        pth_t *h = live[i];
        if (h == NULL)
            continue;
        if (h->pid > 0) {
            pth_kill_descendants(h->pid);
            kill(h->pid, SIGKILL);
            waitpid(h->pid, NULL, 0);
            h->pid = 0;
        }
        /* A failed test exits without its teardown: its files go too unless asked to keep. */
        if (!getenv("PORTICO_TEST_KEEP"))
            nftw(h->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

static void remove_base(void)
{
    if (getpid() == runner_pid && base_dir[0] && !getenv("PORTICO_TEST_KEEP"))
        nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

__attribute__((constructor)) static void make_base(void)
{
    strcpy(base_dir, "/tmp/portico-it.XXXXXX");
    if (mkdtemp(base_dir) == NULL) {
        base_dir[0] = '\0';
        return;
    }
    chmod(base_dir, 0755);
    runner_pid = getpid();
    atexit(remove_base);
}

const char *pth_bin(void)
{
    const char *b = getenv("PORTICO_BIN");
    pth_assert_msg(b != NULL && *b, "PORTICO_BIN is not set");
    pth_assert_msg(access(b, X_OK) == 0, "PORTICO_BIN %s is not executable", b);
    return b;
}

/* One bind to port 0: the port the kernel chose, now free again. */
static int kernel_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    pth_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    pth_assert_msg(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind: %s", strerror(errno));
    pth_assert(getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* A port handed out is not bound until the server starts, so the kernel may offer it again
 * at once: a test that asks for its server's port and then a second one (a TLS listener,
 * a backend) got the same port twice now and then ("Cannot define multiple Listeners on the
 * same IP:port"). The last ports this process handed out are never handed out again. */
int pth_free_port(void)
{
    static int recent[64];
    static size_t next;
    for (;;) {
        int port = kernel_free_port();
        bool seen = false;
        for (size_t i = 0; i < sizeof(recent) / sizeof(recent[0]); i++)
            seen |= recent[i] == port;
        if (seen)
            continue;
        recent[next++ % (sizeof(recent) / sizeof(recent[0]))] = port;
        return port;
    }
}

pth_t *pth_new(void)
{
    if (!atexit_done) {
        atexit(sweep);
        atexit_done = true;
    }
    pth_t *h = calloc(1, sizeof(*h));
    pth_assert(h != NULL);
    snprintf(h->dir, sizeof(h->dir), "%s/s.XXXXXX", base_dir[0] ? base_dir : "/tmp");
    pth_assert_msg(mkdtemp(h->dir) != NULL, "mkdtemp: %s", strerror(errno));
    /* Readable by a server that drops privileges, and by SymLinksIfOwnerMatch tests. */
    chmod(h->dir, 0755);
    snprintf(h->docroot, sizeof(h->docroot), "%s/htdocs", h->dir);
    snprintf(h->conf, sizeof(h->conf), "%s/portico.conf", h->dir);
    snprintf(h->error_log, sizeof(h->error_log), "%s/error.log", h->dir);
    snprintf(h->access_log, sizeof(h->access_log), "%s/access.log", h->dir);
    snprintf(h->pid_file, sizeof(h->pid_file), "%s/portico.pid", h->dir);
    snprintf(h->out_path, sizeof(h->out_path), "%s/stdout.txt", h->dir);
    snprintf(h->err_path, sizeof(h->err_path), "%s/stderr.txt", h->dir);
    pth_assert_msg(mkdir(h->docroot, 0755) == 0, "mkdir %s: %s", h->docroot, strerror(errno));
    h->port = pth_free_port();
    h->died = -1;
    track(h, true);
    return h;
}

void pth_free(pth_t *h)
{
    if (h == NULL)
        return;
    stop_checked(h);
    track(h, false);
    if (!getenv("PORTICO_TEST_KEEP"))
        nftw(h->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < h->nexpect; i++) {
        regfree(h->expect[i]);
        free(h->expect[i]);
    }
    free(h->conf_body);
    free(h);
}

const char *pth_path(pth_t *h, const char *rel)
{
    static char ring[8][512];
    static int next;
    char *b = ring[next++ % 8];
    snprintf(b, sizeof(ring[0]), "%s/%s", h->dir, rel);
    return b;
}

/* ---- Configuration ------------------------------------------------------------------- */

static const char PRELUDE[] =
    "Listen 127.0.0.1:@PORT@\n"
    "ServerName localhost\n"
    "ErrorLog @DIR@/error.log\n"
    "PidFile @DIR@/portico.pid\n"
    "LogLevel info\n"
    "CustomLog @DIR@/access.log common\n"
    "DocumentRoot @DOCROOT@\n"
    "<Directory @DOCROOT@>\n"
    "    Require all granted\n"
    "</Directory>\n";

static void mkdirs_for(const char *path, bool include_last);

/* Replaces placeholders in text; returns a malloc'd string. */
static char *substitute(pth_t *h, const char *text)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", h->port);
    const struct { const char *key, *val; } subs[] = {
        {"@PORT@", port}, {"@DOCROOT@", h->docroot}, {"@DIR@", h->dir},
    };
    size_t cap = strlen(text) * 4 + 1024, n = 0;
    char *out = malloc(cap);
    pth_assert(out != NULL);
    for (const char *p = text; *p;) {
        bool done = false;
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]) && !done; i++) {
            size_t kl = strlen(subs[i].key), vl = strlen(subs[i].val);
            if (strncmp(p, subs[i].key, kl) != 0)
                continue;
            if (n + vl + 1 > cap) {
                cap = (n + vl + 1) * 2;
                out = realloc(out, cap);
                pth_assert(out != NULL);
            }
            memcpy(out + n, subs[i].val, vl);
            n += vl;
            p += kl;
            done = true;
        }
        if (done)
            continue;
        if (n + 2 > cap) {
            cap *= 2;
            out = realloc(out, cap);
            pth_assert(out != NULL);
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
    return out;
}

static void write_whole(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pth_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        pth_assert_msg(w > 0, "write %s: %s", path, strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    close(fd);
}

static void write_config_file(pth_t *h)
{
    char *body = substitute(h, h->conf_body);
    if (h->conf_prelude) {
        /* PORTICO_TEST_MPM runs a suite under another MPM (ctest registers each suite once
         * per MPM), unless the test chose its MPM itself. */
        const char *mpm = getenv("PORTICO_TEST_MPM");
        char *pre0 = substitute(h, PRELUDE);
        char *pre = pre0;
        if (mpm && *mpm && !strstr(body, "MPM ")) {
            pth_assert(asprintf(&pre, "MPM %s\n%s", mpm, pre0) >= 0);
            free(pre0);
        }
        size_t pl = strlen(pre), bl = strlen(body);
        pre = realloc(pre, pl + bl + 1);
        pth_assert(pre != NULL);
        memcpy(pre + pl, body, bl + 1);
        free(body);
        body = pre;
    }
    write_whole(h->conf, body, strlen(body));
    free(body);
}

static void set_config(pth_t *h, bool prelude, const char *fmt, va_list ap)
{
    free(h->conf_body);
    pth_assert(vasprintf(&h->conf_body, fmt, ap) >= 0);
    h->conf_prelude = prelude;
    write_config_file(h);
}

void pth_config(pth_t *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_config(h, true, fmt, ap);
    va_end(ap);
}

void pth_config_raw(pth_t *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_config(h, false, fmt, ap);
    va_end(ap);
}

const char *pth_write_conf_file(pth_t *h, const char *rel, const char *fmt, ...)
{
    va_list ap;
    char *raw;
    va_start(ap, fmt);
    pth_assert(vasprintf(&raw, fmt, ap) >= 0);
    va_end(ap);
    char *text = substitute(h, raw);
    const char *path = pth_path(h, rel);
    mkdirs_for(path, false);
    write_whole(path, text, strlen(text));
    free(raw);
    free(text);
    return path;
}

/* ---- Files --------------------------------------------------------------------------- */

static void mkdirs_for(const char *path, bool include_last)
{
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(tmp, 0755);
        *p = '/';
    }
    if (include_last)
        mkdir(tmp, 0755);
}

static void write_under(const char *base, const char *rel, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    mkdirs_for(path, false);
    write_whole(path, data, len);
}

void pth_write_file(pth_t *h, const char *rel, const void *data, size_t len)
{
    write_under(h->docroot, rel, data, len);
}

void pth_write_filef(pth_t *h, const char *rel, const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    pth_assert(vasprintf(&s, fmt, ap) >= 0);
    va_end(ap);
    pth_write_file(h, rel, s, strlen(s));
    free(s);
}

void pth_write_dir_file(pth_t *h, const char *rel, const void *data, size_t len)
{
    write_under(h->dir, rel, data, len);
}

void pth_mkdir(pth_t *h, const char *rel)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", h->docroot, rel);
    mkdirs_for(path, true);
}

void pth_set_mtime(pth_t *h, const char *rel, time_t t)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", h->docroot, rel);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {t, 0}};
    pth_assert_msg(utimensat(AT_FDCWD, path, ts, 0) == 0, "utimensat %s: %s", path,
                   strerror(errno));
}

char *pth_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    pth_assert(b != NULL);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            b = realloc(b, cap);
            pth_assert(b != NULL);
        }
        ssize_t r = read(fd, b + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

bool pth_file_wait_contains(const char *path, const char *needle, int ms)
{
    int64_t end = pth_now_ms() + ms;
    for (;;) {
        char *s = pth_read_file(path, NULL);
        bool found = s != NULL && strstr(s, needle) != NULL;
        free(s);
        if (found)
            return true;
        if (pth_now_ms() >= end)
            return false;
        pth_sleep_ms(20);
    }
}

/* ---- Processes ----------------------------------------------------------------------- */

/* Parent pid of pid from /proc/PID/stat, -1 when gone. */
static pid_t parent_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')'); /* comm may hold spaces */
    int ppid;
    char state;
    if (rp == NULL || sscanf(rp + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    return ppid;
}

void pth_kill_descendants(pid_t pid)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        pid_t child = (pid_t)atoi(e->d_name);
        if (child <= 0 || parent_of(child) != pid)
            continue;
        pth_kill_descendants(child);
        kill(child, SIGKILL);
    }
    closedir(d);
}

static pid_t spawn_binary(const char *out_path, const char *err_path, char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    /* Default signal handling in the server whatever the test process blocks or ignores. */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    pth_assert_msg(rc == 0, "posix_spawn %s: %s", argv[0], strerror(rc));
    return pid;
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* Looks in one of /proc/net/tcp and tcp6 for a socket listening on port where a connect to
 * 127.0.0.1 lands: 127.0.0.1 or 0.0.0.0, and in tcp6 [::] (dual-stack) or ::ffff:127.0.0.1.
 * Its inode in *inode (left alone when none); -1 when the file cannot be read. */
static int scan_listeners(const char *path, bool v6, int port, unsigned long *inode)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    char line[512];
    while (*inode == 0 && fgets(line, sizeof(line), f)) {
        char addr[33];
        unsigned lport, st;
        unsigned long ino;
        if (sscanf(line, " %*d: %32[0-9A-Fa-f]:%4X %*s %2X %*s %*s %*s %*d %*d %lu", addr,
                   &lport, &st, &ino) != 4 || (int)lport != port || st != 0x0A)
            continue;
        bool lands = v6 ? strcmp(addr, "00000000000000000000000000000000") == 0 ||
                              strcmp(addr, "0000000000000000FFFF00000100007F") == 0
                        : strcmp(addr, "0100007F") == 0 || strcmp(addr, "00000000") == 0;
        if (lands)
            *inode = ino;
    }
    fclose(f);
    return 0;
}

/* Inode of the socket that takes connections to 127.0.0.1:port: 0 when none, and 1 when
 * /proc cannot tell (taken as ours by listener_is_ours; no socket has inode 1). The tcp6
 * table counts: a dual-stack [::] listener (another suite's helper, `openssl ocsp -port`)
 * takes our IPv4 connections while missing from /proc/net/tcp. */
static unsigned long listen_inode(int port)
{
    unsigned long inode = 0;
    int r4 = scan_listeners("/proc/net/tcp", false, port, &inode);
    int r6 = inode ? 0 : scan_listeners("/proc/net/tcp6", true, port, &inode);
    return r4 < 0 && r6 < 0 ? 1 : inode;
}

static bool pid_has_socket(pid_t pid, unsigned long inode)
{
    char path[64], want[64], got[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    DIR *d = opendir(path);
    if (d == NULL)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        char fd_path[320];
        snprintf(fd_path, sizeof(fd_path), "%s/%s", path, e->d_name);
        ssize_t n = readlink(fd_path, got, sizeof(got) - 1);
        if (n > 0) {
            got[n] = '\0';
            found = strcmp(got, want) == 0;
        }
    }
    closedir(d);
    return found;
}

/* Is the listener on port ours (the server or one of its children), and not a stranger's
 * that happened to take the port first? False while nobody listens (a connect would reach
 * whoever starts listening between the look and the connect); true when /proc cannot tell. */
static bool listener_is_ours(pid_t pid, int port)
{
    unsigned long inode = listen_inode(port);
    if (inode == 0)
        return false;
    if (inode == 1 || pid_has_socket(pid, inode))
        return true;
    DIR *d = opendir("/proc");
    if (d == NULL)
        return true;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        pid_t child = (pid_t)atoi(e->d_name);
        found = child > 0 && parent_of(child) == pid && pid_has_socket(child, inode);
    }
    closedir(d);
    return found;
}

/* The last max bytes of a file, for failure messages. */
static void file_tail(const char *path, char *out, size_t max)
{
    size_t len;
    char *s = pth_read_file(path, &len);
    if (s == NULL) {
        snprintf(out, max, "(no %s)", path);
        return;
    }
    size_t keep = len < max - 1 ? len : max - 1;
    memcpy(out, s + len - keep, keep);
    out[keep] = '\0';
    free(s);
}

static void describe_failure(pth_t *h, const char *what, int code, char *msg, size_t msglen)
{
    char err[1200], elog[1200];
    file_tail(h->err_path, err, sizeof(err));
    file_tail(h->error_log, elog, sizeof(elog));
    snprintf(msg, msglen, "portico %s (exit %d) on port %d\n--- stderr:\n%s\n--- error.log:\n%s",
             what, code, h->port, err, elog);
}

static bool failed_on_port_in_use(pth_t *h)
{
    char err[4096], elog[4096];
    file_tail(h->err_path, err, sizeof(err));
    file_tail(h->error_log, elog, sizeof(elog));
    return strstr(err, "in use") || strstr(elog, "in use") || strstr(err, "EADDRINUSE");
}

/* Whether the last PidFile line of the written config names h->pid_file: portico writes
 * it once every Listen is bound, so then it is the sign that all are (a suite's second
 * Listen, opened after the harness's own, may still be unbound when that one accepts). */
static bool config_names_pid_file(pth_t *h)
{
    size_t len;
    char *conf = pth_read_file(h->conf, &len);
    if (conf == NULL)
        return false;
    bool names = false;
    for (char *line = conf; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line += strspn(line, " \t");
        if (strncmp(line, "PidFile", 7) == 0 && (line[7] == ' ' || line[7] == '\t')) {
            char *arg = line + 7 + strspn(line + 7, " \t\"");
            size_t n = strcspn(arg, " \t\"\r");
            names = n == strlen(h->pid_file) && strncmp(arg, h->pid_file, n) == 0;
        }
        line = next;
    }
    free(conf);
    return names;
}

static bool pid_file_holds(pth_t *h)
{
    size_t len;
    char *s = pth_read_file(h->pid_file, &len);
    bool holds = s != NULL && atol(s) == (long)h->pid;
    free(s);
    return holds;
}

/* One spawn and readiness wait: 0 ready, 1 exited on EADDRINUSE, -1 other failure. */
static int start_once(pth_t *h, const char *const *extra, char *msg, size_t msglen)
{
    char *argv[40];
    int n = 0;
    argv[n++] = (char *)pth_bin();
    argv[n++] = "-f";
    argv[n++] = h->conf;
    for (; extra && *extra && n < 38; extra++)
        argv[n++] = (char *)*extra;
    argv[n] = NULL;
    bool by_pid_file = config_names_pid_file(h);
    h->pid = spawn_binary(h->out_path, h->err_path, argv);
    int64_t end = pth_now_ms() + PTH_START_DEADLINE_MS;
    while (pth_now_ms() < end) {
        int st;
        if (waitpid(h->pid, &st, WNOHANG) == h->pid) {
            h->pid = 0;
            int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            if (failed_on_port_in_use(h))
                return 1;
            describe_failure(h, "exited before it was ready", code, msg, msglen);
            return -1;
        }
        /* Ours first: a connect to another process's listener that never accepts (the
         * taken port of test_harness) blocks for minutes once its backlog is full, which a
         * server slow to exit on EADDRINUSE (under TSan) let happen. */
        if (listener_is_ours(h->pid, h->port) && port_accepts(h->port) &&
            (!by_pid_file || pid_file_holds(h)))
            return 0;
        pth_sleep_ms(20);
    }
    describe_failure(h, "not ready within the deadline", -1, msg, msglen);
    pth_stop_nocheck(h);
    return -1;
}

int pth_try_start(pth_t *h, const char *const *extra, char *msg, size_t msglen)
{
    pth_assert_msg(h->pid == 0, "server already running");
    pth_assert_msg(h->conf_body != NULL, "pth_start before pth_config");
    for (int i = 0; i < START_RETRIES; i++) {
        int rc = start_once(h, extra, msg, msglen);
        if (rc <= 0)
            return rc;
        h->port = pth_free_port();
        write_config_file(h);
    }
    snprintf(msg, msglen, "portico: port in use %d times in a row", START_RETRIES);
    return -1;
}

void pth_start_args(pth_t *h, const char *const *extra)
{
    char msg[3000];
    if (pth_try_start(h, extra, msg, sizeof(msg)) != 0)
        ck_abort_msg("%s", msg);
}

void pth_start(pth_t *h)
{
    pth_start_args(h, NULL);
}

void pth_start_preloaded(pth_t *h, const char *shim)
{
    const char *dir = getenv("PORTICO_TEST_MODULE_DIR");
    ck_assert_msg(dir != NULL, "PORTICO_TEST_MODULE_DIR is not set");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.so", dir, shim);
    ck_assert_msg(access(path, R_OK) == 0, "%s is not built", path);
    const char *asan = getenv("ASAN_OPTIONS");
    if (!asan || !strstr(asan, "verify_asan_link_order=0")) {
        char opts[1024];
        snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", asan ? asan : "",
                 asan && *asan ? ":" : "");
        setenv("ASAN_OPTIONS", opts, 1);
    }
    setenv("LD_PRELOAD", path, 1);
    char msg[3000];
    int rc = pth_try_start(h, NULL, msg, sizeof(msg));
    unsetenv("LD_PRELOAD");
    if (rc != 0)
        ck_abort_msg("%s", msg);
}

bool pth_running(pth_t *h)
{
    if (h->pid <= 0)
        return false;
    int st;
    if (waitpid(h->pid, &st, WNOHANG) == h->pid) {
        h->pid = 0;
        h->died = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return false;
    }
    return true;
}

int pth_wait_exit(pth_t *h, int ms)
{
    if (h->pid <= 0)
        return -1;
    int64_t end = pth_now_ms() + ms;
    do {
        int st;
        if (waitpid(h->pid, &st, WNOHANG) == h->pid) {
            h->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        pth_sleep_ms(10);
    } while (pth_now_ms() < end);
    return -1;
}

int pth_stop_nocheck(pth_t *h)
{
    if (h == NULL || h->pid <= 0)
        return -1;
    pid_t pid = h->pid;
    kill(pid, SIGTERM);
    int code = reap_with_deadline(pid, PTH_STOP_DEADLINE_MS);
    h->pid = 0;
    return code;
}

/* Stops a running server (or takes the code of one pth_running found gone) and aborts
 * unless it exited with h->expect_exit. */
static int stop_checked(pth_t *h)
{
    bool was_running = h->pid > 0;
    int code = was_running ? pth_stop_nocheck(h) : h->died;
    if (was_running || h->died >= 0)
        pth_assert_msg(code == h->expect_exit, "the server exited with %d %s, want %d (128+n: "
                       "signal n: 139 a segfault, 137 killed at the stop deadline)", code,
                       was_running ? "at stop" : "before the stop", h->expect_exit);
    h->died = -1;
    return code;
}

int pth_stop(pth_t *h)
{
    int code = stop_checked(h);
    pth_check_error_log(h);
    pth_check_stderr(h);
    return code;
}

void pth_expect_exit(pth_t *h, int code)
{
    h->expect_exit = code;
}

void pth_check_stderr(pth_t *h)
{
    static const char *const reports[] = {"AddressSanitizer", "LeakSanitizer",
                                          "runtime error:", "ThreadSanitizer"};
    char *err = pth_read_file(h->err_path, NULL);
    for (size_t i = 0; err && i < sizeof(reports) / sizeof(reports[0]); i++) {
        const char *at = strstr(err, reports[i]);
        if (at) {
            char excerpt[1500];
            snprintf(excerpt, sizeof(excerpt), "%s", at);
            free(err);
            ck_abort_msg("sanitizer report in server stderr: %s", excerpt);
        }
    }
    free(err);
}

/* ---- MPMs --------------------------------------------------------------------------- */

const char *pth_mpm(void)
{
    const char *m = getenv("PORTICO_TEST_MPM");
    return m && *m ? m : "event";
}

bool pth_mpm_in(const char *mpms)
{
    const char *m = pth_mpm();
    size_t n = strlen(m);
    for (const char *p = mpms; (p = strstr(p, m)) != NULL; p += n)
        if ((p == mpms || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return true;
    return false;
}

/* ---- Error log ----------------------------------------------------------------------- */

void pth_expect_error(pth_t *h, const char *regex)
{
    pth_assert(h->nexpect < PTH_MAX_EXPECT);
    regex_t *re = malloc(sizeof(*re));
    pth_assert(re != NULL);
    pth_assert_msg(regcomp(re, regex, REG_EXTENDED | REG_NOSUB) == 0, "bad regex %s", regex);
    h->expect[h->nexpect++] = re;
}

void pth_check_error_log(pth_t *h)
{
    regex_t severe;
    pth_assert(regcomp(&severe, "\\[[A-Za-z0-9_]*:(error|crit|alert|emerg)\\]",
                       REG_EXTENDED | REG_NOSUB) == 0);
    char *log = pth_read_file(h->error_log, NULL);
    char bad[1024] = "";
    for (char *line = log, *nl; line && *line && !*bad; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (regexec(&severe, line, 0, NULL, 0) != 0)
            continue;
        bool expected = false;
        for (int i = 0; i < h->nexpect && !expected; i++)
            expected = regexec(h->expect[i], line, 0, NULL, 0) == 0;
        if (!expected)
            snprintf(bad, sizeof(bad), "%s", line);
    }
    regfree(&severe);
    free(log);
    pth_assert_msg(!*bad, "unexpected error-log line: %s", bad);
}

/* ---- Running the binary -------------------------------------------------------------- */

void pth_run(pth_t *h, int ms, pth_run_t *out, const char *arg, ...)
{
    char *argv[40];
    int n = 0;
    argv[n++] = (char *)pth_bin();
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a != NULL && n < 39; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    const char *o = pth_path(h, "run.stdout"), *e = pth_path(h, "run.stderr");
    pid_t pid = spawn_binary(o, e, argv);
    int64_t end = pth_now_ms() + ms;
    out->code = -1;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            out->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
        if (pth_now_ms() >= end) {
            pth_kill_descendants(pid);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            break;
        }
        pth_sleep_ms(10);
    }
    out->out = pth_read_file(o, NULL);
    out->err = pth_read_file(e, NULL);
    if (out->out == NULL)
        out->out = strdup("");
    if (out->err == NULL)
        out->err = strdup("");
}

void pth_run_free(pth_run_t *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

void pth_config_test(pth_t *h, int code, const char *needle)
{
    pth_run_t r;
    pth_run(h, PTH_START_DEADLINE_MS, &r, "-t", "-f", h->conf, NULL);
    pth_assert_msg(r.code == code, "portico -t: exit %d, want %d: %s%s\n(config: %s)", r.code,
                   code, r.out, r.err, h->conf_body ? h->conf_body : "");
    pth_assert_msg(strstr(r.out, needle) || strstr(r.err, needle),
                   "portico -t: want '%s' in: %s%s\n(config: %s)", needle, r.out, r.err,
                   h->conf_body ? h->conf_body : "");
    pth_run_free(&r);
}

long pth_raise_nofile(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    rlim_t target = (rlim_t)want;
    if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
        target = rl.rlim_max;
    if (rl.rlim_cur < target) {
        rl.rlim_cur = target;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (long)rl.rlim_cur;
}

int pth_children(pid_t parent, pid_t *out, int max)
{
    int n = 0;
    DIR *d = opendir("/proc");
    pth_assert(d != NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        long p = atol(e->d_name);
        if (p <= 0)
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%ld/stat", p);
        char *st = pth_read_file(path, NULL);
        char *rp = st ? strrchr(st, ')') : NULL;
        char state = 0;
        int ppid = 0;
        if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == (int)parent &&
            state != 'Z')
            out[n++] = (pid_t)p;
        free(st);
    }
    closedir(d);
    return n;
}

long pth_children_cpu_ms(pid_t parent, bool with_system)
{
    pid_t kids[64];
    int n = pth_children(parent, kids, 64);
    long ticks = 0;
    for (int i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)kids[i]);
        char *st = pth_read_file(path, NULL);
        char *rp = st ? strrchr(st, ')') : NULL;
        unsigned long ut = 0, sys = 0;
        /* utime is field 14, stime 15: after the state (3) and ten more */
        if (rp &&
            sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &sys) == 2)
            ticks += (long)(ut + (with_system ? sys : 0));
        free(st);
    }
    return ticks * 1000 / sysconf(_SC_CLK_TCK);
}
