/* The ap_expr parser: recursive descent over the grammar of Apache's expr.html, with its
 * precedence (|| below &&, ! binding tighter than both, "." joining words) and its lexical
 * rules (' and " strings with %{...}, $N and backslash escapes; /re/ and m#re# regexes with
 * an i flag; -x unary and -name binary operators). The tree it builds is evaluated by
 * src/expr.c. */
#include "expr_parse.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define PT_EXPR_NAME_STR(n) #n,
static const char *const var_names[] = {PT_EXPR_VARS(PT_EXPR_NAME_STR)};
static const char *const func_names[] = {PT_EXPR_FUNCS(PT_EXPR_NAME_STR)};

const char *pt_expr_var_name(pt_expr_var_t v)
{
    return (unsigned)v < PT_XV_COUNT ? var_names[v] : "?";
}

const char *pt_expr_func_name(pt_expr_func_t f)
{
    return (unsigned)f < PT_XF_COUNT ? func_names[f] : "?";
}

typedef struct {
    pt_arena_t *a;
    const char *src;
    const char *p;
    char *err;
    size_t errlen;
    bool failed;
    int depth;
    unsigned flags;
    pt_expr_t *e;
} xp_t;

__attribute__((format(printf, 2, 3))) static pt_expr_node_t *fail(xp_t *x, const char *fmt,
                                                                  ...)
{
    if (x->failed)
        return NULL;
    x->failed = true;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (x->err && x->errlen) {
        if (*x->p)
            snprintf(x->err, x->errlen, "%s, at '%.24s%s'", msg, x->p,
                     strlen(x->p) > 24 ? "..." : "");
        else
            snprintf(x->err, x->errlen, "%s, at the end", msg);
    }
    return NULL;
}

static pt_expr_node_t *node(xp_t *x, pt_expr_kind_t kind, int id, const pt_expr_node_t *a,
                            const pt_expr_node_t *b)
{
    pt_expr_node_t *n = pt_arena_calloc(x->a, sizeof(*n));
    n->kind = kind;
    n->id = id;
    n->a = a;
    n->b = b;
    return n;
}

static void skip_ws(xp_t *x)
{
    while (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r')
        x->p++;
}

static bool is_ident(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Consumes the punctuation tok (after blanks) when it is next. */
static bool accept(xp_t *x, const char *tok)
{
    skip_ws(x);
    size_t n = strlen(tok);
    if (strncmp(x->p, tok, n) != 0)
        return false;
    x->p += n;
    return true;
}

/* Consumes the word w (letters) when it is next as a whole word. */
static bool accept_word(xp_t *x, const char *w)
{
    skip_ws(x);
    size_t n = strlen(w);
    if (strncmp(x->p, w, n) != 0 || is_ident(x->p[n]))
        return false;
    x->p += n;
    return true;
}

static bool enter(xp_t *x)
{
    if (++x->depth > PT_EXPR_MAX_DEPTH) {
        fail(x, "expression nested deeper than %d levels", PT_EXPR_MAX_DEPTH);
        return false;
    }
    return true;
}

/* ---- Words ------------------------------------------------------------------------------ */

static const pt_expr_node_t *parse_word(xp_t *x);

static int lookup(const char *const *names, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], s, len) == 0)
            return (int)i;
    return -1;
}

static const pt_expr_node_t *parse_string_body(xp_t *x, char quote);

static const pt_expr_node_t *literal(xp_t *x, const char *s, size_t len)
{
    pt_expr_node_t *n = node(x, PT_XN_STRING, 0, NULL, NULL);
    n->s = pt_arena_strndup(x->a, s, len);
    return n;
}

/* PT_EXPR_RESTRICTED: what reads files is not available (Apache's restricted providers,
 * file and filesize; filemod, which Apache 2.4 does not have, with them). */
static bool allowed(xp_t *x, int f)
{
    if ((x->flags & PT_EXPR_RESTRICTED) &&
        (f == PT_XF_file || f == PT_XF_filesize || f == PT_XF_filemod)) {
        fail(x, "%s not available in restricted context", pt_expr_func_name(f));
        return false;
    }
    return true;
}

