/* Per-directory merging, the section walk for a file and URL, and virtual host selection
 * (dirconf.c), on configurations loaded from text. */
#include "config.h"
#include "dirconf_walk.h"
#include "startup.h"
#include "headers.h"
#include "tls.h"

#include <arpa/inet.h>
#include <check.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static char err[PT_ERRLEN];
static pt_arena_t *ra;

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    return remove(p);
}

static void setup(void)
{
    strcpy(root, "/tmp/ptdirXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    ra = pt_arena_create(0);
}

static void teardown(void)
{
    pt_arena_destroy(ra);
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static pt_config_t *load(const char *text)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/main.conf", root);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    pt_parse_opts_t o = {.server_root = root};
    pt_startup_register(); /* as main.c: the directives of the floors above conf */
    pt_config_t *c = pt_config_load(p, &o, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

/* The values of the merged "Header set X-Order v" rules, joined with ',': the merge order. */
static const char *order(const pt_dir_config_t *d)
{
    char *out = pt_arena_calloc(ra, 256);
    for (size_t i = 0; i < d->nheaders; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, d->headers[i].value);
    }
    return out;
}

static pt_dir_config_t *dc_new(void)
{
    pt_dir_config_t *d = pt_arena_calloc(ra, sizeof(*d));
    d->limit_request_body = -1;
    d->enable_sendfile = d->enable_mmap = -1;
    return d;
}

/* ---- Merge ------------------------------------------------------------------------------ */

START_TEST(absolute_options_replace_and_relative_ones_adjust_the_outer_set)
{
    pt_dir_config_t *o = dc_new(), *abs = dc_new(), *rel = dc_new();
    o->options = PT_OPT_FOLLOW_SYMLINKS | PT_OPT_INDEXES;
    o->options_set = true;
    abs->options = PT_OPT_EXECCGI;
    abs->options_set = true;
    rel->options_add = PT_OPT_MULTIVIEWS;
    rel->options_remove = PT_OPT_INDEXES;
    rel->options_rel = true;
    pt_dir_config_t *m = pt_dir_config_merge(ra, o, abs);
    ck_assert_uint_eq(m->options, PT_OPT_EXECCGI);
    m = pt_dir_config_merge(ra, o, rel);
    ck_assert_uint_eq(m->options, PT_OPT_FOLLOW_SYMLINKS | PT_OPT_MULTIVIEWS);
    m = pt_dir_config_merge(ra, m, abs);
    ck_assert_uint_eq(m->options, PT_OPT_EXECCGI);
}
END_TEST

START_TEST(lists_concatenate_and_inner_error_documents_win_per_status)
{
    pt_dir_config_t *o = dc_new(), *i = dc_new();
    pt_errordoc_t od[] = {{404, "/o404"}, {500, "/o500"}};
    pt_errordoc_t id[] = {{404, "/i404"}, {403, "/i403"}};
    pt_env_rule_t oe[] = {{.kind = PT_ENV_SET}}, ie[] = {{.kind = PT_ENV_UNSET}};
    o->errordocs = od, o->nerrordocs = 2;
    i->errordocs = id, i->nerrordocs = 2;
    o->env = oe, o->nenv = 1;
    i->env = ie, i->nenv = 1;
    pt_dir_config_t *m = pt_dir_config_merge(ra, o, i);
    ck_assert_uint_eq(m->nerrordocs, 3);
    ck_assert_int_eq(m->errordocs[0].status, 500);
    ck_assert_str_eq(m->errordocs[1].value, "/i404");
    ck_assert_str_eq(m->errordocs[2].value, "/i403");
    ck_assert_uint_eq(m->nenv, 2);
    ck_assert_int_eq(m->env[0].kind, PT_ENV_SET);
    ck_assert_int_eq(m->env[1].kind, PT_ENV_UNSET);
}
END_TEST

START_TEST(scalars_come_from_the_inner_config_only_when_set)
{
    pt_dir_config_t *o = dc_new(), *i = dc_new();
    o->handler_name = "outer";
    o->default_charset = "utf-8";
    o->limit_request_body = 100;
    o->enable_sendfile = 1;
    i->default_type = "text/plain";
    i->limit_request_body = 0;
    pt_dir_config_t *m = pt_dir_config_merge(ra, o, i);
    ck_assert_str_eq(m->handler_name, "outer");
    ck_assert_str_eq(m->default_charset, "utf-8");
    ck_assert_str_eq(m->default_type, "text/plain");
    ck_assert_int_eq(m->limit_request_body, 0);
    ck_assert_int_eq(m->enable_sendfile, 1);
    ck_assert_int_eq(m->enable_mmap, -1);
}
END_TEST

/* ---- Section walk ----------------------------------------------------------------------- */

static const char sections[] =
    "Listen 8080\n"
    "Header set X-Order server\n"
    "<Location /app>\n Header set X-Order loc-app\n</Location>\n"
    "<DirectoryMatch ^/srv/www/.*/priv>\n Header set X-Order dirmatch\n</DirectoryMatch>\n"
    "<Directory /srv/www/site>\n Header set X-Order dir-site\n"
    "  <Files *.php>\n   Header set X-Order files-in-site\n  </Files>\n</Directory>\n"
    "<Directory /srv/www>\n Header set X-Order dir-www\n</Directory>\n"
    "<Directory />\n Header set X-Order dir-root\n</Directory>\n"
    "<Files ~ \"\\.php$\">\n Header set X-Order filesmatch\n</Files>\n"
    "<Directory /srv/*/site>\n Header set X-Order dir-wild\n</Directory>\n"
    "<LocationMatch ^/app/.*\\.php$>\n Header set X-Order locmatch\n</LocationMatch>\n"
    "<Location />\n Header set X-Order loc-root\n</Location>\n";

START_TEST(merges_directories_shortest_first_then_regex_files_and_locations)
{
    pt_config_t *c = load(sections);
    const pt_dir_config_t *d = pt_config_dir_for(ra, c->main_server,
                                                 "/srv/www/site/priv/x.php", "/app/x.php");
    /* Top-level <Files> first, then the nested ones, as Apache appends a <Directory>'s
     * list to the server's (apache2 2.4.71, whatever the order in the file). */
    ck_assert_str_eq(order(d), "server,dir-root,dir-www,dir-site,dir-wild,dirmatch,"
                               "filesmatch,files-in-site,loc-app,locmatch,loc-root");
    pt_config_free(c);
}
END_TEST

START_TEST(nested_files_apply_only_inside_their_directory)
{
    pt_config_t *c = load(sections);
    const pt_dir_config_t *d = pt_config_dir_for(ra, c->main_server, "/srv/www/other/x.php",
                                                 "/x.php");
    ck_assert_str_eq(order(d), "server,dir-root,dir-www,filesmatch,loc-root");
    d = pt_config_dir_for(ra, c->main_server, "/srv/www/site/index.html", "/");
    ck_assert_str_eq(order(d), "server,dir-root,dir-www,dir-site,dir-wild,loc-root");
    pt_config_free(c);
}
END_TEST

START_TEST(without_a_file_only_locations_apply)
{
    pt_config_t *c = load(sections);
    const pt_dir_config_t *d = pt_config_dir_for(ra, c->main_server, NULL, "/app/");
    ck_assert_str_eq(order(d), "server,loc-app,loc-root");
    pt_config_free(c);
}
END_TEST

START_TEST(locations_match_on_segment_boundaries)
{
    pt_config_t *c = load("Listen 8080\n"
                          "<Location /foo>\n Header set X-Order foo\n</Location>\n"
                          "<Location /bar/>\n Header set X-Order bar/\n</Location>\n"
                          "<Location /img/*.png>\n Header set X-Order png\n</Location>\n");
    const pt_vhost_t *m = c->main_server;
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, NULL, "/foo")), "foo");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, NULL, "/foo/")), "foo");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, NULL, "/foo/bar")), "foo");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, NULL, "/foobar")), "");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, NULL, "/bar/x")), "bar/");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, NULL, "/bar")), "");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, NULL, "/img/a.png")), "png");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, NULL, "/img/sub/a.png")), "");
    pt_config_free(c);
}
END_TEST

