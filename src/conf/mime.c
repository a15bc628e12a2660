/* MIME types by extension: the TypesConfig file (or a built-in table) loaded once into an
 * open-addressing hash keyed by the lower-cased extension, so the per-request lookup is a
 * hash and a compare; plus mod_mime's per-directory rules (ForceType, AddType) and
 * AddDefaultCharset. */
#include "mime.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIME_EXT_MAX 64 /* longer extensions are not types anyone maps */

typedef struct {
    const char *ext; /* lower case; NULL marks an empty slot */
    const char *type;
} mime_slot_t;

struct pt_mime {
    mime_slot_t *slots;
    size_t mask; /* slots - 1; a power of two minus one */
    size_t count;
    uint64_t serial; /* this table's number among those made: see last_type */
};

/* Tables get numbers in the order they are made (one per configuration generation). */
static atomic_uint_fast64_t mime_serial;

/* Each thread's last answer of a table (a server's files mostly share a few extensions):
 * the table's serial, the extension as asked, the type found (or NULL). A table is never
 * changed once loaded, and no two tables made share a serial (the first is 1, so the
 * zeroed entry matches none): one of a later generation, even at the same address, has
 * another serial, so an answer is never taken from a table that is gone or from another. */
#define LAST_EXT_MAX 15
static _Thread_local struct {
    uint64_t serial;
    size_t n;
    char ext[LAST_EXT_MAX];
    const char *type;
} last_type;

static const char *const builtin[][2] = {
    {"html", "text/html"}, {"htm", "text/html"}, {"shtml", "text/html"},
    {"css", "text/css"}, {"js", "text/javascript"}, {"mjs", "text/javascript"},
    {"json", "application/json"}, {"jsonld", "application/ld+json"},
    {"xml", "application/xml"}, {"xsl", "application/xml"}, {"txt", "text/plain"},
    {"text", "text/plain"}, {"log", "text/plain"}, {"md", "text/markdown"},
    {"csv", "text/csv"}, {"tsv", "text/tab-separated-values"}, {"ics", "text/calendar"},
    {"vtt", "text/vtt"}, {"png", "image/png"}, {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"}, {"gif", "image/gif"}, {"svg", "image/svg+xml"},
    {"svgz", "image/svg+xml"}, {"webp", "image/webp"}, {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"}, {"bmp", "image/bmp"}, {"tif", "image/tiff"},
    {"tiff", "image/tiff"}, {"woff", "font/woff"}, {"woff2", "font/woff2"},
    {"ttf", "font/ttf"}, {"otf", "font/otf"}, {"eot", "application/vnd.ms-fontobject"},
    {"pdf", "application/pdf"}, {"zip", "application/zip"}, {"gz", "application/gzip"},
    {"tgz", "application/gzip"}, {"bz2", "application/x-bzip2"}, {"xz", "application/x-xz"},
    {"zst", "application/zstd"}, {"tar", "application/x-tar"},
    {"7z", "application/x-7z-compressed"}, {"rar", "application/vnd.rar"},
    {"mp4", "video/mp4"}, {"m4v", "video/mp4"}, {"webm", "video/webm"},
    {"ogv", "video/ogg"}, {"mov", "video/quicktime"}, {"avi", "video/x-msvideo"},
    {"mpeg", "video/mpeg"}, {"mp3", "audio/mpeg"}, {"ogg", "audio/ogg"},
    {"oga", "audio/ogg"}, {"opus", "audio/ogg"}, {"wav", "audio/wav"},
    {"flac", "audio/flac"}, {"m4a", "audio/mp4"}, {"aac", "audio/aac"},
    {"wasm", "application/wasm"}, {"map", "application/json"},
    {"webmanifest", "application/manifest+json"}, {"rss", "application/rss+xml"},
    {"atom", "application/atom+xml"}, {"xhtml", "application/xhtml+xml"},
    {"rtf", "application/rtf"}, {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"bin", "application/octet-stream"}, {"exe", "application/octet-stream"},
    {"iso", "application/octet-stream"}, {"apk", "application/vnd.android.package-archive"},
    {"jar", "application/java-archive"}, {"swf", "application/x-shockwave-flash"},
};

static size_t hash_ext(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)tolower((unsigned char)s[i]);
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

/* Whether a slot's extension (kept lower-case, as put stores it) is ext: compared here, as
 * extensions are a few bytes and a strncasecmp call cost more than the bytes (every static
 * response looks its type up). ASCII folding, as strncasecmp's in the C locale. */
static bool slot_is(const char *kept, const char *ext, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)ext[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + ('a' - 'A'));
        if ((unsigned char)kept[i] != c)
            return false;
    }
    return kept[n] == '\0';
}

