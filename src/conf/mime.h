/* MIME types by file extension: TypesConfig (default /etc/mime.types, a built-in table for
 * the common types when it is missing), AddType and ForceType from the per-directory config,
 * and the AddDefaultCharset rule for text types. */
#ifndef PT_MIME_H
#define PT_MIME_H

#include "arena.h"
#include "config.h"

typedef struct pt_mime pt_mime_t;

/* Loads path (NULL: /etc/mime.types); a missing file falls back to the built-in table, an
 * unreadable or malformed one is an error (NULL, err set). */
pt_mime_t *pt_mime_load(pt_arena_t *a, const char *path, char *err, size_t errlen);
/* Type for a lower- or mixed-case extension without the dot, NULL when unknown. */
const char *pt_mime_lookup(const pt_mime_t *m, const char *ext);
/* Type for a file name: ForceType, then AddType (last extension that maps), then the table;
 * NULL when unknown (the caller sends no Content-Type or application/octet-stream). A type
 * found by extension gets the charset of AddCharset (last extension that maps); else the
 * charset of AddDefaultCharset is appended to text/plain and text/html. */
const char *pt_mime_type_for(pt_arena_t *a, const pt_mime_t *m, const pt_dir_config_t *d,
                             const char *filename);
/* Content-Language for a file name: the AddLanguage languages of its extensions, in order,
 * joined with "," ("doc.en.de.html" -> "en,de"); DefaultLanguage when none maps; NULL when
 * neither. */
const char *pt_mime_languages(pt_arena_t *a, const pt_dir_config_t *d, const char *filename);

#endif
