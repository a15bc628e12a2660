/* The compression directives (compress_conf.h): mod_deflate's and mod_brotli's settings,
 * the filter directives that name DEFLATE and BROTLI_COMPRESS, AddEncoding, and portico's
 * PrecompressedStatic. A filter name portico does not provide is a config error: a chain
 * that silently lost a filter would serve what the admin meant to transform. */
#include "compress_conf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define conf_of pt_dcx_compress_conf

const pt_compress_conf_t pt_compress_conf_default = {
    .precompressed = 0,
    .deflate_level = 6,
    .deflate_window = 15,
    .deflate_memlevel = 9,
    .deflate_buffer = 8096,
    .brotli_quality = 5,
    .brotli_window = 18,
    .deflate_etag = PT_ETAG_ADD_SUFFIX,
    .brotli_etag = PT_ETAG_ADD_SUFFIX,
};

pt_compress_conf_t *pt_dcx_compress_conf(dcx_t *l, dcx_scope_t *s)
{
    if (!s->dc->compress) {
        pt_compress_conf_t *c = pt_arena_calloc(l->a, sizeof(*c));
        c->precompressed = c->deflate_level = c->deflate_window = -1;
        c->deflate_memlevel = c->deflate_buffer = c->brotli_quality = c->brotli_window = -1;
        c->deflate_etag = c->brotli_etag = c->brotli_lgblock = -1;
        s->dc->compress = c;
    }
    return (pt_compress_conf_t *)s->dc->compress; /* the loader's own, still mutable */
}

/* "DEFLATE;BROTLI_COMPRESS" into a chain. */
static int parse_chain(dcx_t *l, const pt_node_t *n, const char *spec, pt_filter_chain_t *out)
{
    memset(out, 0, sizeof(*out));
    char *copy = pt_arena_strdup(l->a, spec), *save = NULL;
    for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
        unsigned char f;
        if (strcasecmp(t, "DEFLATE") == 0)
            f = PT_FILTER_DEFLATE;
        else if (strcasecmp(t, "BROTLI_COMPRESS") == 0)
            f = PT_FILTER_BROTLI;
        else
            return pt_dcx_fail(l, n, "%s: output filter '%s' is not provided by portico "
                               "(DEFLATE and BROTLI_COMPRESS are)", n->name, t);
        if (out->n == PT_FILTER_CHAIN_MAX)
            return pt_dcx_fail(l, n, "%s: more than %d filters in one chain", n->name,
                               PT_FILTER_CHAIN_MAX);
        out->v[out->n++] = f;
    }
    if (out->n == 0)
        return pt_dcx_fail(l, n, "%s: no filter named", n->name);
    return 0;
}

