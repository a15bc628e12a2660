/* mod_rewrite with the rule sets applications publish, through the real binary: WordPress's
 * and Laravel's .htaccess rules in a <Directory> in front of a real php-fpm (front
 * controller with !-f/!-d, the trailing-slash redirect, the Authorization header passed
 * through E=), RewriteRule [P] to an HTTP backend, GitLab's documented Apache vhost (its
 * text unchanged but for ports and paths) against the HTTP test backend, and a WebSocket
 * upgrade proxied by [P] to a ws:// origin. */
#include "fcgi_backends.h"
#include "harness.h"
#include "http_backend.h"
#include "ws_backend.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pth_fpm_t fpm; /* shared by the PHP tests (unchecked fixture) */
static pth_t *h;

static void fpm_up(void)
{
    pth_fpm_start_or_exit(&fpm, 4);
}

static void fpm_down(void)
{
    pth_fpm_free(&fpm);
}

static void setup(void)
{
    h = pth_new();
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

static pth_resp_t get(const char *path, const char *const *hdrs, int status)
{
    pth_resp_t r;
    pth_get(h, path, hdrs, &r);
    ck_assert_msg(r.status == status, "GET %s: status %d, want %d; body: %.300s", path,
                  r.status, status, r.body);
    return r;
}

static void get_body(const char *path, const char *const *hdrs, const char *body)
{
    pth_resp_t r = get(path, hdrs, 200);
    ck_assert_msg(strcmp(r.body, body) == 0, "GET %s body: '%s', want '%s'", path, r.body,
                  body);
    pth_resp_free(&r);
}

/* The HTTP backend's echo: its body starts with the request line it was sent. */
static void assert_sent(const pth_resp_t *r, const char *line)
{
    ck_assert_msg(strncmp(r->body, line, strlen(line)) == 0, "backend got: %.200s", r->body);
}

/* A front controller that shows what it was given. */
static const char front_php[] =
    "<?php\nheader('Content-Type: text/plain');\n"
    "echo 'front uri=', $_SERVER['REQUEST_URI'], ' script=', $_SERVER['SCRIPT_NAME'],"
    " ' auth=', $_SERVER['HTTP_AUTHORIZATION'] ?? '-';\n";

#define PHP_HANDLER                                                                    \
    "<FilesMatch \"\\.php$\">\n"                                                       \
    "  SetHandler \"proxy:unix:%s|fcgi://localhost\"\n"                                \
    "</FilesMatch>\n"

/* WordPress's .htaccess (wordpress.org/documentation/article/htaccess), in a <Directory>. */
static const char wordpress_rules[] =
    "<Directory @DOCROOT@>\n"
    "# BEGIN WordPress\n"
    "<IfModule mod_rewrite.c>\n"
    "RewriteEngine On\n"
    "RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\n"
    "RewriteBase /\n"
    "RewriteRule ^index\\.php$ - [L]\n"
    "RewriteCond %{REQUEST_FILENAME} !-f\n"
    "RewriteCond %{REQUEST_FILENAME} !-d\n"
    "RewriteRule . /index.php [L]\n"
    "</IfModule>\n"
    "# END WordPress\n"
    "</Directory>\n";

START_TEST(wordpress_sends_what_is_not_a_file_to_its_front_controller)
{
    pth_write_file(h, "index.php", front_php, sizeof(front_php) - 1);
    pth_write_filef(h, "wp-content/style.css", "body{}\n");
    pth_write_filef(h, "wp-admin/index.php", "<?php echo \"admin\\n\";\n");
    pth_config(h, PHP_HANDLER "DirectoryIndex index.php index.html\n%s", fpm.sock,
               wordpress_rules);
    pth_start(h);
    /* WordPress sets the variable from the header even when it is absent: empty. */
    get_body("/2024/05/hello-world/?p=1", NULL, "front uri=/2024/05/hello-world/?p=1 "
                                                "script=/index.php auth=");
    get_body("/wp-content/style.css", NULL, "body{}\n");
    get_body("/wp-admin/", NULL, "admin\n");
    get_body("/", NULL, "front uri=/ script=/index.php auth=");
    const char *auth[] = {"Authorization: Bearer t0k", NULL};
    get_body("/wp-json/wp/v2/posts", auth, "front uri=/wp-json/wp/v2/posts "
                                           "script=/index.php auth=Bearer t0k");
}
END_TEST

/* The same rules where WordPress writes them: its .htaccess, read under AllowOverride. */
START_TEST(wordpress_rules_work_from_its_htaccess_file)
{
    pth_write_file(h, "index.php", front_php, sizeof(front_php) - 1);
    pth_write_filef(h, "wp-content/style.css", "body{}\n");
    const char *rules = strstr(wordpress_rules, "# BEGIN WordPress");
    size_t n = (size_t)(strstr(rules, "</Directory>") - rules);
    pth_write_file(h, ".htaccess", rules, n);
    pth_write_filef(h, "blog/.htaccess", "RewriteEngine On\nRewriteRule ^old$ new.txt\n"
                                          "RewriteRule ^gw/(.*) http://127.0.0.1:1/$1 [P]\n");
    pth_write_filef(h, "blog/new.txt", "new\n");
    pth_config(h, PHP_HANDLER "DirectoryIndex index.php\n<Directory @DOCROOT@>\n"
                  "  AllowOverride FileInfo\n</Directory>\n", fpm.sock);
    pth_start(h);
    get_body("/2024/05/hello-world/?p=1", NULL, "front uri=/2024/05/hello-world/?p=1 "
                                                "script=/index.php auth=");
    get_body("/wp-content/style.css", NULL, "body{}\n");
    /* [P] to a backend the server does not define: a 500 naming the file and line. */
    pth_resp_t r = get("/blog/old", NULL, 500);
    pth_resp_free(&r);
    pth_expect_error(h, "blog/.htaccess:3: RewriteRule \"proxy:http://127.0.0.1:1\": that "
                        "backend is not defined in the server configuration");
}
END_TEST

/* Laravel's public/.htaccess (laravel/laravel), with public/ as the DocumentRoot. */
static const char laravel_rules[] =
    "DocumentRoot @DOCROOT@/public\n"
    "<Directory @DOCROOT@/public>\n"
    "<IfModule mod_rewrite.c>\n"
    "    <IfModule mod_negotiation.c>\n"
    "        Options -MultiViews -Indexes\n"
    "    </IfModule>\n"
    "    RewriteEngine On\n"
    "    # Handle Authorization Header\n"
    "    RewriteCond %{HTTP:Authorization} .\n"
    "    RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\n"
    "    # Handle X-XSRF-Token Header\n"
    "    RewriteCond %{HTTP:x-xsrf-token} .\n"
    "    RewriteRule .* - [E=HTTP_X_XSRF_TOKEN:%{HTTP:X-XSRF-Token}]\n"
    "    # Redirect Trailing Slashes If Not A Folder...\n"
    "    RewriteCond %{REQUEST_FILENAME} !-d\n"
    "    RewriteCond %{REQUEST_URI} (.+)/$\n"
    "    RewriteRule ^ %1 [L,R=301]\n"
    "    # Send Requests To Front Controller...\n"
    "    RewriteCond %{REQUEST_FILENAME} !-d\n"
    "    RewriteCond %{REQUEST_FILENAME} !-f\n"
    "    RewriteRule ^ index.php [L]\n"
    "</IfModule>\n"
    "</Directory>\n";

START_TEST(laravel_redirects_trailing_slashes_and_passes_authorization)
{
    pth_write_file(h, "public/index.php", front_php, sizeof(front_php) - 1);
    pth_write_filef(h, "public/css/app.css", "app{}\n");
    pth_config(h, PHP_HANDLER "%s", fpm.sock, laravel_rules);
    pth_start(h);
    pth_resp_t r = get("/users/", NULL, 301);
    char want[128];
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/users", h->port);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), want);
    pth_resp_free(&r);
    get_body("/users", NULL, "front uri=/users script=/index.php auth=-");
    const char *auth[] = {"Authorization: Bearer abc", NULL};
    get_body("/api/user?x=1", auth, "front uri=/api/user?x=1 script=/index.php "
                                    "auth=Bearer abc");
    get_body("/css/app.css", NULL, "app{}\n");
    r = get("/css/", NULL, 403); /* a folder: not rewritten, and no index nor listing */
    pth_resp_free(&r);
    pth_expect_error(h, "AH01276");
}
END_TEST

/* Drupal's .htaccess (drupal/core, its mod_rewrite part), in a <Directory>. */
static const char drupal_rules[] =
    "<Directory @DOCROOT@>\n"
    "<IfModule mod_rewrite.c>\n"
    "  RewriteEngine on\n"
    "  RewriteRule ^ - [E=protossl]\n"
    "  RewriteCond %{HTTPS} on\n"
    "  RewriteRule ^ - [E=protossl:s]\n"
    "  RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\n"
    "  RewriteRule \"/\\.|^\\.(?!well-known/)\" - [F]\n"
    "  RewriteCond %{HTTP_HOST} .\n"
    "  RewriteCond %{HTTP_HOST} ^www\\.(.+)$ [NC]\n"
    "  RewriteRule ^ http%{ENV:protossl}://%1%{REQUEST_URI} [L,R=301]\n"
    "  RewriteCond %{REQUEST_FILENAME} !-f\n"
    "  RewriteCond %{REQUEST_FILENAME} !-d\n"
    "  RewriteCond %{REQUEST_URI} !=/favicon.ico\n"
    "  RewriteRule ^ index.php [L]\n"
    "  RewriteCond %{REQUEST_URI} !/core/[^/]*\\.php$\n"
    "  RewriteCond %{REQUEST_URI} !/core/modules/system/tests/https?\\.php\n"
    "  RewriteCond %{REQUEST_URI} !/core/modules/statistics/statistics\\.php$\n"
    "  RewriteRule \"^(.+/.*|autoload)\\.php($|/)\" - [F]\n"
    "  RewriteCond %{REQUEST_FILENAME}\\.gz -s\n"
    "  RewriteCond %{HTTP:Accept-encoding} gzip\n"
    "  RewriteRule ^(.*css_[a-zA-Z0-9-_]+)\\.css$ $1\\.css\\.gz [QSA]\n"
    "  RewriteRule \\.css\\.gz$ - [T=text/css,E=no-gzip:1,E=no-brotli:1]\n"
    "</IfModule>\n"
    "</Directory>\n";

START_TEST(drupal_serves_its_front_controller_precompressed_css_and_hides_php)
{
    pth_write_file(h, "index.php", front_php, sizeof(front_php) - 1);
    pth_write_filef(h, "core/install.php", "<?php echo 'install';\n");
    pth_write_filef(h, "modules/x/x.php", "<?php echo 'x';\n");
    pth_write_filef(h, "sites/default/files/css/css_abc.css", "plain css\n");
    pth_write_filef(h, "sites/default/files/css/css_abc.css.gz", "gzipped css\n");
    pth_config(h, PHP_HANDLER "DirectoryIndex index.php\n%s", fpm.sock, drupal_rules);
    pth_start(h);
    get_body("/node/1", NULL, "front uri=/node/1 script=/index.php auth=");
    get_body("/core/install.php", NULL, "install");
    pth_resp_t r = get("/modules/x/x.php", NULL, 403);
    pth_resp_free(&r);
    const char *gz[] = {"Accept-Encoding: gzip", NULL};
    r = get("/sites/default/files/css/css_abc.css", gz, 200);
    ck_assert_str_eq(r.body, "gzipped css\n");
    ck_assert_str_eq(pth_resp_header(&r, "Content-Type"), "text/css");
    pth_resp_free(&r);
    get_body("/sites/default/files/css/css_abc.css", NULL, "plain css\n");
    const char *www[] = {"Host: www.example.org", NULL};
    r = get("/node/1?x=1", www, 301);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "http://example.org/node/1?x=1");
    pth_resp_free(&r);
}
END_TEST

