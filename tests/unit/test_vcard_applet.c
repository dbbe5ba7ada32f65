/* test_vcard_applet: the virtual card's CoolKey applet driven directly (no pcscd): SELECT,
 * status sizes, PIN counters, nonce and ACL rules, objects, COMPUTE CRYPT, malformed APDUs. */
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "check.h"
#include "test_vcard_util.h"

static void fresh(struct vc_card *c)
{
    vc_card_init(c);
    c->package_loaded = c->applet_installed = true;
    vc_applet_wipe(c, VC_DEFAULT_MEM);
}

static void test_select_and_sizes(void)
{
    struct vc_card c;
    struct rsp r;
    fresh(&c);
    EXPECT_EQ(tx(&c, "00 A4 04 00 07 62 76 01 FF 00 00 00", &r), 0x9000);
    EXPECT_EQ(r.len, 0u); /* coolkey needs a plain 9000 */
    EXPECT_EQ(tx(&c, "B0 3C 00 00 10", &r), 0x9000);
    EXPECT_EQ(r.len, 16u);
    EXPECT_EQ(r.d[2], 1);
    EXPECT_EQ(r.d[3], 4);
    EXPECT(r.d[6] < 0x80 && r.d[7] < 0x80);       /* Dogtag reads total memory as signed bytes */
    EXPECT_EQ(tx(&c, "B0 3C 01 00", &r), 0x6D00); /* OpenSC's driver match */
    EXPECT_EQ(tx(&c, "B0 F2 00 00 04", &r), 0x9000);
    EXPECT_EQ(r.len, 4u);
    EXPECT_EQ(r.d[0], 0x07);
    EXPECT_EQ(r.d[1], 0); /* no PIN yet: coolkey shows the token as not needing login */
    EXPECT_EQ(tx(&c, "B0 F2 00 00 01", &r), 0x9000);
    EXPECT_EQ(r.len, 1u);
    EXPECT_EQ(tx(&c, "B0 70 00 00 04", &r), 0x9000);
    EXPECT(r.len == 4 && r.d[0] == 0x58 && r.d[1] == 0x76 && r.d[2] == 0x80 && r.d[3] == 0x72);
    EXPECT_EQ(tx(&c, "B0 F6 00 00 E0", &r), 0x9000);
    EXPECT_EQ(r.len, 224u);
    EXPECT_EQ(tx(&c, "B0 F6 00 00 10", &r), 0x6700);
    EXPECT_EQ(tx(&c, "B0 FA 00 00 07", &r), 0x9000);
    EXPECT(r.len == 7 && r.d[0] == 0x40 && r.d[1] == 0x00);
    EXPECT_EQ(tx(&c, "B0 72 00 00 20", &r), 0x9000);
    EXPECT_EQ(r.len, 32u);
    vc_card_free(&c);
}

static void test_card_manager(void)
{
    struct vc_card c;
    struct rsp r;
    uint8_t cuid[10];
    vc_card_init(&c); /* blank: no applet */
    EXPECT_EQ(select_applet(&c), 0x6A82);
    EXPECT_EQ(tx(&c, "00 A4 04 00 00", &r), 0x9000);
    EXPECT(r.len > 11 && r.d[0] == 0x6F && r.d[2] == 0x84 && r.d[3] == 7 && r.d[4] == 0xA0);
    EXPECT_EQ(tx(&c, "00 A4 04 0C 07 A0 00 00 00 03 00 00", &r), 0x9000);
    EXPECT_EQ(r.len, 0u); /* P2=0C: no FCI */
    EXPECT_EQ(tx(&c, "80 CA 9F 7F 2D", &r), 0x9000);
    EXPECT_EQ(r.len, 45u);
    vc_card_cuid(&c, cuid);
    EXPECT_MEM(r.d + 3, cuid, 4);
    EXPECT_MEM(r.d + 19, cuid + 4, 2);
    EXPECT_MEM(r.d + 15, cuid + 6, 4);
    EXPECT_EQ(tx(&c, "80 CA 00 66 2D", &r), 0x9000); /* SCP02 i=15 advertised */
    EXPECT(r.len > 4 && r.d[r.len - 2] == 0x02 && r.d[r.len - 1] == 0x15);
    EXPECT_EQ(tx(&c, "80 CA 00 E0 2D", &r), 0x9000);
    EXPECT(r.d[0] == 0xE0 && r.d[1] >= 0x12 && r.d[1] % 6 == 0);
    EXPECT_EQ(tx(&c, "80 CA 12 34 00", &r), 0x6A88);
    EXPECT_EQ(tx(&c, "00 A4 04 00 05 A0 00 00 00 99", &r), 0x6A82);
    EXPECT_EQ(tx(&c, "84 E6 0C 00 00", &r), 0x6982); /* no secure channel */
    vc_card_free(&c);
}

