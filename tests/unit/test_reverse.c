/* proxy/reverse.c and directives_reverse.c: ProxyPassReverse on Location, Content-Location,
 * URI and Destination (paths, URLs, <Location>, balancer members, interpolate, merge order),
 * ProxyPassReverseCookiePath and ProxyPassReverseCookieDomain on Set-Cookie, and the
 * directives' errors. Expected values follow mod_proxy's ap_proxy_location_reverse_map and
 * ap_proxy_cookie_reverse_map. */
#include "config.h"
#include "request.h"
#include "reverse.h"
#include "startup.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64];
static char path[128];
static char err[PT_ERRLEN];
static pt_config_t *cfg;
static pt_arena_t *arena;
static pt_request_t req;
static pt_table_t hdrs;

static void setup(void)
{
    strcpy(dir, "/tmp/ptrevXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/main.conf", dir);
    pt_startup_register();
    arena = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    cfg = NULL;
}

static void teardown(void)
{
    if (cfg)
        pt_config_free(cfg);
    pt_arena_destroy(arena);
    unlink(path);
    rmdir(dir);
}

static pt_config_t *load(const char *body)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "Listen 127.0.0.1:8080\nServerName front.example\nDocumentRoot /tmp\n%s", body);
    fclose(f);
    err[0] = '\0';
    return pt_config_load(path, NULL, err, sizeof(err));
}

static const char *errmsg(void)
{
    const char *p = strstr(err, "main.conf:");
    return p ? p : err;
}

/* A request for uri on host (with its port, 0 none) of vhost vh, after the merge. */
static void request_for(const pt_vhost_t *vh, const char *uri, const char *host, int port)
{
    memset(&req, 0, sizeof(req));
    req.arena = arena;
    req.cfg = cfg;
    req.vhost = vh;
    req.uri = uri;
    req.hostname = host;
    req.host_port = port;
    req.dir = pt_config_dir_for(arena, vh, NULL, uri);
    pt_table_init(&req.env, arena, 4);
    pt_table_init(&hdrs, arena, 4);
}

static void setup_conf(const char *body, const char *uri)
{
    cfg = load(body);
    ck_assert_msg(cfg != NULL, "%s", err);
    request_for(cfg->main_server, uri, "front.example", 0);
}

/* The value of name after the mapping, given value before it. */
static const char *mapped(const char *name, const char *value)
{
    pt_table_init(&hdrs, arena, 4);
    pt_table_add(&hdrs, name, value);
    pt_proxy_reverse_map(&req, &hdrs);
    return pt_table_get(&hdrs, name);
}

START_TEST(location_under_the_backend_url_becomes_the_front_url)
{
    setup_conf("ProxyPassReverse /app/ http://backend:8080/\n", "/app/x");
    ck_assert_str_eq(mapped("Location", "http://backend:8080/login?next=/a"),
                     "http://front.example/app/login?next=/a");
    ck_assert_str_eq(mapped("Location", "http://backend:8080/"), "http://front.example/app/");
}
END_TEST

START_TEST(the_front_url_keeps_the_port_the_client_used)
{
    setup_conf("ProxyPassReverse /app/ http://backend:8080/\n", "/app/x");
    req.host_port = 8443;
    ck_assert_str_eq(mapped("Location", "http://backend:8080/login"),
                     "http://front.example:8443/app/login");
}
END_TEST

START_TEST(a_url_no_rule_matches_is_left_as_sent)
{
    setup_conf("ProxyPassReverse /app/ http://backend:8080/\n", "/app/x");
    ck_assert_str_eq(mapped("Location", "http://elsewhere/login"), "http://elsewhere/login");
    ck_assert_str_eq(mapped("Location", "http://backend:8081/login"),
                     "http://backend:8081/login");
    ck_assert_str_eq(mapped("Location", "/relative"), "/relative");
}
END_TEST

START_TEST(scheme_and_host_compare_without_case)
{
    setup_conf("ProxyPassReverse /app/ http://Backend:8080/\n", "/app/x");
    ck_assert_str_eq(mapped("Location", "HTTP://BACKEND:8080/a"), "http://front.example/app/a");
}
END_TEST

