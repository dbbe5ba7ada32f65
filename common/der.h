/* der: a small, bounded reader of X.509 certificates (DER): validity, subject, issuer.
 * pam_esc links no NSS, so the EXPIRED state comes from here. Hostile input is fine:
 * every length is checked against its container, nesting is shallow and fixed. */
#ifndef ESC_DER_H
#define ESC_DER_H

#include "esc_err.h"

#include <stddef.h>
#include <stdint.h>

#define DER_NAME_MAX 256

struct der_cert_info {
    int64_t not_before; /* seconds since the epoch, UTC */
    int64_t not_after;
    char subject[DER_NAME_MAX]; /* one line, e.g. "CN=John Smith, O=Example"; truncated if long */
    char issuer[DER_NAME_MAX];
};

/* Parse a certificate. ESC_ERR_BAD_CERT on any malformation. Trailing bytes after the
 * outer SEQUENCE are ignored (card objects are padded). */
esc_err der_cert_parse(const uint8_t *der, size_t len, struct der_cert_info *out);

/* UTCTime (tag 0x17, YYMMDDHHMM[SS]Z; YY < 50 -> 20YY) or GeneralizedTime (0x18,
 * YYYYMMDDHHMM[SS][.fff]Z) content -> seconds since the epoch. */
esc_err der_parse_time(uint8_t tag, const uint8_t *s, size_t n, int64_t *out);

#endif
