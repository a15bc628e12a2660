/* The phases around routing, on Debian's apache2 and portico with one config (apache_pair.h):
 * when the environment and header rules run, which section's Redirect comes first, what a
 * FallbackResource its phases refuse answers with, and what RequestHeader does across an
 * internal redirect. */
#include "apache_pair.h"
#include "harness.h"

#include <check.h>
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
}

/* When each environment rule runs, as Apache: server-level SetEnvIf as the request is read
 * (post_read_request), so <If> and server-level RewriteConds see it; per-directory SetEnvIf
 * after the <If> sections merge (header_parser); per-directory RewriteRules first in the
 * fixups, then SetEnv (mod_env's fixup, after the access checks: "Require env" and
 * RewriteCond %{ENV:} do not see it, and it wins over a SetEnvIf of the same name), then
 * RequestHeader (mod_headers' fixup, last). */
static const char env_phase_conf[] =
    "SetEnvIf Request_URI ^/srv/ SRV_VAR=1\n"
    "<If \"reqenv('SRV_VAR') == '1'\">\n  Header always set X-If-Srv yes\n</If>\n"
    "<Directory \"@DOCROOT@/pd\">\n  SetEnvIf Request_URI . DIR_VAR=1\n</Directory>\n"
    "<If \"reqenv('DIR_VAR') == '1'\">\n  Header always set X-If-Dir yes\n</If>\n"
    "Header always set X-Dir-Var \"%{DIR_VAR}e\"\n"
    "RewriteEngine On\n"
    "RewriteCond %{ENV:SRV_VAR} =1\n"
    "RewriteRule ^/srv/go$ /srv/a.txt [R=302,L]\n"
    "SetEnv SE_VAR 1\n"
    "<Location /se/>\n  Require env SE_VAR\n</Location>\n"
    "SetEnv ORDER setenv\n"
    "SetEnv LIT $1\n"
    "Header always set X-Lit \"%{LIT}e\"\n"
    "SetEnvIf Request_URI ^/order ORDER=setenvif\n"
    "Header always set X-Order \"%{ORDER}e\"\n"
    "RequestHeader set X-RH injected\n"
    "Header always set X-RH-Seen yes \"expr=%{HTTP:X-RH} == 'injected'\"\n"
    "<Directory \"@DOCROOT@/rh\">\n  RewriteEngine On\n  RewriteCond %{HTTP:X-RH} =injected\n"
    "  RewriteRule ^ - [F]\n</Directory>\n"
    "<Directory \"@DOCROOT@/pse\">\n  RewriteEngine On\n  RewriteCond %{ENV:SE_VAR} =1\n"
    "  RewriteRule ^ - [F]\n</Directory>\n";

static void compare_env_phases(int ours_port, int theirs_port)
{
    static const char *const paths[] = {"/srv/a.txt", "/srv/go",   "/pd/a.txt", "/se/a.txt",
                                        "/order.txt", "/rh/a.txt", "/pse/a.txt"};
    static const char *const fields[] = {"X-If-Srv", "X-If-Dir",  "X-Dir-Var", "X-Order",
                                         "X-Lit",    "X-RH-Seen", "Location"};
    DT_PAIR_AGREE_ON(paths, fields);
}

START_TEST(apache_runs_the_environment_rules_in_the_same_phases)
{
    static const char *const dirs[] = {"srv", "pd", "se", "rh", "pse"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
        char rel[32];
        snprintf(rel, sizeof(rel), "%s/a.txt", dirs[i]);
        pth_write_filef(h, rel, "a\n");
    }
    pth_write_filef(h, "order.txt", "o\n");
    pth_expect_error(h, "AH01630: client denied by server configuration: .*/se/a\\.txt");
    dt_pair_run(h,
                "LoadModule setenvif_module " DT_APACHE_MODULES "/mod_setenvif.so\n"
                "LoadModule env_module " DT_APACHE_MODULES "/mod_env.so\n"
                "LoadModule rewrite_module " DT_APACHE_MODULES "/mod_rewrite.so\n",
                env_phase_conf, compare_env_phases);
}
END_TEST

/* mod_alias checks the innermost section's Redirects first (its merge puts the inner
 * section's list before the outer's), and a section's one-argument Redirect is its last one
 * (differential seed 22772: a <FilesMatch>'s RedirectMatch before a <Directory>'s Redirect). */
static const char redirect_order_conf[] = "<Directory \"@DOCROOT@\">\n"
                                          "  Redirect /sub http://example.com/outer\n"
                                          "  Redirect /a.txt http://example.com/dir-a\n"
                                          "</Directory>\n"
                                          "<Directory \"@DOCROOT@/sub\">\n"
                                          "  Redirect /sub/page.html http://example.com/inner\n"
                                          "</Directory>\n"
                                          "<FilesMatch \"^(a|b)\\.\">\n"
                                          "  RedirectMatch \"\\.txt$\" http://example.com/files\n"
                                          "</FilesMatch>\n"
                                          "<Location /whole>\n"
                                          "  Redirect http://example.com/first\n"
                                          "  Redirect http://example.com/second\n"
                                          "</Location>\n"
                                          "<Location /whole/in>\n"
                                          "  Redirect http://example.com/in-first\n"
                                          "</Location>\n";

