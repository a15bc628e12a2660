/* The proxy directives (proxy/directives_proxy.c, fcgi/directives_fcgi.c) and their merge:
 * ProxyPass and ProxyPassMatch with keys and exclusions, backend URLs from SetHandler
 * "proxy:...", ProxyTimeout, ProxyFCGIBackendType, ProxyFCGISetEnvIf, ProxyFCGISpoolLimit,
 * vhost inheritance and <IfModule>. */
#include "config.h"
#include "expr_parse.h"
#include "fcgi/fcgi.h"
#include "scheme.h"
#include "startup.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64];
static char path[128];
static char err[PT_ERRLEN];

static void setup(void)
{
    strcpy(dir, "/tmp/ptfcfgXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/main.conf", dir);
    pt_startup_register(); /* as main.c does before it loads a configuration */
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

static pt_config_t *load(const char *body)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "Listen 127.0.0.1:8080\nServerName t\nDocumentRoot /tmp\n%s", body);
    fclose(f);
    err[0] = '\0';
    return pt_config_load(path, NULL, err, sizeof(err));
}

/* The error message without the temp dir in front of it. */
static const char *errmsg(void)
{
    const char *p = strstr(err, "main.conf:");
    return p ? p : err;
}

START_TEST(proxypass_with_keys_fills_the_backend)
{
    pt_config_t *c = load("ProxyPass /app/ fcgi://127.0.0.1:9000/srv/app/ max=4 timeout=7 "
                          "connectiontimeout=250ms enablereuse=off\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_vhost_t *vh = c->main_server;
    ck_assert_uint_eq(vh->nproxy_passes, 1);
    const pt_proxy_pass_t *pp = &vh->proxy_passes[0];
    ck_assert_str_eq(pp->path, "/app/");
    ck_assert(!pp->disabled);
    const pt_backend_t *b = pp->backend;
    ck_assert_str_eq(b->scheme, "fcgi");
    ck_assert_str_eq(b->host, "127.0.0.1");
    ck_assert_int_eq(b->port, 9000);
    ck_assert_str_eq(b->path, "/srv/app/");
    ck_assert_ptr_null(b->unix_path);
    ck_assert_int_eq(b->max, 4);
    ck_assert_int_eq(b->timeout_ms, 7000);
    ck_assert_int_eq(b->connect_timeout_ms, 250);
    ck_assert(!b->enablereuse);
    ck_assert_str_eq(b->url, "proxy:fcgi://127.0.0.1:9000/srv/app/");
    ck_assert_ptr_eq(b->scheme_ops, &pt_fcgi_scheme); /* resolved at load */
    ck_assert_uint_eq(c->nbackends, 1);
    ck_assert_ptr_eq(c->backends[b->index], b);
    pt_config_free(c);
}
END_TEST

START_TEST(unix_socket_urls_and_the_default_port_are_understood)
{
    pt_config_t *c = load("ProxyPass /a unix:/run/php/fpm.sock|fcgi://localhost/var/www\n"
                          "ProxyPass /b fcgi://[::1]/x\n"
                          "ProxyPass /a/skip !\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_proxy_pass_t *pp = c->main_server->proxy_passes;
    ck_assert_str_eq(pp[0].backend->unix_path, "/run/php/fpm.sock");
    ck_assert_str_eq(pp[0].backend->host, "localhost");
    ck_assert_str_eq(pp[0].backend->path, "/var/www");
    ck_assert_str_eq(pp[1].backend->host, "::1");
    ck_assert_int_eq(pp[1].backend->port, 8000);
    ck_assert(pp[2].disabled);
    ck_assert_ptr_null(pp[2].backend);
    pt_config_free(c);
}
END_TEST

START_TEST(unknown_schemes_are_refused_by_name)
{
    ck_assert_ptr_null(load("\nProxyPass /x ftp://127.0.0.1:8081/\n"));
    ck_assert_str_eq(errmsg(), "main.conf:5: ProxyPass: 'ftp://127.0.0.1:8081/': no proxy "
                               "scheme 'ftp' (mod_proxy_ftp) in portico");
    /* Apache's HTTP/2 backends are mod_proxy_http2's (README: Reverse proxy). */
    ck_assert_ptr_null(load("\nProxyPass /x h2c://127.0.0.1:8081/\n"));
    ck_assert_str_eq(errmsg(), "main.conf:5: ProxyPass: 'h2c://127.0.0.1:8081/': no proxy "
                               "scheme 'h2c' (mod_proxy_http2) in portico");
    ck_assert_ptr_null(load("\nProxyPass /x h2://127.0.0.1:8081/\n"));
    ck_assert_str_eq(errmsg(), "main.conf:5: ProxyPass: 'h2://127.0.0.1:8081/': no proxy "
                               "scheme 'h2' (mod_proxy_http2) in portico");
}
END_TEST

START_TEST(bad_ports_unknown_keys_and_missing_urls_name_their_line)
{
    ck_assert_ptr_null(load("ProxyPass /x fcgi://h:99999/\n"));
    ck_assert_str_eq(errmsg(), "main.conf:4: ProxyPass: bad port in 'proxy:fcgi://h:99999/'");
    ck_assert_ptr_null(load("ProxyPass /x fcgi://h:9000/ color=blue\n"));
    ck_assert_str_eq(errmsg(), "main.conf:4: ProxyPass: unknown key 'color'");
    ck_assert_ptr_null(load("ProxyPass /x\n"));
    ck_assert_str_eq(errmsg(), "main.conf:4: ProxyPass takes a path and a URL");
}
END_TEST

START_TEST(sethandler_proxy_is_parsed_at_load_and_a_bad_one_fails_there)
{
    pt_config_t *c = load("<FilesMatch \"\\.php$\">\n"
                          "  SetHandler \"proxy:unix:/tmp/x.sock|fcgi://localhost\"\n"
                          "</FilesMatch>\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_section_t *sec = &c->main_server->sections[c->main_server->nsections - 1];
    ck_assert_ptr_nonnull(sec->conf->handler_backend);
    ck_assert_str_eq(sec->conf->handler_backend->unix_path, "/tmp/x.sock");
    /* Connection reuse is off unless asked for, as mod_proxy_fcgi. */
    ck_assert(!sec->conf->handler_backend->enablereuse);
    pt_config_free(c);
    ck_assert_ptr_null(load("<Location /x>\n SetHandler \"proxy:unix:/tmp/x.sock\"\n"
                            "</Location>\n"));
    ck_assert_str_eq(errmsg(), "main.conf:5: SetHandler: 'unix:/tmp/x.sock': a unix socket URL "
                               "is unix:/path|http://host/ (or |fcgi://host/)");
}
END_TEST

START_TEST(one_backend_is_shared_by_rules_naming_the_same_url)
{
    pt_config_t *c = load("<FilesMatch \"\\.php$\">\n SetHandler proxy:fcgi://127.0.0.1:9000\n"
                          "</FilesMatch>\n<Location /x>\n SetHandler proxy:fcgi://127.0.0.1:9000\n"
                          "</Location>\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_vhost_t *vh = c->main_server;
    ck_assert_uint_ge(vh->nsections, 2);
    ck_assert_ptr_eq(vh->sections[vh->nsections - 1].conf->handler_backend,
                     vh->sections[vh->nsections - 2].conf->handler_backend);
    ck_assert_uint_eq(c->nbackends, 1); /* one pool in the runtime */
    pt_config_free(c);
}
END_TEST

START_TEST(handler_backend_follows_handler_in_the_merge)
{
    pt_config_t *c = load("<Location /a>\n SetHandler proxy:fcgi://127.0.0.1:9000\n</Location>\n"
                          "<Location /a/b>\n SetHandler none\n</Location>\n"
                          "<Location /a/c>\n ProxyFCGIBackendType GENERIC\n</Location>\n");
    ck_assert_msg(c != NULL, "%s", err);
    pt_arena_t *a = pt_arena_create(4096);
    const pt_dir_config_t *d = pt_config_dir_for(a, c->main_server, NULL, "/a/x");
    ck_assert_ptr_nonnull(d->handler_backend);
    ck_assert_int_eq(d->fcgi_backend_type, -1);
    d = pt_config_dir_for(a, c->main_server, NULL, "/a/b/x");
    ck_assert_ptr_null(d->handler_backend);
    ck_assert_str_eq(d->handler_name, "none");
    d = pt_config_dir_for(a, c->main_server, NULL, "/a/c/x");
    ck_assert_ptr_nonnull(d->handler_backend);
    ck_assert_int_eq(d->fcgi_backend_type, 1);
    pt_arena_destroy(a);
    pt_config_free(c);
}
END_TEST

START_TEST(proxypassmatch_compiles_its_regex)
{
    pt_config_t *c = load("ProxyPassMatch ^/(.*\\.php)$ fcgi://127.0.0.1:9000/srv/$1\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_proxy_pass_t *pp = &c->main_server->proxy_passes[0];
    ck_assert_ptr_nonnull(pp->re);
    ck_assert_int_eq(pt_regex_exec(pp->re, "/a/b.php", 0, NULL, 0), 0);
    ck_assert_str_eq(pp->backend->path, "/srv/$1");
    pt_config_free(c);
    ck_assert_ptr_null(load("ProxyPassMatch ^/(x fcgi://h/\n"));
    ck_assert_ptr_nonnull(strstr(errmsg(), "main.conf:4: bad regex '^/(x'"));
}
END_TEST

START_TEST(proxypass_inside_location_takes_the_section_path)
{
    pt_config_t *c = load("<Location /api/>\n ProxyPass fcgi://127.0.0.1:9000/srv/api/\n"
                          "</Location>\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->main_server->nproxy_passes, 1);
    ck_assert_str_eq(c->main_server->proxy_passes[0].path, "/api/");
    pt_config_free(c);
}
END_TEST

START_TEST(vhosts_inherit_proxy_timeout_and_main_server_proxypass_after_their_own)
{
    pt_config_t *c = load("ProxyTimeout 30\nProxyPass /m fcgi://127.0.0.1:9000/m\n"
                          "<VirtualHost *:8080>\n ServerName v\n"
                          " ProxyPass /v fcgi://127.0.0.1:9001/v\n</VirtualHost>\n"
                          "<VirtualHost *:8080>\n ServerName w\n ProxyTimeout 5\n"
                          "</VirtualHost>\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->main_server->proxy_timeout_ms, 30000);
    const pt_vhost_t *v = c->vhosts[0], *w = c->vhosts[1];
    ck_assert_int_eq(v->proxy_timeout_ms, 30000);
    ck_assert_int_eq(w->proxy_timeout_ms, 5000);
    ck_assert_uint_eq(v->nproxy_passes, 2);
    ck_assert_str_eq(v->proxy_passes[0].path, "/v");
    ck_assert_str_eq(v->proxy_passes[1].path, "/m");
    ck_assert_uint_eq(w->nproxy_passes, 1);
    pt_config_free(c);
}
END_TEST

START_TEST(fcgi_setenvif_takes_apache_expressions_and_refuses_bad_ones)
{
    pt_config_t *c = load("ProxyFCGISetEnvIf true FOO bar\n"
                          "ProxyFCGISetEnvIf \"reqenv('SCRIPT_NAME') =~ m#^/(a)#i\" !BAZ\n"
                          "ProxyFCGISetEnvIf \"%{reqenv:X} =~ /y/\" Q \"$0\"\n"
                          "ProxyFCGISetEnvIf \"-f %{REQUEST_FILENAME}\" X\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_dir_config_t *d = c->main_server->dir;
    ck_assert_uint_eq(d->nfcgi_setenv, 4);
    ck_assert_str_eq(d->fcgi_setenv[0].cond->source, "true");
    ck_assert_str_eq(d->fcgi_setenv[0].name, "FOO");
    ck_assert_str_eq(d->fcgi_setenv[0].value->source, "bar");
    ck_assert_str_eq(d->fcgi_setenv[1].name, "!BAZ");
    ck_assert_ptr_null(d->fcgi_setenv[1].value);
    ck_assert_str_eq(d->fcgi_setenv[2].value->source, "$0");
    ck_assert_str_eq(d->fcgi_setenv[3].cond->source, "-f %{REQUEST_FILENAME}");
    pt_config_free(c);
    ck_assert_ptr_null(load("ProxyFCGISetEnvIf \"reqenv('X') =~ /(/\" X\n"));
    ck_assert_ptr_nonnull(strstr(errmsg(), "main.conf:4: ProxyFCGISetEnvIf: cannot parse "
                                           "expression \"reqenv('X') =~ /(/\": bad regular"));
    ck_assert_ptr_null(load("ProxyFCGISetEnvIf true X %{NOPE}\n"));
    ck_assert_ptr_nonnull(strstr(errmsg(), "Variable 'NOPE' does not exist"));
}
END_TEST

START_TEST(backend_type_must_be_fpm_or_generic)
{
    ck_assert_ptr_null(load("ProxyFCGIBackendType PHP\n"));
    ck_assert_str_eq(errmsg(), "main.conf:4: ProxyFCGIBackendType must be FPM or GENERIC");
}
END_TEST

START_TEST(spool_limit_is_a_positive_byte_count_of_the_main_server)
{
    pt_config_t *c = load("");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->fcgi_spool_limit, 0); /* the default (1 GiB) applies */
    pt_config_free(c);
    c = load("ProxyFCGISpoolLimit 5000000\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->fcgi_spool_limit, 5000000);
    pt_config_free(c);
    ck_assert_ptr_null(load("ProxyFCGISpoolLimit 0\n"));
    ck_assert_ptr_null(load("ProxyFCGISpoolLimit lots\n"));
    ck_assert_ptr_null(load("<VirtualHost *:8080>\nProxyFCGISpoolLimit 10\n</VirtualHost>\n"));
}
END_TEST

START_TEST(ifmodule_proxy_fcgi_is_true)
{
    ck_assert(pt_module_known("proxy_fcgi_module", PT_MPM_EVENT));
    ck_assert(pt_module_known("mod_proxy.c", PT_MPM_EVENT));
    pt_config_t *c = load("<IfModule proxy_fcgi_module>\nProxyTimeout 9\n</IfModule>\n");
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->main_server->proxy_timeout_ms, 9000);
    pt_config_free(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fcgi_config");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, proxypass_with_keys_fills_the_backend);
    tcase_add_test(tc, unix_socket_urls_and_the_default_port_are_understood);
    tcase_add_test(tc, unknown_schemes_are_refused_by_name);
    tcase_add_test(tc, bad_ports_unknown_keys_and_missing_urls_name_their_line);
    tcase_add_test(tc, sethandler_proxy_is_parsed_at_load_and_a_bad_one_fails_there);
    tcase_add_test(tc, one_backend_is_shared_by_rules_naming_the_same_url);
    tcase_add_test(tc, handler_backend_follows_handler_in_the_merge);
    tcase_add_test(tc, proxypassmatch_compiles_its_regex);
    tcase_add_test(tc, proxypass_inside_location_takes_the_section_path);
    tcase_add_test(tc, vhosts_inherit_proxy_timeout_and_main_server_proxypass_after_their_own);
    tcase_add_test(tc, fcgi_setenvif_takes_apache_expressions_and_refuses_bad_ones);
    tcase_add_test(tc, backend_type_must_be_fpm_or_generic);
    tcase_add_test(tc, spool_limit_is_a_positive_byte_count_of_the_main_server);
    tcase_add_test(tc, ifmodule_proxy_fcgi_is_true);
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
