/* The modules built into portico, by Apache's module and source file names: what
 * <IfModule>, LoadModule, portico -l and -M consult (pt_module_known, pt_module_list in
 * config.h). Apache's modules that portico lacks are modcatalog.c's. */
#include "config.h"

#include <string.h>

static const struct {
    const char *name;
    const char *source;
    int mpm; /* -1 for all */
} modules[] = {
    {"core_module", "core.c", -1},
    {"mpm_event_module", "event.c", PT_MPM_EVENT},
    {"mpm_worker_module", "worker.c", PT_MPM_WORKER},
    {"mpm_prefork_module", "prefork.c", PT_MPM_PREFORK},
    {"so_module", "mod_so.c", -1},
    {"dir_module", "mod_dir.c", -1},
    {"mime_module", "mod_mime.c", -1},
    {"alias_module", "mod_alias.c", -1},
    {"authz_core_module", "mod_authz_core.c", -1},
    {"authz_host_module", "mod_authz_host.c", -1},
    {"headers_module", "mod_headers.c", -1},
    {"deflate_module", "mod_deflate.c", -1},
    {"brotli_module", "mod_brotli.c", -1},
    {"filter_module", "mod_filter.c", -1},
    {"log_config_module", "mod_log_config.c", -1},
    {"reqtimeout_module", "mod_reqtimeout.c", -1},
    {"setenvif_module", "mod_setenvif.c", -1},
    {"env_module", "mod_env.c", -1},
    {"unixd_module", "mod_unixd.c", -1},
    {"proxy_module", "mod_proxy.c", -1},
    {"proxy_fcgi_module", "mod_proxy_fcgi.c", -1},
    {"status_module", "mod_status.c", -1},
    {"proxy_http_module", "mod_proxy_http.c", -1},
    {"proxy_balancer_module", "mod_proxy_balancer.c", -1},
    {"proxy_hcheck_module", "mod_proxy_hcheck.c", -1},
    {"proxy_wstunnel_module", "mod_proxy_wstunnel.c", -1},
    {"http2_module", "mod_http2.c", -1},
    {"lbmethod_byrequests_module", "mod_lbmethod_byrequests.c", -1},
    {"lbmethod_bybusyness_module", "mod_lbmethod_bybusyness.c", -1},
    {"lbmethod_bytraffic_module", "mod_lbmethod_bytraffic.c", -1},
    {"slotmem_shm_module", "mod_slotmem_shm.c", -1},
    {"watchdog_module", "mod_watchdog.c", -1},
    {"remoteip_module", "mod_remoteip.c", -1},
    {"rewrite_module", "mod_rewrite.c", -1},
    {"ssl_module", "mod_ssl.c", -1},
    {"socache_shmcb_module", "mod_socache_shmcb.c", -1},
    {"autoindex_module", "mod_autoindex.c", -1},
    {"expires_module", "mod_expires.c", -1},
    {"access_compat_module", "mod_access_compat.c", -1},
    {"auth_basic_module", "mod_auth_basic.c", -1},
    {"authn_core_module", "mod_authn_core.c", -1},
    {"authn_file_module", "mod_authn_file.c", -1},
    {"authz_user_module", "mod_authz_user.c", -1},
    {"authz_groupfile_module", "mod_authz_groupfile.c", -1},
};

static const char *const module_names[] = {
    "core_module", "mpm_event_module", "mpm_worker_module", "mpm_prefork_module",
    "so_module", "dir_module", "mime_module", "alias_module", "authz_core_module",
    "authz_host_module", "headers_module", "deflate_module", "brotli_module",
    "filter_module", "log_config_module", "reqtimeout_module",
    "setenvif_module", "env_module", "unixd_module", "proxy_module", "proxy_fcgi_module",
    "status_module",
    "proxy_http_module",
    "proxy_balancer_module",
    "proxy_hcheck_module",
    "proxy_wstunnel_module",
    "lbmethod_byrequests_module",
    "lbmethod_bybusyness_module",
    "lbmethod_bytraffic_module",
    "slotmem_shm_module",
    "watchdog_module",
    "remoteip_module",
    "rewrite_module",
    "ssl_module",
    "socache_shmcb_module",
    "autoindex_module",
    "expires_module",
    "access_compat_module",
    "auth_basic_module",
    "authn_core_module",
    "authn_file_module",
    "authz_user_module",
    "authz_groupfile_module",
    NULL,
};

/* Apache builds these into its binary; the others (ssl, rewrite, proxy, ...) are shared
 * modules a LoadModule line brings in. */
bool pt_module_static(const char *name)
{
    static const char *const fixed[] = {"core_module", "core.c", "so_module", "mod_so.c",
                                        "log_config_module", "mod_log_config.c",
                                        "unixd_module", "mod_unixd.c", "watchdog_module",
                                        "mod_watchdog.c"};
    for (size_t i = 0; i < PT_ARRAY_LEN(fixed); i++)
        if (strcmp(name, fixed[i]) == 0)
            return true;
    return strncmp(name, "mpm_", 4) == 0 || strcmp(name, "event.c") == 0 ||
           strcmp(name, "worker.c") == 0 || strcmp(name, "prefork.c") == 0;
}

bool pt_module_known(const char *name, int mpm)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(modules); i++) {
        if (strcmp(name, modules[i].name) != 0 && strcmp(name, modules[i].source) != 0)
            continue;
        return modules[i].mpm < 0 || modules[i].mpm == mpm;
    }
    return false;
}

const char *const *pt_module_list(void)
{
    return module_names;
}

