/* The scoreboard: one slot per worker (process x thread, plus one per prefork child) in
 * shared memory, written by the worker that owns the slot and read by the parent (spare
 * management), server-status and metrics. Created by the parent before the first fork;
 * children inherit the mapping. Fields are written without locks: a reader may see a slot
 * mid-update, which status pages tolerate (Apache's scoreboard works the same way). */
#ifndef PT_SCOREBOARD_H
#define PT_SCOREBOARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Worker states, Apache's letters. */
typedef enum {
    PT_SB_DEAD = '.',        /* open slot, no thread */
    PT_SB_STARTING = 'S',
    PT_SB_READY = '_',       /* waiting for a connection */
    PT_SB_READ = 'R',        /* reading a request */
    PT_SB_WRITE = 'W',       /* handling it, sending the reply */
    PT_SB_KEEPALIVE = 'K',   /* worker MPM: holding an idle connection */
    PT_SB_LOG = 'L',
    PT_SB_CLOSING = 'C',
    PT_SB_GRACEFUL = 'G',    /* finishing before its child exits */
    PT_SB_IDLE_KILL = 'I',
} pt_sb_state_t;

#define PT_SB_REQ_LEN 128
#define PT_SB_CLIENT_LEN 48
#define PT_SB_VHOST_LEN 64

typedef struct {
    _Atomic char state;          /* pt_sb_state_t */
    uint32_t generation;
    int64_t req_start_us;        /* wall clock at the start of the current request */
    int64_t last_used_us;        /* wall clock when it last finished one */
    uint64_t access_count;       /* requests served by this slot */
    uint64_t bytes_served;
    uint64_t conn_count;         /* requests on the current connection */
    int64_t last_duration_us;
    char request[PT_SB_REQ_LEN]; /* the request line (truncated) */
    char client[PT_SB_CLIENT_LEN];
    char vhost[PT_SB_VHOST_LEN];
} pt_sb_worker_t;

typedef struct {
    _Atomic pid_t pid;           /* 0 when the slot is free */
    uint32_t generation;
    _Atomic bool quiescing;      /* told to stop accepting (graceful) */
    /* Connections the child's listener holds, by state (event MPM). */
    _Atomic uint32_t conns_total, conns_keepalive, conns_lingering, conns_reading,
        conns_writing, conns_handshake;
    _Atomic uint32_t conns_backend; /* requests parked while their backend works */
    _Atomic int64_t fcgi_spool_bytes; /* chunked bodies the child holds spooled for FastCGI
                                         (the sum over children is ProxyFCGISpoolLimit's) */
} pt_sb_process_t;

/* Request counters for metrics, kept per child slot so writers never share a line. */
#define PT_SB_DURATION_BUCKETS 12 /* upper bounds in pt_sb_duration_bounds_us[] */
typedef struct pt_sb_counters {
    uint64_t by_class[6];        /* 1xx..5xx, [0] = other */
    uint64_t by_method[10];      /* pt_method_t order: OTHER, GET, HEAD, POST, ... */
    uint64_t bytes;
    uint64_t duration_buckets[PT_SB_DURATION_BUCKETS + 1]; /* last: +Inf */
    uint64_t duration_sum_us;
} pt_sb_counters_t;

typedef struct {
    int server_limit;            /* process slots */
    int thread_limit;            /* worker slots per process */
    int64_t start_wall_us;       /* parent start */
    int64_t restart_wall_us;     /* last (re)start of the configuration */
    _Atomic uint32_t generation;
    _Atomic bool stopping;       /* the parent has begun a stop (TERM, INT or WINCH): set
                                    before the listeners close, never cleared */
    const char *mpm;             /* "event", "worker", "prefork" */
    pt_sb_process_t *procs;      /* [server_limit] */
    pt_sb_worker_t *workers;     /* [server_limit * thread_limit] */
    pt_sb_counters_t *counters;  /* [server_limit] */
} pt_scoreboard_t;

extern const int64_t pt_sb_duration_bounds_us[PT_SB_DURATION_BUCKETS];

/* Maps a shared scoreboard for server_limit x thread_limit slots. NULL on failure. */
pt_scoreboard_t *pt_scoreboard_create(int server_limit, int thread_limit, const char *mpm);
void pt_scoreboard_destroy(pt_scoreboard_t *sb);
pt_sb_worker_t *pt_sb_worker(pt_scoreboard_t *sb, int proc, int thread);

/* A worker records what it is doing (NULL slot or counters: no-op), from plain values so
 * that the scoreboard knows no request. begin: state W, the request line, client, vhost,
 * start time (wall clock, us; 0: now). end: counters (status class and method unless
 * counted already, bytes, duration histogram), access_count, the last use at end_wall_us
 * (wall clock, us; 0: now); the caller sets the state. */
void pt_sb_request_begin(pt_sb_worker_t *w, const char *request_line, const char *client,
                         const char *vhost, int64_t start_wall_us);
void pt_sb_request_end(pt_sb_worker_t *w, pt_sb_counters_t *c, bool counted, int status,
                       int method_id, int64_t bytes, int64_t duration_us, int64_t end_wall_us);
/* The response writer calls this once the status is final, before any byte goes out: the
 * request is counted by status class and method in c (NULL: no-op) now, once (*counted
 * says it was), so a client that has its answer finds it counted; end, told counted, then
 * adds only bytes and duration. method_id: pt_method_t order (OTHER, GET, HEAD, ...). */
void pt_sb_request_commit(pt_sb_counters_t *c, bool *counted, int status, int method_id);
void pt_sb_set_state(pt_sb_worker_t *w, pt_sb_state_t st);

/* The scoreboard of this process (set by the MPM; NULL in unit tests and before start). */
pt_scoreboard_t *pt_scoreboard_get(void);
void pt_scoreboard_set(pt_scoreboard_t *sb);

/* What server-status and metrics show, summed in one pass. Requests, bytes and durations
 * come from the counters of every process slot (they outlive the children that filled
 * them); workers and connections only from live processes (pid != 0). */
typedef struct {
    uint64_t accesses, bytes, duration_us;
    uint64_t by_class[6], by_method[10];
    uint64_t duration_buckets[PT_SB_DURATION_BUCKETS + 1]; /* per bucket, not cumulative */
    int busy, idle, processes, stopping; /* processes: live; stopping: of those, quiescing */
    uint64_t conns_total, conns_reading, conns_writing, conns_keepalive, conns_lingering,
        conns_handshake, conns_backend;
} pt_sb_totals_t;

/* One read of every slot. busy and idle count as Apache's mod_status: workers of live
 * processes that are not stopping (idle ones only in the current generation); map, when not
 * NULL, gets the server_limit x thread_limit letters of that same read (not NUL-terminated),
 * so a page's totals and its Scoreboard line always agree. */
void pt_sb_totals(const pt_scoreboard_t *sb, pt_sb_totals_t *t, char *map);
/* The state shown for a slot: '.' when its process is gone, whatever the slot last said. */
char pt_sb_slot_state(const pt_scoreboard_t *sb, int proc, int thread);
/* Busy as Apache's BusyWorkers counts: neither open, idle, starting nor being cleaned up. */
/* Copies a slot's text field (request, client, vhost) into out (cap bytes, the field's
 * size), as it is at this moment: the worker may be rewriting it. Returns its length. */
size_t pt_sb_slot_text(const char *field, size_t cap, char *out);
bool pt_sb_state_busy(char st);

#endif
