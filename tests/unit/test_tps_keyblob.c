/* test_tps_keyblob: parsing the card's key generation result and checking its proof
 * (coolkey-card.md §2.5): a good proof passes, a wrong challenge or a flipped bit fails,
 * malformed lengths are refused. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "check.h"
#include "tpsd_keys.h"

static uint8_t blob[1024];
static size_t blob_len;
static uint8_t chal[16] = "0123456789abcdef";
static uint8_t mod[128];

/* The IO buffer a card builds: len16 || pubBlob || len16 || SHA-1 RSA signature. */
static int make_blob(void)
{
    EVP_PKEY *key = EVP_RSA_gen(1024);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    BIGNUM *n = NULL, *e = NULL;
    uint8_t pub[300], data[320], exp[8];
    size_t publen, siglen = 256, elen;
    int ok = 0;
    if (!key || !md || EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
        goto out;
    BN_bn2binpad(n, mod, 128);
    elen = (size_t)BN_bn2bin(e, exp);
    pub[0] = 0x00, pub[1] = 0x01, pub[2] = 0x04, pub[3] = 0x00, pub[4] = 0x00, pub[5] = 0x80;
    memcpy(pub + 6, mod, 128);
    pub[134] = 0x00, pub[135] = (uint8_t)elen;
    memcpy(pub + 136, exp, elen);
    publen = 136 + elen;
    memcpy(data, pub, publen);
    memcpy(data + publen, chal, 16);
    blob[0] = (uint8_t)(publen >> 8), blob[1] = (uint8_t)publen;
    memcpy(blob + 2, pub, publen);
    if (EVP_DigestSignInit(md, NULL, EVP_sha1(), NULL, key) != 1 ||
        EVP_DigestSign(md, blob + 4 + publen, &siglen, data, publen + 16) != 1)
        goto out;
    blob[2 + publen] = (uint8_t)(siglen >> 8), blob[3 + publen] = (uint8_t)siglen;
    blob_len = 4 + publen + siglen;
    ok = 1;
out:
    BN_free(n);
    BN_free(e);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return ok;
}

static void test_good_proof(void)
{
    struct tpsd_pubkey k;
    EXPECT_EQ(tpsd_keyblob_parse(blob, blob_len, chal, &k), 0);
    EXPECT_EQ(k.mod_len, 128);
    EXPECT_MEM(k.mod, mod, 128);
    EXPECT_EQ(k.exp_len, 3);
}

static void test_wrong_challenge(void)
{
    struct tpsd_pubkey k;
    uint8_t other[16];
    memcpy(other, chal, 16);
    other[15] ^= 1;
    EXPECT_EQ(tpsd_keyblob_parse(blob, blob_len, other, &k), -2);
}

static void test_tampered_modulus(void)
{
    struct tpsd_pubkey k;
    uint8_t copy[1024];
    memcpy(copy, blob, blob_len);
    copy[40] ^= 0x10;
    EXPECT(tpsd_keyblob_parse(copy, blob_len, chal, &k) < 0);
}

static void test_malformed_lengths(void)
{
    struct tpsd_pubkey k;
    uint8_t copy[1024];
    for (size_t n = 0; n < blob_len; n += 7)
        EXPECT_EQ(tpsd_keyblob_parse(blob, n, chal, &k), -1); /* every truncation */
    memcpy(copy, blob, blob_len);
    copy[0] = 0xFF; /* pubBlob longer than the buffer */
    EXPECT_EQ(tpsd_keyblob_parse(copy, blob_len, chal, &k), -1);
    memcpy(copy, blob, blob_len);
    copy[2 + 4] = 0x7F; /* modulus length inconsistent */
    EXPECT_EQ(tpsd_keyblob_parse(copy, blob_len, chal, &k), -1);
    memcpy(copy, blob, blob_len);
    copy[3] = 0x02; /* not an RSA public blob */
    EXPECT_EQ(tpsd_keyblob_parse(copy, blob_len, chal, &k), -1);
}

int main(void)
{
    if (!make_blob()) {
        printf("FAIL: setup: cannot build a key blob\n");
        return 1;
    }
    RUN(test_good_proof);
    RUN(test_wrong_challenge);
    RUN(test_tampered_modulus);
    RUN(test_malformed_lengths);
    return check_status();
}
