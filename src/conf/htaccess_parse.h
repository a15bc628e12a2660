/* Reading one .htaccess file (AccessFileName) into a per-directory config, with the
 * directives its directory's AllowOverride and AllowOverrideList let in: Apache's
 * ap_parse_htaccess. Pure configuration work: the request floor's cache (src/htaccess.c)
 * decides when to read a file and keeps the result. */
#ifndef PT_HTACCESS_PARSE_H
#define PT_HTACCESS_PARSE_H

#include "config.h"

/* A parsed file. Owns its own arena and compiled regexes (a scratch configuration that
 * shares nothing mutable with the live one); freed with pt_htaccess_free. */
typedef struct pt_htaccess {
    pt_config_t *scratch;        /* owns the memory; its main server is the file's scope */
    pt_dir_config_t *dc;         /* what the file sets at its top level */
    const pt_section_t *files;   /* its <Files>/<FilesMatch> sections, in file order */
    size_t nfiles;
    size_t nwarnings;            /* directives skipped under AllowOverride Nonfatal= */
} pt_htaccess_t;

/* Reads path, the access file of a directory, for cfg with allowed (the config merged up to
 * that directory: its overrides, override_opts and override_list). Returns NULL with
 * "path:line: message" in err for a syntax error, an unknown directive or one that
 * AllowOverride does not allow (unless Nonfatal= says to skip it, with a warning in the
 * error log). */
pt_htaccess_t *pt_htaccess_parse(const pt_config_t *cfg, const char *path,
                                 const pt_dir_config_t *allowed, char *err, size_t errlen);
void pt_htaccess_free(pt_htaccess_t *ht);

/* The AllowOverride class of a directive ("Require": PT_OVR_AUTHCFG); PT_OVR_ALL for one
 * any class lets in (<Files>, LimitRequestBody); 0 for one never allowed in .htaccess. */
unsigned pt_htaccess_override_class(const char *name);

#endif
