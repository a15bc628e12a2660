/* The Kubernetes load-balancer use played on loopback, with the container image's own
 * configuration (docker/portico.conf, driven by the environment as the image drives it):
 * two replicas of portico + php-fpm on 127.0.0.2 and 127.0.0.3 (one port, as pods), a
 * portico balancer in front (-D BALANCER) whose member is a name with resolve=, answered
 * by the test DNS server (tests/support/dns_server.c) as a headless Service's name is. One
 * replica is then drained as Kubernetes drains a pod: its address leaves DNS and it gets
 * SIGTERM at the same moment, with a request of its own in flight, while a client keeps
 * sending requests through the balancer. No request fails. */
/* mpms: event */
#include "dns_server.h"
#include "fcgi_backends.h"
#include "harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REPLICAS 2

static pth_dns_t *dns;
static pth_fpm_t fpm[REPLICAS];
static pth_t *replica[REPLICAS];
static pth_t *lb;
static int app_port; /* the replicas' common port, as a Service's targetPort */
static pth_t *files; /* holds the application both replicas serve (one shared volume) */
static char docroot[300];

/* The environment the image's ENV gives docker/portico.conf, with this test's values. */
static void image_env(const char *listen, const char *php_fpm)
{
    static const char *const defaults[][2] = {
        {"SERVER_NAME", "localhost"},      {"FALLBACK_RESOURCE", "/index.php"},
        {"TLS_CERT", "/nonexistent.crt"},  {"TLS_KEY", "/nonexistent.key"},
        {"TLS_TICKET_KEY_FILE", "/nonexistent.key"},
        {"UPSTREAM_RESOLVE", "1"},         {"UPSTREAM_HEALTH_PATH", "/healthz"},
        {"START_SERVERS", "1"},            {"THREADS_PER_CHILD", "8"},
        {"MAX_REQUEST_WORKERS", "16"},     {"GRACEFUL_SHUTDOWN_TIMEOUT", "10"},
        {"LOG_LEVEL", "warn"},             {"HTTPS_PORT", "0"},
    };
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        setenv(defaults[i][0], defaults[i][1], 1);
    char upstream[64];
    snprintf(upstream, sizeof(upstream), "app.test:%d", app_port);
    setenv("UPSTREAM", upstream, 1);
    setenv("DOCUMENT_ROOT", docroot, 1);
    setenv("HTTP_PORT", listen, 1);
    setenv("PHP_FPM", php_fpm, 1);
}

/* docker/portico.conf as the image has it; its PidFile moved into the test's dir, and a
 * loopback listener added for the harness's readiness wait and the test's own requests. */
static void image_config(pth_t *h, const char *extra)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/docker/portico.conf", getenv("PORTICO_SOURCE_DIR"));
    char *conf = pth_read_file(path, NULL);
    pth_assert_msg(conf != NULL, "cannot read %s", path);
    const char *pid = strstr(conf, "PidFile /run/portico/portico.pid\n");
    pth_assert_msg(pid != NULL, "docker/portico.conf has no PidFile /run/portico/portico.pid");
    int at = (int)(pid - conf);
    pth_config_raw(h, "%.*sPidFile @DIR@/portico.pid\n%s\nListen 127.0.0.1:@PORT@\n%s", at,
                   conf, pid + strlen("PidFile /run/portico/portico.pid\n"), extra);
    free(conf);
    snprintf(h->error_log, sizeof(h->error_log), "%s", h->err_path);
}

static void start_replica(int i)
{
    char listen[64], php[256];
    snprintf(listen, sizeof(listen), "127.0.0.%d:%d", 2 + i, app_port);
    snprintf(php, sizeof(php), "unix:%s|fcgi://localhost", fpm[i].sock);
    replica[i] = pth_new();
    image_env(listen, php);
    image_config(replica[i], "");
    pth_start(replica[i]);
}

