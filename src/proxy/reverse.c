/* The reverse mapping of a proxied answer's fields (reverse.h), as mod_proxy's
 * ap_proxy_location_reverse_map and ap_proxy_cookie_reverse_map: the rules come from the
 * request's merged per-directory config, outer sections' first. */
#include "reverse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BALANCER_PREFIX "balancer://"

/* ${NAME} replaced by the request's environment variable (ProxyPassReverse ... interpolate);
 * a name that is not set stays as written, as mod_proxy's proxy_interpolate. */
static const char *interpolate(pt_request_t *r, const char *s)
{
    if (!strstr(s, "${"))
        return s;
    char *out = pt_arena_strdup(r->arena, "");
    const char *p = s;
    for (;;) {
        const char *open = strstr(p, "${");
        const char *close = open ? strchr(open + 2, '}') : NULL;
        if (!close)
            return pt_arena_printf(r->arena, "%s%s", out, p);
        char *name = pt_arena_strndup(r->arena, open + 2, (size_t)(close - open - 2));
        const char *v = pt_table_get(&r->env, name);
        int keep = (int)(v ? 0 : close + 1 - open);
        out = pt_arena_printf(r->arena, "%s%.*s%.*s%s", out, (int)(open - p), p, keep, open,
                              v ? v : "");
        p = close + 1;
    }
}

/* Apache's ap_is_url: a scheme ("[alnum+-.]+:") starts the string. */
static bool is_url(const char *u)
{
    size_t x = 0;
    for (; u[x] != ':'; x++)
        if (!u[x] || (!isalnum((unsigned char)u[x]) && u[x] != '+' && u[x] != '-' &&
                      u[x] != '.'))
            return false;
    return x > 0;
}

static const char *absolute(pt_request_t *r, const char *fake, const char *rest)
{
    const char *u = pt_arena_printf(r->arena, "%s%s", fake, rest);
    return is_url(u) ? u : pt_request_construct_url(r, u);
}

/* balancer://NAME[/path]: the URL is one of a member's (the member that answered may be
 * any of them). With a path after the name, the member's URL and that path must both
 * lead the URL: BalancerMember http://h/foo and ProxyPassReverse /bash balancer://b/bar map
 * http://h/foo/bar/that to /bash/that. NULL when no member matches. */
static const char *map_balancer(pt_request_t *r, const pt_reverse_rule_t *rule,
                                const char *fake, const char *real, const char *url)
{
    size_t l1 = strlen(url);
    const char *urlpart = strchr(real + sizeof(BALANCER_PREFIX) - 1, '/');
    if (urlpart && !urlpart[1])
        urlpart = NULL;
    size_t l3 = urlpart ? strlen(urlpart) : 0;
    for (size_t i = 0; i < rule->members->n; i++) {
        const char *m = rule->members->urls[i];
        size_t l2 = strlen(m);
        if (urlpart) {
            if (l2 && m[l2 - 1] == '/')
                l2--; /* urlpart brings its own '/' */
            if (l1 >= l2 + l3 && strncasecmp(m, url, l2) == 0 &&
                strncmp(urlpart, url + l2, l3) == 0)
                return absolute(r, fake, url + l2 + l3);
        } else if (l1 >= l2 && strncasecmp(m, url, l2) == 0) {
            /* fake "/" and a member without a trailing '/': no double slash */
            if (strcmp(fake, "/") == 0 && url[l2] == '/')
                return absolute(r, "", url + l2);
            return absolute(r, fake, url + l2);
        }
    }
    return NULL;
}

/* A URL or path: a real that is a path is compared with the URL's path. */
static const char *map_plain(pt_request_t *r, const char *fake, const char *real,
                             const char *url)
{
    const char *part = url;
    if (real[0] == '/') {
        const char *sep = strstr(url, "://");
        const char *slash = sep ? strchr(sep + 3, '/') : NULL;
        if (slash)
            part = slash;
    }
    size_t l2 = strlen(real);
    if (l2 > 0 && strlen(part) >= l2 && strncasecmp(real, part, l2) == 0)
        return absolute(r, fake, part + l2);
    return NULL;
}

