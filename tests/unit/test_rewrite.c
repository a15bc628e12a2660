/* Unit tests for the rewrite engine (rewrite.c, rewrite_eval.c): rule sets from Apache's
 * mod_rewrite documentation and the published configurations of WordPress, Laravel, Drupal
 * and Nextcloud, evaluated on a subject with a table of variables; and what the builder
 * refuses. */
#include "rewrite.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static pt_arena_t *A;
static pt_regex_t *regexes[256];
static size_t nregexes;
static char dir[64];          /* a document root with a file, a directory and maps */
static const char *env_name, *env_value;

static void keep(void *ud, pt_regex_t *re)
{
    (void)ud;
    ck_assert_uint_lt(nregexes, 256);
    regexes[nregexes++] = re;
}

static void write_file(const char *name, const char *text)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    A = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    nregexes = 0;
    env_name = env_value = NULL;
    strcpy(dir, "/tmp/pt_rewrite_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    write_file("index.php", "<?php\n");
    write_file("empty.txt", "");
    char p[128];
    snprintf(p, sizeof(p), "%s/sub", dir);
    mkdir(p, 0755);
    write_file("hosts.map", "# host map\nalpha.example  /sites/alpha\nbeta.example /sites/beta\n"
                            "alpha.example /shadowed\n");
    write_file("one.rnd", "srv  s1|s1\n");
}

static void teardown(void)
{
    for (size_t i = 0; i < nregexes; i++)
        pt_regex_free(regexes[i]);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    pt_arena_destroy(A);
}

/* ---- A request as a table -------------------------------------------------------------- */

static const char *var(pt_rewrite_ctx_t *c, const char *name)
{
    static const char *const fixed[][2] = {
        {"HTTP_HOST", "Example.com"},    {"SERVER_NAME", "example.com"},
        {"SERVER_PORT", "80"},           {"REQUEST_SCHEME", "http"},
        {"HTTPS", "off"},                {"HTTP:Authorization", "Bearer abc"},
        {"HTTP:Accept-Language", "fr"},  {"HTTP:X-N", "7"},
        {"HTTP:X-S", "aa"},              {"REQUEST_URI", "/foo/"},
        {"HTTP:Upgrade", "WebSocket"},
    };
    if (strcmp(name, "REQUEST_FILENAME") == 0)
        return c->filename;
    if (strcmp(name, "QUERY_STRING") == 0)
        return c->args;
    if (strcmp(name, "DOCUMENT_ROOT") == 0)
        return dir;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(name, fixed[i][0]) == 0)
            return fixed[i][1];
    return NULL;
}

static void setenv_cb(pt_rewrite_ctx_t *c, const char *name, const char *value)
{
    (void)c;
    env_name = name;
    env_value = value;
}

static bool lookup(pt_rewrite_ctx_t *c, const char *s, bool file)
{
    (void)c;
    return !file && strcmp(s, "/exists") == 0;
}

/* ---- Building a rule set from directive lines --------------------------------------------- */

/* Splits a line into at most 4 words; "..." groups (no escapes needed here). */
static int words(char *line, char **w)
{
    int n = 0;
    for (char *p = line; *p && n < 4;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (*p == '"') {
            w[n++] = ++p;
            p = strchr(p, '"');
        } else {
            w[n++] = p;
            p += strcspn(p, " ");
        }
        if (*p)
            *p++ = '\0';
    }
    return n;
}

static pt_rewrite_build_t builder(char *err)
{
    return (pt_rewrite_build_t){.a = A, .keep_regex = keep, .err = err, .errlen = 256};
}

