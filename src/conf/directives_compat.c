/* Directives that real Apache configurations carry beyond portico's core tables: the rest of
 * mod_mime (charsets, languages, removals: mime.c reads them), and those of modules portico
 * has without all of their behaviour (Debian's stock files: mod_autoindex's icons,
 * mod_negotiation's language priorities) and NameVirtualHost, accepted with a `portico -t`
 * notice once per directive name (pt_dcx_note). The check of a piped ErrorLog or CustomLog
 * target (pt_dcx_log_path) is here too. */
#include "directives.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Apache starts "|program" without a shell, so the program is a file we can check now rather
 * than a logger that dies at every start. */
const char *pt_dcx_log_path(dcx_t *l, const pt_node_t *n, const char *p)
{
    if (p[0] != '|')
        return pt_dcx_path(l, p);
    const char *cmd = p + 1 + (p[1] == '|');
    while (*cmd == ' ' || *cmd == '\t')
        cmd++;
    if (!*cmd || (cmd[0] == '$' && !cmd[1])) {
        pt_dcx_fail(l, n, "%s: the piped log has no program", n->name);
        return NULL;
    }
    if (cmd[0] != '$') {
        size_t len = strcspn(cmd, " \t");
        char *prog = pt_arena_strndup(l->a, cmd, len);
        struct stat st;
        if (prog[0] != '/' || stat(prog, &st) != 0 || !S_ISREG(st.st_mode) ||
            access(prog, X_OK) != 0) {
            pt_dcx_fail(l, n, "%s: piped log program %s is not an executable file (give its "
                              "full path, or write \"|$command\" to run it through the shell)",
                        n->name, prog);
            return NULL;
        }
    }
    return pt_arena_printf(l->a, "|%s", cmd);
}

/* mod_autoindex's look: portico's listings (Options Indexes, src/static.c) are one plain
 * table, without icons, descriptions, header or readme files. */
static int set_autoindex_cosmetic(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_dcx_note(l, n, n->name,
                "%s ignored: portico's directory listings (Options Indexes) are a plain list "
                "without mod_autoindex's icons, descriptions, headers and filters", n->name);
    return 0;
}

/* mod_negotiation: portico does not negotiate (no MultiViews, no type maps). */
static int set_negotiation(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_dcx_note(l, n, n->name,
                "%s ignored: portico does not do content negotiation (mod_negotiation)",
                n->name);
    return 0;
}

