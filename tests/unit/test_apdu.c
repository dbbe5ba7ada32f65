/* test_apdu: APDU encoding, the status-word table (every code the seed names has its own
 * sentence) and the esc_err messages. */
#include "apdu.h"
#include "check.h"
#include "esc_err.h"

#include <string.h>

static void test_build(void)
{
    struct apdu a;
    static const uint8_t aid[7] = {0x62, 0x76, 0x01, 0xFF, 0x00, 0x00, 0x00};
    static const uint8_t sel[12] = {0x00, 0xA4, 0x04, 0x00, 0x07, 0x62,
                                    0x76, 0x01, 0xFF, 0x00, 0x00, 0x00};
    static const uint8_t lc4[5] = {0xB0, 0xF2, 0x00, 0x00, 0x04};
    uint8_t big[256] = {0};
    EXPECT_EQ(apdu_build(&a, 0x00, 0xA4, 0x04, 0x00, aid, 7, APDU_NO_LE), ESC_OK);
    EXPECT_EQ(a.len, 12);
    EXPECT_MEM(a.buf, sel, 12);
    EXPECT_EQ(apdu_build(&a, 0xB0, 0xF2, 0x00, 0x00, NULL, 0, 4), ESC_OK);
    EXPECT_EQ(a.len, 5);
    EXPECT_MEM(a.buf, lc4, 5);
    EXPECT_EQ(apdu_build(&a, 0xB0, 0x72, 0, 0, NULL, 0, 256), ESC_OK);
    EXPECT_EQ(a.buf[4], 0x00);
    EXPECT_EQ(apdu_build(&a, 0, 0, 0, 0, big, 255, 0), ESC_OK);
    EXPECT_EQ(a.len, 261);
    EXPECT_EQ(apdu_build(&a, 0, 0, 0, 0, big, 256, APDU_NO_LE), ESC_ERR_ARG);
    EXPECT_EQ(apdu_build(&a, 0, 0, 0, 0, NULL, 0, 257), ESC_ERR_ARG);
}

static void test_sw_table(void)
{
    static const uint16_t named[] = {0x6400, 0x6700, 0x6982, 0x6985, 0x6A86, 0x6D00, 0x6E00,
                                     0x6581, 0x6A80, 0x6A84, 0x6A88, 0x6200, 0x6A82, 0x6310,
                                     0x9C01, 0x9C02, 0x9C03, 0x9C06, 0x9C07, 0x9C0C, 0x9C0F,
                                     0x9C12, 0x9CFF, 0x6283, 0x6300};
    const char *unknown = apdu_sw_message(0x1234);
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        const char *m = apdu_sw_message(named[i]);
        EXPECT(m && *m);
        EXPECT(strcmp(m, unknown) != 0);
        for (size_t j = 0; j < i; j++) /* one sentence per code */
            EXPECT(strcmp(m, apdu_sw_message(named[j])) != 0);
    }
    EXPECT_EQ(apdu_sw((const uint8_t *)"\x01\x90\x00", 3), 0x9000);
    EXPECT_EQ(apdu_sw((const uint8_t *)"\x90", 1), 0);
    EXPECT_EQ(apdu_sw_err(0x9000), ESC_OK);
    EXPECT_EQ(apdu_sw_err(0x9C0C), ESC_ERR_PIN_LOCKED);
    EXPECT_EQ(apdu_sw_err(0x9C02), ESC_ERR_PIN_INCORRECT);
    EXPECT_EQ(apdu_sw_err(0x63C2), ESC_ERR_PIN_INCORRECT);
    EXPECT_EQ(apdu_sw_err(0x63C0), ESC_ERR_PIN_LOCKED);
    EXPECT_EQ(apdu_sw_err(0x9C07), ESC_ERR_NOT_FOUND);
    EXPECT_EQ(apdu_sw_err(0x6D00), ESC_ERR_CARD_SW);
    EXPECT_EQ(apdu_sw_err(0x1234), ESC_ERR_CARD_GARBAGE);
    EXPECT_EQ(apdu_sw_err(0xFFFF), ESC_ERR_CARD_GARBAGE);
}

static void test_err_messages(void)
{
    for (int e = 0; e < ESC_ERR__COUNT; e++) {
        const char *m = esc_strerror((esc_err)e);
        EXPECT(m && *m && strcmp(m, "Unknown error") != 0);
        EXPECT(m[strlen(m) - 1] != '.');
        EXPECT(strcmp(esc_err_name((esc_err)e), "UNKNOWN") != 0);
        for (int j = 0; j < e; j++)
            EXPECT(strcmp(m, esc_strerror((esc_err)j)) != 0);
    }
    EXPECT_STR(esc_strerror((esc_err)9999), "Unknown error");
    EXPECT_EQ(esc_err_class(ESC_ERR_NO_CARD), ESC_CLASS_ABSENT);
    EXPECT_EQ(esc_err_class(ESC_ERR_NO_PCSCD), ESC_CLASS_ABSENT);
    EXPECT_EQ(esc_err_class(ESC_ERR_CARD_SHORT), ESC_CLASS_CARD);
    EXPECT_EQ(esc_err_class(ESC_ERR_AUTH_FAILED), ESC_CLASS_USER);
    EXPECT_EQ(esc_err_class(ESC_OK), ESC_CLASS_OK);
}

int main(void)
{
    RUN(test_build);
    RUN(test_sw_table);
    RUN(test_err_messages);
    return check_status();
}
