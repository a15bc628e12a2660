/* The static handler: files (conditional requests, ranges, sendfile), directories (mod_dir's
 * trailing-slash redirect, DirectoryIndex, FallbackResource, listings). Files are opened
 * through walk.c (Options' rules for symbolic links); validators and ranges are in range.c. */
#include "handler.h"
#include "access.h"
#include "clock.h"
#include "compress.h"
#include "log.h"
#include "range.h"
#include "filecache.h"
#include "uri.h"
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define ALLOWED_METHODS "GET, HEAD, OPTIONS"
#define LISTING_MAX_ENTRIES 10000 /* a bigger directory is listed in part */

/* What resolving a file name found, besides an HTTP status. */
enum { FILE_MISSING = -2 };

/* ---- Opening ------------------------------------------------------------------------- */

/* Opens r->filename by Options' rules into *fd: the descriptor the symlink checks walked to
 * is the one served (no window between check and open). *st: its stat, the cache entry's
 * (which does not change while held) or filled in at buf. Returns 0, FILE_MISSING, or a
 * status. */
static int open_mapped(pt_request_t *r, int *fd, struct stat *buf, const struct stat **st,
                       pt_fcentry_t **fce)
{
    unsigned opts = r->walk_options;
    *fce = NULL;
    if ((opts & PT_OPT_FOLLOW_SYMLINKS) && r->finfo_valid && S_ISREG(r->finfo.st_mode) &&
        pt_filecache_open(r->filename, &r->finfo, fce) == 0) {
        /* The hot path: a regular file already open, still the file the walk just saw. */
        *fd = pt_fcentry_fd(*fce);
        *st = pt_fcentry_stat(*fce);
        return 0;
    }
    *st = buf;
    int rc = pt_walk_open(r, r->filename_root, opts, false, fd, buf);
    if (rc == PT_WALK_MISSING) {
        return FILE_MISSING;
    }
    if (rc >= 500) {
        pt_log_rerror(PT_LOG_ERR, r, "cannot open %s: %s", r->filename, strerror(errno));
    }
    return rc;
}

static int missing(pt_request_t *r)
{
    const char *fb = r->dir->fallback;
    if (fb != NULL && fb[0] != '\0' && strcmp(fb, r->uri) != 0) {
        return pt_request_lookup_redirect(r, fb);
    }
    return 404;
}

static int method_allowed(pt_request_t *r)
{
    if (r->method_id == PT_METHOD_GET || r->method_id == PT_METHOD_HEAD) {
        return 0;
    }
    pt_table_set(r->method_id == PT_METHOD_OPTIONS ? &r->headers_out : &r->err_headers_out,
                 "Allow", ALLOWED_METHODS);
    if (r->method_id == PT_METHOD_OPTIONS) {
        int rc = pt_resp_start(r, 200, 0);
        return rc != 0 ? rc : pt_resp_finish(r);
    }
    return 405;
}

/* ---- Directories --------------------------------------------------------------------- */

/* mod_dir's DirectorySlash: an absolute URL to the same path with '/' added, query kept. */
static int redirect_with_slash(pt_request_t *r)
{
    const char *loc = pt_request_construct_url(
        r, pt_arena_printf(r->arena, "%s/%s%s", pt_uri_escape_path(r->arena, r->uri),
                           r->args ? "?" : "", r->args ? r->args : ""));
    pt_table_set(&r->err_headers_out, "Location", loc);
    return 301;
}

/* DirectoryIndexRedirect: the index found is answered with a redirect to it (query not
 * kept, as mod_dir's ap_construct_url of the subrequest's URI). */
static int redirect_to_index(pt_request_t *r, const char *uri)
{
    pt_table_set(&r->err_headers_out, "Location", pt_request_construct_url(r, pt_uri_escape_path(r->arena, uri)));
    return r->dir->core.index_redirect;
}

/* An index entry counts when it is a regular file, or when its URL goes to a proxy or
 * FastCGI handler (the file may live on the backend only), as mod_dir's subrequest test. */
