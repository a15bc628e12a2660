/* The rest of mod_mime with the real binary: AddCharset on Content-Type, AddLanguage and
 * DefaultLanguage as Content-Language (the fields Apache 2.4.71 sends for the same config,
 * compared by hand), RemoveType and RemoveHandler in a section, and a handler name nothing
 * provides in a .htaccess file (an error, as in the server config). */
#include "harness.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    pth_write_file(h, "doc.html.en", "en\n", 3);
    pth_write_file(h, "m.en.de.html", "ende\n", 5);
    pth_write_file(h, "x.txt.utf8", "utf8\n", 5);
    pth_write_file(h, "plain.txt", "plain\n", 6);
    pth_write_file(h, "up/a.ptst", "not status\n", 11);
    pth_write_file(h, "up/b.ptxx", "xx\n", 3);
    pth_write_file(h, "b.ptxx", "xx\n", 3);
    pth_write_file(h, "old/.htaccess", "AddHandler application/x-httpd-php .html\n", 41);
    pth_write_file(h, "old/index.html", "<?php echo 'secret'; ?>\n", 24);
    pth_config(h, "AddLanguage en .en\nAddLanguage de .de\nAddCharset UTF-8 .utf8\n"
                  "DefaultLanguage it\nAddHandler server-status .ptst\nAddType text/x-xx .ptxx\n"
                  "<Directory @DOCROOT@/up>\nRemoveHandler .ptst\nRemoveType .ptxx\n"
                  "</Directory>\n<Directory @DOCROOT@/old>\nAllowOverride FileInfo\n"
                  "</Directory>\n");
    pth_start(h);
}

static void teardown(void)
{
    pth_free(h);
    h = NULL;
}

static void expect(const char *path, const char *type, const char *lang)
{
    pth_resp_t r;
    pth_get(h, path, NULL, &r);
    ck_assert_msg(r.status == 200, "%s: %d", path, r.status);
    const char *t = pth_resp_header(&r, "Content-Type");
    const char *l = pth_resp_header(&r, "Content-Language");
    ck_assert_msg(t && strcmp(t, type) == 0, "%s: Content-Type %s, want %s", path, t, type);
    ck_assert_msg(lang ? l && strcmp(l, lang) == 0 : l == NULL, "%s: Content-Language %s, "
                  "want %s", path, l, lang);
    pth_resp_free(&r);
}

START_TEST(files_carry_the_charset_and_languages_of_their_extensions)
{
    expect("/doc.html.en", "text/html", "en");
    expect("/m.en.de.html", "text/html", "en,de");
    expect("/x.txt.utf8", "text/plain; charset=utf-8", "it");
    expect("/plain.txt", "text/plain", "it");
}
END_TEST

START_TEST(remove_handler_and_remove_type_undo_the_outer_lines_in_a_section)
{
    pth_resp_t r;
    pth_get(h, "/up/a.ptst", NULL, &r); /* inside: the file itself */
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "not status\n");
    pth_resp_free(&r);
    pth_get(h, "/a.ptst", NULL, &r); /* outside: the server-status handler */
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "Server") != NULL, "%.200s", r.body);
    pth_resp_free(&r);
    expect("/b.ptxx", "text/x-xx", "it");
    pth_get(h, "/up/b.ptxx", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    const char *t = pth_resp_header(&r, "Content-Type");
    ck_assert_msg(t == NULL || strcmp(t, "text/x-xx") != 0, "Content-Type %s", t);
    pth_resp_free(&r);
}
END_TEST

START_TEST(a_htaccess_handler_name_nothing_provides_is_a_500_not_the_source)
{
    pth_expect_error(h, "no part of portico handles the handler 'application/x-httpd-php'");
    pth_resp_t r;
    pth_get(h, "/old/index.html", NULL, &r);
    ck_assert_int_eq(r.status, 500);
    ck_assert_ptr_null(strstr(r.body, "secret"));
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(h->error_log, "old/.htaccess: no part of portico handles "
                                     "the handler 'application/x-httpd-php'", 5000));
}
END_TEST

static Suite *mime_tags_suite(void)
{
    Suite *s = suite_create("mime_tags");
    TCase *tc = tcase_create("mime_tags");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, files_carry_the_charset_and_languages_of_their_extensions);
    tcase_add_test(tc, remove_handler_and_remove_type_undo_the_outer_lines_in_a_section);
    tcase_add_test(tc, a_htaccess_handler_name_nothing_provides_is_a_500_not_the_source);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mime_tags_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
