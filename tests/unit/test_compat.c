/* What real Apache configurations carry beyond portico's own directives (conf/modcatalog.c,
 * conf/directives_compat.c, the LoadModule and <IfModule> parts of conf/config.c, handler
 * names in src/loader.c): accepted, noted for -t, or refused in plain words. */
#include "config.h"
#include "handler.h"
#include "mime.h"
#include "startup.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static char err[PT_ERRLEN];

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    return remove(p);
}

static void setup(void)
{
    strcpy(root, "/tmp/ptcompatXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    err[0] = '\0';
}

static void teardown(void)
{
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", root, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static pt_config_t *load(const char *text)
{
    put("main.conf", text);
    char p[256];
    snprintf(p, sizeof(p), "%s/main.conf", root);
    pt_parse_opts_t o = {.server_root = root};
    pt_startup_register();
    return pt_config_load(p, &o, err, sizeof(err));
}

/* The error text after "ROOT/". */
static const char *rel_err(void)
{
    size_t n = strlen(root);
    return strncmp(err, root, n) == 0 && err[n] == '/' ? err + n + 1 : err;
}

/* How many notices contain needle. */
static size_t notes_with(const pt_config_t *c, const char *needle)
{
    size_t k = 0;
    for (size_t i = 0; i < c->nnotices; i++)
        k += strstr(c->notices[i], needle) != NULL;
    return k;
}

static pt_config_t *load_ok(const char *text)
{
    pt_config_t *c = load(text);
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

/* ---- LoadModule and <IfModule> ---------------------------------------------------------- */

START_TEST(loadmodule_of_debians_default_modules_is_accepted_with_a_notice_each)
{
    pt_config_t *c = load_ok(
        "Listen 8080\n"
        "LoadModule filter_module /usr/lib/apache2/modules/mod_filter.so\n"
        "LoadModule negotiation_module /usr/lib/apache2/modules/mod_negotiation.so\n"
        "LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so\n"
        "LoadModule access_compat_module /usr/lib/apache2/modules/mod_access_compat.so\n"
        "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n");
    ck_assert_uint_eq(c->nnotices, 1); /* filter, alias, access_compat are portico's own */
    ck_assert_msg(strstr(c->notices[0], "main.conf:3: notice: LoadModule negotiation_module "
                                        "accepted and ignored: portico does not implement"),
                  "%s", c->notices[0]);
    pt_config_free(c);
}
END_TEST

START_TEST(a_module_loaded_as_a_no_op_makes_its_ifmodule_true_as_in_apache)
{
    /* What is inside is then read as in Apache: a bad line there is an error, not skipped. */
    pt_config_t *c = load("Listen 8080\nLoadModule negotiation_module mod_negotiation.so\n"
                          "<IfModule mod_negotiation.c>\nNoSuchDirectiveHere x\n</IfModule>\n");
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(rel_err(), "main.conf:4:"), "%s", err);
    c = load_ok("Listen 8080\n<IfModule mod_negotiation.c>\nNoSuchDirectiveHere x\n"
                "</IfModule>\n");
    pt_config_free(c);
}
END_TEST

START_TEST(loadmodule_of_an_apache_module_portico_lacks_says_so_in_plain_words)
{
    pt_config_t *c = load("Listen 8080\n\nLoadModule include_module "
                          "/usr/lib/apache2/modules/mod_include.so\n");
    ck_assert_ptr_null(c);
    ck_assert_str_eq(rel_err(), "main.conf:3: LoadModule include_module: portico does not "
                                "provide Apache's include_module (server-side includes), and "
                                "cannot load Apache's modules");
    c = load("Listen 8080\nLoadModule cgid_module mod_cgid.so\n");
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "CGI scripts") && strstr(err, "fcgiwrap"), "%s", err);
}
END_TEST

START_TEST(loadmodule_of_an_unknown_apache_library_is_not_a_dlopen_riddle)
{
    /* A module of Apache's that the catalogue does not list: dlopen fails on an APR symbol. */
    const char *so = "/usr/lib/apache2/modules/mod_bucketeer.so";
    ck_assert_msg(access(so, R_OK) == 0, "%s: Debian's apache2 package is required", so);
    char text[256];
    snprintf(text, sizeof(text), "Listen 8080\nLoadModule bucketeer_module %s\n", so);
    pt_config_t *c = load(text);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(rel_err(), "main.conf:2: LoadModule bucketeer_module: "
                                    "/usr/lib/apache2/modules/mod_bucketeer.so is a module "
                                    "built for Apache httpd, which portico cannot load"),
                  "%s", err);
    ck_assert_ptr_null(strstr(err, "apr_"));
}
END_TEST

