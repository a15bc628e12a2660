/* Differential test: seeded configurations and requests, each run on Debian's apache2 and on
 * portico, answers compared (compare.c). Fails on any difference that no rule of the README's
 * list of intentional differences explains.
 *
 *   diff_apache                      the short run (ctest differential.short)
 *   diff_apache --seeds 1-500        the long run
 *   diff_apache --seeds 7 --cases 80 one seed, 80 requests
 *   diff_apache --report [--minimize] print the mismatch classes (with a reduced config for
 *                                    each) and exit 0
 *   diff_apache --seeds 7 --print    print seed 7's config and requests, run nothing
 *   diff_apache --repro FILE 'GET /a.txt' 'GET /x bytes=0-3' ...
 *                                    run FILE's config (ROOT stands for the tree's directory)
 *                                    and these requests on both servers, print both answers
 *
 * Env: PORTICO_BIN (the binary; default: this build's), PORTICO_SOURCE_DIR (where README.md
 * is, to check that it names each rule; default: this build's source). */
#include "apache.h"
#include "compare.h"
#include "gen.h"
#include "harness.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CLASSES 128
#define MAX_DIFFS 8
#define SECONDS_PER_SEED 15
#define SECONDS_PER_MINIMIZE 240

#define MAX_SEEDS 100000

typedef struct {
    const char *seeds_arg;   /* as given: "1-6" or "2,8,15-20" */
    unsigned *seeds;
    unsigned nseeds;
    int cases;
    bool report, minimize, print, verbose;
    const char *repro;       /* --repro FILE */
    char **repro_reqs;
    int nrepro_reqs;
} options_t;

static options_t opt = {.seeds_arg = "1-6", .cases = 40};

/* A class of differences and its first example (the one with the fewest config items). */
typedef struct {
    char key[160];
    int count;
    unsigned seeds[8];
    int nseeds;
    dt_case_t example;    /* the items of the example's case; reqs[0] is its request */
    char detail[600];
} cls_t;

typedef struct {
    char root[256];       /* the run's directory: the tree in it, Apache's files in apache/ */
    dt_apache_t apache;
    cls_t classes[MAX_CLASSES];
    int nclasses;
    long requests, agree, excused, skipped_cases, differing;
    long rule_hits[16];
    char *clean_seeds;    /* seeds without an unexplained difference ("1 4 9 ") */
    size_t clean_len;
    FILE *clean;
} run_t;

static dt_apache_t *live_apache; /* stopped at exit if a failed check left it running */

static void stop_live_apache(void)
{
    if (live_apache)
        dt_apache_stop(live_apache);
}

/* ---- One request on one server --------------------------------------------------------- */

static void normalise_location(const char *v, int port, char *out, size_t cap)
{
    char self1[64], self2[64];
    snprintf(self1, sizeof(self1), "http://127.0.0.1:%d", port);
    snprintf(self2, sizeof(self2), "http://localhost:%d", port);
    size_t l1 = strlen(self1), l2 = strlen(self2);
    if (strncmp(v, self1, l1) == 0)
        snprintf(out, cap, "http://SELF%s", v + l1);
    else if (strncmp(v, self2, l2) == 0)
        snprintf(out, cap, "http://SELF%s", v + l2);
    else
        snprintf(out, cap, "%s", v);
}

static void joined_header(const pth_resp_t *r, const char *name, char *out, size_t cap,
                          bool *present)
{
    size_t o = 0;
    out[0] = '\0';
    *present = false;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) != 0)
            continue;
        if (o < cap)
            o += (size_t)snprintf(out + o, cap - o, "%s%s", *present ? ", " : "",
                                  r->headers[i].value);
        *present = true;
    }
}

