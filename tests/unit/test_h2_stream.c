/* h2_lower_copy (h2_stream.c): field names to ASCII lower case eight bytes at a time, as
 * a byte-by-byte tolower in the C locale would, for every length and every byte value;
 * h2_known_name: a response field's name known in any case, and nothing else; ended
 * streams kept by the thread, not the session, bounded, and freed at the thread's end. */
#include "h2_int.h"
#include "idle.h"

#include <check.h>
#include <pthread.h>
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

/* Each known name with each of its bytes replaced by every byte value is known exactly when
 * the result still lowers to it ('-' and CR, which differ in the case bit only, too). */
START_TEST(knows_a_name_exactly_when_it_lowers_to_a_known_one)
{
    static const char *const known[] = {
        "date", "etag", "vary", "link", "allow", "server", "expires", "location",
        "content-type", "last-modified", "accept-ranges", "cache-control", "content-length",
        "content-encoding"};
    for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++) {
        const char *low = known[j];
        size_t n = strlen(low);
        char name[32];
        for (size_t i = 0; i < n; i++)
            for (int b = 0; b < 256; b++) {
                memcpy(name, low, n + 1);
                name[i] = (char)b;
                const char *got = h2_known_name(name, n);
                if (lower1((unsigned char)b) == low[i])
                    ck_assert_msg(got && strcmp(got, low) == 0, "%s byte %zu: %02x", low, i, b);
                else
                    ck_assert_msg(got == NULL, "%s byte %zu: %02x gave %s", low, i, b, got);
            }
        for (size_t i = 0; i < n; i++)
            name[i] = (char)(low[i] >= 'a' && low[i] <= 'z' ? low[i] - 32 : low[i]);
        ck_assert_str_eq(h2_known_name(name, n), low); /* all upper case */
    }
    ck_assert_ptr_null(h2_known_name("content\rtype", 12));
    ck_assert_ptr_null(h2_known_name("x-powered-by", 12));
    ck_assert_ptr_null(h2_known_name("Age", 3));
    ck_assert_ptr_null(h2_known_name("Upgrade", 7));
}
END_TEST

/* Streams of two sessions: what one session ended, the other's next stream reuses (its
 * arena, its output buffer); the thread keeps at most 16, and the session none. */
START_TEST(ended_streams_are_kept_by_the_thread_for_any_session)
{
    h2_session_t a = {0}, b = {0};
    h2_stream_t *st[20];
    for (int i = 0; i < 20; i++)
        st[i] = h2_stream_create(&a, 2 * i + 1);
    pt_arena_t *arena = st[15]->arena; /* (the 16th kept; the rest were freed) */
    ck_assert_uint_eq(h2_stream_spares(), 0);
    st[15]->ck.seen = H2_CK_HOST | H2_CK_LENGTH; /* (what its request had) */
    st[15]->ck.length = 5;
    for (int i = 0; i < 20; i++)
        h2_stream_recycle(st[i]);
    ck_assert_uint_eq(h2_stream_spares(), 16);
    h2_stream_t *x = h2_stream_create(&b, 1); /* the last kept: st[15]'s memory */
    ck_assert_ptr_eq(x->arena, arena);
    ck_assert_ptr_eq(x->s, &b);
    ck_assert_int_eq(x->id, 1);
    ck_assert_uint_eq(x->ck.seen, 0); /* no host, no content-length: a new request's */
    ck_assert_int_eq(x->ck.length, 0);
    ck_assert_uint_eq(h2_stream_spares(), 15);
    h2_stream_recycle(x);
}
END_TEST

static void *recycle_two(void *arg)
{
    h2_session_t *s = arg;
    h2_stream_recycle(h2_stream_create(s, 1));
    h2_stream_recycle(h2_stream_create(s, 3));
    size_t *n = malloc(sizeof(*n));
    *n = h2_stream_spares();
    return n; /* (the kept one goes at the thread's end: ASan finds it leaked otherwise) */
}

START_TEST(a_threads_kept_streams_go_when_it_ends)
{
    h2_session_t s = {0};
    size_t mine = h2_stream_spares();
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, recycle_two, &s), 0);
    void *n = NULL;
    ck_assert_int_eq(pthread_join(t, &n), 0);
    ck_assert_uint_eq(*(size_t *)n, 1); /* (the second reused the first's) */
    free(n);
    ck_assert_uint_eq(h2_stream_spares(), mine); /* (they were another thread's) */
}
END_TEST

/* A thread about to wait for work (idle.h) frees the streams it kept. */
START_TEST(a_threads_kept_streams_go_when_it_goes_idle)
{
    h2_session_t s = {0};
    h2_stream_recycle(h2_stream_create(&s, 1));
    ck_assert_uint_eq(h2_stream_spares(), 1);
    pt_thread_idle();
    ck_assert_uint_eq(h2_stream_spares(), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("h2_stream");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, lowers_as_tolower_does_for_every_byte_and_length);
    tcase_add_test(tc, knows_a_name_exactly_when_it_lowers_to_a_known_one);
    tcase_add_test(tc, ended_streams_are_kept_by_the_thread_for_any_session);
    tcase_add_test(tc, a_threads_kept_streams_go_when_it_ends);
    tcase_add_test(tc, a_threads_kept_streams_go_when_it_goes_idle);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
