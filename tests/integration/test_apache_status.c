/* The status a request gets must be the one Apache httpd 2.4 gives for the same config: each
 * test states what Debian's apache2 answered for the config it writes (run side by side, and
 * found by the differential test), and that portico answers the same. Which <Directory>
 * sections the walk reaches, the order of the request phases (redirects, access, mod_dir's
 * slash redirect), and which ErrorDocument applies. */
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

#define START(...)                                                                         \
    do {                                                                                   \
        pth_config(h, __VA_ARGS__);                                                        \
        pth_start(h);                                                                      \
    } while (0)

static void expect_method(const char *method, const char *path, int status)
{
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, method, path, NULL, NULL, 0, &r), 0);
    ck_assert_msg(r.status == status, "%s %s: status %d, want %d; body: %.300s", method, path,
                  r.status, status, r.body);
    pth_resp_free(&r);
}

static void expect(const char *path, int status)
{
    expect_method("GET", path, status);
}

static void expect_body(const char *path, const char *body)
{
    pth_resp_t r;
    pth_get(h, path, NULL, &r);
    ck_assert_msg(r.status == 200 && strcmp(r.body, body) == 0, "GET %s: %d %s", path,
                  r.status, r.body);
    pth_resp_free(&r);
}

/* ---- Which <Directory> sections the walk reaches -------------------------------------- */

/* Apache's directory walk, when the file exists and the Options in force are FollowSymLinks
 * (not SymLinksIfOwnerMatch), skips the lstat of each remaining name and takes it for a
 * directory: the file's own name is walked as "name/", so <Directory "/x/<star>"> (and a
 * <Directory> naming the file) applies to a file in /x. With other Options it lstats, stops
 * at the regular file, and the section does not apply. */
START_TEST(a_wildcard_directory_applies_to_a_file_it_names_when_symlinks_are_followed)
{
    pth_write_filef(h, "a.txt", "a\n");
    pth_write_filef(h, "sub/s.txt", "s\n");
    pth_write_filef(h, "nf/x.txt", "x\n");
    pth_write_filef(h, "nf/in/y.txt", "y\n");
    START("<Directory \"@DOCROOT@/*\">\n  Require all denied\n</Directory>\n"
          "<Directory \"@DOCROOT@/nf\">\n  Options Indexes\n  Require all granted\n"
          "</Directory>\n"
          "<Directory \"@DOCROOT@/nf/*\">\n  Require all denied\n</Directory>\n");
    pth_expect_error(h, "AH01630");
    expect("/a.txt", 403);
    expect("/./a.txt", 403);
    expect("/sub/../a.txt", 403);
    expect("/index.html", 403);
    expect("/sub/s.txt", 403);
    expect("/missing", 404);
    expect("/a.txt/more", 404); /* path info: the walk stops at the file */
    /* Options Indexes in /nf: no FollowSymLinks, the walk stops at the file. */
    expect("/nf/x.txt", 200);
    expect("/nf/in/y.txt", 403);
}
END_TEST

/* mod_dir finds the index file and the fallback in a subrequest that inherits the walk
 * of the directory the request was in: the file's own name is not walked again, so the
 * sections that name it do not apply to it there (they do to a request for it). */
START_TEST(an_index_or_fallback_in_the_walked_directory_skips_sections_naming_the_file)
{
    pth_write_filef(h, "fb/index.html", "fb index\n");
    START("<Directory \"@DOCROOT@/*\">\n  Require all denied\n</Directory>\n"
          "<Directory \"@DOCROOT@/fb\">\n  Require all granted\n"
          "  FallbackResource /fb/index.html\n</Directory>\n"
          "<Directory \"@DOCROOT@/fb/index.html\">\n  Require all denied\n</Directory>\n");
    pth_expect_error(h, "AH01630");
    expect("/", 200);
    expect("/index.html", 403);
    expect("/fb/", 200);
    expect("/fb/index.html", 403);
    expect("/fb/nothere", 200);
    expect("/nothere", 404);
}
END_TEST

/* Apache checks symbolic links during its directory walk, with the Options of the plain
 * <Directory> sections walked so far: Options in <DirectoryMatch> (merged after the walk),
 * <Files> or <Location> do not stop a link from being followed. */
START_TEST(only_plain_directory_options_govern_symbolic_links)
{
    pth_write_dir_file(h, "out.txt", "OUT\n", 4);
    for (int i = 1; i <= 3; i++) {
        char rel[64], link[600];
        snprintf(rel, sizeof(rel), "nl%d/keep", i);
        pth_write_filef(h, rel, "k\n");
        snprintf(link, sizeof(link), "%s/nl%d/link.txt", h->docroot, i);
        ck_assert_int_eq(symlink(pth_path(h, "out.txt"), link), 0);
    }
    START("<DirectoryMatch \"^@DOCROOT@/nl1$\">\n  Options None\n</DirectoryMatch>\n"
          "<Location \"/nl2\">\n  Options None\n</Location>\n"
          "<Files \"link.txt\">\n  Options Indexes\n</Files>\n"
          "<Directory \"@DOCROOT@/nl3\">\n  Options None\n</Directory>\n");
    pth_expect_error(h, "AH00037");
    expect_body("/nl1/link.txt", "OUT\n");
    expect_body("/nl2/link.txt", "OUT\n");
    expect("/nl3/link.txt", 403);
}
END_TEST

