/* The SSL* directives (mod_ssl's names and meanings) into one pt_tls_conf_t per server,
 * and the extension's finish hook: each virtual host merged over the main server, then the
 * SSL_CTXs made (tls_ctx.c). Directives whose behaviour lives elsewhere (tickets, stapling,
 * the proxy's SSLProxy*) are parsed and stored here all the same, so that one table knows
 * the whole language. */
#include "expr_parse.h"
#include "log.h"
#include "tls.h"
#include "tls_ctx.h"

#include <stdio.h>
#include <strings.h>

/* The server's conf, made at its first SSL* line (the config is still being built, so the
 * const the readers see is cast away here only). */
static pt_tls_conf_t *conf_of(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_vhost_t *vh = s->vh;
    if (vh->tls)
        return (pt_tls_conf_t *)vh->tls;
    pt_tls_conf_t *tc = pt_arena_calloc(l->a, sizeof(*tc));
    tc->engine = tc->honor_order = tc->tickets = tc->verify_client = tc->verify_depth = -1;
    tc->strict_sni = tc->use_stapling = tc->stapling_return_errors = -1;
    tc->stapling_fake_try_later = tc->proxy_engine = tc->proxy_verify = -1;
    tc->proxy_verify_depth = tc->proxy_check_peer_name = tc->proxy_check_peer_cn = -1;
    tc->proxy_check_peer_expire = tc->crl_check = tc->proxy_crl_check = -1;
    tc->stapling_max_age_s = tc->stapling_time_skew_s = -1;
    tc->ocsp_enable = tc->ocsp_override = tc->ocsp_nonce = tc->ocsp_no_verify = -1;
    tc->ocsp_timeout_s = tc->ocsp_time_skew_s = -1;
    tc->ocsp_max_age_s = -2;
    tc->cache_timeout_s = tc->stapling_timeout_ms = -1;
    tc->stapling_standard_timeout_s = tc->stapling_error_timeout_s = -1;
    tc->file = n->file;
    tc->line = n->line;
    vh->tls = tc;
    return tc;
}

static int onoff(dcx_t *l, const pt_node_t *n, int *out)
{
    bool b = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &b) < 0)
        return -1;
    *out = b;
    return 0;
}

static pt_tls_path_t path_of(dcx_t *l, const pt_node_t *n, const char *p)
{
    return (pt_tls_path_t){.path = pt_dcx_path(l, p), .file = n->file, .line = n->line};
}

#define ONOFF(fn, field)                                                                   \
    static int fn(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)                            \
    {                                                                                      \
        return onoff(l, n, &conf_of(l, s, n)->field);                                      \
    }
#define PATH(fn, field)                                                                    \
    static int fn(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)                            \
    {                                                                                      \
        conf_of(l, s, n)->field = path_of(l, n, n->argv[0]);                               \
        return 0;                                                                          \
    }

/* SSLEngine on|off|optional ("optional" is RFC 2817 upgrade, which no browser uses). */
static int set_ssl_engine(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (strcasecmp(n->argv[0], "optional") == 0)
        return pt_dcx_fail(l, n, "SSLEngine optional (TLS upgrade, RFC 2817) is not "
                           "supported: use on or off");
    return onoff(l, n, &conf_of(l, s, n)->engine);
}

static int set_ssl_certificate_file(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_tls_conf_t *tc = conf_of(l, s, n);
    pt_tls_path_t *p = pt_dcx_push(l->a, &tc->certs, &tc->ncerts, sizeof(*p));
    *p = path_of(l, n, n->argv[0]);
    return 0;
}

static int set_ssl_certificate_key_file(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_tls_conf_t *tc = conf_of(l, s, n);
    pt_tls_path_t *p = pt_dcx_push(l->a, &tc->keys, &tc->nkeys, sizeof(*p));
    *p = path_of(l, n, n->argv[0]);
    return 0;
}