/* The walk skips its look for <Location>/<LocationMatch> and <DirectoryMatch> in a vhost
 * that has none (sections_absent, set at load): a vhost's own sections and those it
 * inherits from the main server count, and the main server's own. */
START_TEST(a_walk_skips_only_the_kinds_of_section_a_vhost_has_none_of)
{
    unsigned loc = PT_SEC_BIT(PT_SEC_LOCATION) | PT_SEC_BIT(PT_SEC_LOCATION_MATCH);
    unsigned dm = PT_SEC_BIT(PT_SEC_DIRECTORY_MATCH);
    pt_config_t *c = load("Listen 8080\n"
                          "<Directory /srv>\n Header set X-Order dir\n</Directory>\n"
                          "<VirtualHost *:8080>\nServerName a\n"
                          "<LocationMatch ^/x>\n Header set X-Order locmatch\n</LocationMatch>\n"
                          "<DirectoryMatch ^/srv/s>\n Header set X-Order dm\n</DirectoryMatch>\n"
                          "</VirtualHost>\n"
                          "<VirtualHost *:8080>\nServerName b\n</VirtualHost>\n");
    const pt_vhost_t *m = c->main_server, *a = c->vhosts[0], *b = c->vhosts[1];
    ck_assert_uint_eq(m->sections_absent & (loc | dm), loc | dm);
    ck_assert_uint_eq(b->sections_absent & (loc | dm), loc | dm);
    ck_assert_uint_eq(a->sections_absent & (loc | dm), PT_SEC_BIT(PT_SEC_LOCATION));
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, "/srv/s/f", "/x")), "dir");
    ck_assert_str_eq(order(pt_config_dir_for(ra, b, "/srv/s/f", "/x")), "dir");
    ck_assert_str_eq(order(pt_config_dir_for(ra, a, "/srv/s/f", "/x")), "dir,dm,locmatch");
    ck_assert_str_eq(order(pt_config_dir_for(ra, a, NULL, "/x")), "locmatch");
    pt_config_free(c);
    c = load("Listen 8080\n"
             "<Location /y>\n Header set X-Order loc\n</Location>\n"
             "<DirectoryMatch ^/srv>\n Header set X-Order dm\n</DirectoryMatch>\n"
             "<VirtualHost *:8080>\nServerName b\n</VirtualHost>\n");
    b = c->vhosts[0];
    ck_assert_uint_eq(b->sections_absent & (loc | dm), PT_SEC_BIT(PT_SEC_LOCATION_MATCH));
    ck_assert_str_eq(order(pt_config_dir_for(ra, b, "/srv/f", "/y/z")), "dm,loc");
    ck_assert_str_eq(order(pt_config_dir_for(ra, c->main_server, "/srv/f", "/y")), "dm,loc");
    pt_config_free(c);
}
END_TEST