static mime_slot_t *find_slot(const pt_mime_t *m, const char *ext, size_t n)
{
    size_t i = hash_ext(ext, n) & m->mask;
    for (;;) {
        mime_slot_t *s = &m->slots[i];
        if (s->ext == NULL || slot_is(s->ext, ext, n)) {
            return s;
        }
        i = (i + 1) & m->mask;
    }
}

/* Keeps the load factor at or below one half, so probes stay short and a free slot exists. */
static void grow(pt_arena_t *a, pt_mime_t *m)
{
    size_t old_n = m->mask + 1;
    mime_slot_t *old = m->slots;
    size_t n = old_n * 2;
    m->slots = pt_arena_calloc(a, n * sizeof(*m->slots));
    m->mask = n - 1;
    for (size_t i = 0; i < old_n; i++) {
        if (old[i].ext != NULL) {
            *find_slot(m, old[i].ext, strlen(old[i].ext)) = old[i];
        }
    }
}

/* A later mapping of the same extension replaces the earlier one, as mod_mime's does. */
static void put(pt_arena_t *a, pt_mime_t *m, const char *ext, size_t n, const char *type)
{
    if ((m->count + 1) * 2 > m->mask + 1) {
        grow(a, m);
    }
    mime_slot_t *s = find_slot(m, ext, n);
    if (s->ext == NULL) {
        char *e = pt_arena_strndup(a, ext, n);
        for (char *p = e; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
        s->ext = e;
        m->count++;
    }
    s->type = type;
}

static pt_mime_t *mime_new(pt_arena_t *a)
{
    pt_mime_t *m = pt_arena_calloc(a, sizeof(*m));
    m->serial = atomic_fetch_add_explicit(&mime_serial, 1, memory_order_relaxed) + 1;
    m->mask = 255;
    m->slots = pt_arena_calloc(a, (m->mask + 1) * sizeof(*m->slots));
    return m;
}

/* One line of mime.types: "type ext ext ..."; '#' starts a comment. */
static int parse_line(pt_arena_t *a, pt_mime_t *m, char *line)
{
    char *hash = strchr(line, '#');
    if (hash) {
        *hash = '\0';
    }
    const char *ws = " \t\r\n\f\v";
    char *save = NULL;
    char *type = strtok_r(line, ws, &save);
    if (type == NULL) {
        return 0;
    }
    char *slash = strchr(type, '/');
    if (slash == NULL || slash == type || slash[1] == '\0') {
        return PT_EINVAL;
    }
    const char *t = NULL;
    for (char *ext; (ext = strtok_r(NULL, ws, &save)) != NULL;) {
        if (t == NULL) {
            t = pt_arena_strdup(a, type);
        }
        size_t n = strlen(ext);
        if (n > 0 && n <= MIME_EXT_MAX) {
            put(a, m, ext, n, t);
        }
    }
    return 0;
}

pt_mime_t *pt_mime_load(pt_arena_t *a, const char *path, char *err, size_t errlen)
{
    if (path == NULL) {
        path = "/etc/mime.types";
    }
    pt_mime_t *m = mime_new(a);
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        if (errno != ENOENT) {
            snprintf(err, errlen, "TypesConfig %s: %s", path, strerror(errno));
            return NULL;
        }
        for (size_t i = 0; i < PT_ARRAY_LEN(builtin); i++) {
            put(a, m, builtin[i][0], strlen(builtin[i][0]), builtin[i][1]);
        }
        return m;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    pt_mime_t *res = m;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        if (parse_line(a, m, line) != 0) {
            snprintf(err, errlen, "%s:%d: expected a MIME type (type/subtype)", path, lineno);
            res = NULL;
            break;
        }
    }
    if (res != NULL && ferror(f)) {
        snprintf(err, errlen, "TypesConfig %s: read error", path);
        res = NULL;
    }
    free(line);
    fclose(f);
    return res;
}

