/* Unit tests for what the event MPM's listener parks (mpm/event_park.c) when it is not a
 * connection: an item with its own pt_park_ops_t, parked from a worker, made ready by its
 * descriptor, handed to a worker as a task, parked again, then expired by its deadline.
 * A real event child runs in a forked process; the test talks to it over loopback. */
#include "mpm/event_child.h"
#include "mpm/mpm.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A tunnel-like item: it watches a descriptor of its own (a dup of the client's socket),
 * echoes "ping" with "pong" on a worker, and says "expired" when its deadline passes. */
typedef struct {
    pt_park_t park;
    pt_task_t task;
    void *mpm;
} item_t;

static void item_serve_worker(pt_task_t *t, pt_worker_t *w)
{
    item_t *it = PT_CONTAINER_OF(t, item_t, task);
    char buf[16];
    ssize_t n = recv(it->park.fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 4 && memcmp(buf, "ping", 4) == 0)
        (void)!send(it->park.fd, "pong\n", 5, MSG_NOSIGNAL);
    it->park.deadline_ms = pt_now_ms() + 200; /* then it expires */
    if (pt_mpm_park(w->mpm, &it->park) != 0)
        abort();
}

static pt_task_t *item_ready(pt_park_t *p, void *mpm)
{
    item_t *it = PT_CONTAINER_OF(p, item_t, park);
    it->mpm = mpm;
    return &it->task;
}

static void item_expire_listener(pt_park_t *p, void *mpm, bool stopping)
{
    (void)mpm;
    if (!stopping)
        (void)!send(p->fd, "expired\n", 8, MSG_NOSIGNAL | MSG_DONTWAIT);
    close(p->fd);
    p->fd = -1;
}

static void item_destroy(pt_park_t *p)
{
    free(PT_CONTAINER_OF(p, item_t, park));
}

static const pt_park_ops_t item_ops = {
    .ready = item_ready,
    .expire_listener = item_expire_listener,
    .destroy = item_destroy,
};

/* The connection's protocol: read the greeting, hand the socket to an item, close. */
static pt_conn_next_t greet_serve_worker(pt_worker_t *w, pt_conn_t *c)
{
    long n = pt_conn_read(c, 4096);
    if (n == PT_EAGAIN) /* accepted before the greeting arrived */
        return PT_NEXT_PARK_READ;
    if (n <= 0)
        return PT_NEXT_CLOSE;
    item_t *it = calloc(1, sizeof(*it));
    it->park = (pt_park_t){.ops = &item_ops, .fd = dup(c->fd), .events = EPOLLIN,
                           .deadline_ms = pt_now_ms() + 10000, .state = PT_PARK_HANDSHAKE,
                           .heap_idx = -1};
    it->task.serve_worker = item_serve_worker;
    (void)!send(it->park.fd, "parked\n", 7, MSG_NOSIGNAL);
    if (pt_mpm_park(w->mpm, &it->park) != 0)
        abort();
    return PT_NEXT_CLOSE;
}

static const pt_conn_proto_t greet = {.name = "greet", .serve_worker = greet_serve_worker};

/* ---- A park on two descriptors (a tunnel's shape) ------------------------------------- */

/* Both descriptors are dups of the client's socket, so one "ping" makes both ready at once:
 * the item must run once per claim, never on two threads together (it would answer twice,
 * or TSan/ASan would say so). Its second descriptor is its own: destroy closes it. */
static atomic_int running;

static void two_serve_worker(pt_task_t *t, pt_worker_t *w)
{
    item_t *it = PT_CONTAINER_OF(t, item_t, task);
    if (atomic_fetch_add(&running, 1) != 0)
        abort(); /* two owners at once */
    char buf[16];
    ssize_t n = recv(it->park.fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 4 && memcmp(buf, "ping", 4) == 0)
        (void)!send(it->park.fd, "pong\n", 5, MSG_NOSIGNAL);
    usleep(2000); /* the other descriptor's event comes meanwhile */
    atomic_fetch_sub(&running, 1);
    it->park.deadline_ms = pt_now_ms() + 300;
    if (pt_mpm_park(w->mpm, &it->park) != 0)
        abort();
}

static void two_expire_listener(pt_park_t *p, void *mpm, bool stopping)
{
    (void)mpm, (void)stopping;
    close(p->fd);
    p->fd = -1;
}

static void two_destroy(pt_park_t *p)
{
    close(p->fd2);
    free(PT_CONTAINER_OF(p, item_t, park));
}

static const pt_park_ops_t two_ops = {
    .ready = item_ready,
    .expire_listener = two_expire_listener,
    .destroy = two_destroy,
};

