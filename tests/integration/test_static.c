/* Static files through libcurl: types, validators, ranges, path safety, directory handling,
 * symlink options, aliases, error documents, redirects, headers, access control and
 * name-based virtual hosts, each with the config it needs (Apache semantics throughout). */
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static pth_t *h;

static const char DATA100[] = "0123456789012345678901234567890123456789012345678901234567890123"
                              "456789012345678901234567890123456789";
static const unsigned char PNG[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                    'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1};

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "index.html", "<html>index</html>\n");
    pth_write_filef(h, "style.css", "body { color: red }\n");
    pth_write_file(h, "img.png", PNG, sizeof(PNG));
    pth_write_file(h, "data.txt", DATA100, 100);
    pth_write_filef(h, "sub/file.txt", "in sub\n");
    pth_write_filef(h, "custom404.html", "custom not found page\n");
    pth_write_dir_file(h, "secret-outside.txt", "TOPSECRET\n", 10);
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

#define START(...)                                                                         \
    do {                                                                                   \
        pth_config(h, __VA_ARGS__);                                                        \
        pth_start(h);                                                                      \
    } while (0)

/* GET path (with optional headers) and assert status; returns the response. */
static pth_resp_t get(const char *path, const char *const *hdrs, int status)
{
    pth_resp_t r;
    pth_get(h, path, hdrs, &r);
    ck_assert_msg(r.status == status, "GET %s: status %d, want %d; body: %.300s", path,
                  r.status, status, r.body);
    return r;
}

static void get_body(const char *path, int status, const char *body)
{
    pth_resp_t r = get(path, NULL, status);
    ck_assert_msg(strcmp(r.body, body) == 0, "GET %s body: %s", path, r.body);
    pth_resp_free(&r);
}

static void assert_type(const char *path, const char *prefix)
{
    pth_resp_t r = get(path, NULL, 200);
    const char *ct = pth_resp_header(&r, "Content-Type");
    ck_assert_msg(ct && strncmp(ct, prefix, strlen(prefix)) == 0, "%s Content-Type: %s", path,
                  ct ? ct : "(none)");
    pth_resp_free(&r);
}

START_TEST(serves_a_file_with_its_body_length_and_type)
{
    START("\n");
    pth_resp_t r = get("/index.html", NULL, 200);
    ck_assert_str_eq(r.body, "<html>index</html>\n");
    ck_assert_str_eq(pth_resp_header(&r, "Content-Length"), "19");
    pth_resp_free(&r);
    assert_type("/index.html", "text/html");
    assert_type("/style.css", "text/css");
    assert_type("/img.png", "image/png");
    r = get("/img.png", NULL, 200);
    ck_assert_uint_eq(r.body_len, sizeof(PNG));
    ck_assert(memcmp(r.body, PNG, sizeof(PNG)) == 0);
    pth_resp_free(&r);
}
END_TEST

START_TEST(answers_304_to_matching_validators)
{
    START("\n");
    pth_resp_t r = get("/data.txt", NULL, 200);
    const char *etag = pth_resp_header(&r, "ETag");
    const char *lm = pth_resp_header(&r, "Last-Modified");
    ck_assert_msg(etag && etag[strlen(etag) - 1] == '"', "ETag: %s", etag ? etag : "(none)");
    ck_assert_msg(lm && strstr(lm, " GMT"), "Last-Modified: %s", lm ? lm : "(none)");
    char inm[300], ims[300];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    snprintf(ims, sizeof(ims), "If-Modified-Since: %s", lm);
    pth_resp_free(&r);
    const char *h1[] = {inm, NULL};
    r = get("/data.txt", h1, 304);
    ck_assert_uint_eq(r.body_len, 0);
    pth_resp_free(&r);
    const char *h2[] = {ims, NULL};
    r = get("/data.txt", h2, 304);
    pth_resp_free(&r);
    const char *h3[] = {"If-None-Match: \"no-such-etag\"", NULL};
    r = get("/data.txt", h3, 200);
    pth_resp_free(&r);
}
END_TEST

static void expect_validators(const char *path, const char *lm, const char *etag)
{
    pth_resp_t r = get(path, NULL, 200);
    const char *v = pth_resp_header(&r, "Last-Modified");
    ck_assert_msg(v && strcmp(v, lm) == 0, "Last-Modified: %s, want %s", v ? v : "(none)", lm);
    v = pth_resp_header(&r, "ETag");
    ck_assert_msg(v && strcmp(v, etag) == 0, "ETag: %s, want %s", v ? v : "(none)", etag);
    pth_resp_free(&r);
}

