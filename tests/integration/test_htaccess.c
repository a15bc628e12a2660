/* .htaccess files (AllowOverride, AllowOverrideList, AccessFileName) with the real binary:
 * what each override class lets in, the order of merging (a deeper file after a shallower
 * one, a file after the <Directory> sections of its depth), <Files> inside a file, errors
 * as 500 with the file and line in the error log, Nonfatal=, and a changed file taking
 * effect without a restart. Compared with Debian's apache2 where the answer was in doubt. */
#include "fcgi_backends.h"
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static pth_t *h;

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

static void expect_header(const char *path, const char *name, const char *value)
{
    pth_resp_t r = get(path, 200);
    const char *v = pth_resp_header(&r, name);
    ck_assert_msg(v && strcmp(v, value) == 0, "GET %s: %s is '%s', want '%s'", path, name,
                  v ? v : "(none)", value);
    pth_resp_free(&r);
}

#define START(...)                                                                         \
    do {                                                                                   \
        pth_config(h, __VA_ARGS__);                                                        \
        pth_start(h);                                                                      \
    } while (0)

START_TEST(without_allow_override_no_file_is_read)
{
    pth_write_filef(h, "ht/.htaccess", "This is not a directive\nRequire all denied\n");
    pth_write_filef(h, "ht/a.txt", "a\n");
    START("<Directory \"@DOCROOT@/ht\">\n  AllowOverride None\n</Directory>\n");
    expect("/ht/a.txt", 200);
}
END_TEST

/* The walks of a configuration without any AllowOverride are cached too (the <Directory>
 * merge of each directory): a file that appears after the walk was cached, and stays past
 * the revalidation interval, is still never read, as Apache never looks for it. */
START_TEST(a_file_added_later_without_allow_override_changes_nothing)
{
    pth_write_filef(h, "n/m/a.txt", "a\n");
    START("<Directory \"@DOCROOT@/n\">\n  Header set X-Dir n\n</Directory>\n");
    expect_header("/n/m/a.txt", "X-Dir", "n");
    pth_write_filef(h, "n/.htaccess", "Require all denied\nHeader set X-Dir file\n");
    pth_write_filef(h, "n/m/.htaccess", "This is not a directive\n");
    usleep(1500 * 1000); /* past PT_HTACCESS_RECHECK_MS: a cached walk is looked at again */
    for (int i = 0; i < 3; i++)
        expect_header("/n/m/a.txt", "X-Dir", "n");
}
END_TEST

START_TEST(a_file_applies_to_its_directory_and_below_and_a_deeper_one_comes_after)
{
    pth_write_filef(h, "ht/.htaccess", "Header set X-Ht outer\nHeader append X-Order outer\n"
                                       "DirectoryIndex first.html\n");
    pth_write_filef(h, "ht/first.html", "first\n");
    pth_write_filef(h, "ht/sub/.htaccess", "Header set X-Ht inner\nHeader append X-Order "
                                           "inner\nAddType text/x-thing .thing\n");
    pth_write_filef(h, "ht/sub/x.thing", "thing\n");
    pth_write_filef(h, "ht/sub/first.html", "sub first\n");
    pth_write_filef(h, "other/x.thing", "thing\n");
    START("<Directory \"@DOCROOT@/ht\">\n  AllowOverride All\n</Directory>\n"
          "<Directory \"@DOCROOT@/ht/sub\">\n  Header append X-Order section\n</Directory>\n");
    expect_header("/ht/", "X-Ht", "outer");
    pth_resp_t r = get("/ht/", 200);
    ck_assert_str_eq(r.body, "first\n");
    pth_resp_free(&r);
    expect_header("/ht/sub/x.thing", "X-Ht", "inner");
    /* The <Directory> section of a depth comes before that depth's file. */
    expect_header("/ht/sub/x.thing", "X-Order", "outer, section, inner");
    expect_header("/ht/sub/x.thing", "Content-Type", "text/x-thing");
    r = get("/other/x.thing", 200);
    ck_assert_ptr_null(pth_resp_header(&r, "X-Ht"));
    pth_resp_free(&r);
}
END_TEST

