/* The merge of pt_core_dir_t and the inheritance of pt_core_srv_t (config.h): Apache core's FileETag arithmetic
 * (merge_core_dir_configs), and "inner wins when set" for the rest, as their modules'
 * merges. AuthMerging is not merged: it says how a section's own Require lines join the
 * outer ones (pt_dir_config_merge). */
#include "config.h"

#define INNER_WINS(f)                                                                      \
    do {                                                                                   \
        if (i->f)                                                                          \
            m->f = i->f;                                                                   \
    } while (0)

static void merge_etag(pt_core_dir_t *m, const pt_core_dir_t *o, const pt_core_dir_t *i)
{
    if (i->etag_bits == 0) {
        m->etag_add = (o->etag_add & ~i->etag_remove) | i->etag_add;
        m->etag_remove = (o->etag_remove & ~i->etag_add) | i->etag_remove;
        m->etag_bits = (o->etag_bits & ~m->etag_remove) | m->etag_add;
    } else {
        m->etag_bits = i->etag_bits;
        m->etag_add = i->etag_add;
        m->etag_remove = i->etag_remove;
    }
}

void pt_core_dir_merge(pt_core_dir_t *m, const pt_core_dir_t *o, const pt_core_dir_t *i)
{
    *m = *o;
    merge_etag(m, o, i);
    INNER_WINS(accept_path_info);
    INNER_WINS(dir_slash);
    INNER_WINS(index_redirect);
    INNER_WINS(forbidden_on_fail);
    INNER_WINS(basic_authoritative);
    INNER_WINS(qualify_redirect_url);
    INNER_WINS(cgi_pass_auth);
    INNER_WINS(redirect_relative);
    INNER_WINS(content_digest);
    INNER_WINS(cgi_current_uri);
    INNER_WINS(mime_use_path_info);
    INNER_WINS(alias_preserve_path);
    if (i->basic_fake) {
        m->basic_fake = i->basic_fake;
        m->basic_fake_user = i->basic_fake_user;
        m->basic_fake_pass = i->basic_fake_pass;
    }
    m->auth_merging = i->auth_merging;
}

unsigned pt_core_etag_bits(const pt_core_dir_t *c)
{
    unsigned bits = (c->etag_bits & ~c->etag_remove) | c->etag_add;
    return bits ? bits : PT_FETAG_MTIME | PT_FETAG_SIZE; /* Apache's ETAG_BACKWARD */
}

void pt_core_srv_inherit(pt_core_srv_t *vh, const pt_core_srv_t *m)
{
    if (!vh->merge_slashes)
        vh->merge_slashes = m->merge_slashes;
    if (!vh->strict_host_check)
        vh->strict_host_check = m->strict_host_check;
    if (!vh->registered_methods)
        vh->registered_methods = m->registered_methods;
}
