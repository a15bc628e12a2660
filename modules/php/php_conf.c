/* mod_php's configuration directives: PHPIniDir (where php.ini is, for the whole server) and
 * php_value / php_flag / php_admin_value / php_admin_flag, per directory (php_value and
 * php_flag in .htaccess too, under AllowOverride Options). As in mod_php, the
 * admin forms set the value at PHP_INI_SYSTEM level, which a php_value of an inner section
 * cannot override; php_value and php_flag are PHP_INI_PERDIR, so they can change only the
 * settings PHP lets a directory change (a value PHP refuses is logged, not ignored). */
#include "php_module.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "php.h"
#include "zend_ini.h"

/* As mod_php's php_dir_cmds (sapi/apache2handler/apache_config.c): php_value and php_flag
 * are OR_OPTIONS, so a .htaccess file may hold them where AllowOverride grants Options (or
 * All); the admin forms are ACCESS_CONF|RSRC_CONF, never in .htaccess. */
const pt_module_directive_t pt_php_directives[] = {
    {"PHPIniDir", PT_MOD_DIRECTIVE_SERVER, 1, 1},
    {"php_value", PT_MOD_DIRECTIVE_SECTIONS | PT_MOD_OVERRIDE_OPTIONS, 2, 2},
    {"php_flag", PT_MOD_DIRECTIVE_SECTIONS | PT_MOD_OVERRIDE_OPTIONS, 2, 2},
    {"php_admin_value", PT_MOD_DIRECTIVE_SECTIONS, 2, 2},
    {"php_admin_flag", PT_MOD_DIRECTIVE_SECTIONS, 2, 2},
    {NULL, 0, 0, 0},
};

static void take_ini_dir(void *ctx, const char *name, int argc, const char *const *argv,
                         const char *file, int line)
{
    if (strcasecmp(name, "PHPIniDir") == 0)
        *(const char **)ctx = argv[0]; /* the last one wins, as in Apache */
}

const char *pt_php_ini_dir(void)
{
    const char *dir = NULL;
    pt_module_directives(take_ini_dir, &dir);
    return dir;
}

/* One setting as the directives of a request leave it. */
typedef struct {
    const char *name, *value;
    int admin;
    int htaccess; /* from a .htaccess file: PHP_INI_STAGE_HTACCESS, as mod_php */
    const char *file;
    int line;
} setting_t;

#define MAX_SETTINGS 128

typedef struct {
    setting_t v[MAX_SETTINGS];
    size_t n;
    const pt_modreq_t *r;
} settings_t;

/* mod_php's php_flag: "On" or "1" is 1, anything else 0; php_value "none" is empty. */
static const char *flag_value(const char *v)
{
    return strcasecmp(v, "On") == 0 || strcmp(v, "1") == 0 ? "1" : "0";
}

static void take_setting(void *ctx, const pt_module_directive_line_t *d)
{
    settings_t *s = ctx;
    const char *name = d->name;
    const char *const *argv = d->argv;
    int admin = strncasecmp(name, "php_admin_", 10) == 0;
    int flag = strcasecmp(name, admin ? "php_admin_flag" : "php_flag") == 0;
    if (!admin && !flag && strcasecmp(name, "php_value") != 0)
        return; /* PHPIniDir */
    const char *value = flag ? flag_value(argv[1])
                             : strcasecmp(argv[1], "none") == 0 ? "" : argv[1];
    size_t i = 0;
    while (i < s->n && strcasecmp(s->v[i].name, argv[0]) != 0)
        i++;
    if (i < s->n && s->v[i].admin && !admin)
        return; /* an admin value stands against an inner php_value, as in mod_php */
    if (i == s->n) {
        if (s->n == MAX_SETTINGS) {
            pt_modreq_log(s->r, PT_MOD_LOG_ERR, "%s:%d: more than %d PHP settings apply: %s "
                          "not applied", d->file, d->line, MAX_SETTINGS, argv[0]);
            return;
        }
        s->n++;
    }
    s->v[i] = (setting_t){argv[0], value, admin, d->htaccess, d->file, d->line};
}

void pt_php_apply_ini(php_req_t *q)
{
    settings_t s = {.n = 0, .r = q->r};
    pt_modreq_directive_lines(q->r, take_setting, &s);
    for (size_t i = 0; i < s.n; i++) {
        const setting_t *e = &s.v[i];
        zend_string *name = zend_string_init(e->name, strlen(e->name), 1);
        zend_result rc = zend_alter_ini_entry_chars(name, e->value, strlen(e->value),
                                                    e->admin ? PHP_INI_SYSTEM : PHP_INI_PERDIR,
                                                    e->htaccess ? PHP_INI_STAGE_HTACCESS
                                                                : PHP_INI_STAGE_ACTIVATE);
        zend_string_release(name);
        if (rc != SUCCESS)
            pt_modreq_log(q->r, PT_MOD_LOG_WARN, "%s:%d: PHP refused %s = \"%s\" (an unknown "
                          "setting, or one that only php_admin_value may change)", e->file,
                          e->line, e->name, e->value);
    }
}