static pt_conn_next_t two_serve_greet(pt_worker_t *w, pt_conn_t *c)
{
    long n = pt_conn_read(c, 4096);
    if (n == PT_EAGAIN)
        return PT_NEXT_PARK_READ;
    if (n <= 0)
        return PT_NEXT_CLOSE;
    item_t *it = calloc(1, sizeof(*it));
    it->park = (pt_park_t){.ops = &two_ops, .fd = dup(c->fd), .events = EPOLLIN,
                           .fd2 = dup(c->fd), .events2 = EPOLLIN,
                           .deadline_ms = pt_now_ms() + 10000, .state = PT_PARK_TUNNEL,
                           .heap_idx = -1};
    it->task.serve_worker = two_serve_worker;
    (void)!send(it->park.fd, "parked\n", 7, MSG_NOSIGNAL);
    if (pt_mpm_park(w->mpm, &it->park) != 0)
        abort();
    return PT_NEXT_CLOSE;
}

static const pt_conn_proto_t two_greet = {.name = "two", .serve_worker = two_serve_greet};

/* ---- A park in flight at a stop ------------------------------------------------------ */

/* Parked on two descriptors (PT_PARK_TUNNEL: a stop waits for it) with a far deadline; at a
 * stop it is made ready once, sees pt_mpm_stopping, says so and ends (parked with a
 * deadline that has passed, so that the listener expires it and frees it late). */
static void stop_serve_worker(pt_task_t *t, pt_worker_t *w)
{
    item_t *it = PT_CONTAINER_OF(t, item_t, task);
    bool stopping = pt_mpm_stopping(w->mpm);
    if (stopping)
        (void)!send(it->park.fd, "stopping\n", 9, MSG_NOSIGNAL);
    it->park.deadline_ms = stopping ? pt_now_ms() : pt_now_ms() + 60000;
    if (pt_mpm_park(w->mpm, &it->park) != 0)
        abort();
}

static pt_conn_next_t stop_serve_greet(pt_worker_t *w, pt_conn_t *c)
{
    long n = pt_conn_read(c, 4096);
    if (n == PT_EAGAIN)
        return PT_NEXT_PARK_READ;
    if (n <= 0)
        return PT_NEXT_CLOSE;
    item_t *it = calloc(1, sizeof(*it));
    it->park = (pt_park_t){.ops = &two_ops, .fd = dup(c->fd), .events = EPOLLIN,
                           .fd2 = dup(c->fd), .events2 = EPOLLIN,
                           .deadline_ms = pt_now_ms() + 60000, .state = PT_PARK_TUNNEL,
                           .heap_idx = -1};
    it->task.serve_worker = stop_serve_worker;
    (void)!send(it->park.fd, "parked\n", 7, MSG_NOSIGNAL);
    if (pt_mpm_park(w->mpm, &it->park) != 0)
        abort();
    return PT_NEXT_CLOSE;
}

static const pt_conn_proto_t stop_greet = {.name = "stop", .serve_worker = stop_serve_greet};

/* ---- A connection waiting on a borrowed descriptor alone (PT_PARK_UPSTREAM) ------------ */

/* The shape of a request parked while its backend works: the connection parks on fd2 alone
 * (here a dup of its own socket stands in for the backend's), resumes on a worker when fd2
 * is readable, and gives fd2 back; a second wait passes its deadline and is told so
 * (park.timed_out) on a worker, not closed by the listener. */
static int up_marker;

static void up_abandon(pt_conn_t *c)
{
    close(c->park.fd2);
    c->susp = NULL;
}

static pt_conn_next_t up_wait(pt_conn_t *c, int64_t ms)
{
    c->susp = &up_marker;
    c->susp_abandon = up_abandon;
    c->park.fd2 = dup(c->fd);
    c->park.events2 = EPOLLIN | EPOLLRDHUP;
    c->park.in_epoll2 = true; /* borrowed: MOD first, ADD when it has no registration */
    c->park.skip_fd = true;
    c->park.deadline_ms = pt_now_ms() + ms;
    return PT_NEXT_PARK_UPSTREAM;
}

static pt_conn_next_t up_serve(pt_worker_t *w, pt_conn_t *c)
{
    (void)w;
    char buf[16];
    if (c->susp) { /* resumed: give fd2 back, then answer */
        bool timed_out = c->park.timed_out;
        close(c->park.fd2);
        c->park.fd2 = -1;
        c->park.events2 = 0;
        c->park.in_epoll2 = false;
        c->park.skip_fd = false;
        c->susp = NULL;
        if (timed_out) {
            (void)!send(c->fd, "timed out\n", 10, MSG_NOSIGNAL);
            return PT_NEXT_CLOSE;
        }
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n != 4 || memcmp(buf, "ping", 4) != 0)
            return PT_NEXT_CLOSE;
        (void)!send(c->fd, "answered\n", 9, MSG_NOSIGNAL);
        return PT_NEXT_PARK_KEEPALIVE;
    }
    ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN)
        return c->requests ? PT_NEXT_PARK_KEEPALIVE : PT_NEXT_PARK_READ;
    if (n != 5)
        return PT_NEXT_CLOSE;
    c->requests++;
    (void)!send(c->fd, "parked\n", 7, MSG_NOSIGNAL);
    /* "hello": resumed by the client's "ping"; "later": its deadline passes first. */
    return up_wait(c, memcmp(buf, "hello", 5) == 0 ? 10000 : 300);
}