START_TEST(require_files_sections_and_error_documents_come_from_the_file)
{
    pth_write_filef(h, "ht/.htaccess", "<Files secret.txt>\n  Require all denied\n</Files>\n"
                                       "ErrorDocument 404 /ht/missing.html\n");
    pth_write_filef(h, "ht/secret.txt", "s\n");
    pth_write_filef(h, "ht/open.txt", "o\n");
    pth_write_filef(h, "ht/missing.html", "custom missing\n");
    pth_write_filef(h, "ht/closed/.htaccess", "Require all denied\n");
    pth_write_filef(h, "ht/closed/c.txt", "c\n");
    START("<Directory \"@DOCROOT@/ht\">\n  AllowOverride All\n</Directory>\n");
    pth_expect_error(h, "AH01630: client denied by server configuration: .*/ht/"
                        "(secret\\.txt|closed/c\\.txt)");
    expect("/ht/secret.txt", 403);
    expect("/ht/open.txt", 200);
    expect("/ht/closed/c.txt", 403);
    pth_resp_t r = get("/ht/nothing", 404);
    ck_assert_str_eq(r.body, "custom missing\n");
    pth_resp_free(&r);
}
END_TEST

/* Apache: 500, and "[core:alert] ... /path/.htaccess: <message>" in the error log. */
START_TEST(an_error_in_a_file_is_a_500_with_the_file_and_line_in_the_log)
{
    pth_write_filef(h, "bad/.htaccess", "Header set X-A a\nNoSuchDirective on\n");
    pth_write_filef(h, "bad/a.txt", "a\n");
    pth_write_filef(h, "cls/.htaccess", "Require all denied\n");
    pth_write_filef(h, "cls/a.txt", "a\n");
    pth_write_filef(h, "inc/.htaccess", "Include /etc/passwd\n");
    pth_write_filef(h, "inc/a.txt", "a\n");
    pth_write_filef(h, "opt/.htaccess", "Options +Indexes +ExecCGI\n");
    pth_write_filef(h, "opt/a.txt", "a\n");
    pth_write_filef(h, "syn/.htaccess", "<Files x>\nRequire all denied\n");
    pth_write_filef(h, "syn/a.txt", "a\n");
    START("<Directory \"@DOCROOT@/bad\">\n  AllowOverride All\n</Directory>\n"
          "<Directory \"@DOCROOT@/cls\">\n  AllowOverride FileInfo\n</Directory>\n"
          "<Directory \"@DOCROOT@/inc\">\n  AllowOverride All\n</Directory>\n"
          "<Directory \"@DOCROOT@/opt\">\n  AllowOverride Options=Indexes\n</Directory>\n"
          "<Directory \"@DOCROOT@/syn\">\n  AllowOverride All\n</Directory>\n");
    pth_expect_error(h, "\\[core:alert\\] .*/(bad|cls|inc|opt|syn)/\\.htaccess");
    static const char *const paths[] = {"/bad/a.txt", "/cls/a.txt", "/inc/a.txt",
                                        "/opt/a.txt", "/syn/a.txt"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        expect(paths[i], 500);
    char *log = pth_read_file(pth_path(h, "error.log"), NULL);
    ck_assert_ptr_nonnull(log);
    static const char *const wants[] = {
        "/bad/.htaccess:2: Invalid command 'NoSuchDirective', perhaps misspelled",
        "/cls/.htaccess:1: Require not allowed here",
        "/inc/.htaccess:1: Include not allowed here",
        "/opt/.htaccess:1: Option ExecCGI not allowed here",
        "/syn/.htaccess:",
    };
    for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++)
        ck_assert_msg(strstr(log, wants[i]), "no '%s' in the error log: %s", wants[i], log);
    free(log);
}
END_TEST