/* Whether n bytes at a and b are equal, case and all (n is an extension's few bytes: a loop
 * costs less than the call). */
static bool same_bytes(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* The table's answer for ext, kept as the thread's last one. */
static PT_NOINLINE const char *lookup_table(const pt_mime_t *m, const char *ext, size_t n)
{
    const mime_slot_t *s = find_slot(m, ext, n);
    const char *type = s->ext ? s->type : NULL;
    if (n <= LAST_EXT_MAX) {
        memcpy(last_type.ext, ext, n);
        last_type.n = n;
        last_type.serial = m->serial;
        last_type.type = type;
    }
    return type;
}

static inline const char *lookup_n(const pt_mime_t *m, const char *ext, size_t n)
{
    if (n == 0 || n > MIME_EXT_MAX) {
        return NULL;
    }
    if (m == NULL) {
        /* No table loaded (a config built in a test): the built-in list, linearly. */
        for (size_t i = 0; i < PT_ARRAY_LEN(builtin); i++) {
            if (strncasecmp(builtin[i][0], ext, n) == 0 && builtin[i][0][n] == '\0') {
                return builtin[i][1];
            }
        }
        return NULL;
    }
    if (n <= LAST_EXT_MAX && last_type.serial == m->serial && last_type.n == n &&
        same_bytes(last_type.ext, ext, n))
        return last_type.type;
    return lookup_table(m, ext, n);
}

const char *pt_mime_lookup(const pt_mime_t *m, const char *ext)
{
    return ext ? lookup_n(m, ext, strlen(ext)) : NULL;
}

/* AddType entries are merged inner first, so the first entry for ext is the one in force. */
static const char *addtype_n(const pt_dir_config_t *d, const char *ext, size_t n)
{
    if (d == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < d->ntypes; i++) {
        const char *e = d->types[i].ext;
        if (e && strncasecmp(e, ext, n) == 0 && e[n] == '\0') {
            return d->types[i].value;
        }
    }
    return NULL;
}

/* mod_mime reads every extension of the base name ("file.html.en") and a later one that maps
 * overrides an earlier one; AddType beats the table for the same extension. Walking from the
 * last extension backwards, the first that maps is that result. As in Apache, the part
 * before the first dot is the name, not an extension, and leading dots belong to the name:
 * ".png" is a hidden file called png, not a PNG image (mod_mime's find_ct). */
static const char *type_by_extensions(const pt_mime_t *m, const pt_dir_config_t *d,
                                      const char *filename)
{
    const char *base = strrchr(filename, '/');
    base = base ? base + 1 : filename;
    while (*base == '.') {
        base++;
    }
    const char *first_dot = strchr(base, '.');
    if (first_dot == NULL) {
        return NULL;
    }
    const char *end = base + strlen(base);
    while (end > first_dot) {
        const char *dot = end - 1;
        while (*dot != '.') {
            dot--;
        }
        size_t n = (size_t)(end - dot - 1);
        if (n > 0) {
            const char *t = addtype_n(d, dot + 1, n);
            if (t == NULL) {
                t = lookup_n(m, dot + 1, n);
            }
            if (t != NULL) {
                return t;
            }
        }
        end = dot;
    }
    return NULL;
}

/* The first entry for ext in an inner-first merged map; *found tells a removal (value NULL)
 * from no entry. */
static const char *ext_map_n(const pt_ext_map_t *v, size_t nv, const char *ext, size_t n,
                             bool *found)
{
    for (size_t i = 0; i < nv; i++) {
        if (strncasecmp(v[i].ext, ext, n) == 0 && v[i].ext[n] == '\0') {
            *found = true;
            return v[i].value;
        }
    }
    *found = false;
    return NULL;
}

/* Calls fn on each extension of the base name, left to right (the part before the first dot
 * is the name, leading dots belong to it, as type_by_extensions). */
static void each_extension(const char *filename, void (*fn)(void *, const char *, size_t),
                           void *arg)
{
    const char *base = strrchr(filename, '/');
    base = base ? base + 1 : filename;
    while (*base == '.') {
        base++;
    }
    const char *p = strchr(base, '.');
    while (p != NULL) {
        const char *next = strchr(p + 1, '.');
        size_t n = next ? (size_t)(next - p - 1) : strlen(p + 1);
        if (n > 0) {
            fn(arg, p + 1, n);
        }
        p = next;
    }
}

typedef struct {
    const pt_dir_config_t *d;
    const char *charset;
    pt_arena_t *a;
    char *langs;
} ext_tags_t;

/* AddCharset: a later extension that maps overrides an earlier one, as mod_mime. */
static void take_charset(void *arg, const char *ext, size_t n)
{
    ext_tags_t *t = arg;
    bool found;
    const char *cs = ext_map_n(t->d->charsets, t->d->ncharsets, ext, n, &found);
    if (cs != NULL) {
        t->charset = cs;
    }
}

/* AddLanguage: every extension that maps adds its language, in order (joined with "," and
 * no space, as Apache's header filter writes them). */
static void take_language(void *arg, const char *ext, size_t n)
{
    ext_tags_t *t = arg;
    bool found;
    const char *lang = ext_map_n(t->d->languages, t->d->nlanguages, ext, n, &found);
    if (lang != NULL) {
        t->langs = t->langs ? pt_arena_printf(t->a, "%s,%s", t->langs, lang)
                            : pt_arena_strdup(t->a, lang);
    }
}

static PT_NOINLINE const char *languages(pt_arena_t *a, const pt_dir_config_t *d,
                                         const char *filename)
{
    ext_tags_t t = {.d = d, .a = a};
    each_extension(filename, take_language, &t);
    return t.langs ? t.langs : d->default_language;
}

const char *pt_mime_languages(pt_arena_t *a, const pt_dir_config_t *d, const char *filename)
{
    if (d == NULL || filename == NULL) {
        return NULL;
    }
    /* No AddLanguage (the usual case): no extension is read. */
    return d->nlanguages > 0 ? languages(a, d, filename) : d->default_language;
}

/* AddCharset's charset on a type found by extension, unless the type carries one (an AddType
 * "text/html; charset=..."). */
static const char *ext_charset(pt_arena_t *a, const pt_dir_config_t *d, const char *filename,
                               const char *type)
{
    if (d == NULL || d->ncharsets == 0 || strcasestr(type, "charset=")) {
        return type;
    }
    ext_tags_t t = {.d = d, .a = a};
    each_extension(filename, take_charset, &t);
    return t.charset ? pt_arena_printf(a, "%s; charset=%s", type, t.charset) : type;
}

/* AddDefaultCharset: only text/plain and text/html without a charset of their own. */
static const char *add_charset(pt_arena_t *a, const pt_dir_config_t *d, const char *type)
{
    if (d == NULL || d->default_charset == NULL || d->default_charset[0] == '\0') {
        return type;
    }
    if (strcasecmp(type, "text/plain") != 0 && strcasecmp(type, "text/html") != 0) {
        return type;
    }
    const char *cs = d->default_charset;
    if (strcasecmp(cs, "on") == 0) {
        cs = "iso-8859-1"; /* Apache's default for a bare "On" */
    } else if (strcasecmp(cs, "off") == 0) {
        return type;
    }
    return pt_arena_printf(a, "%s; charset=%s", type, cs);
}

const char *pt_mime_type_for(pt_arena_t *a, const pt_mime_t *m, const pt_dir_config_t *d,
                             const char *filename)
{
    const char *t = NULL;
    if (d != NULL && d->default_type != NULL && d->default_type[0] != '\0' &&
        strcasecmp(d->default_type, "none") != 0) {
        t = d->default_type;
    } else if (filename != NULL) {
        t = type_by_extensions(m, d, filename);
        if (t != NULL) {
            t = ext_charset(a, d, filename, t);
        }
    }
    return t ? add_charset(a, d, t) : NULL;
}
