/* The core's walk of a mapped file name over the file system, as Apache's directory walk:
 * how much of the name exists (what <Directory> and <Files> sections are matched against),
 * where a file ends and path info begins, and Options' rules for symbolic links, checked
 * component by component with openat(O_NOFOLLOW) so that the file opened is the file
 * checked. Every handler's file goes through it, not only the static handler's. */
#ifndef PT_WALK_H
#define PT_WALK_H

#include "request.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* pt_walk_open: the file (or a directory on the way) does not exist. */
#define PT_WALK_MISSING (-2)

/* Stats shared by requests that were sent before the stat began. Each thread keeps its last
 * few successful stats of whole names (walk.c), each stamped with the monotonic clock (ns) read
 * just before it. A request may take a kept stat only when it was sent before that stamp:
 * a client that changed a file and then sent a request still gets the change, as with a
 * stat per request (Apache). The caller that knows when one of a request's bytes was surely
 * in our hands says so, around the request's walk (a client that sends part of a request,
 * changes a file and sends the rest may get the file as it was):
 * - HTTP/2: the streams that one read of the client's frames started, from the time of
 *   that read (h2_session_run_started);
 * - HTTP/1 in the event MPM: the first request read after the listener's epoll found bytes
 *   on the idle connection, from the time that epoll_wait returned (http1: when none of
 *   what was there could be anything but that request).
 * Everything else stats, and what it stats is kept for those. A handler other than the
 * static one (a backend, a module) ends the batch before it runs: it may change files that
 * the request walks after it (a local redirect, an ErrorDocument). */
#define PT_WALK_MEMO_FILES 4
#define PT_WALK_MEMO_NAME 256 /* longer names are not kept */

/* Until pt_walk_memo_end, pt_walk_stat on this thread may answer with a stat whose stamp
 * is later than sent_ns (pt_mono_ns: the request's bytes were all here by then, or at
 * least one of them, when the client sent nothing else in between). */
void pt_walk_memo_begin(int64_t sent_ns);
void pt_walk_memo_end(void);

/* Stats r->filename; when it does not exist, finds the longest existing part, and when that
 * ends at a regular file with more path after it, splits r->filename there and sets
 * r->path_info (/app/index.php/foo). Sets r->finfo when the file exists. Returns the name the
 * section walk sees: the existing part and the first missing name after it, with a trailing
 * '/' when it is a directory (as Apache's walk builds r->filename). NULL when no filename. */
const char *pt_walk_stat(pt_request_t *r);

/* Opens r->filename, following symbolic links below the first root_len bytes only as
 * Options allows (FollowSymLinks, or SymLinksIfOwnerMatch when the link and its target have
 * one owner). path_only: an O_PATH descriptor (a check; the file need not be readable), else
 * O_RDONLY. Returns 0 with *fd and *st (its fstat), PT_WALK_MISSING, or a status: 403 for a
 * link Options forbid (logged) or a permission error, 404 for a path past a regular file. */
int pt_walk_open(pt_request_t *r, size_t root_len, unsigned options, bool path_only, int *fd,
                 struct stat *st);

/* True when Options allow links in every directory from the first root_len bytes of
 * r->filename to the file: pt_walk_open would then refuse nothing for a link. */
bool pt_walk_follows_everywhere(pt_request_t *r, size_t root_len, unsigned options);

/* Whether the directory entry name (in the directory open as dirfd) may be reached by the
 * symlink rules of options; *st gets what a request for it would see (the target's stat for
 * an allowed link). False for a link Options forbid or a dangling one. */
bool pt_walk_entry_allowed(int dirfd, const char *name, unsigned options, struct stat *st);

#endif
