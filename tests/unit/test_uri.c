/* Unit tests for uri.c: normalization of hostile paths, Alias / AliasMatch / DocumentRoot
 * mapping, and the escaping helpers. */
#include "uri.h"
#include "conf_text.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pt_arena_t *A;

static void setup(void)
{
    A = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
}

static void teardown(void)
{
    pt_arena_destroy(A);
}

/* Normalizes s; returns the status, the result in *out ("" on refusal). */
static int norm(const char *s, const char **out)
{
    *out = "";
    return pt_uri_normalize(A, s, strlen(s), out);
}

#define ASSERT_NORM(in, want)                                                                  \
    do {                                                                                       \
        const char *o_;                                                                        \
        ck_assert_int_eq(norm((in), &o_), 0);                                                  \
        ck_assert_str_eq(o_, (want));                                                          \
    } while (0)

#define ASSERT_REFUSED(in, status)                                                             \
    do {                                                                                       \
        const char *o_;                                                                        \
        ck_assert_int_eq(norm((in), &o_), (status));                                           \
    } while (0)

START_TEST(keeps_plain_paths_unchanged)
{
    ASSERT_NORM("/", "/");
    ASSERT_NORM("/a", "/a");
    ASSERT_NORM("/a/b/", "/a/b/");
    ASSERT_NORM("/a/b.html", "/a/b.html");
}
END_TEST

/* A path is found normal (nothing to decode, no dot-segment, no "//") 16 bytes at a time,
 * and a '/' that ends one 16 bytes is looked at with the first byte of the next: a '%'
 * escape, "//", "/./" or "/../" at any place of a path of up to 64 bytes is still decoded,
 * merged or removed, and a path without them is given back as it is. */
START_TEST(a_path_to_normalise_is_found_at_any_place)
{
    static const char as[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    static const char bs[] = "bbbbbbbbbbbbbbbbbbbb";
    static const struct {
        const char *mid, *out;
        bool drops_as; /* "/../" takes the a's segment away */
    } cases[] = {{"/", "/", false},   {"//", "/", false},  {"/./", "/", false},
                 {"/%62", "/b", false}, {"/.x", "/.x", false}, {"/../", "/", true}};
    for (int k = 1; k <= 40; k++) {
        for (int m = 0; m <= 20; m++) {
            for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
                char in[96], want[96];
                snprintf(in, sizeof(in), "/%.*s%s%.*s", k, as, cases[c].mid, m, bs);
                snprintf(want, sizeof(want), "%s%.*s%s%.*s", cases[c].drops_as ? "" : "/",
                         cases[c].drops_as ? 0 : k, as, cases[c].out, m, bs);
                const char *o = NULL;
                ck_assert_int_eq(pt_uri_normalize(A, in, strlen(in), &o), 0);
                ck_assert_msg(strcmp(o, want) == 0, "%s gave %s, not %s", in, o, want);
            }
        }
    }
}
END_TEST

START_TEST(removes_dot_segments)
{
    ASSERT_NORM("/a/./b", "/a/b");
    ASSERT_NORM("/a/b/..", "/a/");
    ASSERT_NORM("/a/b/.", "/a/b/");
    ASSERT_NORM("/a/b/../c", "/a/c");
    ASSERT_NORM("/a/b/c/./../../g", "/a/g");
    ASSERT_NORM("/./", "/");
    ASSERT_NORM("/.", "/");
}
END_TEST

START_TEST(refuses_dot_segments_above_the_root_with_400)
{
    /* Apache answers 400 rather than clamp the path to the root. */
    ASSERT_REFUSED("/..", 400);
    ASSERT_REFUSED("/../", 400);
    ASSERT_REFUSED("/../../etc/passwd", 400);
    ASSERT_REFUSED("/a/../../../b", 400);
    ASSERT_REFUSED("/%2e%2e/%2E%2E/etc/passwd", 400);
    ASSERT_REFUSED("/.%2e/x", 400);
    ASSERT_NORM("/a/%2e%2e", "/");
    ASSERT_NORM("/a/../b", "/b");
    ASSERT_NORM("/a/b/../../c", "/c");
}
END_TEST

START_TEST(merges_repeated_slashes)
{
    ASSERT_NORM("//", "/");
    ASSERT_NORM("//a///b//", "/a/b/");
    ASSERT_NORM("/a//../b", "/b");
}
END_TEST

START_TEST(keeps_names_made_of_dots_and_trailing_dots)
{
    ASSERT_NORM("/...", "/...");
    ASSERT_NORM("/a./b..", "/a./b..");
    ASSERT_NORM("/..a/", "/..a/");
}
END_TEST

