/* Apache httpd modules that portico does not build in but knows by name, so that LoadModule
 * and <IfModule> lines of real configurations get a plain answer: accepted as a no-op with a
 * -t notice (a module Debian enables by default whose absence changes nothing that a
 * directive would not refuse on its own), or refused with what to do instead. */
#ifndef PT_MODCATALOG_H
#define PT_MODCATALOG_H

#include <stdbool.h>

typedef struct {
    const char *name;   /* "negotiation_module" */
    const char *what;   /* what it does, for messages: "content negotiation" */
    bool accepted;      /* LoadModule accepted as a no-op (with a notice); else refused */
    const char *hint;   /* what to do instead, or NULL */
} pt_apache_module_t;

/* The catalogue entry for a module identifier ("rewrite_module") or Apache's source file
 * name ("mod_rewrite.c"); NULL when portico does not know the name. */
const pt_apache_module_t *pt_apache_module_find(const char *name);

/* Does portico ship a loadable module of this name (modules/: "php_module")? LoadModule
 * then loads the file named, and only a library built for Apache is refused (module.c,
 * with the catalogue's hint). */
bool pt_apache_module_is_portico(const char *name);

/* Does arg (an <IfModule> argument) name module id ("rewrite_module"), by the identifier or
 * by the source file name mod_X.c? */
bool pt_apache_module_names(const char *id, const char *arg);

/* The Apache module (source name without ".c": "mod_proxy", "core") that has a directive of
 * this name ("ProxyRemote", "<IfVersion"), or NULL when Apache 2.4 has none
 * (apache_directives.c). */
const char *pt_apache_directive_module(const char *name);

#endif