static bool is_2xx(int s)
{
    return s >= 200 && s < 300;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The href of every entry of a listing, sorted: neither the parent directory ("../", or
 * Apache's absolute path) nor Apache's sort links ("?C=N;O=D"). */
static char *listing_entries(const char *body)
{
    char *v[256];
    size_t n = 0;
    for (const char *p = strstr(body, "href=\""); p && n < 256; p = strstr(p, "href=\"")) {
        p += 6;
        size_t len = strcspn(p, "\"");
        if (len > 0 && p[0] != '/' && p[0] != '?' && strncmp(p, "../", 3) != 0)
            v[n++] = strndup(p, len);
        p += len;
    }
    qsort(v, n, sizeof(v[0]), cmp_str);
    char *out = NULL;
    size_t olen = 0;
    FILE *f = open_memstream(&out, &olen);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s\n", v[i]);
        free(v[i]);
    }
    fclose(f);
    return out;
}

static void fetch(int port, const dt_req_t *q, dt_answer_t *ans)
{
    pth_t h;
    memset(&h, 0, sizeof(h));
    h.port = port;
    char range[80];
    const char *hdrs[2] = {NULL, NULL};
    if (q->range) {
        snprintf(range, sizeof(range), "Range: %s", q->range);
        hdrs[0] = range;
    }
    bool post = strcmp(q->method, "POST") == 0;
    pth_resp_t r;
    int rc = pth_curl(&h, q->method, q->target, hdrs, post ? "k=v" : NULL, post ? 3 : 0, &r);
    memset(ans, 0, sizeof(*ans));
    ans->status = rc == 0 ? r.status : 0;
    const char *loc = pth_resp_header(&r, "Location");
    if (loc)
        normalise_location(loc, port, ans->location, sizeof(ans->location));
    const char *ct = pth_resp_header(&r, "Content-Type");
    snprintf(ans->ctype, sizeof(ans->ctype), "%s", ct ? ct : "");
    const char *cr = pth_resp_header(&r, "Content-Range");
    snprintf(ans->crange, sizeof(ans->crange), "%s", cr ? cr : "");
    for (int i = 0; i < DT_NHDR; i++)
        joined_header(&r, dt_header_names[i], ans->hdr[i], sizeof(ans->hdr[i]), &ans->has_hdr[i]);
    ans->body = r.body;
    ans->body_len = r.body_len;
    r.body = NULL;
    size_t hlen = 0;
    FILE *hf = open_memstream(&ans->head, &hlen);
    for (size_t i = 0; i < r.nheaders; i++)
        fprintf(hf, "      %s: %s\n", r.headers[i].name, r.headers[i].value);
    fclose(hf);
    ans->file = dt_tree_identify(ans->body, ans->body_len);
    /* A HEAD answer has no body: the listing's Content-Type tells then, mod_autoindex's (no
     * space) or portico's (upper-case UTF-8; the generator's AddDefaultCharset is utf-8). */
    ans->listing = (ans->body && strstr(ans->body, "Index of") != NULL) ||
                   strcmp(ans->ctype, "text/html;charset=ISO-8859-1") == 0 ||
                   strcmp(ans->ctype, "text/html; charset=UTF-8") == 0;
    if (ans->body && strstr(ans->body, "Index of") && is_2xx(ans->status))
        ans->entries = listing_entries(ans->body);
    pth_resp_free(&r);
}

/* ---- One case on both servers ---------------------------------------------------------- */

static const char *portico_prelude =
    "Listen 127.0.0.1:@PORT@\nServerName localhost\nErrorLog @DIR@/error.log\n"
    "PidFile @DIR@/portico.pid\nLogLevel warn\nStartServers 1\nThreadsPerChild 8\n"
    "MinSpareThreads 1\nMaxSpareThreads 16\nMaxRequestWorkers 16\n";

enum { CASE_RAN, CASE_APACHE_REJECTS, CASE_PORTICO_REJECTS };

/* Spawns Apache with the case's config and waits for it; another process may take the free
 * port between the probe and Apache's bind, so that is retried. Returns 0 or -1 (why). */
static int start_apache(run_t *run, const dt_case_t *c, const char *docroot, char *why,
                        size_t whylen)
{
    int rc = -1;
    for (int retry = 0; retry < 5; retry++) {
        char *body = dt_case_config(c);
        ck_assert_int_eq(dt_apache_spawn(&run->apache, docroot, body), 0);
        free(body);
        live_apache = &run->apache;
        rc = dt_apache_wait_ready(&run->apache, why, whylen);
        if (rc == 0 || !strstr(why, "Address already in use"))
            break;
    }
    return rc;
}

/* Stops portico; a child that died of a signal, a non-zero exit or a sanitizer report is a
 * crash, told in why. */
static void stop_portico(pth_t *h, char *why, size_t whylen)
{
    int code = pth_stop_nocheck(h);
    char *log = pth_read_file(h->error_log, NULL);
    char *err = pth_read_file(h->err_path, NULL);
    if ((log && strstr(log, "exit signal")) || code != 0 ||
        (err && (strstr(err, "Sanitizer") || strstr(err, "runtime error"))))
        snprintf(why, whylen, "portico exit %d; a child crashed or a sanitizer reported",
                 code);
    free(log);
    free(err);
}

/* Runs the case's requests (all, or only the one at index only when >= 0) on both servers.
 * On CASE_PORTICO_REJECTS, why holds portico's message; Apache's answers are fetched all
 * the same (--repro shows them). A crash of a portico child shows as requests without an
 * answer and as a message in why. */
static int run_case(run_t *run, const dt_case_t *c, int only, dt_answer_t *ap, dt_answer_t *pp,
                    char *why, size_t whylen)
{
    char docroot[300], msg[3000];
    snprintf(docroot, sizeof(docroot), "%s/htdocs", run->root);
    why[0] = '\0';
    pth_t *h = pth_new();
    char *body = dt_case_config(c);
    pth_config_raw(h, "%sDocumentRoot \"%s\"\n%s", portico_prelude, docroot, body);
    free(body);
    int prc = pth_try_start(h, NULL, msg, sizeof(msg));
    if (start_apache(run, c, docroot, why, whylen) != 0) {
        if (prc == 0)
            pth_stop_nocheck(h);
        pth_free(h);
        return CASE_APACHE_REJECTS;
    }
    int k = 0;
    for (int i = 0; i < c->nreqs; i++) {
        if (only >= 0 && i != only)
            continue;
        fetch(run->apache.port, &c->reqs[i], &ap[k]);
        if (prc == 0)
            fetch(h->port, &c->reqs[i], &pp[k]);
        else
            memset(&pp[k], 0, sizeof(pp[k]));
        k++;
    }
    dt_apache_stop(&run->apache);
    live_apache = NULL;
    if (prc == 0)
        stop_portico(h, why, whylen);
    else
        snprintf(why, whylen, "%s", msg);
    pth_free(h);
    return prc == 0 ? CASE_RAN : CASE_PORTICO_REJECTS;
}

/* ---- Classes of differences ------------------------------------------------------------ */

static cls_t *class_for(run_t *run, const char *key)
{
    for (int i = 0; i < run->nclasses; i++)
        if (strcmp(run->classes[i].key, key) == 0)
            return &run->classes[i];
    if (run->nclasses == MAX_CLASSES)
        return NULL;
    cls_t *k = &run->classes[run->nclasses++];
    memset(k, 0, sizeof(*k));
    snprintf(k->key, sizeof(k->key), "%s", key);
    return k;
}

static int kept_items(const dt_case_t *c)
{
    int n = 0;
    for (int i = 0; i < c->nitems; i++)
        n += c->keep[i];
    return n;
}

/* Keeps as the example a copy of c's items with request q alone. */
static void set_example(cls_t *k, const dt_case_t *c, const dt_req_t *q, const char *detail)
{
    dt_case_free(&k->example);
    k->example.seed = c->seed;
    for (int i = 0; i < c->nitems; i++) {
        k->example.items[i] = strdup(c->items[i]);
        k->example.keep[i] = c->keep[i];
    }
    k->example.nitems = c->nitems;
    k->example.reqs[0] = *q;
    k->example.nreqs = 1;
    snprintf(k->detail, sizeof(k->detail), "%s", detail);
}

static void record(run_t *run, const dt_case_t *c, const dt_req_t *q, const char *key,
                   const char *detail)
{
    cls_t *k = class_for(run, key);
    if (!k)
        return;
    if (k->count == 0 || kept_items(c) < kept_items(&k->example))
        set_example(k, c, q, detail);
    k->count++;
    if (k->nseeds < 8 && (k->nseeds == 0 || k->seeds[k->nseeds - 1] != c->seed))
        k->seeds[k->nseeds++] = c->seed;
    if (opt.verbose)
        printf("seed %u: %s %s: %s\n  %s\n", c->seed, q->method, q->target, key, detail);
}

static void count_rule(run_t *run, const char *id)
{
    for (int i = 0; dt_rule_ids[i]; i++)
        if (strcmp(dt_rule_ids[i], id) == 0)
            run->rule_hits[i]++;
}

/* After a crash, requests without an answer count as differing but are not classes of their
 * own: the crash is the class. */
static void compare_case(run_t *run, const dt_case_t *c, dt_answer_t *ap, dt_answer_t *pp,
                         bool crashed)
{
    for (int i = 0; i < c->nreqs; i++) {
        run->requests++;
        dt_diff_t d[MAX_DIFFS];
        const char *rule = NULL;
        int n = 0;
        if (crashed && pp[i].status == 0)
            run->differing++;
        else
            n = dt_compare(&c->reqs[i], &ap[i], &pp[i], d, MAX_DIFFS, &rule);
        if (rule)
            count_rule(run, rule);
        if (n > 0)
            run->differing++;
        else if (!(crashed && pp[i].status == 0))
            rule ? run->excused++ : run->agree++;
        for (int j = 0; j < n; j++)
            record(run, c, &c->reqs[i], d[j].cls, d[j].detail);
        dt_answer_free(&ap[i]);
        dt_answer_free(&pp[i]);
    }
}

/* "portico: FILE:LINE: message": the class is the message. */
static void reject_class(const char *why, char *key, size_t cap)
{
    const char *m = strstr(why, ".conf:");
    m = m ? m + strspn(m + 6, "0123456789") + 6 : why;
    m += strspn(m, ": ");
    size_t len = strcspn(m, "\n");
    const char *port = strstr(m, " on port");
    if (port && port < m + len)
        len = (size_t)(port - m);
    snprintf(key, cap, "portico rejects a config Apache accepts: %.*s", (int)len, m);
}

static void run_seed(run_t *run, unsigned seed)
{
    long before = run->differing;
    int nclasses = run->nclasses;
    static dt_answer_t ap[DT_MAX_REQS], pp[DT_MAX_REQS];
    dt_case_t c;
    char why[3000];
    dt_case_generate(&c, seed, run->root, opt.cases);
    int rc = run_case(run, &c, -1, ap, pp, why, sizeof(why));
    if (rc == CASE_APACHE_REJECTS) {
        run->skipped_cases++;
        if (opt.verbose)
            printf("seed %u: apache rejects the config: %s\n", seed, why);
    } else if (rc == CASE_PORTICO_REJECTS) {
        for (int i = 0; i < c.nreqs; i++)
            dt_answer_free(&ap[i]);
        char key[160];
        reject_class(why, key, sizeof(key));
        record(run, &c, &c.reqs[0], key, why);
    } else {
        int first_lost = 0;
        while (first_lost < c.nreqs - 1 && pp[first_lost].status != 0)
            first_lost++;
        if (why[0])
            record(run, &c, &c.reqs[first_lost], "portico crashed", why);
        compare_case(run, &c, ap, pp, why[0] != '\0');
        if (run->differing == before && run->nclasses == nclasses)
            fprintf(run->clean, " %u", seed);
    }
    dt_case_free(&c);
}

/* ---- Reduction of an example ----------------------------------------------------------- */

static bool still_differs(run_t *run, const cls_t *k, const dt_case_t *c)
{
    static dt_answer_t ap[1], pp[1];
    char why[3000];
    int rc = run_case(run, c, 0, ap, pp, why, sizeof(why));
    if (rc == CASE_APACHE_REJECTS)
        return false;
    if (rc == CASE_PORTICO_REJECTS) {
        char key[160];
        reject_class(why, key, sizeof(key));
        dt_answer_free(&ap[0]);
        return strcmp(k->key, key) == 0;
    }
    bool same = strcmp(k->key, "portico crashed") == 0 && why[0];
    dt_diff_t d[MAX_DIFFS];
    const char *rule;
    int n = dt_compare(&c->reqs[0], &ap[0], &pp[0], d, MAX_DIFFS, &rule);
    for (int j = 0; j < n; j++)
        same = same || strcmp(d[j].cls, k->key) == 0;
    dt_answer_free(&ap[0]);
    dt_answer_free(&pp[0]);
    return same;
}

/* Drops one config item at a time while the difference stays (one greedy pass, then another
 * if it removed anything): what is left is the repro for the report. */
static void minimize(run_t *run, cls_t *k)
{
    bool removed = true;
    for (int pass = 0; pass < 2 && removed; pass++) {
        removed = false;
        for (int i = 0; i < k->example.nitems; i++) {
            if (!k->example.keep[i])
                continue;
            k->example.keep[i] = false;
            if (still_differs(run, k, &k->example))
                removed = true;
            else
                k->example.keep[i] = true;
        }
    }
}

/* ---- Report ---------------------------------------------------------------------------- */

static void print_case(const dt_case_t *c, bool requests)
{
    char *conf = dt_case_config(c);
    printf("    --- config (after the prelude: Listen, ServerName, logs, DocumentRoot) ---\n");
    for (char *line = strtok(conf, "\n"); line; line = strtok(NULL, "\n"))
        printf("    %s\n", line);
    free(conf);
    for (int i = 0; requests && i < c->nreqs; i++)
        printf("    %s %s%s%s\n", c->reqs[i].method, c->reqs[i].target,
               c->reqs[i].range ? "  Range: " : "", c->reqs[i].range ? c->reqs[i].range : "");
}

static void print_summary(run_t *run)
{
    printf("differential: seeds %s, %d requests each: %ld requests, %ld agree, %ld differ "
           "on purpose, %ld differ otherwise; %ld configs skipped (apache2 rejects them)\n",
           opt.seeds_arg, opt.cases, run->requests, run->agree, run->excused,
           run->differing, run->skipped_cases);
    fflush(run->clean);
    printf("  seeds without an unexplained difference:%s\n", run->clean_seeds);
    for (int i = 0; dt_rule_ids[i]; i++)
        if (run->rule_hits[i])
            printf("  intentional %-20s %ld\n", dt_rule_ids[i], run->rule_hits[i]);
    for (int i = 0; i < run->nclasses; i++) {
        cls_t *k = &run->classes[i];
        printf("\nCLASS %s: %d times, seeds", k->key, k->count);
        for (int j = 0; j < k->nseeds; j++)
            printf(" %u", k->seeds[j]);
        printf("\n  example (seed %u): %s %s%s%s\n  %s\n", k->example.seed,
               k->example.reqs[0].method, k->example.reqs[0].target,
               k->example.reqs[0].range ? "  Range: " : "",
               k->example.reqs[0].range ? k->example.reqs[0].range : "", k->detail);
        if (opt.minimize)
            minimize(run, k);
        print_case(&k->example, false);
    }
    fflush(stdout);
}

/* ---- A repro by hand ------------------------------------------------------------------ */

/* The config in opt.repro with ROOT replaced by the tree's directory, as one item. */
static char *repro_config(const char *root)
{
    char *text = pth_read_file(opt.repro, NULL);
    ck_assert_msg(text != NULL, "cannot read %s", opt.repro);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    for (const char *p = text; *p;) {
        const char *m = strstr(p, "ROOT");
        if (!m) {
            fputs(p, f);
            break;
        }
        fprintf(f, "%.*s%s", (int)(m - p), p, root);
        p = m + 4;
    }
    fclose(f);
    free(text);
    return out;
}

static void run_repro(run_t *run)
{
    static dt_answer_t ap[DT_MAX_REQS], pp[DT_MAX_REQS];
    static char targets[DT_MAX_REQS][DT_TARGET_MAX], ranges[DT_MAX_REQS][64];
    dt_case_t c;
    memset(&c, 0, sizeof(c));
    c.items[0] = repro_config(run->root);
    c.keep[0] = true;
    c.nitems = 1;
    for (int i = 0; i < opt.nrepro_reqs && i < DT_MAX_REQS; i++) {
        dt_req_t *q = &c.reqs[c.nreqs++];
        char method[16] = "";
        int n = sscanf(opt.repro_reqs[i], "%15s %255s %63s", method, targets[i], ranges[i]);
        ck_assert_msg(n >= 2, "request '%s': want 'METHOD TARGET [RANGE]'", opt.repro_reqs[i]);
        q->method = strdup(method);
        snprintf(q->target, sizeof(q->target), "%s", targets[i]);
        q->range = n == 3 ? ranges[i] : NULL;
        q->tags = dt_req_tags(q->target, q->range) |
                  (strstr(c.items[0], "FallbackResource /") ? DT_TAG_FALLBACK : 0);
    }
    char why[3000], line[300];
    int rc = run_case(run, &c, -1, ap, pp, why, sizeof(why));
    printf("config:\n%s\n", c.items[0]);
    if (rc == CASE_APACHE_REJECTS) {
        printf("apache2 rejects it: %s\n", why);
        return;
    }
    if (rc == CASE_PORTICO_REJECTS)
        printf("portico rejects it: %s\n", why);
    for (int i = 0; i < c.nreqs; i++) {
        printf("%s %s%s%s\n", c.reqs[i].method, c.reqs[i].target, c.reqs[i].range ? " Range: " : "",
               c.reqs[i].range ? c.reqs[i].range : "");
        dt_answer_describe(&ap[i], line, sizeof(line));
        printf("  apache  %s\n", line);
        if (opt.verbose)
            printf("%s", ap[i].head ? ap[i].head : "");
        dt_answer_describe(&pp[i], line, sizeof(line));
        printf("  portico %s\n", line);
        if (opt.verbose)
            printf("%s", pp[i].head ? pp[i].head : "");
        dt_diff_t d[MAX_DIFFS];
        const char *rule;
        int n = dt_compare(&c.reqs[i], &ap[i], &pp[i], d, MAX_DIFFS, &rule);
        for (int j = 0; j < n; j++)
            printf("  DIFFERS: %s\n", d[j].cls);
        if (rule)
            printf("  intentional: %s\n", rule);
        dt_answer_free(&ap[i]);
        dt_answer_free(&pp[i]);
    }
    if (rc == CASE_RAN && why[0])
        printf("%s\n", why);
    dt_case_free(&c);
}

/* ---- The test -------------------------------------------------------------------------- */

static run_t the_run;

static void check_readme_names_every_rule(void)
{
    const char *src = getenv("PORTICO_SOURCE_DIR");
    if (!src)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s/README.md", src);
    char *readme = pth_read_file(path, NULL);
    ck_assert_msg(readme != NULL, "cannot read %s", path);
    const char *sec = strstr(readme, "## Where portico differs from Apache on purpose");
    ck_assert_msg(sec != NULL, "README.md has no section on intentional differences");
    for (int i = 0; dt_rule_ids[i]; i++) {
        char tag[64];
        snprintf(tag, sizeof(tag), "`%s`", dt_rule_ids[i]);
        ck_assert_msg(strstr(sec, tag) != NULL, "README.md does not list rule %s", tag);
    }
    free(readme);
}

START_TEST(portico_answers_generated_requests_as_apache_does_or_as_the_readme_says)
{
    run_t *run = &the_run;
    check_readme_names_every_rule();
    ck_assert_msg(access(DT_APACHE_BIN, X_OK) == 0,
                  "%s is missing: scripts/setup installs Debian's apache2", DT_APACHE_BIN);
    snprintf(run->root, sizeof(run->root), "/tmp/portico-diff.XXXXXX");
    ck_assert(mkdtemp(run->root) != NULL);
    ck_assert_int_eq(dt_tree_create(run->root), 0);
    ck_assert_int_eq(dt_apache_init(&run->apache, run->root), 0);
    atexit(stop_live_apache);
    run->clean = open_memstream(&run->clean_seeds, &run->clean_len);
    if (opt.repro) {
        run_repro(run);
    } else {
        for (unsigned i = 0; i < opt.nseeds; i++)
            run_seed(run, opt.seeds[i]);
        print_summary(run);
    }
    if (!getenv("PORTICO_TEST_KEEP")) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", run->root);
        ck_assert_int_eq(system(cmd), 0);
    }
    if (!opt.report && !opt.repro)
        ck_assert_msg(run->nclasses == 0,
                      "%d classes of differences from Apache that README.md does not list "
                      "(see above; --report --minimize for reduced configs)",
                      run->nclasses);
    ck_assert_msg(run->skipped_cases <= (long)opt.nseeds / 4 + 1,
                  "apache2 rejected %ld generated configs: the generator is wrong",
                  run->skipped_cases);
}
END_TEST

