/* Unit tests for the scoreboard: layout, slot updates from a request, counters, the totals
 * that status pages read, and sharing across fork. */
#include "conn.h"
#include "mpm/scoreboard.h"
#include "request.h"

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int peer;
    pt_conn_t *c;
    pt_arena_t *a;
    pt_config_t cfg;
    pt_vhost_t vh;
    pt_request_t r;
} fixture_t;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A request on a connection whose peer is 192.0.2.7 (the socket itself is a socketpair). */
static void setup_fixture(fixture_t *f, const char *line, const char *vhost)
{
    memset(f, 0, sizeof(*f));
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    f->peer = sv[1];
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(40000)};
    inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
    f->c = pt_conn_create(sv[0], &f->cfg, (struct sockaddr *)&sin, sizeof(sin));
    f->a = pt_arena_create(0);
    f->vh.server_name = vhost;
    f->cfg.main_server = &f->vh;
    f->r.arena = f->a;
    f->r.conn = f->c;
    f->r.cfg = &f->cfg;
    f->r.vhost = &f->vh;
    f->r.the_request = line;
    f->r.method_id = PT_METHOD_GET;
    f->r.status = 200;
}

static void teardown_fixture(fixture_t *f)
{
    pt_conn_destroy(f->c);
    close(f->peer);
    pt_arena_destroy(f->a);
}

/* The scoreboard takes plain values; these read them from a request as the HTTP/1 driver
 * and the response writer do. */
static void sb_begin(pt_sb_worker_t *w, const pt_request_t *r)
{
    pt_sb_request_begin(w, r->the_request, r->conn ? pt_request_client_ip(r) : NULL,
                        r->vhost ? r->vhost->server_name : NULL, r->start_wall_us);
}

static void sb_end(pt_sb_worker_t *w, pt_sb_counters_t *c, const pt_request_t *r)
{
    int64_t dur = r->start_mono_us > 0 ? pt_mono_us() - r->start_mono_us : 0;
    pt_sb_request_end(w, c, r->sb_counted && r->sb_counters == c, r->status,
                      (int)r->method_id, r->bytes_sent, dur, 0);
}

START_TEST(creates_every_slot_dead_and_every_process_free)
{
    pt_scoreboard_t *sb = pt_scoreboard_create(3, 5, "worker");
    ck_assert_ptr_nonnull(sb);
    ck_assert_int_eq(sb->server_limit, 3);
    ck_assert_int_eq(sb->thread_limit, 5);
    ck_assert_str_eq(sb->mpm, "worker");
    ck_assert_uint_eq(atomic_load(&sb->generation), 0);
    ck_assert(sb->start_wall_us > 0);
    ck_assert(sb->restart_wall_us == sb->start_wall_us);
    for (int i = 0; i < 15; i++) {
        ck_assert_int_eq(atomic_load(&sb->workers[i].state), PT_SB_DEAD);
        ck_assert_uint_eq(sb->workers[i].access_count, 0);
    }
    for (int p = 0; p < 3; p++) {
        ck_assert_int_eq(atomic_load(&sb->procs[p].pid), 0);
        ck_assert_uint_eq(sb->counters[p].bytes, 0);
    }
    /* The last counter slot is writable: the mapping covers all of it. */
    sb->counters[2].duration_buckets[PT_SB_DURATION_BUCKETS] = 1;
    pt_scoreboard_destroy(sb);
}
END_TEST

START_TEST(refuses_empty_or_absurd_sizes)
{
    ck_assert_ptr_null(pt_scoreboard_create(0, 4, "event"));
    ck_assert_ptr_null(pt_scoreboard_create(4, 0, "event"));
    ck_assert_ptr_null(pt_scoreboard_create(-1, 4, "event"));
    ck_assert_ptr_null(pt_scoreboard_create(100000, 100000, "event"));
}
END_TEST

START_TEST(keeps_its_own_copy_of_the_mpm_name)
{
    char name[] = "prefork";
    pt_scoreboard_t *sb = pt_scoreboard_create(1, 1, name);
    name[0] = 'X';
    ck_assert_str_eq(sb->mpm, "prefork");
    pt_scoreboard_destroy(sb);
}
END_TEST

