/* Unit tests for authn_file.c: each hash htpasswd writes (the fixtures below were made with
 * Debian's htpasswd from apache2-utils: -B, -m, -s, -d, -5), the APR1-MD5 scheme against
 * them, the password file's lookup rules and the group file. */
#include "authn_file.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BCRYPT "$2y$04$xvUksXAHVogJY4QgiHlHyeeDC6j.8OclZECy3XgQKFnwa98NdKgo."
#define BCRYPT_PW "p\xc3\xa4ssword:with colon"
#define APR1_SHORT "$apr1$P9ghWzmc$0wYy/hIWq.2oGhTirKqPj/"
#define APR1_LONG "$apr1$hyWu.cg1$9JUfOjtXBfglUoiIvRapq/"
#define APR1_LONG_PW "a-rather-long-password-of-more-than-sixteen-bytes"
#define SHA_EMPTY "{SHA}2jmj7l5rSw0yVb/vlWAYkK/YBwk="
#define DES "kcPUz5Hq6rBR6" /* "longerthan8", which DES crypt cuts to 8 characters */
#define SHA512 "$6$DLNH5F498D.x4nyG$yJQ/4so1Cx.KCLW03upr4Rj457s1yj5bDEKGpABGxA9pVPjP//" \
               "I3jNCBGCx88RRnSt99aEnaP1QjlLad7Ogub."

static char path[64];

static void write_file(const char *text)
{
    snprintf(path, sizeof path, "/tmp/pt_authn_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
}

static void teardown(void)
{
    if (path[0])
        unlink(path);
    path[0] = '\0';
}

START_TEST(bcrypt_entries_check_with_libcrypt)
{
    ck_assert(pt_password_matches(BCRYPT_PW, BCRYPT));
    ck_assert(!pt_password_matches("p\xc3\xa4ssword", BCRYPT));
}
END_TEST

START_TEST(apr1_md5_computes_what_htpasswd_wrote)
{
    char out[64];
    pt_apr1_md5("p", "P9ghWzmc$0wYy", out, sizeof out);
    ck_assert_str_eq(out, APR1_SHORT);
    pt_apr1_md5(APR1_LONG_PW, "hyWu.cg1", out, sizeof out);
    ck_assert_str_eq(out, APR1_LONG);
    ck_assert(pt_password_matches("p", APR1_SHORT));
    ck_assert(!pt_password_matches("q", APR1_SHORT));
    ck_assert(pt_password_matches(APR1_LONG_PW, APR1_LONG));
    ck_assert(!pt_password_matches(APR1_LONG_PW "x", APR1_LONG));
}
END_TEST

START_TEST(sha1_entries_compare_the_base64_digest)
{
    ck_assert(pt_password_matches("", SHA_EMPTY));
    ck_assert(!pt_password_matches(" ", SHA_EMPTY));
    ck_assert(pt_password_matches("carolpw", "{SHA}stOsjhQ+/Zr2RzmhAD8uggClG7Y="));
}
END_TEST

START_TEST(crypt_entries_follow_crypt3_including_des_truncation)
{
    ck_assert(pt_password_matches("longerthan8", DES));
    ck_assert(pt_password_matches("longerth", DES)); /* as Apache: DES reads 8 characters */
    ck_assert(!pt_password_matches("longert", DES));
    ck_assert(pt_password_matches("sha512pw", SHA512));
    ck_assert(!pt_password_matches("sha512px", SHA512));
}
END_TEST

START_TEST(plain_text_and_empty_hashes_never_match)
{
    ck_assert(!pt_password_matches("secret", "secret"));
    ck_assert(!pt_password_matches("", ""));
    ck_assert(!pt_password_matches("x", "*"));
    ck_assert(!pt_password_matches("x", "$2y$04$short"));
}
END_TEST

START_TEST(password_file_finds_the_user_and_skips_comments)
{
    write_file("# admins\n"
               "\n"
               "bob:" APR1_SHORT "\n"
               "  alice:" SHA_EMPTY "  \n"
               "bobby:" SHA_EMPTY "\n"
               "carol:" DES ":extra:fields\n");
    char err[256];
    ck_assert_int_eq(pt_authn_file_check(path, "bob", "p", err, sizeof err), PT_AUTHN_GRANTED);
    ck_assert_int_eq(pt_authn_file_check(path, "bob", "", err, sizeof err), PT_AUTHN_DENIED);
    ck_assert_int_eq(pt_authn_file_check(path, "alice", "", err, sizeof err),
                     PT_AUTHN_GRANTED);
    ck_assert_int_eq(pt_authn_file_check(path, "bo", "p", err, sizeof err),
                     PT_AUTHN_USER_NOT_FOUND);
    ck_assert_int_eq(pt_authn_file_check(path, "# admins", "", err, sizeof err),
                     PT_AUTHN_USER_NOT_FOUND);
    ck_assert_int_eq(pt_authn_file_check(path, "carol", "longerthan8", err, sizeof err),
                     PT_AUTHN_GRANTED);
}
END_TEST

START_TEST(an_unreadable_password_file_is_an_error_naming_it)
{
    char err[256] = "";
    ck_assert_int_eq(pt_authn_file_check("/nonexistent/htpasswd", "bob", "p", err, sizeof err),
                     PT_AUTHN_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/htpasswd"));
    ck_assert_int_eq(pt_authn_file_check(NULL, "bob", "p", err, sizeof err), PT_AUTHN_ERROR);
}
END_TEST

START_TEST(group_file_lists_members_per_group_over_several_lines)
{
    write_file("# groups\n"
               "admins: alice bob\n"
               "staff:carol\tdave\n"
               "admins: erin\n"
               "admin: zed\n");
    char err[256];
    ck_assert_int_eq(pt_groupfile_member(path, "alice", "admins", err, sizeof err), 1);
    ck_assert_int_eq(pt_groupfile_member(path, "erin", "admins", err, sizeof err), 1);
    ck_assert_int_eq(pt_groupfile_member(path, "dave", "staff", err, sizeof err), 1);
    ck_assert_int_eq(pt_groupfile_member(path, "zed", "admins", err, sizeof err), 0);
    ck_assert_int_eq(pt_groupfile_member(path, "ali", "admins", err, sizeof err), 0);
    ck_assert_int_eq(pt_groupfile_member(path, "alice", "staff", err, sizeof err), 0);
    ck_assert_int_eq(pt_groupfile_member("/nonexistent/groups", "a", "b", err, sizeof err),
                     -1);
}
END_TEST

static Suite *authn_file_suite(void)
{
    Suite *s = suite_create("authn_file");
    TCase *tc = tcase_create("hashes");
    tcase_add_test(tc, bcrypt_entries_check_with_libcrypt);
    tcase_add_test(tc, apr1_md5_computes_what_htpasswd_wrote);
    tcase_add_test(tc, sha1_entries_compare_the_base64_digest);
    tcase_add_test(tc, crypt_entries_follow_crypt3_including_des_truncation);
    tcase_add_test(tc, plain_text_and_empty_hashes_never_match);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, password_file_finds_the_user_and_skips_comments);
    tcase_add_test(tc, an_unreadable_password_file_is_an_error_naming_it);
    tcase_add_test(tc, group_file_lists_members_per_group_over_several_lines);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(authn_file_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
