/* Chunked request bodies for php-fpm, which needs CONTENT_LENGTH before the body: spooled to
 * an unlinked temporary file, each bounded by LimitRequestBody (the body reader) and all of
 * them together by ProxyFCGISpoolLimit, server-wide. Each child counts the bytes it holds in
 * its scoreboard slot; a reservation adds first and checks the sum of the live children's
 * counts after, so that racing children can refuse one another but never pass the bound. */
#include "fcgi/exchange.h"

#include "log.h"
#include "mpm/scoreboard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Without a scoreboard slot (unit tests), the bound holds for this process. */
static _Atomic int64_t process_bytes;

static int64_t spool_limit(const pt_request_t *r)
{
    return r->cfg->fcgi_spool_limit > 0 ? r->cfg->fcgi_spool_limit : PT_FCGI_SPOOL_LIMIT;
}

/* This child's counter: its scoreboard slot's, found by pid (the slot is reset when the
 * parent starts a child in it, so a crashed child's bytes do not stay counted). */
static _Atomic int64_t *own_counter(const pt_scoreboard_t *sb)
{
    pid_t me = getpid();
    for (int i = 0; sb && i < sb->server_limit; i++)
        if (atomic_load(&sb->procs[i].pid) == me)
            return &sb->procs[i].fcgi_spool_bytes;
    return &process_bytes;
}

static int64_t total_bytes(const pt_scoreboard_t *sb, _Atomic int64_t *own)
{
    if (own == &process_bytes)
        return atomic_load(&process_bytes);
    int64_t t = 0;
    for (int i = 0; i < sb->server_limit; i++)
        if (atomic_load(&sb->procs[i].pid) != 0)
            t += atomic_load(&sb->procs[i].fcgi_spool_bytes);
    return t;
}

/* Takes n more bytes of the bound for sp: 0, or the status to answer (logged). */
static int reserve(pt_request_t *r, pt_fcgi_spool_t *sp, int64_t n)
{
    int64_t limit = spool_limit(r);
    if (sp->reserved + n > limit) {
        pt_log_rerror(PT_LOG_ERR, r, "chunked request body over %lld bytes refused: the FastCGI "
                      "spool holds at most that much (ProxyFCGISpoolLimit)", (long long)limit);
        return 413;
    }
    pt_scoreboard_t *sb = pt_scoreboard_get();
    if (!sp->counter)
        sp->counter = own_counter(sb);
    atomic_fetch_add(sp->counter, n);
    if (total_bytes(sb, sp->counter) > limit) {
        atomic_fetch_sub(sp->counter, n);
        pt_log_rerror(PT_LOG_ERR, r, "FastCGI spool full: chunked request bodies being spooled "
                      "hold the %lld bytes of ProxyFCGISpoolLimit; refused with 503",
                      (long long)limit);
        return 503;
    }
    sp->reserved += n;
    return 0;
}

static int spool_open(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    char path[512];
    snprintf(path, sizeof(path), "%s/portico-body.XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

/* A write error: a full disk is the spool's space running out too (503). */
static int write_failed(pt_request_t *r, int err)
{
    pt_log_rerror(PT_LOG_ERR, r, "cannot spool the request body for FastCGI: %s",
                  err ? strerror(err) : "short write");
    return err == ENOSPC || err == EDQUOT ? 503 : 500;
}

int pt_fcgi_spool_body(pt_request_t *r, unsigned char *buf, size_t size, pt_fcgi_spool_t *sp)
{
    memset(sp, 0, sizeof(*sp));
    sp->fd = spool_open();
    if (sp->fd < 0) {
        pt_log_rerror(PT_LOG_ERR, r, "cannot create a temporary file for the request body: %s",
                      strerror(errno));
        return 500;
    }
    for (;;) {
        int st = 400;
        long n = pt_req_read_body(r, buf, size, &st);
        if (n == 0)
            return 0;
        if (n < 0)
            return st;
        if ((st = reserve(r, sp, n)) != 0) {
            r->keepalive = false; /* the rest of the body is not read */
            return st;
        }
        ssize_t w = write(sp->fd, buf, (size_t)n);
        if (w != n) {
            r->keepalive = false;
            return write_failed(r, w < 0 ? errno : 0);
        }
        sp->len += n;
    }
}

void pt_fcgi_spool_close(pt_fcgi_spool_t *sp)
{
    if (sp->fd >= 0)
        close(sp->fd);
    sp->fd = -1;
    if (sp->counter && sp->reserved)
        atomic_fetch_sub(sp->counter, sp->reserved);
    sp->reserved = 0;
}
