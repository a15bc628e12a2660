/* Process limits as an operator meets them: inconsistent values adjusted with Apache's
 * warnings, meaningless ones refused by `portico -t` with file:line, a full event child
 * that stops accepting while its sibling takes the load, MaxConnectionsPerChild replacing
 * children, and requests queued behind busy workers served rather than refused. Tests that
 * are about one MPM set it themselves and run once (under the event registration); the
 * others run under the MPM of PORTICO_TEST_MPM. */
#include "harness.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_MS 3000
#define MAX_KIDS 32
#define MAX_SOCKS 256

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

static const char *mpm_under_test(void)
{
    const char *m = getenv("PORTICO_TEST_MPM");
    return m && *m ? m : "event";
}

static const char *const status_handler =
    "<Location /server-status>\nSetHandler server-status\n</Location>\n";

/* ---- Observing the server ---------------------------------------------------------- */

static char *status_auto(void)
{
    pth_resp_t r;
    pth_get(h, "/server-status?auto", NULL, &r);
    ck_assert_msg(r.status == 200, "server-status?auto: %d", r.status);
    char *b = strdup(r.body);
    pth_resp_free(&r);
    return b;
}

static long field(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, key, kl) == 0 && p[kl] == ':')
            return strtol(p + kl + 1, NULL, 10);
    return -1;
}

/* The Scoreboard line of ?auto text: its length, and in *open the slots not '.'. */
static size_t scoreboard_len(const char *text, size_t *open)
{
    const char *sc = strstr(text, "\nScoreboard: ");
    ck_assert_msg(sc != NULL, "no Scoreboard line in: %s", text);
    sc += strlen("\nScoreboard: ");
    size_t len = strcspn(sc, "\n");
    *open = 0;
    for (size_t i = 0; i < len; i++)
        *open += sc[i] != '.';
    return len;
}

/* BusyWorkers and IdleWorkers come from the same read of the slots as the Scoreboard line:
 * with no process stopping, they are exactly its busy letters and its '_'s ('S' and 'I'
 * count as neither, as in mod_status). Returns how many slots are up (busy or idle). */
static long up_slots_matching_totals(const char *text)
{
    ck_assert_msg(field(text, "Stopping") == 0, "a process is stopping: %s", text);
    const char *sc = strstr(text, "\nScoreboard: ");
    ck_assert_msg(sc != NULL, "no Scoreboard line in: %s", text);
    sc += strlen("\nScoreboard: ");
    long busy = 0, idle = 0;
    for (size_t i = 0; sc[i] && sc[i] != '\n'; i++) {
        idle += sc[i] == '_';
        busy += strchr("RWKDCLG", sc[i]) != NULL;
    }
    ck_assert_msg(field(text, "BusyWorkers") == busy && field(text, "IdleWorkers") == idle,
                  "BusyWorkers %ld and IdleWorkers %ld, letters say %ld and %ld: %s",
                  field(text, "BusyWorkers"), field(text, "IdleWorkers"), busy, idle, text);
    return busy + idle;
}

/* Polls server-status until want slots are up (a child's threads start one by one), checking
 * the totals against the letters on every read; returns the last text. */
static char *status_with_up_slots(char *b, long want)
{
    for (int64_t end = pth_now_ms() + 5000;
         up_slots_matching_totals(b) != want && pth_now_ms() < end;) {
        pth_sleep_ms(50);
        free(b);
        b = status_auto();
    }
    return b;
}

static void assert_small(void)
{
    pth_resp_t r;
    pth_get(h, "/small.txt", NULL, &r);
    ck_assert_msg(r.status == 200, "GET /small.txt: %d", r.status);
    ck_assert_str_eq(r.body, "small\n");
    pth_resp_free(&r);
}

/* Child processes of the server (ppid == server pid, not zombies), from /proc. */
static int children(pid_t *out, int max)
{
    return pth_children(h->pid, out, max);
}

static int wait_children(int want, int ms)
{
    pid_t k[MAX_KIDS];
    int n = -1;
    for (int64_t end = pth_now_ms() + ms; pth_now_ms() < end; pth_sleep_ms(50))
        if ((n = children(k, MAX_KIDS)) == want)
            return n;
    return n;
}

/* Inodes of the established TCP sockets whose local port is the server's (the server's
 * side of client connections), from /proc/net/tcp. */
/* /proc/net/tcp is read in pieces, and while other processes open and close thousands of
 * sockets a piece can skip entries: a socket is taken as ours when any of three reads lists
 * it. */
