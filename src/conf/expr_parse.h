/* Apache's expression language (ap_expr, https://httpd.apache.org/docs/2.4/expr.html) as a
 * pure parser: text in, a tree out, or a message for "file:line: ..." out. It knows the
 * names of the variables and functions (a misspelled one is a config error, as in Apache)
 * but not what they mean: src/expr.c evaluates a tree against a request. conf/ parses the
 * <If> conditions with it; the floors above parse Header expr=, SetEnvIfExpr, Require expr
 * and RewriteCond expr with it too. */
#ifndef PT_EXPR_PARSE_H
#define PT_EXPR_PARSE_H

#include "arena.h"
#include "common.h"
#include "regex_pcre.h"

/* The variables of %{NAME}, in the documentation's order. */
#define PT_EXPR_VARS(X)                                                                     \
    X(HTTP_ACCEPT) X(HTTP_COOKIE) X(HTTP_FORWARDED) X(HTTP_HOST) X(HTTP_PROXY_CONNECTION)   \
    X(HTTP_REFERER) X(HTTP_USER_AGENT) X(REQUEST_METHOD) X(REQUEST_SCHEME) X(REQUEST_URI)   \
    X(DOCUMENT_URI) X(REQUEST_FILENAME) X(SCRIPT_FILENAME) X(LAST_MODIFIED) X(SCRIPT_USER)  \
    X(SCRIPT_GROUP) X(PATH_INFO) X(QUERY_STRING) X(IS_SUBREQ) X(THE_REQUEST) X(REMOTE_ADDR) \
    X(REMOTE_PORT) X(REMOTE_HOST) X(REMOTE_USER) X(REMOTE_IDENT) X(SERVER_NAME)             \
    X(SERVER_PORT) X(SERVER_ADMIN) X(SERVER_PROTOCOL) X(DOCUMENT_ROOT) X(AUTH_TYPE)         \
    X(CONTENT_TYPE) X(HANDLER) X(HTTP2) X(HTTPS) X(IPV6) X(REQUEST_STATUS)                  \
    X(REQUEST_LOG_ID) X(CONN_LOG_ID) X(CONN_REMOTE_ADDR) X(CONTEXT_PREFIX)                  \
    X(CONTEXT_DOCUMENT_ROOT) X(TIME_YEAR) X(TIME_MON) X(TIME_DAY) X(TIME_HOUR) X(TIME_MIN)  \
    X(TIME_SEC) X(TIME_WDAY) X(TIME) X(SERVER_SOFTWARE) X(API_VERSION)

/* The string functions: name(word) and %{name:text}. */
#define PT_EXPR_FUNCS(X)                                                                    \
    X(req) X(http) X(req_novary) X(resp) X(reqenv) X(osenv) X(note) X(env) X(tolower)       \
    X(toupper) X(escape) X(unescape) X(base64) X(unbase64) X(md5) X(sha1) X(file)           \
    X(filemod) X(filesize)

#define PT_EXPR_ENUM_VAR(n) PT_XV_##n,
#define PT_EXPR_ENUM_FUNC(n) PT_XF_##n,
typedef enum { PT_EXPR_VARS(PT_EXPR_ENUM_VAR) PT_XV_COUNT } pt_expr_var_t;
typedef enum { PT_EXPR_FUNCS(PT_EXPR_ENUM_FUNC) PT_XF_COUNT } pt_expr_func_t;
/* mod_ssl's variables, %{SSL_...}: any name with that prefix (mod_ssl's expression hook
 * takes them all), a PT_XN_VAR with this id and the name in s; "" without TLS. */
#define PT_XV_SSL ((int)PT_XV_COUNT)

