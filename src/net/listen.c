/* Listening sockets: bound once by the parent, before privileges are dropped, and kept
 * open across restarts. */
#include "log.h"
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int open_one(const pt_config_t *cfg, const pt_listen_t *l, char *err, size_t errlen)
{
    int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (l->addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) != 0)
        goto fail;
    int backlog = cfg->listen_backlog > 0 ? cfg->listen_backlog : 511;
    if (listen(fd, backlog) != 0)
        goto fail;
    /* Wake the listener only when a request's first bytes have arrived (Apache's
     * AcceptFilter http data on Linux). */
    int secs = 30;
    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs));
    return fd;
fail:;
    int e = errno;
    snprintf(err, errlen, "%s:%d: could not bind to address %s: %s", l->file, l->line, l->spec,
             strerror(e));
    if (fd >= 0)
        close(fd);
    return -e;
}

int pt_listen_open(const pt_config_t *cfg, pt_listener_t **out, size_t *n, char *err,
                   size_t errlen)
{
    pt_listener_t *ls = calloc(cfg->nlistens ? cfg->nlistens : 1, sizeof(*ls));
    if (!ls)
        return -ENOMEM;
    for (size_t i = 0; i < cfg->nlistens; i++) {
        int fd = open_one(cfg, &cfg->listens[i], err, errlen);
        if (fd < 0) {
            pt_listen_close(ls, i);
            return fd;
        }
        ls[i].fd = fd;
        ls[i].conf = &cfg->listens[i];
    }
    *out = ls;
    *n = cfg->nlistens;
    return 0;
}

int pt_listen_reopen(const pt_config_t *cfg, pt_listener_t *old, size_t nold,
                     pt_listener_t **out, size_t *n, char *err, size_t errlen)
{
    pt_listener_t *ls = calloc(cfg->nlistens ? cfg->nlistens : 1, sizeof(*ls));
    if (!ls)
        return -ENOMEM;
    for (size_t i = 0; i < cfg->nlistens; i++)
        ls[i].fd = -1;
    for (size_t i = 0; i < cfg->nlistens; i++) {
        const pt_listen_t *l = &cfg->listens[i];
        ls[i].conf = l;
        for (size_t j = 0; j < nold; j++) {
            const pt_listen_t *o = old[j].conf;
            if (old[j].fd >= 0 && o->addrlen == l->addrlen &&
                memcmp(&o->addr, &l->addr, l->addrlen) == 0) {
                ls[i].fd = old[j].fd;
                break;
            }
        }
        if (ls[i].fd >= 0)
            continue;
        int fd = open_one(cfg, l, err, errlen);
        if (fd < 0) {
            /* Give back what was taken: only close what was opened here. */
            for (size_t k = 0; k < i; k++) {
                bool taken = false;
                for (size_t j = 0; j < nold; j++)
                    taken = taken || old[j].fd == ls[k].fd;
                if (!taken)
                    close(ls[k].fd);
            }
            free(ls);
            return fd;
        }
        ls[i].fd = fd;
    }
    /* Moved fds now belong to the new set. */
    for (size_t i = 0; i < cfg->nlistens; i++)
        for (size_t j = 0; j < nold; j++)
            if (old[j].fd == ls[i].fd)
                old[j].fd = -1;
    *out = ls;
    *n = cfg->nlistens;
    return 0;
}

void pt_listen_close(pt_listener_t *ls, size_t n)
{
    if (!ls)
        return;
    for (size_t i = 0; i < n; i++)
        if (ls[i].fd >= 0)
            close(ls[i].fd);
    free(ls);
}
