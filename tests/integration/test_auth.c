/* Access control the Apache 2.2 way and Basic authentication, through the real server:
 * Order/Allow/Deny/Satisfy (mod_access_compat) with Apache's merge (an inner section's set
 * replaces the outer whole) and their mix with Require; AuthType Basic with an htpasswd
 * file of every hash kind (made by Debian's htpasswd), Require valid-user|user|group, the
 * challenge, %u in the access log and REMOTE_USER at php-fpm; the file read per request;
 * and the config errors. Each expected status was first taken from Debian's apache2 with
 * mod_access_compat, mod_auth_basic, mod_authn_file and mod_authz_groupfile loaded. */
#include "fcgi_backends.h"
#include "harness.h"
#include "http_backend.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* htpasswd -B alice secret, -m bob bobpw, -s carol carolpw, -d dave davepw. */
#define HTPASSWD                                                                           \
    "alice:$2y$05$8Qqqs8/sc6S8dQac/pycMuzIiTNFTZja4OsX61D7cyxsTD0dnNMWK\n"                 \
    "bob:$apr1$uk.Ot49i$XYeNvH3eFBVbvl1VO0Zgj.\n"                                          \
    "carol:{SHA}stOsjhQ+/Zr2RzmhAD8uggClG7Y=\n"                                            \
    "dave:zze7aI2Nw/8uE\n"
#define GROUPS "admins: alice bob\nstaff: carol\n"

#define AUTH(realm)                                                                        \
    "  AuthType Basic\n  AuthName \"" realm "\"\n  AuthBasicProvider file\n"                \
    "  AuthUserFile @DIR@/htpasswd\n  AuthGroupFile @DIR@/groups\n"

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    pth_write_conf_file(h, "htpasswd", HTPASSWD);
    pth_write_conf_file(h, "groups", GROUPS);
    static const char *const dirs[] = {"adm", "adm/pub", "grp", "usr", "any", "all",
                                       "open", "mix", "deny", "deny/open", "deny/still",
                                       "nouser", "noauth", "rip", "name", "notname"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "%s/index.html", dirs[i]);
        pth_write_filef(h, rel, "in %s\n", dirs[i]);
    }
}

static void teardown(void)
{
    pth_free(h);
    h = NULL;
}

/* GET path as user:password (NULL: no credentials); the status, and the challenge in *www
 * (malloc'd, NULL when none) when www is given. */
static int get_as(const char *path, const char *cred, char **www)
{
    char hdr[PTH_BASIC_AUTH_MAX];
    const char *hdrs[3] = {cred ? pth_basic_auth(hdr, sizeof hdr, cred) : NULL, NULL, NULL};
    pth_resp_t r;
    pth_get(h, path, hdrs, &r);
    int st = r.status;
    if (www) {
        const char *v = pth_resp_header(&r, "WWW-Authenticate");
        *www = v ? strdup(v) : NULL;
    }
    pth_resp_free(&r);
    return st;
}

static void expect(const char *path, const char *cred, int status)
{
    int st = get_as(path, cred, NULL);
    ck_assert_msg(st == status, "%s as %s: %d, want %d", path, cred ? cred : "nobody", st,
                  status);
}

static void start_auth(void)
{
    pth_config(h, "LogFormat \"%%u %%>s %%U\" who\nCustomLog @DIR@/who.log who\n"
                  "<Location /adm>\n" AUTH("Admin area") "  Require valid-user\n</Location>\n"
                  "<Location /adm/pub>\n  AuthType None\n  Require all granted\n</Location>\n"
                  "<Location /grp>\n" AUTH("G") "  Require group admins\n</Location>\n"
                  "<Location /usr>\n" AUTH("U") "  Require user carol dave\n</Location>\n");
    pth_expect_error(h, "AH0161[78]|AH01631|Basic credentials of the Authorization header");
    pth_start(h);
}