/* Nextcloud's .htaccess (nextcloud/server, its mod_rewrite part), in a <Directory>. */
static const char nextcloud_rules[] =
    "<Directory @DOCROOT@>\n"
    "<IfModule mod_rewrite.c>\n"
    "  RewriteEngine on\n"
    "  RewriteCond %{HTTP_USER_AGENT} DavClnt\n"
    "  RewriteRule ^$ /remote.php/webdav/ [L,R=302]\n"
    "  RewriteRule .* - [env=HTTP_AUTHORIZATION:%{HTTP:Authorization}]\n"
    "  RewriteRule ^\\.well-known/carddav /remote.php/dav/ [R=301,L]\n"
    "  RewriteRule ^\\.well-known/caldav /remote.php/dav/ [R=301,L]\n"
    "  RewriteRule ^remote/(.*) remote.php [QSA,L]\n"
    "  RewriteRule ^(?:build|tests|config|lib|3rdparty|templates)/.* - [R=404,L]\n"
    "  RewriteRule ^\\.well-known/(?!acme-challenge|pki-validation) /index.php [QSA,L]\n"
    "  RewriteRule ^ocm-provider/?$ index.php [QSA,L]\n"
    "  RewriteRule ^(?:\\.(?!well-known)|autotest|occ|issue|indie|db_|console).* - [R=404,L]\n"
    "</IfModule>\n"
    "</Directory>\n";

