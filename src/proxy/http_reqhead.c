/* The request head mod_proxy_http sends upstream: the request line (the path re-encoded
 * from the decoded URL, or passed raw with nocanon), the client's fields without the
 * hop-by-hop ones (RFC 9110 7.6.1: Connection and every field it names, Keep-Alive, TE,
 * Trailer, Transfer-Encoding, Upgrade unless tunnelling, Proxy-Connection and
 * Proxy-Authorization), Host (the backend's, or the client's with ProxyPreserveHost), the
 * X-Forwarded-* fields of ProxyAddHeaders, and our own framing of the body. Built with
 * memcpy into one arena buffer: it runs for every proxied request. */
#include "http_exchange.h"
#include "proxy_srv.h"

#include <string.h>
#include <strings.h>

typedef struct {
    pt_arena_t *a;
    char *p;
    size_t len, cap;
} hb_t;

static void put(hb_t *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = (b->cap + n) * 2;
        b->p = pt_arena_grow(b->a, b->p, b->len, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(hb_t *b, const char *s)
{
    put(b, s, strlen(s));
}

/* A string literal, its length known when compiling. */
#define PUT_LIT(b, lit) put((b), "" lit, sizeof(lit) - 1)

/* A number in decimal, without printf (this runs for every request). */
static void put_uint(hb_t *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(b, tmp + i, sizeof(tmp) - i);
}

static void field(hb_t *b, const char *name, const char *value)
{
    puts_(b, name);
    put(b, ": ", 2);
    puts_(b, value);
    put(b, "\r\n", 2);
}

/* RFC 3986 pchar and '/': what a path may hold unescaped; every other byte of the decoded
 * path is %-encoded again (Apache's ap_proxy_canonenc for a path). */
static const uint8_t path_ch[256] = {
    ['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1, ['-'] = 1, ['.'] = 1, ['_'] = 1,
    ['~'] = 1, ['!'] = 1, ['$'] = 1, ['&' ... ','] = 1, [';'] = 1, ['='] = 1, [':'] = 1,
    ['@'] = 1, ['/'] = 1,
};

static bool path_char(unsigned char c)
{
    return path_ch[c];
}

/* keep_2f: AllowEncodedSlashes NoDecode left "%2F" in the path, to go on as it is (as
 * Apache's canonenc with PROXY_CANONENC_NOENCODEDSLASHENCODING). */
static void put_encoded(hb_t *b, const char *s, bool keep_2f)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const char *p = s; *p;) {
        const char *run = p;
        while (*p && path_char((unsigned char)*p))
            p++;
        put(b, run, (size_t)(p - run));
        if (keep_2f && p[0] == '%' && p[1] == '2' && (p[2] == 'F' || p[2] == 'f')) {
            put(b, p, 3);
            p += 3;
        } else if (*p) {
            char e[3] = {'%', hex[(unsigned char)*p >> 4], hex[(unsigned char)*p & 15]};
            put(b, e, 3);
            p++;
        }
    }
}

/* nocanon: the client's own bytes after the ProxyPass prefix, when the raw path starts
 * with it (as Apache, which otherwise falls back to the canonical form). */
static bool put_raw_path(hb_t *b, const pt_request_t *r, const pt_proxy_pass_t *pp)
{
    const char *u = r->unparsed_uri;
    if (u[0] != '/') { /* absolute-form: skip scheme and authority */
        const char *s = strstr(u, "://");
        u = s ? strchr(s + 3, '/') : NULL;
        if (!u)
            return false;
    }
    size_t ul = strcspn(u, "?#"), pl = strlen(pp->path);
    if (pp->re || ul < pl || strncmp(u, pp->path, pl) != 0)
        return false;
    const char *bp = pp->backend->path, *rest = u + pl;
    size_t bl = strlen(bp);
    if (bl && bp[bl - 1] == '/' && rest[0] == '/')
        rest++;
    puts_(b, bl ? bp : "/");
    if (!bl && rest[0] == '/')
        rest++;
    put(b, rest, (size_t)(u + ul - rest));
    return true;
}

static void put_target(hb_t *b, const pt_http_x_t *x)
{
    const pt_request_t *r = x->r;
    const pt_proxy_pass_t *pp = r->proxy_pass;
    if (x->b != r->backend && x->b->path[0]) {
        /* A balancer's member: its own path comes first, as Apache builds the member's URL
         * from its BalancerMember URL and the rest after balancer://NAME. */
        size_t ml = strlen(x->b->path);
        put(b, x->b->path, x->b->path[ml - 1] == '/' ? ml - 1 : ml);
    }
    if (!(pp && pp->nocanon && put_raw_path(b, r, pp))) {
        const char *path = r->backend_path ? r->backend_path : r->uri;
        if (!r->backend_path && x->b->path[0]) /* SetHandler "proxy:http://h/base" */
            path = pt_arena_printf(r->arena, "%s%s", x->b->path,
                                   x->b->path[strlen(x->b->path) - 1] == '/' ? r->uri + 1
                                                                              : r->uri);
        if (path[0] != '/')
            put(b, "/", 1);
        put_encoded(b, path, r->vhost->allow_encoded_slashes == 3);
    }
    if (r->args && !(pp && pp->noquery)) {
        put(b, "?", 1);
        puts_(b, r->args);
    }
}

/* What the head does with one of the client's fields, found in one scan of them (by length
 * first: no field name is compared twice). */
typedef enum {
    F_COPY,      /* passed on as it is */
    F_OWN,       /* written by this head itself: Host, Content-Length, Expect, Max-Forwards */
    F_VIA,       /* Via: merged with ours, or dropped (ProxyVia) */
    F_HOP,       /* hop-by-hop (Connection among them) */
    F_XFF,       /* X-Forwarded-For, -Host, -Server: merged with ours (ProxyAddHeaders) */
    F_XFH,
    F_XFS,
    F_XFP,       /* X-Forwarded-Proto: ours in its place, unless a RequestHeader rule
                    names it (then passed on, and ours not added) */
} fclass_t;

static bool name_is(const char *name, size_t n, const char *lit, size_t ln)
{
    return n == ln && strcasecmp(name, lit) == 0;
}

/* name, of lit's length, is lit in any case: the first letter inline, the rest by call. */
static bool same_ci(const char *name, const char *lit)
{
    return (name[0] | 0x20) == (lit[0] | 0x20) && strcasecmp(name, lit) == 0;
}

static fclass_t classify(const char *name, size_t n)
{
    if (pt_http_hop_by_hop(name, n))
        return F_HOP;
    switch (n) {
    case 3:
        return same_ci(name, "Via") ? F_VIA : F_COPY;
    case 4:
        return same_ci(name, "Host") ? F_OWN : F_COPY;
    case 12:
        return same_ci(name, "Max-Forwards") ? F_OWN : F_COPY;
    case 6:
        return same_ci(name, "Expect") ? F_OWN : F_COPY;
    case 14:
        return same_ci(name, "Content-Length") ? F_OWN : F_COPY;
    case 15:
    case 16:
    case 17:
    case 18:
        break;
    default:
        return F_COPY;
    }
    if (strncasecmp(name, "X-Forwarded-", 12) != 0)
        return F_COPY;
    return name_is(name + 12, n - 12, "For", 3)      ? F_XFF
           : name_is(name + 12, n - 12, "Host", 4)   ? F_XFH
           : name_is(name + 12, n - 12, "Server", 6) ? F_XFS
           : name_is(name + 12, n - 12, "Proto", 5)  ? F_XFP
                                                     : F_COPY;
}

/* One of the client's fields as the scan found it. */
typedef struct {
    unsigned char cls; /* fclass_t */
    bool split;        /* its value holds CR or LF (from a RequestHeader rule): never sent,
                        * it would split the head */
    size_t nlen, vlen;
} fscan_t;

/* The client's fields, scanned once. */
typedef struct {
    const pt_table_t *t;
    fscan_t *f;               /* one per entry */
    unsigned classes;         /* 1 << fclass_t of every class seen */
    const char *host;         /* the first Host, or NULL */
    const char *upgrade;      /* the first Upgrade, or NULL */
    const char *max_forwards; /* the first Max-Forwards, or NULL */
    bool conn_names;          /* a Connection field names more than keep-alive */
    size_t bytes;             /* of all names and values */
} scan_t;

static void scan_fields(scan_t *sc, const pt_request_t *r)
{
    const pt_table_t *t = &r->headers_in;
    *sc = (scan_t){.t = t, .f = pt_arena_alloc(r->arena, (t->n + 1) * sizeof(fscan_t))};
    for (size_t i = 0; i < t->n; i++) {
        const char *name = t->v[i].name, *value = t->v[i].value;
        size_t n = strlen(name), vl = strcspn(value, "\r\n");
        bool split = value[vl] != '\0';
        if (split)
            vl += strlen(value + vl);
        fclass_t c = classify(name, n);
        sc->f[i] = (fscan_t){.cls = (unsigned char)c, .split = split, .nlen = n, .vlen = vl};
        sc->classes |= 1u << c;
        sc->bytes += n + vl;
        if (c == F_OWN && n == 4 && !sc->host)
            sc->host = value;
        else if (c == F_OWN && n == 12 && !sc->max_forwards)
            sc->max_forwards = value;
        else if (c == F_HOP && n == 7 && !sc->upgrade && strcasecmp(name, "Upgrade") == 0)
            sc->upgrade = value;
        else if (c == F_HOP && n == 10 && strcasecmp(name, "Connection") == 0 &&
                 strcasecmp(value, "keep-alive") != 0)
            sc->conn_names = true; /* (keep-alive names Keep-Alive, hop-by-hop anyway) */
    }
}

/* Whether the client's field i is dropped: hop-by-hop, named by its Connection, or one that
 * this head writes itself. */
static bool dropped(const pt_http_x_t *x, const scan_t *sc, size_t i)
{
    fclass_t c = (fclass_t)sc->f[i].cls;
    if (c == F_HOP || c == F_OWN)
        return true;
    if (c == F_VIA)
        return pt_proxy_via_drops_client(x->r); /* ProxyVia: merged below, or Block */
    if (c == F_XFF || c == F_XFH || c == F_XFS)
        return x->r->vhost->proxy_add_headers != 1; /* merged below */
    if (c == F_XFP) /* replaced below, unless a RequestHeader rule decided it */
        return x->r->vhost->proxy_add_headers != 1 && !x->r->xfp_by_rule;
    const pt_table_t *t = sc->t;
    for (size_t j = 0; sc->conn_names && j < t->n; j++)
        if (sc->f[j].cls == F_HOP && strcasecmp(t->v[j].name, "Connection") == 0 &&
            pt_http_list_has(t->v[j].value, strlen(t->v[j].value), t->v[i].name,
                             sc->f[i].nlen))
            return true;
    return false;
}

/* Every value of the client's fields of class c joined by ", " (its X-Forwarded-For
 * fields), then more; name is a literal of nlen bytes with its ": ". */
static void merged(hb_t *b, const scan_t *sc, fclass_t c, const char *name, size_t nlen,
                   const char *more)
{
    put(b, name, nlen);
    for (size_t i = 0; (sc->classes & 1u << c) && i < sc->t->n; i++)
        if (sc->f[i].cls == c) {
            put(b, sc->t->v[i].value, sc->f[i].vlen);
            PUT_LIT(b, ", ");
        }
    puts_(b, more);
    PUT_LIT(b, "\r\n");
}
#define MERGED(b, sc, c, lit, more)                                                          \
    merged((b), (sc), (c), lit ": ", sizeof(lit ": ") - 1, (more))

static void put_host(hb_t *b, const pt_http_x_t *x, const scan_t *sc)
{
    const pt_request_t *r = x->r;
    if (r->vhost->proxy_preserve_host == 2 && sc->host) {
        field(b, "Host", sc->host);
        return;
    }
    const pt_backend_t *be = x->b;
    bool v6 = strchr(be->host, ':') != NULL;
    puts_(b, v6 ? "Host: [" : "Host: ");
    puts_(b, be->host);
    if (v6)
        put(b, "]", 1);
    if (be->port != be->scheme_ops->default_port)
        put(b, ":", 1), put_uint(b, (uint64_t)be->port);
    put(b, "\r\n", 2);
}

static void put_forwarded(hb_t *b, const pt_http_x_t *x, const scan_t *sc)
{
    const pt_request_t *r = x->r;
    MERGED(b, sc, F_XFF, "X-Forwarded-For", pt_request_client_ip(r));
    if (sc->host)
        MERGED(b, sc, F_XFH, "X-Forwarded-Host", sc->host);
    /* The ServerName, as Apache's r->server->server_hostname (not the Host asked for). */
    MERGED(b, sc, F_XFS, "X-Forwarded-Server",
           r->vhost->server_name ? r->vhost->server_name : pt_request_server_name(r));
    /* Not Apache's (it leaves the field to RequestHeader): the scheme the client used, in
     * place of any the client sent (dropped), unless a RequestHeader rule names it. */
    if (!(sc->classes & 1u << F_XFP) || !r->xfp_by_rule) {
        PUT_LIT(b, "X-Forwarded-Proto: ");
        puts_(b, r->scheme ? r->scheme : "http");
        PUT_LIT(b, "\r\n");
    }
}

static void put_framing(hb_t *b, const pt_http_x_t *x, const char *upgrade)
{
    const pt_request_t *r = x->r;
    if (r->has_body && r->content_length < 0)
        puts_(b, "Transfer-Encoding: chunked\r\n");
    else if (r->has_body || r->content_length == 0)
        puts_(b, "Content-Length: "), put_uint(b, (uint64_t)r->content_length),
            put(b, "\r\n", 2);
    if (x->expect)
        puts_(b, "Expect: 100-continue\r\n");
    if (x->upgrade) {
        field(b, "Upgrade", upgrade);
        puts_(b, "Connection: Upgrade\r\n");
    } else if (!x->reuse) {
        puts_(b, "Connection: close\r\n");
    }
}

char *pt_http_request_head(pt_http_x_t *x, size_t *len)
{
    pt_request_t *r = x->r;
    scan_t sc;
    scan_fields(&sc, r);
    size_t est = 512 + strlen(r->unparsed_uri) * 3 + sc.bytes + 4 * r->headers_in.n;
    hb_t b = {r->arena, pt_arena_alloc(r->arena, est), 0, est};
    puts_(&b, r->method);
    put(&b, " ", 1);
    put_target(&b, x);
    put(&b, " HTTP/1.1\r\n", 11);
    put_host(&b, x, &sc);
    for (size_t i = 0; i < r->headers_in.n; i++) {
        const pt_entry_t *e = &r->headers_in.v[i];
        if (sc.f[i].split || dropped(x, &sc, i))
            continue;
        put(&b, e->name, sc.f[i].nlen);
        PUT_LIT(&b, ": ");
        put(&b, e->value, sc.f[i].vlen);
        PUT_LIT(&b, "\r\n");
    }
    if (r->vhost->proxy_add_headers != 1)
        put_forwarded(&b, x, &sc);
    const char *via = pt_proxy_via_request(r), *mf = pt_proxy_max_forwards(r, sc.max_forwards);
    if (via)
        field(&b, "Via", via);
    if (mf)
        field(&b, "Max-Forwards", mf);
    put_framing(&b, x, sc.upgrade);
    put(&b, "\r\n", 2);
    *len = b.len;
    return b.p;
}
