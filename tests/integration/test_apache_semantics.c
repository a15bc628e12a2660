/* The same config must mean the same thing as in Apache httpd 2.4: each test states what
 * Debian's apache2 does with the config it writes (checked side by side), and that portico
 * does the same. Sections stored while nested ones are read, Redirect and RedirectMatch
 * targets, ErrorDocument for every method, Header's two tables, ServerSignature. */
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_MS 10000

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "index.html", "hello index\n");
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

/* ---- Sections -------------------------------------------------------------------------- */

/* A <Files> nested in the 3rd, 4th, 8th... section of a host used to be stored into an
 * array that the nested section had moved: -t said Syntax OK and crashed, and every child
 * crashed on its first request. */
static void write_many_sections(int before)
{
    char body[8192] = "";
    for (int i = 0; i < before; i++)
        snprintf(body + strlen(body), sizeof(body) - strlen(body),
                 "<Location /l%d>\n</Location>\n", i);
    pth_config(h, "%s<Directory @DOCROOT@/y>\n <Files a>\n  Require all denied\n </Files>\n"
                  " <FilesMatch \\.txt$>\n  Header set X-Txt yes\n </FilesMatch>\n"
                  "</Directory>\n", body);
}

START_TEST(config_test_passes_with_files_nested_after_many_sections)
{
    for (int before = 0; before <= 17; before++) {
        write_many_sections(before);
        pth_run_t r;
        pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
        ck_assert_msg(r.code == 0 && strstr(r.err, "Syntax OK"),
                      "%d sections before: exit %d, stdout %s, stderr %s", before, r.code,
                      r.out, r.err);
        pth_run_free(&r);
    }
}
END_TEST

/* With the prelude's <Directory>, the 3rd and 7th <Location> put <Directory /y> 4th and
 * 8th: its <Files> is pushed as the array grows. */
START_TEST(files_nested_in_the_fourth_and_eighth_section_apply_to_requests)
{
    pth_write_filef(h, "y/a", "secret\n");
    pth_write_filef(h, "y/b.txt", "text\n");
    pth_expect_error(h, "AH01630: client denied by server configuration: .*/y/a");
    for (int before = 2; before <= 6; before += 4) {
        write_many_sections(before);
        pth_start(h);
        pth_resp_t r;
        pth_get(h, "/y/a", NULL, &r);
        ck_assert_int_eq(r.status, 403);
        pth_resp_free(&r);
        pth_get(h, "/y/b.txt", NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(pth_resp_header(&r, "X-Txt"), "yes");
        pth_resp_free(&r);
        ck_assert_int_eq(pth_stop(h), 0);
    }
}
END_TEST

static Suite *apache_semantics_suite(void)
{
    Suite *s = suite_create("apache semantics");
    TCase *tc = tcase_create("configuration");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, config_test_passes_with_files_nested_after_many_sections);
    tcase_add_test(tc, files_nested_in_the_fourth_and_eighth_section_apply_to_requests);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(apache_semantics_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