/* Apache matches <DirectoryMatch> against the file name as the walk left it: a directory
 * asked for without its trailing slash has none, so "/sub$" denies GET /sub (403 before
 * mod_dir's redirect, which comes later, in the fixups) and not GET /sub/. */
START_TEST(directory_match_sees_a_directory_without_the_slash_the_url_lacks)
{
    pth_write_filef(h, "sub/index.html", "sub index\n");
    pth_write_filef(h, "nf/index.html", "nf index\n");
    START("<DirectoryMatch \"/(sub|priv)$\">\n  Require all denied\n</DirectoryMatch>\n"
          "<DirectoryMatch \"/nf/$\">\n  Require all denied\n</DirectoryMatch>\n");
    pth_expect_error(h, "AH01630");
    expect("/sub", 403);
    expect_method("POST", "/sub?q=1", 403);
    expect_body("/sub/", "sub index\n");
    expect("/nf", 301);
    expect("/nf/", 403);
}
END_TEST

/* Each link is checked with the Options of the directory that holds it: a link to a
 * directory in the document root is followed under the root's FollowSymLinks even when
 * <Directory "root/<star>"> (which matches the link's own path) says Options None, and a
 * root that says None forbids it even when the directories below allow links. */
START_TEST(a_link_is_checked_with_the_options_of_the_directory_that_holds_it)
{
    pth_write_filef(h, "real/page.html", "real page\n");
    pth_write_filef(h, "b/real/page.html", "b page\n");
    char link[600];
    snprintf(link, sizeof(link), "%s/link-dir", h->docroot);
    ck_assert_int_eq(symlink("real", link), 0);
    snprintf(link, sizeof(link), "%s/b/link-dir", h->docroot);
    ck_assert_int_eq(symlink("real", link), 0);
    START("<Directory \"@DOCROOT@/*\">\n  Options None\n</Directory>\n"
          "<Directory \"@DOCROOT@/b\">\n  Options None\n</Directory>\n"
          "<Directory \"@DOCROOT@/b/*\">\n  Options FollowSymLinks\n</Directory>\n");
    pth_expect_error(h, "AH00037");
    expect_body("/link-dir/page.html", "real page\n");
    expect("/b/link-dir/page.html", 403);
}
END_TEST

/* ---- DirectoryIndex ---------------------------------------------------------------------- */

/* mod_dir adds each DirectoryIndex's names to its section's list; "disabled" alone empties
 * it, among other names it is a name; a server-level one replaces the default index.html. */
START_TEST(directory_index_lines_in_one_section_add_up_as_in_mod_dir)
{
    const char *dirs[] = {"d1", "d2", "d3", "d4"};
    for (size_t i = 0; i < 4; i++) {
        char p[64];
        snprintf(p, sizeof(p), "%s/index.html", dirs[i]);
        pth_write_filef(h, p, "%s index\n", dirs[i]);
        snprintf(p, sizeof(p), "%s/page.html", dirs[i]);
        pth_write_filef(h, p, "%s page\n", dirs[i]);
    }
    START("DirectoryIndex page.html\n"
          "<Directory \"@DOCROOT@/d1\">\n  DirectoryIndex index.html\n"
          "  DirectoryIndex nothere.html\n</Directory>\n"
          "<Directory \"@DOCROOT@/d2\">\n  DirectoryIndex nothere.html\n"
          "  DirectoryIndex disabled\n</Directory>\n"
          "<Directory \"@DOCROOT@/d3\">\n  DirectoryIndex disabled\n"
          "  DirectoryIndex index.html\n</Directory>\n"
          "<Directory \"@DOCROOT@/d4\">\n  DirectoryIndex disabled page.html\n</Directory>\n");
    pth_expect_error(h, "AH01276");
    expect("/", 403);
    expect_body("/d1/", "d1 index\n");
    expect("/d2/", 403);
    expect_body("/d3/", "d3 index\n");
    expect_body("/d4/", "d4 page\n");
}
END_TEST

/* mod_dir's FallbackResource is for names that do not exist: a directory with no index name
 * to look up is 403 (no Indexes), not the fallback; one whose index names are missing gets
 * the fallback from their lookup. */
START_TEST(a_directory_without_an_index_is_not_sent_to_the_fallback)
{
    pth_write_filef(h, "nf/in/y.txt", "y\n");
    START("FallbackResource /index.html\n"
          "<Directory \"@DOCROOT@/nf\">\n  DirectoryIndex disabled\n</Directory>\n");
    pth_expect_error(h, "AH01276");
    expect("/nf/in/", 403);
    expect("/nf/", 403);
    expect("/nf/in", 301);
    expect_body("/nothere", "hello index\n");
    /* An index name that does not exist is looked up, and that lookup finds the fallback. */
    pth_write_filef(h, "noi/z.txt", "z\n");
    expect_body("/noi/", "hello index\n");
}
END_TEST

/* mod_dir looks each DirectoryIndex name up in a GET subrequest (redirects, the walk, access)
 * before it serves one: a redirect there is the answer, and any other error than 404 is
 * answered in place of the listing when no index is found. */