static const pt_conn_proto_t up_greet = {.name = "up", .serve_worker = up_serve};

/* The same wait on a descriptor kept between waits with its registration (a pooled backend
 * connection's shape: pt_suspend_t.reg), registered once and then edge-triggered, through a
 * real child. "early": the "ping" is in the socket before the request parks; whether its
 * event reaches the MPM before the park (then pending runs it) or after (then it claims the
 * park) depends on whether a worker waits in epoll meanwhile, so this checks the whole path
 * works either way. The pending case itself, every time:
 * a_kept_registration_holds_an_answer_that_came_between_waits, below. (The descriptor is a dup of
 * the client's socket, so the client's "hello" makes it ready too: a wake that finds no
 * "ping" waits on, as a proxied request woken early does.) */
static int kept_fd = -1;
static uint64_t kept_reg;

static void kept_abandon(pt_conn_t *c)
{
    c->susp = NULL;
}

static pt_conn_next_t kept_wait(pt_conn_t *c, int64_t deadline_ms)
{
    if (kept_fd < 0)
        kept_fd = dup(c->fd);
    c->susp = &up_marker;
    c->susp_abandon = kept_abandon;
    c->park.fd2 = kept_fd;
    c->park.events2 = EPOLLIN | EPOLLRDHUP;
    c->park.in_epoll2 = true;
    c->park.reg2 = &kept_reg;
    c->park.skip_fd = true;
    c->park.deadline_ms = deadline_ms;
    return PT_NEXT_PARK_UPSTREAM;
}

static pt_conn_next_t kept_serve(pt_worker_t *w, pt_conn_t *c)
{
    (void)w;
    char buf[16];
    if (c->susp) {
        bool timed_out = c->park.timed_out;
        c->park.fd2 = -1;
        c->park.events2 = 0;
        c->park.in_epoll2 = false;
        c->park.reg2 = NULL;
        c->park.skip_fd = false;
        c->susp = NULL;
        if (timed_out) {
            (void)!send(c->fd, "timed out\n", 10, MSG_NOSIGNAL);
            return PT_NEXT_CLOSE;
        }
        ssize_t n = recv(c->fd, buf, 4, MSG_DONTWAIT);
        if (n < 0 && errno == EAGAIN) /* woken by the "hello" it read already: wait on */
            return kept_wait(c, c->park.deadline_ms);
        if (n != 4 || memcmp(buf, "ping", 4) != 0)
            return PT_NEXT_CLOSE;
        (void)!send(c->fd, "answered\n", 9, MSG_NOSIGNAL);
        return PT_NEXT_PARK_KEEPALIVE;
    }
    ssize_t n = recv(c->fd, buf, 5, MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN)
        return c->requests ? PT_NEXT_PARK_KEEPALIVE : PT_NEXT_PARK_READ;
    if (n != 5)
        return PT_NEXT_CLOSE;
    c->requests++;
    (void)!send(c->fd, "parked\n", 7, MSG_NOSIGNAL);
    if (memcmp(buf, "early", 5) == 0) { /* until the client's answer to "parked" is here */
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 5000) != 1)
            return PT_NEXT_CLOSE;
    }
    return kept_wait(c, pt_now_ms() + 10000);
}

static const pt_conn_proto_t kept_greet = {.name = "kept", .serve_worker = kept_serve};

/* ---- A connection's own socket between requests (edge-triggered) --------------------- */

/* Reads what is there, up to 64 bytes, through the transport; answers each 4-byte command
 * ("ping": "pong" at once; "wait": "waited" after 200 ms), then parks for the next one
 * without reading again, as HTTP/1 does. Its socket stays registered edge-triggered, so
 * what comes while a worker serves it, or what a read left in the socket, raises no new
 * event when it parks: the MPM must find it itself (pending, FIONREAD). */
static pt_conn_next_t et_serve(pt_worker_t *w, pt_conn_t *c)
{
    (void)w;
    char buf[64];
    long n = pt_conn_recv_some(c, buf, sizeof(buf));
    if (n == PT_EAGAIN)
        return c->requests ? PT_NEXT_PARK_KEEPALIVE : PT_NEXT_PARK_READ;
    if (n <= 0)
        return PT_NEXT_CLOSE;
    c->requests++;
    for (long i = 0; i + 4 <= n; i += 4) {
        if (memcmp(buf + i, "wait", 4) == 0) {
            usleep(200000);
            (void)!send(c->fd, "waited\n", 7, MSG_NOSIGNAL);
        } else {
            (void)!send(c->fd, "pong\n", 5, MSG_NOSIGNAL);
        }
    }
    return PT_NEXT_PARK_KEEPALIVE;
}

