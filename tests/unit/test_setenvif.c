/* mod_setenvif's rules one at a time (setenvif.c): SetEnvIf, SetEnvIfNoCase and BrowserMatch
 * loaded from text, matched against a value, and the variables they set, with $0..$9 from the
 * match as Apache's ap_pregsub gives them. */
#include "setenvif.h"

#include "conf_text.h"
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static pth_conf_t tc_conf; /* the suite's main.conf and what it loaded */
static pt_arena_t *arena;
static pt_table_t env;

static void setup(void)
{
    pth_conf_open(&tc_conf);
    arena = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    pt_table_init(&env, arena, 4);
}

static void teardown(void)
{
    pt_arena_destroy(arena);
    pth_conf_close(&tc_conf);
}

/* The server's rules of body, loaded. */
static const pt_dir_config_t *rules(const char *body)
{
    pt_config_t *c = pth_conf_load(&tc_conf, body);
    ck_assert_msg(c != NULL, "%s", tc_conf.err);
    return c->main_server->dir;
}

/* Rule i of d run against value as request.c runs it: true when it matched. */
static bool run(const pt_dir_config_t *d, size_t i, const char *value)
{
    ck_assert_uint_lt(i, d->nenv);
    pt_regmatch_t m[PT_REG_MAXSUB];
    if (!pt_setenvif_match(&d->env[i], value, m))
        return false;
    pt_setenvif_assign(arena, &env, &d->env[i], value, m);
    return true;
}

static void expect(const char *name, const char *value)
{
    const char *v = pt_table_get(&env, name);
    if (!value) {
        ck_assert_msg(v == NULL, "%s is set: \"%s\"", name, v);
        return;
    }
    ck_assert_msg(v != NULL, "%s is not set", name);
    ck_assert_str_eq(v, value);
}

START_TEST(a_value_takes_the_patterns_captures)
{
    const pt_dir_config_t *d = rules("SetEnvIf Request_URI \"^/app/(\\w+)(/(\\d+))?\" "
                                     "APPNAME=$1 WHOLE=$0 ID=x$3y PAIR=$1-$2\n");
    ck_assert(run(d, 0, "/app/shop/42/rest"));
    expect("APPNAME", "shop");
    expect("WHOLE", "/app/shop/42");
    expect("ID", "x42y");
    expect("PAIR", "shop-/42");
}
END_TEST

START_TEST(a_group_that_took_no_part_gives_the_empty_string)
{
    const pt_dir_config_t *d = rules("SetEnvIf Request_URI \"^/app/(\\w+)(/(\\d+))?\" "
                                     "ID=[$3] NONE=[$9]\n");
    ck_assert(run(d, 0, "/app/shop"));
    expect("ID", "[]");
    expect("NONE", "[]"); /* beyond the pattern's groups */
}
END_TEST

START_TEST(a_backslash_takes_the_next_character_as_it_is)
{
    /* The value as loaded is "\$1 a\xb $1". */
    const pt_dir_config_t *d = rules("SetEnvIf Request_URI \"^/(a)\" \"V=\\$1 a\\xb $1\"\n");
    ck_assert(run(d, 0, "/a"));
    expect("V", "$1 axb a");
}
END_TEST

START_TEST(nocase_and_browser_match_substitute_too)
{
    const pt_dir_config_t *d = rules("SetEnvIfNoCase User-Agent \"^(curl)/([0-9.]+)\" "
                                     "CLIENT=$1 VERSION=$2\n"
                                     "BrowserMatch \"^Mozilla/(\\d)\" MOZ=$1\n"
                                     "BrowserMatchNoCase \"(bot)\" KIND=$1\n");
    ck_assert(run(d, 0, "CURL/8.5.0"));
    expect("CLIENT", "CURL");
    expect("VERSION", "8.5.0");
    ck_assert(run(d, 1, "Mozilla/5.0 (X11)"));
    expect("MOZ", "5");
    ck_assert(run(d, 2, "GoogleBOT/2.1"));
    expect("KIND", "BOT");
}
END_TEST

START_TEST(unset_and_a_name_alone_keep_their_meaning)
{
    const pt_dir_config_t *d = rules("SetEnvIf Request_URI \"^/(x)\" FLAG !GONE KEPT=$1\n");
    pt_table_set(&env, "GONE", "before");
    ck_assert(run(d, 0, "/x"));
    expect("FLAG", "1");
    expect("GONE", NULL);
    expect("KEPT", "x");
}
END_TEST

START_TEST(a_word_is_read_as_apache_reads_it)
{
    /* add_envvars splits at the first '=' and skips the run of them (ap_getword); an empty
     * value is "1", and a value that starts with '!' unsets. */
    const pt_dir_config_t *d = rules("SetEnvIf Request_URI \"^/(x)\" EMPTY= TWICE==$1 "
                                     "GONE=!$1 !ODD=v\n");
    pt_table_set(&env, "GONE", "before");
    ck_assert(run(d, 0, "/x"));
    expect("EMPTY", "1");
    expect("TWICE", "x");
    expect("GONE", NULL);
    expect("!ODD", "v");
}
END_TEST

START_TEST(a_rule_that_does_not_match_sets_nothing)
{
    const pt_dir_config_t *d = rules("SetEnvIf Request_URI \"^/app/(\\w+)\" APPNAME=$1\n");
    ck_assert(!run(d, 0, "/other/x"));
    expect("APPNAME", NULL);
}
END_TEST

START_TEST(a_plain_string_pattern_sets_its_values_as_written)
{
    /* Apache matches a pattern without regex metacharacters with apr_strmatch and copies
     * the values: no $N, no backslash taken away. An escaped metacharacter keeps it plain. */
    const pt_dir_config_t *d = rules("SetEnvIf User-Agent curl V=$0-$1\n"
                                     "SetEnvIf Request_URI \"/a\\.b\" W=$0\\x\n"
                                     "SetEnvIf Request_URI \"/a\\wb\" R=$0\n");
    ck_assert(d->env[0].literal_values);
    ck_assert(d->env[1].literal_values);
    ck_assert(!d->env[2].literal_values); /* \w is a class: a regex */
    ck_assert(run(d, 0, "my curl/8"));
    expect("V", "$0-$1");
    ck_assert(run(d, 1, "/x/a.b"));
    expect("W", "$0\\x");
    ck_assert(run(d, 2, "/a_b"));
    expect("R", "/a_b");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("setenvif");
    TCase *tc = tcase_create("setenvif");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_value_takes_the_patterns_captures);
    tcase_add_test(tc, a_group_that_took_no_part_gives_the_empty_string);
    tcase_add_test(tc, a_backslash_takes_the_next_character_as_it_is);
    tcase_add_test(tc, nocase_and_browser_match_substitute_too);
    tcase_add_test(tc, unset_and_a_name_alone_keep_their_meaning);
    tcase_add_test(tc, a_word_is_read_as_apache_reads_it);
    tcase_add_test(tc, a_rule_that_does_not_match_sets_nothing);
    tcase_add_test(tc, a_plain_string_pattern_sets_its_values_as_written);
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