static int server_side_inodes(unsigned long *out, int max)
{
    int n = 0;
    char port[8]; /* ":PORT " in the local address column, as the kernel prints it */
    snprintf(port, sizeof(port), ":%04X ", (unsigned)h->port);
    for (int pass = 0; pass < 3; pass++) {
        size_t len = 0;
        char *t = pth_read_file("/proc/net/tcp", &len);
        ck_assert(t != NULL);
        /* Each line is copied out before any string function sees it: the file holds
         * thousands of other sockets on a shared machine, and str* on the rest of a
         * megabyte per line (ASan's checks measure it) made this quadratic. */
        const char *end = t + len;
        for (const char *p = memchr(t, '\n', len); p && p + 1 < end && n < max;) {
            const char *eol = memchr(p + 1, '\n', (size_t)(end - p - 1));
            size_t ll = (size_t)((eol ? eol : end) - (p + 1));
            char line[256];
            snprintf(line, sizeof(line), "%.*s", (int)(ll < sizeof(line) ? ll : sizeof(line) - 1),
                     p + 1);
            p = eol;
            /* "  sl: LOCAL:PORT REMOTE:PORT ST ...": the port first, then the parse. */
            const char *local = strstr(line, ": ");
            unsigned lport, st;
            unsigned long inode;
            if (!local || strncmp(local + 10, port, 6) != 0 ||
                sscanf(line, " %*d: %*x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu", &lport,
                       &st, &inode) != 3 || lport != (unsigned)h->port || st != 1 || inode == 0)
                continue;
            bool seen = false;
            for (int i = 0; i < n && !seen; i++)
                seen = out[i] == inode;
            if (!seen)
                out[n++] = inode;
        }
        free(t);
    }
    return n;
}

static int conns_of(pid_t pid)
{
    unsigned long ino[MAX_SOCKS];
    int ni = server_side_inodes(ino, MAX_SOCKS);
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[320], link[64];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        ssize_t l = readlink(path, link, sizeof(link) - 1);
        unsigned long inode;
        if (l <= 0)
            continue;
        link[l] = '\0';
        if (sscanf(link, "socket:[%lu]", &inode) != 1)
            continue;
        for (int i = 0; i < ni; i++)
            n += ino[i] == inode;
    }
    closedir(d);
    return n;
}

/* A POST to a static file whose body never comes: the worker waits in the body read. */
static pth_conn_t *hold_a_worker(void)
{
    pth_conn_t *c = pth_conn_open(h);
    ck_assert_int_eq(pth_conn_sendf(c, "POST /small.txt HTTP/1.1\r\nHost: localhost\r\n"
                                       "Content-Length: 100\r\n\r\n"), 0);
    return c;
}

/* ---- Adjusted limits ----------------------------------------------------------------- */

/* Starts with the limits in body (threaded MPM under test), checks the warning is logged,
 * a request is served, and returns the ?auto text (caller frees). */
static char *start_with_limits(const char *body, const char *warning)
{
    pth_config(h, "%s%sTimeout 10\n", body, status_handler);
    pth_start(h);
    ck_assert_msg(pth_file_wait_contains(h->error_log, warning, LOG_MS),
                  "no \"%s\" in the error log", warning);
    assert_small();
    return status_auto();
}

