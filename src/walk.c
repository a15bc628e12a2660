/* The core's file-system walk: the stat that tells the section walk what exists, the path
 * info split, and the symlink-checked open (Apache's resolve_symlink rules). */
#include "walk.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *with_slash(pt_request_t *r, const char *path)
{
    size_t n = strlen(path);
    return n && path[n - 1] == '/' ? path : pt_arena_printf(r->arena, "%s/", path);
}

/* This thread's kept stats (walk.h), and when the request it serves now was sent (INT64_MAX:
 * unknown, so no kept stat can answer it). */
static __thread struct {
    struct {
        int64_t stamp_ns; /* pt_mono_ns before the stat began */
        size_t len;
        struct stat st;
        char name[PT_WALK_MEMO_NAME];
    } e[PT_WALK_MEMO_FILES];
    int n; /* entries in use */
} memo;
static __thread int64_t memo_sent_ns = INT64_MAX;
static __thread bool memo_used; /* a batch began on this thread once: worth keeping stats */

void pt_walk_memo_begin(int64_t sent_ns)
{
    memo_sent_ns = sent_ns;
    if (sent_ns != INT64_MAX)
        memo_used = true;
}

void pt_walk_memo_end(void)
{
    memo_sent_ns = INT64_MAX;
}

/* stat(2), or a kept copy of a stat of the same name that began after the request was
 * sent. */
static int stat_shared(const char *f, struct stat *st)
{
    if (!memo_used)
        return stat(f, st); /* (a thread no batch ever ran on: the worker and prefork MPMs) */
    size_t len = strlen(f);
    if (memo_sent_ns != INT64_MAX) {
        for (int i = 0; i < memo.n; i++) {
            if (memo.e[i].stamp_ns > memo_sent_ns && memo.e[i].len == len &&
                memcmp(memo.e[i].name, f, len) == 0) {
                *st = memo.e[i].st;
                return 0;
            }
        }
    }
    int64_t stamp = pt_mono_ns();
    if (stat(f, st) != 0) {
        return -1;
    }
    if (len < PT_WALK_MEMO_NAME) {
        /* The same name again replaces its entry (a name is kept once, at its latest); else
         * a free entry, else the oldest. */
        int i = 0, oldest = 0;
        while (i < memo.n && !(memo.e[i].len == len && memcmp(memo.e[i].name, f, len) == 0)) {
            if (memo.e[i].stamp_ns < memo.e[oldest].stamp_ns)
                oldest = i;
            i++;
        }
        if (i == memo.n && memo.n < PT_WALK_MEMO_FILES)
            memo.n++;
        else if (i == memo.n)
            i = oldest;
        memo.e[i].stamp_ns = stamp;
        memo.e[i].len = len;
        memo.e[i].st = *st;
        memcpy(memo.e[i].name, f, len);
    }
    return 0;
}

/* Only the failure path walks component by component: a file that exists costs one stat. */
const char *pt_walk_stat(pt_request_t *r)
{
    const char *f = r->filename;
    r->finfo_valid = false;
    if (f == NULL) {
        return NULL;
    }
    struct stat st;
    if (stat_shared(f, &st) == 0) {
        r->finfo = st;
        r->finfo_valid = true;
        return S_ISDIR(st.st_mode) ? with_slash(r, f) : f;
    }
    if (errno != ENOENT && errno != ENOTDIR) {
        return f; /* unreadable: the handler reports it */
    }
    for (size_t i = 1; f[i]; i++) {
        if (f[i] != '/') {
            continue;
        }
        char *prefix = pt_arena_strndup(r->arena, f, i);
        if (stat(prefix, &st) != 0) {
            return prefix; /* the first missing name */
        }
        if (!S_ISDIR(st.st_mode)) {
            r->filename = prefix;
            r->path_info = pt_arena_strdup(r->arena, f + i);
            r->finfo = st;
            r->finfo_valid = true;
            return prefix;
        }
    }
    return f;
}

static int open_errno_status(void)
{
    switch (errno) {
    case ENOENT:
        return PT_WALK_MISSING;
    case ENOTDIR:
    case ENAMETOOLONG:
        return 404;
    case EACCES:
    case EPERM:
    case ELOOP:
        return 403;
    case EMFILE:
    case ENFILE:
        return 503;
    default:
        return 500;
    }
}

/* name in dirfd is a symbolic link (lst its lstat): open its target into *out when Options
 * allow it. For SymLinksIfOwnerMatch the opened file's owner is compared with the link's, and
 * the link is looked at again after the open, so a link swapped in between is not followed.
 * Returns 0 or a status (PT_WALK_MISSING for a dangling link). */
