/* URL-path normalization and mapping to the file system: percent-decoding, dot-segment
 * removal (RFC 3986 section 5.2.4), Alias / AliasMatch, DocumentRoot. A mapped path never
 * escapes its root. */
#ifndef PT_URI_H
#define PT_URI_H

#include "arena.h"
#include "config.h"

/* Decodes a raw URL-path (no query) and removes dot segments. Refuses (returns the status):
 * 400 for a bad %-escape, a NUL byte, a path not starting with '/' or a ".." that would climb
 * above the root (as Apache); 404 for an encoded
 * slash (%2F), as Apache's AllowEncodedSlashes Off. 0 on success with *out set. */
int pt_uri_normalize(pt_arena_t *a, const char *raw, size_t len, const char **out);
/* The same under the virtual host's AllowEncodedSlashes: Off as above, On decodes %2F to
 * '/', NoDecode keeps "%2F" as sent (and decodes the rest). */
int pt_uri_normalize_for(pt_arena_t *a, const pt_vhost_t *vh, const char *raw, size_t len,
                         const char **out);

/* Maps a normalized URL-path to a file path by Alias/AliasMatch (first match in order),
 * else DocumentRoot, and canonicalises the result (pt_uri_canonical_file). NULL when the
 * vhost has neither. */
const char *pt_uri_to_filename(pt_arena_t *a, const pt_vhost_t *vh, const char *uri);
/* The same, and *root_len: the length of the mapping's root (DocumentRoot, the Alias target,
 * the fixed part of an AliasMatch target) at the start of the result, 0 when unknown. Options
 * such as FollowSymLinks govern the components below it. */
const char *pt_uri_map(pt_arena_t *a, const pt_vhost_t *vh, const char *uri, size_t *root_len);
/* An absolute file path without "//", "." or ".." segments (resolved by name, never above
 * "/"); a trailing '/' is kept. Other strings, and paths already in that form, are returned
 * as they are (the same pointer). */
const char *pt_uri_canonical_file(pt_arena_t *a, const char *path);

/* Percent-encodes a path for use in a URL or HTML (listing links, Location headers). */
const char *pt_uri_escape_path(pt_arena_t *a, const char *path);
/* ap_pregsub over the matches m of regexec on src: "$N" takes capture N (empty when it did
 * not take part), a backslash takes the next character literally. Captures are copied as
 * they are (AliasMatch, ProxyPassMatch: file paths, decoded once and never again;
 * RedirectMatch escapes its whole result afterwards, as mod_alias). */
char *pt_uri_regsub(pt_arena_t *a, const char *tmpl, const char *src, const pt_regmatch_t *m);
/* Escapes &<>"' for HTML text. */
const char *pt_html_escape(pt_arena_t *a, const char *s);

#endif
