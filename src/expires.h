/* mod_expires at response time: the Expires and Cache-Control max-age fields from the
 * ExpiresDefault/ExpiresByType code in force for the response's type (conf compiles the codes:
 * conf/directives_expires.c). */
#ifndef PT_EXPIRES_H
#define PT_EXPIRES_H

#include "request.h"

/* Adds Expires and "Cache-Control: max-age=N" to out (the handler's table) as Apache's
 * expires filter does: with ExpiresActive On, for a status below 400, when neither table has
 * an Expires already; an 'M' code needs the response's file (a proxied answer has none). */
void pt_expires_apply(pt_request_t *r, int status, pt_table_t *out);

#endif
