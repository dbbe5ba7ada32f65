/* testcert.h: a certificate made in memory for the unit tests of the TLS trust code (the trust
 * anchors, the TPS connection): a CA (issuer NULL, self-signed) or a leaf it signs, valid from
 * an hour ago for a day, with optional subjectAltName. OpenSSL libcrypto. */
#ifndef ESC_TESTCERT_H
#define ESC_TESTCERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>

/* CN cn, subjectAltName san (e.g. "IP:127.0.0.1,DNS:tps.example.com"; NULL: none), public key
 * key, signed by ikey as issuer (NULL: self-signed with key); ca: basicConstraints CA:TRUE. */
X509 *testcert_make(const char *cn, const char *san, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
                    bool ca);

#endif
