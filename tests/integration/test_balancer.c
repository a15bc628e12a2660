/* The balancer (mod_proxy_balancer) in front of real test origins (http_backend.h): the
 * share each lbmethod gives, sticky routes, a member killed under load with no error for
 * the clients' GETs, hot standby, all members down, failonstatus, the balancer-manager's
 * changes seen by every child, BalancerPersist across a graceful restart, the status and
 * metrics sections, and the Apache manual's example configuration. Which member answered
 * is read from the Host line the echo origin sends back. */
#include "harness.h"
#include "http_backend.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NBE 3

static pth_t *h;
static pth_http_backend_t be[NBE];

static void setup(void)
{
    h = pth_new();
    for (int i = 0; i < NBE; i++)
        pth_http_backend_start_must(&be[i], NULL);
}

static void teardown(void)
{
    pth_free(h);
    for (int i = 0; i < NBE; i++)
        if (be[i].pid)
            pth_http_backend_stop(&be[i]);
}

/* Several children under worker and prefork, so that shared state is what they agree on. */
static const char *children(void)
{
    if (pth_mpm_in("prefork"))
        return "StartServers 3\nMinSpareServers 3\nMaxSpareServers 6\nServerLimit 8\n";
    return "StartServers 3\nThreadLimit 4\nThreadsPerChild 4\nMinSpareThreads 4\n"
           "MaxSpareThreads 24\nServerLimit 8\n";
}

/* Which backend answered /b/echo: the index of the port in its Host line, or -1. */
static int served_by(const pth_resp_t *r)
{
    const char *p = r->body ? strstr(r->body, "\r\nHost: 127.0.0.1:") : NULL;
    if (!p)
        return -1;
    int port = atoi(p + strlen("\r\nHost: 127.0.0.1:"));
    for (int i = 0; i < NBE; i++)
        if (be[i].port == port)
            return i;
    return -1;
}

static int get_member(const char *path, const char *const *hdrs)
{
    pth_resp_t r;
    pth_get(h, path, hdrs, &r);
    pth_assert_msg(r.status == 200, "GET %s: %d %s", path, r.status, r.body ? r.body : "");
    int m = served_by(&r);
    pth_resp_free(&r);
    return m;
}

/* n GETs of /b/echo, counted per member. */
static void spread(int n, int count[NBE], const char *const *hdrs)
{
    memset(count, 0, NBE * sizeof(int));
    for (int i = 0; i < n; i++) {
        int m = get_member("/b/echo", hdrs);
        pth_assert_msg(m >= 0, "no member in the answer");
        count[m]++;
    }
}

/* A balancer "c" over the backends (members: a printf list of extra keys per member, NULL
 * for none), with set as its ProxySet line. */
static void start_cluster(const char *pre, const char *set, const char *keys[NBE])
{
    char members[1024] = "";
    for (int i = 0; i < NBE; i++) {
        size_t l = strlen(members);
        snprintf(members + l, sizeof(members) - l, "  BalancerMember http://127.0.0.1:%d %s\n",
                 be[i].port, keys && keys[i] ? keys[i] : "");
    }
    pth_config(h, "%s<Proxy \"balancer://c\">\n%s  ProxySet %s\n</Proxy>\n"
                  "ProxyPass /b/ balancer://c/\n"
                  "<Location /status>\n SetHandler server-status\n</Location>\n"
                  "<Location /metrics>\n SetHandler metrics\n</Location>\n"
                  "<Location /bm>\n SetHandler balancer-manager\n Require ip 127.0.0.1\n"
                  "</Location>\n",
               pre ? pre : "", members, set);
    pth_start(h);
}

START_TEST(byrequests_gives_each_member_its_loadfactor_share)
{
    const char *keys[NBE] = {"loadfactor=1", "loadfactor=2", "loadfactor=1"};
    start_cluster(NULL, "lbmethod=byrequests", keys);
    int count[NBE];
    spread(40, count, NULL);
    ck_assert_int_eq(count[0], 10);
    ck_assert_int_eq(count[1], 20);
    ck_assert_int_eq(count[2], 10);
    pth_stop(h);
}
END_TEST