/* "%{NAME}" or "%{func:text}", x->p after the "%{". */
static const pt_expr_node_t *parse_variable(xp_t *x)
{
    const char *name = x->p;
    while (is_ident(*x->p))
        x->p++;
    size_t len = (size_t)(x->p - name);
    if (len == 0)
        return fail(x, "expected a variable name after '%%{'");
    if (*x->p == '}') {
        int v = lookup(var_names, PT_XV_COUNT, name, len);
        if (v < 0 && len > 4 && strncmp(name, "SSL_", 4) == 0) {
            pt_expr_node_t *sv = node(x, PT_XN_VAR, PT_XV_SSL, NULL, NULL);
            sv->s = pt_arena_strndup(x->a, name, len);
            x->p++;
            return sv;
        }
        if (v < 0) {
            x->p = name;
            return fail(x, "Variable '%.*s' does not exist", (int)len, name);
        }
        x->p++;
        return node(x, PT_XN_VAR, v, NULL, NULL);
    }
    if (*x->p != ':')
        return fail(x, "expected '}' or ':' after '%%{%.*s'", (int)len, name);
    int f = lookup(func_names, PT_XF_COUNT, name, len);
    if (f < 0) {
        x->p = name;
        return fail(x, "Function '%.*s' does not exist", (int)len, name);
    }
    if (!allowed(x, f))
        return NULL;
    /* The argument is a string up to the '}', with %{...} and $N of its own (apache2 2.4:
     * "%{toupper:%{HTTP_HOST}}" is the upper-cased host). */
    x->p++;
    if (*x->p == '}') /* as apache2: "unexpected T_VAR_END" */
        return fail(x, "'%%{%.*s:}' has no argument", (int)len, name);
    if (!enter(x))
        return NULL;
    const pt_expr_node_t *a = parse_string_body(x, '}');
    x->depth--;
    return a ? node(x, PT_XN_FUNC, f, a, NULL) : NULL;
}

static const pt_expr_node_t *join(xp_t *x, const pt_expr_node_t *l, const pt_expr_node_t *r)
{
    return l ? node(x, PT_XN_CONCAT, 0, l, r) : r;
}

/* One backslash escape in a string; x->p at the backslash. */
static char unescape_one(xp_t *x)
{
    char c = x->p[1];
    x->p += 2;
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'b': return '\b';
    case 'f': return '\f';
    default: return c;
    }
}

/* The inside of a string up to quote ('\0': to the end of the input, for string
 * expressions): literal text, %{...} and $N, joined. x->p after the opening quote. */
static const pt_expr_node_t *parse_string_body(xp_t *x, char quote)
{
    const pt_expr_node_t *out = NULL;
    pt_strbuf_t lit = {.a = x->a};
    for (;;) {
        char c = *x->p;
        bool flush = false;
        const pt_expr_node_t *part = NULL;
        if (c == '\0' && quote)
            return fail(x, quote == '}' ? "'%%{name:' is not closed with '}'"
                                        : "unterminated string (missing %c)", quote);
        if (c == quote) {
            if (quote)
                x->p++;
            break;
        }
        if (c == '\\' && x->p[1]) {
            char u = unescape_one(x);
            pt_strbuf_printf(&lit, "%c", u);
            continue;
        }
        if (c == '%' && x->p[1] == '{') {
            x->p += 2;
            if (!(part = parse_variable(x)))
                return NULL;
            flush = true;
        } else if (c == '$' && isdigit((unsigned char)x->p[1])) {
            part = node(x, PT_XN_BACKREF, x->p[1] - '0', NULL, NULL);
            x->p += 2;
            flush = true;
        } else {
            pt_strbuf_printf(&lit, "%c", c);
            x->p++;
        }
        if (flush) {
            if (lit.len)
                out = join(x, out, literal(x, lit.p, lit.len));
            lit.len = 0;
            out = join(x, out, part);
        }
    }
    if (lit.len || !out)
        out = join(x, out, literal(x, lit.p ? lit.p : "", lit.len));
    return out;
}

