/* Secure by default, checked by a scanner: testssl.sh (Debian's testssl.sh) against portico
 * with no SSLProtocol and no SSLCipherSuite line finds nothing above OK/INFO in what the
 * issue names (TLS 1.2 and 1.3 only, AEAD suites with forward secrecy only, the server's
 * order, no compression, no client-initiated renegotiation) and in a few classic
 * vulnerability checks. The checks are a subset (-p -s -f -P -R -C -H -I -O -Z -4 -W) so that
 * a scan stays around a minute; its JSON output is read for the severities. The defaults
 * do not depend on the MPM: one run. */
/* mpms: event */
#include "harness.h"
#include "tlsx_tools.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Findings about the scanner's own machine, not the server. */
static const char *const scanner_local[] = {"engine_problem", NULL};

/* The next "key": "value" string of a JSON object at or after p (testssl writes flat
 * objects of string fields, one finding each); NULL when none. */
static char *json_field(const char *obj, const char *end, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\"", key);
    const char *k = strstr(obj, pat);
    if (!k || k > end)
        return NULL;
    const char *v = strchr(k + strlen(pat), '"');
    if (!v || v > end)
        return NULL;
    v++;
    const char *e = v;
    while (*e && *e != '"')
        e += *e == '\\' && e[1] ? 2 : 1;
    return strndup(v, (size_t)(e - v));
}

/* Appends "id severity finding" of every finding above OK/INFO (scanner-local ones aside)
 * to bad; returns how many findings there were in all. Fills *ids with a list of ids. */
static int read_findings(const char *json, char *bad, size_t badlen, char *ids, size_t idslen)
{
    int n = 0;
    for (const char *o = strchr(json, '{'); o; o = strchr(o + 1, '{')) {
        const char *end = strchr(o, '}');
        if (!end)
            break;
        char *id = json_field(o, end, "id"), *sev = json_field(o, end, "severity");
        char *finding = json_field(o, end, "finding");
        if (id && sev) {
            n++;
            bool local = false;
            for (int i = 0; scanner_local[i]; i++)
                local |= strcmp(id, scanner_local[i]) == 0;
            if (!local && strcmp(sev, "OK") != 0 && strcmp(sev, "INFO") != 0)
                snprintf(bad + strlen(bad), badlen - strlen(bad), "%s %s %s\n", id, sev,
                         finding ? finding : "");
            snprintf(ids + strlen(ids), idslen - strlen(ids), " %s=%s", id,
                     finding ? finding : "");
        }
        free(id);
        free(sev);
        free(finding);
        o = end;
    }
    return n;
}

static void assert_found(const char *ids, const char *id_and_finding)
{
    ck_assert_msg(strstr(ids, id_and_finding) != NULL, "the scan has no '%s' in:\n%.6000s",
                  id_and_finding, ids);
}

START_TEST(testssl_finds_nothing_to_flag_in_the_defaults)
{
    pth_t *h = pth_new();
    pth_write_filef(h, "index.html", "scanned");
    /* RSA and ECDSA certificates, as a server that has both; no SSLProtocol, no
     * SSLCipherSuite, no SSLHonorCipherOrder. */
    pth_config_raw(h,
        "MPM event\nListen 127.0.0.1:@PORT@ https\nServerName a.test\n"
        "ErrorLog @DIR@/error.log\nPidFile @DIR@/portico.pid\nLogLevel info\n"
        "DocumentRoot @DOCROOT@\n<Directory @DOCROOT@>\nRequire all granted\n</Directory>\n"
        "SSLEngine on\nSSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
        "SSLCertificateFile %s\nSSLCertificateKeyFile %s\n",
        tlsx_file("a.test.rsa.pem"), tlsx_file("a.test.rsa.key"), tlsx_file("a.test.ec.pem"),
        tlsx_file("a.test.ec.key"));
    pth_start(h);
    int code = -1;
    char *out = tlsx_sh(250, &code,
                        "testssl --quiet --color 0 --warnings off --ip one --jsonfile %s "
                        "-p -s -f -P -R -C -H -I -O -Z -4 -W 127.0.0.1:%d",
                        pth_path(h, "testssl.json"), h->port);
    char *json = pth_read_file(pth_path(h, "testssl.json"), NULL);
    ck_assert_msg(json != NULL, "testssl wrote no JSON (exit %d):\n%.4000s", code, out);
    static char bad[16384], ids[65536];
    bad[0] = ids[0] = '\0';
    int n = read_findings(json, bad, sizeof(bad), ids, sizeof(ids));
    ck_assert_msg(n > 20, "only %d findings (exit %d):\n%.4000s", n, code, out);
    ck_assert_msg(bad[0] == '\0', "testssl flags:\n%s", bad);
    /* The scan did look at what the defaults promise. */
    assert_found(ids, " TLS1=not offered");
    assert_found(ids, " TLS1_1=not offered");
    assert_found(ids, " TLS1_2=offered");
    assert_found(ids, " TLS1_3=offered");
    assert_found(ids, " cipher_order=server");
    assert_found(ids, " secure_client_renego=not vulnerable");
    assert_found(ids, " CRIME_TLS=not vulnerable");
    assert_found(ids, " cipherlist_3DES_IDEA=not offered");
    assert_found(ids, " cipherlist_AVERAGE=not offered");
    free(json);
    free(out);
    pth_stop(h);
    pth_free(h);
}
END_TEST

int main(void)
{
    tlsx_pki();
    Suite *s = suite_create("testssl");
    TCase *tc = tcase_create("scan");
    tcase_set_timeout(tc, 280);
    tcase_add_test(tc, testssl_finds_nothing_to_flag_in_the_defaults);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
