/* test_tps_z0read: the reference TPS's reader of a card's z0 (renew and token adoption):
 * certificates found with index and label, compressed or not; truncated, inconsistent or
 * corrupt objects refused. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "check.h"
#include "tpsd_z0read.h"
#include "z0.h"

static uint8_t data[512];
static size_t data_len;

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static size_t attr_str(uint8_t *p, uint32_t type, const void *v, size_t n)
{
    p[0] = (uint8_t)(type >> 24), p[1] = (uint8_t)(type >> 16), p[2] = (uint8_t)(type >> 8);
    p[3] = (uint8_t)type, p[4] = 0;
    put16(p + 5, (unsigned)n);
    memcpy(p + 7, v, n);
    return 7 + n;
}

/* data: name "jsmith", c1 (LABEL, VALUE), k2 (an integer attribute, a true boolean) */
static void build_data(void)
{
    static const uint8_t der[] = {0x30, 0x03, 0x02, 0x01, 0x07};
    size_t n = 0;
    put16(data, 5 + 6);
    put16(data + 2, 2);
    data[4] = 6;
    memcpy(data + 5, "jsmith", 6);
    n = 11;
    memcpy(data + n, "c1\0\0", 4), put16(data + n + 8, 2);
    memset(data + n + 4, 0, 4);
    n += 10;
    n += attr_str(data + n, 0x03, "Signing Certificate", 19);
    n += attr_str(data + n, 0x11, der, sizeof(der));
    memcpy(data + n, "k2\0\0", 4), memset(data + n + 4, 0, 4), put16(data + n + 8, 2);
    n += 10;
    memcpy(data + n, "\0\0\0\x01\x01\0\0\0\x03", 9), n += 9; /* KEY_TYPE integer */
    memcpy(data + n, "\0\0\0\x02\x03", 5), n += 5;           /* PRIVATE true */
    data_len = n;
}

static size_t build_obj(uint8_t *obj, int compress)
{
    uLongf clen = 400;
    memset(obj, 0, 20);
    put16(obj, 0x0100);
    put16(obj + 2, 0x0042);
    memcpy(obj + 4, "\x40\x90\x61\x45\xC9\x04\x00\x00\xAB\xCD", 10);
    put16(obj + 18, 20);
    if (compress) {
        compress2(obj + 20, &clen, data, data_len, 9);
        put16(obj + 14, 1);
    } else {
        memcpy(obj + 20, data, data_len);
        clen = data_len;
    }
    put16(obj + 16, (unsigned)clen);
    return 20 + clen + 30; /* padded, as on a card */
}

static void test_compressed(void)
{
    uint8_t obj[600];
    struct tpsd_z0 z;
    size_t len = build_obj(obj, 1);
    EXPECT_EQ(tpsd_z0_parse(obj, len, &z), 0);
    EXPECT_EQ(z.object_version, 0x42);
    EXPECT_EQ(z.n_certs, 1);
    EXPECT_EQ(z.certs[0].index, 1);
    EXPECT_STR(z.certs[0].label, "Signing Certificate");
    EXPECT_EQ(z.certs[0].der_len, 5);
    EXPECT_EQ(z.certs[0].der[4], 0x07);
    tpsd_z0_free(&z);
}

static void test_uncompressed(void)
{
    uint8_t obj[600];
    struct tpsd_z0 z;
    size_t len = build_obj(obj, 0);
    EXPECT_EQ(tpsd_z0_parse(obj, len, &z), 0);
    EXPECT_EQ(z.n_certs, 1);
    tpsd_z0_free(&z);
}

static void test_truncated_and_corrupt(void)
{
    uint8_t obj[600], copy[600];
    struct tpsd_z0 z;
    size_t len = build_obj(obj, 1), clen = (size_t)(obj[16] << 8 | obj[17]);
    for (size_t n = 0; n < 20 + clen; n++)
        EXPECT_EQ(tpsd_z0_parse(obj, n, &z), -1);
    memcpy(copy, obj, len);
    copy[25] ^= 0xFF; /* corrupt zlib stream */
    EXPECT_EQ(tpsd_z0_parse(copy, len, &z), -1);
    memcpy(copy, obj, len);
    put16(copy + 18, 10); /* data offset inside the header */
    EXPECT_EQ(tpsd_z0_parse(copy, len, &z), -1);
    /* uncompressed: one more object than there are records */
    len = build_obj(obj, 0);
    put16(obj + 20 + 2, 3);
    EXPECT_EQ(tpsd_z0_parse(obj, len, &z), -1);
    len = build_obj(obj, 0);
    obj[20 + 4] = 200; /* token name longer than the object offset allows */
    EXPECT_EQ(tpsd_z0_parse(obj, len, &z), -1);
}

/* What the TPS writes (tests/lib/z0.c) it can read back for renew. */
static void test_roundtrip_z0_build(void)
{
    static const uint8_t cuid[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    uint8_t der1[300], der2[200];
    struct z0_cert certs[2];
    struct tpsd_z0 z;
    size_t len;
    uint8_t *obj;
    memset(der1, 0x11, sizeof(der1));
    memset(der2, 0x22, sizeof(der2));
    der1[0] = der2[0] = 0x30;
    certs[0] = (struct z0_cert){der1, sizeof(der1), "Signing Certificate", 1, Z0_SIGNING};
    certs[1] = (struct z0_cert){der2, sizeof(der2), "Encryption Certificate", 2, Z0_ENCRYPTION};
    obj = z0_build(cuid, 77, "jsmith", certs, 2, 1, &len);
    EXPECT(obj != NULL);
    EXPECT(len >= 255);
    EXPECT_EQ(tpsd_z0_parse(obj, len, &z), 0);
    free(obj);
    EXPECT_EQ(z.object_version, 77);
    EXPECT_MEM(z.cuid, cuid, 10);
    EXPECT_EQ(z.n_certs, 2);
    EXPECT_EQ(z.certs[0].index + z.certs[1].index, 3);
    for (size_t i = 0; i < 2; i++) {
        int sign = z.certs[i].index == 1;
        EXPECT_EQ(z.certs[i].der_len, sign ? sizeof(der1) : sizeof(der2));
        EXPECT_MEM(z.certs[i].der, sign ? der1 : der2, z.certs[i].der_len);
        EXPECT_STR(z.certs[i].label, sign ? "Signing Certificate" : "Encryption Certificate");
    }
    tpsd_z0_free(&z);
}

int main(void)
{
    build_data();
    RUN(test_compressed);
    RUN(test_uncompressed);
    RUN(test_truncated_and_corrupt);
    RUN(test_roundtrip_z0_build);
    return check_status();
}