PATH(set_ssl_certificate_chain_file, chain)
PATH(set_ssl_ca_certificate_file, ca_file)
PATH(set_ssl_ca_certificate_path, ca_path)
PATH(set_ssl_session_ticket_key_file, ticket_key_file)
PATH(set_ssl_stapling_file, stapling_file)
PATH(set_ssl_proxy_ca_certificate_file, proxy_ca_file)
PATH(set_ssl_ca_revocation_file, crl_file)
PATH(set_ssl_ca_revocation_path, crl_path)
PATH(set_ssl_cadn_request_file, cadn_file)
PATH(set_ssl_cadn_request_path, cadn_path)
PATH(set_ssl_proxy_ca_certificate_path, proxy_ca_path)
PATH(set_ssl_proxy_ca_revocation_file, proxy_crl_file)
PATH(set_ssl_proxy_ca_revocation_path, proxy_crl_path)
PATH(set_ssl_proxy_machine_certificate_file, proxy_machine_file)
PATH(set_ssl_proxy_machine_certificate_path, proxy_machine_path)
PATH(set_ssl_proxy_machine_certificate_chain_file, proxy_machine_chain)
ONOFF(set_ssl_honor_cipher_order, honor_order)
ONOFF(set_ssl_session_tickets, tickets)
static int set_ssl_strict_sni(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_tls_conf_t *tc = conf_of(l, s, n);
    if (onoff(l, n, &tc->strict_sni) < 0)
        return -1;
    if (tc->strict_sni > 0)
        l->cfg->strict_sni = true;
    return 0;
}
ONOFF(set_ssl_use_stapling, use_stapling)
ONOFF(set_ssl_stapling_return_errors, stapling_return_errors)
ONOFF(set_ssl_stapling_fake_try_later, stapling_fake_try_later)
ONOFF(set_ssl_proxy_engine, proxy_engine)
ONOFF(set_ssl_proxy_check_peer_name, proxy_check_peer_name)
ONOFF(set_ssl_proxy_check_peer_cn, proxy_check_peer_cn)
ONOFF(set_ssl_proxy_check_peer_expire, proxy_check_peer_expire)

/* SSLProtocol [+|-]proto ...: mod_ssl's syntax. portico speaks TLS 1.2 and 1.3 only, so
 * "all" is those two, and SSLv3, TLSv1 and TLSv1.1 are refused whenever they would be
 * added (a warning: they are in configs people already have, as "all -SSLv3"). */
static int parse_protocols(dcx_t *l, const pt_node_t *n, unsigned *out)
{
    unsigned set = 0;
    for (int i = 0; i < n->argc; i++) {
        const char *a = n->argv[i];
        char op = (*a == '+' || *a == '-') ? *a++ : 0;
        unsigned bits = 0;
        if (strcasecmp(a, "all") == 0)
            bits = PT_TLS_V12 | PT_TLS_V13;
        else if (strcasecmp(a, "TLSv1.2") == 0)
            bits = PT_TLS_V12;
        else if (strcasecmp(a, "TLSv1.3") == 0)
            bits = PT_TLS_V13;
        else if (strcasecmp(a, "SSLv3") == 0 || strcasecmp(a, "TLSv1") == 0 ||
                 strcasecmp(a, "TLSv1.1") == 0 || strcasecmp(a, "SSLv2") == 0) {
            if (op != '-')
                pt_log_error(PT_LOG_WARN, NULL, "%s:%d: %s: %s is not offered by portico "
                             "(TLS 1.2 and 1.3 only)", n->file, n->line, n->name, a);
            continue;
        } else
            return pt_dcx_fail(l, n, "%s: unknown protocol '%s'", n->name, n->argv[i]);
        if (op == '-')
            set &= ~bits;
        else if (op == '+')
            set |= bits;
        else
            set = bits;
    }
    if (!set)
        return pt_dcx_fail(l, n, "%s: no protocol left (portico offers TLSv1.2 and TLSv1.3)",
                           n->name);
    *out = set;
    return 0;
}

static int set_ssl_protocol(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return parse_protocols(l, n, &conf_of(l, s, n)->protocols);
}

static int set_ssl_proxy_protocol(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return parse_protocols(l, n, &conf_of(l, s, n)->proxy_protocols);
}

/* SSLCipherSuite [protocol] spec: protocol SSL (the default) is TLS 1.2's list, TLSv1.3
 * its suites (OpenSSL keeps the two apart). Checked when the SSL_CTX is made. */
static int cipher_suite(dcx_t *l, const pt_node_t *n, const char **c12, const char **c13)
{
    if (n->argc == 1) {
        *c12 = n->argv[0];
        return 0;
    }
    if (strcasecmp(n->argv[0], "TLSv1.3") == 0)
        *c13 = n->argv[1];
    else if (strcasecmp(n->argv[0], "SSL") == 0)
        *c12 = n->argv[1];
    else
        return pt_dcx_fail(l, n, "%s: unknown protocol '%s' (SSL or TLSv1.3)", n->name,
                           n->argv[0]);
    return 0;
}