START_TEST(directory_matches_itself_but_not_a_sibling_prefix)
{
    pt_config_t *c = load("Listen 8080\n<Directory /srv/www/>\n Header set X-Order www\n"
                          "</Directory>\n");
    const pt_vhost_t *m = c->main_server;
    /* A directory comes from the walk with its trailing '/'; a name without one is a file's,
     * matched only when it exists (Apache's walk, see test_apache_status.c). */
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, "/srv/www/", "/")), "www");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, "/srv/www", "/")), "");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, "/srv/www/a/b", "/")), "www");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, "/srv/wwwx/a", "/")), "");
    pt_config_free(c);
}
END_TEST

START_TEST(wildcard_directory_applies_to_directories_on_the_way_only)
{
    /* Apache's walk: <Directory "/x/<star>"> is matched against directories (the walk gives them
     * a trailing '/'), not against a file directly under /x nor a name that does not exist
     * (the walk hands that over without a '/'). */
    pt_config_t *c = load("Listen 8080\n<Directory \"/srv/x/*\">\n Header set X-Order wild\n"
                          "</Directory>\n");
    const pt_vhost_t *m = c->main_server;
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, "/srv/x/sub/", "/sub/")), "wild");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, "/srv/x/sub/f.txt", "/sub/f.txt")), "wild");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, "/srv/x/sub/a/b/", "/sub/a/b/")), "wild");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, "/srv/x/top.txt", "/top.txt")), "");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, "/srv/x/nope", "/nope/x")), "");
    ck_assert_str_eq(order(pt_config_dir_for(ra, m, "/srv/x/", "/")), "");
    pt_config_free(c);
}
END_TEST

/* A reader whose prefix is made as src/htaccess.c makes the ones it keeps: from the
 * directory alone (the name up to its last '/'), not from the file's name. */
static const pt_walk_prefix_t *prefix_of_dir(void *ctx, const pt_vhost_t *vh, const char *name,
                                             size_t dirlen)
{
    (void)ctx;
    pt_walk_prefix_t *p = pt_arena_alloc(ra, sizeof(*p));
    pt_config_walk_prefix(ra, vh, pt_arena_strndup(ra, name, dirlen), NULL, p);
    return p;
}

