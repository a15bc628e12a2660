/* The balancer's configuration (proxy/directives_balancer.c), its shared memory
 * (balancer_shm.c: slots from the config, BalancerPersist across loads), sticky-session
 * parsing, the member states and the choice of a member for a request (balancer.c). */
#include "balancer.h"
#include "config.h"
#include "lbmethods.h"
#include "request.h"
#include "scheme.h"
#include "startup.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char path[128];
static char err[PT_ERRLEN];

static void setup(void)
{
    strcpy(dir, "/tmp/ptbalXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/main.conf", dir);
    pt_startup_register();
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

static pt_config_t *try_load(const char *body)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "Listen 127.0.0.1:8080\nServerName t\nDocumentRoot /tmp\n%s", body);
    fclose(f);
    return pt_config_load(path, NULL, err, sizeof(err));
}

static pt_config_t *load(const char *body)
{
    pt_config_t *c = try_load(body);
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

static const char *cluster =
    "<Proxy \"balancer://MyCluster\">\n"
    "  BalancerMember fcgi://127.0.0.1:9001 route=r1 loadfactor=3\n"
    "  BalancerMember fcgi://127.0.0.1:9002/app route=r2 status=+H retry=5\n"
    "  ProxySet lbmethod=bytraffic stickysession=JSESSIONID|jsessionid failonstatus=500,503\n"
    "  ProxySet growth=2 maxattempts=3 nofailover=Off\n"
    "</Proxy>\n"
    "ProxyPass / balancer://mycluster/\n";

START_TEST(proxy_section_defines_a_balancer_with_its_members_and_keys)
{
    pt_config_t *c = load(cluster);
    ck_assert_uint_eq(c->nbalancers, 1);
    const pt_balancer_t *bal = c->balancers[0];
    ck_assert_str_eq(bal->name, "balancer://mycluster");
    ck_assert_uint_eq(bal->nmembers, 2);
    ck_assert_uint_eq(bal->nslots, 4);
    ck_assert_str_eq(bal->lbmethod->name, "bytraffic");
    ck_assert_str_eq(bal->sticky[0], "JSESSIONID");
    ck_assert_str_eq(bal->sticky[1], "jsessionid");
    ck_assert_uint_eq(bal->nfailonstatus, 2);
    ck_assert_int_eq(bal->failonstatus[1], 503);
    ck_assert_int_eq(bal->maxattempts, 3);
    ck_assert_str_eq(bal->members[0]->route, "r1");
    ck_assert_int_eq(bal->members[0]->loadfactor, 3);
    ck_assert_int_eq(bal->members[1]->member_index, 1);
    ck_assert_ptr_eq(bal->members[1]->balancer, bal);
    ck_assert_int_eq(pt_member_retry_ms(bal->members[1]), 5000);
    ck_assert_int_eq(pt_member_retry_ms(bal->members[0]), 60000);
    /* ProxyPass's backend (another case) is tied to it. */
    const pt_backend_t *pb = c->main_server->proxy_passes[0].backend;
    ck_assert_ptr_eq(pb->balancer, bal);
    ck_assert_ptr_eq(bal->backend, pb);
    ck_assert_ptr_eq(pt_balancer_find(c, "MYCLUSTER"), bal);
    pt_config_free(c);
}
END_TEST

START_TEST(members_and_proxyset_outside_proxy_name_the_balancer_first)
{
    pt_config_t *c = load("BalancerMember balancer://b fcgi://127.0.0.1:9001\n"
                          "BalancerMember balancer://b fcgi://127.0.0.1:9002 loadfactor=2\n"
                          "ProxySet balancer://b lbmethod=hash hashkey=cookie:sid\n"
                          "ProxyPass /x balancer://b\n");
    const pt_balancer_t *bal = pt_balancer_find(c, "balancer://b");
    ck_assert_ptr_nonnull(bal);
    ck_assert_uint_eq(bal->nmembers, 2);
    ck_assert_str_eq(bal->lbmethod->name, "hash");
    ck_assert_str_eq(bal->hashkey, "cookie:sid");
    pt_config_free(c);
}
END_TEST

START_TEST(proxypass_to_a_balancer_takes_balancer_keys)
{
    pt_config_t *c = load("<Proxy balancer://x>\n BalancerMember fcgi://127.0.0.1:9001\n"
                          "</Proxy>\n"
                          "ProxyPass /a balancer://x stickysession=JSESSIONID|jsessionid "
                          "scolonpathdelim=On nofailover=On timeout=3\n");
    const pt_balancer_t *bal = c->balancers[0];
    ck_assert_str_eq(bal->sticky[1], "jsessionid");
    ck_assert(bal->scolonpathdelim);
    ck_assert(bal->nofailover);
    ck_assert_int_eq(bal->timeout_ms, 3000);
    pt_config_free(c);
    /* Still unknown on a plain worker. */
    ck_assert_ptr_null(try_load("ProxyPass /a fcgi://127.0.0.1:9001 stickysession=S\n"));
    ck_assert_msg(strstr(err, "unknown key 'stickysession'"), "%s", err);
}
END_TEST

START_TEST(worker_section_sets_the_backend_keys)
{
    pt_config_t *c = load("<Proxy \"fcgi://127.0.0.1:9000\">\n ProxySet timeout=42 max=7\n"
                          "</Proxy>\nProxyPass /php fcgi://127.0.0.1:9000\n"
                          "ProxyPassMatch ^/(.*\\.php)$ fcgi://127.0.0.1:9000/var/www/$1\n"
                          "ProxyPass /other fcgi://127.0.0.1:9001/\n"
                          "<Proxy *>\n Require all granted\n</Proxy>\n");
    const pt_backend_t *b = c->main_server->proxy_passes[0].backend;
    ck_assert_int_eq(b->timeout_ms, 42000);
    ck_assert_int_eq(b->max, 7);
    /* A URL under the worker's shares its keys, as Apache shares the worker. */
    b = c->main_server->proxy_passes[1].backend;
    ck_assert_int_eq(b->timeout_ms, 42000);
    ck_assert_int_eq(c->main_server->proxy_passes[2].backend->timeout_ms, 0);
    ck_assert_uint_eq(c->nbalancers, 0);
    pt_config_free(c);
}
END_TEST

START_TEST(proxy_sections_give_their_require_to_the_backends_they_cover)
{
    pt_config_t *c = load("<Proxy *>\n Require all granted\n</Proxy>\n"
                          "<Proxy fcgi://app>\n Require ip 10.0.0.1\n</Proxy>\n"
                          "<ProxyMatch ^balancer://b>\n Require ip 10.0.0.2\n</ProxyMatch>\n"
                          "ProxyPass /a fcgi://app/a\n"
                          "ProxyPass /c fcgi://app2/\n"
                          "ProxyPass /d fcgi://127.0.0.1:9002/\n"
                          "ProxyPass /b balancer://b\n");
    const pt_proxy_pass_t *pp = c->main_server->proxy_passes;
    ck_assert_ptr_nonnull(pp[0].backend->proxy_require);
    ck_assert_ptr_ne(pp[0].backend->proxy_require, pp[2].backend->proxy_require);
    /* app2 is not under app: the boundary counts. */
    ck_assert_ptr_eq(pp[1].backend->proxy_require, pp[2].backend->proxy_require);
    ck_assert_ptr_ne(pp[3].backend->proxy_require, pp[2].backend->proxy_require);
    ck_assert_ptr_ne(pp[3].backend->proxy_require, pp[0].backend->proxy_require);
    pt_config_free(c);
}
END_TEST

START_TEST(bad_balancer_config_fails_with_file_and_line)
{
    ck_assert_ptr_null(try_load("<Proxy balancer://a>\n BalancerMember fcgi://h:1\n"
                                " ProxySet lbmethod=heartbeat\n</Proxy>\n"));
    ck_assert_msg(strstr(err, "main.conf:6:") && strstr(err, "lbmethod=heartbeat"), "%s", err);
    ck_assert_ptr_null(try_load("BalancerMember fcgi://h:1\n"));
    ck_assert_msg(strstr(err, "must define balancer name"), "%s", err);
    ck_assert_ptr_null(try_load("<Proxy balancer://a>\n ProxySet bogus=1\n</Proxy>\n"));
    ck_assert_msg(strstr(err, "unknown balancer key 'bogus'"), "%s", err);
    ck_assert_ptr_null(try_load("<Location /x>\n BalancerMember balancer://a fcgi://h:1\n"
                                "</Location>\n"));
    ck_assert_msg(strstr(err, "cannot occur within <Location>"), "%s", err);
    ck_assert_ptr_null(try_load("ProxyStatus Sometimes\n"));
    ck_assert_ptr_null(try_load("<Proxy balancer://a>\n BalancerMember balancer://b\n"
                                "</Proxy>\n"));
}
END_TEST

START_TEST(a_balancer_no_section_defines_is_made_empty)
{
    pt_config_t *c = load("ProxyPass / balancer://nowhere/\n");
    ck_assert_uint_eq(c->nbalancers, 1);
    ck_assert_uint_eq(c->balancers[0]->nmembers, 0);
    pt_config_free(c);
}
END_TEST

START_TEST(shared_slots_start_from_the_config)
{
    pt_config_t *c = load(cluster);
    const pt_balancer_t *bal = c->balancers[0];
    size_t n;
    pt_member_shared_t *m = pt_balancer_slots(c, bal, &n);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(m[0].name, "fcgi://127.0.0.1:9001");
    ck_assert_int_eq(atomic_load(&m[0].loadfactor), 3);
    ck_assert_uint_eq(atomic_load(&m[1].status), PT_MEMBER_HOT_STANDBY);
    ck_assert(atomic_load(&m[1].in_use));
    ck_assert(!atomic_load(&m[2].in_use)); /* growth= slots wait for members */
    ck_assert_ptr_null(pt_balancer_member(bal, 2));
    pt_balancer_shared_t *h = pt_balancer_shared(c, bal);
    ck_assert_uint_eq(strlen(h->nonce), 32);
    pt_config_free(c);
}
END_TEST

/* Loads cfg text twice, changing slot 0 of the first as the balancer-manager would; the
 * second load sees the change when persist. */
static void restart_with(const char *extra, bool expect_kept)
{
    char body[2048];
    snprintf(body, sizeof(body), "%s%s", extra, cluster);
    pt_config_t *c1 = load(body);
    size_t n;
    pt_member_shared_t *m1 = pt_balancer_slots(c1, c1->balancers[0], &n);
    atomic_fetch_or(&m1[0].status, PT_MEMBER_DRAIN);
    atomic_fetch_or(&m1[0].status, PT_MEMBER_IN_ERROR); /* not an admin flag: not kept */
    atomic_store(&m1[0].loadfactor, 77);
    pt_config_t *c2 = load(body);
    pt_member_shared_t *m2 = pt_balancer_slots(c2, c2->balancers[0], &n);
    unsigned st = atomic_load(&m2[0].status);
    ck_assert_int_eq(!!(st & PT_MEMBER_DRAIN), expect_kept);
    ck_assert(!(st & PT_MEMBER_IN_ERROR));
    ck_assert_int_eq(atomic_load(&m2[0].loadfactor), expect_kept ? 77 : 3);
    ck_assert_uint_eq(atomic_load(&m2[1].status), PT_MEMBER_HOT_STANDBY);
    if (expect_kept)
        ck_assert_str_eq(pt_balancer_shared(c2, c2->balancers[0])->nonce,
                         pt_balancer_shared(c1, c1->balancers[0])->nonce);
    pt_config_free(c1);
    pt_config_free(c2);
}

START_TEST(balancer_persist_carries_admin_state_over_by_member_name)
{
    restart_with("BalancerPersist On\n", true);
}
END_TEST

START_TEST(without_balancer_persist_a_restart_starts_from_the_config)
{
    restart_with("", false);
}
END_TEST

static const char *route(const char *sticky, const char *cookies, const char *url,
                         bool scolon, char sep)
{
    static pt_arena_t *a;
    if (!a)
        a = pt_arena_create(4096);
    pt_balancer_t bal = {.sticky_sep = sep, .scolonpathdelim = scolon};
    const char *bar = strchr(sticky, '|');
    bal.sticky[0] = bar ? pt_arena_strndup(a, sticky, (size_t)(bar - sticky)) : sticky;
    bal.sticky[1] = bar ? bar + 1 : sticky;
    return pt_balancer_sticky_route(a, &bal, cookies, url);
}

START_TEST(sticky_route_is_the_part_after_the_separator)
{
    ck_assert_str_eq(route("JSESSIONID", "JSESSIONID=abc.r1", "/", false, '.'), "r1");
    ck_assert_str_eq(route("JSESSIONID", "a=1; JSESSIONID=abc.node2; b=2", "/", false, '.'),
                     "node2");
    ck_assert_str_eq(route("JSESSIONID", "JSESSIONID=\"xyz.q\"", "/", false, '.'), "q");
    /* Only the first separator splits (Apache): "a.b.c" -> "b.c". */
    ck_assert_str_eq(route("S", "S=a.b.c", "/", false, '.'), "b.c");
    ck_assert_str_eq(route("S", "S=a_r7", "/", false, '_'), "r7");
    ck_assert_ptr_null(route("S", "S=noroute", "/", false, '.'));
    ck_assert_ptr_null(route("S", "XS=a.r1", "/", false, '.'));
    ck_assert_ptr_null(route("S", NULL, "/", false, '.'));
}
END_TEST

START_TEST(sticky_url_parameter_wins_over_the_cookie)
{
    ck_assert_str_eq(route("JSESSIONID|jsessionid", "JSESSIONID=a.r1",
                           "/app;jsessionid=b.r2", false, '.'), "r2");
    ck_assert_str_eq(route("JSESSIONID|jsessionid", "JSESSIONID=a.r1",
                           "/app?x=1&jsessionid=b.r3", false, '.'), "r3");
    ck_assert_str_eq(route("JSESSIONID|jsessionid", "JSESSIONID=a.r1", "/app?x=1", false, '.'),
                     "r1");
    /* scolonpathdelim: ';' ends the value too. */
    ck_assert_str_eq(route("s", NULL, "/a;s=b.r4;other=1", false, '.'), "r4;other=1");
    ck_assert_str_eq(route("s", NULL, "/a;s=b.r4;other=1", true, '.'), "r4");
}
END_TEST

START_TEST(member_usability_follows_its_flags)
{
    pt_member_shared_t m;
    memset(&m, 0, sizeof(m));
    atomic_store(&m.in_use, true);
    ck_assert(pt_member_usable(&m, false, 1000));
    atomic_store(&m.status, PT_MEMBER_DRAIN);
    ck_assert(!pt_member_usable(&m, false, 1000));
    ck_assert(pt_member_usable(&m, true, 1000)); /* its sessions still go */
    atomic_store(&m.status, PT_MEMBER_DISABLED);
    ck_assert(!pt_member_usable(&m, true, 1000));
    atomic_store(&m.status, PT_MEMBER_STOPPED);
    ck_assert(!pt_member_usable(&m, true, 1000));
    atomic_store(&m.status, 0);
    pt_member_mark_error(&m, 5000, 1000);
    ck_assert_uint_eq(atomic_load(&m.failures), 1);
    ck_assert(!pt_member_usable(&m, false, 5999));
    ck_assert(pt_member_usable(&m, false, 6000)); /* retry= passed: tried again */
    atomic_store(&m.status, PT_MEMBER_IGNORE_ERRORS);
    pt_member_mark_error(&m, 5000, 10000);
    ck_assert(pt_member_usable(&m, false, 10001));
    atomic_store(&m.in_use, false);
    ck_assert(!pt_member_usable(&m, false, 10001));
}
END_TEST

/* ---- The choice of a member while resolve= members come and go ---------------------------
 *
 * The balancer's handler runs with test doubles in the three places the real code leaves
 * open: the dynamic-member lookup (pt_balancer_set_dynamic; resolve_slots.c's in
 * production), the lbmethod and the members' scheme. The lookup answers as
 * pt_resolve_member does: a member for a slot in use, NULL for one that is not. The
 * lbmethod plays the parent's resolve= refresh too: once, just after it chose the doomed
 * slot, it empties that slot (in_use false, as resolve_members.c's remove_member), which
 * is the window between the pick and the balancer's second look at the member. Before
 * 38de069 the handler forwarded to the NULL that look gave: a crash of the child. */

#define DYN_SLOTS 2

static pt_backend_t dyn_members[DYN_SLOTS];
static pt_member_shared_t *dyn_slots;
static int doomed_slot;          /* emptied right after the lbmethod picks it; -1 none */
static int forwarded[DYN_SLOTS]; /* forward calls per member */

static const pt_backend_t *dyn_lookup(const pt_balancer_t *bal, size_t slot)
{
    (void)bal;
    return slot < DYN_SLOTS && atomic_load(&dyn_slots[slot].in_use) ? &dyn_members[slot] : NULL;
}

/* The first candidate; the doomed slot is emptied once it is chosen. */
static int pick_then_empty(const pt_lb_pick_t *p)
{
    for (size_t i = 0; i < p->nslots; i++) {
        if (!p->candidate[i])
            continue;
        if ((int)i == doomed_slot) {
            atomic_store(&p->slots[i].in_use, false);
            doomed_slot = -1;
        }
        return (int)i;
    }
    return -1;
}

static const pt_lbmethod_t racing_lbmethod = {.name = "racing", .pick = pick_then_empty};

/* A member that answers 200 (as a scheme's forward that sent the answer). */
static int answer_ok(pt_request_t *r, const pt_backend_t *b, pt_proxy_attempt_t *a)
{
    (void)r;
    forwarded[b->member_index]++;
    a->status = 200;
    return PT_DONE;
}

static const pt_proxy_scheme_t answering_scheme = {.name = "test", .forward = answer_ok};

/* Loads a balancer of DYN_SLOTS growth= slots, all empty, and the test's doubles. */
static const pt_balancer_t *dynamic_balancer(pt_config_t **cfg)
{
    *cfg = load("<Proxy \"balancer://dyn\">\n"
                "  ProxySet growth=2\n"
                "</Proxy>\n"
                "ProxyPass /dyn/ balancer://dyn/\n");
    pt_balancer_t *bal = (*cfg)->balancers[0];
    ck_assert_uint_eq(bal->nmembers, 0);
    ck_assert_ptr_nonnull(bal->backend);
    size_t n;
    dyn_slots = pt_balancer_slots(*cfg, bal, &n);
    ck_assert_ptr_nonnull(dyn_slots);
    ck_assert_uint_eq(n, DYN_SLOTS);
    bal->lbmethod = &racing_lbmethod;
    pt_balancer_set_dynamic(dyn_lookup);
    doomed_slot = -1;
    memset(forwarded, 0, sizeof(forwarded));
    return bal;
}

/* A member in slot as resolve= adds one: its name, then in_use. */
static void add_member(int slot)
{
    static char urls[DYN_SLOTS][32];
    snprintf(urls[slot], sizeof(urls[slot]), "proxy:test://10.0.0.%d", slot + 1);
    dyn_members[slot] = (pt_backend_t){.url = urls[slot], .scheme = "test",
                                       .scheme_ops = &answering_scheme, .path = "",
                                       .retry_ms = -1, .member_index = slot};
    snprintf(dyn_slots[slot].name, sizeof(dyn_slots[slot].name), "%s", urls[slot] + 6);
    atomic_store(&dyn_slots[slot].in_use, true);
}

/* GET /dyn/x through the balancer's handler. */
static int balance_get(const pt_config_t *cfg, const pt_balancer_t *bal, pt_arena_t *a)
{
    pt_request_t *r = pt_arena_calloc(a, sizeof(*r));
    r->arena = a;
    r->cfg = cfg;
    r->vhost = cfg->main_server;
    r->method = "GET";
    r->method_id = PT_METHOD_GET;
    r->unparsed_uri = r->uri = "/dyn/x";
    r->backend = bal->backend;
    r->backend_path = "/x";
    pt_table_init(&r->headers_in, a, 4);
    pt_table_init(&r->env, a, 4);
    return pt_balancer_scheme.handler.run(r);
}

static void dynamic_teardown(void)
{
    pt_balancer_set_dynamic(NULL);
    teardown();
}

START_TEST(a_member_emptied_after_its_pick_is_passed_over_for_another)
{
    pt_config_t *cfg;
    const pt_balancer_t *bal = dynamic_balancer(&cfg);
    add_member(0);
    add_member(1);
    doomed_slot = 0;
    pt_arena_t *a = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    ck_assert_int_eq(balance_get(cfg, bal, a), PT_DONE);
    ck_assert_int_eq(doomed_slot, -1); /* the window came: slot 0 was picked, then emptied */
    ck_assert_int_eq(forwarded[0], 0);
    ck_assert_int_eq(forwarded[1], 1);
    /* The emptied slot had no attempt: nothing counted on it. */
    ck_assert_uint_eq(atomic_load(&dyn_slots[0].requests), 0);
    ck_assert_int_eq(atomic_load(&dyn_slots[0].busy), 0);
    ck_assert_uint_eq(atomic_load(&dyn_slots[1].requests), 1);
    pt_arena_destroy(a);
    pt_config_free(cfg);
}
END_TEST

START_TEST(the_only_member_emptied_after_its_pick_gives_503)
{
    pt_config_t *cfg;
    const pt_balancer_t *bal = dynamic_balancer(&cfg);
    add_member(0);
    doomed_slot = 0;
    pt_arena_t *a = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    ck_assert_int_eq(balance_get(cfg, bal, a), 503);
    ck_assert_int_eq(doomed_slot, -1);
    ck_assert_int_eq(forwarded[0], 0);
    ck_assert_uint_eq(atomic_load(&dyn_slots[0].requests), 0);
    pt_arena_destroy(a);
    pt_config_free(cfg);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("balancer");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, proxy_section_defines_a_balancer_with_its_members_and_keys);
    tcase_add_test(tc, members_and_proxyset_outside_proxy_name_the_balancer_first);
    tcase_add_test(tc, proxypass_to_a_balancer_takes_balancer_keys);
    tcase_add_test(tc, worker_section_sets_the_backend_keys);
    tcase_add_test(tc, proxy_sections_give_their_require_to_the_backends_they_cover);
    tcase_add_test(tc, bad_balancer_config_fails_with_file_and_line);
    tcase_add_test(tc, a_balancer_no_section_defines_is_made_empty);
    tcase_add_test(tc, shared_slots_start_from_the_config);
    tcase_add_test(tc, balancer_persist_carries_admin_state_over_by_member_name);
    tcase_add_test(tc, without_balancer_persist_a_restart_starts_from_the_config);
    suite_add_tcase(s, tc);
    TCase *ts = tcase_create("sticky");
    tcase_add_test(ts, sticky_route_is_the_part_after_the_separator);
    tcase_add_test(ts, sticky_url_parameter_wins_over_the_cookie);
    tcase_add_test(ts, member_usability_follows_its_flags);
    suite_add_tcase(s, ts);
    TCase *tp = tcase_create("choice");
    tcase_add_checked_fixture(tp, setup, dynamic_teardown);
    tcase_add_test(tp, a_member_emptied_after_its_pick_is_passed_over_for_another);
    tcase_add_test(tp, the_only_member_emptied_after_its_pick_gives_503);
    suite_add_tcase(s, tp);
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
