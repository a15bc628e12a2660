/* The httpd.conf language (config.c) and the directive table (directives.c): every syntax
 * feature, every error kind with its exact FILE:LINE prefix, and a realistic config. */
#include "access.h"
#include "config.h"
#include "fcgi/fcgi.h"
#include "handler.h"
#include "startup.h"
#include "headers.h"
#include "scheme.h"

#include <arpa/inet.h>
#include <check.h>
#include <ftw.h>
#include <netinet/in.h>
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
    strcpy(root, "/tmp/ptcfgXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    char p[128];
    snprintf(p, sizeof(p), "%s/htdocs", root);
    mkdir(p, 0755);
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

static void sub(const char *name)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", root, name);
    ck_assert_int_eq(mkdir(p, 0755), 0);
}

static pt_config_t *load_defs(const char *text, const char **defs, size_t ndefs)
{
    put("main.conf", text);
    char p[256];
    snprintf(p, sizeof(p), "%s/main.conf", root);
    pt_parse_opts_t o = {.server_root = root, .defines = defs, .ndefines = ndefs};
    pt_startup_register(); /* as main.c: the directives of the floors above conf */
    return pt_config_load(p, &o, err, sizeof(err));
}

static pt_config_t *load(const char *text)
{
    return load_defs(text, NULL, 0);
}

/* The error text after "ROOT/", e.g. "main.conf:2: ..." */
static const char *rel_err(void)
{
    size_t n = strlen(root);
    return strncmp(err, root, n) == 0 && err[n] == '/' ? err + n + 1 : err;
}

#define EXPECT_ERROR(text, msg)                                                            \
    do {                                                                                   \
        pt_config_t *c_ = load(text);                                                      \
        ck_assert_ptr_null(c_);                                                            \
        ck_assert_str_eq(rel_err(), msg);                                                  \
    } while (0)

/* Parses a tree directly. */
static pt_node_t *parse(pt_arena_t *a, const char *text)
{
    put("p.conf", text);
    char p[256];
    snprintf(p, sizeof(p), "%s/p.conf", root);
    pt_parse_opts_t o = {.server_root = root};
    return pt_config_parse(a, p, &o, NULL, err, sizeof(err));
}

/* ---- Language --------------------------------------------------------------------------- */

START_TEST(joins_continuations_skips_comments_and_unquotes_words)
{
    pt_arena_t *a = pt_arena_create(0);
    pt_node_t *n = parse(a, "# comment\n   # indented comment\n\n"
                            "Header set X-A \"a b \\\"c\\\"\" 'it''s'\n"
                            "Alias /x \\\n    /y\n"
                            "Foo \"a\\b\"\n");
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n->name, "Header");
    ck_assert_int_eq(n->line, 4);
    ck_assert_int_eq(n->argc, 5);
    ck_assert_str_eq(n->argv[2], "a b \"c\"");
    ck_assert_str_eq(n->argv[3], "it");
    ck_assert_str_eq(n->argv[4], "s");
    n = n->next;
    ck_assert_str_eq(n->name, "Alias");
    ck_assert_int_eq(n->line, 5);
    ck_assert_int_eq(n->argc, 2);
    ck_assert_str_eq(n->argv[1], "/y");
    n = n->next;
    ck_assert_int_eq(n->line, 7);
    ck_assert_str_eq(n->argv[0], "a\\b");
    ck_assert_ptr_null(n->next);
    pt_arena_destroy(a);
}
END_TEST

START_TEST(expands_defines_before_environment_variables)
{
    pt_arena_t *a = pt_arena_create(0);
    setenv("PT_TEST_VAR", "fromenv", 1);
    setenv("PT_TEST_BOTH", "env", 1);
    pt_node_t *n = parse(a, "Define PT_TEST_BOTH define\n"
                            "X ${PT_TEST_BOTH}/${PT_TEST_VAR} \"q ${PT_TEST_VAR}\"\n"
                            "UnDefine PT_TEST_BOTH\nY ${PT_TEST_BOTH}\n");
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n->argv[0], "define/fromenv");
    ck_assert_str_eq(n->argv[1], "q fromenv");
    ck_assert_str_eq(n->next->argv[0], "env");
    pt_arena_destroy(a);
}
END_TEST

START_TEST(rejects_undefined_variable_with_its_location)
{
    EXPECT_ERROR("Listen 8080\n\nServerAdmin ${PT_SURELY_UNDEFINED}\n",
                 "main.conf:3: variable ${PT_SURELY_UNDEFINED} is not defined");
}
END_TEST

START_TEST(nests_sections_with_case_insensitive_names)
{
    pt_arena_t *a = pt_arena_create(0);
    pt_node_t *n = parse(a, "<VirtualHost *:80>\n  <directory \"/srv\">\n    Options None\n"
                            "  </DIRECTORY>\n</virtualhost>\nAfter 1\n");
    ck_assert_ptr_nonnull(n);
    ck_assert(n->section);
    ck_assert_str_eq(n->argv[0], "*:80");
    ck_assert_str_eq(n->children->name, "directory");
    ck_assert_str_eq(n->children->argv[0], "/srv");
    ck_assert_str_eq(n->children->children->name, "Options");
    ck_assert_str_eq(n->next->name, "After");
    pt_arena_destroy(a);
}
END_TEST

START_TEST(rejects_unclosed_and_mismatched_sections)
{
    EXPECT_ERROR("Listen 8080\n<Directory /srv>\nOptions None\n",
                 "main.conf:2: <Directory> was not closed.");
    EXPECT_ERROR("Listen 8080\n<Directory /srv>\n</Location>\n",
                 "main.conf:3: Expected </Directory> but saw </Location>");
    EXPECT_ERROR("Listen 8080\n</Files>\n", "main.conf:2: </Files> without matching <Files> "
                                            "section");
    EXPECT_ERROR("Listen 8080\n<Directory /srv\n</Directory>\n",
                 "main.conf:2: <Directory> directive missing closing '>'");
}
END_TEST

