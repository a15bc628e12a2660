/* Unit tests for headers.c: every Header / RequestHeader action, the always/onsuccess split,
 * env conditions, format expansion, edit and edit* with captures, and parse errors. */
#include "expr.h"
#include "headers.h"

#include "request.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_RULES 16

static pt_arena_t *arena;
static pt_request_t req;
static pt_table_t out;
static pt_header_rule_t rules[MAX_RULES];
static size_t nrules;
static char err[PT_ERRLEN];

static void setup(void)
{
    arena = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    memset(&req, 0, sizeof req);
    req.arena = arena;
    pt_table_init(&req.headers_in, arena, 4);
    pt_table_init(&req.headers_out, arena, 4);
    pt_table_init(&req.err_headers_out, arena, 4);
    pt_table_init(&req.env, arena, 4);
    pt_table_init(&out, arena, 2);
    nrules = 0;
    pt_expr_set_lookup(&pt_expr_request_lookup); /* as pt_startup_register */
    err[0] = '\0';
}

static void teardown(void)
{
    for (size_t i = 0; i < nrules; i++)
        pt_header_rule_release(&rules[i]);
    pt_arena_destroy(arena);
}

/* Parses argv (NULL-terminated) into the next rule slot; returns the parse result. */
static int parse_v(bool is_request, const char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    ck_assert_uint_lt(nrules, MAX_RULES);
    int rc = pt_header_rule_parse(arena, is_request, 0, argc, argv, &rules[nrules], err,
                                  sizeof err);
    if (rc == 0)
        nrules++;
    return rc;
}

