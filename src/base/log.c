/* The error log (one process-wide file, re-openable while other threads log) and the access
 * log sinks: per-path bounded buffers written out without ever blocking a worker for long.
 * What a configuration opens is conf/logsinks.c; the lines are accesslog.c's. */
#include "log.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ELOG_LINE_MAX 8192          /* one error log line, bytes */
#define SINK_BUF_SIZE (64 * 1024)   /* buffered access log bytes per sink */
#define SINK_POLL_MS 100            /* longest wait for a slow reader per flush */
#define SINK_BACKOFF_MS 1000        /* after a timed-out wait, stop waiting for this long */
#define DROP_REPORT_MS 1000         /* at most one "lines dropped" message per this */
#define PIPED_EOF_WAIT_MS 1000      /* a piped logger's time to finish after its EOF */
#define PIPED_TERM_WAIT_MS 2000     /* then after SIGTERM, before SIGKILL */
#define PIPED_ARGV_MAX 64           /* words of a "|program args" log target */
#define PIPED_RESTART_MS 1000       /* a program that keeps dying is started once a second */

/* ---- Piped logs ----------------------------------------------------------------------- */

/* A "|program" log target, as Apache's piped logs: the process that opened it (the parent)
 * owns the program and both ends of its pipe. Holding the read end keeps the pipe alive
 * when the program dies, so writers (every child holds the write end) never see EPIPE, and
 * a replacement started on the same read end carries on where it stopped. */
typedef struct {
    char *cmd;         /* after the '|' ("$" first: run by /bin/sh -c) */
    int rd;            /* the program's stdin; -1 when not piped */
    pid_t pid;         /* the program; 0 when not running */
    pid_t owner;       /* the process that started it: the only one that restarts or stops it */
    int64_t started_ms; /* when it was last started */
    int status;         /* how the last one ended, for the message of a delayed restart */
} piped_t;

/* Splits cmd into words (quotes group, as Apache's apr_tokenize_to_argv); argv has room for
 * PIPED_ARGV_MAX + 1. Returns the count, or -1 when there are too many. */
static int piped_words(char *cmd, char **argv)
{
    int n = 0;
    char *p = cmd;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (n == PIPED_ARGV_MAX)
            return -1;
        char q = (*p == '"' || *p == '\'') ? *p++ : 0;
        argv[n++] = p;
        char *out = p;
        while (*p && (q ? *p != q : (*p != ' ' && *p != '\t'))) {
            if (*p == '\\' && p[1])
                p++;
            *out++ = *p++;
        }
        if (*p)
            p++;
        *out = '\0';
    }
    argv[n] = NULL;
    return n;
}

/* In the forked child: stdin from the pipe, the signals the server blocks and ignores back to
 * their defaults (an exec keeps both), then the program. */
static void piped_exec(const char *cmd, int rd)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (rd != STDIN_FILENO && dup2(rd, STDIN_FILENO) < 0)
        _exit(127);
    if (cmd[0] == '$') {
        execl("/bin/sh", "sh", "-c", cmd + 1, (char *)NULL);
        _exit(127);
    }
    char *copy = strdup(cmd), *argv[PIPED_ARGV_MAX + 1];
    if (copy && piped_words(copy, argv) > 0)
        execv(argv[0], argv);
    _exit(127);
}

static int piped_start(piped_t *pl)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0)
        piped_exec(pl->cmd, pl->rd);
    pl->pid = pid;
    pl->owner = getpid();
    pl->started_ms = pt_now_ms();
    return 0;
}

/* Starts cmd on a new pipe; *wr gets the write end. 0 or -errno. */
static int piped_open(piped_t *pl, const char *cmd, int *wr)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    pl->cmd = strdup(cmd);
    pl->rd = fds[0];
    int rc = pl->cmd ? piped_start(pl) : -ENOMEM;
    if (rc < 0) {
        close(fds[0]);
        close(fds[1]);
        free(pl->cmd);
        *pl = (piped_t){.rd = -1};
        return rc;
    }
    *wr = fds[1];
    return 0;
}

