/* Directives of Apache's core, mod_dir, mod_alias and mod_authz_core that change what a
 * request gets, through the real server: <Limit>/<LimitExcept>, and the others as they are
 * added (see README "Apache compatibility"). Each expected answer was first taken from
 * Debian's apache2 on the same configuration. Nothing here depends on the MPM. */
/* mpms: event */
#include "harness.h"

#include <check.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pth_t *h;

static void setup(void)
{
    h = pth_new();
}

static void teardown(void)
{
    pth_free(h);
    h = NULL;
}

/* METHOD path (as user:password when cred is given); the status. */
static int ask(const char *method, const char *path, const char *cred)
{
    char hdr[256];
    const char *hdrs[2] = {NULL, NULL};
    if (cred) {
        unsigned char b64[200];
        EVP_EncodeBlock(b64, (const unsigned char *)cred, (int)strlen(cred));
        snprintf(hdr, sizeof hdr, "Authorization: Basic %s", b64);
        hdrs[0] = hdr;
    }
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, method, path, hdrs, NULL, 0, &r), 0);
    int st = r.status;
    pth_resp_free(&r);
    return st;
}

static void expect(const char *method, const char *path, const char *cred, int status)
{
    int st = ask(method, path, cred);
    ck_assert_msg(st == status, "%s %s: %d, want %d", method, path, st, status);
}

/* ---- <Limit> and <LimitExcept> ------------------------------------------------------------ */

/* htpasswd -B alice secret */
#define HTPASSWD "alice:$2y$05$8Qqqs8/sc6S8dQac/pycMuzIiTNFTZja4OsX61D7cyxsTD0dnNMWK\n"

START_TEST(limit_protects_only_the_methods_it_names)
{
    pth_write_conf_file(h, "htpasswd", HTPASSWD);
    pth_write_filef(h, "w/index.html", "w\n");
    pth_write_filef(h, "ro/index.html", "ro\n");
    pth_config(h, "<Location /w>\n  AuthType Basic\n  AuthName w\n"
                  "  AuthUserFile @DIR@/htpasswd\n  <Limit POST PUT DELETE>\n"
                  "    Require valid-user\n  </Limit>\n</Location>\n"
                  "<Location /ro>\n  <LimitExcept GET OPTIONS>\n    Require all denied\n"
                  "  </LimitExcept>\n</Location>\n");
    pth_expect_error(h, "AH01630|AH01618|client denied");
    pth_start(h);
    expect("GET", "/w/", NULL, 200);
    expect("HEAD", "/w/", NULL, 200);
    expect("DELETE", "/w/", NULL, 401);
    expect("DELETE", "/w/", "alice:secret", 405); /* admitted; the static handler refuses */
    expect("GET", "/ro/", NULL, 200);
    expect("POST", "/ro/", NULL, 403);
    expect("BREW", "/ro/", NULL, 403);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(limit_in_htaccess_scopes_deny_from)
{
    pth_write_filef(h, "h/index.html", "h\n");
    pth_write_filef(h, "h/.htaccess", "<Limit POST>\nOrder deny,allow\nDeny from all\n"
                                      "</Limit>\n");
    pth_config(h, "<Directory @DOCROOT@/h>\n  AllowOverride Limit\n</Directory>\n");
    pth_expect_error(h, "AH01797");
    pth_start(h);
    expect("GET", "/h/", NULL, 200);
    expect("POST", "/h/", NULL, 403);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("core_directives");
    TCase *tc = tcase_create("limit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, limit_protects_only_the_methods_it_names);
    tcase_add_test(tc, limit_in_htaccess_scopes_deny_from);
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
