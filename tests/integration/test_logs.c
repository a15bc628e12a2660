/* Access log lines in the common, combined and json formats, and the error log line format.
 * Access logs are buffered by the server, so each test stops it (which flushes) before
 * reading them. */
#include "harness.h"

#include <check.h>
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    pth_write_file(h, "data.txt", "0123456789", 10);
    pth_write_file(h, "denied/x.txt", "x", 1);
    /* One child: each process buffers its own log lines, so only one keeps them in
     * request order, which these tests read by position. */
    pth_config(h, "StartServers 1\nServerLimit 1\nMinSpareThreads 1\n"
                  "CustomLog @DIR@/combined.log combined\nCustomLog @DIR@/json.log json\n"
                  "<Directory @DOCROOT@/denied>\n    Require all denied\n</Directory>\n");
    pth_start(h);
}

static void teardown(void)
{
    pth_free(h);
    h = NULL;
}

static void request(const char *path, const char *const *hdrs, int status)
{
    pth_resp_t r;
    pth_get(h, path, hdrs, &r);
    ck_assert_msg(r.status == status, "%s: %d", path, r.status);
    pth_resp_free(&r);
}

/* Returns the line of DIR/name that contains key, malloc'd; aborts if none. Lines are found
 * by content: two workers may log back-to-back requests in either order, as in Apache. */
static char *log_line(const char *name, const char *key)
{
    char *all = pth_read_file(pth_path(h, name), NULL);
    ck_assert_msg(all != NULL, "no %s", name);
    char *line = all;
    while (line && *line) {
        size_t len = strcspn(line, "\n");
        char *hit = strstr(line, key);
        if (hit && hit < line + len)
            break;
        line = line[len] ? line + len + 1 : NULL;
    }
    ck_assert_msg(line && *line, "%s has no line with %s: %s", name, key, all);
    size_t n = strcspn(line, "\n");
    ck_assert_msg(line[n] == '\n', "%s line with %s is not terminated", name, key);
    char *out = strndup(line, n);
    free(all);
    return out;
}

