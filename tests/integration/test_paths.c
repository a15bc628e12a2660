/* URL-to-file mapping and the access rules that hang on it, each checked against what Debian's
 * apache2 answers for the same config: canonical file names after Alias targets, Options'
 * symlink rules for FastCGI scripts (real php-fpm), listings that hide what access control
 * denies, wildcard <Directory>, <Files> under a missing directory, "/../" above the root,
 * leading dots in MIME lookups, and the open-file cache after a delete or a replace. */
#include "fcgi_backends.h"
#include "harness.h"

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pth_t *h;
static pth_fpm_t fpm; /* shared by the FastCGI case (unchecked fixture) */

static void setup(void)
{
    h = pth_new();
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

#define START(...)                                                                         \
    do {                                                                                   \
        pth_config(h, __VA_ARGS__);                                                        \
        pth_start(h);                                                                      \
    } while (0)

static pth_resp_t get(const char *path, int status)
{
    pth_resp_t r;
    pth_get(h, path, NULL, &r);
    ck_assert_msg(r.status == status, "GET %s: status %d, want %d; body: %.300s", path,
                  r.status, status, r.body);
    return r;
}

static void expect(const char *path, int status)
{
    pth_resp_t r = get(path, status);
    pth_resp_free(&r);
}

static void get_body(const char *path, const char *body)
{
    pth_resp_t r = get(path, 200);
    ck_assert_msg(strcmp(r.body, body) == 0, "GET %s body: %s", path, r.body);
    pth_resp_free(&r);
}

/* DOCROOT/rel -> target (absolute, or relative to the link's directory). */
static void make_link(const char *target, const char *rel)
{
    char link[600];
    snprintf(link, sizeof(link), "%s/%s", h->docroot, rel);
    ck_assert_msg(symlink(target, link) == 0, "symlink %s", link);
}

/* ---- Mapping ------------------------------------------------------------------------ */

START_TEST(alias_targets_with_a_trailing_slash_or_dot_stay_under_their_directory_sections)
{
    pth_write_dir_file(h, "dir/private/s.txt", "SECRET\n", 7);
    pth_write_dir_file(h, "dir/pub.txt", "pub\n", 4);
    START("Alias \"/files\" \"@DIR@/dir/\"\n"
          "Alias \"/dotted\" \"@DIR@/./dir/\"\n"
          "AliasMatch \"^/am/(.*)$\" \"@DIR@/dir//$1\"\n"
          "<Directory \"@DIR@/dir\">\n  Require all granted\n</Directory>\n"
          "<Directory \"@DIR@/dir/private\">\n  Require all denied\n</Directory>\n");
    pth_expect_error(h, "AH01630");
    expect("/files/private/s.txt", 403);
    expect("/dotted/private/s.txt", 403);
    expect("/am/private/s.txt", 403);
    get_body("/files/pub.txt", "pub\n");
    get_body("/am/pub.txt", "pub\n");
}
END_TEST

START_TEST(dot_segments_above_the_root_get_400)
{
    pth_write_filef(h, "top.txt", "top\n");
    START("\n");
    expect("/../top.txt", 400);
    expect("/a/../../top.txt", 400);
    expect("/%2e%2e/top.txt", 400);
    get_body("/a/../top.txt", "top\n");
}
END_TEST

START_TEST(a_name_with_a_leading_dot_has_no_extension_type)
{
    pth_write_filef(h, ".dot", "digraph\n");
    pth_write_filef(h, "g.dot", "digraph\n");
    START("TypesConfig /etc/mime.types\n");
    pth_resp_t r = get("/.dot", 200);
    const char *ct = pth_resp_header(&r, "Content-Type");
    ck_assert_msg(ct == NULL || strstr(ct, "graphviz") == NULL, "/.dot Content-Type: %s", ct);
    pth_resp_free(&r);
    r = get("/g.dot", 200);
    ct = pth_resp_header(&r, "Content-Type");
    ck_assert_msg(ct && strstr(ct, "graphviz"), "/g.dot Content-Type: %s", ct ? ct : "-");
    pth_resp_free(&r);
}
END_TEST

/* ---- Sections ----------------------------------------------------------------------- */

START_TEST(wildcard_directory_applies_to_directories_below_and_not_to_missing_names)
{
    pth_write_dir_file(h, "wc/sub/f.txt", "f\n", 2);
    pth_write_dir_file(h, "wc/top.txt", "top\n", 4);
    START("Alias \"/wc\" \"@DIR@/wc\"\n"
          "<Directory \"@DIR@/wc\">\n  Options Indexes\n  Require all granted\n</Directory>\n"
          "<Directory \"@DIR@/wc/*\">\n  Require all denied\n</Directory>\n");
    pth_expect_error(h, "AH01630");
    expect("/wc/sub/", 403); /* the listing of a denied directory */
    expect("/wc/sub", 403);
    expect("/wc/sub/f.txt", 403);
    get_body("/wc/top.txt", "top\n");
    expect("/wc/nope", 404);
    expect("/wc/nope/x", 404);
    pth_resp_t r = get("/wc/", 200);
    ck_assert_msg(strstr(r.body, "top.txt") && !strstr(r.body, "sub/"), "listing: %s", r.body);
    pth_resp_free(&r);
}
END_TEST

START_TEST(files_under_a_missing_directory_match_its_first_missing_name)
{
    pth_write_filef(h, "secret.txt", "secret\n");
    START("<Files secret.txt>\n  Require all denied\n</Files>\n"
          "<Files nodir>\n  Require all denied\n</Files>\n");
    pth_expect_error(h, "AH01630");
    expect("/secret.txt", 403);
    expect("/nodir2/secret.txt", 404);
    expect("/nodir/secret.txt", 403);
}
END_TEST

/* ---- Listings ----------------------------------------------------------------------- */

START_TEST(a_listing_hides_what_a_request_for_it_would_not_get)
{
    pth_write_filef(h, "lst/.env", "DB_PASSWORD=x\n");
    pth_write_filef(h, "lst/a.bak", "old\n");
    pth_write_filef(h, "lst/ok.txt", "ok\n");
    pth_write_filef(h, "lst/hid/h.txt", "h\n");
    pth_write_filef(h, "lst/open/o.txt", "o\n");
    pth_write_dir_file(h, "outside.txt", "OUTSIDE-12345\n", 14);
    make_link(pth_path(h, "outside.txt"), "lst/link.txt");
    make_link(pth_path(h, "no-such-file"), "lst/dangling.txt");
    START("<Directory \"@DOCROOT@/lst\">\n  Options Indexes\n</Directory>\n"
          "<Directory \"@DOCROOT@/lst/hid\">\n  Require all denied\n</Directory>\n"
          "<Files .env>\n  Require all denied\n</Files>\n"
          "<FilesMatch \"\\.bak$\">\n  Require all denied\n</FilesMatch>\n");
    pth_expect_error(h, "AH01630"); /* each denied entry's lookup, as Apache's subrequests */
    pth_resp_t r = get("/lst/", 200);
    ck_assert_msg(strstr(r.body, "ok.txt") && strstr(r.body, "open/"), "listing: %s", r.body);
    static const char *const hidden[] = {".env", "a.bak", "hid", "link.txt", "dangling"};
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
        ck_assert_msg(!strstr(r.body, hidden[i]), "%s listed: %s", hidden[i], r.body);
    ck_assert_msg(!strstr(r.body, ">14<"), "the link target's size shows: %s", r.body);
    pth_resp_free(&r);
}
END_TEST

/* Without any <FilesMatch "^\.ht"> rule (Apache's stock configs have one), .htaccess,
 * .htpasswd and the AccessFileName files are 403 and left out of listings, even where the
 * sections grant everything. */
START_TEST(per_directory_config_and_ht_files_are_never_served)
{
    pth_write_filef(h, "p/.htaccess", "Require all granted\n");
    pth_write_filef(h, "p/.htpasswd", "admin:$apr1$x$y\n");
    pth_write_filef(h, "p/.htgroup", "admins: admin\n");
    pth_write_filef(h, "p/.acl", "Require all granted\n");
    pth_write_filef(h, "p/ok.txt", "ok\n");
    pth_write_filef(h, "v/.acl", "x\n");
    START("<Directory \"@DOCROOT@\">\n  Options Indexes\n  Require all granted\n"
          "</Directory>\n<Files \".ht*\">\n  Require all granted\n</Files>\n");
    pth_expect_error(h, "AH01630: client denied by server configuration: .*/p/\\.ht");
    static const char *const denied[] = {"/p/.htaccess", "/p/.htpasswd", "/p/.htgroup",
                                         "/p/.HTpasswd/../.htpasswd"};
    for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
        expect(denied[i], 403);
    get_body("/p/ok.txt", "ok\n");
    get_body("/p/.acl", "Require all granted\n"); /* not an AccessFileName here */
    pth_resp_t r = get("/p/", 200);
    ck_assert_msg(strstr(r.body, "ok.txt") && !strstr(r.body, ".ht"), "listing: %s", r.body);
    pth_resp_free(&r);
    pth_stop(h);
    /* AccessFileName names its own files, in a virtual host too. */
    START("AccessFileName .acl .htaccess\n<Directory \"@DOCROOT@\">\n  Require all granted\n"
          "</Directory>\n");
    pth_expect_error(h, "AH01630: client denied by server configuration: .*/(p|v)/\\.(ht|acl)");
    expect("/p/.acl", 403);
    expect("/v/.acl", 403);
    expect("/p/.htaccess", 403);
    get_body("/p/ok.txt", "ok\n");
}
END_TEST

START_TEST(a_listing_shows_an_allowed_link_with_its_target_and_hides_a_foreign_one)
{
    ck_assert_msg(geteuid() == 0, "this test needs root to chown a link");
    pth_write_filef(h, "lst/ok.txt", "ok\n");
    pth_write_dir_file(h, "outside.txt", "OUTSIDE-12345\n", 14);
    make_link(pth_path(h, "outside.txt"), "lst/mine.txt");
    make_link(pth_path(h, "outside.txt"), "lst/theirs.txt");
    ck_assert_int_eq(lchown(pth_path(h, "htdocs/lst/theirs.txt"), 65534, 65534), 0);
    START("<Directory \"@DOCROOT@/lst\">\n  Options Indexes SymLinksIfOwnerMatch\n"
          "</Directory>\n");
    pth_resp_t r = get("/lst/", 200);
    ck_assert_msg(strstr(r.body, "mine.txt") && strstr(r.body, ">14<"), "listing: %s", r.body);
    ck_assert_msg(!strstr(r.body, "theirs.txt"), "listing: %s", r.body);
    pth_resp_free(&r);
}
END_TEST

/* ---- Symlinks for static files ------------------------------------------------------- */

START_TEST(a_linked_directory_on_the_way_is_refused_without_follow_symlinks)
{
    pth_write_dir_file(h, "real/f.txt", "REAL\n", 5);
    make_link(pth_path(h, "real"), "lnk");
    START("<Directory @DOCROOT@>\n  Options -FollowSymLinks\n</Directory>\n");
    pth_expect_error(h, "AH00037");
    pth_resp_t r = get("/lnk/f.txt", 403);
    ck_assert(strstr(r.body, "REAL") == NULL);
    pth_resp_free(&r);
}
END_TEST

/* The check-then-open race: a directory on the way is swapped (atomically, RENAME_EXCHANGE)
 * with a link to a secret directory while requests run. A walk that checks with lstat and
 * then opens by path can follow the link; openat(O_NOFOLLOW) component by component cannot. */
typedef struct {
    const char *a, *b;
    _Atomic bool stop; /* volatile is no synchronization: TSan reports it as a race */
    long swaps;
} swapper_t;

static void *swap_loop(void *arg)
{
    swapper_t *s = arg;
    while (!s->stop) {
        if (renameat2(AT_FDCWD, s->a, AT_FDCWD, s->b, RENAME_EXCHANGE) == 0)
            s->swaps++;
    }
    return NULL;
}

/* Runs the race for 2 s: the docroot's names a and b are exchanged in a loop while url
 * is requested. Each answer must be 200 with "public\n" or 403; the link's target
 * ("SECRET") must never be served. Both answers must have come, and swaps made. */
static void swap_race(const char *a_name, const char *b_name, const char *url, int *served,
                      int *refused)
{
    char a[600], b[600];
    snprintf(a, sizeof(a), "%s/%s", h->docroot, a_name);
    snprintf(b, sizeof(b), "%s/%s", h->docroot, b_name);
    swapper_t sw = {.a = a, .b = b};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, swap_loop, &sw), 0);
    int leaked = 0;
    *served = *refused = 0;
    int64_t end = pth_now_ms() + 2000;
    while (pth_now_ms() < end && leaked == 0) {
        pth_resp_t r;
        pth_get(h, url, NULL, &r);
        if (r.body && strstr(r.body, "SECRET"))
            leaked++;
        else if (r.status == 200)
            pth_assert_msg(strcmp(r.body, "public\n") == 0, "GET %s body: %s", url, r.body);
        else if (r.status != 403)
            ck_abort_msg("GET %s: status %d", url, r.status);
        *served += r.status == 200;
        *refused += r.status == 403;
        pth_resp_free(&r);
    }
    sw.stop = true;
    pthread_join(t, NULL);
    ck_assert_msg(leaked == 0, "the link's target was served (%d served, %d refused)", *served,
                  *refused);
    ck_assert_msg(*served > 0 && *refused > 0 && sw.swaps > 0,
                  "the race did not run: %d served, %d refused, %ld swaps", *served, *refused,
                  sw.swaps);
}

