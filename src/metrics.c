/* SetHandler metrics (portico's own): the scoreboard in the Prometheus text exposition
 * format 0.0.4: request counters by status class and method, bytes, a latency histogram,
 * workers, connections by state, children and generation. */
#include "handler.h"
#include "mpm/scoreboard.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#ifndef PORTICO_VERSION
#define PORTICO_VERSION "0"
#endif

/* Label values escape backslash, double quote and newline (exposition format 0.0.4). */
static const char *label_escape(pt_arena_t *a, const char *s)
{
    char *o = pt_arena_alloc(a, 2 * strlen(s) + 1), *q = o;
    for (; *s; s++) {
        if (*s == '\\' || *s == '"' || *s == '\n') {
            *q++ = '\\';
            *q++ = *s == '\n' ? 'n' : *s;
        } else {
            *q++ = *s;
        }
    }
    *q = '\0';
    return o;
}

static void family(pt_strbuf_t *b, const char *name, const char *type, const char *help)
{
    pt_strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(pt_strbuf_t *b, const char *name, const char *label, const char *value,
                   uint64_t v)
{
    if (label)
        pt_strbuf_printf(b, "%s{%s=\"%s\"} %llu\n", name, label, value, (unsigned long long)v);
    else
        pt_strbuf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* Label values in pt_method_t order; OTHER first. */
static const char *const method_names[] = {
    "other", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH",
};

static void render_requests(pt_strbuf_t *b, const pt_sb_totals_t *t)
{
    static const char *const classes[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    /* Two families, so that summing either one counts each request once. */
    const char *n = "portico_requests_total";
    family(b, n, "counter", "Requests served, by status class.");
    for (size_t i = 1; i < PT_ARRAY_LEN(classes); i++)
        sample(b, n, "class", classes[i], t->by_class[i]);
    sample(b, n, "class", classes[0], t->by_class[0]);
    n = "portico_requests_by_method_total";
    family(b, n, "counter", "Requests served, by method.");
    for (size_t i = 1; i < PT_ARRAY_LEN(method_names); i++)
        sample(b, n, "method", method_names[i], t->by_method[i]);
    sample(b, n, "method", method_names[0], t->by_method[0]);
    n = "portico_response_bytes_total";
    family(b, n, "counter", "Response body bytes sent.");
    sample(b, n, NULL, NULL, t->bytes);
}

static void render_histogram(pt_strbuf_t *b, const pt_sb_totals_t *t)
{
    const char *n = "portico_request_duration_seconds";
    family(b, n, "histogram", "Time from the request head to the end of the response.");
    uint64_t cum = 0;
    for (int i = 0; i < PT_SB_DURATION_BUCKETS; i++) {
        cum += t->duration_buckets[i];
        pt_strbuf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", n,
                         (double)pt_sb_duration_bounds_us[i] / 1e6, (unsigned long long)cum);
    }
    cum += t->duration_buckets[PT_SB_DURATION_BUCKETS];
    pt_strbuf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", n, (unsigned long long)cum);
    pt_strbuf_printf(b, "%s_sum %llu.%06llu\n", n, (unsigned long long)(t->duration_us / 1000000),
                     (unsigned long long)(t->duration_us % 1000000));
    pt_strbuf_printf(b, "%s_count %llu\n", n, (unsigned long long)cum);
}

static void render_state(pt_strbuf_t *b, const pt_scoreboard_t *sb, const pt_sb_totals_t *t,
                         int64_t now_us, pt_arena_t *a)
{
    const char *n = "portico_workers";
    family(b, n, "gauge", "Worker threads of live children not stopping, by state.");
    sample(b, n, "state", "busy", (uint64_t)t->busy);
    sample(b, n, "state", "idle", (uint64_t)t->idle);
    n = "portico_connections";
    family(b, n, "gauge", "Connections held by the children, by state.");
    sample(b, n, "state", "reading", t->conns_reading);
    sample(b, n, "state", "writing", t->conns_writing);
    sample(b, n, "state", "keepalive", t->conns_keepalive);
    sample(b, n, "state", "lingering", t->conns_lingering);
    sample(b, n, "state", "handshake", t->conns_handshake);
    sample(b, n, "state", "backend", t->conns_backend);
    n = "portico_processes";
    family(b, n, "gauge", "Live child processes.");
    sample(b, n, NULL, NULL, (uint64_t)t->processes);
    n = "portico_generation";
    family(b, n, "gauge", "Configuration generation (graceful restarts so far).");
    sample(b, n, NULL, NULL, atomic_load(&sb->generation));
    n = "portico_uptime_seconds";
    family(b, n, "gauge", "Seconds since the parent process started.");
    int64_t up = now_us > sb->start_wall_us ? (now_us - sb->start_wall_us) / 1000000 : 0;
    sample(b, n, NULL, NULL, (uint64_t)up);
    n = "portico_info";
    family(b, n, "gauge", "Version and MPM of the running server.");
    pt_strbuf_printf(b, "%s{version=\"%s\",mpm=\"%s\"} 1\n", n, label_escape(a, PORTICO_VERSION),
                     label_escape(a, sb->mpm));
}

int pt_metrics_handler(pt_request_t *r)
{
    if (r->method_id != PT_METHOD_GET && r->method_id != PT_METHOD_HEAD) {
        pt_table_set(&r->err_headers_out, "Allow", "GET, HEAD");
        return 405;
    }
    const pt_scoreboard_t *sb = pt_scoreboard_get();
    if (!sb)
        return 503;
    pt_sb_totals_t t;
    pt_sb_totals(sb, &t, NULL);
    int64_t now_us = pt_wall_us();
    pt_strbuf_t b = {.a = r->arena, .cap = 4096};
    b.p = pt_arena_alloc(r->arena, b.cap);
    render_requests(&b, &t);
    render_histogram(&b, &t);
    render_state(&b, sb, &t, now_us, r->arena);
    if (pt_status_ext() && pt_status_ext()->metrics)
        pt_status_ext()->metrics(r, &b);
    return pt_resp_send(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len);
}