START_TEST(a_walk_from_a_kept_directory_prefix_merges_what_a_whole_walk_does)
{
    char conf[4096], names[8][256];
    snprintf(conf, sizeof(conf),
             "Listen 8080\nHeader set X-Order server\n"
             "<Directory %s/site>\n Header set X-Order site\n Options -FollowSymLinks\n"
             "  <Files *.php>\n   Header set X-Order files-in-site\n  </Files>\n</Directory>\n"
             "<Directory %s/site/a/f.txt>\n Header set X-Order whole-f\n</Directory>\n"
             "<Directory %s/site/a>\n Header set X-Order a\n Options +FollowSymLinks\n"
             "</Directory>\n"
             "<Directory %s/site/a/*>\n Header set X-Order wild\n</Directory>\n"
             "<Directory %s/site/a/d>\n Header set X-Order whole-d\n</Directory>\n"
             "<DirectoryMatch /a/d>\n Header set X-Order dirmatch\n</DirectoryMatch>\n"
             "<Files ~ \"\\.php$\">\n Header set X-Order filesmatch\n</Files>\n"
             "<Location /loc>\n Header set X-Order loc\n</Location>\n",
             root, root, root, root, root);
    pt_config_t *c = load(conf);
    const char *rel[] = {"/site/a/f.txt", "/site/a/d", "/site/a/d/", "/site/a/d/x.php",
                         "/site/x.php", "/site/a/missing", "/other/f.txt", "/site/a/"};
    char mk[512];
    snprintf(mk, sizeof(mk), "mkdir -p %s/site/a/d %s/other && touch %s/site/a/f.txt "
                             "%s/site/a/d/x.php %s/site/x.php %s/other/f.txt",
             root, root, root, root, root, root);
    ck_assert_int_eq(system(mk), 0);
    pt_htaccess_reader_t kept = {.read = NULL, .prefix = prefix_of_dir, .ctx = NULL};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        snprintf(names[0], sizeof(names[0]), "%s%s", root, rel[i]);
        pt_walk_result_t whole = {0}, part = {.ht = &kept};
        const pt_dir_config_t *a = pt_config_dir_for_walk(ra, c->main_server, names[0],
                                                          names[0], true, "/loc/x", &whole);
        const pt_dir_config_t *b = pt_config_dir_for_walk(ra, c->main_server, names[0],
                                                          names[0], true, "/loc/x", &part);
        ck_assert_msg(strcmp(order(a), order(b)) == 0, "%s: '%s' and '%s'", rel[i], order(a),
                      order(b));
        ck_assert_msg(whole.walk_options == part.walk_options &&
                          whole.dir_options == part.dir_options &&
                          whole.sections == part.sections,
                      "%s: options or sections differ", rel[i]);
    }
    /* The sections that apply, as the whole walk finds them (the order is the merge's). */
    snprintf(names[1], sizeof(names[1]), "%s/site/a/f.txt", root);
    ck_assert_str_eq(order(pt_config_dir_for(ra, c->main_server, names[1], "/")),
                     "server,site,a,whole-f,wild");
    snprintf(names[1], sizeof(names[1]), "%s/site/a/d", root);
    ck_assert_str_eq(order(pt_config_dir_for(ra, c->main_server, names[1], "/")),
                     "server,site,a,wild,whole-d,dirmatch");
    pt_config_free(c);
}
END_TEST

START_TEST(options_merge_through_sections)
{
    pt_config_t *c = load("Listen 8080\n<Directory />\n Options None\n</Directory>\n"
                          "<Directory /srv>\n Options +Indexes +ExecCGI\n</Directory>\n"
                          "<Directory /srv/a>\n Options -ExecCGI\n</Directory>\n"
                          "<Directory /srv/b>\n Options MultiViews\n Options +Includes\n"
                          "</Directory>\n");
    const pt_vhost_t *m = c->main_server;
    ck_assert_uint_eq(pt_config_dir_for(ra, m, "/srv/a/f", NULL)->options, PT_OPT_INDEXES);
    ck_assert_uint_eq(pt_config_dir_for(ra, m, "/srv/b/f", NULL)->options,
                      PT_OPT_MULTIVIEWS | PT_OPT_INCLUDES);
    ck_assert_uint_eq(pt_config_dir_for(ra, m, "/other", NULL)->options, 0);
    pt_config_free(c);
}
END_TEST

