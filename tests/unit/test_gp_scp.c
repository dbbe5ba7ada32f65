/* The secure channel code against the worked vectors of coolkey-card.md §5.7 (the TKS self-test
 * inputs and values recomputed independently), then card <-> host round trips. */
#include "check.h"
#include "gp_scp.h"

#include <openssl/evp.h>
#include <stdlib.h>

static const uint8_t HOST_CHAL[8] = {0x77, 0x57, 0x62, 0xE4, 0x5E, 0x23, 0x66, 0x7D};
static const uint8_t CARD_CHAL01[8] = {0xBD, 0x6D, 0x19, 0x85, 0x6E, 0x54, 0x0F, 0xCD};
/* SCP02: seq 00 01 || card challenge A1..A6 */
static const uint8_t CARD_CHAL02[8] = {0x00, 0x01, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6};

static void hex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(s + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

#define EXPECT_HEX(buf, str, n)                                                                    \
    do {                                                                                           \
        uint8_t want_[64];                                                                         \
        hex((str), want_, (n));                                                                    \
        EXPECT_MEM((buf), want_, (n));                                                             \
    } while (0)

static void scp01_tks_selftest_session_key(void)
{
    struct gp_keyset k;
    struct gp_session s;
    gp_keyset_developer(&k);
    gp_scp01_session(&k, HOST_CHAL, CARD_CHAL01, &s);
    EXPECT_HEX(s.s_enc, "D1BEB826DC5620258C93E7DEF0AB4F5B", 16);
    EXPECT_HEX(s.s_mac, "D1BEB826DC5620258C93E7DEF0AB4F5B", 16);
}

static void scp01_cryptograms_and_external_authenticate(void)
{
    struct gp_keyset k;
    struct gp_session s;
    uint8_t cc[8], hc[8], ea[21];
    gp_keyset_developer(&k);
    gp_scp01_session(&k, HOST_CHAL, CARD_CHAL01, &s);
    gp_card_cryptogram(&s, HOST_CHAL, CARD_CHAL01, cc);
    EXPECT_HEX(cc, "A3BA811B31D3337D", 8);
    gp_host_cryptogram(&s, HOST_CHAL, CARD_CHAL01, hc);
    EXPECT_HEX(hc, "40A14AD953A5B545", 8);
    gp_external_authenticate(&s, GP_SEC_CMAC_CDEC, hc, ea);
    EXPECT_HEX(ea,
               "8482030010"
               "40A14AD953A5B545"
               "E7C1A51FDDAAC75E",
               21);
}

static void scp02_session_keys(void)
{
    struct gp_keyset k;
    struct gp_session s;
    gp_keyset_developer(&k);
    gp_scp02_session(&k, CARD_CHAL02, &s);
    EXPECT_HEX(s.s_enc, "25C9794A1205FF244F5FA0378D2F8D59", 16);
    EXPECT_HEX(s.s_mac, "9BED98891580C3B245FE9EC58BFA8D2A", 16);
    EXPECT_HEX(s.s_dek, "0E51FDF196141F227A57BD154012FD39", 16);
}

static void scp02_cryptograms_external_authenticate_and_next_icv(void)
{
    struct gp_keyset k;
    struct gp_session s;
    uint8_t cc[8], hc[8], ea[21];
    gp_keyset_developer(&k);
    gp_scp02_session(&k, CARD_CHAL02, &s);
    gp_card_cryptogram(&s, HOST_CHAL, CARD_CHAL02, cc);
    EXPECT_HEX(cc, "8EE7760FD3405F54", 8);
    gp_host_cryptogram(&s, HOST_CHAL, CARD_CHAL02, hc);
    EXPECT_HEX(hc, "B878DC43C537EFF6", 8);
    gp_external_authenticate(&s, GP_SEC_CMAC_CDEC, hc, ea);
    EXPECT_HEX(ea,
               "8482030010"
               "B878DC43C537EFF6"
               "CB71BA18641165C9",
               21);
    /* the next command's ICV = single-DES-ECB(K1 of the C-MAC key, last C-MAC); single DES is
     * 3DES-ECB with K1||K1 */
    uint8_t k1k1[16], icv[8];
    memcpy(k1k1, s.s_mac, 8);
    memcpy(k1k1 + 8, s.s_mac, 8);
    gp_kek_encrypt(k1k1, s.icv, 8, icv);
    EXPECT_HEX(icv, "DC94821165FFFB13", 8);
}

static void visa2_diversification(void)
{
    uint8_t master[16], kdd[10];
    struct gp_keyset k;
    hex("404142434445464748494A4B4C4D4E4F", master, 16);
    hex("A00192030405060708C9", kdd, 10);
    gp_visa2_diversify(master, kdd, &k);
    EXPECT_HEX(k.enc, "AFC3CF5A5076D51098B5962ED7DDF32A", 16);
    EXPECT_HEX(k.mac, "A6E4450EF97BE24B1A37E655F1663AD3", 16);
    EXPECT_HEX(k.kek, "3B9B7DFC593EF39F335E9E69049CB741", 16);
}

/* Opens a channel on both sides the way the TPS and the card do it. */
static void open_pair(enum gp_scp scp, uint8_t level, struct gp_session *host,
                      struct gp_session *card)
{
    struct gp_keyset k;
    uint8_t hc[8], ea[21], plain[32];
    gp_keyset_developer(&k);
    if (scp == GP_SCP01)
        gp_scp01_session(&k, HOST_CHAL, CARD_CHAL01, host);
    else
        gp_scp02_session(&k, CARD_CHAL02, host);
    *card = *host;
    gp_host_cryptogram(host, HOST_CHAL, scp == GP_SCP01 ? CARD_CHAL01 : CARD_CHAL02, hc);
    gp_external_authenticate(host, level, hc, ea);
    size_t n = gp_unwrap(card, ea, sizeof ea, plain, sizeof plain);
    if (n != 13 || card->level != level)
        card->level = 0xFF; /* makes the caller's EXPECT fail */
}

/* The largest plain data one short APDU carries on the channel: Lc = data + 8 (MAC) <= 255 at
 * level 01; at level 03 the ciphertext is SCP01 (Lc || data) padded to 8 only when needed, or
 * SCP02 data always padded with 80 00.. */
static size_t max_plain(enum gp_scp scp, uint8_t level)
{
    (void)scp;
    return (level & 0x02) ? 239 : 247;
}

/* Every data length 0..255, each with and without the Le trailer, chained on one session. A
 * length that cannot fit must be refused by gp_wrap without moving the chain. */
static void round_trips(enum gp_scp scp, uint8_t level)
{
    struct gp_session host, card;
    open_pair(scp, level, &host, &card);
    if (card.level != level) {
        printf("FAIL: %s: EXTERNAL AUTHENTICATE not accepted\n", check_name_);
        check_failed_ = 1;
        return;
    }
    size_t sent = 0;
    for (size_t dlen = 0; dlen <= 255; dlen++) {
        for (int le = 0; le <= 1; le++) {
            uint8_t cmd[5 + 255], w[300], p[300];
            cmd[0] = 0x80;
            cmd[1] = 0x54;
            cmd[2] = (uint8_t)le;
            cmd[3] = (uint8_t)dlen;
            cmd[4] = (uint8_t)dlen;
            for (size_t i = 0; i < dlen; i++)
                cmd[5 + i] = (uint8_t)(i * 7 + dlen);
            size_t n = gp_wrap(&host, cmd, dlen ? 5 + dlen : 4, le, w, sizeof w);
            if (dlen > max_plain(scp, level)) {
                if (n != 0) {
                    printf("FAIL: %s: %zu bytes do not fit but were wrapped\n", check_name_, dlen);
                    check_failed_ = 1;
                    return;
                }
                continue;
            }
            size_t pn = n ? gp_unwrap(&card, w, n, p, sizeof p) : 0;
            if (n == 0 || w[0] != 0x84 || w[4] != n - 5 - (size_t)le || (le && w[n - 1] != 0) ||
                pn != 5 + dlen || p[0] != 0x84 || memcmp(p + 1, cmd + 1, 3) != 0 || p[4] != dlen ||
                memcmp(p + 5, cmd + 5, dlen) != 0) {
                printf("FAIL: %s: round trip of %zu bytes (Le %d)\n", check_name_, dlen, le);
                check_failed_ = 1;
                return;
            }
            if ((level & 0x02) && dlen >= 8 && memmem(w, n, cmd + 5, 8) != NULL) {
                printf("FAIL: %s: data sent in clear at level %02X\n", check_name_, level);
                check_failed_ = 1;
                return;
            }
            if (!(level & 0x02) && memcmp(w + 5, cmd + 5, dlen) != 0) {
                printf("FAIL: %s: level 01 must not encrypt\n", check_name_);
                check_failed_ = 1;
                return;
            }
            sent++;
        }
    }
    EXPECT(sent == 2 * (max_plain(scp, level) + 1));
    EXPECT_MEM(host.icv, card.icv, 8);
}

static void scp01_round_trips_mac(void)
{
    round_trips(GP_SCP01, GP_SEC_CMAC);
}
static void scp01_round_trips_mac_enc(void)
{
    round_trips(GP_SCP01, GP_SEC_CMAC_CDEC);
}
static void scp02_round_trips_mac(void)
{
    round_trips(GP_SCP02, GP_SEC_CMAC);
}
static void scp02_round_trips_mac_enc(void)
{
    round_trips(GP_SCP02, GP_SEC_CMAC_CDEC);
}

/* Flips every bit of a wrapped command, with and without the Le trailer: each copy must be
 * refused; the original passes once, and a replay (stale chaining value) fails. */
static void tamper(enum gp_scp scp, uint8_t level)
{
    struct gp_session host, card;
    uint8_t cmd[] = {0x80, 0x04, 0x00, 0x00, 0x06, '1', '2', '3', '4', '5', '6'};
    uint8_t w[64], p[64];
    open_pair(scp, level, &host, &card);
    EXPECT(card.level == level);
    for (int le = 0; le <= 1; le++) {
        size_t n = gp_wrap(&host, cmd, sizeof cmd, le, w, sizeof w);
        EXPECT(n > 0);
        size_t maced = n - (size_t)le; /* the Le trailer is outside the MAC, as in GP */
        for (size_t byte = 0; byte < maced; byte++) {
            for (int bit = 0; bit < 8; bit++) {
                struct gp_session c = card;
                uint8_t t[64];
                memcpy(t, w, n);
                t[byte] ^= (uint8_t)(1u << bit);
                EXPECT(gp_unwrap(&c, t, n, p, sizeof p) == 0);
                EXPECT_MEM(c.icv, card.icv, 8); /* a refused command leaves the chain alone */
            }
        }
        /* truncated or extended by a byte: malformed */
        struct gp_session c = card;
        EXPECT(gp_unwrap(&c, w, n - 1 - (size_t)le, p, sizeof p) == 0);
        EXPECT(gp_unwrap(&card, w, n, p, sizeof p) == 5 + 6);
        EXPECT_MEM(p + 5, "123456", 6);
        EXPECT(gp_unwrap(&card, w, n, p, sizeof p) == 0);
        /* the card refused the replay without advancing: the host's next command still passes */
    }
    size_t n = gp_wrap(&host, cmd, sizeof cmd, 0, w, sizeof w);
    EXPECT(n > 0 && gp_unwrap(&card, w, n, p, sizeof p) == 11);
}

static void scp01_any_flipped_bit_or_replay_fails(void)
{
    tamper(GP_SCP01, GP_SEC_CMAC_CDEC);
    tamper(GP_SCP01, GP_SEC_CMAC);
}
static void scp02_any_flipped_bit_or_replay_fails(void)
{
    tamper(GP_SCP02, GP_SEC_CMAC_CDEC);
    tamper(GP_SCP02, GP_SEC_CMAC);
}

/* EXTERNAL AUTHENTICATE opens the channel once; nothing passes before it; a replayed one on an
 * open channel would reset the chain and is refused; a level without C-MAC is refused. */
static void external_authenticate_rules(void)
{
    struct gp_keyset k;
    struct gp_session host, card, c2;
    uint8_t hc[8], ea[21], w[64], p[64];
    uint8_t cmd[] = {0x80, 0x04, 0x00, 0x00, 0x02, 0x12, 0x34};
    gp_keyset_developer(&k);
    gp_scp02_session(&k, CARD_CHAL02, &host);
    card = host;
    gp_host_cryptogram(&host, HOST_CHAL, CARD_CHAL02, hc);
    /* a command MACed as if the channel were open, before EXTERNAL AUTHENTICATE */
    c2 = host;
    c2.level = GP_SEC_CMAC;
    size_t n = gp_wrap(&c2, cmd, sizeof cmd, 0, w, sizeof w);
    EXPECT(n > 0 && gp_unwrap(&card, w, n, p, sizeof p) == 0);
    /* level 00 and 02 carry no C-MAC on later commands: the EXTERNAL AUTHENTICATE unwraps (the
     * card answers 6985 itself), but nothing MACed passes after it */
    for (uint8_t lv = 0; lv <= 2; lv += 2) {
        struct gp_session h2 = host, c3 = card;
        gp_external_authenticate(&h2, lv, hc, ea);
        EXPECT(gp_unwrap(&c3, ea, sizeof ea, p, sizeof p) == 13 && c3.level == lv);
        h2.level = GP_SEC_CMAC;
        n = gp_wrap(&h2, cmd, sizeof cmd, 0, w, sizeof w);
        EXPECT(n > 0 && gp_unwrap(&c3, w, n, p, sizeof p) == 0);
    }
    /* an EXTERNAL AUTHENTICATE with other than 8 data bytes */
    c2 = host;
    gp_external_authenticate(&c2, GP_SEC_CMAC, hc, ea);
    ea[4] = 0x0F;
    EXPECT(gp_unwrap(&card, ea, 20, p, sizeof p) == 0);
    EXPECT(card.level == 0);
    gp_external_authenticate(&host, GP_SEC_CMAC_CDEC, hc, ea);
    EXPECT(gp_unwrap(&card, ea, sizeof ea, p, sizeof p) == 13);
    EXPECT(card.level == GP_SEC_CMAC_CDEC && p[4] == 8 && !memcmp(p + 5, hc, 8));
    EXPECT(gp_unwrap(&card, ea, sizeof ea, p, sizeof p) == 0); /* replayed */
    n = gp_wrap(&host, cmd, sizeof cmd, 0, w, sizeof w);
    EXPECT(n > 0 && gp_unwrap(&card, w, n, p, sizeof p) == sizeof cmd);
}

/* Independent recomputation of one wrapped command right after EXTERNAL AUTHENTICATE, with
 * whole-buffer CBC instead of the library's block loop: SCP01 full 3DES CBC-MAC with the
 * EXTERNAL AUTHENTICATE MAC as ICV and Lc-prefixed C-DEC; SCP02 retail MAC with the ICV
 * single-DES encrypted and always-padded C-DEC. Single DES is DES-EDE with K1||K1. */
static void cbc(const uint8_t key[16], const uint8_t iv[8], const uint8_t *in, size_t len,
                uint8_t *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, f = 0;
    EVP_EncryptInit_ex(c, EVP_des_ede_cbc(), NULL, key, iv);
    EVP_CIPHER_CTX_set_padding(c, 0);
    EVP_EncryptUpdate(c, out, &n, in, (int)len);
    EVP_EncryptFinal_ex(c, out + n, &f);
    EVP_CIPHER_CTX_free(c);
}

static void wrapped_command_matches_an_independent_computation(void)
{
    static const uint8_t cmd[] = {0x80, 0x0C, 0x00, 0x00, 0x03, 0xAA, 0xBB, 0xCC};
    static const uint8_t macin[16] = {0x84, 0x0C, 0x00, 0x00, 0x0B, 0xAA, 0xBB, 0xCC, 0x80};
    uint8_t zero[8] = {0}, tmp[16], want[21], w[64], p[64];
    for (int scp = GP_SCP01; scp <= GP_SCP02; scp++) {
        struct gp_session host, card;
        open_pair((enum gp_scp)scp, GP_SEC_CMAC_CDEC, &host, &card);
        EXPECT(card.level == GP_SEC_CMAC_CDEC);
        memcpy(want, "\x84\x0C\x00\x00\x10", 5);
        if (scp == GP_SCP01) {
            static const uint8_t enc[8] = {0x03, 0xAA, 0xBB, 0xCC, 0x80};
            cbc(host.s_enc, zero, enc, 8, want + 5);
            cbc(host.s_mac, host.icv, macin, 16, tmp);
            memcpy(want + 13, tmp + 8, 8);
        } else {
            static const uint8_t enc[8] = {0xAA, 0xBB, 0xCC, 0x80};
            uint8_t k1[16], icv[8], h[8];
            memcpy(k1, host.s_mac, 8);
            memcpy(k1 + 8, host.s_mac, 8);
            cbc(host.s_enc, zero, enc, 8, want + 5);
            cbc(k1, zero, host.icv, 8, icv);       /* ICV encryption */
            cbc(k1, icv, macin, 8, h);             /* single DES over all but the last block */
            cbc(host.s_mac, h, macin + 8, 8, tmp); /* 3DES on the last */
            memcpy(want + 13, tmp, 8);
        }
        size_t n = gp_wrap(&host, cmd, sizeof cmd, 0, w, sizeof w);
        EXPECT(n == 21);
        EXPECT_MEM(w, want, 21);
        EXPECT(gp_unwrap(&card, w, n, p, sizeof p) == sizeof cmd);
    }
}

static void kek_wraps_the_keygen_challenge(void)
{
    struct gp_keyset k;
    uint8_t chal[16], enc[16], dec[16];
    gp_keyset_developer(&k);
    for (int i = 0; i < 16; i++)
        chal[i] = (uint8_t)(0xA0 + i);
    gp_kek_encrypt(k.kek, chal, 16, enc);
    EXPECT(memcmp(enc, chal, 16) != 0);
    gp_kek_decrypt(k.kek, enc, 16, dec);
    EXPECT_MEM(dec, chal, 16);
}

/* Dogtag's fixed-offset reading of GET DATA 0066 (TPSProcessor
 * gp211GetSecureChannelProtocolDetails), redone here: returns protocol << 8 | i, or -1 where
 * the TPS would throw. */
static int dogtag_parse_0066(const uint8_t *d, size_t size)
{
    size_t off = 0, total, len;
    if (size < 5)
        return -1;
    off = d[0] == 0x66 ? 3 : 2;
    total = d[1];
    if (total == 0 || total >= size)
        return -1;
    off++;
    for (int oid = 0; oid < 3; oid++) { /* card recognition, management type, ID scheme */
        if (off >= size)
            return -1;
        len = d[off++];
        if (off + len > size)
            return -1;
        off += len + 2 + 1;
    }
    if (off >= size)
        return -1;
    len = d[off++];
    if (len < 2 || off + len > size)
        return -1;
    return d[off + len - 2] << 8 | d[off + len - 1];
}

/* Dogtag's gp211CalculateLatestKeySet over GET DATA 00E0: the key version it reads, or -1. */
static int dogtag_parse_00e0(const uint8_t *d, size_t size)
{
    if (size < 2 || d[0] != 0xE0 || d[1] % 6 != 0)
        return -1;
    long sets = d[1] / 6 / 3, off = (sets - 1) * 18 + 3 + 2;
    if (off < 0 || (size_t)off >= size) /* Java: negative offsets throw from TPSBuffer.at */
        return -1;
    return d[off];
}

static void get_data_answers_advertise_scp02_i15(void)
{
    uint8_t b[64];
    size_t n = gp_card_recognition_data(b, sizeof b);
    EXPECT(n > 4 && b[0] == 0x66 && b[1] == n - 2 && b[2] == 0x73 && b[3] == n - 4);
    EXPECT(dogtag_parse_0066(b, n) == 0x0215);
    /* the 73 form without the 66 wrapper reads the same */
    EXPECT(dogtag_parse_0066(b + 2, n - 2) == 0x0215);
    EXPECT(gp_card_recognition_data(b, n - 1) == 0);
    n = gp_key_info_template(0x01, b, sizeof b);
    EXPECT(n == 20 && b[0] == 0xE0 && b[1] == n - 2 && b[1] >= 0x12 && b[1] % 6 == 0);
    EXPECT(dogtag_parse_00e0(b, n) == 0x01);
    n = gp_key_info_template(0x2A, b, sizeof b);
    EXPECT(dogtag_parse_00e0(b, n) == 0x2A);
    for (size_t i = 0; i < 3; i++) /* C0 04 <key id 1..3> <version> 80 (DES) 10 (16 bytes) */
        EXPECT(b[2 + 6 * i] == 0xC0 && b[4 + 6 * i] == i + 1 && b[5 + 6 * i] == 0x2A &&
               b[6 + 6 * i] == 0x80 && b[7 + 6 * i] == 0x10);
    EXPECT(gp_key_info_template(0x01, b, 19) == 0);
}

int main(void)
{
    RUN(scp01_tks_selftest_session_key);
    RUN(scp01_cryptograms_and_external_authenticate);
    RUN(scp02_session_keys);
    RUN(scp02_cryptograms_external_authenticate_and_next_icv);
    RUN(visa2_diversification);
    RUN(scp01_round_trips_mac);
    RUN(scp01_round_trips_mac_enc);
    RUN(scp02_round_trips_mac);
    RUN(scp02_round_trips_mac_enc);
    RUN(scp01_any_flipped_bit_or_replay_fails);
    RUN(scp02_any_flipped_bit_or_replay_fails);
    RUN(external_authenticate_rules);
    RUN(wrapped_command_matches_an_independent_computation);
    RUN(kek_wraps_the_keygen_challenge);
    RUN(get_data_answers_advertise_scp02_i15);
    return check_status();
}