static int set_ssl_cipher_suite(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_tls_conf_t *tc = conf_of(l, s, n);
    tc->ciphers_at = (pt_tls_path_t){.file = n->file, .line = n->line};
    return cipher_suite(l, n, &tc->ciphers12, &tc->ciphers13);
}

static int set_ssl_proxy_cipher_suite(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_tls_conf_t *tc = conf_of(l, s, n);
    return cipher_suite(l, n, &tc->proxy_ciphers12, &tc->proxy_ciphers13);
}

static int set_ssl_openssl_conf_cmd(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_tls_conf_t *tc = conf_of(l, s, n);
    pt_tls_cmd_t *c = pt_dcx_push(l->a, &tc->cmds, &tc->ncmds, sizeof(*c));
    *c = (pt_tls_cmd_t){n->argv[0], n->argv[1], n->file, n->line};
    return 0;
}

static int parse_verify(dcx_t *l, const pt_node_t *n, int *out)
{
    static const char *const names[] = {"none", "optional", "require", "optional_no_ca"};
    for (int i = 0; i < (int)PT_ARRAY_LEN(names); i++)
        if (strcasecmp(n->argv[0], names[i]) == 0) {
            *out = i;
            return 0;
        }
    return pt_dcx_fail(l, n, "%s: expected none, optional, require or optional_no_ca",
                       n->name);
}

static int set_ssl_verify_client(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return parse_verify(l, n, &conf_of(l, s, n)->verify_client);
}

static int set_ssl_proxy_verify(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return parse_verify(l, n, &conf_of(l, s, n)->proxy_verify);
}

static int set_ssl_verify_depth(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_int(l, n, 0, 100, &conf_of(l, s, n)->verify_depth);
}

static int set_ssl_proxy_verify_depth(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_int(l, n, 0, 100, &conf_of(l, s, n)->proxy_verify_depth);
}

static int seconds(dcx_t *l, const pt_node_t *n, int64_t *out)
{
    long long v = 0;
    int rc = pt_dcx_long(l, n, n->argv[0], 0, 86400 * 365, &v);
    *out = v;
    return rc;
}

static int set_ssl_session_cache_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return seconds(l, n, &conf_of(l, s, n)->cache_timeout_s);
}

static int set_ssl_stapling_standard_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return seconds(l, n, &conf_of(l, s, n)->stapling_standard_timeout_s);
}

static int set_ssl_stapling_error_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return seconds(l, n, &conf_of(l, s, n)->stapling_error_timeout_s);
}

static int set_ssl_stapling_responder_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    int64_t v = 0;
    int rc = seconds(l, n, &v);
    conf_of(l, s, n)->stapling_timeout_ms = v * 1000;
    return rc;
}

/* SSLSessionCache and SSLStaplingCache name a shared-memory store in mod_ssl
 * ("shmcb:path(size)"): portico keeps no session ID cache and resumes across children with
 * tickets (tickets.h), so the value is checked and kept for messages only. */
static int set_ssl_session_cache(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    const char *v = n->argv[0];
    if (strcasecmp(v, "none") != 0 && strcasecmp(v, "nonenotnull") != 0 &&
        strncasecmp(v, "shmcb:", 6) != 0 && strncasecmp(v, "dbm:", 4) != 0 &&
        strncasecmp(v, "shm:", 4) != 0 && strncasecmp(v, "dc:", 3) != 0)
        return pt_dcx_fail(l, n, "SSLSessionCache: unknown store '%s'", v);
    conf_of(l, s, n)->session_cache = v;
    return 0;
}

static int set_ssl_stapling_cache(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    conf_of(l, s, n)->stapling_cache = n->argv[0];
    return 0;
}

static int set_ssl_stapling_force_url(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    conf_of(l, s, n)->stapling_force_url = n->argv[0];
    return 0;
}

/* SSLOptions [+|-]opt...: per directory as in mod_ssl (Debian's default-ssl.conf sets
 * +StdEnvVars in <FilesMatch> and <Directory>). FakeBasicAuth and StrictRequire are read
 * from the request's merged sections (ssl_access.c); portico passes the SSL_* variables to
 * FastCGI always, so for StdEnvVars and ExportCertData only the server-level value is kept.
 * A bare option sets the line's options afresh (mod_ssl keeps only the last bare one:
 * "SSLOptions FakeBasicAuth StrictRequire" is both here). */