static const pt_conn_proto_t et_greet = {.name = "et", .serve_worker = et_serve};

static pid_t start_child_with(int *port, const pt_conn_proto_t *proto)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(lfd, 16), 0);
    socklen_t al = sizeof(a);
    getsockname(lfd, (struct sockaddr *)&a, &al);
    *port = ntohs(a.sin_port);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        static pt_config_t cfg;
        static pt_vhost_t main_server; /* a connection parked for its head reads its timeouts */
        cfg.threads_per_child = 2;
        cfg.main_server = &main_server;
        static pt_listener_t ls;
        ls.fd = lfd;
        pt_scoreboard_t *sb = pt_scoreboard_create(1, 2, "event");
        pt_child_t ch = {.cfg = &cfg, .ls = &ls, .nls = 1, .sb = sb, .slot = 0,
                         .proto = proto};
        _exit(pt_event_child_main(&ch, false));
    }
    close(lfd);
    return pid;
}

static pid_t start_child(int *port)
{
    return start_child_with(port, &greet);
}

/* A client of the child on loopback. */
static int connect_child(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* The child exits 0 once told to stop (bounded by the test case's timeout). */
static void reap_child(pid_t pid)
{
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Reads one line (up to \n) within 5 s; "" on EOF. */
static void read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ck_assert_int_eq(poll(&p, 1, 5000), 1);
        ssize_t got = read(fd, buf + n, 1);
        if (got <= 0)
            break;
        if (buf[n++] == '\n')
            break;
    }
    buf[n] = '\0';
}

START_TEST(an_item_that_is_not_a_connection_is_parked_served_and_expired)
{
    int port;
    pid_t pid = start_child(&port);
    int fd = connect_child(port);
    ck_assert_int_eq(write(fd, "hello", 5), 5);
    char line[32];
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, "parked\n");
    ck_assert_int_eq(write(fd, "ping", 4), 4);
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, "pong\n");
    int64_t t0 = pt_now_ms();
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, "expired\n");
    ck_assert_int_ge(pt_now_ms() - t0, 150); /* its own deadline, not the first one's */
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, ""); /* and closed */
    close(fd);
    kill(pid, SIGTERM);
    reap_child(pid);
}
END_TEST

/* The connection is served before its greeting arrives: it is parked for its head (the
 * child once crashed there, its test configuration having no main server), then served. */
START_TEST(a_greeting_sent_after_the_accept_is_waited_for)
{
    int port;
    pid_t pid = start_child(&port);
    int fd = connect_child(port);
    /* Not a synchronisation: the greeting is late on purpose, so that the worker finds
     * nothing to read first (the test passes in either order). */
    usleep(200000);
    ck_assert_int_eq(write(fd, "hello", 5), 5);
    char line[32];
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, "parked\n");
    close(fd);
    kill(pid, SIGTERM);
    reap_child(pid);
}
END_TEST

START_TEST(a_park_on_two_descriptors_runs_once_per_claim_and_is_freed_late)
{
    int port;
    pid_t pid = start_child_with(&port, &two_greet);
    int fd = connect_child(port);
    ck_assert_int_eq(write(fd, "hello", 5), 5);
    char line[32];
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, "parked\n");
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(write(fd, "ping", 4), 4);
        read_line(fd, line, sizeof(line));
        ck_assert_str_eq(line, "pong\n");
    }
    /* Nothing more than one pong a ping. */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ck_assert_int_eq(poll(&p, 1, 100), 0);
    /* Expired at its deadline: the MPM shuts the second descriptor (the peer sees the
     * end now) and the item's destroy closes it later. */
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, "");
    close(fd);
    kill(pid, SIGTERM);
    reap_child(pid);
}
END_TEST

START_TEST(a_stop_makes_a_park_in_flight_ready_once_to_learn_of_it)
{
    int port;
    pid_t pid = start_child_with(&port, &stop_greet);
    int fd = connect_child(port);
    ck_assert_int_eq(write(fd, "hello", 5), 5);
    char line[32];
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, "parked\n");
    kill(pid, SIGTERM);
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, "stopping\n");
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, ""); /* then expired, and the child exits */
    close(fd);
    reap_child(pid);
}
END_TEST

