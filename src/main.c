/* portico: command line (httpd's flags), start-up, privileges, PidFile; then the MPM. */
#include "config.h"
#include "log.h"
#include "module.h"
#include "mpm/mpm.h"
#include "startup.h"

#include <errno.h>
#include <grp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define PT_DEFAULT_CONF "conf/portico.conf"
#define PT_MAX_DEFINES 64

typedef struct {
    const char *conf;
    const char *server_root;
    const char *defines[PT_MAX_DEFINES];
    size_t ndefines;
    const char *k;
    bool test, version, full_version, list, modules;
} opts_t;

static void usage(FILE *f)
{
    fputs("Usage: portico [-D name] [-d directory] [-f file]\n"
          "               [-k start|stop|restart|graceful|graceful-stop] [-v] [-V] [-h] [-l] "
          "[-M] [-t]\n"
          "Options:\n"
          "  -D name            : define a name for use in <IfDefine name> directives\n"
          "  -d directory       : specify an alternate initial ServerRoot\n"
          "  -f file            : specify an alternate configuration file\n"
          "  -k start|stop|restart|graceful|graceful-stop\n"
          "                     : signal the running server named in PidFile\n"
          "  -v                 : show version number\n"
          "  -V                 : show compile settings\n"
          "  -h                 : list available command line options (this page)\n"
          "  -l                 : list compiled in modules\n"
          "  -M                 : list loaded modules (for the configuration)\n"
          "  -t                 : run syntax check for config files\n",
          f);
}