START_TEST(content_location_uri_and_destination_are_mapped_and_other_fields_are_not)
{
    setup_conf("ProxyPassReverse / http://b:9/\n", "/");
    ck_assert_str_eq(mapped("Content-Location", "http://b:9/doc.en"),
                     "http://front.example/doc.en");
    ck_assert_str_eq(mapped("URI", "http://b:9/u"), "http://front.example/u");
    ck_assert_str_eq(mapped("Destination", "http://b:9/d"), "http://front.example/d");
    ck_assert_str_eq(mapped("content-location", "http://b:9/lc"), "http://front.example/lc");
    ck_assert_str_eq(mapped("Link", "<http://b:9/x>; rel=next"), "<http://b:9/x>; rel=next");
    ck_assert_str_eq(mapped("Refresh", "0; url=http://b:9/r"), "0; url=http://b:9/r");
}
END_TEST

START_TEST(every_field_of_a_name_is_mapped)
{
    setup_conf("ProxyPassReverse /p/ http://b/\n", "/p/");
    pt_table_add(&hdrs, "Location", "http://b/one");
    pt_table_add(&hdrs, "X-Other", "http://b/zero");
    pt_table_add(&hdrs, "Location", "http://b/two");
    pt_proxy_reverse_map(&req, &hdrs);
    ck_assert_uint_eq(hdrs.n, 3);
    ck_assert_str_eq(hdrs.v[0].value, "http://front.example/p/one");
    ck_assert_str_eq(hdrs.v[1].value, "http://b/zero");
    ck_assert_str_eq(hdrs.v[2].value, "http://front.example/p/two");
}
END_TEST

START_TEST(a_backend_path_is_compared_with_the_path_of_the_url)
{
    setup_conf("ProxyPassReverse /front/ /back/\n", "/front/");
    ck_assert_str_eq(mapped("Location", "http://any.host:81/back/x"),
                     "http://front.example/front/x");
    ck_assert_str_eq(mapped("Location", "/back/y"), "http://front.example/front/y");
    ck_assert_str_eq(mapped("Location", "http://any.host/other/"), "http://any.host/other/");
}
END_TEST

START_TEST(a_public_side_that_is_a_url_is_used_as_it_is)
{
    setup_conf("ProxyPassReverse https://public.example/app/ http://b/\n", "/");
    ck_assert_str_eq(mapped("Location", "http://b/x"), "https://public.example/app/x");
}
END_TEST

START_TEST(the_first_matching_rule_wins_and_the_server_rules_come_first)
{
    setup_conf("ProxyPassReverse /one/ http://b/\n"
               "ProxyPassReverse /two/ http://b/\n"
               "<Location /sec/>\n  ProxyPassReverse http://b/\n"
               "  ProxyPassReverse http://c/\n</Location>\n",
               "/sec/page");
    ck_assert_str_eq(mapped("Location", "http://b/x"), "http://front.example/one/x");
    ck_assert_str_eq(mapped("Location", "http://c/x"), "http://front.example/sec/x");
    request_for(cfg->main_server, "/elsewhere", "front.example", 0);
    ck_assert_str_eq(mapped("Location", "http://c/x"), "http://c/x");
}
END_TEST

START_TEST(inside_location_the_public_path_is_the_sections)
{
    setup_conf("<Location /jenkins/>\n  ProxyPassReverse http://127.0.0.1:8080/jenkins/\n"
               "</Location>\n",
               "/jenkins/job");
    ck_assert_str_eq(mapped("Location", "http://127.0.0.1:8080/jenkins/login"),
                     "http://front.example/jenkins/login");
}
END_TEST

START_TEST(a_vhost_uses_the_main_servers_rules_after_its_own_sections)
{
    setup_conf("ProxyPassReverse /main/ http://m/\n"
               "<VirtualHost *:8080>\n  ServerName v.example\n"
               "  ProxyPassReverse /own/ http://v/\n</VirtualHost>\n",
               "/");
    ck_assert_uint_eq(cfg->nvhosts, 1);
    request_for(cfg->vhosts[0], "/", "v.example", 8080);
    ck_assert_str_eq(mapped("Location", "http://m/a"), "http://v.example:8080/main/a");
    ck_assert_str_eq(mapped("Location", "http://v/a"), "http://v.example:8080/own/a");
}
END_TEST

