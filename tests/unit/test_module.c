/* Loadable modules (module.c): the libraries built from tests/modules/ are loaded directly
 * (PORTICO_TEST_MODULE_DIR) to check the load-time errors, handler lookup, the thread-safety
 * rule per MPM, and LoadModule through a whole config load. */
#include "htaccess_parse.h"
#include "module.h"
#include "startup.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[PATH_MAX];
static pt_config_t *cfg;
static char err[PT_ERRLEN];

static void setup(void)
{
    const char *d = getenv("PORTICO_TEST_MODULE_DIR");
    ck_assert_msg(d != NULL, "PORTICO_TEST_MODULE_DIR is not set");
    snprintf(dir, sizeof(dir), "%s", d);
    pt_arena_t *a = pt_arena_create(4096);
    cfg = pt_arena_calloc(a, sizeof(*cfg));
    cfg->arena = a;
    cfg->mpm = PT_MPM_PREFORK;
    err[0] = '\0';
}

static void teardown(void)
{
    pt_module_unload_all(cfg);
    pt_arena_destroy(cfg->arena);
    cfg = NULL;
}

static const char *lib(const char *name)
{
    static char p[PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return p;
}

static int load(const char *name, const char *file, int line)
{
    return pt_module_load(cfg, name, lib(file), "x.conf", line, err, sizeof(err));
}

START_TEST(loads_a_module_and_finds_its_handler_by_name)
{
    ck_assert_int_eq(load("counter_module", "counter.so", 3), 0);
    ck_assert_uint_eq(cfg->nmodules, 1);
    const pt_loaded_module_t *m = &cfg->modules[0];
    ck_assert_str_eq(m->name, "counter_module");
    ck_assert_str_eq(m->path, lib("counter.so"));
    ck_assert_str_eq(m->file, "x.conf");
    ck_assert_int_eq(m->line, 3);
    ck_assert_int_eq(m->mod->api_version, PT_MODULE_API_VERSION);
    ck_assert_str_eq(m->mod->name, "counter");
    ck_assert_uint_eq(m->nhandlers, 1);
    const pt_handler_t *h = pt_module_handler_find(cfg, "counter");
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(h->name, "counter");
    ck_assert_ptr_nonnull(h->run);
    ck_assert_ptr_eq(pt_module_handler_find(cfg, "COUNTER"), h);
    ck_assert_ptr_null(pt_module_handler_find(cfg, "count"));
    ck_assert_ptr_null(pt_module_handler_find(cfg, "static"));
}
END_TEST

START_TEST(reports_a_non_thread_safe_module_as_such_and_a_thread_safe_one_as_such)
{
    ck_assert_int_eq(load("counter_module", "counter.so", 1), 0);
    ck_assert_int_eq(load("hello_module", "hello.so", 2), 0);
    ck_assert_uint_eq(cfg->nmodules, 2);
    ck_assert_int_eq(cfg->modules[0].mod->thread_safe, 0);
    ck_assert_int_eq(cfg->modules[1].mod->thread_safe, 1);
    ck_assert_ptr_nonnull(pt_module_handler_find(cfg, "hello"));
    ck_assert_ptr_nonnull(pt_module_handler_find(cfg, "counter"));
}
END_TEST

START_TEST(refuses_a_module_built_for_another_api_version_naming_both_versions)
{
    ck_assert_int_eq(load("oldapi_module", "oldapi.so", 7), PT_ECONFIG);
    char want[PT_ERRLEN];
    snprintf(want, sizeof(want),
             "x.conf:7: module oldapi_module in %s was built for module API version %d, but "
             "this portico provides version %d (rebuild it against portico_module.h)",
             lib("oldapi.so"), PT_MODULE_API_VERSION + 41, PT_MODULE_API_VERSION);
    ck_assert_str_eq(err, want);
    ck_assert_uint_eq(cfg->nmodules, 0);
}
END_TEST

START_TEST(reports_a_missing_symbol_with_file_and_line)
{
    ck_assert_int_eq(load("nosuch_module", "counter.so", 5), PT_ECONFIG);
    char want[PT_ERRLEN];
    snprintf(want, sizeof(want),
             "x.conf:5: Can't locate API module structure `nosuch_module' in file %s: ",
             lib("counter.so"));
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "err: %s", err);
    ck_assert_msg(strstr(err, "undefined symbol: nosuch_module") != NULL, "err: %s", err);
    ck_assert_uint_eq(cfg->nmodules, 0);
}
END_TEST

