/* test_tps_msg: the TPS message codec is byte-exact with reference/tps-protocol.md §2-§5 and
 * tolerant where Dogtag and ESC are. */
#include "check.h"
#include "tps_msg.h"

#include <limits.h>
#include <stdint.h>
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

/* tps_enc_pdu writes what tps_enc_init + tps_enc_int + tps_enc_bytes write, up to the cap */
static void test_encode_pdu_whole(void)
{
    static struct tps_enc a, b;
    static unsigned char data[3400];
    size_t lens[] = {0, 1, 2, 9, 10, 99, 100, 258, 261, 3320, 3321, 3322, 3399};
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        for (int type = TPS_MSG_TOKEN_PDU_REQUEST; type <= TPS_MSG_TOKEN_PDU_RESPONSE; type++) {
            size_t na = 0, nb = 0;
            tps_enc_init(&a, type);
            tps_enc_int(&a, "pdu_size", (long)lens[k]);
            tps_enc_bytes(&a, "pdu_data", data, lens[k]);
            tps_enc_pdu(&b, type, data, lens[k]);
            const char *fa = tps_enc_frame(&a, &na), *fb = tps_enc_frame(&b, &nb);
            EXPECT_EQ(fa == NULL, fb == NULL);
            if (fa && fb) {
                EXPECT_EQ(na, nb);
                EXPECT(memcmp(fa, fb, na + 1) == 0);
            }
        }
    }
    tps_enc_pdu(&b, TPS_MSG_TOKEN_PDU_RESPONSE, data, 3322); /* 35 + 3 * 3322 > 9999 */
    EXPECT(tps_enc_frame(&b, NULL) == NULL);
    tps_enc_pdu(&b, TPS_MSG_TOKEN_PDU_RESPONSE, NULL, 2);
    EXPECT(tps_enc_frame(&b, NULL) == NULL);
    tps_enc_pdu(&b, TPS_MSG_TOKEN_PDU_RESPONSE, data, 2);
    EXPECT_STR(tps_enc_frame(&b, NULL), "s=38&msg_type=10&pdu_size=2&pdu_data=%0B%30");
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

/* The decoder as it was written first (split on '&' and '=', then decode each part): the
 * one-pass decoder must agree with it on every input, failures included. */
struct ref_field {
    unsigned char key[64], val[64];
    size_t klen, vlen;
};
struct ref_msg {
    size_t n;
    struct ref_field f[TPS_MSG_MAX_FIELDS];
};

static int ref_part(const unsigned char *s, size_t n, bool decode, unsigned char *out,
                    size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (decode && s[i] == '%') {
            if (n - i < 3 || tps_hexval(s[i + 1]) < 0 || tps_hexval(s[i + 2]) < 0)
                return -1;
            out[o++] = (unsigned char)(tps_hexval(s[i + 1]) << 4 | tps_hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = decode && s[i] == '+' ? ' ' : s[i];
        }
    }
    *outlen = o;
    return 0;
}

static int ref_split(struct ref_msg *m, const unsigned char *s, size_t len, bool decode)
{
    size_t i = 0;
    m->n = 0;
    while (i < len) {
        const unsigned char *amp = memchr(s + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - s) : len;
        const unsigned char *eq = memchr(s + i, '=', end - i);
        if (eq && eq != s + i) {
            size_t klen = (size_t)(eq - (s + i));
            if (m->n >= TPS_MSG_MAX_FIELDS)
                return -1;
            struct ref_field *f = &m->f[m->n];
            if (ref_part(s + i, klen, decode, f->key, &f->klen) < 0 ||
                ref_part(eq + 1, end - i - klen - 1, decode, f->val, &f->vlen) < 0 ||
                memchr(f->key, '\0', f->klen))
                return -1;
            m->n++;
        }
        i = end + 1;
    }
    return 0;
}

