/* A WebSocket origin for the tunnel tests (RFC 6455 on raw sockets): it answers an upgrade
 * request with 101 and the Sec-WebSocket-Accept the key calls for, then speaks frames. It
 * runs in a child process of the test (one thread per connection), listens before it forks,
 * dies with the test (PR_SET_PDEATHSIG) and is stopped by PID; counts live in shared memory.
 *
 * What it does is chosen by the last component of the request path:
 *   echo        every data frame comes back (unmasked, same opcode and payload); a ping gets
 *               a pong; a close gets a close, then the connection is closed
 *   greet       as echo, but a text frame "welcome" leaves in the same write as the 101
 *               head (the proxy has it buffered after the head: it must reach the client)
 *   closefirst  sends a text frame "bye" and a close frame (1000), shuts its side for
 *               writing, waits for the client's close frame, then closes
 * A request without "Upgrade: websocket" gets 400. Frames of up to 64 MiB are accepted. */
#ifndef PTH_WS_BACKEND_H
#define PTH_WS_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    atomic_int accepted;     /* connections accepted */
    atomic_int open;         /* connections open now */
    atomic_int upgraded;     /* 101 sent */
    atomic_int frames;       /* data frames received */
    atomic_int closes;       /* close frames received */
} pth_ws_counts_t;

typedef struct {
    int port;                /* loopback TCP port */
    pid_t pid;
    pid_t owner;
    pth_ws_counts_t *counts;
} pth_ws_backend_t;

/* Starts it on a free loopback port: 0, or -1 with msg. */
int pth_ws_backend_start(pth_ws_backend_t *b, char *msg, size_t msglen);
/* Inside a Check test: aborts the test on failure. */
void pth_ws_backend_start_must(pth_ws_backend_t *b);
/* SIGKILL, reaped. Only in the process that started it. */
void pth_ws_backend_stop(pth_ws_backend_t *b);
/* Waits up to ms until counts->open == want. */
bool pth_ws_backend_wait_open(pth_ws_backend_t *b, int want, int ms);

/* The client's side of RFC 6455, for the tests' raw sockets (blocking fd). */
/* Sec-WebSocket-Accept for key (RFC 6455 4.2.2): base64(SHA-1(key + GUID)) into out. */
void pth_ws_accept_for(const char *key, char out[64]);
/* Writes one frame (FIN set) into out (n + 14 bytes at most), masked as a client must
 * (mask true) or not; returns its length. */
size_t pth_ws_frame(void *out, int opcode, const void *p, size_t n, bool mask);
/* Sends one frame (FIN set), masked as a client must (mask true) or not. 0 or -1. */
int pth_ws_send_frame(int fd, int opcode, const void *p, size_t n, bool mask);
/* Reads one frame within ms: its opcode (>= 0) with *p malloc'd (NUL-terminated) and *n
 * set, or -1 on EOF, error or timeout. Masked frames are unmasked. */
int pth_ws_read_frame(int fd, void **p, size_t *n, int ms);

#endif
