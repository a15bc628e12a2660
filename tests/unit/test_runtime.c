/* The per-child proxy runtime (proxy/runtime.c): one pool per backend of the configuration,
 * found by the backend's index; the child hooks that make it, sweep it and free it. */
#include "config.h"
#include "fcgi/fcgi.h"
#include "runtime.h"
#include "scheme.h"
#include "startup.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char path[128];
static char err[PT_ERRLEN];

static void setup(void)
{
    strcpy(dir, "/tmp/ptrtXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/main.conf", dir);
    pt_startup_register(); /* as main.c: the fcgi scheme and the proxy directives */
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
    pt_config_t *c = pt_config_load(path, NULL, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

static const char *two_backends =
    "ThreadsPerChild 7\n"
    "ProxyPass /a/ fcgi://127.0.0.1:9000/a/ max=3\n"
    "ProxyPass /b/ fcgi://127.0.0.1:9001/b/\n"
    "<Location /c/>\n SetHandler proxy:fcgi://127.0.0.1:9000/a/\n</Location>\n";

START_TEST(each_backend_has_one_pool_found_by_its_index)
{
    pt_config_t *c = load(two_backends);
    ck_assert_uint_eq(c->nbackends, 2);
    pt_runtime_t *rt = pt_runtime_create(c);
    ck_assert_ptr_nonnull(rt);
    ck_assert_uint_eq(rt->npools, 2);
    const pt_backend_t *a = c->main_server->proxy_passes[0].backend;
    const pt_backend_t *b = c->main_server->proxy_passes[1].backend;
    ck_assert_ptr_eq(pt_runtime_pool(rt, a), rt->pools[a->index]);
    ck_assert_ptr_eq(pt_runtime_pool(rt, b), rt->pools[b->index]);
    ck_assert_ptr_ne(pt_runtime_pool(rt, a), pt_runtime_pool(rt, b));
    pt_runtime_destroy(rt);
    pt_config_free(c);
}
END_TEST

START_TEST(a_backend_of_another_generation_has_no_pool_here)
{
    pt_config_t *c1 = load(two_backends);
    pt_config_t *c2 = load(two_backends);
    pt_runtime_t *rt = pt_runtime_create(c1);
    ck_assert_ptr_null(pt_runtime_pool(rt, c2->backends[0]));
    ck_assert_ptr_null(pt_runtime_pool(NULL, c1->backends[0]));
    pt_runtime_destroy(rt);
    pt_config_free(c2);
    pt_config_free(c1);
}
END_TEST

START_TEST(a_config_without_backends_makes_an_empty_runtime)
{
    pt_config_t *c = load("");
    pt_runtime_t *rt = pt_runtime_create(c);
    ck_assert_ptr_nonnull(rt);
    ck_assert_uint_eq(rt->npools, 0);
    pt_runtime_sweep(rt, 0);
    pt_runtime_destroy(rt);
    pt_config_free(c);
}
END_TEST

START_TEST(the_child_hooks_make_sweep_and_free_the_childs_runtime)
{
    pt_config_t *c = load(two_backends);
    ck_assert_ptr_null(pt_proxy_runtime());
    ck_assert_int_eq(pt_proxy_child_init(c), 0);
    pt_runtime_t *rt = pt_proxy_runtime();
    ck_assert_ptr_nonnull(rt);
    ck_assert_ptr_eq(rt->cfg, c);
    pt_proxy_tick(0); /* nothing idle: nothing to do, and it returns */
    ck_assert_int_eq(pt_pool_open_count(rt->pools[0]), 0);
    pt_proxy_child_exit(c);
    ck_assert_ptr_null(pt_proxy_runtime());
    pt_config_free(c);
}
END_TEST

START_TEST(an_unknown_scheme_is_refused_at_load)
{
    FILE *f = fopen(path, "w");
    fprintf(f, "Listen 127.0.0.1:8080\nProxyPass /x/ gopher://h/\n");
    fclose(f);
    ck_assert_ptr_null(pt_config_load(path, NULL, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "no proxy scheme 'gopher'"));
    ck_assert_ptr_eq(pt_proxy_scheme_find("FCGI", 4), &pt_fcgi_scheme);
    ck_assert_ptr_null(pt_proxy_scheme_find("fcgix", 5));
}
END_TEST

START_TEST(a_scheme_name_cannot_be_registered_twice)
{
    static const pt_proxy_scheme_t other = {.name = "fcgi", .default_port = 1};
    ck_assert_int_eq(pt_proxy_scheme_register(&pt_fcgi_scheme), 0); /* again: no change */
    ck_assert_int_eq(pt_proxy_scheme_register(&other), PT_EINVAL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, each_backend_has_one_pool_found_by_its_index);
    tcase_add_test(tc, a_backend_of_another_generation_has_no_pool_here);
    tcase_add_test(tc, a_config_without_backends_makes_an_empty_runtime);
    tcase_add_test(tc, the_child_hooks_make_sweep_and_free_the_childs_runtime);
    tcase_add_test(tc, an_unknown_scheme_is_refused_at_load);
    tcase_add_test(tc, a_scheme_name_cannot_be_registered_twice);
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
