/* The access log format language: Apache's LogFormat compiled into a list of items, and the
 * renderer that turns a finished request into one line. Values are escaped as Apache's
 * ap_escape_logitem does, or as JSON for the "json" nickname, so a client cannot forge
 * lines or break the output format. */
#include "logformat.h"

#include "conn.h"
#include "log.h"
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Codes above the byte range are portico's own, used only by the "json" nickname. */
enum { LF_LITERAL = 0, LF_JSON_TIME = 256, LF_HOSTNAME, LF_ARGS, LF_TRAILER_IN, LF_TRAILER_OUT };

typedef struct {
    int code;           /* directive letter, LF_* */
    const char *arg;    /* the {...} argument, or NULL */
    const char *lit;    /* LF_LITERAL text */
    size_t litlen;
    int *conds;         /* %400,501 status condition */
    size_t nconds;
    bool negate;        /* %!200 */
    bool want_orig;     /* read the request before its internal redirects ('<'), else the
                           final one ('>') */
} lf_item_t;

struct pt_logformat {
    lf_item_t *items;
    size_t nitems, cap;
    bool json;
};

#define LF_COND_MAX 16
#define LF_TMP 256

/* Every Apache directive portico knows; %l %L %S %n have no value here and log "-". */
static const char DIRECTIVES[] = "aAbBCDfhHklLmpPqrRsStTuUvVXIOieno";
/* The ones mod_log_config reads from the original request of an internally redirected one
 * unless '>' says otherwise (its log_pfn_register calls with want_orig 1): an ErrorDocument's
 * line shows the URL asked for and its status, %>s the final status. */
static const char ORIG_DIRECTIVES[] = "rDTUsRL";

static lf_item_t *item_add(pt_arena_t *a, pt_logformat_t *f)
{
    if (f->nitems == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 16;
        f->items = pt_arena_grow(a, f->items, f->cap * sizeof(lf_item_t),
                                 ncap * sizeof(lf_item_t));
        f->cap = ncap;
    }
    lf_item_t *it = &f->items[f->nitems++];
    memset(it, 0, sizeof(*it));
    return it;
}

static void literal_add(pt_arena_t *a, pt_logformat_t *f, const char *s, size_t n)
{
    if (n == 0)
        return;
    lf_item_t *it = item_add(a, f);
    it->code = LF_LITERAL;
    it->lit = pt_arena_strndup(a, s, n);
    it->litlen = n;
}

static bool arg_valid(int code, const char *arg, char *err, size_t errlen)
{
    static const char *const ports[] = {"canonical", "local", "remote", NULL};
    static const char *const pids[] = {"pid", "tid", "hextid", NULL};
    static const char *const units[] = {"s", "ms", "us", NULL};
    const char *const *set = code == 'p' ? ports : code == 'P' ? pids : code == 'T' ? units : NULL;
    if (strchr("ioenC", code) && (!arg || !*arg)) {
        snprintf(err, errlen, "LogFormat directive %%%c needs a {NAME}", code);
        return false;
    }
    if (!set || !arg)
        return true;
    for (size_t i = 0; set[i]; i++)
        if (strcmp(set[i], arg) == 0)
            return true;
    snprintf(err, errlen, "LogFormat directive %%{%s}%c: unknown argument", arg, code);
    return false;
}

/* Parses the modifiers and letter after '%'; *pp points past the '%' on entry and past the
 * letter on success. */
