/* Directives of Apache's core, mod_dir, mod_alias and mod_authz_core that change what a
 * request gets, through the real server: <Limit>/<LimitExcept>, and the others as they are
 * added (see README "Apache compatibility"). Each expected answer was first taken from
 * Debian's apache2 on the same configuration. Nothing here depends on the MPM. */
/* mpms: event */
#include "fcgi_backends.h"
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PTH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static pth_t *h;

static void setup(void)
{
    h = pth_new();
}

static void teardown(void)
{
    pth_free(h);
    h = NULL;
}

/* METHOD path (as user:password when cred is given); the status. */
static int ask(const char *method, const char *path, const char *cred)
{
    char hdr[PTH_BASIC_AUTH_MAX];
    const char *hdrs[2] = {cred ? pth_basic_auth(hdr, sizeof hdr, cred) : NULL, NULL};
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, method, path, hdrs, NULL, 0, &r), 0);
    int st = r.status;
    pth_resp_free(&r);
    return st;
}

static void expect(const char *method, const char *path, const char *cred, int status)
{
    int st = ask(method, path, cred);
    ck_assert_msg(st == status, "%s %s: %d, want %d", method, path, st, status);
}

/* ---- <Limit> and <LimitExcept> ------------------------------------------------------------ */

/* htpasswd -B alice secret */
#define HTPASSWD "alice:$2y$05$8Qqqs8/sc6S8dQac/pycMuzIiTNFTZja4OsX61D7cyxsTD0dnNMWK\n"

