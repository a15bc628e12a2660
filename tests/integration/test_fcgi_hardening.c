/* The FastCGI gateway against attacks and hostile backends: a ProxyPass path decoded once (an
 * encoded name cannot reach a denied <Location>, %00 cannot cut SCRIPT_FILENAME, %2f cannot
 * become a slash; with real php-fpm), one Date and one Server, a 502 for a backend that fails
 * after its head, folded header lines refused, a bound on the spool of chunked bodies,
 * SERVER_SOFTWARE per ServerTokens, and backend connection reuse counted by the backend. */
#include "fcgi_backends.h"
#include "fcgi_hostile.h"
#include "harness.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pth_t *h;
static pth_hostile_t hs;

static void setup(void)
{
    h = pth_new();
    char msg[512];
    if (pth_hostile_start(&hs, pth_path(h, "hostile.sock"), msg, sizeof(msg)) != 0)
        ck_abort_msg("%s", msg);
}

static void teardown(void)
{
    pth_hostile_stop(&hs);
    pth_free(h);
}

#define HOSTILE_PASS "ProxyPass /f/ \"unix:@DIR@/hostile.sock|fcgi://localhost/\""

static bool prefork(void)
{
    const char *m = getenv("PORTICO_TEST_MPM");
    return m && strcmp(m, "prefork") == 0;
}

/* One child process, so that the backend's counts are one pool's. */
static const char *one_child(void)
{
    if (prefork())
        return "StartServers 1\nServerLimit 1\nMaxRequestWorkers 1\n"
               "MinSpareServers 1\nMaxSpareServers 1\n";
    return "StartServers 1\nServerLimit 1\nThreadsPerChild 8\nMaxRequestWorkers 8\n"
           "MinSpareThreads 1\nMaxSpareThreads 8\n";
}

static int get_status(const char *path, pth_resp_t *r)
{
    int rc = pth_curl(h, "GET", path, NULL, NULL, 0, r);
    ck_assert_msg(rc == 0, "GET %s: curl error %d (an empty reply is 52)", path, rc);
    return r->status;
}

/* ---- Date and Server, failures after the head, folded lines, SERVER_SOFTWARE ----------- */

