/* The parent process and the three MPMs as an operator sees them: graceful restart lets a
 * response in flight finish while the new generation serves, a broken config on restart
 * keeps the old one serving, graceful stop drains then exits, a killed child is replaced, a
 * burst adds children that are retired after, -V names the MPMs, and server-status/metrics
 * show the workers. Runs under the MPM of PORTICO_TEST_MPM (event when unset). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr */
#endif
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BIG_SIZE (16u << 20) /* far beyond socket buffers: the response stays in flight */
#define LOG_MS 3000
#define MAX_KIDS 64

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "small.txt", "small\n");
}

static void teardown(void)
{
    pth_stop_nocheck(h);
    pth_free(h);
    h = NULL;
}

static bool prefork(void)
{
    const char *m = getenv("PORTICO_TEST_MPM");
    return m && strcmp(m, "prefork") == 0;
}

/* Small process settings for the MPM under test. */
static const char *procs(void)
{
    return prefork() ? "StartServers 2\nMinSpareServers 1\nMaxSpareServers 3\nServerLimit 8\n"
                     : "StartServers 2\nThreadLimit 5\nThreadsPerChild 5\n"
                       "MinSpareThreads 2\nMaxSpareThreads 12\nServerLimit 8\n";
}

static const char *const handlers =
    "<Location /server-status>\nSetHandler server-status\n</Location>\n"
    "<Location /metrics>\nSetHandler metrics\n</Location>\n";

/* ---- Observing the server ---------------------------------------------------------- */

static char *get_body(const char *path, int want_status)
{
    pth_resp_t r;
    pth_get(h, path, NULL, &r);
    ck_assert_msg(r.status == want_status, "GET %s: %d", path, r.status);
    char *b = strdup(r.body);
    pth_resp_free(&r);
    return b;
}

/* The integer after "\nKey: " (or at the start) in text, or -1 when absent. */
static long field(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, key, kl) == 0 && p[kl] == ':')
            return strtol(p + kl + 1, NULL, 10);
    return -1;
}

static long status_field(const char *key)
{
    char *b = get_body("/server-status?auto", 200);
    long v = field(b, key);
    free(b);
    ck_assert_msg(v >= 0, "no \"%s:\" in server-status?auto", key);
    return v;
}

/* The value of a metrics sample line starting with "name " exactly, or -1. */
static long metric(const char *text, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, nl) == 0 && p[nl] == ' ')
            return strtol(p + nl + 1, NULL, 10);
    return -1;
}

static long metrics_value(const char *name)
{
    char *b = get_body("/metrics", 200);
    long v = metric(b, name);
    free(b);
    ck_assert_msg(v >= 0, "no sample \"%s\" in /metrics", name);
    return v;
}

/* Child processes of the server (ppid == server pid), from /proc. */
static int children(pid_t *out, int max)
{
    return pth_children(h->pid, out, max);
}

static int count_children(void)
{
    pid_t k[MAX_KIDS];
    return children(k, MAX_KIDS);
}

/* Waits up to ms for the number of children to satisfy lo <= n <= hi; returns the last n. */
static int wait_children(int lo, int hi, int ms)
{
    int n = -1;
    for (int64_t end = pth_now_ms() + ms; pth_now_ms() < end; pth_sleep_ms(50)) {
        n = count_children();
        if (n >= lo && n <= hi)
            return n;
    }
    return n;
}

