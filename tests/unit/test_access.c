/* Unit tests for access.c: address forms, matching (IPv4, IPv6, mapped), Require providers,
 * Apache's container logic with neutral results, and the load-time errors. */
#include "access.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>

static pt_arena_t *arena;
static char err[PT_ERRLEN];

static void setup(void)
{
    arena = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    err[0] = '\0';
}

static void teardown(void)
{
    pt_arena_destroy(arena);
}

/* A client address from text, IPv4 or IPv6; storage is per call slot to allow two at once. */
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

/* Parses a Require line given as one space-separated string (after "Require"). */
static pt_require_t *req(const char *line)
{
    char *copy = pt_arena_strdup(arena, line);
    const char *argv[16];
    int argc = 0;
    for (char *t = strtok(copy, " "); t && argc < 16; t = strtok(NULL, " "))
        argv[argc++] = t;
    return pt_require_parse(arena, argc, argv, err, sizeof err);
}

static bool cidr_matches(const char *rule, const char *client)
{
    pt_cidr_t c;
    ck_assert_int_eq(pt_cidr_parse(rule, &c), 0);
    return pt_cidr_match(&c, addr(client));
}

static pt_require_t *group(pt_require_kind_t kind, pt_require_t *a, pt_require_t *b,
                           pt_require_t *c)
{
    pt_require_t *items[3] = {a, b, c};
    size_t n = c ? 3 : b ? 2 : a ? 1 : 0;
    return pt_require_group(arena, kind, items, n);
}

static pt_authz_t eval_ip(const pt_require_t *rq, const char *client)
{
    return pt_require_eval(rq, addr(client), "GET", NULL);
}

/* ---- CIDR parsing -------------------------------------------------------------------- */

START_TEST(parses_full_ipv4_as_host_route)
{
    pt_cidr_t c;
    ck_assert_int_eq(pt_cidr_parse("192.168.1.20", &c), 0);
    ck_assert_int_eq(c.family, AF_INET);
    ck_assert_int_eq(c.prefix, 32);
    ck_assert_int_eq(c.addr[0], 192);
    ck_assert_int_eq(c.addr[3], 20);
}
END_TEST

START_TEST(parses_partial_dotted_ipv4_as_byte_prefix)
{
    pt_cidr_t c;
    ck_assert_int_eq(pt_cidr_parse("10", &c), 0);
    ck_assert_int_eq(c.prefix, 8);
    ck_assert_int_eq(pt_cidr_parse("10.1", &c), 0);
    ck_assert_int_eq(c.prefix, 16);
    ck_assert_int_eq(c.addr[0], 10);
    ck_assert_int_eq(c.addr[1], 1);
    ck_assert_int_eq(c.addr[2], 0);
    ck_assert_int_eq(pt_cidr_parse("172.16.5", &c), 0);
    ck_assert_int_eq(c.prefix, 24);
}
END_TEST

/* apr_ipsubnet_create takes "127." for 127.0.0.0/8 (Apache's "Allow from 127." and
 * "Require ip 127." admit 127.0.0.1); two dots in a row stay an error. */
START_TEST(parses_partial_ipv4_with_a_trailing_dot)
{
    pt_cidr_t c;
    ck_assert_int_eq(pt_cidr_parse("127.", &c), 0);
    ck_assert_int_eq(c.prefix, 8);
    ck_assert_int_eq(pt_cidr_parse("10.1.", &c), 0);
    ck_assert_int_eq(c.prefix, 16);
    ck_assert_int_eq(pt_cidr_parse("10..1", &c), PT_EINVAL);
    ck_assert_int_eq(pt_cidr_parse(".", &c), PT_EINVAL);
}
END_TEST

START_TEST(parses_ipv4_cidr_and_masks_host_bits)
{
    pt_cidr_t c;
    ck_assert_int_eq(pt_cidr_parse("10.1.2.3/12", &c), 0);
    ck_assert_int_eq(c.family, AF_INET);
    ck_assert_int_eq(c.prefix, 12);
    ck_assert_int_eq(c.addr[0], 10);
    ck_assert_int_eq(c.addr[1], 0);
    ck_assert_int_eq(c.addr[2], 0);
    ck_assert_int_eq(c.addr[3], 0);
}
END_TEST

