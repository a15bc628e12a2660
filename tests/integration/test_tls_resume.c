/* Session resumption with tickets whichever child answers (tls/tickets.c): the ticket keys
 * are made by the parent and shared by every child, so a session made with one child
 * resumes with any other and with the children of the next generation (a graceful
 * restart); every child issues tickets under one key, which the parent rotates;
 * SSLSessionTickets off; two portico instances given one SSLSessionTicketKeyFile resume
 * each other's sessions. Client: openssl s_client -sess_out / -sess_in. */
#include "harness.h"
#include "tlsx_tools.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pth_t *h;

static void setup(void)
{
    h = pth_new();
    pth_write_filef(h, "index.html", "resumed or not");
}

static void teardown(void)
{
    pth_stop(h);
    pth_free(h);
    h = NULL;
}

/* A server of two children (so that two processes answer) listening on listen, with the
 * lines of rest after the main server's. */
static void config_two_children(pth_t *s, const char *listen, const char *rest)
{
    bool prefork = strcmp(pth_mpm(), "prefork") == 0;
    pth_config_raw(s,
        "MPM %s\nListen %s https\nServerName localhost\n"
        "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
        "CustomLog @DIR@/access.log common\nDocumentRoot @DOCROOT@\n"
        "<Directory @DOCROOT@>\nRequire all granted\n</Directory>\n%s%s\n",
        pth_mpm(), listen,
        prefork ? "StartServers 3\nMinSpareServers 3\nMaxSpareServers 4\nServerLimit 8\n"
                : "StartServers 2\nThreadsPerChild 4\nMinSpareThreads 8\n"
                  "MaxSpareThreads 12\nServerLimit 4\n",
        rest);
}

/* A TLS server of two children with extra lines. */
static void config_tls(pth_t *s, const char *extra)
{
    char rest[8192];
    snprintf(rest, sizeof(rest),
             "SSLEngine on\nSSLCertificateFile %s\nSSLCertificateKeyFile %s\n%s",
             tlsx_file("a.test.rsa.pem"), tlsx_file("a.test.rsa.key"), extra);
    config_two_children(s, "127.0.0.1:@PORT@", rest);
}

/* n random bytes into h's DIR/name (a ticket key file is mod_ssl's 48). */
/* The TLS server of config_tls with top's lines, then the name-based hosts a.test and b.test
 * (their own certificates) with a_lines and b_lines. */
static void config_sni(const char *top, const char *a_lines, const char *b_lines)
{
    char lines[4096];
    snprintf(lines, sizeof(lines),
             "%s<VirtualHost *:@PORT@>\nServerName a.test\nSSLEngine on\nSSLCertificateFile %s\n"
             "SSLCertificateKeyFile %s\n%s</VirtualHost>\n"
             "<VirtualHost *:@PORT@>\nServerName b.test\nSSLEngine on\nSSLCertificateFile %s\n"
             "SSLCertificateKeyFile %s\n%s</VirtualHost>\n",
             top, tlsx_file("a.test.rsa.pem"), tlsx_file("a.test.rsa.key"), a_lines,
             tlsx_file("b.test.rsa.pem"), tlsx_file("b.test.rsa.key"), b_lines);
    config_tls(h, lines);
}

static void key_file(const char *name, int n)
{
    free(tlsx_sh_ok(10, "openssl rand -out %s %d", pth_path(h, name), n));
}

static void assert_has(const char *out, const char *needle, const char *what)
{
    ck_assert_msg(strstr(out, needle) != NULL, "%s: no '%s' in:\n%.3000s", what, needle, out);
}

/* openssl s_client to s over TLS version v ("-tls1_3", "-tls1_2") with SNI server, saving
 * its session into h's DIR/file (how "sess_out") or offering the one saved there
 * ("sess_in"): its output. */
static char *s_client_session(pth_t *s, const char *v, const char *server, const char *how,
                              const char *file)
{
    char args[512];
    snprintf(args, sizeof(args), "%s -servername %s -%s %s", v, server, how,
             pth_path(h, file));
    return tlsx_s_client(s->port, args);
}

/* A new session into h's DIR/name, over TLS version v ("-tls1_3", "-tls1_2"). */
static void new_session(pth_t *s, const char *v, const char *name)
{
    char *out = s_client_session(s, v, "a.test", "sess_out", name);
    assert_has(out, "New, TLSv1.", "first connection");
    assert_has(out, "resumed or not", "first connection");
    free(out);
}

