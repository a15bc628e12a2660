/* What the binary registers before it reads a configuration: the top floor's wiring of the
 * floors above the request core into the ones below (proxy schemes with their handlers,
 * conf extensions, the loader). main.c calls it first; so do the tests that load
 * configurations. Calling it again changes nothing. */
#ifndef PT_STARTUP_H
#define PT_STARTUP_H

void pt_startup_register(void);

#endif