static int set_ssl_options(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const struct { const char *name; unsigned bit; } opts[] = {
        {"StdEnvVars", PT_TLS_OPT_STDENVVARS}, {"ExportCertData", PT_TLS_OPT_EXPORTCERTDATA},
        {"StrictRequire", PT_TLS_OPT_STRICTREQUIRE},
        {"OptRenegotiate", PT_TLS_OPT_OPTRENEGOTIATE},
        {"FakeBasicAuth", PT_TLS_OPT_FAKEBASICAUTH}, {"CompatEnvVars", 0},
        {"LegacyDNStringFormat", 0},
    };
    pt_dir_config_t *dc = s->dc;
    unsigned v = 0, add = 0, del = 0;
    bool abs = false, bare = false;
    if (dc->ssl_options_set) { /* an earlier line of this section: lines add up, as mod_ssl's */
        v = dc->ssl_options;
        add = dc->ssl_options_add;
        del = dc->ssl_options_del;
        abs = dc->ssl_options_abs;
    }
    for (int i = 0; i < n->argc; i++) {
        const char *a = n->argv[i];
        char action = (*a == '+' || *a == '-') ? *a++ : 0;
        size_t k = 0;
        while (k < PT_ARRAY_LEN(opts) && strcasecmp(a, opts[k].name) != 0)
            k++;
        if (k == PT_ARRAY_LEN(opts))
            return pt_dcx_fail(l, n, "SSLOptions: unknown option '%s'", n->argv[i]);
        unsigned bit = opts[k].bit;
        if (!action && !bare) { /* the line's first bare option replaces what was set */
            v = add = del = 0;
            abs = bare = true;
        }
        if (action == '-') {
            v &= ~bit;
            add &= ~bit;
            del |= bit;
        } else {
            v |= bit;
            add |= bit;
            del &= ~bit;
        }
    }
    dc->ssl_options = v;
    dc->ssl_options_add = add;
    dc->ssl_options_del = del;
    dc->ssl_options_abs = abs;
    dc->ssl_options_set = true;
    if (!(s->where & W_SECTIONS))
        conf_of(l, s, n)->options = v;
    return 0;
}

/* Only the built-in behaviours of these exist in portico: no entropy files (OpenSSL seeds
 * itself), no mutex to choose, and no pass-phrase program: keys must not be encrypted (one
 * that is fails at load with its file:line). Debian's ssl.conf names a pass-phrase program,
 * so one is accepted with a warning rather than refused. */
static int set_ssl_builtin_only(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)l;
    (void)s;
    const char *v = n->argv[0];
    if (strcasecmp(n->name, "SSLPassPhraseDialog") == 0 && strcasecmp(v, "builtin") != 0)
        pt_log_error(PT_LOG_WARN, NULL, "%s:%d: SSLPassPhraseDialog %s: never run (portico "
                     "reads unencrypted keys only)", n->file, n->line, v);
    return 0;
}

/* Off is all portico does (and what mod_ssl defaults to): compression (CRIME) and insecure
 * renegotiation are never enabled. */
static int set_ssl_off_only(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    int on = 0;
    if (onoff(l, n, &on) < 0)
        return -1;
    if (on)
        return pt_dcx_fail(l, n, "%s on is not supported (it weakens TLS)", n->name);
    return 0;
}

/* SSLCARevocationCheck none|leaf|chain [no_crl_for_cert_ok] (mod_ssl 2.4's words). */
static int parse_crl_check(dcx_t *l, const pt_node_t *n, int *out)
{
    static const char *const modes[] = {"none", "leaf", "chain"};
    int m = -1;
    for (int i = 0; i < 3; i++)
        if (strcasecmp(n->argv[0], modes[i]) == 0)
            m = i;
    if (m < 0)
        return pt_dcx_fail(l, n, "%s: invalid argument '%s' (none, leaf or chain)", n->name,
                           n->argv[0]);
    for (int i = 1; i < n->argc; i++) {
        if (strcasecmp(n->argv[i], "no_crl_for_cert_ok") != 0)
            return pt_dcx_fail(l, n, "%s: invalid flag '%s' (no_crl_for_cert_ok)", n->name,
                               n->argv[i]);
        m |= PT_TLS_CRL_NO_CRL_OK;
    }
    *out = m;
    return 0;
}