START_TEST(index_lookups_answer_with_their_redirect_or_error)
{
    const char *dirs[] = {"g", "r", "d", "ok"};
    for (size_t i = 0; i < 4; i++) {
        char p[64];
        snprintf(p, sizeof(p), "ix/%s/f.txt", dirs[i]);
        pth_write_filef(h, p, "f\n");
    }
    START("<Directory \"@DOCROOT@/ix\">\n  Options Indexes\n</Directory>\n"
          "<LocationMatch \"^/ix/g/index\\.html$\">\n  Redirect 410\n</LocationMatch>\n"
          "<LocationMatch \"^/ix/r/index\\.html$\">\n  Redirect http://example.com/loc\n"
          "</LocationMatch>\n"
          "<Directory \"@DOCROOT@/ix/d\">\n  <Files \"index.html\">\n    Require all denied\n"
          "  </Files>\n</Directory>\n");
    pth_expect_error(h, "AH01630");
    expect("/ix/g/", 410);
    pth_resp_t r;
    pth_get(h, "/ix/r/?q=1", NULL, &r);
    ck_assert_int_eq(r.status, 302);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "http://example.com/loc?q=1");
    pth_resp_free(&r);
    expect("/ix/d/", 403);
    expect("/ix/ok/", 200);
}
END_TEST

/* mod_autoindex lists an entry only when its lookup gets 2xx or 3xx: a "Redirect 410" in a
 * <LocationMatch> hides it, as Require does. */
START_TEST(a_listing_hides_an_entry_a_redirect_makes_gone)
{
    pth_write_filef(h, "lg/f.txt", "f\n");
    pth_write_filef(h, "lg/g.html", "g\n");
    START("<Directory \"@DOCROOT@/lg\">\n  Options Indexes\n  DirectoryIndex disabled\n"
          "</Directory>\n"
          "<LocationMatch \"\\.txt$\">\n  Redirect 410\n</LocationMatch>\n");
    pth_resp_t r;
    pth_get(h, "/lg/", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "g.html") && !strstr(r.body, "f.txt"), "listing: %s", r.body);
    ck_assert_ptr_null(pth_resp_header(&r, "Location"));
    pth_resp_free(&r);
}
END_TEST

/* A listing's entry lookup starts from the file (Apache's file subrequest has no URL
 * translation, where mod_alias applies a <Location>'s one-argument Redirect): every section's
 * Redirect comes in the fixups, after Require, so an entry a section both redirects and denies
 * is hidden, while a request for it is redirected. A Redirect alone (3xx) keeps it listed.
 * apache2 2.4 listed b.html and c.css only. (Found by the differential test, seed 22103.) */
START_TEST(a_listing_hides_an_entry_denied_behind_a_section_redirect)
{
    pth_write_filef(h, "lr/a.txt", "a\n");
    pth_write_filef(h, "lr/b.html", "b\n");
    pth_write_filef(h, "lr/c.css", "c\n");
    pth_write_filef(h, "lr/d.json", "d\n");
    START("<Directory \"@DOCROOT@/lr\">\n  Options Indexes\n  DirectoryIndex disabled\n"
          "</Directory>\n"
          "<LocationMatch \"\\.txt$\">\n  Redirect http://example.com/loc\n"
          "  Require all denied\n  Options -Indexes\n</LocationMatch>\n"
          "<LocationMatch \"\\.css$\">\n  Redirect http://example.com/css\n</LocationMatch>\n"
          "<Files \"d.json\">\n  Redirect http://example.com/files\n  Require all denied\n"
          "</Files>\n");
    pth_expect_error(h, "AH01630"); /* the denied entries' lookups */
    pth_resp_t r;
    pth_get(h, "/lr/", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "b.html") && strstr(r.body, "c.css"), "listing: %s", r.body);
    ck_assert_msg(!strstr(r.body, "a.txt") && !strstr(r.body, "d.json"), "listing: %s", r.body);
    pth_resp_free(&r);
    pth_get(h, "/lr/a.txt", NULL, &r);
    ck_assert_int_eq(r.status, 302);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "http://example.com/loc");
    pth_resp_free(&r);
}
END_TEST

/* A listing's entries reuse the listed directory's walk, <DirectoryMatch> Options included
 * (<Location> ones not):
 * a link is hidden there under "Options -FollowSymLinks" from a <DirectoryMatch>, while a
 * request for it (a walk of its own, plain <Directory> Options only) gets it. */
START_TEST(a_listing_checks_links_with_the_directory_match_options)
{
    pth_write_dir_file(h, "out.txt", "OUT\n", 4);
    pth_write_filef(h, "ld/x.txt", "x\n");
    char link[600];
    snprintf(link, sizeof(link), "%s/ld/link-out", h->docroot);
    ck_assert_int_eq(symlink(pth_path(h, "out.txt"), link), 0);
    pth_write_filef(h, "lo/x.txt", "x\n");
    snprintf(link, sizeof(link), "%s/lo/link-out", h->docroot);
    ck_assert_int_eq(symlink(pth_path(h, "out.txt"), link), 0);
    START("<DirectoryMatch \"^@DOCROOT@/ld\">\n  DirectoryIndex disabled\n"
          "  Options +Indexes -FollowSymLinks\n</DirectoryMatch>\n"
          "<Directory \"@DOCROOT@/lo\">\n  DirectoryIndex disabled\n  Options +Indexes\n"
          "</Directory>\n<Location \"/lo\">\n  Options -FollowSymLinks\n</Location>\n");
    pth_resp_t r;
    pth_get(h, "/ld/", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "x.txt") && !strstr(r.body, "link-out"), "listing: %s", r.body);
    pth_resp_free(&r);
    expect_body("/ld/link-out", "OUT\n");
    /* <Location> Options are not the directory walk's: the link is listed. */
    pth_get(h, "/lo/", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "link-out"), "listing: %s", r.body);
    pth_resp_free(&r);
}
END_TEST