START_TEST(a_connection_parked_on_a_borrowed_descriptor_resumes_by_it_or_its_deadline)
{
    int port;
    pid_t pid = start_child_with(&port, &up_greet);
    int fd = connect_child(port);
    char line[32];
    for (int i = 0; i < 20; i++) { /* each wait borrows a new descriptor */
        ck_assert_int_eq(write(fd, "hello", 5), 5);
        read_line(fd, line, sizeof(line));
        ck_assert_str_eq(line, "parked\n");
        ck_assert_int_eq(write(fd, "ping", 4), 4);
        read_line(fd, line, sizeof(line));
        ck_assert_str_eq(line, "answered\n");
    }
    ck_assert_int_eq(write(fd, "later", 5), 5);
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, "parked\n");
    int64_t t0 = pt_now_ms();
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, "timed out\n");
    ck_assert_int_ge(pt_now_ms() - t0, 200);
    read_line(fd, line, sizeof(line));
    ck_assert_str_eq(line, ""); /* then closed */
    close(fd);
    kill(pid, SIGTERM);
    reap_child(pid);
}
END_TEST

/* The "ping" comes while the worker serves the "wait" it read alone (the socket left
 * empty): its event finds the connection not parked, and must not be lost. (If it came
 * before the read, both are read together: the test passes either way.) */
START_TEST(bytes_that_come_while_a_connection_is_served_are_served_next)
{
    int port;
    pid_t pid = start_child_with(&port, &et_greet);
    int fd = connect_child(port);
    char line[32];
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(write(fd, "wait", 4), 4);
        usleep(50000);
        ck_assert_int_eq(write(fd, "ping", 4), 4);
        read_line(fd, line, sizeof(line));
        ck_assert_str_eq(line, "waited\n");
        read_line(fd, line, sizeof(line));
        ck_assert_str_eq(line, "pong\n");
    }
    close(fd);
    kill(pid, SIGTERM);
    reap_child(pid);
}
END_TEST

/* 25 commands in one write; the worker reads 64 bytes of them (16) and parks: the other 9
 * are in the socket already, with no event to come for them. */
START_TEST(bytes_a_read_left_in_the_socket_are_served_next)
{
    int port;
    pid_t pid = start_child_with(&port, &et_greet);
    int fd = connect_child(port);
    char cmds[100], line[32];
    for (int i = 0; i < 25; i++)
        memcpy(cmds + 4 * i, "ping", 4);
    for (int round = 0; round < 5; round++) {
        ck_assert_int_eq(write(fd, cmds, sizeof(cmds)), (ssize_t)sizeof(cmds));
        for (int i = 0; i < 25; i++) {
            read_line(fd, line, sizeof(line));
            ck_assert_str_eq(line, "pong\n");
        }
    }
    close(fd);
    kill(pid, SIGTERM);
    reap_child(pid);
}
END_TEST

START_TEST(a_registration_kept_between_waits_sees_what_came_before_the_wait)
{
    int port;
    pid_t pid = start_child_with(&port, &kept_greet);
    int fd = connect_child(port);
    char line[32];
    for (int i = 0; i < 6; i++) { /* registered by the first wait; the rest borrow it */
        ck_assert_int_eq(write(fd, i < 3 ? "hello" : "early", 5), 5);
        read_line(fd, line, sizeof(line));
        ck_assert_str_eq(line, "parked\n");
        ck_assert_int_eq(write(fd, "ping", 4), 4);
        read_line(fd, line, sizeof(line));
        ck_assert_str_eq(line, "answered\n");
    }
    close(fd);
    kill(pid, SIGTERM);
    reap_child(pid);
}
END_TEST

/* ---- Edge-triggered registrations, driven by hand ------------------------------------ */

/* Without a child: the parks below are put in place and their events taken (as a
 * harvesting worker takes them) by the test itself, so that an event can be made to come
 * while nothing waits for it, every time. */
static int hand_calls;

static pt_task_t *hand_ready(pt_park_t *p, void *mpm)
{
    (void)p, (void)mpm;
    hand_calls++;
    return NULL; /* (the owner goes on here: nothing to queue) */
}

static void hand_expire(pt_park_t *p, void *mpm, bool stopping)
{
    (void)p, (void)mpm, (void)stopping;
}

static void hand_destroy(pt_park_t *p)
{
    (void)p;
}

static const pt_park_ops_t hand_ops = {
    .ready = hand_ready, .expire_listener = hand_expire, .destroy = hand_destroy};

static void hand_init(ev_child_t *ev, int sv[2])
{
    *ev = (ev_child_t){0};
    ev->epfd = epoll_create1(EPOLL_CLOEXEC);
    ck_assert_int_ge(ev->epfd, 0);
    pthread_mutex_init(&ev->tlock, NULL);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    hand_calls = 0;
}

static void hand_fini(ev_child_t *ev, int sv[2])
{
    close(sv[0]);
    if (sv[1] >= 0) /* (a test may have closed the client's end) */
        close(sv[1]);
    close(ev->epfd);
    pthread_mutex_destroy(&ev->tlock);
    free(ev->heap);
    free(ev->fd2s);
}

/* Takes what epoll has now and hands it to ev_ready, as the wait numbered look that
 * returned at now_ns; how many events there were. */
