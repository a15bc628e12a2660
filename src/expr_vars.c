/* What the names of ap_expr mean for a request: the %{NAME} variables of expr.html
 * ("Request headers", "Other request variables", "Misc") and its string functions (req,
 * http, resp, env, tolower, escape, base64, md5, file, ...). Values are computed on demand
 * into the request's arena; nothing in the request is changed. */
#include "expr.h"

#include "access.h"
#include "cgivars.h"
#include "request.h"
#include "tls.h"

#include <ctype.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* file(): the most it reads, so that a misconfigured expression cannot pull a whole disk
 * image into a request's arena. */
#define EXPR_FILE_MAX (1 << 20)

static const char *s_or_empty(const char *s)
{
    return s ? s : "";
}

static const char *header(const pt_request_t *r, const char *name)
{
    return s_or_empty(pt_table_get(&r->headers_in, name));
}

static const char *time_var(const pt_request_t *r, pt_expr_var_t v)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    switch (v) {
    case PT_XV_TIME_YEAR: return pt_arena_printf(r->arena, "%04d", tm.tm_year + 1900);
    case PT_XV_TIME_MON: return pt_arena_printf(r->arena, "%02d", tm.tm_mon + 1);
    case PT_XV_TIME_DAY: return pt_arena_printf(r->arena, "%02d", tm.tm_mday);
    case PT_XV_TIME_HOUR: return pt_arena_printf(r->arena, "%02d", tm.tm_hour);
    case PT_XV_TIME_MIN: return pt_arena_printf(r->arena, "%02d", tm.tm_min);
    case PT_XV_TIME_SEC: return pt_arena_printf(r->arena, "%02d", tm.tm_sec);
    case PT_XV_TIME_WDAY: return pt_arena_printf(r->arena, "%d", tm.tm_wday);
    default:
        return pt_arena_printf(r->arena, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900,
                               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
}

/* LAST_MODIFIED, SCRIPT_USER, SCRIPT_GROUP: from the mapped file. */
static const char *file_var(const pt_request_t *r, pt_expr_var_t v)
{
    struct stat st;
    if (!r->filename || stat(r->filename, &st) != 0)
        return "";
    if (v == PT_XV_LAST_MODIFIED) {
        struct tm tm;
        localtime_r(&st.st_mtime, &tm);
        return pt_arena_printf(r->arena, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900,
                               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    char buf[1024];
    if (v == PT_XV_SCRIPT_USER) {
        struct passwd pw, *res = NULL;
        if (getpwuid_r(st.st_uid, &pw, buf, sizeof buf, &res) == 0 && res)
            return pt_arena_strdup(r->arena, pw.pw_name);
        return pt_arena_printf(r->arena, "%u", (unsigned)st.st_uid);
    }
    struct group gr, *res = NULL;
    if (getgrgid_r(st.st_gid, &gr, buf, sizeof buf, &res) == 0 && res)
        return pt_arena_strdup(r->arena, gr.gr_name);
    return pt_arena_printf(r->arena, "%u", (unsigned)st.st_gid);
}

/* CONTEXT_PREFIX / CONTEXT_DOCUMENT_ROOT: the Alias that mapped the request, if any. */
static const char *context_var(const pt_request_t *r, bool prefix)
{
    const char *p, *root;
    pt_cgi_context(r, &p, &root);
    return prefix ? p : root;
}

static const char *on_off(bool on)
{
    return on ? "on" : "off";
}

static bool client_is_v6(const pt_request_t *r)
{
    const char *ip = pt_request_client_ip(r);
    return strchr(ip, ':') != NULL && strncmp(ip, "::ffff:", 7) != 0;
}

static const char *request_var(const pt_request_t *r, pt_expr_var_t v)
{
    pt_arena_t *a = r->arena;
    switch (v) {
    case PT_XV_REQUEST_METHOD: return s_or_empty(r->method);
    case PT_XV_REQUEST_SCHEME: return r->scheme ? r->scheme : "http";
    case PT_XV_REQUEST_URI:
    case PT_XV_DOCUMENT_URI: return s_or_empty(r->uri);
    case PT_XV_REQUEST_FILENAME:
    case PT_XV_SCRIPT_FILENAME: return s_or_empty(r->filename);
    case PT_XV_PATH_INFO: return s_or_empty(r->path_info);
    case PT_XV_QUERY_STRING: return s_or_empty(r->args);
    case PT_XV_IS_SUBREQ: return "false";
    case PT_XV_THE_REQUEST: return s_or_empty(r->the_request);
    case PT_XV_REMOTE_ADDR:
    case PT_XV_REMOTE_HOST: return pt_request_client_ip(r); /* HostnameLookups is Off */
    case PT_XV_REMOTE_PORT: return pt_arena_printf(a, "%d", pt_request_client_port(r));
    case PT_XV_REMOTE_USER: return s_or_empty(r->user);
    case PT_XV_SERVER_NAME: return pt_request_server_name(r);
    case PT_XV_SERVER_PORT: return pt_arena_printf(a, "%d", pt_request_server_port(r));
    case PT_XV_SERVER_ADMIN: return s_or_empty(r->vhost->server_admin);
    case PT_XV_SERVER_PROTOCOL: return s_or_empty(r->protocol);
    case PT_XV_DOCUMENT_ROOT: return s_or_empty(r->vhost->document_root);
    case PT_XV_CONTENT_TYPE: return s_or_empty(r->content_type);
    case PT_XV_HANDLER: return s_or_empty(r->handler);
    case PT_XV_HTTP2: return on_off(r->proto_num >= 2000);
    case PT_XV_HTTPS: return on_off(r->scheme && strcmp(r->scheme, "https") == 0);
    case PT_XV_IPV6: return on_off(client_is_v6(r));
    case PT_XV_REQUEST_STATUS: return pt_arena_printf(a, "%d", r->status);
    case PT_XV_CONN_REMOTE_ADDR: return pt_request_peer_ip(r);
    case PT_XV_CONTEXT_PREFIX: return context_var(r, true);
    case PT_XV_CONTEXT_DOCUMENT_ROOT: return context_var(r, false);
    case PT_XV_SERVER_SOFTWARE: return pt_server_banner(r->cfg ? r->cfg->server_tokens : 5);
    case PT_XV_API_VERSION: return "20120211"; /* Apache 2.4's module magic number */
    default: return ""; /* REMOTE_IDENT, AUTH_TYPE, the log ids: nothing sets them */
    }
}

static const char *var_value(const pt_request_t *r, pt_expr_var_t v)
{
    switch (v) {
    case PT_XV_HTTP_ACCEPT: return header(r, "Accept");
    case PT_XV_HTTP_COOKIE: return header(r, "Cookie");
    case PT_XV_HTTP_FORWARDED: return header(r, "Forwarded");
    case PT_XV_HTTP_HOST: return header(r, "Host");
    case PT_XV_HTTP_PROXY_CONNECTION: return header(r, "Proxy-Connection");
    case PT_XV_HTTP_REFERER: return header(r, "Referer");
    case PT_XV_HTTP_USER_AGENT: return header(r, "User-Agent");
    case PT_XV_TIME_YEAR: case PT_XV_TIME_MON: case PT_XV_TIME_DAY: case PT_XV_TIME_HOUR:
    case PT_XV_TIME_MIN: case PT_XV_TIME_SEC: case PT_XV_TIME_WDAY: case PT_XV_TIME:
        return time_var(r, v);
    case PT_XV_LAST_MODIFIED: case PT_XV_SCRIPT_USER: case PT_XV_SCRIPT_GROUP:
        return file_var(r, v);
    default:
        return request_var(r, v);
    }
}

/* ---- Functions -------------------------------------------------------------------------- */

static char *change_case(pt_arena_t *a, const char *s, bool upper)
{
    char *o = pt_arena_strdup(a, s);
    for (char *c = o; *c; c++)
        *c = (char)(upper ? toupper((unsigned char)*c) : tolower((unsigned char)*c));
    return o;
}

/* escape(): ap_escape_uri's path escaping; '/' stays, hex digits in lower case. */
static const char *escape(pt_arena_t *a, const char *s)
{
    static const char keep[] = "$-_.+!*'(),:@&=~/";
    char *o = pt_arena_alloc(a, strlen(s) * 3 + 1), *p = o;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || (c && strchr(keep, c)))
            *p++ = (char)c;
        else
            p += sprintf(p, "%%%02x", c);
    }
    *p = '\0';
    return o;
}

/* unescape(): %XX decoded except %2F, which stays encoded; "" for a bad escape or %00. */
static const char *unescape(pt_arena_t *a, const char *s)
{
    char *o = pt_arena_strdup(a, s), *p = o;
    for (; *s; s++) {
        if (*s != '%') {
            *p++ = *s;
            continue;
        }
        if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]))
            return "";
        int c = pt_hexval(s[1]) * 16 + pt_hexval(s[2]);
        if (c == 0)
            return "";
        if (c == '/') {
            memcpy(p, s, 3);
            p += 3;
        } else {
            *p++ = (char)c;
        }
        s += 2;
    }
    *p = '\0';
    return o;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char *base64(pt_arena_t *a, const char *s)
{
    size_t n = strlen(s);
    char *o = pt_arena_alloc(a, (n + 2) / 3 * 4 + 1), *p = o;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)s[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)s[i + 2];
        *p++ = b64chars[v >> 18 & 63];
        *p++ = b64chars[v >> 12 & 63];
        *p++ = i + 1 < n ? b64chars[v >> 6 & 63] : '=';
        *p++ = i + 2 < n ? b64chars[v & 63] : '=';
    }
    *p = '\0';
    return o;
}

