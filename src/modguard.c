/* A crash in a module's handler under MPM prefork: the client gets an answer, not a hang,
 * and the error log says what happened. The child dies all the same (its memory can no
 * longer be trusted) and the parent replaces it, logging "child pid N exit signal ...".
 *
 * Each prefork child that has modules installs one handler for SIGSEGV, SIGBUS, SIGILL,
 * SIGFPE and SIGABRT, on an alternate stack (a stack overflow, as PHP's unbounded recursion
 * through internal callbacks makes, leaves no room on the thread's own). Around each module
 * handler call, pt_modguard_run arms it with what a signal handler may not compute: the
 * client's fd, the start of the log line (pid, client, request line, module) and whether
 * the connection is plain HTTP/1. On a signal, only async-signal-safe calls follow
 * (clock_gettime, time, write, send, recv, shutdown, setsockopt, close, sigaction, raise):
 * - plain HTTP/1 and nothing of the response sent yet: a preformatted "500 Internal Server
 *   Error" with Connection: close, then a FIN;
 * - else (part of the response went out, or TLS, or HTTP/2): the connection is reset
 *   (SO_LINGER 0), so that the client sees an aborted response and never one that looks
 *   complete (a close-delimited HTTP/1.0 body would). Over TLS nothing can be sent: the
 *   session's keys, sequence numbers and buffers are OpenSSL's state in the process's
 *   memory, which the crash may have damaged and OpenSSL's calls are not
 *   async-signal-safe; HTTP/2 would need the session's HPACK and stream state likewise;
 * - the log line, its time formatted by hand, written to the error log's fd;
 * then the signal is raised again with its default action, so the child ends by it. A
 * signal outside a module's handler goes to the disposition that was there before.
 * "Nothing sent yet" is: no head has gone to the client (r->head_sent) and no call of the
 * module API that may write was running (a crash inside a write may have sent part). */
#include "module.h"

#include "conn.h"
#include "httpdate.h"
#include "log.h"
#include "request.h"
#include "transport.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GUARD_STACK (64 * 1024)
#define GUARD_LINE 2048
#define GUARD_PAGE 1024

static const int guarded_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

/* The state is process-global because a signal handler reaches nothing else; it is written
 * only in prefork children, which have one thread. Set once per child (pt_modguard_enable),
 * read by the signal handler. */
static bool enabled;
static long gmtoff;                 /* the error log's local time: seconds east of UTC */
static char page[GUARD_PAGE];       /* the 500: head up to "Date: ", then the rest */
static size_t page_head, page_len;  /* page[0, page_head) "Date: " page[page_head, len) */
static size_t page_body;            /* where the body starts (not sent for HEAD) */

/* What the armed handler needs of the request being served (pt_modguard_run). */
static struct {
    const pt_request_t *r;
    const char *module;
    int fd;
    int log_fd;                     /* -1: LogLevel keeps errors out */
    bool plain_h1;
    bool head_only;                 /* HEAD: the 500 has no body */
    char pre[GUARD_LINE];           /* "[core:error] [pid ...] [client ...] child pid N " */
    size_t pre_len;
    char req[GUARD_LINE];           /* " in the handler of module M serving \"GET / ...\"" */
    size_t req_len;
} cur;
static volatile sig_atomic_t armed;
static volatile sig_atomic_t in_io; /* module API calls that may write, running */

/* ---- Async-signal-safe formatting ------------------------------------------------------- */

typedef struct {
    char *p;
    size_t n, cap;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && o->n < o->cap; i++)
        o->p[o->n++] = s[i];
}

static void puts_(out_t *o, const char *s)
{
    put(o, s, strlen(s));
}

