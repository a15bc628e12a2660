/* Debian's apache2 as the reference server: one foreground process (-X) on a free loopback
 * port with a generated httpd.conf, a private PidFile and ErrorLog, stopped by its PID. */
#ifndef DT_APACHE_H
#define DT_APACHE_H

#include <stddef.h>
#include <sys/types.h>

#define DT_APACHE_BIN "/usr/sbin/apache2"
#define DT_APACHE_MODULES "/usr/lib/apache2/modules"
#define DT_APACHE_START_DEADLINE_MS 10000
#define DT_APACHE_STOP_DEADLINE_MS 10000

typedef struct {
    char dir[512];   /* its conf, logs and runtime files (created by dt_apache_init) */
    int port;
    pid_t pid;       /* 0 when not running */
} dt_apache_t;

/* Creates a private directory under parent (world-readable: Apache started as root writes
 * its logs before it switches to www-data). Returns 0 or -errno. */
int dt_apache_init(dt_apache_t *a, const char *parent);
/* Writes httpd.conf (LoadModule lines, Listen, logs, DocumentRoot docroot, then body) and
 * spawns apache2 -X. Does not wait. Returns 0 or -errno. */
int dt_apache_spawn(dt_apache_t *a, const char *docroot, const char *body);
/* Waits until the port accepts or the process exits. Returns 0, or -1 with the reason (its
 * stderr and error log tail) in msg; a failed start leaves no process behind. */
int dt_apache_wait_ready(dt_apache_t *a, char *msg, size_t msglen);
/* SIGTERM, then SIGKILL at the deadline; reaps. Returns the exit code or -1 if none ran. */
int dt_apache_stop(dt_apache_t *a);

#endif