START_TEST(nextcloud_redirects_dav_clients_and_answers_404_for_internal_paths)
{
    pth_write_file(h, "index.php", front_php, sizeof(front_php) - 1);
    pth_write_file(h, "remote.php", front_php, sizeof(front_php) - 1);
    pth_write_filef(h, "lib/base.php", "<?php // internal\n");
    pth_write_filef(h, "occ", "#!/usr/bin/env php\n");
    pth_write_filef(h, ".well-known/acme-challenge/t0k", "acme\n");
    pth_config(h, PHP_HANDLER "DirectoryIndex index.php\n%s", fpm.sock, nextcloud_rules);
    pth_start(h);
    char want[128];
    const char *dav[] = {"User-Agent: Microsoft-WebDAV-MiniRedir DavClnt", NULL};
    pth_resp_t r = get("/", dav, 302);
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/remote.php/webdav/", h->port);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), want);
    pth_resp_free(&r);
    r = get("/.well-known/carddav", NULL, 301);
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/remote.php/dav/", h->port);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), want);
    pth_resp_free(&r);
    get_body("/remote/files?x=1", NULL, "front uri=/remote/files?x=1 script=/remote.php auth=");
    get_body("/.well-known/nodeinfo", NULL, "front uri=/.well-known/nodeinfo "
                                            "script=/index.php auth=");
    get_body("/.well-known/acme-challenge/t0k", NULL, "acme\n");
    r = get("/lib/base.php", NULL, 404);
    pth_resp_free(&r);
    r = get("/occ", NULL, 404);
    pth_resp_free(&r);
    get_body("/", NULL, "front uri=/ script=/index.php auth=");
}
END_TEST