static bool index_usable(pt_request_t *r, const char *uri, const char *file)
{
    struct stat st;
    if (file != NULL && stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
        return true;
    }
    const pt_dir_config_t *d = pt_config_dir_for(r->arena, r->vhost, file, uri);
    if (d == NULL) {
        return false;
    }
    if (d->handler != NULL && d->handler->remote) {
        return true;
    }
    const char *dot = file ? strrchr(file, '.') : NULL;
    for (size_t i = 0; dot && !strchr(dot, '/') && i < d->nhandlers; i++) {
        if (strcasecmp(d->handlers[i].ext, dot + 1) == 0) {
            return d->handlers[i].handler != NULL && d->handlers[i].handler->remote;
        }
    }
    return false;
}

/* DirectoryIndex, as mod_dir: each name is looked up as a GET subrequest would be; the first
 * that passes and is usable becomes an internal redirect, so <Location> and <Files> rules
 * apply to it. A redirect from a lookup is the answer; any other error but 404 is kept, and
 * the last one kept is the answer when no name is usable (rather than a listing that might
 * show what the error hid). True when *rc is the answer (PT_DONE is 0, so the result cannot
 * double as the "found" flag). */
static bool try_index(pt_request_t *r, int *rc)
{
    static const char *const dflt[] = {"index.html"};
    const char *const *names = dflt;
    size_t n = 1;
    if (r->dir->dir_index_set) {
        names = r->dir->dir_index;
        n = r->dir->ndir_index;
    }
    int kept = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = names[i];
        const char *uri, *file;
        if (name[0] == '/') {
            uri = name;
            file = pt_uri_to_filename(r->arena, r->vhost, uri);
        } else {
            uri = pt_arena_printf(r->arena, "%s%s", r->uri, name);
            size_t fl = strlen(r->filename);
            bool slash = fl > 0 && r->filename[fl - 1] == '/';
            file = pt_arena_printf(r->arena, "%s%s%s", r->filename, slash ? "" : "/", name);
        }
        int st = pt_request_lookup(r, uri, PT_LOOKUP_INDEX);
        if (st >= 300 && st < 400) {
            *rc = st;
            return true;
        }
        if (st != 0) {
            if (st != 404)
                kept = st;
            continue;
        }
        if (index_usable(r, uri, file)) {
            *rc = r->dir->core.index_redirect > 0 ? redirect_to_index(r, uri)
                                                  : pt_request_lookup_redirect(r, uri);
            return true;
        }
    }
    if (kept == 0 && n > 0 && r->dir->fallback && r->dir->fallback[0]) {
        /* mod_dir's lookup of a missing name runs its FallbackResource. */
        *rc = missing(r);
        return true;
    }
    *rc = kept;
    return kept != 0;
}

typedef struct {
    const char *name;
    struct stat st;
    bool have_st;
} dirent_info_t;

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const dirent_info_t *)a)->name, ((const dirent_info_t *)b)->name);
}

/* mod_autoindex runs a sub-request per entry and lists only what a request would get
 * (2xx or 3xx): the same symlink rules (with the listed directory's Options, which govern its
 * entries), the same redirects, section walk and Require (pt_request_lookup). A dangling link,
 * a link Options forbid, a denied or gone file or directory, and anything but files and
 * directories stay out, so a listing never tells what access control hides. */
static bool entry_visible(pt_request_t *r, int dfd, const char *name, struct stat *st)
{
    /* Apache's lookup of an entry reuses the directory walk of the listed directory, Options
     * from <DirectoryMatch> included (not those of <Files> or <Location>), and checks a link
     * with them. */
    if (!pt_walk_entry_allowed(dfd, name, r->dir_options, st)) {
        return false;
    }
    bool isdir = S_ISDIR(st->st_mode);
    if (!isdir && !S_ISREG(st->st_mode)) {
        return false;
    }
    const char *uri = pt_arena_printf(r->arena, "%s%s%s", r->uri, name, isdir ? "/" : "");
    int rc = pt_request_lookup(r, uri, PT_LOOKUP_DIRENT);
    return rc == 0 || (rc >= 300 && rc < 400);
}