/* "RewriteCond ...\nRewriteRule ...\n" into rules; NULL and err on a refusal. */
static const pt_rewrite_rule_t **build(const char *text, size_t *n, char *err)
{
    pt_rewrite_build_t b = builder(err);
    const pt_rewrite_rule_t **rules = pt_arena_calloc(A, 32 * sizeof(*rules));
    pt_rewrite_cond_t **conds = pt_arena_calloc(A, 32 * sizeof(*conds));
    size_t nc = 0;
    *n = 0;
    char *copy = pt_arena_strdup(A, text);
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
        char *w[4] = {0};
        int k = words(line, w);
        if (strcmp(w[0], "RewriteCond") == 0) {
            ck_assert_int_ge(k, 3);
            if (!(conds[nc++] = pt_rewrite_cond_new(&b, w[1], w[2], w[3])))
                return NULL;
        } else {
            ck_assert_int_ge(k, 3);
            pt_rewrite_cond_t **mine = pt_arena_alloc(A, (nc + 1) * sizeof(*mine));
            memcpy(mine, conds, nc * sizeof(*mine));
            pt_rewrite_rule_t *r = pt_rewrite_rule_new(&b, w[1], w[2], w[3], mine, nc);
            if (!r)
                return NULL;
            rules[(*n)++] = r;
            nc = 0;
        }
    }
    return rules;
}

static const pt_rewrite_map_t *maps[4];

static pt_rewrite_ctx_t context(const char *perdir, const char *filename, const char *args)
{
    pt_rewrite_ctx_t c = {.a = A, .var = var, .setenv = setenv_cb, .lookup = lookup,
                          .maps = maps, .nmaps = 0};
    c.perdir = perdir ? pt_arena_printf(A, "%s/", perdir) : NULL;
    c.filename = filename;
    c.args = args;
    return c;
}

/* ---- The table ----------------------------------------------------------------------------- */

typedef struct {
    const char *what;
    const char *rules;
    bool perdir;          /* evaluated in the directory `dir` (filename under it) */
    const char *in, *args;
    int rc;
    const char *out, *out_args; /* "" for NULL args; out NULL: not checked */
    int status;
    const char *flags;    /* what else must hold: "R", "P", "PT", "END" */
} row_t;