/* The open-file cache makes a file's Last-Modified and ETag once: a file touched on disk
 * gets its new ones on the next request, and one dated in the future is announced as
 * modified at the time of each request, as Apache does. */
START_TEST(validators_follow_the_file_on_disk)
{
    START("\n");
    pth_set_mtime(h, "data.txt", 1000000000);
    for (int i = 0; i < 2; i++)
        expect_validators("/data.txt", "Sun, 09 Sep 2001 01:46:40 GMT", "\"64-38d7ea4c68000\"");
    pth_set_mtime(h, "data.txt", 1100000000);
    for (int i = 0; i < 2; i++)
        expect_validators("/data.txt", "Tue, 09 Nov 2004 11:33:20 GMT", "\"64-3e871b540c000\"");
    pth_set_mtime(h, "data.txt", time(NULL) + 86400);
    for (int i = 0; i < 2; i++) {
        pth_resp_t r = get("/data.txt", NULL, 200);
        const char *v = pth_resp_header(&r, "Last-Modified");
        struct tm tm = {0};
        ck_assert_msg(v && strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm), "Last-Modified: %s",
                      v ? v : "(none)");
        time_t t = timegm(&tm), now = time(NULL);
        ck_assert_msg(t <= now && t >= now - 5, "Last-Modified %s is not the request's time", v);
        pth_resp_free(&r);
    }
}
END_TEST

static pth_resp_t raw_get(const char *path)
{
    char req[512];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
             path);
    pth_resp_t r;
    bool closed;
    ck_assert_int_eq(pth_raw(h, req, strlen(req), 5000, &r, &closed), 0);
    pth_assert_one_response(&r, req);
    return r;
}

/* A CR or LF that a rule copies into a field value (here the decoded URL) never splits the
 * head: the rule gives it as a space, and the head writer leaves out any field value that
 * still holds one. */
START_TEST(a_crlf_in_a_field_value_never_splits_the_head)
{
    START("Header always set X-Tail \"expr=%%{REQUEST_URI}\"\n");
    pth_resp_t r = raw_get("/t/plain");
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_nonnull(pth_resp_header(&r, "X-Tail"));
    ck_assert_str_eq(pth_resp_header(&r, "X-Tail"), "/t/plain");
    pth_resp_free(&r);
    const char *bad[] = {"/t/a%0d%0aInjected:%20yes", "/t/a%0aInjected:%20yes",
                         "/t/a%0dInjected:%20yes"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = raw_get(bad[i]);
        ck_assert_int_eq(r.status, 404);
        ck_assert_ptr_null(pth_resp_header(&r, "Injected"));
        const char *v = pth_resp_header(&r, "X-Tail");
        ck_assert_msg(!v || !strpbrk(v, "\r\n"), "X-Tail holds a CR or LF");
        pth_resp_free(&r);
    }
}
END_TEST

START_TEST(serves_single_and_suffix_ranges)
{
    START("\n");
    const char *h1[] = {"Range: bytes=10-19", NULL};
    pth_resp_t r = get("/data.txt", h1, 206);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Range"), "bytes 10-19/100");
    ck_assert_str_eq(pth_resp_header(&r, "Content-Length"), "10");
    ck_assert_str_eq(r.body, "0123456789");
    pth_resp_free(&r);
    const char *h2[] = {"Range: bytes=-5", NULL};
    r = get("/data.txt", h2, 206);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Range"), "bytes 95-99/100");
    ck_assert_str_eq(r.body, "56789");
    pth_resp_free(&r);
    const char *h3[] = {"Range: bytes=98-", NULL};
    r = get("/data.txt", h3, 206);
    ck_assert_str_eq(r.body, "89");
    pth_resp_free(&r);
}
END_TEST

/* Finds part i of a multipart/byteranges body; returns its Content-Range and data. */
static bool multipart_part(const pth_resp_t *r, const char *boundary, int i, char *range,
                           size_t rlen, const char **data, size_t *dlen)
{
    char delim[200];
    snprintf(delim, sizeof(delim), "--%s", boundary);
    const char *p = r->body, *end = r->body + r->body_len;
    for (int k = 0; k <= i; k++) {
        p = memmem(p, (size_t)(end - p), delim, strlen(delim));
        if (p == NULL)
            return false;
        p += strlen(delim);
    }
    if (strncmp(p, "--", 2) == 0)
        return false;
    const char *head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
    const char *next = memmem(p, (size_t)(end - p), delim, strlen(delim));
    if (head_end == NULL || next == NULL || head_end > next)
        return false;
    const char *cr = strcasestr(p, "Content-Range:");
    if (cr == NULL || cr > head_end)
        return false;
    cr += 14;
    while (*cr == ' ')
        cr++;
    size_t n = strcspn(cr, "\r\n");
    snprintf(range, rlen, "%.*s", (int)n, cr);
    *data = head_end + 4;
    *dlen = (size_t)(next - *data) - 2; /* CRLF before the delimiter */
    return true;
}

