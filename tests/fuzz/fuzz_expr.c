/* libFuzzer harness for the ap_expr parser (conf/expr_parse.c): no input makes it read out of
 * bounds, recurse without bound or leak a regex; it either gives a tree whose nodes are all
 * well-formed (a condition where a condition goes, a word where a word goes) or a message.
 * Each input is parsed twice: as a condition (<If>) and as a string (Header expr=). */
#include "expr_parse.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_word(const pt_expr_node_t *n, int depth);

static void check_cond(const pt_expr_node_t *n, int depth)
{
    CHECK(n && depth < 4 * PT_EXPR_MAX_DEPTH);
    switch (n->kind) {
    case PT_XN_TRUE: case PT_XN_FALSE: return;
    case PT_XN_NOT: check_cond(n->a, depth + 1); return;
    case PT_XN_AND: case PT_XN_OR:
        check_cond(n->a, depth + 1);
        check_cond(n->b, depth + 1);
        return;
    case PT_XN_UNARY: CHECK(n->id <= PT_XO_REMOTE_IP); check_word(n->a, depth + 1); return;
    case PT_XN_BINARY:
        CHECK(n->id >= PT_XO_STR_EQ && n->id <= PT_XO_FNMATCH);
        check_word(n->a, depth + 1);
        check_word(n->b, depth + 1);
        return;
    case PT_XN_REGEX:
        CHECK(n->re && (n->id == PT_XO_MATCH || n->id == PT_XO_NOMATCH));
        check_word(n->a, depth + 1);
        return;
    case PT_XN_IN:
        check_word(n->a, depth + 1);
        CHECK(n->b);
        for (const pt_expr_node_t *i = n->b; i; i = i->b) {
            CHECK(i->kind == PT_XN_LIST);
            check_word(i->a, depth + 1);
        }
        return;
    default: CHECK(!"a word where a condition belongs");
    }
}

static void check_word(const pt_expr_node_t *n, int depth)
{
    CHECK(n && depth < 4 * PT_EXPR_MAX_DEPTH);
    switch (n->kind) {
    case PT_XN_STRING: CHECK(n->s); return;
    case PT_XN_CONCAT: /* deep on its left by design: walked by a loop, as the evaluator */
        for (; n->kind == PT_XN_CONCAT; n = n->a)
            check_word(n->b, depth + 1);
        check_word(n, depth + 1);
        return;
    case PT_XN_VAR: /* a known variable, or mod_ssl's %{SSL_...} with its name in s */
        CHECK((n->id >= 0 && n->id < PT_XV_COUNT) ||
              (n->id == PT_XV_SSL && n->s && strncmp(n->s, "SSL_", 4) == 0));
        return;
    case PT_XN_FUNC:
        CHECK(n->id >= 0 && n->id < PT_XF_COUNT);
        check_word(n->a, depth + 1);
        return;
    case PT_XN_BACKREF: CHECK(n->id >= 0 && n->id <= 9); return;
    default: CHECK(!"a condition where a word belongs");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size + 1); /* exact size: ASan catches reads past the NUL */
    memcpy(src, data, size);
    src[size] = '\0';
    pt_arena_t *a = pt_arena_create(PT_ARENA_DEFAULT_BLOCK);
    for (unsigned flags = 0; flags <= PT_EXPR_STRING; flags += PT_EXPR_STRING) {
        char err[256] = "";
        pt_expr_t *e = pt_expr_parse(a, src, flags, err, sizeof err);
        if (!e) {
            CHECK(err[0] != '\0');
            continue;
        }
        if (flags & PT_EXPR_STRING)
            check_word(e->root, 0);
        else
            check_cond(e->root, 0);
        pt_expr_free(e);
    }
    pt_arena_destroy(a);
    free(src);
    return 0;
}
