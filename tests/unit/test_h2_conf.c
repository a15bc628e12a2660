/* The H2* directives (directives_h2.c) and Protocols as HTTP/2 reads them: values stored,
 * defaults, a virtual host inheriting the main server's settings or changing only what it
 * names, and bad values refused with file:line. */
#include "config.h"
#include "h2.h"
#include "startup.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];
static char err[PT_ERRLEN];

static pt_config_t *load(const char *text)
{
    strcpy(path, "/tmp/pth2confXXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    pt_parse_opts_t o = {.server_root = "/tmp"};
    pt_startup_register();
    err[0] = '\0';
    pt_config_t *c = pt_config_load(path, &o, err, sizeof(err));
    unlink(path);
    return c;
}

START_TEST(defaults_without_directives)
{
    pt_config_t *c = load("Listen 8080\nDocumentRoot /tmp\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_h2_conf_t *h = pt_h2_conf(c, c->main_server);
    ck_assert_int_eq(h->max_session_streams, 100);
    ck_assert_int_eq(h->window_size, 65535);
    ck_assert_uint_eq(h->stream_max_mem, 65536);
    ck_assert_int_eq(h->direct, -1);
    ck_assert_int_eq(h->upgrade, -1);
    ck_assert(!pt_h2_protocol_enabled(c, c->main_server, "h2c"));
    pt_config_free(c);
}
END_TEST

START_TEST(values_are_stored_and_vhosts_inherit_or_override)
{
    pt_config_t *c = load("Listen 8080\nDocumentRoot /tmp\nProtocols h2c http/1.1\n"
                          "H2MaxSessionStreams 50\nH2WindowSize 131072\n"
                          "H2StreamMaxMemSize 32768\nH2Direct off\nH2Upgrade on\n"
                          "<VirtualHost *:8080>\nServerName a\n</VirtualHost>\n"
                          "<VirtualHost *:8080>\nServerName b\nH2MaxSessionStreams 7\n"
                          "Protocols http/1.1\n</VirtualHost>\n");
    ck_assert_msg(c != NULL, "%s", err);
    const pt_h2_conf_t *m = pt_h2_conf(c, c->main_server);
    ck_assert_int_eq(m->max_session_streams, 50);
    ck_assert_int_eq(m->window_size, 131072);
    ck_assert_uint_eq(m->stream_max_mem, 32768);
    ck_assert_int_eq(m->direct, 0);
    ck_assert_int_eq(m->upgrade, 1);
    ck_assert_uint_eq(c->nvhosts, 2);
    const pt_h2_conf_t *a = pt_h2_conf(c, c->vhosts[0]);
    ck_assert_int_eq(a->max_session_streams, 50);
    ck_assert(pt_h2_protocol_enabled(c, c->vhosts[0], "h2c"));
    const pt_h2_conf_t *b = pt_h2_conf(c, c->vhosts[1]);
    ck_assert_int_eq(b->max_session_streams, 7);
    ck_assert_int_eq(b->window_size, 131072); /* the rest from the main server */
    ck_assert(!pt_h2_protocol_enabled(c, c->vhosts[1], "h2c"));
    ck_assert(pt_h2_protocol_enabled(c, c->main_server, "h2c"));
    pt_config_free(c);
}
END_TEST

START_TEST(bad_values_are_refused_with_file_and_line)
{
    ck_assert_ptr_null(load("Listen 8080\nH2MaxSessionStreams 0\n"));
    ck_assert_msg(strstr(err, ":2:") && strstr(err, "H2MaxSessionStreams"), "%s", err);
    ck_assert_ptr_null(load("Listen 8080\n\nH2WindowSize 12\n"));
    ck_assert_msg(strstr(err, ":3:"), "%s", err);
    ck_assert_ptr_null(load("Listen 8080\nH2Direct maybe\n"));
    ck_assert_msg(strstr(err, ":2:"), "%s", err);
    ck_assert_ptr_null(load("Listen 8080\nH2StreamMaxMemSize lots\n"));
    ck_assert_msg(strstr(err, ":2:"), "%s", err);
    ck_assert_ptr_null(load("Listen 8080\nProtocols h3\n"));
    ck_assert_msg(strstr(err, ":2:") && strstr(err, "h3"), "%s", err);
}
END_TEST

static Suite *h2_conf_suite(void)
{
    Suite *s = suite_create("h2_conf");
    TCase *tc = tcase_create("directives");
    tcase_add_test(tc, defaults_without_directives);
    tcase_add_test(tc, values_are_stored_and_vhosts_inherit_or_override);
    tcase_add_test(tc, bad_values_are_refused_with_file_and_line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(h2_conf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