START_TEST(a_backend_date_and_server_are_sent_once_and_win)
{
    pth_config(h, HOSTILE_PASS "\n");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(get_status("/f/dateserver", &r), 200);
    ck_assert_int_eq((int)pth_resp_header_count(&r, "Date"), 1);
    ck_assert_int_eq((int)pth_resp_header_count(&r, "Server"), 1);
    ck_assert_str_eq(pth_resp_header(&r, "Date"), "Sat, 01 Jan 2000 00:00:00 GMT");
    ck_assert_str_eq(pth_resp_header(&r, "Server"), "hostile/1.0");
    pth_resp_free(&r);
    /* A backend that sends neither gets the server's own, once. */
    ck_assert_int_eq(get_status("/f/ok", &r), 200);
    ck_assert_int_eq((int)pth_resp_header_count(&r, "Date"), 1);
    ck_assert_int_eq((int)pth_resp_header_count(&r, "Server"), 1);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(a_backend_that_closes_after_its_head_is_a_502_not_an_empty_reply)
{
    pth_expect_error(h, "connection closed before the end of the response");
    pth_config(h, HOSTILE_PASS "\n");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(get_status("/f/headclose", &r), 502);
    ck_assert_ptr_null(pth_resp_header(&r, "X-Head")); /* nothing of the failed head */
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(a_backend_silent_after_its_head_is_a_504_not_an_empty_reply)
{
    pth_expect_error(h, "timed out waiting for the response");
    pth_config(h, HOSTILE_PASS " timeout=1\n");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(get_status("/f/headstall?4000", &r), 504);
    ck_assert_ptr_null(pth_resp_header(&r, "X-Head"));
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(a_broken_record_after_the_head_is_a_502_not_an_empty_reply)
{
    pth_expect_error(h, "unsupported FastCGI record version");
    pth_config(h, HOSTILE_PASS "\n");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(get_status("/f/headbad", &r), 502);
    pth_resp_free(&r);
    /* The next request still works. */
    ck_assert_int_eq(get_status("/f/ok", &r), 200);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(a_folded_header_line_from_the_backend_is_a_502)
{
    pth_expect_error(h, "folded header line");
    pth_config(h, HOSTILE_PASS "\n");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(get_status("/f/folded", &r), 502);
    ck_assert_ptr_null(pth_resp_header(&r, "X-Folded"));
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "folded header line", 3000));
    pth_stop(h);
}
END_TEST

START_TEST(server_software_follows_server_tokens)
{
    pth_config(h, "ServerTokens Prod\n" HOSTILE_PASS "\n");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(get_status("/f/param?SERVER_SOFTWARE", &r), 200);
    ck_assert_str_eq(r.body, "portico");
    ck_assert_str_eq(pth_resp_header(&r, "Server"), "portico");
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

START_TEST(server_software_is_the_full_server_header_by_default)
{
    pth_config(h, HOSTILE_PASS "\n");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(get_status("/f/param?SERVER_SOFTWARE", &r), 200);
    ck_assert_str_eq(r.body, pth_resp_header(&r, "Server"));
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* ---- Backend connection reuse, counted by the backend ---------------------------------- */

static void get_ok(const char *path)
{
    pth_resp_t r;
    ck_assert_int_eq(get_status(path, &r), 200);
    ck_assert_str_eq(r.body, "ok");
    pth_resp_free(&r);
}

START_TEST(with_enablereuse_sequential_requests_share_one_backend_connection)
{
    pth_config(h, "%s" HOSTILE_PASS " enablereuse=on\n", one_child());
    pth_start(h);
    for (int i = 0; i < 5; i++)
        get_ok("/f/ok");
    ck_assert_int_eq(atomic_load(&hs.counts->requests), 5);
    ck_assert_int_eq(atomic_load(&hs.counts->keep_conn), 5);
    ck_assert_int_eq(atomic_load(&hs.counts->accepted), 1);
    pth_stop(h);
}
END_TEST

START_TEST(without_enablereuse_each_request_has_a_connection_of_its_own)
{
    pth_config(h, "%s" HOSTILE_PASS "\n", one_child());
    pth_start(h);
    for (int i = 0; i < 3; i++) {
        get_ok("/f/ok");
        ck_assert(pth_hostile_wait_open(&hs, 0, 3000));
    }
    ck_assert_int_eq(atomic_load(&hs.counts->keep_conn), 0);
    ck_assert_int_eq(atomic_load(&hs.counts->accepted), 3);
    pth_stop(h);
}
END_TEST

START_TEST(an_idle_backend_connection_is_closed_after_about_a_second)
{
    pth_config(h, "%s" HOSTILE_PASS " enablereuse=on\n", one_child());
    pth_start(h);
    /* Timed from before the request: the connection goes idle somewhere inside the request,
     * so its close comes 1 s or more after t0 whatever the load. Timed from after the answer,
     * a test process that the scheduler held back for a few hundred ms saw the close come
     * "too early", and one held back for a second found it closed already. */
    int64_t t0 = pth_now_ms();
    get_ok("/f/ok");
    /* Kept for the next request: still open unless a second has passed. */
    ck_assert(atomic_load(&hs.counts->open) == 1 || pth_now_ms() - t0 >= 1000);
    ck_assert(pth_hostile_wait_open(&hs, 0, 5000));
    int64_t waited = pth_now_ms() - t0;
    ck_assert_msg(waited >= 900, "closed after %lld ms", (long long)waited);
    get_ok("/f/ok");
    ck_assert_int_eq(atomic_load(&hs.counts->accepted), 2);
    pth_stop(h);
}
END_TEST

/* The client keeps its connection open after the request (and sends static requests on it):
 * the child serves that connection the whole time, yet the idle backend connection is closed
 * after about a second all the same, since it pins a php-fpm child that other processes
 * cannot use. */
START_TEST(an_idle_backend_connection_is_closed_while_the_client_keeps_alive)
{
    pth_write_filef(h, "static.txt", "s");
    pth_config(h, "%sKeepAliveTimeout 20\n" HOSTILE_PASS " enablereuse=on\n", one_child());
    pth_start(h);
    pth_conn_t *c = pth_conn_open(h);
    pth_resp_t r;
    int64_t t0 = pth_now_ms(); /* before the request, as in the test above */
    ck_assert_int_eq(pth_conn_sendf(c, "GET /f/ok HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    /* Kept for the next request: still open unless a second has passed. */
    ck_assert(atomic_load(&hs.counts->open) == 1 || pth_now_ms() - t0 >= 1000);
    for (int i = 0; i < 10 && atomic_load(&hs.counts->open) != 0; i++) {
        pth_sleep_ms(300);
        ck_assert_int_eq(pth_conn_sendf(c, "GET /static.txt HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
        ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
        ck_assert_int_eq(r.status, 200);
        pth_resp_free(&r);
    }
    ck_assert_msg(pth_hostile_wait_open(&hs, 0, 1000), "still open after %lld ms",
                  (long long)(pth_now_ms() - t0));
    pth_conn_close(c);
    pth_stop(h);
}
END_TEST

START_TEST(a_kept_connection_that_the_backend_closed_is_replaced)
{
    pth_config(h, "%s" HOSTILE_PASS " enablereuse=on\n", one_child());
    pth_start(h);
    get_ok("/f/closeafter");
    ck_assert(pth_hostile_wait_open(&hs, 0, 3000));
    get_ok("/f/ok");
    get_ok("/f/ok");
    ck_assert_int_eq(atomic_load(&hs.counts->accepted), 2);
    pth_stop(h);
}
END_TEST

/* SetHandler names the backend by its URL; a ProxyPass with the same URL gives its keys, in
 * either order, as Apache shares one worker. */
START_TEST(a_sethandler_shares_the_pool_of_the_proxypass_that_names_its_url)
{
    pth_write_filef(h, "s/ok", "x");
    pth_write_filef(h, "t/ok", "x");
    pth_config(h, "%s"
                  "<Location \"/s/\">\n"
                  "  SetHandler \"proxy:unix:@DIR@/hostile.sock|fcgi://localhost\"\n"
                  "</Location>\n"
                  "ProxyPass \"/unused/\" \"unix:@DIR@/hostile.sock|fcgi://localhost\" "
                  "enablereuse=on\n"
                  "<Location \"/t/\">\n"
                  "  SetHandler \"proxy:unix:@DIR@/hostile.sock|fcgi://localhost\"\n"
                  "</Location>\n", one_child());
    pth_start(h);
    for (int i = 0; i < 3; i++) {
        get_ok("/s/ok");
        get_ok("/t/ok");
    }
    ck_assert_int_eq(atomic_load(&hs.counts->keep_conn), 6);
    ck_assert_int_eq(atomic_load(&hs.counts->accepted), 1);
    pth_stop(h);
}
END_TEST

/* A restart makes each child's pools anew from the new configuration: a backend that moved
 * to another index (a rule added before it) is still served, and the old generation's kept
 * connections are closed when its children leave. */
static void restart_serves_the_new_backends(int sig)
{
    pth_write_filef(h, "g/ok", "x");
    pth_config(h, "%s" HOSTILE_PASS " enablereuse=on\n", one_child());
    pth_start(h);
    get_ok("/f/ok");
    ck_assert_int_eq(atomic_load(&hs.counts->open), 1);
    pth_config(h, "%sProxyPass /g/ \"unix:@DIR@/nobody.sock|fcgi://localhost/\"\n"
                  HOSTILE_PASS " enablereuse=on\n", one_child());
    ck_assert_int_eq(kill(h->pid, sig), 0);
    ck_assert_msg(pth_file_wait_contains(h->error_log, "generation 1 configured", 5000),
                  "no restart");
    pth_resp_t r;
    int st = 0;
    for (int64_t end = pth_now_ms() + 3000; pth_now_ms() < end; pth_sleep_ms(50)) {
        st = get_status("/g/ok", &r);
        pth_resp_free(&r);
        if (st == 503)
            break;
    }
    ck_assert_int_eq(st, 503); /* the new generation's rule, to a socket that is not there */
    for (int i = 0; i < 3; i++)
        get_ok("/f/ok");
    ck_assert(pth_hostile_wait_open(&hs, 0, 3000));
    pth_stop(h);
}

START_TEST(a_graceful_restart_serves_the_new_backends)
{
    pth_expect_error(h, "AH01079");
    restart_serves_the_new_backends(SIGUSR1);
}
END_TEST

START_TEST(a_restart_serves_the_new_backends)
{
    pth_expect_error(h, "AH01079");
    restart_serves_the_new_backends(SIGHUP);
}
END_TEST

/* A child that drains after a graceful restart (a download still in flight) keeps closing
 * its idle backend connections after about a second: each pins a php-fpm child that the new
 * generation's children need, and the drain may last as long as the slowest client. */
START_TEST(a_draining_child_closes_its_idle_backend_connections)
{
    enum { BIG = 16 << 20 }; /* far beyond socket buffers: the response stays in flight */
    char *data = malloc(BIG);
    ck_assert(data != NULL);
    memset(data, 'b', BIG);
    pth_write_file(h, "big.bin", data, BIG);
    free(data);
    pth_config(h, "%s" HOSTILE_PASS " enablereuse=on\n", one_child());
    pth_start(h);
    get_ok("/f/ok");
    ck_assert_int_eq(atomic_load(&hs.counts->open), 1); /* kept for the next request */
    pth_conn_t *c = pth_conn_open(h);
    ck_assert_int_eq(pth_conn_sendf(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    pth_conn_read_until(c, 4096, 2000); /* the download has started; then it is not read */
    ck_assert_uint_gt(pth_conn_pending(c), 0);
    int64_t t0 = pth_now_ms();
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    ck_assert_msg(pth_hostile_wait_open(&hs, 0, 4000), "the idle backend connection is "
                  "still open %lld ms after the graceful restart",
                  (long long)(pth_now_ms() - t0));
    /* The download is whole: a graceful restart lets it finish. (Asking whether the
     * connection is closed yet would race with the server, which closes it right after the
     * last byte once the client reads.) */
    pth_resp_t dl;
    ck_assert_int_eq(pth_conn_read_response(c, &dl, false, 20000), 0);
    ck_assert_int_eq(dl.status, 200);
    ck_assert_uint_eq(dl.body_len, BIG);
    pth_resp_free(&dl);
    pth_conn_close(c);
    get_ok("/f/ok"); /* the new generation */
    pth_stop(h);
}
END_TEST

/* Handler names resolved at load reach every way a request gets its handler: SetHandler in
 * <Files> and <FilesMatch>, the name mod_dir's DirectoryIndex picks, and SetHandler None in
 * a later section, which gives the file back to the static handler. */
START_TEST(a_proxy_sethandler_in_files_sections_serves_the_directory_index)
{
    pth_write_filef(h, "app/ok", "local");
    pth_write_filef(h, "files/ok", "local");
    pth_write_filef(h, "none/ok", "local");
    pth_config(h, "%s"
                  "DirectoryIndex ok\n"
                  "<Directory \"@DOCROOT@/app\">\n"
                  "  <FilesMatch \"^ok$\">\n"
                  "    SetHandler \"proxy:unix:@DIR@/hostile.sock|fcgi://localhost\"\n"
                  "  </FilesMatch>\n"
                  "</Directory>\n"
                  "<Files \"ok\">\n"
                  "  SetHandler \"proxy:unix:@DIR@/hostile.sock|fcgi://localhost\"\n"
                  "</Files>\n"
                  "<Location \"/none/\">\n"
                  "  SetHandler None\n"
                  "</Location>\n", one_child());
    pth_start(h);
    pth_resp_t r;
    const char *const backend[] = {"/app/", "/app/ok", "/files/", "/files/ok"};
    for (size_t i = 0; i < sizeof(backend) / sizeof(*backend); i++) {
        ck_assert_msg(get_status(backend[i], &r) == 200, "%s: %d", backend[i], r.status);
        ck_assert_msg(strcmp(r.body, "ok") == 0, "%s: %s", backend[i], r.body);
        pth_resp_free(&r);
    }
    /* <Location> merges after <Files>: None wins, the file is served as it is. */
    const char *const local[] = {"/none/", "/none/ok"};
    for (size_t i = 0; i < sizeof(local) / sizeof(*local); i++) {
        ck_assert_msg(get_status(local[i], &r) == 200, "%s: %d", local[i], r.status);
        ck_assert_msg(strcmp(r.body, "local") == 0, "%s: %s", local[i], r.body);
        pth_resp_free(&r);
    }
    pth_stop(h);
}
END_TEST

static void *slow_get(void *arg)
{
    int *ok = arg;
    pth_resp_t r;
    *ok = pth_curl(h, "GET", "/f/slow?300", NULL, NULL, 0, &r) == 0 && r.status == 200 &&
          strcmp(r.body, "ok") == 0;
    pth_resp_free(&r);
    return NULL;
}

static void max_bounds(const char *reuse, int want_accepted)
{
    pth_config(h, "%s" HOSTILE_PASS " %s max=2\n", one_child(), reuse);
    pth_start(h);
    enum { N = 6 };
    pthread_t t[N];
    int ok[N];
    for (int i = 0; i < N; i++)
        pthread_create(&t[i], NULL, slow_get, &ok[i]);
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(ok[i], "request %d failed", i);
    }
    ck_assert_int_le(atomic_load(&hs.counts->max_busy), 2);
    if (want_accepted)
        ck_assert_int_eq(atomic_load(&hs.counts->accepted), want_accepted);
    else
        ck_assert_int_le(atomic_load(&hs.counts->max_open), 2); /* the same ones reused */
    ck_assert_int_eq(atomic_load(&hs.counts->requests), N);
    pth_stop(h);
}

START_TEST(max_bounds_the_backend_connections_of_a_child)
{
    max_bounds("enablereuse=on", 0);
}
END_TEST

START_TEST(max_bounds_the_backend_connections_without_reuse_too)
{
    max_bounds("enablereuse=off", 6);
}
END_TEST

/* ---- The spool of chunked bodies ------------------------------------------------------ */

#define SPOOL_LIMIT 100000

/* Bytes held open by the server's children in files under dir (the spool), or -1 when
 * none is open. */
static long long spool_held(const char *dir)
{
    pid_t kids[16];
    int n = pth_children(h->pid, kids, 16);
    long long held = -1;
    for (int i = 0; i < n; i++) {
        char fds[64];
        snprintf(fds, sizeof(fds), "/proc/%d/fd", (int)kids[i]);
        DIR *d = opendir(fds);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            char link[PATH_MAX], path[PATH_MAX];
            snprintf(path, sizeof(path), "%s/%s", fds, e->d_name);
            ssize_t l = readlink(path, link, sizeof(link) - 1);
            struct stat st;
            if (l <= 0)
                continue;
            link[l] = '\0';
            if (strncmp(link, dir, strlen(dir)) == 0 && stat(path, &st) == 0)
                held = (held < 0 ? 0 : held) + st.st_size;
        }
        if (d)
            closedir(d);
    }
    return held;
}

static const char *spool_dir(void)
{
    static char dir[300];
    snprintf(dir, sizeof(dir), "%s", pth_path(h, "spool"));
    mkdir(dir, 0700);
    setenv("TMPDIR", dir, 1); /* the server inherits it */
    return dir;
}

/* Sends a chunked POST of len bytes; the last chunk only when finish. */
static void send_chunked(pth_conn_t *c, const char *path, size_t len, bool finish)
{
    static char piece[8192];
    memset(piece, 'p', sizeof(piece));
    pth_conn_sendf(c, "POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", path);
    for (size_t sent = 0; sent < len;) {
        size_t n = len - sent < sizeof(piece) ? len - sent : sizeof(piece);
        if (pth_conn_sendf(c, "%zx\r\n", n) != 0 || pth_conn_send(c, piece, n) != 0 ||
            pth_conn_send(c, "\r\n", 2) != 0)
            return; /* the server answered early and closed: the response says why */
        sent += n;
    }
    if (finish)
        pth_conn_send(c, "0\r\n\r\n", 5);
}

static int chunked_post(size_t len, pth_resp_t *r)
{
    pth_conn_t *c = pth_conn_open(h);
    send_chunked(c, "/f/echo", len, true);
    int rc = pth_conn_read_response(c, r, false, 10000);
    pth_conn_close(c);
    ck_assert_msg(rc == 0, "no response: %d", rc);
    return r->status;
}

static bool wait_spool(const char *dir, long long at_least, int ms)
{
    int64_t end = pth_now_ms() + ms;
    for (;;) {
        long long held = spool_held(dir);
        if (at_least < 0 ? held < 0 : held >= at_least)
            return true;
        if (pth_now_ms() > end)
            return false;
        pth_sleep_ms(10);
    }
}

START_TEST(a_chunked_body_larger_than_the_whole_spool_is_a_413)
{
    const char *dir = spool_dir();
    pth_expect_error(h, "spool");
    pth_config(h, "ProxyFCGISpoolLimit %d\n" HOSTILE_PASS "\n", SPOOL_LIMIT);
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(chunked_post(SPOOL_LIMIT + 20000, &r), 413);
    pth_resp_free(&r);
    ck_assert(wait_spool(dir, -1, 3000));
    ck_assert_int_eq(chunked_post(50000, &r), 200);
    ck_assert_str_eq(r.body, "len=50000");
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "ProxyFCGISpoolLimit", 3000));
    pth_stop(h);
}
END_TEST

START_TEST(a_chunked_body_finding_the_spool_full_is_a_503_and_the_space_comes_back)
{
    const char *dir = spool_dir();
    pth_expect_error(h, "spool");
    pth_config(h, "ProxyFCGISpoolLimit %d\n" HOSTILE_PASS "\n", SPOOL_LIMIT);
    pth_start(h);
    /* One upload holds 70 000 bytes of the spool and stops sending. */
    pth_conn_t *hold = pth_conn_open(h);
    send_chunked(hold, "/f/echo", 70000, false);
    ck_assert_msg(wait_spool(dir, 70000, 5000), "the first body was not spooled");
    pth_resp_t r;
    ck_assert_int_eq(chunked_post(70000, &r), 503);
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "spool", 3000));
    /* The holder goes away: its file and its share of the bound are given back. */
    pth_conn_close(hold);
    ck_assert_msg(wait_spool(dir, -1, 5000), "a spool file outlived its request");
    ck_assert_int_eq(chunked_post(70000, &r), 200);
    ck_assert_str_eq(r.body, "len=70000");
    pth_resp_free(&r);
    ck_assert(wait_spool(dir, -1, 5000));
    pth_stop(h);
}
END_TEST

/* ---- One decode of a ProxyPass path (real php-fpm) ------------------------------------ */

PTH_FPM_SUITE_POOL(2)

static void start_app(void)
{
    pth_write_filef(h, "app/admin/index.php", "<?php echo 'admin';");
    pth_write_filef(h, "app/index.php", "<?php echo 'index';");
    pth_write_filef(h, "app/a%41.php", "<?php echo 'literal';");
    pth_write_filef(h, "app/sp ace.php", "<?php echo 'space';");
    pth_write_filef(h, "app/file.php", "<?php echo $_SERVER['SCRIPT_FILENAME'];");
    pth_expect_error(h, "AH01630: client denied");
    pth_expect_error(h, "Primary script unknown");
    pth_config(h,
               "ProxyPass \"/app/\" \"unix:%s|fcgi://localhost@DOCROOT@/app/\"\n"
               "ProxyPassMatch \"^/m/(.*\\.php)$\" \"unix:%s|fcgi://localhost@DOCROOT@/app/$1\"\n"
               "<Location \"/app/admin\">\n  Require all denied\n</Location>\n"
               "<Location \"/m/admin\">\n  Require all denied\n</Location>\n",
               fpm.sock, fpm.sock);
    pth_start(h);
}

static void expect_get(const char *path, int status, const char *body)
{
    pth_resp_t r;
    ck_assert_msg(get_status(path, &r) == status, "GET %s: %d %s, want %d", path, r.status,
                  r.body, status);
    if (body)
        ck_assert_msg(strcmp(r.body, body) == 0, "GET %s: %s, want %s", path, r.body, body);
    pth_resp_free(&r);
}

START_TEST(an_encoded_name_does_not_reach_a_denied_location_through_proxypass)
{
    start_app();
    expect_get("/app/admin/index.php", 403, NULL);
    expect_get("/app/index.php", 200, "index");
    /* Apache: 404 (the file "adm%69n" does not exist); before, the script ran. */
    expect_get("/app/adm%2569n/index.php", 404, NULL);
    expect_get("/app/%2561dmin/index.php", 404, NULL);
    expect_get("/m/admin/index.php", 403, NULL);
    expect_get("/m/adm%2569n/index.php", 404, NULL);
    pth_stop(h);
}
END_TEST

START_TEST(an_encoded_nul_or_slash_is_not_decoded_a_second_time)
{
    start_app();
    /* %2500 is "%00" once decoded: a name, not a NUL that would cut SCRIPT_FILENAME. */
    expect_get("/app/index.php%2500.txt", 404, NULL);
    expect_get("/app/file.php%2500", 404, NULL);
    /* %252f is "%2f" once decoded, not a slash into admin/. */
    expect_get("/app/admin%252findex.php", 404, NULL);
    expect_get("/m/admin%252findex.php", 404, NULL);
    pth_stop(h);
}
END_TEST

START_TEST(a_file_name_with_a_percent_is_reached_by_its_one_encoding)
{
    start_app();
    expect_get("/app/a%2541.php", 200, "literal");
    expect_get("/m/a%2541.php", 200, "literal");
    expect_get("/app/sp%20ace.php", 200, "space");
    expect_get("/m/sp%20ace.php", 200, "space");
    char want[400];
    snprintf(want, sizeof(want), "%s/app/file.php", h->docroot);
    expect_get("/app/file.php", 200, want);
    pth_stop(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fcgi_hardening");
    TCase *tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, a_backend_date_and_server_are_sent_once_and_win);
    tcase_add_test(tc, a_backend_that_closes_after_its_head_is_a_502_not_an_empty_reply);
    tcase_add_test(tc, a_backend_silent_after_its_head_is_a_504_not_an_empty_reply);
    tcase_add_test(tc, a_broken_record_after_the_head_is_a_502_not_an_empty_reply);
    tcase_add_test(tc, a_folded_header_line_from_the_backend_is_a_502);
    tcase_add_test(tc, server_software_follows_server_tokens);
    tcase_add_test(tc, server_software_is_the_full_server_header_by_default);
    tcase_add_test(tc, a_chunked_body_larger_than_the_whole_spool_is_a_413);
    tcase_add_test(tc, a_chunked_body_finding_the_spool_full_is_a_503_and_the_space_comes_back);
    suite_add_tcase(s, tc);

    TCase *reuse = tcase_create("reuse");
    tcase_add_checked_fixture(reuse, setup, teardown);
    tcase_set_timeout(reuse, 30);
    tcase_add_test(reuse, with_enablereuse_sequential_requests_share_one_backend_connection);
    tcase_add_test(reuse, without_enablereuse_each_request_has_a_connection_of_its_own);
    tcase_add_test(reuse, an_idle_backend_connection_is_closed_after_about_a_second);
    /* Since the pool lost its sweep thread, only the MPM's tick closes idle backend
     * connections: prefork ticks while it waits for a kept-alive client too, and event and
     * worker while a child drains after a graceful restart. */
    tcase_add_test(reuse, an_idle_backend_connection_is_closed_while_the_client_keeps_alive);
    tcase_add_test(reuse, a_kept_connection_that_the_backend_closed_is_replaced);
    tcase_add_test(reuse, a_sethandler_shares_the_pool_of_the_proxypass_that_names_its_url);
    tcase_add_test(reuse, a_proxy_sethandler_in_files_sections_serves_the_directory_index);
    tcase_add_test(reuse, a_graceful_restart_serves_the_new_backends);
    tcase_add_test(reuse, a_restart_serves_the_new_backends);
    /* prefork: its one child would be busy with the download. */
    pth_tcase_add_for(reuse, "event worker", a_draining_child_closes_its_idle_backend_connections);
    /* prefork: one connection per child, nothing for max= to bound. */
    if (!prefork()) {
        tcase_add_test(reuse, max_bounds_the_backend_connections_of_a_child);
        tcase_add_test(reuse, max_bounds_the_backend_connections_without_reuse_too);
    }
    suite_add_tcase(s, reuse);

    TCase *php = tcase_create("php");
    tcase_add_unchecked_fixture(php, fpm_up, fpm_down);
    tcase_add_checked_fixture(php, setup, teardown);
    tcase_set_timeout(php, 30);
    tcase_add_test(php, an_encoded_name_does_not_reach_a_denied_location_through_proxypass);
    tcase_add_test(php, an_encoded_nul_or_slash_is_not_decoded_a_second_time);
    tcase_add_test(php, a_file_name_with_a_percent_is_reached_by_its_one_encoding);
    suite_add_tcase(s, php);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