/* Same, from a space-separated line (no value may contain a space). */
static int parse(bool is_request, const char *line)
{
    char *copy = pt_arena_strdup(arena, line);
    const char *argv[12];
    int argc = 0;
    for (char *t = strtok(copy, " "); t && argc < 11; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    return parse_v(is_request, argv);
}

#define HDR(line) ck_assert_msg(parse(false, line) == 0, "%s: %s", line, err)
#define REQHDR(line) ck_assert_msg(parse(true, line) == 0, "%s: %s", line, err)

static void apply(bool always, pt_table_t *t)
{
    pt_header_rules_apply(rules, nrules, always, false, t, &req, NULL);
}

static const char *get(const char *name)
{
    return pt_table_get(&out, name);
}

/* ---- Actions ------------------------------------------------------------------------- */

START_TEST(set_replaces_every_value_of_the_header)
{
    pt_table_add(&out, "X-A", "1");
    pt_table_add(&out, "x-a", "2");
    HDR("set X-A new");
    apply(false, &out);
    ck_assert_uint_eq(pt_table_count(&out, "X-A"), 1);
    ck_assert_str_eq(get("X-A"), "new");
    ck_assert_int_eq(rules[0].action, PT_HDR_SET);
    ck_assert(!rules[0].always);
}
END_TEST

START_TEST(append_joins_with_a_comma_and_add_adds_another_field)
{
    pt_table_add(&out, "Cache-Control", "no-cache");
    HDR("append Cache-Control no-store");
    HDR("add Set-Cookie a=1");
    HDR("add Set-Cookie b=2");
    HDR("append X-New first");
    apply(false, &out);
    ck_assert_str_eq(get("Cache-Control"), "no-cache, no-store");
    ck_assert_uint_eq(pt_table_count(&out, "Set-Cookie"), 2);
    ck_assert_str_eq(out.v[1].value, "a=1");
    ck_assert_str_eq(out.v[2].value, "b=2");
    ck_assert_str_eq(get("X-New"), "first");
}
END_TEST

START_TEST(merge_appends_only_a_value_not_already_present)
{
    pt_table_add(&out, "Vary", "Accept-Encoding");
    HDR("merge Vary Accept-Encoding");
    HDR("merge Vary Origin");
    HDR("merge Vary Origin");
    apply(false, &out);
    ck_assert_str_eq(get("Vary"), "Accept-Encoding, Origin");
}
END_TEST

START_TEST(unset_removes_every_field_of_that_name)
{
    pt_table_add(&out, "Server", "portico");
    pt_table_add(&out, "X-Powered-By", "PHP");
    pt_table_add(&out, "x-powered-by", "PHP2");
    HDR("unset X-Powered-By");
    HDR("unset Server");
    apply(false, &out);
    ck_assert_uint_eq(out.n, 0);
}
END_TEST

START_TEST(setifempty_sets_only_when_absent)
{
    pt_table_add(&out, "Content-Type", "text/html");
    HDR("setifempty Content-Type text/plain");
    HDR("setifempty X-Frame-Options DENY");
    apply(false, &out);
    ck_assert_str_eq(get("Content-Type"), "text/html");
    ck_assert_str_eq(get("X-Frame-Options"), "DENY");
}
END_TEST

START_TEST(echo_copies_request_headers_whose_names_match)
{
    pt_table_add(&req.headers_in, "X-Request-Id", "abc");
    pt_table_add(&req.headers_in, "x-trace-a", "1");
    pt_table_add(&req.headers_in, "X-Trace-B", "2");
    pt_table_add(&req.headers_in, "Host", "example.com");
    HDR("echo ^X-Trace-");
    HDR("echo X-Request-Id");
    apply(false, &out);
    ck_assert_uint_eq(out.n, 3);
    ck_assert_str_eq(get("x-trace-a"), "1");
    ck_assert_str_eq(get("X-Trace-B"), "2");
    ck_assert_str_eq(get("X-Request-Id"), "abc");
    ck_assert_ptr_null(get("Host"));
}
END_TEST

START_TEST(edit_replaces_the_first_match_with_captures)
{
    pt_table_add(&out, "Location", "http://backend:8080/a/http://x");
    HDR("edit Location ^http://([^:/]+):8080/ https://$1.example/");
    HDR("edit Location http https");
    apply(false, &out);
    ck_assert_str_eq(get("Location"), "httpss://backend.example/a/http://x");
}
END_TEST

START_TEST(edit_star_replaces_every_match)
{
    pt_table_add(&out, "Set-Cookie", "a=1; path=/; Path=/x");
    pt_table_add(&out, "Set-Cookie", "b=2");
    HDR("edit* Set-Cookie ([Pp])ath= $1ATH=");
    HDR("edit* Set-Cookie $ ;\\&HttpOnly");
    apply(false, &out);
    ck_assert_str_eq(out.v[0].value, "a=1; pATH=/; PATH=/x;&HttpOnly");
    ck_assert_str_eq(out.v[1].value, "b=2;&HttpOnly");
}
END_TEST

START_TEST(edit_leaves_values_without_a_match_and_supports_whole_match)
{
    pt_table_add(&out, "X-A", "keep");
    pt_table_add(&out, "X-B", "abc");
    HDR("edit X-A zzz yyy");
    HDR("edit* X-B [abc] <&>");
    HDR("edit X-Missing a b");
    apply(false, &out);
    ck_assert_str_eq(get("X-A"), "keep");
    ck_assert_str_eq(get("X-B"), "<a><b><c>");
    ck_assert_ptr_null(get("X-Missing"));
    ck_assert_uint_eq(out.n, 2);
}
END_TEST

START_TEST(edit_star_with_an_empty_match_terminates)
{
    pt_table_add(&out, "X-A", "ab");
    HDR("edit* X-A x* -");
    apply(false, &out);
    ck_assert_str_eq(get("X-A"), "-a-b");
}
END_TEST

START_TEST(colon_after_the_header_name_is_dropped)
{
    HDR("set X-Colon: v");
    ck_assert_str_eq(rules[0].name, "X-Colon");
}
END_TEST

/* ---- always vs onsuccess --------------------------------------------------------------- */

START_TEST(always_rules_apply_only_in_the_always_pass)
{
    HDR("set X-Success 1");
    HDR("onsuccess set X-Explicit 1");
    HDR("always set X-Always 1");
    HDR("ALWAYS unset X-Gone");
    ck_assert(!rules[1].always);
    ck_assert(rules[2].always);
    pt_table_add(&req.err_headers_out, "X-Gone", "v");
    apply(false, &req.headers_out);
    apply(true, &req.err_headers_out);
    ck_assert_str_eq(pt_table_get(&req.headers_out, "X-Success"), "1");
    ck_assert_str_eq(pt_table_get(&req.headers_out, "X-Explicit"), "1");
    ck_assert_ptr_null(pt_table_get(&req.headers_out, "X-Always"));
    ck_assert_str_eq(pt_table_get(&req.err_headers_out, "X-Always"), "1");
    ck_assert_ptr_null(pt_table_get(&req.err_headers_out, "X-Success"));
    ck_assert_ptr_null(pt_table_get(&req.err_headers_out, "X-Gone"));
}
END_TEST

/* Apache keeps the two tables apart: a rule sees only its own, so "set" in both makes two
 * fields once the tables are sent together, and an unset in one leaves the other's. */
START_TEST(set_in_both_tables_gives_two_fields_and_unset_touches_only_its_own_table)
{
    HDR("set X-Both on");
    HDR("always set X-Both al");
    HDR("unset X-Script");
    HDR("always set X-A a");
    HDR("unset X-A");
    pt_table_add(&req.err_headers_out, "X-Script", "from a script");
    apply(false, &req.headers_out);
    apply(true, &req.err_headers_out);
    ck_assert_str_eq(pt_table_get(&req.headers_out, "X-Both"), "on");
    ck_assert_str_eq(pt_table_get(&req.err_headers_out, "X-Both"), "al");
    ck_assert_str_eq(pt_table_get(&req.err_headers_out, "X-Script"), "from a script");
    ck_assert_str_eq(pt_table_get(&req.err_headers_out, "X-A"), "a");
    ck_assert_ptr_null(pt_table_get(&req.headers_out, "X-A"));
}
END_TEST

/* ---- env conditions ------------------------------------------------------------------ */

START_TEST(env_condition_applies_only_when_the_variable_is_set)
{
    HDR("set X-If 1 env=flag");
    HDR("set X-IfNot 1 env=!flag");
    HDR("unset X-Drop env=flag");
    ck_assert_str_eq(rules[0].env, "flag");
    ck_assert(rules[1].env_negate);
    pt_table_add(&out, "X-Drop", "v");
    apply(false, &out);
    ck_assert_ptr_null(get("X-If"));
    ck_assert_str_eq(get("X-IfNot"), "1");
    ck_assert_str_eq(get("X-Drop"), "v");

    pt_table_init(&out, arena, 2);
    pt_table_add(&out, "X-Drop", "v");
    pt_table_set(&req.env, "FLAG", "");
    apply(false, &out);
    ck_assert_str_eq(get("X-If"), "1");
    ck_assert_ptr_null(get("X-IfNot"));
    ck_assert_ptr_null(get("X-Drop"));
}
END_TEST

/* ---- Formats ------------------------------------------------------------------------- */

/* mod_headers' letters (apache2 2.4 answers "100%", "(null)" for a missing variable, and
 * "i=98" for %{X-Client}i: i is the idle workers' share, whatever the braces hold). */
START_TEST(expands_environment_formats_and_percent_signs_as_apache)
{
    pt_table_set(&req.env, "UNIQUE_ID", "u123");
    pt_table_set(&req.headers_in, "X-Client", "cli");
    HDR("set X-Id id=%{UNIQUE_ID}e;pct=100%%;end=50%");
    HDR("set X-Missing [%{NOPE}e][%e][%{}e]");
    HDR("set X-Load %l|%{X-Client}i|%b");
    apply(false, &out);
    ck_assert_str_eq(get("X-Id"), "id=u123;pct=100%;end=50%");
    ck_assert_str_eq(get("X-Missing"), "[(null)][(null)][(null)]");
    double a, b, c;
    int idle, busy;
    ck_assert_msg(sscanf(get("X-Load"), "l=%lf/%lf/%lf|i=%d|b=%d", &a, &b, &c, &idle, &busy) == 5,
                  "X-Load: %s", get("X-Load"));
}
END_TEST

/* Without TLS, mod_ssl's %{HTTPS}s is "off" and the rest "(null)". */
START_TEST(ssl_variables_without_tls_are_as_mod_ssl_gives_them)
{
    HDR("set X-S %{HTTPS}s|%{SSL_PROTOCOL}s");
    apply(false, &out);
    ck_assert_str_eq(get("X-S"), "off|(null)");
}
END_TEST

START_TEST(expands_request_time_and_duration_in_microseconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    req.start_wall_us = 1234567890123456LL;
    req.start_mono_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - 5000000;
    HDR("set X-Time %t");
    HDR("set X-Dur %D");
    apply(false, &out);
    ck_assert_str_eq(get("X-Time"), "t=1234567890123456");
    const char *d = get("X-Dur");
    ck_assert_int_eq(strncmp(d, "D=", 2), 0);
    long long us = atoll(d + 2);
    ck_assert_int_ge(us, 5000000);
    ck_assert_int_lt(us, 65000000);
}
END_TEST

START_TEST(substituted_text_cannot_break_the_header_line)
{
    pt_table_set(&req.env, "EVIL", "a\r\nSet-Cookie: x=1");
    HDR("set X-E %{EVIL}e");
    apply(false, &out);
    ck_assert_str_eq(get("X-E"), "a  Set-Cookie: x=1");
}
END_TEST

START_TEST(edit_replacement_may_use_formats)
{
    pt_table_set(&req.env, "HOST", "front.example");
    pt_table_add(&out, "Location", "http://backend/x");
    HDR("edit Location ^http://backend/ https://%{HOST}e/");
    apply(false, &out);
    ck_assert_str_eq(get("Location"), "https://front.example/x");
}
END_TEST

/* ---- RequestHeader ------------------------------------------------------------------- */

START_TEST(request_header_rules_act_on_headers_in)
{
    pt_table_add(&req.headers_in, "Proxy", "evil");
    pt_table_add(&req.headers_in, "Accept", "text/html");
    REQHDR("unset Proxy");
    REQHDR("set X-Forwarded-Proto https");
    REQHDR("append Accept */*");
    REQHDR("edit Accept html xml");
    REQHDR("setifempty X-Forwarded-Proto http");
    pt_header_rules_apply(rules, nrules, false, false, &req.headers_in, &req, NULL);
    ck_assert_ptr_null(pt_table_get(&req.headers_in, "Proxy"));
    ck_assert_str_eq(pt_table_get(&req.headers_in, "X-Forwarded-Proto"), "https");
    ck_assert_str_eq(pt_table_get(&req.headers_in, "Accept"), "text/xml, */*");
}
END_TEST

START_TEST(request_header_refuses_conditions_and_echo)
{
    ck_assert_int_eq(parse(true, "always set X-A 1"), PT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "RequestHeader takes no condition"));
    ck_assert_int_eq(parse(true, "echo X-A"), PT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "RequestHeader echo"));
}
END_TEST

