/* mod_ssl's access hook for a request: SSLRequireSSL refuses plain connections, each
 * SSLRequire expression must hold on a TLS one, and SSLUserName names the user; and its
 * user check: the FakeBasicAuth spoof refused, +FakeBasicAuth's header made, +StrictRequire.
 * Messages and their AH numbers are mod_ssl's (ssl_engine_kernel.c). */
#include "ssl_access.h"

#include "auth_basic.h"
#include "expr.h"
#include "tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static const char *what(const pt_request_t *r)
{
    return r->filename ? r->filename : r->uri;
}

/* The client's address as text (not through request.c, which calls the access phase). */
static const char *ip_text(const pt_request_t *r, const struct sockaddr *client)
{
    char buf[INET6_ADDRSTRLEN] = "";
    if (client && client->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)client)->sin_addr, buf, sizeof(buf));
    else if (client && client->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)client)->sin6_addr, buf,
                  sizeof(buf));
    return pt_arena_strdup(r->arena, buf[0] ? buf : "-");
}

static int check_requires(pt_request_t *r, const struct sockaddr *client)
{
    const pt_dir_config_t *dc = r->dir;
    for (size_t i = 0; i < dc->nssl_require; i++) {
        const char *err = NULL;
        int ok = pt_expr_eval(r, dc->ssl_require[i], NULL, &err);
        if (ok < 0) {
            pt_log_rmerror("ssl", PT_LOG_WARN, r, "AH02265: access to %s failed, reason: "
                           "Failed to execute SSL requirement expression: %s", what(r),
                           err ? err : "unknown error");
            return 403;
        }
        if (ok == 0) {
            pt_log_rmerror("ssl", PT_LOG_INFO, r, "AH02266: Access to %s denied for %s "
                           "(requirement expression not fulfilled)", what(r),
                           ip_text(r, client));
            pt_log_rmerror("ssl", PT_LOG_INFO, r, "AH02228: Failed expression: %s",
                           dc->ssl_require[i]->source);
            return 403;
        }
    }
    return 0;
}

bool pt_ssl_access_configured(const pt_dir_config_t *dc)
{
    return dc->ssl_require_ssl || dc->nssl_require || dc->ssl_user_name;
}

int pt_ssl_access_check(pt_request_t *r, const struct sockaddr *client)
{
    const pt_dir_config_t *dc = r->dir;
    bool tls = r->conn && pt_tls_active(r->conn);
    if (dc->ssl_require_ssl && !tls) {
        pt_log_rmerror("ssl", PT_LOG_ERR, r, "AH02219: access to %s failed, reason: SSL "
                       "connection required", what(r));
        return 403;
    }
    if (!tls)
        return 0;
    if (dc->ssl_user_name) {
        const char *v = pt_tls_var(r->conn, r->arena, dc->ssl_user_name);
        if (v && *v)
            r->user = v;
        else
            pt_log_rmerror("ssl", PT_LOG_WARN, r, "AH02227: Failed to set r->user to '%s'",
                           dc->ssl_user_name);
    }
    return check_requires(r, client);
}

/* A DN typed as the user name with the password FakeBasicAuth's users file expects: were it
 * taken, anyone could claim any certificate's subject without holding the certificate. The
 * recipe's hash is DES crypt, which reads 8 characters: "password" and anything after it
 * (mod_ssl compares the whole word, and "passwordX" passes there). */
static bool fake_basic_auth_spoof(pt_request_t *r)
{
    const char *user = NULL, *pw = NULL;
    if (!pt_auth_basic_credentials(r, &user, &pw) || user[0] != '/' ||
        strncmp(pw, "password", 8) != 0)
        return false;
    pt_log_rmerror("ssl", PT_LOG_ERR, r, "AH02035: Encountered FakeBasicAuth spoof: %s", user);
    return true;
}

int pt_ssl_user_check(pt_request_t *r, bool ssl_refused)
{
    const pt_dir_config_t *dc = r->dir;
    if (ssl_refused && (dc->ssl_options & PT_TLS_OPT_STRICTREQUIRE))
        return 403;
    /* mod_ssl checks only the initial request, since its own header looks like a spoof; an
     * internal redirect to a protected place would then take typed credentials. Here what
     * +FakeBasicAuth set is known, and every other header is checked. */
    const char *auth = pt_table_get(&r->headers_in, "Authorization");
    if (auth && r->ssl_fake_auth && strcmp(auth, r->ssl_fake_auth) == 0)
        return 0;
    if (fake_basic_auth_spoof(r))
        return 403;
    if (!(dc->ssl_options & PT_TLS_OPT_FAKEBASICAUTH) || r->user || !r->conn)
        return 0;
    const char *dn = pt_tls_client_dn_verified(r->conn, r->arena);
    if (!dn)
        return 0;
    /* The users file's entry for a DN holds the crypt of "password" (mod_ssl's recipe). */
    pt_auth_basic_set(r, dn, "password");
    r->ssl_fake_auth = pt_table_get(&r->headers_in, "Authorization");
    pt_log_rmerror("ssl", PT_LOG_INFO, r, "AH02036: Faking HTTP Basic Auth header: "
                   "\"Authorization: %s\"", r->ssl_fake_auth);
    return 0;
}