/* An expression in a .htaccess file cannot read files: file(), filesize() (and portico's
 * filemod()) are refused wherever an expression goes, as Debian's apache2 2.4.71 refuses
 * them ("not available in restricted context", CVE-2026-24072's fix); a test such as -f
 * is not. The same lines in the server's own config read the file. */
START_TEST(an_expression_in_a_file_cannot_read_files)
{
    static const struct {
        const char *dir, *text;
    } files[] = {
        {"if", "<If \"file('/etc/passwd') != ''\">\nHeader set X-F 1\n</If>\n"},
        {"req", "Require expr \"filesize('/etc/passwd') -gt 0\"\n"},
        {"hdr", "Header set X-F \"expr=%{file:/etc/passwd}\"\n"},
        {"env", "SetEnvIfExpr \"filemod('/etc/passwd') -gt 0\" F=1\n"},
        {"rw", "RewriteEngine On\nRewriteCond expr \"file('/etc/passwd') != ''\"\n"
               "RewriteRule ^ - [F]\n"},
        {"ok", "<If \"-f '/etc/passwd'\">\nHeader set X-F 1\n</If>\n"},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "%s/.htaccess", files[i].dir);
        pth_write_filef(h, rel, "%s", files[i].text);
        snprintf(rel, sizeof(rel), "%s/a.txt", files[i].dir);
        pth_write_filef(h, rel, "a\n");
    }
    pth_write_filef(h, "srv/a.txt", "a\n");
    START("<Directory \"@DOCROOT@\">\n  AllowOverride All\n</Directory>\n"
          "<Location /srv>\n  Header set X-F \"expr=%%{filesize:/etc/passwd}\"\n"
          "</Location>\n");
    pth_expect_error(h, "\\[core:alert\\] .*/(if|req|hdr|env|rw)/\\.htaccess:[0-9]+: .*not "
                        "available in restricted context");
    for (size_t i = 0; i + 1 < sizeof(files) / sizeof(files[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "/%s/a.txt", files[i].dir);
        expect(path, 500);
    }
    expect_header("/ok/a.txt", "X-F", "1");
    pth_resp_t r = get("/srv/a.txt", 200);
    const char *size = pth_resp_header(&r, "X-F");
    ck_assert_msg(size && atoi(size) > 0, "X-F: %s", size ? size : "(none)");
    pth_resp_free(&r);
    char *log = pth_read_file(pth_path(h, "error.log"), NULL);
    ck_assert_ptr_nonnull(log);
    for (size_t i = 0; i + 1 < sizeof(files) / sizeof(files[0]); i++) {
        char want[64];
        snprintf(want, sizeof(want), "/%s/.htaccess:", files[i].dir);
        ck_assert_msg(strstr(log, want), "no '%s' in the error log: %s", want, log);
    }
    free(log);
}
END_TEST

/* SetHandler "proxy:URL" in a .htaccess file (a directory picking its PHP version by socket)
 * uses the backend the server configuration defines for that URL, with its pool; one the
 * server does not define is a 500 naming the file, since portico makes its backends, and
 * their shared state, when it loads the configuration. */
