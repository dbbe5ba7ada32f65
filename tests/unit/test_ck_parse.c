/* test_ck_parse: the CoolKey reply parsers (coolkey-card.md §2.2, §3): exact lengths,
 * CUID from CPLC, issuer info, list entries. */
#include "check.h"
#include "coolkey.h"

#include <string.h>

/* CPLC of a card: fabricator 4090, IC type 0001, IC serial A1B2C3D4, batch 1234, MSN 11223344 */
static void make_cplc(uint8_t c[CK_CPLC_LEN])
{
    memset(c, 0, CK_CPLC_LEN);
    c[0] = 0x9F;
    c[1] = 0x7F;
    c[2] = 0x2A;
    c[3] = 0x40;
    c[4] = 0x90;
    c[5] = 0x00;
    c[6] = 0x01;
    c[15] = 0xA1;
    c[16] = 0xB2;
    c[17] = 0xC3;
    c[18] = 0xD4;
    c[19] = 0x12;
    c[20] = 0x34;
    c[41] = 0x11;
    c[42] = 0x22;
    c[43] = 0x33;
    c[44] = 0x44;
}

static void test_cplc_cuid(void)
{
    uint8_t c[CK_CPLC_LEN + 1];
    struct ck_cplc out;
    char hex[21];
    static const uint8_t want[10] = {0x40, 0x90, 0x00, 0x01, 0x12, 0x34, 0xA1, 0xB2, 0xC3, 0xD4};
    make_cplc(c);
    EXPECT_EQ(ck_parse_cplc(c, CK_CPLC_LEN, &out), ESC_OK);
    EXPECT_MEM(out.cuid, want, 10);
    EXPECT_EQ(out.msn[0], 0x11);
    EXPECT_EQ(out.msn[3], 0x44);
    ck_cuid_hex(out.cuid, hex);
    EXPECT_STR(hex, "409000011234A1B2C3D4");
    EXPECT_EQ(ck_parse_cplc(c, CK_CPLC_LEN - 1, &out), ESC_ERR_CARD_SHORT);
    EXPECT_EQ(ck_parse_cplc(c, CK_CPLC_LEN + 1, &out), ESC_ERR_CARD_LONG);
    EXPECT_EQ(ck_parse_cplc(c, 0, &out), ESC_ERR_CARD_SHORT);
    c[0] = 0x00;
    EXPECT_EQ(ck_parse_cplc(c, CK_CPLC_LEN, &out), ESC_ERR_CARD_GARBAGE);
}

static void test_status(void)
{
    static const uint8_t st[16] = {1, 1, 1, 4, 0, 0, 0x13, 0x88, 0, 0, 0x10, 0x00, 1, 6, 0, 0};
    struct ck_status s;
    EXPECT_EQ(ck_parse_status(st, 16, &s), ESC_OK);
    EXPECT_EQ(s.applet_major, 1);
    EXPECT_EQ(s.applet_minor, 4);
    EXPECT_EQ(s.total_mem, 5000);
    EXPECT_EQ(s.free_mem, 4096);
    EXPECT_EQ(s.num_keys, 6);
    EXPECT_EQ(ck_parse_status(st, 15, &s), ESC_ERR_CARD_SHORT);
    EXPECT_EQ(ck_parse_status(st, 17, &s), ESC_ERR_CARD_LONG);
    uint8_t bad[16];
    memcpy(bad, st, 16);
    bad[8] = 0xFF; /* free > total */
    EXPECT_EQ(ck_parse_status(bad, 16, &s), ESC_ERR_CARD_GARBAGE);
}

static void test_life_cycle(void)
{
    static const uint8_t lc[4] = {0x0F, 0x01, 0x01, 0x01};
    struct ck_life_cycle l;
    EXPECT_EQ(ck_parse_life_cycle(lc, 4, &l), ESC_OK);
    EXPECT_EQ(l.life_cycle, CK_LC_PERSONALIZED);
    EXPECT_EQ(l.pin_count, 1);
    EXPECT_EQ(ck_parse_life_cycle(lc, 1, &l), ESC_ERR_CARD_SHORT);
    EXPECT_EQ(ck_parse_life_cycle(lc, 5, &l), ESC_ERR_CARD_LONG);
}

static void test_issuer_info(void)
{
    uint8_t ii[CK_ISSUER_INFO_LEN];
    char out[CK_ISSUER_INFO_LEN + 1], small[8];
    const char *url = "http://127.0.0.1:8080/tps/phoneHome";
    memset(ii, 0, sizeof ii);
    memcpy(ii, url, strlen(url));
    EXPECT_EQ(ck_parse_issuer_info(ii, sizeof ii, out, sizeof out), ESC_OK);
    EXPECT_STR(out, url);
    EXPECT_EQ(ck_parse_issuer_info(ii, sizeof ii, small, sizeof small), ESC_ERR_TOO_BIG);
    EXPECT_EQ(ck_parse_issuer_info(ii, sizeof ii - 1, out, sizeof out), ESC_ERR_CARD_SHORT);
    memset(ii, 0, sizeof ii);
    EXPECT_EQ(ck_parse_issuer_info(ii, sizeof ii, out, sizeof out), ESC_OK);
    EXPECT_STR(out, "");
    memset(ii, 'A', sizeof ii); /* no NUL at all: 224 characters */
    EXPECT_EQ(ck_parse_issuer_info(ii, sizeof ii, out, sizeof out), ESC_OK);
    EXPECT_EQ(strlen(out), CK_ISSUER_INFO_LEN);
    ii[5] = 0x07;
    EXPECT_EQ(ck_parse_issuer_info(ii, sizeof ii, out, sizeof out), ESC_ERR_CARD_GARBAGE);
}

static void test_list_entry(void)
{
    static const uint8_t e[14] = {'z',  '0',  0,    0,    0,    0,    0x08,
                                  0x00, 0xFF, 0xFF, 0x40, 0x00, 0x40, 0x00};
    struct ck_object_info o;
    char id[9];
    EXPECT_EQ(ck_parse_list_entry(e, 14, &o), ESC_OK);
    EXPECT_EQ(o.id, CK_OBJ_Z0);
    EXPECT_EQ(o.size, 2048);
    EXPECT_EQ(o.read_acl, 0xFFFF);
    ck_obj_id_str(o.id, id);
    EXPECT_STR(id, "z0");
    ck_obj_id_str(0xFFFFFFFFu, id);
    EXPECT_STR(id, "FFFFFFFF");
    EXPECT_EQ(ck_parse_list_entry(e, 13, &o), ESC_ERR_CARD_SHORT);
}

int main(void)
{
    RUN(test_cplc_cuid);
    RUN(test_status);
    RUN(test_life_cycle);
    RUN(test_issuer_info);
    RUN(test_list_entry);
    return check_status();
}
