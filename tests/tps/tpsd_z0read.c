/* tpsd_z0read: z0 header, zlib data, object records, certificate values. */
#include "tpsd_z0read.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define CKA_LABEL 0x03
#define CKA_VALUE 0x11

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* Inflates an RFC 1950 stream into at most TPSD_Z0_MAX_DATA bytes. */
static uint8_t *inflate_data(const uint8_t *in, size_t len, size_t *out_len)
{
    z_stream zs;
    uint8_t *out = malloc(TPSD_Z0_MAX_DATA);
    int rc;
    if (!out)
        return NULL;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit(&zs) != Z_OK) {
        free(out);
        return NULL;
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = TPSD_Z0_MAX_DATA;
    rc = inflate(&zs, Z_FINISH);
    *out_len = TPSD_Z0_MAX_DATA - zs.avail_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* Walks one object record at data[*pos]; fills a cert entry for cN objects. */
static int walk_object(struct tpsd_z0 *z, size_t *pos)
{
    const uint8_t *d = z->data;
    size_t p = *pos, n = z->data_len, attrs;
    const uint8_t *id;
    struct tpsd_z0cert cert = {0};
    if (p + 10 > n)
        return -1;
    id = d + p;
    attrs = get16(d + p + 8);
    p += 10;
    for (size_t a = 0; a < attrs; a++) {
        uint32_t type;
        uint8_t dt;
        if (p + 5 > n)
            return -1;
        type = (uint32_t)d[p] << 24 | (uint32_t)d[p + 1] << 16 | (uint32_t)d[p + 2] << 8 | d[p + 3];
        dt = d[p + 4];
        p += 5;
        if (dt == 0) {
            size_t vlen;
            if (p + 2 > n)
                return -1;
            vlen = get16(d + p);
            p += 2;
            if (p + vlen > n)
                return -1;
            if (type == CKA_VALUE) {
                cert.der = d + p;
                cert.der_len = vlen;
            } else if (type == CKA_LABEL) {
                size_t l = vlen < sizeof(cert.label) - 1 ? vlen : sizeof(cert.label) - 1;
                memcpy(cert.label, d + p, l);
                cert.label[l] = '\0';
            }
            p += vlen;
        } else if (dt == 1) {
            if (p + 4 > n)
                return -1;
            p += 4;
        } else if (dt != 2 && dt != 3) {
            return -1;
        }
    }
    if (id[0] == 'c' && id[1] >= '0' && id[1] <= '9' && cert.der && cert.der_len > 0 &&
        z->n_certs < TPSD_Z0_MAX_CERTS) {
        cert.index = (unsigned)(id[1] - '0');
        z->certs[z->n_certs++] = cert;
    }
    *pos = p;
    return 0;
}

int tpsd_z0_parse(const uint8_t *obj, size_t len, struct tpsd_z0 *out)
{
    unsigned comp, comp_size, comp_off, obj_off, count;
    size_t pos;
    memset(out, 0, sizeof(*out));
    if (len < 20)
        return -1;
    out->format_version = (uint16_t)get16(obj);
    out->object_version = (uint16_t)get16(obj + 2);
    memcpy(out->cuid, obj + 4, 10);
    comp = get16(obj + 14);
    comp_size = get16(obj + 16);
    comp_off = get16(obj + 18);
    if (comp_off < 20 || (size_t)comp_off + comp_size > len)
        return -1;
    if (comp == 1) {
        out->data = inflate_data(obj + comp_off, comp_size, &out->data_len);
    } else {
        out->data = malloc(comp_size ? comp_size : 1);
        if (out->data)
            memcpy(out->data, obj + comp_off, comp_size);
        out->data_len = comp_size;
    }
    if (!out->data || out->data_len < 5)
        goto bad;
    obj_off = get16(out->data);
    count = get16(out->data + 2);
    if (obj_off < 5 + (unsigned)out->data[4] || obj_off > out->data_len || count > 100)
        goto bad;
    pos = obj_off;
    for (unsigned i = 0; i < count; i++)
        if (walk_object(out, &pos) < 0)
            goto bad;
    return 0;
bad:
    tpsd_z0_free(out);
    return -1;
}

void tpsd_z0_free(struct tpsd_z0 *z)
{
    free(z->data);
    memset(z, 0, sizeof(*z));
}
