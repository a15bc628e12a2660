/* The open-file cache of a child process: regular files the static handler serves, kept
 * open with their stat, and for small files their bytes, so a hot file costs no open, fstat,
 * read or close per request. An entry is checked against the file system (stat by path) at
 * most once per PT_FILECACHE_VALID_MS: a changed file is seen within that time, as with
 * nginx's open_file_cache_valid. Thread-safe; entries are reference-counted. */
#ifndef PT_FILECACHE_H
#define PT_FILECACHE_H

#include <stddef.h>
#include <sys/stat.h>

#define PT_FILECACHE_VALID_MS 1000
#define PT_FILECACHE_ENTRIES 1024      /* open files kept, per child */
#define PT_FILECACHE_SMALL 16384       /* files up to this size are kept in memory */

typedef struct pt_fcentry pt_fcentry_t;

/* A reference to path's entry: 0, -EISDIR for something that is not a regular file (the
 * caller opens it itself), or -errno from open/stat. */
int pt_filecache_open(const char *path, pt_fcentry_t **out);
void pt_filecache_release(pt_fcentry_t *e);
int pt_fcentry_fd(const pt_fcentry_t *e);
const struct stat *pt_fcentry_stat(const pt_fcentry_t *e);
/* The whole file's bytes when it is small, else NULL. */
const void *pt_fcentry_data(const pt_fcentry_t *e);
/* Drops every entry not in use (tests, and a child before it exits). */
void pt_filecache_clear(void);

#endif
