/* tpsd_ldap: search + simple bind against the rig's slapd (libldap). */
#define LDAP_DEPRECATED 0
#include "tpsd_ldap.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <ldap.h>

#include "tpsd_log.h"

static LDAP *connect_ldap(const char *url)
{
    LDAP *ld = NULL;
    int v3 = LDAP_VERSION3;
    struct timeval tmo = {.tv_sec = 5};
    if (ldap_initialize(&ld, url) != LDAP_SUCCESS)
        return NULL;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tmo);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tmo);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    return ld;
}

/* Finds the single entry uid=<uid>: 0 and its DN, 1 none/several, 2 server error. */
static int find_user(LDAP *ld, const char *base, const char *uid, char *dn, size_t dn_cap, char *cn,
                     size_t cn_cap)
{
    struct berval in = {.bv_len = strlen(uid), .bv_val = (char *)uid}, esc = {0};
    char filter[600];
    char *attrs[] = {"cn", NULL};
    struct timeval tmo = {.tv_sec = 5};
    LDAPMessage *res = NULL, *e;
    int rc, ret = 2;
    if (ldap_bv2escaped_filter_value(&in, &esc) != 0)
        return 2;
    snprintf(filter, sizeof(filter), "(uid=%s)", esc.bv_val);
    ber_memfree(esc.bv_val);
    rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tmo, 2,
                           &res);
    if (rc == LDAP_SIZELIMIT_EXCEEDED) {
        ret = 1;
        goto out;
    }
    if (rc != LDAP_SUCCESS) {
        tpsd_log(0, "LDAP search for the user failed: %s", ldap_err2string(rc));
        ret = rc == LDAP_NO_SUCH_OBJECT ? 1 : 2;
        goto out;
    }
    if (ldap_count_entries(ld, res) != 1) {
        ret = 1;
        goto out;
    }
    e = ldap_first_entry(ld, res);
    {
        char *d = ldap_get_dn(ld, e);
        struct berval **vals = ldap_get_values_len(ld, e, "cn");
        if (!d || strlen(d) >= dn_cap) {
            ldap_memfree(d);
            ldap_value_free_len(vals);
            goto out;
        }
        snprintf(dn, dn_cap, "%s", d);
        ldap_memfree(d);
        if (vals && vals[0] && vals[0]->bv_len < cn_cap) {
            memcpy(cn, vals[0]->bv_val, vals[0]->bv_len);
            cn[vals[0]->bv_len] = '\0';
        }
        ldap_value_free_len(vals);
    }
    ret = 0;
out:
    ldap_msgfree(res);
    return ret;
}

enum tpsd_ldap_rc tpsd_ldap_check(const char *url, const char *base, const char *uid,
                                  const char *password, char *cn, size_t cn_cap)
{
    LDAP *ld;
    char dn[1024];
    struct berval cred;
    enum tpsd_ldap_rc ret = TPSD_LDAP_UNAVAILABLE;
    int rc;
    if (cn_cap)
        snprintf(cn, cn_cap, "%s", uid);
    /* An empty password would make an unauthenticated bind succeed (RFC 4513 5.1.2). */
    if (!uid[0] || !password[0])
        return TPSD_LDAP_BAD_CREDENTIALS;
    ld = connect_ldap(url);
    if (!ld)
        return TPSD_LDAP_UNAVAILABLE;
    rc = find_user(ld, base, uid, dn, sizeof(dn), cn, cn_cap);
    if (rc != 0) {
        ret = rc == 1 ? TPSD_LDAP_BAD_CREDENTIALS : TPSD_LDAP_UNAVAILABLE;
        goto out;
    }
    cred.bv_val = (char *)password;
    cred.bv_len = strlen(password);
    rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    if (rc == LDAP_SUCCESS)
        ret = TPSD_LDAP_OK;
    else if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
             rc == LDAP_UNWILLING_TO_PERFORM)
        ret = TPSD_LDAP_BAD_CREDENTIALS;
    else
        tpsd_log(0, "LDAP bind failed: %s", ldap_err2string(rc));
out:
    ldap_unbind_ext_s(ld, NULL, NULL);
    return ret;
}