START_TEST(includes_globs_in_sorted_order_relative_to_server_root)
{
    sub("conf.d");
    put("conf.d/b.conf", "ServerAdmin b@x\n");
    put("conf.d/a.conf", "ServerAdmin a@x\nServerName fromA\n");
    put("conf.d/c.txt", "Broken directive\n");
    pt_config_t *c = load("Listen 8080\nInclude conf.d/*.conf\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->main_server->server_admin, "b@x");
    ck_assert_str_eq(c->main_server->server_name, "fromA");
    pt_config_free(c);
}
END_TEST

START_TEST(includes_every_file_of_a_directory)
{
    sub("inc");
    put("inc/20-b", "ServerAdmin second\n");
    put("inc/10-a", "ServerAdmin first\nServerName n\n");
    pt_config_t *c = load("Listen 8080\nInclude inc\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->main_server->server_admin, "second");
    pt_config_free(c);
}
END_TEST

START_TEST(rejects_missing_include_but_include_optional_is_silent)
{
    pt_config_t *c = load("Listen 8080\nInclude nothere.conf\n");
    ck_assert_ptr_null(c);
    char want[256];
    snprintf(want, sizeof(want), "main.conf:2: could not open configuration file "
                                 "%s/nothere.conf: No such file or directory", root);
    ck_assert_str_eq(rel_err(), want);
    c = load("Listen 8080\nIncludeOptional nothere.conf\nIncludeOptional none/*.conf\n"
             "IncludeOptional *.none\n");
    ck_assert_msg(c != NULL, "%s", err);
    pt_config_free(c);
    c = load("Listen 8080\nInclude *.none\n");
    ck_assert_ptr_null(c);
    snprintf(want, sizeof(want), "main.conf:2: No matches for the wildcard '*.none' in '%s'",
             root);
    ck_assert_str_eq(rel_err(), want);
}
END_TEST

START_TEST(rejects_include_loop)
{
    put("a.conf", "ServerAdmin a\nInclude b.conf\n");
    put("b.conf", "\nInclude a.conf\n");
    pt_config_t *c = load("Listen 8080\nInclude a.conf\n");
    ck_assert_ptr_null(c);
    char want[256];
    snprintf(want, sizeof(want), "b.conf:2: Include loop: %s/a.conf includes itself", root);
    ck_assert_str_eq(rel_err(), want);
}
END_TEST

START_TEST(ifmodule_keeps_built_in_modules_and_skips_others)
{
    pt_config_t *c = load("Listen 8080\n"
                          "<IfModule mod_dir.c>\nServerAdmin dir\n</IfModule>\n"
                          "<IfModule security2_module>\nServerAdmin h2 ${UNDEFINED_OK}\n"
                          "<Nested>\n</Nested>\n</IfModule>\n"
                          "<IfModule !cache_module>\nServerName noproxy\n</IfModule>\n"
                          "<IfModule mpm_prefork_module>\nServerName prefork\n</IfModule>\n"
                          "<IfModule mpm_event_module>\nThreadsPerChild 7\n</IfModule>\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->main_server->server_admin, "dir");
    ck_assert_str_eq(c->main_server->server_name, "noproxy");
    ck_assert_int_eq(c->threads_per_child, 7);
    pt_config_free(c);
    c = load("Listen 8080\nMPM prefork\n"
             "<IfModule mpm_prefork_module>\nServerName prefork\n</IfModule>\n"
             "<IfModule prefork.c>\nServerAdmin p\n</IfModule>\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->mpm, PT_MPM_PREFORK);
    ck_assert_str_eq(c->main_server->server_name, "prefork");
    ck_assert_str_eq(c->main_server->server_admin, "p");
    ck_assert_int_eq(c->max_request_workers, 256);
    pt_config_free(c);
}
END_TEST

/* Debian's ports.conf puts Listen 443 in <IfModule ssl_module>; its mods-enabled has no
 * ssl.load until a2enmod ssl, and Apache then opens only port 80. Once a LoadModule names a
 * module Apache loads as a shared object, <IfModule> follows the LoadModule lines for those
 * (the ones Apache compiles in stay present); a config without such lines has them all. */
START_TEST(ifmodule_follows_loadmodule_in_an_apache_layout)
{
    pt_config_t *c = load("LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
                          "LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so\n"
                          "Listen 8080\n"
                          "<IfModule ssl_module>\nListen 8443\n</IfModule>\n"
                          "<IfModule mod_ssl.c>\nListen 8444\n</IfModule>\n"
                          "<IfModule !ssl_module>\nServerName nossl\n</IfModule>\n"
                          "<IfModule mod_dir.c>\nServerAdmin dir\n</IfModule>\n"
                          "<IfModule log_config_module>\nServerSignature Off\n</IfModule>\n"
                          "<IfModule mpm_event_module>\nThreadsPerChild 7\n</IfModule>\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->nlistens, 1);
    ck_assert_str_eq(c->main_server->server_name, "nossl");
    ck_assert_str_eq(c->main_server->server_admin, "dir");
    ck_assert_int_eq(c->threads_per_child, 7);
    pt_config_free(c);
    c = load("LoadModule dir_module x.so\nLoadModule ssl_module x.so\nListen 8080\n"
             "<IfModule ssl_module>\nListen 8443\n</IfModule>\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->nlistens, 2);
    pt_config_free(c);
    c = load("Listen 8080\n<IfModule ssl_module>\nListen 8443\n</IfModule>\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->nlistens, 2);
    pt_config_free(c);
}
END_TEST

START_TEST(ifdefine_sees_command_line_and_config_defines)
{
    const char *defs[] = {"FROMCLI"};
    pt_config_t *c = load_defs("Listen 8080\nDefine LOCAL\n"
                               "<IfDefine FROMCLI>\nServerAdmin cli\n</IfDefine>\n"
                               "<IfDefine !LOCAL>\nServerAdmin wrong\n</IfDefine>\n"
                               "<IfDefine NOPE>\nServerName wrong\n</IfDefine>\n"
                               "<IfDefine !NOPE>\nServerName right\n</IfDefine>\n",
                               defs, 1);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->main_server->server_admin, "cli");
    ck_assert_str_eq(c->main_server->server_name, "right");
    pt_config_free(c);
}
END_TEST

START_TEST(loadmodule_accepts_built_ins_and_rejects_others)
{
    pt_config_t *c = load("Listen 8080\nLoadModule dir_module modules/mod_dir.so\n"
                          "LoadModule mpm_worker_module modules/mod_mpm_worker.so\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->mpm, PT_MPM_WORKER);
    pt_config_free(c);
    /* Not built in: loaded from ServerRoot, and refused when the file is not there. */
    pt_config_t *c2 = load("Listen 8080\nLoadModule counter_module modules/mod_counter.so\n");
    ck_assert_ptr_null(c2);
    char want[256];
    snprintf(want, sizeof(want),
             "main.conf:2: Cannot load %s/modules/mod_counter.so into server: No such file or "
             "directory", root);
    ck_assert_str_eq(rel_err(), want);
    /* An Apache module portico knows and does not provide: said in plain words. */
    c2 = load("Listen 8080\nLoadModule php7_module modules/libphp7.so\n");
    ck_assert_ptr_null(c2);
    ck_assert_msg(strstr(err, "main.conf:2: LoadModule php7_module: portico does not provide "
                              "Apache's php7_module (PHP inside the server)") &&
                      strstr(err, "php-fpm"), "%s", err);
    /* php_module is also portico's own (modules/php): the file named is loaded. */
    c2 = load("Listen 8080\nLoadModule php_module modules/libphp.so\n");
    ck_assert_ptr_null(c2);
    snprintf(want, sizeof(want),
             "main.conf:2: Cannot load %s/modules/libphp.so into server: No such file or "
             "directory", root);
    ck_assert_str_eq(rel_err(), want);
    EXPECT_ERROR("Listen 8080\nMPM event\nLoadModule mpm_prefork_module x.so\n",
                 "main.conf:3: module mpm_prefork_module is not built into portico (loadable "
                 "modules are not supported)");
}
END_TEST

START_TEST(module_list_names_built_ins_by_either_name)
{
    ck_assert(pt_module_known("dir_module", PT_MPM_EVENT));
    ck_assert(pt_module_known("mod_log_config.c", PT_MPM_EVENT));
    ck_assert(pt_module_known("mpm_event_module", PT_MPM_EVENT));
    ck_assert(!pt_module_known("mpm_event_module", PT_MPM_WORKER));
    ck_assert(pt_module_known("ssl_module", PT_MPM_EVENT));
    ck_assert(pt_module_known("mod_ssl.c", PT_MPM_EVENT));
    ck_assert(!pt_module_known("cache_module", PT_MPM_EVENT));
    ck_assert(pt_module_known("mod_status.c", PT_MPM_EVENT));
    ck_assert(pt_module_known("mod_http2.c", PT_MPM_EVENT));
    const char *const *l = pt_module_list();
    size_t n = 0;
    while (l[n])
        n++;
    ck_assert_int_ge(n, 17); /* grows as modules are built in */
    ck_assert_str_eq(l[0], "core_module");
}
END_TEST

/* ---- Directive errors ------------------------------------------------------------------- */

/* Handler names are looked up once, at load (src/loader.c): each SetHandler and AddHandler
 * name, and each backend's scheme, becomes a pointer that requests follow. A name nothing
 * answers to is kept (Apache takes any name) and resolved to the handler that serves the
 * file with a warning; None leaves no handler, so AddHandler and the default apply. */
static const pt_dir_config_t *section_conf(const pt_vhost_t *vh, const char *pattern)
{
    for (size_t i = 0; i < vh->nsections; i++)
        if (strcmp(vh->sections[i].pattern, pattern) == 0)
            return vh->sections[i].conf;
    ck_abort_msg("no section %s", pattern);
    return NULL;
}

START_TEST(handler_names_are_resolved_to_pointers_at_load)
{
    /* The fcgi scheme registers its handler (pt_startup_register, as main.c). */
    pt_startup_register();
    const pt_handler_t *fcgi = &pt_fcgi_scheme.handler;
    ck_assert_ptr_eq(pt_handler_find("proxy:fcgi://h/"), fcgi);
    ck_assert_int_eq(pt_handler_register(fcgi), 0); /* the same one again: ignored */
    static const pt_handler_t twin = {"PROXY:fcgi", pt_static_handler, true};
    ck_assert_int_eq(pt_handler_register(&twin), PT_EINVAL); /* a name taken */
    pt_config_t *c = load("Listen 8080\nAddHandler server-status .st\nAddHandler type-map .var\n"
                          "<Location /s>\n SetHandler server-status\n</Location>\n"
                          "<Location /m>\n SetHandler METRICS\n</Location>\n"
                          "<Location /n>\n SetHandler None\n</Location>\n"
                          "<Location /p>\n SetHandler \"proxy:unix:/tmp/x.sock|fcgi://h\"\n"
                          "</Location>\nProxyPass /pp fcgi://127.0.0.1:9000/\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_vhost_t *m = c->main_server;
    ck_assert_ptr_eq(c->default_handler, pt_handler_find("static"));
    ck_assert_ptr_eq(c->default_handler->run, pt_static_handler);
    ck_assert_ptr_eq(section_conf(m, "/s")->handler->run, pt_status_handler);
    ck_assert_ptr_eq(section_conf(m, "/m")->handler->run, pt_metrics_handler);
    ck_assert_ptr_null(section_conf(m, "/n")->handler);
    const pt_dir_config_t *p = section_conf(m, "/p");
    ck_assert_ptr_eq(p->handler, fcgi);
    ck_assert_ptr_eq(p->handler_backend->handler, fcgi);
    ck_assert_ptr_eq(m->proxy_passes[0].backend->handler, fcgi);
    ck_assert_ptr_eq(fcgi->run, pt_fcgi_handler);
    ck_assert_uint_eq(m->dir->nhandlers, 2);
    ck_assert_ptr_eq(m->dir->handlers[0].handler->run, pt_status_handler);
    /* mod_negotiation's type maps are text: served as files, with a -t notice. */
    ck_assert_ptr_eq(m->dir->handlers[1].handler, c->default_handler);
    ck_assert_uint_eq(c->nnotices, 1);
    ck_assert_msg(strstr(c->notices[0], "main.conf:3: notice: AddHandler type-map:"), "%s",
                  c->notices[0]);
    /* A merge carries the pointer with its name. */
    pt_arena_t *a = pt_arena_create(4096);
    const pt_dir_config_t *d = pt_config_dir_for(a, m, NULL, "/s/x");
    ck_assert_ptr_eq(d->handler->run, pt_status_handler);
    pt_arena_destroy(a);
    pt_config_free(c);
}
END_TEST

START_TEST(rejects_unknown_directive_as_apache_does)
{
    EXPECT_ERROR("Listen 8080\nServerNmae x\n",
                 "main.conf:2: Invalid command 'ServerNmae', perhaps misspelled or defined by "
                 "a module not included in the server configuration");
    EXPECT_ERROR("Listen 8080\n<Bogus x>\n</Bogus>\n",
                 "main.conf:2: Invalid command '<Bogus', perhaps misspelled or defined by "
                 "a module not included in the server configuration");
}
END_TEST

START_TEST(rejects_wrong_argument_counts)
{
    EXPECT_ERROR("Listen 8080\nKeepAlive\n", "main.conf:2: KeepAlive takes 1 argument, got 0");
    EXPECT_ERROR("Listen 8080\nTimeout 1 2\n", "main.conf:2: Timeout takes 1 argument, got 2");
    EXPECT_ERROR("Listen 8080 http x\n", "main.conf:1: Listen takes 1 to 2 arguments, got 3");
    EXPECT_ERROR("Listen 8080\nAddType text/x\n",
                 "main.conf:2: AddType takes at least 2 arguments, got 1");
}
END_TEST

START_TEST(rejects_bad_values)
{
    EXPECT_ERROR("Listen 8080\nTimeout soon\n", "main.conf:2: Timeout: 'soon' is not a number");
    EXPECT_ERROR("Listen 8080\nLimitRequestFields 40000\n",
                 "main.conf:2: LimitRequestFields: 40000 is out of range (0 to 32767)");
    EXPECT_ERROR("Listen 8080\nKeepAlive yes\n", "main.conf:2: KeepAlive must be On or Off");
    EXPECT_ERROR("Listen 99999\n", "main.conf:1: Listen: 99999 is out of range (1 to 65535)");
    EXPECT_ERROR("Listen 8080\nServerTokens Everything\n",
                 "main.conf:2: ServerTokens: unknown value 'Everything'");
    EXPECT_ERROR("Listen 8080\nMPM hybrid\n", "main.conf:2: MPM must be event, worker or "
                                              "prefork");
    EXPECT_ERROR("Listen 8080\nOptions Indexes +ExecCGI\n",
                 "main.conf:2: Either all Options must start with + or -, or no Option may.");
    EXPECT_ERROR("Listen 8080\nOptions Sideways\n", "main.conf:2: Illegal option Sideways");
    EXPECT_ERROR("Listen 8080\nLogLevel chatty\n", "main.conf:2: LogLevel: unknown level "
                                                   "'chatty'");
    EXPECT_ERROR("Listen 8080\nRedirect bogus /a http://x/ extra\n",
                 "main.conf:2: Redirect takes 1 to 3 arguments, got 4");
    EXPECT_ERROR("Listen 8080\nErrorDocument 200 /x\n",
                 "main.conf:2: ErrorDocument: 200 is out of range (400 to 599)");
}
END_TEST

START_TEST(rejects_directives_outside_their_context)
{
    EXPECT_ERROR("Listen 8080\n<VirtualHost *:8080>\n  Listen 8081\n</VirtualHost>\n",
                 "main.conf:3: Listen cannot occur within <VirtualHost> section");
    EXPECT_ERROR("Listen 8080\n<Directory /srv>\n  DocumentRoot /srv\n</Directory>\n",
                 "main.conf:3: DocumentRoot cannot occur within <Directory> section");
    EXPECT_ERROR("Listen 8080\nRequire all granted\n", "main.conf:2: Require not allowed here");
    EXPECT_ERROR("Listen 8080\n<Location />\n<Directory /x>\n</Directory>\n</Location>\n",
                 "main.conf:3: <Directory cannot occur within <Location> section");
    EXPECT_ERROR("Listen 8080\n<Location />\nAllowOverride None\n</Location>\n",
                 "main.conf:3: AllowOverride cannot occur within <Location> section");
}
END_TEST

START_TEST(rejects_missing_or_non_directory_document_root)
{
    EXPECT_ERROR("Listen 8080\nDocumentRoot /nonexistent/portico\n",
                 "main.conf:2: DocumentRoot '/nonexistent/portico' is not a directory, or is "
                 "not readable");
    put("afile", "x");
    pt_config_t *c = load("Listen 8080\nDocumentRoot afile\n");
    ck_assert_ptr_null(c);
    char want[256];
    snprintf(want, sizeof(want), "main.conf:2: DocumentRoot '%s/afile' is not a directory, "
                                 "or is not readable", root);
    ck_assert_str_eq(rel_err(), want);
}
END_TEST

START_TEST(rejects_bad_allow_override_and_dns_features)
{
    EXPECT_ERROR("Listen 8080\n<Directory /srv>\nAllowOverride All Bogus\n</Directory>\n",
                 "main.conf:3: Illegal override option Bogus");
    EXPECT_ERROR("Listen 8080\n<Directory /srv>\nAllowOverride Nonfatal=Some\n</Directory>\n",
                 "main.conf:3: AllowOverride: Nonfatal=Some: expected Override, Unknown or All");
    EXPECT_ERROR("Listen 8080\nHostnameLookups On\n",
                 "main.conf:2: HostnameLookups On is not supported: portico does no reverse "
                 "DNS lookups");
}
END_TEST

START_TEST(rejects_bad_regex)
{
    EXPECT_ERROR("Listen 8080\n<FilesMatch \"(unclosed\">\n</FilesMatch>\n",
                 "main.conf:2: bad regex '(unclosed': missing closing parenthesis at offset 9");
    EXPECT_ERROR("Listen 8080\nSetEnvIf User-Agent \"[a\" bot\n",
                 "main.conf:2: bad regex '[a': missing terminating ] for character class at "
                 "offset 2");
}
END_TEST

/* Debian's default-ssl.conf: <FilesMatch "\.(?:cgi|shtml|phtml|php)$">, PCRE syntax; and
 * "\d", which POSIX ERE took for a literal "d", so that a deny rule never applied. */
START_TEST(takes_pcre_syntax_in_every_regex_directive)
{
    pt_config_t *c = load("Listen 8080\n<FilesMatch \"\\.(?:cgi|php)$\">\n</FilesMatch>\n"
                          "<LocationMatch \"^/api/v\\d+/\">\n</LocationMatch>\n"
                          "AliasMatch \"^/(?:x|y)/(.*)\" /srv/$1\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->main_server->nsections, 2);
    const pt_regex_t *re = c->main_server->sections[0].re;
    ck_assert_int_eq(pt_regex_exec(re, "index.php", 0, NULL, 0), 0);
    ck_assert_int_ne(pt_regex_exec(re, "index.phps", 0, NULL, 0), 0);
    re = c->main_server->sections[1].re;
    ck_assert_int_eq(pt_regex_exec(re, "/api/v2/x", 0, NULL, 0), 0);
    ck_assert_int_ne(pt_regex_exec(re, "/api/vd/x", 0, NULL, 0), 0);
    pt_config_free(c);
}
END_TEST

START_TEST(rejects_duplicate_listen_and_missing_listen)
{
    pt_config_t *c = load("Listen 127.0.0.1:8080\nListen 127.0.0.1:8080\n");
    ck_assert_ptr_null(c);
    char want[256];
    snprintf(want, sizeof(want), "main.conf:2: Cannot define multiple Listeners on the same "
                                 "IP:port (127.0.0.1:8080, first at %s/main.conf:1)", root);
    ck_assert_str_eq(rel_err(), want);
    c = load("ServerName x\n");
    ck_assert_ptr_null(c);
    snprintf(want, sizeof(want), "%s/main.conf: no Listen directive", root);
    ck_assert_str_eq(err, want);
}
END_TEST

/* ---- Values ----------------------------------------------------------------------------- */

START_TEST(applies_apache_defaults)
{
    pt_config_t *c = load("Listen 8080\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_vhost_t *m = c->main_server;
    ck_assert_int_eq(c->mpm, PT_MPM_EVENT);
    ck_assert(m->keepalive);
    ck_assert_int_eq(m->keepalive_timeout_ms, 5000);
    ck_assert_int_eq(m->max_keepalive_requests, 100);
    ck_assert_int_eq(m->timeout_ms, 60000);
    ck_assert_int_eq(m->header_timeout_ms, 20000);
    ck_assert_int_eq(m->header_max_timeout_ms, 40000);
    ck_assert_int_eq(m->header_min_rate, 500);
    ck_assert_int_eq(m->body_timeout_ms, 20000);
    ck_assert_int_eq(m->body_min_rate, 500);
    ck_assert_uint_eq(m->limit_request_line, 8190);
    ck_assert_uint_eq(m->limit_request_fields, 100);
    ck_assert_uint_eq(m->limit_request_field_size, 8190);
    ck_assert_int_eq(m->dir->limit_request_body, (int64_t)1 << 30);
    ck_assert_uint_eq(m->dir->options, PT_OPT_FOLLOW_SYMLINKS);
    ck_assert_uint_eq(m->dir->ndir_index, 1);
    ck_assert_str_eq(m->dir->dir_index[0], "index.html");
    ck_assert_int_eq(c->server_tokens, 5);
    ck_assert_int_eq(c->threads_per_child, 25);
    ck_assert_int_eq(c->start_servers, 3);
    ck_assert_int_eq(c->server_limit, 16);
    ck_assert_int_eq(c->max_request_workers, 400);
    ck_assert_int_eq(c->listen_backlog, 511);
    ck_assert_int_eq(c->log_level, PT_LOG_WARN);
    ck_assert_str_eq(c->error_log, "/dev/stderr");
    ck_assert_ptr_null(m->document_root);
    char host[256] = "";
    gethostname(host, sizeof(host));
    ck_assert_str_eq(m->server_name, host);
    ck_assert_ptr_nonnull(c->mime);
    pt_config_free(c);
}
END_TEST

START_TEST(parses_listen_forms)
{
    pt_config_t *c = load("Listen 8080\nListen 127.0.0.1:8081 https\nListen [::1]:8082\n"
                          "Listen *:8083\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->nlistens, 4);
    ck_assert_int_eq(c->listens[0].port, 8080);
    ck_assert_int_eq(c->listens[0].addr.ss_family, AF_INET);
    ck_assert_ptr_null(c->listens[0].protocol);
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&c->listens[1].addr;
    ck_assert_uint_eq(ntohl(s4->sin_addr.s_addr), 0x7f000001);
    ck_assert_int_eq(ntohs(s4->sin_port), 8081);
    ck_assert_str_eq(c->listens[1].protocol, "https");
    ck_assert_int_eq(c->listens[2].addr.ss_family, AF_INET6);
    ck_assert_int_eq(c->listens[2].addrlen, sizeof(struct sockaddr_in6));
    ck_assert_int_eq(c->listens[3].port, 8083);
    ck_assert_str_eq(c->listens[3].spec, "*:8083");
    pt_config_free(c);
}
END_TEST

START_TEST(parses_timeouts_limits_and_request_read_timeout)
{
    pt_config_t *c = load("Listen 8080\nKeepAliveTimeout 250ms\nTimeout 30\n"
                          "MaxKeepAliveRequests 0\nKeepAlive Off\n"
                          "RequestReadTimeout header=0 body=10-30,MinRate=1000\n"
                          "LimitRequestBody 0\nLimitRequestLine 4000\nServerTokens Prod\n"
                          "GracefulShutdownTimeout 10\nAsyncRequestWorkerFactor 1.5\n"
                          "MaxClients 50\nMaxRequestsPerChild 9\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_vhost_t *m = c->main_server;
    ck_assert_int_eq(m->keepalive_timeout_ms, 250);
    ck_assert_int_eq(m->timeout_ms, 30000);
    ck_assert_int_eq(m->max_keepalive_requests, 0);
    ck_assert(!m->keepalive);
    ck_assert_int_eq(m->header_timeout_ms, 0);
    ck_assert_int_eq(m->header_min_rate, 0);
    ck_assert_int_eq(m->body_timeout_ms, 10000);
    ck_assert_int_eq(m->body_max_timeout_ms, 30000);
    ck_assert_int_eq(m->body_min_rate, 1000);
    ck_assert_int_eq(m->dir->limit_request_body, 0);
    ck_assert_uint_eq(m->limit_request_line, 4000);
    ck_assert_int_eq(c->server_tokens, 0);
    ck_assert_int_eq(c->graceful_shutdown_timeout_ms, 10000);
    ck_assert(c->async_request_worker_factor == 1.5);
    ck_assert_int_eq(c->max_request_workers, 50);
    ck_assert_int_eq(c->max_connections_per_child, 9);
    pt_config_free(c);
}
END_TEST

START_TEST(a_redirect_without_a_path_covers_its_whole_section)
{
    pt_config_t *c = load("Listen 8080\n<Directory /srv>\nRedirect http://x/d\n</Directory>\n"
                          "<LocationMatch ^/g>\nRedirect gone\n</LocationMatch>\n"
                          "<Location /p>\nRedirect permanent /p/q http://x/q\n</Location>\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_vhost_t *m = c->main_server;
    ck_assert_ptr_null(m->sections[0].conf->redirects[0].path);
    ck_assert_str_eq(m->sections[0].conf->redirects[0].url, "http://x/d");
    ck_assert_ptr_null(m->sections[1].conf->redirects[0].path);
    ck_assert_ptr_null(m->sections[1].conf->redirects[0].url);
    ck_assert_int_eq(m->sections[1].conf->redirects[0].status, 410);
    ck_assert_str_eq(m->sections[2].conf->redirects[0].path, "/p/q");
    ck_assert_int_eq(m->sections[2].conf->redirects[0].status, 301);
    ck_assert(m->location_redirects);
    pt_config_free(c);
    /* A virtual host inherits the main server's <Location>s, and so the flag. */
    c = load("Listen 8080\n<Location /x>\nRedirect http://x/\n</Location>\n"
             "<VirtualHost *:8080>\nServerName v\n</VirtualHost>\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert(c->vhosts[0]->location_redirects);
    pt_config_free(c);
    /* Only a <Location>'s is checked before the server's Redirects. */
    c = load("Listen 8080\n<Directory /srv>\nRedirect http://x/d\n</Directory>\n");
    ck_assert(!c->main_server->location_redirects);
    pt_config_free(c);
    EXPECT_ERROR("Listen 8080\nRedirect http://x/\n", "main.conf:2: Redirect: URL to "
                                                      "redirect to is missing"); /* mod_alias */
    EXPECT_ERROR("Listen 8080\nRedirect /a b/c\n", "main.conf:2: Redirect to non-URL 'b/c'");
    c = load("Listen 8080\nRedirect /m mailto:admin@example.com\n");
    ck_assert_msg(c != NULL, "%s", err);
    pt_config_free(c);
}
END_TEST

START_TEST(parses_redirects_error_documents_and_types)
{
    pt_config_t *c = load("Listen 8080\nRedirect /old http://x/new\n"
                          "Redirect permanent /p https://x/p\nRedirect gone /g\n"
                          "Redirect 303 /s /other\nRedirectTemp /t http://x/t\n"
                          "<Location /loc>\nRedirect seeother http://x/l\n</Location>\n"
                          "ErrorDocument 404 /404.html\nErrorDocument 500 \"oops\"\n"
                          "ErrorDocument 404 /missing.html\n"
                          "AddType text/x-foo .FOO bar\nAddHandler server-status .cgi\n"
                          "SetHandler None\nForceType text/plain\nAddDefaultCharset On\n"
                          "DirectoryIndex index.php index.html\nFallbackResource /index.php\n"
                          "SetEnv A 1\nUnsetEnv B C\nSetEnvIfNoCase User-Agent bot is_bot\n"
                          "BrowserMatch ^Mozilla moz !other\n"
                          "Alias /icons /usr/share/icons\nAliasMatch ^/a/(.*) /srv/$1\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_vhost_t *m = c->main_server;
    ck_assert_uint_eq(m->nredirects, 5);
    ck_assert_int_eq(m->redirects[0].status, 302);
    ck_assert_str_eq(m->redirects[0].path, "/old");
    ck_assert_str_eq(m->redirects[0].url, "http://x/new");
    ck_assert_int_eq(m->redirects[1].status, 301);
    ck_assert_int_eq(m->redirects[2].status, 410);
    ck_assert_ptr_null(m->redirects[2].url);
    ck_assert_int_eq(m->redirects[3].status, 303);
    ck_assert_str_eq(m->redirects[3].url, "/other");
    ck_assert_int_eq(m->redirects[4].status, 302);
    const pt_section_t *loc = &m->sections[0];
    ck_assert_uint_eq(loc->conf->nredirects, 1);
    /* The one-argument form in a section: no path, the target as written. */
    ck_assert_ptr_null(loc->conf->redirects[0].path);
    ck_assert_str_eq(loc->conf->redirects[0].url, "http://x/l");
    ck_assert_int_eq(loc->conf->redirects[0].status, 303);
    ck_assert(m->location_redirects);
    const pt_dir_config_t *d = m->dir;
    ck_assert_uint_eq(d->nerrordocs, 2);
    ck_assert_str_eq(d->errordocs[0].value, "/missing.html");
    ck_assert_str_eq(d->errordocs[1].value, "oops");
    ck_assert_uint_eq(d->ntypes, 2);
    ck_assert_str_eq(d->types[0].ext, "foo");
    ck_assert_str_eq(d->types[1].ext, "bar");
    ck_assert_str_eq(d->handlers[0].value, "server-status");
    ck_assert_str_eq(d->handler_name, "none");
    ck_assert_str_eq(d->default_type, "text/plain");
    ck_assert_str_eq(d->default_charset, "ISO-8859-1");
    ck_assert_uint_eq(d->ndir_index, 2);
    ck_assert_str_eq(d->dir_index[1], "index.html");
    ck_assert_str_eq(d->fallback, "/index.php");
    ck_assert_uint_eq(d->nenv, 4);
    ck_assert_int_eq(d->env[0].kind, PT_ENV_SET);
    ck_assert_str_eq(d->env[0].vars[0], "A=1");
    ck_assert_int_eq(d->env[1].kind, PT_ENV_UNSET);
    ck_assert_uint_eq(d->env[1].nvars, 2);
    ck_assert_int_eq(d->env[2].kind, PT_ENV_SETIF_NOCASE);
    ck_assert_int_eq(pt_regex_exec(d->env[2].re, "GoogleBOT", 0, NULL, 0), 0);
    ck_assert_str_eq(d->env[3].attribute, "User-Agent");
    ck_assert_str_eq(d->env[3].vars[1], "!other");
    ck_assert_uint_eq(m->naliases_map, 2);
    ck_assert(!m->aliases_map[0].regex);
    ck_assert(m->aliases_map[1].regex);
    ck_assert_str_eq(m->aliases_map[1].to, "/srv/$1");
    pt_config_free(c);
}
END_TEST

static const char realistic[] =
    "# A realistic Apache-style config\n"
    "ServerRoot \"${ROOT}\"\n"
    "Define SITE ${ROOT}/htdocs\n"
    "Listen 127.0.0.1:8080\n"
    "Listen 8443 https\n"
    "LoadModule mpm_event_module modules/mod_mpm_event.so\n"
    "LoadModule headers_module modules/mod_headers.so\n"
    "ServerName main.example:8080\n"
    "ServerAdmin admin@example.com\n"
    "ServerTokens Minor\n"
    "User www-data\nGroup www-data\n"
    "PidFile run/portico.pid\n"
    "ErrorLog logs/error_log\n"
    "LogLevel info ssl:warn\n"
    "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b\" common2\n"
    "CustomLog logs/access_log common2\n"
    "<IfModule log_config_module>\n"
    "    LogFormat \"%h %>s\" short\n"
    "</IfModule>\n"
    "<IfModule ssl_module>\n"
    "    SSLSessionCacheTimeout 300\n"
    "</IfModule>\n"
    "<IfDefine DEBUG>\n"
    "    LogLevel debug\n"
    "</IfDefine>\n"
    "<IfModule mpm_event_module>\n"
    "    StartServers 2\n    ThreadsPerChild 50\n    MaxRequestWorkers 150\n"
    "</IfModule>\n"
    "DocumentRoot \"${SITE}\"\n"
    "<Directory />\n"
    "    Options None\n    AllowOverride None\n    Require all denied\n"
    "</Directory>\n"
    "<Directory \"${SITE}\">\n"
    "    Options Indexes FollowSymLinks\n"
    "    Require all granted\n"
    "    <Files \"secret.txt\">\n        Require all denied\n    </Files>\n"
    "</Directory>\n"
    "<FilesMatch \"\\.(bak|old)$\">\n"
    "    <RequireAll>\n        Require ip 10.0.0.0/8\n        Require not ip 10.1.0.0/16\n"
    "    </RequireAll>\n"
    "</FilesMatch>\n"
    "Header always set X-Frame-Options DENY\n"
    "RequestHeader unset Proxy\n"
    "<VirtualHost *:8080>\n"
    "    ServerName www.example.com\n"
    "    ServerAlias example.com *.example.net\n"
    "    DocumentRoot \"${SITE}/www\"\n"
    "    CustomLog logs/www_access short env=!dontlog\n"
    "    KeepAliveTimeout 2\n"
    "    <Location /status>\n        Require ip 127.0.0.1\n        Require ip ::1\n"
    "    </Location>\n"
    "    Header set X-Vhost www\n"
    "</VirtualHost>\n"
    "<VirtualHost [::1]:8443 127.0.0.1:8443>\n"
    "    ServerName secure.example.com\n"
    "</VirtualHost>\n";

START_TEST(parses_redirect_match_with_status_keywords_in_every_context)
{
    pt_config_t *c = load("Listen 8080\nRedirectMatch ^/old/(.*)$ http://x/new/$1\n"
                          "RedirectMatch permanent ^/p(.*) /q$1\nRedirectMatch temp ^/t /u\n"
                          "RedirectMatch seeother ^/s $0\nRedirectMatch gone ^/g\n"
                          "RedirectMatch 307 ^/n /m\nRedirect /plain /other\n"
                          "<VirtualHost *:8080>\nRedirectMatch 308 ^/v /w\n</VirtualHost>\n"
                          "<Directory /srv>\nRedirectMatch ^/d(/.*)? /e$1\n</Directory>\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_vhost_t *m = c->main_server;
    ck_assert_uint_eq(m->nredirects, 7);
    static const int want[] = {302, 301, 302, 303, 410, 307, 302};
    for (size_t i = 0; i < 7; i++)
        ck_assert_int_eq(m->redirects[i].status, want[i]);
    ck_assert_str_eq(m->redirects[0].path, "^/old/(.*)$");
    ck_assert_str_eq(m->redirects[0].url, "http://x/new/$1");
    pt_regmatch_t mt[2];
    ck_assert_int_eq(pt_regex_exec(m->redirects[0].re, "/old/a/b", 2, mt, 0), 0);
    ck_assert_int_eq(mt[1].rm_so, 5);
    ck_assert_int_eq(mt[1].rm_eo, 8);
    ck_assert_int_ne(pt_regex_exec(m->redirects[0].re, "/x/old/a", 0, NULL, 0), 0);
    ck_assert_str_eq(m->redirects[1].url, "/q$1");
    ck_assert_str_eq(m->redirects[3].url, "$0");
    ck_assert_ptr_null(m->redirects[4].url);
    ck_assert_ptr_nonnull(m->redirects[4].re);
    ck_assert_str_eq(m->redirects[5].url, "/m");
    ck_assert_ptr_null(m->redirects[6].re);
    /* A vhost's own rules come before the main server's. */
    const pt_vhost_t *v = c->vhosts[0];
    ck_assert_uint_eq(v->nredirects, 8);
    ck_assert_int_eq(v->redirects[0].status, 308);
    ck_assert_str_eq(v->redirects[0].path, "^/v");
    ck_assert_int_eq(v->redirects[1].status, 302);
    const pt_section_t *d = &m->sections[0];
    ck_assert_uint_eq(d->conf->nredirects, 1);
    ck_assert_int_eq(d->conf->redirects[0].status, 302);
    ck_assert_str_eq(d->conf->redirects[0].url, "/e$1");
    ck_assert_int_eq(pt_regex_exec(d->conf->redirects[0].re, "/d/x", 0, NULL, 0), 0);
    pt_config_free(c);
}
END_TEST

START_TEST(rejects_bad_redirect_match_with_its_location)
{
    put("extra.conf", "# rules\nRedirectMatch permanent ^/(a http://x/\n");
    EXPECT_ERROR("Listen 8080\nInclude extra.conf\n",
                 "extra.conf:2: bad regex '^/(a': missing closing parenthesis at offset 4");
    EXPECT_ERROR("Listen 8080\n<VirtualHost *:8080>\nRedirectMatch [z /a\n</VirtualHost>\n",
                 "main.conf:3: bad regex '[z': missing terminating ] for character class "
                 "at offset 2");
    EXPECT_ERROR("Listen 8080\nRedirectMatch bogus ^/a /b\n",
                 "main.conf:2: RedirectMatch: unknown status 'bogus'");
    EXPECT_ERROR("Listen 8080\nRedirectMatch permanent ^/a\n",
                 "main.conf:2: RedirectMatch: URL to redirect to is missing");
    EXPECT_ERROR("Listen 8080\nRedirectMatch gone ^/a /b\n",
                 "main.conf:2: RedirectMatch: a URL is not valid with status 410");
    EXPECT_ERROR("Listen 8080\nRedirectMatch 200 ^/a /b\n",
                 "main.conf:2: RedirectMatch: bad status 200");
    EXPECT_ERROR("Listen 8080\nRedirectMatch ^/a\n",
                 "main.conf:2: RedirectMatch takes 2 to 3 arguments, got 1");
}
END_TEST

START_TEST(script_alias_maps_like_alias_and_answers_403)
{
    pt_config_t *c = load("Listen 8080\nScriptAlias /cgi-bin/ /srv/cgi/\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_vhost_t *m = c->main_server;
    ck_assert_uint_eq(m->naliases_map, 1);
    ck_assert(!m->aliases_map[0].regex);
    ck_assert_str_eq(m->aliases_map[0].from, "/cgi-bin/");
    ck_assert_str_eq(m->aliases_map[0].to, "/srv/cgi/");
    ck_assert_uint_eq(m->nredirects, 1);
    ck_assert_int_eq(m->redirects[0].status, 403);
    ck_assert_str_eq(m->redirects[0].path, "/cgi-bin/");
    ck_assert_ptr_null(m->redirects[0].url);
    ck_assert_ptr_null(m->redirects[0].re);
    pt_config_free(c);
}
END_TEST

START_TEST(keeps_every_section_in_file_order_however_many_and_however_nested)
{
    /* Sections are stored in one growing array per host; nested ones are pushed while the
     * outer one is being read. 1..40 sections of every kind before a nest three deep. */
    for (int before = 1; before <= 40; before++) {
        /* In pt_section_kind_t order: kinds[i % 6] is kind i % 6. */
        static const char *kinds[][2] = {{"Directory", "/d"},   {"DirectoryMatch", "^/dm"},
                                         {"Files", "f"},        {"FilesMatch", "^fm"},
                                         {"Location", "/l"},    {"LocationMatch", "^/m"}};
        char text[16384] = "Listen 8080\n<VirtualHost *:8080>\n";
        for (int i = 0; i < before; i++) {
            const char *const *k = kinds[i % PT_ARRAY_LEN(kinds)];
            sprintf(text + strlen(text), "<%s %s%d>\n Require all granted\n</%s>\n", k[0],
                    k[1], i, k[0]);
        }
        strcat(text, "<Directory /y>\n Require all denied\n"
                     " <FilesMatch \\.php$>\n  <RequireAll>\n   Require all granted\n"
                     "  </RequireAll>\n </FilesMatch>\n <Files a>\n  Require all denied\n"
                     " </Files>\n</Directory>\n"
                     "<Location /after>\n Require all granted\n</Location>\n"
                     "</VirtualHost>\n");
        pt_config_t *c = load(text);
        ck_assert_msg(c != NULL, "%s", err);
        const pt_vhost_t *vh = c->vhosts[0];
        size_t n = (size_t)before;
        ck_assert_uint_eq(vh->nsections, n + 4);
        for (size_t i = 0; i < n; i++) {
            ck_assert_int_eq(vh->sections[i].kind, (int)(i % PT_ARRAY_LEN(kinds)));
            ck_assert_int_eq(vh->sections[i].conf->require->kind, PT_REQUIRE_ALL_GRANTED);
        }
        ck_assert_int_eq(vh->sections[n].kind, PT_SEC_DIRECTORY);
        ck_assert_str_eq(vh->sections[n].pattern, "/y");
        ck_assert_int_eq(vh->sections[n].conf->require->kind, PT_REQUIRE_ALL_DENIED);
        ck_assert_int_eq(vh->sections[n + 1].kind, PT_SEC_FILES_MATCH);
        ck_assert_ptr_eq(vh->sections[n + 1].within->conf, vh->sections[n].conf);
        ck_assert_int_eq(vh->sections[n + 1].conf->require->kind, PT_REQUIRE_GROUP_ALL);
        ck_assert_int_eq(vh->sections[n + 2].kind, PT_SEC_FILES);
        ck_assert_str_eq(vh->sections[n + 2].pattern, "a");
        ck_assert_int_eq(vh->sections[n + 3].kind, PT_SEC_LOCATION);
        ck_assert_str_eq(vh->sections[n + 3].pattern, "/after");
        pt_config_free(c);
    }
}
END_TEST

START_TEST(loads_a_realistic_config)
{
    setenv("ROOT", root, 1);
    sub("htdocs/www");
    const char *defs[] = {"DEBUG"};
    pt_config_t *c = load_defs(realistic, defs, 1);
    ck_assert_msg(c != NULL, "%s", err);
    char p[256];
    ck_assert_str_eq(c->server_root, root);
    ck_assert_uint_eq(c->nlistens, 2);
    ck_assert_str_eq(c->listens[1].protocol, "https");
    const pt_vhost_t *m = c->main_server;
    ck_assert_str_eq(m->server_name, "main.example");
    ck_assert_int_eq(m->server_port, 8080);
    ck_assert_int_eq(c->server_tokens, 2);
    ck_assert_str_eq(c->user, "www-data");
    snprintf(p, sizeof(p), "%s/run/portico.pid", root);
    ck_assert_str_eq(c->pid_file, p);
    snprintf(p, sizeof(p), "%s/logs/error_log", root);
    ck_assert_str_eq(c->error_log, p);
    ck_assert_int_eq(c->log_level, PT_LOG_DEBUG);
    ck_assert_int_eq(c->start_servers, 2);
    ck_assert_int_eq(c->threads_per_child, 50);
    ck_assert_int_eq(c->max_request_workers, 150);
    snprintf(p, sizeof(p), "%s/htdocs", root);
    ck_assert_str_eq(m->document_root, p);
    ck_assert_uint_eq(m->nlogs, 1);
    ck_assert_ptr_nonnull(m->logs[0].format);
    /* Sections in file order: Directory /, Directory site, Files (within), FilesMatch. */
    ck_assert_uint_eq(m->nsections, 4);
    ck_assert_int_eq(m->sections[0].kind, PT_SEC_DIRECTORY);
    ck_assert_str_eq(m->sections[0].pattern, "/");
    ck_assert_uint_eq(m->sections[0].conf->options, 0);
    ck_assert(m->sections[0].conf->options_set);
    ck_assert_int_eq(m->sections[0].conf->require->kind, PT_REQUIRE_ALL_DENIED);
    ck_assert_uint_eq(m->sections[1].conf->options, PT_OPT_INDEXES | PT_OPT_FOLLOW_SYMLINKS);
    ck_assert_int_eq(m->sections[2].kind, PT_SEC_FILES);
    ck_assert_str_eq(m->sections[2].within->pattern, p);
    ck_assert_int_eq(m->sections[3].kind, PT_SEC_FILES_MATCH);
    ck_assert_int_eq(m->sections[3].conf->require->kind, PT_REQUIRE_GROUP_ALL);
    ck_assert_uint_eq(m->sections[3].conf->require->nchildren, 2);
    ck_assert_uint_eq(m->dir->nheaders, 1);
    ck_assert(m->dir->headers[0].always);
    ck_assert_str_eq(m->dir->headers[0].name, "X-Frame-Options");
    ck_assert_uint_eq(m->dir->nreq_headers, 1);

    ck_assert_uint_eq(c->nvhosts, 2);
    const pt_vhost_t *www = c->vhosts[0];
    ck_assert_str_eq(www->server_name, "www.example.com");
    ck_assert_uint_eq(www->naliases, 2);
    ck_assert_str_eq(www->aliases[1], "*.example.net");
    ck_assert_uint_eq(www->naddrs, 1);
    ck_assert_int_eq(www->addrs[0].port, 8080);
    ck_assert_int_eq(www->addrs[0].addrlen, 0);
    snprintf(p, sizeof(p), "%s/htdocs/www", root);
    ck_assert_str_eq(www->document_root, p);
    ck_assert_int_eq(www->keepalive_timeout_ms, 2000);
    ck_assert_uint_eq(www->nlogs, 1);
    ck_assert_str_eq(www->logs[0].env_cond, "!dontlog");
    /* Main server's sections first, then the vhost's own Location. */
    ck_assert_uint_eq(www->nsections, 5);
    ck_assert_int_eq(www->sections[4].kind, PT_SEC_LOCATION);
    ck_assert_int_eq(www->sections[4].conf->require->kind, PT_REQUIRE_GROUP_ANY);
    ck_assert_uint_eq(www->sections[4].conf->require->nchildren, 2);
    ck_assert_uint_eq(www->dir->nheaders, 2);
    ck_assert_str_eq(www->dir->headers[0].name, "X-Frame-Options");
    ck_assert_str_eq(www->dir->headers[1].name, "X-Vhost");

    const pt_vhost_t *sec = c->vhosts[1];
    ck_assert_uint_eq(sec->naddrs, 2);
    ck_assert_int_eq(sec->addrs[0].addr.ss_family, AF_INET6);
    ck_assert_int_eq(sec->addrs[1].port, 8443);
    /* Inherited from the main server. */
    ck_assert_str_eq(sec->server_admin, "admin@example.com");
    snprintf(p, sizeof(p), "%s/htdocs", root);
    ck_assert_str_eq(sec->document_root, p);
    ck_assert_int_eq(sec->keepalive_timeout_ms, 5000);
    ck_assert(sec->keepalive);
    ck_assert_int_eq(sec->timeout_ms, 60000);
    ck_assert_uint_eq(sec->limit_request_fields, 100);
    ck_assert_int_eq(sec->header_max_timeout_ms, 40000);
    ck_assert_uint_eq(sec->nlogs, 1);
    ck_assert_ptr_eq(sec->logs, m->logs);
    pt_config_free(c);

    /* Without -D DEBUG the <IfDefine> body is skipped. */
    c = load_defs(realistic, NULL, 0);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->log_level, PT_LOG_INFO);
    pt_config_free(c);
}
END_TEST

START_TEST(loads_the_shipped_default_config)
{
    const char *src = getenv("PORTICO_SOURCE_DIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/conf/portico.conf", src ? src : ".");
    if (access(path, R_OK) != 0)
        return;
    setenv("PORTICO_ROOT", src ? src : ".", 1);
    pt_parse_opts_t o = {.server_root = src ? src : "."};
    pt_startup_register(); /* as main.c: the directives of the floors above conf */
    pt_config_t *c = pt_config_load(path, &o, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->nlistens, 1);
    ck_assert_int_eq(c->main_server->dir->limit_request_body, 10485760);
    ck_assert_str_eq(c->main_server->dir->default_charset, "utf-8");
    pt_config_free(c);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *lang = tcase_create("language");
    tcase_add_checked_fixture(lang, setup, teardown);
    tcase_add_test(lang, joins_continuations_skips_comments_and_unquotes_words);
    tcase_add_test(lang, expands_defines_before_environment_variables);
    tcase_add_test(lang, rejects_undefined_variable_with_its_location);
    tcase_add_test(lang, nests_sections_with_case_insensitive_names);
    tcase_add_test(lang, rejects_unclosed_and_mismatched_sections);
    tcase_add_test(lang, includes_globs_in_sorted_order_relative_to_server_root);
    tcase_add_test(lang, includes_every_file_of_a_directory);
        tcase_add_test(lang, rejects_missing_include_but_include_optional_is_silent);
    tcase_add_test(lang, rejects_include_loop);
    tcase_add_test(lang, ifmodule_keeps_built_in_modules_and_skips_others);
    tcase_add_test(lang, ifmodule_follows_loadmodule_in_an_apache_layout);
    tcase_add_test(lang, ifdefine_sees_command_line_and_config_defines);
    tcase_add_test(lang, loadmodule_accepts_built_ins_and_rejects_others);
    tcase_add_test(lang, module_list_names_built_ins_by_either_name);
    suite_add_tcase(s, lang);
    TCase *dir = tcase_create("directives");
    tcase_add_checked_fixture(dir, setup, teardown);
    tcase_add_test(dir, rejects_unknown_directive_as_apache_does);
    tcase_add_test(dir, handler_names_are_resolved_to_pointers_at_load);
    tcase_add_test(dir, rejects_wrong_argument_counts);
    tcase_add_test(dir, rejects_bad_values);
    tcase_add_test(dir, rejects_directives_outside_their_context);
    tcase_add_test(dir, rejects_missing_or_non_directory_document_root);
    tcase_add_test(dir, rejects_bad_allow_override_and_dns_features);
    tcase_add_test(dir, rejects_bad_regex);
    tcase_add_test(dir, takes_pcre_syntax_in_every_regex_directive);
        tcase_add_test(dir, rejects_duplicate_listen_and_missing_listen);
    tcase_add_test(dir, applies_apache_defaults);
    tcase_add_test(dir, parses_listen_forms);
    tcase_add_test(dir, parses_timeouts_limits_and_request_read_timeout);
    tcase_add_test(dir, parses_redirects_error_documents_and_types);
    tcase_add_test(dir, a_redirect_without_a_path_covers_its_whole_section);
    tcase_add_test(dir, parses_redirect_match_with_status_keywords_in_every_context);
    tcase_add_test(dir, rejects_bad_redirect_match_with_its_location);
    tcase_add_test(dir, script_alias_maps_like_alias_and_answers_403);
    tcase_add_test(dir, keeps_every_section_in_file_order_however_many_and_however_nested);
    tcase_add_test(dir, loads_a_realistic_config);
    tcase_add_test(dir, loads_the_shipped_default_config);
    suite_add_tcase(s, dir);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
