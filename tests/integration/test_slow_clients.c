/* Slow clients never close the event MPM's door: a thousand slowloris connections and five
 * hundred slow readers of a 4 MiB file (slowhttptest, as child processes) are parked with
 * the listeners while a plain client is answered at once, and RequestReadTimeout still
 * closes the slow header senders. The parking is the event MPM's alone (worker and prefork
 * keep a thread or a process per connection, as documented), so the suite runs under the
 * event MPM only (the marker below, read by tests/CMakeLists.txt). */
/* mpms: event */
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLOW_SENDERS 1000
#define SLOW_READERS 500
#define BIG_FILE_BYTES (4u << 20)
#define TRIES 20
#define TRY_BOUND_MS 1000       /* "well under a second" on a shared, loaded machine */
#define ATTACK_SECONDS 45       /* slowhttptest's own limit; we stop it long before */
#define READY_DEADLINE_MS 20000 /* both populations connected and parked */
#define HEADER_TIMEOUT_S 10     /* RequestReadTimeout header=10-15,MinRate=500 */
#define CLOSED_DEADLINE_MS 30000

static pth_t *h;
static pid_t attackers[2];

/* Starts slowhttptest with its output in DIR/name.log, in its own process group so that
 * stopping it by its PID leaves nothing behind. */
static pid_t start_slowhttptest(const char *name, const char *const *args)
{
    char out[300];
    snprintf(out, sizeof(out), "%s", pth_path(h, name));
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp("slowhttptest", (char *const *)args);
        _exit(127);
    }
    return pid;
}

static void stop_attackers(void)
{
    for (size_t i = 0; i < 2; i++) {
        if (attackers[i] <= 0)
            continue;
        kill(attackers[i], SIGTERM);
        int st;
        pid_t r = 0;
        for (int64_t end = pth_now_ms() + 5000; (r = waitpid(attackers[i], &st, WNOHANG)) == 0 &&
                                                 pth_now_ms() < end;)
            pth_sleep_ms(20);
        if (r == 0) {
            kill(attackers[i], SIGKILL);
            waitpid(attackers[i], &st, 0);
        }
        attackers[i] = 0;
    }
}

static void setup(void)
{
    /* A failed assertion ends the test process without the teardown: stop them then too. */
    atexit(stop_attackers);
    h = pth_new();
    long lim = pth_raise_nofile(20000); /* inherited by slowhttptest and the server */
    ck_assert_msg(lim >= SLOW_SENDERS + SLOW_READERS + 256, "open-files limit %ld", lim);
    pth_write_filef(h, "small.txt", "small\n");
    char *big = calloc(1, BIG_FILE_BYTES);
    ck_assert_ptr_nonnull(big);
    pth_write_file(h, "big.bin", big, BIG_FILE_BYTES);
    free(big);
}

static void teardown(void)
{
    stop_attackers();
    pth_stop_nocheck(h);
    pth_free(h);
    h = NULL;
}

/* "name value" from /metrics (first sample of that name with labels), -1 when absent. */
static long metric(const char *text, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, nl) == 0 && p[nl] == ' ')
            return strtol(p + nl + 1, NULL, 10);
    return -1;
}

static void connections(long *reading, long *writing)
{
    pth_resp_t r;
    int rc = pth_curl(h, "GET", "/metrics", NULL, NULL, 0, &r);
    ck_assert_msg(rc == 0, "GET /metrics got no answer in %d s: the door is closed",
                  PTH_CURL_TIMEOUT_S);
    ck_assert_int_eq(r.status, 200);
    *reading = metric(r.body, "portico_connections{state=\"reading\"}");
    *writing = metric(r.body, "portico_connections{state=\"writing\"}");
    pth_resp_free(&r);
}

/* ConnsTotal of server-status?auto: every connection the children hold. */
static long conns_total(void)
{
    pth_resp_t r;
    int rc = pth_curl(h, "GET", "/server-status?auto", NULL, NULL, 0, &r);
    ck_assert_msg(rc == 0, "GET /server-status got no answer in %d s", PTH_CURL_TIMEOUT_S);
    const char *p = strstr(r.body, "\nConnsTotal: ");
    long n = p ? strtol(p + strlen("\nConnsTotal: "), NULL, 10) : -1;
    pth_resp_free(&r);
    return n;
}