static void start_balancer(void)
{
    lb = pth_new();
    char listen[64], extra[128];
    snprintf(listen, sizeof(listen), "127.0.0.5:%d", pth_free_port());
    image_env(listen, "fcgi://127.0.0.1:1");
    snprintf(extra, sizeof(extra), "ProxyResolver 127.0.0.1:%d\n", pth_dns_port(dns));
    image_config(lb, extra);
    pth_start_args(lb, (const char *const[]){"-D", "BALANCER", NULL});
}

static void setup(void)
{
    dns = pth_dns_start();
    pth_assert(dns != NULL);
    app_port = pth_free_port();
    pth_dns_set(dns, "app.test", "127.0.0.2 127.0.0.3", 1);
    char msg[512];
    for (int i = 0; i < REPLICAS; i++)
        ck_assert_msg(pth_fpm_start(&fpm[i], 3, false, msg, sizeof(msg)) == 0, "%s", msg);
    files = pth_new();
    char app[512];
    snprintf(app, sizeof(app), "%s/docker/app/index.php", getenv("PORTICO_SOURCE_DIR"));
    size_t len;
    char *php = pth_read_file(app, &len);
    pth_assert_msg(php != NULL, "cannot read %s", app);
    pth_write_file(files, "index.php", php, len);
    free(php);
    snprintf(docroot, sizeof(docroot), "%s", files->docroot);
    for (int i = 0; i < REPLICAS; i++)
        start_replica(i);
    start_balancer();
}

/* ---- The client: requests through the balancer, one after another, until told to stop. */
typedef struct {
    int port;
    atomic_bool stop;
    atomic_int done, failed, by_replica[REPLICAS];
    char first_failure[512];
} client_t;

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    char *buf = ud;
    size_t have = strlen(buf), add = size * n;
    if (have + add < 1024) {
        memcpy(buf + have, p, add);
        buf[have + add] = '\0';
    }
    return add;
}

static void *client_main(void *arg)
{
    client_t *c = arg;
    CURL *e = curl_easy_init();
    char url[128], body[1024];
    for (int i = 0; !atomic_load(&c->stop); i++) {
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/shop/item/%d", c->port, i);
        body[0] = '\0';
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
        CURLcode rc = curl_easy_perform(e);
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        char want[64];
        snprintf(want, sizeof(want), "uri=/shop/item/%d\n", i);
        if (rc != CURLE_OK || status != 200 || !strstr(body, want)) {
            if (atomic_fetch_add(&c->failed, 1) == 0)
                snprintf(c->first_failure, sizeof(c->first_failure), "%s: curl %d, %ld: %.120s",
                         url, rc, status, body);
        }
        for (int r = 0; r < REPLICAS; r++) {
            char who[32];
            snprintf(who, sizeof(who), "server=127.0.0.%d\n", 2 + r);
            if (strstr(body, who))
                atomic_fetch_add(&c->by_replica[r], 1);
        }
        atomic_fetch_add(&c->done, 1);
    }
    curl_easy_cleanup(e);
    return NULL;
}

static bool wait_count(atomic_int *v, int want, int ms)
{
    int64_t deadline = pth_now_ms() + ms;
    while (atomic_load(v) < want && pth_now_ms() < deadline)
        pth_sleep_ms(10);
    return atomic_load(v) >= want;
}

/* A request straight to a replica's pod address, left in flight. */
static int send_to(const char *addr, int port, const char *req)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    pth_assert(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &a.sin_addr);
    pth_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect %s:%d", addr,
                   port);
    pth_assert(send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req));
    return fd;
}

