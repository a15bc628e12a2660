/* The error log (ErrorLog, LogLevel) and the sinks the access logs write to. This is the
 * bottom floor: the log knows no request and no configuration. The error log is
 * process-wide: pt_log_error may be called from any thread (a request's variant,
 * pt_log_rerror, is in request.h). A sink is one file that access log lines are appended to
 * through a bounded buffer that a flush writes out; a slow or stuck reader (a full pipe on
 * /dev/stdout) makes lines be dropped and counted, never blocks a worker for long. Which
 * sinks a configuration opens is conf's business (pt_log_open_sinks, config.h); what a line
 * says is the access log's (accesslog.c, logformat.c). */
#ifndef PT_LOG_H
#define PT_LOG_H

#include "common.h"

#include <stdarg.h>
#include <sys/types.h>

enum { PT_LOG_EMERG, PT_LOG_ALERT, PT_LOG_CRIT, PT_LOG_ERR, PT_LOG_WARN, PT_LOG_NOTICE,
       PT_LOG_INFO, PT_LOG_DEBUG, PT_LOG_TRACE1 };

/* ---- Error log --------------------------------------------------------------------- */
/* Opens (or re-opens) the error log at path ("/dev/stderr" when NULL) with this level.
 * Returns 0 or -errno with a message in err. Before any call, messages go to stderr. */
int pt_log_open_error(const char *path, int level, char *err, size_t errlen);
void pt_log_set_level(int level);
int pt_log_level(void);
/* "[Mon Nov 23 00:41:00.123456 2026] [core:error] [pid 12:tid 34] [client 1.2.3.4:5] msg"
 * client ("ip:port") may be NULL. */
void pt_log_error(int level, const char *client, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pt_log_verror(int level, const char *client, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* The same with the tag of the Apache module whose work the line is about ("proxy_http",
 * "proxy_balancer"), as httpd writes "[proxy_http:error]"; pt_log_error's is "core". module
 * must be a literal or outlive the call; NULL is "core". */
void pt_log_merror(const char *module, int level, const char *client, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void pt_log_mverror(const char *module, int level, const char *client, const char *fmt,
                    va_list ap) __attribute__((format(printf, 4, 0)));
/* The error log's descriptor, for a writer that may not take the log's lock (a handler of a
 * crash signal, modguard.c); lines written to it must be whole. */
int pt_log_error_fd(void);
/* LogLevel name ("warn", "debug", "trace1") to PT_LOG_*, -1 when unknown. */
int pt_log_level_parse(const char *name);

/* ---- Access log sinks -------------------------------------------------------------- */
typedef struct pt_logsink pt_logsink_t;
/* The sink for path, shared by everyone who opens the same path (counted): opened on first
 * use ("/dev/stdout" and "/dev/stderr" are the process's own descriptors). NULL with -errno
 * in *rc when the file cannot be opened. */
pt_logsink_t *pt_logsink_open(const char *path, int *rc);
/* Drops one reference; the last one flushes and closes the file. */
void pt_logsink_release(pt_logsink_t *s);
/* Appends one line (with its '\n'); dropped and counted when the reader is too slow. */
void pt_logsink_append(pt_logsink_t *s, const char *line, size_t n);
/* Writes out what is buffered (called by the MPM periodically and at exit). */
void pt_log_flush_all(void);

/* ---- Piped logs -------------------------------------------------------------------- */
/* A path "|program args" (ErrorLog, a sink) starts program with the log on its stdin, in
 * the process that opens it (the parent): "|$cmd" runs cmd through /bin/sh -c, "|cmd" and
 * "||cmd" run it directly (a full path, as Apache). The program lives as long as the log is
 * open; closing it gives the program EOF (then SIGTERM, then SIGKILL after a few seconds). */
/* For the parent's reaper: when pid was a piped log program of this process, starts it
 * again on the same pipe (logged as an error; at most once a second, the rest at the next
 * pt_log_piped_tick) and returns true. */
bool pt_log_piped_exited(pid_t pid, int status);
/* Starts again the piped log programs whose restart was put off (the parent's tick). */
void pt_log_piped_tick(void);

#endif