START_TEST(a_proxy_handler_in_a_file_uses_the_servers_backend)
{
    pth_fcgi_responder_t resp;
    char msg[512];
    if (pth_fcgi_responder_start(&resp, pth_path(h, "resp.sock"), msg, sizeof(msg)) != 0)
        ck_abort_msg("%s", msg);
    pth_write_filef(h, "php/.htaccess", "SetHandler \"proxy:unix:%s|fcgi://localhost/\"\n",
                    pth_path(h, "resp.sock"));
    pth_write_filef(h, "php/ok", "source\n");
    pth_write_filef(h, "new/.htaccess", "SetHandler \"proxy:unix:%s|fcgi://localhost/\"\n",
                    pth_path(h, "other.sock"));
    pth_write_filef(h, "new/ok", "source\n");
    START("<Directory \"@DOCROOT@\">\n  AllowOverride All\n</Directory>\n"
          "<Proxy \"unix:@DIR@/resp.sock|fcgi://localhost/\">\n  ProxySet timeout=10\n"
          "</Proxy>\n");
    pth_expect_error(h, "\\[core:alert\\] .*/new/\\.htaccess:1: SetHandler \"proxy:unix:.*"
                        "other\\.sock.*not defined in the server configuration");
    for (int i = 0; i < 3; i++) {
        pth_resp_t r = get("/php/ok", 200);
        ck_assert_str_eq(r.body, "ok");
        ck_assert_str_eq(pth_resp_header(&r, "X-Responder"), "libfcgi");
        pth_resp_free(&r);
    }
    expect("/new/ok", 500);
    ck_assert(pth_file_wait_contains(pth_path(h, "error.log"), "other.sock", 5000));
    pth_stop(h);
    pth_fcgi_responder_stop(&resp);
}
END_TEST

START_TEST(nonfatal_skips_what_is_not_allowed_with_a_warning)
{
    pth_write_filef(h, "nf/.htaccess", "Require all denied\nNoSuch x\nHeader set X-Nf yes\n");
    pth_write_filef(h, "nf/a.txt", "a\n");
    START("<Directory \"@DOCROOT@/nf\">\n  AllowOverride FileInfo Nonfatal=All\n"
          "</Directory>\n");
    expect_header("/nf/a.txt", "X-Nf", "yes");
    ck_assert(pth_file_wait_contains(pth_path(h, "error.log"),
                                     "Require not allowed here: skipped", 3000));
}
END_TEST

START_TEST(allow_override_list_admits_named_directives_only)
{
    pth_write_filef(h, "l/.htaccess", "Header set X-L yes\n");
    pth_write_filef(h, "l/a.txt", "a\n");
    pth_write_filef(h, "l/no/.htaccess", "Require all denied\n");
    pth_write_filef(h, "l/no/a.txt", "a\n");
    START("<Directory \"@DOCROOT@/l\">\n  AllowOverride None\n  AllowOverrideList Header\n"
          "</Directory>\n");
    pth_expect_error(h, "\\[core:alert\\] .*/l/no/\\.htaccess:1: Require not allowed here");
    expect_header("/l/a.txt", "X-L", "yes");
    expect("/l/no/a.txt", 500);
}
END_TEST

START_TEST(access_file_name_picks_the_first_name_that_exists)
{
    pth_write_filef(h, "n/.acl", "Header set X-From acl\n");
    pth_write_filef(h, "n/.htaccess", "Header set X-From htaccess\n");
    pth_write_filef(h, "n/a.txt", "a\n");
    pth_write_filef(h, "m/.htaccess", "Header set X-From htaccess\n");
    pth_write_filef(h, "m/a.txt", "a\n");
    START("AccessFileName .acl .htaccess\n"
          "<Directory \"@DOCROOT@\">\n  AllowOverride FileInfo\n</Directory>\n");
    expect_header("/n/a.txt", "X-From", "acl");
    expect_header("/m/a.txt", "X-From", "htaccess");
}
END_TEST

/* Edits are seen within a second or so (revalidated by stat), never a stale config for
 * long; a file that appears or goes away too. */
START_TEST(a_changed_file_takes_effect_without_a_restart)
{
    pth_write_filef(h, "c/a.txt", "a\n");
    START("<Directory \"@DOCROOT@/c\">\n  AllowOverride All\n</Directory>\n");
    pth_expect_error(h, "AH01630: client denied by server configuration: .*/c/a\\.txt");
    expect("/c/a.txt", 200);
    pth_write_filef(h, "c/.htaccess", "Require all denied\n");
    int st = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        pth_resp_t r;
        pth_get(h, "/c/a.txt", NULL, &r);
        st = r.status;
        pth_resp_free(&r);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (st != 403)
            usleep(50 * 1000);
    } while (st != 403 && t1.tv_sec - t0.tv_sec < 5);
    ck_assert_int_eq(st, 403);
    ck_assert_int_eq(unlink(pth_path(h, "htdocs/c/.htaccess")), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        pth_resp_t r;
        pth_get(h, "/c/a.txt", NULL, &r);
        st = r.status;
        pth_resp_free(&r);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (st != 200)
            usleep(50 * 1000);
    } while (st != 200 && t1.tv_sec - t0.tv_sec < 5);
    ck_assert_int_eq(st, 200);
}
END_TEST