/* Apache's core keeps a section's +/- across a later absolute line of the same section
 * (set_options touches opts_add/opts_remove only for +/- words), and every later merge
 * applies them to the value again: "Options -Indexes" then "Options Indexes FollowSymLinks"
 * gives Indexes in that section alone, and none once an inner section (even one with no
 * Options) merges. A +/- after an absolute line counts at later merges the same way.
 * (Found by the differential test against Debian's apache2, seed 20364.) */
START_TEST(a_sections_relative_options_outlive_its_later_absolute_line_as_in_apache)
{
    pt_config_t *c = load("Listen 8080\n<Directory /srv>\n Options -Indexes\n"
                          " Options Indexes FollowSymLinks\n</Directory>\n"
                          "<Directory /srv/a>\n ErrorDocument 404 /x\n</Directory>\n"
                          "<Directory /srv/b>\n Options +ExecCGI\n</Directory>\n"
                          "<Directory /opt>\n Options None\n Options +Indexes\n</Directory>\n"
                          "<Directory /opt/a>\n Options -FollowSymLinks\n</Directory>\n");
    const pt_vhost_t *m = c->main_server;
    const unsigned ix = PT_OPT_INDEXES, fl = PT_OPT_FOLLOW_SYMLINKS;
    ck_assert_uint_eq(pt_config_dir_for(ra, m, "/srv/f", NULL)->options, ix | fl);
    ck_assert_uint_eq(pt_config_dir_for(ra, m, "/srv/a/f", NULL)->options, fl);
    ck_assert_uint_eq(pt_config_dir_for(ra, m, "/srv/b/f", NULL)->options, fl | PT_OPT_EXECCGI);
    ck_assert_uint_eq(pt_config_dir_for(ra, m, "/opt/f", NULL)->options, ix);
    ck_assert_uint_eq(pt_config_dir_for(ra, m, "/opt/a/f", NULL)->options, ix);
    pt_config_free(c);
}
END_TEST

/* mod_ssl's merge: a section whose options all carry + or - adjusts what it inherits; one
 * with a bare option replaces it. */
START_TEST(ssl_options_merge_through_sections_as_mod_ssl_does)
{
    pt_config_t *c = load("Listen 8080\nSSLOptions +StdEnvVars\n"
                          "<Directory /srv>\n SSLOptions +FakeBasicAuth +StrictRequire\n"
                          "</Directory>\n<Directory /srv/a>\n SSLOptions -StrictRequire\n"
                          "</Directory>\n<Directory /srv/b>\n SSLOptions FakeBasicAuth\n"
                          "</Directory>\n");
    const pt_vhost_t *m = c->main_server;
    ck_assert_uint_eq(pt_config_dir_for(ra, m, "/srv/f", NULL)->ssl_options,
                      PT_TLS_OPT_STDENVVARS | PT_TLS_OPT_FAKEBASICAUTH |
                          PT_TLS_OPT_STRICTREQUIRE);
    ck_assert_uint_eq(pt_config_dir_for(ra, m, "/srv/a/f", NULL)->ssl_options,
                      PT_TLS_OPT_STDENVVARS | PT_TLS_OPT_FAKEBASICAUTH);
    ck_assert_uint_eq(pt_config_dir_for(ra, m, "/srv/b/f", NULL)->ssl_options,
                      PT_TLS_OPT_FAKEBASICAUTH);
    ck_assert_uint_eq(pt_config_dir_for(ra, m, "/other", NULL)->ssl_options,
                      PT_TLS_OPT_STDENVVARS);
    pt_config_free(c);
}
END_TEST

/* A section's slot in the vhost's array is filled after its children are walked; a nested
 * <Files> may grow (move) that array meanwhile. Every count of sections before it, every
 * nesting, in the main server and in a virtual host. */