static int count_in_file(const char *path, const char *needle)
{
    char *t = pth_read_file(path, NULL);
    int n = 0;
    for (const char *p = t; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    free(t);
    return n;
}

static bool wait_count_in_file(const char *path, const char *needle, int want, int ms)
{
    for (int64_t end = pth_now_ms() + ms; pth_now_ms() < end; pth_sleep_ms(20))
        if (count_in_file(path, needle) >= want)
            return true;
    return false;
}

/* GET /small.txt on a fresh connection; its X-Gen header (NULL-safe copy), 200 asserted. */
static char *small_xgen(void)
{
    pth_resp_t r;
    pth_get(h, "/small.txt", NULL, &r);
    ck_assert_msg(r.status == 200, "GET /small.txt: %d", r.status);
    ck_assert_str_eq(r.body, "small\n");
    const char *g = pth_resp_header(&r, "X-Gen");
    char *v = strdup(g ? g : "(none)");
    pth_resp_free(&r);
    return v;
}

static void assert_xgen(const char *want)
{
    char *g = small_xgen();
    ck_assert_msg(strcmp(g, want) == 0, "X-Gen %s, want %s", g, want);
    free(g);
}

/* ---- A slow reader of a large file --------------------------------------------------- */

static void write_big_file(void)
{
    char *data = malloc(BIG_SIZE);
    ck_assert(data != NULL);
    for (size_t i = 0; i < BIG_SIZE; i++)
        data[i] = (char)('a' + i % 26);
    pth_write_file(h, "big.bin", data, BIG_SIZE);
    free(data);
}

typedef struct {
    int fd;
    size_t got;   /* body bytes read and checked */
    bool eof;
} slow_t;

/* Connects with a small receive buffer (before connect, so the window stays small), asks
 * for /big.bin and reads the head. */
static void slow_open(slow_t *s)
{
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert(s->fd >= 0);
    s->got = 0;
    s->eof = false;
    int rcv = 16384;
    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_msg(connect(s->fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s",
                  strerror(errno));
    static const char req[] =
        "GET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    ck_assert(send(s->fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(req) - 1));
    char head[4096];
    size_t len = 0;
    for (int64_t end = pth_now_ms() + 5000; pth_now_ms() < end && len + 1 < sizeof(head);) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = recv(s->fd, head + len, 1, 0);
        ck_assert_msg(n == 1, "peer closed in the head");
        head[++len] = '\0';
        if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    ck_assert_msg(len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0, "no head in 5 s");
    ck_assert_msg(strncmp(head, "HTTP/1.1 200", 12) == 0, "head: %s", head);
    char cl[64];
    snprintf(cl, sizeof(cl), "Content-Length: %u\r\n", BIG_SIZE);
    ck_assert_msg(strcasestr(head, cl) != NULL, "no %s in: %s", cl, head);
}

/* Reads for ms (or until want more bytes or EOF), chunk bytes per recv with pause_ms
 * between, checking every byte against the file's pattern. */
static void slow_read(slow_t *s, size_t want, size_t chunk, int pause_ms, int ms)
{
    static char buf[65536];
    if (chunk > sizeof(buf))
        chunk = sizeof(buf);
    size_t stop = s->got + want;
    for (int64_t end = pth_now_ms() + ms; s->got < stop && !s->eof && pth_now_ms() < end;) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        size_t take = chunk < stop - s->got ? chunk : stop - s->got;
        ssize_t n = recv(s->fd, buf, take, 0);
        if (n <= 0) {
            s->eof = true;
            break;
        }
        /* Compared without ck_assert per byte: each Check assertion is a message to the
         * runner, and 16 MiB of them took minutes under ASan. */
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (char)('a' + (s->got + (size_t)i) % 26))
                ck_abort_msg("body byte %zu is wrong", s->got + (size_t)i);
        s->got += (size_t)n;
        if (pause_ms > 0)
            pth_sleep_ms(pause_ms);
    }
}

/* Reads the rest fast and asserts the whole body arrived, then the close. */
static void slow_finish(slow_t *s)
{
    /* The slow part is over: a bigger window (up to 64 KiB without window scaling) makes the
     * rest 4x fewer round trips, which on a loaded machine otherwise take longer than the
     * GracefulShutdownTimeout of the drain test. */
    int rcv = 1 << 20;
    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    slow_read(s, BIG_SIZE - s->got, 65536, 0, 120000); /* generous: ASan under load is slow */
    ck_assert_msg(s->got == BIG_SIZE, "body %zu bytes of %u (eof %d)", s->got, BIG_SIZE,
                  s->eof);
    char c;
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    ck_assert_msg(poll(&p, 1, 3000) == 1 && recv(s->fd, &c, 1, 0) == 0,
                  "connection not closed after the full body");
    close(s->fd);
    s->fd = -1;
}

/* The generation of the child serving this very status request, from the ExtendedStatus
 * table: the row in state W whose request is ours, "<td><b>SLOT-GEN</b>". -1 if none. */
static long serving_generation(void)
{
    char *b = get_body("/server-status", 200);
    long gen = -1;
    for (char *line = strtok(b, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strstr(line, "<td><b>W</b></td>") || !strstr(line, "GET /server-status HTTP/1.1"))
            continue;
        int slot;
        unsigned g;
        if (sscanf(line, "<tr><td><b>%d-%u</b>", &slot, &g) == 2)
            gen = g;
    }
    free(b);
    return gen;
}

/* ms left until since + total, at least floor. */
static int remaining_ms(int64_t since, int total, int floor)
{
    int64_t left = since + total - pth_now_ms();
    return left > floor ? (int)left : floor;
}

/* ---- Tests --------------------------------------------------------------------------- */