/* Operators of comparisons. */
typedef enum {
    /* unary: -d -e -f -s -L (and -h) -x -n -z -T -R */
    PT_XO_DIR, PT_XO_EXISTS, PT_XO_FILE, PT_XO_NONEMPTY_FILE, PT_XO_SYMLINK, PT_XO_EXEC,
    PT_XO_NONEMPTY, PT_XO_EMPTY, PT_XO_TRUE_STR, PT_XO_REMOTE_IP,
    /* string: == (=) != < <= > >= */
    PT_XO_STR_EQ, PT_XO_STR_NE, PT_XO_STR_LT, PT_XO_STR_LE, PT_XO_STR_GT, PT_XO_STR_GE,
    /* integer: -eq -ne -lt -le -gt -ge (also without the dash) */
    PT_XO_INT_EQ, PT_XO_INT_NE, PT_XO_INT_LT, PT_XO_INT_LE, PT_XO_INT_GT, PT_XO_INT_GE,
    /* -ipmatch -strmatch -strcmatch -fnmatch */
    PT_XO_IPMATCH, PT_XO_STRMATCH, PT_XO_STRCMATCH, PT_XO_FNMATCH,
    /* =~ !~ */
    PT_XO_MATCH, PT_XO_NOMATCH,
} pt_expr_op_t;

typedef enum {
    PT_XN_TRUE, PT_XN_FALSE,
    PT_XN_NOT,     /* a */
    PT_XN_AND,     /* a && b */
    PT_XN_OR,      /* a || b */
    PT_XN_UNARY,   /* op a */
    PT_XN_BINARY,  /* a op b */
    PT_XN_REGEX,   /* a op re (PT_XO_MATCH, PT_XO_NOMATCH) */
    PT_XN_IN,      /* a in b, a PT_XN_LIST */
    PT_XN_LIST,    /* a, then the rest of the list in b (NULL at the end) */
    PT_XN_STRING,  /* s */
    PT_XN_CONCAT,  /* a then b */
    PT_XN_VAR,     /* id: pt_expr_var_t */
    PT_XN_FUNC,    /* id: pt_expr_func_t; its argument in a */
    PT_XN_BACKREF, /* id: 0..9 */
} pt_expr_kind_t;

typedef struct pt_expr_node {
    pt_expr_kind_t kind;
    int id;                    /* operator, variable, function or back-reference number */
    const char *s;             /* PT_XN_STRING's text */
    const pt_regex_t *re;      /* PT_XN_REGEX */
    const struct pt_expr_node *a, *b;
} pt_expr_node_t;

/* A parsed expression. The nodes live in the arena given to pt_expr_parse; the compiled
 * regexes are the expression's own, released by pt_expr_free (conf hands them to the
 * config's list instead: pt_dcx_expr). Read-only after parsing, shared by threads. */
typedef struct pt_expr {
    const pt_expr_node_t *root;
    const char *source;        /* as written */
    bool is_string;            /* PT_EXPR_STRING: evaluates to a string, not true/false */
    pt_regex_t **regexes;
    size_t nregexes;
} pt_expr_t;

/* Parse flags. */
#define PT_EXPR_STRING 0x01 /* a string expression (Header's expr= value): text with %{},
                               $N and \ escapes, as between double quotes */
#define PT_EXPR_RESTRICTED 0x02 /* Apache's AP_EXPR_FLAG_RESTRICTED (a RewriteCond expr in a
                                   .htaccess file): file(), filesize() and filemod() are
                                   refused, as they would read any file the server can */

/* Bounds, so that a hostile or broken expression cannot exhaust the stack. */
#define PT_EXPR_MAX_DEPTH 64
#define PT_EXPR_MAX_LEN 8192

/* Parses src. NULL on error, with the reason in err (no file:line: the caller adds it). */
pt_expr_t *pt_expr_parse(pt_arena_t *a, const char *src, unsigned flags, char *err,
                         size_t errlen);
/* Releases the regexes of e (its nodes die with the arena). NULL is fine. */
void pt_expr_free(pt_expr_t *e);

/* The names, for messages and the evaluator's lookups ("HTTP_HOST", "tolower"). */
const char *pt_expr_var_name(pt_expr_var_t v);
const char *pt_expr_func_name(pt_expr_func_t f);

#endif