static int set_ssl_ca_revocation_check(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_tls_conf_t *tc = conf_of(l, s, n);
    tc->crl_check_at = (pt_tls_path_t){.path = "", .file = n->file, .line = n->line};
    return parse_crl_check(l, n, &tc->crl_check);
}

static int set_ssl_proxy_ca_revocation_check(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return parse_crl_check(l, n, &conf_of(l, s, n)->proxy_crl_check);
}

static int set_ssl_vhost_sni_policy(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const char *const names[] = {"strict", "secure", "authonly", "insecure"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(n->argv[0], names[i]) == 0)
            return conf_of(l, s, n)->sni_policy = i + 1, 0;
    return pt_dcx_fail(l, n, "SSLVHostSNIPolicy: invalid argument '%s' (strict, secure, "
                       "authonly or insecure)", n->argv[0]);
}

static int set_ssl_stapling_response_max_age(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    long long v = 0;
    int rc = pt_dcx_long(l, n, n->argv[0], -1, 86400LL * 3650, &v);
    conf_of(l, s, n)->stapling_max_age_s = v;
    return rc;
}

static int set_ssl_stapling_response_time_skew(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return seconds(l, n, &conf_of(l, s, n)->stapling_time_skew_s);
}

/* SSLOCSPEnable on|leaf|off [no_ocsp_for_cert_ok]. */
static int set_ssl_ocsp_enable(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const char *const modes[] = {"off", "on", "leaf"};
    int m = -1;
    for (int i = 0; i < 3; i++)
        if (strcasecmp(n->argv[0], modes[i]) == 0)
            m = i;
    if (m < 0)
        return pt_dcx_fail(l, n, "SSLOCSPEnable: invalid argument '%s' (on, leaf or off)",
                           n->argv[0]);
    for (int i = 1; i < n->argc; i++) {
        if (strcasecmp(n->argv[i], "no_ocsp_for_cert_ok") != 0)
            return pt_dcx_fail(l, n, "SSLOCSPEnable: invalid flag '%s' (no_ocsp_for_cert_ok)",
                               n->argv[i]);
        m |= PT_TLS_OCSP_NO_URL_OK;
    }
    conf_of(l, s, n)->ocsp_enable = m;
    return 0;
}

static int set_ssl_ocsp_default_responder(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (strncasecmp(n->argv[0], "http://", 7) != 0)
        return pt_dcx_fail(l, n, "SSLOCSPDefaultResponder: '%s' is not an http:// URL "
                           "(OCSP responders are reached over plain HTTP)", n->argv[0]);
    conf_of(l, s, n)->ocsp_default_responder = n->argv[0];
    return 0;
}

static int set_ssl_ocsp_responder_timeout(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return seconds(l, n, &conf_of(l, s, n)->ocsp_timeout_s);
}

static int set_ssl_ocsp_response_max_age(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    long long v = 0;
    int rc = pt_dcx_long(l, n, n->argv[0], -1, 86400LL * 3650, &v);
    conf_of(l, s, n)->ocsp_max_age_s = v;
    return rc;
}

static int set_ssl_ocsp_response_time_skew(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return seconds(l, n, &conf_of(l, s, n)->ocsp_time_skew_s);
}

/* SSLOCSPProxyURL: portico's OCSP client speaks to responders directly. */
static int set_ssl_ocsp_proxy_url(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)s;
    return pt_dcx_fail(l, n, "SSLOCSPProxyURL is not supported: portico's OCSP client "
                       "connects to the responder directly (name it with "
                       "SSLOCSPDefaultResponder and SSLOCSPOverrideResponder on)");
}

ONOFF(set_ssl_ocsp_override_responder, ocsp_override)
ONOFF(set_ssl_ocsp_use_request_nonce, ocsp_nonce)
ONOFF(set_ssl_ocsp_no_verify, ocsp_no_verify)
PATH(set_ssl_ocsp_responder_certificate_file, ocsp_responder_certs)

/* SSLRequireSSL: no access without TLS in this directory (mod_ssl's access check: 403). */
static int set_ssl_require_ssl(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)l;
    (void)n;
    s->dc->ssl_require_ssl = true;
    return 0;
}

/* SSLRequire expression: since Apache 2.4 an ap_expr (mod_ssl parses it with the expression
 * engine and its %{SSL_*} variables), checked beside Require as mod_ssl's access check: a
 * false one is 403 whatever Require grants. The whole line is the expression (RAW_ARGS). */