static void compare_redirects(int ours_port, int theirs_port)
{
    static const char *const paths[] = {"/sub/page.html", "/sub/other.html", "/a.txt", "/whole/x",
                                        "/whole/in/y"};
    static const char *const fields[] = {"Location"};
    DT_PAIR_AGREE_ON(paths, fields);
}

START_TEST(apache_checks_the_innermost_sections_redirects_first)
{
    pth_write_filef(h, "sub/page.html", "p\n");
    pth_write_filef(h, "sub/other.html", "o\n");
    pth_write_filef(h, "a.txt", "a\n");
    dt_pair_run(h, "", redirect_order_conf, compare_redirects);
}
END_TEST

/* mod_dir moves to a FallbackResource after a subrequest: when the subrequest's phases answer
 * (a Redirect, gone, a refusal), the request answers with that status and its own config,
 * as apache2 does (differential seed 22932: the <Directory>'s Header always on a 410). */
static const char fallback_conf[] =
    "<Directory \"@DOCROOT@\">\n"
    "  FallbackResource /fb/page.html\n"
    "  Header always set X-Orig yes\n"
    "</Directory>\n"
    "<Directory \"@DOCROOT@/gone\">\n  FallbackResource /fb/gone.html\n</Directory>\n"
    "<Directory \"@DOCROOT@/moved\">\n  FallbackResource /fb/moved.html\n</Directory>\n"
    "<Directory \"@DOCROOT@/denied\">\n  FallbackResource /fb/denied.html\n</Directory>\n"
    "<Location /fb/gone.html>\n  Redirect 410\n</Location>\n"
    "<Location /fb/moved.html>\n  Redirect http://example.com/moved\n</Location>\n"
    "<Location /fb/denied.html>\n  Require all denied\n</Location>\n"
    "<Location /fb/page.html>\n  Header always set X-Fb yes\n</Location>\n";

static void compare_fallbacks(int ours_port, int theirs_port)
{
    static const char *const paths[] = {"/nothere.txt", "/gone/x.txt", "/moved/x.txt",
                                        "/denied/x.txt"};
    static const char *const fields[] = {"X-Orig", "X-Fb", "Location"};
    DT_PAIR_AGREE_ON(paths, fields);
}

START_TEST(apache_answers_a_fallback_its_phases_refuse_with_the_requests_config)
{
    static const char *const files[] = {"fb/page.html",   "fb/gone.html", "fb/moved.html",
                                        "fb/denied.html", "gone/.keep",   "moved/.keep",
                                        "denied/.keep"};
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
        pth_write_filef(h, files[i], "f\n");
    pth_expect_error(h, "AH01630: client denied by server configuration: .*/fb/denied\\.html");
    dt_pair_run(h, "", fallback_conf, compare_fallbacks);
}
END_TEST

/* The ErrorDocument for a refused fallback is checked against the request's own sections,
 * as Apache's internal redirect compares the document's merge with the request's, not the
 * subrequest's (differential seed 25015: a 403 document denied like the fallback beside it,
 * and not like the request, was served). */
static const char fallback_errdoc_conf[] =
    "<Directory \"@DOCROOT@\">\n  Require all denied\n</Directory>\n"
    "<Directory \"@DOCROOT@/sub\">\n  Require all granted\n</Directory>\n"
    "ErrorDocument 403 /errors/403.html\n"
    "FallbackResource /index.html\n";

static void compare_fallback_errdoc(int ours_port, int theirs_port)
{
    static const char *const paths[] = {"/sub/nothere.txt", "/sub/none/s.txt", "/index.html"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
        pth_resp_t ours, theirs;
        dt_pair_ask(ours_port, paths[i], "www.example.com", &ours);
        dt_pair_ask(theirs_port, paths[i], "www.example.com", &theirs);
        bool ours_doc = ours.body && strstr(ours.body, "ERRDOC");
        bool theirs_doc = theirs.body && strstr(theirs.body, "ERRDOC");
        ck_assert_msg(ours.status == theirs.status && ours_doc == theirs_doc,
                      "%s: portico %d%s, apache2 %d%s", paths[i], ours.status,
                      ours_doc ? " (the document)" : "", theirs.status,
                      theirs_doc ? " (the document)" : "");
        pth_resp_free(&ours);
        pth_resp_free(&theirs);
    }
}