START_TEST(bybusyness_and_bytraffic_and_random2_use_every_member)
{
    static const char *const methods[] = {"bybusyness", "bytraffic", "random2"};
    for (size_t m = 0; m < 3; m++) {
        char set[64];
        snprintf(set, sizeof(set), "lbmethod=%s", methods[m]);
        start_cluster(NULL, set, NULL);
        int count[NBE];
        spread(60, count, NULL);
        for (int i = 0; i < NBE; i++)
            ck_assert_msg(count[i] >= 5, "%s: member %d got %d of 60", methods[m], i,
                          count[i]);
        pth_stop(h);
    }
}
END_TEST

START_TEST(hash_keeps_a_key_on_one_member_and_spreads_keys)
{
    start_cluster(NULL, "lbmethod=hash hashkey=header:X-User", NULL);
    int owner[30], seen[NBE] = {0};
    for (int u = 0; u < 30; u++) {
        char hdr[64];
        snprintf(hdr, sizeof(hdr), "X-User: user-%d", u);
        const char *hdrs[] = {hdr, NULL};
        owner[u] = get_member("/b/echo", hdrs);
        seen[owner[u]]++;
        for (int again = 0; again < 3; again++)
            ck_assert_int_eq(get_member("/b/echo", hdrs), owner[u]);
    }
    for (int i = 0; i < NBE; i++)
        ck_assert_msg(seen[i] > 0, "member %d owns no key of 30", i);
    /* Without the header: the client address is the key, one member for this client. */
    int first = get_member("/b/echo", NULL);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(get_member("/b/echo", NULL), first);
    pth_stop(h);
}
END_TEST

START_TEST(sticky_sessions_follow_the_route_in_cookie_or_url)
{
    const char *keys[NBE] = {"route=r0", "route=r1", "route=r2"};
    start_cluster(NULL, "stickysession=JSESSIONID|jsessionid", keys);
    const char *c1[] = {"Cookie: a=b; JSESSIONID=xyz.r1", NULL};
    const char *c2[] = {"Cookie: JSESSIONID=xyz.r2", NULL};
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(get_member("/b/echo", c1), 1);
        ck_assert_int_eq(get_member("/b/echo", c2), 2);
        ck_assert_int_eq(get_member("/b/echo?jsessionid=abc.r0", NULL), 0);
        /* In the path (the origin answers 404 to that name: counted by its requests). */
        int before = atomic_load(&be[2].counts->requests);
        pth_resp_t r;
        pth_get(h, "/b/app;jsessionid=abc.r2", NULL, &r);
        pth_resp_free(&r);
        ck_assert_int_eq(atomic_load(&be[2].counts->requests), before + 1);
    }
    /* An unknown route: the lbmethod picks, and the request still succeeds. */
    const char *unknown[] = {"Cookie: JSESSIONID=xyz.nowhere", NULL};
    ck_assert_int_ge(get_member("/b/echo", unknown), 0);
    pth_stop(h);
}
END_TEST

/* ---- Faults -------------------------------------------------------------------------- */

typedef struct {
    int port;
    int n, ok, bad;
    int last_bad;
} load_t;

/* GETs of /b/status: the origin writes that answer, head and body, in one send, so a member
 * killed at any moment dies between two answers, never inside one. (/b/echo's answer is
 * three sends: a kill between the second and the third cut an answer whose head and first
 * bytes had gone to the client, which a proxy that streams cannot take back: curl's 18,
 * "transfer closed with outstanding read data", once in 49 runs here, every run with 2 ms
 * between those sends.) */
static void *load_thread(void *arg)
{
    load_t *l = arg;
    pth_t hh = {.port = l->port};
    for (int i = 0; i < l->n; i++) {
        pth_resp_t r;
        int rc = pth_curl(&hh, "GET", "/b/status", NULL, NULL, 0, &r);
        if (rc == 0 && r.status == 200) {
            l->ok++;
        } else {
            l->bad++;
            l->last_bad = rc ? -rc : r.status;
        }
        pth_resp_free(&r);
    }
    return NULL;
}

/* A member that breaks off after its answer's head (a process killed between the head
 * and the body): accepts, reads a request head, sends a head promising 100 bytes and none
 * of them, then resets the connection. Runs until its listening socket is closed. */
typedef struct {
    int lfd;
    pthread_t t;
    atomic_int served;
} breaker_t;

static void *breaker_loop(void *arg)
{
    breaker_t *b = arg;
    for (;;) {
        int fd = accept(b->lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        char buf[8192];
        size_t got = 0;
        ssize_t n;
        while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
            got += (size_t)n;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n"))
                break;
        }
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
        (void)!write(fd, head, sizeof(head) - 1);
        atomic_fetch_add(&b->served, 1);
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(fd); /* RST */
    }
}