/* Offers the saved session to s: whether it was resumed ("Reused") or not ("New"). */
static bool resumes(pth_t *s, const char *v, const char *name)
{
    char *out = s_client_session(s, v, "a.test", "sess_in", name);
    assert_has(out, "resumed or not", "resumption attempt");
    bool reused = strstr(out, "Reused, TLSv1.") != NULL;
    ck_assert_msg(reused || strstr(out, "New, TLSv1."), "neither New nor Reused:\n%.3000s", out);
    free(out);
    return reused;
}

/* Waits until none of the children in old[] is alive (a graceful restart replaced them). */
static void wait_children_replaced(const pid_t *old, int nold)
{
    for (int64_t end = pth_now_ms() + 15000; pth_now_ms() < end; pth_sleep_ms(50)) {
        pid_t now[64];
        int n = pth_children(h->pid, now, 64), alive = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < nold; j++)
                alive += now[i] == old[j];
        if (alive == 0 && n > 0)
            return;
    }
    ck_abort_msg("the old generation's children did not exit");
}

START_TEST(a_session_resumes_on_every_child_and_after_a_graceful_restart)
{
    config_tls(h, "");
    pth_start(h);
    const char *v[] = {"-tls1_3", "-tls1_2"}, *f[] = {"s13.pem", "s12.pem"};
    for (int i = 0; i < 2; i++) {
        new_session(h, v[i], f[i]);
        /* Sequential connections land on whichever child accepts first: all resume. */
        for (int k = 0; k < 6; k++)
            ck_assert_msg(resumes(h, v[i], f[i]), "%s: attempt %d was not resumed", v[i], k);
    }
    pid_t old[64];
    int nold = pth_children(h->pid, old, 64);
    ck_assert_int_gt(nold, 0);
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    wait_children_replaced(old, nold);
    /* Children that never saw these sessions, forked from the parent after its reload. */
    for (int i = 0; i < 2; i++)
        ck_assert_msg(resumes(h, v[i], f[i]), "%s: not resumed after the restart", v[i]);
}
END_TEST

/* The ticket's first 16 bytes are the name of the key it was encrypted with (RFC 5077's
 * recommended format, which OpenSSL keeps): the "0000 - " line of sess_id's dump. */
static char *key_name_of(const char *name)
{
    char *out = tlsx_sh_ok(10, "openssl sess_id -in %s -noout -text", pth_path(h, name));
    const char *t = strstr(out, "TLS session ticket:");
    ck_assert_msg(t != NULL, "no ticket in the session:\n%.2000s", out);
    const char *line = strstr(t, "0000 - ");
    ck_assert_ptr_nonnull(line);
    char *name16 = strndup(line, strcspn(line, "\n"));
    free(out);
    return name16;
}

/* A new TLS 1.3 session with SNI server into h's DIR/name: the name of its ticket's key. */
static char *session_key(const char *server, const char *name)
{
    if (strcmp(server, "a.test") == 0)
        new_session(h, "-tls1_3", name);
    else
        free(s_client_session(h, "-tls1_3", server, "sess_out", name));
    return key_name_of(name);
}

/* New sessions with SNI server until one is under another key than old (the ring turns at
 * the parent's tick, each second): that key's name. Fails when a session begun ms or more
 * from now is still under old, as one made after a sleep of ms would. */
static char *session_under_a_new_key(const char *server, const char *old, int ms)
{
    int64_t end = pth_now_ms() + ms;
    for (int n = 0;; n++) {
        char file[32];
        snprintf(file, sizeof(file), "turn%d.pem", n);
        int64_t begun = pth_now_ms();
        char *k = session_key(server, file);
        if (strcmp(k, old) != 0)
            return k;
        ck_assert_msg(begun < end, "%s: still the key of %d ms ago: %s", server, ms, k);
        free(k);
        pth_sleep_ms(100);
    }
}

START_TEST(every_child_issues_tickets_under_one_key)
{
    config_tls(h, "");
    pth_start(h);
    char file[32];
    char *first = NULL;
    for (int i = 0; i < 6; i++) {
        snprintf(file, sizeof(file), "k%d.pem", i);
        new_session(h, "-tls1_3", file);
        char *name = key_name_of(file);
        if (!first)
            first = name;
        else {
            ck_assert_str_eq(name, first);
            free(name);
        }
    }
    free(first);
}
END_TEST