static void test_pin_counters(void)
{
    struct vc_card c;
    struct rsp r;
    fresh(&c);
    vc_pin_set(&c.pins[0], (const uint8_t *)"1234", 4, 3);
    select_applet(&c);
    EXPECT_EQ(tx(&c, "B0 F2 00 00 04", &r), 0x9000);
    EXPECT_EQ(r.d[1], 1); /* pinEnabled */
    EXPECT_EQ(tx(&c, "B0 42 00 00 04 31 31 31 31", &r), 0x9C02);
    EXPECT_EQ(tx(&c, "B0 4A 00 00 01", &r), 0x9000);
    EXPECT(r.len == 1 && r.d[0] == 2);
    EXPECT_EQ(tx(&c, "B0 42 00 00 04 31 32 33 34", &r), 0x9000);
    EXPECT_EQ(r.len, 8u); /* the login nonce */
    EXPECT_EQ(tx(&c, "B0 4A 00 00 01", &r), 0x9000);
    EXPECT_EQ(r.d[0], 3);                                  /* success restores the tries */
    EXPECT_EQ(tx(&c, "B0 42 00 00 02 31 32", &r), 0x9C02); /* too short: policy */
    EXPECT_EQ(tx(&c, "B0 42 00 00 05 31 32 33 34 35", &r), 0x9C02);
    EXPECT_EQ(tx(&c, "B0 42 00 00 04 39 39 39 39", &r), 0x9C02);
    EXPECT_EQ(tx(&c, "B0 4A 00 00 01", &r), 0x9000);
    EXPECT_EQ(r.d[0], 0);
    EXPECT_EQ(tx(&c, "B0 42 00 00 04 31 32 33 34", &r), 0x9C0C); /* blocked, even if right */
    EXPECT_EQ(tx(&c, "B0 42 01 00 04 31 32 33 34", &r), 0x9C10);
    EXPECT_EQ(tx(&c, "B0 4A 00 00 02", &r), 0x6700);
    EXPECT_EQ(tx(&c, "B0 48 00 00 02", &r), 0x9000);
    EXPECT(r.len == 2 && r.d[1] == 0x01);
    EXPECT(c.dirty); /* the counter is persistent state */
    vc_card_free(&c);
}

static void add_obj(struct vc_card *c, const char *id2, uint16_t racl, const char *content)
{
    const uint8_t id[4] = {(uint8_t)id2[0], (uint8_t)id2[1], 0, 0};
    const uint16_t acl[3] = {racl, VC_ID_RA, VC_ID_RA};
    struct vc_object *o = vc_obj_add(c, id, strlen(content), acl);
    if (o)
        memcpy(o->data, content, strlen(content));
}

/* prefix hex + the 8 nonce bytes */
static const char *with_nonce(char *buf, size_t cap, const char *prefix, const uint8_t nonce[8])
{
    int n = snprintf(buf, cap, "%s", prefix);
    for (int i = 0; i < 8; i++)
        n += snprintf(buf + n, cap - (size_t)n, " %02X", nonce[i]);
    return buf;
}