static bool piped_wait(pid_t pid, int ms)
{
    int64_t end = pt_now_ms() + ms;
    do {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return true;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    } while (pt_now_ms() < end);
    return false;
}

/* After the write end is closed: the program reads to EOF and exits; one that does not is
 * stopped, as Apache's piped logs (SIGTERM, then SIGKILL). Only its owner waits for it. */
static void piped_close(piped_t *pl)
{
    if (pl->rd < 0)
        return;
    close(pl->rd);
    if (pl->pid > 0 && pl->owner == getpid() && !piped_wait(pl->pid, PIPED_EOF_WAIT_MS)) {
        kill(pl->pid, SIGTERM);
        if (!piped_wait(pl->pid, PIPED_TERM_WAIT_MS)) {
            kill(pl->pid, SIGKILL);
            piped_wait(pl->pid, PIPED_TERM_WAIT_MS);
        }
    }
    free(pl->cmd);
    *pl = (piped_t){.rd = -1};
}

/* ---- Error log ------------------------------------------------------------------------ */

/* Loggers hold the lock shared while they write; a reopen holds it exclusively, so no write
 * ever goes to a descriptor that is being closed. */
static pthread_rwlock_t elog_lock = PTHREAD_RWLOCK_INITIALIZER;
static int elog_fd = STDERR_FILENO;
static bool elog_owned;
static piped_t elog_pipe = {.rd = -1}; /* ErrorLog "|program" (written under elog_lock) */
static atomic_int elog_level = PT_LOG_WARN;

static const char *const LEVEL_NAMES[] = {"emerg", "alert", "crit",  "error", "warn",
                                          "notice", "info", "debug", "trace1"};

static int std_fd(const char *path)
{
    if (strcmp(path, "/dev/stderr") == 0)
        return STDERR_FILENO;
    if (strcmp(path, "/dev/stdout") == 0)
        return STDOUT_FILENO;
    return -1;
}

int pt_log_open_error(const char *path, int level, char *err, size_t errlen)
{
    if (!path)
        path = "/dev/stderr";
    if (path[0] == '|' && elog_pipe.cmd && strcmp(elog_pipe.cmd, path + 1) == 0) {
        pt_log_set_level(level); /* a restart with the same program keeps it running */
        return 0;
    }
    int fd = std_fd(path);
    bool owned = fd < 0;
    piped_t pl = {.rd = -1};
    if (path[0] == '|') {
        int rc = piped_open(&pl, path + 1, &fd);
        if (rc < 0) {
            snprintf(err, errlen, "cannot start the error log program %s: %s", path + 1,
                     strerror(-rc));
            return rc;
        }
    } else if (owned) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            int e = errno;
            snprintf(err, errlen, "cannot open error log %s: %s", path, strerror(e));
            return -e;
        }
    }
    pthread_rwlock_wrlock(&elog_lock);
    int old = elog_fd;
    bool old_owned = elog_owned;
    piped_t old_pipe = elog_pipe;
    elog_fd = fd;
    elog_owned = owned;
    elog_pipe = pl;
    pthread_rwlock_unlock(&elog_lock);
    if (old_owned && old != fd)
        close(old);
    piped_close(&old_pipe);
    pt_log_set_level(level);
    return 0;
}

void pt_log_set_level(int level)
{
    if (level < PT_LOG_EMERG)
        level = PT_LOG_EMERG;
    if (level > PT_LOG_TRACE1)
        level = PT_LOG_TRACE1;
    atomic_store(&elog_level, level);
}

int pt_log_error_fd(void)
{
    return elog_fd;
}

int pt_log_level(void)
{
    return atomic_load(&elog_level);
}

int pt_log_level_parse(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < PT_ARRAY_LEN(LEVEL_NAMES); i++)
        if (strcasecmp(name, LEVEL_NAMES[i]) == 0)
            return (int)i;
    if (strncasecmp(name, "trace", 5) == 0 && name[5] >= '1' && name[5] <= '8' && !name[6])
        return PT_LOG_TRACE1;
    return -1;
}

