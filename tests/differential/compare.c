/* Comparing two answers (compare.h). Compared: the status; Location (own host:port
 * normalised); Content-Type of 2xx answers; the generated X-T1, X-T2 and X-S fields; and
 * the body where it is a file of the tree (static files, local ErrorDocuments) or a 2xx
 * GET. Not compared: error page bodies and listing formats, which are each server's own. */
#include "compare.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const dt_header_names[DT_NHDR] = {"X-T1", "X-T2", "X-S"};

/* A rule excuses a whole answer pair: portico's answer is the one the README promises. */
typedef struct {
    const char *id;
    bool (*applies)(const dt_req_t *q, const dt_answer_t *a, const dt_answer_t *p);
} rule_t;

static bool is_2xx(int s)
{
    return s >= 200 && s < 300;
}

/* The target names a directory: its path ends in "/", "/." or "/..". */
static bool dir_target(const dt_req_t *q)
{
    size_t n = strcspn(q->target, "?");
    const char *t = q->target;
    return (n >= 1 && t[n - 1] == '/') || (n >= 2 && strncmp(t + n - 2, "/.", 2) == 0) ||
           (n >= 3 && strncmp(t + n - 3, "/..", 3) == 0);
}

/* Apache's default handler serves a file to POST; for a directory without an index to
 * serve, Apache answers what mod_dir's index subrequests (made as GET) found: 404 (or the
 * 404 ErrorDocument's redirect), or 403 when a candidate's URL is denied. portico's static
 * handler answers 405 with Allow. (A POST to a directory that is itself denied gets 403 from
 * both: access is checked first.) */
static bool post_static_405(const dt_req_t *q, const dt_answer_t *a, const dt_answer_t *p)
{
    bool dir = dir_target(q);
    bool no_index = a->status == 404 || a->status == 403 ||
                    (a->status == 302 && strstr(a->location, "/nf"));
    return strcmp(q->method, "POST") == 0 && p->status == 405 &&
           (is_2xx(a->status) || (dir && no_index));
}

static bool is_fallback_file(const char *f);

/* mod_dir checks an index candidate's access in a GET subrequest and then serves it to the
 * request, whatever its method: with <Files index.html> Require method GET HEAD, POST /sub/
 * gets index.html from Apache. portico checks the file it serves against the request as it
 * is: 403. The same for FallbackResource (seeds 24544, 26022): Apache's GET subrequest
 * passes and serves the fallback, or meets a Redirect of its sections. */
static bool index_checked_as_served(const dt_req_t *q, const dt_answer_t *a,
                                    const dt_answer_t *p)
{
    if (strcmp(q->method, "POST") != 0 || p->status != 403)
        return false;
    bool fallback =
        (q->tags & DT_TAG_FALLBACK) &&
        ((is_2xx(a->status) && is_fallback_file(a->file)) || (a->status >= 300 && a->status < 400));
    return (dir_target(q) && is_2xx(a->status)) || fallback;
}

static bool options_answer(const dt_req_t *q, const dt_answer_t *a, const dt_answer_t *p)
{
    (void)a;
    return strcmp(q->method, "OPTIONS") == 0 && p->status != 0;
}

/* RFC 9110 14.1.1 and 15.5.17: a range set that no range of the file satisfies (a start past
 * the end, a suffix of length 0) gets 416 with "Content-Range: bytes *" "/length". Apache
 * sends 416 without Content-Range, and 200 for bytes=-0. */
static bool range_416(const dt_req_t *q, const dt_answer_t *a, const dt_answer_t *p)
{
    return (q->tags & DT_TAG_RANGE_BAD) && p->status == 416 &&
           strncmp(p->crange, "bytes */", 8) == 0 && (a->status == 200 || a->status == 416);
}

/* portico's listings are its own HTML and ignore Range (RFC 9110 14.2: a server MAY);
 * Apache's byte-range filter cuts its listing (206) or refuses the range (416). */
static bool listing_range(const dt_req_t *q, const dt_answer_t *a, const dt_answer_t *p)
{
    return q->range && p->status == 200 && p->listing && (a->status == 206 || a->status == 416);
}

static bool is_fallback_file(const char *f)
{
    return f && (strcmp(f, "htdocs/index.html") == 0 || strcmp(f, "htdocs/sub/page.html") == 0);
}

/* The fallback file whose part a 206 answer is (see dt_tree_part_of), or NULL. */
static const char *fallback_part(const dt_answer_t *x)
{
    static const char *const files[] = {"htdocs/index.html", "htdocs/sub/page.html"};
    for (size_t i = 0; x->status == 206 && x->body && i < 2; i++)
        if (dt_tree_part_of(files[i], x->crange, x->body, x->body_len))
            return files[i];
    return NULL;
}

/* Apache runs FallbackResource inside mod_dir's subrequest for a DirectoryIndex candidate:
 * "DirectoryIndex page.html index.html" with a FallbackResource serves the fallback for
 * /priv/ although /priv/index.html exists. portico tries the candidates as files and uses
 * the fallback only when the directory has none of them. With a Range, both answer 206
 * with a part of the file each serves: Apache's is a part of the fallback file, portico's
 * is not. */