/* Reads up to LISTING_MAX_ENTRIES visible entries, sorted by name. */
static dirent_info_t *read_entries(pt_request_t *r, DIR *dir, size_t *count)
{
    size_t n = 0, cap = 64;
    dirent_info_t *v = pt_arena_alloc(r->arena, cap * sizeof(*v));
    struct dirent *de;
    while (n < LISTING_MAX_ENTRIES && (de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        if (n == cap) {
            v = pt_arena_grow(r->arena, v, cap * sizeof(*v), 2 * cap * sizeof(*v));
            cap *= 2;
        }
        if (!entry_visible(r, dirfd(dir), de->d_name, &v[n].st)) {
            continue;
        }
        v[n].name = pt_arena_strdup(r->arena, de->d_name);
        v[n].have_st = true;
        n++;
    }
    qsort(v, n, sizeof(*v), cmp_entry);
    *count = n;
    return v;
}

static const char *listing_row(pt_request_t *r, const dirent_info_t *e)
{
    bool isdir = e->have_st && S_ISDIR(e->st.st_mode);
    const char *href = pt_uri_escape_path(r->arena, e->name);
    /* A name with ':' before any '/' would read as a URL scheme. */
    const char *pre = strchr(e->name, ':') ? "./" : "";
    char when[32] = "";
    if (e->have_st) {
        struct tm tm;
        gmtime_r(&e->st.st_mtime, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
    }
    const char *size = isdir || !e->have_st
                           ? "-"
                           : pt_arena_printf(r->arena, "%" PRId64, (int64_t)e->st.st_size);
    const char *name = pt_html_escape(r->arena, e->name);
    return pt_arena_printf(r->arena,
                           "<tr><td><a href=\"%s%s%s\">%s%s</a></td><td>%s</td>"
                           "<td align=\"right\">%s</td></tr>\n",
                           pre, href, isdir ? "/" : "", name, isdir ? "/" : "", when, size);
}

/* mod_autoindex's plain listing: a table of name, modification time and size. */
static int send_listing(pt_request_t *r)
{
    DIR *dir = opendir(r->filename);
    if (dir == NULL) {
        return errno == EACCES ? 403 : 404;
    }
    size_t n;
    dirent_info_t *v = read_entries(r, dir, &n);
    closedir(dir);

    const char *title = pt_html_escape(r->arena, r->uri);
    size_t cap = 1024 + n * 256, len = 0;
    char *out = pt_arena_alloc(r->arena, cap);
    const char *parts[4] = {
        pt_arena_printf(r->arena,
                        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
                        "<title>Index of %s</title>\n</head>\n<body>\n<h1>Index of %s</h1>\n"
                        "<table>\n<tr><th>Name</th><th>Last modified</th><th>Size</th></tr>\n",
                        title, title),
        strcmp(r->uri, "/") != 0
            ? "<tr><td><a href=\"../\">Parent Directory</a></td><td></td>"
              "<td align=\"right\">-</td></tr>\n"
            : "",
        NULL, "</table>\n</body>\n</html>\n"};
    for (size_t i = 0; i < n + 3; i++) {
        const char *s = i < 2 ? parts[i] : i < n + 2 ? listing_row(r, &v[i - 2]) : parts[3];
        size_t sl = strlen(s);
        if (len + sl + 1 > cap) {
            out = pt_arena_grow(r->arena, out, len, 2 * (len + sl + 1));
            cap = 2 * (len + sl + 1);
        }
        memcpy(out + len, s, sl);
        len += sl;
    }
    pt_table_unset(&r->headers_out, "Content-Type");
    return pt_resp_send(r, 200, "text/html; charset=UTF-8", out, len);
}

static int serve_directory(pt_request_t *r)
{
    size_t ul = strlen(r->uri);
    bool slash = ul > 0 && r->uri[ul - 1] == '/';
    /* DirectorySlash Off: no redirect, and no DirectoryIndex either (mod_dir declines), so
     * Options Indexes lists the directory even when it has an index file, as Apache. */
    if (!slash && r->dir->core.dir_slash != 1) {
        return redirect_with_slash(r);
    }
    int rc;
    if (slash && try_index(r, &rc)) {
        return rc;
    }
    /* No FallbackResource here (try_index used it if an index name was looked up): mod_dir
     * uses it only for a name that does not exist. */
    rc = method_allowed(r);
    if (rc != 0 || r->method_id == PT_METHOD_OPTIONS) {
        return rc;
    }
    if (r->dir->options & PT_OPT_INDEXES) {
        return send_listing(r);
    }
    pt_log_rerror(PT_LOG_ERR, r, "AH01276: Cannot serve directory %s: No matching "
                                 "DirectoryIndex found, and server-generated directory index "
                                 "forbidden by Options directive", r->filename);
    return 403;
}

/* ---- Files --------------------------------------------------------------------------- */

static const char *make_boundary(pt_request_t *r, const struct stat *st)
{
    uint64_t rnd[2] = {0, 0};
    if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
        rnd[0] = (uint64_t)r->start_mono_us ^ ((uint64_t)st->st_ino << 17);
        rnd[1] = (uint64_t)(uintptr_t)r ^ (uint64_t)r->start_wall_us;
    }
    return pt_arena_printf(r->arena, "%016" PRIx64 "%016" PRIx64, rnd[0], rnd[1]);
}

static int send_single_range(pt_request_t *r, int fd, const pt_range_t *rg, int64_t size)
{
    pt_table_set(&r->headers_out, "Content-Range",
                 pt_arena_printf(r->arena, "bytes %" PRId64 "-%" PRId64 "/%" PRId64, rg->first,
                                 rg->last, size));
    int64_t len = rg->last - rg->first + 1;
    int rc = pt_resp_start(r, 206, len);
    if (rc == 0) {
        rc = pt_resp_write_file(r, fd, (off_t)rg->first, (off_t)len);
    }
    return rc != 0 ? rc : pt_resp_finish(r);
}

static int send_multipart(pt_request_t *r, int fd, const pt_range_t *v, size_t n,
                          const struct stat *st)
{
    int64_t size = (int64_t)st->st_size;
    const char *boundary = make_boundary(r, st);
    const char *type = r->content_type;
    int64_t total = pt_range_multipart_length(r->arena, boundary, type, v, n, size);
    r->content_type =
        pt_arena_printf(r->arena, "multipart/byteranges; boundary=%s", boundary);
    pt_table_unset(&r->headers_out, "Content-Type");
    int rc = pt_resp_start(r, 206, total);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *head = pt_range_part_head(r->arena, boundary, type, &v[i], size);
        rc = pt_resp_write(r, head, strlen(head));
        if (rc == 0) {
            rc = pt_resp_write_file(r, fd, (off_t)v[i].first,
                                    (off_t)(v[i].last - v[i].first + 1));
        }
    }
    if (rc == 0) {
        const char *tail = pt_range_multipart_tail(r->arena, boundary);
        rc = pt_resp_write(r, tail, strlen(tail));
    }
    return rc != 0 ? rc : pt_resp_finish(r);
}

