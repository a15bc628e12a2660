/* Directives of modules portico provides whose feature portico lacks (CGI, request input
 * filters, provider aliases, chroot): each gets the answer Apache's own behaviour calls for,
 * a `portico -t` notice when accepting it changes nothing that is served (as
 * directives_compat.c's), or a config error that says what portico does instead when
 * accepting it would lose what the line asks for. */
#include "directives.h"

#include <stdlib.h>

/* Apache 2.4 keeps DefaultType only to warn that it is ignored (AH00117); "None" is silent. */
static int set_default_type(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (strcasecmp(n->argv[0], "none") != 0)
        pt_dcx_note(l, n, n->name, "DefaultType %s ignored, as Apache 2.4 does (AH00117); use "
                                   "ForceType or AddType", n->argv[0]);
    return 0;
}

/* mod_dav and other XML request handlers read it; portico has none. */
static int set_limit_xml_request_body(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[0], 0, INT64_MAX, &v) < 0)
        return -1;
    pt_dcx_note(l, n, n->name, "LimitXMLRequestBody has no effect: it bounds the XML bodies "
                               "Apache's own handlers parse (WebDAV), and portico has none");
    return 0;
}

/* Apache's mod_unixd chroots each child after reading the configuration; portico's children
 * keep reading files by the configuration's paths (DocumentRoot, .htaccess, logs, the
 * password files at each request), which a chroot would hide. */
static int set_chroot_dir(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_fail(l, n, "ChrootDir is not supported: portico reads the configuration's "
                             "paths while serving; confine it with a container or systemd's "
                             "RootDirectory= instead");
}

/* Suexec On|Off (mod_unixd): suexec wraps CGI programs, which portico never starts. */
static int set_suexec(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    if (on)
        return pt_dcx_fail(l, n, "Suexec On: portico runs no CGI programs for suexec to "
                                 "start; run them behind FastCGI (php-fpm pools have a user "
                                 "each)");
    return 0;
}

/* mod_so's LoadFile links a library into Apache for its modules; portico's loadable modules
 * name their libraries when they are linked. */
static int set_load_file(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_fail(l, n, "LoadFile is not supported: link a portico module against the "
                             "libraries it needs");
}

/* Input filters transform the request body (Apache's INFLATE, SSI's, ...): portico has none,
 * and a backend that relies on one would get bodies it cannot read. */
static int set_input_filter(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_fail(l, n, "%s: portico has no request input filters (no INFLATE): a "
                             "compressed request body reaches the backend as sent",
                       n->name);
}

/* RemoveInputFilter undoes an AddInputFilter, which portico never has: nothing to undo. */
static int set_remove_input_filter(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_dcx_note(l, n, n->name, "RemoveInputFilter has no effect: portico has no request input "
                               "filters");
    return 0;
}

/* mod_deflate's limits on what its INFLATE input filter produces. */
static int set_inflate_limit(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[0], 0, INT64_MAX, &v) < 0)
        return -1;
    pt_dcx_note(l, n, n->name, "%s has no effect: portico does not inflate request bodies "
                               "(no INFLATE input filter)", n->name);
    return 0;
}

static int set_filter_trace(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    long long v = 0;
    if (pt_dcx_long(l, n, n->argv[1], 0, 9, &v) < 0)
        return -1;
    pt_dcx_note(l, n, n->name, "FilterTrace ignored: portico logs its compression decisions "
                               "at LogLevel debug instead");
    return 0;
}

/* AuthBasicUseDigestAlgorithm MD5 asks the providers for Digest hashes (mod_authn_file
 * cannot answer; mod_authn_dbd/socache can): portico has only the file provider. */
static int set_use_digest_algorithm(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    if (strcasecmp(n->argv[0], "off") == 0)
        return 0;
    if (strcasecmp(n->argv[0], "md5") == 0)
        return pt_dcx_fail(l, n, "AuthBasicUseDigestAlgorithm MD5 needs a provider that "
                                 "stores Digest hashes; portico has only AuthUserFile's "
                                 "(mod_authn_file), which cannot answer it");
    return pt_dcx_fail(l, n, "AuthBasicUseDigestAlgorithm: Invalid algorithm type for "
                             "AuthBasicUseDigestAlgorithm: %s", n->argv[0]);
}

static int set_provider_alias(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_fail(l, n, "<%s> is not supported: portico's only authentication provider "
                             "is \"file\"; give AuthUserFile (and AuthGroupFile) in the "
                             "section that authenticates",
                       n->name);
}