START_TEST(serves_multiple_ranges_as_multipart_byteranges)
{
    START("\n");
    const char *hd[] = {"Range: bytes=0-2,50-54", NULL};
    pth_resp_t r = get("/data.txt", hd, 206);
    const char *ct = pth_resp_header(&r, "Content-Type");
    ck_assert_msg(ct && strncmp(ct, "multipart/byteranges", 20) == 0, "Content-Type %s", ct);
    const char *b = strstr(ct, "boundary=");
    ck_assert_ptr_nonnull(b);
    char boundary[128];
    snprintf(boundary, sizeof(boundary), "%s", b + 9);
    char range[64];
    const char *data;
    size_t dlen;
    ck_assert(multipart_part(&r, boundary, 0, range, sizeof(range), &data, &dlen));
    ck_assert_str_eq(range, "bytes 0-2/100");
    ck_assert_uint_eq(dlen, 3);
    ck_assert(memcmp(data, "012", 3) == 0);
    ck_assert(multipart_part(&r, boundary, 1, range, sizeof(range), &data, &dlen));
    ck_assert_str_eq(range, "bytes 50-54/100");
    ck_assert_uint_eq(dlen, 5);
    ck_assert(memcmp(data, "01234", 5) == 0);
    ck_assert(!multipart_part(&r, boundary, 2, range, sizeof(range), &data, &dlen));
    char closing[160];
    snprintf(closing, sizeof(closing), "--%s--", boundary);
    ck_assert_ptr_nonnull(strstr(r.body, closing));
    pth_resp_free(&r);
}
END_TEST

START_TEST(answers_416_to_an_unsatisfiable_range)
{
    START("\n");
    const char *hd[] = {"Range: bytes=200-300", NULL};
    pth_resp_t r = get("/data.txt", hd, 416);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Range"), "bytes */100");
    pth_resp_free(&r);
}
END_TEST

START_TEST(ignores_a_range_when_if_range_does_not_match)
{
    START("\n");
    const char *hd[] = {"Range: bytes=0-4", "If-Range: \"not-the-etag\"", NULL};
    pth_resp_t r = get("/data.txt", hd, 200);
    ck_assert_uint_eq(r.body_len, 100);
    pth_resp_free(&r);
}
END_TEST

START_TEST(never_serves_a_file_outside_the_docroot)
{
    START("\n");
    static const char *const paths[] = {
        "/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/a/..%2f..%2f/etc/passwd",
        "/../secret-outside.txt", "/%2e%2e/secret-outside.txt", "/..%2fsecret-outside.txt",
        "/sub/../../secret-outside.txt", "/sub/%2e%2e/%2e%2e/secret-outside.txt",
        "/.%2e/secret-outside.txt",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        pth_resp_t r;
        pth_get(h, paths[i], NULL, &r);
        ck_assert_msg(r.status == 400 || r.status == 403 || r.status == 404,
                      "%s: status %d", paths[i], r.status);
        ck_assert_msg(!strstr(r.body, "root:") && !strstr(r.body, "TOPSECRET"),
                      "%s leaked a file", paths[i]);
        pth_resp_free(&r);
    }
}
END_TEST

START_TEST(answers_404_to_an_encoded_slash)
{
    START("\n");
    pth_resp_t r = get("/sub%2Ffile.txt", NULL, 404);
    pth_resp_free(&r);
    get_body("/sub/file.txt", 200, "in sub\n");
}
END_TEST

START_TEST(serves_the_directory_index)
{
    START("<Directory @DOCROOT@/sub>\n    DirectoryIndex home.html\n</Directory>\n");
    pth_write_filef(h, "sub/home.html", "sub home\n");
    get_body("/", 200, "<html>index</html>\n");
    get_body("/sub/", 200, "sub home\n");
}
END_TEST