/* name(word), x->p at the name. */
static const pt_expr_node_t *parse_function(xp_t *x)
{
    const char *name = x->p;
    while (is_ident(*x->p))
        x->p++;
    size_t len = (size_t)(x->p - name);
    skip_ws(x);
    if (*x->p != '(') {
        x->p = name;
        return fail(x, "unexpected word '%.*s' (a string needs quotes)", (int)len, name);
    }
    int f = lookup(func_names, PT_XF_COUNT, name, len);
    if (f < 0) {
        x->p = name;
        return fail(x, "Function '%.*s' does not exist", (int)len, name);
    }
    if (!allowed(x, f))
        return NULL;
    x->p++;
    const pt_expr_node_t *arg = parse_word(x);
    if (!arg)
        return NULL;
    if (!accept(x, ")"))
        return fail(x, "expected ')' after the argument of %.*s()", (int)len, name);
    return node(x, PT_XN_FUNC, f, arg, NULL);
}

/* One word without "." joins: a number, a string, a variable, $N or a function call. */
static const pt_expr_node_t *parse_atom(xp_t *x)
{
    skip_ws(x);
    char c = *x->p;
    if (isdigit((unsigned char)c)) {
        const char *s = x->p;
        while (isdigit((unsigned char)*x->p))
            x->p++;
        return literal(x, s, (size_t)(x->p - s));
    }
    if (c == '\'' || c == '"') {
        x->p++;
        return parse_string_body(x, c);
    }
    if (c == '%' && x->p[1] == '{') {
        x->p += 2;
        return parse_variable(x);
    }
    if (c == '$' && isdigit((unsigned char)x->p[1])) {
        x->p += 2;
        return node(x, PT_XN_BACKREF, x->p[-1] - '0', NULL, NULL);
    }
    if (isalpha((unsigned char)c))
        return parse_function(x);
    if (c == '\0')
        return fail(x, "expected a word (a 'string', a number, %%{VARIABLE} or function())");
    return fail(x, "unexpected '%c' where a word was expected", c);
}

static const pt_expr_node_t *parse_word(xp_t *x)
{
    if (!enter(x))
        return NULL;
    const pt_expr_node_t *w = parse_atom(x);
    while (w && accept(x, ".")) {
        const pt_expr_node_t *r = parse_atom(x);
        w = r ? node(x, PT_XN_CONCAT, 0, w, r) : NULL;
    }
    x->depth--;
    return w;
}

/* ---- Comparisons ------------------------------------------------------------------------ */

/* The characters that may follow "m" to open a regex (Apache's REG_SEP). */
static bool regex_sep(char c)
{
    return c && strchr("/#$%^|?!'\",;:._-", c) != NULL;
}

static const pt_expr_node_t *parse_regex(xp_t *x, const pt_expr_node_t *word, int op)
{
    skip_ws(x);
    char sep;
    if (*x->p == '/')
        sep = '/';
    else if (*x->p == 'm' && regex_sep(x->p[1]))
        sep = *++x->p;
    else
        return fail(x, "expected a regular expression (/.../ or m#...#)");
    /* As Apache's lexer, the first separator ends the regex: a backslash does not escape it
     * ("/a\/b/" is the pattern "a\", which PCRE refuses); m#...# is for patterns with a /. */
    const char *start = ++x->p;
    while (*x->p && *x->p != sep)
        x->p++;
    if (*x->p != sep)
        return fail(x, "unterminated regular expression (missing %c)", sep);
    char *pat = pt_arena_strndup(x->a, start, (size_t)(x->p - start));
    x->p++;
    int flags = 0;
    if (*x->p == 'i') {
        flags = PT_REG_ICASE;
        x->p++;
    }
    char msg[160];
    pt_regex_t *re = pt_regex_compile(pat, flags, msg, sizeof msg);
    if (!re)
        return fail(x, "bad regular expression '%s': %s", pat, msg);
    if (is_ident(*x->p)) {
        pt_regex_free(re);
        return fail(x, "unknown regular expression flag '%c' (only i is known)", *x->p);
    }
    pt_expr_t *e = x->e;
    e->regexes = pt_arena_grow(x->a, e->regexes, e->nregexes * sizeof(*e->regexes),
                               (e->nregexes + 1) * sizeof(*e->regexes));
    e->regexes[e->nregexes++] = re;
    pt_expr_node_t *n = node(x, PT_XN_REGEX, op, word, NULL);
    n->re = re;
    return n;
}