static const char *map_location(pt_request_t *r, const char *url)
{
    const pt_dir_config_t *d = r->dir;
    for (size_t i = 0; i < d->nreverse; i++) {
        const pt_reverse_rule_t *rule = &d->reverse[i];
        const char *fake = rule->interpolate ? interpolate(r, rule->fake) : rule->fake;
        const char *real = rule->interpolate ? interpolate(r, rule->real) : rule->real;
        const char *u;
        /* A balancer that does not exist is compared as a plain string, as Apache does. */
        if (rule->members && rule->members->found)
            u = map_balancer(r, rule, fake, real, url);
        else
            u = map_plain(r, fake, real, url);
        if (u)
            return u;
    }
    return url;
}

/* The first rule whose backend side leads the value (paths: case-sensitive; domains:
 * not), or NULL. */
static const pt_reverse_rule_t *cookie_rule(pt_request_t *r, const pt_reverse_rule_t *rules,
                                            size_t n, const char *v, size_t len, bool domain,
                                            const char **public_out)
{
    for (size_t i = 0; i < n; i++) {
        const char *real = rules[i].interpolate ? interpolate(r, rules[i].real) : rules[i].real;
        size_t l2 = strlen(real);
        if (len < l2)
            continue;
        if (domain ? strncasecmp(real, v, l2) != 0 : strncmp(real, v, l2) != 0)
            continue;
        *public_out = rules[i].interpolate ? interpolate(r, rules[i].fake) : rules[i].fake;
        return &rules[i];
    }
    return NULL;
}

/* Set-Cookie: each "path=" and "domain=" attribute whose value a rule matches is replaced
 * whole by the rule's public value (Apache replaces the value, not only the matched part);
 * everything else, spacing included, stays as sent. */
static const char *map_cookie(pt_request_t *r, const char *str)
{
    const pt_dir_config_t *d = r->dir;
    if (d->ncookie_paths == 0 && d->ncookie_domains == 0)
        return str;
    char *out = NULL;
    const char *copied = str; /* str before this is in out already */
    for (const char *tok = str; *tok;) {
        const char *end = strchr(tok, ';');
        if (!end)
            end = tok + strlen(tok);
        const char *t = tok;
        while (t < end && isspace((unsigned char)*t))
            t++;
        bool path = (size_t)(end - t) >= 5 && strncasecmp(t, "path=", 5) == 0;
        bool domain = !path && (size_t)(end - t) >= 7 && strncasecmp(t, "domain=", 7) == 0;
        const char *pub = NULL;
        const char *v = t + (path ? 5 : 7);
        if ((path && cookie_rule(r, d->cookie_paths, d->ncookie_paths, v, (size_t)(end - v),
                                 false, &pub)) ||
            (domain && cookie_rule(r, d->cookie_domains, d->ncookie_domains, v,
                                   (size_t)(end - v), true, &pub))) {
            out = pt_arena_printf(r->arena, "%s%.*s%s", out ? out : "", (int)(v - copied),
                                  copied, pub);
            copied = end;
        }
        tok = *end ? end + 1 : end;
    }
    return out ? pt_arena_printf(r->arena, "%s%s", out, copied) : str;
}

void pt_proxy_reverse_map(struct pt_request *r, pt_table_t *headers)
{
    static const char *const location_fields[] = {"Location", "Content-Location", "URI",
                                                  "Destination"};
    const pt_dir_config_t *d = r->dir;
    if (!d || (d->nreverse == 0 && d->ncookie_paths == 0 && d->ncookie_domains == 0))
        return;
    for (size_t i = 0; i < headers->n; i++) {
        pt_entry_t *e = &headers->v[i];
        if (strcasecmp(e->name, "Set-Cookie") == 0) {
            e->value = map_cookie(r, e->value);
            continue;
        }
        for (size_t k = 0; k < PT_ARRAY_LEN(location_fields); k++) {
            if (d->nreverse && strcasecmp(e->name, location_fields[k]) == 0) {
                e->value = map_location(r, e->value);
                break;
            }
        }
    }
}