START_TEST(decodes_percent_escapes_and_keeps_utf8)
{
    ASSERT_NORM("/a%20b", "/a b");
    ASSERT_NORM("/%41%62", "/Ab");
    ASSERT_NORM("/caf%C3%A9", "/caf\xc3\xa9");
    ASSERT_NORM("/caf\xc3\xa9", "/caf\xc3\xa9");
    ASSERT_NORM("/a%25b", "/a%b");
    ASSERT_NORM("/a\\..\\b", "/a\\..\\b");
}
END_TEST

START_TEST(refuses_encoded_slash_with_404)
{
    ASSERT_REFUSED("/a%2Fb", 404);
    ASSERT_REFUSED("/a%2fb", 404);
    ASSERT_REFUSED("/..%2f..%2fetc/passwd", 404);
}
END_TEST

START_TEST(refuses_nul_and_bad_escapes_with_400)
{
    ASSERT_REFUSED("/a%00b", 400);
    ASSERT_REFUSED("/a%", 400);
    ASSERT_REFUSED("/a%2", 400);
    ASSERT_REFUSED("/a%zz", 400);
    ASSERT_REFUSED("/a%g1", 400);
    const char *o;
    ck_assert_int_eq(pt_uri_normalize(A, "/a\0b", 4, &o), 400);
}
END_TEST

START_TEST(refuses_paths_not_starting_with_slash)
{
    ASSERT_REFUSED("a/b", 400);
    ASSERT_REFUSED("", 400);
    ASSERT_REFUSED("%2Fa", 400);
    ASSERT_REFUSED("*", 400);
}
END_TEST

static pt_vhost_t *vhost(const char *root)
{
    pt_vhost_t *vh = pt_arena_calloc(A, sizeof(*vh));
    vh->document_root = root;
    vh->aliases_map = pt_arena_calloc(A, 8 * sizeof(pt_alias_t));
    return vh;
}

static void add_alias(pt_vhost_t *vh, const char *from, const char *to)
{
    pt_alias_t *al = &vh->aliases_map[vh->naliases_map++];
    al->from = from;
    al->to = to;
}

/* The pattern is compiled here and freed by free_re at the end of the test. */
static pt_regex_t *add_alias_match(pt_vhost_t *vh, const char *re, const char *to)
{
    pt_alias_t *al = &vh->aliases_map[vh->naliases_map++];
    al->regex = true;
    al->from = re;
    al->re = pt_regex_compile(re, 0, NULL, 0);
    ck_assert_ptr_nonnull(al->re);
    al->to = to;
    return al->re;
}

static void free_re(pt_regex_t *re)
{
    pt_regex_free(re);
}

START_TEST(joins_document_root_and_uri)
{
    pt_vhost_t *vh = vhost("/srv/www");
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/"), "/srv/www/");
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/a/b.html"), "/srv/www/a/b.html");
    vh->document_root = NULL;
    ck_assert_ptr_null(pt_uri_to_filename(A, vh, "/a"));
}
END_TEST

START_TEST(alias_without_slash_matches_on_segment_boundaries)
{
    pt_vhost_t *vh = vhost("/srv/www");
    add_alias(vh, "/icons", "/usr/share/icons");
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/icons"), "/usr/share/icons");
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/icons/x.png"), "/usr/share/icons/x.png");
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/iconsx"), "/srv/www/iconsx");
}
END_TEST

START_TEST(alias_with_slash_requires_the_slash)
{
    pt_vhost_t *vh = vhost("/srv/www");
    add_alias(vh, "/icons/", "/usr/share/icons/");
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/icons/x"), "/usr/share/icons/x");
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/icons"), "/srv/www/icons");
}
END_TEST

START_TEST(first_alias_in_config_order_wins)
{
    pt_vhost_t *vh = vhost("/srv/www");
    add_alias(vh, "/a", "/one");
    add_alias(vh, "/a/b", "/two");
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/a/b/c"), "/one/b/c");
}
END_TEST

START_TEST(alias_match_substitutes_captures)
{
    pt_vhost_t *vh = vhost("/srv/www");
    pt_regex_t *re = add_alias_match(vh, "^/u/([a-z]+)/(.*)$", "/home/$1/public/$2");
    pt_regex_t *re2 = add_alias_match(vh, "^/whole(.*)", "/w\\$$0$9");
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/u/bob/x/y.txt"), "/home/bob/public/x/y.txt");
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/whole/z"), "/w$/whole/z");
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/U/bob/x"), "/srv/www/U/bob/x");
    free_re(re);
    free_re(re2);
}
END_TEST

START_TEST(alias_match_cannot_splice_a_parent_segment)
{
    pt_vhost_t *vh = vhost("/srv/www");
    pt_regex_t *re = add_alias_match(vh, "^/d(.*)$", "/srv/data/$1");
    ck_assert_ptr_null(pt_uri_to_filename(A, vh, "/d.."));
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/d..x"), "/srv/data/..x");
    free_re(re);
}
END_TEST

