/* gp_scp.c: GlobalPlatform SCP01 / SCP02 (i=15) secure channel cryptography, as the Dogtag
 * TPS/TKS and a CoolKey card compute it (shared/reference/coolkey-card.md §5).
 *
 * Two MAC flavours: SCP01 uses a full 3DES CBC-MAC whose ICV is the previous C-MAC; SCP02 uses
 * the ISO 9797-1 algorithm 3 "retail" MAC (single DES with K1, last block 3DES) whose ICV is the
 * previous C-MAC encrypted with single DES K1. Both pad 80 00.. always and MAC the plaintext
 * before C-DEC encrypts it. Single DES is done as DES-EDE with K1||K1, which is the same
 * function and needs no OpenSSL legacy provider. */
#include "gp_scp.h"

#include <openssl/evp.h>
#include <string.h>

/* 3DES (2-key) or, with a 16-byte key K1||K1, single DES. ECB or CBC over whole blocks. */
static int des_ede(const uint8_t key[16], int cbc, int enc, const uint8_t iv[8], const uint8_t *in,
                   size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = 0, n1 = 0, n2 = 0;
    if (!c || len % 8 != 0 || len > 0x7fffffff)
        goto out;
    if (!EVP_CipherInit_ex(c, cbc ? EVP_des_ede_cbc() : EVP_des_ede_ecb(), NULL, key,
                           cbc ? iv : NULL, enc))
        goto out;
    EVP_CIPHER_CTX_set_padding(c, 0);
    if (len && !EVP_CipherUpdate(c, out, &n1, in, (int)len))
        goto out;
    if (!EVP_CipherFinal_ex(c, out + n1, &n2))
        goto out;
    ok = (size_t)(n1 + n2) == len;
out:
    EVP_CIPHER_CTX_free(c);
    return ok;
}

static void k1k1(const uint8_t key[16], uint8_t out[16])
{
    memcpy(out, key, 8);
    memcpy(out + 8, key, 8);
}

/* ISO 9797-1 method 2 padding: 80 then zeros to a multiple of 8, always at least one byte. */
static size_t pad80(const uint8_t *in, size_t len, uint8_t *out)
{
    memcpy(out, in, len);
    out[len++] = 0x80;
    while (len % 8)
        out[len++] = 0;
    return len;
}

/* Full 3DES CBC-MAC over already padded data. */
static void mac_3des(const uint8_t key[16], const uint8_t icv[8], const uint8_t *padded, size_t len,
                     uint8_t out[8])
{
    uint8_t h[8], x[8];
    memcpy(h, icv, 8);
    for (size_t i = 0; i < len; i += 8) {
        for (int j = 0; j < 8; j++)
            x[j] = h[j] ^ padded[i + (size_t)j];
        des_ede(key, 0, 1, NULL, x, 8, h);
    }
    memcpy(out, h, 8);
}

/* Retail MAC (ISO 9797-1 algorithm 3) over already padded data. */
static void mac_retail(const uint8_t key[16], const uint8_t icv[8], const uint8_t *padded,
                       size_t len, uint8_t out[8])
{
    uint8_t k1[16], h[8], x[8];
    k1k1(key, k1);
    memcpy(h, icv, 8);
    for (size_t i = 0; i < len; i += 8) {
        for (int j = 0; j < 8; j++)
            x[j] = h[j] ^ padded[i + (size_t)j];
        des_ede(i + 8 < len ? k1 : key, 0, 1, NULL, x, 8, h);
    }
    memcpy(out, h, 8);
}

void gp_keyset_developer(struct gp_keyset *k)
{
    k->version = 0x01;
    for (int i = 0; i < 16; i++)
        k->enc[i] = k->mac[i] = k->kek[i] = (uint8_t)(0x40 + i);
}

void gp_scp01_session(const struct gp_keyset *k, const uint8_t host_chal[8],
                      const uint8_t card_chal[8], struct gp_session *s)
{
    uint8_t d[16];
    memset(s, 0, sizeof *s);
    s->scp = GP_SCP01;
    memcpy(d, card_chal + 4, 4);
    memcpy(d + 4, host_chal, 4);
    memcpy(d + 8, card_chal, 4);
    memcpy(d + 12, host_chal + 4, 4);
    des_ede(k->enc, 0, 1, NULL, d, 16, s->s_enc);
    des_ede(k->mac, 0, 1, NULL, d, 16, s->s_mac);
    memcpy(s->s_dek, k->kek, 16); /* SCP01 uses the static KEK for wrapped data */
}