/* unbase64(): decodes up to the first character that is not base64 (as apr_base64_decode). */
static const char *unbase64(pt_arena_t *a, const char *s)
{
    char *o = pt_arena_alloc(a, strlen(s) + 1), *p = o;
    unsigned v = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        const char *c = strchr(b64chars, *s);
        if (!c)
            break;
        v = (v << 6) | (unsigned)(c - b64chars);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *p++ = (char)(v >> bits & 0xff);
        }
    }
    *p = '\0';
    return o;
}

static const char *digest(pt_arena_t *a, const EVP_MD *md, const char *s)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(s, strlen(s), d, &n, md, NULL))
        return NULL;
    char *o = pt_arena_alloc(a, n * 2 + 1);
    for (unsigned i = 0; i < n; i++)
        sprintf(o + i * 2, "%02x", d[i]);
    o[n * 2] = '\0';
    return o;
}

static const char *read_file(const pt_request_t *r, const char *path, const char **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > EXPR_FILE_MAX) {
        int e = fd < 0 ? errno : 0;
        if (fd >= 0)
            close(fd);
        *err = pt_arena_printf(r->arena, "file('%s'): %s", path,
                               e ? strerror(e) : "not a regular file, or larger than 1 MiB");
        return NULL;
    }
    char *buf = pt_arena_alloc(r->arena, (size_t)st.st_size + 1);
    ssize_t got = read(fd, buf, (size_t)st.st_size);
    close(fd);
    if (got < 0) {
        *err = pt_arena_printf(r->arena, "file('%s'): %s", path, strerror(errno));
        return NULL;
    }
    buf[got] = '\0';
    return buf;
}