static int breaker_start(breaker_t *b)
{
    b->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    ck_assert_int_eq(bind(b->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(b->lfd, 64), 0);
    getsockname(b->lfd, (struct sockaddr *)&a, &al);
    atomic_init(&b->served, 0);
    pthread_create(&b->t, NULL, breaker_loop, b);
    return ntohs(a.sin_port);
}

static void breaker_stop(breaker_t *b)
{
    shutdown(b->lfd, SHUT_RDWR);
    close(b->lfd);
    pthread_join(b->t, NULL);
}

START_TEST(a_get_whose_member_breaks_off_before_anything_was_answered_goes_to_another)
{
    /* Nothing reached the client: an idempotent request goes to the other member, as when a
     * member dies between its head and its body (found as 1 GET in 600 answered 502 by
     * a_member_killed_under_load_costs_no_get_an_error). */
    pth_expect_error(h, "AH01075|in error state|trying another member");
    breaker_t br;
    int bport = breaker_start(&br);
    pth_config(h, "<Proxy balancer://c>\n BalancerMember http://127.0.0.1:%d\n"
                  " BalancerMember http://127.0.0.1:%d\n ProxySet lbmethod=byrequests\n"
                  "</Proxy>\nProxyPass /b/ balancer://c/\n", bport, be[1].port);
    pth_start(h);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(get_member("/b/echo", NULL), 1);
    ck_assert_int_gt(atomic_load(&br.served), 0);
    pth_stop(h);
    breaker_stop(&br);
}
END_TEST

START_TEST(a_member_killed_under_load_costs_no_get_an_error)
{
    pth_expect_error(h, "AH01079|AH01075|in error state|cannot send");
    pth_config(h, "%s<Proxy balancer://c>\n BalancerMember http://127.0.0.1:%d\n"
                  " BalancerMember http://127.0.0.1:%d\n</Proxy>\nProxyPass /b/ balancer://c/\n",
               children(), be[0].port, be[1].port);
    pth_start(h);
    enum { THREADS = 4 };
    pthread_t t[THREADS];
    load_t l[THREADS];
    for (int i = 0; i < THREADS; i++) {
        l[i] = (load_t){.port = h->port, .n = 150};
        pthread_create(&t[i], NULL, load_thread, &l[i]);
    }
    /* Kill member 0 once the load has reached it. */
    for (int64_t end = pth_now_ms() + 5000;
         atomic_load(&be[0].counts->requests) < 40 && pth_now_ms() < end;)
        pth_sleep_ms(2);
    pth_http_backend_stop(&be[0]);
    int ok = 0, bad = 0, last = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ok += l[i].ok;
        bad += l[i].bad;
        if (l[i].bad)
            last = l[i].last_bad;
    }
    ck_assert_msg(bad == 0, "%d of %d GETs failed (last: %d)", bad, ok + bad, last);
    ck_assert_int_gt(atomic_load(&be[1].counts->requests), 100);
    pth_stop(h);
}
END_TEST

START_TEST(hot_standby_takes_over_only_when_the_others_are_down)
{
    pth_expect_error(h, "AH01079|in error state");
    const char *keys[NBE] = {NULL, "status=+H", NULL};
    start_cluster(NULL, "lbmethod=byrequests", keys);
    int count[NBE];
    spread(20, count, NULL);
    ck_assert_int_eq(count[1], 0);
    pth_http_backend_stop(&be[0]);
    pth_http_backend_stop(&be[2]);
    spread(10, count, NULL);
    ck_assert_int_eq(count[1], 10);
    pth_stop(h);
}
END_TEST

START_TEST(a_higher_lbset_is_used_only_when_the_lower_has_no_usable_member)
{
    pth_expect_error(h, "AH01079|in error state");
    const char *keys[NBE] = {"lbset=1", "lbset=0", "lbset=1"};
    start_cluster(NULL, "lbmethod=byrequests", keys);
    int count[NBE];
    spread(8, count, NULL);
    ck_assert_int_eq(count[1], 8);
    pth_http_backend_stop(&be[1]);
    spread(8, count, NULL);
    ck_assert_int_eq(count[0], 4);
    ck_assert_int_eq(count[2], 4);
    pth_stop(h);
}
END_TEST