static bool directive_parse(pt_arena_t *a, pt_logformat_t *f, const char **pp, char *err,
                            size_t errlen)
{
    const char *p = *pp;
    int conds[LF_COND_MAX];
    size_t nconds = 0;
    bool negate = false;
    int orig = -1;
    const char *arg = NULL;
    for (;; p++) {
        if (*p == '<' || *p == '>') {
            orig = *p == '<';
        } else if (*p == '!') {
            negate = true;
        } else if (*p >= '0' && *p <= '9') {
            char *end;
            long v = strtol(p, &end, 10);
            if (nconds == LF_COND_MAX || v < 100 || v > 999) {
                snprintf(err, errlen, "bad status condition in LogFormat at \"%s\"", *pp - 1);
                return false;
            }
            conds[nconds++] = (int)v;
            p = end - 1;
        } else if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close) {
                snprintf(err, errlen, "unterminated {...} in LogFormat at \"%s\"", *pp - 1);
                return false;
            }
            arg = pt_arena_strndup(a, p + 1, (size_t)(close - p - 1));
            p = close;
        } else if (*p != ',') {
            break;
        }
    }
    int code;
    if (p[0] == '^' && p[1] == 't' && (p[2] == 'i' || p[2] == 'o')) {
        /* %{NAME}^ti, %{NAME}^to: a request or response trailer field (none is sent: "-"). */
        p += 2;
        if (!arg || !*arg) {
            snprintf(err, errlen, "LogFormat directive %%^t%c needs a {NAME}", *p);
            return false;
        }
        code = *p == 'i' ? LF_TRAILER_IN : LF_TRAILER_OUT;
    } else {
        if (*p == '\0' || !strchr(DIRECTIVES, *p)) {
            snprintf(err, errlen, "unrecognized LogFormat directive %%%.1s", p);
            return false;
        }
        if (!arg_valid(*p, arg, err, errlen))
            return false;
        code = (unsigned char)*p;
    }
    lf_item_t *it = item_add(a, f);
    it->code = code;
    it->arg = arg;
    it->negate = negate;
    it->want_orig = orig >= 0 ? orig == 1 : code < 256 && strchr(ORIG_DIRECTIVES, code);
    if (nconds) {
        it->conds = pt_arena_alloc(a, nconds * sizeof(int));
        memcpy(it->conds, conds, nconds * sizeof(int));
        it->nconds = nconds;
    }
    *pp = p + 1;
    return true;
}

static char unescape(char c)
{
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case '"': return '"';
    case '\\': return '\\';
    default: return 0;
    }
}

static pt_logformat_t *compile_apache(pt_arena_t *a, const char *fmt, char *err, size_t errlen)
{
    pt_logformat_t *f = pt_arena_calloc(a, sizeof(*f));
    size_t cap = strlen(fmt) + 1, n = 0;
    char *lit = pt_arena_alloc(a, cap);
    for (const char *p = fmt; *p;) {
        if (*p == '\\' && p[1] && unescape(p[1])) {
            lit[n++] = unescape(p[1]);
            p += 2;
        } else if (*p == '%' && p[1] == '%') {
            lit[n++] = '%';
            p += 2;
        } else if (*p == '%') {
            literal_add(a, f, lit, n);
            n = 0;
            p++;
            if (!directive_parse(a, f, &p, err, errlen))
                return NULL;
        } else {
            lit[n++] = *p++;
        }
    }
    literal_add(a, f, lit, n);
    return f;
}

/* portico's JSON line: every value item renders its own quotes (or null / a number). */
static pt_logformat_t *compile_json(pt_arena_t *a)
{
    /* The request as the client sent it (method, uri, query: the original of an internal
     * redirect), the status as answered (the final one, %>s). */
    static const struct {
        const char *key;
        int code;
        const char *arg;
        bool orig;
    } keys[] = {
        {"time", LF_JSON_TIME, NULL, false}, {"remote_addr", 'a', NULL, false},
        {"method", 'm', NULL, true},         {"uri", 'U', NULL, true},
        {"query", LF_ARGS, NULL, true},      {"protocol", 'H', NULL, false},
        {"status", 's', NULL, false},        {"bytes", 'B', NULL, false},
        {"duration_us", 'D', NULL, false},   {"host", LF_HOSTNAME, NULL, false},
        {"referer", 'i', "Referer", false},  {"user_agent", 'i', "User-Agent", false},
        {"vhost", 'v', NULL, false},
    };
    pt_logformat_t *f = pt_arena_calloc(a, sizeof(*f));
    f->json = true;
    for (size_t i = 0; i < PT_ARRAY_LEN(keys); i++) {
        char *lit = pt_arena_printf(a, "%s\"%s\":", i ? "," : "{", keys[i].key);
        literal_add(a, f, lit, strlen(lit));
        lf_item_t *it = item_add(a, f);
        it->code = keys[i].code;
        it->arg = keys[i].arg;
        it->want_orig = keys[i].orig;
    }
    literal_add(a, f, "}", 1);
    return f;
}

