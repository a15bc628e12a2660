/* The PROXY protocol parser (proxyproto.h): version 1's text line and version 2's binary
 * header, checked against the spec; nothing here reads a socket or allocates. */
#include "proxyproto.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
static const char v1_sig[] = "PROXY ";

#define V2_HEAD 16 /* signature, version/command, family/protocol, length */

static pt_proxyproto_result_t fail(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return PT_PROXYPROTO_ERROR;
}

/* A port as v1 writes it: 1 to 5 digits, no sign, no leading zero, at most 65535. */
static bool v1_port(const char *s, in_port_t *out)
{
    size_t len = strlen(s);
    if (len == 0 || len > 5 || strspn(s, "0123456789") != len || (len > 1 && s[0] == '0'))
        return false;
    long v = strtol(s, NULL, 10);
    if (v > 65535)
        return false;
    *out = htons((in_port_t)v);
    return true;
}

static bool v1_addr(int family, const char *s, struct sockaddr_storage *ss, in_port_t port)
{
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = port;
        return inet_pton(AF_INET, s, &in->sin_addr) == 1;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = port;
    return inet_pton(AF_INET6, s, &in6->sin6_addr) == 1;
}

/* "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN ...\r\n": single spaces. */
static pt_proxyproto_result_t parse_v1(const uint8_t *p, size_t n, pt_proxyproto_t *out,
                                       const char **why)
{
    size_t lim = PT_MIN(n, (size_t)PT_PROXYPROTO_V1_MAX);
    const uint8_t *lf = memchr(p, '\n', lim);
    if (!lf) {
        if (n >= PT_PROXYPROTO_V1_MAX)
            return fail(why, "v1 header longer than 107 bytes");
        /* Only a CR that is the last byte so far may still be followed by its LF. */
        if (lim > 1 && memchr(p, '\r', lim - 1))
            return fail(why, "v1 header: CR without LF");
        return PT_PROXYPROTO_AGAIN;
    }
    size_t len = (size_t)(lf - p) + 1;
    if (len < 8 || p[len - 2] != '\r')
        return fail(why, "v1 header does not end in CRLF");
    if (memchr(p, '\r', len - 2))
        return fail(why, "v1 header: CR without LF");
    char line[PT_PROXYPROTO_V1_MAX + 1];
    memcpy(line, p, len - 2);
    line[len - 2] = '\0';
    if (strlen(line) != len - 2)
        return fail(why, "v1 header holds a NUL byte");
    out->version = 1;
    out->len = len;
    if (strncmp(line, "PROXY UNKNOWN", 13) == 0 && (line[13] == '\0' || line[13] == ' ')) {
        out->local = true; /* the rest of the line is ignored, as the spec says */
        return PT_PROXYPROTO_DONE;
    }
    char *words[6];
    int nw = 0;
    for (char *s = line;;) {
        if (nw == 6)
            return fail(why, "v1 header: more than five fields after PROXY");
        words[nw++] = s;
        char *sp = strchr(s, ' ');
        if (!sp)
            break;
        *sp = '\0';
        s = sp + 1;
    }
    int family = nw >= 2 && strcmp(words[1], "TCP4") == 0   ? AF_INET
                 : nw >= 2 && strcmp(words[1], "TCP6") == 0 ? AF_INET6
                                                            : 0;
    if (!family)
        return fail(why, "v1 header: unknown protocol (TCP4, TCP6 or UNKNOWN)");
    in_port_t sport, dport;
    if (nw != 6)
        return fail(why, "v1 header: fewer than five fields after PROXY");
    if (!v1_port(words[4], &sport) || !v1_port(words[5], &dport))
        return fail(why, "v1 header: bad port");
    if (!v1_addr(family, words[2], &out->src, sport) ||
        !v1_addr(family, words[3], &out->dst, dport))
        return fail(why, "v1 header: bad address for its protocol");
    return PT_PROXYPROTO_DONE;
}

static pt_proxyproto_result_t parse_v2(const uint8_t *p, size_t n, pt_proxyproto_t *out,
                                       const char **why)
{
    if (n < V2_HEAD)
        return PT_PROXYPROTO_AGAIN;
    if ((p[12] & 0xF0) != 0x20)
        return fail(why, "v2 header: version is not 2");
    int cmd = p[12] & 0x0F;
    if (cmd > 1)
        return fail(why, "v2 header: unknown command");
    size_t alen = (size_t)p[14] << 8 | p[15];
    if (V2_HEAD + alen > PT_PROXYPROTO_V2_MAX)
        return fail(why, "v2 header longer than 4096 bytes");
    if (n < V2_HEAD + alen)
        return PT_PROXYPROTO_AGAIN;
    int fam = p[13] >> 4, proto = p[13] & 0x0F;
    if (fam > 3 || proto > 2)
        return fail(why, "v2 header: unknown address family or protocol");
    out->version = 2;
    out->len = V2_HEAD + alen;
    const uint8_t *a = p + V2_HEAD;
    /* LOCAL (the balancer's own health check), UNSPEC and UNIX: keep the connection's. */
    if (cmd == 0 || fam == 0 || fam == 3) {
        out->local = true;
        return PT_PROXYPROTO_DONE;
    }
    memset(&out->src, 0, sizeof(out->src));
    memset(&out->dst, 0, sizeof(out->dst));
    if (fam == 1) {
        if (alen < 12)
            return fail(why, "v2 header: IPv4 addresses cut short");
        struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
        struct sockaddr_in *d = (struct sockaddr_in *)&out->dst;
        s->sin_family = d->sin_family = AF_INET;
        memcpy(&s->sin_addr, a, 4);
        memcpy(&d->sin_addr, a + 4, 4);
        memcpy(&s->sin_port, a + 8, 2);
        memcpy(&d->sin_port, a + 10, 2);
        return PT_PROXYPROTO_DONE;
    }
    if (alen < 36)
        return fail(why, "v2 header: IPv6 addresses cut short");
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
    struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->dst;
    s->sin6_family = d->sin6_family = AF_INET6;
    memcpy(&s->sin6_addr, a, 16);
    memcpy(&d->sin6_addr, a + 16, 16);
    memcpy(&s->sin6_port, a + 32, 2);
    memcpy(&d->sin6_port, a + 34, 2);
    return PT_PROXYPROTO_DONE;
}

pt_proxyproto_result_t pt_proxyproto_parse(const uint8_t *p, size_t n, pt_proxyproto_t *out,
                                           const char **why)
{
    memset(out, 0, sizeof(*out));
    if (why)
        *why = NULL;
    /* Decide the version from as many bytes as have come: a prefix of a signature waits. */
    size_t k1 = PT_MIN(n, sizeof(v1_sig) - 1), k2 = PT_MIN(n, sizeof(v2_sig));
    if (n > 0 && memcmp(p, v1_sig, k1) == 0)
        return k1 < sizeof(v1_sig) - 1 ? PT_PROXYPROTO_AGAIN : parse_v1(p, n, out, why);
    if (n > 0 && memcmp(p, v2_sig, k2) == 0)
        return k2 < sizeof(v2_sig) ? PT_PROXYPROTO_AGAIN : parse_v2(p, n, out, why);
    if (n == 0)
        return PT_PROXYPROTO_AGAIN;
    return fail(why, "not a PROXY protocol header");
}