static const row_t rows[] = {
    {"a prefix is replaced with a capture", "RewriteRule ^/foo/(.*)$ /bar/$1", false,
     "/foo/x.html", NULL, 1, "/bar/x.html", "", 0, ""},
    {"no match leaves the subject", "RewriteRule ^/foo/(.*)$ /bar/$1", false, "/other", NULL,
     0, "/other", "", 0, ""},
    {"R=301 qualifies the target with this server", "RewriteRule ^/old$ /new [R=301,L]",
     false, "/old", NULL, 1, "http://example.com/new", "", 301, "R"},
    {"R alone is a 302", "RewriteRule ^/old$ /new [R]", false, "/old", NULL, 1,
     "http://example.com/new", "", 302, "R"},
    {"a query in the substitution replaces the old one",
     "RewriteRule ^/pages/(.+) /page.php?page=$1", false, "/pages/foo", "x=1", 1, "/page.php",
     "page=foo", 0, ""},
    {"QSA appends the old query after the new one",
     "RewriteRule ^/pages/(.+) /page.php?page=$1 [QSA]", false, "/pages/foo", "x=1", 1,
     "/page.php", "page=foo&x=1", 0, ""},
    {"QSA without an old query keeps the new one",
     "RewriteRule ^/pages/(.+) /page.php?page=$1 [QSA]", false, "/pages/foo", NULL, 1,
     "/page.php", "page=foo", 0, ""},
    {"QSD drops the query", "RewriteRule ^/a /b [QSD]", false, "/a", "x=1", 1, "/b", "", 0,
     ""},
    {"a lone '?' drops the query", "RewriteRule ^/a /b?", false, "/a", "x=1", 1, "/b", "", 0,
     ""},
    {"no '?' keeps the query", "RewriteRule ^/a /b", false, "/a", "x=1", 1, "/b", "x=1", 0,
     ""},
    {"%N takes the last matched condition's capture",
     "RewriteCond %{HTTP_HOST} ^(www\\.)?(.+)$\nRewriteRule ^/(.*) /%2/$1", false, "/x", NULL,
     1, "/Example.com/x", "", 0, ""},
    {"OR holds when the second condition holds",
     "RewriteCond %{HTTP_HOST} =a.com [OR]\nRewriteCond %{HTTP_HOST} =Example.com\n"
     "RewriteRule ^ /matched",
     false, "/x", NULL, 1, "/matched", "", 0, ""},
    {"OR chain fails when none holds",
     "RewriteCond %{HTTP_HOST} =a.com [OR]\nRewriteCond %{HTTP_HOST} =b.com\n"
     "RewriteRule ^ /matched",
     false, "/x", NULL, 0, "/x", "", 0, ""},
    {"a test string of one variable sees what a composed one does",
     "RewriteCond %{HTTP_HOST}x =Example.comx\nRewriteCond %{HTTP_HOST} =Example.com\n"
     "RewriteRule ^ /both",
     false, "/x", NULL, 1, "/both", "", 0, ""},
    {"two variables side by side are two, not one name",
     "RewriteCond %{HTTP:X-N}%{HTTP:X-S} =7aa\nRewriteRule ^ /two", false, "/x", NULL, 1,
     "/two", "", 0, ""},
    {"a back-reference before a variable is expanded",
     "RewriteCond %{HTTP_HOST} ^(Ex)\nRewriteCond %1%{HTTP:X-S} =Exaa\nRewriteRule ^ /br",
     false, "/x", NULL, 1, "/br", "", 0, ""},
    {"NC compares without case", "RewriteCond %{HTTP_HOST} ^EXAMPLE\\.com$ [NC]\n"
                                 "RewriteRule ^ /nc",
     false, "/x", NULL, 1, "/nc", "", 0, ""},
    {"a regex condition is case-sensitive without NC",
     "RewriteCond %{HTTP_HOST} ^EXAMPLE\\.com$\nRewriteRule ^ /nc", false, "/x", NULL, 0,
     "/x", "", 0, ""},
    {"HTTP to HTTPS, as Apache's documentation writes it",
     "RewriteCond %{HTTPS} !=on\nRewriteRule ^/?(.*) https://%{SERVER_NAME}/$1 [R,L]", false,
     "/a/b", "q=1", 1, "https://example.com/a/b", "q=1", 302, "R"},
    {"WordPress: an existing file is served as it is",
     "RewriteRule ^index\\.php$ - [L]\nRewriteCond %{REQUEST_FILENAME} !-f\n"
     "RewriteCond %{REQUEST_FILENAME} !-d\nRewriteRule . /index.php [L]",
     true, "empty.txt", NULL, 0, "empty.txt", "", 0, ""},
    {"WordPress: a directory is served as it is",
     "RewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\n"
     "RewriteRule . /index.php [L]",
     true, "sub", NULL, 0, "sub", "", 0, ""},
    {"WordPress: a missing name goes to the front controller",
     "RewriteRule ^index\\.php$ - [L]\nRewriteCond %{REQUEST_FILENAME} !-f\n"
     "RewriteCond %{REQUEST_FILENAME} !-d\nRewriteRule . /index.php [L]",
     true, "2024/05/hello-world", "p=1", 1, "/index.php", "p=1", 0, ""},
    {"WordPress: index.php itself matches '-' and stops",
     "RewriteRule ^index\\.php$ - [L]\nRewriteRule . /index.php [L]", true, "index.php", NULL,
     0, "index.php", "", 0, ""},
    {"-s is a file with bytes", "RewriteCond %{REQUEST_FILENAME} -s\nRewriteRule ^ /big",
     true, "empty.txt", NULL, 0, "empty.txt", "", 0, ""},
    {"a relative substitution gets the directory prefix back", "RewriteRule ^foo$ bar", true,
     "foo", NULL, 1, "bar", "", 0, ""},
    {"Laravel: a trailing slash is redirected away",
     "RewriteCond %{REQUEST_FILENAME} !-d\nRewriteCond %{REQUEST_URI} (.+)/$\n"
     "RewriteRule ^ %1 [L,R=301]",
     true, "foo/", NULL, 1, "http://example.com/foo", "", 301, "R"},
    {"Nextcloud: R=404 answers 404 without a substitution",
     "RewriteRule ^(?:build|tests|config|lib|3rdparty|templates)(?:$|/) - [R=404,L]", true,
     "config/config.php", NULL, 2, NULL, "", 404, ""},
    {"Drupal: F answers 403 for hidden paths",
     "RewriteRule \"/\\.|^\\.(?!well-known/)\" - [F]", true, ".git/config", NULL, 2, NULL, "",
     403, ""},
    {"Drupal: .well-known passes the hidden-path rule",
     "RewriteRule \"/\\.|^\\.(?!well-known/)\" - [F]", true, ".well-known/acme", NULL, 0,
     ".well-known/acme", "", 0, ""},
    {"G answers 410", "RewriteRule ^/old - [G]", false, "/old", NULL, 2, NULL, "", 410, ""},
    {"C: a chain applies together", "RewriteRule ^/a /b [C]\nRewriteRule ^/b /c", false,
     "/a", NULL, 1, "/c", "", 0, ""},
    {"C: a failed link skips the rest of the chain",
     "RewriteRule ^/x /b [C]\nRewriteRule ^/b /c", false, "/b", NULL, 0, "/b", "", 0, ""},
    {"S=1 skips the next rule", "RewriteRule ^/a /b [S=1]\nRewriteRule ^/b /c", false, "/a",
     NULL, 1, "/b", "", 0, ""},
    {"L stops", "RewriteRule ^/a /b [L]\nRewriteRule ^/b /c", false, "/a", NULL, 1, "/b", "",
     0, ""},
    {"without L the next rule sees the result", "RewriteRule ^/a /b\nRewriteRule ^/b /c",
     false, "/a", NULL, 1, "/c", "", 0, ""},
    {"B escapes captures for a query", "RewriteRule ^/search/(.*)$ /s.php?q=$1 [B]", false,
     "/search/a b&c", NULL, 1, "/s.php", "q=a+b%26c", 0, ""},
    {"without B captures go in as they are", "RewriteRule ^/search/(.*)$ /s.php?q=$1", false,
     "/search/a&c", NULL, 1, "/s.php", "q=a&c", 0, ""},
    {"a URL of this server is reduced to its path",
     "RewriteRule ^/a http://example.com/b", false, "/a", NULL, 1, "/b", "", 0, ""},
    {"a URL of another server stays absolute", "RewriteRule ^/a http://other.org/b", false,
     "/a", NULL, 1, "http://other.org/b", "", 0, ""},
    {"N=10 loops until nothing matches", "RewriteRule ^/(.*)a(.*) /$1b$2 [N=10]", false,
     "/aaa", NULL, 1, "/bbb", "", 0, ""},
    {"N=2 stops a loop with 500", "RewriteRule ^/(.*)a(.*) /$1b$2 [N=2]", false, "/aaaa",
     NULL, 2, NULL, "", 500, ""},
    {"END is reported", "RewriteRule ^/a /b [END]\nRewriteRule ^/b /c", false, "/a", NULL, 1,
     "/b", "", 0, "END"},
    {"PT is reported and stops", "RewriteRule ^/a /b [PT]\nRewriteRule ^/b /c", false, "/a",
     NULL, 1, "/b", "", 0, "PT"},
    {"P qualifies and stops", "RewriteRule ^/ws/(.*) ws://127.0.0.1:9/$1 [P]\n"
                              "RewriteRule ^ /never",
     false, "/ws/chat", "t=1", 1, "ws://127.0.0.1:9/chat", "t=1", 0, "P"},
    {"-gt compares numbers", "RewriteCond %{HTTP:X-N} -gt5\nRewriteRule ^ /big", false, "/",
     NULL, 1, "/big", "", 0, ""},
    {"< compares length first, as Apache", "RewriteCond %{HTTP:X-S} <b\nRewriteRule ^ /less",
     false, "/", NULL, 0, "/", "", 0, ""},
    {"=\"\" is the empty string", "RewriteCond %{QUERY_STRING} =\"\"\nRewriteRule ^ /noq",
     false, "/", NULL, 1, "/noq", "", 0, ""},
    {"\\$ is a literal dollar", "RewriteRule ^/a /price\\$5", false, "/a", NULL, 1,
     "/price$5", "", 0, ""},
    {"-U asks the lookup", "RewriteCond /exists -U\nRewriteRule ^ /found", false, "/", NULL,
     1, "/found", "", 0, ""},
    {"a txt map gives the first line for a key",
     "RewriteRule ^/(.*) ${hosts:alpha.example|/none}/$1", false, "/x", NULL, 1,
     "/sites/alpha/x", "", 0, ""},
    {"a txt map's default answers a missing key",
     "RewriteRule ^/(.*) ${hosts:gamma.example|/none}/$1", false, "/x", NULL, 1, "/none/x",
     "", 0, ""},
    {"a map key may be a variable", "RewriteRule ^/(.*) /${lower:%{HTTP_HOST}}/$1", false,
     "/x", NULL, 1, "/example.com/x", "", 0, ""},
    {"an rnd map picks one of its values", "RewriteRule ^/(.*) /${one:srv}/$1", false, "/x",
     NULL, 1, "/s1/x", "", 0, ""},
    {"an upgrade condition with NC",
     "RewriteCond %{HTTP:Upgrade} websocket [NC]\nRewriteRule ^/ws /upgraded", false, "/ws",
     NULL, 1, "/upgraded", "", 0, ""},
};

