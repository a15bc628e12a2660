/* The same config must mean the same thing as in Apache httpd 2.4: each test states what
 * Debian's apache2 does with the config it writes (checked side by side), and that portico
 * does the same. Sections stored while nested ones are read, Redirect and RedirectMatch
 * targets, ErrorDocument for every method, Header's two tables, ServerSignature. */
#include "fcgi_backends.h"
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

/* ---- Redirect and RedirectMatch ---------------------------------------------------------- */

static const char redirects_conf[] =
    "Redirect /both http://server.example/both-target\n"
    "<Location /both>\n Redirect http://loc.example/both-loc\n</Location>\n"
    "<Location /loc>\n Redirect http://loc.example/target\n</Location>\n"
    "<Location /loc2>\n Redirect /loc2/sub http://loc.example/sub2\n</Location>\n"
    "<Location /locrel>\n Redirect permanent /rel-target\n</Location>\n"
    "Redirect /lpboth http://server.example/lpboth\n"
    "<Location /lpboth>\n Redirect /lpboth/x http://loc.example/lpboth\n</Location>\n"
    "Redirect /srvq http://x.example/t?a=1\n"
    "Redirect /relr /newr\n"
    "RedirectMatch ^/rm/(.*)$ http://rm.example/x/$1\n"
    "RedirectMatch ^/rmq/(.*)$ http://rm.example/x?y=$1\n"
    "RedirectMatch ^/rel/(.*)$ /new/$1\n"
    "RedirectMatch ^/cap/(.*)$ $1\n"
    "RedirectMatch ^/bs(.*)$ http://bs.example/x\\$1/$1\n"
    "<Directory @DOCROOT@/dd>\n Redirect http://dd.example/\n</Directory>\n"
    "<Directory @DOCROOT@/dd/in>\n Redirect http://in.example/\n</Directory>\n"
    "<Location /lo>\n Redirect http://outer.example/\n</Location>\n"
    "<Location /lo/in>\n Redirect http://inner.example/\n</Location>\n";

/* Each answer is the one Debian's apache2 2.4 gave for the same config and request. "@" in
 * an expected Location stands for "127.0.0.1:PORT", the Host curl sends. */
static const struct {
    const char *path;
    int status;
    const char *location;
} redirect_cases[] = {
    /* A section's Redirect without a path: the target as written, the query appended. */
    {"/loc", 302, "http://loc.example/target"},
    {"/loc/sub?q=1", 302, "http://loc.example/target?q=1"},
    {"/dd/a", 302, "http://dd.example/"},
    /* The innermost section's wins. */
    {"/dd/in/x", 302, "http://in.example/"},
    {"/lo/in/x", 302, "http://inner.example/"},
    {"/lo/x", 302, "http://outer.example/"},
    /* With a path inside a section: a prefix as at server level. */
    {"/loc2/sub/x?q=2", 302, "http://loc.example/sub2/x?q=2"},
    {"/loc2/other", 404, NULL},
    /* A <Location>'s one-argument Redirect wins over the server's; a prefix one does not. */
    {"/both", 302, "http://loc.example/both-loc"},
    {"/both/x?q", 302, "http://loc.example/both-loc?q"},
    {"/lpboth/x/y", 302, "http://server.example/lpboth/x/y"},
    /* The query follows unless the target has its own. */
    {"/srvq/b?q=1", 302, "http://x.example/t?a=1/b"},
    {"/rm/a%20b?q=1", 302, "http://rm.example/x/a%20b?q=1"},
    {"/rmq/a?q=1", 302, "http://rm.example/x?y=a"},
    /* The result is read as a URL: a '?' a capture brings starts its query, the path is
     * escaped as a whole ('~' stays, '%' does not), and a backslash quotes a '$'. */
    {"/rm/a%3fb?q=1", 302, "http://rm.example/x/a?b"},
    {"/rm/%7e%25", 302, "http://rm.example/x/~%25"},
    {"/bsab", 302, "http://bs.example/x$1/ab"},
    /* A URL-path target is made absolute with this server's name and port. */
    {"/locrel/a", 301, "http://@/rel-target"},
    {"/relr/a?z", 302, "http://@/newr/a?z"},
    {"/rel/a?q=1", 302, "http://@/new/a?q=1"},
    /* A target that is neither: 500 (AH00674 in Apache's log). */
    {"/cap/foo", 500, NULL},
    {"/cap/urn:x", 302, "urn:x"},
};

