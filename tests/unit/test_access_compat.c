/* Unit tests for access_compat.c and access_dns.c: the "from" forms of Allow and Deny,
 * Apache's three orders with their defaults, env= and env=!, the label-boundary domain
 * match, and the double-reverse lookup of a loopback client. */
#include "access_compat.h"
#include "access_dns.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>

static pt_arena_t *arena;
static char err[PT_ERRLEN];
static pt_table_t env;

static void setup(void)
{
    arena = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    err[0] = '\0';
    pt_table_init(&env, arena, 4);
}

static void teardown(void)
{
    pt_arena_destroy(arena);
}

static const struct sockaddr *addr(const char *ip)
{
    static struct sockaddr_storage ss[4];
    static int next;
    struct sockaddr_storage *s = &ss[next++ % 4];
    memset(s, 0, sizeof *s);
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)s;
        s6->sin6_family = AF_INET6;
        ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)s;
        s4->sin_family = AF_INET;
        ck_assert_int_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
    }
    return (const struct sockaddr *)s;
}

/* Appends the space-separated "from" list to allows or denys. */
static void add(pt_access_compat_t *c, bool allow, const char *list)
{
    char *copy = pt_arena_strdup(arena, list);
    for (char *t = strtok(copy, " "); t; t = strtok(NULL, " ")) {
        pt_from_t *v = allow ? c->allows : c->denys;
        size_t *n = allow ? &c->nallows : &c->ndenys;
        pt_from_t *nv = pt_arena_alloc(arena, (*n + 1) * sizeof *nv);
        if (*n)
            memcpy(nv, v, *n * sizeof *nv);
        ck_assert_int_eq(pt_access_compat_parse_from(arena, t, &nv[*n], err, sizeof err), 0);
        (*n)++;
        if (allow)
            c->allows = nv;
        else
            c->denys = nv;
    }
}

static pt_access_compat_t *rules(pt_order_t order, const char *allow, const char *deny)
{
    pt_access_compat_t *c = pt_arena_calloc(arena, sizeof *c);
    c->order = order;
    if (allow)
        add(c, true, allow);
    if (deny)
        add(c, false, deny);
    return c;
}

static bool allows(const pt_access_compat_t *c, const char *client)
{
    pt_authz_ctx_t ctx = {.client = addr(client), .env = &env, .arena = arena};
    return pt_access_compat_allows(c, &ctx);
}

/* ---- Parsing "from" ----------------------------------------------------------------- */

START_TEST(parses_all_addresses_networks_names_and_env)
{
    pt_from_t f;
    ck_assert_int_eq(pt_access_compat_parse_from(arena, "ALL", &f, err, sizeof err), 0);
    ck_assert_int_eq(f.kind, PT_FROM_ALL);
    ck_assert_int_eq(pt_access_compat_parse_from(arena, "10.1", &f, err, sizeof err), 0);
    ck_assert_int_eq(f.kind, PT_FROM_IP);
    ck_assert_int_eq(f.cidr.prefix, 16);
    ck_assert_int_eq(pt_access_compat_parse_from(arena, "10.0.0.0/255.0.0.0", &f, err,
                                                 sizeof err), 0);
    ck_assert_int_eq(f.cidr.prefix, 8);
    ck_assert_int_eq(pt_access_compat_parse_from(arena, "2001:db8::/32", &f, err, sizeof err),
                     0);
    ck_assert_int_eq(f.cidr.family, AF_INET6);
    ck_assert_int_eq(pt_access_compat_parse_from(arena, ".example.com", &f, err, sizeof err),
                     0);
    ck_assert_int_eq(f.kind, PT_FROM_HOST);
    ck_assert_str_eq(f.name, ".example.com");
    ck_assert_int_eq(pt_access_compat_parse_from(arena, "env=GOOD", &f, err, sizeof err), 0);
    ck_assert_int_eq(f.kind, PT_FROM_ENV);
    ck_assert_str_eq(f.name, "GOOD");
    ck_assert_int_eq(pt_access_compat_parse_from(arena, "env=!GOOD", &f, err, sizeof err), 0);
    ck_assert_int_eq(f.kind, PT_FROM_NOT_ENV);
    ck_assert_str_eq(f.name, "GOOD");
}
END_TEST

