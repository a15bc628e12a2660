/* The soups' own PRNG (splitmix64): a seed means the same run on every machine and libc,
 * so a failing connection's seed replays it (test_h1_soup, test_h2_soup). */
#ifndef PTH_SOUP_RNG_H
#define PTH_SOUP_RNG_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