START_TEST(a_skipped_ifmodule_of_a_known_apache_module_is_noted)
{
    pt_config_t *c = load_ok("Listen 8080\n<IfModule mod_include.c>\nSSILegacyExprParser on\n"
                             "</IfModule>\n<IfModule !mod_include.c>\nServerAdmin a@b\n"
                             "</IfModule>\n<IfModule mod_unheard_of.c>\nX y\n</IfModule>\n"
                             "<IfModule !mod_dir.c>\nY z\n</IfModule>\n");
    ck_assert_uint_eq(c->nnotices, 1);
    ck_assert_msg(strstr(c->notices[0], "main.conf:2: notice: <IfModule mod_include.c> "
                                        "skipped: portico does not provide include_module "
                                        "(server-side includes)"), "%s", c->notices[0]);
    ck_assert_str_eq(c->main_server->server_admin, "a@b");
    pt_config_free(c);
}
END_TEST

START_TEST(a_built_in_module_takes_its_directives_inside_its_ifmodule)
{
    pt_config_t *c = load_ok("Listen 8080\n<IfModule mod_proxy.c>\nProxyStatus On\n"
                             "</IfModule>\n<IfModule autoindex_module>\nIndexOptions "
                             "FancyIndexing\n</IfModule>\n<IfModule mod_mime.c>\n"
                             "RemoveType .x\n</IfModule>\n");
    pt_config_free(c);
}
END_TEST

START_TEST(iffile_tests_a_path_relative_to_server_root)
{
    put("present.txt", "x");
    pt_config_t *c = load_ok("Listen 8080\n<IfFile present.txt>\nServerAdmin yes@x\n"
                             "</IfFile>\n<IfFile !present.txt>\nServerAdmin no@x\n</IfFile>\n"
                             "<IfFile \"/nonexistent/file\">\nServerName wrong\n</IfFile>\n"
                             "<IfFile !/nonexistent/file>\nServerName right\n</IfFile>\n");
    ck_assert_str_eq(c->main_server->server_admin, "yes@x");
    ck_assert_str_eq(c->main_server->server_name, "right");
    pt_config_free(c);
    c = load("Listen 8080\n<IfFile>\n</IfFile>\n");
    ck_assert_ptr_null(c);
    ck_assert_str_eq(rel_err(), "main.conf:2: <IfFile> takes one argument");
}
END_TEST

START_TEST(an_apache_directive_portico_lacks_is_named_as_such_not_as_a_misspelling)
{
    pt_config_t *c = load("Listen 8080\n<IfModule mod_proxy.c>\nProxyRemote * http://p:8080\n"
                          "</IfModule>\n");
    ck_assert_ptr_null(c);
    /* (ProxyRemote's message goes on to say what it would do: issue 11) */
    const char *want = "main.conf:3: ProxyRemote is a directive of Apache's mod_proxy that "
                       "portico does not implement";
    ck_assert_msg(strncmp(rel_err(), want, strlen(want)) == 0, "%s", rel_err());
    c = load("Listen 8080\n<IfVersion >= 2.4>\n</IfVersion>\n");
    ck_assert_ptr_null(c);
    ck_assert_str_eq(rel_err(), "main.conf:2: <IfVersion> is a directive of Apache's "
                                "mod_version that portico does not implement");
    c = load("Listen 8080\nServerNmae x\n");
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(rel_err(), "main.conf:2: Invalid command 'ServerNmae', perhaps "
                                    "misspelled"), "%s", err);
}
END_TEST

/* ---- Directives accepted and noted ------------------------------------------------------ */

START_TEST(cosmetic_directives_are_accepted_and_noted_once_per_name)
{
    pt_config_t *c = load_ok("Listen 8080\nAddIcon /icons/a.gif .a\nAddIcon /icons/b.gif .b\n"
                             "IndexIgnore .??* *~\nLanguagePriority en fr\n"
                             "ForceLanguagePriority Prefer Fallback\nAddLanguage en .en\n"
                             "AddCharset UTF-8 .utf8\nDefaultLanguage en\n"
                             "<Directory /srv>\nAddIcon /icons/c.gif .c\nHeaderName H.html\n"
                             "</Directory>\n");
    ck_assert_uint_eq(notes_with(c, "AddIcon ignored"), 1);
    ck_assert_uint_eq(notes_with(c, "main.conf:2: notice: AddIcon ignored"), 1);
    ck_assert_uint_eq(notes_with(c, "IndexIgnore ignored"), 1);
    ck_assert_uint_eq(notes_with(c, "notice: LanguagePriority ignored"), 1);
    ck_assert_uint_eq(notes_with(c, "ForceLanguagePriority ignored"), 1);
    ck_assert_uint_eq(notes_with(c, "main.conf:12: notice: HeaderName ignored"), 1);
    ck_assert_uint_eq(c->nnotices, 5); /* mod_mime's tags are done, not noted */
    pt_config_free(c);
}
END_TEST