static const pt_expr_node_t *parse_list(xp_t *x, const pt_expr_node_t *word)
{
    if (!accept(x, "{"))
        return fail(x, "expected '{' after 'in' (a list function is not supported)");
    pt_expr_node_t *head = NULL, *tail = NULL;
    do {
        const pt_expr_node_t *w = parse_word(x);
        if (!w)
            return NULL;
        pt_expr_node_t *item = node(x, PT_XN_LIST, 0, w, NULL);
        if (tail)
            tail->b = item;
        else
            head = item;
        tail = item;
    } while (accept(x, ","));
    if (!accept(x, "}"))
        return fail(x, "expected ',' or '}' in the list");
    return node(x, PT_XN_IN, 0, word, head);
}

static const struct {
    const char *name;
    int op;
} binary_ops[] = {
    {"eq", PT_XO_INT_EQ}, {"ne", PT_XO_INT_NE}, {"lt", PT_XO_INT_LT}, {"le", PT_XO_INT_LE},
    {"gt", PT_XO_INT_GT}, {"ge", PT_XO_INT_GE}, {"ipmatch", PT_XO_IPMATCH},
    {"strmatch", PT_XO_STRMATCH}, {"strcmatch", PT_XO_STRCMATCH},
    {"fnmatch", PT_XO_FNMATCH},
};

/* The operator after the first word: punctuation, "-name" or a bare eq/ne/.../in. Returns
 * the op, 'i' for "in", or -1 (nothing that is an operator). */
static int binary_op(xp_t *x)
{
    static const struct {
        const char *tok;
        int op;
    } punct[] = {
        {"==", PT_XO_STR_EQ}, {"=~", PT_XO_MATCH},  {"!=", PT_XO_STR_NE},
        {"!~", PT_XO_NOMATCH}, {"<=", PT_XO_STR_LE}, {">=", PT_XO_STR_GE},
        {"=", PT_XO_STR_EQ},  {"<", PT_XO_STR_LT},  {">", PT_XO_STR_GT},
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(punct); i++)
        if (accept(x, punct[i].tok))
            return punct[i].op;
    skip_ws(x);
    const char *s = x->p;
    bool dash = *s == '-';
    const char *w = s + dash;
    size_t len = 0;
    while (is_ident(w[len]))
        len++;
    if (len == 0)
        return -1;
    if (len == 2 && strncmp(w, "in", 2) == 0) {
        x->p = w + len;
        return 'i';
    }
    for (size_t i = 0; i < PT_ARRAY_LEN(binary_ops); i++) {
        const char *n = binary_ops[i].name;
        /* ipmatch and the like need their dash; eq..ge may go without it. */
        if (strlen(n) == len && strncmp(n, w, len) == 0 && (dash || len == 2)) {
            x->p = w + len;
            return binary_ops[i].op;
        }
    }
    if (dash) {
        fail(x, "unknown binary operator '-%.*s'", (int)len, w);
        return -2;
    }
    return -1;
}

static const struct {
    char letter;
    int op;
} unary_ops[] = {
    {'d', PT_XO_DIR}, {'e', PT_XO_EXISTS}, {'f', PT_XO_FILE}, {'s', PT_XO_NONEMPTY_FILE},
    {'L', PT_XO_SYMLINK}, {'h', PT_XO_SYMLINK}, {'x', PT_XO_EXEC}, {'n', PT_XO_NONEMPTY},
    {'z', PT_XO_EMPTY}, {'T', PT_XO_TRUE_STR}, {'R', PT_XO_REMOTE_IP},
};

/* "-X word", x->p at the dash. */
static const pt_expr_node_t *parse_unary(xp_t *x)
{
    char c = x->p[1];
    for (size_t i = 0; i < PT_ARRAY_LEN(unary_ops); i++) {
        if (unary_ops[i].letter == c) {
            x->p += 2;
            const pt_expr_node_t *w = parse_word(x);
            return w ? node(x, PT_XN_UNARY, unary_ops[i].op, w, NULL) : NULL;
        }
    }
    if (c == 'F' || c == 'U' || c == 'A')
        return fail(x, "'-%c' (access check by subrequest) is not supported by portico", c);
    return fail(x, "unknown unary operator '-%c'", c);
}

