/* tpsd_ldap: the user check behind LOGIN / EXTENDED_LOGIN, as Dogtag's ldap1 authenticator
 * does it: anonymous search for uid=<id> under the base DN, then a simple bind as that entry
 * with the password. */
#ifndef TPSD_LDAP_H
#define TPSD_LDAP_H

#include <stddef.h>

enum tpsd_ldap_rc {
    TPSD_LDAP_OK = 0,
    TPSD_LDAP_BAD_CREDENTIALS = 1, /* no such user, several, wrong or empty password */
    TPSD_LDAP_UNAVAILABLE = 2,     /* the server could not be reached or failed */
};

/* On success copies the entry's cn (or the uid when it has none) into cn. */
enum tpsd_ldap_rc tpsd_ldap_check(const char *url, const char *base, const char *uid,
                                  const char *password, char *cn, size_t cn_cap);

#endif