static bool fallback_not_for_index(const dt_req_t *q, const dt_answer_t *a,
                                   const dt_answer_t *p)
{
    if (!dir_target(q) || !(q->tags & DT_TAG_FALLBACK))
        return false;
    const char *part = fallback_part(a);
    if (part)
        return (p->status == 206 && !dt_tree_part_of(part, p->crange, p->body, p->body_len)) ||
               p->status == 403;
    /* Seed 27320: the fallback Apache runs for the first candidate meets a Redirect of the
     * fallback's sections (the redirect is the answer), where portico serves the index. */
    if (a->status >= 300 && a->status < 400 && strncmp(a->location, "http://example.com/", 19) == 0)
        return (p->status == 200 && (!p->file || !is_fallback_file(p->file) || p->listing)) ||
               p->status == 403;
    /* HEAD has no body to name the file: Apache's 200 (the fallback) against portico's 200
     * (the index, with its own sections' fields) or 403 (no index, no listing) is the same
     * case as GET's. */
    if (strcmp(q->method, "HEAD") == 0)
        return a->status == 200 && (p->status == 200 || p->status == 403);
    /* The converse (seeds 21775, 27206): the fallback is disabled only where a candidate's
     * name matches (<LocationMatch \.html$>), so Apache's subrequest finds nothing and the
     * directory is refused or listed, where portico serves the directory's own fallback. */
    if ((a->status == 403 || (a->status == 200 && a->listing)) && p->status == 200 &&
        is_fallback_file(p->file))
        return true;
    /* portico's answer: the index, a listing (Options Indexes, no index file), or 403. */
    return a->status == 200 && is_fallback_file(a->file) &&
           ((p->status == 200 && ((p->file && p->file != a->file) || p->listing)) ||
            p->status == 403);
}

/* Apache answers 403 for a symlink whose target is missing (its symlink check fails to stat
 * the target); portico treats it as a missing file: 404, or what a missing file gets
 * (FallbackResource, a 404 ErrorDocument). When both say 403 the causes still differ
 * (Apache's walk failed before the sections were merged, so its ErrorDocument 403 is
 * authorized again and may be refused; portico's Require refused it, and the ErrorDocument
 * among the same sections is sent), so the pages may differ. */
static bool broken_symlink_404(const dt_req_t *q, const dt_answer_t *a, const dt_answer_t *p)
{
    return (q->tags & DT_TAG_BROKEN_LINK) && a->status == 403 && p->status != 0;
}

/* Apache skips the access check of a local ErrorDocument's internal redirect when the
 * document's merged config is the very object of the failed request (its walk cache gives
 * the same sections the same merge): a 403 document under the section that denied the
 * request is served from there, and refused (default page) under any other denying section.
 * portico checks the document's access as any request's: its default 403 page. */
static bool errordoc_access_checked(const dt_req_t *q, const dt_answer_t *a,
                                    const dt_answer_t *p)
{
    static const char dflt[] = "text/html; charset=iso-8859-1";
    if (a->status != 403 || p->status != 403 || p->file)
        return false;
    if (a->file)
        return strncmp(a->file, "htdocs/errors/", 14) == 0;
    /* HEAD has no body to tell: Apache's own error page is always of type dflt, a
     * document served in its place is not (the test's pages are text/html). */
    return strcmp(q->method, "HEAD") == 0 && strcmp(a->ctype, dflt) != 0 &&
           strncmp(a->ctype, "text/html", 9) == 0 && strcmp(p->ctype, dflt) == 0;
}

static const rule_t rules[] = {
    {"post-static-405", post_static_405},
    {"options", options_answer},
    {"range-416", range_416},
    {"broken-symlink-404", broken_symlink_404},
    {"own-listing-format", listing_range},
    {"fallback-not-for-index", fallback_not_for_index},
    {"index-checked-as-served", index_checked_as_served},
    {"errordoc-access-checked", errordoc_access_checked},
};

/* Applied per field (body and Content-Type of a listing), not per pair. */
#define LISTING_RULE "own-listing-format"

const char *const dt_rule_ids[] = {"post-static-405", "options", "range-416",
                                   "broken-symlink-404", LISTING_RULE,
                                   "fallback-not-for-index", "index-checked-as-served",
                                   "errordoc-access-checked", NULL};

static int add(dt_diff_t *out, int n, int max, const char *detail, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int add(dt_diff_t *out, int n, int max, const char *detail, const char *fmt, ...)
{
    if (n >= max)
        return n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out[n].cls, sizeof(out[n].cls), fmt, ap);
    va_end(ap);
    snprintf(out[n].detail, sizeof(out[n].detail), "%s", detail);
    return n + 1;
}