static int deliver_at(ev_child_t *ev, uint64_t look, int64_t now_ns)
{
    struct epoll_event evs[8];
    int n = epoll_wait(ev->epfd, evs, 8, 50);
    for (int i = 0; i < n; i++)
        ck_assert_ptr_null(ev_ready(ev, evs[i].data.u64, evs[i].events, look, now_ns));
    return n;
}

static int deliver(ev_child_t *ev)
{
    return deliver_at(ev, 0, 0);
}

/* A connection's park on sv[0] (et, waiting for its next request) parked for the first time
 * (registered), claimed by the client's first byte, and that byte read: the park is the
 * caller's now, as a worker's that serves the request. */
static void park_and_claim(ev_child_t *ev, int sv[2], pt_park_t *p)
{
    *p = (pt_park_t){.ops = &hand_ops, .fd = sv[0], .events = EPOLLIN | EPOLLRDHUP, .fd2 = -1,
                     .deadline_ms = INT64_MAX, .state = PT_PARK_KEEPALIVE, .heap_idx = -1,
                     .et = true};
    ck_assert_int_eq(ev_park(ev, p), 0);
    ck_assert(p->et_reg && p->in_epoll);
    ck_assert_int_eq(deliver(ev), 0); /* arming for input reports nothing when nothing came */
    ck_assert_int_eq(write(sv[1], "a", 1), 1);
    deliver(ev);
    ck_assert_int_eq(hand_calls, 1); /* claimed, and ours now */
    char b[4];
    ck_assert_int_eq(read(sv[0], b, sizeof(b)), 1);
}

/* A connection's own socket (et): registered at its first park, then parked again with no
 * system call; what came while it was served runs it at once when it parks. */
START_TEST(a_connection_socket_keeps_what_came_while_it_was_served)
{
    ev_child_t ev;
    int sv[2];
    hand_init(&ev, sv);
    pt_park_t p;
    park_and_claim(&ev, sv, &p);
    char b[4];
    p.drained = true; /* (the read came back short) */
    ck_assert_int_eq(write(sv[1], "b", 1), 1); /* while it is served */
    ck_assert_int_eq(deliver(&ev), 1);
    ck_assert_int_eq(hand_calls, 1);  /* not parked: kept */
    ck_assert_int_eq(ev_park(&ev, &p), 0);
    ck_assert_int_eq(hand_calls, 2);  /* run at once */
    ck_assert_int_eq(read(sv[0], b, sizeof(b)), 1);
    p.drained = true;
    ck_assert_int_eq(ev_park(&ev, &p), 0);
    ck_assert_int_eq(deliver(&ev), 0);
    ck_assert_int_eq(hand_calls, 2);  /* parked, waiting */
    /* Bytes left in the socket by a read that took all it asked for: no event comes for
     * them, and drained is false: the park looks (FIONREAD). */
    ck_assert_int_eq(write(sv[1], "cd", 2), 2);
    deliver(&ev);
    ck_assert_int_eq(hand_calls, 3);
    ck_assert_int_eq(read(sv[0], b, 1), 1);
    ck_assert_int_eq(deliver(&ev), 0);
    ck_assert_int_eq(ev_park(&ev, &p), 0); /* (re-armed: epoll reports them) */
    deliver(&ev);
    ck_assert_int_eq(hand_calls, 4);
    hand_fini(&ev, sv);
}
END_TEST

/* A borrowed backend socket whose holder keeps its registration (reg2): registered by its
 * first wait, borrowed by the next ones with no system call; an answer that came while no
 * wait was on it runs the next wait at once. */
START_TEST(a_kept_registration_holds_an_answer_that_came_between_waits)
{
    ev_child_t ev;
    int sv[2];
    hand_init(&ev, sv);
    uint64_t reg = 0;
    pt_park_t p = {.ops = &hand_ops, .fd = -1, .heap_idx = -1, .state = PT_PARK_UPSTREAM,
                   .deadline_ms = INT64_MAX};
    char b[4];
    for (int i = 0; i < 3; i++) {
        p.fd2 = sv[0];
        p.events2 = EPOLLIN | EPOLLRDHUP;
        p.in_epoll2 = true;
        p.reg2 = &reg;
        p.skip_fd = true;
        int before = hand_calls;
        if (i == 2) { /* the answer comes before the wait */
            ck_assert_int_eq(write(sv[1], "x", 1), 1);
            ck_assert_int_eq(deliver(&ev), 1);
            ck_assert_int_eq(hand_calls, before); /* nobody waits: kept */
        }
        ck_assert_int_eq(ev_park(&ev, &p), 0);
        ck_assert(reg != 0);
        if (i < 2) {
            ck_assert_int_eq(deliver(&ev), 0);
            ck_assert_int_eq(write(sv[1], "x", 1), 1);
            ck_assert_int_eq(deliver(&ev), 1);
        }
        ck_assert_int_eq(hand_calls, before + 1);
        ck_assert_int_eq(read(sv[0], b, sizeof(b)), 1);
        p.fd2 = -1; /* given back, as its owner does */
        p.events2 = 0;
        p.in_epoll2 = false;
        p.reg2 = NULL;
    }
    ck_assert_int_eq(deliver(&ev), 0);
    hand_fini(&ev, sv);
}
END_TEST