START_TEST(finds_worker_slots_by_process_and_thread_within_bounds)
{
    pt_scoreboard_t *sb = pt_scoreboard_create(2, 3, "event");
    ck_assert_ptr_eq(pt_sb_worker(sb, 0, 0), &sb->workers[0]);
    ck_assert_ptr_eq(pt_sb_worker(sb, 1, 2), &sb->workers[5]);
    ck_assert_ptr_null(pt_sb_worker(sb, 2, 0));
    ck_assert_ptr_null(pt_sb_worker(sb, 0, 3));
    ck_assert_ptr_null(pt_sb_worker(sb, -1, 0));
    ck_assert_ptr_null(pt_sb_worker(NULL, 0, 0));
    pt_scoreboard_destroy(sb);
}
END_TEST

START_TEST(shares_slots_with_a_forked_child)
{
    pt_scoreboard_t *sb = pt_scoreboard_create(1, 2, "prefork");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        pt_sb_set_state(pt_sb_worker(sb, 0, 1), PT_SB_KEEPALIVE);
        sb->counters[0].bytes = 4242;
        atomic_store(&sb->procs[0].pid, getpid());
        _exit(0);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_int_eq(atomic_load(&sb->procs[0].pid), pid);
    ck_assert_int_eq(atomic_load(&sb->workers[1].state), PT_SB_KEEPALIVE);
    ck_assert_uint_eq(sb->counters[0].bytes, 4242);
    pt_scoreboard_destroy(sb);
}
END_TEST

START_TEST(request_begin_records_line_client_vhost_and_sending_state)
{
    fixture_t f;
    setup_fixture(&f, "GET /index.html HTTP/1.1", "www.example.com");
    f.r.start_wall_us = 1700000000000000;
    pt_scoreboard_t *sb = pt_scoreboard_create(1, 2, "event");
    pt_sb_worker_t *w = pt_sb_worker(sb, 0, 1);
    sb_begin(w, &f.r);
    ck_assert_int_eq(atomic_load(&w->state), PT_SB_WRITE);
    ck_assert_str_eq(w->request, "GET /index.html HTTP/1.1");
    ck_assert_str_eq(w->client, "192.0.2.7");
    ck_assert_str_eq(w->vhost, "www.example.com");
    ck_assert(w->req_start_us == 1700000000000000);
    ck_assert_int_eq(atomic_load(&sb->workers[0].state), PT_SB_DEAD);
    pt_scoreboard_destroy(sb);
    teardown_fixture(&f);
}
END_TEST

