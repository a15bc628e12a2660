/* The scoreboard in shared memory: one anonymous shared mapping holds the header, the
 * process slots, the worker slots and the per-process request counters, so a fork shares
 * it all. Workers record what they do here; server-status and metrics read it. */
#include "scoreboard.h"

#include "common.h"

#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

/* Latency histogram bounds, Prometheus-style (seconds: .001 .. 10). */
const int64_t pt_sb_duration_bounds_us[PT_SB_DURATION_BUCKETS] = {
    1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
    10000000,
};

#define SB_MPM_NAME_LEN 16
#define SB_MAX_SLOTS (1 << 20) /* far above any ServerLimit x ThreadLimit Apache allows */

/* The one process-wide pointer the design allows besides the MPM's own state. */
static pt_scoreboard_t *current_sb;

static size_t align_up(size_t n, size_t a)
{
    return (n + a - 1) / a * a;
}

/* Offsets of each part of the region; the size is kept to unmap it. */
typedef struct {
    size_t procs, workers, counters, name, total;
} sb_layout_t;

static sb_layout_t sb_layout(int server_limit, int thread_limit)
{
    sb_layout_t l;
    size_t nprocs = (size_t)server_limit, nworkers = nprocs * (size_t)thread_limit;
    l.procs = align_up(sizeof(pt_scoreboard_t), 64);
    l.workers = align_up(l.procs + nprocs * sizeof(pt_sb_process_t), 64);
    l.counters = align_up(l.workers + nworkers * sizeof(pt_sb_worker_t), 64);
    l.name = l.counters + nprocs * sizeof(pt_sb_counters_t);
    l.total = l.name + SB_MPM_NAME_LEN;
    return l;
}