START_TEST(graceful_restart_lets_a_request_in_flight_finish_and_serves_the_new_generation)
{
    write_big_file();
    pth_config(h, "%s%sExtendedStatus On\nHeader set X-Gen 1\n", procs(), handlers);
    pth_start(h);
    assert_xgen("1");
    ck_assert_int_eq(metrics_value("portico_generation"), 0);

    slow_t s;
    slow_open(&s);
    slow_read(&s, 1u << 20, 16384, 5, 10000);
    ck_assert_msg(s.got == 1u << 20 && !s.eof, "slow start read %zu (eof %d)", s.got, s.eof);
    int64_t t0 = pth_now_ms();

    pth_config(h, "%s%sExtendedStatus On\nHeader set X-Gen 2\n", procs(), handlers);
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    ck_assert_msg(pth_file_wait_contains(h->error_log, "generation 1 configured", LOG_MS),
                  "no \"generation 1 configured\" in the error log");
    /* The old children stop accepting when they read their signal: from then on every new
     * connection reaches the new generation. Until each has read it, one may still take a
     * connection (and a child woken for a waiting connection as it stops serves it: under
     * EPOLLEXCLUSIVE no sibling was woken for it), so the new generation answering once
     * does not yet mean the old one is done: wait for three answers in a row. */
    char *g = NULL;
    int in_a_row = 0;
    for (int64_t end = pth_now_ms() + 3000; pth_now_ms() < end && in_a_row < 3;) {
        free(g);
        g = small_xgen();
        in_a_row = strcmp(g, "2") == 0 ? in_a_row + 1 : 0;
        if (in_a_row == 0)
            pth_sleep_ms(50);
    }
    ck_assert_msg(in_a_row == 3, "still X-Gen %s 3 s after the graceful restart", g);
    free(g);
    for (int i = 0; i < 10; i++)
        assert_xgen("2");
    ck_assert_int_eq(metrics_value("portico_generation"), 1);
    ck_assert_int_eq(status_field("ParentServerMPMGeneration"), 1);
    ck_assert_int_eq(serving_generation(), 1);

    /* Still slow: the old generation's child must keep sending (about 3 s in flight). */
    slow_read(&s, BIG_SIZE, 16384, 5, remaining_ms(t0, 3000, 500));
    ck_assert_msg(!s.eof, "the in-flight response was cut at %zu bytes", s.got);
    slow_finish(&s);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* Connections that arrive as a graceful restart begins are served, by the new generation
 * or by an old child that accepted them and serves them as part of its drain, while the
 * old children's other workers are held by responses in flight (the worker MPM's workers
 * write those themselves). None may be left waiting in a queue or in the backlog. */