static void load_maps(void)
{
    char err[256] = "", p[128];
    pt_rewrite_build_t b = builder(err);
    snprintf(p, sizeof(p), "%s/hosts.map", dir);
    maps[0] = pt_rewrite_map_new(&b, "hosts", "txt", p);
    snprintf(p, sizeof(p), "%s/one.rnd", dir);
    maps[1] = pt_rewrite_map_new(&b, "one", "rnd", p);
    maps[2] = pt_rewrite_map_new(&b, "lower", "int", "tolower");
    ck_assert_msg(maps[0] && maps[1] && maps[2], "%s", err);
}

START_TEST(rule_sets_rewrite_as_apache_documents)
{
    const row_t *t = &rows[_i];
    char err[256] = "";
    size_t n;
    const pt_rewrite_rule_t **rules = build(t->rules, &n, err);
    ck_assert_msg(rules != NULL, "%s: %s", t->what, err);
    load_maps();
    const char *in = t->perdir ? pt_arena_printf(A, "%s/%s", dir, t->in) : t->in;
    pt_rewrite_ctx_t c = context(t->perdir ? dir : NULL, in, t->args);
    c.nmaps = 3;
    int rc = pt_rewrite_apply(&c, rules, n);
    ck_assert_msg(rc == t->rc, "%s: rc %d", t->what, rc);
    if (t->out) {
        bool relative = t->perdir && t->out[0] != '/' && !strstr(t->out, "://");
        const char *want = relative ? pt_arena_printf(A, "%s/%s", dir, t->out) : t->out;
        ck_assert_msg(strcmp(c.filename, want) == 0, "%s: '%s'", t->what, c.filename);
    }
    ck_assert_msg(strcmp(c.args ? c.args : "", t->out_args) == 0, "%s: args '%s'", t->what,
                  c.args ? c.args : "(none)");
    ck_assert_msg(c.status == t->status, "%s: status %d", t->what, c.status);
    ck_assert_int_eq(c.redirect, strcmp(t->flags, "R") == 0);
    ck_assert_int_eq(c.proxy_flag, strcmp(t->flags, "P") == 0);
    ck_assert_int_eq(c.passthrough, strcmp(t->flags, "PT") == 0);
    ck_assert_int_eq(c.end, strcmp(t->flags, "END") == 0);
}
END_TEST