START_TEST(apache_checks_a_refused_fallbacks_errordocument_against_the_request)
{
    pth_write_filef(h, "index.html", "index\n");
    pth_write_filef(h, "errors/403.html", "ERRDOC\n");
    pth_write_filef(h, "sub/.keep", "k\n");
    pth_expect_error(h, "AH01630: client denied by server configuration: .*");
    dt_pair_run(h, "", fallback_errdoc_conf, compare_fallback_errdoc);
}
END_TEST

/* mod_headers' RequestHeader rules are a fixup: an internal redirect (an ErrorDocument, a
 * rewrite's local result) runs them again for the new URL on the same header fields (an
 * append twice), and mod_dir's move (FallbackResource, DirectoryIndex) runs those of the file
 * it moves to instead of the request's, since its fixup comes before mod_headers'. */
static const char request_header_conf[] =
    "RequestHeader append X-A v\n"
    "<Location /errors>\n  RequestHeader append X-B err\n</Location>\n"
    "<Location /a.txt>\n  RequestHeader append X-B atxt\n</Location>\n"
    "<Directory \"@DOCROOT@/rw\">\n  RewriteEngine On\n  RewriteRule ^x$ /a.txt [L]\n"
    "</Directory>\n"
    "<Directory \"@DOCROOT@/fb\">\n  FallbackResource /a.txt\n  DirectoryIndex /a.txt\n"
    "  RequestHeader append X-C fbdir\n</Directory>\n"
    "ErrorDocument 404 /errors/404.html\n"
    "Header always set X-Seen-A \"expr=%{req:X-A}\"\n"
    "Header always set X-Seen-B \"expr=%{req:X-B}\"\n"
    "Header always set X-Seen-C \"expr=%{req:X-C}\"\n";

static void compare_request_headers(int ours_port, int theirs_port)
{
    static const char *const paths[] = {"/nothere", "/rw/x", "/a.txt",
                                        "/fb/zz",   "/fb/",  "/fb/page.html"};
    static const char *const fields[] = {"X-Seen-A", "X-Seen-B", "X-Seen-C"};
    DT_PAIR_AGREE_ON(paths, fields);
}

START_TEST(apache_runs_request_header_rules_again_for_the_new_url)
{
    pth_write_filef(h, "a.txt", "a\n");
    pth_write_filef(h, "errors/404.html", "nf\n");
    pth_write_filef(h, "rw/.keep", "k\n");
    pth_write_filef(h, "fb/page.html", "p\n");
    dt_pair_run(h, "LoadModule rewrite_module " DT_APACHE_MODULES "/mod_rewrite.so\n",
                request_header_conf, compare_request_headers);
}
END_TEST

/* mod_headers' early rules run as the request is read, from the server's own config: a
 * server-level RewriteCond sees an early RequestHeader and not a late one, an answer from
 * the URL translation comes before the late rules ran, and a section's early rule never
 * runs. */
static const char early_conf[] =
    "RequestHeader set X-Early yes early\n"
    "RequestHeader set X-Late yes\n"
    "Header always set X-Saw-Early \"expr=%{HTTP:X-Early}\"\n"
    "Header always set X-Saw-Late \"expr=%{HTTP:X-Late}\"\n"
    "Header always set X-Saw-Dir \"expr=%{HTTP:X-Dir-Early}\"\n"
    "Header always set X-Set-Early yes early\n"
    "<Directory \"@DOCROOT@\">\n  RequestHeader set X-Dir-Early yes early\n</Directory>\n"
    "RewriteEngine On\n"
    "RewriteCond %{HTTP:X-Early} =yes\n"
    "RewriteRule ^/e\\.txt$ /a.txt [R=302,L]\n"
    "RewriteCond %{HTTP:X-Late} =yes\n"
    "RewriteRule ^/l\\.txt$ /a.txt [R=302,L]\n";

static void compare_early(int ours_port, int theirs_port)
{
    static const char *const paths[] = {"/a.txt", "/e.txt", "/l.txt"};
    static const char *const fields[] = {"X-Saw-Early", "X-Saw-Late", "X-Saw-Dir", "X-Set-Early",
                                         "Location"};
    DT_PAIR_AGREE_ON(paths, fields);
}

START_TEST(apache_runs_early_header_rules_as_the_request_is_read)
{
    pth_write_filef(h, "a.txt", "a\n");
    dt_pair_run(h, "LoadModule rewrite_module " DT_APACHE_MODULES "/mod_rewrite.so\n", early_conf,
                compare_early);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("apache_phases");
    TCase *tc = tcase_create("phases");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, apache_runs_the_environment_rules_in_the_same_phases);
    tcase_add_test(tc, apache_checks_the_innermost_sections_redirects_first);
    tcase_add_test(tc, apache_answers_a_fallback_its_phases_refuse_with_the_requests_config);
    tcase_add_test(tc, apache_checks_a_refused_fallbacks_errordocument_against_the_request);
    tcase_add_test(tc, apache_runs_request_header_rules_again_for_the_new_url);
    tcase_add_test(tc, apache_runs_early_header_rules_as_the_request_is_read);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
