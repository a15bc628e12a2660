/* The process as an operator sees it: SIGTERM and SIGWINCH stop accepting at once but let a
 * response in flight finish, User/Group drop root, SIGHUP/SIGUSR1 do not kill the server
 * (without a parent process it only logs them; with one it restarts), -k with a stale
 * PidFile fails. */
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUN_MS 10000
#define BIG_SIZE (64u << 20) /* far beyond any socket buffers: the response stays in flight */
#define NOTICE_MS 3000

static pth_t *h;

static void setup(void)
{
    h = pth_new();
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

static void write_big_file(void)
{
    char *data = malloc(BIG_SIZE);
    ck_assert(data != NULL);
    for (size_t i = 0; i < BIG_SIZE; i++)
        data[i] = (char)('a' + i % 26);
    pth_write_file(h, "big.bin", data, BIG_SIZE);
    free(data);
}

/* A client with a small receive buffer (set before connect so the window stays small), so
 * the server cannot push the whole file into kernel buffers and be done. */
static int slow_client_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert(fd >= 0);
    int rcv = 16384;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s",
                  strerror(errno));
    return fd;
}

static void send_all(int fd, const char *s)
{
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);
        ck_assert_msg(n > 0, "send: %s", strerror(errno));
        off += (size_t)n;
    }
}

/* Reads up to want bytes (stops at EOF or after ms); chunk caps each recv so that a small
 * chunk with a pause in between makes a slow reader. Returns the bytes read; *eof set when
 * the peer closed. */
static size_t read_some(int fd, size_t want, size_t chunk, int pause_ms, int ms, bool *eof)
{
    static char buf[65536];
    size_t got = 0;
    int64_t end = pth_now_ms() + ms;
    *eof = false;
    if (chunk > sizeof(buf))
        chunk = sizeof(buf);
    while (got < want && pth_now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(end - pth_now_ms());
        if (poll(&p, 1, left > 0 ? left : 0) <= 0)
            continue;
        size_t take = want - got < chunk ? want - got : chunk;
        ssize_t n = recv(fd, buf, take, 0);
        if (n <= 0) {
            *eof = true;
            break;
        }
        got += (size_t)n;
        if (pause_ms > 0)
            pth_sleep_ms(pause_ms);
    }
    return got;
}

/* Length of the response head at the start of fd's stream (reads it byte-exact). */
static size_t read_head(int fd, char *head, size_t cap)
{
    size_t len = 0;
    int64_t end = pth_now_ms() + 5000;
    while (len + 1 < cap && pth_now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = recv(fd, head + len, 1, 0);
        pth_assert_msg(n == 1, "peer closed in the head");
        len++;
        head[len] = '\0';
        if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0)
            return len;
    }
    ck_abort_msg("no response head within 5 s: %s", head);
    return 0;
}

/* One probe: 1 when the connection is refused; 0 when it got in but was closed (EOF or
 * reset) within ms without a byte of answer; aborts when it was answered, and returns -1
 * when it is still open and silent after ms. */
static int probe_refused(int ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ck_assert(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
    int err = rc == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        socklen_t el = sizeof(err);
        err = poll(&p, 1, ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0
                  ? err : ETIMEDOUT;
    }
    if (err != 0) {
        close(fd);
        ck_assert_msg(err == ECONNREFUSED, "connect: %s", strerror(err));
        return 1;
    }
    static const char req[] = "GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    (void)!send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char buf[256];
    ssize_t n = -1;
    if (poll(&p, 1, ms) > 0)
        n = recv(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    if (n > 0) {
        buf[n] = '\0';
        ck_abort_msg("a new connection was served after the stop: %s", buf);
    }
    return n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE)) ? 0 : -1;
}

/* After the stop the door closes: new connections are refused (Apache closes its
 * listeners at once). Waits for that condition, bounded; a connection that got in while
 * waiting raced the stop and may be answered, so only the state reached counts. */
static void wait_until_refused(void)
{
    int64_t end = pth_now_ms() + NOTICE_MS;
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert(fd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool refused = connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 &&
                       errno == ECONNREFUSED;
        close(fd);
        if (refused)
            return;
        ck_assert_msg(pth_now_ms() < end, "new connections still accepted %d ms after the "
                      "stop was logged", NOTICE_MS);
        pth_sleep_ms(20);
    }
}