/* The walk has stat'ed the request's file already: -f, -d and -s on that very path read its
 * stat (here one of a file that is not on disk, so the answer can only come from it); any
 * other path is asked of the kernel. */
START_TEST(file_tests_reuse_the_walks_stat_of_the_same_path)
{
    char err[256] = "";
    size_t n;
    const pt_rewrite_rule_t **rules =
        build("RewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\n"
              "RewriteRule . /index.php [L]", &n, err);
    ck_assert_msg(rules != NULL, "%s", err);
    const char *known = pt_arena_printf(A, "%s/only-in-the-walk.txt", dir);
    struct stat st = {.st_mode = S_IFREG | 0644, .st_size = 5};
    pt_rewrite_ctx_t c = context(dir, known, NULL);
    c.known_path = known;
    c.known_st = &st;
    ck_assert_int_eq(pt_rewrite_apply(&c, rules, n), PT_REWRITE_UNCHANGED);
    const char *other = pt_arena_printf(A, "%s/not-there.txt", dir);
    c = context(dir, other, NULL);
    c.known_path = known;
    c.known_st = &st;
    ck_assert_int_eq(pt_rewrite_apply(&c, rules, n), PT_REWRITE_CHANGED);
    ck_assert_str_eq(c.filename, "/index.php");
}
END_TEST