static int set_ssl_require(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_expr_t *e = pt_dcx_expr(l, n, "SSLRequire", n->raw ? n->raw : n->argv[0], 0);
    if (!e)
        return -1;
    const pt_expr_t **slot = pt_dcx_push(l->a, &s->dc->ssl_require, &s->dc->nssl_require,
                                         sizeof(*slot));
    *slot = e;
    return 0;
}

/* SSLUserName VAR: the user (REMOTE_USER) is that mod_ssl variable once access passed. */
static int set_ssl_user_name(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    (void)l;
    s->dc->ssl_user_name = n->argv[0];
    return 0;
}

static const dcx_directive_t tls_table[] = {
    {"SSLRequireSSL", W_SECTIONS, 0, 0, set_ssl_require_ssl},
    {"SSLRequire", W_SECTIONS, 1, NOMAX, set_ssl_require},
    {"SSLUserName", ALL, 1, 1, set_ssl_user_name},
    {"SSLEngine", SRV, 1, 1, set_ssl_engine},
    {"SSLCertificateFile", SRV, 1, 1, set_ssl_certificate_file},
    {"SSLCertificateKeyFile", SRV, 1, 1, set_ssl_certificate_key_file},
    {"SSLCertificateChainFile", SRV, 1, 1, set_ssl_certificate_chain_file},
    {"SSLCACertificateFile", SRV, 1, 1, set_ssl_ca_certificate_file},
    {"SSLCACertificatePath", SRV, 1, 1, set_ssl_ca_certificate_path},
    {"SSLCARevocationFile", SRV, 1, 1, set_ssl_ca_revocation_file},
    {"SSLCARevocationPath", SRV, 1, 1, set_ssl_ca_revocation_path},
    {"SSLCARevocationCheck", SRV, 1, 2, set_ssl_ca_revocation_check},
    {"SSLCADNRequestFile", SRV, 1, 1, set_ssl_cadn_request_file},
    {"SSLCADNRequestPath", SRV, 1, 1, set_ssl_cadn_request_path},
    {"SSLVHostSNIPolicy", W_SERVER, 1, 1, set_ssl_vhost_sni_policy},
    {"SSLOCSPEnable", SRV, 1, 2, set_ssl_ocsp_enable},
    {"SSLOCSPDefaultResponder", SRV, 1, 1, set_ssl_ocsp_default_responder},
    {"SSLOCSPOverrideResponder", SRV, 1, 1, set_ssl_ocsp_override_responder},
    {"SSLOCSPResponderTimeout", SRV, 1, 1, set_ssl_ocsp_responder_timeout},
    {"SSLOCSPResponseMaxAge", SRV, 1, 1, set_ssl_ocsp_response_max_age},
    {"SSLOCSPResponseTimeSkew", SRV, 1, 1, set_ssl_ocsp_response_time_skew},
    {"SSLOCSPUseRequestNonce", SRV, 1, 1, set_ssl_ocsp_use_request_nonce},
    {"SSLOCSPNoVerify", SRV, 1, 1, set_ssl_ocsp_no_verify},
    {"SSLOCSPResponderCertificateFile", SRV, 1, 1, set_ssl_ocsp_responder_certificate_file},
    {"SSLOCSPProxyURL", SRV, 1, 1, set_ssl_ocsp_proxy_url},
    {"SSLStaplingResponseMaxAge", SRV, 1, 1, set_ssl_stapling_response_max_age},
    {"SSLStaplingResponseTimeSkew", SRV, 1, 1, set_ssl_stapling_response_time_skew},
    {"SSLProtocol", SRV, 1, NOMAX, set_ssl_protocol},
    {"SSLCipherSuite", SRV, 1, 2, set_ssl_cipher_suite},
    {"SSLHonorCipherOrder", SRV, 1, 1, set_ssl_honor_cipher_order},
    {"SSLOpenSSLConfCmd", SRV, 2, 2, set_ssl_openssl_conf_cmd},
    {"SSLSessionTickets", SRV, 1, 1, set_ssl_session_tickets},
    {"SSLSessionTicketKeyFile", SRV, 1, 1, set_ssl_session_ticket_key_file},
    {"SSLSessionCache", W_SERVER, 1, 1, set_ssl_session_cache},
    {"SSLSessionCacheTimeout", SRV, 1, 1, set_ssl_session_cache_timeout},
    {"SSLVerifyClient", SRV, 1, 1, set_ssl_verify_client},
    {"SSLVerifyDepth", SRV, 1, 1, set_ssl_verify_depth},
    {"SSLStrictSNIVHostCheck", SRV, 1, 1, set_ssl_strict_sni},
    {"SSLOptions", ALL, 1, NOMAX, set_ssl_options},
    {"SSLUseStapling", SRV, 1, 1, set_ssl_use_stapling},
    {"SSLStaplingFile", SRV, 1, 1, set_ssl_stapling_file},
    {"SSLStaplingCache", W_SERVER, 1, 1, set_ssl_stapling_cache},
    {"SSLStaplingResponderTimeout", SRV, 1, 1, set_ssl_stapling_responder_timeout},
    {"SSLStaplingReturnResponderErrors", SRV, 1, 1, set_ssl_stapling_return_errors},
    {"SSLStaplingFakeTryLater", SRV, 1, 1, set_ssl_stapling_fake_try_later},
    {"SSLStaplingStandardCacheTimeout", SRV, 1, 1, set_ssl_stapling_standard_timeout},
    {"SSLStaplingErrorCacheTimeout", SRV, 1, 1, set_ssl_stapling_error_timeout},
    {"SSLStaplingForceURL", SRV, 1, 1, set_ssl_stapling_force_url},
    {"SSLProxyEngine", SRV, 1, 1, set_ssl_proxy_engine},
    {"SSLProxyVerify", SRV, 1, 1, set_ssl_proxy_verify},
    {"SSLProxyVerifyDepth", SRV, 1, 1, set_ssl_proxy_verify_depth},
    {"SSLProxyCACertificateFile", SRV, 1, 1, set_ssl_proxy_ca_certificate_file},
    {"SSLProxyCheckPeerName", SRV, 1, 1, set_ssl_proxy_check_peer_name},
    {"SSLProxyCheckPeerCN", SRV, 1, 1, set_ssl_proxy_check_peer_cn},
    {"SSLProxyCheckPeerExpire", SRV, 1, 1, set_ssl_proxy_check_peer_expire},
    {"SSLProxyProtocol", SRV, 1, NOMAX, set_ssl_proxy_protocol},
    {"SSLProxyCACertificatePath", SRV, 1, 1, set_ssl_proxy_ca_certificate_path},
    {"SSLProxyCARevocationFile", SRV, 1, 1, set_ssl_proxy_ca_revocation_file},
    {"SSLProxyCARevocationPath", SRV, 1, 1, set_ssl_proxy_ca_revocation_path},
    {"SSLProxyCARevocationCheck", SRV, 1, 2, set_ssl_proxy_ca_revocation_check},
    {"SSLProxyMachineCertificateFile", SRV, 1, 1, set_ssl_proxy_machine_certificate_file},
    {"SSLProxyMachineCertificatePath", SRV, 1, 1, set_ssl_proxy_machine_certificate_path},
    {"SSLProxyMachineCertificateChainFile", SRV, 1, 1,
     set_ssl_proxy_machine_certificate_chain_file},
    {"SSLProxyCipherSuite", SRV, 1, 2, set_ssl_proxy_cipher_suite},
    {"SSLRandomSeed", W_SERVER, 2, 3, set_ssl_builtin_only},
    {"SSLMutex", W_SERVER, 1, 1, set_ssl_builtin_only},
    {"SSLPassPhraseDialog", W_SERVER, 1, 1, set_ssl_builtin_only},
    {"SSLCompression", SRV, 1, 1, set_ssl_off_only},
    {"SSLInsecureRenegotiation", SRV, 1, 1, set_ssl_off_only},
    {NULL, 0, 0, 0, NULL},
};

