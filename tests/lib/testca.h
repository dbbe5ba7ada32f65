/* testca.h: the rig's test certificate authority (OpenSSL libcrypto). Its key and
 * certificate live in a directory as ca.key.pem and ca.cert.pem; the virtual card's
 * provisioning and the reference TPS issue user certificates from it. */
#ifndef ESC_TESTCA_H
#define ESC_TESTCA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct testca;

/* Opens the CA in `dir`, creating a new RSA-2048 self-signed CA ("CN=pam_esc Test CA,
 * O=pam_esc rig") there first if the files do not exist (written atomically, key 0600).
 * Returns NULL with a message on stderr on failure. */
struct testca *testca_open(const char *dir);
void testca_close(struct testca *ca);

enum testca_usage { TESTCA_SIGNING = 1, TESTCA_ENCRYPTION = 2 };

/* Issues a certificate for an RSA public key given as big-endian modulus and exponent.
 * Subject "UID=<uid>, CN=<cn>, O=pam_esc rig"; key usage digitalSignature+nonRepudiation
 * (signing) or keyEncipherment+dataEncipherment (encryption); validity [not_before, not_after].
 * Returns a malloc'd DER certificate and its length, or NULL. */
uint8_t *testca_issue(struct testca *ca, const uint8_t *modulus, size_t mod_len,
                      const uint8_t *exponent, size_t exp_len, const char *uid, const char *cn,
                      enum testca_usage usage, time_t not_before, time_t not_after,
                      size_t *der_len);

#endif