START_TEST(redirects_send_the_location_apache_sends)
{
    pth_mkdir(h, "dd/in");
    pth_expect_error(h, "cannot redirect '/cap/foo' to 'foo'");
    pth_mkdir(h, "loc2");
    pth_config(h, "%s", redirects_conf);
    pth_start(h);
    char self[64];
    snprintf(self, sizeof(self), "127.0.0.1:%d", h->port);
    for (size_t i = 0; i < sizeof(redirect_cases) / sizeof(redirect_cases[0]); i++) {
        pth_resp_t r;
        pth_get(h, redirect_cases[i].path, NULL, &r);
        ck_assert_msg(r.status == redirect_cases[i].status, "%s: status %d",
                      redirect_cases[i].path, r.status);
        const char *want = redirect_cases[i].location;
        char expect[256] = "";
        if (want) {
            const char *at = strchr(want, '@');
            if (at)
                snprintf(expect, sizeof(expect), "%.*s%s%s", (int)(at - want), want, self,
                         at + 1);
            else
                snprintf(expect, sizeof(expect), "%s", want);
        }
        const char *got = pth_resp_header(&r, "Location");
        ck_assert_msg(want ? got && strcmp(got, expect) == 0 : got == NULL,
                      "%s: Location %s, want %s", redirect_cases[i].path, got ? got : "(none)",
                      want ? expect : "(none)");
        pth_resp_free(&r);
    }
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(a_relative_redirect_takes_the_host_name_and_port_80_when_host_has_no_port)
{
    pth_config(h, "%s", redirects_conf);
    pth_start(h);
    const char *const host[] = {"Host: localhost", NULL};
    pth_resp_t r;
    pth_get(h, "/rel/a", host, &r);
    ck_assert_int_eq(r.status, 302);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "http://localhost/new/a");
    pth_resp_free(&r);
    const char *const host80[] = {"Host: foo.example:80", NULL};
    pth_get(h, "/relr", host80, &r);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "http://foo.example/newr");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* A redirect status with no URL after it: apache2 2.4.71 refuses each of these with "URL to
 * redirect to is missing" (a section's one-argument form does not take the status word for
 * its URL). */
static const char *const redirects_missing_their_url[] = {
    "<Location /x>\n Redirect permanent\n</Location>\n",
    "<Directory /srv>\n Redirect temp\n</Directory>\n",
    "<If \"true\">\n Redirect 301\n</If>\n",
    "<Location /x>\n Redirect SeeOther\n</Location>\n",
    "# the server's: a path and no URL\nRedirect permanent /x\n",
};

START_TEST(a_redirect_status_without_its_url_is_a_config_error_with_file_and_line)
{
    pth_write_conf_file(h, "rd.conf", "%s", redirects_missing_their_url[_i]);
    pth_config(h, "Include @DIR@/rd.conf\n");
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
    ck_assert_int_ne(r.code, 0);
    ck_assert_msg(strstr(r.err, "rd.conf:2: Redirect: URL to redirect to is missing"),
                  "%s: got '%s'", redirects_missing_their_url[_i], r.err);
    pth_run_free(&r);
}
END_TEST

/* Redirect lines apache2 2.4.71 refuses, each with its message. The first word is a status
 * when it is a name or starts with a digit, so the rest are refused for the status they
 * give, not for their count. */
static const struct {
    const char *line;
    const char *message;
} redirects_refused[] = {
    {"Redirect /x", "Redirect: URL to redirect to is missing"},
    {"Redirect x", "Redirect: URL to redirect to is missing"},
    {"Redirect gone /x /y", "Redirect URL not valid for this status"},
    {"Redirect 200 /x /y", "Redirect URL not valid for this status"},
    {"Redirect 3xx /x /y", "Redirect URL not valid for this status"},
    {"Redirect bogus /x /y", "Redirect: invalid first argument (of three)"},
    /* apache2 -t takes a status alone at server level, and then every child crashes on
     * every request (SIGSEGV): refused here. */
    {"Redirect gone", "Redirect: the URL-path is missing"},
};

