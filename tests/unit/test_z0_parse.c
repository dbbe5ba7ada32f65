/* test_z0_parse: the z0 reader on objects laid out as coolkey-card.md §4.4 describes
 * (built here independently of tests/lib), compressed and not, with real certificates; and
 * on truncated, oversized and corrupted objects. */
#include "check.h"
#include "der.h"
#include "z0_parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const uint8_t cuid[10] = {0x40, 0x90, 0x00, 0x01, 0x12, 0x34, 0xA1, 0xB2, 0xC3, 0xD4};
static uint8_t cert1[2048], cert2[2048];
static size_t cert1_len, cert2_len;

struct buf {
    uint8_t d[65536];
    size_t n;
};
static void put(struct buf *b, const void *p, size_t n)
{
    memcpy(b->d + b->n, p, n);
    b->n += n;
}
static void put16(struct buf *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 2);
}
static void put32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}
static void attr_str(struct buf *b, uint32_t type, const void *v, size_t n)
{
    put32(b, type);
    uint8_t dt = 0;
    put(b, &dt, 1);
    put16(b, (unsigned)n);
    put(b, v, n);
}
static void attr_int(struct buf *b, uint32_t type, uint32_t v)
{
    put32(b, type);
    uint8_t dt = 1;
    put(b, &dt, 1);
    put32(b, v);
}
static void attr_bool(struct buf *b, uint32_t type, int v)
{
    put32(b, type);
    uint8_t dt = v ? 3 : 2;
    put(b, &dt, 1);
}

/* data part: cN (LABEL, VALUE), public kN, private kN per certificate */
static void build_data(struct buf *d, const uint8_t *const *certs, const size_t *lens, size_t n)
{
    const char *name = "CoolKey for jsmith";
    d->n = 0;
    put16(d, 5 + (unsigned)strlen(name));
    put16(d, (unsigned)(3 * n));
    uint8_t nl = (uint8_t)strlen(name);
    put(d, &nl, 1);
    put(d, name, nl);
    for (size_t i = 0; i < n; i++) {
        put32(d, ((uint32_t)'c' << 24) | ((uint32_t)('0' + i) << 16));
        put32(d, 0x00000090u | (uint32_t)i);
        put16(d, 2);
        attr_str(d, 0x03, "Signing Key", 11);
        attr_str(d, 0x11, certs[i], lens[i]);
        put32(d, ((uint32_t)'k' << 24) | ((uint32_t)('0' + 2 * i + 1) << 16));
        put32(d, 0x000C5FA0u | (uint32_t)i);
        put16(d, 1);
        attr_int(d, 0x100, 0); /* CKA_KEY_TYPE RSA */
        put32(d, ((uint32_t)'k' << 24) | ((uint32_t)('0' + 2 * i) << 16));
        put32(d, 0x0013A1B0u | (uint32_t)i);
        put16(d, 2);
        attr_bool(d, 0x108, 1); /* CKA_SIGN */
        attr_bool(d, 0x104, 0);
    }
}

static void build_z0(struct buf *z, const struct buf *data, int compress)
{
    uint8_t comp[65536];
    uLongf clen = sizeof comp;
    z->n = 0;
    put16(z, 0x0100);
    put16(z, 0x0042);
    put(z, cuid, 10);
    put16(z, compress ? 1 : 0);
    if (compress) {
        if (compress2(comp, &clen, data->d, data->n, 9) != Z_OK)
            clen = 0;
        put16(z, (unsigned)clen);
        put16(z, 20);
        put(z, comp, clen);
    } else {
        put16(z, (unsigned)data->n);
        put16(z, 20);
        put(z, data->d, data->n);
    }
    while (z->n < 255) /* coolkey needs >= 255 bytes */
        z->d[z->n++] = 0;
}

static size_t load_cert(const char *subj, uint8_t *out, size_t cap)
{
    char cmd[512];
    FILE *f;
    size_t n;
    snprintf(
        cmd, sizeof cmd,
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null "
        "-subj '%s' -days 30 -outform DER 2>/dev/null",
        subj);
    f = popen(cmd, "r");
    if (!f)
        return 0;
    n = fread(out, 1, cap, f);
    return pclose(f) == 0 ? n : 0;
}

static void check_two_certs(int compress)
{
    static struct buf data, z;
    const uint8_t *certs[2] = {cert1, cert2};
    size_t lens[2] = {cert1_len, cert2_len}, need;
    struct z0_contents c;
    struct der_cert_info ci;

    build_data(&data, certs, lens, 2);
    build_z0(&z, &data, compress);
    EXPECT_EQ(z0_parse_header(z.d, z.n, &c.hdr), ESC_OK);
    EXPECT_EQ(z0_needed_len(&c.hdr, &need), ESC_OK);
    EXPECT(need <= z.n);
    EXPECT_EQ(z0_parse(z.d, z.n, &c), ESC_OK);
    EXPECT_EQ(c.hdr.object_version, 0x42);
    EXPECT_MEM(c.hdr.cuid, cuid, 10);
    EXPECT_STR(c.token_name, "CoolKey for jsmith");
    EXPECT_EQ(c.object_count, 6);
    EXPECT_EQ(c.ncerts, 2);
    EXPECT_EQ(c.certs[0].der_len, cert1_len);
    EXPECT_MEM(c.certs[0].der, cert1, cert1_len);
    EXPECT_STR(c.certs[0].label, "Signing Key");
    EXPECT_EQ(c.certs[1].object_id, 0x63310000u);
    EXPECT_EQ(der_cert_parse(c.certs[1].der, c.certs[1].der_len, &ci), ESC_OK);
    EXPECT_STR(ci.subject, "CN=Second");
    z0_free(&c);
    z0_free(&c); /* idempotent */
}