/* Control bytes become \xNN so that a client's bytes inside a message cannot start a forged
 * line or hide the real one. */
static size_t sanitize(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (; *s && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        } else {
            out[n++] = (char)c;
        }
    }
    return n;
}

static size_t line_prefix(char *out, size_t cap, const char *module, int level,
                          const char *client)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    int n = snprintf(out, cap,
                     "[%s %s %02d %02d:%02d:%02d.%06ld %04d] [%s:%s] [pid %ld:tid %ld] ",
                     days[tm.tm_wday], months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000, tm.tm_year + 1900, module, LEVEL_NAMES[level],
                     (long)getpid(), (long)syscall(SYS_gettid));
    size_t len = n > 0 ? PT_MIN((size_t)n, cap - 1) : 0;
    if (client) {
        len += (size_t)snprintf(out + len, cap - len, "[client ");
        len += sanitize(out + len, cap - len, client);
        len += (size_t)snprintf(out + len, cap - len, "] ");
    }
    return len;
}

static void elog_write(const char *line, size_t n)
{
    pthread_rwlock_rdlock(&elog_lock);
    while (n > 0) {
        ssize_t w = write(elog_fd, line, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        line += w;
        n -= (size_t)w;
    }
    pthread_rwlock_unlock(&elog_lock);
}

static void elog_v(const char *module, int level, const char *client, const char *fmt,
                   va_list ap)
{
    if (level > pt_log_level())
        return;
    if (level < PT_LOG_EMERG)
        level = PT_LOG_EMERG;
    if (level > PT_LOG_TRACE1)
        level = PT_LOG_TRACE1;
    char msg[ELOG_LINE_MAX], line[ELOG_LINE_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = line_prefix(line, sizeof(line) - 1, module ? module : "core", level, client);
    n += sanitize(line + n, sizeof(line) - 1 - n, msg);
    line[n++] = '\n';
    elog_write(line, n);
}

void pt_log_error(int level, const char *client, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    elog_v("core", level, client, fmt, ap);
    va_end(ap);
}

void pt_log_verror(int level, const char *client, const char *fmt, va_list ap)
{
    elog_v("core", level, client, fmt, ap);
}

void pt_log_merror(const char *module, int level, const char *client, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    elog_v(module, level, client, fmt, ap);
    va_end(ap);
}

void pt_log_mverror(const char *module, int level, const char *client, const char *fmt,
                    va_list ap)
{
    elog_v(module, level, client, fmt, ap);
}

/* ---- Access log sinks ----------------------------------------------------------------- */

struct pt_logsink {
    char *path;
    piped_t pipe;               /* "|program": its process; rd -1 for files */
    int fd;
    bool owned;                 /* false for fds 1 and 2, which the parent shares */
    bool is_socket;
    bool is_pipe;               /* pipe, FIFO or terminal: written in PIPE_BUF pieces */
    int refs;                   /* customlogs pointing here, across generations */
    pthread_mutex_t mu;
    size_t len;
    int64_t backoff_until_ms;   /* reader seen stuck: do not wait for it before this */
    uint64_t dropped, dropped_reported;
    int64_t last_report_ms;
    struct pt_logsink *next;
    char buf[SINK_BUF_SIZE];
};

/* The one process-wide list of open sinks, so that the MPM can flush them all. */
static pthread_mutex_t sinks_mu = PTHREAD_MUTEX_INITIALIZER;
static pt_logsink_t *sinks;

/* How much of p[0..n) to write at once to a pipe: at most PIPE_BUF bytes, which fit in a pipe
 * that poll() calls writable (so the write does not block on a descriptor whose O_NONBLOCK
 * flag we must leave alone) and are written atomically, ending at a line end when one is in
 * reach so that lines from several processes sharing the pipe do not interleave. */
static size_t pipe_piece(const char *p, size_t n)
{
    if (n <= PIPE_BUF)
        return n;
    for (size_t i = PIPE_BUF; i > 0; i--)
        if (p[i - 1] == '\n')
            return i;
    return PIPE_BUF;
}

/* Writes one piece without blocking for longer than the poll bound; -1 when the reader does
 * not take it. */
static ssize_t write_some(pt_logsink_t *s, const char *p, size_t n, int64_t now)
{
    struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
    int wait = now < s->backoff_until_ms ? 0 : SINK_POLL_MS;
    int rc;
    do
        rc = poll(&pfd, 1, wait);
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        s->backoff_until_ms = now + SINK_BACKOFF_MS;
        return -1;
    }
    if (rc < 0 || (pfd.revents & (POLLERR | POLLNVAL)))
        return -1;
    if (s->is_socket)
        return send(s->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    return write(s->fd, p, s->is_pipe ? pipe_piece(p, n) : n);
}

/* Writes out as much of the buffer as the reader takes; keeps the rest. Called locked. */
static void sink_flush_locked(pt_logsink_t *s)
{
    size_t off = 0;
    int64_t now = pt_now_ms();
    while (off < s->len) {
        ssize_t w = write_some(s, s->buf + off, s->len - off, now);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (off > 0) {
        memmove(s->buf, s->buf + off, s->len - off);
        s->len -= off;
    }
}

/* Called unlocked: the message goes to the error log, which may be this very file. */
static void sink_report_drops(pt_logsink_t *s, bool force)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->dropped - s->dropped_reported;
    int64_t now = pt_now_ms();
    bool report = n > 0 && (force || now - s->last_report_ms >= DROP_REPORT_MS);
    if (report) {
        s->dropped_reported = s->dropped;
        s->last_report_ms = now;
    }
    pthread_mutex_unlock(&s->mu);
    if (report)
        pt_log_error(PT_LOG_WARN, NULL, "access log %s: %llu lines dropped (reader too slow)",
                     s->path, (unsigned long long)n);
}

void pt_logsink_append(pt_logsink_t *s, const char *line, size_t n)
{
    bool unreported;
    pthread_mutex_lock(&s->mu);
    if (s->len + n > sizeof(s->buf))
        sink_flush_locked(s);
    if (s->len + n > sizeof(s->buf)) {
        s->dropped++;
    } else {
        memcpy(s->buf + s->len, line, n);
        s->len += n;
        if (s->len > sizeof(s->buf) / 2)
            sink_flush_locked(s);
    }
    unreported = s->dropped != s->dropped_reported;
    pthread_mutex_unlock(&s->mu);
    if (unreported)
        sink_report_drops(s, false);
}

static pt_logsink_t *sink_find(const char *path)
{
    for (pt_logsink_t *s = sinks; s; s = s->next)
        if (strcmp(s->path, path) == 0)
            return s;
    return NULL;
}

/* A new sink for path, or NULL with -errno in *rc. */
static pt_logsink_t *sink_new(const char *path, int *rc)
{
    int fd = std_fd(path);
    bool owned = fd < 0;
    piped_t pl = {.rd = -1};
    if (path[0] == '|') {
        *rc = piped_open(&pl, path + 1, &fd);
        if (*rc < 0)
            return NULL;
    } else if (owned) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            *rc = errno > 0 ? -errno : -EIO;
            return NULL;
        }
    }
    pt_logsink_t *s = calloc(1, sizeof(*s));
    char *copy = strdup(path);
    if (!s || !copy) {
        free(s);
        free(copy);
        if (owned)
            close(fd);
        piped_close(&pl);
        *rc = -ENOMEM;
        return NULL;
    }
    struct stat st;
    s->path = copy;
    s->pipe = pl;
    s->fd = fd;
    s->owned = owned;
    if (fstat(fd, &st) == 0) {
        s->is_socket = S_ISSOCK(st.st_mode);
        s->is_pipe = S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode);
    }
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