/* ---- Redirect and the access checks ---------------------------------------------------------- */

/* What Apache answers for a path, with the Location it sends ("" for none). */
typedef struct {
    const char *path;
    int status;
    const char *location;
} answer_t;

/* Every path is asked, and the message names each one answered otherwise. */
static void expect_answers(const answer_t *a, size_t n)
{
    char wrong[2048] = "";
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        pth_resp_t r;
        pth_get(h, a[i].path, NULL, &r);
        const char *loc = pth_resp_header(&r, "Location");
        if ((r.status != a[i].status || strcmp(loc ? loc : "", a[i].location) != 0) &&
            len < sizeof(wrong))
            len += (size_t)snprintf(wrong + len, sizeof(wrong) - len,
                                    "\n  GET %s: %d '%s', want %d '%s'", a[i].path, r.status,
                                    loc ? loc : "", a[i].status, a[i].location);
        pth_resp_free(&r);
    }
    ck_assert_msg(len == 0, "answered otherwise than Apache:%s", wrong);
}

static void write_pair(const char *dir)
{
    char p[64];
    snprintf(p, sizeof(p), "ro/%s/ok.txt", dir);
    pth_write_filef(h, p, "ok %s\n", dir);
    snprintf(p, sizeof(p), "ro/%s/denied.txt", dir);
    pth_write_filef(h, p, "no %s\n", dir);
}

/* mod_alias applies the server's Redirects and a <Location>'s (or a <Location>'s <If>'s)
 * one-argument one when it translates the URL, before the access checks; every other
 * section's (prefix Redirect, RedirectMatch, RedirectPermanent, "Redirect gone", a
 * <Directory>'s or <Files>'s one-argument one, an <If>'s prefix one) in its fixups, after
 * them: a file such a section redirects and Require denies is 403, and one a password
 * guards is 401. Apache 2.4.71 gave each answer below for this config. */
static const answer_t redirect_and_require[] = {
    {"/ro/dp/denied.txt", 403, ""},
    {"/ro/dp/ok.txt?q=1", 302, "http://x.example/dp/ok.txt?q=1"},
    {"/ro/f1/f1.txt", 403, ""},
    {"/ro/lm/denied.txt", 403, ""},
    {"/ro/lm/ok.txt", 302, "http://x.example/lm/ok.txt"},
    {"/ro/rm/denied.txt", 403, ""},
    {"/ro/rm/ok.txt", 302, "http://x.example/rm"},
    {"/ro/rp/denied.txt", 403, ""},
    {"/ro/rp/ok.txt", 301, "http://x.example/rp/ok.txt"},
    {"/ro/dg/denied.txt", 403, ""},
    {"/ro/dg/ok.txt", 410, ""},
    {"/ro/lp/denied.txt", 403, ""},
    {"/ro/lp/ok.txt", 410, ""},
    {"/ro/ip/denied.txt", 403, ""},
    {"/ro/ip/ok.txt", 302, "http://x.example/ip/ok.txt"},
    {"/ro/di/denied.txt", 403, ""},
    {"/ro/di/ok.txt", 302, "http://x.example/di"},
    {"/ro/au/denied.txt", 403, ""},
    {"/ro/au/ok.txt", 401, ""},
    /* Before the access checks. */
    {"/ro/l1/denied.txt", 302, "http://x.example/l1"},
    {"/ro/lg/denied.txt", 410, ""},
    {"/ro/li/denied.txt", 302, "http://x.example/li"},
    {"/ro/srv/denied.txt", 302, "http://x.example/srv/denied.txt"},
};