/* A tunnel that watches only the backend this time (its client's events 0: the backend
 * does not read what the client sent): the client's socket, registered edge-triggered at an
 * earlier park, must not wake it for a hang-up or an error it is not waiting on; kept for
 * the park that watches the client again. (Arming with events 0 took the descriptor out of
 * the set before, for this reason: a ready op with nothing to do for it is woken again at
 * every re-park, a worker spinning until the tunnel's idle timeout.) */
START_TEST(a_hang_up_of_a_socket_not_watched_this_time_does_not_wake_its_park)
{
    ev_child_t ev;
    int sv[2], up[2];
    hand_init(&ev, sv);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, up), 0);
    pt_park_t p;
    park_and_claim(&ev, sv, &p); /* registered, as at its request */
    /* Upgraded: the tunnel waits on the backend alone (room to write to it). */
    p.state = PT_PARK_TUNNEL;
    p.events = 0;
    p.fd2 = up[0];
    p.events2 = EPOLLIN;
    ck_assert_int_eq(ev_park(&ev, &p), 0);
    deliver(&ev); /* (what arming reports of the client's socket: room to write) */
    ck_assert_int_eq(hand_calls, 1);
    close(sv[1]); /* the client goes: a hang-up on its socket */
    sv[1] = -1;
    for (int i = 0; i < 5; i++) {
        deliver(&ev);
        if (p.heap_idx < 0) /* woken: its owner parks again, the same way */
            ck_assert_int_eq(ev_park(&ev, &p), 0);
    }
    ck_assert_int_eq(hand_calls, 1);
    close(up[0]);
    close(up[1]);
    hand_fini(&ev, sv);
}
END_TEST

/* A lingering connection whose client keeps sending: each wake-up drains a budget and parks
 * again (linger_drain), so that the thread that took its event (the listener, or a
 * harvesting worker) goes on to its other events. Parking again while bytes are left must
 * not run it again here and now. */
static int budget_calls;
static ev_child_t *budget_ev;

static pt_task_t *budget_ready(pt_park_t *p, void *mpm)
{
    (void)mpm;
    budget_calls++;
    char b[1];
    ck_assert_int_eq(read(p->fd, b, 1), 1); /* (a full read: drained stays false) */
    ck_assert_int_eq(ev_park(budget_ev, p), 0);
    return NULL;
}

static const pt_park_ops_t budget_ops = {
    .ready = budget_ready, .expire_listener = hand_expire, .destroy = hand_destroy};

START_TEST(a_park_with_bytes_left_after_its_budget_runs_once_per_event)
{
    ev_child_t ev;
    int sv[2];
    hand_init(&ev, sv);
    budget_ev = &ev;
    budget_calls = 0;
    pt_park_t p = {.ops = &budget_ops, .fd = sv[0], .events = EPOLLIN | EPOLLRDHUP,
                   .fd2 = -1, .deadline_ms = INT64_MAX, .state = PT_PARK_LINGER,
                   .heap_idx = -1, .et = true};
    ck_assert_int_eq(ev_park(&ev, &p), 0);
    ck_assert_int_eq(write(sv[1], "0123456789", 10), 10);
    deliver(&ev);
    /* One budget for the one event; the rest when the thread comes back to epoll. */
    ck_assert_int_eq(budget_calls, 1);
    for (int i = 0; i < 20 && budget_calls < 10; i++)
        deliver(&ev);
    ck_assert_int_eq(budget_calls, 10); /* and none of it lost */
    hand_fini(&ev, sv);
}
END_TEST

/* A park that arms its socket again (a tunnel, an HTTP/2 session waiting on its streams)
 * for input alone: arming reports nothing when nothing came, as EPOLLONESHOT did; room to
 * write is not news to a park that does not wait for it (an event, a woken thread and the
 * park lock per park, for nothing). */
/* A claim for input by a wait that began after the park says when the bytes were surely
 * there (ready_ns, for walk.h); a wait that began before the park (its owner may have read
 * those bytes meanwhile), a park that runs at once, or one for output says nothing. */