/* Range (GET only, and only when If-Range allows). *handled false: send the whole file. */
static int try_ranges(pt_request_t *r, int fd, const struct stat *st, const char *etag,
                      bool *handled)
{
    *handled = false;
    const char *range = pt_table_get(&r->headers_in, "Range");
    if (range == NULL || r->method_id != PT_METHOD_GET || r->error_status != 0 ||
        !pt_range_if_range_ok(pt_table_get(&r->headers_in, "If-Range"), etag, st->st_mtime)) {
        return 0;
    }
    pt_range_t v[PT_RANGE_MAX];
    size_t n;
    pt_range_result_t res = pt_range_parse(range, (int64_t)st->st_size, v, &n);
    *handled = res != PT_RANGE_NONE;
    switch (res) {
    case PT_RANGE_UNSATISFIABLE:
        pt_table_set(&r->err_headers_out, "Content-Range",
                     pt_arena_printf(r->arena, "bytes */%" PRId64, (int64_t)st->st_size));
        return 416;
    case PT_RANGE_OK:
        return n == 1 ? send_single_range(r, fd, &v[0], (int64_t)st->st_size)
                      : send_multipart(r, fd, v, n, st);
    default:
        return 0;
    }
}

/* The base64 digest (md: SHA-1 for FileETag Digest, MD5 for ContentDigest) of the file, as
 * Apache's; NULL when the file cannot be read (logged). */