START_TEST(redirects_a_directory_without_its_slash)
{
    START("\n");
    pth_resp_t r = get("/sub", NULL, 301);
    const char *loc = pth_resp_header(&r, "Location");
    ck_assert_msg(loc && strlen(loc) >= 5 && strcmp(loc + strlen(loc) - 5, "/sub/") == 0,
                  "Location: %s", loc ? loc : "(none)");
    pth_resp_free(&r);
}
END_TEST

START_TEST(lists_a_directory_with_indexes_and_escapes_names)
{
    START("<Directory @DOCROOT@/list>\n    Options Indexes\n</Directory>\n");
    pth_write_filef(h, "list/a<b>.txt", "x");
    pth_write_filef(h, "list/plain.txt", "y");
    pth_resp_t r = get("/list/", NULL, 200);
    ck_assert_msg(strstr(r.body, "a&lt;b&gt;.txt") != NULL, "listing: %s", r.body);
    ck_assert_msg(strstr(r.body, "a<b>.txt") == NULL, "unescaped name in listing");
    ck_assert_msg(strstr(r.body, "plain.txt") != NULL, "listing: %s", r.body);
    pth_resp_free(&r);
}
END_TEST

START_TEST(refuses_a_listing_without_indexes)
{
    START("\n");
    pth_write_filef(h, "noindex/plain.txt", "y");
    pth_resp_t r = get("/noindex/", NULL, 403);
    ck_assert(strstr(r.body, "plain.txt") == NULL);
    pth_resp_free(&r);
    pth_expect_error(h, "AH01276|[Dd]irectory index|forbidden by Options");
}
END_TEST

START_TEST(fallback_resource_serves_the_index_for_missing_paths_only)
{
    START("FallbackResource /index.html\n");
    get_body("/no/such/page", 200, "<html>index</html>\n");
    get_body("/sub/file.txt", 200, "in sub\n");
}
END_TEST

static void make_link(const char *target, const char *rel)
{
    char link[600];
    snprintf(link, sizeof(link), "%s/%s", h->docroot, rel);
    ck_assert_int_eq(symlink(target, link), 0);
}

START_TEST(follows_a_symlink_with_follow_symlinks)
{
    START("<Directory @DOCROOT@>\n    Options FollowSymLinks\n</Directory>\n");
    make_link(pth_path(h, "secret-outside.txt"), "link.txt");
    get_body("/link.txt", 200, "TOPSECRET\n");
}
END_TEST

START_TEST(refuses_a_symlink_without_follow_symlinks)
{
    START("<Directory @DOCROOT@>\n    Options -FollowSymLinks\n</Directory>\n");
    make_link(pth_path(h, "secret-outside.txt"), "link.txt");
    pth_resp_t r = get("/link.txt", NULL, 403);
    ck_assert(strstr(r.body, "TOPSECRET") == NULL);
    pth_resp_free(&r);
    pth_expect_error(h, "[Ss]ymbolic link|AH00037");
}
END_TEST

START_TEST(symlinks_if_owner_match_refuses_a_link_to_another_owner)
{
    ck_assert_msg(geteuid() == 0, "this test needs root to chown the target");
    START("<Directory @DOCROOT@>\n    Options -FollowSymLinks +SymLinksIfOwnerMatch\n"
          "</Directory>\n");
    pth_write_dir_file(h, "nobody.txt", "NOBODY\n", 7);
    ck_assert_int_eq(chown(pth_path(h, "nobody.txt"), 65534, 65534), 0);
    make_link(pth_path(h, "nobody.txt"), "other.txt");
    pth_resp_t r = get("/other.txt", NULL, 403);
    ck_assert(strstr(r.body, "NOBODY") == NULL);
    pth_resp_free(&r);
    make_link(pth_path(h, "secret-outside.txt"), "mine.txt");
    get_body("/mine.txt", 200, "TOPSECRET\n");
    pth_expect_error(h, "[Ss]ymbolic link|AH00037");
}
END_TEST

START_TEST(answers_405_with_allow_to_post_and_delete)
{
    START("\n");
    static const char *const methods[] = {"POST", "DELETE"};
    for (int i = 0; i < 2; i++) {
        pth_resp_t r;
        ck_assert_int_eq(pth_curl(h, methods[i], "/data.txt", NULL, "x", 1, &r), 0);
        ck_assert_msg(r.status == 405, "%s: %d", methods[i], r.status);
        const char *allow = pth_resp_header(&r, "Allow");
        ck_assert_msg(allow && strstr(allow, "GET") && strstr(allow, "HEAD"), "Allow: %s",
                      allow ? allow : "(none)");
        ck_assert(strstr(allow, "POST") == NULL);
        pth_resp_free(&r);
    }
}
END_TEST