/* A fresh connection gets no answer: refused, or reset or closed without a byte. Silence
 * does not count, so a late answer cannot pass. */
static void assert_not_served(void)
{
    int rc = probe_refused(NOTICE_MS);
    ck_assert_msg(rc >= 0, "a new connection after the stop was neither refused nor closed "
                  "within %d ms", NOTICE_MS);
}

typedef void (*stopper_fn)(void);

static void send_sigterm(void)
{
    ck_assert_int_eq(kill(h->pid, SIGTERM), 0);
}

static void send_sigwinch(void)
{
    ck_assert_int_eq(kill(h->pid, SIGWINCH), 0);
}

static void run_graceful_stop(void)
{
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-k", "graceful-stop", "-f", h->conf, NULL);
    ck_assert_msg(r.code == 0, "-k graceful-stop exit %d, stderr: %s", r.code, r.err);
    pth_run_free(&r);
}

static void wait_pid_file(void)
{
    for (int64_t end = pth_now_ms() + 3000; pth_now_ms() < end; pth_sleep_ms(20)) {
        char *t = pth_read_file(h->pid_file, NULL);
        int pid = t ? atoi(t) : 0;
        free(t);
        if (pid == h->pid)
            return;
    }
    ck_abort_msg("PidFile %s never held %d", h->pid_file, (int)h->pid);
}

/* A slow reader is in the middle of 64 MiB when the stop arrives: new connections get
 * nothing, the response completes byte for byte, then the process exits 0. */
static void assert_in_flight_response_survives(stopper_fn stop, const char *log_needle)
{
    write_big_file();
    pth_write_filef(h, "small.txt", "small\n");
    pth_config(h, "GracefulShutdownTimeout 60\n");
    pth_start(h);
    wait_pid_file();
    int fd = slow_client_open(h->port);
    send_all(fd, "GET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    char head[4096];
    read_head(fd, head, sizeof(head));
    ck_assert_msg(strncmp(head, "HTTP/1.1 200", 12) == 0, "head: %s", head);
    char cl[64];
    snprintf(cl, sizeof(cl), "Content-Length: %u\r\n", BIG_SIZE);
    ck_assert_msg(strcasestr(head, cl) != NULL, "no %s in: %s", cl, head);
    bool eof;
    size_t got = read_some(fd, 1u << 20, 16384, 5, 10000, &eof);
    ck_assert_msg(got == 1u << 20 && !eof, "slow start read %zu (eof %d)", got, eof);

    stop();
    ck_assert_msg(pth_file_wait_contains(h->error_log, log_needle, NOTICE_MS),
                  "no \"%s\" in the error log", log_needle);
    wait_until_refused();
    assert_not_served();
    /* Still slow for a while after the signal: the server must wait for us. */
    got += read_some(fd, 1u << 20, 16384, 5, 10000, &eof);
    ck_assert_msg(pth_running(h), "server exited while a response was in flight");
    assert_not_served(); /* and the door stays closed while it does */
    got += read_some(fd, BIG_SIZE - got + 1, 65536, 0, 30000, &eof);
    if (!eof)
        read_some(fd, 1, 1, 0, 2000, &eof);
    close(fd);
    ck_assert_msg(got == BIG_SIZE, "body %zu bytes of %u", got, BIG_SIZE);
    ck_assert_msg(eof, "connection not closed after the full body");
    int code = pth_wait_exit(h, 5000);
    ck_assert_msg(code == 0, "exit %d after the stop (-1: still running)", code);
    ck_assert_msg(access(h->pid_file, F_OK) != 0, "PidFile left behind");
    pth_check_error_log(h);
    pth_check_stderr(h);
}

START_TEST(sigterm_stops_accepting_but_finishes_a_response_in_flight)
{
    assert_in_flight_response_survives(send_sigterm, "caught SIGTERM");
}
END_TEST

START_TEST(sigwinch_stops_accepting_but_finishes_a_response_in_flight)
{
    assert_in_flight_response_survives(send_sigwinch, "caught SIGWINCH");
}
END_TEST

START_TEST(minus_k_graceful_stop_sends_sigwinch_and_finishes_in_flight)
{
    assert_in_flight_response_survives(run_graceful_stop, "caught SIGWINCH");
}
END_TEST

/* Field n (0-based) after the label of a /proc/PID/status line, or -1. */
static long proc_status_field(pid_t pid, const char *label, int n)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    char *s = pth_read_file(path, NULL);
    long v = -1;
    char *p = s ? strstr(s, label) : NULL;
    if (p) {
        p += strlen(label);
        for (int i = 0; i <= n; i++)
            v = strtol(p, &p, 10);
    }
    free(s);
    return v;
}

