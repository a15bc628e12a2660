/* The differential test's generator (gen.h). Configurations use only directives that both
 * Apache 2.4 and portico implement, with the arguments both accept; requests aim at the fixed
 * tree through every mapping the configuration may set up (Alias, Redirect, symlinks, dot
 * segments, encodings). */
#include "gen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PICK(rng, arr) (arr)[dt_rng_below((rng), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))]

/* splitmix64: small, and the same sequence everywhere. */
static uint64_t rng_next(dt_rng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The seed goes through the mixer first: seeds n and n+1 must not give shifted copies of one
 * stream. */
void dt_rng_seed(dt_rng_t *r, uint64_t seed)
{
    r->s = seed;
    r->s = rng_next(r) ^ 0x2545F4914F6CDD1Dull;
}

uint32_t dt_rng_below(dt_rng_t *r, uint32_t n)
{
    return n ? (uint32_t)(rng_next(r) % n) : 0;
}

static bool chance(dt_rng_t *r, unsigned percent)
{
    return dt_rng_below(r, 100) < percent;
}

/* ---- The tree -------------------------------------------------------------------------- */

static const char *const tree_files[] = {
    "htdocs/index.html", "htdocs/a.txt", "htdocs/b.html", "htdocs/c.css", "htdocs/d.js",
    "htdocs/e.json", "htdocs/f.png", "htdocs/noext", "htdocs/.dot", "htdocs/.env",
    "htdocs/x.bak", "htdocs/sp ace.txt", "htdocs/sub/index.html", "htdocs/sub/page.html",
    "htdocs/sub/s.txt", "htdocs/sub/.env", "htdocs/sub/deep/f.txt", "htdocs/nolist/x.txt",
    "htdocs/nolist/y.bak", "htdocs/nolist/.z", "htdocs/priv/s.txt", "htdocs/priv/index.html",
    "htdocs/errors/404.html", "htdocs/errors/403.html", "outside/o.txt", "outside/index.html",
    "outside/private/s.txt", "outside/sub/x.txt", "htdocs/g.tar.gz", "htdocs/h.HTML",
    "htdocs/k.svg", "htdocs/n.html.bak", "htdocs/sub/t.md",
};
static const char *const tree_dirs[] = {
    "htdocs", "htdocs/sub", "htdocs/sub/deep", "htdocs/nolist", "htdocs/nolist/inner",
    "htdocs/priv", "htdocs/errors", "outside", "outside/private", "outside/sub",
};
static const struct {
    const char *path, *target;
} tree_links[] = {
    {"htdocs/link-file", "a.txt"},
    {"htdocs/link-dir", "sub"},
    {"htdocs/broken", "nothere"},
    {"htdocs/nolist/link-out", "../../outside/o.txt"},
    {"htdocs/other-link", "b.html"}, /* owned by nobody when the tree is made by root */
};

/* Each file's body names the file, so a response body tells which file was served; the
 * filler makes every file long enough for ranges. */
static int file_body(const char *rel, char *out, size_t cap)
{
    return snprintf(out, cap, "FILE %s\n%s", rel,
                    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij\n");
}

int dt_tree_create(const char *root)
{
    char p[1024], b[512];
    if (chmod(root, 0755) < 0)
        return -errno;
    for (size_t i = 0; i < sizeof(tree_dirs) / sizeof(tree_dirs[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", root, tree_dirs[i]);
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return -errno;
    }
    for (size_t i = 0; i < sizeof(tree_files) / sizeof(tree_files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", root, tree_files[i]);
        int n = file_body(tree_files[i], b, sizeof(b));
        FILE *f = fopen(p, "w");
        if (!f)
            return -errno;
        fwrite(b, 1, (size_t)n, f);
        fclose(f);
        chmod(p, 0644);
    }
    for (size_t i = 0; i < sizeof(tree_links) / sizeof(tree_links[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", root, tree_links[i].path);
        if (symlink(tree_links[i].target, p) < 0 && errno != EEXIST)
            return -errno;
        /* SymLinksIfOwnerMatch needs a link whose owner is not its target's. */
        if (getuid() == 0 && strcmp(tree_links[i].path, "htdocs/other-link") == 0 &&
            lchown(p, 65534, 65534) < 0)
            return -errno;
    }
    return 0;
}

const char *dt_tree_identify(const char *body, size_t len)
{
    char b[512];
    for (size_t i = 0; i < sizeof(tree_files) / sizeof(tree_files[0]); i++) {
        int n = file_body(tree_files[i], b, sizeof(b));
        if ((size_t)n == len && memcmp(b, body, len) == 0)
            return tree_files[i];
    }
    return NULL;
}

bool dt_tree_part_of(const char *rel, const char *crange, const char *body, size_t len)
{
    unsigned long first, last, total;
    char b[512];
    if (sscanf(crange, "bytes %lu-%lu/%lu", &first, &last, &total) != 3 || last < first)
        return false;
    int n = file_body(rel, b, sizeof(b));
    return n > 0 && (unsigned long)n == total && last < total && last - first + 1 == len &&
           memcmp(b + first, body, len) == 0;
}

/* ---- Configurations -------------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len;
    FILE *f;
} item_t;

static FILE *item_open(item_t *it)
{
    it->buf = NULL;
    it->len = 0;
    it->f = open_memstream(&it->buf, &it->len);
    return it->f;
}

static void add_item(dt_case_t *c, item_t *it)
{
    fclose(it->f);
    if (c->nitems < DT_MAX_ITEMS) {
        c->keep[c->nitems] = true;
        c->items[c->nitems++] = it->buf;
    } else {
        free(it->buf);
    }
}

/* An item from a table entry with at most one %s (the tree's root). */
static void add_line(dt_case_t *c, const char *fmt, const char *root)
{
    item_t it;
    FILE *f = item_open(&it);
    if (strstr(fmt, "%s"))
        fprintf(f, fmt, root);
    else
        fputs(fmt, f);
    add_item(c, &it);
}

/* One directive valid in any section (Location included). */
static void section_directive(dt_rng_t *r, FILE *f, unsigned n)
{
    static const char *const options[] = {
        "Options Indexes", "Options -Indexes", "Options +Indexes", "Options None",
        "Options -FollowSymLinks", "Options Indexes FollowSymLinks", "Options +Indexes -FollowSymLinks",
    };
    static const char *const index[] = {
        "DirectoryIndex page.html", "DirectoryIndex nothere.html index.html",
        "DirectoryIndex disabled", "DirectoryIndex nothere.html",
    };
    static const char *const header[] = {
        "Header set X-T1 \"s%u\"", "Header always set X-T2 \"a%u\"", "Header unset X-T1",
        "Header append X-T1 \"p%u\"", "Header always set X-T1 \"b%u\"",
    };
    static const char *const other[] = {
        "AddType text/x-gen .txt", "AddType application/x-bak .bak",
        "FallbackResource /sub/page.html", "FallbackResource disabled",
        "ErrorDocument 404 /errors/404.html", "ErrorDocument 403 /errors/403.html",
        "ErrorDocument 404 http://example.com/nf", "ErrorDocument 403 \"denied here\"",
        "ForceType text/plain", "AddDefaultCharset utf-8", "ErrorDocument 404 \"not here\"",
        "Options SymLinksIfOwnerMatch",
    };
    static const char *const access[] = {
        "Require method GET HEAD",
        "<RequireAny>\n        Require ip 10.1.2.3\n        Require method GET\n    </RequireAny>",
        ("<RequireAll>\n        Require all granted\n        Require not ip 127.0.0.1\n"
         "    </RequireAll>"),
        "Require ip 127.0.0.1",
    };
    /* mod_alias meets a <Location>'s one-argument form (and "Redirect 410") before the
     * access checks, every other section's Redirect after them. The forms with a path leave
     * the fallback files (.html) alone: Apache reads the Location of a fallback redirected in
     * a DirectoryIndex subrequest from a freed pool (mod_dir's fixup_dflt destroys the
     * subrequest whose headers it copied), a garbled header or a 500. */
    static const char *const redirect[] = {
        "Redirect http://example.com/loc",
        "Redirect permanent http://example.com/p",
        "Redirect 410",
        "Redirect /a.txt http://example.com/pa",
        "Redirect permanent /sub/deep http://example.com/ps",
        "RedirectMatch \"\\.txt$\" http://example.com/rm",
        "Redirect gone /sub/s.txt",
    };
    char line[128];
    switch (dt_rng_below(r, 7)) {
    case 0:
        fprintf(f, "    %s\n", PICK(r, access));
        break;
    case 1:
        fprintf(f, "    Require all %s\n", chance(r, 50) ? "granted" : "denied");
        break;
    case 2:
        fprintf(f, "    %s\n", PICK(r, options));
        break;
    case 3:
        fprintf(f, "    %s\n", PICK(r, index));
        break;
    case 4:
        snprintf(line, sizeof(line), PICK(r, header), n);
        fprintf(f, "    %s\n", line);
        break;
    case 5:
        fprintf(f, "    %s\n", PICK(r, other));
        break;
    default:
        fprintf(f, "    %s\n", PICK(r, redirect));
        break;
    }
}

static void section_body(dt_rng_t *r, FILE *f, unsigned n)
{
    unsigned k = 1 + dt_rng_below(r, 3);
    for (unsigned i = 0; i < k; i++)
        section_directive(r, f, n * 10 + i);
}

static void files_section(dt_rng_t *r, FILE *f, const char *indent, unsigned n)
{
    static const char *const files[] = {"a.txt", "*.bak", ".env", "index.html", "s.txt",
                                        "?.txt", "page.html"};
    static const char *const files_re[] = {"\\.(bak|env)$", "^\\.", "\\.txt$", "^(a|b)\\."};
    bool re = chance(r, 40);
    fprintf(f, "%s<%s \"%s\">\n", indent, re ? "FilesMatch" : "Files",
            re ? PICK(r, files_re) : PICK(r, files));
    section_body(r, f, n);
    fprintf(f, "%s</%s>\n", indent, re ? "FilesMatch" : "Files");
}

static void random_section(dt_case_t *c, dt_rng_t *r, const char *root, unsigned n)
{
    static const char *const dirs[] = {
        "htdocs", "htdocs/sub", "htdocs/priv", "htdocs/nolist", "htdocs/sub/deep",
        "outside", "outside/private", "htdocs/*", "htdocs/s*", "htdocs/missing",
    };
    static const char *const dirs_re[] = {"^%s/htdocs/(priv|nolist)", "/(sub|priv)$",
                                          "^%s/outside"};
    static const char *const locs[] = {"/sub", "/priv/", "/a.txt", "/al", "/nolist",
                                       "/r", "/sub/deep"};
    static const char *const locs_re[] = {"^/sub/.*\\.html$", "\\.txt$", "^/(priv|al)"};
    item_t it;
    FILE *f = item_open(&it);
    unsigned kind = dt_rng_below(r, 10);
    if (kind < 4) {
        fprintf(f, "<Directory \"%s/%s\">\n", root, PICK(r, dirs));
    } else if (kind < 5) {
        fprintf(f, "<DirectoryMatch \"");
        fprintf(f, PICK(r, dirs_re), root);
        fprintf(f, "\">\n");
    } else if (kind < 7) {
        files_section(r, f, "", n);
        add_item(c, &it);
        return;
    } else if (kind < 9) {
        fprintf(f, "<Location \"%s\">\n", PICK(r, locs));
    } else {
        fprintf(f, "<LocationMatch \"%s\">\n", PICK(r, locs_re));
    }
    bool loc = kind >= 7;
    section_body(r, f, n);
    if (!loc && chance(r, 35))
        files_section(r, f, "    ", n + 100);
    fprintf(f, "</%s>\n", kind < 4 ? "Directory" : kind < 5 ? "DirectoryMatch"
                          : kind < 9 ? "Location" : "LocationMatch");
    add_item(c, &it);
}

static void server_items(dt_case_t *c, dt_rng_t *r, const char *root)
{
    static const char *const alias[] = {
        "Alias \"/al\" \"%s/outside\"", "Alias \"/al/\" \"%s/outside/\"",
        "Alias \"/al\" \"%s/outside/\"", "Alias \"/al/o.txt\" \"%s/outside/o.txt\"",
        "AliasMatch \"^/am/(.*)$\" \"%s/outside/$1\"", "AliasMatch \"^/am(.*)$\" \"%s/outside/$1\"",
    };
    static const char *const misc[] = {
        "Redirect /r1 http://example.com/x", "Redirect permanent /r2 /sub/",
        "Redirect gone /gone", "Redirect 303 /r3 http://example.com/",
        "RedirectMatch \"^/rm/(.*)\\.html$\" \"/sub/$1.html\"",
        "RedirectMatch 301 \"^/rm2(.*)\" \"http://example.com$1\"",
        "ErrorDocument 404 /errors/404.html", "ErrorDocument 403 /errors/403.html",
        "Options -FollowSymLinks", "Options +Indexes", "DirectoryIndex page.html index.html",
        "Header always set X-S \"srv\"", "Header set X-S \"ok\"",
        "FallbackResource /index.html", "AddType text/x-gen .txt",
    };
    if (chance(r, 70))
        add_line(c, "<Directory \"/\">\n    Require all denied\n</Directory>", root);
    if (chance(r, 95))
        add_line(c, "<Directory \"%s/htdocs\">\n    Require all granted\n</Directory>", root);
    if (chance(r, 80))
        add_line(c, "<Directory \"%s/outside\">\n    Require all granted\n</Directory>", root);
    if (chance(r, 60))
        add_line(c, PICK(r, alias), root);
    if (chance(r, 30))
        add_line(c, PICK(r, alias), root);
    unsigned k = dt_rng_below(r, 4);
    for (unsigned i = 0; i < k; i++)
        add_line(c, PICK(r, misc), root);
}

/* ---- Requests -------------------------------------------------------------------------- */

static const char *const paths[] = {
    "/", "/index.html", "/a.txt", "/b.html", "/c.css", "/d.js", "/e.json", "/f.png", "/noext",
    "/.dot", "/.env", "/x.bak", "/sp%20ace.txt", "/sub", "/sub/", "/sub/page.html",
    "/sub/s.txt", "/sub/.env", "/sub/deep/", "/sub/deep/f.txt", "/nolist/", "/nolist",
    "/nolist/x.txt", "/nolist/y.bak", "/nolist/.z", "/nolist/link-out", "/nolist/inner/",
    "/priv/", "/priv/s.txt", "/link-file", "/link-dir/", "/link-dir/page.html", "/broken",
    "/missing", "/missing/a.txt", "/sub/nothere/s.txt", "/al", "/al/", "/al/o.txt",
    "/al/private/s.txt", "/al/sub/", "/am/o.txt", "/am/private/s.txt", "/am/", "/r1",
    "/r1/x", "/r2/y", "/r3", "/gone", "/gone/x", "/rm/page.html", "/rm2/z?k=v", "/r",
    "/errors/404.html", "/a.txt/", "/sub//page.html", "/%61.txt", "/sub/%70age.html",
    "/a.txt?x=1", "/sub?q=1", "/sub/../a.txt", "/./a.txt", "/sub/./s.txt",
    "/sub/%2e%2e/a.txt", "/../a.txt", "/sub/../../a.txt", "/al/../a.txt", "/index.html/x",
    "/g.tar.gz", "/h.HTML", "/k.svg", "/n.html.bak", "/sub/t.md", "/sub/.", "/sub/deep/..",
    "/other-link",
};

/* Variations applied to a base path, to reach the same file by other spellings. */
static void mutate(dt_rng_t *r, char *t, size_t cap)
{
    size_t len = strlen(t);
    switch (dt_rng_below(r, 8)) {
    case 0:
        if (!strchr(t, '?'))
            snprintf(t + len, cap - len, "?q=%u", dt_rng_below(r, 100));
        break;
    case 1:
        if (t[len - 1] != '/' && !strchr(t, '?'))
            snprintf(t + len, cap - len, "/");
        break;
    case 2: {
        /* percent-encode one letter */
        size_t i = 1 + dt_rng_below(r, (uint32_t)len);
        if (i < len && t[i] >= 'a' && t[i] <= 'z' && len + 3 < cap) {
            char rest[DT_TARGET_MAX];
            snprintf(rest, sizeof(rest), "%s", t + i + 1);
            snprintf(t + i, cap - i, "%%%02X%s", (unsigned char)t[i], rest);
        }
        break;
    }
    case 3:
        if (len + 7 < cap) {
            char rest[DT_TARGET_MAX];
            snprintf(rest, sizeof(rest), "%s", t);
            snprintf(t, cap, "/sub/..%s", rest);
        }
        break;
    default:
        break;
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Tags from the decoded path's segments (the query left out). */
static unsigned path_tags(const char *target)
{
    char d[DT_TARGET_MAX];
    size_t o = 0;
    for (const char *p = target; *p && *p != '?' && o + 1 < sizeof(d); p++) {
        if (p[0] == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            d[o++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
        } else {
            d[o++] = *p;
        }
    }
    d[o] = '\0';
    unsigned tags = 0;
    int depth = 0;
    for (char *save, *seg = strtok_r(d, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, "..") == 0 && --depth < 0)
            tags |= DT_TAG_ABOVE_ROOT;
        else if (strcmp(seg, ".") != 0 && strcmp(seg, "..") != 0)
            depth++;
        if (strcmp(seg, "broken") == 0)
            tags |= DT_TAG_BROKEN_LINK;
    }
    return tags;
}

/* Every file of the tree is shorter than 1000 bytes. */
unsigned dt_req_tags(const char *target, const char *range)
{
    unsigned tags = path_tags(target);
    unsigned long first;
    if (range && (strcmp(range, "bytes=-0") == 0 ||
                  (sscanf(range, "bytes=%lu-", &first) == 1 && first >= 1000)))
        tags |= DT_TAG_RANGE_BAD;
    return tags;
}

static void random_request(dt_rng_t *r, dt_req_t *q)
{
    memset(q, 0, sizeof(*q));
    const char *p = PICK(r, paths);
    snprintf(q->target, sizeof(q->target), "%s", p);
    if (chance(r, 30))
        mutate(r, q->target, sizeof(q->target));
    unsigned m = dt_rng_below(r, 20);
    q->method = m < 14 ? "GET" : m < 17 ? "HEAD" : m < 19 ? "POST" : "OPTIONS";
    if (strcmp(q->method, "GET") == 0 && chance(r, 10)) {
        /* the last two satisfy no file: past the end, and an empty suffix (RFC 9110 14.1.1) */
        static const char *const ranges[] = {"bytes=2-9", "bytes=50-", "bytes=5000-6000",
                                             "bytes=-0"};
        q->range = ranges[dt_rng_below(r, 4)];
    }
    q->tags = dt_req_tags(q->target, q->range);
}

void dt_case_generate(dt_case_t *c, unsigned seed, const char *root, int nreqs)
{
    dt_rng_t r;
    memset(c, 0, sizeof(*c));
    c->seed = seed;
    dt_rng_seed(&r, seed);
    server_items(c, &r, root);
    unsigned k = dt_rng_below(&r, 7);
    for (unsigned i = 0; i < k; i++)
        random_section(c, &r, root, i + 1);
    if (nreqs > DT_MAX_REQS)
        nreqs = DT_MAX_REQS;
    bool fallback = false;
    for (int i = 0; i < c->nitems; i++)
        fallback = fallback || strstr(c->items[i], "FallbackResource /") != NULL;
    for (int i = 0; i < nreqs; i++) {
        random_request(&r, &c->reqs[c->nreqs]);
        c->reqs[c->nreqs++].tags |= fallback ? DT_TAG_FALLBACK : 0;
    }
}

void dt_case_free(dt_case_t *c)
{
    for (int i = 0; i < c->nitems; i++)
        free(c->items[i]);
    c->nitems = 0;
}

char *dt_case_config(const dt_case_t *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    for (int i = 0; i < c->nitems; i++)
        if (c->keep[i])
            fprintf(f, "%s\n", c->items[i]);
    fclose(f);
    return buf;
}