START_TEST(connections_arriving_as_a_graceful_restart_begins_are_all_served)
{
    enum { SLOW = 3, BURST = 16 };
    write_big_file();
    pth_config(h, "%s%sHeader set X-Gen 1\n", procs(), handlers);
    pth_start(h);
    assert_xgen("1");
    static const char req[] = "GET /small.txt HTTP/1.0\r\n\r\n";
    for (int round = 1; round <= 4; round++) {
        slow_t s[SLOW];
        for (int i = 0; i < SLOW; i++)
            slow_open(&s[i]);
        ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
        pth_conn_t *c[BURST];
        for (int i = 0; i < BURST; i++) {
            c[i] = pth_conn_open(h);
            pth_conn_send(c[i], req, sizeof(req) - 1);
        }
        int unanswered = 0;
        int64_t end = pth_now_ms() + 3000;
        for (int i = 0; i < BURST; i++) {
            int64_t left = end - pth_now_ms();
            pth_conn_read_until(c[i], (size_t)-1, left > 1 ? (int)left : 1);
            pth_resp_t r;
            size_t used;
            if (pth_parse_response(c[i]->buf, c[i]->len, false, true, &r, &used) != 0)
                unanswered++;
            else {
                ck_assert_int_eq(r.status, 200);
                pth_resp_free(&r);
            }
            pth_conn_close(c[i]);
        }
        ck_assert_msg(unanswered == 0, "round %d: %d of %d connections made as the graceful "
                      "restart began got no response in 3 s", round, unanswered, BURST);
        char needle[64];
        snprintf(needle, sizeof(needle), "generation %d configured", round);
        ck_assert_msg(pth_file_wait_contains(h->error_log, needle, LOG_MS), "no \"%s\"",
                      needle);
        for (int i = 0; i < SLOW; i++)
            slow_finish(&s[i]);
    }
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* The line of the first occurrence of needle in the config file (1-based). */
static int conf_line_of(const char *needle)
{
    char *t = pth_read_file(h->conf, NULL);
    ck_assert(t != NULL);
    char *p = strstr(t, needle);
    ck_assert_msg(p != NULL, "\"%s\" not in the config", needle);
    int line = 1;
    for (char *q = t; q < p; q++)
        line += *q == '\n';
    free(t);
    return line;
}

START_TEST(restart_with_a_broken_config_keeps_serving)
{
    pth_config(h, "%s%sHeader set X-Gen 1\n", procs(), handlers);
    pth_start(h);
    assert_xgen("1");
    pth_config(h, "%s%sHeader set X-Gen 2\nNoSuchDirective here\n", procs(), handlers);
    char needle[64];
    snprintf(needle, sizeof(needle), "portico.conf:%d:", conf_line_of("NoSuchDirective"));
    pth_expect_error(h, "configuration has an error");

    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    ck_assert_msg(wait_count_in_file(h->error_log, needle, 1, LOG_MS),
                  "no \"%s\" in the error log after SIGUSR1", needle);
    pth_sleep_ms(300);
    ck_assert_msg(pth_running(h), "the server exited on a broken config (USR1)");
    for (int i = 0; i < 5; i++)
        assert_xgen("1");
    ck_assert_int_eq(metrics_value("portico_generation"), 0);

    ck_assert_int_eq(kill(h->pid, SIGHUP), 0);
    ck_assert_msg(wait_count_in_file(h->error_log, needle, 2, LOG_MS),
                  "no second \"%s\" in the error log after SIGHUP", needle);
    pth_sleep_ms(300);
    ck_assert_msg(pth_running(h), "the server exited on a broken config (HUP)");
    for (int i = 0; i < 5; i++)
        assert_xgen("1");
    ck_assert_int_eq(metrics_value("portico_generation"), 0);

    /* Fixed: the next graceful restart takes it. */
    pth_config(h, "%s%sHeader set X-Gen 3\n", procs(), handlers);
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    ck_assert_msg(pth_file_wait_contains(h->error_log, "generation 1 configured", LOG_MS),
                  "the fixed config was not taken");
    char *g = NULL;
    for (int64_t end = pth_now_ms() + 3000; pth_now_ms() < end; pth_sleep_ms(50)) {
        free(g);
        g = small_xgen();
        if (strcmp(g, "3") == 0)
            break;
    }
    ck_assert_msg(strcmp(g, "3") == 0, "X-Gen %s after the fixed restart", g);
    free(g);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(graceful_stop_drains_then_exits)
{
    write_big_file();
    pth_config(h, "%sGracefulShutdownTimeout 60\n", procs());
    pth_start(h);
    /* The port accepts as soon as the parent has bound it: the children come a moment later. */
    ck_assert_msg(wait_children(1, MAX_KIDS, 3000) >= 1, "no children");
    pid_t kids[MAX_KIDS];
    int nk = children(kids, MAX_KIDS);
    ck_assert_msg(nk >= 1, "no children");
    slow_t s;
    slow_open(&s);
    slow_read(&s, 1u << 20, 16384, 5, 10000);
    ck_assert_msg(s.got == 1u << 20 && !s.eof, "slow start read %zu", s.got);

    ck_assert_int_eq(kill(h->pid, SIGWINCH), 0);
    ck_assert_msg(pth_file_wait_contains(h->error_log, "caught SIGWINCH", LOG_MS),
                  "no \"caught SIGWINCH\" logged");
    slow_read(&s, BIG_SIZE, 16384, 5, 2500);
    ck_assert_msg(!s.eof, "the in-flight response was cut at %zu bytes", s.got);
    ck_assert_msg(pth_running(h), "the parent exited while a response was in flight");
    slow_finish(&s);
    int code = pth_wait_exit(h, 5000);
    ck_assert_msg(code == 0, "exit %d after the graceful stop (-1: still running)", code);
    for (int i = 0; i < nk; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)kids[i]);
        char *st = NULL;
        for (int64_t end = pth_now_ms() + 2000; pth_now_ms() < end; pth_sleep_ms(50)) {
            free(st);
            st = pth_read_file(path, NULL);
            if (!st || strstr(st, ") Z "))
                break;
        }
        ck_assert_msg(!st || strstr(st, ") Z "), "child %d outlived the parent: %s",
                      (int)kids[i], st);
        free(st);
    }
    pth_check_error_log(h);
    pth_check_stderr(h);
}
END_TEST