START_TEST(the_parent_rotates_the_key_and_every_child_follows)
{
    /* The rotation period is the session lifetime, here 1 s (the parent ticks each second). */
    config_tls(h, "SSLSessionCacheTimeout 1\n");
    pth_start(h);
    new_session(h, "-tls1_3", "before.pem");
    char *a = key_name_of("before.pem");
    free(session_under_a_new_key("a.test", a, 3500));
    for (int i = 0; i < 4; i++) {
        char file[32];
        snprintf(file, sizeof(file), "after%d.pem", i);
        new_session(h, "-tls1_3", file);
        char *b = key_name_of(file);
        ck_assert_msg(strcmp(a, b) != 0, "still the key of 3.5 s ago: %s", b);
        free(b);
    }
    free(a);
}
END_TEST

START_TEST(sessiontickets_off_issues_no_ticket_and_nothing_resumes)
{
    config_tls(h, "SSLSessionTickets off\n");
    pth_start(h);
    const char *v[] = {"-tls1_3", "-tls1_2"};
    for (int i = 0; i < 2; i++) {
        char *out = s_client_session(h, v[i], "a.test", "sess_out", "off.pem");
        assert_has(out, "New, TLSv1.", v[i]);
        ck_assert_msg(strstr(out, "TLS session ticket:") == NULL, "%s: a ticket:\n%.3000s", v[i],
                      out);
        free(out);
        if (access(pth_path(h, "off.pem"), F_OK) == 0) /* TLS 1.2: a session ID */
            for (int k = 0; k < 3; k++)
                ck_assert_msg(!resumes(h, v[i], "off.pem"), "%s: resumed", v[i]);
        unlink(pth_path(h, "off.pem"));
    }
}
END_TEST

START_TEST(two_instances_with_one_key_file_resume_each_others_sessions)
{
    /* mod_ssl's file: 16 bytes key name, 16 HMAC secret, 16 AES key. */
    key_file("ticket.key", 48);
    char line[600];
    snprintf(line, sizeof(line), "SSLSessionTicketKeyFile %s\n", pth_path(h, "ticket.key"));
    pth_t *h2 = pth_new(), *h3 = pth_new();
    config_tls(h, line);
    config_tls(h2, line);
    config_tls(h3, "");
    pth_write_filef(h2, "index.html", "resumed or not");
    pth_write_filef(h3, "index.html", "resumed or not");
    pth_start(h);
    pth_start(h2);
    pth_start(h3);
    const char *v[] = {"-tls1_3", "-tls1_2"}, *f[] = {"r13.pem", "r12.pem"};
    for (int i = 0; i < 2; i++) {
        new_session(h, v[i], f[i]);
        ck_assert_msg(resumes(h2, v[i], f[i]), "%s: the replica did not resume", v[i]);
        ck_assert_msg(resumes(h, v[i], f[i]), "%s: the first did not resume", v[i]);
        ck_assert_msg(!resumes(h3, v[i], f[i]), "%s: a stranger resumed", v[i]);
    }
    pth_stop(h2);
    pth_stop(h3);
    pth_free(h2);
    pth_free(h3);
}
END_TEST

/* A name-based host's key file encrypts and decrypts its tickets (the ClientHello's SNI
 * switches to its context before OpenSSL reads the ticket), the default host's ring its
 * own. */
START_TEST(a_key_file_on_a_name_based_host_resumes_through_sni)
{
    key_file("b.key", 48);
    char *out, b_lines[600];
    snprintf(b_lines, sizeof(b_lines), "SSLSessionTicketKeyFile %s\n", pth_path(h, "b.key"));
    config_sni("", "", b_lines);
    pth_start(h);
    const char *v[] = {"-tls1_3", "-tls1_2"};
    for (int i = 0; i < 2; i++)
        for (int n = 0; n < 2; n++) {
            const char *name = n ? "b.test" : "a.test";
            char file[32];
            snprintf(file, sizeof(file), "sni%d%d.pem", i, n);
            out = s_client_session(h, v[i], name, "sess_out", file);
            assert_has(out, "New, TLSv1.", name);
            free(out);
            out = s_client_session(h, v[i], name, "sess_in", file);
            ck_assert_msg(strstr(out, "Reused, TLSv1."), "%s %s: not resumed:\n%.3000s", v[i],
                          name, out);
            free(out);
        }
}
END_TEST

START_TEST(a_key_file_of_the_wrong_size_is_a_config_error_with_its_line)
{
    key_file("short.key", 32);
    char line[600];
    snprintf(line, sizeof(line), "SSLSessionTicketKeyFile %s\n", pth_path(h, "short.key"));
    config_tls(h, line);
    pth_run_t r;
    pth_run(h, 10000, &r, "-t", "-f", h->conf, NULL);
    ck_assert_int_ne(r.code, 0);
    assert_has(r.err, "must hold exactly 48 bytes", "portico -t");
    /* The directive's own line, found in the file as written. */
    char *conf = pth_read_file(h->conf, NULL), at[64];
    int lineno = 1;
    for (const char *p = conf; p < strstr(conf, "SSLSessionTicketKeyFile"); p++)
        lineno += *p == '\n';
    snprintf(at, sizeof(at), "portico.conf:%d", lineno);
    free(conf);
    assert_has(r.err, at, "portico -t");
    pth_run_free(&r);
}
END_TEST

