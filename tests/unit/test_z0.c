/* z0_build (tests/lib) read back by a little parser of its own (inflate, walk every record and
 * attribute, coolkey-card.md §4.4) and by the product's reader (common/z0_parse): header,
 * record order cN, public k(2N+1), private k(2N), fixedAttrs, attributes, and the size rules
 * coolkey and OpenSC set (§4.2, §4.2a). */
#include "check.h"
#include "der.h"
#include "testca.h"
#include "z0.h"
#include "z0_parse.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <zlib.h>

static const uint8_t CUID[10] = {0x40, 0x90, 0x79, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
static uint8_t *der[2];
static size_t der_len[2];

static void make_certs(void)
{
    char dir[] = "/tmp/esc-z0ca.XXXXXX";
    if (!mkdtemp(dir))
        return;
    struct testca *ca = testca_open(dir);
    for (int i = 0; i < 2 && ca; i++) {
        EVP_PKEY *k = EVP_RSA_gen(1024);
        BIGNUM *n = NULL, *e = NULL;
        uint8_t mod[256], ex[8];
        EVP_PKEY_get_bn_param(k, "n", &n);
        EVP_PKEY_get_bn_param(k, "e", &e);
        int ml = BN_bn2bin(n, mod), el = BN_bn2bin(e, ex);
        time_t now = time(NULL);
        der[i] =
            testca_issue(ca, mod, (size_t)ml, ex, (size_t)el, "jsmith", "John Smith",
                         i ? TESTCA_ENCRYPTION : TESTCA_SIGNING, now, now + 86400, &der_len[i]);
        BN_free(n);
        BN_free(e);
        EVP_PKEY_free(k);
    }
    testca_close(ca);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return;
}

static uint8_t *build(int compress, size_t *len)
{
    struct z0_cert c[2] = {
        {der[0], der_len[0], "Signing Key", 1, Z0_SIGNING},
        {der[1], der_len[1], "Encryption Key", 2, Z0_ENCRYPTION},
    };
    return z0_build(CUID, 0x0102, "jsmith's CoolKey", c, 2, compress, len);
}

/* ---- the test's own reader ---- */

static uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct attr {
    uint32_t type;
    uint8_t dt;
    const uint8_t *val; /* string value */
    size_t len;         /* string length */
    uint32_t num;       /* integer value */
};

struct rec {
    char id[3];
    uint32_t fixed;
    size_t nattr;
    struct attr a[4];
};

struct parsed {
    uint16_t format, version, comp, comp_size, comp_off;
    uint8_t cuid[10];
    uint8_t *data;                           /* inflated (or copied) data */
    size_t data_len, obj_offset, count, end; /* end: where the last record stops */
    char name[256];
    struct rec r[8];
};

/* Returns 0 on success, or the line where the object stopped making sense. */
static int parse(const uint8_t *z, size_t len, struct parsed *p)
{
    memset(p, 0, sizeof *p);
    if (len < 20)
        return __LINE__;
    p->format = (uint16_t)be16(z);
    p->version = (uint16_t)be16(z + 2);
    memcpy(p->cuid, z + 4, 10);
    p->comp = (uint16_t)be16(z + 14);
    p->comp_size = (uint16_t)be16(z + 16);
    p->comp_off = (uint16_t)be16(z + 18);
    if ((size_t)p->comp_off + p->comp_size > len)
        return __LINE__;
    uLongf dl = 1 << 20;
    p->data = malloc(dl);
    if (!p->data)
        return __LINE__;
    if (p->comp == 1) {
        uLong sl = p->comp_size;
        if (uncompress2(p->data, &dl, z + p->comp_off, &sl) != Z_OK || sl != p->comp_size)
            return __LINE__; /* the stream must be exactly compSize bytes */
    } else {
        memcpy(p->data, z + p->comp_off, p->comp_size);
        dl = p->comp_size;
    }
    p->data_len = dl;
    const uint8_t *d = p->data;
    if (dl < 5)
        return __LINE__;
    p->obj_offset = be16(d);
    p->count = be16(d + 2);
    size_t nl = d[4];
    if (5 + nl > dl || p->obj_offset < 5 + nl || p->count > 8)
        return __LINE__;
    memcpy(p->name, d + 5, nl);
    size_t off = p->obj_offset;
    for (size_t i = 0; i < p->count; i++) {
        struct rec *r = &p->r[i];
        if (off + 10 > dl || d[off + 2] || d[off + 3])
            return __LINE__;
        r->id[0] = (char)d[off];
        r->id[1] = (char)d[off + 1];
        r->fixed = be32(d + off + 4);
        r->nattr = be16(d + off + 8);
        if (r->nattr > 4)
            return __LINE__;
        off += 10;
        for (size_t j = 0; j < r->nattr; j++) {
            struct attr *a = &r->a[j];
            if (off + 5 > dl)
                return __LINE__;
            a->type = be32(d + off);
            a->dt = d[off + 4];
            off += 5;
            if (a->dt == 0) {
                if (off + 2 > dl)
                    return __LINE__;
                a->len = be16(d + off);
                a->val = d + off + 2;
                off += 2 + a->len;
            } else if (a->dt == 1) {
                if (off + 4 > dl)
                    return __LINE__;
                a->num = be32(d + off);
                off += 4;
            } else if (a->dt > 3) {
                return __LINE__;
            }
            if (off > dl)
                return __LINE__;
        }
    }
    p->end = off;
    return 0;
}

#define CKA_LABEL    0x03
#define CKA_VALUE    0x11
#define CKA_KEY_TYPE 0x100

static int is_string(const struct attr *a, uint32_t type, const void *v, size_t n)
{
    return a->type == type && a->dt == 0 && a->len == n && memcmp(a->val, v, n) == 0;
}

static void header_records_and_attributes(int compress)
{
    EXPECT(der[0] && der[1]);
    size_t len = 0;
    uint8_t *z = build(compress, &len);
    EXPECT(z != NULL);
    struct parsed p;
    int bad = parse(z, len, &p);
    if (bad)
        printf("# parse stopped at test line %d\n", bad);
    EXPECT(bad == 0);
    EXPECT(p.format == 0x0100 && p.version == 0x0102);
    EXPECT_MEM(p.cuid, CUID, 10);
    EXPECT(p.comp == (compress ? 1 : 0) && p.comp_off == 20);
    if (compress)
        EXPECT(z[20] == 0x78); /* RFC 1950 stream, as java.util.zip.Deflater writes */
    /* sizes: coolkey's first read is 255 bytes and its chunk arithmetic needs
     * compOffset + compSize >= 255; OpenSC wants the data >= 260 and the stream inside the
     * object */
    EXPECT(len >= 255 && (size_t)p.comp_off + p.comp_size >= 255);
    EXPECT((size_t)p.comp_off + p.comp_size <= len);
    EXPECT(p.data_len >= 260);
    EXPECT_STR(p.name, "jsmith's CoolKey");
    EXPECT(p.obj_offset == 5 + strlen("jsmith's CoolKey"));
    EXPECT(p.count == 6);
    /* after the last record only padding */
    for (size_t i = p.end; i < p.data_len; i++)
        EXPECT(p.data[i] == 0);

    /* cN, public k(2N+1), private k(2N); fixedAttrs = id | class << 4 | booleans (§4.4) */
    static const char *ids[6] = {"c1", "k3", "k2", "c2", "k5", "k4"};
    static const uint32_t fixed[6] = {
        0x00000091, /* cert, id 1, TOKEN */
        0x000C00A1, /* public, id 1, TOKEN VERIFY VERIFY_RECOVER */
        0x001301B1, /* private, id 1, TOKEN PRIVATE SIGN SIGN_RECOVER SENSITIVE */
        0x00000092, /* cert, id 2, TOKEN */
        0x000050A2, /* public, id 2, TOKEN ENCRYPT WRAP */
        0x0010A1B2, /* private, id 2, TOKEN PRIVATE DECRYPT UNWRAP SENSITIVE */
    };
    static const uint32_t class_mask[5] = {0x380, 0x380, 0xC5F80, 0xF3AF80, 0xF5FF80};
    static const char *labels[2] = {"Signing Key", "Encryption Key"};
    for (size_t i = 0; i < 6; i++) {
        const struct rec *r = &p.r[i];
        const char *label = labels[i / 3];
        EXPECT(r->id[0] == ids[i][0] && r->id[1] == ids[i][1]);
        EXPECT(r->fixed == fixed[i]);
        /* every boolean set is one coolkey materialises for that class */
        uint32_t cls = (r->fixed >> 4) & 7, bools = r->fixed & ~0x7Fu;
        EXPECT(cls <= 4 && (bools & ~class_mask[cls]) == 0);
        EXPECT(r->nattr == 2);
        EXPECT(is_string(&r->a[0], CKA_LABEL, label, strlen(label)));
        if (r->id[0] == 'c') {
            EXPECT(is_string(&r->a[1], CKA_VALUE, der[i / 3], der_len[i / 3]));
        } else {
            EXPECT(r->a[1].type == CKA_KEY_TYPE && r->a[1].dt == 1 && r->a[1].num == 0);
        }
    }
    free(p.data);
    free(z);
}

static void compressed_z0_reads_back_field_by_field(void)
{
    header_records_and_attributes(1);
}

static void uncompressed_z0_reads_back_field_by_field(void)
{
    header_records_and_attributes(0);
}

static void parsed_back_by_the_product_reader(void)
{
    EXPECT(der[0] && der[1]);
    for (int compress = 0; compress <= 1; compress++) {
        size_t len = 0;
        uint8_t *z = build(compress, &len);
        EXPECT(z != NULL && len >= 255);
        struct z0_contents zc;
        EXPECT(z0_parse(z, len, &zc) == ESC_OK);
        EXPECT(zc.hdr.format_version == 0x0100 && zc.hdr.object_version == 0x0102);
        EXPECT(zc.hdr.compression == (compress ? 1 : 0) && zc.hdr.comp_offset == 20);
        EXPECT_MEM(zc.hdr.cuid, CUID, 10);
        EXPECT_STR(zc.token_name, "jsmith's CoolKey");
        EXPECT(zc.object_count == 6 && zc.ncerts == 2);
        EXPECT(zc.certs[0].der_len == der_len[0] && !memcmp(zc.certs[0].der, der[0], der_len[0]));
        EXPECT(zc.certs[1].der_len == der_len[1] && !memcmp(zc.certs[1].der, der[1], der_len[1]));
        EXPECT_STR(zc.certs[0].label, "Signing Key");
        struct der_cert_info info;
        EXPECT(der_cert_parse(zc.certs[0].der, zc.certs[0].der_len, &info) == ESC_OK);
        EXPECT(strstr(info.subject, "jsmith") != NULL);
        z0_free(&zc);
        free(z);
    }
}

/* A toy z0 (no certificate, a tiny one) still meets every size rule: padded data, and a zlib
 * stream long enough that compOffset + compSize >= 255. */
static void small_objects_meet_the_size_rules(void)
{
    static const uint8_t tiny_der[3] = {0x30, 0x01, 0x00};
    struct z0_cert c = {tiny_der, sizeof tiny_der, "x", 0, Z0_SIGNING};
    for (size_t n = 0; n <= 1; n++) {
        for (int compress = 0; compress <= 1; compress++) {
            size_t len = 0;
            uint8_t *z = z0_build(CUID, 7, "", &c, n, compress, &len);
            EXPECT(z != NULL);
            struct parsed p;
            EXPECT(parse(z, len, &p) == 0);
            EXPECT(len >= 255 && (size_t)p.comp_off + p.comp_size >= 255);
            EXPECT((size_t)p.comp_off + p.comp_size <= len);
            EXPECT(p.data_len >= 260 && p.count == 3 * n && p.obj_offset == 5);
            if (n)
                EXPECT(p.r[0].id[0] == 'c' && p.r[0].id[1] == '0' && p.r[2].id[1] == '0');
            free(p.data);
            free(z);
        }
    }
}

static void refuses_what_coolkey_cannot_address(void)
{
    EXPECT(der[0] && der[1]);
    struct z0_cert c[2] = {
        {der[0], der_len[0], "x", 7, Z0_SIGNING},
        {der[1], der_len[1], "y", 1, Z0_ENCRYPTION},
    };
    size_t len = 0;
    EXPECT(z0_build(CUID, 1, "t", c, 1, 1, &len) == NULL); /* k14 has no one-digit name */
    c[0].cert_index = 1; /* two c1 records: OpenSC rejects duplicate IDs */
    EXPECT(z0_build(CUID, 1, "t", c, 2, 1, &len) == NULL);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    EXPECT(z0_build(CUID, 1, longname, c, 1, 1, &len) == NULL); /* name length is one byte */
}

int main(void)
{
    make_certs();
    RUN(compressed_z0_reads_back_field_by_field);
    RUN(uncompressed_z0_reads_back_field_by_field);
    RUN(parsed_back_by_the_product_reader);
    RUN(small_objects_meet_the_size_rules);
    RUN(refuses_what_coolkey_cannot_address);
    free(der[0]);
    free(der[1]);
    return check_status();
}
