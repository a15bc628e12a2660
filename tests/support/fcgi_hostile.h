/* A FastCGI responder written on the raw record format (not libfcgi), for what a well-behaved
 * library never sends and for counting: it counts the connections it accepts, how many are
 * open at once and the requests that asked to keep the connection, in memory shared with
 * the test. Its socket listens before it forks, so no readiness probe is counted. */
#ifndef PTH_FCGI_HOSTILE_H
#define PTH_FCGI_HOSTILE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What the responder saw (shared memory, updated by the responder as it happens). */
typedef struct {
    atomic_int accepted;     /* connections accepted */
    atomic_int open;         /* connections open now */
    atomic_int max_open;     /* most open at once */
    atomic_int busy;         /* requests between BEGIN_REQUEST read and END_REQUEST sent:
                                inside the time the client holds the connection, so unlike
                                open it never lags behind the client's count */
    atomic_int max_busy;
    atomic_int requests;     /* BEGIN_REQUEST records */
    atomic_int keep_conn;    /* ... of which had FCGI_KEEP_CONN */
} pth_hostile_counts_t;

typedef struct {
    char sock[192];
    pid_t pid;
    pid_t owner;
    pth_hostile_counts_t *counts;
} pth_hostile_t;

/* Listens on the unix socket sock_path and serves in a child process, one thread per
 * connection. The last component of SCRIPT_NAME says what to do:
 *   ok          "ok" (text/plain)
 *   slow        "ok" after QUERY_STRING milliseconds (default 300)
 *   echo        reads STDIN, answers "len=N"
 *   param       the value of the parameter named by QUERY_STRING
 *   dateserver  its own Date and Server fields, then "ok"
 *   folded      a header field folded onto a second line (obs-fold), then "ok"
 *   headclose   a complete head, then closes without a body or END_REQUEST
 *   headstall   a complete head, then silence for QUERY_STRING ms (default 3000), then a close
 *   headbad     a complete head, then a record of version 2
 *   closeafter  "ok" and END_REQUEST, then closes even when asked to keep the connection
 * Anything else: 404 "unknown". Returns 0, or -1 with msg. */
int pth_hostile_start(pth_hostile_t *hs, const char *sock_path, char *msg, size_t msglen);
void pth_hostile_stop(pth_hostile_t *hs);
/* Waits up to ms until counts->open == want. */
bool pth_hostile_wait_open(pth_hostile_t *hs, int want, int ms);

#endif