START_TEST(hostile_paths_stay_under_the_root)
{
    static const char *const hostile[] = {
        "/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/a/../../..", "/.%2E/.%2e/",
        "//..//..//etc", "/./../.", "/%2E%2E", "/a/b/../../../../../c", "/..%5c..%5cwin",
    };
    pt_vhost_t *vh = vhost("/srv/www");
    add_alias(vh, "/static", "/srv/static");
    for (size_t i = 0; i < PT_ARRAY_LEN(hostile); i++) {
        for (int pre = 0; pre < 2; pre++) {
            char buf[128];
            snprintf(buf, sizeof(buf), "%s%s", pre ? "/static" : "", hostile[i]);
            const char *u;
            int st = norm(buf, &u);
            if (st == 400) {
                continue; /* a ".." above the root is refused, as Apache does */
            }
            ck_assert_int_eq(st, 0);
            const char *f = pt_uri_to_filename(A, vh, u);
            ck_assert_ptr_nonnull(f);
            ck_assert_msg(strncmp(f, "/srv/", 5) == 0, "%s -> %s", buf, f);
            ck_assert_msg(strstr(f, "/../") == NULL, "%s -> %s", buf, f);
            size_t n = strlen(f);
            ck_assert_msg(!(n >= 3 && strcmp(f + n - 3, "/..") == 0), "%s -> %s", buf, f);
        }
    }
}
END_TEST

START_TEST(canonicalises_alias_targets_with_slashes_and_dots)
{
    /* "/files" -> "/dir/" must give "/dir/private/s.txt", which <Directory "/dir/private">
     * matches, not "/dir//private/s.txt". */
    pt_vhost_t *vh = vhost("/srv/www/");
    add_alias(vh, "/files", "/dir/");
    add_alias(vh, "/dotted", "/a/./dir/");
    add_alias(vh, "/up", "/a/b/../dir");
    pt_regex_t *re = add_alias_match(vh, "^/am/(.*)$", "/dir//$1");
    size_t root;
    ck_assert_str_eq(pt_uri_map(A, vh, "/files/private/s.txt", &root), "/dir/private/s.txt");
    ck_assert_uint_eq(root, 4);
    ck_assert_str_eq(pt_uri_map(A, vh, "/dotted/private/s.txt", &root),
                     "/a/dir/private/s.txt");
    ck_assert_uint_eq(root, 6);
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/up/x"), "/a/dir/x");
    ck_assert_str_eq(pt_uri_map(A, vh, "/am/private/s.txt", &root), "/dir/private/s.txt");
    ck_assert_uint_eq(root, 4);
    ck_assert_str_eq(pt_uri_map(A, vh, "/x/", &root), "/srv/www/x/");
    ck_assert_uint_eq(root, 8);
    ck_assert_str_eq(pt_uri_to_filename(A, vh, "/files"), "/dir/");
    free_re(re);
}
END_TEST

START_TEST(canonical_file_names_keep_a_trailing_slash_and_stay_under_root)
{
    ck_assert_str_eq(pt_uri_canonical_file(A, "/a//b/./c/"), "/a/b/c/");
    ck_assert_str_eq(pt_uri_canonical_file(A, "/a/b/../c"), "/a/c");
    ck_assert_str_eq(pt_uri_canonical_file(A, "/../../etc"), "/etc");
    ck_assert_str_eq(pt_uri_canonical_file(A, "/"), "/");
    ck_assert_str_eq(pt_uri_canonical_file(A, "rel/x"), "rel/x");
}
END_TEST

START_TEST(escapes_paths_for_urls)
{
    ck_assert_str_eq(pt_uri_escape_path(A, "/a b/c.html"), "/a%20b/c.html");
    ck_assert_str_eq(pt_uri_escape_path(A, "/q?x#y%z"), "/q%3Fx%23y%25z");
    ck_assert_str_eq(pt_uri_escape_path(A, "/\"<'&>"), "/%22%3C%27%26%3E");
    ck_assert_str_eq(pt_uri_escape_path(A, "/caf\xc3\xa9"), "/caf%C3%A9");
    ck_assert_str_eq(pt_uri_escape_path(A, "/a-b_c.d~e"), "/a-b_c.d~e");
}
END_TEST