pt_logformat_t *pt_logformat_compile(pt_arena_t *a, const char *fmt, char *err, size_t errlen)
{
    if (strcmp(fmt, "common") == 0)
        fmt = "%h %l %u %t \"%r\" %>s %b";
    else if (strcmp(fmt, "combined") == 0)
        fmt = "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"";
    else if (strcmp(fmt, "json") == 0)
        return compile_json(a);
    return compile_apache(a, fmt, err, errlen);
}

/* ---- Rendering ------------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t len, cap; /* cap excludes the byte kept for the final '\n' */
} lbuf_t;

static void put(lbuf_t *b, const char *s, size_t n)
{
    size_t room = b->cap - b->len;
    if (n > room)
        n = room;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void putc_(lbuf_t *b, char c)
{
    if (b->len < b->cap)
        b->p[b->len++] = c;
}

/* A rendered value: NULL s means absent ("-" or JSON null); num means a bare number. */
typedef struct {
    const char *s;
    size_t n;
    bool num;
    char prefix;        /* emitted before s unescaped ('?' of %q), 0 for none */
} lval_t;

static lval_t str_val(const char *s)
{
    return (lval_t){s, s ? strlen(s) : 0, false, 0};
}

static lval_t num_val(char *tmp, long long v)
{
    int n = snprintf(tmp, LF_TMP, "%lld", v);
    return (lval_t){tmp, (size_t)n, true, 0};
}

static const char *MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static void local_tm(int64_t us, struct tm *tm)
{
    time_t t = (time_t)(us / 1000000);
    localtime_r(&t, tm);
}

static size_t fmt_offset(char *out, size_t cap, const struct tm *tm, bool colon)
{
    long off = tm->tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    off = off < 0 ? -off : off;
    return (size_t)snprintf(out, cap, colon ? "%c%02ld:%02ld" : "%c%02ld%02ld", sign,
                            off / 3600, off / 60 % 60);
}

static lval_t time_val(const lf_item_t *it, const pt_request_t *r, char *tmp)
{
    const char *arg = it->arg;
    int64_t us = r->start_wall_us;
    if (arg && strncmp(arg, "begin:", 6) == 0) {
        arg += 6;
    } else if (arg && strncmp(arg, "end:", 4) == 0) {
        arg += 4;
        us = pt_wall_us();
    }
    if (arg && strcmp(arg, "sec") == 0)
        return num_val(tmp, us / 1000000);
    if (arg && strcmp(arg, "msec") == 0)
        return num_val(tmp, us / 1000);
    if (arg && strcmp(arg, "usec") == 0)
        return num_val(tmp, us);
    if (arg && strcmp(arg, "msec_frac") == 0)
        return (lval_t){tmp, (size_t)snprintf(tmp, LF_TMP, "%03d", (int)(us / 1000 % 1000)),
                        true, 0};
    if (arg && strcmp(arg, "usec_frac") == 0)
        return (lval_t){tmp, (size_t)snprintf(tmp, LF_TMP, "%06d", (int)(us % 1000000)),
                        true, 0};
    struct tm tm;
    local_tm(us, &tm);
    size_t n;
    if (arg && *arg) {
/* The format is the administrator's %{...}t argument, as Apache passes it to strftime. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        n = strftime(tmp, LF_TMP, arg, &tm);
#pragma GCC diagnostic pop
    } else {
        n = (size_t)snprintf(tmp, LF_TMP, "[%02d/%s/%04d:%02d:%02d:%02d ", tm.tm_mday,
                             MONTHS[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                             tm.tm_sec);
        n += fmt_offset(tmp + n, LF_TMP - n, &tm, false);
        tmp[n++] = ']';
    }
    return (lval_t){tmp, n, false, 0};
}

static lval_t json_time_val(const pt_request_t *r, char *tmp)
{
    struct tm tm;
    local_tm(r->start_wall_us, &tm);
    size_t n = strftime(tmp, LF_TMP, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(tmp + n, LF_TMP - n, ".%06d", (int)(r->start_wall_us % 1000000));
    n += fmt_offset(tmp + n, LF_TMP - n, &tm, true);
    return (lval_t){tmp, n, false, 0};
}

static lval_t duration_val(const lf_item_t *it, const pt_request_t *r, char *tmp)
{
    int64_t d = pt_mono_us() - r->start_mono_us;
    if (d < 0)
        d = 0;
    if (it->code == 'D' || (it->arg && strcmp(it->arg, "us") == 0))
        return num_val(tmp, d);
    if (it->arg && strcmp(it->arg, "ms") == 0)
        return num_val(tmp, d / 1000);
    return num_val(tmp, d / 1000000);
}

/* The value of one cookie from the Cookie request header (%{NAME}C). */
static lval_t cookie_val(const pt_request_t *r, const char *name)
{
    const char *c = pt_table_get(&r->headers_in, "Cookie");
    size_t nl = strlen(name);
    while (c && *c) {
        while (*c == ' ' || *c == ';')
            c++;
        const char *end = strchr(c, ';');
        size_t len = end ? (size_t)(end - c) : strlen(c);
        if (len > nl && strncmp(c, name, nl) == 0 && c[nl] == '=')
            return (lval_t){c + nl + 1, len - nl - 1, false, 0};
        c = end;
    }
    return (lval_t){0};
}

static lval_t port_val(const lf_item_t *it, const pt_request_t *r, char *tmp)
{
    if (it->arg && strcmp(it->arg, "local") == 0)
        return num_val(tmp, pt_request_local_port(r));
    if (it->arg && strcmp(it->arg, "remote") == 0)
        return num_val(tmp, pt_request_client_port(r));
    return num_val(tmp, pt_request_server_port(r));
}

static lval_t pid_val(const lf_item_t *it, char *tmp)
{
    if (it->arg && strcmp(it->arg, "tid") == 0)
        return num_val(tmp, (long long)syscall(SYS_gettid));
    if (it->arg && strcmp(it->arg, "hextid") == 0)
        return (lval_t){tmp, (size_t)snprintf(tmp, LF_TMP, "%lx", (long)syscall(SYS_gettid)),
                        false, 0};
    return num_val(tmp, (long long)getpid());
}

static const char *vhost_name(const pt_request_t *r)
{
    if (r->vhost && r->vhost->server_name)
        return r->vhost->server_name;
    if (r->cfg && r->cfg->main_server)
        return r->cfg->main_server->server_name;
    return NULL;
}

static char conn_status(const pt_request_t *r)
{
    if ((r->conn && r->conn->aborted) || (r->head_sent && !r->body_done))
        return 'X';
    return r->keepalive ? '+' : '-';
}

static lval_t bytes_in_val(const pt_request_t *r, char *tmp)
{
    if (!r->head_bytes_in)
        return (lval_t){0};
    return num_val(tmp, (long long)(r->head_bytes_in + r->body_read));
}

static lval_t header_out_val(const pt_request_t *r, const char *name)
{
    const char *v = pt_table_get(&r->headers_out, name);
    return str_val(v ? v : pt_table_get(&r->err_headers_out, name));
}

static lval_t item_val(const lf_item_t *it, const pt_request_t *r, char *tmp)
{
    switch (it->code) {
    case 'a': case 'h': /* %{c}a, %{c}h: the connection's peer, not mod_remoteip's client */
        return str_val(it->arg && strcmp(it->arg, "c") == 0 ? pt_request_peer_ip(r)
                                                             : pt_request_client_ip(r));
    case 'A': return str_val(pt_request_local_ip(r));
    case 'b': return r->bytes_sent ? num_val(tmp, r->bytes_sent) : (lval_t){0};
    case 'B': return num_val(tmp, r->bytes_sent);
    case 'C': return cookie_val(r, it->arg);
    case 'D': case 'T': return duration_val(it, r, tmp);
    case 'f': return str_val(r->filename);
    case 'H': return str_val(r->protocol);
    case 'k': return num_val(tmp, r->conn && r->conn->requests > 0 ? r->conn->requests - 1 : 0);
    case 'm': return str_val(r->method);
    case 'p': return port_val(it, r, tmp);
    case 'P': return pid_val(it, tmp);
    case 'q': return r->args ? (lval_t){r->args, strlen(r->args), false, '?'} : str_val("");
    case 'r': return str_val(r->the_request);
    case 'R': return str_val(r->handler);
    case 's': return num_val(tmp, r->status);
    case 't': return time_val(it, r, tmp);
    case 'u': return str_val(r->user);
    case 'U': return str_val(r->uri);
    case 'v': return str_val(vhost_name(r));
    case 'V': return str_val(pt_request_server_name(r));
    case 'X': tmp[0] = conn_status(r); return (lval_t){tmp, 1, false, 0};
    case 'I': return bytes_in_val(r, tmp);
    case 'O': return r->head_sent ? num_val(tmp, r->bytes_sent) : (lval_t){0};
    case 'i': return str_val(pt_table_get(&r->headers_in, it->arg));
    case 'o': return header_out_val(r, it->arg);
    case 'e': return str_val(pt_table_get(&r->env, it->arg));
    case 'n': return str_val(pt_table_get(&r->notes, it->arg));
    case LF_JSON_TIME: return json_time_val(r, tmp);
    case LF_HOSTNAME: return str_val(r->hostname);
    case LF_ARGS: return str_val(r->args);
    case LF_TRAILER_IN: return str_val(pt_table_get(&r->trailers_in, it->arg));
    default: return (lval_t){0};
    }
}

static const char HEX[] = "0123456789abcdef";

/* As Apache's ap_escape_logitem: quotes, backslashes and anything not printable ASCII. */
static void put_apache(lbuf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[4] = {'\\', 0, 0, 0};
        size_t en = 2;
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            putc_(b, (char)c);
            continue;
        } else if (c == '\b' || c == '\n' || c == '\r' || c == '\t' || c == '\v') {
            esc[1] = c == '\b' ? 'b' : c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 'v';
        } else {
            esc[1] = 'x';
            esc[2] = HEX[c >> 4];
            esc[3] = HEX[c & 15];
            en = 4;
        }
        put(b, esc, en);
    }
}

/* Length of a well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

static void put_json(lbuf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b"
                      : c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                      : c == '\t' ? "\\t" : NULL;
        size_t ulen;
        if (e) {
            put(b, e, 2);
            i++;
        } else if (c >= 0x20 && c < 0x7f) {
            putc_(b, (char)c);
            i++;
        } else if (c >= 0x80 && (ulen = utf8_len((const unsigned char *)s + i, n - i))) {
            put(b, s + i, ulen);
            i += ulen;
        } else {
            char u[6] = {'\\', 'u', '0', '0', HEX[c >> 4], HEX[c & 15]};
            put(b, u, 6);
            i++;
        }
    }
}

static bool cond_blocks(const lf_item_t *it, int status)
{
    if (!it->nconds)
        return false;
    bool in = false;
    for (size_t i = 0; i < it->nconds; i++)
        in = in || it->conds[i] == status;
    return it->negate ? in : !in;
}

/* it reads orig (the request before its internal redirects, NULL when there were none) or
 * r, the final one; its status condition reads r's status, as mod_log_config's. */
static void render_item(const pt_logformat_t *f, const lf_item_t *it, const pt_request_t *r,
                        const pt_request_t *orig, lbuf_t *b)
{
    char tmp[LF_TMP];
    if (it->code == LF_LITERAL) {
        put(b, it->lit, it->litlen);
        return;
    }
    lval_t v = {0};
    if (!cond_blocks(it, r->status))
        v = item_val(it, it->want_orig && orig ? orig : r, tmp);
    if (!v.s) {
        put(b, f->json ? "null" : "-", f->json ? 4 : 1);
    } else if (f->json && v.num) {
        put(b, v.s, v.n);
    } else if (f->json) {
        putc_(b, '"');
        put_json(b, v.s, v.n);
        putc_(b, '"');
    } else {
        if (v.prefix)
            putc_(b, v.prefix);
        put_apache(b, v.s, v.n);
    }
}

size_t pt_logformat_render(const pt_logformat_t *f, const struct pt_request *r, char *out,
                           size_t cap)
{
    if (cap == 0)
        return 0;
    lbuf_t b = {out, 0, cap - 1};
    /* An internally redirected request: its original as a request of its own, for the
     * items that read it (r->orig holds what the redirects changed). */
    pt_request_t orig;
    if (r->orig.uri) {
        orig = *r;
        orig.uri = r->orig.uri;
        orig.args = r->orig.args;
        orig.method = r->orig.method;
        orig.filename = r->orig.filename;
        orig.handler = r->orig.handler;
        orig.status = r->orig.status;
    }
    for (size_t i = 0; i < f->nitems && b.len < b.cap; i++)
        render_item(f, &f->items[i], r, r->orig.uri ? &orig : NULL, &b);
    out[b.len++] = '\n';
    return b.len;
}