static void usage(void)
{
    fprintf(stderr, "usage: diff_apache [--seeds N|A-B|A,B-C,...] [--cases N] [--report] [--minimize] "
                    "[--print] [--verbose]\n"
                    "       diff_apache --repro FILE 'METHOD TARGET [RANGE]' ...\n");
    exit(2);
}

/* "1-6", "7", "2,8,15-20" into opt.seeds. */
static void parse_seeds(void)
{
    free(opt.seeds);
    opt.seeds = malloc(MAX_SEEDS * sizeof(*opt.seeds));
    opt.nseeds = 0;
    const char *p = opt.seeds_arg;
    while (*p) {
        char *end;
        unsigned a = (unsigned)strtoul(p, &end, 10), b = a;
        if (end == p)
            usage();
        if (*end == '-')
            b = (unsigned)strtoul(end + 1, &end, 10);
        if (b < a || (*end && *end != ','))
            usage();
        for (unsigned s = a; s <= b && opt.nseeds < MAX_SEEDS; s++)
            opt.seeds[opt.nseeds++] = s;
        p = *end ? end + 1 : end;
    }
    if (opt.nseeds == 0)
        usage();
}

static void parse_options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--seeds") == 0 && i + 1 < argc) {
            opt.seeds_arg = argv[++i];
        } else if (strcmp(a, "--cases") == 0 && i + 1 < argc) {
            opt.cases = atoi(argv[++i]);
            if (opt.cases < 1 || opt.cases > DT_MAX_REQS)
                usage();
        } else if (strcmp(a, "--report") == 0) {
            opt.report = true;
        } else if (strcmp(a, "--minimize") == 0) {
            opt.minimize = opt.report = true;
        } else if (strcmp(a, "--print") == 0) {
            opt.print = true;
        } else if (strcmp(a, "--verbose") == 0) {
            opt.verbose = true;
        } else if (strcmp(a, "--repro") == 0 && i + 2 < argc) {
            opt.repro = argv[++i];
            opt.repro_reqs = argv + i + 1;
            opt.nrepro_reqs = argc - i - 1;
            return;
        } else {
            usage();
        }
    }
}

static int print_cases(void)
{
    for (unsigned i = 0; i < opt.nseeds; i++) {
        unsigned s = opt.seeds[i];
        dt_case_t c;
        dt_case_generate(&c, s, "ROOT", opt.cases);
        printf("seed %u:\n", s);
        print_case(&c, true);
        dt_case_free(&c);
    }
    return 0;
}

int main(int argc, char **argv)
{
    parse_options(argc, argv);
    parse_seeds();
    setenv("PORTICO_BIN", DT_DEFAULT_BIN, 0);
    setenv("PORTICO_SOURCE_DIR", DT_DEFAULT_SOURCE_DIR, 0);
    if (opt.print)
        return print_cases();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    Suite *s = suite_create("differential");
    TCase *tc = tcase_create("apache");
    unsigned seeds = opt.nseeds;
    tcase_set_timeout(tc, 60.0 + SECONDS_PER_SEED * seeds +
                              (opt.minimize ? SECONDS_PER_MINIMIZE * 20 : 0));
    tcase_add_test(tc, portico_answers_generated_requests_as_apache_does_or_as_the_readme_says);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
