/* SetHandler server-status: Apache mod_status's page rendered from the scoreboard, as HTML
 * or, with "auto" in the query, as the machine-readable "Key: value" text that monitoring
 * tools (apache_exporter, collectd, Munin) parse. */
#include "handler.h"
#include "mpm/scoreboard.h"
#include "uri.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef PORTICO_VERSION
#define PORTICO_VERSION "0"
#endif

#define STATUS_REFRESH_MAX 86400 /* seconds; a bigger ?refresh= is clamped */
#define STATUS_MAP_WRAP 64       /* scoreboard letters per line, as Apache */

/* Everything the page shows, read once so both renderings agree. */
typedef struct {
    const pt_scoreboard_t *sb;
    pt_sb_totals_t t;
    const char *map; /* every slot's letter, from the read that made t */
    int64_t now_us;
    int64_t uptime; /* seconds since the last (re)start */
    uint32_t generation;
    const char *server_name;
} snapshot_t;

/* Apache prints floats with %g and drops the leading zero (".5"): monitoring parsers
 * accept it and some compare output with Apache's. */
static const char *fmt_g(char *buf, size_t cap, double v)
{
    snprintf(buf, cap, "%g", v);
    if (buf[0] == '0' && buf[1] == '.')
        memmove(buf, buf + 1, strlen(buf));
    return buf;
}