START_TEST(a_sections_redirect_comes_after_require_as_mod_alias_fixup)
{
    const char *dirs[] = {"dp", "lm", "rm", "rp", "dg", "lp", "ip",
                          "di", "au", "l1", "lg", "li", "srv"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        write_pair(dirs[i]);
    pth_write_filef(h, "ro/f1/f1.txt", "f1\n");
    START("<Files \"denied.txt\">\n  Require all denied\n</Files>\n"
          "<Directory \"@DOCROOT@/ro/dp\">\n  Redirect /ro/dp/ http://x.example/dp/\n"
          "</Directory>\n"
          "<Files \"f1.txt\">\n  Redirect http://x.example/f1\n  Require all denied\n</Files>\n"
          "<LocationMatch \"^/ro/lm/\">\n  Redirect /ro/lm/ http://x.example/lm/\n"
          "</LocationMatch>\n"
          "<Location \"/ro/rm\">\n  RedirectMatch \"\\.txt$\" http://x.example/rm\n</Location>\n"
          "<Directory \"@DOCROOT@/ro/rp\">\n  RedirectPermanent /ro/rp http://x.example/rp\n"
          "</Directory>\n"
          "<Directory \"@DOCROOT@/ro/dg\">\n  Redirect gone\n</Directory>\n"
          "<Location \"/ro/lp\">\n  Redirect gone /ro/lp\n</Location>\n"
          "<If \"%%{REQUEST_URI} =~ m#^/ro/ip/#\">\n  Redirect /ro/ip http://x.example/ip\n"
          "</If>\n"
          "<Directory \"@DOCROOT@/ro/di\">\n  <If \"true\">\n    Redirect http://x.example/di\n"
          "  </If>\n</Directory>\n"
          "<Directory \"@DOCROOT@/ro/au\">\n  Redirect /ro/au http://x.example/au\n"
          "  AuthType Basic\n  AuthName \"au\"\n  AuthUserFile \"@DIR@/nopasswd\"\n"
          "  Require valid-user\n</Directory>\n"
          "<Location \"/ro/l1\">\n  Redirect http://x.example/l1\n</Location>\n"
          "<Location \"/ro/lg\">\n  Redirect gone\n</Location>\n"
          "<Location \"/ro/li\">\n  <If \"true\">\n    Redirect http://x.example/li\n  </If>\n"
          "</Location>\n"
          "Redirect /ro/srv http://x.example/srv\n");
    pth_expect_error(h, "AH01630");
    expect_answers(redirect_and_require,
                   sizeof(redirect_and_require) / sizeof(redirect_and_require[0]));
}
END_TEST

/* A one-argument Redirect in an <If> outside any section: Apache walks the <If> sections also
 * before it translates the URL, so one whose condition holds then redirects before Require;
 * one that holds only once the file is known (-f %{REQUEST_FILENAME}) comes in the fixups,
 * after it. Apache 2.4.71 gave each answer below for this config. */
static const answer_t redirect_in_a_top_level_if[] = {
    {"/ro/ie/denied.txt", 302, "http://x.example/ie"},
    {"/ro/ie/ok.txt?q=1", 302, "http://x.example/ie?q=1"},
    {"/ro/ig/denied.txt", 410, ""},
    {"/ro/if/denied.txt", 403, ""},
    {"/ro/if/ok.txt", 301, "http://x.example/if"},
    {"/ro/if/missing", 404, ""},
};

START_TEST(a_top_level_ifs_one_argument_redirect_is_met_before_require)
{
    const char *dirs[] = {"ie", "ig", "if"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        write_pair(dirs[i]);
    START("<Files \"denied.txt\">\n  Require all denied\n</Files>\n"
          "<If \"%%{REQUEST_URI} =~ m#^/ro/ie/#\">\n  Redirect http://x.example/ie\n</If>\n"
          "<If \"%%{REQUEST_URI} =~ m#^/ro/ig/#\">\n  Redirect gone\n</If>\n"
          "<If \"%%{REQUEST_URI} =~ m#^/ro/if/# && -f %%{REQUEST_FILENAME}\">\n"
          "  Redirect permanent http://x.example/if\n</If>\n");
    pth_expect_error(h, "AH01630");
    expect_answers(redirect_in_a_top_level_if,
                   sizeof(redirect_in_a_top_level_if) / sizeof(redirect_in_a_top_level_if[0]));
}
END_TEST

/* The same order in what comes after: mod_dir's lookup of an index candidate a section
 * redirects and denies is 403 (the next candidate is served), a FallbackResource so made is
 * 403; and in the fixups mod_rewrite's per-directory rules run first: their [R] or [F]
 * answers, while a section's Redirect of the URL as requested wins over their internal
 * redirect. Apache 2.4.71 gave each answer below for this config. */
static const answer_t redirect_after_require_in_lookups[] = {
    {"/ro/ix/", 200, ""},
    {"/ro/fb/missing", 403, ""},
    {"/ro/rw/r.txt", 301, "http://x.example/r"},
    {"/ro/rw/f.txt", 403, ""},
    {"/ro/rw/i.txt", 302, "http://x.example/rw/i.txt"},
    {"/ro/rw/ok.txt", 302, "http://x.example/rw/ok.txt"},
};

START_TEST(index_fallback_and_rewrite_meet_a_sections_redirect_after_require)
{
    const char *dirs[] = {"ix", "fb", "rw"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        write_pair(dirs[i]);
    pth_write_filef(h, "ro/rw/r.txt", "r\n");
    pth_write_filef(h, "ro/rw/f.txt", "f\n");
    pth_write_filef(h, "ro/rw/i.txt", "i\n");
    START("<Files \"denied.txt\">\n  Require all denied\n</Files>\n"
          "<Directory \"@DOCROOT@/ro/ix\">\n  DirectoryIndex denied.txt ok.txt\n"
          "  Redirect /ro/ix/denied.txt http://x.example/ix\n</Directory>\n"
          "<Directory \"@DOCROOT@/ro/fb\">\n  FallbackResource /ro/fb/denied.txt\n"
          "  Redirect /ro/fb/denied.txt http://x.example/fb\n</Directory>\n"
          "<Directory \"@DOCROOT@/ro/rw\">\n  RewriteEngine On\n"
          "  RewriteRule ^r\\.txt$ http://x.example/r [R=301]\n"
          "  RewriteRule ^f\\.txt$ - [F]\n  RewriteRule ^i\\.txt$ ok.txt\n"
          "  Redirect /ro/rw http://x.example/rw\n</Directory>\n");
    pth_expect_error(h, "AH01630");
    expect_answers(redirect_after_require_in_lookups,
                   sizeof(redirect_after_require_in_lookups) /
                       sizeof(redirect_after_require_in_lookups[0]));
    expect_body("/ro/ix/", "ok ix\n");
}
END_TEST

/* The early <If> walk (before the URL is mapped, where a one-argument Redirect in it is met)
 * is of a request that has no file name yet: not the name of the request an internal
 * redirect (an ErrorDocument, a DirectoryIndex) comes from. Apache 2.4.71 serves both the
 * ErrorDocument and the index here. */
START_TEST(an_early_if_does_not_see_the_file_name_of_the_request_before)
{
    pth_write_filef(h, "errors/404.html", "the 404 page\n");
    pth_write_filef(h, "sub/index.html", "the index\n");
    START("ErrorDocument 404 /errors/404.html\n"
          "<Location \"/errors\">\n  <If \"%%{REQUEST_FILENAME} =~ /nothere/\">\n"
          "    Redirect http://x.example/stale\n  </If>\n</Location>\n"
          "<Location \"/sub/index.html\">\n  <If \"%%{REQUEST_FILENAME} =~ m#/sub/?$#\">\n"
          "    Redirect http://x.example/staleidx\n  </If>\n</Location>\n");
    pth_resp_t r;
    pth_get(h, "/nothere.txt", NULL, &r);
    ck_assert_msg(r.status == 404 && strcmp(r.body, "the 404 page\n") == 0, "%d %s", r.status,
                  r.body);
    pth_resp_free(&r);
    expect_body("/sub/", "the index\n");
}
END_TEST

/* A one-argument Redirect straight in a .htaccess (its directory is the section), as
 * Apache 2.4.71: 302 to the URL as written. */
START_TEST(a_htaccess_one_argument_redirect_sends_its_directory_away)
{
    pth_write_filef(h, "ht/a.txt", "a\n");
    pth_write_filef(h, "ht/.htaccess", "Redirect http://x.example/ht1\n");
    START("<Directory \"@DOCROOT@/ht\">\n  AllowOverride All\n</Directory>\n");
    const answer_t a[] = {{"/ht/a.txt", 302, "http://x.example/ht1"}};
    expect_answers(a, 1);
}
END_TEST

/* ---- ErrorDocument ----------------------------------------------------------------------- */

/* Apache authorizes an internal redirect again only when its config differs from the request
 * before: an ErrorDocument 403 under the same sections as the denied file is sent (even when
 * a request for it would be denied); one under other, denying sections is not. */
START_TEST(an_error_document_with_the_denied_files_sections_is_sent)
{
    pth_write_filef(h, "a.txt", "a\n");
    pth_write_filef(h, "errors/403.html", "E403 page\n");
    pth_write_filef(h, "o/b.txt", "b\n");
    pth_write_filef(h, "o/errors/403.html", "O403 page\n");
    START("ErrorDocument 403 /errors/403.html\n"
          "<Directory \"@DOCROOT@/*\">\n  <RequireAll>\n    Require all granted\n"
          "    Require not ip 127.0.0.1\n  </RequireAll>\n</Directory>\n"
          "<Directory \"@DOCROOT@/o\">\n  ErrorDocument 403 /o/errors/403.html\n"
          "  <Files \"b.txt\">\n    Require all denied\n  </Files>\n</Directory>\n"
          "<Directory \"@DOCROOT@/o/errors\">\n  Require all denied\n</Directory>\n");
    pth_expect_error(h, "AH01630");
    pth_resp_t r;
    pth_get(h, "/a.txt", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(r.body, "E403 page\n");
    pth_resp_free(&r);
    pth_get(h, "/errors/403.html", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(r.body, "E403 page\n");
    pth_resp_free(&r);
    pth_get(h, "/o/b.txt", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_ptr_null(strstr(r.body, "O403"));
    pth_resp_free(&r);
}
END_TEST

/* An ErrorDocument that a Redirect sends away (a section's, the server's, a <Location>'s) is
 * not used: the plain page for the original status, without the Location the document's
 * request got, as Apache's ap_die answers for the first request (mod_alias set it in the
 * document's headers_out). apache2 2.4.71: 403 and 404, no Location. */
START_TEST(an_error_document_a_redirect_sends_away_leaves_no_location)
{
    pth_write_filef(h, "ed/a/s.txt", "s\n");
    pth_write_filef(h, "ed/b/s.txt", "s\n");
    pth_write_filef(h, "errors/403.html", "E403\n");
    pth_write_filef(h, "e2/403.html", "E2\n");
    pth_write_filef(h, "e3/404.html", "E3\n");
    START("<Files \"s.txt\">\n  Require all denied\n</Files>\n"
          "<Directory \"@DOCROOT@/ed/a\">\n  ErrorDocument 403 /errors/403.html\n</Directory>\n"
          "<Directory \"@DOCROOT@/errors\">\n  Redirect /errors/ http://x.example/errors/\n"
          "</Directory>\n"
          "<Directory \"@DOCROOT@/ed/b\">\n  ErrorDocument 403 /e2/403.html\n"
          "  ErrorDocument 404 /e3/404.html\n</Directory>\n"
          "Redirect /e2/ http://x.example/e2/\n"
          "<Location \"/e3\">\n  Redirect http://x.example/e3\n</Location>\n");
    pth_expect_error(h, "AH01630");
    static const answer_t want[] = {
        {"/ed/a/s.txt", 403, ""},
        {"/ed/b/s.txt", 403, ""},
        {"/ed/b/missing", 404, ""},
    };
    expect_answers(want, sizeof(want) / sizeof(want[0]));
}
END_TEST

/* An ErrorDocument that mod_rewrite sends away is answered with the rule's answer: its hooks
 * give the document's request back a 200 status before they return the rule's, so Apache's
 * ap_die takes that as a new error of the document (not as the document failing): the
 * redirect with its Location, or the status with its own ErrorDocument. apache2 2.4.71, for
 * each request below: 302 to the server rule's URL, 301 to the per-directory one's, 410, 403
 * with the 403 document, and for a chain of them that the internal redirect bound ends, the
 * first request's 404. */
START_TEST(an_error_document_a_rewrite_sends_away_answers_with_the_rewrite)
{
    pth_write_filef(h, "errors/404.html", "E404\n");
    pth_write_filef(h, "pd/err.html", "PD\n");
    pth_write_filef(h, "pd/other.html", "PD other\n");
    pth_write_filef(h, "pg/err.html", "PG\n");
    pth_write_filef(h, "pf/err.html", "PF\n");
    pth_write_filef(h, "e403.html", "E403\n");
    pth_write_filef(h, "pl/err.html", "PL\n");
    pth_write_filef(h, "pl/err403.html", "PL403\n");
    START("ErrorDocument 404 /errors/404.html\nRewriteEngine On\n"
          "RewriteRule ^/errors/404\\.html$ http://x.example/gone?z=1 [R=302]\n"
          "<Directory \"@DOCROOT@/pd\">\n  ErrorDocument 404 /pd/err.html\n"
          "  RewriteEngine On\n  RewriteBase /pd/\n"
          "  RewriteRule ^err\\.html$ other.html [R=301]\n</Directory>\n"
          "<Directory \"@DOCROOT@/pg\">\n  ErrorDocument 404 /pg/err.html\n"
          "  RewriteEngine On\n  RewriteRule ^err\\.html$ - [G]\n</Directory>\n"
          "<Directory \"@DOCROOT@/pf\">\n  ErrorDocument 404 /pf/err.html\n"
          "  ErrorDocument 403 /e403.html\n"
          "  RewriteEngine On\n  RewriteRule ^err\\.html$ - [F]\n</Directory>\n"
          "<Directory \"@DOCROOT@/pl\">\n  ErrorDocument 404 /pl/err.html\n"
          "  ErrorDocument 403 /pl/err403.html\n"
          "  RewriteEngine On\n  RewriteRule ^err - [F]\n</Directory>\n");
    pth_expect_error(h, "limit of 10 internal redirects");
    char here[128];
    snprintf(here, sizeof(here), "http://127.0.0.1:%d/pd/other.html", h->port);
    const answer_t want[] = {
        {"/missing?q=1", 302, "http://x.example/gone?z=1"},
        {"/pd/missing", 301, here},
        {"/pg/missing", 410, ""},
        {"/pl/missing", 404, ""},
    };
    expect_answers(want, sizeof(want) / sizeof(want[0]));
    pth_resp_t r;
    pth_get(h, "/pf/missing", NULL, &r);
    ck_assert_msg(r.status == 403 && strcmp(r.body, "E403\n") == 0, "%d %s", r.status, r.body);
    pth_resp_free(&r);
}
END_TEST

/* An ErrorDocument that cannot be used: Apache's plain page for the original status adds a
 * paragraph naming the status the document's request was for (the original one, not what
 * made it fail: the denied document of a 410 says 410), before the signature; a chain of
 * rewritten documents that the internal redirect bound ends names the last document's, and
 * that bound's 500 closes the connection. apache2 2.4.71, each body and header as below. */
static const struct {
    const char *path;
    int status;
    const char *also;
    bool close;
} failed_documents[] = {
    {"/missing?q=1", 404, "404 Not Found", false},
    {"/g/x", 410, "410 Gone", false},
    {"/pl/missing", 404, "403 Forbidden", true},
};

START_TEST(a_failed_error_document_adds_the_paragraph_apache_adds)
{
    pth_write_filef(h, "denied/doc.html", "D\n");
    pth_write_filef(h, "pl/err.html", "PL\n");
    pth_write_filef(h, "pl/err403.html", "PL403\n");
    START("ServerSignature On\nErrorDocument 404 /nonexistent.html\n"
          "ErrorDocument 410 /denied/doc.html\nRedirect gone /g\n"
          "<Directory \"@DOCROOT@/denied\">\n  Require all denied\n</Directory>\n"
          "<Directory \"@DOCROOT@/pl\">\n  ErrorDocument 404 /pl/err.html\n"
          "  ErrorDocument 403 /pl/err403.html\n"
          "  RewriteEngine On\n  RewriteRule ^err - [F]\n</Directory>\n");
    pth_expect_error(h, "AH01630");
    pth_expect_error(h, "limit of 10 internal redirects");
    for (size_t i = 0; i < sizeof(failed_documents) / sizeof(failed_documents[0]); i++) {
        pth_resp_t r;
        pth_get(h, failed_documents[i].path, NULL, &r);
        char want[256];
        snprintf(want, sizeof(want),
                 "</p>\n<p>Additionally, a %s\nerror was encountered while trying to use an "
                 "ErrorDocument to handle the request.</p>\n<hr>\n<address>",
                 failed_documents[i].also);
        ck_assert_msg(r.status == failed_documents[i].status && strstr(r.body, want), "%s: %d %s",
                      failed_documents[i].path, r.status, r.body);
        const char *conn = pth_resp_header(&r, "Connection");
        ck_assert_msg((conn && strcasecmp(conn, "close") == 0) == failed_documents[i].close,
                      "%s: Connection %s", failed_documents[i].path, conn ? conn : "(none)");
        pth_resp_free(&r);
    }
}
END_TEST

/* A link Options forbid stops Apache's walk before any section is merged: the 403 is answered
 * with the server's config, so an ErrorDocument or Header of the sections is not used. */
START_TEST(a_forbidden_link_is_answered_with_the_servers_config)
{
    pth_write_filef(h, "sl/real.txt", "s\n");
    pth_write_filef(h, "sl/err.html", "SLERR\n");
    char link[600];
    snprintf(link, sizeof(link), "%s/sl/link.txt", h->docroot);
    ck_assert_int_eq(symlink("real.txt", link), 0);
    START("<Directory \"@DOCROOT@/sl\">\n  Options None\n  ErrorDocument 403 /sl/err.html\n"
          "</Directory>\n"
          "<Location \"/sl/link.txt\">\n  Header always set X-L yes\n</Location>\n");
    pth_expect_error(h, "AH00037");
    pth_resp_t r;
    pth_get(h, "/sl/link.txt", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_ptr_null(strstr(r.body, "SLERR"));
    ck_assert_ptr_null(pth_resp_header(&r, "X-L"));
    pth_resp_free(&r);
}
END_TEST

/* The lookup of a listing's entry reuses the listed directory's walk: a link allowed by the
 * directory's <DirectoryMatch> Options is listed even when the server's Options forbid links
 * (a request for it, walked anew, is refused). */
START_TEST(a_listing_lists_a_link_its_directory_match_allows)
{
    pth_write_dir_file(h, "out.txt", "OUT\n", 4);
    pth_write_filef(h, "lm/x.txt", "x\n");
    char link[600];
    snprintf(link, sizeof(link), "%s/lm/link-out", h->docroot);
    ck_assert_int_eq(symlink(pth_path(h, "out.txt"), link), 0);
    START("Options -FollowSymLinks\n"
          "<DirectoryMatch \"^@DOCROOT@/lm\">\n  DirectoryIndex disabled\n"
          "  Options Indexes FollowSymLinks\n</DirectoryMatch>\n");
    pth_expect_error(h, "AH00037");
    pth_resp_t r;
    pth_get(h, "/lm/", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "x.txt") && strstr(r.body, "link-out"), "listing: %s", r.body);
    pth_resp_free(&r);
    expect("/lm/link-out", 403);
}
END_TEST

static Suite *apache_status_suite(void)
{
    Suite *s = suite_create("apache status");
    TCase *tc = tcase_create("status");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_wildcard_directory_applies_to_a_file_it_names_when_symlinks_are_followed);
    tcase_add_test(tc, an_index_or_fallback_in_the_walked_directory_skips_sections_naming_the_file);
    tcase_add_test(tc, directory_index_lines_in_one_section_add_up_as_in_mod_dir);
    tcase_add_test(tc, a_directory_without_an_index_is_not_sent_to_the_fallback);
    tcase_add_test(tc, only_plain_directory_options_govern_symbolic_links);
    tcase_add_test(tc, index_lookups_answer_with_their_redirect_or_error);
    tcase_add_test(tc, directory_match_sees_a_directory_without_the_slash_the_url_lacks);
    tcase_add_test(tc, a_link_is_checked_with_the_options_of_the_directory_that_holds_it);
    tcase_add_test(tc, a_listing_hides_an_entry_a_redirect_makes_gone);
    tcase_add_test(tc, a_listing_hides_an_entry_denied_behind_a_section_redirect);
    tcase_add_test(tc, a_listing_checks_links_with_the_directory_match_options);
    tcase_add_test(tc, a_sections_redirect_comes_after_require_as_mod_alias_fixup);
    tcase_add_test(tc, a_top_level_ifs_one_argument_redirect_is_met_before_require);
    tcase_add_test(tc, index_fallback_and_rewrite_meet_a_sections_redirect_after_require);
    tcase_add_test(tc, an_early_if_does_not_see_the_file_name_of_the_request_before);
    tcase_add_test(tc, a_htaccess_one_argument_redirect_sends_its_directory_away);
    tcase_add_test(tc, an_error_document_with_the_denied_files_sections_is_sent);
    tcase_add_test(tc, an_error_document_a_redirect_sends_away_leaves_no_location);
    tcase_add_test(tc, an_error_document_a_rewrite_sends_away_answers_with_the_rewrite);
    tcase_add_test(tc, a_failed_error_document_adds_the_paragraph_apache_adds);
    tcase_add_test(tc, a_forbidden_link_is_answered_with_the_servers_config);
    tcase_add_test(tc, a_listing_lists_a_link_its_directory_match_allows);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(apache_status_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