START_TEST(a_directory_swapped_for_a_link_during_requests_never_serves_the_target)
{
    pth_write_filef(h, "d/f.txt", "public\n");
    pth_write_dir_file(h, "secret/f.txt", "SECRET\n", 7);
    make_link(pth_path(h, "secret"), "dl");
    START("<Directory @DOCROOT@>\n  Options -FollowSymLinks\n</Directory>\n");
    pth_expect_error(h, "AH00037");
    int served, refused;
    swap_race("d", "dl", "/d/f.txt", &served, &refused);
}
END_TEST

/* The same race on the file itself: f.txt is swapped with a link to a secret file outside
 * the DocumentRoot. The open of the last name (O_RDONLY|O_NOFOLLOW) fails on the link; what
 * the name holds then must be told from a descriptor, not by a second look by name that a
 * swap back answers with the file: a walk that retried a few times and then answered the
 * open's error gave a 403 for the public file with no log line saying why. So each 403 must
 * be a refused link, logged (AH00037), and each 200 the public file. */
START_TEST(a_file_swapped_for_a_link_during_requests_is_served_or_refused_as_a_link)
{
    pth_write_filef(h, "f.txt", "public\n");
    pth_write_dir_file(h, "secret.txt", "SECRET\n", 7);
    make_link(pth_path(h, "secret.txt"), "fl");
    START("<Directory @DOCROOT@>\n  Options -FollowSymLinks\n</Directory>\n");
    pth_expect_error(h, "AH00037");
    int served, refused;
    swap_race("f.txt", "fl", "/f.txt", &served, &refused);
    /* The log is written asynchronously: wait for a line per refusal, with a deadline. */
    int logged = 0;
    for (int64_t until = pth_now_ms() + 3000; logged < refused && pth_now_ms() < until;) {
        char *log = pth_read_file(h->error_log, NULL);
        logged = 0;
        for (const char *p = log; p && (p = strstr(p, "AH00037")) != NULL; p++)
            logged++;
        free(log);
        if (logged < refused)
            pth_sleep_ms(20);
    }
    ck_assert_msg(logged == refused, "%d refusals of /f.txt, %d logged as a refused link", refused,
                  logged);
}
END_TEST

