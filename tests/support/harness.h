/* Integration test harness: runs the real `portico` binary (env PORTICO_BIN) in a private
 * temp dir on a free loopback port, and drives it with raw sockets or libcurl. Every wait
 * has a deadline; every server started is stopped (and reaped) by the test or, failing that,
 * by an atexit handler, so no process outlives the test. Functions named *_must / those
 * documented as "aborts" report failures through Check (ck_abort_msg), so they may only be
 * called from inside a Check test or fixture. */
#ifndef PTH_HARNESS_H
#define PTH_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PTH_START_DEADLINE_MS 10000 /* readiness wait */
#define PTH_STOP_DEADLINE_MS 10000  /* SIGTERM, then SIGKILL */
#define PTH_IO_DEADLINE_MS 5000     /* default for connect/send/recv helpers */
#define PTH_CURL_TIMEOUT_S 10
#define PTH_MAX_EXPECT 32
#define PTH_MAX_HEADERS 128

/* One server under test and its files. Paths are absolute. */
typedef struct pth {
    char dir[256];        /* mkdtemp: /tmp/portico-it.XXXXXX/s.XXXXXX (per test process) */
    char docroot[300];    /* DIR/htdocs (created) */
    char conf[300];       /* DIR/portico.conf */
    char error_log[300];  /* DIR/error.log */
    char access_log[300]; /* DIR/access.log */
    char pid_file[300];   /* DIR/portico.pid */
    char out_path[300];   /* server stdout: DIR/stdout.txt */
    char err_path[300];   /* server stderr: DIR/stderr.txt */
    int port;             /* free loopback port chosen at pth_new (may change on retry) */
    pid_t pid;            /* running server, 0 when none */
    char *conf_body;      /* last config body (placeholders kept) for rewrites on retry */
    bool conf_prelude;    /* whether conf_body is appended to the standard prelude */
    void *expect[PTH_MAX_EXPECT]; /* compiled expected error-log patterns (regex_t *) */
    int nexpect;
    int expect_exit;      /* the exit code pth_stop asserts (0 unless pth_expect_exit) */
    int died;             /* exit code when pth_running found the server gone, else -1 */
} pth_t;

/* ck_assert and ck_assert_msg, except that a check that passes sends Check nothing. A
 * passing ck_assert marks a point, a message the runner reads back after the test in time
 * quadratic in their number: polling loops of ck_asserts made suites take minutes. For
 * loops and helpers (the harness uses these throughout). */
#define pth_assert_msg(expr, ...)                                                          \
    do {                                                                                   \
        if (!(expr))                                                                       \
            ck_abort_msg(__VA_ARGS__);                                                     \
    } while (0)
#define pth_assert(expr) pth_assert_msg(expr, "Assertion '%s' failed", #expr)

/* ---- Lifetime ------------------------------------------------------------------------ */
/* Creates the temp dir with an empty docroot and picks a free port. Aborts on failure. */
pth_t *pth_new(void);
/* Stops the server if running and aborts unless it exited with h->expect_exit, as pth_stop
 * does but without the error-log check (pth_stop_nocheck first to skip this too); removes
 * the temp dir (kept when env PORTICO_TEST_KEEP is set) and frees h. NULL is fine. */
void pth_free(pth_t *h);
/* "DIR/rel" into a buffer owned by h that is valid until the next call (ring of 8). */
const char *pth_path(pth_t *h, const char *rel);
/* The binary under test: $PORTICO_BIN, or aborts when unset. */
const char *pth_bin(void);

/* ---- Configuration ------------------------------------------------------------------- */
/* Writes DIR/portico.conf: the standard prelude
 *   Listen 127.0.0.1:@PORT@ / ServerName localhost / ErrorLog @DIR@/error.log /
 *   PidFile @DIR@/portico.pid / LogLevel info / CustomLog @DIR@/access.log common /
 *   DocumentRoot @DOCROOT@ / <Directory @DOCROOT@> Require all granted </Directory>
 * followed by the printf-formatted body. In both, the placeholders @PORT@, @DIR@ and
 * @DOCROOT@ are replaced when the file is written (again on a port retry). Aborts on I/O
 * error. */
