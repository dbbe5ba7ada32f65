/* z0_parse: bounded reader of CoolKey objects holding certificates
 * (reference/coolkey-card.md §4.3, §4.4): the combined `z0` object (20-byte header,
 * optional zlib stream inflated with a size cap, records walked attribute by attribute)
 * and old "separate"-layout `C<n>` objects (raw DER). */
#ifndef ESC_Z0_PARSE_H
#define ESC_Z0_PARSE_H

#include "esc_err.h"

#include <stddef.h>
#include <stdint.h>

#define Z0_HEADER_LEN   20
#define Z0_MAX_OBJECT   (64 * 1024)  /* bytes read from the card at most */
#define Z0_MAX_INFLATED (128 * 1024) /* inflated data at most */
#define Z0_MAX_CERTS    10
#define Z0_LABEL_MAX    128

struct z0_header {
    uint16_t format_version, object_version;
    uint8_t cuid[10];
    uint16_t compression; /* 0 none, 1 zlib */
    uint16_t comp_size, comp_offset;
};

struct z0_parsed_cert {
    uint32_t object_id; /* 'c' 'N' 0 0 */
    const uint8_t *der; /* points into z0_contents.data */
    size_t der_len;
    char label[Z0_LABEL_MAX];
};

struct z0_contents {
    struct z0_header hdr;
    char token_name[256];
    size_t object_count;
    size_t ncerts;
    struct z0_parsed_cert certs[Z0_MAX_CERTS];
    uint8_t *data; /* owned: the (inflated) data the certs point into */
    size_t data_len;
};

/* Header of a z0 object (first 20 bytes). ESC_ERR_BAD_OBJECT if malformed. */
esc_err z0_parse_header(const uint8_t *obj, size_t len, struct z0_header *out);
/* Bytes of the object a reader must fetch: comp_offset + comp_size (bounded by
 * Z0_MAX_OBJECT, else ESC_ERR_TOO_BIG). */
esc_err z0_needed_len(const struct z0_header *h, size_t *out);
/* Parse a whole z0 object. On success out->data must be released with z0_free. */
esc_err z0_parse(const uint8_t *obj, size_t len, struct z0_contents *out);
void z0_free(struct z0_contents *c); /* NULL-safe, idempotent */

#endif
