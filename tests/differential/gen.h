/* The differential test's generator: a fixed file tree, and from a seed a configuration (a
 * list of top-level items, each a directive or a whole section) and a batch of requests over
 * that tree. The same seed gives the same case on every machine (own PRNG, no rand()). */
#ifndef DT_GEN_H
#define DT_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_MAX_ITEMS 32
#define DT_MAX_REQS 256
#define DT_TARGET_MAX 256

/* What a request aims at, for the rules on intentional differences. */
enum {
    DT_TAG_RANGE_BAD = 1u << 0,  /* a Range no file can satisfy */
    DT_TAG_BROKEN_LINK = 1u << 1, /* the decoded path names the broken symlink */
    DT_TAG_ABOVE_ROOT = 1u << 2,  /* its dot-segments climb above the root */
    DT_TAG_FALLBACK = 1u << 3     /* the config has a FallbackResource to a URL */
};

typedef struct {
    const char *method;          /* GET HEAD POST OPTIONS */
    char target[DT_TARGET_MAX];  /* request-target as sent */
    const char *range;           /* Range header value, or NULL */
    unsigned tags;
} dt_req_t;

typedef struct {
    unsigned seed;
    char *items[DT_MAX_ITEMS];   /* malloc'd; shared by both servers' configs */
    bool keep[DT_MAX_ITEMS];     /* the minimizer drops items by clearing this */
    int nitems;
    dt_req_t reqs[DT_MAX_REQS];
    int nreqs;
} dt_case_t;

typedef struct {
    uint64_t s;
} dt_rng_t;

void dt_rng_seed(dt_rng_t *r, uint64_t seed);
uint32_t dt_rng_below(dt_rng_t *r, uint32_t n);

/* Builds the fixed tree under root (root/htdocs, root/outside): files whose bodies name
 * them ("FILE htdocs/a.txt ..."), dot-files, subdirectories and symlinks. World-readable, so
 * that Apache's unprivileged child can read what portico reads. Returns 0 or -errno. */
int dt_tree_create(const char *root);

/* The relative path of the tree file whose exact contents are body, or NULL. */
const char *dt_tree_identify(const char *body, size_t len);

/* Whether body with that Content-Range ("bytes FIRST-LAST/LENGTH") is a part of the tree file
 * rel: its length and the bytes at that place match. The files differ only in their first
 * line, so a part after it tells no file from another of the same length. */
bool dt_tree_part_of(const char *rel, const char *crange, const char *body, size_t len);

/* The DT_TAG_* that a request's target and Range (NULL: none) carry. */
unsigned dt_req_tags(const char *target, const char *range);

/* Fills c from seed: the items over the tree at root, and nreqs requests. */
void dt_case_generate(dt_case_t *c, unsigned seed, const char *root, int nreqs);
void dt_case_free(dt_case_t *c);
/* The kept items joined by newlines (malloc'd). */
char *dt_case_config(const dt_case_t *c);

#endif
