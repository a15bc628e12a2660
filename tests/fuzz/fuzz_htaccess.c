/* libFuzzer harness for .htaccess files (src/conf/htaccess_parse.c): any bytes, written as
 * a directory's .htaccess and read under AllowOverride All (and under None with an
 * AllowOverrideList), are parsed into a config or refused with a "file:line: message",
 * never crash, and leave nothing behind (ASan's leak check). The whole configuration
 * language runs: the parser, the walker and every floor's directive table. */
#include "fuzz.h"
#include "htaccess_parse.h"
#include "startup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char file[96];
static pt_config_t *cfg;

static void init(void)
{
    snprintf(dir, sizeof(dir), "/tmp/fuzz-htaccess.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char conf[128];
    snprintf(conf, sizeof(conf), "%s/main.conf", dir);
    FILE *f = fopen(conf, "w");
    CHECK(f != NULL);
    fprintf(f, "Listen 127.0.0.1:8080\nServerName fuzz\nDocumentRoot %s\n", dir);
    fclose(f);
    pt_startup_register();
    char err[1024];
    cfg = pt_config_load(conf, NULL, err, sizeof(err));
    CHECK(cfg != NULL);
    snprintf(file, sizeof(file), "%s/.htaccess", dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (!cfg)
        init();
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
    static const char *const list[] = {"Header", "Require"};
    pt_dir_config_t all = {.overrides = PT_OVR_ALL | PT_OVR_NONFATAL_UNKNOWN,
                           .override_opts = PT_OPT_INDEXES};
    pt_dir_config_t some = {.override_list = (const char **)list, .noverride_list = 2};
    const pt_dir_config_t *allowed[] = {&all, &some};
    for (size_t i = 0; i < 2; i++) {
        char err[2048] = "";
        pt_htaccess_t *ht = pt_htaccess_parse(cfg, file, allowed[i], err, sizeof(err));
        CHECK(ht != NULL || strncmp(err, file, strlen(file)) == 0);
        CHECK(ht == NULL || ht->dc != NULL);
        pt_htaccess_free(ht);
    }
    return 0;
}