static const char *file_digest(pt_request_t *r, int fd, const struct stat *st,
                               const void *data, const EVP_MD *alg)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, alg, NULL) == 1;
    if (ok && data) {
        ok = EVP_DigestUpdate(ctx, data, (size_t)st->st_size) == 1;
    } else {
        char buf[16384];
        for (off_t off = 0; ok && off < st->st_size;) {
            ssize_t n = pread(fd, buf, sizeof buf, off);
            ok = n > 0 && EVP_DigestUpdate(ctx, buf, (size_t)n) == 1;
            off += n > 0 ? n : 0;
        }
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        pt_log_rerror(PT_LOG_ERR, r, "cannot read %s for its digest", r->filename);
        return NULL;
    }
    char *b64 = pt_arena_alloc(r->arena, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
    return b64;
}

/* ContentDigest On: Content-MD5 of the whole file, as Apache's default handler adds it when
 * no content filter (compression) may change the body. */
static void content_md5(pt_request_t *r, int fd, const struct stat *st, const void *data)
{
    const pt_compress_conf_t *cc = r->dir->compress;
    if (r->dir->core.content_digest != 2 ||
        (cc && (cc->nsmart_chain || pt_compress_chain(cc, r->filename, r->content_type).n)))
        return;
    const char *md5 = file_digest(r, fd, st, data, EVP_md5());
    if (md5)
        pt_table_set(&r->headers_out, "Content-MD5", md5);
}

/* The ETag FileETag asks for (Apache's ap_make_etag); NULL for None. Weak while the file is
 * fresh at the request's time (pt_etag_weak), judged by the time the request arrived, as
 * Apache's r->request_time: no clock read per request. A digest names the bytes themselves:
 * always strong, as Apache's. */
static const char *file_etag(pt_request_t *r, int fd, const struct stat *st, const void *data,
                             const pt_fcentry_t *fce)
{
    unsigned bits = pt_core_etag_bits(&r->dir->core);
    if (bits & PT_FETAG_NONE)
        return NULL;
    int64_t now_us = r->start_wall_us > 0 ? r->start_wall_us : pt_wall_us();
    const char *made = fce ? pt_fcentry_etag(fce, bits, now_us) : NULL;
    if (made)
        return made;
    if (bits & PT_FETAG_DIGEST) {
        const char *b64 = file_digest(r, fd, st, data, EVP_sha1());
        return b64 ? pt_arena_printf(r->arena, "\"%s\"", b64) : NULL;
    }
    int64_t mtime_us = (int64_t)st->st_mtim.tv_sec * 1000000 + st->st_mtim.tv_nsec / 1000;
    char *etag = pt_arena_alloc(r->arena, PT_ETAG_LEN);
    pt_etag_make_weak_bits(etag, PT_ETAG_LEN, bits, (uint64_t)st->st_ino,
                           (int64_t)st->st_size, mtime_us);
    return pt_etag_weak(mtime_us, now_us) ? etag : etag + 2;
}

/* fce: the file cache's entry of the file (st is its stat), else NULL; data: the whole file
 * in memory when the cache holds it, else NULL. */
