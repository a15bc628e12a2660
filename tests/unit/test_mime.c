/* Unit tests for mime.c: mime.types parsing, the built-in fallback, and the per-directory
 * rules (ForceType, AddType, AddDefaultCharset). */
#include "mime.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pt_arena_t *A;
static char tmpl[64];

static void setup(void)
{
    A = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    tmpl[0] = '\0';
}

static void teardown(void)
{
    if (tmpl[0]) {
        unlink(tmpl);
    }
    pt_arena_destroy(A);
}

static const char *write_types(const char *text)
{
    snprintf(tmpl, sizeof(tmpl), "/tmp/pt_mime_XXXXXX");
    int fd = mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return tmpl;
}

static pt_mime_t *load_text(const char *text)
{
    char err[PT_ERRLEN] = "";
    pt_mime_t *m = pt_mime_load(A, write_types(text), err, sizeof(err));
    ck_assert_msg(m != NULL, "%s", err);
    return m;
}

START_TEST(parses_types_file_with_comments_and_blank_lines)
{
    pt_mime_t *m = load_text("# comment\n\n"
                             "text/html\t\thtml htm\n"
                             "application/x-thing   thing # trailing comment\n"
                             "application/x-noext\n"
                             "image/png png\r\n");
    ck_assert_str_eq(pt_mime_lookup(m, "html"), "text/html");
    ck_assert_str_eq(pt_mime_lookup(m, "htm"), "text/html");
    ck_assert_str_eq(pt_mime_lookup(m, "thing"), "application/x-thing");
    ck_assert_str_eq(pt_mime_lookup(m, "png"), "image/png");
    ck_assert_ptr_null(pt_mime_lookup(m, "comment"));
    ck_assert_ptr_null(pt_mime_lookup(m, "css"));
}
END_TEST

START_TEST(looks_up_extensions_case_insensitively)
{
    pt_mime_t *m = load_text("image/jpeg JPG jpeg\n");
    ck_assert_str_eq(pt_mime_lookup(m, "jpg"), "image/jpeg");
    ck_assert_str_eq(pt_mime_lookup(m, "JpEg"), "image/jpeg");
    ck_assert_str_eq(pt_mime_lookup(m, "JPG"), "image/jpeg");
    ck_assert_ptr_null(pt_mime_lookup(m, "jpe"));
    ck_assert_ptr_null(pt_mime_lookup(m, "JPEGS"));
    ck_assert_ptr_null(pt_mime_lookup(m, "jp\xc7"));
}
END_TEST

START_TEST(later_mapping_of_an_extension_wins)
{
    pt_mime_t *m = load_text("text/x-one dup\ntext/x-two dup\n");
    ck_assert_str_eq(pt_mime_lookup(m, "dup"), "text/x-two");
}
END_TEST

START_TEST(a_later_table_answers_for_itself_even_at_the_same_address)
{
    /* A thread keeps its last answer; a table of a new generation (here made where the old
     * one was, as after a graceful restart) must not get the old one's. */
    pt_mime_t *m = load_text("text/x-one dup\n");
    ck_assert_str_eq(pt_mime_lookup(m, "dup"), "text/x-one");
    ck_assert_ptr_null(pt_mime_lookup(m, "new"));
    unlink(tmpl);
    pt_arena_destroy(A);
    A = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    pt_mime_t *m2 = load_text("text/x-two dup\ntext/x-new new\n");
    ck_assert_str_eq(pt_mime_lookup(m2, "dup"), "text/x-two");
    ck_assert_str_eq(pt_mime_lookup(m2, "new"), "text/x-new");
    ck_assert_str_eq(pt_mime_lookup(m2, "DUP"), "text/x-two");
}
END_TEST

START_TEST(holds_many_types_after_growing)
{
    char *text = malloc(64 * 1000);
    size_t o = 0;
    for (int i = 0; i < 1000; i++) {
        o += (size_t)sprintf(text + o, "type/t%d e%d x%d\n", i, i, i);
    }
    pt_mime_t *m = load_text(text);
    free(text);
    for (int i = 0; i < 1000; i += 37) {
        char ext[16], want[32];
        snprintf(ext, sizeof(ext), "X%d", i);
        snprintf(want, sizeof(want), "type/t%d", i);
        ck_assert_str_eq(pt_mime_lookup(m, ext), want);
    }
    ck_assert_ptr_null(pt_mime_lookup(m, "e1000"));
}
END_TEST

START_TEST(refuses_a_line_without_a_type)
{
    char err[PT_ERRLEN] = "";
    const char *p = write_types("text/html html\nnotatype foo\n");
    ck_assert_ptr_null(pt_mime_load(A, p, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, ":2:"));
}
END_TEST

START_TEST(falls_back_to_builtin_table_when_file_is_missing)
{
    char err[PT_ERRLEN] = "";
    pt_mime_t *m = pt_mime_load(A, "/nonexistent/mime.types", err, sizeof(err));
    ck_assert_ptr_nonnull(m);
    static const char *const want[][2] = {
        {"html", "text/html"}, {"css", "text/css"}, {"js", "text/javascript"},
        {"mjs", "text/javascript"}, {"json", "application/json"}, {"png", "image/png"},
        {"JPG", "image/jpeg"}, {"svg", "image/svg+xml"}, {"woff2", "font/woff2"},
        {"wasm", "application/wasm"}, {"pdf", "application/pdf"}, {"mp4", "video/mp4"},
        {"avif", "image/avif"}, {"csv", "text/csv"}, {"map", "application/json"},
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(want); i++) {
        ck_assert_str_eq(pt_mime_lookup(m, want[i][0]), want[i][1]);
    }
    ck_assert_ptr_null(pt_mime_lookup(m, "nosuchext"));
    ck_assert_str_eq(pt_mime_lookup(NULL, "gif"), "image/gif");
}
END_TEST

