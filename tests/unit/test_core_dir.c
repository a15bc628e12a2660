/* The per-directory directives of conf/directives_core2.c and their merge
 * (conf/dirconf_core2.c): FileETag's keyword arithmetic as Apache's set_etag_bits and
 * merge_core_dir_configs, the ETag text (range.c), and the other settings' parsing and
 * errors. */
#include "compress_conf.h"
#include "conf_text.h"
#include "config.h"
#include "range.h"
#include "startup.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pth_conf_t tc_conf; /* the suite's main.conf and what it loaded */
static pt_arena_t *req_arena; /* the merged configs' memory, freed at teardown */

static void setup(void)
{
    pth_conf_open(&tc_conf);
}

static void teardown(void)
{
    if (req_arena)
        pt_arena_destroy(req_arena);
    req_arena = NULL;
    pth_conf_close(&tc_conf);
}

static pt_config_t *load(const char *body)
{
    return pth_conf_load(&tc_conf, body);
}

/* The config a request under /srv/a/b gets: server, <Directory /srv/a>, <Directory /srv/a/b>
 * as far as the file defines them. */
static const pt_dir_config_t *for_path(const char *file)
{
    ck_assert_msg(tc_conf.cfg != NULL, "%s", tc_conf.err);
    if (!req_arena)
        req_arena = pt_arena_create(4096);
    return pt_config_dir_for(req_arena, tc_conf.cfg->main_server, file, "/x");
}

static unsigned etag_bits(const char *sections, const char *file)
{
    load(sections);
    return pt_core_etag_bits(&for_path(file)->core);
}

START_TEST(file_etag_default_is_mtime_size)
{
    ck_assert_uint_eq(etag_bits("", "/srv/f"), PT_FETAG_MTIME | PT_FETAG_SIZE);
}
END_TEST

START_TEST(file_etag_absolute_keywords_replace_and_relative_ones_adjust)
{
    const char *conf = "<Directory /srv>\nFileETag All\n</Directory>\n"
                       "<Directory /srv/a>\nFileETag -INode\n</Directory>\n"
                       "<Directory /srv/a/b>\nFileETag Size\n</Directory>\n"
                       "<Directory /srv/c>\nFileETag MTime +Size\n</Directory>\n";
    ck_assert_uint_eq(etag_bits(conf, "/srv/f"), PT_FETAG_ALL);
    ck_assert_uint_eq(etag_bits(conf, "/srv/a/f"), PT_FETAG_MTIME | PT_FETAG_SIZE);
    ck_assert_uint_eq(etag_bits(conf, "/srv/a/b/f"), PT_FETAG_SIZE);
    ck_assert_uint_eq(etag_bits(conf, "/srv/c/f"), PT_FETAG_MTIME | PT_FETAG_SIZE);
}
END_TEST

START_TEST(file_etag_relative_keyword_without_explicit_base_keeps_the_default)
{
    /* Apache's merge: -MTime against nothing set gives bits 0, that is the default. */
    ck_assert_uint_eq(etag_bits("<Directory /srv>\nFileETag -MTime\n</Directory>\n", "/srv/f"),
                      PT_FETAG_MTIME | PT_FETAG_SIZE);
}
END_TEST

START_TEST(file_etag_none_with_another_keyword_is_still_none)
{
    unsigned b = etag_bits("<Directory /srv>\nFileETag None Size\n</Directory>\n", "/srv/f");
    ck_assert(b & PT_FETAG_NONE);
}
END_TEST

START_TEST(etag_text_leaves_out_the_parts_not_asked_for)
{
    char buf[PT_ETAG_LEN];
    pt_etag_make_bits(buf, sizeof buf, PT_FETAG_ALL, 0xab, 3, 0x10);
    ck_assert_str_eq(buf, "\"ab-3-10\"");
    pt_etag_make_bits(buf, sizeof buf, PT_FETAG_INODE, 0xab, 3, 0x10);
    ck_assert_str_eq(buf, "\"ab\"");
    pt_etag_make_bits(buf, sizeof buf, PT_FETAG_INODE | PT_FETAG_MTIME, 0xab, 3, 0x10);
    ck_assert_str_eq(buf, "\"ab-10\"");
    pt_etag_make_bits(buf, sizeof buf, PT_FETAG_SIZE, 0xab, 3, 0x10);
    ck_assert_str_eq(buf, "\"3\"");
    pt_etag_make_bits(buf, sizeof buf, PT_FETAG_SIZE | PT_FETAG_MTIME, 0, 0, 0);
    ck_assert_str_eq(buf, "\"0-0\"");
    pt_etag_make_bits(buf, sizeof buf, PT_FETAG_ALL, UINT64_MAX, INT64_MAX, 0x1234abcd5678ef);
    ck_assert_str_eq(buf, "\"ffffffffffffffff-7fffffffffffffff-1234abcd5678ef\"");
}
END_TEST

