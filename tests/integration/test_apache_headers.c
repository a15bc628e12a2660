/* Header fields, Content-Type and bodies as Apache httpd 2.4 sends them for the same config:
 * each test states what Debian's apache2 answered (checked side by side with
 * tests/differential's --repro) and that portico answers the same. */
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The values of every field named name, in the order sent, joined by ", " (static). */
static const char *joined(const pth_resp_t *r, const char *name)
{
    static char buf[512];
    buf[0] = '\0';
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) != 0)
            continue;
        if (buf[0])
            strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
        strncat(buf, r->headers[i].value, sizeof(buf) - strlen(buf) - 1);
    }
    return buf;
}

/* ---- Order of the two tables -------------------------------------------------------------- */

/* Apache's header filter overlays headers_out on err_headers_out: the always table's fields
 * go out first, whatever order the rules were written in. */
START_TEST(header_always_fields_go_out_before_the_plain_ones)
{
    pth_write_filef(h, "d/f.txt", "hi\n");
    pth_config(h, "Header set X-S ok\nHeader always set X-S srv\n"
                  "<Directory @DOCROOT@/d>\n Header always set X-T b10\n"
                  " Header append X-T p11\n</Directory>\n");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/d/f.txt", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(joined(&r, "X-S"), "srv, ok");
    ck_assert_str_eq(joined(&r, "X-T"), "b10, p11");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* mod_headers merges a child's rules after its parent's, and the per-dir configs merge
 * server, <Directory> (shortest first), <DirectoryMatch>, <Files> (outer, then nested),
 * <Location>: with append, the field lists them in that order (as apache2 sent it). */
START_TEST(header_rules_of_every_section_apply_in_apaches_merge_order)
{
    pth_write_filef(h, "sub/page.html", "page\n");
    pth_write_filef(h, "sub/index.html", "index\n");
    pth_config(h, "<Directory @DOCROOT@>\n Header append X-T1 dir\n"
                  " Header always append X-T2 dir\n</Directory>\n"
                  "Header append X-T1 srv\nHeader always append X-T2 srv\n"
                  "<Location /sub>\n Header append X-T1 loc\n Header always append X-T2 loc\n"
                  "</Location>\n"
                  "<Files page.html>\n Header append X-T1 files\n"
                  " Header always append X-T2 files\n</Files>\n"
                  "<Directory @DOCROOT@/sub>\n Header append X-T1 sub\n"
                  " Header always append X-T2 sub\n"
                  " <Files page.html>\n  Header append X-T1 nfiles\n </Files>\n</Directory>\n"
                  "<DirectoryMatch /sub>\n Header append X-T1 dm\n</DirectoryMatch>\n");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/sub/page.html", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(joined(&r, "X-T1"), "srv, dir, sub, dm, files, nfiles, loc");
    ck_assert_str_eq(joined(&r, "X-T2"), "srv, dir, sub, files, loc");
    pth_resp_free(&r);
    pth_get(h, "/sub/nothere", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(joined(&r, "X-T1"), "");
    ck_assert_str_eq(joined(&r, "X-T2"), "srv, dir, sub, loc");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* Apache keeps the <Files> sections in a list per directory config, and merging a
 * <Directory> appends its nested ones to the server's: a nested <Files> applies after a
 * top-level one even when the top-level one comes later in the file (apache2: X-T1 nested). */
START_TEST(a_nested_files_section_applies_after_a_later_top_level_one)
{
    pth_write_filef(h, ".env", "env\n");
    pth_config(h, "<Directory @DOCROOT@>\n <FilesMatch \"\\.(bak|env)$\">\n"
                  "  Header always set X-T1 nested\n </FilesMatch>\n</Directory>\n"
                  "<Files .env>\n Header always set X-T1 top\n</Files>\n");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/.env", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(joined(&r, "X-T1"), "nested");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- Which request answers an error --------------------------------------------------------- */

/* mod_dir looks an index file or a FallbackResource up in a subrequest; when the lookup
 * fails (here: denied), the directory's or the missing file's request answers the error
 * with its own config. The index's <Files> Header and ErrorDocument do not apply. */
START_TEST(a_denied_index_or_fallback_is_answered_with_the_requests_own_config)
{
    pth_write_filef(h, "sub/index.html", "sub index\n");
    pth_write_filef(h, "priv/a.txt", "a\n");
    pth_config(h, "<Location /priv>\n FallbackResource /index.html\n</Location>\n"
                  "<Files index.html>\n Require all denied\n Header always set X-T1 b31\n"
                  " ErrorDocument 403 files403\n</Files>\n"
                  "<Directory @DOCROOT@/sub>\n Header always set X-T2 sub\n"
                  " ErrorDocument 403 sub403\n</Directory>\n");
    pth_expect_error(h, "AH01630: client denied by server configuration");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/sub/", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_ptr_null(pth_resp_header(&r, "X-T1"));
    ck_assert_str_eq(joined(&r, "X-T2"), "sub");
    ck_assert_str_eq(r.body, "sub403");
    pth_resp_free(&r);
    pth_get(h, "/priv/nothere.txt", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_ptr_null(pth_resp_header(&r, "X-T1"));
    pth_resp_free(&r);
    /* Asked for directly, the file's own config answers. */
    pth_get(h, "/index.html", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(joined(&r, "X-T1"), "b31");
    ck_assert_str_eq(r.body, "files403");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* Apache's directory walk refuses a symlink (Options without FollowSymLinks) before any
 * section's config becomes the request's (ap_process_request_internal resets to the server's
 * config before map_to_storage, and the location walk runs after it): the 403 carries the
 * server's config only, neither the <Directory> holding the link nor <Location> (checked with
 * apache2 2.4.71). */
START_TEST(a_refused_symlink_is_answered_with_the_server_config)
{
    pth_write_filef(h, "target.txt", "t\n");
    char link[400];
    snprintf(link, sizeof(link), "%s/link.txt", h->docroot);
    ck_assert_int_eq(symlink("target.txt", link), 0);
    pth_config(h, "Options -FollowSymLinks\n"
                  "<Directory @DOCROOT@>\n Header always set X-T2 a10\n"
                  " ErrorDocument 403 dir403\n</Directory>\n"
                  "<Location />\n Header always set X-L loc\n</Location>\n");
    pth_expect_error(h, "AH00037|Symbolic link not allowed");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/link.txt", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_ptr_null(pth_resp_header(&r, "X-T2"));
    ck_assert_ptr_null(pth_resp_header(&r, "X-L"));
    ck_assert_ptr_null(strstr(r.body, "dir403"));
    pth_resp_free(&r);
    /* A dangling link and a missing name under a refused link directory: the same. */
    snprintf(link, sizeof(link), "%s/broken.txt", h->docroot);
    ck_assert_int_eq(symlink("nothere", link), 0);
    pth_mkdir(h, "realdir");
    snprintf(link, sizeof(link), "%s/linkdir", h->docroot);
    ck_assert_int_eq(symlink("realdir", link), 0);
    const char *refused[] = {"/broken.txt", "/linkdir/missing"};
    for (int i = 0; i < 2; i++) {
        pth_get(h, refused[i], NULL, &r);
        ck_assert_int_eq(r.status, 403);
        ck_assert_msg(!pth_resp_header(&r, "X-T2"), "%s has X-T2", refused[i]);
        ck_assert_msg(!pth_resp_header(&r, "X-L"), "%s has X-L", refused[i]);
        pth_resp_free(&r);
    }
    /* The file itself: the directory's config. */
    pth_get(h, "/nothere.txt", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(joined(&r, "X-T2"), "a10");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* mod_dir's fallback lookup reuses the walk of the missing name's request when the fallback
 * is in the directory where that walk stopped: for /rm2/z with no rm2 it stopped in the
 * document root, so a <Directory> naming /index.html itself does not apply (apache2: no
 * X-T1), while asked for directly it does; for /sub/zz it stopped in sub/, so it applies. */
START_TEST(a_fallback_reuses_the_walk_that_stopped_at_the_first_missing_name)
{
    pth_write_filef(h, "sub/a.txt", "a\n");
    pth_config(h, "FallbackResource /index.html\n"
                  "<Directory @DOCROOT@/index.html>\n Header set X-T1 s11\n</Directory>\n");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/rm2/z", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "hello index\n");
    ck_assert_ptr_null(pth_resp_header(&r, "X-T1"));
    pth_resp_free(&r);
    pth_get(h, "/zz", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(pth_resp_header(&r, "X-T1"));
    pth_resp_free(&r);
    pth_get(h, "/sub/zz", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(joined(&r, "X-T1"), "s11");
    pth_resp_free(&r);
    pth_get(h, "/index.html", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(joined(&r, "X-T1"), "s11");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* Apache uses FallbackResource for a directory only through mod_dir's subrequest for an
 * index candidate: with DirectoryIndex disabled there is none, so the directory is listed
 * (Options Indexes) or refused (403), as apache2 answered. */
START_TEST(directory_index_disabled_means_no_fallback_for_the_directory)
{
    pth_write_filef(h, "list/x.txt", "x\n");
    pth_write_filef(h, "nolist/x.txt", "x\n");
    pth_config(h, "FallbackResource /index.html\nDirectoryIndex disabled\n"
                  "<Directory @DOCROOT@/list>\n Options +Indexes\n</Directory>\n");
    pth_expect_error(h, "AH01276");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/list/", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "x.txt"));
    pth_resp_free(&r);
    pth_get(h, "/nolist/", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    pth_resp_free(&r);
    /* A missing file still gets the fallback. */
    pth_get(h, "/nolist/nothere", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "hello index\n");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
    /* With index candidates, the first missing one's subrequest meets the fallback: a
     * directory without an index serves it (apache2: 200 with /index.html, listing or not;
     * portico does not look for later candidates then, README fallback-not-for-index). */
    pth_config(h, "FallbackResource /index.html\n"
                  "<Directory @DOCROOT@/list>\n Options +Indexes\n</Directory>\n");
    pth_start(h);
    const char *dirs[] = {"/list/", "/nolist/"};
    for (int i = 0; i < 2; i++) {
        pth_get(h, dirs[i], NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, "hello index\n");
        pth_resp_free(&r);
    }
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* mod_autoindex lists an entry only when its subrequest gets 2xx or 3xx: a section's
 * "Redirect gone" (410) that the entry's URL meets hides it, a 3xx one does not. The
 * subrequest starts from the file, past the URL translation, so a server-level Redirect does
 * not apply (as apache2 listed). */
START_TEST(a_listing_hides_entries_a_redirect_makes_gone)
{
    pth_write_filef(h, "d/f.txt", "f\n");
    pth_write_filef(h, "d/g.html", "g\n");
    pth_write_filef(h, "d/old.html", "o\n");
    pth_write_filef(h, "d/moved.html", "m\n");
    pth_write_filef(h, "d/sec.html", "s\n");
    pth_config(h, "<Directory @DOCROOT@/d>\n Options +Indexes\n"
                  " Redirect gone /d/sec.html\n"
                  " Redirect /d/moved.html http://example.com/m\n</Directory>\n"
                  "<LocationMatch \\.txt$>\n Redirect 410\n</LocationMatch>\n"
                  "Redirect gone /d/old.html\n");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/d/", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(strstr(r.body, "f.txt"));
    ck_assert_ptr_null(strstr(r.body, "sec.html"));
    ck_assert_ptr_nonnull(strstr(r.body, "old.html"));
    ck_assert_ptr_nonnull(strstr(r.body, "g.html"));
    ck_assert_ptr_nonnull(strstr(r.body, "moved.html"));
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* A local ErrorDocument whose own request fails (here: denied too) leaves the plain page
 * for the original status, and Apache's ap_die makes that page for the first failing
 * request: its config's Header always rules apply, not the document's. (Found by the
 * differential test, seed 20569.) */
START_TEST(a_failed_error_document_leaves_the_page_of_the_first_request_with_its_headers)
{
    pth_write_filef(h, "sub/a.txt", "a\n");
    pth_write_filef(h, "errors/403.html", "doc\n");
    pth_config(h, "<Directory @DOCROOT@/sub>\n Require all denied\n"
                  " Header always set X-T2 a51\n ErrorDocument 403 /errors/403.html\n"
                  "</Directory>\n"
                  "<Directory @DOCROOT@/errors>\n Require all denied\n"
                  " Header always set X-E err\n</Directory>\n");
    pth_expect_error(h, "AH01630: client denied by server configuration");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/sub/a.txt", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(joined(&r, "X-T2"), "a51");
    ck_assert_ptr_null(pth_resp_header(&r, "X-E"));
    ck_assert_ptr_null(strstr(r.body, "doc"));
    ck_assert_ptr_nonnull(strstr(r.body, "Forbidden"));
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

static Suite *apache_headers_suite(void)
{
    Suite *s = suite_create("apache headers");
    TCase *tc = tcase_create("headers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, header_always_fields_go_out_before_the_plain_ones);
    tcase_add_test(tc, header_rules_of_every_section_apply_in_apaches_merge_order);
    tcase_add_test(tc, a_nested_files_section_applies_after_a_later_top_level_one);
    tcase_add_test(tc, a_denied_index_or_fallback_is_answered_with_the_requests_own_config);
    tcase_add_test(tc, a_refused_symlink_is_answered_with_the_server_config);
    tcase_add_test(tc,
                   a_failed_error_document_leaves_the_page_of_the_first_request_with_its_headers);
    tcase_add_test(tc, a_fallback_reuses_the_walk_that_stopped_at_the_first_missing_name);
    tcase_add_test(tc, directory_index_disabled_means_no_fallback_for_the_directory);
    tcase_add_test(tc, a_listing_hides_entries_a_redirect_makes_gone);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(apache_headers_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