static const char *file_stat(const pt_request_t *r, const char *path, bool mtime)
{
    struct stat st;
    if (stat(path, &st) != 0 || (!mtime && !S_ISREG(st.st_mode)))
        return "0";
    return pt_arena_printf(r->arena, "%lld", (long long)(mtime ? st.st_mtime : st.st_size));
}

static const char *func_call(const pt_request_t *r, const pt_table_t *env, pt_expr_func_t f,
                             const char *arg, const char **err)
{
    pt_arena_t *a = r->arena;
    const char *v;
    switch (f) {
    case PT_XF_req: case PT_XF_http: case PT_XF_req_novary: return header(r, arg);
    case PT_XF_resp: return s_or_empty(pt_table_get(&r->headers_out, arg));
    case PT_XF_reqenv: return s_or_empty(pt_table_get(env, arg));
    case PT_XF_osenv: return s_or_empty(getenv(arg));
    case PT_XF_note: return ""; /* portico keeps no request notes */
    case PT_XF_env:
        v = pt_table_get(env, arg);
        return v ? v : s_or_empty(getenv(arg));
    case PT_XF_tolower: return change_case(a, arg, false);
    case PT_XF_toupper: return change_case(a, arg, true);
    case PT_XF_escape: return escape(a, arg);
    case PT_XF_unescape: return unescape(a, arg);
    case PT_XF_base64: return base64(a, arg);
    case PT_XF_unbase64: return unbase64(a, arg);
    case PT_XF_md5: return s_or_empty(digest(a, EVP_md5(), arg));
    case PT_XF_sha1: return s_or_empty(digest(a, EVP_sha1(), arg));
    case PT_XF_file: return read_file(r, arg, err);
    case PT_XF_filemod: return file_stat(r, arg, true);
    case PT_XF_filesize: return file_stat(r, arg, false);
    default:
        *err = "internal error: unknown function";
        return NULL;
    }
}

/* -ipmatch: the left side an address, the right a network in Apache's forms. */
static bool ip_match(const char *ip, const char *net)
{
    pt_cidr_t c;
    if (pt_cidr_parse(net, &c) != 0)
        return false;
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1)
        s4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1)
        s6->sin6_family = AF_INET6;
    else
        return false;
    return pt_cidr_match(&c, (const struct sockaddr *)&ss);
}

static const char *ssl_var(const pt_request_t *r, const char *name)
{
    const char *v = r->conn ? pt_tls_var(r->conn, r->arena, name) : NULL;
    return v ? v : "";
}

const pt_expr_lookup_t pt_expr_request_lookup = {
    .var = var_value,
    .ssl_var = ssl_var,
    .func = func_call,
    .ip_match = ip_match,
};
