/* Basic authentication: the Auth* directives of a section, the challenge, and the check of
 * "Authorization: Basic base64(user:password)" against the section's AuthUserFile. */
#include "auth_basic.h"

#include "authn_file.h"
#include "expr.h"
#include "directives.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <strings.h>

const char *pt_auth_type(const pt_request_t *r)
{
    const char *t = r->dir ? r->dir->auth_type : NULL;
    return t && strcasecmp(t, "None") != 0 ? t : NULL;
}

void pt_auth_basic_note_failure(pt_request_t *r)
{
    const char *realm = r->dir->auth_name ? r->dir->auth_name : "";
    pt_table_set(&r->err_headers_out, "WWW-Authenticate",
                 pt_arena_printf(r->arena, "Basic realm=\"%s\"", realm));
}

/* "user:password" from the credentials' base64, in the arena; NULL when not decodable. */
static char *decode_credentials(pt_arena_t *a, const char *b64)
{
    size_t len = strlen(b64);
    if (len == 0 || len % 4 != 0 || len > 16384)
        return NULL;
    unsigned char *out = pt_arena_alloc(a, len / 4 * 3 + 1);
    int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
    if (n < 0)
        return NULL;
    /* EVP_DecodeBlock counts the padding's bytes as zeros. */
    for (size_t i = len; i > 0 && b64[i - 1] == '='; i--)
        n--;
    out[n] = '\0';
    if (memchr(out, '\0', (size_t)n))
        return NULL;
    return (char *)out;
}

static int unauthorized(pt_request_t *r)
{
    pt_auth_basic_note_failure(r);
    return 401;
}

/* The base64 after "Basic" in the Authorization header; NULL when there is no header or
 * another scheme (*other says which). */
static const char *basic_value(const pt_request_t *r, bool *other)
{
    const char *h = pt_table_get(&r->headers_in, "Authorization");
    *other = false;
    if (!h)
        return NULL;
    while (*h == ' ' || *h == '\t')
        h++;
    if (strncasecmp(h, "Basic", 5) != 0 || (h[5] != ' ' && h[5] != '\t')) {
        *other = true;
        return NULL;
    }
    h += 5;
    while (*h == ' ' || *h == '\t')
        h++;
    return h;
}

/* "user:password" of a base64 value split at the first colon; false when it is not so. */
static bool split_credentials(pt_arena_t *a, const char *b64, const char **user,
                              const char **pw)
{
    char *cred = decode_credentials(a, b64);
    char *colon = cred ? strchr(cred, ':') : NULL;
    if (!colon)
        return false;
    *colon = '\0';
    *user = cred;
    *pw = colon + 1;
    return true;
}

bool pt_auth_basic_credentials(pt_request_t *r, const char **user, const char **pw)
{
    bool other = false;
    const char *b64 = basic_value(r, &other);
    return b64 && split_credentials(r->arena, b64, user, pw);
}

/* The credentials of the Authorization header: user in r->user, password in *pw. */
static int read_credentials(pt_request_t *r, const char **pw)
{
    bool other = false;
    const char *b64 = basic_value(r, &other);
    if (other)
        pt_log_rerror(PT_LOG_ERR, r, "AH01614: client used wrong authentication scheme: %s",
                      r->uri);
    if (!b64)
        return unauthorized(r);
    if (!split_credentials(r->arena, b64, &r->user, pw)) {
        pt_log_rerror(PT_LOG_ERR, r, "Basic credentials of the Authorization header are not "
                      "base64 of user:password: %s", r->uri);
        return unauthorized(r);
    }
    return 0;
}

int pt_auth_basic_authenticate(pt_request_t *r)
{
    const char *type = pt_auth_type(r);
    if (!type) {
        pt_log_rerror(PT_LOG_ERR, r, "AH00027: No authentication done but request not allowed "
                      "without authentication for %s. Authentication not configured?", r->uri);
        return 500;
    }
    if (!r->dir->auth_name) {
        pt_log_rerror(PT_LOG_ERR, r, "AH01615: need AuthName: %s", r->uri);
        return 500;
    }
    const char *pw = NULL;
    int st = read_credentials(r, &pw);
    if (st)
        return st;
    char err[PT_ERRLEN];
    pt_authn_t res = pt_authn_file_check(r->dir->auth_user_file, r->user, pw, err, sizeof err);
    OPENSSL_cleanse((char *)pw, strlen(pw));
    switch (res) {
    case PT_AUTHN_GRANTED: return 0;
    case PT_AUTHN_USER_NOT_FOUND:
        if (r->dir->core.basic_authoritative == 1) {
            /* AuthBasicAuthoritative Off: mod_auth_basic declines for another module, and
             * portico has none, so mod_authn_core's answer is Apache's. */
            pt_log_rerror(PT_LOG_ERR, r, "AH01796: AuthType Basic configured without "
                          "corresponding module");
            r->user = NULL;
            return 500;
        }
        pt_log_rerror(PT_LOG_ERR, r, "AH01618: user %s not found: %s", r->user, r->uri);
        return unauthorized(r);
    case PT_AUTHN_DENIED:
        pt_log_rerror(PT_LOG_ERR, r, "AH01617: user %s: authentication failure for \"%s\": "
                      "Password Mismatch", r->user, r->uri);
        return unauthorized(r);
    default:
        pt_log_rerror(PT_LOG_ERR, r, "AH01620: %s", err);
        return 500;
    }
}