/* True when process p runs as uid/gid with no other group, or is gone (a retired child);
 * otherwise says why in why. */
static bool ids_dropped(pid_t p, uid_t uid, gid_t gid, char *why, size_t cap)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)p);
    if (access(path, F_OK) != 0)
        return true;
    for (int i = 0; i < 4; i++) {
        long u = proc_status_field(p, "\nUid:", i), g = proc_status_field(p, "\nGid:", i);
        if (u != (long)uid || g != (long)gid) {
            snprintf(why, cap, "Uid/Gid field %d is %ld/%ld, want %d/%d", i, u, g, (int)uid,
                     (int)gid);
            return false;
        }
    }
    long sup = proc_status_field(p, "\nGroups:", 0);
    snprintf(why, cap, "supplementary groups: first is %ld", sup);
    return sup == (long)gid;
}

/* The processes that serve: the children of pid when it has any (a parent that keeps root,
 * as httpd's), else pid itself. Returns how many were stored. */
static int serving_pids(pid_t pid, pid_t *out, int max)
{
    int n = pth_children(pid, out, max);
    if (n == 0)
        out[n++] = pid;
    return n;
}

static void assert_get_ok(const char *path, const char *body)
{
    pth_resp_t r;
    pth_get(h, path, NULL, &r);
    ck_assert_msg(r.status == 200, "GET %s: %d", path, r.status);
    ck_assert_str_eq(r.body, body);
    pth_resp_free(&r);
}

