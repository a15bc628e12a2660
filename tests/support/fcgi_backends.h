/* FastCGI test backends: a private php-fpm pool (php-fpm8.2, static children, unix socket
 * in a temp dir or TCP on loopback), and a libfcgi responder that can misbehave on demand.
 * Both run as child processes of the test, die with it (PR_SET_PDEATHSIG) and are stopped
 * by PID. */
#ifndef PTH_FCGI_BACKENDS_H
#define PTH_FCGI_BACKENDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PTH_FPM_START_DEADLINE_MS 10000

typedef struct {
    char dir[128];       /* temp dir: pool config, socket, logs */
    char sock[192];      /* DIR/fpm.sock (unix) */
    char conf[192];
    char log[192];       /* php-fpm's own log */
    int port;            /* TCP port, 0 for the unix socket */
    int children;
    pid_t pid;           /* master, 0 when stopped */
    pid_t owner;         /* process that started it (Check forks tests) */
} pth_fpm_t;

/* Whether php-fpm8.2 is installed (scripts/setup installs it; a suite without it fails). */
bool pth_fpm_available(void);
/* Writes the pool config and starts php-fpm; waits until the socket accepts. tcp: listen
 * on a free loopback port instead of the unix socket. Returns 0, or -1 with msg. */
int pth_fpm_start(pth_fpm_t *f, int children, bool tcp, char *msg, size_t msglen);
/* pth_fpm_start on the unix socket for a suite's unchecked fixture (outside any test): on
 * failure prints why and exits 1, so a machine without php-fpm fails the suite. */
void pth_fpm_start_or_exit(pth_fpm_t *f, int children);
/* pth_fpm_start inside a test: a pool that does not start fails the test with why. */
void pth_fpm_start_checked(pth_fpm_t *f, int children, bool tcp);
/* A suite's unix-socket pool of `children`, shared by the tests of the cases that name it:
 * defines `static pth_fpm_t fpm` and the fixture pair for
 * tcase_add_unchecked_fixture(tc, fpm_up, fpm_down). */
#define PTH_FPM_SUITE_POOL(children)                                                   \
    static pth_fpm_t fpm;                                                              \
    static void fpm_up(void)                                                           \
    {                                                                                  \
        pth_fpm_start_or_exit(&fpm, (children));                                       \
    }                                                                                  \
    static void fpm_down(void)                                                         \
    {                                                                                  \
        pth_fpm_free(&fpm);                                                            \
    }
/* Starts it again with the same config and address (after pth_fpm_stop). */
int pth_fpm_restart(pth_fpm_t *f, char *msg, size_t msglen);
/* SIGQUIT, then SIGKILL after a deadline; the master and its children; always reaps. */
void pth_fpm_stop(pth_fpm_t *f);
/* Stops it and removes its dir. */
void pth_fpm_free(pth_fpm_t *f);

/* The libfcgi responder on a unix socket. What it does depends on the request's
 * SCRIPT_NAME's last component; see fcgi_responder.c for the list. */
typedef struct {
    char sock[192];
    pid_t pid;
    pid_t owner;
} pth_fcgi_responder_t;

int pth_fcgi_responder_start(pth_fcgi_responder_t *r, const char *sock_path, char *msg,
                             size_t msglen);
void pth_fcgi_responder_stop(pth_fcgi_responder_t *r);

/* Connects to a unix socket until it accepts or ms pass. */
bool pth_unix_wait_ready(const char *path, int ms);

#endif
