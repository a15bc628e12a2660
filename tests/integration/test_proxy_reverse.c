/* ProxyPassReverse and the cookie rules through the real HTTP proxy, against the raw test
 * origin (http_backend.h "redirect", which builds its URLs from the Host it is sent, as an
 * application does): Location and Content-Location mapped to the front end's URL at server
 * level, inside <Location> and for a balancer's member, Set-Cookie's path and domain
 * rewritten, and the X-Forwarded-For the proxy adds carrying the client mod_remoteip found
 * behind a trusted proxy. */
#include "harness.h"
#include "http_backend.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pth_t *h;
static pth_http_backend_t be;

static void setup(void)
{
    h = pth_new();
    pth_http_backend_start_must(&be, NULL);
}

static void teardown(void)
{
    pth_free(h);
    pth_http_backend_stop(&be);
}

/* GET path (with "Host: localhost:PORT" from curl's URL) and its answer. */
static void get(const char *path, const char *const *hdrs, pth_resp_t *r)
{
    pth_get(h, path, hdrs, r);
}

/* The front end's URL for path, as the client named it (curl sends Host 127.0.0.1:PORT). */
static char *front(const char *path)
{
    char *s = malloc(256);
    ck_assert_ptr_nonnull(s);
    snprintf(s, 256, "http://127.0.0.1:%d%s", h->port, path);
    return s;
}