/* ---- Open-file cache ----------------------------------------------------------------- */

START_TEST(a_deleted_or_replaced_file_is_not_served_from_the_cache)
{
    pth_write_filef(h, "c.txt", "one\n");
    pth_write_filef(h, "d.txt", "first\n");
    START("\n");
    /* Several reads so that every child that answers has the file cached. */
    for (int i = 0; i < 8; i++) {
        get_body("/c.txt", "one\n");
        get_body("/d.txt", "first\n");
    }
    ck_assert_int_eq(unlink(pth_path(h, "htdocs/c.txt")), 0);
    expect("/c.txt", 404);
    pth_write_filef(h, "d.tmp", "other\n");
    ck_assert_int_eq(rename(pth_path(h, "htdocs/d.tmp"), pth_path(h, "htdocs/d.txt")), 0);
    for (int i = 0; i < 8; i++)
        get_body("/d.txt", "other\n");
}
END_TEST

/* ---- FastCGI scripts (real php-fpm) -------------------------------------------------- */

static void fpm_up(void)
{
    pth_fpm_start_or_exit(&fpm, 2);
}

static void fpm_down(void)
{
    pth_fpm_free(&fpm);
}

#define PHP_CONF                                                                           \
    "<LocationMatch \"\\.php(/|$)\">\n"                                                    \
    "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n"                                    \
    "</LocationMatch>\n"