/* Seconds until GET path answers 200 with field name at want (NULL: absent), polled every
 * 20 ms; -1 when it does not within limit seconds. */
static double seconds_until_header(const char *path, const char *name, const char *want,
                                   double limit)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        pth_resp_t r;
        pth_get(h, path, NULL, &r);
        const char *v = pth_resp_header(&r, name);
        bool done = r.status == 200 && (want ? v && strcmp(v, want) == 0 : v == NULL);
        pth_resp_free(&r);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double t = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (done)
            return t;
        if (t > limit)
            return -1;
        usleep(20 * 1000);
    }
}

/* A request's directory walk is cached merged (every depth's file and section at once), and
 * that merge is checked against the files of every depth: a change two levels up, a file
 * that appears in a directory on the way, and one that goes away are each seen by a request
 * below within the revalidation interval (a second; the bound here leaves room for a loaded
 * machine, and a merge that never looks above its own directory never sees them). */
START_TEST(a_change_above_is_seen_by_a_request_below_within_the_interval)
{
    const char *path = "/u/v/w/a.txt";
    const double bound = 2.5;
    pth_write_filef(h, "u/.htaccess", "Header set X-Level top\n");
    pth_write_filef(h, "u/v/w/a.txt", "a\n");
    START("<Directory \"@DOCROOT@/u\">\n  AllowOverride All\n</Directory>\n");
    for (int i = 0; i < 3; i++)
        expect_header(path, "X-Level", "top");
    pth_write_filef(h, "u/.htaccess", "Header set X-Level top-changed\n");
    double t = seconds_until_header(path, "X-Level", "top-changed", 5);
    ck_assert_msg(t >= 0 && t <= bound, "changed top file seen after %.2f s", t);
    pth_write_filef(h, "u/v/.htaccess", "Header set X-Level middle\n");
    t = seconds_until_header(path, "X-Level", "middle", 5);
    ck_assert_msg(t >= 0 && t <= bound, "new middle file seen after %.2f s", t);
    ck_assert_int_eq(unlink(pth_path(h, "htdocs/u/v/.htaccess")), 0);
    t = seconds_until_header(path, "X-Level", "top-changed", 5);
    ck_assert_msg(t >= 0 && t <= bound, "removed middle file seen after %.2f s", t);
    ck_assert_int_eq(unlink(pth_path(h, "htdocs/u/.htaccess")), 0);
    t = seconds_until_header(path, "X-Level", NULL, 5);
    ck_assert_msg(t >= 0 && t <= bound, "removed top file seen after %.2f s", t);
}
END_TEST

/* Requests in more directories than the merged-walk cache keeps (PT_HTACCESS_WALK_MAX,
 * 1024, in src/htaccess.h), eight at a time on eight connections, while the file above them
 * changes: every answer is the file's old or new value, the cache lets the least looked-up
 * walks go, and the new value reaches every directory (in a TSan build: without a race). */