START_TEST(laravel_passes_the_authorization_header_through_e)
{
    char err[256] = "";
    size_t n;
    const pt_rewrite_rule_t **rules =
        build("RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]", &n, err);
    ck_assert_ptr_nonnull(rules);
    pt_rewrite_ctx_t c = context(NULL, "/api/user", NULL);
    ck_assert_int_eq(pt_rewrite_apply(&c, rules, n), PT_REWRITE_UNCHANGED);
    ck_assert_str_eq(env_name, "HTTP_AUTHORIZATION");
    ck_assert_str_eq(env_value, "Bearer abc");
    ck_assert_str_eq(c.filename, "/api/user");
}
END_TEST

START_TEST(conditions_on_request_fields_are_reported_for_vary)
{
    char err[256] = "";
    size_t n;
    const pt_rewrite_rule_t **rules =
        build("RewriteCond %{HTTP:Accept-Language} ^fr\nRewriteRule ^/$ /fr/\n"
              "RewriteCond %{HTTP:X-N} 7 [NV]\nRewriteRule ^/fr/$ /fr/7", &n, err);
    ck_assert_ptr_nonnull(rules);
    pt_rewrite_ctx_t c = context(NULL, "/", NULL);
    ck_assert_int_eq(pt_rewrite_apply(&c, rules, n), PT_REWRITE_CHANGED);
    ck_assert_str_eq(c.filename, "/fr/7");
    ck_assert_str_eq(c.vary, "Accept-Language");
}
END_TEST

START_TEST(type_and_handler_flags_are_reported)
{
    char err[256] = "";
    size_t n;
    const pt_rewrite_rule_t **rules =
        build("RewriteRule \\.phps$ - [T=text/plain,H=default-handler]", &n, err);
    ck_assert_ptr_nonnull(rules);
    pt_rewrite_ctx_t c = context(NULL, "/a.phps", NULL);
    ck_assert_int_eq(pt_rewrite_apply(&c, rules, n), PT_REWRITE_UNCHANGED);
    ck_assert_str_eq(c.type, "text/plain");
    ck_assert_str_eq(c.handler, "default-handler");
}
END_TEST

START_TEST(ns_rules_and_redirects_are_skipped_in_lookups)
{
    char err[256] = "";
    size_t n;
    const pt_rewrite_rule_t **rules =
        build("RewriteRule ^/a /b [NS]\nRewriteRule ^/a /r [R]\nRewriteRule ^/a /c", &n, err);
    ck_assert_ptr_nonnull(rules);
    pt_rewrite_ctx_t c = context(NULL, "/a", NULL);
    c.subreq = true;
    ck_assert_int_eq(pt_rewrite_apply(&c, rules, n), PT_REWRITE_CHANGED);
    ck_assert_str_eq(c.filename, "/c");
}
END_TEST

static const struct {
    const char *rules, *message;
} refused[] = {
    {"RewriteRule ^ /x [Q]", "unknown flag 'Q'"},
    {"RewriteRule ^ /x [N]", "flag 'N' needs its bound"},
    {"RewriteRule ^ /x [CO=a:b:c]", "'CO' (cookies) is not supported"},
    {"RewriteRule ^ /x [R=999]", "invalid HTTP response code"},
    {"RewriteRule ^ /x L", "bad flag delimiters"},
    {"RewriteRule ^( /x", "cannot compile regular expression"},
    {"RewriteRule ^ /%{NO_SUCH_VAR}", "unknown variable %{NO_SUCH_VAR}"},
    {"RewriteRule ^ /%{LA-U:REMOTE_USER}", "look-ahead variables are not supported"},
    {"RewriteRule ^ /%{HTTP_HOST", "has no closing '}'"},
    {"RewriteCond expr \"%{NO_SUCH_VAR} == 1\"\nRewriteRule ^ /x",
     "RewriteCond: cannot compile expression \"%{NO_SUCH_VAR} == 1\""},
    {"RewriteCond %{HTTP_HOST} x [XX]\nRewriteRule ^ /x", "RewriteCond: unknown flag 'XX'"},
    {"RewriteRule ^ - [P]", "[P] needs a substitution"},
};