START_TEST(parses_ipv4_netmask_form)
{
    pt_cidr_t c;
    ck_assert_int_eq(pt_cidr_parse("10.0.0.0/255.255.0.0", &c), 0);
    ck_assert_int_eq(c.prefix, 16);
    ck_assert_int_eq(pt_cidr_parse("10.0.0.0/255.255.255.255", &c), 0);
    ck_assert_int_eq(c.prefix, 32);
    ck_assert_int_eq(pt_cidr_parse("10.0.0.0/255.224.0.0", &c), 0);
    ck_assert_int_eq(c.prefix, 11);
}
END_TEST

START_TEST(parses_ipv6_address_and_prefix)
{
    pt_cidr_t c;
    ck_assert_int_eq(pt_cidr_parse("2001:db8::/32", &c), 0);
    ck_assert_int_eq(c.family, AF_INET6);
    ck_assert_int_eq(c.prefix, 32);
    ck_assert_int_eq(c.addr[0], 0x20);
    ck_assert_int_eq(c.addr[3], 0xb8);
    ck_assert_int_eq(pt_cidr_parse("::1", &c), 0);
    ck_assert_int_eq(c.prefix, 128);
    ck_assert_int_eq(c.addr[15], 1);
}
END_TEST

START_TEST(rejects_malformed_addresses)
{
    static const char *bad[] = {
        "",          "256.1.1.1",        "1.2.3.4.",      ".10",         "10..1",
        "1.2.3.4.5", "10.0.0.0/33",      "10.0.0.0/0",    "10.0.0.0/",   "10.0.0.0/abc",
        "10.1/16",   "10.0.0.0/255.0.255.0", "10.0.0.0/0.0.0.0", "2001:db8::/129",
        "2001:db8::/0", "2001:zz::1",    "example.com",   "fe80::1%eth0", "1234",
        "10.0.0.0/-8", "/8",
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(bad); i++) {
        pt_cidr_t c;
        ck_assert_msg(pt_cidr_parse(bad[i], &c) == PT_EINVAL, "accepted '%s'", bad[i]);
    }
}
END_TEST

/* ---- Matching ------------------------------------------------------------------------ */

START_TEST(matches_ipv4_networks_on_prefix_bits)
{
    ck_assert(cidr_matches("10.0.0.0/8", "10.200.3.4"));
    ck_assert(!cidr_matches("10.0.0.0/8", "11.0.0.1"));
    ck_assert(cidr_matches("192.168.0.0/23", "192.168.1.255"));
    ck_assert(!cidr_matches("192.168.0.0/23", "192.168.2.0"));
    ck_assert(cidr_matches("10.1", "10.1.9.9"));
    ck_assert(!cidr_matches("10.1", "10.2.0.1"));
    ck_assert(cidr_matches("127.0.0.1", "127.0.0.1"));
    ck_assert(!cidr_matches("127.0.0.1", "127.0.0.2"));
}
END_TEST

START_TEST(matches_ipv6_networks_on_prefix_bits)
{
    ck_assert(cidr_matches("2001:db8::/32", "2001:db8:ffff::1"));
    ck_assert(!cidr_matches("2001:db8::/32", "2001:db9::1"));
    ck_assert(cidr_matches("2001:db8::/33", "2001:db8:7fff::1"));
    ck_assert(!cidr_matches("2001:db8::/33", "2001:db8:8000::1"));
    ck_assert(cidr_matches("::1", "::1"));
    ck_assert(!cidr_matches("::1", "::2"));
}
END_TEST

START_TEST(matches_mapped_ipv6_clients_against_ipv4_rules)
{
    ck_assert(cidr_matches("10.0.0.0/8", "::ffff:10.1.2.3"));
    ck_assert(!cidr_matches("10.0.0.0/8", "::ffff:11.1.2.3"));
    ck_assert(cidr_matches("192.168.1.20", "::ffff:192.168.1.20"));
    /* Not mapped: an IPv6 address whose last bytes look like 10.x is not 10.x. */
    ck_assert(!cidr_matches("10.0.0.0/8", "2001:db8::a01:203"));
}
END_TEST

