/* escctl certs (certs_): the certificates on the card, decoded with NSS (design.md "The agent",
 * Certificates).
 *
 * escctl_certs_card.c reads the certificate objects (the combined z0 object, else the C<n>
 * objects of the separate layout; reference/coolkey-card.md §4.2-§4.4) inside one card
 * transaction, bounded by a deadline, never sending VERIFY (no PIN, no PIN try spent).
 * escctl_certs_nss.c decodes each DER certificate with NSS on a private no-database context
 * and prints it (text, JSON, PEM); escctl_certs.c is the command. Card bytes are hostile: a
 * certificate NSS cannot decode is reported as such, the others are still shown. */
#ifndef ESC_ESCCTL_CERTS_H
#define ESC_ESCCTL_CERTS_H

#include "coolkey.h"
#include "esc_err.h"
#include "pcsc.h"
#include "z0_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define ESCCTL_CERTS_USAGE "[--json] [--pem] [--reader NAME] [--timeout MS] [--conf FILE]"

#define CERTS_MAX      16   /* certificate objects shown at most */
#define CERTS_NAME_MAX 1024 /* subject / issuer as text */

struct certs_obj {
    char id[9];               /* object id: "c0" (z0 record) or "C0" (separate layout) */
    char label[Z0_LABEL_MAX]; /* the record's label (z0 layout), else "" */
    uint8_t *der;             /* owned */
    size_t der_len;
};

struct certs_card {
    char reader[PCSC_READER_NAME_MAX];
    bool have_cuid;
    char cuid_hex[2 * CK_CUID_LEN + 1];
    size_t n;
    struct certs_obj obj[CERTS_MAX];
    esc_err note; /* ESC_OK, or why some objects were not read (ESC_ERR_BAD_OBJECT, TOO_BIG) */
};

/* What NSS says about one certificate. */
struct certs_view {
    bool ok; /* false: NSS could not decode it; `error` says why */
    char error[128];
    char subject[CERTS_NAME_MAX];
    char issuer[CERTS_NAME_MAX];
    char serial[2 * 64 + 1];       /* upper-case hex, as openssl's -serial */
    int64_t not_before, not_after; /* seconds since the epoch, UTC */
    bool expired, not_yet_valid;
    long days_left;          /* whole days until notAfter (negative: since) */
    char key_type[16];       /* "RSA", "EC", "DSA", "unknown" */
    unsigned key_bits;       /* 0 unknown */
    char key_usage[192];     /* "Digital Signature, Key Encipherment"; "" if no extension */
    char ext_key_usage[512]; /* "clientAuth, emailProtection, 1.2.3"; "" if no extension */
    char sha256[32 * 3];     /* "AB:CD:..." as openssl's -fingerprint -sha256 */
};

/* Read every certificate object of the card in `reader` (NULL or "": the first reader holding a
 * card), within timeout_ms. On ESC_OK the card was read (out->n may be 0: no certificates);
 * release with certs_card_free. ESC_ERR_NO_APPLET: no CoolKey applet. Others: no pcscd, no
 * reader, no card, or the card failed. */
esc_err certs_read_card(const char *reader, unsigned timeout_ms, struct certs_card *out);
void certs_card_free(struct certs_card *c); /* NULL-safe, idempotent */

/* Private NSS context without any database; certs_nss_close shuts it down. */
esc_err certs_nss_open(void **ctx);
void certs_nss_close(void *ctx); /* NULL-safe */

/* Length of the DER certificate at the start of a (padded) card object: its outer SEQUENCE's
 * header + content when that fits in len, else len. */
size_t certs_der_len(const uint8_t *der, size_t len);

/* Decode one certificate with NSS (certs_nss_open first). Never fails: out->ok says. */
void certs_decode(const uint8_t *der, size_t len, time_t now, struct certs_view *out);

void certs_print_text(FILE *f, const struct certs_obj *o, const struct certs_view *v);
/* One JSON object (no trailing separator); with `card`, its reader and CUID too. */
void certs_print_json(FILE *f, const struct certs_card *card, const struct certs_obj *o,
                      const struct certs_view *v);
/* -----BEGIN CERTIFICATE----- ... 64 columns ... -----END CERTIFICATE----- */
void certs_print_pem(FILE *f, const uint8_t *der, size_t len);

/* escctl certs */
int escctl_cmd_certs(int argc, char **argv);

#endif