/* ---- Parse errors -------------------------------------------------------------------- */

START_TEST(rejects_wrong_argument_counts)
{
    static const char *bad[] = {"",         "set",         "set X-A",        "always set",
                                "unset",    "unset X-A b c", "set X-A 1 env=x extra",
                                "edit X-A a", "edit X-A a b env=x more", "echo a b c"};
    for (size_t i = 0; i < PT_ARRAY_LEN(bad); i++)
        ck_assert_msg(parse(false, bad[i]) == PT_EINVAL, "accepted '%s'", bad[i]);
    ck_assert_int_eq(parse(false, "set X-A"), PT_EINVAL);
    ck_assert_str_eq(err, "Header set takes a header name and a value, and optionally "
                          "env=[!]VAR");
    ck_assert_uint_eq(nrules, 0);
}
END_TEST

START_TEST(rejects_unknown_actions_and_conditions)
{
    ck_assert_int_eq(parse(false, "replace X-A 1"), PT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "not 'replace'"));
    ck_assert_int_eq(parse(false, "note X-A n"), PT_EINVAL);
    ck_assert_int_eq(parse(false, "set X-A 1 envv=x"), PT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "unknown parameter 'envv=x'"));
    ck_assert_int_eq(parse(false, "set X-A 1 env="), PT_EINVAL);
    ck_assert_int_eq(parse(false, "set X-A 1 env=!"), PT_EINVAL);
    ck_assert_int_eq(parse(true, "unset Proxy early"), 0); /* the httpd image's recipe */
    ck_assert_int_eq(parse(false, "set : 1"), PT_EINVAL);
}
END_TEST