START_TEST(alias_maps_a_url_prefix_to_another_directory)
{
    START("Alias /static/ @DIR@/other/\n<Directory @DIR@/other>\n    Require all granted\n"
          "</Directory>\n");
    pth_write_dir_file(h, "other/x.txt", "aliased\n", 8);
    get_body("/static/x.txt", 200, "aliased\n");
    pth_resp_t r = get("/static/none.txt", NULL, 404);
    pth_resp_free(&r);
}
END_TEST

START_TEST(error_document_sends_text)
{
    START("ErrorDocument 404 \"Nothing to see here\"\n");
    pth_resp_t r = get("/missing.html", NULL, 404);
    ck_assert_str_eq(r.body, "Nothing to see here");
    pth_resp_free(&r);
}
END_TEST

START_TEST(error_document_serves_a_local_page)
{
    START("ErrorDocument 404 /custom404.html\n");
    pth_resp_t r = get("/missing.html", NULL, 404);
    ck_assert_str_eq(r.body, "custom not found page\n");
    pth_resp_free(&r);
}
END_TEST

START_TEST(redirect_sends_302_with_location)
{
    START("Redirect /old http://example.com/new\n");
    pth_resp_t r = get("/old", NULL, 302);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "http://example.com/new");
    pth_resp_free(&r);
    r = get("/old/page.html", NULL, 302);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "http://example.com/new/page.html");
    pth_resp_free(&r);
    r = get("/older", NULL, 404);
    pth_resp_free(&r);
}
END_TEST

START_TEST(header_set_and_header_always_set)
{
    START("Header set X-Test 1\nHeader always set X-Always yes\n");
    pth_resp_t r = get("/data.txt", NULL, 200);
    ck_assert_str_eq(pth_resp_header(&r, "X-Test"), "1");
    ck_assert_str_eq(pth_resp_header(&r, "X-Always"), "yes");
    pth_resp_free(&r);
    r = get("/missing", NULL, 404);
    ck_assert_ptr_nonnull(pth_resp_header(&r, "X-Always"));
    ck_assert_str_eq(pth_resp_header(&r, "X-Always"), "yes");
    ck_assert_msg(pth_resp_header(&r, "X-Test") == NULL, "onsuccess header on a 404");
    pth_resp_free(&r);
}
END_TEST

START_TEST(require_rules_grant_and_deny)
{
    START("<Directory @DOCROOT@/denied>\n    Require all denied\n</Directory>\n"
          "<Directory @DOCROOT@/local>\n    Require ip 127.0.0.1\n</Directory>\n"
          "<Directory @DOCROOT@/notlocal>\n    <RequireAll>\n        Require all granted\n"
          "        Require not ip 127.0.0.1\n    </RequireAll>\n</Directory>\n");
    pth_write_filef(h, "denied/f.txt", "d");
    pth_write_filef(h, "local/f.txt", "l");
    pth_write_filef(h, "notlocal/f.txt", "n");
    pth_resp_t r = get("/denied/f.txt", NULL, 403);
    pth_resp_free(&r);
    get_body("/local/f.txt", 200, "l");
    r = get("/notlocal/f.txt", NULL, 403);
    pth_resp_free(&r);
    pth_expect_error(h, "AH01630|client denied by server configuration");
}
END_TEST

START_TEST(location_files_and_filesmatch_apply_require)
{
    START("<Location /loc>\n    Require all denied\n</Location>\n"
          "<Files \"data.txt\">\n    Require all denied\n</Files>\n"
          "<FilesMatch \"\\.bak$\">\n    Require all denied\n</FilesMatch>\n");
    pth_write_filef(h, "loc/f.txt", "x");
    pth_write_filef(h, "old.bak", "x");
    pth_write_filef(h, "old.txt", "ok");
    static const char *const denied[] = {"/loc/f.txt", "/data.txt", "/old.bak"};
    for (int i = 0; i < 3; i++) {
        pth_resp_t r = get(denied[i], NULL, 403);
        pth_resp_free(&r);
    }
    get_body("/old.txt", 200, "ok");
    pth_expect_error(h, "AH01630|client denied by server configuration");
}
END_TEST