static char *read_all(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    pth_assert(buf != NULL);
    ssize_t n;
    while (len + 1 < cap && (n = recv(fd, buf + len, cap - len - 1, 0)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
    return buf;
}

START_TEST(a_replica_drained_as_kubernetes_drains_a_pod_loses_no_request)
{
    /* Ready as a Service is: once the balancer has found its members (the first lookup
     * comes with the parent's first tick; until then its answer is 503, logged). */
    pth_expect_error(lb, "AH01167: balancer://app: All workers are in error state");
    int64_t ready_by = pth_now_ms() + 10000;
    for (int status = 0; status != 200 && pth_now_ms() < ready_by;) {
        pth_resp_t r;
        ck_assert_int_eq(pth_curl(lb, "GET", "/", NULL, NULL, 0, &r), 0);
        status = r.status;
        pth_resp_free(&r);
        if (status != 200)
            pth_sleep_ms(20);
    }
    client_t c = {.port = lb->port};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, client_main, &c), 0);
    /* Both replicas take requests through the balancer first. */
    ck_assert_msg(wait_count(&c.by_replica[0], 20, 15000) && wait_count(&c.by_replica[1], 20, 15000),
                  "not both replicas served: %d and %d of %d (%d failed: %s)", atomic_load(&c.by_replica[0]),
                  atomic_load(&c.by_replica[1]), atomic_load(&c.done), atomic_load(&c.failed), c.first_failure);

    /* A request of its own in flight on the replica that goes (a slow PHP page). */
    int inflight = send_to("127.0.0.3", app_port,
                           "GET /index.php?sleep=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    int64_t deadline = pth_now_ms() + 5000;
    pth_resp_t st = {0};
    for (;;) {
        pth_get(replica[1], "/server-status", NULL, &st);
        bool busy = strstr(st.body, "GET /index.php?sleep=1") != NULL;
        pth_resp_free(&st);
        if (busy || pth_now_ms() > deadline)
            break;
        pth_sleep_ms(10);
    }
    /* The pod goes: out of the Service's DNS and SIGTERM at the same moment (the worst case:
     * no preStop delay), while the client goes on. */
    pth_dns_set(dns, "app.test", "127.0.0.2", 1);
    int before = atomic_load(&c.done);
    ck_assert_int_eq(kill(replica[1]->pid, SIGTERM), 0);
    char *answer = read_all(inflight, 8000);
    ck_assert_msg(strstr(answer, " 200 ") && strstr(answer, "slept\n"),
                  "the request in flight on the drained replica: %s", answer);
    free(answer);
    ck_assert_int_eq(pth_wait_exit(replica[1], 15000), 0);
    /* The balancer goes on with the other replica, across two more lookups of the name
     * (the first may have been on its way before the change), and 300 requests at least. */
    int gone = atomic_load(&c.by_replica[1]);
    unsigned lookups = pth_dns_udp_queries(dns) + pth_dns_tcp_queries(dns);
    int64_t by = pth_now_ms() + 15000;
    while (pth_dns_udp_queries(dns) + pth_dns_tcp_queries(dns) < lookups + 2 && pth_now_ms() < by)
        pth_sleep_ms(20);
    ck_assert_uint_ge(pth_dns_udp_queries(dns) + pth_dns_tcp_queries(dns), lookups + 2);
    ck_assert(wait_count(&c.done, before + 300, 30000));
    atomic_store(&c.stop, true);
    pthread_join(t, NULL);
    ck_assert_msg(atomic_load(&c.failed) == 0, "%d of %d requests failed; first: %s",
                  atomic_load(&c.failed), atomic_load(&c.done), c.first_failure);
    ck_assert_int_eq(atomic_load(&c.by_replica[1]), gone);
    /* The balancer saw the drained member refuse (logged) and went elsewhere. */
    pth_expect_error(lb, "AH01079|AH00940|AH01102|AH01084|AH01095|AH01097");
}
END_TEST

static void teardown(void)
{
    if (lb)
        pth_stop(lb);
    for (int i = 0; i < REPLICAS; i++)
        if (replica[i] && replica[i]->pid)
            pth_stop(replica[i]);
    pth_free(lb);
    for (int i = 0; i < REPLICAS; i++) {
        pth_free(replica[i]);
        pth_fpm_free(&fpm[i]);
    }
    pth_free(files);
    pth_dns_stop(dns);
}

static Suite *suite(void)
{
    Suite *s = suite_create("k8s_sim");
    TCase *tc = tcase_create("drain");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_replica_drained_as_kubernetes_drains_a_pod_loses_no_request);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!pth_fpm_available()) {
        fprintf(stderr, "php-fpm8.2 is not installed (scripts/setup installs it)\n");
        return EXIT_FAILURE;
    }
    curl_global_init(CURL_GLOBAL_ALL);
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