/* Two servers of one ServerName, on two addresses of one port, the second with
 * SSLVerifyClient require: a session made with the first, without a client certificate,
 * does not resume with the second (which would serve it without one). The ticket keys are
 * every server's: the session id context alone tells them apart. */
START_TEST(a_session_without_a_client_certificate_does_not_resume_where_one_is_required)
{
    char vhosts[2048];
    snprintf(vhosts, sizeof(vhosts),
             "<VirtualHost 127.0.0.1:@PORT@>\nServerName a.test\nSSLEngine on\n"
             "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n</VirtualHost>\n"
             "<VirtualHost 127.0.0.2:@PORT@>\nServerName a.test\nSSLEngine on\n"
             "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
             "SSLVerifyClient require\nSSLCACertificateFile %s\n</VirtualHost>\n",
             tlsx_file("a.test.rsa.pem"), tlsx_file("a.test.rsa.key"),
             tlsx_file("a.test.rsa.pem"), tlsx_file("a.test.rsa.key"), tlsx_file("ca.pem"));
    config_two_children(h, "@PORT@", vhosts);
    pth_start(h);
    const char *v[] = {"-tls1_3", "-tls1_2"};
    for (int i = 0; i < 2; i++) {
        char args[512], file[32];
        /* (without a certificate, a full handshake with the second is refused) */
        snprintf(args, sizeof(args), "%s -servername a.test -connect 127.0.0.2:%d", v[i],
                 h->port);
        char *out = tlsx_s_client(h->port, args);
        ck_assert_msg(strstr(out, "resumed or not") == NULL,
                      "%s: served a client without a certificate:\n%.3000s", v[i], out);
        free(out);
        snprintf(file, sizeof(file), "pub%d.pem", i);
        new_session(h, v[i], file); /* with 127.0.0.1, which asks for no certificate */
        snprintf(args, sizeof(args), "%s -servername a.test -connect 127.0.0.2:%d -sess_in %s",
                 v[i], h->port, pth_path(h, file));
        out = tlsx_s_client(h->port, args);
        ck_assert_msg(strstr(out, "resumed or not") == NULL,
                      "%s: a session made without a client certificate was served where one "
                      "is required:\n%.3000s",
                      v[i], out);
        free(out);
    }
}
END_TEST

/* A new SSLSessionTicketKeyFile (the old key replaced, a graceful restart) stops tickets
 * under the old key from resuming, as mod_ssl's restart does: after a leak, replacing the
 * file is the way to retire the key. */
START_TEST(a_replaced_ticket_key_file_no_longer_resumes_its_old_tickets)
{
    key_file("ticket.key", 48);
    char line[600];
    snprintf(line, sizeof(line), "SSLSessionTicketKeyFile %s\n", pth_path(h, "ticket.key"));
    config_tls(h, line);
    pth_start(h);
    const char *v[] = {"-tls1_3", "-tls1_2"}, *f[] = {"k13.pem", "k12.pem"};
    for (int i = 0; i < 2; i++) {
        new_session(h, v[i], f[i]);
        ck_assert_msg(resumes(h, v[i], f[i]), "%s: not resumed before the new key", v[i]);
    }
    key_file("ticket.key", 48);
    pid_t old[64];
    int nold = pth_children(h->pid, old, 64);
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    wait_children_replaced(old, nold);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(!resumes(h, v[i], f[i]),
                      "%s: a ticket under the replaced file's key still resumes", v[i]);
}
END_TEST

/* The address's default server says SSLSessionTickets off and b.test keeps them: b.test's
 * tickets are under the parent's ring, rotated every SSLSessionCacheTimeout, not under a
 * key OpenSSL made once at start (its ticket callback is the first context's). */
START_TEST(an_sni_servers_tickets_follow_the_rotated_keys_when_the_default_has_none)
{
    config_sni("SSLSessionCacheTimeout 1\n", "SSLSessionTickets off\n", "");
    pth_start(h);
    char *a = session_key("b.test", "b0.pem");
    /* (the ring turns every second here: SSLSessionCacheTimeout 1) */
    char *b = session_under_a_new_key("b.test", a, 3500);
    free(a);
    free(b);
}
END_TEST