static void test_compressed(void)
{
    if (!cert1_len || !cert2_len)
        SKIP("openssl could not make certificates");
    check_two_certs(1);
}

static void test_uncompressed(void)
{
    if (!cert1_len || !cert2_len)
        SKIP("openssl could not make certificates");
    check_two_certs(0);
}

static void test_truncations_and_flips(void)
{
    static struct buf data, z;
    const uint8_t *certs[1] = {cert1};
    size_t lens[1] = {cert1_len};
    struct z0_contents c;

    if (!cert1_len)
        SKIP("openssl could not make certificates");
    for (int comp = 0; comp < 2; comp++) {
        build_data(&data, certs, lens, 1);
        build_z0(&z, &data, comp);
        size_t need = 20 + (size_t)((z.d[16] << 8) | z.d[17]);
        for (size_t len = 0; len < need; len++) {
            esc_err e = z0_parse(z.d, len, &c);
            EXPECT(e != ESC_OK);
        }
        for (size_t i = 0; i < need; i++) {
            uint8_t save = z.d[i];
            z.d[i] ^= 0x5A;
            if (z0_parse(z.d, z.n, &c) == ESC_OK)
                z0_free(&c);
            z.d[i] = save;
        }
    }
}

static void test_bad_records(void)
{
    static struct buf data, z;
    struct z0_contents c;
    /* attribute with an unknown data type */
    data.n = 0;
    put16(&data, 5);
    put16(&data, 1);
    uint8_t zero = 0, seven = 7;
    put(&data, &zero, 1);
    put32(&data, 0x63300000);
    put32(&data, 0);
    put16(&data, 1);
    put32(&data, 0x11);
    put(&data, &seven, 1);
    build_z0(&z, &data, 0);
    EXPECT_EQ(z0_parse(z.d, z.n, &c), ESC_ERR_BAD_OBJECT);
    /* string attribute longer than the data */
    data.n = 0;
    put16(&data, 5);
    put16(&data, 1);
    put(&data, &zero, 1);
    put32(&data, 0x63300000);
    put32(&data, 0);
    put16(&data, 1);
    put32(&data, 0x11);
    put(&data, &zero, 1);
    put16(&data, 0xFFFF);
    build_z0(&z, &data, 1);
    EXPECT_EQ(z0_parse(z.d, z.n, &c), ESC_ERR_BAD_OBJECT);
    /* objectOffset inside the token name */
    data.n = 0;
    put16(&data, 3);
    put16(&data, 0);
    uint8_t four = 4;
    put(&data, &four, 1);
    put(&data, "abcd", 4);
    build_z0(&z, &data, 0);
    EXPECT_EQ(z0_parse(z.d, z.n, &c), ESC_ERR_BAD_OBJECT);
    /* no certificate at all is fine: zero certs */
    data.n = 0;
    put16(&data, 5);
    put16(&data, 0);
    put(&data, &zero, 1);
    build_z0(&z, &data, 1);
    EXPECT_EQ(z0_parse(z.d, z.n, &c), ESC_OK);
    EXPECT_EQ(c.ncerts, 0);
    z0_free(&c);
}

static void test_inflate_bomb(void)
{
    /* 1 MiB of zeros compresses to ~1 KiB; inflated size is capped */
    static uint8_t zeros[1 << 20], comp[8192];
    static struct buf z;
    uLongf clen = sizeof comp;
    struct z0_contents c;
    EXPECT_EQ(compress2(comp, &clen, zeros, sizeof zeros, 9), Z_OK);
    z.n = 0;
    put16(&z, 0x0100);
    put16(&z, 1);
    put(&z, cuid, 10);
    put16(&z, 1);
    put16(&z, (unsigned)clen);
    put16(&z, 20);
    put(&z, comp, clen);
    EXPECT_EQ(z0_parse(z.d, z.n, &c), ESC_ERR_TOO_BIG);
    /* header claiming more than the object holds */
    z.d[16] = 0x20;
    z.d[17] = 0x00;
    EXPECT_EQ(z0_parse(z.d, z.n, &c), ESC_ERR_BAD_OBJECT);
    z.d[16] = 0xFF; /* more than any card object may be */
    z.d[17] = 0xFF;
    EXPECT_EQ(z0_parse(z.d, z.n, &c), ESC_ERR_TOO_BIG);
    /* raw deflate / gzip are not zlib: rejected like coolkey does */
    z.d[16] = (uint8_t)(clen >> 8);
    z.d[17] = (uint8_t)clen;
    z.d[20] = 0x1F;
    z.d[21] = 0x8B;
    EXPECT_EQ(z0_parse(z.d, z.n, &c), ESC_ERR_BAD_OBJECT);
}

int main(void)
{
    cert1_len = load_cert("/CN=First", cert1, sizeof cert1);
    cert2_len = load_cert("/CN=Second", cert2, sizeof cert2);
    RUN(test_compressed);
    RUN(test_uncompressed);
    RUN(test_truncations_and_flips);
    RUN(test_bad_records);
    RUN(test_inflate_bomb);
    return check_status();
}
