/* .htaccess files for requests: a per-child cache of parsed files (conf/htaccess_parse.h),
 * one entry per directory (a directory without a file is cached too), revalidated by stat
 * at most once a second, and above it a cache of merged walks (conf's pt_walk_prefix_t: the
 * <Directory> sections and files of every depth, merged), one per directory, revalidated the
 * same way, so a request under AllowOverride pays one hash lookup, not a read, a parse or a
 * merge per directory. A request holds what it uses until its arena is reset. */
#ifndef PT_HTACCESS_H
#define PT_HTACCESS_H

#include "config.h"
#include "dirconf_walk.h"
#include "request.h"

/* The walk's reader for r (pt_walk_result_t.ht): ctx is r. Used whether or not a
 * configuration lets files in: with no AllowOverride nothing is read, and the cached walk of
 * a directory is then the merge of its <Directory> sections alone (revalidating it stats
 * nothing). */
const pt_htaccess_reader_t *pt_htaccess_reader(pt_request_t *r);

/* How often a cached entry is checked against the file system. */
#define PT_HTACCESS_RECHECK_MS 1000
/* Entries kept per child; past it, a request parses what it needs and frees it after. */
#define PT_HTACCESS_CACHE_MAX 4096
/* Merged walks (one per directory a request was in) kept per child; past it, the ones not
 * looked up lately go (a clock). */
#define PT_HTACCESS_WALK_MAX 1024

/* Who resolves the handler names of a file's configs (src/loader.c, at start-up: the loader
 * sits above the request core, which reads the files). fn returns a name nothing provides
 * (the file is then an error, as such a name in the server config), else NULL. */
void pt_htaccess_set_resolver(const char *(*fn)(const pt_config_t *cfg, pt_dir_config_t *dc));

/* Drops every entry (a child's exit; tests). Entries still held by requests go with them. */
void pt_htaccess_cache_clear(void);

#endif