static void assert_matches(const char *line, const char *re_src)
{
    regex_t re;
    ck_assert_int_eq(regcomp(&re, re_src, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&re, line, 0, NULL, 0);
    regfree(&re);
    ck_assert_msg(rc == 0, "line\n  %s\ndoes not match\n  %s", line, re_src);
}

#define CLF_TIME "\\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\\]"

START_TEST(writes_common_format_lines)
{
    request("/data.txt", NULL, 200);
    request("/missing.txt", NULL, 404);
    ck_assert_int_eq(pth_stop(h), 0);
    char *l0 = log_line("access.log", "/data.txt"), *l1 = log_line("access.log", "/missing.txt");
    assert_matches(l0, "^127\\.0\\.0\\.1 - - " CLF_TIME " \"GET /data\\.txt HTTP/1\\.1\" 200 10$");
    assert_matches(l1, "^127\\.0\\.0\\.1 - - " CLF_TIME
                       " \"GET /missing\\.txt HTTP/1\\.1\" 404 ([0-9]+|-)$");
    free(l0);
    free(l1);
}
END_TEST

START_TEST(writes_combined_format_lines_with_escaped_fields)
{
    const char *hd[] = {"Referer: http://ref.test/page", "User-Agent: agent \"q\"/1.0", NULL};
    request("/data.txt?x=1", hd, 200);
    ck_assert_int_eq(pth_stop(h), 0);
    char *l = log_line("combined.log", "/data.txt");
    assert_matches(l, "^127\\.0\\.0\\.1 - - " CLF_TIME " \"GET /data\\.txt\\?x=1 HTTP/1\\.1\" "
                      "200 10 \"http://ref\\.test/page\" \"agent \\\\\"q\\\\\"/1\\.0\"$");
    free(l);
}
END_TEST

/* mod_log_config reads %U, %s, %r, %T, %D and %R from the original request of an internally
 * redirected one, the other items from the final request; '<' and '>' choose. The lines are
 * apache2 2.4.71's for the same config and requests (a 404 ErrorDocument, a per-directory
 * RewriteRule's local result, FallbackResource: mod_dir's move is the same request). */
START_TEST(logs_the_original_request_of_an_internal_redirect_as_apache)
{
    ck_assert_int_eq(pth_stop(h), 0);
    pth_write_file(h, "errors/404.html", "nf\n", 3);
    pth_write_file(h, "fb/index.html", "fb\n", 3);
    pth_config(h, "StartServers 1\nServerLimit 1\nMinSpareThreads 1\n"
                  "LogFormat \"U=%%U <U=%%<U >U=%%>U s=%%s >s=%%>s q=%%q <q=%%<q m=%%m "
                  "<m=%%<m %%400,404s %%!200>s\" orig\n"
                  "CustomLog @DIR@/orig.log orig\nCustomLog @DIR@/json.log json\n"
                  "ErrorDocument 404 /errors/404.html\n"
                  "<Directory @DOCROOT@>\n  RewriteEngine On\n"
                  "  RewriteRule ^rw$ /missing.txt [L]\n  RewriteRule ^rw2$ /data.txt [L]\n"
                  "</Directory>\n"
                  "<Directory @DOCROOT@/fb>\n  FallbackResource /fb/index.html\n</Directory>\n");
    pth_start(h);
    request("/nothere?x=1", NULL, 404);
    request("/rw?k=1", NULL, 404);
    request("/rw2", NULL, 200);
    request("/fb/zz?f=1", NULL, 200);
    ck_assert_int_eq(pth_stop(h), 0);
    static const char *const want[][2] = {
        {"U=/nothere ", "U=/nothere <U=/nothere >U=/errors/404.html s=404 >s=404 q= <q=?x=1 "
                        "m=GET <m=GET 404 404"},
        {"U=/rw ", "U=/rw <U=/rw >U=/errors/404.html s=200 >s=404 q= <q=?k=1 m=GET <m=GET "
                   "200 404"},
        {"U=/rw2 ", "U=/rw2 <U=/rw2 >U=/data.txt s=200 >s=200 q= <q= m=GET <m=GET - -"},
        {"U=/fb/", "U=/fb/index.html <U=/fb/index.html >U=/fb/index.html s=200 >s=200 "
                   "q=?f=1 <q=?f=1 m=GET <m=GET - -"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
        char *l = log_line("orig.log", want[i][0]);
        ck_assert_str_eq(l, want[i][1]);
        free(l);
    }
    /* The json format: the request as the client sent it, the status as answered. */
    char *j = log_line("json.log", "\"uri\":\"/rw\"");
    ck_assert_msg(strstr(j, "\"query\":\"k=1\"") && strstr(j, "\"status\":404"), "%s", j);
    free(j);
}
END_TEST

/* ---- A strict JSON validator for one flat object (what the json format writes) ---------- */

typedef struct {
    const char *p;
    char keys[32][32];
    char vals[32][256]; /* strings unescaped; numbers and literals as written */
    bool is_str[32];
    int n;
} jobj_t;

static bool j_string(jobj_t *j, char *out, size_t cap)
{
    size_t n = 0;
    if (*j->p++ != '"')
        return false;
    for (;;) {
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"')
            break;
        if (c < 0x20)
            return false; /* control characters must be escaped */
        if (c == '\\') {
            char e = *j->p++;
            if (e == '\0')
                return false;
            const char *map = strchr("\"\"\\\\//b\bf\fn\nr\rt\t", e);
            if (e == 'u') {
                for (int i = 0; i < 4; i++)
                    if (!isxdigit((unsigned char)*j->p++))
                        return false;
                c = '?';
            } else if (map && ((map - "\"\"\\\\//b\bf\fn\nr\rt\t") % 2) == 0) {
                c = (unsigned char)map[1];
            } else {
                return false;
            }
        }
        if (n + 1 < cap)
            out[n++] = (char)c;
    }
    out[n] = '\0';
    return true;
}

static bool j_value(jobj_t *j, int i)
{
    if (*j->p == '"') {
        j->is_str[i] = true;
        return j_string(j, j->vals[i], sizeof(j->vals[i]));
    }
    const char *s = j->p;
    if (strncmp(s, "null", 4) == 0 || strncmp(s, "true", 4) == 0)
        j->p += 4;
    else if (strncmp(s, "false", 5) == 0)
        j->p += 5;
    else {
        if (*j->p == '-')
            j->p++;
        if (!isdigit((unsigned char)*j->p))
            return false;
        while (isdigit((unsigned char)*j->p) || *j->p == '.' || *j->p == 'e' || *j->p == 'E' ||
               *j->p == '+' || *j->p == '-')
            j->p++;
    }
    snprintf(j->vals[i], sizeof(j->vals[i]), "%.*s", (int)(j->p - s), s);
    return true;
}

static bool j_parse(jobj_t *j, const char *text)
{
    memset(j, 0, sizeof(*j));
    j->p = text;
    if (*j->p++ != '{')
        return false;
    if (*j->p == '}')
        return j->p[1] == '\0';
    for (;;) {
        if (j->n >= 32 || !j_string(j, j->keys[j->n], sizeof(j->keys[0])) || *j->p++ != ':')
            return false;
        if (!j_value(j, j->n))
            return false;
        for (int k = 0; k < j->n; k++)
            if (strcmp(j->keys[k], j->keys[j->n]) == 0)
                return false; /* duplicate key */
        j->n++;
        char c = *j->p++;
        if (c == '}')
            return *j->p == '\0';
        if (c != ',')
            return false;
    }
}

static const char *j_get(const jobj_t *j, const char *key, bool want_str)
{
    for (int i = 0; i < j->n; i++)
        if (strcmp(j->keys[i], key) == 0) {
            ck_assert_msg(j->is_str[i] == want_str, "%s: %s a string", key,
                          want_str ? "not" : "is");
            return j->vals[i];
        }
    ck_abort_msg("json line has no \"%s\"", key);
    return NULL;
}

START_TEST(writes_json_lines_that_parse_strictly)
{
    const char *hd[] = {"User-Agent: a\"b\\c\td", "Referer: http://r.test/", NULL};
    request("/data.txt?q=1", hd, 200);
    request("/missing.txt", NULL, 404);
    ck_assert_int_eq(pth_stop(h), 0);
    char *l = log_line("json.log", "/data.txt");
    jobj_t j;
    ck_assert_msg(j_parse(&j, l), "not strict JSON: %s", l);
    ck_assert_str_eq(j_get(&j, "remote_addr", true), "127.0.0.1");
    ck_assert_str_eq(j_get(&j, "method", true), "GET");
    ck_assert_str_eq(j_get(&j, "uri", true), "/data.txt");
    ck_assert_str_eq(j_get(&j, "query", true), "q=1");
    ck_assert_str_eq(j_get(&j, "protocol", true), "HTTP/1.1");
    ck_assert_str_eq(j_get(&j, "status", false), "200");
    ck_assert_str_eq(j_get(&j, "bytes", false), "10");
    ck_assert_str_eq(j_get(&j, "referer", true), "http://r.test/");
    const char *ua = j_get(&j, "user_agent", true);
    ck_assert_msg(strcmp(ua, "a\"b\\c\td") == 0, "user_agent: %s", ua);
    ck_assert_int_ge(atoll(j_get(&j, "duration_us", false)), 0);
    j_get(&j, "time", true);
    free(l);
    l = log_line("json.log", "/missing.txt");
    ck_assert_msg(j_parse(&j, l), "not strict JSON: %s", l);
    ck_assert_str_eq(j_get(&j, "status", false), "404");
    free(l);
}
END_TEST

START_TEST(error_log_lines_carry_time_level_pid_and_client)
{
    request("/denied/x.txt", NULL, 403);
    pth_expect_error(h, "AH01630|client denied");
    ck_assert_int_eq(pth_stop(h), 0);
    char *log = pth_read_file(h->error_log, NULL);
    ck_assert_ptr_nonnull(log);
    regex_t re;
    ck_assert_int_eq(regcomp(&re, "^\\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] "
                                  "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} [0-9]{4}\\] "
                                  "\\[[a-z_0-9]+:(emerg|alert|crit|error|warn|notice|info|debug"
                                  "|trace[1-8])\\] \\[pid [0-9]+(:tid [0-9]+)?\\] .+",
                         REG_EXTENDED | REG_NOSUB), 0);
    int with_client = 0, lines = 0;
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
        lines++;
        ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0, "bad error-log line: %s", line);
        if (strstr(line, "] [client 127.0.0.1:") && strstr(line, "denied/x.txt"))
            with_client++;
    }
    regfree(&re);
    free(log);
    ck_assert_int_gt(lines, 0);
    ck_assert_msg(with_client >= 1, "no line with [client 127.0.0.1:PORT] for the denial");
}
END_TEST

static Suite *logs_suite(void)
{
    Suite *s = suite_create("logs");
    TCase *tc = tcase_create("logs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, writes_common_format_lines);
    tcase_add_test(tc, writes_combined_format_lines_with_escaped_fields);
    tcase_add_test(tc, logs_the_original_request_of_an_internal_redirect_as_apache);
    tcase_add_test(tc, writes_json_lines_that_parse_strictly);
    tcase_add_test(tc, error_log_lines_carry_time_level_pid_and_client);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(logs_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