START_TEST(max_request_workers_not_a_multiple_of_threads_per_child_is_decreased)
{
    /* 30 -> 25 workers: one child at most, so StartServers 3 yields one process. */
    char *b = start_with_limits("StartServers 3\nServerLimit 4\nThreadLimit 25\n"
                                "ThreadsPerChild 25\nMaxRequestWorkers 30\n"
                                "MinSpareThreads 1\nMaxSpareThreads 50\n",
                                "MaxRequestWorkers of 30 is not an integer multiple of "
                                "ThreadsPerChild of 25, decreasing to nearest multiple 25");
    size_t open = 0;
    ck_assert_uint_eq(scoreboard_len(b, &open), 100); /* ServerLimit x ThreadLimit */
    ck_assert_msg(field(b, "Processes") == 1, "Processes %ld, want 1 (25 workers)",
                  field(b, "Processes"));
    ck_assert_uint_eq(open, 25);
    free(b);
    pth_sleep_ms(1500); /* a spare-maintenance tick: no child beyond MaxRequestWorkers */
    ck_assert_int_eq(wait_children(1, 100), 1);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(max_request_workers_beyond_server_limit_is_decreased)
{
    char *b = start_with_limits("StartServers 2\nServerLimit 2\nThreadLimit 5\n"
                                "ThreadsPerChild 5\nMaxRequestWorkers 40\n"
                                "MinSpareThreads 1\nMaxSpareThreads 20\n",
                                "MaxRequestWorkers of 40 would require 8 servers and would "
                                "exceed ServerLimit of 2, decreasing to 10");
    /* The second child may still be starting: its workers count once they are up. */
    b = status_with_up_slots(b, 10);
    size_t open = 0;
    ck_assert_uint_eq(scoreboard_len(b, &open), 10);
    ck_assert_msg(field(b, "Processes") == 2, "Processes %ld", field(b, "Processes"));
    ck_assert_uint_eq(open, 10);
    ck_assert_int_eq(up_slots_matching_totals(b), 10);
    free(b);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(threads_per_child_beyond_thread_limit_is_decreased)
{
    char *b = start_with_limits("StartServers 1\nServerLimit 2\nThreadLimit 4\n"
                                "ThreadsPerChild 10\nMaxRequestWorkers 8\n"
                                "MinSpareThreads 1\nMaxSpareThreads 20\n",
                                "ThreadsPerChild of 10 exceeds ThreadLimit of 4, decreasing");
    b = status_with_up_slots(b, 4);
    size_t open = 0;
    ck_assert_uint_eq(scoreboard_len(b, &open), 8); /* 2 x 4: the limit, not 10 */
    ck_assert_msg(field(b, "Processes") == 1, "Processes %ld", field(b, "Processes"));
    ck_assert_uint_eq(open, 4);
    ck_assert_int_eq(up_slots_matching_totals(b), 4);
    free(b);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- Meaningless values -------------------------------------------------------------- */

START_TEST(meaningless_process_values_are_refused_with_file_and_line)
{
    static const char *const bad[] = {"MaxRequestWorkers -1", "StartServers abc",
                                      "MPM nosuch", "AsyncRequestWorkerFactor -1",
                                      "AsyncRequestWorkerFactor 0", "ThreadsPerChild 2x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* Three lines before it, so the line number is not an accident of the prelude. */
        pth_config(h, "Timeout 10\nKeepAlive On\nServerTokens Prod\n%s\n", bad[i]);
        char *t = pth_read_file(h->conf, NULL);
        ck_assert(t != NULL);
        char *at = strstr(t, bad[i]);
        ck_assert(at != NULL);
        int line = 1;
        for (char *q = t; q < at; q++)
            line += *q == '\n';
        free(t);
        pth_run_t r;
        pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
        char want[400];
        snprintf(want, sizeof(want), "%s:%d:", h->conf, line);
        ck_assert_msg(r.code == 1, "%s: -t exit %d (%s%s)", bad[i], r.code, r.out, r.err);
        ck_assert_msg(strstr(r.err, want) != NULL, "%s: no \"%s\" in: %s", bad[i], want, r.err);
        ck_assert_msg(strstr(r.out, "Syntax OK") == NULL, "%s: Syntax OK", bad[i]);
        pth_run_free(&r);
    }
}
END_TEST

/* ---- Event: a full child stops accepting ------------------------------------------- */

/* Holds connections one at a time until one child holds three (two on its workers, one
 * queued: beyond ThreadsPerChild + idle x 1) and the other none: the sibling needs both its
 * workers for what follows, one held and one for a fresh request. Which child accepts is the
 * kernel's choice: the first whose listener waits in epoll_wait, the same one as a rule, the
 * other when that one's listener is awake at the moment (under load, now and then, the first
 * connection too). So when both hold some, those of the child that holds fewer are let go,
 * and on a tie those of the child the last one did not go to. */
static int fill_one_child(const pid_t kids[2], pth_conn_t **held, int *full)
{
    int nheld = 0, in[64], was[2] = {0, 0};
    for (int attempt = 0; attempt < 60; attempt++) {
        held[nheld++] = hold_a_worker();
        int c[2] = {0, 0};
        for (int64_t end = pth_now_ms() + 2000; pth_now_ms() < end; pth_sleep_ms(20)) {
            c[0] = conns_of(kids[0]);
            c[1] = conns_of(kids[1]);
            if (c[0] + c[1] == nheld)
                break;
        }
        ck_assert_msg(c[0] + c[1] == nheld, "children hold %d+%d of %d connections", c[0], c[1],
                      nheld);
        int last = c[1] > was[1] ? 1 : 0;
        in[nheld - 1] = last;
        if (c[0] > 0 && c[1] > 0) {
            int keep = c[0] == c[1] ? last : c[1] > c[0];
            int kept = 0;
            for (int i = 0; i < nheld; i++) {
                if (in[i] == keep) {
                    held[kept] = held[i];
                    in[kept++] = in[i];
                } else
                    pth_conn_close(held[i]);
            }
            nheld = kept;
            for (int64_t end = pth_now_ms() + 2000; pth_now_ms() < end; pth_sleep_ms(20))
                if (conns_of(kids[1 - keep]) == 0)
                    break;
            c[1 - keep] = 0;
        }
        for (int k = 0; k < 2; k++)
            if (c[k] == 3 && c[1 - k] == 0) {
                *full = k;
                return nheld;
            }
        was[0] = c[0];
        was[1] = c[1];
    }
    ck_abort_msg("no child reached three connections in 60 attempts");
    return 0;
}

/* Waits up to ms for pid's line "child full (...): not accepting" (LogLevel debug). */
static bool full_child_logged(pid_t pid, int ms)
{
    char who[32];
    snprintf(who, sizeof(who), "[pid %d:", (int)pid);
    for (int64_t end = pth_now_ms() + ms;; pth_sleep_ms(20)) {
        char *log = pth_read_file(h->error_log, NULL);
        bool found = false;
        for (char *line = log, *nl; line && *line && !found; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            found = strstr(line, who) && strstr(line, "): not accepting");
        }
        free(log);
        if (found || pth_now_ms() >= end)
            return found;
    }
}

START_TEST(event_full_child_stops_accepting_and_its_sibling_takes_the_load)
{
    pth_config(h, "MPM event\nStartServers 2\nServerLimit 2\nThreadLimit 2\nThreadsPerChild 2\n"
                  "MaxRequestWorkers 4\nMinSpareThreads 1\nMaxSpareThreads 20\n"
                  "AsyncRequestWorkerFactor 1\nTimeout 90\nRequestReadTimeout body=90\n"
                  "LogLevel debug\n");
    /* The held bodies outlast the test: the default body read timeout (20 s) did not under
     * TSan, where filling one child took longer and the first held connections got 408s. */
    pth_start(h);
    ck_assert_int_eq(wait_children(2, 3000), 2);
    pid_t kids[MAX_KIDS];
    ck_assert_int_eq(children(kids, MAX_KIDS), 2);
    pth_sleep_ms(300); /* both children's workers up */

    pth_conn_t *held[64];
    int full = -1;
    int nheld = fill_one_child(kids, held, &full);
    /* The full child's listener counts its connections when it wakes (at an accept, and
     * every 10 ms while one is queued); until it has, it may still take the next one. */
    ck_assert_msg(full_child_logged(kids[full], 10000),
                  "child %d never logged that it is full and not accepting", (int)kids[full]);
    /* Every new connection now goes to the sibling, which has a free worker. */
    for (int i = 0; i < 3; i++) {
        pth_conn_t *c = hold_a_worker();
        held[nheld++] = c;
        int in_sib = 0;
        int want_sib = nheld - 3;
        for (int64_t end = pth_now_ms() + 2000; pth_now_ms() < end; pth_sleep_ms(20))
            if ((in_sib = conns_of(kids[1 - full])) == want_sib)
                break;
        ck_assert_msg(in_sib == want_sib && conns_of(kids[full]) == 3,
                      "connection %d: full child holds %d, sibling %d (want 3, %d)", i,
                      conns_of(kids[full]), in_sib, want_sib);
        if (i == 2)
            break; /* the last one stays: both children busy */
        pth_conn_close(held[--nheld]); /* keep the sibling's worker free for the next */
        for (int64_t end = pth_now_ms() + 2000; pth_now_ms() < end; pth_sleep_ms(20))
            if (conns_of(kids[1 - full]) == want_sib - 1)
                break;
    }
    /* Both children hold connections, and a fresh request is answered by the sibling's
     * free worker while the full child still holds its three. */
    int64_t t0 = pth_now_ms();
    assert_small();
    ck_assert_msg(pth_now_ms() - t0 < 2000, "a fresh request took %lld ms",
                  (long long)(pth_now_ms() - t0));
    ck_assert_int_eq(conns_of(kids[full]), 3);
    ck_assert_int_eq(conns_of(kids[1 - full]), 1);
    for (int i = 0; i < nheld; i++)
        pth_conn_close(held[i]);
    assert_small();
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- MaxConnectionsPerChild ---------------------------------------------------------- */

static bool in_set(pid_t p, const pid_t *set, int n)
{
    for (int i = 0; i < n; i++)
        if (set[i] == p)
            return true;
    return false;
}

START_TEST(max_connections_per_child_replaces_children_and_every_request_succeeds)
{
    bool prefork = strcmp(mpm_under_test(), "prefork") == 0;
    pth_config(h, "%sMaxConnectionsPerChild 5\nTimeout 10\n",
               prefork ? "StartServers 2\nMinSpareServers 1\nMaxSpareServers 3\nServerLimit 4\n"
                       : "StartServers 2\nServerLimit 4\nThreadLimit 2\nThreadsPerChild 2\n"
                         "MinSpareThreads 1\nMaxSpareThreads 8\n");
    pth_start(h);
    ck_assert_int_eq(wait_children(2, 3000), 2);
    pid_t first[MAX_KIDS];
    int nfirst = children(first, MAX_KIDS);
    pid_t seen[256];
    int nseen = 0;
    int ok = 0;
    for (int i = 0; i < 20; i++) {
        pth_resp_t r;
        int rc = pth_curl(h, "GET", "/small.txt", NULL, NULL, 0, &r); /* a new connection */
        ck_assert_msg(rc == 0, "request %d: curl error %d", i, rc);
        ck_assert_msg(r.status == 200 && strcmp(r.body, "small\n") == 0,
                      "request %d: status %d", i, r.status);
        pth_resp_free(&r);
        ok++;
        pid_t now[MAX_KIDS];
        int n = children(now, MAX_KIDS);
        for (int k = 0; k < n && nseen < 256; k++)
            if (!in_set(now[k], seen, nseen))
                seen[nseen++] = now[k];
    }
    ck_assert_int_eq(ok, 20);
    /* 20 connections at 5 per child: at least 4 children lived, 2 of them replacements. */
    pid_t last[MAX_KIDS];
    int nlast = 0;
    for (int64_t end = pth_now_ms() + 3000; pth_now_ms() < end; pth_sleep_ms(50)) {
        nlast = children(last, MAX_KIDS);
        for (int k = 0; k < nlast && nseen < 256; k++)
            if (!in_set(last[k], seen, nseen))
                seen[nseen++] = last[k];
        if (nseen >= 4 && nlast >= 1)
            break;
    }
    ck_assert_msg(nseen >= 4, "only %d distinct children served 20 connections", nseen);
    int replaced = 0;
    for (int k = 0; k < nfirst; k++)
        replaced += !in_set(first[k], last, nlast);
    ck_assert_msg(replaced >= 1, "none of the first %d children was replaced", nfirst);
    if (!prefork)
        ck_assert_msg(pth_file_wait_contains(h->error_log, "MaxConnectionsPerChild (5) reached",
                                             LOG_MS),
                      "no MaxConnectionsPerChild retirement in the error log");
    assert_small();
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- Queued requests ----------------------------------------------------------------- */

START_TEST(requests_queued_behind_busy_workers_are_served_not_refused)
{
    pth_config(h, "MPM event\nStartServers 1\nServerLimit 1\nThreadLimit 1\nThreadsPerChild 1\n"
                  "MaxRequestWorkers 1\nMinSpareThreads 1\nMaxSpareThreads 4\nTimeout 20\n");
    pth_start(h);
    /* Two slow requests: POSTs whose bodies arrive late, each holding the only worker. */
    pth_conn_t *slow[2], *fast[3];
    for (int i = 0; i < 2; i++)
        slow[i] = hold_a_worker();
    for (int i = 0; i < 3; i++) {
        fast[i] = pth_conn_open(h);
        ck_assert_int_eq(pth_conn_sendf(fast[i], "GET /small.txt?fast%d HTTP/1.1\r\n"
                                                 "Host: localhost\r\nConnection: close\r\n\r\n",
                                        i), 0);
        pth_sleep_ms(50); /* arrival order is the order they must be served in */
    }
    pth_sleep_ms(500);
    char body[100];
    memset(body, 'x', sizeof(body));
    /* Both bodies at once: which of the two holds the worker meanwhile is the server's choice. */
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pth_conn_send(slow[i], body, sizeof(body)), 0);
    for (int i = 0; i < 2; i++) {
        pth_resp_t r;
        int rc = pth_conn_read_response(slow[i], &r, false, 10000);
        ck_assert_msg(rc == 0, "slow request %d: %d", i, rc);
        ck_assert_msg(r.status == 405, "slow request %d: status %d", i, r.status);
        pth_resp_free(&r);
        pth_conn_close(slow[i]);
    }
    for (int i = 0; i < 3; i++) {
        pth_resp_t r;
        int rc = pth_conn_read_response(fast[i], &r, false, 10000);
        ck_assert_msg(rc == 0, "fast request %d: %d", i, rc);
        ck_assert_msg(r.status == 200, "fast request %d: status %d", i, r.status);
        ck_assert_str_eq(r.body, "small\n");
        pth_resp_free(&r);
        pth_conn_close(fast[i]);
    }
    ck_assert_int_eq(pth_stop(h), 0);
    /* The access log is written in the order the worker finished them. */
    char *log = pth_read_file(h->access_log, NULL);
    ck_assert(log != NULL);
    const char *prev = strstr(log, "\"POST /small.txt");
    ck_assert_msg(prev != NULL, "no POST in the access log: %s", log);
    for (int i = 0; i < 3; i++) {
        char want[32];
        snprintf(want, sizeof(want), "GET /small.txt?fast%d ", i);
        const char *at = strstr(log, want);
        ck_assert_msg(at != NULL && at > prev, "\"%s\" missing or out of order in: %s", want,
                      log);
        prev = at;
    }
    free(log);
}
END_TEST

/* Zero threads per child, thread slots or servers is meaningless: refused by -t with the
 * line, not a crash at start. */
START_TEST(zero_threads_or_servers_are_refused_with_file_and_line)
{
    static const char *const bad[] = {"ThreadsPerChild 0", "ThreadLimit 0", "ServerLimit 0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pth_config(h, "Timeout 10\n%s\n", bad[i]);
        char *t = pth_read_file(h->conf, NULL);
        int line = 1;
        for (char *q = t; q < strstr(t, bad[i]); q++)
            line += *q == '\n';
        free(t);
        pth_run_t r;
        pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
        char want[400];
        snprintf(want, sizeof(want), "%s:%d:", h->conf, line);
        ck_assert_msg(r.code == 1, "%s: -t exit %d (%s)", bad[i], r.code, r.out);
        ck_assert_msg(strstr(r.err, want) != NULL, "%s: no \"%s\" in: %s", bad[i], want, r.err);
        pth_run_free(&r);
    }
}
END_TEST

static Suite *limits_suite(void)
{
    Suite *s = suite_create("mpm_limits");
    TCase *tc = tcase_create("mpm_limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    /* Thread limits: prefork has one thread per child, nothing to adjust. */
    pth_tcase_add_for(tc, "event worker",
                      max_request_workers_not_a_multiple_of_threads_per_child_is_decreased);
    pth_tcase_add_for(tc, "event worker", max_request_workers_beyond_server_limit_is_decreased);
    pth_tcase_add_for(tc, "event worker", threads_per_child_beyond_thread_limit_is_decreased);
    tcase_add_test(tc, meaningless_process_values_are_refused_with_file_and_line);
    tcase_add_test(tc, zero_threads_or_servers_are_refused_with_file_and_line);
    /* These set MPM event themselves: registered in the event run only, not repeated. */
    tcase_add_test(tc, max_connections_per_child_replaces_children_and_every_request_succeeds);
    pth_tcase_add_for(tc, "event", requests_queued_behind_busy_workers_are_served_not_refused);
    suite_add_tcase(s, tc);
    /* Which child the kernel gives a connection is up to it: filling one child takes up to
     * 60 tries of up to 2 s each (fill_one_child), beyond the 60 s the others get. It takes
     * about 1 s (release and TSan alike) but ran out of the 60 s once while another session
     * held 8,000 idle connections: every count reads /proc/net/tcp three times. Its own
     * bound, then, from its own worst case. */
    TCase *fill = tcase_create("fill_one_child");
    tcase_add_checked_fixture(fill, setup, teardown);
    tcase_set_timeout(fill, 180);
    pth_tcase_add_for(fill, "event", event_full_child_stops_accepting_and_its_sibling_takes_the_load);
    suite_add_tcase(s, fill);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(limits_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
