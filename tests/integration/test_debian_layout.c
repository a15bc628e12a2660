/* Debian's own layout: the apache2 package's configuration files (apache2.conf, ports.conf,
 * mods-enabled, conf-enabled, sites-enabled) as a fresh install leaves them, changed only
 * where a test must (the port, /var/www, the MPM under test, the APACHE_* variables that
 * apache2ctl sources from envvars): `portico -t` passes and the server serves the default
 * site. The files are the package's own (`dpkg -L apache2`) from /etc/apache2, a conffile
 * dpkg reports as changed taken from the package's .deb in /var/cache/apt/archives instead;
 * the *-enabled links are made as the package's postinst makes them on a fresh install, so
 * neither another package's files (dokuwiki's conf) nor an a2enmod run on this machine
 * change what is tested. */
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN_MS 15000

static pth_t *h;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "'%s' failed (%d)", cmd, rc);
}

/* Replaces the one occurrence of from with to in the file at rel (under DIR/apache2). */
static void edit(const char *rel, const char *from, const char *to)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/apache2/%s", h->dir, rel);
    size_t len;
    char *text = pth_read_file(path, &len);
    ck_assert_msg(text != NULL, "%s: %s", path, strerror(errno));
    char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "%s: no '%s' (has the package changed?)", path, from);
    FILE *f = fopen(path, "w"); /* through a sites-enabled symlink: its target in DIR */
    ck_assert_ptr_nonnull(f);
    fwrite(text, 1, (size_t)(at - text), f);
    fputs(to, f);
    fputs(at + strlen(from), f);
    fclose(f);
    free(text);
}

/* The package's conffiles as shipped: those `dpkg -V` reports changed come from the .deb. */
static void restore_changed_conffiles(void)
{
    FILE *p = popen("dpkg -V apache2 2>/dev/null", "r");
    ck_assert_ptr_nonnull(p);
    char line[1024], deb[512] = "";
    while (fgets(line, sizeof(line), p)) {
        char *path = strstr(line, "/etc/apache2/");
        if (!path)
            continue;
        path[strcspn(path, "\n")] = '\0';
        if (!deb[0]) {
            FILE *v = popen("dpkg-query -W -f='${Version}' apache2", "r");
            char ver[128] = "";
            ck_assert_ptr_nonnull(fgets(ver, sizeof(ver), v));
            pclose(v);
            snprintf(deb, sizeof(deb), "/var/cache/apt/archives/apache2_%s_amd64.deb", ver);
            ck_assert_msg(access(deb, R_OK) == 0, "%s changed and %s is missing", path, deb);
        }
        sh("dpkg-deb --fsys-tarfile '%s' | tar -xO '.%s' > '%s/apache2/%s'", deb, path, h->dir,
           path + strlen("/etc/apache2/"));
    }
    pclose(p);
}

/* What apache2ctl exports from /etc/apache2/envvars, pointed into the test's directory; the
 * error log is the harness's, so its checks read the server's. */
static void set_envvars(void)
{
    setenv("APACHE_RUN_USER", "www-data", 1);
    setenv("APACHE_RUN_GROUP", "www-data", 1);
    setenv("APACHE_PID_FILE", h->pid_file, 1);
    setenv("APACHE_RUN_DIR", pth_path(h, "run"), 1);
    setenv("APACHE_LOCK_DIR", pth_path(h, "lock"), 1);
    setenv("APACHE_LOG_DIR", h->dir, 1);
    setenv("LANG", "C", 1);
}

/* What apache2's postinst enables on a fresh install (a2enmod with each module's
 * "# Depends:" line, a2enconf, a2ensite), with the MPM under test in place of mpm_event, as
 * `a2dismod mpm_event; a2enmod mpm_X` would. */
static void enable_defaults(void)
{
    sh("cd '%s/apache2' && mkdir -p mods-enabled conf-enabled sites-enabled && "
       "en() { for m in \"$@\"; do [ -e mods-enabled/$m.load ] && continue; "
       "ln -s ../mods-available/$m.load mods-enabled/ || exit 1; "
       "[ ! -e mods-available/$m.conf ] || ln -s ../mods-available/$m.conf mods-enabled/; "
       "en $(sed -n 's/^# Depends: //p' mods-available/$m.load); done; } && "
       "en mpm_%s authz_host auth_basic access_compat authn_file authz_user alias dir "
       "autoindex env mime negotiation setenvif filter deflate status reqtimeout && "
       "for c in charset localized-error-pages other-vhosts-access-log security "
       "serve-cgi-bin; do ln -s ../conf-available/$c.conf conf-enabled/ || exit 1; done && "
       "ln -s ../sites-available/000-default.conf sites-enabled/", h->dir, pth_mpm());
}