START_TEST(user_and_group_drop_root_and_still_serve)
{
    ck_assert_msg(geteuid() == 0, "this test must run as root (euid %d) to check User/Group",
                  (int)geteuid());
    struct passwd *pw = getpwnam("nobody");
    struct group *gr = getgrnam("nogroup");
    ck_assert_msg(pw && gr, "no user nobody or group nogroup on this system");
    uid_t uid = pw->pw_uid;
    gid_t gid = gr->gr_gid;
    pth_write_filef(h, "hello.txt", "hello nobody\n");
    char parent[256];
    snprintf(parent, sizeof(parent), "%s", h->dir);
    *strrchr(parent, '/') = '\0';
    ck_assert_int_eq(chmod(parent, 0755), 0);
    ck_assert_int_eq(chmod(h->dir, 0755), 0);
    ck_assert_int_eq(chmod(h->docroot, 0755), 0);
    ck_assert_int_eq(chmod(pth_path(h, "htdocs/hello.txt"), 0644), 0);
    pth_config(h, "User nobody\nGroup nogroup\n");
    pth_start(h);
    assert_get_ok("/hello.txt", "hello nobody\n");
    pid_t pids[64];
    int np = serving_pids(h->pid, pids, 64);
    for (int k = 0; k < np; k++) {
        /* A child forked a moment ago (spare maintenance) drops root right after the fork:
         * wait for that, bounded. */
        char why[128] = "";
        for (int64_t end = pth_now_ms() + 3000; !ids_dropped(pids[k], uid, gid, why, 128);
             pth_sleep_ms(20))
            ck_assert_msg(pth_now_ms() < end, "pid %d after 3 s: %s", (int)pids[k], why);
    }
    assert_get_ok("/hello.txt", "hello nobody\n");
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(an_unknown_user_exits_non_zero_naming_it)
{
    ck_assert_msg(geteuid() == 0, "this test must run as root (euid %d): User is only applied "
                  "by root", (int)geteuid());
    pth_config(h, "User nosuchuser\n");
    pth_expect_error(h, "User nosuchuser: no such user");
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-f", h->conf, NULL);
    char *elog = pth_read_file(h->error_log, NULL);
    ck_assert_msg(r.code > 0 && r.code < 128, "exit %d (-1: it kept running)", r.code);
    bool named = strstr(r.err, "nosuchuser") != NULL ||
                 (elog && strstr(elog, "nosuchuser") != NULL);
    ck_assert_msg(named, "user not named; stderr: %s error.log: %s", r.err, elog ? elog : "");
    free(elog);
    pth_run_free(&r);
}
END_TEST

static void assert_restart_signal_is_survived(int sig, const char *name)
{
    pth_write_filef(h, "a.txt", "A");
    pth_config(h, "\n");
    pth_start(h);
    assert_get_ok("/a.txt", "A");
    ck_assert_int_eq(kill(h->pid, sig), 0);
    char needle[64];
    snprintf(needle, sizeof(needle), "caught %s", name);
    ck_assert_msg(pth_file_wait_contains(h->error_log, needle, NOTICE_MS),
                  "no \"%s\" logged", needle);
    pth_sleep_ms(200);
    ck_assert_msg(pth_running(h), "%s killed the server", name);
    assert_get_ok("/a.txt", "A");
    ck_assert_int_eq(pth_stop(h), 0);
}

START_TEST(sighup_does_not_kill_the_server)
{
    assert_restart_signal_is_survived(SIGHUP, "SIGHUP");
}
END_TEST

START_TEST(sigusr1_does_not_kill_the_server)
{
    assert_restart_signal_is_survived(SIGUSR1, "SIGUSR1");
}
END_TEST

/* ---- Restarts with a valid configuration ------------------------------------------ */

/* The X-Generation field of a fresh GET /a.txt ("" when absent). */
static void get_generation(char *out, size_t cap)
{
    pth_resp_t r;
    pth_get(h, "/a.txt", NULL, &r);
    ck_assert_msg(r.status == 200, "GET /a.txt: %d", r.status);
    const char *g = pth_resp_header(&r, "X-Generation");
    snprintf(out, cap, "%s", g ? g : "");
    pth_resp_free(&r);
}

static bool any_alive(const pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        if (kill(pids[i], 0) == 0) {
            char path[64];
            snprintf(path, sizeof(path), "/proc/%d/stat", (int)pids[i]);
            char *st = pth_read_file(path, NULL);
            char *rp = st ? strrchr(st, ')') : NULL;
            bool zombie = rp && rp[1] == ' ' && rp[2] == 'Z';
            free(st);
            if (!zombie)
                return true;
        }
    return false;
}

/* The parent re-reads its configuration on trigger: the same parent, a new generation of
 * children, and every request after the old generation is gone sees the new config. */
static void assert_reload_takes_effect(stopper_fn trigger, const char *caught)
{
    pth_write_filef(h, "a.txt", "A");
    pth_config(h, "Header always set X-Generation one\n");
    pth_start(h);
    wait_pid_file();
    char gen[64];
    get_generation(gen, sizeof(gen));
    ck_assert_str_eq(gen, "one");
    pid_t parent = h->pid, old[64];
    int nold = pth_children(parent, old, 64);
    ck_assert_msg(nold > 0, "no children before the restart");

    pth_config(h, "Header always set X-Generation two\n");
    trigger();
    ck_assert_msg(pth_file_wait_contains(h->error_log, caught, NOTICE_MS), "no \"%s\" logged",
                  caught);
    ck_assert_msg(pth_file_wait_contains(h->error_log, "generation 1 configured", NOTICE_MS),
                  "the new generation was not configured");
    int64_t end = pth_now_ms() + 10000;
    while (any_alive(old, nold)) {
        ck_assert_msg(pth_now_ms() < end, "old children still alive 10 s after the restart");
        pth_sleep_ms(20);
    }
    ck_assert_msg(pth_running(h) && h->pid == parent, "the parent did not survive the restart");
    for (int i = 0; i < 5; i++) {
        get_generation(gen, sizeof(gen));
        ck_assert_msg(strcmp(gen, "two") == 0, "request %d after the restart: X-Generation "
                      "\"%s\", want \"two\"", i, gen);
    }
    ck_assert_int_eq(pth_stop(h), 0);
}

static void send_sighup(void)
{
    ck_assert_int_eq(kill(h->pid, SIGHUP), 0);
}

static void send_sigusr1(void)
{
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
}

static void run_k(const char *action)
{
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-k", action, "-f", h->conf, NULL);
    ck_assert_msg(r.code == 0, "-k %s exit %d, stderr: %s", action, r.code, r.err);
    pth_run_free(&r);
}

static void run_k_restart(void)
{
    run_k("restart");
}

static void run_k_graceful(void)
{
    run_k("graceful");
}

START_TEST(sighup_with_a_valid_config_serves_the_new_one)
{
    assert_reload_takes_effect(send_sighup, "caught SIGHUP");
}
END_TEST

START_TEST(sigusr1_with_a_valid_config_serves_the_new_one)
{
    assert_reload_takes_effect(send_sigusr1, "caught SIGUSR1");
}
END_TEST

START_TEST(minus_k_restart_sends_sighup_and_serves_the_new_config)
{
    assert_reload_takes_effect(run_k_restart, "caught SIGHUP");
}
END_TEST

START_TEST(minus_k_graceful_sends_sigusr1_and_serves_the_new_config)
{
    assert_reload_takes_effect(run_k_graceful, "caught SIGUSR1");
}
END_TEST

/* A graceful restart lets the old generation finish what it holds: a slow reader in the
 * middle of 64 MiB gets every byte, while new requests already see the new config. */
START_TEST(minus_k_graceful_lets_a_response_in_flight_finish)
{
    write_big_file();
    pth_write_filef(h, "a.txt", "A");
    pth_config(h, "Header always set X-Generation one\n");
    pth_start(h);
    wait_pid_file();
    int fd = slow_client_open(h->port);
    send_all(fd, "GET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    char head[4096];
    read_head(fd, head, sizeof(head));
    ck_assert_msg(strncmp(head, "HTTP/1.1 200", 12) == 0, "head: %s", head);
    bool eof;
    size_t got = read_some(fd, 1u << 20, 16384, 5, 10000, &eof);
    ck_assert_msg(got == 1u << 20 && !eof, "slow start read %zu (eof %d)", got, eof);

    pth_config(h, "Header always set X-Generation two\n");
    run_k_graceful();
    ck_assert_msg(pth_file_wait_contains(h->error_log, "generation 1 configured", NOTICE_MS),
                  "the new generation was not configured");
    char gen[64] = "";
    for (int64_t end = pth_now_ms() + 10000; strcmp(gen, "two") != 0; pth_sleep_ms(20)) {
        ck_assert_msg(pth_now_ms() < end, "new requests not on the new config after 10 s");
        get_generation(gen, sizeof(gen));
    }
    got += read_some(fd, BIG_SIZE - got + 1, 65536, 0, 30000, &eof);
    if (!eof)
        read_some(fd, 1, 1, 0, 2000, &eof);
    close(fd);
    ck_assert_msg(got == BIG_SIZE, "body %zu bytes of %u", got, BIG_SIZE);
    ck_assert_msg(eof, "connection not closed after the full body");
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(minus_k_stop_with_a_stale_pid_file_fails_with_exit_1)
{
    pid_t dead = fork();
    ck_assert(dead >= 0);
    if (dead == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(dead, NULL, 0), dead);
    ck_assert_msg(kill(dead, 0) != 0 && errno == ESRCH, "pid %d still exists", (int)dead);
    pth_config(h, "\n");
    FILE *f = fopen(h->pid_file, "w");
    ck_assert(f != NULL);
    fprintf(f, "%d\n", (int)dead);
    fclose(f);
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-k", "stop", "-f", h->conf, NULL);
    ck_assert_msg(r.code == 1, "exit %d, stderr: %s", r.code, r.err);
    char pidtxt[32];
    snprintf(pidtxt, sizeof(pidtxt), "%d", (int)dead);
    ck_assert_msg(strstr(r.err, pidtxt) != NULL, "error does not name pid %s: \"%s\"", pidtxt,
                  r.err);
    pth_run_free(&r);
}
END_TEST

/* GracefulShutdownTimeout bounds the stop even when a client never reads: in-flight
 * connections are cut off at the limit. An event or worker child cuts them itself; a
 * prefork child, blocked in its write to the client, does not see the signal, and the
 * parent kills it 3 s after the limit ("killing them", a warning): about 4 s in all, where
 * one bound of 4.5 s for every MPM left half a second for a loaded machine. So the bound is
 * the MPM's, and under event and worker the parent must not have had to kill anyone. */
static void assert_stop_bounded_by_timeout(int sig)
{
    bool prefork = pth_mpm_in("prefork");
    int bound_ms = prefork ? 8000 : 4500; /* either far below Timeout's 60 s */
    write_big_file();
    pth_config(h, "GracefulShutdownTimeout 1\nTimeout 60\n");
    pth_start(h);
    int fd = slow_client_open(h->port);
    send_all(fd, "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
    /* In flight for sure once its head is here: a sleep was a guess that a loaded machine
     * broke (the connection still in the backlog when the signal came, dropped with the
     * listener, and the server gone in 10 ms). */
    char head[4096];
    read_head(fd, head, sizeof(head));
    ck_assert_msg(strncmp(head, "HTTP/1.1 200", 12) == 0, "head: %s", head);
    int64_t t0 = pth_now_ms();
    ck_assert_int_eq(kill(h->pid, sig), 0);
    int code = pth_wait_exit(h, bound_ms + 2000);
    int64_t took = pth_now_ms() - t0;
    close(fd);
    ck_assert_msg(code >= 0, "still running %d ms after the signal with GracefulShutdownTimeout 1",
                  bound_ms + 2000);
    ck_assert_msg(took <= bound_ms, "exit took %lld ms", (long long)took);
    ck_assert_msg(took >= 800, "exit after %lld ms: in-flight not waited for", (long long)took);
    ck_assert_msg(code == 0, "exit code %d", code);
    bool killed = pth_file_wait_contains(h->error_log, "after GracefulShutdownTimeout: killing", 0);
    ck_assert_msg(prefork || !killed,
                  "the parent had to kill the %s MPM's child: it did not cut its connection at "
                  "GracefulShutdownTimeout itself",
                  pth_mpm());
    pth_check_stderr(h);
}

START_TEST(sigterm_exits_within_graceful_shutdown_timeout_when_a_client_never_reads)
{
    assert_stop_bounded_by_timeout(SIGTERM);
}
END_TEST

START_TEST(sigwinch_exits_within_graceful_shutdown_timeout_when_a_client_never_reads)
{
    assert_stop_bounded_by_timeout(SIGWINCH);
}
END_TEST

static Suite *process_suite(void)
{
    Suite *s = suite_create("process");
    TCase *tc = tcase_create("process");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, sigterm_stops_accepting_but_finishes_a_response_in_flight);
    tcase_add_test(tc, sigwinch_stops_accepting_but_finishes_a_response_in_flight);
    tcase_add_test(tc, minus_k_graceful_stop_sends_sigwinch_and_finishes_in_flight);
    tcase_add_test(tc, user_and_group_drop_root_and_still_serve);
    tcase_add_test(tc, an_unknown_user_exits_non_zero_naming_it);
    tcase_add_test(tc, sighup_does_not_kill_the_server);
    tcase_add_test(tc, sigusr1_does_not_kill_the_server);
    tcase_add_test(tc, sighup_with_a_valid_config_serves_the_new_one);
    tcase_add_test(tc, sigusr1_with_a_valid_config_serves_the_new_one);
    tcase_add_test(tc, minus_k_restart_sends_sighup_and_serves_the_new_config);
    tcase_add_test(tc, minus_k_graceful_sends_sigusr1_and_serves_the_new_config);
    tcase_add_test(tc, minus_k_graceful_lets_a_response_in_flight_finish);
    tcase_add_test(tc, minus_k_stop_with_a_stale_pid_file_fails_with_exit_1);
    tcase_add_test(tc, sigterm_exits_within_graceful_shutdown_timeout_when_a_client_never_reads);
    tcase_add_test(tc, sigwinch_exits_within_graceful_shutdown_timeout_when_a_client_never_reads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(process_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
