/* An HTTP/1.1 origin server for the proxy tests, written on raw sockets so that it can send
 * what a well-behaved server never does (ambiguous framing, a reset in the middle of a body)
 * and report exactly what it received. It runs in a child process of the test (one thread
 * per connection), listens before it forks (no readiness probe is counted), dies with the
 * test (PR_SET_PDEATHSIG) and is stopped by PID. Counts live in memory shared with the test.
 *
 * What it does is chosen by the last component of the request path (the query string holds
 * parameters as k=v&k=v):
 *   echo        200, body = the request head exactly as received, then "\n--\n", then
 *               "body-len: N\nbody-sha256: HEX\n" of the decoded request body
 *   body        200, body = the decoded request body itself
 *   bytes       n=N bytes of pth_http_pattern (chunked=1: chunked in 16 KiB chunks;
 *               eof=1: no length, ends by close)
 *   slow        sleeps ms=N (default 300) before the head; with body=1 sleeps between
 *               the head and the body instead
 *   status      code=N with a small body (none for 1xx/204/304, nor for HEAD) and, for 304
 *               and HEAD, the Content-Length the body would have
 *   hop         a response carrying hop-by-hop fields (Connection: X-Drop-Me, X-Drop-Me,
 *               Keep-Alive, Trailer, Upgrade, Proxy-Connection) and X-Keep: yes
 *   reset       head with Content-Length: 100000, after=N (default 1000) bytes, then RST
 *   resetchunk  chunked head, after=N bytes in one chunk, then RST
 *   clte        Content-Length and Transfer-Encoding: chunked together
 *   twocl       two differing Content-Length fields
 *   badchunk    chunked with a chunk size line that is not hex
 *   badstatus   a status line that is not HTTP
 *   headclose   half a head, then a close
 *   closeafter  "ok" (keep-alive framing), then closes the connection at once
 *   reject      417 with Connection: close, without reading a body (nor sending 100)
 *   early       103 Early Hints, then 200 "ok"
 *   badheader   200 "ok" whose head has a line without a colon, then X-After: yes (closes)
 *   redirect    302 with Location and Content-Location http://HOST<to> (HOST: the request's
 *               Host; to= default /next), and with cpath= (cdomain=) a Set-Cookie
 *               "sid=1; Path=P[; Domain=D]; HttpOnly"
 * Anything else: 404. A request with "Expect: 100-continue" gets "100 Continue" before its
 * body is read (except for reject). Every answer carries X-Conn-Requests (requests served on
 * this connection so far, this one included) and X-Conn-Id (the connection's number); echo's
 * also X-Conn-Peer (the IPv4 address the connection came from, or "unix"). */
#ifndef PTH_HTTP_BACKEND_H
#define PTH_HTTP_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    atomic_int accepted;     /* connections accepted */
    atomic_int open;         /* connections open now */
    atomic_int requests;     /* request heads read */
    atomic_int smuggled;     /* ... whose target contains "smuggled" */
    atomic_int bad;          /* requests it could not parse (framing it had to guess) */
} pth_http_counts_t;

typedef struct {
    char sock[192];          /* unix socket path, "" for TCP */
    int port;                /* loopback TCP port, 0 for a unix socket */
    pid_t pid;
    pid_t owner;
    pth_http_counts_t *counts;
} pth_http_backend_t;

/* Starts it on a free loopback port (unix_path NULL) or on the unix socket unix_path.
 * Returns 0, or -1 with msg. */
int pth_http_backend_start(pth_http_backend_t *b, const char *unix_path, char *msg,
                           size_t msglen);
/* Start for use inside a Check test: aborts the test on failure. */
void pth_http_backend_start_must(pth_http_backend_t *b, const char *unix_path);
/* SIGKILL, reaped; the socket file removed. Only in the process that started it. */
void pth_http_backend_stop(pth_http_backend_t *b);
/* Waits up to ms until counts->open == want. */
bool pth_http_backend_wait_open(pth_http_backend_t *b, int want, int ms);

/* Checks of echo's answer, in the request head the backend received (the body before
 * "\n--\n", or a head already cut there): a whole field line ("Name: value", as sent),
 * and a field of that name (case-insensitive). */
bool pth_echo_has_line(const char *body, const char *line);
bool pth_echo_names(const char *body, const char *name);

/* The fixture of a suite that proxies to one origin. Defines `static pth_t *h` and
 * `static pth_http_backend_t be`; setup and teardown for tcase_add_checked_fixture (a
 * server under test and a started backend per test, both stopped by PID after it); and
 * start_with(extra): a config that proxies /b/ to be, then the extra lines (NULL: none),
 * and the server started. Needs harness.h. */
#define PTH_PROXY_SUITE_FIXTURE                                                        \
    static pth_t *h;                                                                   \
    static pth_http_backend_t be;                                                      \
    static void setup(void)                                                            \
    {                                                                                  \
        h = pth_new();                                                                 \
        pth_http_backend_start_must(&be, NULL);                                        \
    }                                                                                  \
    static void teardown(void)                                                         \
    {                                                                                  \
        pth_free(h);                                                                   \
        pth_http_backend_stop(&be);                                                    \
    }                                                                                  \
    static void __attribute__((unused)) start_with(const char *extra)                  \
    {                                                                                  \
        pth_config(h, "ProxyPass /b/ http://127.0.0.1:%d/\n%s\n", be.port,            \
                   extra ? extra : "");                                                \
        pth_start(h);                                                                  \
    }

/* Byte i of the bytes answer (and of test bodies): deterministic, not periodic at any
 * power of two. */
static inline unsigned char pth_http_pattern(uint64_t i)
{
    return (unsigned char)((i * 131 + (i >> 13)) % 251);
}
/* Fills p[0..n) with the pattern from offset off. */
void pth_http_pattern_fill(void *p, size_t n, uint64_t off);
/* Lower-case hex SHA-256 of p[0..n) into out (65 bytes). */
void pth_sha256_hex(const void *p, size_t n, char out[65]);

#endif
