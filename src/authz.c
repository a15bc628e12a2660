/* Apache's access phase in one place (server/request.c's Satisfy switch): the host rules
 * (access_checker), the Require tree before authentication (access_checker_ex, which may
 * decline to wait for a user), authentication (check_user_id) and the tree with the user
 * (auth_checker). Results and log lines follow Apache's, AH numbers included. */
#include "authz.h"
#include "ssl_access.h"

#include "access.h"
#include "access_compat.h"
#include "auth_basic.h"

/* What the request is judged against: a <Location>'s host rules replace a <Proxy>'s, as
 * Apache merges the <Proxy> sections first. */
static const pt_access_compat_t *compat_of(const pt_request_t *r,
                                           const pt_access_compat_t *proxy)
{
    return r->dir->access_compat ? r->dir->access_compat : proxy;
}

static const char *denied_what(const pt_request_t *r)
{
    return r->filename ? r->filename : pt_arena_printf(r->arena, "uri %s", r->uri);
}

/* mod_authz_core's authorize_user_core: 0 (granted), -1 (declined: authenticate first) or
 * a status. */
static int authorize(pt_request_t *r, pt_authz_ctx_t *ctx, bool after_authn)
{
    const pt_require_t *rq = r->dir->require;
    if (!rq) {
        if (pt_auth_type(r)) {
            pt_log_rerror(PT_LOG_ERR, r, "AH01627: AuthType configured with no corresponding "
                          "authorization directives");
            return 500;
        }
        return 0;
    }
    ctx->user = after_authn ? r->user : NULL;
    switch (pt_require_judge(rq, ctx)) {
    case PT_AUTHZ_GRANTED: return 0;
    case PT_AUTHZ_DENIED_NO_USER:
        if (!after_authn)
            return -1;
        pt_log_rerror(PT_LOG_ERR, r, "AH01629: authorization failure (no authenticated "
                      "user): %s", r->uri);
        pt_auth_basic_note_failure(r);
        return 401;
    case PT_AUTHZ_DENIED:
    case PT_AUTHZ_NEUTRAL:
        if (!after_authn || !pt_auth_type(r)) {
            pt_log_rerror(PT_LOG_ERR, r, "AH01630: client denied by server configuration: %s",
                          denied_what(r));
            return 403;
        }
        pt_log_rerror(PT_LOG_ERR, r, "AH01631: user %s: authorization failure for \"%s\": ",
                      r->user, r->uri);
        if (r->dir->core.forbidden_on_fail == 2)
            return 403; /* AuthzSendForbiddenOnFailure On */
        pt_auth_basic_note_failure(r);
        return 401;
    default: return 500; /* the provider logged why */
    }
}

/* From access_checker_ex on: the tree without a user, then with one if it asks for it
 * (check_user_id: mod_ssl's hook first, then Basic). ssl_refused: mod_ssl's access check
 * refused r (Satisfy Any brought it here), for +StrictRequire. */
static int authorize_with_user(pt_request_t *r, pt_authz_ctx_t *ctx, bool ssl_refused)
{
    int st = authorize(r, ctx, false);
    if (st >= 0)
        return st;
    st = pt_ssl_user_check(r, ssl_refused);
    if (st)
        return st;
    st = pt_auth_basic_authenticate(r);
    if (st)
        return st;
    return authorize(r, ctx, true);
}

int pt_authz_request(pt_request_t *r, const struct sockaddr *client,
                     const struct pt_access_compat *proxy)
{
    /* A lookup or internal redirect with its own config authenticates again, as Apache's. */
    r->user = NULL;
    /* The usual config, "Require all granted" and no host or mod_ssl rules: every check
     * below would pass and set nothing (no user, no log line), at about 200 instructions a
     * request. Satisfy does not matter when both halves grant. */
    const pt_dir_config_t *dc = r->dir;
    if (!compat_of(r, proxy) && pt_require_grants_all(dc->require) &&
        !pt_ssl_access_configured(dc))
        return 0;
    pt_authz_ctx_t ctx = {.client = client,
                          .method = r->method,
                          .env = &r->env,
                          .in_group = pt_auth_in_group,
                          .arg = r,
                          .arena = r->arena,
                          .request = r};
    const pt_access_compat_t *compat = compat_of(r, proxy);
    bool hosts_ok = pt_access_compat_allows(compat, &ctx);
    if (!hosts_ok)
        pt_log_rerror(PT_LOG_ERR, r, "AH01797: client denied by server configuration: %s",
                      denied_what(r));
    /* mod_ssl's access check is another access_checker: with Satisfy All both must pass. */
    bool ssl_refused = hosts_ok && pt_ssl_access_check(r, client) != 0;
    if (ssl_refused)
        hosts_ok = false;
    if (pt_access_compat_satisfy_for(compat, r->method) == PT_SATISFY_ANY) {
        if (hosts_ok)
            return 0;
    } else if (!hosts_ok) {
        return 403;
    }
    return authorize_with_user(r, &ctx, ssl_refused);
}