static void scp02_derive(const uint8_t key[16], uint8_t c0, uint8_t c1, const uint8_t seq[2],
                         uint8_t out[16])
{
    uint8_t d[16] = {c0, c1, seq[0], seq[1]}, iv[8] = {0};
    des_ede(key, 1, 1, iv, d, 16, out);
}

void gp_scp02_session(const struct gp_keyset *k, const uint8_t seq[2], struct gp_session *s)
{
    memset(s, 0, sizeof *s);
    s->scp = GP_SCP02;
    scp02_derive(k->enc, 0x01, 0x82, seq, s->s_enc);
    scp02_derive(k->mac, 0x01, 0x01, seq, s->s_mac);
    scp02_derive(k->kek, 0x01, 0x81, seq, s->s_dek);
}

/* Both cryptograms are full 3DES MACs with S-ENC and a zero ICV over 16 bytes (+ a padding
 * block); only the order of the challenges differs. For SCP02, card_chal = seq || challenge. */
static void cryptogram(const struct gp_session *s, const uint8_t *first, const uint8_t *second,
                       uint8_t out[8])
{
    uint8_t in[16], padded[24], zero[8] = {0};
    memcpy(in, first, 8);
    memcpy(in + 8, second, 8);
    size_t n = pad80(in, 16, padded);
    mac_3des(s->s_enc, zero, padded, n, out);
}

void gp_card_cryptogram(const struct gp_session *s, const uint8_t host_chal[8],
                        const uint8_t card_chal[8], uint8_t out[8])
{
    cryptogram(s, host_chal, card_chal, out);
}

void gp_host_cryptogram(const struct gp_session *s, const uint8_t host_chal[8],
                        const uint8_t card_chal[8], uint8_t out[8])
{
    cryptogram(s, card_chal, host_chal, out);
}

/* The C-MAC of `hdr_data` (84 INS P1 P2 Lc' data, Lc' = plain length + 8) with the session's
 * current chaining value, which it then replaces. */
static void cmac(struct gp_session *s, const uint8_t *hdr_data, size_t len, int first,
                 uint8_t out[8])
{
    uint8_t padded[5 + 255 + 8 + 8], icv[8] = {0};
    size_t n = pad80(hdr_data, len, padded);
    if (s->scp == GP_SCP01) {
        if (!first)
            memcpy(icv, s->icv, 8);
        mac_3des(s->s_mac, icv, padded, n, out);
    } else {
        if (!first) { /* SCP02 ICV encryption: single DES K1 over the previous C-MAC */
            uint8_t k1[16];
            k1k1(s->s_mac, k1);
            des_ede(k1, 0, 1, NULL, s->icv, 8, icv);
        }
        mac_retail(s->s_mac, icv, padded, n, out);
    }
}

void gp_external_authenticate(struct gp_session *s, uint8_t level, const uint8_t host_crypt[8],
                              uint8_t out[21])
{
    uint8_t m[13] = {0x84, 0x82, level, 0x00, 0x10};
    memcpy(m + 5, host_crypt, 8);
    cmac(s, m, sizeof m, 1, s->icv);
    memcpy(out, m, 13);
    memcpy(out + 13, s->icv, 8);
    s->level = level;
}

/* C-DEC. SCP01 encrypts Lc || data, padded only when needed; SCP02 encrypts data, always
 * padded. Returns the ciphertext length, 0 on overflow. */
static size_t encrypt_data(const struct gp_session *s, const uint8_t *data, size_t len,
                           uint8_t *out, size_t cap)
{
    uint8_t buf[1 + 255 + 8], iv[8] = {0};
    size_t n;
    if (s->scp == GP_SCP01) {
        buf[0] = (uint8_t)len;
        memcpy(buf + 1, data, len);
        n = len + 1;
        if (n % 8) {
            buf[n++] = 0x80;
            while (n % 8)
                buf[n++] = 0;
        }
    } else {
        n = pad80(data, len, buf);
    }
    if (n > cap || !des_ede(s->s_enc, 1, 1, iv, buf, n, out))
        n = 0;
    explicit_bzero(buf, sizeof buf);
    return n;
}