/* The module tag Apache writes ("[proxy_http:error]") on the error-log line that says what. */
static void assert_logged_by(pth_t *srv, const char *what, const char *tag)
{
    ck_assert_msg(pth_file_wait_contains(srv->error_log, what, 3000), "no '%s' logged", what);
    char *log = pth_read_file(srv->error_log, NULL);
    char *at = log ? strstr(log, what) : NULL;
    ck_assert_ptr_nonnull(at);
    char *bol = at;
    while (bol > log && bol[-1] != '\n')
        bol--;
    char *nl = strchr(at, '\n');
    if (nl)
        *nl = '\0';
    ck_assert_msg(strstr(bol, tag) != NULL && strstr(bol, tag) < at, "'%s' is not tagged %s",
                  bol, tag);
    free(log);
}

START_TEST(all_members_down_answers_503_at_once)
{
    pth_expect_error(h, "AH01079|in error state|AH01167");
    pth_config(h, "<Proxy balancer://c>\n BalancerMember http://127.0.0.1:%d\n"
                  " BalancerMember http://127.0.0.1:%d\n ProxySet forcerecovery=Off\n"
                  "</Proxy>\nProxyPass /b/ balancer://c/\n",
               pth_free_port(), pth_free_port());
    pth_start(h);
    for (int i = 0; i < 5; i++) {
        int64_t t0 = pth_now_ms();
        pth_resp_t r;
        pth_get(h, "/b/echo", NULL, &r);
        ck_assert_int_eq(r.status, 503);
        ck_assert_int_lt(pth_now_ms() - t0, 1000);
        pth_resp_free(&r);
    }
    ck_assert(pth_file_wait_contains(h->error_log, "All workers are in error state", 3000));
    assert_logged_by(h, "AH01167: balancer://c: All workers", "[proxy_balancer:error]");
    assert_logged_by(h, "AH00940: balancer://c: member", "[proxy:error]");
    pth_stop(h);
}
END_TEST