/* ---- Merging: a virtual host over the main server (mod_ssl's merge: a field the vhost did
 * not set is the main server's) ------------------------------------------------------------ */

#define MERGE_INT(f) if (v->f < 0) v->f = m->f
#define MERGE_PTR(f) if (!v->f) v->f = m->f
#define MERGE_PATH(f) if (!v->f.path) v->f = m->f

static void merge_conf(dcx_t *l, pt_tls_conf_t *v, const pt_tls_conf_t *m)
{
    MERGE_INT(engine); MERGE_INT(honor_order); MERGE_INT(tickets);
    MERGE_INT(cache_timeout_s); MERGE_INT(verify_client); MERGE_INT(verify_depth);
    MERGE_INT(strict_sni); MERGE_INT(use_stapling); MERGE_INT(stapling_timeout_ms);
    MERGE_INT(stapling_return_errors); MERGE_INT(stapling_fake_try_later);
    MERGE_INT(stapling_standard_timeout_s); MERGE_INT(stapling_error_timeout_s);
    MERGE_INT(proxy_engine); MERGE_INT(proxy_verify); MERGE_INT(proxy_verify_depth);
    MERGE_INT(proxy_check_peer_name); MERGE_INT(proxy_check_peer_cn);
    MERGE_INT(proxy_check_peer_expire);
    MERGE_PTR(ciphers12); MERGE_PTR(ciphers13); MERGE_PTR(session_cache);
    MERGE_PTR(stapling_force_url); MERGE_PTR(stapling_cache); MERGE_PTR(proxy_ciphers12);
    MERGE_PTR(proxy_ciphers13);
    MERGE_PATH(chain); MERGE_PATH(ca_file); MERGE_PATH(ca_path); MERGE_PATH(ticket_key_file);
    MERGE_PATH(stapling_file); MERGE_PATH(proxy_ca_file);
    MERGE_PATH(crl_file); MERGE_PATH(crl_path); MERGE_PATH(cadn_file); MERGE_PATH(cadn_path);
    MERGE_INT(crl_check); MERGE_INT(proxy_crl_check); MERGE_INT(stapling_max_age_s);
    MERGE_INT(stapling_time_skew_s); MERGE_INT(ocsp_enable); MERGE_INT(ocsp_override);
    MERGE_INT(ocsp_timeout_s); MERGE_INT(ocsp_time_skew_s); MERGE_INT(ocsp_nonce);
    MERGE_INT(ocsp_no_verify); MERGE_PTR(ocsp_default_responder);
    MERGE_PATH(ocsp_responder_certs);
    if (v->ocsp_max_age_s == -2)
        v->ocsp_max_age_s = m->ocsp_max_age_s;
    MERGE_PATH(proxy_ca_path); MERGE_PATH(proxy_crl_file); MERGE_PATH(proxy_crl_path);
    MERGE_PATH(proxy_machine_file); MERGE_PATH(proxy_machine_path);
    MERGE_PATH(proxy_machine_chain);
    if (!v->crl_check_at.file)
        v->crl_check_at = m->crl_check_at;
    if (!v->ciphers_at.file)
        v->ciphers_at = m->ciphers_at;
    if (!v->protocols)
        v->protocols = m->protocols;
    if (!v->proxy_protocols)
        v->proxy_protocols = m->proxy_protocols;
    if (!v->options)
        v->options = m->options;
    if (!v->ncerts) {
        v->certs = m->certs, v->ncerts = m->ncerts;
        if (!v->nkeys)
            v->keys = m->keys, v->nkeys = m->nkeys;
    }
    if (m->ncmds) { /* the main server's commands first, the vhost's may override them */
        pt_tls_cmd_t *all = pt_arena_alloc(l->a, (m->ncmds + v->ncmds) * sizeof(*all));
        memcpy(all, m->cmds, m->ncmds * sizeof(*all));
        if (v->ncmds)
            memcpy(all + m->ncmds, v->cmds, v->ncmds * sizeof(*all));
        v->cmds = all;
        v->ncmds += m->ncmds;
    }
}

/* A vhost without SSL* lines shares the main server's conf; one with its own gets the main
 * server's for what it did not set. */
static void merge_vhosts(dcx_t *l)
{
    pt_config_t *c = l->cfg;
    const pt_tls_conf_t *m = c->main_server->tls;
    for (size_t i = 0; i < c->nvhosts; i++) {
        pt_vhost_t *vh = c->vhosts[i];
        if (!vh->tls)
            vh->tls = m;
        else if (m)
            merge_conf(l, (pt_tls_conf_t *)vh->tls, m);
    }
}

static int finish_tls(dcx_t *l)
{
    merge_vhosts(l);
    return pt_tls_ctx_build(l);
}

static void release_tls(pt_config_t *cfg)
{
    pt_tls_ctx_release(cfg);
}

const pt_conf_ext_t pt_tls_conf_ext = {
    .name = "ssl",
    .directives = tls_table,
    .finish = finish_tls,
    .release = release_tls,
};