START_TEST(h_hands_php_files_to_php_fpm_as_sethandler_would)
{
    pth_write_file(h, "front.php", front_php, sizeof(front_php) - 1);
    pth_write_filef(h, "plain.txt", "plain\n");
    pth_config(h, "RewriteEngine On\n"
                  "RewriteRule \\.php$ - [H=proxy:unix:%s|fcgi://localhost]\n", fpm.sock);
    pth_start(h);
    get_body("/front.php?a=1", NULL, "front uri=/front.php?a=1 script=/front.php auth=-");
    get_body("/plain.txt", NULL, "plain\n");
}
END_TEST

/* ---- [P] ----------------------------------------------------------------------------------- */

START_TEST(p_hands_the_rewritten_url_to_the_http_backend)
{
    pth_http_backend_t be;
    pth_http_backend_start_must(&be, NULL);
    pth_config(h, "RewriteEngine On\nRewriteRule ^/app/(.*)$ http://127.0.0.1:%d/$1 [P,QSA]\n"
                  "RewriteRule ^/q/(.*)$ http://127.0.0.1:%d/$1?added=1 [P,QSA]\n",
               be.port, be.port);
    pth_start(h);
    pth_resp_t r = get("/app/echo?x=1", NULL, 200);
    assert_sent(&r, "GET /echo?x=1 HTTP/1.1\r\n");
    pth_resp_free(&r);
    r = get("/q/echo?x=1", NULL, 200);
    assert_sent(&r, "GET /echo?added=1&x=1 HTTP/1.1\r\n");
    pth_resp_free(&r);
    pth_http_backend_stop(&be);
}
END_TEST

/* [P] and H=proxy: in a .htaccess file use the backend the server configuration defines for
 * that origin (here its own [P] rule's; a <Proxy> section would do). */
START_TEST(p_in_a_htaccess_file_uses_the_servers_backend)
{
    pth_http_backend_t be;
    pth_http_backend_start_must(&be, NULL);
    pth_write_filef(h, "sub/.htaccess", "RewriteEngine On\n"
                    "RewriteRule ^(.*)$ http://127.0.0.1:%d/in/$1 [P,QSA]\n", be.port);
    pth_config(h, "RewriteEngine On\nRewriteRule ^/app/(.*)$ http://127.0.0.1:%d/$1 [P]\n"
                  "<Directory @DOCROOT@/sub>\n  AllowOverride FileInfo\n</Directory>\n",
               be.port);
    pth_start(h);
    pth_resp_t r = get("/sub/echo?x=1", NULL, 200);
    assert_sent(&r, "GET /in/echo?x=1 HTTP/1.1\r\n");
    pth_resp_free(&r);
    pth_http_backend_stop(&be);
}
END_TEST