START_TEST(what_is_not_supported_is_refused_with_a_reason)
{
    char err[256] = "";
    size_t n;
    ck_assert_ptr_null(build(refused[_i].rules, &n, err));
    ck_assert_msg(strstr(err, refused[_i].message) != NULL, "'%s': got '%s'", refused[_i].rules,
                  err);
}
END_TEST

/* In a .htaccess file an expression cannot read files (Apache 2.4.67's restricted parser,
 * whose message this is); elsewhere it can. */
START_TEST(a_rewritecond_expr_in_a_htaccess_file_cannot_read_files)
{
    char err[256] = "";
    pt_rewrite_build_t b = builder(err);
    const char *reads[] = {"file('/etc/passwd') != ''", "filesize('/etc/passwd') -gt 0"};
    for (size_t i = 0; i < 2; i++) {
        b.htaccess = false;
        ck_assert_ptr_nonnull(pt_rewrite_cond_new(&b, "expr", reads[i], NULL));
        b.htaccess = true;
        ck_assert_ptr_null(pt_rewrite_cond_new(&b, "expr", reads[i], NULL));
        ck_assert_msg(strstr(err, "cannot compile expression in htaccess context") &&
                          strstr(err, "not available in restricted context"), "%s", err);
    }
    ck_assert_ptr_nonnull(pt_rewrite_cond_new(&b, "expr", "-f '/etc/passwd'", NULL));
}
END_TEST

START_TEST(maps_of_unsupported_types_and_missing_files_are_refused)
{
    char err[256] = "";
    pt_rewrite_build_t b = builder(err);
    ck_assert_ptr_null(pt_rewrite_map_new(&b, "m", "prg", "/bin/cat"));
    ck_assert_ptr_nonnull(strstr(err, "map type 'prg' is not supported"));
    ck_assert_ptr_null(pt_rewrite_map_new(&b, "m", "txt", "/nonexistent/map.txt"));
    ck_assert_ptr_nonnull(strstr(err, "not found"));
    ck_assert_ptr_null(pt_rewrite_map_new(&b, "m", "int", "reverse"));
    ck_assert_ptr_nonnull(strstr(err, "internal map not found"));
}
END_TEST

/* The value for key, asked again until it is want (NULL: none) or 5 s pass: a map looks at
 * its file at most once a second. */
static bool map_turns_to(const pt_rewrite_map_t *m, const char *key, const char *want)
{
    for (int i = 0; i < 500; i++) {
        const char *v = pt_rewrite_map_lookup(A, m, key);
        if (want ? v && strcmp(v, want) == 0 : v == NULL)
            return true;
        struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* Apache: "The looked-up keys are cached by httpd until the mtime of the mapfile changes".
 * A changed file is reread, a removed one gives no values (and is logged), one that comes
 * back is read again; the table read at start lives on in the config until then. */
START_TEST(a_txt_map_is_reread_when_its_file_changes)
{
    load_maps();
    ck_assert_str_eq(pt_rewrite_map_lookup(A, maps[0], "beta.example"), "/sites/beta");
    write_file("hosts.map", "beta.example /moved/beta\ngamma.example /sites/gamma\n");
    ck_assert(map_turns_to(maps[0], "beta.example", "/moved/beta"));
    ck_assert_str_eq(pt_rewrite_map_lookup(A, maps[0], "gamma.example"), "/sites/gamma");
    ck_assert_ptr_null(pt_rewrite_map_lookup(A, maps[0], "alpha.example"));
    char p[128];
    snprintf(p, sizeof(p), "%s/hosts.map", dir);
    ck_assert_int_eq(unlink(p), 0);
    ck_assert(map_turns_to(maps[0], "gamma.example", NULL));
    write_file("hosts.map", "gamma.example /back\n");
    ck_assert(map_turns_to(maps[0], "gamma.example", "/back"));
    write_file("one.rnd", "srv  s2|s2\n");
    ck_assert(map_turns_to(maps[1], "srv", "s2"));
}
END_TEST

typedef struct {
    const pt_rewrite_map_t *m;
    atomic_bool *stop;
    int bad;
} looker_t;

/* Lookups, each in its own arena, while the file changes under them: every answer is one of
 * the file's versions. */
static void *look(void *arg)
{
    looker_t *l = arg;
    pt_arena_t *a = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    while (!atomic_load(l->stop)) {
        const char *v = pt_rewrite_map_lookup(a, l->m, "beta.example");
        if (!v || (strcmp(v, "/sites/beta") != 0 && strcmp(v, "/v2") != 0 &&
                   strcmp(v, "/v3") != 0))
            l->bad++;
        pt_arena_reset(a);
    }
    pt_arena_destroy(a);
    return NULL;
}

/* The file replaced whole (a new inode by rename), as a deployment does: a reader never sees
 * it half written. */
static void replace_file(const char *name, const char *text)
{
    char tmp[64], from[160], to[160];
    snprintf(tmp, sizeof(tmp), "%s.new", name);
    write_file(tmp, text);
    snprintf(from, sizeof(from), "%s/%s", dir, tmp);
    snprintf(to, sizeof(to), "%s/%s", dir, name);
    ck_assert_int_eq(rename(from, to), 0);
}

START_TEST(lookups_from_many_threads_see_whole_versions_while_the_file_changes)
{
    load_maps();
    atomic_bool stop = false;
    looker_t l[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        l[i] = (looker_t){maps[0], &stop, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, look, &l[i]), 0);
    }
    replace_file("hosts.map", "beta.example /v2\n");
    ck_assert(map_turns_to(maps[0], "beta.example", "/v2"));
    replace_file("hosts.map", "beta.example /v3\nother /x\n");
    ck_assert(map_turns_to(maps[0], "beta.example", "/v3"));
    atomic_store(&stop, true);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(l[i].bad, 0);
    }
}
END_TEST

