/* z0_parse: bounded reader of the combined CoolKey object z0 (coolkey-card.md §4.4).
 * Header(20) | [zlib] data: objectOffset(2) objectCount(2) nameLen(1) name | records:
 * id(4) fixedAttrs(4) attrCount(2) attrs: type(4) dataType(1) value (0: len(2)+bytes,
 * 1: 4-byte int, 2/3: bool without value). Certificates are the CKA_VALUE of `cN` records. */
#include "z0_parse.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CKA_LABEL 0x03u
#define CKA_VALUE 0x11u

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

esc_err z0_parse_header(const uint8_t *obj, size_t len, struct z0_header *h)
{
    if (!obj || !h)
        return ESC_ERR_ARG;
    if (len < Z0_HEADER_LEN)
        return ESC_ERR_BAD_OBJECT;
    h->format_version = be16(obj);
    h->object_version = be16(obj + 2);
    memcpy(h->cuid, obj + 4, sizeof h->cuid);
    h->compression = be16(obj + 14);
    h->comp_size = be16(obj + 16);
    h->comp_offset = be16(obj + 18);
    if (h->comp_offset < Z0_HEADER_LEN || h->comp_size == 0)
        return ESC_ERR_BAD_OBJECT;
    return ESC_OK;
}

esc_err z0_needed_len(const struct z0_header *h, size_t *out)
{
    size_t n;
    if (!h || !out)
        return ESC_ERR_ARG;
    n = (size_t)h->comp_offset + h->comp_size; /* at most 2 * 65535: no overflow */
    if (n > Z0_MAX_OBJECT)
        return ESC_ERR_TOO_BIG;
    *out = n;
    return ESC_OK;
}

/* Inflate a zlib (RFC 1950) stream into at most Z0_MAX_INFLATED bytes. */
static esc_err inflate_capped(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
    z_stream zs;
    uint8_t *buf;
    int zr;
    esc_err rv = ESC_ERR_BAD_OBJECT;

    buf = malloc(Z0_MAX_INFLATED + 1);
    if (!buf)
        return ESC_ERR_NOMEM;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK) {
        free(buf);
        return ESC_ERR_NOMEM;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)inlen;
    zs.next_out = buf;
    zs.avail_out = Z0_MAX_INFLATED + 1; /* one spare byte reveals an oversized stream */
    zr = inflate(&zs, Z_FINISH);
    if (zr == Z_STREAM_END) {
        if (zs.total_out > Z0_MAX_INFLATED) {
            rv = ESC_ERR_TOO_BIG;
        } else {
            *out = buf;
            *outlen = zs.total_out;
            buf = NULL;
            rv = ESC_OK;
        }
    } else if (zr == Z_BUF_ERROR && zs.avail_out == 0) {
        rv = ESC_ERR_TOO_BIG;
    } else if (zr == Z_MEM_ERROR) {
        rv = ESC_ERR_NOMEM;
    }
    inflateEnd(&zs);
    free(buf);
    return rv;
}

/* Walk one record at *p; collect a certificate if it is a cN with CKA_VALUE. */
static esc_err walk_record(const uint8_t **pp, const uint8_t *end, struct z0_contents *c)
{
    const uint8_t *p = *pp, *value = NULL, *label = NULL;
    size_t value_len = 0, label_len = 0;
    uint32_t id;
    uint16_t nattr;

    if (end - p < 10)
        return ESC_ERR_BAD_OBJECT;
    id = be32(p);
    nattr = be16(p + 8);
    p += 10;
    for (uint16_t i = 0; i < nattr; i++) {
        uint32_t type;
        uint8_t dt;
        if (end - p < 5)
            return ESC_ERR_BAD_OBJECT;
        type = be32(p);
        dt = p[4];
        p += 5;
        if (dt == 0) {
            size_t n;
            if (end - p < 2)
                return ESC_ERR_BAD_OBJECT;
            n = be16(p);
            p += 2;
            if ((size_t)(end - p) < n)
                return ESC_ERR_BAD_OBJECT;
            if (type == CKA_VALUE) {
                value = p;
                value_len = n;
            } else if (type == CKA_LABEL) {
                label = p;
                label_len = n;
            }
            p += n;
        } else if (dt == 1) {
            if (end - p < 4)
                return ESC_ERR_BAD_OBJECT;
            p += 4;
        } else if (dt != 2 && dt != 3) {
            return ESC_ERR_BAD_OBJECT;
        }
    }
    *pp = p;
    if ((id >> 24) == 'c' && value && value_len) {
        struct z0_parsed_cert *ct;
        if (c->ncerts == Z0_MAX_CERTS)
            return ESC_OK; /* keep the first ones; more is not an error */
        ct = &c->certs[c->ncerts++];
        ct->object_id = id;
        ct->der = value;
        ct->der_len = value_len;
        if (label_len >= sizeof ct->label)
            label_len = sizeof ct->label - 1;
        for (size_t k = 0; k < label_len; k++)
            ct->label[k] = (label[k] >= 0x20 && label[k] < 0x7F) ? (char)label[k] : '?';
        ct->label[label_len] = '\0';
    }
    return ESC_OK;
}

static esc_err walk_data(struct z0_contents *c)
{
    const uint8_t *d = c->data, *end = c->data + c->data_len, *p;
    size_t obj_off, name_len;

    if (c->data_len < 5)
        return ESC_ERR_BAD_OBJECT;
    obj_off = be16(d);
    c->object_count = be16(d + 2);
    name_len = d[4];
    if (5 + name_len > c->data_len || obj_off < 5 + name_len || obj_off > c->data_len)
        return ESC_ERR_BAD_OBJECT;
    for (size_t k = 0; k < name_len; k++)
        c->token_name[k] = (d[5 + k] >= 0x20 && d[5 + k] < 0x7F) ? (char)d[5 + k] : '?';
    c->token_name[name_len] = '\0';
    p = d + obj_off;
    /* like coolkey, stop at the end of the data even if objectCount says more */
    for (size_t i = 0; i < c->object_count && p < end; i++) {
        esc_err rv = walk_record(&p, end, c);
        if (rv != ESC_OK)
            return rv;
    }
    return ESC_OK;
}

esc_err z0_parse(const uint8_t *obj, size_t len, struct z0_contents *out)
{
    size_t need;
    esc_err rv;

    if (!obj || !out)
        return ESC_ERR_ARG;
    memset(out, 0, sizeof *out);
    rv = z0_parse_header(obj, len, &out->hdr);
    if (rv != ESC_OK)
        return rv;
    rv = z0_needed_len(&out->hdr, &need);
    if (rv != ESC_OK)
        return rv;
    if (need > len)
        return ESC_ERR_BAD_OBJECT;
    if (out->hdr.compression == 1) {
        rv = inflate_capped(obj + out->hdr.comp_offset, out->hdr.comp_size, &out->data,
                            &out->data_len);
        if (rv != ESC_OK)
            return rv;
    } else { /* coolkey treats every other value as uncompressed */
        out->data = malloc(out->hdr.comp_size);
        if (!out->data)
            return ESC_ERR_NOMEM;
        memcpy(out->data, obj + out->hdr.comp_offset, out->hdr.comp_size);
        out->data_len = out->hdr.comp_size;
    }
    rv = walk_data(out);
    if (rv != ESC_OK)
        z0_free(out);
    return rv;
}

void z0_free(struct z0_contents *c)
{
    if (!c)
        return;
    free(c->data);
    c->data = NULL;
    c->data_len = 0;
    c->ncerts = 0;
}