START_TEST(many_directories_at_once_past_the_walk_cache_bound)
{
    enum { NDIRS = 1100, NCONNS = 8 };
    char rel[64];
    pth_write_filef(h, "m/.htaccess", "Header set X-Level old\n");
    for (int i = 0; i < NDIRS; i++) {
        snprintf(rel, sizeof(rel), "m/d%d/a.txt", i);
        pth_write_filef(h, rel, "a\n");
    }
    START("MaxKeepAliveRequests 0\n"
          "<Directory \"@DOCROOT@/m\">\n  AllowOverride All\n</Directory>\n");
    pth_conn_t *c[NCONNS];
    for (int k = 0; k < NCONNS; k++)
        c[k] = pth_conn_open(h);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < NDIRS; i += NCONNS) {
            if (round == 0 && i == NDIRS / 2 / NCONNS * NCONNS)
                pth_write_filef(h, "m/.htaccess", "Header set X-Level new-value\n");
            for (int k = 0; k < NCONNS && i + k < NDIRS; k++)
                ck_assert_int_eq(pth_conn_sendf(c[k], "GET /m/d%d/a.txt HTTP/1.1\r\n"
                                                      "Host: localhost\r\n\r\n", i + k), 0);
            for (int k = 0; k < NCONNS && i + k < NDIRS; k++) {
                pth_resp_t r;
                ck_assert_int_eq(pth_conn_read_response(c[k], &r, false, 10000), 0);
                const char *v = pth_resp_header(&r, "X-Level");
                ck_assert_msg(r.status == 200 && v &&
                                  (strcmp(v, "old") == 0 || strcmp(v, "new-value") == 0),
                              "/m/d%d/a.txt: %d, X-Level %s", i + k, r.status, v ? v : "-");
                pth_resp_free(&r);
            }
        }
    }
    for (int k = 0; k < NCONNS; k++)
        pth_conn_close(c[k]);
    for (int i = 0; i < NDIRS; i += 137) {
        snprintf(rel, sizeof(rel), "/m/d%d/a.txt", i);
        double t = seconds_until_header(rel, "X-Level", "new-value", 5);
        ck_assert_msg(t >= 0 && t <= 2.5, "%s: the new value seen after %.2f s", rel, t);
    }
}
END_TEST

START_TEST(allow_override_is_refused_outside_a_plain_directory_section)
{
    pth_config(h, "<DirectoryMatch \"^/srv\">\n  AllowOverride All\n</DirectoryMatch>\n");
    char msg[2048];
    ck_assert_int_ne(pth_try_start(h, NULL, msg, sizeof(msg)), 0);
    ck_assert_msg(strstr(msg, "AllowOverride not allowed here"), "%s", msg);
    pth_config(h, "<Directory /srv>\n  AllowOverride Bogus\n</Directory>\n");
    ck_assert_int_ne(pth_try_start(h, NULL, msg, sizeof(msg)), 0);
    ck_assert_msg(strstr(msg, "Illegal override option Bogus"), "%s", msg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("htaccess");
    TCase *tc = tcase_create("htaccess");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, without_allow_override_no_file_is_read);
    tcase_add_test(tc, a_file_added_later_without_allow_override_changes_nothing);
    tcase_add_test(tc, a_file_applies_to_its_directory_and_below_and_a_deeper_one_comes_after);
    tcase_add_test(tc, require_files_sections_and_error_documents_come_from_the_file);
    tcase_add_test(tc, an_error_in_a_file_is_a_500_with_the_file_and_line_in_the_log);
    tcase_add_test(tc, an_expression_in_a_file_cannot_read_files);
    tcase_add_test(tc, a_proxy_handler_in_a_file_uses_the_servers_backend);
    tcase_add_test(tc, nonfatal_skips_what_is_not_allowed_with_a_warning);
    tcase_add_test(tc, allow_override_list_admits_named_directives_only);
    tcase_add_test(tc, access_file_name_picks_the_first_name_that_exists);
    tcase_add_test(tc, a_changed_file_takes_effect_without_a_restart);
    tcase_add_test(tc, a_change_above_is_seen_by_a_request_below_within_the_interval);
    tcase_add_test(tc, many_directories_at_once_past_the_walk_cache_bound);
    tcase_add_test(tc, allow_override_is_refused_outside_a_plain_directory_section);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
