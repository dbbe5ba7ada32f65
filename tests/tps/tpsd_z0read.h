/* tpsd_z0read: parses a z0 object read from a card (coolkey-card.md §4.4) to find its
 * certificates: renew re-certifies their keys, PIN reset and renew adopt an unknown token by
 * the UID in its certificate. Hostile input (fuzzed by tests/fuzz/fuzz_tps_z0.c). */
#ifndef TPSD_Z0READ_H
#define TPSD_Z0READ_H

#include <stddef.h>
#include <stdint.h>

#define TPSD_Z0_MAX_CERTS 10
#define TPSD_Z0_MAX_DATA  (64 * 1024)

struct tpsd_z0cert {
    const uint8_t *der; /* CKA_VALUE, points into tpsd_z0.data */
    size_t der_len;
    char label[128];
    unsigned index; /* N of cN */
};

struct tpsd_z0 {
    uint16_t format_version, object_version;
    uint8_t cuid[10];
    uint8_t *data; /* inflated data (malloc'd) */
    size_t data_len;
    struct tpsd_z0cert certs[TPSD_Z0_MAX_CERTS];
    size_t n_certs;
};

/* 0 on success (z0_free it), -1 if malformed. */
int tpsd_z0_parse(const uint8_t *obj, size_t len, struct tpsd_z0 *out);
void tpsd_z0_free(struct tpsd_z0 *z);

#endif