static void setup(void)
{
    h = pth_new();
    ck_assert_msg(access("/etc/apache2/apache2.conf", R_OK) == 0,
                  "Debian's apache2 package is required");
    sh("dpkg -L apache2 | grep '^/etc/apache2/' | while read f; do "
       "if [ -f \"$f\" ] && [ ! -L \"$f\" ]; then "
       "install -D -m 644 \"$f\" '%s/apache2/'\"${f#/etc/apache2/}\" || exit 1; fi; done",
       h->dir);
    restore_changed_conffiles();
    enable_defaults();
    /* Only what a test must change. The port comes from a Define in the harness's file (it
     * is rewritten when a port is taken); -t is given the same names in the environment. */
    edit("ports.conf", "\nListen 80\n", "\nListen 127.0.0.1:${PT_DEB_PORT}\n");
    edit("sites-available/000-default.conf", "<VirtualHost *:80>",
         "<VirtualHost *:${PT_DEB_PORT}>");
    edit("sites-available/000-default.conf", "DocumentRoot /var/www/html",
         "DocumentRoot ${PT_DEB_WWW}/html");
    edit("apache2.conf", "<Directory /var/www/>", "<Directory ${PT_DEB_WWW}/>");
    /* The default site, as the package's postinst installs it in /var/www/html. */
    sh("mkdir -p '%s/www/html' '%s/run' '%s/lock' && cp /usr/share/apache2/default-site/index.html "
       "'%s/www/html/' && chmod -R a+rX '%s/www'", h->dir, h->dir, h->dir, h->dir, h->dir);
    set_envvars();
    char port[16];
    snprintf(port, sizeof(port), "%d", h->port);
    setenv("PT_DEB_PORT", port, 1);
    setenv("PT_DEB_WWW", pth_path(h, "www"), 1);
    pth_config_raw(h, "ServerRoot @DIR@/apache2\nDefine PT_DEB_PORT @PORT@\n"
                      "Define PT_DEB_WWW @DIR@/www\nInclude apache2.conf\n");
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

/* `portico -t -f /etc/apache2/apache2.conf`, run from the copy: -d is the ServerRoot Debian
 * compiles into apache2. */
START_TEST(debians_stock_configuration_passes_the_syntax_check)
{
    pth_run_t r;
    pth_run(h, RUN_MS, &r, "-t", "-d", pth_path(h, "apache2"), "-f", "apache2.conf", NULL);
    ck_assert_msg(r.code == 0 && strstr(r.err, "Syntax OK"), "exit %d, stderr:\n%s", r.code,
                  r.err);
    /* What portico accepts without doing is said, once per name. */
    ck_assert_msg(strstr(r.err, "mods-enabled/negotiation.load:1: notice: LoadModule "
                                "negotiation_module accepted and ignored"), "%s", r.err);
    ck_assert_msg(strstr(r.err, "mods-enabled/autoindex.conf:20: notice: AddIcon ignored"),
                  "%s", r.err);
    ck_assert_msg(strstr(r.err, "conf-enabled/serve-cgi-bin.conf:2: notice: <IfModule "
                                "mod_cgi.c> skipped"), "%s", r.err);
    const char *first = strstr(r.err, "AddIcon ignored");
    ck_assert_ptr_null(strstr(first + 1, "AddIcon ignored"));
    pth_run_free(&r);
}
END_TEST

START_TEST(the_server_serves_debians_default_site)
{
    pth_start(h);
    pth_resp_t r;
    pth_get(h, "/", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "Apache2 Debian Default Page"), "%.300s", r.body);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "text/html");
    pth_resp_free(&r);
    /* alias.conf's /icons/ from the package's data, granted by its <Directory>. */
    pth_get(h, "/icons/apache_pb.png", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "image/png");
    pth_resp_free(&r);
    /* status.conf: server-status for local clients. */
    pth_get(h, "/server-status?auto", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "Total Accesses"), "%.300s", r.body);
    pth_resp_free(&r);
    /* apache2.conf: <FilesMatch "^\.ht"> Require all denied; the rest of / is denied. */
    pth_write_dir_file(h, "www/html/.htpasswd", "u:x\n", 4);
    pth_expect_error(h, "client denied by server configuration");
    pth_get(h, "/.htpasswd", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    pth_resp_free(&r);
    pth_get(h, "/missing.html", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    pth_resp_free(&r);
    /* The site's CustomLog (combined) in ${APACHE_LOG_DIR}. */
    ck_assert(pth_file_wait_contains(pth_path(h, "access.log"), "\"GET / HTTP/1.1\" 200 ",
                                     5000));
    ck_assert(pth_file_wait_contains(pth_path(h, "access.log"), "\"GET /missing.html HTTP/1.1\" "
                                     "404 ", 5000));
}
END_TEST

static Suite *debian_suite(void)
{
    Suite *s = suite_create("debian_layout");
    TCase *tc = tcase_create("debian_layout");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, debians_stock_configuration_passes_the_syntax_check);
    tcase_add_test(tc, the_server_serves_debians_default_site);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(debian_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