START_TEST(location_and_content_location_come_back_as_the_front_url)
{
    pth_config(h, "ProxyPass /app/ http://127.0.0.1:%d/\n"
                  "ProxyPassReverse /app/ http://127.0.0.1:%d/\n", be.port, be.port);
    pth_start(h);
    pth_resp_t r;
    get("/app/redirect?to=/login", NULL, &r);
    ck_assert_int_eq(r.status, 302);
    char *want = front("/app/login");
    ck_assert_str_eq(pth_resp_header(&r, "Location"), want);
    ck_assert_str_eq(pth_resp_header(&r, "Content-Location"), want);
    free(want);
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(an_unmapped_backend_url_passes_unchanged)
{
    pth_config(h, "ProxyPass /app/ http://127.0.0.1:%d/\n"
                  "ProxyPassReverse /other/ http://127.0.0.1:1/\n", be.port);
    pth_start(h);
    pth_resp_t r;
    get("/app/redirect?to=/login", NULL, &r);
    char want[128];
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/login", be.port);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), want);
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(inside_location_the_sections_path_is_the_public_one)
{
    pth_config(h, "<Location /jenkins/>\n"
                  "  ProxyPass http://127.0.0.1:%d/jenkins/ nocanon\n"
                  "  ProxyPassReverse http://127.0.0.1:%d/jenkins/\n"
                  "</Location>\n", be.port, be.port);
    pth_start(h);
    pth_resp_t r;
    get("/jenkins/redirect?to=/jenkins/login", NULL, &r);
    ck_assert_int_eq(r.status, 302);
    char *want = front("/jenkins/login");
    ck_assert_str_eq(pth_resp_header(&r, "Location"), want);
    free(want);
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(set_cookie_path_and_domain_are_rewritten)
{
    pth_config(h, "ProxyPass /app/ http://127.0.0.1:%d/\n"
                  "ProxyPassReverseCookiePath / /app/\n"
                  "ProxyPassReverseCookieDomain backend.internal front.example\n", be.port);
    pth_start(h);
    pth_resp_t r;
    get("/app/redirect?cpath=/&cdomain=backend.internal", NULL, &r);
    ck_assert_str_eq(pth_resp_header(&r, "Set-Cookie"),
                     "sid=1; Path=/app/; Domain=front.example; HttpOnly");
    pth_resp_free(&r);
    get("/app/redirect?cpath=/x&cdomain=elsewhere.example", NULL, &r);
    ck_assert_str_eq(pth_resp_header(&r, "Set-Cookie"),
                     "sid=1; Path=/app/; Domain=elsewhere.example; HttpOnly");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(a_balancer_rule_maps_the_members_urls)
{
    pth_config(h, "<Proxy \"balancer://app\">\n"
                  "  BalancerMember http://127.0.0.1:%d\n"
                  "  BalancerMember http://127.0.0.1:1 status=+D\n"
                  "</Proxy>\n"
                  /* The Apache manual's form: no trailing '/' on either side. */
                  "ProxyPass /lb balancer://app\n"
                  "ProxyPassReverse /lb balancer://app\n", be.port);
    pth_start(h);
    pth_resp_t r;
    get("/lb/redirect?to=/next/page", NULL, &r);
    ck_assert_int_eq(r.status, 302);
    char *want = front("/lb/next/page");
    ck_assert_str_eq(pth_resp_header(&r, "Location"), want);
    free(want);
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* The request head the backend echoed (before "\n--\n"). */
static char *echoed_head(const pth_resp_t *r)
{
    const char *e = strstr(r->body, "\n--\n");
    return strndup(r->body, e ? (size_t)(e - r->body) : r->body_len);
}

START_TEST(x_forwarded_for_carries_the_client_remoteip_found)
{
    pth_config(h, "ProxyPass /b/ http://127.0.0.1:%d/\n"
                  "RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 127.0.0.1\n",
               be.port);
    pth_start(h);
    pth_resp_t r;
    const char *hd[] = {"X-Forwarded-For: 198.51.100.4, 203.0.113.7", NULL};
    get("/b/echo", hd, &r);
    ck_assert_int_eq(r.status, 200);
    char *head = echoed_head(&r);
    /* 127.0.0.1 (internal) presented 203.0.113.7, the client; the rest of the chain (not
     * vouched for) stays, and the proxy appends the client it found. */
    ck_assert_msg(strstr(head, "\r\nX-Forwarded-For: 198.51.100.4, 203.0.113.7\r\n"), "%s",
                  head);
    free(head);
    pth_resp_free(&r);
    const char *none[] = {NULL};
    get("/b/echo", none, &r);
    head = echoed_head(&r);
    ck_assert_msg(strstr(head, "\r\nX-Forwarded-For: 127.0.0.1\r\n"), "%s", head);
    free(head);
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* ---- Configs people already have (the list), addresses adjusted ---------------- */

/* Jenkins' documented Apache reverse proxy (jenkins.io, "Reverse proxy - Apache"), word for
 * word but for the address (127.0.0.1 and the test backend's port for localhost:8081), with
 * its Apache 2.2 "Order deny,allow / Allow from all" (mod_access_compat). */
static void start_jenkins(bool encoded_slashes)
{
    pth_config(h, "ProxyPass         /jenkins  http://127.0.0.1:%d/jenkins nocanon\n"
                  "ProxyPassReverse  /jenkins  http://127.0.0.1:%d/jenkins\n"
                  "ProxyRequests     Off\n"
                  "%s"
                  "\n"
                  "# Local reverse proxy authorization override\n"
                  "# Most unix distribution deny proxy by default\n"
                  "# See /etc/apache2/mods-enabled/proxy.conf in Ubuntu\n"
                  "<Proxy http://127.0.0.1:%d/jenkins*>\n"
                  "  Order deny,allow\n"
                  "  Allow from all\n"
                  "</Proxy>\n",
               be.port, be.port, encoded_slashes ? "AllowEncodedSlashes NoDecode\n" : "",
               be.port);
    pth_start(h);
}

/* The <Proxy> section's host rules are enforced, not only accepted: the same text with the
 * Allow turned into a Deny refuses before the backend sees anything, and a <Location>'s
 * rules replace the <Proxy>'s (Apache merges <Proxy> first). */
START_TEST(jenkins_proxy_section_host_rules_are_enforced)
{
    pth_config(h, "ProxyPass         /jenkins  http://127.0.0.1:%d/jenkins nocanon\n"
                  "ProxyRequests     Off\n"
                  "<Proxy http://127.0.0.1:%d/jenkins*>\n"
                  "  Order deny,allow\n"
                  "  Deny from all\n"
                  "</Proxy>\n"
                  "<Location /jenkins/open>\n"
                  "  Order allow,deny\n"
                  "  Allow from 127.0.0.1\n"
                  "</Location>\n",
               be.port, be.port);
    pth_expect_error(h, "AH01797: client denied by server configuration");
    pth_start(h);
    pth_resp_t r;
    get("/jenkins/job/x/echo", NULL, &r);
    ck_assert_int_eq(r.status, 403);
    pth_resp_free(&r);
    ck_assert_int_eq(atomic_load(&be.counts->requests), 0);
    get("/jenkins/open/echo", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(jenkins_config_maps_redirects_and_passes_encoded_slashes_raw)
{
    start_jenkins(true);
    pth_resp_t r;
    get("/jenkins/redirect?to=/jenkins/manage", NULL, &r);
    ck_assert_int_eq(r.status, 302);
    char *want = front("/jenkins/manage");
    ck_assert_str_eq(pth_resp_header(&r, "Location"), want);
    free(want);
    pth_resp_free(&r);
    /* A job named "a/b" is job/a%2Fb: with nocanon and NoDecode it reaches Jenkins as
     * sent. */
    get("/jenkins/job/a%2Fb/echo?x=%41", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    char *head = echoed_head(&r);
    ck_assert_msg(strncmp(head, "GET /jenkins/job/a%2Fb/echo?x=%41 HTTP/1.1\r\n", 43) == 0,
                  "%s", head);
    free(head);
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

START_TEST(without_allowencodedslashes_an_encoded_slash_is_404_as_apache)
{
    start_jenkins(false);
    pth_resp_t r;
    get("/jenkins/job/a%2Fb/echo", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    pth_resp_free(&r);
    ck_assert_int_eq(atomic_load(&be.counts->requests), 0);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* Jenkins' documented virtual host with ProxyPreserveHost and the forwarded scheme. */
START_TEST(jenkins_vhost_with_preserved_host_and_forwarded_proto)
{
    pth_config(h, "<VirtualHost *:@PORT@>\n"
                  "    ServerName        www.example.com\n"
                  "    ProxyRequests     Off\n"
                  "    ProxyPreserveHost On\n"
                  "    AllowEncodedSlashes NoDecode\n"
                  "    <Proxy http://127.0.0.1:%d/jenkins*>\n"
                  "      Order deny,allow\n"
                  "      Allow from all\n"
                  "    </Proxy>\n"
                  "    ProxyPass         /jenkins  http://127.0.0.1:%d/jenkins nocanon\n"
                  "    ProxyPassReverse  /jenkins  http://127.0.0.1:%d/jenkins\n"
                  "    ProxyPassReverse  /jenkins  http://www.example.com/jenkins\n"
                  "    RequestHeader set X-Forwarded-Proto \"https\"\n"
                  "    RequestHeader set X-Forwarded-Port \"443\"\n"
                  "</VirtualHost>\n", be.port, be.port, be.port);
    pth_start(h);
    const char *hd[] = {"Host: www.example.com", NULL};
    pth_resp_t r;
    get("/jenkins/job/x%2Fy/echo", hd, &r);
    ck_assert_int_eq(r.status, 200);
    char *head = echoed_head(&r);
    ck_assert_msg(strstr(head, "GET /jenkins/job/x%2Fy/echo HTTP/1.1\r\n") == head, "%s", head);
    ck_assert_msg(strstr(head, "\r\nHost: www.example.com\r\n"), "%s", head);
    ck_assert_msg(strstr(head, "\r\nX-Forwarded-Proto: https\r\n"), "%s", head);
    ck_assert_msg(strstr(head, "\r\nX-Forwarded-Port: 443\r\n"), "%s", head);
    ck_assert_msg(!strstr(head, "X-Forwarded-Proto: http\r\n"), "%s", head);
    free(head);
    pth_resp_free(&r);
    /* Jenkins builds its redirect from the preserved Host: the second rule maps it. */
    get("/jenkins/redirect?to=/jenkins/login", hd, &r);
    ck_assert_int_eq(r.status, 302);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "http://www.example.com/jenkins/login");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

/* GitLab's documented Apache 2.4 vhost (gitlab-omnibus-apache24.conf): its <Location /> of
 * ProxyPassReverse lines, ProxyPreserveHost, NoDecode and the forwarded-scheme headers as
 * written. Its forwarding is a mod_rewrite [P] rule, which portico does not have: a
 * ProxyPass to the same workhorse address stands in for it. */
START_TEST(gitlab_vhost_location_reverse_rules_map_the_workhorse_urls)
{
    pth_config(h, "<VirtualHost *:@PORT@>\n"
                  "  ServerName gitlab.example.com\n"
                  "  ServerSignature Off\n"
                  "  ProxyPreserveHost On\n"
                  "  AllowEncodedSlashes NoDecode\n"
                  "  <Location />\n"
                  "    Require all granted\n"
                  "    #Allow forwarding to gitlab-workhorse\n"
                  "    ProxyPassReverse http://127.0.0.1:%d\n"
                  "    #Allow forwarding to GitLab Rails app (Unicorn)\n"
                  "    ProxyPassReverse http://127.0.0.1:1\n"
                  "    ProxyPassReverse http://gitlab.example.com/\n"
                  "  </Location>\n"
                  "  ProxyPass / http://127.0.0.1:%d/ nocanon\n"
                  "  RequestHeader set X_FORWARDED_PROTO 'https'\n"
                  "  RequestHeader set X-Forwarded-Ssl on\n"
                  "</VirtualHost>\n", be.port, be.port);
    pth_start(h);
    const char *hd[] = {"Host: gitlab.example.com", NULL};
    pth_resp_t r;
    get("/api/v4/projects/group%2Fproject/echo", hd, &r);
    ck_assert_int_eq(r.status, 200);
    char *head = echoed_head(&r);
    ck_assert_msg(strstr(head, "GET /api/v4/projects/group%2Fproject/echo HTTP/1.1\r\n") == head,
                  "%s", head);
    ck_assert_msg(strstr(head, "\r\nX_FORWARDED_PROTO: https\r\n"), "%s", head);
    ck_assert_msg(strstr(head, "\r\nX-Forwarded-Ssl: on\r\n"), "%s", head);
    free(head);
    pth_resp_free(&r);
    get("/redirect?to=/users/sign_in", hd, &r);
    ck_assert_int_eq(r.status, 302);
    ck_assert_str_eq(pth_resp_header(&r, "Location"), "http://gitlab.example.com/users/sign_in");
    pth_resp_free(&r);
    ck_assert_int_eq(pth_stop(h), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("proxy_reverse");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, location_and_content_location_come_back_as_the_front_url);
    tcase_add_test(tc, an_unmapped_backend_url_passes_unchanged);
    tcase_add_test(tc, inside_location_the_sections_path_is_the_public_one);
    tcase_add_test(tc, set_cookie_path_and_domain_are_rewritten);
    tcase_add_test(tc, a_balancer_rule_maps_the_members_urls);
    tcase_add_test(tc, x_forwarded_for_carries_the_client_remoteip_found);
    tcase_add_test(tc, jenkins_config_maps_redirects_and_passes_encoded_slashes_raw);
    tcase_add_test(tc, without_allowencodedslashes_an_encoded_slash_is_404_as_apache);
    tcase_add_test(tc, jenkins_vhost_with_preserved_host_and_forwarded_proto);
    tcase_add_test(tc, jenkins_proxy_section_host_rules_are_enforced);
    tcase_add_test(tc, gitlab_vhost_location_reverse_rules_map_the_workhorse_urls);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