void dt_answer_describe(const dt_answer_t *x, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "%d", x->status);
    if (x->location[0] && o < cap)
        o += (size_t)snprintf(buf + o, cap - o, " Location=%s", x->location);
    if (x->ctype[0] && o < cap)
        o += (size_t)snprintf(buf + o, cap - o, " type=%s", x->ctype);
    if (x->crange[0] && o < cap)
        o += (size_t)snprintf(buf + o, cap - o, " Content-Range=%s", x->crange);
    for (int i = 0; i < DT_NHDR && o < cap; i++)
        if (x->has_hdr[i])
            o += (size_t)snprintf(buf + o, cap - o, " %s=%s", dt_header_names[i], x->hdr[i]);
    if (x->entries && o < cap) {
        o += (size_t)snprintf(buf + o, cap - o, " entries=");
        for (const char *e = x->entries; *e && o + 1 < cap; e++)
            buf[o++] = *e == '\n' ? ',' : *e;
        buf[o] = '\0';
    }
    if (o < cap)
        snprintf(buf + o, cap - o, " body=%s", x->listing ? "(listing)"
                                               : x->file ? x->file
                                               : x->body_len ? "(other)" : "(empty)");
}

/* How two Locations differ, so that one cause makes one class. */
static const char *location_kind(const dt_answer_t *a, const dt_answer_t *p)
{
    const char *self = "http://SELF";
    if (strncmp(a->location, self, strlen(self)) == 0 && p->location[0] == '/' &&
        strcmp(a->location + strlen(self), p->location) == 0)
        return "relative in portico, absolute in Apache";
    const char *qa = strchr(a->location, '?');
    if (qa && !strchr(p->location, '?') && strncmp(a->location, p->location,
                                                    (size_t)(qa - a->location)) == 0)
        return "without Apache's query string";
    return "differs";
}

static bool bodies_differ(const dt_req_t *q, const dt_answer_t *a, const dt_answer_t *p)
{
    if (a->file || p->file)
        return a->file != p->file;
    bool get2xx = strcmp(q->method, "GET") == 0 && is_2xx(a->status) && a->status == p->status;
    return get2xx && (a->body_len != p->body_len || memcmp(a->body, p->body, a->body_len) != 0);
}

int dt_compare(const dt_req_t *q, const dt_answer_t *a, const dt_answer_t *p, dt_diff_t *out,
               int max, const char **rule)
{
    char da[280], dp[280], detail[600];
    dt_answer_describe(a, da, sizeof(da));
    dt_answer_describe(p, dp, sizeof(dp));
    snprintf(detail, sizeof(detail), "apache %s | portico %s", da, dp);
    *rule = NULL;
    int n = 0;
    if (p->status == 0)
        return add(out, n, max, detail, "%s: portico gave no answer", q->method);
    /* One class for every answer to a path that climbs above the root, whatever portico's
     * status: the cause is one. */
    if ((q->tags & DT_TAG_ABOVE_ROOT) && a->status != p->status)
        return add(out, n, max, detail, "dot-segments above the root: apache %d, portico not",
                   a->status);
    if (a->status != p->status)
        n = add(out, n, max, detail, "%s: status apache %d, portico %d", q->method, a->status,
                p->status);
    else if (strcmp(a->location, p->location) != 0)
        n = add(out, n, max, detail, "Location %s (status %d)", location_kind(a, p), a->status);
    /* Both listings: their formats differ on purpose. A listing against a file is a real
     * difference (one server listed what the other served). */
    bool listing = a->listing && p->listing;
    if (a->status == p->status && is_2xx(a->status) && strcmp(a->ctype, p->ctype) != 0) {
        if (listing)
            *rule = LISTING_RULE;
        else
            n = add(out, n, max, detail, "Content-Type apache '%s', portico '%s'", a->ctype,
                    p->ctype);
    }
    if (a->status == p->status && strcmp(a->crange, p->crange) != 0)
        n = add(out, n, max, detail, "Content-Range differs (status %d)", a->status);
    for (int i = 0; i < DT_NHDR && a->status == p->status; i++)
        if (a->has_hdr[i] != p->has_hdr[i] || strcmp(a->hdr[i], p->hdr[i]) != 0)
            n = add(out, n, max, detail, "header %s %s (status %d)", dt_header_names[i],
                    a->has_hdr[i] && p->has_hdr[i] ? "differs"
                    : a->has_hdr[i]               ? "missing in portico"
                                                  : "only in portico",
                    a->status);
    /* The formats differ on purpose, the entries must not: a listing shows what a request
     * for each entry would get (mod_autoindex hides what is denied). */
    if (a->status == p->status && a->entries && p->entries && strcmp(a->entries, p->entries))
        n = add(out, n, max, detail, "listing entries differ");
    if (a->status == p->status && bodies_differ(q, a, p)) {
        if (listing)
            *rule = LISTING_RULE;
        else
            n = add(out, n, max, detail, "body differs (status %d)", a->status);
    }
    if (n > 0) {
        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
            if (rules[i].applies(q, a, p)) {
                *rule = rules[i].id;
                return 0;
            }
        }
    }
    return n;
}

void dt_answer_free(dt_answer_t *a)
{
    free(a->body);
    free(a->head);
    free(a->entries);
    a->body = a->head = a->entries = NULL;
}