static void sink_free(pt_logsink_t *s)
{
    pthread_mutex_lock(&s->mu);
    sink_flush_locked(s);
    for (size_t i = 0; i < s->len; i++) /* the tail the reader never took */
        s->dropped += s->buf[i] == '\n';
    pthread_mutex_unlock(&s->mu);
    sink_report_drops(s, true);
    if (s->owned)
        close(s->fd);
    piped_close(&s->pipe);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

pt_logsink_t *pt_logsink_open(const char *path, int *rc)
{
    pthread_mutex_lock(&sinks_mu);
    pt_logsink_t *s = sink_find(path);
    if (!s) {
        s = sink_new(path, rc);
        if (s) {
            s->next = sinks;
            sinks = s;
        }
    }
    if (s)
        s->refs++;
    pthread_mutex_unlock(&sinks_mu);
    return s;
}

void pt_logsink_release(pt_logsink_t *s)
{
    pthread_mutex_lock(&sinks_mu);
    bool last = --s->refs == 0;
    if (last) {
        for (pt_logsink_t **pp = &sinks; *pp; pp = &(*pp)->next) {
            if (*pp == s) {
                *pp = s->next;
                break;
            }
        }
        sink_free(s);
    }
    pthread_mutex_unlock(&sinks_mu);
}

void pt_log_flush_all(void)
{
    pthread_mutex_lock(&sinks_mu);
    for (pt_logsink_t *s = sinks; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        sink_flush_locked(s);
        pthread_mutex_unlock(&s->mu);
        sink_report_drops(s, false);
    }
    pthread_mutex_unlock(&sinks_mu);
}

/* Starts a piped log program again (its pid is 0: reaped), at most once a second: one that
 * dies at once (a bad command) waits for the parent's next tick, and the error log gets one
 * line per restart, not a storm. */
static void piped_again(piped_t *pl, int64_t now)
{
    if (pl->rd < 0 || pl->pid != 0 || pl->owner != getpid() ||
        now - pl->started_ms < PIPED_RESTART_MS)
        return;
    int st = pl->status;
    int rc = piped_start(pl);
    pt_log_error(PT_LOG_ERR, NULL, "piped log program '%s' %s %d; %s", pl->cmd,
                 WIFSIGNALED(st) ? "died of signal" : "exited with status",
                 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
                 rc == 0 ? "started it again" : "could not start it again");
}

static bool piped_reaped(piped_t *pl, pid_t pid, int status)
{
    if (pl->rd < 0 || pl->pid != pid || pl->owner != getpid())
        return false;
    pl->pid = 0;
    pl->status = status;
    return true;
}

/* The error log's program, restarted outside elog_lock: the restart logs to that log. */
static void elog_piped_again(int64_t now)
{
    pthread_rwlock_rdlock(&elog_lock);
    piped_t copy = elog_pipe;
    pthread_rwlock_unlock(&elog_lock);
    piped_again(&copy, now);
    pthread_rwlock_wrlock(&elog_lock);
    if (elog_pipe.rd == copy.rd && elog_pipe.rd >= 0)
        elog_pipe.pid = copy.pid, elog_pipe.started_ms = copy.started_ms;
    pthread_rwlock_unlock(&elog_lock);
}

void pt_log_piped_tick(void)
{
    int64_t now = pt_now_ms();
    elog_piped_again(now);
    pthread_mutex_lock(&sinks_mu);
    for (pt_logsink_t *s = sinks; s; s = s->next)
        piped_again(&s->pipe, now);
    pthread_mutex_unlock(&sinks_mu);
}

bool pt_log_piped_exited(pid_t pid, int status)
{
    pthread_rwlock_wrlock(&elog_lock);
    bool found = piped_reaped(&elog_pipe, pid, status);
    pthread_rwlock_unlock(&elog_lock);
    pthread_mutex_lock(&sinks_mu);
    for (pt_logsink_t *s = sinks; s && !found; s = s->next)
        found = piped_reaped(&s->pipe, pid, status);
    pthread_mutex_unlock(&sinks_mu);
    if (found)
        pt_log_piped_tick();
    return found;
}