static const pt_expr_node_t *parse_comparison(xp_t *x)
{
    skip_ws(x);
    if (x->p[0] == '-' && isalpha((unsigned char)x->p[1]) && !is_ident(x->p[2]))
        return parse_unary(x);
    const pt_expr_node_t *l = parse_word(x);
    if (!l)
        return NULL;
    int op = binary_op(x);
    if (op == -2)
        return NULL;
    if (op == -1)
        return fail(x, "expected an operator (==, !=, =~, -eq, in, ...) after a word");
    if (op == 'i')
        return parse_list(x, l);
    if (op == PT_XO_MATCH || op == PT_XO_NOMATCH)
        return parse_regex(x, l, op);
    const pt_expr_node_t *r = parse_word(x);
    return r ? node(x, PT_XN_BINARY, op, l, r) : NULL;
}

/* ---- Conditions ------------------------------------------------------------------------- */

static const pt_expr_node_t *parse_or(xp_t *x);

static const pt_expr_node_t *parse_not(xp_t *x)
{
    if (!enter(x))
        return NULL;
    const pt_expr_node_t *n;
    skip_ws(x);
    if ((x->p[0] == '!' && x->p[1] != '=' && x->p[1] != '~') || accept_word(x, "not")) {
        x->p += x->p[0] == '!'; /* (apache2 2.4 also spells the logic and, or, not) */
        const pt_expr_node_t *a = parse_not(x);
        n = a ? node(x, PT_XN_NOT, 0, a, NULL) : NULL;
    } else if (accept(x, "(")) {
        n = parse_or(x);
        if (n && !accept(x, ")"))
            n = fail(x, "expected ')'");
    } else if (accept_word(x, "true")) {
        n = node(x, PT_XN_TRUE, 0, NULL, NULL);
    } else if (accept_word(x, "false")) {
        n = node(x, PT_XN_FALSE, 0, NULL, NULL);
    } else {
        n = parse_comparison(x);
    }
    x->depth--;
    return n;
}

static const pt_expr_node_t *parse_and(xp_t *x)
{
    const pt_expr_node_t *l = parse_not(x);
    while (l && (accept(x, "&&") || accept_word(x, "and"))) {
        const pt_expr_node_t *r = parse_not(x);
        l = r ? node(x, PT_XN_AND, 0, l, r) : NULL;
    }
    return l;
}

static const pt_expr_node_t *parse_or(xp_t *x)
{
    const pt_expr_node_t *l = parse_and(x);
    while (l && (accept(x, "||") || accept_word(x, "or"))) {
        const pt_expr_node_t *r = parse_and(x);
        l = r ? node(x, PT_XN_OR, 0, l, r) : NULL;
    }
    return l;
}

pt_expr_t *pt_expr_parse(pt_arena_t *a, const char *src, unsigned flags, char *err,
                         size_t errlen)
{
    pt_expr_t *e = pt_arena_calloc(a, sizeof(*e));
    xp_t x = {.a = a, .src = src, .p = src, .err = err, .errlen = errlen, .flags = flags,
              .e = e};
    e->source = pt_arena_strdup(a, src);
    e->is_string = flags & PT_EXPR_STRING;
    if (strlen(src) > PT_EXPR_MAX_LEN) {
        fail(&x, "expression longer than %d bytes", PT_EXPR_MAX_LEN);
    } else if (e->is_string) {
        e->root = parse_string_body(&x, '\0');
    } else {
        skip_ws(&x);
        if (!*x.p)
            fail(&x, "empty expression");
        else if ((e->root = parse_or(&x)) != NULL) {
            skip_ws(&x);
            if (*x.p)
                fail(&x, "unexpected text after the expression (missing && or ||?)");
        }
    }
    if (x.failed) {
        pt_expr_free(e);
        return NULL;
    }
    return e;
}

void pt_expr_free(pt_expr_t *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nregexes; i++)
        pt_regex_free(e->regexes[i]);
    e->nregexes = 0;
}