START_TEST(reports_a_missing_file_with_file_and_line)
{
    ck_assert_int_eq(load("counter_module", "none.so", 4), PT_ECONFIG);
    char want[PT_ERRLEN];
    snprintf(want, sizeof(want),
             "x.conf:4: Cannot load %s into server: No such file or directory", lib("none.so"));
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(reports_the_dlopen_error_for_a_file_that_is_not_a_library)
{
    char path[] = "/tmp/portico-notlib-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "not an ELF file\n", 16), 16);
    close(fd);
    int rc = pt_module_load(cfg, "x_module", path, "y.conf", 9, err, sizeof(err));
    unlink(path);
    ck_assert_int_eq(rc, PT_ECONFIG);
    char want[PT_ERRLEN];
    snprintf(want, sizeof(want), "y.conf:9: Cannot load %s into server: %s: ", path, path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "err: %s", err);
    ck_assert_uint_eq(cfg->nmodules, 0);
}
END_TEST

START_TEST(refuses_a_handler_name_the_server_already_answers_to)
{
    ck_assert_int_eq(load("clash_module", "clash.so", 6), PT_ECONFIG);
    char want[PT_ERRLEN];
    snprintf(want, sizeof(want),
             "x.conf:6: module clash_module in %s: handler name server-status is already taken",
             lib("clash.so"));
    ck_assert_str_eq(err, want);
    ck_assert_uint_eq(cfg->nmodules, 0);
}
END_TEST

START_TEST(skips_a_module_name_loaded_twice)
{
    ck_assert_int_eq(load("counter_module", "counter.so", 1), 0);
    ck_assert_int_eq(load("counter_module", "counter.so", 2), 0);
    ck_assert_uint_eq(cfg->nmodules, 1);
    ck_assert_int_eq(cfg->modules[0].line, 1);
}
END_TEST

START_TEST(refuses_a_non_thread_safe_module_under_event_and_worker_naming_mpm_prefork)
{
    ck_assert_int_eq(load("hello_module", "hello.so", 2), 0);
    ck_assert_int_eq(load("counter_module", "counter.so", 3), 0);
    char want[PT_ERRLEN];
    cfg->mpm = PT_MPM_EVENT;
    ck_assert_int_eq(pt_module_check_mpm(cfg, err, sizeof(err)), PT_ECONFIG);
    snprintf(want, sizeof(want),
             "x.conf:3: module counter_module (%s) is not thread-safe and cannot run under MPM "
             "event, whose children serve requests from several threads; use MPM prefork",
             lib("counter.so"));
    ck_assert_str_eq(err, want);
    cfg->mpm = PT_MPM_WORKER;
    ck_assert_int_eq(pt_module_check_mpm(cfg, err, sizeof(err)), PT_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "cannot run under MPM worker,"));
    ck_assert_ptr_nonnull(strstr(err, "; use MPM prefork"));
    cfg->mpm = PT_MPM_PREFORK;
    ck_assert_int_eq(pt_module_check_mpm(cfg, err, sizeof(err)), 0);
}
END_TEST

START_TEST(accepts_a_thread_safe_module_under_every_mpm)
{
    ck_assert_int_eq(load("hello_module", "hello.so", 2), 0);
    for (int m = PT_MPM_EVENT; m <= PT_MPM_PREFORK; m++) {
        cfg->mpm = (pt_mpm_kind_t)m;
        ck_assert_int_eq(pt_module_check_mpm(cfg, err, sizeof(err)), 0);
    }
}
END_TEST

START_TEST(runs_child_init_of_modules_that_have_one)
{
    ck_assert_int_eq(load("hello_module", "hello.so", 1), 0);   /* no child_init */
    ck_assert_int_eq(load("counter_module", "counter.so", 2), 0);
    ck_assert_int_eq(pt_module_child_init(cfg), 0);
}
END_TEST

/* A whole config: LoadModule resolved against ServerRoot, the MPM rule with file:line. */
static pt_config_t *load_conf(const char *mpm, char *path, size_t pathlen)
{
    snprintf(path, pathlen, "/tmp/portico-modconf-%ld.conf", (long)getpid());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "ServerRoot \"%s\"\nListen 127.0.0.1:8080\nMPM %s\n\n"
               "LoadModule dir_module modules/mod_dir.so\nLoadModule counter_module counter.so\n"
               "<Location /c>\nSetHandler Counter\n</Location>\n",
            dir, mpm);
    fclose(f);
    pt_startup_register(); /* as main.c: the directives of the floors above conf */
    pt_config_t *c = pt_config_load(path, &(pt_parse_opts_t){0}, err, sizeof(err));
    unlink(path);
    return c;
}

START_TEST(config_loads_a_module_relative_to_server_root)
{
    char path[128];
    pt_config_t *c = load_conf("prefork", path, sizeof(path));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->nmodules, 1);
    ck_assert_str_eq(c->modules[0].path, lib("counter.so"));
    ck_assert_int_eq(c->modules[0].line, 6);
    ck_assert_ptr_nonnull(pt_module_handler_find(c, "counter"));
    /* SetHandler resolved to the module's handler at load, as the built-in ones are. */
    ck_assert_ptr_eq(c->main_server->sections[0].conf->handler,
                     pt_module_handler_find(c, "counter"));
    pt_config_free(c);
}
END_TEST

