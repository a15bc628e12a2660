/* The catalogue of Apache httpd modules portico knows by name but does not build in (the
 * built-in ones are config.c's list, which wins over this one): Debian's default set is
 * accepted, since its .load files are in every Debian configuration and their directives,
 * where used, are refused on their own; the rest are refused at LoadModule with what they
 * did, so that a config never loses a module's behaviour without a word. */
#include "modcatalog.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#define PHP_HINT                                                                           \
    "run PHP in php-fpm and hand .php files to it, e.g. <FilesMatch \"\\.php$\"> SetHandler " \
    "\"proxy:unix:/run/php/php-fpm.sock|fcgi://localhost\" </FilesMatch>, or load portico's " \
    "own php_module (modules/php) under MPM prefork"
#define CGI_HINT "run the program behind FastCGI (php-fpm, fcgiwrap) or an HTTP upstream"

static const pt_apache_module_t catalogue[] = {
    /* Enabled by Debian's apache2 package: accepted. */
    {"negotiation_module", "content negotiation and type maps", true, NULL},
    /* Refused: their behaviour matters and portico does not have it. */
    {"php_module", "PHP inside the server", false, PHP_HINT},
    {"php5_module", "PHP inside the server", false, PHP_HINT},
    {"php7_module", "PHP inside the server", false, PHP_HINT},
    {"php8_module", "PHP inside the server", false, PHP_HINT},
    {"cgi_module", "CGI scripts", false, CGI_HINT},
    {"cgid_module", "CGI scripts", false, CGI_HINT},
    {"fcgid_module", "FastCGI process management", false,
     "use php-fpm with SetHandler \"proxy:fcgi://...\""},
    {"include_module", "server-side includes", false, NULL},
    {"actions_module", "Action and Script", false, NULL},
    {"userdir_module", "UserDir", false, NULL},
    {"info_module", "server-info", false, NULL},
    {"dav_module", "WebDAV", false, NULL},
    {"dav_fs_module", "WebDAV", false, NULL},
    {"dav_lock_module", "WebDAV", false, NULL},
    {"cache_module", "response caching", false, NULL},
    {"cache_disk_module", "response caching", false, NULL},
    {"cache_socache_module", "response caching", false, NULL},
    {"auth_digest_module", "HTTP Digest authentication", false, NULL},
    {"auth_form_module", "form authentication", false, NULL},
    {"authnz_ldap_module", "LDAP authentication", false, NULL},
    {"ldap_module", "LDAP", false, NULL},
    {"session_module", "sessions", false, NULL},
    {"substitute_module", "response rewriting", false, NULL},
    {"sed_module", "response rewriting", false, NULL},
    {"proxy_html_module", "HTML link rewriting", false, NULL},
    {"proxy_ajp_module", "AJP proxying", false, "proxy to the application over HTTP"},
    {"proxy_uwsgi_module", "uwsgi proxying", false, "proxy to the application over HTTP"},
    {"proxy_scgi_module", "SCGI proxying", false, "proxy to the application over HTTP"},
    {"proxy_connect_module", "CONNECT forwarding", false, NULL},
    {"proxy_ftp_module", "FTP proxying", false, NULL},
    {"speling_module", "spelling correction", false, NULL},
    {"unique_id_module", "UNIQUE_ID", false, NULL},
    {"usertrack_module", "cookie tracking", false, NULL},
    {"mime_magic_module", "content sniffing", false, NULL},
    {"charset_lite_module", "character set translation", false, NULL},
    {"lua_module", "Lua scripting", false, NULL},
    {"perl_module", "Perl inside the server", false, NULL},
    {"wsgi_module", "Python inside the server", false, "run the application behind HTTP"},
    {"security2_module", "ModSecurity", false, NULL},
    {"evasive20_module", "mod_evasive", false, NULL},
    {"md_module", "ACME certificates", false, "obtain certificates with certbot or another "
                                              "ACME client and name them in SSLCertificateFile"},
    {"gnutls_module", "TLS through GnuTLS", false, "use the SSL* directives (OpenSSL)"},
    {"macro_module", "<Macro>", false, NULL},
    {"suexec_module", "SuexecUserGroup", false, NULL},
    {"ratelimit_module", "bandwidth limits", false, NULL},
    {"buffer_module", "request buffering", false, NULL},
    {"data_module", "data: URLs", false, NULL},
    {"ident_module", "ident lookups", false, NULL},
    {"imagemap_module", "image maps", false, NULL},
    {"asis_module", "send-as-is files", false, NULL},
    {"cern_meta_module", "CERN meta files", false, NULL},
    {"dumpio_module", "I/O dumps", false, NULL},
    {"echo_module", "the echo protocol", false, NULL},
    {"xml2enc_module", "charset detection", false, NULL},
    {"vhost_alias_module", "VirtualDocumentRoot", false, NULL},
};

bool pt_apache_module_names(const char *id, const char *arg)
{
    if (strcasecmp(id, arg) == 0)
        return true;
    /* mod_X.c <-> X_module */
    size_t il = strlen(id), al = strlen(arg);
    return il > 7 && al > 6 && strcasecmp(id + il - 7, "_module") == 0 &&
           strncasecmp(arg, "mod_", 4) == 0 && strcasecmp(arg + al - 2, ".c") == 0 &&
           al - 6 == il - 7 && strncasecmp(arg + 4, id, il - 7) == 0;
}

const pt_apache_module_t *pt_apache_module_find(const char *name)
{
    for (size_t i = 0; i < sizeof(catalogue) / sizeof(catalogue[0]); i++)
        if (pt_apache_module_names(catalogue[i].name, name))
            return &catalogue[i];
    return NULL;
}

bool pt_apache_module_is_portico(const char *name)
{
    static const char *const shipped[] = {"php_module"}; /* modules/php */
    for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++)
        if (strcasecmp(name, shipped[i]) == 0)
            return true;
    return false;
}