START_TEST(failonstatus_puts_the_member_in_error)
{
    pth_expect_error(h, "failonstatus");
    start_cluster("ProxyStatus On\n", "failonstatus=503 lbmethod=byrequests", NULL);
    /* The first request goes to member 0 (byrequests from a fresh state). */
    pth_resp_t r;
    pth_get(h, "/b/status?code=503", NULL, &r);
    ck_assert_int_eq(r.status, 503);
    pth_resp_free(&r);
    int count[NBE];
    spread(12, count, NULL);
    ck_assert_int_eq(count[0], 0);
    ck_assert_int_eq(count[1] + count[2], 12);
    pth_get(h, "/status?auto", NULL, &r);
    ck_assert_msg(strstr(r.body, "Worker[0]Status: Init Err"), "%s", r.body);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* ---- Visible state and runtime control ------------------------------------------------ */

START_TEST(status_and_metrics_show_every_member)
{
    start_cluster("ProxyStatus On\n", "lbmethod=byrequests", NULL);
    int count[NBE];
    spread(6, count, NULL);
    pth_resp_t r;
    pth_get(h, "/status?auto", NULL, &r);
    ck_assert_msg(strstr(r.body, "ProxyBalancer[0]Name: balancer://c\n"), "%s", r.body);
    char want[128];
    snprintf(want, sizeof(want), "ProxyBalancer[0]Worker[2]Name: http://127.0.0.1:%d\n",
             be[2].port);
    ck_assert_msg(strstr(r.body, want), "%s", r.body);
    ck_assert_msg(strstr(r.body, "ProxyBalancer[0]Worker[1]Elected: 2\n"), "%s", r.body);
    ck_assert_msg(strstr(r.body, "Worker[1]Status: Init Ok\n"), "%s", r.body);
    pth_resp_free(&r);
    pth_get(h, "/status", NULL, &r);
    ck_assert_msg(strstr(r.body, "Proxy LoadBalancer Status for balancer://c"), "%s", r.body);
    pth_resp_free(&r);
    pth_get(h, "/metrics", NULL, &r);
    snprintf(want, sizeof(want), "portico_balancer_member_requests_total{balancer=\"balancer:"
             "//c\",member=\"http://127.0.0.1:%d\"} 2\n", be[0].port);
    ck_assert_msg(strstr(r.body, want), "%s", r.body);
    ck_assert_msg(strstr(r.body, "portico_balancer_member_up{"), "%s", r.body);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* mod_proxy's status hook returns at once with ProxyStatus Off (the default): neither the
 * HTML page nor ?auto names a balancer. The metrics handler, portico's own, still does. */
START_TEST(proxy_status_off_hides_the_balancers_from_server_status)
{
    static const char *const pre[] = {"", "ProxyStatus Off\n"};
    for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
        start_cluster(pre[i], "lbmethod=byrequests", NULL);
        int count[NBE];
        spread(3, count, NULL);
        pth_resp_t r;
        pth_get(h, "/status?auto", NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(strstr(r.body, "Total Accesses:") && !strstr(r.body, "ProxyBalancer"),
                      "%s", r.body);
        pth_resp_free(&r);
        pth_get(h, "/status", NULL, &r);
        ck_assert_msg(strstr(r.body, "Server Version") || strstr(r.body, "<html"), "%s", r.body);
        ck_assert_msg(!strstr(r.body, "LoadBalancer Status"), "%s", r.body);
        pth_resp_free(&r);
        pth_get(h, "/metrics", NULL, &r);
        ck_assert_msg(strstr(r.body, "portico_balancer_member_requests_total{"), "%s", r.body);
        pth_resp_free(&r);
        pth_stop(h);
    }
}
END_TEST

/* ProxyStatus Full is a synonym of On (Apache 2.4). */
START_TEST(proxy_status_full_shows_them_as_on_does)
{
    start_cluster("ProxyStatus Full\n", "lbmethod=byrequests", NULL);
    pth_resp_t r;
    pth_get(h, "/status?auto", NULL, &r);
    ck_assert_msg(strstr(r.body, "ProxyBalancer[0]Name: balancer://c\n"), "%s", r.body);
    pth_resp_free(&r);
    pth_stop(h);
}
END_TEST

/* The nonce of balancer c from the manager's page. */
static char *manager_nonce(void)
{
    pth_resp_t r;
    pth_get(h, "/bm", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    const char *p = strstr(r.body, "name=\"nonce\" value=\"");
    ck_assert_ptr_nonnull(p);
    p += strlen("name=\"nonce\" value=\"");
    char *nonce = strndup(p, strcspn(p, "\""));
    pth_resp_free(&r);
    return nonce;
}

static int manager_post(const char *form)
{
    pth_resp_t r;
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    ck_assert_int_eq(pth_curl(h, "POST", "/bm", hdrs, form, strlen(form), &r), 0);
    int st = r.status;
    pth_resp_free(&r);
    return st;
}

static void disable_member0(const char *nonce, const char *what)
{
    char form[512];
    snprintf(form, sizeof(form), "b=c&w=http%%3A%%2F%%2F127.0.0.1%%3A%d&nonce=%s&%s",
             be[0].port, nonce, what);
    ck_assert_int_eq(manager_post(form), 200);
}

START_TEST(manager_changes_reach_every_child_at_once)
{
    pth_expect_error(h, "AH01193");
    start_cluster(children(), "lbmethod=byrequests", NULL);
    char *nonce = manager_nonce();
    char form[512];
    /* Without the nonce, or with another, a change is refused. */
    snprintf(form, sizeof(form), "b=c&w=http://127.0.0.1:%d&w_status_D=1", be[0].port);
    ck_assert_int_eq(manager_post(form), 403);
    snprintf(form, sizeof(form), "b=c&w=http://127.0.0.1:%d&w_status_D=1&nonce=0000",
             be[0].port);
    ck_assert_int_eq(manager_post(form), 403);
    int count[NBE];
    spread(9, count, NULL);
    ck_assert_int_eq(count[0], 3);
    disable_member0(nonce, "w_status_D=1");
    /* Each GET a new connection: they land on every child. */
    spread(30, count, NULL);
    ck_assert_int_eq(count[0], 0);
    /* Drain: no new requests either; then back on, with a loadfactor. */
    disable_member0(nonce, "w_status_D=0&w_status_N=1");
    spread(12, count, NULL);
    ck_assert_int_eq(count[0], 0);
    disable_member0(nonce, "w_status_N=0&w_lf=2");
    spread(40, count, NULL);
    ck_assert_msg(count[0] >= 18 && count[0] <= 22, "member 0 got %d of 40", count[0]);
    pth_resp_t r;
    pth_get(h, "/bm", NULL, &r);
    ck_assert_msg(strstr(r.body, "name=\"w_lf\" size=\"3\" value=\"2\""), "%s", r.body);
    pth_resp_free(&r);
    free(nonce);
    pth_stop(h);
}
END_TEST

typedef struct {
    int port;
    const char *path;
    int status;
    int64_t ms;
} one_get_t;

static void *one_get(void *arg)
{
    one_get_t *g = arg;
    pth_t hh = {.port = g->port};
    pth_resp_t r;
    int64_t t0 = pth_now_ms();
    int rc = pth_curl(&hh, "GET", g->path, NULL, NULL, 0, &r);
    g->status = rc ? -rc : r.status;
    g->ms = pth_now_ms() - t0;
    pth_resp_free(&r);
    return NULL;
}

START_TEST(a_drained_member_finishes_its_requests_and_takes_no_new_ones)
{
    start_cluster(children(), "lbmethod=byrequests", NULL);
    char *nonce = manager_nonce();
    /* The first request of a fresh balancer goes to member 0: a slow one. */
    one_get_t g = {.port = h->port, .path = "/b/slow?ms=1500"};
    pthread_t t;
    pthread_create(&t, NULL, one_get, &g);
    for (int64_t end = pth_now_ms() + 5000;
         atomic_load(&be[0].counts->requests) < 1 && pth_now_ms() < end;)
        pth_sleep_ms(5);
    ck_assert_int_eq(atomic_load(&be[0].counts->requests), 1);
    disable_member0(nonce, "w_status_N=1");
    int count[NBE];
    spread(10, count, NULL);
    ck_assert_int_eq(count[0], 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(g.status, 200);
    free(nonce);
    pth_stop(h);
}
END_TEST

/* Under the event MPM a balanced request waiting for its member holds no worker: twelve
 * requests to members that answer after 1.5 s, on two workers, end together (about 1.5 s)
 * rather than two at a time (9 s); busy counts each until it ends. */
START_TEST(balanced_requests_to_slow_members_hold_no_worker)
{
    pth_config(h, "StartServers 1\nServerLimit 1\nThreadLimit 2\nThreadsPerChild 2\n"
                  "MaxRequestWorkers 2\nMinSpareThreads 1\nMaxSpareThreads 2\n"
                  "<Proxy balancer://c>\n BalancerMember http://127.0.0.1:%d max=20\n"
                  " BalancerMember http://127.0.0.1:%d max=20\n ProxySet lbmethod=bybusyness\n"
                  "</Proxy>\nProxyPass /b/ balancer://c/\n", be[0].port, be[1].port);
    pth_start(h);
    enum { N = 12 };
    one_get_t g[N];
    pthread_t t[N];
    int64_t t0 = pth_now_ms();
    for (int i = 0; i < N; i++) {
        g[i] = (one_get_t){.port = h->port, .path = "/b/slow?ms=1500"};
        ck_assert_int_eq(pthread_create(&t[i], NULL, one_get, &g[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(g[i].status, 200);
    }
    int64_t ms = pth_now_ms() - t0;
    ck_assert_msg(ms < 4500, "12 balanced requests to 1.5 s members took %lld ms on two "
                  "workers", (long long)ms);
    /* bybusyness saw them in flight: both members had a share. */
    ck_assert_int_gt(atomic_load(&be[0].counts->requests), 2);
    ck_assert_int_gt(atomic_load(&be[1].counts->requests), 2);
    pth_stop(h);
}
END_TEST

/* Waits until server-status shows a request in flight whose line holds line. */
static bool wait_in_flight(const char *line, int ms)
{
    for (int64_t end = pth_now_ms() + ms; pth_now_ms() < end; pth_sleep_ms(10)) {
        pth_resp_t r;
        pth_get(h, "/status", NULL, &r);
        bool seen = r.status == 200 && r.body && strstr(r.body, line);
        pth_resp_free(&r);
        if (seen)
            return true;
    }
    return false;
}

/* The GET finds no usable member and waits (timeout=5): the member is enabled only once the
 * GET is seen in flight, so its 200 came from the wait. (A fixed sleep before enabling it
 * let a GET that reached the server late find the member back, and a thread that started
 * late measure less than the sleep.) */
START_TEST(timeout_waits_for_a_member_to_come_back)
{
    pth_config(h, "%s<Proxy balancer://c>\n BalancerMember http://127.0.0.1:%d\n"
                  " ProxySet timeout=5\n</Proxy>\nProxyPass /b/ balancer://c/\n"
                  "<Location /bm>\n SetHandler balancer-manager\n</Location>\n"
                  "<Location /status>\n SetHandler server-status\n</Location>\n",
               children(), be[0].port);
    pth_start(h);
    char *nonce = manager_nonce();
    disable_member0(nonce, "w_status_D=1");
    one_get_t g = {.port = h->port, .path = "/b/echo?waiting"};
    pthread_t t;
    pthread_create(&t, NULL, one_get, &g);
    bool waiting = wait_in_flight("GET /b/echo?waiting HTTP/1.1", 5000);
    disable_member0(nonce, "w_status_D=0");
    pthread_join(t, NULL);
    ck_assert_msg(waiting, "the GET was not seen waiting (status %d)", g.status);
    ck_assert_int_eq(g.status, 200);
    free(nonce);
    pth_stop(h);
}
END_TEST

static void persist_across_usr1(bool persist)
{
    start_cluster(persist ? "BalancerPersist On\n" : NULL, "lbmethod=byrequests", NULL);
    char *nonce = manager_nonce();
    disable_member0(nonce, "w_status_D=1");
    free(nonce);
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    ck_assert_msg(pth_file_wait_contains(h->error_log, "generation 1 configured", 5000),
                  "no restart");
    /* Wait until the new generation's children serve (old ones finish and leave). */
    pth_sleep_ms(300);
    int count[NBE];
    spread(24, count, NULL);
    if (persist)
        ck_assert_int_eq(count[0], 0);
    else
        ck_assert_int_gt(count[0], 0);
    pth_stop(h);
}

START_TEST(balancer_persist_keeps_manager_changes_across_a_graceful_restart)
{
    persist_across_usr1(true);
}
END_TEST

START_TEST(without_balancer_persist_a_graceful_restart_starts_from_the_config)
{
    persist_across_usr1(false);
}
END_TEST

START_TEST(proxy_section_require_guards_the_balancer)
{
    pth_expect_error(h, "AH01630");
    /* Sections merge in file order, a later Require replacing an earlier one (Apache): the
     * catch-all first. */
    pth_config(h, "<Proxy *>\n Require all granted\n</Proxy>\n"
                  "<Proxy balancer://c>\n BalancerMember http://127.0.0.1:%d\n"
                  " Require ip 10.9.9.9\n</Proxy>\n<Proxy balancer://d>\n"
                  " BalancerMember http://127.0.0.1:%d\n</Proxy>\n"
                  "ProxyPass /b/ balancer://c/\nProxyPass /d/ balancer://d/\n",
               be[0].port, be[1].port);
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/b/echo", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    pth_resp_free(&r);
    ck_assert_int_eq(get_member("/d/echo", NULL), 1);
    ck_assert_int_eq(atomic_load(&be[0].counts->requests), 0);
    pth_stop(h);
}
END_TEST

START_TEST(proxy_sections_guard_plain_http_backends_too)
{
    pth_expect_error(h, "AH01630");
    pth_config(h, "<Proxy *>\n Require all denied\n</Proxy>\n"
                  "<Proxy \"http://127.0.0.1:%d\">\n Require all granted\n</Proxy>\n"
                  "ProxyPass /open/ http://127.0.0.1:%d/\nProxyPass /shut/ http://127.0.0.1:%d/\n",
               be[0].port, be[0].port, be[1].port);
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/shut/echo", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    pth_resp_free(&r);
    pth_get(h, "/open/echo", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    ck_assert_int_eq(atomic_load(&be[1].counts->requests), 0);
    pth_stop(h);
}
END_TEST

/* mod_proxy's walk matches <Proxy> and <ProxyMatch> against the proxied URL, the backend's
 * URL joined with the request's path: a section naming a path under a backend guards only
 * the requests that go there. */
START_TEST(proxy_sections_match_the_backend_url_joined_with_the_request_path)
{
    pth_expect_error(h, "AH01630");
    pth_config(h, "<Proxy \"http://127.0.0.1:%d/app\">\n Require all denied\n</Proxy>\n"
                  "<ProxyMatch \"^http://127\\.0\\.0\\.1:[0-9]+/secret\">\n"
                  " Require all denied\n</ProxyMatch>\n"
                  "<Proxy \"balancer://c/adm\">\n Require all denied\n</Proxy>\n"
                  "<Proxy \"balancer://c\">\n BalancerMember http://127.0.0.1:%d\n</Proxy>\n"
                  "ProxyPass /x/ http://127.0.0.1:%d/\nProxyPass /b/ balancer://c/\n",
               be[0].port, be[1].port, be[0].port);
    pth_start(h);
    static const struct {
        const char *path;
        int status;
    } cases[] = {{"/x/echo", 200},       {"/x/app/echo", 403}, {"/x/app", 403},
                 {"/x/secret/a", 403},   {"/x/pub/secret/echo", 200}, {"/b/echo", 200},
                 {"/b/adm/echo", 403}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pth_resp_t r;
        pth_get(h, cases[i].path, NULL, &r);
        ck_assert_msg(r.status == cases[i].status, "%s: %d", cases[i].path, r.status);
        pth_resp_free(&r);
    }
    ck_assert_int_eq(atomic_load(&be[0].counts->requests), 2);
    ck_assert(pth_file_wait_contains(h->error_log, "client denied by server configuration: "
                                     "proxy:http://127.0.0.1:", 2000));
    pth_stop(h);
}
END_TEST

/* The Apache manual's mod_proxy_balancer example, as written there but for the addresses. */
START_TEST(the_apache_manual_balancer_example_runs)
{
    pth_config(h, "<Proxy \"balancer://mycluster\">\n"
                  "    BalancerMember \"http://127.0.0.1:%d\"\n"
                  "    BalancerMember \"http://127.0.0.1:%d\"\n"
                  "    ProxySet lbmethod=bytraffic\n"
                  "</Proxy>\n"
                  "ProxyPass \"/\" \"balancer://mycluster/\"\n",
               be[0].port, be[1].port);
    pth_start(h);
    int seen[NBE] = {0};
    for (int i = 0; i < 20; i++) {
        pth_resp_t r;
        pth_get(h, "/bytes?n=1000", NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_uint_eq(r.body_len, 1000);
        pth_resp_free(&r);
        seen[get_member("/echo", NULL)]++;
    }
    ck_assert_int_gt(seen[0], 0);
    ck_assert_int_gt(seen[1], 0);
    ck_assert_int_eq(atomic_load(&be[0].counts->requests) + atomic_load(&be[1].counts->requests),
                     40);
    pth_stop(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("balancer");
    TCase *tc = tcase_create("lbmethods");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, byrequests_gives_each_member_its_loadfactor_share);
    tcase_add_test(tc, bybusyness_and_bytraffic_and_random2_use_every_member);
    tcase_add_test(tc, hash_keeps_a_key_on_one_member_and_spreads_keys);
    tcase_add_test(tc, sticky_sessions_follow_the_route_in_cookie_or_url);
    tcase_add_test(tc, the_apache_manual_balancer_example_runs);
    pth_tcase_add_for(tc, "event", balanced_requests_to_slow_members_hold_no_worker);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("faults");
    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_set_timeout(tf, 120);
    tcase_add_test(tf, a_member_killed_under_load_costs_no_get_an_error);
    tcase_add_test(tf, a_get_whose_member_breaks_off_before_anything_was_answered_goes_to_another);
    tcase_add_test(tf, hot_standby_takes_over_only_when_the_others_are_down);
    tcase_add_test(tf, a_higher_lbset_is_used_only_when_the_lower_has_no_usable_member);
    tcase_add_test(tf, all_members_down_answers_503_at_once);
    tcase_add_test(tf, failonstatus_puts_the_member_in_error);
    suite_add_tcase(s, tf);
    TCase *tm = tcase_create("manager");
    tcase_add_checked_fixture(tm, setup, teardown);
    tcase_set_timeout(tm, 120);
    tcase_add_test(tm, status_and_metrics_show_every_member);
    tcase_add_test(tm, proxy_status_off_hides_the_balancers_from_server_status);
    tcase_add_test(tm, proxy_status_full_shows_them_as_on_does);
    tcase_add_test(tm, manager_changes_reach_every_child_at_once);
    tcase_add_test(tm, balancer_persist_keeps_manager_changes_across_a_graceful_restart);
    tcase_add_test(tm, without_balancer_persist_a_graceful_restart_starts_from_the_config);
    tcase_add_test(tm, proxy_section_require_guards_the_balancer);
    tcase_add_test(tm, proxy_sections_guard_plain_http_backends_too);
    tcase_add_test(tm, proxy_sections_match_the_backend_url_joined_with_the_request_path);
    tcase_add_test(tm, a_drained_member_finishes_its_requests_and_takes_no_new_ones);
    tcase_add_test(tm, timeout_waits_for_a_member_to_come_back);
    suite_add_tcase(s, tm);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
