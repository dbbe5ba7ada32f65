/* z0.h: build the combined CoolKey PKCS#11 object `z0` (coolkey-card.md §4.4) that both the
 * virtual card's provisioning and the reference TPS write, in the exact layout libcoolkeypk11
 * and OpenSC parse: 20-byte header, zlib (RFC 1950) data, records cN, public kN, private kN. */
#ifndef ESC_Z0_H
#define ESC_Z0_H

#include <stddef.h>
#include <stdint.h>

enum z0_usage { Z0_SIGNING = 1, Z0_ENCRYPTION = 2 };

struct z0_cert {
    const uint8_t *der; /* the X.509 certificate */
    size_t der_len;
    const char *label;   /* CKA_LABEL, e.g. "Signing Key" */
    unsigned cert_index; /* N of cN; the private key is on-card key 2N, the public key 2N+1 */
    enum z0_usage usage;
};

/* Builds z0 for `n` certificates. object_version goes into the header (coolkey caches by it);
 * `compress` selects zlib. The result is padded to at least 255 bytes as coolkey needs, the data
 * to at least 260 bytes as OpenSC needs, and a zlib stream too short for compOffset + compSize
 * >= 255 is stored (zlib level 0) instead. cert_index must be 0..4 and unique.
 * Returns a malloc'd buffer and its length in *out_len, or NULL on failure. */
uint8_t *z0_build(const uint8_t cuid[10], uint16_t object_version, const char *token_name,
                  const struct z0_cert *certs, size_t n, int compress, size_t *out_len);

#endif