size_t gp_wrap(struct gp_session *s, const uint8_t *apdu, size_t len, int le_trailer, uint8_t *out,
               size_t cap)
{
    uint8_t m[5 + 255], mac[8];
    size_t dlen = 0, body, n;
    if (len < 4)
        return 0;
    if (len > 4) {
        dlen = apdu[4];
        if (len != 5 + dlen)
            return 0;
    }
    if (dlen + 8 > 255 || cap < 5)
        return 0;
    m[0] = 0x84;
    m[1] = apdu[1];
    m[2] = apdu[2];
    m[3] = apdu[3];
    m[4] = (uint8_t)(dlen + 8);
    memcpy(m + 5, apdu + 5, dlen);
    /* the MAC covers the plaintext; the chaining value only moves once the APDU is built */
    struct gp_session next = *s;
    cmac(&next, m, 5 + dlen, 0, mac);

    if (s->level & 0x02) {
        body = encrypt_data(s, apdu + 5, dlen, out + 5, cap - 5);
        if (body == 0 || body + 8 > 255)
            return 0;
    } else {
        if (cap < 5 + dlen)
            return 0;
        memcpy(out + 5, apdu + 5, dlen);
        body = dlen;
    }
    if (5 + body + 8 + (le_trailer ? 1 : 0) > cap)
        return 0;
    memcpy(out, m, 4);
    out[4] = (uint8_t)(body + 8);
    memcpy(out + 5 + body, mac, 8);
    n = 5 + body + 8;
    if (le_trailer)
        out[n++] = 0x00;
    memcpy(s->icv, mac, 8);
    explicit_bzero(m, sizeof m);
    return n;
}

/* Card side C-DEC inverse. Returns the plain length, or -1 if the padding or length is bad. */
static long decrypt_data(const struct gp_session *s, const uint8_t *enc, size_t len, uint8_t *out)
{
    uint8_t buf[256], iv[8] = {0};
    long n = -1;
    size_t start = 0, plain = 0, i;
    if (len == 0 || len % 8 || len > sizeof buf || !des_ede(s->s_enc, 1, 0, iv, enc, len, buf))
        goto out;
    if (s->scp == GP_SCP01) { /* Lc || data [80 00..] when Lc || data was not whole blocks */
        start = 1;
        plain = buf[0];
        if (plain + 1 > len || len - (plain + 1) >= 8)
            goto out;
        if (plain + 1 < len) {
            if (buf[plain + 1] != 0x80)
                goto out;
            for (i = plain + 2; i < len; i++)
                if (buf[i])
                    goto out;
        }
    } else { /* data 80 00..: the last 80 before trailing zeros, within the last block */
        i = len;
        while (i > 0 && buf[i - 1] == 0)
            i--;
        if (i == 0 || buf[i - 1] != 0x80 || len - (i - 1) > 8)
            goto out;
        plain = i - 1;
    }
    memcpy(out, buf + start, plain);
    n = (long)plain;
out:
    explicit_bzero(buf, sizeof buf);
    return n;
}