static void test_nonce_and_acl(void)
{
    struct vc_card c;
    struct rsp r;
    char cmd[200];
    fresh(&c);
    vc_pin_set(&c.pins[0], (const uint8_t *)"1234", 4, 5);
    add_obj(&c, "c1", 0xFFFF, "public-data");
    add_obj(&c, "d1", 0x0001, "secret-data");
    select_applet(&c);
    /* LIST OBJECTS: newest first, then 9C12 */
    EXPECT_EQ(tx(&c, "B0 58 00 00 0E", &r), 0x9000);
    EXPECT(r.len == 14 && r.d[0] == 'd' && r.d[7] == 11);
    EXPECT_EQ(tx(&c, "B0 58 01 00 0E", &r), 0x9000);
    EXPECT_EQ(r.d[0], 'c');
    EXPECT_EQ(tx(&c, "B0 58 01 00 0E", &r), 0x9C12);
    /* anyone-readable object with the zero nonce */
    EXPECT_EQ(tx(&c, "B0 56 00 00 11 63 31 00 00 00 00 00 00 06 00 00 00 00 00 00 00 00", &r),
              0x9000);
    EXPECT(r.len == 6 && memcmp(r.d, "public", 6) == 0);
    /* PIN-protected object: zero nonce 9C06, made-up nonce 9C06 */
    EXPECT_EQ(tx(&c, "B0 56 00 00 11 64 31 00 00 00 00 00 00 06 00 00 00 00 00 00 00 00", &r),
              0x9C06);
    EXPECT_EQ(tx(&c, "B0 56 00 00 11 64 31 00 00 00 00 00 00 06 01 02 03 04 05 06 07 08", &r),
              0x9C06);
    EXPECT_EQ(tx(&c, "B0 42 00 00 04 31 32 33 34", &r), 0x9000);
    uint8_t nonce[8];
    memcpy(nonce, r.d, 8);
    EXPECT_EQ(tx(&c,
                 with_nonce(cmd, sizeof(cmd), "B0 56 00 00 11 64 31 00 00 00 00 00 00 06", nonce),
                 &r),
              0x9000);
    EXPECT(r.len == 6 && memcmp(r.d, "secret", 6) == 0);
    /* GET STATUS shows the logged-in identity */
    EXPECT_EQ(tx(&c, "B0 3C 00 00 10", &r), 0x9000);
    EXPECT_EQ(r.d[15], 0x01);
    /* out of range read */
    EXPECT_EQ(tx(&c, "B0 56 00 00 11 63 31 00 00 00 00 00 08 08 00 00 00 00 00 00 00 00", &r),
              0x9C0F);
    /* creating and deleting objects needs the RA (secure channel), not a PIN */
    EXPECT_EQ(tx(&c,
                 with_nonce(cmd, sizeof(cmd),
                            "B0 5A 00 00 16 41 41 00 00 00 00 00 10 FF FF 40 00 40 00", nonce),
                 &r),
              0x9C06);
    EXPECT_EQ(tx(&c, "B0 52 00 00 0C 63 31 00 00 00 00 00 00 00 00 00 00", &r), 0x9C06);
    /* logout: the nonce is void afterwards */
    EXPECT_EQ(tx(&c, "B0 61 00 00 08 00 00 00 00 00 00 00 00", &r), 0x9000);
    EXPECT_EQ(tx(&c,
                 with_nonce(cmd, sizeof(cmd), "B0 56 00 00 11 64 31 00 00 00 00 00 00 06", nonce),
                 &r),
              0x9C06);
    /* a card reset logs everyone out too */
    EXPECT_EQ(tx(&c, "B0 42 00 00 04 31 32 33 34", &r), 0x9000);
    vc_card_reset(&c);
    EXPECT_EQ(c.nonce_ids, 0);
    vc_card_free(&c);
}

