/* The directory walk's parts beside the per-request lookups of config.h: where a walk reads
 * .htaccess files from (src/htaccess.c's cache), the part of a walk that depends only on a
 * directory (kept per directory by that cache), the walk itself (dirconf_walk.c) and the
 * <If> walk after it. */
#ifndef PT_DIRCONF_WALK_H
#define PT_DIRCONF_WALK_H

#include "config.h"

/* Where a walk reads .htaccess files from: the request floor's cache (src/htaccess.c).
 * read returns the file of directory dir (ending in '/') for the config merged so far (d:
 * its AllowOverride lets something in), or NULL: none, or a file that could not be used
 * (then *status is 500, logged). The result stays valid while the request lives. */
struct pt_htaccess;
struct pt_walk_prefix;
typedef struct {
    const struct pt_htaccess *(*read)(void *ctx, const char *dir, const pt_dir_config_t *d,
                                      int *status);
    /* May be NULL, or return NULL (the walk then makes the prefix itself, with read): the
     * prefix of name's directory (its first dirlen bytes) for vh, from the reader's cache,
     * valid while the request lives. */
    const struct pt_walk_prefix *(*prefix)(void *ctx, const pt_vhost_t *vh, const char *name,
                                           size_t dirlen);
    void *ctx;
} pt_htaccess_reader_t;

/* The part of a walk that depends only on the directory of the walked name (the name up to
 * its last '/'): the plain <Directory> sections that hold it, shortest first, each depth
 * followed by its .htaccess file. The rest of the walk (a <Directory> naming the whole name,
 * <DirectoryMatch>, <Files>, <Location>) starts from it. src/htaccess.c keeps one per
 * directory, so a request in a known directory makes one lookup, not a read and a merge per
 * depth. */
typedef struct pt_walk_prefix {
    const pt_dir_config_t *d;                /* merged */
    const pt_dir_config_t *const *matched;   /* the sections, in merge order */
    size_t nmatched;
    const struct pt_htaccess *const *read;   /* the files, shallowest first */
    size_t nread;
    unsigned walk_options;                   /* pt_walk_result_t's, so far */
    uint64_t sections;                       /* the server, matched, then read */
    int status;                              /* 500: a file could not be used (read's) */
    const pt_section_t *const *whole;        /* the <Directory> sections that may name an
                                                entry of the directory (checked per name) */
    size_t nwhole;
    const pt_section_t *const *files;        /* the <Files> sections that may apply in it,
                                                in merge order: top-level, then nested in
                                                each of matched (checked per name) */
    size_t nfiles;
} pt_walk_prefix_t;

/* Makes the prefix of name's directory in a (ht NULL: no .htaccess files). */
void pt_config_walk_prefix(pt_arena_t *a, const pt_vhost_t *vh, const char *name,
                           const pt_htaccess_reader_t *ht, pt_walk_prefix_t *out);

/* What pt_config_dir_for_walk finds besides the config. */
typedef struct {
    const pt_htaccess_reader_t *ht; /* in: read .htaccess files on the walk (NULL: none) */
    int status;                     /* out: 0, or 500 when a .htaccess file failed */
    unsigned walk_options; /* the Options the walk checks symbolic links with: those of the
                              plain <Directory> sections that hold the last name (not
                              <DirectoryMatch>, <Files> or <Location>, which Apache merges
                              after its walk) */
    unsigned dir_options;  /* the Options of the directory walk: <Directory> and
                              <DirectoryMatch>, not <Files> or <Location> */
    uint64_t sections;     /* which sections were merged, in order (never 0): two requests
                              with one value have one config, as Apache's cached merges */
} pt_walk_result_t;

/* The Options Apache's walk checks the symbolic links inside directory dir (ending in '/')
 * with: the server's, merged with the plain <Directory> sections that hold dir. */
unsigned pt_config_walk_options(pt_arena_t *a, const pt_vhost_t *vh, const char *dir);
/* pt_config_dir_for, when filename may be only the file part of the path (whole_path false: path info
 * follows): Apache's walk then stops at the file, and no <Directory> naming it applies.
 * <DirectoryMatch> is matched against rx_name (NULL: filename), the name as Apache's walk
 * leaves it: a directory has a trailing '/' only when the URL has one.
 * *out (may be NULL) gets what else the walk found. */
const pt_dir_config_t *pt_config_dir_for_walk(pt_arena_t *a, const pt_vhost_t *vh,
                                              const char *filename, const char *rx_name,
                                              bool whole_path, const char *uri_path,
                                              pt_walk_result_t *out);

/* Apache's <If> walk over d->ifs (after the section walk): an <If> or <ElseIf> whose eval
 * gives 1 is merged, an <ElseIf> or <Else> after a merged one is skipped, an <Else> after a
 * false one is merged; then, the same way, the sections nested in those merged. eval: 1 true, 0 false (an error is
 * the caller's to log, and false). Each merged section is added to *sections when it is not
 * 0 (pt_walk_result_t.sections). Returns d itself when nothing is merged. */
typedef int (*pt_if_eval_t)(void *ctx, const pt_if_section_t *s);
const pt_dir_config_t *pt_config_if_walk(pt_arena_t *a, const pt_dir_config_t *d,
                                         pt_if_eval_t eval, void *ctx, uint64_t *sections);

#endif