static char *lower(pt_arena_t *a, const char *s)
{
    char *d = pt_arena_strdup(a, s);
    for (char *c = d; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    return d;
}

static int set_output_filter(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_compress_conf_t *c = conf_of(l, s);
    c->set_given = true;
    return parse_chain(l, n, n->argv[0], &c->set);
}

static int add_output_filter_by_type(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_compress_conf_t *c = conf_of(l, s);
    pt_filter_chain_t ch;
    if (parse_chain(l, n, n->argv[0], &ch) < 0)
        return -1;
    for (int i = 1; i < n->argc; i++) {
        pt_filter_map_t *m = pt_dcx_push(l->a, &c->bytype, &c->nbytype, sizeof(*m));
        char *t = lower(l->a, n->argv[i]);
        t[strcspn(t, "; \t")] = '\0'; /* a type, not its parameters */
        m->key = t;
        m->chain = ch;
    }
    return 0;
}

/* Extensions are kept innermost and latest first, so a lookup takes the first match. */
static int add_ext(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, int first,
                   const pt_filter_chain_t *ch)
{
    pt_compress_conf_t *c = conf_of(l, s);
    for (int i = first; i < n->argc; i++) {
        pt_dcx_push(l->a, &c->byext, &c->nbyext, sizeof(pt_filter_map_t));
        pt_filter_map_t *m = (pt_filter_map_t *)c->byext;
        memmove(m + 1, m, (c->nbyext - 1) * sizeof(*m));
        m->key = lower(l->a, n->argv[i] + (n->argv[i][0] == '.'));
        m->chain = *ch;
    }
    return 0;
}

static int add_output_filter(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_filter_chain_t ch;
    if (parse_chain(l, n, n->argv[0], &ch) < 0)
        return -1;
    return add_ext(l, s, n, 1, &ch);
}

static int remove_output_filter(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_filter_chain_t none = {.n = 0};
    return add_ext(l, s, n, 0, &none);
}

static int add_encoding(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_compress_conf_t *c = conf_of(l, s);
    for (int i = 1; i < n->argc; i++) {
        pt_ext_map_t *m = pt_dcx_push(l->a, &c->encodings, &c->nencodings, sizeof(*m));
        m->ext = lower(l->a, n->argv[i] + (n->argv[i][0] == '.'));
        m->value = lower(l->a, n->argv[0]);
    }
    return 0;
}

/* mod_mime's RemoveEncoding: an entry without a value, which the inner-first merge puts
 * before the outer AddEncoding it hides. */
static int remove_encoding(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_compress_conf_t *c = conf_of(l, s);
    for (int i = 0; i < n->argc; i++) {
        pt_ext_map_t *m = pt_dcx_push(l->a, &c->encodings, &c->nencodings, sizeof(*m));
        m->ext = lower(l->a, n->argv[i] + (n->argv[i][0] == '.'));
        m->value = NULL;
    }
    return 0;
}

static int precompressed_static(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool on;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    conf_of(l, s)->precompressed = on;
    return 0;
}

/* One number setting, bounded as mod_deflate and mod_brotli bound it. */
static int number(dcx_t *l, dcx_scope_t *s, const pt_node_t *n, int min, int max, size_t off)
{
    int v;
    if (pt_dcx_int(l, n, min, max, &v) < 0)
        return -1;
    *(int *)((char *)conf_of(l, s) + off) = v;
    return 0;
}

#define NUMBER(fn, min, max, field)                                                \
    static int fn(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)                     \
    {                                                                              \
        return number(l, s, n, min, max, offsetof(pt_compress_conf_t, field));     \
    }
NUMBER(deflate_compression_level, 1, 9, deflate_level)
NUMBER(deflate_window_size, 1, 15, deflate_window)
NUMBER(deflate_mem_level, 1, 9, deflate_memlevel)
NUMBER(deflate_buffer_size, 1, 1 << 24, deflate_buffer)
NUMBER(brotli_compression_quality, 0, 11, brotli_quality)
NUMBER(brotli_compression_window, 10, 24, brotli_window)

static int alter_etag(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const char *const modes[] = {"AddSuffix", "NoChange", "Remove"};
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(n->argv[0], modes[i]) != 0)
            continue;
        pt_compress_conf_t *c = conf_of(l, s);
        *(strncasecmp(n->name, "Deflate", 7) == 0 ? &c->deflate_etag : &c->brotli_etag) = i;
        return 0;
    }
    return pt_dcx_fail(l, n, "%s must be AddSuffix, NoChange or Remove", n->name);
}

/* mod_brotli accepts 16..24 (BROTLI_MIN/MAX_INPUT_BLOCK_BITS). */
NUMBER(brotli_max_input_block, 16, 24, brotli_lgblock)

/* DeflateFilterNote [Input|Output|Ratio] name, BrotliFilterNote likewise: Ratio when the
 * type is left out, as Apache. */
static int filter_note(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    static const char *const kinds[] = {"ratio", "input", "output"};
    int kind = PT_NOTE_RATIO;
    if (n->argc == 2) {
        kind = -1;
        for (int i = 0; i < PT_NOTE_KINDS; i++)
            if (strcasecmp(n->argv[0], kinds[i]) == 0)
                kind = i;
        if (kind < 0)
            return pt_dcx_fail(l, n, "%s: unknown note type %s (Input, Output or Ratio)",
                               n->name, n->argv[0]);
    }
    pt_compress_conf_t *c = conf_of(l, s);
    const char **notes = strncasecmp(n->name, "Deflate", 7) == 0 ? c->deflate_notes
                                                                 : c->brotli_notes;
    notes[kind] = n->argv[n->argc - 1];
    return 0;
}

static const dcx_directive_t compress_directives[] = {
    {"SetOutputFilter", ALL, 1, 1, set_output_filter},
    {"AddOutputFilterByType", ALL, 2, NOMAX, add_output_filter_by_type},
    {"AddOutputFilter", ALL, 2, NOMAX, add_output_filter},
    {"RemoveOutputFilter", ALL, 1, NOMAX, remove_output_filter},
    {"AddEncoding", ALL, 2, NOMAX, add_encoding},
    {"RemoveEncoding", ALL, 1, NOMAX, remove_encoding},
    {"PrecompressedStatic", ALL, 1, 1, precompressed_static},
    {"DeflateCompressionLevel", SRV, 1, 1, deflate_compression_level},
    {"DeflateWindowSize", SRV, 1, 1, deflate_window_size},
    {"DeflateMemLevel", SRV, 1, 1, deflate_mem_level},
    {"DeflateBufferSize", SRV, 1, 1, deflate_buffer_size},
    {"BrotliCompressionQuality", SRV, 1, 1, brotli_compression_quality},
    {"BrotliCompressionWindow", SRV, 1, 1, brotli_compression_window},
    {"DeflateAlterETag", SRV, 1, 1, alter_etag},
    {"BrotliAlterETag", SRV, 1, 1, alter_etag},
    {"BrotliCompressionMaxInputBlock", SRV, 1, 1, brotli_max_input_block},
    {"DeflateFilterNote", SRV, 1, 2, filter_note},
    {"BrotliFilterNote", SRV, 1, 2, filter_note},
    {NULL, 0, 0, 0, NULL},
};