START_TEST(refuses_what_apache_refuses_as_an_address)
{
    static const char *bad[] = {"1.2.3.4.5", "10.1/8", "300.1.1.1", "10.0.0.0/0",
                                "10.0.0.0/33", "::1/129", "env=", "*.example.com"};
    for (size_t i = 0; i < PT_ARRAY_LEN(bad); i++) {
        pt_from_t f;
        err[0] = '\0';
        ck_assert_msg(pt_access_compat_parse_from(arena, bad[i], &f, err, sizeof err) ==
                          PT_EINVAL, "%s", bad[i]);
        ck_assert_msg(strstr(err, bad[i]) != NULL, "%s: %s", bad[i], err);
    }
}
END_TEST

/* ---- Orders ------------------------------------------------------------------------- */

START_TEST(no_rules_at_all_admit_under_deny_allow_and_refuse_under_allow_deny)
{
    ck_assert(allows(NULL, "1.1.1.1"));
    ck_assert(allows(rules(PT_ORDER_DENY_ALLOW, NULL, NULL), "1.1.1.1"));
    ck_assert(!allows(rules(PT_ORDER_ALLOW_DENY, NULL, NULL), "1.1.1.1"));
    ck_assert(!allows(rules(PT_ORDER_MUTUAL_FAILURE, NULL, NULL), "1.1.1.1"));
}
END_TEST

START_TEST(deny_allow_lets_an_allow_match_override_a_deny)
{
    pt_access_compat_t *c = rules(PT_ORDER_DENY_ALLOW, "127.0.0.1", "all");
    ck_assert(allows(c, "127.0.0.1"));
    ck_assert(!allows(c, "10.0.0.1"));
}
END_TEST

START_TEST(allow_deny_lets_a_deny_match_override_an_allow)
{
    pt_access_compat_t *c = rules(PT_ORDER_ALLOW_DENY, "all", "::1 127.0.0.1");
    ck_assert(!allows(c, "127.0.0.1"));
    ck_assert(!allows(c, "::1"));
    ck_assert(allows(c, "10.0.0.1"));
}
END_TEST

START_TEST(mutual_failure_needs_an_allow_and_no_deny)
{
    pt_access_compat_t *c = rules(PT_ORDER_MUTUAL_FAILURE, "127.0.0.1 10.0.0.0/8",
                                  "10.9.0.0/16");
    ck_assert(allows(c, "127.0.0.1"));
    ck_assert(allows(c, "10.1.2.3"));
    ck_assert(!allows(c, "10.9.2.3"));
    ck_assert(!allows(c, "192.0.2.1"));
}
END_TEST

START_TEST(partial_addresses_match_whole_bytes)
{
    pt_access_compat_t *c = rules(PT_ORDER_ALLOW_DENY, "192.168", NULL);
    ck_assert(allows(c, "192.168.44.1"));
    ck_assert(!allows(c, "192.169.0.1"));
    ck_assert(allows(c, "::ffff:192.168.1.1")); /* a dual-stack listener's view */
}
END_TEST

START_TEST(env_rules_look_at_the_request_environment)
{
    pt_access_compat_t *c = rules(PT_ORDER_ALLOW_DENY, "env=GOOD", NULL);
    ck_assert(!allows(c, "1.1.1.1"));
    pt_table_set(&env, "GOOD", "1");
    ck_assert(allows(c, "1.1.1.1"));
    pt_access_compat_t *n = rules(PT_ORDER_ALLOW_DENY, "all", "env=!GOOD");
    ck_assert(allows(n, "1.1.1.1"));
    pt_table_unset(&env, "GOOD");
    ck_assert(!allows(n, "1.1.1.1"));
}
END_TEST

