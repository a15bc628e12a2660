/* h2_check (RFC 9113 section 8's checks of a request): names and values against byte-by-byte
 * readings of the RFC grammars, for every byte at every place of many lengths (the value
 * check reads eight bytes at a time); each field's rule; the head as a whole; the body
 * against its content-length. */
#include "h2_check.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const char tchar_punct[] = "!#$%&'*+-.^_`|~";

static bool is_tchar(unsigned c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr(tchar_punct, (int)c) != NULL);
}

/* RFC 9110 5.5: field-vchar (VCHAR, obs-text), SP and HTAB inside. */
static bool value_byte(unsigned c)
{
    return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80;
}

static bool ref_value(const uint8_t *p, size_t n)
{
    if (n > 0 && (p[0] == ' ' || p[0] == '\t' || p[n - 1] == ' ' || p[n - 1] == '\t'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!value_byte(p[i]))
            return false;
    return true;
}

START_TEST(a_value_is_checked_as_byte_by_byte_reading_would_for_every_byte_and_place)
{
    uint8_t v[40];
    for (size_t n = 1; n <= sizeof(v); n++) {
        for (unsigned b = 0; b < 256; b++) {
            for (size_t at = 0; at < n; at++) {
                memset(v, 'a', n);
                v[at] = (uint8_t)b;
                ck_assert_msg(h2_check_value(v, n) == ref_value(v, n), "byte %#x at %zu of %zu", b,
                              at, n);
            }
        }
    }
    ck_assert(h2_check_value((const uint8_t *)"", 0));
    ck_assert(h2_check_value((const uint8_t *)"a\tb c \xff", 7));
}
END_TEST

START_TEST(a_name_is_lower_case_token_characters_for_every_byte_and_place)
{
    uint8_t name[20];
    for (size_t n = 1; n <= sizeof(name); n++) {
        for (unsigned b = 0; b < 256; b++) {
            for (size_t at = 0; at < n; at++) {
                memset(name, 'x', n);
                name[at] = (uint8_t)b;
                bool want = is_tchar(b) && !(b >= 'A' && b <= 'Z');
                ck_assert_msg(h2_check_name(name, n) == want, "byte %#x at %zu of %zu", b, at, n);
            }
        }
    }
    ck_assert(!h2_check_name((const uint8_t *)"", 0));
}
END_TEST

/* The answer to one field on a fresh stream. */
static h2_field_t one(const char *name, const char *value)
{
    h2_check_t ck = {0};
    return h2_check_field(&ck, (const uint8_t *)name, strlen(name), (const uint8_t *)value,
                          strlen(value), false);
}

/* name's value of n bytes 'a' but byte b at at: well-formed? */
static bool byte_at(const char *name, unsigned b, size_t at, size_t n)
{
    uint8_t v[24];
    memset(v, 'a', n);
    v[at] = (uint8_t)b;
    h2_check_t ck = {0};
    return h2_check_field(&ck, (const uint8_t *)name, strlen(name), v, n, false) !=
           H2_FIELD_MALFORMED;
}

START_TEST(pseudo_header_values_have_their_own_characters_for_every_byte_and_place)
{
    static const char auth_punct[] = "-._~!$&'()*+,;=:@[]%";
    for (size_t n = 1; n <= 24; n++) {
        for (size_t at = 0; at < n; at++) {
            for (unsigned b = 0; b < 256; b++) {
                bool alnum =
                    (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
                bool auth = alnum || (b != 0 && strchr(auth_punct, (int)b) != NULL);
                ck_assert_msg(byte_at(":authority", b, at, n) == auth, "%#x %zu/%zu", b, at, n);
                ck_assert_msg(byte_at("host", b, at, n) == auth, "%#x %zu/%zu", b, at, n);
                ck_assert_msg(byte_at(":method", b, at, n) == is_tchar(b), "%#x", b);
                bool path = (b >= 0x21 && b <= 0x7e) || b >= 0x80;
                ck_assert_msg(byte_at(":path", b, at, n) == path, "%#x %zu/%zu", b, at, n);
                bool alpha = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
                bool scheme = at == 0 ? alpha : alnum || b == '+' || b == '-' || b == '.';
                ck_assert_msg(byte_at(":scheme", b, at, n) == scheme, "%#x %zu/%zu", b, at, n);
            }
        }
    }
    ck_assert_int_eq(one(":scheme", "1ab"), H2_FIELD_MALFORMED);
    ck_assert_int_eq(one(":scheme", "HTTPS"), H2_FIELD_SCHEME);
    ck_assert_int_eq(one(":authority", "[::1]:8080"), H2_FIELD_AUTHORITY);
    for (const char **p =
             (const char *[]){":method", ":scheme", ":path", ":authority", "host", NULL};
         *p; p++)
        ck_assert_msg(one(*p, "") == H2_FIELD_MALFORMED, "empty %s", *p);
}
END_TEST

START_TEST(rejects_connection_specific_fields_and_te_other_than_trailers)
{
    const char *const bad[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                               "upgrade"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(one(bad[i], "x") == H2_FIELD_MALFORMED, "%s", bad[i]);
    ck_assert_int_eq(one("te", "trailers"), H2_FIELD_REGULAR);
    ck_assert_int_eq(one("te", "TRAILERS"), H2_FIELD_REGULAR);
    ck_assert_int_eq(one("te", "gzip"), H2_FIELD_MALFORMED);
    ck_assert_int_eq(one("te", "trailers, gzip"), H2_FIELD_MALFORMED);
    ck_assert_int_eq(one("upgrade-insecure-requests", "1"), H2_FIELD_REGULAR);
    ck_assert_int_eq(one(":status", "200"), H2_FIELD_MALFORMED);
    ck_assert_int_eq(one(":", "x"), H2_FIELD_MALFORMED);
    ck_assert_int_eq(one(":foo", "x"), H2_FIELD_MALFORMED);
}
END_TEST

START_TEST(content_length_is_digits_once_within_int64)
{
    h2_check_t ck = {0};
    ck_assert_int_eq(h2_check_field(&ck, (const uint8_t *)"content-length", 14,
                                    (const uint8_t *)"9223372036854775807", 19, false),
                     H2_FIELD_CONTENT_LENGTH);
    ck_assert(ck.length == INT64_MAX);
    ck_assert_int_eq(
        h2_check_field(&ck, (const uint8_t *)"content-length", 14, (const uint8_t *)"1", 1, false),
        H2_FIELD_MALFORMED);
    const char *const bad[] = {"9223372036854775808", "", "-1", "+1", "1 ", "0x1", "1,1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(one("content-length", bad[i]) == H2_FIELD_MALFORMED, "'%s'", bad[i]);
    ck_assert_int_eq(one("content-length", "007"), H2_FIELD_CONTENT_LENGTH);
}
END_TEST

/* Fields one after the other: name, value pairs, NULL-terminated; the last answer. */
static h2_field_t fields(h2_check_t *ck, bool trailer, const char *const *f)
{
    h2_field_t r = H2_FIELD_REGULAR;
    for (; f[0]; f += 2) {
        r = h2_check_field(ck, (const uint8_t *)f[0], strlen(f[0]), (const uint8_t *)f[1],
                           strlen(f[1]), trailer);
        if (r == H2_FIELD_MALFORMED)
            break;
    }
    return r;
}

#define GET ":method", "GET", ":scheme", "https", ":path", "/", ":authority", "x"

START_TEST(pseudo_headers_come_once_and_first_and_never_in_trailers)
{
    h2_check_t ck = {0};
    ck_assert_int_eq(fields(&ck, false, (const char *[]){GET, ":path", "/", NULL}),
                     H2_FIELD_MALFORMED);
    ck = (h2_check_t){0};
    ck_assert_int_eq(
        fields(&ck, false, (const char *[]){":method", "GET", "a", "1", ":path", "/", NULL}),
        H2_FIELD_MALFORMED);
    ck = (h2_check_t){0};
    ck_assert_int_eq(fields(&ck, false, (const char *[]){GET, "host", "x", "host", "y", NULL}),
                     H2_FIELD_MALFORMED);
    ck = (h2_check_t){0};
    ck_assert_int_eq(fields(&ck, false, (const char *[]){GET, NULL}), H2_FIELD_AUTHORITY);
    ck_assert(h2_check_head(&ck, true));
    ck_assert_int_eq(fields(&ck, true, (const char *[]){":path", "/", NULL}), H2_FIELD_MALFORMED);
}
END_TEST

/* The head's verdict for the given fields (none malformed). */
static bool head(bool end, const char *const *f)
{
    h2_check_t ck = {0};
    ck_assert_int_ne(fields(&ck, false, f), H2_FIELD_MALFORMED);
    return h2_check_head(&ck, end);
}

START_TEST(a_head_has_what_its_method_and_scheme_need)
{
    ck_assert(head(true, (const char *[]){GET, NULL}));
    ck_assert(head(true, (const char *[]){":method", "GET", ":scheme", "http", ":path", "/", "host",
                                          "x", NULL}));
    ck_assert(
        !head(true, (const char *[]){":method", "GET", ":scheme", "http", ":path", "/", NULL}));
    ck_assert(
        !head(true, (const char *[]){":scheme", "http", ":path", "/", ":authority", "x", NULL}));
    ck_assert(
        !head(true, (const char *[]){":method", "GET", ":path", "/", ":authority", "x", NULL}));
    ck_assert(!head(
        true, (const char *[]){":method", "GET", ":scheme", "http", ":authority", "x", NULL}));
    /* an http(s) path is absolute, or * for OPTIONS; another scheme's may be anything */
    ck_assert(!head(true, (const char *[]){":method", "GET", ":scheme", "HTTP", ":path", "a",
                                           ":authority", "x", NULL}));
    ck_assert(!head(true, (const char *[]){":method", "GET", ":scheme", "http", ":path", "*",
                                           ":authority", "x", NULL}));
    ck_assert(head(true, (const char *[]){":method", "OPTIONS", ":scheme", "http", ":path", "*",
                                          ":authority", "x", NULL}));
    ck_assert(head(true, (const char *[]){":method", "GET", ":scheme", "urn", ":path", "a:b",
                                          ":authority", "x", NULL}));
    /* CONNECT: the authority alone */
    ck_assert(head(false, (const char *[]){":method", "CONNECT", ":authority", "x:443", NULL}));
    ck_assert(!head(false, (const char *[]){":method", "CONNECT", NULL}));
    ck_assert(!head(
        false, (const char *[]){":method", "CONNECT", ":authority", "x:443", ":path", "/", NULL}));
    ck_assert(!head(false, (const char *[]){":method", "CONNECT", ":authority", "x:443", ":scheme",
                                            "https", NULL}));
    /* an extended CONNECT (RFC 8441): all of them, and CONNECT */
    ck_assert(
        head(false, (const char *[]){":method", "CONNECT", ":protocol", "websocket", ":scheme",
                                     "https", ":path", "/", ":authority", "x", NULL}));
    ck_assert(!head(false, (const char *[]){GET, ":protocol", "websocket", NULL}));
}
END_TEST

START_TEST(a_body_matches_its_content_length)
{
    /* a head that ends the request: length 0 only */
    ck_assert(head(true, (const char *[]){GET, "content-length", "0", NULL}));
    ck_assert(!head(true, (const char *[]){GET, "content-length", "1", NULL}));
    h2_check_t ck = {0};
    fields(&ck, false, (const char *[]){GET, "content-length", "5", NULL});
    ck_assert(h2_check_head(&ck, false));
    ck_assert(h2_check_data(&ck, 2));
    ck_assert(!h2_check_body_end(&ck));
    ck_assert(h2_check_data(&ck, 3));
    ck_assert(h2_check_body_end(&ck));
    ck_assert(h2_check_trailers(&ck, true));
    ck_assert(!h2_check_trailers(&ck, false));
    ck_assert(!h2_check_data(&ck, 1));
    /* no content-length: any body; one in trailers must be the body's */
    ck = (h2_check_t){0};
    fields(&ck, false, (const char *[]){GET, NULL});
    ck_assert(h2_check_head(&ck, false));
    ck_assert(h2_check_data(&ck, 1000));
    ck_assert(h2_check_body_end(&ck));
    h2_check_t t = ck;
    ck_assert_int_eq(fields(&t, true, (const char *[]){"content-length", "1000", NULL}),
                     H2_FIELD_CONTENT_LENGTH);
    ck_assert(h2_check_trailers(&t, true));
    t = ck;
    fields(&t, true, (const char *[]){"content-length", "999", NULL});
    ck_assert(!h2_check_trailers(&t, true));
    /* CONNECT: a content-length bounds nothing */
    ck = (h2_check_t){0};
    fields(
        &ck, false,
        (const char *[]){":method", "CONNECT", ":authority", "x:1", "content-length", "1", NULL});
    ck_assert(h2_check_head(&ck, true));
    ck_assert(h2_check_data(&ck, 10));
}
END_TEST

/* RFC 9218 5's priority field, one line: an RFC 8941 dictionary of which u and i count. */
typedef struct {
    const char *v;
    bool ok;
    int u, inc; /* from u=3, i=?0 */
} prio_row_t;

static const prio_row_t prio_rows[] = {
    {"", true, 3, 0}, /* an empty dictionary */
    {"u=0", true, 0, 0},
    {"u=7", true, 7, 0},
    {"u=7, i", true, 7, 1},
    {"i", true, 3, 1},
    {"i=?1", true, 3, 1},
    {"i=?0", true, 3, 0},
    {"u=3;x=1", true, 3, 0},
    {"u=2;i=?1", true, 2, 0}, /* a parameter named i is no member */
    {"i;u=0", true, 3, 1},
    {"u=1 , i", true, 1, 1},
    {"u=1,\ti", true, 1, 1},
    {"u=1 \t,  \t i", true, 1, 1},
    {"  u=2", true, 2, 0},
    {"u=2  ", true, 2, 0},
    {"u=-0", true, 0, 0},
    {"u=007", true, 7, 0},
    {"u=5, u=1", true, 1, 0}, /* the last one */
    {"i, i=?0", true, 3, 0},
    {"uu=9, u=2, ii=?5x", false, 3, 0},
    {"uu=9, u=2, ii", true, 2, 0},
    {"a.b-c_d*9=1, *x, u=2", true, 2, 0},
    {"x=(1 2 \"a\" tok);p=?0;q, u=2", true, 2, 0},
    {"x=(), y=( 1  2 ), u=2", true, 2, 0},
    {"x=:aGk=:, y=::, u=2", true, 2, 0},
    {"x=\"a\\\"b\\\\c\", y=\"\", u=2", true, 2, 0},
    {"x=Tok/en:1!#$%&'*+-.^_`|~, y=*z, u=2", true, 2, 0},
    {"x=1.5, y=-1.125, z=123456789012.123, u=2", true, 2, 0},
    {"x=123456789012345, y=-123456789012345, u=2", true, 2, 0},
    {"x=?0;a=\"s\";b=:AA==:;c=1.5;d=t, u=2", true, 2, 0},
    {"u=8", false, 3, 0},
    {"u=-1", false, 3, 0},
    {"u=a", false, 3, 0},
    {"u=1.0", false, 3, 0},
    {"u", false, 3, 0},
    {"u=?1", false, 3, 0},
    {"u=\"1\"", false, 3, 0},
    {"u=(1)", false, 3, 0},
    {"i=1", false, 3, 0},
    {"i=?2", false, 3, 0},
    {"i=a", false, 3, 0},
    {"i=\"?1\"", false, 3, 0},
    {"u=1,", false, 3, 0},
    {"u=1, ", false, 3, 0},
    {",u=1", false, 3, 0},
    {"u=1,,i", false, 3, 0},
    {"u=1 i", false, 3, 0},
    {"u=1;", false, 3, 0},
    {"u=1; ", false, 3, 0},
    {"u=1;U", false, 3, 0},
    {"u=1;a=", false, 3, 0},
    {"u=1;a=(1)", false, 3, 0},
    {"U=1", false, 3, 0},
    {"u=", false, 3, 0},
    {"=1", false, 3, 0},
    {"\tu=1", false, 3, 0},
    {"1=1", false, 3, 0},
    {"x=(1", false, 3, 0},
    {"x=(1,2)", false, 3, 0},
    {"x=(1)a", false, 3, 0},
    {"x=\"a", false, 3, 0},
    {"x=\"a\\b\"", false, 3, 0},
    {"x=\"\t\"", false, 3, 0},
    {"x=\"\xc3\xa9\"", false, 3, 0},
    {"x=:a*:", false, 3, 0},
    {"x=:abc", false, 3, 0},
    {"x=1234567890123456", false, 3, 0},
    {"x=1234567890123.1", false, 3, 0},
    {"x=1.1234", false, 3, 0},
    {"x=1.", false, 3, 0},
    {"x=1.2.3", false, 3, 0},
    {"x=-", false, 3, 0},
    {"x=-a", false, 3, 0},
    {"x=?", false, 3, 0},
    {"x=@", false, 3, 0},
    {"x=\xc3\xa9", false, 3, 0},
    {"u=0 garbage", false, 3, 0},
    {"garbage!", false, 3, 0},
};

START_TEST(a_priority_line_is_a_dictionary_of_which_u_and_i_count)
{
    for (size_t k = 0; k < sizeof(prio_rows) / sizeof(prio_rows[0]); k++) {
        const prio_row_t *r = &prio_rows[k];
        uint8_t u = 3;
        bool inc = false;
        bool ok = h2_check_priority((const uint8_t *)r->v, strlen(r->v), &u, &inc);
        ck_assert_msg(ok == r->ok && u == r->u && inc == (r->inc != 0),
                      "\"%s\": %d u=%u i=%d, want %d u=%d i=%d", r->v, ok, u, inc, r->ok, r->u,
                      r->inc);
    }
    /* Members it lacks keep what they were; a line that fails touches nothing. */
    uint8_t u = 5;
    bool inc = true;
    ck_assert(h2_check_priority((const uint8_t *)"x", 1, &u, &inc));
    ck_assert(u == 5 && inc);
    ck_assert(h2_check_priority((const uint8_t *)"u=1", 3, &u, &inc));
    ck_assert(u == 1 && inc);
    ck_assert(!h2_check_priority((const uint8_t *)"u=0, i=1", 8, &u, &inc));
    ck_assert(u == 1 && inc);
}
END_TEST

/* The head's signal: its priority lines from u=3, i=?0, adding up until one fails. */
static bool head_priority(const char *const *f, bool trailers_too, uint8_t *u, bool *inc)
{
    h2_check_t ck = {0};
    ck_assert_int_eq(fields(&ck, false, (const char *[]){GET, NULL}), H2_FIELD_AUTHORITY);
    for (; f[0]; f++)
        ck_assert_int_eq(fields(&ck, false, (const char *[]){"priority", f[0], NULL}),
                         H2_FIELD_REGULAR);
    ck_assert(h2_check_head(&ck, false));
    if (trailers_too)
        ck_assert_int_eq(fields(&ck, true, (const char *[]){"priority", "u=0", NULL}),
                         H2_FIELD_REGULAR);
    return h2_check_priority_of(&ck, u, inc);
}

START_TEST(priority_lines_add_up_until_one_fails_and_trailers_are_not_read)
{
    uint8_t u = 9;
    bool inc = false;
    ck_assert(!head_priority((const char *[]){NULL}, false, &u, &inc));
    ck_assert(head_priority((const char *[]){"u=1", NULL}, false, &u, &inc));
    ck_assert(u == 1 && !inc);
    ck_assert(head_priority((const char *[]){"i", NULL}, false, &u, &inc));
    ck_assert(u == 3 && inc);
    ck_assert(head_priority((const char *[]){"", NULL}, false, &u, &inc));
    ck_assert(u == 3 && !inc);
    ck_assert(head_priority((const char *[]){"u=1", "i", NULL}, false, &u, &inc));
    ck_assert(u == 1 && inc);
    ck_assert(head_priority((const char *[]){"u=1, i", "u=6", "", "x", NULL}, false, &u, &inc));
    ck_assert(u == 6 && inc);
    ck_assert(!head_priority((const char *[]){"u=1", "u=9", "u=2", NULL}, false, &u, &inc));
    ck_assert(!head_priority((const char *[]){"u=9", "u=1", NULL}, false, &u, &inc));
    ck_assert(!head_priority((const char *[]){"", "i=0", NULL}, false, &u, &inc));
    /* in trailers: a field like any other, and no signal */
    ck_assert(!head_priority((const char *[]){NULL}, true, &u, &inc));
    ck_assert(head_priority((const char *[]){"u=5", NULL}, true, &u, &inc));
    ck_assert(u == 5 && !inc);
    /* a value that is no field value is malformed before it is a priority */
    h2_check_t ck = {0};
    ck_assert_int_eq(fields(&ck, false, (const char *[]){GET, "priority", " u=1", NULL}),
                     H2_FIELD_MALFORMED);
}
END_TEST

static Suite *check_suite(void)
{
    Suite *s = suite_create("h2_check");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, a_value_is_checked_as_byte_by_byte_reading_would_for_every_byte_and_place);
    tcase_add_test(tc, a_name_is_lower_case_token_characters_for_every_byte_and_place);
    tcase_add_test(tc, pseudo_header_values_have_their_own_characters_for_every_byte_and_place);
    tcase_add_test(tc, rejects_connection_specific_fields_and_te_other_than_trailers);
    tcase_add_test(tc, content_length_is_digits_once_within_int64);
    tcase_add_test(tc, pseudo_headers_come_once_and_first_and_never_in_trailers);
    tcase_add_test(tc, a_head_has_what_its_method_and_scheme_need);
    tcase_add_test(tc, a_body_matches_its_content_length);
    tcase_add_test(tc, a_priority_line_is_a_dictionary_of_which_u_and_i_count);
    tcase_add_test(tc, priority_lines_add_up_until_one_fails_and_trailers_are_not_read);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(check_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
