/* h2_lower_copy (h2_stream.c): field names to ASCII lower case eight bytes at a time, as
 * a byte-by-byte tolower in the C locale would, for every length and every byte value. */
#include "h2_int.h"

#include <check.h>
#include <stdlib.h>

static char lower1(unsigned char c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

START_TEST(lowers_as_tolower_does_for_every_byte_and_length)
{
    uint8_t src[300];
    char out[300], in_place[300];
    for (int i = 0; i < 256; i++)
        src[i] = (uint8_t)i; /* every byte once: '@', '[', 0x80 | 'A', ... */
    for (int i = 256; i < 300; i++)
        src[i] = (uint8_t)("X-Forwarded-For-Content-Type"[i % 28]);
    for (size_t off = 0; off < 40; off++)
        for (size_t n = 0; off + n <= sizeof(src); n += (n < 40 ? 1 : 37)) {
            memset(out, '#', sizeof(out));
            h2_lower_copy(out, src + off, n);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(out[i] == lower1(src[off + i]), "off %zu n %zu byte %zu: %02x",
                              off, n, i, (unsigned char)out[i]);
            if (n < sizeof(out))
                ck_assert_int_eq(out[n], '#'); /* nothing past n written */
            memcpy(in_place, src + off, n);
            h2_lower_copy(in_place, (const uint8_t *)in_place, n);
            ck_assert(memcmp(in_place, out, n) == 0);
        }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("h2_stream");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, lowers_as_tolower_does_for_every_byte_and_length);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