/* Both decoders on s: same result, same fields. */
static void agree(const unsigned char *s, size_t len, bool decode)
{
    static struct tps_msg m;
    static struct ref_msg r;
    int want = ref_split(&r, s, len, decode);
    int got = decode ? tps_msg_decode(&m, (const char *)s, len) : tps_kvlist_decode(&m, s, len);
    if (decode && want == 0) { /* and then msg_type must be a number in 0..99 */
        long t = -1;
        for (size_t i = 0; i < r.n && t < 0; i++)
            if (r.f[i].klen == 8 && memcmp(r.f[i].key, "msg_type", 8) == 0) {
                t = 0;
                for (size_t k = 0; k < r.f[i].vlen && t >= 0; k++)
                    t = r.f[i].val[k] >= '0' && r.f[i].val[k] <= '9'
                            ? t * 10 + (r.f[i].val[k] - '0')
                            : -1;
                if (r.f[i].vlen == 0 || t > 99)
                    t = -1;
                break;
            }
        want = t < 0 ? -1 : 0;
    }
    EXPECT_EQ(got, want);
    if (got != 0 || want != 0)
        return;
    EXPECT_EQ(m.n, r.n);
    for (size_t i = 0; i < m.n && i < r.n; i++) {
        EXPECT_EQ(strlen(m.f[i].key), r.f[i].klen);
        EXPECT_MEM(m.f[i].key, r.f[i].key, r.f[i].klen);
        EXPECT_EQ(m.f[i].len, r.f[i].vlen);
        EXPECT_MEM(m.f[i].val, r.f[i].val, r.f[i].vlen);
        EXPECT_EQ(m.f[i].val[m.f[i].len], 0);
    }
    tps_msg_wipe(&m);
}

static void test_decode_agrees_with_split_then_decode(void)
{
    const char *cases[] = {
        "msg_type=9&pdu_size=12&pdu_data=%00%A4%04%00%07%62%76%01%FF%00%00%00",
        "msg_type=9&pdu_data=%00%a4%G4", /* bad escape in a kept pair */
        "msg_type=9&ab%G4&c=d",          /* ... in a pair without '=': skipped */
        "msg_type=9&ab%4&c=d",           /* a short escape before '&' */
        "msg_type=9&ab%4=d",             /* ... before '=' */
        "msg_type=9&a%00b&c=d",          /* a NUL in a skipped key */
        "msg_type=9&=%G&c=d",            /* an empty key: skipped whatever it holds */
        "msg_type=9&longer_than_8=x&abcdefgh=12345678&abcdefghijklmnop=q",
        "msg_type=9&abcdefgh&abcdefgh=a+b%2B&x=%",
        "msg_type=9&k=v=w&&&k2=&=&",
        "msg_type=9&pdu_data=%00%",
        "msg_type=9&pdu_data=%0",
        "s=5&msg_type=12&new_pin=a+b",
        "msg_type=0012",
        "msg_type=9&key%3Dwith%26=val%26ue",
        /* msg_type read with the first field when it leads with one or two digits */
        "msg_type=9",
        "msg_type=99&a=b",
        "msg_type=100&a=b",
        "msg_type=7&msg_type=8",
        "msg_type=&msg_type=8",
        "msg_type=1a&b=c",
        "msg_type=12=3&b=c",
        "msg_type=4&&=x&pdu_data=%4",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        agree((const unsigned char *)cases[i], strlen(cases[i]), true);
        agree((const unsigned char *)cases[i], strlen(cases[i]), false);
    }
    /* random strings over the characters that matter */
    static const char alpha[] = "msg_type=9&%+0aAfFgG \x80";
    unsigned seed = 12345;
    unsigned char buf[64];
    for (int round = 0; round < 20000; round++) {
        size_t len = 0, want;
        seed = seed * 1103515245u + 12345u;
        want = (seed >> 16) % sizeof buf;
        if (round % 2)
            memcpy(buf, "msg_type=9&", len = 11);
        while (len < want) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            buf[len++] =
                r % 7 == 0 ? (unsigned char)(r >> 3) : (unsigned char)alpha[r % (sizeof alpha - 1)];
        }
        agree(buf, len, true);
        agree(buf, len, false);
    }
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

