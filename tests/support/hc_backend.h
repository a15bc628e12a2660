/* A member for the health-check and resolve= tests: a thread of the test process serving
 * HTTP/1.1 (keep-alive, one thread per connection) on a loopback address of the test's
 * choice (127.0.0.2, 127.0.0.3, ... all on one port, as the addresses of one DNS name).
 *   /health     the status the test set (200 at first), empty body; counted as a probe
 *   /slow...    as below, after 4 s (a request in flight while the test changes things)
 *   /host...    200 with "name HOST\n", HOST the request's Host field
 *   anything    200 with the member's name and a newline as the body; counted as a request
 * The test flips the health status while portico runs, and reads the counts. */
#ifndef PTH_HC_BACKEND_H
#define PTH_HC_BACKEND_H

#include <stdbool.h>

typedef struct pth_hc_backend pth_hc_backend_t;

/* Starts one on ip:port (port 0: a free one); its body is "name\n". NULL on failure. */
pth_hc_backend_t *pth_hc_backend_start(const char *ip, int port, const char *name);
/* Stops it: the listener closes (connections refused from then on), threads joined. */
void pth_hc_backend_stop(pth_hc_backend_t *b);
int pth_hc_backend_port(const pth_hc_backend_t *b);
void pth_hc_backend_set_health(pth_hc_backend_t *b, int status);
int pth_hc_backend_probes(const pth_hc_backend_t *b);
int pth_hc_backend_requests(const pth_hc_backend_t *b);

#endif