static char *lower(pt_arena_t *a, const char *s)
{
    char *low = pt_arena_strdup(a, s);
    for (char *c = low; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    return low;
}

/* AddCharset and AddLanguage: "value ext ...", the extensions without the dot; mod_mime
 * lower-cases both ("AddLanguage pt-BR" sends "pt-br"). mime.c reads them. */
static int add_ext_map(dcx_t *l, const pt_node_t *n, const pt_ext_map_t **v, size_t *nv)
{
    const char *value = lower(l->a, n->argv[0]);
    for (int i = 1; i < n->argc; i++) {
        pt_ext_map_t *m = pt_dcx_push(l->a, v, nv, sizeof(*m));
        m->ext = lower(l->a, n->argv[i] + (n->argv[i][0] == '.'));
        m->value = value;
    }
    return 0;
}

static int set_add_charset(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_ext_map(l, n, &s->dc->charsets, &s->dc->ncharsets);
}

static int set_add_language(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return add_ext_map(l, n, &s->dc->languages, &s->dc->nlanguages);
}

static int set_default_language(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    s->dc->default_language = n->argv[0];
    return 0;
}

/* RemoveType and RemoveHandler undo an outer AddType or AddHandler for the extensions: an
 * entry without a value, which the inner-first merge puts before the outer one it hides
 * (mod_mime's REMOVE_ATTRIBUTE). The TypesConfig table still applies, as in Apache. */
static int remove_ext_map(dcx_t *l, const pt_node_t *n, const pt_ext_map_t **v, size_t *nv)
{
    for (int i = 0; i < n->argc; i++) {
        pt_ext_map_t *m = pt_dcx_push(l->a, v, nv, sizeof(*m));
        m->ext = lower(l->a, n->argv[i] + (n->argv[i][0] == '.'));
        m->value = NULL;
    }
    return 0;
}

static int set_remove_type(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return remove_ext_map(l, n, &s->dc->types, &s->dc->ntypes);
}

static int set_remove_handler(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return remove_ext_map(l, n, &s->dc->handlers, &s->dc->nhandlers);
}

static int set_remove_charset(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return remove_ext_map(l, n, &s->dc->charsets, &s->dc->ncharsets);
}

static int set_remove_language(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return remove_ext_map(l, n, &s->dc->languages, &s->dc->nlanguages);
}

/* Apache 2.4 made it a no-op that warns: every address is name-based already. */
static int set_name_virtual_host(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_dcx_note(l, n, n->name,
                "NameVirtualHost has no effect (deprecated in Apache 2.4: virtual hosts on "
                "one address are name-based without it)");
    return 0;
}

/* Apache's tuning knobs for its own buffers, pools, threads and CGI children: portico has its
 * own (or no CGI children), and what is served does not change. */
static int set_tuning(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    pt_dcx_note(l, n, n->name,
                "%s ignored: an Apache tuning setting without a counterpart in portico (what "
                "is served does not change)", n->name);
    return 0;
}

/* Error "message": Apache stops reading the configuration with it (core, 2.4.9). */
static int set_error(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_fail(l, n, "%s", n->argv[0]);
}

static int set_port(dcx_t *l, dcx_scope_t *s, const pt_node_t *n)
{
    return pt_dcx_fail(l, n, "Port was replaced with Listen in Apache 2.0");
}

const dcx_directive_t pt_dcx_compat_table[] = {
    {"Error", ALL, 1, 1, set_error},
    {"Port", SRV, 1, 1, set_port},
    /* core, mod_log_config, the MPMs, mod_status, mod_alias, mod_mime: no effect here */
    {"ReadBufferSize", SRV, 1, 1, set_tuning},
    {"FlushMaxThreshold", SRV, 1, 1, set_tuning},
    {"FlushMaxPipelined", SRV, 1, 1, set_tuning},
    {"AcceptFilter", W_SERVER, 2, 2, set_tuning},
    {"SendBufferSize", W_SERVER, 1, 1, set_tuning},
    {"ReceiveBufferSize", W_SERVER, 1, 1, set_tuning},
    {"ListenCoresBucketsRatio", W_SERVER, 1, 1, set_tuning},
    {"MaxMemFree", W_SERVER, 1, 1, set_tuning},
    {"ThreadStackSize", W_SERVER, 1, 1, set_tuning},
    {"ScoreBoardFile", W_SERVER, 1, 1, set_tuning},
    {"CoreDumpDirectory", W_SERVER, 1, 1, set_tuning},
    {"WatchdogInterval", W_SERVER, 1, 1, set_tuning},
    {"BufferedLogs", W_SERVER, 1, 1, set_tuning},
    {"LogIOTrackTTFB", ALL, 1, 1, set_tuning},
    {"ErrorLogFormat", SRV, 1, 2, set_tuning},
    {"SeeRequestTail", W_SERVER, 1, 1, set_tuning},
    {"RLimitCPU", ALL, 1, 2, set_tuning},
    {"RLimitMEM", ALL, 1, 2, set_tuning},
    {"RLimitNPROC", ALL, 1, 2, set_tuning},
    {"MaxRanges", ALL, 1, 1, set_tuning},
    {"MaxRangeOverlaps", ALL, 1, 1, set_tuning},
    {"MaxRangeReversals", ALL, 1, 1, set_tuning},
    {"LimitInternalRecursion", SRV, 1, 2, set_tuning},
    {"ServerPath", W_VHOST, 1, 1, set_tuning},
    {"UseCanonicalPhysicalPort", ALL, 1, 1, set_tuning},
    {"MultiviewsMatch", ALL, 1, NOMAX, set_negotiation},
    {"FancyIndexing", ALL, 1, 1, set_autoindex_cosmetic},
    {"NameVirtualHost", W_SERVER, 1, 1, set_name_virtual_host},
    /* mod_autoindex */
    {"AddIcon", ALL, 2, NOMAX, set_autoindex_cosmetic},
    {"AddIconByEncoding", ALL, 2, NOMAX, set_autoindex_cosmetic},
    {"AddIconByType", ALL, 2, NOMAX, set_autoindex_cosmetic},
    {"AddAlt", ALL, 2, NOMAX, set_autoindex_cosmetic},
    {"AddAltByEncoding", ALL, 2, NOMAX, set_autoindex_cosmetic},
    {"AddAltByType", ALL, 2, NOMAX, set_autoindex_cosmetic},
    {"AddDescription", ALL, 2, NOMAX, set_autoindex_cosmetic},
    {"DefaultIcon", ALL, 1, 1, set_autoindex_cosmetic},
    {"IndexOptions", ALL, 1, NOMAX, set_autoindex_cosmetic},
    {"IndexIgnore", ALL, 1, NOMAX, set_autoindex_cosmetic},
    {"IndexIgnoreReset", ALL, 1, 1, set_autoindex_cosmetic},
    {"IndexOrderDefault", ALL, 2, 2, set_autoindex_cosmetic},
    {"IndexStyleSheet", ALL, 1, 1, set_autoindex_cosmetic},
    {"IndexHeadInsert", ALL, 1, 1, set_autoindex_cosmetic},
    {"ReadmeName", ALL, 1, 1, set_autoindex_cosmetic},
    {"HeaderName", ALL, 1, 1, set_autoindex_cosmetic},
    /* mod_negotiation */
    {"LanguagePriority", ALL, 1, NOMAX, set_negotiation},
    {"ForceLanguagePriority", ALL, 1, 2, set_negotiation},
    {"CacheNegotiatedDocs", SRV, 0, 1, set_negotiation},
    /* mod_mime */
    {"AddLanguage", ALL, 2, NOMAX, set_add_language},
    {"DefaultLanguage", ALL, 1, 1, set_default_language},
    {"AddCharset", ALL, 2, NOMAX, set_add_charset},
    {"RemoveLanguage", ALL, 1, NOMAX, set_remove_language},
    {"RemoveCharset", ALL, 1, NOMAX, set_remove_charset},
    {"RemoveType", ALL, 1, NOMAX, set_remove_type},
    {"RemoveHandler", ALL, 1, NOMAX, set_remove_handler},
    {NULL, 0, 0, 0, NULL},
};