static int parse_args(int argc, char **argv, opts_t *o)
{
    int ch;
    while ((ch = getopt(argc, argv, "f:d:D:k:tvVlMhXS")) != -1) {
        switch (ch) {
        case 'f': o->conf = optarg; break;
        case 'd': o->server_root = optarg; break;
        case 'D':
            if (o->ndefines == PT_MAX_DEFINES) {
                fputs("portico: too many -D options\n", stderr);
                return -1;
            }
            o->defines[o->ndefines++] = optarg;
            break;
        case 'k': o->k = optarg; break;
        case 't': o->test = true; break;
        case 'v': o->version = true; break;
        case 'V': o->full_version = true; break;
        case 'l': o->list = true; break;
        case 'M': o->modules = true; break;
        case 'X': case 'S': break; /* foreground is the only mode */
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "portico: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    return 0;
}

static void print_version(bool full, const char *mpm)
{
    printf("Server version: portico/%s (Unix)\n", PORTICO_VERSION);
    printf("Server built:   %s %s\n", __DATE__, __TIME__);
    if (!full)
        return;
    printf("Server MPM:     %s\n", mpm ? mpm : "event");
    printf("Compiled MPMs:  %s\n", PT_MPMS_COMPILED);
    printf("  threaded:     %s\n", mpm && strcmp(mpm, "prefork") == 0 ? "no" : "yes (fixed thread count)");
    printf("    forked:     yes (variable process count)\n");
    printf("OpenSSL:        %s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("nghttp2:        %s\n", nghttp2_version(0)->version_str);
    printf("Build type:     %s\n", PORTICO_BUILD_TYPE);
    printf("Sanitizers:     %s\n", PORTICO_ASAN_ENABLED   ? "address,undefined"
                                    : PORTICO_TSAN_ENABLED ? "thread"
                                                           : "none");
    printf(" -D DEFAULT_CONFIG_FILE=\"%s\"\n", PT_DEFAULT_CONF);
}

static int signal_running(const pt_config_t *cfg, const char *what)
{
    int sig;
    if (strcmp(what, "stop") == 0)
        sig = SIGTERM;
    else if (strcmp(what, "restart") == 0)
        sig = SIGHUP;
    else if (strcmp(what, "graceful") == 0)
        sig = SIGUSR1;
    else if (strcmp(what, "graceful-stop") == 0)
        sig = SIGWINCH;
    else {
        fprintf(stderr, "portico: -k %s: unknown action\n", what);
        return 1;
    }
    if (!cfg->pid_file) {
        fputs("portico: -k needs a PidFile in the configuration\n", stderr);
        return 1;
    }
    FILE *f = fopen(cfg->pid_file, "r");
    long pid = 0;
    if (!f || fscanf(f, "%ld", &pid) != 1 || pid <= 1) {
        fprintf(stderr, "portico: no running server (cannot read %s)\n", cfg->pid_file);
        if (f)
            fclose(f);
        return 1;
    }
    fclose(f);
    if (kill((pid_t)pid, sig) != 0) {
        fprintf(stderr, "portico: cannot signal pid %ld: %s\n", pid, strerror(errno));
        return 1;
    }
    return 0;
}

static int write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f) == 0 ? 0 : -errno;
}

/* After binding, as httpd: give up root for the configured User and Group. */
/* User and Group, resolved in the parent (an unknown name stops the start); the children
 * switch to them after the fork, as httpd's do, while the parent keeps the rights it needs
 * to bind new listeners on restart and to remove its PidFile. */
static int resolve_ids(const pt_config_t *cfg, pt_mpm_ctx_t *ctx)
{
    if (geteuid() != 0 || !cfg->user)
        return 0;
    const char *u = cfg->user, *g = cfg->group;
    struct passwd *pw = u[0] == '#' ? getpwuid((uid_t)atol(u + 1)) : getpwnam(u);
    if (!pw) {
        pt_log_error(PT_LOG_ALERT, NULL, "User %s: no such user", u);
        return -1;
    }
    gid_t gid = pw->pw_gid;
    if (g) {
        struct group *gr = g[0] == '#' ? getgrgid((gid_t)atol(g + 1)) : getgrnam(g);
        if (!gr) {
            pt_log_error(PT_LOG_ALERT, NULL, "Group %s: no such group", g);
            return -1;
        }
        gid = gr->gr_gid;
    }
    ctx->switch_ids = true;
    ctx->uid = pw->pw_uid;
    ctx->gid = gid;
    return 0;
}

static void list_modules(const pt_config_t *cfg)
{
    const char *const *m = pt_module_list();
    if (cfg)
        puts("Loaded Modules:");
    else
        puts("Compiled in modules:");
    for (; *m; m++) {
        if (cfg && !pt_module_known(*m, cfg->mpm))
            continue;
        printf(cfg ? " %s (static)\n" : "  %s\n", *m);
    }
    for (size_t i = 0; cfg && i < cfg->nmodules; i++)
        printf(" %s (shared)\n", cfg->modules[i].name);
}

static int serve(pt_config_t *cfg, const char *conf_path, const pt_parse_opts_t *po)
{
    /* Signals wait in the mask until the MPM reads them: a TERM that arrives while the
     * listeners are bound must not kill the process mid-start. */
    sigset_t set;
    pt_mpm_signals(&set, true);
    sigprocmask(SIG_BLOCK, &set, NULL);
    char err[PT_ERRLEN];
    pt_listener_t *ls = NULL;
    size_t nls = 0;
    if (pt_listen_open(cfg, &ls, &nls, err, sizeof(err)) != 0) {
        fprintf(stderr, "portico: %s\n", err);
        pt_config_free(cfg);
        return 1;
    }
    if (pt_log_open_error(cfg->error_log, cfg->log_level, err, sizeof(err)) != 0 ||
        pt_log_open_sinks(cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "portico: %s\n", err);
        pt_log_close_sinks(cfg);
        pt_listen_close(ls, nls);
        pt_config_free(cfg);
        return 1;
    }
    int rc = 1;
    if (cfg->pid_file && write_pidfile(cfg->pid_file) != 0) {
        pt_log_error(PT_LOG_ERR, NULL, "cannot write PidFile %s: %s", cfg->pid_file,
                     strerror(errno));
        fprintf(stderr, "portico: cannot write PidFile %s\n", cfg->pid_file);
        goto out;
    }
    pt_mpm_ctx_t ctx = {.hooks = pt_startup_mpm_hooks(), .proto = pt_startup_first_proto(),
                        .conf_path = conf_path, .opts = po, .cfg = cfg, .ls = ls, .nls = nls};
    if (resolve_ids(cfg, &ctx) != 0) {
        if (cfg->pid_file)
            unlink(cfg->pid_file);
        goto out;
    }
    rc = pt_mpm_run(&ctx);
    /* A restart may have replaced the configuration and the listeners. */
    cfg = ctx.cfg;
    ls = ctx.ls;
    nls = ctx.nls;
    if (cfg->pid_file)
        unlink(cfg->pid_file);
out:
    pt_log_close_sinks(cfg);
    pt_listen_close(ls, nls);
    pt_config_free(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    pt_startup_register(); /* before any configuration is read (-V and -t read one) */
    opts_t o = {.conf = PT_DEFAULT_CONF};
    if (parse_args(argc, argv, &o) != 0)
        return 1;
    if (o.version || o.full_version) {
        /* -V names the MPM the configuration selects, when it can be read. */
        const char *mpm = NULL;
        pt_config_t *vc = NULL;
        if (o.full_version) {
            pt_parse_opts_t vpo = {.server_root = o.server_root, .defines = o.defines,
                                   .ndefines = o.ndefines};
            char verr[PT_ERRLEN];
            vc = pt_config_load(o.conf, &vpo, verr, sizeof(verr));
            if (vc)
                mpm = pt_mpm_name(vc->mpm);
        }
        print_version(o.full_version, mpm);
        pt_config_free(vc);
        return 0;
    }
    if (o.list) {
        list_modules(NULL);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    pt_parse_opts_t po = {.server_root = o.server_root, .defines = o.defines,
                          .ndefines = o.ndefines};
    char err[PT_ERRLEN];
    pt_config_t *cfg = pt_config_load(o.conf, &po, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "portico: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (o.test) {
        for (size_t i = 0; i < cfg->nnotices; i++)
            fprintf(stderr, "portico: %s\n", cfg->notices[i]);
        fputs("Syntax OK\n", stderr);
    } else if (o.modules) {
        list_modules(cfg);
    } else if (o.k && strcmp(o.k, "start") != 0) {
        rc = signal_running(cfg, o.k);
    } else {
        return serve(cfg, o.conf, &po); /* serve owns cfg from here (restarts replace it) */
    }
    pt_config_free(cfg);
    return rc;
}