static int open_link(pt_request_t *r, int dirfd, const char *name, int flags, unsigned options,
                     const struct stat *lst, const char *path, int *out)
{
    if ((options & PT_OPT_FOLLOW_SYMLINKS) && !(options & PT_OPT_SYMLINKS_IF_OWNER)) {
        /* Allowed here although not everywhere on the path (the fast path did not apply). */
        int fd = openat(dirfd, name, flags & ~O_NOFOLLOW);
        if (fd < 0) {
            return open_errno_status();
        }
        *out = fd;
        return 0;
    }
    if (options & PT_OPT_SYMLINKS_IF_OWNER) {
        int fd = openat(dirfd, name, flags & ~O_NOFOLLOW);
        if (fd < 0) {
            return open_errno_status();
        }
        struct stat tst, again;
        if (fstat(fd, &tst) == 0 && tst.st_uid == lst->st_uid &&
            fstatat(dirfd, name, &again, AT_SYMLINK_NOFOLLOW) == 0 &&
            again.st_ino == lst->st_ino && again.st_dev == lst->st_dev &&
            again.st_uid == lst->st_uid) {
            *out = fd;
            return 0;
        }
        close(fd);
    }
    pt_log_rerror(PT_LOG_ERR, r, "AH00037: Symbolic link not allowed or link target not "
                                 "accessible: %s", path);
    return 403;
}

/* Opens the file that pfd (O_PATH, not a link) holds into *out with flags less O_NOFOLLOW,
 * and closes pfd: the magic link /proc/self/fd/N leads to that very inode, whatever its name
 * holds by now. Without /proc, 503: a second look by name could find the link again, and a
 * loop of such looks is the race this avoids. */
static int reopen_path_fd(pt_request_t *r, int pfd, int flags, const char *path, int *out)
{
    char proc[sizeof("/proc/self/fd/") + 3 * sizeof(int)];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
    int fd = open(proc, flags & ~O_NOFOLLOW);
    int err = errno;
    close(pfd);
    if (fd >= 0) {
        *out = fd;
        return 0;
    }
    if (err == ENOENT) {
        pt_log_rerror(PT_LOG_ERR, r,
                      "%s was swapped with a link while opened, and %s, "
                      "which opens what it holds now, is missing (no /proc)",
                      path, proc);
        errno = EAGAIN; /* for the caller's log line: try again */
        return 503;
    }
    errno = err;
    return open_errno_status();
}

/* Opens one component below dirfd into *out without following a link Options forbid.
 * Returns 0 or a status. A directory on the way is opened with O_PATH|O_NOFOLLOW and no
 * O_DIRECTORY: a link is then opened itself, and fstat of what was opened tells a link, a
 * directory and anything else apart, with no second look by name that a swap in between
 * could answer differently. The file itself (O_RDONLY|O_NOFOLLOW, one open when it is no
 * link) fails on a link with ELOOP: the name is then opened the same way, O_PATH, and what
 * it holds now is told by fstat; when it is no link any more (swapped back in between), that
 * very file is reopened from the descriptor (reopen_path_fd), not looked up by name again. */
static int open_component(pt_request_t *r, int dirfd, const char *name, bool last,
                          bool path_only, unsigned options, const char *path, int *out)
{
    int flags = O_CLOEXEC | O_NOFOLLOW;
    if (!last) {
        flags |= O_PATH;
    } else {
        flags |= path_only ? O_PATH : O_RDONLY | O_NONBLOCK; /* a FIFO must not block */
    }
    int fd = openat(dirfd, name, flags);
    if (fd >= 0 && !(flags & O_PATH)) {
        *out = fd;
        return 0;
    }
    bool reopen = fd < 0; /* fd is then an O_PATH one where a readable one was asked for */
    if (reopen) {
        /* (O_PATH|O_NOFOLLOW opens a link itself: its failure is no link's.) */
        if (errno != ELOOP || (flags & O_PATH)) {
            return open_errno_status();
        }
        fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            return open_errno_status();
        }
    }
    struct stat lst;
    if (fstat(fd, &lst) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return open_errno_status();
    }
    if (S_ISLNK(lst.st_mode)) {
        close(fd);
        /* (A directory's target must be one, as O_DIRECTORY asked before links were told.) */
        return open_link(r, dirfd, name, last ? flags : flags | O_DIRECTORY, options, &lst, path,
                         out);
    }
    if (reopen) {
        return reopen_path_fd(r, fd, flags, path, out);
    }
    if (!last && !S_ISDIR(lst.st_mode)) { /* a file on the way: path past a file */
        close(fd);
        errno = ENOTDIR;
        return open_errno_status();
    }
    *out = fd;
    return 0;
}