START_TEST(rejects_bad_expr_with_a_clear_message)
{
    ck_assert_int_eq(parse(false, "set X-A 1 expr=%{NOPE}==''"), PT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "Variable 'NOPE' does not exist"));
    ck_assert_int_eq(parse(false, "set X-A expr=%{nofunc:x}"), PT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "Function 'nofunc' does not exist"));
}
END_TEST

/* expr.html: 'Header always set CustomHeader my-value "expr=%{REQUEST_URI} =~
 * m#^/special_path\.php$#"' and 'Header set foo-checksum "expr=%{md5:foo}"'. */
START_TEST(applies_expr_conditions_and_values_per_request)
{
    req.uri = "/special_path.php";
    const char *a[] = {"set", "X-A", "my-value", "expr=%{REQUEST_URI} =~ m#^/special_path\\.php$#",
                       NULL};
    const char *b[] = {"set", "foo-checksum", "expr=%{md5:foo}", NULL};
    const char *c[] = {"set", "X-C", "1", "expr=%{REQUEST_URI} == '/other'", NULL};
    const char *d[] = {"edit", "X-D", "^(.*)$", "expr=%{REQUEST_URI}", NULL};
    ck_assert_int_eq(parse_v(false, a), 0);
    ck_assert_int_eq(parse_v(false, b), 0);
    ck_assert_int_eq(parse_v(false, c), 0);
    ck_assert_int_eq(parse_v(false, d), 0);
    pt_table_set(&out, "X-D", "old");
    apply(false, &out);
    ck_assert_str_eq(get("X-A"), "my-value");
    ck_assert_str_eq(get("foo-checksum"), "acbd18db4cc2f85cedef654fccc4a4d8");
    ck_assert_ptr_null(get("X-C"));
    ck_assert_str_eq(get("X-D"), "/special_path.php");
    ck_assert_ptr_null(get("Vary"));
}
END_TEST

