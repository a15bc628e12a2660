/* Health checks (proxy/hcheck.c, directives_hcheck.c, resolve_slots.c): ProxyHCExpr's forms
 * read and evaluated, and refused with the supported forms named; the probes against a
 * small HTTP server of the test's own (request line, ejection after hcfails, re-admission
 * after hcpasses, TCP checks, a backend that never answers bounded by the budget and the
 * probe's deadline); the layout and names of resolve= slots. */
#include "hcheck.h"

#include "directives.h"
#include "resolve_slots.h"
#include "startup.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];
static char err[PT_ERRLEN];

static pt_config_t *load(const char *body)
{
    strcpy(path, "/tmp/pthcheckXXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "Listen 127.0.0.1:8080\n%s", body);
    fclose(f);
    pt_config_t *c = pt_config_load(path, NULL, err, sizeof(err));
    unlink(path);
    return c;
}

/* The configurations expr() loaded: its expressions (and their regexes) live in them. */
static pt_config_t *kept[16];
static int nkept;

static void free_kept(void)
{
    while (nkept > 0)
        pt_config_free(kept[--nkept]);
}

static const pt_hc_expr_t *expr(const char *def)
{
    char body[512];
    snprintf(body, sizeof(body), "ProxyHCExpr ok %s\n", def);
    pt_config_t *c = load(body);
    ck_assert_msg(c != NULL, "%s: %s", def, err);
    ck_assert_int_lt(nkept, 16);
    kept[nkept++] = c;
    ck_assert_int_eq((int)c->hcheck->nexprs, 1);
    return c->hcheck->exprs[0];
}

START_TEST(the_default_passes_2xx_and_3xx)
{
    ck_assert(pt_hc_expr_eval(NULL, 200) && pt_hc_expr_eval(NULL, 302));
    ck_assert(!pt_hc_expr_eval(NULL, 404) && !pt_hc_expr_eval(NULL, 503) &&
              !pt_hc_expr_eval(NULL, 101));
}
END_TEST

START_TEST(the_common_forms_of_proxyhcexpr_are_read)
{
    const pt_hc_expr_t *e = expr("{%{REQUEST_STATUS} =~ /^[234]/}");
    ck_assert(pt_hc_expr_eval(e, 200) && pt_hc_expr_eval(e, 404) && !pt_hc_expr_eval(e, 500));
    e = expr("{%{REQUEST_STATUS} in {'200','204'}}");
    ck_assert(pt_hc_expr_eval(e, 204) && !pt_hc_expr_eval(e, 201));
    e = expr("\"{%{REQUEST_STATUS} in {'200', '204'}}\"");
    ck_assert(pt_hc_expr_eval(e, 200) && !pt_hc_expr_eval(e, 301));
    e = expr("{%{REQUEST_STATUS} in { '200', '204' }}"); /* split by the config reader */
    ck_assert(pt_hc_expr_eval(e, 204) && !pt_hc_expr_eval(e, 500));
    e = expr("{%{REQUEST_STATUS} !~ /^5/}");
    ck_assert(pt_hc_expr_eval(e, 404) && !pt_hc_expr_eval(e, 503));
    e = expr("{%{REQUEST_STATUS} -lt 400 && %{REQUEST_STATUS} != 302}");
    ck_assert(pt_hc_expr_eval(e, 200) && !pt_hc_expr_eval(e, 302) && !pt_hc_expr_eval(e, 404));
    e = expr("{%{REQUEST_STATUS} == 200 || (%{REQUEST_STATUS} -ge 300 && "
             "!(%{REQUEST_STATUS} == 304))}");
    ck_assert(pt_hc_expr_eval(e, 200) && pt_hc_expr_eval(e, 301) && !pt_hc_expr_eval(e, 304) &&
              !pt_hc_expr_eval(e, 201));
    free_kept();
}
END_TEST

START_TEST(an_unsupported_expression_is_a_config_error_naming_the_supported_forms)
{
    static const char *const bad[] = {
        "ProxyHCExpr x {%{REQUEST_URI} =~ /a/}\n",
        "ProxyHCExpr x %{REQUEST_STATUS} =~ /^2/\n",
        "ProxyHCExpr x {%{REQUEST_STATUS} =~ /^2/\n",
        "ProxyHCExpr x {%{REQUEST_STATUS} -lt abc}\n",
        "ProxyHCExpr x {%{REQUEST_STATUS} =~ /(/}\n",
        "ProxyHCExpr x {%{REQUEST_STATUS} =~ /^2/} extra\n",
        "ProxyHCExpr x {hc('body') !~ /Oops/}\n",
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(bad); i++) {
        ck_assert_msg(load(bad[i]) == NULL, "accepted: %s", bad[i]);
        ck_assert_msg(strstr(err, ":2:") != NULL, "no line in '%s'", err);
        if (!strstr(bad[i], "/(/"))
            ck_assert_msg(strstr(err, "supported: %{REQUEST_STATUS}") != NULL, "'%s'", err);
    }
    ck_assert_ptr_null(load("ProxyHCExpr x {%{REQUEST_STATUS} == 200}\n"
                            "ProxyHCExpr x {%{REQUEST_STATUS} == 204}\n"));
    ck_assert_ptr_nonnull(strstr(err, "defined twice"));
}
END_TEST

START_TEST(hcexpr_must_name_a_proxyhcexpr_and_is_resolved_per_backend)
{
    ck_assert_ptr_null(load("<Proxy balancer://b>\nBalancerMember http://127.0.0.1:9 "
                            "hcmethod=GET hcexpr=nope\n</Proxy>\n"));
    ck_assert_ptr_nonnull(strstr(err, "hcexpr=nope names no ProxyHCExpr"));
    pt_config_t *c = load("<Proxy balancer://b>\nBalancerMember http://127.0.0.1:9 "
                          "hcmethod=GET hcexpr=ok\n</Proxy>\n"
                          "ProxyHCExpr ok {%{REQUEST_STATUS} == 204}\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_backend_t *m = c->balancers[0]->members[0];
    ck_assert_ptr_eq(pt_hcheck_expr_of(c, m), c->hcheck->exprs[0]);
    pt_config_free(c);
}
END_TEST

START_TEST(a_proxyhctemplate_fills_the_keys_a_member_does_not_give)
{
    pt_config_t *c = load("ProxyHCTemplate t hcmethod=HEAD hcuri=/t hcinterval=7 hcfails=3\n"
                          "<Proxy balancer://b>\n"
                          "BalancerMember http://127.0.0.1:9 hctemplate=t hcinterval=2\n"
                          "</Proxy>\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_backend_t *m = c->balancers[0]->members[0];
    ck_assert_str_eq(m->hcmethod, "HEAD");
    ck_assert_str_eq(m->hcuri, "/t");
    ck_assert_int_eq((int)m->hcinterval_ms, 2000);
    ck_assert_int_eq(m->hcfails, 3);
    pt_config_free(c);
    ck_assert_ptr_null(load("<Proxy balancer://b>\nBalancerMember http://127.0.0.1:9 "
                            "hctemplate=none\n</Proxy>\n"));
    ck_assert_ptr_nonnull(strstr(err, "hctemplate=none names no ProxyHCTemplate"));
    ck_assert_ptr_null(load("ProxyHCTemplate t hcmethod=GET retry=5\n"));
    ck_assert_ptr_nonnull(strstr(err, ":2: ProxyHCTemplate: 'retry=5'"));
    ck_assert_ptr_null(load("ProxyHCTemplate t hcmethod=PUT\n"));
    ck_assert_ptr_nonnull(strstr(err, ":2: ProxyHCTemplate: hcmethod=PUT"));
}
END_TEST

START_TEST(proxyresolver_and_balancergrowth_are_read)
{
    pt_config_t *c = load("ProxyResolver 127.0.0.1:5353\nBalancerGrowth 3\n"
                          "<Proxy balancer://b>\nBalancerMember http://127.0.0.1:9\n</Proxy>\n"
                          "<Proxy balancer://g>\nBalancerMember http://127.0.0.1:10\n"
                          "ProxySet growth=5\n</Proxy>\n");
    ck_assert_msg(c != NULL, "%s", err);
    const struct sockaddr_in *sa = (const struct sockaddr_in *)&c->hcheck->resolver;
    ck_assert_int_eq(ntohs(sa->sin_port), 5353);
    ck_assert_int_eq(c->balancers[0]->growth, 3);
    ck_assert_int_eq((int)c->balancers[0]->nslots, 4);
    ck_assert_int_eq(c->balancers[1]->growth, 5);
    pt_config_free(c);
    ck_assert_ptr_null(load("ProxyResolver dns.example:53\n"));
    ck_assert_ptr_nonnull(strstr(err, "ProxyResolver"));
}
END_TEST

START_TEST(without_resolve_a_name_is_resolved_once_at_load)
{
    pt_config_t *c = load("ProxyPass /a/ http://localhost:9/\n"
                          "<Proxy balancer://b>\nBalancerMember http://127.0.0.1:10\n"
                          "BalancerMember http://app.invalid:11 resolve=5\n</Proxy>\n"
                          "ProxyPass /b/ balancer://b/\n");
    ck_assert_msg(c != NULL, "%s", err);
    size_t seen = 0;
    for (size_t i = 0; i < c->nbackends; i++) {
        const pt_backend_t *b = c->backends[i];
        if (strcmp(b->host, "localhost") == 0 || strcmp(b->host, "127.0.0.1") == 0) {
            ck_assert_uint_ge(b->naddrs, 1);
            const struct sockaddr_in *sa = (const struct sockaddr_in *)&b->addrs[0];
            ck_assert_int_eq(ntohs(sa->sin_port), b->port);
            seen++;
        } else {
            ck_assert_uint_eq(b->naddrs, 0); /* resolve= and balancer://: not at load */
        }
    }
    ck_assert_uint_eq(seen, 2);
    pt_config_free(c);
}
END_TEST

START_TEST(resolve_slots_are_laid_out_after_the_members_and_growth)
{
    pt_config_t *c = load("<Proxy balancer://b>\nBalancerMember http://127.0.0.1:9\n"
                          "BalancerMember http://app.test:8080/x/ resolve=5\n"
                          "BalancerMember http://db.test:81 resolve=5\n"
                          "ProxySet growth=2\n</Proxy>\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_balancer_t *bal = c->balancers[0];
    size_t first, count, first2, count2;
    ck_assert_int_eq(pt_resolve_slot_range(bal, 0, &first, &count), -1);
    ck_assert_int_eq(pt_resolve_slot_range(bal, 1, &first, &count), 0);
    ck_assert_int_eq(pt_resolve_slot_range(bal, 2, &first2, &count2), 0);
    ck_assert_int_eq((int)first, 5);
    ck_assert_int_eq((int)first2, (int)(first + count));
    ck_assert_int_eq((int)(first2 + count2), (int)bal->nslots);
    ck_assert_int_eq(pt_resolve_slot_owner(bal, first), 1);
    ck_assert_int_eq(pt_resolve_slot_owner(bal, first2 + count2 - 1), 2);
    ck_assert_int_eq(pt_resolve_slot_owner(bal, 3), -1); /* a growth slot */
    char name[256], addr[64];
    pt_resolve_member_name(bal->members[1], "10.0.0.7", name, sizeof(name));
    ck_assert_str_eq(name, "http://10.0.0.7:8080/x/");
    ck_assert_int_eq(pt_resolve_name_addr(name, addr, sizeof(addr)), 0);
    ck_assert_str_eq(addr, "10.0.0.7");
    pt_resolve_member_name(bal->members[2], "fd00::1", name, sizeof(name));
    ck_assert_str_eq(name, "http://[fd00::1]:81");
    ck_assert_int_eq(pt_resolve_name_addr(name, addr, sizeof(addr)), 0);
    ck_assert_str_eq(addr, "fd00::1");
    pt_config_free(c);
}
END_TEST

/* ---- Probes against the test's own HTTP server ------------------------------------------ */

static int lfd = -1, port;
static atomic_int answer_status;   /* 0: accept and never answer */
static atomic_int requests;
static char last_head[512];
static pthread_mutex_t head_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t server;
static atomic_bool stopping;

static void *serve(void *arg)
{
    (void)arg;
    while (!atomic_load(&stopping)) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0)
            continue;
        char buf[512];
        ssize_t n = read(c, buf, sizeof(buf) - 1);
        if (n > 0) {
            buf[n] = '\0';
            pthread_mutex_lock(&head_mu);
            strcpy(last_head, buf);
            pthread_mutex_unlock(&head_mu);
            atomic_fetch_add(&requests, 1);
        }
        int st = atomic_load(&answer_status);
        if (st) {
            char out[128];
            int len = snprintf(out, sizeof(out), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", st);
            if (write(c, out, (size_t)len) < 0)
                break;
            close(c);
        } else {
            usleep(1500 * 1000); /* hangs past the probe's deadline */
            close(c);
        }
    }
    return NULL;
}

static void setup(void)
{
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 16), 0);
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    port = ntohs(sa.sin_port);
    atomic_store(&answer_status, 200);
    atomic_store(&requests, 0);
    atomic_store(&stopping, false);
    ck_assert_int_eq(pthread_create(&server, NULL, serve, NULL), 0);
}

static void teardown(void)
{
    atomic_store(&stopping, true);
    shutdown(lfd, SHUT_RDWR);
    pthread_join(server, NULL);
    close(lfd);
}

static pt_member_shared_t member;
static pt_backend_t backend;

static pt_hcheck_t *checker(const char *method, int fails, int passes)
{
    memset(&member, 0, sizeof(member));
    atomic_store(&member.in_use, true);
    backend = (pt_backend_t){.url = "proxy:http://127.0.0.1/app/", .host = "127.0.0.1",
                             .port = port, .path = "/app/", .hcmethod = method,
                             .hcuri = "/health", .hcinterval_ms = 1, .hcfails = fails,
                             .hcpasses = passes, .timeout_ms = 300};
    static struct sockaddr_in sa;
    sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    pt_hcheck_t *hc = pt_hcheck_create();
    pt_hc_target_spec_t t = {.b = &backend, .sa = (struct sockaddr *)&sa, .salen = sizeof(sa),
                             .sh = &member, .label = "m1"};
    ck_assert_int_eq(pt_hcheck_add(hc, &t, 0), 0);
    return hc;
}

static bool failed(void)
{
    return atomic_load(&member.status) & PT_MEMBER_HC_FAILED;
}

START_TEST(a_check_sends_its_method_and_uri_and_reads_the_status)
{
    pt_hcheck_t *hc = checker("HEAD", 1, 1);
    pt_hcheck_run(hc, 1000);
    ck_assert_int_eq(atomic_load(&requests), 1);
    ck_assert_int_eq(atomic_load(&member.hc_streak), 1);
    ck_assert(!failed());
    pthread_mutex_lock(&head_mu);
    const char *want = "HEAD /app/health HTTP/1.0\r\nHost: 127.0.0.1:";
    ck_assert_msg(strncmp(last_head, want, strlen(want)) == 0, "%s", last_head);
    pthread_mutex_unlock(&head_mu);
    pt_hcheck_destroy(hc);
    hc = checker("GET11", 1, 1);
    pt_hcheck_run(hc, 1000);
    pthread_mutex_lock(&head_mu);
    want = "GET /app/health HTTP/1.1\r\n";
    ck_assert_msg(strncmp(last_head, want, strlen(want)) == 0, "%s", last_head);
    pthread_mutex_unlock(&head_mu);
    ck_assert_uint_eq(pt_hcheck_probes(hc), 1);
    pt_hcheck_destroy(hc);
}
END_TEST

START_TEST(a_member_is_ejected_after_hcfails_and_readmitted_after_hcpasses)
{
    pt_hcheck_t *hc = checker("GET", 2, 3);
    atomic_store(&answer_status, 503);
    pt_hcheck_run(hc, 1000);
    ck_assert(!failed()); /* one failure of the two */
    ck_assert_int_eq(atomic_load(&member.hc_streak), -1);
    usleep(2000);
    pt_hcheck_run(hc, 1000);
    ck_assert(failed());
    atomic_store(&answer_status, 204);
    for (int i = 1; i <= 3; i++) {
        usleep(2000);
        pt_hcheck_run(hc, 1000);
        ck_assert_int_eq(atomic_load(&member.hc_streak), i);
        ck_assert(failed() == (i < 3));
    }
    /* Other flags, set by the children meanwhile, are left alone. */
    atomic_fetch_or(&member.status, PT_MEMBER_DRAIN);
    atomic_store(&answer_status, 500);
    usleep(2000);
    pt_hcheck_run(hc, 1000);
    usleep(2000);
    pt_hcheck_run(hc, 1000);
    ck_assert_uint_eq(atomic_load(&member.status), PT_MEMBER_DRAIN | PT_MEMBER_HC_FAILED);
    pt_hcheck_destroy(hc);
}
END_TEST

START_TEST(a_tcp_check_only_connects)
{
    pt_hcheck_t *hc = checker("TCP", 1, 1);
    pt_hcheck_run(hc, 1000);
    ck_assert(!failed());
    ck_assert_int_eq(atomic_load(&member.hc_streak), 1);
    pt_hcheck_destroy(hc);
    /* Nothing listens on a closed port: refused, ejected. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    bind(s, (struct sockaddr *)&sa, sizeof(sa));
    getsockname(s, (struct sockaddr *)&sa, &sl);
    close(s);
    int saved = port;
    port = ntohs(sa.sin_port);
    hc = checker("TCP", 1, 1);
    port = saved;
    pt_hcheck_run(hc, 1000);
    ck_assert(failed());
    pt_hcheck_destroy(hc);
}
END_TEST

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(a_backend_that_never_answers_costs_the_budget_not_more)
{
    atomic_store(&answer_status, 0);
    pt_hcheck_t *hc = checker("GET", 1, 1);
    int64_t t0 = mono_ms();
    pt_hcheck_run(hc, 100); /* the probe waits; the tick goes on */
    int64_t spent = mono_ms() - t0;
    ck_assert_int_lt(spent, 250);
    ck_assert(!failed());
    /* Later ticks carry the probe on until its deadline (timeout=300 ms). */
    for (int i = 0; i < 10 && !failed(); i++)
        pt_hcheck_run(hc, 100);
    ck_assert(failed());
    ck_assert_uint_eq(pt_hcheck_probes(hc), 1);
    pt_hcheck_destroy(hc);
}
END_TEST

START_TEST(a_removed_member_is_no_longer_checked)
{
    pt_hcheck_t *hc = checker("GET", 1, 1);
    pt_hcheck_remove(hc, &member);
    pt_hcheck_run(hc, 200);
    ck_assert_uint_eq(pt_hcheck_probes(hc), 0);
    ck_assert_int_eq(atomic_load(&requests), 0);
    pt_hcheck_destroy(hc);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hcheck");
    TCase *conf = tcase_create("config");
    tcase_add_unchecked_fixture(conf, pt_startup_register, NULL);
    tcase_add_test(conf, the_default_passes_2xx_and_3xx);
    tcase_add_test(conf, the_common_forms_of_proxyhcexpr_are_read);
    tcase_add_test(conf, an_unsupported_expression_is_a_config_error_naming_the_supported_forms);
    tcase_add_test(conf, hcexpr_must_name_a_proxyhcexpr_and_is_resolved_per_backend);
    tcase_add_test(conf, a_proxyhctemplate_fills_the_keys_a_member_does_not_give);
    tcase_add_test(conf, proxyresolver_and_balancergrowth_are_read);
    tcase_add_test(conf, without_resolve_a_name_is_resolved_once_at_load);
    tcase_add_test(conf, resolve_slots_are_laid_out_after_the_members_and_growth);
    suite_add_tcase(s, conf);
    TCase *probe = tcase_create("probe");
    tcase_add_checked_fixture(probe, setup, teardown);
    tcase_set_timeout(probe, 20);
    tcase_add_test(probe, a_check_sends_its_method_and_uri_and_reads_the_status);
    tcase_add_test(probe, a_member_is_ejected_after_hcfails_and_readmitted_after_hcpasses);
    tcase_add_test(probe, a_tcp_check_only_connects);
    tcase_add_test(probe, a_backend_that_never_answers_costs_the_budget_not_more);
    tcase_add_test(probe, a_removed_member_is_no_longer_checked);
    suite_add_tcase(s, probe);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed_n = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed_n ? EXIT_FAILURE : EXIT_SUCCESS;
}