START_TEST(the_proxy_origin_is_the_fixed_scheme_and_authority)
{
    char err[256] = "";
    size_t n;
    const pt_rewrite_rule_t **rules =
        build("RewriteRule .* http://127.0.0.1:8181%{REQUEST_URI} [P,QSA,NE]\n"
              "RewriteRule .* http://%{HTTP_HOST}:8080/ [P]\nRewriteRule ^/(.*) $1 [P]",
              &n, err);
    ck_assert_ptr_nonnull(rules);
    ck_assert_str_eq(pt_rewrite_rule_proxy_origin(A, rules[0]), "http://127.0.0.1:8181");
    ck_assert_ptr_null(pt_rewrite_rule_proxy_origin(A, rules[1]));
    ck_assert_ptr_null(pt_rewrite_rule_proxy_origin(A, rules[2]));
}
END_TEST

START_TEST(redirect_paths_escape_as_ap_escape_uri)
{
    ck_assert_str_eq(pt_rewrite_escape_uri(A, "/a b/%41?#&=:@~"), "/a%20b/%2541%3f%23&=:@~");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rewrite");
    TCase *tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, rule_sets_rewrite_as_apache_documents, 0,
                        (int)(sizeof(rows) / sizeof(rows[0])));
    tcase_add_test(tc, laravel_passes_the_authorization_header_through_e);
    tcase_add_test(tc, file_tests_reuse_the_walks_stat_of_the_same_path);
    tcase_add_test(tc, conditions_on_request_fields_are_reported_for_vary);
    tcase_add_test(tc, type_and_handler_flags_are_reported);
    tcase_add_test(tc, ns_rules_and_redirects_are_skipped_in_lookups);
    tcase_add_loop_test(tc, what_is_not_supported_is_refused_with_a_reason, 0,
                        (int)(sizeof(refused) / sizeof(refused[0])));
    tcase_add_test(tc, maps_of_unsupported_types_and_missing_files_are_refused);
    tcase_add_test(tc, a_txt_map_is_reread_when_its_file_changes);
    tcase_add_test(tc, a_rewritecond_expr_in_a_htaccess_file_cannot_read_files);
    tcase_add_test(tc, lookups_from_many_threads_see_whole_versions_while_the_file_changes);
    tcase_add_test(tc, the_proxy_origin_is_the_fixed_scheme_and_authority);
    tcase_add_test(tc, redirect_paths_escape_as_ap_escape_uri);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
