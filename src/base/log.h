/* The error log (ErrorLog, LogLevel) and access logs (LogFormat, CustomLog).
 * The error log is process-wide: pt_log_error may be called from any thread. Access log
 * lines are rendered into the request arena and appended to a per-file bounded buffer that
 * a flush writes out; a slow or stuck reader (a full pipe on /dev/stdout) makes lines be
 * dropped and counted, never blocks a worker for long. */
#ifndef PT_LOG_H
#define PT_LOG_H

#include "arena.h"
#include "config.h"

struct pt_request;

/* ---- Error log --------------------------------------------------------------------- */
/* Opens (or re-opens) the error log at path ("/dev/stderr" when NULL) with this level.
 * Returns 0 or -errno with a message in err. Before any call, messages go to stderr. */
int pt_log_open_error(const char *path, int level, char *err, size_t errlen);
void pt_log_set_level(int level);
int pt_log_level(void);
/* "[Mon Nov 23 00:41:00.123456 2026] [core:error] [pid 12:tid 34] [client 1.2.3.4:5] msg" */
void pt_log_error(int level, const char *client, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with a request's client address and context. */
void pt_log_rerror(int level, const struct pt_request *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* LogLevel name ("warn", "debug", "trace1") to PT_LOG_*, -1 when unknown. */
int pt_log_level_parse(const char *name);

/* ---- Access log -------------------------------------------------------------------- */
/* Compiles an Apache LogFormat string, or a nickname: "common", "combined", "json" (one
 * JSON object per request, portico's own). Returns NULL with err set when malformed. */
pt_logformat_t *pt_logformat_compile(pt_arena_t *a, const char *fmt, char *err, size_t errlen);
/* Renders one line (with '\n') for a finished request into out[0..cap); returns its length
 * (truncated lines still end in '\n'). */
size_t pt_logformat_render(const pt_logformat_t *f, const struct pt_request *r, char *out,
                           size_t cap);

typedef struct pt_logsink pt_logsink_t;
/* Opens every CustomLog target of cfg (one sink per distinct path, shared by vhosts).
 * Returns 0, or -errno with "FILE:LINE: cannot open ..." in err. */
int pt_log_open_sinks(pt_config_t *cfg, char *err, size_t errlen);
/* Flushes and closes the sinks opened for cfg. */
void pt_log_close_sinks(pt_config_t *cfg);
/* Writes the access log lines for a finished request to its vhost's CustomLogs. */
void pt_log_access(const struct pt_request *r);
/* Writes out what is buffered (called by the MPM periodically and at exit). */
void pt_log_flush_all(void);

#endif