struct where {
    const char *data; /* what was pushed */
    size_t len, n, in_place;
};

static int note_where(void *ctx, const char *payload, size_t len)
{
    struct where *w = ctx;
    w->n++;
    uintptr_t p = (uintptr_t)payload, d = (uintptr_t)w->data; /* unrelated objects compared */
    if (p >= d && p + len <= d + w->len)
        w->in_place++;
    return 0;
}

/* a whole message in one push is handed over where it lies (not copied); one cut is copied */
static void test_framer_whole_in_place(void)
{
    static struct tps_framer f;
    const char *s = "s=3&abcs=2&des=4&fg";
    struct where w = {.data = s, .len = strlen(s)};
    tps_framer_init(&f);
    EXPECT_EQ(tps_framer_push(&f, s, w.len, note_where, &w), 0);
    EXPECT_EQ(w.n, 2u);
    EXPECT_EQ(w.in_place, 2u);
    EXPECT(tps_framer_pending(&f));
    w = (struct where){.data = "hi", .len = 2};
    EXPECT_EQ(tps_framer_push(&f, "hi", 2, note_where, &w), 0);
    EXPECT_EQ(w.n, 1u);
    EXPECT_EQ(w.in_place, 0u); /* "fghi" was assembled in the framer */
}

/* random streams: pushed whole or a byte at a time, the same messages and the same verdict */
static void test_framer_whole_or_bytewise(void)
{
    static const char alpha[] = "s=0123&abx";
    unsigned seed = 777;
    for (int round = 0; round < 5000; round++) {
        static struct tps_framer f1, f2;
        char buf[48];
        struct got g1 = {0}, g2 = {0};
        size_t len;
        seed = seed * 1103515245u + 12345u;
        len = (seed >> 16) % sizeof buf;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = alpha[(seed >> 16) % 10];
        }
        if (round % 2 && len >= 4)
            memcpy(buf, "s=1&", 4);
        tps_framer_init(&f1);
        tps_framer_init(&f2);
        int r1 = tps_framer_push(&f1, buf, len, collect, &g1), r2 = 0;
        for (size_t i = 0; i < len && r2 == 0; i++)
            r2 = tps_framer_push(&f2, buf + i, 1, collect, &g2);
        EXPECT_EQ(r1, r2);
        EXPECT_EQ(g1.n, g2.n);
        for (int i = 0; i < g1.n && i < 8; i++)
            EXPECT_STR(g1.msgs[i], g2.msgs[i]);
        EXPECT_EQ(tps_framer_pending(&f1), tps_framer_pending(&f2));
    }
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

    /* a pair without '=' is dropped, and what the decoder wrote of it wiped all the same */
    const char *skipped = "msg_type=4&Sekr1tPassw0rd&a=b";
    EXPECT_EQ(tps_msg_decode(&m, skipped, strlen(skipped)), 0);
    EXPECT_EQ(m.n, 2u);
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

/* Look-ups compare a key's first 8 bytes and its length first: keys that share a prefix, are
 * prefixes of one another, or differ only past byte 8 must still be told apart, escaped keys
 * and kvlist keys included. */