/* gitlab-recipes web-server/apache/gitlab-apache24.conf as published, with the workhorse's
 * port, the server name, DocumentRoot and the log paths adjusted. */
static const char gitlab_conf[] =
    "<VirtualHost *:@PORT@>\n"
    "  ServerName gitlab.test\n"
    "  ServerSignature Off\n"
    "\n"
    "  ProxyPreserveHost On\n"
    "\n"
    "  # Ensure that encoded slashes are not decoded but left in their encoded state.\n"
    "  # http://doc.gitlab.com/ce/api/projects.html#get-single-project\n"
    "  AllowEncodedSlashes NoDecode\n"
    "\n"
    "  <Location />\n"
    "    # New authorization commands for apache 2.4 and up\n"
    "    # http://httpd.apache.org/docs/2.4/upgrading.html#access\n"
    "    Require all granted\n"
    "\n"
    "    #Allow forwarding to gitlab-workhorse\n"
    "    ProxyPassReverse http://127.0.0.1:%d\n"
    "    ProxyPassReverse http://gitlab.test/\n"
    "  </Location>\n"
    "\n"
    "  # Apache equivalent of nginx try files\n"
    "  RewriteEngine on\n"
    "\n"
    "  #Don't escape encoded characters in api requests\n"
    "  RewriteCond %%{REQUEST_URI} ^/api/v3/.*\n"
    "  RewriteRule .* http://127.0.0.1:%d%%{REQUEST_URI} [P,QSA,NE]\n"
    "\n"
    "  #Forward all requests to gitlab-workhorse except existing files like error documents\n"
    "  RewriteCond %%{DOCUMENT_ROOT}/%%{REQUEST_FILENAME} !-f [OR]\n"
    "  RewriteCond %%{REQUEST_URI} ^/uploads/.*\n"
    "  RewriteRule .* http://127.0.0.1:%d%%{REQUEST_URI} [P,QSA]\n"
    "\n"
    "  # needed for downloading attachments\n"
    "  DocumentRoot @DOCROOT@\n"
    "\n"
    "  #Set up apache error documents, if back end goes down (i.e. 503 error) then a "
    "maintenance/deploy page is thrown up.\n"
    "  ErrorDocument 404 /404.html\n"
    "  ErrorDocument 422 /422.html\n"
    "  ErrorDocument 500 /500.html\n"
    "  ErrorDocument 503 /deploy.html\n"
    "\n"
    "  LogFormat \"%%{X-Forwarded-For}i %%l %%u %%t \\\"%%r\\\" %%>s %%b\" common_forwarded\n"
    "  ErrorLog @DIR@/gitlab_error.log\n"
    "  CustomLog @DIR@/gitlab_forwarded.log common_forwarded\n"
    "  CustomLog @DIR@/gitlab_access.log combined env=!dontlog\n"
    "  CustomLog @DIR@/gitlab.log combined\n"
    "\n"
    "</VirtualHost>\n";

START_TEST(gitlabs_documented_vhost_proxies_to_workhorse_and_serves_its_files)
{
    pth_http_backend_t be;
    pth_http_backend_start_must(&be, NULL);
    pth_write_filef(h, "deploy.html", "deploying\n");
    pth_write_filef(h, "uploads/a.png", "local upload\n");
    pth_config(h, gitlab_conf, be.port, be.port, be.port);
    pth_start(h);
    const char *host[] = {"Host: gitlab.test", NULL};
    pth_resp_t r = get("/group/project/echo?ref=main", host, 200);
    assert_sent(&r, "GET /group/project/echo?ref=main HTTP/1.1\r\n");
    ck_assert_msg(strstr(r.body, "\r\nHost: gitlab.test\r\n"), "%.400s", r.body); /* preserved */
    pth_resp_free(&r);
    r = get("/api/v3/projects/echo", host, 200);
    assert_sent(&r, "GET /api/v3/projects/echo HTTP/1.1\r\n");
    pth_resp_free(&r);
    /* The reason for the recipe's NE and NoDecode: an encoded slash reaches the API as sent. */
    r = get("/api/v3/projects/group%2Fproject/echo", host, 200);
    assert_sent(&r, "GET /api/v3/projects/group%2Fproject/echo HTTP/1.1\r\n");
    pth_resp_free(&r);
    get_body("/deploy.html", host, "deploying\n");       /* an existing file is served */
    r = get("/uploads/echo", host, 200);                  /* uploads always go to workhorse */
    assert_sent(&r, "GET /uploads/echo HTTP/1.1\r\n");
    pth_resp_free(&r);
    pth_http_backend_stop(&be);
}
END_TEST