START_TEST(a_protected_location_challenges_with_its_realm_and_admits_each_hash_kind)
{
    start_auth();
    char *www = NULL;
    ck_assert_int_eq(get_as("/adm/", NULL, &www), 401);
    ck_assert_ptr_nonnull(www);
    ck_assert_str_eq(www, "Basic realm=\"Admin area\"");
    free(www);
    expect("/adm/", "alice:secret", 200);  /* bcrypt */
    expect("/adm/", "bob:bobpw", 200);     /* APR1-MD5 */
    expect("/adm/", "carol:carolpw", 200); /* {SHA} */
    expect("/adm/", "dave:davepw", 200);   /* crypt */
    expect("/grp/x", NULL, 401); /* the challenge comes before the 404 */
    expect("/adm/pub/", NULL, 200); /* AuthType None and a Require of its own */
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(a_wrong_password_or_unknown_user_is_401_again_with_a_log_line)
{
    start_auth();
    char *www = NULL;
    ck_assert_int_eq(get_as("/adm/", "alice:wrong", &www), 401);
    ck_assert_str_eq(www, "Basic realm=\"Admin area\"");
    free(www);
    expect("/adm/", "zed:secret", 401);
    expect("/adm/", "alice", 401);
    ck_assert(pth_file_wait_contains(pth_path(h, "error.log"),
                                     "AH01617: user alice: authentication failure for "
                                     "\"/adm/\": Password Mismatch", 3000));
    ck_assert(pth_file_wait_contains(pth_path(h, "error.log"), "AH01618: user zed not found",
                                     3000));
    ck_assert(pth_file_wait_contains(pth_path(h, "error.log"), "Basic credentials of the "
                                     "Authorization header are not base64 of user:password",
                                     3000));
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(require_user_and_group_choose_among_authenticated_users)
{
    start_auth();
    expect("/grp/", "alice:secret", 200);
    expect("/grp/", "bob:bobpw", 200);
    char *www = NULL;
    ck_assert_int_eq(get_as("/grp/", "carol:carolpw", &www), 401);
    ck_assert_str_eq(www, "Basic realm=\"G\""); /* asked again, as Apache */
    free(www);
    expect("/usr/", "carol:carolpw", 200);
    expect("/usr/", "dave:davepw", 200);
    expect("/usr/", "alice:secret", 401);
    ck_assert(pth_file_wait_contains(pth_path(h, "error.log"),
                                     "AH01631: user carol: authorization failure", 3000));
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(require_containers_mix_addresses_and_users)
{
    pth_config(h, "<Location /all>\n" AUTH("RA") "  <RequireAll>\n    Require ip 127.0.0.1\n"
                  "    Require group admins\n  </RequireAll>\n</Location>\n"
                  "<Location /any>\n" AUTH("RANY") "  <RequireAny>\n"
                  "    Require ip 10.0.0.0/8\n    Require valid-user\n  </RequireAny>\n"
                  "</Location>\n");
    pth_expect_error(h, "AH0161[78]|AH01631");
    pth_start(h);
    expect("/all/", NULL, 401);
    expect("/all/", "alice:secret", 200);
    expect("/all/", "carol:carolpw", 401);
    /* The address rule fails, so the user decides. */
    expect("/any/", NULL, 401);
    expect("/any/", "carol:carolpw", 200);
    expect("/any/", "carol:x", 401);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(the_access_log_names_the_user_even_when_refused)
{
    start_auth();
    expect("/adm/", "bob:bobpw", 200);
    expect("/adm/", "alice:nope", 401);
    expect("/adm/", NULL, 401);
    ck_assert_int_eq(pth_stop(h), 0);
    char *log = pth_read_file(pth_path(h, "who.log"), NULL);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, "bob 200 /adm/index.html\n") || strstr(log, "bob 200 /adm/\n"),
                  "%s", log);
    ck_assert_msg(strstr(log, "alice 401 /adm/\n"), "%s", log);
    ck_assert_msg(strstr(log, "- 401 /adm/\n"), "%s", log);
    free(log);
}
END_TEST

START_TEST(a_password_file_change_applies_to_the_next_request)
{
    start_auth();
    expect("/adm/", "carol:carolpw", 200);
    /* htpasswd -s carol newpw */
    pth_write_conf_file(h, "htpasswd", "carol:{SHA}lcTAtyjFY6HdqwaOohZumD7t1Sg=\n");
    expect("/adm/", "carol:carolpw", 401);
    expect("/adm/", "carol:newpw", 200);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(authtype_without_require_and_require_without_authtype_are_500)
{
    pth_config(h, "<Location /noauth>\n  Require valid-user\n</Location>\n"
                  "<Location /nouser>\n" AUTH("N") "</Location>\n");
    pth_expect_error(h, "AH00027|AH01627");
    pth_start(h);
    /* The prelude's <Directory> holds "Require all granted": /nouser has a Require tree,
     * so like Apache it is served; /noauth asks for a user nobody can give. */
    expect("/noauth/", NULL, 500);
    expect("/nouser/", NULL, 200);
    ck_assert(pth_file_wait_contains(pth_path(h, "error.log"), "AH00027: No authentication "
                                     "done", 3000));
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* Protecting a proxied application, the usual first use: the challenge comes from portico
 * before the backend sees anything, and the credentials go on with the request, as Apache
 * forwards them. */
START_TEST(a_proxied_location_is_protected_before_the_backend)
{
    pth_http_backend_t be;
    pth_http_backend_start_must(&be, NULL);
    pth_config(h, "<Location /app/>\n  ProxyPass http://127.0.0.1:%d/\n" AUTH("App")
                  "  Require group admins\n</Location>\n", be.port);
    pth_expect_error(h, "AH0161[78]|AH01631");
    pth_start(h);
    char *www = NULL;
    ck_assert_int_eq(get_as("/app/echo", NULL, &www), 401);
    ck_assert_str_eq(www, "Basic realm=\"App\"");
    free(www);
    expect("/app/echo", "carol:carolpw", 401);
    ck_assert_int_eq(atomic_load(&be.counts->requests), 0);
    const char *cred[] = {"Authorization: Basic Ym9iOmJvYnB3", NULL}; /* bob:bobpw */
    pth_resp_t r;
    pth_get(h, "/app/echo", cred, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "\r\nAuthorization: Basic Ym9iOmJvYnB3\r\n"), "%s", r.body);
    pth_resp_free(&r);
    ck_assert_int_eq(atomic_load(&be.counts->requests), 1);
    ck_assert_int_eq(pth_stop(h), 0);
    pth_http_backend_stop(&be);
}
END_TEST

/* ---- mod_access_compat -------------------------------------------------------------- */

static void start_compat(void)
{
    pth_config(h, "SetEnvIf User-Agent ^good GOOD\n"
                  "<Location /any>\n  Satisfy Any\n  Order allow,deny\n"
                  "  Allow from 127.0.0.1\n" AUTH("A") "  Require valid-user\n</Location>\n"
                  "<Location /all>\n  Satisfy All\n  Order allow,deny\n"
                  "  Allow from 127.0.0\n" AUTH("B") "  Require valid-user\n</Location>\n"
                  "<Location /open>\n  Order allow,deny\n  Allow from env=GOOD\n</Location>\n"
                  "<Location /mix>\n  Require all denied\n</Location>\n"
                  "<Location /mix>\n  Order allow,deny\n  Allow from all\n</Location>\n"
                  "<Directory @DOCROOT@/deny>\n  Order deny,allow\n  Deny from all\n"
                  "</Directory>\n"
                  "<Directory @DOCROOT@/deny/open>\n  Satisfy any\n</Directory>\n"
                  "<Directory @DOCROOT@/deny/still>\n  Options -Indexes\n</Directory>\n"
                  "<Location /name>\n  Order deny,allow\n  Deny from all\n"
                  "  Allow from localhost\n</Location>\n"
                  "<Location /notname>\n  Order allow,deny\n  Allow from all\n"
                  "  Deny from .localhost localhost\n</Location>\n");
    pth_expect_error(h, "AH01797|AH01630");
    pth_start(h);
}

START_TEST(satisfy_any_lets_an_allowed_address_in_without_credentials)
{
    start_compat();
    expect("/any/", NULL, 200);
    char *www = NULL;
    ck_assert_int_eq(get_as("/all/", NULL, &www), 401);
    ck_assert_str_eq(www, "Basic realm=\"B\"");
    free(www);
    expect("/all/", "alice:secret", 200);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(allow_from_env_follows_setenvif)
{
    start_compat();
    expect("/open/", NULL, 403);
    const char *hd[] = {"User-Agent: goodbot", NULL};
    pth_resp_t r;
    pth_get(h, "/open/", hd, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(pth_path(h, "error.log"),
                                     "AH01797: client denied by server configuration", 3000));
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(an_inner_section_with_compat_rules_replaces_the_outer_set_whole)
{
    start_compat();
    expect("/deny/", NULL, 403);
    /* "Satisfy any" alone makes a new set: Deny,Allow with no rule admits. */
    expect("/deny/open/", NULL, 200);
    /* A section without compat directives inherits the Deny. */
    expect("/deny/still/", NULL, 403);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(require_all_denied_still_applies_beside_allow_from_all)
{
    start_compat();
    expect("/mix/", NULL, 403);
    ck_assert(pth_file_wait_contains(pth_path(h, "error.log"), "AH01630", 3000));
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(host_names_match_by_double_reverse_lookup)
{
    start_compat();
    /* The client is 127.0.0.1, "localhost" both ways in /etc/hosts. */
    expect("/name/", NULL, 200);
    expect("/notname/", NULL, 403);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(require_host_and_forward_dns_match_the_loopback_client)
{
    pth_config(h, "<Location /name>\n  Require host localhost\n</Location>\n"
                  "<Location /notname>\n  Require host example.com\n</Location>\n"
                  "<Location /open>\n  Require forward-dns localhost\n</Location>\n");
    pth_expect_error(h, "AH01630");
    pth_start(h);
    expect("/name/", NULL, 200);
    expect("/notname/", NULL, 403);
    expect("/open/", NULL, 200);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* The shape of Debian's old DokuWiki snippet: lower-case 2.2 directives, the wiki open to
 * the local host by name and address, its bin/ closed to all. */
START_TEST(a_dokuwiki_style_alias_is_open_locally_and_closed_below_bin)
{
    pth_write_filef(h, "wiki/doku.php", "wiki\n");
    pth_write_filef(h, "wiki/bin/indexer.php", "bin\n");
    pth_config(h, "Alias /dokuwiki @DOCROOT@/wiki\n"
                  "<Directory @DOCROOT@/wiki/>\n"
                  "        Options +FollowSymLinks\n"
                  "        AllowOverride None\n"
                  "        order allow,deny\n"
                  "        allow from localhost 127.0.0.1 ::1\n"
                  "</Directory>\n"
                  "<Directory @DOCROOT@/wiki/bin>\n"
                  "        Options -FollowSymLinks\n"
                  "        AllowOverride None\n"
                  "        order allow,deny\n"
                  "        deny from all\n"
                  "</Directory>\n");
    pth_expect_error(h, "AH01797");
    pth_start(h);
    expect("/dokuwiki/doku.php", NULL, 200);
    expect("/dokuwiki/bin/indexer.php", NULL, 403);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(allow_and_deny_see_the_client_that_remoteip_found)
{
    pth_config(h, "RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 127.0.0.1\n"
                  "<Location /rip>\n  Order allow,deny\n  Allow from all\n"
                  "  Deny from 203.0.113.0/24\n</Location>\n");
    pth_expect_error(h, "AH01797");
    pth_start(h);
    const char *bad[] = {"X-Forwarded-For: 203.0.113.5", NULL};
    const char *good[] = {"X-Forwarded-For: 198.51.100.5", NULL};
    pth_resp_t r;
    pth_get(h, "/rip/", bad, &r);
    ck_assert_int_eq(r.status, 403);
    pth_resp_free(&r);
    pth_get(h, "/rip/", good, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- .htaccess ---------------------------------------------------------------------- */

/* What people put in .htaccess first: a password on a directory, or "Deny from all"; each
 * let in by its AllowOverride class (AuthConfig, Limit) and refused (500) without it. */
START_TEST(htaccess_files_protect_directories_under_their_override_class)
{
    pth_write_conf_file(h, "htdocs_auth", "AuthType Basic\nAuthName \"HT\"\n"
                                          "AuthUserFile @DIR@/htpasswd\nRequire valid-user\n");
    char *auth = pth_read_file(pth_path(h, "htdocs_auth"), NULL);
    ck_assert_ptr_nonnull(auth);
    pth_write_file(h, "adm/.htaccess", auth, strlen(auth));
    free(auth);
    static const char deny[] = "Order deny,allow\nDeny from all\n";
    pth_write_file(h, "grp/.htaccess", deny, strlen(deny));
    pth_write_file(h, "usr/.htaccess", deny, strlen(deny));
    pth_write_file(h, "any/.htaccess", deny, strlen(deny));
    pth_config(h, "<Directory @DOCROOT@/adm>\n  AllowOverride AuthConfig\n</Directory>\n"
                  "<Directory @DOCROOT@/grp>\n  AllowOverride Limit\n</Directory>\n"
                  "<Directory @DOCROOT@/usr>\n  AllowOverride None\n</Directory>\n"
                  "<Directory @DOCROOT@/any>\n  AllowOverride AuthConfig\n</Directory>\n");
    pth_expect_error(h, "AH01797|\\.htaccess");
    pth_start(h);
    char *www = NULL;
    ck_assert_int_eq(get_as("/adm/", NULL, &www), 401);
    ck_assert_str_eq(www, "Basic realm=\"HT\"");
    free(www);
    expect("/adm/", "dave:davepw", 200);
    expect("/grp/", NULL, 403);
    expect("/usr/", NULL, 200); /* AllowOverride None: the file is not read */
    expect("/any/", NULL, 500); /* Deny is of class Limit */
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- Config errors ------------------------------------------------------------------ */

static void expect_config_error(const char *body, const char *msg)
{
    pth_config(h, "<Location /x>\n%s\n</Location>\n", body);
    pth_run_t r;
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(r.code != 0, "%s: exit 0", body);
    ck_assert_msg(strstr(r.err, "portico.conf:") && strstr(r.err, msg), "%s: %s", body, r.err);
    pth_run_free(&r);
}

START_TEST(bad_access_and_auth_directives_are_config_errors_with_file_and_line)
{
    expect_config_error("Allow from 10.1/8", "'10.1/8' is not a valid IP address");
    expect_config_error("Allow 10.1.1.1", "at least 2 arguments");
    expect_config_error("Deny to all", "must be followed by 'from'");
    expect_config_error("Order deny, allow", "Order");
    expect_config_error("Order allow-deny", "unknown order");
    expect_config_error("Satisfy some", "Satisfy either 'any' or 'all'");
    expect_config_error("AuthType Digest", "portico supports Basic and None");
    expect_config_error("AuthBasicProvider dbm", "Unknown Authn provider: dbm");
    expect_config_error("Require expr %{NOPE} == 1", "Cannot parse expression in require line: "
                                                    "Variable 'NOPE' does not exist");
    expect_config_error("Require ldap-group x", "no such authorization provider");
}
END_TEST

START_TEST(compat_directives_outside_a_section_are_refused)
{
    pth_config(h, "Order deny,allow\n");
    pth_run_t r;
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_msg(r.code != 0 && strstr(r.err, "portico.conf:"), "%s", r.err);
    pth_run_free(&r);
}
END_TEST

/* ---- REMOTE_USER at php-fpm --------------------------------------------------------- */

PTH_FPM_SUITE_POOL(2)

START_TEST(the_user_reaches_php_as_remote_user_with_auth_type)
{
    pth_write_filef(h, "adm/who.php", "<?php echo 'user=', $_SERVER['REMOTE_USER'] ?? '-', "
                                      "' type=', $_SERVER['AUTH_TYPE'] ?? '-', "
                                      "' pw=', $_SERVER['PHP_AUTH_PW'] ?? '-';");
    pth_config(h, "<LocationMatch \"\\.php$\">\n"
                  "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n</LocationMatch>\n"
                  "<Location /adm>\n" AUTH("Admin area") "  Require valid-user\n</Location>\n",
               fpm.sock);
    pth_start(h);
    char hdr[PTH_BASIC_AUTH_MAX];
    const char *hd[] = {pth_basic_auth(hdr, sizeof hdr, "bob:bobpw"), NULL};
    pth_resp_t r;
    pth_get(h, "/adm/who.php", hd, &r);
    ck_assert_int_eq(r.status, 200);
    /* The password stays with portico (no CGIPassAuth), as Apache. */
    ck_assert_str_eq(r.body, "user=bob type=Basic pw=-");
    pth_resp_free(&r);
    expect("/adm/who.php", NULL, 401);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("basic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_protected_location_challenges_with_its_realm_and_admits_each_hash_kind);
    tcase_add_test(tc, a_wrong_password_or_unknown_user_is_401_again_with_a_log_line);
    tcase_add_test(tc, require_user_and_group_choose_among_authenticated_users);
    tcase_add_test(tc, require_containers_mix_addresses_and_users);
    tcase_add_test(tc, the_access_log_names_the_user_even_when_refused);
    tcase_add_test(tc, a_password_file_change_applies_to_the_next_request);
    tcase_add_test(tc, authtype_without_require_and_require_without_authtype_are_500);
    tcase_add_test(tc, a_proxied_location_is_protected_before_the_backend);
    suite_add_tcase(s, tc);

    tc = tcase_create("compat");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, satisfy_any_lets_an_allowed_address_in_without_credentials);
    tcase_add_test(tc, allow_from_env_follows_setenvif);
    tcase_add_test(tc, an_inner_section_with_compat_rules_replaces_the_outer_set_whole);
    tcase_add_test(tc, require_all_denied_still_applies_beside_allow_from_all);
    tcase_add_test(tc, host_names_match_by_double_reverse_lookup);
    tcase_add_test(tc, require_host_and_forward_dns_match_the_loopback_client);
    tcase_add_test(tc, a_dokuwiki_style_alias_is_open_locally_and_closed_below_bin);
    tcase_add_test(tc, allow_and_deny_see_the_client_that_remoteip_found);
    suite_add_tcase(s, tc);

    tc = tcase_create("htaccess");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, htaccess_files_protect_directories_under_their_override_class);
    suite_add_tcase(s, tc);

    tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, bad_access_and_auth_directives_are_config_errors_with_file_and_line);
    tcase_add_test(tc, compat_directives_outside_a_section_are_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("fcgi");
    tcase_add_unchecked_fixture(tc, fpm_up, fpm_down);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, the_user_reaches_php_as_remote_user_with_auth_type);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(auth_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