/* RegexDefaultOptions: portico compiles every pattern with Apache's defaults (DOTALL and
 * DOLLAR_ENDONLY); a line that keeps them is accepted, another is refused with the inline
 * form that gives the same pattern. */
static int set_regex_default_options(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    enum { ICASE = 1, EXTENDED = 2, DOTALL = 4, DOLLAR_ENDONLY = 8 };
    static const struct {
        const char *name;
        unsigned bit;
    } opts[] = {{"ICASE", ICASE}, {"EXTENDED", EXTENDED}, {"DOTALL", DOTALL},
                {"DOLLAR_ENDONLY", DOLLAR_ENDONLY}};
    unsigned v = DOTALL | DOLLAR_ENDONLY;
    for (int i = 0; i < n->argc; i++) {
        const char *w = n->argv[i];
        if (strcasecmp(w, "none") == 0) {
            v = 0;
            continue;
        }
        char op = (w[0] == '+' || w[0] == '-') ? w[0] : '+';
        w += w[0] == '+' || w[0] == '-';
        unsigned bit = 0;
        for (size_t k = 0; k < PT_ARRAY_LEN(opts); k++)
            if (strcasecmp(w, opts[k].name) == 0)
                bit = opts[k].bit;
        if (!bit)
            return pt_dcx_fail(l, n, "RegexDefaultOptions: option '%s' unknown", w);
        v = op == '-' ? v & ~bit : v | bit;
    }
    if (v != (DOTALL | DOLLAR_ENDONLY))
        return pt_dcx_fail(l, n, "RegexDefaultOptions: portico compiles every regex with "
                                 "Apache's default options (DOTALL DOLLAR_ENDONLY) only; put "
                                 "the option in the patterns that need it instead: (?i), "
                                 "(?x), (?-s)");
    return 0;
}

/* mod_dir's DirectoryCheckHandler: with SetHandler naming a handler for a directory,
 * portico hands the directory's URL to that handler and its DirectoryIndex is not looked up
 * (Apache's On, except that Apache still sends the trailing-slash redirect); Apache's
 * default Off, an index lookup before the handler, is not done. */
static int set_directory_check_handler(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    bool on = false;
    if (pt_dcx_onoff(l, n, n->argv[0], &on) < 0)
        return -1;
    if (!on)
        return pt_dcx_fail(l, n, "DirectoryCheckHandler Off is not supported: a directory "
                                 "whose SetHandler names a handler gets the request as it is, "
                                 "without a DirectoryIndex lookup; name the index in the URL "
                                 "or use FallbackResource");
    pt_dcx_note(l, n, n->name, "DirectoryCheckHandler On: as portico always does, except "
                               "that no trailing-slash redirect is sent for a directory with "
                               "its own handler");
    return 0;
}

const dcx_directive_t pt_dcx_compat2_table[] = {
    {"DirectoryCheckHandler", ALL, 1, 1, set_directory_check_handler},
    {"DefaultType", ALL, 1, 1, set_default_type},
    {"LimitXMLRequestBody", ALL, 1, 1, set_limit_xml_request_body},
    {"ChrootDir", W_SERVER, 1, 1, set_chroot_dir},
    {"Suexec", W_SERVER, 1, 1, set_suexec},
    {"LoadFile", W_SERVER, 1, NOMAX, set_load_file},
    {"AddInputFilter", ALL, 2, NOMAX, set_input_filter},
    {"SetInputFilter", ALL, 1, 1, set_input_filter},
    {"RemoveInputFilter", ALL, 1, NOMAX, set_remove_input_filter},
    {"DeflateInflateLimitRequestBody", ALL, 1, 1, set_inflate_limit},
    {"DeflateInflateRatioLimit", ALL, 1, 1, set_inflate_limit},
    {"DeflateInflateRatioBurst", ALL, 1, 1, set_inflate_limit},
    {"FilterTrace", ALL, 2, 2, set_filter_trace},
    {"AuthBasicUseDigestAlgorithm", W_SECTIONS, 1, 1, set_use_digest_algorithm},
    {"<AuthnProviderAlias", W_SERVER, 1, 2, set_provider_alias},
    {"<AuthzProviderAlias", W_SERVER, 2, 3, set_provider_alias},
    {"RegexDefaultOptions", W_SERVER, 0, NOMAX, set_regex_default_options},
    {NULL, 0, 0, 0, NULL},
};