/* n in decimal, as many digits as it has. */
static void putnum(out_t *o, long long n)
{
    char d[24];
    int k = 0;
    unsigned long long u = n < 0 ? 0 - (unsigned long long)n : (unsigned long long)n;
    do {
        d[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (n < 0)
        put(o, "-", 1);
    while (k > 0)
        put(o, &d[--k], 1);
}

/* "[Wed Dec 02 02:05:14.123456 2026] ", as pt_log_error writes its lines (gmtime and
 * localtime are not async-signal-safe; base/httpdate's calendar is). */
static void put_log_time(out_t *o, const struct timespec *ts, long off)
{
    pt_civil_t c = pt_civil_from_time((long long)ts->tv_sec + off);
    char b[48], *p = b;
    *p++ = '[';
    memcpy(p, pt_wday_abbr(c.wday), 3);
    p[3] = ' ';
    memcpy(p + 4, pt_month_abbr(c.mon), 3);
    p[7] = ' ';
    p = pt_put_digits(p + 8, (unsigned)c.mday, 2);
    *p++ = ' ';
    p = pt_put_digits(p, (unsigned)c.hour, 2);
    *p++ = ':';
    p = pt_put_digits(p, (unsigned)c.min, 2);
    *p++ = ':';
    p = pt_put_digits(p, (unsigned)c.sec, 2);
    *p++ = '.';
    p = pt_put_digits(p, (unsigned long long)ts->tv_nsec / 1000, 6);
    *p++ = ' ';
    p = pt_put_digits(p, (unsigned long long)c.year, 4); /* a clock's year: four digits */
    memcpy(p, "] ", 2);
    put(o, b, (size_t)(p + 2 - b));
}

size_t pt_modguard_log_time(char *out, size_t cap, const struct timespec *ts, long off)
{
    out_t o = {out, 0, cap ? cap - 1 : 0};
    put_log_time(&o, ts, off);
    if (cap)
        out[o.n] = '\0';
    return o.n;
}

/* strsignal is not async-signal-safe; these are its words, as the parent logs them. */
static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "Segmentation fault";
    case SIGBUS: return "Bus error";
    case SIGILL: return "Illegal instruction";
    case SIGFPE: return "Floating point exception";
    case SIGABRT: return "Aborted";
    default: return "Signal";
    }
}

/* ---- The signal handler ----------------------------------------------------------------- */

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void log_crash(int sig, const char *outcome)
{
    if (cur.log_fd < 0)
        return;
    char line[3 * GUARD_LINE];
    out_t o = {line, 0, sizeof(line) - 1};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    put_log_time(&o, &ts, gmtoff);
    put(&o, cur.pre, cur.pre_len);
    puts_(&o, "crashed: signal ");
    puts_(&o, signal_name(sig));
    puts_(&o, " (");
    putnum(&o, sig);
    puts_(&o, ")");
    put(&o, cur.req, cur.req_len);
    puts_(&o, "; ");
    puts_(&o, outcome);
    line[o.n++] = '\n';
    write_all(cur.log_fd, line, o.n);
}

/* The 500 with its Date, then a FIN; what the client had sent and nobody read is drained
 * (what is already here: no waiting), so that the close at exit is less likely to become a
 * reset that makes the client's TCP drop the answer unread. */