/* apache2 2.4 adds "Vary: X-C" for 'Header set X-C c "expr=%{HTTP:X-C} == 1"'. */
START_TEST(an_expr_condition_adds_the_headers_it_read_to_vary)
{
    const char *a[] = {"set", "X-C", "c", "expr=%{HTTP:X-C} == '1' || req('X-D') == '1'", NULL};
    ck_assert_int_eq(parse_v(false, a), 0);
    pt_table_set(&out, "Vary", "Accept-Encoding");
    apply(false, &out);
    ck_assert_ptr_null(get("X-C"));
    ck_assert_str_eq(get("Vary"), "Accept-Encoding, X-C,X-D");
}
END_TEST

/* apache2 2.4: "Vary: User-Agent,Referer" for "expr=%{HTTP_USER_AGENT} == 'x' ||
 * %{HTTP_REFERER} == 'y'". */
START_TEST(an_expr_condition_on_http_variables_adds_their_headers_to_vary)
{
    const char *a[] = {"set", "X-C", "c", "expr=%{HTTP_USER_AGENT} == 'x' || %{HTTP_REFERER} == 'y'",
                       NULL};
    ck_assert_int_eq(parse_v(false, a), 0);
    apply(false, &out);
    ck_assert_str_eq(get("Vary"), "User-Agent,Referer");
}
END_TEST

/* What apache2 2.4 refuses ("Unrecognized header format %q"); it takes "100%", "%e", "%{}e",
 * "%i" and "%{SSL_PROTOCOL}s". */