/* The Options for the links in the directory path[0, upto) (which ends in '/'): Apache
 * checks each name with the Options of the directory that holds it, not the file's. */
static unsigned options_in(pt_request_t *r, const char *path, size_t upto, unsigned dflt)
{
    if (r->vhost == NULL) {
        return dflt;
    }
    return pt_config_walk_options(r->arena, r->vhost, pt_arena_strndup(r->arena, path, upto));
}

/* Whether a <Directory> section of r's host sets Options (else every directory has the
 * server's). */
static bool directories_set_options(const pt_request_t *r)
{
    for (size_t i = 0; r->vhost && i < r->vhost->nsections; i++) {
        const pt_section_t *s = &r->vhost->sections[i];
        if (s->kind == PT_SEC_DIRECTORY && (s->conf->options_set || s->conf->options_rel)) {
            return true;
        }
    }
    return false;
}

/* True when every directory from the root's to the file's allows links outright. */
static bool follow_everywhere(pt_request_t *r, const char *f, size_t root_len, unsigned options)
{
    if (!(options & PT_OPT_FOLLOW_SYMLINKS)) {
        return false;
    }
    if (!directories_set_options(r)) {
        return true; /* (the usual answer, before the name's length: only the walk needs it) */
    }
    if (f[0] != '/' || root_len == 0 || root_len > strlen(f)) {
        root_len = 1; /* unknown root: check every component */
    }
    for (size_t i = root_len; f[i]; i++) {
        if (f[i] == '/' && f[i + 1] && f[i + 1] != '/' &&
            !(options_in(r, f, i + 1, options) & PT_OPT_FOLLOW_SYMLINKS)) {
            return false;
        }
    }
    return true;
}

bool pt_walk_follows_everywhere(pt_request_t *r, size_t root_len, unsigned options)
{
    return r->filename && follow_everywhere(r, r->filename, root_len, options);
}

int pt_walk_open(pt_request_t *r, size_t root_len, unsigned options, bool path_only,
                 int *fd_out, struct stat *st)
{
    const char *f = r->filename;
    size_t len = strlen(f);
    int last_flags = path_only ? O_PATH : O_RDONLY | O_NONBLOCK;
    if (root_len > len || root_len == 0 || f[0] != '/') {
        root_len = 1; /* unknown root: check every component */
    }
    if (follow_everywhere(r, f, root_len, options)) {
        int fd = open(f, O_CLOEXEC | last_flags);
        if (fd < 0) {
            return open_errno_status();
        }
        if (fstat(fd, st) != 0) {
            close(fd);
            return 500;
        }
        *fd_out = fd;
        return 0;
    }
    /* The mapping root comes from the configuration: followed as written. */
    char *path = pt_arena_strdup(r->arena, f);
    char saved = path[root_len];
    path[root_len] = '\0';
    int dfd = open(path, O_CLOEXEC | (root_len == len ? last_flags : O_PATH | O_DIRECTORY));
    path[root_len] = saved;
    if (dfd < 0) {
        return open_errno_status();
    }
    size_t i = root_len;
    while (i < len) {
        while (i < len && path[i] == '/') {
            i++;
        }
        if (i == len) {
            break;
        }
        size_t start = i;
        while (i < len && path[i] != '/') {
            i++;
        }
        size_t j = i;
        while (j < len && path[j] == '/') {
            j++;
        }
        saved = path[i];
        path[i] = '\0';
        int nfd = -1;
        unsigned opts = options_in(r, path, start, options);
        int rc = open_component(r, dfd, path + start, j == len, path_only, opts, path, &nfd);
        path[i] = saved;
        close(dfd);
        if (rc != 0) {
            return rc;
        }
        dfd = nfd;
    }
    if (fstat(dfd, st) != 0) {
        close(dfd);
        return 500;
    }
    *fd_out = dfd;
    return 0;
}

bool pt_walk_entry_allowed(int dirfd, const char *name, unsigned options, struct stat *st)
{
    struct stat lst;
    if (fstatat(dirfd, name, &lst, AT_SYMLINK_NOFOLLOW) != 0) {
        return false;
    }
    if (!S_ISLNK(lst.st_mode)) {
        *st = lst;
        return true;
    }
    if (fstatat(dirfd, name, st, 0) != 0) {
        return false; /* dangling: a request for it would get 404 */
    }
    if (options & PT_OPT_FOLLOW_SYMLINKS) {
        return true;
    }
    return (options & PT_OPT_SYMLINKS_IF_OWNER) && st->st_uid == lst.st_uid;
}