START_TEST(a_redirect_line_apache_refuses_is_a_config_error_with_its_message)
{
    pth_write_conf_file(h, "rd.conf", "%s\n", redirects_refused[_i].line);
    pth_config(h, "Include @DIR@/rd.conf\n");
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-t", "-f", h->conf, NULL);
    ck_assert_int_ne(r.code, 0);
    char want[128];
    snprintf(want, sizeof(want), "rd.conf:1: %s", redirects_refused[_i].message);
    ck_assert_msg(strstr(r.err, want), "%s: got '%s'", redirects_refused[_i].line, r.err);
    pth_run_free(&r);
}
END_TEST

/* Redirect lines apache2 2.4.71 takes, and what it answered for each request below. In a
 * section a word alone, or a 3xx and a word, is the whole section's target (an expression in
 * Apache), checked per request: a non-URL is a 500 that closes the connection. Any number is a
 * status: 200 is sent with the error text, 0 finds no file, 299 is a 500, and past 599 a 500
 * that closes. */
static const char redirect_forms_conf[] =
    "Redirect gone /gone\n"
    "Redirect 200 /two\n"
    "Redirect 299 /t299\n"
    "Redirect 600 /six\n"
    "Redirect 0 /zero\n"
    "<Location /one>\n Redirect x\n</Location>\n"
    "<Directory @DOCROOT@/bog>\n Redirect bogus\n</Directory>\n"
    "<Location /s301>\n Redirect 301 x\n</Location>\n"
    "<Location /l200>\n Redirect 200\n</Location>\n"
    "<Location /lgone>\n Redirect gone /lgone/x\n</Location>\n";

static const struct {
    const char *path;
    int status;
    bool close;
} redirect_form_cases[] = {
    {"/gone/x?q=1", 410, false}, {"/two", 200, false},     {"/t299", 500, false},
    {"/six", 500, true},         {"/zero/f", 404, false},  {"/one/f", 500, true},
    {"/bog/f", 500, true},       {"/s301/f", 500, true},   {"/l200/f", 200, false},
    {"/lgone/x", 410, false},    {"/lgone/f", 200, false},
};

