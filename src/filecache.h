/* The open-file cache of a child process: regular files the static handler serves, kept
 * open with their stat, and for small files their bytes, so a hot file costs no open, read
 * or close per request. The caller passes the stat it has just taken of the path (the core's
 * walk takes one for every request), and an entry is used only while it still describes the
 * same file (device, inode, size, mtime, mode): a deleted, replaced or chmod'ed file is never
 * served from the cache. Without a current stat, an entry is checked against the file system
 * at most once per PT_FILECACHE_VALID_MS. Thread-safe; entries are reference-counted. */
#ifndef PT_FILECACHE_H
#define PT_FILECACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define PT_FILECACHE_VALID_MS 1000
#define PT_FILECACHE_ENTRIES 1024      /* open files kept, per child */
#define PT_FILECACHE_SMALL 16384       /* files up to this size are kept in memory */

typedef struct pt_fcentry pt_fcentry_t;

/* A reference to path's entry: 0, -EISDIR for something that is not a regular file (the
 * caller opens it itself), or -errno from open/stat. current: a fresh stat of path, or NULL
 * (then the validity period applies). */
int pt_filecache_open(const char *path, const struct stat *current, pt_fcentry_t **out);
void pt_filecache_release(pt_fcentry_t *e);
int pt_fcentry_fd(const pt_fcentry_t *e);
const struct stat *pt_fcentry_stat(const pt_fcentry_t *e);
/* The whole file's bytes when it is small, else NULL. */
const void *pt_fcentry_data(const pt_fcentry_t *e);
/* The validators of the entry's file, made once when it was loaded instead of per request:
 * its Last-Modified (the IMF-fixdate of its mtime; NULL when that mtime was in the future
 * then, as the header says the time of the request instead), and its ETag for FileETag
 * components bits (NULL unless bits are MTime Size, Apache's default, the one made), weak
 * or strong as pt_etag_weak says for a request at request_us (wall clock, microseconds):
 * an entry loaded while its file was fresh gives the strong tag once that has passed. */
const char *pt_fcentry_last_modified(const pt_fcentry_t *e);
const char *pt_fcentry_etag(const pt_fcentry_t *e, unsigned bits, int64_t request_us);
/* Drops every entry not in use (tests, and a child before it exits). */
void pt_filecache_clear(void);

#endif
