/* What the seeded soups (test_h1_soup, test_h2_soup) share: their own PRNG (splitmix64: a
 * seed means the same run on every machine and libc, so a failing connection's seed replays
 * it), and the look for a crash or sanitizer report in the server's logs. */
#ifndef PTH_SOUP_H
#define PTH_SOUP_H

#include "harness.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t s;
} soup_rng_t;

static inline uint64_t soup_next64(soup_rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform enough in [0, n) for n far below 2^32. */
static inline uint32_t soup_rnd(soup_rng_t *r, uint32_t n)
{
    return (uint32_t)(soup_next64(r) % n);
}

static inline bool soup_chance(soup_rng_t *r, uint32_t percent)
{
    return soup_rnd(r, 100) < percent;
}

/* Fails, naming the seed after which it was found, when the log at path holds a sanitizer
 * report, an assertion or fortify message, or a child's death by a signal. */
static inline void soup_check_log_clean(const char *path, uint64_t after)
{
    static const char *const bad[] = {"AddressSanitizer", "runtime error", "ThreadSanitizer",
                                      "LeakSanitizer",    "Assertion",     "*** ",
                                      "exit signal"};
    char *log = pth_read_file(path, NULL);
    for (size_t i = 0; log && i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *hit = strstr(log, bad[i]);
        if (hit) {
            const char *line = hit;
            while (line > log && line[-1] != '\n')
                line--;
            ck_abort_msg("after seed %llu, %s: %.*s", (unsigned long long)after, path,
                         (int)strcspn(line, "\n"), line);
        }
    }
    free(log);
}

#endif
