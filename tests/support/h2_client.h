/* Test support for HTTP/2: a raw-frame client (frames written byte by byte as a test wants
 * them, header blocks encoded with nghttp2's HPACK deflater, frames read back one at a
 * time with their header blocks decoded), a threaded FastCGI backend that can be slow
 * (100 requests at once), and a bounded runner for the nghttp and h2load clients. */
#ifndef PTH_H2_CLIENT_H
#define PTH_H2_CLIENT_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A transport of the caller's under the client, in place of its socket (TLS: tls_client.h's
 * raw connection, pth_tls_conn_h2). send writes all of p: 0 or -errno. recv reads up to n
 * bytes within ms: the count, 0 at the end of the stream, -ETIMEDOUT, or another -errno. */
typedef struct {
    void *io;
    int (*send)(void *io, const void *p, size_t n);
    long (*recv)(void *io, void *p, size_t n, int ms);
} pth_h2_io_t;

typedef struct {
    int fd;         /* -1 over a transport of the caller's (io) */
    pth_h2_io_t io; /* .send NULL: the socket */
    nghttp2_hd_deflater *def;
    nghttp2_hd_inflater *inf;
    uint8_t *buf;            /* bytes read and not yet returned as frames */
    size_t len, cap;
    bool eof;
    bool reset;              /* ... by a reset (ECONNRESET), not a FIN */
    int32_t goaway_last;     /* the last-stream-id of the GOAWAY pth_h2_expect saw, or -1 */
} pth_h2_t;

typedef struct {
    uint32_t length;
    uint8_t type, flags;
    int32_t stream;
    uint8_t *payload;        /* malloc'd (length bytes) */
    int status;              /* HEADERS: :status decoded, else 0 */
} pth_h2_frame_t;

/* Connects to 127.0.0.1:port; with preface, sends the client preface and an empty
 * SETTINGS. NULL when the connection fails. */
pth_h2_t *pth_h2_open(int port, bool preface);
/* A client over io (no socket of its own, no preface sent). NULL when out of memory. */
pth_h2_t *pth_h2_over(const pth_h2_io_t *io);
void pth_h2_close(pth_h2_t *c);
/* A frame's bytes (the 9-byte head, then payload) into out (cap), for a test that sends
 * them its own way (a TLS record cut in two); returns their length, 0 when cap is short. */
size_t pth_h2_frame_bytes(uint8_t *out, size_t cap, uint8_t type, uint8_t flags, int32_t stream,
                          const void *p, size_t len);
/* Writes a frame (payload as given). 0 or -errno (the server may have closed). */
int pth_h2_frame(pth_h2_t *c, uint8_t type, uint8_t flags, int32_t stream, const void *p,
                 size_t len);
/* With on, frames written are held back (TCP_CORK) until it is called with off: they
 * reach the server together, in one read. */
void pth_h2_cork(pth_h2_t *c, bool on);
/* Encodes a header block from n name/value pairs (names[i], values[i]) into out (cap);
 * returns its length. */
size_t pth_h2_block(pth_h2_t *c, uint8_t *out, size_t cap, const char *const *names,
                    const char *const *values, size_t n);
/* A GET for path as HEADERS with END_STREAM|END_HEADERS on stream id. */
int pth_h2_get(pth_h2_t *c, int32_t id, const char *path);
/* Reads one frame within ms: 0, -ETIMEDOUT, or -ECONNRESET at EOF. */
int pth_h2_read(pth_h2_t *c, pth_h2_frame_t *f, int ms);
void pth_h2_frame_free(pth_h2_frame_t *f);
/* Reads frames until one of type arrives (on stream, or any stream when stream < 0), or
 * GOAWAY, EOF or ms pass. Returns the frame's type (GOAWAY's too) with *code set to the
 * error code of an RST_STREAM or GOAWAY and *status to a HEADERS' :status; -1 at EOF,
 * -2 on timeout. */
int pth_h2_expect(pth_h2_t *c, int type, int32_t stream, int ms, uint32_t *code, int *status);
/* Reads until GOAWAY (its code in *code; true), EOF or ms. */
bool pth_h2_goaway(pth_h2_t *c, int ms, uint32_t *code);

/* A FastCGI responder for many requests at once (a thread per connection) on a unix
 * socket: "slow" sleeps 1 s then answers "slow"; "echo" answers "len=N sum=S" for the
 * request body (S: a sum of its bytes); anything else "ok". */
typedef struct {
    char sock[192];
    pid_t pid;
} pth_h2_fcgi_t;
int pth_h2_fcgi_start(pth_h2_fcgi_t *b, const char *sock);
void pth_h2_fcgi_stop(pth_h2_fcgi_t *b);
/* The sum "echo" reports for n bytes. */
uint64_t pth_h2_sum(const uint8_t *p, size_t n);

/* Runs argv (argv[0] a program on PATH) with stdout and stderr into one malloc'd string
 * (*out), killed by PID after ms. Returns its exit code, or -1 when killed or not run. */
int pth_h2_run(char *const argv[], int ms, char **out);

#endif