void pth_config(pth_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same without the prelude: the file is exactly the body (placeholders replaced). */
void pth_config_raw(pth_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes an arbitrary file DIR/rel (placeholders replaced, parent directories created),
 * e.g. an Include target; returns its path (pth_path buffer). */
const char *pth_write_conf_file(pth_t *h, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- Files in the docroot ------------------------------------------------------------ */
/* Writes DOCROOT/rel (parent directories created) with exactly len bytes. Aborts on error. */
void pth_write_file(pth_t *h, const char *rel, const void *data, size_t len);
void pth_write_filef(pth_t *h, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, under DIR instead of the docroot (for Alias targets and the like). */
void pth_write_dir_file(pth_t *h, const char *rel, const void *data, size_t len);
/* Creates DOCROOT/rel (and parents). */
void pth_mkdir(pth_t *h, const char *rel);
/* Sets DOCROOT/rel's mtime to t (its atime is left alone). Aborts on error. */
void pth_set_mtime(pth_t *h, const char *rel, time_t t);

/* ---- Start and stop ------------------------------------------------------------------ */
/* Spawns `portico -f CONF [extra...]` (extra NULL-terminated, may be NULL) with stdout and
 * stderr to DIR/stdout.txt and DIR/stderr.txt, and waits until the port accepts a
 * connection (deadline PTH_START_DEADLINE_MS). When the child exits first because the port
 * was taken (EADDRINUSE), picks another port, rewrites the config and retries (5 times).
 * Returns 0, or -1 with a message (exit status, stderr, error log tail) in msg. */
int pth_try_start(pth_t *h, const char *const *extra, char *msg, size_t msglen);
/* pth_try_start that aborts the test with the message on failure. */
void pth_start(pth_t *h);
void pth_start_args(pth_t *h, const char *const *extra);
/* pth_start with a test shim preloaded into the server: shim is a tests/preload library's
 * name ("slow_listen"), built into PORTICO_TEST_MODULE_DIR; the test fails when it is not
 * there. LD_PRELOAD is set for this start only (what the shim reads from the environment,
 * the caller sets), and an ASan server is told to accept a library ahead of its runtime. */
void pth_start_preloaded(pth_t *h, const char *shim);
/* SIGTERM, wait up to PTH_STOP_DEADLINE_MS, then SIGKILL (the server and its descendants);
 * always reaps. Returns the exit code (128+signal when killed by one, -1 if none running).
 * Aborts when that code is not h->expect_exit (0 unless pth_expect_exit), so a crash or a
 * hang at shutdown fails the test, and also when pth_running had found the server gone
 * (an exit nobody asked for). A server stopped before (pth_stop, pth_wait_exit) or never
 * started is not checked again. Then checks the error log (pth_check_error_log) and the
 * server's stderr (pth_check_stderr) for sanitizer reports. */
int pth_stop(pth_t *h);
/* The exit code pth_stop must see instead of 0. */
void pth_expect_exit(pth_t *h, int code);
/* Aborts when the server's stderr holds a sanitizer report (ASan, LSan, UBSan). */
void pth_check_stderr(pth_t *h);
/* Stop without the error-log and stderr checks. */
int pth_stop_nocheck(pth_t *h);
/* True while the spawned process has not exited (reaps it when it has, and pth_stop then
 * fails the test unless its code was the expected one). */
bool pth_running(pth_t *h);
/* Waits up to ms for the server to exit on its own; returns its exit code or -1. */
int pth_wait_exit(pth_t *h, int ms);
/* The live (not zombie) child processes of parent, from /proc; returns how many were
 * stored in out (at most max). */
int pth_children(pid_t parent, pid_t *out, int max);
/* CPU time (ms) used so far by parent's live children: user time, and system time too when
 * with_system (from /proc/PID/stat). */
long pth_children_cpu_ms(pid_t parent, bool with_system);

/* ---- MPMs --------------------------------------------------------------------------- */
/* The MPM this run of the suite is for: $PORTICO_TEST_MPM (ctest runs each suite once per
 * MPM that its "mpms:" marker names, see tests/CMakeLists.txt), or "event", the default. */
const char *pth_mpm(void);
/* True when this run's MPM is one of the space-separated names in mpms ("worker prefork"). */
bool pth_mpm_in(const char *mpms);
/* Registers a test only under the MPMs it applies to, so that a run never counts a test
 * it did not execute as passed. Use in place of tcase_add_test. */
#define pth_tcase_add_for(tc, mpms, test)                                                  \
    do {                                                                                   \
        if (pth_mpm_in(mpms))                                                              \
            tcase_add_test(tc, test);                                                      \
    } while (0)

/* ---- Error log ----------------------------------------------------------------------- */
/* Declares that error-log lines matching this POSIX extended regex are expected. */
void pth_expect_error(pth_t *h, const char *regex);
/* Aborts when the error log has a line at level error, crit, alert or emerg
 * ("[module:error]") that matches no expected pattern. */
void pth_check_error_log(pth_t *h);
/* Whole contents of a file (malloc'd, NUL-terminated; *len optional); NULL if missing. */
char *pth_read_file(const char *path, size_t *len);
/* Polls until file contains substring or ms elapse (logs are written asynchronously). */
bool pth_file_wait_contains(const char *path, const char *needle, int ms);

/* ---- Responses ----------------------------------------------------------------------- */
typedef struct {
    char *name;
    char *value;
} pth_header_t;

typedef struct {
    int version;          /* 10, 11 (raw) or as curl reports it */
    int status;
    char *reason;
    pth_header_t headers[PTH_MAX_HEADERS];
    size_t nheaders;
    char *body;           /* malloc'd, NUL-terminated, body_len bytes before the NUL */
    size_t body_len;
    bool framed_by_close; /* raw: no Content-Length/chunked, body read until EOF */
    char *rest;           /* pth_raw: what followed this response until the close or the
                           * deadline, NUL-terminated (NULL elsewhere) */
    size_t rest_len;
} pth_resp_t;

void pth_resp_free(pth_resp_t *r);
/* First header of that name (case-insensitive), NULL when absent. */
const char *pth_resp_header(const pth_resp_t *r, const char *name);
size_t pth_resp_header_count(const pth_resp_t *r, const char *name);

/* ---- Raw sockets --------------------------------------------------------------------- */
/* A client connection with a read buffer (bytes after one response stay for the next). */
typedef struct {
    int fd;
    char *buf;
    size_t len, cap;
    bool eof;             /* the peer closed (or reset) */
    bool reset;           /* ... by a reset (ECONNRESET), not a FIN */
} pth_conn_t;

/* Connects to 127.0.0.1:port within PTH_IO_DEADLINE_MS. Aborts on failure. */
pth_conn_t *pth_conn_open(pth_t *h);
pth_conn_t *pth_conn_open_port(int port);
void pth_conn_close(pth_conn_t *c);
/* Sends all bytes within PTH_IO_DEADLINE_MS. Returns 0 or -errno (EPIPE/ECONNRESET when the
 * server already closed, which some tests expect). */
int pth_conn_send(pth_conn_t *c, const void *data, size_t len);
int pth_conn_sendf(pth_conn_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads one response (interim 1xx responses are returned as responses of their own).
 * head_only: the request was HEAD (no body whatever the headers say). Returns 0, or
 * -ETIMEDOUT, or, when the peer closed before a whole response, -EPIPE for a close in order
 * (a FIN) and -ECONNRESET for a reset. */
int pth_conn_read_response(pth_conn_t *c, pth_resp_t *r, bool head_only, int timeout_ms);
/* Waits up to ms for the peer to close. True when it did (EOF or reset); any bytes that
 * arrive meanwhile are appended to the buffer (see extra). */
bool pth_conn_wait_closed(pth_conn_t *c, int ms);
/* Reads whatever arrives until the peer closes, max bytes are buffered, or ms elapse. */
void pth_conn_read_until(pth_conn_t *c, size_t max, int ms);
/* Bytes buffered and not consumed by a response read. */
size_t pth_conn_pending(const pth_conn_t *c);

/* One-shot: connect, send request, read until the peer closes or ms elapse, parse the first
 * response (body framed by its headers); the bytes after it are kept in r->rest, so that a
 * second response (to a smuggled request) is seen: pth_assert_one_response. *closed tells
 * whether the peer closed in time. Returns 0 or -errno like pth_conn_read_response. */
int pth_raw(pth_t *h, const void *req, size_t len, int ms, pth_resp_t *r, bool *closed);
/* Aborts when a pth_raw exchange received anything after its response. */
void pth_assert_one_response(const pth_resp_t *r, const char *what);
/* Parses one response at the start of buf; *used gets its length. Returns 0, -EAGAIN when
 * incomplete (eof=false), -EINVAL when malformed: strict, as a client that must not be
 * fooled (CRLF line ends only, no bare CR or LF, every head line a field, one valid
 * Content-Length and not with Transfer-Encoding, CRLF after each chunk). With eof, a
 * close-delimited body ends at len. */
int pth_parse_response(const char *buf, size_t len, bool head_only, bool eof, pth_resp_t *r,
                       size_t *used);

/* ---- libcurl ------------------------------------------------------------------------- */
/* Does METHOD http://127.0.0.1:PORT<path> with extra headers (NULL-terminated "Name: v"
 * strings, may be NULL) and an optional body; path is sent as is (no dot-segment removal).
 * Timeout PTH_CURL_TIMEOUT_S. No redirects followed. Returns 0 or the CURLcode. */
int pth_curl(pth_t *h, const char *method, const char *path, const char *const *headers,
             const void *body, size_t body_len, pth_resp_t *r);
/* GET that aborts when the transfer fails. */
void pth_get(pth_t *h, const char *path, const char *const *headers, pth_resp_t *r);
/* "Authorization: Basic base64(cred)" for cred "user:password", into out (at least
 * PTH_BASIC_AUTH_MAX bytes for a cred of up to 128). Returns out. */
#define PTH_BASIC_AUTH_MAX 200
const char *pth_basic_auth(char *out, size_t len, const char *cred);

/* ---- Running the binary -------------------------------------------------------------- */
typedef struct {
    int code;             /* exit code; 128+signal; -1 when killed at the deadline */
    char *out;            /* stdout, malloc'd, NUL-terminated */
    char *err;            /* stderr */
} pth_run_t;

/* Runs `portico arg...` (NULL-terminated) with stdout/stderr captured into files in h's
 * dir; kills it (SIGKILL) after ms. Aborts when it cannot be spawned. */
void pth_run(pth_t *h, int ms, pth_run_t *out, const char *arg, ...)
    __attribute__((sentinel));
void pth_run_free(pth_run_t *r);
/* Runs `portico -t -f CONF` on the config written last: aborts unless it exits with code
 * (0: accepted, 1: refused) and its stdout or stderr holds needle. */
void pth_config_test(pth_t *h, int code, const char *needle);

/* ---- Misc ---------------------------------------------------------------------------- */
int64_t pth_now_ms(void);
void pth_sleep_ms(int ms);
/* A free loopback TCP port (bind port 0, read, close). */
int pth_free_port(void);
/* Raises RLIMIT_NOFILE soft limit to min(want, hard). Returns the new soft limit. */
long pth_raise_nofile(long want);
/* Kills (SIGKILL) every descendant of pid found in /proc, deepest first. */
void pth_kill_descendants(pid_t pid);

#endif