START_TEST(a_linked_php_script_is_refused_without_follow_symlinks)
{
    pth_write_filef(h, "real.php", "<?php echo \"ran\";\n");
    make_link("real.php", "linked.php");
    pth_write_dir_file(h, "lib/inc.php", "<?php echo \"ran-lib\";\n", 22);
    make_link(pth_path(h, "lib"), "lib");
    pth_config(h, PHP_CONF "<Directory @DOCROOT@>\n  Options -FollowSymLinks\n</Directory>\n",
               fpm.sock);
    pth_start(h);
    pth_expect_error(h, "AH00037");
    get_body("/real.php", "ran");
    pth_resp_t r = get("/linked.php", 403);
    ck_assert(strstr(r.body, "ran") == NULL);
    pth_resp_free(&r);
    expect("/linked.php/extra/path", 403); /* the script part of a PATH_INFO split */
    expect("/lib/inc.php", 403);           /* a linked directory on the way */
}
END_TEST

START_TEST(a_php_script_linked_to_another_owner_is_refused_with_symlinks_if_owner_match)
{
    ck_assert_msg(geteuid() == 0, "this test needs root to chown a link");
    pth_write_filef(h, "real.php", "<?php echo \"ran\";\n");
    make_link("real.php", "mine.php");
    make_link("real.php", "theirs.php");
    ck_assert_int_eq(lchown(pth_path(h, "htdocs/theirs.php"), 65534, 65534), 0);
    pth_config(h, PHP_CONF "<Directory @DOCROOT@>\n  Options SymLinksIfOwnerMatch\n"
                           "</Directory>\n", fpm.sock);
    pth_start(h);
    pth_expect_error(h, "AH00037");
    get_body("/mine.php", "ran");
    expect("/theirs.php", 403);
    expect("/theirs.php/x", 403);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("paths");
    TCase *tc = tcase_create("mapping");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, alias_targets_with_a_trailing_slash_or_dot_stay_under_their_directory_sections);
    tcase_add_test(tc, dot_segments_above_the_root_get_400);
    tcase_add_test(tc, a_name_with_a_leading_dot_has_no_extension_type);
    tcase_add_test(tc, wildcard_directory_applies_to_directories_below_and_not_to_missing_names);
    tcase_add_test(tc, files_under_a_missing_directory_match_its_first_missing_name);
    tcase_add_test(tc, a_listing_hides_what_a_request_for_it_would_not_get);
    tcase_add_test(tc, per_directory_config_and_ht_files_are_never_served);
    tcase_add_test(tc, a_listing_shows_an_allowed_link_with_its_target_and_hides_a_foreign_one);
    tcase_add_test(tc, a_linked_directory_on_the_way_is_refused_without_follow_symlinks);
    tcase_add_test(tc, a_directory_swapped_for_a_link_during_requests_never_serves_the_target);
    tcase_add_test(tc, a_file_swapped_for_a_link_during_requests_is_served_or_refused_as_a_link);
    tcase_add_test(tc, a_deleted_or_replaced_file_is_not_served_from_the_cache);
    suite_add_tcase(s, tc);
    TCase *php = tcase_create("php-fpm");
    tcase_add_unchecked_fixture(php, fpm_up, fpm_down);
    tcase_add_checked_fixture(php, setup, teardown);
    tcase_set_timeout(php, 60);
    tcase_add_test(php, a_linked_php_script_is_refused_without_follow_symlinks);
    tcase_add_test(php, a_php_script_linked_to_another_owner_is_refused_with_symlinks_if_owner_match);
    suite_add_tcase(s, php);
    return s;
}

int main(void)
{
    if (!pth_fpm_available()) {
        fprintf(stderr, "php-fpm8.2 is not installed (scripts/setup installs it)\n");
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