static bool send_500(void)
{
    char buf[GUARD_PAGE + 64];
    out_t o = {buf, 0, sizeof(buf)};
    put(&o, page, page_head);
    char date[PT_HTTP_DATE_LEN + 1];
    put(&o, date, pt_http_date_format(date, sizeof(date), time(NULL)));
    put(&o, page + page_head, (cur.head_only ? page_body : page_len) - page_head);
    size_t off = 0;
    while (off < o.n) {
        ssize_t w = send(cur.fd, buf + off, o.n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(cur.fd, SHUT_WR);
    char sink[4096];
    for (int i = 0; i < 64 && recv(cur.fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
        ;
    return off == o.n;
}

/* What each signal did before (ASan's handler, say): a crash outside any module handler is
 * theirs. */
static struct sigaction previous[NSIG];

static void on_crash(int sig, siginfo_t *si, void *uctx)
{
    int saved = errno;
    if (!armed || !cur.r) {
        /* Not in a module's handler: the previous disposition takes the signal. A fault
         * (si_code > 0, from the kernel) happens again when this returns; a signal sent
         * by kill() is sent again. */
        sigaction(sig, &previous[sig], NULL);
        if (si->si_code <= 0)
            raise(sig);
        errno = saved;
        return;
    }
    armed = 0;
    bool nothing_sent = !in_io && !cur.r->head_sent;
    if (cur.plain_h1 && nothing_sent) {
        /* The client first, then the log. */
        log_crash(sig, send_500() ? "sent a 500 (nothing of the response had been sent), "
                                    "closing the connection"
                                  : "closing the connection (nothing of the response had "
                                    "been sent; the 500 could not be: the client is gone)");
    } else {
        log_crash(sig, nothing_sent ? "resetting the connection (a 500 cannot be sent safely "
                                      "over TLS or HTTP/2)"
                                    : "resetting the connection (part of the response had "
                                      "been sent)");
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(cur.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(cur.fd);
    }
    /* SA_RESETHAND put the default action back: a fault that returns faults again and
     * ends the process; a signal sent by kill() ends it with this one. */
    raise(sig);
    errno = saved;
}

/* ---- Arming, per child and per handler call ---------------------------------------------- */

static void make_page(const pt_config_t *cfg)
{
    static const char body[] =
        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n"
        "<title>500 Internal Server Error</title>\n</head><body>\n"
        "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error or "
        "misconfiguration and was unable to complete your request.</p>\n</body></html>\n";
    int n = snprintf(page, sizeof(page), "HTTP/1.1 500 Internal Server Error\r\nDate: ");
    page_head = (size_t)n;
    n += snprintf(page + n, sizeof(page) - (size_t)n,
                  "\r\nServer: %s\r\nContent-Length: %zu\r\nConnection: close\r\n"
                  "Content-Type: text/html; charset=iso-8859-1\r\n\r\n",
                  pt_server_banner(cfg->server_tokens), sizeof(body) - 1);
    page_body = (size_t)n < sizeof(page) ? (size_t)n : sizeof(page) - 1;
    n += snprintf(page + page_body, sizeof(page) - page_body, "%s", body);
    page_len = (size_t)n < sizeof(page) ? (size_t)n : sizeof(page) - 1;
}

void pt_modguard_enable(const pt_config_t *cfg)
{
    static char *stack;
    if (enabled)
        return;
    if (!stack)
        stack = malloc(GUARD_STACK);
    stack_t ss = {.ss_sp = stack, .ss_size = GUARD_STACK};
    if (!stack || sigaltstack(&ss, NULL) != 0) {
        pt_log_error(PT_LOG_WARN, NULL, "module crash handling is off in this child: no "
                     "alternate signal stack (%s)", strerror(errno));
        return;
    }
    struct tm tm;
    time_t now = time(NULL);
    gmtoff = localtime_r(&now, &tm) ? tm.tm_gmtoff : 0;
    make_page(cfg);
    struct sigaction sa = {.sa_sigaction = on_crash,
                           .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < PT_ARRAY_LEN(guarded_signals); i++)
        sigaction(guarded_signals[i], &sa, &previous[guarded_signals[i]]);
    enabled = true;
}

/* Control bytes as \xNN, as the error log writes a client's bytes. */
static void put_clean(out_t *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
        bool raw = c >= 0x20 && c != 0x7f && c != '"';
        put(o, raw ? s : esc, raw ? 1 : 4);
    }
}

static void arm(const pt_request_t *r, const char *module)
{
    armed = 0; /* while cur is rewritten */
    long pid = (long)getpid();
    cur.r = r;
    cur.module = module;
    cur.fd = r->conn->fd;
    cur.plain_h1 = r->conn->tp == &pt_transport_socket && r->proto_num < 2000;
    cur.head_only = r->method_id == PT_METHOD_HEAD;
    cur.log_fd = pt_log_level() >= PT_LOG_ERR ? pt_log_error_fd() : -1;
    out_t o = {cur.pre, 0, sizeof(cur.pre)};
    puts_(&o, "[core:error] [pid ");
    putnum(&o, pid);
    puts_(&o, ":tid ");
    putnum(&o, pid); /* a prefork child has one thread */
    puts_(&o, "] [client ");
    put_clean(&o, pt_request_client_ip(r));
    puts_(&o, ":");
    putnum(&o, pt_request_client_port(r));
    puts_(&o, "] child pid ");
    putnum(&o, pid);
    puts_(&o, " ");
    cur.pre_len = o.n;
    o = (out_t){cur.req, 0, sizeof(cur.req)};
    puts_(&o, " in the handler of module ");
    puts_(&o, module);
    puts_(&o, " serving \"");
    put_clean(&o, r->the_request);
    puts_(&o, "\"");
    cur.req_len = o.n;
    armed = 1;
}

int pt_modguard_run(pt_request_t *r, const char *module, int (*fn)(pt_modreq_t *r))
{
    if (!enabled)
        return fn(r);
    /* A handler that reaches another module's (an internal redirect) arms for the inner
     * call and puts the outer request back after it. */
    const pt_request_t *outer = armed ? cur.r : NULL;
    const char *outer_module = cur.module;
    sig_atomic_t outer_io = in_io; /* the outer call's, which led here */
    in_io = 0;
    arm(r, module);
    int rc = fn(r);
    armed = 0;
    in_io = outer_io;
    if (outer)
        arm(outer, outer_module);
    return rc;
}

void pt_modguard_io(int delta)
{
    if (enabled)
        in_io += delta;
}
