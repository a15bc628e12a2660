/* A FastCGI responder on libfcgi (fcgiapp) for the cases php-fpm cannot produce. It serves
 * requests one at a time; the last component of SCRIPT_NAME says what to do:
 *   ok          "ok" (text/plain)
 *   echo        reads STDIN, answers "len=N query=QUERY_STRING"
 *   stderr      writes a line to STDERR, then answers "ok"
 *   redirect    "Location: /f/ok" without Status (a local redirect)
 *   badversion  a STDOUT record of version 2, then closes
 *   bighead     a 70 000-byte header field
 *   badstatus   "Status: 2xx"
 *   midclose    a head and part of a body, then closes without END_REQUEST
 *   earlyclose  closes before writing anything
 *   overloaded  END_REQUEST with FCGI_OVERLOADED */
#include "fcgi_backends.h"
#include "harness.h"

#include <errno.h>
#include <fastcgi.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Raw bytes on the request's connection, then the connection shut: what libfcgi would
 * never write by itself. */
static void raw_and_close(FCGX_Request *rq, const void *p, size_t n)
{
    if (n && write(rq->ipcFd, p, n) < 0)
        perror("responder write");
    shutdown(rq->ipcFd, SHUT_RDWR);
    rq->keepConnection = 0; /* libfcgi must not wait for another request on it */
}

static void raw_record(unsigned char *out, int version, int type, const void *p, size_t n)
{
    FCGI_Header h = {.version = (unsigned char)version, .type = (unsigned char)type,
                     .requestIdB0 = 1, .contentLengthB1 = (unsigned char)(n >> 8),
                     .contentLengthB0 = (unsigned char)n};
    memcpy(out, &h, sizeof(h));
    memcpy(out + sizeof(h), p, n);
}

static void serve_misbehaving(FCGX_Request *rq, const char *what)
{
    unsigned char rec[64];
    if (strcmp(what, "badversion") == 0) {
        raw_record(rec, 2, FCGI_STDOUT, "Status: 200\r\n\r\n", 15);
        raw_and_close(rq, rec, 8 + 15);
    } else if (strcmp(what, "overloaded") == 0) {
        unsigned char body[8] = {0, 0, 0, 0, FCGI_OVERLOADED, 0, 0, 0};
        raw_record(rec, 1, FCGI_END_REQUEST, body, 8);
        raw_and_close(rq, rec, 16);
    } else if (strcmp(what, "midclose") == 0) {
        FCGX_PutS("Content-Type: text/plain\r\n\r\npartial body", rq->out);
        FCGX_FFlush(rq->out);
        raw_and_close(rq, NULL, 0);
    } else if (strcmp(what, "earlyclose") == 0) {
        raw_and_close(rq, NULL, 0);
    } else if (strcmp(what, "bighead") == 0) {
        FCGX_PutS("X-Big: ", rq->out);
        for (int i = 0; i < 70000; i++)
            FCGX_PutChar('a', rq->out);
        FCGX_PutS("\r\n\r\n", rq->out);
    } else if (strcmp(what, "badstatus") == 0) {
        FCGX_PutS("Status: 2xx\r\nContent-Type: text/plain\r\n\r\nx", rq->out);
    }
}

static void serve(FCGX_Request *rq)
{
    const char *sn = FCGX_GetParam("SCRIPT_NAME", rq->envp);
    const char *slash = sn ? strrchr(sn, '/') : NULL;
    const char *what = slash ? slash + 1 : (sn ? sn : "");
    if (strcmp(what, "ok") == 0) {
        FCGX_PutS("Content-Type: text/plain\r\nX-Responder: libfcgi\r\n\r\nok", rq->out);
    } else if (strcmp(what, "echo") == 0) {
        char buf[8192];
        long total = 0;
        int n;
        while ((n = FCGX_GetStr(buf, sizeof(buf), rq->in)) > 0)
            total += n;
        const char *q = FCGX_GetParam("QUERY_STRING", rq->envp);
        FCGX_FPrintF(rq->out, "Content-Type: text/plain\r\n\r\nlen=%ld query=%s", total,
                     q ? q : "");
    } else if (strcmp(what, "stderr") == 0) {
        FCGX_PutS("responder says hello on stderr\n", rq->err);
        FCGX_PutS("Content-Type: text/plain\r\n\r\nok", rq->out);
    } else if (strcmp(what, "env") == 0) { /* the TLS variables a backend sees */
        static const char *const names[] = {"HTTPS", "REQUEST_SCHEME", "SSL_PROTOCOL",
                                            "SSL_CIPHER", "SSL_CLIENT_S_DN",
                                            "SSL_CLIENT_VERIFY", "SSL_CLIENT_CERT"};
        FCGX_PutS("Content-Type: text/plain\r\n\r\n", rq->out);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            const char *v = FCGX_GetParam(names[i], rq->envp);
            FCGX_FPrintF(rq->out, "%s=%.27s\n", names[i], v ? v : "(unset)");
        }
    } else if (strcmp(what, "redirect") == 0) {
        FCGX_PutS("Location: /f/ok\r\n\r\n", rq->out);
    } else {
        serve_misbehaving(rq, what);
    }
}

static void responder_main(int sock)
{
    signal(SIGPIPE, SIG_IGN);
    FCGX_Init();
    FCGX_Request rq;
    FCGX_InitRequest(&rq, sock, 0);
    int errors = 0;
    while (errors < 1000) {
        /* A connection that broke mid-request makes Accept fail once: keep serving. */
        if (FCGX_Accept_r(&rq) != 0) {
            errors++;
            continue;
        }
        serve(&rq);
        FCGX_Finish_r(&rq);
    }
    _exit(1);
}

int pth_fcgi_responder_start(pth_fcgi_responder_t *r, const char *sock_path, char *msg,
                             size_t msglen)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->sock, sizeof(r->sock), "%s", sock_path);
    unlink(sock_path);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(msg, msglen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int sock = FCGX_OpenSocket(sock_path, 16);
        if (sock < 0)
            _exit(126);
        responder_main(sock);
    }
    r->pid = pid;
    r->owner = parent;
    if (!pth_unix_wait_ready(sock_path, PTH_FPM_START_DEADLINE_MS)) {
        snprintf(msg, msglen, "the libfcgi responder did not start on %s", sock_path);
        pth_fcgi_responder_stop(r);
        return -1;
    }
    return 0;
}

void pth_fcgi_responder_stop(pth_fcgi_responder_t *r)
{
    if (r->pid <= 0 || r->owner != getpid())
        return;
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    r->pid = 0;
    unlink(r->sock);
}
