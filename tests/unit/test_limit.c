/* <Limit>, <LimitExcept> and RegisterHttpMethod (conf/directives_limit.c) with the rules
 * they scope (access.c, access_compat.c): configurations loaded from text, their rules
 * judged per method as Apache's authz_core and access_compat do, and the load-time errors. */
#include "access.h"
#include "access_compat.h"
#include "conf_text.h"
#include "config.h"
#include "startup.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pth_conf_t tc_conf; /* the suite's main.conf and what it loaded */

static void setup(void)
{
    pth_conf_open(&tc_conf);
}

static void teardown(void)
{
    pth_conf_close(&tc_conf);
}

static pt_config_t *load(const char *body)
{
    return pth_conf_load(&tc_conf, body);
}

/* The <Directory "/srv"> section's config of a loaded cfg. */
static const pt_dir_config_t *srv_dir(void)
{
    ck_assert_msg(tc_conf.cfg != NULL, "%s", tc_conf.err);
    for (size_t i = 0; i < tc_conf.cfg->main_server->nsections; i++)
        if (strcmp(tc_conf.cfg->main_server->sections[i].pattern, "/srv") == 0)
            return tc_conf.cfg->main_server->sections[i].conf;
    ck_abort_msg("no <Directory /srv>");
    return NULL;
}

static const struct sockaddr *client(const char *ip)
{
    static struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sin.sin_addr);
    return (const struct sockaddr *)&sin;
}

static pt_authz_t judge(const char *method, const char *user)
{
    pt_authz_ctx_t ctx = {.client = client("10.0.0.1"), .method = method, .user = user};
    return pt_require_judge(srv_dir()->require, &ctx);
}

static bool hosts_allow(const char *method, const char *ip)
{
    pt_authz_ctx_t ctx = {.client = client(ip), .method = method};
    return pt_access_compat_allows(srv_dir()->access_compat, &ctx);
}