START_TEST(rejects_bad_formats_at_parse_time)
{
    static const char *bad[] = {"set X-A %q", "set X-A %{NAME", "set X-A %{NAME}", "set X-A %{X}z"};
    for (size_t i = 0; i < PT_ARRAY_LEN(bad); i++)
        ck_assert_msg(parse(false, bad[i]) == PT_EINVAL, "accepted '%s'", bad[i]);
    ck_assert_int_eq(parse(false, "set X-A %q"), PT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "unrecognized header format %q"));
    static const char *good[] = {"set X-A %{SSL_PROTOCOL}s",
                                 "set X-A 100%",
                                 "set X-A %{}e",
                                 "set X-A %e",
                                 "set X-A %i",
                                 "set X-A %l%b"};
    for (size_t i = 0; i < PT_ARRAY_LEN(good); i++)
        ck_assert_msg(parse(false, good[i]) == 0, "refused '%s': %s", good[i], err);
}
END_TEST

START_TEST(rejects_bad_regular_expressions)
{
    ck_assert_int_eq(parse(false, "edit X-A ([a 1"), PT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "bad regular expression '([a'"));
    ck_assert_int_eq(parse(false, "echo ([a"), PT_EINVAL);
    ck_assert_uint_eq(nrules, 0);
}
END_TEST

START_TEST(accepts_values_with_spaces_and_empty_values)
{
    const char *a1[] = {"always", "set", "Content-Security-Policy", "default-src 'self'",
                        NULL};
    const char *a2[] = {"set", "X-Empty", "", NULL};
    ck_assert_int_eq(parse_v(false, a1), 0);
    ck_assert_int_eq(parse_v(false, a2), 0);
    apply(true, &out);
    apply(false, &out);
    ck_assert_str_eq(get("Content-Security-Policy"), "default-src 'self'");
    ck_assert_str_eq(get("X-Empty"), "");
}
END_TEST

static Suite *headers_suite(void)
{
    Suite *s = suite_create("headers");
    TCase *tc = tcase_create("actions");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, set_replaces_every_value_of_the_header);
    tcase_add_test(tc, append_joins_with_a_comma_and_add_adds_another_field);
    tcase_add_test(tc, merge_appends_only_a_value_not_already_present);
    tcase_add_test(tc, unset_removes_every_field_of_that_name);
    tcase_add_test(tc, setifempty_sets_only_when_absent);
    tcase_add_test(tc, echo_copies_request_headers_whose_names_match);
    tcase_add_test(tc, edit_replaces_the_first_match_with_captures);
    tcase_add_test(tc, edit_star_replaces_every_match);
    tcase_add_test(tc, edit_leaves_values_without_a_match_and_supports_whole_match);
    tcase_add_test(tc, edit_star_with_an_empty_match_terminates);
    tcase_add_test(tc, colon_after_the_header_name_is_dropped);
    tcase_add_test(tc, always_rules_apply_only_in_the_always_pass);
    tcase_add_test(tc, set_in_both_tables_gives_two_fields_and_unset_touches_only_its_own_table);
    tcase_add_test(tc, env_condition_applies_only_when_the_variable_is_set);
    tcase_add_test(tc, request_header_rules_act_on_headers_in);
    suite_add_tcase(s, tc);

    tc = tcase_create("formats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, expands_environment_formats_and_percent_signs_as_apache);
    tcase_add_test(tc, ssl_variables_without_tls_are_as_mod_ssl_gives_them);
    tcase_add_test(tc, expands_request_time_and_duration_in_microseconds);
    tcase_add_test(tc, substituted_text_cannot_break_the_header_line);
    tcase_add_test(tc, edit_replacement_may_use_formats);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, request_header_refuses_conditions_and_echo);
    tcase_add_test(tc, rejects_wrong_argument_counts);
    tcase_add_test(tc, rejects_unknown_actions_and_conditions);
    tcase_add_test(tc, rejects_bad_expr_with_a_clear_message);
    tcase_add_test(tc, applies_expr_conditions_and_values_per_request);
    tcase_add_test(tc, an_expr_condition_adds_the_headers_it_read_to_vary);
    tcase_add_test(tc, an_expr_condition_on_http_variables_adds_their_headers_to_vary);
    tcase_add_test(tc, rejects_bad_formats_at_parse_time);
    tcase_add_test(tc, rejects_bad_regular_expressions);
    tcase_add_test(tc, accepts_values_with_spaces_and_empty_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(headers_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
