/* Unit tests for reading .htaccess files (conf/htaccess_parse.c): the override class of
 * each directive as Apache documents it, what AllowOverride and AllowOverrideList admit,
 * Options=, Nonfatal=, and directives never allowed in a .htaccess file. */
#include "htaccess_parse.h"
#include "startup.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], file[128], err[2048];
static pt_config_t *cfg;

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/pthtunit.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char conf[128];
    snprintf(conf, sizeof(conf), "%s/main.conf", dir);
    FILE *f = fopen(conf, "w");
    fprintf(f, "Listen 127.0.0.1:8080\nServerName unit\nDocumentRoot %s\n", dir);
    fclose(f);
    pt_startup_register();
    cfg = pt_config_load(conf, NULL, err, sizeof(err));
    ck_assert_msg(cfg != NULL, "%s", err);
    snprintf(file, sizeof(file), "%s/.htaccess", dir);
}

static void teardown(void)
{
    pt_config_free(cfg);
    unlink(file);
    char conf[128];
    snprintf(conf, sizeof(conf), "%s/main.conf", dir);
    unlink(conf);
    rmdir(dir);
}

static pt_htaccess_t *parse(const char *text, const pt_dir_config_t *allowed)
{
    FILE *f = fopen(file, "w");
    fputs(text, f);
    fclose(f);
    err[0] = '\0';
    return pt_htaccess_parse(cfg, file, allowed, err, sizeof(err));
}

static void expect_refused(const char *text, const pt_dir_config_t *allowed, const char *msg)
{
    pt_htaccess_t *ht = parse(text, allowed);
    ck_assert_msg(ht == NULL, "'%s' was accepted", text);
    char want[512];
    snprintf(want, sizeof(want), "%s:%s", file, msg);
    ck_assert_str_eq(err, want);
}

START_TEST(each_directive_has_apaches_override_class)
{
    ck_assert_uint_eq(pt_htaccess_override_class("Require"), PT_OVR_AUTHCFG);
    ck_assert_uint_eq(pt_htaccess_override_class("authtype"), PT_OVR_AUTHCFG);
    ck_assert_uint_eq(pt_htaccess_override_class("Header"), PT_OVR_FILEINFO);
    ck_assert_uint_eq(pt_htaccess_override_class("RewriteRule"), PT_OVR_FILEINFO);
    ck_assert_uint_eq(pt_htaccess_override_class("DirectoryIndex"), PT_OVR_INDEXES);
    ck_assert_uint_eq(pt_htaccess_override_class("ExpiresByType"), PT_OVR_INDEXES);
    ck_assert_uint_eq(pt_htaccess_override_class("Order"), PT_OVR_LIMIT);
    ck_assert_uint_eq(pt_htaccess_override_class("Options"), PT_OVR_OPTIONS);
    ck_assert_uint_eq(pt_htaccess_override_class("SSLOptions"), PT_OVR_OPTIONS);
    ck_assert_uint_eq(pt_htaccess_override_class("<Files"), PT_OVR_ALL);
    ck_assert_uint_eq(pt_htaccess_override_class("LimitRequestBody"), PT_OVR_ALL);
    ck_assert_uint_eq(pt_htaccess_override_class("ProxyPass"), 0);
    ck_assert_uint_eq(pt_htaccess_override_class("DocumentRoot"), 0);
    ck_assert_uint_eq(pt_htaccess_override_class("<Directory"), 0);
}
END_TEST

START_TEST(allow_override_all_reads_the_file_into_a_directory_config)
{
    pt_dir_config_t all = {.overrides = PT_OVR_ALL, .override_opts = PT_OPT_INDEXES};
    pt_htaccess_t *ht = parse("DirectoryIndex a.html\nOptions +Indexes\nHeader set X y\n"
                              "<Files x.txt>\n  Require all denied\n</Files>\n", &all);
    ck_assert_msg(ht != NULL, "%s", err);
    ck_assert_uint_eq(ht->dc->ndir_index, 1);
    ck_assert_str_eq(ht->dc->dir_index[0], "a.html");
    ck_assert_uint_eq(ht->dc->options_add, PT_OPT_INDEXES);
    ck_assert_uint_eq(ht->dc->nheaders, 1);
    ck_assert_uint_eq(ht->nfiles, 1);
    ck_assert_str_eq(ht->files[0].pattern, "x.txt");
    ck_assert_ptr_nonnull(ht->files[0].conf->require);
    pt_htaccess_free(ht);
}
END_TEST

START_TEST(what_the_classes_do_not_admit_is_refused_with_the_line)
{
    pt_dir_config_t fileinfo = {.overrides = PT_OVR_FILEINFO};
    expect_refused("Header set X y\nRequire all denied\n", &fileinfo,
                   "2: Require not allowed here");
    expect_refused("\nNoSuch x\n", &fileinfo,
                   "2: Invalid command 'NoSuch', perhaps misspelled or defined by a module "
                   "not included in the server configuration");
    pt_dir_config_t all = {.overrides = PT_OVR_ALL, .override_opts = PT_OPT_INDEXES};
    expect_refused("ProxyPass / http://x/\n", &all, "1: ProxyPass not allowed here");
    expect_refused("<Directory /x>\n</Directory>\n", &all, "1: <Directory not allowed here");
    expect_refused("Options Indexes ExecCGI\n", &all, "1: Option ExecCGI not allowed here");
    expect_refused("Include /etc/passwd\n", &all, "1: Include not allowed here");
    expect_refused("Define X\n", &all, "1: Define not allowed here");
}
END_TEST

START_TEST(allow_override_list_and_nonfatal_admit_or_skip)
{
    static const char *list[] = {"Require"};
    pt_dir_config_t listed = {.override_list = list, .noverride_list = 1};
    pt_htaccess_t *ht = parse("Require all denied\n", &listed);
    ck_assert_msg(ht != NULL, "%s", err);
    ck_assert_ptr_nonnull(ht->dc->require);
    pt_htaccess_free(ht);
    expect_refused("Header set X y\n", &listed, "1: Header not allowed here");
    pt_dir_config_t nonfatal = {.overrides = PT_OVR_FILEINFO | PT_OVR_NONFATAL_OVERRIDE |
                                             PT_OVR_NONFATAL_UNKNOWN};
    ht = parse("Require all denied\nNoSuch x\nHeader set X y\n", &nonfatal);
    ck_assert_msg(ht != NULL, "%s", err);
    ck_assert_uint_eq(ht->nwarnings, 2);
    ck_assert_ptr_null(ht->dc->require);
    ck_assert_uint_eq(ht->dc->nheaders, 1);
    pt_htaccess_free(ht);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("htaccess");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, each_directive_has_apaches_override_class);
    tcase_add_test(tc, allow_override_all_reads_the_file_into_a_directory_config);
    tcase_add_test(tc, what_the_classes_do_not_admit_is_refused_with_the_line);
    tcase_add_test(tc, allow_override_list_and_nonfatal_admit_or_skip);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