START_TEST(escapes_html_text)
{
    ck_assert_str_eq(pt_html_escape(A, "<a href=\"x\">'&'</a>"),
                     "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    ck_assert_str_eq(pt_html_escape(A, "plain"), "plain");
    ck_assert_str_eq(pt_html_escape(A, ""), "");
}
END_TEST

/* A loaded DocumentRoot keeps its length and whether it is plain, and the mapping that
 * trusts them (no scan of the joined name) gives what the full canonical path gives: the
 * same name and root length, for plain roots and others, URLs with "//" (MergeSlashes Off),
 * hidden names, a trailing '/', and a root the vhost inherits. */
START_TEST(a_loaded_document_root_maps_as_the_canonical_path_does)
{
    static const char *const uris[] = {"/", "/a", "/a/b.html", "/x/", "/a//b", "//a", "/.ht",
                                       "/a/.b", "/a/..", "/a/b/", "/..", "/a./b", ""};
    static const struct {
        const char *conf; /* "@" is the config's directory */
        bool plain;
    } roots[] = {
        {"DocumentRoot @/www\n", true},
        {"DocumentRoot @/www/\n", true},
        {"DocumentRoot @//www\n", false},
        {"DocumentRoot @/.dot/www\n", false},
        {"DocumentRoot @/www/./\n", false},
        {"DocumentRoot @/www\n<VirtualHost *:8080>\nServerName v\n</VirtualHost>\n", true},
    };
    pth_conf_t c;
    pth_conf_open(&c);
    char www[128], dot[128], dotwww[128];
    snprintf(www, sizeof(www), "%s/www", c.dir);
    snprintf(dot, sizeof(dot), "%s/.dot", c.dir);
    snprintf(dotwww, sizeof(dotwww), "%s/.dot/www", c.dir);
    ck_assert_int_eq(mkdir(www, 0755), 0);
    ck_assert_int_eq(mkdir(dot, 0755), 0);
    ck_assert_int_eq(mkdir(dotwww, 0755), 0);
    for (size_t i = 0; i < PT_ARRAY_LEN(roots); i++) {
        char conf[512] = "";
        for (const char *p = roots[i].conf; *p; p++)
            if (*p == '@')
                strcat(conf, c.dir);
            else
                strncat(conf, p, 1);
        pt_config_t *cfg = pth_conf_load(&c, conf);
        ck_assert_msg(cfg != NULL, "%s", c.err);
        const pt_vhost_t *vh = cfg->nvhosts ? cfg->vhosts[cfg->nvhosts - 1] : cfg->main_server;
        ck_assert_int_eq(vh->document_root_plain, roots[i].plain);
        ck_assert_uint_eq(vh->document_root_len, strlen(vh->document_root));
        pt_vhost_t counted = *vh; /* as a vhost built by hand: nothing known of its root */
        counted.document_root_len = 0;
        counted.document_root_plain = false;
        for (size_t k = 0; k < PT_ARRAY_LEN(uris); k++) {
            size_t rl = 0, want_rl = 0;
            const char *f = pt_uri_map(A, vh, uris[k], &rl);
            const char *want = pt_uri_map(A, &counted, uris[k], &want_rl);
            ck_assert_msg(strcmp(f, want) == 0 && rl == want_rl, "%s + %s: %s (%zu), not %s (%zu)",
                          vh->document_root, uris[k], f, rl, want, want_rl);
        }
    }
    rmdir(dotwww);
    rmdir(dot);
    rmdir(www);
    pth_conf_close(&c);
}
END_TEST

static Suite *uri_suite(void)
{
    Suite *s = suite_create("uri");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, keeps_plain_paths_unchanged);
    tcase_add_test(tc, removes_dot_segments);
    tcase_add_test(tc, a_path_to_normalise_is_found_at_any_place);
    tcase_add_test(tc, refuses_dot_segments_above_the_root_with_400);
    tcase_add_test(tc, merges_repeated_slashes);
    tcase_add_test(tc, keeps_names_made_of_dots_and_trailing_dots);
    tcase_add_test(tc, decodes_percent_escapes_and_keeps_utf8);
    tcase_add_test(tc, refuses_encoded_slash_with_404);
    tcase_add_test(tc, refuses_nul_and_bad_escapes_with_400);
    tcase_add_test(tc, refuses_paths_not_starting_with_slash);
    tcase_add_test(tc, joins_document_root_and_uri);
    tcase_add_test(tc, alias_without_slash_matches_on_segment_boundaries);
    tcase_add_test(tc, alias_with_slash_requires_the_slash);
    tcase_add_test(tc, first_alias_in_config_order_wins);
    tcase_add_test(tc, alias_match_substitutes_captures);
    tcase_add_test(tc, alias_match_cannot_splice_a_parent_segment);
    tcase_add_test(tc, hostile_paths_stay_under_the_root);
    tcase_add_test(tc, canonicalises_alias_targets_with_slashes_and_dots);
    tcase_add_test(tc, canonical_file_names_keep_a_trailing_slash_and_stay_under_root);
    tcase_add_test(tc, a_loaded_document_root_maps_as_the_canonical_path_does);
    tcase_add_test(tc, escapes_paths_for_urls);
    tcase_add_test(tc, escapes_html_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(uri_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