static void check_nested_files_after(int before, bool in_vhost, bool regex)
{
    char *text = pt_arena_calloc(ra, 8192);
    strcat(text, "Listen 8080\n");
    if (in_vhost)
        strcat(text, "<VirtualHost *:8080>\n");
    for (int i = 0; i < before; i++)
        sprintf(text + strlen(text), "<Location /l%d>\n Header set X-Order l%d\n</Location>\n",
                i, i);
    strcat(text, "<Directory /y>\n Header set X-Order dir\n");
    strcat(text, regex ? " <FilesMatch ^a$>\n" : " <Files a>\n");
    strcat(text, "  Header set X-Order files-a\n");
    strcat(text, regex ? " </FilesMatch>\n" : " </Files>\n");
    strcat(text, " <Files b>\n  Header set X-Order files-b\n </Files>\n</Directory>\n");
    strcat(text, "<Location /y>\n Header set X-Order loc-y\n</Location>\n");
    if (in_vhost)
        strcat(text, "</VirtualHost>\n");
    pt_config_t *c = load(text);
    const pt_vhost_t *vh = in_vhost ? c->vhosts[0] : c->main_server;
    ck_assert_uint_eq(vh->nsections, (size_t)before + 4);
    for (size_t i = 0; i < vh->nsections; i++)
        ck_assert_msg(vh->sections[i].pattern != NULL && vh->sections[i].conf != NULL,
                      "section %zu of %zu is empty (%d before)", i, vh->nsections, before);
    ck_assert_str_eq(order(pt_config_dir_for(ra, vh, "/y/a", "/y/a")), "dir,files-a,loc-y");
    ck_assert_str_eq(order(pt_config_dir_for(ra, vh, "/y/b", "/l0")),
                     before ? "dir,files-b,l0" : "dir,files-b");
    ck_assert_str_eq(order(pt_config_dir_for(ra, vh, "/z/a", "/z")), "");
    pt_config_free(c);
}

START_TEST(nested_files_survive_any_number_of_sections_before_them)
{
    for (int before = 0; before <= 40; before++) {
        check_nested_files_after(before, false, false);
        check_nested_files_after(before, false, true);
        check_nested_files_after(before, true, false);
        check_nested_files_after(before, true, true);
    }
}
END_TEST

/* ---- Virtual hosts ---------------------------------------------------------------------- */

static struct sockaddr_in local4(const char *ip, int port)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &s.sin_addr);
    return s;
}

static const char vhosts[] =
    "Listen 8080\nListen 8081\nServerName main\n"
    "<VirtualHost *:8080>\n ServerName first.example\n</VirtualHost>\n"
    "<VirtualHost *:8080>\n ServerName www.example.com\n"
    " ServerAlias example.com *.example.net\n</VirtualHost>\n"
    "<VirtualHost 127.0.0.2:8080>\n ServerName exact.example\n</VirtualHost>\n"
    "<VirtualHost 127.0.0.2:8080>\n ServerName exact2.example\n</VirtualHost>\n"
    "<VirtualHost _default_:*>\n ServerName anyport.example\n</VirtualHost>\n";

START_TEST(selects_virtual_hosts_by_name_among_matching_addresses)
{
    pt_config_t *c = load(vhosts);
    struct sockaddr_in l = local4("127.0.0.1", 8080);
    const struct sockaddr *sa = (const struct sockaddr *)&l;
    ck_assert_str_eq(pt_config_vhost_for(c, sa, "www.example.com")->server_name,
                     "www.example.com");
    ck_assert_str_eq(pt_config_vhost_for(c, sa, "EXAMPLE.com.")->server_name,
                     "www.example.com");
    ck_assert_str_eq(pt_config_vhost_for(c, sa, "a.b.Example.NET")->server_name,
                     "www.example.com");
    ck_assert_str_eq(pt_config_vhost_for(c, sa, "unknown")->server_name, "first.example");
    ck_assert_str_eq(pt_config_vhost_for(c, sa, NULL)->server_name, "first.example");
    ck_assert_str_eq(pt_config_vhost_for(c, sa, "anyport.example")->server_name,
                     "anyport.example");
    pt_config_free(c);
}
END_TEST

START_TEST(prefers_vhosts_naming_the_local_ip)
{
    pt_config_t *c = load(vhosts);
    struct sockaddr_in l = local4("127.0.0.2", 8080);
    const struct sockaddr *sa = (const struct sockaddr *)&l;
    ck_assert_str_eq(pt_config_vhost_for(c, sa, "www.example.com")->server_name,
                     "exact.example");
    ck_assert_str_eq(pt_config_vhost_for(c, sa, "exact2.example")->server_name,
                     "exact2.example");
    pt_config_free(c);
}
END_TEST

/* Within a set, a later vhost naming host wins over the first unless the first names it
 * too; a wildcard vhost naming host never wins over a set that names the local IP, wherever
 * either stands in the file. */