START_TEST(redirect_forms_apache_takes_answer_as_apache)
{
    const char *dirs[] = {"zero", "one", "bog", "s301", "l200", "lgone"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char rel[32];
        snprintf(rel, sizeof(rel), "%s/f", dirs[i]);
        pth_write_filef(h, rel, "file\n");
    }
    pth_expect_error(h, "AH01579: Invalid response status 600");
    pth_expect_error(h, "AH00674: cannot redirect '/(one|s301)/f' to 'x'");
    pth_expect_error(h, "AH00674: cannot redirect '/bog/f' to 'bogus'");
    pth_config(h, "%s", redirect_forms_conf);
    pth_start(h);
    for (size_t i = 0; i < sizeof(redirect_form_cases) / sizeof(redirect_form_cases[0]); i++) {
        pth_resp_t r;
        pth_get(h, redirect_form_cases[i].path, NULL, &r);
        ck_assert_msg(r.status == redirect_form_cases[i].status, "%s: status %d",
                      redirect_form_cases[i].path, r.status);
        const char *conn = pth_resp_header(&r, "Connection");
        bool closed = conn && strcasecmp(conn, "close") == 0;
        ck_assert_msg(closed == redirect_form_cases[i].close, "%s: Connection %s",
                      redirect_form_cases[i].path, conn ? conn : "(none)");
        if (redirect_form_cases[i].status == 200 && strcmp(redirect_form_cases[i].path, "/lgone/f"))
            ck_assert_msg(strstr(r.body, "<title>200 OK</title>") &&
                              strstr(r.body, "The server encountered an internal error"),
                          "%s: body %s", redirect_form_cases[i].path, r.body);
        pth_resp_free(&r);
    }
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- ErrorDocument ---------------------------------------------------------------------- */

/* Apache serves a local ErrorDocument for every method: the internal redirect is a GET
 * (HEAD stays HEAD), with the original status. */
START_TEST(a_local_error_document_answers_a_post_too)
{
    pth_write_filef(h, "err.html", "ERRDOC\n");
    pth_config(h, "ErrorDocument 404 /err.html\n");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, "POST", "/missing", NULL, "abc", 3, &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "ERRDOC\n");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_curl(h, "GET", "/missing", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "ERRDOC\n");
    pth_resp_free(&r);
    /* The connection goes on: the POST's body was read, not taken for the next request. */
    pth_conn_t *c = pth_conn_open(h);
    pth_conn_sendf(c, "POST /missing HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\n"
                      "hello"
                      "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "ERRDOC\n");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_conn_read_response(c, &r, false, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "hello index\n");
    pth_resp_free(&r);
    pth_conn_close(c);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- Header: the onsuccess and always tables ------------------------------------------- */

static const char headers_conf[] = "<Location /h>\n"
                                   " Header set X-On on\n"
                                   " Header always set X-Al al\n"
                                   " Header set X-Both on\n"
                                   " Header always set X-Both al\n"
                                   " Header always set X-A a\n"
                                   " Header unset X-A\n"
                                   " Header set X-B b\n"
                                   " Header always unset X-B\n"
                                   "</Location>\n"
                                   "<Location /h/r>\n Redirect http://r.example/\n</Location>\n";

/* Apache's two tables: plain Header works on the handler's headers, which a locally made
 * error or redirect drops; Header always on the ones sent with every response. Each rule
 * sees only its own table, so set in both sends two fields and an unset in one leaves the
 * other's. */
START_TEST(header_and_header_always_keep_two_tables_as_apache)
{
    pth_write_filef(h, "h/f.txt", "hi\n");
    pth_mkdir(h, "h/sub");
    pth_config(h, "%s", headers_conf);
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/h/f.txt", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "X-On"), "on");
    ck_assert_str_eq(pth_resp_header(&r, "X-Al"), "al");
    ck_assert_uint_eq(pth_resp_header_count(&r, "X-Both"), 2);
    ck_assert_str_eq(pth_resp_header(&r, "X-A"), "a");
    ck_assert_str_eq(pth_resp_header(&r, "X-B"), "b");
    char inm[256];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", pth_resp_header(&r, "ETag"));
    pth_resp_free(&r);
    /* A 304 is the handler's answer, not an error: both tables. */
    const char *const cond[] = {inm, NULL};
    pth_get(h, "/h/f.txt", cond, &r);
    ck_assert_int_eq(r.status, 304);
    ck_assert_str_eq(pth_resp_header(&r, "X-On"), "on");
    ck_assert_uint_eq(pth_resp_header_count(&r, "X-Both"), 2);
    pth_resp_free(&r);
    /* A Redirect, a 404 page and mod_dir's 301 are made by the server: the always table
     * only. */
    const char *miss[] = {"/h/r", "/h/missing", "/h/sub"};
    const int miss_status[] = {302, 404, 301};
    for (int i = 0; i < 3; i++) {
        pth_get(h, miss[i], NULL, &r);
        ck_assert_int_eq(r.status, miss_status[i]);
        ck_assert_ptr_null(pth_resp_header(&r, "X-On"));
        ck_assert_ptr_null(pth_resp_header(&r, "X-B"));
        ck_assert_str_eq(pth_resp_header(&r, "X-Al"), "al");
        ck_assert_uint_eq(pth_resp_header_count(&r, "X-Both"), 1);
        ck_assert_str_eq(pth_resp_header(&r, "X-Both"), "al");
        ck_assert_str_eq(pth_resp_header(&r, "X-A"), "a");
        pth_resp_free(&r);
    }
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* A FastCGI script's header fields are in Apache's always table: checked with apache2,
 * mod_proxy_fcgi and php-fpm on the same config. */
START_TEST(a_scripts_header_fields_are_in_the_always_table)
{
    pth_fpm_t fpm;
    char msg[1024];
    ck_assert_msg(pth_fpm_start(&fpm, 2, false, msg, sizeof(msg)) == 0, "%s", msg);
    const char *dirs[] = {"fa", "fb", "fc"};
    char path[32];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/s.php", dirs[i]);
        pth_write_filef(h, path, "<?php header('X-Script: s'); echo 'ok';");
    }
    pth_config(h, "<FilesMatch \\.php$>\n SetHandler \"proxy:unix:%s|fcgi://localhost\"\n"
                  "</FilesMatch>\n"
                  "<Location /fa>\n Header unset X-Script\n</Location>\n"
                  "<Location /fb>\n Header always unset X-Script\n</Location>\n"
                  "<Location /fc>\n Header set X-Script r\n</Location>\n", fpm.sock);
    pth_start(h);
    pth_resp_t r;
    size_t want[] = {1, 0, 2};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "/%s/s.php", dirs[i]);
        pth_get(h, path, NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(pth_resp_header_count(&r, "X-Script") == want[i], "%s: %zu X-Script",
                      path, pth_resp_header_count(&r, "X-Script"));
        pth_resp_free(&r);
    }
    ck_assert_int_eq(pth_stop(h), 0);
    pth_fpm_free(&fpm);
}
END_TEST

/* ---- ServerSignature -------------------------------------------------------------------- */

START_TEST(server_signature_adds_the_address_line_to_error_pages)
{
    pth_config(h, "ServerTokens Prod\nServerSignature On\nServerAdmin admin@example.com\n"
                  "Redirect /old http://x.example/new\n"
                  "<VirtualHost *:@PORT@>\n ServerName em.example\n ServerSignature EMail\n"
                  "</VirtualHost>\n"
                  "<VirtualHost *:@PORT@>\n ServerName off.example\n ServerSignature Off\n"
                  "</VirtualHost>\n");
    pth_start(h);
    char want[256];
    pth_resp_t r;
    const char *const em[] = {"Host: em.example", NULL};
    pth_get(h, "/missing", em, &r);
    ck_assert_int_eq(r.status, 404);
    snprintf(want, sizeof(want), "<hr>\n<address>%s Server at <a href=\"mailto:admin@example.com\">"
             "em.example</a> Port 80</address>\n</body></html>\n", pth_resp_header(&r, "Server"));
    ck_assert_msg(strstr(r.body, want), "body: %s", r.body);
    pth_resp_free(&r);
    const char *const off[] = {"Host: off.example", NULL};
    pth_get(h, "/missing", off, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_null(strstr(r.body, "<address>"));
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(server_signature_follows_server_tokens_and_the_host)
{
    pth_config(h, "ServerTokens Prod\nServerSignature On\n"
                  "Redirect /old http://x.example/new\n");
    pth_start(h);
    char want[256];
    pth_resp_t r;
    const char *paths[] = {"/missing", "/old"};
    for (int i = 0; i < 2; i++) {
        pth_get(h, paths[i], NULL, &r);
        ck_assert_int_eq(r.status, i == 0 ? 404 : 302);
        ck_assert_str_eq(pth_resp_header(&r, "Server"), "portico");
        snprintf(want, sizeof(want), "<hr>\n<address>portico Server at 127.0.0.1 Port %d"
                 "</address>\n</body></html>\n", h->port);
        ck_assert_msg(strstr(r.body, want), "body: %s", r.body);
        pth_resp_free(&r);
    }
    const char *const named[] = {"Host: www.example:8080", NULL};
    pth_get(h, "/missing", named, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "<address>portico Server at www.example Port 8080"));
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
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
    tcase_add_test(tc, redirects_send_the_location_apache_sends);
    tcase_add_test(tc, a_relative_redirect_takes_the_host_name_and_port_80_when_host_has_no_port);
    tcase_add_loop_test(
        tc, a_redirect_status_without_its_url_is_a_config_error_with_file_and_line, 0,
        (int)(sizeof(redirects_missing_their_url) / sizeof(redirects_missing_their_url[0])));
    tcase_add_loop_test(tc, a_redirect_line_apache_refuses_is_a_config_error_with_its_message, 0,
                        (int)(sizeof(redirects_refused) / sizeof(redirects_refused[0])));
    tcase_add_test(tc, redirect_forms_apache_takes_answer_as_apache);
    tcase_add_test(tc, a_local_error_document_answers_a_post_too);
    tcase_add_test(tc, header_and_header_always_keep_two_tables_as_apache);
    tcase_add_test(tc, a_scripts_header_fields_are_in_the_always_table);
    tcase_add_test(tc, server_signature_adds_the_address_line_to_error_pages);
    tcase_add_test(tc, server_signature_follows_server_tokens_and_the_host);
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