START_TEST(request_begin_truncates_a_long_request_line)
{
    char line[400];
    memset(line, 'a', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    fixture_t f;
    setup_fixture(&f, line, NULL);
    pt_scoreboard_t *sb = pt_scoreboard_create(1, 1, "event");
    pt_sb_worker_t *w = pt_sb_worker(sb, 0, 0);
    sb_begin(w, &f.r);
    ck_assert_uint_eq(strlen(w->request), PT_SB_REQ_LEN - 1);
    ck_assert_str_eq(w->vhost, "");
    pt_scoreboard_destroy(sb);
    teardown_fixture(&f);
}
END_TEST

/* A slot's text is stored only when it differs (slot_copy): whatever came before, each
 * begin leaves exactly its own values, cut to the field, with nothing of a longer one. */
START_TEST(request_begin_leaves_each_request_s_own_text_whatever_came_before)
{
    char longer[300], other[300];
    memset(longer, 'b', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    memcpy(other, longer, sizeof(other));
    other[PT_SB_REQ_LEN + 5] = 'c'; /* differs only past what the field keeps */
    const char *const lines[] = {"GET /a HTTP/1.1", "GET /a HTTP/1.1", "GET /abc HTTP/1.1",
                                 "GET / HTTP/1.1", longer, longer, other, "", "GET /z HTTP/1.1"};
    pt_scoreboard_t *sb = pt_scoreboard_create(1, 1, "event");
    pt_sb_worker_t *w = pt_sb_worker(sb, 0, 0);
    for (size_t i = 0; i < PT_ARRAY_LEN(lines); i++) {
        const char *client = i % 3 ? "192.0.2.7" : "2001:db8::1";
        pt_sb_request_begin(w, lines[i], client, i == 7 ? NULL : "www.example.com", 1);
        char want[PT_SB_REQ_LEN];
        snprintf(want, sizeof(want), "%s", lines[i]);
        ck_assert_str_eq(w->request, want);
        ck_assert_str_eq(w->client, client);
        ck_assert_str_eq(w->vhost, i == 7 ? "" : "www.example.com");
        ck_assert_int_eq(w->request[PT_SB_REQ_LEN - 1], '\0');
    }
    pt_scoreboard_destroy(sb);
}
END_TEST

START_TEST(request_end_counts_status_class_method_bytes_and_duration)
{
    fixture_t f;
    setup_fixture(&f, "POST /form HTTP/1.1", "a.example");
    pt_scoreboard_t *sb = pt_scoreboard_create(2, 1, "event");
    pt_sb_worker_t *w = pt_sb_worker(sb, 1, 0);
    pt_sb_counters_t *c = &sb->counters[1];
    f.r.method_id = PT_METHOD_POST;
    f.r.status = 404;
    f.r.bytes_sent = 1234;
    f.r.start_mono_us = mono_us() - 30000; /* 30 ms ago: the 50 ms bucket */
    sb_begin(w, &f.r);
    sb_end(w, c, &f.r);
    ck_assert_uint_eq(c->by_class[4], 1);
    ck_assert_uint_eq(c->by_class[2], 0);
    ck_assert_uint_eq(c->by_method[PT_METHOD_POST], 1);
    ck_assert_uint_eq(c->bytes, 1234);
    ck_assert_uint_eq(c->duration_buckets[4], 1); /* bounds: 1 5 10 25 [50] ms */
    ck_assert_uint_eq(c->duration_buckets[3], 0);
    ck_assert(c->duration_sum_us >= 30000 && c->duration_sum_us < 50000);
    ck_assert_uint_eq(w->access_count, 1);
    ck_assert_uint_eq(w->conn_count, 1);
    ck_assert_uint_eq(w->bytes_served, 1234);
    ck_assert(w->last_duration_us >= 30000 && w->last_duration_us < 50000);
    ck_assert(w->last_used_us > 0);
    /* The other process's counters are untouched. */
    ck_assert_uint_eq(sb->counters[0].by_class[4], 0);
    pt_scoreboard_destroy(sb);
    teardown_fixture(&f);
}
END_TEST

START_TEST(a_request_is_counted_when_its_status_is_committed_and_only_once)
{
    fixture_t f;
    setup_fixture(&f, "GET / HTTP/1.1", NULL);
    pt_scoreboard_t *sb = pt_scoreboard_create(1, 1, "event");
    pt_sb_counters_t *c = &sb->counters[0];
    f.r.method_id = PT_METHOD_GET;
    f.r.status = 200;
    f.r.bytes_sent = 10;
    /* No counters given: nothing to count in. */
    pt_sb_request_commit(f.r.sb_counters, &f.r.sb_counted, f.r.status, (int)f.r.method_id);
    ck_assert_uint_eq(c->by_class[2], 0);
    f.r.sb_counters = c;
    pt_sb_request_commit(f.r.sb_counters, &f.r.sb_counted, f.r.status, (int)f.r.method_id);
    pt_sb_request_commit(f.r.sb_counters, &f.r.sb_counted, f.r.status, (int)f.r.method_id);
    /* Seen before the end: class and method, not yet bytes. */
    ck_assert_uint_eq(c->by_class[2], 1);
    ck_assert_uint_eq(c->by_method[PT_METHOD_GET], 1);
    ck_assert_uint_eq(c->bytes, 0);
    sb_end(pt_sb_worker(sb, 0, 0), c, &f.r);
    ck_assert_uint_eq(c->by_class[2], 1);
    ck_assert_uint_eq(c->by_method[PT_METHOD_GET], 1);
    ck_assert_uint_eq(c->bytes, 10);
    pt_scoreboard_destroy(sb);
    teardown_fixture(&f);
}
END_TEST

START_TEST(request_end_puts_odd_statuses_methods_and_slow_requests_in_catch_alls)
{
    fixture_t f;
    setup_fixture(&f, "BREW / HTTP/1.1", NULL);
    pt_scoreboard_t *sb = pt_scoreboard_create(1, 1, "event");
    pt_sb_counters_t *c = &sb->counters[0];
    f.r.method_id = PT_METHOD_OTHER;
    f.r.status = 999;
    f.r.bytes_sent = -1;
    f.r.start_mono_us = mono_us() - 11000000; /* 11 s: beyond the last bound */
    sb_end(NULL, c, &f.r);
    ck_assert_uint_eq(c->by_class[0], 1);
    ck_assert_uint_eq(c->by_method[PT_METHOD_OTHER], 1);
    ck_assert_uint_eq(c->bytes, 0);
    ck_assert_uint_eq(c->duration_buckets[PT_SB_DURATION_BUCKETS], 1);
    ck_assert_uint_eq(c->duration_buckets[PT_SB_DURATION_BUCKETS - 1], 0);
    pt_scoreboard_destroy(sb);
    teardown_fixture(&f);
}
END_TEST

START_TEST(request_end_records_the_last_use_the_caller_measured_or_now)
{
    pt_scoreboard_t *sb = pt_scoreboard_create(1, 1, "event");
    pt_sb_worker_t *w = pt_sb_worker(sb, 0, 0);
    pt_sb_request_end(w, NULL, false, 200, PT_METHOD_GET, 0, 10, 1234567);
    ck_assert_int_eq(w->last_used_us, 1234567);
    pt_sb_request_end(w, NULL, false, 200, PT_METHOD_GET, 0, 10, 0);
    ck_assert(w->last_used_us > 1234567); /* 0: the wall clock, now */
    pt_scoreboard_destroy(sb);
}
END_TEST

START_TEST(null_slots_and_counters_are_ignored)
{
    fixture_t f;
    setup_fixture(&f, "GET / HTTP/1.1", NULL);
    sb_begin(NULL, &f.r);
    sb_end(NULL, NULL, &f.r);
    pt_sb_set_state(NULL, PT_SB_READY);
    teardown_fixture(&f);
}
END_TEST

START_TEST(a_worker_back_to_ready_starts_a_new_connection_count)
{
    fixture_t f;
    setup_fixture(&f, "GET / HTTP/1.1", NULL);
    pt_scoreboard_t *sb = pt_scoreboard_create(1, 1, "worker");
    pt_sb_worker_t *w = pt_sb_worker(sb, 0, 0);
    sb_end(w, NULL, &f.r);
    sb_end(w, NULL, &f.r);
    pt_sb_set_state(w, PT_SB_KEEPALIVE);
    ck_assert_uint_eq(w->conn_count, 2);
    pt_sb_set_state(w, PT_SB_READY);
    ck_assert_int_eq(atomic_load(&w->state), PT_SB_READY);
    ck_assert_uint_eq(w->conn_count, 0);
    ck_assert_uint_eq(w->access_count, 2);
    pt_scoreboard_destroy(sb);
    teardown_fixture(&f);
}
END_TEST

START_TEST(totals_count_workers_as_mod_status_does_with_the_letters_of_the_same_read)
{
    pt_scoreboard_t *sb = pt_scoreboard_create(3, 2, "event");
    atomic_store(&sb->procs[0].pid, 100);
    atomic_store(&sb->procs[2].pid, 300);
    atomic_store(&sb->procs[2].quiescing, true);
    atomic_store(&sb->procs[0].conns_keepalive, 5);
    atomic_store(&sb->procs[1].conns_keepalive, 50); /* dead: not counted */
    atomic_store(&sb->procs[2].conns_handshake, 2);
    pt_sb_set_state(pt_sb_worker(sb, 0, 0), PT_SB_READY);
    pt_sb_set_state(pt_sb_worker(sb, 0, 1), PT_SB_WRITE);
    pt_sb_set_state(pt_sb_worker(sb, 1, 0), PT_SB_WRITE); /* stale slot of a dead child */
    pt_sb_set_state(pt_sb_worker(sb, 2, 0), PT_SB_GRACEFUL);
    pt_sb_set_state(pt_sb_worker(sb, 2, 1), PT_SB_STARTING);
    sb->counters[1].by_class[2] = 7;
    sb->counters[0].by_class[5] = 1;
    sb->counters[1].bytes = 100;
    sb->counters[2].duration_sum_us = 9;
    pt_sb_totals_t t;
    char map[6];
    pt_sb_totals(sb, &t, map);
    /* Process 2 is stopping: its G counts neither busy nor idle (mod_status), its letters
     * still show, and so does the dead child's '.' whatever its stale slot says. */
    ck_assert_int_eq(t.busy, 1);
    ck_assert_int_eq(t.idle, 1);
    ck_assert(memcmp(map, "_W..GS", 6) == 0);
    ck_assert_int_eq(t.processes, 2);
    ck_assert_int_eq(t.stopping, 1);
    ck_assert_uint_eq(t.conns_keepalive, 5);
    ck_assert_uint_eq(t.conns_handshake, 2);
    ck_assert_uint_eq(t.accesses, 8);
    ck_assert_uint_eq(t.by_class[2], 7);
    ck_assert_uint_eq(t.bytes, 100);
    ck_assert_uint_eq(t.duration_us, 9);
    ck_assert_int_eq(pt_sb_slot_state(sb, 1, 0), PT_SB_DEAD);
    ck_assert_int_eq(pt_sb_slot_state(sb, 0, 1), PT_SB_WRITE);
    pt_sb_totals_t again;
    pt_sb_totals(sb, &again, NULL); /* the letters are optional */
    ck_assert_int_eq(again.busy, 1);
    pt_scoreboard_destroy(sb);
}
END_TEST

START_TEST(remembers_the_process_scoreboard_until_it_is_destroyed)
{
    ck_assert_ptr_null(pt_scoreboard_get());
    pt_scoreboard_t *sb = pt_scoreboard_create(1, 1, "event");
    pt_scoreboard_set(sb);
    ck_assert_ptr_eq(pt_scoreboard_get(), sb);
    pt_scoreboard_destroy(sb);
    ck_assert_ptr_null(pt_scoreboard_get());
}
END_TEST

START_TEST(duration_bounds_rise_from_one_millisecond_to_ten_seconds)
{
    ck_assert(pt_sb_duration_bounds_us[0] == 1000);
    ck_assert(pt_sb_duration_bounds_us[PT_SB_DURATION_BUCKETS - 1] == 10000000);
    for (int i = 1; i < PT_SB_DURATION_BUCKETS; i++)
        ck_assert(pt_sb_duration_bounds_us[i] > pt_sb_duration_bounds_us[i - 1]);
}
END_TEST

static Suite *scoreboard_suite(void)
{
    Suite *s = suite_create("scoreboard");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, creates_every_slot_dead_and_every_process_free);
    tcase_add_test(tc, refuses_empty_or_absurd_sizes);
    tcase_add_test(tc, keeps_its_own_copy_of_the_mpm_name);
    tcase_add_test(tc, finds_worker_slots_by_process_and_thread_within_bounds);
    tcase_add_test(tc, shares_slots_with_a_forked_child);
    tcase_add_test(tc, request_begin_records_line_client_vhost_and_sending_state);
    tcase_add_test(tc, request_begin_truncates_a_long_request_line);
    tcase_add_test(tc, request_begin_leaves_each_request_s_own_text_whatever_came_before);
    tcase_add_test(tc, request_end_counts_status_class_method_bytes_and_duration);
    tcase_add_test(tc, a_request_is_counted_when_its_status_is_committed_and_only_once);
    tcase_add_test(tc, request_end_puts_odd_statuses_methods_and_slow_requests_in_catch_alls);
    tcase_add_test(tc, request_end_records_the_last_use_the_caller_measured_or_now);
    tcase_add_test(tc, null_slots_and_counters_are_ignored);
    tcase_add_test(tc, a_worker_back_to_ready_starts_a_new_connection_count);
    tcase_add_test(tc, totals_count_workers_as_mod_status_does_with_the_letters_of_the_same_read);
    tcase_add_test(tc, remembers_the_process_scoreboard_until_it_is_destroyed);
    tcase_add_test(tc, duration_bounds_rise_from_one_millisecond_to_ten_seconds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(scoreboard_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