START_TEST(name_based_virtual_hosts_choose_by_host)
{
    pth_write_dir_file(h, "one/who.txt", "one", 3);
    pth_write_dir_file(h, "two/who.txt", "two", 3);
    START("<Directory @DIR@>\n    Require all granted\n</Directory>\n"
          "<VirtualHost *:@PORT@>\n    ServerName one.test\n    DocumentRoot @DIR@/one\n"
          "</VirtualHost>\n"
          "<VirtualHost *:@PORT@>\n    ServerName two.test\n    ServerAlias www.two.test\n"
          "    DocumentRoot @DIR@/two\n</VirtualHost>\n");
    static const struct { const char *host, *want; } cases[] = {
        {"Host: one.test", "one"}, {"Host: two.test", "two"}, {"Host: www.two.test", "two"},
        {"Host: TWO.test:80", "two"}, {"Host: unknown.test", "one"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *hd[] = {cases[i].host, NULL};
        pth_resp_t r = get("/who.txt", hd, 200);
        ck_assert_msg(strcmp(r.body, cases[i].want) == 0, "%s got %s", cases[i].host, r.body);
        pth_resp_free(&r);
    }
}
END_TEST

/* Apache takes any SetHandler or AddHandler name at load, and its default handler serves the
 * file when no module answers to the name (apache2 2.4.71, checked by hand): for a mod_php
 * leftover that is the PHP source. portico resolves names once at load (src/loader.c) and
 * refuses a name nothing provides, naming the line. */
START_TEST(an_unknown_handler_name_is_refused_at_start_with_its_line)
{
    pth_config(h, "<Location /sub>\nSetHandler no-such-handler\n</Location>\n");
    char msg[4096];
    ck_assert_int_eq(pth_try_start(h, NULL, msg, sizeof(msg)), -1);
    ck_assert_msg(strstr(msg, "SetHandler no-such-handler: no part of portico handles "
                              "'no-such-handler'"), "%s", msg);
    pth_config(h, "<FilesMatch \"\\.php$\">\nSetHandler application/x-httpd-php\n"
                  "</FilesMatch>\n");
    ck_assert_int_eq(pth_try_start(h, NULL, msg, sizeof(msg)), -1);
    ck_assert_msg(strstr(msg, "SetHandler application/x-httpd-php") && strstr(msg, "php-fpm"),
                  "%s", msg);
}
END_TEST

static Suite *static_suite(void)
{
    Suite *s = suite_create("static");
    TCase *tc = tcase_create("static");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, serves_a_file_with_its_body_length_and_type);
    tcase_add_test(tc, an_unknown_handler_name_is_refused_at_start_with_its_line);
    tcase_add_test(tc, answers_304_to_matching_validators);
    tcase_add_test(tc, validators_follow_the_file_on_disk);
    tcase_add_test(tc, a_crlf_in_a_field_value_never_splits_the_head);
    tcase_add_test(tc, serves_single_and_suffix_ranges);
    tcase_add_test(tc, serves_multiple_ranges_as_multipart_byteranges);
    tcase_add_test(tc, answers_416_to_an_unsatisfiable_range);
    tcase_add_test(tc, ignores_a_range_when_if_range_does_not_match);
    tcase_add_test(tc, never_serves_a_file_outside_the_docroot);
    tcase_add_test(tc, answers_404_to_an_encoded_slash);
    tcase_add_test(tc, serves_the_directory_index);
    tcase_add_test(tc, redirects_a_directory_without_its_slash);
    tcase_add_test(tc, lists_a_directory_with_indexes_and_escapes_names);
    tcase_add_test(tc, refuses_a_listing_without_indexes);
    tcase_add_test(tc, fallback_resource_serves_the_index_for_missing_paths_only);
    tcase_add_test(tc, follows_a_symlink_with_follow_symlinks);
    tcase_add_test(tc, refuses_a_symlink_without_follow_symlinks);
    tcase_add_test(tc, symlinks_if_owner_match_refuses_a_link_to_another_owner);
    tcase_add_test(tc, answers_405_with_allow_to_post_and_delete);
    tcase_add_test(tc, alias_maps_a_url_prefix_to_another_directory);
    tcase_add_test(tc, error_document_sends_text);
    tcase_add_test(tc, error_document_serves_a_local_page);
    tcase_add_test(tc, redirect_sends_302_with_location);
    tcase_add_test(tc, header_set_and_header_always_set);
    tcase_add_test(tc, require_rules_grant_and_deny);
    tcase_add_test(tc, location_files_and_filesmatch_apply_require);
    tcase_add_test(tc, name_based_virtual_hosts_choose_by_host);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(static_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