START_TEST(dir_settings_are_inherited_and_inner_wins)
{
    load("<Directory /srv>\nAcceptPathInfo On\nDirectorySlash Off\n"
         "DirectoryIndexRedirect on\nAuthzSendForbiddenOnFailure On\n</Directory>\n"
         "<Directory /srv/a>\nAcceptPathInfo Default\nDirectoryIndexRedirect 307\n"
         "</Directory>\n");
    const pt_dir_config_t *d = for_path("/srv/f");
    ck_assert_int_eq(d->core.accept_path_info, 2);
    ck_assert_int_eq(d->core.dir_slash, 1);
    ck_assert_int_eq(d->core.index_redirect, 302);
    ck_assert_int_eq(d->core.forbidden_on_fail, 2);
    d = for_path("/srv/a/f");
    ck_assert_int_eq(d->core.accept_path_info, 3);
    ck_assert_int_eq(d->core.dir_slash, 1);
    ck_assert_int_eq(d->core.index_redirect, 307);
}
END_TEST

static const char *joined(const char **v, size_t n)
{
    static char buf[256];
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? "," : "", v[i]);
    return buf;
}

static const char *apply(pt_arena_t *a, const char *const *outer, size_t no,
                         const char *const *ops, size_t nops)
{
    size_t n = 0;
    const char **v = pt_filter_chain_apply(a, outer, no, ops, nops, &n);
    return joined(v, n);
}

START_TEST(filter_chain_words_edit_the_inherited_chain)
{
    pt_arena_t *a = pt_arena_create(1024);
    const char *outer[] = {"a", "b"};
    const char *add[] = {"c", "@z", "-a"};
    ck_assert_str_eq(apply(a, outer, 2, add, 3), "z,b,c");
    const char *replace[] = {"=x", "+y"};
    ck_assert_str_eq(apply(a, outer, 2, replace, 2), "x,y");
    const char *clear[] = {"!"};
    ck_assert_str_eq(apply(a, outer, 2, clear, 1), "");
    const char *again[] = {"+b"}; /* one entry per name */
    ck_assert_str_eq(apply(a, outer, 2, again, 1), "a,b");
    pt_arena_destroy(a);
}
END_TEST

START_TEST(filter_chain_of_an_inner_section_applies_to_the_outer_one)
{
    load("FilterProvider gz DEFLATE \"true\"\nFilterProvider br BROTLI_COMPRESS \"true\"\n"
         "FilterChain gz\n<Directory /srv>\nFilterChain +br -gz\n</Directory>\n");
    const pt_dir_config_t *d = for_path("/srv/f");
    ck_assert_ptr_nonnull(d->compress);
    ck_assert_str_eq(joined((const char **)d->compress->smart_chain,
                            d->compress->nsmart_chain), "br");
    ck_assert_uint_eq(d->compress->nproviders, 2);
}
END_TEST

#define EXPECT_ERROR(text, msg)                                                            \
    do {                                                                                   \
        ck_assert_ptr_null(load(text));                                                    \
        ck_assert_msg(strstr(tc_conf.err, msg) != NULL, "got: %s", tc_conf.err);           \
    } while (0)

START_TEST(rejects_bad_values_as_apache)
{
    EXPECT_ERROR("FileETag +None\n", "main.conf:3: FileETag keyword 'None' cannot be used "
                                     "with '+' or '-'");
    EXPECT_ERROR("FileETag Bogus\n", "main.conf:3: Unknown keyword 'Bogus' for FileETag");
    EXPECT_ERROR("AcceptPathInfo maybe\n", "AcceptPathInfo must be set to on, off or default");
    EXPECT_ERROR("DirectoryIndexRedirect 200\n", "DirectoryIndexRedirect: '200' is not");
    EXPECT_ERROR("<Directory /srv>\nAuthMerging Xor\n</Directory>\n",
                 "AuthMerging must be one of: Off | And | Or");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("core_dir");
    TCase *tc = tcase_create("core_dir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, file_etag_default_is_mtime_size);
    tcase_add_test(tc, file_etag_absolute_keywords_replace_and_relative_ones_adjust);
    tcase_add_test(tc, file_etag_relative_keyword_without_explicit_base_keeps_the_default);
    tcase_add_test(tc, file_etag_none_with_another_keyword_is_still_none);
    tcase_add_test(tc, etag_text_leaves_out_the_parts_not_asked_for);
    tcase_add_test(tc, dir_settings_are_inherited_and_inner_wins);
    tcase_add_test(tc, rejects_bad_values_as_apache);
    tcase_add_test(tc, filter_chain_words_edit_the_inherited_chain);
    tcase_add_test(tc, filter_chain_of_an_inner_section_applies_to_the_outer_one);
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