/* ---- WebSocket --------------------------------------------------------------------------- */

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void read_head(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    int64_t end = pth_now_ms() + 5000;
    while (n + 1 < cap && (n < 4 || memcmp(buf + n - 4, "\r\n\r\n", 4) != 0)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = end - pth_now_ms();
        ck_assert_msg(left > 0 && poll(&p, 1, (int)left) == 1, "no response head");
        ck_assert_int_eq(read(fd, buf + n, 1), 1);
        buf[++n] = '\0';
    }
}

START_TEST(a_websocket_upgrade_is_proxied_by_p_to_a_ws_origin)
{
    pth_ws_backend_t be;
    pth_ws_backend_start_must(&be);
    pth_config(h, "RewriteEngine on\n"
                  "RewriteCond %%{HTTP:Upgrade} websocket [NC]\n"
                  "RewriteCond %%{HTTP:Connection} upgrade [NC]\n"
                  "RewriteRule ^/?(.*) \"ws://127.0.0.1:%d/$1\" [P,L]\n", be.port);
    pth_start(h);
    int fd = connect_port(h->port);
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    char req[512];
    int n = snprintf(req, sizeof(req), "GET /chat/echo HTTP/1.1\r\nHost: localhost\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", key);
    ck_assert_int_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    char head[2048], accept[64], want[128];
    read_head(fd, head, sizeof(head));
    ck_assert_msg(strncmp(head, "HTTP/1.1 101 ", 13) == 0, "%s", head);
    pth_ws_accept_for(key, accept);
    snprintf(want, sizeof(want), "\r\nSec-WebSocket-Accept: %s\r\n", accept);
    ck_assert_msg(strstr(head, want), "%s", head);
    ck_assert_int_eq(pth_ws_send_frame(fd, 1, "hello", 5, true), 0);
    void *p;
    size_t len;
    ck_assert_int_eq(pth_ws_read_frame(fd, &p, &len, 5000), 1);
    ck_assert_uint_eq(len, 5);
    ck_assert_mem_eq(p, "hello", 5);
    free(p);
    close(fd);
    /* Without the upgrade, the conditions do not hold: the request is not proxied. */
    pth_write_filef(h, "chat/plain.txt", "plain\n");
    get_body("/chat/plain.txt", NULL, "plain\n");
    ck_assert(pth_ws_backend_wait_open(&be, 0, 5000));
    pth_ws_backend_stop(&be);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rewrite_apps");
    TCase *php = tcase_create("php-fpm");
    tcase_add_unchecked_fixture(php, fpm_up, fpm_down);
    tcase_add_checked_fixture(php, setup, teardown);
    tcase_add_test(php, wordpress_sends_what_is_not_a_file_to_its_front_controller);
    tcase_add_test(php, wordpress_rules_work_from_its_htaccess_file);
    tcase_add_test(php, laravel_redirects_trailing_slashes_and_passes_authorization);
    tcase_add_test(php, h_hands_php_files_to_php_fpm_as_sethandler_would);
    tcase_add_test(php, nextcloud_redirects_dav_clients_and_answers_404_for_internal_paths);
    tcase_add_test(php, drupal_serves_its_front_controller_precompressed_css_and_hides_php);
    suite_add_tcase(s, php);
    TCase *proxy = tcase_create("proxy");
    tcase_add_checked_fixture(proxy, setup, teardown);
    tcase_add_test(proxy, p_hands_the_rewritten_url_to_the_http_backend);
    tcase_add_test(proxy, p_in_a_htaccess_file_uses_the_servers_backend);
    tcase_add_test(proxy, gitlabs_documented_vhost_proxies_to_workhorse_and_serves_its_files);
    tcase_add_test(proxy, a_websocket_upgrade_is_proxied_by_p_to_a_ws_origin);
    suite_add_tcase(s, proxy);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