START_TEST(never_matches_across_families)
{
    ck_assert(!cidr_matches("10.0.0.0/8", "2001:db8::1"));
    ck_assert(!cidr_matches("2001:db8::/32", "10.0.0.1"));
    pt_cidr_t c;
    ck_assert_int_eq(pt_cidr_parse("10.0.0.0/8", &c), 0);
    ck_assert(!pt_cidr_match(&c, NULL));
}
END_TEST

/* ---- Providers ----------------------------------------------------------------------- */

START_TEST(all_granted_and_all_denied_are_unconditional)
{
    ck_assert_int_eq(eval_ip(req("all granted"), "1.2.3.4"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(eval_ip(req("all denied"), "1.2.3.4"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(eval_ip(req("all GRANTED"), "1.2.3.4"), PT_AUTHZ_GRANTED);
}
END_TEST

START_TEST(require_ip_grants_when_any_network_matches)
{
    pt_require_t *rq = req("ip 192.168.1 10.0.0.0/8 2001:db8::/32");
    ck_assert_ptr_nonnull(rq);
    ck_assert_int_eq(rq->kind, PT_REQUIRE_IP);
    ck_assert_uint_eq(rq->ncidrs, 3);
    ck_assert_int_eq(eval_ip(rq, "192.168.1.7"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(eval_ip(rq, "10.9.9.9"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(eval_ip(rq, "2001:db8::5"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(eval_ip(rq, "::ffff:10.0.0.1"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(eval_ip(rq, "192.168.2.7"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(pt_require_eval(rq, NULL, "GET", NULL), PT_AUTHZ_DENIED);
}
END_TEST

START_TEST(require_ip_names_the_invalid_address)
{
    ck_assert_ptr_null(req("ip 10.0.0.0/8 10.0.0.0/40"));
    ck_assert_ptr_nonnull(strstr(err, "'10.0.0.0/40'"));
    ck_assert_ptr_null(req("ip"));
    ck_assert_ptr_nonnull(strstr(err, "Require ip"));
}
END_TEST

START_TEST(require_local_grants_loopback_only)
{
    pt_require_t *rq = req("local");
    ck_assert_ptr_nonnull(rq);
    ck_assert_int_eq(eval_ip(rq, "127.0.0.1"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(eval_ip(rq, "127.5.6.7"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(eval_ip(rq, "::1"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(eval_ip(rq, "::ffff:127.0.0.1"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(eval_ip(rq, "10.0.0.1"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(eval_ip(rq, "::2"), PT_AUTHZ_DENIED);
    ck_assert_ptr_null(req("local 10.0.0.1"));
}
END_TEST

START_TEST(require_method_matches_listed_methods_and_head_as_get)
{
    pt_require_t *rq = req("method GET POST");
    ck_assert_ptr_nonnull(rq);
    const struct sockaddr *c = addr("1.1.1.1");
    ck_assert_int_eq(pt_require_eval(rq, c, "GET", NULL), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(pt_require_eval(rq, c, "POST", NULL), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(pt_require_eval(rq, c, "HEAD", NULL), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(pt_require_eval(rq, c, "PUT", NULL), PT_AUTHZ_DENIED);
    ck_assert_int_eq(pt_require_eval(rq, c, "get", NULL), PT_AUTHZ_DENIED);
    ck_assert_int_eq(pt_require_eval(rq, c, NULL, NULL), PT_AUTHZ_DENIED);
    ck_assert_ptr_null(req("method"));
}
END_TEST

START_TEST(require_env_grants_when_any_variable_is_set)
{
    pt_require_t *rq = req("env let_in trusted");
    ck_assert_ptr_nonnull(rq);
    pt_table_t env;
    pt_table_init(&env, arena, 4);
    const struct sockaddr *c = addr("1.1.1.1");
    ck_assert_int_eq(pt_require_eval(rq, c, "GET", &env), PT_AUTHZ_DENIED);
    ck_assert_int_eq(pt_require_eval(rq, c, "GET", NULL), PT_AUTHZ_DENIED);
    pt_table_set(&env, "TRUSTED", "");
    ck_assert_int_eq(pt_require_eval(rq, c, "GET", &env), PT_AUTHZ_GRANTED);
    ck_assert_ptr_null(req("env"));
}
END_TEST

START_TEST(rejects_unknown_providers_naming_them)
{
    static const char *lines[] = {"ldap-user bob", "dbm-group x", "not file-owner"};
    for (size_t i = 0; i < PT_ARRAY_LEN(lines); i++) {
        err[0] = '\0';
        ck_assert_ptr_null(req(lines[i]));
        ck_assert_msg(strstr(err, "no such authorization provider") != NULL, "%s: %s",
                      lines[i], err);
    }
}
END_TEST

/* The directive reads the expression from its line as written (test_expr covers it);
 * words alone have lost the quotes an expression may need. */
START_TEST(refuses_require_expr_from_words_alone)
{
    ck_assert_ptr_null(req("expr %{REMOTE_ADDR} == '1'"));
    ck_assert_ptr_nonnull(strstr(err, "'Require expr' is parsed from the Require line"));
}
END_TEST

/* ---- User providers: Apache's AUTHZ_DENIED_NO_USER ------------------------------------- */

static int groups_stub(void *arg, const char *user, const char *group)
{
    (void)arg;
    if (strcmp(group, "broken") == 0)
        return -1;
    return strcmp(group, "admins") == 0 && strcmp(user, "alice") == 0;
}

static pt_authz_t judge(const char *line, const char *user, const char *client)
{
    pt_require_t *rq = req(line);
    ck_assert_msg(rq != NULL, "%s: %s", line, err);
    pt_authz_ctx_t ctx = {.client = addr(client), .method = "GET", .user = user,
                          .in_group = groups_stub, .arena = arena};
    return pt_require_judge(rq, &ctx);
}

START_TEST(user_providers_ask_for_a_user_before_authentication)
{
    ck_assert_int_eq(judge("valid-user", NULL, "1.1.1.1"), PT_AUTHZ_DENIED_NO_USER);
    ck_assert_int_eq(judge("user bob", NULL, "1.1.1.1"), PT_AUTHZ_DENIED_NO_USER);
    ck_assert_int_eq(judge("group admins", NULL, "1.1.1.1"), PT_AUTHZ_DENIED_NO_USER);
}
END_TEST

START_TEST(valid_user_grants_any_authenticated_user)
{
    ck_assert_int_eq(judge("valid-user", "zed", "1.1.1.1"), PT_AUTHZ_GRANTED);
    ck_assert_ptr_null(req("valid-user alice"));
    ck_assert_ptr_nonnull(strstr(err, "takes no arguments"));
}
END_TEST

START_TEST(require_user_grants_only_the_listed_names_case_sensitively)
{
    ck_assert_int_eq(judge("user bob carol", "carol", "1.1.1.1"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(judge("user bob carol", "Carol", "1.1.1.1"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(judge("user bob", "alice", "1.1.1.1"), PT_AUTHZ_DENIED);
    ck_assert_ptr_null(req("user"));
}
END_TEST

START_TEST(require_group_asks_the_group_lookup_and_passes_its_errors_on)
{
    ck_assert_int_eq(judge("group staff admins", "alice", "1.1.1.1"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(judge("group admins", "bob", "1.1.1.1"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(judge("group broken admins", "alice", "1.1.1.1"), PT_AUTHZ_ERROR);
}
END_TEST

START_TEST(no_user_outranks_a_denial_in_an_or_and_loses_to_it_in_an_and)
{
    pt_authz_ctx_t ctx = {.client = addr("1.1.1.1"), .method = "GET", .arena = arena};
    pt_require_t *any = group(PT_REQUIRE_GROUP_ANY, req("ip 10.0.0.0/8"), req("valid-user"),
                              NULL);
    ck_assert_int_eq(pt_require_judge(any, &ctx), PT_AUTHZ_DENIED_NO_USER);
    pt_require_t *all = group(PT_REQUIRE_GROUP_ALL, req("valid-user"), req("ip 10.0.0.0/8"),
                              NULL);
    ck_assert_int_eq(pt_require_judge(all, &ctx), PT_AUTHZ_DENIED);
    /* From an allowed address the <RequireAll> waits for the user. */
    ctx.client = addr("10.1.1.1");
    ck_assert_int_eq(pt_require_judge(all, &ctx), PT_AUTHZ_DENIED_NO_USER);
    ctx.user = "alice";
    ck_assert_int_eq(pt_require_judge(all, &ctx), PT_AUTHZ_GRANTED);
    ck_assert(pt_require_wants_user(all));
    ck_assert(!pt_require_wants_user(req("ip 10.0.0.0/8")));
}
END_TEST

START_TEST(a_negated_user_rule_without_a_user_is_neutral)
{
    pt_authz_ctx_t ctx = {.client = addr("1.1.1.1"), .method = "GET", .arena = arena};
    pt_require_t *all = group(PT_REQUIRE_GROUP_ALL, req("all granted"), req("not user bob"),
                              NULL);
    ck_assert_int_eq(pt_require_judge(all, &ctx), PT_AUTHZ_GRANTED);
    ctx.user = "bob";
    ck_assert_int_eq(pt_require_judge(all, &ctx), PT_AUTHZ_DENIED);
}
END_TEST

START_TEST(forward_dns_grants_an_address_the_name_resolves_to)
{
    /* "localhost" is in /etc/hosts on every test machine: no DNS server is needed. */
    ck_assert_int_eq(judge("forward-dns localhost", NULL, "127.0.0.1"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(judge("forward-dns localhost", NULL, "192.0.2.1"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(judge("forward-dns no-such-host.invalid", NULL, "127.0.0.1"),
                     PT_AUTHZ_DENIED);
}
END_TEST

START_TEST(require_host_refuses_wildcards_that_could_never_match)
{
    ck_assert_ptr_null(req("host *.example.com"));
    ck_assert_ptr_nonnull(strstr(err, "no wildcards"));
    ck_assert_ptr_nonnull(req("host .example.com"));
}
END_TEST

START_TEST(require_host_denies_a_client_without_a_double_reverse_name)
{
    /* 192.0.2.0/24 (TEST-NET-1) has no reverse zone. */
    ck_assert_int_eq(judge("host example.com", NULL, "192.0.2.7"), PT_AUTHZ_DENIED);
}
END_TEST

START_TEST(rejects_bad_all_arguments_and_empty_lines)
{
    ck_assert_ptr_null(req("all"));
    ck_assert_ptr_nonnull(strstr(err, "'granted' or 'denied'"));
    ck_assert_ptr_null(req("all granted denied"));
    ck_assert_ptr_null(req("all allowed"));
    ck_assert_ptr_null(pt_require_parse(arena, 0, NULL, err, sizeof err));
    ck_assert_ptr_null(req("not"));
}
END_TEST

START_TEST(rejects_require_not_all)
{
    ck_assert_ptr_null(req("not all granted"));
    ck_assert_ptr_nonnull(strstr(err, "Require not all"));
    ck_assert_ptr_null(req("not all denied"));
}
END_TEST

START_TEST(negated_ip_denies_on_match_and_is_neutral_otherwise)
{
    pt_require_t *not_ip = req("not ip 10.0.0.0/8");
    ck_assert_ptr_nonnull(not_ip);
    ck_assert(not_ip->negate);
    /* Alone at the top, neutral becomes denied: a negation never grants by itself. */
    ck_assert_int_eq(eval_ip(not_ip, "10.1.1.1"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(eval_ip(not_ip, "11.1.1.1"), PT_AUTHZ_DENIED);
    /* Neutral shows inside <RequireAll> with a positive rule. */
    pt_require_t *all = group(PT_REQUIRE_GROUP_ALL, req("all granted"), not_ip, NULL);
    ck_assert_int_eq(eval_ip(all, "10.1.1.1"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(eval_ip(all, "11.1.1.1"), PT_AUTHZ_GRANTED);
}
END_TEST

START_TEST(negated_method_and_env_refuse_on_match)
{
    pt_table_t env;
    pt_table_init(&env, arena, 4);
    pt_require_t *all = group(PT_REQUIRE_GROUP_ALL, req("all granted"), req("not method DELETE"),
                              req("not env blocked"));
    const struct sockaddr *c = addr("1.1.1.1");
    ck_assert_int_eq(pt_require_eval(all, c, "GET", &env), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(pt_require_eval(all, c, "DELETE", &env), PT_AUTHZ_DENIED);
    pt_table_set(&env, "blocked", "1");
    ck_assert_int_eq(pt_require_eval(all, c, "GET", &env), PT_AUTHZ_DENIED);
}
END_TEST

/* ---- Containers ---------------------------------------------------------------------- */

START_TEST(require_all_needs_every_member_and_denial_wins)
{
    pt_require_t *all = group(PT_REQUIRE_GROUP_ALL, req("ip 10.0.0.0/8"), req("method GET"),
                              NULL);
    const struct sockaddr *in = addr("10.0.0.1"), *out = addr("11.0.0.1");
    ck_assert_int_eq(pt_require_eval(all, in, "GET", NULL), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(pt_require_eval(all, in, "POST", NULL), PT_AUTHZ_DENIED);
    ck_assert_int_eq(pt_require_eval(all, out, "GET", NULL), PT_AUTHZ_DENIED);
}
END_TEST

START_TEST(require_any_needs_one_member)
{
    pt_require_t *any = group(PT_REQUIRE_GROUP_ANY, req("ip 10.0.0.0/8"), req("ip ::1"), NULL);
    ck_assert_int_eq(eval_ip(any, "10.0.0.1"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(eval_ip(any, "::1"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(eval_ip(any, "11.0.0.1"), PT_AUTHZ_DENIED);
}
END_TEST

START_TEST(require_none_denies_when_a_member_grants_and_never_grants)
{
    pt_require_t *none = group(PT_REQUIRE_GROUP_NONE, req("ip 10.0.0.0/8"), req("ip 192.168"),
                               NULL);
    ck_assert(none->negate);
    pt_require_t *all = group(PT_REQUIRE_GROUP_ALL, req("all granted"), none, NULL);
    ck_assert_int_eq(eval_ip(all, "10.0.0.1"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(eval_ip(all, "192.168.4.4"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(eval_ip(all, "172.16.0.1"), PT_AUTHZ_GRANTED);
    /* On its own the none-result is neutral at best, so the top denies. */
    ck_assert_int_eq(eval_ip(none, "172.16.0.1"), PT_AUTHZ_DENIED);
}
END_TEST

START_TEST(neutral_members_do_not_decide_a_container)
{
    /* <RequireAny> of a neutral <RequireAll> and an ip rule: the ip rule decides. */
    pt_require_t *neutral_all = group(PT_REQUIRE_GROUP_ALL, req("ip 10.0.0.0/8"),
                                      req("not ip 10.0.0.0/8"), NULL);
    pt_require_t *inner = group(PT_REQUIRE_GROUP_ALL, req("all granted"),
                                req("not ip 192.168.0.0/16"), NULL);
    pt_require_t *any = group(PT_REQUIRE_GROUP_ANY, inner, req("ip 192.168.1.1"), NULL);
    /* 192.168.1.1: inner denies (not ip matches), the ip rule grants: any grants. */
    ck_assert_int_eq(eval_ip(any, "192.168.1.1"), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(eval_ip(any, "192.168.1.2"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(eval_ip(any, "8.8.8.8"), PT_AUTHZ_GRANTED);
    /* 10.x: ip grants then not-ip denies: denial wins in RequireAll. */
    ck_assert_int_eq(eval_ip(neutral_all, "10.0.0.1"), PT_AUTHZ_DENIED);
    /* Empty containers are neutral, hence denied at the top. */
    ck_assert_int_eq(eval_ip(group(PT_REQUIRE_GROUP_ANY, NULL, NULL, NULL), "1.1.1.1"),
                     PT_AUTHZ_DENIED);
}
END_TEST

START_TEST(nested_containers_follow_and_or_logic)
{
    /* (10/8 or 192.168/16) and GET, and not 10.66/16 */
    pt_require_t *nets = group(PT_REQUIRE_GROUP_ANY, req("ip 10.0.0.0/8"),
                               req("ip 192.168.0.0/16"), NULL);
    pt_require_t *top = group(PT_REQUIRE_GROUP_ALL, nets, req("method GET"),
                              req("not ip 10.66.0.0/16"));
    ck_assert_int_eq(pt_require_check(top, err, sizeof err), 0);
    const struct sockaddr *a = addr("10.1.1.1"), *b = addr("10.66.1.1"), *c = addr("8.8.8.8");
    ck_assert_int_eq(pt_require_eval(top, a, "GET", NULL), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(pt_require_eval(top, a, "POST", NULL), PT_AUTHZ_DENIED);
    ck_assert_int_eq(pt_require_eval(top, b, "GET", NULL), PT_AUTHZ_DENIED);
    ck_assert_int_eq(pt_require_eval(top, c, "GET", NULL), PT_AUTHZ_DENIED);
    ck_assert_int_eq(pt_require_eval(top, addr("::ffff:192.168.3.3"), "HEAD", NULL),
                     PT_AUTHZ_GRANTED);
}
END_TEST

START_TEST(no_rules_at_all_grants)
{
    ck_assert_int_eq(pt_require_eval(NULL, addr("1.2.3.4"), "GET", NULL), PT_AUTHZ_GRANTED);
}
END_TEST

/* ---- Load-time checks ---------------------------------------------------------------- */

START_TEST(check_rejects_negated_rule_in_implicit_require_any)
{
    pt_require_t *not_ip = req("not ip 10.0.0.1");
    ck_assert_int_eq(pt_require_check(not_ip, err, sizeof err), PT_EINVAL);
    ck_assert_str_eq(err, "negative Require directive has no effect in <RequireAny> directive");
    pt_require_t *any = group(PT_REQUIRE_GROUP_ANY, req("all granted"), req("not ip 10.0.0.1"),
                              NULL);
    ck_assert_int_eq(pt_require_check(any, err, sizeof err), PT_EINVAL);
    ck_assert_str_eq(err, "negative Require directive has no effect in <RequireAny> directive");
}
END_TEST

START_TEST(check_rejects_negated_rules_in_require_none)
{
    pt_require_t *none = group(PT_REQUIRE_GROUP_NONE, req("not ip 10.0.0.1"), NULL, NULL);
    pt_require_t *all = group(PT_REQUIRE_GROUP_ALL, req("all granted"), none, NULL);
    ck_assert_int_eq(pt_require_check(all, err, sizeof err), PT_EINVAL);
    ck_assert_str_eq(err, "negative Require directive has no effect in <RequireNone> directive");
}
END_TEST

START_TEST(check_rejects_require_none_outside_require_all)
{
    pt_require_t *none = group(PT_REQUIRE_GROUP_NONE, req("ip 10.0.0.1"), NULL, NULL);
    ck_assert_int_eq(pt_require_check(none, err, sizeof err), PT_EINVAL);
    ck_assert_str_eq(err,
                     "negative <RequireNone> directive has no effect in <RequireAny> directive");
    pt_require_t *any = group(PT_REQUIRE_GROUP_ANY, req("all granted"), none, NULL);
    ck_assert_int_eq(pt_require_check(any, err, sizeof err), PT_EINVAL);
}
END_TEST

START_TEST(check_rejects_require_all_with_only_negative_members)
{
    pt_require_t *all = group(PT_REQUIRE_GROUP_ALL, req("not ip 10.0.0.1"),
                              group(PT_REQUIRE_GROUP_NONE, req("ip 1.2.3.4"), NULL, NULL), NULL);
    all->file = "site.conf";
    all->line = 12;
    ck_assert_int_eq(pt_require_check(all, err, sizeof err), PT_EINVAL);
    ck_assert_str_eq(err, "<RequireAll> directive contains only negative authorization "
                          "directives (at site.conf:12)");
}
END_TEST

START_TEST(check_accepts_well_formed_trees)
{
    pt_require_t *none = group(PT_REQUIRE_GROUP_NONE, req("ip 10.0.0.1"), req("env bad"), NULL);
    pt_require_t *all = group(PT_REQUIRE_GROUP_ALL, req("all granted"), none,
                              req("not method TRACE"));
    pt_require_t *any = group(PT_REQUIRE_GROUP_ANY, all, req("local"), NULL);
    ck_assert_int_eq(pt_require_check(any, err, sizeof err), 0);
    ck_assert_int_eq(pt_require_check(req("all granted"), err, sizeof err), 0);
    ck_assert_int_eq(pt_require_check(NULL, err, sizeof err), 0);
}
END_TEST

static Suite *access_suite(void)
{
    Suite *s = suite_create("access");
    TCase *tc = tcase_create("cidr");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, parses_full_ipv4_as_host_route);
    tcase_add_test(tc, parses_partial_dotted_ipv4_as_byte_prefix);
    tcase_add_test(tc, parses_partial_ipv4_with_a_trailing_dot);
    tcase_add_test(tc, parses_ipv4_cidr_and_masks_host_bits);
    tcase_add_test(tc, parses_ipv4_netmask_form);
    tcase_add_test(tc, parses_ipv6_address_and_prefix);
    tcase_add_test(tc, rejects_malformed_addresses);
    tcase_add_test(tc, matches_ipv4_networks_on_prefix_bits);
    tcase_add_test(tc, matches_ipv6_networks_on_prefix_bits);
    tcase_add_test(tc, matches_mapped_ipv6_clients_against_ipv4_rules);
    tcase_add_test(tc, never_matches_across_families);
    suite_add_tcase(s, tc);

    tc = tcase_create("require");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, all_granted_and_all_denied_are_unconditional);
    tcase_add_test(tc, require_ip_grants_when_any_network_matches);
    tcase_add_test(tc, require_ip_names_the_invalid_address);
    tcase_add_test(tc, require_local_grants_loopback_only);
    tcase_add_test(tc, require_method_matches_listed_methods_and_head_as_get);
    tcase_add_test(tc, require_env_grants_when_any_variable_is_set);
    tcase_add_test(tc, rejects_unknown_providers_naming_them);
    tcase_add_test(tc, refuses_require_expr_from_words_alone);
    tcase_add_test(tc, user_providers_ask_for_a_user_before_authentication);
    tcase_add_test(tc, valid_user_grants_any_authenticated_user);
    tcase_add_test(tc, require_user_grants_only_the_listed_names_case_sensitively);
    tcase_add_test(tc, require_group_asks_the_group_lookup_and_passes_its_errors_on);
    tcase_add_test(tc, no_user_outranks_a_denial_in_an_or_and_loses_to_it_in_an_and);
    tcase_add_test(tc, a_negated_user_rule_without_a_user_is_neutral);
    tcase_add_test(tc, forward_dns_grants_an_address_the_name_resolves_to);
    tcase_add_test(tc, require_host_refuses_wildcards_that_could_never_match);
    tcase_add_test(tc, require_host_denies_a_client_without_a_double_reverse_name);
    tcase_add_test(tc, rejects_bad_all_arguments_and_empty_lines);
    tcase_add_test(tc, rejects_require_not_all);
    tcase_add_test(tc, negated_ip_denies_on_match_and_is_neutral_otherwise);
    tcase_add_test(tc, negated_method_and_env_refuse_on_match);
    suite_add_tcase(s, tc);

    tc = tcase_create("containers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, require_all_needs_every_member_and_denial_wins);
    tcase_add_test(tc, require_any_needs_one_member);
    tcase_add_test(tc, require_none_denies_when_a_member_grants_and_never_grants);
    tcase_add_test(tc, neutral_members_do_not_decide_a_container);
    tcase_add_test(tc, nested_containers_follow_and_or_logic);
    tcase_add_test(tc, no_rules_at_all_grants);
    tcase_add_test(tc, check_rejects_negated_rule_in_implicit_require_any);
    tcase_add_test(tc, check_rejects_negated_rules_in_require_none);
    tcase_add_test(tc, check_rejects_require_none_outside_require_all);
    tcase_add_test(tc, check_rejects_require_all_with_only_negative_members);
    tcase_add_test(tc, check_accepts_well_formed_trees);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(access_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