START_TEST(name_virtual_host_and_multiviews_are_noted_and_change_nothing)
{
    pt_config_t *c = load_ok("Listen 8080\nNameVirtualHost *:8080\n<Directory /srv>\n"
                             "Options +MultiViews\n</Directory>\n<Directory /x>\n"
                             "Options -MultiViews\n</Directory>\n");
    ck_assert_uint_eq(c->nnotices, 2);
    ck_assert_uint_eq(notes_with(c, "main.conf:2: notice: NameVirtualHost has no effect"), 1);
    ck_assert_uint_eq(notes_with(c, "main.conf:4: notice: Options MultiViews does nothing"), 1);
    ck_assert_uint_eq(c->nvhosts, 0);
    pt_config_free(c);
    c = load("Listen 8080\nNameVirtualHost\n");
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(apache_tuning_settings_are_noted_and_error_stops_the_load)
{
    pt_config_t *c = load_ok("Listen 8080\nSendBufferSize 65536\nMaxRanges 10\n"
                             "<VirtualHost *:8080>\nMaxRanges 20\nRLimitCPU 10 20\n"
                             "</VirtualHost>\nThreadStackSize 8388608\n");
    ck_assert_uint_eq(c->nnotices, 4);
    ck_assert_uint_eq(notes_with(c, "main.conf:3: notice: MaxRanges ignored"), 1);
    pt_config_free(c);
    c = load("Listen 8080\n<IfDefine !SSL_READY>\nError \"set SSL_READY first\"\n"
             "</IfDefine>\n");
    ck_assert_ptr_null(c);
    ck_assert_str_eq(rel_err(), "main.conf:3: set SSL_READY first");
    c = load("Listen 8080\nPort 80\n");
    ck_assert_ptr_null(c);
    ck_assert_str_eq(rel_err(), "main.conf:2: Port was replaced with Listen in Apache 2.0");
}
END_TEST

/* ---- mod_mime's removals ---------------------------------------------------------------- */

START_TEST(remove_type_undoes_an_outer_add_type_and_the_table_applies_again)
{
    pt_config_t *c = load_ok("Listen 8080\nAddType text/x-mine .txt .zz\n"
                             "<Directory /srv/plain>\nRemoveType .txt zz\n</Directory>\n");
    pt_arena_t *a = pt_arena_create(4096);
    const pt_vhost_t *m = c->main_server;
    const pt_dir_config_t *out = pt_config_dir_for(a, m, "/srv/other/a.txt", "/a.txt");
    const pt_dir_config_t *in = pt_config_dir_for(a, m, "/srv/plain/a.txt", "/a.txt");
    ck_assert_str_eq(pt_mime_type_for(a, c->mime, out, "/srv/other/a.txt"), "text/x-mine");
    ck_assert_str_eq(pt_mime_type_for(a, c->mime, in, "/srv/plain/a.txt"), "text/plain");
    ck_assert_str_eq(pt_mime_type_for(a, c->mime, out, "/srv/other/a.zz"), "text/x-mine");
    ck_assert_ptr_null(pt_mime_type_for(a, c->mime, in, "/srv/plain/a.zz"));
    pt_arena_destroy(a);
    pt_config_free(c);
}
END_TEST

START_TEST(remove_handler_undoes_an_outer_add_handler)
{
    pt_config_t *c = load_ok("Listen 8080\nAddHandler server-status .st\n"
                             "<Directory /srv/up>\nRemoveHandler .st\n</Directory>\n");
    pt_arena_t *a = pt_arena_create(4096);
    const pt_vhost_t *m = c->main_server;
    const pt_dir_config_t *out = pt_config_dir_for(a, m, "/srv/x/a.st", "/a.st");
    const pt_dir_config_t *in = pt_config_dir_for(a, m, "/srv/up/a.st", "/a.st");
    ck_assert_ptr_eq(out->handlers[0].handler->run, pt_status_handler);
    ck_assert_str_eq(in->handlers[0].ext, "st");
    ck_assert_ptr_null(in->handlers[0].value); /* the first entry for .st: removed */
    ck_assert_ptr_null(in->handlers[0].handler);
    pt_arena_destroy(a);
    pt_config_free(c);
}
END_TEST

START_TEST(add_charset_and_add_language_tag_files_by_extension_as_mod_mime)
{
    pt_config_t *c = load_ok("Listen 8080\nAddCharset UTF-8 .utf8\nAddCharset KOI8-r .koi8\n"
                             "AddLanguage en .en\nAddLanguage pt-BR .pt-br\n"
                             "AddType \"text/html; charset=latin1\" .lat\n"
                             "<Directory /srv/d>\nDefaultLanguage fr\nRemoveLanguage .en\n"
                             "RemoveCharset utf8\n</Directory>\n");
    pt_arena_t *a = pt_arena_create(4096);
    const pt_vhost_t *m = c->main_server;
    const pt_dir_config_t *o = pt_config_dir_for(a, m, "/srv/x/f", "/f");
    const pt_dir_config_t *in = pt_config_dir_for(a, m, "/srv/d/f", "/f");
    /* The charset is lower-cased, as mod_mime stores it; the last extension that maps wins. */
    ck_assert_str_eq(pt_mime_type_for(a, c->mime, o, "/srv/x/a.txt.utf8"),
                     "text/plain; charset=utf-8");
    ck_assert_str_eq(pt_mime_type_for(a, c->mime, o, "/srv/x/a.utf8.koi8.html"),
                     "text/html; charset=koi8-r");
    ck_assert_str_eq(pt_mime_type_for(a, c->mime, o, "/srv/x/a.lat.utf8"),
                     "text/html; charset=latin1"); /* the type's own charset stays */
    ck_assert_ptr_null(pt_mime_type_for(a, c->mime, o, "/srv/x/a.utf8")); /* no type: none */
    ck_assert_str_eq(pt_mime_type_for(a, c->mime, in, "/srv/d/a.txt.utf8"), "text/plain");
    ck_assert_str_eq(pt_mime_languages(a, o, "/srv/x/a.en.pt-br.html"), "en,pt-br");
    ck_assert_ptr_null(pt_mime_languages(a, o, "/srv/x/a.html"));
    ck_assert_ptr_null(pt_mime_languages(a, o, "/srv/x/en")); /* a name, not an extension */
    ck_assert_str_eq(pt_mime_languages(a, in, "/srv/d/a.en.html"), "fr");
    pt_arena_destroy(a);
    pt_config_free(c);
}
END_TEST

/* ---- Handler names ---------------------------------------------------------------------- */

START_TEST(a_handler_name_nothing_provides_is_a_config_error)
{
    /* Apache would serve the file as it is: for a mod_php leftover, the PHP source. */
    pt_config_t *c = load("Listen 8080\n<FilesMatch \"\\.php$\">\n"
                          "SetHandler application/x-httpd-php\n</FilesMatch>\n");
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(rel_err(), "main.conf:3: SetHandler application/x-httpd-php: no "
                                    "part of portico handles 'application/x-httpd-php'") &&
                      strstr(err, "php-fpm"), "%s", err);
    c = load("Listen 8080\n<VirtualHost *:8080>\nAddHandler cgi-script .cgi .pl\n"
             "</VirtualHost>\n");
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(rel_err(), "main.conf:3: AddHandler cgi-script: no part of portico "
                                    "handles 'cgi-script'"), "%s", err);
    c = load_ok("Listen 8080\nAddHandler server-status .st\nSetHandler None\n"
                "<Location /s>\nSetHandler default-handler\n</Location>\n");
    pt_config_free(c);
}
END_TEST