START_TEST(host_names_match_the_loopback_clients_double_reverse_name)
{
    /* 127.0.0.1 is "localhost" both ways in /etc/hosts. */
    ck_assert(allows(rules(PT_ORDER_ALLOW_DENY, "localhost", NULL), "127.0.0.1"));
    ck_assert(!allows(rules(PT_ORDER_ALLOW_DENY, "example.com", NULL), "127.0.0.1"));
    /* A client without a reverse name never matches a name rule. */
    ck_assert(!allows(rules(PT_ORDER_ALLOW_DENY, "localhost", NULL), "192.0.2.9"));
}
END_TEST

START_TEST(satisfy_is_unspecified_until_set)
{
    ck_assert_int_eq(pt_access_compat_satisfy(NULL), PT_SATISFY_NOSPEC);
    pt_access_compat_t *c = rules(PT_ORDER_DENY_ALLOW, NULL, NULL);
    ck_assert_int_eq(pt_access_compat_satisfy(c), PT_SATISFY_NOSPEC);
    c->satisfy = PT_SATISFY_ANY;
    ck_assert_int_eq(pt_access_compat_satisfy(c), PT_SATISFY_ANY);
}
END_TEST

/* ---- access_dns.c ------------------------------------------------------------------- */

START_TEST(in_domain_matches_whole_labels_only)
{
    ck_assert(pt_access_in_domain("example.com", "www.example.com"));
    ck_assert(pt_access_in_domain("example.com", "EXAMPLE.com"));
    ck_assert(pt_access_in_domain(".example.com", "a.example.com"));
    ck_assert(!pt_access_in_domain("example.com", "badexample.com"));
    ck_assert(!pt_access_in_domain("www.example.com", "example.com"));
    ck_assert(!pt_access_in_domain("", "example.com"));
}
END_TEST

START_TEST(remote_host_is_the_name_that_leads_back_to_the_client)
{
    const char *h = pt_access_remote_host(arena, addr("127.0.0.1"));
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(h, "localhost");
    ck_assert_ptr_null(pt_access_remote_host(arena, addr("192.0.2.9")));
    ck_assert_ptr_null(pt_access_remote_host(arena, NULL));
}
END_TEST

START_TEST(addresses_compare_equal_across_the_mapped_form)
{
    ck_assert(pt_access_addr_equal(addr("127.0.0.1"), addr("::ffff:127.0.0.1")));
    ck_assert(!pt_access_addr_equal(addr("127.0.0.1"), addr("127.0.0.2")));
    ck_assert(!pt_access_addr_equal(addr("::1"), addr("127.0.0.1")));
}
END_TEST

static Suite *access_compat_suite(void)
{
    Suite *s = suite_create("access_compat");
    TCase *tc = tcase_create("from");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parses_all_addresses_networks_names_and_env);
    tcase_add_test(tc, refuses_what_apache_refuses_as_an_address);
    suite_add_tcase(s, tc);

    tc = tcase_create("order");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, no_rules_at_all_admit_under_deny_allow_and_refuse_under_allow_deny);
    tcase_add_test(tc, deny_allow_lets_an_allow_match_override_a_deny);
    tcase_add_test(tc, allow_deny_lets_a_deny_match_override_an_allow);
    tcase_add_test(tc, mutual_failure_needs_an_allow_and_no_deny);
    tcase_add_test(tc, partial_addresses_match_whole_bytes);
    tcase_add_test(tc, env_rules_look_at_the_request_environment);
    tcase_add_test(tc, host_names_match_the_loopback_clients_double_reverse_name);
    tcase_add_test(tc, satisfy_is_unspecified_until_set);
    suite_add_tcase(s, tc);

    tc = tcase_create("dns");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, in_domain_matches_whole_labels_only);
    tcase_add_test(tc, remote_host_is_the_name_that_leads_back_to_the_client);
    tcase_add_test(tc, addresses_compare_equal_across_the_mapped_form);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(access_compat_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