/* One rule of the given kind made by hand (the config parser expands ${...} itself, and
 * refuses a name it does not know, so an interpolated rule cannot come from a test file). */
static pt_reverse_rule_t *hand_rule(const char *fake, const char *real, bool interp)
{
    pt_reverse_rule_t *rule = pt_arena_calloc(arena, sizeof(*rule));
    rule->fake = fake;
    rule->real = real;
    rule->interpolate = interp;
    return rule;
}

START_TEST(interpolate_takes_variables_from_the_request_environment)
{
    setup_conf("", "/");
    pt_dir_config_t *d = pt_arena_calloc(arena, sizeof(*d));
    d->reverse = hand_rule("/${PREFIX}/", "http://${BACK}/", true);
    d->nreverse = 1;
    d->cookie_paths = hand_rule("/${PREFIX}", "/", true);
    d->ncookie_paths = 1;
    req.dir = d;
    pt_table_set(&req.env, "PREFIX", "tenant1");
    pt_table_set(&req.env, "BACK", "app1:80");
    ck_assert_str_eq(mapped("Location", "http://app1:80/x"), "http://front.example/tenant1/x");
    ck_assert_str_eq(mapped("Set-Cookie", "a=1; path=/"), "a=1; path=/tenant1");
    /* A name that is not set stays as written; without the flag the text is literal. */
    pt_table_unset(&req.env, "PREFIX");
    ck_assert_str_eq(mapped("Location", "http://app1:80/x"), "http://front.example/${PREFIX}/x");
    d->reverse = hand_rule("/${PREFIX}/", "http://app1:80/", false);
    pt_table_set(&req.env, "PREFIX", "tenant1");
    ck_assert_str_eq(mapped("Location", "http://app1:80/x"), "http://front.example/${PREFIX}/x");
}
END_TEST

/* A balancer rule as finish_reverse leaves it once the balancer's members are known. */
static void balancer_rule(const char *fake, const char *real, const char **urls, size_t n,
                          bool found)
{
    pt_reverse_members_t *m = pt_arena_calloc(arena, sizeof(*m));
    m->urls = urls;
    m->n = n;
    m->found = found;
    pt_reverse_rule_t *rule = pt_arena_calloc(arena, sizeof(*rule));
    rule->fake = fake;
    rule->real = real;
    rule->members = m;
    pt_dir_config_t *d = pt_arena_calloc(arena, sizeof(*d));
    d->reverse = rule;
    d->nreverse = 1;
    req.dir = d;
}

START_TEST(a_balancer_rule_matches_any_members_url)
{
    setup_conf("", "/");
    static const char *urls[] = {"http://h1:8080", "http://h2:8080"};
    balancer_rule("/", "balancer://cluster/", urls, 2, true);
    ck_assert_str_eq(mapped("Location", "http://h2:8080/x"), "http://front.example/x");
    ck_assert_str_eq(mapped("Location", "http://h1:8080/y/z"), "http://front.example/y/z");
    ck_assert_str_eq(mapped("Location", "http://h3:8080/x"), "http://h3:8080/x");
    balancer_rule("/app", "balancer://cluster", urls, 2, true);
    ck_assert_str_eq(mapped("Location", "http://h1:8080/x"), "http://front.example/app/x");
}
END_TEST

START_TEST(a_balancer_path_follows_the_members_path)
{
    setup_conf("", "/");
    /* mod_proxy's own example: BalancerMember http://example.com/foo with
     * ProxyPassReverse /bash balancer://alias/bar maps .../foo/bar/that to /bash/that. */
    static const char *urls[] = {"http://other/", "http://example.com/foo/"};
    balancer_rule("/bash", "balancer://alias/bar", urls, 2, true);
    ck_assert_str_eq(mapped("Location", "http://example.com/foo/bar/that"),
                     "http://front.example/bash/that");
    ck_assert_str_eq(mapped("Location", "http://example.com/foo/baz/that"),
                     "http://example.com/foo/baz/that");
}
END_TEST