size_t gp_unwrap(struct gp_session *s, const uint8_t *apdu, size_t len, uint8_t *out, size_t cap)
{
    if (len < 5 + 8 || apdu[0] != 0x84)
        return 0;
    size_t lc = apdu[4];
    if (len != 5 + lc && len != 5 + lc + 1) /* optional trailing Le */
        return 0;
    if (lc < 8)
        return 0;
    const uint8_t *body = apdu + 5, *mac = apdu + 5 + lc - 8;
    size_t blen = lc - 8;
    int ea = apdu[1] == 0x82;
    /* EXTERNAL AUTHENTICATE opens the channel once per INITIALIZE UPDATE with the host
     * cryptogram (8 bytes); refusing a second one keeps a replay from resetting the chain. Its
     * level is the caller's to judge (the applet answers 6985 to anything but 01 and 03), but
     * only a level with C-MAC lets any later command through. */
    if (ea ? (s->level != 0 || lc != 16) : !(s->level & GP_SEC_CMAC))
        return 0;
    uint8_t m[5 + 255];
    long plen;
    if (ea || !(s->level & 0x02)) {
        memcpy(m + 5, body, blen);
        plen = (long)blen;
    } else {
        plen = decrypt_data(s, body, blen, m + 5);
        if (plen < 0 || plen + 8 > 255)
            return 0;
    }
    m[0] = 0x84;
    m[1] = apdu[1];
    m[2] = apdu[2];
    m[3] = apdu[3];
    m[4] = (uint8_t)(plen + 8);
    struct gp_session trial = *s;
    uint8_t want[8];
    cmac(&trial, m, 5 + (size_t)plen, ea, want);
    /* constant-time compare: the MAC is what keeps a forged command out */
    uint8_t diff = 0;
    for (int i = 0; i < 8; i++)
        diff |= (uint8_t)(want[i] ^ mac[i]);
    if (diff || (size_t)(5 + plen) > cap) {
        explicit_bzero(m, sizeof m);
        return 0;
    }
    memcpy(s->icv, want, 8);
    if (ea)
        s->level = apdu[2];
    memcpy(out, m, 4);
    out[4] = (uint8_t)plen;
    memcpy(out + 5, m + 5, (size_t)plen);
    explicit_bzero(m, sizeof m);
    return 5 + (size_t)plen;
}

void gp_kek_encrypt(const uint8_t kek[16], const uint8_t *in, size_t len, uint8_t *out)
{
    des_ede(kek, 0, 1, NULL, in, len, out);
}

void gp_kek_decrypt(const uint8_t kek[16], const uint8_t *in, size_t len, uint8_t *out)
{
    des_ede(kek, 0, 0, NULL, in, len, out);
}

size_t gp_card_recognition_data(uint8_t *out, size_t cap)
{
    /* 66 { 73 { GP OID, card management type, card ID scheme, SCP 02 i=15 } } */
    static const uint8_t crd[] = {
        0x66, 0x31, 0x73, 0x2F,                                           /* tags */
        0x06, 0x07, 0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x01,             /* 1.2.840.114283.1 */
        0x60, 0x0C, 0x06, 0x0A, 0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B,       /* card mgmt type */
        0x02, 0x02, 0x01, 0x01,                                           /* GP 2.1.1 */
        0x63, 0x09, 0x06, 0x07, 0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x03, /* card ID scheme */
        0x64, 0x0B, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x04, /* SCP */
        0x02, 0x15,                                                       /* SCP02, i=15 */
    };
    if (cap < sizeof crd)
        return 0;
    memcpy(out, crd, sizeof crd);
    return sizeof crd;
}

size_t gp_key_info_template(uint8_t key_version, uint8_t *out, size_t cap)
{
    /* E0 12 then three key information entries C0 04 <id> <version> 80(DES) 10(16 bytes) */
    if (cap < 20)
        return 0;
    out[0] = 0xE0;
    out[1] = 0x12;
    for (int i = 0; i < 3; i++) {
        uint8_t *e = out + 2 + 6 * i;
        e[0] = 0xC0;
        e[1] = 0x04;
        e[2] = (uint8_t)(i + 1);
        e[3] = key_version;
        e[4] = 0x80;
        e[5] = 0x10;
    }
    return 20;
}

void gp_visa2_diversify(const uint8_t master[16], const uint8_t kdd[10], struct gp_keyset *out)
{
    uint8_t *keys[3] = {out->enc, out->mac, out->kek};
    for (uint8_t t = 1; t <= 3; t++) {
        uint8_t kdc[16];
        memcpy(kdc, kdd, 2);
        memcpy(kdc + 2, kdd + 4, 4);
        kdc[6] = 0xF0;
        kdc[7] = t;
        memcpy(kdc + 8, kdd, 2);
        memcpy(kdc + 10, kdd + 4, 4);
        kdc[14] = 0x0F;
        kdc[15] = t;
        des_ede(master, 0, 1, NULL, kdc, 16, keys[t - 1]);
    }
}