pt_scoreboard_t *pt_scoreboard_create(int server_limit, int thread_limit, const char *mpm)
{
    if (server_limit <= 0 || thread_limit <= 0 ||
        (long long)server_limit * thread_limit > SB_MAX_SLOTS)
        return NULL;
    sb_layout_t l = sb_layout(server_limit, thread_limit);
    char *base = mmap(NULL, l.total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    /* An anonymous mapping is zero-filled: pids 0, counters 0; only states need setting. */
    pt_scoreboard_t *sb = (pt_scoreboard_t *)base;
    sb->server_limit = server_limit;
    sb->thread_limit = thread_limit;
    sb->start_wall_us = sb->restart_wall_us = pt_wall_us();
    atomic_init(&sb->generation, 0);
    sb->procs = (pt_sb_process_t *)(base + l.procs);
    sb->workers = (pt_sb_worker_t *)(base + l.workers);
    sb->counters = (pt_sb_counters_t *)(base + l.counters);
    /* The name is copied in: the caller's string may live in a config arena that a
     * restart frees, while the scoreboard outlives every generation. */
    char *name = base + l.name;
    snprintf(name, SB_MPM_NAME_LEN, "%s", mpm ? mpm : "");
    sb->mpm = name;
    for (size_t i = 0; i < (size_t)server_limit * (size_t)thread_limit; i++)
        atomic_init(&sb->workers[i].state, (char)PT_SB_DEAD);
    return sb;
}

void pt_scoreboard_destroy(pt_scoreboard_t *sb)
{
    if (!sb)
        return;
    if (current_sb == sb)
        current_sb = NULL;
    sb_layout_t l = sb_layout(sb->server_limit, sb->thread_limit);
    munmap(sb, l.total);
}

pt_sb_worker_t *pt_sb_worker(pt_scoreboard_t *sb, int proc, int thread)
{
    if (!sb || proc < 0 || proc >= sb->server_limit || thread < 0 || thread >= sb->thread_limit)
        return NULL;
    return &sb->workers[(size_t)proc * (size_t)sb->thread_limit + (size_t)thread];
}

/* Copies a string into a fixed slot field. Readers (the status page, a thread of this child
 * or another process) may see it half written, never past its end: bytes are stored one by
 * one with relaxed atomics, as pt_sb_slot_text reads them, and the last byte stays NUL. */
static inline void slot_copy(char *dst, size_t cap, const char *src)
{
    if (!src)
        src = "";
    /* Already there (the client and the server of a keep-alive connection, a repeated
     * request line): nothing to store. A slot has one writer, this thread, so its own
     * plain read races with nothing. One strcmp tells the usual case (dst ends within cap:
     * its last byte stays NUL) at about half the cost of a length and a memcmp; a longer
     * src, kept cut, is compared cut. */
    if (strcmp(dst, src) == 0)
        return;
    size_t n = strnlen(src, cap - 1);
    if (n == cap - 1 && memcmp(dst, src, n) == 0 && dst[n] == '\0')
        return;
    for (size_t i = 0; i < n; i++)
        __atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
    __atomic_store_n(&dst[n], '\0', __ATOMIC_RELAXED);
    __atomic_store_n(&dst[cap - 1], '\0', __ATOMIC_RELAXED);
}

#define STORE(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define ADD(field, v) __atomic_fetch_add(&(field), (v), __ATOMIC_RELAXED)

void pt_sb_set_state(pt_sb_worker_t *w, pt_sb_state_t st)
{
    if (!w)
        return;
    /* A worker back at READY waits for a new connection: its per-connection count restarts
     * (Apache's "Acc" first figure). */
    if (st == PT_SB_READY)
        STORE(w->conn_count, 0);
    atomic_store_explicit(&w->state, (char)st, memory_order_relaxed);
}

void pt_sb_request_begin(pt_sb_worker_t *w, const char *request_line, const char *client,
                         const char *vhost, int64_t start_wall_us)
{
    if (!w)
        return;
    STORE(w->req_start_us, start_wall_us > 0 ? start_wall_us : pt_wall_us());
    slot_copy(w->request, sizeof(w->request), request_line);
    slot_copy(w->client, sizeof(w->client), client);
    slot_copy(w->vhost, sizeof(w->vhost), vhost);
    atomic_store_explicit(&w->state, (char)PT_SB_WRITE, memory_order_relaxed);
}

static int duration_bucket(int64_t us)
{
    int i = 0;
    while (i < PT_SB_DURATION_BUCKETS && us > pt_sb_duration_bounds_us[i])
        i++;
    return i; /* PT_SB_DURATION_BUCKETS: +Inf */
}

/* The threads of one child share its counters, hence atomic adds (relaxed: they are
 * statistics, ordered with nothing). */
static void count_status(pt_sb_counters_t *c, int status, int method_id)
{
    int cls = status / 100;
    ADD(c->by_class[cls >= 1 && cls <= 5 ? cls : 0], 1);
    unsigned m = (unsigned)method_id;
    ADD(c->by_method[m < PT_ARRAY_LEN(c->by_method) ? m : 0], 1);
}

void pt_sb_request_commit(pt_sb_counters_t *c, bool *counted, int status, int method_id)
{
    if (!c || *counted)
        return;
    count_status(c, status, method_id);
    *counted = true;
}

void pt_sb_request_end(pt_sb_worker_t *w, pt_sb_counters_t *c, bool counted, int status,
                       int method_id, int64_t bytes, int64_t duration_us, int64_t end_wall_us)
{
    if (!w && !c)
        return;
    int64_t dur = duration_us > 0 ? duration_us : 0;
    uint64_t n = bytes > 0 ? (uint64_t)bytes : 0;
    if (c) {
        /* Not committed: no response head went out (the client left first). */
        if (!counted)
            count_status(c, status, method_id);
        ADD(c->bytes, n);
        ADD(c->duration_buckets[duration_bucket(dur)], 1);
        ADD(c->duration_sum_us, (uint64_t)dur);
    }
    if (!w)
        return;
    /* One writer per slot: plain read-modify-write, stored relaxed for the readers. */
    STORE(w->access_count, w->access_count + 1);
    STORE(w->conn_count, w->conn_count + 1);
    STORE(w->bytes_served, w->bytes_served + n);
    STORE(w->last_duration_us, dur);
    STORE(w->last_used_us, end_wall_us > 0 ? end_wall_us : pt_wall_us());
}

pt_scoreboard_t *pt_scoreboard_get(void)
{
    return current_sb;
}

void pt_scoreboard_set(pt_scoreboard_t *sb)
{
    current_sb = sb;
}

/* ---- Readers ------------------------------------------------------------------------ */

#define LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

size_t pt_sb_slot_text(const char *field, size_t cap, char *out)
{
    size_t n = 0;
    while (n + 1 < cap) {
        char ch = __atomic_load_n(&field[n], __ATOMIC_RELAXED);
        if (ch == '\0')
            break;
        out[n++] = ch;
    }
    out[n] = '\0';
    return n;
}

bool pt_sb_state_busy(char st)
{
    return st != PT_SB_DEAD && st != PT_SB_READY && st != PT_SB_STARTING &&
           st != PT_SB_IDLE_KILL;
}

char pt_sb_slot_state(const pt_scoreboard_t *sb, int proc, int thread)
{
    if (atomic_load_explicit(&sb->procs[proc].pid, memory_order_relaxed) == 0)
        return PT_SB_DEAD;
    size_t i = (size_t)proc * (size_t)sb->thread_limit + (size_t)thread;
    return atomic_load_explicit(&sb->workers[i].state, memory_order_relaxed);
}

static void sum_counters(const pt_sb_counters_t *c, pt_sb_totals_t *t)
{
    for (size_t k = 0; k < PT_ARRAY_LEN(c->by_class); k++) {
        uint64_t v = LOAD(c->by_class[k]);
        t->by_class[k] += v;
        t->accesses += v;
    }
    for (size_t k = 0; k < PT_ARRAY_LEN(c->by_method); k++)
        t->by_method[k] += LOAD(c->by_method[k]);
    for (size_t k = 0; k < PT_ARRAY_LEN(c->duration_buckets); k++)
        t->duration_buckets[k] += LOAD(c->duration_buckets[k]);
    t->bytes += LOAD(c->bytes);
    t->duration_us += LOAD(c->duration_sum_us);
}

/* Each slot is read once: its letter goes to the map and the same letter is counted, so the
 * page's totals always agree with its Scoreboard line. Busy and idle as mod_status counts
 * them: only processes that are not stopping, idle only in the current generation. */
static void sum_process(const pt_scoreboard_t *sb, int p, pt_sb_totals_t *t, char *map)
{
    const pt_sb_process_t *ps = &sb->procs[p];
    t->processes++;
    bool quiescing = atomic_load_explicit(&ps->quiescing, memory_order_relaxed);
    bool current = ps->generation == atomic_load_explicit(&sb->generation, memory_order_relaxed);
    if (quiescing)
        t->stopping++;
    t->conns_total += atomic_load_explicit(&ps->conns_total, memory_order_relaxed);
    t->conns_reading += atomic_load_explicit(&ps->conns_reading, memory_order_relaxed);
    t->conns_writing += atomic_load_explicit(&ps->conns_writing, memory_order_relaxed);
    t->conns_keepalive += atomic_load_explicit(&ps->conns_keepalive, memory_order_relaxed);
    t->conns_lingering += atomic_load_explicit(&ps->conns_lingering, memory_order_relaxed);
    t->conns_handshake += atomic_load_explicit(&ps->conns_handshake, memory_order_relaxed);
    t->conns_backend += atomic_load_explicit(&ps->conns_backend, memory_order_relaxed);
    for (int th = 0; th < sb->thread_limit; th++) {
        size_t i = (size_t)p * (size_t)sb->thread_limit + (size_t)th;
        char st = atomic_load_explicit(&sb->workers[i].state, memory_order_relaxed);
        if (map)
            map[i] = st;
        if (quiescing)
            continue;
        if (st == PT_SB_READY)
            t->idle += current;
        else if (pt_sb_state_busy(st))
            t->busy++;
    }
}

void pt_sb_totals(const pt_scoreboard_t *sb, pt_sb_totals_t *t, char *map)
{
    memset(t, 0, sizeof(*t));
    if (!sb)
        return;
    for (int p = 0; p < sb->server_limit; p++) {
        sum_counters(&sb->counters[p], t);
        /* The pid is read once too: a process that exits meanwhile is either all in (its
         * letters and its workers) or all out ('.'). */
        if (atomic_load_explicit(&sb->procs[p].pid, memory_order_relaxed) != 0)
            sum_process(sb, p, t, map);
        else if (map)
            memset(map + (size_t)p * (size_t)sb->thread_limit, PT_SB_DEAD,
                   (size_t)sb->thread_limit);
    }
}