static const char *fmt_time(char *buf, size_t cap, int64_t wall_us)
{
    time_t t = (time_t)(wall_us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    if (strftime(buf, cap, "%A, %d-%b-%Y %H:%M:%S %Z", &tm) == 0)
        buf[0] = '\0';
    return buf;
}

/* " 1 day 2 hours 3 seconds": zero parts left out, each with a leading space (Apache). */
static void out_uptime(pt_strbuf_t *b, int64_t secs)
{
    static const struct {
        const char *unit;
        int64_t size;
    } parts[] = {{"day", 86400}, {"hour", 3600}, {"minute", 60}, {"second", 1}};
    for (size_t i = 0; i < PT_ARRAY_LEN(parts); i++) {
        int64_t v = secs / parts[i].size;
        secs %= parts[i].size;
        if (v)
            pt_strbuf_printf(b, " %lld %s%s", (long long)v, parts[i].unit, v == 1 ? "" : "s");
    }
}

static void out_map(pt_strbuf_t *b, const snapshot_t *s, int wrap)
{
    int n = s->sb->server_limit * s->sb->thread_limit;
    for (int k = 0; k < n; k++) {
        pt_strbuf_printf(b, "%c", s->map[k]);
        if (wrap && (k + 1) % wrap == 0)
            pt_strbuf_printf(b, "\n");
    }
    if (!wrap || n % wrap != 0)
        pt_strbuf_printf(b, "\n");
}

static void render_auto(pt_strbuf_t *b, const snapshot_t *s)
{
    char g[32], tm[80];
    const pt_sb_totals_t *t = &s->t;
    pt_strbuf_printf(b, "%s\n", s->server_name);
    pt_strbuf_printf(b, "ServerVersion: portico/%s\nServerMPM: %s\n", PORTICO_VERSION, s->sb->mpm);
    pt_strbuf_printf(b, "Server Built: %s %s\n", __DATE__, __TIME__);
    pt_strbuf_printf(b, "CurrentTime: %s\n", fmt_time(tm, sizeof(tm), s->now_us));
    pt_strbuf_printf(b, "RestartTime: %s\n", fmt_time(tm, sizeof(tm), s->sb->restart_wall_us));
    pt_strbuf_printf(b, "ParentServerConfigGeneration: %u\n", s->generation + 1);
    pt_strbuf_printf(b, "ParentServerMPMGeneration: %u\n", s->generation);
    pt_strbuf_printf(b, "ServerUptimeSeconds: %lld\nServerUptime:", (long long)s->uptime);
    out_uptime(b, s->uptime);
    pt_strbuf_printf(b, "\nTotal Accesses: %llu\n", (unsigned long long)t->accesses);
    pt_strbuf_printf(b, "Total kBytes: %llu\n", (unsigned long long)(t->bytes / 1024));
    pt_strbuf_printf(b, "Total Duration: %llu\n", (unsigned long long)(t->duration_us / 1000));
    pt_strbuf_printf(b, "Uptime: %lld\n", (long long)s->uptime);
    /* Apache computes the byte rates from whole kilobytes ("Total kBytes" x 1024), so the
     * three figures agree with each other and with Apache's for the same traffic. */
    double kbytes = (double)(t->bytes / 1024) * 1024.0;
    if (s->uptime > 0) {
        pt_strbuf_printf(b, "ReqPerSec: %s\n",
                         fmt_g(g, sizeof(g), (double)t->accesses / (double)s->uptime));
        pt_strbuf_printf(b, "BytesPerSec: %s\n",
                         fmt_g(g, sizeof(g), kbytes / (double)s->uptime));
    }
    if (t->accesses > 0) {
        double n = (double)t->accesses;
        pt_strbuf_printf(b, "BytesPerReq: %s\n", fmt_g(g, sizeof(g), kbytes / n));
        pt_strbuf_printf(b, "DurationPerReq: %s\n",
                         fmt_g(g, sizeof(g), (double)t->duration_us / 1000.0 / n));
    }
    pt_strbuf_printf(b, "BusyWorkers: %d\nIdleWorkers: %d\n", t->busy, t->idle);
    pt_strbuf_printf(b, "Processes: %d\nStopping: %d\n", t->processes, t->stopping);
    pt_strbuf_printf(b, "ConnsTotal: %llu\nConnsAsyncWriting: %llu\n",
                     (unsigned long long)t->conns_total, (unsigned long long)t->conns_writing);
    pt_strbuf_printf(b, "ConnsAsyncKeepAlive: %llu\nConnsAsyncClosing: %llu\n",
                     (unsigned long long)t->conns_keepalive,
                     (unsigned long long)t->conns_lingering);
    /* portico's own: requests parked while their backend works (no worker holds them) */
    pt_strbuf_printf(b, "ConnsAsyncBackend: %llu\n", (unsigned long long)t->conns_backend);
    pt_strbuf_printf(b, "Scoreboard: ");
    out_map(b, s, 0);
}

static void html_head(pt_strbuf_t *b, pt_request_t *r, const snapshot_t *s)
{
    char tm[80];
    pt_strbuf_printf(b, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html><head>\n"
                        "<title>Portico Status</title>\n</head><body>\n");
    pt_strbuf_printf(b, "<h1>Portico Server Status for %s (via %s)</h1>\n\n",
                     pt_html_escape(r->arena, s->server_name),
                     pt_html_escape(r->arena, r->conn ? pt_request_local_ip(r) : ""));
    pt_strbuf_printf(b, "<dl><dt>Server Version: portico/%s</dt>\n", PORTICO_VERSION);
    pt_strbuf_printf(b, "<dt>Server MPM: %s</dt>\n", pt_html_escape(r->arena, s->sb->mpm));
    pt_strbuf_printf(b, "<dt>Server Built: %s %s\n</dt></dl><hr /><dl>\n", __DATE__, __TIME__);
    pt_strbuf_printf(b, "<dt>Current Time: %s</dt>\n", fmt_time(tm, sizeof(tm), s->now_us));
    pt_strbuf_printf(b, "<dt>Restart Time: %s</dt>\n",
                     fmt_time(tm, sizeof(tm), s->sb->restart_wall_us));
    pt_strbuf_printf(b, "<dt>Parent Server Config. Generation: %u</dt>\n", s->generation + 1);
    pt_strbuf_printf(b, "<dt>Parent Server MPM Generation: %u</dt>\n", s->generation);
    pt_strbuf_printf(b, "<dt>Server uptime: ");
    out_uptime(b, s->uptime);
    pt_strbuf_printf(b, "</dt>\n");
}

static void html_totals(pt_strbuf_t *b, const snapshot_t *s)
{
    char g1[32], g2[32], g3[32], g4[32];
    const pt_sb_totals_t *t = &s->t;
    double up = s->uptime > 0 ? (double)s->uptime : 1.0;
    double n = t->accesses > 0 ? (double)t->accesses : 1.0;
    pt_strbuf_printf(
        b, "<dt>Total accesses: %llu - Total Traffic: %llu kB - Total Duration: %llu</dt>\n",
        (unsigned long long)t->accesses, (unsigned long long)(t->bytes / 1024),
        (unsigned long long)(t->duration_us / 1000));
    pt_strbuf_printf(b, "<dt>%s requests/sec - %s B/second - %s B/request - %s ms/request</dt>\n",
                     fmt_g(g1, sizeof(g1), (double)t->accesses / up),
                     fmt_g(g2, sizeof(g2), (double)t->bytes / up),
                     fmt_g(g3, sizeof(g3), t->accesses ? (double)t->bytes / n : 0),
                     fmt_g(g4, sizeof(g4), t->accesses ? (double)t->duration_us / 1000.0 / n : 0));
    pt_strbuf_printf(b, "<dt>%d requests currently being processed, %d idle workers</dt>\n</dl>",
                     t->busy, t->idle);
}

/* The event MPM's per-child view: connections the listener holds, by state. */
static void html_processes(pt_strbuf_t *b, const snapshot_t *s)
{
    const pt_scoreboard_t *sb = s->sb;
    pt_strbuf_printf(
        b, "<table rules=\"all\" cellpadding=\"1%%\">\n<tr><th rowspan=\"2\">Slot</th>"
           "<th rowspan=\"2\">PID</th><th rowspan=\"2\">Stopping</th>"
           "<th colspan=\"2\">Connections</th>\n<th colspan=\"2\">Threads</th>"
           "<th colspan=\"4\">Async connections</th></tr>\n<tr><th>total</th>"
           "<th>accepting</th><th>busy</th><th>idle</th><th>writing</th><th>keep-alive</th>"
           "<th>closing</th><th>backend</th></tr>\n");
    for (int p = 0; p < sb->server_limit; p++) {
        const pt_sb_process_t *ps = &sb->procs[p];
        pid_t pid = atomic_load(&ps->pid);
        if (pid == 0)
            continue;
        int busy = 0, idle = 0;
        for (int th = 0; th < sb->thread_limit; th++) {
            char st = s->map[(size_t)p * (size_t)sb->thread_limit + (size_t)th];
            idle += st == PT_SB_READY;
            busy += pt_sb_state_busy(st);
        }
        bool q = atomic_load(&ps->quiescing);
        pt_strbuf_printf(b,
                         "<tr><td>%d</td><td>%d</td><td>%s</td><td>%u</td><td>%s</td><td>%d</td>"
                         "<td>%d</td><td>%u</td><td>%u</td><td>%u</td><td>%u</td></tr>\n",
                         p, (int)pid, q ? "yes" : "no", atomic_load(&ps->conns_total),
                         q ? "no" : "yes", busy, idle, atomic_load(&ps->conns_writing),
                         atomic_load(&ps->conns_keepalive), atomic_load(&ps->conns_lingering),
                         atomic_load(&ps->conns_backend));
    }
    pt_strbuf_printf(b, "</table>\n");
}

static void html_map(pt_strbuf_t *b, const snapshot_t *s)
{
    pt_strbuf_printf(b, "<pre>");
    out_map(b, s, STATUS_MAP_WRAP);
    pt_strbuf_printf(b,
                     "</pre>\n<p>Scoreboard Key:<br />\n"
                     "\"<b><code>_</code></b>\" Waiting for Connection, \n"
                     "\"<b><code>S</code></b>\" Starting up, \n"
                     "\"<b><code>R</code></b>\" Reading Request,<br />\n"
                     "\"<b><code>W</code></b>\" Sending Reply, \n"
                     "\"<b><code>K</code></b>\" Keepalive (read), \n"
                     "\"<b><code>D</code></b>\" DNS Lookup,<br />\n"
                     "\"<b><code>C</code></b>\" Closing connection, \n"
                     "\"<b><code>L</code></b>\" Logging, \n"
                     "\"<b><code>G</code></b>\" Gracefully finishing,<br /> \n"
                     "\"<b><code>I</code></b>\" Idle cleanup of worker, \n"
                     "\"<b><code>.</code></b>\" Open slot with no current process<br />\n<p />\n");
}

/* A slot string may be mid-update by its worker: copy it bounded, then escape the copy. */
/* A slot's text as it is now (its worker may be rewriting it), escaped. */
static const char *slot_text(pt_arena_t *a, const char *field, size_t cap)
{
    char *copy = pt_arena_alloc(a, cap);
    pt_sb_slot_text(field, cap, copy);
    return pt_html_escape(a, copy);
}

static void html_worker_row(pt_strbuf_t *b, pt_request_t *r, const snapshot_t *s, int p, int th)
{
    const pt_sb_worker_t *w = &s->sb->workers[(size_t)p * (size_t)s->sb->thread_limit + (size_t)th];
    char st = s->map[(size_t)p * (size_t)s->sb->thread_limit + (size_t)th];
    uint64_t acc = __atomic_load_n(&w->access_count, __ATOMIC_RELAXED);
    if (acc == 0 && (st == PT_SB_READY || st == PT_SB_DEAD))
        return;
    bool busy = pt_sb_state_busy(st);
    /* Each field is read once, relaxed: the worker stores them as it serves. */
    int64_t since = busy ? __atomic_load_n(&w->req_start_us, __ATOMIC_RELAXED)
                         : __atomic_load_n(&w->last_used_us, __ATOMIC_RELAXED);
    int64_t ss = since > 0 && s->now_us > since ? (s->now_us - since) / 1000000 : 0;
    double mb = (double)__atomic_load_n(&w->bytes_served, __ATOMIC_RELAXED) / (1024.0 * 1024.0);
    uint64_t conns = __atomic_load_n(&w->conn_count, __ATOMIC_RELAXED);
    int64_t last_us = __atomic_load_n(&w->last_duration_us, __ATOMIC_RELAXED);
    pt_strbuf_printf(b,
                     "<tr><td><b>%d-%u</b></td><td>%d</td><td>%llu/%llu/%llu</td><td><b>%c</b></td>"
                     "<td>%lld</td><td>%lld</td><td>-</td><td>-</td><td>%.2f</td><td>%.2f</td>",
                     p, s->sb->procs[p].generation, (int)atomic_load(&s->sb->procs[p].pid),
                     (unsigned long long)conns, (unsigned long long)acc,
                     (unsigned long long)acc, st, (long long)ss,
                     (long long)(last_us / 1000), mb, mb);
    pt_strbuf_printf(b, "<td>%s</td><td nowrap>%s</td><td nowrap>%s</td></tr>\n",
                     slot_text(r->arena, w->client, sizeof(w->client)),
                     slot_text(r->arena, w->vhost, sizeof(w->vhost)),
                     slot_text(r->arena, w->request, sizeof(w->request)));
}

static void html_workers(pt_strbuf_t *b, pt_request_t *r, const snapshot_t *s)
{
    pt_strbuf_printf(b,
                     "<table border=\"0\"><tr><th>Srv</th><th>PID</th><th>Acc</th><th>M</th>"
                     "<th>SS</th><th>Req</th><th>Dur</th><th>Conn</th><th>Child</th><th>Slot</th>"
                     "<th>Client</th><th>VHost</th><th>Request</th></tr>\n\n");
    for (int p = 0; p < s->sb->server_limit; p++)
        if (atomic_load(&s->sb->procs[p].pid) != 0)
            for (int th = 0; th < s->sb->thread_limit; th++)
                html_worker_row(b, r, s, p, th);
    pt_strbuf_printf(
        b, "</table>\n<hr /> <table>\n"
           " <tr><th>Srv</th><td>Child Server number - generation</td></tr>\n"
           " <tr><th>PID</th><td>OS process ID</td></tr>\n"
           " <tr><th>Acc</th><td>Number of accesses this connection / this child / this "
           "slot</td></tr>\n <tr><th>M</th><td>Mode of operation</td></tr>\n"
           " <tr><th>SS</th><td>Seconds since beginning of most recent request</td></tr>\n"
           " <tr><th>Req</th><td>Milliseconds required to process most recent request</td>"
           "</tr>\n <tr><th>Dur</th><td>Sum of milliseconds (not kept per slot)</td></tr>\n"
           " <tr><th>Conn</th><td>Kilobytes transferred this connection (not kept)</td>"
           "</tr>\n <tr><th>Child</th><td>Megabytes transferred this child</td></tr>\n"
           " <tr><th>Slot</th><td>Total megabytes transferred this slot</td></tr>\n"
           "</table>\n");
}

static const pt_status_ext_t *status_ext;

void pt_status_extend(const pt_status_ext_t *e)
{
    status_ext = e;
}

const pt_status_ext_t *pt_status_ext(void)
{
    return status_ext;
}

static void render_html(pt_strbuf_t *b, pt_request_t *r, const snapshot_t *s)
{
    html_head(b, r, s);
    html_totals(b, s);
    html_processes(b, s);
    html_map(b, s);
    if (r->cfg && r->cfg->extended_status)
        html_workers(b, r, s);
    else
        pt_strbuf_printf(
            b, "<p>To obtain a full report with current status information you need to use "
               "the <code>ExtendedStatus On</code> directive.</p>\n");
    if (status_ext && status_ext->html)
        status_ext->html(r, b);
    pt_strbuf_printf(b, "<hr />\n<address>portico/%s Server at %s</address>\n</body></html>\n",
                     PORTICO_VERSION, pt_html_escape(r->arena, s->server_name));
}

/* ?refresh=N: the page reloads itself every N seconds (Apache's Refresh header). */
static void set_refresh(pt_request_t *r)
{
    const char *p = r->args ? strstr(r->args, "refresh=") : NULL;
    if (!p)
        return;
    long n = strtol(p + strlen("refresh="), NULL, 10);
    n = n < 1 ? 1 : PT_MIN(n, STATUS_REFRESH_MAX);
    pt_table_set(&r->headers_out, "Refresh", pt_arena_printf(r->arena, "%ld", n));
}

static const char *server_name(const pt_request_t *r)
{
    if (r->vhost && r->vhost->server_name)
        return r->vhost->server_name;
    if (r->cfg && r->cfg->main_server && r->cfg->main_server->server_name)
        return r->cfg->main_server->server_name;
    return "localhost";
}

int pt_status_handler(pt_request_t *r)
{
    if (r->method_id != PT_METHOD_GET && r->method_id != PT_METHOD_HEAD) {
        pt_table_set(&r->err_headers_out, "Allow", "GET, HEAD");
        return 405;
    }
    const pt_scoreboard_t *sb = pt_scoreboard_get();
    if (!sb)
        return 503;
    snapshot_t s = {.sb = sb, .server_name = server_name(r)};
    s.now_us = pt_wall_us();
    s.uptime = PT_MAX((int64_t)0, (s.now_us - sb->restart_wall_us) / 1000000);
    s.generation = atomic_load(&sb->generation);
    char *map = pt_arena_alloc(r->arena, (size_t)sb->server_limit * (size_t)sb->thread_limit);
    pt_sb_totals(sb, &s.t, map);
    s.map = map;
    pt_strbuf_t b = {.a = r->arena, .cap = 4096};
    b.p = pt_arena_alloc(r->arena, b.cap);
    b.p[0] = '\0';
    /* Apache matches "auto" anywhere in the query string. */
    if (r->args && strstr(r->args, "auto")) {
        render_auto(&b, &s);
        if (status_ext && status_ext->text)
            status_ext->text(r, &b);
        return pt_resp_send(r, 200, "text/plain; charset=ISO-8859-1", b.p, b.len);
    }
    set_refresh(r);
    render_html(&b, r, &s);
    return pt_resp_send(r, 200, "text/html; charset=ISO-8859-1", b.p, b.len);
}