START_TEST(reports_an_unreadable_file)
{
    char err[PT_ERRLEN] = "";
    /* A directory opens but cannot be read: an error, not the fallback. */
    pt_mime_t *m = pt_mime_load(A, "/", err, sizeof(err));
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err, "/"));
}
END_TEST

static pt_dir_config_t *dir(void)
{
    return pt_arena_calloc(A, sizeof(pt_dir_config_t));
}

START_TEST(types_a_file_by_its_last_known_extension)
{
    pt_mime_t *m = load_text("text/html html\nimage/png png\napplication/gzip gz\n");
    pt_dir_config_t *d = dir();
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/srv/a/index.html"), "text/html");
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/srv/a/index.HTML"), "text/html");
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/srv/a/page.html.en"), "text/html");
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/srv/a/x.png.gz"), "application/gzip");
    ck_assert_ptr_null(pt_mime_type_for(A, m, d, "/srv/a/README"));
    ck_assert_ptr_null(pt_mime_type_for(A, m, d, "/srv/x.png/README"));
    ck_assert_ptr_null(pt_mime_type_for(A, m, d, "/srv/a/trailing."));
    ck_assert_ptr_null(pt_mime_type_for(A, m, d, "/srv/a/html"));
}
END_TEST

START_TEST(leading_dots_belong_to_the_name_not_the_extension)
{
    /* mod_mime: ".dot" is a hidden file named dot, not a Graphviz file. */
    pt_mime_t *m = load_text("text/vnd.graphviz gv dot\ntext/plain txt\n");
    pt_dir_config_t *d = dir();
    ck_assert_ptr_null(pt_mime_type_for(A, m, d, "/srv/a/.dot"));
    ck_assert_ptr_null(pt_mime_type_for(A, m, d, "/srv/a/..dot"));
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/srv/a/.dot.txt"), "text/plain");
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/srv/a/x.dot"), "text/vnd.graphviz");
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/srv/a/x..txt"), "text/plain");
}
END_TEST

START_TEST(addtype_overrides_the_table_for_its_extension)
{
    pt_mime_t *m = load_text("text/html html\ntext/plain txt\n");
    pt_dir_config_t *d = dir();
    static const pt_ext_map_t types[] = {{"txt", "text/x-custom", NULL},
                                         {"txt", "text/x-outer", NULL},
                                         {"foo", "application/x-foo", NULL}};
    d->types = types;
    d->ntypes = 3;
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a/b.txt"), "text/x-custom");
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a/b.TXT"), "text/x-custom");
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a/b.foo"), "application/x-foo");
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a/b.html.foo"), "application/x-foo");
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a/b.foo.html"), "text/html");
}
END_TEST

START_TEST(forcetype_wins_over_everything)
{
    pt_mime_t *m = load_text("text/html html\n");
    pt_dir_config_t *d = dir();
    d->default_type = "application/x-forced";
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a/b.html"), "application/x-forced");
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a/noext"), "application/x-forced");
    d->default_type = "None";
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a/b.html"), "text/html");
}
END_TEST

START_TEST(adds_default_charset_to_text_plain_and_html_only)
{
    pt_mime_t *m = load_text("text/html html\ntext/plain txt\ntext/css css\n");
    pt_dir_config_t *d = dir();
    d->default_charset = "UTF-8";
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a.html"), "text/html; charset=UTF-8");
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a.txt"), "text/plain; charset=UTF-8");
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a.css"), "text/css");
    d->default_charset = "";
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a.html"), "text/html");
    d->default_charset = NULL;
    ck_assert_str_eq(pt_mime_type_for(A, m, d, "/a.txt"), "text/plain");
    ck_assert_str_eq(pt_mime_type_for(A, m, NULL, "/a.txt"), "text/plain");
}
END_TEST

static Suite *mime_suite(void)
{
    Suite *s = suite_create("mime");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, parses_types_file_with_comments_and_blank_lines);
    tcase_add_test(tc, looks_up_extensions_case_insensitively);
    tcase_add_test(tc, later_mapping_of_an_extension_wins);
    tcase_add_test(tc, a_later_table_answers_for_itself_even_at_the_same_address);
    tcase_add_test(tc, holds_many_types_after_growing);
    tcase_add_test(tc, refuses_a_line_without_a_type);
    tcase_add_test(tc, falls_back_to_builtin_table_when_file_is_missing);
    tcase_add_test(tc, reports_an_unreadable_file);
    tcase_add_test(tc, types_a_file_by_its_last_known_extension);
    tcase_add_test(tc, leading_dots_belong_to_the_name_not_the_extension);
    tcase_add_test(tc, addtype_overrides_the_table_for_its_extension);
    tcase_add_test(tc, forcetype_wins_over_everything);
    tcase_add_test(tc, adds_default_charset_to_text_plain_and_html_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mime_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