const pt_conf_ext_t pt_compress_conf_ext = {
    .name = "compress",
    .directives = compress_directives,
};

/* ---- Merge -------------------------------------------------------------------------------- */

/* mod_filter's FilterChain words (directives_filter.c keeps them; the merge applies them). */
const char **pt_filter_chain_apply(pt_arena_t *a, const char *const *chain, size_t nchain,
                                   const char *const *ops, size_t nops, size_t *n)
{
    const char **v = pt_arena_alloc(a, (nchain + nops + 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < nchain; i++)
        v[k++] = chain[i];
    for (size_t i = 0; i < nops; i++) {
        const char *w = ops[i];
        char op = w[0] && strchr("+-=@!", w[0]) ? w[0] : '+';
        const char *name = w + (w[0] == op);
        if (op == '!' || op == '=')
            k = 0;
        if (op == '!')
            continue;
        size_t j = 0;
        for (size_t m = 0; m < k; m++) /* one entry per name; "-" drops it */
            if (strcasecmp(v[m], name) != 0)
                v[j++] = v[m];
        k = j;
        if (op == '-')
            continue;
        if (op == '@') {
            memmove(v + 1, v, k * sizeof(*v));
            v[0] = name;
            k++;
        } else {
            v[k++] = name;
        }
    }
    *n = k;
    return v;
}


static const void *concat(pt_arena_t *a, const void *x, size_t nx, const void *y, size_t ny,
                          size_t elt, size_t *n)
{
    *n = nx + ny;
    if (nx == 0 || ny == 0)
        return nx ? x : y;
    char *v = pt_arena_alloc(a, *n * elt);
    memcpy(v, x, nx * elt);
    memcpy(v + nx * elt, y, ny * elt);
    return v;
}

static void merge_int(int *m, int inner)
{
    if (inner >= 0)
        *m = inner;
}

const pt_compress_conf_t *pt_compress_conf_merge(pt_arena_t *a, const pt_compress_conf_t *o,
                                                 const pt_compress_conf_t *i)
{
    if (!o || !i)
        return o ? o : i;
    pt_compress_conf_t *m = pt_arena_alloc(a, sizeof(*m));
    *m = *o;
    if (i->set_given) {
        m->set = i->set;
        m->set_given = true;
    }
    m->bytype = concat(a, o->bytype, o->nbytype, i->bytype, i->nbytype, sizeof(*o->bytype),
                       &m->nbytype);
    m->byext = concat(a, i->byext, i->nbyext, o->byext, o->nbyext, sizeof(*o->byext),
                      &m->nbyext);
    m->encodings = concat(a, i->encodings, i->nencodings, o->encodings, o->nencodings,
                          sizeof(*o->encodings), &m->nencodings);
    merge_int(&m->precompressed, i->precompressed);
    merge_int(&m->deflate_level, i->deflate_level);
    merge_int(&m->deflate_window, i->deflate_window);
    merge_int(&m->deflate_memlevel, i->deflate_memlevel);
    merge_int(&m->deflate_buffer, i->deflate_buffer);
    merge_int(&m->brotli_quality, i->brotli_quality);
    merge_int(&m->brotli_window, i->brotli_window);
    merge_int(&m->deflate_etag, i->deflate_etag);
    merge_int(&m->brotli_etag, i->brotli_etag);
    merge_int(&m->brotli_lgblock, i->brotli_lgblock);
    m->providers = concat(a, o->providers, o->nproviders, i->providers, i->nproviders,
                          sizeof(*o->providers), &m->nproviders);
    if (i->nchain_ops) {
        m->smart_chain = pt_filter_chain_apply(a, o->smart_chain, o->nsmart_chain,
                                               i->chain_ops, i->nchain_ops, &m->nsmart_chain);
        m->chain_ops = NULL;
        m->nchain_ops = 0;
    }
    for (int k = 0; k < PT_NOTE_KINDS; k++) {
        if (i->deflate_notes[k])
            m->deflate_notes[k] = i->deflate_notes[k];
        if (i->brotli_notes[k])
            m->brotli_notes[k] = i->brotli_notes[k];
    }
    return m;
}

int pt_compress_conf_int(const pt_compress_conf_t *c, size_t offset)
{
    int v = c ? *(const int *)((const char *)c + offset) : -1;
    return v >= 0 ? v : *(const int *)((const char *)&pt_compress_conf_default + offset);
}
