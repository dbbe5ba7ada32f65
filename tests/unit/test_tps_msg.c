/* test_tps_msg: the TPS message codec is byte-exact with reference/tps-protocol.md §2-§5 and
 * tolerant where Dogtag and ESC are. */
#include "check.h"
#include "tps_msg.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_encode_pdu_response(void)
{
    struct tps_enc e;
    size_t n;
    const unsigned char sw[] = {0x90, 0x00};
    tps_enc_init(&e, TPS_MSG_TOKEN_PDU_RESPONSE);
    tps_enc_int(&e, "pdu_size", 2);
    tps_enc_bytes(&e, "pdu_data", sw, 2);
    const char *s = tps_enc_frame(&e, &n);
    EXPECT(s != NULL);
    EXPECT_STR(s, "s=38&msg_type=10&pdu_size=2&pdu_data=%90%00"); /* §2.1 example */
    EXPECT_EQ(n, strlen(s));
}

static void test_encode_java_pdu_request(void)
{
    struct tps_enc e;
    const unsigned char apdu[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
    tps_enc_init(&e, TPS_MSG_TOKEN_PDU_REQUEST);
    tps_enc_int(&e, "pdu_size", 5);
    tps_enc_bytes(&e, "pdu_data", apdu, 5);
    EXPECT_STR(tps_enc_frame(&e, NULL), "s=46&msg_type=9&pdu_size=5&pdu_data=%00%A4%04%00%00");
}

static void test_encode_begin_op_canonical(void)
{
    /* pki TPSMessage.main, §3, minus ESC's trailing %26 (so 3 bytes fewer than 204). */
    struct tps_enc e;
    size_t n;
    const struct tps_kv ext[] = {
        {"tokenType", "userKey"},
        {"clientVersion", "ESC 1.0.1"},
        {"tokenATR", "3BFF1400FF8131FE458025A00000005657534336353003003B"},
        {"statusUpdate", "true"},
        {"extendedLoginRequest", "true"},
    };
    tps_enc_init(&e, TPS_MSG_BEGIN_OP);
    tps_enc_int(&e, "operation", TPS_OP_FORMAT);
    tps_enc_kvlist(&e, "extensions", ext, 5, TPS_TEXT_ESC);
    const char *s = tps_enc_frame(&e, &n);
    EXPECT(s != NULL);
    EXPECT_STR(s, "s=201&msg_type=2&operation=5&extensions=tokenType%3DuserKey%26clientVersion%"
                  "3DESC+1%2E0%2E1%26tokenATR%3D3BFF1400FF8131FE458025A00000005657534336353003003B%"
                  "26statusUpdate%3Dtrue%26extendedLoginRequest%3Dtrue");
}

static void test_encode_text_styles(void)
{
    struct tps_enc e;
    tps_enc_init(&e, TPS_MSG_EXTENDED_LOGIN_REQUEST);
    tps_enc_text(&e, "description", "the LDAP directory.", TPS_TEXT_JAVA);
    tps_enc_text(&e, "x", "a.b-c_d*e/f", TPS_TEXT_ESC);
    EXPECT_STR(tps_enc_payload(&e, NULL),
               "msg_type=16&description=the+LDAP+directory.&x=a%2Eb%2Dc%5Fd%2Ae%2Ff");
}

static void test_encode_rejects_bad_input(void)
{
    struct tps_enc e;
    tps_enc_init(&e, TPS_MSG_NEW_PIN_RESPONSE);
    tps_enc_raw(&e, "new_pin", "12&34");
    EXPECT(tps_enc_frame(&e, NULL) == NULL);
    tps_enc_init(&e, TPS_MSG_BEGIN_OP);
    const struct tps_kv bad[] = {{"k", ""}};
    tps_enc_kvlist(&e, "extensions", bad, 1, TPS_TEXT_ESC);
    EXPECT(tps_enc_frame(&e, NULL) == NULL);
    tps_enc_init(&e, TPS_MSG_BEGIN_OP);
    tps_enc_text(&e, "a=b", "x", TPS_TEXT_ESC);
    EXPECT(tps_enc_frame(&e, NULL) == NULL);
}

static void test_encode_cap_9999(void)
{
    static unsigned char big[4000];
    struct tps_enc e;
    size_t n;
    /* 3333 bytes -> 9999 encoded chars: the payload exceeds 9999 with the key. */
    tps_enc_init(&e, TPS_MSG_TOKEN_PDU_RESPONSE);
    tps_enc_bytes(&e, "pdu_data", big, 3333);
    EXPECT(tps_enc_frame(&e, NULL) == NULL);
    /* exactly 9999 fits: "msg_type=10&d=" is 14 chars, 9985 left -> not a multiple of 3, so
     * fill with text */
    tps_enc_init(&e, TPS_MSG_TOKEN_PDU_RESPONSE);
    char txt[9986];
    memset(txt, 'a', 9985);
    txt[9985] = 0;
    tps_enc_text(&e, "d", txt, TPS_TEXT_ESC);
    const char *s = tps_enc_frame(&e, &n);
    EXPECT(s != NULL);
    EXPECT(strncmp(s, "s=9999&msg_type=10&d=aaa", 24) == 0);
    EXPECT_EQ(n, 7u + 9999u);
    tps_enc_text(&e, "e", "", TPS_TEXT_ESC); /* one more byte: over the cap */
    EXPECT(tps_enc_frame(&e, NULL) == NULL);
}

static void test_decode_basic_binary(void)
{
    static struct tps_msg m;
    const char *p = "msg_type=9&pdu_data=R%B3F%85%90%00&pdu_size=6";
    EXPECT_EQ(tps_msg_decode(&m, p, strlen(p)), 0);
    EXPECT_EQ(m.type, TPS_MSG_TOKEN_PDU_REQUEST);
    const struct tps_field *f = tps_msg_get(&m, "pdu_data");
    EXPECT(f != NULL);
    EXPECT_EQ(f->len, 6u);
    EXPECT_MEM(f->val, "\x52\xB3\x46\x85\x90\x00", 6);
    long sz;
    EXPECT_EQ(tps_msg_long(&m, "pdu_size", 0, 255, &sz), 0);
    EXPECT_EQ(sz, 6);
    EXPECT(tps_msg_str(&m, "pdu_data") == NULL); /* holds a NUL */
}

static void test_decode_split_before_decode(void)
{
    static struct tps_msg m;
    /* %26 and %3D inside a value must not split it; '+' is a space */
    const char *p = "s=99&msg_type=13&message=a%26b%3Dc+d&operation=1&result=0&junk&=x";
    EXPECT_EQ(tps_msg_decode(&m, p, strlen(p)), 0);
    EXPECT_EQ(m.type, TPS_MSG_END_OP);
    EXPECT_STR(tps_msg_str(&m, "message"), "a&b=c d");
    EXPECT_STR(tps_msg_str(&m, "result"), "0");
}

static void test_decode_extensions_trailing_amp(void)
{
    static struct tps_msg m, ext;
    const char *p = "msg_type=2&operation=5&extensions=tokenType%3DuserKey%26clientVersion%3DESC+1%"
                    "2E0%2E1%26statusUpdate%3Dtrue%26";
    EXPECT_EQ(tps_msg_decode(&m, p, strlen(p)), 0);
    const struct tps_field *f = tps_msg_get(&m, "extensions");
    EXPECT(f != NULL);
    EXPECT_EQ(tps_kvlist_decode(&ext, f->val, f->len), 0);
    EXPECT_EQ(ext.n, 3u);
    EXPECT_STR(tps_msg_str(&ext, "clientVersion"), "ESC 1.0.1");
    EXPECT_STR(tps_msg_str(&ext, "statusUpdate"), "true");
}

static void test_decode_rejects(void)
{
    static struct tps_msg m;
    const char *bad[] = {
        "pdu_size=2",          /* no msg_type */
        "msg_type=x1",         /* not a number */
        "msg_type=10&d=%9",    /* truncated escape */
        "msg_type=10&d=%G0",   /* bad hex */
        "msg_type=10&a%00b=1", /* NUL in key */
        "msg_type=123",        /* out of range */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_EQ(tps_msg_decode(&m, bad[i], strlen(bad[i])), -1);
    char many[2000] = "msg_type=1";
    for (int i = 0; i < 70; i++)
        strcat(many, "&a=b");
    EXPECT_EQ(tps_msg_decode(&m, many, strlen(many)), -1);
}

static void test_roundtrip_password(void)
{
    static struct tps_msg m;
    struct tps_enc e;
    size_t n;
    const char *pw = "p@ss w&rd=%+\x7f\xc3\xa9";
    tps_enc_init(&e, TPS_MSG_EXTENDED_LOGIN_RESPONSE);
    tps_enc_text(&e, "UID", "jsmith", TPS_TEXT_ESC);
    tps_enc_text(&e, "PASSWORD", pw, TPS_TEXT_ESC);
    const char *p = tps_enc_payload(&e, &n);
    EXPECT(p != NULL);
    EXPECT_EQ(tps_msg_decode(&m, p, n), 0);
    EXPECT_STR(tps_msg_str(&m, "PASSWORD"), pw);
    tps_enc_wipe(&e);
    tps_msg_wipe(&m);
    EXPECT_EQ(m.n, 0u);
}

/* ---- framer ---- */

struct got {
    int n;
    char msgs[8][128];
};

static int collect(void *ctx, const char *payload, size_t len)
{
    struct got *g = ctx;
    if (g->n < 8 && len < 128) {
        memcpy(g->msgs[g->n], payload, len);
        g->msgs[g->n][len] = 0;
    }
    g->n++;
    return 0;
}

static void test_framer_every_cut(void)
{
    const char *stream = "s=38&msg_type=10&pdu_size=2&pdu_data=%90%00"
                         "s=46&msg_type=9&pdu_size=5&pdu_data=%00%A4%04%00%00"
                         "s=0&";
    size_t L = strlen(stream);
    for (size_t cut1 = 0; cut1 <= L; cut1++) {
        for (size_t cut2 = cut1; cut2 <= L; cut2 += 7) {
            static struct tps_framer f;
            struct got g = {0};
            tps_framer_init(&f);
            EXPECT_EQ(tps_framer_push(&f, stream, cut1, collect, &g), 0);
            EXPECT_EQ(tps_framer_push(&f, stream + cut1, cut2 - cut1, collect, &g), 0);
            EXPECT_EQ(tps_framer_push(&f, stream + cut2, L - cut2, collect, &g), 0);
            EXPECT_EQ(g.n, 3);
            EXPECT_STR(g.msgs[0], "msg_type=10&pdu_size=2&pdu_data=%90%00");
            EXPECT_STR(g.msgs[1], "msg_type=9&pdu_size=5&pdu_data=%00%A4%04%00%00");
            EXPECT_STR(g.msgs[2], "");
            EXPECT(!tps_framer_pending(&f));
        }
    }
}

static void test_framer_byte_by_byte_pending(void)
{
    static struct tps_framer f;
    struct got g = {0};
    const char *s = "s=3&abc";
    tps_framer_init(&f);
    for (size_t i = 0; i < 6; i++)
        EXPECT_EQ(tps_framer_push(&f, s + i, 1, collect, &g), 0);
    EXPECT(tps_framer_pending(&f));
    EXPECT_EQ(g.n, 0);
    EXPECT_EQ(tps_framer_push(&f, s + 6, 1, collect, &g), 0);
    EXPECT_EQ(g.n, 1);
    EXPECT(!tps_framer_pending(&f));
}

static void test_framer_rejects(void)
{
    const char *bad[] = {"s=10000&", "s=12345", "s=1a&", "sx3&abc", "s=&", "s=-1&"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        static struct tps_framer f;
        struct got g = {0};
        tps_framer_init(&f);
        EXPECT_EQ(tps_framer_push(&f, bad[i], strlen(bad[i]), collect, &g), -1);
        /* broken stays broken */
        EXPECT_EQ(tps_framer_push(&f, "s=1&a", 5, collect, &g), -1);
        EXPECT_EQ(g.n, 0);
    }
    /* 9999 is accepted, and "x=" as a first char is tolerated like TPSConnection.read */
    static struct tps_framer f;
    struct got g = {0};
    tps_framer_init(&f);
    EXPECT_EQ(tps_framer_push(&f, "x=9999&", 7, collect, &g), 0);
    EXPECT(tps_framer_pending(&f));
}

static int stop_cb(void *ctx, const char *payload, size_t len)
{
    (void)payload;
    (void)len;
    (*(int *)ctx)++;
    return 7;
}

static void test_framer_callback_stops(void)
{
    static struct tps_framer f;
    int calls = 0;
    tps_framer_init(&f);
    EXPECT_EQ(tps_framer_push(&f, "s=1&as=1&b", 10, stop_cb, &calls), 7);
    EXPECT_EQ(calls, 1);
}

static void test_names(void)
{
    EXPECT_STR(tps_msg_type_name(13), "END_OP");
    EXPECT_STR(tps_msg_type_name(99), "UNKNOWN");
    EXPECT_STR(tps_op_name(TPS_OP_RESET_PIN), "reset-pin");
    EXPECT_STR(tps_status_name(14), "STATUS_ERROR_LOGIN");
    EXPECT_STR(tps_status_sentence(14), "The directory rejected the user ID or password.");
    for (int i = -1; i <= TPS_STATUS_MAX + 1; i++) {
        const char *s = tps_status_sentence(i);
        EXPECT(s != NULL && s[strlen(s) - 1] == '.');
        EXPECT(tps_status_name(i) != NULL);
    }
}

/* The wipes clear only what was written (for speed: a whole struct is 10 KB per message), so
 * check that what was written is all gone: a decoded password, one left half-decoded by a bad
 * %-escape, and an encoded one. */
static bool holds(const void *buf, size_t n, const char *secret)
{
    return memmem(buf, n, secret, strlen(secret)) != NULL;
}

static void test_wipe_clears_secrets(void)
{
    static struct tps_msg m;
    static struct tps_enc e;
    const char *ok = "msg_type=4&screen_name=jsmith&password=Sekr1tPassw0rd";
    const char *bad = "msg_type=4&password=Sekr1tPassw0rd%G1";
    const struct tps_field *f;

    EXPECT_EQ(tps_msg_decode(&m, ok, strlen(ok)), 0);
    EXPECT(holds(m.store, sizeof m.store, "Sekr1tPassw0rd"));
    tps_msg_wipe(&m);
    EXPECT(!holds(&m, sizeof m, "Sekr1tPassw0rd"));
    EXPECT(!holds(&m, sizeof m, "jsmith"));
    EXPECT_EQ(m.n, 0);

    EXPECT_EQ(tps_msg_decode(&m, bad, strlen(bad)), -1);
    EXPECT(holds(m.store, sizeof m.store, "Sekr1tPassw0rd")); /* written before the bad escape */
    tps_msg_wipe(&m);
    EXPECT(!holds(&m, sizeof m, "Sekr1tPassw0rd"));

    /* the structure decodes again after a wipe */
    EXPECT_EQ(tps_msg_decode(&m, ok, strlen(ok)), 0);
    f = tps_msg_get(&m, "screen_name");
    EXPECT(f && f->len == 6 && memcmp(f->val, "jsmith", 6) == 0);
    tps_msg_wipe(&m);

    tps_enc_init(&e, TPS_MSG_LOGIN_RESPONSE);
    tps_enc_text(&e, "password", "Sekr1tPassw0rd", TPS_TEXT_ESC);
    EXPECT(tps_enc_frame(&e, NULL) != NULL);
    EXPECT(holds(e.buf, sizeof e.buf, "Sekr1tPassw0rd"));
    tps_enc_wipe(&e);
    EXPECT(!holds(&e, sizeof e, "Sekr1tPassw0rd"));
    EXPECT(!holds(&e, sizeof e, "msg_type"));
    /* and encodes again */
    tps_enc_init(&e, TPS_MSG_STATUS_UPDATE_RESPONSE);
    tps_enc_int(&e, "current_state", 10);
    EXPECT_STR(tps_enc_frame(&e, NULL), "s=28&msg_type=15&current_state=10");
    tps_enc_wipe(&e);
}

/* Numbers are written without snprintf: zero, negatives, the extremes, the s=N prefix. */
static void test_encode_numbers(void)
{
    static struct tps_enc e;
    char want[128];
    tps_enc_init(&e, 0);
    tps_enc_int(&e, "a", 0);
    tps_enc_int(&e, "b", -7);
    tps_enc_int(&e, "c", LONG_MAX);
    tps_enc_int(&e, "d", LONG_MIN);
    snprintf(want, sizeof want, "msg_type=0&a=0&b=-7&c=%ld&d=%ld", LONG_MAX, LONG_MIN);
    EXPECT_STR(tps_enc_payload(&e, NULL), want);
    tps_enc_init(&e, 99);
    EXPECT_STR(tps_enc_frame(&e, NULL), "s=11&msg_type=99");
    tps_enc_init(&e, -1);
    EXPECT(tps_enc_frame(&e, NULL) == NULL);
}

int main(void)
{
    RUN(test_encode_pdu_response);
    RUN(test_encode_java_pdu_request);
    RUN(test_encode_begin_op_canonical);
    RUN(test_encode_text_styles);
    RUN(test_encode_rejects_bad_input);
    RUN(test_encode_cap_9999);
    RUN(test_decode_basic_binary);
    RUN(test_decode_split_before_decode);
    RUN(test_decode_extensions_trailing_amp);
    RUN(test_decode_rejects);
    RUN(test_roundtrip_password);
    RUN(test_framer_every_cut);
    RUN(test_framer_byte_by_byte_pending);
    RUN(test_framer_rejects);
    RUN(test_framer_callback_stops);
    RUN(test_names);
    RUN(test_wipe_clears_secrets);
    RUN(test_encode_numbers);
    return check_status();
}