START_TEST(limit_protects_only_the_methods_it_names)
{
    pth_write_conf_file(h, "htpasswd", HTPASSWD);
    pth_write_filef(h, "w/index.html", "w\n");
    pth_write_filef(h, "ro/index.html", "ro\n");
    pth_config(h, "<Location /w>\n  AuthType Basic\n  AuthName w\n"
                  "  AuthUserFile @DIR@/htpasswd\n  <Limit POST PUT DELETE>\n"
                  "    Require valid-user\n  </Limit>\n</Location>\n"
                  "<Location /ro>\n  <LimitExcept GET OPTIONS>\n    Require all denied\n"
                  "  </LimitExcept>\n</Location>\n");
    pth_expect_error(h, "AH01630|AH01618|client denied");
    pth_start(h);
    expect("GET", "/w/", NULL, 200);
    expect("HEAD", "/w/", NULL, 200);
    expect("DELETE", "/w/", NULL, 401);
    expect("DELETE", "/w/", "alice:secret", 405); /* admitted; the static handler refuses */
    expect("GET", "/ro/", NULL, 200);
    expect("POST", "/ro/", NULL, 403);
    expect("BREW", "/ro/", NULL, 403);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(limit_in_htaccess_scopes_deny_from)
{
    pth_write_filef(h, "h/index.html", "h\n");
    pth_write_filef(h, "h/.htaccess", "<Limit POST>\nOrder deny,allow\nDeny from all\n"
                                      "</Limit>\n");
    pth_config(h, "<Directory @DOCROOT@/h>\n  AllowOverride Limit\n</Directory>\n");
    pth_expect_error(h, "AH01797");
    pth_start(h);
    expect("GET", "/h/", NULL, 200);
    expect("POST", "/h/", NULL, 403);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- FileETag ------------------------------------------------------------------------------ */

static char *etag_of(const char *path)
{
    pth_resp_t r;
    pth_get(h, path, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    const char *v = pth_resp_header(&r, "ETag");
    char *out = v ? strdup(v) : NULL;
    pth_resp_free(&r);
    return out;
}

START_TEST(file_etag_composes_the_tag_as_apache)
{
    pth_write_filef(h, "a/f.txt", "hi\n");
    pth_write_filef(h, "b/f.txt", "hi\n");
    pth_write_filef(h, "c/f.txt", "hi\n");
    pth_write_filef(h, "d/f.txt", "hi\n");
    pth_write_filef(h, "e/f.txt", "hi\n");
    pth_config(h, "<Directory @DOCROOT@/a>\n  FileETag INode MTime Size\n</Directory>\n"
                  "<Directory @DOCROOT@/b>\n  FileETag None\n</Directory>\n"
                  "<Directory @DOCROOT@/c>\n  FileETag Digest\n</Directory>\n"
                  "<Directory @DOCROOT@/d>\n  FileETag Size\n</Directory>\n"
                  "<Directory @DOCROOT@/d/x>\n  FileETag +MTime\n</Directory>\n"
                  "<Location /e>\n  FileETag -MTime\n</Location>\n");
    /* Dated well before the requests: a file modified within the second has a weak ETag
     * (test_conditional); here the components are under test. */
    for (const char *d = "abcde"; *d; d++) {
        char rel[32];
        snprintf(rel, sizeof rel, "%c/f.txt", *d);
        pth_set_mtime(h, rel, time(NULL) - 3600);
    }
    pth_start(h);
    struct stat st;
    ck_assert_int_eq(stat(pth_path(h, "htdocs/a/f.txt"), &st), 0);
    char want[96];
    long long us = (long long)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
    snprintf(want, sizeof want, "\"%llx-3-%llx\"", (unsigned long long)st.st_ino, us);
    char *t = etag_of("/a/f.txt");
    ck_assert_str_eq(t, want);
    free(t);
    ck_assert_ptr_null(etag_of("/b/f.txt"));
    t = etag_of("/c/f.txt"); /* base64 SHA-1 of "hi\n" */
    ck_assert_str_eq(t, "\"VcpihuPk9Pul0ESDM/qZ/FpASnM=\"");
    free(t);
    t = etag_of("/d/f.txt");
    ck_assert_str_eq(t, "\"3\"");
    free(t);
    /* A relative keyword against the built-in default changes nothing, as in Apache. */
    t = etag_of("/e/f.txt");
    ck_assert_msg(strncmp(t, "\"3-", 3) == 0, "%s", t);
    free(t);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- AcceptPathInfo, DirectorySlash, DirectoryIndexRedirect ---------------------------------- */

static void expect_location(const char *path, int status, const char *loc_suffix)
{
    pth_resp_t r;
    pth_get(h, path, NULL, &r);
    ck_assert_msg(r.status == status, "%s: %d, want %d", path, r.status, status);
    const char *loc = pth_resp_header(&r, "Location");
    if (loc_suffix) {
        ck_assert_ptr_nonnull(loc);
        size_t n = strlen(loc), k = strlen(loc_suffix);
        ck_assert_msg(n >= k && strcmp(loc + n - k, loc_suffix) == 0, "%s: Location %s", path,
                      loc);
    } else {
        ck_assert_ptr_null(loc);
    }
    pth_resp_free(&r);
}

START_TEST(accept_path_info_on_serves_the_file_and_default_is_404)
{
    pth_write_filef(h, "on/f.txt", "on\n");
    pth_write_filef(h, "off/f.txt", "off\n");
    pth_write_filef(h, "dflt/f.txt", "dflt\n");
    pth_config(h, "<Directory @DOCROOT@/on>\n  AcceptPathInfo On\n</Directory>\n"
                  "<Directory @DOCROOT@/off>\n  AcceptPathInfo Off\n</Directory>\n");
    pth_start(h);
    expect("GET", "/on/f.txt/extra/more", NULL, 200);
    expect("GET", "/off/f.txt/extra", NULL, 404);
    expect("GET", "/dflt/f.txt/extra", NULL, 404);
    expect("GET", "/dflt/f.txt", NULL, 200);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(directory_slash_off_and_index_redirect_answer_as_mod_dir)
{
    pth_write_filef(h, "ds/index.html", "ds\n");
    pth_write_filef(h, "dl/index.html", "dl\n");
    pth_write_filef(h, "ir/index.html", "ir\n");
    pth_write_filef(h, "ip/index.html", "ip\n");
    pth_write_filef(h, "plain/index.html", "plain\n");
    pth_config(h, "<Directory @DOCROOT@/ds>\n  DirectorySlash Off\n</Directory>\n"
                  "<Directory @DOCROOT@/dl>\n  DirectorySlash Off\n  Options +Indexes\n"
                  "</Directory>\n"
                  "<Directory @DOCROOT@/ir>\n  DirectoryIndexRedirect seeother\n</Directory>\n"
                  "<Directory @DOCROOT@/ip>\n  DirectoryIndexRedirect permanent\n"
                  "</Directory>\n");
    pth_expect_error(h, "AH01276");
    pth_start(h);
    expect_location("/plain", 301, "/plain/");
    expect_location("/ds", 403, NULL);   /* no redirect, no index: AH01276 */
    expect_location("/ds/", 200, NULL);
    /* The security note of DirectorySlash: the listing shows what index.html hid. */
    pth_resp_t r;
    pth_get(h, "/dl", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "index.html"));
    pth_resp_free(&r);
    expect_location("/ir/?a=b", 303, "/ir/index.html");
    expect_location("/ip/", 301, "/ip/index.html");
    expect_location("/ir/index.html", 200, NULL);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- AuthMerging, AuthzSendForbiddenOnFailure, AuthBasicAuthoritative, AuthBasicFake ------- */

#define AUTH "  AuthType Basic\n  AuthName m\n  AuthUserFile @DIR@/htpasswd\n"

START_TEST(auth_merging_joins_or_drops_the_outer_require)
{
    pth_write_conf_file(h, "htpasswd", HTPASSWD);
    static const char *const dirs[] = {"m/and", "m/or", "m2/off", "m2/plain"};
    for (size_t i = 0; i < PTH_ARRAY_LEN(dirs); i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "%s/index.html", dirs[i]);
        pth_write_filef(h, rel, "%s\n", dirs[i]);
    }
    pth_config(h, "<Directory @DOCROOT@/m>\n" AUTH "  Require ip 127.0.0.1\n</Directory>\n"
                  "<Directory @DOCROOT@/m/and>\n  AuthMerging And\n  Require valid-user\n"
                  "</Directory>\n"
                  "<Directory @DOCROOT@/m/or>\n  AuthMerging Or\n  Require user nobody\n"
                  "</Directory>\n"
                  "<Directory @DOCROOT@/m2>\n  Require ip 192.0.2.1\n</Directory>\n"
                  "<Directory @DOCROOT@/m2/off>\n  AuthMerging Off\n</Directory>\n");
    pth_expect_error(h, "AH01630|AH01618");
    pth_start(h);
    expect("GET", "/m/and/", NULL, 401); /* the address and a user */
    expect("GET", "/m/and/", "alice:secret", 200);
    expect("GET", "/m/or/", NULL, 200); /* the address is enough */
    expect("GET", "/m2/plain/", NULL, 403);
    expect("GET", "/m2/off/", NULL, 200); /* no rules left: granted */
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(forbidden_on_failure_and_non_authoritative_basic)
{
    pth_write_conf_file(h, "htpasswd", HTPASSWD);
    pth_write_filef(h, "f/index.html", "f\n");
    pth_write_filef(h, "n/index.html", "n\n");
    pth_config(h, "<Location /f>\n" AUTH "  Require user bob\n"
                  "  AuthzSendForbiddenOnFailure On\n</Location>\n"
                  "<Location /n>\n" AUTH "  Require valid-user\n"
                  "  AuthBasicAuthoritative Off\n</Location>\n");
    pth_expect_error(h, "AH01631|AH01617|AH01796");
    pth_start(h);
    expect("GET", "/f/", NULL, 401);
    expect("GET", "/f/", "alice:secret", 403); /* authenticated but refused */
    expect("GET", "/f/", "alice:wrong", 401);
    expect("GET", "/n/", "alice:secret", 200);
    expect("GET", "/n/", "alice:wrong", 401); /* a mismatch is still final */
    expect("GET", "/n/", "zed:x", 500);       /* declined, and no other module: AH01796 */
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(auth_basic_fake_sets_the_authorization_the_request_carries)
{
    pth_write_filef(h, "fk/index.html", "fk\n");
    pth_config(h, "<Location /fk>\n  AuthBasicFake \"%%{REMOTE_ADDR}\" \"p-%%{REQUEST_METHOD}\"\n"
                  "  Header always set X-Seen \"expr=%%{req:Authorization}\"\n</Location>\n");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/fk/", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "X-Seen"), "Basic MTI3LjAuMC4xOnAtR0VU");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

static int ask_host(const char *method, const char *host, const char *path, pth_resp_t *r);

/* ---- RedirectRelative, ScriptAliasMatch ---------------------------------------------------- */

START_TEST(redirect_relative_sends_the_path_as_written)
{
    pth_write_filef(h, "cgi/x.sh", "#!/bin/sh\necho secret\n");
    pth_config(h, "<VirtualHost *:@PORT@>\n  ServerName off.example\n"
                  "  Redirect /r1 /target1\n"
                  "  <Location /r7>\n    RedirectRelative On\n    Redirect /t7\n  </Location>\n"
                  "</VirtualHost>\n"
                  "<VirtualHost *:@PORT@>\n  ServerName rel.example\n  RedirectRelative On\n"
                  "  Redirect /r1 /target1\n  RedirectMatch ^/m1(.*) tm$1\n</VirtualHost>\n"
                  "<VirtualHost *:@PORT@>\n  ServerName cgi.example\n"
                  "  ScriptAliasMatch ^/bin/(.*) @DOCROOT@/cgi/$1\n</VirtualHost>\n");
    pth_expect_error(h, "AH00674");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(ask_host("GET", "off.example", "/r1?q=1", &r), 302);
    ck_assert_msg(strncmp(pth_resp_header(&r, "Location"), "http://", 7) == 0, "%s",
                  pth_resp_header(&r, "Location"));
    pth_resp_free(&r);
    ck_assert_int_eq(ask_host("GET", "off.example", "/r7", &r), 302);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "/t7");
    pth_resp_free(&r);
    ck_assert_int_eq(ask_host("GET", "rel.example", "/r1/x?q=1", &r), 302);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "/target1/x?q=1");
    pth_resp_free(&r);
    ck_assert_int_eq(ask_host("GET", "rel.example", "/m1x", &r), 500); /* not a path: AH00674 */
    pth_resp_free(&r);
    ck_assert_int_eq(ask_host("GET", "cgi.example", "/bin/x.sh", &r), 403);
    ck_assert_ptr_null(strstr(r.body ? r.body : "", "secret"));
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- ContentDigest, ModMimeUsePathInfo, PassEnv, <IfDirective>, GlobalLog ------------------- */

START_TEST(content_digest_and_mime_path_info_and_pass_env)
{
    setenv("PT_TEST_PASSENV", "from-the-environment", 1);
    pth_write_filef(h, "d/f.txt", "hi\n");
    pth_config(h, "<Directory @DOCROOT@/d>\n  ContentDigest On\n  ModMimeUsePathInfo On\n"
                  "  AcceptPathInfo On\n  PassEnv PT_TEST_PASSENV\n"
                  "  Header set X-Env \"expr=%%{reqenv:PT_TEST_PASSENV}\"\n</Directory>\n"
                  "<IfDirective FileETag>\n  Header always set X-If-Directive yes\n"
                  "</IfDirective>\n"
                  "<IfDirective LuaHookFixups>\n  Header always set X-Skipped yes\n"
                  "</IfDirective>\n"
                  "<IfSection !VirtualHost>\n  Header always set X-Skipped yes\n</IfSection>\n"
                  "<IfSection Limit>\n  Header always set X-If-Section yes\n</IfSection>\n");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/d/f.txt", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "Content-MD5"), "dk76iD3aHhHbR2ccSju9ng==");
    ck_assert_str_eq(pth_resp_header(&r, "X-Env"), "from-the-environment");
    ck_assert_str_eq(pth_resp_header(&r, "X-If-Directive"), "yes");
    ck_assert_str_eq(pth_resp_header(&r, "X-If-Section"), "yes");
    ck_assert_ptr_null(pth_resp_header(&r, "X-Skipped"));
    pth_resp_free(&r);
    pth_get(h, "/d/f.txt/x.html", NULL, &r); /* the type comes from the path info */
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "text/html");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(global_log_is_written_for_a_vhost_with_its_own_log)
{
    pth_write_filef(h, "d/f.txt", "hi\n");
    pth_config(h, "GlobalLog @DIR@/global.log \"global %%U\"\n"
                  "<VirtualHost *:@PORT@>\n  ServerName own.example\n"
                  "  CustomLog @DIR@/own.log \"own %%U\"\n</VirtualHost>\n");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(ask_host("GET", "own.example", "/d/f.txt", &r), 200);
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(pth_path(h, "own.log"), "own /d/f.txt", 5000));
    ck_assert(pth_file_wait_contains(pth_path(h, "global.log"), "global /d/f.txt", 5000));
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- mod_filter, filter notes, RemoveEncoding ------------------------------------------------ */

START_TEST(filter_provider_chooses_deflate_by_type_and_notes_reach_the_log)
{
    char big[5002];
    memset(big, 'x', 5000);
    big[5000] = '\n';
    big[5001] = '\0';
    pth_write_filef(h, "d/big.txt", "%s", big);
    pth_write_filef(h, "d/big.bin", "%s", big);
    pth_write_filef(h, "e/a.txt.gz", "not really gzip\n");
    pth_write_filef(h, "e/sub/a.txt.gz", "not really gzip\n");
    pth_config(h, "FilterDeclare gzip CONTENT_SET\n"
                  "FilterProvider gzip DEFLATE \"%%{CONTENT_TYPE} =~ m#^text/#\"\n"
                  "FilterProvider br BROTLI_COMPRESS \"%%{CONTENT_TYPE} =~ m#^text/#\"\n"
                  "FilterChain gzip br\n"
                  "DeflateFilterNote Input in\nDeflateFilterNote Output out\n"
                  "DeflateFilterNote ratio\nBrotliFilterNote Input bin\n"
                  "LogFormat \"%%U %%{in}n %%{out}n %%{ratio}n %%{bin}n\" notes\n"
                  "CustomLog @DIR@/notes.log notes\n"
                  "AddEncoding x-gzip .gz\n"
                  "<Directory @DOCROOT@/e/sub>\n  RemoveEncoding .gz\n</Directory>\n");
    pth_start(h);
    const char *gz[] = {"Accept-Encoding: gzip", NULL};
    pth_resp_t r;
    ck_assert_int_eq(pth_curl(h, "GET", "/d/big.txt", gz, NULL, 0, &r), 0);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Encoding"), "gzip");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_curl(h, "GET", "/d/big.bin", gz, NULL, 0, &r), 0);
    ck_assert_ptr_null(pth_resp_header(&r, "Content-Encoding"));
    pth_resp_free(&r);
    /* Apache's numbers for the same file: the raw deflate stream's 23 bytes, ratio 0. */
    ck_assert(pth_file_wait_contains(pth_path(h, "notes.log"), "/d/big.txt 5001 23 0 -\n",
                                     5000));
    ck_assert(pth_file_wait_contains(pth_path(h, "notes.log"), "/d/big.bin - - - -\n", 5000));
    const char *br[] = {"Accept-Encoding: br", NULL};
    ck_assert_int_eq(pth_curl(h, "GET", "/d/big.txt?br", br, NULL, 0, &r), 0);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Encoding"), "br");
    pth_resp_free(&r);
    ck_assert(pth_file_wait_contains(pth_path(h, "notes.log"), "/d/big.txt - - - 5001\n",
                                     5000));
    pth_get(h, "/e/a.txt.gz", NULL, &r);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Encoding"), "x-gzip");
    pth_resp_free(&r);
    pth_get(h, "/e/sub/a.txt.gz", NULL, &r);
    ck_assert_ptr_null(pth_resp_header(&r, "Content-Encoding"));
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- Alias inside <Location>, AliasPreservePath ------------------------------------------- */

START_TEST(location_alias_maps_the_location_and_preserve_path_keeps_the_rest)
{
    pth_write_dir_file(h, "target/f.txt", "target\n", 7);
    pth_config(h, "<Directory @DIR@/target>\n  Require all granted\n</Directory>\n"
                  "<Location /keep>\n  AliasPreservePath On\n  Alias @DIR@/target\n"
                  "</Location>\n"
                  "<Location /whole>\n  Alias @DIR@/target\n</Location>\n");
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/keep/f.txt", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "target\n");
    pth_resp_free(&r);
    /* Off (Apache's default): the whole location is the directory, so the name is not
     * looked up and mod_dir asks for a trailing slash, as Apache answers. */
    expect_location("/whole/f.txt", 301, "/whole/f.txt/");
    expect_location("/whole", 301, "/whole/");
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- MergeSlashes, StrictHostCheck, HttpProtocolOptions ------------------------------------ */

static int ask_host(const char *method, const char *host, const char *path, pth_resp_t *r)
{
    char hdr[128];
    snprintf(hdr, sizeof hdr, "Host: %s", host);
    const char *hdrs[2] = {hdr, NULL};
    ck_assert_int_eq(pth_curl(h, method, path, hdrs, NULL, 0, r), 0);
    return r->status;
}

START_TEST(merge_slashes_off_keeps_double_slashes_for_location_matching)
{
    pth_write_filef(h, "d/f.txt", "f\n");
    pth_config(h, "<LocationMatch \"//\">\n  Header always set X-Double 1\n</LocationMatch>\n"
                  "<VirtualHost *:@PORT@>\n  ServerName off.example\n  MergeSlashes Off\n"
                  "</VirtualHost>\n"
                  "<VirtualHost *:@PORT@>\n  ServerName on.example\n</VirtualHost>\n");
    pth_start(h);
    pth_resp_t r;
    ck_assert_int_eq(ask_host("GET", "off.example", "/d//f.txt", &r), 200);
    ck_assert_ptr_nonnull(pth_resp_header(&r, "X-Double"));
    pth_resp_free(&r);
    ck_assert_int_eq(ask_host("GET", "on.example", "/d//f.txt", &r), 200);
    ck_assert_ptr_null(pth_resp_header(&r, "X-Double"));
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(strict_host_check_refuses_names_no_server_on_the_address_has)
{
    pth_write_filef(h, "d/f.txt", "f\n");
    pth_config(h, "StrictHostCheck On\n"
                  "<VirtualHost *:@PORT@>\n  ServerName a.example\n</VirtualHost>\n"
                  "<VirtualHost *:@PORT@>\n  ServerName b.example\n  ServerAlias c.example\n"
                  "</VirtualHost>\n");
    pth_expect_error(h, "AH10157");
    pth_start(h);
    pth_resp_t r;
    static const struct {
        const char *host;
        int status;
    } cases[] = {{"a.example", 200}, {"c.example", 200}, {"zzz", 400}, {"localhost", 400}};
    for (size_t i = 0; i < PTH_ARRAY_LEN(cases); i++) {
        ck_assert_int_eq(ask_host("GET", cases[i].host, "/d/f.txt", &r), cases[i].status);
        pth_resp_free(&r);
    }
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* Set in the address's default server only (not at the top level), it still applies: the
 * check is skipped only when no server of the configuration turns it on. */
START_TEST(strict_host_check_in_the_default_vhost_alone_refuses_unknown_names)
{
    pth_write_filef(h, "d/f.txt", "f\n");
    pth_config(h, "<VirtualHost *:@PORT@>\n  ServerName a.example\n  StrictHostCheck On\n"
                  "</VirtualHost>\n"
                  "<VirtualHost *:@PORT@>\n  ServerName b.example\n</VirtualHost>\n");
    pth_expect_error(h, "AH10157");
    pth_start(h);
    pth_resp_t r;
    static const struct {
        const char *host;
        int status;
    } cases[] = {{"a.example", 200}, {"b.example", 200}, {"zzz", 400}};
    for (size_t i = 0; i < PTH_ARRAY_LEN(cases); i++) {
        ck_assert_int_eq(ask_host("GET", cases[i].host, "/d/f.txt", &r), cases[i].status);
        pth_resp_free(&r);
    }
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(registered_methods_answers_501_for_unknown_methods)
{
    pth_write_filef(h, "d/f.txt", "f\n");
    pth_config(h, "HttpProtocolOptions Strict RegisteredMethods Require1.0\n"
                  "RegisterHttpMethod BREW\n");
    pth_start(h);
    expect("GET", "/d/f.txt", NULL, 200);
    expect("BREW", "/d/f.txt", NULL, 405); /* known: the static handler refuses it */
    expect("WHEN", "/d/f.txt", NULL, 501);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* portico -t: the config errors and notices of the directives that portico cannot honour. */
static void check_conf(const char *body, int code, const char *needle)
{
    pth_config(h, "%s", body);
    pth_config_test(h, code, needle);
}

START_TEST(what_portico_cannot_honour_is_an_error_or_a_notice)
{
    check_conf("HttpProtocolOptions Unsafe\n", 1, "HttpProtocolOptions Unsafe is not supported");
    check_conf("HttpProtocolOptions Allow0.9\n", 1, "does not speak HTTP/0.9");
    check_conf("Protocol https\n", 1, "SSLEngine on");
    check_conf("Protocol http\n", 0, "notice: Protocol http has no effect");
    check_conf("MergeTrailers On\n", 0, "notice: MergeTrailers On has no effect");
    check_conf("<LocationMatch ^/x>\n Alias /srv\n</LocationMatch>\n", 1,
               "Alias with one argument is supported in a <Location path> section only");
    check_conf("DefaultType text/plain\n", 0, "notice: DefaultType text/plain ignored");
    check_conf("LimitXMLRequestBody 1000\n", 0, "notice: LimitXMLRequestBody has no effect");
    check_conf("ChrootDir /srv\n", 1, "ChrootDir is not supported");
    check_conf("Suexec On\n", 1, "Suexec On: portico runs no CGI");
    check_conf("Suexec Off\n", 0, "Syntax OK");
    check_conf("LoadFile /usr/lib/x.so\n", 1, "LoadFile is not supported");
    check_conf("SetInputFilter DEFLATE\n", 1, "portico has no request input filters");
    check_conf("AddInputFilter DEFLATE .gz\n", 1, "portico has no request input filters");
    check_conf("RemoveInputFilter .gz\n", 0, "notice: RemoveInputFilter has no effect");
    check_conf("DeflateInflateLimitRequestBody 100\n", 0, "does not inflate request bodies");
    check_conf("DeflateInflateRatioLimit 200\n", 0, "does not inflate request bodies");
    check_conf("DeflateInflateRatioBurst 3\n", 0, "does not inflate request bodies");
    check_conf("FilterTrace gzip 1\n", 0, "notice: FilterTrace ignored");
    check_conf("DirectoryCheckHandler On\n", 0, "notice: DirectoryCheckHandler On");
    check_conf("DirectoryCheckHandler Off\n", 1, "DirectoryCheckHandler Off is not supported");
    check_conf("FilterProvider z INFLATE \"true\"\n", 1, "output filter 'INFLATE' is not");
    check_conf("FilterProtocol gzip change=yes\n", 0, "notice: FilterProtocol ignored");
    check_conf("BrotliCompressionMaxInputBlock 30\n", 1, "out of range (16 to 24)");
    check_conf("DeflateFilterNote Sideways n\n", 1, "unknown note type Sideways");
    check_conf("<Location />\n AuthBasicUseDigestAlgorithm MD5\n</Location>\n", 1,
               "AuthBasicUseDigestAlgorithm MD5 needs a provider");
    check_conf("<AuthnProviderAlias file f2>\n AuthUserFile /x\n</AuthnProviderAlias>\n", 1,
               "<AuthnProviderAlias> is not supported");
    check_conf("RegexDefaultOptions DOTALL DOLLAR_ENDONLY\n", 0, "Syntax OK");
    check_conf("RegexDefaultOptions +ICASE\n", 1, "put the option in the patterns");
    check_conf("RegexDefaultOptions BOGUS\n", 1, "RegexDefaultOptions: option 'BOGUS' unknown");
    check_conf("PassEnv PT_SURELY_UNDEFINED_VAR\n", 0,
               "notice: PassEnv variable PT_SURELY_UNDEFINED_VAR was undefined");
    check_conf("CGIVar REQUEST_URI sideways\n", 1, "Unrecognized value for CGIVar REQUEST_URI");
    check_conf("ScriptAliasMatch ^/cgi/(.*) /srv/$1\n", 0, "notice: ScriptAliasMatch");
}
END_TEST

/* ---- What FastCGI sees: CGIPassAuth, CGIVar, QualifyRedirectURL, AuthBasicFake ------------- */

PTH_FPM_SUITE_POOL(2)

START_TEST(fastcgi_variables_follow_cgi_pass_auth_cgi_var_and_qualify_redirect_url)
{
    static const char *const dirs[] = {"plain", "pass", "cur", "fake"};
    for (size_t i = 0; i < PTH_ARRAY_LEN(dirs); i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "%s/index.php", dirs[i]);
        pth_write_filef(h, rel, "<?php echo 'auth=', $_SERVER['HTTP_AUTHORIZATION'] ?? '-', "
                                "' uri=', $_SERVER['REQUEST_URI'] ?? '-', "
                                "' from=', $_SERVER['REDIRECT_URL'] ?? '-';");
    }
    pth_config(h,
               "<FilesMatch \"\\.php$\">\n"
               "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n</FilesMatch>\n"
               "<Directory @DOCROOT@/plain>\n  FallbackResource /plain/index.php\n"
               "</Directory>\n"
               "<Directory @DOCROOT@/pass>\n  CGIPassAuth On\n</Directory>\n"
               "<Directory @DOCROOT@/cur>\n  ErrorDocument 404 /cur/index.php\n"
               "  CGIVar REQUEST_URI current-uri\n  QualifyRedirectURL On\n</Directory>\n"
               "<Directory @DOCROOT@/fake>\n  AuthBasicFake fakeuser fakepw\n"
               "  CGIPassAuth On\n</Directory>\n",
               fpm.sock);
    pth_start(h);
    const char *hd[] = {"Authorization: Basic dXNlcjpwdw==", NULL};
    pth_resp_t r;
    /* mod_dir's fallback is a fast redirect (a subrequest's result copied into the request):
     * no r->prev, so no REDIRECT_URL (apache2 2.4.71 with a CGI script); an ErrorDocument's
     * internal redirect has one. */
    pth_get(h, "/plain/missing?x=1", hd, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "auth=- uri=/plain/missing?x=1 from=-");
    pth_resp_free(&r);
    pth_get(h, "/pass/index.php", hd, &r);
    ck_assert_str_eq(r.body, "auth=Basic dXNlcjpwdw== uri=/pass/index.php from=-");
    pth_resp_free(&r);
    pth_get(h, "/cur/missing?x=1", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_msg(strncmp(r.body, "auth=- uri=/cur/index.php from=http://", 38) == 0 &&
                      strstr(r.body, "/cur/missing") != NULL,
                  "%s", r.body);
    pth_resp_free(&r);
    pth_get(h, "/fake/index.php", NULL, &r); /* base64("fakeuser:fakepw") */
    ck_assert_str_eq(r.body, "auth=Basic ZmFrZXVzZXI6ZmFrZXB3 uri=/fake/index.php from=-");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* An ErrorDocument's script, as apache2 2.4.71 ran the same config with php-fpm: its request
 * has no query (the document's URL has none), the original one is REDIRECT_QUERY_STRING (unset
 * when there was none), and REDIRECT_REQUEST_METHOD is the original method, GET too. An
 * ErrorDocument with its own query gives it; FallbackResource keeps the request's query. */
START_TEST(an_error_documents_script_sees_the_original_query_as_redirect_query_string)
{
    pth_write_filef(h, "env.php",
                    "<?php foreach (['QUERY_STRING', 'REDIRECT_QUERY_STRING', "
                    "'REDIRECT_REQUEST_METHOD', 'REDIRECT_URL', 'REDIRECT_STATUS'] as $k) "
                    "echo $k, '=', $_SERVER[$k] ?? '-', ' ';");
    pth_write_filef(h, "fb/env.php",
                    "<?php echo 'q=', $_SERVER['QUERY_STRING'] ?? '-', "
                    "' rq=', $_SERVER['REDIRECT_QUERY_STRING'] ?? '-';");
    pth_config(h,
               "<FilesMatch \"\\.php$\">\n"
               "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n</FilesMatch>\n"
               "ErrorDocument 404 /env.php\n"
               "<Location /own>\n  ErrorDocument 404 /env.php?own=1\n</Location>\n"
               "<Directory @DOCROOT@/fb>\n  FallbackResource /fb/env.php\n</Directory>\n",
               fpm.sock);
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/missing?a=1&b=2", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "QUERY_STRING= REDIRECT_QUERY_STRING=a=1&b=2 "
                             "REDIRECT_REQUEST_METHOD=GET REDIRECT_URL=/missing "
                             "REDIRECT_STATUS=404 ");
    pth_resp_free(&r);
    pth_get(h, "/missing", NULL, &r);
    ck_assert_str_eq(r.body, "QUERY_STRING= REDIRECT_QUERY_STRING=- "
                             "REDIRECT_REQUEST_METHOD=GET REDIRECT_URL=/missing "
                             "REDIRECT_STATUS=404 ");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_curl(h, "POST", "/missing?p=1", NULL, "x=1", 3, &r), 0);
    ck_assert_str_eq(r.body, "QUERY_STRING= REDIRECT_QUERY_STRING=p=1 "
                             "REDIRECT_REQUEST_METHOD=POST REDIRECT_URL=/missing "
                             "REDIRECT_STATUS=404 ");
    pth_resp_free(&r);
    pth_get(h, "/own/x?a=1", NULL, &r);
    ck_assert_str_eq(r.body, "QUERY_STRING=own=1 REDIRECT_QUERY_STRING=a=1 "
                             "REDIRECT_REQUEST_METHOD=GET REDIRECT_URL=/own/x "
                             "REDIRECT_STATUS=404 ");
    pth_resp_free(&r);
    pth_get(h, "/fb/nothere?k=v", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "q=k=v rq=-");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("core_directives");
    TCase *tc = tcase_create("limit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, limit_protects_only_the_methods_it_names);
    tcase_add_test(tc, limit_in_htaccess_scopes_deny_from);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, file_etag_composes_the_tag_as_apache);
    tcase_add_test(tc, accept_path_info_on_serves_the_file_and_default_is_404);
    tcase_add_test(tc, directory_slash_off_and_index_redirect_answer_as_mod_dir);
    suite_add_tcase(s, tc);

    tc = tcase_create("auth");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, auth_merging_joins_or_drops_the_outer_require);
    tcase_add_test(tc, forbidden_on_failure_and_non_authoritative_basic);
    tcase_add_test(tc, auth_basic_fake_sets_the_authorization_the_request_carries);
    suite_add_tcase(s, tc);

    tc = tcase_create("fcgi");
    tcase_add_unchecked_fixture(tc, fpm_up, fpm_down);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, fastcgi_variables_follow_cgi_pass_auth_cgi_var_and_qualify_redirect_url);
    tcase_add_test(tc, an_error_documents_script_sees_the_original_query_as_redirect_query_string);
    suite_add_tcase(s, tc);

    tc = tcase_create("server");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, redirect_relative_sends_the_path_as_written);
    tcase_add_test(tc, location_alias_maps_the_location_and_preserve_path_keeps_the_rest);
    tcase_add_test(tc, content_digest_and_mime_path_info_and_pass_env);
    tcase_add_test(tc, global_log_is_written_for_a_vhost_with_its_own_log);
    tcase_add_test(tc, filter_provider_chooses_deflate_by_type_and_notes_reach_the_log);
    tcase_add_test(tc, merge_slashes_off_keeps_double_slashes_for_location_matching);
    tcase_add_test(tc, strict_host_check_refuses_names_no_server_on_the_address_has);
    tcase_add_test(tc, strict_host_check_in_the_default_vhost_alone_refuses_unknown_names);
    tcase_add_test(tc, registered_methods_answers_501_for_unknown_methods);
    tcase_add_test(tc, what_portico_cannot_honour_is_an_error_or_a_notice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