START_TEST(a_balancer_that_does_not_exist_compares_as_text)
{
    setup_conf("", "/");
    balancer_rule("/x/", "balancer://none/", NULL, 0, false);
    ck_assert_str_eq(mapped("Location", "balancer://none/a"), "http://front.example/x/a");
    ck_assert_str_eq(mapped("Location", "http://h1/a"), "http://h1/a");
}
END_TEST

START_TEST(balancer_rules_learn_the_members_declared_anywhere_in_the_file)
{
    setup_conf("ProxyPassReverse /bash balancer://Alias/bar\n"
               "<Proxy \"balancer://alias\">\n"
               "  BalancerMember http://example.com/foo\n"
               "  BalancerMember http://127.0.0.1:9\n"
               "</Proxy>\n",
               "/bash/x");
    const pt_reverse_rule_t *rule = &req.dir->reverse[0];
    ck_assert(rule->members->found);
    ck_assert_uint_eq(rule->members->n, 2);
    ck_assert_str_eq(rule->members->urls[0], "http://example.com/foo");
    ck_assert_str_eq(mapped("Location", "http://example.com/foo/bar/that"),
                     "http://front.example/bash/that");
    ck_assert_str_eq(mapped("Location", "http://127.0.0.1:9/bar/y"),
                     "http://front.example/bash/y");
}
END_TEST

START_TEST(balancer_rules_wait_for_the_members_at_load)
{
    /* Without a balancer in the file the rule is kept, found stays false. */
    setup_conf("ProxyPassReverse / balancer://mycluster/\n", "/");
    const pt_reverse_rule_t *rule = &req.dir->reverse[0];
    ck_assert_ptr_nonnull(rule->members);
    ck_assert(!rule->members->found);
    ck_assert_uint_eq(rule->members->n, 0);
}
END_TEST

START_TEST(cookie_path_is_replaced_whole_when_its_start_matches)
{
    setup_conf("ProxyPassReverseCookiePath /app /\n", "/");
    ck_assert_str_eq(mapped("Set-Cookie", "sid=1; Path=/app/sub; HttpOnly"),
                     "sid=1; Path=/; HttpOnly");
    ck_assert_str_eq(mapped("Set-Cookie", "sid=1; path=/app"), "sid=1; path=/");
    /* Paths compare with case. */
    ck_assert_str_eq(mapped("Set-Cookie", "sid=1; Path=/APP"), "sid=1; Path=/APP");
    ck_assert_str_eq(mapped("Set-Cookie", "sid=1; Path=/other"), "sid=1; Path=/other");
}
END_TEST

START_TEST(cookie_domain_compares_without_case_and_both_attributes_map)
{
    setup_conf("ProxyPassReverseCookieDomain backend.internal front.example\n"
               "ProxyPassReverseCookiePath / /mirror/foo/\n", "/");
    ck_assert_str_eq(mapped("Set-Cookie", "a=b; Domain=BACKEND.internal; path=/x;Secure"),
                     "a=b; Domain=front.example; path=/mirror/foo/;Secure");
    ck_assert_str_eq(mapped("Set-Cookie", "a=b;path=/;domain=backend.internal"),
                     "a=b;path=/mirror/foo/;domain=front.example");
    ck_assert_str_eq(mapped("Set-Cookie", "a=b; domain=other.example"),
                     "a=b; domain=other.example");
}
END_TEST

START_TEST(a_cookie_without_path_or_domain_is_left_alone)
{
    setup_conf("ProxyPassReverseCookiePath / /x/\n", "/");
    ck_assert_str_eq(mapped("Set-Cookie", "a=path=/"), "a=path=/");
    ck_assert_str_eq(mapped("Set-Cookie", "plain=1"), "plain=1");
    ck_assert_str_eq(mapped("Set-Cookie", ""), "");
    /* Location is not touched by cookie rules. */
    ck_assert_str_eq(mapped("Location", "http://b/"), "http://b/");
}
END_TEST

