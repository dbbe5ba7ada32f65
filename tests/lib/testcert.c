/* testcert: certificates made in memory for the unit tests (testcert.h). */
#include "testcert.h"

#include <openssl/x509v3.h>
#include <stdlib.h>

static void add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
    if (e)
        X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

X509 *testcert_make(const char *cn, const char *san, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
                    bool ca)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    X509V3_CTX v3;
    if (!x || !n) {
        X509_free(x);
        X509_NAME_free(n);
        return NULL;
    }
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), rand() & 0xffffff);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    add_ext(x, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (san)
        add_ext(x, &v3, NID_subject_alt_name, san);
    X509_sign(x, ikey ? ikey : key, EVP_sha256());
    X509_NAME_free(n);
    return x;
}