static void test_lookup_similar_keys(void)
{
    static struct tps_msg m;
    const char *s = "msg_type=16&required_parameter0=a&required_parameter1=b&pdu=c&pdu_=d"
                    "&pdu_size=7&pdu_data=%41&p%64u_dat=e&pdu_datax=f&x=g&abcdefgh=h&abcdefgi=i";
    EXPECT_EQ(tps_msg_decode(&m, s, strlen(s)), 0);
    EXPECT_STR(tps_msg_str(&m, "required_parameter1"), "b");
    EXPECT_STR(tps_msg_str(&m, "required_parameter0"), "a");
    EXPECT(tps_msg_get(&m, "required_parameter2") == NULL);
    EXPECT(tps_msg_get(&m, "required_paramete") == NULL);
    EXPECT_STR(tps_msg_str(&m, "pdu"), "c");
    EXPECT_STR(tps_msg_str(&m, "pdu_"), "d");
    EXPECT_STR(tps_msg_str(&m, "pdu_data"), "A");
    EXPECT_STR(tps_msg_str(&m, "pdu_dat"), "e");
    EXPECT_STR(tps_msg_str(&m, "pdu_datax"), "f");
    EXPECT_STR(tps_msg_str(&m, "x"), "g");
    EXPECT_STR(tps_msg_str(&m, "abcdefgi"), "i");
    EXPECT(tps_msg_get(&m, "pd") == NULL);
    EXPECT(tps_msg_get(&m, "") == NULL);
    long v = 0;
    EXPECT_EQ(tps_msg_long(&m, "pdu_size", 0, 10, &v), 0);
    EXPECT_EQ(v, 7);
    EXPECT_EQ(tps_msg_long(&m, "pdu_size", 0, 6, &v), -1);
    EXPECT_EQ(m.type, 16);
    /* a short key decoded over a longer skipped one: no byte of the skipped key in its k8 */
    const char *t = "msg_type=1&abcdefghij&ab=1";
    EXPECT_EQ(tps_msg_decode(&m, t, strlen(t)), 0);
    EXPECT_STR(tps_msg_str(&m, "ab"), "1");
    /* the message type: the first msg_type, a number 0..99 whatever the path that reads it */
    EXPECT_EQ(tps_msg_decode(&m, "msg_type=7&msg_type=8", 21), 0);
    EXPECT_EQ(m.type, 7);
    EXPECT_EQ(tps_msg_decode(&m, "a=b&msg_type=42", 15), 0);
    EXPECT_EQ(m.type, 42);
    EXPECT_EQ(tps_msg_decode(&m, "msg_type=07", 11), 0);
    EXPECT_EQ(m.type, 7);
    EXPECT_EQ(tps_msg_decode(&m, "msg_type=12=3", 13), -1);
    EXPECT_EQ(m.type, -1);
    EXPECT_EQ(tps_msg_decode(&m, "msg_type=100", 12), -1);
    EXPECT_EQ(tps_msg_decode(&m, "msg_type=5&k=%G1", 16), -1);
    EXPECT_EQ(m.type, -1);
    EXPECT_EQ(m.n, 0);
    const unsigned char kv[] = "id=UID&name=User ID&type=string";
    EXPECT_EQ(tps_kvlist_decode(&m, kv, sizeof kv - 1), 0);
    EXPECT_STR(tps_msg_str(&m, "name"), "User ID");
    EXPECT_STR(tps_msg_str(&m, "type"), "string");
    tps_msg_wipe(&m);
}

int main(void)
{
    RUN(test_encode_pdu_response);
    RUN(test_encode_pdu_whole);
    RUN(test_encode_java_pdu_request);
    RUN(test_encode_begin_op_canonical);
    RUN(test_encode_text_styles);
    RUN(test_encode_rejects_bad_input);
    RUN(test_encode_cap_9999);
    RUN(test_decode_basic_binary);
    RUN(test_decode_split_before_decode);
    RUN(test_decode_extensions_trailing_amp);
    RUN(test_decode_rejects);
    RUN(test_decode_agrees_with_split_then_decode);
    RUN(test_roundtrip_password);
    RUN(test_framer_every_cut);
    RUN(test_framer_byte_by_byte_pending);
    RUN(test_framer_rejects);
    RUN(test_framer_callback_stops);
    RUN(test_framer_whole_in_place);
    RUN(test_framer_whole_or_bytewise);
    RUN(test_names);
    RUN(test_wipe_clears_secrets);
    RUN(test_encode_numbers);
    RUN(test_lookup_similar_keys);
    return check_status();
}