static Suite *compat_suite(void)
{
    Suite *s = suite_create("compat");
    TCase *mod = tcase_create("modules");
    tcase_add_checked_fixture(mod, setup, teardown);
    tcase_add_test(mod, loadmodule_of_debians_default_modules_is_accepted_with_a_notice_each);
    tcase_add_test(mod, a_module_loaded_as_a_no_op_makes_its_ifmodule_true_as_in_apache);
    tcase_add_test(mod, loadmodule_of_an_apache_module_portico_lacks_says_so_in_plain_words);
    tcase_add_test(mod, loadmodule_of_an_unknown_apache_library_is_not_a_dlopen_riddle);
    tcase_add_test(mod, a_skipped_ifmodule_of_a_known_apache_module_is_noted);
    tcase_add_test(mod, a_built_in_module_takes_its_directives_inside_its_ifmodule);
    tcase_add_test(mod, iffile_tests_a_path_relative_to_server_root);
    tcase_add_test(mod, an_apache_directive_portico_lacks_is_named_as_such_not_as_a_misspelling);
    suite_add_tcase(s, mod);
    TCase *dir = tcase_create("directives");
    tcase_add_checked_fixture(dir, setup, teardown);
    tcase_add_test(dir, cosmetic_directives_are_accepted_and_noted_once_per_name);
    tcase_add_test(dir, name_virtual_host_and_multiviews_are_noted_and_change_nothing);
    tcase_add_test(dir, apache_tuning_settings_are_noted_and_error_stops_the_load);
    tcase_add_test(dir, remove_type_undoes_an_outer_add_type_and_the_table_applies_again);
    tcase_add_test(dir, remove_handler_undoes_an_outer_add_handler);
    tcase_add_test(dir, add_charset_and_add_language_tag_files_by_extension_as_mod_mime);
    tcase_add_test(dir, a_handler_name_nothing_provides_is_a_config_error);
    suite_add_tcase(s, dir);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(compat_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