START_TEST(a_set_s_first_vhost_keeps_a_name_a_later_one_shares)
{
    pt_config_t *c = load("Listen 8080\nServerName main\n"
                          "<VirtualHost *:8080>\n ServerName w1\n ServerAlias dup\n"
                          "</VirtualHost>\n"
                          "<VirtualHost *:8080>\n ServerName w2\n ServerAlias dup only2\n"
                          "</VirtualHost>\n"
                          "<VirtualHost 127.0.0.3:8080>\n ServerName e1\n</VirtualHost>\n"
                          "<VirtualHost *:8080>\n ServerName w3\n ServerAlias e2\n"
                          "</VirtualHost>\n"
                          "<VirtualHost 127.0.0.3:8080>\n ServerName e2\n</VirtualHost>\n");
    struct sockaddr_in l1 = local4("127.0.0.1", 8080), l3 = local4("127.0.0.3", 8080);
    const struct sockaddr *wild = (const struct sockaddr *)&l1;
    const struct sockaddr *exact = (const struct sockaddr *)&l3;
    ck_assert_str_eq(pt_config_vhost_for(c, wild, "dup")->server_name, "w1");
    ck_assert_str_eq(pt_config_vhost_for(c, wild, "only2")->server_name, "w2");
    ck_assert_str_eq(pt_config_vhost_for(c, wild, "e2")->server_name, "w3");
    ck_assert_str_eq(pt_config_vhost_for(c, wild, "none")->server_name, "w1");
    ck_assert_str_eq(pt_config_vhost_for(c, exact, "dup")->server_name, "e1");
    ck_assert_str_eq(pt_config_vhost_for(c, exact, "w3")->server_name, "e1");
    ck_assert_str_eq(pt_config_vhost_for(c, exact, "e2")->server_name, "e2");
    ck_assert_ptr_eq(pt_config_vhost_for(c, NULL, "w1"), c->main_server);
    pt_config_free(c);
}
END_TEST

START_TEST(falls_back_to_any_port_vhost_then_main_server)
{
    pt_config_t *c = load(vhosts);
    struct sockaddr_in l = local4("127.0.0.1", 8081);
    const struct sockaddr *sa = (const struct sockaddr *)&l;
    ck_assert_str_eq(pt_config_vhost_for(c, sa, "www.example.com")->server_name,
                     "anyport.example");
    pt_config_free(c);
    c = load("Listen 8080\nListen 8081\nServerName main\n"
             "<VirtualHost *:8080>\n ServerName a\n</VirtualHost>\n");
    ck_assert_ptr_eq(pt_config_vhost_for(c, sa, "a"), c->main_server);
    pt_config_free(c);
}
END_TEST

static Suite *dirconf_suite(void)
{
    Suite *s = suite_create("dirconf");
    TCase *t = tcase_create("dirconf");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, absolute_options_replace_and_relative_ones_adjust_the_outer_set);
    tcase_add_test(t, lists_concatenate_and_inner_error_documents_win_per_status);
    tcase_add_test(t, scalars_come_from_the_inner_config_only_when_set);
    tcase_add_test(t, merges_directories_shortest_first_then_regex_files_and_locations);
    tcase_add_test(t, nested_files_apply_only_inside_their_directory);
    tcase_add_test(t, without_a_file_only_locations_apply);
    tcase_add_test(t, locations_match_on_segment_boundaries);
    tcase_add_test(t, a_walk_skips_only_the_kinds_of_section_a_vhost_has_none_of);
    tcase_add_test(t, directory_matches_itself_but_not_a_sibling_prefix);
    tcase_add_test(t, wildcard_directory_applies_to_directories_on_the_way_only);
    tcase_add_test(t, options_merge_through_sections);
    tcase_add_test(t, a_sections_relative_options_outlive_its_later_absolute_line_as_in_apache);
    tcase_add_test(t, ssl_options_merge_through_sections_as_mod_ssl_does);
    tcase_add_test(t, nested_files_survive_any_number_of_sections_before_them);
    tcase_add_test(t, a_walk_from_a_kept_directory_prefix_merges_what_a_whole_walk_does);
    tcase_add_test(t, selects_virtual_hosts_by_name_among_matching_addresses);
    tcase_add_test(t, prefers_vhosts_naming_the_local_ip);
    tcase_add_test(t, a_set_s_first_vhost_keeps_a_name_a_later_one_shares);
    tcase_add_test(t, falls_back_to_any_port_vhost_then_main_server);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dirconf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