START_TEST(killing_a_child_gets_it_replaced)
{
    pth_config(h, "%s%s", procs(), handlers);
    pth_start(h);
    int want = 2; /* StartServers; the spare bounds keep it there */
    ck_assert_int_eq(wait_children(want, want, 3000), want);
    pid_t kids[MAX_KIDS];
    ck_assert_int_eq(children(kids, MAX_KIDS), want);
    pid_t victim = kids[0];
    pth_expect_error(h, "exit signal Killed");

    int ok = 0, failed = 0;
    int64_t t0 = pth_now_ms(), killed_at = 0, replaced_at = 0;
    while (pth_now_ms() - t0 < 4000 || (killed_at && !replaced_at &&
                                         pth_now_ms() - killed_at < 3000)) {
        if (!killed_at && pth_now_ms() - t0 >= 500) {
            ck_assert_int_eq(kill(victim, SIGKILL), 0);
            killed_at = pth_now_ms();
        }
        pth_resp_t r;
        int rc = pth_curl(h, "GET", "/small.txt", NULL, NULL, 0, &r);
        if (rc == 0 && r.status == 200 && strcmp(r.body, "small\n") == 0)
            ok++;
        else
            failed++;
        if (rc == 0)
            pth_resp_free(&r);
        if (killed_at && !replaced_at) {
            pid_t now[MAX_KIDS];
            int n = children(now, MAX_KIDS);
            bool gone = true;
            for (int i = 0; i < n; i++)
                gone = gone && now[i] != victim;
            if (n == want && gone)
                replaced_at = pth_now_ms();
        }
        pth_sleep_ms(10);
    }
    ck_assert_msg(failed <= 1, "%d requests failed around the kill (%d ok)", failed, ok);
    ck_assert_msg(ok >= 20, "only %d requests in 4 s", ok);
    ck_assert_msg(replaced_at > 0, "%d children 3 s after the kill, want %d", count_children(),
                  want);
    char needle[64];
    snprintf(needle, sizeof(needle), "child pid %d exit signal Killed", (int)victim);
    ck_assert_msg(pth_file_wait_contains(h->error_log, needle, LOG_MS), "no \"%s\"", needle);
    ck_assert_int_eq(wait_children(want, want, 1000), want);
    ck_assert_int_eq(status_field("Processes"), want);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* A child that crashes on its way out (here: stopped, told to finish by a graceful restart,
 * then hit by SIGSEGV) is an error in the parent's log, not a quiet INFO line, so the
 * harness's error-log check sees it. */
START_TEST(a_child_that_crashes_while_stopping_is_logged_as_an_error)
{
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    /* ASan or TSan would catch the SIGSEGV and report it as its own; let it kill the child. */
    static const char *const sanitizers[] = {"ASAN_OPTIONS", "TSAN_OPTIONS"};
    for (size_t i = 0; i < 2; i++) {
        const char *was = getenv(sanitizers[i]);
        char opts[512];
        snprintf(opts, sizeof(opts), "%s%shandle_segv=0", was ? was : "", was ? ":" : "");
        setenv(sanitizers[i], opts, 1);
    }
    pth_config(h, "%s%s", procs(), handlers);
    pth_start(h);
    ck_assert_int_eq(wait_children(2, 2, 3000), 2);
    pid_t kids[MAX_KIDS];
    ck_assert_int_eq(children(kids, MAX_KIDS), 2);
    pid_t victim = kids[0];
    ck_assert_int_eq(kill(victim, SIGSTOP), 0);
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    /* Once the new generation is configured, the old children are marked stopping. */
    ck_assert_msg(pth_file_wait_contains(h->error_log, "generation 1 configured", LOG_MS),
                  "no graceful restart logged");
    char line[96];
    snprintf(line, sizeof(line), "child pid %d exit signal Segmentation fault", (int)victim);
    char pattern[160];
    snprintf(pattern, sizeof(pattern), "\\[core:error\\].*%s", line);
    pth_expect_error(h, pattern);
    ck_assert_int_eq(kill(victim, SIGSEGV), 0);
    ck_assert_int_eq(kill(victim, SIGCONT), 0);
    ck_assert_msg(pth_file_wait_contains(h->error_log, line, LOG_MS), "no \"%s\"", line);
    char *log = pth_read_file(h->error_log, NULL);
    const char *at = strstr(log, line);
    const char *bol = at;
    while (bol > log && bol[-1] != '\n')
        bol--;
    ck_assert_msg(strstr(bol, "[core:error]") != NULL && strstr(bol, "[core:error]") < at,
                  "not logged at error level: %.*s", (int)(strchr(at, '\n') - bol), bol);
    free(log);
    assert_xgen("(none)"); /* the new generation serves */
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* Lingering close (after "Connection: close") drains what the client still sends for at most
 * 2 s (PT_LINGER_MS). A client that keeps sending as fast as it can is cut off at that
 * deadline all the same, and meanwhile others are served. */
START_TEST(a_client_that_keeps_sending_is_cut_off_at_the_linger_deadline)
{
    pth_config(h, "%s%s", procs(), handlers);
    pth_start(h);
    ck_assert_int_eq(wait_children(2, MAX_KIDS, 3000) >= 2, 1);
    pth_conn_t *c = pth_conn_open(h);
    ck_assert_int_eq(pth_conn_sendf(c, "GET /small.txt HTTP/1.1\r\nHost: localhost\r\n"
                                       "Connection: close\r\n\r\n"), 0);
    pth_resp_t r;
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, PTH_IO_DEADLINE_MS), 0);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    static char junk[64 * 1024];
    memset(junk, 'x', sizeof(junk));
    int64_t t0 = pth_now_ms(), next_probe = t0 + 300, worst_probe = 0;
    int rc = 0;
    while (rc == 0 && pth_now_ms() - t0 < 15000) {
        rc = pth_conn_send(c, junk, sizeof(junk));
        if (rc == 0 && pth_now_ms() >= next_probe) {
            int64_t p0 = pth_now_ms();
            assert_xgen("(none)");
            int64_t took = pth_now_ms() - p0;
            worst_probe = took > worst_probe ? took : worst_probe;
            next_probe = pth_now_ms() + 300;
        }
    }
    int64_t open_ms = pth_now_ms() - t0;
    pth_conn_close(c);
    ck_assert_msg(rc == -EPIPE || rc == -ECONNRESET, "still open after %lld ms of sending (%d)",
                  (long long)open_ms, rc);
    /* 2 s of lingering; the rest is slack for a loaded machine. */
    ck_assert_msg(open_ms < 6000, "the lingering connection lasted %lld ms", (long long)open_ms);
    ck_assert_msg(worst_probe < 2000, "a request during the flood took %lld ms",
                  (long long)worst_probe);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* A POST to a static file whose body never comes: the worker waits in the body read (to
 * drain it before the 405), so it stays busy until the client goes away. */
static pth_conn_t *hold_a_worker(void)
{
    pth_conn_t *c = pth_conn_open(h);
    int rc = pth_conn_sendf(c, "POST /small.txt HTTP/1.1\r\nHost: localhost\r\n"
                               "Content-Length: 100\r\n\r\n");
    ck_assert_int_eq(rc, 0);
    return c;
}

START_TEST(a_burst_adds_children_and_they_are_retired_after)
{
    /* The MPM is the one under test; limits small and explicit for each kind. */
    int start, settled, nconns;
    if (prefork()) {
        pth_config(h, "StartServers 2\nMinSpareServers 1\nMaxSpareServers 3\nServerLimit 8\n"
                      "MaxRequestWorkers 8\nTimeout 30\n");
        start = 2;
        settled = 3; /* MaxSpareServers: idle children beyond it are retired */
        nconns = 6;
    } else {
        pth_config(h, "StartServers 1\nThreadsPerChild 5\nMinSpareThreads 2\n"
                      "MaxSpareThreads 7\nServerLimit 8\nMaxRequestWorkers 40\nTimeout 30\n");
        start = 1;
        settled = 1; /* two idle children (10 workers) exceed MaxSpareThreads 7 */
        nconns = 14;
    }
    pth_start(h);
    ck_assert_int_eq(wait_children(start, start, 3000), start);

    pth_conn_t *held[32];
    int peak = start;
    for (int i = 0; i < nconns; i++) {
        held[i] = hold_a_worker();
        pth_sleep_ms(150);
        int n = count_children();
        peak = n > peak ? n : peak;
    }
    for (int64_t end = pth_now_ms() + 6000; pth_now_ms() < end && peak <= start + 1;
         pth_sleep_ms(100)) {
        int n = count_children();
        peak = n > peak ? n : peak;
    }
    ck_assert_msg(peak > start, "children never grew past %d under %d held workers", start,
                  nconns);
    for (int i = 0; i < nconns; i++)
        pth_conn_close(held[i]);

    int64_t t0 = pth_now_ms();
    int n = wait_children(1, settled, 15000);
    ck_assert_msg(n >= 1 && n <= settled, "%d children 15 s after the burst (peak %d), want <= %d",
                  n, peak, settled);
    int64_t took = pth_now_ms() - t0;
    assert_xgen("(none)");
    ck_assert_msg(pth_file_wait_contains(h->error_log, "retiring child", LOG_MS),
                  "no \"retiring child\" logged (peak %d, settled in %lld ms)", peak,
                  (long long)took);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(portico_minus_V_names_the_mpm_in_use_and_all_three_compiled)
{
    static const char *const mpms[] = {"worker", "event", "prefork"};
    for (size_t i = 0; i < 3; i++) {
        pth_config(h, "MPM %s\n", mpms[i]);
        pth_run_t r;
        pth_run(h, 10000, &r, "-V", "-f", h->conf, NULL);
        ck_assert_msg(r.code == 0, "-V exit %d: %s", r.code, r.err);
        char want[64];
        snprintf(want, sizeof(want), "\nServer MPM:     %s\n", mpms[i]);
        ck_assert_msg(strstr(r.out, want) != NULL, "no \"%s\" in: %s", want + 1, r.out);
        const char *c = strstr(r.out, "\nCompiled MPMs:");
        ck_assert_msg(c != NULL, "no \"Compiled MPMs:\" in: %s", r.out);
        char line[256];
        snprintf(line, sizeof(line), "%.*s", (int)strcspn(c + 1, "\n"), c + 1);
        ck_assert_msg(strstr(line, "event") && strstr(line, "worker") && strstr(line, "prefork"),
                      "compiled MPMs line: %s", line);
        pth_run_free(&r);
    }
}
END_TEST

/* Workers write their scoreboard slots (request line, client, counters) while another
 * thread renders them on the status page: the page reads what is there, torn at worst,
 * never past a field, and (under TSan) without a data race. */
typedef struct {
    int port;
    int64_t until_ms;
    int ok, bad;
} load_arg_t;

static void *load_small(void *p)
{
    load_arg_t *a = p;
    /* 50 requests a connection: below MaxKeepAliveRequests, which closes at 100. */
    while (pth_now_ms() < a->until_ms && a->bad == 0) {
        pth_conn_t *c = pth_conn_open_port(a->port);
        for (int i = 0; i < 50 && pth_now_ms() < a->until_ms; i++) {
            pth_conn_sendf(c, "GET /small.txt?n=%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
            pth_resp_t r;
            int rc = pth_conn_read_response(c, &r, false, 10000);
            if (rc == 0 && r.status == 200 && strcmp(r.body, "small\n") == 0)
                a->ok++;
            else
                a->bad++;
            if (rc != 0)
                break;
            pth_resp_free(&r);
        }
        pth_conn_close(c);
    }
    return NULL;
}

START_TEST(the_status_page_renders_slots_while_their_workers_write_them)
{
    pth_config(h, "%sExtendedStatus On\n%s", procs(), handlers);
    pth_start(h);
    ck_assert_msg(wait_children(1, MAX_KIDS, 3000) >= 1, "no children");
    enum { NLOAD = 3 };
    load_arg_t args[NLOAD];
    pthread_t t[NLOAD];
    for (int i = 0; i < NLOAD; i++) {
        args[i] = (load_arg_t){.port = h->port, .until_ms = pth_now_ms() + 1500};
        ck_assert_int_eq(pthread_create(&t[i], NULL, load_small, &args[i]), 0);
    }
    int pages = 0;
    for (int64_t end = pth_now_ms() + 1500; pth_now_ms() < end; pages++) {
        char *b = get_body("/server-status", 200);
        ck_assert_msg(strstr(b, "</html>") != NULL, "a status page is cut short: %s", b);
        free(b);
    }
    for (int i = 0; i < NLOAD; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(args[i].bad == 0 && args[i].ok > 0, "load %d: %d ok, %d bad", i,
                      args[i].ok, args[i].bad);
    }
    ck_assert_int_gt(pages, 0);
    ck_assert_msg(pth_running(h), "the server died while its status page was read");
    pth_check_error_log(h);
    pth_check_stderr(h);
}
END_TEST

/* A child whose worker threads cannot all start (the few_threads shim: the third
 * pthread_create fails, as at a process's limit) serves with those that did, logs why, and
 * the scoreboard shows exactly those: the slot of the thread that failed stays open ('.'),
 * not waiting ('_') for a thread that never ran. */
START_TEST(a_child_shows_only_the_worker_threads_that_started)
{
    pth_config(h,
               "StartServers 1\nServerLimit 1\nThreadLimit 6\nThreadsPerChild 6\n"
               "MinSpareThreads 1\nMaxSpareThreads 12\n%s",
               handlers);
    pth_expect_error(h, "cannot start worker thread");
    setenv("PTH_FEW_THREADS", "2", 1);
    pth_start_preloaded(h, "few_threads");
    unsetenv("PTH_FEW_THREADS");
    ck_assert(pth_file_wait_contains(h->error_log, "cannot start worker thread", LOG_MS));
    char *b = get_body("/server-status?auto", 200);
    for (int64_t end = pth_now_ms() + 5000;
         field(b, "IdleWorkers") + field(b, "BusyWorkers") != 2 && pth_now_ms() < end;) {
        free(b);
        pth_sleep_ms(50);
        b = get_body("/server-status?auto", 200);
    }
    const char *sc = strstr(b, "\nScoreboard: ");
    ck_assert_msg(sc != NULL, "no Scoreboard line in: %s", b);
    sc += strlen("\nScoreboard: ");
    size_t len = strcspn(sc, "\n");
    ck_assert_msg(len == 6, "Scoreboard has %zu slots: %.*s", len, (int)len, sc);
    long open_slots = 0;
    for (size_t i = 0; i < len; i++)
        open_slots += sc[i] == '.';
    ck_assert_msg(open_slots == 4 && field(b, "IdleWorkers") + field(b, "BusyWorkers") == 2,
                  "two threads started, but: IdleWorkers %ld BusyWorkers %ld Scoreboard %.*s",
                  field(b, "IdleWorkers"), field(b, "BusyWorkers"), (int)len, sc);
    free(b);
    for (int i = 0; i < 20; i++)
        free(get_body("/small.txt", 200));
}
END_TEST

START_TEST(server_status_and_metrics_show_the_workers)
{
    pth_config(h, "%s%s", procs(), handlers);
    pth_start(h);
    ck_assert_int_eq(wait_children(2, 2, 3000), 2);
    /* A child shows in /proc a moment before the parent writes its pid to the scoreboard,
     * and its slots show S (starting) until it is ready to serve: under load a prefork child
     * was caught starting (IdleWorkers 0). Wait for both before reading the figures. */
    char *b = get_body("/server-status?auto", 200);
    for (int64_t end = pth_now_ms() + 5000;
         (field(b, "Processes") != 2 || field(b, "IdleWorkers") < 1) && pth_now_ms() < end;) {
        free(b);
        pth_sleep_ms(50);
        b = get_body("/server-status?auto", 200);
    }
    const char *mpm = getenv("PORTICO_TEST_MPM");
    char want[64];
    snprintf(want, sizeof(want), "\nServerMPM: %s\n", mpm && *mpm ? mpm : "event");
    ck_assert_msg(strstr(b, want) != NULL, "no \"%s\" in: %s", want + 1, b);
    ck_assert_msg(field(b, "Processes") == 2, "Processes %ld in: %s", field(b, "Processes"), b);
    ck_assert_msg(field(b, "BusyWorkers") >= 1, "BusyWorkers %ld", field(b, "BusyWorkers"));
    long idle = field(b, "IdleWorkers");
    ck_assert_msg(idle >= 1, "IdleWorkers %ld", idle);
    const char *sc = strstr(b, "\nScoreboard: ");
    ck_assert_msg(sc != NULL, "no Scoreboard line in: %s", b);
    sc += strlen("\nScoreboard: ");
    size_t len = strcspn(sc, "\n");
    ck_assert_msg(len == (prefork() ? 8u : 40u), "Scoreboard has %zu slots: %.*s", len, (int)len,
                  sc);
    long busy_letters = 0, idle_letters = 0;
    for (size_t i = 0; i < len; i++) {
        ck_assert_msg(strchr("_SRWKDCLGI.", sc[i]) != NULL, "letter '%c' in %.*s", sc[i],
                      (int)len, sc);
        busy_letters += strchr("RWKDCLG", sc[i]) != NULL;
        idle_letters += sc[i] == '_';
    }
    /* One read of the slots makes both, and no process is stopping: they agree exactly. */
    ck_assert_msg(field(b, "Stopping") == 0, "Stopping %ld in: %s", field(b, "Stopping"), b);
    ck_assert_msg(busy_letters == field(b, "BusyWorkers") && idle_letters == idle,
                  "BusyWorkers %ld IdleWorkers %ld, letters %ld busy %ld idle: %.*s",
                  field(b, "BusyWorkers"), idle, busy_letters, idle_letters, (int)len, sc);
    free(b);

    char *m = get_body("/metrics", 200);
    ck_assert_msg(metric(m, "portico_processes") == 2, "portico_processes %ld",
                  metric(m, "portico_processes"));
    long before = metric(m, "portico_requests_by_method_total{method=\"GET\"}");
    long ok_before = metric(m, "portico_requests_total{class=\"2xx\"}");
    ck_assert_msg(before >= 1 && ok_before >= 1, "GET %ld 2xx %ld in: %s", before, ok_before, m);
    free(m);
    for (int i = 0; i < 5; i++)
        assert_xgen("(none)");
    /* A request is counted before its response goes out, so one read, with no polling,
     * sees exactly what was sent since the last: that /metrics GET and the five. */
    m = get_body("/metrics", 200);
    long after = metric(m, "portico_requests_by_method_total{method=\"GET\"}");
    long ok_after = metric(m, "portico_requests_total{class=\"2xx\"}");
    free(m);
    ck_assert_msg(after == before + 6, "GET count %ld -> %ld after 6 requests", before, after);
    ck_assert_msg(ok_after == ok_before + 6, "2xx count %ld -> %ld", ok_before, ok_after);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

static Suite *mpm_suite(void)
{
    Suite *s = suite_create("mpm");
    TCase *tc = tcase_create("mpm");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc,
                   graceful_restart_lets_a_request_in_flight_finish_and_serves_the_new_generation);
    tcase_add_test(tc, restart_with_a_broken_config_keeps_serving);
    tcase_add_test(tc, graceful_stop_drains_then_exits);
    tcase_add_test(tc, killing_a_child_gets_it_replaced);
    tcase_add_test(tc, a_child_that_crashes_while_stopping_is_logged_as_an_error);
    tcase_add_test(tc, a_burst_adds_children_and_they_are_retired_after);
    tcase_add_test(tc, portico_minus_V_names_the_mpm_in_use_and_all_three_compiled);
    tcase_add_test(tc, server_status_and_metrics_show_the_workers);
    pth_tcase_add_for(tc, "event worker", a_child_shows_only_the_worker_threads_that_started);
    tcase_add_test(tc, the_status_page_renders_slots_while_their_workers_write_them);
    suite_add_tcase(s, tc);
    /* Its own case, so CK_RUN_CASE=graceful can repeat it alone. */
    TCase *gr = tcase_create("graceful");
    tcase_add_checked_fixture(gr, setup, teardown);
    tcase_set_timeout(gr, 90);
    tcase_add_test(gr, connections_arriving_as_a_graceful_restart_begins_are_all_served);
    suite_add_tcase(s, gr);
    /* Its own case, so CK_RUN_CASE=linger can repeat it alone. */
    TCase *lg = tcase_create("linger");
    tcase_add_checked_fixture(lg, setup, teardown);
    tcase_set_timeout(lg, 90);
    tcase_add_test(lg, a_client_that_keeps_sending_is_cut_off_at_the_linger_deadline);
    suite_add_tcase(s, lg);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mpm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
