/* coolkey_certs (ck_): every certificate a CoolKey card holds, as DER, read the way coolkey
 * reads them (reference/coolkey-card.md §4.2-§4.4): the combined z0 object (its first 255
 * bytes, then the rest its header announces, then z0_parse), else, on a card without z0, the
 * C<n> objects of the separate layout (LIST OBJECTS, READ OBJECT each: raw DER). Never sends
 * VERIFY. Used by the probe (EXPIRED, the facts escctl status shows) and by escctl certs. */
#ifndef ESC_COOLKEY_CERTS_H
#define ESC_COOLKEY_CERTS_H

#include "coolkey.h"
#include "esc_err.h"
#include "pcsc.h"
#include "z0_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CK_CERTS_MAX    16          /* certificates kept at most */
#define CK_C_OBJECT_MAX (16 * 1024) /* a separate-layout certificate object at most */

struct ck_cert {
    uint32_t id;              /* 'c' n 0 0 (a z0 record) or 'C' n 0 0 (a separate object) */
    char label[Z0_LABEL_MAX]; /* the z0 record's label; "" in the separate layout */
    uint8_t *der;             /* owned */
    size_t der_len;
};

struct ck_certs {
    size_t n;
    struct ck_cert cert[CK_CERTS_MAX];
    bool have_cuid; /* the CUID in z0's header */
    uint8_t cuid[CK_CUID_LEN];
    /* ESC_OK, or why not every certificate could be read: ESC_ERR_BAD_OBJECT (z0 unusable: the
     * card needs enrolling again), ESC_ERR_TOO_BIG (more objects or larger ones than we read) */
    esc_err note;
};

/* Read them from the selected CoolKey applet. ESC_OK: the card answered (out->n may be 0;
 * out->note says what was left out); release with ck_certs_free. Any other error: the card
 * failed (garbage, pulled, deadline); nothing to release. */
esc_err ck_read_certs(pcsc_card *card, struct ck_certs *out);
void ck_certs_free(struct ck_certs *c); /* NULL-safe, idempotent */

#endif