START_TEST(cookie_rules_apply_inside_location_and_merge_after_the_servers)
{
    setup_conf("ProxyPassReverseCookiePath /srv /s\n"
               "<Location /app/>\n  ProxyPassReverseCookiePath / /app/\n</Location>\n",
               "/app/");
    ck_assert_str_eq(mapped("Set-Cookie", "k=v; path=/srv/1"), "k=v; path=/s");
    ck_assert_str_eq(mapped("Set-Cookie", "k=v; path=/other"), "k=v; path=/app/");
}
END_TEST

START_TEST(nothing_changes_without_rules)
{
    setup_conf("", "/");
    const char *v = "http://b/x";
    pt_table_add(&hdrs, "Location", v);
    pt_proxy_reverse_map(&req, &hdrs);
    ck_assert_ptr_eq(pt_table_get(&hdrs, "Location"), v);
}
END_TEST

START_TEST(directive_errors_name_their_line)
{
    cfg = load("ProxyPassReverse http://b/\n");
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(errmsg(), "main.conf:4: ProxyPassReverse needs a path when not defined "
                               "in a location");
    cfg = load("<Location /a/>\nProxyPassReverse /a/ http://b/\n</Location>\n");
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(errmsg(), "main.conf:5: ProxyPassReverse can not have a path when "
                               "defined in a location");
    cfg = load("ProxyPassReverse / http://b/ sometimes\n");
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(errmsg(), "main.conf:4: ProxyPassReverse: unknown flag 'sometimes' "
                               "(interpolate)");
    cfg = load("ProxyPassReverseCookiePath /a\n");
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(errmsg(), "main.conf:4: ProxyPassReverseCookiePath takes 2 to 3 "
                               "arguments, got 1");
    cfg = load("<Files x>\nProxyPassReverseCookieDomain a b\n</Files>\n");
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(errmsg(), "main.conf:5: ProxyPassReverseCookieDomain cannot occur "
                               "within <Files> section");
    cfg = load("<Directory /tmp>\nProxyPassReverse http://b/\n</Directory>\n");
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(errmsg(), "main.conf:5: ProxyPassReverse cannot occur within "
                               "<Directory> section");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("reverse");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, location_under_the_backend_url_becomes_the_front_url);
    tcase_add_test(tc, the_front_url_keeps_the_port_the_client_used);
    tcase_add_test(tc, a_url_no_rule_matches_is_left_as_sent);
    tcase_add_test(tc, scheme_and_host_compare_without_case);
    tcase_add_test(tc, content_location_uri_and_destination_are_mapped_and_other_fields_are_not);
    tcase_add_test(tc, every_field_of_a_name_is_mapped);
    tcase_add_test(tc, a_backend_path_is_compared_with_the_path_of_the_url);
    tcase_add_test(tc, a_public_side_that_is_a_url_is_used_as_it_is);
    tcase_add_test(tc, the_first_matching_rule_wins_and_the_server_rules_come_first);
    tcase_add_test(tc, inside_location_the_public_path_is_the_sections);
    tcase_add_test(tc, a_vhost_uses_the_main_servers_rules_after_its_own_sections);
    tcase_add_test(tc, interpolate_takes_variables_from_the_request_environment);
    tcase_add_test(tc, a_balancer_rule_matches_any_members_url);
    tcase_add_test(tc, a_balancer_path_follows_the_members_path);
    tcase_add_test(tc, a_balancer_that_does_not_exist_compares_as_text);
    tcase_add_test(tc, balancer_rules_learn_the_members_declared_anywhere_in_the_file);
    tcase_add_test(tc, balancer_rules_wait_for_the_members_at_load);
    tcase_add_test(tc, cookie_path_is_replaced_whole_when_its_start_matches);
    tcase_add_test(tc, cookie_domain_compares_without_case_and_both_attributes_map);
    tcase_add_test(tc, a_cookie_without_path_or_domain_is_left_alone);
    tcase_add_test(tc, cookie_rules_apply_inside_location_and_merge_after_the_servers);
    tcase_add_test(tc, nothing_changes_without_rules);
    tcase_add_test(tc, directive_errors_name_their_line);
    suite_add_tcase(s, tc);
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