static int serve_file(pt_request_t *r, int fd, const struct stat *st, const pt_fcentry_t *fce)
{
    int rc = method_allowed(r);
    if (rc != 0 || r->method_id == PT_METHOD_OPTIONS) {
        return rc;
    }
    const void *data = fce ? pt_fcentry_data(fce) : NULL;
    const char *etag = file_etag(r, fd, st, data, fce);
    /* A file dated in the future is announced as modified now, as Apache does; one dated
     * before the request began needs no clock, the request's start stands for now (Apache's
     * ap_rationalize_mtime, and its If-Modified-Since check against r->request_time). */
    time_t start = (time_t)(r->start_wall_us / 1000000);
    time_t now = r->start_wall_us > 0 && st->st_mtime < start ? start : time(NULL);
    const char *lm = fce ? pt_fcentry_last_modified(fce) : NULL;
    if (!lm) {
        char *buf = pt_arena_alloc(r->arena, PT_HTTP_DATE_LEN + 1);
        pt_http_date_format(buf, PT_HTTP_DATE_LEN + 1, PT_MIN(st->st_mtime, now));
        lm = buf;
    }
    pt_table_t *out = &r->headers_out;
    if (out->n == 0) { /* nothing to replace (the usual case): a set is an add */
        pt_table_add(out, "Last-Modified", lm);
        if (etag)
            pt_table_add(out, "ETag", etag);
        pt_table_add(out, "Accept-Ranges", "bytes");
    } else {
        pt_table_set(out, "Last-Modified", lm);
        if (etag)
            pt_table_set(out, "ETag", etag);
        pt_table_set(out, "Accept-Ranges", "bytes");
    }
    pt_compress_static_prepare(r);          /* AddEncoding; "-gzip" ETags match */
    pt_compress_offer_file(r, fd, st, data); /* the compressed-file cache may serve it */

    if (r->error_status == 0) { /* an ErrorDocument body is never "not modified" */
        int cond = pt_cond_evaluate(&r->headers_in, true, etag, st->st_mtime, now);
        if (cond == 304) {
            rc = pt_resp_start(r, 304, 0);
            return rc != 0 ? rc : pt_resp_finish(r);
        }
        if (cond != 0) {
            return cond;
        }
    }
    content_md5(r, fd, st, data); /* after the preconditions, on 206 too, as Apache */
    bool handled;
    rc = try_ranges(r, fd, st, etag, &handled);
    if (handled) {
        return rc;
    }
    rc = pt_resp_start(r, 200, (int64_t)st->st_size);
    if (rc == 0 && st->st_size > 0) {
        rc = data ? pt_resp_write(r, data, (size_t)st->st_size)
                  : pt_resp_write_file(r, fd, 0, st->st_size);
    }
    return rc != 0 ? rc : pt_resp_finish(r);
}

int pt_static_handler(pt_request_t *r)
{
    if (r->filename == NULL) {
        return 404;
    }
    if (r->path_info != NULL && r->dir->core.accept_path_info != 2) {
        return 404; /* AcceptPathInfo Default or Off: a static file takes no path info */
    }
    struct stat buf;
    const struct stat *st;
    int fd = -1;
    pt_fcentry_t *fce;
    int rc = open_mapped(r, &fd, &buf, &st, &fce);
    if (rc == FILE_MISSING) {
        return missing(r);
    }
    if (rc != 0) {
        return rc;
    }
    if (S_ISDIR(st->st_mode)) {
        close(fd);
        rc = serve_directory(r);
    } else if (S_ISREG(st->st_mode)) {
        pt_fcentry_t *sib = pt_compress_sibling(r, st); /* PrecompressedStatic */
        if (sib) {
            if (fce)
                pt_filecache_release(fce);
            else
                close(fd);
            fce = sib;
            fd = pt_fcentry_fd(sib);
            st = pt_fcentry_stat(sib);
        }
        rc = serve_file(r, fd, st, fce);
        if (fce)
            pt_filecache_release(fce);
        else
            close(fd);
    } else {
        close(fd);
        pt_log_rerror(PT_LOG_ERR, r, "not a regular file: %s", r->filename);
        rc = 403;
    }
    return rc;
}
