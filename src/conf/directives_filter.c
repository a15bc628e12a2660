/* mod_filter's smart filters over the output filters portico provides (DEFLATE,
 * BROTLI_COMPRESS): FilterDeclare, FilterProvider (a filter chosen by an ap_expr evaluated on
 * the response, as "FilterProvider gzip DEFLATE "%{CONTENT_TYPE} =~ m#^text/#""),
 * FilterChain and FilterProtocol. They fill the scope's compression config
 * (compress_conf.h); the request core's compress_filter.c evaluates the providers. */
#include "compress_conf.h"
#include "expr_parse.h"

#include <string.h>
#include <strings.h>

/* FilterDeclare name [type]: mod_filter declares on first use anyway (FilterProvider); the
 * type (CONTENT_SET, PROTOCOL, ...) orders filters in Apache's chain, and portico's two run
 * where compression belongs whatever it says. */
static int filter_declare(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const char *const types[] = {"RESOURCE", "CONTENT_SET", "PROTOCOL", "TRANSCODE",
                                        "CONNECTION", "NETWORK"};
    if (n->argc == 2) {
        bool known = false;
        for (size_t i = 0; i < PT_ARRAY_LEN(types); i++)
            known = known || strcasecmp(n->argv[1], types[i]) == 0;
        if (!known)
            return pt_dcx_fail(l, n, "FilterDeclare: unknown filter type %s", n->argv[1]);
    }
    pt_dcx_compress_conf(l, s);
    return 0;
}

static int filter_provider(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    unsigned char f;
    if (strcasecmp(n->argv[1], "DEFLATE") == 0)
        f = PT_FILTER_DEFLATE;
    else if (strcasecmp(n->argv[1], "BROTLI_COMPRESS") == 0)
        f = PT_FILTER_BROTLI;
    else
        return pt_dcx_fail(l, n, "FilterProvider: output filter '%s' is not provided by "
                                 "portico (DEFLATE and BROTLI_COMPRESS are)", n->argv[1]);
    const struct pt_expr *e = pt_dcx_expr(l, n, "FilterProvider", n->argv[2], 0);
    if (!e)
        return -1;
    pt_compress_conf_t *c = pt_dcx_compress_conf(l, s);
    pt_filter_provider_t *p = pt_dcx_push(l->a, &c->providers, &c->nproviders, sizeof(*p));
    p->name = n->argv[0];
    p->filter = f;
    p->expr = e;
    return 0;
}

/* FilterChain [+=-@!]name ...: the scope's words kept for the merge, and their result on an
 * empty chain for a scope used unmerged. */
static int filter_chain(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_compress_conf_t *c = pt_dcx_compress_conf(l, s);
    for (int i = 0; i < n->argc; i++) {
        const char *w = n->argv[i];
        if (w[0] == '!' && w[1])
            return pt_dcx_fail(l, n, "FilterChain: '!' takes no name");
        bool has_op = w[0] && strchr("+-=@", w[0]);
        if (w[0] != '!' && !w[has_op ? 1 : 0])
            return pt_dcx_fail(l, n, "FilterChain: '%s' names no filter", w);
        const char **slot = pt_dcx_push(l->a, &c->chain_ops, &c->nchain_ops, sizeof(*slot));
        *slot = w;
    }
    c->smart_chain = pt_filter_chain_apply(l->a, NULL, 0, c->chain_ops, c->nchain_ops,
                                           &c->nsmart_chain);
    return 0;
}

/* FilterProtocol name [provider] flags: how a filter changes the response for Apache's
 * protocol handling; portico's filters handle Content-Length, ranges and Vary themselves. */
static int filter_protocol(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_dcx_note(l, n, n->name, "FilterProtocol ignored: portico's DEFLATE and BROTLI_COMPRESS "
                               "drop Content-Length, leave ranges alone and add Vary "
                               "themselves");
    return 0;
}

const dcx_directive_t pt_dcx_filter_table[] = {
    {"FilterDeclare", ALL, 1, 2, filter_declare},
    {"FilterProvider", ALL, 3, 3, filter_provider},
    {"FilterChain", ALL, 1, NOMAX, filter_chain},
    {"FilterProtocol", ALL, 2, 3, filter_protocol},
    {NULL, 0, 0, 0, NULL},
};