START_TEST(a_claim_tells_when_the_bytes_were_surely_there)
{
    ev_child_t ev;
    int sv[2];
    hand_init(&ev, sv);
    pt_park_t p;
    park_and_claim(&ev, sv, &p);
    ck_assert_int_eq(p.ready_ns, 0); /* (wait number 0: none) */
    char b[4];
    /* Parked, then a wait begins and finds bytes. */
    p.drained = true;
    ck_assert_int_eq(ev_park(&ev, &p), 0);
    uint64_t look = ev_look(&ev);
    ck_assert_int_eq(write(sv[1], "b", 1), 1);
    ck_assert_int_eq(deliver_at(&ev, look, 1000), 1);
    ck_assert_int_eq(hand_calls, 2);
    ck_assert_int_eq(p.ready_ns, 1000);
    ck_assert_int_eq(read(sv[0], b, sizeof(b)), 1);
    /* A wait that began before the park. */
    look = ev_look(&ev);
    p.drained = true;
    ck_assert_int_eq(ev_park(&ev, &p), 0);
    ck_assert_int_eq(write(sv[1], "c", 1), 1);
    ck_assert_int_eq(deliver_at(&ev, look, 2000), 1);
    ck_assert_int_eq(hand_calls, 3);
    ck_assert_int_eq(p.ready_ns, 0);
    ck_assert_int_eq(read(sv[0], b, sizeof(b)), 1);
    /* Bytes that came while it was served: the park runs at once, and says nothing. */
    p.ready_ns = 1000;
    p.drained = true;
    ck_assert_int_eq(write(sv[1], "d", 1), 1);
    ck_assert_int_eq(deliver_at(&ev, ev_look(&ev), 3000), 1); /* kept: not parked */
    ck_assert_int_eq(ev_park(&ev, &p), 0);
    ck_assert_int_eq(hand_calls, 4);
    ck_assert_int_eq(p.ready_ns, 0);
    ck_assert_int_eq(read(sv[0], b, sizeof(b)), 1);
    /* A wait for room to write, with bytes there too. */
    p.events = EPOLLOUT;
    p.drained = true;
    ck_assert_int_eq(ev_park(&ev, &p), 0);
    ck_assert_int_eq(write(sv[1], "e", 1), 1);
    deliver_at(&ev, ev_look(&ev), 4000);
    ck_assert_int_eq(hand_calls, 5);
    ck_assert_int_eq(p.ready_ns, 0);
    hand_fini(&ev, sv);
}
END_TEST

START_TEST(arming_a_socket_for_input_reports_nothing_when_nothing_came)
{
    ev_child_t ev;
    int sv[2], up[2];
    hand_init(&ev, sv);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, up), 0);
    pt_park_t p;
    park_and_claim(&ev, sv, &p); /* (its first arming reports nothing: asserted there) */
    char b[4];
    p.state = PT_PARK_TUNNEL;
    p.fd2 = up[0];
    p.events2 = EPOLLIN;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(ev_park(&ev, &p), 0);
        ck_assert_int_eq(deliver(&ev), 0);
        ck_assert_int_eq(write(up[1], "u", 1), 1); /* the backend speaks: ours again */
        ck_assert_int_eq(deliver(&ev), 1);
        ck_assert_int_eq(hand_calls, 2 + i);
        ck_assert_int_eq(read(up[0], b, sizeof(b)), 1);
    }
    /* A wait for room to write still learns of it at once. */
    p.events = EPOLLOUT;
    p.events2 = 0;
    ck_assert_int_eq(ev_park(&ev, &p), 0);
    deliver(&ev);
    ck_assert_int_eq(hand_calls, 5);
    close(up[0]);
    close(up[1]);
    hand_fini(&ev, sv);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("event_park");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, an_item_that_is_not_a_connection_is_parked_served_and_expired);
    tcase_add_test(tc, a_greeting_sent_after_the_accept_is_waited_for);
    tcase_add_test(tc, a_park_on_two_descriptors_runs_once_per_claim_and_is_freed_late);
    tcase_add_test(tc, a_stop_makes_a_park_in_flight_ready_once_to_learn_of_it);
    tcase_add_test(tc, a_connection_parked_on_a_borrowed_descriptor_resumes_by_it_or_its_deadline);
    tcase_add_test(tc, bytes_that_come_while_a_connection_is_served_are_served_next);
    tcase_add_test(tc, bytes_a_read_left_in_the_socket_are_served_next);
    tcase_add_test(tc, a_registration_kept_between_waits_sees_what_came_before_the_wait);
    tcase_add_test(tc, a_connection_socket_keeps_what_came_while_it_was_served);
    tcase_add_test(tc, a_kept_registration_holds_an_answer_that_came_between_waits);
    tcase_add_test(tc, a_hang_up_of_a_socket_not_watched_this_time_does_not_wake_its_park);
    tcase_add_test(tc, a_park_with_bytes_left_after_its_budget_runs_once_per_event);
    tcase_add_test(tc, arming_a_socket_for_input_reports_nothing_when_nothing_came);
    tcase_add_test(tc, a_claim_tells_when_the_bytes_were_surely_there);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
