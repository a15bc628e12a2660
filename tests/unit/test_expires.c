/* mod_expires' directives (conf/directives_expires.c): Apache's two code syntaxes compiled to
 * 'A'/'M' and seconds, the errors each bad code gets, and the per-directory merge. */
#include "config.h"
#include "directives.h"
#include "startup.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static char err[PT_ERRLEN];

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    return remove(p);
}

static void setup(void)
{
    strcpy(root, "/tmp/ptexpXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static pt_config_t *load(const char *text)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/main.conf", root);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    pt_parse_opts_t o = {.server_root = root};
    pt_startup_register();
    return pt_config_load(p, &o, err, sizeof(err));
}

static const struct {
    const char *code, *want;
} good[] = {
    {"A3600", "A3600"},
    {"M0", "M0"},
    {"access plus 1 month", "A2592000"},
    {"now plus 1 year", "A31536000"},
    {"access 1 day", "A86400"}, /* "plus" is optional */
    {"modification plus 1 hour 30 minutes", "M5400"},
    {"access plus 2 weeks 3 days 4 hours 5 minutes 6 seconds", "A1483506"},
    {"ACCESS PLUS 1 Month", "A2592000"},
    {"access plus 1 second", "A1"},
    {"access", "A0"},
    {"  access   plus  10   days ", "A864000"},
};

START_TEST(compiles_apaches_code_syntaxes_to_seconds)
{
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char out[32] = "";
        const char *why = pt_dcx_expires_code(good[i].code, out, sizeof(out));
        ck_assert_msg(why == NULL, "'%s': %s", good[i].code, why);
        ck_assert_msg(strcmp(out, good[i].want) == 0, "'%s' -> %s, want %s", good[i].code, out,
                      good[i].want);
    }
}
END_TEST

static const struct {
    const char *code, *why;
} bad[] = {
    {"", "missing <code>"},
    {"later plus 1 day", "unrecognised <base>"},
    {"access plus one day", "numeric value expected"},
    {"access plus 1", "missing <type>"},
    {"access plus 1 fortnight", "unrecognised <type>"},
    {"A", "unrecognised <base>"},
    {"A12x", "unrecognised <base>"},
    {"access plus 100 years", "too long"},
    {"A99999999999", "too long"},
};

START_TEST(refuses_bad_codes_with_the_reason)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[32];
        const char *why = pt_dcx_expires_code(bad[i].code, out, sizeof(out));
        ck_assert_msg(why && strstr(why, bad[i].why), "'%s': got %s, want %s", bad[i].code,
                      why ? why : "success", bad[i].why);
    }
}
END_TEST

START_TEST(directive_errors_name_the_line)
{
    pt_config_t *c = load("Listen 8080\nExpiresActive maybe\n");
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "main.conf:2: ExpiresActive must be On or Off"), "%s", err);
    c = load("Listen 8080\n\nExpiresDefault \"access plus 1 fortnight\"\n");
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "main.conf:3: ExpiresDefault: 'access plus 1 fortnight': bad "
                              "expires code, unrecognised <type>"), "%s", err);
    c = load("Listen 8080\nExpiresByType html \"access plus 1 day\"\n");
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "main.conf:2: ExpiresByType: 'html' is not a MIME type"), "%s",
                  err);
    c = load("Listen 8080\nExpiresDefault access plus 1 day\n");
    ck_assert_ptr_null(c); /* unquoted: four arguments, as Apache refuses it */
}
END_TEST

START_TEST(inner_sections_override_outer_ones_type_by_type)
{
    pt_config_t *c = load("Listen 8080\nExpiresActive On\nExpiresDefault A10\n"
                          "ExpiresByType text/css A20\nExpiresByType image/png A30\n"
                          "<Directory /srv/in>\nExpiresActive Off\nExpiresByType text/css M5\n"
                          "ExpiresByType text/css M6\n</Directory>\n");
    ck_assert_msg(c != NULL, "%s", err);
    pt_arena_t *a = pt_arena_create(4096);
    const pt_dir_config_t *out = pt_config_dir_for(a, c->main_server, "/srv/x/a", "/a");
    const pt_dir_config_t *in = pt_config_dir_for(a, c->main_server, "/srv/in/a", "/a");
    ck_assert_int_eq(out->expires_active, 2);
    ck_assert_int_eq(in->expires_active, 1);
    ck_assert_str_eq(in->expires_default, "A10");
    ck_assert_uint_eq(in->nexpires_by_type, 3);
    ck_assert_str_eq(in->expires_by_type[0].ext, "text/css"); /* inner first, replaced once */
    ck_assert_str_eq(in->expires_by_type[0].value, "M6");
    ck_assert_str_eq(in->expires_by_type[1].value, "A20");
    ck_assert_str_eq(out->expires_by_type[0].value, "A20");
    pt_arena_destroy(a);
    pt_config_free(c);
}
END_TEST

static Suite *expires_suite(void)
{
    Suite *s = suite_create("expires");
    TCase *tc = tcase_create("expires");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, compiles_apaches_code_syntaxes_to_seconds);
    tcase_add_test(tc, refuses_bad_codes_with_the_reason);
    tcase_add_test(tc, directive_errors_name_the_line);
    tcase_add_test(tc, inner_sections_override_outer_ones_type_by_type);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(expires_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