static void test_compute_crypt(void)
{
    struct vc_card c;
    struct rsp r;
    uint8_t a[300], block[128], sig[128];
    fresh(&c);
    vc_pin_set(&c.pins[0], (const uint8_t *)"1234", 4, 5);
    EXPECT_EQ(vc_key_generate(&c, 0, 1, 1024, 0x0001), SW_OK);
    select_applet(&c);
    /* PKCS#1 type-01 block of a SHA-1 DigestInfo, as coolkey pads it */
    static const uint8_t di[35] = {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2B, 0x0E, 0x03,
                                   0x02, 0x1A, 0x05, 0x00, 0x04, 0x14, 1,    2,    3,
                                   4,    5,    6,    7,    8,    9,    10,   11,   12,
                                   13,   14,   15,   16,   17,   18,   19,   20};
    memset(block, 0xFF, sizeof(block));
    block[0] = 0, block[1] = 1, block[128 - 36] = 0;
    memcpy(block + 128 - 35, di, 35);
    size_t n = 0;
    memcpy(a, "\xB0\x36\x00\x04", 4), n = 5;
    a[n++] = 0x00, a[n++] = 0x03, a[n++] = 0x01, a[n++] = 0x00, a[n++] = 128;
    memcpy(a + n, block, 128), n += 128;
    memset(a + n, 0, 8), n += 8; /* zero nonce: not logged in */
    a[4] = (uint8_t)(n - 5);
    EXPECT_EQ(txb(&c, a, n, &r), 0x9C06);
    EXPECT_EQ(tx(&c, "B0 42 00 00 04 31 32 33 34", &r), 0x9000);
    memcpy(a + n - 8, r.d, 8);
    EXPECT_EQ(txb(&c, a, n, &r), 0x9000);
    EXPECT(r.len == 130 && r.d[0] == 0 && r.d[1] == 128);
    memcpy(sig, r.d + 2, 128);
    EVP_PKEY_CTX *v = EVP_PKEY_CTX_new(c.keys[1].pkey, NULL);
    EXPECT(v && EVP_PKEY_verify_init(v) == 1);
    EXPECT(EVP_PKEY_CTX_set_rsa_padding(v, RSA_PKCS1_PADDING) == 1);
    int ok = EVP_PKEY_verify(v, sig, 128, di, 35);
    EVP_PKEY_CTX_free(v);
    EXPECT_EQ(ok, 1);
    /* wrong data length: 9C19; PKCS1 mode unsupported: 9C1B; key slot empty: 9C10 */
    uint8_t nonce[8];
    memcpy(nonce, a + n - 8, 8);
    a[9] = 127; /* len field says 127, 128 bytes follow */
    EXPECT_EQ(txb(&c, a, n, &r), 0x9C19);
    a[9] = 128, a[5] = 0x01;
    EXPECT_EQ(txb(&c, a, n, &r), 0x9C1B);
    a[5] = 0x00, a[2] = 0x07;
    EXPECT_EQ(txb(&c, a, n, &r), 0x9C10);
    vc_card_free(&c);
}

static void test_malformed(void)
{
    struct vc_card c;
    struct rsp r;
    fresh(&c);
    select_applet(&c);
    EXPECT_EQ(tx(&c, "B0 F2 00", &r), 0x6700);
    EXPECT_EQ(tx(&c, "", &r), 0x6700);
    EXPECT_EQ(tx(&c, "B0 58 00 00 05 01 02", &r), 0x6700);    /* Lc > data */
    EXPECT_EQ(tx(&c, "B0 58 00 00 01 01 02 03", &r), 0x6700); /* data > Lc+Le */
    EXPECT_EQ(tx(&c, "C0 00 00 00", &r), 0x6E00);
    EXPECT_EQ(tx(&c, "B0 EE 00 00 00", &r), 0x6D00);
    EXPECT_EQ(tx(&c, "B0 56 00 00 04 01 02 03 04", &r), 0x9C06); /* no room for a nonce */
    EXPECT_EQ(tx(&c, "B0 58 00 00 08", &r), 0x6700);
    EXPECT_EQ(tx(&c, "B0 58 02 00 0E", &r), 0x9C10);
    EXPECT_EQ(tx(&c, "B0 3C 00 01 10", &r), 0x9C11);
    EXPECT_EQ(tx(&c, "84 F0 0F 00 08 00 00 00 00 00 00 00 00", &r), 0x6982); /* no channel */
    EXPECT_EQ(tx(&c, "84 82 03 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", &r),
              0x6985); /* EXTERNAL AUTHENTICATE without INITIALIZE UPDATE */
    EXPECT_EQ(tx(&c, "80 50 00 00 04 01 02 03 04", &r), 0x6700);
    EXPECT_EQ(tx(&c, "80 50 07 00 08 01 02 03 04 05 06 07 08", &r), 0x6A88); /* key version */
    EXPECT_EQ(tx(&c, "B0 F2 00 00 04", &r), 0x9000); /* still alive and well */
    vc_card_free(&c);
}

int main(void)
{
    RUN(test_select_and_sizes);
    RUN(test_card_manager);
    RUN(test_pin_counters);
    RUN(test_nonce_and_acl);
    RUN(test_compute_crypt);
    RUN(test_malformed);
    return check_status();
}