/* The lifetime hint of the ticket in the session saved as DIR/name (sess_id's text). */
static long ticket_lifetime_of(const char *name)
{
    char *out = tlsx_sh_ok(10, "openssl sess_id -in %s -noout -text", pth_path(h, name));
    const char *t = strstr(out, "lifetime hint:");
    ck_assert_msg(t != NULL, "no ticket lifetime hint in the session:\n%.2000s", out);
    long hint = strtol(t + strlen("lifetime hint:"), NULL, 10);
    free(out);
    return hint;
}

/* SSLSessionCacheTimeout is each server's own, as in mod_ssl: a name-based virtual host's
 * sessions live as long as it says, not as long as the address's default server says
 * (OpenSSL gives a new session the lifetime of the connection's first context, whichever
 * server SNI switched to). */
START_TEST(an_sni_servers_sessions_live_as_long_as_its_own_sessioncachetimeout)
{
    config_sni("", "SSLSessionCacheTimeout 3000\n", "SSLSessionCacheTimeout 2\n");
    pth_start(h);
    const char *v[] = {"-tls1_3", "-tls1_2"}, *b[] = {"b13.pem", "b12.pem"};
    for (int i = 0; i < 2; i++) {
        free(s_client_session(h, v[i], "a.test", "sess_out", "a.pem"));
        ck_assert_int_eq(ticket_lifetime_of("a.pem"), 3000);
        free(s_client_session(h, v[i], "b.test", "sess_out", b[i]));
        ck_assert_msg(ticket_lifetime_of(b[i]) == 2, "%s: b.test's ticket lives %ld s",
                      v[i], ticket_lifetime_of(b[i]));
    }
    /* Past b.test's lifetime (both sessions': one wait), and well within a.test's, b.test's
     * sessions are over. */
    pth_sleep_ms(3500);
    for (int i = 0; i < 2; i++) {
        char *out = s_client_session(h, v[i], "b.test", "sess_in", b[i]);
        ck_assert_msg(strstr(out, "New, TLSv1.") != NULL,
                      "%s: b.test resumed a session older than its 2 s:\n%.3000s", v[i], out);
        free(out);
    }
}
END_TEST

/* The ring turns every SSLSessionCacheTimeout of the configuration now loaded: after a
 * graceful restart that shortened it from a day to a second, the keys turn every second
 * (a shorter lifetime is often the answer to a leaked key), not every day until the parent
 * exits. */
START_TEST(a_graceful_restart_that_shortens_the_session_lifetime_turns_the_keys_sooner)
{
    config_tls(h, "SSLSessionCacheTimeout 86400\n");
    pth_start(h);
    new_session(h, "-tls1_3", "day.pem");
    char *a = key_name_of("day.pem");
    pid_t old[64];
    int nold = pth_children(h->pid, old, 64);
    ck_assert_int_gt(nold, 0);
    config_tls(h, "SSLSessionCacheTimeout 1\n");
    ck_assert_int_eq(kill(h->pid, SIGUSR1), 0);
    wait_children_replaced(old, nold);
    /* (a second's period, and the parent ticks each second) */
    char *b = session_under_a_new_key("a.test", a, 3500);
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    tlsx_pki();
    Suite *s = suite_create("tls_resume");
    TCase *tc = tcase_create("resume");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, a_session_resumes_on_every_child_and_after_a_graceful_restart);
    tcase_add_test(tc, every_child_issues_tickets_under_one_key);
    tcase_add_test(tc, the_parent_rotates_the_key_and_every_child_follows);
    tcase_add_test(tc, sessiontickets_off_issues_no_ticket_and_nothing_resumes);
    tcase_add_test(tc, two_instances_with_one_key_file_resume_each_others_sessions);
    tcase_add_test(tc, a_key_file_on_a_name_based_host_resumes_through_sni);
    tcase_add_test(tc, a_key_file_of_the_wrong_size_is_a_config_error_with_its_line);
    tcase_add_test(tc,
                   a_session_without_a_client_certificate_does_not_resume_where_one_is_required);
    tcase_add_test(tc, a_replaced_ticket_key_file_no_longer_resumes_its_old_tickets);
    tcase_add_test(tc, an_sni_servers_tickets_follow_the_rotated_keys_when_the_default_has_none);
    tcase_add_test(tc, an_sni_servers_sessions_live_as_long_as_its_own_sessioncachetimeout);
    tcase_add_test(tc, a_graceful_restart_that_shortens_the_session_lifetime_turns_the_keys_sooner);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