START_TEST(config_under_event_names_the_loadmodule_line_and_mpm_prefork)
{
    char path[128];
    pt_config_t *c = load_conf("event", path, sizeof(path));
    ck_assert_ptr_null(c);
    char want[PT_ERRLEN];
    snprintf(want, sizeof(want), "%s:6: module counter_module (%s) is not thread-safe", path,
             lib("counter.so"));
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "err: %s", err);
    ck_assert_msg(strstr(err, "use MPM prefork") != NULL, "err: %s", err);
}
END_TEST

/* A module's directive is in .htaccess only where its declaration names an AllowOverride
 * class that the directory grants (or AllowOverrideList names it), as an Apache module's
 * OR_* bits say, and its line is marked as read from .htaccess; the Options= words are
 * not checked against its arguments. */
static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void htaccess_refused(pt_config_t *c, const char *ht, const char *text,
                             const pt_dir_config_t *allowed, const char *msg)
{
    write_text(ht, text);
    ck_assert_ptr_null(pt_htaccess_parse(c, ht, allowed, err, sizeof(err)));
    char want[PT_ERRLEN];
    snprintf(want, sizeof(want), "%s:1: %s", ht, msg);
    ck_assert_str_eq(err, want);
}

START_TEST(a_module_directive_is_in_htaccess_only_under_the_class_it_declares)
{
    char path[128], ht[128], text[PATH_MAX + 200];
    snprintf(path, sizeof(path), "/tmp/portico-modht-%ld.conf", (long)getpid());
    snprintf(ht, sizeof(ht), "/tmp/portico-modht-%ld.htaccess", (long)getpid());
    snprintf(text, sizeof(text), "ServerRoot \"%s\"\nListen 127.0.0.1:8080\nMPM prefork\n"
             "LoadModule hello_module hello.so\nHelloGreeting hi\n", dir);
    write_text(path, text);
    pt_startup_register();
    pt_config_t *c = pt_config_load(path, &(pt_parse_opts_t){0}, err, sizeof(err));
    unlink(path);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->main_server->dir->nmod_directives, 1);
    ck_assert(!c->main_server->dir->mod_directives[0].htaccess);
    write_text(ht, "HelloOption Indexes\n");
    pt_dir_config_t options = {.overrides = PT_OVR_OPTIONS};
    pt_htaccess_t *h = pt_htaccess_parse(c, ht, &options, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_uint_eq(h->dc->nmod_directives, 1);
    ck_assert_str_eq(h->dc->mod_directives[0].name, "HelloOption");
    ck_assert_str_eq(h->dc->mod_directives[0].argv[0], "Indexes");
    ck_assert(h->dc->mod_directives[0].htaccess);
    pt_htaccess_free(h);
    pt_dir_config_t fileinfo = {.overrides = PT_OVR_FILEINFO | PT_OVR_AUTHCFG};
    htaccess_refused(c, ht, "HelloOption x\n", &fileinfo, "HelloOption not allowed here");
    pt_dir_config_t all = {.overrides = PT_OVR_ALL};
    htaccess_refused(c, ht, "HelloGreeting x\n", &all, "HelloGreeting not allowed here");
    static const char *list[] = {"HelloGreeting"};
    pt_dir_config_t listed = {.override_list = list, .noverride_list = 1};
    h = pt_htaccess_parse(c, ht, &listed, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    ck_assert_uint_eq(h->dc->nmod_directives, 1);
    pt_htaccess_free(h);
    unlink(ht);
    pt_config_free(c);
}
END_TEST

static Suite *module_suite(void)
{
    Suite *s = suite_create("module");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, loads_a_module_and_finds_its_handler_by_name);
    tcase_add_test(tc, reports_a_non_thread_safe_module_as_such_and_a_thread_safe_one_as_such);
    tcase_add_test(tc, refuses_a_module_built_for_another_api_version_naming_both_versions);
    tcase_add_test(tc, reports_a_missing_symbol_with_file_and_line);
    tcase_add_test(tc, reports_a_missing_file_with_file_and_line);
    tcase_add_test(tc, reports_the_dlopen_error_for_a_file_that_is_not_a_library);
    tcase_add_test(tc, refuses_a_handler_name_the_server_already_answers_to);
    tcase_add_test(tc, skips_a_module_name_loaded_twice);
    tcase_add_test(tc, refuses_a_non_thread_safe_module_under_event_and_worker_naming_mpm_prefork);
    tcase_add_test(tc, accepts_a_thread_safe_module_under_every_mpm);
    tcase_add_test(tc, runs_child_init_of_modules_that_have_one);
    tcase_add_test(tc, config_loads_a_module_relative_to_server_root);
    tcase_add_test(tc, config_under_event_names_the_loadmodule_line_and_mpm_prefork);
    tcase_add_test(tc, a_module_directive_is_in_htaccess_only_under_the_class_it_declares);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(module_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
