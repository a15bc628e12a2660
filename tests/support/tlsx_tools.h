/* Tools for the TLS suites about sessions, stapling, scanners and real-world configs
 * (test_tls_resume.c, test_tls_stapling.c, test_testssl.c, test_tls_configs.c): the private
 * PKI of ca.sh made once per test process, shell commands (openssl, curl, testssl) run
 * with a deadline and their output captured, and long-running helpers (an `openssl ocsp`
 * responder) started and stopped by PID. */
#ifndef TLSX_TOOLS_H
#define TLSX_TOOLS_H

#include <stdbool.h>
#include <sys/types.h>

/* Makes ca.sh's PKI once per process (call from main, before the runner forks the tests)
 * in a temp dir removed at exit; returns the dir. Exits 1 when openssl fails. */
const char *tlsx_pki(void);
/* "PKI/name" (a ring of 8 buffers). */
const char *tlsx_file(const char *name);

/* Runs the shell command (printf-formatted) under `timeout` with stdin from /dev/null,
 * stdout and stderr captured together; returns the output (malloc'd, NUL-terminated) and
 * the exit status in *code when code is not NULL (124 when timed out). */
char *tlsx_sh(int timeout_s, int *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* tlsx_sh that fails the test (ck_abort) unless the command exits 0. */
char *tlsx_sh_ok(int timeout_s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Starts argv (NULL-terminated; argv[0] looked up in PATH) with stdout and stderr appended
 * to out_path; returns its PID. Aborts when it cannot be started. */
pid_t tlsx_spawn(const char *const *argv, const char *out_path);
/* SIGTERM, then SIGKILL after 3 s; always reaps. Nothing for pid <= 0. */
void tlsx_kill(pid_t pid);
/* Waits up to ms for 127.0.0.1:port to accept a connection. */
bool tlsx_wait_port(int port, int ms);

/* `openssl s_client -connect 127.0.0.1:PORT ARGS` sending one HTTP/1.0 GET for "/" and
 * reading until the server closes (so that TLS 1.3 tickets are read); output captured. */
char *tlsx_s_client(int port, const char *args);

#endif