START_TEST(require_inside_limit_applies_only_to_the_methods_named)
{
    load("<Directory /srv>\n<Limit POST PUT>\nRequire valid-user\n</Limit>\n</Directory>\n");
    ck_assert_int_eq(judge("GET", NULL), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(judge("HEAD", NULL), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(judge("POST", NULL), PT_AUTHZ_DENIED_NO_USER);
    ck_assert_int_eq(judge("PUT", "alice"), PT_AUTHZ_GRANTED);
}
END_TEST

START_TEST(require_inside_limit_except_applies_to_every_other_method)
{
    load("<Directory /srv>\n<LimitExcept GET OPTIONS>\nRequire all denied\n</LimitExcept>\n"
         "</Directory>\n");
    ck_assert_int_eq(judge("GET", NULL), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(judge("HEAD", NULL), PT_AUTHZ_GRANTED); /* HEAD is GET to Apache */
    ck_assert_int_eq(judge("OPTIONS", NULL), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(judge("DELETE", NULL), PT_AUTHZ_DENIED);
    ck_assert_int_eq(judge("BREW", NULL), PT_AUTHZ_DENIED);
}
END_TEST

/* The access phase skips its checks for a tree that grants every request (authz.c): a
 * "Require all granted" scoped to some methods, negated or in a group is not one. */
START_TEST(only_an_unscoped_require_all_granted_grants_every_request)
{
    load("<Directory /srv>\nRequire all granted\n</Directory>\n");
    ck_assert(pt_require_grants_all(srv_dir()->require));
    load("<Directory /srv>\n<Limit POST>\nRequire all granted\n</Limit>\n</Directory>\n");
    ck_assert(!pt_require_grants_all(srv_dir()->require));
    load("<Directory /srv>\n<RequireAll>\nRequire all granted\nRequire not ip 10.0.0.1\n"
         "</RequireAll>\n</Directory>\n");
    ck_assert(!pt_require_grants_all(srv_dir()->require));
    ck_assert_int_eq(judge("GET", NULL), PT_AUTHZ_DENIED);
    load("<Directory /srv>\nRequire all denied\n</Directory>\n");
    ck_assert(!pt_require_grants_all(srv_dir()->require));
}
END_TEST

START_TEST(limited_and_unlimited_require_lines_form_one_require_any)
{
    /* The limited line is neutral for GET inside the implicit <RequireAny>: the other
     * decides; for POST either may grant. */
    load("<Directory /srv>\nRequire ip 192.0.2.1\n<Limit POST>\nRequire valid-user\n"
         "</Limit>\n</Directory>\n");
    ck_assert_int_eq(judge("GET", NULL), PT_AUTHZ_DENIED);
    ck_assert_int_eq(judge("POST", "bob"), PT_AUTHZ_GRANTED);
}
END_TEST

START_TEST(limit_inside_require_all_grants_for_other_methods)
{
    load("<Directory /srv>\n<RequireAll>\nRequire ip 10.0.0.0/8\n<Limit DELETE>\n"
         "Require user admin\n</Limit>\n</RequireAll>\n</Directory>\n");
    ck_assert_int_eq(judge("GET", NULL), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(judge("DELETE", "bob"), PT_AUTHZ_DENIED);
    ck_assert_int_eq(judge("DELETE", "admin"), PT_AUTHZ_GRANTED);
}
END_TEST

START_TEST(nested_limits_apply_to_the_methods_both_admit)
{
    load("<Directory /srv>\n<Limit GET POST>\n<LimitExcept GET>\nRequire all denied\n"
         "</LimitExcept>\n</Limit>\n</Directory>\n");
    ck_assert_int_eq(judge("GET", NULL), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(judge("PUT", NULL), PT_AUTHZ_GRANTED);
    ck_assert_int_eq(judge("POST", NULL), PT_AUTHZ_DENIED);
}
END_TEST

START_TEST(allow_and_deny_inside_limit_skip_other_methods)
{
    load("<Directory /srv>\nOrder deny,allow\n<Limit POST>\nDeny from all\n"
         "Allow from 10.0.0.0/8\n</Limit>\n</Directory>\n");
    ck_assert(hosts_allow("GET", "192.0.2.1"));
    ck_assert(!hosts_allow("POST", "192.0.2.1"));
    ck_assert(hosts_allow("POST", "10.1.1.1"));
}
END_TEST

START_TEST(order_and_satisfy_inside_limit_are_per_method)
{
    load("<Directory /srv>\nAllow from 10.0.0.0/8\nDeny from 10.1.0.0/16\n<Limit GET>\n"
         "Order allow,deny\nSatisfy any\n</Limit>\n</Directory>\n");
    /* GET: allow,deny, a Deny match wins; POST: deny,allow, an Allow match wins. */
    ck_assert(!hosts_allow("GET", "10.1.1.1"));
    ck_assert(hosts_allow("POST", "10.1.1.1"));
    ck_assert_int_eq(pt_access_compat_satisfy_for(srv_dir()->access_compat, "GET"),
                     PT_SATISFY_ANY);
    ck_assert_int_eq(pt_access_compat_satisfy_for(srv_dir()->access_compat, "POST"),
                     PT_SATISFY_NOSPEC);
}
END_TEST

START_TEST(limit_registers_an_unknown_method)
{
    ck_assert_ptr_nonnull(load("RegisterHttpMethod BREW\n<Directory /srv>\n<Limit WHEN>\n"
                               "Require all denied\n</Limit>\n</Directory>\n"));
    ck_assert_uint_eq(tc_conf.cfg->nmethods, 2);
    ck_assert_str_eq(tc_conf.cfg->methods[0], "BREW");
    ck_assert_str_eq(tc_conf.cfg->methods[1], "WHEN");
    ck_assert_int_eq(judge("WHEN", NULL), PT_AUTHZ_DENIED);
    ck_assert_int_eq(judge("when", NULL), PT_AUTHZ_GRANTED); /* methods are case-sensitive */
}
END_TEST

#define EXPECT_ERROR(text, msg)                                                            \
    do {                                                                                   \
        ck_assert_ptr_null(load(text));                                                    \
        ck_assert_msg(strstr(tc_conf.err, msg) != NULL, "got: %s", tc_conf.err);           \
    } while (0)

START_TEST(rejects_what_apache_rejects)
{
    EXPECT_ERROR("<Limit GET>\nRequire all denied\n</Limit>\n",
                 "main.conf:3: <Limit not allowed here");
    EXPECT_ERROR("<Directory /srv>\n<Limit TRACE>\nRequire all denied\n</Limit>\n</Directory>\n",
                 "main.conf:4: TRACE cannot be controlled by <Limit>, see TraceEnable");
    EXPECT_ERROR("<Directory /srv>\n<Limit>\nRequire all denied\n</Limit>\n</Directory>\n",
                 "main.conf:4: <Limit> directive requires additional arguments");
    EXPECT_ERROR("<Directory /srv>\n<Limit GET>\n<Files x>\nRequire all denied\n</Files>\n"
                 "</Limit>\n</Directory>\n",
                 "main.conf:5: <Files> cannot occur within <Limit> or <LimitExcept> section");
    EXPECT_ERROR("<Directory /srv>\n<Limit GET>\n<Limit POST>\nRequire all denied\n</Limit>\n"
                 "</Limit>\n</Directory>\n",
                 "main.conf:5: <Limit> directive excludes all methods");
}
END_TEST

START_TEST(limit_except_trace_is_accepted)
{
    ck_assert_ptr_nonnull(load("<Directory /srv>\n<LimitExcept TRACE>\nRequire all denied\n"
                               "</LimitExcept>\n</Directory>\n"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("limit");
    TCase *tc = tcase_create("limit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, require_inside_limit_applies_only_to_the_methods_named);
    tcase_add_test(tc, require_inside_limit_except_applies_to_every_other_method);
    tcase_add_test(tc, only_an_unscoped_require_all_granted_grants_every_request);
    tcase_add_test(tc, limited_and_unlimited_require_lines_form_one_require_any);
    tcase_add_test(tc, limit_inside_require_all_grants_for_other_methods);
    tcase_add_test(tc, nested_limits_apply_to_the_methods_both_admit);
    tcase_add_test(tc, allow_and_deny_inside_limit_skip_other_methods);
    tcase_add_test(tc, order_and_satisfy_inside_limit_are_per_method);
    tcase_add_test(tc, limit_registers_an_unknown_method);
    tcase_add_test(tc, rejects_what_apache_rejects);
    tcase_add_test(tc, limit_except_trace_is_accepted);
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