/* A fresh connection's GET /small.txt, timed; -1 when it was not answered 200. */
static int64_t timed_plain_get(void)
{
    int64_t t0 = pth_now_ms();
    pth_conn_t *c = pth_conn_open(h);
    int rc = pth_conn_sendf(c, "GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    pth_resp_t r;
    if (rc == 0)
        rc = pth_conn_read_response(c, &r, false, 10000);
    int64_t took = pth_now_ms() - t0;
    pth_conn_close(c);
    if (rc != 0)
        return -1;
    bool ok = r.status == 200 && strcmp(r.body, "small\n") == 0;
    pth_resp_free(&r);
    return ok ? took : -1;
}

static int count_lines_with(const char *path, const char *needle)
{
    char *text = pth_read_file(path, NULL);
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    free(text);
    return n;
}

START_TEST(slowloris_and_slow_readers_never_keep_a_plain_client_waiting)
{
    pth_config(h,
               "MPM event\nStartServers 4\nServerLimit 4\nThreadsPerChild 25\n"
               "MaxRequestWorkers 100\nMinSpareThreads 25\nMaxSpareThreads 100\n"
               "RequestReadTimeout header=%d-%d,MinRate=500\n"
               "<Location /metrics>\nSetHandler metrics\n</Location>\n"
               "<Location /server-status>\nSetHandler server-status\n</Location>\n",
               HEADER_TIMEOUT_S, HEADER_TIMEOUT_S + 5);
    pth_start(h);
    char url_small[128], url_big[128], senders[16], readers[16], secs[16];
    snprintf(url_small, sizeof(url_small), "http://127.0.0.1:%d/small.txt", h->port);
    snprintf(url_big, sizeof(url_big), "http://127.0.0.1:%d/big.bin", h->port);
    snprintf(senders, sizeof(senders), "%d", SLOW_SENDERS);
    snprintf(readers, sizeof(readers), "%d", SLOW_READERS);
    snprintf(secs, sizeof(secs), "%d", ATTACK_SECONDS);
    /* Slowloris: a header line every 2 s, never the blank line that ends the head. */
    const char *const h_args[] = {"slowhttptest", "-H", "-c", senders, "-r", senders,
                                  "-i", "2", "-x", "8", "-l", secs, "-u", url_small, NULL};
    /* Slow read: a 16-byte window read a byte every 5 s, three pipelined GETs of 4 MiB. */
    const char *const x_args[] = {"slowhttptest", "-X", "-c", readers, "-r", readers,
                                  "-n", "5", "-w", "1", "-y", "16", "-z", "1", "-k", "3",
                                  "-l", secs, "-u", url_big, NULL};
    attackers[0] = start_slowhttptest("slowloris.log", h_args);
    attackers[1] = start_slowhttptest("slowread.log", x_args);

    /* Wait until most of both populations are parked with the listeners. */
    long reading = 0, writing = 0;
    int64_t t0 = pth_now_ms();
    while (pth_now_ms() - t0 < READY_DEADLINE_MS) {
        connections(&reading, &writing);
        if (reading >= SLOW_SENDERS * 9 / 10 && writing >= SLOW_READERS * 9 / 10)
            break;
        pth_sleep_ms(200);
    }
    ck_assert_msg(reading >= SLOW_SENDERS * 9 / 10 && writing >= SLOW_READERS * 9 / 10,
                  "after %lld ms only %ld slow senders and %ld slow readers are parked",
                  (long long)(pth_now_ms() - t0), reading, writing);

    int64_t worst = 0;
    for (int i = 0; i < TRIES; i++) {
        int64_t took = timed_plain_get();
        ck_assert_msg(took >= 0, "try %d: the plain client got no 200", i + 1);
        ck_assert_msg(took < TRY_BOUND_MS, "try %d: the plain client waited %lld ms", i + 1,
                      (long long)took);
        worst = took > worst ? took : worst;
        pth_sleep_ms(50);
    }
    /* The attack was still in place for every try: none of the senders timed out yet, and
     * the server still holds both populations (the parked count alone dips each time a
     * batch of header lines arrives and goes to the workers). */
    int early = count_lines_with(h->error_log, "request head not received in time: 408");
    long total = conns_total();
    ck_assert_msg(early < SLOW_SENDERS / 10 && total >= (SLOW_SENDERS + SLOW_READERS) * 9 / 10,
                  "the attack thinned out during the tries: %d senders timed out, %ld "
                  "connections held", early, total);
    printf("slow clients: %ld connections held, worst of %d plain GETs %lld ms\n", total, TRIES,
           (long long)worst);

    /* RequestReadTimeout still closes the slow senders (the listener answers 408). */
    int closed = 0;
    for (int64_t end = pth_now_ms() + CLOSED_DEADLINE_MS; pth_now_ms() < end; pth_sleep_ms(250)) {
        closed = count_lines_with(h->error_log, "request head not received in time: 408");
        connections(&reading, &writing);
        if (closed >= SLOW_SENDERS * 9 / 10 && reading < SLOW_SENDERS / 20)
            break;
    }
    ck_assert_msg(closed >= SLOW_SENDERS * 9 / 10,
                  "only %d slow header senders closed by RequestReadTimeout", closed);
    ck_assert_msg(reading < SLOW_SENDERS / 20, "%ld slow senders still parked", reading);
    stop_attackers();
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

static Suite *slow_clients_suite(void)
{
    Suite *s = suite_create("slow_clients");
    TCase *tc = tcase_create("slow_clients");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, slowloris_and_slow_readers_never_keep_a_plain_client_waiting);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(slow_clients_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