/* mod_auth_basic's fixup: AuthBasicFake writes the Authorization header the backend sees. */
static PT_NOINLINE void basic_fake(pt_request_t *r, const pt_core_dir_t *c)
{
    const char *why = NULL;
    const char *user = pt_expr_eval_string(r, c->basic_fake_user, NULL, &why);
    if (!user || !*user) {
        pt_log_rerror(PT_LOG_ERR, r, "AH02457: AuthBasicFake: empty username expression for "
                      "URI '%s', HTTP_AUTHORIZATION not set", r->uri);
        return;
    }
    const char *pass = pt_expr_eval_string(r, c->basic_fake_pass, NULL, &why);
    if (!pass || !*pass) {
        pt_log_rerror(PT_LOG_ERR, r, "AH02458: AuthBasicFake: empty password expression for "
                      "URI '%s', HTTP_AUTHORIZATION not set", r->uri);
        return;
    }
    pt_auth_basic_set(r, user, pass);
}

void pt_auth_basic_set(pt_request_t *r, const char *user, const char *pass)
{
    const char *plain = pt_arena_printf(r->arena, "%s:%s", user, pass);
    size_t n = strlen(plain);
    unsigned char *b64 = pt_arena_alloc(r->arena, 4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock(b64, (const unsigned char *)plain, (int)n);
    pt_table_set(&r->headers_in, "Authorization",
                 pt_arena_printf(r->arena, "Basic %s", (const char *)b64));
}

void pt_auth_basic_fake(pt_request_t *r)
{
    const pt_core_dir_t *c = &r->dir->core;
    if (c->basic_fake == 2)
        basic_fake(r, c);
}

int pt_auth_in_group(void *arg, const char *user, const char *group)
{
    pt_request_t *r = arg;
    if (!r->dir->auth_group_file) {
        pt_log_rerror(PT_LOG_ERR, r, "AH01664: No group file was specified in the "
                      "configuration");
        return 0;
    }
    char err[PT_ERRLEN];
    int m = pt_groupfile_member(r->dir->auth_group_file, user, group, err, sizeof err);
    if (m < 0)
        pt_log_rerror(PT_LOG_ERR, r, "AH01667: %s", err);
    return m;
}

/* ---- Directives ------------------------------------------------------------------------- */

/* <Proxy> keeps only access rules for now: an Auth* line there would be lost. */
static int not_in_proxy(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (s->name && strcmp(s->name, "Proxy") == 0)
        return pt_dcx_fail(l, n, "%s is not supported in <Proxy> sections yet; put it in a "
                           "<Location> for the proxied path", n->name);
    return 0;
}

static int set_auth_type(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (not_in_proxy(l, s, n))
        return -1;
    const char *t = n->argv[0];
    if (strcasecmp(t, "Basic") == 0 || strcasecmp(t, "None") == 0) {
        s->dc->auth_type = strcasecmp(t, "Basic") == 0 ? "Basic" : "None";
        return 0;
    }
    return pt_dcx_fail(l, n, "AuthType %s: portico supports Basic and None (Digest and Form "
                       "authentication are not built)", t);
}

static int set_auth_name(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (not_in_proxy(l, s, n))
        return -1;
    if (strchr(n->argv[0], '"'))
        return pt_dcx_fail(l, n, "AuthName: a realm cannot contain '\"'");
    s->dc->auth_name = pt_arena_strdup(l->a, n->argv[0]);
    return 0;
}

static int set_auth_basic_provider(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (not_in_proxy(l, s, n))
        return -1;
    for (int i = 0; i < n->argc; i++)
        if (strcasecmp(n->argv[i], "file") != 0)
            return pt_dcx_fail(l, n, "Unknown Authn provider: %s (portico has 'file')",
                               n->argv[i]);
    return 0;
}

static int set_auth_user_file(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (not_in_proxy(l, s, n))
        return -1;
    s->dc->auth_user_file = pt_dcx_path(l, n->argv[0]);
    return 0;
}

static int set_auth_group_file(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (not_in_proxy(l, s, n))
        return -1;
    s->dc->auth_group_file = pt_dcx_path(l, n->argv[0]);
    return 0;
}

static const dcx_directive_t directives[] = {
    {"AuthType", W_SECTIONS, 1, 1, set_auth_type},
    {"AuthName", W_SECTIONS, 1, 1, set_auth_name},
    {"AuthBasicProvider", W_SECTIONS, 1, NOMAX, set_auth_basic_provider},
    {"AuthUserFile", W_SECTIONS, 1, 1, set_auth_user_file},
    {"AuthGroupFile", W_SECTIONS, 1, 1, set_auth_group_file},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_auth_basic_conf = {.name = "auth_basic", .directives = directives};
